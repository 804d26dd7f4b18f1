//! The client end to end against the LeShua sandbox: orders, refunds and notifications.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use http::StatusCode;
use tixpay_core::sandbox::{SandboxRequest, SandboxResponse, SandboxServer, Shared};
use tixpay_leshua::sandbox::{LeshuaSandbox, SandboxOptions};
use tixpay_leshua::{
    BarcodePay, Client, ErrorCode, OrderRef, PayMode, PayWay, Refund, RefundRef, UnifiedOrder,
};

use tixpay_core::{ErrorKind, Fen, Secret};
use tixpay_leshua::notify::{ACK, Notification, NotificationParser};
use tixpay_leshua::{Config, OrderStatus};

#[derive(Default)]
struct Inbox {
    keys: BTreeSet<String>,
    events: Vec<Notification>,
    deliveries: usize,
}

async fn receiver(config: &Config) -> (SandboxServer, Shared<Inbox>) {
    let inbox = Shared::new(Inbox::default());
    let state = inbox.clone();
    let parser = NotificationParser::new(config);
    let server = SandboxServer::start(move |req: &SandboxRequest| {
        state.with(|s| s.deliveries += 1);
        match parser.parse(&req.headers, &req.body) {
            Ok(event) => {
                state.with(|s| {
                    if s.keys.insert(event.dedup_key()) {
                        s.events.push(event);
                    }
                });
                SandboxResponse::text(StatusCode::OK, ACK)
            }
            Err(e) => SandboxResponse::text(StatusCode::BAD_REQUEST, e.to_string()),
        }
    })
    .await;
    (server, inbox)
}

#[tokio::test]
async fn pay_partial_refund_query_overdraw_notifications() {
    let sandbox = LeshuaSandbox::start().await.unwrap();
    let config = sandbox.config();
    let client = Client::new(config.clone()).unwrap();
    let (hook, inbox) = receiver(&config).await;
    let notify = format!("{}/leshua/notify", hook.uri());

    let order = UnifiedOrder::new(PayWay::Wechat, "T-9001", Fen::new(30_000), PayMode::Native)
        .notify_url(&notify);
    let created = client.unified_order(&order).await.unwrap();
    assert!(created.td_code.is_some());
    assert_eq!(created.status, Some(OrderStatus::Paying));
    // A refund before payment is refused.
    let early = client
        .refund(&Refund::new(
            OrderRef::ThirdOrderId("T-9001".into()),
            "R0",
            Fen::new(1),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        ErrorCode::from_error(&early),
        Some(ErrorCode::RefundNotAllowed)
    );

    sandbox.mark_paid("T-9001").unwrap();
    let paid = client
        .query_order(&OrderRef::ThirdOrderId("T-9001".into()))
        .await
        .unwrap();
    assert_eq!(paid.status, Some(OrderStatus::Paid));
    let leshua_id = paid.leshua_order_id.clone().unwrap();

    let order_ref = OrderRef::LeshuaOrderId(leshua_id.clone());
    let refund = Refund::new(order_ref.clone(), "R9001A", Fen::new(20_000)).notify_url(&notify);
    let reply = client.refund(&refund).await.unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Refunding));
    assert_eq!(reply.order_balance, Some(Fen::new(10_000)));
    // The same merchant_refund_id again: -5103.
    let dup = client.refund(&refund).await.unwrap_err();
    assert_eq!(
        ErrorCode::from_error(&dup),
        Some(ErrorCode::DuplicateRefundId)
    );
    // A second refund beyond the balance is refused.
    let over = client
        .refund(&Refund::new(order_ref.clone(), "R9001B", Fen::new(10_001)))
        .await
        .unwrap_err();
    assert_eq!(
        ErrorCode::from_error(&over),
        Some(ErrorCode::InsufficientRefundableBalance)
    );

    let reports = sandbox.settle_notifications().await;
    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|r| r.delivered));
    let settled = client
        .query_refund(&order_ref, &RefundRef::MerchantRefundId("R9001A".into()))
        .await
        .unwrap();
    assert_eq!(settled.status, Some(OrderStatus::Refunded));

    let inbox = inbox.lock();
    assert_eq!(inbox.deliveries, 2);
    let kinds: Vec<String> = inbox.events.iter().map(Notification::dedup_key).collect();
    assert!(kinds.contains(&format!("pay:{leshua_id}:2")), "{kinds:?}");
    assert!(
        kinds
            .iter()
            .any(|k| k.starts_with("refund:") && k.ends_with(":11")),
        "{kinds:?}"
    );
    let Some(Notification::Refund(r)) = inbox
        .events
        .iter()
        .find(|e| matches!(e, Notification::Refund(_)))
    else {
        panic!()
    };
    assert_eq!(r.refund_amount, Some(Fen::new(20_000)));
}

#[tokio::test]
async fn sandbox_rules() {
    let clock = std::sync::Arc::new(tixpay_core::FixedClock::from_seconds(1_700_000_000));
    let sandbox = LeshuaSandbox::start_with(SandboxOptions::default().clock(clock.clone()))
        .await
        .unwrap();
    let client = Client::new(sandbox.config()).unwrap();
    // Barcode orders close only after 5 minutes.
    client
        .barcode_pay(&BarcodePay::new("134512341234123412", "B-1", Fen::new(500)))
        .await
        .unwrap();
    let early = client
        .close_order(&OrderRef::ThirdOrderId("B-1".into()))
        .await
        .unwrap_err();
    assert!(early.to_string().contains("5分钟"), "{early}");
    clock.advance(std::time::Duration::from_secs(301));
    let closed = client
        .close_order(&OrderRef::ThirdOrderId("B-1".into()))
        .await
        .unwrap();
    assert_eq!(closed.status, Some(OrderStatus::Closed));
    // A failed payment.
    client
        .unified_order(&UnifiedOrder::new(
            PayWay::Alipay,
            "F-1",
            Fen::new(1),
            PayMode::Native,
        ))
        .await
        .unwrap();
    sandbox.mark_failed("F-1").unwrap();
    assert_eq!(sandbox.order_status("F-1").as_deref(), Some("8"));
    assert!(sandbox.mark_paid("F-1").is_err());
    // A repeated third_order_id.
    let dup = client
        .unified_order(&UnifiedOrder::new(
            PayWay::Alipay,
            "F-1",
            Fen::new(1),
            PayMode::Native,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        ErrorCode::from_error(&dup),
        Some(ErrorCode::DuplicateThirdOrderId)
    );

    // A client with the wrong trade key: the sandbox answers -20006, signed with its own
    // key, so the client cannot trust the reply and says so.
    let wrong = tixpay_leshua::Config::new(
        tixpay_leshua::SANDBOX_MERCHANT_ID,
        Secret::new("wrong-key"),
        Secret::new("n"),
    )
    .base_url(sandbox.uri());
    let err = Client::new(wrong)
        .unwrap()
        .query_order(&OrderRef::ThirdOrderId("F-1".into()))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    // A raw request with a bad sign, read with the right key: -20006.
    let raw = reqwest::Client::new()
        .post(format!("{}/cgi-bin/lepos_pay_gateway.cgi", sandbox.uri()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("service=query_status&merchant_id=0000000018&third_order_id=F-1&nonce_str=1&sign=BAD")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(raw.contains("-20006"), "{raw}");
    // An empty request: the plain-text answer.
    let raw = reqwest::Client::new()
        .post(format!("{}/cgi-bin/lepos_pay_gateway.cgi", sandbox.uri()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(raw, "接口为可用状态");
    // Other services.
    let uid = client.query_user_id("UA", None).await.unwrap();
    assert_eq!(uid.user_id.as_deref(), Some("UPUA"));
    let oid = client.query_openid("1345", None).await.unwrap();
    assert!(oid.openid.is_some());
}

#[tokio::test]
async fn notifications_retry_until_000000() {
    let sandbox = LeshuaSandbox::start().await.unwrap();
    let config = sandbox.config();
    let client = Client::new(config.clone()).unwrap();
    let answers = Shared::new(vec!["FAIL", "", "000000"]);
    let state = answers.clone();
    let hook = SandboxServer::start(move |_req: &SandboxRequest| {
        let answer = state.with(|a| if a.len() > 1 { a.remove(0) } else { a[0] });
        SandboxResponse::text(StatusCode::OK, answer)
    })
    .await;
    client
        .unified_order(
            &UnifiedOrder::new(PayWay::Wechat, "N-1", Fen::new(1), PayMode::Native)
                .notify_url(hook.uri()),
        )
        .await
        .unwrap();
    sandbox.mark_paid("N-1").unwrap();
    let reports = sandbox.settle_notifications().await;
    assert_eq!(reports[0].attempts.len(), 3);
    assert!(reports[0].delivered);
}

#[tokio::test]
async fn refund_type_and_extra_fields_are_signed_and_accepted() {
    let sandbox = LeshuaSandbox::start().await.unwrap();
    let client = Client::new(sandbox.config()).unwrap();
    client
        .unified_order(&UnifiedOrder::new(
            PayWay::Wechat,
            "X-1",
            Fen::new(500),
            PayMode::Native,
        ))
        .await
        .unwrap();
    sandbox.mark_paid("X-1").unwrap();
    let order = OrderRef::ThirdOrderId("X-1".into());
    // refund_type is accepted; a field the sandbox does not know is ignored, as long as
    // the signature covers it.
    let refund = Refund::new(order.clone(), "RX1", Fen::new(200))
        .refund_type("1")
        .param("agent_no", "A1")
        .param("zz_note", "门票 x2");
    let reply = client.refund(&refund).await.unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Refunding));
    assert_eq!(reply.order_balance, Some(Fen::new(300)));
    sandbox.settle_notifications().await;
    let settled = client
        .query_refund(&order, &RefundRef::MerchantRefundId("RX1".into()))
        .await
        .unwrap();
    assert_eq!(settled.status, Some(OrderStatus::Refunded));

    // A field added after signing is not covered: -20006.
    let signed = [
        ("service", "unified_refund"),
        ("merchant_id", tixpay_leshua::SANDBOX_MERCHANT_ID),
        ("third_order_id", "X-1"),
        ("merchant_refund_id", "RX2"),
        ("refund_amount", "1"),
        ("nonce_str", "n1"),
    ];
    let sign =
        tixpay_leshua::auth::request_sign(&signed, &Secret::new(tixpay_leshua::SANDBOX_TRADE_KEY));
    let form: String = signed
        .iter()
        .map(|(k, v)| format!("{k}={v}&"))
        .collect::<String>();
    let post = |body: String| async {
        reqwest::Client::new()
            .post(format!("{}/cgi-bin/lepos_pay_gateway.cgi", sandbox.uri()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let unsigned_extra = post(format!("{form}refund_type=1&sign={sign}")).await;
    assert!(unsigned_extra.contains("-20006"), "{unsigned_extra}");
    // The same request without it is accepted.
    let accepted = post(format!("{form}sign={sign}")).await;
    assert!(accepted.contains("<leshua_refund_id>"), "{accepted}");
}
