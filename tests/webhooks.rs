//! `examples/webhooks`, the receiver users copy: its refusals (a delivery that cannot be
//! verified or confirmed is answered with a failure, is not recorded, and the answer does
//! not say why), and its database (each event processed exactly once, by two receivers on
//! one database at once, through failures and crashes before commit), on SQLite and on
//! PostgreSQL.
//!
//! The PostgreSQL tests need a server: `TIXPAY_TEST_POSTGRES_URL=postgres://…` (each test
//! makes and uses its own schema there). Without it they print that they were skipped;
//! with `TIXPAY_REQUIRE_POSTGRES=1` (as `.ci/run` sets) they fail instead.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
#[path = "../examples/webhooks/main.rs"]
mod webhooks;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tixpay::core::{FixedClock, Secret, SharedClock};
use tixpay::leshua::sandbox::LeshuaSandbox;
use tixpay::lianhe::sandbox::LianheSandbox;
use tixpay::wechat_payscore::sandbox::PayScoreSandbox;
use tixpay::{leshua, lianhe, wechat_payscore};
use webhooks::store::{BoxError, Database, Handler, Store, StoredEvent};
use webhooks::{Counts, Event, LEDGER_SCHEMA, Ledger, Provider, Receiver, Running};

const REFUSED: Counts = Counts {
    deliveries: 1,
    processed: 0,
    duplicates: 0,
    rejected: 1,
    failed: 0,
};

/// The time every row gets in these tests.
const NOW_MS: i64 = 1_717_000_000_123;

fn clock() -> SharedClock {
    Arc::new(FixedClock::from_millis(NOW_MS))
}

// ---------------------------------------------------------------------------------------
// Databases

/// A new SQLite file for one test, removed (with its WAL files) when the guard drops.
fn sqlite_file(name: &str) -> (Database, RemoveOnDrop) {
    let path: PathBuf =
        std::env::temp_dir().join(format!("tixpay-webhooks-{}-{name}.db", std::process::id()));
    let guard = RemoveOnDrop(path.clone());
    guard.remove();
    (Database::SqliteFile(path), guard)
}

struct RemoveOnDrop(PathBuf);

impl RemoveOnDrop {
    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A new, empty schema for one test on the PostgreSQL server the environment names, or
/// `None` (with a message) when it names none and none is required.
async fn postgres(name: &str) -> Option<Database> {
    let Ok(url) = std::env::var("TIXPAY_TEST_POSTGRES_URL") else {
        if std::env::var("TIXPAY_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("TIXPAY_REQUIRE_POSTGRES=1 but TIXPAY_TEST_POSTGRES_URL is not set");
        }
        // Straight to stderr, past the test harness's capture, so that it shows.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {name}: set TIXPAY_TEST_POSTGRES_URL=postgres://… to run it on PostgreSQL"
        );
        return None;
    };
    let mut config: tokio_postgres::Config = url.parse().expect("TIXPAY_TEST_POSTGRES_URL");
    let admin = connect(&config).await;
    let schema = format!("tixpay_{name}");
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
        ))
        .await
        .unwrap();
    // The schema for this test's tables, and a name to find its sessions by.
    config.options(format!("-c search_path={schema}"));
    config.application_name(&schema);
    Some(Database::Postgres(Box::new(config)))
}

async fn connect(config: &tokio_postgres::Config) -> tokio_postgres::Client {
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// How many ledger lines (business effects) each event key has, read directly.
async fn ledger(database: &Database) -> BTreeMap<String, i64> {
    let sql = "SELECT dedup_key, COUNT(*) FROM ledger GROUP BY dedup_key";
    match database {
        Database::SqliteFile(path) => {
            let conn = rusqlite::Connection::open(path).unwrap();
            let mut statement = conn.prepare(sql).unwrap();
            let rows = statement
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
            rows.map(Result::unwrap).collect()
        }
        Database::Postgres(config) => connect(config)
            .await
            .query(sql, &[])
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect(),
        Database::SqliteMemory => panic!("an in-memory database is private to its store"),
    }
}

/// One receiver, as one process would run it: its own connections to `database`.
async fn instance<H: Handler<Event>>(database: &Database, handler: H) -> (Receiver<H>, Running) {
    let store = Store::open(database.clone(), clock()).await.unwrap();
    store.migrate(LEDGER_SCHEMA).await.unwrap();
    let receiver = Receiver::new(store, handler)
        .leshua(leshua::notify::NotificationParser::new(&leshua_config()));
    let server = webhooks::serve(receiver.clone().router(), "127.0.0.1:0")
        .await
        .unwrap();
    (receiver, server)
}

// ---------------------------------------------------------------------------------------
// Deliveries: LeShua refund notifications, signed as LeShua signs them.

fn leshua_config() -> leshua::Config {
    leshua::Config::sandbox("http://127.0.0.1:9")
}

/// Refund `i`'s notification body, and its key.
fn refund_notification(i: usize) -> (String, String) {
    let (refund_id, order_id) = (format!("R{i:04}"), format!("T{i:04}"));
    let leshua_refund_id = format!("LR{i:04}");
    let amount = (100 + i).to_string();
    let mut fields: Vec<(&str, &str)> = vec![
        ("merchant_id", leshua::SANDBOX_MERCHANT_ID),
        ("third_order_id", &order_id),
        ("merchant_refund_id", &refund_id),
        ("leshua_refund_id", &leshua_refund_id),
        ("refund_amount", &amount),
        ("status", "11"),
    ];
    let sign = leshua::auth::notification_sign(&fields, &Secret::new(leshua::SANDBOX_NOTIFY_KEY));
    fields.push(("sign", &sign));
    let body: String = fields
        .iter()
        .map(|(k, v)| format!("<{k}>{v}</{k}>"))
        .collect();
    let xml = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><leshua>{body}</leshua>");
    (xml, format!("refund:{leshua_refund_id}:11"))
}

/// Posts `body` to LeShua's route of `server`: the status and the text of the reply.
async fn deliver(http: &reqwest::Client, server: &Running, body: &str) -> (u16, String) {
    let reply = http
        .post(server.url(webhooks::LESHUA_PATH))
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.text().await.unwrap())
}

const ACK: (u16, &str) = (200, "000000");
const RETRY: (u16, &str) = (500, "fail");

fn reply(r: &(u16, String)) -> (u16, &str) {
    (r.0, r.1.as_str())
}

// ---------------------------------------------------------------------------------------
// Handlers that fail, crash or pause, around the example's `Ledger`.

/// Writes the ledger line, then fails or panics (once per listed key), or pauses (first
/// event only) until released, reporting its PostgreSQL backend.
#[derive(Default)]
struct Scripted {
    fail_once: Mutex<HashSet<String>>,
    panic_once: Mutex<HashSet<String>>,
    pause: Option<Pause>,
}

struct Pause {
    first: AtomicBool,
    entered: tokio::sync::mpsc::UnboundedSender<i32>,
    release: Arc<tokio::sync::Semaphore>,
}

impl Scripted {
    fn failing_once(key: &str) -> Self {
        let s = Self::default();
        s.fail_once.lock().unwrap().insert(key.to_owned());
        s
    }

    fn panicking_once(key: &str) -> Self {
        let s = Self::default();
        s.panic_once.lock().unwrap().insert(key.to_owned());
        s
    }

    fn after_effect(&self, event: &Event) -> Result<(), BoxError> {
        let key = event.dedup_key();
        if self.fail_once.lock().unwrap().remove(&key) {
            return Err("the business effect failed".into());
        }
        if self.panic_once.lock().unwrap().remove(&key) {
            panic!("the receiver stops between processing {key} and committing it");
        }
        Ok(())
    }
}

impl Handler<Event> for Scripted {
    fn sqlite(&self, tx: &rusqlite::Transaction<'_>, event: &Event) -> Result<(), BoxError> {
        Ledger.sqlite(tx, event)?;
        // Widens the window in which a second receiver could wrongly process it too.
        std::thread::sleep(Duration::from_millis(1));
        self.after_effect(event)
    }

    async fn postgres(
        &self,
        tx: &tokio_postgres::Transaction<'_>,
        event: &Event,
    ) -> Result<(), BoxError> {
        Ledger.postgres(tx, event).await?;
        tokio::time::sleep(Duration::from_millis(1)).await;
        if let Some(pause) = self
            .pause
            .as_ref()
            .filter(|p| p.first.swap(false, Ordering::SeqCst))
        {
            let pid: i32 = tx.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
            pause.entered.send(pid).unwrap();
            let _permit = pause.release.acquire().await?;
        }
        self.after_effect(event)
    }
}

// ---------------------------------------------------------------------------------------
// Exactly once, two receivers, concurrent duplicated deliveries.

const EVENTS: usize = 40;
const COPIES: usize = 3;

async fn two_receivers_process_each_event_once(database: Database) {
    let (a, server_a) = instance(&database, Scripted::default()).await;
    let (b, server_b) = instance(&database, Scripted::default()).await;
    let (servers, http) = (Arc::new([server_a, server_b]), reqwest::Client::new());

    // Every event COPIES times to each receiver, all at once.
    let mut deliveries = tokio::task::JoinSet::new();
    for copy in 0..COPIES {
        for i in 0..EVENTS {
            for to in [(i + copy) % 2, (i + copy + 1) % 2] {
                let (servers, http) = (Arc::clone(&servers), http.clone());
                deliveries.spawn(async move {
                    deliver(&http, &servers[to], &refund_notification(i).0).await
                });
            }
        }
    }
    let replies = deliveries.join_all().await;
    assert_eq!(replies.len(), EVENTS * COPIES * 2);
    for r in &replies {
        assert_eq!(reply(r), ACK, "every delivery is acknowledged");
    }

    let (ca, cb) = (
        a.stats().counts(Provider::Leshua),
        b.stats().counts(Provider::Leshua),
    );
    assert_eq!(ca.processed + cb.processed, EVENTS as u32, "{ca:?} {cb:?}");
    assert_eq!(
        ca.duplicates + cb.duplicates,
        (EVENTS * (COPIES * 2 - 1)) as u32
    );
    assert_eq!(
        (ca.failed, cb.failed, ca.rejected, cb.rejected),
        (0, 0, 0, 0)
    );

    // Each event's business effect happened exactly once.
    let ledger = ledger(&database).await;
    let expected: BTreeMap<String, i64> =
        (0..EVENTS).map(|i| (refund_notification(i).1, 1)).collect();
    assert_eq!(ledger, expected);

    // Each event is recorded once, processed, as the verified event in JSON.
    let events = a.store().events().await.unwrap();
    assert_eq!(events.len(), EVENTS);
    for row in &events {
        assert_recorded(row);
    }
}

fn assert_recorded(row: &StoredEvent) {
    assert_eq!(row.provider, "leshua");
    assert_eq!((row.received_at, row.processed_at), (NOW_MS, Some(NOW_MS)));
    let event: leshua::notify::Notification = serde_json::from_value(row.event.clone()).unwrap();
    assert_eq!(event.dedup_key(), row.dedup_key);
    let leshua::notify::Notification::Refund(refund) = event else {
        panic!("not a refund: {:?}", row.event)
    };
    assert_eq!(refund.status, leshua::OrderStatus::Refunded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_two_receivers_on_one_file_process_each_event_once() {
    let (database, _file) = sqlite_file("two_receivers");
    two_receivers_process_each_event_once(database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_receivers_process_each_event_once() {
    if let Some(db) = postgres("two_receivers").await {
        two_receivers_process_each_event_once(db).await;
    }
}

// ---------------------------------------------------------------------------------------
// A failed or crashed processing: rolled back, delivered again, processed once.

async fn a_failure_rolls_back_and_the_redelivery_is_processed_once(
    database: Database,
    handler: Scripted,
) {
    let (body, key) = refund_notification(7);
    let (rx, server) = instance(&database, handler).await;
    let http = reqwest::Client::new();

    // The handler wrote its ledger line, then failed: the provider is told to retry, and
    // neither the event nor the line was kept.
    assert_eq!(reply(&deliver(&http, &server, &body).await), RETRY);
    assert!(rx.store().events().await.unwrap().is_empty());
    assert!(ledger(&database).await.is_empty());

    // The provider delivers again: processed now, once; later copies are only acknowledged.
    assert_eq!(reply(&deliver(&http, &server, &body).await), ACK);
    assert_eq!(reply(&deliver(&http, &server, &body).await), ACK);
    assert_eq!(ledger(&database).await, BTreeMap::from([(key, 1)]));
    let events = rx.store().events().await.unwrap();
    assert_eq!(events.len(), 1);
    assert_recorded(&events[0]);
    let counts = rx.stats().counts(Provider::Leshua);
    assert_eq!(
        (counts.failed, counts.processed, counts.duplicates),
        (1, 1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_failed_handler_rolls_back_and_the_redelivery_is_processed_once() {
    let (_, key) = refund_notification(7);
    let (database, _file) = sqlite_file("failed_handler");
    a_failure_rolls_back_and_the_redelivery_is_processed_once(
        database,
        Scripted::failing_once(&key),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_crash_between_processing_and_commit_loses_nothing() {
    let (_, key) = refund_notification(7);
    let (database, _file) = sqlite_file("crash");
    a_failure_rolls_back_and_the_redelivery_is_processed_once(
        database,
        Scripted::panicking_once(&key),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_failed_handler_rolls_back_and_the_redelivery_is_processed_once() {
    let (_, key) = refund_notification(7);
    if let Some(db) = postgres("failed_handler").await {
        a_failure_rolls_back_and_the_redelivery_is_processed_once(db, Scripted::failing_once(&key))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_panicking_handler_rolls_back_and_the_redelivery_is_processed_once() {
    let (_, key) = refund_notification(7);
    if let Some(db) = postgres("panicking_handler").await {
        a_failure_rolls_back_and_the_redelivery_is_processed_once(
            db,
            Scripted::panicking_once(&key),
        )
        .await;
    }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL: the second receiver waits for the first one's uncommitted key.

/// Receiver A holds event 3 open (its effect written, not committed) while B receives the
/// same event and waits for A's key. Then `finish` ends A's transaction.
async fn while_b_waits_for_a(
    name: &str,
    finish: impl AsyncFnOnce(&Database, i32, &tokio::sync::Semaphore),
) -> Option<(Database, [(u16, String); 2], [Counts; 2])> {
    let database = postgres(name).await?;
    let (entered_tx, mut entered) = tokio::sync::mpsc::unbounded_channel();
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let pausing = Scripted {
        pause: Some(Pause {
            first: AtomicBool::new(true),
            entered: entered_tx,
            release: Arc::clone(&release),
        }),
        ..Scripted::default()
    };
    let (a, server_a) = instance(&database, pausing).await;
    let (b, server_b) = instance(&database, Scripted::default()).await;
    let (body, _) = refund_notification(3);
    let http = reqwest::Client::new();

    let to_a = tokio::spawn({
        let (http, body) = (http.clone(), body.clone());
        async move { deliver(&http, &server_a, &body).await }
    });
    let a_backend = tokio::time::timeout(Duration::from_secs(60), entered.recv())
        .await
        .expect("A starts processing")
        .unwrap();
    let to_b = tokio::spawn(async move { deliver(&http, &server_b, &body).await });
    wait_for_lock_wait(&database).await;

    finish(&database, a_backend, &release).await;
    let replies = [to_a.await.unwrap(), to_b.await.unwrap()];
    let counts = [
        a.stats().counts(Provider::Leshua),
        b.stats().counts(Provider::Leshua),
    ];
    Some((database, replies, counts))
}

/// Until a session of this test's database waits on a lock (B's insert on A's key).
async fn wait_for_lock_wait(database: &Database) {
    let Database::Postgres(config) = database else {
        unreachable!()
    };
    let admin = connect(config).await;
    for _ in 0..600 {
        let waiting: i64 = admin
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND application_name = $1",
                &[&config.get_application_name()],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the second receiver never waited for the first one's key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_second_receiver_waits_for_the_first_commit_and_acknowledges_a_duplicate() {
    let Some((database, replies, [a, b])) =
        while_b_waits_for_a("waits_for_commit", async |_, _, release| {
            release.add_permits(1); // A commits
        })
        .await
    else {
        return;
    };
    assert_eq!(reply(&replies[0]), ACK);
    assert_eq!(reply(&replies[1]), ACK);
    assert_eq!((a.processed, b.duplicates, b.processed), (1, 1, 0));
    assert_eq!(ledger(&database).await.values().sum::<i64>(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_receiver_killed_before_commit_loses_nothing_the_waiting_one_processes_it() {
    let Some((database, replies, [a, b])) = while_b_waits_for_a(
        "killed_before_commit",
        async |database, a_backend, release| {
            // A's connection dies with its transaction open, as when its process is killed.
            let Database::Postgres(config) = database else {
                unreachable!()
            };
            let killed: bool = connect(config)
                .await
                .query_one("SELECT pg_terminate_backend($1)", &[&a_backend])
                .await
                .unwrap()
                .get(0);
            assert!(killed);
            release.add_permits(1);
        },
    )
    .await
    else {
        return;
    };
    // A could not commit: it told the provider to retry. B, which waited for A's key,
    // found it free after A's rollback and processed the event.
    assert_eq!(reply(&replies[0]), RETRY);
    assert_eq!(reply(&replies[1]), ACK);
    assert_eq!((a.failed, a.processed, b.processed), (1, 0, 1));
    let (_, key) = refund_notification(3);
    assert_eq!(ledger(&database).await, BTreeMap::from([(key, 1)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_receiver_reconnects_after_its_connection_is_killed() {
    let Some(database) = postgres("reconnects").await else {
        return;
    };
    let (rx, server) = instance(&database, Ledger).await;
    let http = reqwest::Client::new();
    assert_eq!(
        reply(&deliver(&http, &server, &refund_notification(1).0).await),
        ACK
    );
    let Database::Postgres(config) = &database else {
        unreachable!()
    };
    let admin = connect(config).await;
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
            &[&config.get_application_name()],
        )
        .await
        .unwrap();
    // The pool drops the dead connection and opens another; at worst one delivery is
    // refused while it notices (and is delivered again).
    let mut acked = false;
    for _ in 0..2 {
        acked |= reply(&deliver(&http, &server, &refund_notification(2).0).await) == ACK;
    }
    assert!(acked);
    assert_eq!(rx.store().events().await.unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------
// Configuration.

#[test]
fn database_urls_choose_the_database() {
    assert!(matches!(
        Database::parse("sqlite::memory:").unwrap(),
        Database::SqliteMemory
    ));
    for url in ["sqlite:data/events.db", "sqlite://data/events.db"] {
        let Database::SqliteFile(path) = Database::parse(url).unwrap() else {
            panic!("{url}")
        };
        assert_eq!(path, PathBuf::from("data/events.db"));
    }
    let Database::Postgres(config) =
        Database::parse("postgres://app@db.internal:6543/payments").unwrap()
    else {
        panic!("postgres")
    };
    assert_eq!(config.get_dbname(), Some("payments"));
    assert_eq!(config.get_ports(), [6543]);
    assert!(Database::parse("postgresql://app@db/payments").is_ok());
    for bad in ["mysql://app@db/payments", "sqlite:", "webhooks.db", ""] {
        assert!(Database::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_database_password_is_never_shown() {
    let url = "postgres://app:pw-Very-Secret-42@db.internal:5432/payments";
    let database = Database::parse(url).unwrap();
    for shown in [format!("{database:?}"), database.describe()] {
        assert!(!shown.contains("pw-Very-Secret-42"), "{shown}");
        assert!(shown.contains("payments"), "{shown}");
    }
    let malformed = "postgres://app:pw-Very-Secret-42@db.internal:notaport/payments";
    let error = Database::parse(malformed).unwrap_err();
    for shown in [format!("{error:?}"), error.to_string()] {
        assert!(!shown.contains("pw-Very-Secret-42"), "{shown}");
    }
}

// ---------------------------------------------------------------------------------------
// Refusals: nothing is recorded.

/// A signed snNotify, as a replayed LH header would carry it.
fn signed_sn_notify(used: i64) -> (String, String, String) {
    let signer = lianhe::auth::Signer::new(
        lianhe::SANDBOX_API_NAME,
        &Secret::new(lianhe::SANDBOX_CLIENT_SECRET),
    );
    let date = "Mon, 01 Jan 2024 00:00:00 GMT".to_owned();
    let body = serde_json::json!({
        "code": 10000, "describe": "执行成功", "partnerId": lianhe::SANDBOX_PARTNER_ID,
        "method": "snNotify",
        "body": {"orderId": "T1", "LHOrderId": "15354", "orderStatus": 9,
                 "orderQuantity": 3, "usedQuantity": used, "sncode": "411258698456"}
    });
    let authorization = signer.authorization("POST", lianhe::auth::NOTIFY_URI, &date);
    (date, authorization, body.to_string())
}

async fn memory_store() -> Store {
    let store = Store::open(Database::SqliteMemory, clock()).await.unwrap();
    store.migrate(LEDGER_SCHEMA).await.unwrap();
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unverifiable_deliveries_are_refused_on_every_route_without_saying_why() {
    let lianhe_box = LianheSandbox::start().await.unwrap();
    let leshua_box = LeshuaSandbox::start().await.unwrap();
    let payscore_box = PayScoreSandbox::start().await.unwrap();
    let receiver = Receiver::new(memory_store().await, Ledger)
        .lianhe(
            lianhe::notify::NotificationParser::new(&lianhe_box.config()),
            lianhe::Client::new(lianhe_box.config()).unwrap(),
        )
        .leshua(leshua::notify::NotificationParser::new(
            &leshua_box.config(),
        ))
        .payscore(wechat_payscore::Client::new(payscore_box.config()).unwrap());
    let (stats, store) = (receiver.stats(), receiver.store().clone());
    let server = webhooks::serve(receiver.router(), "127.0.0.1:0")
        .await
        .unwrap();
    let http = reqwest::Client::new();

    // Lianhe: no LH header. Each route answers its provider crate's `reject()`.
    let (_, _, body) = signed_sn_notify(1);
    let reply = http
        .post(server.url(webhooks::LIANHE_PATH))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 503);
    assert_eq!(reply.text().await.unwrap(), "fail");

    // LeShua: a notification signed with the wrong key.
    let forged = "<?xml version=\"1.0\" encoding=\"utf-8\"?><leshua><merchant_id>x</merchant_id>\
        <third_order_id>T1</third_order_id><status>2</status><amount>100</amount>\
        <sign>0123456789ABCDEF0123456789ABCDEF</sign></leshua>";
    let reply = http
        .post(server.url(webhooks::LESHUA_PATH))
        .body(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 500);
    assert_eq!(reply.text().await.unwrap(), "fail");

    // PayScore: no Wechatpay-* headers at all.
    let reply = http
        .post(server.url(webhooks::PAYSCORE_PATH))
        .body(r#"{"id":"EV-1","event_type":"PAYSCORE.USER_PAID","resource":{}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 500);
    let text = reply.text().await.unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        serde_json::json!({"code": "FAIL", "message": "rejected"})
    );

    for provider in Provider::ALL {
        assert_eq!(stats.counts(provider), REFUSED, "{provider:?}");
    }
    assert!(store.events().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lianhe_event_that_cannot_be_confirmed_is_not_stored_and_comes_again() {
    let lianhe_box = LianheSandbox::start().await.unwrap();
    // Lianhe's API cannot be reached: nothing that says the claim is true.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let receiver = Receiver::new(memory_store().await, Ledger).lianhe(
        lianhe::notify::NotificationParser::new(&lianhe_box.config()),
        lianhe::Client::new(lianhe_box.config().base_url(dead)).unwrap(),
    );
    let (stats, store) = (receiver.stats(), receiver.store().clone());
    let server = webhooks::serve(receiver.router(), "127.0.0.1:0")
        .await
        .unwrap();

    let (date, authorization, body) = signed_sn_notify(1);
    let reply = reqwest::Client::new()
        .post(server.url(webhooks::LIANHE_PATH))
        .header("Date", date)
        .header("Authorization", authorization)
        .body(body)
        .send()
        .await
        .unwrap();
    // Not `success`: Lianhe delivers again later, when the claim can be checked.
    assert_eq!(reply.status(), 503);
    assert_eq!(reply.text().await.unwrap(), "fail");
    assert_eq!(stats.counts(Provider::Lianhe), REFUSED);
    assert!(store.events().await.unwrap().is_empty());
}
