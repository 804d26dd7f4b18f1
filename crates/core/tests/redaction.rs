//! Secrets never appear in `Debug`, `Display`, logs or errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};

use tixpay_core::crypto::{AesGcmKey, HmacAlgorithm, HmacKey, RsaPrivateKey};
use tixpay_core::test_util::{MockReply, MockTransport};
use tixpay_core::{Authenticate, HttpClient, Operation, Secret};

const SECRET: &str = "SUPER-SECRET-VALUE-0123456789abcd";

fn assert_hidden(shown: &str) {
    assert!(!shown.contains(SECRET), "secret leaked: {shown}");
    assert!(!shown.contains("MIIEvg"), "key material leaked: {shown}");
}

#[test]
fn every_secret_holding_type_is_redacted() {
    let secret = Secret::new(SECRET);
    let hmac = HmacKey::new(HmacAlgorithm::Sha256, SECRET.as_bytes());
    let aes = AesGcmKey::new(&SECRET.as_bytes()[..32]).unwrap();
    let rsa = RsaPrivateKey::from_pkcs8_pem(include_str!("fixtures/w1_private_key.pem")).unwrap();
    for shown in [
        format!("{secret:?}"),
        format!("{secret}"),
        format!("{secret:#?}"),
        format!("{hmac:?}"),
        format!("{aes:?}"),
        format!("{rsa:?}"),
        format!("{:?}", (Some(&secret), [&secret])),
    ] {
        assert_hidden(&shown);
        assert!(shown.contains("[redacted]"), "{shown}");
    }
    assert_hidden(&format!("{:?}", &SECRET.as_bytes()[..32]).replace(", ", ""));
}

/// A writer that collects everything the subscriber prints.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct SignWithSecret(Secret);

impl Authenticate for SignWithSecret {
    type Signed = ();
    type Output = http::Response<bytes::Bytes>;

    fn sign(
        &self,
        request: &mut http::Request<bytes::Bytes>,
        _attempt: u32,
    ) -> Result<(), tixpay_core::Error> {
        request
            .headers_mut()
            .insert("authorization", self.0.expose().parse().unwrap());
        Ok(())
    }

    async fn verify(
        &self,
        reply: tixpay_core::Reply<'_, ()>,
    ) -> tixpay_core::Verdict<Self::Output> {
        tixpay_core::NoAuth.verify(reply).await
    }
}

#[test]
fn logs_carry_no_body_and_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mock = MockTransport::new();
            mock.push(MockReply::response(503, &[], "reply-body-with-card-6222"));
            mock.push(MockReply::response(200, &[], "reply-body-with-card-6222"));
            let client = HttpClient::builder()
                .transport(Arc::new(mock))
                .sleep(Arc::new(tixpay_core::retry::InstantSleep::default()))
                .build()
                .unwrap();
            let op = Operation::get("demo", "query", "http://x.invalid/q")
                .body("request-body-with-id-card-110101");
            let err_or_ok = client
                .execute(&op, &SignWithSecret(Secret::new(SECRET)))
                .await;
            assert!(err_or_ok.is_ok());
        });
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("retrying"), "{text}");
    assert!(text.contains("provider=\"demo\""), "{text}");
    assert!(text.contains("operation=\"query\""), "{text}");
    assert_hidden(&text);
    assert!(!text.contains("request-body"), "{text}");
    assert!(!text.contains("reply-body"), "{text}");
}
