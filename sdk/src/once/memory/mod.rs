//! [`MemoryStore`]: the [`DeliveryStore`](super::DeliveryStore) in the
//! process's memory, bounded in time and in size, for one process and for
//! tests. Its answers are those of the database stores, call for call; only a
//! restart forgets it.

mod rows;
mod store;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::{
    Clock, DEFAULT_CAPACITY, DEFAULT_WINDOW, DeliveryKey, State, StoreError, Token, duration_millis,
};
use rows::{Row, Rows, key_of};

/// A [`DeliveryStore`](super::DeliveryStore) in memory, bounded in time and
/// in size.
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
/// use icr_webhooks::once::{Claimed, DeliveryKey, DeliveryStore, MemoryStore};
///
/// # tokio_test_block_on(async {
/// let store = MemoryStore::builder()
///     .window(Duration::from_secs(24 * 60 * 60))
///     .capacity(10_000)
///     .build();
/// let key = DeliveryKey::new(Some(60021), "72d3162e-cc78-11e3-81ab-4c9367dc0958".parse()?);
/// let Claimed::New(lease) = store.claim(&key, Duration::from_secs(60)).await? else {
///     unreachable!("a new key is claimed");
/// };
/// assert!(matches!(store.claim(&key, Duration::from_secs(60)).await?, Claimed::InProgress { .. }));
/// store.complete(&key, lease.token).await?;
/// assert_eq!(store.claim(&key, Duration::from_secs(60)).await?, Claimed::Done);
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
