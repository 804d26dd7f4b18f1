//! Secrets never appear in `Debug` output.
#![allow(clippy::unwrap_used)]

use tixpay_core::Secret;
use tixpay_ticket_hawk::Config;
use tixpay_ticket_hawk::hawk::{Algorithm, Credentials};

#[test]
fn secrets_never_print() {
    let c = Credentials::from_operator(
        "agent01",
        &Secret::new("OPERATOR-KEY-9"),
        &Secret::new("pa55word"),
        Algorithm::Sha256,
    );
    let config = Config::new("https://h.example", c.clone());
    for shown in [format!("{c:?}"), format!("{config:?}")] {
        assert!(!shown.contains("OPERATOR-KEY-9"), "{shown}");
        assert!(!shown.contains("pa55word"), "{shown}");
        assert!(!shown.contains("E10ADC"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
}

#[test]
fn no_secret_in_client_debug() {
    let c = Credentials::from_operator(
        "agent01",
        &Secret::new("OPERATOR-KEY-9"),
        &Secret::new("pa55word"),
        Algorithm::Sha256,
    );
    let client = tixpay_ticket_hawk::Client::new(Config::new("https://h.example", c)).unwrap();
    let shown = format!("{client:?}");
    assert!(
        !shown.contains("OPERATOR-KEY-9") && !shown.contains("E10ADC"),
        "{shown}"
    );
}
