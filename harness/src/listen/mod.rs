//! The verifying receiver behind `icr-webhooks listen` and the demo:
//! process then answer (the SDK's `Once` extractor) or accept then process
//! (its `Inbox`, with workers), over a memory, SQLite or PostgreSQL store;
//! each processing is recorded in `listen_effects` in the transaction that
//! completes the delivery; one JSON line per processed delivery (each GUID
//! once, however often it arrives); and on request a failing app: a
//! fraction of first attempts answered 500, and with an inbox a fraction of
//! first processing attempts failed.
//!
//! Around it, the development loop ([`DevLoop`]): every request recorded
//! in the [history](crate::history) (the answer never waits for it), with
//! `--forward-to` each checked delivery forwarded to the app under
//! development and answered with the app's status ([`Forward`]), and with
//! `--ui` the inspector at `/_icr/` ([`inspector`]).

mod client;
mod counts;
mod fail;
mod forward;
mod handlers;
pub mod inspector;
mod record;

use std::sync::Arc;
use std::time::Duration;

use axum::middleware::from_fn_with_state;
use axum::routing::post;
use axum::{Extension, Router};
use icr_webhooks::Receiver;
use icr_webhooks::axum::{BodyTimeout, DEFAULT_BODY_TIMEOUT};
use icr_webhooks::once::{DEFAULT_LEASE, Inbox, Job, RetryPolicy, Workers};
use icr_webhooks::once::{ExactlyOnce, MemoryStore};
use serde::Serialize;
use tokio::sync::mpsc;

pub use self::client::Url;
pub use self::counts::Counts;
pub use self::forward::Forward;
pub use self::inspector::InspectorConfig;

use self::fail::FailRate;
use self::handlers::{ListenState, handle, handle_inbox, process_job};
use self::record::{Recording, record};
use crate::history::{History, Recorder};
use crate::stores::ListenStore;

/// The development loop around the receiver: what is recorded, where
/// deliveries are forwarded, and the inspector.
#[derive(Clone, Default)]
pub struct DevLoop {
    /// The history every request is recorded in, and its queue.
    pub history: Option<(History, Recorder)>,
    /// Forward each checked delivery to the app, instead of processing it.
    pub forward: Option<Forward>,
    /// Serve the inspector (needs a history).
    pub inspector: Option<InspectorConfig>,
}

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
        icr_webhooks::contract::EventKey::join(&self.event, self.action.as_deref())
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
        Self::with_dev_loop(receiver, store, accepted, config, DevLoop::default())
    }

    /// [`Listener::new`] with the development loop `dev`: with a history,
    /// every request to `/` and `/webhook` is recorded; with a forward,
    /// deliveries are forwarded instead of processed here; with an
    /// inspector, it is served under `/_icr/`.
    pub fn with_dev_loop(
        receiver: Receiver,
        store: ListenStore,
        accepted: mpsc::UnboundedSender<Accepted>,
        config: &ListenConfig,
        dev: DevLoop,
    ) -> Self {
        let limit = usize::try_from(receiver.max_body_size()).unwrap_or(usize::MAX);
        let counts = Arc::new(Counts::default());
        let shared = store.store();
        let inbox = config.inbox.as_ref().map(|inbox| {
            Inbox::builder_arc(receiver.clone(), Arc::clone(&shared))
                .lease(config.lease)
                .retry(inbox.retry)
                .build()
        });
        // Routed to only with an inbox; without, an unused one over the store.
        let routed_inbox = inbox
            .clone()
            .unwrap_or_else(|| Inbox::builder_arc(receiver.clone(), Arc::clone(&shared)).build());
        let state = ListenState {
            receiver,
            once: ExactlyOnce::from_arc(shared).with_lease(config.lease),
            inbox: routed_inbox,
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
            forward: dev.forward.clone(),
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
        let handler = if dev.forward.is_some() {
            post(forward::handle_forward)
        } else if inbox.is_some() {
            post(handle_inbox)
        } else {
            post(handle)
        };
        let mut router = Router::new()
            .route("/", handler.clone())
            .route("/webhook", handler)
            .layer(Extension(BodyTimeout(config.body_timeout)))
            .with_state(state);
        if let Some((history, recorder)) = dev.history {
            router = router.route_layer(from_fn_with_state(Recording { recorder, limit }, record));
            if let Some(ui) = dev.inspector {
                router = router.merge(inspector::routes(ui, history, dev.forward));
            }
        }
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
