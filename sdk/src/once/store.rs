//! The [`DeliveryStore`] trait every store implements (and its forwarding
//! through `Arc` and `Box`), the future its calls return, their error
//! ([`StoreError`]) and the filter of [`DeliveryStore::list`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{
    Accepted, Claimed, ClaimedJob, DeliveryKey, Lease, Purge, Purged, Record, State, Stats,
    StoredDelivery, Token,
};
use crate::headers::DeliveryId;

/// The future a [`DeliveryStore`] call returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

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
/// - *process, then answer* ([`ExactlyOnce`]): [`claim`](Self::claim)
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
///
/// [`ExactlyOnce`]: super::ExactlyOnce
/// [`Inbox`]: super::Inbox
/// [`MemoryStore`]: super::MemoryStore
/// [`sqlite::SqliteStore`]: super::sqlite::SqliteStore
/// [`postgres::PostgresStore`]: super::postgres::PostgresStore
pub trait DeliveryStore: Send + Sync + 'static {
    /// Claims `key` for `lease` when nobody holds it and it is not done.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    fn claim<'a>(
        &'a self,
        key: &'a DeliveryKey,
        lease: Duration,
    ) -> StoreFuture<'a, Claimed<Lease>>;

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
    ///
    /// [`Claim`]: super::Claim
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
            fn claim<'a>(&'a self, key: &'a DeliveryKey, lease: Duration) -> StoreFuture<'a, Claimed<Lease>> {
                (**self).claim(key, lease)
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
