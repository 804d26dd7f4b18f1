//! tixpay-leshua's cost per call against raw reqwest plus a raw MD5, in the same run.
//!
//! - `leshua_call/raw_reqwest_md5`: the same form POST, signed by hand (sorted string and
//!   MD5 with md-5 directly), reading the reply bytes.
//! - `leshua_call/tixpay`: `Client::query_order`: validation, signing, the retry
//!   machinery, XML parsing and reply verification.
//! - `leshua_sign/*`: signing one request: by hand versus `auth::request_sign`.
//!
//! Run with `cargo bench --bench leshua --features leshua`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use md5::Digest as _;
use tixpay::core::{HttpClient, Secret};
use tixpay::leshua::{Client, Config, OrderRef};

mod support;

const KEY: &str = "TEST_TRADE_KEY_NOT_REAL";

fn hand_signed_form(nonce: &str) -> String {
    let mut fields = [
        ("service", "query_status"),
        ("merchant_id", "0000000018"),
        ("third_order_id", "T20240101001"),
        ("nonce_str", nonce),
    ];
    fields.sort_by(|a, b| a.0.cmp(b.0));
    let mut signed = String::new();
    for (k, v) in fields {
        signed.push_str(k);
        signed.push('=');
        signed.push_str(v);
        signed.push('&');
    }
    signed.push_str("key=");
    signed.push_str(KEY);
    let digest = md5::Md5::digest(signed.as_bytes());
    let sign: String = digest.iter().map(|b| format!("{b:02X}")).collect();
    format!(
        "service=query_status&merchant_id=0000000018&third_order_id=T20240101001&nonce_str={nonce}&sign={sign}"
    )
}

fn bench(c: &mut Criterion) {
    // A reply signed with the key, so that the client's verification passes.
    let fields = [
        ("resp_code", "0"),
        ("result_code", "0"),
        ("merchant_id", "0000000018"),
        ("third_order_id", "T20240101001"),
        ("leshua_order_id", "0003495002500081"),
        ("status", "2"),
        ("amount", "30000"),
        ("nonce_str", "rzmkrvsvprjjoqgjpzrmubbdeovjhrcu"),
    ];
    let mut sorted: Vec<_> = fields.iter().filter(|(k, _)| *k != "resp_code").collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let to_sign = sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
        + "&key="
        + KEY;
    let sign: String = md5::Md5::digest(to_sign.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let mut xml = String::from("<leshua>");
    for (k, v) in fields {
        xml.push_str(&format!("<{k}><![CDATA[{v}]]></{k}>"));
    }
    xml.push_str(&format!("<sign><![CDATA[{sign}]]></sign></leshua>"));
    let reply: &'static str = Box::leak(xml.into_boxed_str());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = support::start_server(&runtime, reply);
    let base = format!("http://{addr}");
    let url = format!("{base}/cgi-bin/lepos_pay_gateway.cgi");
    let raw = reqwest::Client::builder().no_proxy().build().unwrap();
    let client = Client::with_http_client(
        Config::new("0000000018", Secret::new(KEY), Secret::new("n")).base_url(base),
        HttpClient::new().unwrap(),
    );
    let order = OrderRef::ThirdOrderId("T20240101001".into());

    let mut group = c.benchmark_group("leshua_call");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("raw_reqwest_md5", |b| {
        b.to_async(&runtime).iter(|| async {
            let body = hand_signed_form("a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4");
            let r = raw
                .post(url.as_str())
                .header(
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                )
                .body(body)
                .send()
                .await
                .unwrap();
            black_box(r.bytes().await.unwrap())
        });
    });
    group.bench_function("tixpay", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(client.query_order(&order).await.unwrap()) });
    });
    group.finish();

    let mut group = c.benchmark_group("leshua_sign");
    group.bench_function("raw_md5", |b| {
        b.iter(|| black_box(hand_signed_form("a1b2c3d4e5f6")))
    });
    let secret = Secret::new(KEY);
    group.bench_function("tixpay", |b| {
        b.iter(|| {
            black_box(tixpay::leshua::auth::request_sign(
                &[
                    ("service", "query_status"),
                    ("merchant_id", "0000000018"),
                    ("third_order_id", "T20240101001"),
                    ("nonce_str", "a1b2c3d4e5f6"),
                ],
                &secret,
            ))
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
