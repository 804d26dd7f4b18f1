//! One wiremock test per method: the exact request (headers with a fixed clock, JSON body)
//! and the decoding of success and failure replies; then the fault cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use tixpay_core::crypto::{base64, hmac_sha1};
use tixpay_core::retry::InstantSleep;
use tixpay_core::test_util::{exact_header as header, fixed_clock_client, mock_server};
use tixpay_core::{ErrorKind, FixedClock, HttpClient, RetryPolicy, Secret};
use tixpay_lianhe::{
    CancelOrder, CancelOutcome, Client, Config, CreateOrder, Fen, GetTeam, NewOrder,
    OrderErrorCode, OrderStatus, PayOrder, QueryOrder, RefundStatus, ResendVoucher, Visitor,
    VoucherType,
};
use wiremock::matchers::{body_string, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "0123456789abcdef-not-a-real-secret";
const DATE: &str = "Wed, 06 May 2015 10:34:20 GMT";
const NOW: i64 = 1_430_908_460;

fn config(server: &MockServer) -> Config {
    Config::new(3528, "testapi", Secret::new(SECRET))
        .base_url(server.uri())
        .clock(Arc::new(FixedClock::from_seconds(NOW)))
}

fn client(server: &MockServer) -> Client {
    let http = fixed_clock_client(NOW, &InstantSleep::default()).unwrap();
    Client::with_http_client(config(server), http)
}

/// The Authorization header computed independently of the crate's signer.
fn expected_authorization(lh_method: &str) -> String {
    let to_sign = format!("POST /openapi/index.php?method={lh_method}\n{DATE}");
    format!(
        "LH testapi:{}",
        base64::encode(hmac_sha1(SECRET.as_bytes(), to_sign.as_bytes()))
    )
}

async fn expect(server: &MockServer, lh_method: &str, body: &str, reply: &str) {
    Mock::given(method("POST"))
        .and(path("/openapi/index.php"))
        .and(query_param("method", lh_method))
        .and(header("content-type", "application/json; charset=utf-8"))
        .and(header("partnerid", "3528"))
        .and(header("date", DATE))
        .and(header("version", "2.1"))
        .and(header("authorization", expected_authorization(lh_method)))
        .and(body_string(body))
        .respond_with(ResponseTemplate::new(200).set_body_string(reply.to_owned()))
        .expect(1)
        .mount(server)
        .await;
}

#[test]
fn j1_golden_header() {
    assert_eq!(
        expected_authorization("creatOrder"),
        "LH testapi:LPFj3zf7Bhbfu52GjJD8TVAmLz0="
    );
}

#[tokio::test]
async fn get_team_page_and_multi() {
    let server = mock_server().await;
    expect(
        &server,
        "getTeam",
        r#"{"partnerId":3528,"body":{"method":"page","currentPage":0,"pageSize":20}}"#,
        r#"{"code":10000,"describe":"success","partnerId":3528,"totalSize":40,"body":[{"partnerId":3528,"LHSupplierId":"string","LHDealId":"852","teamType":"normal","name":"string","pics":["string"],"startTime":"string","endTime":"string","beginTime":"string","expireTime":"string","marketPrice":1.5,"sellPrice":1,"buyPrice":0.5,"stock":990,"allowday":0,"aftertime":0,"canRefund":1,"fullRefund":0}]}"#,
    )
    .await;
    let page = client(&server)
        .get_team(&GetTeam::page(0, 20))
        .await
        .unwrap();
    assert_eq!(page.total_size, Some(40));
    assert_eq!(page.partner_id, Some(3528));
    assert_eq!(page.products.len(), 1);
    let p = &page.products[0];
    assert_eq!(p.deal_id, "852");
    assert_eq!(p.market_price, Some(Fen::new(150)));
    assert_eq!(p.sell_price, Some(Fen::new(100)));
    assert_eq!(p.stock, Some(990));

    let server = mock_server().await;
    expect(
        &server,
        "getTeam",
        r#"{"partnerId":3528,"body":{"method":"multi","LHDealIds":["852"]}}"#,
        r#"{"code":20000,"describe":"执行失败","partnerId":3528,"body":[]}"#,
    )
    .await;
    let err = client(&server)
        .get_team(&GetTeam::by_ids(["852"]))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("20000"));
    assert_eq!(err.operation(), Some("getTeam"));
    assert!(err.to_string().contains("执行失败"), "{err}");
}

fn visitor() -> Visitor {
    Visitor::new("张三", "13800000000")
}

#[tokio::test]
async fn new_order_success_and_order_error_code() {
    let server = mock_server().await;
    let body = r#"{"partnerId":3528,"body":{"orderId":"T1","payId":"P1","LHDealId":"852","sellPrice":99.90,"quantity":3,"travelDate":"2024-05-01","visitor":{"name":"张三","mobile":"13800000000"}}}"#;
    expect(
        &server,
        "newOrder",
        body,
        r#"{"code":10000,"describe":"执行成功","partnerId":3528,"body":{"LHOrderId":"15354","orderStatus":3,"voucherType":0,"voucher":"156465465858"}}"#,
    )
    .await;
    let order = NewOrder::new("T1", "852", Fen::new(9990), 3, visitor())
        .pay_id("P1")
        .travel_date("2024-05-01");
    let receipt = client(&server).new_order(&order).await.unwrap();
    assert_eq!(receipt.lh_order_id.as_deref(), Some("15354"));
    assert_eq!(receipt.partner_id, Some(3528));
    assert_eq!(receipt.order_status, OrderStatus(3));
    assert_eq!(receipt.voucher_type, VoucherType::SmsCode);
    assert_eq!(receipt.voucher.as_deref(), Some("156465465858"));

    let server = mock_server().await;
    expect(
        &server,
        "newOrder",
        body,
        r#"{"code":10009,"describe":"库存不足,产品已超售","partnerId":3528,"body":{}}"#,
    )
    .await;
    let err = client(&server).new_order(&order).await.unwrap_err();
    assert_eq!(
        OrderErrorCode::from_error(&err),
        Some(OrderErrorCode::OutOfStock)
    );
    assert!(!err.is_outcome_unknown());
}

#[tokio::test]
async fn create_order_uses_the_provider_spelling() {
    let server = mock_server().await;
    let body = r#"{"partnerId":3528,"body":{"orderId":"T2","LHDealId":"852","sellPrice":100.00,"quantity":1,"visitor":[{"name":"张三","mobile":"13800000000"},{"name":"李四","mobile":"13900000000","credentials":"110101199001011234"}]}}"#;
    expect(
        &server,
        "creatOrder",
        body,
        r#"{"code":10000,"describe":"执行成功","partnerId":3528,"body":{"LHOrderId":"15354","orderStatus":2,"voucherType":0,"voucher":""}}"#,
    )
    .await;
    let visitors = vec![
        visitor(),
        Visitor::new("李四", "13900000000").credentials("110101199001011234"),
    ];
    let order = CreateOrder::new("T2", "852", Fen::new(10_000), 1, visitors);
    let receipt = client(&server).create_order(&order).await.unwrap();
    assert_eq!(receipt.order_status, OrderStatus(2));
    assert_eq!(receipt.partner_id, Some(3528));
    assert_eq!(receipt.voucher.as_deref(), Some(""));

    let server = mock_server().await;
    expect(
        &server,
        "creatOrder",
        body,
        r#"{"code":20000,"describe":"执行失败","partnerId":3528,"body":{"LHOrderId":"15354","orderStatus":3,"voucherType":0,"voucher":""}}"#,
    )
    .await;
    let err = client(&server).create_order(&order).await.unwrap_err();
    assert_eq!(err.api_code(), Some("20000"));
    assert!(err.as_api().unwrap().body.starts_with(b"{\"code\":20000"));
}

#[tokio::test]
async fn pay_order_success_and_failure_without_lh_order_id() {
    let server = mock_server().await;
    let created = CreateOrder::new("T3", "852", Fen::new(10_000), 1, visitor());
    let body = r#"{"partnerId":3528,"body":{"orderId":"T3","LHOrderId":"15354","payId":"BANK-1","LHDealId":"852","sellPrice":100.00,"quantity":1,"visitor":{"name":"张三","mobile":"13800000000"}}}"#;
    expect(
        &server,
        "payOrder",
        body,
        r#"{"code":10000,"describe":"执行成功","partnerId":3528,"body":{"LHOrderId":"15354","orderStatus":4,"voucherType":0,"voucher":"156465465858"}}"#,
    )
    .await;
    let pay = PayOrder::new(&created, "15354").pay_id("BANK-1");
    let receipt = client(&server).pay_order(&pay).await.unwrap();
    assert_eq!(receipt.order_status, OrderStatus(4));
    assert_eq!(receipt.partner_id, Some(3528));

    let server = mock_server().await;
    expect(
        &server,
        "payOrder",
        body,
        r#"{"code":20000,"describe":"执行失败","partnerId":3528,"body":{"orderStatus":5,"voucherType":0,"voucher":""}}"#,
    )
    .await;
    let err = client(&server).pay_order(&pay).await.unwrap_err();
    assert_eq!(err.api_code(), Some("20000"));
}

#[tokio::test]
async fn query_order_codes_200_and_300() {
    let server = mock_server().await;
    let body = r#"{"partnerId":3528,"body":{"orderId":"partnerorderid15354","LHOrderId":"15354"}}"#;
    expect(
        &server,
        "queryOrder",
        body,
        r#"{"code":200,"describe":"执行成功","partnerId":3528,"body":{"orderId":"partnerorderid15354","LHOrderId":"15354","orderStatus":8,"orderQuantity":6,"useQuantity":3,"reQuantity":1,"reStatus":2}}"#,
    )
    .await;
    let q = QueryOrder::new("partnerorderid15354", "15354");
    let info = client(&server).query_order(&q).await.unwrap();
    assert_eq!(info.order_status, OrderStatus(8));
    assert_eq!(info.partner_id, Some(3528));
    assert_eq!(info.order_quantity, Some(6));
    assert_eq!(info.used_quantity, Some(3));
    assert_eq!(info.refunded_quantity, Some(1));
    assert_eq!(info.refund_status, Some(RefundStatus(2)));

    let server = mock_server().await;
    expect(
        &server,
        "queryOrder",
        body,
        r#"{"code":300,"describe":"未找到订单","partnerId":3528,"body":{"orderId":"partnerorderid15354","LHOrderId":"15354","orderStatus":0}}"#,
    )
    .await;
    let err = client(&server).query_order(&q).await.unwrap_err();
    assert_eq!(err.api_code(), Some("300"));
    assert!(err.to_string().contains("未找到订单"));
}

#[tokio::test]
async fn cancel_order_accepted_and_refused() {
    let server = mock_server().await;
    let body = r#"{"partnerId":3528,"body":{"orderId":"T1","LHOrderId":"15354","refundId":"RF1","quantity":3}}"#;
    expect(
        &server,
        "cancelOrder",
        body,
        r#"{"code":10000,"describe":"执行成功","partnerId":3528,"body":{"LHOrderId":"15354","orderStatus":6,"reQuantity":3}}"#,
    )
    .await;
    let cancel = CancelOrder::new("T1", "15354", 3).refund_id("RF1");
    match client(&server).cancel_order(&cancel).await.unwrap() {
        CancelOutcome::Accepted(a) => {
            assert_eq!(a.order_status, OrderStatus(6));
            assert_eq!(a.partner_id, Some(3528));
            assert_eq!(a.refundable_quantity, Some(3));
        }
        other => panic!("{other:?}"),
    }

    let server = mock_server().await;
    expect(
        &server,
        "cancelOrder",
        body,
        r#"{"code":20000,"describe":"执行失败","partnerId":3528,"body":{"LHOrderId":"15354","orderStatus":7,"reQuantity":0,"reStatus":2}}"#,
    )
    .await;
    match client(&server).cancel_order(&cancel).await.unwrap() {
        CancelOutcome::Refused(r) => {
            assert_eq!(r.code, 20000);
            assert_eq!(r.describe, "执行失败");
            assert_eq!(r.partner_id, Some(3528));
            assert_eq!(r.refundable_quantity, Some(0));
            assert_eq!(r.order_status, Some(OrderStatus(7)));
            assert_eq!(r.refund_status, Some(RefundStatus(2)));
        }
        other => panic!("{other:?}"),
    }

    // Any one piece of Lianhe's view of the order makes a typed refusal: the refundable
    // quantity alone (退款数量超出可退款数量), or a status alone (已申请退款, 已退款 …).
    for (reply, refundable, status, refund_status) in [
        (
            r#"{"code":20000,"describe":"申请退款数量超出可退款数量","partnerId":3528,"body":{"LHOrderId":"15354","reQuantity":2}}"#,
            Some(2),
            None,
            None,
        ),
        (
            r#"{"code":20000,"describe":"订单已退款","partnerId":3528,"body":{"LHOrderId":"15354","orderStatus":6}}"#,
            None,
            Some(OrderStatus(6)),
            None,
        ),
        (
            r#"{"code":20000,"describe":"订单已申请退款","partnerId":3528,"body":{"LHOrderId":"15354","reStatus":2}}"#,
            None,
            None,
            Some(RefundStatus(2)),
        ),
    ] {
        let server = mock_server().await;
        expect(&server, "cancelOrder", body, reply).await;
        match client(&server).cancel_order(&cancel).await.unwrap() {
            CancelOutcome::Refused(r) => {
                assert_eq!(r.refundable_quantity, refundable, "{reply}");
                assert_eq!(r.order_status, status, "{reply}");
                assert_eq!(r.refund_status, refund_status, "{reply}");
                assert_eq!(r.lh_order_id.as_deref(), Some("15354"));
            }
            other => panic!("{reply}: {other:?}"),
        }
    }

    // A failure that carries no order state is an ordinary provider error.
    let server = mock_server().await;
    expect(
        &server,
        "cancelOrder",
        body,
        r#"{"code":20000,"describe":"签名错误","partnerId":3528,"body":{}}"#,
    )
    .await;
    let err = client(&server).cancel_order(&cancel).await.unwrap_err();
    assert_eq!(err.api_code(), Some("20000"));
}

#[tokio::test]
async fn a_cancel_with_the_demo_price_sends_it_as_exact_yuan() {
    let server = mock_server().await;
    expect(
        &server,
        "cancelOrder",
        r#"{"partnerId":3528,"body":{"orderId":"T1","LHOrderId":"15354","quantity":3,"sellPrice":5.00}}"#,
        r#"{"code":10000,"describe":"执行成功","partnerId":3528,"body":{"LHOrderId":"15354","orderStatus":6,"reQuantity":3}}"#,
    )
    .await;
    let cancel = CancelOrder::new("T1", "15354", 3).sell_price(Fen::new(500));
    assert!(matches!(
        client(&server).cancel_order(&cancel).await.unwrap(),
        CancelOutcome::Accepted(_)
    ));
}

#[tokio::test]
async fn send_resends_the_voucher() {
    let server = mock_server().await;
    let body = r#"{"partnerId":3528,"body":{"orderId":"T1","LHOrderId":"15354"}}"#;
    expect(
        &server,
        "send",
        body,
        r#"{"code":10000,"describe":"执行成功","partnerId":3528,"body":{"voucherType":1,"voucher":"158965846238"}}"#,
    )
    .await;
    let v = client(&server)
        .resend_voucher(&ResendVoucher::new("T1", "15354"))
        .await
        .unwrap();
    assert_eq!(v.voucher_type, VoucherType::QrCode);
    assert_eq!(v.partner_id, Some(3528));
    assert_eq!(v.voucher.as_deref(), Some("158965846238"));

    let server = mock_server().await;
    expect(
        &server,
        "send",
        body,
        r#"{"code":20000,"describe":"执行失败","partnerId":3528,"body":{"voucherType":0,"voucher":""}}"#,
    )
    .await;
    let err = client(&server)
        .resend_voucher(&ResendVoucher::new("T1", "15354"))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("20000"));
}

#[tokio::test]
async fn legacy_envelope_fields_are_opt_in() {
    let server = mock_server().await;
    Mock::given(body_string(
        r#"{"errCode":200,"errMsg":"success","partnerId":3528,"body":{"orderId":"T1","LHOrderId":"15354"}}"#,
    ))
    .respond_with(ResponseTemplate::new(200).set_body_string(
        r#"{"code":10000,"describe":"ok","partnerId":3528,"body":{"voucherType":0,"voucher":"1"}}"#,
    ))
    .expect(1)
    .mount(&server)
    .await;
    let client = Client::with_http_client(
        config(&server).legacy_envelope_fields(true),
        HttpClient::new().unwrap(),
    );
    client
        .resend_voucher(&ResendVoucher::new("T1", "15354"))
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Faults

async fn reply_always(server: &MockServer, template: ResponseTemplate) {
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(server)
        .await;
}

async fn hits(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    let server = mock_server().await;
    let c = client(&server);
    let zero = NewOrder::new("T1", "852", Fen::new(100), 0, visitor());
    let err = c.new_order(&zero).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidRequest { .. }));
    assert!(!err.may_have_been_sent());
    assert_eq!(err.operation(), Some("newOrder"));
    let bad_date =
        NewOrder::new("T1", "852", Fen::new(100), 1, visitor()).travel_date("01/05/2024");
    assert!(c.new_order(&bad_date).await.is_err());
    assert!(
        c.cancel_order(&CancelOrder::new("T1", "", 1))
            .await
            .is_err()
    );
    assert!(c.query_order(&QueryOrder::new("", "1")).await.is_err());
    // Lianhe reads prices as doubles: an amount a double cannot carry exactly never leaves.
    let huge = NewOrder::new("T1", "852", Fen::new(9_007_199_254_740_993), 1, visitor());
    let err = c.new_order(&huge).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidRequest { field: Some(f), .. } if f == "sellPrice"),
        "{err:?}"
    );
    assert!(!err.may_have_been_sent());
    let free = NewOrder::new("T1", "852", Fen::ZERO, 1, visitor());
    assert!(c.new_order(&free).await.is_err());
    let refund = CancelOrder::new("T1", "L1", 1).sell_price(Fen::new(1_000_000_000_000_000));
    assert!(c.cancel_order(&refund).await.is_err());
    assert_eq!(hits(&server).await, 0);
}

#[tokio::test]
async fn timeout_retries_reads_but_not_orders() {
    let server = mock_server().await;
    reply_always(
        &server,
        ResponseTemplate::new(200).set_delay(Duration::from_secs(3)),
    )
    .await;
    let http = HttpClient::builder()
        .sleep(Arc::new(InstantSleep::default()))
        .attempt_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let c = Client::with_http_client(config(&server), http);
    let err = c
        .new_order(&NewOrder::new("T1", "852", Fen::new(100), 1, visitor()))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Timeout { .. }));
    assert!(err.is_outcome_unknown());
    assert_eq!(hits(&server).await, 1);

    let err = c
        .query_order(&QueryOrder::new("T1", "1"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Timeout { .. }));
    assert_eq!(hits(&server).await, 1 + 3);
}

#[tokio::test]
async fn keyed_writes_retry_when_enabled() {
    let server = mock_server().await;
    reply_always(&server, ResponseTemplate::new(503)).await;
    let http = HttpClient::builder()
        .sleep(Arc::new(InstantSleep::default()))
        .retry_policy(RetryPolicy::default().max_attempts(2))
        .build()
        .unwrap();
    let c = Client::with_http_client(config(&server).retry_keyed_writes(true), http);
    let err = c
        .cancel_order(&CancelOrder::new("T1", "15354", 1))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Http { .. }), "{err:?}");
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].body, received[1].body);
}

#[tokio::test]
async fn five_hundred_and_html_pages() {
    let server = mock_server().await;
    reply_always(
        &server,
        ResponseTemplate::new(502).set_body_string("<html><body>Bad Gateway</body></html>"),
    )
    .await;
    let err = client(&server)
        .resend_voucher(&ResendVoucher::new("T1", "1"))
        .await
        .unwrap_err();
    match err.kind() {
        ErrorKind::Http {
            status,
            body_excerpt,
            ..
        } => {
            assert_eq!(status.as_u16(), 502);
            assert!(body_excerpt.contains("Bad Gateway"));
        }
        other => panic!("{other:?}"),
    }

    let server = mock_server().await;
    reply_always(
        &server,
        ResponseTemplate::new(200).set_body_string("<html>维护中</html>"),
    )
    .await;
    let err = client(&server)
        .query_order(&QueryOrder::new("T1", "1"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err:?}");
    assert!(err.is_outcome_unknown());
}

#[tokio::test]
async fn truncated_json_and_wrong_types_name_the_path() {
    let server = mock_server().await;
    reply_always(
        &server,
        ResponseTemplate::new(200)
            .set_body_string(r#"{"code":200,"describe":"ok","body":{"orderStatus":8,"useQu"#),
    )
    .await;
    let err = client(&server)
        .query_order(&QueryOrder::new("T1", "1"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }));

    let server = mock_server().await;
    reply_always(
        &server,
        ResponseTemplate::new(200).set_body_string(
            r#"{"code":200,"partnerId":3528,"body":{"LHOrderId":"1","orderStatus":"eight"}}"#,
        ),
    )
    .await;
    let err = client(&server)
        .query_order(&QueryOrder::new("T1", "1"))
        .await
        .unwrap_err();
    match err.kind() {
        ErrorKind::Decode { path, .. } => assert_eq!(path.as_deref(), Some("body.orderStatus")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unknown_statuses_and_string_codes_decode() {
    let server = mock_server().await;
    reply_always(
        &server,
        ResponseTemplate::new(200).set_body_string(
            r#"{"code":"200","describe":"ok","partnerId":"3528","body":{"partnerId":7,"orderId":"T1","LHOrderId":15354,"orderStatus":"42","orderQuantity":"6","useQuantity":0,"reStatus":99,"newField":{"x":1}}}"#,
        ),
    )
    .await;
    let info = client(&server)
        .query_order(&QueryOrder::new("T1", "15354"))
        .await
        .unwrap();
    assert_eq!(info.order_status, OrderStatus(42));
    assert_eq!(info.lh_order_id.as_deref(), Some("15354"));
    assert_eq!(info.order_quantity, Some(6));
    assert_eq!(info.refund_status, Some(RefundStatus(99)));
    assert_eq!(info.extra["newField"]["x"], 1);
    // `partner_id` is the envelope's (the one the binding checked), as a number.
    assert_eq!(info.partner_id, Some(3528));
}

/// `queryOrder` for T1 / 15354 answered with `body`.
async fn query_replied_with(
    body: &'static str,
) -> Result<tixpay_lianhe::OrderInfo, tixpay_core::Error> {
    let server = mock_server().await;
    reply_always(&server, ResponseTemplate::new(200).set_body_string(body)).await;
    client(&server)
        .query_order(&QueryOrder::new("T1", "15354"))
        .await
}

#[tokio::test]
async fn a_reply_for_another_partner_or_order_is_refused() {
    // Lianhe signs no reply: what binds one to its request is the partner and the ids.
    let ours = r#"{"code":200,"partnerId":3528,"body":{"orderId":"T1","LHOrderId":"15354","orderStatus":8}}"#;
    assert!(query_replied_with(ours).await.is_ok());
    for (body, why) in [
        (
            r#"{"code":200,"partnerId":9999,"body":{"orderId":"T1","LHOrderId":"15354","orderStatus":8}}"#,
            "partnerId",
        ),
        (
            r#"{"code":200,"body":{"orderId":"T1","LHOrderId":"15354","orderStatus":8}}"#,
            "partnerId",
        ),
        (
            r#"{"code":200,"partnerId":3528,"body":{"orderId":"T1","LHOrderId":"99999","orderStatus":8}}"#,
            "LHOrderId",
        ),
        (
            r#"{"code":200,"partnerId":3528,"body":{"orderId":"T2","LHOrderId":"15354","orderStatus":8}}"#,
            "orderId",
        ),
        (
            r#"{"code":200,"partnerId":3528,"body":{"orderStatus":8}}"#,
            "LHOrderId",
        ),
    ] {
        let err = query_replied_with(body).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Signature { .. }),
            "{body}: {err:?}"
        );
        assert!(err.to_string().contains(why), "{body}: {err}");
        assert!(err.is_outcome_unknown());
    }
    // A refusal may leave LHOrderId out ("失败时可不返回"); one naming another order is
    // not ours.
    let err = query_replied_with(r#"{"code":300,"describe":"未找到订单","partnerId":3528}"#)
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("300"));
    let err = query_replied_with(
        r#"{"code":300,"describe":"未找到订单","partnerId":3528,"body":{"LHOrderId":"1"}}"#,
    )
    .await
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
}

#[tokio::test]
async fn a_refusal_after_a_timed_out_keyed_write_is_outcome_unknown() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"code":20000,"describe":"订单已申请退款","partnerId":3528,"body":{"LHOrderId":"15354","orderStatus":7,"reQuantity":0,"reStatus":2}}"#,
        ))
        .mount(&server)
        .await;
    let http = HttpClient::builder()
        .sleep(Arc::new(InstantSleep::default()))
        .attempt_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let c = Client::with_http_client(config(&server).retry_keyed_writes(true), http);
    // The first attempt may have been accepted; the refusal of the resend says nothing
    // about it, so it is not a typed refusal but an outcome-unknown error.
    let err = c
        .cancel_order(&CancelOrder::new("T1", "15354", 1))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(err.api_code(), Some("20000"));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}
