//! The sandbox kit: a handler on a loopback port, shared state, webhook delivery with
//! compressed time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg(feature = "sandbox")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use tixpay_core::sandbox::{
    RetrySchedule, SandboxRequest, SandboxResponse, SandboxServer, Shared, Webhook,
    WebhookDispatcher,
};
use tixpay_core::{HttpClient, NoAuth, Operation};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn handler_keeps_state_across_requests() {
    let stock = Shared::new(2u32);
    let state = stock.clone();
    let server = SandboxServer::start(move |req: &SandboxRequest| {
        if req.path != "/buy" {
            return SandboxResponse::text(StatusCode::NOT_FOUND, "no such path");
        }
        state.with(|left| {
            if *left == 0 {
                SandboxResponse::text(StatusCode::CONFLICT, "sold out")
            } else {
                *left -= 1;
                SandboxResponse::text(StatusCode::OK, format!("left {left}"))
            }
        })
    })
    .await;
    let client = HttpClient::new().unwrap();
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let op = Operation::post("sandbox", "buy", format!("{}/buy", server.uri()));
        let reply = client.execute(&op, &NoAuth).await.unwrap();
        bodies.push((
            reply.status().as_u16(),
            String::from_utf8_lossy(reply.body()).into_owned(),
        ));
    }
    assert_eq!(
        bodies,
        vec![
            (200, "left 1".to_owned()),
            (200, "left 0".to_owned()),
            (409, "sold out".to_owned())
        ]
    );
    assert_eq!(*stock.lock(), 0);
    let seen = server.received_requests().await;
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].path, "/buy");
    assert!(seen[0].host.starts_with("127.0.0.1:"));
}

#[tokio::test]
async fn webhook_is_retried_on_schedule_until_accepted() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("success"))
        .mount(&receiver)
        .await;
    // Lianhe's schedule: 3, 6, 12 … minutes; compressed 100 000 times.
    let dispatcher = WebhookDispatcher::new(100_000.0).unwrap();
    let url = format!("{}/notify", receiver.uri());
    let hook = Webhook {
        id: "reNotify-R1".into(),
        request: Arc::new(move |attempt| {
            Ok(http::Request::post(url.as_str())
                .header("x-attempt", attempt.to_string())
                .body(Bytes::from_static(b"{\"method\":\"reNotify\"}"))
                .unwrap())
        }),
        accept: |status, body| status.is_success() && body == b"success",
        schedule: RetrySchedule::doubling(Duration::from_secs(180), 10),
    };
    let started = Instant::now();
    let report = dispatcher.deliver(hook).finish().await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(report.delivered);
    let statuses: Vec<_> = report.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![Some(500), Some(500), Some(200)]);
    assert_eq!(report.attempts[2].simulated_at, Duration::from_secs(540));
    assert_eq!(dispatcher.attempts().len(), 3);
    let received = receiver.received_requests().await.unwrap();
    let attempts: Vec<_> = received
        .iter()
        .map(|r| r.headers["x-attempt"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(attempts, vec!["1", "2", "3"]);
}

#[tokio::test]
async fn webhook_gives_up_after_the_schedule() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("fail"))
        .mount(&receiver)
        .await;
    let dispatcher = WebhookDispatcher::new(1_000_000.0).unwrap();
    let url = format!("{}/notify", receiver.uri());
    let hook = Webhook {
        id: "evt".into(),
        request: Arc::new(move |_| {
            Ok(http::Request::post(url.as_str())
                .body(Bytes::new())
                .unwrap())
        }),
        accept: |status, body| status.is_success() && body == b"success",
        schedule: RetrySchedule::immediate_then(&[
            Duration::from_secs(15),
            Duration::from_secs(30),
        ]),
    };
    let report = dispatcher.deliver(hook).finish().await;
    assert!(!report.delivered);
    assert_eq!(report.attempts.len(), 3);
    assert!(
        report
            .attempts
            .iter()
            .all(|a| !a.accepted && a.status == Some(200))
    );
}

#[tokio::test]
async fn dispatch_and_settle_track_every_webhook() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let dispatcher = WebhookDispatcher::new(1_000_000.0).unwrap();
    for id in ["a", "b", "c"] {
        let url = format!("{}/{id}", receiver.uri());
        dispatcher.dispatch(Webhook {
            id: id.into(),
            request: Arc::new(move |_| {
                Ok(http::Request::post(url.as_str())
                    .body(Bytes::new())
                    .unwrap())
            }),
            accept: |status, _| status.is_success(),
            schedule: RetrySchedule::immediate_then(&[]),
        });
    }
    let reports = dispatcher.settle().await;
    let ids: Vec<_> = reports.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["a", "b", "c"]);
    assert!(reports.iter().all(|r| r.delivered));
    assert!(dispatcher.settle().await.is_empty());
}
