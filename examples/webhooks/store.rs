//! Where the receiver keeps verified events: one table in SQLite or PostgreSQL, and one
//! transaction per event that claims its key, runs your handler and commits both together.
//!
//! ```text
//! BEGIN                                    (SQLite: BEGIN IMMEDIATE, waiting up to
//!                                           SQLITE_BUSY_TIMEOUT for the write lock)
//! INSERT INTO webhook_events … ON CONFLICT (provider, dedup_key) DO NOTHING
//!   no row inserted → ROLLBACK, Recorded::Duplicate (acknowledge, do nothing)
//! your Handler, on the same transaction    (its writes are the event's business effect)
//!   error or panic  → ROLLBACK, StoreError (answer the provider's failure: it delivers again)
//! UPDATE webhook_events SET processed_at = …
//! COMMIT                                   → Recorded::Processed (acknowledge)
//! ```
//!
//! Two receivers on one database — two processes behind a load balancer — never both
//! process an event: on PostgreSQL the second `INSERT` of a key waits for the first
//! transaction holding it and then finds the row (or, if that one rolled back, inserts it
//! and processes); on SQLite `BEGIN IMMEDIATE` lets one writer in at a time and the others
//! wait. Nothing is acknowledged before its commit, so a crash at any point leaves either
//! nothing (the provider delivers again) or the event and its effect together.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tixpay::core::SharedClock;

/// The table, in SQL that SQLite and PostgreSQL both take as written. Times are
/// milliseconds since the Unix epoch (UTC) from the receiver's clock; `event` is the
/// verified event as JSON text (on PostgreSQL, `event::jsonb` queries it).
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS webhook_events (
    provider     TEXT   NOT NULL,
    dedup_key    TEXT   NOT NULL,
    event        TEXT   NOT NULL,
    received_at  BIGINT NOT NULL,
    processed_at BIGINT,
    PRIMARY KEY (provider, dedup_key)
);";

/// How long a SQLite transaction waits for another receiver's write to finish: longer
/// than providers wait for an answer, so a delivery is refused only when something is
/// stuck (and then it is delivered again).
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How many PostgreSQL connections one receiver opens at most.
pub(crate) const POSTGRES_POOL_SIZE: usize = 8;

/// Errors of the database or of a handler.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What your service does with a verified event, in the transaction that records it.
///
/// Write the event's business effect (mark the order paid, book the refund) through the
/// transaction you are given and nowhere else: the receiver commits it together with the
/// event's key, or rolls both back. Return an error to roll back and make the provider
/// deliver again. Implement the method of the database you use; the other may return an
/// error.
pub(crate) trait Handler<E>: Send + Sync + 'static {
    /// On SQLite: runs on a blocking thread, inside `BEGIN IMMEDIATE`.
    fn sqlite(&self, tx: &rusqlite::Transaction<'_>, event: &E) -> Result<(), BoxError>;

    /// On PostgreSQL: inside `BEGIN` (read committed), after the event's key was inserted.
    fn postgres(
        &self,
        tx: &tokio_postgres::Transaction<'_>,
        event: &E,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// Which database, from configuration.
#[derive(Clone)]
pub(crate) enum Database {
    /// A SQLite file, created if missing, in WAL mode. Receivers sharing it must run on
    /// one machine (SQLite's locks do not work over network file systems).
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database: gone when the receiver stops, and not shared
    /// with another receiver. For trying things out.
    SqliteMemory,
    /// A PostgreSQL server.
    Postgres(Box<tokio_postgres::Config>),
}

impl fmt::Debug for Database {
    // tokio-postgres's `Config` shows no password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::SqliteFile(path) => f.debug_tuple("SqliteFile").field(path).finish(),
            Database::SqliteMemory => f.write_str("SqliteMemory"),
            Database::Postgres(config) => f.debug_tuple("Postgres").field(config).finish(),
        }
    }
}

impl Database {
    /// Reads a database URL:
    ///
    /// | URL | database |
    /// |---|---|
    /// | `postgres://user:password@host:port/dbname` (or `postgresql://`, or `host=… dbname=…`) | PostgreSQL |
    /// | `sqlite:path/to/file.db` or `sqlite://path/to/file.db` | a SQLite file |
    /// | `sqlite::memory:` | a private in-memory SQLite database |
    ///
    /// The error never repeats the URL, which may hold a password.
    pub(crate) fn parse(url: &str) -> Result<Database, BoxError> {
        let url = url.trim();
        if url == "sqlite::memory:" {
            return Ok(Database::SqliteMemory);
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err("a sqlite: URL needs a file path (or use sqlite::memory:)".into());
            }
            return Ok(Database::SqliteFile(PathBuf::from(path)));
        }
        let postgres = url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.contains("dbname=")
            || url.contains("host=");
        if !postgres {
            return Err("the database URL is neither postgres://… nor sqlite:…".into());
        }
        url.parse::<tokio_postgres::Config>()
            .map(|config| Database::Postgres(Box::new(config)))
            .map_err(|_| "the PostgreSQL URL could not be read (its text is not shown)".into())
    }

    /// `DATABASE_URL` if set, else `default`.
    pub(crate) fn from_env_or(default: Database) -> Result<Database, BoxError> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => Database::parse(&url),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(default),
            Err(std::env::VarError::NotUnicode(_)) => Err("DATABASE_URL is not UTF-8".into()),
        }
    }

    /// A short name for logs, without credentials.
    pub(crate) fn describe(&self) -> String {
        match self {
            Database::SqliteFile(path) => format!("SQLite file {}", path.display()),
            Database::SqliteMemory => "in-memory SQLite".to_owned(),
            Database::Postgres(config) => {
                let hosts: Vec<String> = config
                    .get_hosts()
                    .iter()
                    .map(|h| match h {
                        tokio_postgres::config::Host::Tcp(name) => name.clone(),
                        tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
                    })
                    .collect();
                format!(
                    "PostgreSQL database {} on {}",
                    config.get_dbname().unwrap_or("(the user's)"),
                    hosts.join(",")
                )
            }
        }
    }
}

/// Whether [`Store::record`] processed the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// New: the handler ran and its effect is committed with the event.
    Processed,
    /// Its key was already committed: nothing ran. Acknowledge it all the same (the
    /// provider missed the earlier answer).
    Duplicate,
}

/// Why an event was not recorded. Either way nothing of it was committed: answer the
/// provider's failure reply so that it delivers again.
#[derive(Debug)]
pub(crate) enum StoreError {
    /// The database refused or could not be reached.
    Database(BoxError),
    /// The handler returned an error (or panicked).
    Handler(BoxError),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Database(e) => write!(f, "database: {e}"),
            StoreError::Handler(e) => write!(f, "handler: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

/// One row of `webhook_events`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredEvent {
    pub(crate) provider: String,
    pub(crate) dedup_key: String,
    pub(crate) event: serde_json::Value,
    pub(crate) received_at: i64,
    pub(crate) processed_at: Option<i64>,
}

/// A receiver's handle on the database: cheap to clone. Each [`Store::open`] has its own
/// connections, as a separate process would.
#[derive(Clone)]
pub(crate) struct Store {
    backend: Arc<Backend>,
    clock: SharedClock,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("database", &self.backend.database)
            .finish_non_exhaustive()
    }
}

struct Backend {
    database: Database,
    kind: Kind,
}

enum Kind {
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    Postgres(Arc<Pool>),
}

impl Store {
    /// Connects and creates the table if it is missing. Rows are timed by `clock`
    /// (`Arc::new(SystemClock)` in a service).
    pub(crate) async fn open(database: Database, clock: SharedClock) -> Result<Store, StoreError> {
        let kind = match &database {
            Database::SqliteFile(_) | Database::SqliteMemory => {
                let database = database.clone();
                let conn = blocking(move || open_sqlite(&database)).await??;
                Kind::Sqlite(Arc::new(Mutex::new(conn)))
            }
            Database::Postgres(config) => Kind::Postgres(Arc::new(Pool::new((**config).clone()))),
        };
        let store = Store {
            backend: Arc::new(Backend { database, kind }),
            clock,
        };
        store.migrate(SCHEMA).await?;
        Ok(store)
    }

    /// What this store is connected to, without credentials.
    pub(crate) fn describe(&self) -> String {
        self.backend.database.describe()
    }

    /// Runs `sql` (statements valid on this database, such as `CREATE TABLE IF NOT EXISTS`)
    /// in one transaction, one receiver at a time.
    pub(crate) async fn migrate(&self, sql: &str) -> Result<(), StoreError> {
        match &self.backend.kind {
            Kind::Sqlite(conn) => {
                let (conn, sql) = (Arc::clone(conn), sql.to_owned());
                blocking(move || {
                    let mut conn = lock(&conn)?;
                    let tx =
                        conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                    tx.execute_batch(&sql)?;
                    tx.commit()?;
                    Ok(())
                })
                .await?
            }
            Kind::Postgres(pool) => {
                let mut client = pool.get().await?;
                let result = migrate_postgres(&mut client, sql).await;
                client.reuse_if(result.is_ok());
                result
            }
        }
    }

    /// Records `event` under `(provider, dedup_key)` and runs `handler` on it in the same
    /// transaction, unless that key is already recorded.
    ///
    /// `Ok` is the moment to acknowledge: the event and its effect are committed (or were
    /// by an earlier delivery). `Err`: nothing of this delivery was committed — or, when
    /// the connection broke during `COMMIT`, that is unknown. Either way the provider's
    /// failure reply is safe: its next delivery is processed, or found recorded.
    pub(crate) async fn record<E, H>(
        &self,
        provider: &str,
        dedup_key: &str,
        event: E,
        handler: &Arc<H>,
    ) -> Result<Recorded, StoreError>
    where
        E: Serialize + Send + Sync + 'static,
        H: Handler<E>,
    {
        let json = serde_json::to_string(&event).map_err(|e| StoreError::Database(Box::new(e)))?;
        let row = Row {
            provider: provider.to_owned(),
            dedup_key: dedup_key.to_owned(),
            json,
        };
        match &self.backend.kind {
            Kind::Sqlite(conn) => {
                let (conn, handler, clock) = (
                    Arc::clone(conn),
                    Arc::clone(handler),
                    Arc::clone(&self.clock),
                );
                let work = move || record_sqlite(&conn, &row, &event, &*handler, &clock);
                joined(tokio::task::spawn_blocking(work).await)
            }
            Kind::Postgres(pool) => {
                let (pool, handler, clock) = (
                    Arc::clone(pool),
                    Arc::clone(handler),
                    Arc::clone(&self.clock),
                );
                // A task of its own, so that the transaction finishes even if the provider
                // hangs up, and a panicking handler is a failure like any other.
                let work =
                    async move { record_postgres(&pool, &row, &event, &*handler, &clock).await };
                joined(tokio::spawn(work).await)
            }
        }
    }

    /// Every recorded event, oldest first.
    pub(crate) async fn events(&self) -> Result<Vec<StoredEvent>, StoreError> {
        self.select().await
    }

    async fn select(&self) -> Result<Vec<StoredEvent>, StoreError> {
        let decode = |provider: String,
                      dedup_key: String,
                      event: String,
                      received_at: i64,
                      processed_at: Option<i64>|
         -> Result<StoredEvent, StoreError> {
            Ok(StoredEvent {
                provider,
                dedup_key,
                event: serde_json::from_str(&event)
                    .map_err(|e| StoreError::Database(Box::new(e)))?,
                received_at,
                processed_at,
            })
        };
        match &self.backend.kind {
            Kind::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                let raw = blocking(move || {
                    let conn = lock(&conn)?;
                    let mut statement = conn.prepare(
                        "SELECT provider, dedup_key, event, received_at, processed_at
                         FROM webhook_events
                         ORDER BY received_at, provider, dedup_key",
                    )?;
                    let rows = statement.query_map([], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?;
                    Ok::<_, StoreError>(rows.collect::<Result<Vec<_>, _>>()?)
                })
                .await??;
                raw.into_iter()
                    .map(|(p, k, e, r, d)| decode(p, k, e, r, d))
                    .collect()
            }
            Kind::Postgres(pool) => {
                let mut client = pool.get().await?;
                let rows = client
                    .query(
                        "SELECT provider, dedup_key, event, received_at, processed_at
                         FROM webhook_events
                         ORDER BY received_at, provider, dedup_key",
                        &[],
                    )
                    .await;
                client.reuse_if(rows.is_ok());
                rows?
                    .iter()
                    .map(|r| {
                        decode(
                            r.try_get(0)?,
                            r.try_get(1)?,
                            r.try_get(2)?,
                            r.try_get(3)?,
                            r.try_get(4)?,
                        )
                    })
                    .collect()
            }
        }
    }
}

async fn migrate_postgres(
    client: &mut tokio_postgres::Client,
    sql: &str,
) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    // Two receivers starting together would race on `CREATE TABLE IF NOT EXISTS`
    // (PostgreSQL can then fail on its catalog's unique index): one at a time.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(sql).await?;
    tx.commit().await?;
    Ok(())
}

/// Who takes PostgreSQL's migration lock (`pg_advisory_xact_lock`): any fixed number.
const MIGRATION_LOCK: i64 = 0x7469_7870_6179; // "tixpay"

struct Row {
    provider: String,
    dedup_key: String,
    json: String,
}

fn open_sqlite(database: &Database) -> Result<rusqlite::Connection, StoreError> {
    let conn = match database {
        Database::SqliteFile(path) => rusqlite::Connection::open(path)?,
        _ => rusqlite::Connection::open_in_memory()?,
    };
    // Set first, so that everything after it (the WAL switch included) waits for another
    // receiver instead of failing with SQLITE_BUSY.
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    if let Database::SqliteFile(_) = database {
        // WAL: readers do not block the writer; FULL: a commit is on disk before the
        // provider hears "got it".
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database(
                format!("SQLite kept journal mode {mode}, not WAL").into(),
            ));
        }
        conn.execute_batch("PRAGMA synchronous = FULL")?;
    }
    Ok(conn)
}

fn record_sqlite<E, H: Handler<E>>(
    conn: &Mutex<rusqlite::Connection>,
    row: &Row,
    event: &E,
    handler: &H,
    clock: &SharedClock,
) -> Result<Recorded, StoreError> {
    let mut conn = lock(conn)?;
    // Waits (busy_timeout) while another receiver writes; then no one else writes until
    // this commits or rolls back, so the check below cannot go stale.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let inserted = tx.execute(
        "INSERT INTO webhook_events (provider, dedup_key, event, received_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (provider, dedup_key) DO NOTHING",
        rusqlite::params![row.provider, row.dedup_key, row.json, clock.now_millis()],
    )?;
    if inserted == 0 {
        return Ok(Recorded::Duplicate); // dropping `tx` rolls back (it wrote nothing)
    }
    // An error, or a panic unwinding through here, drops `tx`: rolled back.
    handler.sqlite(&tx, event).map_err(StoreError::Handler)?;
    tx.execute(
        "UPDATE webhook_events SET processed_at = ?3 WHERE provider = ?1 AND dedup_key = ?2",
        rusqlite::params![row.provider, row.dedup_key, clock.now_millis()],
    )?;
    tx.commit()?;
    Ok(Recorded::Processed)
}

async fn record_postgres<E: Sync, H: Handler<E>>(
    pool: &Pool,
    row: &Row,
    event: &E,
    handler: &H,
    clock: &SharedClock,
) -> Result<Recorded, StoreError> {
    let mut client = pool.get().await?;
    let result = record_on(&mut client, row, event, handler, clock).await;
    client.reuse_if(result.is_ok());
    result
}

async fn record_on<E: Sync, H: Handler<E>>(
    client: &mut tokio_postgres::Client,
    row: &Row,
    event: &E,
    handler: &H,
    clock: &SharedClock,
) -> Result<Recorded, StoreError> {
    let tx = client.transaction().await?;
    // If another receiver's open transaction holds this key, PostgreSQL makes this wait
    // for it: after its commit nothing is inserted (a duplicate), after its rollback the
    // row is inserted here and processed here.
    let inserted = tx
        .execute(
            "INSERT INTO webhook_events (provider, dedup_key, event, received_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (provider, dedup_key) DO NOTHING",
            &[
                &row.provider,
                &row.dedup_key,
                &row.json,
                &clock.now_millis(),
            ],
        )
        .await?;
    if inserted == 0 {
        tx.rollback().await?;
        return Ok(Recorded::Duplicate);
    }
    if let Err(e) = handler.postgres(&tx, event).await {
        // Dropping `tx` would roll back too; saying it waits for the server's answer.
        tx.rollback().await?;
        return Err(StoreError::Handler(e));
    }
    tx.execute(
        "UPDATE webhook_events SET processed_at = $3 WHERE provider = $1 AND dedup_key = $2",
        &[&row.provider, &row.dedup_key, &clock.now_millis()],
    )
    .await?;
    // If the connection breaks during COMMIT the outcome is unknown here: the provider is
    // told to deliver again, and that delivery finds the key (committed) or processes it.
    tx.commit().await?;
    Ok(Recorded::Processed)
}

/// The result of a task that ran a transaction. A panic there (in the handler) unwound
/// through the transaction, which rolled it back, as if the process had stopped before
/// committing.
fn joined(
    result: Result<Result<Recorded, StoreError>, tokio::task::JoinError>,
) -> Result<Recorded, StoreError> {
    match result {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(StoreError::Handler(
            "the handler panicked; its transaction was rolled back".into(),
        )),
        Err(e) => Err(StoreError::Database(Box::new(e))),
    }
}

/// Runs blocking SQLite work off the async runtime's threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Database(Box::new(e)))
}

/// This receiver's SQLite connection, one transaction at a time.
fn lock(
    conn: &Mutex<rusqlite::Connection>,
) -> Result<std::sync::MutexGuard<'_, rusqlite::Connection>, StoreError> {
    // A panic in a handler poisons the lock after its transaction was rolled back during
    // unwinding; should that rollback have failed, end the transaction here.
    let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
    if !conn.is_autocommit() {
        conn.execute_batch("ROLLBACK")?;
    }
    Ok(conn)
}

/// A few PostgreSQL connections, opened when needed and replaced when broken.
struct Pool {
    config: tokio_postgres::Config,
    idle: Mutex<Vec<tokio_postgres::Client>>,
    permits: tokio::sync::Semaphore,
}

impl Pool {
    fn new(config: tokio_postgres::Config) -> Pool {
        Pool {
            config,
            idle: Mutex::new(Vec::new()),
            permits: tokio::sync::Semaphore::new(POSTGRES_POOL_SIZE),
        }
    }

    async fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| StoreError::Database(Box::new(e)))?;
        let idle = {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            idle.retain(|c| !c.is_closed());
            idle.pop()
        };
        let client = match idle {
            Some(client) => client,
            None => {
                let (client, connection) = self.config.connect(tokio_postgres::NoTls).await?;
                // The connection's own task; when it ends (server gone, connection
                // killed) the client reports it as closed and is not reused.
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                client
            }
        };
        Ok(Pooled {
            client: Some(client),
            reuse: true,
            pool: self,
            _permit: permit,
        })
    }
}

struct Pooled<'a> {
    client: Option<tokio_postgres::Client>,
    reuse: bool,
    pool: &'a Pool,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Pooled<'_> {
    /// After a failure the connection may be dead without knowing it yet (the server
    /// ended it, and its goodbye was taken for the answer): close it rather than reuse it.
    fn reuse_if(&mut self, ok: bool) {
        self.reuse &= ok;
    }
}

impl std::ops::Deref for Pooled<'_> {
    type Target = tokio_postgres::Client;
    fn deref(&self) -> &tokio_postgres::Client {
        self.client
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut tokio_postgres::Client {
        self.client
            .as_mut()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        // A transaction dropped unfinished has queued its ROLLBACK on this connection,
        // which runs before anything the next user sends.
        let reuse = self.reuse;
        if let Some(client) = self.client.take().filter(|c| reuse && !c.is_closed()) {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(client);
        }
    }
}
