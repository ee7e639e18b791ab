//! The model: what each bundled schema becomes in Rust. Objects go to typify
//! (through a simplified "view" of their schema); string enums and tagged
//! `oneOf`s are owned here, because typify makes the first closed and the
//! second an untagged enum that misroutes payloads. Inline objects and enums
//! are hoisted into named items with deterministic names, so typify never
//! invents (or silently merges) a name.

mod enums;
mod objects;
mod schema;
mod unions;

use std::collections::BTreeMap;

use serde_json::Value;

use self::schema::{At, description, is_object};
use crate::bundle::Bundle;
use crate::error::{CodegenError, Result};
use crate::names::pascal;

/// A string enumeration, open at run time.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenEnum {
    /// Rust name.
    pub name: String,
    /// Doc comment.
    pub doc: Option<String>,
    /// The known values, in schema order.
    pub values: Vec<String>,
    /// Their variant names: from `x-enum-varnames` when the schema gives
    /// them (`"0"` reads better as `Verify` than as `V0`), else the value
    /// in PascalCase.
    pub idents: Vec<String>,
}

/// One branch of a tagged union.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The tag's value (`completed`).
    pub value: String,
    /// The variant's identifier (`Completed`).
    pub ident: String,
    /// The struct holding the branch's other fields.
    pub payload: String,
    /// Doc comment.
    pub doc: Option<String>,
}

/// A `oneOf` whose branches are told apart by a `const` property.
#[derive(Debug, Clone, PartialEq)]
pub struct Union {
    /// Rust name.
    pub name: String,
    /// Doc comment.
    pub doc: Option<String>,
    /// The discriminating property (`action`, `kind`).
    pub tag: String,
    /// The branches, in schema order.
    pub variants: Vec<Variant>,
    /// Whether variants hold their struct in a `Box` (event payloads).
    pub boxed: bool,
    /// The event this union is the payload of, if any.
    pub event: Option<String>,
}

/// An object schema handed to typify.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    /// Rust name.
    pub name: String,
    /// The simplified schema typify sees.
    pub view: Value,
}

/// An event of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Wire name (`credit_transfer`).
    pub name: String,
    /// Variant of `Event` (`CreditTransfer`).
    pub ident: String,
    /// The payload type (`CreditTransferEvent`).
    pub payload: String,
    /// Whether the payload is a union of actions.
    pub has_actions: bool,
    /// Doc comment.
    pub doc: Option<String>,
}

/// Everything to generate.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Objects for typify, by name.
    pub structs: BTreeMap<String, Struct>,
    /// Open string enums, by name.
    pub enums: BTreeMap<String, OpenEnum>,
    /// Tagged unions, by name.
    pub unions: BTreeMap<String, Union>,
    /// The events, sorted by name.
    pub events: Vec<Event>,
    /// Where each Rust name comes from (`file#pointer`).
    pub origins: BTreeMap<String, String>,
}

impl Model {
    /// Builds the model of a bundle.
    ///
    /// # Errors
    /// An unsupported schema shape or a name produced twice.
    pub fn build(bundle: &Bundle) -> Result<Self> {
        let mut model = Self::default();
        let event_of: BTreeMap<&str, &str> = bundle
            .events
            .iter()
            .map(|e| (e.definition.as_str(), e.name.as_str()))
            .collect();
        for (name, named) in &bundle.definitions {
            let (file, pointer) = named.origin.split_once('#').unwrap_or((&named.origin, ""));
            let at = At {
                file: file.to_owned(),
                pointer: pointer.to_owned(),
            };
            model.named(
                name,
                &named.schema,
                &at,
                event_of.get(name.as_str()).copied(),
            )?;
        }
        for entry in &bundle.events {
            let Some(named) = bundle.definitions.get(&entry.definition) else {
                continue;
            };
            let has_actions = model.unions.contains_key(&entry.definition);
            if has_actions
                && model
                    .unions
                    .get(&entry.definition)
                    .is_some_and(|u| u.tag != "action")
            {
                return Err(CodegenError::Unsupported {
                    file: named.origin.clone(),
                    pointer: String::new(),
                    reason: "an event's `oneOf` must be told apart by `action`".to_owned(),
                });
            }
            model.events.push(Event {
                name: entry.name.clone(),
                ident: pascal(&entry.name),
                payload: entry.definition.clone(),
                has_actions,
                doc: description(&named.schema),
            });
        }
        Ok(model)
    }

    fn claim(&mut self, name: &str, at: &At) -> Result<()> {
        let origin = at.to_string();
        if let Some(first) = self.origins.get(name) {
            return Err(CodegenError::NameCollision {
                name: name.to_owned(),
                first: first.clone(),
                second: origin,
            });
        }
        self.origins.insert(name.to_owned(), origin);
        Ok(())
    }

    /// A named schema: an enum, a tagged union or an object.
    fn named(&mut self, name: &str, schema: &Value, at: &At, event: Option<&str>) -> Result<()> {
        let Value::Object(map) = schema else {
            return Err(at.unsupported("a named schema must be a JSON object"));
        };
        if map.contains_key("enum") {
            return self.open_enum(name, map, at);
        }
        if let Some(one_of) = map.get("oneOf") {
            return self.union(name, map, one_of, at, event);
        }
        if is_object(map) {
            return self.object(name, map, at);
        }
        Err(at.unsupported(
            "a named schema must be an object, a string enum or a `oneOf` told apart by a `const` property",
        ))
    }
}
