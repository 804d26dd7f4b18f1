//! `HttpClient::execute_streaming` and `Transport::send_streaming`: a 2xx body is streamed
//! unverified, anything else goes through `verify` and the usual retry rules, and a
//! transport that only implements `send` still works.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use tixpay_core::retry::InstantSleep;
use tixpay_core::test_util::{MockReply, MockTransport, fixed_clock_client, mock_server};
use tixpay_core::{Authenticate, Error, ErrorKind, HttpClient, NoAuth, Operation, Reply, Verdict};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

/// Signs with a header, counts `verify` calls, and refuses every reply it is shown.
#[derive(Default)]
struct Counting {
    verified: AtomicU32,
}

impl Authenticate for Counting {
    type Signed = u32;
    type Output = ();

    fn sign(&self, request: &mut http::Request<Bytes>, attempt: u32) -> Result<u32, Error> {
        request.headers_mut().insert(
            "authorization",
            format!("attempt {attempt}").parse().unwrap(),
        );
        Ok(attempt)
    }

    async fn verify(&self, reply: Reply<'_, u32>) -> Verdict<()> {
        self.verified.fetch_add(1, Ordering::SeqCst);
        let status = reply.response.status();
        let err = Error::http(status, reply.response.body(), None);
        Verdict::Reject(err)
    }
}

async fn read_all(mut response: http::Response<tixpay_core::transport::StreamingBody>) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(piece) = response.body_mut().chunk().await.unwrap() {
        out.extend_from_slice(&piece);
    }
    out
}

#[tokio::test]
async fn a_2xx_body_streams_unverified_and_signed() {
    let server = mock_server().await;
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    Mock::given(method("GET"))
        .and(path("/file"))
        .and(query_param("token", "t"))
        .and(header("authorization", "attempt 1"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(body.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let client = fixed_clock_client(1, &InstantSleep::default()).unwrap();
    let auth = Counting::default();
    let op = Operation::get("p", "download", format!("{}/file?token=t", server.uri()));
    let response = client.execute_streaming(&op, &auth).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        auth.verified.load(Ordering::SeqCst),
        0,
        "a 2xx is not verified"
    );
    // Larger than the transport's whole-body cap would be fine too: nothing is capped here.
    assert_eq!(read_all(response).await, body);
}

#[tokio::test]
async fn refusals_are_verified_and_retried_like_any_reply() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(header("authorization", "attempt 1"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "attempt 2"))
        .respond_with(ResponseTemplate::new(200).set_body_string("file"))
        .expect(1)
        .mount(&server)
        .await;
    let sleep = InstantSleep::default();
    let client = fixed_clock_client(1, &sleep).unwrap();
    let auth = Counting::default();
    let op = Operation::get("p", "download", format!("{}/f", server.uri()));
    let response = client.execute_streaming(&op, &auth).await.unwrap();
    assert_eq!(
        auth.verified.load(Ordering::SeqCst),
        1,
        "the 503 was judged"
    );
    assert_eq!(read_all(response).await, b"file");

    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_string(r#"{"code":"INVALID_REQUEST"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let auth = Counting::default();
    let op = Operation::get("p", "download", format!("{}/f", server.uri()));
    let err = client.execute_streaming(&op, &auth).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Http { .. }), "{err:?}");
    assert_eq!(err.operation(), Some("download"));
    assert_eq!(auth.verified.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_large_refusal_is_not_read_whole() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_bytes(vec![b'x'; 100_000]))
        .expect(1)
        .mount(&server)
        .await;
    let client = fixed_clock_client(1, &InstantSleep::default()).unwrap();
    let op = Operation::get("p", "download", format!("{}/f", server.uri()));
    let err = client
        .execute_streaming(&op, &Counting::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::ResponseTooLarge { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_accepted_refusal_comes_back_whole() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_string("gone"))
        .mount(&server)
        .await;
    let client = HttpClient::new().unwrap();
    let op = Operation::get("p", "download", format!("{}/f", server.uri()));
    let response = client.execute_streaming(&op, &NoAuth).await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(read_all(response).await, b"gone");
}

/// `MockTransport` implements only `send`: the default `send_streaming` hands its body out
/// as one piece.
#[tokio::test]
async fn a_transport_without_streaming_still_works() {
    let mock = MockTransport::new();
    mock.push(MockReply::response(200, &[], "whole"));
    let client = HttpClient::builder()
        .transport(Arc::new(mock.clone()))
        .build()
        .unwrap();
    let op = Operation::get("p", "download", "http://demo.invalid/f");
    let response = client.execute_streaming(&op, &NoAuth).await.unwrap();
    assert_eq!(read_all(response).await, b"whole");
    assert_eq!(mock.request_count(), 1);
}
