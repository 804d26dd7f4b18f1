//! A stateful simulator of the Lianhe partner API on a loopback port (feature `sandbox`).
//!
//! It checks `PartnerId`, `Date` (a stale or future date is refused) and the `LH`
//! signature as the real service does, keeps products, stock and orders, applies the
//! cancellation rules of the documents (over-quantity refusals carry the refundable
//! quantity; refunded, pending or used-up orders carry their status; expired tickets stay
//! refundable until 5 days after 验票结束时间, see [below](#the-5-day-refund-window)),
//! holds every cancellation for a manual audit that the test approves or rejects, and
//! delivers signed `snNotify` and `reNotify` notifications to a webhook on Lianhe's
//! schedule ([below](#when-notifications-are-delivered)) with time compressed, until the
//! receiver answers `success`.
//!
//! ## When notifications are delivered
//!
//! The documents (the 销码通知 and 退款通知 pages) say, in full (quoted from their
//! traditional-script mirror):
//!
//! > 我方系統會5分鐘定時輪詢執行通知任務。并對失敗任務進行重復處理。 間隔為3分鐘,6分鐘,12分鐘等。。依次遞增十次。若10次均無法成功,則任務處理失敗,聯合客服會定期查看失敗任務。重新執行任務或更改任務狀態。
//!
//! The sandbox reads it so ([`notification_schedule`] computes it):
//!
//! - *"我方系統會5分鐘定時輪詢執行通知任務"*: notification tasks are executed by a poll
//!   that runs every 5 minutes. Nothing is sent at the moment of the event: the first
//!   delivery goes out at the first poll at or after it, 0 to 5 minutes later. The polls
//!   fall on whole multiples of 5 minutes of the sandbox's clock (:00, :05, :10 …), so a
//!   test with a fixed clock knows exactly when.
//! - *"并對失敗任務進行重復處理。 間隔為3分鐘,6分鐘,12分鐘等。。依次遞增十次"*: a failed
//!   delivery is processed again after 3 minutes, then 6, 12 … (each wait twice the last;
//!   the documents show only the first three values), ten times. The same poll executes
//!   these repetitions, so each goes out at the first poll at least its wait after the
//!   failure: the gaps seen are 5, 10, 15, 25, 50, 100, 195, 385, 770 and 1 540 minutes.
//! - *"若10次均無法成功,則任務處理失敗"*: the ten counts the repeated processing of a
//!   *failed* task ("重復處理"), the retries; the first delivery is the poll's own
//!   execution, not a repetition, and has no interval before it. So a notification is
//!   delivered at most **eleven** times, once and then ten retries, and the sandbox stops
//!   after the eleventh failure. (Lianhe's staff then look at failed tasks by hand,
//!   "聯合客服會定期查看失敗任務"; the sandbox does not model that.)
//! - Anything but the text `success` in a 2xx reply is a failure
//!   ("合作方收到我方請求消息直接返回success字符串").
//!
//! Readings not taken: "ten in all", the first delivery included (the sentence counts
//! repetitions, not deliveries), and a poll that re-sends every unacknowledged
//! notification each 5 minutes (it would contradict the 3, 6, 12 … intervals).
//! [`SandboxOptions::notify_poll_interval`]`(Duration::ZERO)` turns the poll off, for a
//! reading in which the intervals run on their own timer: the first delivery at once,
//! each retry exactly 3, 6, 12 … minutes after the failure before it.
//!
//! Each notification's schedule starts when it is raised (the sandbox clock gives the
//! poll's phase) and its waits then run [`SandboxOptions::time_compression`] times faster
//! than real time. [`DeliveryAttempt::simulated_at`] is computed from the schedule, not
//! measured, so a test can assert the exact times of every attempt.
//!
//! ## The 5-day refund window
//!
//! "對于合作方網站的過期退款操作,最遲在產品驗票結束時間后 5天 內提交退款請求" (the 取消订单
//! page, traditional-script mirror, bold left out): a cancellation
//! more than 5 days after the product's 验票结束时间 is refused (`reStatus` 2, "已超过产品
//! 验票结束时间后5天"). The V2.1 change log adds "验票开始时间和验票结束时间" to products,
//! but which `getTeam` field holds it is not documented: `expireTime` (产品有效期结束时间,
//! also added in V2.1) or `endTime` (name only, no description survives).
//! [`SandboxOptions::refund_window_field`] chooses ([`RefundWindowField`]; `expireTime` by
//! default). A product without the chosen field, or with a value that is not
//! `yyyy-MM-dd HH:mm:ss` (read as Beijing time), has no window.
//!
//! Where the documents are silent the simulator makes a choice and says so: status
//! numbers (2 created, 4 paid, 6 refund requested or refunded, 7 refund rejected, 8 partly
//! used, 9 used up — taken from the documents' examples, not from a published table), the
//! reply to an authentication failure (`code` 20000 with HTTP 200), and a repeated
//! `orderId` (answered with the existing order).
//!
//! ```
//! use tixpay_lianhe::sandbox::LianheSandbox;
//! use tixpay_lianhe::{Client, GetTeam};
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let sandbox = LianheSandbox::start().await?;
//! let client = Client::new(sandbox.config())?;
//! let page = client.get_team(&GetTeam::page(0, 10)).await?;
//! assert_eq!(page.products.len(), 3);
//! # Ok::<(), tixpay_core::Error>(()) }).unwrap();
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use serde_json::{Value, json};
use tixpay_core::sandbox::{
    DeliveryAttempt, DeliveryReport, RetrySchedule, SandboxRequest, SandboxResponse, SandboxServer,
    Shared, Webhook, WebhookDispatcher,
};
use tixpay_core::{Clock, Error, Secret, SharedClock, SystemClock, datetime};

use crate::auth::{NOTIFY_URI, Signer};
use crate::config::{Config, SANDBOX_API_NAME, SANDBOX_CLIENT_SECRET, SANDBOX_PARTNER_ID};
use crate::types::{Product, TeamType};
use tixpay_core::Fen;

/// Lianhe's notification poll: "我方系統會5分鐘定時輪詢執行通知任務" (the default of
/// [`SandboxOptions::notify_poll_interval`]).
pub const NOTIFY_POLL_INTERVAL: Duration = Duration::from_secs(300);

/// The wait before the first retry, doubled before each next one: "間隔為3分鐘,6分鐘,12分鐘等".
pub const FIRST_RETRY_AFTER: Duration = Duration::from_secs(180);

/// Retries after the first delivery fails: "依次遞增十次。若10次均無法成功,則任務處理失敗"
/// (see [the module docs](self#when-notifications-are-delivered) for this reading).
pub const NOTIFY_RETRIES: u32 = 10;

/// When the sandbox delivers a notification raised at `event_at` (Unix seconds on the
/// sandbox clock), with Lianhe's poll running every `poll_interval`: the wait before each
/// delivery, the first measured from the event, each next from the delivery before it.
///
/// With a poll (whole seconds), the first delivery waits for the first poll at or after
/// the event, and each retry for the first poll at least 3, 6, 12 … minutes after the
/// failure. `Duration::ZERO` (or under a second) means no poll: at once, then exactly
/// 3, 6, 12 … minutes. Either way one delivery and [`NOTIFY_RETRIES`] retries.
///
/// ```
/// use std::time::Duration;
/// use tixpay_lianhe::sandbox::{NOTIFY_POLL_INTERVAL, notification_schedule};
///
/// let minutes = |s: &tixpay_lianhe::core::sandbox::RetrySchedule| -> Vec<u64> {
///     s.delays().iter().map(|d| d.as_secs() / 60).collect()
/// };
/// // Raised 2 minutes after a poll: the first delivery 3 minutes later, at the next poll;
/// // every retry on a poll too.
/// let at = 1_700_000_000 - 1_700_000_000 % 300 + 120;
/// let s = notification_schedule(at, NOTIFY_POLL_INTERVAL);
/// assert_eq!(s.delays()[0], Duration::from_secs(180));
/// assert_eq!(minutes(&s)[1..], [5, 10, 15, 25, 50, 100, 195, 385, 770, 1540]);
/// assert_eq!(s.attempts(), 11);
/// // Without the poll: at once, then 3, 6, 12 … minutes.
/// let s = notification_schedule(at, Duration::ZERO);
/// assert_eq!(minutes(&s), [0, 3, 6, 12, 24, 48, 96, 192, 384, 768, 1536]);
/// ```
pub fn notification_schedule(event_at: i64, poll_interval: Duration) -> RetrySchedule {
    let retries = RetrySchedule::doubling(FIRST_RETRY_AFTER, NOTIFY_RETRIES);
    let poll = poll_interval.as_secs();
    if poll == 0 {
        return retries;
    }
    // The polls fall on whole multiples of `poll` since the epoch.
    let phase = event_at.rem_euclid(i64::try_from(poll).unwrap_or(i64::MAX));
    let phase = u64::try_from(phase).unwrap_or(0);
    let first = (poll - phase) % poll;
    let mut delays = vec![Duration::from_secs(first)];
    // Every delivery is on a poll, so the next poll at least `gap` later is a whole number
    // of polls away.
    delays.extend(
        retries
            .delays()
            .iter()
            .skip(1)
            .map(|gap| Duration::from_secs(gap.as_secs().div_ceil(poll).saturating_mul(poll))),
    );
    RetrySchedule::new(delays)
}

/// Which product field the sandbox takes as 验票结束时间, the end of ticket checking from
/// which the 5-day refund window runs (see [the module docs](self#the-5-day-refund-window)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RefundWindowField {
    /// `expireTime` 产品有效期结束时间 ([`Product::expire_time`]), the default.
    #[default]
    ExpireTime,
    /// `endTime` ([`Product::end_time`]).
    EndTime,
}

impl RefundWindowField {
    /// The field's value on `product`, as sent.
    fn value(self, product: &Product) -> Option<&str> {
        match self {
            Self::ExpireTime => product.expire_time.as_deref(),
            Self::EndTime => product.end_time.as_deref(),
        }
    }
}

/// Order status numbers the simulator uses (see the module docs).
pub mod status {
    /// Created by `creatOrder`, not paid.
    pub const CREATED: i64 = 2;
    /// Paid (`newOrder`, `payOrder`).
    pub const PAID: i64 = 4;
    /// A refund was requested, or refunded.
    pub const REFUND: i64 = 6;
    /// The last refund was rejected.
    pub const REFUND_REJECTED: i64 = 7;
    /// Some tickets used.
    pub const PART_USED: i64 = 8;
    /// Every remaining ticket used.
    pub const USED: i64 = 9;
}

/// Refund status numbers the simulator sends in refusals and rejections.
pub mod refund_status {
    /// A refund is already waiting for audit, or the order has nothing left to refund.
    pub const NOT_REFUNDABLE: i64 = 2;
    /// The audit rejected the refund.
    pub const REJECTED: i64 = 4;
}

/// How to start a [`LianheSandbox`].
#[derive(Clone)]
#[non_exhaustive]
pub struct SandboxOptions {
    /// The partner id the sandbox accepts.
    pub partner_id: i64,
    /// The `apiname` the sandbox accepts.
    pub api_name: String,
    /// The `clientSecret` it verifies with.
    pub client_secret: Secret,
    /// How far a request's `Date` may be from the sandbox's clock (default 5 minutes).
    pub max_date_skew: Duration,
    /// The sandbox's clock.
    pub clock: SharedClock,
    /// How much faster than real time notification deliveries run (default 10 000: a
    /// 5-minute poll takes 30 ms, the whole schedule of a receiver that never answers
    /// `success`, about 51 hours, under 19 s).
    pub time_compression: f64,
    /// The products on sale (default: [`LianheSandbox::default_products`]).
    pub products: Vec<(Product, i64)>,
    /// How often Lianhe's notification poll runs (default [`NOTIFY_POLL_INTERVAL`], 5
    /// minutes); `Duration::ZERO` turns it off. See [`notification_schedule`].
    pub notify_poll_interval: Duration,
    /// Which product field is 验票结束时间 for the 5-day refund window (default
    /// [`RefundWindowField::ExpireTime`]).
    pub refund_window_field: RefundWindowField,
}

impl fmt::Debug for SandboxOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxOptions")
            .field("partner_id", &self.partner_id)
            .field("api_name", &self.api_name)
            .field("max_date_skew", &self.max_date_skew)
            .field("time_compression", &self.time_compression)
            .field("notify_poll_interval", &self.notify_poll_interval)
            .field("refund_window_field", &self.refund_window_field)
            .finish()
    }
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            partner_id: SANDBOX_PARTNER_ID,
            api_name: SANDBOX_API_NAME.to_owned(),
            client_secret: Secret::new(SANDBOX_CLIENT_SECRET),
            max_date_skew: Duration::from_secs(300),
            clock: Arc::new(SystemClock),
            time_compression: 10_000.0,
            products: LianheSandbox::default_products(),
            notify_poll_interval: NOTIFY_POLL_INTERVAL,
            refund_window_field: RefundWindowField::ExpireTime,
        }
    }
}

/// Chained setters, one per option, from [`SandboxOptions::default`].
impl SandboxOptions {
    /// Sets `partner_id`: the partner id the sandbox accepts.
    #[must_use]
    pub fn partner_id(mut self, partner_id: i64) -> Self {
        self.partner_id = partner_id;
        self
    }

    /// Sets `api_name`: the `apiname` the sandbox accepts.
    #[must_use]
    pub fn api_name(mut self, api_name: impl Into<String>) -> Self {
        self.api_name = api_name.into();
        self
    }

    /// Sets `client_secret`: the `clientSecret` it verifies with.
    #[must_use]
    pub fn client_secret(mut self, client_secret: Secret) -> Self {
        self.client_secret = client_secret;
        self
    }

    /// Sets `max_date_skew`: how far a request's `Date` may be from the sandbox's clock
    /// (default 5 minutes).
    #[must_use]
    pub fn max_date_skew(mut self, max_date_skew: Duration) -> Self {
        self.max_date_skew = max_date_skew;
        self
    }

    /// Sets `clock`: the sandbox's clock.
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets `time_compression`: how much faster than real time notification deliveries run
    /// (default 10 000).
    #[must_use]
    pub fn time_compression(mut self, time_compression: f64) -> Self {
        self.time_compression = time_compression;
        self
    }

    /// Sets `products`: the products on sale (default: [`LianheSandbox::default_products`]).
    #[must_use]
    pub fn products(mut self, products: Vec<(Product, i64)>) -> Self {
        self.products = products;
        self
    }

    /// Sets `notify_poll_interval`: how often Lianhe's notification poll runs (default 5
    /// minutes; `Duration::ZERO` for none). See [`notification_schedule`].
    #[must_use]
    pub fn notify_poll_interval(mut self, notify_poll_interval: Duration) -> Self {
        self.notify_poll_interval = notify_poll_interval;
        self
    }

    /// Sets `refund_window_field`: which product field is 验票结束时间, from which the 5-day
    /// refund window runs (default `expireTime`).
    #[must_use]
    pub fn refund_window_field(mut self, refund_window_field: RefundWindowField) -> Self {
        self.refund_window_field = refund_window_field;
        self
    }
}

#[derive(Debug, Clone)]
struct OrderState {
    order_id: String,
    lh_order_id: String,
    deal_id: String,
    quantity: i64,
    used: i64,
    refunded: i64,
    status: i64,
    paid: bool,
    voucher: String,
    codes: Vec<String>,
    pending_refund: Option<String>,
}

impl OrderState {
    fn refundable(&self) -> i64 {
        self.quantity - self.used - self.refunded
    }
}

/// A cancellation waiting for the (simulated) manual audit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingRefund {
    /// `refundId`, or the order id when none was sent.
    pub refund_key: String,
    /// The partner's `orderId`.
    pub order_id: String,
    /// `LHOrderId`.
    pub lh_order_id: String,
    /// Tickets to refund.
    pub quantity: i64,
}

#[derive(Default)]
struct State {
    products: BTreeMap<String, (Product, i64)>,
    orders: BTreeMap<String, OrderState>,
    by_partner_order: BTreeMap<String, String>,
    refunds: BTreeMap<String, PendingRefund>,
    next_order: u64,
    next_code: u64,
    notify_url: Option<String>,
}

struct Simulator {
    state: Shared<State>,
    options: SandboxOptions,
    signer: Signer,
}

/// The running simulator. Dropping it stops the server.
pub struct LianheSandbox {
    server: SandboxServer,
    simulator: Arc<Simulator>,
    dispatcher: WebhookDispatcher,
}

impl fmt::Debug for LianheSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LianheSandbox")
            .field("uri", &self.server.uri())
            .field("options", &self.simulator.options)
            .finish()
    }
}

fn reply(code: i64, describe: &str, partner_id: i64, body: Value) -> SandboxResponse {
    SandboxResponse::json(
        StatusCode::OK,
        &json!({"code": code, "describe": describe, "partnerId": partner_id, "body": body}),
    )
}

impl LianheSandbox {
    /// Three products: `852` (normal, ¥100.00, stock 100), `853` (`subscribe`: needs a travel
    /// date, ¥80.00) and `854` (`fullRefund`: whole-order refunds only, ¥120.00), valid from
    /// 2020 to 2099.
    pub fn default_products() -> Vec<(Product, i64)> {
        let product =
            |id: &str, name: &str, yuan: u64, team_type: TeamType, full_refund: i64| Product {
                partner_id: Some(SANDBOX_PARTNER_ID),
                supplier_id: Some("S1".into()),
                deal_id: id.into(),
                team_type,
                name: name.into(),
                begin_time: Some("2020-01-01 00:00:00".into()),
                expire_time: Some("2099-12-31 23:59:59".into()),
                market_price: Some(Fen::new((yuan + 20) * 100)),
                sell_price: Some(Fen::new(yuan * 100)),
                buy_price: Some(Fen::new((yuan - 10) * 100)),
                stock: Some(100),
                can_refund: Some(1),
                full_refund: Some(full_refund),
                ..Product::default()
            };
        vec![
            (product("852", "景区成人票", 100, TeamType::Normal, 0), 100),
            (
                product("853", "预约游船票", 80, TeamType::Subscribe, 0),
                100,
            ),
            (
                product("854", "剧场整单退套票", 120, TeamType::Normal, 1),
                100,
            ),
        ]
    }

    /// Starts with the default options.
    pub async fn start() -> Result<Self, Error> {
        Self::start_with(SandboxOptions::default()).await
    }

    /// Starts with `options`.
    pub async fn start_with(options: SandboxOptions) -> Result<Self, Error> {
        let mut state = State {
            next_order: 15354,
            next_code: 411_258_698_456,
            ..State::default()
        };
        for (product, stock) in &options.products {
            state
                .products
                .insert(product.deal_id.clone(), (product.clone(), *stock));
        }
        let signer = Signer::new(options.api_name.clone(), &options.client_secret);
        let dispatcher = WebhookDispatcher::new(options.time_compression)?;
        let simulator = Arc::new(Simulator {
            state: Shared::new(state),
            options,
            signer,
        });
        let server = SandboxServer::start_shared(Arc::clone(&simulator)).await;
        Ok(Self {
            server,
            simulator,
            dispatcher,
        })
    }

    /// The base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A client configuration for this sandbox, with its credentials and clock.
    pub fn config(&self) -> Config {
        let o = &self.simulator.options;
        Config::new(o.partner_id, o.api_name.clone(), o.client_secret.clone())
            .base_url(self.uri())
            .clock(Arc::clone(&o.clock))
    }

    /// Where notifications go (the partner's "统一接口地址").
    pub fn set_notify_url(&self, url: impl Into<String>) {
        let url = url.into();
        self.simulator.state.with(|s| s.notify_url = Some(url));
    }

    /// The stock left of a product.
    pub fn stock(&self, deal_id: &str) -> Option<i64> {
        self.simulator
            .state
            .with(|s| s.products.get(deal_id).map(|(_, stock)| *stock))
    }

    /// Cancellations waiting for audit.
    pub fn pending_refunds(&self) -> Vec<PendingRefund> {
        self.simulator
            .state
            .with(|s| s.refunds.values().cloned().collect())
    }

    /// Redeems `count` tickets of an order at the gate and sends `snNotify`. Returns the
    /// redeemed codes.
    pub fn redeem(&self, lh_order_id: &str, count: i64) -> Result<Vec<String>, Error> {
        let partner_id = self.simulator.options.partner_id;
        let (notification, codes) = self.simulator.state.with(|s| -> Result<(Value, Vec<String>), Error> {
            let order = s
                .orders
                .get_mut(lh_order_id)
                .ok_or_else(|| Error::invalid_request("LHOrderId", "no such order"))?;
            let pending = order
                .pending_refund
                .as_ref()
                .and_then(|k| s.refunds.get(k))
                .map_or(0, |r| r.quantity);
            if !order.paid || count < 1 || count > order.refundable() - pending {
                return Err(Error::invalid_request(
                    "count",
                    format!(
                        "{count} tickets cannot be redeemed: {} left unused and unrefunded",
                        order.refundable() - pending
                    ),
                ));
            }
            let start = usize::try_from(order.used).unwrap_or(0);
            let codes: Vec<String> = order
                .codes
                .iter()
                .skip(start)
                .take(usize::try_from(count).unwrap_or(0))
                .cloned()
                .collect();
            order.used += count;
            order.status = if order.refundable() == 0 {
                status::USED
            } else {
                status::PART_USED
            };
            let notification = json!({
                "code": 10000, "describe": "执行成功", "partnerId": partner_id, "method": "snNotify",
                "body": {
                    "orderId": order.order_id, "LHOrderId": order.lh_order_id,
                    "orderStatus": order.status, "orderQuantity": order.quantity,
                    "usedQuantity": order.used, "sncode": codes.join(","),
                }
            });
            Ok((notification, codes))
        })?;
        self.notify(format!("snNotify:{lh_order_id}:{count}"), notification)?;
        Ok(codes)
    }

    /// Approves a pending cancellation: the tickets are refunded, the stock restored, and
    /// `reNotify` (code 10000) is sent.
    pub fn approve_refund(&self, refund_key: &str) -> Result<(), Error> {
        self.finish_refund(refund_key, true)
    }

    /// Rejects a pending cancellation and sends `reNotify` (code 20000, "退款审核已驳回").
    pub fn reject_refund(&self, refund_key: &str) -> Result<(), Error> {
        self.finish_refund(refund_key, false)
    }

    fn finish_refund(&self, refund_key: &str, approve: bool) -> Result<(), Error> {
        let partner_id = self.simulator.options.partner_id;
        let notification = self.simulator.state.with(|s| -> Result<Value, Error> {
            let pending = s
                .refunds
                .remove(refund_key)
                .ok_or_else(|| Error::invalid_request("refundId", "no such pending refund"))?;
            let order = s
                .orders
                .get_mut(&pending.lh_order_id)
                .ok_or_else(|| Error::invalid_request("LHOrderId", "no such order"))?;
            order.pending_refund = None;
            if approve {
                order.refunded += pending.quantity;
                order.status = status::REFUND;
                let deal_id = order.deal_id.clone();
                let body = json!({
                    "orderId": order.order_id, "LHOrderId": order.lh_order_id,
                    "orderStatus": order.status, "quantity": pending.quantity,
                    "reQuantity": order.refunded, "refundId": pending.refund_key,
                });
                if let Some((_, stock)) = s.products.get_mut(&deal_id) {
                    *stock += pending.quantity;
                }
                Ok(json!({"code": 10000, "describe": "执行成功", "partnerId": partner_id, "method": "reNotify", "body": body}))
            } else {
                order.status = status::REFUND_REJECTED;
                Ok(json!({
                    "code": 20000, "describe": "退款审核已驳回", "partnerId": partner_id, "method": "reNotify",
                    "body": {
                        "orderId": order.order_id, "LHOrderId": order.lh_order_id,
                        "orderStatus": order.status, "reStatus": refund_status::REJECTED,
                        "refundId": pending.refund_key,
                    }
                }))
            }
        })?;
        self.notify(format!("reNotify:{refund_key}"), notification)
    }

    fn notify(&self, id: String, notification: Value) -> Result<(), Error> {
        let Some(url) = self.simulator.state.with(|s| s.notify_url.clone()) else {
            return Ok(());
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::config(
                "the sandbox delivers notifications on the tokio runtime: call its hooks inside one",
            ));
        }
        let body = Bytes::from(notification.to_string());
        let simulator = Arc::clone(&self.simulator);
        let webhook = Webhook {
            id,
            request: Arc::new(move |_attempt| {
                let date = datetime::format_http_date(simulator.options.clock.now_seconds());
                let authorization = simulator.signer.authorization("POST", NOTIFY_URI, &date);
                http::Request::post(url.as_str())
                    .header("content-type", "application/json; charset=utf-8")
                    .header("date", date)
                    .header("partnerid", simulator.options.partner_id.to_string())
                    .header("authorization", authorization)
                    .body(body.clone())
                    .map_err(|e| Error::config(format!("notify URL rejected: {e}")))
            }),
            accept: |status, body| {
                status.is_success() && String::from_utf8_lossy(body).trim() == crate::notify::ACK
            },
            schedule: notification_schedule(
                self.simulator.options.clock.now_seconds(),
                self.simulator.options.notify_poll_interval,
            ),
        };
        self.dispatcher.dispatch(webhook);
        Ok(())
    }

    /// Every delivery attempt so far; `simulated_at` is the simulated time since the
    /// notification was raised.
    pub fn delivery_attempts(&self) -> Vec<DeliveryAttempt> {
        self.dispatcher.attempts()
    }

    /// Waits until every notification raised so far was accepted or gave up (after
    /// [`NOTIFY_RETRIES`] retries), and returns their reports in the order they were raised.
    pub async fn settle_notifications(&self) -> Vec<DeliveryReport> {
        self.dispatcher.settle().await
    }
}

impl tixpay_core::sandbox::SandboxHandler for Simulator {
    fn handle(&self, request: &SandboxRequest) -> SandboxResponse {
        let partner_id = self.options.partner_id;
        let fail = |describe: &str| reply(20000, describe, partner_id, json!({}));
        if request.method != http::Method::POST || request.path != "/openapi/index.php" {
            return SandboxResponse::text(StatusCode::NOT_FOUND, "not found");
        }
        if let Err(why) = self.authenticate(request) {
            return fail(&why);
        }
        let Ok(envelope) = serde_json::from_slice::<Value>(&request.body) else {
            return fail("请求数据不是JSON");
        };
        if envelope.get("partnerId").and_then(as_i64) != Some(partner_id) {
            return fail("partnerId不匹配");
        }
        let body = envelope.get("body").cloned().unwrap_or(Value::Null);
        let method = request.query_param("method").unwrap_or_default();
        let now = self.options.clock.now_seconds();
        self.state.with(|s| match method.as_str() {
            "getTeam" => get_team(s, &body, partner_id),
            "newOrder" => place_order(s, &body, partner_id, true),
            "creatOrder" => place_order(s, &body, partner_id, false),
            "payOrder" => pay_order(s, &body, partner_id),
            "queryOrder" => query_order(s, &body, partner_id),
            "cancelOrder" => {
                cancel_order(s, &body, partner_id, now, self.options.refund_window_field)
            }
            "send" => resend(s, &body, partner_id),
            _ => fail("未知的接口方法"),
        })
    }
}

impl Simulator {
    fn authenticate(&self, request: &SandboxRequest) -> Result<(), String> {
        let partner = request.header("partnerid").unwrap_or_default();
        if partner != self.options.partner_id.to_string() {
            return Err("PartnerId错误".into());
        }
        let date = request.header("date").ok_or("缺少Date")?;
        let sent = datetime::parse_http_date(date).ok_or("Date格式错误")?;
        let drift = self.options.clock.now_seconds().saturating_sub(sent);
        if drift.unsigned_abs() > self.options.max_date_skew.as_secs() {
            return Err("请求时间过早或过晚".into());
        }
        let authorization = request.header("authorization").ok_or("缺少Authorization")?;
        self.signer
            .verify(authorization, "POST", &request.path_and_query(), date)
            .map_err(|_| "签名错误".to_owned())
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn text(body: &Value, field: &str) -> Option<String> {
    match body.get(field)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn get_team(s: &State, body: &Value, partner_id: i64) -> SandboxResponse {
    let products: Vec<&Product> = s.products.values().map(|(p, _)| p).collect();
    let selected: Vec<&Product> = match body.get("method").and_then(Value::as_str) {
        Some("page") => {
            let page = body.get("currentPage").and_then(as_i64).unwrap_or(0).max(0);
            let size = body.get("pageSize").and_then(as_i64).unwrap_or(20).max(1);
            let skip = page
                .checked_mul(size)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(usize::MAX);
            products
                .into_iter()
                .skip(skip)
                .take(usize::try_from(size).unwrap_or(0))
                .collect()
        }
        Some("multi") => {
            let ids: Vec<String> = body
                .get("LHDealIds")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            products
                .into_iter()
                .filter(|p| ids.contains(&p.deal_id))
                .collect()
        }
        _ => return reply(20000, "method参数错误", partner_id, json!([])),
    };
    let with_stock: Vec<Value> = selected
        .iter()
        .map(|p| {
            let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
            if let (Some(obj), Some((_, stock))) = (v.as_object_mut(), s.products.get(&p.deal_id)) {
                obj.insert("stock".into(), json!(stock));
            }
            v
        })
        .collect();
    SandboxResponse::json(
        StatusCode::OK,
        &json!({"code": 10000, "describe": "success", "partnerId": partner_id,
                "totalSize": s.products.len(), "body": with_stock}),
    )
}

fn receipt(order: &OrderState) -> Value {
    json!({"LHOrderId": order.lh_order_id, "orderStatus": order.status, "voucherType": 0, "voucher": order.voucher})
}

fn place_order(s: &mut State, body: &Value, partner_id: i64, pay: bool) -> SandboxResponse {
    let refuse = |code: i64, describe: &str| reply(code, describe, partner_id, json!({}));
    let Some(order_id) = text(body, "orderId") else {
        return refuse(20000, "orderId不能为空");
    };
    if let Some(existing) = s
        .by_partner_order
        .get(&order_id)
        .and_then(|id| s.orders.get(id))
    {
        // 重复订单请求处理: the sandbox answers a repeated orderId with the existing order.
        return reply(10000, "执行成功", partner_id, receipt(existing));
    }
    let Some(deal_id) = text(body, "LHDealId") else {
        return refuse(20000, "LHDealId不能为空");
    };
    let Some((product, stock)) = s.products.get(&deal_id).cloned() else {
        return refuse(20000, "产品不存在");
    };
    let quantity = body.get("quantity").and_then(as_i64).unwrap_or(0);
    if quantity < 1 {
        return refuse(10012, "单次最少可购买1张");
    }
    let price: Option<Fen> = body
        .get("sellPrice")
        .and_then(|v| tixpay_core::money::yuan_json::deserialize(v).ok());
    if price != product.sell_price {
        return refuse(10006, "产品分销的售价不一致,不能下单。");
    }
    if product.team_type == TeamType::Subscribe
        && body
            .get("travelDate")
            .and_then(Value::as_str)
            .and_then(datetime::parse_ymd)
            .is_none()
    {
        return refuse(10004, "本产品必须指定出游日期");
    }
    let visitors: Vec<&Value> = match body.get("visitor") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => vec![],
    };
    if visitors.is_empty() || visitors.iter().any(|v| text(v, "mobile").is_none()) {
        return refuse(10010, "手机号不能为空");
    }
    if stock < quantity {
        return refuse(10009, "库存不足,产品已超售");
    }
    if let Some((_, left)) = s.products.get_mut(&deal_id) {
        *left -= quantity;
    }
    let lh_order_id = s.next_order.to_string();
    s.next_order += 1;
    let mut codes = Vec::new();
    for _ in 0..quantity {
        codes.push(s.next_code.to_string());
        s.next_code += 1;
    }
    let order = OrderState {
        order_id: order_id.clone(),
        lh_order_id: lh_order_id.clone(),
        deal_id,
        quantity,
        used: 0,
        refunded: 0,
        status: if pay { status::PAID } else { status::CREATED },
        paid: pay,
        voucher: if pay {
            codes.first().cloned().unwrap_or_default()
        } else {
            String::new()
        },
        codes,
        pending_refund: None,
    };
    let out = receipt(&order);
    s.by_partner_order.insert(order_id, lh_order_id.clone());
    s.orders.insert(lh_order_id, order);
    reply(10000, "执行成功", partner_id, out)
}

fn find<'a>(s: &'a mut State, body: &Value) -> Option<&'a mut OrderState> {
    let order_id = text(body, "orderId")?;
    let lh_order_id = text(body, "LHOrderId")?;
    s.orders
        .get_mut(&lh_order_id)
        .filter(|o| o.order_id == order_id)
}

fn pay_order(s: &mut State, body: &Value, partner_id: i64) -> SandboxResponse {
    let Some(order) = find(s, body) else {
        return reply(
            20000,
            "订单不存在",
            partner_id,
            json!({"orderStatus": 5, "voucherType": 0, "voucher": ""}),
        );
    };
    if !order.paid {
        order.paid = true;
        order.status = status::PAID;
        order.voucher = order.codes.first().cloned().unwrap_or_default();
    }
    let out = receipt(order);
    reply(10000, "执行成功", partner_id, out)
}

fn query_order(s: &mut State, body: &Value, partner_id: i64) -> SandboxResponse {
    let Some(order) = find(s, body) else {
        return reply(
            300,
            "未找到订单",
            partner_id,
            json!({"orderId": text(body, "orderId"), "LHOrderId": text(body, "LHOrderId"), "orderStatus": 0}),
        );
    };
    reply(
        200,
        "执行成功",
        partner_id,
        json!({
            "orderId": order.order_id, "LHOrderId": order.lh_order_id, "orderStatus": order.status,
            "orderQuantity": order.quantity - order.refunded, "useQuantity": order.used,
            "reQuantity": order.refunded,
        }),
    )
}

fn cancel_order(
    s: &mut State,
    body: &Value,
    partner_id: i64,
    now: i64,
    window: RefundWindowField,
) -> SandboxResponse {
    let quantity = body.get("quantity").and_then(as_i64).unwrap_or(0);
    let refund_key = text(body, "refundId")
        .or_else(|| text(body, "orderId"))
        .unwrap_or_default();
    let pending_exists = s.refunds.contains_key(&refund_key);
    let products = s.products.clone();
    let Some(order) = find(s, body) else {
        return reply(
            20000,
            "订单不存在",
            partner_id,
            json!({"orderStatus": 0, "reQuantity": 0}),
        );
    };
    let refuse = |order: &OrderState, describe: &str, refundable: i64, status: Option<i64>| {
        let mut b = json!({"LHOrderId": order.lh_order_id, "orderStatus": order.status, "reQuantity": refundable});
        if let (Some(st), Some(obj)) = (status, b.as_object_mut()) {
            obj.insert("reStatus".into(), json!(st));
        }
        reply(20000, describe, partner_id, b)
    };
    if !order.paid {
        return refuse(order, "订单未支付", 0, Some(refund_status::NOT_REFUNDABLE));
    }
    if order.pending_refund.is_some() || pending_exists {
        return refuse(
            order,
            "订单已申请退款",
            0,
            Some(refund_status::NOT_REFUNDABLE),
        );
    }
    let refundable = order.refundable();
    if refundable == 0 {
        let why = if order.used > 0 && order.refunded == 0 {
            "订单已消费完成"
        } else {
            "订单已退款"
        };
        return refuse(order, why, 0, Some(refund_status::NOT_REFUNDABLE));
    }
    let product = products.get(&order.deal_id).map(|(p, _)| p);
    // 最迟在产品验票结束时间后5天内提交退款请求.
    let expired = product
        .and_then(|p| window.value(p))
        .and_then(|t| datetime::parse_local(t, datetime::CST))
        .is_some_and(|expire| now > expire + 5 * 86_400);
    if expired {
        return refuse(
            order,
            "已超过产品验票结束时间后5天,不能退款",
            0,
            Some(refund_status::NOT_REFUNDABLE),
        );
    }
    if quantity < 1 || quantity > refundable {
        return refuse(order, "申请退款数量超出可退款数量", refundable, None);
    }
    if product.is_some_and(Product::is_full_refund_only)
        && (quantity != order.quantity || order.used > 0)
    {
        return refuse(order, "本产品仅支持整单退款", refundable, None);
    }
    order.pending_refund = Some(refund_key.clone());
    order.status = status::REFUND;
    let out = json!({"LHOrderId": order.lh_order_id, "orderStatus": order.status, "reQuantity": refundable});
    let pending = PendingRefund {
        refund_key: refund_key.clone(),
        order_id: order.order_id.clone(),
        lh_order_id: order.lh_order_id.clone(),
        quantity,
    };
    s.refunds.insert(refund_key, pending);
    reply(10000, "执行成功", partner_id, out)
}

fn resend(s: &mut State, body: &Value, partner_id: i64) -> SandboxResponse {
    match find(s, body) {
        Some(order) if order.paid => reply(
            10000,
            "执行成功",
            partner_id,
            json!({"voucherType": 0, "voucher": order.voucher}),
        ),
        _ => reply(
            20000,
            "执行失败",
            partner_id,
            json!({"voucherType": 0, "voucher": ""}),
        ),
    }
}
