//! The HttpClient against real loopback servers and a scripted transport: retries by
//! idempotency, the provider's verdicts (accept, reject, sign again), failover, Retry-After,
//! timeouts, the response-size cap. Every test that retries is bounded by a timeout, so a
//! retry loop that stops counting fails instead of hanging.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tixpay_core::retry::InstantSleep;
use tixpay_core::test_util::{MockReply, MockTransport};
use tixpay_core::transport::BoxFuture;
use tixpay_core::transport::{ReqwestTransport, TransportErrorKind};
use tixpay_core::{
    ApiError, Authenticate, Error, ErrorKind, FixedClock, HttpClient, Idempotency, NoAuth,
    Operation, Reply, RetryPolicy, TimeoutPhase, Verdict,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(sleep: &InstantSleep, attempts: u32) -> HttpClient {
    HttpClient::builder()
        .retry_policy(RetryPolicy::default().max_attempts(attempts))
        .attempt_timeout(Duration::from_millis(500))
        .sleep(Arc::new(sleep.clone()))
        .build()
        .unwrap()
}

fn post(server: &MockServer, idempotency: Idempotency) -> Operation {
    Operation::post("test", "refund", format!("{}/refund", server.uri()))
        .header("content-type", "application/json")
        .unwrap()
        .body(r#"{"merchant_refund_id":"R1","amount":100}"#)
        .idempotency(idempotency)
}

async fn hits(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

/// Fails the test (rather than hanging it) if `fut` does not finish in 10 s: every call here
/// takes well under a second, and a retry loop that never ends must fail the test quickly.
async fn bounded<F: std::future::Future>(fut: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .expect("the call did not finish: a retry loop that never ends?")
}

fn scripted(mock: &MockTransport, policy: RetryPolicy) -> HttpClient {
    HttpClient::builder()
        .transport(Arc::new(mock.clone()))
        .sleep(Arc::new(InstantSleep::default()))
        .retry_policy(policy)
        .build()
        .unwrap()
}

#[tokio::test]
async fn unsafe_post_is_sent_once_on_503() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let sleep = InstantSleep::default();
    let err = bounded(client(&sleep, 5).execute(&post(&server, Idempotency::Unsafe), &NoAuth))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Http { status, .. } if status.as_u16() == 503));
    assert!(err.is_outcome_unknown());
    assert_eq!(hits(&server).await, 1);
    assert!(sleep.slept().is_empty());
}

#[tokio::test]
async fn unsafe_post_is_sent_once_on_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let sleep = InstantSleep::default();
    let err = bounded(client(&sleep, 5).execute(&post(&server, Idempotency::Unsafe), &NoAuth))
        .await
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::Timeout {
            phase: TimeoutPhase::Attempt,
            may_have_been_sent: true
        }
    ));
    assert!(err.is_outcome_unknown());
    assert_eq!(err.provider(), Some("test"));
    assert_eq!(err.operation(), Some("refund"));
    assert_eq!(hits(&server).await, 1);
}

#[tokio::test]
async fn safe_call_is_retried_on_503_and_stops_at_max_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .mount(&server)
        .await;
    let sleep = InstantSleep::default();
    let op = Operation::get("test", "query", format!("{}/q", server.uri()));
    let err = bounded(client(&sleep, 4).execute(&op, &NoAuth))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Http { status, body_excerpt, .. } if status.as_u16() == 503 && body_excerpt == "busy"),
        "{err:?}"
    );
    assert_eq!(hits(&server).await, 4);
    assert_eq!(sleep.slept().len(), 3);
}

#[tokio::test]
async fn safe_call_recovers_after_503() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let sleep = InstantSleep::default();
    let op = Operation::get("test", "query", format!("{}/q", server.uri()));
    let reply = bounded(client(&sleep, 5).execute(&op, &NoAuth))
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(hits(&server).await, 3);
}

#[tokio::test]
async fn safe_call_is_retried_after_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("late but fine"))
        .mount(&server)
        .await;
    let sleep = InstantSleep::default();
    let op = Operation::get("test", "query", format!("{}/q", server.uri()));
    let reply = bounded(client(&sleep, 3).execute(&op, &NoAuth))
        .await
        .unwrap();
    assert_eq!(reply.body().as_ref(), b"late but fine");
    assert_eq!(hits(&server).await, 2);
}

#[tokio::test]
async fn keyed_post_resends_identical_bytes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let sleep = InstantSleep::default();
    let reply = bounded(
        client(&sleep, 3).execute(&post(&server, Idempotency::Keyed("R1".into())), &NoAuth),
    )
    .await
    .unwrap();
    assert_eq!(reply.status(), 200);
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    for r in &received {
        assert_eq!(r.body, received[0].body);
        assert!(String::from_utf8_lossy(&r.body).contains(r#""merchant_refund_id":"R1""#));
    }
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let sleep = InstantSleep::default();
    let op = Operation::get("test", "query", format!("{}/q", server.uri()));
    let reply = bounded(client(&sleep, 3).execute(&op, &NoAuth))
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(sleep.slept(), vec![Duration::from_secs(7)]);
}

#[tokio::test]
async fn retry_after_http_date_uses_the_clock() {
    let mock = MockTransport::new();
    mock.push(MockReply::response(
        503,
        &[("retry-after", "Wed, 06 May 2015 10:34:25 GMT")],
        "",
    ));
    mock.push(MockReply::response(200, &[], ""));
    let sleep = InstantSleep::default();
    let client = HttpClient::builder()
        .transport(Arc::new(mock.clone()))
        .sleep(Arc::new(sleep.clone()))
        .clock(Arc::new(FixedClock::from_seconds(1_430_908_460)))
        .retry_policy(RetryPolicy::default().initial_backoff(Duration::from_millis(1)))
        .build()
        .unwrap();
    let op = Operation::get("test", "query", "http://x.invalid/q");
    bounded(client.execute(&op, &NoAuth)).await.unwrap();
    assert_eq!(sleep.slept(), vec![Duration::from_secs(5)]);
}

#[tokio::test]
async fn retry_after_exactly_at_the_limit_is_honoured() {
    for (retry_after, retried) in [("30", true), ("31", false)] {
        let mock = MockTransport::new();
        mock.push(MockReply::response(
            503,
            &[("retry-after", retry_after)],
            "",
        ));
        mock.push(MockReply::response(200, &[], ""));
        let sleep = InstantSleep::default();
        let client = HttpClient::builder()
            .transport(Arc::new(mock.clone()))
            .sleep(Arc::new(sleep.clone()))
            .retry_policy(
                RetryPolicy::default()
                    .initial_backoff(Duration::from_millis(1))
                    .max_retry_after(Duration::from_secs(30)),
            )
            .build()
            .unwrap();
        let op = Operation::get("test", "query", "http://x.invalid/q");
        let result = bounded(client.execute(&op, &NoAuth)).await;
        assert_eq!(result.is_ok(), retried, "Retry-After {retry_after}");
        assert_eq!(mock.request_count(), if retried { 2 } else { 1 });
        if retried {
            assert_eq!(sleep.slept(), vec![Duration::from_secs(30)]);
        }
    }
}

#[tokio::test]
async fn retry_after_beyond_the_limit_returns_the_reply() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "3600"))
        .mount(&server)
        .await;
    let sleep = InstantSleep::default();
    let op = Operation::get("test", "query", format!("{}/q", server.uri()));
    let err = bounded(client(&sleep, 3).execute(&op, &NoAuth))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Http { status, .. } if status.as_u16() == 503));
    assert_eq!(hits(&server).await, 1);
}

/// A port with nothing listening: bind, note the port, drop the listener.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/x")
}

#[tokio::test]
async fn connection_refused_is_retried_for_every_kind() {
    for idempotency in [
        Idempotency::Safe,
        Idempotency::Keyed("K".into()),
        Idempotency::Unsafe,
    ] {
        let sleep = InstantSleep::default();
        let op = Operation::post("test", "pay", closed_port_url()).idempotency(idempotency.clone());
        let err = bounded(client(&sleep, 3).execute(&op, &NoAuth))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::Transport {
                    may_have_been_sent: false
                }
            ),
            "{idempotency:?}: {err:?}"
        );
        assert!(!err.may_have_been_sent());
        assert_eq!(sleep.slept().len(), 2, "{idempotency:?}");
    }
}

#[tokio::test]
async fn refused_then_served_counts_every_attempt() {
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Connect));
    mock.push(MockReply::Error(TransportErrorKind::ConnectTimeout));
    mock.push(MockReply::response(200, &[], "paid"));
    let sleep = InstantSleep::default();
    let client = HttpClient::builder()
        .transport(Arc::new(mock.clone()))
        .sleep(Arc::new(sleep.clone()))
        .build()
        .unwrap();
    let op = Operation::post("test", "pay", "http://x.invalid/pay").body("b");
    let reply = bounded(client.execute(&op, &NoAuth)).await.unwrap();
    assert_eq!(reply.body().as_ref(), b"paid");
    assert_eq!(mock.request_count(), 3);
}

#[tokio::test]
async fn a_later_refusal_keeps_the_earlier_maybe_sent() {
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Timeout));
    mock.push(MockReply::Error(TransportErrorKind::Connect));
    let client = HttpClient::builder()
        .transport(Arc::new(mock.clone()))
        .sleep(Arc::new(InstantSleep::default()))
        .retry_policy(RetryPolicy::default().max_attempts(2))
        .build()
        .unwrap();
    let op = Operation::get("test", "query", "http://x.invalid/q");
    let err = bounded(client.execute(&op, &NoAuth)).await.unwrap_err();
    assert!(err.may_have_been_sent());
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn a_later_connect_timeout_keeps_the_earlier_maybe_sent() {
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Timeout));
    mock.push(MockReply::Error(TransportErrorKind::ConnectTimeout));
    let client = scripted(&mock, RetryPolicy::default().max_attempts(2));
    let op = Operation::get("test", "query", "http://x.invalid/q");
    let err = bounded(client.execute(&op, &NoAuth)).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Timeout {
                may_have_been_sent: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_outcome_unknown());
    assert_eq!(mock.request_count(), 2);
}

/// A provider for the tests: the reply body decides. `BUSY` is a signed "busy, retry with the
/// same parameters" refusal; `REFUSED` a signed refusal; `UNSIGNED` an unsigned refusal;
/// `STALE` a refusal before acting with a verified new time; anything else is accepted.
/// `sign` stamps the attempt number and remembers it; `verify` checks it was handed back.
struct Scripted;

impl Authenticate for Scripted {
    type Signed = u32;
    type Output = (String, tixpay_core::Attempts);

    fn sign(&self, request: &mut http::Request<bytes::Bytes>, attempt: u32) -> Result<u32, Error> {
        request
            .headers_mut()
            .insert("x-attempt", attempt.to_string().parse().unwrap());
        Ok(attempt)
    }

    async fn verify(&self, reply: Reply<'_, u32>) -> Verdict<Self::Output> {
        assert_eq!(
            reply.signed, reply.attempts.count,
            "verify got another attempt's signature"
        );
        let body = String::from_utf8_lossy(reply.response.body()).into_owned();
        match body.as_str() {
            "BUSY" => Verdict::Reject(Error::api(ApiError::new("BUSY", "busy").retryable(true))),
            "REFUSED" => Verdict::Reject(Error::api(ApiError::new("NO", "refused"))),
            "UNSIGNED" => Verdict::Reject(
                Error::api(ApiError::new("NO", "refused")).mark_unverified("not signed"),
            ),
            "STALE" => Verdict::SignAgain(Error::api(ApiError::new("401", "stale"))),
            _ => Verdict::Accept((body, reply.attempts)),
        }
    }
}

#[tokio::test]
async fn a_busy_refusal_is_retried_for_keyed_but_not_unsafe() {
    for (idempotency, expected) in [
        (Idempotency::Safe, 2),
        (Idempotency::Keyed("K".into()), 2),
        (Idempotency::Unsafe, 1),
    ] {
        let mock = MockTransport::new();
        mock.push(MockReply::response(200, &[], "BUSY"));
        mock.push(MockReply::response(200, &[], "OK"));
        let client = scripted(&mock, RetryPolicy::default());
        let op =
            Operation::post("test", "pay", "http://x.invalid/pay").idempotency(idempotency.clone());
        let result = bounded(client.execute(&op, &Scripted)).await;
        assert_eq!(mock.request_count(), expected, "{idempotency:?}");
        assert_eq!(result.is_ok(), expected == 2, "{idempotency:?}");
        if let Err(err) = result {
            assert_eq!(err.api_code(), Some("BUSY"));
            assert!(err.is_retryable());
        }
    }
}

#[tokio::test]
async fn a_refusal_is_final_and_not_retried() {
    let mock = MockTransport::new();
    mock.push(MockReply::response(200, &[], "REFUSED"));
    let client = scripted(&mock, RetryPolicy::default().max_attempts(5));
    let op = Operation::post("test", "refund", "http://x.invalid/r")
        .idempotency(Idempotency::Keyed("R1".into()));
    let err = bounded(client.execute(&op, &Scripted)).await.unwrap_err();
    assert_eq!(err.api_code(), Some("NO"));
    assert!(
        !err.is_outcome_unknown(),
        "a verified refusal of a first attempt is an answer"
    );
    assert_eq!(mock.request_count(), 1);
    assert_eq!(err.provider(), Some("test"));
}

#[tokio::test]
async fn an_unsigned_refusal_of_a_write_is_outcome_unknown_but_of_a_read_is_not() {
    for (idempotency, unknown) in [
        (Idempotency::Unsafe, true),
        (Idempotency::Keyed("R1".into()), true),
        (Idempotency::Safe, false),
    ] {
        let mock = MockTransport::new();
        mock.push(MockReply::response(400, &[], "UNSIGNED"));
        let client = scripted(&mock, RetryPolicy::default());
        let op = Operation::post("test", "refund", "http://x.invalid/r")
            .idempotency(idempotency.clone());
        let err = bounded(client.execute(&op, &Scripted)).await.unwrap_err();
        assert_eq!(err.is_outcome_unknown(), unknown, "{idempotency:?}: {err}");
        assert_eq!(err.unverified_reason(), Some("not signed"));
        assert_eq!(mock.request_count(), 1);
    }
}

#[tokio::test]
async fn a_refusal_after_a_maybe_sent_attempt_settles_nothing() {
    // Attempt 1 timed out (the refund may have gone through); attempt 2 is refused, perhaps
    // *because* attempt 1 went through. The refusal answers attempt 2 only.
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Timeout));
    mock.push(MockReply::response(200, &[], "REFUSED"));
    let client = scripted(&mock, RetryPolicy::default());
    let op = Operation::post("test", "refund", "http://x.invalid/r")
        .idempotency(Idempotency::Keyed("R1".into()));
    let err = bounded(client.execute(&op, &Scripted)).await.unwrap_err();
    assert_eq!(err.api_code(), Some("NO"));
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("earlier attempt"), "{err}");
    assert_eq!(mock.request_count(), 2);

    // A connection refused before it is no such doubt.
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Connect));
    mock.push(MockReply::response(200, &[], "REFUSED"));
    let client = scripted(&mock, RetryPolicy::default());
    let err = bounded(client.execute(&op, &Scripted)).await.unwrap_err();
    assert!(!err.is_outcome_unknown(), "{err}");
}

#[tokio::test]
async fn sign_again_resends_at_once_and_only_once() {
    let mock = MockTransport::new();
    mock.push(MockReply::response(401, &[], "STALE"));
    mock.push(MockReply::response(200, &[], "OK"));
    let sleep = InstantSleep::default();
    let client = HttpClient::builder()
        .transport(Arc::new(mock.clone()))
        .sleep(Arc::new(sleep.clone()))
        .build()
        .unwrap();
    // An Unsafe write: never resent once it may have been processed, but a stale-timestamp
    // refusal means the server did nothing.
    let op = Operation::post("test", "refund", "http://x.invalid/r");
    let (body, attempts) = bounded(client.execute(&op, &Scripted)).await.unwrap();
    assert_eq!(body, "OK");
    assert_eq!(attempts.count, 2);
    assert!(
        !attempts.earlier_may_have_been_sent,
        "the stale attempt moved nothing"
    );
    assert!(sleep.slept().is_empty(), "signing again does not back off");
    let requests = mock.requests();
    assert_eq!(requests[1].headers()["x-attempt"], "2", "signed afresh");

    // A second stale answer ends the call with it.
    let mock = MockTransport::new();
    mock.push(MockReply::response(401, &[], "STALE"));
    mock.push(MockReply::response(401, &[], "STALE"));
    mock.push(MockReply::response(200, &[], "OK"));
    let client = scripted(&mock, RetryPolicy::default().max_attempts(5));
    let err = bounded(client.execute(&op, &Scripted)).await.unwrap_err();
    assert_eq!(err.api_code(), Some("401"));
    assert!(!err.is_outcome_unknown());
    assert_eq!(mock.request_count(), 2);

    // It is an attempt: with a budget of one there is no second.
    let mock = MockTransport::new();
    mock.push(MockReply::response(401, &[], "STALE"));
    let client = scripted(&mock, RetryPolicy::none());
    let err = bounded(client.execute(&op, &Scripted)).await.unwrap_err();
    assert_eq!(err.api_code(), Some("401"));
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test]
async fn a_stale_answer_after_a_maybe_sent_attempt_is_outcome_unknown() {
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Timeout));
    mock.push(MockReply::response(401, &[], "STALE"));
    let client = scripted(&mock, RetryPolicy::default().max_attempts(2));
    let op = Operation::post("test", "refund", "http://x.invalid/r")
        .idempotency(Idempotency::Keyed("R1".into()));
    let err = bounded(client.execute(&op, &Scripted)).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
}

#[tokio::test]
async fn failover_moves_to_the_backup_only_when_nothing_was_sent() {
    // Main unreachable: the backup is tried at once and answers.
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Connect));
    mock.push(MockReply::response(200, &[], "OK"));
    let sleep = InstantSleep::default();
    let client = HttpClient::builder()
        .transport(Arc::new(mock.clone()))
        .sleep(Arc::new(sleep.clone()))
        .build()
        .unwrap();
    let op = Operation::post("test", "complete", "http://main.invalid/c")
        .alternate_url("http://backup.invalid/c")
        .idempotency(Idempotency::Keyed("O1".into()));
    let (body, attempts) = bounded(client.execute(&op, &Scripted)).await.unwrap();
    assert_eq!(body, "OK");
    assert_eq!(attempts.count, 2);
    let hosts: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.uri().to_string())
        .collect();
    assert_eq!(hosts, ["http://main.invalid/c", "http://backup.invalid/c"]);
    assert!(sleep.slept().is_empty(), "failing over does not wait");
    assert_eq!(
        mock.requests()[1].headers()["x-attempt"],
        "2",
        "signed for the backup"
    );

    // Main timed out (may have been processed): a Keyed write is retried on main, never moved.
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Timeout));
    mock.push(MockReply::response(200, &[], "OK"));
    let client = scripted(&mock, RetryPolicy::default());
    bounded(client.execute(&op, &Scripted)).await.unwrap();
    let hosts: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.uri().to_string())
        .collect();
    assert_eq!(hosts, ["http://main.invalid/c", "http://main.invalid/c"]);

    // Main timed out, then refused the connection: the first attempt may have been
    // processed there, so the call never moves to the backup.
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Timeout));
    mock.push(MockReply::Error(TransportErrorKind::Connect));
    mock.push(MockReply::response(200, &[], "OK"));
    let client = scripted(&mock, RetryPolicy::default());
    bounded(client.execute(&op, &Scripted)).await.unwrap();
    let hosts: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.uri().to_string())
        .collect();
    assert_eq!(
        hosts,
        [
            "http://main.invalid/c",
            "http://main.invalid/c",
            "http://main.invalid/c"
        ]
    );

    // An Unsafe write that may have been sent is not sent again, to either host.
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Timeout));
    let client = scripted(&mock, RetryPolicy::default());
    let unsafe_op = Operation::post("test", "apply", "http://main.invalid/a")
        .alternate_url("http://backup.invalid/a");
    let err = bounded(client.execute(&unsafe_op, &Scripted))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown());
    assert_eq!(mock.request_count(), 1);

    // Both unreachable: one budget across hosts, back to main with a backoff.
    let mock = MockTransport::new();
    for _ in 0..3 {
        mock.push(MockReply::Error(TransportErrorKind::Connect));
    }
    let sleep = InstantSleep::default();
    let client = HttpClient::builder()
        .transport(Arc::new(mock.clone()))
        .sleep(Arc::new(sleep.clone()))
        .retry_policy(RetryPolicy::default().max_attempts(3))
        .build()
        .unwrap();
    let err = bounded(client.execute(&op, &Scripted)).await.unwrap_err();
    assert!(!err.may_have_been_sent());
    let hosts: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.uri().to_string())
        .collect();
    assert_eq!(
        hosts,
        [
            "http://main.invalid/c",
            "http://backup.invalid/c",
            "http://main.invalid/c"
        ]
    );
    assert_eq!(
        sleep.slept().len(),
        1,
        "a backoff only when coming back to main"
    );
}

/// A transport whose first answer takes `first_delay` (on the tokio clock).
#[derive(Debug)]
struct Slow {
    first_delay: Duration,
    calls: std::sync::atomic::AtomicU32,
}

impl tixpay_core::Transport for Slow {
    fn send(
        &self,
        _request: http::Request<bytes::Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<bytes::Bytes>, tixpay_core::TransportError>> {
        let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let delay = if n == 0 {
            self.first_delay
        } else {
            Duration::ZERO
        };
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            Ok(http::Response::new(bytes::Bytes::from_static(b"OK")))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn an_attempt_cut_by_its_own_timeout_is_retried_within_the_total() {
    let transport = Arc::new(Slow {
        first_delay: Duration::from_secs(60),
        calls: Default::default(),
    });
    let client = HttpClient::builder()
        .transport(transport.clone())
        .attempt_timeout(Duration::from_secs(1))
        .total_timeout(Duration::from_secs(10))
        .sleep(Arc::new(InstantSleep::default()))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let op = Operation::get("test", "query", "http://x.invalid/q");
    let reply = client.execute(&op, &NoAuth).await.unwrap();
    assert_eq!(reply.body().as_ref(), b"OK");
    assert_eq!(transport.calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(1),
        "the attempt limit cut the first"
    );
    assert_eq!(tixpay_core::Attempts::of(&reply).count, 2);
}

#[tokio::test(start_paused = true)]
async fn a_retry_happens_only_while_time_remains() {
    // The backoff is exactly the time left, then just under it.
    for (backoff_ms, retried) in [(10_000, false), (9_999, true)] {
        let mock = MockTransport::new();
        mock.push(MockReply::response(503, &[], ""));
        mock.push(MockReply::response(200, &[], ""));
        let client = HttpClient::builder()
            .transport(Arc::new(mock.clone()))
            .sleep(Arc::new(InstantSleep::default()))
            .total_timeout(Duration::from_secs(10))
            .retry_policy(
                RetryPolicy::default()
                    .jitter(false)
                    .max_backoff(Duration::from_secs(60))
                    .initial_backoff(Duration::from_millis(backoff_ms)),
            )
            .build()
            .unwrap();
        let op = Operation::get("test", "query", "http://x.invalid/q");
        let result = client.execute(&op, &NoAuth).await;
        assert_eq!(result.is_ok(), retried, "backoff {backoff_ms} ms");
        assert_eq!(mock.request_count(), if retried { 2 } else { 1 });
    }
}

#[tokio::test(start_paused = true)]
async fn verifying_is_bounded_by_the_total_timeout() {
    struct Hangs;
    impl Authenticate for Hangs {
        type Signed = ();
        type Output = ();
        fn sign(&self, _: &mut http::Request<bytes::Bytes>, _: u32) -> Result<(), Error> {
            Ok(())
        }
        async fn verify(&self, _reply: Reply<'_, ()>) -> Verdict<()> {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Verdict::Accept(())
        }
    }
    let mock = MockTransport::new();
    mock.push(MockReply::response(200, &[], ""));
    let client = HttpClient::builder()
        .transport(Arc::new(mock))
        .total_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let op = Operation::post("test", "pay", "http://x.invalid/p");
    let err = client.execute(&op, &Hangs).await.unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::Timeout {
            phase: TimeoutPhase::Total,
            may_have_been_sent: true
        }
    ));
}

/// Cannot sign attempt number `.0`: the CSPRNG failed.
struct FailsToSign(u32);

impl Authenticate for FailsToSign {
    type Signed = ();
    type Output = ();
    fn sign(&self, _: &mut http::Request<bytes::Bytes>, attempt: u32) -> Result<(), Error> {
        if attempt == self.0 {
            Err(Error::new(ErrorKind::Crypto {
                message: "rng failed".into(),
            }))
        } else {
            Ok(())
        }
    }
    async fn verify(&self, _reply: Reply<'_, ()>) -> Verdict<()> {
        Verdict::Accept(())
    }
}

#[tokio::test]
async fn a_failure_before_sending_after_a_maybe_sent_attempt_keeps_the_doubt() {
    // Attempt 1 timed out (maybe processed), attempt 2 could not connect, attempt 3 cannot
    // even be signed: the refund may exist, so the error must say so.
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Timeout));
    mock.push(MockReply::Error(TransportErrorKind::Connect));
    let client = scripted(&mock, RetryPolicy::default().max_attempts(3));
    let op = Operation::post("test", "refund", "http://x.invalid/r")
        .idempotency(Idempotency::Keyed("R1".into()));
    let err = bounded(client.execute(&op, &FailsToSign(3)))
        .await
        .unwrap_err();
    assert!(err.may_have_been_sent(), "{err:?}");
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert_eq!(mock.request_count(), 2);

    // Nothing reached the provider before: the signing failure itself is the answer.
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Connect));
    mock.push(MockReply::Error(TransportErrorKind::Connect));
    let client = scripted(&mock, RetryPolicy::default().max_attempts(3));
    let err = bounded(client.execute(&op, &FailsToSign(3)))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Crypto { .. }), "{err:?}");
    assert!(!err.may_have_been_sent());
}

#[tokio::test]
async fn a_signing_failure_stops_the_call_before_sending() {
    let mock = MockTransport::new();
    let client = scripted(&mock, RetryPolicy::default());
    let op = Operation::post("test", "pay", "http://x.invalid/p");
    let err = bounded(client.execute(&op, &FailsToSign(1)))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Crypto { .. }));
    assert!(!err.may_have_been_sent());
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test]
async fn total_timeout_bounds_the_whole_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let client = HttpClient::builder()
        .attempt_timeout(Duration::from_secs(2))
        .total_timeout(Duration::from_millis(300))
        .sleep(Arc::new(InstantSleep::default()))
        .build()
        .unwrap();
    let started = Instant::now();
    let op = Operation::get("test", "query", format!("{}/q", server.uri()));
    let err = client.execute(&op, &NoAuth).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(matches!(
        err.kind(),
        ErrorKind::Timeout {
            phase: TimeoutPhase::Total,
            ..
        }
    ));
}

#[tokio::test]
async fn sign_runs_per_attempt_and_verify_gets_that_attempts_signature() {
    let mock = MockTransport::new();
    mock.push(MockReply::response(200, &[], "BUSY"));
    mock.push(MockReply::response(200, &[], "OK"));
    let client = scripted(&mock, RetryPolicy::default());
    let op = Operation::get("t", "q", "http://x.invalid/");
    let (_, attempts) = bounded(client.execute(&op, &Scripted)).await.unwrap();
    assert_eq!(attempts.count, 2);
    let requests = mock.requests();
    assert_eq!(requests[0].headers()["x-attempt"], "1");
    assert_eq!(requests[1].headers()["x-attempt"], "2");
}

#[tokio::test]
async fn oversized_response_with_length_is_refused_before_reading() {
    let server = MockServer::start().await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 2 * 1024 * 1024]))
        .mount(&server)
        .await;
    let transport = ReqwestTransport::builder()
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    let client = HttpClient::builder()
        .transport(Arc::new(transport))
        .build()
        .unwrap();
    let op = Operation::get("test", "big", format!("{}/big", server.uri()));
    let err = client.execute(&op, &NoAuth).await.unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::ResponseTooLarge { limit: 65536 }
    ));
    assert!(err.may_have_been_sent());
}

#[tokio::test]
async fn oversized_chunked_response_stops_at_the_cap() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A hostile server: chunked encoding, no length, 256 MiB on offer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = socket.read(&mut buf).await;
        let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return 0usize;
        }
        let chunk = vec![b'y'; 64 * 1024];
        let mut written = 0usize;
        for _ in 0..4096 {
            let frame = format!("{:x}\r\n", chunk.len());
            if socket.write_all(frame.as_bytes()).await.is_err()
                || socket.write_all(&chunk).await.is_err()
                || socket.write_all(b"\r\n").await.is_err()
            {
                break;
            }
            written += chunk.len();
        }
        written
    });
    let transport = ReqwestTransport::builder()
        .max_response_bytes(1024 * 1024)
        .build()
        .unwrap();
    let client = HttpClient::builder()
        .transport(Arc::new(transport))
        .build()
        .unwrap();
    let op = Operation::get("test", "stream", format!("http://{addr}/stream"));
    let err = client.execute(&op, &NoAuth).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::ResponseTooLarge { .. }),
        "{err:?}"
    );
    let written = tokio::time::timeout(Duration::from_secs(10), served)
        .await
        .unwrap()
        .unwrap();
    assert!(
        written < 64 * 1024 * 1024,
        "the client kept reading: {written} bytes"
    );
}

#[tokio::test]
async fn per_attempt_timeout_with_wiremock_delay() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let client = HttpClient::builder()
        .attempt_timeout(Duration::from_millis(200))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let op = Operation::get("test", "slow", format!("{}/slow", server.uri()));
    let err = client.execute(&op, &NoAuth).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert!(matches!(
        err.kind(),
        ErrorKind::Timeout {
            phase: TimeoutPhase::Attempt,
            may_have_been_sent: true
        }
    ));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn user_agent_names_the_crate() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = HttpClient::new().unwrap();
    let op = Operation::get("test", "ua", format!("{}/ua", server.uri()));
    client.execute(&op, &NoAuth).await.unwrap();
    let received = server.received_requests().await.unwrap();
    let ua = received[0].headers["user-agent"].to_str().unwrap();
    assert_eq!(ua, format!("tixpay/{}", env!("CARGO_PKG_VERSION")));
}

#[tokio::test]
async fn a_reply_then_refusals_is_still_maybe_sent() {
    // Attempt 1 reached the provider (503); the retries could not connect. The request may
    // have been processed, so the error must not say "not sent".
    let mock = MockTransport::new();
    mock.push(MockReply::response(503, &[], ""));
    mock.push(MockReply::Error(TransportErrorKind::Connect));
    mock.push(MockReply::Error(TransportErrorKind::Connect));
    let client = HttpClient::builder()
        .transport(Arc::new(mock.clone()))
        .sleep(Arc::new(InstantSleep::default()))
        .build()
        .unwrap();
    let op = Operation::post("test", "refund", "http://x.invalid/r")
        .idempotency(Idempotency::Keyed("R1".into()));
    let err = bounded(client.execute(&op, &NoAuth)).await.unwrap_err();
    assert!(err.may_have_been_sent(), "{err:?}");
    assert!(err.is_outcome_unknown());
    assert_eq!(mock.request_count(), 3);
}

#[tokio::test]
async fn huge_timeouts_do_not_overflow() {
    let mock = MockTransport::new();
    mock.push(MockReply::response(200, &[], ""));
    let client = HttpClient::builder()
        .transport(Arc::new(mock))
        .attempt_timeout(Duration::MAX)
        .total_timeout(Duration::MAX)
        .build()
        .unwrap();
    let reply = client
        .execute(&Operation::get("t", "q", "http://x.invalid/"), &NoAuth)
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(path("/pay"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/elsewhere", server.uri())),
        )
        .mount(&server)
        .await;
    let client = HttpClient::new().unwrap();
    let op = Operation::post("test", "pay", format!("{}/pay", server.uri())).body("signed");
    let reply = client.execute(&op, &NoAuth).await.unwrap();
    assert_eq!(reply.status(), 307);
    assert_eq!(hits(&server).await, 1);
}

#[tokio::test]
async fn responses_say_whether_an_earlier_attempt_may_have_been_sent() {
    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Timeout));
    mock.push(MockReply::response(200, &[], "duplicate id"));
    let client = HttpClient::builder()
        .transport(Arc::new(mock.clone()))
        .sleep(Arc::new(InstantSleep::default()))
        .build()
        .unwrap();
    let op = Operation::post("test", "refund", "http://x.invalid/r")
        .idempotency(Idempotency::Keyed("R1".into()));
    let reply = bounded(client.execute(&op, &NoAuth)).await.unwrap();
    let attempts = tixpay_core::Attempts::of(&reply);
    assert_eq!(attempts.count, 2);
    assert!(attempts.earlier_may_have_been_sent);

    let mock = MockTransport::new();
    mock.push(MockReply::Error(TransportErrorKind::Connect));
    mock.push(MockReply::response(200, &[], "ok"));
    let client = HttpClient::builder()
        .transport(Arc::new(mock))
        .sleep(Arc::new(InstantSleep::default()))
        .build()
        .unwrap();
    let reply = bounded(client.execute(&op, &NoAuth)).await.unwrap();
    assert_eq!(
        tixpay_core::Attempts::of(&reply),
        tixpay_core::Attempts {
            count: 2,
            earlier_may_have_been_sent: false
        }
    );
}
