//! *Process, then answer*: [`ExactlyOnce`] claims a delivery in a
//! [`DeliveryStore`] before the handler runs, hands out a [`Claim`] that is
//! completed or given back, and lets a duplicate that arrives meanwhile in
//! the same process wait for the outcome.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use super::claimed::{Claimed, Local, Pending, Settled};
use super::{
    DEFAULT_DUPLICATE_WAIT, DEFAULT_LEASE, DeliveryKey, DeliveryStore, Lease, MemoryStore,
    StoreError, Token,
};
use crate::headers::DeliveryId;
use crate::observe::{self, StoreOp};

/// Exactly-once processing over a [`DeliveryStore`]: a [`Claim`] for a new
/// delivery, and a way for a duplicate that arrives while the first copy is
/// being processed here to wait for its outcome.
///
/// Cheap to clone; share one per store and process. Several processes
/// share a database store ([`sqlite`](super::sqlite),
/// [`postgres`](super::postgres)): a delivery being processed by another
/// process is [`Claimed::InProgress`] with no `settled` future (answer 409: ICR's redelivery finds it
/// done or free), and a process that died holding a claim loses it when its
/// lease runs out ([`with_lease`](Self::with_lease)).
///
/// ```
/// use icr_webhooks::once::{Claimed, DeliveryKey, ExactlyOnce, MemoryStore};
/// use icr_webhooks::Delivery;
///
/// /// What the HTTP handler answers.
/// async fn on_delivery(once: &ExactlyOnce, delivery: &Delivery) -> u16 {
///     let key = DeliveryKey::new(delivery.info.hook_id, delivery.info.id.clone());
///     match once.claim(&key).await {
///         Ok(Claimed::New(claim)) => match process(delivery).await {
///             Ok(()) => match claim.complete().await {
///                 Ok(()) => 200,
///                 // Not recorded as done (the database failed, or the
///                 // lease ran out and another process took it over).
///                 Err(_) => 503,
///             },
///             // The claim is given back (also when it is dropped): a
///             // redelivery is processed.
///             Err(_) => 500,
///         },
///         Ok(Claimed::Done) => 200,
///         // Being processed: not 2xx, so that it is redelivered if the
///         // first copy fails (or use `claim_waiting`).
///         Ok(_) => 409,
///         Err(_) => 503,
///     }
/// }
/// # async fn process(_: &Delivery) -> Result<(), ()> { Ok(()) }
/// let once = ExactlyOnce::new(MemoryStore::new());
/// # let _ = on_delivery;
/// ```
#[derive(Clone)]
pub struct ExactlyOnce {
    store: Arc<dyn DeliveryStore>,
    local: Arc<Local>,
    wait: Duration,
    lease: Duration,
}

impl ExactlyOnce {
    /// Exactly-once processing over `store` (a [`MemoryStore`], a database
    /// store, an `Arc` of a store used elsewhere too, or your own).
    pub fn new(store: impl DeliveryStore) -> Self {
        Self::from_arc(Arc::new(store))
    }

    /// Exactly-once processing over a shared store.
    pub fn from_arc(store: Arc<dyn DeliveryStore>) -> Self {
        Self {
            store,
            local: Arc::default(),
            wait: DEFAULT_DUPLICATE_WAIT,
            lease: DEFAULT_LEASE,
        }
    }

    /// Sets how long a duplicate waits for the copy being processed here
    /// before it is answered as still in progress; the default is
    /// [`DEFAULT_DUPLICATE_WAIT`]. Used by the axum `OnceDelivery` extractor; for
    /// [`claim_waiting`](Self::claim_waiting), make `give_up` a timer of
    /// this length.
    #[must_use]
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Sets how long a claim holds before another process may take it over
    /// ([`DEFAULT_LEASE`], 60 s, unless set). Keep it well above the time
    /// processing takes, or [`Claim::renew`] it.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long a duplicate waits for the copy being processed.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// How long a claim holds.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn DeliveryStore> {
        &self.store
    }

    /// How many duplicates are waiting here, right now, for the copy of
    /// their delivery that is being processed: a gauge for monitoring.
    pub fn waiting(&self) -> usize {
        self.local.lock().values().map(Vec::len).sum()
    }

    /// Claims the delivery `key`, without waiting.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store failed: answer 503, so that
    /// the delivery is redelivered.
    pub async fn claim(&self, key: &DeliveryKey) -> Result<Claimed<Claim>, StoreError> {
        {
            // A key claimed or held here is in `claimed` from before the
            // store is asked until the claim is settled: a duplicate then
            // waits for it rather than asking the store in between.
            let mut claimed = self.local.lock();
            if claimed.contains_key(key) {
                return Ok(Claimed::InProgress {
                    expires: None,
                    settled: Some(Settled::new(key.clone(), Arc::clone(&self.local))),
                });
            }
            claimed.insert(key.clone(), Vec::new());
        }
        let mut pending = Pending {
            local: &self.local,
            key,
            armed: true,
        };
        match observe::store(StoreOp::Claim, self.store.claim(key, self.lease)).await? {
            Claimed::New(lease) => {
                pending.armed = false;
                Ok(Claimed::New(Claim {
                    key: key.clone(),
                    lease,
                    store: Arc::clone(&self.store),
                    local: Arc::clone(&self.local),
                    settled: false,
                }))
            }
            Claimed::Done => Ok(Claimed::Done),
            Claimed::InProgress { expires, .. } => Ok(Claimed::elsewhere(expires)),
        }
    }

    /// Claims the delivery `key`; while another request here is processing
    /// it, waits for that one to settle and claims again, until `give_up`
    /// resolves (a timer of your runtime).
    ///
    /// The result is [`Claimed::InProgress`] with a `settled` future only
    /// when `give_up` resolved first; held by another process (`settled:
    /// None`), it comes back at once. The processing that failed hands over: the waiting
    /// duplicate gets [`Claimed::New`] and processes the delivery itself.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store failed.
    pub async fn claim_waiting(
        &self,
        key: &DeliveryKey,
        give_up: impl Future<Output = ()>,
    ) -> Result<Claimed<Claim>, StoreError> {
        let mut give_up = std::pin::pin!(give_up);
        loop {
            let (expires, mut settled) = match self.claim(key).await? {
                Claimed::InProgress {
                    expires,
                    settled: Some(settled),
                } => (expires, settled),
                other => return Ok(other),
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
                return Ok(Claimed::InProgress {
                    expires,
                    settled: Some(settled),
                });
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
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// The right to process one delivery, from [`ExactlyOnce::claim`].
///
/// [`complete`](Self::complete) it once the work is done. Dropping it
/// otherwise, on an error, a panic or a request cancelled when the client
/// went away, gives it back as [`abort`](Self::abort) does (as far as the
/// store can without awaiting; else its lease runs out): a redelivery is
/// processed. Forgetting to complete can thus cause a second processing,
/// never a lost delivery.
#[must_use = "a claim dropped without `complete` is given back, and the delivery will be processed again"]
pub struct Claim {
    key: DeliveryKey,
    lease: Lease,
    store: Arc<dyn DeliveryStore>,
    local: Arc<Local>,
    settled: bool,
}

impl Claim {
    /// The delivery's GUID.
    pub fn id(&self) -> &DeliveryId {
        &self.key.id
    }

    /// The delivery's key.
    pub fn key(&self) -> &DeliveryKey {
        &self.key
    }

    /// The claim's fencing token: name it when completing in your own
    /// transaction (`complete_in` of the [`sqlite`](super::sqlite) and
    /// [`postgres`](super::postgres) modules).
    pub fn token(&self) -> Token {
        self.lease.token
    }

    /// When the claim's lease runs out.
    pub fn expires(&self) -> SystemTime {
        self.lease.expires
    }

    /// The delivery is processed: its redeliveries are acknowledged without
    /// processing, and a duplicate waiting for it gets [`Claimed::Done`].
    ///
    /// # Errors
    /// [`StoreError::Fenced`] when the lease ran out and another attempt
    /// took the delivery over (it will be processed again there: answer
    /// non-2xx); [`StoreError::Backend`] when the store failed (the claim is
    /// then given back).
    pub async fn complete(mut self) -> Result<(), StoreError> {
        let completing = self.store.complete(&self.key, self.lease.token);
        let result = observe::store(StoreOp::Complete, completing).await;
        if result.is_ok() || matches!(result, Err(StoreError::Fenced)) {
            self.settle();
        }
        result
    }

    /// The completion was committed in your own transaction (`complete_in`):
    /// settles the claim here without writing, and wakes the duplicates
    /// waiting for it.
    pub fn committed(mut self) {
        self.settle();
    }

    /// Processing failed: the claim is given back, so that a redelivery (or
    /// a duplicate waiting for it) is processed. Dropping the claim does the
    /// same as far as the store can without awaiting.
    ///
    /// # Errors
    /// [`StoreError::Fenced`] when the claim was taken over meanwhile;
    /// [`StoreError::Backend`] when the store failed (the lease then runs
    /// out).
    pub async fn abort(mut self) -> Result<(), StoreError> {
        let aborting = self.store.abort(&self.key, self.lease.token);
        let result = observe::store(StoreOp::Abort, aborting).await;
        self.settle();
        result
    }

    /// Extends the lease to `lease` from now, for processing that takes
    /// longer than expected.
    ///
    /// # Errors
    /// [`StoreError::Fenced`] when the claim was taken over already.
    pub async fn renew(&mut self, lease: Duration) -> Result<SystemTime, StoreError> {
        let expires = self.store.renew(&self.key, self.lease.token, lease).await?;
        self.lease.expires = expires;
        Ok(expires)
    }

    fn settle(&mut self) {
        if !self.settled {
            self.settled = true;
            self.local.settle(&self.key);
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        self.settled = true;
        match tokio::runtime::Handle::try_current() {
            // Given back first, then the duplicates waiting here are woken:
            // they find the delivery free, whatever the store.
            Ok(runtime) => {
                let store = Arc::clone(&self.store);
                let local = Arc::clone(&self.local);
                let key = self.key.clone();
                let token = self.lease.token;
                runtime.spawn(async move {
                    let _ = store.abort(&key, token).await;
                    local.settle(&key);
                });
            }
            // No runtime to await on: as far as the store can at once (else
            // the lease runs out).
            Err(_) => {
                self.store.release(&self.key, self.lease.token);
                self.local.settle(&self.key);
            }
        }
    }
}

impl fmt::Debug for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim")
            .field("key", &self.key)
            .field("lease", &self.lease)
            .finish()
    }
}
