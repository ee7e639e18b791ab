//! The tower integration (feature `tower`): [`WebhookLayer`] runs the
//! whole receive in front of any tower service of `http` requests (hyper
//! with hyper-util, `lambda_http`, a tower stack, an axum `Router`).
//!
//! The layer reads the body under the receiver's size limit (413 by
//! `Content-Length` before reading, 413 while streaming) and within the
//! [`BodyTimeout`] (408, `Connection: close`), runs every check of the
//! contract, and answers each refusal itself with the contract's status and
//! the same plain-text message as the axum and actix-web extractors. The
//! inner service is called only for a verified delivery:
//!
//! | mode | built with | the inner service gets | the layer answers |
//! | --- | --- | --- | --- |
//! | plain | [`WebhookLayer::new`] (a [`Receiver`]) | the [`Delivery`] in the request's extensions, the body's bytes as its body | every refusal |
//! | exactly-once | [`WebhookLayer::exactly_once`] (an [`ExactlyOnce`]) | the same, for a new delivery only | a duplicate processed already (`200 delivery already processed`), 409, 503 |
//! | inbox | [`WebhookLayer::inbox`] (an [`Inbox`]) | nothing: it is not called | `202 accepted`, `200 already accepted`, 503 |
//!
//! In exactly-once mode the layer holds the [`Claim`](crate::once::Claim):
//! when the inner service answers 2xx it completes the claim, then passes
//! the answer on (503 instead if the store could not record it, so that ICR
//! redelivers); any other answer, or an error, gives the claim back, and a
//! redelivery is processed again. The inner service must therefore finish
//! the work before it answers; to answer first and work after, use the
//! inbox mode.
//!
//! In inbox mode the delivery is written to the store and answered; the
//! inbox's [`Workers`](crate::once::Workers) process it. The inner service
//! only makes the types fit (any service, e.g. one that answers 404).
//!
//! ```
//! use std::convert::Infallible;
//! use http_body_util::Full;
//! use icr_webhooks::bytes::Bytes;
//! use icr_webhooks::http::{Request, Response};
//! use icr_webhooks::tower::WebhookLayer;
//! use icr_webhooks::{Delivery, Receiver};
//! use tower::{ServiceBuilder, service_fn};
//!
//! async fn handle(request: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     // Verified: the layer answered everything else.
//!     if let Some(delivery) = request.extensions().get::<Delivery>() {
//!         println!("{} {}", delivery.info.id, delivery.event.name());
//!     }
//!     Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
//! }
//!
//! let receiver = Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?;
//! let service = ServiceBuilder::new()
//!     .layer(WebhookLayer::new(receiver))
//!     .service(service_fn(handle));
//! // Serve `service` with hyper-util's `TowerToHyperService`, hand it to
//! // `lambda_http::run`, or nest it in a tower stack.
//! # let _ = service;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Graceful shutdown
//!
//! Stop accepting connections, let the connections in flight finish
//! (hyper-util's `GracefulShutdown`, see the `hyper_receiver` example): a
//! delivery being read or processed is answered, and a claim the layer
//! holds is completed or given back with its answer. Then, in inbox mode,
//! [`Workers::shutdown`](crate::once::Workers::shutdown): the workers
//! finish the jobs they hold and claim no more. `lambda_http` ends each
//! invocation with its answer; nothing is left to stop.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{Either, Full};

use crate::BoxError;
use crate::delivery::Delivery;
use crate::glue::rejection::Answer;
use crate::glue::{self, ALREADY_PROCESSED, Incoming, OnceDelivery};
use crate::once::{ExactlyOnce, Inbox};
use crate::receiver::Receiver;

pub use crate::glue::{
    BodyTimeout, DEFAULT_BODY_TIMEOUT, DeliveryRejection, Enqueued, InboxRejection, OnceRejection,
};
/// The `http-body` crate the layer's bounds name (`B: http_body::Body`).
pub use ::http_body;

/// What the layer does with a request.
#[derive(Clone)]
enum Mode {
    Plain(Receiver),
    Once(Receiver, ExactlyOnce),
    Inbox(Inbox),
}

/// A tower [`Layer`](tower_layer::Layer) that receives ICR deliveries in
/// front of a service: see the [module](self) for its three modes and what
/// the inner service gets.
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub struct WebhookLayer {
    mode: Arc<Mode>,
    timeout: Duration,
}

impl std::fmt::Debug for WebhookLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match *self.mode {
            Mode::Plain(_) => "plain",
            Mode::Once(..) => "exactly_once",
            Mode::Inbox(_) => "inbox",
        };
        f.debug_struct("WebhookLayer")
            .field("mode", &mode)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl WebhookLayer {
    fn with(mode: Mode) -> Self {
        Self {
            mode: Arc::new(mode),
            timeout: DEFAULT_BODY_TIMEOUT,
        }
    }

    /// Plain: every check of `receiver`, then the inner service with the
    /// [`Delivery`] in the request's extensions.
    pub fn new(receiver: Receiver) -> Self {
        Self::with(Mode::Plain(receiver))
    }

    /// Exactly-once: as [`new`](Self::new), then the delivery's GUID is
    /// claimed in `once`; a duplicate processed already is answered
    /// `200 OK` without calling the inner service, and the claim is
    /// completed when the inner service answers 2xx.
    pub fn exactly_once(receiver: Receiver, once: ExactlyOnce) -> Self {
        Self::with(Mode::Once(receiver, once))
    }

    /// Inbox: every check, then the delivery is stored in `inbox` and
    /// answered `202 Accepted` (`200 OK` when stored before, 503 when the
    /// store cannot write); the inner service is not called.
    pub fn inbox(inbox: Inbox) -> Self {
        Self::with(Mode::Inbox(inbox))
    }

    /// How long the body may take to arrive ([`DEFAULT_BODY_TIMEOUT`]
    /// unless set): past it, `408 Request Timeout`.
    #[must_use]
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl<S> tower_layer::Layer<S> for WebhookLayer {
    type Service = WebhookService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WebhookService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`WebhookLayer`] wraps around `S`.
///
/// It takes any `http::Request<B>` whose body is an [`http_body::Body`]
/// and calls `S` with an `http::Request<Full<Bytes>>` (the body as read,
/// and the [`Delivery`] in its extensions). Its responses are `S`'s, or the
/// layer's own plain-text answers: `http::Response<Either<Full<Bytes>,
/// ResBody>>`.
#[derive(Clone, Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub struct WebhookService<S> {
    inner: S,
    layer: WebhookLayer,
}

/// The response body of a [`WebhookService`]: the layer's own answer
/// (`Left`) or the inner service's (`Right`).
pub type ResponseBody<B> = Either<Full<Bytes>, B>;

impl<S, B, ResBody> tower_service::Service<http::Request<B>> for WebhookService<S>
where
    S: tower_service::Service<http::Request<Full<Bytes>>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    ResBody: Send + 'static,
{
    type Response = http::Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The clone that was made ready serves this request.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(serve(layer, inner, request))
    }
}

/// One request through the layer.
async fn serve<S, B, ResBody>(
    layer: WebhookLayer,
    mut inner: S,
    request: http::Request<B>,
) -> Result<http::Response<ResponseBody<ResBody>>, S::Error>
where
    S: tower_service::Service<http::Request<Full<Bytes>>, Response = http::Response<ResBody>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let (parts, body) = request.into_parts();
    let incoming = Incoming {
        headers: &parts.headers,
        body: Box::pin(body),
        timeout: layer.timeout,
        drain: glue::spawn_drain::<Pin<Box<B>>>,
    };
    match &*layer.mode {
        Mode::Plain(receiver) => match glue::receive_request(receiver, incoming).await {
            Ok(delivery) => call(&mut inner, parts, delivery).await.map(right),
            Err(rejection) => Ok(answer(rejection.answer())),
        },
        Mode::Once(receiver, once) => match glue::claim_request(receiver, once, incoming).await {
            Ok(OnceDelivery::New(delivery, claim)) => {
                let response = call(&mut inner, parts, delivery).await?;
                if !response.status().is_success() {
                    // Dropped: given back, processed again when redelivered.
                    drop(claim);
                    return Ok(right(response));
                }
                match claim.complete().await {
                    Ok(()) => Ok(right(response)),
                    // Not recorded as done: let ICR redeliver it.
                    Err(error) => Ok(answer(OnceRejection::StoreUnavailable(error).answer())),
                }
            }
            Ok(OnceDelivery::Done(_)) => Ok(answer(Answer::text(
                http::StatusCode::OK,
                ALREADY_PROCESSED,
            ))),
            Err(rejection) => Ok(answer(rejection.answer())),
        },
        Mode::Inbox(inbox) => Ok(answer(match glue::accept_request(inbox, incoming).await {
            Ok(enqueued) => enqueued.answer(),
            Err(rejection) => rejection.answer(),
        })),
    }
}

/// Calls the inner service with the delivery in the extensions and its
/// body as the request's body.
async fn call<S, ResBody>(
    inner: &mut S,
    parts: http::request::Parts,
    delivery: Delivery,
) -> Result<http::Response<ResBody>, S::Error>
where
    S: tower_service::Service<http::Request<Full<Bytes>>, Response = http::Response<ResBody>>,
{
    let body = Full::new(delivery.info.body.clone());
    let mut request = http::Request::from_parts(parts, body);
    request.extensions_mut().insert(delivery);
    inner.call(request).await
}

fn right<B>(response: http::Response<B>) -> http::Response<ResponseBody<B>> {
    response.map(Either::Right)
}

fn answer<B>(answer: Answer) -> http::Response<ResponseBody<B>> {
    answer
        .into_http()
        .map(|bytes| Either::Left(Full::new(bytes)))
}
