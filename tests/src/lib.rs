//! Shared fixtures for the end-to-end tests: the example payloads of
//! `schema/examples/` and validators compiled from the bundled schema.
//!
//! The workspace README is included below so that its Rust examples run as
//! doctests.
#![doc = include_str!("../../README.md")]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The workspace root.
pub fn root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// One example payload: `credit_transfer.completed.json` gives event
/// `credit_transfer` and action `Some("completed")`.
#[derive(Debug, Clone)]
pub struct Example {
    /// The file name.
    pub file: String,
    /// The event name.
    pub event: String,
    /// The action, when the event has actions.
    pub action: Option<String>,
    /// The bytes, exactly as in the file.
    pub bytes: Vec<u8>,
}

/// Every example, sorted by file name.
///
/// # Errors
/// When the folder or a file cannot be read, or a file is not named
/// `event.action.json` or `event.json`.
pub fn examples() -> std::io::Result<Vec<Example>> {
    let dir = root().join("schema/examples");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(file) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".json") else {
            continue;
        };
        let key: icr_webhooks::contract::EventKey = stem
            .parse()
            .map_err(|error| std::io::Error::other(format!("{file}: {error}")))?;
        let (event, action) = (key.event().to_owned(), key.action().map(str::to_owned));
        out.push(Example {
            bytes: std::fs::read(&path)?,
            file,
            event,
            action,
        });
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(out)
}

/// The bundled schema shipped in the SDK.
///
/// # Errors
/// When the bundled text is not JSON (a codegen bug).
pub fn bundled_schema() -> serde_json::Result<Value> {
    serde_json::from_str(icr_webhooks::types::SCHEMA_JSON)
}

/// A draft-07 validator for the payload of `event`, with format checks on.
///
/// # Errors
/// When the event is not in the bundle or the schema does not compile.
pub fn event_validator(event: &str) -> Result<jsonschema::Validator, String> {
    let mut schema = bundled_schema().map_err(|e| e.to_string())?;
    let reference = schema
        .get("x-icr-events")
        .and_then(|events| events.get(event))
        .and_then(|r| r.get("$ref"))
        .cloned()
        .ok_or_else(|| format!("no event `{event}` in the bundle"))?;
    if let Value::Object(map) = &mut schema {
        map.insert("$ref".to_owned(), reference);
    }
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| e.to_string())
}
