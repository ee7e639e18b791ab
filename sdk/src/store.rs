//! Exactly-once processing: the delivery-GUID store ([`DeliveryStore`], with
//! the bounded in-memory [`MemoryStore`]) and [`ExactlyOnce`], which hands
//! out [`Claim`]s that are given back as done or failed and lets a duplicate
//! that arrives meanwhile wait for the outcome.
//!
//! ICR redelivers with the same GUID, by hand or through its API, for three
//! days; two copies of one delivery may even arrive at the same time. A GUID
//! goes through three states in a store: unknown, *in progress* (claimed by
//! the request processing it) and *done*. A failed attempt gives its claim
//! back, so the GUID is unknown again and a redelivery is processed.

use std::collections::hash_map::Entry as MapEntry;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::DeliveryId;

/// How long a GUID is remembered by default: three days, the contract's
/// redelivery window.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(3 * 24 * 60 * 60);

/// How many GUIDs a [`MemoryStore`] remembers by default: 1,000,000, at
/// most about 130 MiB, enough for four deliveries a second around the clock
/// for the whole three-day window.
pub const DEFAULT_CAPACITY: usize = 1_000_000;

/// How long a duplicate waits by default for the copy of its delivery that
/// is being processed ([`ExactlyOnce::wait`]): 5 s, well within ICR's 10 s
/// wait for an answer.
pub const DEFAULT_DUPLICATE_WAIT: Duration = Duration::from_secs(5);

/// Where a GUID stands in a [`DeliveryStore`], as [`DeliveryStore::begin`]
/// finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Begin {
    /// Not seen, or its last attempt failed: it is now in progress, and the
    /// caller must process it and then call [`DeliveryStore::complete`] or
    /// [`DeliveryStore::abort`].
    New,
    /// Being processed by another request right now.
    InProgress,
    /// Processed already: acknowledge it, do not process it again.
    Done,
}

/// A record of delivery GUIDs, to process each delivery once.
///
/// Three calls, each atomic: [`begin`](Self::begin) claims a GUID (or tells
/// that it is taken or done), then [`complete`](Self::complete) marks it
/// done or [`abort`](Self::abort) forgets it so that a redelivery is
/// processed. Most code uses them through [`ExactlyOnce`], whose [`Claim`]
/// gives itself back when dropped unfinished.
///
/// The calls are synchronous and are made on the request's task: a store
/// must answer at once (memory, an embedded database). [`MemoryStore`] is
/// the one in this crate; a store shared by several processes (a database
/// table with the GUID as primary key) implements the same three calls.
pub trait DeliveryStore: Send + Sync {
    /// Claims `id` when it is not known (or its last attempt was aborted),
    /// and says where it stands.
    fn begin(&self, id: &DeliveryId) -> Begin;
    /// Marks `id` done: later deliveries with this GUID get [`Begin::Done`].
    fn complete(&self, id: &DeliveryId);
    /// Gives up a claim: `id` is forgotten, and the next delivery with this
    /// GUID gets [`Begin::New`]. Does nothing to a GUID that is done.
    fn abort(&self, id: &DeliveryId);
}

impl<T: DeliveryStore + ?Sized> DeliveryStore for Arc<T> {
    fn begin(&self, id: &DeliveryId) -> Begin {
        (**self).begin(id)
    }
    fn complete(&self, id: &DeliveryId) {
        (**self).complete(id);
    }
    fn abort(&self, id: &DeliveryId) {
        (**self).abort(id);
    }
}

impl<T: DeliveryStore + ?Sized> DeliveryStore for &T {
    fn begin(&self, id: &DeliveryId) -> Begin {
        (**self).begin(id)
    }
    fn complete(&self, id: &DeliveryId) {
        (**self).complete(id);
    }
    fn abort(&self, id: &DeliveryId) {
        (**self).abort(id);
    }
}

/// Where the time comes from: [`Instant::now`], or a test's clock.
type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// A [`DeliveryStore`] in memory, bounded in time and in size.
///
/// - **Time window**: a GUID is forgotten [`window`](MemoryStoreBuilder::window)
///   after it was last claimed or completed (default [`DEFAULT_WINDOW`],
///   three days, the contract's redelivery window).
/// - **Capacity**: at most [`capacity`](MemoryStoreBuilder::capacity) GUIDs
///   (default [`DEFAULT_CAPACITY`]). When a new GUID would go over, the
///   GUID touched longest ago (claimed or completed) is evicted first:
///   oldest first, whatever its state.
///
/// Forgetting a GUID early can only make a later redelivery of it be
/// processed again, never make a delivery be lost: the store never answers
/// [`Begin::Done`] for a GUID that was not completed. Keep the capacity
/// above the deliveries of three days, and well above the deliveries in
/// progress at once (evicting one in progress lets a duplicate of it run
/// alongside).
///
/// Every call is O(1) amortized behind one mutex; a GUID costs 80 to 140
/// bytes (it is kept as 16 bytes, not as text; measured: 1,000,000
/// completed GUIDs hold 128 MiB). Only deliveries whose signature was
/// checked reach a store, so nobody without the secret can fill it. The
/// state lives in the process: a restart forgets everything.
///
/// ```
/// use std::time::Duration;
/// use icr_webhooks::{Begin, DeliveryId, DeliveryStore, MemoryStore};
///
/// let store = MemoryStore::builder()
///     .window(Duration::from_secs(24 * 60 * 60))
///     .capacity(10_000)
///     .build();
/// let id: DeliveryId = "72d3162e-cc78-11e3-81ab-4c9367dc0958".parse()?;
/// assert_eq!(store.begin(&id), Begin::New);
/// assert_eq!(store.begin(&id), Begin::InProgress);
/// store.complete(&id);
/// assert_eq!(store.begin(&id), Begin::Done);
/// # Ok::<(), icr_webhooks::ReceiveError>(())
/// ```
pub struct MemoryStore {
    state: Mutex<State>,
    window: Duration,
    capacity: usize,
    clock: Clock,
    /// The time the store was made: times are kept as nanoseconds since.
    base: Instant,
}

/// A GUID as its 128 bits, in two halves (so that an entry is aligned to 8
/// bytes, not 16).
type Key = [u64; 2];

/// The GUIDs, and the order in which they were touched.
#[derive(Default)]
struct State {
    entries: HashMap<Key, Entry>,
    /// `(GUID, stamp)` by time of touch, oldest first. An item whose stamp
    /// is not its entry's current one is stale and skipped.
    order: VecDeque<(Key, u64)>,
    next_stamp: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    stamp: u64,
    /// When it was last touched, in nanoseconds since the store was made.
    touched: u64,
    done: bool,
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

    /// How many GUIDs are remembered now (in progress or done), expired
    /// ones included until the next call evicts them.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no GUID is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How long a GUID is remembered.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// How many GUIDs are remembered at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent between calls, whatever panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
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

impl MemoryStore {
    /// Now, in nanoseconds since the store was made.
    fn now(&self) -> u64 {
        nanos((self.clock)().saturating_duration_since(self.base))
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl DeliveryStore for MemoryStore {
    fn begin(&self, id: &DeliveryId) -> Begin {
        let now = self.now();
        let mut state = self.lock();
        state.expire(now, nanos(self.window));
        let begin = match state.entries.get(&key(id)) {
            Some(entry) if entry.done => Begin::Done,
            Some(_) => Begin::InProgress,
            None => {
                state.touch(key(id), false, now);
                Begin::New
            }
        };
        state.evict(self.capacity);
        begin
    }

    fn complete(&self, id: &DeliveryId) {
        let now = self.now();
        let mut state = self.lock();
        state.expire(now, nanos(self.window));
        // Also when the claim was evicted meanwhile: it is done now.
        state.touch(key(id), true, now);
        state.evict(self.capacity);
    }

    fn abort(&self, id: &DeliveryId) {
        let mut state = self.lock();
        if let MapEntry::Occupied(entry) = state.entries.entry(key(id)) {
            if !entry.get().done {
                entry.remove();
            }
        }
        state.compact();
    }
}

impl State {
    /// Records `key` as touched now, in the given state, as the newest.
    fn touch(&mut self, key: Key, done: bool, now: u64) {
        let stamp = self.next_stamp;
        self.next_stamp = self.next_stamp.wrapping_add(1);
        self.entries.insert(
            key,
            Entry {
                done,
                touched: now,
                stamp,
            },
        );
        self.order.push_back((key, stamp));
        self.compact();
    }

    /// Forgets the GUIDs touched `window` or longer ago (nanoseconds).
    fn expire(&mut self, now: u64, window: u64) {
        while let Some(&(key, stamp)) = self.order.front() {
            match self.entries.get(&key) {
                Some(entry) if entry.stamp == stamp => {
                    if now.saturating_sub(entry.touched) < window {
                        break;
                    }
                    self.entries.remove(&key);
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Forgets the oldest GUIDs while there are more than `capacity`.
    fn evict(&mut self, capacity: usize) {
        while self.entries.len() > capacity {
            let Some((key, stamp)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&key).is_some_and(|e| e.stamp == stamp) {
                self.entries.remove(&key);
            }
        }
    }

    /// Drops the stale items of `order` once they outnumber the live ones,
    /// so that it stays within twice the entries (amortized O(1)).
    fn compact(&mut self) {
        if self.order.len() > 2 * self.entries.len() + 64 {
            let entries = &self.entries;
            self.order
                .retain(|(key, stamp)| entries.get(key).is_some_and(|e| e.stamp == *stamp));
        }
    }
}

/// The GUID as a number: its 32 hex digits (a [`DeliveryId`] is always a
/// hyphenated UUID), in two halves.
fn key(id: &DeliveryId) -> Key {
    let number = id.as_str().bytes().fold(0_u128, |key, byte| {
        let digit = match byte {
            b'0'..=b'9' => byte - b'0',
            b'a'..=b'f' => byte - b'a' + 10,
            b'A'..=b'F' => byte - b'A' + 10,
            _ => return key,
        };
        (key << 4) | u128::from(digit)
    });
    [(number >> 64) as u64, number as u64]
}

/// Configures a [`MemoryStore`].
#[must_use]
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
            clock: Arc::new(Instant::now),
        }
    }
}

impl fmt::Debug for MemoryStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStoreBuilder")
            .field("window", &self.window)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl MemoryStoreBuilder {
    /// How long a GUID is remembered after it was last claimed or completed;
    /// the default is [`DEFAULT_WINDOW`].
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// How many GUIDs are remembered at most (at least 1); the default is
    /// [`DEFAULT_CAPACITY`].
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Where the store reads the time, [`Instant::now`] by default: a test
    /// passes a clock it moves itself, to see the window pass.
    pub fn clock(mut self, clock: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the store.
    pub fn build(self) -> MemoryStore {
        MemoryStore {
            state: Mutex::new(State::default()),
            window: self.window,
            capacity: self.capacity,
            base: (self.clock)(),
            clock: self.clock,
        }
    }
}

/// Exactly-once processing over a [`DeliveryStore`]: a [`Claim`] for a new
/// delivery, and a way for a duplicate that arrives while the first copy is
/// being processed to wait for its outcome.
///
/// Cheap to clone; share one per store (the waiting works between requests
/// that go through the same `ExactlyOnce`). Without the `axum` integration:
///
/// ```
/// use icr_webhooks::{Claimed, Delivery, ExactlyOnce, MemoryStore};
///
/// /// What the HTTP handler answers.
/// fn on_delivery(once: &ExactlyOnce, delivery: &Delivery) -> u16 {
///     match once.claim(&delivery.info.id) {
///         Claimed::New(claim) => match process(delivery) {
///             Ok(()) => {
///                 claim.complete();
///                 200
///             }
///             // The claim is given back (also when it is dropped): a
///             // redelivery is processed.
///             Err(_) => 500,
///         },
///         Claimed::Done => 200,
///         // Being processed: not 2xx, so that it is redelivered if the
///         // first copy fails (or await `settled`, see `claim_waiting`).
///         _ => 409,
///     }
/// }
/// # fn process(_: &Delivery) -> Result<(), ()> { Ok(()) }
/// let once = ExactlyOnce::new(MemoryStore::new());
/// # let _ = on_delivery;
/// ```
#[derive(Clone)]
pub struct ExactlyOnce {
    store: Arc<dyn DeliveryStore>,
    local: Arc<Local>,
    wait: Duration,
}

/// The GUIDs claimed through one [`ExactlyOnce`] and not yet settled, each
/// with the wakers of the requests waiting for it.
#[derive(Default)]
struct Local {
    claimed: Mutex<HashMap<DeliveryId, Vec<Waker>>>,
}

impl Local {
    fn lock(&self) -> MutexGuard<'_, HashMap<DeliveryId, Vec<Waker>>> {
        self.claimed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets the claim of `id` and wakes whoever waits for it.
    fn settle(&self, id: &DeliveryId) {
        let waiting = self.lock().remove(id);
        for waker in waiting.into_iter().flatten() {
            waker.wake();
        }
    }
}

/// What [`ExactlyOnce::claim`] found.
#[derive(Debug)]
#[must_use]
pub enum Claimed {
    /// Not processed yet: process it, then [`complete`](Claim::complete)
    /// the claim; dropping it instead gives it back.
    New(Claim),
    /// Processed already: acknowledge it (2xx) without processing.
    Done,
    /// Being processed by another request through the same
    /// [`ExactlyOnce`]: the future resolves when that one is settled, and
    /// claiming again then tells how it went.
    InProgress(Settled),
    /// Being processed, but not through this [`ExactlyOnce`] (another
    /// process sharing the store, or a claim taken from the store
    /// directly): nothing here can tell when it ends.
    Elsewhere,
}

impl ExactlyOnce {
    /// Exactly-once processing over `store` (a [`MemoryStore`], an
    /// `Arc` of a store kept elsewhere too, or your own).
    pub fn new(store: impl DeliveryStore + 'static) -> Self {
        Self {
            store: Arc::new(store),
            local: Arc::default(),
            wait: DEFAULT_DUPLICATE_WAIT,
        }
    }

    /// Sets how long a duplicate waits for the copy being processed before
    /// it is answered as still in progress; the default is
    /// [`DEFAULT_DUPLICATE_WAIT`]. Used by the axum `Once` extractor; for
    /// [`claim_waiting`](Self::claim_waiting), make `give_up` a timer of
    /// this length.
    #[must_use]
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// How long a duplicate waits for the copy being processed.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// Claims the delivery `id`, without waiting.
    pub fn claim(&self, id: &DeliveryId) -> Claimed {
        // The store is asked under the lock of the local claims, so that a
        // GUID in progress here is always in `claimed` when the store says
        // so: a duplicate then either waits for it or finds it settled.
        let mut claimed = self.local.lock();
        match self.store.begin(id) {
            Begin::New => {
                claimed.insert(id.clone(), Vec::new());
                Claimed::New(Claim {
                    id: id.clone(),
                    store: Arc::clone(&self.store),
                    local: Arc::clone(&self.local),
                    settled: false,
                })
            }
            Begin::Done => Claimed::Done,
            Begin::InProgress if claimed.contains_key(id) => Claimed::InProgress(Settled {
                id: id.clone(),
                local: Arc::clone(&self.local),
            }),
            Begin::InProgress => Claimed::Elsewhere,
        }
    }

    /// Claims the delivery `id`; while another request here is processing
    /// it, waits for that one to settle and claims again, until `give_up`
    /// resolves (a timer of your runtime).
    ///
    /// The result is never [`Claimed::InProgress`] unless `give_up`
    /// resolved first. The processing that failed hands over: the waiting
    /// duplicate gets [`Claimed::New`] and processes the delivery itself.
    pub async fn claim_waiting(
        &self,
        id: &DeliveryId,
        give_up: impl Future<Output = ()>,
    ) -> Claimed {
        let mut give_up = std::pin::pin!(give_up);
        loop {
            let mut settled = match self.claim(id) {
                Claimed::InProgress(settled) => settled,
                other => return other,
            };
            let gave_up = std::future::poll_fn(|cx| {
                if Pin::new(&mut settled).poll(cx).is_ready() {
                    Poll::Ready(false)
                } else if give_up.as_mut().poll(cx).is_ready() {
                    Poll::Ready(true)
                } else {
                    Poll::Pending
                }
            })
            .await;
            if gave_up {
                return Claimed::InProgress(settled);
            }
        }
    }
}

impl Default for ExactlyOnce {
    /// Over a [`MemoryStore`] with the default window and capacity.
    fn default() -> Self {
        Self::new(MemoryStore::new())
    }
}

impl fmt::Debug for ExactlyOnce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExactlyOnce")
            .field("claimed_here", &self.local.lock().len())
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

/// The right to process one delivery, from [`ExactlyOnce::claim`].
///
/// [`complete`](Self::complete) it once the work is done (or durably
/// handed over). Dropping it otherwise, on an error, a panic or a request
/// cancelled when the client went away, gives it back as
/// [`abort`](Self::abort) does: the GUID is forgotten and a redelivery is
/// processed. Forgetting to complete can thus cause a second processing,
/// never a lost delivery.
#[must_use = "a claim dropped without `complete` is given back, and the delivery will be processed again"]
pub struct Claim {
    id: DeliveryId,
    store: Arc<dyn DeliveryStore>,
    local: Arc<Local>,
    settled: bool,
}

impl Claim {
    /// The GUID claimed.
    pub fn id(&self) -> &DeliveryId {
        &self.id
    }

    /// The delivery is processed: its redeliveries are acknowledged without
    /// processing, and a duplicate waiting for it gets [`Claimed::Done`].
    pub fn complete(mut self) {
        self.settled = true;
        self.store.complete(&self.id);
        self.local.settle(&self.id);
    }

    /// Processing failed: the GUID is forgotten, so that a redelivery (or a
    /// duplicate waiting for it) is processed. Dropping the claim does the
    /// same.
    pub fn abort(mut self) {
        self.settle_aborted();
    }

    fn settle_aborted(&mut self) {
        if !self.settled {
            self.settled = true;
            self.store.abort(&self.id);
            self.local.settle(&self.id);
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.settle_aborted();
    }
}

impl fmt::Debug for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim").field("id", &self.id).finish()
    }
}

/// Resolves when a claim in progress through the same [`ExactlyOnce`] is
/// completed or given back; then claim again to see which.
#[must_use = "futures do nothing unless awaited"]
pub struct Settled {
    id: DeliveryId,
    local: Arc<Local>,
}

impl Future for Settled {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut claimed = self.local.lock();
        match claimed.get_mut(&self.id) {
            None => Poll::Ready(()),
            Some(wakers) => {
                if !wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

impl fmt::Debug for Settled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settled").field("id", &self.id).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> DeliveryId {
        format!("{n:08x}-0000-4000-8000-000000000000")
            .parse()
            .unwrap()
    }

    /// A clock the test moves by hand.
    fn manual_clock() -> (
        Arc<Mutex<Instant>>,
        impl Fn() -> Instant + Send + Sync + 'static,
    ) {
        let now = Arc::new(Mutex::new(Instant::now()));
        let read = Arc::clone(&now);
        (now, move || *read.lock().unwrap())
    }

    #[test]
    fn states_go_new_in_progress_done() {
        let store = MemoryStore::new();
        assert_eq!(store.begin(&id(1)), Begin::New);
        assert_eq!(store.begin(&id(1)), Begin::InProgress);
        assert_eq!(store.begin(&id(2)), Begin::New);
        store.complete(&id(1));
        assert_eq!(store.begin(&id(1)), Begin::Done);
        store.abort(&id(1));
        assert_eq!(store.begin(&id(1)), Begin::Done, "abort leaves done alone");
        store.abort(&id(2));
        assert_eq!(store.begin(&id(2)), Begin::New, "aborted is forgotten");
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn the_guid_is_kept_as_its_number() {
        let lower: DeliveryId = "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c".parse().unwrap();
        let upper: DeliveryId = "9B2E4C1A-0F3D-4E5B-8A7C-6D1E2F3A4B5C".parse().unwrap();
        assert_eq!(key(&lower), [0x9b2e_4c1a_0f3d_4e5b, 0x8a7c_6d1e_2f3a_4b5c]);
        assert_eq!(key(&lower), key(&upper));
        assert_ne!(key(&id(1)), key(&id(2)));
    }

    #[test]
    fn the_window_forgets_old_guids() {
        let (now, clock) = manual_clock();
        let store = MemoryStore::builder()
            .window(Duration::from_secs(60))
            .clock(clock)
            .build();
        assert_eq!(store.begin(&id(1)), Begin::New);
        store.complete(&id(1));
        *now.lock().unwrap() += Duration::from_secs(30);
        assert_eq!(store.begin(&id(2)), Begin::New);
        *now.lock().unwrap() += Duration::from_secs(29);
        assert_eq!(store.begin(&id(1)), Begin::Done, "59 s after completion");
        *now.lock().unwrap() += Duration::from_secs(1);
        assert_eq!(store.begin(&id(1)), Begin::New, "60 s after completion");
        // id(2) was claimed 30 s ago and is still in progress.
        assert_eq!(store.begin(&id(2)), Begin::InProgress);
        *now.lock().unwrap() += Duration::from_secs(30);
        assert_eq!(store.begin(&id(3)), Begin::New);
        assert_eq!(
            store.begin(&id(2)),
            Begin::New,
            "a claim never settled expires too"
        );
    }

    #[test]
    fn completing_restarts_the_window() {
        let (now, clock) = manual_clock();
        let store = MemoryStore::builder()
            .window(Duration::from_secs(60))
            .clock(clock)
            .build();
        assert_eq!(store.begin(&id(1)), Begin::New);
        *now.lock().unwrap() += Duration::from_secs(50);
        store.complete(&id(1));
        *now.lock().unwrap() += Duration::from_secs(50);
        assert_eq!(store.begin(&id(1)), Begin::Done);
    }

    #[test]
    fn capacity_evicts_the_oldest_touched_first() {
        let store = MemoryStore::builder().capacity(3).build();
        for n in 1..=3 {
            assert_eq!(store.begin(&id(n)), Begin::New);
        }
        store.complete(&id(1)); // touched last now
        assert_eq!(store.begin(&id(4)), Begin::New); // evicts id(2)
        assert_eq!(store.len(), 3);
        assert_eq!(store.begin(&id(1)), Begin::Done);
        assert_eq!(store.begin(&id(3)), Begin::InProgress);
        assert_eq!(store.begin(&id(2)), Begin::New, "evicted: processed again");
        // Evicted while in progress, then completed: remembered as done.
        assert_eq!(store.begin(&id(5)), Begin::New);
        assert_eq!(store.begin(&id(6)), Begin::New);
        store.complete(&id(3));
        assert_eq!(store.begin(&id(3)), Begin::Done);
        assert_eq!(store.len(), 3);
    }

    #[test]
    fn capacity_is_at_least_one() {
        let store = MemoryStore::builder().capacity(0).build();
        assert_eq!(store.capacity(), 1);
        assert_eq!(store.begin(&id(1)), Begin::New);
        assert_eq!(store.begin(&id(1)), Begin::InProgress);
    }

    #[test]
    fn the_order_queue_stays_bounded_under_churn() {
        let store = MemoryStore::builder().capacity(10).build();
        for round in 0..10_000 {
            assert_eq!(store.begin(&id(round % 5)), Begin::New);
            store.abort(&id(round % 5));
        }
        let state = store.lock();
        assert!(state.order.len() <= 2 * state.entries.len() + 65);
    }

    #[test]
    fn a_claim_dropped_is_given_back() {
        let once = ExactlyOnce::default();
        let Claimed::New(claim) = once.claim(&id(1)) else {
            panic!("not new")
        };
        assert_eq!(claim.id(), &id(1));
        assert!(matches!(once.claim(&id(1)), Claimed::InProgress(_)));
        drop(claim);
        let Claimed::New(claim) = once.claim(&id(1)) else {
            panic!("not new after drop")
        };
        claim.complete();
        assert!(matches!(once.claim(&id(1)), Claimed::Done));
    }

    #[test]
    fn a_claim_taken_elsewhere_is_told_apart() {
        let store = Arc::new(MemoryStore::new());
        let once = ExactlyOnce::new(Arc::clone(&store));
        assert_eq!(store.begin(&id(7)), Begin::New);
        assert!(matches!(once.claim(&id(7)), Claimed::Elsewhere));
        store.complete(&id(7));
        assert!(matches!(once.claim(&id(7)), Claimed::Done));
    }

    #[test]
    fn debug_shows_no_guids_of_the_store() {
        let store = MemoryStore::new();
        let _ = store.begin(&id(1));
        assert_eq!(
            format!("{store:?}"),
            "MemoryStore { len: 1, window: 259200s, capacity: 1000000 }"
        );
    }
}
