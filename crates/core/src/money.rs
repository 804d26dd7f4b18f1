//! [`Fen`]: an amount of money in 分, the unit LeShua and WeChat Pay put on the wire.

use std::fmt;

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
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
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

    /// The amount in yuan with two decimals, for display (`"12.34"`).
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
}
