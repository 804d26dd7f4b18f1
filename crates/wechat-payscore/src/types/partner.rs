//! Partner (服务商) mode: the request bodies and replies of `/v3/payscore/partner/…`
//! (spec part 2 §3).
//!
//! The service provider signs every call (its `mchid` is the `Authorization` mchid) and
//! names the sub-merchant in each request (`sub_mchid`, required everywhere). The provider's
//! `appid` is not part of these types: [`PartnerClient`](crate::PartnerClient) holds it and
//! adds it to the bodies and queries whose schema has it. The order actions' schemas have no
//! `appid` at all (cancel, modify, complete, pay, sync, the messages).

use serde::{Deserialize, Serialize};
use tixpay_core::validate;
use tixpay_core::{Error, Fen};

use super::{
    Device, Location, PostDiscount, PostPayment, RiskFund, TimeRange, check_amount,
    check_discounts, check_notify_url, check_payments, check_total,
};

/// The longest `sub_mchid`, `sub_appid`, `service_id`.
const ID_MAX: usize = 32;
/// The longest `openid` / `sub_openid`.
const OPENID_MAX: usize = 128;

fn check_sub_mchid(sub_mchid: &str) -> Result<(), Error> {
    validate::required("sub_mchid", sub_mchid, ID_MAX)
}

fn check_sub_ids(
    sub_appid: Option<&str>,
    openid: Option<&str>,
    sub_openid: Option<&str>,
) -> Result<(), Error> {
    validate::optional("sub_appid", sub_appid, ID_MAX)?;
    validate::optional("openid", openid, OPENID_MAX)?;
    validate::optional("sub_openid", sub_openid, OPENID_MAX)
}

/// Partner create (`POST /v3/payscore/partner/serviceorder`): as direct create, plus the
/// sub-merchant (`sub_mchid`, required; `sub_appid` and the user's `sub_openid`,
/// optional). The provider's `appid` is added by the client.
///
/// ```
/// use tixpay_wechat_payscore::{Fen, PartnerCreateServiceOrder, PostPayment, RiskFund, RiskFundName, TimePoint, TimeRange};
///
/// let order = PartnerCreateServiceOrder::new(
///     "RENT-1001", "1900000109", "500001", "景区电瓶车租借",
///     TimeRange::starting(TimePoint::OnAccept),
///     RiskFund::new(RiskFundName::Deposit, Fen::new(20_000)),
///     "https://reseller.example/payscore/notify",
/// )
/// .sub_appid("wxd678efh567hg6999")
/// .sub_openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
/// .post_payment(PostPayment::new("租车费", Fen::new(3_000)));
/// assert!(serde_json::to_string(&order).unwrap().contains(r#""sub_mchid":"1900000109","sub_appid":"wxd678efh567hg6999""#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartnerCreateServiceOrder {
    /// `out_order_no` (1 to 32 characters).
    pub out_order_no: String,
    /// `service_id`.
    pub service_id: String,
    /// `sub_mchid`: the sub-merchant.
    pub sub_mchid: String,
    /// `sub_appid`: the sub-merchant's app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// `service_introduction` (≤ 20 characters).
    pub service_introduction: String,
    /// `post_payments`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_payments: Vec<PostPayment>,
    /// `post_discounts` (create's schema has no `amount`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_discounts: Vec<PostDiscount>,
    /// `risk_fund`.
    pub risk_fund: RiskFund,
    /// `time_range` (`start_time` required).
    pub time_range: TimeRange,
    /// `location`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// `openid`: the user under the provider's `appid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// `sub_openid`: the user under `sub_appid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
    /// `need_user_confirm`. Its default is disputed, so it is always sent.
    pub need_user_confirm: bool,
    /// `notify_url`: https, no query string.
    pub notify_url: String,
    /// `attach` (≤ 256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// `device`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
}

impl PartnerCreateServiceOrder {
    /// An order of sub-merchant `sub_mchid` with the required fields; `need_user_confirm`
    /// starts `true` (需确认模式).
    pub fn new(
        out_order_no: impl Into<String>,
        sub_mchid: impl Into<String>,
        service_id: impl Into<String>,
        service_introduction: impl Into<String>,
        time_range: TimeRange,
        risk_fund: RiskFund,
        notify_url: impl Into<String>,
    ) -> Self {
        Self {
            out_order_no: out_order_no.into(),
            service_id: service_id.into(),
            sub_mchid: sub_mchid.into(),
            sub_appid: None,
            service_introduction: service_introduction.into(),
            post_payments: Vec::new(),
            post_discounts: Vec::new(),
            risk_fund,
            time_range,
            location: None,
            openid: None,
            sub_openid: None,
            need_user_confirm: true,
            notify_url: notify_url.into(),
            attach: None,
            device: None,
        }
    }

    /// Sets `sub_appid`.
    #[must_use]
    pub fn sub_appid(mut self, sub_appid: impl Into<String>) -> Self {
        self.sub_appid = Some(sub_appid.into());
        self
    }

    /// Adds a post payment.
    #[must_use]
    pub fn post_payment(mut self, p: PostPayment) -> Self {
        self.post_payments.push(p);
        self
    }

    /// Adds a discount ([`PostDiscount::for_create`]: name and description, no amount).
    #[must_use]
    pub fn post_discount(mut self, d: PostDiscount) -> Self {
        self.post_discounts.push(d);
        self
    }

    /// Sets `location`.
    #[must_use]
    pub fn location(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Sets `openid` (the user under the provider's `appid`).
    #[must_use]
    pub fn openid(mut self, openid: impl Into<String>) -> Self {
        self.openid = Some(openid.into());
        self
    }

    /// Sets `sub_openid` (the user under `sub_appid`).
    #[must_use]
    pub fn sub_openid(mut self, sub_openid: impl Into<String>) -> Self {
        self.sub_openid = Some(sub_openid.into());
        self
    }

    /// Sets `need_user_confirm`.
    #[must_use]
    pub fn need_user_confirm(mut self, on: bool) -> Self {
        self.need_user_confirm = on;
        self
    }

    /// Sets `attach`.
    #[must_use]
    pub fn attach(mut self, attach: impl Into<String>) -> Self {
        self.attach = Some(attach.into());
        self
    }

    /// Sets `device`.
    #[must_use]
    pub fn device(mut self, device: Device) -> Self {
        self.device = Some(device);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("out_order_no", &self.out_order_no, 32)?;
        validate::required("service_id", &self.service_id, ID_MAX)?;
        check_sub_mchid(&self.sub_mchid)?;
        check_sub_ids(
            self.sub_appid.as_deref(),
            self.openid.as_deref(),
            self.sub_openid.as_deref(),
        )?;
        validate::required("service_introduction", &self.service_introduction, 20)?;
        if self.time_range.start_time.is_none() {
            return Err(Error::invalid_request(
                "time_range.start_time",
                "is required",
            ));
        }
        self.time_range.validate()?;
        check_payments(&self.post_payments, false)?;
        check_discounts(&self.post_discounts, false)?;
        for d in &self.post_discounts {
            if d.description.as_deref().is_none_or(|s| s.trim().is_empty()) {
                return Err(Error::invalid_request(
                    "post_discounts.description",
                    "is required on create",
                ));
            }
            if d.amount.is_some() {
                return Err(Error::invalid_request(
                    "post_discounts.amount",
                    "create takes no discount amount; give it on complete",
                ));
            }
        }
        validate::optional(
            "risk_fund.description",
            self.risk_fund.description.as_deref(),
            30,
        )?;
        if self.risk_fund.amount.is_zero() {
            return Err(Error::invalid_request(
                "risk_fund.amount",
                "must be above zero (at most the service's risk cap)",
            ));
        }
        check_amount("risk_fund.amount", self.risk_fund.amount)?;
        validate::optional("attach", self.attach.as_deref(), 256)?;
        check_notify_url(&self.notify_url)
    }
}

/// Partner cancel (`POST …/partner/serviceorder/{out_order_no}/cancel`, 204): no `appid`.
/// `service_id` is sent always (required in one source, optional in another).
///
/// ```
/// use tixpay_wechat_payscore::PartnerCancelServiceOrder;
///
/// let cancel = PartnerCancelServiceOrder::new("1900000109", "500001", "用户投诉");
/// assert_eq!(
///     serde_json::to_string(&cancel).unwrap(),
///     r#"{"service_id":"500001","sub_mchid":"1900000109","reason":"用户投诉"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartnerCancelServiceOrder {
    /// `service_id`.
    pub service_id: String,
    /// `sub_mchid`.
    pub sub_mchid: String,
    /// `reason` (≤ 50 characters).
    pub reason: String,
}

impl PartnerCancelServiceOrder {
    /// Cancels sub-merchant `sub_mchid`'s order for `reason`.
    pub fn new(
        sub_mchid: impl Into<String>,
        service_id: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            service_id: service_id.into(),
            sub_mchid: sub_mchid.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("service_id", &self.service_id, ID_MAX)?;
        check_sub_mchid(&self.sub_mchid)?;
        validate::required("reason", &self.reason, 50)
    }
}

/// Partner modify (`POST …/partner/serviceorder/{out_order_no}/modify`, 204): lower the
/// amount of a completed, unpaid order. No `appid`.
///
/// ```
/// use tixpay_wechat_payscore::{Fen, PartnerModifyServiceOrder, PostPayment};
///
/// let modify = PartnerModifyServiceOrder::new("1900000109", "500001", Fen::new(2_000), "用户投诉")
///     .post_payment(PostPayment::new("租车费", Fen::new(2_000)));
/// assert_eq!(
///     serde_json::to_string(&modify).unwrap(),
///     r#"{"service_id":"500001","sub_mchid":"1900000109","post_payments":[{"name":"租车费","amount":2000}],"total_amount":2000,"reason":"用户投诉"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartnerModifyServiceOrder {
    /// `service_id`.
    pub service_id: String,
    /// `sub_mchid`.
    pub sub_mchid: String,
    /// `post_payments` (amounts required).
    pub post_payments: Vec<PostPayment>,
    /// `post_discounts`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_discounts: Vec<PostDiscount>,
    /// `total_amount` = Σ payments − Σ discounts.
    pub total_amount: Fen,
    /// `reason` (≤ 50 characters).
    pub reason: String,
    /// `device`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
}

impl PartnerModifyServiceOrder {
    /// Lowers the order to `total_amount` fen for `reason`; add at least one payment.
    pub fn new(
        sub_mchid: impl Into<String>,
        service_id: impl Into<String>,
        total_amount: Fen,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            service_id: service_id.into(),
            sub_mchid: sub_mchid.into(),
            post_payments: Vec::new(),
            post_discounts: Vec::new(),
            total_amount,
            reason: reason.into(),
            device: None,
        }
    }

    /// Adds a post payment (amount required).
    #[must_use]
    pub fn post_payment(mut self, p: PostPayment) -> Self {
        self.post_payments.push(p);
        self
    }

    /// Adds a discount (amount required).
    #[must_use]
    pub fn post_discount(mut self, d: PostDiscount) -> Self {
        self.post_discounts.push(d);
        self
    }

    /// Sets `device`.
    #[must_use]
    pub fn device(mut self, device: Device) -> Self {
        self.device = Some(device);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("service_id", &self.service_id, ID_MAX)?;
        check_sub_mchid(&self.sub_mchid)?;
        validate::required("reason", &self.reason, 50)?;
        if self.post_payments.is_empty() {
            return Err(Error::invalid_request("post_payments", "is required"));
        }
        check_payments(&self.post_payments, true)?;
        check_discounts(&self.post_discounts, true)?;
        check_total(&self.post_payments, &self.post_discounts, self.total_amount)
    }
}

/// Partner complete (`POST …/partner/serviceorder/{out_order_no}/complete`, 204): as
/// direct complete without `appid`, with `sub_mchid` and the optional `complete_time`
/// (RFC 3339).
///
/// ```
/// use tixpay_wechat_payscore::{Fen, PartnerCompleteServiceOrder, PostDiscount, PostPayment};
///
/// let complete = PartnerCompleteServiceOrder::new("1900000109", "500001", Fen::new(2_500))
///     .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
///     .post_discount(PostDiscount::new("会员优惠", Fen::new(500)).description("会员折扣"))
///     .complete_time("2019-11-11T16:24:05+08:00");
/// assert!(serde_json::to_string(&complete).unwrap().ends_with(r#""complete_time":"2019-11-11T16:24:05+08:00"}"#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartnerCompleteServiceOrder {
    /// `service_id`.
    pub service_id: String,
    /// `sub_mchid`.
    pub sub_mchid: String,
    /// `post_payments` (amounts required).
    pub post_payments: Vec<PostPayment>,
    /// `post_discounts` (`name`, `description` and `amount` required).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_discounts: Vec<PostDiscount>,
    /// `total_amount` = Σ payments − Σ discounts.
    pub total_amount: Fen,
    /// `time_range`: the actual service time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_range: Option<TimeRange>,
    /// `location`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// `profit_sharing`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profit_sharing: Option<bool>,
    /// `goods_tag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_tag: Option<String>,
    /// `device`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    /// `complete_time` (RFC 3339, e.g. `2019-11-11T16:24:05+08:00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete_time: Option<String>,
}

impl PartnerCompleteServiceOrder {
    /// Completes with a total of `total_amount` fen (add the payments and discounts).
    pub fn new(
        sub_mchid: impl Into<String>,
        service_id: impl Into<String>,
        total_amount: Fen,
    ) -> Self {
        Self {
            service_id: service_id.into(),
            sub_mchid: sub_mchid.into(),
            post_payments: Vec::new(),
            post_discounts: Vec::new(),
            total_amount,
            time_range: None,
            location: None,
            profit_sharing: None,
            goods_tag: None,
            device: None,
            complete_time: None,
        }
    }

    /// Adds a post payment.
    #[must_use]
    pub fn post_payment(mut self, p: PostPayment) -> Self {
        self.post_payments.push(p);
        self
    }

    /// Adds a discount.
    #[must_use]
    pub fn post_discount(mut self, d: PostDiscount) -> Self {
        self.post_discounts.push(d);
        self
    }

    /// Sets the actual `time_range`.
    #[must_use]
    pub fn time_range(mut self, range: TimeRange) -> Self {
        self.time_range = Some(range);
        self
    }

    /// Sets `location`.
    #[must_use]
    pub fn location(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Sets `profit_sharing`.
    #[must_use]
    pub fn profit_sharing(mut self, on: bool) -> Self {
        self.profit_sharing = Some(on);
        self
    }

    /// Sets `goods_tag`.
    #[must_use]
    pub fn goods_tag(mut self, goods_tag: impl Into<String>) -> Self {
        self.goods_tag = Some(goods_tag.into());
        self
    }

    /// Sets `device`.
    #[must_use]
    pub fn device(mut self, device: Device) -> Self {
        self.device = Some(device);
        self
    }

    /// Sets `complete_time` (RFC 3339).
    #[must_use]
    pub fn complete_time(mut self, time: impl Into<String>) -> Self {
        self.complete_time = Some(time.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("service_id", &self.service_id, ID_MAX)?;
        check_sub_mchid(&self.sub_mchid)?;
        if self.post_payments.is_empty() {
            return Err(Error::invalid_request("post_payments", "is required"));
        }
        check_payments(&self.post_payments, true)?;
        check_discounts(&self.post_discounts, true)?;
        if let Some(range) = &self.time_range {
            range.validate()?;
        }
        if let Some(time) = &self.complete_time
            && tixpay_core::datetime::parse_rfc3339(time).is_none()
        {
            return Err(Error::invalid_request(
                "complete_time",
                "must be RFC 3339 (2019-11-11T16:24:05+08:00)",
            ));
        }
        check_total(&self.post_payments, &self.post_discounts, self.total_amount)
    }
}

/// The body of partner pay (`POST …/partner/serviceorder/{out_order_no}/pay`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PartnerServiceRef<'a> {
    pub(crate) service_id: &'a str,
    pub(crate) sub_mchid: &'a str,
}

/// Partner sync (`POST …/partner/serviceorder/{out_order_no}/sync`, 204): the user paid
/// by another channel. No `appid`.
///
/// ```
/// use tixpay_wechat_payscore::{Fen, PartnerSyncDetail, PartnerSyncServiceOrder};
///
/// let sync = PartnerSyncServiceOrder::order_paid("1900000109", "500001", "20091225091210");
/// assert_eq!(
///     serde_json::to_string(&sync).unwrap(),
///     r#"{"service_id":"500001","sub_mchid":"1900000109","type":"Order_Paid","detail":{"paid_time":"20091225091210"}}"#
/// );
/// let detail = PartnerSyncDetail::new("20091225091210").seq(1).paid_amount(Fen::new(100));
/// assert_eq!(serde_json::to_string(&detail).unwrap(), r#"{"seq":1,"paid_time":"20091225091210","paid_amount":100}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartnerSyncServiceOrder {
    /// `service_id`.
    pub service_id: String,
    /// `sub_mchid`.
    pub sub_mchid: String,
    /// `type`: the only documented value is `Order_Paid`.
    #[serde(rename = "type")]
    pub sync_type: String,
    /// `detail`.
    pub detail: PartnerSyncDetail,
}

/// The `detail` of a partner sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartnerSyncDetail {
    /// `seq`: which collection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u32>,
    /// `paid_time` (`yyyyMMddHHmmss`).
    pub paid_time: String,
    /// `paid_amount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_amount: Option<Fen>,
}

impl PartnerSyncDetail {
    /// Paid at `paid_time` (`yyyyMMddHHmmss`, required).
    pub fn new(paid_time: impl Into<String>) -> Self {
        Self {
            seq: None,
            paid_time: paid_time.into(),
            paid_amount: None,
        }
    }

    /// Sets `seq`.
    #[must_use]
    pub fn seq(mut self, seq: u32) -> Self {
        self.seq = Some(seq);
        self
    }

    /// Sets `paid_amount`.
    #[must_use]
    pub fn paid_amount(mut self, amount: Fen) -> Self {
        self.paid_amount = Some(amount);
        self
    }
}

impl PartnerSyncServiceOrder {
    /// A sync of type `sync_type` (all four are required).
    pub fn new(
        sub_mchid: impl Into<String>,
        service_id: impl Into<String>,
        sync_type: impl Into<String>,
        detail: PartnerSyncDetail,
    ) -> Self {
        Self {
            service_id: service_id.into(),
            sub_mchid: sub_mchid.into(),
            sync_type: sync_type.into(),
            detail,
        }
    }

    /// `Order_Paid` at `paid_time` (`yyyyMMddHHmmss`).
    pub fn order_paid(
        sub_mchid: impl Into<String>,
        service_id: impl Into<String>,
        paid_time: impl Into<String>,
    ) -> Self {
        Self::new(
            sub_mchid,
            service_id,
            "Order_Paid",
            PartnerSyncDetail::new(paid_time),
        )
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("service_id", &self.service_id, ID_MAX)?;
        check_sub_mchid(&self.sub_mchid)?;
        validate::required("type", &self.sync_type, 32)?;
        if self.detail.paid_time.len() != 14
            || super::TimePoint::parse(&self.detail.paid_time).is_err()
        {
            return Err(Error::invalid_request(
                "detail.paid_time",
                "must be yyyyMMddHHmmss",
            ));
        }
        if let Some(amount) = self.detail.paid_amount {
            check_amount("detail.paid_amount", amount)?;
        }
        Ok(())
    }
}

/// Partner direct-complete (`POST /v3/payscore/partner/serviceorder/direct-complete`,
/// 204): create and complete at once (免确认模式). The provider's `appid` is added by the
/// client. One source marks `sub_appid` required and `sub_mchid` optional, which looks
/// inverted: `sub_mchid` is required here, as in every other partner call, and
/// `sub_appid` is optional.
///
/// ```
/// use tixpay_wechat_payscore::{Fen, PartnerDirectComplete, PostPayment, TimePoint, TimeRange};
///
/// let dc = PartnerDirectComplete::new(
///     "D1", "1900000109", "500001", "租借",
///     TimeRange::starting(TimePoint::parse("20240101").unwrap()),
///     Fen::new(100), "https://reseller.example/notify",
/// )
/// .sub_appid("wxd678efh567hg6999")
/// .post_payment(PostPayment::new("租借", Fen::new(100)));
/// assert_eq!(
///     serde_json::to_string(&dc).unwrap(),
///     r#"{"out_order_no":"D1","service_id":"500001","sub_mchid":"1900000109","sub_appid":"wxd678efh567hg6999","service_introduction":"租借","post_payments":[{"name":"租借","amount":100}],"total_amount":100,"time_range":{"start_time":"20240101"},"notify_url":"https://reseller.example/notify"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartnerDirectComplete {
    /// `out_order_no`.
    pub out_order_no: String,
    /// `service_id`.
    pub service_id: String,
    /// `sub_mchid`.
    pub sub_mchid: String,
    /// `sub_appid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// `service_introduction` (≤ 20 characters).
    pub service_introduction: String,
    /// `post_payments`.
    pub post_payments: Vec<PostPayment>,
    /// `post_discounts`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_discounts: Vec<PostDiscount>,
    /// `total_amount`.
    pub total_amount: Fen,
    /// `time_range`.
    pub time_range: TimeRange,
    /// `location`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// `profit_sharing`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profit_sharing: Option<bool>,
    /// `goods_tag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_tag: Option<String>,
    /// `attach`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// `notify_url`.
    pub notify_url: String,
    /// `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
}

impl PartnerDirectComplete {
    /// Creates and completes order `out_order_no` of sub-merchant `sub_mchid` for a total
    /// of `total_amount` fen (add the payments).
    pub fn new(
        out_order_no: impl Into<String>,
        sub_mchid: impl Into<String>,
        service_id: impl Into<String>,
        service_introduction: impl Into<String>,
        time_range: TimeRange,
        total_amount: Fen,
        notify_url: impl Into<String>,
    ) -> Self {
        Self {
            out_order_no: out_order_no.into(),
            service_id: service_id.into(),
            sub_mchid: sub_mchid.into(),
            sub_appid: None,
            service_introduction: service_introduction.into(),
            post_payments: Vec::new(),
            post_discounts: Vec::new(),
            total_amount,
            time_range,
            location: None,
            profit_sharing: None,
            goods_tag: None,
            attach: None,
            notify_url: notify_url.into(),
            openid: None,
        }
    }

    /// Sets `sub_appid`.
    #[must_use]
    pub fn sub_appid(mut self, sub_appid: impl Into<String>) -> Self {
        self.sub_appid = Some(sub_appid.into());
        self
    }

    /// Adds a post payment (amount required).
    #[must_use]
    pub fn post_payment(mut self, p: PostPayment) -> Self {
        self.post_payments.push(p);
        self
    }

    /// Adds a discount (amount required).
    #[must_use]
    pub fn post_discount(mut self, d: PostDiscount) -> Self {
        self.post_discounts.push(d);
        self
    }

    /// Sets `location`.
    #[must_use]
    pub fn location(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Sets `profit_sharing`.
    #[must_use]
    pub fn profit_sharing(mut self, on: bool) -> Self {
        self.profit_sharing = Some(on);
        self
    }

    /// Sets `goods_tag`.
    #[must_use]
    pub fn goods_tag(mut self, goods_tag: impl Into<String>) -> Self {
        self.goods_tag = Some(goods_tag.into());
        self
    }

    /// Sets `attach`.
    #[must_use]
    pub fn attach(mut self, attach: impl Into<String>) -> Self {
        self.attach = Some(attach.into());
        self
    }

    /// Sets `openid`.
    #[must_use]
    pub fn openid(mut self, openid: impl Into<String>) -> Self {
        self.openid = Some(openid.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("out_order_no", &self.out_order_no, 32)?;
        validate::required("service_id", &self.service_id, ID_MAX)?;
        check_sub_mchid(&self.sub_mchid)?;
        check_sub_ids(self.sub_appid.as_deref(), self.openid.as_deref(), None)?;
        validate::required("service_introduction", &self.service_introduction, 20)?;
        self.time_range.validate()?;
        check_payments(&self.post_payments, true)?;
        check_discounts(&self.post_discounts, true)?;
        validate::optional("attach", self.attach.as_deref(), 256)?;
        check_notify_url(&self.notify_url)?;
        check_total(&self.post_payments, &self.post_discounts, self.total_amount)
    }
}

/// Partner `send-pendingmessage` / `send-prepaidmessage` body (204).
///
/// ```
/// use tixpay_wechat_payscore::{Fen, PartnerPaymentMessage, PostPayment};
///
/// let message = PartnerPaymentMessage::new("1900000109", "500001", Fen::new(40_000), "20231218")
///     .post_payment(PostPayment::new("就餐费用", Fen::new(40_000)));
/// assert_eq!(
///     serde_json::to_string(&message).unwrap(),
///     r#"{"service_id":"500001","sub_mchid":"1900000109","post_payments":[{"name":"就餐费用","amount":40000}],"total_amount":40000,"prepaid_time":"20231218"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartnerPaymentMessage {
    /// `service_id`.
    pub service_id: String,
    /// `sub_mchid`.
    pub sub_mchid: String,
    /// `post_payments`.
    pub post_payments: Vec<PostPayment>,
    /// `post_discounts`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_discounts: Vec<PostDiscount>,
    /// `total_amount`.
    pub total_amount: Fen,
    /// `prepaid_time` (`yyyyMMdd`).
    pub prepaid_time: String,
}

impl PartnerPaymentMessage {
    /// A message announcing `total_amount` fen to be deducted on `prepaid_time`
    /// (`yyyyMMdd`); add at least one payment.
    pub fn new(
        sub_mchid: impl Into<String>,
        service_id: impl Into<String>,
        total_amount: Fen,
        prepaid_time: impl Into<String>,
    ) -> Self {
        Self {
            service_id: service_id.into(),
            sub_mchid: sub_mchid.into(),
            post_payments: Vec::new(),
            post_discounts: Vec::new(),
            total_amount,
            prepaid_time: prepaid_time.into(),
        }
    }

    /// Adds a post payment (amount required).
    #[must_use]
    pub fn post_payment(mut self, p: PostPayment) -> Self {
        self.post_payments.push(p);
        self
    }

    /// Adds a discount (amount required).
    #[must_use]
    pub fn post_discount(mut self, d: PostDiscount) -> Self {
        self.post_discounts.push(d);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("service_id", &self.service_id, ID_MAX)?;
        check_sub_mchid(&self.sub_mchid)?;
        if self.post_payments.is_empty() {
            return Err(Error::invalid_request("post_payments", "is required"));
        }
        check_payments(&self.post_payments, true)?;
        check_discounts(&self.post_discounts, true)?;
        if self.prepaid_time.len() != 8 || super::TimePoint::parse(&self.prepaid_time).is_err() {
            return Err(Error::invalid_request("prepaid_time", "must be yyyyMMdd"));
        }
        check_total(&self.post_payments, &self.post_discounts, self.total_amount)
    }
}

/// Partner pre-authorization (`POST /v3/payscore/partner/permissions`): returns the
/// token for the front end's `wxpayScoreEnable`. The provider's `appid` is added by the
/// client.
///
/// ```
/// use tixpay_wechat_payscore::PartnerPermissionsRequest;
///
/// let request = PartnerPermissionsRequest::new("1900000109", "500001", "AUTH1").sub_appid("wxd678efh567hg6999");
/// assert_eq!(
///     serde_json::to_string(&request).unwrap(),
///     r#"{"service_id":"500001","sub_mchid":"1900000109","sub_appid":"wxd678efh567hg6999","authorization_code":"AUTH1"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartnerPermissionsRequest {
    /// `service_id`.
    pub service_id: String,
    /// `sub_mchid`.
    pub sub_mchid: String,
    /// `sub_appid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// `authorization_code`: the agreement number.
    pub authorization_code: String,
    /// `notify_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
}

impl PartnerPermissionsRequest {
    /// Pre-authorizes under agreement number `authorization_code`.
    pub fn new(
        sub_mchid: impl Into<String>,
        service_id: impl Into<String>,
        authorization_code: impl Into<String>,
    ) -> Self {
        Self {
            service_id: service_id.into(),
            sub_mchid: sub_mchid.into(),
            sub_appid: None,
            authorization_code: authorization_code.into(),
            notify_url: None,
        }
    }

    /// Sets `sub_appid`.
    #[must_use]
    pub fn sub_appid(mut self, sub_appid: impl Into<String>) -> Self {
        self.sub_appid = Some(sub_appid.into());
        self
    }

    /// Sets `notify_url` (https, no query string).
    #[must_use]
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("service_id", &self.service_id, ID_MAX)?;
        check_sub_mchid(&self.sub_mchid)?;
        check_sub_ids(self.sub_appid.as_deref(), None, None)?;
        validate::required("authorization_code", &self.authorization_code, 64)?;
        if let Some(url) = &self.notify_url {
            check_notify_url(url)?;
        }
        Ok(())
    }
}

/// `transaction_scene_info` of [`ApplyForScene`]: the merchant and sub-merchant of the
/// payment the authorization comes with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TransactionSceneInfo {
    /// `mchid`: the merchant the payment is ordered with.
    pub mchid: String,
    /// `sub_mchid`: the sub-merchant the payment is ordered with.
    pub sub_mchid: String,
}

impl TransactionSceneInfo {
    /// The payment's merchant and sub-merchant (both required).
    pub fn new(mchid: impl Into<String>, sub_mchid: impl Into<String>) -> Self {
        Self {
            mchid: mchid.into(),
            sub_mchid: sub_mchid.into(),
        }
    }
}

/// Pre-authorization in a scene (`POST /v3/payscore/partner/permissions/apply-for-scene`,
/// partner only). The provider's `appid` is added by the client.
///
/// ```
/// use tixpay_wechat_payscore::{ApplyForScene, TransactionSceneInfo};
///
/// let request = ApplyForScene::new("1900000109", "500001", "AUTH1", "ORDER")
///     .transaction_scene_info(TransactionSceneInfo::new("1230000109", "1900000109"));
/// assert_eq!(
///     serde_json::to_string(&request).unwrap(),
///     r#"{"service_id":"500001","sub_mchid":"1900000109","authorization_code":"AUTH1","scene":"ORDER","transaction_scene_info":{"mchid":"1230000109","sub_mchid":"1900000109"}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ApplyForScene {
    /// `service_id`.
    pub service_id: String,
    /// `sub_mchid`.
    pub sub_mchid: String,
    /// `sub_appid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// `authorization_code`.
    pub authorization_code: String,
    /// `notify_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// `scene`, as the documents name it (the values are not listed; kept as given).
    pub scene: String,
    /// `transaction_scene_info`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_scene_info: Option<TransactionSceneInfo>,
}

impl ApplyForScene {
    /// Pre-authorizes agreement `authorization_code` in `scene`.
    pub fn new(
        sub_mchid: impl Into<String>,
        service_id: impl Into<String>,
        authorization_code: impl Into<String>,
        scene: impl Into<String>,
    ) -> Self {
        Self {
            service_id: service_id.into(),
            sub_mchid: sub_mchid.into(),
            sub_appid: None,
            authorization_code: authorization_code.into(),
            notify_url: None,
            scene: scene.into(),
            transaction_scene_info: None,
        }
    }

    /// Sets `sub_appid`.
    #[must_use]
    pub fn sub_appid(mut self, sub_appid: impl Into<String>) -> Self {
        self.sub_appid = Some(sub_appid.into());
        self
    }

    /// Sets `notify_url` (https, no query string).
    #[must_use]
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// Sets `transaction_scene_info`.
    #[must_use]
    pub fn transaction_scene_info(mut self, info: TransactionSceneInfo) -> Self {
        self.transaction_scene_info = Some(info);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("service_id", &self.service_id, ID_MAX)?;
        check_sub_mchid(&self.sub_mchid)?;
        check_sub_ids(self.sub_appid.as_deref(), None, None)?;
        validate::required("authorization_code", &self.authorization_code, 64)?;
        validate::required("scene", &self.scene, 32)?;
        if let Some(url) = &self.notify_url {
            check_notify_url(url)?;
        }
        if let Some(info) = &self.transaction_scene_info {
            validate::required("transaction_scene_info.mchid", &info.mchid, ID_MAX)?;
            validate::required("transaction_scene_info.sub_mchid", &info.sub_mchid, ID_MAX)?;
        }
        Ok(())
    }
}

/// The reply of [`ApplyForScene`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SceneToken {
    /// `scene`, as sent.
    pub scene: String,
    /// `transaction_permissions_token`.
    #[serde(default)]
    pub transaction_permissions_token: Option<String>,
}

/// The user in a partner authorization call: under the provider's `appid` (`openid`) or
/// under the sub-merchant's `sub_appid` (`sub_openid`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PartnerUser {
    /// `openid`.
    OpenId(String),
    /// `sub_openid`.
    SubOpenId(String),
}

impl PartnerUser {
    /// The wire name and value.
    pub(crate) fn field(&self) -> (&'static str, &str) {
        match self {
            Self::OpenId(v) => ("openid", v),
            Self::SubOpenId(v) => ("sub_openid", v),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let (field, value) = self.field();
        validate::required(field, value, OPENID_MAX)
    }
}

/// Partner terminate by user (`POST /v3/payscore/partner/permissions/terminate`, 204). The
/// provider's `appid` is added by the client.
///
/// ```
/// use tixpay_wechat_payscore::{PartnerTerminateAuthorization, PartnerUser};
///
/// let t = PartnerTerminateAuthorization::new("1900000109", "500001", PartnerUser::SubOpenId("oSub".into()), "用户要求");
/// assert_eq!(
///     serde_json::to_string(&t).unwrap(),
///     r#"{"sub_openid":"oSub","service_id":"500001","sub_mchid":"1900000109","reason":"用户要求"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartnerTerminateAuthorization {
    /// The user.
    pub user: PartnerUser,
    /// `service_id`.
    pub service_id: String,
    /// `sub_appid`.
    pub sub_appid: Option<String>,
    /// `sub_mchid`.
    pub sub_mchid: String,
    /// `reason` (≤ 50 characters).
    pub reason: String,
}

impl Serialize for PartnerTerminateAuthorization {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (field, value) = self.user.field();
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(field, value)?;
        map.serialize_entry("service_id", &self.service_id)?;
        if let Some(sub_appid) = &self.sub_appid {
            map.serialize_entry("sub_appid", sub_appid)?;
        }
        map.serialize_entry("sub_mchid", &self.sub_mchid)?;
        map.serialize_entry("reason", &self.reason)?;
        map.end()
    }
}

impl PartnerTerminateAuthorization {
    /// Ends `user`'s authorization of `service_id` for `reason`.
    pub fn new(
        sub_mchid: impl Into<String>,
        service_id: impl Into<String>,
        user: PartnerUser,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            user,
            service_id: service_id.into(),
            sub_appid: None,
            sub_mchid: sub_mchid.into(),
            reason: reason.into(),
        }
    }

    /// Sets `sub_appid`.
    #[must_use]
    pub fn sub_appid(mut self, sub_appid: impl Into<String>) -> Self {
        self.sub_appid = Some(sub_appid.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        self.user.validate()?;
        validate::required("service_id", &self.service_id, ID_MAX)?;
        check_sub_ids(self.sub_appid.as_deref(), None, None)?;
        check_sub_mchid(&self.sub_mchid)?;
        validate::required("reason", &self.reason, 50)
    }
}

/// Partner assess-user-risk-level (`POST /v3/payscore/partner/permissions/assess-user-risk-level?sub_mchid=…`):
/// `sub_mchid` travels in the query string, the rest in the body. The provider's `appid`
/// is added by the client.
///
/// ```
/// use tixpay_wechat_payscore::PartnerAssessUserRiskLevel;
///
/// let assess = PartnerAssessUserRiskLevel::new("1900000109", "500001").sub_openid("oSub");
/// assert_eq!(serde_json::to_string(&assess).unwrap(), r#"{"service_id":"500001","sub_openid":"oSub"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartnerAssessUserRiskLevel {
    /// `sub_mchid` (sent in the query string).
    #[serde(skip)]
    pub sub_mchid: String,
    /// `service_id`.
    pub service_id: String,
    /// `sub_appid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// `authorization_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_code: Option<String>,
    /// `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// `sub_openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
    /// `shopping_info`, sent as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shopping_info: Option<serde_json::Value>,
}

impl PartnerAssessUserRiskLevel {
    /// Assesses a user of `service_id` for sub-merchant `sub_mchid`; name the user with
    /// `openid`, `sub_openid` or `authorization_code`.
    pub fn new(sub_mchid: impl Into<String>, service_id: impl Into<String>) -> Self {
        Self {
            sub_mchid: sub_mchid.into(),
            service_id: service_id.into(),
            sub_appid: None,
            authorization_code: None,
            openid: None,
            sub_openid: None,
            shopping_info: None,
        }
    }

    /// Sets `sub_appid`.
    #[must_use]
    pub fn sub_appid(mut self, sub_appid: impl Into<String>) -> Self {
        self.sub_appid = Some(sub_appid.into());
        self
    }

    /// Sets `authorization_code`.
    #[must_use]
    pub fn authorization_code(mut self, code: impl Into<String>) -> Self {
        self.authorization_code = Some(code.into());
        self
    }

    /// Sets `openid`.
    #[must_use]
    pub fn openid(mut self, openid: impl Into<String>) -> Self {
        self.openid = Some(openid.into());
        self
    }

    /// Sets `sub_openid`.
    #[must_use]
    pub fn sub_openid(mut self, sub_openid: impl Into<String>) -> Self {
        self.sub_openid = Some(sub_openid.into());
        self
    }

    /// Sets `shopping_info`, sent as given.
    #[must_use]
    pub fn shopping_info(mut self, shopping_info: serde_json::Value) -> Self {
        self.shopping_info = Some(shopping_info);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_sub_mchid(&self.sub_mchid)?;
        validate::required("service_id", &self.service_id, ID_MAX)?;
        check_sub_ids(
            self.sub_appid.as_deref(),
            self.openid.as_deref(),
            self.sub_openid.as_deref(),
        )?;
        validate::optional("authorization_code", self.authorization_code.as_deref(), 64)?;
        if self.authorization_code.is_none() && self.openid.is_none() && self.sub_openid.is_none() {
            return Err(Error::invalid_request(
                "openid",
                "give openid, sub_openid or authorization_code",
            ));
        }
        Ok(())
    }
}

/// One tier of [`ServiceQuotas`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Quota {
    /// `risk_level`: the user tier.
    pub risk_level: i64,
    /// `suggested_quota`: the suggested amount for that tier, kept as sent (the documents
    /// give a number and no unit).
    pub suggested_quota: serde_json::Number,
}

/// The reply of `GET /v3/payscore/partner/servicequotas/service-id/{service_id}`: the
/// suggested 先享 amount per user tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceQuotas {
    /// `service_id`.
    #[serde(default)]
    pub service_id: Option<String>,
    /// `mchid`: the provider.
    #[serde(default)]
    pub mchid: Option<String>,
    /// `sub_mchid`.
    #[serde(default)]
    pub sub_mchid: Option<String>,
    /// `appid`.
    #[serde(default)]
    pub appid: Option<String>,
    /// `sub_appid`.
    #[serde(default)]
    pub sub_appid: Option<String>,
    /// `risk_level_version`.
    #[serde(default)]
    pub risk_level_version: Option<i64>,
    /// `quotas`.
    #[serde(default)]
    pub quotas: Vec<Quota>,
}

/// A 收付通 sub-merchant's application to bind to a PayScore service
/// (`POST /v3/payscore/partner/service-account-applications`, partner only). The
/// provider's `appid` is added by the client.
///
/// ```
/// use tixpay_wechat_payscore::ServiceAccountApplication;
///
/// let apply = ServiceAccountApplication::new("1900000109", "500001", "APPLY-1")
///     .result_notify_url("https://reseller.example/payscore/bind");
/// assert_eq!(
///     serde_json::to_string(&apply).unwrap(),
///     r#"{"service_id":"500001","sub_mchid":"1900000109","out_apply_no":"APPLY-1","result_notify_url":"https://reseller.example/payscore/bind"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ServiceAccountApplication {
    /// `service_id`.
    pub service_id: String,
    /// `sub_mchid`.
    pub sub_mchid: String,
    /// `sub_appid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// `out_apply_no`: the provider's application number.
    pub out_apply_no: String,
    /// `result_notify_url`: where `PAYSCORE.BIND_SERVICE_ACCOUNT` is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_notify_url: Option<String>,
}

impl ServiceAccountApplication {
    /// Applies for `sub_mchid` to use `service_id`, under application number
    /// `out_apply_no`.
    pub fn new(
        sub_mchid: impl Into<String>,
        service_id: impl Into<String>,
        out_apply_no: impl Into<String>,
    ) -> Self {
        Self {
            service_id: service_id.into(),
            sub_mchid: sub_mchid.into(),
            sub_appid: None,
            out_apply_no: out_apply_no.into(),
            result_notify_url: None,
        }
    }

    /// Sets `sub_appid`.
    #[must_use]
    pub fn sub_appid(mut self, sub_appid: impl Into<String>) -> Self {
        self.sub_appid = Some(sub_appid.into());
        self
    }

    /// Sets `result_notify_url` (https, no query string).
    #[must_use]
    pub fn result_notify_url(mut self, url: impl Into<String>) -> Self {
        self.result_notify_url = Some(url.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("service_id", &self.service_id, ID_MAX)?;
        check_sub_mchid(&self.sub_mchid)?;
        check_sub_ids(self.sub_appid.as_deref(), None, None)?;
        validate::required("out_apply_no", &self.out_apply_no, 64)?;
        if let Some(url) = &self.result_notify_url {
            check_notify_url(url).map_err(|_| {
                Error::invalid_request(
                    "result_notify_url",
                    "must be an https URL without a query string",
                )
            })?;
        }
        Ok(())
    }
}

/// The state of a [`ServiceAccountApplication`]: the reply of create and query, and the
/// payload of the `PAYSCORE.BIND_SERVICE_ACCOUNT` callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceAccountApplicationState {
    /// `service_id`.
    #[serde(default)]
    pub service_id: Option<String>,
    /// `mchid`: the provider.
    #[serde(default)]
    pub mchid: Option<String>,
    /// `appid`.
    #[serde(default)]
    pub appid: Option<String>,
    /// `sub_mchid`.
    #[serde(default)]
    pub sub_mchid: Option<String>,
    /// `sub_appid`.
    #[serde(default)]
    pub sub_appid: Option<String>,
    /// `out_apply_no`.
    #[serde(default)]
    pub out_apply_no: Option<String>,
    /// `result_notify_url`.
    #[serde(default)]
    pub result_notify_url: Option<String>,
    /// `apply_state` (受理状态), kept as sent: the documents list no values.
    #[serde(default)]
    pub apply_state: Option<String>,
    /// `reject_reason`.
    #[serde(default)]
    pub reject_reason: Option<String>,
    /// Every other field, unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}
