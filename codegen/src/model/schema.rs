//! Reading schema JSON for the model: locations for messages, types,
//! docs.

use serde_json::{Map, Value};

use crate::error::CodegenError;

/// A location in a schema file, for messages.
#[derive(Debug, Clone)]
pub(super) struct At {
    pub(super) file: String,
    pub(super) pointer: String,
}

impl At {
    pub(super) fn child(&self, tail: &str) -> Self {
        Self {
            file: self.file.clone(),
            pointer: format!("{}/{tail}", self.pointer),
        }
    }

    pub(super) fn unsupported(&self, reason: &str) -> CodegenError {
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

pub(super) fn types_of(map: &Map<String, Value>) -> Vec<String> {
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

pub(super) fn is_object(map: &Map<String, Value>) -> bool {
    types_of(map).iter().any(|t| t == "object")
        || (map.get("type").is_none() && map.contains_key("properties"))
}

/// The doc comment of a schema: its description, else its title.
pub(super) fn description(schema: &Value) -> Option<String> {
    schema
        .get("description")
        .or_else(|| schema.get("title"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}
