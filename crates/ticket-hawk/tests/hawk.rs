//! The Hawk server verifier (`hawk::ServerVerifier`): the published vectors, headers made by
//! this crate's own signer with every option, each refusal with the `WWW-Authenticate` the
//! reference server sends, the timestamp window at its edges, and the bounded nonce store.
//! Also the `parse_header` scheme and size rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use tixpay_core::{FixedClock, Secret};
use tixpay_ticket_hawk::hawk::{
    Algorithm, Artifacts, Credentials, HawkRequest, MemoryNonceStore, NonceCheck, NonceStore,
    RefusalReason, ServerAuthorization, ServerVerifier, WwwAuthenticate, parse_header,
};

const ID: &str = "dh37fgj492je";
const KEY: &str = "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn";
const TS: i64 = 1_353_832_234;
const H1_HEADER: &str = r#"Hawk id="dh37fgj492je", ts="1353832234", nonce="j4h3g2", ext="some-app-ext-data", mac="6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE=""#;
const H3_HEADER: &str = r#"Hawk id="dh37fgj492je", ts="1353832234", nonce="j4h3g2", hash="Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=", ext="some-app-ext-data", mac="aSe1DERmZuRl3pI36/9BdZmnErTw3sNzOOAUlfeKjVw=""#;
const PAYLOAD: &[u8] = b"Thank you for flying Hawk";

fn credentials(algorithm: Algorithm) -> Credentials {
    Credentials::new(ID, Secret::new(KEY), algorithm)
}

fn verifier_at(now: i64) -> ServerVerifier<Credentials> {
    ServerVerifier::new(credentials(Algorithm::Sha256))
        .clock(Arc::new(FixedClock::from_seconds(now)))
}

fn h1(header: &str) -> HawkRequest<'_> {
    HawkRequest::new("GET", "example.com", 8000, "/resource/1?b=1&a=2").authorization(header)
}

fn h3<'a>(header: &'a str, body: &'a [u8]) -> HawkRequest<'a> {
    HawkRequest::new("POST", "example.com", 8000, "/resource/1?b=1&a=2")
        .authorization(header)
        .payload("text/plain", body)
}

fn refused(
    result: Result<tixpay_ticket_hawk::hawk::Authenticated, tixpay_ticket_hawk::hawk::Refusal>,
) -> tixpay_ticket_hawk::hawk::Refusal {
    match result {
        Ok(who) => panic!("accepted: {who:?}"),
        Err(refusal) => refusal,
    }
}

#[test]
fn the_published_vectors_are_accepted() {
    let who = verifier_at(TS).verify(&h1(H1_HEADER)).unwrap();
    assert_eq!(who.credentials.id(), ID);
    assert_eq!(who.artifacts.ext.as_deref(), Some("some-app-ext-data"));
    assert_eq!(who.artifacts.nonce, "j4h3g2");
    let who = verifier_at(TS).verify(&h3(H3_HEADER, PAYLOAD)).unwrap();
    assert_eq!(
        who.artifacts.hash.as_deref(),
        Some("Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=")
    );
}

#[test]
fn headers_from_this_crates_signer_with_every_option_are_accepted() {
    let body = br#"{"orderid":"1","refundallticket":"1"}"#;
    let mut checked = 0;
    for algorithm in [Algorithm::Sha256, Algorithm::Sha1] {
        let creds = credentials(algorithm);
        for ext in [None, Some("plain"), Some(r#"quote " and back\slash"#)] {
            for app in [None, Some(("app-1", None)), Some(("app-1", Some("dlg-2")))] {
                for payload in [false, true] {
                    let nonce = format!("n{checked}");
                    let mut signed = Artifacts::new(
                        "POST",
                        "Tickets.Example",
                        8443,
                        "/api/Order/RefundTicket?x=1",
                        TS,
                        nonce,
                    );
                    if let Some(ext) = ext {
                        signed = signed.ext(ext);
                    }
                    if let Some((app, dlg)) = app {
                        signed = signed.app(app, dlg.map(str::to_owned));
                    }
                    if payload {
                        signed = signed
                            .hash(creds.payload_hash("application/json; charset=utf-8", body));
                    }
                    let header = creds.header(&signed).unwrap();
                    let verifier = ServerVerifier::new(creds.clone())
                        .clock(Arc::new(FixedClock::from_seconds(TS)))
                        .require_payload_hash(payload);
                    let request = HawkRequest::new(
                        "POST",
                        "tickets.example",
                        8443,
                        "/api/Order/RefundTicket?x=1",
                    )
                    .authorization(&header)
                    .payload("application/json; charset=utf-8", body);
                    let who = verifier
                        .verify(&request)
                        .unwrap_or_else(|r| panic!("{r} for {header}"));
                    assert_eq!(who.artifacts.ext.as_deref(), ext);
                    assert_eq!(who.artifacts.app.as_deref(), app.map(|(a, _)| a));
                    assert_eq!(who.artifacts.dlg.as_deref(), app.and_then(|(_, d)| d));
                    assert_eq!(who.credentials.algorithm(), algorithm);
                    // The reply it signs verifies with the client's check.
                    let reply = who.server_authorization(Some(("application/json", b"{}")));
                    ServerAuthorization::parse(&reply)
                        .unwrap()
                        .verify(&creds, &signed, Some(("application/json", b"{}")))
                        .unwrap();
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 2 * 3 * 3 * 2);
}

#[test]
fn a_replayed_nonce_is_refused_with_invalid_nonce() {
    let verifier = verifier_at(TS);
    verifier.verify(&h1(H1_HEADER)).unwrap();
    let refusal = refused(verifier.verify(&h1(H1_HEADER)));
    assert_eq!(refusal.reason, RefusalReason::ReplayedNonce);
    assert_eq!(refusal.status, 401);
    assert_eq!(
        refusal.www_authenticate.as_deref(),
        Some(r#"Hawk error="Invalid nonce""#)
    );
}

#[test]
fn a_stale_timestamp_is_answered_with_the_servers_time_and_its_tsm() {
    let now = TS + 66;
    let refusal = refused(verifier_at(now).verify(&h1(H1_HEADER)));
    assert_eq!(
        refusal.reason,
        RefusalReason::StaleTimestamp { server_ts: now }
    );
    assert_eq!(refusal.status, 401);
    // tsm = base64(HMAC-SHA256(key, "hawk.1.ts\n1353832300\n")), computed with Python's hmac.
    assert_eq!(
        refusal.www_authenticate.as_deref(),
        Some(
            r#"Hawk ts="1353832300", tsm="kwRHyOCW8GZugBPnc8klafbnhdTHrTlXe2exn659BAA=", error="Stale timestamp""#
        )
    );
    let www = WwwAuthenticate::parse(refusal.www_authenticate.as_deref().unwrap()).unwrap();
    assert!(www.verify_tsm(&credentials(Algorithm::Sha256)).unwrap());
}

#[test]
fn tsm_has_known_answers() {
    // Computed outside the crate: Python `hmac.new(key, b"hawk.1.ts\n{ts}\n", sha256/sha1)`.
    assert_eq!(
        credentials(Algorithm::Sha256).timestamp_mac(TS),
        "2mw1eh/qXzl0wJZ/E6XvBhRMEJN7L3j8AyMA8eItEb0="
    );
    assert_eq!(
        credentials(Algorithm::Sha1).timestamp_mac(TS + 66),
        "laKLad54xm0LPXJ0BatbeFCU8JM="
    );
}

#[test]
fn the_window_is_inclusive_at_both_edges() {
    for (now, accepted) in [
        (TS - 60, true),
        (TS + 60, true),
        (TS - 61, false),
        (TS + 61, false),
    ] {
        let result = verifier_at(now).verify(&h1(H1_HEADER));
        assert_eq!(result.is_ok(), accepted, "server time {now}");
    }
    let wide = verifier_at(TS + 300).skew(Duration::from_secs(300));
    assert!(wide.verify(&h1(H1_HEADER)).is_ok());
}

#[test]
fn a_wrong_payload_hash_is_refused_with_bad_payload_hash() {
    let refusal = refused(verifier_at(TS).verify(&h3(H3_HEADER, b"Thank you for flying Hawk!")));
    assert_eq!(refusal.reason, RefusalReason::BadPayloadHash);
    assert_eq!(
        refusal.www_authenticate.as_deref(),
        Some(r#"Hawk error="Bad payload hash""#)
    );
    // Without the body, the hash cannot be checked; with require_payload_hash and no hash,
    // the request is refused.
    assert!(verifier_at(TS).verify(&h1(H1_HEADER)).is_ok());
    let strict = verifier_at(TS).require_payload_hash(true);
    let refusal = refused(strict.verify(&h1(H1_HEADER)));
    assert_eq!(refusal.reason, RefusalReason::MissingPayloadHash);
    assert_eq!(
        refusal.www_authenticate.as_deref(),
        Some(r#"Hawk error="Missing required payload hash""#)
    );
}

#[test]
fn a_wrong_mac_is_refused_with_bad_mac() {
    for request in [
        // Another resource, port, method or host than the one signed.
        HawkRequest::new("GET", "example.com", 8000, "/resource/1?a=2&b=1")
            .authorization(H1_HEADER),
        HawkRequest::new("GET", "example.com", 8001, "/resource/1?b=1&a=2")
            .authorization(H1_HEADER),
        HawkRequest::new("POST", "example.com", 8000, "/resource/1?b=1&a=2")
            .authorization(H1_HEADER),
        HawkRequest::new("GET", "example.net", 8000, "/resource/1?b=1&a=2")
            .authorization(H1_HEADER),
    ] {
        let refusal = refused(verifier_at(TS).verify(&request));
        assert_eq!(refusal.reason, RefusalReason::BadMac);
        assert_eq!(refusal.status, 401);
        assert_eq!(
            refusal.www_authenticate.as_deref(),
            Some(r#"Hawk error="Bad mac""#)
        );
    }
    let tampered = H1_HEADER.replace("some-app-ext-data", "other-app-ext-data");
    assert_eq!(
        refused(verifier_at(TS).verify(&h1(&tampered))).reason,
        RefusalReason::BadMac
    );
    // A wrong key.
    let other = ServerVerifier::new(Credentials::new(
        ID,
        Secret::new("another key"),
        Algorithm::Sha256,
    ))
    .clock(Arc::new(FixedClock::from_seconds(TS)));
    assert_eq!(
        refused(other.verify(&h1(H1_HEADER))).reason,
        RefusalReason::BadMac
    );
}

#[test]
fn a_failed_check_records_no_nonce() {
    let verifier = verifier_at(TS);
    let tampered = H1_HEADER.replace("some-app-ext-data", "other");
    refused(verifier.verify(&h1(&tampered)));
    refused(verifier_at(TS + 600).verify(&h1(H1_HEADER)));
    // The genuine request still passes once.
    verifier.verify(&h1(H1_HEADER)).unwrap();
}

#[test]
fn headers_that_are_not_hawk_requests_are_refused() {
    let signed_ts = H1_HEADER.replace("ts=\"1353832234\"", "ts=\"+1353832234\"");
    let unknown_attribute = format!("{H1_HEADER}, tsm=\"x\"");
    let someone_else = H1_HEADER.replace(ID, "someone-else");
    let cases = [
        (None, 401, Some("Hawk")),
        (Some("Basic dXNlcjpwYXNz"), 400, None),
        (
            Some(r#"Hawk id="dh37fgj492je", ts="1353832234", nonce="j4h3g2""#),
            400,
            None,
        ),
        (Some(signed_ts.as_str()), 400, None),
        (Some(unknown_attribute.as_str()), 400, None),
        (
            Some(someone_else.as_str()),
            401,
            Some(r#"Hawk error="Unknown credentials""#),
        ),
    ];
    for (header, status, www) in cases {
        let mut request = HawkRequest::new("GET", "example.com", 8000, "/resource/1?b=1&a=2");
        if let Some(header) = header {
            request = request.authorization(header);
        }
        let refusal = refused(verifier_at(TS).verify(&request));
        assert_eq!(
            (refusal.status, refusal.www_authenticate.as_deref()),
            (status, www),
            "{header:?}"
        );
    }
}

#[test]
fn credentials_are_looked_up_by_id() {
    let agent = Credentials::new("agent01", Secret::new("k1"), Algorithm::Sha1);
    let signed = Artifacts::new("GET", "example.com", 8000, "/", TS, "n");
    let header = agent.header(&signed).unwrap();
    let by_agent = HawkRequest::new("GET", "example.com", 8000, "/").authorization(&header);
    let both = [agent.clone(), credentials(Algorithm::Sha256)];
    let map: std::collections::HashMap<String, Credentials> = both
        .iter()
        .map(|c| (c.id().to_owned(), c.clone()))
        .collect();
    let tree: std::collections::BTreeMap<String, Credentials> = both
        .iter()
        .map(|c| (c.id().to_owned(), c.clone()))
        .collect();
    let clock = || Arc::new(FixedClock::from_seconds(TS));
    // Each kind of lookup finds both ids (fresh verifiers: each request is new to each).
    let ids = |verify: &dyn Fn(&HawkRequest<'_>) -> Option<String>| {
        (verify(&h1(H1_HEADER)), verify(&by_agent))
    };
    let expected = (Some(ID.to_owned()), Some("agent01".to_owned()));
    let id_of = |r: Result<
        tixpay_ticket_hawk::hawk::Authenticated,
        tixpay_ticket_hawk::hawk::Refusal,
    >| { r.ok().map(|who| who.credentials.id().to_owned()) };
    assert_eq!(
        ids(&|r| id_of(ServerVerifier::new(both.to_vec()).clock(clock()).verify(r))),
        expected,
        "Vec"
    );
    assert_eq!(
        ids(&|r| id_of(ServerVerifier::new(map.clone()).clock(clock()).verify(r))),
        expected,
        "HashMap"
    );
    assert_eq!(
        ids(&|r| id_of(ServerVerifier::new(tree.clone()).clock(clock()).verify(r))),
        expected,
        "BTreeMap"
    );
    assert_eq!(
        ids(&|r| id_of(
            ServerVerifier::new(Arc::new(map.clone()))
                .clock(clock())
                .verify(r)
        )),
        expected,
        "Arc"
    );
    // One credentials value answers for its own id only.
    let single = ServerVerifier::new(agent).clock(clock());
    assert_eq!(
        refused(single.verify(&h1(H1_HEADER))).reason,
        RefusalReason::UnknownCredentials
    );
}

#[test]
fn a_refusal_says_its_status_and_reason() {
    let refusal = refused(verifier_at(TS + 600).verify(&h1(H1_HEADER)));
    let shown = refusal.to_string();
    assert!(shown.contains("401"), "{shown}");
    assert!(shown.contains("StaleTimestamp"), "{shown}");
    let verifier = format!("{:?}", verifier_at(TS));
    assert!(verifier.contains("ServerVerifier"), "{verifier}");
    assert!(!verifier.contains(KEY), "{verifier}");
}

#[test]
fn the_nonce_store_forgets_what_left_the_window_and_refuses_when_full() {
    let store = Arc::new(MemoryNonceStore::new(2));
    assert!(store.is_empty());
    let verifier = verifier_at(TS).nonce_store(Arc::clone(&store));
    verifier.verify(&h1(H1_HEADER)).unwrap();
    assert_eq!(store.len(), 1);
    assert!(!store.is_empty());
    let creds = credentials(Algorithm::Sha256);
    let at = |ts: i64, nonce: &str| {
        creds
            .header(&Artifacts::new("GET", "example.com", 8000, "/", ts, nonce))
            .unwrap()
    };
    let second = at(TS, "second");
    verifier
        .verify(&HawkRequest::new("GET", "example.com", 8000, "/").authorization(&second))
        .unwrap();
    let third = at(TS, "third");
    let refusal = refused(
        verifier.verify(&HawkRequest::new("GET", "example.com", 8000, "/").authorization(&third)),
    );
    assert_eq!(
        (refusal.reason, refusal.status),
        (RefusalReason::NonceStoreFull, 503)
    );
    // 61 s later the first two can no longer pass the window and are forgotten.
    let later = ServerVerifier::new(creds.clone())
        .clock(Arc::new(FixedClock::from_seconds(TS + 61)))
        .nonce_store(Arc::clone(&store));
    let fourth = at(TS + 61, "fourth");
    later
        .verify(&HawkRequest::new("GET", "example.com", 8000, "/").authorization(&fourth))
        .unwrap();
    assert_eq!(store.len(), 1);
    // The store keys on id, nonce and timestamp together.
    let keyed = MemoryNonceStore::default();
    assert_eq!(
        keyed.check_and_record(ID, "n", TS, TS - 60),
        NonceCheck::Fresh
    );
    assert_eq!(
        keyed.check_and_record(ID, "n", TS, TS - 60),
        NonceCheck::Replayed
    );
    assert_eq!(
        keyed.check_and_record("other", "n", TS, TS - 60),
        NonceCheck::Fresh
    );
    assert_eq!(
        keyed.check_and_record(ID, "n", TS + 1, TS - 60),
        NonceCheck::Fresh
    );
    assert_eq!(
        keyed.check_and_record(ID, "m", TS, TS - 60),
        NonceCheck::Fresh
    );
    assert_eq!(keyed.len(), 4);
}

#[test]
fn parse_header_takes_only_the_hawk_scheme_and_at_most_4096_bytes() {
    assert!(parse_header(r#"Hawk id="a""#).is_ok());
    assert!(parse_header(r#"hawk id="a""#).is_ok());
    assert!(parse_header(r#"Hawq id="a""#).is_err());
    assert!(parse_header(r#"Bear id="a""#).is_err());
    let at_limit = format!("Hawk id=\"{}\"", "a".repeat(4096 - 10));
    assert_eq!(at_limit.len(), 4096);
    assert!(parse_header(&at_limit).is_ok());
    let over = format!("Hawk id=\"{}\"", "a".repeat(4096 - 9));
    assert!(parse_header(&over).is_err());
}
