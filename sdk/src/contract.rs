//! The facts of the ICR webhook contract that the SDK and the harness share:
//! the header names, the largest body, how long ICR waits for an answer, how
//! long it may redeliver, and [`EventKey`], an event with its action.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The names of the headers of a delivery, as the contract spells them.
///
/// Header names are case-insensitive; these work as keys of an
/// [`http::HeaderMap`] as they are.
pub mod header {
    /// The event name, e.g. `credit_transfer`.
    pub const EVENT: &str = "X-ICR-Event";
    /// The delivery's GUID, the same for a redelivery.
    pub const DELIVERY: &str = "X-ICR-Delivery";
    /// The webhook's numeric ID.
    pub const HOOK_ID: &str = "X-ICR-Hook-ID";
    /// What the webhook belongs to: `integration`.
    pub const INSTALLATION_TARGET_TYPE: &str = "X-ICR-Hook-Installation-Target-Type";
    /// The ICR App's numeric ID.
    pub const INSTALLATION_TARGET_ID: &str = "X-ICR-Hook-Installation-Target-ID";
    /// `sha256=` and the HMAC-SHA256 of the body, in hex.
    pub const SIGNATURE_256: &str = "X-ICR-Signature-256";
    /// `application/json` or `application/x-www-form-urlencoded`.
    pub const CONTENT_TYPE: &str = "Content-Type";
}

/// The largest body ICR sends: 25 MiB. The receiver's default limit.
pub const MAX_BODY_SIZE: u64 = 25 * 1024 * 1024;

/// How long ICR waits for an answer before it counts the delivery as
/// failed: 10 s.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long after a delivery ICR may redeliver it (by hand, with the same
/// GUID): 3 days.
pub const REDELIVERY_WINDOW: Duration = Duration::from_secs(3 * 24 * 60 * 60);

/// An event name and, for an event with actions, one action: written
/// `credit_transfer.completed`, or `ping` for an event without actions.
///
/// ```
/// use icr_webhooks::contract::EventKey;
///
/// let key: EventKey = "credit_transfer.completed".parse()?;
/// assert_eq!((key.event(), key.action()), ("credit_transfer", Some("completed")));
/// assert_eq!(key.to_string(), "credit_transfer.completed");
/// assert_eq!(EventKey::new("ping", None).to_string(), "ping");
/// # Ok::<(), icr_webhooks::contract::EventKeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventKey {
    event: String,
    action: Option<String>,
}

impl EventKey {
    /// The key of `event` with `action`.
    pub fn new(event: impl Into<String>, action: Option<&str>) -> Self {
        Self {
            event: event.into(),
            action: action.map(str::to_owned),
        }
    }

    /// The event name (`credit_transfer`).
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The action (`completed`), for an event with actions.
    pub fn action(&self) -> Option<&str> {
        self.action.as_deref()
    }

    /// The key of `event` and `action` as text, without building an
    /// `EventKey` (`credit_transfer.completed`, `ping`).
    pub fn join(event: &str, action: Option<&str>) -> String {
        Joined(event, action).to_string()
    }
}

/// An event and action written as a key.
pub(crate) struct Joined<'a>(pub(crate) &'a str, pub(crate) Option<&'a str>);

impl fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(action) => write!(f, "{}.{action}", self.0),
            None => f.write_str(self.0),
        }
    }
}

impl fmt::Display for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Joined(&self.event, self.action.as_deref()).fmt(f)
    }
}

/// A string that is not an [`EventKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventKeyError {
    /// The event name or the action is empty (``, `.completed`,
    /// `credit_transfer.`).
    #[error("an event key is `event` or `event.action`, neither part empty")]
    Empty,
    /// More than one `.`.
    #[error("an event key has at most one `.`")]
    TooManyParts,
}

impl FromStr for EventKey {
    type Err = EventKeyError;

    fn from_str(key: &str) -> Result<Self, EventKeyError> {
        let (event, action) = match key.split_once('.') {
            Some((event, action)) => (event, Some(action)),
            None => (key, None),
        };
        if event.is_empty() || action.is_some_and(str::is_empty) {
            return Err(EventKeyError::Empty);
        }
        if action.is_some_and(|action| action.contains('.')) {
            return Err(EventKeyError::TooManyParts);
        }
        Ok(Self::new(event, action))
    }
}

#[cfg(test)]
mod tests {
    use super::{EventKey, EventKeyError, MAX_BODY_SIZE};

    #[track_caller]
    fn check(text: &str, expected: Result<(&str, Option<&str>), EventKeyError>) {
        let parsed: Result<EventKey, _> = text.parse();
        assert_eq!(
            parsed,
            expected.map(|(event, action)| EventKey::new(event, action)),
            "{text}"
        );
        if let Ok(key) = text.parse::<EventKey>() {
            assert_eq!(key.to_string(), text);
            assert_eq!(EventKey::join(key.event(), key.action()), text);
        }
    }

    #[test]
    fn keys_parse_and_print_back() {
        check(
            "credit_transfer.completed",
            Ok(("credit_transfer", Some("completed"))),
        );
        check("ping", Ok(("ping", None)));
        check("", Err(EventKeyError::Empty));
        check(".completed", Err(EventKeyError::Empty));
        check("credit_transfer.", Err(EventKeyError::Empty));
        check("a.b.c", Err(EventKeyError::TooManyParts));
    }

    #[test]
    fn the_body_limit_is_25_mib() {
        assert_eq!(MAX_BODY_SIZE, 26_214_400);
    }

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<EventKeyError>();
    }
}
