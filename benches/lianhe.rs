//! tixpay-lianhe's cost per call against raw reqwest, in the same run.
//!
//! - `lianhe_call/raw_reqwest`: the same POST (pre-serialized JSON, fixed headers) with
//!   reqwest, reading the body and nothing else.
//! - `lianhe_call/raw_reqwest_signed`: as above plus the LH signature computed with
//!   aws-lc-rs directly and the reply parsed to `serde_json::Value`: what a hand-written
//!   client minimally does.
//! - `lianhe_call/tixpay`: `Client::query_order`: validation, serialization, LH signing,
//!   the retry machinery, envelope and typed decoding.
//!
//! Run with `cargo bench --bench lianhe --features lianhe`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::hmac;
use criterion::{Criterion, criterion_group, criterion_main};
use tixpay::core::{HttpClient, Secret, datetime};
use tixpay::lianhe::{Client, Config, QueryOrder};

mod support;

const REPLY: &str = r#"{"code":200,"describe":"执行成功","partnerId":3528,"body":{"orderId":"partnerorderid15354","LHOrderId":"15354","orderStatus":8,"orderQuantity":6,"useQuantity":3}}"#;
const BODY: &str =
    r#"{"partnerId":3528,"body":{"orderId":"partnerorderid15354","LHOrderId":"15354"}}"#;
const SECRET: &str = "0123456789abcdef-not-a-real-secret";

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = support::start_server(&runtime, REPLY);
    let base = format!("http://{addr}");
    let url = format!("{base}/openapi/index.php?method=queryOrder");

    let raw = reqwest::Client::builder().no_proxy().build().unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, SECRET.as_bytes());
    let client = Client::with_http_client(
        Config::new(3528, "testapi", Secret::new(SECRET)).base_url(base),
        HttpClient::new().unwrap(),
    );
    let query = QueryOrder::new("partnerorderid15354", "15354");

    let mut group = c.benchmark_group("lianhe_call");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("raw_reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            let r = raw
                .post(url.as_str())
                .header("content-type", "application/json; charset=utf-8")
                .body(BODY)
                .send()
                .await
                .unwrap();
            black_box(r.bytes().await.unwrap())
        });
    });
    group.bench_function("raw_reqwest_signed", |b| {
        b.to_async(&runtime).iter(|| async {
            let date = datetime::format_http_date(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64,
            );
            let to_sign = format!("POST /openapi/index.php?method=queryOrder\n{date}");
            let sig = tixpay::core::crypto::base64::encode(hmac::sign(&key, to_sign.as_bytes()));
            let r = raw
                .post(url.as_str())
                .header("content-type", "application/json; charset=utf-8")
                .header("partnerid", "3528")
                .header("date", date)
                .header("version", "2.1")
                .header("authorization", format!("LH testapi:{sig}"))
                .body(BODY)
                .send()
                .await
                .unwrap();
            let bytes = r.bytes().await.unwrap();
            black_box(serde_json::from_slice::<serde_json::Value>(&bytes).unwrap())
        });
    });
    group.bench_function("tixpay", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(client.query_order(&query).await.unwrap()) });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
