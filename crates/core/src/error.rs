//! The one error type of the tixpay family.
//!
//! Every provider crate returns [`Error`]. Its [`ErrorKind`] says what happened and, for
//! payments and refunds most importantly, whether the request may have reached the provider:
//! see [`Error::may_have_been_sent`] and [`Error::is_outcome_unknown`].

use std::fmt;

use bytes::Bytes;
use http::StatusCode;

use crate::retry::is_retryable_status;

/// The boxed cause kept by an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How many bytes of a response body an error keeps for display.
pub const EXCERPT_LEN: usize = 512;

/// An error from a tixpay client.
///
/// The error is small (one pointer) and carries the provider and operation it came from.
/// Match on [`Error::kind`] for the details.
///
/// ```
/// use tixpay_core::{Error, ErrorKind};
///
/// fn explain(err: &Error) -> String {
///     match err.kind() {
///         ErrorKind::Api(api) => format!("the provider refused: {} {}", api.code, api.message),
///         _ if err.is_outcome_unknown() => "the provider may have acted: query before retrying".into(),
///         _ => err.to_string(),
///     }
/// }
/// let err = Error::invalid_request("quantity", "must be at least 1");
/// assert!(!err.may_have_been_sent());
/// assert_eq!(explain(&err), "invalid request: quantity: must be at least 1");
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    provider: Option<&'static str>,
    operation: Option<&'static str>,
    source: Option<BoxError>,
    /// Why the reply behind this error could not be authenticated, when it could not.
    unverified: Option<Box<str>>,
    /// Set by the client when this error cannot settle a write, and why: the refusal could
    /// not be authenticated, or it answers a retry after an earlier attempt may have been
    /// processed.
    unsettled: Option<&'static str>,
}

/// What went wrong. `#[non_exhaustive]`: new kinds may be added.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request was refused before sending because it breaks a documented rule.
    /// Nothing was sent.
    InvalidRequest {
        /// The offending field, in the provider's spelling, when there is one.
        field: Option<String>,
        /// What is wrong with it.
        message: String,
    },
    /// The client is misconfigured (bad key, bad URL). Nothing was sent.
    Config {
        /// What is wrong.
        message: String,
    },
    /// The connection failed.
    Transport {
        /// `false` only when the failure happened before any byte of the request left
        /// (connection refused, DNS failure, TLS handshake failure).
        may_have_been_sent: bool,
    },
    /// A time limit ran out.
    Timeout {
        /// Which limit.
        phase: TimeoutPhase,
        /// Whether the request may have reached the provider.
        may_have_been_sent: bool,
    },
    /// The response body exceeded the configured size cap; reading stopped there.
    ResponseTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// A non-success HTTP status without a recognisable provider error body.
    Http {
        /// The HTTP status.
        status: StatusCode,
        /// The start of the body (lossy UTF-8, at most [`EXCERPT_LEN`] bytes).
        body_excerpt: String,
        /// A request id header, when the provider sends one.
        request_id: Option<String>,
    },
    /// The provider answered and refused: it gives a code and a message.
    Api(ApiError),
    /// The response could not be decoded into the expected shape.
    Decode {
        /// The HTTP status of the response.
        status: Option<StatusCode>,
        /// The start of the body (lossy UTF-8, at most [`EXCERPT_LEN`] bytes).
        body_excerpt: String,
        /// Where decoding failed (`body.orderStatus`), when known.
        path: Option<String>,
        /// What failed.
        message: String,
    },
    /// A signature did not verify, or a verified reply does not answer this request (it
    /// echoes another order's id, or none): a response, notification or callback is not
    /// trusted.
    Signature {
        /// What was being verified.
        subject: SignatureSubject,
        /// Why it failed (never contains key material).
        reason: String,
    },
    /// A cryptographic primitive could not run: the operating system's random number
    /// generator failed, so no nonce could be drawn. Nothing was sent.
    Crypto {
        /// What failed.
        message: String,
    },
}

/// Which time limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Establishing the connection. Nothing was sent.
    Connect,
    /// One attempt (send and read the reply).
    Attempt,
    /// The whole call, retries included.
    Total,
}

/// What a failed signature check was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureSubject {
    /// A response to one of our requests. The request was processed; its effect is unknown.
    Response,
    /// An inbound notification or callback.
    Notification,
}

/// Which layer of a provider's reply refused, where its documents define layers (LeShua's
/// `resp_code` and `result_code`, for example).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorLayer {
    /// The request as a whole was not accepted (format, signature, merchant): nothing was
    /// attempted.
    Protocol,
    /// The request was understood and the operation itself was refused.
    Business,
}

/// A refusal reported by the provider in its own terms.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status, when the provider uses it to signal errors.
    pub status: Option<StatusCode>,
    /// The provider's code, as sent (`"20000"`, `"-20006"`, `"SYSTEM_ERROR"`).
    pub code: String,
    /// The provider's message, as sent.
    pub message: String,
    /// Extra structured detail (WeChat's `detail`), when present.
    pub detail: Option<serde_json::Value>,
    /// Which layer of the reply refused, when the provider distinguishes layers.
    pub layer: Option<ErrorLayer>,
    /// A request id for support tickets, when the provider sends one.
    pub request_id: Option<String>,
    /// The raw reply body.
    pub body: Bytes,
    /// The provider documents this code as "busy, retry with the same parameters".
    pub retryable: bool,
    /// The refusal does not settle what happened: an earlier attempt may have been
    /// processed (a "duplicate id" answer to a retry), the operation is still in progress,
    /// or the refusal itself could not be authenticated. Query before acting.
    pub outcome_unknown: bool,
}

impl ApiError {
    /// A provider error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: None,
            code: code.into(),
            message: message.into(),
            detail: None,
            layer: None,
            request_id: None,
            body: Bytes::new(),
            retryable: false,
            outcome_unknown: false,
        }
    }

    /// Sets the HTTP status.
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// Keeps the raw reply body.
    #[must_use]
    pub fn with_body(mut self, body: Bytes) -> Self {
        self.body = body;
        self
    }

    /// Sets the structured detail.
    #[must_use]
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Sets the layer that refused.
    #[must_use]
    pub fn with_layer(mut self, layer: ErrorLayer) -> Self {
        self.layer = Some(layer);
        self
    }

    /// Sets the request id.
    #[must_use]
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Marks the refusal as not settling the outcome (see [`ApiError::outcome_unknown`]).
    #[must_use]
    pub fn outcome_unknown(mut self, unknown: bool) -> Self {
        self.outcome_unknown = unknown;
        self
    }

    /// Marks the code as retryable with the same parameters.
    #[must_use]
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("detail", &self.detail)
            .field("layer", &self.layer)
            .field("request_id", &self.request_id)
            .field("body", &excerpt(&self.body))
            .field("retryable", &self.retryable)
            .field("outcome_unknown", &self.outcome_unknown)
            .finish()
    }
}

/// The start of `body` as lossy UTF-8, at most [`EXCERPT_LEN`] bytes, cut on a character
/// boundary.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body.get(..EXCERPT_LEN.min(body.len())).unwrap_or(body));
    let mut text = text.into_owned();
    if body.len() > EXCERPT_LEN {
        text.push('…');
    }
    text
}

impl Error {
    /// An error of the given kind with no context.
    pub fn new(kind: ErrorKind) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                provider: None,
                operation: None,
                source: None,
                unverified: None,
                unsettled: None,
            }),
        }
    }

    /// The request breaks a documented rule; nothing was sent.
    pub fn invalid_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        Self::new(ErrorKind::InvalidRequest {
            field: (!field.is_empty()).then_some(field),
            message: message.into(),
        })
    }

    /// The configuration is unusable; nothing was sent.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config {
            message: message.into(),
        })
    }

    /// The provider refused.
    pub fn api(api: ApiError) -> Self {
        Self::new(ErrorKind::Api(api))
    }

    /// A signature check failed.
    pub fn signature(subject: SignatureSubject, reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Signature {
            subject,
            reason: reason.into(),
        })
    }

    /// The body could not be decoded.
    pub fn decode(
        status: Option<StatusCode>,
        body: &[u8],
        path: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(ErrorKind::Decode {
            status,
            body_excerpt: excerpt(body),
            path,
            message: message.into(),
        })
    }

    /// An HTTP status without a provider error body.
    pub fn http(status: StatusCode, body: &[u8], request_id: Option<String>) -> Self {
        Self::new(ErrorKind::Http {
            status,
            body_excerpt: excerpt(body),
            request_id,
        })
    }

    /// Attaches the provider name (`"lianhe"`), unless one is already set.
    #[must_use]
    pub fn with_provider(mut self, provider: &'static str) -> Self {
        self.inner.provider.get_or_insert(provider);
        self
    }

    /// Attaches the operation name (`"cancelOrder"`), unless one is already set.
    #[must_use]
    pub fn with_operation(mut self, operation: &'static str) -> Self {
        self.inner.operation.get_or_insert(operation);
        self
    }

    /// Attaches the underlying cause, kept for [`std::error::Error::source`].
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Marks the reply behind this error as not authenticated, and says why (it was not
    /// signed, a field that decides it lies outside the signature, it does not echo the
    /// request's ids).
    ///
    /// Called by providers. [`HttpClient`](crate::HttpClient) then applies the rule, in one
    /// place: a refusal that cannot be authenticated cannot settle a write, so when the
    /// operation is not [`Idempotency::Safe`](crate::Idempotency::Safe) the error becomes
    /// outcome-unknown ([`Error::is_outcome_unknown`]). A field outside the signature can make
    /// an outcome less certain, never more.
    ///
    /// ```
    /// use tixpay_core::{ApiError, Error};
    /// let err = Error::api(ApiError::new("INVALID_REQUEST", "bad")).mark_unverified("the refusal is not signed");
    /// assert_eq!(err.unverified_reason(), Some("the refusal is not signed"));
    /// ```
    #[must_use]
    pub fn mark_unverified(mut self, reason: impl Into<String>) -> Self {
        self.inner.unverified = Some(reason.into().into_boxed_str());
        self
    }

    /// Why the reply behind this error could not be authenticated, if it could not.
    pub fn unverified_reason(&self) -> Option<&str> {
        self.inner.unverified.as_deref()
    }

    /// The client's judgement of a failed attempt of a write, in one place. A reply that
    /// cannot settle the outcome leaves it unknown:
    /// - a refusal that could not be authenticated ([`Error::mark_unverified`]);
    /// - any answer to a retry, when an earlier attempt may have been processed: the answer
    ///   is about the last attempt, not the first (a refund refused for want of balance may
    ///   have been refused *because* the first attempt went through).
    ///
    /// Reads (`Safe`) and errors from before sending are left as they are.
    pub(crate) fn settle_for(
        mut self,
        idempotency: &crate::Idempotency,
        earlier_may_have_been_sent: bool,
    ) -> Self {
        if matches!(idempotency, crate::Idempotency::Safe) || !self.may_have_been_sent() {
            return self;
        }
        if self.inner.unverified.is_some() {
            self.inner.unsettled = Some("a refusal that cannot be authenticated settles nothing");
        } else if earlier_may_have_been_sent {
            self.inner.unsettled =
                Some("an earlier attempt may have been processed and this answer is to a retry");
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The provider this error came from, when known.
    pub fn provider(&self) -> Option<&'static str> {
        self.inner.provider
    }

    /// The operation this error came from, when known.
    pub fn operation(&self) -> Option<&'static str> {
        self.inner.operation
    }

    /// The provider's error, when the provider answered with one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match &self.inner.kind {
            ErrorKind::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The provider's error code, when the provider answered with one.
    pub fn api_code(&self) -> Option<&str> {
        self.as_api().map(|api| api.code.as_str())
    }

    /// Whether the request may have reached the provider.
    ///
    /// `false` means certainly not sent: it is safe to send again. `true` means the provider
    /// may have received, and acted on, the request.
    pub fn may_have_been_sent(&self) -> bool {
        match &self.inner.kind {
            ErrorKind::InvalidRequest { .. }
            | ErrorKind::Config { .. }
            | ErrorKind::Crypto { .. } => false,
            ErrorKind::Transport { may_have_been_sent }
            | ErrorKind::Timeout {
                may_have_been_sent, ..
            } => *may_have_been_sent,
            ErrorKind::ResponseTooLarge { .. }
            | ErrorKind::Http { .. }
            | ErrorKind::Api(_)
            | ErrorKind::Decode { .. }
            | ErrorKind::Signature { .. } => true,
        }
    }

    /// Whether the effect of the request is unknown: it may have been processed (money may
    /// have moved) but no trustworthy answer arrived. Query the provider before acting.
    ///
    /// A provider refusal ([`ErrorKind::Api`]) and a 4xx status are answers, so they are not
    /// unknown (unless the refusal says so, [`ApiError::outcome_unknown`], came with a
    /// 5xx status, or could not be authenticated and answered a write, see
    /// [`Error::mark_unverified`]); a timeout after sending, a 5xx, an undecodable or
    /// unverifiable reply are.
    pub fn is_outcome_unknown(&self) -> bool {
        if self.inner.unsettled.is_some() {
            return true;
        }
        match &self.inner.kind {
            // A refusal sent with a 5xx (WeChat's SYSTEM_ERROR) settles nothing either.
            ErrorKind::Api(api) => {
                api.outcome_unknown || api.status.is_some_and(|s| s.is_server_error())
            }
            ErrorKind::Http { status, .. } => !status.is_client_error(),
            // Nothing sent (invalid request, configuration, a failed CSPRNG), or no
            // trustworthy answer to what was.
            _ => self.may_have_been_sent(),
        }
    }

    /// Whether sending the same request again may succeed: connection failures, timeouts,
    /// 5xx and 429 statuses, and provider codes documented as "busy, retry".
    ///
    /// This says nothing about whether a retry is *safe*: that depends on the operation's
    /// idempotency, which the client's retry policy already took into account.
    pub fn is_retryable(&self) -> bool {
        match &self.inner.kind {
            ErrorKind::Transport { .. } | ErrorKind::Timeout { .. } => true,
            ErrorKind::Http { status, .. } => is_retryable_status(*status),
            ErrorKind::Api(api) => api.retryable || api.status.is_some_and(is_retryable_status),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.inner.provider, self.inner.operation) {
            (Some(p), Some(o)) => write!(f, "{p} {o}: ")?,
            (Some(p), None) => write!(f, "{p}: ")?,
            (None, Some(o)) => write!(f, "{o}: ")?,
            (None, None) => {}
        }
        self.fmt_kind(f)?;
        if let Some(reason) = &self.inner.unverified {
            write!(f, " [not authenticated: {reason}]")?;
        }
        if let Some(reason) = self.inner.unsettled {
            write!(
                f,
                " [the outcome is unknown: {reason}; query before acting]"
            )?;
        }
        Ok(())
    }
}

impl Error {
    fn fmt_kind(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.kind {
            ErrorKind::InvalidRequest { field, message } => match field {
                Some(field) => write!(f, "invalid request: {field}: {message}"),
                None => write!(f, "invalid request: {message}"),
            },
            ErrorKind::Config { message } => write!(f, "invalid configuration: {message}"),
            ErrorKind::Transport { may_have_been_sent } => {
                if *may_have_been_sent {
                    f.write_str("connection failed; the request may have been sent")
                } else {
                    f.write_str("connection failed before the request was sent")
                }
            }
            ErrorKind::Timeout {
                phase,
                may_have_been_sent,
            } => {
                let phase = match phase {
                    TimeoutPhase::Connect => "connect",
                    TimeoutPhase::Attempt => "attempt",
                    TimeoutPhase::Total => "total",
                };
                write!(f, "{phase} timeout")?;
                if *may_have_been_sent {
                    f.write_str("; the request may have been sent")?;
                }
                Ok(())
            }
            ErrorKind::ResponseTooLarge { limit } => {
                write!(f, "response body larger than the {limit}-byte limit")
            }
            ErrorKind::Http {
                status,
                body_excerpt,
                request_id,
            } => {
                write!(f, "HTTP {status}")?;
                if let Some(id) = request_id {
                    write!(f, " (request id {id})")?;
                }
                if !body_excerpt.is_empty() {
                    write!(f, ": {body_excerpt}")?;
                }
                Ok(())
            }
            ErrorKind::Api(api) => {
                write!(f, "provider error {}: {}", api.code, api.message)?;
                if let Some(status) = api.status {
                    write!(f, " (HTTP {})", status.as_u16())?;
                }
                if let Some(id) = &api.request_id {
                    write!(f, " (request id {id})")?;
                }
                Ok(())
            }
            ErrorKind::Decode {
                status,
                body_excerpt,
                path,
                message,
            } => {
                f.write_str("cannot decode the response")?;
                if let Some(path) = path {
                    write!(f, " at `{path}`")?;
                }
                write!(f, ": {message}")?;
                if let Some(status) = status {
                    write!(f, " (HTTP {})", status.as_u16())?;
                }
                if !body_excerpt.is_empty() {
                    write!(f, "; body: {body_excerpt}")?;
                }
                Ok(())
            }
            ErrorKind::Signature { subject, reason } => {
                let subject = match subject {
                    SignatureSubject::Response => "response",
                    SignatureSubject::Notification => "notification",
                };
                write!(f, "{subject} signature rejected: {reason}")
            }
            ErrorKind::Crypto { message } => {
                write!(f, "{message}; nothing was sent")
            }
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind);
        if let Some(p) = self.inner.provider {
            d.field("provider", &p);
        }
        if let Some(o) = self.inner.operation {
            d.field("operation", &o);
        }
        if let Some(s) = &self.inner.source {
            d.field("source", s);
        }
        if let Some(reason) = &self.inner.unverified {
            d.field("unverified", reason);
        }
        if let Some(reason) = self.inner.unsettled {
            d.field("outcome_unknown", &reason);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_request_names_its_field_only_when_it_has_one() {
        let named = Error::invalid_request("sellPrice", "too big");
        assert!(
            matches!(named.kind(), ErrorKind::InvalidRequest { field: Some(f), .. } if f == "sellPrice")
        );
        let unnamed = Error::invalid_request("", "no field");
        assert!(matches!(
            unnamed.kind(),
            ErrorKind::InvalidRequest { field: None, .. }
        ));
        assert!(!named.may_have_been_sent() && !unnamed.may_have_been_sent());
    }

    #[test]
    fn display_shows_provider_code_and_message() {
        let err =
            Error::api(ApiError::new("20000", "执行失败").with_status(StatusCode::BAD_REQUEST))
                .with_provider("lianhe")
                .with_operation("cancelOrder");
        assert_eq!(
            err.to_string(),
            "lianhe cancelOrder: provider error 20000: 执行失败 (HTTP 400)"
        );
        assert_eq!(err.api_code(), Some("20000"));
        assert!(err.may_have_been_sent());
        assert!(!err.is_outcome_unknown());
        assert!(!err.is_retryable());
        let busy = Error::api(
            ApiError::new("SYSTEM_ERROR", "系统错误")
                .with_status(StatusCode::INTERNAL_SERVER_ERROR),
        );
        assert!(busy.is_outcome_unknown());
        let flagged = Error::api(ApiError::new("-5103", "dup").outcome_unknown(true));
        assert!(flagged.is_outcome_unknown());
    }

    #[test]
    fn first_context_wins() {
        let err = Error::config("x")
            .with_provider("a")
            .with_provider("b")
            .with_operation("op1")
            .with_operation("op2");
        assert_eq!(err.provider(), Some("a"));
        assert_eq!(err.operation(), Some("op1"));
    }

    #[test]
    fn sent_and_unknown_flags() {
        let not_sent = Error::new(ErrorKind::Transport {
            may_have_been_sent: false,
        });
        assert!(!not_sent.may_have_been_sent());
        assert!(!not_sent.is_outcome_unknown());
        assert!(not_sent.is_retryable());

        let timeout = Error::new(ErrorKind::Timeout {
            phase: TimeoutPhase::Attempt,
            may_have_been_sent: true,
        });
        assert!(timeout.is_outcome_unknown());

        let bad_sig = Error::signature(SignatureSubject::Response, "mismatch");
        assert!(bad_sig.is_outcome_unknown());
        assert!(!bad_sig.is_retryable());

        let teapot = Error::http(StatusCode::BAD_REQUEST, b"no", None);
        assert!(!teapot.is_outcome_unknown());
        let busy = Error::http(StatusCode::SERVICE_UNAVAILABLE, b"", None);
        assert!(busy.is_outcome_unknown());
        assert!(busy.is_retryable());
        let throttled = Error::http(StatusCode::TOO_MANY_REQUESTS, b"", None);
        assert!(throttled.is_retryable());
    }

    #[test]
    fn source_is_kept() {
        let io = std::io::Error::other("boom");
        let err = Error::new(ErrorKind::Transport {
            may_have_been_sent: true,
        })
        .with_source(io);
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("boom"));
    }

    #[test]
    fn excerpt_is_bounded_and_char_safe() {
        let body = "票".repeat(400); // 1200 bytes
        let ex = excerpt(body.as_bytes());
        assert!(ex.len() <= EXCERPT_LEN + 4 + 3);
        assert!(ex.ends_with('…'));
        assert_eq!(excerpt(b"short"), "short");
    }

    #[test]
    fn an_unverified_refusal_settles_nothing_for_a_write() {
        let refusal = || {
            Error::api(ApiError::new("INVALID_REQUEST", "bad").with_status(StatusCode::BAD_REQUEST))
                .mark_unverified("the refusal is not signed")
        };
        // Providers only mark; the client's rule decides, by the operation's idempotency.
        assert!(!refusal().is_outcome_unknown());
        for idempotency in [
            crate::Idempotency::Unsafe,
            crate::Idempotency::Keyed("K".into()),
        ] {
            let err = refusal().settle_for(&idempotency, false);
            assert!(err.is_outcome_unknown(), "{idempotency:?}");
            assert!(err.to_string().contains("the outcome is unknown"), "{err}");
        }
        let read = refusal().settle_for(&crate::Idempotency::Safe, true);
        assert!(!read.is_outcome_unknown());
        assert_eq!(read.unverified_reason(), Some("the refusal is not signed"));
        assert_eq!(
            read.to_string(),
            "provider error INVALID_REQUEST: bad (HTTP 400) [not authenticated: the refusal is not signed]"
        );
        // A verified refusal is an answer whatever the operation.
        let verified = Error::api(ApiError::new("ORDER_DONE", "done"))
            .settle_for(&crate::Idempotency::Unsafe, false);
        assert!(!verified.is_outcome_unknown());
        // ... unless it answers a retry after an attempt that may have been processed.
        let after_retry = Error::api(ApiError::new("-20023", "余额不足"))
            .settle_for(&crate::Idempotency::Keyed("R1".into()), true);
        assert!(after_retry.is_outcome_unknown());
        assert!(
            after_retry.to_string().contains("earlier attempt"),
            "{after_retry}"
        );
        let read_after_retry = Error::api(ApiError::new("-20004", "不存在"))
            .settle_for(&crate::Idempotency::Safe, true);
        assert!(!read_after_retry.is_outcome_unknown());
        // Nothing sent, nothing to settle.
        let invalid = Error::invalid_request("x", "y")
            .mark_unverified("n/a")
            .settle_for(&crate::Idempotency::Unsafe, true);
        assert!(!invalid.is_outcome_unknown());
        assert!(
            format!(
                "{:?}",
                refusal().settle_for(&crate::Idempotency::Unsafe, false)
            )
            .contains("outcome_unknown")
        );
    }

    #[test]
    fn retryable_is_decided_by_status_and_busy_codes() {
        let api = |status: u16, retryable: bool| {
            Error::api(
                ApiError::new("X", "x")
                    .with_status(StatusCode::from_u16(status).unwrap())
                    .retryable(retryable),
            )
        };
        assert!(api(500, false).is_retryable());
        assert!(api(429, false).is_retryable());
        assert!(!api(400, false).is_retryable());
        assert!(api(200, true).is_retryable(), "a documented busy code");
        assert!(Error::api(ApiError::new("-20010", "系统错误").retryable(true)).is_retryable());
        assert!(!Error::api(ApiError::new("-20023", "余额不足")).is_retryable());
        assert!(!Error::decode(None, b"", None, "x").is_retryable());
    }

    #[test]
    fn crypto_failures_are_never_sent() {
        let err = Error::new(ErrorKind::Crypto {
            message: "rng failed".into(),
        });
        assert!(!err.may_have_been_sent());
        assert!(!err.is_outcome_unknown());
        assert!(!err.is_retryable());
        assert_eq!(err.to_string(), "rng failed; nothing was sent");
    }

    #[test]
    fn display_of_http_and_decode_errors_shows_the_excerpt() {
        let http = Error::http(
            StatusCode::BAD_GATEWAY,
            b"<html>down</html>",
            Some("R-1".into()),
        );
        assert_eq!(
            http.to_string(),
            "HTTP 502 Bad Gateway (request id R-1): <html>down</html>"
        );
        let bare = Error::http(StatusCode::BAD_GATEWAY, b"", None);
        assert_eq!(bare.to_string(), "HTTP 502 Bad Gateway");
        let decode = Error::decode(
            Some(StatusCode::OK),
            b"{\"a\":",
            Some("body.a".into()),
            "EOF",
        );
        assert_eq!(
            decode.to_string(),
            "cannot decode the response at `body.a`: EOF (HTTP 200); body: {\"a\":"
        );
        let exact = "x".repeat(EXCERPT_LEN);
        assert_eq!(
            excerpt(exact.as_bytes()),
            exact,
            "no ellipsis at exactly the cap"
        );
        let over = "x".repeat(EXCERPT_LEN + 1);
        assert_eq!(excerpt(over.as_bytes()), format!("{exact}…"));
    }

    #[test]
    fn error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
