//! Secrets never appear in `Debug` output: not the APIv3 or APIv2 key, not the merchant's
//! private key.
#![allow(clippy::unwrap_used)]

use tixpay_core::Secret;
use tixpay_wechat_payscore::notify::NotificationParser;
use tixpay_wechat_payscore::sandbox::SANDBOX_APIV3_KEY;
use tixpay_wechat_payscore::{Client, Config};

const MERCHANT_KEY: &str = include_str!("../../core/tests/fixtures/w1_private_key.pem");
const PLATFORM_KEY: &str = include_str!("../sandbox-keys/platform_a.key");
const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const APIV2: &str = "APIV2-KEY-3e1d";

/// Text that any rendering of the private keys would contain.
fn key_material(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|line| !line.starts_with("-----") && line.len() > 20)
        .take(3)
        .map(|line| line.get(..20).unwrap().to_owned())
        .collect()
}

#[test]
fn no_secret_in_config_client_or_parser_debug() {
    let public = tixpay_core::crypto::RsaPrivateKey::from_pkcs8_pem(PLATFORM_KEY)
        .unwrap()
        .public_key()
        .unwrap()
        .to_spki_pem();
    let config = Config::new(
        "1234567890",
        MERCHANT_KEY,
        "0123456789ABC",
        Secret::new(APIV3),
    )
    .unwrap()
    .wechatpay_public_key("PUB_KEY_ID_0114232134912410000000000000TEST", &public)
    .unwrap()
    .apiv2_key(Secret::new(APIV2));
    let client = Client::new(config.clone()).unwrap();
    let parser = NotificationParser::new(&client);
    let sandbox = Config::sandbox("http://127.0.0.1:1");
    let mut forbidden = key_material(MERCHANT_KEY);
    forbidden.extend([
        APIV3.to_owned(),
        APIV2.to_owned(),
        SANDBOX_APIV3_KEY.to_owned(),
    ]);
    for shown in [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{parser:?}"),
        format!("{:#?}", client.partner("wx8888888888888888")),
        format!("{sandbox:?}"),
    ] {
        assert!(
            shown.contains("1234567890") || shown.contains("1230000109"),
            "{shown}"
        );
        for secret in &forbidden {
            assert!(!shown.contains(secret.as_str()), "{secret} in {shown}");
        }
    }
}
