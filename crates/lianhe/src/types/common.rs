//! Values shared by several methods: statuses, vouchers, visitors. Fen is
//! [`tixpay_core::Fen`], written as yuan by [`tixpay_core::money::yuan_json`].

use std::fmt;

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

pub(crate) use tixpay_core::json::lenient;

/// 订单状态 `orderStatus`, kept as the provider's number.
///
/// The table that defines these numbers (开发必读 › 订单返回状态说明) is not in any public
/// copy of the documents, so no meanings are invented here. Values seen in the documents'
/// examples: 0 (queryOrder "未找到订单"), 2 (creatOrder success), 3 (creatOrder error and both
/// newOrder examples), 4 (payOrder success), 5 (payOrder error), 6 (cancelOrder success,
/// reNotify success), 7 (cancelOrder error, reNotify "退款审核已驳回"), 8 (queryOrder, part
/// used), 9 (snNotify, redeemed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderStatus(#[serde(deserialize_with = "lenient::i64")] pub i64);

/// 退款状态 `reStatus`, kept as the provider's number.
///
/// Its table (开发必读 › 退款状态详细说明) is not public either. Values seen: 2 (cancelOrder
/// refusal example), 4 (reNotify "退款审核已驳回").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RefundStatus(#[serde(deserialize_with = "lenient::i64")] pub i64);

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// 凭证类型 `voucherType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum VoucherType {
    /// 0: 短信验证码, a code sent by SMS (the default).
    #[default]
    SmsCode,
    /// 1: 二维码, a QR code.
    QrCode,
    /// A value the documents do not list.
    Unknown(i64),
}

impl VoucherType {
    /// The number on the wire.
    pub fn code(self) -> i64 {
        match self {
            Self::SmsCode => 0,
            Self::QrCode => 1,
            Self::Unknown(n) => n,
        }
    }
}

impl From<i64> for VoucherType {
    fn from(n: i64) -> Self {
        match n {
            0 => Self::SmsCode,
            1 => Self::QrCode,
            n => Self::Unknown(n),
        }
    }
}

impl Serialize for VoucherType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for VoucherType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::i64(d).map(Self::from)
    }
}

/// 游玩人 `visitor`: one person using the tickets.
///
/// ```
/// use tixpay_lianhe::Visitor;
/// let v = Visitor::new("张三", "13800000000").credentials("110101199001011234");
/// assert_eq!(serde_json::to_value(&v).unwrap()["mobile"], "13800000000");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Visitor {
    /// `name` 用户姓名 (required).
    pub name: String,
    /// `mobile` 使用者手机号 (required).
    pub mobile: String,
    /// `address`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `credentials` 证件号码.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// `credentialstype` 证件类型 (V2.11). Its type and values are not documented, so it is
    /// sent exactly as given.
    #[serde(rename = "credentialstype", skip_serializing_if = "Option::is_none")]
    pub credentials_type: Option<serde_json::Value>,
    /// `zipcode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zipcode: Option<String>,
    /// `email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Visitor {
    /// A visitor with the two required fields.
    pub fn new(name: impl Into<String>, mobile: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            mobile: mobile.into(),
            ..Self::default()
        }
    }

    /// Sets `credentials` (证件号码).
    #[must_use]
    pub fn credentials(mut self, number: impl Into<String>) -> Self {
        self.credentials = Some(number.into());
        self
    }

    /// Sets `credentialstype`, sent as given (the documents do not say its values).
    #[must_use]
    pub fn credentials_type(mut self, value: impl Into<serde_json::Value>) -> Self {
        self.credentials_type = Some(value.into());
        self
    }

    /// Sets `address`.
    #[must_use]
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    /// Sets `zipcode`.
    #[must_use]
    pub fn zipcode(mut self, zipcode: impl Into<String>) -> Self {
        self.zipcode = Some(zipcode.into());
        self
    }

    /// Sets `email`.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }
}

/// The `visitor` field: the documents send one JSON object in some places (payOrder's
/// demo, the Java test) and a JSON array "for tickets that need every visitor" in others.
/// Both are sent exactly as chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Visitors {
    /// One object: `"visitor": {…}`.
    One(Visitor),
    /// An array: `"visitor": [{…}, …]`.
    Many(Vec<Visitor>),
}

impl Visitors {
    /// The visitors, however they are sent.
    pub fn as_slice(&self) -> &[Visitor] {
        match self {
            Self::One(v) => std::slice::from_ref(v),
            Self::Many(v) => v,
        }
    }
}

impl From<Visitor> for Visitors {
    fn from(v: Visitor) -> Self {
        Self::One(v)
    }
}

impl From<Vec<Visitor>> for Visitors {
    fn from(v: Vec<Visitor>) -> Self {
        Self::Many(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitors_keep_their_shape() {
        let one = Visitors::from(Visitor::new("a", "1"));
        assert_eq!(
            serde_json::to_string(&one).unwrap(),
            r#"{"name":"a","mobile":"1"}"#
        );
        let many = Visitors::from(vec![Visitor::new("a", "1"), Visitor::new("b", "2")]);
        assert!(serde_json::to_string(&many).unwrap().starts_with('['));
        assert_eq!(many.as_slice().len(), 2);
    }

    #[test]
    fn lenient_numbers() {
        let s: OrderStatus = serde_json::from_str("\"7\"").unwrap();
        assert_eq!(s, OrderStatus(7));
        let s: OrderStatus = serde_json::from_str("7").unwrap();
        assert_eq!(s, OrderStatus(7));
        assert!(serde_json::from_str::<OrderStatus>("\"seven\"").is_err());
        assert!(serde_json::from_str::<OrderStatus>("7.5").is_err());
        let v: VoucherType = serde_json::from_str("1").unwrap();
        assert_eq!(v, VoucherType::QrCode);
        let v: VoucherType = serde_json::from_str("9").unwrap();
        assert_eq!(v, VoucherType::Unknown(9));
    }
}
