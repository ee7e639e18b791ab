//! [`SqliteStore`] (feature `sqlite`): the durable [`DeliveryStore`] in one
//! SQLite file, the embedded default. Nothing to run; several processes on
//! one host can share the file.
//!
//! One thread per store owns the connection. Calls are queued to it, and
//! whatever is queued when it is free runs in **one** transaction (`BEGIN
//! IMMEDIATE`, each call in a savepoint of its own): one commit, so one
//! fsync, for a whole batch of concurrent accepts, claims and completions,
//! and nobody is answered before the commit that holds their change. The
//! file is in WAL mode with `synchronous=FULL`, and a busy timeout lets
//! processes take turns at the write lock.
//!
//! # Tables
//!
//! The store creates and versions its tables itself when it opens:
//!
//! - `icr_deliveries`: one row per delivery key (`hook_id`, `guid`) with its
//!   `state`, fencing `token`, `due` time (retry time or lease end, in ms
//!   since the Unix epoch), `attempts`, `updated_at`, and for inbox rows
//!   `received_at`, `headers` (JSON), `body_len` and `last_error`;
//! - `icr_bodies`: the exact body of each inbox row, by the same key, apart
//!   so that the row's updates never rewrite it;
//! - `icr_meta`: the tables' version and the next fencing token.
//!
//! # Your writes in the same transaction
//!
//! [`SqliteStore::transaction`] runs a closure on the store's connection,
//! inside the store's transaction; with [`complete_in`] there, the closure's
//! writes and the delivery's completion are committed together or not at
//! all:
//!
//! ```no_run
//! use icr_webhooks::once::sqlite::{SqliteStore, complete_in};
//! use icr_webhooks::once::Job;
//!
//! async fn handle(store: &SqliteStore, job: Job) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//!     let (key, token) = (job.key().clone(), job.token());
//!     let guid = job.delivery.info.id.as_str().to_owned();
//!     store
//!         .transaction(move |db| {
//!             db.execute("INSERT INTO credits_seen (delivery) VALUES (?1)", [&guid])?;
//!             complete_in(db, &key, token)?;
//!             Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
//!         })
//!         .await??;
//!     Ok(())
//! }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio::sync::oneshot;

use super::sql::{
    RowColumns, SCHEMA_VERSION, filter_condition, headers_json, hook_column, key_of, millis,
    state_of, stored_of,
};
use super::{
    Accepted, Begin, ClaimedJob, Clock, DeliveryKey, DeliveryStore, Lease, ListFilter, Purge,
    Purged, Record, Retention, State, Stats, StoreError, StoreFuture, StoredDelivery, Token,
    duration_millis, from_millis,
};
use crate::DeliveryId;

/// How many queued calls one transaction takes at most.
const MAX_BATCH: usize = 512;

/// A [`DeliveryStore`] in a SQLite file. See the [module docs](self).
///
/// Cheap to clone: clones share the connection's thread. The thread ends
/// when the last clone is dropped.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    calls: Mutex<mpsc::Sender<Call>>,
    path: PathBuf,
    commits: Arc<std::sync::atomic::AtomicU64>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// Configures a [`SqliteStore`].
#[must_use]
#[derive(Debug)]
pub struct SqliteStoreBuilder {
    path: PathBuf,
    busy_timeout: Duration,
    retention: Retention,
    clock: Clock,
}

impl SqliteStoreBuilder {
    /// How long a call waits for another process's write lock before it
    /// fails; 5 s unless set.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// What the store forgets, and when.
    pub fn retention(mut self, retention: Retention) -> Self {
        self.retention = Retention {
            interval: retention.interval.max(Duration::from_secs(1)),
            ..retention
        };
        self
    }

    /// Where the store reads the time; the system clock unless set.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Opens (or creates) the file, creates or migrates the tables, and
    /// starts the connection's thread.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the file cannot be opened or set up;
    /// [`StoreError::SchemaTooNew`] when a newer version of this crate made
    /// its tables.
    pub async fn open(self) -> Result<SqliteStore, StoreError> {
        let (ready, opened) = oneshot::channel();
        let (calls, queue) = mpsc::channel::<Call>();
        let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let path = self.path.clone();
        let counted = Arc::clone(&commits);
        thread::Builder::new()
            .name("icr-sqlite".to_owned())
            .spawn(move || {
                let writer = match Writer::open(&self, counted) {
                    Ok(writer) => {
                        let _ = ready.send(Ok(()));
                        writer
                    }
                    Err(error) => {
                        let _ = ready.send(Err(error));
                        return;
                    }
                };
                writer.run(&queue);
            })
            .map_err(StoreError::backend)?;
        opened.await.map_err(|_| StoreError::Closed)??;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                calls: Mutex::new(calls),
                path,
                commits,
            }),
        })
    }
}

impl SqliteStore {
    /// Opens the store in `path` with the defaults: 5 s busy timeout,
    /// default [`Retention`], the system clock.
    ///
    /// # Errors
    /// As [`SqliteStoreBuilder::open`].
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::builder(path).open().await
    }

    /// A builder for the store in `path`.
    pub fn builder(path: impl AsRef<Path>) -> SqliteStoreBuilder {
        SqliteStoreBuilder {
            path: path.as_ref().to_owned(),
            busy_timeout: Duration::from_secs(5),
            retention: Retention::default(),
            clock: Clock::system(),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How many transactions this store committed since it opened: with
    /// group commit, far fewer than the calls made.
    pub fn commits(&self) -> u64 {
        self.inner
            .commits
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs `work` on the store's connection inside the store's
    /// transaction (in a savepoint of its own): its writes are committed
    /// with the batch when it returns `Ok`, and rolled back when it returns
    /// `Err`. With [`complete_in`] there, a delivery's completion is
    /// committed together with the writes.
    ///
    /// The outer `Result` is the store's: the commit failed or the store is
    /// closed, and nothing was written; the inner one is `work`'s.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the transaction could not be committed.
    pub async fn transaction<T, E>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<Result<T, E>, StoreError>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<Result<T, E>, StoreError>>();
        // Answered once: with the result after the commit, or with the
        // store's error when the batch fails before `work` could run.
        let slot = Arc::new(Mutex::new(Some(reply)));
        let on_error = Arc::clone(&slot);
        let job: UserWork = Box::new(move |db| {
            let result = work(db);
            let keep = result.is_ok();
            let deliver: Deliver = Box::new(move |committed| {
                let reply = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
                if let Some(reply) = reply {
                    let _ = reply.send(committed.map(|()| result));
                }
            });
            (keep, deliver)
        });
        let failed: Box<dyn FnOnce(Result<Answer, StoreError>) + Send> = Box::new(move |answer| {
            if let Err(error) = answer {
                let reply = on_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                if let Some(reply) = reply {
                    let _ = reply.send(Err(error));
                }
            }
        });
        self.send(Op::User(job), Reply::Done(failed))?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    fn send(&self, op: Op, reply: Reply) -> Result<(), StoreError> {
        let calls = self
            .inner
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        calls
            .send(Call { op, reply })
            .map_err(|_| StoreError::Closed)
    }

    fn call<'a, T: Send + 'static>(
        &'a self,
        op: Op,
        unpack: fn(Answer) -> Option<T>,
    ) -> StoreFuture<'a, T> {
        let (reply, answer) = oneshot::channel::<Result<Answer, StoreError>>();
        let sent = self.send(op, Reply::Answer(reply));
        Box::pin(async move {
            sent?;
            let answer = answer.await.map_err(|_| StoreError::Closed)??;
            unpack(answer).ok_or(StoreError::Closed)
        })
    }
}

/// Marks `key` done in the store's tables if the claim `token` still holds
/// it, on `db`: the connection [`SqliteStore::transaction`] hands out (or
/// your own connection to the same file, inside your transaction). The row
/// is stamped with the system clock.
///
/// # Errors
/// [`StoreError::Fenced`] when the claim was taken over or settled: roll
/// your writes back (return the error from the closure).
pub fn complete_in(db: &Connection, key: &DeliveryKey, token: Token) -> Result<(), StoreError> {
    let now = millis(SystemTime::now());
    complete(db, key, token, now)
}

/// A call to the connection's thread.
struct Call {
    op: Op,
    reply: Reply,
}

/// A closure of [`SqliteStore::transaction`]: whether to keep its writes,
/// and how to answer once the batch is committed (or failed).
type UserWork = Box<dyn FnOnce(&Connection) -> (bool, Deliver) + Send>;

type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

enum Op {
    Begin(DeliveryKey, Duration),
    Renew(DeliveryKey, Token, Duration),
    Complete(DeliveryKey, Token),
    Abort(DeliveryKey, Token),
    Accept(StoredDelivery),
    ClaimJobs(usize, Duration),
    Fail(DeliveryKey, Token, Option<SystemTime>, String),
    Stats,
    List(ListFilter, usize),
    Get(DeliveryId),
    Retry(Option<DeliveryId>),
    Purge(Purge),
    User(UserWork),
}

impl Op {
    /// Whether the call runs more than one statement (or a closure), and so
    /// needs a savepoint to be undone alone.
    fn needs_savepoint(&self) -> bool {
        matches!(
            self,
            Self::Begin(..)
                | Self::Accept(_)
                | Self::ClaimJobs(..)
                | Self::Purge(_)
                | Self::User(_)
        )
    }
}

enum Answer {
    Begin(Begin),
    Expires(SystemTime),
    Unit,
    Accepted(Accepted),
    Jobs(Vec<ClaimedJob>),
    Stats(Stats),
    Records(Vec<Record>),
    Found(Vec<(Record, Option<StoredDelivery>)>),
    Count(u64),
    Purged(Purged),
    /// A user transaction's answer, given once the batch is committed.
    User(Deliver),
}

enum Reply {
    Answer(oneshot::Sender<Result<Answer, StoreError>>),
    /// Nobody awaits the answer (a release from a drop, a user transaction
    /// that answers by itself).
    Done(Box<dyn FnOnce(Result<Answer, StoreError>) + Send>),
}

impl Reply {
    fn send(self, answer: Result<Answer, StoreError>) {
        match self {
            Self::Answer(sender) => {
                let _ = sender.send(answer);
            }
            Self::Done(done) => done(answer),
        }
    }
}

/// The connection's thread.
struct Writer {
    db: Connection,
    clock: Clock,
    retention: Retention,
    last_purge: Instant,
    commits: Arc<std::sync::atomic::AtomicU64>,
}

impl Writer {
    fn open(
        config: &SqliteStoreBuilder,
        commits: Arc<std::sync::atomic::AtomicU64>,
    ) -> Result<Self, StoreError> {
        let mut db = Connection::open(&config.path).map_err(StoreError::backend)?;
        db.busy_timeout(config.busy_timeout)
            .map_err(StoreError::backend)?;
        // Pages of 8 KiB hold a 4 KiB body whole (only a new file takes it).
        db.pragma_update(None, "page_size", 8192)
            .map_err(StoreError::backend)?;
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(StoreError::backend)?;
        db.pragma_update(None, "synchronous", "FULL")
            .map_err(StoreError::backend)?;
        // The one connection's thread is the store's bottleneck under load:
        // a larger WAL between checkpoints (40 MiB) writes a hot page back
        // once for many commits.
        db.pragma_update(None, "wal_autocheckpoint", 5000)
            .map_err(StoreError::backend)?;
        migrate(&mut db)?;
        Ok(Self {
            db,
            clock: config.clock.clone(),
            retention: config.retention,
            last_purge: Instant::now(),
            commits,
        })
    }

    fn run(mut self, queue: &mpsc::Receiver<Call>) {
        loop {
            let first = match queue.recv_timeout(self.retention.interval) {
                Ok(call) => call,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.purge_by_retention();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(call) => batch.push(call),
                    Err(_) => break,
                }
            }
            self.run_batch(batch);
            if self.last_purge.elapsed() >= self.retention.interval {
                self.purge_by_retention();
            }
        }
    }

    fn purge_by_retention(&mut self) {
        self.last_purge = Instant::now();
        let purge = Purge::by_retention(&self.retention, self.clock.now());
        let now = self.clock.millis();
        let committed = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .is_ok_and(|tx| purge_rows(&tx, &purge, now).is_ok() && tx.commit().is_ok());
        if committed {
            self.count_commit();
        }
    }

    fn count_commit(&self) {
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Runs the calls in one transaction, each in a savepoint, and answers
    /// them once it is committed.
    fn run_batch(&mut self, batch: Vec<Call>) {
        let mut answers = Vec::with_capacity(batch.len());
        let tx = match self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
        {
            Ok(tx) => tx,
            Err(error) => {
                let message = error.to_string();
                for call in batch {
                    call.reply.send(Err(failed(&message)));
                }
                return;
            }
        };
        let now = self.clock.millis();
        for call in batch {
            let Call { op, reply } = call;
            if !op.needs_savepoint() {
                // One statement: SQLite undoes a failed statement by itself.
                answers.push((reply, apply(&tx, op, now).map(|(answer, _)| answer)));
                continue;
            }
            let result = in_savepoint(&tx, |db| apply(db, op, now));
            answers.push((reply, result));
        }
        match tx.commit() {
            Ok(()) => {
                self.count_commit();
                for (reply, result) in answers {
                    match result {
                        Ok(Answer::User(deliver)) => deliver(Ok(())),
                        other => reply.send(other),
                    }
                }
            }
            Err(error) => {
                let message = error.to_string();
                for (reply, result) in answers {
                    match result {
                        Ok(Answer::User(deliver)) => deliver(Err(failed(&message))),
                        _ => reply.send(Err(failed(&message))),
                    }
                }
            }
        }
    }
}

/// Runs `work` in a savepoint of the batch's transaction, kept when it
/// says so and undone otherwise. The savepoint statements are prepared once
/// (rusqlite's `Savepoint` parses them for every call).
fn in_savepoint(
    db: &Connection,
    work: impl FnOnce(&Connection) -> Result<(Answer, bool), StoreError>,
) -> Result<Answer, StoreError> {
    let run = |statement: &str| -> Result<(), StoreError> {
        db.prepare_cached(statement)
            .map_err(sql)?
            .execute([])
            .map(|_| ())
            .map_err(sql)
    };
    run("SAVEPOINT icr_call")?;
    let result = work(db);
    if !matches!(result, Ok((_, true))) {
        run("ROLLBACK TO icr_call")?;
    }
    run("RELEASE icr_call")?;
    result.map(|(answer, _)| answer)
}

/// A failure shared by every call of a batch.
fn failed(message: &str) -> StoreError {
    StoreError::backend(std::io::Error::other(format!(
        "sqlite transaction failed: {message}"
    )))
}

fn sql(error: rusqlite::Error) -> StoreError {
    StoreError::backend(error)
}

/// Creates the tables, or migrates them to [`SCHEMA_VERSION`].
fn migrate(db: &mut Connection) -> Result<(), StoreError> {
    let tx = db
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS icr_meta (
             name TEXT PRIMARY KEY,
             value INTEGER NOT NULL
         );",
    )
    .map_err(sql)?;
    let found: Option<i64> = tx
        .query_row(
            "SELECT value FROM icr_meta WHERE name = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql)?;
    match found {
        Some(version) if version > SCHEMA_VERSION => {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Some(version) if version == SCHEMA_VERSION => {}
        // No version yet: the first one. Later versions add their steps
        // here, each from the version before.
        _ => {
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS icr_deliveries (
                     hook_id INTEGER NOT NULL,
                     guid TEXT NOT NULL,
                     state TEXT NOT NULL,
                     token INTEGER NOT NULL DEFAULT 0,
                     due INTEGER NOT NULL DEFAULT 0,
                     attempts INTEGER NOT NULL DEFAULT 0,
                     updated_at INTEGER NOT NULL,
                     received_at INTEGER,
                     headers TEXT,
                     body_len INTEGER,
                     last_error TEXT,
                     PRIMARY KEY (guid, hook_id)
                 );
                 CREATE TABLE IF NOT EXISTS icr_bodies (
                     guid TEXT NOT NULL,
                     hook_id INTEGER NOT NULL,
                     body BLOB NOT NULL,
                     PRIMARY KEY (guid, hook_id)
                 );
                 CREATE INDEX IF NOT EXISTS icr_deliveries_due
                     ON icr_deliveries (due)
                     WHERE headers IS NOT NULL AND state IN ('pending', 'active');
                 CREATE INDEX IF NOT EXISTS icr_deliveries_updated
                     ON icr_deliveries (updated_at);
                 INSERT OR IGNORE INTO icr_meta (name, value) VALUES ('next_token', 1);",
            )
            .map_err(sql)?;
            tx.execute(
                "INSERT OR REPLACE INTO icr_meta (name, value) VALUES ('schema_version', ?1)",
                [SCHEMA_VERSION],
            )
            .map_err(sql)?;
        }
    }
    tx.commit().map_err(sql)
}

/// Takes the next fencing token.
fn next_token(db: &Connection) -> Result<i64, StoreError> {
    next_tokens(db, 1)
}

/// Takes `count` fencing tokens at once: the first of them.
fn next_tokens(db: &Connection, count: i64) -> Result<i64, StoreError> {
    db.prepare_cached(
        "UPDATE icr_meta SET value = value + ?1 WHERE name = 'next_token' RETURNING value - ?1",
    )
    .map_err(sql)?
    .query_row([count], |row| row.get(0))
    .map_err(sql)
}

fn token_column(token: Token) -> i64 {
    i64::try_from(token.0).unwrap_or(i64::MAX)
}

fn token_of(column: i64) -> Token {
    Token(u64::try_from(column).unwrap_or(0))
}

/// Runs one call; the flag says whether its writes are kept.
fn apply(db: &Connection, op: Op, now: i64) -> Result<(Answer, bool), StoreError> {
    let answer = match op {
        Op::Begin(key, lease) => Answer::Begin(begin(db, &key, lease, now)?),
        Op::Renew(key, token, lease) => {
            let until = now.saturating_add(duration_millis(lease));
            fenced(
                db,
                &key,
                token,
                "UPDATE icr_deliveries SET due = ?4, updated_at = ?3
                 WHERE hook_id = ?1 AND guid = ?2 AND state = 'active' AND token = ?5",
                now,
                Some(until),
            )?;
            Answer::Expires(from_millis(until))
        }
        Op::Complete(key, token) => {
            complete(db, &key, token, now)?;
            Answer::Unit
        }
        Op::Abort(key, token) => {
            fenced(
                db,
                &key,
                token,
                "UPDATE icr_deliveries
                 SET state = CASE WHEN headers IS NULL THEN 'free' ELSE 'pending' END,
                     due = CASE WHEN headers IS NULL THEN 0 ELSE ?3 END,
                     attempts = max(attempts - 1, 0), updated_at = ?3
                 WHERE hook_id = ?1 AND guid = ?2 AND state = 'active' AND token = ?5",
                now,
                None,
            )?;
            Answer::Unit
        }
        Op::Accept(delivery) => Answer::Accepted(accept(db, &delivery, now)?),
        Op::ClaimJobs(max, lease) => Answer::Jobs(claim_jobs(db, max, lease, now)?),
        Op::Fail(key, token, retry_at, reason) => {
            let sql_text = match retry_at {
                Some(_) => {
                    "UPDATE icr_deliveries
                     SET state = CASE WHEN headers IS NULL THEN 'free' ELSE 'pending' END,
                         due = CASE WHEN headers IS NULL THEN 0 ELSE ?4 END,
                         last_error = ?6, updated_at = ?3
                     WHERE hook_id = ?1 AND guid = ?2 AND state = 'active' AND token = ?5"
                }
                None => {
                    "UPDATE icr_deliveries
                     SET state = CASE WHEN headers IS NULL THEN 'free' ELSE 'dead' END,
                         due = 0, last_error = ?6, updated_at = ?3
                     WHERE hook_id = ?1 AND guid = ?2 AND state = 'active' AND token = ?5"
                }
            };
            let changed = db
                .execute(
                    sql_text,
                    params![
                        hook_column(&key)?,
                        key.id.as_str(),
                        now,
                        retry_at.map(super::to_millis_ceil).unwrap_or(0),
                        token_column(token),
                        reason
                    ],
                )
                .map_err(sql)?;
            if changed == 0 {
                return Err(StoreError::Fenced);
            }
            Answer::Unit
        }
        Op::Stats => Answer::Stats(stats(db)?),
        Op::List(filter, limit) => Answer::Records(list(db, filter, limit)?),
        Op::Get(id) => Answer::Found(get(db, &id)?),
        Op::Retry(id) => {
            let changed = db
                .execute(
                    "UPDATE icr_deliveries SET state = 'pending', attempts = 0, due = ?1, updated_at = ?1
                     WHERE state = 'dead' AND (?2 IS NULL OR guid = ?2)",
                    params![now, id.as_ref().map(DeliveryId::as_str)],
                )
                .map_err(sql)?;
            Answer::Count(changed as u64)
        }
        Op::Purge(purge) => Answer::Purged(purge_rows(db, &purge, now)?),
        Op::User(work) => {
            let (keep, deliver) = work(db);
            return Ok((Answer::User(deliver), keep));
        }
    };
    Ok((answer, true))
}

/// A change that the claim `token` must still hold; `Fenced` otherwise.
/// Parameters: 1 hook, 2 GUID, 3 now, 4 `extra`, 5 token (a statement
/// may leave 4 out: SQLite counts parameters by their highest number).
fn fenced(
    db: &Connection,
    key: &DeliveryKey,
    token: Token,
    statement: &str,
    now: i64,
    extra: Option<i64>,
) -> Result<(), StoreError> {
    let changed = db
        .prepare_cached(statement)
        .map_err(sql)?
        .execute(params![
            hook_column(key)?,
            key.id.as_str(),
            now,
            extra.unwrap_or(0),
            token_column(token)
        ])
        .map_err(sql)?;
    if changed == 0 {
        return Err(StoreError::Fenced);
    }
    Ok(())
}

fn complete(db: &Connection, key: &DeliveryKey, token: Token, now: i64) -> Result<(), StoreError> {
    fenced(
        db,
        key,
        token,
        "UPDATE icr_deliveries SET state = 'done', due = 0, updated_at = ?3
         WHERE hook_id = ?1 AND guid = ?2 AND state = 'active' AND token = ?5",
        now,
        None,
    )
}

fn begin(
    db: &Connection,
    key: &DeliveryKey,
    lease: Duration,
    now: i64,
) -> Result<Begin, StoreError> {
    let hook = hook_column(key)?;
    let found: Option<(String, i64, bool)> = db
        .prepare_cached(
            "SELECT state, due, headers IS NOT NULL FROM icr_deliveries
             WHERE hook_id = ?1 AND guid = ?2",
        )
        .map_err(sql)?
        .query_row(params![hook, key.id.as_str()], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()
        .map_err(sql)?;
    if let Some((state, due, inbox)) = &found {
        match state_of(state)? {
            State::Done | State::Dead => return Ok(Begin::Done),
            State::Pending => return Ok(Begin::InProgress { expires: None }),
            State::Active if *inbox || *due > now => {
                return Ok(Begin::InProgress {
                    expires: Some(from_millis(*due)),
                });
            }
            State::Active | State::Free => {}
        }
    }
    let token = next_token(db)?;
    let until = now.saturating_add(duration_millis(lease));
    db.prepare_cached(
        "INSERT INTO icr_deliveries (hook_id, guid, state, token, due, attempts, updated_at)
         VALUES (?1, ?2, 'active', ?3, ?4, 1, ?5)
         ON CONFLICT (guid, hook_id) DO UPDATE
         SET state = 'active', token = ?3, due = ?4, attempts = attempts + 1, updated_at = ?5",
    )
    .map_err(sql)?
    .execute(params![hook, key.id.as_str(), token, until, now])
    .map_err(sql)?;
    Ok(Begin::New(Lease {
        token: token_of(token),
        expires: from_millis(until),
    }))
}

fn accept(db: &Connection, delivery: &StoredDelivery, now: i64) -> Result<Accepted, StoreError> {
    let hook = hook_column(&delivery.key)?;
    let changed = db
        .prepare_cached(
            "INSERT INTO icr_deliveries
                 (hook_id, guid, state, due, updated_at, received_at, headers, body_len)
             VALUES (?1, ?2, 'pending', ?3, ?3, ?4, ?5, ?6)
             ON CONFLICT (guid, hook_id) DO NOTHING",
        )
        .map_err(sql)?
        .execute(params![
            hook,
            delivery.key.id.as_str(),
            now,
            millis(delivery.received_at),
            headers_json(&delivery.headers)?,
            i64::try_from(delivery.body.len()).unwrap_or(i64::MAX)
        ])
        .map_err(sql)?;
    if changed == 0 {
        return Ok(Accepted::Duplicate);
    }
    // The body in a table of its own: the row's many small updates (claims,
    // completions) then never rewrite it.
    db.prepare_cached("INSERT INTO icr_bodies (guid, hook_id, body) VALUES (?1, ?2, ?3)")
        .map_err(sql)?
        .execute(params![delivery.key.id.as_str(), hook, &delivery.body[..]])
        .map_err(sql)?;
    Ok(Accepted::Stored)
}

fn claim_jobs(
    db: &Connection,
    max: usize,
    lease: Duration,
    now: i64,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let limit = i64::try_from(max).unwrap_or(i64::MAX);
    let due: Vec<(i64, String)> = db
        .prepare_cached(
            "SELECT hook_id, guid FROM icr_deliveries
             WHERE headers IS NOT NULL AND state IN ('pending', 'active') AND due <= ?1
             ORDER BY due, hook_id, guid LIMIT ?2",
        )
        .map_err(sql)?
        .query_map(params![now, limit], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(sql)?
        .collect::<Result<_, _>>()
        .map_err(sql)?;
    let until = now.saturating_add(duration_millis(lease));
    let mut jobs = Vec::with_capacity(due.len());
    if due.is_empty() {
        return Ok(jobs);
    }
    let first = next_tokens(db, i64::try_from(due.len()).unwrap_or(i64::MAX))?;
    for (token, (hook, guid)) in (first..).zip(due) {
        let (attempts, received_at, headers): (i64, i64, String) = db
            .prepare_cached(
                "UPDATE icr_deliveries
                 SET state = 'active', token = ?3, due = ?4, attempts = attempts + 1, updated_at = ?5
                 WHERE hook_id = ?1 AND guid = ?2
                 RETURNING attempts, received_at, headers",
            )
            .map_err(sql)?
            .query_row(params![hook, guid, token, until, now], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .map_err(sql)?;
        let body: Vec<u8> = db
            .prepare_cached("SELECT body FROM icr_bodies WHERE guid = ?1 AND hook_id = ?2")
            .map_err(sql)?
            .query_row(params![guid, hook], |row| row.get(0))
            .map_err(sql)?;
        jobs.push(ClaimedJob {
            delivery: stored_of(key_of(hook, &guid)?, &headers, body, received_at)?,
            lease: Lease {
                token: token_of(token),
                expires: from_millis(until),
            },
            attempt: u32::try_from(attempts).unwrap_or(u32::MAX),
        });
    }
    Ok(jobs)
}

fn stats(db: &Connection) -> Result<Stats, StoreError> {
    let mut stats = Stats::default();
    let mut statement = db
        .prepare_cached(
            "SELECT state, count(*), sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END)
             FROM icr_deliveries GROUP BY state",
        )
        .map_err(sql)?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })
        .map_err(sql)?;
    for row in rows {
        let (state, count, failed) = row.map_err(sql)?;
        let count = u64::try_from(count).unwrap_or(0);
        match state_of(&state)? {
            State::Free => stats.free = count,
            State::Pending => {
                stats.pending = count;
                stats.failed = u64::try_from(failed).unwrap_or(0);
            }
            State::Active => stats.active = count,
            State::Done => stats.done = count,
            State::Dead => stats.dead = count,
        }
    }
    Ok(stats)
}

const RECORD_COLUMNS: &str =
    "d.hook_id, d.guid, state, due, attempts, updated_at, received_at, last_error, body_len";

fn columns(row: &rusqlite::Row<'_>) -> rusqlite::Result<RowColumns> {
    Ok(RowColumns {
        hook_id: row.get(0)?,
        guid: row.get(1)?,
        state: row.get(2)?,
        due: row.get(3)?,
        attempts: row.get(4)?,
        updated_at: row.get(5)?,
        received_at: row.get(6)?,
        last_error: row.get(7)?,
        body_len: row.get(8)?,
    })
}

fn list(db: &Connection, filter: ListFilter, limit: usize) -> Result<Vec<Record>, StoreError> {
    let statement = format!(
        "SELECT {RECORD_COLUMNS} FROM icr_deliveries AS d WHERE {} ORDER BY updated_at, hook_id, guid LIMIT ?1",
        filter_condition(filter)
    );
    let mut statement = db.prepare(&statement).map_err(sql)?;
    let rows = statement
        .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], columns)
        .map_err(sql)?;
    rows.map(|row| row.map_err(sql)?.record()).collect()
}

fn get(
    db: &Connection,
    id: &DeliveryId,
) -> Result<Vec<(Record, Option<StoredDelivery>)>, StoreError> {
    let statement = format!(
        "SELECT {RECORD_COLUMNS}, headers, b.body FROM icr_deliveries AS d
         LEFT JOIN icr_bodies AS b ON b.guid = d.guid AND b.hook_id = d.hook_id
         WHERE d.guid = ?1 ORDER BY d.hook_id"
    );
    let mut statement = db.prepare(&statement).map_err(sql)?;
    let rows = statement
        .query_map([id.as_str()], |row| {
            Ok((
                columns(row)?,
                row.get::<_, Option<String>>(9)?,
                row.get::<_, Option<Vec<u8>>>(10)?,
            ))
        })
        .map_err(sql)?;
    let mut found = Vec::new();
    for row in rows {
        let (columns, headers, body) = row.map_err(sql)?;
        let received_at = columns.received_at;
        let record = columns.record()?;
        let stored = match (headers, body, received_at) {
            (Some(headers), Some(body), Some(received_at)) => {
                Some(stored_of(record.key.clone(), &headers, body, received_at)?)
            }
            _ => None,
        };
        found.push((record, stored));
    }
    Ok(found)
}

fn purge_rows(db: &Connection, purge: &Purge, now: i64) -> Result<Purged, StoreError> {
    let _ = now;
    const GONE: &str = "updated_at < ?1 AND (state IN ('done', 'free') OR (?2 AND state = 'dead'))";
    let gone = params![millis(purge.before), purge.dead];
    db.execute(
        &format!(
            "DELETE FROM icr_bodies WHERE (guid, hook_id) IN
                 (SELECT guid, hook_id FROM icr_deliveries WHERE {GONE})"
        ),
        gone,
    )
    .map_err(sql)?;
    let rows = db
        .execute(&format!("DELETE FROM icr_deliveries WHERE {GONE}"), gone)
        .map_err(sql)?;
    let bodies = match purge.bodies_before {
        Some(before) => {
            const OLD: &str = "state = 'done' AND body_len IS NOT NULL AND updated_at < ?1";
            db.execute(
                &format!(
                    "DELETE FROM icr_bodies WHERE (guid, hook_id) IN
                         (SELECT guid, hook_id FROM icr_deliveries WHERE {OLD})"
                ),
                [millis(before)],
            )
            .map_err(sql)?;
            db.execute(
                &format!("UPDATE icr_deliveries SET body_len = NULL WHERE {OLD}"),
                [millis(before)],
            )
            .map_err(sql)?
        }
        None => 0,
    };
    Ok(Purged {
        rows: rows as u64,
        bodies: bodies as u64,
    })
}

impl DeliveryStore for SqliteStore {
    fn begin<'a>(&'a self, key: &'a DeliveryKey, lease: Duration) -> StoreFuture<'a, Begin> {
        self.call(Op::Begin(key.clone(), lease), |answer| match answer {
            Answer::Begin(begin) => Some(begin),
            _ => None,
        })
    }

    fn renew<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        lease: Duration,
    ) -> StoreFuture<'a, SystemTime> {
        self.call(
            Op::Renew(key.clone(), token, lease),
            |answer| match answer {
                Answer::Expires(at) => Some(at),
                _ => None,
            },
        )
    }

    fn complete<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        self.call(Op::Complete(key.clone(), token), unit)
    }

    fn abort<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        self.call(Op::Abort(key.clone(), token), unit)
    }

    fn release(&self, key: &DeliveryKey, token: Token) {
        let _ = self.send(Op::Abort(key.clone(), token), Reply::Done(Box::new(|_| ())));
    }

    fn accept(&self, delivery: StoredDelivery) -> StoreFuture<'_, Accepted> {
        self.call(Op::Accept(delivery), |answer| match answer {
            Answer::Accepted(accepted) => Some(accepted),
            _ => None,
        })
    }

    fn claim_jobs(&self, max: usize, lease: Duration) -> StoreFuture<'_, Vec<ClaimedJob>> {
        self.call(Op::ClaimJobs(max, lease), |answer| match answer {
            Answer::Jobs(jobs) => Some(jobs),
            _ => None,
        })
    }

    fn fail<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        retry_at: Option<SystemTime>,
        reason: &'a str,
    ) -> StoreFuture<'a, ()> {
        self.call(
            Op::Fail(key.clone(), token, retry_at, reason.to_owned()),
            unit,
        )
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        self.call(Op::Stats, |answer| match answer {
            Answer::Stats(stats) => Some(stats),
            _ => None,
        })
    }

    fn list(&self, filter: ListFilter, limit: usize) -> StoreFuture<'_, Vec<Record>> {
        self.call(Op::List(filter, limit), |answer| match answer {
            Answer::Records(records) => Some(records),
            _ => None,
        })
    }

    fn get<'a>(
        &'a self,
        id: &'a DeliveryId,
    ) -> StoreFuture<'a, Vec<(Record, Option<StoredDelivery>)>> {
        self.call(Op::Get(id.clone()), |answer| match answer {
            Answer::Found(found) => Some(found),
            _ => None,
        })
    }

    fn retry<'a>(&'a self, id: Option<&'a DeliveryId>) -> StoreFuture<'a, u64> {
        self.call(Op::Retry(id.cloned()), |answer| match answer {
            Answer::Count(count) => Some(count),
            _ => None,
        })
    }

    fn purge(&self, purge: Purge) -> StoreFuture<'_, Purged> {
        self.call(Op::Purge(purge), |answer| match answer {
            Answer::Purged(purged) => Some(purged),
            _ => None,
        })
    }
}

fn unit(answer: Answer) -> Option<()> {
    matches!(answer, Answer::Unit).then_some(())
}
