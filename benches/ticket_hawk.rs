//! The cost of a Hawk `Authorization` header, and of checking one with the server
//! verifier, against raw HMAC-SHA256 over the same normalized string, in the same run.
//!
//! Run with `cargo bench --bench ticket_hawk --features ticket-hawk`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::hmac;
use criterion::{Criterion, criterion_group, criterion_main};
use tixpay::core::Secret;
use tixpay::ticket_hawk::hawk::{
    Algorithm, Artifacts, Credentials, HawkRequest, NonceCheck, NonceStore, ServerVerifier,
    normalized_string, payload_hash,
};

/// Accepts every nonce, so that one request can be checked again and again: what is
/// measured is the check, not a growing store.
struct EveryNonceIsNew;

impl NonceStore for EveryNonceIsNew {
    fn check_and_record(&self, _: &str, _: &str, _: i64, _: i64) -> NonceCheck {
        NonceCheck::Fresh
    }
}

fn bench(c: &mut Criterion) {
    let key = "0123456789ABCDEFE10ADC3949BA59ABBE56E057F20F883E";
    let body = br#"{"orderid":"20240101000123","refundallticket":"0","ticketids":["T1","T2"]}"#;
    let credentials = Credentials::new("agent01", Secret::new(key), Algorithm::Sha256);
    let raw_key = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
    let artifacts = Artifacts::new(
        "POST",
        "weiapi.example.cn",
        443,
        "/api/Order/RefundTicket",
        1_700_000_000,
        "k3k4j5nonce1",
    )
    .hash(payload_hash(Algorithm::Sha256, "application/json", body));
    let normalized = normalized_string("header", &artifacts);

    let mut group = c.benchmark_group("hawk_header");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("raw_hmac_sha256", |b| {
        b.iter(|| black_box(hmac::sign(&raw_key, black_box(normalized.as_bytes()))));
    });
    group.bench_function("tixpay_header", |b| {
        b.iter(|| black_box(credentials.header(black_box(&artifacts)).unwrap()));
    });
    group.bench_function("tixpay_header_with_payload_hash", |b| {
        b.iter(|| {
            let a = Artifacts::new(
                "POST",
                "weiapi.example.cn",
                443,
                "/api/Order/RefundTicket",
                1_700_000_000,
                "k3k4j5nonce1",
            )
            .hash(credentials.payload_hash("application/json", black_box(body)));
            black_box(credentials.header(&a).unwrap())
        });
    });
    group.finish();

    let header = credentials.header(&artifacts).unwrap();
    let verifier = ServerVerifier::new(credentials.clone())
        .clock(std::sync::Arc::new(tixpay::core::FixedClock::from_seconds(
            1_700_000_000,
        )))
        .nonce_store(EveryNonceIsNew);
    let request = HawkRequest::new("POST", "weiapi.example.cn", 443, "/api/Order/RefundTicket")
        .authorization(&header)
        .payload("application/json", body);
    assert!(verifier.verify(&request).is_ok());
    let mut group = c.benchmark_group("hawk_server");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("raw_hmac_sha256", |b| {
        b.iter(|| black_box(hmac::sign(&raw_key, black_box(normalized.as_bytes()))));
    });
    group.bench_function("tixpay_verify_with_payload", |b| {
        b.iter(|| black_box(verifier.verify(black_box(&request)).is_ok()));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
