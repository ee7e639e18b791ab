//! Reading a request's body for the extractors: under the receiver's size
//! limit (refused as soon as it grows over it, the rest drained in the
//! background) and within the [`BodyTimeout`].

use std::time::Duration;

use ::axum::body::Body;
use ::axum::extract::Request;
use bytes::Bytes;
use http_body_util::BodyExt;

use super::{DeliveryRejection, ReceiverState};
use crate::receiver::Receiver;

/// How long the body may take to arrive by default: 10 s, ICR's own wait
/// for an answer.
pub const DEFAULT_BODY_TIMEOUT: Duration = crate::contract::RESPONSE_TIMEOUT;

/// How long the [`Delivery`], [`DeliveryInfo`] and [`OnceDelivery`] extractors wait for the whole
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
/// use icr_webhooks::{Delivery, Receiver};
/// use icr_webhooks::axum::BodyTimeout;
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
///
/// [`Delivery`]: crate::Delivery
/// [`DeliveryInfo`]: crate::receive::DeliveryInfo
/// [`OnceDelivery`]: super::OnceDelivery
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub struct BodyTimeout(pub Duration);

impl Default for BodyTimeout {
    fn default() -> Self {
        Self(DEFAULT_BODY_TIMEOUT)
    }
}

/// The receiver from the state, the headers and the body, read under the
/// size limit and within the [`BodyTimeout`].
pub(super) async fn read_request<S: ReceiverState>(
    request: Request,
    state: &S,
) -> Result<(&Receiver, http::HeaderMap, Bytes), DeliveryRejection> {
    let receiver = state.receiver();
    let (headers, body) = read_with(request, receiver).await?;
    Ok((receiver, headers, body))
}

/// The headers and the body, read under `receiver`'s size limit and within
/// the [`BodyTimeout`].
pub(super) async fn read_with(
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
        if let Err(error) = receiver.check_content_length(declared) {
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
        if let Err(error) = receiver.check_content_length(u64::try_from(total).unwrap_or(u64::MAX))
        {
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
