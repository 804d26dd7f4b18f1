//! The wire form: path segments and query values percent-encoded as signed, and reply
//! bodies decoded after verification (an empty body, a 204, is no body).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tixpay_core::Error;

/// The provider's name on errors.
pub(crate) const PROVIDER: &str = "wechat-payscore";

/// Characters left as they are in a path segment or query value: unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path segment or query value.
pub(crate) fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, COMPONENT).to_string()
}

/// A path parameter that a URL library would resolve away (`.`, `..`) cannot be sent as
/// signed.
pub(crate) fn check_segment(field: &str, value: &str) -> Result<(), Error> {
    if value == "." || value == ".." {
        return Err(Error::invalid_request(field, "cannot be `.` or `..`"));
    }
    Ok(())
}

/// Names the provider and the operation on an error.
pub(crate) fn context(name: &'static str) -> impl Fn(Error) -> Error {
    move |e| e.with_provider(PROVIDER).with_operation(name)
}

/// A verified reply, decoded: its status, and its body unless it was empty (a 204).
pub(crate) struct Decoded<T> {
    pub(crate) status: http::StatusCode,
    pub(crate) body: Option<T>,
}

/// A reply body is required here: a verified empty reply is a decode error that keeps the
/// reply's status (there is no body to excerpt).
pub(crate) fn expect_body<T>(name: &'static str) -> impl FnOnce(Decoded<T>) -> Result<T, Error> {
    move |reply| {
        reply.body.ok_or_else(|| {
            context(name)(Error::decode(
                Some(reply.status),
                b"",
                None,
                "an empty reply where a body was expected",
            ))
        })
    }
}
