//! The receiver the observability tests drive, on a loopback port: the
//! `OnceDelivery`, `Delivery` and `Enqueued` extractors over a canary
//! secret, and `OnceDelivery` over a store that is down; and the
//! deliveries they send, each with a canary in its body.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use axum::http::StatusCode;
use axum::routing::post;
use icr_webhooks::axum::{Enqueued, OnceDelivery, WebhookState};
use icr_webhooks::contract::header;
use icr_webhooks::once::{
    Accepted, Claimed, ClaimedJob, DeliveryKey, DeliveryStore, ExactlyOnce, Inbox, Lease,
    ListFilter, MemoryStore, Purge, Purged, Record, Stats, StoreError, StoreFuture, StoredDelivery,
    Token,
};
use icr_webhooks::receive::DeliveryId;
use icr_webhooks::{Delivery, Receiver};
use tokio::net::TcpListener;

use crate::support::{Wire, example};

/// The secret, recognisable anywhere.
pub(crate) const SECRET: &str = "whsec_SEKRIT_3b9f0c7d1e";
/// In every body sent.
pub(crate) const CANARY: &str = "BODY-CANARY";
/// The receiver's body limit: above every delivery sent but the large one.
pub(crate) const LIMIT: u64 = 8 * 1024;

/// The GUID of delivery `n`.
pub(crate) fn guid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// A ping with the canary as its zen, GUID `n`, signed with [`SECRET`].
pub(crate) fn ping(n: u32) -> Wire {
    let body = String::from_utf8(example("ping.json"))
        .unwrap()
        .replace("Measure twice, retire once.", CANARY);
    Wire::json("ping", body.into_bytes())
        .with(header::DELIVERY, guid(n))
        .signed_with(SECRET)
}

/// The `credit_transfer.completed` example with the canary as its memo.
pub(crate) fn transfer(n: u32) -> Wire {
    let body = String::from_utf8(example("credit_transfer.completed.json"))
        .unwrap()
        .replace("Q4 offset purchase, PO 7731", CANARY);
    assert!(body.contains(CANARY));
    Wire::json("credit_transfer", body.into_bytes())
        .with(header::DELIVERY, guid(n))
        .signed_with(SECRET)
}

/// An event this version does not know, with an action it does not know.
pub(crate) fn unknown(n: u32, event: &str) -> Wire {
    let body = format!(r#"{{"action":"zapped","zen":"{CANARY}"}}"#);
    Wire::json(event, body.into_bytes())
        .with(header::DELIVERY, guid(n))
        .signed_with(SECRET)
}

/// The exactly-once handler: completes the claim, answers 200.
async fn once(delivery: OnceDelivery) -> StatusCode {
    match delivery {
        OnceDelivery::New(_, claim) => match claim.complete().await {
            Ok(()) => StatusCode::OK,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        },
        OnceDelivery::Done(_) => StatusCode::OK,
    }
}

async fn plain(_: Delivery) -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn enqueue(enqueued: Enqueued) -> Enqueued {
    enqueued
}

/// Serves, on the current runtime: `/once` (exactly once in memory),
/// `/down` (exactly once over a store that is down), `/plain` (the
/// `Delivery` extractor) and `/inbox` (accepted into an inbox in memory).
pub(crate) async fn serve() -> SocketAddr {
    let receiver = Receiver::builder()
        .secret(SECRET)
        .max_body_size(LIMIT)
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let once_state = WebhookState::new(receiver.clone(), ExactlyOnce::new(MemoryStore::new()));
    let down_state = WebhookState::new(receiver.clone(), ExactlyOnce::new(Down));
    let inbox = Inbox::builder(receiver.clone(), MemoryStore::new()).build();
    let app = axum::Router::new()
        .route("/once", post(once).with_state(once_state))
        .route("/down", post(once).with_state(down_state))
        .route("/plain", post(plain).with_state(receiver))
        .route("/inbox", post(enqueue).with_state(inbox));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A store whose every call fails, as a database that is down.
struct Down;

fn down<T: Send + 'static>() -> StoreFuture<'static, T> {
    Box::pin(std::future::ready(Err(StoreError::backend(
        std::io::Error::other("the database is down"),
    ))))
}

impl DeliveryStore for Down {
    fn claim<'a>(&'a self, _: &'a DeliveryKey, _: Duration) -> StoreFuture<'a, Claimed<Lease>> {
        down()
    }
    fn renew<'a>(
        &'a self,
        _: &'a DeliveryKey,
        _: Token,
        _: Duration,
    ) -> StoreFuture<'a, SystemTime> {
        down()
    }
    fn complete<'a>(&'a self, _: &'a DeliveryKey, _: Token) -> StoreFuture<'a, ()> {
        down()
    }
    fn abort<'a>(&'a self, _: &'a DeliveryKey, _: Token) -> StoreFuture<'a, ()> {
        down()
    }
    fn accept(&self, _: StoredDelivery) -> StoreFuture<'_, Accepted> {
        down()
    }
    fn claim_jobs(&self, _: usize, _: Duration) -> StoreFuture<'_, Vec<ClaimedJob>> {
        down()
    }
    fn fail<'a>(
        &'a self,
        _: &'a DeliveryKey,
        _: Token,
        _: Option<SystemTime>,
        _: &'a str,
    ) -> StoreFuture<'a, ()> {
        down()
    }
    fn stats(&self) -> StoreFuture<'_, Stats> {
        down()
    }
    fn list(&self, _: ListFilter, _: usize) -> StoreFuture<'_, Vec<Record>> {
        down()
    }
    fn get<'a>(
        &'a self,
        _: &'a DeliveryId,
    ) -> StoreFuture<'a, Vec<(Record, Option<StoredDelivery>)>> {
        down()
    }
    fn retry<'a>(&'a self, _: Option<&'a DeliveryId>) -> StoreFuture<'a, u64> {
        down()
    }
    fn purge(&self, _: Purge) -> StoreFuture<'_, Purged> {
        down()
    }
}

/// A current-thread runtime: everything the server does happens on the
/// test's thread, under its subscriber and recorder.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
