//! actix-web's payload as an `http_body::Body`, for the core's reader, and
//! the drain of a refused one on the worker's own thread.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use bytes::Bytes;
use futures_core::Stream;
use http_body::{Body, Frame};

/// A request's payload, read frame by frame.
pub(crate) struct PayloadBody(Payload);

impl PayloadBody {
    pub(crate) fn new(payload: Payload) -> Self {
        Self(payload)
    }
}

impl Body for PayloadBody {
    type Data = Bytes;
    type Error = actix_web::error::PayloadError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.0)
            .poll_next(cx)
            .map(|chunk| chunk.map(|chunk| chunk.map(Frame::data)))
    }
}

/// Drains a refused payload on a task of the worker's thread (the payload
/// is not `Send`), so that the client reads the 413 rather than a reset.
pub(crate) fn spawn_local_drain(body: PayloadBody) {
    actix_web::rt::spawn(crate::glue::drain(body));
}
