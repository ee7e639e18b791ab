//! The test receivers, one behaviour served by each framework (axum,
//! actix-web, hyper with the tower layer) on a loopback socket: a plain
//! app ([`start_plain`]: the `Delivery` reaches the handler, answered 204),
//! an exactly-once app ([`start`]: it reports every processing it starts
//! and every delivery it processes, and the test can hold processing at a
//! gate, make attempts fail, and see how many duplicates wait for the copy
//! in progress), and an inbox app ([`start_inbox`]).

mod actix;
mod axum;
mod tower;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use icr_webhooks::once::{DeliveryStore, ExactlyOnce, Inbox, MemoryStore};
use icr_webhooks::{Delivery, Receiver};
use tokio::sync::{Semaphore, mpsc};

/// The frameworks every loopback test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framework {
    Axum,
    Actix,
    /// hyper 1 and hyper-util serving a service behind `WebhookLayer`.
    Tower,
}

impl Framework {
    pub(crate) const ALL: [Self; 3] = [Self::Axum, Self::Actix, Self::Tower];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Axum => "axum",
            Self::Actix => "actix",
            Self::Tower => "tower",
        }
    }

    pub(crate) fn from_name(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|framework| framework.name() == name)
            .unwrap_or_else(|| panic!("no framework {name}"))
    }
}

/// How the test receiver behaves.
pub(crate) struct Options {
    pub(crate) framework: Framework,
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
            framework: Framework::Axum,
            receiver: crate::support::receiver(),
            store: Arc::new(store),
            wait: icr_webhooks::once::DEFAULT_DUPLICATE_WAIT,
            body_timeout: None,
            gated: false,
            failures: 0,
        }
    }

    /// The default options on `framework`.
    pub(crate) fn on(framework: Framework) -> Self {
        Self {
            framework,
            ..Self::default()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self::new(MemoryStore::new())
    }
}

/// Stops a server when dropped (actix-web's run on threads of their own;
/// the others are tasks of the test's runtime, which ends with the test).
pub(crate) struct Stop(Option<actix_web::dev::ServerHandle>);

impl Stop {
    /// Nothing to stop.
    pub(crate) fn none() -> Self {
        Self(None)
    }
}

pub(crate) use actix::serve as serve_actix;

impl Drop for Stop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            // The command is sent at once; the workers stop on their own.
            drop(handle.stop(false));
        }
    }
}

/// A running exactly-once test receiver.
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
    _stop: Stop,
}

impl Server {
    /// Returns once `copies` duplicates wait for the copy in progress.
    pub(crate) async fn until_waiting(&self, copies: usize) {
        while self.once.waiting() < copies {
            tokio::task::yield_now().await;
        }
    }
}

/// What the exactly-once handler of every framework does with a new
/// delivery.
#[derive(Clone)]
pub(crate) struct TestApp {
    pub(crate) receiver: Receiver,
    pub(crate) once: ExactlyOnce,
    gate: Option<Arc<Semaphore>>,
    failures: Arc<AtomicUsize>,
    started: mpsc::UnboundedSender<String>,
    processed: mpsc::UnboundedSender<String>,
}

impl TestApp {
    /// Reports the start, waits at the gate, then fails (`Err`: answer
    /// 500, the claim given back) or reports the delivery processed.
    pub(crate) async fn process(&self, delivery: &Delivery) -> Result<(), ()> {
        let id = delivery.info.id.as_str().to_owned();
        self.started.send(id.clone()).unwrap();
        if let Some(gate) = &self.gate {
            gate.acquire().await.unwrap().forget();
        }
        let fail = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if fail {
            return Err(());
        }
        self.processed.send(id).unwrap();
        Ok(())
    }
}

/// The text a duplicate processed already is answered with.
pub(crate) const ALREADY: &str = "delivery already processed";

/// Starts an exactly-once receiver on 127.0.0.1 and a free port.
pub(crate) async fn start(options: Options) -> Server {
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
    let timeout = options.body_timeout;
    let (addr, stop) = match options.framework {
        Framework::Axum => axum::once(app, timeout).await,
        Framework::Actix => actix::once(app, timeout),
        Framework::Tower => tower::once(app, timeout).await,
    };
    Server {
        addr,
        started,
        processed,
        gate,
        once,
        _stop: stop,
    }
}

/// Starts a receiver whose handler takes the `Delivery`, sends it on, and
/// answers 204: its address, what its handler saw, and its `Stop`.
pub(crate) async fn start_plain(
    framework: Framework,
    receiver: Receiver,
) -> (SocketAddr, mpsc::UnboundedReceiver<Delivery>, Stop) {
    let (seen_tx, seen) = mpsc::unbounded_channel();
    let (addr, stop) = match framework {
        Framework::Axum => axum::plain(receiver, seen_tx).await,
        Framework::Actix => actix::plain(receiver, seen_tx),
        Framework::Tower => tower::plain(receiver, seen_tx).await,
    };
    (addr, seen, stop)
}

/// Serves `inbox` (accept, then process; answered 202, 200 or the
/// refusal) on 127.0.0.1; the server runs while the `Stop` lives.
pub(crate) async fn start_inbox(framework: Framework, inbox: Inbox) -> (SocketAddr, Stop) {
    match framework {
        Framework::Axum => axum::inbox(inbox).await,
        Framework::Actix => actix::inbox(inbox),
        Framework::Tower => tower::inbox(inbox).await,
    }
}

/// Everything received on `channel` so far.
pub(crate) fn drain<T>(channel: &mut mpsc::UnboundedReceiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Ok(item) = channel.try_recv() {
        out.push(item);
    }
    out
}
