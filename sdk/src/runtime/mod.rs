//! The runtime of the generated payload model, one file per job: what every
//! generated type shares ([`Text`], [`IntoOwned`], the `open_enum!` and
//! `event_payload!` macros) and what the generated code calls to parse and
//! serialize (reached through `::icr_webhooks::__private`, not part of the
//! API).

mod explain;
mod fields;
pub(crate) mod macros;
mod owned;
mod parse;
mod probe;
mod serialize;
mod tagged;
mod text;

pub use self::owned::IntoOwned;
pub use self::text::Text;

/// What the generated code calls; re-exported as `__private`.
pub(crate) mod support {
    pub use super::fields::{
        absent, deserialize_open_enum, present, present_nullable, rfc3339, rfc3339_opt,
        rfc3339_present, rfc3339_present_nullable,
    };
    pub use super::parse::{parse, parse_object, parse_tagged};
    pub use super::serialize::serialize_tagged;
    pub use super::tagged::{TaggedUnion, deserialize_tagged};
}
