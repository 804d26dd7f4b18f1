//! [`Config`]: where the deployment is, the Hawk credentials, and the options.

use std::fmt;
use std::sync::Arc;

use tixpay_core::{RandomNonce, Secret, SharedClock, SharedNonce, SystemClock};

use crate::hawk::{Algorithm, Credentials};
use crate::types::BodyFormat;

/// The namespace of the V5 deployments' parameter types (the seed's `RefundParm`).
pub const V5_PARAM_NAMESPACE: &str =
    "http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Parm.WebInterface";
/// The namespace of the older "TourWebApi" deployments' parameter types.
pub const TOUR_WEB_API_PARAM_NAMESPACE: &str =
    "http://schemas.datacontract.org/2004/07/TourWebApi.Models.Param";

/// The Hawk id the sandbox accepts by default.
pub const SANDBOX_HAWK_ID: &str = "sandbox-agent";
/// The operator KEY the sandbox uses by default (not a real key).
pub const SANDBOX_KEY: &str = "0123456789ABCDEF";
/// The password the sandbox uses by default (not a real password).
pub const SANDBOX_PASSWORD: &str = "123456";

/// Whether to check the server's `Server-Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ServerAuth {
    /// Ignore it.
    Off,
    /// Verify it when the server sends one (the default: whether this server sends it is
    /// not documented).
    #[default]
    IfPresent,
    /// Require it on every reply.
    Required,
}

/// Everything a [`Client`](crate::Client) needs.
///
/// ```
/// use tixpay_core::Secret;
/// use tixpay_ticket_hawk::hawk::{Algorithm, Credentials};
/// use tixpay_ticket_hawk::Config;
///
/// let credentials = Credentials::from_operator("agent01", &Secret::new("KEY-FROM-SUPPLIER"), &Secret::new("password"), Algorithm::Sha256);
/// let config = Config::new("https://weiapi.example.cn", credentials);
/// assert!(!format!("{config:?}").contains("KEY-FROM-SUPPLIER"));
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) base_url: String,
    pub(crate) credentials: Credentials,
    pub(crate) format: BodyFormat,
    pub(crate) server_auth: ServerAuth,
    pub(crate) xml_namespace: String,
    pub(crate) clock: SharedClock,
    pub(crate) nonce: SharedNonce,
    pub(crate) ext: Option<String>,
    pub(crate) trust_unsigned_server_time: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base_url)
            .field("credentials", &self.credentials)
            .field("format", &self.format)
            .field("server_auth", &self.server_auth)
            .field("xml_namespace", &self.xml_namespace)
            .field(
                "trust_unsigned_server_time",
                &self.trust_unsigned_server_time,
            )
            .finish()
    }
}

impl Config {
    /// A deployment at `base_url` (there is no default host: every scenic spot runs its
    /// own) with Hawk `credentials`.
    pub fn new(base_url: impl Into<String>, credentials: Credentials) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            credentials,
            format: BodyFormat::Json,
            server_auth: ServerAuth::IfPresent,
            xml_namespace: V5_PARAM_NAMESPACE.to_owned(),
            clock: Arc::new(SystemClock),
            nonce: Arc::new(RandomNonce),
            ext: None,
            trust_unsigned_server_time: false,
        }
    }

    /// The sandbox at `url`, with its default credentials.
    pub fn sandbox(url: impl Into<String>) -> Self {
        Self::new(
            url,
            Credentials::from_operator(
                SANDBOX_HAWK_ID,
                &Secret::new(SANDBOX_KEY),
                &Secret::new(SANDBOX_PASSWORD),
                Algorithm::Sha256,
            ),
        )
    }

    /// JSON (default) or DataContract XML request bodies.
    #[must_use]
    pub fn body_format(mut self, format: BodyFormat) -> Self {
        self.format = format;
        self
    }

    /// How `Server-Authorization` is checked (default [`ServerAuth::IfPresent`]).
    #[must_use]
    pub fn server_auth(mut self, mode: ServerAuth) -> Self {
        self.server_auth = mode;
        self
    }

    /// The DataContract namespace of XML parameter types (default [`V5_PARAM_NAMESPACE`]).
    #[must_use]
    pub fn xml_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.xml_namespace = namespace.into();
        self
    }

    /// The clock Hawk timestamps come from.
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Where Hawk nonces come from.
    #[must_use]
    pub fn nonce_source(mut self, nonce: SharedNonce) -> Self {
        self.nonce = nonce;
        self
    }

    /// Hawk `ext` data sent with every request. Keep it free of commas: a .NET server
    /// (HawkNet) splits the header on them.
    #[must_use]
    pub fn ext(mut self, ext: impl Into<String>) -> Self {
        self.ext = Some(ext.into());
        self
    }

    /// Resynchronise the clock from a stale-timestamp `WWW-Authenticate` that carries `ts`
    /// but no `tsm` (as HawkNet sends it) even over plain HTTP. Off by default: without
    /// `tsm` or TLS anyone on the path can set the client's clock (Hawk's "client clock
    /// poisoning"). Over `https://` an unsigned `ts` is always used.
    #[must_use]
    pub fn trust_unsigned_server_time(mut self, on: bool) -> Self {
        self.trust_unsigned_server_time = on;
        self
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}
