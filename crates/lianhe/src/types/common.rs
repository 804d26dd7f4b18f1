//! Values shared by several methods: money, statuses, vouchers, visitors.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

pub(crate) use tixpay_core::json::lenient;

/// An amount of money in yuan with two decimals on the wire (`sellPrice` 元), held exactly
/// as integer fen.
///
/// ```
/// use tixpay_lianhe::Money;
///
/// let price = Money::from_yuan_str("99.90")?;
/// assert_eq!(price.fen(), 9990);
/// assert_eq!(price.to_string(), "99.90");
/// assert_eq!(serde_json::to_string(&price).unwrap(), "99.9");
/// assert_eq!(serde_json::to_string(&Money::from_fen(7)).unwrap(), "0.07");
/// # Ok::<(), tixpay_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    /// `fen` 分 (hundredths of a yuan).
    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    /// Whole yuan.
    pub const fn from_yuan(yuan: i64) -> Self {
        Self(yuan.saturating_mul(100))
    }

    /// Parses `"12"`, `"12.5"` or `"12.50"`; more than two decimals, signs other than a
    /// leading `-`, or anything else is an error.
    pub fn from_yuan_str(text: &str) -> Result<Self, tixpay_core::Error> {
        parse_yuan(text).ok_or_else(|| {
            tixpay_core::Error::invalid_request(
                "sellPrice",
                format!("`{text}` is not an amount in yuan with at most two decimals"),
            )
        })
    }

    /// The amount in fen.
    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Whether the amount is above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }
}

fn parse_yuan(text: &str) -> Option<Money> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || whole.len() > 15
        || frac.len() > 2
        || (digits.contains('.') && frac.is_empty())
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    let fen = whole.checked_mul(100)?.checked_add(frac)?;
    Some(Money(if negative { -fen } else { fen }))
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Whole yuan go out as integers (`100`). Otherwise fen / 100 is correctly rounded,
        // and serde_json prints the shortest decimal that reads back as the same double: at
        // most two decimals, never `0.30000000000000004`. A test checks every amount up to
        // 1 000 000 fen.
        if self.0 % 100 == 0 {
            serializer.serialize_i64(self.0 / 100)
        } else {
            serializer.serialize_f64(self.0 as f64 / 100.0)
        }
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    return i
                        .checked_mul(100)
                        .map(Money)
                        .ok_or_else(|| de::Error::custom("amount out of range"));
                }
                // Prices with more than two decimals are rounded to the nearest fen.
                let f = n
                    .as_f64()
                    .ok_or_else(|| de::Error::custom("amount out of range"))?;
                let fen = (f * 100.0).round();
                if !fen.is_finite() || fen.abs() > 9.0e15 {
                    return Err(de::Error::custom("amount out of range"));
                }
                Ok(Money(fen as i64))
            }
            serde_json::Value::String(s) => parse_yuan(s.trim())
                .ok_or_else(|| de::Error::custom(format!("`{s}` is not an amount in yuan"))),
            other => Err(de::Error::custom(format!(
                "expected an amount, got {other}"
            ))),
        }
    }
}

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
    fn money_serializes_without_float_artefacts() {
        for fen in 0..=1_000_000i64 {
            let json = serde_json::to_string(&Money::from_fen(fen)).unwrap();
            let expected = Money::from_fen(fen).to_string();
            let expected = expected.trim_end_matches('0').trim_end_matches('.');
            assert_eq!(json, expected, "fen {fen}");
        }
    }

    #[test]
    fn money_parsing() {
        assert_eq!(parse_yuan("12"), Some(Money(1200)));
        assert_eq!(parse_yuan("12.5"), Some(Money(1250)));
        assert_eq!(parse_yuan("0.07"), Some(Money(7)));
        assert_eq!(parse_yuan("-1.50"), Some(Money(-150)));
        for bad in [
            "",
            ".5",
            "1.",
            "1.234",
            "1,5",
            "+1",
            "1e3",
            "١٢",
            "9999999999999999",
        ] {
            assert_eq!(parse_yuan(bad), None, "{bad}");
        }
        let m: Money = serde_json::from_str("1.15").unwrap();
        assert_eq!(m.fen(), 115);
        let m: Money = serde_json::from_str("\"0.5\"").unwrap();
        assert_eq!(m.fen(), 50);
        let m: Money = serde_json::from_str("3").unwrap();
        assert_eq!(m.fen(), 300);
        assert!(serde_json::from_str::<Money>("true").is_err());
        assert!(serde_json::from_str::<Money>("1e300").is_err());
        assert_eq!(Money::from_fen(-5).to_string(), "-0.05");
    }

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
