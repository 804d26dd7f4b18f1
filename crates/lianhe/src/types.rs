//! Public request and response types: statuses, vouchers and visitors shared by several
//! methods; orders (`newOrder`, `creatOrder`, `payOrder`, `queryOrder`, `cancelOrder`,
//! `send`); and `getTeam` (拉取产品) with the product it returns. Fen is
//! [`tixpay_core::Fen`], written as yuan by [`tixpay_core::money::yuan_json`].

use std::fmt;

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use tixpay_core::money::yuan_json;
use tixpay_core::validate;
use tixpay_core::{Error, Fen};

pub(crate) use tixpay_core::json::lenient;

/// 订单状态 `orderStatus`, kept as the provider's number.
///
/// The table that defines these numbers (开发必读 › 订单返回状态说明) is not in any public
/// copy of the documents, so no meanings are invented here. Values seen in the documents'
/// examples: 0 (queryOrder "未找到订单"), 2 (creatOrder success), 3 (creatOrder error and both
/// newOrder examples), 4 (payOrder success), 5 (payOrder error), 6 (cancelOrder success,
/// reNotify success), 7 (cancelOrder error, reNotify "退款审核已驳回"), 8 (queryOrder, part
/// used), 9 (snNotify, redeemed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderStatus(#[serde(deserialize_with = "lenient::i64")] pub i64);

/// 退款状态 `reStatus`, kept as the provider's number.
///
/// Its table (开发必读 › 退款状态详细说明) is not public either. Values seen: 2 (cancelOrder
/// refusal example), 4 (reNotify "退款审核已驳回").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RefundStatus(#[serde(deserialize_with = "lenient::i64")] pub i64);

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// 凭证类型 `voucherType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum VoucherType {
    /// 0: 短信验证码, a code sent by SMS (the default).
    #[default]
    SmsCode,
    /// 1: 二维码, a QR code.
    QrCode,
    /// A value the documents do not list.
    Unknown(i64),
}

impl VoucherType {
    /// The number on the wire.
    pub fn code(self) -> i64 {
        match self {
            Self::SmsCode => 0,
            Self::QrCode => 1,
            Self::Unknown(n) => n,
        }
    }
}

impl From<i64> for VoucherType {
    fn from(n: i64) -> Self {
        match n {
            0 => Self::SmsCode,
            1 => Self::QrCode,
            n => Self::Unknown(n),
        }
    }
}

impl Serialize for VoucherType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for VoucherType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::i64(d).map(Self::from)
    }
}

/// 游玩人 `visitor`: one person using the tickets.
///
/// ```
/// use tixpay_lianhe::Visitor;
/// let v = Visitor::new("张三", "13800000000").credentials("110101199001011234");
/// assert_eq!(serde_json::to_value(&v).unwrap()["mobile"], "13800000000");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Visitor {
    /// `name` 用户姓名 (required).
    pub name: String,
    /// `mobile` 使用者手机号 (required).
    pub mobile: String,
    /// `address`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `credentials` 证件号码.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// `credentialstype` 证件类型 (V2.11). Its type and values are not documented, so it is
    /// sent exactly as given.
    #[serde(rename = "credentialstype", skip_serializing_if = "Option::is_none")]
    pub credentials_type: Option<serde_json::Value>,
    /// `zipcode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zipcode: Option<String>,
    /// `email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Visitor {
    /// A visitor with the two required fields.
    pub fn new(name: impl Into<String>, mobile: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            mobile: mobile.into(),
            ..Self::default()
        }
    }

    /// Sets `credentials` (证件号码).
    #[must_use]
    pub fn credentials(mut self, number: impl Into<String>) -> Self {
        self.credentials = Some(number.into());
        self
    }

    /// Sets `credentialstype`, sent as given (the documents do not say its values).
    #[must_use]
    pub fn credentials_type(mut self, value: impl Into<serde_json::Value>) -> Self {
        self.credentials_type = Some(value.into());
        self
    }

    /// Sets `address`.
    #[must_use]
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    /// Sets `zipcode`.
    #[must_use]
    pub fn zipcode(mut self, zipcode: impl Into<String>) -> Self {
        self.zipcode = Some(zipcode.into());
        self
    }

    /// Sets `email`.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }
}

/// The `visitor` field: the documents send one JSON object in some places (payOrder's
/// demo, the Java test) and a JSON array "for tickets that need every visitor" in others.
/// Both are sent exactly as chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Visitors {
    /// One object: `"visitor": {…}`.
    One(Visitor),
    /// An array: `"visitor": [{…}, …]`.
    Many(Vec<Visitor>),
}

impl Visitors {
    /// The visitors, however they are sent.
    pub fn as_slice(&self) -> &[Visitor] {
        match self {
            Self::One(v) => std::slice::from_ref(v),
            Self::Many(v) => v,
        }
    }
}

impl From<Visitor> for Visitors {
    fn from(v: Visitor) -> Self {
        Self::One(v)
    }
}

impl From<Vec<Visitor>> for Visitors {
    fn from(v: Vec<Visitor>) -> Self {
        Self::Many(v)
    }
}

/// Who sends the voucher SMS (`smsfrom`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SmsSender {
    /// 0: Lianhe sends it (the server's default).
    #[default]
    Lianhe,
    /// 1: the partner sends it.
    Partner,
}

impl Serialize for SmsSender {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(match self {
            Self::Lianhe => 0,
            Self::Partner => 1,
        })
    }
}

/// A price must be above zero and within what Lianhe's double-based parser reads exactly.
fn check_price(price: Fen) -> Result<(), Error> {
    if price.is_zero() {
        return Err(Error::invalid_request("sellPrice", "must be above zero"));
    }
    if price > yuan_json::MAX {
        return Err(Error::invalid_request(
            "sellPrice",
            format!(
                "{} yuan is more than a JSON number carries exactly (at most {})",
                price.to_yuan_string(),
                yuan_json::MAX.to_yuan_string()
            ),
        ));
    }
    Ok(())
}

fn check_order_fields(
    order_id: &str,
    deal_id: &str,
    sell_price: Fen,
    quantity: u32,
    travel_date: Option<&str>,
    team_type: Option<&TeamType>,
    visitor: &Visitors,
) -> Result<(), Error> {
    validate::not_blank("orderId", order_id)?;
    validate::not_blank("LHDealId", deal_id)?;
    check_price(sell_price)?;
    if quantity == 0 {
        return Err(Error::invalid_request("quantity", "must be at least 1"));
    }
    match travel_date {
        Some(date) if tixpay_core::datetime::parse_ymd(date).is_none() => {
            return Err(Error::invalid_request(
                "travelDate",
                format!("`{date}` is not a date in yyyy-MM-dd form"),
            ));
        }
        None if team_type == Some(&TeamType::Subscribe) => {
            return Err(Error::invalid_request(
                "travelDate",
                "subscribe products need a travel date (error 10004 otherwise)",
            ));
        }
        _ => {}
    }
    let visitors = visitor.as_slice();
    if visitors.is_empty() {
        return Err(Error::invalid_request(
            "visitor",
            "give at least one visitor",
        ));
    }
    for v in visitors {
        validate::not_blank("visitor.name", &v.name)?;
        validate::not_blank("visitor.mobile", &v.mobile)?;
    }
    Ok(())
}

macro_rules! order_setters {
    () => {
        /// Sets `travelDate` (`yyyy-MM-dd`), required for `subscribe` products.
        #[must_use]
        pub fn travel_date(mut self, date: impl Into<String>) -> Self {
            self.travel_date = Some(date.into());
            self
        }

        /// Remembers the product, so that its rules (a travel date for `subscribe`
        /// products) are checked before sending.
        #[must_use]
        pub fn for_product(mut self, product: &Product) -> Self {
            self.team_type = Some(product.team_type.clone());
            self
        }
    };
}

/// `newOrder` (【推荐】新订单): create and pay in one call.
///
/// ```
/// use tixpay_lianhe::{Fen, NewOrder, Visitor};
///
/// let order = NewOrder::new("T20240101001", "852", Fen::new(10_000), 3, Visitor::new("张三", "13800000000"))
///     .pay_id("PAY-7781")
///     .travel_date("2024-05-01");
/// let json = serde_json::to_value(&order).unwrap();
/// assert_eq!(json["sellPrice"], 100.0);
/// assert_eq!(json["visitor"]["name"], "张三");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NewOrder {
    /// `orderId`: the partner's unique order id.
    #[serde(rename = "orderId")]
    pub order_id: String,
    /// `payId`: the partner's payment serial (bank transaction number).
    #[serde(rename = "payId", skip_serializing_if = "Option::is_none")]
    pub pay_id: Option<String>,
    /// `LHDealId`: the product.
    #[serde(rename = "LHDealId")]
    pub deal_id: String,
    /// `sellPrice`: unit price in yuan.
    #[serde(rename = "sellPrice", with = "yuan_json")]
    pub sell_price: Fen,
    /// `quantity`.
    pub quantity: u32,
    /// `travelDate` (`yyyy-MM-dd`).
    #[serde(rename = "travelDate", skip_serializing_if = "Option::is_none")]
    pub travel_date: Option<String>,
    /// `smsfrom`.
    #[serde(rename = "smsfrom", skip_serializing_if = "Option::is_none")]
    pub sms_from: Option<SmsSender>,
    /// `visitor`: one object or an array, as given.
    pub visitor: Visitors,
    #[serde(skip)]
    team_type: Option<TeamType>,
}

impl NewOrder {
    /// An order with the required fields.
    pub fn new(
        order_id: impl Into<String>,
        deal_id: impl Into<String>,
        sell_price: Fen,
        quantity: u32,
        visitor: impl Into<Visitors>,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            pay_id: None,
            deal_id: deal_id.into(),
            sell_price,
            quantity,
            travel_date: None,
            sms_from: None,
            visitor: visitor.into(),
            team_type: None,
        }
    }

    /// Sets `payId`.
    #[must_use]
    pub fn pay_id(mut self, pay_id: impl Into<String>) -> Self {
        self.pay_id = Some(pay_id.into());
        self
    }

    /// Sets `smsfrom`.
    #[must_use]
    pub fn sms_from(mut self, sender: SmsSender) -> Self {
        self.sms_from = Some(sender);
        self
    }

    order_setters!();

    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_order_fields(
            &self.order_id,
            &self.deal_id,
            self.sell_price,
            self.quantity,
            self.travel_date.as_deref(),
            self.team_type.as_ref(),
            &self.visitor,
        )
    }
}

/// `creatOrder` (生成订单; the provider's spelling): create an order to pay later with
/// [`PayOrder`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CreateOrder {
    /// `orderId`: the partner's unique order id.
    #[serde(rename = "orderId")]
    pub order_id: String,
    /// `LHDealId`: the product.
    #[serde(rename = "LHDealId")]
    pub deal_id: String,
    /// `sellPrice`: unit price in yuan.
    #[serde(rename = "sellPrice", with = "yuan_json")]
    pub sell_price: Fen,
    /// `quantity`.
    pub quantity: u32,
    /// `travelDate` (`yyyy-MM-dd`).
    #[serde(rename = "travelDate", skip_serializing_if = "Option::is_none")]
    pub travel_date: Option<String>,
    /// `visitor`.
    pub visitor: Visitors,
    #[serde(skip)]
    team_type: Option<TeamType>,
}

impl CreateOrder {
    /// An order with the required fields.
    pub fn new(
        order_id: impl Into<String>,
        deal_id: impl Into<String>,
        sell_price: Fen,
        quantity: u32,
        visitor: impl Into<Visitors>,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            deal_id: deal_id.into(),
            sell_price,
            quantity,
            travel_date: None,
            visitor: visitor.into(),
            team_type: None,
        }
    }

    order_setters!();

    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_order_fields(
            &self.order_id,
            &self.deal_id,
            self.sell_price,
            self.quantity,
            self.travel_date.as_deref(),
            self.team_type.as_ref(),
            &self.visitor,
        )
    }
}

/// `payOrder` (支付订单): pay an order made with [`CreateOrder`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PayOrder {
    /// `orderId`.
    #[serde(rename = "orderId")]
    pub order_id: String,
    /// `LHOrderId`: Lianhe's order id from `creatOrder`.
    #[serde(rename = "LHOrderId")]
    pub lh_order_id: String,
    /// `payId`.
    #[serde(rename = "payId", skip_serializing_if = "Option::is_none")]
    pub pay_id: Option<String>,
    /// `LHDealId`.
    #[serde(rename = "LHDealId")]
    pub deal_id: String,
    /// `sellPrice`.
    #[serde(rename = "sellPrice", with = "yuan_json")]
    pub sell_price: Fen,
    /// `quantity`.
    pub quantity: u32,
    /// `travelDate`.
    #[serde(rename = "travelDate", skip_serializing_if = "Option::is_none")]
    pub travel_date: Option<String>,
    /// `smsfrom`.
    #[serde(rename = "smsfrom", skip_serializing_if = "Option::is_none")]
    pub sms_from: Option<SmsSender>,
    /// `visitor` (the documents' demo sends one object).
    pub visitor: Visitors,
    #[serde(skip)]
    team_type: Option<TeamType>,
}

impl PayOrder {
    /// Pays what `creatOrder` created: the same product, price, quantity and visitors.
    pub fn new(created: &CreateOrder, lh_order_id: impl Into<String>) -> Self {
        Self {
            order_id: created.order_id.clone(),
            lh_order_id: lh_order_id.into(),
            pay_id: None,
            deal_id: created.deal_id.clone(),
            sell_price: created.sell_price,
            quantity: created.quantity,
            travel_date: created.travel_date.clone(),
            sms_from: None,
            visitor: created.visitor.clone(),
            team_type: created.team_type.clone(),
        }
    }

    /// Sets `payId`.
    #[must_use]
    pub fn pay_id(mut self, pay_id: impl Into<String>) -> Self {
        self.pay_id = Some(pay_id.into());
        self
    }

    /// Sets `smsfrom`.
    #[must_use]
    pub fn sms_from(mut self, sender: SmsSender) -> Self {
        self.sms_from = Some(sender);
        self
    }

    order_setters!();

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::not_blank("LHOrderId", &self.lh_order_id)?;
        check_order_fields(
            &self.order_id,
            &self.deal_id,
            self.sell_price,
            self.quantity,
            self.travel_date.as_deref(),
            self.team_type.as_ref(),
            &self.visitor,
        )
    }
}

/// The reply of `newOrder`, `creatOrder` and `payOrder`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderReceipt {
    /// `partnerId` from the reply's envelope (合作方ID). The client accepts only replies
    /// that echo the configured partner, so in a reply it returns this is the configured
    /// partner id.
    #[serde(
        rename = "partnerId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub partner_id: Option<i64>,
    /// `LHOrderId`: Lianhe's order id (keep it as a string, as the documents advise).
    /// `payOrder` may leave it out on failure.
    #[serde(
        rename = "LHOrderId",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub lh_order_id: Option<String>,
    /// `orderStatus`.
    #[serde(rename = "orderStatus")]
    pub order_status: OrderStatus,
    /// `voucherType`.
    #[serde(rename = "voucherType", default)]
    pub voucher_type: VoucherType,
    /// `voucher` 凭证码 (empty until paid).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub voucher: Option<String>,
    /// Every other field the server sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `queryOrder` (查询订单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct QueryOrder {
    /// `orderId`.
    #[serde(rename = "orderId")]
    pub order_id: String,
    /// `LHOrderId`.
    #[serde(rename = "LHOrderId")]
    pub lh_order_id: String,
    /// `LHDealId` (optional).
    #[serde(rename = "LHDealId", skip_serializing_if = "Option::is_none")]
    pub deal_id: Option<String>,
}

impl QueryOrder {
    /// Queries one order by both ids (both are required by the provider).
    pub fn new(order_id: impl Into<String>, lh_order_id: impl Into<String>) -> Self {
        Self {
            order_id: order_id.into(),
            lh_order_id: lh_order_id.into(),
            deal_id: None,
        }
    }

    /// Sets `LHDealId`.
    #[must_use]
    pub fn deal_id(mut self, deal_id: impl Into<String>) -> Self {
        self.deal_id = Some(deal_id.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::not_blank("orderId", &self.order_id)?;
        validate::not_blank("LHOrderId", &self.lh_order_id)
    }
}

/// The `queryOrder` reply.
///
/// Note the names: the provider calls the used count `useQuantity` here (and
/// `usedQuantity` in `snNotify`), and `reQuantity` here is the quantity *already refunded*,
/// while in the `cancelOrder` reply the same name means *still refundable*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderInfo {
    /// `partnerId` from the reply's envelope (合作方ID). The client accepts only replies
    /// that echo the configured partner, so in a reply it returns this is the configured
    /// partner id.
    #[serde(
        rename = "partnerId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub partner_id: Option<i64>,
    /// `orderId`.
    #[serde(rename = "orderId", default, deserialize_with = "lenient::opt_string")]
    pub order_id: Option<String>,
    /// `LHOrderId`.
    #[serde(
        rename = "LHOrderId",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub lh_order_id: Option<String>,
    /// `orderStatus`.
    #[serde(rename = "orderStatus")]
    pub order_status: OrderStatus,
    /// `orderQuantity`: tickets in the order after refunds (订单数量, 扣除退款数之后).
    #[serde(
        rename = "orderQuantity",
        default,
        deserialize_with = "lenient::opt_i64"
    )]
    pub order_quantity: Option<i64>,
    /// `useQuantity` 已消费数量: tickets used.
    #[serde(rename = "useQuantity", default, deserialize_with = "lenient::opt_i64")]
    pub used_quantity: Option<i64>,
    /// `reQuantity` 已退款数量: tickets already refunded.
    #[serde(rename = "reQuantity", default, deserialize_with = "lenient::opt_i64")]
    pub refunded_quantity: Option<i64>,
    /// `reStatus` 退款状态.
    #[serde(rename = "reStatus", default)]
    pub refund_status: Option<RefundStatus>,
    /// Every other field the server sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `cancelOrder` (取消订单): ask for a refund of `quantity` tickets. Every cancellation is
/// audited by hand at Lianhe; the result arrives as a `reNotify`.
///
/// ```
/// use tixpay_lianhe::CancelOrder;
///
/// let cancel = CancelOrder::new("T20240101001", "15354", 2).refund_id("RF-1");
/// assert_eq!(
///     serde_json::to_string(&cancel).unwrap(),
///     r#"{"orderId":"T20240101001","LHOrderId":"15354","refundId":"RF-1","quantity":2}"#
/// );
/// // A whole-order-only product refuses a partial refund before anything is sent.
/// assert!(CancelOrder::new("T1", "1", 2).full_refund_only(3).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CancelOrder {
    /// `orderId`.
    #[serde(rename = "orderId")]
    pub order_id: String,
    /// `LHOrderId`.
    #[serde(rename = "LHOrderId")]
    pub lh_order_id: String,
    /// `refundId` 退款流水号; without it Lianhe uses the order id.
    #[serde(rename = "refundId", skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// `quantity`: how many tickets to refund.
    pub quantity: u32,
    /// `sellPrice`: in the documents' demo but not in their field list; sent only if set.
    #[serde(
        rename = "sellPrice",
        with = "yuan_json::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub sell_price: Option<Fen>,
    #[serde(skip)]
    whole_order_quantity: Option<u32>,
}

impl CancelOrder {
    /// A refund request for `quantity` tickets.
    pub fn new(order_id: impl Into<String>, lh_order_id: impl Into<String>, quantity: u32) -> Self {
        Self {
            order_id: order_id.into(),
            lh_order_id: lh_order_id.into(),
            refund_id: None,
            quantity,
            sell_price: None,
            whole_order_quantity: None,
        }
    }

    /// Sets `refundId`.
    #[must_use]
    pub fn refund_id(mut self, refund_id: impl Into<String>) -> Self {
        self.refund_id = Some(refund_id.into());
        self
    }

    /// Sets `sellPrice` (as the documents' demo does).
    #[must_use]
    pub fn sell_price(mut self, price: Fen) -> Self {
        self.sell_price = Some(price);
        self
    }

    /// The product allows whole-order refunds only (`fullRefund` = 1) and the order holds
    /// `order_quantity` tickets: any other quantity is refused before sending.
    #[must_use]
    pub fn full_refund_only(mut self, order_quantity: u32) -> Self {
        self.whole_order_quantity = Some(order_quantity);
        self
    }

    /// Applies the product's rule when the product is known.
    #[must_use]
    pub fn for_product(self, product: &Product, order_quantity: u32) -> Self {
        if product.is_full_refund_only() {
            self.full_refund_only(order_quantity)
        } else {
            self
        }
    }

    /// The key Lianhe records the refund under: `refundId`, or the order id without one.
    pub fn refund_key(&self) -> &str {
        self.refund_id.as_deref().unwrap_or(&self.order_id)
    }

    /// Checks the request against the documented rules without sending it.
    pub fn validate(&self) -> Result<(), Error> {
        validate::not_blank("orderId", &self.order_id)?;
        validate::not_blank("LHOrderId", &self.lh_order_id)?;
        if self
            .refund_id
            .as_deref()
            .is_some_and(|r| r.trim().is_empty())
        {
            return Err(Error::invalid_request(
                "refundId",
                "must not be empty when given",
            ));
        }
        if self.quantity == 0 {
            return Err(Error::invalid_request("quantity", "must be at least 1"));
        }
        if let Some(price) = self.sell_price {
            check_price(price)?;
        }
        if let Some(whole) = self.whole_order_quantity.filter(|w| *w != self.quantity) {
            return Err(Error::invalid_request(
                "quantity",
                format!(
                    "this product is refunded whole only (fullRefund=1): refund all {whole} tickets, not {}",
                    self.quantity
                ),
            ));
        }
        Ok(())
    }
}

/// What `cancelOrder` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum CancelOutcome {
    /// `code` 10000: the request was accepted for Lianhe's manual audit. The refund is not
    /// done yet: wait for `reNotify` or poll `queryOrder`.
    Accepted(CancelAccepted),
    /// The refund was refused by the validity check, with what to do about it.
    Refused(CancelRefused),
}

/// An accepted cancellation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CancelAccepted {
    /// `partnerId` from the reply's envelope (合作方ID). The client accepts only replies
    /// that echo the configured partner, so in a reply it returns this is the configured
    /// partner id.
    #[serde(
        rename = "partnerId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub partner_id: Option<i64>,
    /// `LHOrderId`.
    #[serde(
        rename = "LHOrderId",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub lh_order_id: Option<String>,
    /// `orderStatus`.
    #[serde(rename = "orderStatus")]
    pub order_status: OrderStatus,
    /// `reQuantity` in this reply means 可退款数量, *refundable* quantity.
    #[serde(rename = "reQuantity", default, deserialize_with = "lenient::opt_i64")]
    pub refundable_quantity: Option<i64>,
    /// Every other field the server sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A refused cancellation: Lianhe's own state of the order, so the partner can correct the
/// request (ask for at most `refundable_quantity`) or stop (already refunded, used up).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CancelRefused {
    /// The reply `code` (20000 in the documents).
    pub code: i64,
    /// `describe`.
    pub describe: String,
    /// `partnerId` from the reply's envelope (合作方ID): the configured partner id (a
    /// refusal for another partner is an error, never a `CancelRefused`).
    pub partner_id: Option<i64>,
    /// `LHOrderId`.
    pub lh_order_id: Option<String>,
    /// `orderStatus`.
    pub order_status: Option<OrderStatus>,
    /// `reQuantity`: the quantity that *can* still be refunded.
    pub refundable_quantity: Option<i64>,
    /// `reStatus`: Lianhe's refund status.
    pub refund_status: Option<RefundStatus>,
    /// The raw reply body.
    pub body: bytes::Bytes,
}

/// `send` (重发短信凭证): send the voucher SMS again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ResendVoucher {
    /// `orderId`.
    #[serde(rename = "orderId")]
    pub order_id: String,
    /// `LHOrderId`.
    #[serde(rename = "LHOrderId")]
    pub lh_order_id: String,
}

impl ResendVoucher {
    /// Resend the voucher of this order.
    pub fn new(order_id: impl Into<String>, lh_order_id: impl Into<String>) -> Self {
        Self {
            order_id: order_id.into(),
            lh_order_id: lh_order_id.into(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::not_blank("orderId", &self.order_id)?;
        validate::not_blank("LHOrderId", &self.lh_order_id)
    }
}

/// The `send` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Voucher {
    /// `partnerId` from the reply's envelope (合作方ID). The client accepts only replies
    /// that echo the configured partner, so in a reply it returns this is the configured
    /// partner id.
    #[serde(
        rename = "partnerId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub partner_id: Option<i64>,
    /// `voucherType`.
    #[serde(rename = "voucherType", default)]
    pub voucher_type: VoucherType,
    /// `voucher`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub voucher: Option<String>,
}

/// 产品类型 `teamType`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TeamType {
    /// `normal` (the default).
    #[default]
    Normal,
    /// `subscribe`: a booked product; orders must give `travelDate`.
    Subscribe,
    /// A value the documents do not list, kept as sent.
    Unknown(String),
}

impl TeamType {
    /// The value on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Normal => "normal",
            Self::Subscribe => "subscribe",
            Self::Unknown(s) => s,
        }
    }
}

impl From<&str> for TeamType {
    fn from(s: &str) -> Self {
        match s {
            "normal" | "" => Self::Normal,
            "subscribe" => Self::Subscribe,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl Serialize for TeamType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TeamType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        Ok(s.as_deref().map(Self::from).unwrap_or_default())
    }
}

/// A product (团购/门票) as `getTeam` returns it.
///
/// Fields after `canRefund` are cut off in every public copy of the documents; the ones the
/// change log names are typed where their shape is clear and kept as raw JSON where it is
/// not. Anything else the server sends is kept in [`Product::extra`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Product {
    /// `partnerId`.
    #[serde(
        rename = "partnerId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub partner_id: Option<i64>,
    /// `LHSupplierId` 供应商ID.
    #[serde(
        rename = "LHSupplierId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub supplier_id: Option<String>,
    /// `LHDealId` 产品ID: what orders refer to.
    #[serde(rename = "LHDealId", deserialize_with = "lenient::string")]
    pub deal_id: String,
    /// `teamType` 产品类型 (V2.1).
    #[serde(rename = "teamType", default)]
    pub team_type: TeamType,
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `pics`: picture URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pics: Vec<String>,
    /// `startTime`, as sent. Whether it is the 验票开始时间 of the V2.1 change log is not
    /// confirmed.
    #[serde(
        rename = "startTime",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub start_time: Option<String>,
    /// `endTime`, as sent (possibly 验票结束时间, unconfirmed).
    #[serde(
        rename = "endTime",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub end_time: Option<String>,
    /// `beginTime` 产品有效期开始时间, `yyyy-MM-dd HH:mm:ss` (V2.1).
    #[serde(
        rename = "beginTime",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub begin_time: Option<String>,
    /// `expireTime` 产品有效期结束时间, `yyyy-MM-dd HH:mm:ss` (V2.1).
    #[serde(
        rename = "expireTime",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub expire_time: Option<String>,
    /// `marketPrice` 市场价 (元).
    #[serde(
        rename = "marketPrice",
        with = "yuan_json::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub market_price: Option<Fen>,
    /// `sellPrice` 售价 (元): what orders must send as `sellPrice`.
    #[serde(
        rename = "sellPrice",
        with = "yuan_json::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sell_price: Option<Fen>,
    /// `buyPrice` 结算价 (元).
    #[serde(
        rename = "buyPrice",
        with = "yuan_json::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub buy_price: Option<Fen>,
    /// `stock` 库存.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub stock: Option<i64>,
    /// `allowday`, as sent; undocumented (perhaps days of advance booking).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub allowday: Option<i64>,
    /// `aftertime`, as sent; undocumented (perhaps a same-day cut-off).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub aftertime: Option<i64>,
    /// `canRefund`, as sent; undocumented (perhaps 1 = refundable).
    #[serde(
        rename = "canRefund",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub can_refund: Option<i64>,
    /// `fullRefund` 是否仅支持整单退款 (V2.2): 1 means whole-order refunds only.
    #[serde(
        rename = "fullRefund",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub full_refund: Option<i64>,
    /// `servicePhone` 服务电话设置 (V2.1), structure undocumented: raw JSON.
    #[serde(
        rename = "servicePhone",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub service_phone: Option<serde_json::Value>,
    /// `refundRule` 退款规则 (V2.1), structure undocumented: raw JSON.
    #[serde(
        rename = "refundRule",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub refund_rule: Option<serde_json::Value>,
    /// `purchaseNote` 图文说明, structure undocumented: raw JSON (absent with `simples`).
    #[serde(
        rename = "purchaseNote",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub purchase_note: Option<serde_json::Value>,
    /// Every other field the server sent, unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Product {
    /// Whether orders must give `travelDate` (`teamType` = `subscribe`).
    pub fn requires_travel_date(&self) -> bool {
        self.team_type == TeamType::Subscribe
    }

    /// Whether only whole-order refunds are allowed (`fullRefund` = 1).
    pub fn is_full_refund_only(&self) -> bool {
        self.full_refund == Some(1)
    }
}

/// Where products come from (`system`, V2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProductSource {
    /// `false`: the system's own products (the server's default).
    Own,
    /// A named system's products.
    System(String),
}

impl Serialize for ProductSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Own => s.serialize_bool(false),
            Self::System(name) => s.serialize_str(name),
        }
    }
}

/// The `getTeam` request: a page of products, or products by id.
///
/// ```
/// use tixpay_lianhe::GetTeam;
///
/// let page = GetTeam::page(0, 20).simple(true);
/// assert_eq!(
///     serde_json::to_string(&page).unwrap(),
///     r#"{"method":"page","currentPage":0,"pageSize":20,"simples":1}"#
/// );
/// let some = GetTeam::by_ids(["852", "853"]);
/// assert_eq!(serde_json::to_string(&some).unwrap(), r#"{"method":"multi","LHDealIds":["852","853"]}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetTeam {
    method: &'static str,
    #[serde(rename = "currentPage", skip_serializing_if = "Option::is_none")]
    current_page: Option<u32>,
    #[serde(rename = "pageSize", skip_serializing_if = "Option::is_none")]
    page_size: Option<u32>,
    #[serde(rename = "LHDealIds", skip_serializing_if = "Option::is_none")]
    deal_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    simples: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<ProductSource>,
}

impl GetTeam {
    /// `method=page`: page `current_page` (the documents' demo starts at 0) of `page_size`.
    pub fn page(current_page: u32, page_size: u32) -> Self {
        Self {
            method: "page",
            current_page: Some(current_page),
            page_size: Some(page_size),
            deal_ids: None,
            simples: None,
            system: None,
        }
    }

    /// `method=multi`: the products with these `LHDealId`s.
    pub fn by_ids<I, S>(ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            method: "multi",
            current_page: None,
            page_size: None,
            deal_ids: Some(ids.into_iter().map(Into::into).collect()),
            simples: None,
            system: None,
        }
    }

    /// `simples`: leave out `purchaseNote` (V2.1).
    #[must_use]
    pub fn simple(mut self, on: bool) -> Self {
        self.simples = Some(u8::from(on));
        self
    }

    /// `system`: which system's products (V2.2).
    #[must_use]
    pub fn source(mut self, source: ProductSource) -> Self {
        self.system = Some(source);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), tixpay_core::Error> {
        if self.page_size == Some(0) {
            return Err(tixpay_core::Error::invalid_request(
                "pageSize",
                "must be at least 1",
            ));
        }
        match &self.deal_ids {
            Some(ids) if ids.is_empty() => Err(tixpay_core::Error::invalid_request(
                "LHDealIds",
                "give at least one product id",
            )),
            Some(ids) if ids.iter().any(|id| id.trim().is_empty()) => Err(
                tixpay_core::Error::invalid_request("LHDealIds", "product ids must not be empty"),
            ),
            _ => Ok(()),
        }
    }
}

/// A `getTeam` reply: the products and, for pages, `totalSize`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProductPage {
    /// `totalSize`, when the server sends it.
    pub total_size: Option<i64>,
    /// `partnerId` from the reply's envelope (合作方ID): the configured partner id, which the
    /// client requires every reply to echo.
    pub partner_id: Option<i64>,
    /// The products.
    pub products: Vec<Product>,
}

#[cfg(test)]
mod common_tests {
    use super::*;

    #[test]
    fn visitors_keep_their_shape() {
        let one = Visitors::from(Visitor::new("a", "1"));
        assert_eq!(
            serde_json::to_string(&one).unwrap(),
            r#"{"name":"a","mobile":"1"}"#
        );
        let many = Visitors::from(vec![Visitor::new("a", "1"), Visitor::new("b", "2")]);
        assert!(serde_json::to_string(&many).unwrap().starts_with('['));
        assert_eq!(many.as_slice().len(), 2);
    }

    #[test]
    fn lenient_numbers() {
        let s: OrderStatus = serde_json::from_str("\"7\"").unwrap();
        assert_eq!(s, OrderStatus(7));
        let s: OrderStatus = serde_json::from_str("7").unwrap();
        assert_eq!(s, OrderStatus(7));
        assert!(serde_json::from_str::<OrderStatus>("\"seven\"").is_err());
        assert!(serde_json::from_str::<OrderStatus>("7.5").is_err());
        let v: VoucherType = serde_json::from_str("1").unwrap();
        assert_eq!(v, VoucherType::QrCode);
        let v: VoucherType = serde_json::from_str("9").unwrap();
        assert_eq!(v, VoucherType::Unknown(9));
    }
}

#[cfg(test)]
mod order_tests {
    use super::*;
    use crate::Visitor;

    fn order() -> NewOrder {
        NewOrder::new("T1", "852", Fen::new(1000), 1, Visitor::new("a", "1"))
    }

    #[test]
    fn order_validation() {
        assert!(order().validate().is_ok());
        let mut o = order();
        o.quantity = 0;
        assert!(o.validate().is_err());
        let mut o = order();
        o.sell_price = Fen::new(0);
        assert!(o.validate().is_err());
        assert!(order().travel_date("2024-02-30").validate().is_err());
        assert!(order().travel_date("2024-2-3").validate().is_err());
        assert!(order().travel_date("2024-02-29").validate().is_ok());
        let subscribe = Product {
            deal_id: "852".into(),
            team_type: TeamType::Subscribe,
            ..Product::default()
        };
        assert!(order().for_product(&subscribe).validate().is_err());
        assert!(
            order()
                .for_product(&subscribe)
                .travel_date("2024-05-01")
                .validate()
                .is_ok()
        );
        let mut o = order();
        o.visitor = Visitors::Many(vec![]);
        assert!(o.validate().is_err());
        let mut o = order();
        o.visitor = Visitor::new("", "1").into();
        assert!(o.validate().is_err());
        let mut o = order();
        o.order_id = " ".into();
        assert!(o.validate().is_err());
    }

    #[test]
    fn cancel_rules() {
        assert!(CancelOrder::new("T", "L", 1).validate().is_ok());
        assert!(CancelOrder::new("T", "L", 0).validate().is_err());
        assert!(CancelOrder::new("", "L", 1).validate().is_err());
        assert!(
            CancelOrder::new("T", "L", 3)
                .full_refund_only(3)
                .validate()
                .is_ok()
        );
        let whole = Product {
            deal_id: "1".into(),
            full_refund: Some(1),
            ..Product::default()
        };
        assert!(
            CancelOrder::new("T", "L", 1)
                .for_product(&whole, 3)
                .validate()
                .is_err()
        );
        let partial = Product {
            deal_id: "1".into(),
            ..Product::default()
        };
        assert!(
            CancelOrder::new("T", "L", 1)
                .for_product(&partial, 3)
                .validate()
                .is_ok()
        );
        assert_eq!(CancelOrder::new("T", "L", 1).refund_key(), "T");
        assert_eq!(
            CancelOrder::new("T", "L", 1).refund_id("R").refund_key(),
            "R"
        );
    }
}

#[cfg(test)]
mod product_tests {
    use super::*;

    #[test]
    fn product_keeps_unknown_fields_and_tolerates_strings() {
        let json = r#"{"partnerId":"3528","LHSupplierId":12,"LHDealId":852,"teamType":"subscribe","name":"门票",
            "marketPrice":1.5,"sellPrice":"1","buyPrice":0.5,"stock":"990","allowday":0,"aftertime":0,
            "canRefund":1,"fullRefund":1,"refundRule":{"minutes":30},"brandNew":"kept"}"#;
        let p: Product = serde_json::from_str(json).unwrap();
        assert_eq!(p.deal_id, "852");
        assert_eq!(p.partner_id, Some(3528));
        assert_eq!(p.supplier_id.as_deref(), Some("12"));
        assert!(p.requires_travel_date());
        assert!(p.is_full_refund_only());
        assert_eq!(p.sell_price, Some(Fen::new(100)));
        assert_eq!(p.stock, Some(990));
        assert_eq!(p.extra["brandNew"], "kept");
        assert_eq!(p.refund_rule.unwrap()["minutes"], 30);
    }

    #[test]
    fn unknown_team_type_is_kept() {
        let p: Product = serde_json::from_str(r#"{"LHDealId":"1","teamType":"season"}"#).unwrap();
        assert_eq!(p.team_type, TeamType::Unknown("season".into()));
        let p: Product = serde_json::from_str(r#"{"LHDealId":"1","teamType":null}"#).unwrap();
        assert_eq!(p.team_type, TeamType::Normal);
    }

    #[test]
    fn get_team_validation() {
        assert!(GetTeam::page(0, 0).validate().is_err());
        assert!(GetTeam::by_ids(Vec::<String>::new()).validate().is_err());
        assert!(GetTeam::by_ids([" "]).validate().is_err());
        assert!(
            GetTeam::page(1, 20)
                .source(ProductSource::Own)
                .validate()
                .is_ok()
        );
        assert_eq!(
            serde_json::to_string(&GetTeam::page(1, 2).source(ProductSource::Own)).unwrap(),
            r#"{"method":"page","currentPage":1,"pageSize":2,"system":false}"#
        );
    }
}
