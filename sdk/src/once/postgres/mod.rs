//! [`PostgresStore`] (feature `postgres`): the durable
//! [`DeliveryStore`](super::DeliveryStore) on PostgreSQL, for replicas on
//! several hosts.
//!
//! tokio-postgres over a deadpool pool. A delivery is accepted with
//! `INSERT … ON CONFLICT DO NOTHING`; workers claim due deliveries with
//! `FOR UPDATE SKIP LOCKED`, each claim taking a new fencing token from a
//! sequence; every change to a claimed row names its token. Concurrent
//! accepts and completions are sent as one statement per batch (over
//! `unnest` of arrays), so one commit covers many deliveries. No session
//! state is used (no session advisory locks, no `LISTEN`): the store works
//! behind pgbouncer in transaction mode.
//!
//! # Tables
//!
//! Created and versioned when the store connects (under a
//! transaction-level advisory lock, so replicas starting together do not
//! race):
//!
//! - `icr_deliveries`: one row per delivery key (`hook_id`, `guid`), the
//!   columns of the SQLite store's table (times in ms since the Unix epoch,
//!   `body` as `bytea`);
//! - `icr_meta`: the tables' version;
//! - the sequence `icr_delivery_token`: fencing tokens.
//!
//! # Your writes in the same transaction
//!
//! Take a client from [`PostgresStore::pool`], open a transaction, write,
//! and call [`complete_in`] before committing: the writes and the
//! delivery's completion are committed together or not at all.
//!
//! ```no_run
//! use icr_webhooks::once::postgres::{PostgresStore, complete_in};
//! use icr_webhooks::once::Job;
//!
//! async fn handle(store: &PostgresStore, job: Job) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//!     let mut client = store.pool().get().await?;
//!     let tx = client.transaction().await?;
//!     tx.execute("INSERT INTO credits_seen (delivery) VALUES ($1)", &[&job.delivery.info.id.as_str()])
//!         .await?;
//!     complete_in(&tx, job.key(), job.token()).await?;
//!     tx.commit().await?;
//!     Ok(())
//! }
//! ```

mod batch;
mod ops;
mod read;
mod schema;
mod store;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

use super::sql::{hook_column, millis};
use super::{Accepted, Clock, DeliveryKey, Retention, StoreError, StoredDelivery, Token};
use batch::{batch_accepts, batch_completes};
use ops::purge_by_retention;
use schema::migrate;

/// How many accepts or completions one statement takes at most.
const MAX_BATCH: usize = 256;

/// A [`DeliveryStore`](super::DeliveryStore) on PostgreSQL. See the
/// [module docs](self).
///
/// Cheap to clone: clones share the pool and the batching tasks.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    clock: Clock,
    accepts: mpsc::Sender<Batched<StoredDelivery, Accepted>>,
    completes: mpsc::Sender<Batched<Completion, ()>>,
    runtime: tokio::runtime::Handle,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("pool", &self.inner.pool.status())
            .finish_non_exhaustive()
    }
}

type Batched<T, R> = (T, oneshot::Sender<Result<R, StoreError>>);

/// Configures a [`PostgresStore`].
#[must_use]
#[derive(Debug)]
pub struct PostgresStoreBuilder {
    source: Source,
    pool_size: usize,
    retention: Retention,
    clock: Clock,
}

#[derive(Debug)]
enum Source {
    Url(String),
    Pool(Pool),
}

impl PostgresStoreBuilder {
    /// How many connections the pool opens at most (for a pool this builder
    /// makes from a URL); 16 unless set.
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(2);
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

    /// Where the store reads the time; the system clock unless set. Every
    /// replica should read the same time (NTP): leases are compared across
    /// hosts. Fencing keeps a skewed clock from ever completing a delivery
    /// twice; it can only take a claim over early.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Connects, creates or migrates the tables, and starts the batching
    /// and retention tasks on the current tokio runtime.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the URL is malformed or the database
    /// cannot be reached; [`StoreError::SchemaTooNew`] when a newer version
    /// of this crate made its tables.
    pub async fn connect(self) -> Result<PostgresStore, StoreError> {
        let pool = match self.source {
            Source::Pool(pool) => pool,
            Source::Url(url) => {
                let mut config = tokio_postgres::Config::from_str(&url).map_err(pg)?;
                if config.get_connect_timeout().is_none() {
                    config.connect_timeout(Duration::from_secs(3));
                }
                let manager = Manager::from_config(
                    config,
                    NoTls,
                    ManagerConfig {
                        recycling_method: RecyclingMethod::Fast,
                    },
                );
                Pool::builder(manager)
                    .max_size(self.pool_size)
                    .runtime(Runtime::Tokio1)
                    .wait_timeout(Some(Duration::from_secs(5)))
                    .create_timeout(Some(Duration::from_secs(5)))
                    .build()
                    .map_err(StoreError::backend)?
            }
        };
        migrate(&pool).await?;
        let (accepts, accept_queue) = mpsc::channel(4 * MAX_BATCH);
        let (completes, complete_queue) = mpsc::channel(4 * MAX_BATCH);
        let clock = self.clock;
        let tasks = vec![
            tokio::spawn(batch_accepts(pool.clone(), clock.clone(), accept_queue)),
            tokio::spawn(batch_completes(pool.clone(), clock.clone(), complete_queue)),
            tokio::spawn(purge_by_retention(
                pool.clone(),
                clock.clone(),
                self.retention,
            )),
        ];
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                pool,
                clock,
                accepts,
                completes,
                runtime: tokio::runtime::Handle::current(),
                tasks,
            }),
        })
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/database`, without
    /// TLS) with the defaults.
    ///
    /// # Errors
    /// As [`PostgresStoreBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::builder(url).connect().await
    }

    /// A builder for the database at `url` (without TLS; for TLS, give a
    /// pool of your own to [`with_pool`](Self::with_pool)).
    pub fn builder(url: &str) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            source: Source::Url(url.to_owned()),
            pool_size: 16,
            retention: Retention::default(),
            clock: Clock::system(),
        }
    }

    /// A builder over a pool you configured (TLS, sizes, timeouts).
    pub fn with_pool(pool: Pool) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            source: Source::Pool(pool),
            pool_size: 16,
            retention: Retention::default(),
            clock: Clock::system(),
        }
    }

    /// Completes `key` if the claim `token` still holds it, and runs
    /// `effect` in the same transaction: committed together or not at all.
    /// Concurrent calls share one transaction (one commit for many), where
    /// [`complete_in`] in a transaction of your own commits each alone. An
    /// effect that fails is tried again alone, so that it fails alone.
    ///
    /// # Errors
    /// [`StoreError::Fenced`] when the claim was taken over or settled (the
    /// effect did not run); [`StoreError::Backend`] when the transaction
    /// failed (neither was written).
    pub async fn complete_with(
        &self,
        key: &DeliveryKey,
        token: Token,
        effect: Effect,
    ) -> Result<(), StoreError> {
        self.queue(
            &self.inner.completes,
            Completion {
                key: key.clone(),
                token,
                effect: Some(effect),
            },
        )
        .await
    }

    /// The pool: take a client from it for a transaction of your own that
    /// ends with [`complete_in`].
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    fn now(&self) -> i64 {
        self.inner.clock.millis()
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.inner.pool.get().await.map_err(StoreError::backend)
    }
}

fn pg(error: tokio_postgres::Error) -> StoreError {
    StoreError::backend(error)
}

/// Marks `key` done if the claim `token` still holds it, inside your
/// transaction `tx`: your writes and the completion commit together. The
/// row is stamped with the system clock.
///
/// # Errors
/// [`StoreError::Fenced`] when the claim was taken over or settled: roll
/// back (drop `tx` without committing).
pub async fn complete_in(
    tx: &tokio_postgres::Transaction<'_>,
    key: &DeliveryKey,
    token: Token,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE icr_deliveries SET state = 'done', due = 0, updated_at = $4
             WHERE hook_id = $1 AND guid = $2 AND state = 'active' AND token = $3",
            &[
                &hook_column(key)?,
                &key.id.as_str(),
                &token_column(token),
                &millis(SystemTime::now()),
            ],
        )
        .await
        .map_err(pg)?;
    if changed == 0 {
        return Err(StoreError::Fenced);
    }
    Ok(())
}

fn token_column(token: Token) -> i64 {
    i64::try_from(token.0).unwrap_or(i64::MAX)
}

fn token_of(column: i64) -> Token {
    Token(u64::try_from(column).unwrap_or(0))
}

/// A completion waiting for its batch, with the effect to commit with it.
struct Completion {
    key: DeliveryKey,
    token: Token,
    effect: Option<Effect>,
}

/// A statement of yours run in the transaction that completes a delivery
/// ([`PostgresStore::complete_with`]), so that it is committed once or not
/// at all.
pub struct Effect {
    statement: String,
    params: Vec<Box<dyn ToSql + Send + Sync>>,
}

impl Effect {
    /// `statement` (`$1`, `$2`… for the parameters) with `params`.
    pub fn new(statement: impl Into<String>, params: Vec<Box<dyn ToSql + Send + Sync>>) -> Self {
        Self {
            statement: statement.into(),
            params,
        }
    }
}

impl fmt::Debug for Effect {
    /// The statement and how many parameters, not their values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Effect")
            .field("statement", &self.statement)
            .field("params", &self.params.len())
            .finish()
    }
}
