//! The JSON envelope: `{"partnerId":…, "body":{…}}` out, `{"code":…, "describe":…,
//! "partnerId":…, "body":…}` back.

use bytes::Bytes;
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tixpay_core::json::Echoed;
use tixpay_core::{ApiError, Error};

#[derive(Serialize)]
struct Outgoing<'a, T> {
    #[serde(rename = "errCode", skip_serializing_if = "Option::is_none")]
    err_code: Option<u16>,
    #[serde(rename = "errMsg", skip_serializing_if = "Option::is_none")]
    err_msg: Option<&'static str>,
    #[serde(rename = "partnerId")]
    partner_id: i64,
    body: &'a T,
}

/// The request body, serialized once: these bytes are sent.
pub(crate) fn encode<T: Serialize>(
    partner_id: i64,
    body: &T,
    legacy: bool,
) -> Result<Bytes, Error> {
    let out = Outgoing {
        err_code: legacy.then_some(200),
        err_msg: legacy.then_some("success"),
        partner_id,
        body,
    };
    serde_json::to_vec(&out)
        .map(Bytes::from)
        .map_err(|e| Error::invalid_request("body", format!("cannot serialize: {e}")))
}

/// The reply `code`: a number in the documents, sometimes a numeric string in practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Code {
    Number(i64),
    Text(String),
}

impl Code {
    pub(crate) fn number(&self) -> Option<i64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(t) => t.trim().parse().ok(),
        }
    }

    pub(crate) fn as_text(&self) -> String {
        match self {
            Self::Number(n) => n.to_string(),
            Self::Text(t) => t.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n
                .as_i64()
                .map(Code::Number)
                .ok_or_else(|| serde::de::Error::custom("code is not an integer")),
            serde_json::Value::String(s) => Ok(Code::Text(s)),
            other => Err(serde::de::Error::custom(format!(
                "code must be a number or a string, got {other}"
            ))),
        }
    }
}

/// The envelope with the body left undecoded.
#[derive(Debug, Deserialize)]
pub(crate) struct Head {
    pub(crate) code: Code,
    #[serde(default, deserialize_with = "crate::types::lenient::opt_string")]
    pub(crate) describe: Option<String>,
    #[serde(
        rename = "totalSize",
        default,
        deserialize_with = "crate::types::lenient::opt_i64"
    )]
    pub(crate) total_size: Option<i64>,
    /// `partnerId`, echoed on every reply (a number in the documents).
    #[serde(rename = "partnerId", default)]
    pub(crate) partner_id: Echoed,
    /// The ids the reply's `body` echoes, read without decoding the rest of it.
    #[serde(rename = "body", default)]
    pub(crate) echoed: BodyIds,
}

/// `body.LHOrderId` and `body.orderId` when `body` is an object; nothing otherwise (a list
/// of products, `null`).
#[derive(Debug, Default)]
pub(crate) struct BodyIds {
    pub(crate) lh_order_id: Echoed,
    pub(crate) order_id: Echoed,
}

impl<'de> Deserialize<'de> for BodyIds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = BodyIds;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a reply body")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<BodyIds, A::Error> {
                let mut ids = BodyIds::default();
                while let Some(key) = a.next_key::<Key>()? {
                    match key {
                        Key::LhOrderId => ids.lh_order_id = a.next_value()?,
                        Key::OrderId => ids.order_id = a.next_value()?,
                        Key::Other => {
                            a.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(ids)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<BodyIds, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(BodyIds::default())
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<BodyIds, E> {
                Ok(BodyIds::default())
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<BodyIds, E> {
                Ok(BodyIds::default())
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<BodyIds, E> {
                Ok(BodyIds::default())
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<BodyIds, E> {
                Ok(BodyIds::default())
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<BodyIds, E> {
                Ok(BodyIds::default())
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<BodyIds, E> {
                Ok(BodyIds::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// A key of the reply's `body`, read without allocating.
enum Key {
    LhOrderId,
    OrderId,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "LHOrderId" => Key::LhOrderId,
                    "orderId" => Key::OrderId,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

impl Head {
    /// `partnerId` as a number, when it is one.
    pub(crate) fn partner(&self) -> Option<i64> {
        self.partner_id.as_deref().and_then(|p| p.parse().ok())
    }

    /// The value of an echoed field: `partnerId`, `body.LHOrderId`, `body.orderId`.
    pub(crate) fn echoed(&self, field: &str) -> Option<&str> {
        match field {
            "partnerId" => self.partner_id.as_deref(),
            "body.LHOrderId" => self.echoed.lh_order_id.as_deref(),
            "body.orderId" => self.echoed.order_id.as_deref(),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Typed<T> {
    body: T,
}

/// A reply whose envelope decoded.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) head: Head,
    pub(crate) raw: Bytes,
}

impl Reply {
    /// Whether the status is 2xx and `code` is one of `success`.
    pub(crate) fn is_success(&self, success: &[i64]) -> bool {
        self.status.is_success()
            && self
                .head
                .code
                .number()
                .is_some_and(|c| success.contains(&c))
    }

    /// The provider error this reply stands for.
    pub(crate) fn api_error(&self) -> Error {
        let mut api = ApiError::new(
            self.head.code.as_text(),
            self.head.describe.clone().unwrap_or_default(),
        )
        .with_body(self.raw.clone());
        if !self.status.is_success() {
            api = api.with_status(self.status);
        }
        Error::api(api)
    }

    /// Decodes `body` as `T` (errors name the failing path, `body.orderStatus`).
    pub(crate) fn body<T: DeserializeOwned>(&self) -> Result<T, Error> {
        tixpay_core::json::decode::<Typed<T>>(Some(self.status), &self.raw).map(|t| t.body)
    }
}

/// Decodes the envelope of any reply, whatever its status (the caller judges it). A non-2xx
/// status without a Lianhe envelope is an HTTP error; a 2xx that is not the envelope (an
/// HTML error page, truncated JSON) is a decode error.
pub(crate) fn parse(response: &http::Response<Bytes>) -> Result<Reply, Error> {
    let status = response.status();
    let raw = response.body().clone();
    match tixpay_core::json::decode::<Head>(Some(status), &raw) {
        Ok(head) => Ok(Reply { status, head, raw }),
        Err(_) if !status.is_success() => Err(Error::http(status, &raw, None)),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &'static str) -> http::Response<Bytes> {
        let mut r = http::Response::new(Bytes::from_static(body.as_bytes()));
        *r.status_mut() = StatusCode::from_u16(status).unwrap();
        r
    }

    #[test]
    fn encodes_the_envelope() {
        let body = serde_json::json!({"orderId": "T1"});
        let bytes = encode(1985, &body, false).unwrap();
        assert_eq!(&bytes[..], br#"{"partnerId":1985,"body":{"orderId":"T1"}}"#);
        let bytes = encode(1985, &body, true).unwrap();
        assert_eq!(
            &bytes[..],
            br#"{"errCode":200,"errMsg":"success","partnerId":1985,"body":{"orderId":"T1"}}"#
        );
    }

    #[test]
    fn code_as_number_or_string() {
        let r = parse(&response(
            200,
            r#"{"code":"10000","describe":"ok","body":{}}"#,
        ))
        .unwrap();
        assert!(r.is_success(&[10000]));
        let r = parse(&response(200, r#"{"code":10000,"body":{}}"#)).unwrap();
        assert!(r.is_success(&[10000]));
        let r = parse(&response(200, r#"{"code":"E_SIGN","describe":"签名错误"}"#)).unwrap();
        assert!(!r.is_success(&[10000]));
        let err = r.api_error();
        assert_eq!(err.api_code(), Some("E_SIGN"));
        assert!(parse(&response(200, r#"{"code":true}"#)).is_err());
        assert!(parse(&response(200, r#"{"code":1.5}"#)).is_err());
    }

    #[test]
    fn echoed_ids_are_read_without_decoding_the_body() {
        let r = parse(&response(
            200,
            r#"{"code":10000,"partnerId":3528,"body":{"LHOrderId":15354,"orderId":"T1","x":{"y":[1]}}}"#,
        ))
        .unwrap();
        assert_eq!(r.head.echoed("partnerId"), Some("3528"));
        assert_eq!(r.head.partner(), Some(3528));
        assert_eq!(r.head.echoed("body.LHOrderId"), Some("15354"));
        assert_eq!(r.head.echoed("body.orderId"), Some("T1"));
        assert_eq!(r.head.echoed("body.other"), None);
        for body in [
            r#"{"code":10000,"partnerId":"3528","body":[{"LHOrderId":"1"}]}"#,
            r#"{"code":10000,"body":null}"#,
            r#"{"code":10000,"partnerId":{"a":1},"body":"text"}"#,
            r#"{"code":10000,"partnerId":null,"body":{"LHOrderId":{"nested":1},"orderId":true}}"#,
        ] {
            let r = parse(&response(200, body)).unwrap();
            assert_eq!(r.head.echoed("body.LHOrderId"), None, "{body}");
            assert_eq!(r.head.echoed("body.orderId"), None, "{body}");
        }
        let r = parse(&response(200, r#"{"code":10000,"partnerId":"3528"}"#)).unwrap();
        assert_eq!(r.head.echoed("partnerId"), Some("3528"));
        assert_eq!(r.head.partner(), Some(3528));
        let r = parse(&response(200, r#"{"code":10000,"partnerId":"x1"}"#)).unwrap();
        assert_eq!(r.head.partner(), None);
        let r = parse(&response(200, r#"{"code":10000}"#)).unwrap();
        assert_eq!(r.head.partner(), None);
    }

    #[test]
    fn non_json_replies() {
        let err = parse(&response(502, "<html>Bad Gateway</html>")).unwrap_err();
        assert!(matches!(err.kind(), tixpay_core::ErrorKind::Http { .. }));
        let err = parse(&response(200, "<html>oops</html>")).unwrap_err();
        assert!(matches!(err.kind(), tixpay_core::ErrorKind::Decode { .. }));
        let err = parse(&response(200, r#"{"code":10000,"body":{"LHOrd"#)).unwrap_err();
        assert!(matches!(err.kind(), tixpay_core::ErrorKind::Decode { .. }));
        let refusal = parse(&response(500, r#"{"code":20000,"describe":"执行失败"}"#)).unwrap();
        assert!(!refusal.is_success(&[20000]), "a 5xx is never a success");
        let err = refusal.api_error();
        assert_eq!(err.api_code(), Some("20000"));
        // Refused with a 5xx: Lianhe may be part-way through, so nothing is settled.
        assert_eq!(
            err.as_api().and_then(|a| a.status),
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
        assert!(err.is_outcome_unknown() && err.is_retryable());
        // Refused in a 200's body: an answer, with no status to show.
        let refusal = parse(&response(200, r#"{"code":20000,"describe":"执行失败"}"#)).unwrap();
        let err = refusal.api_error();
        assert_eq!(err.as_api().and_then(|a| a.status), None);
        assert!(!err.is_outcome_unknown() && !err.is_retryable());
    }
}
