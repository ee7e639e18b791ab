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
//! [`ReceiverState`]). The same extractors exist for actix-web (feature
//! `actix`), and the same receive as a tower layer (feature `tower`), over
//! one core: the answers are the same, status and text.
//!
//! # Graceful shutdown
//!
//! `axum::serve(..).with_graceful_shutdown(signal)` stops accepting
//! connections and waits for the requests in flight: each delivery being
//! read or processed is answered, and a claim a handler holds is completed
//! or, dropped, given back. Then [`Workers::shutdown`](crate::once::Workers::shutdown)
//! lets the inbox's workers finish the jobs they hold and claim no more
//! (the `axum_receiver` example does both). Bound the wait (a
//! `tokio::time::timeout` around the server): ICR waits 10 s per delivery.

mod state;
#[cfg(test)]
mod tests;

use ::axum::body::Body;
use ::axum::extract::{FromRequest, Request};
use ::axum::response::{IntoResponse, Response};

use crate::delivery::{Delivery, DeliveryInfo};
use crate::glue::rejection::Answer;
use crate::glue::{self, Incoming};
#[cfg(doc)]
use crate::{
    once::{Claim, ExactlyOnce, Inbox},
    receiver::Receiver,
};

pub use crate::glue::{
    BodyTimeout, DEFAULT_BODY_TIMEOUT, DeliveryRejection, Enqueued, InboxRejection, OnceDelivery,
    OnceRejection, WebhookState,
};
pub use state::{InboxState, OnceState, ReceiverState};

/// The headers and the body of `request`, with the [`BodyTimeout`] of its
/// extensions: what the core reads.
fn incoming(request: Request) -> (http::HeaderMap, Body, BodyTimeout) {
    let (parts, body) = request.into_parts();
    let timeout = parts
        .extensions
        .get::<BodyTimeout>()
        .copied()
        .unwrap_or_default();
    (parts.headers, body, timeout)
}

/// The core's view of a request's headers and body.
fn view(
    headers: &http::HeaderMap,
    body: Body,
    BodyTimeout(timeout): BodyTimeout,
) -> Incoming<'_, Body> {
    Incoming {
        headers,
        body,
        timeout,
        drain: glue::spawn_drain::<Body>,
    }
}

/// An [`Answer`] as axum's response: the text with axum's
/// `text/plain; charset=utf-8`.
fn respond(answer: Answer) -> Response {
    let mut response = (answer.status, answer.text).into_response();
    if answer.close {
        response.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    response
}

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
        let (headers, body, timeout) = incoming(request);
        glue::receive_request(state.receiver(), view(&headers, body, timeout)).await
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
        let (headers, body, timeout) = incoming(request);
        glue::receive_unparsed_request(state.receiver(), view(&headers, body, timeout)).await
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
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: OnceState> FromRequest<S> for OnceDelivery {
    type Rejection = OnceRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (headers, body, timeout) = incoming(request);
        let incoming = view(&headers, body, timeout);
        glue::claim_request(state.receiver(), state.exactly_once(), incoming).await
    }
}

impl IntoResponse for Enqueued {
    /// `202 Accepted` when stored now, `200 OK` when known already.
    fn into_response(self) -> Response {
        respond(self.answer())
    }
}

impl IntoResponse for DeliveryRejection {
    fn into_response(self) -> Response {
        respond(self.answer())
    }
}

impl IntoResponse for OnceRejection {
    fn into_response(self) -> Response {
        respond(self.answer())
    }
}

impl IntoResponse for InboxRejection {
    fn into_response(self) -> Response {
        respond(self.answer())
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
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: InboxState> FromRequest<S> for Enqueued {
    type Rejection = InboxRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (headers, body, timeout) = incoming(request);
        glue::accept_request(state.inbox(), view(&headers, body, timeout)).await
    }
}
