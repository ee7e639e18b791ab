//! A complete ICR webhook receiver on actix-web: accept, then process, on a
//! SQLite inbox. It behaves as the `axum_receiver` example does, answer for
//! answer and line for line.
//!
//! ```text
//! ICR_WEBHOOK_SECRET=whsec_… cargo run -p icr-webhooks --features actix,sqlite --example actix_receiver
//! ```
//!
//! - The secret comes from `ICR_WEBHOOK_SECRET`, the address from
//!   `ICR_WEBHOOK_ADDR` (default `127.0.0.1:3000`; port 0 picks a free one),
//!   the store from `ICR_WEBHOOK_STORE` (a SQLite file, default
//!   `icr-webhooks.sqlite`), how long a body may take to arrive from
//!   `ICR_WEBHOOK_BODY_TIMEOUT` (seconds, default 10).
//! - Deliveries are POSTed to any path. The `Enqueued` extractor checks the
//!   size, signature, content type, headers and payload, and refuses with
//!   413, 401, 415 or 400 (408 for a body slower than the body timeout);
//!   then it writes the delivery to the inbox, and only then is it answered
//!   `202 Accepted` (`200 OK` for a delivery accepted before; 503 when the
//!   file cannot be written, so that ICR's redelivery brings it again).
//! - Eight workers process the inbox with a `Router`; a failure is retried
//!   with backoff and kept as dead after the last attempt. A restart loses
//!   nothing: what was accepted and not processed is processed then; and
//!   several processes can share the file.
//! - Each processed delivery prints one JSON line on stdout, with
//!   `delivery`, `event` and `action`; everything else goes to stderr, one
//!   line per request not processed (never a secret, a signature or a
//!   body).
//! - Ctrl-C (or SIGTERM) stops taking requests, answers those in flight,
//!   and lets the workers finish what they hold.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, Responder, ResponseError, web};
use anyhow::Context as _;
use icr_webhooks::actix::{BodyTimeout, DEFAULT_BODY_TIMEOUT, Enqueued, InboxRejection};
use icr_webhooks::once::sqlite::SqliteStore;
use icr_webhooks::once::{Accepted, Inbox, Job};
use icr_webhooks::receive::DeliveryInfo;
use icr_webhooks::router::Router;
use icr_webhooks::types::{CreditTransferCompleted, InventoryEvent, PingEvent};
use icr_webhooks::{BoxError, Event, Receiver};

/// The handler: the delivery is checked and stored by the time it gets
/// here. `Enqueued` must be the last argument, since it reads the body.
async fn webhook(request: HttpRequest, enqueued: Result<Enqueued, InboxRejection>) -> HttpResponse {
    match enqueued {
        Ok(enqueued) => {
            if enqueued.1 == Accepted::Duplicate {
                eprintln!("not processed: 200 duplicate: delivery already accepted");
            }
            enqueued.respond_to(&request)
        }
        Err(rejection) => {
            eprintln!(
                "not processed: {} {}: {rejection}",
                rejection.status().as_u16(),
                rejection.code()
            );
            rejection.error_response()
        }
    }
}

/// Processes one stored delivery with the router, and tells.
async fn process(router: &Router, job: Job) -> Result<(), BoxError> {
    let id = job.delivery.info.id.clone();
    let event = job.delivery.event.name().to_owned();
    let action = job.delivery.event.action().map(str::to_owned);
    match router.dispatch(job.delivery).await {
        // Handled, or skipped because no handler wants it: either way the
        // delivery is processed.
        Ok(_) => {
            let line =
                serde_json::json!({ "delivery": id.as_str(), "event": event, "action": action });
            println!("{line}");
            Ok(())
        }
        // Retried with backoff by the inbox.
        Err(error) => {
            eprintln!("delivery {id} failed (attempt {}): {error}", job.attempt);
            Err(error)
        }
    }
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

/// Serves until Ctrl-C or SIGTERM.
async fn run() -> anyhow::Result<()> {
    let secret = std::env::var("ICR_WEBHOOK_SECRET")
        .context("ICR_WEBHOOK_SECRET must hold the webhook secret")?;
    let addr: SocketAddr = std::env::var("ICR_WEBHOOK_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
        .parse()
        .context("ICR_WEBHOOK_ADDR must be an address such as 127.0.0.1:3000")?;
    let store_path =
        std::env::var("ICR_WEBHOOK_STORE").unwrap_or_else(|_| "icr-webhooks.sqlite".to_owned());
    let body_timeout = match std::env::var("ICR_WEBHOOK_BODY_TIMEOUT") {
        Ok(seconds) => seconds
            .parse()
            .ok()
            .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
            .context("ICR_WEBHOOK_BODY_TIMEOUT must be a number of seconds")?,
        Err(_) => DEFAULT_BODY_TIMEOUT,
    };
    let receiver = Receiver::new(secret).context("invalid webhook secret")?;
    let store = SqliteStore::open(&store_path)
        .await
        .with_context(|| format!("cannot open the store {store_path}"))?;
    let inbox = Inbox::builder(receiver, store).build();
    let router = Arc::new(router());
    let workers = inbox.workers(8, move |job: Job| {
        let router = Arc::clone(&router);
        async move { process(&router, job).await }
    });
    let inbox = web::Data::new(inbox);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(inbox.clone())
            .app_data(BodyTimeout(body_timeout))
            .default_service(web::post().to(webhook))
    })
    // The requests in flight are answered on shutdown: ICR waits 10 s.
    .shutdown_timeout(10)
    .bind(addr)
    .with_context(|| format!("cannot listen on {addr}"))?;
    if let Some(bound) = server.addrs().first() {
        eprintln!("listening on http://{bound}");
    }
    // Stops on Ctrl-C and SIGTERM: no more connections, those in flight
    // answered.
    server.run().await.context("server failed")?;
    eprintln!("shutting down: the workers finish what they hold");
    workers.shutdown().await;
    eprintln!("stopped");
    Ok(())
}

fn main() -> ExitCode {
    match actix_web::rt::System::new().block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
