//! The verifying receiver behind `icr-webhooks listen` and the demo:
//! process then answer (the SDK's `Once` extractor) or accept then process
//! (its `Inbox`, with workers), over a memory, SQLite or PostgreSQL store;
//! each processing is recorded in `listen_effects` in the transaction that
//! completes the delivery; one JSON line per processed delivery (each GUID
//! once, however often it arrives); and on request a failing app: a
//! fraction of first attempts answered 500, and with an inbox a fraction of
//! first processing attempts failed.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::routing::post;
use axum::{Extension, Router};
use futures_util::FutureExt as _;
use icr_webhooks::once::{Begin, DEFAULT_LEASE, DeliveryKey};

use crate::stores::ListenStore;
use icr_webhooks::once::{self, AcceptError, Inbox, Job, RetryPolicy, StoreError, Workers};
use icr_webhooks::{
    BodyTimeout, BoxError, DEFAULT_BODY_TIMEOUT, Delivery, DeliveryId, DeliveryStore, Enqueued,
    ExactlyOnce, InboxRejection, MemoryStore, Once, OnceRejection, Receiver,
};
use serde::Serialize;
use tokio::sync::mpsc;

/// One accepted delivery, as `listen` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// The GUID.
    pub delivery: String,
    /// The event name.
    pub event: String,
    /// The action, when the payload has one.
    pub action: Option<String>,
    /// Whether the event and action are ones the SDK knows (typed variants).
    pub known: bool,
}

impl Accepted {
    /// `event.action`, or the bare event name.
    pub fn key(&self) -> String {
        match &self.action {
            Some(action) => format!("{}.{action}", self.event),
            None => self.event.clone(),
        }
    }
}

/// What the receiver answered, counted as it goes.
#[derive(Debug, Default)]
pub struct Counts {
    processed: AtomicU64,
    duplicates: AtomicU64,
    in_progress: AtomicU64,
    injected: AtomicU64,
    refused: AtomicU64,
    stored: AtomicU64,
    unavailable: AtomicU64,
    processing_failures: AtomicU64,
    fenced: AtomicU64,
}

impl Counts {
    /// Deliveries processed (reported on the channel): one per GUID.
    pub fn processed(&self) -> u64 {
        self.processed.load(Ordering::Relaxed)
    }

    /// Repeated GUIDs acknowledged with 200 without processing.
    pub fn duplicates(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }

    /// Repeated GUIDs answered 409 because the first copy was still being
    /// processed.
    pub fn in_progress(&self) -> u64 {
        self.in_progress.load(Ordering::Relaxed)
    }

    /// First attempts answered 500 on purpose (`--fail-rate`).
    pub fn injected_failures(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// Requests refused by the SDK's checks (4xx).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Deliveries written to the inbox.
    pub fn stored(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }

    /// Requests answered 503 because the store failed.
    pub fn unavailable(&self) -> u64 {
        self.unavailable.load(Ordering::Relaxed)
    }

    /// Completions refused because the claim had been taken over (its lease
    /// ran out): nothing was recorded.
    pub fn fenced(&self) -> u64 {
        self.fenced.load(Ordering::Relaxed)
    }

    /// Inbox processing attempts failed on purpose (`--fail-rate`).
    pub fn processing_failures(&self) -> u64 {
        self.processing_failures.load(Ordering::Relaxed)
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "processed {}  duplicates acknowledged {}  in progress (409) {}  injected failures (500) {}  refused {}  store unavailable (503) {}",
            self.processed(),
            self.duplicates(),
            self.in_progress(),
            self.injected_failures(),
            self.refused(),
            self.unavailable()
        )?;
        if self.stored() > 0 || self.processing_failures() > 0 {
            write!(
                f,
                "  stored {}  injected processing failures {}",
                self.stored(),
                self.processing_failures()
            )?;
        }
        if self.fenced() > 0 {
            write!(f, "  completions refused (fenced) {}", self.fenced())?;
        }
        Ok(())
    }
}

/// Decides which first attempts fail: a fraction `rate` of GUIDs, chosen
/// by a hash of the GUID and a seed (the same seed fails the same GUIDs),
/// each failed on its first attempt only.
struct FailRate {
    rate: f64,
    seed: u64,
    /// The GUIDs failed once: their redelivery is processed. Bounded like
    /// any store (three days, a million GUIDs).
    failed: MemoryStore,
}

impl FailRate {
    /// Whether to answer this attempt of `id` with 500.
    fn fails(&self, id: &DeliveryId) -> bool {
        if self.rate <= 0.0 || !self.picks(id) {
            return false;
        }
        // A `MemoryStore` answers at once: its futures are ready when made.
        let key = DeliveryKey::new(None, id.clone());
        match self.failed.begin(&key, DEFAULT_LEASE).now_or_never() {
            Some(Ok(Begin::New(lease))) => {
                let _ = self.failed.complete(&key, lease.token).now_or_never();
                true
            }
            _ => false,
        }
    }

    /// Whether the first processing attempt of `id` fails: another
    /// fraction `rate` of GUIDs, picked independently of [`Self::picks`].
    fn picks_processing(&self, id: &DeliveryId) -> bool {
        self.rate > 0.0 && self.pick(id, self.seed ^ 0x5bd1_e995_9e37_79b9)
    }

    /// Whether `id` is among the fraction `rate` of GUIDs.
    fn picks(&self, id: &DeliveryId) -> bool {
        self.pick(id, self.seed)
    }

    /// Whether `id` is among the fraction `rate` of GUIDs for `seed`.
    fn pick(&self, id: &DeliveryId, seed: u64) -> bool {
        // FNV-1a over the GUID, then splitmix64's finalizer with the seed.
        let mut hash = id
            .as_str()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            });
        hash ^= seed;
        hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        hash ^= hash >> 31;
        let unit = (hash >> 11) as f64 / (1_u64 << 53) as f64;
        unit < self.rate
    }
}

/// How the receiver behaves beyond the SDK's checks.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenConfig {
    /// The fraction of first attempts answered 500, from 0 (none, the
    /// default) to 1: before processing, or with an inbox, after storing
    /// (the redelivery is then a duplicate). With an inbox, the same
    /// fraction of first processing attempts fails too (retried by the
    /// SDK).
    pub fail_rate: f64,
    /// The seed that picks the GUIDs that fail.
    pub seed: u64,
    /// How long a body may take to arrive (then 408).
    pub body_timeout: Duration,
    /// Print one line on stderr for each request not processed: refused,
    /// repeated, in progress or failed on purpose.
    pub verbose: bool,
    /// How long a claim holds before another process may take it over.
    pub lease: Duration,
    /// Accept, then process, with this many workers; `None` processes
    /// before answering.
    pub inbox: Option<InboxConfig>,
    /// How long each processing takes (a slow app), before its effect is
    /// recorded.
    pub process_delay: Duration,
}

/// The inbox of `listen --inbox`.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxConfig {
    /// Deliveries processed at once.
    pub workers: usize,
    /// When failed processing is retried.
    pub retry: RetryPolicy,
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            fail_rate: 0.0,
            seed: 0,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            verbose: false,
            lease: DEFAULT_LEASE,
            inbox: None,
            process_delay: Duration::ZERO,
        }
    }
}

#[derive(Clone)]
struct ListenState {
    receiver: Receiver,
    once: ExactlyOnce,
    inbox: Option<Inbox>,
    store: ListenStore,
    fail: Arc<FailRate>,
    counts: Arc<Counts>,
    verbose: bool,
    process_delay: Duration,
    accepted: mpsc::UnboundedSender<Accepted>,
}

impl FromRef<ListenState> for Receiver {
    fn from_ref(state: &ListenState) -> Self {
        state.receiver.clone()
    }
}

impl FromRef<ListenState> for ExactlyOnce {
    fn from_ref(state: &ListenState) -> Self {
        state.once.clone()
    }
}

impl FromRef<ListenState> for Inbox {
    fn from_ref(state: &ListenState) -> Self {
        // Only routed to when there is an inbox.
        state.inbox.clone().unwrap_or_else(|| {
            Inbox::builder_arc(state.receiver.clone(), state.store.store()).build()
        })
    }
}

/// The receiver's routes (`POST /` and `POST /webhook`), its live counts,
/// and with an inbox its workers.
pub struct Listener {
    router: Router,
    counts: Arc<Counts>,
    workers: Option<Workers>,
}

impl Listener {
    /// A receiver over `store` that sends each processed delivery on
    /// `accepted`, once per GUID, and behaves as `config` says. With an
    /// inbox its workers start on the current tokio runtime.
    pub fn new(
        receiver: Receiver,
        store: ListenStore,
        accepted: mpsc::UnboundedSender<Accepted>,
        config: &ListenConfig,
    ) -> Self {
        let counts = Arc::new(Counts::default());
        let shared = store.store();
        let inbox = config.inbox.as_ref().map(|inbox| {
            Inbox::builder_arc(receiver.clone(), Arc::clone(&shared))
                .lease(config.lease)
                .retry(inbox.retry)
                .build()
        });
        let state = ListenState {
            receiver,
            once: ExactlyOnce::from_arc(shared).with_lease(config.lease),
            inbox: inbox.clone(),
            store,
            fail: Arc::new(FailRate {
                rate: config.fail_rate,
                seed: config.seed,
                failed: MemoryStore::new(),
            }),
            counts: Arc::clone(&counts),
            verbose: config.verbose,
            process_delay: config.process_delay,
            accepted,
        };
        let workers = match (&inbox, &config.inbox) {
            (Some(inbox), Some(settings)) => {
                let state = state.clone();
                Some(inbox.workers(settings.workers, move |job: Job| {
                    let state = state.clone();
                    async move { process_job(&state, job).await }
                }))
            }
            _ => None,
        };
        let handler = if inbox.is_some() {
            post(handle_inbox)
        } else {
            post(handle)
        };
        let router = Router::new()
            .route("/", handler.clone())
            .route("/webhook", handler)
            .layer(Extension(BodyTimeout(config.body_timeout)))
            .with_state(state);
        Self {
            router,
            counts,
            workers,
        }
    }

    /// What was answered so far.
    pub fn counts(&self) -> Arc<Counts> {
        Arc::clone(&self.counts)
    }

    /// The routes, to serve, and the inbox's workers, to shut down once the
    /// server has stopped.
    pub fn into_parts(self) -> (Router, Option<Workers>) {
        (self.router, self.workers)
    }
}

/// The receiver's routes: `POST /` and `POST /webhook`, processing before
/// answering, over a store in memory. Each accepted delivery is sent on
/// `accepted` once; a repeated GUID is answered 200 and not sent again.
pub fn app(receiver: Receiver, accepted: mpsc::UnboundedSender<Accepted>) -> Router {
    let store = ListenStore::Memory(Arc::new(MemoryStore::new()), Arc::default());
    Listener::new(receiver, store, accepted, &ListenConfig::default())
        .into_parts()
        .0
}

fn note(state: &ListenState, status: u16, code: &str, what: &dyn std::fmt::Display) {
    if state.verbose {
        // A closed stderr drops the line rather than the request.
        let _ = writeln!(
            std::io::stderr().lock(),
            "not processed: {status} {code}: {what}"
        );
    }
}

fn report(state: &ListenState, delivery: &Delivery) {
    let accepted = Accepted {
        delivery: delivery.info.id.as_str().to_owned(),
        event: delivery.event.name().to_owned(),
        action: delivery.event.action().map(str::to_owned),
        known: delivery.event.is_known(),
    };
    // The receiving side may be gone at shutdown; the delivery is processed
    // all the same.
    let _ = state.accepted.send(accepted);
    state.counts.processed.fetch_add(1, Ordering::Relaxed);
}

/// Process, then answer.
async fn handle(State(state): State<ListenState>, once: Result<Once, OnceRejection>) -> Response {
    let Once(delivery, claim) = match once {
        Ok(once) => once,
        Err(rejection) => {
            let counter = match rejection {
                OnceRejection::AlreadyProcessed => &state.counts.duplicates,
                OnceRejection::InProgress => &state.counts.in_progress,
                OnceRejection::StoreUnavailable(_) => &state.counts.unavailable,
                _ => &state.counts.refused,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            note(
                &state,
                rejection.status().as_u16(),
                rejection.code(),
                &rejection,
            );
            return rejection.into_response();
        }
    };
    if state.fail.fails(claim.id()) {
        state.counts.injected.fetch_add(1, Ordering::Relaxed);
        note(&state, 500, "injected_failure", claim.id());
        // The claim is given back as it drops: the redelivery is processed.
        return (StatusCode::INTERNAL_SERVER_ERROR, "injected failure").into_response();
    }
    if !state.process_delay.is_zero() {
        tokio::time::sleep(state.process_delay).await;
    }
    match state
        .store
        .record_and_complete(claim.key(), claim.token())
        .await
    {
        Ok(()) => {
            claim.committed();
            report(&state, &delivery);
            (StatusCode::OK, "ok").into_response()
        }
        Err(StoreError::Fenced) => {
            state.counts.fenced.fetch_add(1, Ordering::Relaxed);
            note(&state, 409, "fenced", claim.id());
            (StatusCode::CONFLICT, "claim taken over; redeliver it").into_response()
        }
        Err(error) => {
            state.counts.unavailable.fetch_add(1, Ordering::Relaxed);
            note(&state, 503, error.code(), &error);
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
        }
    }
}

/// Accept, then process: answered once stored.
async fn handle_inbox(
    State(state): State<ListenState>,
    enqueued: Result<Enqueued, InboxRejection>,
) -> Response {
    let enqueued = match enqueued {
        Ok(enqueued) => enqueued,
        Err(rejection) => {
            let counter = match &rejection {
                InboxRejection::Accept(AcceptError::Store(_)) => &state.counts.unavailable,
                _ => &state.counts.refused,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            note(
                &state,
                rejection.status().as_u16(),
                rejection.code(),
                &rejection,
            );
            return rejection.into_response();
        }
    };
    match enqueued.1 {
        once::Accepted::Stored => {
            state.counts.stored.fetch_add(1, Ordering::Relaxed);
            if state.fail.fails(&enqueued.0.id) {
                state.counts.injected.fetch_add(1, Ordering::Relaxed);
                note(&state, 500, "injected_failure", &enqueued.0.id);
                return (StatusCode::INTERNAL_SERVER_ERROR, "injected failure").into_response();
            }
        }
        _ => {
            state.counts.duplicates.fetch_add(1, Ordering::Relaxed);
        }
    }
    enqueued.into_response()
}

/// An inbox worker's processing of one delivery: a fraction of first
/// attempts fails on purpose; the others record the effect and complete
/// in one transaction.
async fn process_job(state: &ListenState, job: Job) -> Result<(), BoxError> {
    if job.attempt == 1 && state.fail.picks_processing(&job.delivery.info.id) {
        state
            .counts
            .processing_failures
            .fetch_add(1, Ordering::Relaxed);
        return Err("injected processing failure".into());
    }
    if !state.process_delay.is_zero() {
        tokio::time::sleep(state.process_delay).await;
    }
    match state
        .store
        .record_and_complete(job.key(), job.token())
        .await
    {
        Ok(()) => {
            job.completed();
            report(state, &job.delivery);
            Ok(())
        }
        // Taken over by another worker, which records it: nothing here.
        Err(StoreError::Fenced) => {
            state.counts.fenced.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Err(error) => Err(Box::new(error)),
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

    #[test]
    fn the_fail_rate_picks_about_its_fraction_and_fails_each_once() {
        for (rate, low, high) in [
            (0.0, 0, 0),
            (0.1, 900, 1100),
            (0.5, 4800, 5200),
            (1.0, 10_000, 10_000),
        ] {
            let fail = FailRate {
                rate,
                seed: 42,
                failed: MemoryStore::new(),
            };
            let failed = (0..10_000).filter(|n| fail.fails(&id(*n))).count();
            assert!((low..=high).contains(&failed), "rate {rate}: {failed}");
            assert_eq!((0..10_000).filter(|n| fail.fails(&id(*n))).count(), 0);
        }
    }

    #[test]
    fn the_seed_decides_which_guids_fail() {
        let picked = |seed| {
            let fail = FailRate {
                rate: 0.3,
                seed,
                failed: MemoryStore::new(),
            };
            (0..200).filter(|n| fail.picks(&id(*n))).collect::<Vec<_>>()
        };
        assert_eq!(picked(1), picked(1));
        assert_ne!(picked(1), picked(2));
    }
}
