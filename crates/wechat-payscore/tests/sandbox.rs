//! End to end against the sandbox: create → confirm → complete → pay → USER_PAID callback
//! verified and decrypted; cancel refused in the wrong state; certificate download and
//! refresh on an unknown serial; callbacks rejected when forged.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::sync::Arc;

use http::StatusCode;
use tixpay_core::sandbox::{SandboxRequest, SandboxResponse, SandboxServer, Shared};
use tixpay_core::{ErrorKind, SignatureSubject};
use tixpay_wechat_payscore::notify::{Callback, CallbackEvent};
use tixpay_wechat_payscore::sandbox::{PayScoreSandbox, SandboxOptions, VerifyMode};
use tixpay_wechat_payscore::*;

#[derive(Default)]
struct Inbox {
    ids: BTreeSet<String>,
    callbacks: Vec<Callback>,
    deliveries: usize,
}

/// A callback receiver as a merchant writes it; fails the first `fail_first` deliveries.
async fn receiver(client: Client, fail_first: usize) -> (SandboxServer, Shared<Inbox>) {
    let inbox = Shared::new(Inbox::default());
    let state = inbox.clone();
    let failures = Arc::new(std::sync::atomic::AtomicUsize::new(fail_first));
    let runtime = tokio::runtime::Handle::current();
    let server = SandboxServer::start(move |req: &SandboxRequest| {
        state.with(|s| s.deliveries += 1);
        if failures
            .fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |n| n.checked_sub(1),
            )
            .is_ok()
        {
            return SandboxResponse::text(StatusCode::INTERNAL_SERVER_ERROR, "busy");
        }
        let parsed = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    runtime.block_on(
                        tixpay_wechat_payscore::notify::NotificationParser::new(&client)
                            .parse(&req.headers, &req.body),
                    )
                })
                .join()
                .unwrap()
        });
        match parsed {
            Ok(cb) => {
                state.with(|s| {
                    if s.ids.insert(cb.dedup_key().to_owned()) {
                        s.callbacks.push(cb);
                    }
                });
                SandboxResponse::new(StatusCode::NO_CONTENT)
            }
            Err(e) => SandboxResponse::text(StatusCode::UNAUTHORIZED, e.to_string()),
        }
    })
    .await;
    (server, inbox)
}

fn rental(no: &str, notify: &str) -> CreateServiceOrder {
    CreateServiceOrder::new(
        no,
        tixpay_wechat_payscore::sandbox::SANDBOX_APPID,
        tixpay_wechat_payscore::sandbox::SANDBOX_SERVICE_ID,
        "景区电瓶车租借",
        TimeRange::starting(TimePoint::OnAccept),
        RiskFund::new(RiskFundName::Deposit, Fen::new(20_000)).description("押金"),
        notify,
    )
    .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_confirm_complete_pay_callback() {
    let sandbox = PayScoreSandbox::start().await.unwrap();
    let client = Client::new(sandbox.config()).unwrap();
    let (hook, inbox) = receiver(client.clone(), 1).await;
    let order = rental("RENT-1", "https://notify.invalid/payscore").need_user_confirm(true);
    let created = client.create_service_order(&order).await.unwrap();
    assert_eq!(created.state, Some(State::Created));
    assert!(created.package.is_some());
    // Re-entry with the same parameters answers the same order; other parameters refused.
    let again = client.create_service_order(&order).await.unwrap();
    assert_eq!(again.order_id, created.order_id);
    let changed = client
        .create_service_order(
            &order
                .clone()
                .post_payment(PostPayment::new("额外", Fen::new(1))),
        )
        .await
        .unwrap_err();
    assert_eq!(
        PayScoreCode::from_error(&changed),
        Some(PayScoreCode::ReentryMismatch)
    );

    // The client only accepts https notify URLs; the receiver here is plain loopback http,
    // so the sandbox is told where this order's callbacks really go.
    let no = "RENT-2";
    client
        .create_service_order(&rental(no, "https://placeholder.invalid/cb"))
        .await
        .unwrap();
    sandbox.set_notify_url(no, &hook.uri());

    sandbox.user_confirms(no).unwrap();
    let confirmed = client
        .query_service_order(
            &OrderRef::OutOrderNo(no.into()),
            sandbox.service_id(),
            sandbox.appid(),
        )
        .await
        .unwrap();
    assert_eq!(
        confirmed.state_description,
        Some(StateDescription::UserConfirm)
    );

    let complete =
        CompleteServiceOrder::new(sandbox.appid(), sandbox.service_id(), Fen::new(2_500))
            .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
            .post_discount(PostDiscount::new("会员优惠", Fen::new(500)));
    let completed = client.complete_service_order(no, &complete).await.unwrap();
    assert_eq!(
        completed.state_description,
        Some(StateDescription::MchComplete)
    );
    assert_eq!(
        completed.collection.as_ref().unwrap().state,
        CollectionState::UserPaying
    );

    // Cancel is refused once the merchant completed.
    let cancel = CancelServiceOrder::new(sandbox.appid(), sandbox.service_id(), "用户取消");
    let refused = client.cancel_service_order(no, &cancel).await.unwrap_err();
    assert_eq!(
        ErrorCode::from_error(&refused),
        Some(ErrorCode::InvalidOrderState)
    );
    assert_eq!(
        PayScoreCode::from_error(&refused),
        Some(PayScoreCode::CannotCancelInState)
    );

    sandbox.user_pays(no).unwrap();
    let reports = sandbox.settle_callbacks().await;
    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|r| r.delivered), "{reports:?}");

    let inbox = inbox.lock();
    assert_eq!(
        inbox.deliveries, 3,
        "one failure on purpose, then two callbacks"
    );
    assert_eq!(inbox.callbacks.len(), 2);
    assert!(matches!(
        inbox.callbacks[0].event,
        CallbackEvent::UserConfirm(_)
    ));
    let CallbackEvent::UserPaid(paid) = &inbox.callbacks[1].event else {
        panic!("{:?}", inbox.callbacks[1])
    };
    assert_eq!(paid.state, Some(State::Done));
    let collection = paid.collection.as_ref().unwrap();
    assert_eq!(collection.state, CollectionState::UserPaid);
    assert_eq!(collection.paid_amount, Some(Fen::new(2_500)));
    assert!(collection.details[0].transaction_id.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_in_created_state_and_expiry() {
    let sandbox = PayScoreSandbox::start().await.unwrap();
    let client = Client::new(sandbox.config()).unwrap();
    client
        .create_service_order(&rental("C-1", "https://n.invalid/cb"))
        .await
        .unwrap();
    let cancel = CancelServiceOrder::new(sandbox.appid(), sandbox.service_id(), "行程取消");
    client.cancel_service_order("C-1", &cancel).await.unwrap();
    let order = client
        .query_service_order(
            &OrderRef::OutOrderNo("C-1".into()),
            sandbox.service_id(),
            sandbox.appid(),
        )
        .await
        .unwrap();
    assert_eq!(order.state, Some(State::Revoked));
    // Cancel again: the order is no longer CREATED. The sandbox signs its refusals, and the
    // signature verifies, but an error body echoes no order: for a write that is no proof
    // of anything, so the outcome is unknown and the order is queried.
    let again = client
        .cancel_service_order("C-1", &cancel)
        .await
        .unwrap_err();
    assert!(again.as_api().is_some(), "{again:?}");
    assert!(again.is_outcome_unknown(), "{again}");
    assert!(
        again
            .unverified_reason()
            .is_some_and(|r| r.contains("out_order_no")),
        "{again:?}"
    );
    // Complete before the user confirmed: refused.
    client
        .create_service_order(&rental("C-2", "https://n.invalid/cb"))
        .await
        .unwrap();
    let complete = CompleteServiceOrder::new(sandbox.appid(), sandbox.service_id(), Fen::new(100))
        .post_payment(PostPayment::new("x", Fen::new(100)));
    assert!(
        client
            .complete_service_order("C-2", &complete)
            .await
            .is_err()
    );
    // 31 days later a CREATED order is EXPIRED.
    sandbox.age_order("C-2", 31);
    let order = client
        .query_service_order(
            &OrderRef::OutOrderNo("C-2".into()),
            sandbox.service_id(),
            sandbox.appid(),
        )
        .await
        .unwrap();
    assert_eq!(order.state, Some(State::Expired));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modify_only_lowers_and_messages_once() {
    let sandbox = PayScoreSandbox::start().await.unwrap();
    // `Config::sandbox(url)` fits a sandbox started with the default options.
    let client = Client::new(Config::sandbox(sandbox.uri())).unwrap();
    client
        .create_service_order(&rental("M-1", "https://n.invalid/cb"))
        .await
        .unwrap();
    sandbox.user_confirms("M-1").unwrap();
    let complete =
        CompleteServiceOrder::new(sandbox.appid(), sandbox.service_id(), Fen::new(3_000))
            .post_payment(PostPayment::new("租车费", Fen::new(3_000)));
    client
        .complete_service_order("M-1", &complete)
        .await
        .unwrap();
    let modify = |total: Fen| {
        ModifyServiceOrder::new(sandbox.appid(), sandbox.service_id(), total, "调价")
            .post_payment(PostPayment::new("租车费", total))
    };
    assert!(
        client
            .modify_service_order("M-1", &modify(Fen::new(3_500)))
            .await
            .is_err()
    );
    let lowered = client
        .modify_service_order("M-1", &modify(Fen::new(2_000)))
        .await
        .unwrap();
    assert_eq!(lowered.total_amount, Some(Fen::new(2_000)));
    let message = PaymentMessage::new(sandbox.service_id(), Fen::new(2_000), "20240101")
        .post_payment(PostPayment::new("租车费", Fen::new(2_000)));
    client.send_pending_message("M-1", &message).await.unwrap();
    assert!(client.send_pending_message("M-1", &message).await.is_err());
    client
        .pay_service_order("M-1", sandbox.appid(), sandbox.service_id())
        .await
        .unwrap();
    let synced = client
        .sync_service_order(
            "M-1",
            &SyncServiceOrder::order_paid(sandbox.appid(), sandbox.service_id(), "20240101120000"),
        )
        .await
        .unwrap();
    assert_eq!(synced.state, Some(State::Done));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_download_and_refresh_on_unknown_serial() {
    let sandbox =
        PayScoreSandbox::start_with(SandboxOptions::default().mode(VerifyMode::Certificates))
            .await
            .unwrap();
    let client = Client::new(sandbox.config()).unwrap();
    assert!(client.certificate_serials().is_empty());
    // The first reply's serial is unknown: the client downloads the certificates.
    client
        .create_service_order(&rental("K-1", "https://n.invalid/cb"))
        .await
        .unwrap();
    let serials = client.certificate_serials();
    assert_eq!(serials.len(), 2);
    assert!(serials.contains(&"5157F09EFDC096DE15EBE81A47057A7232F1B8E1".to_owned()));
    // The sandbox rotates to its other certificate: still verified.
    sandbox.rotate_certificate();
    client
        .query_service_order(
            &OrderRef::OutOrderNo("K-1".into()),
            sandbox.service_id(),
            sandbox.appid(),
        )
        .await
        .unwrap();
    assert_eq!(client.refresh_certificates().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_refresh_in_the_background() {
    let sandbox =
        PayScoreSandbox::start_with(SandboxOptions::default().mode(VerifyMode::Certificates))
            .await
            .unwrap();
    let config = sandbox
        .config()
        .certificate_refresh_interval(std::time::Duration::from_millis(50));
    let client = Client::new(config).unwrap();
    assert!(client.certificate_serials().is_empty());
    let refresher = client.spawn_certificate_refresh();
    // No call is made: only the background task can have fetched them.
    let mut waited = 0;
    while client.certificate_serials().is_empty() && waited < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        waited += 1;
    }
    assert_eq!(client.certificate_serials().len(), 2);
    // The task ends by itself once every clone of the client is gone.
    drop(client);
    tokio::time::timeout(std::time::Duration::from_secs(5), refresher)
        .await
        .expect("the refresh task did not stop")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_request_signature_gets_sign_error() {
    let sandbox = PayScoreSandbox::start().await.unwrap();
    let other_key = include_str!("../../core/tests/fixtures/w1_private_key.pem");
    let config = Config::new(
        tixpay_wechat_payscore::sandbox::SANDBOX_MCHID,
        other_key,
        tixpay_wechat_payscore::sandbox::SANDBOX_MERCHANT_SERIAL,
        tixpay_core::Secret::new(tixpay_wechat_payscore::sandbox::SANDBOX_APIV3_KEY),
    )
    .unwrap()
    .wechatpay_public_key(
        tixpay_wechat_payscore::sandbox::SANDBOX_PUBLIC_KEY_ID,
        &sandbox.wechatpay_public_key_pem(),
    )
    .unwrap()
    .base_url(sandbox.uri());
    let err = Client::new(config)
        .unwrap()
        .create_service_order(&rental("S-1", "https://n.invalid/cb"))
        .await
        .unwrap_err();
    assert_eq!(ErrorCode::from_error(&err), Some(ErrorCode::SignError));
    assert_eq!(err.as_api().unwrap().status.unwrap().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_probe_callbacks_are_rejected() {
    let sandbox = PayScoreSandbox::start().await.unwrap();
    // `Config::sandbox(url)` fits a sandbox started with the default options.
    let client = Client::new(Config::sandbox(sandbox.uri())).unwrap();
    let body = br#"{"id":"EV-1","event_type":"PAYSCORE.USER_PAID","resource":{"algorithm":"AEAD_AES_256_GCM","ciphertext":"AAAA","nonce":"123456789012","associated_data":"payscore"}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut headers = http::HeaderMap::new();
    headers.insert("wechatpay-timestamp", now.to_string().parse().unwrap());
    headers.insert("wechatpay-nonce", "n".parse().unwrap());
    headers.insert(
        "wechatpay-serial",
        tixpay_wechat_payscore::sandbox::SANDBOX_PUBLIC_KEY_ID
            .parse()
            .unwrap(),
    );
    headers.insert(
        "wechatpay-signature",
        "WECHATPAY/SIGNTEST/eHl6".parse().unwrap(),
    );
    let err = tixpay_wechat_payscore::notify::NotificationParser::new(&client)
        .parse(&headers, body)
        .await
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::Signature {
            subject: SignatureSubject::Notification,
            ..
        }
    ));
    headers.insert(
        "wechatpay-signature",
        tixpay_core::crypto::base64::encode([1u8; 256])
            .parse()
            .unwrap(),
    );
    assert!(
        tixpay_wechat_payscore::notify::NotificationParser::new(&client)
            .parse(&headers, body)
            .await
            .is_err()
    );
    headers.remove("wechatpay-nonce");
    assert!(
        tixpay_wechat_payscore::notify::NotificationParser::new(&client)
            .parse(&headers, body)
            .await
            .is_err()
    );
}
