//! The calls a [`SqliteStore`](super::SqliteStore) queues to its
//! connection's thread ([`Call`]: an [`Op`] and where to [`Reply`]), and
//! their [`Answer`]s.

use std::time::{Duration, SystemTime};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::headers::DeliveryId;
use crate::once::{
    Accepted, Claimed, ClaimedJob, DeliveryKey, Lease, ListFilter, Purge, Purged, Record, Stats,
    StoreError, StoredDelivery, Token,
};

/// A call to the connection's thread.
pub(super) struct Call {
    pub(super) op: Op,
    pub(super) reply: Reply,
}

/// A closure of [`SqliteStore::transaction`](super::SqliteStore::transaction):
/// whether to keep its writes, and how to answer once the batch is committed
/// (or failed).
pub(super) type UserWork = Box<dyn FnOnce(&Connection) -> (bool, Deliver) + Send>;

pub(super) type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

pub(super) enum Op {
    Claim(DeliveryKey, Duration),
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
    pub(super) fn needs_savepoint(&self) -> bool {
        matches!(
            self,
            Self::Claim(..)
                | Self::Accept(_)
                | Self::ClaimJobs(..)
                | Self::Purge(_)
                | Self::User(_)
        )
    }
}

pub(super) enum Answer {
    Claim(Claimed<Lease>),
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

pub(super) enum Reply {
    Answer(oneshot::Sender<Result<Answer, StoreError>>),
    /// Nobody awaits the answer (a release from a drop, a user transaction
    /// that answers by itself).
    Done(Box<dyn FnOnce(Result<Answer, StoreError>) + Send>),
}

impl Reply {
    pub(super) fn send(self, answer: Result<Answer, StoreError>) {
        match self {
            Self::Answer(sender) => {
                let _ = sender.send(answer);
            }
            Self::Done(done) => done(answer),
        }
    }
}
