//! A webhook receiver for the providers that send notifications: Lianhe (`snNotify`,
//! `reNotify`), LeShua (payment and refund results) and WeChat Pay PayScore (callbacks).
//! Copy it into your service.
//!
//! Each route reads the raw body, hands it with the headers to the provider crate's
//! notification API (which verifies the signature before any field is read), records and
//! processes the event unless its de-duplication key was seen before, and answers what the
//! provider expects: Lianhe the text `success`, LeShua the text `000000`, WeChat Pay
//! `204 No Content`. Anything else makes the provider deliver again later, which is what
//! you want when a delivery could not be verified or stored.
//!
//! | route | provider | verified by | de-duplicated on | success reply |
//! |---|---|---|---|---|
//! | `POST /notify/lianhe` | Lianhe | `LH` signature (`NotificationParser::new`), then `queryOrder` | `Notification::dedup_key` | `200 success` |
//! | `POST /notify/leshua` | LeShua | MD5 with the notify key (`NotificationParser::new`) | `Notification::dedup_key` | `200 000000` |
//! | `POST /notify/wechat-payscore` | PayScore | RSA-SHA256 + AES-256-GCM (`NotificationParser::new`) | callback `id` | `204` |
//!
//! All three routes are one generic handler, `receive`, over the family's notification
//! contract (`tixpay::core::notify::Notifications`): each provider crate's parser verifies,
//! gives an event with a `dedup_key()`, and names its own `ack()` and `reject()` replies.
//!
//! The 游宝星 ticket system has no route: its callbacks (`?parm=…&sign=…`) are documented
//! only that far, the signing rule is not, and an unverifiable callback is no better than
//! none. Poll `query_order` / `query_tickets` for its orders instead.
//!
//! Each verified event is recorded in a database ([`store`]) in one transaction with what
//! your service does about it ([`store::Handler`]; here, [`Ledger`] writes a line): the
//! table `webhook_events` has a unique key on `(provider, dedup_key)`, so a delivery that
//! arrives twice — or at two copies of this receiver behind a load balancer at once — is
//! processed once, and the provider hears "got it" only after the commit. A failure rolls
//! both back and answers the provider's failure reply, so the event comes again.
//!
//! The database is SQLite by default (compiled in, nothing to set up), PostgreSQL when
//! `DATABASE_URL` names one:
//!
//! | `DATABASE_URL` | database |
//! |---|---|
//! | unset | SQLite file `webhooks.sqlite3` in the working directory (the sandbox demo: in memory) |
//! | `sqlite:path/to/file.db` | that SQLite file, created if missing |
//! | `sqlite::memory:` | in-memory SQLite, one receiver only, gone when it stops |
//! | `postgres://user:password@host:5432/dbname` | PostgreSQL (without TLS: a private network or loopback) |
//!
//! Several receivers may share one PostgreSQL database, or one SQLite file on one machine.
//!
//! Lianhe's `LH` signature covers the method, the URL and the date, not the body: a captured
//! header could carry a forged body, and a forged event stored first would take the key of
//! the genuine one that follows. So a Lianhe event is confirmed with `queryOrder` *before*
//! its key is stored: a redemption only if Lianhe counts at least that many tickets used, an
//! approved refund only if it counts at least that many refunded. An unconfirmed delivery
//! is refused and, if genuine, delivered again by Lianhe later.
//!
//! Without credentials it starts the sandboxes, points them at itself, and exits after
//! showing one delivery from each provider and one forged delivery being refused (in an
//! in-memory SQLite database unless `DATABASE_URL` is set):
//!
//! ```sh
//! cargo run --example webhooks
//! ```
//!
//! With credentials in the environment it serves until stopped, on `TIXPAY_WEBHOOKS_ADDR`
//! (default `127.0.0.1:8080`), with a route for each provider configured: each crate's
//! `Config::from_env` reads them (`LIANHE_*`, `LESHUA_*`, `WECHATPAY_*`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::fmt::Display;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tixpay::core::Error;
use tixpay::core::notify::Notifications;
use tixpay::leshua::notify as leshua_notify;
use tixpay::lianhe::notify as lianhe_notify;
use tixpay::wechat_payscore::notify as payscore_notify;

pub(crate) mod store;

use store::{BoxError, Database, Handler, Recorded, Store, StoredEvent};

/// Where each provider's notifications go.
pub(crate) const LIANHE_PATH: &str = "/notify/lianhe";
/// LeShua's `notify_url` path.
pub(crate) const LESHUA_PATH: &str = "/notify/leshua";
/// PayScore's `notify_url` path.
pub(crate) const PAYSCORE_PATH: &str = "/notify/wechat-payscore";

/// A provider that sends notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Provider {
    Lianhe,
    Leshua,
    PayScore,
}

impl Provider {
    pub(crate) const ALL: [Provider; 3] = [Provider::Lianhe, Provider::Leshua, Provider::PayScore];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Provider::Lianhe => "Lianhe",
            Provider::Leshua => "LeShua",
            Provider::PayScore => "PayScore",
        }
    }

    /// The provider's name in the `provider` column.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Provider::Lianhe => "lianhe",
            Provider::Leshua => "leshua",
            Provider::PayScore => "wechat-payscore",
        }
    }
}

/// A verified notification. Stored as the provider crate's event in JSON.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub(crate) enum Event {
    Lianhe(lianhe_notify::Notification),
    Leshua(leshua_notify::Notification),
    PayScore(Box<payscore_notify::Callback>),
}

impl Event {
    pub(crate) fn provider(&self) -> Provider {
        match self {
            Event::Lianhe(_) => Provider::Lianhe,
            Event::Leshua(_) => Provider::Leshua,
            Event::PayScore(_) => Provider::PayScore,
        }
    }

    /// The provider crate's de-duplication key (unique together with the provider).
    pub(crate) fn dedup_key(&self) -> String {
        match self {
            Event::Lianhe(n) => n.dedup_key(),
            Event::Leshua(n) => n.dedup_key(),
            Event::PayScore(c) => c.dedup_key(),
        }
    }

    /// The event a row of `webhook_events` holds, read back as the provider crate's type.
    pub(crate) fn from_stored(row: &StoredEvent) -> Result<Event, BoxError> {
        let json = row.event.clone();
        Ok(match row.provider.as_str() {
            "lianhe" => Event::Lianhe(serde_json::from_value(json)?),
            "leshua" => Event::Leshua(serde_json::from_value(json)?),
            "wechat-payscore" => Event::PayScore(Box::new(serde_json::from_value(json)?)),
            other => return Err(format!("no provider {other}").into()),
        })
    }

    /// The key under the provider's name, for logs.
    pub(crate) fn key(&self) -> String {
        format!("{}/{}", self.provider().id(), self.dedup_key())
    }

    /// A few words on what happened, for the demo's ledger.
    pub(crate) fn summary(&self) -> String {
        use leshua_notify::Notification as Leshua;
        use lianhe_notify::Notification as Lianhe;
        match self {
            Event::Lianhe(Lianhe::Redeemed(r)) => {
                format!("order {} redeemed {}", r.order_id, r.used_quantity)
            }
            Event::Lianhe(Lianhe::Refund(r)) if r.is_approved() => {
                format!("order {} refund approved", r.order_id)
            }
            Event::Lianhe(Lianhe::Refund(r)) => format!("order {} refund rejected", r.order_id),
            Event::Lianhe(other) => format!("Lianhe {}", other.dedup_key()),
            Event::Leshua(Leshua::Payment(p)) => format!(
                "order {} payment status {}",
                p.third_order_id.as_deref().unwrap_or("-"),
                p.status
            ),
            Event::Leshua(Leshua::Refund(r)) => format!(
                "refund {} status {}",
                r.merchant_refund_id.as_deref().unwrap_or("-"),
                r.status
            ),
            Event::Leshua(other) => format!("LeShua {}", other.dedup_key()),
            Event::PayScore(c) => c.event_type.clone(),
        }
    }
}

/// What one receiver saw from one provider (its own counts, kept in memory; the database
/// holds the events).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Every delivery, whatever became of it.
    pub(crate) deliveries: u32,
    /// Verified, recorded and processed, here and for the first time.
    pub(crate) processed: u32,
    /// Verified, already recorded, acknowledged again without being processed again.
    pub(crate) duplicates: u32,
    /// Refused: the signature, the time window, the body, or (Lianhe) the provider's own
    /// record did not check out.
    pub(crate) rejected: u32,
    /// Verified, but the database or the handler failed: rolled back and refused, so the
    /// provider delivers it again.
    pub(crate) failed: u32,
}

/// A receiver's counts per provider.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    counts: Mutex<BTreeMap<Provider, Counts>>,
}

impl Stats {
    fn add(&self, provider: Provider, count: impl FnOnce(&mut Counts)) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let counts = counts.entry(provider).or_default();
        counts.deliveries += 1;
        count(counts);
    }

    /// What arrived from `provider`.
    pub(crate) fn counts(&self, provider: Provider) -> Counts {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.get(&provider).copied().unwrap_or_default()
    }
}

/// The demo's business effect: one line per processed event. In your service this is
/// where an order is marked paid or a refund booked, through the transaction it is given,
/// so that it commits together with the event or not at all.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Ledger;

/// [`Ledger`]'s table, valid on SQLite and PostgreSQL. No unique key on purpose: the
/// receiver's transaction alone keeps it to one line per event.
pub(crate) const LEDGER_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ledger (
    provider  TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    summary   TEXT NOT NULL
);";

impl Handler<Event> for Ledger {
    fn sqlite(&self, tx: &rusqlite::Transaction<'_>, event: &Event) -> Result<(), BoxError> {
        tx.execute(
            "INSERT INTO ledger (provider, dedup_key, summary) VALUES (?1, ?2, ?3)",
            rusqlite::params![event.provider().id(), event.dedup_key(), event.summary()],
        )?;
        Ok(())
    }

    async fn postgres(
        &self,
        tx: &tokio_postgres::Transaction<'_>,
        event: &Event,
    ) -> Result<(), BoxError> {
        tx.execute(
            "INSERT INTO ledger (provider, dedup_key, summary) VALUES ($1, $2, $3)",
            &[&event.provider().id(), &event.dedup_key(), &event.summary()],
        )
        .await?;
        Ok(())
    }
}

/// The receiver: one route per configured provider, recording into one [`Store`] and
/// processing with one [`Handler`].
pub(crate) struct Receiver<H = Ledger> {
    lianhe: Option<Arc<LianheRoute>>,
    leshua: Option<Arc<LeshuaRoute>>,
    payscore: Option<Arc<PayScoreRoute>>,
    store: Store,
    handler: Arc<H>,
    stats: Arc<Stats>,
    log: bool,
}

impl<H> Clone for Receiver<H> {
    fn clone(&self) -> Self {
        Self {
            lianhe: self.lianhe.clone(),
            leshua: self.leshua.clone(),
            payscore: self.payscore.clone(),
            store: self.store.clone(),
            handler: Arc::clone(&self.handler),
            stats: Arc::clone(&self.stats),
            log: self.log,
        }
    }
}

impl<H: Handler<Event>> Receiver<H> {
    /// A receiver with no routes yet, recording into `store` and processing with `handler`.
    pub(crate) fn new(store: Store, handler: H) -> Self {
        Self {
            lianhe: None,
            leshua: None,
            payscore: None,
            store,
            handler: Arc::new(handler),
            stats: Arc::default(),
            log: false,
        }
    }

    /// Accept Lianhe notifications, verified by `parser` and confirmed through `client`.
    pub(crate) fn lianhe(
        mut self,
        parser: lianhe_notify::NotificationParser,
        client: tixpay::lianhe::Client,
    ) -> Self {
        self.lianhe = Some(Arc::new(LianheRoute { parser, client }));
        self
    }

    /// Accept LeShua notifications, verified by `parser`.
    pub(crate) fn leshua(mut self, parser: leshua_notify::NotificationParser) -> Self {
        self.leshua = Some(Arc::new(LeshuaRoute(parser)));
        self
    }

    /// Accept PayScore callbacks, verified and decrypted by `client` (which keeps the
    /// platform certificates or public key, and the APIv3 key).
    pub(crate) fn payscore(mut self, client: tixpay::wechat_payscore::Client) -> Self {
        self.payscore = Some(Arc::new(PayScoreRoute(
            payscore_notify::NotificationParser::new(&client),
        )));
        self
    }

    /// Print one line per delivery.
    pub(crate) fn log_deliveries(mut self, on: bool) -> Self {
        self.log = on;
        self
    }

    pub(crate) fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.stats)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The routes of the configured providers.
    pub(crate) fn router(self) -> Router {
        let mut router = Router::new();
        if let Some(route) = self.lianhe.clone() {
            router = router.route(
                LIANHE_PATH,
                post(receive::<LianheRoute, H>).with_state((self.clone(), route)),
            );
        }
        if let Some(route) = self.leshua.clone() {
            router = router.route(
                LESHUA_PATH,
                post(receive::<LeshuaRoute, H>).with_state((self.clone(), route)),
            );
        }
        if let Some(route) = self.payscore.clone() {
            router = router.route(
                PAYSCORE_PATH,
                post(receive::<PayScoreRoute, H>).with_state((self.clone(), route)),
            );
        }
        router
    }

    /// Records and processes a verified event once, then answers `ack` — whether it was
    /// new or a repeat: a repeat means the provider missed an earlier answer, and must now
    /// hear "got it". If recording or processing failed, nothing was committed: `reject`
    /// makes the provider deliver it again.
    async fn accept(
        &self,
        event: Event,
        ack: http::Response<Bytes>,
        reject: http::Response<Bytes>,
    ) -> Response {
        let (provider, dedup_key) = (event.provider(), event.dedup_key());
        let key = event.key();
        let recorded = self
            .store
            .record(provider.id(), &dedup_key, event, &self.handler)
            .await;
        let reply = match recorded {
            Ok(Recorded::Processed) => {
                self.stats.add(provider, |c| c.processed += 1);
                ack
            }
            Ok(Recorded::Duplicate) => {
                self.stats.add(provider, |c| c.duplicates += 1);
                ack
            }
            Err(e) => {
                self.stats.add(provider, |c| c.failed += 1);
                if self.log {
                    println!("{key}: not recorded, the provider will deliver it again: {e}");
                }
                return reject.map(Body::from).into_response();
            }
        };
        if let (true, Ok(recorded)) = (self.log, recorded) {
            println!("{key}: {recorded:?}");
        }
        reply.map(Body::from).into_response()
    }

    /// Counts a delivery that failed verification and answers `reply`, so that a genuine
    /// one (say, signed with a key rotated a moment ago) is delivered again later.
    fn refuse(&self, provider: Provider, error: &dyn Display, reply: Response) -> Response {
        self.stats.add(provider, |c| c.rejected += 1);
        if self.log {
            println!("{}: refused: {error}", provider.name());
        }
        reply
    }
}

/// What one route needs besides the provider crate's parser: how to file its event, and,
/// for Lianhe, how to confirm it with the provider before it is stored.
trait Route: Send + Sync + 'static {
    /// The provider crate's parser (the family's notification contract).
    type Parser: Notifications;
    const PROVIDER: Provider;
    fn parser(&self) -> &Self::Parser;
    fn event(event: <Self::Parser as Notifications>::Event) -> Event;
    /// Whether the provider's own record agrees with the event (`Err`: it could not be
    /// asked now). Only Lianhe, whose signature leaves the body out, needs asking.
    fn confirm(
        &self,
        _event: &<Self::Parser as Notifications>::Event,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        async { Ok(true) }
    }
}

struct LianheRoute {
    parser: lianhe_notify::NotificationParser,
    client: tixpay::lianhe::Client,
}

impl Route for LianheRoute {
    type Parser = lianhe_notify::NotificationParser;
    const PROVIDER: Provider = Provider::Lianhe;
    fn parser(&self) -> &Self::Parser {
        &self.parser
    }
    fn event(event: lianhe_notify::Notification) -> Event {
        Event::Lianhe(event)
    }
    async fn confirm(&self, event: &lianhe_notify::Notification) -> Result<bool, Error> {
        confirm_lianhe(&self.client, event).await
    }
}

struct LeshuaRoute(leshua_notify::NotificationParser);

impl Route for LeshuaRoute {
    type Parser = leshua_notify::NotificationParser;
    const PROVIDER: Provider = Provider::Leshua;
    fn parser(&self) -> &Self::Parser {
        &self.0
    }
    fn event(event: leshua_notify::Notification) -> Event {
        Event::Leshua(event)
    }
}

struct PayScoreRoute(payscore_notify::NotificationParser);

impl Route for PayScoreRoute {
    type Parser = payscore_notify::NotificationParser;
    const PROVIDER: Provider = Provider::PayScore;
    fn parser(&self) -> &Self::Parser {
        &self.0
    }
    fn event(event: payscore_notify::Callback) -> Event {
        Event::PayScore(Box::new(event))
    }
}

/// The one handler, for every provider: verify with the provider crate's parser, confirm
/// where the provider needs it, record and process once by the event's key, and answer the
/// provider's own ack, or its reject so that a genuine delivery comes again later.
async fn receive<R: Route, H: Handler<Event>>(
    State((rx, route)): State<(Receiver<H>, Arc<R>)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parser = route.parser();
    let reply = |r: http::Response<Bytes>| r.map(Body::from).into_response();
    let event = match parser.parse(&headers, &body).await {
        Ok(event) => event,
        Err(e) => return rx.refuse(R::PROVIDER, &e, reply(parser.reject())),
    };
    match route.confirm(&event).await {
        Ok(true) => {
            rx.accept(R::event(event), parser.ack(), parser.reject())
                .await
        }
        Ok(false) => rx.refuse(
            R::PROVIDER,
            &"the provider's own record does not confirm it",
            reply(parser.reject()),
        ),
        // The provider could not be asked now: not stored, so its next delivery is processed.
        Err(e) => rx.refuse(R::PROVIDER, &e, reply(parser.reject())),
    }
}

/// Whether Lianhe's own record of the order agrees with the notification's claim.
async fn confirm_lianhe(
    client: &tixpay::lianhe::Client,
    event: &lianhe_notify::Notification,
) -> Result<bool, Error> {
    use lianhe_notify::Notification;
    let (order_id, lh_order_id) = match event {
        Notification::Redeemed(r) => (&r.order_id, &r.lh_order_id),
        Notification::Refund(r) if r.is_approved() => (&r.order_id, &r.lh_order_id),
        // A rejected refund moves no money, and an unknown method is only kept: store them.
        _ => return Ok(true),
    };
    let query = tixpay::lianhe::QueryOrder::new(order_id.as_str(), lh_order_id.as_str());
    let info = client.query_order(&query).await?;
    Ok(match event {
        Notification::Redeemed(r) => info.used_quantity.unwrap_or(0) >= r.used_quantity,
        Notification::Refund(r) => {
            info.refunded_quantity.unwrap_or(0) >= r.refunded_quantity.unwrap_or(1)
        }
        _ => true,
    })
}

/// A running server; dropping it stops it.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` on `addr` in the background.
pub(crate) async fn serve(router: Router, addr: &str) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            eprintln!("webhook server stopped: {e}");
        }
    });
    Ok(Running { addr, task })
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let any_set = |prefix: &str| {
        std::env::vars_os().any(|(name, _)| name.to_string_lossy().starts_with(prefix))
    };
    if !["LIANHE_", "LESHUA_", "WECHATPAY_"]
        .into_iter()
        .any(any_set)
    {
        return sandbox_demo().await;
    }
    let store = open_store(Database::SqliteFile("webhooks.sqlite3".into())).await?;
    let receiver = receiver_from_env(Receiver::new(store, Ledger))?;
    let addr =
        std::env::var("TIXPAY_WEBHOOKS_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let routes: Vec<&str> = [
        receiver.lianhe.as_ref().map(|_| LIANHE_PATH),
        receiver.leshua.as_ref().map(|_| LESHUA_PATH),
        receiver.payscore.as_ref().map(|_| PAYSCORE_PATH),
    ]
    .into_iter()
    .flatten()
    .collect();
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "listening on http://{} for {}",
        listener.local_addr()?,
        routes.join(", ")
    );
    axum::serve(listener, receiver.log_deliveries(true).router()).await?;
    Ok(())
}

/// The database `DATABASE_URL` names, else `default`, with the tables this receiver uses.
async fn open_store(default: Database) -> Result<Store, BoxError> {
    let clock = Arc::new(tixpay::core::SystemClock);
    let store = Store::open(Database::from_env_or(default)?, clock).await?;
    store.migrate(LEDGER_SCHEMA).await?;
    println!("recording events in the {}", store.describe());
    Ok(store)
}

/// A route for each provider with any of its variables set; `Config::from_env` reads them
/// and names the one that is missing, so a typo stops the server instead of dropping a route.
fn receiver_from_env<H: Handler<Event>>(mut receiver: Receiver<H>) -> Result<Receiver<H>, Error> {
    use tixpay::{leshua, lianhe, wechat_payscore};
    let set = |prefix: &str| {
        std::env::vars_os().any(|(name, _)| name.to_string_lossy().starts_with(prefix))
    };
    if set("LIANHE_") {
        let config = lianhe::Config::from_env()?;
        let parser = lianhe_notify::NotificationParser::new(&config);
        receiver = receiver.lianhe(parser, lianhe::Client::new(config)?);
    }
    if set("LESHUA_") {
        let config = leshua::Config::from_env()?;
        receiver = receiver.leshua(leshua_notify::NotificationParser::new(&config));
    }
    if set("WECHATPAY_") {
        let config = wechat_payscore::Config::from_env()?;
        receiver = receiver.payscore(wechat_payscore::Client::new(config)?);
    }
    Ok(receiver)
}

/// One delivery from each provider's sandbox, and one forged delivery.
async fn sandbox_demo() -> Result<(), BoxError> {
    use tixpay::core::Fen;
    use tixpay::leshua::sandbox::LeshuaSandbox;
    use tixpay::lianhe::sandbox::LianheSandbox;
    use tixpay::wechat_payscore::sandbox::PayScoreSandbox;
    use tixpay::{leshua, lianhe, wechat_payscore as payscore};

    println!("No credentials in the environment: the sandboxes deliver to this receiver.\n");
    let lianhe_box = LianheSandbox::start().await?;
    let leshua_box = LeshuaSandbox::start().await?;
    let payscore_box = PayScoreSandbox::start().await?;
    let payscore_client = payscore::Client::new(payscore_box.config())?;

    let store = open_store(Database::SqliteMemory).await?;
    let receiver = Receiver::new(store, Ledger)
        .lianhe(
            lianhe_notify::NotificationParser::new(&lianhe_box.config()),
            lianhe::Client::new(lianhe_box.config())?,
        )
        .leshua(leshua_notify::NotificationParser::new(&leshua_box.config()))
        .payscore(payscore_client.clone())
        .log_deliveries(true);
    let (stats, store) = (receiver.stats(), receiver.store().clone());
    let server = serve(receiver.router(), "127.0.0.1:0").await?;
    println!("receiver on http://{}\n", server.addr);

    // Lianhe: a ticket is redeemed at the gate → snNotify.
    lianhe_box.set_notify_url(server.url(LIANHE_PATH));
    let client = lianhe::Client::new(lianhe_box.config())?;
    let product = client.get_team(&lianhe::GetTeam::by_ids(["852"])).await?;
    let product = product.products.first().ok_or("no product")?;
    let visitor = lianhe::Visitor::new("张三", "13800000000");
    let order = lianhe::NewOrder::new(
        "WH-1",
        &product.deal_id,
        product.sell_price.unwrap_or_default(),
        1,
        visitor,
    )
    .for_product(product);
    let receipt = client.new_order(&order).await?;
    lianhe_box.redeem(receipt.lh_order_id.as_deref().unwrap_or_default(), 1)?;

    // LeShua: the customer pays → payment notification.
    let client = leshua::Client::new(leshua_box.config())?;
    let order = leshua::UnifiedOrder::new(
        leshua::PayWay::Wechat,
        "WH-1",
        Fen::new(100),
        leshua::PayMode::Native,
    )
    .notify_url(server.url(LESHUA_PATH));
    client.unified_order(&order).await?;
    leshua_box.mark_paid("WH-1")?;

    // PayScore: the user confirms a service order → USER_CONFIRM callback.
    let order = payscore::CreateServiceOrder::new(
        "WH-1",
        payscore_box.appid(),
        payscore_box.service_id(),
        "电瓶车租借",
        payscore::TimeRange::starting(payscore::TimePoint::OnAccept),
        payscore::RiskFund::new(payscore::RiskFundName::Deposit, Fen::new(10_000)),
        "https://reseller.example/notify/wechat-payscore",
    );
    payscore_client.create_service_order(&order).await?;
    payscore_box.set_notify_url("WH-1", &server.url(PAYSCORE_PATH));
    payscore_box.user_confirms("WH-1")?;

    // A forged snNotify: right shape, no valid LH signature.
    let forged = r#"{"code":10000,"describe":"ok","partnerId":1,"method":"snNotify","body":{"orderId":"WH-1","LHOrderId":"1","orderStatus":9,"orderQuantity":1,"usedQuantity":1,"sncode":"1"}}"#;
    let status = reqwest::Client::new()
        .post(server.url(LIANHE_PATH))
        .body(forged)
        .send()
        .await?
        .status();
    println!("forged snNotify answered {status}");

    lianhe_box.settle_notifications().await;
    leshua_box.settle_notifications().await;
    payscore_box.settle_callbacks().await;

    println!("\nrecorded events:");
    for row in store.events().await? {
        // Read back as the provider crate's type, from its JSON.
        let event = Event::from_stored(&row)?;
        println!("  {}: {}", event.key(), event.summary());
    }
    let mut ok = true;
    for provider in Provider::ALL {
        let c = stats.counts(provider);
        println!(
            "{:<9} deliveries {}  processed {}  duplicates {}  refused {}  failed {}",
            provider.name(),
            c.deliveries,
            c.processed,
            c.duplicates,
            c.rejected,
            c.failed
        );
        // A database that an earlier run filled (DATABASE_URL) answers "duplicate".
        ok &= c.processed + c.duplicates == 1 && c.failed == 0;
    }
    if !ok || stats.counts(Provider::Lianhe).rejected != 1 {
        return Err("expected one recorded event per provider and one refused forgery".into());
    }
    Ok(())
}
