//! Notifications, property tests of the parser and verifier, and the client end to end
//! against the sandbox.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use tixpay_core::crypto::md5_hex_upper;
use tixpay_core::{ErrorKind, Fen, Secret, SignatureSubject, SortedParams};
use tixpay_leshua::notify::{ACK, Notification, NotificationParser, parse_pay_time};
use tixpay_leshua::{Config, OrderStatus, VerifyRule};

const NOTIFY_KEY: &str = "NOTIFY_KEY_NOT_REAL";

fn config() -> Config {
    Config::new("0000000018", Secret::new("TRADE"), Secret::new(NOTIFY_KEY))
}

/// A notification signed as the manual says (independently of the crate): sign and
/// error_code left out, empties kept, notify key, lower-case hex.
fn notification(fields: &[(&str, &str)]) -> String {
    let mut p = SortedParams::new();
    for (k, v) in fields {
        p.push(*k, *v);
    }
    let sign = md5_hex_upper(
        p.exclude(&["sign", "error_code"])
            .to_string_with_suffix("key", NOTIFY_KEY)
            .as_bytes(),
    )
    .to_ascii_lowercase();
    let mut xml = String::from("<leshua>");
    for (k, v) in fields {
        xml.push_str(&format!("<{k}><![CDATA[{v}]]></{k}>"));
    }
    xml.push_str(&format!("<sign><![CDATA[{sign}]]></sign></leshua>"));
    xml
}

const PAYMENT: &[(&str, &str)] = &[
    ("error_code", "0"),
    ("merchant_id", "0000000018"),
    ("sub_merchant_id", "1510105551"),
    ("leshua_order_id", "0003495002500081"),
    ("third_order_id", "NL1"),
    ("amount", "300"),
    ("status", "2"),
    ("pay_way", "ZFBZF"),
    ("pay_time", "2018-12-07 22:42:39"),
    ("bank_type", "ALIPAYACCOUNT"),
    ("sub_openid", ""),
    ("goods_tag", ""),
    ("buyer_pay_amount", ""),
];

const REFUND: &[(&str, &str)] = &[
    ("error_code", ""),
    ("nonce_str", "n1"),
    ("status", "11"),
    ("failure_reason", ""),
    ("merchant_id", "0000000018"),
    ("sub_merchant_id", "1510105551"),
    ("third_order_id", "NL1"),
    ("leshua_order_id", "0003495002500081"),
    ("refund_amount", "100"),
    ("merchant_refund_id", "R1"),
    ("leshua_refund_id", "LR1"),
    ("total_amount", "300"),
    ("refund_time", "20181208101010"),
];

#[test]
fn payment_notification_verifies_and_parses() {
    let body = notification(PAYMENT);
    let event = NotificationParser::new(&config())
        .parse(&http::HeaderMap::new(), body.as_bytes())
        .unwrap();
    let Notification::Payment(p) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(p.status, OrderStatus::Paid);
    assert_eq!(p.amount, Some(Fen::new(300)));
    assert_eq!(p.paid_at, parse_pay_time("20181207224239"));
    assert!(p.paid_at.is_some());
    assert_eq!(event.dedup_key(), "pay:0003495002500081:2");
    assert_eq!(event.fields().get("goods_tag"), Some(""));
}

#[test]
fn refund_notification_verifies_and_parses() {
    let body = notification(REFUND);
    let event = NotificationParser::new(&config())
        .parse(&http::HeaderMap::new(), body.as_bytes())
        .unwrap();
    let Notification::Refund(r) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(r.status, OrderStatus::Refunded);
    assert_eq!(r.refund_amount, Some(Fen::new(100)));
    assert_eq!(r.merchant_refund_id.as_deref(), Some("R1"));
    assert_eq!(event.dedup_key(), "refund:LR1:11");
}

#[test]
fn a_refund_notification_with_only_one_refund_id_is_still_a_refund() {
    for keep in ["merchant_refund_id", "leshua_refund_id"] {
        let fields: Vec<(&str, &str)> = REFUND
            .iter()
            .copied()
            .filter(|(k, _)| !matches!(*k, "merchant_refund_id" | "leshua_refund_id") || *k == keep)
            .collect();
        let event = NotificationParser::new(&config())
            .parse(&http::HeaderMap::new(), notification(&fields).as_bytes())
            .unwrap();
        assert!(
            matches!(event, Notification::Refund(_)),
            "{keep}: {event:?}"
        );
    }
}

#[test]
fn the_unsigned_error_code_is_kept_apart_from_the_verified_fields() {
    // error_code is outside the notification signature: rewriting it keeps the signature
    // valid, so it must never be handed out as verified.
    let body = notification(PAYMENT).replace(
        "<error_code><![CDATA[0]]></error_code>",
        "<error_code><![CDATA[-2125]]></error_code>",
    );
    let event = NotificationParser::new(&config())
        .parse(&http::HeaderMap::new(), body.as_bytes())
        .unwrap();
    let Notification::Payment(p) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(p.unverified_error_code.as_deref(), Some("-2125"));
    assert_eq!(event.fields().get("error_code"), None);
    assert_eq!(p.status, OrderStatus::Paid);
}

#[test]
fn notifications_fail_closed() {
    let parser = NotificationParser::new(&config());
    // Signed with the trade key instead of the notify key.
    let wrong_key = notification(PAYMENT).replace(NOTIFY_KEY, "x");
    let mut tampered = notification(PAYMENT);
    tampered = tampered.replace("<![CDATA[300]]>", "<![CDATA[30000]]>");
    let unsigned = "<leshua><status>2</status></leshua>".to_owned();
    for body in [tampered, unsigned] {
        let err = parser
            .parse(&http::HeaderMap::new(), body.as_bytes())
            .unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::Signature {
                    subject: SignatureSubject::Notification,
                    ..
                }
            ),
            "{err:?}"
        );
    }
    let other_key = NotificationParser::new(&Config::new(
        "0000000018",
        Secret::new("TRADE"),
        Secret::new("other"),
    ));
    assert!(
        other_key
            .parse(&http::HeaderMap::new(), wrong_key.as_bytes())
            .is_err()
    );
    // error_code is not signed: a changed error_code still verifies.
    let changed =
        notification(PAYMENT).replace("<error_code><![CDATA[0]]>", "<error_code><![CDATA[9]]>");
    assert!(
        parser
            .parse(&http::HeaderMap::new(), changed.as_bytes())
            .is_ok()
    );
    // Another merchant's notification.
    let mut fields = PAYMENT.to_vec();
    fields[1] = ("merchant_id", "9999999999");
    let other = notification(&fields);
    assert!(
        parser
            .parse(&http::HeaderMap::new(), other.as_bytes())
            .is_err()
    );
    // Not XML.
    assert!(
        parser
            .parse(&http::HeaderMap::new(), "接口为可用状态".as_bytes())
            .is_err()
    );
}

#[test]
fn compatible_rule_for_notifications() {
    // A notification whose signer dropped the empty fields.
    let mut p = SortedParams::new();
    for (k, v) in PAYMENT {
        p.push(*k, *v);
    }
    let sign = md5_hex_upper(
        p.skip_empty(true)
            .exclude(&["sign", "error_code"])
            .to_string_with_suffix("key", NOTIFY_KEY)
            .as_bytes(),
    );
    let mut xml = String::from("<leshua>");
    for (k, v) in PAYMENT {
        xml.push_str(&format!("<{k}>{v}</{k}>"));
    }
    xml.push_str(&format!("<sign>{sign}</sign></leshua>"));
    assert!(
        NotificationParser::new(&config())
            .parse(&http::HeaderMap::new(), xml.as_bytes())
            .is_err()
    );
    let lenient = NotificationParser::new(&config().verify_rule(VerifyRule::Compatible));
    assert!(
        lenient
            .parse(&http::HeaderMap::new(), xml.as_bytes())
            .is_ok()
    );
}

#[test]
fn ack_is_six_zeros() {
    assert_eq!(ACK, "000000");
    assert_eq!(
        tixpay_leshua::notify::ack_response().body().as_ref(),
        b"000000"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_never_panics_on_bytes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = NotificationParser::new(&config()).parse(&http::HeaderMap::new(), &body);
    }

    #[test]
    fn parser_never_panics_on_xmlish_text(body in "(<leshua>|</leshua>|<[a-z_]{1,8}>|</[a-z_]{1,8}>|<!\\[CDATA\\[|\\]\\]>|&[a-z#0-9]{0,6};|[a-z0-9 \u{4e00}-\u{4e10}]{0,8}){0,40}") {
        let _ = NotificationParser::new(&config()).parse(&http::HeaderMap::new(), body.as_bytes());
    }

    #[test]
    fn reply_verifier_never_panics_and_never_accepts_a_forgery(
        fields in proptest::collection::vec(("[a-z_]{1,10}", "[ -~\u{4e00}-\u{4e10}]{0,12}"), 0..12),
        sign in "[0-9A-Fa-f]{0,40}",
    ) {
        let mut borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        borrowed.retain(|(k, _)| *k != "sign");
        borrowed.push(("sign", sign.as_str()));
        let key = Secret::new("TRADE");
        // A random sign almost never matches; if it does, it must be the real MD5.
        if tixpay_leshua::auth::verify_reply(&borrowed, &key, VerifyRule::Compatible).is_ok() {
            prop_assert!(sign.len() == 32);
        }
        let expected = tixpay_leshua::auth::reply_sign(&borrowed, &key);
        let last = borrowed.len() - 1;
        borrowed[last] = ("sign", expected.as_str());
        prop_assert!(tixpay_leshua::auth::verify_reply(&borrowed, &key, VerifyRule::Documented).is_ok());
    }

    #[test]
    fn signed_notifications_round_trip(values in proptest::collection::vec("[A-Za-z0-9 ,.:\u{4e00}-\u{4e10}-]{0,12}", 5)) {
        let fields: Vec<(&str, &str)> = vec![
            ("merchant_id", "0000000018"),
            ("status", "2"),
            ("leshua_order_id", values[0].as_str()),
            ("attach", values[1].as_str()),
            ("bank_type", values[2].as_str()),
            ("sub_openid", values[3].as_str()),
            ("goods_tag", values[4].as_str()),
        ];
        let body = notification(&fields);
        let event = NotificationParser::new(&config()).parse(&http::HeaderMap::new(), body.as_bytes());
        prop_assert!(event.is_ok(), "{:?}", event);
        let event = event.unwrap();
        prop_assert_eq!(event.fields().get("attach"), Some(values[1].as_str()));
    }
}

#[cfg(feature = "sandbox")]
mod end_to_end {
    use std::collections::BTreeSet;

    use http::StatusCode;
    use tixpay_core::sandbox::{SandboxRequest, SandboxResponse, SandboxServer, Shared};
    use tixpay_leshua::sandbox::{LeshuaSandbox, SandboxOptions};
    use tixpay_leshua::{
        BarcodePay, Client, ErrorCode, OrderRef, PayMode, PayWay, Refund, RefundRef, UnifiedOrder,
    };

    use super::*;

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
        let sandbox = LeshuaSandbox::start_with(SandboxOptions {
            clock: clock.clone(),
            ..SandboxOptions::default()
        })
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
}

#[test]
fn no_secret_in_debug_or_display() {
    let config = Config::new(
        "0000000018",
        Secret::new("TRADE-KEY-7f3a"),
        Secret::new("NOTIFY-KEY-2b9c"),
    );
    let client = tixpay_leshua::Client::new(config.clone()).unwrap();
    let parser = NotificationParser::new(&config);
    for shown in [
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{parser:?}"),
        format!("{config:#?}"),
    ] {
        assert!(
            !shown.contains("TRADE-KEY-7f3a") && !shown.contains("NOTIFY-KEY-2b9c"),
            "{shown}"
        );
    }
}

#[test]
fn pay_time_reads_both_documented_forms_as_china_time() {
    // 2018-12-07 22:42:39 in China (UTC+8) is 14:42:39 UTC, computed outside the crate.
    assert_eq!(parse_pay_time("20181207224239"), Some(1_544_193_759));
    assert_eq!(parse_pay_time("2018-12-07 22:42:39"), Some(1_544_193_759));
    assert_eq!(parse_pay_time(" 20181207224239 "), Some(1_544_193_759));
    assert_eq!(parse_pay_time("yesterday"), None);
    assert_eq!(parse_pay_time(""), None);
}

#[test]
fn the_documentation_example_is_a_genuine_payment_notification() {
    let body = tixpay_leshua::notify::signed_example(&config());
    let Notification::Payment(p) = NotificationParser::new(&config())
        .parse(&http::HeaderMap::new(), body.as_bytes())
        .unwrap()
    else {
        panic!("not a payment");
    };
    assert_eq!(p.third_order_id.as_deref(), Some("NL2019032218253138930"));
    assert_eq!(p.amount, Some(Fen::new(1)));
    assert_eq!(p.paid_at, Some(1_544_193_759));
}
