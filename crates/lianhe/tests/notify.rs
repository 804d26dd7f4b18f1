//! Notification parsing: the seed's samples, with and without signature, and hostile input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use tixpay_core::crypto::{base64, hmac_sha1};
use tixpay_core::notify::{Deduplicate, Notifications};
use tixpay_core::{ErrorKind, FixedClock, Secret, SignatureSubject};
use tixpay_lianhe::notify::{ACK, Notification, NotificationParser};
use tixpay_lianhe::{Config, OrderStatus, RefundStatus};

const SN_SAMPLE: &str = r#"{ "code":10000, "describe":"執行成功", "partnerId":3528, "method":"snNotify", "body":{ "orderId":"test158585", "LHOrderId":"15354", "orderStatus":9, "orderQuantity":3, "usedQuantity":1, "sncode":"411258698456" } }"#;
const RE_SUCCESS: &str = r#"{"code":10000,"describe":"执行成功","partnerId":3528,"method":"reNotify","body":{"orderId":"partner16545658","LHOrderId":"15354","orderStatus":6,"quantity":3,"reQuantity":3}}"#;
const RE_REJECTED: &str = r#"{"code":20000,"describe":"退款审核已驳回","partnerId":3528,"method":"reNotify","body":{"orderId":"partner16545658","LHOrderId":"15354","orderStatus":7,"reStatus":4}}"#;

const SECRET: &str = "notify-secret-not-real";
const DATE: &str = "Wed, 06 May 2015 10:34:20 GMT";

fn config() -> Config {
    Config::new(3528, "testapi", Secret::new(SECRET))
        .clock(Arc::new(FixedClock::from_seconds(1_430_908_460)))
}

fn signed_headers(date: &str) -> http::HeaderMap {
    let to_sign = format!("POST /openapi/index.php?method=notify\n{date}");
    let sig = base64::encode(hmac_sha1(SECRET.as_bytes(), to_sign.as_bytes()));
    let mut h = http::HeaderMap::new();
    h.insert("date", date.parse().unwrap());
    h.insert(
        "authorization",
        format!("LH testapi:{sig}").parse().unwrap(),
    );
    h
}

#[test]
fn seed_sn_notify_sample() {
    let event = NotificationParser::unverified()
        .parse(&http::HeaderMap::new(), SN_SAMPLE.as_bytes())
        .unwrap();
    let Notification::Redeemed(r) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(r.code, 10000);
    assert_eq!(r.partner_id, Some(3528));
    assert_eq!(r.order_id, "test158585");
    assert_eq!(r.lh_order_id, "15354");
    assert_eq!(r.order_status, OrderStatus(9));
    assert_eq!(r.order_quantity, 3);
    assert_eq!(r.used_quantity, 1);
    assert_eq!(r.sn_codes, vec!["411258698456"]);
    assert_eq!(event.dedup_key(), "snNotify:15354:1");
    tixpay_core::test_util::assert_stores_as_json(&event);
}

#[test]
fn several_codes_are_split() {
    let body = SN_SAMPLE.replace("411258698456", "1, 2,3");
    let Notification::Redeemed(r) = NotificationParser::unverified()
        .parse(&http::HeaderMap::new(), body.as_bytes())
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.sn_codes, vec!["1", "2", "3"]);
}

#[test]
fn re_notify_success_and_rejection() {
    let parser = NotificationParser::unverified();
    let ok = parser
        .parse(&http::HeaderMap::new(), RE_SUCCESS.as_bytes())
        .unwrap();
    let Notification::Refund(r) = &ok else {
        panic!()
    };
    assert!(r.is_approved());
    assert_eq!(r.quantity, Some(3));
    assert_eq!(r.refunded_quantity, Some(3));
    assert_eq!(r.merged_refunded_quantity(1), 3);
    assert_eq!(r.merged_refunded_quantity(5), 5);

    let rejected = parser
        .parse(&http::HeaderMap::new(), RE_REJECTED.as_bytes())
        .unwrap();
    let Notification::Refund(r) = &rejected else {
        panic!()
    };
    assert!(!r.is_approved());
    assert_eq!(r.describe, "退款审核已驳回");
    assert_eq!(r.order_status, OrderStatus(7));
    assert_eq!(r.refund_status, Some(RefundStatus(4)));
    assert_eq!(r.refunded_quantity, None);
    assert_ne!(ok.dedup_key(), rejected.dedup_key());
    tixpay_core::test_util::assert_stores_as_json(&ok);
    tixpay_core::test_util::assert_stores_as_json(&rejected);
}

#[test]
fn the_documented_mothod_spelling_is_accepted() {
    let body = RE_SUCCESS.replace("\"method\"", "\"mothod\"");
    let event = NotificationParser::unverified()
        .parse(&http::HeaderMap::new(), body.as_bytes())
        .unwrap();
    assert!(matches!(event, Notification::Refund(_)));
}

#[test]
fn repeated_deliveries_share_a_key() {
    let parser = NotificationParser::unverified();
    let a = parser
        .parse(&http::HeaderMap::new(), RE_SUCCESS.as_bytes())
        .unwrap();
    let b = parser
        .parse(&http::HeaderMap::new(), RE_SUCCESS.as_bytes())
        .unwrap();
    assert_eq!(a.dedup_key(), b.dedup_key());
    let later = RE_SUCCESS.replace("\"reQuantity\":3", "\"reQuantity\":5");
    let c = parser
        .parse(&http::HeaderMap::new(), later.as_bytes())
        .unwrap();
    assert_ne!(a.dedup_key(), c.dedup_key());
}

#[test]
fn signed_notifications_verify() {
    let parser = NotificationParser::new(&config());
    let event = parser
        .parse(&signed_headers(DATE), SN_SAMPLE.as_bytes())
        .unwrap();
    assert!(matches!(event, Notification::Redeemed(_)));

    // Missing headers, a wrong date, a wrong key: each a notification-signature error.
    for headers in [
        http::HeaderMap::new(),
        {
            let mut h = signed_headers(DATE);
            h.insert("date", "Wed, 06 May 2015 10:34:21 GMT".parse().unwrap());
            h
        },
        {
            let mut h = signed_headers(DATE);
            h.insert(
                "authorization",
                "LH testapi:AAAAAAAAAAAAAAAAAAAAAAAAAAA=".parse().unwrap(),
            );
            h
        },
        {
            let mut h = signed_headers(DATE);
            h.remove("authorization");
            h
        },
    ] {
        let err = parser.parse(&headers, SN_SAMPLE.as_bytes()).unwrap_err();
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
        assert!(!err.to_string().contains(SECRET));
    }
}

#[test]
fn date_window_is_optional() {
    let parser = NotificationParser::new(&config()).max_date_skew(Duration::from_secs(600));
    assert!(
        parser
            .parse(&signed_headers(DATE), SN_SAMPLE.as_bytes())
            .is_ok()
    );
    let old = "Tue, 05 May 2015 10:34:20 GMT";
    let err = parser
        .parse(&signed_headers(old), SN_SAMPLE.as_bytes())
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }));
    // Without a window, the old (but correctly signed) date passes.
    let lenient = NotificationParser::new(&config());
    assert!(
        lenient
            .parse(&signed_headers(old), SN_SAMPLE.as_bytes())
            .is_ok()
    );
}

#[test]
fn the_clock_setter_keeps_verifying_and_the_window_edge_is_inclusive() {
    // DATE is 1 430 908 460. A parser with its own clock must still check signatures.
    let at = |now: i64| {
        NotificationParser::new(&config())
            .max_date_skew(Duration::from_secs(600))
            .clock(Arc::new(FixedClock::from_seconds(now)))
    };
    let mut forged = signed_headers(DATE);
    forged.insert(
        "authorization",
        "LH testapi:AAAAAAAAAAAAAAAAAAAAAAAAAAA=".parse().unwrap(),
    );
    let err = at(1_430_908_460)
        .parse(&forged, SN_SAMPLE.as_bytes())
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    // Exactly max_date_skew away, either side: accepted; one second more: refused.
    for now in [1_430_908_460 + 600, 1_430_908_460 - 600] {
        assert!(
            at(now)
                .parse(&signed_headers(DATE), SN_SAMPLE.as_bytes())
                .is_ok(),
            "{now}"
        );
    }
    for now in [1_430_908_460 + 601, 1_430_908_460 - 601] {
        assert!(
            at(now)
                .parse(&signed_headers(DATE), SN_SAMPLE.as_bytes())
                .is_err(),
            "{now}"
        );
    }
}

#[test]
fn hostile_bodies_give_typed_errors() {
    let parser = NotificationParser::unverified();
    for body in [
        &b""[..],
        b"success",
        b"<xml/>",
        b"{\"code\":10000",
        b"{\"code\":\"x\",\"method\":\"snNotify\"}",
        b"{\"code\":10000,\"method\":\"snNotify\",\"body\":{}}",
        b"{\"code\":10000,\"method\":\"reNotify\",\"body\":[]}",
        b"\xff\xfe",
    ] {
        let err = parser.parse(&http::HeaderMap::new(), body).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err:?}");
        // The evidence is kept: the delivery's own bytes, not an empty excerpt.
        if let ErrorKind::Decode { body_excerpt, .. } = err.kind()
            && std::str::from_utf8(body).is_ok_and(|b| !b.is_empty())
        {
            assert!(!body_excerpt.is_empty(), "{err:?}");
        }
    }
    let unknown = parser
        .parse(
            &http::HeaderMap::new(),
            br#"{"code":10000,"method":"priceNotify","body":{"x":1}}"#,
        )
        .unwrap();
    assert!(matches!(unknown, Notification::Unknown { ref method, .. } if method == "priceNotify"));
}

#[test]
fn the_reply_is_the_plain_string_success() {
    assert_eq!(ACK, "success");
    let parser = NotificationParser::new(&config());
    let r = parser.ack();
    assert_eq!(r.status(), 200);
    assert_eq!(r.body().as_ref(), b"success");
    let reject = parser.reject();
    assert!(!reject.status().is_success());
    assert_ne!(reject.body().as_ref(), b"success");
}

#[tokio::test]
async fn the_contract_parse_verifies_and_the_unverified_parser_says_so_by_name() {
    // The seed sample carries no LH header: the verifying parser refuses it, the
    // parser named `unverified` takes it.
    let refused = Notifications::parse(
        &NotificationParser::new(&config()),
        &http::HeaderMap::new(),
        SN_SAMPLE.as_bytes(),
    )
    .await;
    assert!(refused.is_err());
    let event = Notifications::parse(
        &NotificationParser::unverified(),
        &http::HeaderMap::new(),
        SN_SAMPLE.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(Deduplicate::dedup_key(&event), "snNotify:15354:1");
}

#[test]
fn rejections_without_a_refund_serial_stay_distinct() {
    let parser = NotificationParser::unverified();
    let a = RE_REJECTED.replace("\"reStatus\":4", "\"reStatus\":4,\"refundSerial\":\"RF-A\"");
    let b = RE_REJECTED.replace("\"reStatus\":4", "\"reStatus\":4,\"refundSerial\":\"RF-B\"");
    let ka = parser
        .parse(&http::HeaderMap::new(), a.as_bytes())
        .unwrap()
        .dedup_key();
    let kb = parser
        .parse(&http::HeaderMap::new(), b.as_bytes())
        .unwrap()
        .dedup_key();
    assert_ne!(ka, kb);
    let again = parser
        .parse(&http::HeaderMap::new(), a.as_bytes())
        .unwrap()
        .dedup_key();
    assert_eq!(ka, again);
}

#[test]
fn a_verified_notification_must_be_for_the_configured_partner() {
    let parser = NotificationParser::new(&config());
    let refused = |body: &str| {
        let err = parser
            .parse(&signed_headers(DATE), body.as_bytes())
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
        assert_eq!(err.provider(), Some("lianhe"));
        err
    };
    // Correctly signed, but for partner 9999: refused, and the error says which.
    for sample in [SN_SAMPLE, RE_SUCCESS, RE_REJECTED] {
        let foreign = sample.replace("\"partnerId\":3528", "\"partnerId\":9999");
        assert_ne!(foreign, sample);
        let err = refused(&foreign);
        assert!(err.to_string().contains("9999"), "{err}");
    }
    // As a numeric string: compared by value.
    let as_text = RE_SUCCESS.replace("\"partnerId\":3528", "\"partnerId\":\"3528\"");
    assert!(
        parser
            .parse(&signed_headers(DATE), as_text.as_bytes())
            .is_ok()
    );
    let foreign_text = RE_SUCCESS.replace("\"partnerId\":3528", "\"partnerId\":\"3529\"");
    refused(&foreign_text);
    // Without a partnerId (documented as required): refused.
    let none = RE_SUCCESS.replace("\"partnerId\":3528,", "");
    assert!(!none.contains("partnerId"));
    refused(&none);
    // A method the crate does not know is held to the same rule.
    refused(r#"{"code":10000,"partnerId":1,"method":"priceNotify","body":{"x":1}}"#);
    assert!(matches!(
        parser
            .parse(
                &signed_headers(DATE),
                br#"{"code":10000,"partnerId":3528,"method":"priceNotify","body":{"x":1}}"#
            )
            .unwrap(),
        Notification::Unknown { .. }
    ));

    // The same notifications for our partner are accepted, and say so.
    for sample in [SN_SAMPLE, RE_SUCCESS, RE_REJECTED] {
        let partner = match parser.parse(&signed_headers(DATE), sample.as_bytes()) {
            Ok(Notification::Redeemed(r)) => r.partner_id,
            Ok(Notification::Refund(r)) => r.partner_id,
            other => panic!("{other:?}"),
        };
        assert_eq!(partner, Some(3528));
    }
}

#[test]
fn the_partner_check_belongs_to_verification_not_to_parsing() {
    // A parser configured for another partner refuses our samples…
    let other = Config::new(1985, "testapi", Secret::new(SECRET));
    let err = NotificationParser::new(&other)
        .parse(&signed_headers(DATE), SN_SAMPLE.as_bytes())
        .unwrap_err();
    assert!(err.to_string().contains("not 1985"), "{err}");
    // …while the unverified parser parses any partner's, and shows whose it is.
    let foreign = RE_SUCCESS.replace("\"partnerId\":3528", "\"partnerId\":9999");
    let Notification::Refund(r) = NotificationParser::unverified()
        .parse(&http::HeaderMap::new(), foreign.as_bytes())
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.partner_id, Some(9999));
    let none = SN_SAMPLE.replace("\"partnerId\":3528,", "");
    let Notification::Redeemed(r) = NotificationParser::unverified()
        .parse(&http::HeaderMap::new(), none.as_bytes())
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.partner_id, None);
}
