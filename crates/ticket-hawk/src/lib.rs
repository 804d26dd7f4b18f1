#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod client;
mod config;
mod error;
pub mod hawk;
#[cfg(feature = "sandbox")]
pub mod sandbox;
mod types;
mod wire;

pub use client::Client;
pub use config::{
    Config, SANDBOX_HAWK_ID, SANDBOX_KEY, SANDBOX_PASSWORD, ServerAuth,
    TOUR_WEB_API_PARAM_NAMESPACE, V5_PARAM_NAMESPACE,
};
pub use error::ErrorCode;
/// `tixpay-core`, re-exported so that this crate works alone: the shared client, errors,
/// money, secrets, clocks and test helpers are reachable as `core::…`.
pub use tixpay_core as core;
pub use tixpay_core::{Error, ErrorKind, Fen, Result, Secret};
pub use types::{
    BodyFormat, CallbackMethod, OperationResult, Order, OrderLookup, OrderOperatorResult,
    OrderStatus, PayContent, PayWithVerifyCode, ProviderConfig, RefundParm, Ticket, TicketQuery,
    TicketStatus,
};
pub use wire::{ARRAYS_NAMESPACE, XSI_NAMESPACE};

#[cfg(test)]
mod readme {
    #[test]
    fn examples_need_only_this_crate() {
        tixpay_core::test_util::assert_readme_stands_alone(
            include_str!("../README.md"),
            "tixpay_ticket_hawk",
        );
    }
}
