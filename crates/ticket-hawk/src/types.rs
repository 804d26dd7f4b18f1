//! Request parameters and reply models of the ticket system (Part A of the reference).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tixpay_core::json::lenient;
use tixpay_core::{Error, Fen};

use tixpay_core::validate;

use crate::wire::DcValue;

/// `RefundParm` (退票参数), for `api/Order/Refund`, `api/Order/RefundTicket` and the
/// WebInterface ticket refund.
///
/// `refundallticket` "1" refunds the whole order and the server ignores `ticketids`; "0"
/// refunds the listed tickets, at least one. Both are enforced before sending.
///
/// ```
/// use tixpay_ticket_hawk::RefundParm;
///
/// let whole = RefundParm::whole_order("20240101000123");
/// let some = RefundParm::tickets("20240101000123", ["T1", "T2"]).memory("customer cancelled");
/// assert!(RefundParm::tickets("20240101000123", Vec::<String>::new()).validate().is_err());
/// assert!(RefundParm::whole_order("123456789012345678901").validate().is_err());
/// # let _ = (whole, some);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundParm {
    /// `orderid`: the ticket system's order number (≤ 20).
    pub order_id: String,
    /// `refundallticket`: `true` sends "1".
    pub refund_all: bool,
    /// `ticketids`: the tickets to refund when not refunding all.
    pub ticket_ids: Vec<String>,
    /// `memory` 备注 (on `api/Order/Refund`; the older `RefundTicket` page has no such
    /// member, so it is sent only when set).
    pub memory: Option<String>,
}

impl RefundParm {
    /// Refund every ticket of the order (`refundallticket` = "1").
    pub fn whole_order(order_id: impl Into<String>) -> Self {
        Self {
            order_id: order_id.into(),
            refund_all: true,
            ticket_ids: Vec::new(),
            memory: None,
        }
    }

    /// Refund these tickets (`refundallticket` = "0").
    pub fn tickets<I, S>(order_id: impl Into<String>, ticket_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            order_id: order_id.into(),
            refund_all: false,
            ticket_ids: ticket_ids.into_iter().map(Into::into).collect(),
            memory: None,
        }
    }

    /// Sets `memory`.
    #[must_use]
    pub fn memory(mut self, memory: impl Into<String>) -> Self {
        self.memory = Some(memory.into());
        self
    }

    /// Checks the documented rules without sending.
    pub fn validate(&self) -> Result<(), Error> {
        validate::required("orderid", &self.order_id, 20)?;
        if !self.refund_all && self.ticket_ids.is_empty() {
            return Err(Error::invalid_request(
                "ticketids",
                "refundallticket is \"0\": give at least one ticket id",
            ));
        }
        if self.ticket_ids.iter().any(|t| t.trim().is_empty()) {
            return Err(Error::invalid_request(
                "ticketids",
                "ticket ids must not be empty",
            ));
        }
        Ok(())
    }

    pub(crate) fn members(&self) -> Vec<(&'static str, DcValue)> {
        let mut m = vec![
            ("orderid", DcValue::Text(self.order_id.clone())),
            (
                "refundallticket",
                DcValue::Text(if self.refund_all { "1" } else { "0" }.into()),
            ),
            (
                "ticketids",
                // "1" makes the server ignore the list; sending none avoids any doubt.
                DcValue::Strings(if self.refund_all {
                    Vec::new()
                } else {
                    self.ticket_ids.clone()
                }),
            ),
        ];
        if let Some(memory) = &self.memory {
            m.push(("memory", DcValue::Text(memory.clone())));
        }
        m
    }
}

/// `ProviderConfigParm`: the callback settings (`api/ProviderConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderConfig {
    /// `replayurl` (sic): where callbacks go (≤ 256).
    pub reply_url: String,
    /// `sendofficiallysnotify`: also notify for orders made on the official site.
    pub send_official_notify: bool,
    /// `replaydatatype`: `JSON` or `XML`.
    pub reply_format: BodyFormat,
    /// `replaymethod`: `POST` or `GET`.
    pub reply_method: CallbackMethod,
}

/// Body format, for requests and for callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BodyFormat {
    /// `application/json` (the default).
    #[default]
    Json,
    /// `application/xml`, DataContract style.
    Xml,
}

/// How callbacks are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackMethod {
    /// `POST`.
    Post,
    /// `GET`.
    Get,
}

impl ProviderConfig {
    /// Callbacks to `reply_url`, as JSON by `POST`, for this platform's orders only.
    ///
    /// ```
    /// use tixpay_ticket_hawk::{BodyFormat, CallbackMethod, ProviderConfig};
    /// let config = ProviderConfig::new("https://example.com/callback")
    ///     .reply_format(BodyFormat::Xml)
    ///     .reply_method(CallbackMethod::Get)
    ///     .send_official_notify(true);
    /// assert_eq!(config.reply_format, BodyFormat::Xml);
    /// ```
    pub fn new(reply_url: impl Into<String>) -> Self {
        Self {
            reply_url: reply_url.into(),
            send_official_notify: false,
            reply_format: BodyFormat::Json,
            reply_method: CallbackMethod::Post,
        }
    }

    /// Sets `sendofficiallysnotify`.
    #[must_use]
    pub fn send_official_notify(mut self, yes: bool) -> Self {
        self.send_official_notify = yes;
        self
    }

    /// Sets `replaydatatype`.
    #[must_use]
    pub fn reply_format(mut self, format: BodyFormat) -> Self {
        self.reply_format = format;
        self
    }

    /// Sets `replaymethod`.
    #[must_use]
    pub fn reply_method(mut self, method: CallbackMethod) -> Self {
        self.reply_method = method;
        self
    }

    pub(crate) fn members(&self) -> Vec<(&'static str, DcValue)> {
        vec![
            ("replayurl", DcValue::Text(self.reply_url.clone())),
            (
                "sendofficiallysnotify",
                DcValue::Text(if self.send_official_notify { "1" } else { "0" }.into()),
            ),
            (
                "replaydatatype",
                DcValue::Text(
                    match self.reply_format {
                        BodyFormat::Json => "JSON",
                        BodyFormat::Xml => "XML",
                    }
                    .into(),
                ),
            ),
            (
                "replaymethod",
                DcValue::Text(
                    match self.reply_method {
                        CallbackMethod::Post => "POST",
                        CallbackMethod::Get => "GET",
                    }
                    .into(),
                ),
            ),
        ]
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("replayurl", &self.reply_url, 256)
    }
}

/// `PayOrderUseVerifyCodeParm`: pay an order from the agent's rebate balance (返款账户余额),
/// confirmed by the SMS code the supplier sent to the agent's phone
/// ([`Client::send_agent_verify_code`](crate::Client::send_agent_verify_code)). No
/// encrypted password is involved.
///
/// ```
/// use tixpay_ticket_hawk::PayWithVerifyCode;
/// let pay = PayWithVerifyCode::new("20240101000123", "428913", "13800138000");
/// assert_eq!(pay.verify_code, "428913");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PayWithVerifyCode {
    /// `orderid` (≤ 20).
    pub order_id: String,
    /// `verifycode` (≤ 6).
    pub verify_code: String,
    /// `mobile` (≤ 11): the phone the code was sent to.
    pub mobile: String,
}

impl PayWithVerifyCode {
    /// Pays `order_id` with the code `verify_code` sent to `mobile`.
    pub fn new(
        order_id: impl Into<String>,
        verify_code: impl Into<String>,
        mobile: impl Into<String>,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            verify_code: verify_code.into(),
            mobile: mobile.into(),
        }
    }

    pub(crate) fn members(&self) -> Vec<(&'static str, DcValue)> {
        vec![
            ("orderid", DcValue::Text(self.order_id.clone())),
            ("verifycode", DcValue::Text(self.verify_code.clone())),
            ("mobile", DcValue::Text(self.mobile.clone())),
        ]
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("orderid", &self.order_id, 20)?;
        validate::required("verifycode", &self.verify_code, 6)?;
        validate::required("mobile", &self.mobile, 11)
    }
}

/// `OrderOperatorResult`: the answer of the pay endpoints. `resultcode` 0 is success (the
/// model says so: "0表示成功,其他值表示错误"); any other value is returned as a refusal
/// ([`Error`](tixpay_core::Error) with the code and `returnmessgage`), never as this type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderOperatorResult {
    /// `orderid`: the ticket system's order id.
    #[serde(rename = "orderid", default, deserialize_with = "lenient::opt_string")]
    pub order_id: Option<String>,
    /// `sendid`: the caller's own order id.
    #[serde(rename = "sendid", default, deserialize_with = "lenient::opt_string")]
    pub send_id: Option<String>,
    /// `orderstatus`, as sent (the order status codes of [`OrderStatus`]).
    #[serde(
        rename = "orderstatus",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub order_status: Option<String>,
    /// `resultcode` (0).
    #[serde(rename = "resultcode", deserialize_with = "lenient::i64")]
    pub result_code: i64,
    /// `returnmessgage` (the provider's spelling).
    #[serde(
        rename = "returnmessgage",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub return_message: Option<String>,
}

/// `PayContent`: start a third-party payment (`api/Order/BeginToPay`, `…/Phone`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PayContent {
    /// `orderid` (≤ 20).
    pub order_id: String,
    /// `paychannelname` (≤ 60), from the deployment's pay-channel list.
    pub pay_channel_name: String,
    /// `openid` for WeChat JSAPI, **already encrypted** as the deployment requires: the
    /// documents name TripleDES without mode, IV or padding, so this crate does not encrypt.
    pub openid: Option<String>,
    /// `clientip`.
    pub client_ip: Option<String>,
}

impl PayContent {
    /// Pays order `order_id` through `pay_channel_name`.
    ///
    /// ```
    /// use tixpay_ticket_hawk::PayContent;
    /// let pay = PayContent::new("O1", "微信支付").client_ip("10.0.0.1");
    /// assert_eq!(pay.client_ip.as_deref(), Some("10.0.0.1"));
    /// ```
    pub fn new(order_id: impl Into<String>, pay_channel_name: impl Into<String>) -> Self {
        Self {
            order_id: order_id.into(),
            pay_channel_name: pay_channel_name.into(),
            openid: None,
            client_ip: None,
        }
    }

    /// Sets `openid`, already encrypted as the deployment requires.
    #[must_use]
    pub fn openid(mut self, openid: impl Into<String>) -> Self {
        self.openid = Some(openid.into());
        self
    }

    /// Sets `clientip`.
    #[must_use]
    pub fn client_ip(mut self, ip: impl Into<String>) -> Self {
        self.client_ip = Some(ip.into());
        self
    }

    pub(crate) fn members(&self) -> Vec<(&'static str, DcValue)> {
        vec![
            ("orderid", DcValue::Text(self.order_id.clone())),
            (
                "paychannelname",
                DcValue::Text(self.pay_channel_name.clone()),
            ),
            (
                "openid",
                self.openid.clone().map_or(DcValue::Nil, DcValue::Text),
            ),
            (
                "clientip",
                self.client_ip.clone().map_or(DcValue::Nil, DcValue::Text),
            ),
        ]
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("orderid", &self.order_id, 20)?;
        validate::required("paychannelname", &self.pay_channel_name, 60)
    }
}

/// How the WebInterface ticket queries find the order: `orderid` or `senderid` (the
/// agent's own order id); one of them is required.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrderLookup {
    /// `orderid`.
    OrderId(String),
    /// `senderid`.
    SenderId(String),
}

/// Which tickets to read with [`Client::query_tickets`](crate::Client::query_tickets) and
/// [`Client::query_ticket`](crate::Client::query_ticket): the agent's `username` and the
/// order, required; `personalid` and `guidernum`, optional.
///
/// ```
/// use tixpay_ticket_hawk::{OrderLookup, TicketQuery};
/// let query = TicketQuery::new("agent01", OrderLookup::OrderId("O1".into())).guider_num("G7");
/// assert_eq!(query.guider_num.as_deref(), Some("G7"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TicketQuery {
    /// `username`: the agent (≤ 20 characters).
    pub username: String,
    /// `orderid` or `senderid`.
    pub lookup: OrderLookup,
    /// `personalid` (sent as 0 when not set).
    pub personal_id: Option<i64>,
    /// `guidernum` (sent empty when not set).
    pub guider_num: Option<String>,
}

impl TicketQuery {
    /// A query for the order `lookup` finds, as agent `username`.
    pub fn new(username: impl Into<String>, lookup: OrderLookup) -> Self {
        Self {
            username: username.into(),
            lookup,
            personal_id: None,
            guider_num: None,
        }
    }

    /// Sets `personalid`.
    #[must_use]
    pub fn personal_id(mut self, personal_id: i64) -> Self {
        self.personal_id = Some(personal_id);
        self
    }

    /// Sets `guidernum`.
    #[must_use]
    pub fn guider_num(mut self, guider_num: impl Into<String>) -> Self {
        self.guider_num = Some(guider_num.into());
        self
    }
}

/// `OperationResult {errcode, errmsg}`. `errcode` 0 means success: the OperationResult page
/// does not say so, but every sibling model documents 0 as success (inferred).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OperationResult {
    /// `errcode`.
    #[serde(deserialize_with = "lenient::i64")]
    pub errcode: i64,
    /// `errmsg`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub errmsg: Option<String>,
}

/// 订单状态 (`OrderDeal.status`), as printed on the deployments' help pages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OrderStatus {
    /// `0` 预定中.
    Booking,
    /// `3` 已交割.
    Settled,
    /// `4` 已关闭.
    Closed,
    /// `5` 第三方付款已支付待核准.
    PaidAwaitingApproval,
    /// `7` 第三方支付退款申请中.
    RefundRequested,
    /// `B` 第三方付款退款办理中.
    RefundInProgress,
    /// `X` 已前台现付取票.
    PaidAtCounter,
    /// `D` 已交割(返款).
    SettledWithRebate,
    /// Another value, kept as sent.
    Unknown(String),
}

impl OrderStatus {
    /// Reads a wire value.
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "0" => Self::Booking,
            "3" => Self::Settled,
            "4" => Self::Closed,
            "5" => Self::PaidAwaitingApproval,
            "7" => Self::RefundRequested,
            "B" => Self::RefundInProgress,
            "X" => Self::PaidAtCounter,
            "D" => Self::SettledWithRebate,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The value on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Booking => "0",
            Self::Settled => "3",
            Self::Closed => "4",
            Self::PaidAwaitingApproval => "5",
            Self::RefundRequested => "7",
            Self::RefundInProgress => "B",
            Self::PaidAtCounter => "X",
            Self::SettledWithRebate => "D",
            Self::Unknown(s) => s,
        }
    }
}

/// 门票状态.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TicketStatus {
    /// `1` 正常.
    Valid,
    /// `2` 已退票.
    Refunded,
    /// `3` 已列印 (取票).
    Printed,
    /// `4` 已过闸.
    Entered,
    /// Another value, kept as sent.
    Unknown(String),
}

impl TicketStatus {
    /// Reads a wire value.
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "1" => Self::Valid,
            "2" => Self::Refunded,
            "3" => Self::Printed,
            "4" => Self::Entered,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The value on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Valid => "1",
            Self::Refunded => "2",
            Self::Printed => "3",
            Self::Entered => "4",
            Self::Unknown(s) => s,
        }
    }
}

tixpay_core::wire_text_serde!(OrderStatus, TicketStatus);

fn text(map: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    match map.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn int(map: &serde_json::Map<String, Value>, name: &str) -> Option<i64> {
    text(map, name)?.trim().parse().ok()
}

/// `Order`: an order's main record. Only the first members are documented; every member
/// sent is kept in [`Order::fields`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Order {
    /// `orderid`, when sent.
    pub order_id: Option<String>,
    /// `senderid`: the agent's order id.
    pub sender_id: Option<String>,
    /// `status`, when sent.
    pub status: Option<OrderStatus>,
    /// `totalcount`.
    pub total_count: Option<i64>,
    /// `summary`: the amount, as sent (a decimal; see [`Order::summary_yuan`]).
    pub summary: Option<String>,
    /// Every member, as sent.
    pub fields: serde_json::Map<String, Value>,
}

/// Reads a decimal amount as yuan, exactly: `"100"`, `"99.9"`, and .NET's `"99.9000"`
/// (zeros past the second decimal carry nothing). Anything else is a decode error naming
/// the field; no float is involved.
fn yuan(field: &str, text: Option<&str>) -> Result<Option<Fen>, Error> {
    let Some(text) = text else { return Ok(None) };
    let trimmed = match text.split_once('.') {
        Some((whole, frac)) if frac.len() > 2 && frac[2..].bytes().all(|b| b == b'0') => {
            &text[..whole.len() + 3]
        }
        _ => text,
    };
    Fen::parse_yuan(trimmed).map(Some).ok_or_else(|| {
        Error::decode(
            None,
            text.as_bytes(),
            Some(field.to_owned()),
            "not an amount in yuan with at most two significant decimals",
        )
    })
}

impl Order {
    /// `summary` read as yuan. The documents call it a decimal and name no unit; yuan is
    /// this crate's reading (what the raw `summary` keeps as sent).
    pub fn summary_yuan(&self) -> Result<Option<Fen>, Error> {
        yuan("summary", self.summary.as_deref())
    }

    pub(crate) fn from_value(value: Value) -> Option<Self> {
        let Value::Object(fields) = value else {
            return None;
        };
        Some(Self {
            order_id: text(&fields, "orderid"),
            sender_id: text(&fields, "senderid"),
            status: text(&fields, "status").map(|s| OrderStatus::parse(&s)),
            total_count: int(&fields, "totalcount"),
            summary: text(&fields, "summary"),
            fields,
        })
    }
}

/// `Ticket`: one ticket. Only the first members are documented; every member sent is
/// kept in [`Ticket::fields`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ticket {
    /// `ticketcode` 门票内部识别号.
    pub ticket_code: Option<String>,
    /// `productid`.
    pub product_id: Option<String>,
    /// `productname`.
    pub product_name: Option<String>,
    /// `personcount`.
    pub person_count: Option<i64>,
    /// `ticketdate` (`YYYYMMDD`).
    pub ticket_date: Option<String>,
    /// `price`, as sent (see [`Ticket::price_yuan`]).
    pub price: Option<String>,
    /// `status`, when sent.
    pub status: Option<TicketStatus>,
    /// Every member, as sent.
    pub fields: serde_json::Map<String, Value>,
}

impl Ticket {
    /// `price` read as yuan (the unit is this crate's reading; the raw `price` keeps what
    /// was sent).
    pub fn price_yuan(&self) -> Result<Option<Fen>, Error> {
        yuan("price", self.price.as_deref())
    }

    pub(crate) fn from_value(value: Value) -> Option<Self> {
        let Value::Object(fields) = value else {
            return None;
        };
        Some(Self {
            ticket_code: text(&fields, "ticketcode"),
            product_id: text(&fields, "productid"),
            product_name: text(&fields, "productname"),
            person_count: int(&fields, "personcount"),
            ticket_date: text(&fields, "ticketdate"),
            price: text(&fields, "price"),
            status: text(&fields, "status").map(|s| TicketStatus::parse(&s)),
            fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_yuan_exactly() {
        let order = |summary: &str| {
            Order::from_value(serde_json::json!({"orderid": "1", "summary": summary})).unwrap()
        };
        assert_eq!(
            order("120.5000").summary_yuan().unwrap(),
            Some(Fen::new(12_050))
        );
        assert_eq!(order("120").summary_yuan().unwrap(), Some(Fen::new(12_000)));
        assert_eq!(order("0.07").summary_yuan().unwrap(), Some(Fen::new(7)));
        for bad in ["120.5001", "-1", "1e3", " 1", "", "1.", "１"] {
            let err = order(bad).summary_yuan().unwrap_err();
            assert!(
                matches!(err.kind(), tixpay_core::ErrorKind::Decode { .. }),
                "{bad}"
            );
        }
        let none = Order::from_value(serde_json::json!({"orderid": "1"})).unwrap();
        assert_eq!(none.summary_yuan().unwrap(), None);
        let ticket =
            Ticket::from_value(serde_json::json!({"price": "35.50", "status": "2"})).unwrap();
        assert_eq!(ticket.price_yuan().unwrap(), Some(Fen::new(3_550)));
        assert_eq!(ticket.status, Some(TicketStatus::Refunded));
        tixpay_core::test_util::assert_stores_as_json(&ticket);
        for status in ["0", "3", "4", "5", "7", "B", "X", "D", "Z"] {
            let parsed = OrderStatus::parse(status);
            assert_eq!(parsed.as_str(), status);
            tixpay_core::test_util::assert_stores_as_json(&parsed);
        }
        for status in ["1", "2", "3", "4", "9"] {
            assert_eq!(TicketStatus::parse(status).as_str(), status);
        }
        tixpay_core::test_util::assert_stores_as_json(&order("120.5000"));
    }

    #[test]
    fn refund_parm_rules() {
        assert!(RefundParm::whole_order("1").validate().is_ok());
        assert!(RefundParm::whole_order("").validate().is_err());
        assert!(RefundParm::tickets("1", ["a"]).validate().is_ok());
        assert!(RefundParm::tickets("1", [""]).validate().is_err());
        let whole = RefundParm {
            ticket_ids: vec!["ignored".into()],
            ..RefundParm::whole_order("1")
        };
        assert_eq!(
            crate::wire::json(&whole.members())["ticketids"],
            serde_json::json!([])
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(OrderStatus::parse("B"), OrderStatus::RefundInProgress);
        assert_eq!(OrderStatus::parse("Z"), OrderStatus::Unknown("Z".into()));
        assert_eq!(TicketStatus::parse("4"), TicketStatus::Entered);
        assert_eq!(TicketStatus::parse("9"), TicketStatus::Unknown("9".into()));
    }
}
