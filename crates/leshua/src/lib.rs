//! # tixpay-leshua
//!
//! A typed, async client for the 乐刷 (LeShua) aggregated payment gateway
//! (`cgi-bin/lepos_pay_gateway.cgi`): payments, queries, closing, refunds, notifications,
//! and a stateful sandbox (feature `sandbox`).
//!
//! | `service` | Rust | retries |
//! |---|---|---|
//! | `get_tdcode` 统一下单 (all `jspay_flag` modes) | [`Client::unified_order`] | keyed by `third_order_id` |
//! | `upload_authcode` 条码支付 | [`Client::barcode_pay`] | keyed by `third_order_id` |
//! | `query_status` 交易结果查询 | [`Client::query_order`] | safe |
//! | `close_order` 订单关闭 | [`Client::close_order`] | keyed by the order |
//! | `unified_refund` 退款 | [`Client::refund`] | keyed by `merchant_refund_id` |
//! | `unified_query_refund` 退款查询 | [`Client::query_refund`] | safe |
//! | `query_userid` | [`Client::query_user_id`] | safe |
//! | `query_openid` | [`Client::query_openid`] | safe |
//! | payment / refund notifications | [`notify::NotificationParser`] | — |
//!
//! Requests are signed with the trade key ([`auth`]); every reply is verified with the
//! trade key *before* any field is trusted, then judged in the manual's order: `resp_code`
//! (protocol), `result_code` (business, with [`ErrorCode`]), then the order's
//! [`OrderStatus`]. Amounts are [`Fen`](tixpay_core::Fen).
//!
//! ```no_run
//! use tixpay_core::{Fen, Secret};
//! use tixpay_leshua::{Client, Config, OrderRef, Refund};
//!
//! # async fn run() -> Result<(), tixpay_core::Error> {
//! let client = Client::new(Config::new("9605008025", Secret::new("trade-key"), Secret::new("notify-key")))?;
//! let order = OrderRef::ThirdOrderId("T20240101001".into());
//! let paid = client.query_order(&order).await?;
//! println!("status {:?}, amount {:?}", paid.status, paid.amount);
//! let refund = client.refund(&Refund::new(order, "R20240101001", Fen::new(20_000))).await?;
//! println!("refund {:?}, balance left {:?}", refund.status, refund.order_balance);
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
mod client;
mod config;
mod error;
pub mod notify;
#[cfg(feature = "sandbox")]
pub mod sandbox;
mod types;
mod wire;

pub use client::{Client, OpenIdReply, UserIdReply};
pub use config::{
    Config, GATEWAY_PATH, PRODUCTION_BASE_URL, SANDBOX_MERCHANT_ID, SANDBOX_NOTIFY_KEY,
    SANDBOX_TRADE_KEY, TEST_BASE_URL, VerifyRule,
};
pub use error::{ErrorCode, Layer, layer};
pub use types::{
    BarcodePay, Fields, OrderRef, OrderReply, OrderStatus, PayMode, PayWay, Refund, RefundRef,
    RefundReply, UnifiedOrder,
};
