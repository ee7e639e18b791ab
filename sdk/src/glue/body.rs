//! Reading a request's body, whatever the framework: under the receiver's
//! size limit (refused by its `Content-Length` before a byte is read, and
//! as soon as it grows over the limit while streaming, the rest drained in
//! the background) and within the [`BodyTimeout`].

use std::time::Duration;

use bytes::{Buf, Bytes};
use http_body::Body;
use http_body_util::BodyExt;

use super::rejection::DeliveryRejection;
use crate::BoxError;
use crate::receiver::Receiver;

/// How long the body may take to arrive by default: 10 s, ICR's own wait
/// for an answer.
pub const DEFAULT_BODY_TIMEOUT: Duration = crate::contract::RESPONSE_TIMEOUT;

/// How long the integrations wait for the whole body, from the moment they
/// start reading it; [`DEFAULT_BODY_TIMEOUT`] unless set.
///
/// A body that has not fully arrived by then (sent a byte at a time, or
/// stalled) is dropped, freeing what was read, and the request is answered
/// `408 Request Timeout` with `Connection: close`
/// ([`DeliveryRejection::BodyTimeout`]). It bounds the time and memory one
/// connection can hold a receiver with; ICR itself gives up after 10 s.
///
/// Where it is set: with axum, as a request extension
/// (`.layer(Extension(BodyTimeout(..)))`, as axum's `DefaultBodyLimit`);
/// with actix-web, as app data (`.app_data(BodyTimeout(..))`); with the
/// tower layer, on the layer (`WebhookLayer::body_timeout`).
///
/// ```
/// # #[cfg(feature = "axum")] {
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
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The request line and headers are read by the server before the body:
/// bound them in the server (hyper's `header_read_timeout`, actix-web's
/// `client_request_timeout`) or the proxy in front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BodyTimeout(pub Duration);

impl Default for BodyTimeout {
    fn default() -> Self {
        Self(DEFAULT_BODY_TIMEOUT)
    }
}

/// What the core reads a request from: its headers, its body, how long the
/// body may take, and how the framework drains a refused body in the
/// background (a task of its runtime; `tokio::spawn` needs `Send`, actix-web's
/// `spawn_local` does not).
pub(crate) struct Incoming<'a, B> {
    pub(crate) headers: &'a http::HeaderMap,
    pub(crate) body: B,
    pub(crate) timeout: Duration,
    pub(crate) drain: fn(B),
}

/// The body, read under `receiver`'s size limit and within the timeout.
///
/// # Errors
/// [`DeliveryRejection::Refused`] with `BodyTooLarge` (413) by the
/// `Content-Length` or while streaming; `BodyTimeout` (408); `BodyRead`
/// (400).
pub(crate) async fn read_body<B>(
    incoming: Incoming<'_, B>,
    receiver: &Receiver,
) -> Result<Bytes, DeliveryRejection>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    let Incoming {
        headers,
        body,
        timeout,
        drain,
    } = incoming;
    let declared = content_length(headers);
    if let Some(declared) = declared {
        if let Err(error) = receiver.check_content_length(declared) {
            drain(body);
            return Err(error.into());
        }
    }
    // Past the deadline the reading future, and the body with all that
    // was read, is dropped.
    let read = tokio::time::timeout(timeout, read_limited(body, receiver, declared, drain))
        .await
        .map_err(|_| DeliveryRejection::BodyTimeout { after: timeout })??;
    crate::observe::body_read(read.len());
    Ok(read)
}

/// The `Content-Length` a request declares, when it is a number.
fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
}

/// Reads the whole body, refusing it as soon as it grows over the limit, so
/// that no more than the limit is ever held.
///
/// A body that arrives in one piece is kept as it is. With a
/// `Content-Length` (already checked against the limit) the pieces are
/// copied as they come into one buffer of that size; without one they are
/// held as they came and joined once the body is complete, so a body that
/// turns out too large costs no copies and no reallocation.
async fn read_limited<B>(
    mut body: B,
    receiver: &Receiver,
    declared: Option<u64>,
    drain: fn(B),
) -> Result<Bytes, DeliveryRejection>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    let declared = declared.and_then(|len| usize::try_from(len).ok());
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut joined: Option<Vec<u8>> = None;
    let mut total: usize = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| DeliveryRejection::BodyRead {
            source: error.into(),
        })?;
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        // Zero-copy for `Bytes`, the data of every server's body.
        let chunk = data.copy_to_bytes(data.remaining());
        total = total.saturating_add(chunk.len());
        if let Err(error) = receiver.check_content_length(u64::try_from(total).unwrap_or(u64::MAX))
        {
            drain(body);
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
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Reads what is left of a refused body and throws it away, for at most
/// [`DRAIN_TIME`], while the 413 is answered. An HTTP/1.1 client that is
/// still writing a large body would otherwise have its connection reset
/// when the server closes with unread data, and see the reset instead of
/// the 413. Nothing read is kept, so memory stays flat.
pub(crate) async fn drain<B: Body + Unpin>(mut body: B) {
    let drain = async { while let Some(Ok(_)) = body.frame().await {} };
    // Past the deadline the body is dropped and the connection closes.
    let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
}

/// [`drain`] on a task of the current tokio runtime (none: dropped).
#[cfg(any(feature = "axum", feature = "tower"))]
pub(crate) fn spawn_drain<B>(body: B)
where
    B: Body + Unpin + Send + 'static,
    B::Data: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::spawn(drain(body));
    }
}

/// Copies the pieces into one buffer, letting each go once copied.
fn join(pieces: impl Iterator<Item = Bytes>, capacity: usize) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(capacity);
    for piece in pieces {
        buffer.extend_from_slice(&piece);
    }
    buffer
}
