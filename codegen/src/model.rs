//! The model: what each bundled schema becomes in Rust. Objects go to typify
//! (through a simplified "view" of their schema); string enums and tagged
//! `oneOf`s are owned here, because typify makes the first closed and the
//! second an untagged enum that misroutes payloads. Inline objects and enums
//! are hoisted into named items with deterministic names, so typify never
//! invents (or silently merges) a name.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::bundle::{Bundle, escape_pointer};
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

    fn open_enum(&mut self, name: &str, map: &Map<String, Value>, at: &At) -> Result<()> {
        let mut values = Vec::new();
        let Some(Value::Array(items)) = map.get("enum") else {
            return Err(at.unsupported("`enum` must be an array"));
        };
        for item in items {
            let Value::String(value) = item else {
                return Err(at.unsupported("only string enums are supported"));
            };
            values.push(value.clone());
        }
        let names: Vec<String> = match map.get("x-enum-varnames") {
            None => values.iter().map(|value| pascal(value)).collect(),
            Some(Value::Array(names)) if names.len() == values.len() => names
                .iter()
                .map(|name| name.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| at.unsupported("`x-enum-varnames` must hold strings"))?,
            Some(_) => {
                return Err(at.unsupported(
                    "`x-enum-varnames` must be an array with one name per `enum` value",
                ));
            }
        };
        let mut idents: BTreeMap<String, &str> = BTreeMap::new();
        for (value, ident) in values.iter().zip(&names) {
            if !crate::names::is_pascal_ident(ident) || ident == "Unknown" {
                return Err(at.unsupported(&format!(
                    "enum value \"{value}\" has no usable variant name"
                )));
            }
            if let Some(other) = idents.insert(ident.clone(), value) {
                return Err(at.unsupported(&format!(
                    "enum values \"{other}\" and \"{value}\" both become variant `{ident}`"
                )));
            }
        }
        self.claim(name, at)?;
        self.enums.insert(
            name.to_owned(),
            OpenEnum {
                name: name.to_owned(),
                doc: description(&Value::Object(map.clone())),
                values,
                idents: names,
            },
        );
        Ok(())
    }

    fn union(
        &mut self,
        name: &str,
        map: &Map<String, Value>,
        one_of: &Value,
        at: &At,
        event: Option<&str>,
    ) -> Result<()> {
        let Value::Array(branches) = one_of else {
            return Err(at.unsupported("`oneOf` must be an array"));
        };
        let branch_maps: Vec<&Map<String, Value>> = branches
            .iter()
            .filter_map(Value::as_object)
            .filter(|b| is_object(b))
            .collect();
        if branch_maps.len() != branches.len() || branches.is_empty() {
            return Err(at.unsupported("every `oneOf` branch must be an inline object schema"));
        }
        let tag = common_tag(&branch_maps).ok_or_else(|| {
            at.unsupported(
                "the `oneOf` branches must share exactly one required property fixed with `const`",
            )
        })?;
        let base = event.map_or_else(|| name.to_owned(), pascal);
        let mut variants = Vec::new();
        let mut seen = BTreeMap::new();
        for (index, branch) in branch_maps.iter().enumerate() {
            let branch_at = at.child(&format!("oneOf/{index}"));
            let value = const_of(branch, &tag).unwrap_or_default();
            if let Some(previous) = seen.insert(value.clone(), index) {
                return Err(branch_at.unsupported(&format!(
                    "`{tag}` \"{value}\" is used by branches {previous} and {index}"
                )));
            }
            let ident = pascal(&value);
            if ident.is_empty() || ident == "Unknown" {
                return Err(branch_at
                    .unsupported(&format!("`{tag}` \"{value}\" has no usable variant name")));
            }
            let payload = format!("{base}{ident}");
            let mut stripped = (*branch).clone();
            if let Some(Value::Object(props)) = stripped.get_mut("properties") {
                props.remove(&tag);
            }
            if let Some(Value::Array(required)) = stripped.get_mut("required") {
                required.retain(|r| r.as_str() != Some(tag.as_str()));
            }
            self.object(&payload, &stripped, &branch_at)?;
            variants.push(Variant {
                value,
                ident,
                payload,
                doc: description(&Value::Object((*branch).clone())),
            });
        }
        self.claim(name, at)?;
        self.unions.insert(
            name.to_owned(),
            Union {
                name: name.to_owned(),
                doc: description(&Value::Object(map.clone())),
                tag,
                variants,
                boxed: event.is_some(),
                event: event.map(str::to_owned),
            },
        );
        Ok(())
    }

    fn object(&mut self, name: &str, map: &Map<String, Value>, at: &At) -> Result<()> {
        self.claim(name, at)?;
        let mut view = Map::new();
        view.insert("type".to_owned(), json!("object"));
        if let Some(doc) = description(&Value::Object(map.clone())) {
            view.insert("description".to_owned(), Value::String(doc));
        }
        if let Some(required) = map.get("required") {
            view.insert("required".to_owned(), required.clone());
        }
        let mut props = Map::new();
        if let Some(Value::Object(properties)) = map.get("properties") {
            let mut keys: Vec<&String> = properties.keys().collect();
            keys.sort();
            for key in keys {
                let Some(prop) = properties.get(key) else {
                    continue;
                };
                let prop_at = at.child(&format!("properties/{}", escape_pointer(key)));
                let hoist_name = format!("{name}{}", pascal(key));
                let prop_view = self.property(&hoist_name, prop, &prop_at)?;
                props.insert(key.clone(), prop_view);
            }
        }
        view.insert("properties".to_owned(), Value::Object(props));
        self.structs.insert(
            name.to_owned(),
            Struct {
                name: name.to_owned(),
                view: Value::Object(view),
            },
        );
        Ok(())
    }

    /// The view of one property (or array item, or map value). Inline objects
    /// and enums are hoisted under `hoist_name`.
    fn property(&mut self, hoist_name: &str, schema: &Value, at: &At) -> Result<Value> {
        let Value::Object(map) = schema else {
            if schema == &Value::Bool(true) {
                return Ok(json!({}));
            }
            return Err(at.unsupported("a property schema must be an object"));
        };
        let mut view = Map::new();
        if let Some(doc) = description(schema) {
            view.insert("description".to_owned(), Value::String(doc));
        }
        if let Some(target) = map.get("$ref") {
            view.insert("$ref".to_owned(), target.clone());
            return Ok(Value::Object(view));
        }
        if map.contains_key("const") {
            return Err(at.unsupported("`const` is only supported on the tag of a `oneOf`"));
        }
        if let Some(one_of) = map.get("oneOf") {
            let Some(inner) = nullable_branch(one_of) else {
                return Err(at.unsupported(
                    "an inline `oneOf` must be `[<schema>, {\"type\": \"null\"}]`; make a tagged union a named definition",
                ));
            };
            let inner_view = self.property(hoist_name, inner, &at.child("oneOf/0"))?;
            view.insert("oneOf".to_owned(), json!([inner_view, { "type": "null" }]));
            return Ok(Value::Object(view));
        }
        if map.contains_key("enum") {
            if types_of(map).iter().any(|t| t == "null") {
                return Err(at.unsupported("a nullable enum must be written as `oneOf` with null"));
            }
            self.open_enum(hoist_name, map, at)?;
            view.insert(
                "$ref".to_owned(),
                json!(format!("#/definitions/{hoist_name}")),
            );
            return Ok(Value::Object(view));
        }
        let types = types_of(map);
        let nullable = types.iter().any(|t| t == "null");
        let main: Vec<&String> = types.iter().filter(|t| *t != "null").collect();
        let main_type = match main.as_slice() {
            [] if is_object(map) => "object",
            [] => return Ok(Value::Object(view)),
            [one] => one.as_str(),
            _ => return Err(at.unsupported("a property may have one type besides null")),
        };
        let type_value = if nullable {
            json!([main_type, "null"])
        } else {
            json!(main_type)
        };
        match main_type {
            "object" => {
                if map.contains_key("properties") {
                    if nullable {
                        return Err(at.unsupported(
                            "a nullable inline object must be written as `oneOf` with null",
                        ));
                    }
                    self.object(hoist_name, map, at)?;
                    view.insert(
                        "$ref".to_owned(),
                        json!(format!("#/definitions/{hoist_name}")),
                    );
                    return Ok(Value::Object(view));
                }
                view.insert("type".to_owned(), type_value);
                if let Some(values) = map.get("additionalProperties") {
                    if values.is_object() {
                        let value_view = self.property(
                            &format!("{hoist_name}Value"),
                            values,
                            &at.child("additionalProperties"),
                        )?;
                        view.insert("additionalProperties".to_owned(), value_view);
                    }
                }
            }
            "array" => {
                view.insert("type".to_owned(), type_value);
                let items = map.get("items").cloned().unwrap_or(json!({}));
                let item_view =
                    self.property(&format!("{hoist_name}Item"), &items, &at.child("items"))?;
                view.insert("items".to_owned(), item_view);
            }
            "integer" => {
                view.insert("type".to_owned(), type_value);
                let min = map.get("minimum").and_then(Value::as_f64);
                let max = map.get("maximum").and_then(Value::as_f64);
                for key in ["minimum", "maximum"] {
                    if let Some(bound) = map.get(key) {
                        view.insert(key.to_owned(), bound.clone());
                    }
                }
                if min.is_some_and(|m| m >= 0.0) {
                    let format = if max.is_some_and(|m| m <= f64::from(u16::MAX)) {
                        "uint16"
                    } else {
                        "uint64"
                    };
                    view.insert("format".to_owned(), json!(format));
                }
            }
            "string" => {
                view.insert("type".to_owned(), type_value);
                if let Some(Value::String(format)) = map.get("format") {
                    if format == "date" || format == "date-time" {
                        view.insert("format".to_owned(), json!(format));
                    }
                }
            }
            "boolean" | "number" => {
                view.insert("type".to_owned(), type_value);
            }
            other => {
                return Err(at.unsupported(&format!("unsupported type \"{other}\"")));
            }
        }
        Ok(Value::Object(view))
    }
}

/// A location in a schema file, for messages.
#[derive(Debug, Clone)]
struct At {
    file: String,
    pointer: String,
}

impl At {
    fn child(&self, tail: &str) -> Self {
        Self {
            file: self.file.clone(),
            pointer: format!("{}/{tail}", self.pointer),
        }
    }

    fn unsupported(&self, reason: &str) -> CodegenError {
        CodegenError::Unsupported {
            file: self.file.clone(),
            pointer: self.pointer.clone(),
            reason: reason.to_owned(),
        }
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.file, self.pointer)
    }
}

fn types_of(map: &Map<String, Value>) -> Vec<String> {
    match map.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn is_object(map: &Map<String, Value>) -> bool {
    types_of(map).iter().any(|t| t == "object")
        || (map.get("type").is_none() && map.contains_key("properties"))
}

/// The non-null branch of `[<schema>, {"type": "null"}]`, in either order.
fn nullable_branch(one_of: &Value) -> Option<&Value> {
    let Value::Array(items) = one_of else {
        return None;
    };
    let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
    match items.as_slice() {
        [a, b] if is_null(b) && !is_null(a) => Some(a),
        [a, b] if is_null(a) && !is_null(b) => Some(b),
        _ => None,
    }
}

fn const_of(branch: &Map<String, Value>, prop: &str) -> Option<String> {
    branch
        .get("properties")?
        .get(prop)?
        .get("const")?
        .as_str()
        .map(str::to_owned)
}

/// The one property that every branch requires and fixes with a string `const`.
fn common_tag(branches: &[&Map<String, Value>]) -> Option<String> {
    let first = branches.first()?;
    let candidates: Vec<String> = first
        .get("properties")?
        .as_object()?
        .keys()
        .filter(|key| {
            branches.iter().all(|b| {
                const_of(b, key).is_some()
                    && b.get("required")
                        .and_then(Value::as_array)
                        .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(key.as_str())))
            })
        })
        .cloned()
        .collect();
    match candidates.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// The doc comment of a schema: its description, else its title.
fn description(schema: &Value) -> Option<String> {
    schema
        .get("description")
        .or_else(|| schema.get("title"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}
