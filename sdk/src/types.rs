//! The payload types: [`Event`], one variant per event of the catalogue
//! (and one per action, for events with actions), the structs and unions
//! of the payloads, and the string enums, all generated from the JSON
//! Schemas in `schema/` into `src/generated/` (run `cargo codegen` after a
//! schema changes); and what every generated type shares: the string type
//! `S` they are generic over ([`CompactString`] owned, [`Text<'a>`] borrowed),
//! [`IntoOwned`], and the catalogue ([`EventSpec`], [`EventPayload`]).

#[rustfmt::skip]
#[path = "generated/mod.rs"]
#[allow(clippy::all)]
mod generated;

pub use self::generated::*;
pub use crate::runtime::{IntoOwned, Text};
/// The string type of the owned payload fields: a `String` that keeps up
/// to 24 bytes inline, so most identifiers, codes and serial numbers in a
/// payload cost no allocation. It derefs to `str`, compares with `&str` and
/// converts from and into `String`.
pub use compact_str::CompactString;

use crate::contract::EventKey;

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
    CATALOGUE.iter().find(|spec| spec.name == name)
}
