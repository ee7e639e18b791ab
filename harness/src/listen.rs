//! The verifying receiver behind `icr-webhooks listen` and the demo: the
//! SDK's `Once` extractor over a `MemoryStore`, one JSON line per processed
//! delivery (each GUID once, however often it arrives), and on request a
//! failing app: a fraction of first attempts answered 500 before
//! processing.

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
use icr_webhooks::{
    BodyTimeout, DEFAULT_BODY_TIMEOUT, DeliveryId, DeliveryStore, ExactlyOnce, MemoryStore, Once,
    OnceRejection, Receiver,
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
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "processed {}  duplicates acknowledged {}  in progress (409) {}  injected failures (500) {}  refused {}",
            self.processed(),
            self.duplicates(),
            self.in_progress(),
            self.injected_failures(),
            self.refused()
        )
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

    /// Whether `id` is among the fraction `rate` of GUIDs.
    fn picks(&self, id: &DeliveryId) -> bool {
        // FNV-1a over the GUID, then splitmix64's finalizer with the seed.
        let mut hash = id
            .as_str()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            });
        hash ^= self.seed;
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
    /// The fraction of first attempts answered 500 before processing, from
    /// 0 (none, the default) to 1.
    pub fail_rate: f64,
    /// The seed that picks the GUIDs that fail.
    pub seed: u64,
    /// How long a body may take to arrive (then 408).
    pub body_timeout: Duration,
    /// Print one line on stderr for each request not processed: refused,
    /// repeated, in progress or failed on purpose.
    pub verbose: bool,
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            fail_rate: 0.0,
            seed: 0,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            verbose: false,
        }
    }
}

#[derive(Clone)]
struct ListenState {
    receiver: Receiver,
    once: ExactlyOnce,
    fail: Arc<FailRate>,
    counts: Arc<Counts>,
    verbose: bool,
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

/// The receiver's routes (`POST /` and `POST /webhook`) and its live counts.
pub struct Listener {
    router: Router,
    counts: Arc<Counts>,
}

impl Listener {
    /// A receiver that sends each processed delivery on `accepted`, once per
    /// GUID, and behaves as `config` says.
    pub fn new(
        receiver: Receiver,
        accepted: mpsc::UnboundedSender<Accepted>,
        config: &ListenConfig,
    ) -> Self {
        let counts = Arc::new(Counts::default());
        let state = ListenState {
            receiver,
            once: ExactlyOnce::new(MemoryStore::new()),
            fail: Arc::new(FailRate {
                rate: config.fail_rate,
                seed: config.seed,
                failed: MemoryStore::new(),
            }),
            counts: Arc::clone(&counts),
            verbose: config.verbose,
            accepted,
        };
        let router = Router::new()
            .route("/", post(handle))
            .route("/webhook", post(handle))
            .layer(Extension(BodyTimeout(config.body_timeout)))
            .with_state(state);
        Self { router, counts }
    }

    /// What was answered so far.
    pub fn counts(&self) -> Arc<Counts> {
        Arc::clone(&self.counts)
    }

    /// The routes, to serve.
    pub fn into_router(self) -> Router {
        self.router
    }
}

/// The receiver's routes: `POST /` and `POST /webhook`. Each accepted
/// delivery is sent on `accepted` once; a repeated GUID is answered 200 and
/// not sent again.
pub fn app(receiver: Receiver, accepted: mpsc::UnboundedSender<Accepted>) -> Router {
    Listener::new(receiver, accepted, &ListenConfig::default()).into_router()
}

async fn handle(State(state): State<ListenState>, once: Result<Once, OnceRejection>) -> Response {
    let Once(delivery, claim) = match once {
        Ok(once) => once,
        Err(rejection) => {
            let counter = match rejection {
                OnceRejection::AlreadyProcessed => &state.counts.duplicates,
                OnceRejection::InProgress => &state.counts.in_progress,
                _ => &state.counts.refused,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            if state.verbose {
                eprintln!(
                    "not processed: {} {}: {rejection}",
                    rejection.status().as_u16(),
                    rejection.code()
                );
            }
            return rejection.into_response();
        }
    };
    if state.fail.fails(claim.id()) {
        state.counts.injected.fetch_add(1, Ordering::Relaxed);
        if state.verbose {
            eprintln!("not processed: 500 injected_failure: {}", claim.id());
        }
        // The claim is given back as it drops: the redelivery is processed.
        return (StatusCode::INTERNAL_SERVER_ERROR, "injected failure").into_response();
    }
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
    match claim.complete().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
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
