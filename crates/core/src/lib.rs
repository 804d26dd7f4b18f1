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
pub mod validate;

pub use bytes::Bytes;
pub use client::{
    Attempts, Authenticate, Binding, Echo, HttpClient, HttpClientBuilder, NoAuth, Operation,
    Presence, Reply, Verdict,
};
pub use clock::{Clock, FixedClock, OffsetClock, SharedClock, SystemClock};
pub use error::{ApiError, Error, ErrorKind, ErrorLayer, SignatureSubject, TimeoutPhase};
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

/// Declares a provider's error codes: a `#[non_exhaustive]` enum with one variant per
/// documented code and an `Unknown(String)` fallback, with `from_code`, `code`,
/// `description`, `from_error` (the code of a provider refusal) and serde as the code
/// text. Every provider crate declares its codes with it, so they all read alike.
///
/// A code may have aliases (`"A" | "B" => Name`); `code()` gives the first.
///
/// ```
/// tixpay_core::provider_codes! {
///     /// The example's codes.
///     pub enum Code {
///         "E1" => Busy, "系统繁忙";
///         "E2" | "E2B" => Gone, "订单不存在";
///     }
/// }
/// use tixpay_core::{ApiError, Error};
/// assert_eq!(Code::from_code("E2B"), Code::Gone);
/// assert_eq!(Code::Gone.code(), "E2");
/// assert_eq!(Code::Busy.description(), Some("系统繁忙"));
/// assert_eq!(Code::from_code("E9"), Code::Unknown("E9".into()));
/// let refusal = Error::api(ApiError::new("E1", "busy"));
/// assert_eq!(Code::from_error(&refusal), Some(Code::Busy));
/// assert_eq!(serde_json::to_string(&Code::Busy).unwrap(), r#""E1""#);
/// ```
#[macro_export]
macro_rules! provider_codes {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($code:literal $(| $alias:literal)* => $variant:ident, $text:literal;)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $(
                #[doc = concat!("`", $code, "` ", $text)]
                $variant,
            )*
            /// A code the provider's table does not list, kept as sent.
            Unknown(::std::string::String),
        }

        impl $name {
            /// Reads a code as sent (surrounding spaces ignored).
            pub fn from_code(code: &str) -> Self {
                match code.trim() {
                    $($code $(| $alias)* => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// The code as the provider writes it.
            pub fn code(&self) -> &str {
                match self {
                    $(Self::$variant => $code,)*
                    Self::Unknown(code) => code,
                }
            }

            /// The provider's description of a known code.
            pub fn description(&self) -> ::core::option::Option<&'static str> {
                match self {
                    $(Self::$variant => ::core::option::Option::Some($text),)*
                    Self::Unknown(_) => ::core::option::Option::None,
                }
            }

            /// The code of a provider refusal, if `err` is one.
            pub fn from_error(err: &$crate::Error) -> ::core::option::Option<Self> {
                err.api_code().map(Self::from_code)
            }

            /// The code as the provider writes it (for [`wire_text_serde!`]).
            fn as_str(&self) -> &str {
                self.code()
            }

            fn parse(code: &str) -> Self {
                Self::from_code(code)
            }
        }

        $crate::wire_text_serde!($name);
    };
}

/// `Result` with the family's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
