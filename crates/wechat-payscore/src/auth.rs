//! APIv3 request signing (spec §2.1) and response / callback verification (spec §2.2).
//!
//! ```text
//! request:  METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n   → SHA256withRSA (merchant key)
//! Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"
//! response: TIMESTAMP\nNONCE\nBODY\n                       → verified with the key named by Wechatpay-Serial
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::RwLock;

use bytes::Bytes;
use tixpay_core::crypto::{Certificate, RsaPrivateKey, RsaPublicKey, base64};
use tixpay_core::json::Echoed;
use tixpay_core::{
    Authenticate, Clock, Error, Reply, SharedClock, SharedNonce, SignatureSubject, Verdict,
};

use crate::client::Client;
use crate::error::refusal_of;

/// The signature scheme's name.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";
/// Signatures WeChat Pay sends on purpose to probe merchants; they must fail.
pub const SIGNTEST_PREFIX: &str = "WECHATPAY/SIGNTEST/";
/// The freshness window of responses and callbacks: 5 minutes.
pub const MAX_AGE_SECONDS: i64 = 300;

/// The message a request signature covers.
///
/// ```
/// use tixpay_wechat_payscore::auth::request_message;
/// // Vector W2.
/// assert_eq!(
///     request_message("GET", "/v3/certificates", 1624523846, "A1B2C3D4E5F6G7", b""),
///     b"GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n".to_vec()
/// );
/// ```
pub fn request_message(
    method: &str,
    canonical_url: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut m = format!("{method}\n{canonical_url}\n{timestamp}\n{nonce}\n").into_bytes();
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// The message a response or callback signature covers.
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = format!("{timestamp}\n{nonce}\n").into_bytes();
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// The `Authorization` header value.
///
/// ```
/// use tixpay_wechat_payscore::auth::authorization;
/// assert_eq!(
///     authorization("1234567890", "A1B2C3D4E5F6G7", 1624523846, "0123456789ABC", "c2ln"),
///     r#"WECHATPAY2-SHA256-RSA2048 mchid="1234567890",nonce_str="A1B2C3D4E5F6G7",timestamp="1624523846",serial_no="0123456789ABC",signature="c2ln""#
/// );
/// ```
pub fn authorization(
    mchid: &str,
    nonce: &str,
    timestamp: i64,
    serial_no: &str,
    signature: &str,
) -> String {
    format!(
        "{SCHEME} mchid=\"{mchid}\",nonce_str=\"{nonce}\",timestamp=\"{timestamp}\",serial_no=\"{serial_no}\",signature=\"{signature}\""
    )
}

/// Signs requests as the merchant: the key is parsed once.
pub(crate) struct RequestSigner<'a> {
    pub(crate) mchid: &'a str,
    pub(crate) serial_no: &'a str,
    pub(crate) key: &'a RsaPrivateKey,
    pub(crate) clock: &'a SharedClock,
    pub(crate) nonce: &'a SharedNonce,
    pub(crate) accept_serial: Option<String>,
}

/// WeChat Pay's half of every call ([`Authenticate`]): each attempt signed as the merchant,
/// each reply verified before anything is decoded.
///
/// - **2xx**, the empty body of a 204 included: all four `Wechatpay-*` headers, the 5-minute
///   window, no `WECHATPAY/SIGNTEST/` probe, and the signature with the key the serial names
///   (a certificate is downloaded when a new serial appears, see [`crate::certificates`]).
///   Then the reply must echo the ids the operation names (`out_order_no`, `service_id`,
///   `appid`, `mchid`, `authorization_code`, `openid`, as each endpoint documents them).
/// - **Non-2xx**: the documents do not say whether WeChat Pay signs its refusals. A refusal
///   with signature headers is verified like an answer, and a wrong signature is a signature
///   error. A refusal without them is not authenticated, so it cannot settle a write. The
///   status code lies outside the signature: a signed reply is a refusal only when its body
///   is an error object (`code`), never by its status alone, and `SYSTEM_ERROR` in that body
///   leaves the outcome unknown whatever the status says. Error bodies echo no request ids,
///   so a signed refusal of an operation whose replies must echo them is bound to nothing:
///   for a write it is outcome-unknown (query before acting).
pub(crate) struct Exchange<'a> {
    pub(crate) client: &'a Client,
}

/// A reply whose signature verified and which is bound to its request.
pub(crate) struct Verified {
    pub(crate) status: http::StatusCode,
    pub(crate) body: Bytes,
}

impl Authenticate for Exchange<'_> {
    type Signed = ();
    type Output = Verified;

    fn sign(&self, request: &mut http::Request<Bytes>, _attempt: u32) -> Result<(), Error> {
        self.client.signer().sign(request)
    }

    async fn verify(&self, reply: Reply<'_, ()>) -> Verdict<Verified> {
        match self.judge(reply).await {
            Ok(verified) => Verdict::Accept(verified),
            Err(e) => Verdict::Reject(e),
        }
    }
}

/// The top-level ids a reply may echo.
#[derive(serde::Deserialize, Default)]
struct Echoes {
    #[serde(default)]
    out_order_no: Echoed,
    #[serde(default)]
    service_id: Echoed,
    #[serde(default)]
    appid: Echoed,
    #[serde(default)]
    mchid: Echoed,
    #[serde(default)]
    openid: Echoed,
    #[serde(default)]
    authorization_code: Echoed,
    // Partner mode (`client/partner.rs`).
    #[serde(default)]
    sub_mchid: Echoed,
    #[serde(default)]
    sub_openid: Echoed,
    #[serde(default)]
    out_apply_no: Echoed,
    #[serde(default)]
    scene: Echoed,
}

impl Echoes {
    fn get(&self, field: &str) -> Option<&str> {
        match field {
            "out_order_no" => self.out_order_no.as_deref(),
            "service_id" => self.service_id.as_deref(),
            "appid" => self.appid.as_deref(),
            "mchid" => self.mchid.as_deref(),
            "openid" => self.openid.as_deref(),
            "authorization_code" => self.authorization_code.as_deref(),
            "sub_mchid" => self.sub_mchid.as_deref(),
            "sub_openid" => self.sub_openid.as_deref(),
            "out_apply_no" => self.out_apply_no.as_deref(),
            "scene" => self.scene.as_deref(),
            _ => None,
        }
    }
}

impl Exchange<'_> {
    async fn judge(&self, reply: Reply<'_, ()>) -> Result<Verified, Error> {
        let response = reply.response;
        let status = response.status();
        let subject = SignatureSubject::Response;
        if !status.is_success() {
            let refusal = refusal_of(&response);
            let Some(signed) = SignedHeaders::read_if_present(response.headers()) else {
                return Err(refusal.mark_unverified("WeChat Pay did not sign this refusal"));
            };
            verify_signed(self.client, &signed?, response.body(), subject).await?;
            if refusal.as_api().is_none() {
                return Err(
                    refusal.mark_unverified("the status code is outside WeChat Pay's signature")
                );
            }
            // Error bodies echo none of the request's ids: a signed refusal of an operation
            // whose replies must echo them cannot be shown to answer it (a captured refusal
            // replayed within the 5-minute window would verify too).
            let echoes: Echoes = serde_json::from_slice(response.body()).unwrap_or_default();
            return Err(reply
                .operation
                .binding(|field| echoes.get(field))
                .judge_refusal(refusal));
        }
        let signed = SignedHeaders::read(response.headers(), subject)?;
        verify_signed(self.client, &signed, response.body(), subject).await?;
        let echoes: Echoes = if response.body().is_empty() {
            Echoes::default()
        } else {
            // Only the ids are read here; the body is decoded, once, by the caller.
            tixpay_core::json::decode(Some(status), response.body())?
        };
        reply
            .operation
            .binding(|field| echoes.get(field))
            .require()?;
        Ok(Verified {
            status,
            body: response.into_body(),
        })
    }
}

/// Verifies a reply's or callback's signature: the 5-minute window, SIGNTEST probes, the
/// key the serial names, and RSA over `timestamp\nnonce\nbody\n`.
pub(crate) async fn verify_signed(
    client: &Client,
    signed: &SignedHeaders,
    body: &[u8],
    subject: SignatureSubject,
) -> Result<(), Error> {
    signed.precheck(client.config().clock.now_seconds(), subject)?;
    let key = client
        .keys()
        .key_for(client, &signed.serial, subject)
        .await?;
    signed.verify_with(&key, body, subject)
}

impl RequestSigner<'_> {
    /// Adds `Authorization` (and `Wechatpay-Serial`) over the exact bytes of `request`.
    pub(crate) fn sign(&self, request: &mut http::Request<Bytes>) -> Result<(), Error> {
        let ts = self.clock.now_seconds();
        let nonce = self.nonce.nonce(32)?;
        let canonical = request
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
        let message = request_message(
            request.method().as_str(),
            &canonical,
            ts,
            &nonce,
            request.body(),
        );
        let signature = self
            .key
            .sign_sha256(&message)
            .map_err(|e| Error::config(format!("cannot sign the request: {e}")))?;
        let header = authorization(
            self.mchid,
            &nonce,
            ts,
            self.serial_no,
            &base64::encode(signature),
        );
        let headers = request.headers_mut();
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(&header)
                .map_err(|_| Error::config("mchid or serial is not a valid header value"))?,
        );
        if let Some(v) = self
            .accept_serial
            .as_deref()
            .and_then(|s| http::HeaderValue::from_str(s).ok())
        {
            headers.insert("wechatpay-serial", v);
        }
        Ok(())
    }
}

/// The keys WeChat Pay's signatures are checked with: its public key (`PUB_KEY_ID_…`),
/// platform certificates by serial, or both during the migration.
pub struct KeyRing {
    public_key: Option<(String, RsaPublicKey)>,
    certificates: Option<RwLock<BTreeMap<String, Certificate>>>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("public_key_id", &self.public_key.as_ref().map(|(id, _)| id))
            .field("certificates", &self.certificate_serials())
            .finish()
    }
}

/// Why a key could not be found for a serial.
pub(crate) enum Lookup {
    Found(RsaPublicKey),
    /// Certificates are in use but this serial is not among them (yet): refresh.
    UnknownCertificate,
    /// No configured key can have this serial.
    Unknown,
}

impl KeyRing {
    /// Public-key mode only.
    pub fn public_key(id: impl Into<String>, key: RsaPublicKey) -> Self {
        Self {
            public_key: Some((id.into(), key)),
            certificates: None,
        }
    }

    /// Platform-certificate mode (certificates downloaded from `/v3/certificates`).
    pub fn certificates(initial: Vec<Certificate>) -> Self {
        Self {
            public_key: None,
            certificates: Some(RwLock::new(
                initial
                    .into_iter()
                    .map(|c| (c.serial().to_owned(), c))
                    .collect(),
            )),
        }
    }

    /// Both: the public key for its id, certificates for any other serial.
    pub fn combined(id: impl Into<String>, key: RsaPublicKey, initial: Vec<Certificate>) -> Self {
        Self {
            public_key: Some((id.into(), key)),
            certificates: Some(RwLock::new(
                initial
                    .into_iter()
                    .map(|c| (c.serial().to_owned(), c))
                    .collect(),
            )),
        }
    }

    /// Whether certificates are used (and so may need downloading).
    pub fn uses_certificates(&self) -> bool {
        self.certificates.is_some()
    }

    /// The serial to announce in `Wechatpay-Serial` (the public key id, else the newest
    /// certificate).
    pub fn preferred_serial(&self) -> Option<String> {
        if let Some((id, _)) = &self.public_key {
            return Some(id.clone());
        }
        let certs = self.certificates.as_ref()?.read().ok()?;
        certs
            .values()
            .max_by_key(|c| c.not_before())
            .map(|c| c.serial().to_owned())
    }

    /// The serials of the certificates held.
    pub fn certificate_serials(&self) -> Vec<String> {
        self.certificates
            .as_ref()
            .and_then(|c| c.read().ok().map(|m| m.keys().cloned().collect()))
            .unwrap_or_default()
    }

    /// Replaces the certificates (after a download).
    pub fn set_certificates(&self, certificates: Vec<Certificate>) {
        if let Some(lock) = &self.certificates {
            let map = certificates
                .into_iter()
                .map(|c| (c.serial().to_owned(), c))
                .collect();
            match lock.write() {
                Ok(mut m) => *m = map,
                Err(e) => *e.into_inner() = map,
            }
        }
    }

    pub(crate) fn lookup(&self, serial: &str) -> Lookup {
        if let Some((_, key)) = self.public_key.as_ref().filter(|(id, _)| id == serial) {
            return Lookup::Found(key.clone());
        }
        match &self.certificates {
            Some(lock) => {
                let map = lock.read().unwrap_or_else(|e| e.into_inner());
                match map.get(&serial.to_ascii_uppercase()) {
                    Some(cert) => Lookup::Found(cert.public_key().clone()),
                    None => Lookup::UnknownCertificate,
                }
            }
            None => Lookup::Unknown,
        }
    }
}

/// The four signature headers of a response or callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedHeaders {
    pub(crate) timestamp: String,
    pub(crate) nonce: String,
    pub(crate) signature: String,
    pub(crate) serial: String,
}

impl SignedHeaders {
    /// The signature headers of a reply that carries any of them (a missing one is then an
    /// error); `None` when it carries none.
    pub(crate) fn read_if_present(headers: &http::HeaderMap) -> Option<Result<Self, Error>> {
        let any = [
            "wechatpay-timestamp",
            "wechatpay-nonce",
            "wechatpay-signature",
            "wechatpay-serial",
        ]
        .iter()
        .any(|name| headers.contains_key(*name));
        any.then(|| Self::read(headers, SignatureSubject::Response))
    }

    pub(crate) fn read(
        headers: &http::HeaderMap,
        subject: SignatureSubject,
    ) -> Result<Self, Error> {
        let get = |name: &str| -> Result<String, Error> {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::signature(subject, format!("missing {name} header")))
        };
        Ok(Self {
            timestamp: get("wechatpay-timestamp")?,
            nonce: get("wechatpay-nonce")?,
            signature: get("wechatpay-signature")?,
            serial: get("wechatpay-serial")?,
        })
    }

    /// Everything but the key lookup and the RSA check: SIGNTEST probes, the 5-minute window.
    pub(crate) fn precheck(&self, now: i64, subject: SignatureSubject) -> Result<(), Error> {
        if self.signature.starts_with(SIGNTEST_PREFIX) {
            return Err(Error::signature(
                subject,
                "a WECHATPAY/SIGNTEST/ probe: it must fail",
            ));
        }
        let ts: i64 = self
            .timestamp
            .trim()
            .parse()
            .map_err(|_| Error::signature(subject, "Wechatpay-Timestamp is not a number"))?;
        if now.saturating_sub(ts).unsigned_abs() >= MAX_AGE_SECONDS.unsigned_abs() {
            return Err(Error::signature(
                subject,
                format!("Wechatpay-Timestamp {ts} is outside the 5-minute window around {now}"),
            ));
        }
        Ok(())
    }

    pub(crate) fn verify_with(
        &self,
        key: &RsaPublicKey,
        body: &[u8],
        subject: SignatureSubject,
    ) -> Result<(), Error> {
        let signature = base64::decode(self.signature.trim())
            .map_err(|_| Error::signature(subject, "Wechatpay-Signature is not base64"))?;
        key.verify_sha256(
            &response_message(&self.timestamp, &self.nonce, body),
            &signature,
        )
        .map_err(|_| Error::signature(subject, "signature does not match the body"))
    }
}

/// Signs a response or callback as WeChat Pay would (for the sandbox and tests): returns
/// the four header values `(timestamp, nonce, signature)`.
pub fn sign_response(
    key: &RsaPrivateKey,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Result<String, Error> {
    key.sign_sha256(&response_message(&timestamp.to_string(), nonce, body))
        .map(base64::encode)
        .map_err(|e| Error::config(format!("cannot sign: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w2_post_message() {
        assert_eq!(
            request_message(
                "POST",
                "/v3/certificates",
                1624523846,
                "A1B2C3D4E5F6G7",
                b"Hello World!\n"
            ),
            b"POST\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\nHello World!\n\n".to_vec()
        );
        assert_eq!(response_message("1", "n", b""), b"1\nn\n\n".to_vec());
    }

    #[test]
    fn precheck_rules() {
        let h = SignedHeaders {
            timestamp: "1000".into(),
            nonce: "n".into(),
            signature: "abc".into(),
            serial: "S".into(),
        };
        let subject = SignatureSubject::Response;
        assert!(h.precheck(1000, subject).is_ok());
        assert!(h.precheck(1299, subject).is_ok());
        assert!(h.precheck(1300, subject).is_err());
        assert!(h.precheck(700, subject).is_err());
        let probe = SignedHeaders {
            signature: "WECHATPAY/SIGNTEST/abc".into(),
            ..h.clone()
        };
        assert!(probe.precheck(1000, subject).is_err());
        let bad = SignedHeaders {
            timestamp: "x".into(),
            ..h
        };
        assert!(bad.precheck(1000, subject).is_err());
    }
}
