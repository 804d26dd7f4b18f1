#![doc = include_str!("../README.md")]
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
pub use client::{
    Attempts, Authenticate, Binding, Echo, HttpClient, HttpClientBuilder, NoAuth, Operation,
    Presence, Reply, Verdict,
};
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
