//! # tixpay-core
//!
//! The shared machinery of the tixpay clients. Provider crates (`tixpay-lianhe`,
//! `tixpay-leshua`, `tixpay-wechat-payscore`, `tixpay-ticket-hawk`) build requests as plain
//! data and run them through this crate:
//!
//! ```text
//! typed request ──► Operation { name, method, url, body bytes, idempotency }
//!               ──► provider Authenticate adds headers over the exact bytes sent
//!               ──► HttpClient: timeouts, retry policy, tracing span ──► Transport (reqwest)
//!               ◄── http::Response<Bytes> (size-capped)
//!               ◄── provider verifies, then decodes ──► Ok(typed) | Err(Error)
//! ```
//!
//! - [`transport`]: the [`Transport`] trait and [`ReqwestTransport`] (rustls on aws-lc-rs).
//! - [`client`]: [`Operation`], [`Authenticate`], [`HttpClient`].
//! - [`retry`]: [`Idempotency`], [`RetryPolicy`]: nothing that may have moved money is sent
//!   twice unless the provider de-duplicates it by a key we send unchanged.
//! - [`error`]: the family's one [`Error`], which says whether the request may have been sent.
//! - [`crypto`]: MD5, SHA-256, HMAC, RSA-SHA256, AES-256-GCM, constant-time comparison.
//! - [`Secret`], [`Clock`], [`NonceSource`], [`SortedParams`], [`Fen`], [`datetime`], [`json`].
//! - [`env`]: settings from environment variables, behind each provider's `Config::from_env`.
//! - `sandbox` (feature): the simulators' server, state and webhook delivery.
//! - `test-util` (feature): [`test_util::MockTransport`].
//!
//! A minimal call through the machinery, against a mock transport:
//!
//! ```
//! use std::sync::Arc;
//! use tixpay_core::{HttpClient, Idempotency, NoAuth, Operation};
//! # #[cfg(feature = "test-util")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use tixpay_core::test_util::{MockReply, MockTransport};
//!
//! let mock = MockTransport::new();
//! mock.push(MockReply::response(503, &[], "busy"));
//! mock.push(MockReply::response(200, &[], r#"{"ok":true}"#));
//! let client = HttpClient::builder()
//!     .transport(Arc::new(mock.clone()))
//!     .sleep(Arc::new(tixpay_core::retry::InstantSleep::default()))
//!     .build()?;
//! let op = Operation::get("demo", "status", "http://demo.invalid/status");
//! let reply = client.execute(&op, &NoAuth).await?;
//! assert_eq!(reply.status(), 200);
//! assert_eq!(mock.request_count(), 2); // a Safe call is retried on 503
//! # Ok::<(), tixpay_core::Error>(()) }).unwrap();
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
pub mod clock;
pub mod crypto;
pub mod datetime;
pub mod env;
pub mod error;
pub mod json;
pub mod money;
pub mod nonce;
pub mod params;
pub mod retry;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod secret;
#[cfg(feature = "test-util")]
pub mod test_util;
pub mod transport;

pub use bytes::Bytes;
pub use client::{Attempts, Authenticate, HttpClient, HttpClientBuilder, NoAuth, Operation};
pub use clock::{Clock, FixedClock, OffsetClock, SharedClock, SystemClock};
pub use error::{ApiError, Error, ErrorKind, SignatureSubject, TimeoutPhase};
pub use money::Fen;
pub use nonce::{FixedNonce, NonceSource, RandomNonce, SequenceNonce, SharedNonce};
pub use params::SortedParams;
pub use retry::{Idempotency, RetryPolicy};
pub use secret::Secret;
pub use transport::{ReqwestTransport, Transport, TransportError};

/// `Result` with the family's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
