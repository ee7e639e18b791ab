//! Processing each delivery once: the store of delivery keys
//! ([`DeliveryStore`], async, with leases and fencing tokens), its backends
//! (in memory, SQLite, PostgreSQL), [`ExactlyOnce`] for *process, then
//! answer*, and [`Inbox`] for *accept, then process*.
//!
//! # The state of a delivery
//!
//! A store keeps one row per [`DeliveryKey`] (the webhook's ID and the
//! delivery's GUID), in one of these [`State`]s:
//!
//! | state | meaning | next |
//! | --- | --- | --- |
//! | *unknown* (no row) or [`State::Free`] | nobody holds it | [`begin`](DeliveryStore::begin) claims it |
//! | [`State::Pending`] | accepted into the inbox, waiting for a worker (or for its retry time) | a worker claims it |
//! | [`State::Active`] | claimed, under a lease with a fencing [`Token`] | `complete`, `abort`, `fail`, or the lease runs out |
//! | [`State::Done`] | processed | forgotten after the retention window |
//! | [`State::Dead`] | the inbox gave up after its last attempt | `retry` brings it back |
//!
//! Every claim gets a new token, larger than every token handed out
//! before by the same store. `complete`, `renew`, `abort` and `fail` name
//! the token, and are applied only while that token still holds the row:
//! a holder that was paused past its lease, and whose claim was taken over,
//! gets [`StoreError::Fenced`] and changes nothing. An expired lease that
//! nobody took over yet is still its holder's.
//!
//! # What "exactly once" covers
//!
//! The store decides which attempt may process a delivery, and
//! remembers that it was processed. An effect written in the same database
//! transaction that completes the delivery (`complete_in` in the
//! [`sqlite`] and [`postgres`] modules) is committed once or not at all.
//! Any other effect (an e-mail, a call to another service) happens *at
//! least once*: a process can die after the effect and before the
//! completion is committed. Give such calls the delivery's GUID as their
//! idempotency key.

mod exactly_once;
mod inbox;
mod memory;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub mod sqlite;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::DeliveryId;

pub use exactly_once::{Claim, Claimed, ExactlyOnce, Settled};
pub use inbox::{AcceptError, Handler, Inbox, InboxBuilder, Job, RetryPolicy, Workers};
pub use memory::{MemoryStore, MemoryStoreBuilder};

/// How long a delivery key is remembered by default: three days, the
/// contract's redelivery window.
pub const DEFAULT_WINDOW: Duration = crate::contract::REDELIVERY_WINDOW;

/// How long a done delivery is kept by the database stores by default: the
/// three-day redelivery window and one more day, so that a redelivery at
/// the end of the window still finds it.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(4 * 24 * 60 * 60);

/// How many keys a [`MemoryStore`] remembers by default: 1,000,000, enough
/// for four deliveries a second around the clock for the whole three-day
/// window.
pub const DEFAULT_CAPACITY: usize = 1_000_000;

/// How long a duplicate waits by default for the copy of its delivery that
/// is being processed in the same process ([`ExactlyOnce::wait`]): 5 s,
/// well within ICR's 10 s wait for an answer.
pub const DEFAULT_DUPLICATE_WAIT: Duration = Duration::from_secs(5);

/// How long a claim holds by default before another process may take it
/// over: 60 s, six times ICR's 10 s wait for an answer, so that a claim is
/// never taken from a request that is still being answered.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// The future a [`DeliveryStore`] call returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Which delivery: the webhook that sent it (`X-ICR-Hook-ID`, `0` when the
/// header is absent) and its GUID (`X-ICR-Delivery`). One store can serve
/// several webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryKey {
    /// The webhook's ID, `0` when the delivery did not say.
    pub hook_id: u64,
    /// The delivery's GUID.
    pub id: DeliveryId,
}

impl DeliveryKey {
    /// The key of delivery `id` of webhook `hook_id` (`None`: the header was
    /// absent).
    pub fn new(hook_id: Option<u64>, id: DeliveryId) -> Self {
        Self {
            hook_id: hook_id.unwrap_or(0),
            id,
        }
    }
}

impl fmt::Display for DeliveryKey {
    /// `hook/GUID`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.hook_id, self.id.as_str())
    }
}

/// A fencing token: a number that grows with every claim a store hands
/// out. Every change to a claimed row names the token of its claim, and is
/// refused once a later claim took the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(pub u64);

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A claim on a delivery: its token and until when nobody else may take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The fencing token of this claim.
    pub token: Token,
    /// When the lease runs out (by the store's clock); until then the
    /// claim is the holder's alone.
    pub expires: SystemTime,
}

/// Where a delivery stands, as [`DeliveryStore::begin`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Begin {
    /// Not processed, and not held by anyone (or its holder's lease ran
    /// out): it is now claimed under this lease. Process it, then
    /// [`complete`](DeliveryStore::complete) or
    /// [`abort`](DeliveryStore::abort).
    New(Lease),
    /// Held by another attempt (or waiting in the inbox) until `expires`.
    InProgress {
        /// When the other attempt's lease runs out; `None` for a delivery
        /// waiting in the inbox for a worker.
        expires: Option<SystemTime>,
    },
    /// Processed already (or given up as dead by the inbox): acknowledge it,
    /// do not process it again.
    Done,
}

/// What [`DeliveryStore::accept`] did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Accepted {
    /// Written durably, to be processed by the inbox's workers.
    Stored,
    /// A delivery with this key was known already (accepted before, or
    /// processed): nothing was written.
    Duplicate,
}

/// The state of a delivery's row in a store (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum State {
    /// Claimed once and given back: anyone may claim it.
    Free,
    /// In the inbox, waiting for a worker (or for the time of its retry).
    Pending,
    /// Claimed under a lease.
    Active,
    /// Processed.
    Done,
    /// Given up by the inbox after its last attempt; kept until retried or
    /// purged.
    Dead,
}

impl State {
    /// Every state, in the order of the table.
    pub const ALL: [Self; 5] = [
        Self::Free,
        Self::Pending,
        Self::Active,
        Self::Done,
        Self::Dead,
    ];

    /// The state's name, as the database stores write it: `free`,
    /// `pending`, `active`, `done` or `dead`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }

    /// The state named `name` (as [`as_str`](Self::as_str) writes it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivery as the inbox keeps it: what is needed to check and parse it
/// again (the ICR headers, the exact body bytes) and when it arrived.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredDelivery {
    /// The delivery's key.
    pub key: DeliveryKey,
    /// The ICR headers as received (`X-ICR-Event`, `X-ICR-Delivery`,
    /// `X-ICR-Hook-ID`, the installation target, `Content-Type`,
    /// `User-Agent`); never the signature.
    pub headers: Vec<(String, String)>,
    /// The body exactly as received.
    pub body: Bytes,
    /// When it was accepted, by the store's clock.
    pub received_at: SystemTime,
}

impl fmt::Debug for StoredDelivery {
    /// The key, headers and time, and the body's size, not its bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredDelivery")
            .field("key", &self.key)
            .field("headers", &self.headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("received_at", &self.received_at)
            .finish()
    }
}

/// A stored delivery claimed for processing, from
/// [`DeliveryStore::claim_jobs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// The delivery.
    pub delivery: StoredDelivery,
    /// The claim.
    pub lease: Lease,
    /// Which attempt this is, from 1.
    pub attempt: u32,
}

/// One row of a store, for listing and auditing ([`DeliveryStore::list`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Record {
    /// The delivery's key.
    pub key: DeliveryKey,
    /// Where it stands.
    pub state: State,
    /// How many times it was claimed.
    pub attempts: u32,
    /// When it was accepted into the inbox (`None` for a delivery processed
    /// before answering, which the store never held).
    pub received_at: Option<SystemTime>,
    /// When its row last changed.
    pub updated_at: SystemTime,
    /// For a pending delivery, when a worker may take it; for an active
    /// one, when its lease runs out.
    pub due: Option<SystemTime>,
    /// Why its last attempt failed.
    pub last_error: Option<String>,
    /// The size of its stored body (`None` when none is kept).
    pub body_len: Option<u64>,
}

/// How many rows a store holds in each [`State`] ([`DeliveryStore::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Rows claimed and given back.
    pub free: u64,
    /// Deliveries waiting for a worker, new or awaiting a retry.
    pub pending: u64,
    /// Of the pending, those whose earlier attempt failed.
    pub failed: u64,
    /// Rows claimed now.
    pub active: u64,
    /// Deliveries processed.
    pub done: u64,
    /// Deliveries given up after their last attempt.
    pub dead: u64,
}

/// How long a store keeps what it no longer needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Done deliveries (and claims given back) are forgotten this long after
    /// their last change; [`DEFAULT_RETENTION`] unless set. Keep it above
    /// the three-day redelivery window: a redelivery after it is processed
    /// again.
    pub done: Duration,
    /// The body of a done delivery is dropped this long after it was
    /// processed (its row stays until `done` has passed); `None` keeps the
    /// body as long as the row.
    pub done_body: Option<Duration>,
    /// How often the store purges; 10 minutes unless set, at least 1 s.
    pub interval: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            done: DEFAULT_RETENTION,
            done_body: None,
            interval: Duration::from_secs(600),
        }
    }
}

/// What [`DeliveryStore::purge`] removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purge {
    /// Done and free rows last changed before this are deleted.
    pub before: SystemTime,
    /// Bodies of done rows processed before this are dropped.
    pub bodies_before: Option<SystemTime>,
    /// Dead rows last changed before `before` are deleted too. Retention
    /// never sets it: a dead delivery is kept until an operator retries or
    /// purges it.
    pub dead: bool,
}

impl Purge {
    /// What `retention` removes at `now`: done rows older than
    /// [`Retention::done`], bodies older than [`Retention::done_body`];
    /// never a dead row.
    pub fn by_retention(retention: &Retention, now: SystemTime) -> Self {
        let ago = |age: Duration| now.checked_sub(age).unwrap_or(UNIX_EPOCH);
        Self {
            before: ago(retention.done),
            bodies_before: retention.done_body.map(ago),
            dead: false,
        }
    }
}

/// What [`DeliveryStore::purge`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Purged {
    /// Rows deleted.
    pub rows: u64,
    /// Bodies dropped from rows that were kept.
    pub bodies: u64,
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The claim named is no longer the holder of the row: its lease ran out
    /// and another attempt claimed it, or it was settled already. Nothing
    /// was changed.
    #[error("the claim was taken over or settled already (stale fencing token)")]
    Fenced,
    /// The database could not be reached or failed the operation; nothing
    /// can be assumed written.
    #[error("the delivery store failed")]
    Backend {
        /// What the database reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The database holds tables of a newer version of this crate.
    #[error("the store's tables are at version {found}, newer than this crate's {supported}")]
    SchemaTooNew {
        /// The version found in the database.
        found: i64,
        /// The newest version this crate knows.
        supported: i64,
    },
    /// The store was shut down.
    #[error("the delivery store is closed")]
    Closed,
}

impl StoreError {
    /// Wraps a database error.
    pub fn backend(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend {
            source: Box::new(source),
        }
    }

    /// A short stable name for logs and metrics: `fenced`, `backend`,
    /// `schema_too_new` or `closed`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Fenced => "fenced",
            Self::Backend { .. } => "backend",
            Self::SchemaTooNew { .. } => "schema_too_new",
            Self::Closed => "closed",
        }
    }
}

/// A durable record of delivery keys, to process each delivery once, shared
/// by every request, worker and process that uses it.
///
/// Every call is atomic and async (a database store never blocks the
/// caller's thread). Two groups of calls:
///
/// - *process, then answer* ([`ExactlyOnce`]): [`begin`](Self::begin)
///   claims a key, then [`complete`](Self::complete) marks it done or
///   [`abort`](Self::abort) gives it back.
/// - *accept, then process* ([`Inbox`]): [`accept`](Self::accept) writes a
///   delivery, [`claim_jobs`](Self::claim_jobs) hands stored deliveries to
///   workers, which [`complete`](Self::complete) or
///   [`fail`](Self::fail) them.
///
/// The rest lists, retries and purges, for operators.
///
/// [`MemoryStore`] is in this crate, and with the `sqlite` and `postgres`
/// features [`sqlite::SqliteStore`] and [`postgres::PostgresStore`]; all
/// three pass one behaviour suite.
pub trait DeliveryStore: Send + Sync + 'static {
    /// Claims `key` for `lease` when nobody holds it and it is not done.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    fn begin<'a>(&'a self, key: &'a DeliveryKey, lease: Duration) -> StoreFuture<'a, Begin>;

    /// Extends the claim `token` on `key` to `lease` from now, and says until
    /// when it holds.
    ///
    /// # Errors
    /// [`StoreError::Fenced`] when the claim was taken over or settled.
    fn renew<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        lease: Duration,
    ) -> StoreFuture<'a, SystemTime>;

    /// Marks `key` done, if the claim `token` still holds it.
    ///
    /// # Errors
    /// [`StoreError::Fenced`] when the claim was taken over or settled.
    fn complete<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()>;

    /// Gives the claim `token` on `key` back without counting it as an
    /// attempt: a delivery processed before answering becomes free (the
    /// next delivery of it is processed), one from the inbox pending again.
    ///
    /// # Errors
    /// [`StoreError::Fenced`] when the claim was taken over or settled.
    fn abort<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()>;

    /// Gives a claim back from where no future can be awaited (a
    /// [`Claim`] dropped unfinished), as far as the store can without
    /// blocking. The default does nothing: the lease runs out instead.
    fn release(&self, key: &DeliveryKey, token: Token) {
        let _ = (key, token);
    }

    /// Writes `delivery` durably as pending, unless its key is known.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when it could not be written: answer 503.
    fn accept(&self, delivery: StoredDelivery) -> StoreFuture<'_, Accepted>;

    /// Claims up to `max` stored deliveries that are due: pending ones whose
    /// retry time has come, and active ones whose lease ran out (their
    /// holder died). Each claim counts as an attempt.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    fn claim_jobs(&self, max: usize, lease: Duration) -> StoreFuture<'_, Vec<ClaimedJob>>;

    /// Records that attempt `token` on `key` failed: pending again from
    /// `retry_at`, or [`State::Dead`] when `retry_at` is `None`.
    ///
    /// # Errors
    /// [`StoreError::Fenced`] when the claim was taken over or settled.
    fn fail<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        retry_at: Option<SystemTime>,
        reason: &'a str,
    ) -> StoreFuture<'a, ()>;

    /// How many rows are in each state.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    fn stats(&self) -> StoreFuture<'_, Stats>;

    /// Up to `limit` rows in `state` (every state when `None`), oldest
    /// change first; pending rows whose attempts failed when `failed_only`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    fn list(&self, filter: ListFilter, limit: usize) -> StoreFuture<'_, Vec<Record>>;

    /// The rows of delivery `id`, of every webhook, with their stored
    /// deliveries when kept.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    fn get<'a>(
        &'a self,
        id: &'a DeliveryId,
    ) -> StoreFuture<'a, Vec<(Record, Option<StoredDelivery>)>>;

    /// Makes dead deliveries pending again with their attempts reset: those
    /// of `id` (of every webhook), or every dead one when `None`. Says how
    /// many.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    fn retry<'a>(&'a self, id: Option<&'a DeliveryId>) -> StoreFuture<'a, u64>;

    /// Deletes and trims rows as `purge` says; never a pending or active
    /// one.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    fn purge(&self, purge: Purge) -> StoreFuture<'_, Purged>;
}

/// Which rows [`DeliveryStore::list`] gives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListFilter {
    /// Every row.
    #[default]
    All,
    /// Rows in one state.
    State(State),
    /// Pending rows whose earlier attempt failed (awaiting a retry).
    Failed,
}

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        impl<T: DeliveryStore + ?Sized> DeliveryStore for $ty {
            fn begin<'a>(&'a self, key: &'a DeliveryKey, lease: Duration) -> StoreFuture<'a, Begin> {
                (**self).begin(key, lease)
            }
            fn renew<'a>(&'a self, key: &'a DeliveryKey, token: Token, lease: Duration) -> StoreFuture<'a, SystemTime> {
                (**self).renew(key, token, lease)
            }
            fn complete<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
                (**self).complete(key, token)
            }
            fn abort<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
                (**self).abort(key, token)
            }
            fn release(&self, key: &DeliveryKey, token: Token) {
                (**self).release(key, token);
            }
            fn accept(&self, delivery: StoredDelivery) -> StoreFuture<'_, Accepted> {
                (**self).accept(delivery)
            }
            fn claim_jobs(&self, max: usize, lease: Duration) -> StoreFuture<'_, Vec<ClaimedJob>> {
                (**self).claim_jobs(max, lease)
            }
            fn fail<'a>(&'a self, key: &'a DeliveryKey, token: Token, retry_at: Option<SystemTime>, reason: &'a str) -> StoreFuture<'a, ()> {
                (**self).fail(key, token, retry_at, reason)
            }
            fn stats(&self) -> StoreFuture<'_, Stats> {
                (**self).stats()
            }
            fn list(&self, filter: ListFilter, limit: usize) -> StoreFuture<'_, Vec<Record>> {
                (**self).list(filter, limit)
            }
            fn get<'a>(&'a self, id: &'a DeliveryId) -> StoreFuture<'a, Vec<(Record, Option<StoredDelivery>)>> {
                (**self).get(id)
            }
            fn retry<'a>(&'a self, id: Option<&'a DeliveryId>) -> StoreFuture<'a, u64> {
                (**self).retry(id)
            }
            fn purge(&self, purge: Purge) -> StoreFuture<'_, Purged> {
                (**self).purge(purge)
            }
        }
    )*};
}

forward_store!(Arc<T>, Box<T>);

impl fmt::Debug for dyn DeliveryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeliveryStore")
    }
}

/// Where a store reads the time: the system clock, or a clock a test moves.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(Arc::new(SystemTime::now))
    }

    /// A clock that reads `now`.
    pub fn from_fn(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// The time now.
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }

    /// The time now in milliseconds since the Unix epoch, as the database
    /// stores write it.
    pub(crate) fn millis(&self) -> i64 {
        to_millis(self.now())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// `time` in milliseconds since the Unix epoch (negative before it).
pub(crate) fn to_millis(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

/// `time` in milliseconds since the Unix epoch, rounded up: for a time
/// before which something must not happen (a retry), so that it never
/// happens early.
pub(crate) fn to_millis_ceil(time: SystemTime) -> i64 {
    let floor = to_millis(time);
    if from_millis(floor) < time {
        floor.saturating_add(1)
    } else {
        floor
    }
}

/// The time `millis` milliseconds after the Unix epoch.
pub(crate) fn from_millis(millis: i64) -> SystemTime {
    let magnitude = Duration::from_millis(millis.unsigned_abs());
    if millis >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn duration_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
