//! Recording each request into the history without changing it: the body
//! is copied as the SDK's extractor reads it (so its size limit and body
//! timeout behave as without a history), and once the handler has answered,
//! the request, its answer and the reason the handler gave are queued for
//! the history's writer. Nothing here waits for the history.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use hyper::body::{Body as _, Frame, SizeHint};

use crate::history::{Forwarded, Received, Recorder};

/// Why the handler answered as it did, set on the response for the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Reason(pub(super) &'static str);

/// Sets the reason on a response.
pub(super) fn with_reason(mut response: Response, reason: &'static str) -> Response {
    response.extensions_mut().insert(Reason(reason));
    response
}

/// What the recorder needs: the queue and how much of a body to keep.
#[derive(Clone)]
pub(super) struct Recording {
    pub(super) recorder: Recorder,
    /// Bytes of a body kept at most (the receiver's limit).
    pub(super) limit: usize,
}

/// The middleware: copy the body as it is read, then queue the request.
pub(super) async fn record(
    State(recording): State<Recording>,
    request: Request,
    next: Next,
) -> Response {
    let at = SystemTime::now();
    let (parts, body) = request.into_parts();
    let headers = parts.headers.clone();
    let path = parts.uri.path().to_owned();
    let tap = Arc::new(Mutex::new(Tap {
        bytes: BytesMut::new(),
        complete: body.is_end_stream(),
    }));
    let body = Body::new(Tee {
        inner: body,
        tap: Arc::clone(&tap),
        limit: recording.limit,
    });
    let response = next.run(Request::from_parts(parts, body)).await;
    let (body, complete) = {
        let mut tap = tap.lock().unwrap_or_else(PoisonError::into_inner);
        (std::mem::take(&mut tap.bytes).freeze(), tap.complete)
    };
    let reason = response
        .extensions()
        .get::<Reason>()
        .map_or("answered", |reason| reason.0);
    recording.recorder.record(Received {
        path,
        headers,
        body,
        body_complete: complete,
        at,
        status: response.status().as_u16(),
        reason: reason.to_owned(),
        forward: response.extensions().get::<Forwarded>().cloned(),
    });
    response
}

/// What was read of a body.
struct Tap {
    bytes: BytesMut,
    complete: bool,
}

/// A body that copies its data frames into a [`Tap`], up to `limit` bytes.
struct Tee {
    inner: Body,
    tap: Arc<Mutex<Tap>>,
    limit: usize,
}

impl hyper::body::Body for Tee {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        let mut tap = this.tap.lock().unwrap_or_else(PoisonError::into_inner);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let room = this.limit.saturating_sub(tap.bytes.len());
                    tap.bytes
                        .extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
                }
                if this.inner.is_end_stream() {
                    tap.complete = true;
                }
            }
            Poll::Ready(None) => tap.complete = true,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
