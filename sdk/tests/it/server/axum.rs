//! The test apps on axum: the `Delivery`, `OnceDelivery` and `Enqueued`
//! extractors.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::routing::post;
use icr_webhooks::axum::{BodyTimeout, Enqueued, OnceDelivery, OnceState, ReceiverState};
use icr_webhooks::once::{ExactlyOnce, Inbox};
use icr_webhooks::{Delivery, Receiver};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::{ALREADY, Stop, TestApp};

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
        return (StatusCode::OK, ALREADY).into_response();
    };
    if app.process(&delivery).await.is_err() {
        // The claim drops: given back.
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    claim.complete().await.unwrap();
    StatusCode::OK.into_response()
}

/// Serves `router` on 127.0.0.1 and a free port.
async fn serve(router: axum::Router) -> (SocketAddr, Stop) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, Stop(None))
}

pub(super) async fn once(app: TestApp, timeout: Option<Duration>) -> (SocketAddr, Stop) {
    let mut router = axum::Router::new().route("/webhook", post(webhook));
    if let Some(timeout) = timeout {
        router = router.layer(Extension(BodyTimeout(timeout)));
    }
    serve(router.with_state(app)).await
}

#[derive(Clone)]
struct PlainApp {
    receiver: Receiver,
    seen: mpsc::UnboundedSender<Delivery>,
}

impl ReceiverState for PlainApp {
    fn receiver(&self) -> &Receiver {
        &self.receiver
    }
}

async fn plain_webhook(State(app): State<PlainApp>, delivery: Delivery) -> StatusCode {
    app.seen.send(delivery).unwrap();
    StatusCode::NO_CONTENT
}

pub(super) async fn plain(
    receiver: Receiver,
    seen: mpsc::UnboundedSender<Delivery>,
) -> (SocketAddr, Stop) {
    let router = axum::Router::new()
        .route("/webhook", post(plain_webhook))
        .with_state(PlainApp { receiver, seen });
    serve(router).await
}

async fn enqueue(enqueued: Enqueued) -> Enqueued {
    enqueued
}

pub(super) async fn inbox(inbox: Inbox) -> (SocketAddr, Stop) {
    let router = axum::Router::new()
        .route("/webhook", post(enqueue))
        .with_state(inbox);
    serve(router).await
}
