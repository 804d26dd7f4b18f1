#![doc = include_str!("../README.md")]
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
pub use error::ErrorCode;
/// `tixpay-core`, re-exported so that this crate works alone: the shared client, errors,
/// money, secrets, clocks and test helpers are reachable as `core::…`.
pub use tixpay_core as core;
pub use tixpay_core::{Error, ErrorKind, Fen, Result, Secret};
pub use types::{
    BarcodePay, Fields, OrderRef, OrderReply, OrderStatus, PayMode, PayWay, Refund, RefundRef,
    RefundReply, UnifiedOrder,
};

#[cfg(test)]
mod readme {
    #[test]
    fn examples_need_only_this_crate() {
        tixpay_core::test_util::assert_readme_stands_alone(
            include_str!("../README.md"),
            "tixpay_leshua",
        );
    }
}
