//! The actix-web integration (feature `actix`): extractors that behave as
//! the axum ones, over the same core: the body read under the receiver's
//! limit while streaming (413 before reading when `Content-Length` is too
//! large), within the [`BodyTimeout`] (408, connection closed), then every
//! check of the contract; a refusal answers by itself with its status and
//! plain-text message ([`ResponseError`] for
//! [`DeliveryRejection`], [`OnceRejection`], [`InboxRejection`]).
//!
//! | extractor | gives | app data it needs |
//! | --- | --- | --- |
//! | [`Delivery`] | a verified, typed delivery | `web::Data<Receiver>`, `web::Data<WebhookState>` or `web::Data<Inbox>` |
//! | [`DeliveryInfo`] | the same but for the typed parse, to parse borrowed | the same |
//! | [`OnceDelivery`] | exactly-once: a new delivery with its [`Claim`](crate::once::Claim), or one processed already | `web::Data<WebhookState>` |
//! | [`Enqueued`] | accept, then process: stored in the inbox, answered 202 (also a `Responder`) | `web::Data<Inbox>` |
//!
//! A body refused while it is still arriving (413) is answered, then
//! actix-web closes the connection rather than read the rest (axum and
//! hyper read and discard it for up to 10 s, so that a client still writing
//! reads the answer, not a reset).
//!
//! The body timeout is app data too: `.app_data(BodyTimeout(..))`. An app
//! without the data an extractor needs answers `500` with the missing type
//! named ([`DeliveryRejection::MissingState`]).
//!
//! Each extractor reads the payload, so it is the handler's **last**
//! argument. `OnceDelivery` and the answers of a duplicate (200), of a
//! copy in progress (409) and of a store that is down (503) are as with
//! axum: see [`crate::axum::OnceDelivery`] when the `axum` feature is on,
//! and `docs/contract.md`.
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, HttpServer, web};
//! use icr_webhooks::{Delivery, Receiver};
//!
//! async fn webhook(delivery: Delivery) -> HttpResponse {
//!     println!("{} {}", delivery.info.id, delivery.event.name());
//!     HttpResponse::NoContent().finish()
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let receiver = web::Data::new(Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?);
//! actix_web::rt::System::new().block_on(async move {
//!     HttpServer::new(move || {
//!         App::new()
//!             .app_data(receiver.clone())
//!             .route("/webhook", web::post().to(webhook))
//!     })
//!     .bind("127.0.0.1:3000")?
//!     .run()
//!     .await
//! })?;
//! # Ok(())
//! # }
//! ```
//!
//! # Graceful shutdown
//!
//! `HttpServer` stops on SIGINT/SIGTERM (or `ServerHandle::stop(true)`):
//! it stops accepting, and answers the requests in flight within its
//! `shutdown_timeout` (30 s by default; a delivery needs at most ICR's
//! 10 s). A claim held by a handler that is cut off is dropped, so given
//! back. Once `run()` returns, call [`Workers::shutdown`](crate::once::Workers::shutdown)
//! on the inbox's workers: they finish the jobs they hold and claim no
//! more. The `actix_receiver` example does both.

mod body;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, Responder, ResponseError, web};

use crate::delivery::{Delivery, DeliveryInfo};
use crate::glue::rejection::{Answer, TEXT_PLAIN};
use crate::glue::{self, Incoming};
use crate::once::{ExactlyOnce, Inbox};
use crate::receiver::Receiver;
use body::PayloadBody;

pub use crate::glue::{
    BodyTimeout, DEFAULT_BODY_TIMEOUT, DeliveryRejection, Enqueued, InboxRejection, OnceDelivery,
    OnceRejection, WebhookState,
};

/// The future of every extractor here (actix-web runs each worker on one
/// thread, so it need not be `Send`).
type Extracting<T, E> = Pin<Box<dyn Future<Output = Result<T, E>>>>;

/// The receiver of the app data: `Data<Receiver>`, `Data<WebhookState>` or
/// `Data<Inbox>`, in that order.
fn receiver_of(request: &HttpRequest) -> Result<Receiver, DeliveryRejection> {
    if let Some(receiver) = request.app_data::<web::Data<Receiver>>() {
        return Ok(Receiver::clone(receiver));
    }
    if let Some(state) = request.app_data::<web::Data<WebhookState>>() {
        return Ok(state.receiver.clone());
    }
    if let Some(inbox) = request.app_data::<web::Data<Inbox>>() {
        return Ok(inbox.receiver().clone());
    }
    Err(DeliveryRejection::MissingState {
        needs: "web::Data<Receiver>, web::Data<WebhookState> or web::Data<Inbox>",
    })
}

/// The headers (as an `http` 1 map: actix-web 4 is on `http` 0.2), the
/// payload and the body timeout of a request.
fn incoming(
    request: &HttpRequest,
    payload: &mut Payload,
) -> (http::HeaderMap, PayloadBody, BodyTimeout) {
    let mut headers = http::HeaderMap::with_capacity(request.headers().len());
    for (name, value) in request.headers() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    let timeout = request
        .app_data::<BodyTimeout>()
        .copied()
        .or_else(|| {
            request
                .app_data::<web::Data<BodyTimeout>>()
                .map(|data| *data.get_ref())
        })
        .unwrap_or_default();
    (headers, PayloadBody::new(payload.take()), timeout)
}

/// The core's view of a request.
fn view(
    headers: &http::HeaderMap,
    body: PayloadBody,
    BodyTimeout(timeout): BodyTimeout,
) -> Incoming<'_, PayloadBody> {
    Incoming {
        headers,
        body,
        timeout,
        drain: body::spawn_local_drain,
    }
}

/// Extracts a verified [`Delivery`], with the receiver of the app data:
/// the body under the size limit and within the [`BodyTimeout`], then
/// [`Receiver::receive`]. The handler's last argument.
impl FromRequest for Delivery {
    type Error = DeliveryRejection;
    type Future = Extracting<Self, Self::Error>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let receiver = receiver_of(request);
        let (headers, body, timeout) = incoming(request, payload);
        Box::pin(
            async move { glue::receive_request(&receiver?, view(&headers, body, timeout)).await },
        )
    }
}

/// Extracts a [`DeliveryInfo`]: what [`Delivery`] does but for the typed
/// parse, to parse borrowed with [`DeliveryInfo::parse_borrowed`] (its
/// error converts into a [`DeliveryRejection`], 400).
impl FromRequest for DeliveryInfo {
    type Error = DeliveryRejection;
    type Future = Extracting<Self, Self::Error>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let receiver = receiver_of(request);
        let (headers, body, timeout) = incoming(request, payload);
        Box::pin(async move {
            glue::receive_unparsed_request(&receiver?, view(&headers, body, timeout)).await
        })
    }
}

/// Exactly-once processing, over `web::Data<WebhookState>`: a
/// [`Delivery`] (signature first), then its GUID claimed, as the axum
/// extractor does. `New`: process, then complete the claim (drop it to give
/// it back, answering 5xx); `Done`: answer 2xx. Refused with 409 while
/// another copy is still processed after the wait, 503 when the store is
/// down.
impl FromRequest for OnceDelivery {
    type Error = OnceRejection;
    type Future = Extracting<Self, Self::Error>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = request.app_data::<web::Data<WebhookState>>().cloned();
        let (headers, body, timeout) = incoming(request, payload);
        Box::pin(async move {
            let state = state.ok_or(DeliveryRejection::MissingState {
                needs: "web::Data<WebhookState>",
            })?;
            let once: &ExactlyOnce = &state.once;
            glue::claim_request(&state.receiver, once, view(&headers, body, timeout)).await
        })
    }
}

/// *Accept, then process*, over `web::Data<Inbox>`: the body read as for
/// [`Delivery`], then [`Inbox::accept`]. Answer with the extractor itself
/// (`202 Accepted`, `200 OK` when known already).
impl FromRequest for Enqueued {
    type Error = InboxRejection;
    type Future = Extracting<Self, Self::Error>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let inbox = request.app_data::<web::Data<Inbox>>().cloned();
        let (headers, body, timeout) = incoming(request, payload);
        Box::pin(async move {
            let inbox = inbox.ok_or(DeliveryRejection::MissingState {
                needs: "web::Data<Inbox>",
            })?;
            glue::accept_request(&inbox, view(&headers, body, timeout)).await
        })
    }
}

impl Responder for Enqueued {
    type Body = actix_web::body::BoxBody;

    /// `202 Accepted` when stored now, `200 OK` when known already.
    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        respond(self.answer())
    }
}

/// An [`Answer`] as actix-web's response.
fn respond(answer: Answer) -> HttpResponse {
    let mut builder = HttpResponse::build(status(answer.status));
    builder.content_type(TEXT_PLAIN);
    if answer.close {
        builder.force_close();
    }
    builder.body(answer.text)
}

/// An `http` 1 status as actix-web's (`http` 0.2).
fn status(status: http::StatusCode) -> actix_web::http::StatusCode {
    actix_web::http::StatusCode::from_u16(status.as_u16())
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
}

impl ResponseError for DeliveryRejection {
    fn status_code(&self) -> actix_web::http::StatusCode {
        status(self.status())
    }

    fn error_response(&self) -> HttpResponse {
        respond(self.answer())
    }
}

impl ResponseError for OnceRejection {
    fn status_code(&self) -> actix_web::http::StatusCode {
        status(self.status())
    }

    fn error_response(&self) -> HttpResponse {
        respond(self.answer())
    }
}

impl ResponseError for InboxRejection {
    fn status_code(&self) -> actix_web::http::StatusCode {
        status(self.status())
    }

    fn error_response(&self) -> HttpResponse {
        respond(self.answer())
    }
}
