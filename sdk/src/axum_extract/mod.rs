//! The axum integration (feature `axum`): [`Delivery`] as an extractor that
//! reads the body under the receiver's limit and within a time limit
//! ([`BodyTimeout`]) and checks it, [`DeliveryInfo`], the same without the
//! typed parse (for the borrowed types), [`Once`], which adds exactly-once
//! processing over an [`ExactlyOnce`], and their rejections, which answer
//! with the right status.

mod body;
mod rejection;
#[cfg(test)]
mod tests;

use ::axum::extract::{FromRef, FromRequest, Request};
use ::axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::once::{Accepted, DeliveryKey, Inbox};
use crate::{Claim, Claimed, Delivery, DeliveryInfo, ExactlyOnce, Receiver};
use body::{read_request, read_with};

pub use body::{BodyTimeout, DEFAULT_BODY_TIMEOUT};
pub use rejection::{DeliveryRejection, InboxRejection, OnceRejection};

/// Extracts a verified [`Delivery`] from a request, with the [`Receiver`]
/// taken from the router's state (`Receiver: FromRef<S>`: the state is a
/// `Receiver`, or a struct with one and a `FromRef` impl).
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
/// argument. To process each delivery once, take [`Once`] instead.
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
impl<S> FromRequest<S> for Delivery
where
    Receiver: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = DeliveryRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (receiver, headers, body) = read_request(request, state).await?;
        Ok(receiver.receive_async(&headers, body).await?)
    }
}

/// Extracts a [`DeliveryInfo`]: what the [`Delivery`] extractor does, but
/// for the typed parse ([`Receiver::check`] in place of
/// [`Receiver::receive`]), so that the handler can parse the payload into
/// the model borrowing from the body (`Event<Text<'_>>`) with
/// [`DeliveryInfo::parse_borrowed`]. Its error converts into a
/// [`DeliveryRejection`] with the status `receive` would have given (400).
///
/// Like [`Delivery`], it must be the handler's **last** argument.
///
/// ```no_run
/// use axum::{Router, routing::post};
/// use icr_webhooks::{DeliveryInfo, DeliveryRejection, Event, Receiver};
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
impl<S> FromRequest<S> for DeliveryInfo
where
    Receiver: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = DeliveryRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (receiver, headers, body) = read_request(request, state).await?;
        Ok(receiver.check_async(&headers, body).await?)
    }
}

/// A verified delivery that has not been processed yet, with the [`Claim`]
/// to [`complete`](Claim::complete) once it is: exactly-once processing
/// as an extractor.
///
/// It extracts a [`Delivery`] (every check of the contract, signature
/// first, so a tampered body under a known GUID is still a 401), then
/// claims its GUID in the [`ExactlyOnce`] taken from the router's state
/// (`ExactlyOnce: FromRef<S>` and `Receiver: FromRef<S>`):
///
/// | the GUID is | the handler | the answer |
/// | --- | --- | --- |
/// | new, or its last attempt failed | runs, with the claim | the handler's |
/// | processed already | does not run | `200 OK` ([`OnceRejection::AlreadyProcessed`]) |
/// | being processed by another request | waits until that one ends, then as above: done is `200`, failed hands over the claim | |
/// | still being processed after the wait ([`ExactlyOnce::wait`], 5 s by default), or by another process | does not run | `409 Conflict` ([`OnceRejection::InProgress`]) |
/// | the store cannot be asked (database down) | does not run | `503 Service Unavailable` ([`OnceRejection::StoreUnavailable`]) |
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
/// use axum::extract::FromRef;
/// use axum::http::StatusCode;
/// use axum::{Router, routing::post};
/// use icr_webhooks::{Delivery, ExactlyOnce, MemoryStore, Once, Receiver};
///
/// #[derive(Clone)]
/// struct App {
///     receiver: Receiver,
///     once: ExactlyOnce,
/// }
/// impl FromRef<App> for Receiver {
///     fn from_ref(app: &App) -> Self { app.receiver.clone() }
/// }
/// impl FromRef<App> for ExactlyOnce {
///     fn from_ref(app: &App) -> Self { app.once.clone() }
/// }
///
/// async fn webhook(Once(delivery, claim): Once) -> StatusCode {
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
/// let app = App {
///     receiver: Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?,
///     once: ExactlyOnce::new(MemoryStore::new()),
/// };
/// let router: Router = Router::new().route("/webhook", post(webhook)).with_state(app);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Take `Result<Once, OnceRejection>` to see (and log) what was answered
/// without running the handler.
#[derive(Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub struct Once(pub Delivery, pub Claim);

#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S> FromRequest<S> for Once
where
    Receiver: FromRef<S>,
    ExactlyOnce: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = OnceRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let once = ExactlyOnce::from_ref(state);
        let delivery = Delivery::from_request(request, state).await?;
        let wait = tokio::time::sleep(once.wait());
        let key = DeliveryKey::new(delivery.info.hook_id, delivery.info.id.clone());
        match once.claim_waiting(&key, wait).await {
            Ok(Claimed::New(claim)) => Ok(Self(delivery, claim)),
            Ok(Claimed::Done) => Err(OnceRejection::AlreadyProcessed),
            Ok(Claimed::InProgress(_) | Claimed::Elsewhere) => Err(OnceRejection::InProgress),
            Err(error) => Err(OnceRejection::StoreUnavailable(error)),
        }
    }
}

/// A delivery accepted into the [`Inbox`] taken from the router's state
/// (`Inbox: FromRef<S>`): *accept, then process* as an extractor.
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
/// use icr_webhooks::{Enqueued, Receiver};
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
impl<S> FromRequest<S> for Enqueued
where
    Inbox: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = InboxRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let inbox = Inbox::from_ref(state);
        let (headers, body) = read_with(request, inbox.receiver()).await?;
        let (info, accepted) = inbox.accept(&headers, body).await?;
        Ok(Self(info, accepted))
    }
}
