//! The checks every provider crate runs on a request before sending it: a refusal names the
//! field, says why, and has `may_have_been_sent() == false`. Lengths are counted in
//! characters (a Chinese character counts one), as the providers' documents count them.
//!
//! ```
//! use tixpay_core::validate;
//! assert!(validate::required("orderid", "20240101000123", 20).is_ok());
//! let err = validate::required("orderid", " ", 20).unwrap_err();
//! assert!(!err.may_have_been_sent());
//! assert!(err.to_string().contains("orderid"));
//! assert!(validate::at_most("reason", &"投".repeat(31), 30).is_err());
//! ```

use crate::Error;

/// Refuses a value that is empty or only whitespace.
pub fn not_blank(field: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        Err(Error::invalid_request(field, "is required"))
    } else {
        Ok(())
    }
}

/// Refuses a value of more than `max` characters.
pub fn at_most(field: &str, value: &str, max: usize) -> Result<(), Error> {
    let len = value.chars().count();
    if len > max {
        Err(Error::invalid_request(
            field,
            format!("is {len} characters; the limit is {max}"),
        ))
    } else {
        Ok(())
    }
}

/// A required value: not blank, and at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<(), Error> {
    not_blank(field, value)?;
    at_most(field, value, max)
}

/// An optional value: when present, at most `max` characters.
pub fn optional(field: &str, value: Option<&str>, max: usize) -> Result<(), Error> {
    value.map_or(Ok(()), |v| at_most(field, v, max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn field_of(err: &Error) -> Option<&str> {
        match err.kind() {
            ErrorKind::InvalidRequest { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    #[test]
    fn blank_values_are_refused() {
        for blank in ["", " ", "\t\n", "\u{3000}"] {
            let err = not_blank("appid", blank).unwrap_err();
            assert_eq!(field_of(&err), Some("appid"), "{blank:?}");
            assert!(required("appid", blank, 32).is_err());
        }
        assert!(not_blank("appid", " x ").is_ok());
    }

    #[test]
    fn lengths_are_counted_in_characters_up_to_the_limit() {
        assert!(at_most("reason", &"投".repeat(30), 30).is_ok());
        let err = at_most("reason", &"投".repeat(31), 30).unwrap_err();
        assert_eq!(field_of(&err), Some("reason"));
        assert!(
            err.to_string().contains("31 characters; the limit is 30"),
            "{err}"
        );
        assert!(at_most("x", "", 0).is_ok());
        assert!(at_most("x", "a", 0).is_err());
        assert!(required("x", "abc", 3).is_ok());
        assert!(required("x", "abcd", 3).is_err());
        assert!(optional("x", None, 0).is_ok());
        assert!(optional("x", Some("ab"), 2).is_ok());
        assert_eq!(
            field_of(&optional("x", Some("abc"), 2).unwrap_err()),
            Some("x")
        );
    }
}
