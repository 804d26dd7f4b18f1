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
