//! The objects of the model: the views handed to typify, with inline
//! objects and enums hoisted into named items.

use serde_json::{Map, Value, json};

use crate::bundle::escape_pointer;
use crate::error::Result;
use crate::model::schema::{At, description, is_object, types_of};
use crate::model::{Model, Struct};
use crate::names::pascal;

impl Model {
    pub(super) fn object(&mut self, name: &str, map: &Map<String, Value>, at: &At) -> Result<()> {
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
