//! The framework-neutral core of the integrations (axum, actix-web, the
//! tower layer): reading an `http_body::Body` under the receiver's size
//! limit and within the [`BodyTimeout`], then receiving, claiming
//! (exactly-once) or accepting (inbox) the delivery, each outcome a value
//! or a rejection that knows its status, code and answer.
//!
//! Each framework's module only adapts: it takes the headers, the body and
//! the state from its request, calls one of [`receive_request`],
//! [`receive_unparsed_request`], [`claim_request`] or [`accept_request`],
//! and turns the [`Answer`](rejection::Answer) of a rejection (or of
//! [`Enqueued`], [`OnceDelivery::Done`]) into its response. What is
//! recorded about a delivery (tracing, metrics) belongs here, once.

mod body;
mod observed;
pub(crate) mod rejection;

use http::StatusCode;

use crate::BoxError;
use crate::delivery::{Delivery, DeliveryInfo};
use crate::once::{Accepted, Claim, Claimed, DeliveryKey, ExactlyOnce, Inbox};
use crate::receiver::Receiver;
use observed::observed;
use rejection::Answer;

pub(crate) use body::Incoming;
#[cfg(feature = "actix")]
pub(crate) use body::drain;
#[cfg(any(feature = "axum", feature = "tower"))]
pub(crate) use body::spawn_drain;
pub use body::{BodyTimeout, DEFAULT_BODY_TIMEOUT};
pub use rejection::{DeliveryRejection, InboxRejection, OnceRejection};

/// A verified, typed delivery from a request: [`Receiver::receive`] over
/// the body read by [`read_body`](body::read_body).
///
/// # Errors
/// The [`DeliveryRejection`] of the read or of the contract's checks.
pub(crate) async fn receive_request<B>(
    receiver: &Receiver,
    incoming: Incoming<'_, B>,
) -> Result<Delivery, DeliveryRejection>
where
    B: http_body::Body + Unpin,
    B::Error: Into<BoxError>,
{
    observed(incoming.headers, receive(receiver, incoming)).await
}

async fn receive<B>(
    receiver: &Receiver,
    incoming: Incoming<'_, B>,
) -> Result<Delivery, DeliveryRejection>
where
    B: http_body::Body + Unpin,
    B::Error: Into<BoxError>,
{
    let headers = incoming.headers;
    let body = body::read_body(incoming, receiver).await?;
    Ok(receiver.receive_async(headers, body).await?)
}

/// [`receive_request`] but for the typed parse
/// ([`Receiver::receive_unparsed`]).
///
/// # Errors
/// The [`DeliveryRejection`] of the read or of the contract's checks.
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) async fn receive_unparsed_request<B>(
    receiver: &Receiver,
    incoming: Incoming<'_, B>,
) -> Result<DeliveryInfo, DeliveryRejection>
where
    B: http_body::Body + Unpin,
    B::Error: Into<BoxError>,
{
    let headers = incoming.headers;
    observed(headers, async move {
        let body = body::read_body(incoming, receiver).await?;
        Ok(receiver.receive_unparsed_async(headers, body).await?)
    })
    .await
}

/// [`receive_request`], then [`claim`] of its GUID in `once`.
///
/// # Errors
/// The [`OnceRejection`] of the receive or of the claim.
pub(crate) async fn claim_request<B>(
    receiver: &Receiver,
    once: &ExactlyOnce,
    incoming: Incoming<'_, B>,
) -> Result<OnceDelivery, OnceRejection>
where
    B: http_body::Body + Unpin,
    B::Error: Into<BoxError>,
{
    observed(incoming.headers, async move {
        claim(once, receive(receiver, incoming).await?).await
    })
    .await
}

/// Claims a verified delivery in `once`, waiting for a copy in progress in
/// this process for at most [`ExactlyOnce::wait`].
///
/// # Errors
/// [`OnceRejection::InProgress`] (409) and
/// [`OnceRejection::StoreUnavailable`] (503).
pub(crate) async fn claim(
    once: &ExactlyOnce,
    delivery: Delivery,
) -> Result<OnceDelivery, OnceRejection> {
    let wait = tokio::time::sleep(once.wait());
    let key = DeliveryKey::new(delivery.info.hook_id, delivery.info.id.clone());
    match once.claim_waiting(&key, wait).await {
        Ok(Claimed::New(claim)) => Ok(OnceDelivery::New(delivery, claim)),
        Ok(Claimed::Done) => Ok(OnceDelivery::Done(delivery)),
        Ok(Claimed::InProgress { .. }) => Err(OnceRejection::InProgress),
        Err(error) => Err(OnceRejection::StoreUnavailable(error)),
    }
}

/// The body read under the inbox receiver's limit, then
/// [`Inbox::accept`]: checked and stored.
///
/// # Errors
/// The [`InboxRejection`] of the read, of a check, or of the store (503).
pub(crate) async fn accept_request<B>(
    inbox: &Inbox,
    incoming: Incoming<'_, B>,
) -> Result<Enqueued, InboxRejection>
where
    B: http_body::Body + Unpin,
    B::Error: Into<BoxError>,
{
    let headers = incoming.headers;
    observed(headers, async move {
        let body = body::read_body(incoming, inbox.receiver()).await?;
        let (info, accepted) = inbox.accept(headers, body).await?;
        Ok(Enqueued(info, accepted))
    })
    .await
}

/// Exactly-once processing of one request: a verified delivery, either
/// [`New`](Self::New) with the [`Claim`] to [`complete`](Claim::complete)
/// once it is processed, or [`Done`](Self::Done), processed already.
///
/// It is what the axum and actix-web `OnceDelivery` extractors give; the
/// tower layer's exactly-once mode uses it inside. How a duplicate is
/// answered, and when a claim is given back, is told at the extractor
/// (`icr_webhooks::axum::OnceDelivery`, `icr_webhooks::actix`).
#[derive(Debug)]
#[must_use = "a `New` delivery's claim must be completed, or it is processed again"]
// With `tower` alone it is the layer's own, not exported.
#[cfg_attr(
    not(any(feature = "axum", feature = "actix")),
    allow(dead_code, unreachable_pub)
)]
pub enum OnceDelivery {
    /// Not processed yet: process it, then complete the claim.
    New(Delivery, Claim),
    /// Processed already (by an earlier copy, or by the request this one
    /// waited for): acknowledge it (2xx) without processing it again.
    Done(Delivery),
}

#[cfg_attr(
    not(any(feature = "axum", feature = "actix")),
    allow(dead_code, unreachable_pub)
)]
impl OnceDelivery {
    /// The delivery, new or done.
    pub fn delivery(&self) -> &Delivery {
        match self {
            Self::New(delivery, _) | Self::Done(delivery) => delivery,
        }
    }
}

/// The text a duplicate processed already is answered with, `200 OK`.
#[cfg(feature = "tower")]
pub(crate) const ALREADY_PROCESSED: &str = "delivery already processed";

/// A delivery accepted into an [`Inbox`]: its info and whether it was
/// stored now or known already. As an answer: `202 Accepted` when stored
/// now, `200 OK` when known already.
#[derive(Debug)]
pub struct Enqueued(pub DeliveryInfo, pub Accepted);

impl Enqueued {
    /// `202 accepted` when stored now, `200 already accepted` when known
    /// already.
    pub(crate) fn answer(&self) -> Answer {
        match self.1 {
            Accepted::Stored => Answer::text(StatusCode::ACCEPTED, "accepted"),
            _ => Answer::text(StatusCode::OK, "already accepted"),
        }
    }
}

/// The state of exactly-once processing: a [`Receiver`] and an
/// [`ExactlyOnce`], for axum's router (`with_state`) and actix-web's app
/// data (`web::Data<WebhookState>`). Cloning it is cheap (both are
/// handles).
///
/// ```
/// use icr_webhooks::Receiver;
/// use icr_webhooks::once::{ExactlyOnce, MemoryStore};
/// # #[cfg(feature = "axum")]
/// use icr_webhooks::axum::WebhookState;
/// # #[cfg(all(not(feature = "axum"), feature = "actix"))]
/// # use icr_webhooks::actix::WebhookState;
/// # #[cfg(any(feature = "axum", feature = "actix"))] {
/// // `SqliteStore::open(path).await?` or `PostgresStore` to survive
/// // restarts and to share the claims between replicas.
/// let state = WebhookState::new(
///     Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?,
///     ExactlyOnce::new(MemoryStore::new()),
/// );
/// # let _ = state; }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[cfg(any(feature = "axum", feature = "actix"))]
pub struct WebhookState {
    pub(crate) receiver: Receiver,
    pub(crate) once: ExactlyOnce,
}

#[cfg(any(feature = "axum", feature = "actix"))]
impl WebhookState {
    /// The state of `receiver` and `once`.
    pub fn new(receiver: Receiver, once: ExactlyOnce) -> Self {
        Self { receiver, once }
    }
}
