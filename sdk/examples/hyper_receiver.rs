//! An ICR webhook receiver on plain hyper 1 and hyper-util, behind the
//! tower layer, with exactly-once processing (process, then answer).
//!
//! ```text
//! ICR_WEBHOOK_SECRET=whsec_… cargo run -p icr-webhooks --features tower --example hyper_receiver
//! ```
//!
//! - The secret comes from `ICR_WEBHOOK_SECRET`, the address from
//!   `ICR_WEBHOOK_ADDR` (default `127.0.0.1:3000`).
//! - `WebhookLayer::exactly_once` answers every refusal (413, 401, 415,
//!   400, 408), a duplicate processed already (200), a copy in progress
//!   (409) and a store that is down (503); the inner service sees only new,
//!   verified deliveries, and the layer records each as processed when the
//!   service answers 2xx.
//! - Ctrl-C stops accepting connections and waits for those in flight
//!   (hyper-util's `GracefulShutdown`), at most 10 s.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use icr_webhooks::bytes::Bytes;
use icr_webhooks::once::{ExactlyOnce, MemoryStore};
use icr_webhooks::tower::WebhookLayer;
use icr_webhooks::{Delivery, Receiver};
use tower::{ServiceBuilder, service_fn};

/// The app: called only with a new, verified delivery.
async fn handle(request: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = match request.extensions().get::<Delivery>() {
        Some(delivery) => {
            let line = serde_json::json!({
                "delivery": delivery.info.id.as_str(),
                "event": delivery.event.name(),
                "action": delivery.event.action(),
            });
            println!("{line}");
            StatusCode::OK
        }
        None => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    Ok(response)
}

async fn run() -> anyhow::Result<()> {
    let secret = std::env::var("ICR_WEBHOOK_SECRET")
        .context("ICR_WEBHOOK_SECRET must hold the webhook secret")?;
    let addr: SocketAddr = std::env::var("ICR_WEBHOOK_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
        .parse()
        .context("ICR_WEBHOOK_ADDR must be an address such as 127.0.0.1:3000")?;
    let receiver = Receiver::new(secret).context("invalid webhook secret")?;
    // `SqliteStore` or `PostgresStore` to survive restarts.
    let once = ExactlyOnce::new(MemoryStore::new());
    let service = ServiceBuilder::new()
        .layer(WebhookLayer::exactly_once(receiver, once))
        .service(service_fn(handle));

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    let graceful = GracefulShutdown::new();
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted.context("accept failed")?;
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service.clone()));
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        eprintln!("connection: {error}");
                    }
                });
            }
            _ = &mut ctrl_c => break,
        }
    }
    eprintln!("shutting down: answering the deliveries in flight");
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("some connections did not finish in time");
    }
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
