//! # tixpay
//!
//! Typed, async Rust clients for the APIs Chinese scenic-spot and theatre ticket resellers
//! live on: ticket suppliers (Lianhe ticket distribution, the 游宝星 electronic ticket system
//! with Hawk authentication) and payment gateways (LeShua, WeChat Pay PayScore).
//!
//! This crate is the facade: it re-exports each provider's crate behind a feature of the
//! same name, and the shared machinery as [`core`].
//!
//! | module | crate | feature |
//! |---|---|---|
//! | [`core`] | `tixpay-core`: transport, retries, errors, crypto, secrets, clock, sandbox kit | always |
//! | `lianhe` | `tixpay-lianhe`: 联合票务 Lianhe ticket distribution | `lianhe` |
//! | `leshua` | `tixpay-leshua`: 乐刷 LeShua payment gateway | `leshua` |
//! | `ticket_hawk` | `tixpay-ticket-hawk`: 游宝星 electronic ticket system (Hawk) | `ticket-hawk` |
//! | `wechat_payscore` | `tixpay-wechat-payscore`: WeChat Pay PayScore 微信支付分 | `wechat-payscore` |
//!
//! Every client in the family shares the same rules:
//!
//! - signatures are computed over the exact bytes sent, and responses verified over the
//!   exact bytes received, before decoding;
//! - one [`Error`](core::Error) type, which says whether the request may have been sent
//!   ([`may_have_been_sent`](core::Error::may_have_been_sent)) and whether its outcome is
//!   unknown ([`is_outcome_unknown`](core::Error::is_outcome_unknown));
//! - nothing that may have moved money is retried unless the provider de-duplicates it by a
//!   key sent unchanged ([`Idempotency`](core::Idempotency));
//! - secrets never appear in `Debug`, `Display`, logs or errors ([`Secret`](core::Secret)).
//!
//! ```
//! use tixpay::core::{Error, Secret};
//!
//! let key = Secret::new("not-a-real-key");
//! assert_eq!(format!("{key:?}"), "Secret([redacted])");
//! let err = Error::invalid_request("quantity", "must be at least 1");
//! assert!(!err.may_have_been_sent());
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use tixpay_core as core;

/// 联合票务 Lianhe ticket distribution (feature `lianhe`).
#[cfg(feature = "lianhe")]
#[cfg_attr(docsrs, doc(cfg(feature = "lianhe")))]
pub use tixpay_lianhe as lianhe;

/// 乐刷 LeShua payment gateway (feature `leshua`).
#[cfg(feature = "leshua")]
#[cfg_attr(docsrs, doc(cfg(feature = "leshua")))]
pub use tixpay_leshua as leshua;

/// 游宝星 electronic ticket system with Hawk authentication (feature `ticket-hawk`).
#[cfg(feature = "ticket-hawk")]
#[cfg_attr(docsrs, doc(cfg(feature = "ticket-hawk")))]
pub use tixpay_ticket_hawk as ticket_hawk;

/// WeChat Pay PayScore 微信支付分 (feature `wechat-payscore`).
#[cfg(feature = "wechat-payscore")]
#[cfg_attr(docsrs, doc(cfg(feature = "wechat-payscore")))]
pub use tixpay_wechat_payscore as wechat_payscore;

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
