//! The walk behind [`Drift::of`](super::Drift::of): a payload read beside
//! the bundled JSON Schema ([`SCHEMA_JSON`](crate::types::SCHEMA_JSON)),
//! noting each place where the payload holds what the schema does not
//! describe. Only paths are noted, never values.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::{Finding, FindingKind};

/// How many `$ref`s may be followed in a row without reading into the
/// payload: far more than the bundle nests, and a guard against a cycle.
const MAX_REF_HOPS: usize = 32;

/// The bundled schema, parsed once; `None` if it cannot be (a test shows
/// that it can).
pub(super) fn schema() -> Option<&'static Value> {
    static SCHEMA: OnceLock<Option<Value>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| serde_json::from_str(crate::types::SCHEMA_JSON).ok())
        .as_ref()
}

/// The payload schema of `event` in `root`, when the event is known.
pub(super) fn event_schema<'s>(root: &'s Value, event: &str) -> Option<&'s Value> {
    root.get("x-icr-events")?.get(event)
}

/// A JSON path being built: `transfer.blocks[].note`.
struct Path(String);

impl Path {
    /// The path with the field `key` appended, and how long it was before.
    fn field(&mut self, key: &str) -> usize {
        let before = self.0.len();
        if !self.0.is_empty() {
            self.0.push('.');
        }
        if is_plain(key) {
            self.0.push_str(key);
        } else {
            // A key that would read as path syntax (or is not printable) is
            // written as a quoted JSON string: `["a.b"]`.
            self.0.truncate(before);
            self.0.push('[');
            self.0
                .push_str(&serde_json::to_string(key).unwrap_or_else(|_| "\"?\"".to_owned()));
            self.0.push(']');
        }
        before
    }

    /// The path with `suffix` (`[]` for an array's elements, `.*` for a
    /// map's values) appended, and how long it was before.
    fn push(&mut self, suffix: &str) -> usize {
        let before = self.0.len();
        self.0.push_str(suffix);
        before
    }

    fn back(&mut self, len: usize) {
        self.0.truncate(len);
    }
}

/// Whether `key` can be written in a path as it is.
fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| !c.is_control() && !matches!(c, '.' | '[' | ']' | '"' | '*'))
}

/// Walks `value` beside `schema`, adding every finding to `out`.
pub(super) fn walk(root: &Value, schema: &Value, value: &Value, out: &mut BTreeSet<Finding>) {
    let mut path = Path(String::new());
    Walker { root, out }.node(schema, value, &mut path);
}

struct Walker<'a, 'o> {
    /// The bundle, for `$ref`.
    root: &'a Value,
    out: &'o mut BTreeSet<Finding>,
}

impl<'a> Walker<'a, '_> {
    fn found(&mut self, kind: FindingKind, path: &str) {
        self.out.insert(Finding {
            kind,
            path: path.to_owned(),
        });
    }

    /// `schema` with its `$ref`s followed.
    fn resolve(&self, mut schema: &'a Value) -> Option<&'a Value> {
        for _ in 0..MAX_REF_HOPS {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
                return Some(schema);
            };
            let name = reference.strip_prefix("#/definitions/")?;
            schema = self.root.get("definitions")?.get(name)?;
        }
        None
    }

    fn node(&mut self, schema: &'a Value, value: &Value, path: &mut Path) {
        let Some(schema) = self.resolve(schema) else {
            return;
        };
        // `null` where the schema allows it, or a shape error the typed
        // parse reports: nothing unknown either way.
        if value.is_null() {
            return;
        }
        if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
            self.one_of(branches, value, path);
            return;
        }
        if let Some(known) = schema.get("enum").and_then(Value::as_array) {
            if let Some(text) = value.as_str() {
                if !known.iter().any(|k| k.as_str() == Some(text)) {
                    self.found(FindingKind::UnknownEnumValue, &path.0);
                }
            }
            return;
        }
        match value {
            Value::Object(map) => self.object(schema, map, path),
            Value::Array(items) => {
                if let Some(item) = schema.get("items") {
                    let before = path.push("[]");
                    for element in items {
                        self.node(item, element, path);
                    }
                    path.back(before);
                }
            }
            _ => {}
        }
    }

    /// A union: tagged (every branch holds one property with a `const`, the
    /// tag), the branch its tag names; untagged (a nullable reference), the
    /// first branch whose type admits the value.
    fn one_of(&mut self, branches: &'a [Value], value: &Value, path: &mut Path) {
        let resolved: Vec<&'a Value> = branches.iter().filter_map(|b| self.resolve(b)).collect();
        let Some(tag) = tag_of(&resolved) else {
            if let Some(branch) = resolved.iter().find(|b| admits(b, value)) {
                self.node(branch, value, path);
            }
            return;
        };
        let Some(given) = value.get(tag).and_then(Value::as_str) else {
            return;
        };
        match resolved.iter().find(|b| const_of(b, tag) == Some(given)) {
            Some(branch) => self.node(branch, value, path),
            None => {
                let kind = if path.0.is_empty() && tag == "action" {
                    FindingKind::UnknownAction
                } else {
                    FindingKind::UnknownEnumValue
                };
                let before = path.field(tag);
                self.found(kind, &path.0);
                path.back(before);
            }
        }
    }

    fn object(&mut self, schema: &'a Value, map: &Map<String, Value>, path: &mut Path) {
        let properties = schema.get("properties").and_then(Value::as_object);
        // A map: its keys are data, its values have one schema.
        let additional = schema.get("additionalProperties").filter(|a| a.is_object());
        if properties.is_none() && additional.is_none() {
            return;
        }
        for (key, item) in map {
            if let Some(property) = properties.and_then(|p| p.get(key)) {
                let before = path.field(key);
                self.node(property, item, path);
                path.back(before);
            } else if let Some(additional) = additional {
                let before = path.push(if path.0.is_empty() { "*" } else { ".*" });
                self.node(additional, item, path);
                path.back(before);
            } else {
                let before = path.field(key);
                self.found(FindingKind::UnknownField, &path.0);
                path.back(before);
            }
        }
    }
}

/// The property every branch fixes with a `const` string: the tag.
fn tag_of<'s>(branches: &[&'s Value]) -> Option<&'s str> {
    let first = branches.first()?.get("properties")?.as_object()?;
    first
        .iter()
        .filter(|(_, p)| p.get("const").is_some_and(Value::is_string))
        .map(|(name, _)| name.as_str())
        .find(|name| branches.iter().all(|b| const_of(b, name).is_some()))
}

/// The `const` string a branch gives `tag`.
fn const_of<'s>(branch: &'s Value, tag: &str) -> Option<&'s str> {
    branch.get("properties")?.get(tag)?.get("const")?.as_str()
}

/// Whether a (resolved) branch's `type` admits `value`; a branch without
/// a `type` (an object by its properties, an enum) admits anything.
fn admits(branch: &Value, value: &Value) -> bool {
    let name = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let fits = |t: &Value| t == name || (name == "integer" && t == "number");
    match branch.get("type") {
        None => true,
        Some(Value::Array(types)) => types.iter().any(fits),
        Some(single) => fits(single),
    }
}
