//! A simulator of the ticket system with a Hawk server (feature `sandbox`).
//!
//! It authenticates every request with the crate's [`ServerVerifier`], as the reference
//! Hawk server does: parse the header (malformed → 400), credentials, MAC, payload hash
//! when sent, timestamp (±60 s; a stale one gets `WWW-Authenticate: Hawk ts, tsm,
//! error="Stale timestamp"`), nonce (a replay is refused). It can answer in the style of the .NET HawkNet server instead
//! (`ts` and `ntp`, no `tsm`, no comma), send `Server-Authorization`, run with its clock
//! skewed, and keeps orders and tickets with the refund rules: refunded or used tickets
//! are refused, `api/Order/Refund` only for paid orders without gate credentials, and
//! refunds are irreversible. `api/Agent/AgentIsVerifyCode` "sends" a fresh six-digit code
//! (read it with [`TicketSandbox::last_verify_code`]) that pays an unpaid order once through
//! `api/PayOrder/UseRebateAndVerifyCode`.
//!
//! ```
//! use tixpay_ticket_hawk::sandbox::TicketSandbox;
//! use tixpay_ticket_hawk::{Client, RefundParm};
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let sandbox = TicketSandbox::start().await?;
//! let tickets = sandbox.add_order("20240101000123", 2, true, true);
//! let client = Client::new(sandbox.config())?;
//! client.refund_tickets(&RefundParm::tickets("20240101000123", [tickets[0].clone()])).await?;
//! # Ok::<(), tixpay_core::Error>(()) }).unwrap();
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};
use tixpay_core::sandbox::{SandboxRequest, SandboxResponse, SandboxServer, Shared};
use tixpay_core::{Error, OffsetClock, SharedClock, SystemClock};

use crate::config::Config;
use crate::hawk::{Credentials, HawkRequest, RefusalReason, ServerVerifier};
use crate::wire;

/// How the sandbox answers a stale timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StaleStyle {
    /// The reference server: `Hawk ts="…", tsm="…", error="Stale timestamp"`.
    #[default]
    Reference,
    /// HawkNet (.NET): `Hawk ts="…" ntp="pool.ntp.org"`: no `tsm`, no comma.
    DotNet,
}

/// How to start a [`TicketSandbox`].
#[derive(Clone)]
#[non_exhaustive]
pub struct SandboxOptions {
    /// The credentials it accepts (by id).
    pub credentials: Credentials,
    /// The allowed clock skew (default 60 s, the reference server's).
    pub skew: Duration,
    /// The sandbox's clock before any skew (default: the system clock).
    pub clock: SharedClock,
    /// How far the sandbox's clock is off, in seconds (positive: ahead).
    pub clock_offset_seconds: i64,
    /// Send `Server-Authorization` on every authenticated reply.
    pub server_authorization: bool,
    /// How stale timestamps are answered.
    pub stale_style: StaleStyle,
}

impl fmt::Debug for SandboxOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxOptions")
            .field("credentials", &self.credentials)
            .field("skew", &self.skew)
            .field("clock_offset_seconds", &self.clock_offset_seconds)
            .field("server_authorization", &self.server_authorization)
            .field("stale_style", &self.stale_style)
            .finish()
    }
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            credentials: Config::sandbox("http://unused").credentials().clone(),
            skew: Duration::from_secs(60),
            clock: Arc::new(SystemClock),
            clock_offset_seconds: 0,
            server_authorization: false,
            stale_style: StaleStyle::Reference,
        }
    }
}

/// Chained setters, one per option, from [`SandboxOptions::default`].
impl SandboxOptions {
    /// Sets `credentials`: the credentials it accepts (by id).
    #[must_use]
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sets `skew`: the allowed clock skew (default 60 s, the reference server's).
    #[must_use]
    pub fn skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// Sets `clock`: the sandbox's clock before any skew (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets `clock_offset_seconds`: how far the sandbox's clock is off, in seconds
    /// (positive: ahead).
    #[must_use]
    pub fn clock_offset_seconds(mut self, clock_offset_seconds: i64) -> Self {
        self.clock_offset_seconds = clock_offset_seconds;
        self
    }

    /// Sets `server_authorization`: send `Server-Authorization` on every authenticated reply.
    #[must_use]
    pub fn server_authorization(mut self, server_authorization: bool) -> Self {
        self.server_authorization = server_authorization;
        self
    }

    /// Sets `stale_style`: how stale timestamps are answered.
    #[must_use]
    pub fn stale_style(mut self, stale_style: StaleStyle) -> Self {
        self.stale_style = stale_style;
        self
    }
}

#[derive(Debug, Clone)]
struct OrderState {
    order_id: String,
    paid: bool,
    has_gate_credentials: bool,
    tickets: Vec<(String, &'static str)>,
    refunded_whole: bool,
}

#[derive(Default)]
struct State {
    orders: BTreeMap<String, OrderState>,
    /// The last verification code sent, and the phone it went to when the request named one.
    verify_code: Option<(String, Option<String>)>,
    provider_config: Option<Value>,
    next_ticket: u64,
    requests: u64,
}

struct Simulator {
    state: Shared<State>,
    options: SandboxOptions,
    clock: Arc<OffsetClock<SharedClock>>,
    verifier: ServerVerifier<Credentials>,
}

/// The running simulator. Dropping it stops the server.
pub struct TicketSandbox {
    server: SandboxServer,
    simulator: Arc<Simulator>,
}

impl fmt::Debug for TicketSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketSandbox")
            .field("uri", &self.server.uri())
            .finish()
    }
}

impl TicketSandbox {
    /// Starts with the default options.
    pub async fn start() -> Result<Self, Error> {
        Self::start_with(SandboxOptions::default()).await
    }

    /// Starts with `options`.
    pub async fn start_with(options: SandboxOptions) -> Result<Self, Error> {
        let clock = Arc::new(OffsetClock::new(
            Arc::clone(&options.clock),
            options.clock_offset_seconds.saturating_mul(1000),
        ));
        let verifier = ServerVerifier::new(options.credentials.clone())
            .clock(Arc::clone(&clock) as SharedClock)
            .skew(options.skew);
        let simulator = Arc::new(Simulator {
            state: Shared::new(State {
                next_ticket: 1,
                ..State::default()
            }),
            options,
            clock,
            verifier,
        });
        let server = SandboxServer::start_shared(Arc::clone(&simulator)).await;
        Ok(Self { server, simulator })
    }

    /// The base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A client configuration for this sandbox, with its credentials.
    pub fn config(&self) -> Config {
        Config::new(self.uri(), self.simulator.options.credentials.clone())
    }

    /// Skews the sandbox's clock by `seconds` (positive: ahead of the client).
    pub fn set_clock_offset(&self, seconds: i64) {
        self.simulator
            .clock
            .set_offset_millis(seconds.saturating_mul(1000));
    }

    /// Adds an order with `tickets` tickets; returns their ticket codes.
    pub fn add_order(
        &self,
        order_id: &str,
        tickets: usize,
        paid: bool,
        has_gate_credentials: bool,
    ) -> Vec<String> {
        self.simulator.state.with(|s| {
            let mut codes = Vec::new();
            for _ in 0..tickets {
                codes.push(format!("TK{:08}", s.next_ticket));
                s.next_ticket += 1;
            }
            s.orders.insert(
                order_id.to_owned(),
                OrderState {
                    order_id: order_id.to_owned(),
                    paid,
                    has_gate_credentials,
                    tickets: codes.iter().map(|c| (c.clone(), "1")).collect(),
                    refunded_whole: false,
                },
            );
            codes
        })
    }

    /// A ticket passes the gate (status 4).
    pub fn mark_used(&self, ticket: &str) -> bool {
        self.simulator.state.with(|s| {
            for order in s.orders.values_mut() {
                if let Some(t) = order.tickets.iter_mut().find(|(c, _)| c == ticket) {
                    t.1 = "4";
                    return true;
                }
            }
            false
        })
    }

    /// A ticket's status (`1` valid, `2` refunded, `4` used).
    pub fn ticket_status(&self, ticket: &str) -> Option<String> {
        self.simulator.state.with(|s| {
            s.orders
                .values()
                .flat_map(|o| o.tickets.iter())
                .find(|(c, _)| c == ticket)
                .map(|(_, st)| (*st).to_owned())
        })
    }

    /// The callback settings last stored with `api/ProviderConfig`.
    pub fn provider_config(&self) -> Option<Value> {
        self.simulator.state.with(|s| s.provider_config.clone())
    }

    /// The verification code the last `api/Agent/AgentIsVerifyCode` "sent by SMS", until
    /// a payment uses it.
    pub fn last_verify_code(&self) -> Option<String> {
        self.simulator
            .state
            .with(|s| s.verify_code.as_ref().map(|(code, _)| code.clone()))
    }

    /// Whether order `order_id` is paid.
    pub fn is_paid(&self, order_id: &str) -> Option<bool> {
        self.simulator
            .state
            .with(|s| s.orders.get(order_id).map(|o| o.paid))
    }

    /// How many requests passed authentication.
    pub fn authenticated_requests(&self) -> u64 {
        self.simulator.state.with(|s| s.requests)
    }
}

enum Reply {
    Json(Value),
    /// An object whose XML root element is named (`Ticket`, `OrderOperatorResult`).
    Object(&'static str, Value),
    Result(i64, String),
    Empty,
}

impl tixpay_core::sandbox::SandboxHandler for Simulator {
    fn handle(&self, request: &SandboxRequest) -> SandboxResponse {
        let who = match self.authenticate(request) {
            Ok(who) => who,
            Err(response) => return *response,
        };
        let xml = request.header("accept").is_some_and(|a| a.contains("xml"));
        let reply = self.route(request);
        let (status, content_type, body) = match reply {
            Reply::Empty => (
                StatusCode::OK,
                "application/json; charset=utf-8",
                String::new(),
            ),
            Reply::Json(v) if xml => (
                StatusCode::OK,
                "application/xml; charset=utf-8",
                to_xml(&v, "Order"),
            ),
            Reply::Object(root, v) if xml => (
                StatusCode::OK,
                "application/xml; charset=utf-8",
                to_xml(&v, root),
            ),
            Reply::Object(_, v) => (
                StatusCode::OK,
                "application/json; charset=utf-8",
                v.to_string(),
            ),
            Reply::Json(v) => (
                StatusCode::OK,
                "application/json; charset=utf-8",
                v.to_string(),
            ),
            Reply::Result(code, msg) if xml => (
                StatusCode::OK,
                "application/xml; charset=utf-8",
                format!(
                    "<OperationResult xmlns:i=\"{}\" xmlns=\"http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Result.WebInterface\"><errcode>{code}</errcode><errmsg>{}</errmsg></OperationResult>",
                    wire::XSI_NAMESPACE,
                    wire::escape(&msg)
                ),
            ),
            Reply::Result(code, msg) => (
                StatusCode::OK,
                "application/json; charset=utf-8",
                json!({"errcode": code, "errmsg": msg}).to_string(),
            ),
        };
        let mut response = SandboxResponse::new(status).header("content-type", content_type);
        if self.options.server_authorization {
            let payload = (!body.is_empty()).then_some((content_type, body.as_bytes()));
            response = response.header("server-authorization", who.server_authorization(payload));
        }
        response.body(body)
    }
}

fn to_xml(value: &Value, root: &str) -> String {
    fn fields(map: &serde_json::Map<String, Value>) -> String {
        let mut out = String::new();
        for (k, v) in map {
            match v {
                Value::Null => out.push_str(&format!("<{k} i:nil=\"true\"/>")),
                Value::String(s) => out.push_str(&format!("<{k}>{}</{k}>", wire::escape(s))),
                other => out.push_str(&format!("<{k}>{other}</{k}>")),
            }
        }
        out
    }
    let ns = format!(
        "xmlns:i=\"{}\" xmlns=\"http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Result.WebInterface\"",
        wire::XSI_NAMESPACE
    );
    match value {
        Value::Array(items) => {
            let mut out = format!("<ArrayOfTicket {ns}>");
            for item in items {
                if let Value::Object(map) = item {
                    out.push_str(&format!("<Ticket>{}</Ticket>", fields(map)));
                }
            }
            out.push_str("</ArrayOfTicket>");
            out
        }
        Value::Object(map) => format!("<{root} {ns}>{}</{root}>", fields(map)),
        Value::String(s) => format!(
            "<string xmlns=\"http://schemas.microsoft.com/2003/10/Serialization/\">{s}</string>"
        ),
        other => other.to_string(),
    }
}

impl Simulator {
    /// Checks the request with the crate's [`ServerVerifier`], answering a refusal as the
    /// reference server does (or, for a stale timestamp, in the configured style).
    fn authenticate(
        &self,
        request: &SandboxRequest,
    ) -> Result<crate::hawk::Authenticated, Box<SandboxResponse>> {
        let (host, port) = match request.host.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().unwrap_or(80)),
            None => (request.host.as_str(), 80),
        };
        let resource = request.path_and_query();
        let mut hawk = HawkRequest::new(request.method.as_str(), host, port, &resource)
            .payload(request.header("content-type").unwrap_or(""), &request.body);
        if let Some(header) = request.header("authorization") {
            hawk = hawk.authorization(header);
        }
        match self.verifier.verify(&hawk) {
            Ok(who) => {
                self.state.with(|s| s.requests += 1);
                Ok(who)
            }
            Err(refusal) => {
                let status =
                    StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::UNAUTHORIZED);
                let www = match (&refusal.reason, self.options.stale_style) {
                    (RefusalReason::StaleTimestamp { server_ts }, StaleStyle::DotNet) => {
                        Some(format!("Hawk ts=\"{server_ts}\" ntp=\"pool.ntp.org\""))
                    }
                    _ => refusal.www_authenticate.clone(),
                };
                let text = status.canonical_reason().unwrap_or("Unauthorized");
                let mut response = SandboxResponse::text(status, text);
                if let Some(www) = www {
                    response = response.header("www-authenticate", www);
                }
                Err(Box::new(response))
            }
        }
    }

    fn body(request: &SandboxRequest) -> Value {
        let xml = request
            .header("content-type")
            .is_some_and(|c| c.contains("xml"));
        if xml {
            wire::xml_to_value(&request.body).unwrap_or(Value::Null)
        } else {
            serde_json::from_slice(&request.body).unwrap_or(Value::Null)
        }
    }

    fn route(&self, request: &SandboxRequest) -> Reply {
        let path = request.path.as_str();
        let body = Self::body(request);
        match (request.method.as_str(), path) {
            ("POST", "/api/Order/Refund") => self.refund(&body, true),
            ("POST", "/api/Order/RefundTicket") => self.refund(&body, false),
            ("POST", "/api/WebInterface/Order/Ticket/Refund") => {
                if body
                    .get("username")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    return Reply::Result(1, "username不能为空".into());
                }
                self.refund(body.get("refundparm").unwrap_or(&Value::Null), false)
            }
            ("POST", "/api/ProviderConfig") => {
                self.state.with(|s| s.provider_config = Some(body));
                Reply::Empty
            }
            ("POST", "/api/Order/BeginToPay" | "/api/Order/BeginToPay/Phone") => {
                let order = body
                    .get("orderid")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                if self.state.with(|s| s.orders.contains_key(&order)) {
                    Reply::Json(Value::String(format!(
                        "https://sandbox.invalid/pay/{order}"
                    )))
                } else {
                    Reply::Result(1, "订单不存在".into())
                }
            }
            ("POST", "/api/Agent/AgentIsVerifyCode") => self.send_verify_code(&body),
            ("POST", "/api/PayOrder/UseRebateAndVerifyCode") => self.pay_with_verify_code(&body),
            ("GET", p) if p.starts_with("/api/Order/Query/Main/") => {
                let id = percent_encoding::percent_decode_str(
                    p.trim_start_matches("/api/Order/Query/Main/"),
                )
                .decode_utf8_lossy()
                .into_owned();
                match self.state.with(|s| s.orders.get(&id).cloned()) {
                    Some(o) => Reply::Json(json!({
                        "orderid": o.order_id, "senderid": format!("S-{}", o.order_id),
                        "status": if o.refunded_whole { "4" } else if o.paid { "3" } else { "0" },
                        "totalcount": o.tickets.len(), "summary": format!("{}.00", o.tickets.len() * 100),
                    })),
                    None => Reply::Result(2, "订单不存在".into()),
                }
            }
            ("GET", "/api/WebInterface/Order/Query/Tickets") => {
                let order = request.query_param("orderid").unwrap_or_default();
                match self.state.with(|s| s.orders.get(&order).cloned()) {
                    Some(o) => Reply::Json(Value::Array(
                        o.tickets
                            .iter()
                            .map(|(c, st)| ticket_json(&o, c, st))
                            .collect(),
                    )),
                    None => Reply::Json(json!([])),
                }
            }
            ("GET", "/api/WebInterface/Order/Query/Ticket") => {
                let order = request.query_param("orderid").unwrap_or_default();
                let ticket = request.query_param("ticketid").unwrap_or_default();
                let found = self.state.with(|s| {
                    let o = s.orders.get(&order)?;
                    o.tickets
                        .iter()
                        .find(|(c, _)| *c == ticket)
                        .map(|(c, st)| ticket_json(o, c, st))
                });
                match found {
                    Some(t) => Reply::Object("Ticket", t),
                    None => Reply::Result(2, "门票不存在".into()),
                }
            }
            _ => Reply::Result(404, "no such endpoint in the sandbox".into()),
        }
    }

    /// Sends a fresh six-digit code "by SMS" (kept for [`TicketSandbox::last_verify_code`]),
    /// to the `mobile` among the parameters when there is one.
    fn send_verify_code(&self, body: &Value) -> Reply {
        let Ok(random) = tixpay_core::nonce::random_alphanumeric(6) else {
            return Reply::Result(500, "验证码发送失败".into());
        };
        let code: String = random.bytes().map(|b| char::from(b'0' + b % 10)).collect();
        let mobile = dictionary(body).remove("mobile");
        self.state.with(|s| s.verify_code = Some((code, mobile)));
        Reply::Result(0, "验证码已发送".into())
    }

    /// `UseRebateAndVerifyCode`: the last code sent, to its phone, pays an unpaid order
    /// once; the code is used up.
    fn pay_with_verify_code(&self, body: &Value) -> Reply {
        let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
        let (order_id, code, mobile) = (field("orderid"), field("verifycode"), field("mobile"));
        let refused = |code: i64, message: &str| {
            Reply::Object(
                "OrderOperatorResult",
                json!({"orderid": order_id, "sendid": null, "orderstatus": null,
                       "resultcode": code, "returnmessgage": message}),
            )
        };
        self.state.with(|s| {
            let Some(order) = s.orders.get_mut(order_id) else {
                return refused(2, "订单不存在");
            };
            match &s.verify_code {
                Some((sent, to)) if sent == code => {
                    if to.as_deref().is_some_and(|to| to != mobile) {
                        return refused(8, "手机号与验证码不符");
                    }
                }
                _ => return refused(7, "验证码错误"),
            }
            if order.paid {
                return refused(9, "订单已支付");
            }
            order.paid = true;
            s.verify_code = None;
            Reply::Object(
                "OrderOperatorResult",
                json!({"orderid": order_id, "sendid": format!("S-{order_id}"), "orderstatus": "3",
                       "resultcode": 0, "returnmessgage": "支付成功"}),
            )
        })
    }

    fn refund(&self, body: &Value, whole_order_endpoint: bool) -> Reply {
        let order_id = body
            .get("orderid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let all = body.get("refundallticket").and_then(Value::as_str) == Some("1");
        let ids: Vec<String> = body
            .get("ticketids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        self.state.with(|s| {
            let Some(order) = s.orders.get_mut(&order_id) else {
                return Reply::Result(2, "订单不存在".into());
            };
            if whole_order_endpoint && (!order.paid || order.has_gate_credentials) {
                return Reply::Result(
                    3,
                    "只有已支付且未生成过闸凭证的订单可以申请退款,请调用RefundTicket".into(),
                );
            }
            if !order.paid {
                return Reply::Result(3, "订单未支付".into());
            }
            let targets: Vec<String> = if all {
                order.tickets.iter().map(|(c, _)| c.clone()).collect()
            } else if ids.is_empty() {
                return Reply::Result(1, "refundallticket为0时必须提供ticketids".into());
            } else {
                ids
            };
            for id in &targets {
                match order.tickets.iter().find(|(c, _)| c == id) {
                    None => return Reply::Result(4, format!("门票{id}不属于该订单")),
                    Some((_, "2")) => return Reply::Result(5, format!("门票{id}已退票")),
                    Some((_, "4")) => return Reply::Result(6, format!("门票{id}已过闸,不能退票")),
                    Some(_) => {}
                }
            }
            for (code, status) in order.tickets.iter_mut() {
                if targets.contains(code) {
                    *status = "2";
                }
            }
            if order.tickets.iter().all(|(_, st)| *st == "2") {
                order.refunded_whole = true;
            }
            Reply::Result(0, "退票成功".into())
        })
    }
}

/// A `Dictionary<string,string>` as sent: a JSON object, or DataContract XML
/// (`<ArrayOfKeyValueOfstringstring>` of `<KeyValueOfstringstring><Key>…</Key><Value>…`,
/// read as a list of `{Key, Value}`).
fn dictionary(body: &Value) -> BTreeMap<String, String> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    match body {
        Value::Array(pairs) => pairs
            .iter()
            .filter_map(|p| Some((text(p.get("Key")?)?, text(p.get("Value")?)?)))
            .collect(),
        _ => body
            .as_object()
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), text(v)?)))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn ticket_json(order: &OrderState, code: &str, status: &str) -> Value {
    json!({
        "productid": "P100", "productname": "剧场座位票", "ticketcode": code, "personcount": 1,
        "ticketdate": "20300101", "freecount": 0, "price": "100.00", "summary": "100.00",
        "status": status, "orderid": order.order_id,
    })
}
