//! The refusal paths of `examples/webhooks.rs`, the receiver users copy: a delivery that
//! cannot be verified or confirmed is answered with a failure (so a genuine one comes
//! again), is not stored, and the answer does not say why.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
#[path = "../examples/webhooks.rs"]
mod webhooks;

use tixpay::core::Secret;
use tixpay::leshua::sandbox::LeshuaSandbox;
use tixpay::lianhe::sandbox::LianheSandbox;
use tixpay::wechat_payscore::sandbox::PayScoreSandbox;
use tixpay::{leshua, lianhe, wechat_payscore};
use webhooks::{Counts, Provider, Receiver};

const REFUSED: Counts = Counts {
    deliveries: 1,
    processed: 0,
    duplicates: 0,
    rejected: 1,
};

/// A signed snNotify, as a replayed LH header would carry it.
fn signed_sn_notify(used: i64) -> (String, String, String) {
    let signer = lianhe::auth::Signer::new(
        lianhe::SANDBOX_API_NAME,
        &Secret::new(lianhe::SANDBOX_CLIENT_SECRET),
    );
    let date = "Mon, 01 Jan 2024 00:00:00 GMT".to_owned();
    let body = serde_json::json!({
        "code": 10000, "describe": "执行成功", "partnerId": lianhe::SANDBOX_PARTNER_ID,
        "method": "snNotify",
        "body": {"orderId": "T1", "LHOrderId": "15354", "orderStatus": 9,
                 "orderQuantity": 3, "usedQuantity": used, "sncode": "411258698456"}
    });
    let authorization = signer.authorization("POST", lianhe::auth::NOTIFY_URI, &date);
    (date, authorization, body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unverifiable_deliveries_are_refused_on_every_route_without_saying_why() {
    let lianhe_box = LianheSandbox::start().await.unwrap();
    let leshua_box = LeshuaSandbox::start().await.unwrap();
    let payscore_box = PayScoreSandbox::start().await.unwrap();
    let receiver = Receiver::new()
        .lianhe(
            lianhe::notify::NotificationParser::new(&lianhe_box.config()),
            lianhe::Client::new(lianhe_box.config()).unwrap(),
        )
        .leshua(leshua::notify::NotificationParser::new(
            &leshua_box.config(),
        ))
        .payscore(wechat_payscore::Client::new(payscore_box.config()).unwrap());
    let inbox = receiver.inbox();
    let server = webhooks::serve(receiver.router(), "127.0.0.1:0")
        .await
        .unwrap();
    let http = reqwest::Client::new();

    // Lianhe: no LH header. Each route answers its provider crate's `reject()`.
    let (_, _, body) = signed_sn_notify(1);
    let reply = http
        .post(server.url(webhooks::LIANHE_PATH))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 503);
    assert_eq!(reply.text().await.unwrap(), "fail");

    // LeShua: a notification signed with the wrong key.
    let forged = "<?xml version=\"1.0\" encoding=\"utf-8\"?><leshua><merchant_id>x</merchant_id>\
        <third_order_id>T1</third_order_id><status>2</status><amount>100</amount>\
        <sign>0123456789ABCDEF0123456789ABCDEF</sign></leshua>";
    let reply = http
        .post(server.url(webhooks::LESHUA_PATH))
        .body(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 500);
    assert_eq!(reply.text().await.unwrap(), "fail");

    // PayScore: no Wechatpay-* headers at all.
    let reply = http
        .post(server.url(webhooks::PAYSCORE_PATH))
        .body(r#"{"id":"EV-1","event_type":"PAYSCORE.USER_PAID","resource":{}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 500);
    let text = reply.text().await.unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        serde_json::json!({"code": "FAIL", "message": "rejected"})
    );

    for provider in Provider::ALL {
        assert_eq!(inbox.counts(provider), REFUSED, "{provider:?}");
    }
    assert!(inbox.events().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lianhe_event_that_cannot_be_confirmed_is_not_stored_and_comes_again() {
    let lianhe_box = LianheSandbox::start().await.unwrap();
    // Lianhe's API cannot be reached: nothing that says the claim is true.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let receiver = Receiver::new().lianhe(
        lianhe::notify::NotificationParser::new(&lianhe_box.config()),
        lianhe::Client::new(lianhe_box.config().base_url(dead)).unwrap(),
    );
    let inbox = receiver.inbox();
    let server = webhooks::serve(receiver.router(), "127.0.0.1:0")
        .await
        .unwrap();

    let (date, authorization, body) = signed_sn_notify(1);
    let reply = reqwest::Client::new()
        .post(server.url(webhooks::LIANHE_PATH))
        .header("Date", date)
        .header("Authorization", authorization)
        .body(body)
        .send()
        .await
        .unwrap();
    // Not `success`: Lianhe delivers again later, when the claim can be checked.
    assert_eq!(reply.status(), 503);
    assert_eq!(reply.text().await.unwrap(), "fail");
    assert_eq!(inbox.counts(Provider::Lianhe), REFUSED);
    assert!(inbox.events().is_empty());
}
