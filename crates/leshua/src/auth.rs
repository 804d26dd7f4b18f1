//! LeShua's MD5 signatures (manual §数据格式及数据签名说明, spec §2).
//!
//! - **Requests**: every field but `sign`, empty values left out (and not sent), sorted by
//!   name in byte order, joined `k=v&…`, then `&key=<trade key>`; MD5, upper-case hex. No
//!   URL-encoding inside the signed string.
//! - **Replies**: every field but `sign`, `leshua` and `resp_code`, empty values *included*
//!   (`k=`), same joining, trade key; compared ignoring case, in constant time.
//! - **Notifications**: every field but `sign` and `error_code`, empty values included,
//!   **notify key**; compared ignoring case (LeShua sends lower-case there).
//!
//! ```
//! use tixpay_core::Secret;
//! use tixpay_leshua::auth::request_sign;
//!
//! // Vector L1.
//! let fields = [
//!     ("service", "unified_refund"), ("merchant_id", "0000000018"),
//!     ("leshua_order_id", "1812072242293655"), ("merchant_refund_id", "R20240101001"),
//!     ("refund_amount", "100"), ("nonce_str", "a1b2c3d4e5f6"),
//!     ("notify_url", "https://example.com/leshua/refund_notify"),
//! ];
//! assert_eq!(request_sign(&fields, &Secret::new("TEST_TRADE_KEY_NOT_REAL")), "4DA0E6DE5580C328C1CC2D7C037CB8D9");
//! ```

use bytes::Bytes;
use tixpay_core::crypto::{constant_time_eq_ignore_ascii_case, md5_hex_upper};
use tixpay_core::{
    ApiError, Authenticate, Error, ErrorLayer, Reply, Secret, SignatureSubject, SortedParams,
    Verdict,
};

use crate::config::{Config, VerifyRule};
use crate::error::ErrorCode;
use crate::types::Fields;
use crate::wire::{XmlError, parse_xml};

const REPLY_EXCLUDED: &[&str] = &["sign", "leshua", "resp_code"];
const REPLY_EXCLUDED_COMPAT: &[&str] = &["sign", "leshua", "resp_code", "error_code"];
const NOTIFY_EXCLUDED: &[&str] = &["sign", "error_code"];

fn digest(fields: &[(&str, &str)], excluded: &[&str], skip_empty: bool, key: &Secret) -> String {
    let params: SortedParams = fields.iter().copied().collect();
    let signed = params
        .skip_empty(skip_empty)
        .exclude(excluded)
        .to_string_with_suffix("key", key.expose());
    md5_hex_upper(signed.as_bytes())
}

/// The `sign` of a request: upper-case MD5 hex.
pub fn request_sign(fields: &[(&str, &str)], trade_key: &Secret) -> String {
    digest(fields, &["sign"], true, trade_key)
}

/// The `sign` of a reply, as the gateway computes it (the documented rule).
pub fn reply_sign(fields: &[(&str, &str)], trade_key: &Secret) -> String {
    digest(fields, REPLY_EXCLUDED, false, trade_key)
}

/// The `sign` of a notification, as the gateway computes it (lower-case, as it sends it).
pub fn notification_sign(fields: &[(&str, &str)], notify_key: &Secret) -> String {
    digest(fields, NOTIFY_EXCLUDED, false, notify_key).to_ascii_lowercase()
}

fn given_sign<'a>(fields: &[(&'a str, &'a str)]) -> Result<&'a str, String> {
    fields
        .iter()
        .find(|(k, _)| *k == "sign")
        .map(|(_, v)| *v)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| "no sign".to_owned())
}

fn matches(given: &str, expected: &str) -> bool {
    constant_time_eq_ignore_ascii_case(given.as_bytes(), expected.as_bytes())
}

/// Which fields of a verified reply its signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Coverage {
    /// The manual's rule: every field but `sign`, `leshua` and `resp_code`.
    Documented,
    /// A [`VerifyRule::Compatible`] variant that leaves `error_code` out as well: the code
    /// of a refusal is then not authenticated.
    WithoutErrorCode,
}

/// Checks a reply's `sign` with the trade key under `rule`, and says which fields it covers.
/// `resp_code` is never covered.
pub fn verify_reply(
    fields: &[(&str, &str)],
    trade_key: &Secret,
    rule: VerifyRule,
) -> Result<Coverage, String> {
    let given = given_sign(fields)?;
    if matches(given, &digest(fields, REPLY_EXCLUDED, false, trade_key)) {
        return Ok(Coverage::Documented);
    }
    if rule == VerifyRule::Compatible {
        for (excluded, skip_empty, coverage) in [
            (REPLY_EXCLUDED, true, Coverage::Documented),
            (REPLY_EXCLUDED_COMPAT, false, Coverage::WithoutErrorCode),
            (REPLY_EXCLUDED_COMPAT, true, Coverage::WithoutErrorCode),
        ] {
            if matches(given, &digest(fields, excluded, skip_empty, trade_key)) {
                return Ok(coverage);
            }
        }
    }
    Err("sign does not match".to_owned())
}

/// LeShua's half of every call ([`Authenticate`]): the request is signed inside its form
/// body before the call (`sign`, so a resend repeats the same signed bytes), and every reply
/// is verified, bound and judged here, over the bytes received:
///
/// 1. a non-2xx status is not a LeShua reply: an HTTP error, not authenticated;
/// 2. the `<leshua>` document is parsed and its `sign` checked with the trade key; an
///    unsigned document is accepted only as a protocol refusal, marked not authenticated;
/// 3. `resp_code` lies outside the signature (the manual excludes `sign`, `leshua`,
///    `resp_code`), so a signed reply whose `resp_code` says failure is a refusal marked not
///    authenticated: it can never settle a write;
/// 4. the reply must echo the ids this operation names ([`Operation::echo`](tixpay_core::Operation::echo)):
///    `merchant_id`, and the order or refund ids the request carried;
/// 5. `result_code` ≠ 0 is a business refusal with its `error_code` (retryable for the
///    documented system-error codes; "processing" leaves the outcome unknown).
///
/// The fields handed back exclude what the signature does not cover.
pub(crate) struct ReplyCheck<'a> {
    pub(crate) config: &'a Config,
}

impl Authenticate for ReplyCheck<'_> {
    type Signed = ();
    type Output = Fields;

    fn sign(&self, _request: &mut http::Request<Bytes>, _attempt: u32) -> Result<(), Error> {
        // Signed once, inside the body, when the call was built.
        Ok(())
    }

    async fn verify(&self, reply: Reply<'_, ()>) -> Verdict<Fields> {
        match self.judge(&reply) {
            Ok(fields) => Verdict::Accept(fields),
            Err(e) => Verdict::Reject(e),
        }
    }
}

/// `error_code`s the manual lists as the gateway's own failure (服务错误, 系统错误, 系统异常):
/// the same request may succeed later. Resent only for `Safe` and `Keyed` operations.
const SYSTEM_ERROR_CODES: &[ErrorCode] = &[
    ErrorCode::ServiceError,
    ErrorCode::SystemError,
    ErrorCode::SystemException,
];

impl ReplyCheck<'_> {
    fn judge(&self, reply: &Reply<'_, ()>) -> Result<Fields, Error> {
        let status = reply.response.status();
        let body = reply.response.body();
        if !status.is_success() {
            return Err(Error::http(status, body, None)
                .mark_unverified("LeShua signs its XML replies only; this is an HTTP error"));
        }
        let mut fields = match parse_xml(body) {
            Ok(fields) => Fields(fields),
            Err(XmlError::NotXml(text)) => {
                return Err(Error::decode(
                    Some(status),
                    body,
                    None,
                    format!(
                        "the gateway answered with text, not XML: “{text}” (it says 接口为可用状态 to an empty or malformed request)"
                    ),
                ));
            }
            Err(XmlError::Malformed(why)) => {
                return Err(Error::decode(Some(status), body, None, why));
            }
        };
        let resp_code = fields.get("resp_code").unwrap_or_default().to_owned();
        let resp_msg = fields.get("resp_msg").unwrap_or_default().to_owned();
        let protocol_refusal = || {
            Error::api(
                ApiError::new(
                    if resp_code.is_empty() {
                        "resp_code missing"
                    } else {
                        resp_code.as_str()
                    },
                    resp_msg.as_str(),
                )
                .with_layer(ErrorLayer::Protocol)
                .with_body(body.clone()),
            )
        };
        if fields.non_empty("sign").is_none() {
            if resp_code == "0" || resp_code.is_empty() {
                return Err(Error::signature(
                    SignatureSubject::Response,
                    "the reply has no sign",
                ));
            }
            // A protocol error may come unsigned; it is reported, but nothing in it is
            // trusted.
            return Err(protocol_refusal().mark_unverified("the reply is not signed"));
        }
        let coverage = verify_reply(
            &fields.borrowed(),
            &self.config.trade_key,
            self.config.verify_rule,
        )
        .map_err(|why| Error::signature(SignatureSubject::Response, why))?;
        let binding = reply.operation.binding(|field| fields.non_empty(field));
        if resp_code != "0" {
            return Err(binding.judge_refusal(
                protocol_refusal().mark_unverified("resp_code is outside LeShua's reply signature"),
            ));
        }
        let result_code = fields.get("result_code").unwrap_or_default();
        if result_code != "0" {
            let code = fields
                .non_empty("error_code")
                .map(str::to_owned)
                .unwrap_or_else(|| format!("result_code {result_code}"));
            let known = ErrorCode::from_code(&code);
            let api = ApiError::new(code, fields.get("error_msg").unwrap_or_default())
                .with_layer(ErrorLayer::Business)
                .with_body(body.clone())
                .retryable(SYSTEM_ERROR_CODES.contains(&known))
                .outcome_unknown(known == ErrorCode::OrderProcessing);
            let mut refusal = Error::api(api);
            if result_code.is_empty() {
                // A signed reply that states no business result: perhaps a protocol failure
                // whose (unsigned) resp_code was rewritten to 0.
                refusal = refusal.mark_unverified("the signed reply states no result_code");
            } else if coverage == Coverage::WithoutErrorCode {
                refusal = refusal.mark_unverified(
                    "error_code is outside the signature under VerifyRule::Compatible",
                );
            }
            return Err(binding.judge_refusal(refusal));
        }
        binding.require()?;
        // Nothing outside the signature is handed out as verified.
        fields.0.retain(|(name, _)| {
            name != "resp_code" && (coverage == Coverage::Documented || name != "error_code")
        });
        Ok(fields)
    }
}

/// Checks a notification's `sign` with the notify key under `rule`.
pub fn verify_notification(
    fields: &[(&str, &str)],
    notify_key: &Secret,
    rule: VerifyRule,
) -> Result<(), String> {
    let given = given_sign(fields)?;
    if matches(given, &digest(fields, NOTIFY_EXCLUDED, false, notify_key)) {
        return Ok(());
    }
    if rule == VerifyRule::Compatible
        && matches(given, &digest(fields, NOTIFY_EXCLUDED, true, notify_key))
    {
        return Ok(());
    }
    Err("sign does not match".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secret {
        Secret::new("K")
    }

    #[test]
    fn reply_rule_keeps_empties_and_error_code() {
        let mut fields = vec![
            ("resp_code", "0"),
            ("result_code", "0"),
            ("error_code", ""),
            ("merchant_id", "1"),
        ];
        let sign = reply_sign(&fields, &key());
        // resp_code is not signed: changing it keeps the signature valid.
        fields.push(("sign", &sign));
        assert_eq!(
            verify_reply(&fields, &key(), VerifyRule::Documented),
            Ok(Coverage::Documented)
        );
        fields[0].1 = "1";
        assert_eq!(
            verify_reply(&fields, &key(), VerifyRule::Documented),
            Ok(Coverage::Documented)
        );
        // result_code is signed.
        fields[1].1 = "1";
        assert!(verify_reply(&fields, &key(), VerifyRule::Documented).is_err());
    }

    #[test]
    fn compatible_rule_accepts_client_variants_only_when_asked() {
        let fields = [
            ("result_code", "0"),
            ("sub_openid", ""),
            ("error_code", "-1"),
        ];
        // A signer that dropped empties and error_code.
        let variant = digest(&fields, REPLY_EXCLUDED_COMPAT, true, &key());
        let mut signed: Vec<(&str, &str)> = fields.to_vec();
        signed.push(("sign", &variant));
        assert!(verify_reply(&signed, &key(), VerifyRule::Documented).is_err());
        assert_eq!(
            verify_reply(&signed, &key(), VerifyRule::Compatible),
            Ok(Coverage::WithoutErrorCode)
        );
        // Only empties dropped: error_code is still covered.
        let variant = digest(&fields, REPLY_EXCLUDED, true, &key());
        let mut signed: Vec<(&str, &str)> = fields.to_vec();
        signed.push(("sign", &variant));
        assert_eq!(
            verify_reply(&signed, &key(), VerifyRule::Compatible),
            Ok(Coverage::Documented)
        );
        // The wrong key never verifies.
        assert!(verify_reply(&signed, &Secret::new("other"), VerifyRule::Compatible).is_err());
    }

    #[test]
    fn notifications_use_lower_case_and_compare_ignoring_case() {
        let fields = [("status", "11"), ("error_code", "X"), ("refund_time", "")];
        let sign = notification_sign(&fields, &key());
        assert_eq!(sign, sign.to_ascii_lowercase());
        let mut signed: Vec<(&str, &str)> = fields.to_vec();
        let upper = sign.to_ascii_uppercase();
        signed.push(("sign", &upper));
        assert_eq!(
            verify_notification(&signed, &key(), VerifyRule::Documented),
            Ok(())
        );
        // error_code is not signed in notifications.
        signed[1].1 = "changed";
        assert_eq!(
            verify_notification(&signed, &key(), VerifyRule::Documented),
            Ok(())
        );
        signed[0].1 = "12";
        assert!(verify_notification(&signed, &key(), VerifyRule::Documented).is_err());
        assert!(verify_notification(&fields, &key(), VerifyRule::Documented).is_err());
    }
}
