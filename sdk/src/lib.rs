//! Receive ICR webhooks with real types.
#![deny(missing_docs)]

extern crate self as icr_webhooks;

mod catalogue;
mod parse;
#[doc(hidden)]
pub mod __private {
    //! Support for the generated code; not part of the API.
    pub use crate::private::*;
}
mod private;

#[path = "generated/mod.rs"]
#[allow(clippy::all)]
pub mod types;

pub use catalogue::{EventPayload, EventSpec, event_spec};
pub use chrono;
pub use parse::ParseError;
pub use serde_json;
pub use types::Event;
