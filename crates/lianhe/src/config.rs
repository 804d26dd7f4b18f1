//! [`Config`]: the partner's credentials and the client's options.

use std::fmt;
use std::sync::Arc;

use tixpay_core::env::Vars;
use tixpay_core::{Error, Secret, SharedClock, SystemClock};

/// The production host, from the documents' PHP sample (`http://www.lianhepiaowu.net/openapi`).
/// Note that it is plain HTTP; the documents give no HTTPS host.
pub const PRODUCTION_BASE_URL: &str = "http://www.lianhepiaowu.net";
/// The test host named in the documents' Java test.
pub const TEST_BASE_URL: &str = "http://test.lianhepiaowu.com";
/// The `Version` header the documents' samples send.
pub const DEFAULT_VERSION: &str = "2.1";

/// The partner id the sandbox accepts by default.
pub const SANDBOX_PARTNER_ID: i64 = 1985;
/// The `apiname` the sandbox accepts by default.
pub const SANDBOX_API_NAME: &str = "sandbox";
/// The `clientSecret` the sandbox accepts by default (not a real secret).
pub const SANDBOX_CLIENT_SECRET: &str = "tixpay-lianhe-sandbox-secret";

/// Everything a [`Client`](crate::Client) needs.
///
/// ```
/// use tixpay_core::Secret;
/// use tixpay_lianhe::Config;
///
/// let config = Config::new(3528, "myapi", Secret::new("from-lianhe"))
///     .base_url("http://test.lianhepiaowu.com");
/// assert_eq!(config.partner_id(), 3528);
/// assert!(!format!("{config:?}").contains("from-lianhe"));
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) partner_id: i64,
    pub(crate) api_name: String,
    pub(crate) client_secret: Secret,
    pub(crate) base_url: String,
    pub(crate) version: String,
    pub(crate) clock: SharedClock,
    pub(crate) legacy_envelope_fields: bool,
    pub(crate) retry_keyed_writes: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("partner_id", &self.partner_id)
            .field("api_name", &self.api_name)
            .field("client_secret", &self.client_secret)
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field("legacy_envelope_fields", &self.legacy_envelope_fields)
            .field("retry_keyed_writes", &self.retry_keyed_writes)
            .finish()
    }
}

impl Config {
    /// The credentials from the environment: `LIANHE_PARTNER_ID`, `LIANHE_API_NAME`,
    /// `LIANHE_CLIENT_SECRET`, and optionally `LIANHE_BASE_URL` (for example Lianhe's test
    /// host). A missing or malformed variable is a configuration error that names it.
    ///
    /// ```no_run
    /// let client = tixpay_lianhe::Client::new(tixpay_lianhe::Config::from_env()?)?;
    /// # Ok::<(), tixpay_core::Error>(())
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        Self::from_vars(&Vars::system())
    }

    /// [`Config::from_env`], reading through `vars` (another source of settings, or a test's).
    pub fn from_vars<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, Error> {
        let config = Self::new(
            vars.parsed("LIANHE_PARTNER_ID")?,
            vars.required("LIANHE_API_NAME")?,
            vars.secret("LIANHE_CLIENT_SECRET")?,
        );
        Ok(match vars.optional("LIANHE_BASE_URL") {
            Some(url) => config.base_url(url),
            None => config,
        })
    }

    /// The three credentials Lianhe issues (`partnerId`, `apiname`, `clientSecret`), for the
    /// production host.
    pub fn new(partner_id: i64, api_name: impl Into<String>, client_secret: Secret) -> Self {
        Self {
            partner_id,
            api_name: api_name.into(),
            client_secret,
            base_url: PRODUCTION_BASE_URL.to_owned(),
            version: DEFAULT_VERSION.to_owned(),
            clock: Arc::new(SystemClock),
            legacy_envelope_fields: false,
            retry_keyed_writes: false,
        }
    }

    /// A configuration for the sandbox at `url`, with the sandbox's default credentials.
    pub fn sandbox(url: impl Into<String>) -> Self {
        Self::new(
            SANDBOX_PARTNER_ID,
            SANDBOX_API_NAME,
            Secret::new(SANDBOX_CLIENT_SECRET),
        )
        .base_url(url)
    }

    /// The scheme and host requests go to (default [`PRODUCTION_BASE_URL`]); the path
    /// `/openapi/index.php?method=…` is appended.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The `Version` header (default `2.1`).
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The clock that dates requests (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Also send `"errCode":200,"errMsg":"success"` at the top of each request body, as the
    /// documents' PHP sample does. Whether the server needs them is not documented; the
    /// Java sample, which does without, is the default.
    #[must_use]
    pub fn legacy_envelope_fields(mut self, on: bool) -> Self {
        self.legacy_envelope_fields = on;
        self
    }

    /// Retry `newOrder`, `creatOrder`, `payOrder` (keyed by `orderId`) and `cancelOrder`
    /// (keyed by `refundId`, or `orderId` without one) after a timeout or 5xx.
    ///
    /// Off by default: the change log says only that V2.0 added "重复订单请求处理" (handling
    /// of repeated order requests) and never says how a repeated `orderId` or `refundId` is
    /// treated, so a resent order or refund might be processed twice. Turn it on only once
    /// Lianhe has confirmed de-duplication for your account.
    #[must_use]
    pub fn retry_keyed_writes(mut self, on: bool) -> Self {
        self.retry_keyed_writes = on;
        self
    }

    /// The partner id.
    pub fn partner_id(&self) -> i64 {
        self.partner_id
    }

    /// The `apiname`.
    pub fn api_name(&self) -> &str {
        &self.api_name
    }

    /// The endpoint of `method`: `{base}/openapi/index.php?method={method}`.
    pub fn endpoint(&self, method: &str) -> String {
        format!("{}/openapi/index.php?method={method}", self.base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tixpay_core::env::BoxedLookup;

    fn vars(pairs: &[(&'static str, &'static str)]) -> Vars<BoxedLookup> {
        Vars::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn from_vars_reads_every_setting() {
        let config = Config::from_vars(&vars(&[
            ("LIANHE_PARTNER_ID", "3528"),
            ("LIANHE_API_NAME", "myapi"),
            ("LIANHE_CLIENT_SECRET", "s3cr3t"),
            ("LIANHE_BASE_URL", "http://test.lianhepiaowu.com/"),
        ]))
        .unwrap();
        assert_eq!(config.partner_id(), 3528);
        assert_eq!(config.api_name(), "myapi");
        assert_eq!(config.client_secret.expose(), "s3cr3t");
        assert_eq!(config.base_url, "http://test.lianhepiaowu.com");
        let default_host = Config::from_vars(&vars(&[
            ("LIANHE_PARTNER_ID", "1"),
            ("LIANHE_API_NAME", "a"),
            ("LIANHE_CLIENT_SECRET", "b"),
        ]))
        .unwrap();
        assert_eq!(default_host.base_url, PRODUCTION_BASE_URL);
    }

    #[test]
    fn from_vars_names_what_is_missing_or_malformed_without_values() {
        let err = Config::from_vars(&vars(&[
            ("LIANHE_PARTNER_ID", "3528"),
            ("LIANHE_CLIENT_SECRET", "s3cr3t"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("LIANHE_API_NAME is not set"), "{err}");
        let err = Config::from_vars(&vars(&[
            ("LIANHE_PARTNER_ID", "s3cr3t"),
            ("LIANHE_API_NAME", "a"),
            ("LIANHE_CLIENT_SECRET", "s3cr3t"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("LIANHE_PARTNER_ID"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}
