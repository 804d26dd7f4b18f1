//! The HttpClient against real loopback servers: retries by idempotency, Retry-After,
//! timeouts, the response-size cap.
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
use tixpay_core::transport::{ReqwestTransport, TransportErrorKind};
use tixpay_core::{
    ErrorKind, FixedClock, HttpClient, Idempotency, NoAuth, Operation, RetryPolicy, TimeoutPhase,
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

#[tokio::test]
async fn unsafe_post_is_sent_once_on_503() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let sleep = InstantSleep::default();
    let reply = client(&sleep, 5)
        .execute(&post(&server, Idempotency::Unsafe), &NoAuth)
        .await
        .unwrap();
    assert_eq!(reply.status(), 503);
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
    let err = client(&sleep, 5)
        .execute(&post(&server, Idempotency::Unsafe), &NoAuth)
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
    let reply = client(&sleep, 4).execute(&op, &NoAuth).await.unwrap();
    assert_eq!(reply.status(), 503);
    assert_eq!(reply.body().as_ref(), b"busy");
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
    let reply = client(&sleep, 5).execute(&op, &NoAuth).await.unwrap();
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
    let reply = client(&sleep, 3).execute(&op, &NoAuth).await.unwrap();
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
    let reply = client(&sleep, 3)
        .execute(&post(&server, Idempotency::Keyed("R1".into())), &NoAuth)
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
    let reply = client(&sleep, 3).execute(&op, &NoAuth).await.unwrap();
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
    client.execute(&op, &NoAuth).await.unwrap();
    assert_eq!(sleep.slept(), vec![Duration::from_secs(5)]);
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
    let reply = client(&sleep, 3).execute(&op, &NoAuth).await.unwrap();
    assert_eq!(reply.status(), 503);
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
        let err = client(&sleep, 3).execute(&op, &NoAuth).await.unwrap_err();
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
    let reply = client.execute(&op, &NoAuth).await.unwrap();
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
    let err = client.execute(&op, &NoAuth).await.unwrap_err();
    assert!(err.may_have_been_sent());
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn busy_hook_retries_keyed_but_not_unsafe() {
    fn busy(r: &http::Response<bytes::Bytes>) -> bool {
        r.body().as_ref() == b"SYSTEM_BUSY"
    }
    for (idempotency, expected) in [
        (Idempotency::Keyed("K".into()), 2),
        (Idempotency::Unsafe, 1),
    ] {
        let mock = MockTransport::new();
        mock.push(MockReply::response(200, &[], "SYSTEM_BUSY"));
        mock.push(MockReply::response(200, &[], "OK"));
        let client = HttpClient::builder()
            .transport(Arc::new(mock.clone()))
            .sleep(Arc::new(InstantSleep::default()))
            .build()
            .unwrap();
        let op = Operation::post("test", "pay", "http://x.invalid/pay")
            .idempotency(idempotency)
            .retry_when(busy);
        client.execute(&op, &NoAuth).await.unwrap();
        assert_eq!(mock.request_count(), expected);
    }
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
async fn authenticate_runs_per_attempt() {
    struct Counter(std::sync::atomic::AtomicU32);
    impl tixpay_core::Authenticate for Counter {
        fn authenticate(
            &self,
            request: &mut http::Request<bytes::Bytes>,
            attempt: u32,
        ) -> Result<(), tixpay_core::Error> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            request
                .headers_mut()
                .insert("x-attempt", attempt.to_string().parse().unwrap());
            Ok(())
        }
    }
    let mock = MockTransport::new();
    mock.push(MockReply::response(502, &[], ""));
    mock.push(MockReply::response(200, &[], ""));
    let client = HttpClient::builder()
        .transport(Arc::new(mock.clone()))
        .sleep(Arc::new(InstantSleep::default()))
        .build()
        .unwrap();
    let auth = Counter(Default::default());
    client
        .execute(&Operation::get("t", "q", "http://x.invalid/"), &auth)
        .await
        .unwrap();
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
    let err = client.execute(&op, &NoAuth).await.unwrap_err();
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
    let reply = client.execute(&op, &NoAuth).await.unwrap();
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
    let reply = client.execute(&op, &NoAuth).await.unwrap();
    assert_eq!(
        tixpay_core::Attempts::of(&reply),
        tixpay_core::Attempts {
            count: 2,
            earlier_may_have_been_sent: false
        }
    );
}
