//! *Accept, then process*: [`Inbox`] checks a delivery as the contract says,
//! writes it durably before it is answered 2xx, and a pool of [`Workers`]
//! in every replica claims stored deliveries under a lease, parses them,
//! runs the handler, and completes them, retrying failures with backoff
//! and keeping the last failure as dead.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use super::{
    Accepted, ClaimedJob, Clock, DEFAULT_LEASE, DeliveryKey, DeliveryStore, StoreError,
    StoredDelivery, Token,
};
use crate::header;
use crate::{BoxError, ContentType, Delivery, DeliveryInfo, HeaderSource, ReceiveError, Receiver};

/// When the inbox retries a failed delivery, and when it gives up.
///
/// Attempt `n` (from 1) that fails is retried after
/// `first_delay × factorⁿ⁻¹`, at most `max_delay`; after attempt
/// `attempts` the delivery is dead: kept, listed, retried by hand
/// ([`DeliveryStore::retry`]), never dropped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// How many attempts in all, at least 1; 8 by default.
    pub attempts: u32,
    /// The delay after the first failure; 1 s by default.
    pub first_delay: Duration,
    /// The longest delay; 10 minutes by default.
    pub max_delay: Duration,
    /// How much each delay grows over the one before; 2 by default.
    pub factor: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 8,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(600),
            factor: 2.0,
        }
    }
}

impl RetryPolicy {
    /// How long to wait after attempt `attempt` (from 1) failed, or `None`
    /// when it was the last.
    pub fn delay_after(&self, attempt: u32) -> Option<Duration> {
        if attempt >= self.attempts.max(1) {
            return None;
        }
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let seconds = self.first_delay.as_secs_f64() * self.factor.max(1.0).powi(exponent);
        let capped = seconds.min(self.max_delay.as_secs_f64());
        Some(Duration::try_from_secs_f64(capped).unwrap_or(self.max_delay))
    }
}

/// Why [`Inbox::accept`] did not accept a delivery.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// The delivery failed one of the contract's checks (its status: 401,
    /// 413, 415 or 400).
    #[error(transparent)]
    Refused(#[from] ReceiveError),
    /// The delivery could not be written (database down, disk full): answer
    /// 503, so that it is redelivered.
    #[error("the delivery could not be stored")]
    Store(#[source] StoreError),
}

impl AcceptError {
    /// The status to answer with: the check's, or 503 Service Unavailable.
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::Refused(error) => error.status(),
            Self::Store(_) => http::StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A short stable name for logs and metrics: the
    /// [`ReceiveError::code`], or `store_unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused(error) => error.code(),
            Self::Store(_) => "store_unavailable",
        }
    }
}

/// A stored delivery handed to the inbox's handler: the delivery, checked
/// and parsed again, and the claim it is processed under.
#[derive(Debug)]
#[non_exhaustive]
pub struct Job {
    /// The delivery.
    pub delivery: Delivery,
    /// Which attempt this is, from 1.
    pub attempt: u32,
    /// When it was accepted.
    pub received_at: SystemTime,
    key: DeliveryKey,
    token: Token,
    completed: Arc<std::sync::atomic::AtomicBool>,
}

impl Job {
    /// Tells the worker that the handler completed the delivery itself, in
    /// its own transaction (`complete_in`) that it committed: the worker
    /// then writes nothing more. Without it the worker completes the job as
    /// usual, and finds it done already (refused, harmlessly).
    pub fn completed(&self) {
        self.completed
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// The delivery's key.
    pub fn key(&self) -> &DeliveryKey {
        &self.key
    }

    /// The claim's fencing token, for `complete_in` of the
    /// [`sqlite`](super::sqlite) and [`postgres`](super::postgres) modules:
    /// the handler's own writes and the completion in one transaction.
    pub fn token(&self) -> Token {
        self.token
    }
}

/// What processes the inbox's jobs: a [`Router`](crate::Router), or an async
/// function of the [`Job`]. An error is retried as the [`RetryPolicy`] says.
pub trait Handler: Send + Sync + 'static {
    /// Processes one job.
    fn handle(&self, job: Job) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;
}

impl<F, Fut> Handler for F
where
    F: Fn(Job) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    fn handle(&self, job: Job) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>> {
        Box::pin(self(job))
    }
}

impl Handler for crate::Router {
    /// Dispatches the delivery; a delivery no handler takes is done.
    fn handle(&self, job: Job) -> Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>> {
        let future = self.dispatch(job.delivery);
        Box::pin(async move { future.await.map(|_| ()) })
    }
}

/// *Accept, then process*: deliveries are checked, written to a
/// [`DeliveryStore`], answered, and processed afterwards by [`Workers`].
///
/// - [`accept`](Self::accept) runs every check of the contract
///   ([`Receiver::receive`]), then writes the delivery (the ICR headers, the
///   exact body bytes, when it arrived) under its [`DeliveryKey`]: answer
///   `202 Accepted` for a new one, `200 OK` for one known already. When
///   the write fails the answer is 503, never 2xx, so ICR's redelivery
///   brings it again.
/// - [`workers`](Self::workers) starts the pool that claims due
///   deliveries under a lease, parses them, runs the [`Handler`], and
///   completes them; a failure is retried with backoff as the
///   [`RetryPolicy`] says, and after the last attempt the delivery is dead
///   (kept, never dropped). Every replica runs a pool; a replica killed
///   mid-job loses its claims when their leases run out, and another takes
///   them over.
///
/// Cheap to clone.
#[derive(Clone)]
pub struct Inbox {
    inner: Arc<InboxInner>,
}

struct InboxInner {
    receiver: Receiver,
    store: Arc<dyn DeliveryStore>,
    clock: Clock,
    lease: Duration,
    retry: RetryPolicy,
    poll: Duration,
    /// Wakes this process's workers when a delivery is accepted here.
    accepted: Notify,
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("lease", &self.inner.lease)
            .field("retry", &self.inner.retry)
            .field("poll", &self.inner.poll)
            .finish_non_exhaustive()
    }
}

/// Configures an [`Inbox`].
#[must_use]
#[derive(Debug)]
pub struct InboxBuilder {
    receiver: Receiver,
    store: Arc<dyn DeliveryStore>,
    clock: Clock,
    lease: Duration,
    retry: RetryPolicy,
    poll: Duration,
}

impl InboxBuilder {
    /// How long a worker's claim holds before another may take it over;
    /// [`DEFAULT_LEASE`] unless set. A job running longer renews it.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// When failures are retried and when a delivery is dead.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How often idle workers look for deliveries accepted by other
    /// replicas and for retries that came due; 250 ms unless set.
    pub fn poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// The clock retry times are read from; the store's own clock decides
    /// leases. The system clock unless set.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the inbox.
    pub fn build(self) -> Inbox {
        Inbox {
            inner: Arc::new(InboxInner {
                receiver: self.receiver,
                store: self.store,
                clock: self.clock,
                lease: self.lease,
                retry: self.retry,
                poll: self.poll,
                accepted: Notify::new(),
            }),
        }
    }
}

impl Inbox {
    /// An inbox over `store`, checking deliveries with `receiver`.
    pub fn builder(receiver: Receiver, store: impl DeliveryStore) -> InboxBuilder {
        Self::builder_arc(receiver, Arc::new(store))
    }

    /// An inbox over a shared store.
    pub fn builder_arc(receiver: Receiver, store: Arc<dyn DeliveryStore>) -> InboxBuilder {
        InboxBuilder {
            receiver,
            store,
            clock: Clock::system(),
            lease: DEFAULT_LEASE,
            retry: RetryPolicy::default(),
            poll: Duration::from_millis(250),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn DeliveryStore> {
        &self.inner.store
    }

    /// The receiver that checks deliveries.
    pub fn receiver(&self) -> &Receiver {
        &self.inner.receiver
    }

    /// Checks a delivery as [`Receiver::receive_async`] does (a large body
    /// off the async workers) and writes it to the
    /// store. `Ok(Accepted::Stored)`: answer 202; `Ok(Accepted::Duplicate)`:
    /// known already, answer 200. The signature is checked first, so a
    /// tampered body under a known GUID is still refused with 401.
    ///
    /// # Errors
    /// [`AcceptError::Refused`] with the check that failed;
    /// [`AcceptError::Store`] when the write failed (answer 503).
    pub async fn accept<H: HeaderSource + Sync + ?Sized>(
        &self,
        headers: &H,
        body: impl Into<Bytes>,
    ) -> Result<(DeliveryInfo, Accepted), AcceptError> {
        let delivery = self.inner.receiver.receive_async(headers, body).await?;
        let info = delivery.info;
        let stored = StoredDelivery {
            key: DeliveryKey::new(info.hook_id, info.id.clone()),
            headers: stored_headers(&info),
            body: info.body.clone(),
            received_at: self.inner.clock.now(),
        };
        let accepted = self
            .inner
            .store
            .accept(stored)
            .await
            .map_err(AcceptError::Store)?;
        if accepted == Accepted::Stored {
            self.inner.accepted.notify_one();
        }
        Ok((info, accepted))
    }

    /// Starts `concurrency` workers (at least 1) on the current tokio
    /// runtime: they claim due deliveries, run `handler` on each, and
    /// settle them, until [`Workers::shutdown`].
    pub fn workers(&self, concurrency: usize, handler: impl Handler) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let inbox = self.clone();
        let handler: Arc<dyn Handler> = Arc::new(handler);
        let task = tokio::spawn(async move {
            inbox.dispatch(concurrency.max(1), handler, stopped).await;
        });
        Workers { stop, task }
    }

    /// The dispatcher: claims as many due jobs as there are free workers,
    /// runs each on its own task, and waits for more.
    async fn dispatch(
        &self,
        concurrency: usize,
        handler: Arc<dyn Handler>,
        mut stopped: watch::Receiver<bool>,
    ) {
        let slots = Arc::new(Semaphore::new(concurrency));
        let mut running = JoinSet::new();
        let mut idle_for = self.inner.poll;
        // Dropping `Workers` leaves the pool running: a closed channel is
        // then no longer watched (it would wake the loop at once, forever).
        let mut watching = true;
        loop {
            if *stopped.borrow() {
                break;
            }
            while running.try_join_next().is_some() {}
            let mut free = slots.available_permits();
            // Claims go out in batches: with jobs still running, wait a
            // little (at most 5 ms) for a quarter of the workers to be free,
            // rather than ask the store (a commit each) for one job at a
            // time.
            let batch = (concurrency / 4).max(1);
            if free > 0 && free < batch && !running.is_empty() {
                let wanted = u32::try_from(batch).unwrap_or(u32::MAX);
                let _ = tokio::time::timeout(Duration::from_millis(5), slots.acquire_many(wanted))
                    .await;
                free = slots.available_permits();
            }
            let claimed = if free == 0 {
                Ok(Vec::new())
            } else {
                self.inner.store.claim_jobs(free, self.inner.lease).await
            };
            let wait = match claimed {
                Ok(jobs) if !jobs.is_empty() => {
                    idle_for = self.inner.poll;
                    for job in jobs {
                        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                            // Never more jobs than permits; give it back.
                            let _ = self
                                .inner
                                .store
                                .abort(&job.delivery.key, job.lease.token)
                                .await;
                            continue;
                        };
                        let inbox = self.clone();
                        let handler = Arc::clone(&handler);
                        running.spawn(async move {
                            inbox.run_job(job, handler.as_ref()).await;
                            drop(permit);
                        });
                    }
                    None
                }
                Ok(_) => Some(self.inner.poll),
                Err(_) => {
                    // The store is down: back off, up to 5 s.
                    idle_for = (idle_for * 2).min(Duration::from_secs(5));
                    Some(idle_for)
                }
            };
            if let Some(wait) = wait {
                tokio::select! {
                    () = self.inner.accepted.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                    _ = slots.acquire(), if free == 0 => {}
                    changed = stopped.changed(), if watching => {
                        watching = changed.is_ok();
                    }
                }
            }
        }
        // Shutting down: the jobs in flight finish and settle.
        while running.join_next().await.is_some() {}
    }

    /// Parses and processes one claimed job, renewing its lease while the
    /// handler runs, and settles it.
    async fn run_job(&self, claimed: ClaimedJob, handler: &dyn Handler) {
        let ClaimedJob {
            delivery,
            lease,
            attempt,
        } = claimed;
        let key = delivery.key.clone();
        let store = &self.inner.store;
        let parsed = Delivery::from_verified(&delivery.headers, delivery.body.clone());
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                // A stored delivery that no longer parses will not parse on
                // a retry either: dead at once, kept for an operator.
                let reason = format!("stored delivery does not parse: {error}");
                let _ = store.fail(&key, lease.token, None, &reason).await;
                return;
            }
        };
        let completed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let job = Job {
            delivery: parsed,
            attempt,
            received_at: delivery.received_at,
            key: key.clone(),
            token: lease.token,
            completed: Arc::clone(&completed),
        };
        let mut work = handler.handle(job);
        let renew_every = (self.inner.lease / 3).max(Duration::from_millis(10));
        // Until when the claim is surely ours, by this process's clock.
        let held_until = std::sync::Mutex::new(Instant::now() + self.inner.lease);
        // Renewals run beside the handler, never pausing it (a handler
        // holding a pool connection must go on while a renewal waits).
        let renewals = async {
            loop {
                tokio::time::sleep(renew_every).await;
                let asked = Instant::now();
                // A renewal refused means the job was taken over; the
                // settlement below is then refused too.
                if store
                    .renew(&key, lease.token, self.inner.lease)
                    .await
                    .is_ok()
                {
                    *held_until
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) =
                        asked + self.inner.lease;
                }
            }
        };
        let mut renewals = std::pin::pin!(renewals);
        let outcome = tokio::select! {
            outcome = &mut work => outcome,
            never = &mut renewals => never,
        };
        let held_until = *held_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match outcome {
            // Fenced: completed in the handler's own transaction, or taken
            // over; either way nothing more to write.
            Ok(()) if completed.load(std::sync::atomic::Ordering::Acquire) => {}
            Ok(()) => {
                settle(held_until, || store.complete(&key, lease.token)).await;
            }
            Err(error) => {
                let retry_at = self
                    .inner
                    .retry
                    .delay_after(attempt)
                    .map(|delay| self.inner.clock.now() + delay);
                let reason = error_chain(error.as_ref());
                settle(held_until, || {
                    store.fail(&key, lease.token, retry_at, &reason)
                })
                .await;
            }
        }
    }
}

/// Writes a job's settlement, again and again while the store fails (50 ms
/// apart, doubling to 2 s) and the claim is still held: a completion lost to
/// a passing database error would otherwise run the handler again once the
/// lease ran out. Past the lease another worker may have taken the job
/// over, and the write would be refused anyway.
async fn settle<'a>(held_until: Instant, mut write: impl FnMut() -> super::StoreFuture<'a, ()>) {
    let mut pause = Duration::from_millis(50);
    loop {
        match write().await {
            Ok(()) | Err(StoreError::Fenced) => return,
            Err(_) if Instant::now() + pause < held_until => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(_) => return,
        }
    }
}

/// The pool started by [`Inbox::workers`].
#[derive(Debug)]
#[must_use = "dropping `Workers` leaves the pool running; call `shutdown` to stop it"]
pub struct Workers {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Workers {
    /// Stops claiming, lets the jobs in flight finish and settle, and
    /// returns once they have.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The ICR headers a stored delivery keeps: those [`Delivery::from_verified`]
/// reads, never the signature.
fn stored_headers(info: &DeliveryInfo) -> Vec<(String, String)> {
    let mut headers = vec![
        (header::EVENT.to_owned(), info.event_name.clone()),
        (header::DELIVERY.to_owned(), info.id.as_str().to_owned()),
        (
            header::CONTENT_TYPE.to_owned(),
            match info.content_type {
                ContentType::Form => "application/x-www-form-urlencoded",
                _ => "application/json",
            }
            .to_owned(),
        ),
    ];
    if let Some(hook_id) = info.hook_id {
        headers.push((header::HOOK_ID.to_owned(), hook_id.to_string()));
    }
    if let Some(target_type) = &info.installation_target_type {
        headers.push((
            header::INSTALLATION_TARGET_TYPE.to_owned(),
            target_type.clone(),
        ));
    }
    if let Some(target_id) = info.installation_target_id {
        headers.push((
            header::INSTALLATION_TARGET_ID.to_owned(),
            target_id.to_string(),
        ));
    }
    headers
}

/// An error and its causes, `: `-separated, at most 1,000 bytes.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if text.len() > 1000 {
        let mut end = 1000;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_and_stop_after_the_last_attempt() {
        let policy = RetryPolicy {
            attempts: 5,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
            factor: 2.0,
        };
        let delays: Vec<Option<Duration>> = (1..=5).map(|n| policy.delay_after(n)).collect();
        assert_eq!(
            delays,
            [
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(2)),
                Some(Duration::from_secs(4)),
                Some(Duration::from_secs(5)),
                None
            ]
        );
        let once = RetryPolicy {
            attempts: 0,
            ..policy
        };
        assert_eq!(once.delay_after(1), None, "at least one attempt, no retry");
    }

    #[test]
    fn the_error_chain_is_bounded_on_a_char_boundary() {
        let long = std::io::Error::other("é".repeat(600));
        let text = error_chain(&long);
        assert_eq!(text.len(), 1000);
        assert!(text.chars().all(|c| c == 'é'));
    }
}
