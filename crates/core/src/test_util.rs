//! Test helpers (feature `test-util`):
//!
//! - [`MockTransport`] records every request and replays canned replies, so that code built
//!   on a tixpay client can be unit-tested without a network.
//! - [`fixed_clock_client`]: an [`HttpClient`](crate::HttpClient) that reads a fixed time and
//!   never really sleeps, so retries and timestamps do not depend on the machine.
//! - For wiremock tests: [`exact_header`], a matcher on one header's whole value, and
//!   [`mock_server`], a server that answers any request no mock expects with a 500 naming it
//!   and fails the test when dropped.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::StatusCode;

use crate::transport::{BoxFuture, Transport, TransportError, TransportErrorKind};

/// One canned reply.
#[derive(Debug)]
#[non_exhaustive]
pub enum MockReply {
    /// A response.
    Response(http::Response<Bytes>),
    /// A transport failure of this kind.
    Error(TransportErrorKind),
}

impl MockReply {
    /// A response with `status`, the given headers and body.
    pub fn response(status: u16, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Self {
        let mut builder = http::Response::builder()
            .status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        match builder.body(body.into()) {
            Ok(r) => Self::Response(r),
            Err(_) => Self::Error(TransportErrorKind::Other),
        }
    }
}

/// A [`Transport`] that answers from a queue and records what it was sent.
///
/// When the queue is empty it answers 500 with a body naming the unexpected request, so a
/// test that sends more than it planned fails loudly.
///
/// ```
/// use std::sync::Arc;
/// use tixpay_core::test_util::{MockReply, MockTransport};
/// use tixpay_core::{HttpClient, NoAuth, Operation};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let mock = MockTransport::new();
/// mock.push(MockReply::response(200, &[], "ok"));
/// let client = HttpClient::builder().transport(Arc::new(mock.clone())).build()?;
/// let reply = client.execute(&Operation::get("demo", "ping", "http://demo.invalid/ping"), &NoAuth).await?;
/// assert_eq!(reply.body().as_ref(), b"ok");
/// assert_eq!(mock.requests()[0].uri(), "http://demo.invalid/ping");
/// # Ok::<(), tixpay_core::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct MockTransport {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    replies: VecDeque<MockReply>,
    requests: Vec<http::Request<Bytes>>,
}

impl MockTransport {
    /// An empty mock.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a reply.
    pub fn push(&self, reply: MockReply) -> &Self {
        self.state().replies.push_back(reply);
        self
    }

    /// Every request sent so far, in order.
    pub fn requests(&self) -> Vec<http::Request<Bytes>> {
        self.state()
            .requests
            .iter()
            .map(|r| {
                let mut copy = http::Request::new(r.body().clone());
                *copy.method_mut() = r.method().clone();
                *copy.uri_mut() = r.uri().clone();
                *copy.headers_mut() = r.headers().clone();
                copy
            })
            .collect()
    }

    /// How many requests were sent.
    pub fn request_count(&self) -> usize {
        self.state().requests.len()
    }

    /// How many queued replies were not used.
    pub fn remaining(&self) -> usize {
        self.state().replies.len()
    }
}

impl Transport for MockTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        let description = format!("{} {}", request.method(), request.uri());
        let reply = {
            let mut state = self.state();
            state.requests.push(request);
            state.replies.pop_front()
        };
        Box::pin(async move {
            // A real transport always waits for the network; yielding here does the same, so
            // that a timeout around a call can fire even if a retry loop never ends.
            tokio::task::yield_now().await;
            match reply {
                Some(MockReply::Response(r)) => Ok(r),
                Some(MockReply::Error(kind)) => Err(TransportError::new(kind)),
                None => {
                    let mut r = http::Response::new(Bytes::from(format!(
                        "MockTransport: no reply queued for {description}"
                    )));
                    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    Ok(r)
                }
            }
        })
    }
}

/// An [`HttpClient`](crate::HttpClient) for tests: its clock is fixed at `now` (Unix
/// seconds), its backoffs are recorded in `sleep` instead of waited, and an attempt may take
/// 10 s (generous, for a busy machine; a loopback reply takes milliseconds).
///
/// ```
/// use tixpay_core::retry::InstantSleep;
/// let sleep = InstantSleep::default();
/// let client = tixpay_core::test_util::fixed_clock_client(1_700_000_000, &sleep)?;
/// assert_eq!(client.retry_policy().attempts(), 3);
/// # Ok::<(), tixpay_core::Error>(())
/// ```
pub fn fixed_clock_client(
    now: i64,
    sleep: &crate::retry::InstantSleep,
) -> Result<crate::HttpClient, crate::Error> {
    crate::HttpClient::builder()
        .clock(Arc::new(crate::FixedClock::from_seconds(now)))
        .sleep(Arc::new(sleep.clone()))
        .attempt_timeout(std::time::Duration::from_secs(10))
        .build()
}

/// A wiremock matcher on one header's whole raw value, present exactly once. (wiremock's own
/// `header` matcher splits values on commas, and an RFC 1123 date or a signature list
/// contains one.) Made by [`exact_header`].
#[derive(Debug, Clone)]
pub struct ExactHeader {
    name: String,
    value: String,
}

/// Matches requests whose `name` header is sent once, with exactly `value`.
///
/// ```
/// use tixpay_core::test_util::exact_header;
/// let _matcher = exact_header("Date", "Wed, 06 May 2015 10:34:20 GMT");
/// ```
pub fn exact_header(name: impl Into<String>, value: impl Into<String>) -> ExactHeader {
    ExactHeader {
        name: name.into(),
        value: value.into(),
    }
}

impl wiremock::Match for ExactHeader {
    fn matches(&self, request: &wiremock::Request) -> bool {
        let mut values = request.headers.get_all(self.name.as_str()).iter();
        match (values.next(), values.next()) {
            (Some(only), None) => only.as_bytes() == self.value.as_bytes(),
            _ => false,
        }
    }
}

/// Answers an unexpected request with a 500 whose body names it.
struct NameTheRequest;

impl wiremock::Respond for NameTheRequest {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let body = String::from_utf8_lossy(&request.body);
        wiremock::ResponseTemplate::new(500).set_body_string(format!(
            "no mock expects {} {}: {}",
            request.method,
            request.url,
            body.chars().take(500).collect::<String>()
        ))
    }
}

/// A wiremock server with a catch-all mock below every other: a request that no mock of the
/// test matches is answered 500 with a body naming it (`no mock expects POST /path?…: body`),
/// and the server fails the test when it is dropped. (A bare `MockServer` answers 404, which
/// a client may read as a provider's reply.)
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let server = tixpay_core::test_util::mock_server().await;
/// // Mount the mocks the test expects; anything else fails it.
/// # });
/// ```
pub async fn mock_server() -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(NameTheRequest)
        .with_priority(u8::MAX)
        .expect(0)
        .named("catch-all: a request no mock of the test expects")
        .mount(&server)
        .await;
    server
}

/// A [`NonceSource`](crate::NonceSource) that always fails as the operating system's CSPRNG
/// would ([`ErrorKind::Crypto`](crate::ErrorKind::Crypto)): for testing that a call stops,
/// unsent, when no nonce can be drawn.
///
/// ```
/// use tixpay_core::NonceSource;
/// use tixpay_core::test_util::FailingNonce;
/// let err = FailingNonce.nonce(32).unwrap_err();
/// assert!(!err.may_have_been_sent());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct FailingNonce;

impl crate::NonceSource for FailingNonce {
    fn nonce(&self, _len: usize) -> Result<String, crate::Error> {
        Err(crate::Error::new(crate::ErrorKind::Crypto {
            message: "the operating system's random number generator failed".into(),
        }))
    }
}

/// Panics unless every Rust example in `readme` names no tixpay crate other than
/// `crate_name` (`"tixpay_leshua"`): what a user with only that crate in `Cargo.toml`
/// can compile. Provider crates call it on their README, whose examples are also doctests.
///
/// ```
/// tixpay_core::test_util::assert_readme_stands_alone(
///     "```rust\nuse tixpay_leshua::Fen;\n```\n```toml\ntixpay-core = \"0.1\"\n```\n",
///     "tixpay_leshua",
/// );
/// ```
pub fn assert_readme_stands_alone(readme: &str, crate_name: &str) {
    let mut in_rust = false;
    let mut in_block = false;
    for (number, line) in readme.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            if in_block {
                in_block = false;
                in_rust = false;
            } else {
                in_block = true;
                let lang = info.split(',').next().unwrap_or("").trim();
                in_rust = lang.is_empty() || lang == "rust" || lang.starts_with("rust");
            }
            continue;
        }
        if !in_rust {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("tixpay_") {
            let tail = rest.get(at..).unwrap_or("");
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            let name = tail.get(..end).unwrap_or(tail);
            assert!(
                name == crate_name,
                "README line {}: `{name}` is not a dependency of a user of {crate_name} alone: {line}",
                number + 1
            );
            rest = tail.get(end..).unwrap_or("");
        }
    }
}

/// Panics unless `value` survives storage as JSON unchanged: what a user storing replies
/// and notifications relies on.
///
/// ```
/// tixpay_core::test_util::assert_stores_as_json(&tixpay_core::Fen::new(2500));
/// ```
#[allow(clippy::panic)] // an assertion for tests: panicking is how it reports
pub fn assert_stores_as_json<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let stored = match serde_json::to_string(value) {
        Ok(stored) => stored,
        Err(e) => panic!("{value:?} does not serialize: {e}"),
    };
    match serde_json::from_str::<T>(&stored) {
        Ok(back) => assert_eq!(&back, value, "stored as {stored}"),
        Err(e) => panic!("{stored} does not read back: {e}"),
    }
}

#[cfg(test)]
mod readme_tests {
    use super::assert_readme_stands_alone;

    #[test]
    #[should_panic(expected = "line 2: `tixpay_core`")]
    fn another_tixpay_crate_in_an_example_is_refused() {
        assert_readme_stands_alone("```\nuse tixpay_core::Fen;\n```\n", "tixpay_leshua");
    }

    #[test]
    #[should_panic(expected = "`tixpay_core`")]
    fn labelled_rust_blocks_are_checked() {
        assert_readme_stands_alone(
            "text\n```rust,no_run\nlet e: tixpay_core::Error;\n```\n",
            "tixpay_lianhe",
        );
    }

    #[test]
    fn other_languages_and_prose_are_not_examples() {
        assert_readme_stands_alone(
            "`tixpay_core::Error` in prose\n```toml\ntixpay_core = 1\n```\n```rust\nuse tixpay_lianhe::Fen;\n```\n",
            "tixpay_lianhe",
        );
    }
}
