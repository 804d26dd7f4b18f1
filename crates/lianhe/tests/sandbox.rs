//! The client end to end against the sandbox: order → redeem part → cancel the rest →
//! approve → reNotify received once by a webhook that fails twice first.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::StatusCode;
use tixpay_core::sandbox::{SandboxRequest, SandboxResponse, SandboxServer, Shared};
use tixpay_core::{ErrorKind, FixedClock, Secret};
use tixpay_lianhe::notify::{ACK, Notification, NotificationParser};
use tixpay_lianhe::sandbox::{LianheSandbox, SandboxOptions};
use tixpay_lianhe::{
    CancelOrder, CancelOutcome, Client, Config, CreateOrder, Fen, GetTeam, NewOrder,
    OrderErrorCode, PayOrder, QueryOrder, ResendVoucher, Visitor,
};

#[derive(Default)]
struct Inbox {
    seen: BTreeSet<String>,
    processed: Vec<Notification>,
    deliveries: usize,
}

/// A webhook receiver as a reseller would write it: verify, fail the first `fail_first`
/// deliveries on purpose, de-duplicate, answer `success`.
async fn receiver(config: &Config, fail_first: usize) -> (SandboxServer, Shared<Inbox>) {
    let inbox = Shared::new(Inbox::default());
    let state = inbox.clone();
    let parser = NotificationParser::new(config);
    let failures = Arc::new(AtomicUsize::new(fail_first));
    let server = SandboxServer::start(move |req: &SandboxRequest| {
        let event = match parser.parse(&req.headers, &req.body) {
            Ok(e) => e,
            Err(e) => return SandboxResponse::text(StatusCode::BAD_REQUEST, e.to_string()),
        };
        state.with(|s| s.deliveries += 1);
        if failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return SandboxResponse::text(StatusCode::INTERNAL_SERVER_ERROR, "try later");
        }
        state.with(|s| {
            if s.seen.insert(event.dedup_key()) {
                s.processed.push(event);
            }
        });
        SandboxResponse::text(StatusCode::OK, ACK)
    })
    .await;
    (server, inbox)
}

fn visitor() -> Visitor {
    Visitor::new("张三", "13800000000")
}

#[tokio::test]
async fn order_redeem_cancel_approve_notify() {
    let sandbox = LianheSandbox::start().await.unwrap();
    let config = sandbox.config();
    let client = Client::new(config.clone()).unwrap();
    let (hook, inbox) = receiver(&config, 2).await;
    sandbox.set_notify_url(format!("{}/lianhe/notify", hook.uri()));

    let product = client
        .get_team(&GetTeam::by_ids(["852"]))
        .await
        .unwrap()
        .products
        .remove(0);
    let price = product.sell_price.unwrap();
    let order =
        NewOrder::new("R-1001", &product.deal_id, price, 3, visitor()).for_product(&product);
    let receipt = client.new_order(&order).await.unwrap();
    let lh = receipt.lh_order_id.clone().unwrap();
    assert!(!receipt.voucher.clone().unwrap().is_empty());
    assert_eq!(sandbox.stock("852"), Some(97));

    // One ticket is used at the gate: snNotify (delivered after two failures).
    sandbox.redeem(&lh, 1).unwrap();

    // Cancel 3: refused, with the refundable quantity; correct to 2.
    let refused = client
        .cancel_order(&CancelOrder::new("R-1001", &lh, 3).refund_id("RF-1"))
        .await
        .unwrap();
    let CancelOutcome::Refused(r) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(r.refundable_quantity, Some(2));
    let accepted = client
        .cancel_order(&CancelOrder::new("R-1001", &lh, 2).refund_id("RF-1"))
        .await
        .unwrap();
    assert!(
        matches!(accepted, CancelOutcome::Accepted(_)),
        "{accepted:?}"
    );
    // A second request while the audit is pending is refused with a status.
    let again = client
        .cancel_order(&CancelOrder::new("R-1001", &lh, 1).refund_id("RF-2"))
        .await
        .unwrap();
    assert!(matches!(again, CancelOutcome::Refused(ref r) if r.refund_status.is_some()));

    assert_eq!(sandbox.pending_refunds().len(), 1);
    sandbox.approve_refund("RF-1").unwrap();
    let reports = sandbox.settle_notifications().await;
    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|r| r.delivered));

    let info = client
        .query_order(&QueryOrder::new("R-1001", &lh))
        .await
        .unwrap();
    assert_eq!(info.used_quantity, Some(1));
    assert_eq!(info.refunded_quantity, Some(2));
    assert_eq!(sandbox.stock("852"), Some(99));

    let inbox = inbox.lock();
    // Two failed deliveries, then one of each notification.
    assert_eq!(inbox.deliveries, 4);
    assert_eq!(inbox.processed.len(), 2);
    let refunds: Vec<_> = inbox
        .processed
        .iter()
        .filter_map(|n| match n {
            Notification::Refund(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(refunds.len(), 1);
    assert!(refunds[0].is_approved());
    assert_eq!(refunds[0].refunded_quantity, Some(2));
    assert_eq!(refunds[0].refund_id.as_deref(), Some("RF-1"));
    assert!(matches!(inbox.processed[0], Notification::Redeemed(ref r) if r.used_quantity == 1));
}

#[tokio::test]
async fn redelivered_notification_is_processed_once() {
    let sandbox = LianheSandbox::start().await.unwrap();
    let config = sandbox.config();
    let client = Client::new(config.clone()).unwrap();
    let (hook, inbox) = receiver(&config, 0).await;
    sandbox.set_notify_url(hook.uri());
    let receipt = client
        .new_order(&NewOrder::new("R-2", "852", Fen::new(10_000), 2, visitor()))
        .await
        .unwrap();
    let lh = receipt.lh_order_id.unwrap();
    sandbox.redeem(&lh, 1).unwrap();
    sandbox.settle_notifications().await;
    // Lianhe's retry delivers the same event again (here: re-sent by hand).
    let body = serde_json::json!({"code":10000,"describe":"执行成功","partnerId":1985,"method":"snNotify",
        "body":{"orderId":"R-2","LHOrderId":lh,"orderStatus":8,"orderQuantity":2,"usedQuantity":1,"sncode":"x"}});
    let signer = tixpay_lianhe::auth::Signer::new(
        tixpay_lianhe::SANDBOX_API_NAME,
        &Secret::new(tixpay_lianhe::SANDBOX_CLIENT_SECRET),
    );
    let date = tixpay_core::datetime::format_http_date(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    );
    let response = reqwest::Client::new()
        .post(hook.uri())
        .header("date", &date)
        .header(
            "authorization",
            signer.authorization("POST", "/openapi/index.php?method=notify", &date),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "success");
    let inbox = inbox.lock();
    assert_eq!(inbox.deliveries, 2);
    assert_eq!(inbox.processed.len(), 1);
}

#[tokio::test]
async fn sandbox_enforces_auth_and_rules() {
    let sandbox = LianheSandbox::start().await.unwrap();
    // A wrong secret: refused with code 20000.
    let wrong = Config::new(
        tixpay_lianhe::SANDBOX_PARTNER_ID,
        tixpay_lianhe::SANDBOX_API_NAME,
        Secret::new("wrong"),
    )
    .base_url(sandbox.uri());
    let err = Client::new(wrong)
        .unwrap()
        .get_team(&GetTeam::page(0, 5))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("20000"));
    assert!(err.to_string().contains("签名错误"));

    // A stale Date: refused.
    let stale = sandbox
        .config()
        .clock(Arc::new(FixedClock::from_seconds(1_430_908_460)));
    let err = Client::new(stale)
        .unwrap()
        .get_team(&GetTeam::page(0, 5))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("请求时间"), "{err}");

    let client = Client::new(sandbox.config()).unwrap();
    // Subscribe product without a travel date: 10004 (checked by the sandbox when the client
    // does not know the product).
    let err = client
        .new_order(&NewOrder::new("S-1", "853", Fen::new(8000), 1, visitor()))
        .await
        .unwrap_err();
    assert_eq!(
        OrderErrorCode::from_error(&err),
        Some(OrderErrorCode::TravelDateRequired)
    );
    // Wrong price: 10006.
    let err = client
        .new_order(&NewOrder::new("S-2", "852", Fen::new(100), 1, visitor()))
        .await
        .unwrap_err();
    assert_eq!(
        OrderErrorCode::from_error(&err),
        Some(OrderErrorCode::SellPriceMismatch)
    );
    // Out of stock: 10009.
    let err = client
        .new_order(&NewOrder::new(
            "S-3",
            "852",
            Fen::new(10_000),
            101,
            visitor(),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        OrderErrorCode::from_error(&err),
        Some(OrderErrorCode::OutOfStock)
    );

    // creatOrder then payOrder; the voucher is resent.
    let created =
        CreateOrder::new("S-4", "853", Fen::new(8000), 2, visitor()).travel_date("2030-05-01");
    let receipt = client.create_order(&created).await.unwrap();
    let lh = receipt.lh_order_id.unwrap();
    assert_eq!(receipt.voucher.as_deref(), Some(""));
    let paid = client
        .pay_order(&PayOrder::new(&created, &lh))
        .await
        .unwrap();
    assert!(!paid.voucher.unwrap().is_empty());
    let voucher = client
        .resend_voucher(&ResendVoucher::new("S-4", &lh))
        .await
        .unwrap();
    assert!(voucher.voucher.is_some());

    // Whole-order-only product: a partial refund is refused by the client before sending
    // when the product is known, and by the sandbox when it is not.
    let whole = client
        .get_team(&GetTeam::by_ids(["854"]))
        .await
        .unwrap()
        .products
        .remove(0);
    let receipt = client
        .new_order(&NewOrder::new("S-5", "854", Fen::new(12_000), 3, visitor()))
        .await
        .unwrap();
    let lh = receipt.lh_order_id.unwrap();
    let err = client
        .cancel_order(&CancelOrder::new("S-5", &lh, 1).for_product(&whole, 3))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidRequest { .. }));
    let refused = client
        .cancel_order(&CancelOrder::new("S-5", &lh, 1))
        .await
        .unwrap();
    assert!(matches!(refused, CancelOutcome::Refused(_)));

    // A fully used order: refused with a status.
    let receipt = client
        .new_order(&NewOrder::new("S-6", "852", Fen::new(10_000), 1, visitor()))
        .await
        .unwrap();
    let lh = receipt.lh_order_id.unwrap();
    sandbox.redeem(&lh, 1).unwrap();
    let CancelOutcome::Refused(r) = client
        .cancel_order(&CancelOrder::new("S-6", &lh, 1))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.refundable_quantity, Some(0));
    assert!(r.refund_status.is_some());
    assert!(sandbox.redeem(&lh, 1).is_err());

    // Unknown order: queryOrder answers 300.
    let err = client
        .query_order(&QueryOrder::new("nope", "1"))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("300"));
}

#[tokio::test]
async fn expired_tickets_are_refundable_for_five_days() {
    let mut product = LianheSandbox::default_products().remove(0).0;
    product.expire_time = Some("2030-01-10 23:59:59".into());
    let clock = Arc::new(FixedClock::from_seconds(
        tixpay_core::datetime::parse_local("2030-01-01 12:00:00", tixpay_core::datetime::CST)
            .unwrap(),
    ));
    let sandbox = LianheSandbox::start_with(
        SandboxOptions::default()
            .clock(clock.clone())
            .products(vec![(product, 10)]),
    )
    .await
    .unwrap();
    let client = Client::new(sandbox.config()).unwrap();
    for id in ["E-1", "E-2"] {
        client
            .new_order(&NewOrder::new(id, "852", Fen::new(10_000), 1, visitor()))
            .await
            .unwrap();
    }
    // Four days after the end of validity: still refundable.
    clock.set_seconds(
        tixpay_core::datetime::parse_local("2030-01-14 23:00:00", tixpay_core::datetime::CST)
            .unwrap(),
    );
    let ok = client
        .cancel_order(&CancelOrder::new("E-1", "15354", 1))
        .await
        .unwrap();
    assert!(matches!(ok, CancelOutcome::Accepted(_)), "{ok:?}");
    // Six days after: refused.
    clock.set_seconds(
        tixpay_core::datetime::parse_local("2030-01-17 00:00:00", tixpay_core::datetime::CST)
            .unwrap(),
    );
    let late = client
        .cancel_order(&CancelOrder::new("E-2", "15355", 1))
        .await
        .unwrap();
    assert!(
        matches!(late, CancelOutcome::Refused(ref r) if r.describe.contains("5天")),
        "{late:?}"
    );
}

#[tokio::test]
async fn rejected_refund_sends_a_rejection() {
    let sandbox = LianheSandbox::start().await.unwrap();
    let config = sandbox.config();
    let client = Client::new(config.clone()).unwrap();
    let (hook, inbox) = receiver(&config, 0).await;
    sandbox.set_notify_url(hook.uri());
    let lh = client
        .new_order(&NewOrder::new("J-1", "852", Fen::new(10_000), 2, visitor()))
        .await
        .unwrap()
        .lh_order_id
        .unwrap();
    let _ = client
        .cancel_order(&CancelOrder::new("J-1", &lh, 2))
        .await
        .unwrap();
    sandbox.reject_refund("J-1").unwrap();
    let reports = sandbox.settle_notifications().await;
    assert!(reports[0].delivered);
    assert_eq!(reports[0].attempts.len(), 1);
    {
        let inbox = inbox.lock();
        let Notification::Refund(r) = &inbox.processed[0] else {
            panic!()
        };
        assert!(!r.is_approved());
        assert_eq!(r.describe, "退款审核已驳回");
    }
    // After a rejection the order can be cancelled again.
    let again = client
        .cancel_order(&CancelOrder::new("J-1", &lh, 2).refund_id("J-1b"))
        .await
        .unwrap();
    assert!(matches!(again, CancelOutcome::Accepted(_)));
}
