//! [`PostgresStore`] (feature `postgres`): the durable [`DeliveryStore`] on
//! PostgreSQL, for replicas on several hosts.
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

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

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

/// How many accepts or completions one statement takes at most.
const MAX_BATCH: usize = 256;

/// A [`DeliveryStore`] on PostgreSQL. See the [module docs](self).
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

/// A fixed key for the transaction-level advisory lock the migration runs
/// under (`icr-webhooks` in ASCII, folded).
const MIGRATION_LOCK: i64 = 0x6963_722d_7768_6b73;

async fn migrate(pool: &Pool) -> Result<(), StoreError> {
    let mut client = pool.get().await.map_err(StoreError::backend)?;
    let tx = client.transaction().await.map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS icr_meta (name text PRIMARY KEY, value bigint NOT NULL)",
    )
    .await
    .map_err(pg)?;
    let found: Option<i64> = tx
        .query_opt(
            "SELECT value FROM icr_meta WHERE name = 'schema_version'",
            &[],
        )
        .await
        .map_err(pg)?
        .map(|row| row.get(0));
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
            tx.batch_execute(
                "CREATE SEQUENCE IF NOT EXISTS icr_delivery_token;
                 CREATE TABLE IF NOT EXISTS icr_deliveries (
                     hook_id bigint NOT NULL,
                     guid text COLLATE \"C\" NOT NULL,
                     state text NOT NULL,
                     token bigint NOT NULL DEFAULT 0,
                     due bigint NOT NULL DEFAULT 0,
                     attempts integer NOT NULL DEFAULT 0,
                     updated_at bigint NOT NULL,
                     received_at bigint,
                     headers text,
                     body bytea,
                     last_error text,
                     PRIMARY KEY (guid, hook_id)
                 );
                 CREATE INDEX IF NOT EXISTS icr_deliveries_due
                     ON icr_deliveries (due)
                     WHERE headers IS NOT NULL AND state IN ('pending', 'active');
                 CREATE INDEX IF NOT EXISTS icr_deliveries_updated
                     ON icr_deliveries (updated_at);
",
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "INSERT INTO icr_meta (name, value) VALUES ('schema_version', $1)
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                &[&SCHEMA_VERSION],
            )
            .await
            .map_err(pg)?;
        }
    }
    tx.commit().await.map_err(pg)
}

fn token_column(token: Token) -> i64 {
    i64::try_from(token.0).unwrap_or(i64::MAX)
}

fn token_of(column: i64) -> Token {
    Token(u64::try_from(column).unwrap_or(0))
}

/// Takes what is queued (up to [`MAX_BATCH`]) and runs it as one batch.
async fn next_batch<T, R>(queue: &mut mpsc::Receiver<Batched<T, R>>) -> Option<Vec<Batched<T, R>>> {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
        return None;
    }
    Some(batch)
}

/// Sends every caller of a failed batch the failure.
fn fail_all<T, R>(batch: Vec<Batched<T, R>>, error: &StoreError) {
    let message = error.to_string();
    let source = match error {
        StoreError::Backend { source } => format!("{message}: {source}"),
        _ => message,
    };
    for (_, reply) in batch {
        let _ = reply.send(Err(StoreError::backend(std::io::Error::other(
            source.clone(),
        ))));
    }
}

async fn batch_accepts(
    pool: Pool,
    clock: Clock,
    mut queue: mpsc::Receiver<Batched<StoredDelivery, Accepted>>,
) {
    while let Some(batch) = next_batch(&mut queue).await {
        match insert_accepts(&pool, clock.millis(), &batch).await {
            Ok(stored) => {
                let mut stored = stored;
                for (delivery, reply) in batch {
                    // The first of a key in the batch was the one stored.
                    let accepted = if stored.remove(&delivery.key) {
                        Accepted::Stored
                    } else {
                        Accepted::Duplicate
                    };
                    let _ = reply.send(Ok(accepted));
                }
            }
            Err(error) => fail_all(batch, &error),
        }
    }
}

async fn insert_accepts(
    pool: &Pool,
    now: i64,
    batch: &[Batched<StoredDelivery, Accepted>],
) -> Result<std::collections::HashSet<DeliveryKey>, StoreError> {
    let client = pool.get().await.map_err(StoreError::backend)?;
    let mut hooks = Vec::with_capacity(batch.len());
    let mut guids = Vec::with_capacity(batch.len());
    let mut received = Vec::with_capacity(batch.len());
    let mut headers = Vec::with_capacity(batch.len());
    let mut bodies: Vec<&[u8]> = Vec::with_capacity(batch.len());
    for (delivery, _) in batch {
        hooks.push(hook_column(&delivery.key)?);
        guids.push(delivery.key.id.as_str());
        received.push(millis(delivery.received_at));
        headers.push(headers_json(&delivery.headers)?);
        bodies.push(&delivery.body);
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO icr_deliveries
                 (hook_id, guid, state, due, updated_at, received_at, headers, body)
             SELECT h, g, 'pending', $6, $6, r, hd, b
             FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bytea[])
                 AS t(h, g, r, hd, b)
             ON CONFLICT (guid, hook_id) DO NOTHING
             RETURNING hook_id, guid",
        )
        .await
        .map_err(pg)?;
    let rows = client
        .query(
            &statement,
            &[&hooks, &guids, &received, &headers, &bodies, &now],
        )
        .await
        .map_err(pg)?;
    rows.iter()
        .map(|row| key_of(row.get(0), row.get(1)))
        .collect()
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

async fn batch_completes(
    pool: Pool,
    clock: Clock,
    mut queue: mpsc::Receiver<Batched<Completion, ()>>,
) {
    while let Some(batch) = next_batch(&mut queue).await {
        let now = clock.millis();
        let items: Vec<&Completion> = batch.iter().map(|(item, _)| item).collect();
        let done = match update_completes(&pool, now, &items).await {
            Ok(done) => Ok(done),
            // One effect failing fails the whole batch's transaction: each
            // is tried again alone, so that it fails alone.
            Err(_) if items.len() > 1 && items.iter().any(|item| item.effect.is_some()) => {
                let mut done = std::collections::HashSet::new();
                let mut failed = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    match update_completes(&pool, now, &[*item]).await {
                        Ok(one) => done.extend(one),
                        Err(error) => failed.push((index, error)),
                    }
                }
                let mut answers: Vec<Option<Result<(), StoreError>>> =
                    (0..batch.len()).map(|_| None).collect();
                for (index, error) in failed {
                    if let Some(answer) = answers.get_mut(index) {
                        *answer = Some(Err(error));
                    }
                }
                for ((item, reply), answer) in batch.into_iter().zip(answers) {
                    let result = answer.unwrap_or_else(|| {
                        if done.remove(&(item.key.clone(), item.token)) {
                            Ok(())
                        } else {
                            Err(StoreError::Fenced)
                        }
                    });
                    let _ = reply.send(result);
                }
                continue;
            }
            Err(error) => Err(error),
        };
        match done {
            Ok(mut done) => {
                // A completion queued twice holds once: the second is
                // refused, as it would be in a later batch.
                for (item, reply) in batch {
                    let result = if done.remove(&(item.key, item.token)) {
                        Ok(())
                    } else {
                        Err(StoreError::Fenced)
                    };
                    let _ = reply.send(result);
                }
            }
            Err(error) => fail_all(batch, &error),
        }
    }
}

/// Completes the batch in one statement (in one transaction with the
/// effects of the completed ones, when there are any); gives the
/// completions that held.
async fn update_completes(
    pool: &Pool,
    now: i64,
    batch: &[&Completion],
) -> Result<std::collections::HashSet<(DeliveryKey, Token)>, StoreError> {
    let mut client = pool.get().await.map_err(StoreError::backend)?;
    let mut hooks = Vec::with_capacity(batch.len());
    let mut guids = Vec::with_capacity(batch.len());
    let mut tokens = Vec::with_capacity(batch.len());
    for item in batch {
        hooks.push(hook_column(&item.key)?);
        guids.push(item.key.id.as_str());
        tokens.push(token_column(item.token));
    }
    const COMPLETE: &str = "UPDATE icr_deliveries AS d SET state = 'done', due = 0, updated_at = $4
         FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS c(h, g, t)
         WHERE d.hook_id = c.h AND d.guid = c.g AND d.token = c.t AND d.state = 'active'
         RETURNING d.hook_id, d.guid, d.token";
    let completed = |rows: Vec<tokio_postgres::Row>| {
        rows.iter()
            .map(|row| Ok((key_of(row.get(0), row.get(1))?, token_of(row.get(2)))))
            .collect::<Result<std::collections::HashSet<_>, StoreError>>()
    };
    if batch.iter().all(|item| item.effect.is_none()) {
        let statement = client.prepare_cached(COMPLETE).await.map_err(pg)?;
        let rows = client
            .query(&statement, &[&hooks, &guids, &tokens, &now])
            .await
            .map_err(pg)?;
        return completed(rows);
    }
    let tx = client.transaction().await.map_err(pg)?;
    let statement = tx.prepare_cached(COMPLETE).await.map_err(pg)?;
    let rows = tx
        .query(&statement, &[&hooks, &guids, &tokens, &now])
        .await
        .map_err(pg)?;
    let done = completed(rows)?;
    // The effects of the completions that held, sent together (pipelined);
    // a completion queued twice runs its effect once.
    let mut effects = Vec::new();
    let mut ran = std::collections::HashSet::new();
    for item in batch {
        let pair = (item.key.clone(), item.token);
        if let (Some(effect), true) = (&item.effect, done.contains(&pair) && ran.insert(pair)) {
            let statement = tx.prepare_cached(&effect.statement).await.map_err(pg)?;
            effects.push((statement, effect));
        }
    }
    let tx_ref = &tx;
    let runs: Vec<_> = effects
        .iter()
        .map(|(statement, effect)| {
            let params: Vec<&(dyn ToSql + Sync)> = effect
                .params
                .iter()
                .map(|param| param.as_ref() as &(dyn ToSql + Sync))
                .collect();
            Box::pin(async move { tx_ref.execute(statement, &params).await })
        })
        .collect();
    for result in join_all(runs).await {
        result.map_err(pg)?;
    }
    tx.commit().await.map_err(pg)?;
    Ok(done)
}

/// Polls every future until all are ready; their outputs in order.
async fn join_all<F: std::future::Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match std::pin::Pin::new(future).poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

async fn purge_by_retention(pool: Pool, clock: Clock, retention: Retention) {
    let mut ticks = tokio::time::interval(retention.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let purge = Purge::by_retention(&retention, clock.now());
        // A failure (the database is down) is tried again at the next tick.
        if let Ok(client) = pool.get().await {
            let _ = purge_rows(&client, &purge).await;
        }
    }
}

async fn purge_rows(
    client: &deadpool_postgres::Object,
    purge: &Purge,
) -> Result<Purged, StoreError> {
    let rows = client
        .execute(
            "DELETE FROM icr_deliveries
             WHERE updated_at < $1 AND (state IN ('done', 'free') OR ($2 AND state = 'dead'))",
            &[&millis(purge.before), &purge.dead],
        )
        .await
        .map_err(pg)?;
    let bodies = match purge.bodies_before {
        Some(before) => client
            .execute(
                "UPDATE icr_deliveries SET body = NULL
                 WHERE state = 'done' AND body IS NOT NULL AND updated_at < $1",
                &[&millis(before)],
            )
            .await
            .map_err(pg)?,
        None => 0,
    };
    Ok(Purged { rows, bodies })
}

const RECORD_COLUMNS: &str = "hook_id, guid, state, due, attempts::bigint, updated_at, received_at, last_error, length(body)::bigint";

fn columns(row: &tokio_postgres::Row) -> RowColumns {
    RowColumns {
        hook_id: row.get(0),
        guid: row.get(1),
        state: row.get(2),
        due: row.get(3),
        attempts: row.get(4),
        updated_at: row.get(5),
        received_at: row.get(6),
        last_error: row.get(7),
        body_len: row.get(8),
    }
}

impl PostgresStore {
    async fn begin_now(&self, key: &DeliveryKey, lease: Duration) -> Result<Begin, StoreError> {
        let client = self.client().await?;
        let hook = hook_column(key)?;
        let claim = client
            .prepare_cached(
                "INSERT INTO icr_deliveries AS d (hook_id, guid, state, token, due, attempts, updated_at)
                 VALUES ($1, $2, 'active', nextval('icr_delivery_token'), $3, 1, $4)
                 ON CONFLICT (guid, hook_id) DO UPDATE
                 SET state = 'active', token = EXCLUDED.token, due = EXCLUDED.due,
                     attempts = d.attempts + 1, updated_at = EXCLUDED.updated_at
                 WHERE d.state = 'free'
                    OR (d.state = 'active' AND d.headers IS NULL AND d.due <= EXCLUDED.updated_at)
                 RETURNING token, due",
            )
            .await
            .map_err(pg)?;
        let look = client
            .prepare_cached(
                "SELECT state, due, headers IS NOT NULL FROM icr_deliveries
                 WHERE hook_id = $1 AND guid = $2",
            )
            .await
            .map_err(pg)?;
        // The row may change between the two statements (given back, say):
        // then try again.
        for _ in 0..8 {
            let now = self.now();
            let until = now.saturating_add(duration_millis(lease));
            if let Some(row) = client
                .query_opt(&claim, &[&hook, &key.id.as_str(), &until, &now])
                .await
                .map_err(pg)?
            {
                return Ok(Begin::New(Lease {
                    token: token_of(row.get(0)),
                    expires: from_millis(row.get(1)),
                }));
            }
            let Some(row) = client
                .query_opt(&look, &[&hook, &key.id.as_str()])
                .await
                .map_err(pg)?
            else {
                continue;
            };
            let (state, due, inbox): (String, i64, bool) = (row.get(0), row.get(1), row.get(2));
            match state_of(&state)? {
                State::Done | State::Dead => return Ok(Begin::Done),
                State::Pending => return Ok(Begin::InProgress { expires: None }),
                State::Active if inbox || due > now => {
                    return Ok(Begin::InProgress {
                        expires: Some(from_millis(due)),
                    });
                }
                State::Active | State::Free => {}
            }
        }
        Err(StoreError::backend(std::io::Error::other(
            "the delivery's row kept changing while it was claimed",
        )))
    }

    /// A change that the claim `token` must still hold; `Fenced` otherwise.
    /// Parameters: $1 hook, $2 GUID, $3 token, $4 now, then `extra`.
    async fn fenced(
        &self,
        statement: &str,
        key: &DeliveryKey,
        token: Token,
        extra: &[&(dyn ToSql + Sync)],
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(statement).await.map_err(pg)?;
        let hook = hook_column(key)?;
        let guid = key.id.as_str();
        let token = token_column(token);
        let now = self.now();
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&hook, &guid, &token, &now];
        params.extend_from_slice(extra);
        let changed = client.execute(&statement, &params).await.map_err(pg)?;
        if changed == 0 {
            return Err(StoreError::Fenced);
        }
        Ok(())
    }

    async fn claim_now(&self, max: usize, lease: Duration) -> Result<Vec<ClaimedJob>, StoreError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        let now = self.now();
        let until = now.saturating_add(duration_millis(lease));
        let statement = client
            .prepare_cached(
                "WITH picked AS (
                     SELECT hook_id, guid FROM icr_deliveries
                     WHERE headers IS NOT NULL AND state IN ('pending', 'active') AND due <= $1
                     ORDER BY due, hook_id, guid LIMIT $2
                     FOR UPDATE SKIP LOCKED
                 )
                 UPDATE icr_deliveries AS d
                 SET state = 'active', token = nextval('icr_delivery_token'), due = $3,
                     attempts = d.attempts + 1, updated_at = $1
                 FROM picked WHERE d.hook_id = picked.hook_id AND d.guid = picked.guid
                 RETURNING d.hook_id, d.guid, d.token, d.attempts::bigint, d.received_at, d.headers, d.body",
            )
            .await
            .map_err(pg)?;
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let rows = client
            .query(&statement, &[&now, &limit, &until])
            .await
            .map_err(pg)?;
        let mut jobs = rows
            .iter()
            .map(|row| {
                let key = key_of(row.get(0), row.get(1))?;
                let headers: String = row.get(5);
                Ok(ClaimedJob {
                    delivery: stored_of(key, &headers, row.get(6), row.get(4))?,
                    lease: Lease {
                        token: token_of(row.get(2)),
                        expires: from_millis(until),
                    },
                    attempt: u32::try_from(row.get::<_, i64>(3)).unwrap_or(u32::MAX),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        jobs.sort_by(|a, b| a.delivery.key.cmp(&b.delivery.key));
        Ok(jobs)
    }

    async fn stats_now(&self) -> Result<Stats, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT state, count(*), count(*) FILTER (WHERE attempts > 0)
                 FROM icr_deliveries GROUP BY state",
                &[],
            )
            .await
            .map_err(pg)?;
        let mut stats = Stats::default();
        for row in rows {
            let (state, count, failed): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
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

    async fn list_now(&self, filter: ListFilter, limit: usize) -> Result<Vec<Record>, StoreError> {
        let client = self.client().await?;
        let statement = format!(
            "SELECT {RECORD_COLUMNS} FROM icr_deliveries WHERE {} ORDER BY updated_at, hook_id, guid LIMIT $1",
            filter_condition(filter)
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client.query(&statement, &[&limit]).await.map_err(pg)?;
        rows.iter().map(|row| columns(row).record()).collect()
    }

    async fn get_now(
        &self,
        id: &DeliveryId,
    ) -> Result<Vec<(Record, Option<StoredDelivery>)>, StoreError> {
        let client = self.client().await?;
        let statement = format!(
            "SELECT {RECORD_COLUMNS}, headers, body FROM icr_deliveries WHERE guid = $1 ORDER BY hook_id"
        );
        let rows = client
            .query(&statement, &[&id.as_str()])
            .await
            .map_err(pg)?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let columns = columns(row);
            let received_at = columns.received_at;
            let record = columns.record()?;
            let headers: Option<String> = row.get(9);
            let body: Option<Vec<u8>> = row.get(10);
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

    async fn retry_now(&self, id: Option<&DeliveryId>) -> Result<u64, StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE icr_deliveries SET state = 'pending', attempts = 0, due = $1, updated_at = $1
                 WHERE state = 'dead' AND ($2::text IS NULL OR guid = $2)",
                &[&self.now(), &id.map(DeliveryId::as_str)],
            )
            .await
            .map_err(pg)
    }

    fn queue<T: Send + 'static, R: Send + 'static>(
        &self,
        queue: &mpsc::Sender<Batched<T, R>>,
        item: T,
    ) -> StoreFuture<'static, R> {
        let (reply, answer) = oneshot::channel();
        let queue = queue.clone();
        Box::pin(async move {
            queue
                .send((item, reply))
                .await
                .map_err(|_| StoreError::Closed)?;
            answer.await.map_err(|_| StoreError::Closed)?
        })
    }
}

const ABORT: &str = "UPDATE icr_deliveries
     SET state = CASE WHEN headers IS NULL THEN 'free' ELSE 'pending' END,
         due = CASE WHEN headers IS NULL THEN 0::bigint ELSE $4 END,
         attempts = greatest(attempts - 1, 0), updated_at = $4
     WHERE hook_id = $1 AND guid = $2 AND state = 'active' AND token = $3";

impl DeliveryStore for PostgresStore {
    fn begin<'a>(&'a self, key: &'a DeliveryKey, lease: Duration) -> StoreFuture<'a, Begin> {
        Box::pin(self.begin_now(key, lease))
    }

    fn renew<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        lease: Duration,
    ) -> StoreFuture<'a, SystemTime> {
        Box::pin(async move {
            let until = self.now().saturating_add(duration_millis(lease));
            self.fenced(
                "UPDATE icr_deliveries SET due = $5, updated_at = $4
                 WHERE hook_id = $1 AND guid = $2 AND state = 'active' AND token = $3",
                key,
                token,
                &[&until],
            )
            .await?;
            Ok(from_millis(until))
        })
    }

    fn complete<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        self.queue(
            &self.inner.completes,
            Completion {
                key: key.clone(),
                token,
                effect: None,
            },
        )
    }

    fn abort<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        Box::pin(self.fenced(ABORT, key, token, &[]))
    }

    fn release(&self, key: &DeliveryKey, token: Token) {
        let store = self.clone();
        let key = key.clone();
        // Fenced: a claim settled or taken over meanwhile is left alone; if
        // the database cannot be reached, the lease runs out instead.
        self.inner.runtime.spawn(async move {
            let _ = store.fenced(ABORT, &key, token, &[]).await;
        });
    }

    fn accept(&self, delivery: StoredDelivery) -> StoreFuture<'_, Accepted> {
        self.queue(&self.inner.accepts, delivery)
    }

    fn claim_jobs(&self, max: usize, lease: Duration) -> StoreFuture<'_, Vec<ClaimedJob>> {
        Box::pin(self.claim_now(max, lease))
    }

    fn fail<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        retry_at: Option<SystemTime>,
        reason: &'a str,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            match retry_at {
                Some(at) => {
                    self.fenced(
                        "UPDATE icr_deliveries
                         SET state = CASE WHEN headers IS NULL THEN 'free' ELSE 'pending' END,
                             due = CASE WHEN headers IS NULL THEN 0::bigint ELSE $5 END,
                             last_error = $6, updated_at = $4
                         WHERE hook_id = $1 AND guid = $2 AND state = 'active' AND token = $3",
                        key,
                        token,
                        &[&super::to_millis_ceil(at), &reason],
                    )
                    .await
                }
                None => {
                    self.fenced(
                        "UPDATE icr_deliveries
                         SET state = CASE WHEN headers IS NULL THEN 'free' ELSE 'dead' END,
                             due = 0, last_error = $5, updated_at = $4
                         WHERE hook_id = $1 AND guid = $2 AND state = 'active' AND token = $3",
                        key,
                        token,
                        &[&reason],
                    )
                    .await
                }
            }
        })
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        Box::pin(self.stats_now())
    }

    fn list(&self, filter: ListFilter, limit: usize) -> StoreFuture<'_, Vec<Record>> {
        Box::pin(self.list_now(filter, limit))
    }

    fn get<'a>(
        &'a self,
        id: &'a DeliveryId,
    ) -> StoreFuture<'a, Vec<(Record, Option<StoredDelivery>)>> {
        Box::pin(self.get_now(id))
    }

    fn retry<'a>(&'a self, id: Option<&'a DeliveryId>) -> StoreFuture<'a, u64> {
        Box::pin(self.retry_now(id))
    }

    fn purge(&self, purge: Purge) -> StoreFuture<'_, Purged> {
        Box::pin(async move {
            let client = self.client().await?;
            purge_rows(&client, &purge).await
        })
    }
}
