//! # tixpay-lianhe
//!
//! A typed, async client for the 联合票务 (Lianhe) ticket-distribution partner API
//! (OpenAPI V2.x): products, orders, cancellations, and the redemption and refund
//! notifications, with a stateful sandbox (feature `sandbox`).
//!
//! | Lianhe method | Rust | retries |
//! |---|---|---|
//! | `getTeam` 拉取产品 | [`Client::get_team`] | safe |
//! | `newOrder` 新订单 | [`Client::new_order`] | once (see [`Config::retry_keyed_writes`]) |
//! | `creatOrder` 生成订单 | [`Client::create_order`] | once |
//! | `payOrder` 支付订单 | [`Client::pay_order`] | once |
//! | `queryOrder` 查询订单 | [`Client::query_order`] | safe |
//! | `cancelOrder` 取消订单 | [`Client::cancel_order`] → [`CancelOutcome`] | once |
//! | `send` 重发短信凭证 | [`Client::resend_voucher`] | safe |
//! | `snNotify` / `reNotify` | [`notify::NotificationParser`] | — |
//!
//! Authentication is the `LH` header scheme ([`auth`]); requests are raw JSON
//! `{"partnerId":…, "body":{…}}`. Replies with `code` 10000 (and 200 on `queryOrder`) are
//! successes; anything else is a [`tixpay_core::Error`] of kind `Api` with the code, the
//! `describe` text and the raw body ([`OrderErrorCode`] recognises 10001–10017).
//!
//! The provider's quirks are kept visible rather than smoothed over:
//! - `reQuantity` is the *refundable* quantity in the `cancelOrder` reply
//!   ([`CancelRefused::refundable_quantity`]) but the *already refunded* quantity in
//!   `queryOrder` and `reNotify` ([`OrderInfo::refunded_quantity`],
//!   [`notify::RefundResult::refunded_quantity`]);
//! - `useQuantity` (queryOrder) and `usedQuantity` (snNotify) are both `used_quantity`;
//! - `visitor` goes out as one object or as an array, as you choose ([`Visitors`]);
//! - order and refund statuses are [`OrderStatus`] / [`RefundStatus`] newtypes holding the
//!   raw number, because the table that names them was never published.
//!
//! ```no_run
//! use tixpay_core::Secret;
//! use tixpay_lianhe::{CancelOrder, CancelOutcome, Client, Config, GetTeam, Money, NewOrder, Visitor};
//!
//! # async fn run() -> Result<(), tixpay_core::Error> {
//! let client = Client::new(Config::new(3528, "myapi", Secret::new("client-secret")))?;
//! let product = client.get_team(&GetTeam::by_ids(["852"])).await?.products.remove(0);
//! let price = product.sell_price.unwrap_or_default();
//! let order = NewOrder::new("T20240101001", &product.deal_id, price, 3, Visitor::new("张三", "13800000000"))
//!     .for_product(&product)
//!     .travel_date("2024-05-01");
//! let receipt = client.new_order(&order).await?;
//! let lh_order_id = receipt.lh_order_id.unwrap_or_default();
//! let cancel = CancelOrder::new("T20240101001", &lh_order_id, 2).for_product(&product, 3);
//! if let CancelOutcome::Refused(refused) = client.cancel_order(&cancel).await? {
//!     println!("only {:?} can be refunded", refused.refundable_quantity);
//! }
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

pub use client::Client;
pub use config::{
    Config, DEFAULT_VERSION, PRODUCTION_BASE_URL, SANDBOX_API_NAME, SANDBOX_CLIENT_SECRET,
    SANDBOX_PARTNER_ID, TEST_BASE_URL,
};
pub use error::{
    CODE_FAILURE, CODE_QUERY_FAILURE, CODE_QUERY_SUCCESS, CODE_SUCCESS, OrderErrorCode,
};
pub use types::*;
