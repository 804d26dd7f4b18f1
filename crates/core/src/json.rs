//! JSON decoding that says where it failed.

use http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// Decodes `body` as `T`. On failure the error carries the status, a body excerpt and the
/// path of the failing field (`body.orderStatus`), never a panic.
///
/// ```
/// use tixpay_core::json::decode;
///
/// #[derive(serde::Deserialize)]
/// struct Reply { code: i64 }
///
/// let ok: Reply = decode(None, br#"{"code":10000}"#)?;
/// assert_eq!(ok.code, 10000);
///
/// let err = decode::<Reply>(None, br#"{"code":"10000"}"#).err().map(|e| e.to_string());
/// assert!(err.unwrap_or_default().contains("at `code`"));
/// # Ok::<(), tixpay_core::Error>(())
/// ```
pub fn decode<T: DeserializeOwned>(status: Option<StatusCode>, body: &[u8]) -> Result<T, Error> {
    // The plain decoder is the fast path; the path-tracking one runs only to explain a
    // failure.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = (path != ".").then_some(path);
        let inner = e.into_inner();
        Error::decode(status, body, path, inner.to_string()).with_source(inner)
    })?;
    de.end()
        .map_err(|e| Error::decode(status, body, None, e.to_string()).with_source(e))?;
    Ok(value)
}

/// Decodes an already-parsed JSON value as `T`, with the same failing-path report as
/// [`decode`], without serializing it back to bytes first. `status` and `body` are the
/// reply or delivery the value was read from, kept in the error as evidence.
///
/// ```
/// use tixpay_core::json::decode_value;
///
/// #[derive(serde::Deserialize)]
/// struct Body { quantity: u32 }
///
/// let ok: Body = decode_value(serde_json::json!({"quantity": 3}), None, b"")?;
/// assert_eq!(ok.quantity, 3);
/// let raw = br#"{"body":{"quantity":"three"}}"#;
/// let err = decode_value::<Body>(serde_json::json!({"quantity": "three"}), None, raw).err().map(|e| e.to_string());
/// let shown = err.unwrap_or_default();
/// assert!(shown.contains("at `quantity`") && shown.contains("three"), "{shown}");
/// # Ok::<(), tixpay_core::Error>(())
/// ```
pub fn decode_value<T: DeserializeOwned>(
    value: serde_json::Value,
    status: Option<StatusCode>,
    body: &[u8],
) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = (path != ".").then_some(path);
        let inner = e.into_inner();
        Error::decode(status, body, path, inner.to_string()).with_source(inner)
    })
}

/// An id as a reply echoes it, for binding a reply to its request: a string, or a number
/// written as one. Anything else (absent, `null`, an object) counts as not echoed, so a
/// reply with an odd field is refused by the binding rule, never by a decode failure here.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Echoes {
///     #[serde(default)]
///     out_order_no: tixpay_core::json::Echoed,
/// }
/// let e: Echoes = serde_json::from_str(r#"{"out_order_no":1234,"other":[1]}"#).unwrap();
/// assert_eq!(e.out_order_no.as_deref(), Some("1234"));
/// let e: Echoes = serde_json::from_str(r#"{"out_order_no":{"x":1}}"#).unwrap();
/// assert_eq!(e.out_order_no.as_deref(), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Echoed(Option<String>);

impl Echoed {
    /// The id, if one was echoed.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<'de> serde::Deserialize<'de> for Echoed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Echoed;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an id")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Echoed, E> {
                Ok(Echoed(Some(v.to_owned())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Echoed, E> {
                Ok(Echoed(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Echoed, E> {
                Ok(Echoed(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Echoed, E> {
                Ok(Echoed(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Echoed, E> {
                Ok(Echoed(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Echoed, E> {
                Ok(Echoed(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Echoed, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Echoed(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Echoed, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Echoed(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Deserializers for `#[serde(deserialize_with = …)]` that accept what PHP and .NET servers
/// send: integers as numbers or numeric strings, ids as strings or numbers.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Reply {
///     #[serde(deserialize_with = "tixpay_core::json::lenient::i64")]
///     code: i64,
///     #[serde(deserialize_with = "tixpay_core::json::lenient::string")]
///     id: String,
/// }
/// let r: Reply = serde_json::from_str(r#"{"code":"200","id":15354}"#).unwrap();
/// assert_eq!((r.code, r.id.as_str()), (200, "15354"));
/// ```
pub mod lenient {
    use serde::de::{self, Deserializer, Visitor};
    use std::fmt;

    struct I64;

    impl Visitor<'_> for I64 {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer or a string holding one")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("integer out of range"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                Ok(v as i64)
            } else {
                Err(E::custom(format!("expected an integer, got {v}")))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format!("expected an integer, got `{v}`")))
        }
    }

    /// An integer, or a string holding one.
    pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(I64)
    }

    /// Like [`i64`](fn@i64), also accepting `null` or an absent field (with `#[serde(default)]`).
    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        struct Opt;
        impl<'de> Visitor<'de> for Opt {
            type Value = Option<i64>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer, a string holding one, or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                i64(d).map(Some)
            }
        }
        d.deserialize_option(Opt)
    }

    struct Text;

    impl Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }

    /// A string, or a number written as one.
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        d.deserialize_any(Text)
    }

    /// Like [`string`], also accepting `null`.
    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        struct Opt;
        impl<'de> Visitor<'de> for Opt {
            type Value = Option<String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, a number, or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                string(d).map(Some)
            }
        }
        d.deserialize_option(Opt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[derive(Debug, serde::Deserialize)]
    struct Outer {
        #[allow(dead_code)]
        body: Inner,
    }
    #[derive(Debug, serde::Deserialize)]
    struct Inner {
        #[serde(rename = "orderStatus")]
        #[allow(dead_code)]
        order_status: i64,
    }

    #[test]
    fn path_of_failure() {
        let err = decode::<Outer>(Some(StatusCode::OK), br#"{"body":{"orderStatus":"x"}}"#);
        match err.map_err(|e| e.kind().clone()) {
            Err(ErrorKind::Decode { path, status, .. }) => {
                assert_eq!(path.as_deref(), Some("body.orderStatus"));
                assert_eq!(status, Some(StatusCode::OK));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn truncated_html_and_trailing() {
        for body in [
            &b"{\"body\":{\"orderSt"[..],
            b"<html>502</html>",
            b"",
            b"{\"body\":{\"orderStatus\":1}} x",
        ] {
            assert!(decode::<Outer>(None, body).is_err());
        }
    }
}
