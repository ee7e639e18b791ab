//! *Accept, then process*: [`Inbox`] checks a delivery as the contract says,
//! writes it durably before it is answered 2xx, and a pool of [`Workers`]
//! in every replica claims stored deliveries under a lease, parses them,
//! runs the handler, and completes them, retrying failures with backoff
//! and keeping the last failure as dead.

mod retry;
#[cfg(test)]
mod tests;
mod worker;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::sync::{Notify, watch};

use super::{
    Accepted, Clock, DEFAULT_LEASE, DeliveryKey, DeliveryStore, StoreError, StoredDelivery, Token,
};
use crate::BoxError;
use crate::contract::header;
use crate::delivery::{Delivery, DeliveryInfo};
use crate::error::ReceiveError;
use crate::headers::{ContentType, HeaderSource};
use crate::observe::{self, StoreOp};
use crate::receiver::Receiver;

pub use retry::RetryPolicy;
pub use worker::Workers;

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

/// What processes the inbox's jobs: a [`Router`](crate::router::Router), or an async
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

impl Handler for crate::router::Router {
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
        let accepted = observe::store(StoreOp::Accept, self.inner.store.accept(stored))
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
