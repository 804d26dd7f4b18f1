//! One wiremock test per endpoint: the Authorization header with a fixed clock and nonce,
//! JSON and XML bodies, success and error replies; then Server-Authorization, clock
//! resynchronisation and malformed headers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use tixpay_core::crypto::{base64, hmac_sha256, sha256};
use tixpay_core::retry::InstantSleep;
use tixpay_core::test_util::{exact_header, fixed_clock_client, mock_server};
use tixpay_core::{ErrorKind, FixedClock, FixedNonce, HttpClient, Secret, SignatureSubject};
use tixpay_ticket_hawk::hawk::{Algorithm, Artifacts, Credentials, ServerAuthorization};
use tixpay_ticket_hawk::{
    BodyFormat, CallbackMethod, Client, Config, OrderLookup, OrderStatus, PayContent,
    PayWithVerifyCode, ProviderConfig, RefundParm, ServerAuth, TicketQuery, TicketStatus,
};
use wiremock::matchers::{body_string, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NOW: i64 = 1_700_000_000;
const NONCE: &str = "k3k4j5nonce1";
const KEY: &str = "0123456789ABCDEFE10ADC3949BA59ABBE56E057F20F883E";

fn credentials() -> Credentials {
    Credentials::from_operator(
        "agent01",
        &Secret::new("0123456789ABCDEF"),
        &Secret::new("123456"),
        Algorithm::Sha256,
    )
}

fn config(server: &MockServer) -> Config {
    Config::new(server.uri(), credentials())
        .clock(Arc::new(FixedClock::from_seconds(NOW)))
        .nonce_source(Arc::new(FixedNonce::new(NONCE)))
}

fn client_with(config: Config) -> Client {
    let http = fixed_clock_client(NOW, &InstantSleep::default()).unwrap();
    Client::with_http_client(config, http)
}

/// The Authorization header computed independently of the crate (vector-style).
fn expected_header(
    server: &MockServer,
    method: &str,
    resource: &str,
    body: Option<(&str, &[u8])>,
) -> String {
    let addr = server.address();
    let hash = body.map(|(mime, bytes)| {
        let mut input = format!("hawk.1.payload\n{mime}\n").into_bytes();
        input.extend_from_slice(bytes);
        input.push(b'\n');
        base64::encode(sha256(&input))
    });
    let normalized = format!(
        "hawk.1.header\n{NOW}\n{NONCE}\n{method}\n{resource}\n{}\n{}\n{}\n\n",
        addr.ip(),
        addr.port(),
        hash.as_deref().unwrap_or("")
    );
    let mac = base64::encode(hmac_sha256(KEY.as_bytes(), normalized.as_bytes()));
    match hash {
        Some(h) => format!(
            "Hawk id=\"agent01\", ts=\"{NOW}\", nonce=\"{NONCE}\", hash=\"{h}\", mac=\"{mac}\""
        ),
        None => format!("Hawk id=\"agent01\", ts=\"{NOW}\", nonce=\"{NONCE}\", mac=\"{mac}\""),
    }
}

const OK: &str = r#"{"errcode":0,"errmsg":"退票成功"}"#;

#[tokio::test]
async fn refund_tickets_json_exact_request() {
    let server = mock_server().await;
    let body = r#"{"orderid":"20240101000123","refundallticket":"0","ticketids":["T1","T2"]}"#;
    Mock::given(method("POST"))
        .and(path("/api/Order/RefundTicket"))
        .and(body_string(body))
        .and(exact_header(
            "content-type",
            "application/json; charset=utf-8",
        ))
        .and(exact_header(
            "authorization",
            expected_header(
                &server,
                "POST",
                "/api/Order/RefundTicket",
                Some(("application/json", body.as_bytes())),
            ),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(OK, "application/json; charset=utf-8"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let result = client_with(config(&server))
        .refund_tickets(&RefundParm::tickets("20240101000123", ["T1", "T2"]))
        .await
        .unwrap();
    assert_eq!(result.errcode, 0);
}

#[tokio::test]
async fn refund_order_xml_exact_request_and_xml_error() {
    let server = mock_server().await;
    let body = "<RefundParm xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Parm.WebInterface\"><memory>客户取消</memory><orderid>20240101000123</orderid><refundallticket>1</refundallticket><ticketids xmlns:d2p1=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\"></ticketids></RefundParm>";
    let reply = "<OperationResult xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Result.WebInterface\"><errcode>1</errcode><errmsg>订单已生成过闸凭证</errmsg></OperationResult>";
    Mock::given(method("POST"))
        .and(path("/api/Order/Refund"))
        .and(body_string(body))
        .and(exact_header("accept", "application/xml"))
        .and(exact_header(
            "authorization",
            expected_header(
                &server,
                "POST",
                "/api/Order/Refund",
                Some(("application/xml", body.as_bytes())),
            ),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(reply, "application/xml; charset=utf-8"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(config(&server).body_format(BodyFormat::Xml));
    let err = client
        .refund_order(&RefundParm::whole_order("20240101000123").memory("客户取消"))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("1"));
    assert!(err.to_string().contains("订单已生成过闸凭证"));
    assert_eq!(err.operation(), Some("api/Order/Refund"));
}

#[tokio::test]
async fn query_order_get_has_no_hash() {
    let server = mock_server().await;
    let resource = "/api/Order/Query/Main/2024%2F0101?personalid=0";
    Mock::given(method("GET"))
        .and(path("/api/Order/Query/Main/2024%2F0101"))
        .and(query_param("personalid", "0"))
        .and(exact_header("authorization", expected_header(&server, "GET", resource, None)))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"orderid":"2024/0101","senderid":"S1","status":"B","totalcount":"3","summary":300.00,"theatrial":"x"}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let order = client_with(config(&server))
        .query_order("2024/0101", None)
        .await
        .unwrap();
    assert_eq!(order.status, Some(OrderStatus::RefundInProgress));
    assert_eq!(order.total_count, Some(3));
    assert_eq!(order.summary.as_deref(), Some("300.0"));
    assert_eq!(order.fields["theatrial"], "x");
}

#[tokio::test]
async fn ticket_queries() {
    let server = mock_server().await;
    let resource = "/api/WebInterface/Order/Query/Tickets?username=agent01&orderid=O1&senderid=&personalid=0&guidernum=";
    Mock::given(method("GET"))
        .and(path("/api/WebInterface/Order/Query/Tickets"))
        .and(exact_header("authorization", expected_header(&server, "GET", resource, None)))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"[{"ticketcode":"T1","productname":"座位票","personcount":1,"status":"1"},{"ticketcode":"T2","status":"9"}]"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let resource = "/api/WebInterface/Order/Query/Ticket?ticketid=T1&username=agent01&orderid=&senderid=S1&personalid=7&guidernum=G1";
    Mock::given(method("GET"))
        .and(path("/api/WebInterface/Order/Query/Ticket"))
        .and(exact_header("authorization", expected_header(&server, "GET", resource, None)))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<Ticket xmlns=\"x\"><ticketcode>T1</ticketcode><status>2</status><price>100.00</price></Ticket>",
            "application/xml",
        ))
        .mount(&server)
        .await;
    let client = client_with(config(&server));
    let tickets = client
        .query_tickets(&TicketQuery::new(
            "agent01",
            OrderLookup::OrderId("O1".into()),
        ))
        .await
        .unwrap();
    assert_eq!(tickets.len(), 2);
    assert_eq!(tickets[0].status, Some(TicketStatus::Valid));
    assert_eq!(tickets[1].status, Some(TicketStatus::Unknown("9".into())));
    let ticket = client
        .query_ticket(
            "T1",
            &TicketQuery::new("agent01", OrderLookup::SenderId("S1".into()))
                .personal_id(7)
                .guider_num("G1"),
        )
        .await
        .unwrap();
    assert_eq!(ticket.status, Some(TicketStatus::Refunded));
    assert_eq!(ticket.price.as_deref(), Some("100.00"));
    assert!(
        client
            .query_tickets(&TicketQuery::new("", OrderLookup::OrderId("O1".into())))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn provider_config_pay_and_verify_code() {
    let server = mock_server().await;
    let cfg_body = r#"{"replaydatatype":"JSON","replaymethod":"POST","replayurl":"https://r.example/cb","sendofficiallysnotify":"0"}"#;
    Mock::given(path("/api/ProviderConfig"))
        .and(body_string(cfg_body))
        .and(exact_header(
            "authorization",
            expected_header(
                &server,
                "POST",
                "/api/ProviderConfig",
                Some(("application/json", cfg_body.as_bytes())),
            ),
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let pay_body = r#"{"clientip":"10.0.0.1","orderid":"O1","paychannelname":"微信支付"}"#;
    Mock::given(path("/api/Order/BeginToPay/Phone"))
        .and(body_string(pay_body))
        .and(exact_header(
            "authorization",
            expected_header(
                &server,
                "POST",
                "/api/Order/BeginToPay/Phone",
                Some(("application/json", pay_body.as_bytes())),
            ),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#""https://pay.example/o1""#, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/Order/BeginToPay"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            r#"{"errcode":7,"errmsg":"支付通道不存在"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let code_body = r#"{"mobile":"13800000000","username":"agent01"}"#;
    Mock::given(path("/api/Agent/AgentIsVerifyCode"))
        .and(body_string(code_body))
        .and(exact_header(
            "authorization",
            expected_header(
                &server,
                "POST",
                "/api/Agent/AgentIsVerifyCode",
                Some(("application/json", code_body.as_bytes())),
            ),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"errcode":0,"errmsg":"ok"}"#, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(config(&server));
    client
        .set_provider_config(
            &ProviderConfig::new("https://r.example/cb")
                .reply_format(BodyFormat::Json)
                .reply_method(CallbackMethod::Post),
        )
        .await
        .unwrap();
    let pay = PayContent::new("O1", "微信支付").client_ip("10.0.0.1");
    assert_eq!(
        client.begin_to_pay_phone(&pay).await.unwrap(),
        "https://pay.example/o1"
    );
    let err = client.begin_to_pay(&pay).await.unwrap_err();
    assert_eq!(err.api_code(), Some("7"));
    assert_eq!(err.as_api().unwrap().status.map(|s| s.as_u16()), Some(400));
    let params: BTreeMap<String, String> = [("username", "agent01"), ("mobile", "13800000000")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(
        client
            .send_agent_verify_code(&params)
            .await
            .unwrap()
            .errcode,
        0
    );
}

#[tokio::test]
async fn refunds_are_never_retried() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = client_with(config(&server));
    let err = client
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Http { .. }));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn server_authorization_accepted_and_tampered_rejected() {
    let server = mock_server().await;
    let request = Artifacts::new(
        "POST",
        server.address().ip().to_string(),
        server.address().port(),
        "/api/Order/RefundTicket",
        NOW,
        NONCE,
    )
    .hash({
        let body = br#"{"orderid":"O1","refundallticket":"1","ticketids":[]}"#;
        credentials().payload_hash("application/json", body)
    });
    let good = ServerAuthorization::create(
        &credentials(),
        &request,
        Some(("application/json", OK.as_bytes())),
    );
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(OK, "application/json")
                .insert_header("server-authorization", good.as_str()),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let tampered_body = OK.replace("退票成功", "已退票");
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(tampered_body, "application/json")
                .insert_header("server-authorization", good.as_str()),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(OK, "application/json"))
        .mount(&server)
        .await;
    let client = client_with(config(&server).server_auth(ServerAuth::Required));
    let refund = RefundParm::whole_order("O1");
    assert!(client.refund_tickets(&refund).await.is_ok());
    let err = client.refund_tickets(&refund).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Signature {
                subject: SignatureSubject::Response,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_outcome_unknown());
    let err = client.refund_tickets(&refund).await.unwrap_err();
    assert!(err.to_string().contains("no Server-Authorization"), "{err}");
}

#[tokio::test]
async fn malformed_server_authorization_is_a_typed_error() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("{}", "application/json")
                .insert_header("server-authorization", "Hawk mac=\"unterminated"),
        )
        .mount(&server)
        .await;
    let err = client_with(config(&server))
        .query_order("O1", None)
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
}

fn stale(ts: i64, tsm: &str) -> ResponseTemplate {
    ResponseTemplate::new(401).insert_header(
        "www-authenticate",
        format!("Hawk ts=\"{ts}\", tsm=\"{tsm}\", error=\"Stale timestamp\"").as_str(),
    )
}

#[tokio::test]
async fn stale_timestamp_resyncs_once_and_succeeds() {
    let server = mock_server().await;
    let server_now = NOW + 3_600;
    Mock::given(method("POST"))
        .respond_with(stale(server_now, &credentials().timestamp_mac(server_now)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(OK, "application/json"))
        .mount(&server)
        .await;
    let client = client_with(config(&server));
    client
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap();
    assert_eq!(client.clock_offset_millis(), 3_600_000);
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    let second = received[1].headers["authorization"].to_str().unwrap();
    assert!(second.contains(&format!("ts=\"{server_now}\"")), "{second}");
}

#[tokio::test]
async fn bad_tsm_is_an_error_without_retry() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(stale(NOW + 100, "bm90IHRoZSB0c20="))
        .mount(&server)
        .await;
    let client = client_with(config(&server));
    let err = client
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(client.clock_offset_millis(), 0);
}

#[tokio::test]
async fn dotnet_style_needs_trust_over_http() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).insert_header(
            "www-authenticate",
            format!("Hawk ts=\"{}\" ntp=\"pool.ntp.org\"", NOW - 500).as_str(),
        ))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(OK, "application/json"))
        .mount(&server)
        .await;
    let err = client_with(config(&server))
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("without tsm"), "{err}");
    let trusting = client_with(config(&server).trust_unsigned_server_time(true));
    trusting
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap();
    assert_eq!(trusting.clock_offset_millis(), -500_000);
}

#[tokio::test]
async fn malformed_www_authenticate_and_other_401s() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401).insert_header("www-authenticate", "Hawk ts=\"tomorrow\""),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401).insert_header("www-authenticate", "Hawk error=\"Bad mac\""),
        )
        .mount(&server)
        .await;
    let client = client_with(config(&server));
    let err = client
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err:?}");
    let err = client
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("401"));
    assert!(err.to_string().contains("Bad mac"));
}

#[tokio::test]
async fn invalid_refunds_are_not_sent() {
    let server = mock_server().await;
    let client = client_with(config(&server));
    assert!(
        client
            .refund_tickets(&RefundParm::tickets("O1", Vec::<String>::new()))
            .await
            .is_err()
    );
    assert!(
        client
            .refund_order(&RefundParm::whole_order("x".repeat(21)))
            .await
            .is_err()
    );
    assert!(
        client
            .refund_tickets_for_agent("", None, &RefundParm::whole_order("O1"))
            .await
            .is_err()
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_hawk_challenge_is_found_among_several() {
    let server = mock_server().await;
    let server_now = NOW + 120;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .append_header("www-authenticate", "Negotiate")
                .append_header(
                    "www-authenticate",
                    format!(
                        "Hawk ts=\"{server_now}\", tsm=\"{}\", error=\"Stale timestamp\"",
                        credentials().timestamp_mac(server_now)
                    )
                    .as_str(),
                ),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(OK, "application/json"))
        .mount(&server)
        .await;
    let client = client_with(config(&server));
    client
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap();
    assert_eq!(client.clock_offset_millis(), 120_000);
}

#[tokio::test]
async fn an_implausible_server_time_is_refused() {
    let server = mock_server().await;
    let far = i64::MIN / 2;
    Mock::given(method("POST"))
        .respond_with(stale(far, &credentials().timestamp_mac(far)))
        .mount(&server)
        .await;
    let err = client_with(config(&server))
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("implausibly"), "{err}");

    // A year off is skew; ten years exactly is still accepted; a second more is not.
    const TEN_YEARS: i64 = 10 * 365 * 86_400;
    for (server_now, adopted) in [
        (NOW + 365 * 86_400, true),
        (NOW + TEN_YEARS, true),
        (NOW - TEN_YEARS, true),
        (NOW + TEN_YEARS + 1, false),
    ] {
        let server = mock_server().await;
        Mock::given(method("POST"))
            .respond_with(stale(server_now, &credentials().timestamp_mac(server_now)))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        answer_always(
            &server,
            ResponseTemplate::new(200).set_body_raw(OK, "application/json"),
        )
        .await;
        let client = client_with(config(&server));
        let result = client.refund_tickets(&RefundParm::whole_order("O1")).await;
        assert_eq!(result.is_ok(), adopted, "{server_now}: {result:?}");
        let expected = if adopted {
            (server_now - NOW) * 1000
        } else {
            0
        };
        assert_eq!(client.clock_offset_millis(), expected);
    }
}

#[tokio::test]
async fn a_body_without_a_response_hash_is_not_authenticated() {
    let server = mock_server().await;
    let request = Artifacts::new(
        "GET",
        server.address().ip().to_string(),
        server.address().port(),
        "/api/Order/Query/Main/O1?personalid=0",
        NOW,
        NONCE,
    );
    let mac_only = ServerAuthorization::create(&credentials(), &request, None);
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"orderid":"O1"}"#, "application/json")
                .insert_header("server-authorization", mac_only.as_str()),
        )
        .mount(&server)
        .await;
    let err = client_with(config(&server))
        .query_order("O1", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("hash"), "{err}");
    assert!(
        client_with(config(&server))
            .query_order("..", None)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn begin_to_pay_needs_a_string_reply() {
    let server = mock_server().await;
    Mock::given(path("/api/Order/BeginToPay"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"url":"https://pay.example"}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let pay = PayContent::new("O1", "微信支付");
    let err = client_with(config(&server))
        .begin_to_pay(&pay)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), tixpay_core::ErrorKind::Decode { .. }),
        "{err:?}"
    );
    let empty = PayContent::new("O1", "");
    assert!(matches!(
        client_with(config(&server))
            .begin_to_pay(&empty)
            .await
            .unwrap_err()
            .kind(),
        tixpay_core::ErrorKind::InvalidRequest { .. }
    ));
}

/// The `Server-Authorization` the server would send for a request to `resource` signed
/// with `nonce` (and this request body), answering with `reply`.
fn server_authorization_for(
    server: &MockServer,
    method: &str,
    resource: &str,
    nonce: &str,
    request_body: Option<&[u8]>,
    reply: &str,
) -> String {
    let mut artifacts = Artifacts::new(
        method,
        server.address().ip().to_string(),
        server.address().port(),
        resource,
        NOW,
        nonce,
    );
    if let Some(body) = request_body {
        artifacts = artifacts.hash(credentials().payload_hash("application/json", body));
    }
    ServerAuthorization::create(
        &credentials(),
        &artifacts,
        Some(("application/json", reply.as_bytes())),
    )
}

const WHOLE_O1: &[u8] = br#"{"orderid":"O1","refundallticket":"1","ticketids":[]}"#;

async fn answer_always(server: &MockServer, template: ResponseTemplate) {
    Mock::given(wiremock::matchers::any())
        .respond_with(template)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_genuine_signed_reply_to_another_operation_order_or_call_is_refused() {
    let order_b = r#"{"orderid":"B","status":"3"}"#;
    for (label, resource, nonce, body) in [
        // The genuine answer to a query, replayed to a refund.
        (
            "another operation",
            "/api/Order/Query/Main/B?personalid=0",
            NONCE,
            None,
        ),
        // The genuine answer to a refund of another order (every request has its own nonce;
        // the response MAC covers it, and the reply's own hash, not the request body).
        (
            "another order",
            "/api/Order/RefundTicket",
            "o2nonce00001",
            Some(&br#"{"orderid":"O2","refundallticket":"1","ticketids":[]}"#[..]),
        ),
        // The genuine answer to an earlier refund of the same order (another nonce).
        (
            "an earlier call",
            "/api/Order/RefundTicket",
            "earliernonce",
            Some(WHOLE_O1),
        ),
    ] {
        let server = mock_server().await;
        let reply = if body.is_some() { OK } else { order_b };
        let signature = server_authorization_for(
            &server,
            if body.is_some() { "POST" } else { "GET" },
            resource,
            nonce,
            body,
            reply,
        );
        answer_always(
            &server,
            ResponseTemplate::new(200)
                .set_body_raw(reply, "application/json")
                .insert_header("server-authorization", signature.as_str()),
        )
        .await;
        let err = client_with(config(&server))
            .refund_tickets(&RefundParm::whole_order("O1"))
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Signature { .. }),
            "{label}: {err:?}"
        );
        assert!(err.is_outcome_unknown(), "{label}");
    }
    // The genuine answer to a query of order B, replayed to a query of order A: the MAC
    // covers the resource, so it fails; unsigned, the echoed orderid still gives it away.
    let server = mock_server().await;
    let signature = server_authorization_for(
        &server,
        "GET",
        "/api/Order/Query/Main/B?personalid=0",
        NONCE,
        None,
        order_b,
    );
    answer_always(
        &server,
        ResponseTemplate::new(200)
            .set_body_raw(order_b, "application/json")
            .insert_header("server-authorization", signature.as_str()),
    )
    .await;
    let err = client_with(config(&server))
        .query_order("A", None)
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    let server = mock_server().await;
    answer_always(
        &server,
        ResponseTemplate::new(200).set_body_raw(order_b, "application/json"),
    )
    .await;
    let err = client_with(config(&server))
        .query_order("A", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("orderid B"), "{err}");
    assert!(
        client_with(config(&server))
            .query_order("B", None)
            .await
            .is_ok()
    );
    // An id echoed as a number is compared too.
    let server = mock_server().await;
    answer_always(
        &server,
        ResponseTemplate::new(200)
            .set_body_raw(r#"{"orderid":12345,"status":"3"}"#, "application/json"),
    )
    .await;
    let err = client_with(config(&server))
        .query_order("99999", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("orderid 12345"), "{err}");
    assert!(
        client_with(config(&server))
            .query_order("12345", None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_rewritten_status_never_settles_a_refund() {
    // A genuine, signed "refunded" reply whose status code (outside the MAC) was rewritten.
    for status in [400, 404, 500] {
        let server = mock_server().await;
        let signature = server_authorization_for(
            &server,
            "POST",
            "/api/Order/RefundTicket",
            NONCE,
            Some(WHOLE_O1),
            OK,
        );
        answer_always(
            &server,
            ResponseTemplate::new(status)
                .set_body_raw(OK, "application/json")
                .insert_header("server-authorization", signature.as_str()),
        )
        .await;
        let err = client_with(config(&server))
            .refund_tickets(&RefundParm::whole_order("O1"))
            .await
            .unwrap_err();
        assert!(err.is_outcome_unknown(), "{status}: {err}");
    }
    // A genuine, signed refusal stays a refusal whatever its status says.
    let refused = r#"{"errcode":5,"errmsg":"订单已过闸"}"#;
    let server = mock_server().await;
    let signature = server_authorization_for(
        &server,
        "POST",
        "/api/Order/RefundTicket",
        NONCE,
        Some(WHOLE_O1),
        refused,
    );
    answer_always(
        &server,
        ResponseTemplate::new(200)
            .set_body_raw(refused, "application/json")
            .insert_header("server-authorization", signature.as_str()),
    )
    .await;
    let err = client_with(config(&server))
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("5"));
    assert!(
        !err.is_outcome_unknown(),
        "a verified refusal is an answer: {err}"
    );
    assert_eq!(err.unverified_reason(), None);
}

#[tokio::test]
async fn an_unsigned_refusal_of_a_refund_is_outcome_unknown() {
    let refused = r#"{"errcode":5,"errmsg":"订单已过闸"}"#;
    let server = mock_server().await;
    answer_always(
        &server,
        ResponseTemplate::new(200).set_body_raw(refused, "application/json"),
    )
    .await;
    let err = client_with(config(&server))
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("5"));
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.to_string().contains("Server-Authorization"), "{err}");
    // ServerAuth::Off declares that this deployment signs nothing: its refusal is an answer.
    let err = client_with(config(&server).server_auth(ServerAuth::Off))
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert!(!err.is_outcome_unknown(), "{err}");
    // A 401 refusing the credentials cannot be authenticated either.
    let server = mock_server().await;
    answer_always(
        &server,
        ResponseTemplate::new(401).insert_header("www-authenticate", "Hawk error=\"Bad mac\""),
    )
    .await;
    let err = client_with(config(&server))
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
}

#[tokio::test]
async fn once_the_server_has_signed_a_missing_server_authorization_is_refused() {
    let server = mock_server().await;
    let signature = server_authorization_for(
        &server,
        "POST",
        "/api/Order/RefundTicket",
        NONCE,
        Some(WHOLE_O1),
        OK,
    );
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(OK, "application/json")
                .insert_header("server-authorization", signature.as_str()),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    // Then the header is stripped from an otherwise identical success.
    answer_always(
        &server,
        ResponseTemplate::new(200).set_body_raw(OK, "application/json"),
    )
    .await;
    let client = client_with(config(&server));
    let refund = RefundParm::whole_order("O1");
    client.refund_tickets(&refund).await.unwrap();
    let err = client.clone().refund_tickets(&refund).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    assert!(err.is_outcome_unknown());
    // A new client has seen no signature yet: the deployment may sign nothing.
    assert!(
        client_with(config(&server))
            .refund_tickets(&refund)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_refusal_with_a_wrong_server_authorization_is_a_signature_error() {
    let refused = r#"{"errcode":5,"errmsg":"订单已过闸"}"#;
    let server = mock_server().await;
    let signature = server_authorization_for(
        &server,
        "POST",
        "/api/Order/RefundTicket",
        NONCE,
        Some(WHOLE_O1),
        r#"{"errcode":6,"errmsg":"another"}"#,
    );
    answer_always(
        &server,
        ResponseTemplate::new(200)
            .set_body_raw(refused, "application/json")
            .insert_header("server-authorization", signature.as_str()),
    )
    .await;
    let err = client_with(config(&server))
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
    assert!(err.is_outcome_unknown());
}

#[tokio::test]
async fn the_resync_runs_inside_the_client_under_one_budget_and_one_timeout() {
    let server_now = NOW + 3_600;
    let stale_reply = || stale(server_now, &credentials().timestamp_mac(server_now));
    // With one attempt allowed, there is no second: the stale refusal is returned.
    let server = mock_server().await;
    answer_always(&server, stale_reply()).await;
    let http = HttpClient::builder()
        .retry_policy(tixpay_core::RetryPolicy::none())
        .build()
        .unwrap();
    let err = Client::with_http_client(config(&server), http)
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("401"));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    // tsm proves the server's time, not that this refund was refused: a replayed stale
    // answer must not settle it.
    assert!(err.is_outcome_unknown(), "{err}");

    // Stale twice: signed again once, then the refusal, which settles nothing either (the
    // resend may have been processed and its reply swapped for a captured one).
    let server = mock_server().await;
    answer_always(&server, stale_reply()).await;
    let err = client_with(config(&server))
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("401"));
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    // The resent attempt is bounded by the call's total timeout, and a refund that may have
    // been processed is not sent a third time.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(stale_reply())
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(OK, "application/json")
                .set_delay(std::time::Duration::from_secs(10)),
        )
        .mount(&server)
        .await;
    let http = HttpClient::builder()
        .total_timeout(std::time::Duration::from_millis(800))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = Client::with_http_client(config(&server), http)
        .refund_tickets(&RefundParm::whole_order("O1"))
        .await
        .unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
    assert!(matches!(err.kind(), ErrorKind::Timeout { .. }), "{err:?}");
    assert!(err.is_outcome_unknown());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_iis_error_page_is_an_http_error_and_a_503_is_retried() {
    let order = r#"{"orderid":"O1","status":"3"}"#;
    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_raw("<html>Service Unavailable</html>", "text/html"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    answer_always(
        &server,
        ResponseTemplate::new(200).set_body_raw(order, "application/json"),
    )
    .await;
    let found = client_with(config(&server))
        .query_order("O1", None)
        .await
        .unwrap();
    assert_eq!(found.order_id.as_deref(), Some("O1"));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    // A 404 page is an HTTP error, not an undecodable reply.
    let server = mock_server().await;
    answer_always(
        &server,
        ResponseTemplate::new(404).set_body_raw("<html>Not Found</html>", "text/html"),
    )
    .await;
    let err = client_with(config(&server))
        .query_order("O1", None)
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Http { .. }), "{err:?}");
    assert!(!err.is_outcome_unknown(), "a read's 404 is an answer");
    // A 200 whose body is not the ticket system's shape is an undecodable reply, kept with
    // its status, not an HTTP error.
    let server = mock_server().await;
    answer_always(
        &server,
        ResponseTemplate::new(200).set_body_raw("<html>OK</html>", "text/html"),
    )
    .await;
    let err = client_with(config(&server))
        .query_order("O1", None)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Decode { status: Some(s), .. } if s.as_u16() == 200),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_failing_nonce_source_stops_the_call_before_sending() {
    let server = mock_server().await;
    let err =
        client_with(config(&server).nonce_source(Arc::new(tixpay_core::test_util::FailingNonce)))
            .refund_tickets(&RefundParm::whole_order("O1"))
            .await
            .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Crypto { .. }), "{err:?}");
    assert!(!err.may_have_been_sent());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn runaway_identifiers_never_leave() {
    let server = mock_server().await;
    let c = client_with(config(&server));
    let long = "1".repeat(10_000);
    let errors = [
        c.query_order(&long, None).await.unwrap_err(),
        c.query_order(&"1".repeat(21), None).await.unwrap_err(),
        c.query_tickets(&TicketQuery::new(
            "agent01",
            OrderLookup::OrderId(long.clone()),
        ))
        .await
        .unwrap_err(),
        c.query_tickets(&TicketQuery::new(
            "agent01",
            OrderLookup::SenderId(long.clone()),
        ))
        .await
        .unwrap_err(),
        c.query_tickets(&TicketQuery::new(&long, OrderLookup::OrderId("O1".into())))
            .await
            .unwrap_err(),
        c.query_ticket(
            "T1",
            &TicketQuery::new("agent01", OrderLookup::OrderId("O1".into())).guider_num(&long),
        )
        .await
        .unwrap_err(),
    ];
    for err in errors {
        assert!(
            matches!(err.kind(), ErrorKind::InvalidRequest { .. }),
            "{err:?}"
        );
        assert!(!err.may_have_been_sent());
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    // At the documented limit the query goes out.
    answer_always(
        &server,
        ResponseTemplate::new(200).set_body_raw(
            r#"{"orderid":"12345678901234567890","status":"3"}"#,
            "application/json",
        ),
    )
    .await;
    assert!(c.query_order("12345678901234567890", None).await.is_ok());
}

const PAY_JSON: &str =
    r#"{"mobile":"13800138000","orderid":"20240101000123","verifycode":"428913"}"#;

#[tokio::test]
async fn pay_with_verify_code_json_exact_request_and_reply() {
    let server = mock_server().await;
    // Members go out in the DataContract order (alphabetical), in JSON as in XML.
    Mock::given(method("POST"))
        .and(path("/api/PayOrder/UseRebateAndVerifyCode"))
        .and(body_string(PAY_JSON))
        .and(exact_header("content-type", "application/json; charset=utf-8"))
        .and(exact_header(
            "authorization",
            expected_header(
                &server,
                "POST",
                "/api/PayOrder/UseRebateAndVerifyCode",
                Some(("application/json", PAY_JSON.as_bytes())),
            ),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"orderid":"20240101000123","sendid":"MY-7","orderstatus":"3","resultcode":0,"returnmessgage":"支付成功"}"#,
            "application/json; charset=utf-8",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let paid = client_with(config(&server))
        .pay_with_verify_code(&PayWithVerifyCode::new(
            "20240101000123",
            "428913",
            "13800138000",
        ))
        .await
        .unwrap();
    assert_eq!(paid.order_id.as_deref(), Some("20240101000123"));
    assert_eq!(paid.send_id.as_deref(), Some("MY-7"));
    assert_eq!(paid.order_status.as_deref(), Some("3"));
    assert_eq!(paid.result_code, 0);
    assert_eq!(paid.return_message.as_deref(), Some("支付成功"));
    tixpay_core::test_util::assert_stores_as_json(&paid);
}

#[tokio::test]
async fn pay_with_verify_code_xml_exact_request_and_a_refusal() {
    let server = mock_server().await;
    let body = "<PayOrderUseVerifyCodeParm xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Parm.WebInterface\"><mobile>13800138000</mobile><orderid>20240101000123</orderid><verifycode>428913</verifycode></PayOrderUseVerifyCodeParm>";
    let reply = "<OrderOperatorResult xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"http://schemas.datacontract.org/2004/07/DigitalScience.DataTransfer.Tour.V5.Result.WebInterface\"><orderid>20240101000123</orderid><orderstatus i:nil=\"true\"/><resultcode>7</resultcode><returnmessgage>验证码错误</returnmessgage><sendid i:nil=\"true\"/></OrderOperatorResult>";
    Mock::given(method("POST"))
        .and(path("/api/PayOrder/UseRebateAndVerifyCode"))
        .and(body_string(body))
        .and(exact_header("accept", "application/xml"))
        .and(exact_header(
            "authorization",
            expected_header(
                &server,
                "POST",
                "/api/PayOrder/UseRebateAndVerifyCode",
                Some(("application/xml", body.as_bytes())),
            ),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(reply, "application/xml; charset=utf-8"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client_with(config(&server).body_format(BodyFormat::Xml))
        .pay_with_verify_code(&PayWithVerifyCode::new(
            "20240101000123",
            "428913",
            "13800138000",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some("7"), "{err:?}");
    assert!(err.to_string().contains("验证码错误"), "{err}");
    assert_eq!(err.operation(), Some("api/PayOrder/UseRebateAndVerifyCode"));
}

#[tokio::test]
async fn a_payment_is_sent_once_and_an_answer_for_another_order_is_refused() {
    let server = mock_server().await;
    answer_always(&server, ResponseTemplate::new(503)).await;
    let pay = PayWithVerifyCode::new("20240101000123", "428913", "13800138000");
    let err = client_with(config(&server))
        .pay_with_verify_code(&pay)
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    let other = mock_server().await;
    answer_always(
        &other,
        ResponseTemplate::new(200).set_body_raw(
            r#"{"orderid":"20240101000999","resultcode":0,"returnmessgage":"支付成功"}"#,
            "application/json",
        ),
    )
    .await;
    let err = client_with(config(&other))
        .pay_with_verify_code(&pay)
        .await
        .unwrap_err();
    assert!(err.may_have_been_sent(), "{err:?}");
    assert!(err.to_string().contains("orderid"), "{err}");
}

#[tokio::test]
async fn invalid_payments_are_not_sent() {
    let server = mock_server().await;
    let c = client_with(config(&server));
    for (pay, field) in [
        (
            PayWithVerifyCode::new("", "428913", "13800138000"),
            "orderid",
        ),
        (
            PayWithVerifyCode::new("1".repeat(21), "428913", "13800138000"),
            "orderid",
        ),
        (
            PayWithVerifyCode::new("O1", " ", "13800138000"),
            "verifycode",
        ),
        (
            PayWithVerifyCode::new("O1", "4289131", "13800138000"),
            "verifycode",
        ),
        (PayWithVerifyCode::new("O1", "428913", ""), "mobile"),
        (
            PayWithVerifyCode::new("O1", "428913", "138001380001"),
            "mobile",
        ),
    ] {
        let err = c.pay_with_verify_code(&pay).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidRequest { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(field), "{field}: {err}");
        assert!(!err.may_have_been_sent());
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_payment_reply_that_is_no_operator_result_is_a_decode_error() {
    let server = mock_server().await;
    answer_always(
        &server,
        ResponseTemplate::new(200)
            .set_body_raw(r#"{"orderid":"20240101000123"}"#, "application/json"),
    )
    .await;
    let err = client_with(config(&server))
        .pay_with_verify_code(&PayWithVerifyCode::new(
            "20240101000123",
            "428913",
            "13800138000",
        ))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("OrderOperatorResult"), "{err}");
    assert!(err.may_have_been_sent());
}
