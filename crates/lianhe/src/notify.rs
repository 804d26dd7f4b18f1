//! Inbound notifications: `snNotify` (销码通知, tickets redeemed) and `reNotify` (退款通知,
//! the audit's result), from `(headers, raw body)` to a typed event.
//!
//! Lianhe POSTs JSON to the partner's one notification URL from a poll that runs every 5
//! minutes, and delivers a failed notification again at least 3, 6, 12 … minutes later, ten
//! times, until it reads the plain text `success` ([`ACK`]). The same event therefore
//! arrives more than once: de-duplicate on
//! [`Notification::dedup_key`], and for refunds keep the *largest* cumulative refunded
//! quantity seen ([`RefundResult::refunded_quantity`]), as the V2.2 change log asks.
//!
//! Verifying the `LH` signature is optional for partners (the documents say so). When
//! enabled it is checked over `POST /openapi/index.php?method=notify` and the `Date`
//! header, and the notification's `partnerId` (`*int`, required in both notifications'
//! field tables) must be the configured partner: one for another partner, or with none, is
//! refused like a bad signature. That signature does not cover the body, so a verified
//! notification is still only a claim: confirm it with `queryOrder` before moving money.
//!
//! ```
//! use tixpay_lianhe::notify::{Notification, NotificationParser, ACK};
//!
//! let body = r#"{"code":10000,"describe":"执行成功","partnerId":3528,"method":"snNotify",
//!   "body":{"orderId":"test158585","LHOrderId":"15354","orderStatus":9,"orderQuantity":3,"usedQuantity":1,"sncode":"411258698456"}}"#;
//! // The seed's sample carries no `LH` header; in production use `NotificationParser::new(&config)`.
//! let event = NotificationParser::unverified().parse(&http::HeaderMap::new(), body.as_bytes())?;
//! match &event {
//!     Notification::Redeemed(r) => assert_eq!(r.used_quantity, 1),
//!     _ => unreachable!(),
//! }
//! assert_eq!(event.dedup_key(), "snNotify:15354:1");
//! assert_eq!(ACK, "success");
//! # Ok::<(), tixpay_core::Error>(())
//! ```

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tixpay_core::notify::{Deduplicate, Notifications, text_response};
use tixpay_core::{Clock, Error, SharedClock, SignatureSubject, SystemClock, datetime};

use crate::auth::{NOTIFY_URI, Signer};
use crate::config::Config;
use crate::error::CODE_SUCCESS;
use crate::types::lenient;
use crate::types::{OrderStatus, RefundStatus};

/// The reply Lianhe expects: the plain string `success`.
pub const ACK: &str = "success";

const PROVIDER: &str = "lianhe";
const OPERATION: &str = "notify";

impl Notifications for NotificationParser {
    type Event = Notification;

    async fn parse(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<Notification, Error> {
        NotificationParser::parse(self, headers, body)
    }

    /// `200` with the plain text `success`.
    fn ack(&self) -> http::Response<Bytes> {
        text_response(http::StatusCode::OK, ACK)
    }

    /// `503` with `fail`: anything but `success` makes Lianhe deliver again.
    fn reject(&self) -> http::Response<Bytes> {
        text_response(http::StatusCode::SERVICE_UNAVAILABLE, "fail")
    }
}

impl Deduplicate for Notification {
    fn dedup_key(&self) -> String {
        Notification::dedup_key(self)
    }
}

/// A parsed notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Notification {
    /// `snNotify`: tickets were redeemed at the gate.
    Redeemed(Redemption),
    /// `reNotify`: the audit of a cancellation finished (approved or rejected).
    Refund(RefundResult),
    /// Another `method`, kept raw.
    Unknown {
        /// The `method` (or `mothod`) value.
        method: String,
        /// The whole notification.
        raw: serde_json::Value,
    },
}

impl Notification {
    /// The key to de-duplicate deliveries on: the same event always gives the same key, a
    /// later state of the order a different one.
    pub fn dedup_key(&self) -> String {
        match self {
            Self::Redeemed(r) => format!("snNotify:{}:{}", r.lh_order_id, r.used_quantity),
            Self::Refund(r) => {
                // Without a refund serial, two rejections of one order would look alike; the
                // other body fields (where the serial's unknown name may hide) tell them apart.
                let serial = match &r.refund_id {
                    Some(id) => id.clone(),
                    None => {
                        let extra = serde_json::Value::Object(r.extra.clone()).to_string();
                        let digest = tixpay_core::crypto::sha256(extra.as_bytes());
                        tixpay_core::crypto::hex::encode_lower(digest.get(..8).unwrap_or_default())
                    }
                };
                format!(
                    "reNotify:{}:{serial}:{}:{}:{}",
                    r.lh_order_id,
                    r.code,
                    r.refunded_quantity
                        .map_or_else(|| "-".to_owned(), |q| q.to_string()),
                    r.refund_status
                        .map_or_else(|| "-".to_owned(), |s| s.to_string()),
                )
            }
            Self::Unknown { method, raw } => format!("{method}:{raw}"),
        }
    }
}

/// `snNotify` (销码通知).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Redemption {
    /// `code` (10000).
    pub code: i64,
    /// `describe`.
    pub describe: String,
    /// `partnerId` 合作方id. A parser built with [`NotificationParser::new`] only returns
    /// notifications whose `partnerId` is the configured partner; an
    /// [`unverified`](NotificationParser::unverified) one returns it as sent (`None` when
    /// absent): compare it yourself.
    pub partner_id: Option<i64>,
    /// `orderId`: the partner's order id.
    pub order_id: String,
    /// `LHOrderId`.
    pub lh_order_id: String,
    /// `orderStatus`.
    pub order_status: OrderStatus,
    /// `orderQuantity` 订单总量.
    pub order_quantity: i64,
    /// `usedQuantity` 使用总数量: cumulative, not this redemption's count.
    pub used_quantity: i64,
    /// `sncode`: the redeemed codes (the provider joins several with `,`).
    pub sn_codes: Vec<String>,
}

/// `reNotify` (退款通知): the end of Lianhe's processing of a cancellation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefundResult {
    /// `code`: 10000 when approved, 20000 when rejected ("退款审核已驳回").
    pub code: i64,
    /// `describe`.
    pub describe: String,
    /// `partnerId` 合作方id. A parser built with [`NotificationParser::new`] only returns
    /// notifications whose `partnerId` is the configured partner; an
    /// [`unverified`](NotificationParser::unverified) one returns it as sent (`None` when
    /// absent): compare it yourself.
    pub partner_id: Option<i64>,
    /// `orderId`: the partner's order id.
    pub order_id: String,
    /// `LHOrderId`.
    pub lh_order_id: String,
    /// `orderStatus`.
    pub order_status: OrderStatus,
    /// `quantity`: refunded by this refund (sent on success).
    pub quantity: Option<i64>,
    /// `reQuantity` 总已退款数量: cumulative, this refund included. Keep the largest value
    /// seen: retried deliveries repeat older values.
    pub refunded_quantity: Option<i64>,
    /// `reStatus`.
    pub refund_status: Option<RefundStatus>,
    /// The refund serial. V2.3 added one to `reNotify` but the documents do not show its
    /// name; it is read from `refundId` when present (the name `cancelOrder` uses).
    pub refund_id: Option<String>,
    /// Every other field of `body`.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl RefundResult {
    /// Whether the refund was approved (`code` 10000).
    pub fn is_approved(&self) -> bool {
        self.code == CODE_SUCCESS
    }

    /// The cumulative refunded quantity to store, given the largest one stored so far.
    pub fn merged_refunded_quantity(&self, stored: i64) -> i64 {
        self.refunded_quantity.map_or(stored, |q| q.max(stored))
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(deserialize_with = "lenient::i64")]
    code: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    describe: Option<String>,
    #[serde(rename = "partnerId", default, deserialize_with = "lenient::opt_i64")]
    partner_id: Option<i64>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    mothod: Option<String>,
    #[serde(default)]
    body: serde_json::Value,
}

#[derive(Deserialize)]
struct SnBody {
    #[serde(rename = "orderId", deserialize_with = "lenient::string")]
    order_id: String,
    #[serde(rename = "LHOrderId", deserialize_with = "lenient::string")]
    lh_order_id: String,
    #[serde(rename = "orderStatus")]
    order_status: OrderStatus,
    #[serde(rename = "orderQuantity", deserialize_with = "lenient::i64")]
    order_quantity: i64,
    #[serde(rename = "usedQuantity", deserialize_with = "lenient::i64")]
    used_quantity: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    sncode: Option<String>,
}

#[derive(Deserialize)]
struct ReBody {
    #[serde(rename = "orderId", deserialize_with = "lenient::string")]
    order_id: String,
    #[serde(rename = "LHOrderId", deserialize_with = "lenient::string")]
    lh_order_id: String,
    #[serde(rename = "orderStatus")]
    order_status: OrderStatus,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    quantity: Option<i64>,
    #[serde(rename = "reQuantity", default, deserialize_with = "lenient::opt_i64")]
    re_quantity: Option<i64>,
    #[serde(rename = "reStatus", default)]
    re_status: Option<RefundStatus>,
    #[serde(rename = "refundId", default, deserialize_with = "lenient::opt_string")]
    refund_id: Option<String>,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

/// A notification that fails verification: a signature error about the notification.
fn fail(reason: String) -> Error {
    Error::signature(SignatureSubject::Notification, reason)
        .with_provider(PROVIDER)
        .with_operation(OPERATION)
}

/// Parses (and optionally verifies) notifications.
#[derive(Debug, Clone)]
pub struct NotificationParser {
    signer: Option<Signer>,
    /// The `partnerId` a verified notification must carry.
    partner_id: Option<i64>,
    clock: SharedClock,
    max_date_skew: Option<Duration>,
}

impl NotificationParser {
    /// A parser that does **not** check signatures. The documents make the `LH` signature
    /// optional for partners; use this only when Lianhe sends none to you, and confirm
    /// every event with `queryOrder`.
    pub fn unverified() -> Self {
        Self {
            signer: None,
            partner_id: None,
            clock: Arc::new(SystemClock),
            max_date_skew: None,
        }
    }

    /// A parser that requires a valid `LH` signature made with `config`'s credentials, and
    /// the notification's `partnerId` to be `config`'s partner id. Either failing is an
    /// [`ErrorKind::Signature`](tixpay_core::ErrorKind::Signature) error about the
    /// notification: nothing is parsed into an event.
    ///
    /// ```
    /// use tixpay_lianhe::{Config, Secret, notify::NotificationParser};
    ///
    /// let parser = NotificationParser::new(&Config::new(3528, "myapi", Secret::new("s")));
    /// let err = parser.parse(&http::HeaderMap::new(), b"{}").unwrap_err();
    /// assert!(err.to_string().contains("signature"));
    /// ```
    pub fn new(config: &Config) -> Self {
        Self {
            signer: Some(Signer::new(config.api_name.clone(), &config.client_secret)),
            partner_id: Some(config.partner_id),
            clock: Arc::clone(&config.clock),
            max_date_skew: None,
        }
    }

    /// Also refuse a signed notification whose `Date` is further than `skew` from the clock.
    /// Off by default: the documents state no window, and retried deliveries may carry the
    /// first attempt's date.
    #[must_use]
    pub fn max_date_skew(mut self, skew: Duration) -> Self {
        self.max_date_skew = Some(skew);
        self
    }

    /// Replaces the clock used by [`NotificationParser::max_date_skew`].
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    fn verify(&self, signer: &Signer, headers: &http::HeaderMap) -> Result<(), Error> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| fail(format!("missing {name} header")))
        };
        let authorization = header("authorization")?;
        let date = header("date")?;
        signer
            .verify(authorization, "POST", NOTIFY_URI, date)
            .map_err(fail)?;
        if let Some(skew) = self.max_date_skew {
            let sent = datetime::parse_http_date(date)
                .ok_or_else(|| fail(format!("Date `{date}` is not an RFC 1123 date")))?;
            let drift = self.clock.now_seconds().saturating_sub(sent).unsigned_abs();
            if drift > skew.as_secs() {
                return Err(fail(format!("Date is {drift} s away from now")));
            }
        }
        Ok(())
    }

    /// With verification on: the envelope's `partnerId` must be the configured partner. A
    /// notification for another partner (misrouted, or sent to an endpoint that several
    /// partner accounts share) or with none is refused. This is no defence against a forged
    /// body, which can carry any `partnerId`: the signature does not cover the body.
    fn check_partner(&self, envelope: &Envelope) -> Result<(), Error> {
        match (self.partner_id, envelope.partner_id) {
            (None, _) => Ok(()),
            (Some(expected), Some(found)) if found == expected => Ok(()),
            (Some(expected), Some(found)) => Err(fail(format!(
                "the notification is for partnerId {found}, not {expected}"
            ))),
            (Some(_), None) => Err(fail(
                "the notification carries no partnerId, so it cannot be shown to be for this partner"
                    .to_owned(),
            )),
        }
    }

    /// Verifies (when enabled) and parses one delivery.
    pub fn parse(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<Notification, Error> {
        if let Some(signer) = &self.signer {
            self.verify(signer, headers)?;
        }
        let context = |e: Error| e.with_provider(PROVIDER).with_operation(OPERATION);
        let envelope: Envelope = tixpay_core::json::decode(None, body).map_err(context)?;
        self.check_partner(&envelope)?;
        let method = envelope
            .method
            .clone()
            .or_else(|| envelope.mothod.clone())
            .unwrap_or_default();
        let describe = envelope.describe.clone().unwrap_or_default();
        match method.as_str() {
            "snNotify" => {
                let b: SnBody = tixpay_core::json::decode_value(envelope.body.clone(), None, body)
                    .map_err(context)?;
                Ok(Notification::Redeemed(Redemption {
                    code: envelope.code,
                    describe,
                    partner_id: envelope.partner_id,
                    order_id: b.order_id,
                    lh_order_id: b.lh_order_id,
                    order_status: b.order_status,
                    order_quantity: b.order_quantity,
                    used_quantity: b.used_quantity,
                    sn_codes: b
                        .sncode
                        .unwrap_or_default()
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                }))
            }
            "reNotify" => {
                let b: ReBody = tixpay_core::json::decode_value(envelope.body.clone(), None, body)
                    .map_err(context)?;
                Ok(Notification::Refund(RefundResult {
                    code: envelope.code,
                    describe,
                    partner_id: envelope.partner_id,
                    order_id: b.order_id,
                    lh_order_id: b.lh_order_id,
                    order_status: b.order_status,
                    quantity: b.quantity,
                    refunded_quantity: b.re_quantity,
                    refund_status: b.re_status,
                    refund_id: b.refund_id,
                    extra: b.extra,
                }))
            }
            _ => {
                let raw = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
                Ok(Notification::Unknown { method, raw })
            }
        }
    }
}
