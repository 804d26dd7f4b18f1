//! End to end against the sandbox (a skewed clock included), redaction, and property tests
//! of the header parsers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use tixpay_core::Secret;
use tixpay_ticket_hawk::hawk::{
    Algorithm, Credentials, ServerAuthorization, WwwAuthenticate, parse_header,
};
use tixpay_ticket_hawk::{BodyFormat, Config};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn header_parsers_never_panic(value in "(Hawk|hawk|Basic)?[ ,]{0,2}([a-z]{1,4}=\"[^\"]{0,6}\"?[ ,]{0,2}){0,5}\\\\?") {
        let _ = parse_header(&value);
        let _ = WwwAuthenticate::parse(&value);
        let _ = ServerAuthorization::parse(&value);
    }

    #[test]
    fn headers_round_trip(ext in "[ -~]{0,20}", nonce in "[A-Za-z0-9]{1,12}") {
        let c = Credentials::new("id", Secret::new("key"), Algorithm::Sha256);
        let a = tixpay_ticket_hawk::hawk::Artifacts::new("GET", "h", 80, "/", 1, nonce.clone()).ext(ext.clone());
        let header = c.header(&a).unwrap();
        let attrs = parse_header(&header).unwrap();
        prop_assert_eq!(&attrs["nonce"], &nonce);
        if !ext.is_empty() {
            prop_assert_eq!(&attrs["ext"], &ext);
        }
    }
}

#[cfg(feature = "sandbox")]
mod end_to_end {
    use tixpay_core::ErrorKind;
    use tixpay_ticket_hawk::sandbox::{SandboxOptions, StaleStyle, TicketSandbox};
    use tixpay_ticket_hawk::{
        Client, OrderLookup, RefundParm, ServerAuth, TicketQuery, TicketStatus,
    };

    use super::*;

    #[tokio::test]
    async fn refund_rules_json_and_xml() {
        let sandbox =
            TicketSandbox::start_with(SandboxOptions::default().server_authorization(true))
                .await
                .unwrap();
        let tickets = sandbox.add_order("T-ORDER-1", 3, true, true);
        sandbox.mark_used(&tickets[0]);
        for format in [BodyFormat::Json, BodyFormat::Xml] {
            let client = Client::new(
                sandbox
                    .config()
                    .body_format(format)
                    .server_auth(ServerAuth::Required),
            )
            .unwrap();
            let list = client
                .query_tickets(&TicketQuery::new(
                    "agent01",
                    OrderLookup::OrderId("T-ORDER-1".into()),
                ))
                .await
                .unwrap();
            assert_eq!(list.len(), 3, "{format:?}");
        }
        let json = Client::new(sandbox.config().server_auth(ServerAuth::Required)).unwrap();
        let xml = Client::new(
            sandbox
                .config()
                .body_format(BodyFormat::Xml)
                .server_auth(ServerAuth::Required),
        )
        .unwrap();
        // A used ticket cannot be refunded.
        let err = json
            .refund_tickets(&RefundParm::tickets("T-ORDER-1", [tickets[0].clone()]))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("已过闸"), "{err}");
        // Refund one (XML), then again: refused, irreversible.
        xml.refund_tickets(&RefundParm::tickets("T-ORDER-1", [tickets[1].clone()]))
            .await
            .unwrap();
        assert_eq!(sandbox.ticket_status(&tickets[1]).as_deref(), Some("2"));
        let again = json
            .refund_tickets(&RefundParm::tickets("T-ORDER-1", [tickets[1].clone()]))
            .await
            .unwrap_err();
        assert!(again.to_string().contains("已退票"), "{again}");
        // api/Order/Refund only for paid orders without gate credentials.
        let err = json
            .refund_order(&RefundParm::whole_order("T-ORDER-1"))
            .await
            .unwrap_err();
        assert_eq!(err.api_code(), Some("3"));
        sandbox.add_order("T-ORDER-2", 2, true, false);
        json.refund_order(&RefundParm::whole_order("T-ORDER-2").memory("no gate pass"))
            .await
            .unwrap();
        let order = xml.query_order("T-ORDER-2", None).await.unwrap();
        assert_eq!(order.total_count, Some(2));
        let ticket = json
            .query_ticket(
                &tickets[1],
                &TicketQuery::new("agent01", OrderLookup::OrderId("T-ORDER-1".into())),
            )
            .await
            .unwrap();
        assert_eq!(ticket.status, Some(TicketStatus::Refunded));
        // The WebInterface refund form.
        json.refund_tickets_for_agent(
            "agent01",
            None,
            &RefundParm::tickets("T-ORDER-1", [tickets[2].clone()]),
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn skewed_sandbox_clock_is_resynced() {
        let sandbox =
            TicketSandbox::start_with(SandboxOptions::default().clock_offset_seconds(600))
                .await
                .unwrap();
        sandbox.add_order("SKEW-1", 1, true, false);
        let client = Client::new(sandbox.config()).unwrap();
        let order = client.query_order("SKEW-1", None).await.unwrap();
        assert_eq!(order.order_id.as_deref(), Some("SKEW-1"));
        let offset = client.clock_offset_millis();
        assert!((595_000..=605_000).contains(&offset), "{offset}");
        // Later calls use the offset at once: one authenticated request each.
        let before = sandbox.authenticated_requests();
        client.query_order("SKEW-1", None).await.unwrap();
        assert_eq!(sandbox.authenticated_requests(), before + 1);
        // The sandbox's clock moves back: resync again.
        sandbox.set_clock_offset(-900);
        client.query_order("SKEW-1", None).await.unwrap();
        assert!(client.clock_offset_millis() < -890_000);
    }

    #[tokio::test]
    async fn dotnet_server_without_tsm() {
        let sandbox = TicketSandbox::start_with(
            SandboxOptions::default()
                .clock_offset_seconds(-300)
                .stale_style(StaleStyle::DotNet),
        )
        .await
        .unwrap();
        sandbox.add_order("NET-1", 1, true, false);
        let strict = Client::new(sandbox.config()).unwrap();
        let err = strict.query_order("NET-1", None).await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Signature { .. }), "{err:?}");
        let trusting = Client::new(sandbox.config().trust_unsigned_server_time(true)).unwrap();
        trusting.query_order("NET-1", None).await.unwrap();
    }

    #[tokio::test]
    async fn wrong_credentials_and_replays_are_refused() {
        let sandbox = TicketSandbox::start().await.unwrap();
        sandbox.add_order("AUTH-1", 1, true, false);
        let wrong = Config::new(
            sandbox.uri(),
            Credentials::from_operator(
                tixpay_ticket_hawk::SANDBOX_HAWK_ID,
                &Secret::new("WRONG"),
                &Secret::new("123456"),
                Algorithm::Sha256,
            ),
        );
        let err = Client::new(wrong)
            .unwrap()
            .query_order("AUTH-1", None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("Bad mac"), "{err}");
        // A fixed nonce and a clock that stands still: the second request is a replay (a
        // nonce is unique per id and timestamp, so on a moving clock the two requests could
        // fall in different seconds on a busy machine).
        let now = tixpay_core::Clock::now_seconds(&tixpay_core::SystemClock);
        let fixed = sandbox
            .config()
            .nonce_source(std::sync::Arc::new(tixpay_core::FixedNonce::new(
                "same-nonce",
            )))
            .clock(std::sync::Arc::new(tixpay_core::FixedClock::from_seconds(
                now,
            )));
        let client = Client::new(fixed).unwrap();
        client.query_order("AUTH-1", None).await.unwrap();
        let err = client.query_order("AUTH-1", None).await.unwrap_err();
        assert!(err.to_string().contains("Invalid nonce"), "{err}");
        // An id the server does not know.
        let other_id = Config::new(
            sandbox.uri(),
            Credentials::new("someone-else", Secret::new("k"), Algorithm::Sha256),
        );
        let err = Client::new(other_id)
            .unwrap()
            .query_order("AUTH-1", None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("Unknown credentials"), "{err}");
    }

    /// The sandbox checks requests with the crate's `ServerVerifier`: this crate's own
    /// client passes with sha1 credentials, `ext` and a payload hash, and a client with the
    /// wrong key is refused as the reference server refuses it.
    #[tokio::test]
    async fn the_verifier_accepts_this_crates_client_with_sha1_and_ext() {
        let sha1 = Credentials::new("agent02", Secret::new("sha1-key"), Algorithm::Sha1);
        let sandbox = TicketSandbox::start_with(
            SandboxOptions::default()
                .credentials(sha1.clone())
                .server_authorization(true),
        )
        .await
        .unwrap();
        let tickets = sandbox.add_order("T-SHA1", 2, true, true);
        let client = Client::new(
            sandbox
                .config()
                .ext("reseller=tixpay; \"quoted\"")
                .server_auth(ServerAuth::Required),
        )
        .unwrap();
        client
            .refund_tickets(&RefundParm::tickets("T-SHA1", [tickets[0].clone()]))
            .await
            .unwrap();
        assert_eq!(sandbox.authenticated_requests(), 1);
        let wrong = Credentials::new("agent02", Secret::new("another-key"), Algorithm::Sha1);
        let stranger = Client::new(Config::new(sandbox.uri(), wrong)).unwrap();
        let err = stranger
            .refund_tickets(&RefundParm::tickets("T-SHA1", [tickets[1].clone()]))
            .await
            .unwrap_err();
        assert_eq!(err.api_code(), Some("401"), "{err:?}");
        assert!(err.to_string().contains("Bad mac"), "{err}");
        assert_eq!(sandbox.authenticated_requests(), 1);
        assert_eq!(sandbox.ticket_status(&tickets[1]).as_deref(), Some("1"));
    }

    /// `UseRebateAndVerifyCode` in the sandbox: the code "sent by SMS" pays an unpaid order
    /// once, from the phone it went to; a wrong, used or misdirected code is refused, and so
    /// is paying twice.
    #[tokio::test]
    async fn paying_with_the_sms_code() {
        let sandbox = TicketSandbox::start().await.unwrap();
        sandbox.add_order("T-PAY", 2, false, false);
        for format in [BodyFormat::Json, BodyFormat::Xml] {
            let client = Client::new(sandbox.config().body_format(format)).unwrap();
            let mobile =
                std::collections::BTreeMap::from([("mobile".to_owned(), "13800138000".to_owned())]);
            assert_eq!(sandbox.last_verify_code(), None);
            client.send_agent_verify_code(&mobile).await.unwrap();
            let code = sandbox.last_verify_code().unwrap();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
            let wrong = if code == "000000" { "111111" } else { "000000" };
            let pay = |code: &str, mobile: &str| {
                tixpay_ticket_hawk::PayWithVerifyCode::new("T-PAY", code, mobile)
            };
            let err = client
                .pay_with_verify_code(&pay(wrong, "13800138000"))
                .await
                .unwrap_err();
            assert_eq!(err.api_code(), Some("7"), "{format:?} {err:?}");
            let err = client
                .pay_with_verify_code(&pay(&code, "13900139000"))
                .await
                .unwrap_err();
            assert_eq!(err.api_code(), Some("8"), "{format:?} {err:?}");
            if format == BodyFormat::Json {
                assert_eq!(sandbox.is_paid("T-PAY"), Some(false));
                let paid = client
                    .pay_with_verify_code(&pay(&code, "13800138000"))
                    .await
                    .unwrap();
                assert_eq!(paid.result_code, 0);
                assert_eq!(paid.order_id.as_deref(), Some("T-PAY"));
                assert_eq!(sandbox.is_paid("T-PAY"), Some(true));
                assert_eq!(sandbox.last_verify_code(), None, "the code is used up");
                let err = client
                    .pay_with_verify_code(&pay(&code, "13800138000"))
                    .await
                    .unwrap_err();
                assert_eq!(err.api_code(), Some("7"), "{err:?}");
            } else {
                let err = client
                    .pay_with_verify_code(&pay(&code, "13800138000"))
                    .await
                    .unwrap_err();
                assert_eq!(err.api_code(), Some("9"), "paid twice: {err:?}");
            }
        }
        let err = Client::new(sandbox.config())
            .unwrap()
            .pay_with_verify_code(&tixpay_ticket_hawk::PayWithVerifyCode::new(
                "NO-SUCH",
                "123456",
                "13800138000",
            ))
            .await
            .unwrap_err();
        assert_eq!(err.api_code(), Some("2"), "{err:?}");
    }
}
