//! Front-end invoke parameters: `wxpayScoreEnable` (token only, nothing signed, the token
//! url-encoded for JSAPI and the app), `wxpayScoreUse` package-only by default and the
//! signed six-field form for older service ids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use tixpay_core::Secret;
use tixpay_wechat_payscore::Config;
use tixpay_wechat_payscore::invoke::{self, InvokeParams};

const MERCHANT_KEY: &str = include_str!("../../core/tests/fixtures/w1_private_key.pem");
const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

#[test]
fn enable_service_passes_the_token_alone_in_every_channel() {
    let token = "1230000109_AbC+/=&?中 x";
    let enable = invoke::enable_service(token).unwrap();
    assert_eq!(enable.business_type, "wxpayScoreEnable");
    assert_eq!(
        enable.params,
        vec![("apply_permissions_token".to_owned(), token.to_owned())]
    );
    // Mini-program extraData: the token as is.
    assert_eq!(
        enable.to_json(),
        serde_json::json!({ "apply_permissions_token": token })
    );
    // JSAPI queryString and the app's query: url-encoded, so that `&`, `=`, `+`, `/` and
    // non-ASCII cannot split or change the value.
    let query = enable.query_string();
    assert_eq!(
        query,
        "apply_permissions_token=1230000109%5FAbC%2B%2F%3D%26%3F%E4%B8%AD%20x"
    );
    let decoded = percent_encoding::percent_decode_str(
        query.strip_prefix("apply_permissions_token=").unwrap(),
    )
    .decode_utf8()
    .unwrap();
    assert_eq!(decoded, token);
    // The app's extInfo.
    assert_eq!(InvokeParams::APP_EXT_INFO, r#"{"miniProgramType":0}"#);
    let ext: serde_json::Value = serde_json::from_str(InvokeParams::APP_EXT_INFO).unwrap();
    assert_eq!(ext["miniProgramType"], 0);
    // No signature, no key.
    assert!(enable.params.iter().all(|(k, _)| k != "sign"));
}

#[test]
fn enable_service_in_the_partner_order_scene_adds_scene() {
    let enable = invoke::enable_service_in_order_scene("T/1").unwrap();
    assert_eq!(enable.business_type, "wxpayScoreEnable");
    assert_eq!(
        enable.query_string(),
        "apply_permissions_token=T%2F1&scene=ORDER"
    );
    assert_eq!(
        enable.to_json(),
        serde_json::json!({"apply_permissions_token": "T/1", "scene": "ORDER"})
    );
}

#[test]
fn a_blank_or_runaway_token_is_refused() {
    assert!(invoke::enable_service("").is_err());
    assert!(invoke::enable_service("  ").is_err());
    assert!(invoke::enable_service(&"t".repeat(2049)).is_err());
    assert!(invoke::enable_service(&"t".repeat(2048)).is_ok());
    assert!(invoke::enable_service_in_order_scene("").is_err());
}

#[test]
fn confirm_order_defaults_to_the_package_alone() {
    let confirm = invoke::confirm_order("mch_id=1&package=a b").unwrap();
    assert_eq!(confirm.business_type, "wxpayScoreUse");
    assert_eq!(
        confirm.params,
        vec![("package".to_owned(), "mch_id=1&package=a b".to_owned())]
    );
    assert_eq!(
        confirm.query_string(),
        "package=mch%5Fid%3D1%26package%3Da%20b"
    );
    assert!(invoke::confirm_order(" ").is_err());
}

#[test]
fn the_signed_form_stays_for_older_service_ids() {
    let config = Config::new("10000100", MERCHANT_KEY, "S", Secret::new(APIV3))
        .unwrap()
        .apiv2_key(Secret::new("192006250b4c09247ec02edce69f6a2d"));
    let signed =
        invoke::confirm_order_signed(&config, "DJIOSQPYWDxsa", 1_700_000_000, "n0nce").unwrap();
    assert_eq!(signed.business_type, "wxpayScoreUse");
    let keys: Vec<&str> = signed.params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "mch_id",
            "package",
            "timestamp",
            "nonce_str",
            "sign_type",
            "sign"
        ]
    );
    // It needs the APIv2 key; the package-only form does not.
    let without = Config::new("10000100", MERCHANT_KEY, "S", Secret::new(APIV3)).unwrap();
    assert!(invoke::confirm_order_signed(&without, "P", 1, "n").is_err());
}
