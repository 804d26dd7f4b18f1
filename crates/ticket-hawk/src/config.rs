//! [`Config`]: where the deployment is, the Hawk credentials, and the options.

use std::fmt;
use std::sync::Arc;

use tixpay_core::env::Vars;
use tixpay_core::{Error, RandomNonce, Secret, SharedClock, SharedNonce, SystemClock};

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
    /// not documented). Once the server has signed a reply to a client, that client (and its
    /// clones) requires the header from then on: a missing one is taken as stripped.
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
    /// A deployment from the environment: `TICKET_BASE_URL`, `TICKET_HAWK_ID`, and the
    /// operator's `TICKET_KEY` and `TICKET_PASSWORD` (the Hawk key is derived from them, see
    /// [`Credentials::from_operator`]); optionally `TICKET_HAWK_ALGORITHM` (`sha256`, the
    /// default, or `sha1`). A missing or malformed variable is a configuration error that
    /// names it.
    ///
    /// ```no_run
    /// let client = tixpay_ticket_hawk::Client::new(tixpay_ticket_hawk::Config::from_env()?)?;
    /// # Ok::<(), tixpay_core::Error>(())
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        Self::from_vars(&Vars::system())
    }

    /// [`Config::from_env`], reading through `vars` (another source of settings, or a test's).
    pub fn from_vars<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, Error> {
        let algorithm = match vars.optional("TICKET_HAWK_ALGORITHM").as_deref() {
            None => Algorithm::Sha256,
            Some(name) if name.eq_ignore_ascii_case("sha256") => Algorithm::Sha256,
            Some(name) if name.eq_ignore_ascii_case("sha1") => Algorithm::Sha1,
            Some(_) => {
                return Err(Error::config(
                    "environment variable TICKET_HAWK_ALGORITHM must be sha256 or sha1",
                ));
            }
        };
        let credentials = Credentials::from_operator(
            vars.required("TICKET_HAWK_ID")?,
            &vars.secret("TICKET_KEY")?,
            &vars.secret("TICKET_PASSWORD")?,
            algorithm,
        );
        Ok(Self::new(vars.required("TICKET_BASE_URL")?, credentials))
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use tixpay_core::env::BoxedLookup;

    fn vars(pairs: &[(&'static str, &'static str)]) -> Vars<BoxedLookup> {
        Vars::from_pairs(pairs.iter().copied())
    }

    const SET: [(&str, &str); 4] = [
        ("TICKET_BASE_URL", "http://tickets.example/"),
        ("TICKET_HAWK_ID", "agent01"),
        ("TICKET_KEY", "0123456789ABCDEF"),
        ("TICKET_PASSWORD", "123456"),
    ];

    #[test]
    fn from_vars_derives_the_operator_key() {
        let config = Config::from_vars(&vars(&SET)).unwrap();
        assert_eq!(config.base_url(), "http://tickets.example");
        assert_eq!(config.credentials().id(), "agent01");
        // KEY + UPPER(MD5("123456")), as `Credentials::from_operator` documents.
        assert_eq!(
            config.credentials().key().expose(),
            "0123456789ABCDEFE10ADC3949BA59ABBE56E057F20F883E"
        );
        assert_eq!(config.credentials().algorithm(), Algorithm::Sha256);
    }

    #[test]
    fn from_vars_reads_the_algorithm_and_refuses_unknown_ones() {
        static SHA1: [(&str, &str); 5] = [
            SET[0],
            SET[1],
            SET[2],
            SET[3],
            ("TICKET_HAWK_ALGORITHM", "SHA1"),
        ];
        let config = Config::from_vars(&vars(&SHA1)).unwrap();
        assert_eq!(config.credentials().algorithm(), Algorithm::Sha1);
        static MD5: [(&str, &str); 5] = [
            SET[0],
            SET[1],
            SET[2],
            SET[3],
            ("TICKET_HAWK_ALGORITHM", "md5"),
        ];
        let err = Config::from_vars(&vars(&MD5)).unwrap_err().to_string();
        assert!(err.contains("TICKET_HAWK_ALGORITHM"), "{err}");
        static NO_PASSWORD: [(&str, &str); 3] = [SET[0], SET[1], SET[2]];
        let err = Config::from_vars(&vars(&NO_PASSWORD))
            .unwrap_err()
            .to_string();
        assert!(err.contains("TICKET_PASSWORD is not set"), "{err}");
    }
}
