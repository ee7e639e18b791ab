//! A complete ICR webhook receiver on axum.
//!
//! ```text
//! ICR_WEBHOOK_SECRET=whsec_… cargo run -p icr-webhooks --features axum --example axum_receiver
//! ```
//!
//! - The secret comes from `ICR_WEBHOOK_SECRET`, the address from
//!   `ICR_WEBHOOK_ADDR` (default `127.0.0.1:3000`; port 0 picks a free one).
//! - Deliveries are POSTed to any path. The `Delivery` extractor checks the
//!   size, signature, content type, headers and payload, and refuses with
//!   413, 401, 415 or 400.
//! - A new delivery is answered `202 Accepted` at once and processed after
//!   answering; a delivery whose GUID was already received is answered
//!   `200 OK` and not processed again. When processing fails, the GUID is
//!   forgotten, so that a redelivery is processed.
//! - Each processed delivery prints one JSON line on stdout, with
//!   `delivery`, `event` and `action`; everything else goes to stderr.
//! - Ctrl-C stops taking requests and waits for the work in progress.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use icr_webhooks::types::{CreditTransferCompleted, InventoryEvent, PingEvent};
use icr_webhooks::{Delivery, DeliveryId, DeliveryInfo, Event, Receiver, Router};
use tokio::sync::mpsc;

/// Where each delivery GUID stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// Answered, being processed.
    Processing,
    /// Processed successfully.
    Done,
}

#[derive(Clone)]
struct App {
    receiver: Receiver,
    router: Arc<Router>,
    seen: Arc<Mutex<HashMap<DeliveryId, Progress>>>,
    /// Held by each piece of work in progress; shutdown waits until every
    /// clone is gone.
    in_flight: mpsc::Sender<()>,
}

impl FromRef<App> for Receiver {
    fn from_ref(app: &App) -> Self {
        app.receiver.clone()
    }
}

impl App {
    /// Records the GUID as being processed, unless it was seen before.
    fn claim(&self, id: &DeliveryId) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.contains_key(id) {
            return false;
        }
        seen.insert(id.clone(), Progress::Processing);
        true
    }

    /// Marks the GUID done, or forgets it so that a redelivery is processed.
    fn settle(&self, id: DeliveryId, succeeded: bool) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if succeeded {
            seen.insert(id, Progress::Done);
        } else {
            seen.remove(&id);
        }
    }
}

/// The handler: the delivery is verified by the time it gets here. It must
/// be the last argument, since it reads the body.
async fn webhook(State(app): State<App>, delivery: Delivery) -> (StatusCode, &'static str) {
    let id = delivery.info.id.clone();
    if !app.claim(&id) {
        return (StatusCode::OK, "already received\n");
    }
    let event = delivery.event.name().to_owned();
    let action = delivery.event.action().map(str::to_owned);
    let work = app.router.dispatch(delivery);
    let guard = app.in_flight.clone();
    tokio::spawn(async move {
        let outcome = work.await;
        let succeeded = outcome.is_ok();
        match outcome {
            // Handled, or skipped because no handler wants it: either way
            // the delivery is processed.
            Ok(_) => {
                let line = serde_json::json!({ "delivery": id.as_str(), "event": event, "action": action });
                println!("{line}");
            }
            Err(error) => {
                eprintln!("delivery {id} failed, a redelivery will be processed: {error}")
            }
        }
        app.settle(id, succeeded);
        drop(guard);
    });
    (StatusCode::ACCEPTED, "accepted\n")
}

/// What the app does with each event: here, it only tells.
fn router() -> Router {
    Router::new()
        .on(
            |info: DeliveryInfo, completed: CreditTransferCompleted| async move {
                eprintln!(
                    "{}: transfer {} of {} credits completed",
                    info.id, completed.transfer.id, completed.transfer.quantity
                );
                Ok(())
            },
        )
        .on(|info: DeliveryInfo, inventory: InventoryEvent| async move {
            eprintln!("{}: inventory {}", info.id, inventory.action());
            Ok(())
        })
        .on(|info: DeliveryInfo, ping: PingEvent| async move {
            eprintln!("{}: ping from hook {}: {}", info.id, ping.hook_id, ping.zen);
            Ok(())
        })
        .fallback(|info: DeliveryInfo, event: Event| async move {
            eprintln!("{}: {} {:?}", info.id, event.name(), event.action());
            Ok(())
        })
}

async fn run() -> anyhow::Result<()> {
    let secret = std::env::var("ICR_WEBHOOK_SECRET")
        .context("ICR_WEBHOOK_SECRET must hold the webhook secret")?;
    let addr: SocketAddr = std::env::var("ICR_WEBHOOK_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
        .parse()
        .context("ICR_WEBHOOK_ADDR must be an address such as 127.0.0.1:3000")?;
    let receiver = Receiver::new(secret).context("invalid webhook secret")?;

    let (in_flight, mut finished) = mpsc::channel::<()>(1);
    let app = App {
        receiver,
        router: Arc::new(router()),
        seen: Arc::default(),
        in_flight,
    };
    let routes = axum::Router::new()
        .route("/", post(webhook))
        .route("/{*path}", post(webhook))
        .with_state(app);

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, routes)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server failed")?;
    // Every sender is gone once the server and all work are: then recv ends.
    eprintln!("shutting down: waiting for work in progress");
    let _ = finished.recv().await;
    eprintln!("stopped");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
