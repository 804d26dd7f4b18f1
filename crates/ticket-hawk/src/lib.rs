//! # tixpay-ticket-hawk
//!
//! A typed, async client for the 游宝星 electronic ticket system (an ASP.NET Web API that
//! scenic spots and theatres run on their own hosts) with complete Hawk authentication
//! ([`hawk`], usable on its own), and a simulator (feature `sandbox`).
//!
//! | endpoint | Rust | retries |
//! |---|---|---|
//! | `POST api/Order/Refund` | [`Client::refund_order`] | never (irreversible) |
//! | `POST api/Order/RefundTicket` | [`Client::refund_tickets`] | never (irreversible) |
//! | `POST api/WebInterface/Order/Ticket/Refund` | [`Client::refund_tickets_for_agent`] | never |
//! | `GET api/Order/Query/Main/{orderid}` | [`Client::query_order`] | safe |
//! | `GET api/WebInterface/Order/Query/Tickets` | [`Client::query_tickets`] | safe |
//! | `GET api/WebInterface/Order/Query/Ticket` | [`Client::query_ticket`] | safe |
//! | `POST api/ProviderConfig` | [`Client::set_provider_config`] | safe (same values, same result) |
//! | `POST api/Order/BeginToPay`, `…/Phone` | [`Client::begin_to_pay`], [`Client::begin_to_pay_phone`] | never |
//! | `POST api/Agent/AgentIsVerifyCode` | [`Client::send_agent_verify_code`] | never (sends an SMS) |
//!
//! Left out on purpose: the pay endpoints that take an encrypted pay password
//! (`api/PayOrder/MIN/UseRebateAndPassword` and kin): the documents name TripleDES but not
//! its mode, IV or padding, and guessing would only produce failed payments.
//!
//! Every request carries a Hawk `Authorization` header computed over the exact method,
//! host, port, path and query sent, with a payload hash over the exact body bytes, signed
//! afresh on every attempt (servers refuse a replayed nonce). A stale-timestamp 401 is
//! answered once: the server's `ts` is checked against its `tsm`, the per-client clock
//! offset is adjusted (the system clock is never touched), and the request is signed and
//! sent again. `Server-Authorization` is verified when present, or required, or ignored
//! ([`ServerAuth`]).
//!
//! The documents do not say what `KEY` in `KEY+UPPER(MD5(密码))` is nor what goes in the
//! Hawk `id` (probably the agent login name): both are plain configuration
//! ([`hawk::Credentials::from_operator`]). `OperationResult.errcode` 0 is read as success,
//! as every sibling model documents.
//!
//! ```no_run
//! use tixpay_core::Secret;
//! use tixpay_ticket_hawk::hawk::{Algorithm, Credentials};
//! use tixpay_ticket_hawk::{Client, Config, OrderLookup, RefundParm};
//!
//! # async fn run() -> Result<(), tixpay_core::Error> {
//! let credentials = Credentials::from_operator("agent01", &Secret::new("KEY"), &Secret::new("password"), Algorithm::Sha256);
//! let client = Client::new(Config::new("https://weiapi.example.cn", credentials))?;
//! let tickets = client
//!     .query_tickets("agent01", &OrderLookup::OrderId("20240101000123".into()), None, None)
//!     .await?;
//! let codes: Vec<String> = tickets.iter().filter_map(|t| t.ticket_code.clone()).collect();
//! client.refund_tickets(&RefundParm::tickets("20240101000123", codes)).await?;
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

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
