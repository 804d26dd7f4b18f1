//! A wiremock test per endpoint: the exact request (method, path, query, body, and an
//! Authorization signature checked with the merchant's public key over the message built
//! from what arrived) and verified decoding; then the verification failures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use tixpay_core::crypto::{RsaPrivateKey, base64};
use tixpay_core::test_util::{fixed_clock_client, mock_server};
use tixpay_core::{ErrorKind, FixedClock, FixedNonce, HttpClient, Secret, SignatureSubject};
use tixpay_wechat_payscore::auth::{request_message, sign_response};
use tixpay_wechat_payscore::*;
use wiremock::matchers::{body_string, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const NOW: i64 = 1_700_000_000;
const NONCE: &str = "A1B2C3D4E5F6G7";
const MERCHANT_KEY: &str = include_str!("../../core/tests/fixtures/w1_private_key.pem");
const PLATFORM_KEY: &str = include_str!("../sandbox-keys/platform_a.key");
const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000TEST";
const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

fn platform() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(PLATFORM_KEY).unwrap()
}

fn config(server: &MockServer) -> Config {
    Config::new(
        "1234567890",
        MERCHANT_KEY,
        "0123456789ABC",
        Secret::new(APIV3),
    )
    .unwrap()
    .wechatpay_public_key(PUB_KEY_ID, &platform().public_key().unwrap().to_spki_pem())
    .unwrap()
    .base_url(server.uri())
    .clock(Arc::new(FixedClock::from_seconds(NOW)))
    .nonce_source(Arc::new(FixedNonce::new(NONCE)))
}

fn client(server: &MockServer) -> Client {
    let http = fixed_clock_client(NOW, &tixpay_core::retry::InstantSleep::default()).unwrap();
    Client::with_http_client(config(server), http)
}

/// Checks the Authorization header: layout, fixed fields, and an RSA signature over the
/// W2 message rebuilt from the request as received.
struct SignedByMerchant;

impl Match for SignedByMerchant {
    fn matches(&self, request: &Request) -> bool {
        let Some(header) = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let prefix = format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1234567890\",nonce_str=\"{NONCE}\",timestamp=\"{NOW}\",serial_no=\"0123456789ABC\",signature=\""
        );
        let Some(sig) = header
            .strip_prefix(&prefix)
            .and_then(|s| s.strip_suffix('"'))
        else {
            return false;
        };
        let canonical = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        let message = request_message(
            request.method.as_str(),
            &canonical,
            NOW,
            NONCE,
            &request.body,
        );
        let key = RsaPrivateKey::from_pkcs8_pem(MERCHANT_KEY)
            .unwrap()
            .public_key()
            .unwrap();
        base64::decode(sig).is_ok_and(|s| key.verify_sha256(&message, &s).is_ok())
    }
}

struct Query(&'static str);

impl Match for Query {
    fn matches(&self, request: &Request) -> bool {
        request.url.query() == Some(self.0)
    }
}

fn signed(status: u16, body: &str) -> ResponseTemplate {
    signed_with(status, body, NOW, PUB_KEY_ID, None)
}

fn signed_with(
    status: u16,
    body: &str,
    ts: i64,
    serial: &str,
    signature: Option<&str>,
) -> ResponseTemplate {
    let sig = match signature {
        Some(s) => s.to_owned(),
        None => sign_response(&platform(), ts, "N1", body.as_bytes()).unwrap(),
    };
    let mut t = ResponseTemplate::new(status)
        .insert_header("wechatpay-timestamp", ts.to_string().as_str())
        .insert_header("wechatpay-nonce", "N1")
        .insert_header("wechatpay-signature", sig.as_str())
        .insert_header("wechatpay-serial", serial)
        .insert_header("request-id", "08F4D-1");
    if !body.is_empty() {
        t = t.set_body_raw(body.to_owned(), "application/json");
    }
    t
}

const ORDER: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1234567890","out_order_no":"1234323JKHDFE1243252","service_id":"500001","service_introduction":"某某酒店","state":"CREATED","post_payments":[{"name":"就餐费用","amount":40000,"description":"就餐人均100元","count":4}],"risk_fund":{"name":"DEPOSIT","amount":10000},"time_range":{"start_time":"20091225091010","end_time":"20091225121010"},"notify_url":"https://api.test.com","order_id":"15646546545165651651","package":"DJIOSQPYWDxsa","new_field":1}"#;
const ACK: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1234567890","out_order_no":"1234323JKHDFE1243252","service_id":"500001","order_id":"15646546545165651651"}"#;

async fn mount(
    server: &MockServer,
    m: &'static str,
    p: &str,
    query: Option<&'static str>,
    body: Option<&str>,
    reply: ResponseTemplate,
) {
    let mut mock = Mock::given(method(m)).and(path(p)).and(SignedByMerchant);
    if let Some(q) = query {
        mock = mock.and(Query(q));
    }
    if let Some(b) = body {
        mock = mock.and(body_string(b.to_owned()));
    }
    mock.respond_with(reply).expect(1).mount(server).await;
}

fn create_request() -> CreateServiceOrder {
    CreateServiceOrder::new(
        "1234323JKHDFE1243252",
        "wxd678efh567hg6787",
        "500001",
        "某某酒店",
        TimeRange::starting(TimePoint::parse("20091225091010").unwrap())
            .ending(TimePoint::parse("20091225121010").unwrap()),
        RiskFund::new(RiskFundName::Deposit, Fen::new(10_000)),
        "https://api.test.com",
    )
    .post_payment(
        PostPayment::new("就餐费用", Fen::new(40_000))
            .description("就餐人均100元")
            .count(4),
    )
}

#[tokio::test]
async fn create_and_query() {
    let server = mock_server().await;
    let body = r#"{"out_order_no":"1234323JKHDFE1243252","appid":"wxd678efh567hg6787","service_id":"500001","service_introduction":"某某酒店","post_payments":[{"name":"就餐费用","amount":40000,"description":"就餐人均100元","count":4}],"time_range":{"start_time":"20091225091010","end_time":"20091225121010"},"risk_fund":{"name":"DEPOSIT","amount":10000},"notify_url":"https://api.test.com","need_user_confirm":true}"#;
    mount(
        &server,
        "POST",
        "/v3/payscore/serviceorder",
        None,
        Some(body),
        signed(200, ORDER),
    )
    .await;
    mount(
        &server,
        "GET",
        "/v3/payscore/serviceorder",
        Some("service_id=500001&appid=wxd678efh567hg6787&out_order_no=A%2FB%20C"),
        Some(""),
        signed(200, &ORDER.replace("1234323JKHDFE1243252", "A/B C")),
    )
    .await;
    let c = client(&server);
    let order = c.create_service_order(&create_request()).await.unwrap();
    assert_eq!(order.state, Some(State::Created));
    assert_eq!(order.package.as_deref(), Some("DJIOSQPYWDxsa"));
    assert_eq!(order.extra["new_field"], 1);
    let queried = c
        .query_service_order(
            &OrderRef::OutOrderNo("A/B C".into()),
            "500001",
            "wxd678efh567hg6787",
        )
        .await
        .unwrap();
    assert_eq!(queried.risk_fund.unwrap().name, RiskFundName::Deposit);
}

#[tokio::test]
async fn order_actions() {
    let server = mock_server().await;
    let no = "1234323JKHDFE1243252";
    mount(
        &server,
        "POST",
        &format!("/v3/payscore/serviceorder/{no}/cancel"),
        None,
        Some(r#"{"appid":"wxd678efh567hg6787","service_id":"500001","reason":"用户投诉"}"#),
        signed(200, ACK),
    )
    .await;
    mount(&server, "POST", &format!("/v3/payscore/serviceorder/{no}/modify"), None,
        Some(r#"{"appid":"wxd678efh567hg6787","service_id":"500001","post_payments":[{"name":"就餐费用","amount":30000}],"total_amount":30000,"reason":"用户投诉"}"#), signed(200, ORDER)).await;
    mount(&server, "POST", &format!("/v3/payscore/serviceorder/{no}/complete"), None,
        Some(r#"{"appid":"wxd678efh567hg6787","service_id":"500001","post_payments":[{"name":"就餐费用","amount":40000}],"post_discounts":[{"name":"满减","amount":5000}],"total_amount":35000}"#), signed(200, ORDER)).await;
    mount(
        &server,
        "POST",
        &format!("/v3/payscore/serviceorder/{no}/pay"),
        None,
        Some(r#"{"appid":"wxd678efh567hg6787","service_id":"500001"}"#),
        signed(200, ACK),
    )
    .await;
    mount(&server, "POST", &format!("/v3/payscore/serviceorder/{no}/sync"), None,
        Some(r#"{"appid":"wxd678efh567hg6787","service_id":"500001","type":"Order_Paid","detail":{"paid_time":"20091225091210"}}"#), signed(200, ORDER)).await;
    mount(&server, "POST", &format!("/v3/payscore/serviceorder/{no}/send-pendingmessage"), None,
        Some(r#"{"service_id":"500001","post_payments":[{"name":"就餐费用","amount":40000}],"total_amount":40000,"prepaid_time":"20231218"}"#), signed(204, "")).await;
    mount(&server, "POST", &format!("/v3/payscore/serviceorder/{no}/send-prepaidmessage"), None,
        Some(r#"{"service_id":"500001","post_payments":[{"name":"就餐费用","amount":40000}],"total_amount":40000,"prepaid_time":"20231218"}"#), signed(204, "")).await;
    let c = client(&server);
    let cancel = CancelServiceOrder::new("wxd678efh567hg6787", "500001", "用户投诉");
    assert_eq!(
        c.cancel_service_order(no, &cancel)
            .await
            .unwrap()
            .order_id
            .as_deref(),
        Some("15646546545165651651")
    );
    let modify =
        ModifyServiceOrder::new("wxd678efh567hg6787", "500001", Fen::new(30_000), "用户投诉")
            .post_payment(PostPayment::new("就餐费用", Fen::new(30_000)));
    c.modify_service_order(no, &modify).await.unwrap();
    let complete = CompleteServiceOrder::new("wxd678efh567hg6787", "500001", Fen::new(35_000))
        .post_payment(PostPayment::new("就餐费用", Fen::new(40_000)))
        .post_discount(PostDiscount::new("满减", Fen::new(5_000)));
    c.complete_service_order(no, &complete).await.unwrap();
    c.pay_service_order(no, "wxd678efh567hg6787", "500001")
        .await
        .unwrap();
    c.sync_service_order(
        no,
        &SyncServiceOrder::order_paid("wxd678efh567hg6787", "500001", "20091225091210"),
    )
    .await
    .unwrap();
    let message = PaymentMessage::new("500001", Fen::new(40_000), "20231218")
        .post_payment(PostPayment::new("就餐费用", Fen::new(40_000)));
    c.send_pending_message(no, &message).await.unwrap();
    c.send_prepaid_message(no, &message).await.unwrap();
}

#[tokio::test]
async fn direct_complete_permissions_risk_bill() {
    let server = mock_server().await;
    mount(&server, "POST", "/v3/payscore/serviceorder/direct-complete", None,
        Some(r#"{"out_order_no":"D1","appid":"wx1","service_id":"500001","post_payments":[{"name":"租借","amount":100}],"time_range":{"start_time":"20240101"},"total_amount":100}"#),
        signed(200, &ORDER.replace("1234323JKHDFE1243252", "D1").replace("wxd678efh567hg6787", "wx1"))).await;
    mount(&server, "POST", "/v3/payscore/permissions", None,
        Some(r#"{"service_id":"500001","appid":"wx1","authorization_code":"AUTH1","notify_url":"https://r.example/p"}"#), signed(200, r#"{"apply_permissions_token":"TOKEN"}"#)).await;
    let auth = r#"{"service_id":"500001","appid":"wx1","mchid":"1234567890","authorization_code":"AUTH1","authorization_state":"UNBINDUSER","user_risk_level":2}"#;
    mount(
        &server,
        "GET",
        "/v3/payscore/permissions/authorization-code/AUTH1",
        Some("service_id=500001"),
        None,
        signed(200, auth),
    )
    .await;
    mount(
        &server,
        "POST",
        "/v3/payscore/permissions/authorization-code/AUTH1/terminate",
        None,
        Some(r#"{"service_id":"500001","reason":"用户注销"}"#),
        signed(204, ""),
    )
    .await;
    mount(
        &server,
        "GET",
        "/v3/payscore/permissions/openid/oUpF8",
        Some("service_id=500001&appid=wx1"),
        None,
        signed(200, auth),
    )
    .await;
    mount(
        &server,
        "POST",
        "/v3/payscore/permissions/openid/oUpF8/terminate",
        None,
        Some(r#"{"service_id":"500001","appid":"wx1","reason":"用户注销"}"#),
        signed(204, ""),
    )
    .await;
    mount(
        &server,
        "POST",
        "/v3/payscore/permissions/assess-user-risk-level",
        None,
        Some(r#"{"service_id":"500001","appid":"wx1","openid":"oUpF8"}"#),
        signed(200, auth),
    )
    .await;
    mount(&server, "GET", "/v3/payscore/merchant-bill", Some("bill_date=2019-06-11&service_id=500001&encryption_algorithm=AEAD_AES_256_GCM&tar_type=GZIP"), None,
        signed(200, r#"{"download_bill_count":1,"download_bill_list":[{"bill_sequence":1,"hash_type":"SHA1","hash_value":"x","download_url":"https://d","encrypt_key":"k","nonce":"n"}]}"#)).await;
    let c = client(&server);
    let dc = DirectComplete::new(
        "D1",
        "wx1",
        "500001",
        TimeRange::starting(TimePoint::parse("20240101").unwrap()),
        Fen::new(100),
    )
    .post_payment(PostPayment::new("租借", Fen::new(100)));
    c.direct_complete(&dc).await.unwrap();
    let token = c
        .apply_permissions(
            &PermissionsRequest::new("500001", "wx1", "AUTH1").notify_url("https://r.example/p"),
        )
        .await
        .unwrap();
    assert_eq!(token.apply_permissions_token, "TOKEN");
    let a = c
        .query_authorization_by_code("AUTH1", "500001")
        .await
        .unwrap();
    assert_eq!(a.authorization_state, Some(AuthorizationState::UnbindUser));
    c.terminate_authorization_by_code("AUTH1", "500001", "用户注销")
        .await
        .unwrap();
    c.query_authorization_by_openid("oUpF8", "500001", "wx1")
        .await
        .unwrap();
    c.terminate_authorization_by_openid("oUpF8", "500001", "wx1", "用户注销")
        .await
        .unwrap();
    let risk = AssessUserRiskLevel::new("500001", "wx1").openid("oUpF8");
    assert_eq!(
        c.assess_user_risk_level(&risk)
            .await
            .unwrap()
            .user_risk_level,
        Some(2)
    );
    let bill = c.merchant_bill("2019-06-11", "500001", true).await.unwrap();
    assert_eq!(bill.download_bill_list.len(), 1);
}

async fn query_with(reply: ResponseTemplate) -> tixpay_core::Error {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(reply)
        .mount(&server)
        .await;
    client(&server)
        .query_service_order(
            &OrderRef::QueryId("q".into()),
            "500001",
            "wxd678efh567hg6787",
        )
        .await
        .unwrap_err()
}

/// How many times the client asked for `/v3/certificates`.
async fn certificate_downloads(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v3/certificates")
        .count()
}

fn is_response_signature_error(e: &tixpay_core::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Signature {
            subject: SignatureSubject::Response,
            ..
        }
    )
}

#[tokio::test]
async fn verification_failures_are_errors() {
    // Tampered body: signed over one body, another sent.
    let sig = sign_response(&platform(), NOW, "N1", ORDER.as_bytes()).unwrap();
    let tampered = ORDER.replace("CREATED", "DONE");
    let e = query_with(signed_with(200, &tampered, NOW, PUB_KEY_ID, Some(&sig))).await;
    assert!(is_response_signature_error(&e), "{e:?}");
    assert!(e.is_outcome_unknown());
    // Wrong serial.
    let e = query_with(signed_with(
        200,
        ORDER,
        NOW,
        "PUB_KEY_ID_SOMEONE_ELSE",
        None,
    ))
    .await;
    assert!(is_response_signature_error(&e), "{e:?}");
    // Stale timestamp: 5 minutes, and in the future too.
    let e = query_with(signed_with(200, ORDER, NOW - 300, PUB_KEY_ID, None)).await;
    assert!(is_response_signature_error(&e), "{e:?}");
    let e = query_with(signed_with(200, ORDER, NOW + 301, PUB_KEY_ID, None)).await;
    assert!(is_response_signature_error(&e), "{e:?}");
    // A signature probe.
    let e = query_with(signed_with(
        200,
        ORDER,
        NOW,
        PUB_KEY_ID,
        Some("WECHATPAY/SIGNTEST/AAAA"),
    ))
    .await;
    assert!(e.to_string().contains("SIGNTEST"), "{e}");
    // A missing header.
    let e = query_with(ResponseTemplate::new(200).set_body_raw(ORDER, "application/json")).await;
    assert!(e.to_string().contains("missing"), "{e}");
    // Signed with another key.
    let other =
        RsaPrivateKey::from_pkcs8_pem(include_str!("../sandbox-keys/platform_b.key")).unwrap();
    let sig = sign_response(&other, NOW, "N1", ORDER.as_bytes()).unwrap();
    let e = query_with(signed_with(200, ORDER, NOW, PUB_KEY_ID, Some(&sig))).await;
    assert!(is_response_signature_error(&e), "{e:?}");
}

#[tokio::test]
async fn empty_204_is_verified_too() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(signed_with(
            204,
            "",
            NOW,
            PUB_KEY_ID,
            Some(&base64::encode([0u8; 256])),
        ))
        .mount(&server)
        .await;
    let e = client(&server)
        .terminate_authorization_by_code("AUTH1", "500001", "x")
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&e), "{e:?}");
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let e = client(&server)
        .terminate_authorization_by_code("AUTH1", "500001", "x")
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&e), "{e:?}");
}

#[tokio::test]
async fn provider_errors_carry_code_detail_and_request_id() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_raw(r#"{"code":"INVALID_ORDER_STATE","message":"单据状态错误","detail":{"field":"state"}}"#, "application/json")
                .insert_header("request-id", "08F4D9A2B-271316592"),
        )
        .mount(&server)
        .await;
    let cancel = CancelServiceOrder::new("wx1", "500001", "r");
    let e = client(&server)
        .cancel_service_order("N1", &cancel)
        .await
        .unwrap_err();
    assert_eq!(
        ErrorCode::from_error(&e),
        Some(ErrorCode::InvalidOrderState)
    );
    assert_eq!(
        PayScoreCode::from_error(&e),
        Some(PayScoreCode::CannotCancelInState)
    );
    let api = e.as_api().unwrap();
    assert_eq!(api.detail.as_ref().unwrap()["field"], "state");
    assert_eq!(api.status.unwrap().as_u16(), 400);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn system_error_is_retried_with_the_same_bytes_for_keyed_writes() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(
            r#"{"code":"SYSTEM_ERROR","message":"系统错误"}"#,
            "application/json",
        ))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(signed(200, ORDER))
        .mount(&server)
        .await;
    client(&server)
        .create_service_order(&create_request())
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|r| r.body == received[0].body));
}

#[tokio::test]
async fn invalid_requests_are_not_sent() {
    let server = mock_server().await;
    let c = client(&server);
    let thirty = "投".repeat(30);
    let cancel = |reason: &str| CancelServiceOrder::new("wx1", "500001", reason);
    let e = c
        .cancel_service_order("N1", &cancel(&format!("{thirty}诉")))
        .await
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidRequest { .. }));
    let bad_total = CompleteServiceOrder::new("wx1", "500001", Fen::new(999))
        .post_payment(PostPayment::new("x", Fen::new(100)));
    assert!(c.complete_service_order("N1", &bad_total).await.is_err());
    let mut bad_url = create_request();
    bad_url.notify_url = "http://insecure.example/n?x=1".into();
    assert!(c.create_service_order(&bad_url).await.is_err());
    assert!(
        c.create_service_order(&create_request().attach("a".repeat(257)))
            .await
            .is_err()
    );
    assert!(c.merchant_bill("20190611", "500001", false).await.is_err());
    assert!(server.received_requests().await.unwrap().is_empty());
    // 30 Chinese characters are fine: this one is sent.
    Mock::given(method("POST"))
        .and(path("/v3/payscore/serviceorder/N1/cancel"))
        .respond_with(ResponseTemplate::new(400))
        .expect(1)
        .mount(&server)
        .await;
    let _ = c.cancel_service_order("N1", &cancel(&thirty)).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[test]
fn w4_invoke_signature_and_params() {
    let config = Config::new("10000100", MERCHANT_KEY, "S", Secret::new(APIV3))
        .unwrap()
        .wechatpay_public_key(PUB_KEY_ID, &platform().public_key().unwrap().to_spki_pem())
        .unwrap()
        .apiv2_key(Secret::new("192006250b4c09247ec02edce69f6a2d"));
    let p =
        invoke::confirm_order_signed(&config, "DJIOSQPYWDxsa", 1_700_000_000, "ibuaiVcKdpRxkhJA")
            .unwrap();
    assert_eq!(p.business_type, "wxpayScoreUse");
    let sign = p
        .params
        .iter()
        .find(|(k, _)| k == "sign")
        .unwrap()
        .1
        .clone();
    let expected = invoke::sign(
        &[
            ("mch_id", "10000100"),
            ("package", "DJIOSQPYWDxsa"),
            ("timestamp", "1700000000"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
            ("sign_type", "HMAC-SHA256"),
        ],
        &Secret::new("192006250b4c09247ec02edce69f6a2d"),
    );
    assert_eq!(sign, expected);
    assert_eq!(sign.len(), 64);
    assert!(p.query_string().contains("sign_type=HMAC%2DSHA256"));
    let d = invoke::order_detail(&config, "500001", "N1", 1, "n").unwrap();
    assert_eq!(d.to_json()["out_order_no"], "N1");
    let without = Config::new("1", MERCHANT_KEY, "S", Secret::new(APIV3)).unwrap();
    assert!(invoke::order_detail(&without, "500001", "N1", 1, "n").is_err());
}

#[test]
fn malformed_keys_are_configuration_errors() {
    assert!(Config::new("1", "not a key", "S", Secret::new(APIV3)).is_err());
    assert!(Config::new("1", MERCHANT_KEY, "S", Secret::new("short")).is_err());
}

#[tokio::test]
async fn dot_segments_and_overflowing_totals_are_refused() {
    let server = mock_server().await;
    let c = client(&server);
    let cancel = CancelServiceOrder::new("wx1", "500001", "r");
    assert!(c.cancel_service_order("..", &cancel).await.is_err());
    let huge = CompleteServiceOrder::new("wx1", "500001", Fen::new(u64::MAX))
        .post_payment(PostPayment::new("a", Fen::new(u64::MAX)))
        .post_payment(PostPayment::new("b", Fen::new(1)));
    assert!(c.complete_service_order("N1", &huge).await.is_err());
    let with_amount =
        create_request().post_discount(PostDiscount::new("满减", Fen::new(100)).description("x"));
    assert!(c.create_service_order(&with_amount).await.is_err());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unknown_serial_triggers_at_most_one_download_a_minute() {
    let server = mock_server().await;
    Mock::given(path("/v3/certificates"))
        .respond_with(signed_with(200, r#"{"data":[]}"#, NOW, PUB_KEY_ID, None))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/payscore/serviceorder"))
        .respond_with(signed_with(
            200,
            ORDER,
            NOW,
            "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
            None,
        ))
        .mount(&server)
        .await;
    let combined = config(&server).platform_certificates();
    let c = Client::with_http_client(combined, HttpClient::new().unwrap());
    for _ in 0..3 {
        let e = c
            .query_service_order(
                &OrderRef::QueryId("q".into()),
                "500001",
                "wxd678efh567hg6787",
            )
            .await
            .unwrap_err();
        assert!(is_response_signature_error(&e), "{e:?}");
    }
    let downloads = certificate_downloads(&server).await;
    assert_eq!(downloads, 1);
}

#[tokio::test]
async fn the_backup_host_is_tried_when_the_main_one_cannot_be_reached() {
    let backup = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(signed(200, ORDER))
        .expect(1)
        .mount(&backup)
        .await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        format!("http://127.0.0.1:{port}")
    };
    let with_backup = config(&backup).base_url(closed).backup_url(backup.uri());
    // Failing over is an attempt of the call's budget: two attempts, two hosts.
    let http = HttpClient::builder()
        .retry_policy(tixpay_core::RetryPolicy::default().max_attempts(2))
        .build()
        .unwrap();
    let c = Client::with_http_client(with_backup, http);
    let order = c
        .query_service_order(
            &OrderRef::QueryId("q".into()),
            "500001",
            "wxd678efh567hg6787",
        )
        .await
        .unwrap();
    assert_eq!(order.state, Some(State::Created));
    // Without a backup host, the same failure is reported as "not sent".
    let c = Client::with_http_client(
        Config::new(
            "1234567890",
            MERCHANT_KEY,
            "0123456789ABC",
            Secret::new(APIV3),
        )
        .unwrap()
        .wechatpay_public_key(PUB_KEY_ID, &platform().public_key().unwrap().to_spki_pem())
        .unwrap()
        .base_url("http://127.0.0.1:9"),
        HttpClient::builder()
            .retry_policy(tixpay_core::RetryPolicy::none())
            .build()
            .unwrap(),
    );
    let err = c
        .query_service_order(
            &OrderRef::QueryId("q".into()),
            "500001",
            "wxd678efh567hg6787",
        )
        .await
        .unwrap_err();
    assert!(!err.may_have_been_sent(), "{err:?}");
}

// --- Every reply verified, bound to its request, and judged ---------------------------

const OTHER_ORDER_NO: &str = "OTHER-ORDER-1";

fn complete_request() -> CompleteServiceOrder {
    CompleteServiceOrder::new("wxd678efh567hg6787", "500001", Fen::new(40_000))
        .post_payment(PostPayment::new("就餐费用", Fen::new(40_000)))
}

async fn answer_always(server: &MockServer, reply: ResponseTemplate) {
    Mock::given(wiremock::matchers::any())
        .respond_with(reply)
        .mount(server)
        .await;
}

fn no_retries(server: &MockServer) -> Client {
    let http = HttpClient::builder()
        .retry_policy(tixpay_core::RetryPolicy::none())
        .build()
        .unwrap();
    Client::with_http_client(config(server), http)
}

#[tokio::test]
async fn a_genuine_reply_for_another_order_is_refused() {
    // A query for order B answered with the genuine, signed reply for order A.
    let server = mock_server().await;
    answer_always(&server, signed(200, ORDER)).await;
    let err = client(&server)
        .query_service_order(
            &OrderRef::OutOrderNo(OTHER_ORDER_NO.into()),
            "500001",
            "wxd678efh567hg6787",
        )
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&err), "{err:?}");
    assert!(err.to_string().contains("1234323JKHDFE1243252"), "{err}");
    assert!(err.is_outcome_unknown());
    // ... or another merchant's, or another service's.
    for (field, value) in [("mchid", "9999999999"), ("service_id", "500099")] {
        let foreign = ORDER.replace(
            &format!(
                r#""{field}":"{}""#,
                if field == "mchid" {
                    "1234567890"
                } else {
                    "500001"
                }
            ),
            &format!(r#""{field}":"{value}""#),
        );
        let server = mock_server().await;
        answer_always(&server, signed(200, &foreign)).await;
        let err = client(&server)
            .query_service_order(
                &OrderRef::OutOrderNo("1234323JKHDFE1243252".into()),
                "500001",
                "wxd678efh567hg6787",
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
}

#[tokio::test]
async fn a_genuine_reply_from_another_operation_or_an_earlier_call_is_refused() {
    // complete answered with a genuine authorization reply: it echoes no order at all.
    let auth = r#"{"service_id":"500001","appid":"wxd678efh567hg6787","mchid":"1234567890","authorization_code":"AUTH1","authorization_state":"AVAILABLE"}"#;
    let server = mock_server().await;
    answer_always(&server, signed(200, auth)).await;
    let err = no_retries(&server)
        .complete_service_order("1234323JKHDFE1243252", &complete_request())
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&err), "{err:?}");
    assert!(err.is_outcome_unknown());
    // The genuine acknowledgement of an earlier cancel of order A, replayed to a cancel of
    // order B within the 5-minute window.
    let server = mock_server().await;
    answer_always(&server, signed(200, ACK)).await;
    let cancel = CancelServiceOrder::new("wxd678efh567hg6787", "500001", "r");
    let err = no_retries(&server)
        .cancel_service_order(OTHER_ORDER_NO, &cancel)
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&err), "{err:?}");
    // The same acknowledgement answers its own cancel.
    assert!(
        no_retries(&server)
            .cancel_service_order("1234323JKHDFE1243252", &cancel)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_unsigned_refusal_of_a_write_is_outcome_unknown() {
    // Defect: an unsigned `400 INVALID_REQUEST` to complete was a final refusal.
    let server = mock_server().await;
    answer_always(
        &server,
        ResponseTemplate::new(400).set_body_raw(
            r#"{"code":"INVALID_REQUEST","message":"x"}"#,
            "application/json",
        ),
    )
    .await;
    let err = no_retries(&server)
        .complete_service_order("1234323JKHDFE1243252", &complete_request())
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("INVALID_REQUEST"));
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("did not sign"), "{err}");
    // For a read it is a refusal (nothing can have moved), marked as not authenticated.
    let err = query_with(ResponseTemplate::new(404).set_body_raw(
        r#"{"code":"ORDER_NOT_EXIST","message":"x"}"#,
        "application/json",
    ))
    .await;
    assert!(!err.is_outcome_unknown());
    assert!(err.unverified_reason().is_some());
}

#[tokio::test]
async fn a_signed_refusal_settles_only_what_it_can_be_bound_to() {
    let refusal = r#"{"code":"INVALID_ORDER_STATE","message":"单据状态错误"}"#;
    // A write whose replies must echo out_order_no: WeChat Pay's error bodies echo nothing,
    // so even a genuine signed refusal cannot be shown to answer this request (a captured
    // one replayed within the 5-minute window verifies too). Query before acting.
    let server = mock_server().await;
    answer_always(&server, signed(400, refusal)).await;
    let err = no_retries(&server)
        .complete_service_order("1234323JKHDFE1243252", &complete_request())
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("INVALID_ORDER_STATE"));
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(
        err.unverified_reason()
            .is_some_and(|r| r.contains("out_order_no")),
        "{err:?}"
    );
    // A read's signed refusal is its answer.
    let err = query_with(signed(404, r#"{"code":"ORDER_NOT_EXIST","message":"x"}"#)).await;
    assert_eq!(err.api_code(), Some("ORDER_NOT_EXIST"));
    assert!(!err.is_outcome_unknown());
    // A write whose reply echoes nothing anyway (a token) is refused by its signed answer.
    let server = mock_server().await;
    answer_always(
        &server,
        signed(400, r#"{"code":"PARAM_ERROR","message":"授权协议号重复"}"#),
    )
    .await;
    let err = no_retries(&server)
        .apply_permissions(&PermissionsRequest::new("500001", "wx1", "AUTH1"))
        .await
        .unwrap_err();
    assert!(!err.is_outcome_unknown(), "{err}");
    assert_eq!(err.unverified_reason(), None);
}

#[tokio::test]
async fn a_refusal_whose_signature_is_present_but_wrong_is_a_signature_error() {
    let refusal = r#"{"code":"INVALID_ORDER_STATE","message":"单据状态错误"}"#;
    let sig = sign_response(&platform(), NOW, "N1", br#"{"code":"ORDER_DONE"}"#).unwrap();
    let server = mock_server().await;
    answer_always(
        &server,
        signed_with(400, refusal, NOW, PUB_KEY_ID, Some(&sig)),
    )
    .await;
    let err = no_retries(&server)
        .complete_service_order("1234323JKHDFE1243252", &complete_request())
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&err), "{err:?}");
    assert!(err.is_outcome_unknown());
}

#[tokio::test]
async fn a_signed_system_error_settles_nothing_whatever_its_status_says() {
    // A genuine signed SYSTEM_ERROR whose status was rewritten to 400, with a Retry-After
    // that stops the retries: the signed body still says the outcome is unknown.
    let server = mock_server().await;
    answer_always(
        &server,
        signed(400, r#"{"code":"SYSTEM_ERROR","message":"系统错误"}"#)
            .insert_header("retry-after", "99999"),
    )
    .await;
    let err = client(&server)
        .create_service_order(&create_request())
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("SYSTEM_ERROR"));
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_status_code_outside_the_signature_never_settles_a_write() {
    // A genuine signed completion, its status rewritten: the body does not say "refused".
    for status in [400, 403, 404] {
        let server = mock_server().await;
        answer_always(&server, signed(status, ORDER)).await;
        let err = no_retries(&server)
            .complete_service_order("1234323JKHDFE1243252", &complete_request())
            .await
            .unwrap_err();
        assert!(err.is_outcome_unknown(), "{status}: {err}");
    }
    // A genuine signed 204, rewritten to 400: nothing in the body refuses.
    let server = mock_server().await;
    answer_always(&server, signed(400, "")).await;
    let err = no_retries(&server)
        .terminate_authorization_by_code("AUTH1", "500001", "x")
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_calls_on_a_fresh_client_make_one_download_and_all_succeed() {
    let server = mock_server().await;
    let pem = include_str!("../sandbox-keys/platform_a.crt");
    let serial = tixpay_core::crypto::Certificate::from_pem(pem)
        .unwrap()
        .serial()
        .to_owned();
    let sealed = tixpay_core::crypto::AesGcmKey::new(APIV3.as_bytes())
        .unwrap()
        .seal(b"certnonce123", b"certificate", pem.as_bytes())
        .unwrap();
    let list = serde_json::json!({"data": [{
        "serial_no": serial,
        "encrypt_certificate": {
            "algorithm": "AEAD_AES_256_GCM",
            "nonce": "certnonce123",
            "associated_data": "certificate",
            "ciphertext": base64::encode(sealed),
        },
    }]})
    .to_string();
    // The download is slow, so every call finds the serial unknown while it is in flight.
    Mock::given(path("/v3/certificates"))
        .respond_with(
            signed_with(200, &list, NOW, &serial, None)
                .set_delay(std::time::Duration::from_millis(500)),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v3/payscore/serviceorder"))
        .respond_with(signed_with(200, ORDER, NOW, &serial, None))
        .mount(&server)
        .await;
    // No public key: the downloaded platform certificates are the default.
    let certificates_only = Config::new(
        "1234567890",
        MERCHANT_KEY,
        "0123456789ABC",
        Secret::new(APIV3),
    )
    .unwrap()
    .base_url(server.uri())
    .clock(Arc::new(FixedClock::from_seconds(NOW)));
    let c = Client::with_http_client(certificates_only, HttpClient::new().unwrap());
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move {
                c.query_service_order(
                    &OrderRef::OutOrderNo("1234323JKHDFE1243252".into()),
                    "500001",
                    "wxd678efh567hg6787",
                )
                .await
            })
        })
        .collect();
    for call in calls {
        let order = tokio::time::timeout(std::time::Duration::from_secs(30), call)
            .await
            .expect("a call hung")
            .unwrap()
            .unwrap();
        assert_eq!(order.state, Some(State::Created));
    }
    let downloads = certificate_downloads(&server).await;
    assert_eq!(downloads, 1);
    assert_eq!(c.certificate_serials(), vec![serial]);
}

#[tokio::test]
async fn the_cooldown_starts_when_a_refresh_completes() {
    let server = mock_server().await;
    Mock::given(path("/v3/certificates"))
        .respond_with(signed_with(200, r#"{"data":[]}"#, NOW, PUB_KEY_ID, None))
        .mount(&server)
        .await;
    let unknown = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
    Mock::given(path("/v3/payscore/serviceorder"))
        .respond_with(signed_with(200, ORDER, NOW, unknown, None))
        .mount(&server)
        .await;
    let combined = config(&server).platform_certificates();
    let c = Client::with_http_client(combined, HttpClient::new().unwrap());
    // A refresh the user asked for counts: right after it, an unknown serial waits.
    c.refresh_certificates().await.unwrap();
    let err = c
        .query_service_order(
            &OrderRef::OutOrderNo("1234323JKHDFE1243252".into()),
            "500001",
            "wxd678efh567hg6787",
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("less than a minute ago"), "{err}");
    let downloads = certificate_downloads(&server).await;
    assert_eq!(downloads, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_download_still_starts_the_cooldown() {
    let server = mock_server().await;
    Mock::given(path("/v3/certificates"))
        .respond_with(
            signed_with(200, r#"{"data":[]}"#, NOW, PUB_KEY_ID, None)
                .set_delay(std::time::Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let unknown = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
    Mock::given(path("/v3/payscore/serviceorder"))
        .respond_with(signed_with(200, ORDER, NOW, unknown, None))
        .mount(&server)
        .await;
    let combined = config(&server).platform_certificates();
    let c = Client::with_http_client(combined, HttpClient::new().unwrap());
    let order = OrderRef::OutOrderNo("1234323JKHDFE1243252".into());
    let query = || c.query_service_order(&order, "500001", "wxd678efh567hg6787");
    // The caller goes away while the download it started is in flight.
    let abandoned = tokio::time::timeout(std::time::Duration::from_millis(300), query()).await;
    assert!(abandoned.is_err(), "the download should still be running");
    // The next unknown serial does not start another.
    let err = tokio::time::timeout(std::time::Duration::from_secs(20), query())
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("less than a minute ago"), "{err}");
    let downloads = certificate_downloads(&server).await;
    assert_eq!(downloads, 1);
}

#[tokio::test]
async fn pay_needs_its_ids_so_that_its_reply_can_be_bound() {
    let server = mock_server().await;
    let c = client(&server);
    for (appid, service_id) in [("", "500001"), ("wx1", " ")] {
        let err = c
            .pay_service_order("1234323JKHDFE1243252", appid, service_id)
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidRequest { .. }),
            "{err:?}"
        );
        assert!(!err.may_have_been_sent());
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_certificate_download_is_verified_with_a_held_key() {
    // Public key and certificates together (the migration): the refusal is signed with the
    // public key the client holds.
    let refusal = r#"{"code":"RESOURCE_NOT_EXISTS","message":"无可用的平台证书"}"#;
    let server = mock_server().await;
    Mock::given(path("/v3/certificates"))
        .respond_with(signed(404, refusal))
        .mount(&server)
        .await;
    let c = Client::with_http_client(
        config(&server).platform_certificates(),
        HttpClient::new().unwrap(),
    );
    let err = c.refresh_certificates().await.unwrap_err();
    assert_eq!(err.api_code(), Some("RESOURCE_NOT_EXISTS"));
    assert_eq!(err.unverified_reason(), None, "{err}");
    // Signed with a key the client does not hold: reported, not authenticated.
    let server = mock_server().await;
    Mock::given(path("/v3/certificates"))
        .respond_with(signed_with(404, refusal, NOW, "UNKNOWN_SERIAL", None))
        .mount(&server)
        .await;
    let c = Client::with_http_client(
        config(&server).platform_certificates(),
        HttpClient::new().unwrap(),
    );
    let err = c.refresh_certificates().await.unwrap_err();
    assert_eq!(err.api_code(), Some("RESOURCE_NOT_EXISTS"));
    assert!(err.unverified_reason().is_some(), "{err:?}");
    // Wrongly signed: a signature error.
    let sig = sign_response(&platform(), NOW, "N1", b"something else").unwrap();
    let server = mock_server().await;
    Mock::given(path("/v3/certificates"))
        .respond_with(signed_with(404, refusal, NOW, PUB_KEY_ID, Some(&sig)))
        .mount(&server)
        .await;
    let c = Client::with_http_client(
        config(&server).platform_certificates(),
        HttpClient::new().unwrap(),
    );
    let err = c.refresh_certificates().await.unwrap_err();
    assert!(is_response_signature_error(&err), "{err:?}");
}

#[tokio::test]
async fn an_authorization_for_another_openid_is_refused() {
    let other = r#"{"service_id":"500001","appid":"wx1","mchid":"1234567890","openid":"oSOMEONE","authorization_state":"AVAILABLE"}"#;
    let server = mock_server().await;
    answer_always(&server, signed(200, other)).await;
    let err = client(&server)
        .query_authorization_by_openid("oUpF8", "500001", "wx1")
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&err), "{err:?}");
    assert!(err.to_string().contains("openid"), "{err}");
}

#[tokio::test]
async fn a_public_key_only_client_never_downloads_certificates() {
    let server = mock_server().await;
    answer_always(
        &server,
        signed_with(
            200,
            ORDER,
            NOW,
            "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
            None,
        ),
    )
    .await;
    let c = client(&server);
    let err = c
        .query_service_order(
            &OrderRef::OutOrderNo("1234323JKHDFE1243252".into()),
            "500001",
            "wxd678efh567hg6787",
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not the configured public key id"),
        "{err}"
    );
    let err = c.refresh_certificates().await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Config { .. }), "{err:?}");
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert!(!paths.iter().any(|p| p == "/v3/certificates"), "{paths:?}");
}

/// Matches the `Wechatpay-Serial` a request announces.
struct AnnouncesSerial(String);

impl Match for AnnouncesSerial {
    fn matches(&self, request: &Request) -> bool {
        request
            .headers
            .get("wechatpay-serial")
            .and_then(|v| v.to_str().ok())
            == Some(self.0.as_str())
    }
}

#[tokio::test]
async fn requests_announce_the_key_they_verify_with() {
    // Public-key mode: the public key id.
    let server = mock_server().await;
    Mock::given(AnnouncesSerial(PUB_KEY_ID.into()))
        .respond_with(signed(200, ORDER))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .query_service_order(
            &OrderRef::OutOrderNo("1234323JKHDFE1243252".into()),
            "500001",
            "wxd678efh567hg6787",
        )
        .await
        .unwrap();
    // Certificates: the newest one held (by validity start), not the older one.
    let newest = include_str!("../sandbox-keys/platform_a.crt");
    let older = include_str!("fixtures/older_test_platform.crt");
    let newest_serial = tixpay_core::crypto::Certificate::from_pem(newest)
        .unwrap()
        .serial()
        .to_owned();
    let server = mock_server().await;
    Mock::given(AnnouncesSerial(newest_serial.clone()))
        .respond_with(signed_with(200, ORDER, NOW, &newest_serial, None))
        .expect(2)
        .mount(&server)
        .await;
    for order in [[older, newest], [newest, older]] {
        let mut config = Config::new(
            "1234567890",
            MERCHANT_KEY,
            "0123456789ABC",
            Secret::new(APIV3),
        )
        .unwrap()
        .base_url(server.uri())
        .clock(Arc::new(FixedClock::from_seconds(NOW)));
        for pem in order {
            config = config.with_certificate(pem).unwrap();
        }
        let c = Client::with_http_client(config, HttpClient::new().unwrap());
        let _ = c
            .query_service_order(
                &OrderRef::OutOrderNo("1234323JKHDFE1243252".into()),
                "500001",
                "wxd678efh567hg6787",
            )
            .await;
    }
    // Whichever order the certificates were given in, the newest is announced.
    let announced: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter_map(|r| {
            r.headers
                .get("wechatpay-serial")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(announced, vec![newest_serial.clone(), newest_serial]);
}

/// A callback signed with the platform key, its resource encrypted with the APIv3 key.
fn callback(event_type: &str, algorithm: &str, plain: &str) -> (http::HeaderMap, Vec<u8>) {
    let sealed = tixpay_core::crypto::AesGcmKey::new(APIV3.as_bytes())
        .unwrap()
        .seal(b"cbnonce12345", b"payscore", plain.as_bytes())
        .unwrap();
    let body = serde_json::json!({
        "id": "EV-1",
        "create_time": "2024-01-01T10:00:00+08:00",
        "event_type": event_type,
        "resource_type": "encrypt-resource",
        "resource": {
            "original_type": "payscore",
            "algorithm": algorithm,
            "ciphertext": base64::encode(sealed),
            "associated_data": "payscore",
            "nonce": "cbnonce12345",
        },
    })
    .to_string()
    .into_bytes();
    let mut headers = http::HeaderMap::new();
    headers.insert("wechatpay-timestamp", NOW.to_string().parse().unwrap());
    headers.insert("wechatpay-nonce", "CB1".parse().unwrap());
    headers.insert("wechatpay-serial", PUB_KEY_ID.parse().unwrap());
    headers.insert(
        "wechatpay-signature",
        sign_response(&platform(), NOW, "CB1", &body)
            .unwrap()
            .parse()
            .unwrap(),
    );
    (headers, body)
}

#[tokio::test]
async fn permission_callbacks_decode_and_unknown_algorithms_are_refused() {
    let server = mock_server().await;
    let c = client(&server);
    let change = r#"{"appid":"wx1","mchid":"1234567890","service_id":"500001","openid":"oUpF8","user_service_status":"USER_OPEN_SERVICE","openorclose_time":"20240101100000","authorization_code":"AUTH1"}"#;
    let (headers, body) = callback("PAYSCORE.USER_OPEN_SERVICE", "AEAD_AES_256_GCM", change);
    let event = tixpay_wechat_payscore::notify::NotificationParser::new(&c)
        .parse(&headers, &body)
        .await
        .unwrap();
    match &event.event {
        notify::CallbackEvent::UserOpenService(p) => {
            assert_eq!(p.openid.as_deref(), Some("oUpF8"));
            assert_eq!(p.authorization_code.as_deref(), Some("AUTH1"));
        }
        other => panic!("{other:?}"),
    }
    tixpay_core::test_util::assert_stores_as_json(&event);
    let (headers, body) = callback("PAYSCORE.USER_CLOSE_SERVICE", "AEAD_AES_256_GCM", change);
    let event = tixpay_wechat_payscore::notify::NotificationParser::new(&c)
        .parse(&headers, &body)
        .await
        .unwrap();
    assert!(
        matches!(event.event, notify::CallbackEvent::UserCloseService(_)),
        "{event:?}"
    );
    for algorithm in ["", "AEAD_AES_128_GCM", "aead_aes_256_gcm"] {
        let (headers, body) = callback("PAYSCORE.USER_OPEN_SERVICE", algorithm, change);
        let err = tixpay_wechat_payscore::notify::NotificationParser::new(&c)
            .parse(&headers, &body)
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Decode { path: Some(p), .. } if p == "resource.algorithm"),
            "{algorithm:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_failing_nonce_source_stops_the_call_before_sending() {
    let server = mock_server().await;
    let c = Client::with_http_client(
        config(&server).nonce_source(Arc::new(tixpay_core::test_util::FailingNonce)),
        HttpClient::new().unwrap(),
    );
    let err = c
        .complete_service_order("1234323JKHDFE1243252", &complete_request())
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Crypto { .. }), "{err:?}");
    assert!(!err.may_have_been_sent());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn blank_or_runaway_identifiers_never_leave() {
    let server = mock_server().await;
    let c = client(&server);
    let long = "A".repeat(10_000);
    let mut errors = vec![
        c.query_service_order(&OrderRef::OutOrderNo(long.clone()), "500001", "wx1")
            .await
            .unwrap_err(),
        c.query_service_order(&OrderRef::OutOrderNo("O1".into()), "", "wx1")
            .await
            .unwrap_err(),
        c.query_authorization_by_code("AUTH1", "")
            .await
            .unwrap_err(),
        c.query_authorization_by_code(&long, "500001")
            .await
            .unwrap_err(),
        c.terminate_authorization_by_code("AUTH1", " ", "不再使用")
            .await
            .unwrap_err(),
        c.query_authorization_by_openid("oUpF8", "500001", "")
            .await
            .unwrap_err(),
        c.query_authorization_by_openid("oUpF8", "", "wx1")
            .await
            .unwrap_err(),
        c.terminate_authorization_by_openid("oUpF8", "500001", " ", "不再使用")
            .await
            .unwrap_err(),
    ];
    let mut risk = create_request();
    risk.risk_fund = RiskFund::new(RiskFundName::Deposit, Fen::ZERO);
    errors.push(c.create_service_order(&risk).await.unwrap_err());
    let mut too_much = create_request();
    too_much.risk_fund.amount = Fen::new(u64::MAX);
    errors.push(c.create_service_order(&too_much).await.unwrap_err());
    let total = CompleteServiceOrder::new("wx1", "500001", Fen::new(u64::MAX))
        .post_payment(PostPayment::new("a", Fen::new(u64::MAX)));
    errors.push(c.complete_service_order("O1", &total).await.unwrap_err());
    for err in errors {
        assert!(
            matches!(err.kind(), ErrorKind::InvalidRequest { .. }),
            "{err:?}"
        );
        assert!(!err.may_have_been_sent());
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_callback_answers_are_204_and_a_fail_object() {
    use tixpay_core::notify::Notifications;
    let server = mock_server().await;
    let parser = notify::NotificationParser::new(&client(&server));
    let ack = parser.ack();
    assert_eq!(ack.status(), 204);
    assert!(ack.body().is_empty());
    let reject = parser.reject();
    assert_eq!(reject.status(), 500);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(reject.body()).unwrap(),
        serde_json::json!({"code": "FAIL", "message": "rejected"})
    );
}
