//! [`HttpClient`]: the machinery every provider client runs its calls through, both halves.
//!
//! A provider turns a typed request into an [`Operation`] (bytes serialized once) and hands
//! it to [`HttpClient::execute`] with its [`Authenticate`] implementation. For every attempt
//! the client asks the provider to sign the exact bytes sent ([`Authenticate::sign`]), sends
//! them, and hands the reply back with what was signed ([`Authenticate::verify`]): the
//! provider verifies it over the exact bytes received, binds it to the request through the
//! ids it echoes ([`Operation::echo`]), and judges it ([`Verdict`]). The client then decides,
//! in one place, whether to stop, retry the same bytes, sign again, or fail over to another
//! host (see [`crate::retry`]), under one attempt budget, one total timeout and one
//! [`Attempts`] count. No provider sends twice on its own.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use tracing::Instrument as _;

use crate::clock::{Clock, SharedClock, SystemClock};
use crate::error::{Error, ErrorKind, SignatureSubject, TimeoutPhase};
use crate::retry::{
    AttemptOutcome, Idempotency, RetryPolicy, Sleep, TokioSleep, is_retryable_status,
    parse_retry_after,
};
use crate::transport::{
    ReqwestTransport, StreamingBody, Transport, TransportError, TransportErrorKind,
};

/// How a reply was obtained: handed to [`Authenticate::verify`] with every reply, and
/// attached to the responses [`NoAuth`] returns (`response.extensions().get::<Attempts>()`).
///
/// A provider uses it to read a "duplicate id" answer correctly: after an earlier attempt
/// that may have been processed, it means "already done", not "refused".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    /// How many attempts were made, this one included.
    pub count: u32,
    /// Whether an attempt before this one may have reached the provider and been acted on.
    /// A request the server refused before acting (a Hawk stale timestamp) does not count.
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

/// An identifier that a reply must echo to prove that it answers this request.
///
/// Providers name, per operation, the ids their replies echo ([`Operation::echo`]); the
/// provider's [`Authenticate::verify`] reads them from the verified reply and asks
/// [`Operation::binding`] whether they match. See [`Binding`] for what each result means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    field: &'static str,
    value: String,
    presence: Presence,
}

/// When an [`Echo`] must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Presence {
    /// In every reply, answer or refusal ([`Operation::echo`]).
    Always,
    /// In an answer; a refusal may leave it out, as the provider documents
    /// ([`Operation::echo_in_answers`]).
    InAnswers,
    /// Compared only when present: the documents do not confirm that it is echoed
    /// ([`Operation::echo_if_present`]).
    IfPresent,
}

impl Echo {
    /// The field, in the provider's spelling (a path such as `body.LHOrderId` where the
    /// provider nests it).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The value the reply must carry.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// When the field must be present.
    pub fn presence(&self) -> Presence {
        self.presence
    }
}

/// What the ids a verified reply echoes prove about which request it answers.
///
/// ```
/// use tixpay_core::{Binding, Operation};
///
/// let op = Operation::post("leshua", "unified_refund", "https://example.com/")
///     .echo("merchant_refund_id", "R1")
///     .echo_if_present("leshua_order_id", "L1");
/// let reply = [("merchant_refund_id", "R1")];
/// let lookup = |field: &str| reply.iter().find(|(f, _)| *f == field).map(|(_, v)| *v);
/// assert_eq!(op.binding(lookup), Binding::Bound);
/// assert!(matches!(op.binding(|_| None::<&str>), Binding::Missing { field: "merchant_refund_id", .. }));
/// assert!(matches!(op.binding(|_| Some("R2")), Binding::Mismatch { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Binding {
    /// Every required id is present and every id present is the one sent.
    Bound,
    /// A required id is absent: the reply cannot be shown to answer this request.
    Missing {
        /// The absent field.
        field: &'static str,
        /// Whether a refusal may leave it out ([`Presence::InAnswers`]).
        refusals_may_omit: bool,
    },
    /// An id differs: the reply answers another request (a replayed or misrouted reply).
    Mismatch {
        /// The field.
        field: &'static str,
        /// The value sent.
        expected: String,
        /// The value echoed.
        found: String,
    },
}

impl Binding {
    fn reason(&self) -> Option<String> {
        match self {
            Self::Bound => None,
            Self::Missing { field, .. } => Some(format!(
                "the reply does not echo {field}, so it cannot be shown to answer this request"
            )),
            Self::Mismatch {
                field,
                expected,
                found,
            } => Some(format!(
                "the reply is for {field} {found}, not {expected}: it answers another request"
            )),
        }
    }

    /// For a reply about to be accepted as the answer: anything but [`Binding::Bound`] is a
    /// signature error, so the result is outcome-unknown and never a success.
    pub fn require(self) -> Result<(), Error> {
        match self.reason() {
            None => Ok(()),
            Some(reason) => Err(Error::signature(SignatureSubject::Response, reason)),
        }
    }

    /// For a refusal: one that answers another request is a signature error; one that
    /// cannot be shown to answer this request (a required id absent) is kept but marked
    /// unverified ([`Error::mark_unverified`]), so it cannot settle a write. An id that
    /// refusals may leave out ([`Presence::InAnswers`]) is not required here.
    pub fn judge_refusal(self, refusal: Error) -> Error {
        match self {
            Self::Bound
            | Self::Missing {
                refusals_may_omit: true,
                ..
            } => refusal,
            Self::Missing { .. } => {
                let reason = self.reason().unwrap_or_default();
                refusal.mark_unverified(reason)
            }
            Self::Mismatch { .. } => Error::signature(
                SignatureSubject::Response,
                self.reason().unwrap_or_default(),
            ),
        }
    }
}

/// One call, as data: what to send, where, how it may be retried, and the ids its reply must
/// echo.
///
/// ```
/// use tixpay_core::{Idempotency, Operation};
///
/// let op = Operation::post("lianhe", "queryOrder", "https://example.com/openapi/index.php?method=queryOrder")
///     .header("content-type", "application/json; charset=utf-8")?
///     .body(r#"{"partnerId":1,"body":{}}"#)
///     .idempotency(Idempotency::Safe)
///     .echo("partnerId", "1");
/// assert_eq!(op.name(), "queryOrder");
/// # Ok::<(), tixpay_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Operation {
    provider: &'static str,
    name: &'static str,
    method: Method,
    url: String,
    /// Alternate URLs (a backup host); empty for almost every operation, so no allocation.
    alternates: Vec<String>,
    headers: HeaderMap,
    body: Bytes,
    idempotency: Idempotency,
    echoes: Vec<Echo>,
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
            alternates: Vec::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            idempotency: Idempotency::Unsafe,
            echoes: Vec::new(),
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

    /// Another URL for the same operation (a provider's backup host). The client moves to the
    /// next URL only while nothing may have reached any host (every attempt so far failed to
    /// connect), and stays where it is once anything may have been sent. Each attempt is
    /// signed afresh for its URL, and counts against the call's attempt budget.
    #[must_use]
    pub fn alternate_url(mut self, url: impl Into<String>) -> Self {
        self.alternates.push(url.into());
        self
    }

    /// An id every verified reply must echo, equal to `value`. A reply without it proves
    /// nothing about which request it answers.
    #[must_use]
    pub fn echo(self, field: &'static str, value: impl Into<String>) -> Self {
        self.expect(field, value, Presence::Always)
    }

    /// An id an answer must echo; a refusal is compared only when it carries it (the
    /// provider documents that refusals may leave it out).
    #[must_use]
    pub fn echo_in_answers(self, field: &'static str, value: impl Into<String>) -> Self {
        self.expect(field, value, Presence::InAnswers)
    }

    /// An id compared only when the reply carries it: for fields the provider's documents do
    /// not confirm are echoed.
    #[must_use]
    pub fn echo_if_present(self, field: &'static str, value: impl Into<String>) -> Self {
        self.expect(field, value, Presence::IfPresent)
    }

    fn expect(mut self, field: &'static str, value: impl Into<String>, presence: Presence) -> Self {
        self.echoes.push(Echo {
            field,
            value: value.into(),
            presence,
        });
        self
    }

    /// The ids the reply must echo.
    pub fn echoes(&self) -> &[Echo] {
        &self.echoes
    }

    /// Whether a reply whose fields `lookup` reads (absent or empty fields as `None`) answers
    /// this request. The first failing id decides.
    pub fn binding<S: AsRef<str>>(&self, mut lookup: impl FnMut(&str) -> Option<S>) -> Binding {
        for echo in &self.echoes {
            let found = lookup(echo.field);
            match found.as_ref().map(AsRef::as_ref).filter(|v| !v.is_empty()) {
                None if echo.presence != Presence::IfPresent => {
                    return Binding::Missing {
                        field: echo.field,
                        refusals_may_omit: echo.presence == Presence::InAnswers,
                    };
                }
                None => {}
                Some(v) if v != echo.value => {
                    return Binding::Mismatch {
                        field: echo.field,
                        expected: echo.value.clone(),
                        found: v.to_owned(),
                    };
                }
                Some(_) => {}
            }
        }
        Binding::Bound
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

    /// The absolute URL (the first, when there are alternates).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The alternate URLs, in the order they are tried after [`Operation::url`].
    pub fn alternate_urls(&self) -> &[String] {
        &self.alternates
    }

    /// The headers set so far (authentication is added per attempt).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The request for one attempt to the first URL (before authentication).
    pub fn to_request(&self) -> Result<http::Request<Bytes>, Error> {
        self.request_to(0)
    }

    fn request_to(&self, host: usize) -> Result<http::Request<Bytes>, Error> {
        let url = match host.checked_sub(1) {
            None => self.url.as_str(),
            Some(i) => self
                .alternates
                .get(i)
                .map_or(self.url.as_str(), String::as_str),
        };
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(url);
        if let Some(headers) = builder.headers_mut() {
            headers.extend(self.headers.clone());
        }
        builder.body(self.body.clone()).map_err(|e| {
            let shown = url.split('?').next().unwrap_or_default();
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
            .field("alternates", &self.alternates)
            .field("body_len", &self.body.len())
            .field("idempotency", &self.idempotency)
            .field("echoes", &self.echoes)
            .finish()
    }
}

/// One attempt's reply, handed to [`Authenticate::verify`] with what was signed for it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Reply<'a, S> {
    /// The operation this attempt sent.
    pub operation: &'a Operation,
    /// What [`Authenticate::sign`] produced for this attempt (its nonce, timestamp, Hawk
    /// artifacts).
    pub signed: S,
    /// The response, its body exactly as received (size-capped).
    pub response: http::Response<Bytes>,
    /// This attempt's number, and whether an earlier one may have been acted on.
    pub attempts: Attempts,
}

/// What the provider made of one attempt's reply.
#[derive(Debug)]
#[must_use]
pub enum Verdict<T> {
    /// Authentic, bound to this request, and the provider's answer: the call returns `T`.
    Accept(T),
    /// Not the result: a refusal, a reply that does not verify, an HTTP error. The client
    /// sends the same bytes again only when [`Error::is_retryable`] says another answer may
    /// come and the operation's [`Idempotency`] allows it; otherwise the call returns the
    /// error (an unverified refusal of a write becoming outcome-unknown, see
    /// [`Error::mark_unverified`]).
    Reject(Error),
    /// The server refused *before acting* and proved how to sign so that it will accept (a
    /// Hawk stale timestamp whose `tsm` verified): sign again and send now, once per call.
    /// The attempt does not count as possibly processed. If no attempt is left, the call
    /// returns the error.
    SignAgain(Error),
}

/// A provider's authentication, both halves: it signs each attempt over the exact bytes sent,
/// and verifies each reply over the exact bytes received, before anything is decoded.
///
/// `sign` is called once per attempt, so schemes with single-use nonces (Hawk) sign afresh
/// each time. `verify` receives what `sign` produced for that attempt. It must fail closed:
/// a reply is accepted only when it is authentic *and* proven to answer this request through
/// the ids it echoes ([`Operation::binding`]); a field outside the signature may make an
/// error less certain, never more ([`Error::mark_unverified`]).
///
/// `verify` may wait (PayScore downloads a certificate for a new serial): implement it with
/// `async fn`. The future is not boxed, so a check that does not wait costs nothing extra.
///
/// ```
/// use bytes::Bytes;
/// use tixpay_core::{Authenticate, Error, Reply, Verdict};
///
/// /// Replies that carry `x-reply-to: <our x-request-id>` are ours.
/// struct Tagged;
///
/// impl Authenticate for Tagged {
///     type Signed = String;
///     type Output = Bytes;
///     fn sign(&self, request: &mut http::Request<Bytes>, attempt: u32) -> Result<String, Error> {
///         let id = format!("req-{attempt}");
///         request.headers_mut().insert("x-request-id", id.parse().map_err(|_| Error::config("id"))?);
///         Ok(id)
///     }
///     async fn verify(&self, reply: Reply<'_, String>) -> Verdict<Bytes> {
///         let echoed = reply.response.headers().get("x-reply-to").and_then(|v| v.to_str().ok());
///         if echoed == Some(reply.signed.as_str()) {
///             Verdict::Accept(reply.response.into_body())
///         } else {
///             Verdict::Reject(Error::signature(tixpay_core::SignatureSubject::Response, "not our reply"))
///         }
///     }
/// }
/// ```
pub trait Authenticate: Send + Sync {
    /// What signing one attempt produced that its reply is checked against.
    type Signed: Send + Sync;
    /// A verified reply, as the provider's decoder takes it.
    type Output: Send;

    /// Signs `request` for attempt `attempt` (1-based): adds headers over the exact bytes
    /// that are sent, and returns what the reply must be checked against. An error stops the
    /// call; nothing is sent.
    fn sign(&self, request: &mut http::Request<Bytes>, attempt: u32)
    -> Result<Self::Signed, Error>;

    /// Verifies, binds and judges one attempt's reply.
    fn verify(
        &self,
        reply: Reply<'_, Self::Signed>,
    ) -> impl Future<Output = Verdict<Self::Output>> + Send;
}

/// No authentication, no verification: every reply is accepted as it is, except a 5xx or
/// 429 ([`is_retryable_status`]), which the client may retry and which otherwise ends the
/// call as [`ErrorKind::Http`]. The accepted response carries its [`Attempts`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl Authenticate for NoAuth {
    type Signed = ();
    type Output = http::Response<Bytes>;

    fn sign(&self, _request: &mut http::Request<Bytes>, _attempt: u32) -> Result<(), Error> {
        Ok(())
    }

    async fn verify(&self, reply: Reply<'_, ()>) -> Verdict<Self::Output> {
        let status = reply.response.status();
        if is_retryable_status(status) {
            Verdict::Reject(Error::http(status, reply.response.body(), None))
        } else {
            let mut response = reply.response;
            response.extensions_mut().insert(reply.attempts);
            Verdict::Accept(response)
        }
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

/// The most bytes read of a non-2xx reply to [`HttpClient::execute_streaming`] (64 KiB): a
/// refusal is a short JSON or XML error, not a file.
pub const STREAMED_REFUSAL_LIMIT: usize = 64 * 1024;

/// How a call reads its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Receive {
    /// Whole, size-capped, verified ([`HttpClient::execute`]).
    Whole,
    /// A 2xx reply's body streamed, unverified ([`HttpClient::execute_streaming`]).
    Streaming,
}

/// One attempt's reply as received.
enum Received {
    Whole(http::Response<Bytes>),
    Stream(http::Response<StreamingBody>),
}

/// What a call produced.
enum Delivered<T> {
    Verified(T),
    Streamed(http::Response<StreamingBody>),
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

    /// Runs `operation`: signs and sends each attempt, hands each reply to `auth` to verify,
    /// bind and judge, and decides after every attempt whether to stop, send the same bytes
    /// again, sign again, or fail over (see [`crate::retry`]). Returns what `auth` accepted.
    ///
    /// Errors carry the operation's provider and name. A refusal that cannot be
    /// authenticated, or that answers a retry after an earlier attempt may have been
    /// processed, is outcome-unknown when the operation writes.
    pub async fn execute<A: Authenticate>(
        &self,
        operation: &Operation,
        auth: &A,
    ) -> Result<A::Output, Error> {
        match self.execute_in(operation, auth, Receive::Whole).await? {
            Delivered::Verified(output) => Ok(output),
            // Only a streaming call hands out a body unread.
            Delivered::Streamed(_) => Err(Error::config(
                "internal error: a whole-body call produced a stream",
            )),
        }
    }

    /// Runs a `GET` whose successful reply body is a file too large to hold in memory and
    /// that the provider does not sign (a bill download): the same attempts, retries,
    /// signing and timeouts as [`HttpClient::execute`], through
    /// [`Transport::send_streaming`].
    ///
    /// - A **2xx** reply is returned at once with its body unread and **unverified**:
    ///   [`Authenticate::verify`] is not called for it. The caller must establish the body's
    ///   integrity itself, from something a verified reply gave it (WeChat Pay's bill hash),
    ///   and must not act on the body before that check passes. Each piece must arrive
    ///   within the attempt timeout, the whole body within the total timeout. Nothing is
    ///   resent once the body is being read: a failure there is the caller's to handle.
    /// - Any other reply is read whole (at most [`STREAMED_REFUSAL_LIMIT`] bytes) and
    ///   handed to [`Authenticate::verify`] as [`HttpClient::execute`] does: a refusal is
    ///   judged, verified and retried there alike. A reply `verify` accepts is returned with
    ///   its body as one piece.
    ///
    /// ```no_run
    /// use tixpay_core::{HttpClient, NoAuth, Operation};
    ///
    /// # async fn run() -> Result<(), tixpay_core::Error> {
    /// let client = HttpClient::new()?;
    /// let op = Operation::get("example", "download", "https://example.com/file?token=t");
    /// let mut response = client.execute_streaming(&op, &NoAuth).await?;
    /// let mut size = 0;
    /// while let Some(piece) = response.body_mut().chunk().await? {
    ///     size += piece.len(); // hash it, write it to a file…
    /// }
    /// println!("{size} bytes");
    /// # Ok(()) }
    /// ```
    pub async fn execute_streaming<A: Authenticate>(
        &self,
        operation: &Operation,
        auth: &A,
    ) -> Result<http::Response<StreamingBody>, Error> {
        match self.execute_in(operation, auth, Receive::Streaming).await? {
            Delivered::Streamed(response) => Ok(response),
            Delivered::Verified(_) => Err(Error::config(
                "internal error: a streaming call produced no stream",
            )),
        }
    }

    async fn execute_in<A: Authenticate>(
        &self,
        operation: &Operation,
        auth: &A,
        receive: Receive,
    ) -> Result<Delivered<A::Output>, Error> {
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
            .run(operation, auth, receive, started, &span)
            .instrument(span.clone())
            .await;
        span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        result.map_err(|e| {
            e.with_provider(operation.provider)
                .with_operation(operation.name)
        })
    }

    async fn run<A: Authenticate>(
        &self,
        operation: &Operation,
        auth: &A,
        receive: Receive,
        started: tokio::time::Instant,
        span: &tracing::Span,
    ) -> Result<Delivered<A::Output>, Error> {
        let inner = &*self.inner;
        let idempotency = &operation.idempotency;
        let deadline = inner.total_timeout.and_then(|t| started.checked_add(t));
        let mut attempt = 0u32;
        // Whether any attempt so far may have reached the provider and been acted on.
        let mut sent_any = false;
        // The error that led to the current retry: it describes what may already have
        // happened if a later attempt fails before sending anything.
        let mut previous: Option<Error> = None;
        let mut host = 0usize;
        let mut signed_again = false;
        loop {
            attempt += 1;
            span.record("attempts", attempt);
            let before_sending = |err: Error, previous: Option<Error>| match previous {
                Some(earlier) if sent_any => earlier,
                _ => err,
            };
            let mut request = match operation.request_to(host) {
                Ok(r) => r,
                Err(e) => return Err(before_sending(e, previous)),
            };
            let signed = match auth.sign(&mut request, attempt) {
                Ok(s) => s,
                Err(e) => return Err(before_sending(e, previous)),
            };
            let earlier = sent_any;
            let (outcome, err, retry_after) = match self.attempt(request, deadline, receive).await {
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
                    (outcome, Error::from(e), None)
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
                    (AttemptOutcome::MaybeSent, err, None)
                }
                Ok(Received::Stream(response)) => {
                    span.record("status", response.status().as_u16());
                    tracing::debug!(
                        attempt,
                        status = response.status().as_u16(),
                        "streaming reply"
                    );
                    return Ok(Delivered::Streamed(response));
                }
                Ok(Received::Whole(response)) => {
                    let status = response.status();
                    span.record("status", status.as_u16());
                    tracing::debug!(attempt, status = status.as_u16(), "reply");
                    let retry_after = response
                        .headers()
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, inner.clock.now_seconds()));
                    // A streaming call hands back a reply `verify` accepts as it came.
                    let kept = (receive == Receive::Streaming).then(|| {
                        let mut head = http::Response::new(());
                        *head.status_mut() = response.status();
                        *head.version_mut() = response.version();
                        *head.headers_mut() = response.headers().clone();
                        (head, response.body().clone())
                    });
                    let reply = Reply {
                        operation,
                        signed,
                        response,
                        attempts: Attempts {
                            count: attempt,
                            earlier_may_have_been_sent: earlier,
                        },
                    };
                    let verdict = match deadline {
                        // Verifying may wait (a certificate download): the total limit holds.
                        Some(deadline) => {
                            match tokio::time::timeout_at(deadline, auth.verify(reply)).await {
                                Ok(v) => v,
                                Err(_) => {
                                    return Err(Error::new(ErrorKind::Timeout {
                                        phase: TimeoutPhase::Total,
                                        may_have_been_sent: true,
                                    }));
                                }
                            }
                        }
                        None => auth.verify(reply).await,
                    };
                    match verdict {
                        Verdict::Accept(output) => {
                            return Ok(match kept {
                                Some((head, body)) => Delivered::Streamed(
                                    head.map(|()| StreamingBody::from_bytes(body)),
                                ),
                                None => Delivered::Verified(output),
                            });
                        }
                        Verdict::SignAgain(err) => {
                            // The server refused before acting: this attempt moved nothing.
                            let err = err.settle_for(idempotency, earlier);
                            if signed_again || attempt >= inner.retry.attempts() {
                                return Err(err);
                            }
                            tracing::info!(attempt, "signing again at the server's request");
                            signed_again = true;
                            previous = Some(mark_sent(err, sent_any));
                            continue;
                        }
                        Verdict::Reject(err) => {
                            sent_any = true;
                            let err = err.settle_for(idempotency, earlier);
                            let retryable = err.is_retryable();
                            (AttemptOutcome::Refused { retryable }, err, retry_after)
                        }
                    }
                }
            };

            if attempt >= inner.retry.attempts() || !inner.retry.should_retry(idempotency, outcome)
            {
                return Err(mark_sent(err, sent_any));
            }
            if retry_after.is_some_and(|d| d > inner.retry.retry_after_limit()) {
                tracing::debug!(attempt, "Retry-After beyond the limit; not retrying");
                return Err(mark_sent(err, sent_any));
            }
            // Nothing reached any host so far: the next one (the provider's backup) is tried
            // at once; back to the first host, the usual backoff applies. Once anything may
            // have been sent, the call stays where it is.
            let next_host = if outcome == AttemptOutcome::NotSent && !sent_any {
                (host + 1) % (operation.alternates.len() + 1)
            } else {
                host
            };
            let delay = if next_host != host && next_host != 0 {
                Duration::ZERO
            } else {
                inner
                    .retry
                    .backoff(attempt)
                    .max(retry_after.unwrap_or_default())
            };
            if deadline.is_some_and(|d| {
                tokio::time::Instant::now()
                    .checked_add(delay)
                    .is_none_or(|at| at >= d)
            }) {
                tracing::debug!(attempt, "no time left for another attempt");
                return Err(mark_sent(err, sent_any));
            }
            if next_host != host {
                tracing::warn!(attempt, host = next_host, "host unreachable; failing over");
            }
            tracing::info!(attempt, delay_ms = delay.as_millis() as u64, "retrying");
            host = next_host;
            // Kept marked: if a later attempt fails before sending, this is what is known.
            previous = Some(mark_sent(err, sent_any));
            if !delay.is_zero() {
                inner.sleep.sleep(delay).await;
            }
        }
    }

    async fn attempt(
        &self,
        request: http::Request<Bytes>,
        deadline: Option<tokio::time::Instant>,
        receive: Receive,
    ) -> Result<Received, AttemptError> {
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
        let send = async {
            match receive {
                Receive::Whole => inner.transport.send(request).await.map(Received::Whole),
                Receive::Streaming => {
                    let response = inner.transport.send_streaming(request).await?;
                    if response.status().is_success() {
                        let idle = inner.attempt_timeout;
                        return Ok(Received::Stream(
                            response.map(|body| body.limited(idle, deadline)),
                        ));
                    }
                    // A refusal is small: read it whole, within this attempt's time, and
                    // judge it like any reply.
                    let (head, body) = response.into_parts();
                    let body = body.collect(STREAMED_REFUSAL_LIMIT).await?;
                    Ok(Received::Whole(http::Response::from_parts(head, body)))
                }
            }
        };
        let result = match limit {
            Some(limit) => tokio::time::timeout(limit, send)
                .await
                .map_err(|_| AttemptError::Timeout(phase))?,
            None => send.await,
        };
        result.map_err(AttemptError::Transport)
    }
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
    fn an_operation_gives_back_what_it_was_built_with() {
        let op = Operation::post("p", "o", "http://x/")
            .header("x-a", "1")
            .unwrap()
            .body("b")
            .idempotency(Idempotency::Keyed("K".into()));
        assert_eq!(op.provider(), "p");
        assert_eq!(op.name(), "o");
        assert_eq!(op.method(), Method::POST);
        assert_eq!(op.headers()["x-a"], "1");
        assert_eq!(op.body.as_ref(), b"b");
        assert_eq!(op.idempotency, Idempotency::Keyed("K".into()));
        let client = HttpClient::builder()
            .retry_policy(RetryPolicy::default().max_attempts(7))
            .build()
            .unwrap();
        assert_eq!(client.retry_policy().attempts(), 7);
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

    fn op_with_echoes() -> Operation {
        Operation::post("p", "o", "http://x/")
            .echo("always", "A")
            .echo_in_answers("answers", "B")
            .echo_if_present("maybe", "C")
    }

    fn reply<'a>(fields: &'a [(&'a str, &'a str)]) -> impl FnMut(&str) -> Option<&'a str> {
        move |f| fields.iter().find(|(n, _)| *n == f).map(|(_, v)| *v)
    }

    #[test]
    fn binding_by_presence() {
        let op = op_with_echoes();
        assert_eq!(
            op.binding(reply(&[("always", "A"), ("answers", "B"), ("maybe", "C")])),
            Binding::Bound
        );
        assert_eq!(
            op.binding(reply(&[("always", "A"), ("answers", "B")])),
            Binding::Bound,
            "an unconfirmed echo may be absent"
        );
        assert_eq!(
            op.binding(reply(&[("always", "A"), ("answers", "B"), ("maybe", "")])),
            Binding::Bound,
            "empty counts as absent"
        );
        assert_eq!(
            op.binding(reply(&[("answers", "B")])),
            Binding::Missing {
                field: "always",
                refusals_may_omit: false
            }
        );
        assert_eq!(
            op.binding(reply(&[("always", "A")])),
            Binding::Missing {
                field: "answers",
                refusals_may_omit: true
            }
        );
        assert_eq!(
            op.binding(reply(&[("always", "A"), ("answers", "B"), ("maybe", "X")])),
            Binding::Mismatch {
                field: "maybe",
                expected: "C".into(),
                found: "X".into()
            }
        );
        assert_eq!(
            op.binding(reply(&[("always", "Z"), ("answers", "B")])),
            Binding::Mismatch {
                field: "always",
                expected: "A".into(),
                found: "Z".into()
            }
        );
        assert_eq!(
            Operation::get("p", "o", "http://x/").binding(|_| None::<&str>),
            Binding::Bound
        );
        let echoes: Vec<(&str, &str, Presence)> = op
            .echoes()
            .iter()
            .map(|e| (e.field(), e.value(), e.presence()))
            .collect();
        assert_eq!(
            echoes,
            [
                ("always", "A", Presence::Always),
                ("answers", "B", Presence::InAnswers),
                ("maybe", "C", Presence::IfPresent)
            ]
        );
    }

    #[test]
    fn what_a_binding_does_to_answers_and_refusals() {
        let refusal = || Error::api(crate::ApiError::new("X", "no"));
        assert!(Binding::Bound.require().is_ok());
        for missing in [true, false] {
            let b = Binding::Missing {
                field: "f",
                refusals_may_omit: missing,
            };
            let err = b.clone().require().unwrap_err();
            assert!(matches!(err.kind(), ErrorKind::Signature { .. }));
            let judged = b.judge_refusal(refusal());
            assert_eq!(judged.api_code(), Some("X"), "a refusal stays a refusal");
            assert_eq!(judged.unverified_reason().is_some(), !missing);
        }
        let mismatch = Binding::Mismatch {
            field: "f",
            expected: "1".into(),
            found: "2".into(),
        };
        let judged = mismatch.clone().judge_refusal(refusal());
        assert!(
            matches!(judged.kind(), ErrorKind::Signature { .. }),
            "{judged:?}"
        );
        assert!(judged.to_string().contains("f 2, not 1"), "{judged}");
        assert!(mismatch.require().is_err());
        let bound = Binding::Bound.judge_refusal(refusal());
        assert_eq!(bound.unverified_reason(), None);
    }

    #[test]
    fn alternates_are_tried_in_order() {
        let op = Operation::get("p", "o", "http://main/x").alternate_url("http://backup/x");
        assert_eq!(op.url(), "http://main/x");
        assert_eq!(op.alternate_urls(), ["http://backup/x"]);
        assert_eq!(op.request_to(1).unwrap().uri(), "http://backup/x");
        assert_eq!(op.to_request().unwrap().uri(), "http://main/x");
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
