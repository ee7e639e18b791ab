//! The axum integration (feature `axum`): [`Delivery`] as an extractor that
//! reads the body under the receiver's limit and checks it, and
//! [`DeliveryRejection`], which answers with the right status.

use ::axum::body::Body;
use ::axum::extract::{FromRef, FromRequest, Request};
use ::axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use http_body_util::BodyExt;

use crate::{Delivery, ReceiveError, Receiver};

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
}

impl DeliveryRejection {
    /// The status the rejection answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Refused(error) => error.status(),
            Self::BodyRead { .. } => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for DeliveryRejection {
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
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
/// The extractor consumes the body, so it must be the handler's **last**
/// argument.
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
        let receiver = Receiver::from_ref(state);
        let (parts, body) = request.into_parts();
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
        let body = read_limited(body, &receiver, declared).await?;
        Ok(receiver.receive(&parts.headers, body)?)
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
    }
}
