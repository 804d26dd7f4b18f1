#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod client;
mod config;
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
pub use types::{
    BodyFormat, CallbackMethod, OperationResult, Order, OrderLookup, OrderStatus, PayContent,
    ProviderConfig, RefundParm, Ticket, TicketStatus,
};
pub use wire::{ARRAYS_NAMESPACE, XSI_NAMESPACE};
