//! The ticket system's `errcode`.
//!
//! `OperationResult.errcode` is an integer; 0 is success (inferred from the sibling models,
//! see the README's gaps table). No document lists the other values, so none is named here:
//! every refusal's code reads as [`ErrorCode::Unknown`], kept as sent, until a table is
//! found. The type exists so that reading a code looks the same in every tixpay crate.

tixpay_core::provider_codes! {
    /// An `errcode` of a refusal, kept as sent (no table of values is published).
    ///
    /// ```
    /// use tixpay_ticket_hawk::{Error, ErrorCode, core::ApiError};
    /// let refusal = Error::api(ApiError::new("1", "sample string 2"));
    /// assert_eq!(ErrorCode::from_error(&refusal), Some(ErrorCode::Unknown("1".into())));
    /// ```
    pub enum ErrorCode {
    }
}
