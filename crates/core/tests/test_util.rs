//! The shared test helpers do what provider tests rely on: the exact-header matcher matches
//! one whole value only, the catch-all server names and fails an unexpected request, and the
//! fixed-clock client reads its fixed time and never waits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use tixpay_core::retry::InstantSleep;
use tixpay_core::test_util::{exact_header, fixed_clock_client, mock_server};
use tixpay_core::{NoAuth, Operation};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const DATE: &str = "Wed, 06 May 2015 10:34:20 GMT";

async fn status_with(headers: &[(&str, &str)]) -> u16 {
    let server = MockServer::start().await;
    Mock::given(exact_header("date", DATE))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let mut request = reqwest::Client::new().get(server.uri());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn exact_header_matches_one_whole_value_only() {
    assert_eq!(status_with(&[("date", DATE)]).await, 200, "the exact value");
    assert_eq!(
        status_with(&[("Date", DATE)]).await,
        200,
        "names ignore case"
    );
    assert_eq!(status_with(&[]).await, 404, "absent");
    assert_eq!(
        status_with(&[("date", "Wed, 06 May 2015 10:34:21 GMT")]).await,
        404,
        "another value"
    );
    assert_eq!(
        status_with(&[("date", "Wed")]).await,
        404,
        "a part before the comma"
    );
    assert_eq!(
        status_with(&[("date", DATE), ("date", DATE)]).await,
        404,
        "sent twice"
    );
}

#[tokio::test]
async fn an_expected_request_passes_the_catch_all_server() {
    let server = mock_server().await;
    Mock::given(path("/ok"))
        .respond_with(ResponseTemplate::new(200).set_body_string("fine"))
        .mount(&server)
        .await;
    let reply = reqwest::get(format!("{}/ok", server.uri())).await.unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(reply.text().await.unwrap(), "fine");
}

#[tokio::test]
async fn an_unexpected_request_is_named_in_a_500_and_fails_the_test() {
    let server = mock_server().await;
    let reply = reqwest::Client::new()
        .post(format!("{}/refund?x=1", server.uri()))
        .body("amount=100")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 500);
    let body = reply.text().await.unwrap();
    assert!(body.contains("POST"), "{body}");
    assert!(body.contains("/refund?x=1"), "{body}");
    assert!(body.contains("amount=100"), "{body}");
    // Dropping the server verifies its mocks: the catch-all expected no request.
    let dropped = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(server)))
    })
    .await
    .unwrap();
    assert!(dropped.is_err(), "the server did not fail the test");
}

#[tokio::test]
async fn the_fixed_clock_client_reads_its_time_and_records_its_backoffs() {
    let server = MockServer::start().await;
    // Retry-After as a date five seconds after the fixed clock.
    Mock::given(path("/q"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("retry-after", "Wed, 06 May 2015 10:34:25 GMT"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/q"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let sleep = InstantSleep::default();
    let client = fixed_clock_client(1_430_908_460, &sleep).unwrap();
    let op = Operation::get("test", "query", format!("{}/q", server.uri()));
    let reply = tokio::time::timeout(Duration::from_secs(30), client.execute(&op, &NoAuth))
        .await
        .expect("the call did not finish")
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(sleep.slept(), vec![Duration::from_secs(5)]);
}
