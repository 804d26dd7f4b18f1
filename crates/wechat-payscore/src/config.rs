//! [`Config`]: the merchant's keys, how WeChat Pay is verified, and the hosts.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tixpay_core::crypto::{AesGcmKey, Certificate, RsaPrivateKey, RsaPublicKey};
use tixpay_core::env::Vars;
use tixpay_core::{Error, RandomNonce, Secret, SharedClock, SharedNonce, SystemClock};

use crate::auth::KeyRing;

/// The API host.
pub const PRODUCTION_BASE_URL: &str = "https://api.mch.weixin.qq.com";
/// The backup host the official Go SDK names.
pub const BACKUP_BASE_URL: &str = "https://api2.mch.weixin.qq.com";
/// How often [`Client::spawn_certificate_refresh`](crate::Client::spawn_certificate_refresh)
/// downloads the platform certificates unless [`Config::certificate_refresh_interval`] says
/// otherwise: 12 hours.
pub const DEFAULT_CERTIFICATE_REFRESH: Duration = Duration::from_secs(12 * 3600);

/// Everything a [`Client`](crate::Client) needs. Keys are parsed here, once.
///
/// ```no_run
/// use tixpay_core::Secret;
/// use tixpay_wechat_payscore::Config;
///
/// let config = Config::new(
///     "1230000109",
///     &std::fs::read_to_string("apiclient_key.pem")?,
///     "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
///     Secret::new("32-byte-APIv3-key-from-platform!"),
/// )?
/// .wechatpay_public_key("PUB_KEY_ID_0114232134912410000000000000", &std::fs::read_to_string("pub_key.pem")?)?
/// .apiv2_key(Secret::new("192006250b4c09247ec02edce69f6a2d"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) mchid: String,
    pub(crate) private_key: Arc<RsaPrivateKey>,
    pub(crate) cert_serial: String,
    pub(crate) apiv3: Arc<AesGcmKey>,
    pub(crate) apiv2_key: Option<Secret>,
    pub(crate) public_key: Option<(String, RsaPublicKey)>,
    pub(crate) use_certificates: bool,
    pub(crate) initial_certificates: Vec<Certificate>,
    pub(crate) base_url: String,
    pub(crate) backup_url: Option<String>,
    pub(crate) clock: SharedClock,
    pub(crate) nonce: SharedNonce,
    pub(crate) certificate_refresh: Duration,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("mchid", &self.mchid)
            .field("private_key", &self.private_key)
            .field("cert_serial", &self.cert_serial)
            .field("apiv3_key", &self.apiv3)
            .field("apiv2_key", &self.apiv2_key)
            .field("public_key_id", &self.public_key.as_ref().map(|(id, _)| id))
            .field("use_certificates", &self.use_certificates)
            .field("base_url", &self.base_url)
            .field("backup_url", &self.backup_url)
            .finish()
    }
}

impl Config {
    /// The merchant from the environment:
    ///
    /// | variable | what |
    /// |---|---|
    /// | `WECHATPAY_MCHID` | the merchant id |
    /// | `WECHATPAY_PRIVATE_KEY_PATH` | a file with the API private key (PKCS#8 PEM) |
    /// | `WECHATPAY_CERT_SERIAL` | that key's certificate serial |
    /// | `WECHATPAY_APIV3_KEY` | the APIv3 key |
    /// | `WECHATPAY_PUBLIC_KEY_ID`, `WECHATPAY_PUBLIC_KEY_PATH` | verify with the WeChat Pay public key |
    /// | `WECHATPAY_PLATFORM_CERTIFICATES=1` | verify with downloaded platform certificates (also the default when no public key is given) |
    /// | `WECHATPAY_APIV2_KEY` | optional: the front-end invoke signatures |
    /// | `WECHATPAY_BASE_URL` | optional: another API host |
    ///
    /// A missing, unreadable or malformed setting is a configuration error that names it.
    ///
    /// ```no_run
    /// let client = tixpay_wechat_payscore::Client::new(tixpay_wechat_payscore::Config::from_env()?)?;
    /// # Ok::<(), tixpay_core::Error>(())
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        Self::from_vars(&Vars::system())
    }

    /// [`Config::from_env`], reading through `vars` (another source of settings, or a test's).
    pub fn from_vars<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, Error> {
        let mut config = Self::new(
            vars.required("WECHATPAY_MCHID")?,
            &vars.file("WECHATPAY_PRIVATE_KEY_PATH")?,
            vars.required("WECHATPAY_CERT_SERIAL")?,
            vars.secret("WECHATPAY_APIV3_KEY")?,
        )
        .map_err(|e| {
            Error::config(format!(
                "WECHATPAY_PRIVATE_KEY_PATH or WECHATPAY_APIV3_KEY: {e}"
            ))
        })?;
        let public_key_id = vars.optional("WECHATPAY_PUBLIC_KEY_ID");
        if let Some(id) = &public_key_id {
            config = config
                .wechatpay_public_key(id.clone(), &vars.file("WECHATPAY_PUBLIC_KEY_PATH")?)
                .map_err(|e| Error::config(format!("WECHATPAY_PUBLIC_KEY_PATH: {e}")))?;
        } else if vars.optional("WECHATPAY_PUBLIC_KEY_PATH").is_some() {
            return Err(Error::config(
                "environment variable WECHATPAY_PUBLIC_KEY_PATH is set without WECHATPAY_PUBLIC_KEY_ID",
            ));
        }
        let certificates = match vars.optional("WECHATPAY_PLATFORM_CERTIFICATES").as_deref() {
            None => public_key_id.is_none(),
            Some("1" | "true") => true,
            Some("0" | "false") => false,
            Some(_) => {
                return Err(Error::config(
                    "environment variable WECHATPAY_PLATFORM_CERTIFICATES must be 1 or 0",
                ));
            }
        };
        if certificates {
            config = config.platform_certificates();
        } else if public_key_id.is_none() {
            return Err(Error::config(
                "WECHATPAY_PLATFORM_CERTIFICATES=0 needs WECHATPAY_PUBLIC_KEY_ID and WECHATPAY_PUBLIC_KEY_PATH",
            ));
        }
        if let Some(key) = vars.optional_secret("WECHATPAY_APIV2_KEY") {
            config = config.apiv2_key(key);
        }
        if let Some(url) = vars.optional("WECHATPAY_BASE_URL") {
            config = config.base_url(url);
        }
        Ok(config)
    }

    /// The merchant: `mchid`, its API private key (PKCS#8 PEM) and that certificate's
    /// serial, and the 32-byte APIv3 key. WeChat Pay's replies are verified with the
    /// platform certificates downloaded from `/v3/certificates` unless
    /// [`Config::wechatpay_public_key`] is given (then with that key, or with both when
    /// [`Config::platform_certificates`] is called too).
    pub fn new(
        mchid: impl Into<String>,
        private_key_pem: &str,
        cert_serial: impl Into<String>,
        apiv3_key: Secret,
    ) -> Result<Self, Error> {
        let private_key = RsaPrivateKey::from_pkcs8_pem(private_key_pem)
            .map_err(|e| Error::config(format!("merchant private key: {e}")))?;
        let apiv3 = AesGcmKey::new(apiv3_key.expose_bytes())
            .map_err(|e| Error::config(format!("APIv3 key: {e}")))?;
        Ok(Self::with_keys(
            mchid.into(),
            private_key,
            cert_serial.into(),
            apiv3,
        ))
    }

    fn with_keys(
        mchid: String,
        private_key: RsaPrivateKey,
        cert_serial: String,
        apiv3: AesGcmKey,
    ) -> Self {
        Self {
            mchid,
            private_key: Arc::new(private_key),
            cert_serial,
            apiv3: Arc::new(apiv3),
            apiv2_key: None,
            public_key: None,
            use_certificates: false,
            initial_certificates: Vec::new(),
            base_url: PRODUCTION_BASE_URL.to_owned(),
            backup_url: None,
            clock: Arc::new(SystemClock),
            nonce: Arc::new(RandomNonce),
            certificate_refresh: DEFAULT_CERTIFICATE_REFRESH,
        }
    }

    /// Verify with the WeChat Pay public key (微信支付公钥) whose id (`PUB_KEY_ID_…`) comes in
    /// `Wechatpay-Serial`. Needs no certificate download.
    pub fn wechatpay_public_key(
        mut self,
        key_id: impl Into<String>,
        public_key_pem: &str,
    ) -> Result<Self, Error> {
        let key = RsaPublicKey::from_spki_pem(public_key_pem)
            .map_err(|e| Error::config(format!("WeChat Pay public key: {e}")))?;
        self.public_key = Some((key_id.into(), key));
        Ok(self)
    }

    /// Verify with platform certificates downloaded from `/v3/certificates` (decrypted with
    /// the APIv3 key) and refreshed on an unknown serial and on an interval. With a public
    /// key too, both are accepted (the migration period).
    #[must_use]
    pub fn platform_certificates(mut self) -> Self {
        self.use_certificates = true;
        self
    }

    /// Certificates known in advance (PEM), e.g. from a previous download.
    pub fn with_certificate(mut self, certificate_pem: &str) -> Result<Self, Error> {
        let cert = Certificate::from_pem(certificate_pem)
            .map_err(|e| Error::config(format!("platform certificate: {e}")))?;
        self.use_certificates = true;
        self.initial_certificates.push(cert);
        Ok(self)
    }

    /// The APIv2 key, needed only for the front-end invoke signatures ([`crate::invoke`]).
    #[must_use]
    pub fn apiv2_key(mut self, key: Secret) -> Self {
        self.apiv2_key = Some(key);
        self
    }

    /// The API host (default [`PRODUCTION_BASE_URL`]).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// A backup host, e.g. [`BACKUP_BASE_URL`], tried when the main host cannot be reached
    /// at all (nothing was sent to it), as an attempt of the call's retry budget; once
    /// anything may have reached a host, the call stays there.
    #[must_use]
    pub fn backup_url(mut self, url: impl Into<String>) -> Self {
        self.backup_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// The clock (timestamps and the 5-minute window).
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Where `nonce_str` values come from.
    #[must_use]
    pub fn nonce_source(mut self, nonce: SharedNonce) -> Self {
        self.nonce = nonce;
        self
    }

    /// How often platform certificates are refreshed in the background (default
    /// [`DEFAULT_CERTIFICATE_REFRESH`], 12 h).
    #[must_use]
    pub fn certificate_refresh_interval(mut self, every: Duration) -> Self {
        self.certificate_refresh = every;
        self
    }

    /// A configuration for the sandbox at `url` (a [`PayScoreSandbox`](crate::sandbox::PayScoreSandbox)
    /// started in its default public-key mode), with the sandbox's fixed, public, not real
    /// keys. [`PayScoreSandbox::config`](crate::sandbox::PayScoreSandbox::config) also
    /// follows a sandbox started with other options (certificate mode, its clock).
    ///
    /// ```
    /// let config = tixpay_wechat_payscore::Config::sandbox("http://127.0.0.1:8080");
    /// assert_eq!(config.mchid(), tixpay_wechat_payscore::sandbox::SANDBOX_MCHID);
    /// ```
    #[cfg(feature = "sandbox")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sandbox")))]
    pub fn sandbox(url: impl Into<String>) -> Self {
        let (key_id, key) = crate::sandbox::keys::public_key();
        let mut config = Self::sandbox_merchant(url);
        config.public_key = Some((key_id.to_owned(), key));
        config
    }

    /// The sandbox's merchant at `url`, verifying by downloaded certificates.
    #[cfg(feature = "sandbox")]
    pub(crate) fn sandbox_merchant(url: impl Into<String>) -> Self {
        use crate::sandbox::{self as sb, keys};
        let mut config = Self::with_keys(
            sb::SANDBOX_MCHID.to_owned(),
            keys::merchant(),
            sb::SANDBOX_MERCHANT_SERIAL.to_owned(),
            keys::apiv3(),
        );
        config.apiv2_key = Some(Secret::new(sb::SANDBOX_APIV2_KEY));
        config.base_url(url)
    }

    /// The merchant id.
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// How replies are verified: the public key, downloaded certificates, or both. Without
    /// a public key, certificates are the only way, whether or not
    /// [`Config::platform_certificates`] was called.
    pub(crate) fn key_ring(&self) -> KeyRing {
        match (&self.public_key, self.use_certificates) {
            (Some((id, key)), false) => KeyRing::public_key(id.clone(), key.clone()),
            (Some((id, key)), true) => {
                KeyRing::combined(id.clone(), key.clone(), self.initial_certificates.clone())
            }
            (None, _) => KeyRing::certificates(self.initial_certificates.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tixpay_core::env::BoxedLookup;

    const PRIVATE_KEY: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/fixtures/w1_private_key.pem"
    );
    const PUBLIC_KEY: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/fixtures/w1_public_key.pem"
    );

    fn vars(pairs: Vec<(&'static str, &'static str)>) -> Vars<BoxedLookup> {
        Vars::from_pairs(pairs)
    }

    fn merchant() -> Vec<(&'static str, &'static str)> {
        vec![
            ("WECHATPAY_MCHID", "1900000001"),
            ("WECHATPAY_PRIVATE_KEY_PATH", PRIVATE_KEY),
            (
                "WECHATPAY_CERT_SERIAL",
                "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
            ),
            ("WECHATPAY_APIV3_KEY", "0123456789abcdef0123456789abcdef"),
        ]
    }

    #[test]
    fn without_a_public_key_it_uses_platform_certificates() {
        let config = Config::from_vars(&vars(merchant())).unwrap();
        assert_eq!(config.mchid(), "1900000001");
        assert!(config.use_certificates);
        assert!(config.public_key.is_none());
        assert!(config.apiv2_key.is_none());
        assert_eq!(config.base_url, PRODUCTION_BASE_URL);
    }

    #[test]
    fn a_public_key_replaces_certificates_unless_both_are_asked_for() {
        let mut set = merchant();
        set.extend([
            ("WECHATPAY_PUBLIC_KEY_ID", "PUB_KEY_ID_0001"),
            ("WECHATPAY_PUBLIC_KEY_PATH", PUBLIC_KEY),
            ("WECHATPAY_APIV2_KEY", "v2-s3cr3t"),
            ("WECHATPAY_BASE_URL", "https://api2.mch.weixin.qq.com/"),
        ]);
        let config = Config::from_vars(&vars(set.clone())).unwrap();
        assert_eq!(
            config.public_key.as_ref().map(|(id, _)| id.as_str()),
            Some("PUB_KEY_ID_0001")
        );
        assert!(!config.use_certificates);
        assert!(config.apiv2_key.is_some());
        assert_eq!(config.base_url, "https://api2.mch.weixin.qq.com");
        set.push(("WECHATPAY_PLATFORM_CERTIFICATES", "1"));
        let both = Config::from_vars(&vars(set)).unwrap();
        assert!(both.use_certificates && both.public_key.is_some());
    }

    #[test]
    fn bad_settings_are_named() {
        let mut missing_id = merchant();
        missing_id.push(("WECHATPAY_PUBLIC_KEY_PATH", PUBLIC_KEY));
        let err = Config::from_vars(&vars(missing_id))
            .unwrap_err()
            .to_string();
        assert!(err.contains("without WECHATPAY_PUBLIC_KEY_ID"), "{err}");

        let mut nothing_to_verify = merchant();
        nothing_to_verify.push(("WECHATPAY_PLATFORM_CERTIFICATES", "0"));
        let err = Config::from_vars(&vars(nothing_to_verify))
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs WECHATPAY_PUBLIC_KEY_ID"), "{err}");

        let mut no_file = merchant();
        no_file[1] = ("WECHATPAY_PRIVATE_KEY_PATH", "/nonexistent/tixpay/key.pem");
        let err = Config::from_vars(&vars(no_file)).unwrap_err().to_string();
        assert!(err.contains("WECHATPAY_PRIVATE_KEY_PATH"), "{err}");

        let mut short_key = merchant();
        short_key[3] = ("WECHATPAY_APIV3_KEY", "s3cr3t");
        let err = Config::from_vars(&vars(short_key)).unwrap_err().to_string();
        assert!(err.contains("WECHATPAY_APIV3_KEY"), "{err}");
        assert!(err.contains("APIv3 key"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}
