//! The life of a reseller's order, end to end, against all four providers' sandboxes, started
//! here on loopback ports. No credentials, no network:
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! 1. A customer buys 3 tickets: the product is read from Lianhe (`getTeam`), the money is
//!    taken through LeShua (`get_tdcode`, paid, `query_status`), and the order is placed
//!    with Lianhe (`newOrder`).
//! 2. One ticket is redeemed at the gate; Lianhe sends `snNotify` to our webhook receiver.
//! 3. The customer cancels the other two. `cancelOrder` for 3 is refused with the refundable
//!    quantity, so we ask for 2; Lianhe's audit approves and `reNotify` arrives. Our first
//!    answer is lost on purpose, Lianhe delivers again, and the receiver stores the event
//!    once. After confirming with `queryOrder`, ¥200 of the ¥300 goes back through LeShua
//!    (`unified_refund`), confirmed by LeShua's refund notification.
//! 4. A theatre seat at the 游宝星 ticket system is refunded with `RefundTicket`. That
//!    system's clock runs 10 minutes ahead, so the client resynchronises its Hawk clock.
//! 5. A deposit-free e-bike rental with WeChat Pay PayScore: create, the user confirms,
//!    complete with a discount, the user pays, and the `USER_PAID` callback is verified and
//!    decrypted.
//!
//! The receiver is `examples/webhooks`, unchanged, on an in-memory SQLite database. `tests/quickstart.rs` runs this same
//! flow, so CI keeps it working. Any failure ends the run with the typed error and a
//! non-zero exit status.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[allow(dead_code)]
#[path = "webhooks/main.rs"]
pub(crate) mod webhooks;

use std::fmt;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use tixpay::core::sandbox::DeliveryReport;
use tixpay::core::{Error, Fen};
use tixpay::leshua::sandbox::LeshuaSandbox;
use tixpay::lianhe::sandbox::LianheSandbox;
use tixpay::ticket_hawk::sandbox::{SandboxOptions as TicketOptions, TicketSandbox};
use tixpay::wechat_payscore::notify::CallbackEvent;
use tixpay::wechat_payscore::sandbox::PayScoreSandbox;
use tixpay::{leshua, lianhe, ticket_hawk, wechat_payscore as payscore};
use webhooks::store::{Database, Store};
use webhooks::{Counts, Event, LEDGER_SCHEMA, Ledger, Provider, Receiver, Running, Stats};

/// Why the story stopped.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A provider call failed; the typed error says whether money may have moved.
    Provider { step: &'static str, error: Error },
    /// A sandbox, the receiver, or a reply did not do what the story expects.
    Unexpected { step: &'static str, what: String },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Provider { step, error } => write!(
                f,
                "{step}: {error} (may have been sent: {}; outcome unknown: {})",
                error.may_have_been_sent(),
                error.is_outcome_unknown()
            ),
            Failure::Unexpected { step, what } => write!(f, "{step}: {what}"),
        }
    }
}

impl std::error::Error for Failure {}

/// Tags a provider error with the step it happened in.
fn at(step: &'static str) -> impl FnOnce(Error) -> Failure {
    move |error| Failure::Provider { step, error }
}

fn unexpected(step: &'static str, what: impl Into<String>) -> Failure {
    Failure::Unexpected {
        step,
        what: what.into(),
    }
}

/// One line of the summary's order and refund tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) provider: &'static str,
    pub(crate) ours: String,
    pub(crate) theirs: String,
    pub(crate) what: String,
    pub(crate) state: String,
}

impl Row {
    fn new(
        provider: &'static str,
        ours: impl Into<String>,
        theirs: impl Into<String>,
        what: impl Into<String>,
        state: impl Into<String>,
    ) -> Self {
        Self {
            provider,
            ours: ours.into(),
            theirs: theirs.into(),
            what: what.into(),
            state: state.into(),
        }
    }
}

/// What happened, for the closing tables (and for the test).
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) orders: Vec<Row>,
    pub(crate) refunds: Vec<Row>,
    pub(crate) notifications: Vec<(Provider, Counts)>,
}

/// The story as it is told: printed as it goes, and kept.
#[derive(Debug, Default)]
pub(crate) struct Story {
    pub(crate) lines: Vec<String>,
    echo: bool,
}

impl Story {
    pub(crate) fn printing() -> Self {
        Self {
            lines: Vec::new(),
            echo: true,
        }
    }

    fn line(&mut self, text: impl Into<String>) {
        let text = text.into();
        if self.echo {
            println!("{text}");
        }
        self.lines.push(text);
    }

    fn chapter(&mut self, title: &str) {
        self.line("");
        self.line(title);
    }

    fn step(&mut self, who: &str, what: impl fmt::Display) {
        self.line(format!("   {who:<22}{what}"));
    }
}

fn yuan(fen: Fen) -> String {
    format!("¥{}", fen.to_yuan_string())
}

fn shown(value: Option<&impl fmt::Debug>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:?}"))
}

/// Each notification's delivery attempts, as the receiver answered them.
fn deliveries(reports: &[DeliveryReport]) -> String {
    reports
        .iter()
        .map(|r| {
            r.attempts
                .iter()
                .map(|a| match (a.status, a.accepted) {
                    (Some(status), true) => format!("{status} accepted"),
                    (Some(status), false) => format!("{status} refused"),
                    (None, _) => a.error.clone().unwrap_or_else(|| "no answer".into()),
                })
                .collect::<Vec<_>>()
                .join(", then ")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut story = Story::printing();
    match run(&mut story).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("\nquickstart failed at {failure}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the whole story.
pub(crate) async fn run(story: &mut Story) -> Result<Summary, Failure> {
    let world = start(story).await?;
    let mut summary = Summary::default();
    let purchase = buy_tickets(story, &world, &mut summary).await?;
    redeem_one(story, &world, &purchase).await?;
    cancel_two(story, &world, &purchase, &mut summary).await?;
    refund_money(story, &world, &purchase, &mut summary).await?;
    refund_theatre_seat(story, &world, &mut summary).await?;
    rent_e_bike(story, &world, &mut summary).await?;
    summary.notifications = Provider::ALL
        .iter()
        .map(|p| (*p, world.inbox.counts(*p)))
        .collect();
    print_summary(story, &summary);
    Ok(summary)
}

/// The four sandboxes, a client for each, and our webhook receiver in front of them.
///
/// Fields drop in order, so the receiver stops first, then the clients, then the sandboxes.
struct World {
    server: Running,
    leshua_notify_url: String,
    /// When set, the receiver's next answer to Lianhe is lost on the way back.
    lose_next_answer: Arc<AtomicBool>,
    inbox: Inbox,
    lianhe: lianhe::Client,
    leshua: leshua::Client,
    tickets: ticket_hawk::Client,
    payscore: payscore::Client,
    lianhe_box: LianheSandbox,
    leshua_box: LeshuaSandbox,
    ticket_box: TicketSandbox,
    payscore_box: PayScoreSandbox,
}

/// The refund id of step 3, at Lianhe and at LeShua (LeShua takes letters and digits only).
const REFUND_ID: &str = "QS1001R1";

/// What buying (step 1) hands to steps 2 and 3: our order, Lianhe's id for it, and its prices.
struct Purchase {
    order_id: &'static str,
    lh_order_id: String,
    unit_price: Fen,
    total: Fen,
}

/// What our receiver saw: its counts, and the events in its database.
struct Inbox {
    stats: Arc<Stats>,
    store: Store,
}

impl Inbox {
    fn counts(&self, provider: Provider) -> Counts {
        self.stats.counts(provider)
    }

    /// The recorded events, read back from the database.
    async fn events(&self, step: &'static str) -> Result<Vec<Event>, Failure> {
        let rows = self.store.events().await.map_err(|e| {
            unexpected(
                step,
                format!("the receiver's database could not be read: {e}"),
            )
        })?;
        rows.iter()
            .map(|row| {
                Event::from_stored(row).map_err(|e| {
                    unexpected(step, format!("a recorded event could not be read: {e}"))
                })
            })
            .collect()
    }
}

/// The first event in the receiver's database that `pick` takes, or a failure naming `what`.
async fn stored<T>(
    inbox: &Inbox,
    step: &'static str,
    what: &str,
    pick: impl FnMut(Event) -> Option<T>,
) -> Result<T, Failure> {
    inbox
        .events(step)
        .await?
        .into_iter()
        .find_map(pick)
        .ok_or_else(|| unexpected(step, format!("the receiver stored no {what}")))
}

/// Starts the four sandboxes, a client for each and our webhook receiver, and says where
/// each one listens.
async fn start(story: &mut Story) -> Result<World, Failure> {
    const SETUP: &str = "starting the sandboxes";
    let sandbox = |e: Error| Failure::Provider {
        step: SETUP,
        error: e,
    };
    let lianhe_box = LianheSandbox::start().await.map_err(sandbox)?;
    let leshua_box = LeshuaSandbox::start().await.map_err(sandbox)?;
    let ticket_box = TicketSandbox::start_with(
        TicketOptions::default()
            .clock_offset_seconds(600)
            .server_authorization(true),
    )
    .await
    .map_err(sandbox)?;
    let payscore_box = PayScoreSandbox::start().await.map_err(sandbox)?;

    let lianhe = lianhe::Client::new(lianhe_box.config()).map_err(sandbox)?;
    let leshua = leshua::Client::new(leshua_box.config()).map_err(sandbox)?;
    let tickets = ticket_hawk::Client::new(ticket_box.config()).map_err(sandbox)?;
    let payscore = payscore::Client::new(payscore_box.config()).map_err(sandbox)?;

    // Our webhook receiver, exactly as in examples/webhooks. The layer around it can
    // make the next Lianhe answer go missing, as when a response is lost on the way back.
    let database = |e: webhooks::store::StoreError| unexpected(SETUP, format!("database: {e}"));
    let store = Store::open(Database::SqliteMemory, Arc::new(tixpay::core::SystemClock))
        .await
        .map_err(database)?;
    store.migrate(LEDGER_SCHEMA).await.map_err(database)?;
    let receiver = Receiver::new(store, Ledger)
        .lianhe(
            lianhe::notify::NotificationParser::new(&lianhe_box.config()),
            lianhe.clone(),
        )
        .leshua(leshua::notify::NotificationParser::new(
            &leshua_box.config(),
        ))
        .payscore(payscore.clone());
    let inbox = Inbox {
        stats: receiver.stats(),
        store: receiver.store().clone(),
    };
    let lose_next_answer = Arc::new(AtomicBool::new(false));
    let armed = Arc::clone(&lose_next_answer);
    let router =
        receiver
            .router()
            .layer(middleware::from_fn(move |request: Request, next: Next| {
                let armed = Arc::clone(&armed);
                async move {
                    let lose = request.uri().path() == webhooks::LIANHE_PATH
                        && armed.swap(false, Ordering::SeqCst);
                    let response = next.run(request).await;
                    if lose {
                        return (StatusCode::SERVICE_UNAVAILABLE, "answer lost on purpose")
                            .into_response();
                    }
                    response
                }
            }));
    let server = webhooks::serve(router, "127.0.0.1:0")
        .await
        .map_err(|e| unexpected(SETUP, format!("the webhook receiver did not start: {e}")))?;
    lianhe_box.set_notify_url(server.url(webhooks::LIANHE_PATH));
    let leshua_notify_url = server.url(webhooks::LESHUA_PATH);

    story.line("tixpay quickstart: one reseller, four providers, all simulated on this machine.");
    story.line("");
    let running = [
        ("Lianhe", "ticket distribution  ", lianhe_box.uri()),
        ("LeShua", "payment gateway      ", leshua_box.uri()),
        ("ticket system", "游宝星, Hawk, +10 min ", ticket_box.uri()),
        (
            "WeChat Pay PayScore",
            "APIv3                ",
            payscore_box.uri(),
        ),
        (
            "our webhook receiver",
            "examples/webhooks    ",
            format!("http://{}", server.addr),
        ),
    ];
    for (who, what, uri) in running {
        story.step(who, format!("{what} {uri}"));
    }

    Ok(World {
        server,
        leshua_notify_url,
        lose_next_answer,
        inbox,
        lianhe,
        leshua,
        tickets,
        payscore,
        lianhe_box,
        leshua_box,
        ticket_box,
        payscore_box,
    })
}

/// Step 1: reads product 852 from Lianhe, takes the money for 3 tickets through LeShua, and
/// places the order with Lianhe.
async fn buy_tickets(
    story: &mut Story,
    world: &World,
    summary: &mut Summary,
) -> Result<Purchase, Failure> {
    let World {
        lianhe,
        leshua,
        leshua_box,
        leshua_notify_url,
        inbox,
        ..
    } = world;
    story.chapter("1. A customer buys 3 tickets");
    const BUY: &str = "1. buying";
    let order_id = "QS-1001";
    let page = lianhe
        .get_team(&lianhe::GetTeam::by_ids(["852"]))
        .await
        .map_err(at(BUY))?;
    let product = page
        .products
        .first()
        .ok_or_else(|| unexpected(BUY, "getTeam returned no product 852"))?;
    let price = product
        .sell_price
        .ok_or_else(|| unexpected(BUY, "product 852 has no sellPrice"))?;
    // One money type from the supplier's price to the gateway's charge: no conversion.
    let unit_price = price;
    let total = Fen::new(unit_price.get() * 3);
    story.step(
        "Lianhe getTeam",
        format!(
            "product {} “{}” at {}, stock {}",
            product.deal_id,
            product.name,
            yuan(unit_price),
            product.stock.unwrap_or_default()
        ),
    );

    let pay = leshua::UnifiedOrder::new(
        leshua::PayWay::Wechat,
        order_id,
        total,
        leshua::PayMode::Native,
    )
    .notify_url(leshua_notify_url)
    .body(format!("{} ×3", product.name));
    let created = leshua.unified_order(&pay).await.map_err(at(BUY))?;
    let leshua_order_id = created.leshua_order_id.clone().unwrap_or_default();
    story.step(
        "LeShua get_tdcode",
        format!(
            "{order_id} for {}: LeShua order {leshua_order_id}, QR {}",
            yuan(total),
            created.td_code.as_deref().unwrap_or("-")
        ),
    );
    leshua_box.mark_paid(order_id).map_err(at(BUY))?;
    story.step("customer", "scans the code and pays in WeChat");
    let paid = leshua
        .query_order(&leshua::OrderRef::ThirdOrderId(order_id.into()))
        .await
        .map_err(at(BUY))?;
    if paid.status != Some(leshua::OrderStatus::Paid) {
        return Err(unexpected(
            BUY,
            format!("LeShua says {:?}, not paid", paid.status),
        ));
    }
    story.step(
        "LeShua query_status",
        format!("{order_id} is paid (status 2)"),
    );
    leshua_box.settle_notifications().await;
    for event in inbox.events(BUY).await? {
        if let Event::Leshua(leshua::notify::Notification::Payment(p)) = &event {
            story.step(
                "webhook",
                format!(
                    "LeShua payment notification verified and stored: {} paid",
                    yuan(p.amount.unwrap_or_default())
                ),
            );
        }
    }

    let visitor = lianhe::Visitor::new("张三", "13800000000");
    let new_order =
        lianhe::NewOrder::new(order_id, &product.deal_id, price, 3, visitor).for_product(product);
    let receipt = lianhe.new_order(&new_order).await.map_err(at(BUY))?;
    let lh_order_id = receipt
        .lh_order_id
        .clone()
        .ok_or_else(|| unexpected(BUY, "newOrder returned no LHOrderId"))?;
    story.step(
        "Lianhe newOrder",
        format!(
            "3 tickets: Lianhe order {lh_order_id}, status {}, voucher {}",
            receipt.order_status,
            receipt.voucher.as_deref().unwrap_or("-")
        ),
    );
    summary.orders.push(Row::new(
        "LeShua",
        order_id,
        leshua_order_id.clone(),
        yuan(total),
        "paid",
    ));
    Ok(Purchase {
        order_id,
        lh_order_id,
        unit_price,
        total,
    })
}

/// Step 2: redeems one ticket at the gate, checks that our receiver stored Lianhe's
/// `snNotify`, and that it refuses a forged one carrying a replayed signature.
async fn redeem_one(story: &mut Story, world: &World, purchase: &Purchase) -> Result<(), Failure> {
    let World {
        lianhe_box,
        inbox,
        server,
        ..
    } = world;
    let &Purchase {
        order_id,
        ref lh_order_id,
        ..
    } = purchase;
    story.chapter("2. One ticket is redeemed at the gate");
    const GATE: &str = "2. at the gate";
    let codes = lianhe_box.redeem(lh_order_id, 1).map_err(at(GATE))?;
    story.step("gate", format!("ticket {} passes", codes.join(",")));
    let reports = lianhe_box.settle_notifications().await;
    story.step(
        "Lianhe → webhook",
        format!("snNotify: {}", deliveries(&reports)),
    );
    let redeemed = stored(inbox, GATE, "snNotify", |e| match e {
        Event::Lianhe(lianhe::notify::Notification::Redeemed(r)) => Some(r),
        _ => None,
    })
    .await?;
    story.step(
        "webhook",
        format!(
            "snNotify verified, confirmed by queryOrder and stored: {} of {} tickets used",
            redeemed.used_quantity, redeemed.order_quantity
        ),
    );

    // Someone replays a captured LH header (it signs the URL and date, not the body) with a
    // body claiming all three tickets were used.
    let signer = lianhe::auth::Signer::new(
        lianhe::SANDBOX_API_NAME,
        &tixpay::core::Secret::new(lianhe::SANDBOX_CLIENT_SECRET),
    );
    let date = "Mon, 01 Jan 2024 00:00:00 GMT";
    // The forger copies our partnerId too: the receiver's parser checks it, but it is in
    // the unsigned body.
    let forged = serde_json::json!({
        "code": 10000, "describe": "执行成功", "partnerId": lianhe::SANDBOX_PARTNER_ID,
        "method": "snNotify",
        "body": {"orderId": order_id, "LHOrderId": lh_order_id, "orderStatus": 9,
                 "orderQuantity": 3, "usedQuantity": 3, "sncode": codes.join(",")}
    });
    let reply = reqwest::Client::new()
        .post(server.url(webhooks::LIANHE_PATH))
        .header("Date", date)
        .header(
            "Authorization",
            signer.authorization("POST", lianhe::auth::NOTIFY_URI, date),
        )
        .body(forged.to_string())
        .send()
        .await
        .map_err(|e| unexpected(GATE, format!("posting the forged snNotify failed: {e}")))?;
    if inbox.counts(Provider::Lianhe).rejected != 1 || reply.status().is_success() {
        return Err(unexpected(GATE, "a forged snNotify was accepted"));
    }
    story.step(
        "forger → webhook",
        format!(
            "snNotify “3 of 3 used” with a replayed signature: queryOrder disagrees, {} refused",
            reply.status().as_u16()
        ),
    );
    Ok(())
}

/// Step 3, the tickets: cancels the two unused tickets with Lianhe, survives the lost answer
/// to `reNotify` and its redelivery, and confirms with `queryOrder`.
async fn cancel_two(
    story: &mut Story,
    world: &World,
    purchase: &Purchase,
    summary: &mut Summary,
) -> Result<(), Failure> {
    let World {
        lianhe,
        lianhe_box,
        lose_next_answer,
        inbox,
        ..
    } = world;
    let &Purchase {
        order_id,
        ref lh_order_id,
        ..
    } = purchase;
    story.chapter("3. The customer cancels the other two");
    const CANCEL: &str = "3. cancelling";
    let refund_id = REFUND_ID;
    let all = lianhe::CancelOrder::new(order_id, lh_order_id, 3).refund_id(refund_id);
    let refundable = match lianhe.cancel_order(&all).await.map_err(at(CANCEL))? {
        lianhe::CancelOutcome::Refused(refused) => {
            let n = refused.refundable_quantity.unwrap_or(0);
            story.step(
                "Lianhe cancelOrder",
                format!(
                    "3 tickets: refused (code {}: “{}”), refundable {n}",
                    refused.code, refused.describe
                ),
            );
            u32::try_from(n).unwrap_or(0)
        }
        other => {
            return Err(unexpected(
                CANCEL,
                format!("cancelling 3 with 1 used should be refused, got {other:?}"),
            ));
        }
    };
    if refundable != 2 {
        return Err(unexpected(
            CANCEL,
            format!("refundable {refundable}, expected 2"),
        ));
    }
    let two = lianhe::CancelOrder::new(order_id, lh_order_id, refundable).refund_id(refund_id);
    match lianhe.cancel_order(&two).await.map_err(at(CANCEL))? {
        lianhe::CancelOutcome::Accepted(accepted) => story.step(
            "Lianhe cancelOrder",
            format!(
                "{refundable} tickets: accepted as {refund_id}, status {}; Lianhe audits it",
                accepted.order_status
            ),
        ),
        other => {
            return Err(unexpected(
                CANCEL,
                format!("expected acceptance, got {other:?}"),
            ));
        }
    }

    lose_next_answer.store(true, Ordering::SeqCst);
    lianhe_box.approve_refund(refund_id).map_err(at(CANCEL))?;
    story.step(
        "Lianhe audit",
        format!("approves {refund_id}; reNotify is sent"),
    );
    let reports = lianhe_box.settle_notifications().await;
    story.step(
        "Lianhe → webhook",
        format!("reNotify: {}", deliveries(&reports)),
    );
    let lianhe_counts = inbox.counts(Provider::Lianhe);
    let refunds: Vec<_> = inbox
        .events(CANCEL)
        .await?
        .into_iter()
        .filter_map(|e| match e {
            Event::Lianhe(lianhe::notify::Notification::Refund(r)) => Some(r),
            _ => None,
        })
        .collect();
    let [refund] = refunds.as_slice() else {
        return Err(unexpected(
            CANCEL,
            format!("reNotify stored {} times, expected once", refunds.len()),
        ));
    };
    if lianhe_counts.duplicates != 1 {
        return Err(unexpected(
            CANCEL,
            format!("expected the second reNotify delivery to be a duplicate: {lianhe_counts:?}"),
        ));
    }
    story.step(
        "webhook",
        format!(
            "delivery 1 stored (approved: {}, {} refunded), its answer lost on purpose",
            refund.is_approved(),
            refund.refunded_quantity.unwrap_or_default()
        ),
    );
    story.step(
        "webhook",
        "delivery 2 has the same key: acknowledged, not processed again",
    );

    // The LH signature does not cover the body: confirm with Lianhe before moving money.
    let info = lianhe
        .query_order(&lianhe::QueryOrder::new(order_id, lh_order_id))
        .await
        .map_err(at(CANCEL))?;
    let refunded = info.refunded_quantity.unwrap_or_default();
    let used = info.used_quantity.unwrap_or_default();
    story.step(
        "Lianhe queryOrder",
        format!(
            "confirmed: status {}, {used} used, {refunded} refunded",
            info.order_status
        ),
    );
    if refunded != 2 {
        return Err(unexpected(
            CANCEL,
            format!("queryOrder says {refunded} refunded"),
        ));
    }
    summary.orders.push(Row::new(
        "Lianhe",
        order_id,
        lh_order_id.clone(),
        "3 tickets",
        format!("{used} used, {refunded} refunded"),
    ));
    summary.refunds.push(Row::new(
        "Lianhe",
        refund_id,
        lh_order_id.clone(),
        "2 tickets",
        "approved",
    ));

    Ok(())
}

/// Step 3, the money: refunds ¥200 of the ¥300 through LeShua (`unified_refund`), asking
/// rather than resending if the answer is lost, and waits for LeShua's refund notification.
async fn refund_money(
    story: &mut Story,
    world: &World,
    purchase: &Purchase,
    summary: &mut Summary,
) -> Result<(), Failure> {
    let World {
        leshua,
        leshua_box,
        leshua_notify_url,
        inbox,
        ..
    } = world;
    let &Purchase {
        order_id,
        unit_price,
        total,
        ..
    } = purchase;
    const CANCEL: &str = "3. refunding";
    let refund_id = REFUND_ID;
    let money_back_amount = Fen::new(unit_price.get() * 2);
    let order_ref = leshua::OrderRef::ThirdOrderId(order_id.into());
    let money_back = leshua::Refund::new(order_ref.clone(), refund_id, money_back_amount)
        .notify_url(leshua_notify_url);
    let refund_status = match leshua.refund(&money_back).await {
        Ok(reply) => reply.status,
        // Sent, and no answer says what happened: the refund may exist. Ask, never resend
        // blind. (A refusal is an answer, and returns below with its typed error.)
        Err(e) if e.is_outcome_unknown() => {
            let refund_ref = leshua::RefundRef::MerchantRefundId(refund_id.into());
            leshua
                .query_refund(&order_ref, &refund_ref)
                .await
                .map_err(at(CANCEL))?
                .status
        }
        Err(e) => return Err(at(CANCEL)(e)),
    };
    story.step(
        "LeShua unified_refund",
        format!(
            "{} of {} back to the customer as {refund_id}: status {}",
            yuan(money_back_amount),
            yuan(total),
            refund_status.as_ref().map_or("-", |s| s.as_str())
        ),
    );
    let reports = leshua_box.settle_notifications().await;
    let refund_note = stored(inbox, CANCEL, "LeShua refund notification", |e| match e {
        Event::Leshua(leshua::notify::Notification::Refund(r)) => Some(r),
        _ => None,
    })
    .await?;
    story.step(
        "LeShua → webhook",
        format!("refund: {}", deliveries(&reports)),
    );
    story.step(
        "webhook",
        format!(
            "LeShua refund notification verified and stored: {} refunded, status {}",
            yuan(refund_note.refund_amount.unwrap_or_default()),
            refund_note.status.as_str()
        ),
    );
    if refund_note.status != leshua::OrderStatus::Refunded {
        return Err(unexpected(CANCEL, "LeShua's refund did not succeed"));
    }
    summary.refunds.push(Row::new(
        "LeShua",
        refund_id,
        refund_note.leshua_refund_id.clone().unwrap_or_default(),
        yuan(money_back_amount),
        "refunded (11)",
    ));
    Ok(())
}

/// Step 4: refunds one of two theatre seats with `RefundTicket`; the ticket system's clock
/// runs 10 minutes ahead, so the client resynchronises its Hawk clock and signs again.
async fn refund_theatre_seat(
    story: &mut Story,
    world: &World,
    summary: &mut Summary,
) -> Result<(), Failure> {
    let World {
        ticket_box,
        tickets,
        ..
    } = world;
    story.chapter("4. A theatre seat at the 游宝星 ticket system");
    const THEATRE: &str = "4. theatre";
    let theatre_order = "THEATRE-2001";
    let seats = ticket_box.add_order(theatre_order, 2, true, true);
    let [seat, other_seat] = seats.as_slice() else {
        return Err(unexpected(THEATRE, "the sandbox made no seats"));
    };
    story.step(
        "theatre",
        format!(
            "order {theatre_order}, seats {seat} and {other_seat}, paid (booked by the theatre)"
        ),
    );
    let agent = ticket_box.config().credentials().id().to_owned();
    let before = tickets.clock_offset_millis();
    // Refunds are never retried; a stale-timestamp 401 is not a refusal of the refund but of
    // the signature's time, so the client adopts the server's signed time and signs again.
    let result = tickets
        .refund_tickets(&ticket_hawk::RefundParm::tickets(
            theatre_order,
            [seat.clone()],
        ))
        .await
        .map_err(at(THEATRE))?;
    let learnt = tickets.clock_offset_millis();
    if learnt - before < 590_000 {
        return Err(unexpected(
            THEATRE,
            format!("clock offset {learnt} ms, expected about +600 000"),
        ));
    }
    story.step(
        "Hawk",
        format!(
            "RefundTicket refused as stale: our clock offset {:+} s → {:+} s from the signed server time, signed again",
            (before + 500).div_euclid(1000),
            (learnt + 500).div_euclid(1000)
        ),
    );
    story.step(
        "RefundTicket",
        format!(
            "seat {seat}: errcode {} {}",
            result.errcode,
            result.errmsg.as_deref().unwrap_or("")
        ),
    );
    let listed = tickets
        .query_tickets(&ticket_hawk::TicketQuery::new(
            &agent,
            ticket_hawk::OrderLookup::OrderId(theatre_order.into()),
        ))
        .await
        .map_err(at(THEATRE))?;
    let status_of = |code: &str| {
        listed
            .iter()
            .find(|t| t.ticket_code.as_deref() == Some(code))
            .and_then(|t| t.status.clone())
    };
    let (refunded_state, kept_state) = (status_of(seat), status_of(other_seat));
    story.step(
        "Query/Tickets",
        format!(
            "seat {seat} {}, seat {other_seat} {}",
            shown(refunded_state.as_ref()),
            shown(kept_state.as_ref())
        ),
    );
    if refunded_state != Some(ticket_hawk::TicketStatus::Refunded)
        || kept_state != Some(ticket_hawk::TicketStatus::Valid)
    {
        return Err(unexpected(THEATRE, "the wrong seats were refunded"));
    }
    let refunded_seats = listed
        .iter()
        .filter(|t| t.status == Some(ticket_hawk::TicketStatus::Refunded))
        .count();
    summary.orders.push(Row::new(
        "ticket system",
        theatre_order,
        theatre_order,
        format!("{} seats", listed.len()),
        format!("{refunded_seats} refunded"),
    ));
    summary.refunds.push(Row::new(
        "ticket system",
        seat.clone(),
        theatre_order,
        "1 seat",
        format!("errcode {}", result.errcode),
    ));
    Ok(())
}

/// Step 5: rents an e-bike deposit-free with WeChat Pay PayScore: create, the user confirms,
/// complete with a discount, the user pays, and the `USER_PAID` callback is checked.
async fn rent_e_bike(
    story: &mut Story,
    world: &World,
    summary: &mut Summary,
) -> Result<(), Failure> {
    let World {
        payscore,
        payscore_box,
        server,
        inbox,
        ..
    } = world;
    story.chapter("5. A deposit-free e-bike rental with WeChat Pay PayScore");
    const RENTAL: &str = "5. rental";
    let rental = "RENT-3001";
    let create = payscore::CreateServiceOrder::new(
        rental,
        payscore_box.appid(),
        payscore_box.service_id(),
        "景区电瓶车租借",
        payscore::TimeRange::starting(payscore::TimePoint::OnAccept),
        payscore::RiskFund::new(payscore::RiskFundName::Deposit, Fen::new(20_000))
            .description("电瓶车押金"),
        "https://reseller.example/notify/wechat-payscore",
    )
    .post_payment(payscore::PostPayment::new("租车费", Fen::new(3_000)).description("2小时"));
    let created = payscore
        .create_service_order(&create)
        .await
        .map_err(at(RENTAL))?;
    // The sandbox delivers to our loopback receiver instead of the https notify_url.
    payscore_box.set_notify_url(rental, &server.url(webhooks::PAYSCORE_PATH));
    let wechat_order = created.order_id.clone().unwrap_or_default();
    story.step(
        "PayScore create",
        format!(
            "{rental}: deposit {} waived, state {}, WeChat order {wechat_order}",
            yuan(Fen::new(20_000)),
            created.state.as_ref().map_or("-", |s| s.as_str())
        ),
    );
    payscore_box.user_confirms(rental).map_err(at(RENTAL))?;
    story.step("user", "confirms in WeChat (USER_CONFIRM)");
    let complete = payscore::CompleteServiceOrder::new(
        payscore_box.appid(),
        payscore_box.service_id(),
        Fen::new(2_500),
    )
    .post_payment(payscore::PostPayment::new("租车费", Fen::new(3_000)))
    .post_discount(payscore::PostDiscount::new("会员优惠", Fen::new(500)));
    let done = payscore
        .complete_service_order(rental, &complete)
        .await
        .map_err(at(RENTAL))?;
    let charged = Fen::new(
        done.post_payments
            .iter()
            .filter_map(|p| p.amount)
            .map(Fen::get)
            .sum(),
    );
    let discounted = Fen::new(
        done.post_discounts
            .iter()
            .filter_map(|d| d.amount)
            .map(Fen::get)
            .sum(),
    );
    story.step(
        "PayScore complete",
        format!(
            "{} − {} discount = {}: {}/{}",
            yuan(charged),
            yuan(discounted),
            yuan(done.total_amount.unwrap_or_default()),
            done.state.as_ref().map_or("-", |s| s.as_str()),
            done.state_description.as_ref().map_or("-", |s| s.as_str())
        ),
    );
    payscore_box.user_pays(rental).map_err(at(RENTAL))?;
    story.step(
        "user",
        format!(
            "pays {} through PayScore (USER_PAID)",
            yuan(Fen::new(2_500))
        ),
    );
    let reports = payscore_box.settle_callbacks().await;
    story.step(
        "WeChat → webhook",
        format!("USER_CONFIRM, USER_PAID: {}", deliveries(&reports)),
    );
    let paid_amount = stored(inbox, RENTAL, "USER_PAID callback", |e| match e {
        Event::PayScore(c) => match c.event {
            CallbackEvent::UserPaid(order) => order.collection.and_then(|c| c.paid_amount),
            _ => None,
        },
        _ => None,
    })
    .await?;
    story.step(
        "webhook",
        format!(
            "USER_PAID verified (RSA-SHA256) and decrypted (AES-256-GCM): paid {}",
            yuan(paid_amount)
        ),
    );
    if paid_amount != Fen::new(2_500) {
        return Err(unexpected(
            RENTAL,
            format!("paid {paid_amount} fen, expected 2500"),
        ));
    }
    let settled = payscore
        .query_service_order(
            &payscore::OrderRef::OutOrderNo(rental.into()),
            payscore_box.service_id(),
            payscore_box.appid(),
        )
        .await
        .map_err(at(RENTAL))?;
    let state = settled
        .state
        .as_ref()
        .map_or("-", |s| s.as_str())
        .to_owned();
    let collection = settled
        .collection
        .as_ref()
        .map_or("-", |c| c.state.as_str())
        .to_owned();
    story.step(
        "PayScore query",
        format!("{rental}: {state}, collection {collection}"),
    );
    if settled.state != Some(payscore::State::Done) {
        return Err(unexpected(
            RENTAL,
            format!("the order is {state}, not DONE"),
        ));
    }
    summary.orders.push(Row::new(
        "PayScore",
        rental,
        wechat_order,
        yuan(Fen::new(2_500)),
        format!("{state}, {collection}"),
    ));
    Ok(())
}

fn print_summary(story: &mut Story, summary: &Summary) {
    story.chapter("Summary");
    for (title, rows) in [("orders", &summary.orders), ("refunds", &summary.refunds)] {
        story.line(format!(
            "   {title:<15}{:<19}{:<22}{:<12}state",
            "ours", "provider's id", "amount"
        ));
        for r in rows {
            story.line(format!(
                "   {:<15}{:<19}{:<22}{:<12}{}",
                r.provider, r.ours, r.theirs, r.what, r.state
            ));
        }
        story.line("");
    }
    story.line(format!(
        "   {:<15}{:>10}{:>11}{:>15}{:>10}",
        "notifications", "received", "processed", "de-duplicated", "refused"
    ));
    for (provider, c) in &summary.notifications {
        story.line(format!(
            "   {:<15}{:>10}{:>11}{:>15}{:>10}",
            provider.name(),
            c.deliveries,
            c.processed,
            c.duplicates,
            c.rejected
        ));
    }
}
