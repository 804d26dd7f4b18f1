//! PayScore's shared objects and enumerations (spec §1.2, §1.4), and the request bodies and
//! replies of endpoints 1–17 (spec §1.1, §1.3). `out_order_no` and other path parameters are
//! never part of a body.

use serde::{Deserialize, Serialize};
use tixpay_core::validate;
use tixpay_core::{Error, Fen};

mod partner;
pub(crate) use partner::PartnerServiceRef;
pub use partner::{
    ApplyForScene, PartnerAssessUserRiskLevel, PartnerCancelServiceOrder,
    PartnerCompleteServiceOrder, PartnerCreateServiceOrder, PartnerDirectComplete,
    PartnerModifyServiceOrder, PartnerPaymentMessage, PartnerPermissionsRequest, PartnerSyncDetail,
    PartnerSyncServiceOrder, PartnerTerminateAuthorization, PartnerUser, Quota, SceneToken,
    ServiceAccountApplication, ServiceAccountApplicationState, ServiceQuotas, TransactionSceneInfo,
};

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value the documents do not list, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// The value on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Unknown(s) => s,
                }
            }

            /// Reads a wire value.
            pub fn parse(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(|s| Self::parse(&s))
            }
        }
    };
}

string_enum!(
    /// 服务订单状态 `state`.
    State {
        /// 商户已创建服务订单.
        Created = "CREATED",
        /// 服务订单进行中 (see `state_description`).
        Doing = "DOING",
        /// 服务订单完成 (terminal).
        Done = "DONE",
        /// 商户取消服务订单 (terminal).
        Revoked = "REVOKED",
        /// 服务订单已失效 (terminal; CREATED orders expire after 30 days).
        Expired = "EXPIRED",
    }
);

string_enum!(
    /// 订单状态说明 `state_description` (meaningful in `DOING`).
    StateDescription {
        /// 用户已确认.
        UserConfirm = "USER_CONFIRM",
        /// 商户已完结.
        MchComplete = "MCH_COMPLETE",
    }
);

string_enum!(
    /// 收款状态 `collection.state`.
    CollectionState {
        /// 待支付.
        UserPaying = "USER_PAYING",
        /// 已支付.
        UserPaid = "USER_PAID",
    }
);

string_enum!(
    /// 风险金名称 `risk_fund.name`. (The enumeration file spells the first `UDEPOSIT`, a
    /// typo; every endpoint uses `DEPOSIT`.)
    RiskFundName {
        /// 押金.
        Deposit = "DEPOSIT",
        /// 预付款.
        Advance = "ADVANCE",
        /// 保证金.
        CashDeposit = "CASH_DEPOSIT",
        /// 预估订单费用 (先享 mode).
        EstimateOrderCost = "ESTIMATE_ORDER_COST",
    }
);

string_enum!(
    /// 收款方式 `collection.details[].paid_type`.
    PaidType {
        /// 支付分.
        Newton = "NEWTON",
        /// 商户渠道.
        Mch = "MCH",
    }
);

string_enum!(
    /// 授权状态 `authorization_state`.
    AuthorizationState {
        /// 未授权.
        Unavailable = "UNAVAILABLE",
        /// 已授权.
        Available = "AVAILABLE",
        /// 已预授权但未完成正式授权.
        UnbindUser = "UNBINDUSER",
    }
);

/// 后付费项目 `post_payments[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct PostPayment {
    /// `name` (≤ 20 characters).
    pub name: String,
    /// `amount` in fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Fen>,
    /// `description` (≤ 30 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

impl PostPayment {
    /// A charge of `amount` fen named `name`.
    ///
    /// ```
    /// use tixpay_wechat_payscore::{Fen, PostPayment};
    ///
    /// let rent = PostPayment::new("租车费", Fen::new(3_000)).description("2 小时").count(1);
    /// assert_eq!(
    ///     serde_json::to_string(&rent).unwrap(),
    ///     r#"{"name":"租车费","amount":3000,"description":"2 小时","count":1}"#
    /// );
    /// ```
    pub fn new(name: impl Into<String>, amount: Fen) -> Self {
        Self {
            name: name.into(),
            amount: Some(amount),
            ..Self::default()
        }
    }

    /// Sets `description`.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets `count`.
    #[must_use]
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }
}

/// 商户优惠 `post_discounts[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct PostDiscount {
    /// `name` (≤ 20 characters).
    pub name: String,
    /// `description` (≤ 30 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `amount` in fen (required on complete; create's schema has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Fen>,
    /// `count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

impl PostDiscount {
    /// A discount of `amount` fen named `name`, as complete, modify and the payment
    /// messages take it.
    ///
    /// ```
    /// use tixpay_wechat_payscore::{Fen, PostDiscount};
    ///
    /// let member = PostDiscount::new("会员优惠", Fen::new(500)).description("会员 95 折");
    /// assert_eq!(
    ///     serde_json::to_string(&member).unwrap(),
    ///     r#"{"name":"会员优惠","description":"会员 95 折","amount":500}"#
    /// );
    /// ```
    pub fn new(name: impl Into<String>, amount: Fen) -> Self {
        Self {
            name: name.into(),
            amount: Some(amount),
            ..Self::default()
        }
    }

    /// A discount as create announces it: `name` and `description`, both required there,
    /// and no `amount` (create's schema has none; the amount is given on complete).
    ///
    /// ```
    /// use tixpay_wechat_payscore::PostDiscount;
    ///
    /// let member = PostDiscount::for_create("会员优惠", "会员 95 折");
    /// assert_eq!(
    ///     serde_json::to_string(&member).unwrap(),
    ///     r#"{"name":"会员优惠","description":"会员 95 折"}"#
    /// );
    /// ```
    pub fn for_create(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: Some(description.into()),
            ..Self::default()
        }
    }

    /// Sets `description`.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets `count`.
    #[must_use]
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }
}

/// A time in a `time_range`: `yyyyMMddHHmmss`, `yyyyMMdd`, or (start only) `OnAccept`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimePoint {
    /// `yyyyMMddHHmmss`, China time.
    DateTime(String),
    /// `yyyyMMdd`.
    Date(String),
    /// `OnAccept`: the service starts when the user confirms (start time only).
    OnAccept,
}

impl TimePoint {
    /// A time from seconds since the Unix epoch, written `yyyyMMddHHmmss` in China time.
    pub fn at(unix: i64) -> Self {
        Self::DateTime(tixpay_core::datetime::format_compact(
            unix,
            tixpay_core::datetime::CST,
        ))
    }

    /// Parses a wire value; anything but the three documented forms is an error.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s.len() {
            _ if s == "OnAccept" => Ok(Self::OnAccept),
            14 if tixpay_core::datetime::parse_compact(s, tixpay_core::datetime::CST).is_some() => {
                Ok(Self::DateTime(s.to_owned()))
            }
            8 if tixpay_core::datetime::parse_compact(s, tixpay_core::datetime::CST).is_some() => {
                Ok(Self::Date(s.to_owned()))
            }
            _ => Err(Error::invalid_request(
                "time_range",
                format!("`{s}` is not yyyyMMddHHmmss, yyyyMMdd or OnAccept"),
            )),
        }
    }

    /// The value on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::DateTime(s) | Self::Date(s) => s,
            Self::OnAccept => "OnAccept",
        }
    }

    /// Seconds since the Unix epoch, for the dated forms.
    pub fn unix(&self) -> Option<i64> {
        match self {
            Self::DateTime(s) | Self::Date(s) => {
                tixpay_core::datetime::parse_compact(s, tixpay_core::datetime::CST)
            }
            Self::OnAccept => None,
        }
    }
}

impl Serialize for TimePoint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TimePoint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // Replies are kept whatever their form: a new format must not fail a decode.
        Ok(Self::parse(&s).unwrap_or(Self::DateTime(s)))
    }
}

/// 服务时间段 `time_range`. Create needs `start_time` ([`TimeRange::starting`]); complete
/// may give only the part create left open (for instance `end_time` alone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct TimeRange {
    /// `start_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<TimePoint>,
    /// `start_time_remark` (≤ 20 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time_remark: Option<String>,
    /// `end_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<TimePoint>,
    /// `end_time_remark` (≤ 50 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time_remark: Option<String>,
}

impl TimeRange {
    /// An empty range: every field is optional somewhere (complete may send `end_time`
    /// alone), so none is asked for here. Create requires `start_time`: see
    /// [`TimeRange::starting`].
    ///
    /// ```
    /// use tixpay_wechat_payscore::{TimePoint, TimeRange};
    ///
    /// let actual = TimeRange::new()
    ///     .end_time(TimePoint::parse("20240101120000").unwrap())
    ///     .end_time_remark("还车");
    /// assert_eq!(
    ///     serde_json::to_string(&actual).unwrap(),
    ///     r#"{"end_time":"20240101120000","end_time_remark":"还车"}"#
    /// );
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A range starting at `start` (create's required `start_time`).
    ///
    /// ```
    /// use tixpay_wechat_payscore::{TimePoint, TimeRange};
    ///
    /// let range = TimeRange::starting(TimePoint::OnAccept).start_time_remark("扫码取车");
    /// assert_eq!(
    ///     serde_json::to_string(&range).unwrap(),
    ///     r#"{"start_time":"OnAccept","start_time_remark":"扫码取车"}"#
    /// );
    /// ```
    pub fn starting(start: TimePoint) -> Self {
        Self::new().start_time(start)
    }

    /// Sets `start_time`.
    #[must_use]
    pub fn start_time(mut self, start: TimePoint) -> Self {
        self.start_time = Some(start);
        self
    }

    /// Sets `start_time_remark` (≤ 20 characters).
    #[must_use]
    pub fn start_time_remark(mut self, remark: impl Into<String>) -> Self {
        self.start_time_remark = Some(remark.into());
        self
    }

    /// Sets `end_time` (the same as [`TimeRange::end_time`]).
    #[must_use]
    pub fn ending(self, end: TimePoint) -> Self {
        self.end_time(end)
    }

    /// Sets `end_time`.
    #[must_use]
    pub fn end_time(mut self, end: TimePoint) -> Self {
        self.end_time = Some(end);
        self
    }

    /// Sets `end_time_remark` (≤ 50 characters).
    #[must_use]
    pub fn end_time_remark(mut self, remark: impl Into<String>) -> Self {
        self.end_time_remark = Some(remark.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if matches!(self.end_time, Some(TimePoint::OnAccept)) {
            return Err(Error::invalid_request(
                "time_range.end_time",
                "OnAccept is for the start time only",
            ));
        }
        let start = self.start_time.as_ref().and_then(TimePoint::unix);
        let end = self.end_time.as_ref().and_then(TimePoint::unix);
        if start.zip(end).is_some_and(|(start, end)| end < start) {
            return Err(Error::invalid_request(
                "time_range.end_time",
                "ends before it starts",
            ));
        }
        validate::optional(
            "time_range.start_time_remark",
            self.start_time_remark.as_deref(),
            20,
        )?;
        validate::optional(
            "time_range.end_time_remark",
            self.end_time_remark.as_deref(),
            50,
        )
    }
}

/// 服务位置 `location`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Location {
    /// `start_location`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_location: Option<String>,
    /// `end_location`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_location: Option<String>,
}

impl Location {
    /// An empty location; both fields are optional.
    ///
    /// ```
    /// use tixpay_wechat_payscore::Location;
    ///
    /// let location = Location::new().start_location("东门").end_location("西门");
    /// assert_eq!(
    ///     serde_json::to_string(&location).unwrap(),
    ///     r#"{"start_location":"东门","end_location":"西门"}"#
    /// );
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `start_location`.
    #[must_use]
    pub fn start_location(mut self, location: impl Into<String>) -> Self {
        self.start_location = Some(location.into());
        self
    }

    /// Sets `end_location`.
    #[must_use]
    pub fn end_location(mut self, location: impl Into<String>) -> Self {
        self.end_location = Some(location.into());
        self
    }
}

/// 服务风险金 `risk_fund`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RiskFund {
    /// `name`.
    pub name: RiskFundName,
    /// `amount` in fen (at most the service's risk cap).
    pub amount: Fen,
    /// `description` (≤ 30 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl RiskFund {
    /// A risk fund of `amount` fen of kind `name` (both required).
    ///
    /// ```
    /// use tixpay_wechat_payscore::{Fen, RiskFund, RiskFundName};
    ///
    /// let deposit = RiskFund::new(RiskFundName::Deposit, Fen::new(20_000)).description("押金");
    /// assert_eq!(
    ///     serde_json::to_string(&deposit).unwrap(),
    ///     r#"{"name":"DEPOSIT","amount":20000,"description":"押金"}"#
    /// );
    /// ```
    pub fn new(name: RiskFundName, amount: Fen) -> Self {
        Self {
            name,
            amount,
            description: None,
        }
    }

    /// Sets `description` (≤ 30 characters).
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// 设备信息 `device` (required for unattended devices).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Device {
    /// `start_device_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_device_id: Option<String>,
    /// `end_device_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_device_id: Option<String>,
    /// `materiel_no`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub materiel_no: Option<String>,
}

impl Device {
    /// An empty device; every field is optional.
    ///
    /// ```
    /// use tixpay_wechat_payscore::Device;
    ///
    /// let device = Device::new().start_device_id("CAB-0042").materiel_no("EB-7");
    /// assert_eq!(
    ///     serde_json::to_string(&device).unwrap(),
    ///     r#"{"start_device_id":"CAB-0042","materiel_no":"EB-7"}"#
    /// );
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `start_device_id`.
    #[must_use]
    pub fn start_device_id(mut self, id: impl Into<String>) -> Self {
        self.start_device_id = Some(id.into());
        self
    }

    /// Sets `end_device_id`.
    #[must_use]
    pub fn end_device_id(mut self, id: impl Into<String>) -> Self {
        self.end_device_id = Some(id.into());
        self
    }

    /// Sets `materiel_no`.
    #[must_use]
    pub fn materiel_no(mut self, materiel_no: impl Into<String>) -> Self {
        self.materiel_no = Some(materiel_no.into());
        self
    }
}

/// 收款信息 `collection`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Collection {
    /// `state`.
    pub state: CollectionState,
    /// `total_amount`.
    #[serde(default)]
    pub total_amount: Option<Fen>,
    /// `paying_amount`.
    #[serde(default)]
    pub paying_amount: Option<Fen>,
    /// `paid_amount`.
    #[serde(default)]
    pub paid_amount: Option<Fen>,
    /// `details`.
    #[serde(default)]
    pub details: Vec<CollectionDetail>,
    /// `bank_type` (nested here by the query endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<String>,
}

/// One payment of a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CollectionDetail {
    /// `seq`.
    #[serde(default)]
    pub seq: Option<u32>,
    /// `amount`.
    #[serde(default)]
    pub amount: Option<Fen>,
    /// `paid_type`.
    #[serde(default)]
    pub paid_type: Option<PaidType>,
    /// `paid_time`.
    #[serde(default)]
    pub paid_time: Option<String>,
    /// `transaction_id`: what refunds of this payment need.
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// `promotion_detail`, kept as sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promotion_detail: Vec<serde_json::Value>,
}

/// A service order as the API returns it (create, query, modify, complete, sync,
/// direct-complete, and the USER_CONFIRM / USER_PAID callbacks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceOrder {
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
    /// `service_introduction`.
    #[serde(default)]
    pub service_introduction: Option<String>,
    /// `state`.
    #[serde(default)]
    pub state: Option<State>,
    /// `state_description`.
    #[serde(default)]
    pub state_description: Option<StateDescription>,
    /// `post_payments`.
    #[serde(default)]
    pub post_payments: Vec<PostPayment>,
    /// `post_discounts`.
    #[serde(default)]
    pub post_discounts: Vec<PostDiscount>,
    /// `risk_fund`.
    #[serde(default)]
    pub risk_fund: Option<RiskFund>,
    /// `total_amount`.
    #[serde(default)]
    pub total_amount: Option<Fen>,
    /// `need_collection`.
    #[serde(default)]
    pub need_collection: Option<bool>,
    /// `collection`.
    #[serde(default)]
    pub collection: Option<Collection>,
    /// `time_range`.
    #[serde(default)]
    pub time_range: Option<TimeRange>,
    /// `location`.
    #[serde(default)]
    pub location: Option<Location>,
    /// `attach`.
    #[serde(default)]
    pub attach: Option<String>,
    /// `notify_url`.
    #[serde(default)]
    pub notify_url: Option<String>,
    /// `openid`.
    #[serde(default)]
    pub openid: Option<String>,
    /// `order_id`: WeChat Pay's service order id.
    #[serde(default)]
    pub order_id: Option<String>,
    /// `package`: the data the mini-program / app needs to confirm the order (valid 1 h).
    #[serde(default)]
    pub package: Option<String>,
    /// `sp_mchid`: the service provider, in partner mode, where a callback names it so
    /// (one official sample does; the others send the provider as `mchid`). See
    /// [`ServiceOrder::provider_mchid`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    /// `sub_mchid`: the sub-merchant, in partner mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// `sub_appid`: the sub-merchant's app, in partner mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// `sub_openid`: the user under `sub_appid`, in partner mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
    /// Every other field, unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ServiceOrder {
    /// In partner mode, the service provider: `mchid`, or `sp_mchid` where the payload
    /// names it so. In direct mode, the merchant.
    pub fn provider_mchid(&self) -> Option<&str> {
        self.mchid.as_deref().or(self.sp_mchid.as_deref())
    }
}

/// WeChat Pay's amounts are `int64` fen: nothing larger is ever sent.
pub(crate) const MAX_AMOUNT: Fen = Fen::new(i64::MAX as u64);

/// Refuses an amount beyond [`MAX_AMOUNT`].
pub(crate) fn check_amount(field: &str, amount: Fen) -> Result<(), Error> {
    if amount > MAX_AMOUNT {
        return Err(Error::invalid_request(
            field,
            format!("{amount} fen is beyond WeChat Pay's int64 amounts"),
        ));
    }
    Ok(())
}

pub(crate) fn check_payments(payments: &[PostPayment], require_amount: bool) -> Result<(), Error> {
    if payments.len() > 100 {
        return Err(Error::invalid_request("post_payments", "at most 100 items"));
    }
    for p in payments {
        validate::required("post_payments.name", &p.name, 20)?;
        validate::optional("post_payments.description", p.description.as_deref(), 30)?;
        if require_amount && p.amount.is_none() {
            return Err(Error::invalid_request(
                "post_payments.amount",
                "is required here",
            ));
        }
        if let Some(amount) = p.amount {
            check_amount("post_payments.amount", amount)?;
        }
    }
    Ok(())
}

pub(crate) fn check_discounts(
    discounts: &[PostDiscount],
    require_amount: bool,
) -> Result<(), Error> {
    if discounts.len() > 30 {
        return Err(Error::invalid_request("post_discounts", "at most 30 items"));
    }
    for d in discounts {
        validate::required("post_discounts.name", &d.name, 20)?;
        validate::optional("post_discounts.description", d.description.as_deref(), 30)?;
        if require_amount && d.amount.is_none() {
            return Err(Error::invalid_request(
                "post_discounts.amount",
                "is required here",
            ));
        }
        if let Some(amount) = d.amount {
            check_amount("post_discounts.amount", amount)?;
        }
    }
    Ok(())
}

/// `total_amount = Σ post_payments.amount − Σ post_discounts.amount`, or an error naming
/// both sides.
pub(crate) fn check_total(
    payments: &[PostPayment],
    discounts: &[PostDiscount],
    total: Fen,
) -> Result<(), Error> {
    fn sum(mut amounts: impl Iterator<Item = Fen>, field: &str) -> Result<Fen, Error> {
        amounts
            .try_fold(Fen::ZERO, Fen::checked_add)
            .filter(|sum| *sum <= MAX_AMOUNT)
            .ok_or_else(|| {
                Error::invalid_request(field, "the amounts add up beyond any real total")
            })
    }
    check_amount("total_amount", total)?;
    let paid = sum(payments.iter().filter_map(|p| p.amount), "post_payments")?;
    let off = sum(discounts.iter().filter_map(|d| d.amount), "post_discounts")?;
    let expected = paid.checked_sub(off).ok_or_else(|| {
        Error::invalid_request(
            "post_discounts",
            format!("discounts ({off}) exceed the payments ({paid})"),
        )
    })?;
    if expected != total {
        return Err(Error::invalid_request(
            "total_amount",
            format!(
                "must be Σ post_payments − Σ post_discounts = {paid} − {off} = {expected}, not {total}"
            ),
        ));
    }
    Ok(())
}

fn check_notify_url(url: &str) -> Result<(), Error> {
    validate::required("notify_url", url, 255)?;
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
///     RiskFund::new(RiskFundName::Deposit, Fen::new(20_000)).description("押金"),
///     "https://reseller.example/payscore/notify",
/// )
/// .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
/// .need_user_confirm(true);
/// assert!(serde_json::to_string(&order).unwrap().contains("\"out_order_no\":\"RENT-1001\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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
        validate::required("out_order_no", &self.out_order_no, 32)?;
        validate::required("appid", &self.appid, 32)?;
        validate::required("service_id", &self.service_id, 32)?;
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

/// (3) `POST /v3/payscore/serviceorder/{out_order_no}/cancel` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CancelServiceOrder {
    /// `appid`.
    pub appid: String,
    /// `service_id`.
    pub service_id: String,
    /// `reason` (≤ 30 characters, each Chinese character counting one).
    pub reason: String,
}

impl CancelServiceOrder {
    /// Cancels for `reason` (all three fields are required).
    ///
    /// ```
    /// use tixpay_wechat_payscore::CancelServiceOrder;
    ///
    /// let cancel = CancelServiceOrder::new("wxd678efh567hg6787", "500001", "用户投诉");
    /// assert_eq!(
    ///     serde_json::to_string(&cancel).unwrap(),
    ///     r#"{"appid":"wxd678efh567hg6787","service_id":"500001","reason":"用户投诉"}"#
    /// );
    /// ```
    pub fn new(
        appid: impl Into<String>,
        service_id: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            appid: appid.into(),
            service_id: service_id.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("appid", &self.appid, 32)?;
        validate::required("service_id", &self.service_id, 32)?;
        validate::required("reason", &self.reason, 30)
    }
}

/// (4) `POST …/{out_order_no}/modify` body: lower the amount of a completed, unpaid order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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
    /// Lowers the order to `total_amount` fen for `reason`. `post_payments` is required
    /// too: add at least one with [`ModifyServiceOrder::post_payment`].
    ///
    /// ```
    /// use tixpay_wechat_payscore::{Fen, ModifyServiceOrder, PostDiscount, PostPayment};
    ///
    /// let modify = ModifyServiceOrder::new("wxd678efh567hg6787", "500001", Fen::new(2_000), "用户投诉")
    ///     .post_payment(PostPayment::new("租车费", Fen::new(2_500)))
    ///     .post_discount(PostDiscount::new("补偿", Fen::new(500)));
    /// assert_eq!(
    ///     serde_json::to_string(&modify).unwrap(),
    ///     r#"{"appid":"wxd678efh567hg6787","service_id":"500001","post_payments":[{"name":"租车费","amount":2500}],"post_discounts":[{"name":"补偿","amount":500}],"total_amount":2000,"reason":"用户投诉"}"#
    /// );
    /// ```
    pub fn new(
        appid: impl Into<String>,
        service_id: impl Into<String>,
        total_amount: Fen,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            appid: appid.into(),
            service_id: service_id.into(),
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
        validate::required("appid", &self.appid, 32)?;
        validate::required("service_id", &self.service_id, 32)?;
        validate::required("reason", &self.reason, 50)?;
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
#[non_exhaustive]
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

    /// Checks the documented rules without sending.
    pub fn validate(&self) -> Result<(), Error> {
        validate::required("appid", &self.appid, 32)?;
        validate::required("service_id", &self.service_id, 32)?;
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
#[non_exhaustive]
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
#[non_exhaustive]
pub struct SyncDetail {
    /// `paid_time` (`yyyyMMddHHmmss`).
    pub paid_time: String,
}

impl SyncDetail {
    /// Paid at `paid_time` (`yyyyMMddHHmmss`, required).
    ///
    /// ```
    /// use tixpay_wechat_payscore::SyncDetail;
    ///
    /// let detail = SyncDetail::new("20091225091210");
    /// assert_eq!(serde_json::to_string(&detail).unwrap(), r#"{"paid_time":"20091225091210"}"#);
    /// ```
    pub fn new(paid_time: impl Into<String>) -> Self {
        Self {
            paid_time: paid_time.into(),
        }
    }
}

impl SyncServiceOrder {
    /// A sync of type `sync_type` (all four fields are required). The only documented
    /// type is `Order_Paid`, which [`SyncServiceOrder::order_paid`] writes for you.
    ///
    /// ```
    /// use tixpay_wechat_payscore::{SyncDetail, SyncServiceOrder};
    ///
    /// let sync = SyncServiceOrder::new(
    ///     "wxd678efh567hg6787", "500001", "Order_Paid", SyncDetail::new("20091225091210"),
    /// );
    /// assert_eq!(sync, SyncServiceOrder::order_paid("wxd678efh567hg6787", "500001", "20091225091210"));
    /// assert_eq!(
    ///     serde_json::to_string(&sync).unwrap(),
    ///     r#"{"appid":"wxd678efh567hg6787","service_id":"500001","type":"Order_Paid","detail":{"paid_time":"20091225091210"}}"#
    /// );
    /// ```
    pub fn new(
        appid: impl Into<String>,
        service_id: impl Into<String>,
        sync_type: impl Into<String>,
        detail: SyncDetail,
    ) -> Self {
        Self {
            appid: appid.into(),
            service_id: service_id.into(),
            sync_type: sync_type.into(),
            detail,
        }
    }

    /// `Order_Paid` at `paid_time` (`yyyyMMddHHmmss`).
    pub fn order_paid(
        appid: impl Into<String>,
        service_id: impl Into<String>,
        paid_time: impl Into<String>,
    ) -> Self {
        Self::new(appid, service_id, "Order_Paid", SyncDetail::new(paid_time))
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("appid", &self.appid, 32)?;
        validate::required("service_id", &self.service_id, 32)?;
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
#[non_exhaustive]
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
    /// Creates and completes order `out_order_no` over `time_range` for a total of
    /// `total_amount` fen (add the payments and discounts; the total must be their
    /// difference).
    ///
    /// ```
    /// use tixpay_wechat_payscore::{DirectComplete, Fen, PostPayment, TimePoint, TimeRange};
    ///
    /// let dc = DirectComplete::new(
    ///     "D1", "wxd678efh567hg6787", "500001",
    ///     TimeRange::starting(TimePoint::parse("20240101").unwrap()),
    ///     Fen::new(100),
    /// )
    /// .post_payment(PostPayment::new("租借", Fen::new(100)))
    /// .openid("oUpF8");
    /// assert_eq!(
    ///     serde_json::to_string(&dc).unwrap(),
    ///     r#"{"out_order_no":"D1","appid":"wxd678efh567hg6787","service_id":"500001","post_payments":[{"name":"租借","amount":100}],"time_range":{"start_time":"20240101"},"openid":"oUpF8","total_amount":100}"#
    /// );
    /// ```
    pub fn new(
        out_order_no: impl Into<String>,
        appid: impl Into<String>,
        service_id: impl Into<String>,
        time_range: TimeRange,
        total_amount: Fen,
    ) -> Self {
        Self {
            out_order_no: out_order_no.into(),
            appid: appid.into(),
            service_id: service_id.into(),
            service_introduction: None,
            post_payments: Vec::new(),
            post_discounts: Vec::new(),
            time_range,
            location: None,
            attach: None,
            notify_url: None,
            openid: None,
            total_amount,
            profit_sharing: None,
            goods_tag: None,
        }
    }

    /// Sets `service_introduction` (≤ 20 characters).
    #[must_use]
    pub fn service_introduction(mut self, introduction: impl Into<String>) -> Self {
        self.service_introduction = Some(introduction.into());
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

    /// Sets `attach`.
    #[must_use]
    pub fn attach(mut self, attach: impl Into<String>) -> Self {
        self.attach = Some(attach.into());
        self
    }

    /// Sets `notify_url` (https, no query string).
    #[must_use]
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// Sets `openid`.
    #[must_use]
    pub fn openid(mut self, openid: impl Into<String>) -> Self {
        self.openid = Some(openid.into());
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

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("out_order_no", &self.out_order_no, 32)?;
        validate::required("appid", &self.appid, 32)?;
        validate::required("service_id", &self.service_id, 32)?;
        validate::optional(
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
#[non_exhaustive]
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
    /// Pre-authorizes under the merchant's agreement number `authorization_code` (the
    /// three fields are required, in the order they are sent).
    ///
    /// ```
    /// use tixpay_wechat_payscore::PermissionsRequest;
    ///
    /// let request = PermissionsRequest::new("500001", "wxd678efh567hg6787", "AUTH1")
    ///     .notify_url("https://reseller.example/payscore/permissions");
    /// assert_eq!(
    ///     serde_json::to_string(&request).unwrap(),
    ///     r#"{"service_id":"500001","appid":"wxd678efh567hg6787","authorization_code":"AUTH1","notify_url":"https://reseller.example/payscore/permissions"}"#
    /// );
    /// ```
    pub fn new(
        service_id: impl Into<String>,
        appid: impl Into<String>,
        authorization_code: impl Into<String>,
    ) -> Self {
        Self {
            service_id: service_id.into(),
            appid: appid.into(),
            authorization_code: authorization_code.into(),
            notify_url: None,
        }
    }

    /// Sets `notify_url` (https, no query string).
    #[must_use]
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("service_id", &self.service_id, 32)?;
        validate::required("appid", &self.appid, 32)?;
        validate::required("authorization_code", &self.authorization_code, 64)?;
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
    /// `sub_mchid` (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// `sub_appid` (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// `sub_openid` (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
    /// Every other field, unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// (14) `POST /v3/payscore/permissions/assess-user-risk-level` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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

impl AssessUserRiskLevel {
    /// Assesses a user of `service_id` (both fields required, in the order they are
    /// sent); name the user with [`AssessUserRiskLevel::openid`] or
    /// [`AssessUserRiskLevel::authorization_code`].
    ///
    /// ```
    /// use tixpay_wechat_payscore::AssessUserRiskLevel;
    ///
    /// let assess = AssessUserRiskLevel::new("500001", "wxd678efh567hg6787").openid("oUpF8");
    /// assert_eq!(
    ///     serde_json::to_string(&assess).unwrap(),
    ///     r#"{"service_id":"500001","appid":"wxd678efh567hg6787","openid":"oUpF8"}"#
    /// );
    /// ```
    pub fn new(service_id: impl Into<String>, appid: impl Into<String>) -> Self {
        Self {
            service_id: service_id.into(),
            appid: appid.into(),
            authorization_code: None,
            openid: None,
            shopping_info: None,
        }
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

    /// Sets `shopping_info`, sent as given
    /// (`{"goods":[{"name","picture","amount","count","category_id"}]}`).
    #[must_use]
    pub fn shopping_info(mut self, shopping_info: serde_json::Value) -> Self {
        self.shopping_info = Some(shopping_info);
        self
    }
}

/// (15)/(16) `send-pendingmessage` / `send-prepaidmessage` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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
    /// A message announcing `total_amount` fen to be deducted on `prepaid_time`
    /// (`yyyyMMdd`). `post_payments` is required too: add at least one with
    /// [`PaymentMessage::post_payment`].
    ///
    /// ```
    /// use tixpay_wechat_payscore::{Fen, PaymentMessage, PostPayment};
    ///
    /// let message = PaymentMessage::new("500001", Fen::new(40_000), "20231218")
    ///     .post_payment(PostPayment::new("就餐费用", Fen::new(40_000)));
    /// assert_eq!(
    ///     serde_json::to_string(&message).unwrap(),
    ///     r#"{"service_id":"500001","post_payments":[{"name":"就餐费用","amount":40000}],"total_amount":40000,"prepaid_time":"20231218"}"#
    /// );
    /// ```
    pub fn new(
        service_id: impl Into<String>,
        total_amount: Fen,
        prepaid_time: impl Into<String>,
    ) -> Self {
        Self {
            service_id: service_id.into(),
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
        validate::required("service_id", &self.service_id, 32)?;
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
    /// Whether the files were asked for gzipped (`tar_type=GZIP`): not on the wire, set by
    /// [`Client::merchant_bill`](crate::Client::merchant_bill) from its request.
    #[serde(skip)]
    pub gzip: bool,
}

/// One file of a merchant bill, as sent. [`Client::download_merchant_bill`](crate::Client::download_merchant_bill)
/// unwraps `encrypt_key` (RSA-OAEP-SHA1 with the merchant's private key, inferred) and
/// checks the file.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_keep_unknown_values() {
        assert_eq!(State::parse("DONE"), State::Done);
        assert_eq!(State::parse("CLOSED"), State::Unknown("CLOSED".into()));
        let s: CollectionState = serde_json::from_str("\"WAIT_PAY\"").unwrap();
        assert_eq!(s, CollectionState::Unknown("WAIT_PAY".into()));
        assert_eq!(
            serde_json::to_string(&RiskFundName::CashDeposit).unwrap(),
            "\"CASH_DEPOSIT\""
        );
        assert_eq!(
            RiskFundName::parse("UDEPOSIT"),
            RiskFundName::Unknown("UDEPOSIT".into())
        );
    }

    #[test]
    fn time_points() {
        assert_eq!(TimePoint::parse("OnAccept").unwrap(), TimePoint::OnAccept);
        assert!(TimePoint::parse("20091225091010").is_ok());
        assert!(TimePoint::parse("20091225").is_ok());
        assert!(TimePoint::parse("2009-12-25T09:10:10+08:00").is_err());
        assert!(TimePoint::parse("20091325091010").is_err());
        let range = TimeRange::starting(TimePoint::parse("20240102000000").unwrap())
            .ending(TimePoint::parse("20240101").unwrap());
        assert!(range.validate().is_err());
        assert!(
            TimeRange::starting(TimePoint::OnAccept)
                .ending(TimePoint::OnAccept)
                .validate()
                .is_err()
        );
        assert!(TimeRange::starting(TimePoint::OnAccept).validate().is_ok());
    }

    #[test]
    fn totals() {
        let p = [
            PostPayment::new("租借", Fen::new(3000)),
            PostPayment::new("押金", Fen::new(0)),
        ];
        let d = [PostDiscount::new("新人", Fen::new(500))];
        assert!(check_total(&p, &d, Fen::new(2500)).is_ok());
        assert!(check_total(&p, &d, Fen::new(3000)).is_err());
        assert!(check_total(&p, &[PostDiscount::new("x", Fen::new(4000))], Fen::ZERO).is_err());
        assert!(
            check_total(
                &[
                    PostPayment::new("a", Fen::new(u64::MAX)),
                    PostPayment::new("b", Fen::new(1))
                ],
                &[],
                Fen::new(u64::MAX)
            )
            .is_err()
        );
        // WeChat Pay's amounts are int64: one past i64::MAX is refused even when it adds up.
        let beyond = Fen::new(i64::MAX as u64 + 1);
        assert!(check_total(&[PostPayment::new("a", beyond)], &[], beyond).is_err());
        let at_max = MAX_AMOUNT;
        assert!(check_total(&[PostPayment::new("a", at_max)], &[], at_max).is_ok());
        assert!(check_payments(&[PostPayment::new("a", beyond)], true).is_err());
        assert!(check_payments(&[PostPayment::new("a", at_max)], true).is_ok());
        assert!(check_discounts(&[PostDiscount::new("a", beyond)], true).is_err());
        let err = check_total(&p, &d, Fen::new(1)).unwrap_err().to_string();
        assert!(err.contains("3000 − 500 = 2500"), "{err}");
    }

    /// Every setter fills its own field: the builder form of each request equals (and so
    /// serializes as) the struct literal with every field given.
    #[test]
    fn builders_match_literals() {
        let at = |s: &str| TimePoint::parse(s).unwrap();
        let range = TimeRange {
            start_time: Some(at("20240101100000")),
            start_time_remark: Some("取车".into()),
            end_time: Some(at("20240101120000")),
            end_time_remark: Some("还车".into()),
        };
        assert_eq!(
            TimeRange::new()
                .start_time(at("20240101100000"))
                .start_time_remark("取车")
                .end_time(at("20240101120000"))
                .end_time_remark("还车"),
            range
        );
        assert_eq!(
            TimeRange::starting(at("20240101100000"))
                .start_time_remark("取车")
                .ending(at("20240101120000"))
                .end_time_remark("还车"),
            range
        );
        let location = Location {
            start_location: Some("东门".into()),
            end_location: Some("西门".into()),
        };
        assert_eq!(
            Location::new().start_location("东门").end_location("西门"),
            location
        );
        let device = Device {
            start_device_id: Some("A".into()),
            end_device_id: Some("B".into()),
            materiel_no: Some("M".into()),
        };
        assert_eq!(
            Device::new()
                .start_device_id("A")
                .end_device_id("B")
                .materiel_no("M"),
            device
        );
        let risk = RiskFund {
            name: RiskFundName::Deposit,
            amount: Fen::new(20_000),
            description: Some("押金".into()),
        };
        assert_eq!(
            RiskFund::new(RiskFundName::Deposit, Fen::new(20_000)).description("押金"),
            risk
        );
        let payment = PostPayment {
            name: "租车费".into(),
            amount: Some(Fen::new(3_000)),
            description: Some("2 小时".into()),
            count: Some(2),
        };
        assert_eq!(
            PostPayment::new("租车费", Fen::new(3_000))
                .description("2 小时")
                .count(2),
            payment
        );
        let discount = PostDiscount {
            name: "会员".into(),
            description: Some("95 折".into()),
            amount: Some(Fen::new(150)),
            count: Some(1),
        };
        assert_eq!(
            PostDiscount::new("会员", Fen::new(150))
                .description("95 折")
                .count(1),
            discount
        );
        assert_eq!(
            PostDiscount::for_create("会员", "95 折"),
            PostDiscount {
                name: "会员".into(),
                description: Some("95 折".into()),
                amount: None,
                count: None,
            }
        );

        assert_eq!(
            CreateServiceOrder::new(
                "R1",
                "wx1",
                "500001",
                "租车",
                range.clone(),
                risk.clone(),
                "https://r.example/n"
            )
            .post_payment(payment.clone())
            .post_discount(PostDiscount::for_create("会员", "95 折"))
            .location(location.clone())
            .attach("a=1")
            .openid("oU")
            .need_user_confirm(false)
            .device(device.clone()),
            CreateServiceOrder {
                out_order_no: "R1".into(),
                appid: "wx1".into(),
                service_id: "500001".into(),
                service_introduction: "租车".into(),
                post_payments: vec![payment.clone()],
                post_discounts: vec![PostDiscount::for_create("会员", "95 折")],
                time_range: range.clone(),
                location: Some(location.clone()),
                risk_fund: risk.clone(),
                attach: Some("a=1".into()),
                notify_url: "https://r.example/n".into(),
                openid: Some("oU".into()),
                need_user_confirm: false,
                device: Some(device.clone()),
            }
        );
        assert_eq!(
            CompleteServiceOrder::new("wx1", "500001", Fen::new(2_850))
                .post_payment(payment.clone())
                .post_discount(discount.clone())
                .time_range(range.clone())
                .location(location.clone())
                .profit_sharing(true)
                .goods_tag("T")
                .device(device.clone()),
            CompleteServiceOrder {
                appid: "wx1".into(),
                service_id: "500001".into(),
                post_payments: vec![payment.clone()],
                post_discounts: vec![discount.clone()],
                total_amount: Fen::new(2_850),
                time_range: Some(range.clone()),
                location: Some(location.clone()),
                profit_sharing: Some(true),
                goods_tag: Some("T".into()),
                device: Some(device.clone()),
            }
        );
        assert_eq!(
            CancelServiceOrder::new("wx1", "500001", "投诉"),
            CancelServiceOrder {
                appid: "wx1".into(),
                service_id: "500001".into(),
                reason: "投诉".into(),
            }
        );
        assert_eq!(
            ModifyServiceOrder::new("wx1", "500001", Fen::new(2_850), "投诉")
                .post_payment(payment.clone())
                .post_discount(discount.clone())
                .device(device.clone()),
            ModifyServiceOrder {
                appid: "wx1".into(),
                service_id: "500001".into(),
                post_payments: vec![payment.clone()],
                post_discounts: vec![discount.clone()],
                total_amount: Fen::new(2_850),
                reason: "投诉".into(),
                device: Some(device.clone()),
            }
        );
        assert_eq!(
            SyncServiceOrder::new(
                "wx1",
                "500001",
                "Order_Paid",
                SyncDetail::new("20240101120000")
            ),
            SyncServiceOrder {
                appid: "wx1".into(),
                service_id: "500001".into(),
                sync_type: "Order_Paid".into(),
                detail: SyncDetail {
                    paid_time: "20240101120000".into(),
                },
            }
        );
        assert_eq!(
            DirectComplete::new("D1", "wx1", "500001", range.clone(), Fen::new(2_850))
                .service_introduction("租车")
                .post_payment(payment.clone())
                .post_discount(discount.clone())
                .location(location.clone())
                .attach("a=1")
                .notify_url("https://r.example/n")
                .openid("oU")
                .profit_sharing(false)
                .goods_tag("T"),
            DirectComplete {
                out_order_no: "D1".into(),
                appid: "wx1".into(),
                service_id: "500001".into(),
                service_introduction: Some("租车".into()),
                post_payments: vec![payment.clone()],
                post_discounts: vec![discount.clone()],
                time_range: range,
                location: Some(location),
                attach: Some("a=1".into()),
                notify_url: Some("https://r.example/n".into()),
                openid: Some("oU".into()),
                total_amount: Fen::new(2_850),
                profit_sharing: Some(false),
                goods_tag: Some("T".into()),
            }
        );
        assert_eq!(
            PermissionsRequest::new("500001", "wx1", "AUTH1").notify_url("https://r.example/p"),
            PermissionsRequest {
                service_id: "500001".into(),
                appid: "wx1".into(),
                authorization_code: "AUTH1".into(),
                notify_url: Some("https://r.example/p".into()),
            }
        );
        let goods = serde_json::json!({"goods": [{"name": "车", "picture": "https://p", "amount": 1, "count": 1}]});
        assert_eq!(
            AssessUserRiskLevel::new("500001", "wx1")
                .authorization_code("AUTH1")
                .openid("oU")
                .shopping_info(goods.clone()),
            AssessUserRiskLevel {
                service_id: "500001".into(),
                appid: "wx1".into(),
                authorization_code: Some("AUTH1".into()),
                openid: Some("oU".into()),
                shopping_info: Some(goods),
            }
        );
        assert_eq!(
            PaymentMessage::new("500001", Fen::new(2_850), "20231218")
                .post_payment(payment.clone())
                .post_discount(discount.clone()),
            PaymentMessage {
                service_id: "500001".into(),
                post_payments: vec![payment],
                post_discounts: vec![discount],
                total_amount: Fen::new(2_850),
                prepaid_time: "20231218".into(),
            }
        );
    }

    /// `PostDiscount::for_create` is the discount create's rules accept; `new` (with an
    /// amount) is refused there.
    #[test]
    fn create_takes_amount_less_discounts() {
        let order = |d: PostDiscount| {
            CreateServiceOrder::new(
                "R1",
                "wx1",
                "500001",
                "租车",
                TimeRange::starting(TimePoint::OnAccept),
                RiskFund::new(RiskFundName::Deposit, Fen::new(20_000)),
                "https://r.example/n",
            )
            .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
            .post_discount(d)
        };
        assert!(
            order(PostDiscount::for_create("会员", "95 折"))
                .validate()
                .is_ok()
        );
        assert!(
            order(PostDiscount::new("会员", Fen::new(150)).description("95 折"))
                .validate()
                .is_err()
        );
    }

    #[test]
    fn lengths_count_characters() {
        assert!(validate::required("reason", &"投".repeat(30), 30).is_ok());
        assert!(validate::required("reason", &"投".repeat(31), 30).is_err());
        assert!(validate::required("reason", " ", 30).is_err());
    }
}
