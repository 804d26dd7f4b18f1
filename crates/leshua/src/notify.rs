//! Payment and refund notifications: raw XML body → verified with the **notify key** →
//! typed event; reply with the plain text `000000` ([`ACK`]), or LeShua sends it again.
//!
//! ```
//! use tixpay_core::Secret;
//! use tixpay_leshua::notify::{Notification, NotificationParser, ACK};
//! use tixpay_leshua::{Config, OrderStatus};
//!
//! let config = Config::new("9605008025", Secret::new("trade"), Secret::new("notify"));
//! # let body = tixpay_leshua::notify::signed_example(&config);
//! let event = NotificationParser::new(&config).parse(&http::HeaderMap::new(), body.as_bytes())?;
//! if let Notification::Payment(p) = &event {
//!     assert_eq!(p.status, OrderStatus::Paid);
//! }
//! assert_eq!(event.dedup_key(), "pay:0003495002500081:2");
//! assert_eq!(ACK, "000000");
//! # Ok::<(), tixpay_core::Error>(())
//! ```

use bytes::Bytes;
use tixpay_core::notify::{Deduplicate, Notifications, text_response};
use tixpay_core::{Error, Fen, Secret, SignatureSubject, datetime};

use crate::auth::verify_notification;
use crate::config::{Config, VerifyRule};
use crate::types::{Fields, OrderStatus, PayWay};
use crate::wire::{XmlError, parse_xml};

/// The reply LeShua expects: the plain text `000000`.
pub const ACK: &str = "000000";

const PROVIDER: &str = "leshua";
const OPERATION: &str = "notify";

impl Notifications for NotificationParser {
    type Event = Notification;

    async fn parse(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<Notification, Error> {
        NotificationParser::parse(self, headers, body)
    }

    /// `200` with the plain text `000000`.
    fn ack(&self) -> http::Response<Bytes> {
        text_response(http::StatusCode::OK, ACK)
    }

    /// `500` with `fail`: anything but `000000` makes LeShua deliver again.
    fn reject(&self) -> http::Response<Bytes> {
        text_response(http::StatusCode::INTERNAL_SERVER_ERROR, "fail")
    }
}

impl Deduplicate for Notification {
    fn dedup_key(&self) -> String {
        Notification::dedup_key(self)
    }
}

/// Reads `pay_time` in either documented form (`20180820191919` or `2018-12-07 22:42:39`,
/// China time) as seconds since the Unix epoch.
///
/// ```
/// use tixpay_leshua::notify::parse_pay_time;
/// assert_eq!(parse_pay_time("20181207224239"), parse_pay_time("2018-12-07 22:42:39"));
/// assert_eq!(parse_pay_time("yesterday"), None);
/// ```
pub fn parse_pay_time(text: &str) -> Option<i64> {
    let text = text.trim();
    datetime::parse_compact(text, datetime::CST)
        .or_else(|| datetime::parse_local(text, datetime::CST))
}

/// A verified notification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Notification {
    /// 支付结果通知.
    Payment(PaymentNotification),
    /// 退款结果通知.
    Refund(RefundNotification),
}

impl Notification {
    /// The key to de-duplicate deliveries on: order (or refund) id and status.
    pub fn dedup_key(&self) -> String {
        match self {
            Self::Payment(p) => format!(
                "pay:{}:{}",
                p.leshua_order_id
                    .as_deref()
                    .or(p.third_order_id.as_deref())
                    .unwrap_or("-"),
                p.status
            ),
            Self::Refund(r) => format!(
                "refund:{}:{}",
                r.leshua_refund_id
                    .as_deref()
                    .or(r.merchant_refund_id.as_deref())
                    .unwrap_or("-"),
                r.status
            ),
        }
    }

    /// Every signed field, as received.
    pub fn fields(&self) -> &Fields {
        match self {
            Self::Payment(p) => &p.fields,
            Self::Refund(r) => &r.fields,
        }
    }
}

/// A payment result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct PaymentNotification {
    /// `status`.
    pub status: OrderStatus,
    /// `leshua_order_id`.
    pub leshua_order_id: Option<String>,
    /// `third_order_id`.
    pub third_order_id: Option<String>,
    /// `amount` in fen.
    pub amount: Option<Fen>,
    /// `pay_way`.
    pub pay_way: Option<PayWay>,
    /// `pay_time` as sent.
    pub pay_time: Option<String>,
    /// `pay_time` in seconds since the Unix epoch, when it is in a documented form.
    pub paid_at: Option<i64>,
    /// `sub_merchant_id`.
    pub sub_merchant_id: Option<String>,
    /// `attach`.
    pub attach: Option<String>,
    /// `error_code`, **not covered by the signature** (LeShua's notification rule leaves it
    /// out): anyone on the path could have changed it. Never decide anything on it.
    pub unverified_error_code: Option<String>,
    /// Every signed field, as received (`error_code`, which is not signed, is left out).
    pub fields: Fields,
}

/// A refund result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct RefundNotification {
    /// `status`: 10, 11 or 12.
    pub status: OrderStatus,
    /// `merchant_refund_id`.
    pub merchant_refund_id: Option<String>,
    /// `leshua_refund_id`.
    pub leshua_refund_id: Option<String>,
    /// `leshua_order_id`.
    pub leshua_order_id: Option<String>,
    /// `third_order_id`.
    pub third_order_id: Option<String>,
    /// `refund_amount` in fen.
    pub refund_amount: Option<Fen>,
    /// `total_amount` in fen.
    pub total_amount: Option<Fen>,
    /// `refund_time` (sent on success).
    pub refund_time: Option<String>,
    /// `failure_reason`.
    pub failure_reason: Option<String>,
    /// `error_code`, **not covered by the signature**: never decide anything on it.
    pub unverified_error_code: Option<String>,
    /// Every signed field, as received (`error_code`, which is not signed, is left out).
    pub fields: Fields,
}

/// Verifies and parses notifications with a merchant's notify key.
#[derive(Debug, Clone)]
pub struct NotificationParser {
    notify_key: Secret,
    merchant_id: String,
    rule: VerifyRule,
}

impl NotificationParser {
    /// A parser with `config`'s notify key and verification rule.
    pub fn new(config: &Config) -> Self {
        Self {
            notify_key: config.notify_key.clone(),
            merchant_id: config.merchant_id.clone(),
            rule: config.verify_rule,
        }
    }

    /// Verifies and parses one delivery from its raw body. Headers are not used: LeShua
    /// signs inside the XML.
    pub fn parse(&self, _headers: &http::HeaderMap, body: &[u8]) -> Result<Notification, Error> {
        let context = |e: Error| e.with_provider(PROVIDER).with_operation(OPERATION);
        let mut fields = match parse_xml(body) {
            Ok(f) => Fields(f),
            Err(XmlError::NotXml(text)) => {
                return Err(context(Error::decode(
                    None,
                    body,
                    None,
                    format!("not XML: “{text}”"),
                )));
            }
            Err(XmlError::Malformed(why)) => {
                return Err(context(Error::decode(None, body, None, why)));
            }
        };
        verify_notification(&fields.borrowed(), &self.notify_key, self.rule)
            .map_err(|why| context(Error::signature(SignatureSubject::Notification, why)))?;
        if let Some(merchant) = fields
            .non_empty("merchant_id")
            .filter(|m| *m != self.merchant_id)
        {
            return Err(context(Error::decode(
                None,
                body,
                Some("merchant_id".into()),
                format!(
                    "notification for merchant {merchant}, not {}",
                    self.merchant_id
                ),
            )));
        }
        let status = fields
            .non_empty("status")
            .map(OrderStatus::parse)
            .ok_or_else(|| {
                context(Error::decode(
                    None,
                    body,
                    Some("status".into()),
                    "missing status",
                ))
            })?;
        // The signature does not cover error_code: it is kept apart, never among the
        // verified fields.
        let unverified_error_code = fields.string("error_code");
        fields.0.retain(|(name, _)| name != "error_code");
        let amount = |name: &str| {
            fields
                .fen_strict(name)
                .map_err(|why| context(Error::decode(None, body, Some(name.to_owned()), why)))
        };
        let (amount, refund_amount, total_amount) = (
            amount("amount")?,
            amount("refund_amount")?,
            amount("total_amount")?,
        );
        let is_refund = fields.non_empty("merchant_refund_id").is_some()
            || fields.non_empty("leshua_refund_id").is_some();
        Ok(if is_refund {
            Notification::Refund(RefundNotification {
                status,
                merchant_refund_id: fields.string("merchant_refund_id"),
                leshua_refund_id: fields.string("leshua_refund_id"),
                leshua_order_id: fields.string("leshua_order_id"),
                third_order_id: fields.string("third_order_id"),
                refund_amount,
                total_amount,
                refund_time: fields.string("refund_time"),
                failure_reason: fields.string("failure_reason"),
                unverified_error_code,
                fields,
            })
        } else {
            let pay_time = fields.string("pay_time");
            Notification::Payment(PaymentNotification {
                status,
                leshua_order_id: fields.string("leshua_order_id"),
                third_order_id: fields.string("third_order_id"),
                amount,
                pay_way: fields.non_empty("pay_way").map(PayWay::parse),
                paid_at: pay_time.as_deref().and_then(parse_pay_time),
                pay_time,
                sub_merchant_id: fields.string("sub_merchant_id"),
                attach: fields.string("attach"),
                unverified_error_code,
                fields,
            })
        })
    }
}

/// A payment notification signed with `config`'s notify key, shaped like the manual's
/// sample (for documentation examples and tests).
#[doc(hidden)]
pub fn signed_example(config: &Config) -> String {
    let mut fields: Vec<(&str, &str)> = vec![
        ("merchant_id", config.merchant_id()),
        ("sub_merchant_id", "1510105551"),
        ("third_order_id", "NL2019032218253138930"),
        ("leshua_order_id", "0003495002500081"),
        ("amount", "1"),
        ("status", "2"),
        ("pay_way", "WXZF"),
        ("pay_time", "2018-12-07 22:42:39"),
        ("sub_openid", ""),
        ("error_code", "0"),
    ];
    let sign = crate::auth::notification_sign(&fields, &config.notify_key);
    fields.push(("sign", &sign));
    crate::wire::write_xml(&fields)
}
