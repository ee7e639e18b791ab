//! The values a [`DeliveryStore`](super::DeliveryStore) takes and gives:
//! delivery keys, fencing tokens and leases, where a delivery stands, stored
//! deliveries and claimed jobs, records and statistics, and what retention
//! and purges remove.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::DEFAULT_RETENTION;
use crate::receive::DeliveryId;

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

/// What [`DeliveryStore::accept`](super::DeliveryStore::accept) did with a
/// delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Accepted {
    /// Written durably, to be processed by the inbox's workers.
    Stored,
    /// A delivery with this key was known already (accepted before, or
    /// processed): nothing was written.
    Duplicate,
}

/// The state of a delivery's row in a store (see the [module docs](super)).
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
/// [`DeliveryStore::claim_jobs`](super::DeliveryStore::claim_jobs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// The delivery.
    pub delivery: StoredDelivery,
    /// The claim.
    pub lease: Lease,
    /// Which attempt this is, from 1.
    pub attempt: u32,
}

/// One row of a store, for listing and auditing
/// ([`DeliveryStore::list`](super::DeliveryStore::list)).
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

/// How many rows a store holds in each [`State`]
/// ([`DeliveryStore::stats`](super::DeliveryStore::stats)).
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

/// What [`DeliveryStore::purge`](super::DeliveryStore::purge) removes.
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

/// What [`DeliveryStore::purge`](super::DeliveryStore::purge) removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Purged {
    /// Rows deleted.
    pub rows: u64,
    /// Bodies dropped from rows that were kept.
    pub bodies: u64,
}
