//! A complete ICR webhook receiver on axum.
//!
//! ```text
//! ICR_WEBHOOK_SECRET=whsec_… cargo run -p icr-webhooks --features axum --example axum_receiver
//! ```
//!
//! - The secret comes from `ICR_WEBHOOK_SECRET`, the address from
//!   `ICR_WEBHOOK_ADDR` (default `127.0.0.1:3000`; port 0 picks a free one),
//!   how long a body may take to arrive from `ICR_WEBHOOK_BODY_TIMEOUT`
//!   (seconds, default 10).
//! - Deliveries are POSTed to any path. The `Once` extractor checks the
//!   size, signature, content type, headers and payload, and refuses with
//!   413, 401, 415 or 400 (408 for a body slower than the body timeout).
//! - Each GUID is processed once, through the SDK's `ExactlyOnce` over a
//!   `MemoryStore` (three days, a million GUIDs). A new delivery is
//!   answered `202 Accepted` at once and processed after answering; a
//!   delivery already processed is answered `200 OK` by the extractor; a
//!   copy arriving while the first is processed waits for it. When
//!   processing fails, the claim is given back, so that a redelivery is
//!   processed.
//! - Each processed delivery prints one JSON line on stdout, with
//!   `delivery`, `event` and `action`; everything else goes to stderr, one
//!   line per request not processed (never a secret, a signature or a
//!   body).
//! - Ctrl-C stops taking requests and waits for the work in progress.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Extension;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use icr_webhooks::types::{CreditTransferCompleted, InventoryEvent, PingEvent};
use icr_webhooks::{
    BodyTimeout, DEFAULT_BODY_TIMEOUT, DeliveryInfo, Event, ExactlyOnce, MemoryStore, Once,
    OnceRejection, Receiver, Router,
};
use tokio::sync::mpsc;

#[derive(Clone)]
struct App {
    receiver: Receiver,
    once: ExactlyOnce,
    router: Arc<Router>,
    /// Held by each piece of work in progress; shutdown waits until every
    /// clone is gone.
    in_flight: mpsc::Sender<()>,
}

impl FromRef<App> for Receiver {
    fn from_ref(app: &App) -> Self {
        app.receiver.clone()
    }
}

impl FromRef<App> for ExactlyOnce {
    fn from_ref(app: &App) -> Self {
        app.once.clone()
    }
}

/// The handler: the delivery is verified and claimed by the time it gets
/// here. `Once` must be the last argument, since it reads the body.
async fn webhook(State(app): State<App>, once: Result<Once, OnceRejection>) -> Response {
    let Once(delivery, claim) = match once {
        Ok(once) => once,
        Err(rejection) => {
            eprintln!(
                "not processed: {} {}: {rejection}",
                rejection.status().as_u16(),
                rejection.code()
            );
            return rejection.into_response();
        }
    };
    let id = delivery.info.id.clone();
    let event = delivery.event.name().to_owned();
    let action = delivery.event.action().map(str::to_owned);
    let work = app.router.dispatch(delivery);
    let guard = app.in_flight.clone();
    tokio::spawn(async move {
        match work.await {
            // Handled, or skipped because no handler wants it: either way
            // the delivery is processed.
            Ok(_) => {
                let line = serde_json::json!({ "delivery": id.as_str(), "event": event, "action": action });
                println!("{line}");
                if let Err(error) = claim.complete().await {
                    eprintln!("delivery {id} not recorded as done: {error}");
                }
            }
            // The claim is dropped, so given back: a redelivery is processed.
            Err(error) => {
                eprintln!("delivery {id} failed, a redelivery will be processed: {error}")
            }
        }
        drop(guard);
    });
    (StatusCode::ACCEPTED, "accepted\n").into_response()
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
            eprintln!("{}: ping from hook {}", info.id, ping.hook_id);
            Ok(())
        })
        .fallback(|info: DeliveryInfo, event: Event| async move {
            eprintln!("{}: {} {:?}", info.id, event.name(), event.action());
            Ok(())
        })
}

/// Serves until Ctrl-C. (The SDK's tests run it too, in a child process,
/// hence `pub(crate)`.)
pub(crate) async fn run() -> anyhow::Result<()> {
    let secret = std::env::var("ICR_WEBHOOK_SECRET")
        .context("ICR_WEBHOOK_SECRET must hold the webhook secret")?;
    let addr: SocketAddr = std::env::var("ICR_WEBHOOK_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
        .parse()
        .context("ICR_WEBHOOK_ADDR must be an address such as 127.0.0.1:3000")?;
    let body_timeout = match std::env::var("ICR_WEBHOOK_BODY_TIMEOUT") {
        Ok(seconds) => seconds
            .parse()
            .ok()
            .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
            .context("ICR_WEBHOOK_BODY_TIMEOUT must be a number of seconds")?,
        Err(_) => DEFAULT_BODY_TIMEOUT,
    };
    let receiver = Receiver::new(secret).context("invalid webhook secret")?;

    let (in_flight, mut finished) = mpsc::channel::<()>(1);
    let app = App {
        receiver,
        once: ExactlyOnce::new(MemoryStore::new()),
        router: Arc::new(router()),
        in_flight,
    };
    let routes = axum::Router::new()
        .route("/", post(webhook))
        .route("/{*path}", post(webhook))
        .layer(Extension(BodyTimeout(body_timeout)))
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
