//! [`Config`]: the merchant's keys, how WeChat Pay is verified, and the hosts.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tixpay_core::crypto::{AesGcmKey, Certificate, RsaPrivateKey, RsaPublicKey};
use tixpay_core::{Error, RandomNonce, Secret, SharedClock, SharedNonce, SystemClock};

use crate::auth::KeyRing;

/// The API host.
pub const PRODUCTION_BASE_URL: &str = "https://api.mch.weixin.qq.com";
/// The backup host the official Go SDK names.
pub const BACKUP_BASE_URL: &str = "https://api2.mch.weixin.qq.com";

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
    /// The merchant: `mchid`, its API private key (PKCS#8 PEM) and that certificate's
    /// serial, and the 32-byte APIv3 key. Add how to verify WeChat Pay with
    /// [`Config::wechatpay_public_key`] and/or [`Config::platform_certificates`].
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
        Ok(Self {
            mchid: mchid.into(),
            private_key: Arc::new(private_key),
            cert_serial: cert_serial.into(),
            apiv3: Arc::new(apiv3),
            apiv2_key: None,
            public_key: None,
            use_certificates: false,
            initial_certificates: Vec::new(),
            base_url: PRODUCTION_BASE_URL.to_owned(),
            backup_url: None,
            clock: Arc::new(SystemClock),
            nonce: Arc::new(RandomNonce),
            certificate_refresh: Duration::from_secs(12 * 3600),
        })
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

    /// A backup host tried once when the main host cannot be reached at all (nothing was
    /// sent), e.g. [`BACKUP_BASE_URL`].
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

    /// How often platform certificates are refreshed in the background (default 12 h).
    #[must_use]
    pub fn certificate_refresh_interval(mut self, every: Duration) -> Self {
        self.certificate_refresh = every;
        self
    }

    /// The merchant id.
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    pub(crate) fn key_ring(&self) -> Result<KeyRing, Error> {
        match (&self.public_key, self.use_certificates) {
            (Some((id, key)), false) => Ok(KeyRing::public_key(id.clone(), key.clone())),
            (None, true) => Ok(KeyRing::certificates(self.initial_certificates.clone())),
            (Some((id, key)), true) => Ok(KeyRing::combined(
                id.clone(),
                key.clone(),
                self.initial_certificates.clone(),
            )),
            (None, false) => Err(Error::config(
                "say how to verify WeChat Pay: Config::wechatpay_public_key and/or Config::platform_certificates",
            )),
        }
    }
}
