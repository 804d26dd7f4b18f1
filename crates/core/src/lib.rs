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
pub mod notify;
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

#[doc(hidden)]
pub use serde as __serde;

/// Implements serde for provider enums that have `as_str(&self) -> &str` and
/// `parse(&str) -> Self` (an unknown value kept in an `Unknown` variant): each is stored as
/// its wire text, so a value read from a provider and stored reads back unchanged, unknown
/// values included.
///
/// ```
/// #[derive(Debug, PartialEq)]
/// enum Light { Green, Unknown(String) }
/// impl Light {
///     fn as_str(&self) -> &str { match self { Self::Green => "G", Self::Unknown(s) => s } }
///     fn parse(s: &str) -> Self { if s == "G" { Self::Green } else { Self::Unknown(s.into()) } }
/// }
/// tixpay_core::wire_text_serde!(Light);
///
/// assert_eq!(serde_json::to_string(&Light::Green).unwrap(), r#""G""#);
/// assert_eq!(serde_json::from_str::<Light>(r#""Q""#).unwrap(), Light::Unknown("Q".into()));
/// ```
#[macro_export]
macro_rules! wire_text_serde {
    ($($ty:ty),+ $(,)?) => {$(
        impl $crate::__serde::Serialize for $ty {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as $crate::__serde::Deserialize>::deserialize(
                    deserializer,
                )?;
                ::core::result::Result::Ok(<$ty>::parse(&text))
            }
        }
    )+};
}

/// `Result` with the family's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
