//! tixpay-core's own cost, measured against the raw libraries in the same run.
//!
//! - `call/*`: one POST to a loopback HTTP/1.1 server through `HttpClient` (retry policy,
//!   tracing span, size-capped body read) versus the same request with raw reqwest.
//! - `crypto/*`: each primitive through `tixpay_core::crypto` versus aws-lc-rs (or md-5)
//!   called directly.
//!
//! Run with `cargo bench --bench core`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::{aead, digest, hmac, rand, signature};
use criterion::{Criterion, criterion_group, criterion_main};
use md5::Digest as _;

mod support;
use tixpay_core::crypto::{self, AesGcmKey, HmacAlgorithm, HmacKey, RsaPrivateKey, RsaPublicKey};
use tixpay_core::{HttpClient, Idempotency, NoAuth, Operation, ReqwestTransport};

const BODY: &str = r#"{"partnerId":1985,"body":{"orderId":"T20240101001","LHOrderId":"15354"}}"#;
const REPLY: &str = r#"{"code":10000,"describe":"执行成功","partnerId":1985,"body":{"LHOrderId":"15354","orderStatus":8}}"#;

fn bench_call(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = support::start_server(&runtime, REPLY);
    let url = format!("http://{addr}/openapi/index.php?method=queryOrder");

    let client = HttpClient::builder()
        .transport(Arc::new(ReqwestTransport::new().unwrap()))
        .build()
        .unwrap();
    let raw = reqwest::Client::builder().no_proxy().build().unwrap();

    let mut group = c.benchmark_group("call");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("raw_reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            let response = raw
                .post(url.as_str())
                .header("content-type", "application/json; charset=utf-8")
                .body(BODY)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body = response.bytes().await.unwrap();
            black_box((status, body))
        });
    });
    group.bench_function("tixpay_core", |b| {
        b.to_async(&runtime).iter(|| async {
            // Building the operation is part of every call.
            let op = Operation::post("bench", "queryOrder", url.as_str())
                .header("content-type", "application/json; charset=utf-8")
                .unwrap()
                .body(BODY)
                .idempotency(Idempotency::Safe);
            let response = client.execute(&op, &NoAuth).await.unwrap();
            black_box(response)
        });
    });
    group.finish();
}

fn bench_crypto(c: &mut Criterion) {
    let message = b"POST\n/v3/payscore/serviceorder\n1624523846\nA1B2C3D4E5F6G7\n{\"out_order_no\":\"1234323JKHDFE1243252\",\"appid\":\"wxd678efh567hg6787\"}\n";
    let key_bytes = b"0123456789abcdef-not-a-real-secret";

    let mut group = c.benchmark_group("crypto");
    group.measurement_time(Duration::from_secs(3));

    group.bench_function("hmac_sha1/raw_aws_lc", |b| {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key_bytes);
        b.iter(|| black_box(hmac::sign(&key, black_box(message))));
    });
    group.bench_function("hmac_sha1/tixpay", |b| {
        let key = HmacKey::new(HmacAlgorithm::Sha1, key_bytes);
        b.iter(|| black_box(key.sign(black_box(message))));
    });
    group.bench_function("hmac_sha256/raw_aws_lc", |b| {
        let key = hmac::Key::new(hmac::HMAC_SHA256, key_bytes);
        b.iter(|| black_box(hmac::sign(&key, black_box(message))));
    });
    group.bench_function("hmac_sha256/tixpay", |b| {
        let key = HmacKey::new(HmacAlgorithm::Sha256, key_bytes);
        b.iter(|| black_box(key.sign(black_box(message))));
    });
    group.bench_function("sha256/raw_aws_lc", |b| {
        b.iter(|| black_box(digest::digest(&digest::SHA256, black_box(message))));
    });
    group.bench_function("sha256/tixpay", |b| {
        b.iter(|| black_box(crypto::sha256(black_box(message))));
    });
    group.bench_function("md5/raw_md5", |b| {
        b.iter(|| black_box(md5::Md5::digest(black_box(message))));
    });
    group.bench_function("md5/tixpay_hex_upper", |b| {
        b.iter(|| black_box(crypto::md5_hex_upper(black_box(message))));
    });

    let pem = include_str!("../crates/core/tests/fixtures/w1_private_key.pem");
    let ours = RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
    let der = {
        use pem::parse;
        parse(pem)
    };
    let raw_pair = signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let rng = rand::SystemRandom::new();
    group.bench_function("rsa_sign/raw_aws_lc", |b| {
        let mut sig = vec![0u8; raw_pair.public_modulus_len()];
        b.iter(|| {
            raw_pair
                .sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    black_box(message),
                    &mut sig,
                )
                .unwrap();
            black_box(&sig);
        });
    });
    group.bench_function("rsa_sign/tixpay", |b| {
        b.iter(|| black_box(ours.sign_sha256(black_box(message)).unwrap()));
    });

    let sig = ours.sign_sha256(message).unwrap();
    let public: RsaPublicKey = ours.public_key().unwrap();
    let raw_public = {
        use signature::KeyPair as _;
        signature::ParsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            raw_pair.public_key().as_ref(),
        )
        .unwrap()
    };
    group.bench_function("rsa_verify/raw_aws_lc", |b| {
        b.iter(|| {
            raw_public
                .verify_sig(black_box(message), black_box(&sig))
                .unwrap()
        });
    });
    group.bench_function("rsa_verify/tixpay", |b| {
        b.iter(|| {
            public
                .verify_sha256(black_box(message), black_box(&sig))
                .unwrap()
        });
    });

    let aes_key = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
    let ours_aes = AesGcmKey::new(aes_key).unwrap();
    let ciphertext = ours_aes
        .seal(b"uluk4a9R25RW", b"transaction", &message[..])
        .unwrap();
    let raw_aes =
        aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_256_GCM, aes_key).unwrap());
    group.bench_function("aes_gcm_open/raw_aws_lc", |b| {
        b.iter(|| {
            let mut buf = ciphertext.clone();
            let nonce = aead::Nonce::try_assume_unique_for_key(b"uluk4a9R25RW").unwrap();
            let plain = raw_aes
                .open_in_place(nonce, aead::Aad::from(b"transaction"), &mut buf)
                .unwrap()
                .len();
            black_box(plain)
        });
    });
    group.bench_function("aes_gcm_open/tixpay", |b| {
        b.iter(|| {
            black_box(
                ours_aes
                    .open(b"uluk4a9R25RW", b"transaction", black_box(&ciphertext))
                    .unwrap(),
            )
        });
    });
    group.finish();
}

/// PEM to DER for the raw baseline, without going through tixpay.
mod pem {
    pub(crate) fn parse(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        tixpay_core::crypto::base64::decode(body).unwrap()
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_secs(1));
    targets = bench_call, bench_crypto
}
criterion_main!(benches);
