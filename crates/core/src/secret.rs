//! [`Secret`]: keys and passwords that never print.

use std::fmt;

use zeroize::Zeroizing;

/// The text every secret-holding type prints instead of its value.
pub const REDACTED: &str = "[redacted]";

/// A secret string: an API key, a client secret, a password.
///
/// `Debug` and `Display` print `[redacted]`; it implements neither `Serialize` nor
/// `Deserialize`; its memory is zeroed on drop. Read it with [`Secret::expose`] only where the
/// bytes are fed to a signature.
///
/// ```
/// use tixpay_core::Secret;
///
/// let key = Secret::new("0123456789abcdef-not-a-real-secret");
/// assert_eq!(format!("{key:?}"), "Secret([redacted])");
/// assert_eq!(key.to_string(), "[redacted]");
/// assert_eq!(key.expose(), "0123456789abcdef-not-a-real-secret");
/// ```
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl PartialEq for Secret {
    /// Compared in time that depends only on the lengths.
    fn eq(&self, other: &Self) -> bool {
        crate::crypto::constant_time_eq(self.expose_bytes(), other.expose_bytes())
    }
}

impl Eq for Secret {}

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret value. Use it to sign, never to log.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The secret's bytes (UTF-8).
    pub fn expose_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Whether the secret is empty (a common configuration mistake).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = Secret::new("hunter2-very-secret");
        for shown in [
            format!("{s:?}"),
            format!("{s:#?}"),
            format!("{s}"),
            format!("{:?}", Some(s.clone())),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains(REDACTED), "{shown}");
        }
        assert_eq!(s.len(), 19);
        assert!(!s.is_empty());
        assert_eq!(s.expose_bytes(), b"hunter2-very-secret");
    }

    #[test]
    fn equality() {
        assert_eq!(Secret::new("a"), Secret::new("a"));
        assert_ne!(Secret::new("a"), Secret::new("b"));
        assert_ne!(Secret::new("a"), Secret::new("ab"));
    }
}
