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

use tixpay_core::crypto::{constant_time_eq_ignore_ascii_case, md5_hex_upper};
use tixpay_core::{Secret, SortedParams};

use crate::config::VerifyRule;

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

/// Checks a reply's `sign` with the trade key under `rule`.
pub fn verify_reply(
    fields: &[(&str, &str)],
    trade_key: &Secret,
    rule: VerifyRule,
) -> Result<(), String> {
    let given = given_sign(fields)?;
    if matches(given, &digest(fields, REPLY_EXCLUDED, false, trade_key)) {
        return Ok(());
    }
    if rule == VerifyRule::Compatible {
        for (excluded, skip_empty) in [
            (REPLY_EXCLUDED, true),
            (REPLY_EXCLUDED_COMPAT, false),
            (REPLY_EXCLUDED_COMPAT, true),
        ] {
            if matches(given, &digest(fields, excluded, skip_empty, trade_key)) {
                return Ok(());
            }
        }
    }
    Err("sign does not match".to_owned())
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
            Ok(())
        );
        fields[0].1 = "1";
        assert_eq!(
            verify_reply(&fields, &key(), VerifyRule::Documented),
            Ok(())
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
            Ok(())
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
