//! [`Config`]: the merchant's credentials and the client's options.

use std::fmt;
use std::sync::Arc;

use tixpay_core::env::Vars;
use tixpay_core::{Error, RandomNonce, Secret, SharedClock, SharedNonce, SystemClock};

/// The production gateway host (from public clients; the manual leaves it to onboarding).
pub const PRODUCTION_BASE_URL: &str = "https://paygate.leshuazf.com";
/// The test gateway host (from public clients).
pub const TEST_BASE_URL: &str = "https://t-paygate.lepass.cn";
/// The one path every service is posted to.
pub const GATEWAY_PATH: &str = "/cgi-bin/lepos_pay_gateway.cgi";

/// The merchant id the sandbox accepts by default.
pub const SANDBOX_MERCHANT_ID: &str = "0000000018";
/// The trade key the sandbox uses by default (not a real key).
pub const SANDBOX_TRADE_KEY: &str = "tixpay-leshua-sandbox-trade-key";
/// The notify key the sandbox uses by default (not a real key).
pub const SANDBOX_NOTIFY_KEY: &str = "tixpay-leshua-sandbox-notify-key";

/// How strictly signatures of replies and notifications are checked.
///
/// The manual says empty values take part in the signature of replies (`k=`) and
/// notifications, and that replies exclude `sign`, `leshua` and `resp_code` while
/// notifications exclude `sign` and `error_code`. Public clients disagree: some drop empty
/// values, some also exclude `error_code` from replies. No signed sample with a public key
/// settles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum VerifyRule {
    /// Only the manual's rule (the default).
    #[default]
    Documented,
    /// The manual's rule, or the variants public clients use: empty values left out,
    /// and `error_code` left out of replies. Opt in only if real replies fail the
    /// documented rule; each variant is still a full MD5 check with the key.
    Compatible,
}

/// Everything a [`Client`](crate::Client) needs.
///
/// ```
/// use tixpay_core::Secret;
/// use tixpay_leshua::Config;
///
/// let config = Config::new("9605008025", Secret::new("trade-key"), Secret::new("notify-key"));
/// assert!(!format!("{config:?}").contains("trade-key"));
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) merchant_id: String,
    pub(crate) trade_key: Secret,
    pub(crate) notify_key: Secret,
    pub(crate) base_url: String,
    pub(crate) nonce: SharedNonce,
    pub(crate) clock: SharedClock,
    pub(crate) verify_rule: VerifyRule,
    pub(crate) require_nonce_echo: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("merchant_id", &self.merchant_id)
            .field("trade_key", &self.trade_key)
            .field("notify_key", &self.notify_key)
            .field("base_url", &self.base_url)
            .field("verify_rule", &self.verify_rule)
            .field("require_nonce_echo", &self.require_nonce_echo)
            .finish()
    }
}

impl Config {
    /// The credentials from the environment: `LESHUA_MERCHANT_ID`, `LESHUA_TRADE_KEY`,
    /// `LESHUA_NOTIFY_KEY`, and optionally `LESHUA_BASE_URL` (for example
    /// [`TEST_BASE_URL`]). A missing variable is a configuration error that names it.
    ///
    /// ```no_run
    /// let client = tixpay_leshua::Client::new(tixpay_leshua::Config::from_env()?)?;
    /// # Ok::<(), tixpay_core::Error>(())
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        Self::from_vars(&Vars::system())
    }

    /// [`Config::from_env`], reading through `vars` (another source of settings, or a test's).
    pub fn from_vars<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, Error> {
        let config = Self::new(
            vars.required("LESHUA_MERCHANT_ID")?,
            vars.secret("LESHUA_TRADE_KEY")?,
            vars.secret("LESHUA_NOTIFY_KEY")?,
        );
        Ok(match vars.optional("LESHUA_BASE_URL") {
            Some(url) => config.base_url(url),
            None => config,
        })
    }

    /// The merchant id and the two keys LeShua issues: the trade key (signs requests,
    /// verifies replies) and the notify key (verifies notifications). Production host.
    ///
    /// The merchant id is not checked here: a blank one, or one longer than the 10
    /// characters LeShua allows, makes every call fail with
    /// [`ErrorKind::InvalidRequest`](tixpay_core::ErrorKind::InvalidRequest) naming
    /// `merchant_id`, before anything is sent.
    pub fn new(merchant_id: impl Into<String>, trade_key: Secret, notify_key: Secret) -> Self {
        Self {
            merchant_id: merchant_id.into(),
            trade_key,
            notify_key,
            base_url: PRODUCTION_BASE_URL.to_owned(),
            nonce: Arc::new(RandomNonce),
            clock: Arc::new(SystemClock),
            verify_rule: VerifyRule::Documented,
            require_nonce_echo: false,
        }
    }

    /// A configuration for the sandbox at `url`, with the sandbox's default credentials.
    /// The sandbox echoes each request's `nonce_str`, so the echo is required
    /// ([`Config::require_nonce_echo`]).
    pub fn sandbox(url: impl Into<String>) -> Self {
        Self::new(
            SANDBOX_MERCHANT_ID,
            Secret::new(SANDBOX_TRADE_KEY),
            Secret::new(SANDBOX_NOTIFY_KEY),
        )
        .base_url(url)
        .require_nonce_echo(true)
    }

    /// The scheme and host (default [`PRODUCTION_BASE_URL`]; [`TEST_BASE_URL`] for LeShua's
    /// test environment). [`GATEWAY_PATH`] is appended.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Where `nonce_str` values come from (default: random, 32 characters).
    #[must_use]
    pub fn nonce_source(mut self, nonce: SharedNonce) -> Self {
        self.nonce = nonce;
        self
    }

    /// The clock (used by the sandbox and for notification times).
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// How replies and notifications are verified (default [`VerifyRule::Documented`]).
    #[must_use]
    pub fn verify_rule(mut self, rule: VerifyRule) -> Self {
        self.verify_rule = rule;
        self
    }

    /// Require every reply to echo the request's `nonce_str` (default off).
    ///
    /// Every reply carries a `nonce_str`, but the manual does not say that it is the
    /// request's: the check is off unless you have seen your gateway echo it. Turned on, it
    /// binds each reply to its request, so a captured reply for the same order (an older
    /// `query_status`) can no longer be replayed. The sandbox echoes it.
    #[must_use]
    pub fn require_nonce_echo(mut self, on: bool) -> Self {
        self.require_nonce_echo = on;
        self
    }

    /// The merchant id.
    pub fn merchant_id(&self) -> &str {
        &self.merchant_id
    }

    /// The gateway URL.
    pub fn endpoint(&self) -> String {
        format!("{}{GATEWAY_PATH}", self.base_url)
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
            ("LESHUA_MERCHANT_ID", "9605008025"),
            ("LESHUA_TRADE_KEY", "trade-s3cr3t"),
            ("LESHUA_NOTIFY_KEY", "notify-s3cr3t"),
            ("LESHUA_BASE_URL", TEST_BASE_URL),
        ]))
        .unwrap();
        assert_eq!(config.merchant_id(), "9605008025");
        assert_eq!(config.trade_key.expose(), "trade-s3cr3t");
        assert_eq!(config.notify_key.expose(), "notify-s3cr3t");
        assert_eq!(config.endpoint(), format!("{TEST_BASE_URL}{GATEWAY_PATH}"));
        assert!(!format!("{config:?}").contains("s3cr3t"));
    }

    #[test]
    fn from_vars_names_what_is_missing() {
        let err = Config::from_vars(&vars(&[
            ("LESHUA_MERCHANT_ID", "9605008025"),
            ("LESHUA_TRADE_KEY", "trade-s3cr3t"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("LESHUA_NOTIFY_KEY is not set"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}
