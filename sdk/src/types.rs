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
pub use crate::catalogue::{EventPayload, EventSpec, event_spec};
pub use crate::runtime::{IntoOwned, Text};
/// The string type of the owned payload fields: a `String` that keeps up
/// to 24 bytes inline, so most identifiers, codes and serial numbers in a
/// payload cost no allocation. It derefs to `str`, compares with `&str` and
/// converts from and into `String`.
pub use compact_str::CompactString;
