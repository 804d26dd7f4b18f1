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
use std::time::Duration;
use tixpay_core::sandbox::{SandboxRequest, SandboxResponse, SandboxServer, Shared};
use tixpay_core::{ErrorKind, FixedClock, Secret};
use tixpay_lianhe::notify::{ACK, Notification, NotificationParser};

use tixpay_lianhe::sandbox::{
    LianheSandbox, NOTIFY_POLL_INTERVAL, RefundWindowField, SandboxOptions, notification_schedule,
};
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
    // One used, two refunded: nothing left, and the refusal says refunded, not used up.
    let CancelOutcome::Refused(r) = client
        .cancel_order(&CancelOrder::new("R-1001", &lh, 1).refund_id("RF-3"))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (r.describe.as_str(), r.refundable_quantity),
        ("订单已退款", Some(0))
    );

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
    assert_eq!(r.describe, "订单已消费完成");
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

fn beijing(time: &str) -> i64 {
    tixpay_core::datetime::parse_local(time, tixpay_core::datetime::CST).unwrap()
}

fn seconds(list: &[u64]) -> Vec<Duration> {
    list.iter().copied().map(Duration::from_secs).collect()
}

/// A sandbox on a fixed clock with time compressed enough that Lianhe's 51-hour schedule
/// takes a fraction of a second, a paid order of 2 tickets, and a receiver that fails the
/// first `fail_first` deliveries. Returns the sandbox, the receiver and the order.
async fn redeeming_sandbox(
    options: SandboxOptions,
    fail_first: usize,
) -> (LianheSandbox, SandboxServer, Shared<Inbox>, String) {
    let sandbox = LianheSandbox::start_with(options.time_compression(1_000_000.0))
        .await
        .unwrap();
    let config = sandbox.config();
    let (hook, inbox) = receiver(&config, fail_first).await;
    sandbox.set_notify_url(hook.uri());
    let lh = Client::new(config)
        .unwrap()
        .new_order(&NewOrder::new("P-1", "852", Fen::new(10_000), 2, visitor()))
        .await
        .unwrap()
        .lh_order_id
        .unwrap();
    (sandbox, hook, inbox, lh)
}

#[tokio::test]
async fn a_notification_waits_for_the_poll_and_is_retried_ten_times_on_it() {
    // 12:01:40 Beijing time: 100 s after a poll, so the first delivery waits 200 s.
    let raised = beijing("2030-01-01 12:01:40");
    let clock = Arc::new(FixedClock::from_seconds(raised));
    let (sandbox, _hook, inbox, lh) =
        redeeming_sandbox(SandboxOptions::default().clock(clock), usize::MAX).await;
    sandbox.redeem(&lh, 1).unwrap();
    let reports = sandbox.settle_notifications().await;

    // The schedule: the first poll, then the first poll at least 3, 6, 12 … minutes after
    // each failure; one delivery and ten retries.
    let expected = seconds(&[
        200, 300, 600, 900, 1500, 3000, 6000, 11_700, 23_100, 46_200, 92_400,
    ]);
    assert_eq!(
        notification_schedule(raised, NOTIFY_POLL_INTERVAL).delays(),
        &expected[..]
    );
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert!(!report.delivered);
    assert_eq!(
        report
            .attempts
            .iter()
            .map(|a| a.attempt)
            .collect::<Vec<_>>(),
        (1..=11).collect::<Vec<u32>>()
    );
    // Each attempt at its simulated time since the redemption (computed, not measured).
    let at: Vec<Duration> = report.attempts.iter().map(|a| a.simulated_at).collect();
    assert_eq!(
        at,
        seconds(&[
            200, 500, 1100, 2000, 3500, 6500, 12_500, 24_200, 47_300, 93_500, 185_900
        ])
    );
    assert!(
        report
            .attempts
            .iter()
            .all(|a| a.status == Some(500) && !a.accepted),
        "{report:?}"
    );
    // Every one reached the receiver as a verified notification; nothing after the 11th.
    assert_eq!(inbox.lock().deliveries, 11);
    assert_eq!(sandbox.delivery_attempts().len(), 11);
}

#[tokio::test]
async fn deliveries_stop_at_success_and_polls_fall_on_the_clock() {
    // Raised exactly on a poll: delivered at once, then on polls.
    let raised = beijing("2030-01-01 12:05:00");
    let clock = Arc::new(FixedClock::from_seconds(raised));
    let (sandbox, _hook, inbox, lh) =
        redeeming_sandbox(SandboxOptions::default().clock(clock.clone()), 2).await;
    sandbox.redeem(&lh, 1).unwrap();
    // A second event a minute before the next poll waits that minute.
    clock.set_seconds(beijing("2030-01-01 12:09:00"));
    sandbox.redeem(&lh, 1).unwrap();
    let reports = sandbox.settle_notifications().await;
    let at = |i: usize| -> Vec<Duration> {
        reports[i].attempts.iter().map(|a| a.simulated_at).collect()
    };
    // The first event takes both failures (whichever delivery came first is the receiver's
    // business; the schedules are per notification).
    let attempts: usize = reports.iter().map(|r| r.attempts.len()).sum();
    assert_eq!(attempts, 4, "{reports:?}");
    assert!(reports.iter().all(|r| r.delivered));
    for (i, first) in [(0, 0), (1, 60)] {
        let expected: Vec<Duration> = [first, first + 300, first + 900]
            .into_iter()
            .take(reports[i].attempts.len())
            .map(Duration::from_secs)
            .collect();
        assert_eq!(at(i), expected, "{:?}", reports[i]);
    }
    assert_eq!(inbox.lock().processed.len(), 2);
}

#[tokio::test]
async fn without_the_poll_the_first_delivery_is_immediate() {
    let clock = Arc::new(FixedClock::from_seconds(beijing("2030-01-01 12:01:40")));
    let (sandbox, _hook, _inbox, lh) = redeeming_sandbox(
        SandboxOptions::default()
            .clock(clock)
            .notify_poll_interval(Duration::ZERO),
        usize::MAX,
    )
    .await;
    sandbox.redeem(&lh, 1).unwrap();
    let reports = sandbox.settle_notifications().await;
    let gaps: Vec<Duration> = reports[0]
        .attempts
        .windows(2)
        .map(|w| w[1].simulated_at - w[0].simulated_at)
        .collect();
    assert_eq!(reports[0].attempts[0].simulated_at, Duration::ZERO);
    assert_eq!(
        gaps,
        seconds(&[
            180, 360, 720, 1440, 2880, 5760, 11_520, 23_040, 46_080, 92_160
        ])
    );
}

#[test]
fn the_schedule_follows_the_poll_phase_and_interval() {
    let poll = NOTIFY_POLL_INTERVAL;
    let tick = beijing("2030-01-01 12:00:00");
    assert_eq!(tick % 300, 0);
    // 0 s, 1 s and 299 s after a poll; and before the epoch.
    for (at, first) in [
        (tick, 0),
        (tick + 1, 299),
        (tick + 299, 1),
        (-1, 1),
        (-300, 0),
    ] {
        let s = notification_schedule(at, poll);
        assert_eq!(s.delays()[0], Duration::from_secs(first), "{at}");
        assert_eq!(s.attempts(), 11);
    }
    // Another interval: each retry waits a whole number of polls, at least its interval.
    let s = notification_schedule(tick + 30, Duration::from_secs(240));
    assert_eq!(
        s.delays(),
        &seconds(&[
            210, 240, 480, 720, 1440, 2880, 5760, 11_520, 23_040, 46_080, 92_160
        ])[..]
    );
    // Under a second is no poll.
    let s = notification_schedule(tick + 30, Duration::from_millis(500));
    assert_eq!(s.delays()[..3], seconds(&[0, 180, 360])[..]);
}

/// An order of product 852, whose `expireTime` is 2030-01-10 23:59:59 and `endTime`
/// 2030-01-20 23:59:59, cancelled at `when` (Beijing time).
async fn cancel_at(field: Option<RefundWindowField>, when: &str) -> CancelOutcome {
    let mut product = LianheSandbox::default_products().remove(0).0;
    product.expire_time = Some("2030-01-10 23:59:59".into());
    product.end_time = Some("2030-01-20 23:59:59".into());
    let clock = Arc::new(FixedClock::from_seconds(beijing("2030-01-01 12:00:00")));
    let mut options = SandboxOptions::default()
        .clock(clock.clone())
        .products(vec![(product, 10)]);
    if let Some(field) = field {
        options = options.refund_window_field(field);
    }
    let sandbox = LianheSandbox::start_with(options).await.unwrap();
    let client = Client::new(sandbox.config()).unwrap();
    let lh = client
        .new_order(&NewOrder::new("W-1", "852", Fen::new(10_000), 1, visitor()))
        .await
        .unwrap()
        .lh_order_id
        .unwrap();
    clock.set_seconds(beijing(when));
    client
        .cancel_order(&CancelOrder::new("W-1", &lh, 1))
        .await
        .unwrap()
}

fn refused_as_late(outcome: &CancelOutcome) -> bool {
    matches!(outcome, CancelOutcome::Refused(r) if r.describe.contains("5天"))
}

#[tokio::test]
async fn the_refund_window_runs_from_the_chosen_field() {
    assert_eq!(
        SandboxOptions::default().refund_window_field,
        RefundWindowField::ExpireTime
    );
    // 2030-01-17: more than 5 days after expireTime, before endTime.
    for (field, late) in [
        (None, true),
        (Some(RefundWindowField::ExpireTime), true),
        (Some(RefundWindowField::EndTime), false),
    ] {
        let outcome = cancel_at(field, "2030-01-17 00:00:00").await;
        assert_eq!(refused_as_late(&outcome), late, "{field:?}: {outcome:?}");
        assert!(
            late || matches!(outcome, CancelOutcome::Accepted(_)),
            "{outcome:?}"
        );
    }
    // From endTime: 5 days later to the second is still in time, one second more is not.
    let edge = cancel_at(Some(RefundWindowField::EndTime), "2030-01-25 23:59:59").await;
    assert!(matches!(edge, CancelOutcome::Accepted(_)), "{edge:?}");
    let late = cancel_at(Some(RefundWindowField::EndTime), "2030-01-26 00:00:00").await;
    assert!(refused_as_late(&late), "{late:?}");
}

#[tokio::test]
async fn a_product_without_the_chosen_field_has_no_window() {
    // The default products have an expireTime (2099) and no endTime.
    let clock = Arc::new(FixedClock::from_seconds(beijing("2030-01-01 12:00:00")));
    for (field, late) in [
        (RefundWindowField::ExpireTime, true),
        (RefundWindowField::EndTime, false),
    ] {
        let sandbox = LianheSandbox::start_with(
            SandboxOptions::default()
                .clock(clock.clone())
                .refund_window_field(field),
        )
        .await
        .unwrap();
        let client = Client::new(sandbox.config()).unwrap();
        clock.set_seconds(beijing("2030-01-01 12:00:00"));
        let lh = client
            .new_order(&NewOrder::new("N-1", "852", Fen::new(10_000), 1, visitor()))
            .await
            .unwrap()
            .lh_order_id
            .unwrap();
        clock.set_seconds(beijing("2100-01-06 00:00:00"));
        let outcome = client
            .cancel_order(&CancelOrder::new("N-1", &lh, 1))
            .await
            .unwrap();
        assert_eq!(refused_as_late(&outcome), late, "{field:?}: {outcome:?}");
    }
}

#[tokio::test]
async fn a_2xx_reply_other_than_success_is_delivered_again() {
    let clock = Arc::new(FixedClock::from_seconds(beijing("2030-01-01 12:00:00")));
    let sandbox = LianheSandbox::start_with(
        SandboxOptions::default()
            .clock(clock)
            .time_compression(1_000_000.0),
    )
    .await
    .unwrap();
    let answers = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&answers);
    // 200 "received" first (not Lianhe's `success`), then 200 "success".
    let hook = SandboxServer::start(move |_: &SandboxRequest| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            SandboxResponse::text(StatusCode::OK, "received")
        } else {
            SandboxResponse::text(StatusCode::OK, ACK)
        }
    })
    .await;
    sandbox.set_notify_url(hook.uri());
    let lh = Client::new(sandbox.config())
        .unwrap()
        .new_order(&NewOrder::new("A-1", "852", Fen::new(10_000), 1, visitor()))
        .await
        .unwrap()
        .lh_order_id
        .unwrap();
    sandbox.redeem(&lh, 1).unwrap();
    let reports = sandbox.settle_notifications().await;
    let attempts = &reports[0].attempts;
    assert_eq!(attempts.len(), 2, "{reports:?}");
    assert_eq!(
        (attempts[0].status, attempts[0].accepted),
        (Some(200), false)
    );
    assert_eq!(
        (attempts[1].status, attempts[1].accepted),
        (Some(200), true)
    );
    assert_eq!(
        attempts.iter().map(|a| a.simulated_at).collect::<Vec<_>>(),
        seconds(&[0, 300])
    );
    assert!(reports[0].delivered);
    assert_eq!(answers.load(Ordering::SeqCst), 2);
}
