//! Why the extractors answer instead of the handler: [`DeliveryRejection`],
//! [`OnceRejection`] and [`InboxRejection`], each with its status, its code
//! and its response.

use std::time::Duration;

use ::axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::error::ReceiveError;
use crate::once::{AcceptError, StoreError};

/// Why the [`Delivery`](crate::Delivery) extractor refused a request.
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
    ///
    /// [`BodyTimeout`]: super::BodyTimeout
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

/// Why the [`OnceDelivery`](super::OnceDelivery) extractor answered
/// instead of the handler. A delivery processed already is not a
/// rejection: it is [`OnceDelivery::Done`](super::OnceDelivery::Done).
///
/// As a response: the status and the message as plain text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
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

impl IntoResponse for OnceRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Refused(rejection) => rejection.into_response(),
            other => (other.status(), other.to_string()).into_response(),
        }
    }
}

/// Why the [`Enqueued`](super::Enqueued) extractor answered instead of
/// the handler.
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
