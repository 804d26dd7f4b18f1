//! Shared machinery of the provider simulators (feature `sandbox`).
//!
//! - [`SandboxServer`] runs a [`SandboxHandler`] on a loopback port (wiremock underneath).
//!   Handlers are plain functions from [`SandboxRequest`] to [`SandboxResponse`], so a
//!   simulator's rules can be unit-tested without a socket.
//! - [`Shared`] is the simulator's state, shared between the server and test hooks.
//! - [`WebhookDispatcher`] delivers notifications to a URL on the provider's own
//!   [`RetrySchedule`], with time compressed by a factor so that a 24-hour schedule runs in
//!   seconds, until the receiver gives the expected answer.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

use crate::error::Error;
use crate::transport::{ReqwestTransport, Transport};

/// A request as the simulator sees it.
#[derive(Debug, Clone)]
pub struct SandboxRequest {
    /// The method.
    pub method: Method,
    /// The path, as received (percent-encoding kept).
    pub path: String,
    /// The query string without `?`, as received, if any.
    pub query: Option<String>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Bytes,
    /// The `host[:port]` the client addressed (its `Host` header).
    pub host: String,
}

impl SandboxRequest {
    /// Path and query as sent on the request line (`/v3/x?a=1`).
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    /// A header's value as text; `None` if absent or not visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of a query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| {
                percent_encoding::percent_decode_str(&v.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            })
        })
    }

    fn from_wiremock(r: &wiremock::Request) -> Self {
        let host = match r
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
        {
            Some(h) => h.to_owned(),
            None => match (r.url.host_str(), r.url.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_owned(),
                _ => String::new(),
            },
        };
        Self {
            method: r.method.clone(),
            path: r.url.path().to_owned(),
            query: r.url.query().map(str::to_owned),
            headers: r.headers.clone(),
            body: Bytes::from(r.body.clone()),
            host,
        }
    }
}

/// A simulator's reply.
#[derive(Debug, Clone)]
pub struct SandboxResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
    /// How long to wait before answering (to provoke client timeouts).
    pub delay: Option<Duration>,
}

impl SandboxResponse {
    /// An empty reply with `status`.
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            delay: None,
        }
    }

    /// A `text/plain; charset=utf-8` reply.
    pub fn text(status: StatusCode, body: impl Into<String>) -> Self {
        Self::new(status)
            .header("content-type", "text/plain; charset=utf-8")
            .body(body.into())
    }

    /// An `application/json` reply.
    pub fn json(status: StatusCode, value: &serde_json::Value) -> Self {
        Self::new(status)
            .header("content-type", "application/json; charset=utf-8")
            .body(value.to_string())
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Delays the reply.
    #[must_use]
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// A simulator: answers each request from its state.
pub trait SandboxHandler: Send + Sync + 'static {
    /// The reply to `request`.
    fn handle(&self, request: &SandboxRequest) -> SandboxResponse;
}

impl<F> SandboxHandler for F
where
    F: Fn(&SandboxRequest) -> SandboxResponse + Send + Sync + 'static,
{
    fn handle(&self, request: &SandboxRequest) -> SandboxResponse {
        self(request)
    }
}

struct Responder<H>(Arc<H>);

impl<H: SandboxHandler> wiremock::Respond for Responder<H> {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let reply = self.0.handle(&SandboxRequest::from_wiremock(request));
        let mut template = wiremock::ResponseTemplate::new(reply.status.as_u16());
        for (name, value) in reply.headers {
            template = template.append_header(name.as_str(), value.as_str());
        }
        template = template.set_body_bytes(reply.body.to_vec());
        if let Some(delay) = reply.delay {
            template = template.set_delay(delay);
        }
        template
    }
}

/// A simulator listening on a loopback port, stopped when dropped.
///
/// ```
/// use tixpay_core::sandbox::{SandboxRequest, SandboxResponse, SandboxServer};
/// use http::StatusCode;
///
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let server = SandboxServer::start(|req: &SandboxRequest| {
///     SandboxResponse::text(StatusCode::OK, format!("you asked for {}", req.path))
/// })
/// .await;
/// assert!(server.uri().starts_with("http://127.0.0.1:"));
/// # });
/// ```
pub struct SandboxServer {
    server: wiremock::MockServer,
}

impl fmt::Debug for SandboxServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxServer")
            .field("uri", &self.server.uri())
            .finish()
    }
}

impl SandboxServer {
    /// Starts `handler` on a free loopback port.
    pub async fn start<H: SandboxHandler>(handler: H) -> Self {
        Self::start_shared(Arc::new(handler)).await
    }

    /// Starts a handler that the caller keeps a handle on.
    pub async fn start_shared<H: SandboxHandler>(handler: Arc<H>) -> Self {
        let server = wiremock::MockServer::builder().start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(Responder(handler))
            .named("tixpay sandbox")
            .mount(&server)
            .await;
        Self { server }
    }

    /// The base URL, `http://127.0.0.1:<port>`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The socket address.
    pub fn address(&self) -> std::net::SocketAddr {
        *self.server.address()
    }

    /// Every request received so far.
    pub async fn received_requests(&self) -> Vec<SandboxRequest> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(SandboxRequest::from_wiremock)
            .collect()
    }
}

/// A simulator's state, shared between the server and the test's hooks. Cheap to clone.
///
/// A panic while the lock is held does not poison it for later callers.
#[derive(Debug, Default)]
pub struct Shared<S>(Arc<Mutex<S>>);

impl<S> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S> Shared<S> {
    /// Wraps a state.
    pub fn new(state: S) -> Self {
        Self(Arc::new(Mutex::new(state)))
    }

    /// Locks the state.
    pub fn lock(&self) -> MutexGuard<'_, S> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with the state locked.
    pub fn with<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        f(&mut self.lock())
    }
}

/// When a notification is (re)sent: the delay before each attempt, the first included.
///
/// ```
/// use std::time::Duration;
/// use tixpay_core::sandbox::RetrySchedule;
///
/// // At once, then ten retries after 3, 6, 12 … minutes.
/// let s = RetrySchedule::doubling(Duration::from_secs(180), 10);
/// assert_eq!(s.attempts(), 11);
/// assert_eq!(s.delays()[1], Duration::from_secs(180));
/// assert_eq!(s.delays()[3], Duration::from_secs(720));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl RetrySchedule {
    /// Attempts after exactly these delays (each measured from the previous attempt).
    pub fn new(delays: Vec<Duration>) -> Self {
        Self { delays }
    }

    /// One immediate attempt, then `retries` retries after `first`, `2·first`, `4·first`, …
    pub fn doubling(first: Duration, retries: u32) -> Self {
        let mut delays = vec![Duration::ZERO];
        let mut next = first;
        for _ in 0..retries {
            delays.push(next);
            next = next.saturating_mul(2);
        }
        Self { delays }
    }

    /// One immediate attempt, then retries after each of `gaps`.
    pub fn immediate_then(gaps: &[Duration]) -> Self {
        let mut delays = vec![Duration::ZERO];
        delays.extend_from_slice(gaps);
        Self { delays }
    }

    /// The delays.
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// How many attempts at most.
    pub fn attempts(&self) -> usize {
        self.delays.len()
    }

    /// The whole schedule's length in simulated time.
    pub fn total(&self) -> Duration {
        self.delays.iter().sum()
    }
}

/// Builds the request for attempt `n` (1-based), so that signatures with timestamps are fresh.
pub type RequestFactory = Arc<dyn Fn(u32) -> Result<http::Request<Bytes>, Error> + Send + Sync>;

/// Whether a receiver's reply means "got it" (Lianhe `success`, LeShua `000000`, WeChat 2xx).
pub type AcceptReply = fn(StatusCode, &[u8]) -> bool;

/// One notification to deliver.
#[derive(Clone)]
pub struct Webhook {
    /// An id for logs and reports (the event's de-duplication key, typically).
    pub id: String,
    /// Builds each attempt's request.
    pub request: RequestFactory,
    /// Decides whether a reply ends the deliveries.
    pub accept: AcceptReply,
    /// When to try.
    pub schedule: RetrySchedule,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("schedule", &self.schedule)
            .finish()
    }
}

/// One delivery attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// The webhook's id.
    pub id: String,
    /// 1-based attempt number.
    pub attempt: u32,
    /// Simulated time since the webhook was dispatched (the first delay included).
    pub simulated_at: Duration,
    /// The receiver's status, if it answered.
    pub status: Option<u16>,
    /// Why the attempt failed to get an answer, if it did.
    pub error: Option<String>,
    /// Whether the reply was accepted as "got it".
    pub accepted: bool,
}

/// The outcome of one webhook's deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The webhook's id.
    pub id: String,
    /// Every attempt made.
    pub attempts: Vec<DeliveryAttempt>,
    /// Whether an attempt was accepted.
    pub delivered: bool,
}

/// A running delivery.
#[derive(Debug)]
pub struct DeliveryHandle {
    join: tokio::task::JoinHandle<DeliveryReport>,
    id: String,
}

impl DeliveryHandle {
    /// Waits for the deliveries to end (accepted or schedule exhausted).
    pub async fn finish(self) -> DeliveryReport {
        match self.join.await {
            Ok(report) => report,
            Err(e) => DeliveryReport {
                attempts: vec![DeliveryAttempt {
                    id: self.id.clone(),
                    attempt: 0,
                    simulated_at: Duration::ZERO,
                    status: None,
                    error: Some(format!("delivery task failed: {e}")),
                    accepted: false,
                }],
                id: self.id,
                delivered: false,
            },
        }
    }
}

/// Delivers notifications on a schedule with compressed time. Cheap to clone.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use bytes::Bytes;
/// use tixpay_core::sandbox::{RetrySchedule, Webhook, WebhookDispatcher};
///
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// // 24 hours of schedule, compressed a million times: about 86 ms.
/// let dispatcher = WebhookDispatcher::new(1_000_000.0)?;
/// let hook = Webhook {
///     id: "evt-1".into(),
///     request: Arc::new(|_attempt| {
///         Ok(http::Request::post("http://127.0.0.1:9/never").body(Bytes::new()).unwrap())
///     }),
///     accept: |status, _body| status.is_success(),
///     schedule: RetrySchedule::immediate_then(&[Duration::from_secs(43_200); 2]),
/// };
/// let report = dispatcher.deliver(hook).finish().await;
/// assert_eq!(report.attempts.len(), 3);
/// assert!(!report.delivered);
/// # Ok::<(), tixpay_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct WebhookDispatcher {
    transport: Arc<dyn Transport>,
    compression: f64,
    log: Arc<Mutex<Vec<DeliveryAttempt>>>,
    pending: Arc<Mutex<Vec<DeliveryHandle>>>,
}

impl fmt::Debug for WebhookDispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookDispatcher")
            .field("compression", &self.compression)
            .finish()
    }
}

impl WebhookDispatcher {
    /// A dispatcher whose simulated time runs `compression` times faster than real time
    /// (`1.0` for real time). Values below 1 are treated as 1.
    pub fn new(compression: f64) -> Result<Self, Error> {
        let transport = ReqwestTransport::builder()
            .connect_timeout(Duration::from_secs(2))
            .build()?;
        Ok(Self::with_transport(Arc::new(transport), compression))
    }

    /// A dispatcher sending through `transport`.
    pub fn with_transport(transport: Arc<dyn Transport>, compression: f64) -> Self {
        Self {
            transport,
            compression: if compression.is_finite() && compression >= 1.0 {
                compression
            } else {
                1.0
            },
            log: Arc::new(Mutex::new(Vec::new())),
            pending: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The real time a simulated delay takes.
    pub fn real_delay(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.compression)
    }

    /// Every attempt of every webhook so far, in the order they happened.
    pub fn attempts(&self) -> Vec<DeliveryAttempt> {
        self.log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Starts delivering `webhook` in the background.
    pub fn deliver(&self, webhook: Webhook) -> DeliveryHandle {
        let id = webhook.id.clone();
        let this = self.clone();
        let join = tokio::spawn(async move { this.run(webhook).await });
        DeliveryHandle { join, id }
    }

    /// Starts delivering `webhook` in the background and keeps its handle for
    /// [`WebhookDispatcher::settle`].
    pub fn dispatch(&self, webhook: Webhook) {
        let handle = self.deliver(webhook);
        match self.pending.lock() {
            Ok(mut p) => p.push(handle),
            Err(e) => e.into_inner().push(handle),
        }
    }

    /// Waits until every webhook started with [`WebhookDispatcher::dispatch`] so far was
    /// accepted or gave up; returns their reports in the order they were dispatched.
    pub async fn settle(&self) -> Vec<DeliveryReport> {
        let handles: Vec<DeliveryHandle> = match self.pending.lock() {
            Ok(mut p) => p.drain(..).collect(),
            Err(e) => e.into_inner().drain(..).collect(),
        };
        let mut reports = Vec::with_capacity(handles.len());
        for handle in handles {
            reports.push(handle.finish().await);
        }
        reports
    }

    async fn run(&self, webhook: Webhook) -> DeliveryReport {
        let mut attempts = Vec::new();
        let mut simulated = Duration::ZERO;
        let mut delivered = false;
        for (index, delay) in webhook.schedule.delays().iter().enumerate() {
            simulated += *delay;
            let real = self.real_delay(*delay);
            if !real.is_zero() {
                tokio::time::sleep(real).await;
            }
            let attempt = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let mut record = DeliveryAttempt {
                id: webhook.id.clone(),
                attempt,
                simulated_at: simulated,
                status: None,
                error: None,
                accepted: false,
            };
            match (webhook.request)(attempt) {
                Err(e) => record.error = Some(e.to_string()),
                Ok(request) => {
                    let sent =
                        tokio::time::timeout(Duration::from_secs(10), self.transport.send(request))
                            .await;
                    match sent {
                        Ok(Ok(reply)) => {
                            record.status = Some(reply.status().as_u16());
                            record.accepted = (webhook.accept)(reply.status(), reply.body());
                        }
                        Ok(Err(e)) => record.error = Some(e.to_string()),
                        Err(_) => record.error = Some("receiver did not answer in 10 s".into()),
                    }
                }
            }
            tracing::debug!(id = %record.id, attempt, accepted = record.accepted, "webhook attempt");
            match self.log.lock() {
                Ok(mut log) => log.push(record.clone()),
                Err(e) => e.into_inner().push(record.clone()),
            }
            let accepted = record.accepted;
            attempts.push(record);
            if accepted {
                delivered = true;
                break;
            }
        }
        DeliveryReport {
            id: webhook.id,
            attempts,
            delivered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        let s = RetrySchedule::doubling(Duration::from_secs(180), 3);
        assert_eq!(
            s.delays(),
            &[
                Duration::ZERO,
                Duration::from_secs(180),
                Duration::from_secs(360),
                Duration::from_secs(720)
            ]
        );
        assert_eq!(s.total(), Duration::from_secs(1260));
        let s = RetrySchedule::new(vec![Duration::from_secs(1)]);
        assert_eq!(s.attempts(), 1);
    }

    #[test]
    fn query_param_decodes() {
        let r = SandboxRequest {
            method: Method::GET,
            path: "/v3/x".into(),
            query: Some("a=1&out_order_no=A%2FB&b=x+y&flag".into()),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            host: "127.0.0.1:1".into(),
        };
        assert_eq!(r.query_param("out_order_no").as_deref(), Some("A/B"));
        assert_eq!(r.query_param("b").as_deref(), Some("x y"));
        assert_eq!(r.query_param("flag").as_deref(), Some(""));
        assert_eq!(r.query_param("zzz"), None);
        assert_eq!(
            r.path_and_query(),
            "/v3/x?a=1&out_order_no=A%2FB&b=x+y&flag"
        );
    }

    #[test]
    fn compression_floor() {
        let d = WebhookDispatcher::new(0.5).map(|d| d.real_delay(Duration::from_secs(2)));
        assert_eq!(d.ok(), Some(Duration::from_secs(2)));
        let d = WebhookDispatcher::new(f64::NAN).map(|d| d.real_delay(Duration::from_secs(2)));
        assert_eq!(d.ok(), Some(Duration::from_secs(2)));
        let d = WebhookDispatcher::new(1000.0).map(|d| d.real_delay(Duration::from_secs(2)));
        assert_eq!(d.ok(), Some(Duration::from_millis(2)));
    }
}
