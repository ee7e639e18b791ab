//! The verifying receiver behind `icr-webhooks listen` and the demo: the
//! SDK's axum extractor, one JSON line per accepted delivery, and a repeated
//! GUID acknowledged without being reported twice.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use icr_webhooks::{Delivery, Receiver};
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

#[derive(Clone)]
struct ListenState {
    receiver: Receiver,
    seen: Arc<Mutex<HashSet<String>>>,
    accepted: mpsc::UnboundedSender<Accepted>,
}

impl FromRef<ListenState> for Receiver {
    fn from_ref(state: &ListenState) -> Self {
        state.receiver.clone()
    }
}

/// The receiver's routes: `POST /` and `POST /webhook`. Each accepted
/// delivery is sent on `accepted` once; a repeated GUID is answered 200 and
/// not sent again.
pub fn app(receiver: Receiver, accepted: mpsc::UnboundedSender<Accepted>) -> Router {
    let state = ListenState {
        receiver,
        seen: Arc::new(Mutex::new(HashSet::new())),
        accepted,
    };
    Router::new()
        .route("/", post(handle))
        .route("/webhook", post(handle))
        .with_state(state)
}

async fn handle(State(state): State<ListenState>, delivery: Delivery) -> StatusCode {
    let id = delivery.info.id.as_str().to_owned();
    let first = match state.seen.lock() {
        Ok(mut seen) => seen.insert(id.clone()),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR,
    };
    if first {
        let accepted = Accepted {
            delivery: id,
            event: delivery.event.name().to_owned(),
            action: delivery.event.action().map(str::to_owned),
            known: delivery.event.is_known(),
        };
        // The receiving side may be gone at shutdown; the answer stays 200.
        let _ = state.accepted.send(accepted);
    }
    StatusCode::OK
}
