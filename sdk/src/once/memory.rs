//! [`MemoryStore`]: the [`DeliveryStore`] in the process's memory, bounded in
//! time and in size, for one process and for tests. Its answers are those of
//! the database stores, call for call; only a restart forgets it.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::future::ready;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::{
    Accepted, Begin, ClaimedJob, Clock, DEFAULT_CAPACITY, DEFAULT_WINDOW, DeliveryKey,
    DeliveryStore, Lease, ListFilter, Purge, Purged, Record, State, Stats, StoreError, StoreFuture,
    StoredDelivery, Token, duration_millis, from_millis, to_millis, to_millis_ceil,
};
use crate::DeliveryId;

/// A [`DeliveryStore`] in memory, bounded in time and in size.
///
/// - **Time window**: a row that is done or free is forgotten
///   [`window`](MemoryStoreBuilder::window) after its last change (default
///   [`DEFAULT_WINDOW`], three days, the contract's redelivery window).
/// - **Capacity**: at most [`capacity`](MemoryStoreBuilder::capacity) rows
///   (default [`DEFAULT_CAPACITY`]). When a new row would go over, the done
///   or free row changed longest ago is forgotten first (or a claim whose
///   lease ran out). Claims whose lease holds, and inbox rows that are
///   pending, active or dead, are never forgotten: a duplicate could run
///   alongside, or they are the only copy of a delivery answered 2xx; they
///   may take the store over its capacity.
///
/// Forgetting a row early can only make a later redelivery be processed
/// again, never make a delivery be lost. Keep the capacity above the
/// deliveries of three days.
///
/// Every call is O(log n) behind one mutex. The state lives in the process:
/// a restart forgets everything, so an inbox on a `MemoryStore` loses what
/// it accepted and had not processed. Use it for one process that answers
/// after processing ([`ExactlyOnce`](super::ExactlyOnce)) and for tests;
/// use a database store for an inbox and for several replicas.
///
/// ```
/// use std::time::Duration;
/// use icr_webhooks::once::{Begin, DeliveryKey, DeliveryStore, MemoryStore};
///
/// # tokio_test_block_on(async {
/// let store = MemoryStore::builder()
///     .window(Duration::from_secs(24 * 60 * 60))
///     .capacity(10_000)
///     .build();
/// let key = DeliveryKey::new(Some(60021), "72d3162e-cc78-11e3-81ab-4c9367dc0958".parse()?);
/// let Begin::New(lease) = store.begin(&key, Duration::from_secs(60)).await? else {
///     unreachable!("a new key is claimed");
/// };
/// assert!(matches!(store.begin(&key, Duration::from_secs(60)).await?, Begin::InProgress { .. }));
/// store.complete(&key, lease.token).await?;
/// assert_eq!(store.begin(&key, Duration::from_secs(60)).await?, Begin::Done);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MemoryStore {
    state: Mutex<Rows>,
    window: Duration,
    capacity: usize,
    clock: Clock,
}

/// A key as numbers: the webhook and the GUID's 128 bits.
type Key = (u64, u128);

#[derive(Default)]
struct Rows {
    rows: HashMap<Key, Row>,
    /// `(key, stamp)` by time of change, oldest first. An item whose stamp
    /// is not its row's current one is stale and skipped.
    order: VecDeque<(Key, u64)>,
    /// Inbox rows that are pending or active, by when they are due (retry
    /// time or lease end).
    due: BTreeSet<(i64, Key)>,
    next_stamp: u64,
    next_token: u64,
}

#[derive(Debug, Clone)]
struct Row {
    state: State,
    token: u64,
    /// Retry time (pending) or lease end (active), in ms.
    due: i64,
    attempts: u32,
    updated: i64,
    stamp: u64,
    last_error: Option<String>,
    /// What the inbox keeps of the delivery; `None` for a row claimed
    /// before answering.
    stored: Option<Kept>,
}

#[derive(Debug, Clone)]
struct Kept {
    headers: Vec<(String, String)>,
    /// `None` once retention dropped it.
    body: Option<Bytes>,
    received_at: i64,
}

impl Row {
    fn is_inbox(&self) -> bool {
        self.stored.is_some()
    }

    /// Whether the capacity and the window may forget the row at `now`:
    /// it is not the only copy of an accepted delivery, nor a claim whose
    /// lease still holds (forgetting it would let a duplicate run
    /// alongside).
    fn evictable(&self, now: i64) -> bool {
        match self.state {
            State::Done => true,
            State::Free => !self.is_inbox(),
            State::Active => !self.is_inbox() && self.due <= now,
            State::Pending | State::Dead => false,
        }
    }

    /// A claim given back, not counted as an attempt: free, or for an inbox
    /// row pending again at once.
    fn give_back(&mut self, now: i64) {
        self.attempts = self.attempts.saturating_sub(1);
        if self.is_inbox() {
            self.state = State::Pending;
            self.due = now;
        } else {
            self.state = State::Free;
            self.due = 0;
        }
    }

    fn in_due_index(&self) -> bool {
        self.is_inbox() && matches!(self.state, State::Pending | State::Active)
    }
}

impl MemoryStore {
    /// A store with the default window and capacity.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder, to set the window, the capacity or the clock.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    /// How many rows are kept now, expired ones included until the next
    /// call forgets them.
    pub fn len(&self) -> usize {
        self.lock().rows.len()
    }

    /// Whether no row is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How long a done row is remembered.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// How many rows are kept at most (inbox rows not done may go over).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> MutexGuard<'_, Rows> {
        // The rows are consistent between calls, whatever panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `change` on the rows at the store's time now, after forgetting
    /// what the window let go.
    fn with<T>(&self, change: impl FnOnce(&mut Rows, i64) -> T) -> T {
        let now = self.clock.millis();
        let mut rows = self.lock();
        rows.expire(now, duration_millis(self.window));
        let out = change(&mut rows, now);
        rows.evict(self.capacity, now);
        out
    }

    /// Runs a change to the row of `key` that the claim `token` must still
    /// hold (active, same token).
    fn fenced(
        &self,
        key: &DeliveryKey,
        token: Token,
        change: impl FnOnce(&mut Row, i64),
    ) -> Result<(), StoreError> {
        self.with(|rows, now| {
            let key = key_of(key);
            let mut row = match rows.rows.get(&key) {
                Some(row) if row.state == State::Active && row.token == token.0 => row.clone(),
                _ => return Err(StoreError::Fenced),
            };
            change(&mut row, now);
            rows.put(key, row, now);
            Ok(())
        })
    }
}

fn done<'a, T: Send + 'a>(result: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(ready(result))
}

impl DeliveryStore for MemoryStore {
    fn begin<'a>(&'a self, key: &'a DeliveryKey, lease: Duration) -> StoreFuture<'a, Begin> {
        let begin = self.with(|rows, now| {
            let key = key_of(key);
            let existing = rows.rows.get(&key).cloned();
            let mut row = match existing {
                None => Row {
                    state: State::Free,
                    token: 0,
                    due: 0,
                    attempts: 0,
                    updated: now,
                    stamp: 0,
                    last_error: None,
                    stored: None,
                },
                Some(row) => match row.state {
                    State::Done | State::Dead => return Begin::Done,
                    State::Pending => return Begin::InProgress { expires: None },
                    State::Active if row.is_inbox() || row.due > now => {
                        return Begin::InProgress {
                            expires: Some(from_millis(row.due)),
                        };
                    }
                    State::Active | State::Free => row,
                },
            };
            let lease = rows.claim(&mut row, now, lease);
            rows.put(key, row, now);
            Begin::New(lease)
        });
        done(Ok(begin))
    }

    fn renew<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        lease: Duration,
    ) -> StoreFuture<'a, SystemTime> {
        let mut expires = 0;
        let result = self.fenced(key, token, |row, now| {
            row.due = now.saturating_add(duration_millis(lease));
            expires = row.due;
        });
        done(result.map(|()| from_millis(expires)))
    }

    fn complete<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        done(self.fenced(key, token, |row, _| {
            row.state = State::Done;
            row.due = 0;
        }))
    }

    fn abort<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        done(self.fenced(key, token, Row::give_back))
    }

    fn release(&self, key: &DeliveryKey, token: Token) {
        // Fenced: a claim settled or taken over meanwhile is left alone.
        let _ = self.fenced(key, token, Row::give_back);
    }

    fn accept(&self, delivery: StoredDelivery) -> StoreFuture<'_, Accepted> {
        let accepted = self.with(|rows, now| {
            let key = key_of(&delivery.key);
            if rows.rows.contains_key(&key) {
                return Accepted::Duplicate;
            }
            let row = Row {
                state: State::Pending,
                token: 0,
                due: now,
                attempts: 0,
                updated: now,
                stamp: 0,
                last_error: None,
                stored: Some(Kept {
                    headers: delivery.headers,
                    body: Some(delivery.body),
                    received_at: to_millis(delivery.received_at),
                }),
            };
            rows.put(key, row, now);
            Accepted::Stored
        });
        done(Ok(accepted))
    }

    fn claim_jobs(&self, max: usize, lease: Duration) -> StoreFuture<'_, Vec<ClaimedJob>> {
        let jobs = self.with(|rows, now| {
            let due: Vec<Key> = rows
                .due
                .iter()
                .take_while(|(due, _)| *due <= now)
                .take(max)
                .map(|(_, key)| *key)
                .collect();
            let mut jobs = Vec::with_capacity(due.len());
            for key in due {
                let Some(mut row) = rows.rows.get(&key).cloned() else {
                    continue;
                };
                let lease = rows.claim(&mut row, now, lease);
                let attempt = row.attempts;
                let delivery = row.stored.as_ref().map(|kept| stored(key, kept));
                rows.put(key, row, now);
                if let Some(delivery) = delivery {
                    jobs.push(ClaimedJob {
                        delivery,
                        lease,
                        attempt,
                    });
                }
            }
            jobs
        });
        done(Ok(jobs))
    }

    fn fail<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        retry_at: Option<SystemTime>,
        reason: &'a str,
    ) -> StoreFuture<'a, ()> {
        done(self.fenced(key, token, |row, _| {
            row.last_error = Some(reason.to_owned());
            match (row.is_inbox(), retry_at) {
                (true, Some(at)) => {
                    row.state = State::Pending;
                    row.due = to_millis_ceil(at);
                }
                (true, None) => {
                    row.state = State::Dead;
                    row.due = 0;
                }
                (false, _) => {
                    row.state = State::Free;
                    row.due = 0;
                }
            }
        }))
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        let stats = self.with(|rows, _| {
            let mut stats = Stats::default();
            for row in rows.rows.values() {
                let count = match row.state {
                    State::Free => &mut stats.free,
                    State::Pending => &mut stats.pending,
                    State::Active => &mut stats.active,
                    State::Done => &mut stats.done,
                    State::Dead => &mut stats.dead,
                };
                *count += 1;
                if row.state == State::Pending && row.attempts > 0 {
                    stats.failed += 1;
                }
            }
            stats
        });
        done(Ok(stats))
    }

    fn list(&self, filter: ListFilter, limit: usize) -> StoreFuture<'_, Vec<Record>> {
        let records = self.with(|rows, _| {
            let mut picked: Vec<(&Key, &Row)> = rows
                .rows
                .iter()
                .filter(|(_, row)| match filter {
                    ListFilter::All => true,
                    ListFilter::State(state) => row.state == state,
                    ListFilter::Failed => row.state == State::Pending && row.attempts > 0,
                })
                .collect();
            picked.sort_by_key(|(key, row)| (row.updated, **key));
            picked
                .into_iter()
                .take(limit)
                .map(|(key, row)| record(*key, row))
                .collect()
        });
        done(Ok(records))
    }

    fn get<'a>(
        &'a self,
        id: &'a DeliveryId,
    ) -> StoreFuture<'a, Vec<(Record, Option<StoredDelivery>)>> {
        let found = self.with(|rows, _| {
            let guid = guid_number(id);
            let mut found: Vec<(Key, &Row)> = rows
                .rows
                .iter()
                .filter(|(key, _)| key.1 == guid)
                .map(|(key, row)| (*key, row))
                .collect();
            found.sort_by_key(|(key, _)| *key);
            found
                .into_iter()
                .map(|(key, row)| {
                    let delivery = row
                        .stored
                        .as_ref()
                        .filter(|kept| kept.body.is_some())
                        .map(|kept| stored(key, kept));
                    (record(key, row), delivery)
                })
                .collect()
        });
        done(Ok(found))
    }

    fn retry<'a>(&'a self, id: Option<&'a DeliveryId>) -> StoreFuture<'a, u64> {
        let count = self.with(|rows, now| {
            let guid = id.map(guid_number);
            let dead: Vec<Key> = rows
                .rows
                .iter()
                .filter(|(key, row)| row.state == State::Dead && guid.is_none_or(|g| key.1 == g))
                .map(|(key, _)| *key)
                .collect();
            for key in &dead {
                if let Some(mut row) = rows.rows.get(key).cloned() {
                    row.state = State::Pending;
                    row.attempts = 0;
                    row.due = now;
                    rows.put(*key, row, now);
                }
            }
            dead.len() as u64
        });
        done(Ok(count))
    }

    fn purge(&self, purge: Purge) -> StoreFuture<'_, Purged> {
        let purged = self.with(|rows, _| {
            let before = to_millis(purge.before);
            let bodies_before = purge.bodies_before.map(to_millis);
            let mut purged = Purged::default();
            let mut gone = Vec::new();
            for (key, row) in &mut rows.rows {
                let old = row.updated < before;
                let deletable = match row.state {
                    State::Done | State::Free => true,
                    State::Dead => purge.dead,
                    State::Pending | State::Active => false,
                };
                if old && deletable {
                    gone.push(*key);
                    continue;
                }
                if let (State::Done, Some(bodies_before), Some(kept)) =
                    (row.state, bodies_before, row.stored.as_mut())
                {
                    if row.updated < bodies_before && kept.body.take().is_some() {
                        purged.bodies += 1;
                    }
                }
            }
            for key in gone {
                rows.remove(&key);
                purged.rows += 1;
            }
            rows.compact();
            purged
        });
        done(Ok(purged))
    }
}

impl Rows {
    /// Claims `row` under a new token for `lease` from `now`.
    fn claim(&mut self, row: &mut Row, now: i64, lease: Duration) -> Lease {
        self.next_token += 1;
        row.token = self.next_token;
        row.state = State::Active;
        row.attempts = row.attempts.saturating_add(1);
        row.due = now.saturating_add(duration_millis(lease));
        Lease {
            token: Token(row.token),
            expires: from_millis(row.due),
        }
    }

    /// Writes `row` as changed now, the newest in the order, and keeps the
    /// due index in step.
    fn put(&mut self, key: Key, mut row: Row, now: i64) {
        if let Some(old) = self.rows.get(&key) {
            if old.in_due_index() {
                self.due.remove(&(old.due, key));
            }
        }
        let stamp = self.next_stamp;
        self.next_stamp = self.next_stamp.wrapping_add(1);
        row.stamp = stamp;
        row.updated = now;
        if row.in_due_index() {
            self.due.insert((row.due, key));
        }
        self.rows.insert(key, row);
        self.order.push_back((key, stamp));
        self.compact();
    }

    fn remove(&mut self, key: &Key) {
        if let Some(row) = self.rows.remove(key) {
            if row.in_due_index() {
                self.due.remove(&(row.due, *key));
            }
        }
    }

    /// Forgets the evictable rows changed `window` or longer ago (ms).
    fn expire(&mut self, now: i64, window: i64) {
        while let Some(&(key, stamp)) = self.order.front() {
            if let Some(row) = self.rows.get(&key) {
                if row.stamp == stamp {
                    if now.saturating_sub(row.updated) < window {
                        break;
                    }
                    if row.evictable(now) {
                        self.remove(&key);
                    }
                }
            }
            self.order.pop_front();
        }
    }

    /// Forgets the evictable rows changed longest ago while there are more
    /// than `capacity`.
    fn evict(&mut self, capacity: usize, now: i64) {
        while self.rows.len() > capacity {
            let Some((key, stamp)) = self.order.pop_front() else {
                break;
            };
            if self
                .rows
                .get(&key)
                .is_some_and(|row| row.stamp == stamp && row.evictable(now))
            {
                self.remove(&key);
            }
        }
    }

    /// Drops the stale items of `order` once they outnumber the live rows,
    /// so that it stays within twice the rows (amortized O(1)).
    fn compact(&mut self) {
        if self.order.len() > 2 * self.rows.len() + 64 {
            let rows = &self.rows;
            self.order
                .retain(|(key, stamp)| rows.get(key).is_some_and(|row| row.stamp == *stamp));
        }
    }
}

fn record(key: Key, row: &Row) -> Record {
    Record {
        key: delivery_key(key),
        state: row.state,
        attempts: row.attempts,
        received_at: row
            .stored
            .as_ref()
            .map(|kept| from_millis(kept.received_at)),
        updated_at: from_millis(row.updated),
        due: matches!(row.state, State::Pending | State::Active).then(|| from_millis(row.due)),
        last_error: row.last_error.clone(),
        body_len: row
            .stored
            .as_ref()
            .and_then(|kept| kept.body.as_ref())
            .map(|body| body.len() as u64),
    }
}

fn stored(key: Key, kept: &Kept) -> StoredDelivery {
    StoredDelivery {
        key: delivery_key(key),
        headers: kept.headers.clone(),
        body: kept.body.clone().unwrap_or_default(),
        received_at: from_millis(kept.received_at),
    }
}

fn key_of(key: &DeliveryKey) -> Key {
    (key.hook_id, guid_number(&key.id))
}

fn delivery_key(key: Key) -> DeliveryKey {
    DeliveryKey {
        hook_id: key.0,
        id: guid_text(key.1),
    }
}

/// The GUID as a number: its 32 hex digits (a [`DeliveryId`] is always a
/// hyphenated UUID).
fn guid_number(id: &DeliveryId) -> u128 {
    id.as_str().bytes().fold(0_u128, |number, byte| {
        let digit = match byte {
            b'0'..=b'9' => byte - b'0',
            b'a'..=b'f' => byte - b'a' + 10,
            b'A'..=b'F' => byte - b'A' + 10,
            _ => return number,
        };
        (number << 4) | u128::from(digit)
    })
}

/// The GUID of a number, hyphenated in lower case.
fn guid_text(number: u128) -> DeliveryId {
    let hex = format!("{number:032x}");
    let (a, rest) = hex.split_at(8);
    let (b, rest) = rest.split_at(4);
    let (c, rest) = rest.split_at(4);
    let (d, e) = rest.split_at(4);
    DeliveryId::from_canonical(&format!("{a}-{b}-{c}-{d}-{e}"))
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("len", &self.len())
            .field("window", &self.window)
            .field("capacity", &self.capacity)
            .finish()
    }
}

/// Configures a [`MemoryStore`].
#[must_use]
#[derive(Debug)]
pub struct MemoryStoreBuilder {
    window: Duration,
    capacity: usize,
    clock: Clock,
}

impl Default for MemoryStoreBuilder {
    fn default() -> Self {
        Self {
            window: DEFAULT_WINDOW,
            capacity: DEFAULT_CAPACITY,
            clock: Clock::system(),
        }
    }
}

impl MemoryStoreBuilder {
    /// How long a done or free row is remembered after its last change; the
    /// default is [`DEFAULT_WINDOW`].
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// How many rows are kept at most (at least 1); the default is
    /// [`DEFAULT_CAPACITY`].
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Where the store reads the time, the system clock by default: a test
    /// passes a clock it moves itself, to see leases and the window pass.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the store.
    pub fn build(self) -> MemoryStore {
        MemoryStore {
            state: Mutex::new(Rows::default()),
            window: self.window,
            capacity: self.capacity,
            clock: self.clock,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guid_is_kept_as_its_number_and_written_back_in_lower_case() {
        let upper: DeliveryId = "9B2E4C1A-0F3D-4E5B-8A7C-6D1E2F3A4B5C".parse().unwrap();
        assert_eq!(
            guid_number(&upper),
            0x9b2e_4c1a_0f3d_4e5b_8a7c_6d1e_2f3a_4b5c
        );
        assert_eq!(
            guid_text(guid_number(&upper)).as_str(),
            "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c"
        );
    }

    #[test]
    fn the_order_queue_stays_bounded_under_churn() {
        let store = MemoryStore::builder().capacity(10).build();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            for round in 0..10_000_u32 {
                let key = DeliveryKey::new(
                    None,
                    format!("{:08x}-0000-4000-8000-000000000000", round % 5)
                        .parse()
                        .unwrap(),
                );
                let Begin::New(lease) = store.begin(&key, Duration::from_secs(60)).await.unwrap()
                else {
                    panic!("not new");
                };
                store.abort(&key, lease.token).await.unwrap();
            }
        });
        let rows = store.lock();
        assert!(rows.order.len() <= 2 * rows.rows.len() + 65);
    }

    #[test]
    fn debug_shows_no_keys() {
        let store = MemoryStore::new();
        assert_eq!(
            format!("{store:?}"),
            "MemoryStore { len: 0, window: 259200s, capacity: 1000000 }"
        );
    }
}
