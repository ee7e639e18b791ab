//! Why a delivery was refused ([`ReceiveError`], each with its HTTP status)
//! and why a [`Receiver`](crate::Receiver) could not be configured
//! ([`ConfigError`]).

use http::StatusCode;

use crate::contract::header;
use crate::parse::ParseError;

/// Why a delivery was refused.
///
/// Each variant knows the status a receiver answers with
/// ([`status`](Self::status)) and a short stable name for logs and metrics
/// ([`code`](Self::code)). Messages never contain a secret, a signature or
/// the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The body is larger than the receiver's limit, by its `Content-Length`
    /// or by what was read (413).
    #[error("body larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// A required header is absent or empty: `X-ICR-Signature-256` when a
    /// secret is configured (401), `X-ICR-Event` or `X-ICR-Delivery` (400).
    /// A missing `Content-Type` is [`ReceiveError::UnsupportedContentType`].
    #[error("missing `{header}` header")]
    MissingHeader {
        /// The header's name, one of the constants of [`header`].
        header: &'static str,
    },
    /// `X-ICR-Signature-256` is not `sha256=` and 64 hex digits, or is
    /// repeated (401).
    #[error("malformed `X-ICR-Signature-256` header: expected `sha256=` and 64 hex digits")]
    MalformedSignature,
    /// `X-ICR-Signature-256` matches none of the configured secrets: the
    /// body was changed, or the delivery was not signed by ICR with a secret
    /// this receiver knows (401).
    #[error("signature does not match the body with any configured secret")]
    SignatureMismatch,
    /// `Content-Type` is missing, repeated or neither `application/json` nor
    /// `application/x-www-form-urlencoded` (415).
    #[error(
        "unsupported content type{}: expected `application/json` or `application/x-www-form-urlencoded`",
        media_type.as_deref().map(|media| format!(" `{media}`")).unwrap_or_default()
    )]
    UnsupportedContentType {
        /// The media type received, lowercased and without parameters, when
        /// there was one that is short and printable.
        media_type: Option<String>,
    },
    /// A header is present but unusable: `X-ICR-Event` that is not UTF-8, or
    /// `X-ICR-Event` or `X-ICR-Delivery` given more than once (400).
    #[error("invalid `{header}` header")]
    InvalidHeader {
        /// The header's name, one of the constants of [`header`].
        header: &'static str,
    },
    /// `X-ICR-Delivery` is not a hyphenated UUID (400).
    #[error("malformed `X-ICR-Delivery` header: expected a hyphenated UUID")]
    MalformedDeliveryId,
    /// A form body has no `payload` field (400).
    #[error("form body without a `payload` field")]
    MissingPayloadField,
    /// A form body has more than one `payload` field (400).
    #[error("form body with more than one `payload` field")]
    RepeatedPayloadField,
    /// The payload is not well-formed UTF-8 JSON, or not a JSON object (400).
    #[error("malformed JSON payload")]
    MalformedJson {
        /// Where and why parsing stopped.
        #[source]
        source: Box<ParseError>,
    },
    /// The payload of a known event and action does not fit its type: a
    /// required field is missing, a value has the wrong type, … (400).
    /// The event, action and JSON path are the source's
    /// ([`ParseError::event`], [`ParseError::action`], [`ParseError::path`]).
    #[error("{}", source.place())]
    UnexpectedShape {
        /// The parse error ([`ParseError::Shape`]): event, action, path and
        /// serde's reason.
        #[source]
        source: Box<ParseError>,
    },
}

impl ReceiveError {
    /// The HTTP status a receiver answers with: 401 for signature problems,
    /// 413 for a body too large, 415 for an unsupported content type, 400
    /// for the rest.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MissingHeader { header } if *header == header::SIGNATURE_256 => {
                StatusCode::UNAUTHORIZED
            }
            Self::MalformedSignature | Self::SignatureMismatch => StatusCode::UNAUTHORIZED,
            Self::UnsupportedContentType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MissingHeader { .. }
            | Self::InvalidHeader { .. }
            | Self::MalformedDeliveryId
            | Self::MissingPayloadField
            | Self::RepeatedPayloadField
            | Self::MalformedJson { .. }
            | Self::UnexpectedShape { .. } => StatusCode::BAD_REQUEST,
        }
    }

    /// A short stable name for the variant, in `snake_case`, for logs and
    /// metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::MissingHeader { .. } => "missing_header",
            Self::MalformedSignature => "malformed_signature",
            Self::SignatureMismatch => "signature_mismatch",
            Self::UnsupportedContentType { .. } => "unsupported_content_type",
            Self::InvalidHeader { .. } => "invalid_header",
            Self::MalformedDeliveryId => "malformed_delivery_id",
            Self::MissingPayloadField => "missing_payload_field",
            Self::RepeatedPayloadField => "repeated_payload_field",
            Self::MalformedJson { .. } => "malformed_json",
            Self::UnexpectedShape { .. } => "unexpected_shape",
        }
    }
}

impl From<crate::secret::SignatureError> for ReceiveError {
    fn from(_: crate::secret::SignatureError) -> Self {
        Self::MalformedSignature
    }
}

impl From<crate::headers::DeliveryIdError> for ReceiveError {
    fn from(_: crate::headers::DeliveryIdError) -> Self {
        Self::MalformedDeliveryId
    }
}

impl From<ParseError> for ReceiveError {
    fn from(error: ParseError) -> Self {
        match error {
            ParseError::Shape { .. } => Self::UnexpectedShape {
                source: Box::new(error),
            },
            other => Self::MalformedJson {
                source: Box::new(other),
            },
        }
    }
}

/// Why a [`Receiver`](crate::Receiver) could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No secret was given and unsigned deliveries were not accepted
    /// explicitly with [`accept_unsigned`](crate::receiver::ReceiverBuilder::accept_unsigned).
    #[error("no webhook secret configured, and unsigned deliveries were not accepted explicitly")]
    NoSecret,
    /// A secret is the empty string, which ICR treats as no secret: anyone
    /// could sign with it.
    #[error("empty webhook secret")]
    EmptySecret,
    /// Secrets were given and unsigned deliveries accepted as well: a
    /// receiver either checks signatures or does not.
    #[error("webhook secrets configured together with accepting unsigned deliveries")]
    SecretAndUnsigned,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_send_sync_static() {
        fn check<T: Send + Sync + 'static + std::error::Error>() {}
        check::<ReceiveError>();
        check::<ConfigError>();
    }

    #[test]
    fn messages_are_lowercase_without_period() {
        let errors = [
            ReceiveError::BodyTooLarge { limit: 10 },
            ReceiveError::MissingHeader {
                header: header::EVENT,
            },
            ReceiveError::MalformedSignature,
            ReceiveError::SignatureMismatch,
            ReceiveError::UnsupportedContentType { media_type: None },
            ReceiveError::UnsupportedContentType {
                media_type: Some("text/plain".into()),
            },
            ReceiveError::InvalidHeader {
                header: header::EVENT,
            },
            ReceiveError::MalformedDeliveryId,
            ReceiveError::MissingPayloadField,
            ReceiveError::RepeatedPayloadField,
            ReceiveError::from(ParseError::NotAnObject),
            ReceiveError::from(ParseError::Shape {
                event: "ping".into(),
                action: None,
                path: "hook".into(),
                reason: "missing field `id`".into(),
            }),
        ];
        for error in errors {
            let text = error.to_string();
            let first = text.chars().next().unwrap();
            assert!(first.is_lowercase(), "{text}");
            assert!(!text.ends_with('.'), "{text}");
            assert!(!error.code().is_empty());
        }
        let config = [
            ConfigError::NoSecret,
            ConfigError::EmptySecret,
            ConfigError::SecretAndUnsigned,
        ];
        for error in config {
            let text = error.to_string();
            assert!(text.chars().next().unwrap().is_lowercase(), "{text}");
        }
    }

    #[test]
    fn statuses() {
        let cases = [
            (ReceiveError::BodyTooLarge { limit: 1 }, 413),
            (
                ReceiveError::MissingHeader {
                    header: header::SIGNATURE_256,
                },
                401,
            ),
            (
                ReceiveError::MissingHeader {
                    header: header::EVENT,
                },
                400,
            ),
            (
                ReceiveError::MissingHeader {
                    header: header::DELIVERY,
                },
                400,
            ),
            (ReceiveError::MalformedSignature, 401),
            (ReceiveError::SignatureMismatch, 401),
            (
                ReceiveError::UnsupportedContentType { media_type: None },
                415,
            ),
            (
                ReceiveError::InvalidHeader {
                    header: header::EVENT,
                },
                400,
            ),
            (ReceiveError::MalformedDeliveryId, 400),
            (ReceiveError::MissingPayloadField, 400),
            (ReceiveError::RepeatedPayloadField, 400),
            (ReceiveError::from(ParseError::NotAnObject), 400),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
        }
    }

    #[test]
    fn parse_errors_map_to_their_variants() {
        let shape = ParseError::Shape {
            event: "credit_transfer".into(),
            action: Some("completed".into()),
            path: "transfer.quantity".into(),
            reason: "invalid type".into(),
        };
        let error = ReceiveError::from(shape.clone());
        assert_eq!(
            error,
            ReceiveError::UnexpectedShape {
                source: Box::new(shape),
            }
        );
        assert_eq!(
            error.to_string(),
            "credit_transfer.completed payload does not fit its type at `transfer.quantity`"
        );
        let malformed = ParseError::Malformed {
            line: 1,
            column: 2,
            reason: "EOF while parsing".into(),
        };
        assert_eq!(
            ReceiveError::from(malformed.clone()),
            ReceiveError::MalformedJson {
                source: Box::new(malformed)
            }
        );
    }
}
