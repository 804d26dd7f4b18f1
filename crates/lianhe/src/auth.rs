//! The `LH` authentication scheme (安全机制, page 106014).
//!
//! ```text
//! Authorization: LH {apiname}:{base64(HMAC-SHA1(clientSecret, "POST {uri}\n{Date}"))}
//! ```
//!
//! `uri` is the path and query of the request, `/openapi/index.php?method=creatOrder`;
//! `Date` is the RFC 1123 GMT date sent in the `Date` header. The signature covers neither
//! the body nor the partner id: whoever replays a captured header within the server's
//! freshness window can send any body. Notifications are signed the same way over
//! `/openapi/index.php?method=notify`.

use std::fmt;

use bytes::Bytes;
use tixpay_core::crypto::{self, HmacAlgorithm, HmacKey};
use tixpay_core::{Authenticate, Clock, Error, Reply, SharedClock, Verdict, datetime};

use crate::wire;

/// The `uri` notifications are signed over.
pub const NOTIFY_URI: &str = "/openapi/index.php?method=notify";

/// The string to sign: `{METHOD} {uri}\n{date}`.
///
/// ```
/// use tixpay_lianhe::auth::string_to_sign;
/// assert_eq!(
///     string_to_sign("POST", "/openapi/index.php?method=creatOrder", "Wed, 06 May 2015 10:34:20 GMT"),
///     "POST /openapi/index.php?method=creatOrder\nWed, 06 May 2015 10:34:20 GMT"
/// );
/// ```
pub fn string_to_sign(method: &str, uri: &str, date: &str) -> String {
    format!("{} {uri}\n{date}", method.to_ascii_uppercase())
}

/// Computes and checks `LH` signatures with one partner's `apiname` and `clientSecret`.
///
/// ```
/// use tixpay_core::Secret;
/// use tixpay_lianhe::auth::Signer;
///
/// // Vector J1.
/// let signer = Signer::new("testapi", &Secret::new("0123456789abcdef-not-a-real-secret"));
/// assert_eq!(
///     signer.authorization("POST", "/openapi/index.php?method=creatOrder", "Wed, 06 May 2015 10:34:20 GMT"),
///     "LH testapi:LPFj3zf7Bhbfu52GjJD8TVAmLz0="
/// );
/// ```
#[derive(Clone)]
pub struct Signer {
    api_name: String,
    key: HmacKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("api_name", &self.api_name)
            .field("client_secret", &tixpay_core::secret::REDACTED)
            .finish()
    }
}

impl Signer {
    /// A signer for `api_name` with `client_secret`; the HMAC key is prepared once.
    pub fn new(api_name: impl Into<String>, client_secret: &tixpay_core::Secret) -> Self {
        Self {
            api_name: api_name.into(),
            key: HmacKey::new(HmacAlgorithm::Sha1, client_secret.expose_bytes()),
        }
    }

    /// The `apiname`.
    pub fn api_name(&self) -> &str {
        &self.api_name
    }

    /// The base64 signature of `string_to_sign(method, uri, date)`.
    pub fn signature(&self, method: &str, uri: &str, date: &str) -> String {
        crypto::base64::encode(self.key.sign(string_to_sign(method, uri, date).as_bytes()))
    }

    /// The whole `Authorization` value: `LH {apiname}:{signature}`.
    pub fn authorization(&self, method: &str, uri: &str, date: &str) -> String {
        format!("LH {}:{}", self.api_name, self.signature(method, uri, date))
    }

    /// Checks an `Authorization` value against `method`, `uri` and `date`, comparing the
    /// signature in constant time.
    pub fn verify(
        &self,
        authorization: &str,
        method: &str,
        uri: &str,
        date: &str,
    ) -> Result<(), String> {
        let rest = authorization
            .trim()
            .strip_prefix("LH ")
            .ok_or_else(|| "Authorization does not use the LH scheme".to_owned())?;
        let (api_name, signature) = rest
            .rsplit_once(':')
            .ok_or_else(|| "Authorization is not `LH apiname:signature`".to_owned())?;
        if api_name != self.api_name {
            return Err(format!("unexpected apiname `{api_name}`"));
        }
        let given = crypto::base64::decode(signature.trim())
            .map_err(|_| "the signature is not base64".to_owned())?;
        if self
            .key
            .verify(string_to_sign(method, uri, date).as_bytes(), &given)
        {
            Ok(())
        } else {
            Err("signature mismatch".to_owned())
        }
    }
}

/// Adds `PartnerId`, `Date`, `Version` and `Authorization` to each attempt, over the path
/// and query actually sent.
pub(crate) struct RequestAuth {
    pub(crate) signer: Signer,
    pub(crate) partner_id: String,
    pub(crate) version: String,
    pub(crate) clock: SharedClock,
}

/// One Lianhe call, both halves ([`Authenticate`]): each attempt is signed with the `LH`
/// scheme, and each reply is bound and judged.
///
/// **Lianhe signs nothing it sends back.** Its replies carry no signature, so they are
/// authenticated by the TLS connection alone, answers and refusals alike: a refusal is no
/// less trustworthy than a success, and is taken as Lianhe's answer (unlike the providers
/// that sign their replies, where an unsigned refusal settles nothing). What can still be
/// checked is checked: every reply must echo the configured `partnerId`, and the order ids
/// the operation names (`body.LHOrderId` in the answers that document it, `body.orderId`
/// when present), so a misrouted or replayed reply for another order is refused.
pub(crate) struct Exchange<'a> {
    pub(crate) auth: &'a RequestAuth,
    /// The `code`s that mean success for this method (`queryOrder` also answers 200).
    pub(crate) success: &'a [i64],
}

impl Authenticate for Exchange<'_> {
    type Signed = ();
    type Output = wire::Reply;

    fn sign(&self, request: &mut http::Request<Bytes>, _attempt: u32) -> Result<(), Error> {
        self.auth.sign(request)
    }

    async fn verify(&self, reply: Reply<'_, ()>) -> Verdict<wire::Reply> {
        match wire::parse(&reply.response) {
            Err(e) => Verdict::Reject(e),
            Ok(parsed) => {
                let binding = reply.operation.binding(|field| parsed.head.echoed(field));
                if parsed.is_success(self.success) {
                    match binding.require() {
                        Ok(()) => Verdict::Accept(parsed),
                        Err(e) => Verdict::Reject(e),
                    }
                } else {
                    Verdict::Reject(binding.judge_refusal(parsed.api_error()))
                }
            }
        }
    }
}

impl RequestAuth {
    fn sign(&self, request: &mut http::Request<Bytes>) -> Result<(), Error> {
        let date = datetime::format_http_date(self.clock.now_seconds());
        let uri = request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        let authorization = self
            .signer
            .authorization(request.method().as_str(), &uri, &date);
        let headers = request.headers_mut();
        for (name, value) in [
            ("partnerid", self.partner_id.as_str()),
            ("date", date.as_str()),
            ("version", self.version.as_str()),
            ("authorization", authorization.as_str()),
        ] {
            let value = http::HeaderValue::from_str(value)
                .map_err(|_| Error::config(format!("`{name}` is not a valid header value")))?;
            headers.insert(http::HeaderName::from_static(name), value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tixpay_core::Secret;

    fn j1() -> Signer {
        Signer::new(
            "testapi",
            &Secret::new("0123456789abcdef-not-a-real-secret"),
        )
    }

    const URI: &str = "/openapi/index.php?method=creatOrder";
    const DATE: &str = "Wed, 06 May 2015 10:34:20 GMT";

    #[test]
    fn j1_vector_and_verification() {
        let s = j1();
        let header = s.authorization("POST", URI, DATE);
        assert_eq!(header, "LH testapi:LPFj3zf7Bhbfu52GjJD8TVAmLz0=");
        assert_eq!(s.verify(&header, "POST", URI, DATE), Ok(()));
        assert!(
            s.verify(&header, "POST", URI, "Wed, 06 May 2015 10:34:21 GMT")
                .is_err()
        );
        assert!(s.verify(&header, "POST", NOTIFY_URI, DATE).is_err());
        assert!(
            s.verify("LH other:LPFj3zf7Bhbfu52GjJD8TVAmLz0=", "POST", URI, DATE)
                .is_err()
        );
        assert!(s.verify("Basic dGVzdA==", "POST", URI, DATE).is_err());
        assert!(s.verify("LH testapi", "POST", URI, DATE).is_err());
        assert!(s.verify("LH testapi:!!!", "POST", URI, DATE).is_err());
        assert!(s.verify("LH testapi:", "POST", URI, DATE).is_err());
    }

    #[test]
    fn debug_hides_the_secret() {
        let shown = format!("{:?}", j1());
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
        assert!(shown.contains("testapi"));
    }
}
