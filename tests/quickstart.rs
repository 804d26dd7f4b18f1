//! Runs `examples/quickstart.rs`, the same code `cargo run --example quickstart` runs, and
//! checks what it did, so that the README's first command keeps working.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

use quickstart::webhooks::{Counts, Provider};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_tells_the_whole_story() {
    let mut story = quickstart::Story::default();
    let summary = match quickstart::run(&mut story).await {
        Ok(summary) => summary,
        Err(failure) => panic!("quickstart failed at {failure}\n{}", story.lines.join("\n")),
    };
    let text = story.lines.join("\n");

    // Every step of the story, in order.
    let steps = [
        "1. A customer buys 3 tickets",
        "Lianhe getTeam",
        "LeShua get_tdcode",
        "LeShua query_status   QS-1001 is paid",
        "LeShua payment notification verified and stored: ¥300.00 paid",
        "Lianhe newOrder       3 tickets",
        "2. One ticket is redeemed at the gate",
        "snNotify verified, confirmed by queryOrder and stored: 1 of 3 tickets used",
        "with a replayed signature: queryOrder disagrees, 503 refused",
        "3. The customer cancels the other two",
        "3 tickets: refused",
        "refundable 2",
        "2 tickets: accepted as QS1001R1",
        "reNotify: 503 refused, then 200 accepted",
        "delivery 2 has the same key: acknowledged, not processed again",
        "confirmed: status 6, 1 used, 2 refunded",
        "¥200.00 of ¥300.00 back to the customer",
        "¥200.00 refunded, status 11",
        "4. A theatre seat at the 游宝星 ticket system",
        "RefundTicket refused as stale: our clock offset +0 s → +",
        "RefundTicket          seat TK00000001: errcode 0",
        "Query/Tickets         seat TK00000001 Refunded, seat TK00000002 Valid",
        "5. A deposit-free e-bike rental with WeChat Pay PayScore",
        "¥30.00 − ¥5.00 discount = ¥25.00",
        "USER_PAID verified (RSA-SHA256) and decrypted (AES-256-GCM): paid ¥25.00",
        "RENT-3001: DONE, collection USER_PAID",
        "Summary",
    ];
    let mut from = 0;
    for step in steps {
        let Some(at) = text[from..].find(step) else {
            panic!("missing or out of order: {step:?}\n{text}");
        };
        from += at + step.len();
    }

    // The tables.
    let orders: Vec<_> = summary
        .orders
        .iter()
        .map(|r| (r.provider, r.ours.as_str(), r.state.as_str()))
        .collect();
    assert_eq!(
        orders,
        [
            ("LeShua", "QS-1001", "paid"),
            ("Lianhe", "QS-1001", "1 used, 2 refunded"),
            ("ticket system", "THEATRE-2001", "1 refunded"),
            ("PayScore", "RENT-3001", "DONE, USER_PAID"),
        ]
    );
    let refunds: Vec<_> = summary
        .refunds
        .iter()
        .map(|r| (r.provider, r.what.as_str()))
        .collect();
    assert_eq!(
        refunds,
        [
            ("Lianhe", "2 tickets"),
            ("LeShua", "¥200.00"),
            ("ticket system", "1 seat"),
        ]
    );
    let counts = |deliveries, processed, duplicates, rejected| Counts {
        deliveries,
        processed,
        duplicates,
        rejected,
        failed: 0,
    };
    assert_eq!(
        summary.notifications,
        [
            // snNotify, the forged snNotify (refused), then reNotify twice: its first answer
            // was lost, the repeat de-duplicated.
            (Provider::Lianhe, counts(4, 2, 1, 1)),
            // The payment and the refund.
            (Provider::Leshua, counts(2, 2, 0, 0)),
            // USER_CONFIRM and USER_PAID.
            (Provider::PayScore, counts(2, 2, 0, 0)),
        ]
    );
}
