//! [`SqliteStore`] (feature `sqlite`): the durable
//! [`DeliveryStore`](super::DeliveryStore) in one SQLite file, the embedded
//! default. Nothing to run; several processes on one host can share the file.
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

mod call;
mod ops;
mod read;
mod schema;
mod store;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, SystemTime};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::sql::millis;
use super::{Clock, DeliveryKey, Retention, StoreError, StoreFuture, Token};
use call::{Answer, Call, Deliver, Op, Reply, UserWork};
use ops::complete;
use writer::Writer;

/// A [`DeliveryStore`](super::DeliveryStore) in a SQLite file. See the
/// [module docs](self).
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

fn sql(error: rusqlite::Error) -> StoreError {
    StoreError::backend(error)
}
