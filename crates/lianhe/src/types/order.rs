//! Orders: `newOrder`, `creatOrder`, `payOrder`, `queryOrder`, `cancelOrder`, `send`.

use serde::{Deserialize, Serialize};
use tixpay_core::Error;

use tixpay_core::Fen;
use tixpay_core::money::yuan_json;

use super::common::{OrderStatus, RefundStatus, Visitors, VoucherType, lenient};
use super::product::{Product, TeamType};

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

fn required(field: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        Err(Error::invalid_request(field, "is required"))
    } else {
        Ok(())
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
    required("orderId", order_id)?;
    required("LHDealId", deal_id)?;
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
        required("visitor.name", &v.name)?;
        required("visitor.mobile", &v.mobile)?;
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
        required("LHOrderId", &self.lh_order_id)?;
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
        required("orderId", &self.order_id)?;
        required("LHOrderId", &self.lh_order_id)
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
        required("orderId", &self.order_id)?;
        required("LHOrderId", &self.lh_order_id)?;
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
        required("orderId", &self.order_id)?;
        required("LHOrderId", &self.lh_order_id)
    }
}

/// The `send` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Voucher {
    /// `voucherType`.
    #[serde(rename = "voucherType", default)]
    pub voucher_type: VoucherType,
    /// `voucher`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub voucher: Option<String>,
}

#[cfg(test)]
mod tests {
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
