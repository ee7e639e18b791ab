//! A test receiver on a loopback socket built on the `Once` extractor: it
//! reports every processing it starts and every delivery it processes, and
//! the test can hold processing at a gate, make attempts fail, and see how
//! many duplicates wait for the copy in progress.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::routing::post;
use icr_webhooks::Receiver;
use icr_webhooks::axum::{BodyTimeout, OnceDelivery, OnceState, ReceiverState};
use icr_webhooks::once::{DeliveryStore, ExactlyOnce, MemoryStore};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};

/// How the test receiver behaves.
pub(crate) struct Options {
    pub(crate) receiver: Receiver,
    pub(crate) store: Arc<dyn DeliveryStore>,
    /// How long a duplicate waits for the copy in progress.
    pub(crate) wait: Duration,
    pub(crate) body_timeout: Option<Duration>,
    /// When set, each processing waits for a permit before it ends.
    pub(crate) gated: bool,
    /// How many processings fail (answer 500) before they succeed again.
    pub(crate) failures: usize,
}

impl Options {
    pub(crate) fn new(store: impl DeliveryStore + 'static) -> Self {
        Self {
            receiver: crate::support::receiver(),
            store: Arc::new(store),
            wait: icr_webhooks::once::DEFAULT_DUPLICATE_WAIT,
            body_timeout: None,
            gated: false,
            failures: 0,
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self::new(MemoryStore::new())
    }
}

/// A running test receiver.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    /// The GUID of each processing as it starts.
    pub(crate) started: mpsc::UnboundedReceiver<String>,
    /// The GUID of each delivery processed (completed).
    pub(crate) processed: mpsc::UnboundedReceiver<String>,
    /// Opens the gate for one processing per permit.
    pub(crate) gate: Arc<Semaphore>,
    /// The receiver's exactly-once bookkeeping.
    pub(crate) once: ExactlyOnce,
}

impl Server {
    /// Returns once `copies` duplicates wait for the copy in progress.
    pub(crate) async fn until_waiting(&self, copies: usize) {
        while self.once.waiting() < copies {
            tokio::task::yield_now().await;
        }
    }
}

#[derive(Clone)]
struct TestApp {
    receiver: Receiver,
    once: ExactlyOnce,
    gate: Option<Arc<Semaphore>>,
    failures: Arc<AtomicUsize>,
    started: mpsc::UnboundedSender<String>,
    processed: mpsc::UnboundedSender<String>,
}

impl ReceiverState for TestApp {
    fn receiver(&self) -> &Receiver {
        &self.receiver
    }
}

impl OnceState for TestApp {
    fn exactly_once(&self) -> &ExactlyOnce {
        &self.once
    }
}

async fn webhook(State(app): State<TestApp>, once: OnceDelivery) -> Response {
    let OnceDelivery::New(delivery, claim) = once else {
        return (StatusCode::OK, "delivery already processed").into_response();
    };
    let id = delivery.info.id.as_str().to_owned();
    app.started.send(id.clone()).unwrap();
    if let Some(gate) = &app.gate {
        gate.acquire().await.unwrap().forget();
    }
    let fail = app
        .failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok();
    if fail {
        // The claim drops: given back.
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    app.processed.send(id).unwrap();
    claim.complete().await.unwrap();
    StatusCode::OK.into_response()
}

/// Starts a receiver on 127.0.0.1 and a free port.
pub(crate) async fn start(options: Options) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (started_tx, started) = mpsc::unbounded_channel();
    let (processed_tx, processed) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let once = ExactlyOnce::from_arc(options.store).with_wait(options.wait);
    let app = TestApp {
        receiver: options.receiver,
        once: once.clone(),
        gate: options.gated.then(|| Arc::clone(&gate)),
        failures: Arc::new(AtomicUsize::new(options.failures)),
        started: started_tx,
        processed: processed_tx,
    };
    let mut router = axum::Router::new().route("/webhook", post(webhook));
    if let Some(timeout) = options.body_timeout {
        router = router.layer(Extension(BodyTimeout(timeout)));
    }
    let router = router.with_state(app);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Server {
        addr,
        started,
        processed,
        gate,
        once,
    }
}

/// Everything received on `channel` so far.
pub(crate) fn drain(channel: &mut mpsc::UnboundedReceiver<String>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(item) = channel.try_recv() {
        out.push(item);
    }
    out
}
