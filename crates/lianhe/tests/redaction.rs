//! Secrets never appear in `Debug` output.
#![allow(clippy::unwrap_used)]

use tixpay_core::Secret;
use tixpay_lianhe::Config;
use tixpay_lianhe::notify::NotificationParser;

#[test]
fn no_secret_in_debug_or_display() {
    let secret = "lianhe-client-secret-9c1f";
    let config = Config::new(3528, "testapi", Secret::new(secret));
    let client = tixpay_lianhe::Client::new(config.clone()).unwrap();
    let parser = NotificationParser::new(&config);
    let signer = tixpay_lianhe::auth::Signer::new("testapi", &Secret::new(secret));
    assert_eq!(signer.api_name(), "testapi");
    for shown in [
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{parser:?}"),
        format!("{signer:?}"),
        format!("{:#?}", (&config, &client)),
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
}
