//! tixpay-wechat-payscore's cost against the raw primitives, in the same run.
//!
//! - `payscore_call/raw`: raw reqwest with an RSA-SHA256 signature made with aws-lc-rs and
//!   the reply's signature verified with aws-lc-rs.
//! - `payscore_call/tixpay`: `Client::query_service_order` (signing, verification, decoding).
//! - `payscore_callback/raw`: RSA verify + AES-256-GCM open with aws-lc-rs.
//! - `payscore_callback/tixpay`: `notify::NotificationParser::parse`.
//!
//! Run with `cargo bench --bench wechat_payscore --features wechat-payscore`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::{aead, rand, signature};
use criterion::{Criterion, criterion_group, criterion_main};
use tixpay::core::crypto::{RsaPrivateKey, base64};
use tixpay::core::{FixedClock, HttpClient, Secret};
use tixpay::wechat_payscore::auth::{request_message, response_message, sign_response};
use tixpay::wechat_payscore::{Client, Config, OrderRef};

mod support;

const MERCHANT_KEY: &str = include_str!("../crates/core/tests/fixtures/w1_private_key.pem");
const PLATFORM_KEY: &str = include_str!("../crates/wechat-payscore/sandbox-keys/platform_a.key");
const NOW: i64 = 1_700_000_000;
const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const ORDER: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1234567890","out_order_no":"RENT-1","service_id":"500001","service_introduction":"租借","state":"DOING","state_description":"USER_CONFIRM","risk_fund":{"name":"DEPOSIT","amount":20000},"notify_url":"https://r.example/n","order_id":"15646546545165651651"}"#;

fn der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::decode(body).unwrap()
}

fn bench(c: &mut Criterion) {
    let platform = RsaPrivateKey::from_pkcs8_pem(PLATFORM_KEY).unwrap();
    let sig = sign_response(&platform, NOW, "N1", ORDER.as_bytes()).unwrap();
    // The loopback server's reply is fixed: headers and body signed once.
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nwechatpay-timestamp: {NOW}\r\nwechatpay-nonce: N1\r\nwechatpay-signature: {sig}\r\nwechatpay-serial: PUB_KEY_ID_BENCH\r\ncontent-length: {}\r\n\r\n{ORDER}",
        ORDER.len()
    );
    let reply: &'static str = Box::leak(reply.into_boxed_str());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = support::start_raw_server(&runtime, reply);
    let base = format!("http://{addr}");

    let config = Config::new(
        "1234567890",
        MERCHANT_KEY,
        "0123456789ABC",
        Secret::new(APIV3),
    )
    .unwrap()
    .wechatpay_public_key(
        "PUB_KEY_ID_BENCH",
        &platform.public_key().unwrap().to_spki_pem(),
    )
    .unwrap()
    .base_url(base.clone())
    .clock(Arc::new(FixedClock::from_seconds(NOW)));
    let client = Client::with_http_client(config, HttpClient::new().unwrap());
    let order = OrderRef::OutOrderNo("RENT-1".into());

    let raw = reqwest::Client::builder().no_proxy().build().unwrap();
    let merchant = signature::RsaKeyPair::from_pkcs8(&der(MERCHANT_KEY)).unwrap();
    let platform_pair = signature::RsaKeyPair::from_pkcs8(&der(PLATFORM_KEY)).unwrap();
    let platform_public = {
        use signature::KeyPair as _;
        signature::ParsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            platform_pair.public_key().as_ref(),
        )
        .unwrap()
    };
    let rng = rand::SystemRandom::new();
    let path =
        "/v3/payscore/serviceorder?service_id=500001&appid=wxd678efh567hg6787&out_order_no=RENT-1";
    let url = format!("{base}{path}");

    let mut group = c.benchmark_group("payscore_call");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("raw", |b| {
        b.to_async(&runtime).iter(|| async {
            let message = request_message("GET", path, NOW, "A1B2C3D4E5F6G7", b"");
            let mut s = vec![0u8; merchant.public_modulus_len()];
            merchant.sign(&signature::RSA_PKCS1_SHA256, &rng, &message, &mut s).unwrap();
            let r = raw
                .get(url.as_str())
                .header("authorization", format!("WECHATPAY2-SHA256-RSA2048 mchid=\"1234567890\",nonce_str=\"A1B2C3D4E5F6G7\",timestamp=\"{NOW}\",serial_no=\"0123456789ABC\",signature=\"{}\"", base64::encode(&s)))
                .send()
                .await
                .unwrap();
            let ts = r.headers()["wechatpay-timestamp"].to_str().unwrap().to_owned();
            let sig = base64::decode(r.headers()["wechatpay-signature"].to_str().unwrap()).unwrap();
            let body = r.bytes().await.unwrap();
            platform_public.verify_sig(&response_message(&ts, "N1", &body), &sig).unwrap();
            black_box(body)
        });
    });
    group.bench_function("tixpay", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(
                client
                    .query_service_order(&order, "500001", "wxd678efh567hg6787")
                    .await
                    .unwrap(),
            )
        });
    });
    group.finish();

    // A USER_PAID callback.
    let sealing = tixpay::core::crypto::AesGcmKey::new(APIV3.as_bytes()).unwrap();
    let ciphertext = base64::encode(
        sealing
            .seal(b"123456789012", b"payscore", ORDER.as_bytes())
            .unwrap(),
    );
    let body = format!(
        r#"{{"id":"EV-1","create_time":"2023-11-15T06:13:20+08:00","event_type":"PAYSCORE.USER_PAID","resource_type":"encrypt-resource","summary":"支付成功","resource":{{"original_type":"payscore","algorithm":"AEAD_AES_256_GCM","ciphertext":"{ciphertext}","associated_data":"payscore","nonce":"123456789012"}}}}"#
    );
    let cb_sig = sign_response(&platform, NOW, "N2", body.as_bytes()).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("wechatpay-timestamp", NOW.to_string().parse().unwrap());
    headers.insert("wechatpay-nonce", "N2".parse().unwrap());
    headers.insert("wechatpay-signature", cb_sig.parse().unwrap());
    headers.insert("wechatpay-serial", "PUB_KEY_ID_BENCH".parse().unwrap());
    let raw_aes = aead::LessSafeKey::new(
        aead::UnboundKey::new(&aead::AES_256_GCM, APIV3.as_bytes()).unwrap(),
    );
    let cb_sig_bytes = base64::decode(&cb_sig).unwrap();
    let ct_bytes = base64::decode(&ciphertext).unwrap();

    let mut group = c.benchmark_group("payscore_callback");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("raw", |b| {
        b.iter(|| {
            platform_public
                .verify_sig(
                    &response_message("1700000000", "N2", body.as_bytes()),
                    &cb_sig_bytes,
                )
                .unwrap();
            let mut buf = ct_bytes.clone();
            let nonce = aead::Nonce::try_assume_unique_for_key(b"123456789012").unwrap();
            let plain = raw_aes
                .open_in_place(nonce, aead::Aad::from(b"payscore"), &mut buf)
                .unwrap()
                .len();
            black_box(plain)
        });
    });
    let parser = tixpay::wechat_payscore::notify::NotificationParser::new(&client);
    group.bench_function("tixpay", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(parser.parse(&headers, body.as_bytes()).await.unwrap()) });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
