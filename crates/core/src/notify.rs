//! The notification contract: what every provider crate that receives notifications
//! implements, so that one receiver handles them all.
//!
//! A provider's `NotificationParser` is built from its config (or client) and verifies;
//! where a provider allows skipping verification, that is a separate constructor named
//! `unverified`. [`Notifications::parse`] takes the request's headers and raw body and gives
//! a verified, typed event whose [`Deduplicate::dedup_key`] names it across repeated
//! deliveries; [`Notifications::ack`] is the reply that stops the provider from delivering
//! again and [`Notifications::reject`] the one that makes it try later.
//!
//! ```
//! use tixpay_core::notify::{Deduplicate, Notifications};
//!
//! /// Stores each event once, whichever provider sent it.
//! async fn receive<P: Notifications>(
//!     parser: &P,
//!     seen: &std::sync::Mutex<std::collections::HashSet<String>>,
//!     headers: &http::HeaderMap,
//!     body: &[u8],
//! ) -> http::Response<bytes::Bytes> {
//!     match parser.parse(headers, body).await {
//!         Ok(event) => {
//!             let first = seen.lock().unwrap().insert(event.dedup_key());
//!             if first { /* process the event */ }
//!             parser.ack() // a repeat is acknowledged again: the provider missed our answer
//!         }
//!         Err(_) => parser.reject(),
//!     }
//! }
//! ```

use std::future::Future;

use bytes::Bytes;

use crate::error::Error;

/// A provider's verified notifications.
pub trait Notifications: Send + Sync {
    /// The typed, verified event.
    type Event: Deduplicate + Send;

    /// Verifies and decodes one delivery from its headers and raw body. Any bytes give `Ok`
    /// or a typed error; an event is returned only when it is authentic.
    fn parse(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> impl Future<Output = Result<Self::Event, Error>> + Send;

    /// The reply that tells the provider the delivery was received: send it for a new event
    /// once it is stored, and for a repeat.
    fn ack(&self) -> http::Response<Bytes>;

    /// The reply that makes the provider deliver again later: send it when parsing failed
    /// or the event could not be stored.
    fn reject(&self) -> http::Response<Bytes>;
}

/// An event that can be delivered more than once.
pub trait Deduplicate {
    /// The key that is the same for every delivery of this event and differs between
    /// events: store it with a unique constraint.
    fn dedup_key(&self) -> String;
}

/// A plain-text reply with `status`.
pub fn text_response(status: http::StatusCode, body: &'static str) -> http::Response<Bytes> {
    let mut response = http::Response::new(Bytes::from_static(body.as_bytes()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_responses_carry_status_type_and_body() {
        let r = text_response(http::StatusCode::SERVICE_UNAVAILABLE, "fail");
        assert_eq!(r.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.body().as_ref(), b"fail");
        assert_eq!(
            r.headers()[http::header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
    }
}
