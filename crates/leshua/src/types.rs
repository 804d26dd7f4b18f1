//! Public request and reply types.

use std::fmt;

use tixpay_core::validate;
use tixpay_core::{Error, Fen};

/// A reply's or notification's fields, in document order, exactly as received.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Fields(pub(crate) Vec<(String, String)>);

impl Fields {
    /// The value of `name`, if present (empty strings included).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name` when present and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Every field, in document order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub(crate) fn borrowed(&self) -> Vec<(&str, &str)> {
        self.iter().collect()
    }

    pub(crate) fn string(&self, name: &str) -> Option<String> {
        self.non_empty(name).map(str::to_owned)
    }

    /// The amount in `name`: `Ok(None)` when absent or empty, an error naming the field when
    /// present but not a decimal integer of fen.
    pub(crate) fn fen_strict(&self, name: &str) -> Result<Option<Fen>, String> {
        match self.non_empty(name) {
            None => Ok(None),
            Some(text) => Fen::parse(text)
                .map(Some)
                .ok_or_else(|| format!("`{text}` is not an amount in fen")),
        }
    }

    pub(crate) fn fen(&self, name: &str) -> Option<Fen> {
        self.non_empty(name).and_then(Fen::parse)
    }
}

/// 支付方式 `pay_way`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayWay {
    /// `WXZF`: WeChat Pay.
    Wechat,
    /// `ZFBZF`: Alipay.
    Alipay,
    /// `UPSMZF`: UnionPay QR.
    UnionPay,
    /// Another value, kept as sent (`DCPAY` appears in newer clients).
    Unknown(String),
}

impl PayWay {
    /// The value on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Wechat => "WXZF",
            Self::Alipay => "ZFBZF",
            Self::UnionPay => "UPSMZF",
            Self::Unknown(s) => s,
        }
    }

    /// Reads a wire value.
    pub fn parse(s: &str) -> Self {
        match s {
            "WXZF" => Self::Wechat,
            "ZFBZF" => Self::Alipay,
            "UPSMZF" => Self::UnionPay,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

tixpay_core::wire_text_serde!(PayWay, OrderStatus);

/// 订单状态 `status`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OrderStatus {
    /// 0 支付中: still paying; query again.
    Paying,
    /// 2 支付成功.
    Paid,
    /// 6 订单关闭.
    Closed,
    /// 8 支付失败.
    PayFailed,
    /// 10 退款中.
    Refunding,
    /// 11 退款成功.
    Refunded,
    /// 12 退款失败.
    RefundFailed,
    /// 30 刷卡支付成功: a card payment succeeded. Sent only in the agent/POS card
    /// notifications (扫码支付成功通知 / 扫码退款通知), never by the gateway's services.
    CardPaid,
    /// 31 撤销成功: a card payment was voided. Agent/POS notifications only.
    CardVoided,
    /// 32 退货成功: a card payment was returned (refunded). Agent/POS notifications only.
    CardReturned,
    /// 33 冲正成功: a card transaction was reversed. Agent/POS notifications only.
    CardReversed,
    /// Another value, kept as sent.
    Unknown(String),
}

impl OrderStatus {
    /// Reads a wire value.
    pub fn parse(s: &str) -> Self {
        match s {
            "0" => Self::Paying,
            "2" => Self::Paid,
            "6" => Self::Closed,
            "8" => Self::PayFailed,
            "10" => Self::Refunding,
            "11" => Self::Refunded,
            "12" => Self::RefundFailed,
            "30" => Self::CardPaid,
            "31" => Self::CardVoided,
            "32" => Self::CardReturned,
            "33" => Self::CardReversed,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The value on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Paying => "0",
            Self::Paid => "2",
            Self::Closed => "6",
            Self::PayFailed => "8",
            Self::Refunding => "10",
            Self::Refunded => "11",
            Self::RefundFailed => "12",
            Self::CardPaid => "30",
            Self::CardVoided => "31",
            Self::CardReturned => "32",
            Self::CardReversed => "33",
            Self::Unknown(s) => s,
        }
    }

    /// Whether the status will not change by itself (paid, closed, failed, refunded,
    /// refund failed). The agent/POS card statuses (30–33) and unknown values are not
    /// counted: no document says whether they can still change.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Paid | Self::Closed | Self::PayFailed | Self::Refunded | Self::RefundFailed
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which order: the merchant's `third_order_id` or LeShua's `leshua_order_id` ("必填1个,
/// 优先使用leshua_order_id").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrderRef {
    /// `third_order_id` (≤ 64).
    ThirdOrderId(String),
    /// `leshua_order_id` (≤ 32).
    LeshuaOrderId(String),
}

impl OrderRef {
    pub(crate) fn field(&self) -> (&'static str, &str) {
        match self {
            Self::ThirdOrderId(id) => ("third_order_id", id),
            Self::LeshuaOrderId(id) => ("leshua_order_id", id),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let (name, value) = self.field();
        let max = if name == "third_order_id" { 64 } else { 32 };
        validate::required(name, value, max)
    }

    /// The id, whichever it is.
    pub fn id(&self) -> &str {
        self.field().1
    }
}

/// Which refund: the merchant's `merchant_refund_id` or LeShua's `leshua_refund_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefundRef {
    /// `merchant_refund_id` (≤ 64).
    MerchantRefundId(String),
    /// `leshua_refund_id` (≤ 32).
    LeshuaRefundId(String),
}

impl RefundRef {
    pub(crate) fn field(&self) -> (&'static str, &str) {
        match self {
            Self::MerchantRefundId(id) => ("merchant_refund_id", id),
            Self::LeshuaRefundId(id) => ("leshua_refund_id", id),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        match self {
            Self::MerchantRefundId(id) => check_refund_id(id),
            Self::LeshuaRefundId(id) => validate::required("leshua_refund_id", id, 32),
        }
    }
}

/// `merchant_refund_id`: required, at most 64 characters, letters and digits only (the
/// manual allows letters; public clients report that `_` and other symbols are refused).
pub(crate) fn check_refund_id(id: &str) -> Result<(), Error> {
    validate::required("merchant_refund_id", id, 64)?;
    if !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid_request(
            "merchant_refund_id",
            "use letters and digits only",
        ));
    }
    Ok(())
}

fn check_amount(name: &str, amount: Fen) -> Result<(), Error> {
    if amount.is_zero() {
        return Err(Error::invalid_request(name, "must be above zero"));
    }
    validate::at_most(name, &amount.to_string(), 10)
}

/// How a `get_tdcode` order is paid (`jspay_flag`), with the fields each mode requires.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayMode {
    /// 0: scan a QR code (Native); the reply carries `td_code`.
    Native,
    /// 1: WeChat official account / Alipay 服务窗 / UnionPay JS (`sub_openid` required); the
    /// reply carries `jspay_info`.
    Jsapi {
        /// `sub_openid` of the payer.
        sub_openid: String,
    },
    /// 2: 简易支付, redirect to LeShua's cashier (`jump_url` required); the reply carries
    /// `jspay_url`.
    Cashier {
        /// `jump_url` after payment.
        jump_url: String,
    },
    /// 3: WeChat / Alipay mini-program (`sub_openid` required); the reply carries
    /// `jspay_info`.
    MiniProgram {
        /// `sub_openid` of the payer.
        sub_openid: String,
    },
}

impl PayMode {
    fn flag(&self) -> &'static str {
        match self {
            Self::Native => "0",
            Self::Jsapi { .. } => "1",
            Self::Cashier { .. } => "2",
            Self::MiniProgram { .. } => "3",
        }
    }
}

macro_rules! optional_setters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(mut self, value: impl Into<String>) -> Self {
                self.$name = Some(value.into());
                self
            }
        )*
    };
}

/// `get_tdcode` (统一下单): a QR, JSAPI, cashier or mini-program payment.
///
/// ```
/// use tixpay_core::Fen;
/// use tixpay_leshua::{PayMode, PayWay, UnifiedOrder};
///
/// let order = UnifiedOrder::new(PayWay::Wechat, "NL2019032218253280439", Fen::new(100), PayMode::Native)
///     .notify_url("https://reseller.example/leshua/notify")
///     .body("景区门票 x3");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnifiedOrder {
    /// `pay_way`.
    pub pay_way: PayWay,
    /// `third_order_id`: the merchant's order id (≤ 64).
    pub third_order_id: String,
    /// `amount` in fen.
    pub amount: Fen,
    /// `jspay_flag` and its fields.
    pub mode: PayMode,
    /// `appid` (≤ 32).
    pub appid: Option<String>,
    /// `notify_url` (≤ 128).
    pub notify_url: Option<String>,
    /// `client_ip` (≤ 16).
    pub client_ip: Option<String>,
    /// `body` (≤ 256).
    pub body: Option<String>,
    /// `shop_no` (≤ 16).
    pub shop_no: Option<String>,
    /// `pos_no` (≤ 16).
    pub pos_no: Option<String>,
    /// `attach`, echoed back (≤ 96).
    pub attach: Option<String>,
    /// `extend_business_params` (JSON text).
    pub extend_business_params: Option<String>,
    /// Fields public clients send that the manual's truncated table does not show
    /// (`limit_pay`, `goods_tag`, `order_expiration`, …), sent as given.
    pub extra: Vec<(String, String)>,
}

impl UnifiedOrder {
    fn optional(&self) -> [Optional<'_>; 8] {
        [
            ("appid", &self.appid, Some(32)),
            ("notify_url", &self.notify_url, Some(128)),
            ("client_ip", &self.client_ip, Some(16)),
            ("body", &self.body, Some(256)),
            ("shop_no", &self.shop_no, Some(16)),
            ("pos_no", &self.pos_no, Some(16)),
            ("attach", &self.attach, Some(96)),
            ("extend_business_params", &self.extend_business_params, None),
        ]
    }

    /// An order with the required fields.
    pub fn new(
        pay_way: PayWay,
        third_order_id: impl Into<String>,
        amount: Fen,
        mode: PayMode,
    ) -> Self {
        Self {
            pay_way,
            third_order_id: third_order_id.into(),
            amount,
            mode,
            appid: None,
            notify_url: None,
            client_ip: None,
            body: None,
            shop_no: None,
            pos_no: None,
            attach: None,
            extend_business_params: None,
            extra: Vec::new(),
        }
    }

    optional_setters!(
        /// Sets `appid`.
        appid,
        /// Sets `notify_url`.
        notify_url,
        /// Sets `client_ip`.
        client_ip,
        /// Sets `body`.
        body,
        /// Sets `shop_no`.
        shop_no,
        /// Sets `pos_no`.
        pos_no,
        /// Sets `attach`.
        attach,
        /// Sets `extend_business_params` (JSON text).
        extend_business_params,
    );

    /// Adds a field the manual's table does not show (sent and signed as given).
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    pub(crate) fn fields(&self) -> Vec<(String, String)> {
        let mut f = vec![
            ("pay_way".to_owned(), self.pay_way.as_str().to_owned()),
            ("third_order_id".to_owned(), self.third_order_id.clone()),
            ("amount".to_owned(), self.amount.to_string()),
            ("jspay_flag".to_owned(), self.mode.flag().to_owned()),
        ];
        match &self.mode {
            PayMode::Jsapi { sub_openid } | PayMode::MiniProgram { sub_openid } => {
                f.push(("sub_openid".to_owned(), sub_openid.clone()));
            }
            PayMode::Cashier { jump_url } => f.push(("jump_url".to_owned(), jump_url.clone())),
            PayMode::Native => {}
        }
        push_optional(&mut f, &self.optional());
        f.extend(self.extra.iter().cloned());
        f
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("third_order_id", &self.third_order_id, 64)?;
        check_amount("amount", self.amount)?;
        if let PayWay::Unknown(w) = &self.pay_way {
            validate::required("pay_way", w, 16)?;
        }
        match &self.mode {
            PayMode::Jsapi { sub_openid } | PayMode::MiniProgram { sub_openid } => {
                validate::required("sub_openid", sub_openid, 32)?;
            }
            PayMode::Cashier { jump_url } => validate::required("jump_url", jump_url, 128)?,
            PayMode::Native => {}
        }
        check_optional(&self.optional())?;
        check_extra(&self.extra, &[])
    }
}

/// An optional field: its name, its value, and its length limit (if documented).
type Optional<'a> = (&'static str, &'a Option<String>, Option<usize>);

fn push_optional(out: &mut Vec<(String, String)>, optional: &[Optional<'_>]) {
    for (name, value, _) in optional {
        if let Some(v) = value {
            out.push(((*name).to_owned(), v.clone()));
        }
    }
}

fn check_optional(optional: &[Optional<'_>]) -> Result<(), Error> {
    for (name, value, max) in optional {
        if let (Some(v), Some(max)) = (value, max) {
            validate::at_most(name, v, *max)?;
        }
    }
    Ok(())
}

/// Extra fields: named like LeShua's own (letters, digits, `_`), not reserved, not one of
/// `own` (the request's typed fields, which have their own constructor or setter and
/// checks), and each given once (a name that is blank or holds `=`, `&` or spaces would
/// change what is signed).
fn check_extra(extra: &[(String, String)], own: &[&str]) -> Result<(), Error> {
    const RESERVED: &[&str] = &["service", "merchant_id", "nonce_str", "sign"];
    for (i, (name, _)) in extra.iter().enumerate() {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(Error::invalid_request(
                name.as_str(),
                "an extra field's name must be letters, digits and `_`",
            ));
        }
        if RESERVED.contains(&name.as_str()) {
            return Err(Error::invalid_request(
                name.as_str(),
                "cannot be set as an extra field",
            ));
        }
        if own.contains(&name.as_str()) {
            return Err(Error::invalid_request(
                name.as_str(),
                "is a field of this request: set it with its constructor or setter",
            ));
        }
        if extra
            .get(..i)
            .unwrap_or(&[])
            .iter()
            .any(|(earlier, _)| earlier == name)
        {
            return Err(Error::invalid_request(
                name.as_str(),
                "is given twice as an extra field",
            ));
        }
    }
    Ok(())
}

/// `upload_authcode` (条码支付): charge the code the customer shows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BarcodePay {
    /// `auth_code`: the scanned code.
    pub auth_code: String,
    /// `third_order_id` (≤ 64).
    pub third_order_id: String,
    /// `amount` in fen.
    pub amount: Fen,
    /// `notify_url` (≤ 128).
    pub notify_url: Option<String>,
    /// `client_ip`.
    pub client_ip: Option<String>,
    /// `body` (≤ 256).
    pub body: Option<String>,
    /// `shop_no`.
    pub shop_no: Option<String>,
    /// `pos_no`.
    pub pos_no: Option<String>,
    /// `attach` (≤ 96).
    pub attach: Option<String>,
    /// Other documented optional fields (`limit_pay`, `goods_tag`, `goods_detail`,
    /// `hb_fq_num`, `Source`, `extend_business_params`), sent as given.
    pub extra: Vec<(String, String)>,
}

impl BarcodePay {
    fn optional(&self) -> [Optional<'_>; 6] {
        [
            ("notify_url", &self.notify_url, Some(128)),
            ("client_ip", &self.client_ip, Some(16)),
            ("body", &self.body, Some(256)),
            ("shop_no", &self.shop_no, Some(16)),
            ("pos_no", &self.pos_no, Some(16)),
            ("attach", &self.attach, Some(96)),
        ]
    }

    /// A barcode payment with the required fields.
    pub fn new(
        auth_code: impl Into<String>,
        third_order_id: impl Into<String>,
        amount: Fen,
    ) -> Self {
        Self {
            auth_code: auth_code.into(),
            third_order_id: third_order_id.into(),
            amount,
            notify_url: None,
            client_ip: None,
            body: None,
            shop_no: None,
            pos_no: None,
            attach: None,
            extra: Vec::new(),
        }
    }

    optional_setters!(
        /// Sets `notify_url`.
        notify_url,
        /// Sets `client_ip`.
        client_ip,
        /// Sets `body`.
        body,
        /// Sets `shop_no`.
        shop_no,
        /// Sets `pos_no`.
        pos_no,
        /// Sets `attach`.
        attach,
    );

    /// Adds another field (sent and signed as given).
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    pub(crate) fn fields(&self) -> Vec<(String, String)> {
        let mut f = vec![
            ("auth_code".to_owned(), self.auth_code.clone()),
            ("third_order_id".to_owned(), self.third_order_id.clone()),
            ("amount".to_owned(), self.amount.to_string()),
        ];
        push_optional(&mut f, &self.optional());
        f.extend(self.extra.iter().cloned());
        f
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::required("auth_code", &self.auth_code, 128)?;
        validate::required("third_order_id", &self.third_order_id, 64)?;
        check_amount("amount", self.amount)?;
        check_optional(&self.optional())?;
        check_extra(&self.extra, &[])
    }
}

/// `unified_refund` (退款): refund all or part of a paid order.
///
/// ```
/// use tixpay_core::Fen;
/// use tixpay_leshua::{OrderRef, Refund};
///
/// let refund = Refund::new(OrderRef::LeshuaOrderId("1812072242293655".into()), "R20240101001", Fen::new(100))
///     .notify_url("https://example.com/leshua/refund_notify")
///     .refund_type("1");
/// assert!(refund.validate().is_ok());
/// assert!(Refund::new(OrderRef::ThirdOrderId("T1".into()), "R_1", Fen::new(1)).validate().is_err());
/// // An extra field may not stand in for one of the refund's own.
/// assert!(refund.param("third_order_id", "T2").validate().is_err());
/// ```
///
/// Every field, extra ones included, is signed with the others. The request is keyed by
/// `merchant_refund_id`: its body is built once, so a resend repeats the same bytes, extra
/// fields and their order included.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refund {
    /// The order.
    pub order: OrderRef,
    /// `merchant_refund_id`: unique per merchant; the same id on every attempt.
    pub merchant_refund_id: String,
    /// `refund_amount` in fen (partial refunds allowed).
    pub refund_amount: Fen,
    /// `notify_url` for the refund result (≤ 128).
    pub notify_url: Option<String>,
    /// `refund_type`, as given. Public clients send `refund_type=1`; the manual's table
    /// does not list the field and no document says what its values mean, so it is kept as
    /// raw text and not checked.
    pub refund_type: Option<String>,
    /// Fields the manual's table does not show, sent after the others in the order given
    /// and signed with them.
    pub extra: Vec<(String, String)>,
}

impl Refund {
    /// The names of the refund's own fields: set by [`Refund::new`] and the setters, never
    /// through [`Refund::param`].
    const FIELDS: &'static [&'static str] = &[
        "third_order_id",
        "leshua_order_id",
        "merchant_refund_id",
        "refund_amount",
        "notify_url",
        "refund_type",
    ];

    fn optional(&self) -> [Optional<'_>; 2] {
        [
            ("notify_url", &self.notify_url, Some(128)),
            ("refund_type", &self.refund_type, None),
        ]
    }

    /// A refund of `refund_amount` from `order`, identified by `merchant_refund_id`.
    pub fn new(order: OrderRef, merchant_refund_id: impl Into<String>, refund_amount: Fen) -> Self {
        Self {
            order,
            merchant_refund_id: merchant_refund_id.into(),
            refund_amount,
            notify_url: None,
            refund_type: None,
            extra: Vec::new(),
        }
    }

    optional_setters!(
        /// Sets `notify_url`.
        notify_url,
        /// Sets `refund_type` (sent by public clients as `1`; its meaning is not
        /// documented, so the value is sent as given).
        refund_type,
    );

    /// Adds a field the manual's table does not show (sent and signed as given). Its name
    /// must be letters, digits and `_`, given once, and none of `service`, `merchant_id`,
    /// `nonce_str`, `sign` or the refund's own fields (the order id of either kind
    /// included); otherwise the refund is refused before anything is sent.
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Checks the documented rules without sending.
    pub fn validate(&self) -> Result<(), Error> {
        self.order.validate()?;
        check_refund_id(&self.merchant_refund_id)?;
        check_amount("refund_amount", self.refund_amount)?;
        check_optional(&self.optional())?;
        check_extra(&self.extra, Self::FIELDS)
    }

    pub(crate) fn fields(&self) -> Vec<(String, String)> {
        let (name, id) = self.order.field();
        let mut f = vec![
            (name.to_owned(), id.to_owned()),
            (
                "merchant_refund_id".to_owned(),
                self.merchant_refund_id.clone(),
            ),
            ("refund_amount".to_owned(), self.refund_amount.to_string()),
        ];
        push_optional(&mut f, &self.optional());
        f.extend(self.extra.iter().cloned());
        f
    }
}

/// The reply of `get_tdcode`, `upload_authcode`, `query_status` and `close_order`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct OrderReply {
    /// `status`, when sent.
    pub status: Option<OrderStatus>,
    /// `leshua_order_id`.
    pub leshua_order_id: Option<String>,
    /// `third_order_id`.
    pub third_order_id: Option<String>,
    /// `amount` in fen.
    pub amount: Option<Fen>,
    /// `pay_way`.
    pub pay_way: Option<PayWay>,
    /// `td_code`: the QR content (Native).
    pub td_code: Option<String>,
    /// `jspay_url`: the cashier URL (简易支付).
    pub jspay_url: Option<String>,
    /// `jspay_info`: the JSAPI / mini-program parameters, as sent (JSON text or a URL).
    pub jspay_info: Option<String>,
    /// `pay_time`, as sent (`yyyyMMddHHmmss` or `yyyy-MM-dd HH:mm:ss`); see
    /// [`crate::notify::parse_pay_time`].
    pub pay_time: Option<String>,
    /// Every field of the verified reply.
    pub fields: Fields,
}

impl OrderReply {
    pub(crate) fn from_fields(fields: Fields) -> Self {
        Self {
            status: fields.non_empty("status").map(OrderStatus::parse),
            leshua_order_id: fields.string("leshua_order_id"),
            third_order_id: fields.string("third_order_id"),
            amount: fields.fen("amount"),
            pay_way: fields.non_empty("pay_way").map(PayWay::parse),
            td_code: fields.string("td_code"),
            jspay_url: fields.string("jspay_url"),
            jspay_info: fields.string("jspay_info"),
            pay_time: fields.string("pay_time"),
            fields,
        }
    }
}

/// The reply of `unified_refund` and `unified_query_refund`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct RefundReply {
    /// `status`: usually 10 (退款中) right after the request; query for the final state.
    pub status: Option<OrderStatus>,
    /// `merchant_refund_id`.
    pub merchant_refund_id: Option<String>,
    /// `leshua_refund_id`.
    pub leshua_refund_id: Option<String>,
    /// `leshua_order_id`.
    pub leshua_order_id: Option<String>,
    /// `refund_amount` in fen.
    pub refund_amount: Option<Fen>,
    /// `total_amount` in fen.
    pub total_amount: Option<Fen>,
    /// `order_balance` in fen: what is left after this refund.
    pub order_balance: Option<Fen>,
    /// `settlement_refund_amount` 实际退款金额, in fen.
    pub settlement_refund_amount: Option<Fen>,
    /// Every field of the verified reply.
    pub fields: Fields,
}

impl RefundReply {
    pub(crate) fn from_fields(fields: Fields) -> Self {
        Self {
            status: fields.non_empty("status").map(OrderStatus::parse),
            merchant_refund_id: fields.string("merchant_refund_id"),
            leshua_refund_id: fields.string("leshua_refund_id"),
            leshua_order_id: fields.string("leshua_order_id"),
            refund_amount: fields.fen("refund_amount"),
            total_amount: fields.fen("total_amount"),
            order_balance: fields.fen("order_balance"),
            settlement_refund_amount: fields.fen("settlement_refund_amount"),
            fields,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tixpay_core::ErrorKind;

    #[test]
    fn pay_modes_add_their_fields() {
        let o = UnifiedOrder::new(
            PayWay::Alipay,
            "T1",
            Fen::new(1),
            PayMode::MiniProgram {
                sub_openid: "o1".into(),
            },
        );
        let f = o.fields();
        assert!(f.contains(&("jspay_flag".into(), "3".into())));
        assert!(f.contains(&("sub_openid".into(), "o1".into())));
        assert!(o.validate().is_ok());
        let cashier = UnifiedOrder::new(
            PayWay::Wechat,
            "T1",
            Fen::new(1),
            PayMode::Cashier {
                jump_url: String::new(),
            },
        );
        assert!(cashier.validate().is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let long = "x".repeat(65);
        assert!(
            UnifiedOrder::new(PayWay::Wechat, long, Fen::new(1), PayMode::Native)
                .validate()
                .is_err()
        );
        assert!(
            UnifiedOrder::new(PayWay::Wechat, "T", Fen::ZERO, PayMode::Native)
                .validate()
                .is_err()
        );
        assert!(
            UnifiedOrder::new(
                PayWay::Wechat,
                "T",
                Fen::new(99_999_999_999),
                PayMode::Native
            )
            .validate()
            .is_err()
        );
        assert!(
            UnifiedOrder::new(PayWay::Wechat, "T", Fen::new(1), PayMode::Native)
                .attach("x".repeat(97))
                .validate()
                .is_err()
        );
        assert!(
            UnifiedOrder::new(PayWay::Wechat, "T", Fen::new(1), PayMode::Native)
                .body("票".repeat(256))
                .validate()
                .is_ok()
        );
        assert!(
            UnifiedOrder::new(PayWay::Wechat, "T", Fen::new(1), PayMode::Native)
                .param("sign", "x")
                .validate()
                .is_err()
        );
        assert!(
            Refund::new(
                OrderRef::ThirdOrderId("T".into()),
                "R".repeat(65),
                Fen::new(1)
            )
            .validate()
            .is_err()
        );
        assert!(
            Refund::new(OrderRef::ThirdOrderId("T".into()), "R-1", Fen::new(1))
                .validate()
                .is_err()
        );
        assert!(
            Refund::new(OrderRef::ThirdOrderId(String::new()), "R1", Fen::new(1))
                .validate()
                .is_err()
        );
        assert!(
            Refund::new(OrderRef::LeshuaOrderId("x".repeat(33)), "R1", Fen::new(1))
                .validate()
                .is_err()
        );
        assert!(
            Refund::new(OrderRef::ThirdOrderId("T".into()), "R1", Fen::ZERO)
                .validate()
                .is_err()
        );
        assert!(
            Refund::new(OrderRef::ThirdOrderId("T".into()), "R1", Fen::new(5))
                .validate()
                .is_ok()
        );
        assert!(BarcodePay::new("", "T", Fen::new(1)).validate().is_err());
    }

    #[test]
    fn statuses() {
        let known = [
            ("0", OrderStatus::Paying),
            ("2", OrderStatus::Paid),
            ("6", OrderStatus::Closed),
            ("8", OrderStatus::PayFailed),
            ("10", OrderStatus::Refunding),
            ("11", OrderStatus::Refunded),
            ("12", OrderStatus::RefundFailed),
            ("30", OrderStatus::CardPaid),
            ("31", OrderStatus::CardVoided),
            ("32", OrderStatus::CardReturned),
            ("33", OrderStatus::CardReversed),
        ];
        for (wire, status) in known {
            assert_eq!(OrderStatus::parse(wire), status);
            assert_eq!(status.as_str(), wire);
            assert_eq!(status.to_string(), wire);
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{wire}\""));
            assert_eq!(serde_json::from_str::<OrderStatus>(&json).unwrap(), status);
        }
        for other in ["1", "13", "29", "34", "030", ""] {
            assert_eq!(
                OrderStatus::parse(other),
                OrderStatus::Unknown(other.into())
            );
            assert_eq!(OrderStatus::parse(other).as_str(), other);
        }
        for status in [
            OrderStatus::Paid,
            OrderStatus::Closed,
            OrderStatus::PayFailed,
            OrderStatus::Refunded,
            OrderStatus::RefundFailed,
        ] {
            assert!(status.is_final(), "{status:?}");
        }
        // The card statuses are not counted as final: no document says whether they change.
        for status in [
            OrderStatus::Paying,
            OrderStatus::Refunding,
            OrderStatus::CardPaid,
            OrderStatus::CardVoided,
            OrderStatus::CardReturned,
            OrderStatus::CardReversed,
            OrderStatus::Unknown("99".into()),
        ] {
            assert!(!status.is_final(), "{status:?}");
        }
        assert_eq!(PayWay::parse("DCPAY"), PayWay::Unknown("DCPAY".into()));
    }

    #[test]
    fn refund_fields_in_order() {
        let refund = Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(5))
            .param("zz_custom", "z")
            .refund_type("1")
            .notify_url("https://n.example/r")
            .param("a_custom", "a");
        let owned = refund.fields();
        let fields: Vec<(&str, &str)> = owned
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("third_order_id", "T1"),
                ("merchant_refund_id", "R1"),
                ("refund_amount", "5"),
                ("notify_url", "https://n.example/r"),
                ("refund_type", "1"),
                ("zz_custom", "z"),
                ("a_custom", "a"),
            ]
        );
        assert!(refund.validate().is_ok());
        let bare = Refund::new(OrderRef::LeshuaOrderId("L1".into()), "R1", Fen::new(5));
        assert_eq!(bare.fields().len(), 3);
        assert_eq!(bare.order.id(), "L1");
        assert_eq!(refund.order.id(), "T1");
    }

    #[test]
    fn refund_optional_and_extra_fields_are_checked() {
        let base = || Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(5));
        let field = |r: Refund| match r.validate().unwrap_err().kind() {
            ErrorKind::InvalidRequest { field, .. } => field.clone(),
            other => panic!("{other:?}"),
        };
        assert!(base().notify_url("x".repeat(128)).validate().is_ok());
        assert_eq!(
            field(base().notify_url("x".repeat(129))).as_deref(),
            Some("notify_url")
        );
        // No limit is documented for refund_type: any text goes as given.
        assert!(base().refund_type("x".repeat(300)).validate().is_ok());
        assert!(base().param("Custom_9", "v").validate().is_ok());
        for name in [
            "",
            " ",
            "a b",
            "a=b",
            "x&y",
            "名",
            "service",
            "merchant_id",
            "nonce_str",
            "sign",
            "third_order_id",
            "leshua_order_id",
            "merchant_refund_id",
            "refund_amount",
            "notify_url",
            "refund_type",
        ] {
            let refused = base().param(name, "v");
            assert_eq!(
                field(refused).as_deref(),
                (!name.is_empty()).then_some(name)
            );
        }
        let twice = base().param("custom_x", "v").param("custom_x", "w");
        assert_eq!(field(twice).as_deref(), Some("custom_x"));
        // The other requests still accept their own optional names as extra fields.
        assert!(
            UnifiedOrder::new(PayWay::Wechat, "T", Fen::new(1), PayMode::Native)
                .param("refund_type", "1")
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn required_ids_are_checked() {
        assert!(validate::required("merchant_id", "0123456789", 10).is_ok());
        assert!(validate::required("merchant_id", "1", 10).is_ok());
        for bad in ["", "  ", "01234567890"] {
            assert!(
                validate::required("merchant_id", bad, 10).is_err(),
                "{bad:?}"
            );
        }
        // Characters, not bytes.
        assert!(validate::required("merchant_id", "商户号商户号商户号商", 10).is_ok());
    }
}
