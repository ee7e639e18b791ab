//! What a recorded request was, worked out after it was answered (never on
//! the request's path): the signature check, the typed result with its Rust
//! variant, or the error with its JSON path.

use icr_webhooks::drift::Drift;
use icr_webhooks::http::HeaderMap;
use icr_webhooks::{Event, ReceiveError, Receiver};
use serde::Serialize;

/// The result of running the SDK's checks over a recorded request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Analysis {
    /// `verified`, or the code of the signature or size check that failed.
    pub(crate) verification: String,
    /// The event, from the payload or the `X-ICR-Event` header.
    pub(crate) event: Option<String>,
    /// The action, when the payload has one and it could be read.
    pub(crate) action: Option<String>,
    /// The Rust variant, as in `Event::CreditTransfer(CreditTransferEvent::Completed)`.
    pub(crate) variant: Option<String>,
    /// The typed payload, `{:#?}`.
    pub(crate) typed: Option<String>,
    /// Why it could not be received.
    pub(crate) error: Option<Failure>,
    /// What the payload holds that the types do not know, for a delivery
    /// whose signature holds and whose payload is a JSON object.
    pub(crate) drift: Option<Drift>,
}

/// A check that failed, without any value of the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The error's stable code (`signature_mismatch`, `unexpected_shape`, …).
    pub code: String,
    /// The error's message, the SDK's (it names no value of the body).
    pub message: String,
    /// The JSON path of a payload that does not fit its type.
    pub path: Option<String>,
}

/// Runs the receiver's checks over a recorded request.
pub(crate) fn analyze(receiver: &Receiver, headers: &HeaderMap, body: &[u8]) -> Analysis {
    let header_event = headers
        .get(icr_webhooks::contract::header::EVENT)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .map(str::to_owned);
    let verification = match receiver.verify_size_and_signature(headers, body) {
        Ok(()) => "verified".to_owned(),
        Err(error) => error.code().to_owned(),
    };
    match receiver.receive(headers, body.to_vec()) {
        Ok(delivery) => Analysis {
            verification,
            event: Some(delivery.event.name().to_owned()),
            action: delivery.event.action().map(str::to_owned),
            variant: Some(variant(&delivery.event)),
            typed: Some(format!("{:#?}", delivery.event)),
            error: None,
            drift: Drift::of(&delivery.info.event_name, &delivery.info.payload).ok(),
        },
        Err(error) => {
            let source = match &error {
                ReceiveError::UnexpectedShape { source } => Some(source),
                _ => None,
            };
            // A payload that does not fit its type is where drift matters
            // most: the checks but the typed parse give it.
            let drift = source.and_then(|_| {
                let info = receiver.receive_unparsed(headers, body.to_vec()).ok()?;
                Drift::of(&info.event_name, &info.payload).ok()
            });
            Analysis {
                verification,
                drift,
                event: source
                    .and_then(|source| source.event().map(str::to_owned))
                    .or(header_event),
                action: source.and_then(|source| source.action().map(str::to_owned)),
                variant: None,
                typed: None,
                error: Some(Failure {
                    code: error.code().to_owned(),
                    message: match source {
                        Some(source) => source.to_string(),
                        None => error.to_string(),
                    },
                    path: source.and_then(|source| source.path().map(str::to_owned)),
                }),
            }
        }
    }
}

/// The Rust variant of an event: `Event::Ping`,
/// `Event::CreditTransfer(CreditTransferEvent::Completed)`,
/// `Event::CreditTransfer(CreditTransferEvent::Unknown)` or `Event::Unknown`.
fn variant(event: &Event) -> String {
    if let Event::Unknown { .. } = event {
        return "Event::Unknown".to_owned();
    }
    let outer = pascal(event.name());
    match (event.action(), event.is_known()) {
        (None, _) => format!("Event::{outer}"),
        (Some(action), true) => format!("Event::{outer}({outer}Event::{})", pascal(action)),
        (Some(_), false) => format!("Event::{outer}({outer}Event::Unknown)"),
    }
}

/// `credit_transfer` as `CreditTransfer`.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_named_as_in_rust() {
        let body = include_bytes!("../../../schema/examples/credit_transfer.completed.json");
        let event = Event::from_slice("credit_transfer", body).unwrap();
        assert_eq!(
            variant(&event),
            "Event::CreditTransfer(CreditTransferEvent::Completed)"
        );
        assert_eq!(pascal("new_permissions_accepted"), "NewPermissionsAccepted");
        let unknown = Event::from_slice("credit_transfer", br#"{"action":"teleported"}"#).unwrap();
        assert_eq!(
            variant(&unknown),
            "Event::CreditTransfer(CreditTransferEvent::Unknown)"
        );
        let other = Event::from_slice("weather", b"{}").unwrap();
        assert_eq!(variant(&other), "Event::Unknown");
    }
}
