//! The catalogue of events and the [`EventPayload`] trait that ties each
//! generated payload type to its event name and action.

use crate::contract::EventKey;
use crate::types::Event;

/// One event of the catalogue: its name and its actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventSpec {
    /// The `X-ICR-Event` name.
    pub name: &'static str,
    /// Its actions in schema order; empty for an event without actions (`ping`).
    pub actions: &'static [&'static str],
    /// What the event means.
    pub description: &'static str,
}

impl EventSpec {
    /// A catalogue entry (the generated code makes them through
    /// `__private::event_spec`).
    pub(crate) const fn new(
        name: &'static str,
        actions: &'static [&'static str],
        description: &'static str,
    ) -> Self {
        Self {
            name,
            actions,
            description,
        }
    }

    /// The key of each action (`credit_transfer.completed`), or of the bare
    /// event for an event without actions (`ping`).
    pub fn keys(&self) -> Vec<EventKey> {
        if self.actions.is_empty() {
            vec![EventKey::new(self.name, None)]
        } else {
            self.actions
                .iter()
                .map(|action| EventKey::new(self.name, Some(action)))
                .collect()
        }
    }
}

/// A type that is the payload of one event, or of one action of an event.
///
/// Implemented by the generated types: `CreditTransferCompleted` has
/// `EVENT = "credit_transfer"` and `ACTION = Some("completed")`;
/// `CreditTransferEvent` (every action) and `PingEvent` have `ACTION = None`.
/// `E` is the event enum the type belongs to: [`Event`] for this crate's
/// types, another for code generated from other schemas.
pub trait EventPayload<E = Event>: Sized {
    /// The event name.
    const EVENT: &'static str;
    /// The action, or `None` for a type that covers a whole event.
    const ACTION: Option<&'static str>;

    /// Takes the payload out of `event` when it is of this type, or gives the
    /// event back.
    ///
    /// # Errors
    /// The event itself, unchanged, when it holds another type.
    fn from_event(event: E) -> Result<Self, E>;
}

/// Finds an event of the catalogue by name.
pub fn event_spec(name: &str) -> Option<&'static EventSpec> {
    crate::types::CATALOGUE
        .iter()
        .find(|spec| spec.name == name)
}
