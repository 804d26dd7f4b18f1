//! [`Fen`]: an amount of money in 分, the one money type of every tixpay crate, and its
//! exact conversions to the forms providers put on the wire: integer fen (LeShua, WeChat
//! Pay), yuan as a JSON number (Lianhe, [`yuan_json`]) and yuan as decimal text
//! ([`Fen::parse_yuan`], [`Fen::to_yuan_string`]). No conversion goes through a float.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A non-negative amount in fen (分, hundredths of a yuan). Arithmetic is checked.
///
/// ```
/// use tixpay_core::Fen;
///
/// let total = Fen::new(10_000);
/// let refund = Fen::new(2_500);
/// assert_eq!(total.checked_sub(refund), Some(Fen::new(7_500)));
/// assert_eq!(refund.checked_sub(total), None);
/// assert_eq!(total.to_yuan_string(), "100.00");
/// assert_eq!(Fen::parse("2500"), Some(Fen::new(2500)));
/// assert_eq!(Fen::parse("25.00"), None);
/// assert_eq!(Fen::parse_yuan("25.5"), Some(Fen::new(2550)));
/// ```
///
/// With serde it is the integer number of fen (`2500`); [`yuan_json`] writes and reads it
/// as yuan instead.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(u64);

impl Fen {
    /// Zero.
    pub const ZERO: Self = Self(0);

    /// `fen` 分.
    pub const fn new(fen: u64) -> Self {
        Self(fen)
    }

    /// The amount in fen.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// `self - other`, or `None` if `other` is larger.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }

    /// Parses a decimal integer of fen as the wire carries it (`"100"`); anything else
    /// (signs, decimals, spaces, empty) is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().map(Self)
    }

    /// `yuan` whole yuan, or `None` if that many fen overflow a `u64`.
    pub const fn from_yuan(yuan: u64) -> Option<Self> {
        match yuan.checked_mul(100) {
            Some(fen) => Some(Self(fen)),
            None => None,
        }
    }

    /// Parses an amount in yuan written as decimal text: `"12"`, `"12.5"` or `"12.50"`.
    /// Signs, spaces, exponents, more than two decimals, a bare `.`, non-ASCII digits and
    /// amounts beyond `u64` fen are `None`. Exact: no float is involved.
    pub fn parse_yuan(text: &str) -> Option<Self> {
        let (whole, frac) = match text.split_once('.') {
            Some((whole, frac)) if !frac.is_empty() => (whole, frac),
            Some(_) => return None,
            None => (text, ""),
        };
        if whole.is_empty()
            || whole.len() > 20
            || frac.len() > 2
            || !whole
                .bytes()
                .chain(frac.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let whole: u64 = whole.parse().ok()?;
        let frac: u64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<u64>().ok()? * 10,
            _ => frac.parse().ok()?,
        };
        whole.checked_mul(100)?.checked_add(frac).map(Self)
    }

    /// The amount in yuan with two decimals (`"12.34"`), formatted from integers.
    pub fn to_yuan_string(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl fmt::Display for Fen {
    /// The integer number of fen, as sent on the wire.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u32> for Fen {
    fn from(fen: u32) -> Self {
        Self(u64::from(fen))
    }
}

/// Serde adapter for an amount written as yuan in a JSON *number* (`"sellPrice": 99.90`),
/// for `#[serde(with = "tixpay_core::money::yuan_json")]`.
///
/// Writing formats the number from integers as `yuan.ff` and hands serde_json the text, so
/// no float is involved. Reading takes an integer exactly, and a decimal through the shortest
/// text that reads back as the same double, which is the text that was sent as long as it
/// has at most 15 significant digits: amounts up to [`yuan_json::MAX`]. Larger decimals, more
/// than two decimals, negatives and anything not a number or a yuan string are errors, never
/// a rounded amount. Only serde_json is supported as the serializer.
///
/// ```
/// use tixpay_core::Fen;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Price {
///     #[serde(with = "tixpay_core::money::yuan_json")]
///     price: Fen,
/// }
///
/// let json = serde_json::to_string(&Price { price: Fen::new(9990) }).unwrap();
/// assert_eq!(json, r#"{"price":99.90}"#);
/// let back: Price = serde_json::from_str(r#"{"price":99.9}"#).unwrap();
/// assert_eq!(back.price, Fen::new(9990));
/// assert!(serde_json::from_str::<Price>(r#"{"price":0.125}"#).is_err());
/// ```
pub mod yuan_json {
    use serde::de::{self, Deserializer, Visitor};
    use serde::ser::{self, Serializer};

    use super::Fen;

    /// The largest amount that crosses a double-precision JSON parser exactly in both
    /// directions (15 significant digits): 9 999 999 999 999.99 yuan.
    pub const MAX: Fen = Fen(999_999_999_999_999);

    /// Writes `fen` as a JSON number of yuan with two decimals.
    pub fn serialize<S: Serializer>(fen: &Fen, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(fen.to_yuan_string())
            .map_err(ser::Error::custom)?;
        serde::Serialize::serialize(&raw, serializer)
    }

    /// Reads a JSON number of yuan, or a string of yuan (`"99.90"`), exactly.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Fen, D::Error> {
        deserializer.deserialize_any(YuanVisitor)
    }

    pub(super) struct YuanVisitor;

    impl Visitor<'_> for YuanVisitor {
        type Value = Fen;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an amount in yuan with at most two decimals")
        }

        fn visit_u64<E: de::Error>(self, yuan: u64) -> Result<Fen, E> {
            Fen::from_yuan(yuan).ok_or_else(|| E::custom(format!("{yuan} yuan is out of range")))
        }

        fn visit_i64<E: de::Error>(self, yuan: i64) -> Result<Fen, E> {
            match u64::try_from(yuan) {
                Ok(yuan) => self.visit_u64(yuan),
                Err(_) => Err(E::custom(format!("negative amount {yuan}"))),
            }
        }

        fn visit_f64<E: de::Error>(self, yuan: f64) -> Result<Fen, E> {
            // Rust prints the shortest decimal that reads back as this double: for any text
            // of at most 15 significant digits, that is the text that was sent.
            let text = format!("{yuan}");
            match Fen::parse_yuan(&text) {
                Some(fen) if fen <= MAX => Ok(fen),
                Some(_) => Err(E::custom(format!(
                    "{text} yuan is beyond the amounts a JSON number carries exactly"
                ))),
                None => Err(E::custom(format!(
                    "{text} is not an amount in yuan with at most two decimals"
                ))),
            }
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Fen, E> {
            Fen::parse_yuan(text).ok_or_else(|| {
                E::custom(format!(
                    "`{text}` is not an amount in yuan with at most two decimals"
                ))
            })
        }
    }

    /// The same for `Option<Fen>`: `None` is written as `null`, and `null` reads as `None`.
    pub mod option {
        use serde::de::{self, Deserializer, Visitor};
        use serde::ser::Serializer;

        use super::super::Fen;

        /// Writes `Some` as yuan, `None` as `null`.
        pub fn serialize<S: Serializer>(
            fen: &Option<Fen>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match fen {
                Some(fen) => super::serialize(fen, serializer),
                None => serializer.serialize_none(),
            }
        }

        /// Reads `null` as `None`, anything else as [`super::deserialize`] does.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Fen>, D::Error> {
            deserializer.deserialize_option(OptionVisitor)
        }

        struct OptionVisitor;

        impl<'de> Visitor<'de> for OptionVisitor {
            type Value = Option<Fen>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an amount in yuan, or null")
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                super::deserialize(d).map(Some)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_is_strict() {
        for bad in [
            "",
            "-1",
            "+1",
            "1.0",
            " 1",
            "1e3",
            "99999999999999999999",
            "１",
        ] {
            assert_eq!(Fen::parse(bad), None, "{bad}");
        }
        assert_eq!(Fen::parse("0"), Some(Fen::ZERO));
        assert_eq!(Fen::new(7).to_yuan_string(), "0.07");
        assert_eq!(Fen::new(u64::MAX).checked_add(Fen::new(1)), None);
    }

    #[test]
    fn yuan_text_is_strict_and_exact() {
        for bad in [
            "",
            ".",
            "1.",
            ".5",
            "-1",
            "+1",
            " 1",
            "1 ",
            "1.234",
            "1e3",
            "１",
            "1.2.3",
            "184467440737095516.16",
            "999999999999999999999",
        ] {
            assert_eq!(Fen::parse_yuan(bad), None, "{bad}");
        }
        assert_eq!(Fen::parse_yuan("0"), Some(Fen::ZERO));
        assert_eq!(Fen::parse_yuan("0.07"), Some(Fen::new(7)));
        assert_eq!(Fen::parse_yuan("12.5"), Some(Fen::new(1250)));
        assert_eq!(Fen::parse_yuan("12.50"), Some(Fen::new(1250)));
        assert_eq!(
            Fen::parse_yuan("184467440737095516.15"),
            Some(Fen::new(u64::MAX))
        );
        assert_eq!(Fen::from_yuan(3), Some(Fen::new(300)));
        assert_eq!(Fen::from_yuan(u64::MAX / 100 + 1), None);
        assert_eq!(Fen::new(u64::MAX).to_yuan_string(), "184467440737095516.15");
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Priced {
        #[serde(with = "yuan_json")]
        price: Fen,
        #[serde(with = "yuan_json::option", default)]
        extra: Option<Fen>,
    }

    fn round_trip(fen: u64) {
        let value = Priced {
            price: Fen::new(fen),
            extra: Some(Fen::new(fen)),
        };
        let json = serde_json::to_string(&value).unwrap();
        let expected = format!("{}.{:02}", fen / 100, fen % 100);
        assert_eq!(
            json,
            format!(r#"{{"price":{expected},"extra":{expected}}}"#)
        );
        assert_eq!(
            serde_json::from_str::<Priced>(&json).unwrap(),
            value,
            "{json}"
        );
        // What a double-based server writes back (shortest form) reads the same.
        let as_double = serde_json::to_string(&(fen as f64 / 100.0)).unwrap();
        let back: Priced = serde_json::from_str(&format!(r#"{{"price":{as_double}}}"#)).unwrap();
        assert_eq!(back.price, Fen::new(fen), "{as_double}");
    }

    #[test]
    fn yuan_json_round_trips_across_the_exact_range() {
        // Every amount up to 1 000 yuan, then a spread of magnitudes up to the bound.
        for fen in 0..100_000 {
            round_trip(fen);
        }
        let mut fen = 100_000u64;
        while fen <= yuan_json::MAX.get() {
            for delta in [0, 1, 7, 10, 99] {
                round_trip((fen + delta).min(yuan_json::MAX.get()));
            }
            fen = fen * 3 + 1;
        }
        round_trip(yuan_json::MAX.get());
    }

    #[test]
    fn yuan_json_refuses_what_it_cannot_read_exactly() {
        for bad in [
            r#"{"price":-1}"#,
            r#"{"price":-0.5}"#,
            r#"{"price":0.125}"#,
            r#"{"price":" 1"}"#,
            r#"{"price":"1.234"}"#,
            r#"{"price":true}"#,
            r#"{"price":10000000000000.01}"#,
            r#"{"price":1e300}"#,
            r#"{"price":184467440737095517}"#,
        ] {
            assert!(serde_json::from_str::<Priced>(bad).is_err(), "{bad}");
        }
        let ok: Priced = serde_json::from_str(r#"{"price":"99.90","extra":null}"#).unwrap();
        assert_eq!(
            ok,
            Priced {
                price: Fen::new(9990),
                extra: None
            }
        );
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"price":99.90,"extra":null}"#
        );
        let ok: Priced = serde_json::from_str(r#"{"price":1.5e3}"#).unwrap();
        assert_eq!(ok.price, Fen::new(150_000));
        let fen: Fen = serde_json::from_str("2500").unwrap();
        assert_eq!(serde_json::to_string(&fen).unwrap(), "2500");
    }
}
