//! Partner (服务商) mode: a wiremock test per `/v3/payscore/partner/…` endpoint (the exact
//! request: method, path, query, body, and an Authorization signed by the provider over
//! the bytes that arrived; success and failure replies), the binding of replies to the
//! sub-merchant, the 204s verified, partner callbacks typed, and a sandbox flow.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use tixpay_core::crypto::{RsaPrivateKey, base64};
use tixpay_core::test_util::{fixed_clock_client, mock_server};
use tixpay_core::{ErrorKind, FixedClock, FixedNonce, Secret, SignatureSubject};
use tixpay_wechat_payscore::auth::{request_message, sign_response};
use tixpay_wechat_payscore::notify::{CallbackEvent, NotificationParser};
use tixpay_wechat_payscore::*;
use wiremock::matchers::{body_string, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const NOW: i64 = 1_700_000_000;
const NONCE: &str = "A1B2C3D4E5F6G7";
const MERCHANT_KEY: &str = include_str!("../../core/tests/fixtures/w1_private_key.pem");
const PLATFORM_KEY: &str = include_str!("../sandbox-keys/platform_a.key");
const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000TEST";
const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
/// The service provider.
const SP_MCHID: &str = "1230000109";
const SP_APPID: &str = "wx8888888888888888";
const SUB: &str = "1900000109";
const SUB_APPID: &str = "wxd678efh567hg6999";

fn platform() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(PLATFORM_KEY).unwrap()
}

fn partner(server: &MockServer) -> PartnerClient {
    let config = Config::new(SP_MCHID, MERCHANT_KEY, "0123456789ABC", Secret::new(APIV3))
        .unwrap()
        .wechatpay_public_key(PUB_KEY_ID, &platform().public_key().unwrap().to_spki_pem())
        .unwrap()
        .base_url(server.uri())
        .clock(Arc::new(FixedClock::from_seconds(NOW)))
        .nonce_source(Arc::new(FixedNonce::new(NONCE)));
    let http = fixed_clock_client(NOW, &tixpay_core::retry::InstantSleep::default()).unwrap();
    PartnerClient::with_http_client(config, http, SP_APPID)
}

/// The Authorization header: the provider's mchid and serial, and an RSA signature over the
/// message rebuilt from the request as received.
struct SignedByProvider;

impl Match for SignedByProvider {
    fn matches(&self, request: &Request) -> bool {
        let Some(header) = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let prefix = format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{SP_MCHID}\",nonce_str=\"{NONCE}\",timestamp=\"{NOW}\",serial_no=\"0123456789ABC\",signature=\""
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

/// The raw query string, exactly (`None`: no query at all).
struct Query(Option<&'static str>);

impl Match for Query {
    fn matches(&self, request: &Request) -> bool {
        request.url.query() == self.0
    }
}

fn signed(status: u16, body: &str) -> ResponseTemplate {
    signed_by(status, body, None)
}

fn signed_by(status: u16, body: &str, signature: Option<&str>) -> ResponseTemplate {
    let sig = signature.map_or_else(
        || sign_response(&platform(), NOW, "N1", body.as_bytes()).unwrap(),
        str::to_owned,
    );
    let mut t = ResponseTemplate::new(status)
        .insert_header("wechatpay-timestamp", NOW.to_string().as_str())
        .insert_header("wechatpay-nonce", "N1")
        .insert_header("wechatpay-signature", sig.as_str())
        .insert_header("wechatpay-serial", PUB_KEY_ID)
        .insert_header("request-id", "08F4D-1");
    if !body.is_empty() {
        t = t.set_body_raw(body.to_owned(), "application/json");
    }
    t
}

/// Expects exactly one request with this method, path, query and body, signed by the
/// provider, and answers `reply`.
async fn expect(
    server: &MockServer,
    m: &'static str,
    p: &str,
    query: Option<&'static str>,
    body: &str,
    reply: ResponseTemplate,
) {
    Mock::given(method(m))
        .and(path(p))
        .and(Query(query))
        .and(body_string(body.to_owned()))
        .and(SignedByProvider)
        .respond_with(reply)
        .expect(1)
        .mount(server)
        .await;
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

const ORDER: &str = r#"{"out_order_no":"P-1","service_id":"500001","appid":"wx8888888888888888","mchid":"1230000109","sub_mchid":"1900000109","sub_appid":"wxd678efh567hg6999","service_introduction":"电瓶车","state":"CREATED","risk_fund":{"name":"DEPOSIT","amount":10000},"time_range":{"start_time":"20091225091010"},"notify_url":"https://api.test.com","order_id":"15646546545165651651","package":"DJIOSQPYWDxsa"}"#;

fn create_request() -> PartnerCreateServiceOrder {
    PartnerCreateServiceOrder::new(
        "P-1",
        SUB,
        "500001",
        "电瓶车",
        TimeRange::starting(TimePoint::parse("20091225091010").unwrap()),
        RiskFund::new(RiskFundName::Deposit, Fen::new(10_000)),
        "https://api.test.com",
    )
    .sub_appid(SUB_APPID)
    .sub_openid("oSub")
    .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
}

#[tokio::test]
async fn create_sends_the_provider_appid_and_the_sub_merchant() {
    let server = mock_server().await;
    expect(
        &server,
        "POST",
        "/v3/payscore/partner/serviceorder",
        None,
        r#"{"appid":"wx8888888888888888","out_order_no":"P-1","service_id":"500001","sub_mchid":"1900000109","sub_appid":"wxd678efh567hg6999","service_introduction":"电瓶车","post_payments":[{"name":"租车费","amount":3000}],"risk_fund":{"name":"DEPOSIT","amount":10000},"time_range":{"start_time":"20091225091010"},"sub_openid":"oSub","need_user_confirm":true,"notify_url":"https://api.test.com"}"#,
        signed(200, ORDER),
    )
    .await;
    let order = partner(&server)
        .create_service_order(&create_request())
        .await
        .unwrap();
    assert_eq!(order.sub_mchid.as_deref(), Some(SUB));
    assert_eq!(order.sub_appid.as_deref(), Some(SUB_APPID));
    assert_eq!(order.provider_mchid(), Some(SP_MCHID));
    assert_eq!(order.package.as_deref(), Some("DJIOSQPYWDxsa"));
    assert!(order.extra.is_empty(), "{:?}", order.extra);
}

#[tokio::test]
async fn a_create_reply_for_another_sub_merchant_or_without_one_is_refused() {
    for reply in [
        ORDER.replace(SUB, "1900000999"),
        ORDER.replace(r#""sub_mchid":"1900000109","#, ""),
        ORDER.replace(SP_APPID, "wx0000000000000000"),
        ORDER.replace(r#""mchid":"1230000109""#, r#""mchid":"1900000109""#),
    ] {
        let server = mock_server().await;
        Mock::given(method("POST"))
            .respond_with(signed(200, &reply))
            .mount(&server)
            .await;
        let e = partner(&server)
            .create_service_order(&create_request())
            .await
            .unwrap_err();
        assert!(is_response_signature_error(&e), "{reply}: {e:?}");
    }
}

#[tokio::test]
async fn query_has_no_appid_and_binds_the_sub_merchant() {
    let server = mock_server().await;
    expect(
        &server,
        "GET",
        "/v3/payscore/partner/serviceorder",
        Some("service_id=500001&sub_mchid=1900000109&out_order_no=P%2F1%20x"),
        "",
        signed(200, &ORDER.replace("P-1", "P/1 x")),
    )
    .await;
    expect(
        &server,
        "GET",
        "/v3/payscore/partner/serviceorder",
        Some("service_id=500001&sub_mchid=1900000109&query_id=Q%2B1"),
        "",
        signed(200, ORDER),
    )
    .await;
    let p = partner(&server);
    let order = p
        .query_service_order(&OrderRef::OutOrderNo("P/1 x".into()), SUB, "500001")
        .await
        .unwrap();
    assert_eq!(order.sub_mchid.as_deref(), Some(SUB));
    p.query_service_order(&OrderRef::QueryId("Q+1".into()), SUB, "500001")
        .await
        .unwrap();

    // Another sub-merchant's order, or another order, is refused.
    for reply in [
        ORDER.replace(SUB, "1900000999"),
        ORDER.replace("P-1", "P-2"),
    ] {
        let server = mock_server().await;
        Mock::given(method("GET"))
            .respond_with(signed(200, &reply))
            .mount(&server)
            .await;
        let e = partner(&server)
            .query_service_order(&OrderRef::OutOrderNo("P-1".into()), SUB, "500001")
            .await
            .unwrap_err();
        assert!(is_response_signature_error(&e), "{e:?}");
    }
}

#[tokio::test]
async fn order_actions_send_no_appid_and_answer_204() {
    let server = mock_server().await;
    let base = "/v3/payscore/partner/serviceorder/P%2F1";
    let ok = || signed(204, "");
    expect(
        &server,
        "POST",
        &format!("{base}/cancel"),
        None,
        r#"{"service_id":"500001","sub_mchid":"1900000109","reason":"用户投诉"}"#,
        ok(),
    )
    .await;
    expect(&server, "POST", &format!("{base}/modify"), None,
        r#"{"service_id":"500001","sub_mchid":"1900000109","post_payments":[{"name":"租车费","amount":2000}],"total_amount":2000,"reason":"降价"}"#, ok()).await;
    expect(&server, "POST", &format!("{base}/complete"), None,
        r#"{"service_id":"500001","sub_mchid":"1900000109","post_payments":[{"name":"租车费","amount":3000}],"post_discounts":[{"name":"会员","description":"折扣","amount":500}],"total_amount":2500,"complete_time":"2019-11-11T16:24:05+08:00"}"#, ok()).await;
    expect(
        &server,
        "POST",
        &format!("{base}/pay"),
        None,
        r#"{"service_id":"500001","sub_mchid":"1900000109"}"#,
        ok(),
    )
    .await;
    expect(&server, "POST", &format!("{base}/sync"), None,
        r#"{"service_id":"500001","sub_mchid":"1900000109","type":"Order_Paid","detail":{"seq":1,"paid_time":"20091225091210","paid_amount":2500}}"#, ok()).await;
    let message = r#"{"service_id":"500001","sub_mchid":"1900000109","post_payments":[{"name":"就餐费用","amount":40000}],"total_amount":40000,"prepaid_time":"20231218"}"#;
    expect(
        &server,
        "POST",
        &format!("{base}/send-pendingmessage"),
        None,
        message,
        ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        &format!("{base}/send-prepaidmessage"),
        None,
        message,
        ok(),
    )
    .await;
    expect(&server, "POST", "/v3/payscore/partner/serviceorder/direct-complete", None,
        r#"{"appid":"wx8888888888888888","out_order_no":"D-1","service_id":"500001","sub_mchid":"1900000109","sub_appid":"wxd678efh567hg6999","service_introduction":"租借","post_payments":[{"name":"租借","amount":100}],"total_amount":100,"time_range":{"start_time":"20240101"},"notify_url":"https://api.test.com","openid":"oSp"}"#, ok()).await;

    let p = partner(&server);
    let no = "P/1";
    p.cancel_service_order(
        no,
        &PartnerCancelServiceOrder::new(SUB, "500001", "用户投诉"),
    )
    .await
    .unwrap();
    p.modify_service_order(
        no,
        &PartnerModifyServiceOrder::new(SUB, "500001", Fen::new(2_000), "降价")
            .post_payment(PostPayment::new("租车费", Fen::new(2_000))),
    )
    .await
    .unwrap();
    p.complete_service_order(
        no,
        &PartnerCompleteServiceOrder::new(SUB, "500001", Fen::new(2_500))
            .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
            .post_discount(PostDiscount::new("会员", Fen::new(500)).description("折扣"))
            .complete_time("2019-11-11T16:24:05+08:00"),
    )
    .await
    .unwrap();
    p.pay_service_order(no, SUB, "500001").await.unwrap();
    p.sync_service_order(
        no,
        &PartnerSyncServiceOrder::new(
            SUB,
            "500001",
            "Order_Paid",
            PartnerSyncDetail::new("20091225091210")
                .seq(1)
                .paid_amount(Fen::new(2_500)),
        ),
    )
    .await
    .unwrap();
    let message = PartnerPaymentMessage::new(SUB, "500001", Fen::new(40_000), "20231218")
        .post_payment(PostPayment::new("就餐费用", Fen::new(40_000)));
    p.send_pending_message(no, &message).await.unwrap();
    p.send_prepaid_message(no, &message).await.unwrap();
    p.direct_complete(
        &PartnerDirectComplete::new(
            "D-1",
            SUB,
            "500001",
            "租借",
            TimeRange::starting(TimePoint::parse("20240101").unwrap()),
            Fen::new(100),
            "https://api.test.com",
        )
        .sub_appid(SUB_APPID)
        .openid("oSp")
        .post_payment(PostPayment::new("租借", Fen::new(100))),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_204_with_a_bad_or_missing_signature_is_refused() {
    let cancel = PartnerCancelServiceOrder::new(SUB, "500001", "r");
    // Signed with zeros.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(signed_by(204, "", Some(&base64::encode([0u8; 256]))))
        .mount(&server)
        .await;
    let e = partner(&server)
        .cancel_service_order("P-1", &cancel)
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&e), "{e:?}");
    // A genuine signature over another body.
    let server = mock_server().await;
    let other = sign_response(&platform(), NOW, "N1", b"{}").unwrap();
    Mock::given(method("POST"))
        .respond_with(signed_by(204, "", Some(&other)))
        .mount(&server)
        .await;
    let e = partner(&server)
        .terminate_authorization_by_code("AUTH1", SUB, "500001", "r")
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&e), "{e:?}");
    // No signature at all.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let e = partner(&server)
        .pay_service_order("P-1", SUB, "500001")
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&e), "{e:?}");
}

#[tokio::test]
async fn a_2xx_body_on_a_204_endpoint_must_be_no_error_and_bound() {
    let cancel = PartnerCancelServiceOrder::new(SUB, "500001", "r");
    // A signed error object served with 200 is not a success.
    for body in [
        r#"{"code":"SYSTEM_ERROR","message":"系统错误"}"#,
        r#"{"out_order_no":"P-2"}"#,
        r#"{"sub_mchid":"1900000999"}"#,
        r#"{"mchid":"1900000109"}"#,
        r#"{"service_id":"500002"}"#,
    ] {
        let server = mock_server().await;
        Mock::given(method("POST"))
            .respond_with(signed(200, body))
            .mount(&server)
            .await;
        let e = partner(&server)
            .cancel_service_order("P-1", &cancel)
            .await
            .unwrap_err();
        assert!(is_response_signature_error(&e), "{body}: {e:?}");
    }
    // A body that echoes the ids sent is accepted.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(signed(
            200,
            r#"{"out_order_no":"P-1","sub_mchid":"1900000109","mchid":"1230000109","service_id":"500001"}"#,
        ))
        .mount(&server)
        .await;
    partner(&server)
        .cancel_service_order("P-1", &cancel)
        .await
        .unwrap();
}

#[tokio::test]
async fn refusals_are_judged_as_in_direct_mode() {
    let refusal =
        r#"{"code":"NO_AUTH","message":"请检查sub_mchid是否授权mchid微信支付分产品权限"}"#;
    // A signed refusal of a 204 write (its replies echo nothing) is an answer.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(signed(403, refusal))
        .expect(1)
        .mount(&server)
        .await;
    let e = partner(&server)
        .cancel_service_order("P-1", &PartnerCancelServiceOrder::new(SUB, "500001", "r"))
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some("NO_AUTH"));
    assert_eq!(e.unverified_reason(), None, "{e:?}");
    // A signed refusal of create, whose reply must echo out_order_no, is bound to nothing.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(signed(403, refusal))
        .expect(1)
        .mount(&server)
        .await;
    let e = partner(&server)
        .create_service_order(&create_request())
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some("NO_AUTH"));
    assert!(e.unverified_reason().is_some(), "{e:?}");
    // An unsigned refusal never settles a write.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(403).set_body_raw(refusal.to_owned(), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let e = partner(&server)
        .pay_service_order("P-1", SUB, "500001")
        .await
        .unwrap_err();
    assert!(e.unverified_reason().is_some(), "{e:?}");
}

#[tokio::test]
async fn keyed_writes_are_resent_byte_identical_and_unsafe_ones_sent_once() {
    let system_error = || {
        ResponseTemplate::new(500).set_body_raw(
            r#"{"code":"SYSTEM_ERROR","message":"系统错误"}"#,
            "application/json",
        )
    };
    // Cancel is keyed by out_order_no, as in direct mode.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(system_error())
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(signed(204, ""))
        .mount(&server)
        .await;
    partner(&server)
        .cancel_service_order("P-1", &PartnerCancelServiceOrder::new(SUB, "500001", "r"))
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|r| r.body == received[0].body));

    // Create is keyed too.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(system_error())
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(signed(200, ORDER))
        .mount(&server)
        .await;
    partner(&server)
        .create_service_order(&create_request())
        .await
        .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    // Sent once: pre-authorization, the terminations, the scene and the service-account
    // application.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(system_error())
        .mount(&server)
        .await;
    let p = partner(&server);
    let calls: Vec<tixpay_core::Error> = vec![
        p.apply_permissions(&PartnerPermissionsRequest::new(SUB, "500001", "AUTH1"))
            .await
            .unwrap_err(),
        p.apply_for_scene(&ApplyForScene::new(SUB, "500001", "AUTH1", "ORDER"))
            .await
            .unwrap_err(),
        p.terminate_authorization_by_code("AUTH1", SUB, "500001", "r")
            .await
            .unwrap_err(),
        p.terminate_authorization_by_user(&PartnerTerminateAuthorization::new(
            SUB,
            "500001",
            PartnerUser::OpenId("oSp".into()),
            "r",
        ))
        .await
        .unwrap_err(),
        p.apply_service_account(&ServiceAccountApplication::new(SUB, "500001", "A-1"))
            .await
            .unwrap_err(),
    ];
    assert_eq!(server.received_requests().await.unwrap().len(), calls.len());
    assert!(calls.iter().all(|e| e.may_have_been_sent()), "{calls:?}");
}

#[tokio::test]
async fn permissions_and_scene() {
    let server = mock_server().await;
    expect(&server, "POST", "/v3/payscore/partner/permissions", None,
        r#"{"appid":"wx8888888888888888","service_id":"500001","sub_mchid":"1900000109","sub_appid":"wxd678efh567hg6999","authorization_code":"AUTH1","notify_url":"https://api.test.com/p"}"#,
        signed(200, r#"{"apply_permissions_token":"TOKEN1"}"#)).await;
    expect(&server, "POST", "/v3/payscore/partner/permissions/apply-for-scene", None,
        r#"{"appid":"wx8888888888888888","service_id":"500001","sub_mchid":"1900000109","authorization_code":"AUTH2","scene":"ORDER","transaction_scene_info":{"mchid":"1230000109","sub_mchid":"1900000109"}}"#,
        signed(200, r#"{"scene":"ORDER","transaction_permissions_token":"T2"}"#)).await;
    let p = partner(&server);
    let token = p
        .apply_permissions(
            &PartnerPermissionsRequest::new(SUB, "500001", "AUTH1")
                .sub_appid(SUB_APPID)
                .notify_url("https://api.test.com/p"),
        )
        .await
        .unwrap();
    assert_eq!(token.apply_permissions_token, "TOKEN1");
    let scene = p
        .apply_for_scene(
            &ApplyForScene::new(SUB, "500001", "AUTH2", "ORDER")
                .transaction_scene_info(TransactionSceneInfo::new(SP_MCHID, SUB)),
        )
        .await
        .unwrap();
    assert_eq!(scene.transaction_permissions_token.as_deref(), Some("T2"));

    // A scene reply for another scene is refused.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(signed(200, r#"{"scene":"OTHER"}"#))
        .mount(&server)
        .await;
    let e = partner(&server)
        .apply_for_scene(&ApplyForScene::new(SUB, "500001", "AUTH2", "ORDER"))
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&e), "{e:?}");
}

const AUTH: &str = r#"{"service_id":"500001","appid":"wx8888888888888888","mchid":"1230000109","authorization_code":"AUTH/1","authorization_state":"AVAILABLE","sub_mchid":"1900000109","sub_appid":"wxd678efh567hg6999","sub_openid":"oSub","authorization_success_time":"2024-01-01T10:00:00+08:00","user_risk_level":1,"risk_level_version":2}"#;

#[tokio::test]
async fn authorizations_by_code_and_by_user() {
    let server = mock_server().await;
    expect(
        &server,
        "GET",
        "/v3/payscore/partner/permissions/authorization-code/AUTH%2F1",
        Some("service_id=500001&sub_mchid=1900000109"),
        "",
        signed(200, AUTH),
    )
    .await;
    expect(
        &server,
        "POST",
        "/v3/payscore/partner/permissions/authorization-code/AUTH%2F1/terminate",
        None,
        r#"{"service_id":"500001","sub_mchid":"1900000109","reason":"用户要求"}"#,
        signed(204, ""),
    )
    .await;
    expect(&server, "GET", "/v3/payscore/partner/permissions/search",
        Some("service_id=500001&appid=wx8888888888888888&sub_mchid=1900000109&sub_appid=wxd678efh567hg6999&sub_openid=oSub"),
        "", signed(200, AUTH)).await;
    expect(&server, "POST", "/v3/payscore/partner/permissions/terminate", None,
        r#"{"appid":"wx8888888888888888","openid":"oSp","service_id":"500001","sub_appid":"wxd678efh567hg6999","sub_mchid":"1900000109","reason":"用户要求"}"#,
        signed(204, "")).await;
    let p = partner(&server);
    let auth = p
        .query_authorization_by_code("AUTH/1", SUB, "500001")
        .await
        .unwrap();
    assert_eq!(auth.sub_openid.as_deref(), Some("oSub"));
    assert_eq!(
        auth.authorization_state,
        Some(AuthorizationState::Available)
    );
    p.terminate_authorization_by_code("AUTH/1", SUB, "500001", "用户要求")
        .await
        .unwrap();
    let by_user = p
        .query_authorization_by_user(
            &PartnerUser::SubOpenId("oSub".into()),
            SUB,
            "500001",
            Some(SUB_APPID),
        )
        .await
        .unwrap();
    assert_eq!(by_user.sub_mchid.as_deref(), Some(SUB));
    p.terminate_authorization_by_user(
        &PartnerTerminateAuthorization::new(
            SUB,
            "500001",
            PartnerUser::OpenId("oSp".into()),
            "用户要求",
        )
        .sub_appid(SUB_APPID),
    )
    .await
    .unwrap();

    // Another sub-merchant's or another user's authorization is refused.
    for (reply, by_code) in [
        (AUTH.replace(SUB, "1900000999"), true),
        (AUTH.replace(r#""sub_mchid":"1900000109","#, ""), true),
        (AUTH.replace("AUTH/1", "AUTH/2"), true),
        (AUTH.replace(SUB, "1900000999"), false),
        (AUTH.replace("oSub", "oOther"), false),
        (AUTH.replace(SP_APPID, "wx0000000000000000"), false),
    ] {
        let server = mock_server().await;
        Mock::given(method("GET"))
            .respond_with(signed(200, &reply))
            .mount(&server)
            .await;
        let p = partner(&server);
        let e = if by_code {
            p.query_authorization_by_code("AUTH/1", SUB, "500001").await
        } else {
            p.query_authorization_by_user(
                &PartnerUser::SubOpenId("oSub".into()),
                SUB,
                "500001",
                None,
            )
            .await
        }
        .unwrap_err();
        assert!(is_response_signature_error(&e), "{reply}: {e:?}");
    }
}

#[tokio::test]
async fn risk_level_puts_sub_mchid_in_the_query_and_quotas_are_typed() {
    let server = mock_server().await;
    expect(
        &server,
        "POST",
        "/v3/payscore/partner/permissions/assess-user-risk-level",
        Some("sub_mchid=1900000109"),
        r#"{"appid":"wx8888888888888888","service_id":"500001","sub_openid":"oSub"}"#,
        signed(200, AUTH),
    )
    .await;
    expect(&server, "GET", "/v3/payscore/partner/servicequotas/service-id/500001",
        Some("sub_mchid=1900000109&appid=wx8888888888888888&sub_appid=wxd678efh567hg6999&risk_level_version=2"),
        "",
        signed(200, r#"{"service_id":"500001","mchid":"1230000109","sub_mchid":"1900000109","appid":"wx8888888888888888","risk_level_version":2,"quotas":[{"risk_level":1,"suggested_quota":10000},{"risk_level":2,"suggested_quota":5000}]}"#)).await;
    let p = partner(&server);
    let level = p
        .assess_user_risk_level(&PartnerAssessUserRiskLevel::new(SUB, "500001").sub_openid("oSub"))
        .await
        .unwrap();
    assert_eq!(level.user_risk_level, Some(1));
    let quotas = p
        .service_quotas("500001", SUB, 2, Some(SUB_APPID))
        .await
        .unwrap();
    assert_eq!(quotas.quotas.len(), 2);
    assert_eq!(quotas.quotas[1].risk_level, 2);
    assert_eq!(quotas.quotas[1].suggested_quota.as_u64(), Some(5_000));

    // Quotas for another sub-merchant are refused.
    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(signed(200, r#"{"service_id":"500001","mchid":"1230000109","sub_mchid":"1900000999","appid":"wx8888888888888888","risk_level_version":2,"quotas":[]}"#))
        .mount(&server)
        .await;
    let e = partner(&server)
        .service_quotas("500001", SUB, 2, None)
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&e), "{e:?}");
}

const APPLICATION: &str = r#"{"service_id":"500001","mchid":"1230000109","appid":"wx8888888888888888","sub_mchid":"1900000109","out_apply_no":"A-1","result_notify_url":"https://api.test.com/bind","apply_state":"APPLYING"}"#;

#[tokio::test]
async fn service_account_applications() {
    let server = mock_server().await;
    expect(&server, "POST", "/v3/payscore/partner/service-account-applications", None,
        r#"{"appid":"wx8888888888888888","service_id":"500001","sub_mchid":"1900000109","out_apply_no":"A-1","result_notify_url":"https://api.test.com/bind"}"#,
        signed(200, APPLICATION)).await;
    expect(
        &server,
        "GET",
        "/v3/payscore/partner/service-account-applications/A-1",
        None,
        "",
        signed(200, APPLICATION),
    )
    .await;
    let p = partner(&server);
    let applied = p
        .apply_service_account(
            &ServiceAccountApplication::new(SUB, "500001", "A-1")
                .result_notify_url("https://api.test.com/bind"),
        )
        .await
        .unwrap();
    assert_eq!(applied.apply_state.as_deref(), Some("APPLYING"));
    let queried = p.query_service_account_application("A-1").await.unwrap();
    assert_eq!(queried, applied);

    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(signed(200, &APPLICATION.replace("A-1", "A-2")))
        .mount(&server)
        .await;
    let e = partner(&server)
        .query_service_account_application("A-1")
        .await
        .unwrap_err();
    assert!(is_response_signature_error(&e), "{e:?}");
}

#[tokio::test]
async fn invalid_partner_requests_are_not_sent() {
    let server = mock_server().await;
    let p = partner(&server);
    let blank_sub = PartnerCancelServiceOrder::new(" ", "500001", "r");
    assert!(p.cancel_service_order("P-1", &blank_sub).await.is_err());
    assert!(p.pay_service_order("P-1", "", "500001").await.is_err());
    assert!(p.pay_service_order("..", SUB, "500001").await.is_err());
    assert!(
        p.complete_service_order(
            "P-1",
            &PartnerCompleteServiceOrder::new(SUB, "500001", Fen::new(3_000))
                .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
                .complete_time("20191111162405"),
        )
        .await
        .is_err()
    );
    assert!(
        p.assess_user_risk_level(&PartnerAssessUserRiskLevel::new(SUB, "500001"))
            .await
            .is_err()
    );
    assert!(
        p.query_service_order(&OrderRef::QueryId("q".repeat(513)), SUB, "500001")
            .await
            .is_err()
    );
    assert!(p.query_service_account_application("..").await.is_err());
    assert!(
        p.apply_service_account(
            &ServiceAccountApplication::new(SUB, "500001", "A-1")
                .result_notify_url("http://plain.example/bind")
        )
        .await
        .is_err()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

/// A callback signed with the platform key, its resource encrypted with the APIv3 key.
fn callback(event_type: &str, plain: &str) -> (http::HeaderMap, Vec<u8>) {
    let sealed = tixpay_core::crypto::AesGcmKey::new(APIV3.as_bytes())
        .unwrap()
        .seal(b"cbnonce12345", b"transaction", plain.as_bytes())
        .unwrap();
    let body = serde_json::json!({
        "id": "EV-1",
        "create_time": "2024-01-01T10:00:00+08:00",
        "event_type": event_type,
        "resource_type": "encrypt-resource",
        "resource": {
            "original_type": "payscore",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64::encode(sealed),
            "associated_data": "transaction",
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
async fn partner_callbacks_are_typed() {
    let server = mock_server().await;
    let parser = NotificationParser::new(partner(&server).client());
    let parse = |event: &'static str, plain: &'static str| {
        let parser = parser.clone();
        async move {
            let (headers, body) = callback(event, plain);
            parser.parse(&headers, &body).await.unwrap()
        }
    };

    // The provider as mchid (IM), or as sp_mchid (the official skill sample).
    for plain in [
        r#"{"mchid":"1230000109","sub_mchid":"1900000109","sub_appid":"wxd678efh567hg6999","sub_openid":"oSub","appid":"wx8888888888888888","out_order_no":"P-1","service_id":"500001","state":"DONE","collection":{"state":"USER_PAID","paid_amount":2500,"details":[{"seq":1,"amount":2500,"paid_type":"NEWTON","transaction_id":"4200000001"}]}}"#,
        r#"{"sp_mchid":"1230000109","sub_mchid":"1900000109","sub_appid":"wxd678efh567hg6999","sub_openid":"oSub","appid":"wx8888888888888888","out_order_no":"P-1","service_id":"500001","state":"DONE","collection":{"state":"USER_PAID","paid_amount":2500,"details":[{"seq":1,"amount":2500,"paid_type":"NEWTON","transaction_id":"4200000001"}]}}"#,
    ] {
        let cb = parse("PAYSCORE.USER_PAID", plain).await;
        let CallbackEvent::UserPaid(order) = &cb.event else {
            panic!("{cb:?}")
        };
        assert_eq!(order.provider_mchid(), Some(SP_MCHID));
        assert_eq!(order.sub_mchid.as_deref(), Some(SUB));
        assert_eq!(order.sub_appid.as_deref(), Some(SUB_APPID));
        assert_eq!(order.sub_openid.as_deref(), Some("oSub"));
        assert!(order.extra.is_empty(), "{:?}", order.extra);
        tixpay_core::test_util::assert_stores_as_json(&cb);
    }

    // Both names at once still decode (no duplicate-field failure that would make WeChat
    // Pay deliver forever); mchid is the provider.
    let cb = parse(
        "PAYSCORE.USER_CONFIRM",
        r#"{"mchid":"1230000109","sp_mchid":"1230000109","sub_mchid":"1900000109","out_order_no":"P-1","state":"DOING"}"#,
    )
    .await;
    let CallbackEvent::UserConfirm(order) = &cb.event else {
        panic!("{cb:?}")
    };
    assert_eq!(order.provider_mchid(), Some(SP_MCHID));
    assert_eq!(order.sp_mchid.as_deref(), Some(SP_MCHID));

    // Direct-mode payloads are unchanged: no sub-merchant.
    let cb = parse(
        "PAYSCORE.USER_PAID",
        r#"{"mchid":"1230000109","appid":"wx1","out_order_no":"N-1","state":"DONE"}"#,
    )
    .await;
    let CallbackEvent::UserPaid(order) = &cb.event else {
        panic!("{cb:?}")
    };
    assert_eq!(order.sub_mchid, None);
    assert_eq!(order.sp_mchid, None);
    assert_eq!(order.provider_mchid(), Some(SP_MCHID));

    // Authorization payloads add sub_*.
    let cb = parse(
        "PAYSCORE.USER_OPEN_SERVICE",
        r#"{"appid":"wx8888888888888888","mchid":"1230000109","service_id":"500001","openid":"oSp","sub_mchid":"1900000109","sub_appid":"wxd678efh567hg6999","sub_openid":"oSub","user_service_status":"USER_OPEN_SERVICE","authorization_code":"AUTH1"}"#,
    )
    .await;
    let CallbackEvent::UserOpenService(change) = &cb.event else {
        panic!("{cb:?}")
    };
    assert_eq!(change.sub_mchid.as_deref(), Some(SUB));
    assert_eq!(change.sub_appid.as_deref(), Some(SUB_APPID));
    assert_eq!(change.sub_openid.as_deref(), Some("oSub"));
    assert!(change.extra.is_empty(), "{:?}", change.extra);

    // The partner-only event.
    let cb = parse(
        "PAYSCORE.BIND_SERVICE_ACCOUNT",
        r#"{"service_id":"500001","appid":"wx8888888888888888","mchid":"1230000109","sub_appid":"wxd678efh567hg6999","sub_mchid":"1900000109","out_apply_no":"A-1","apply_state":"REJECTED","reject_reason":"资质不符"}"#,
    )
    .await;
    let CallbackEvent::BindServiceAccount(bind) = &cb.event else {
        panic!("{cb:?}")
    };
    assert_eq!(bind.out_apply_no.as_deref(), Some("A-1"));
    assert_eq!(bind.sub_mchid.as_deref(), Some(SUB));
    assert_eq!(bind.apply_state.as_deref(), Some("REJECTED"));
    assert_eq!(bind.reject_reason.as_deref(), Some("资质不符"));
    tixpay_core::test_util::assert_stores_as_json(&cb);
}

#[cfg(feature = "sandbox")]
mod sandbox_flow {
    use super::*;
    use tixpay_wechat_payscore::sandbox::{PayScoreSandbox, SandboxOptions};

    fn ride(no: &str, sub: &str, sandbox: &PayScoreSandbox) -> PartnerCreateServiceOrder {
        PartnerCreateServiceOrder::new(
            no,
            sub,
            sandbox.service_id(),
            "景区电瓶车租借",
            TimeRange::starting(TimePoint::OnAccept),
            RiskFund::new(RiskFundName::Deposit, Fen::new(20_000)),
            "https://notify.invalid/payscore",
        )
        .sub_appid(sandbox.sub_appid())
        .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn create_confirm_complete_collected_with_the_sub_merchant_throughout() {
        let sandbox = PayScoreSandbox::start().await.unwrap();
        let p = Client::new(sandbox.config())
            .unwrap()
            .partner(sandbox.appid());
        let sub = sandbox.sub_mchid().to_owned();
        let hook = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&hook)
            .await;

        let created = p
            .create_service_order(&ride("PS-1", &sub, &sandbox))
            .await
            .unwrap();
        assert_eq!(created.state, Some(State::Created));
        assert_eq!(created.sub_mchid.as_deref(), Some(sub.as_str()));
        assert_eq!(created.provider_mchid(), Some(p.sp_mchid()));
        sandbox.set_notify_url("PS-1", &hook.uri());

        sandbox.user_confirms("PS-1").unwrap();
        p.complete_service_order(
            "PS-1",
            &PartnerCompleteServiceOrder::new(&sub, sandbox.service_id(), Fen::new(2_500))
                .post_payment(PostPayment::new("租车费", Fen::new(3_000)))
                .post_discount(PostDiscount::new("会员优惠", Fen::new(500)).description("会员")),
        )
        .await
        .unwrap();
        let by_no = OrderRef::OutOrderNo("PS-1".into());
        let query = || p.query_service_order(&by_no, &sub, sandbox.service_id());
        let completed = query().await.unwrap();
        assert_eq!(completed.state, Some(State::Doing));
        assert_eq!(
            completed.state_description,
            Some(StateDescription::MchComplete)
        );
        assert_eq!(
            completed.collection.as_ref().map(|c| &c.state),
            Some(&CollectionState::UserPaying)
        );

        sandbox.user_pays("PS-1").unwrap();
        let collected = query().await.unwrap();
        assert_eq!(collected.state, Some(State::Done));
        assert_eq!(
            collected.collection.as_ref().map(|c| &c.state),
            Some(&CollectionState::UserPaid)
        );
        assert_eq!(collected.sub_mchid.as_deref(), Some(sub.as_str()));

        // Both callbacks carry the sub-merchant.
        sandbox.settle_callbacks().await;
        let parser = NotificationParser::new(p.client());
        let mut events = Vec::new();
        for request in hook.received_requests().await.unwrap() {
            let cb = parser.parse(&request.headers, &request.body).await.unwrap();
            let (CallbackEvent::UserConfirm(order) | CallbackEvent::UserPaid(order)) = &cb.event
            else {
                panic!("{cb:?}")
            };
            assert_eq!(order.sub_mchid.as_deref(), Some(sub.as_str()), "{cb:?}");
            assert_eq!(order.sub_appid.as_deref(), Some(sandbox.sub_appid()));
            events.push(cb.event_type);
        }
        events.sort();
        assert_eq!(events, ["PAYSCORE.USER_CONFIRM", "PAYSCORE.USER_PAID"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn orders_belong_to_their_sub_merchant() {
        let options = SandboxOptions::default().sub_mchids(["1900000001", "1900000002"]);
        let sandbox = PayScoreSandbox::start_with(options).await.unwrap();
        let p = Client::new(sandbox.config())
            .unwrap()
            .partner(sandbox.appid());
        assert_eq!(sandbox.sub_mchid(), "1900000001");
        p.create_service_order(&ride("PS-2", "1900000001", &sandbox))
            .await
            .unwrap();

        // A sub-merchant the provider does not serve.
        let e = p
            .create_service_order(&ride("PS-3", "1900000009", &sandbox))
            .await
            .unwrap_err();
        assert_eq!(e.api_code(), Some("NO_AUTH"));
        // Another served sub-merchant does not see or cancel the order.
        let e = p
            .query_service_order(
                &OrderRef::OutOrderNo("PS-2".into()),
                "1900000002",
                sandbox.service_id(),
            )
            .await
            .unwrap_err();
        assert_eq!(e.api_code(), Some("ORDER_NOT_EXIST"));
        let cancel =
            |sub: &str| PartnerCancelServiceOrder::new(sub, sandbox.service_id(), "用户取消");
        let e = p
            .cancel_service_order("PS-2", &cancel("1900000002"))
            .await
            .unwrap_err();
        assert_eq!(e.api_code(), Some("ORDER_NOT_EXIST"));
        // Its own does: 204, and the order is revoked.
        p.cancel_service_order("PS-2", &cancel("1900000001"))
            .await
            .unwrap();
        let order = p
            .query_service_order(
                &OrderRef::OutOrderNo("PS-2".into()),
                "1900000001",
                sandbox.service_id(),
            )
            .await
            .unwrap();
        assert_eq!(order.state, Some(State::Revoked));

        // Permissions in partner mode.
        let token = p
            .apply_permissions(&PartnerPermissionsRequest::new(
                "1900000001",
                sandbox.service_id(),
                "AUTH-P",
            ))
            .await
            .unwrap();
        assert!(invoke::enable_service(&token.apply_permissions_token).is_ok());
        let auth = p
            .query_authorization_by_code("AUTH-P", "1900000001", sandbox.service_id())
            .await
            .unwrap();
        assert_eq!(auth.sub_mchid.as_deref(), Some("1900000001"));
        p.terminate_authorization_by_code("AUTH-P", "1900000001", sandbox.service_id(), "r")
            .await
            .unwrap();
    }
}
