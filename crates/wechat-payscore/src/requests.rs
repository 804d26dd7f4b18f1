//! Request bodies and replies of endpoints 1–17 (spec §1.1, §1.3). `out_order_no` and other
//! path parameters are never part of a body.

use serde::{Deserialize, Serialize};
use tixpay_core::{Error, Fen};

use crate::types::{
    AuthorizationState, Device, Location, PostDiscount, PostPayment, RiskFund, TimeRange,
    check_amount, check_discounts, check_len, check_payments, check_required, check_total,
};

fn check_notify_url(url: &str) -> Result<(), Error> {
    check_required("notify_url", url, 255)?;
    if !url.starts_with("https://") || url.contains('?') {
        return Err(Error::invalid_request(
            "notify_url",
            "must be an https URL without a query string",
        ));
    }
    Ok(())
}

/// (1) `POST /v3/payscore/serviceorder`: create a service order.
///
/// ```
/// use tixpay_wechat_payscore::{CreateServiceOrder, Fen, PostPayment, RiskFund, RiskFundName, TimePoint, TimeRange};
///
/// let order = CreateServiceOrder::new(
///     "RENT-1001", "wxd678efh567hg6787", "500001", "景区电瓶车租借",
///     TimeRange::starting(TimePoint::OnAccept),
///     RiskFund { name: RiskFundName::Deposit, amount: Fen::new(20_000), description: Some("押金".into()) },
///     "https://reseller.example/payscore/notify",
/// )
/// .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
/// .need_user_confirm(true);
/// assert!(serde_json::to_string(&order).unwrap().contains("\"out_order_no\":\"RENT-1001\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateServiceOrder {
    /// `out_order_no` (1 to 32 characters).
    pub out_order_no: String,
    /// `appid`.
    pub appid: String,
    /// `service_id`.
    pub service_id: String,
    /// `service_introduction` (≤ 20 characters).
    pub service_introduction: String,
    /// `post_payments`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_payments: Vec<PostPayment>,
    /// `post_discounts` (create's schema has no `amount`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_discounts: Vec<PostDiscount>,
    /// `time_range` (`start_time` required).
    pub time_range: TimeRange,
    /// `location`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// `risk_fund`.
    pub risk_fund: RiskFund,
    /// `attach` (≤ 256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// `notify_url`: https, no query string.
    pub notify_url: String,
    /// `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// `need_user_confirm`. Its default is disputed (true / false), so it is always sent.
    pub need_user_confirm: bool,
    /// `device`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
}

impl CreateServiceOrder {
    /// An order with the required fields; `need_user_confirm` starts `true` (需确认模式).
    pub fn new(
        out_order_no: impl Into<String>,
        appid: impl Into<String>,
        service_id: impl Into<String>,
        service_introduction: impl Into<String>,
        time_range: TimeRange,
        risk_fund: RiskFund,
        notify_url: impl Into<String>,
    ) -> Self {
        Self {
            out_order_no: out_order_no.into(),
            appid: appid.into(),
            service_id: service_id.into(),
            service_introduction: service_introduction.into(),
            post_payments: Vec::new(),
            post_discounts: Vec::new(),
            time_range,
            location: None,
            risk_fund,
            attach: None,
            notify_url: notify_url.into(),
            openid: None,
            need_user_confirm: true,
            device: None,
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

    /// Sets `location`.
    #[must_use]
    pub fn location(mut self, location: Location) -> Self {
        self.location = Some(location);
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

    /// Sets `need_user_confirm`.
    #[must_use]
    pub fn need_user_confirm(mut self, on: bool) -> Self {
        self.need_user_confirm = on;
        self
    }

    /// Sets `device`.
    #[must_use]
    pub fn device(mut self, device: Device) -> Self {
        self.device = Some(device);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_required("out_order_no", &self.out_order_no, 32)?;
        check_required("appid", &self.appid, 32)?;
        check_required("service_id", &self.service_id, 32)?;
        check_required("service_introduction", &self.service_introduction, 20)?;
        if self.time_range.start_time.is_none() {
            return Err(Error::invalid_request(
                "time_range.start_time",
                "is required",
            ));
        }
        self.time_range.validate()?;
        check_payments(&self.post_payments, false)?;
        check_discounts(&self.post_discounts, false)?;
        // Create's discount schema: name and description required, no amount (the amount
        // is given on complete).
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
        check_len(
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
        check_len("attach", self.attach.as_deref(), 256)?;
        check_notify_url(&self.notify_url)
    }
}

/// (3) `POST /v3/payscore/serviceorder/{out_order_no}/cancel` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CancelServiceOrder {
    /// `appid`.
    pub appid: String,
    /// `service_id`.
    pub service_id: String,
    /// `reason` (≤ 30 characters, each Chinese character counting one).
    pub reason: String,
}

impl CancelServiceOrder {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_required("appid", &self.appid, 32)?;
        check_required("service_id", &self.service_id, 32)?;
        check_required("reason", &self.reason, 30)
    }
}

/// (4) `POST …/{out_order_no}/modify` body: lower the amount of a completed, unpaid order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModifyServiceOrder {
    /// `appid`.
    pub appid: String,
    /// `service_id`.
    pub service_id: String,
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

impl ModifyServiceOrder {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_required("appid", &self.appid, 32)?;
        check_required("service_id", &self.service_id, 32)?;
        check_required("reason", &self.reason, 50)?;
        if self.post_payments.is_empty() {
            return Err(Error::invalid_request("post_payments", "is required"));
        }
        check_payments(&self.post_payments, true)?;
        check_discounts(&self.post_discounts, true)?;
        check_total(&self.post_payments, &self.post_discounts, self.total_amount)
    }
}

/// (5) `POST …/{out_order_no}/complete` body.
///
/// ```
/// use tixpay_wechat_payscore::{CompleteServiceOrder, Fen, PostDiscount, PostPayment};
///
/// let complete = CompleteServiceOrder::new("wxd678efh567hg6787", "500001", Fen::new(2_500))
///     .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
///     .post_discount(PostDiscount::new("会员优惠", Fen::new(500)));
/// assert!(complete.validate().is_ok());
/// assert!(CompleteServiceOrder::new("wx", "1", Fen::new(3_000)).post_payment(PostPayment::new("租车费", Fen::new(3_000)))
///     .post_discount(PostDiscount::new("会员优惠", Fen::new(500))).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompleteServiceOrder {
    /// `appid`.
    pub appid: String,
    /// `service_id`.
    pub service_id: String,
    /// `post_payments` (amounts required).
    pub post_payments: Vec<PostPayment>,
    /// `post_discounts` (`name` and `amount` required).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_discounts: Vec<PostDiscount>,
    /// `total_amount` = Σ payments − Σ discounts.
    pub total_amount: Fen,
    /// `time_range`: the actual service time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_range: Option<TimeRange>,
    /// `location` (`end_location`).
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
}

impl CompleteServiceOrder {
    /// Completes with a total of `total_amount` fen (add the payments and discounts).
    pub fn new(appid: impl Into<String>, service_id: impl Into<String>, total_amount: Fen) -> Self {
        Self {
            appid: appid.into(),
            service_id: service_id.into(),
            post_payments: Vec::new(),
            post_discounts: Vec::new(),
            total_amount,
            time_range: None,
            location: None,
            profit_sharing: None,
            goods_tag: None,
            device: None,
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

    /// Checks the documented rules without sending.
    pub fn validate(&self) -> Result<(), Error> {
        check_required("appid", &self.appid, 32)?;
        check_required("service_id", &self.service_id, 32)?;
        if self.post_payments.is_empty() {
            return Err(Error::invalid_request("post_payments", "is required"));
        }
        check_payments(&self.post_payments, true)?;
        check_discounts(&self.post_discounts, true)?;
        if let Some(range) = &self.time_range {
            range.validate()?;
        }
        check_total(&self.post_payments, &self.post_discounts, self.total_amount)
    }
}

/// (6) `POST …/{out_order_no}/pay` body and (7) parts of sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AppService<'a> {
    pub(crate) appid: &'a str,
    pub(crate) service_id: &'a str,
}

/// (7) `POST …/{out_order_no}/sync` body: the user paid by another channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncServiceOrder {
    /// `appid`.
    pub appid: String,
    /// `service_id`.
    pub service_id: String,
    /// `type`: the only documented value is `Order_Paid`.
    #[serde(rename = "type")]
    pub sync_type: String,
    /// `detail`.
    pub detail: SyncDetail,
}

/// The `detail` of a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncDetail {
    /// `paid_time` (`yyyyMMddHHmmss`).
    pub paid_time: String,
}

impl SyncServiceOrder {
    /// `Order_Paid` at `paid_time` (`yyyyMMddHHmmss`).
    pub fn order_paid(
        appid: impl Into<String>,
        service_id: impl Into<String>,
        paid_time: impl Into<String>,
    ) -> Self {
        Self {
            appid: appid.into(),
            service_id: service_id.into(),
            sync_type: "Order_Paid".to_owned(),
            detail: SyncDetail {
                paid_time: paid_time.into(),
            },
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_required("appid", &self.appid, 32)?;
        check_required("service_id", &self.service_id, 32)?;
        if self.detail.paid_time.len() != 14
            || crate::types::TimePoint::parse(&self.detail.paid_time).is_err()
        {
            return Err(Error::invalid_request(
                "detail.paid_time",
                "must be yyyyMMddHHmmss",
            ));
        }
        Ok(())
    }
}

/// (8) `POST /v3/payscore/serviceorder/direct-complete`: create and complete at once
/// (免确认模式; needs that permission).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectComplete {
    /// `out_order_no`.
    pub out_order_no: String,
    /// `appid`.
    pub appid: String,
    /// `service_id`.
    pub service_id: String,
    /// `service_introduction`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_introduction: Option<String>,
    /// `post_payments`.
    pub post_payments: Vec<PostPayment>,
    /// `post_discounts`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_discounts: Vec<PostDiscount>,
    /// `time_range`.
    pub time_range: TimeRange,
    /// `location`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// `attach`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// `notify_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// `total_amount`.
    pub total_amount: Fen,
    /// `profit_sharing`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profit_sharing: Option<bool>,
    /// `goods_tag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_tag: Option<String>,
}

impl DirectComplete {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_required("out_order_no", &self.out_order_no, 32)?;
        check_required("appid", &self.appid, 32)?;
        check_required("service_id", &self.service_id, 32)?;
        check_len(
            "service_introduction",
            self.service_introduction.as_deref(),
            20,
        )?;
        self.time_range.validate()?;
        check_payments(&self.post_payments, true)?;
        check_discounts(&self.post_discounts, true)?;
        if let Some(url) = &self.notify_url {
            check_notify_url(url)?;
        }
        check_total(&self.post_payments, &self.post_discounts, self.total_amount)
    }
}

/// (9) `POST /v3/payscore/permissions`: pre-authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionsRequest {
    /// `service_id`.
    pub service_id: String,
    /// `appid`.
    pub appid: String,
    /// `authorization_code`: the merchant's agreement number.
    pub authorization_code: String,
    /// `notify_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
}

impl PermissionsRequest {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_required("service_id", &self.service_id, 32)?;
        check_required("appid", &self.appid, 32)?;
        check_required("authorization_code", &self.authorization_code, 64)?;
        if let Some(url) = &self.notify_url {
            check_notify_url(url)?;
        }
        Ok(())
    }
}

/// The reply of (9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PermissionsToken {
    /// `apply_permissions_token`: for the front-end `wxpayScoreEnable` (valid about 1 h).
    pub apply_permissions_token: String,
}

/// The reply of (10), (12) and (14): a user's authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Authorization {
    /// `service_id`.
    #[serde(default)]
    pub service_id: Option<String>,
    /// `appid`.
    #[serde(default)]
    pub appid: Option<String>,
    /// `mchid`.
    #[serde(default)]
    pub mchid: Option<String>,
    /// `openid`.
    #[serde(default)]
    pub openid: Option<String>,
    /// `authorization_code`.
    #[serde(default)]
    pub authorization_code: Option<String>,
    /// `authorization_state`.
    #[serde(default)]
    pub authorization_state: Option<AuthorizationState>,
    /// `notify_url`.
    #[serde(default)]
    pub notify_url: Option<String>,
    /// `cancel_authorization_time` (RFC 3339).
    #[serde(default)]
    pub cancel_authorization_time: Option<String>,
    /// `authorization_success_time` (RFC 3339).
    #[serde(default)]
    pub authorization_success_time: Option<String>,
    /// `user_risk_level`.
    #[serde(default)]
    pub user_risk_level: Option<i64>,
    /// `risk_level_version`.
    #[serde(default)]
    pub risk_level_version: Option<i64>,
    /// Every other field, unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// (14) `POST /v3/payscore/permissions/assess-user-risk-level` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssessUserRiskLevel {
    /// `service_id`.
    pub service_id: String,
    /// `appid`.
    pub appid: String,
    /// `authorization_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_code: Option<String>,
    /// `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// `shopping_info`, sent as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shopping_info: Option<serde_json::Value>,
}

/// (15)/(16) `send-pendingmessage` / `send-prepaidmessage` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentMessage {
    /// `service_id`.
    pub service_id: String,
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

impl PaymentMessage {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_required("service_id", &self.service_id, 32)?;
        if self.post_payments.is_empty() {
            return Err(Error::invalid_request("post_payments", "is required"));
        }
        check_payments(&self.post_payments, true)?;
        check_discounts(&self.post_discounts, true)?;
        if self.prepaid_time.len() != 8
            || crate::types::TimePoint::parse(&self.prepaid_time).is_err()
        {
            return Err(Error::invalid_request("prepaid_time", "must be yyyyMMdd"));
        }
        check_total(&self.post_payments, &self.post_discounts, self.total_amount)
    }
}

/// The reply of (17): where to download the PayScore statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MerchantBill {
    /// `download_bill_count`.
    #[serde(default)]
    pub download_bill_count: Option<u32>,
    /// `download_bill_list`.
    #[serde(default)]
    pub download_bill_list: Vec<BillFile>,
}

/// One file of a merchant bill. How `encrypt_key` is protected is not documented; it is
/// kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillFile {
    /// `bill_sequence`.
    #[serde(default)]
    pub bill_sequence: Option<u32>,
    /// `hash_type` (SHA1).
    #[serde(default)]
    pub hash_type: Option<String>,
    /// `hash_value`.
    #[serde(default)]
    pub hash_value: Option<String>,
    /// `download_url`.
    #[serde(default)]
    pub download_url: Option<String>,
    /// `encrypt_key`.
    #[serde(default)]
    pub encrypt_key: Option<String>,
    /// `nonce`.
    #[serde(default)]
    pub nonce: Option<String>,
}

/// The short reply of cancel (3) and pay (6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderAck {
    /// `appid`.
    #[serde(default)]
    pub appid: Option<String>,
    /// `mchid`.
    #[serde(default)]
    pub mchid: Option<String>,
    /// `out_order_no`.
    #[serde(default)]
    pub out_order_no: Option<String>,
    /// `service_id`.
    #[serde(default)]
    pub service_id: Option<String>,
    /// `order_id`.
    #[serde(default)]
    pub order_id: Option<String>,
}
