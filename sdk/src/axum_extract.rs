//! The axum integration (feature `axum`): [`Delivery`] as an extractor that
//! reads the body under the receiver's limit and within a time limit
//! ([`BodyTimeout`]) and checks it, [`DeliveryInfo`], the same without the
//! typed parse (for the borrowed types), [`Once`], which adds exactly-once
//! processing over an [`ExactlyOnce`], and their rejections, which answer
//! with the right status.

use std::time::Duration;

use ::axum::body::Body;
use ::axum::extract::{FromRef, FromRequest, Request};
use ::axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use http_body_util::BodyExt;

use crate::once::{AcceptError, Accepted, DeliveryKey, Inbox, StoreError};
use crate::{Claim, Claimed, Delivery, DeliveryInfo, ExactlyOnce, ReceiveError, Receiver};

/// How long the body may take to arrive by default: 10 s, ICR's own wait
/// for an answer.
pub const DEFAULT_BODY_TIMEOUT: Duration = crate::contract::RESPONSE_TIMEOUT;

/// How long the [`Delivery`], [`DeliveryInfo`] and [`Once`] extractors wait for the whole
/// body, from the moment they start reading it; [`DEFAULT_BODY_TIMEOUT`]
/// unless set.
///
/// A body that has not fully arrived by then (sent a byte at a time, or
/// stalled) is dropped, freeing what was read, and the request is answered
/// `408 Request Timeout` with `Connection: close`
/// ([`DeliveryRejection::BodyTimeout`]). It bounds the time and memory one
/// connection can hold a receiver with; ICR itself gives up after 10 s.
///
/// Set it as axum's `DefaultBodyLimit` is set, for a router or a route, with
/// a request extension:
///
/// ```
/// use std::time::Duration;
/// use axum::{Extension, Router, routing::post};
/// use icr_webhooks::{BodyTimeout, Delivery, Receiver};
///
/// async fn webhook(delivery: Delivery) {}
///
/// let app: Router = Router::new()
///     .route("/webhook", post(webhook))
///     .layer(Extension(BodyTimeout(Duration::from_secs(5))))
///     .with_state(Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The request line and headers are read by the server before any
/// extractor runs: bound them in the server (hyper's
/// `header_read_timeout`) or the proxy in front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub struct BodyTimeout(pub Duration);

impl Default for BodyTimeout {
    fn default() -> Self {
        Self(DEFAULT_BODY_TIMEOUT)
    }
}

/// Why the [`Delivery`] extractor refused a request.
///
/// As a response: the status of the error and its message as plain text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub enum DeliveryRejection {
    /// The delivery was refused by one of the contract's checks.
    #[error(transparent)]
    Refused(#[from] ReceiveError),
    /// The body could not be read: the connection failed or the client went
    /// away (400).
    #[error("failed to read the request body")]
    BodyRead {
        /// What the body stream reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The body did not fully arrive within the [`BodyTimeout`]; what was
    /// read is dropped and the connection closed (408).
    #[error("request body not received within {} ms", after.as_millis())]
    BodyTimeout {
        /// The time limit that passed.
        after: Duration,
    },
}

impl DeliveryRejection {
    /// The status the rejection answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Refused(error) => error.status(),
            Self::BodyRead { .. } => StatusCode::BAD_REQUEST,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// A short stable name for the rejection, in `snake_case`, for logs and
    /// metrics: the [`ReceiveError::code`] of a refused delivery,
    /// `body_read` or `body_timeout`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused(error) => error.code(),
            Self::BodyRead { .. } => "body_read",
            Self::BodyTimeout { .. } => "body_timeout",
        }
    }
}

impl IntoResponse for DeliveryRejection {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, self.to_string()).into_response();
        if matches!(self, Self::BodyTimeout { .. }) {
            // The rest of the body is never read: the connection cannot be
            // used for another request.
            response.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

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

/// The receiver from the state, the headers and the body, read under the
/// size limit and within the [`BodyTimeout`].
async fn read_request<S>(
    request: Request,
    state: &S,
) -> Result<(Receiver, http::HeaderMap, Bytes), DeliveryRejection>
where
    Receiver: FromRef<S>,
{
    let receiver = Receiver::from_ref(state);
    let (headers, body) = read_with(request, &receiver).await?;
    Ok((receiver, headers, body))
}

/// The headers and the body, read under `receiver`'s size limit and within
/// the [`BodyTimeout`].
async fn read_with(
    request: Request,
    receiver: &Receiver,
) -> Result<(http::HeaderMap, Bytes), DeliveryRejection> {
    let (parts, body) = request.into_parts();
    let BodyTimeout(timeout) = parts
        .extensions
        .get::<BodyTimeout>()
        .copied()
        .unwrap_or_default();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if let Some(declared) = declared {
        if let Err(error) = receiver.check_size(declared) {
            drain_in_background(body);
            return Err(error.into());
        }
    }
    // Past the deadline the reading future, and the body with all that
    // was read, is dropped.
    let body = tokio::time::timeout(timeout, read_limited(body, receiver, declared))
        .await
        .map_err(|_| DeliveryRejection::BodyTimeout { after: timeout })??;
    Ok((parts.headers, body))
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

/// Why the [`Once`] extractor answered instead of the handler.
///
/// As a response: the status and the message as plain text. Only
/// [`Refused`](Self::Refused) and [`InProgress`](Self::InProgress) are
/// failures to ICR; [`AlreadyProcessed`](Self::AlreadyProcessed) is an
/// acknowledgement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub enum OnceRejection {
    /// The delivery itself was refused: see [`DeliveryRejection`].
    #[error(transparent)]
    Refused(#[from] DeliveryRejection),
    /// The delivery was processed already: acknowledged without running
    /// the handler (200).
    #[error("delivery already processed")]
    AlreadyProcessed,
    /// The delivery is still being processed by another request, or by
    /// another process sharing the store: not acknowledged, so that it is
    /// redelivered if that processing fails (409).
    #[error("delivery is being processed; redeliver it later")]
    InProgress,
    /// The store could not be asked (database down): not acknowledged, so
    /// that it is redelivered (503).
    #[error("the delivery store is unavailable")]
    StoreUnavailable(#[source] StoreError),
}

impl OnceRejection {
    /// The status the rejection answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Refused(rejection) => rejection.status(),
            Self::AlreadyProcessed => StatusCode::OK,
            Self::InProgress => StatusCode::CONFLICT,
            Self::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A short stable name, in `snake_case`, for logs and metrics: the
    /// [`DeliveryRejection::code`], `already_processed`, `in_progress` or
    /// `store_unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused(rejection) => rejection.code(),
            Self::AlreadyProcessed => "already_processed",
            Self::InProgress => "in_progress",
            Self::StoreUnavailable(_) => "store_unavailable",
        }
    }
}

impl IntoResponse for OnceRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Refused(rejection) => rejection.into_response(),
            other => (other.status(), other.to_string()).into_response(),
        }
    }
}

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

/// Why the [`Enqueued`] extractor answered instead of the handler.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub enum InboxRejection {
    /// The body could not be read in time or within the limit.
    #[error(transparent)]
    Read(#[from] DeliveryRejection),
    /// A check failed, or the store could not write the delivery (503).
    #[error(transparent)]
    Accept(#[from] AcceptError),
}

impl InboxRejection {
    /// The status the rejection answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Read(rejection) => rejection.status(),
            Self::Accept(error) => error.status(),
        }
    }

    /// A short stable name for logs and metrics: the
    /// [`DeliveryRejection::code`] or the [`AcceptError::code`].
    pub fn code(&self) -> &'static str {
        match self {
            Self::Read(rejection) => rejection.code(),
            Self::Accept(error) => error.code(),
        }
    }
}

impl IntoResponse for InboxRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Read(rejection) => rejection.into_response(),
            Self::Accept(error) => (error.status(), error.to_string()).into_response(),
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

/// Reads the whole body, refusing it as soon as it grows over the limit, so
/// that no more than the limit is ever held.
///
/// A body that arrives in one piece is kept as it is. With a
/// `Content-Length` (already checked against the limit) the pieces are
/// copied as they come into one buffer of that size; without one they are
/// held as they came and joined once the body is complete, so a body that
/// turns out too large costs no copies and no reallocation.
async fn read_limited(
    mut body: Body,
    receiver: &Receiver,
    declared: Option<u64>,
) -> Result<Bytes, DeliveryRejection> {
    let declared = declared.and_then(|len| usize::try_from(len).ok());
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut joined: Option<Vec<u8>> = None;
    let mut total: usize = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| DeliveryRejection::BodyRead {
            source: Box::new(error),
        })?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(chunk.len());
        if let Err(error) = receiver.check_size(u64::try_from(total).unwrap_or(u64::MAX)) {
            drain_in_background(body);
            return Err(error.into());
        }
        if let Some(buffer) = &mut joined {
            buffer.extend_from_slice(&chunk);
        } else if let (Some(declared), false) = (declared, chunks.is_empty()) {
            joined = Some(join(chunks.drain(..).chain([chunk]), declared.max(total)));
        } else {
            chunks.push(chunk);
        }
    }
    Ok(match joined {
        Some(buffer) => Bytes::from(buffer),
        None if chunks.len() <= 1 => chunks.pop().unwrap_or_default(),
        None => Bytes::from(join(chunks.drain(..), total)),
    })
}

/// How long a refused body is read and thrown away (nginx's
/// `lingering_time` idea): ICR's own wait.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads what is left of a refused body and throws it away, for at most
/// [`DRAIN_TIME`], while the 413 is answered. An HTTP/1.1 client that is
/// still writing a large body would otherwise have its connection reset
/// when the server closes with unread data, and see the reset instead of
/// the 413. Nothing read is kept, so memory stays flat.
fn drain_in_background(body: Body) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        let mut body = body;
        let drain = async { while let Some(Ok(_)) = body.frame().await {} };
        // Past the deadline the body is dropped and the connection closes.
        let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    });
}

/// Copies the pieces into one buffer, letting each go once copied.
fn join(pieces: impl Iterator<Item = Bytes>, capacity: usize) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(capacity);
    for piece in pieces {
        buffer.extend_from_slice(&piece);
    }
    buffer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_is_send_sync_static() {
        fn check<T: Send + Sync + 'static + std::error::Error>() {}
        check::<DeliveryRejection>();
        check::<OnceRejection>();
        check::<InboxRejection>();
    }

    #[test]
    fn statuses_and_codes() {
        let cases = [
            (
                OnceRejection::Refused(DeliveryRejection::BodyTimeout {
                    after: Duration::from_millis(1500),
                }),
                408,
                "body_timeout",
                "request body not received within 1500 ms",
            ),
            (
                OnceRejection::Refused(ReceiveError::SignatureMismatch.into()),
                401,
                "signature_mismatch",
                "signature does not match the body with any configured secret",
            ),
            (
                OnceRejection::AlreadyProcessed,
                200,
                "already_processed",
                "delivery already processed",
            ),
            (
                OnceRejection::InProgress,
                409,
                "in_progress",
                "delivery is being processed; redeliver it later",
            ),
        ];
        for (rejection, status, code, message) in cases {
            assert_eq!(rejection.status().as_u16(), status, "{rejection:?}");
            assert_eq!(rejection.code(), code);
            assert_eq!(rejection.to_string(), message);
            let response = rejection.into_response();
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(
                response.headers().get(http::header::CONNECTION).is_some(),
                status == 408,
                "only a timed-out body closes the connection"
            );
        }
        assert_eq!(BodyTimeout::default().0, Duration::from_secs(10));
    }
}
