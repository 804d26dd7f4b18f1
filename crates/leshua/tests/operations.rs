//! One wiremock test per service: the exact form body and signature with a fixed nonce, and
//! the decoding of success, business-error and protocol-error replies. Then the reply
//! verification and XML edge cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use tixpay_core::crypto::md5_hex_upper;
use tixpay_core::retry::InstantSleep;
use tixpay_core::test_util::{fixed_clock_client, mock_server};
use tixpay_core::{
    ErrorKind, ErrorLayer, Fen, FixedNonce, HttpClient, Secret, SignatureSubject, SortedParams,
};
use tixpay_leshua::{
    BarcodePay, Client, Config, ErrorCode, OrderRef, OrderStatus, PayMode, PayWay, Refund,
    RefundRef, UnifiedOrder, VerifyRule,
};
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "TEST_TRADE_KEY_NOT_REAL";
const NONCE: &str = "a1b2c3d4e5f6";

fn config(server: &MockServer) -> Config {
    Config::new(
        "0000000018",
        Secret::new(KEY),
        Secret::new("NOTIFY_KEY_NOT_REAL"),
    )
    .base_url(server.uri())
    .nonce_source(Arc::new(FixedNonce::new(NONCE)))
}

fn client(server: &MockServer) -> Client {
    let http = fixed_clock_client(1_700_000_000, &InstantSleep::default()).unwrap();
    Client::with_http_client(config(server), http)
}

/// The reply signature computed independently: sorted `k=v` over every field but sign,
/// leshua and resp_code, empties kept, `&key=`, MD5 upper-case.
fn signed_reply(fields: &[(&str, &str)]) -> String {
    signed_reply_without(fields, &[])
}

/// A reply signed over every field but sign, leshua, resp_code and `unsigned` (the variants
/// of LeShua's rule that leave `error_code` out as well).
fn signed_reply_without(fields: &[(&str, &str)], unsigned: &[&str]) -> String {
    let mut p = SortedParams::new();
    for (k, v) in fields {
        p.push(*k, *v);
    }
    let mut excluded = vec!["sign", "leshua", "resp_code"];
    excluded.extend_from_slice(unsigned);
    let sign = md5_hex_upper(
        p.exclude(&excluded)
            .to_string_with_suffix("key", KEY)
            .as_bytes(),
    );
    let mut xml = String::from("<leshua>");
    for (k, v) in fields {
        xml.push_str(&format!("<{k}><![CDATA[{v}]]></{k}>"));
    }
    xml.push_str(&format!("<sign><![CDATA[{sign}]]></sign></leshua>"));
    xml
}

/// The request signature computed independently: sorted, empties skipped, `&key=`.
fn request_sign(form: &[(&str, &str)]) -> String {
    let mut p = SortedParams::new();
    for (k, v) in form {
        p.push(*k, *v);
    }
    md5_hex_upper(
        p.skip_empty(true)
            .to_string_with_suffix("key", KEY)
            .as_bytes(),
    )
}

async fn expect(server: &MockServer, body: String, reply: String) {
    Mock::given(method("POST"))
        .and(path("/cgi-bin/lepos_pay_gateway.cgi"))
        .and(header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ))
        .and(body_string(body))
        .respond_with(ResponseTemplate::new(200).set_body_string(reply))
        .expect(1)
        .mount(server)
        .await;
}

fn ok_envelope<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("resp_code", "0"),
        ("result_code", "0"),
        ("merchant_id", "0000000018"),
        ("sub_merchant_id", "1510105551"),
        ("nonce_str", "rzmkrvsvprjjoqgjpzrmubbdeovjhrcu"),
    ];
    f.extend_from_slice(extra);
    f
}

/// A signed business refusal about order `T1` (the manual's sample echoes `third_order_id`).
fn business_error(code: &str, msg: &str) -> String {
    business_error_echoing(code, msg, &[("third_order_id", "T1")])
}

fn business_error_echoing(code: &str, msg: &str, echo: &[(&str, &str)]) -> String {
    let mut fields = vec![
        ("resp_code", "0"),
        ("result_code", "1"),
        ("merchant_id", "0000000018"),
        ("error_code", code),
        ("error_msg", msg),
        ("nonce_str", "x"),
    ];
    fields.extend_from_slice(echo);
    signed_reply(&fields)
}

#[tokio::test]
async fn l1_refund_request_is_exact_and_decodes() {
    let server = mock_server().await;
    // Golden vector L1, end to end: these are the bytes on the wire.
    let body = "service=unified_refund&merchant_id=0000000018&leshua_order_id=1812072242293655&merchant_refund_id=R20240101001&refund_amount=100&notify_url=https%3A%2F%2Fexample.com%2Fleshua%2Frefund_notify&nonce_str=a1b2c3d4e5f6&sign=4DA0E6DE5580C328C1CC2D7C037CB8D9";
    expect(
        &server,
        body.into(),
        signed_reply(&ok_envelope(&[
            ("third_order_id", "T1"),
            ("leshua_order_id", "1812072242293655"),
            ("status", "10"),
            ("refund_amount", "100"),
            ("merchant_refund_id", "R20240101001"),
            ("leshua_refund_id", "LR1"),
            ("total_amount", "300"),
            ("order_balance", "200"),
            ("settlement_refund_amount", ""),
        ])),
    )
    .await;
    let refund = Refund::new(
        OrderRef::LeshuaOrderId("1812072242293655".into()),
        "R20240101001",
        Fen::new(100),
    )
    .notify_url("https://example.com/leshua/refund_notify");
    let reply = client(&server).refund(&refund).await.unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Refunding));
    assert_eq!(reply.order_balance, Some(Fen::new(200)));
    assert_eq!(reply.total_amount, Some(Fen::new(300)));
    assert_eq!(reply.settlement_refund_amount, None);
    assert_eq!(reply.leshua_refund_id.as_deref(), Some("LR1"));
    assert_eq!(reply.fields.get("settlement_refund_amount"), Some(""));
}

#[tokio::test]
async fn duplicate_refund_id_is_surfaced() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(business_error_echoing(
                "-5103",
                "商户退款 id 已存在",
                &[("third_order_id", "T1"), ("merchant_refund_id", "R1")],
            )),
        )
        .mount(&server)
        .await;
    let refund = Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(1));
    let err = client(&server).refund(&refund).await.unwrap_err();
    assert_eq!(
        ErrorCode::from_error(&err),
        Some(ErrorCode::DuplicateRefundId)
    );
    assert_eq!(err.as_api().unwrap().layer, Some(ErrorLayer::Business));
    assert_eq!(err.operation(), Some("unified_refund"));
    assert!(err.to_string().contains("-5103"), "{err}");
    assert!(
        !err.is_outcome_unknown(),
        "signed, bound, first attempt: an answer"
    );
}

#[tokio::test]
async fn get_tdcode_native_and_jsapi() {
    let server = mock_server().await;
    let form = [
        ("service", "get_tdcode"),
        ("merchant_id", "0000000018"),
        ("pay_way", "WXZF"),
        ("third_order_id", "NL2019032218253280439"),
        ("amount", "1"),
        ("jspay_flag", "0"),
        ("notify_url", "https://r.example/n"),
        ("body", "门票"),
        ("nonce_str", NONCE),
    ];
    let sign = request_sign(&form);
    let body = format!(
        "service=get_tdcode&merchant_id=0000000018&pay_way=WXZF&third_order_id=NL2019032218253280439&amount=1&jspay_flag=0&notify_url=https%3A%2F%2Fr.example%2Fn&body=%E9%97%A8%E7%A5%A8&nonce_str={NONCE}&sign={sign}"
    );
    expect(
        &server,
        body,
        signed_reply(&ok_envelope(&[
            ("third_order_id", "NL2019032218253280439"),
            ("td_code", "weixin://wxpay/bizpayurl?pr=kZF1s1X"),
            ("pay_way", "WXZF"),
            ("leshua_order_id", "0003495002500081"),
        ])),
    )
    .await;
    let order = UnifiedOrder::new(
        PayWay::Wechat,
        "NL2019032218253280439",
        Fen::new(1),
        PayMode::Native,
    )
    .notify_url("https://r.example/n")
    .body("门票");
    let reply = client(&server).unified_order(&order).await.unwrap();
    assert_eq!(
        reply.td_code.as_deref(),
        Some("weixin://wxpay/bizpayurl?pr=kZF1s1X")
    );
    assert_eq!(reply.leshua_order_id.as_deref(), Some("0003495002500081"));
    assert_eq!(reply.pay_way, Some(PayWay::Wechat));

    // The manual's business-error sample: -1041, not in the table.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(business_error_echoing(
                "-1041",
                "超出单笔支付限额,无法支付",
                &[("third_order_id", "NL2019032218253280439")],
            )),
        )
        .mount(&server)
        .await;
    let err = client(&server).unified_order(&order).await.unwrap_err();
    assert_eq!(
        ErrorCode::from_error(&err),
        Some(ErrorCode::Unknown("-1041".into()))
    );

    // JSAPI carries sub_openid and returns jspay_info.
    let server = mock_server().await;
    let form = [
        ("service", "get_tdcode"),
        ("merchant_id", "0000000018"),
        ("pay_way", "ZFBZF"),
        ("third_order_id", "T2"),
        ("amount", "250"),
        ("jspay_flag", "1"),
        ("sub_openid", "2088102"),
        ("nonce_str", NONCE),
    ];
    let body = format!(
        "service=get_tdcode&merchant_id=0000000018&pay_way=ZFBZF&third_order_id=T2&amount=250&jspay_flag=1&sub_openid=2088102&nonce_str={NONCE}&sign={}",
        request_sign(&form)
    );
    expect(
        &server,
        body,
        signed_reply(&ok_envelope(&[
            ("third_order_id", "T2"),
            ("jspay_info", r#"{"tradeNO":"2024"}"#),
            ("leshua_order_id", "1"),
        ])),
    )
    .await;
    let order = UnifiedOrder::new(
        PayWay::Alipay,
        "T2",
        Fen::new(250),
        PayMode::Jsapi {
            sub_openid: "2088102".into(),
        },
    );
    let reply = client(&server).unified_order(&order).await.unwrap();
    assert_eq!(reply.jspay_info.as_deref(), Some(r#"{"tradeNO":"2024"}"#));
}

#[tokio::test]
async fn upload_authcode_query_close() {
    let server = mock_server().await;
    let form = [
        ("service", "upload_authcode"),
        ("merchant_id", "0000000018"),
        ("auth_code", "134512341234123412"),
        ("third_order_id", "T3"),
        ("amount", "100"),
        ("nonce_str", NONCE),
    ];
    expect(
        &server,
        format!(
            "service=upload_authcode&merchant_id=0000000018&auth_code=134512341234123412&third_order_id=T3&amount=100&nonce_str={NONCE}&sign={}",
            request_sign(&form)
        ),
        signed_reply(&ok_envelope(&[
            ("third_order_id", "T3"),
            ("status", "0"),
            ("leshua_order_id", "9"),
        ])),
    )
    .await;
    let reply = client(&server)
        .barcode_pay(&BarcodePay::new("134512341234123412", "T3", Fen::new(100)))
        .await
        .unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Paying));

    let server = mock_server().await;
    let form = [
        ("service", "query_status"),
        ("merchant_id", "0000000018"),
        ("third_order_id", "T3"),
        ("nonce_str", NONCE),
    ];
    expect(
        &server,
        format!(
            "service=query_status&merchant_id=0000000018&third_order_id=T3&nonce_str={NONCE}&sign={}",
            request_sign(&form)
        ),
        signed_reply(&ok_envelope(&[
            ("third_order_id", "T3"),
            ("status", "2"),
            ("amount", "100"),
            ("pay_time", "20180820191919"),
            ("leshua_order_id", "9"),
            ("brand_new_field", "kept"),
        ])),
    )
    .await;
    let reply = client(&server)
        .query_order(&OrderRef::ThirdOrderId("T3".into()))
        .await
        .unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Paid));
    assert_eq!(reply.amount, Some(Fen::new(100)));
    assert_eq!(reply.pay_time.as_deref(), Some("20180820191919"));
    assert_eq!(reply.fields.get("brand_new_field"), Some("kept"));
    assert_eq!(
        reply.fields.get("resp_code"),
        None,
        "resp_code is not signed, so not handed out as verified"
    );

    let server = mock_server().await;
    let form = [
        ("service", "close_order"),
        ("merchant_id", "0000000018"),
        ("leshua_order_id", "9"),
        ("nonce_str", NONCE),
    ];
    expect(
        &server,
        format!(
            "service=close_order&merchant_id=0000000018&leshua_order_id=9&nonce_str={NONCE}&sign={}",
            request_sign(&form)
        ),
        business_error("-5016", "订单状态异常"),
    )
    .await;
    let err = client(&server)
        .close_order(&OrderRef::LeshuaOrderId("9".into()))
        .await
        .unwrap_err();
    assert_eq!(
        ErrorCode::from_error(&err),
        Some(ErrorCode::OrderStateAbnormal)
    );
}

#[tokio::test]
async fn refund_query_userid_openid() {
    let server = mock_server().await;
    let form = [
        ("service", "unified_query_refund"),
        ("merchant_id", "0000000018"),
        ("third_order_id", "T1"),
        ("merchant_refund_id", "R1"),
        ("nonce_str", NONCE),
    ];
    expect(
        &server,
        format!(
            "service=unified_query_refund&merchant_id=0000000018&third_order_id=T1&merchant_refund_id=R1&nonce_str={NONCE}&sign={}",
            request_sign(&form)
        ),
        signed_reply(&ok_envelope(&[
            ("third_order_id", "T1"),
            ("merchant_refund_id", "R1"),
            ("status", "11"),
            ("refund_amount", "100"),
            ("refund_time", "2024-01-01 10:00:00"),
        ])),
    )
    .await;
    let reply = client(&server)
        .query_refund(
            &OrderRef::ThirdOrderId("T1".into()),
            &RefundRef::MerchantRefundId("R1".into()),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Refunded));

    let server = mock_server().await;
    let form = [
        ("service", "query_userid"),
        ("merchant_id", "0000000018"),
        ("user_auth_code", "UA1"),
        ("nonce_str", NONCE),
    ];
    expect(
        &server,
        format!(
            "service=query_userid&merchant_id=0000000018&user_auth_code=UA1&nonce_str={NONCE}&sign={}",
            request_sign(&form)
        ),
        signed_reply(&ok_envelope(&[("user_id", "U123")])),
    )
    .await;
    let reply = client(&server).query_user_id("UA1", None).await.unwrap();
    assert_eq!(reply.user_id.as_deref(), Some("U123"));

    let server = mock_server().await;
    let form = [
        ("service", "query_openid"),
        ("merchant_id", "0000000018"),
        ("auth_code", "1345"),
        ("appid", "wx1"),
        ("nonce_str", NONCE),
    ];
    expect(
        &server,
        format!(
            "service=query_openid&merchant_id=0000000018&auth_code=1345&appid=wx1&nonce_str={NONCE}&sign={}",
            request_sign(&form)
        ),
        signed_reply(&ok_envelope(&[("sub_openid", "oUpF8")])),
    )
    .await;
    let reply = client(&server)
        .query_openid("1345", Some("wx1"))
        .await
        .unwrap();
    assert_eq!(reply.openid.as_deref(), Some("oUpF8"));
}

async fn reply_with(body: &str) -> tixpay_core::Error {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body.to_owned()))
        .mount(&server)
        .await;
    client(&server)
        .query_order(&OrderRef::ThirdOrderId("T1".into()))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn protocol_error_is_reported_even_unsigned() {
    let err = reply_with("<leshua><resp_code><![CDATA[-1]]></resp_code><resp_msg><![CDATA[参数格式错误]]></resp_msg></leshua>").await;
    assert_eq!(err.as_api().unwrap().layer, Some(ErrorLayer::Protocol));
    assert_eq!(err.api_code(), Some("-1"));
    assert!(err.to_string().contains("参数格式错误"));
}

#[tokio::test]
async fn a_well_formed_reply_with_a_bad_signature_is_an_error() {
    let good = signed_reply(&ok_envelope(&[("status", "2"), ("amount", "100")]));
    // Tamper with a signed field: the amount.
    let tampered = good.replace("<![CDATA[100]]>", "<![CDATA[1]]>");
    let err = reply_with(&tampered).await;
    assert!(matches!(
        err.kind(),
        ErrorKind::Signature {
            subject: SignatureSubject::Response,
            ..
        }
    ));
    assert!(err.is_outcome_unknown());
    // Missing sign on a success reply.
    let err = reply_with(
        "<leshua><resp_code>0</resp_code><result_code>0</result_code><status>2</status></leshua>",
    )
    .await;
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }));
    // A business error with a forged signature is not believed either.
    let forged = business_error("-20004", "乐刷订单不存在").replace("-20004", "-20029");
    let err = reply_with(&forged).await;
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }));
}

#[tokio::test]
async fn compatible_rule_is_opt_in() {
    // A reply signed the way some clients verify: empties dropped.
    let fields = ok_envelope(&[
        ("third_order_id", "T1"),
        ("status", "2"),
        ("sub_openid", ""),
    ]);
    let mut p = SortedParams::new();
    for (k, v) in &fields {
        p.push(*k, *v);
    }
    let sign = md5_hex_upper(
        p.skip_empty(true)
            .exclude(&["sign", "leshua", "resp_code"])
            .to_string_with_suffix("key", KEY)
            .as_bytes(),
    );
    let mut xml = String::from("<leshua>");
    for (k, v) in &fields {
        xml.push_str(&format!("<{k}>{v}</{k}>"));
    }
    xml.push_str(&format!("<sign>{sign}</sign></leshua>"));
    assert!(matches!(
        reply_with(&xml).await.kind(),
        ErrorKind::Signature { .. }
    ));

    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(xml))
        .mount(&server)
        .await;
    let lenient = Client::with_http_client(
        config(&server).verify_rule(VerifyRule::Compatible),
        HttpClient::new().unwrap(),
    );
    let reply = lenient
        .query_order(&OrderRef::ThirdOrderId("T1".into()))
        .await
        .unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Paid));
}

#[tokio::test]
async fn xml_edge_cases() {
    // Elements out of order, unknown elements, empty elements: fine when signed.
    let ok = signed_reply(&[
        ("status", "2"),
        ("zzz_unknown", "x"),
        ("merchant_id", "0000000018"),
        ("result_code", "0"),
        ("empty_one", ""),
        ("third_order_id", "T1"),
        ("resp_code", "0"),
    ]);
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(ok))
        .mount(&server)
        .await;
    let reply = client(&server)
        .query_order(&OrderRef::ThirdOrderId("T1".into()))
        .await
        .unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Paid));

    // Plain text, malformed XML, another root, a huge body: typed errors.
    let err = reply_with("接口为可用状态").await;
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }));
    assert!(err.to_string().contains("接口为可用状态"), "{err}");
    for bad in [
        "<leshua><status>2</leshua>",
        "<xml><status>2</status></xml>",
        "<leshua><a>1</a><a>2</a></leshua>",
        "",
    ] {
        let err = reply_with(bad).await;
        assert!(
            matches!(err.kind(), ErrorKind::Decode { .. }),
            "{bad}: {err:?}"
        );
    }
    let huge = format!(
        "<leshua><status>{}</status></leshua>",
        "9".repeat(3 * 1024 * 1024)
    );
    let err = reply_with(&huge).await;
    assert!(!matches!(err.kind(), ErrorKind::Api(_)), "{err:?}");
}

#[tokio::test]
async fn http_errors_and_retries() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c
        .query_order(&OrderRef::ThirdOrderId("T1".into()))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Http { .. }));
    // Queries are retried (3 attempts by default), and so is a keyed refund: with the
    // same bytes, nonce included.
    let refund = Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(1));
    let _ = c.refund(&refund).await.unwrap_err();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 6);
    assert_eq!(received[3].body, received[4].body);
    assert_eq!(received[4].body, received[5].body);
}

#[tokio::test]
async fn invalid_requests_are_not_sent() {
    let server = mock_server().await;
    let c = client(&server);
    assert!(
        c.refund(&Refund::new(
            OrderRef::ThirdOrderId("T".into()),
            "R_1",
            Fen::new(1)
        ))
        .await
        .is_err()
    );
    assert!(
        c.refund(&Refund::new(
            OrderRef::ThirdOrderId("T".into()),
            "R1",
            Fen::ZERO
        ))
        .await
        .is_err()
    );
    assert!(
        c.query_order(&OrderRef::LeshuaOrderId(String::new()))
            .await
            .is_err()
    );
    assert!(
        c.unified_order(&UnifiedOrder::new(
            PayWay::Wechat,
            "T",
            Fen::new(1),
            PayMode::Cashier {
                jump_url: String::new()
            }
        ))
        .await
        .is_err()
    );
    assert!(c.query_user_id(" ", None).await.is_err());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_extra_field_cannot_shadow_a_signed_one() {
    let server = mock_server().await;
    let order = UnifiedOrder::new(PayWay::Wechat, "T1", Fen::new(1), PayMode::Native)
        .param("amount", "100000");
    let err = client(&server).unified_order(&order).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidRequest { .. }),
        "{err:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn extra_field_names_that_would_change_the_signed_text_are_refused() {
    let server = mock_server().await;
    for (name, second) in [
        (" ", None),
        ("", None),
        ("a b", None),
        ("a=b", None),
        ("x&y", None),
        ("custom_x", Some("custom_x")),
    ] {
        let mut order =
            UnifiedOrder::new(PayWay::Wechat, "T1", Fen::new(1), PayMode::Native).param(name, "v");
        if let Some(second) = second {
            order = order.param(second, "w");
        }
        let err = client(&server).unified_order(&order).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidRequest { .. }),
            "{name:?}: {err:?}"
        );
        assert!(!err.may_have_been_sent());
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_signed_reply_for_another_order_is_refused() {
    let reply = signed_reply(&ok_envelope(&[
        ("third_order_id", "SOMEONE-ELSE"),
        ("status", "2"),
    ]));
    let err = reply_with(&reply).await;
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    assert!(err.to_string().contains("SOMEONE-ELSE"));
}

#[tokio::test]
async fn a_duplicate_id_after_a_timed_out_attempt_leaves_the_outcome_unknown() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(3)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(business_error("-5103", "商户退款 id 已存在")),
        )
        .mount(&server)
        .await;
    let http = HttpClient::builder()
        .attempt_timeout(std::time::Duration::from_millis(300))
        .sleep(Arc::new(tixpay_core::retry::InstantSleep::default()))
        .build()
        .unwrap();
    let c = Client::with_http_client(config(&server), http);
    let refund = Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(1));
    let err = c.refund(&refund).await.unwrap_err();
    assert_eq!(
        ErrorCode::from_error(&err),
        Some(ErrorCode::DuplicateRefundId)
    );
    assert!(
        err.is_outcome_unknown(),
        "the first attempt may have refunded: {err:?}"
    );
    // Without an earlier attempt, a bound refusal is an answer; -4004 never settles anything.
    let err = refund_replied_with(&business_error_echoing(
        "-5103",
        "商户退款 id 已存在",
        &[("third_order_id", "T1"), ("merchant_refund_id", "R1")],
    ))
    .await;
    assert!(!err.is_outcome_unknown());
    let err = reply_with(&business_error("-4004", "订单正在处理中")).await;
    assert!(err.is_outcome_unknown());
}

/// `refund(T1, R1, ¥0.01)` answered with `body`, on a client that does not retry.
async fn refund_replied_with(body: &str) -> tixpay_core::Error {
    refund_replied_with_config(body, |c| c).await
}

async fn refund_replied_with_config(
    body: &str,
    adjust: impl FnOnce(Config) -> Config,
) -> tixpay_core::Error {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body.to_owned()))
        .mount(&server)
        .await;
    let http = HttpClient::builder()
        .retry_policy(tixpay_core::RetryPolicy::none())
        .build()
        .unwrap();
    let refund = Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(1));
    Client::with_http_client(adjust(config(&server)), http)
        .refund(&refund)
        .await
        .unwrap_err()
}

/// A genuine refund acceptance for T1 / R1, as LeShua signs it.
fn genuine_refund_reply(resp_code: &str) -> String {
    signed_reply(&[
        ("resp_code", resp_code),
        ("result_code", "0"),
        ("merchant_id", "0000000018"),
        ("nonce_str", "n"),
        ("third_order_id", "T1"),
        ("leshua_order_id", "L1"),
        ("merchant_refund_id", "R1"),
        ("leshua_refund_id", "LR1"),
        ("status", "10"),
        ("refund_amount", "1"),
    ])
}

#[tokio::test]
async fn an_unsigned_resp_code_never_turns_a_refund_into_a_final_refusal() {
    // The reply is genuine and signed; only resp_code, which the signature does not cover,
    // was rewritten on the way. The refund exists: the error must not say "refused".
    let genuine = genuine_refund_reply("0");
    let tampered = genuine.replace(
        "<resp_code><![CDATA[0]]></resp_code>",
        "<resp_code><![CDATA[-1]]></resp_code>",
    );
    assert_ne!(genuine, tampered);
    let err = refund_replied_with(&tampered).await;
    assert_eq!(err.as_api().unwrap().layer, Some(ErrorLayer::Protocol));
    assert!(
        err.is_outcome_unknown(),
        "a rewritten resp_code settled a refund: {err}"
    );
    assert!(
        err.unverified_reason()
            .is_some_and(|r| r.contains("resp_code"))
    );

    // On a read it is a refusal, marked as not authenticated.
    let query = signed_reply(&ok_envelope(&[("third_order_id", "T1"), ("status", "2")])).replace(
        "<resp_code><![CDATA[0]]></resp_code>",
        "<resp_code><![CDATA[-1]]></resp_code>",
    );
    let err = reply_with(&query).await;
    assert!(!err.is_outcome_unknown());
    assert!(err.unverified_reason().is_some());
}

#[tokio::test]
async fn an_unsigned_refusal_of_a_refund_is_outcome_unknown() {
    let err = refund_replied_with(
        "<leshua><resp_code>-1</resp_code><resp_msg>参数格式错误</resp_msg></leshua>",
    )
    .await;
    assert_eq!(err.api_code(), Some("-1"));
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("not signed"), "{err}");
    // An HTML error page from a proxy is no LeShua answer either.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(403).set_body_string("<html>forbidden</html>"))
        .mount(&server)
        .await;
    let refund = Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(1));
    let err = client(&server).refund(&refund).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Http { .. }));
    assert!(err.is_outcome_unknown(), "{err}");
}

#[tokio::test]
async fn a_refusal_whose_signature_is_present_but_wrong_is_a_signature_error() {
    let forged = business_error_echoing(
        "-20023",
        "订单可退余额不足",
        &[("third_order_id", "T1"), ("merchant_refund_id", "R1")],
    )
    .replace("-20023", "-20019");
    let err = refund_replied_with(&forged).await;
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    assert!(err.is_outcome_unknown());
}

#[tokio::test]
async fn a_genuine_reply_to_another_operation_is_refused() {
    // query_userid's genuine reply carries no refund id: it proves nothing about a refund.
    let userid = signed_reply(&ok_envelope(&[("user_id", "U123")]));
    let err = refund_replied_with(&userid).await;
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    assert!(err.to_string().contains("does not echo"), "{err}");
    // An earlier query_status reply for the same order, status Paid: not a refund's answer.
    let status = signed_reply(&ok_envelope(&[
        ("third_order_id", "T1"),
        ("leshua_order_id", "L1"),
        ("status", "2"),
        ("amount", "100"),
    ]));
    let err = refund_replied_with(&status).await;
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    assert!(err.is_outcome_unknown());
}

#[tokio::test]
async fn a_genuine_reply_to_another_order_or_an_earlier_refund_is_refused() {
    // The genuine acceptance of refund R1, replayed to a request for refund R2.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(genuine_refund_reply("0")))
        .mount(&server)
        .await;
    let r2 = Refund::new(OrderRef::ThirdOrderId("T1".into()), "R2", Fen::new(1));
    let err = client(&server).refund(&r2).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    assert!(err.to_string().contains("R1"), "{err}");
    // ... and to a refund of another order.
    let other = Refund::new(OrderRef::ThirdOrderId("T9".into()), "R1", Fen::new(1));
    let err = client(&server).refund(&other).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    // ... and for another merchant.
    let foreign = genuine_refund_reply("0");
    let err = refund_replied_with_config(&foreign, |c| {
        Config::new("0000000099", Secret::new(KEY), Secret::new("n"))
            .base_url(c.endpoint().trim_end_matches(tixpay_leshua::GATEWAY_PATH))
    })
    .await;
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    // The genuine reply to this very refund is accepted.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(genuine_refund_reply("0")))
        .mount(&server)
        .await;
    let r1 = Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(1));
    let reply = client(&server).refund(&r1).await.unwrap();
    assert_eq!(reply.leshua_refund_id.as_deref(), Some("LR1"));
}

#[tokio::test]
async fn a_refusal_that_does_not_echo_the_refund_settles_nothing() {
    // Signed, but without merchant_refund_id: which refund it refuses is not proven.
    let err = refund_replied_with(&business_error("-20023", "订单可退余额不足")).await;
    assert_eq!(err.api_code(), Some("-20023"));
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("merchant_refund_id"), "{err}");
    // A read's refusal without the optional echo is still an answer.
    let err = reply_with(&business_error("-20004", "乐刷订单不存在")).await;
    assert!(!err.is_outcome_unknown(), "{err}");
}

#[tokio::test]
async fn an_unsigned_error_code_under_the_compatible_rule_settles_nothing() {
    // Signed by a variant that leaves error_code out: the code can be rewritten.
    let fields = [
        ("resp_code", "0"),
        ("result_code", "1"),
        ("merchant_id", "0000000018"),
        ("third_order_id", "T1"),
        ("merchant_refund_id", "R1"),
        ("error_code", "-20023"),
        ("error_msg", "订单可退余额不足"),
    ];
    let xml = signed_reply_without(&fields, &["error_code"]);
    let err = refund_replied_with_config(&xml, |c| c.verify_rule(VerifyRule::Compatible)).await;
    assert_eq!(err.api_code(), Some("-20023"));
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("error_code"), "{err}");
}

#[tokio::test]
async fn error_code_is_handed_out_only_when_the_signature_covers_it() {
    let fields = [
        ("resp_code", "0"),
        ("result_code", "0"),
        ("merchant_id", "0000000018"),
        ("third_order_id", "T1"),
        ("status", "2"),
        ("error_code", "0"),
    ];
    // The manual's rule: error_code is signed, so it stays among the verified fields.
    let reply = |body: String, rule: VerifyRule| async move {
        let server = mock_server().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&server)
            .await;
        Client::with_http_client(
            config(&server).verify_rule(rule),
            HttpClient::new().unwrap(),
        )
        .query_order(&OrderRef::ThirdOrderId("T1".into()))
        .await
        .unwrap()
    };
    let documented = reply(signed_reply(&fields), VerifyRule::Compatible).await;
    assert_eq!(documented.fields.get("error_code"), Some("0"));
    assert_eq!(documented.fields.get("resp_code"), None);
    // A variant that leaves error_code out of the signature: it is not handed out.
    let xml = signed_reply_without(&fields, &["error_code"]);
    let variant = reply(xml, VerifyRule::Compatible).await;
    assert_eq!(variant.status, Some(OrderStatus::Paid));
    assert_eq!(variant.fields.get("error_code"), None);
    assert_eq!(variant.fields.get("resp_code"), None);
    assert_eq!(variant.fields.get("third_order_id"), Some("T1"));
}

#[tokio::test]
async fn system_error_codes_are_retried_for_reads_and_keyed_writes() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(business_error("-20010", "系统错误")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(signed_reply(&ok_envelope(&[
                ("third_order_id", "T1"),
                ("status", "2"),
            ]))),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    let reply = c
        .query_order(&OrderRef::ThirdOrderId("T1".into()))
        .await
        .unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Paid));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].body, received[1].body, "the same signed bytes");
    // A plain refusal is not retried.
    let err = reply_with(&business_error("-20004", "乐刷订单不存在")).await;
    assert!(!err.is_retryable());

    // A keyed refund is resent with the same bytes too.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(business_error_echoing(
                "-4027",
                "系统异常",
                &[("third_order_id", "T1"), ("merchant_refund_id", "R1")],
            )),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(genuine_refund_reply("0")))
        .mount(&server)
        .await;
    let refund = Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(1));
    let reply = client(&server).refund(&refund).await.unwrap();
    assert_eq!(reply.merchant_refund_id.as_deref(), Some("R1"));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].body, received[1].body);
}

#[tokio::test]
async fn a_signed_reply_that_states_no_result_settles_nothing() {
    // A genuine signed protocol failure (no result_code) whose unsigned resp_code was
    // rewritten to 0.
    let failure = signed_reply(&[
        ("resp_code", "-1"),
        ("resp_msg", "参数格式错误"),
        ("merchant_id", "0000000018"),
        ("third_order_id", "T1"),
        ("merchant_refund_id", "R1"),
    ])
    .replace(
        "<resp_code><![CDATA[-1]]></resp_code>",
        "<resp_code><![CDATA[0]]></resp_code>",
    );
    let err = refund_replied_with(&failure).await;
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("result_code"), "{err}");
}

#[tokio::test]
async fn the_nonce_echo_binds_a_reply_to_its_request_when_required() {
    // The reply echoes a nonce other than ours (a replayed query_status reply).
    let replayed = signed_reply(&ok_envelope(&[("third_order_id", "T1"), ("status", "0")]));
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(replayed))
        .mount(&server)
        .await;
    let strict = Client::with_http_client(
        config(&server).require_nonce_echo(true),
        HttpClient::new().unwrap(),
    );
    let err = strict
        .query_order(&OrderRef::ThirdOrderId("T1".into()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nonce_str"), "{err}");
    // Off by default: the manual does not confirm the echo.
    assert!(
        client(&server)
            .query_order(&OrderRef::ThirdOrderId("T1".into()))
            .await
            .is_ok()
    );
    // Echoed: accepted.
    let echoed = signed_reply(&[
        ("resp_code", "0"),
        ("result_code", "0"),
        ("merchant_id", "0000000018"),
        ("nonce_str", NONCE),
        ("third_order_id", "T1"),
        ("status", "0"),
    ]);
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(echoed))
        .mount(&server)
        .await;
    let strict = Client::with_http_client(
        config(&server).require_nonce_echo(true),
        HttpClient::new().unwrap(),
    );
    assert!(
        strict
            .query_order(&OrderRef::ThirdOrderId("T1".into()))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_failing_nonce_source_stops_the_call_before_sending() {
    let server = mock_server().await;
    let c = Client::with_http_client(
        config(&server).nonce_source(Arc::new(tixpay_core::test_util::FailingNonce)),
        HttpClient::new().unwrap(),
    );
    let refund = Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(1));
    let err = c.refund(&refund).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Crypto { .. }), "{err:?}");
    assert!(!err.may_have_been_sent());
    assert!(server.received_requests().await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// unified_refund: refund_type and extra fields.

/// The refund of vector L1 with `refund_type` and two extra fields.
fn refund_with_extras() -> Refund {
    Refund::new(
        OrderRef::LeshuaOrderId("1812072242293655".into()),
        "R20240101001",
        Fen::new(100),
    )
    .notify_url("https://example.com/leshua/refund_notify")
    .refund_type("1")
    .param("zz_note", "门票 x2")
    .param("agent_no", "A1")
}

/// Its bytes on the wire: the documented fields, `refund_type`, the extra fields in the
/// order given, then `nonce_str` and `sign`.
const REFUND_WITH_EXTRAS_BODY: &str = "service=unified_refund&merchant_id=0000000018&leshua_order_id=1812072242293655&merchant_refund_id=R20240101001&refund_amount=100&notify_url=https%3A%2F%2Fexample.com%2Fleshua%2Frefund_notify&refund_type=1&zz_note=%E9%97%A8%E7%A5%A8%20x2&agent_no=A1&nonce_str=a1b2c3d4e5f6&sign=D69CBF69D462CFA397C888CDD9320974";

#[tokio::test]
async fn refund_type_and_extra_fields_are_sent_and_signed() {
    // What is signed: every field sorted by name, the new ones among them (agent_no first,
    // refund_type between refund_amount and service, zz_note last), values raw.
    let signed = "agent_no=A1&leshua_order_id=1812072242293655&merchant_id=0000000018&merchant_refund_id=R20240101001&nonce_str=a1b2c3d4e5f6&notify_url=https://example.com/leshua/refund_notify&refund_amount=100&refund_type=1&service=unified_refund&zz_note=门票 x2&key=TEST_TRADE_KEY_NOT_REAL";
    assert_eq!(
        md5_hex_upper(signed.as_bytes()),
        "D69CBF69D462CFA397C888CDD9320974"
    );
    assert!(REFUND_WITH_EXTRAS_BODY.ends_with("&sign=D69CBF69D462CFA397C888CDD9320974"));

    let server = mock_server().await;
    expect(
        &server,
        REFUND_WITH_EXTRAS_BODY.into(),
        signed_reply(&ok_envelope(&[
            ("third_order_id", "T1"),
            ("leshua_order_id", "1812072242293655"),
            ("status", "10"),
            ("refund_amount", "100"),
            ("merchant_refund_id", "R20240101001"),
            ("leshua_refund_id", "LR1"),
            ("total_amount", "300"),
            ("order_balance", "200"),
        ])),
    )
    .await;
    let reply = client(&server).refund(&refund_with_extras()).await.unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Refunding));
    assert_eq!(reply.merchant_refund_id.as_deref(), Some("R20240101001"));
    assert_eq!(reply.order_balance, Some(Fen::new(200)));

    // A refusal of the same request is decoded and, signed and bound, is an answer.
    let server = mock_server().await;
    expect(
        &server,
        REFUND_WITH_EXTRAS_BODY.into(),
        business_error_echoing(
            "-20019",
            "订单状态不允许退款",
            &[
                ("leshua_order_id", "1812072242293655"),
                ("merchant_refund_id", "R20240101001"),
            ],
        ),
    )
    .await;
    let err = client(&server)
        .refund(&refund_with_extras())
        .await
        .unwrap_err();
    assert_eq!(
        ErrorCode::from_error(&err),
        Some(ErrorCode::RefundNotAllowed)
    );
    assert_eq!(err.as_api().unwrap().layer, Some(ErrorLayer::Business));
    assert!(err.may_have_been_sent());
    assert!(!err.is_outcome_unknown(), "{err}");

    // A reply whose signature does not cover what it says is not believed.
    let server = mock_server().await;
    let forged = signed_reply(&ok_envelope(&[
        ("leshua_order_id", "1812072242293655"),
        ("merchant_refund_id", "R20240101001"),
        ("status", "10"),
        ("refund_amount", "100"),
    ]))
    .replace("<![CDATA[100]]>", "<![CDATA[1]]>");
    expect(&server, REFUND_WITH_EXTRAS_BODY.into(), forged).await;
    let err = client(&server)
        .refund(&refund_with_extras())
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    assert!(err.is_outcome_unknown());
}

#[tokio::test]
async fn a_resent_refund_repeats_its_extra_fields_byte_for_byte() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string(REFUND_WITH_EXTRAS_BODY))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(signed_reply(&ok_envelope(&[
                ("leshua_order_id", "1812072242293655"),
                ("merchant_refund_id", "R20240101001"),
                ("status", "10"),
            ]))),
        )
        .mount(&server)
        .await;
    let reply = client(&server).refund(&refund_with_extras()).await.unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Refunding));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    for r in &received {
        assert_eq!(r.body, REFUND_WITH_EXTRAS_BODY.as_bytes());
    }
}

#[tokio::test]
async fn refund_extra_fields_that_are_not_allowed_are_refused_before_sending() {
    let server = mock_server().await;
    let c = client(&server);
    let base = || Refund::new(OrderRef::ThirdOrderId("T1".into()), "R1", Fen::new(1));
    let mut cases: Vec<(Refund, Option<&str>)> = [
        " ",
        "a b",
        "a=b",
        "x&y",
        "service",
        "merchant_id",
        "nonce_str",
        "sign",
        // The refund's own fields: an extra leshua_order_id would take precedence over the
        // third_order_id this refund names ("优先使用leshua_order_id").
        "leshua_order_id",
        "third_order_id",
        "merchant_refund_id",
        "refund_amount",
        "notify_url",
        "refund_type",
    ]
    .into_iter()
    .map(|name| (base().param(name, "v"), Some(name)))
    .collect();
    cases.push((base().param("", "v"), None));
    cases.push((
        base().param("custom_x", "1").param("custom_x", "2"),
        Some("custom_x"),
    ));
    cases.push((base().notify_url("x".repeat(129)), Some("notify_url")));
    for (refund, name) in cases {
        let err = c.refund(&refund).await.unwrap_err();
        match err.kind() {
            ErrorKind::InvalidRequest { field, .. } => {
                assert_eq!(field.as_deref(), name, "{err}");
            }
            other => panic!("{name:?}: {other:?}"),
        }
        assert!(!err.may_have_been_sent(), "{name:?}");
        assert_eq!(err.operation(), Some("unified_refund"));
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Statuses 30–33 (agent/POS card notifications).

#[tokio::test]
async fn card_statuses_are_typed_and_signed() {
    let form = [
        ("service", "query_status"),
        ("merchant_id", "0000000018"),
        ("third_order_id", "T1"),
        ("nonce_str", NONCE),
    ];
    let body = format!(
        "service=query_status&merchant_id=0000000018&third_order_id=T1&nonce_str={NONCE}&sign={}",
        request_sign(&form)
    );
    for (wire, status) in [
        ("30", OrderStatus::CardPaid),
        ("31", OrderStatus::CardVoided),
        ("32", OrderStatus::CardReturned),
        ("33", OrderStatus::CardReversed),
    ] {
        let server = mock_server().await;
        expect(
            &server,
            body.clone(),
            signed_reply(&ok_envelope(&[("third_order_id", "T1"), ("status", wire)])),
        )
        .await;
        let reply = client(&server)
            .query_order(&OrderRef::ThirdOrderId("T1".into()))
            .await
            .unwrap();
        assert_eq!(reply.status, Some(status.clone()));
        assert_eq!(reply.status.as_ref().map(OrderStatus::as_str), Some(wire));
        assert!(!status.is_final());
    }
    // The status is signed: rewriting 32 (退货成功) as 30 (刷卡支付成功) is caught.
    let server = mock_server().await;
    let tampered = signed_reply(&ok_envelope(&[("third_order_id", "T1"), ("status", "32")]))
        .replace("<![CDATA[32]]>", "<![CDATA[30]]>");
    expect(&server, body.clone(), tampered).await;
    let err = client(&server)
        .query_order(&OrderRef::ThirdOrderId("T1".into()))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    // A value beyond the table is still kept as sent.
    let server = mock_server().await;
    expect(
        &server,
        body,
        signed_reply(&ok_envelope(&[("third_order_id", "T1"), ("status", "34")])),
    )
    .await;
    let reply = client(&server)
        .query_order(&OrderRef::ThirdOrderId("T1".into()))
        .await
        .unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Unknown("34".into())));
}

// ---------------------------------------------------------------------------------------
// merchant_id: at most 10 characters, not blank.

fn client_for_merchant(server: &MockServer, merchant_id: &str) -> Client {
    let http = fixed_clock_client(1_700_000_000, &InstantSleep::default()).unwrap();
    let config = Config::new(
        merchant_id,
        Secret::new(KEY),
        Secret::new("NOTIFY_KEY_NOT_REAL"),
    )
    .base_url(server.uri())
    .nonce_source(Arc::new(FixedNonce::new(NONCE)));
    Client::with_http_client(config, http)
}

#[tokio::test]
async fn a_merchant_id_of_ten_characters_is_sent() {
    let server = mock_server().await;
    // The manual's sample merchant: 10 digits.
    expect(
        &server,
        format!("service=query_status&merchant_id=9605008025&third_order_id=T1&nonce_str={NONCE}&sign=E8FB8558BA626EF96C9D07E089B8B95A"),
        signed_reply(&[
            ("resp_code", "0"),
            ("result_code", "0"),
            ("merchant_id", "9605008025"),
            ("third_order_id", "T1"),
            ("status", "2"),
        ]),
    )
    .await;
    let reply = client_for_merchant(&server, "9605008025")
        .query_order(&OrderRef::ThirdOrderId("T1".into()))
        .await
        .unwrap();
    assert_eq!(reply.status, Some(OrderStatus::Paid));

    // LeShua's own refusal of a merchant id it does not know is an answer, after sending.
    let server = mock_server().await;
    let one = [
        ("service", "query_status"),
        ("merchant_id", "1"),
        ("third_order_id", "T1"),
        ("nonce_str", NONCE),
    ];
    let refusal = signed_reply(&[
        ("resp_code", "0"),
        ("result_code", "1"),
        ("merchant_id", "1"),
        ("third_order_id", "T1"),
        ("error_code", "-20002"),
        ("error_msg", "无效的乐刷商户号"),
    ]);
    expect(
        &server,
        format!(
            "service=query_status&merchant_id=1&third_order_id=T1&nonce_str={NONCE}&sign={}",
            request_sign(&one)
        ),
        refusal,
    )
    .await;
    let err = client_for_merchant(&server, "1")
        .query_order(&OrderRef::ThirdOrderId("T1".into()))
        .await
        .unwrap_err();
    assert_eq!(
        ErrorCode::from_error(&err),
        Some(ErrorCode::InvalidMerchant)
    );
    assert!(err.may_have_been_sent());
}

#[tokio::test]
async fn a_blank_or_long_merchant_id_is_refused_before_any_operation_is_sent() {
    let server = mock_server().await;
    for merchant_id in ["", "   ", "01234567890", "商户号商户号商户号商户"] {
        let c = client_for_merchant(&server, merchant_id);
        let order = OrderRef::ThirdOrderId("T1".into());
        let refund = Refund::new(order.clone(), "R1", Fen::new(1));
        let results = [
            (
                "get_tdcode",
                c.unified_order(&UnifiedOrder::new(
                    PayWay::Wechat,
                    "T1",
                    Fen::new(1),
                    PayMode::Native,
                ))
                .await
                .map(drop),
            ),
            (
                "upload_authcode",
                c.barcode_pay(&BarcodePay::new("1345", "T1", Fen::new(1)))
                    .await
                    .map(drop),
            ),
            ("query_status", c.query_order(&order).await.map(drop)),
            ("close_order", c.close_order(&order).await.map(drop)),
            ("unified_refund", c.refund(&refund).await.map(drop)),
            (
                "unified_query_refund",
                c.query_refund(&order, &RefundRef::MerchantRefundId("R1".into()))
                    .await
                    .map(drop),
            ),
            ("query_userid", c.query_user_id("UA1", None).await.map(drop)),
            ("query_openid", c.query_openid("1345", None).await.map(drop)),
        ];
        for (service, result) in results {
            let err = result.unwrap_err();
            match err.kind() {
                ErrorKind::InvalidRequest { field, .. } => {
                    assert_eq!(field.as_deref(), Some("merchant_id"), "{service}: {err}");
                }
                other => panic!("{merchant_id:?} {service}: {other:?}"),
            }
            assert!(!err.may_have_been_sent(), "{service}");
            assert_eq!(err.operation(), Some(service));
            assert_eq!(err.provider(), Some("leshua"));
        }
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refund_query_with_an_invalid_refund_id_is_not_sent() {
    let server = mock_server().await;
    let c = client(&server);
    let order = OrderRef::ThirdOrderId("T1".into());
    for (refund, field) in [
        (
            RefundRef::MerchantRefundId("R_1".into()),
            "merchant_refund_id",
        ),
        (
            RefundRef::MerchantRefundId(" ".into()),
            "merchant_refund_id",
        ),
        (
            RefundRef::MerchantRefundId("R".repeat(65)),
            "merchant_refund_id",
        ),
        (RefundRef::LeshuaRefundId(String::new()), "leshua_refund_id"),
        (
            RefundRef::LeshuaRefundId("9".repeat(33)),
            "leshua_refund_id",
        ),
    ] {
        let err = c.query_refund(&order, &refund).await.unwrap_err();
        match err.kind() {
            ErrorKind::InvalidRequest { field: f, .. } => assert_eq!(f.as_deref(), Some(field)),
            other => panic!("{refund:?}: {other:?}"),
        }
        assert!(!err.may_have_been_sent());
        assert_eq!(err.operation(), Some("unified_query_refund"));
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}
