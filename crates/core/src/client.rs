//! [`HttpClient`]: the machinery every provider client runs its calls through.
//!
//! A provider turns a typed request into an [`Operation`] (bytes serialized once), hands it
//! to [`HttpClient::execute`] together with its [`Authenticate`] implementation, and gets back
//! the raw response to verify and decode. The client applies timeouts, the retry policy and
//! a tracing span; it never looks inside bodies.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};
use tracing::Instrument as _;

use crate::clock::{Clock, SharedClock, SystemClock};
use crate::error::{Error, ErrorKind, TimeoutPhase};
use crate::retry::{
    AttemptOutcome, Idempotency, RetryPolicy, Sleep, TokioSleep, parse_retry_after,
};
use crate::transport::{ReqwestTransport, Transport, TransportError, TransportErrorKind};

/// A provider hook that recognises a "busy, retry with the same parameters" reply.
pub type BusyHook = fn(&http::Response<Bytes>) -> bool;

/// How a response was obtained, attached to every response [`HttpClient::execute`]
/// returns (`response.extensions().get::<Attempts>()`).
///
/// A provider uses it to read a "duplicate id" answer correctly: after an earlier attempt
/// that may have been processed, it means "already done", not "refused".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    /// How many attempts were made, this one included.
    pub count: u32,
    /// Whether an attempt before this one may have reached the provider.
    pub earlier_may_have_been_sent: bool,
}

impl Attempts {
    /// The attempts behind `response` (one, not sent before, if the extension is absent).
    pub fn of(response: &http::Response<Bytes>) -> Self {
        response
            .extensions()
            .get::<Self>()
            .copied()
            .unwrap_or(Self {
                count: 1,
                earlier_may_have_been_sent: false,
            })
    }
}

/// One call, as data: what to send and how it may be retried.
///
/// ```
/// use tixpay_core::{Idempotency, Operation};
///
/// let op = Operation::post("lianhe", "queryOrder", "https://example.com/openapi/index.php?method=queryOrder")
///     .header("content-type", "application/json; charset=utf-8")?
///     .body(r#"{"partnerId":1,"body":{}}"#)
///     .idempotency(Idempotency::Safe);
/// assert_eq!(op.name(), "queryOrder");
/// # Ok::<(), tixpay_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Operation {
    provider: &'static str,
    name: &'static str,
    method: Method,
    url: String,
    headers: HeaderMap,
    body: Bytes,
    idempotency: Idempotency,
    busy: Option<BusyHook>,
}

impl Operation {
    /// An operation with no body, not retried once it may have been sent.
    pub fn new(
        provider: &'static str,
        name: &'static str,
        method: Method,
        url: impl Into<String>,
    ) -> Self {
        Self {
            provider,
            name,
            method,
            url: url.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            idempotency: Idempotency::Unsafe,
            busy: None,
        }
    }

    /// A `GET`, which is [`Idempotency::Safe`].
    pub fn get(provider: &'static str, name: &'static str, url: impl Into<String>) -> Self {
        Self::new(provider, name, Method::GET, url).idempotency(Idempotency::Safe)
    }

    /// A `POST`, [`Idempotency::Unsafe`] until said otherwise.
    pub fn post(provider: &'static str, name: &'static str, url: impl Into<String>) -> Self {
        Self::new(provider, name, Method::POST, url)
    }

    /// Adds a header; an error if the name or value is not valid HTTP.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::invalid_request(name, "not a valid header name"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| Error::invalid_request(name.as_str(), "not a valid header value"))?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// The body bytes: exactly what is signed and sent.
    #[must_use]
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// How the operation may be retried.
    #[must_use]
    pub fn idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = idempotency;
        self
    }

    /// Recognises the provider's "busy, retry with the same parameters" replies. Applied
    /// only to `Safe` and `Keyed` operations.
    #[must_use]
    pub fn retry_when(mut self, hook: BusyHook) -> Self {
        self.busy = Some(hook);
        self
    }

    /// The provider name.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The operation name, in the provider's spelling.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The absolute URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The headers set so far (authentication is added per attempt).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body bytes.
    pub fn body_bytes(&self) -> &Bytes {
        &self.body
    }

    /// The idempotency.
    pub fn idempotency_kind(&self) -> &Idempotency {
        &self.idempotency
    }

    /// The request for one attempt (before authentication).
    pub fn to_request(&self) -> Result<http::Request<Bytes>, Error> {
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(self.url.as_str());
        if let Some(headers) = builder.headers_mut() {
            headers.extend(self.headers.clone());
        }
        builder.body(self.body.clone()).map_err(|e| {
            let shown = self.url.split('?').next().unwrap_or_default();
            Error::config(format!("invalid request URL `{shown}`")).with_source(e)
        })
    }
}

impl fmt::Debug for Operation {
    // Bodies and headers are left out: they may carry personal data and signatures.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operation")
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("method", &self.method)
            .field("url", &self.url)
            .field("body_len", &self.body.len())
            .field("idempotency", &self.idempotency)
            .finish()
    }
}

/// Adds a provider's authentication to each attempt, over the exact bytes that are sent.
///
/// Called once per attempt, so schemes with single-use nonces (Hawk) sign afresh each time.
pub trait Authenticate: Send + Sync {
    /// Adds headers (or otherwise signs) `request` for attempt `attempt` (1-based).
    fn authenticate(&self, request: &mut http::Request<Bytes>, attempt: u32) -> Result<(), Error>;
}

/// No authentication.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl Authenticate for NoAuth {
    fn authenticate(
        &self,
        _request: &mut http::Request<Bytes>,
        _attempt: u32,
    ) -> Result<(), Error> {
        Ok(())
    }
}

/// Runs [`Operation`]s: timeouts, retries, tracing. Cheap to clone.
///
/// ```no_run
/// use std::time::Duration;
/// use tixpay_core::{HttpClient, NoAuth, Operation, RetryPolicy};
///
/// # async fn run() -> Result<(), tixpay_core::Error> {
/// let client = HttpClient::builder()
///     .attempt_timeout(Duration::from_secs(10))
///     .total_timeout(Duration::from_secs(30))
///     .retry_policy(RetryPolicy::default().max_attempts(3))
///     .build()?;
/// let response = client
///     .execute(&Operation::get("example", "status", "https://example.com/status"), &NoAuth)
///     .await?;
/// println!("{}", response.status());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    transport: Arc<dyn Transport>,
    retry: RetryPolicy,
    attempt_timeout: Option<Duration>,
    total_timeout: Option<Duration>,
    sleep: Arc<dyn Sleep>,
    clock: SharedClock,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("transport", &self.inner.transport)
            .field("retry", &self.inner.retry)
            .field("attempt_timeout", &self.inner.attempt_timeout)
            .field("total_timeout", &self.inner.total_timeout)
            .finish()
    }
}

/// Builds an [`HttpClient`].
#[derive(Default)]
pub struct HttpClientBuilder {
    transport: Option<Arc<dyn Transport>>,
    retry: Option<RetryPolicy>,
    attempt_timeout: Option<Duration>,
    total_timeout: Option<Duration>,
    sleep: Option<Arc<dyn Sleep>>,
    clock: Option<SharedClock>,
}

impl fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientBuilder")
            .field("retry", &self.retry)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("total_timeout", &self.total_timeout)
            .finish()
    }
}

/// Default time limit of one attempt.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

impl HttpClientBuilder {
    /// The transport (default: [`ReqwestTransport`] with its defaults).
    #[must_use]
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The time limit of one attempt, connecting, sending and reading the reply (default
    /// 30 s). An attempt that runs out of time is reported as "may have been sent" even if
    /// it was still connecting, so keep it above the transport's connect timeout (10 s by
    /// default) for that distinction to be exact.
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// The time limit of the whole call, retries and backoff included (default: none).
    #[must_use]
    pub fn total_timeout(mut self, timeout: Duration) -> Self {
        self.total_timeout = Some(timeout);
        self
    }

    /// How to wait between attempts (default: the tokio timer).
    #[must_use]
    pub fn sleep(mut self, sleep: Arc<dyn Sleep>) -> Self {
        self.sleep = Some(sleep);
        self
    }

    /// The clock for `Retry-After` dates (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<HttpClient, Error> {
        let transport = match self.transport {
            Some(t) => t,
            None => Arc::new(ReqwestTransport::new()?),
        };
        Ok(HttpClient {
            inner: Arc::new(ClientInner {
                transport,
                retry: self.retry.unwrap_or_default(),
                attempt_timeout: Some(self.attempt_timeout.unwrap_or(DEFAULT_ATTEMPT_TIMEOUT)),
                total_timeout: self.total_timeout,
                sleep: self.sleep.unwrap_or_else(|| Arc::new(TokioSleep)),
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            }),
        })
    }
}

enum AttemptError {
    Transport(TransportError),
    Timeout(TimeoutPhase),
}

impl HttpClient {
    /// A builder with the defaults.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }

    /// A client with the defaults.
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The transport in use.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.inner.transport
    }

    /// Runs `operation`: authenticates and sends each attempt, retries as the policy and the
    /// operation's idempotency allow, and returns the final response whatever its status.
    ///
    /// Errors carry the operation's provider and name.
    pub async fn execute(
        &self,
        operation: &Operation,
        auth: &dyn Authenticate,
    ) -> Result<http::Response<Bytes>, Error> {
        let span = tracing::info_span!(
            "tixpay.call",
            provider = operation.provider,
            operation = operation.name,
            idempotency = operation.idempotency.as_str(),
            attempts = tracing::field::Empty,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let started = tokio::time::Instant::now();
        let result = self
            .run(operation, auth, started)
            .instrument(span.clone())
            .await;
        span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        if let Ok(response) = &result {
            span.record("status", response.status().as_u16());
        }
        result.map_err(|e| {
            e.with_provider(operation.provider)
                .with_operation(operation.name)
        })
    }

    async fn run(
        &self,
        operation: &Operation,
        auth: &dyn Authenticate,
        started: tokio::time::Instant,
    ) -> Result<http::Response<Bytes>, Error> {
        let inner = &*self.inner;
        let deadline = inner.total_timeout.and_then(|t| started.checked_add(t));
        let mut attempt = 0u32;
        let mut sent_any = false;
        loop {
            attempt += 1;
            tracing::Span::current().record("attempts", attempt);
            let mut request = operation.to_request()?;
            auth.authenticate(&mut request, attempt)?;

            let outcome = self.attempt(request, deadline).await.map(|mut response| {
                response.extensions_mut().insert(Attempts {
                    count: attempt,
                    earlier_may_have_been_sent: sent_any,
                });
                response
            });
            let (decision, retry_after, result) = match outcome {
                Ok(response) => {
                    // A reply means this attempt reached the provider.
                    sent_any = true;
                    let status = response.status();
                    let busy = operation.busy.is_some_and(|hook| hook(&response));
                    let retry_after = response
                        .headers()
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, inner.clock.now_seconds()));
                    tracing::debug!(attempt, status = status.as_u16(), busy, "reply");
                    (
                        AttemptOutcome::Response { status, busy },
                        retry_after,
                        Ok(response),
                    )
                }
                Err(AttemptError::Transport(e)) => {
                    if matches!(e.kind(), TransportErrorKind::BodyTooLarge { .. }) {
                        // The provider answered; asking again would get the same answer.
                        return Err(Error::from(e));
                    }
                    let sent = e.may_have_been_sent();
                    sent_any |= sent;
                    tracing::debug!(attempt, error = %e, may_have_been_sent = sent, "attempt failed");
                    let outcome = if sent {
                        AttemptOutcome::MaybeSent
                    } else {
                        AttemptOutcome::NotSent
                    };
                    (outcome, None, Err(Error::from(e)))
                }
                Err(AttemptError::Timeout(phase)) => {
                    sent_any = true;
                    tracing::debug!(attempt, ?phase, "attempt timed out");
                    let err = Error::new(ErrorKind::Timeout {
                        phase,
                        may_have_been_sent: true,
                    });
                    if phase == TimeoutPhase::Total {
                        return Err(err);
                    }
                    (AttemptOutcome::MaybeSent, None, Err(err))
                }
            };
            if matches!(decision, AttemptOutcome::Response { status, busy } if !busy && !is_retry_status(status))
            {
                return result;
            }

            let retryable = attempt < inner.retry.attempts()
                && inner.retry.should_retry(&operation.idempotency, decision);
            if !retryable {
                return result.map_err(|e| mark_sent(e, sent_any));
            }
            if retry_after.is_some_and(|d| d > inner.retry.retry_after_limit()) {
                tracing::debug!(attempt, "Retry-After beyond the limit; not retrying");
                return result;
            }
            let delay = inner
                .retry
                .backoff(attempt)
                .max(retry_after.unwrap_or_default());
            if deadline.is_some_and(|d| {
                tokio::time::Instant::now()
                    .checked_add(delay)
                    .is_none_or(|at| at >= d)
            }) {
                tracing::debug!(attempt, "no time left for another attempt");
                return result.map_err(|e| mark_sent(e, sent_any));
            }
            tracing::info!(attempt, delay_ms = delay.as_millis() as u64, "retrying");
            inner.sleep.sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        request: http::Request<Bytes>,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<http::Response<Bytes>, AttemptError> {
        let inner = &*self.inner;
        let now = tokio::time::Instant::now();
        let (limit, phase) = match (inner.attempt_timeout, deadline) {
            (Some(per), Some(deadline))
                if now.checked_add(per).is_none_or(|end| end >= deadline) =>
            {
                (
                    Some(deadline.saturating_duration_since(now)),
                    TimeoutPhase::Total,
                )
            }
            (Some(per), _) => (Some(per), TimeoutPhase::Attempt),
            (None, Some(deadline)) => (
                Some(deadline.saturating_duration_since(now)),
                TimeoutPhase::Total,
            ),
            (None, None) => (None, TimeoutPhase::Attempt),
        };
        let send = inner.transport.send(request);
        let result = match limit {
            Some(limit) => tokio::time::timeout(limit, send)
                .await
                .map_err(|_| AttemptError::Timeout(phase))?,
            None => send.await,
        };
        result.map_err(AttemptError::Transport)
    }
}

fn is_retry_status(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// A failure on a later attempt that did not itself send anything still leaves the request
/// "maybe sent" when an earlier attempt may have been.
fn mark_sent(err: Error, sent_any: bool) -> Error {
    if !sent_any || err.may_have_been_sent() {
        return err;
    }
    match err.kind() {
        ErrorKind::Transport { .. } => Error::new(ErrorKind::Transport {
            may_have_been_sent: true,
        })
        .with_source(err),
        ErrorKind::Timeout { phase, .. } => Error::new(ErrorKind::Timeout {
            phase: *phase,
            may_have_been_sent: true,
        })
        .with_source(err),
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_debug_hides_body() {
        let op = Operation::post("p", "o", "http://x/")
            .body("secret-card-number")
            .idempotency(Idempotency::Keyed("K1".into()));
        let shown = format!("{op:?}");
        assert!(!shown.contains("secret-card-number"));
        assert!(shown.contains("body_len: 18"));
    }

    #[test]
    fn bad_header_is_invalid_request() {
        let err = Operation::post("p", "o", "http://x/").header("bad header", "v");
        assert!(matches!(
            err.map(|_| ()).map_err(|e| e.kind().clone()),
            Err(ErrorKind::InvalidRequest { .. })
        ));
        let err = Operation::post("p", "o", "http://x/").header("x-ok", "line\nbreak");
        assert!(err.is_err());
    }

    #[test]
    fn bad_url_is_config_error() {
        let op = Operation::get("p", "o", "not a url");
        assert!(matches!(
            op.to_request().map_err(|e| e.kind().clone()),
            Err(ErrorKind::Config { .. })
        ));
    }
}
