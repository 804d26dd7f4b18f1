//! Secrets never appear in `Debug` output.
#![allow(clippy::unwrap_used)]

use tixpay_core::Secret;
use tixpay_leshua::Config;
use tixpay_leshua::notify::NotificationParser;

#[test]
fn no_secret_in_debug_or_display() {
    let config = Config::new(
        "0000000018",
        Secret::new("TRADE-KEY-7f3a"),
        Secret::new("NOTIFY-KEY-2b9c"),
    );
    let client = tixpay_leshua::Client::new(config.clone()).unwrap();
    let parser = NotificationParser::new(&config);
    for shown in [
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{parser:?}"),
        format!("{config:#?}"),
    ] {
        assert!(
            !shown.contains("TRADE-KEY-7f3a") && !shown.contains("NOTIFY-KEY-2b9c"),
            "{shown}"
        );
    }
}
