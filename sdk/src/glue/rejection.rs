//! Why an integration answers instead of the handler: [`DeliveryRejection`],
//! [`OnceRejection`] and [`InboxRejection`], each with its status, its code
//! and its [`Answer`], which every framework's response is made from.

use std::time::Duration;

use http::StatusCode;

use crate::error::ReceiveError;
use crate::once::{AcceptError, StoreError};

/// Why an integration (the [`Delivery`](crate::Delivery) extractor of
/// axum or actix-web, the tower layer) refused a request.
///
/// As a response: the status of the error and its message as plain text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    ///
    /// [`BodyTimeout`]: super::BodyTimeout
    #[error("request body not received within {} ms", after.as_millis())]
    BodyTimeout {
        /// The time limit that passed.
        after: Duration,
    },
    /// The app does not hold what the extractor needs (actix-web, whose
    /// extractors find their state in the app data at run time): a
    /// mistake in the app's setup, answered 500.
    #[error("the app has no {needs} for the webhook extractor")]
    MissingState {
        /// The app data that would do.
        needs: &'static str,
    },
}

impl DeliveryRejection {
    /// The status the rejection answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Refused(error) => error.status(),
            Self::BodyRead { .. } => StatusCode::BAD_REQUEST,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::MissingState { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short stable name for the rejection, in `snake_case`, for logs and
    /// metrics: the [`ReceiveError::code`] of a refused delivery,
    /// `body_read`, `body_timeout` or `missing_state`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused(error) => error.code(),
            Self::BodyRead { .. } => "body_read",
            Self::BodyTimeout { .. } => "body_timeout",
            Self::MissingState { .. } => "missing_state",
        }
    }
}

impl DeliveryRejection {
    /// The answer: the status and the message as plain text, and
    /// `Connection: close` for a body that timed out.
    pub(crate) fn answer(&self) -> Answer {
        Answer {
            status: self.status(),
            text: self.to_string(),
            // The rest of the body is never read: the connection cannot
            // be used for another request.
            close: matches!(self, Self::BodyTimeout { .. }),
        }
    }
}

/// Why exactly-once processing (the [`OnceDelivery`](super::OnceDelivery)
/// extractor, the tower layer's exactly-once mode) answered instead of the
/// handler. A delivery processed already is not a
/// rejection: it is [`OnceDelivery::Done`](super::OnceDelivery::Done).
///
/// As a response: the status and the message as plain text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnceRejection {
    /// The delivery itself was refused: see [`DeliveryRejection`].
    #[error(transparent)]
    Refused(#[from] DeliveryRejection),
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
            Self::InProgress => StatusCode::CONFLICT,
            Self::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A short stable name, in `snake_case`, for logs and metrics: the
    /// [`DeliveryRejection::code`], `in_progress` or
    /// `store_unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused(rejection) => rejection.code(),
            Self::InProgress => "in_progress",
            Self::StoreUnavailable(_) => "store_unavailable",
        }
    }
}

impl OnceRejection {
    /// The answer: the status and the message as plain text.
    pub(crate) fn answer(&self) -> Answer {
        match self {
            Self::Refused(rejection) => rejection.answer(),
            other => Answer::text(other.status(), other.to_string()),
        }
    }
}

/// Why the inbox (the [`Enqueued`](super::Enqueued) extractor, the tower
/// layer's inbox mode) answered instead of the handler.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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

impl InboxRejection {
    /// The answer: the status and the message as plain text.
    pub(crate) fn answer(&self) -> Answer {
        match self {
            Self::Read(rejection) => rejection.answer(),
            Self::Accept(error) => Answer::text(error.status(), error.to_string()),
        }
    }
}

/// What an integration answers, whatever its framework: a status, a plain
/// text body (`text/plain; charset=utf-8`), and whether to close the
/// connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) text: String,
    pub(crate) close: bool,
}

impl Answer {
    /// `status` with `text`, the connection kept.
    pub(crate) fn text(status: StatusCode, text: impl Into<String>) -> Self {
        Self {
            status,
            text: text.into(),
            close: false,
        }
    }

    /// The answer as an `http` response of bytes, for tower and hyper.
    #[cfg(feature = "tower")]
    pub(crate) fn into_http(self) -> http::Response<bytes::Bytes> {
        let mut response = http::Response::new(bytes::Bytes::from(self.text));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(TEXT_PLAIN),
        );
        if self.close {
            headers.insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

/// The content type of every answer, as axum writes it for a `String`.
#[cfg(any(feature = "tower", feature = "actix"))]
pub(crate) const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
