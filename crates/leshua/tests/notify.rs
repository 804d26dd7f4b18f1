//! Notifications, and property tests of the parser and verifier.
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
fn agent_pos_card_statuses_are_typed() {
    // 30–33 occur only in the agent/POS card notifications (spec §3.8).
    for (wire, status) in [
        ("30", OrderStatus::CardPaid),
        ("31", OrderStatus::CardVoided),
        ("32", OrderStatus::CardReturned),
        ("33", OrderStatus::CardReversed),
    ] {
        let fields: Vec<(&str, &str)> = PAYMENT
            .iter()
            .map(|&(k, v)| if k == "status" { (k, wire) } else { (k, v) })
            .collect();
        let body = notification(&fields);
        let event = NotificationParser::new(&config())
            .parse(&http::HeaderMap::new(), body.as_bytes())
            .unwrap();
        let Notification::Payment(p) = &event else {
            panic!("{event:?}")
        };
        assert_eq!(p.status, status);
        assert_eq!(event.dedup_key(), format!("pay:0003495002500081:{wire}"));
        // The typed status stores as its wire text.
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["Payment"]["status"], wire);
        assert_eq!(serde_json::from_value::<Notification>(json).unwrap(), event);
        // And it is signed: another card status in its place is refused.
        let other = if wire == "30" { "31" } else { "30" };
        let forged = body.replace(
            &format!("<status><![CDATA[{wire}]]></status>"),
            &format!("<status><![CDATA[{other}]]></status>"),
        );
        assert_ne!(forged, body);
        let err = NotificationParser::new(&config())
            .parse(&http::HeaderMap::new(), forged.as_bytes())
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    }
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
fn ack_is_six_zeros_and_reject_is_anything_else() {
    use tixpay_core::notify::Notifications;
    let parser = NotificationParser::new(&config());
    assert_eq!(ACK, "000000");
    let ack = parser.ack();
    assert_eq!(ack.status(), 200);
    assert_eq!(ack.body().as_ref(), b"000000");
    let reject = parser.reject();
    assert!(!reject.status().is_success());
    assert_ne!(reject.body().as_ref(), b"000000");
}

#[tokio::test]
async fn the_contract_parse_verifies_like_the_inherent_one() {
    use tixpay_core::notify::{Deduplicate, Notifications};
    let parser = NotificationParser::new(&config());
    let body = notification(PAYMENT);
    let event = Notifications::parse(&parser, &http::HeaderMap::new(), body.as_bytes())
        .await
        .unwrap();
    assert_eq!(Deduplicate::dedup_key(&event), event.dedup_key());
    let forged = body.replace("300", "30000");
    assert!(
        Notifications::parse(&parser, &http::HeaderMap::new(), forged.as_bytes())
            .await
            .is_err()
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

#[test]
fn a_signed_amount_that_is_not_fen_is_a_typed_error_not_none() {
    let parser = NotificationParser::new(&config());
    for (base, field) in [
        (PAYMENT, "amount"),
        (REFUND, "refund_amount"),
        (REFUND, "total_amount"),
    ] {
        for bad in [
            "-1",
            "1e3",
            " 100",
            "１００",
            "1.00",
            "99999999999999999999",
        ] {
            let fields: Vec<(&str, &str)> = base
                .iter()
                .map(|(k, v)| if *k == field { (*k, bad) } else { (*k, *v) })
                .collect();
            let err = parser
                .parse(&http::HeaderMap::new(), notification(&fields).as_bytes())
                .unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::Decode { path: Some(p), .. } if p == field),
                "{field}={bad:?}: {err:?}"
            );
        }
    }
    // Absent or empty amounts stay `None`.
    let fields: Vec<(&str, &str)> = PAYMENT
        .iter()
        .map(|(k, v)| if *k == "amount" { (*k, "") } else { (*k, *v) })
        .collect();
    let Notification::Payment(p) = parser
        .parse(&http::HeaderMap::new(), notification(&fields).as_bytes())
        .unwrap()
    else {
        panic!("not a payment")
    };
    assert_eq!(p.amount, None);
}

#[test]
fn statuses_and_pay_ways_store_as_their_wire_text() {
    for status in ["0", "2", "6", "8", "10", "11", "12", "31"] {
        let parsed = OrderStatus::parse(status);
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            format!("\"{status}\"")
        );
        tixpay_core::test_util::assert_stores_as_json(&parsed);
    }
    tixpay_core::test_util::assert_stores_as_json(&tixpay_leshua::PayWay::parse("DCPAY"));
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
    let event = NotificationParser::new(&config())
        .parse(&http::HeaderMap::new(), body.as_bytes())
        .unwrap();
    tixpay_core::test_util::assert_stores_as_json(&event);
    let Notification::Payment(p) = event else {
        panic!("not a payment");
    };
    assert_eq!(p.third_order_id.as_deref(), Some("NL2019032218253138930"));
    assert_eq!(p.amount, Some(Fen::new(1)));
    assert_eq!(p.paid_at, Some(1_544_193_759));
}
