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
//! | *unknown* (no row) or [`State::Free`] | nobody holds it | [`claim`](DeliveryStore::claim) claims it |
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

mod claimed;
mod clock;
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
mod store;
mod types;

use std::time::Duration;

pub use claimed::{Claimed, Settled};
pub use clock::Clock;
pub(crate) use clock::{duration_millis, from_millis, to_millis, to_millis_ceil};
pub use exactly_once::{Claim, ExactlyOnce};
pub use inbox::{AcceptError, Handler, Inbox, InboxBuilder, Job, RetryPolicy, Workers};
pub use memory::{MemoryStore, MemoryStoreBuilder};
pub use store::{DeliveryStore, ListFilter, StoreError, StoreFuture};
pub use types::{
    Accepted, ClaimedJob, DeliveryKey, Lease, Purge, Purged, Record, Retention, State, Stats,
    StoredDelivery, Token,
};

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
