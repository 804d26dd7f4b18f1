//! A stateful simulator of the LeShua gateway on a loopback port (feature `sandbox`).
//!
//! It verifies every request's signature with the trade key (a bad one gets `-20006
//! 验签失败`, as the real gateway answers), keeps orders and refunds with the documented
//! states (0 paying → 2 paid / 8 failed / 6 closed; refunds 10 → 11 or 12), enforces the
//! rules (the order balance and partial refunds, a repeated `merchant_refund_id` → -5103,
//! a repeated `third_order_id` → -20026, barcode orders closable only after 5 minutes, no
//! refund of an unpaid order), accepts `refund_type` and fields it does not know (signed
//! like the others; unknown fields are ignored, as public clients' undocumented fields
//! suggest the gateway does), signs its replies with the trade key, settles refunds in
//! the background, and sends signed payment and refund notifications to `notify_url` until
//! it reads `000000`. [`LeshuaSandbox::mark_paid`] and [`LeshuaSandbox::mark_failed`] stand
//! in for the customer.
//!
//! The notification retry schedule is not documented; the sandbox retries after 15 s,
//! 30 s, 1, 2, 5, 10 and 30 minutes and 1 hour (simulated, compressed).
//!
//! ```
//! use tixpay_core::Fen;
//! use tixpay_leshua::sandbox::LeshuaSandbox;
//! use tixpay_leshua::{Client, OrderRef, OrderStatus, PayMode, PayWay, UnifiedOrder};
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let sandbox = LeshuaSandbox::start().await?;
//! let client = Client::new(sandbox.config())?;
//! client.unified_order(&UnifiedOrder::new(PayWay::Wechat, "T1", Fen::new(100), PayMode::Native)).await?;
//! sandbox.mark_paid("T1")?;
//! let paid = client.query_order(&OrderRef::ThirdOrderId("T1".into())).await?;
//! assert_eq!(paid.status, Some(OrderStatus::Paid));
//! # Ok::<(), tixpay_core::Error>(()) }).unwrap();
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use tixpay_core::sandbox::{
    DeliveryAttempt, DeliveryReport, RetrySchedule, SandboxRequest, SandboxResponse, SandboxServer,
    Shared, Webhook, WebhookDispatcher,
};
use tixpay_core::{Clock, Error, Secret, SharedClock, SystemClock, datetime};

use crate::auth::{notification_sign, reply_sign, request_sign};
use crate::config::{
    Config, GATEWAY_PATH, SANDBOX_MERCHANT_ID, SANDBOX_NOTIFY_KEY, SANDBOX_TRADE_KEY,
};
use crate::notify::ACK;
use crate::wire::{parse_form, write_xml};

/// How to start a [`LeshuaSandbox`].
#[derive(Clone)]
#[non_exhaustive]
pub struct SandboxOptions {
    /// The merchant id the sandbox accepts.
    pub merchant_id: String,
    /// The trade key (requests and replies).
    pub trade_key: Secret,
    /// The notify key (notifications).
    pub notify_key: Secret,
    /// The sandbox's clock (barcode orders close after 5 minutes of it).
    pub clock: SharedClock,
    /// How long a refund stays at 10 (退款中) before it settles (real time).
    pub refund_settle_delay: Duration,
    /// How much faster than real time notification retries run.
    pub time_compression: f64,
}

impl fmt::Debug for SandboxOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxOptions")
            .field("merchant_id", &self.merchant_id)
            .field("refund_settle_delay", &self.refund_settle_delay)
            .field("time_compression", &self.time_compression)
            .finish()
    }
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            merchant_id: SANDBOX_MERCHANT_ID.to_owned(),
            trade_key: Secret::new(SANDBOX_TRADE_KEY),
            notify_key: Secret::new(SANDBOX_NOTIFY_KEY),
            clock: Arc::new(SystemClock),
            refund_settle_delay: Duration::from_millis(50),
            time_compression: 10_000.0,
        }
    }
}

/// Chained setters, one per option, from [`SandboxOptions::default`].
impl SandboxOptions {
    /// Sets `merchant_id`: the merchant id the sandbox accepts.
    #[must_use]
    pub fn merchant_id(mut self, merchant_id: impl Into<String>) -> Self {
        self.merchant_id = merchant_id.into();
        self
    }

    /// Sets `trade_key`: the trade key (requests and replies).
    #[must_use]
    pub fn trade_key(mut self, trade_key: Secret) -> Self {
        self.trade_key = trade_key;
        self
    }

    /// Sets `notify_key`: the notify key (notifications).
    #[must_use]
    pub fn notify_key(mut self, notify_key: Secret) -> Self {
        self.notify_key = notify_key;
        self
    }

    /// Sets `clock`: the sandbox's clock (barcode orders close after 5 minutes of it).
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets `refund_settle_delay`: how long a refund stays at 10 (退款中) before it settles
    /// (real time).
    #[must_use]
    pub fn refund_settle_delay(mut self, refund_settle_delay: Duration) -> Self {
        self.refund_settle_delay = refund_settle_delay;
        self
    }

    /// Sets `time_compression`: how much faster than real time notification retries run.
    #[must_use]
    pub fn time_compression(mut self, time_compression: f64) -> Self {
        self.time_compression = time_compression;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unified,
    Barcode,
}

#[derive(Debug, Clone)]
struct Order {
    third_order_id: String,
    leshua_order_id: String,
    amount: u64,
    refunded: u64,
    status: &'static str,
    kind: Kind,
    pay_way: String,
    created_at: i64,
    paid_at: Option<i64>,
    notify_url: Option<String>,
}

#[derive(Debug, Clone)]
struct RefundState {
    merchant_refund_id: String,
    leshua_refund_id: String,
    leshua_order_id: String,
    amount: u64,
    status: &'static str,
    notify_url: Option<String>,
    refund_time: Option<i64>,
}

#[derive(Default)]
struct State {
    orders: BTreeMap<String, Order>,
    refunds: BTreeMap<String, RefundState>,
    next_id: u64,
}

impl State {
    fn order_key(&self, fields: &BTreeMap<String, String>) -> Option<String> {
        if let Some(id) = fields.get("leshua_order_id").filter(|v| !v.is_empty()) {
            return self.orders.contains_key(id).then(|| id.clone());
        }
        let third = fields.get("third_order_id").filter(|v| !v.is_empty())?;
        self.orders
            .values()
            .find(|o| &o.third_order_id == third)
            .map(|o| o.leshua_order_id.clone())
    }
}

struct Simulator {
    state: Shared<State>,
    options: SandboxOptions,
    dispatcher: WebhookDispatcher,
    runtime: tokio::runtime::Handle,
}

/// The running simulator. Dropping it stops the server.
pub struct LeshuaSandbox {
    server: SandboxServer,
    simulator: Arc<Simulator>,
}

impl fmt::Debug for LeshuaSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeshuaSandbox")
            .field("uri", &self.server.uri())
            .finish()
    }
}

impl LeshuaSandbox {
    /// Starts with the default options. Call inside a tokio runtime.
    pub async fn start() -> Result<Self, Error> {
        Self::start_with(SandboxOptions::default()).await
    }

    /// Starts with `options`.
    pub async fn start_with(options: SandboxOptions) -> Result<Self, Error> {
        let dispatcher = WebhookDispatcher::new(options.time_compression)?;
        let simulator = Arc::new(Simulator {
            state: Shared::new(State {
                next_id: 3_495_002_500_081,
                ..State::default()
            }),
            options,
            dispatcher,
            runtime: tokio::runtime::Handle::current(),
        });
        let server = SandboxServer::start(Handler(Arc::clone(&simulator))).await;
        Ok(Self { server, simulator })
    }

    /// The base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A client configuration for this sandbox.
    /// The sandbox echoes each request's `nonce_str`, so this configuration also requires
    /// it ([`Config::require_nonce_echo`]): every reply is bound to its request.
    pub fn config(&self) -> Config {
        let o = &self.simulator.options;
        Config::new(
            o.merchant_id.clone(),
            o.trade_key.clone(),
            o.notify_key.clone(),
        )
        .base_url(self.uri())
        .clock(Arc::clone(&o.clock))
        .require_nonce_echo(true)
    }

    /// The customer paid: a paying order becomes 2 and its notification is sent.
    /// `order` is a `third_order_id` or a `leshua_order_id`.
    pub fn mark_paid(&self, order: &str) -> Result<(), Error> {
        self.finish_payment(order, "2")
    }

    /// The payment failed: a paying order becomes 8 and its notification is sent.
    pub fn mark_failed(&self, order: &str) -> Result<(), Error> {
        self.finish_payment(order, "8")
    }

    fn finish_payment(&self, order: &str, status: &'static str) -> Result<(), Error> {
        let now = self.simulator.options.clock.now_seconds();
        let paid = self.simulator.state.with(|s| {
            let key = s
                .orders
                .values()
                .find(|o| o.third_order_id == order || o.leshua_order_id == order)
                .map(|o| o.leshua_order_id.clone())
                .ok_or_else(|| Error::invalid_request("order", "no such order"))?;
            let o = s
                .orders
                .get_mut(&key)
                .ok_or_else(|| Error::invalid_request("order", "no such order"))?;
            if o.status != "0" {
                return Err(Error::invalid_request(
                    "order",
                    format!("the order is in status {}, not 0 (paying)", o.status),
                ));
            }
            o.status = status;
            if status == "2" {
                o.paid_at = Some(now);
            }
            Ok(o.clone())
        })?;
        self.simulator.notify_payment(&paid);
        Ok(())
    }

    /// The status of an order (by either id).
    pub fn order_status(&self, order: &str) -> Option<String> {
        self.simulator.state.with(|s| {
            s.orders
                .values()
                .find(|o| o.third_order_id == order || o.leshua_order_id == order)
                .map(|o| o.status.to_owned())
        })
    }

    /// Every notification attempt so far.
    pub fn delivery_attempts(&self) -> Vec<DeliveryAttempt> {
        self.simulator.dispatcher.attempts()
    }

    /// Waits until every refund has settled and every notification sent so far was
    /// accepted or gave up.
    pub async fn settle_notifications(&self) -> Vec<DeliveryReport> {
        // Let pending refund settlements fire first.
        tokio::time::sleep(self.simulator.options.refund_settle_delay * 2).await;
        self.simulator.dispatcher.settle().await
    }
}

type Reply = Vec<(String, String)>;

impl Simulator {
    fn signed(&self, mut fields: Reply) -> SandboxResponse {
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let sign = reply_sign(&borrowed, &self.options.trade_key);
        fields.push(("sign".into(), sign));
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        SandboxResponse::new(StatusCode::OK)
            .header("content-type", "text/xml; charset=utf-8")
            .body(write_xml(&borrowed))
    }

    fn base(&self, fields: &BTreeMap<String, String>) -> Reply {
        vec![
            ("resp_code".into(), "0".into()),
            ("merchant_id".into(), self.options.merchant_id.clone()),
            (
                "nonce_str".into(),
                fields.get("nonce_str").cloned().unwrap_or_default(),
            ),
        ]
    }

    fn fail(&self, fields: &BTreeMap<String, String>, code: &str, msg: &str) -> SandboxResponse {
        let mut reply = self.base(fields);
        // A refusal echoes the ids it was asked about, as the manual's business-error
        // sample does with third_order_id.
        for name in [
            "third_order_id",
            "leshua_order_id",
            "merchant_refund_id",
            "leshua_refund_id",
        ] {
            if let Some(v) = fields.get(name).filter(|v| !v.is_empty()) {
                reply.push((name.into(), v.clone()));
            }
        }
        reply.push(("result_code".into(), "1".into()));
        reply.push(("error_code".into(), code.into()));
        reply.push(("error_msg".into(), msg.into()));
        self.signed(reply)
    }

    fn ok(&self, fields: &BTreeMap<String, String>, extra: Reply) -> SandboxResponse {
        let mut reply = self.base(fields);
        reply.push(("result_code".into(), "0".into()));
        reply.push(("sub_merchant_id".into(), "1510105551".into()));
        reply.extend(extra);
        self.signed(reply)
    }

    fn order_fields(o: &Order) -> Reply {
        let mut f = vec![
            ("third_order_id".into(), o.third_order_id.clone()),
            ("leshua_order_id".into(), o.leshua_order_id.clone()),
            ("status".into(), o.status.into()),
            ("amount".into(), o.amount.to_string()),
            ("pay_way".into(), o.pay_way.clone()),
        ];
        if let Some(t) = o.paid_at {
            f.push((
                "pay_time".into(),
                datetime::format_compact(t, datetime::CST),
            ));
        }
        f
    }

    fn refund_fields(r: &RefundState, o: &Order) -> Reply {
        let mut f = vec![
            ("third_order_id".into(), o.third_order_id.clone()),
            ("leshua_order_id".into(), o.leshua_order_id.clone()),
            ("merchant_refund_id".into(), r.merchant_refund_id.clone()),
            ("leshua_refund_id".into(), r.leshua_refund_id.clone()),
            ("status".into(), r.status.into()),
            ("refund_amount".into(), r.amount.to_string()),
            ("settlement_refund_amount".into(), r.amount.to_string()),
            ("total_amount".into(), o.amount.to_string()),
            ("order_balance".into(), (o.amount - o.refunded).to_string()),
        ];
        if let Some(t) = r.refund_time {
            f.push((
                "refund_time".into(),
                datetime::format_local(t, datetime::CST),
            ));
        }
        f
    }

    fn deliver(&self, id: String, url: String, fields: Reply) {
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let sign = notification_sign(&borrowed, &self.options.notify_key);
        let mut all = borrowed;
        all.push(("sign", &sign));
        let body = Bytes::from(write_xml(&all));
        let gap = |secs| Duration::from_secs(secs);
        let webhook = Webhook {
            id,
            request: Arc::new(move |_attempt| {
                http::Request::post(url.as_str())
                    .header("content-type", "text/xml; charset=utf-8")
                    .body(body.clone())
                    .map_err(|e| Error::config(format!("notify_url rejected: {e}")))
            }),
            accept: |status, body| {
                status.is_success() && String::from_utf8_lossy(body).trim() == ACK
            },
            schedule: RetrySchedule::immediate_then(&[
                gap(15),
                gap(30),
                gap(60),
                gap(120),
                gap(300),
                gap(600),
                gap(1800),
                gap(3600),
            ]),
        };
        let _guard = self.runtime.enter();
        self.dispatcher.dispatch(webhook);
    }

    fn notify_payment(&self, o: &Order) {
        let Some(url) = o.notify_url.clone() else {
            return;
        };
        let mut fields: Reply = vec![
            ("merchant_id".into(), self.options.merchant_id.clone()),
            ("sub_merchant_id".into(), "1510105551".into()),
            ("error_code".into(), "0".into()),
            (
                "trade_type".into(),
                if o.kind == Kind::Barcode {
                    "MICROPAY"
                } else {
                    "NATIVE"
                }
                .into(),
            ),
            ("sub_openid".into(), String::new()),
        ];
        fields.extend(Self::order_fields(o));
        if let Some(t) = o.paid_at {
            // The documented alternative form of pay_time, used by the agent notifications.
            fields.retain(|(k, _)| k != "pay_time");
            fields.push(("pay_time".into(), datetime::format_local(t, datetime::CST)));
        }
        self.deliver(
            format!("pay:{}:{}", o.leshua_order_id, o.status),
            url,
            fields,
        );
    }

    fn settle_refund(self: &Arc<Self>, leshua_refund_id: String) {
        let this = Arc::clone(self);
        let delay = self.options.refund_settle_delay;
        self.runtime.spawn(async move {
            tokio::time::sleep(delay).await;
            let now = this.options.clock.now_seconds();
            let settled = this.state.with(|s| {
                let r = s.refunds.get_mut(&leshua_refund_id)?;
                r.status = "11";
                r.refund_time = Some(now);
                let r = r.clone();
                let o = s.orders.get(&r.leshua_order_id)?.clone();
                Some((r, o))
            });
            if let Some((r, o, url)) =
                settled.and_then(|(r, o)| r.notify_url.clone().map(|url| (r, o, url)))
            {
                let mut fields: Reply = vec![
                    ("merchant_id".into(), this.options.merchant_id.clone()),
                    ("sub_merchant_id".into(), "1510105551".into()),
                    ("nonce_str".into(), format!("n{}", r.leshua_refund_id)),
                    ("error_code".into(), String::new()),
                    ("failure_reason".into(), String::new()),
                ];
                fields.extend(Self::refund_fields(&r, &o));
                this.deliver(format!("refund:{}:11", r.leshua_refund_id), url, fields);
            }
        });
    }
}

/// The server-side handler: an `Arc` of the simulator, so that it can schedule refund
/// settlements.
struct Handler(Arc<Simulator>);

impl tixpay_core::sandbox::SandboxHandler for Handler {
    fn handle(&self, request: &SandboxRequest) -> SandboxResponse {
        self.0.route(request)
    }
}

impl Simulator {
    fn route(self: &Arc<Self>, request: &SandboxRequest) -> SandboxResponse {
        if request.path != GATEWAY_PATH {
            return SandboxResponse::text(StatusCode::NOT_FOUND, "not found");
        }
        let pairs = parse_form(&request.body);
        if pairs.is_empty() || request.method != http::Method::POST {
            return SandboxResponse::text(StatusCode::OK, "接口为可用状态");
        }
        let fields: BTreeMap<String, String> = pairs.iter().cloned().collect();
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let expected = request_sign(&borrowed, &self.options.trade_key);
        let given = fields.get("sign").cloned().unwrap_or_default();
        if !given.eq_ignore_ascii_case(&expected) {
            return self.fail(&fields, "-20006", "验签失败");
        }
        if fields.get("merchant_id") != Some(&self.options.merchant_id) {
            return self.fail(&fields, "-20002", "无效的乐刷商户号");
        }
        let now = self.options.clock.now_seconds();
        match fields
            .get("service")
            .map(String::as_str)
            .unwrap_or_default()
        {
            "get_tdcode" => self.create(&fields, Kind::Unified, now),
            "upload_authcode" => self.create(&fields, Kind::Barcode, now),
            "query_status" => self.query(&fields),
            "close_order" => self.close(&fields, now),
            "unified_refund" => self.refund(&fields),
            "unified_query_refund" => self.query_refund(&fields),
            "query_userid" => match fields.get("user_auth_code") {
                Some(code) => self.ok(&fields, vec![("user_id".into(), format!("UP{code}"))]),
                None => self.fail(&fields, "-20001", "参数错误或无效"),
            },
            "query_openid" => match fields.get("auth_code") {
                Some(code) => self.ok(&fields, vec![("openid".into(), format!("o{code}"))]),
                None => self.fail(&fields, "-20001", "参数错误或无效"),
            },
            _ => self.fail(&fields, "-20001", "参数错误或无效"),
        }
    }

    fn create(
        self: &Arc<Self>,
        fields: &BTreeMap<String, String>,
        kind: Kind,
        now: i64,
    ) -> SandboxResponse {
        let Some(third) = fields
            .get("third_order_id")
            .filter(|v| !v.is_empty())
            .cloned()
        else {
            return self.fail(fields, "-20003", "商户订单号格式有误");
        };
        let Some(amount) = fields
            .get("amount")
            .and_then(|a| tixpay_core::Fen::parse(a))
            .filter(|a| !a.is_zero())
        else {
            return self.fail(fields, "-20009", "订单金额填写有误");
        };
        let flag = fields.get("jspay_flag").cloned().unwrap_or_default();
        if kind == Kind::Unified {
            let needs = match flag.as_str() {
                "0" => None,
                "1" | "3" => Some("sub_openid"),
                "2" => Some("jump_url"),
                _ => return self.fail(fields, "-20015", "非法的公众号支付标识"),
            };
            if needs.is_some_and(|n| fields.get(n).is_none_or(|v| v.is_empty())) {
                return self.fail(fields, "-20001", "参数错误或无效");
            }
        } else if fields.get("auth_code").is_none_or(|v| v.is_empty()) {
            return self.fail(fields, "-20012", "授权码为空");
        }
        let created = self.state.with(|s| {
            if s.orders.values().any(|o| o.third_order_id == third) {
                return None;
            }
            let id = format!("{:016}", s.next_id);
            s.next_id += 1;
            let order = Order {
                third_order_id: third.clone(),
                leshua_order_id: id.clone(),
                amount: amount.get(),
                refunded: 0,
                status: "0",
                kind,
                pay_way: fields
                    .get("pay_way")
                    .cloned()
                    .unwrap_or_else(|| "WXZF".into()),
                created_at: now,
                paid_at: None,
                notify_url: fields.get("notify_url").filter(|v| !v.is_empty()).cloned(),
            };
            s.orders.insert(id, order.clone());
            Some(order)
        });
        let Some(order) = created else {
            return self.fail(fields, "-20026", "第三方订单号在该商户号下已经存在");
        };
        let mut extra = Self::order_fields(&order);
        match flag.as_str() {
            "0" => extra.push((
                "td_code".into(),
                format!("weixin://wxpay/bizpayurl?pr={}", order.leshua_order_id),
            )),
            "1" | "3" => extra.push((
                "jspay_info".into(),
                format!(
                    r#"{{"appId":"wx0000sandbox","package":"prepay_id=wx{}","signType":"RSA"}}"#,
                    order.leshua_order_id
                ),
            )),
            "2" => extra.push((
                "jspay_url".into(),
                format!("https://sandbox.invalid/cashier/{}", order.leshua_order_id),
            )),
            _ => {}
        }
        self.ok(fields, extra)
    }

    fn query(&self, fields: &BTreeMap<String, String>) -> SandboxResponse {
        let found = self
            .state
            .with(|s| s.order_key(fields).and_then(|k| s.orders.get(&k).cloned()));
        match found {
            Some(o) => self.ok(fields, Self::order_fields(&o)),
            None if fields
                .get("leshua_order_id")
                .or(fields.get("third_order_id"))
                .is_none() =>
            {
                self.fail(fields, "-20024", "乐刷或第三方订单号必填 1 个")
            }
            None => self.fail(fields, "-20004", "乐刷订单不存在"),
        }
    }

    fn close(&self, fields: &BTreeMap<String, String>, now: i64) -> SandboxResponse {
        let result = self.state.with(|s| {
            let key = s.order_key(fields).ok_or(("-20004", "乐刷订单不存在"))?;
            let o = s.orders.get_mut(&key).ok_or(("-20004", "乐刷订单不存在"))?;
            if o.status != "0" {
                return Err(("-5016", "订单状态异常"));
            }
            if o.kind == Kind::Barcode && now - o.created_at < 300 {
                return Err(("-20001", "统一条码支付的订单后5分钟才允许调用订单关闭接口"));
            }
            o.status = "6";
            Ok(o.clone())
        });
        match result {
            Ok(o) => self.ok(fields, Self::order_fields(&o)),
            Err((code, msg)) => self.fail(fields, code, msg),
        }
    }

    fn refund(self: &Arc<Self>, fields: &BTreeMap<String, String>) -> SandboxResponse {
        let Some(refund_id) = fields
            .get("merchant_refund_id")
            .filter(|v| !v.is_empty())
            .cloned()
        else {
            return self.fail(fields, "-20022", "无效的第三方退款订单号");
        };
        let Some(amount) = fields
            .get("refund_amount")
            .and_then(|a| tixpay_core::Fen::parse(a))
            .filter(|a| !a.is_zero())
        else {
            return self.fail(fields, "-20009", "订单金额填写有误");
        };
        let result = self.state.with(|s| {
            if s.refunds
                .values()
                .any(|r| r.merchant_refund_id == refund_id)
            {
                return Err(("-5103", "商户退款 id 已存在"));
            }
            let key = s.order_key(fields).ok_or(("-20004", "乐刷订单不存在"))?;
            let refund_key = format!("{}{:04}", key, s.refunds.len() + 1);
            let o = s.orders.get_mut(&key).ok_or(("-20004", "乐刷订单不存在"))?;
            if o.status != "2" {
                return Err(("-20019", "订单状态不允许退款"));
            }
            if o.amount - o.refunded < amount.get() {
                return Err(("-20023", "订单可退余额不足"));
            }
            o.refunded += amount.get();
            let r = RefundState {
                merchant_refund_id: refund_id.clone(),
                leshua_refund_id: refund_key.clone(),
                leshua_order_id: key,
                amount: amount.get(),
                status: "10",
                notify_url: fields.get("notify_url").filter(|v| !v.is_empty()).cloned(),
                refund_time: None,
            };
            let o = o.clone();
            s.refunds.insert(refund_key, r.clone());
            Ok((r, o))
        });
        match result {
            Ok((r, o)) => {
                self.settle_refund(r.leshua_refund_id.clone());
                self.ok(fields, Self::refund_fields(&r, &o))
            }
            Err((code, msg)) => self.fail(fields, code, msg),
        }
    }

    fn query_refund(&self, fields: &BTreeMap<String, String>) -> SandboxResponse {
        let found = self.state.with(|s| {
            let order = s.order_key(fields)?;
            let r = s.refunds.values().find(|r| {
                r.leshua_order_id == order
                    && (fields.get("merchant_refund_id") == Some(&r.merchant_refund_id)
                        || fields.get("leshua_refund_id") == Some(&r.leshua_refund_id))
            })?;
            Some((r.clone(), s.orders.get(&order)?.clone()))
        });
        match found {
            Some((r, o)) => self.ok(fields, Self::refund_fields(&r, &o)),
            None => self.fail(fields, "-5019", "订单未发起退款"),
        }
    }
}
