//! A PayScore simulator on a loopback port (feature `sandbox`).
//!
//! It verifies every request's signature with the merchant's public key (a bad one gets
//! `401 SIGN_ERROR`), signs every reply with its own WeChat Pay key (public-key mode, or
//! a platform certificate), serves `/v3/certificates` encrypted with the APIv3 key, applies
//! the state machine of the documents (cancel only in `CREATED` or `DOING`+`USER_CONFIRM`;
//! complete's totals; modify only lowers; `CREATED` orders expire after 30 days), and sends
//! encrypted, signed `USER_CONFIRM` and `USER_PAID` callbacks on WeChat Pay's retry
//! schedule, compressed, until it gets a 2xx. It serves bills of its own orders (endpoint
//! 17 encrypted for the merchant, the trade and fund-flow bills), each paid deduction an
//! `AUTH` row, from its own download URLs. [`PayScoreSandbox::user_confirms`] and
//! [`PayScoreSandbox::user_pays`] stand in for the user.
//!
//! Its keys are fixed, public, and not real (see `sandbox-keys/README.md`).
//!
//! ```
//! use tixpay_wechat_payscore::sandbox::PayScoreSandbox;
//! use tixpay_wechat_payscore::{Client, OrderRef};
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let sandbox = PayScoreSandbox::start().await?;
//! let client = Client::new(sandbox.config())?;
//! let err = client
//!     .query_service_order(&OrderRef::OutOrderNo("none".into()), sandbox.service_id(), sandbox.appid())
//!     .await
//!     .unwrap_err();
//! assert_eq!(err.api_code(), Some("ORDER_NOT_EXIST"));
//! # Ok::<(), tixpay_core::Error>(()) }).unwrap();
//! ```

// `serde_json::Value` indexing: reads of a missing key give `Null`; writes only touch
// orders, which are always JSON objects (request bodies that are not objects are refused
// before any state changes).
#![allow(clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use serde_json::{Value, json};
use tixpay_core::crypto::{AesGcmKey, Certificate, RsaPrivateKey, RsaPublicKey, base64};
use tixpay_core::sandbox::{
    DeliveryReport, RetrySchedule, SandboxRequest, SandboxResponse, SandboxServer, Shared, Webhook,
    WebhookDispatcher,
};
use tixpay_core::{Clock, Error, SharedClock, SystemClock, datetime, nonce::random_alphanumeric};

use crate::auth::{request_message, sign_response};
use crate::config::Config;

mod bill;
mod partner;

/// The sandbox's fixed keys (`sandbox-keys/`), shared with [`Config::sandbox`].
pub(crate) mod keys {
    use tixpay_core::crypto::{AesGcmKey, Certificate, RsaPrivateKey, RsaPublicKey};

    pub(crate) const PLATFORM_A_KEY: &str = include_str!("../sandbox-keys/platform_a.key");
    pub(crate) const PLATFORM_A_CERT: &str = include_str!("../sandbox-keys/platform_a.crt");
    pub(crate) const PLATFORM_B_KEY: &str = include_str!("../sandbox-keys/platform_b.key");
    pub(crate) const PLATFORM_B_CERT: &str = include_str!("../sandbox-keys/platform_b.crt");
    pub(crate) const MERCHANT_KEY: &str = include_str!("../sandbox-keys/merchant.key");

    /// The merchant's private key.
    #[allow(clippy::expect_used)] // a built-in key that a test parses; no input reaches this
    pub(crate) fn merchant() -> RsaPrivateKey {
        RsaPrivateKey::from_pkcs8_pem(MERCHANT_KEY).expect("the sandbox's merchant key parses")
    }

    /// The APIv3 key.
    #[allow(clippy::expect_used)] // 32 bytes, a constant
    pub(crate) fn apiv3() -> AesGcmKey {
        AesGcmKey::new(super::SANDBOX_APIV3_KEY.as_bytes())
            .expect("the sandbox's APIv3 key is 32 bytes")
    }

    /// The "WeChat Pay public key" the sandbox signs with in public-key mode, and its id.
    #[allow(clippy::expect_used)] // a built-in certificate that a test parses
    pub(crate) fn public_key() -> (&'static str, RsaPublicKey) {
        let cert =
            Certificate::from_pem(PLATFORM_A_CERT).expect("the sandbox's certificate parses");
        (super::SANDBOX_PUBLIC_KEY_ID, cert.public_key().clone())
    }
}
use keys::{MERCHANT_KEY, PLATFORM_A_CERT, PLATFORM_A_KEY, PLATFORM_B_CERT, PLATFORM_B_KEY};

/// The sandbox merchant's `mchid`.
pub const SANDBOX_MCHID: &str = "1230000109";
/// The sandbox merchant certificate serial.
pub const SANDBOX_MERCHANT_SERIAL: &str = "7A5B9E0C1D2F3A4B5C6D7E8F9A0B1C2D3E4F5A6B";
/// The sandbox APIv3 key (32 bytes, not real).
pub const SANDBOX_APIV3_KEY: &str = "tixpay-sandbox-apiv3-key-32byte!";
/// The sandbox APIv2 key (not real).
pub const SANDBOX_APIV2_KEY: &str = "tixpay-sandbox-apiv2-key-0000000";
/// The id of the sandbox's WeChat Pay public key.
pub const SANDBOX_PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000SANDBOX";
/// The sandbox `appid`.
pub const SANDBOX_APPID: &str = "wxd678efh567hg6787";
/// The sandbox `service_id`.
pub const SANDBOX_SERVICE_ID: &str = "500001";
/// The sandbox's sub-merchant in partner mode (the default of
/// [`SandboxOptions::sub_mchids`]).
pub const SANDBOX_SUB_MCHID: &str = "1900000109";
/// The `sub_appid` the sandbox accepts in partner mode.
pub const SANDBOX_SUB_APPID: &str = "wxd678efh567hg6999";

/// How the sandbox's replies are to be verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum VerifyMode {
    /// WeChat Pay public key (`PUB_KEY_ID_…`), the default.
    #[default]
    PublicKey,
    /// Platform certificates downloaded from `/v3/certificates`.
    Certificates,
}

/// How to start a [`PayScoreSandbox`]: start from `default()` and change what you need.
///
/// ```
/// use std::sync::Arc;
/// use tixpay_wechat_payscore::core::FixedClock;
/// use tixpay_wechat_payscore::sandbox::{SandboxOptions, VerifyMode};
///
/// let options = SandboxOptions::default()
///     .mode(VerifyMode::Certificates)
///     .clock(Arc::new(FixedClock::from_seconds(1_700_000_000)))
///     .time_compression(1.0);
/// assert_eq!(options.mode, VerifyMode::Certificates);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct SandboxOptions {
    /// How replies are signed.
    pub mode: VerifyMode,
    /// The sandbox's clock.
    pub clock: SharedClock,
    /// How much faster than real time callback retries run.
    pub time_compression: f64,
    /// The sub-merchants the sandbox merchant serves as a service provider (partner mode,
    /// `/v3/payscore/partner/…`); another `sub_mchid` gets `NO_AUTH`. Default
    /// [`SANDBOX_SUB_MCHID`].
    pub sub_mchids: Vec<String>,
    /// Endpoint 17 splits its bill text into files of at most this many bytes (default:
    /// one file), so that clients meet several `bill_sequence`s.
    pub bill_chunk_bytes: Option<usize>,
}

impl fmt::Debug for SandboxOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxOptions")
            .field("mode", &self.mode)
            .field("time_compression", &self.time_compression)
            .field("sub_mchids", &self.sub_mchids)
            .field("bill_chunk_bytes", &self.bill_chunk_bytes)
            .finish()
    }
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            mode: VerifyMode::PublicKey,
            clock: Arc::new(SystemClock),
            time_compression: 100_000.0,
            sub_mchids: vec![SANDBOX_SUB_MCHID.to_owned()],
            bill_chunk_bytes: None,
        }
    }
}

impl SandboxOptions {
    /// Sets how replies are signed (default [`VerifyMode::PublicKey`]).
    #[must_use]
    pub fn mode(mut self, mode: VerifyMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the sandbox's clock (default the system clock).
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets how much faster than real time callback retries run (default 100 000).
    #[must_use]
    pub fn time_compression(mut self, factor: f64) -> Self {
        self.time_compression = factor;
        self
    }

    /// Sets the sub-merchants served in partner mode (default [`SANDBOX_SUB_MCHID`]).
    #[must_use]
    pub fn sub_mchids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, sub_mchids: I) -> Self {
        self.sub_mchids = sub_mchids.into_iter().map(Into::into).collect();
        self
    }

    /// Splits endpoint 17's bill into files of at most `bytes` bytes of text (default: one
    /// file).
    #[must_use]
    pub fn bill_chunk_bytes(mut self, bytes: usize) -> Self {
        self.bill_chunk_bytes = Some(bytes);
        self
    }
}

struct Platform {
    key: RsaPrivateKey,
    cert: Certificate,
    pem: &'static str,
}

struct State {
    orders: BTreeMap<String, Value>,
    created_at: BTreeMap<String, i64>,
    messages: BTreeMap<String, bool>,
    authorizations: BTreeMap<String, Value>,
    /// Partner mode: service-account applications by `out_apply_no`.
    applications: BTreeMap<String, Value>,
    next: u64,
    bills: bill::Bills,
}

struct Simulator {
    state: Shared<State>,
    options: SandboxOptions,
    merchant_public: RsaPublicKey,
    platform_a: Platform,
    platform_b: Platform,
    apiv3: AesGcmKey,
    dispatcher: WebhookDispatcher,
    /// Whether replies are signed with platform certificate B (after a rotation). Kept out
    /// of `state` so that a reply can be signed while the state is held.
    signing_with_b: std::sync::atomic::AtomicBool,
}

/// The running simulator. Dropping it stops the server.
pub struct PayScoreSandbox {
    server: SandboxServer,
    simulator: Arc<Simulator>,
}

impl fmt::Debug for PayScoreSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayScoreSandbox")
            .field("uri", &self.server.uri())
            .finish()
    }
}

fn platform(key: &'static str, cert: &'static str) -> Result<Platform, Error> {
    Ok(Platform {
        key: RsaPrivateKey::from_pkcs8_pem(key).map_err(|e| Error::config(e.to_string()))?,
        cert: Certificate::from_pem(cert).map_err(|e| Error::config(e.to_string()))?,
        pem: cert,
    })
}

impl PayScoreSandbox {
    /// Starts in public-key mode.
    pub async fn start() -> Result<Self, Error> {
        Self::start_with(SandboxOptions::default()).await
    }

    /// Starts with `options`.
    pub async fn start_with(options: SandboxOptions) -> Result<Self, Error> {
        let merchant = RsaPrivateKey::from_pkcs8_pem(MERCHANT_KEY)
            .map_err(|e| Error::config(e.to_string()))?;
        let simulator = Arc::new(Simulator {
            state: Shared::new(State {
                orders: BTreeMap::new(),
                created_at: BTreeMap::new(),
                messages: BTreeMap::new(),
                authorizations: BTreeMap::new(),
                applications: BTreeMap::new(),
                next: 1,
                bills: bill::Bills::default(),
            }),
            signing_with_b: std::sync::atomic::AtomicBool::new(false),
            merchant_public: merchant
                .public_key()
                .map_err(|e| Error::config(e.to_string()))?,
            platform_a: platform(PLATFORM_A_KEY, PLATFORM_A_CERT)?,
            platform_b: platform(PLATFORM_B_KEY, PLATFORM_B_CERT)?,
            apiv3: AesGcmKey::new(SANDBOX_APIV3_KEY.as_bytes())
                .map_err(|e| Error::config(e.to_string()))?,
            dispatcher: WebhookDispatcher::new(options.time_compression)?,
            options,
        });
        let server = SandboxServer::start(Handler(Arc::clone(&simulator))).await;
        Ok(Self { server, simulator })
    }

    /// The base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The sandbox `appid`.
    pub fn appid(&self) -> &'static str {
        SANDBOX_APPID
    }

    /// The sandbox `service_id`.
    pub fn service_id(&self) -> &'static str {
        SANDBOX_SERVICE_ID
    }

    /// A merchant configuration for this sandbox (keys, APIv2 key, clock, verification
    /// matching the sandbox's mode).
    pub fn config(&self) -> Config {
        let config = match self.simulator.options.mode {
            VerifyMode::PublicKey => Config::sandbox(self.uri()),
            VerifyMode::Certificates => Config::sandbox_merchant(self.uri()),
        };
        config.clock(Arc::clone(&self.simulator.options.clock))
    }

    /// The WeChat Pay public key (SPKI PEM) the sandbox signs with in public-key mode.
    pub fn wechatpay_public_key_pem(&self) -> String {
        self.simulator.platform_a.cert.public_key().to_spki_pem()
    }

    /// Signs with the second platform certificate from now on (both are served), so that
    /// clients meet an unknown serial.
    pub fn rotate_certificate(&self) {
        self.simulator
            .signing_with_b
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The user confirms a `CREATED` order: `DOING`/`USER_CONFIRM`, and a `USER_CONFIRM`
    /// callback to its `notify_url`.
    pub fn user_confirms(&self, out_order_no: &str) -> Result<(), Error> {
        let order = self.simulator.state.with(|s| {
            let o = s
                .orders
                .get_mut(out_order_no)
                .ok_or_else(|| Error::invalid_request("out_order_no", "no such order"))?;
            if o["state"] != "CREATED" {
                return Err(Error::invalid_request(
                    "out_order_no",
                    format!("the order is {}, not CREATED", o["state"]),
                ));
            }
            o["state"] = json!("DOING");
            o["state_description"] = json!("USER_CONFIRM");
            o["openid"] = json!("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
            Ok(o.clone())
        })?;
        self.simulator
            .callback("PAYSCORE.USER_CONFIRM", "用户确认订单", &order);
        Ok(())
    }

    /// The user pays a completed order: `DONE`, collection `USER_PAID`, and a `USER_PAID`
    /// callback.
    pub fn user_pays(&self, out_order_no: &str) -> Result<(), Error> {
        let now = self.simulator.options.clock.now_seconds();
        let order = self.simulator.state.with(|s| {
            let o = s.orders.get_mut(out_order_no).ok_or_else(|| Error::invalid_request("out_order_no", "no such order"))?;
            if o["collection"]["state"] != "USER_PAYING" {
                return Err(Error::invalid_request("out_order_no", "nothing to pay: the order is not completed and unpaid"));
            }
            let total = o["total_amount"].as_u64().unwrap_or(0);
            o["state"] = json!("DONE");
            o["state_description"] = Value::Null;
            o["collection"] = json!({
                "state": "USER_PAID", "total_amount": total, "paying_amount": 0, "paid_amount": total,
                "details": [{"seq": 1, "amount": total, "paid_type": "NEWTON",
                             "paid_time": datetime::format_compact(now, datetime::CST),
                             "transaction_id": format!("4200{:016}", now)}]
            });
            Ok(o.clone())
        })?;
        self.simulator
            .callback("PAYSCORE.USER_PAID", "支付成功", &order);
        Ok(())
    }

    /// Sends an order's callbacks to `url` instead of its `notify_url` (the client only
    /// accepts https notify URLs; a test receiver is usually plain loopback http).
    pub fn set_notify_url(&self, out_order_no: &str, url: &str) {
        self.simulator.state.with(|s| {
            if let Some(o) = s.orders.get_mut(out_order_no) {
                o["notify_url"] = json!(url);
            }
        });
    }

    /// Moves an order's creation time back `days` (to see `EXPIRED`).
    pub fn age_order(&self, out_order_no: &str, days: i64) {
        self.simulator.state.with(|s| {
            if let Some(t) = s.created_at.get_mut(out_order_no) {
                *t -= days * 86_400;
            }
        });
    }

    /// Expires every bill download URL issued so far: downloading one now gets
    /// `400 INVALID_REQUEST`, as a stale URL does.
    pub fn expire_bill_urls(&self) {
        self.simulator.expire_bill_urls();
    }

    /// Waits until every callback sent so far was accepted or gave up.
    pub async fn settle_callbacks(&self) -> Vec<DeliveryReport> {
        self.simulator.dispatcher.settle().await
    }
}

struct Handler(Arc<Simulator>);

impl tixpay_core::sandbox::SandboxHandler for Handler {
    fn handle(&self, request: &SandboxRequest) -> SandboxResponse {
        let s = &self.0;
        if let Err(why) = s.authenticate(request) {
            return s.unsigned_error(StatusCode::UNAUTHORIZED, "SIGN_ERROR", &why, None);
        }
        s.route(request)
    }
}

fn attribute<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    let start = header.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = header.get(start..)?;
    rest.get(..rest.find('"')?)
}

impl Simulator {
    fn signer(&self) -> (&RsaPrivateKey, String) {
        let with_b = self
            .signing_with_b
            .load(std::sync::atomic::Ordering::SeqCst);
        match (self.options.mode, with_b) {
            (VerifyMode::PublicKey, _) => (&self.platform_a.key, SANDBOX_PUBLIC_KEY_ID.to_owned()),
            (VerifyMode::Certificates, false) => (
                &self.platform_a.key,
                self.platform_a.cert.serial().to_owned(),
            ),
            (VerifyMode::Certificates, true) => (
                &self.platform_b.key,
                self.platform_b.cert.serial().to_owned(),
            ),
        }
    }

    fn signed(&self, status: StatusCode, body: String) -> SandboxResponse {
        let (key, serial) = self.signer();
        let ts = self.options.clock.now_seconds();
        let nonce = sandbox_random(32);
        let signature = sign_response(key, ts, &nonce, body.as_bytes()).unwrap_or_default();
        let mut r = SandboxResponse::new(status)
            .header("wechatpay-timestamp", ts.to_string())
            .header("wechatpay-nonce", nonce)
            .header("wechatpay-signature", signature)
            .header("wechatpay-serial", serial)
            .header("request-id", format!("08F4D{}", sandbox_random(8)));
        if !body.is_empty() {
            r = r.header("content-type", "application/json");
        }
        r.body(body)
    }

    /// A refusal, signed like every reply. Whether real WeChat Pay signs its refusals is not
    /// documented; the sandbox does, so that a client's authenticated-refusal path can be
    /// exercised (its `401 SIGN_ERROR`, given before the merchant is authenticated, is not:
    /// see [`Simulator::unsigned_error`]).
    fn error(
        &self,
        status: StatusCode,
        code: &str,
        message: &str,
        detail_code: Option<u64>,
    ) -> SandboxResponse {
        let mut response = self.signed(
            status,
            json!({"code": code, "message": message}).to_string(),
        );
        response
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("request-id"));
        response.header("request-id", Self::request_id(detail_code))
    }

    /// A refusal without signature headers.
    fn unsigned_error(
        &self,
        status: StatusCode,
        code: &str,
        message: &str,
        detail_code: Option<u64>,
    ) -> SandboxResponse {
        SandboxResponse::json(status, &json!({"code": code, "message": message}))
            .header("request-id", Self::request_id(detail_code))
    }

    /// A `Request-ID`, carrying PayScore's finer code after the last `-` when there is one.
    fn request_id(detail_code: Option<u64>) -> String {
        match detail_code {
            Some(n) => format!("08F4D9A2B-{n}"),
            None => format!("08F4D{}", sandbox_random(8)),
        }
    }

    fn authenticate(&self, request: &SandboxRequest) -> Result<(), String> {
        let header = request
            .header("authorization")
            .ok_or("missing Authorization")?;
        let rest = header
            .strip_prefix("WECHATPAY2-SHA256-RSA2048 ")
            .ok_or("wrong scheme")?;
        let get = |n: &str| attribute(rest, n).ok_or(format!("missing {n}"));
        if get("mchid")? != SANDBOX_MCHID {
            return Err("mchid mismatch".into());
        }
        if get("serial_no")? != SANDBOX_MERCHANT_SERIAL {
            return Err("unknown merchant certificate serial".into());
        }
        let ts: i64 = get("timestamp")?.parse().map_err(|_| "bad timestamp")?;
        if self
            .options
            .clock
            .now_seconds()
            .saturating_sub(ts)
            .unsigned_abs()
            > 300
        {
            return Err("timestamp expired".into());
        }
        let signature = base64::decode(get("signature")?).map_err(|_| "signature is not base64")?;
        let message = request_message(
            request.method.as_str(),
            &request.path_and_query(),
            ts,
            get("nonce_str")?,
            &request.body,
        );
        self.merchant_public
            .verify_sha256(&message, &signature)
            .map_err(|_| "签名错误".to_owned())
    }

    fn route(&self, request: &SandboxRequest) -> SandboxResponse {
        let path = request.path.as_str();
        let body: Value = if request.body.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(&request.body) {
                Ok(v) => v,
                Err(_) => {
                    return self.error(
                        StatusCode::BAD_REQUEST,
                        "PARAM_ERROR",
                        "请求体不是JSON",
                        None,
                    );
                }
            }
        };
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        match (request.method.as_str(), segments.as_slice()) {
            ("GET", ["v3", "certificates"]) => self.certificates(),
            (_, ["v3", "payscore", "partner", rest @ ..]) => self.partner(request, rest, &body),
            ("POST", ["v3", "payscore", "serviceorder"]) => self.create(&body),
            ("GET", ["v3", "payscore", "serviceorder"]) => {
                let key = request.query_param("out_order_no").or_else(|| request.query_param("query_id"));
                self.query(key.as_deref().unwrap_or_default(), request.query_param("service_id").as_deref())
            }
            ("POST", ["v3", "payscore", "serviceorder", "direct-complete"]) => self.direct_complete(&body),
            ("POST", ["v3", "payscore", "serviceorder", no, action]) => self.action(&decode(no), action, &body),
            ("POST", ["v3", "payscore", "permissions"]) => {
                let code = body["authorization_code"].as_str().unwrap_or_default().to_owned();
                self.state.with(|s| {
                    s.authorizations.insert(code.clone(), json!({"authorization_code": code, "authorization_state": "UNAVAILABLE", "service_id": body["service_id"], "appid": body["appid"], "mchid": SANDBOX_MCHID}))
                });
                self.signed(StatusCode::OK, json!({"apply_permissions_token": format!("TOKEN{}", sandbox_random(16))}).to_string())
            }
            ("GET", ["v3", "payscore", "permissions", "authorization-code", code]) => {
                match self.state.with(|s| s.authorizations.get(&decode(code)).cloned()) {
                    Some(a) => self.signed(StatusCode::OK, a.to_string()),
                    None => self.error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "授权记录不存在", None),
                }
            }
            ("POST", ["v3", "payscore", "permissions", "authorization-code", code, "terminate"]) => {
                if self.state.with(|s| s.authorizations.remove(&decode(code)).is_some()) {
                    self.signed(StatusCode::NO_CONTENT, String::new())
                } else {
                    self.error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "授权记录不存在", None)
                }
            }
            ("GET", ["v3", "payscore", "permissions", "openid", openid]) => self.signed(
                StatusCode::OK,
                json!({"openid": decode(openid), "service_id": request.query_param("service_id"), "appid": request.query_param("appid"), "mchid": SANDBOX_MCHID, "authorization_state": "AVAILABLE"}).to_string(),
            ),
            ("POST", ["v3", "payscore", "permissions", "openid", _, "terminate"]) => self.signed(StatusCode::NO_CONTENT, String::new()),
            ("POST", ["v3", "payscore", "permissions", "assess-user-risk-level"]) => self.signed(
                StatusCode::OK,
                json!({"service_id": body["service_id"], "appid": body["appid"], "mchid": SANDBOX_MCHID, "openid": body["openid"], "authorization_state": "AVAILABLE", "user_risk_level": 1, "risk_level_version": 1}).to_string(),
            ),
            ("GET", ["v3", "payscore", "merchant-bill"]) => self.merchant_bill(request),
            ("GET", ["v3", "bill", "tradebill"]) => self.trade_bill(request),
            ("GET", ["v3", "bill", "fundflowbill"]) => self.fund_flow_bill(request),
            ("GET", ["v3", "billdownload", "file"]) => self.bill_file(request),
            _ => self.error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "no such endpoint in the sandbox", None),
        }
    }

    fn certificates(&self) -> SandboxResponse {
        let mut data = Vec::new();
        for p in [&self.platform_a, &self.platform_b] {
            let nonce = sandbox_random(12);
            let sealed = self
                .apiv3
                .seal(nonce.as_bytes(), b"certificate", p.pem.as_bytes())
                .unwrap_or_default();
            data.push(json!({
                "serial_no": p.cert.serial(),
                "effective_time": datetime::format_rfc3339(p.cert.not_before(), datetime::CST),
                "expire_time": datetime::format_rfc3339(p.cert.not_after(), datetime::CST),
                "encrypt_certificate": {"algorithm": "AEAD_AES_256_GCM", "nonce": nonce, "associated_data": "certificate", "ciphertext": base64::encode(sealed)}
            }));
        }
        self.signed(StatusCode::OK, json!({"data": data}).to_string())
    }

    fn check_app(&self, body: &Value) -> Option<SandboxResponse> {
        if body["appid"] != SANDBOX_APPID || body["service_id"] != SANDBOX_SERVICE_ID {
            return Some(self.error(
                StatusCode::FORBIDDEN,
                "NO_AUTH",
                "appid或service_id与商户号不匹配",
                Some(268_503_786),
            ));
        }
        None
    }

    fn create(&self, body: &Value) -> SandboxResponse {
        if let Some(refused) = self.check_app(body) {
            return refused;
        }
        let Some(no) = body["out_order_no"].as_str().map(str::to_owned) else {
            return self.error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "缺少out_order_no",
                None,
            );
        };
        let now = self.options.clock.now_seconds();
        let result = self.state.with(|s| {
            if let Some(existing) = s.orders.get(&no) {
                // Re-entry: the same parameters get the same order, others an error.
                return if existing["_request"] == *body {
                    Ok(existing.clone())
                } else {
                    Err(())
                };
            }
            let mut order = body.clone();
            order["_request"] = body.clone();
            order["mchid"] = json!(SANDBOX_MCHID);
            order["state"] = json!("CREATED");
            order["order_id"] = json!(format!("1000000000{:010}", s.next));
            order["package"] = json!(format!("DJIOSQPYWDxsa{:06}", s.next));
            s.next += 1;
            s.created_at.insert(no.clone(), now);
            s.orders.insert(no.clone(), order.clone());
            Ok(order)
        });
        match result {
            Ok(order) => self.signed(StatusCode::OK, public(&order).to_string()),
            Err(()) => self.error(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "订单重入参数校验失败",
                Some(271_316_598),
            ),
        }
    }

    fn expire(&self, s: &mut State, no: &str) {
        let now = self.options.clock.now_seconds();
        let stale = s.created_at.get(no).is_some_and(|t| now - t > 30 * 86_400);
        if let Some(o) = s
            .orders
            .get_mut(no)
            .filter(|o| stale && o["state"] == "CREATED")
        {
            o["state"] = json!("EXPIRED");
        }
    }

    fn query(&self, no: &str, service_id: Option<&str>) -> SandboxResponse {
        if service_id != Some(SANDBOX_SERVICE_ID) {
            return self.error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "service_id错误",
                None,
            );
        }
        let order = self.state.with(|s| {
            self.expire(s, no);
            s.orders.get(no).cloned()
        });
        match order {
            Some(o) => self.signed(StatusCode::OK, public(&o).to_string()),
            None => self.error(
                StatusCode::NOT_FOUND,
                "ORDER_NOT_EXIST",
                "订单不存在",
                Some(271_317_510),
            ),
        }
    }

    fn direct_complete(&self, body: &Value) -> SandboxResponse {
        if let Some(refused) = self.check_app(body) {
            return refused;
        }
        let no = body["out_order_no"].as_str().unwrap_or_default().to_owned();
        let total = body["total_amount"].as_u64().unwrap_or(0);
        let order = self.state.with(|s| {
            let mut order = body.clone();
            order["mchid"] = json!(SANDBOX_MCHID);
            order["state"] = json!("DOING");
            order["state_description"] = json!("MCH_COMPLETE");
            order["order_id"] = json!(format!("1000000000{:010}", s.next));
            order["need_collection"] = json!(true);
            order["collection"] = json!({"state": "USER_PAYING", "total_amount": total, "paying_amount": total, "paid_amount": 0});
            s.next += 1;
            s.orders.insert(no, order.clone());
            order
        });
        self.signed(StatusCode::OK, public(&order).to_string())
    }

    fn action(&self, no: &str, action: &str, body: &Value) -> SandboxResponse {
        if let Some(refused) = (action != "send-pendingmessage" && action != "send-prepaidmessage")
            .then(|| self.check_app(body))
            .flatten()
        {
            return refused;
        }
        let result: Result<(StatusCode, Value), SandboxResponse> = self.state.with(|s| {
            self.expire(s, no);
            let Some(order) = s.orders.get_mut(no) else {
                return Err(self.error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在", Some(271_317_510)));
            };
            let state = order["state"].as_str().unwrap_or_default().to_owned();
            let desc = order["state_description"].as_str().unwrap_or_default().to_owned();
            let paying = order["collection"]["state"] == "USER_PAYING";
            let bad_state = |code: u64| Err(self.error(StatusCode::BAD_REQUEST, "INVALID_ORDER_STATE", "单据状态错误", Some(code)));
            match action {
                "cancel" => {
                    if !(state == "CREATED" || (state == "DOING" && desc == "USER_CONFIRM")) {
                        return bad_state(271_316_592);
                    }
                    order["state"] = json!("REVOKED");
                    order["state_description"] = Value::Null;
                    Ok((StatusCode::OK, ack(order)))
                }
                "complete" => {
                    if !(state == "DOING" && desc == "USER_CONFIRM") {
                        return bad_state(271_302_262);
                    }
                    let total = body["total_amount"].as_u64().unwrap_or(0);
                    if total != totals(body) {
                        return Err(self.error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "最终总金额计算非法", Some(268_435_464)));
                    }
                    if total > order["risk_fund"]["amount"].as_u64().unwrap_or(u64::MAX) {
                        return Err(self.error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "金额超过服务风险金", Some(271_316_656)));
                    }
                    order["state_description"] = json!("MCH_COMPLETE");
                    order["post_payments"] = body["post_payments"].clone();
                    order["post_discounts"] = body["post_discounts"].clone();
                    order["total_amount"] = json!(total);
                    order["need_collection"] = json!(true);
                    order["collection"] = json!({"state": "USER_PAYING", "total_amount": total, "paying_amount": total, "paid_amount": 0});
                    Ok((StatusCode::OK, public(order)))
                }
                "modify" => {
                    if !(desc == "MCH_COMPLETE" && paying) {
                        return bad_state(271_316_657);
                    }
                    let total = body["total_amount"].as_u64().unwrap_or(0);
                    if total != totals(body) {
                        return Err(self.error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "最终总金额计算非法", Some(268_435_464)));
                    }
                    if total >= order["total_amount"].as_u64().unwrap_or(0) {
                        return Err(self.error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "修改金额只能调低", None));
                    }
                    order["total_amount"] = json!(total);
                    order["post_payments"] = body["post_payments"].clone();
                    order["collection"]["total_amount"] = json!(total);
                    order["collection"]["paying_amount"] = json!(total);
                    Ok((StatusCode::OK, public(order)))
                }
                "pay" => {
                    if !paying {
                        return bad_state(271_316_657);
                    }
                    Ok((StatusCode::OK, ack(order)))
                }
                "sync" => {
                    if !(desc == "MCH_COMPLETE" && paying) {
                        return bad_state(271_302_333);
                    }
                    order["state"] = json!("DONE");
                    order["collection"]["state"] = json!("USER_PAID");
                    Ok((StatusCode::OK, public(order)))
                }
                "send-pendingmessage" | "send-prepaidmessage" => {
                    let key = format!("{no}:{action}");
                    if s.messages.insert(key, true).is_some() {
                        return Err(self.error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "每笔订单只能发送一次", None));
                    }
                    Ok((StatusCode::NO_CONTENT, Value::Null))
                }
                _ => Err(self.error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "no such action", None)),
            }
        });
        match result {
            Ok((StatusCode::NO_CONTENT, _)) => self.signed(StatusCode::NO_CONTENT, String::new()),
            Ok((status, value)) => self.signed(status, value.to_string()),
            Err(response) => response,
        }
    }

    fn callback(self: &Arc<Self>, event_type: &'static str, summary: &'static str, order: &Value) {
        let Some(url) = order["notify_url"].as_str().map(str::to_owned) else {
            return;
        };
        let id = format!("EV-{}", sandbox_random(20));
        let plain = public(order).to_string();
        let nonce = sandbox_random(12);
        let sealed = self
            .apiv3
            .seal(nonce.as_bytes(), b"payscore", plain.as_bytes())
            .unwrap_or_default();
        let envelope = json!({
            "id": id, "create_time": datetime::format_rfc3339(self.options.clock.now_seconds(), datetime::CST),
            "event_type": event_type, "resource_type": "encrypt-resource", "summary": summary,
            "resource": {"original_type": "payscore", "algorithm": "AEAD_AES_256_GCM", "ciphertext": base64::encode(sealed), "associated_data": "payscore", "nonce": nonce}
        })
        .to_string();
        let this = Arc::clone(self);
        let body = Bytes::from(envelope);
        let gap = |s: u64| Duration::from_secs(s);
        let webhook = Webhook {
            id,
            request: Arc::new(move |_attempt| {
                let (key, serial) = this.signer();
                let ts = this.options.clock.now_seconds();
                let n = sandbox_random(32);
                let signature = sign_response(key, ts, &n, &body)?;
                http::Request::post(url.as_str())
                    .header("content-type", "application/json")
                    .header("wechatpay-timestamp", ts.to_string())
                    .header("wechatpay-nonce", n)
                    .header("wechatpay-signature", signature)
                    .header("wechatpay-serial", serial)
                    .header("wechatpay-signature-type", "WECHATPAY2-SHA256-RSA2048")
                    .body(body.clone())
                    .map_err(|e| Error::config(format!("notify_url rejected: {e}")))
            }),
            accept: |status, _| status.is_success(),
            schedule: RetrySchedule::immediate_then(&[
                gap(15),
                gap(15),
                gap(30),
                gap(180),
                gap(600),
                gap(1200),
                gap(1800),
                gap(1800),
                gap(1800),
                gap(3600),
                gap(10_800),
                gap(10_800),
                gap(10_800),
                gap(21_600),
                gap(21_600),
            ]),
        };
        self.dispatcher.dispatch(webhook);
    }
}

/// The order as the API shows it (the sandbox's bookkeeping removed).
fn public(order: &Value) -> Value {
    let mut o = order.clone();
    if let Some(map) = o.as_object_mut() {
        map.remove("_request");
        map.retain(|_, v| !v.is_null());
    }
    o
}

fn ack(order: &Value) -> Value {
    json!({"appid": order["appid"], "mchid": order["mchid"], "out_order_no": order["out_order_no"], "service_id": order["service_id"], "order_id": order["order_id"]})
}

fn totals(body: &Value) -> u64 {
    let sum = |key: &str| {
        body[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["amount"].as_u64())
                    .fold(0u64, u64::saturating_add)
            })
            .unwrap_or(0)
    };
    sum("post_payments").saturating_sub(sum("post_discounts"))
}

/// Randomness for the simulator's own ids and nonces. The sandbox is a test double: should
/// the CSPRNG fail, a counter keeps its ids distinct (a client never signs with these).
fn sandbox_random(len: usize) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static FALLBACK: AtomicU64 = AtomicU64::new(0);
    random_alphanumeric(len).unwrap_or_else(|_| {
        let n = format!("{:0len$}", FALLBACK.fetch_add(1, Ordering::Relaxed));
        n.get(n.len().saturating_sub(len)..)
            .unwrap_or(&n)
            .to_owned()
    })
}
