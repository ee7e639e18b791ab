//! The axum integration (feature `axum`): extractors that read the body
//! under the receiver's limit and within a time limit ([`BodyTimeout`]) and
//! check it, their rejections, which answer with the contract's status, and
//! the state they take from the router.
//!
//! | extractor | gives | state ([`with_state`](::axum::Router::with_state)) |
//! | --- | --- | --- |
//! | [`Delivery`] | a verified, typed delivery | [`ReceiverState`]: a [`Receiver`], [`WebhookState`] |
//! | [`DeliveryInfo`] | the same but for the typed parse, to parse borrowed | [`ReceiverState`] |
//! | [`OnceDelivery`] | exactly-once: a new delivery with its [`Claim`], or one processed already | [`OnceState`]: [`WebhookState`] |
//! | [`Enqueued`] | accept, then process: stored in the [`Inbox`], answered 202 | [`InboxState`]: an [`Inbox`] |
//!
//! A state that lacks what an extractor needs is named in the compile
//! error. Your own state implements the trait in one line (see
//! [`ReceiverState`]).

mod body;
mod rejection;
mod state;
#[cfg(test)]
mod tests;

use ::axum::extract::{FromRequest, Request};
use ::axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::delivery::{Delivery, DeliveryInfo};
use crate::once::{Accepted, Claim, Claimed, DeliveryKey};
#[cfg(doc)]
use crate::{
    once::{ExactlyOnce, Inbox},
    receiver::Receiver,
};
use body::{read_request, read_with};

pub use body::{BodyTimeout, DEFAULT_BODY_TIMEOUT};
pub use rejection::{DeliveryRejection, InboxRejection, OnceRejection};
pub use state::{InboxState, OnceState, ReceiverState, WebhookState};

/// Extracts a verified [`Delivery`] from a request, with the [`Receiver`]
/// of the router's state ([`ReceiverState`]: a `Receiver`, a
/// [`WebhookState`], or your own state).
///
/// The body is refused with 413 before it is read when its `Content-Length`
/// is over the receiver's limit, and while it is read when there is no
/// `Content-Length` (chunked); it is never held beyond the limit. Then
/// [`Receiver::receive`] runs its checks.
///
/// The whole body must arrive within the [`BodyTimeout`] (10 s unless set),
/// or the request is answered 408.
///
/// The extractor consumes the body, so it must be the handler's **last**
/// argument. To process each delivery once, take [`OnceDelivery`] instead.
///
/// ```no_run
/// use axum::{Router, routing::post};
/// use icr_webhooks::{Delivery, Receiver};
///
/// async fn webhook(delivery: Delivery) -> &'static str {
///     println!("{} {}", delivery.info.id, delivery.event.name());
///     "ok"
/// }
///
/// let receiver = Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?;
/// let app: Router = Router::new().route("/webhook", post(webhook)).with_state(receiver);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: ReceiverState> FromRequest<S> for Delivery {
    type Rejection = DeliveryRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (receiver, headers, body) = read_request(request, state).await?;
        Ok(receiver.receive_async(&headers, body).await?)
    }
}

/// Extracts a [`DeliveryInfo`]: what the [`Delivery`] extractor does, but
/// for the typed parse ([`Receiver::receive_unparsed`] in place of
/// [`Receiver::receive`]), so that the handler can parse the payload into
/// the model borrowing from the body (`Event<Text<'_>>`) with
/// [`DeliveryInfo::parse_borrowed`]. Its error converts into a
/// [`DeliveryRejection`] with the status `receive` would have given (400).
///
/// Like [`Delivery`], it must be the handler's **last** argument.
///
/// ```no_run
/// use axum::{Router, routing::post};
/// use icr_webhooks::axum::DeliveryRejection;
/// use icr_webhooks::receive::DeliveryInfo;
/// use icr_webhooks::{Event, Receiver};
///
/// async fn webhook(info: DeliveryInfo) -> Result<&'static str, DeliveryRejection> {
///     match info.parse_borrowed()? {
///         Event::Ping(ping) => println!("ping: {}", ping.zen),
///         other => println!("{} {:?}", other.name(), other.action()),
///     }
///     Ok("ok")
/// }
///
/// let receiver = Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?;
/// let app: Router = Router::new().route("/webhook", post(webhook)).with_state(receiver);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: ReceiverState> FromRequest<S> for DeliveryInfo {
    type Rejection = DeliveryRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (receiver, headers, body) = read_request(request, state).await?;
        Ok(receiver.receive_unparsed_async(&headers, body).await?)
    }
}

/// Exactly-once processing as an extractor: a verified delivery, either
/// [`New`](Self::New) with the [`Claim`] to [`complete`](Claim::complete)
/// once it is processed, or [`Done`](Self::Done), processed already.
///
/// It extracts a [`Delivery`] (every check of the contract, signature
/// first, so a tampered body under a known GUID is still a 401), then
/// claims its GUID in the [`ExactlyOnce`] of the router's state
/// ([`OnceState`]: a [`WebhookState`], or your own state):
///
/// | the GUID is | the extractor gives | answer |
/// | --- | --- | --- |
/// | new, or its last attempt failed | [`OnceDelivery::New`], with the claim | the handler's |
/// | processed already | [`OnceDelivery::Done`] | `200 OK`: acknowledge it |
/// | being processed by another request | waits until that one ends, then as above: done gives `Done`, failed hands over the claim | |
/// | still being processed after the wait ([`ExactlyOnce::wait`], 5 s by default), or by another process | refuses | `409 Conflict` ([`OnceRejection::InProgress`]) |
/// | the store cannot be asked (database down) | refuses | `503 Service Unavailable` ([`OnceRejection::StoreUnavailable`]) |
///
/// So a duplicate is acknowledged only once the work is done: if the first
/// copy fails, the duplicate processes the delivery itself, and a 409 tells
/// ICR that the delivery still has to be redelivered. A 2xx never covers
/// work that may still fail.
///
/// The claim is given back when dropped: answer 5xx and let it drop when
/// processing fails, and the delivery is processed again when redelivered.
/// To answer at once and process after answering, move the claim into the
/// spawned task and complete it there (see the `axum_receiver` example).
///
/// ```no_run
/// use axum::http::StatusCode;
/// use axum::{Router, routing::post};
/// use icr_webhooks::axum::{OnceDelivery, WebhookState};
/// use icr_webhooks::once::{ExactlyOnce, MemoryStore};
/// use icr_webhooks::{Delivery, Receiver};
///
/// async fn webhook(once: OnceDelivery) -> StatusCode {
///     let OnceDelivery::New(delivery, claim) = once else {
///         return StatusCode::OK; // processed already
///     };
///     match process(&delivery).await {
///         Ok(()) => match claim.complete().await {
///             Ok(()) => StatusCode::OK,
///             // Not recorded as done: let ICR redeliver it.
///             Err(_) => StatusCode::SERVICE_UNAVAILABLE,
///         },
///         // The claim is dropped, so given back: a redelivery is processed.
///         Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
///     }
/// }
/// # async fn process(_: &Delivery) -> Result<(), ()> { Ok(()) }
///
/// let state = WebhookState::new(
///     Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?,
///     ExactlyOnce::new(MemoryStore::new()),
/// );
/// let router: Router = Router::new().route("/webhook", post(webhook)).with_state(state);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Take `Result<OnceDelivery, OnceRejection>` to see (and log) what was
/// refused without running the handler.
#[derive(Debug)]
#[must_use = "a `New` delivery's claim must be completed, or it is processed again"]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub enum OnceDelivery {
    /// Not processed yet: process it, then complete the claim.
    New(Delivery, Claim),
    /// Processed already (by an earlier copy, or by the request this one
    /// waited for): acknowledge it (2xx) without processing it again.
    Done(Delivery),
}

impl OnceDelivery {
    /// The delivery, new or done.
    pub fn delivery(&self) -> &Delivery {
        match self {
            Self::New(delivery, _) | Self::Done(delivery) => delivery,
        }
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: OnceState> FromRequest<S> for OnceDelivery {
    type Rejection = OnceRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let once = state.exactly_once();
        let delivery = Delivery::from_request(request, state).await?;
        let wait = tokio::time::sleep(once.wait());
        let key = DeliveryKey::new(delivery.info.hook_id, delivery.info.id.clone());
        match once.claim_waiting(&key, wait).await {
            Ok(Claimed::New(claim)) => Ok(Self::New(delivery, claim)),
            Ok(Claimed::Done) => Ok(Self::Done(delivery)),
            Ok(Claimed::InProgress { .. }) => Err(OnceRejection::InProgress),
            Err(error) => Err(OnceRejection::StoreUnavailable(error)),
        }
    }
}

/// A delivery accepted into the [`Inbox`] of the router's state
/// ([`InboxState`]: the `Inbox` itself, or your own state): *accept, then process* as an extractor.
///
/// The body is read as the [`Delivery`] extractor reads it (size limit
/// while streaming, [`BodyTimeout`]), then [`Inbox::accept`] runs every
/// check of the contract and writes the delivery durably. The handler runs
/// only once it is stored; answer with the extractor itself (`202 Accepted`
/// for a new delivery, `200 OK` for one known already). Refusals answer by
/// themselves ([`InboxRejection`]): the check's status, or 503 when the
/// store could not write it.
///
/// The inbox's [`Workers`](crate::once::Workers) process it afterwards.
///
/// ```no_run
/// use axum::{Router, routing::post};
/// use icr_webhooks::once::{Inbox, MemoryStore};
/// use icr_webhooks::Receiver;
/// use icr_webhooks::axum::Enqueued;
///
/// async fn webhook(enqueued: Enqueued) -> Enqueued {
///     enqueued
/// }
///
/// let inbox = Inbox::builder(Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?, MemoryStore::new()).build();
/// let app: Router = Router::new().route("/webhook", post(webhook)).with_state(inbox);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub struct Enqueued(pub DeliveryInfo, pub Accepted);

impl IntoResponse for Enqueued {
    /// `202 Accepted` when stored now, `200 OK` when known already.
    fn into_response(self) -> Response {
        match self.1 {
            Accepted::Stored => (StatusCode::ACCEPTED, "accepted").into_response(),
            _ => (StatusCode::OK, "already accepted").into_response(),
        }
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: InboxState> FromRequest<S> for Enqueued {
    type Rejection = InboxRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let inbox = state.inbox();
        let (headers, body) = read_with(request, inbox.receiver()).await?;
        let (info, accepted) = inbox.accept(&headers, body).await?;
        Ok(Self(info, accepted))
    }
}
