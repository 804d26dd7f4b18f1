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

pub use client::Client;
pub use config::{
    Config, DEFAULT_VERSION, PRODUCTION_BASE_URL, SANDBOX_API_NAME, SANDBOX_CLIENT_SECRET,
    SANDBOX_PARTNER_ID, TEST_BASE_URL,
};
pub use error::{
    CODE_FAILURE, CODE_QUERY_FAILURE, CODE_QUERY_SUCCESS, CODE_SUCCESS, OrderErrorCode,
};
/// `tixpay-core`, re-exported so that this crate works alone: the shared client, errors,
/// money, secrets, clocks and test helpers are reachable as `core::…`.
pub use tixpay_core as core;
pub use tixpay_core::{Error, ErrorKind, Fen, Result, Secret};
pub use types::*;

#[cfg(test)]
mod readme {
    #[test]
    fn examples_need_only_this_crate() {
        tixpay_core::test_util::assert_readme_stands_alone(
            include_str!("../README.md"),
            "tixpay_lianhe",
        );
    }
}
