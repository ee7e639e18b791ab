//! Bundling: reads the schema files, gives every named schema its Rust name
//! and rewrites each `$ref` (into another file or within one) to point inside
//! a single self-contained document. typify resolves no `$ref` into another
//! file, so it only ever sees this bundle.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{CodegenError, Result};
use crate::names::{is_pascal_ident, pascal};

/// One schema file, by its path relative to the schema folder
/// (`definitions/user.json`, `events/ping.json`).
#[derive(Debug, Clone)]
pub struct SchemaFile {
    /// Path relative to the schema folder, with `/` separators.
    pub path: String,
    /// The file's text.
    pub text: String,
}

/// A named schema of the bundle.
#[derive(Debug, Clone)]
pub struct Named {
    /// The schema, every `$ref` rewritten to `#/definitions/<Name>`.
    pub schema: Value,
    /// Where it was written: `file#pointer`.
    pub origin: String,
}

/// An event: its wire name and the definition holding its payload schema.
#[derive(Debug, Clone)]
pub struct EventEntry {
    /// The `X-ICR-Event` name (`credit_transfer`).
    pub name: String,
    /// The definition name (`CreditTransferEvent`).
    pub definition: String,
}

/// Every named schema of `schema/`, with its references made internal.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    /// Named schemas by Rust name.
    pub definitions: BTreeMap<String, Named>,
    /// The events, sorted by name.
    pub events: Vec<EventEntry>,
}

/// Reads `definitions/*.json` and `events/*.json` below `dir`, sorted by path.
///
/// # Errors
/// [`CodegenError::Read`] when a folder or file cannot be read.
pub fn read_dir(dir: &Path) -> Result<Vec<SchemaFile>> {
    let mut files = Vec::new();
    for sub in ["definitions", "events"] {
        let folder = dir.join(sub);
        let entries = std::fs::read_dir(&folder).map_err(|source| CodegenError::Read {
            path: folder.clone(),
            source,
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| CodegenError::Read {
                path: folder.clone(),
                source,
            })?;
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "json") {
                paths.push(path);
            }
        }
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| CodegenError::Read {
                path: path.clone(),
                source,
            })?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push(SchemaFile {
                path: format!("{sub}/{name}"),
                text,
            });
        }
    }
    Ok(files)
}

/// Where a named schema lives before bundling.
struct Source {
    file: String,
    /// `None` for the file's root, `Some(key)` for `#/definitions/<key>`.
    local: Option<String>,
    schema: Value,
}

impl Bundle {
    /// Bundles the given files.
    ///
    /// # Errors
    /// Invalid JSON, a badly named file or definition, two schemas with one
    /// Rust name, or a `$ref` that resolves to nothing.
    pub fn from_files(files: &[SchemaFile]) -> Result<Self> {
        let mut sources: BTreeMap<String, Source> = BTreeMap::new();
        let mut by_location: BTreeMap<(String, Option<String>), String> = BTreeMap::new();
        let mut events = Vec::new();

        for file in files {
            let json: Value =
                serde_json::from_str(&file.text).map_err(|source| CodegenError::Json {
                    path: file.path.clone(),
                    source,
                })?;
            let Value::Object(mut root) = json else {
                return Err(unsupported(
                    &file.path,
                    "",
                    "a schema file must hold a JSON object",
                ));
            };
            let (folder, stem) = split_path(&file.path);
            let root_name = match folder {
                "definitions" => pascal(stem),
                "events" => {
                    let name = format!("{}Event", pascal(stem));
                    events.push(EventEntry {
                        name: stem.to_owned(),
                        definition: name.clone(),
                    });
                    name
                }
                _ => {
                    return Err(unsupported(
                        &file.path,
                        "",
                        "schema files live in `definitions/` or `events/`",
                    ));
                }
            };
            if !is_pascal_ident(&root_name) {
                return Err(unsupported(
                    &file.path,
                    "",
                    &format!("the file name does not make a Rust type name (got `{root_name}`)"),
                ));
            }
            let locals = match root.remove("definitions") {
                None => Map::new(),
                Some(Value::Object(map)) => map,
                Some(_) => {
                    return Err(unsupported(&file.path, "/definitions", "must be an object"));
                }
            };
            root.remove("$schema");
            let mut entries = vec![(None, Value::Object(root))];
            entries.extend(locals.into_iter().map(|(key, value)| (Some(key), value)));
            for (local, schema) in entries {
                let name = match &local {
                    None => root_name.clone(),
                    Some(key) if is_pascal_ident(key) => key.clone(),
                    Some(key) => {
                        return Err(unsupported(
                            &file.path,
                            &format!("/definitions/{key}"),
                            "a definition's key must be a PascalCase Rust type name",
                        ));
                    }
                };
                let origin = origin_of(&file.path, local.as_deref());
                if let Some(first) = sources.get(&name) {
                    return Err(CodegenError::NameCollision {
                        name,
                        first: origin_of(&first.file, first.local.as_deref()),
                        second: origin,
                    });
                }
                by_location.insert((file.path.clone(), local.clone()), name.clone());
                sources.insert(
                    name,
                    Source {
                        file: file.path.clone(),
                        local,
                        schema,
                    },
                );
            }
        }

        let mut definitions = BTreeMap::new();
        for (name, source) in sources {
            let base = match &source.local {
                None => String::new(),
                Some(key) => format!("/definitions/{key}"),
            };
            let mut schema = source.schema;
            rewrite_refs(&mut schema, &source.file, &base, &by_location)?;
            definitions.insert(
                name,
                Named {
                    schema,
                    origin: origin_of(&source.file, source.local.as_deref()),
                },
            );
        }
        events.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self {
            definitions,
            events,
        })
    }

    /// The bundle as one self-contained draft-07 document: every definition
    /// under `definitions`, and `x-icr-events` mapping each event name to its
    /// payload schema. Keys are sorted so the text is byte-stable.
    pub fn to_document(&self) -> Value {
        let mut definitions = Map::new();
        for (name, named) in &self.definitions {
            definitions.insert(name.clone(), canonical(&named.schema));
        }
        let mut events = Map::new();
        for event in &self.events {
            let mut reference = Map::new();
            reference.insert(
                "$ref".to_owned(),
                Value::String(format!("#/definitions/{}", event.definition)),
            );
            events.insert(event.name.clone(), Value::Object(reference));
        }
        let mut doc = Map::new();
        doc.insert(
            "$comment".to_owned(),
            Value::String("@generated by codegen from schema/ — do not edit".to_owned()),
        );
        doc.insert(
            "$schema".to_owned(),
            Value::String("http://json-schema.org/draft-07/schema#".to_owned()),
        );
        doc.insert("definitions".to_owned(), Value::Object(definitions));
        doc.insert(
            "description".to_owned(),
            Value::String(
                "Every ICR webhook payload. `x-icr-events` maps each `X-ICR-Event` name to the \
                 schema of its payload."
                    .to_owned(),
            ),
        );
        doc.insert(
            "title".to_owned(),
            Value::String("ICR webhook payloads".to_owned()),
        );
        doc.insert("x-icr-events".to_owned(), Value::Object(events));
        canonical(&Value::Object(doc))
    }
}

/// `file#pointer` for messages.
fn origin_of(file: &str, local: Option<&str>) -> String {
    match local {
        None => format!("{file}#"),
        Some(key) => format!("{file}#/definitions/{key}"),
    }
}

fn unsupported(file: &str, pointer: &str, reason: &str) -> CodegenError {
    CodegenError::Unsupported {
        file: file.to_owned(),
        pointer: pointer.to_owned(),
        reason: reason.to_owned(),
    }
}

/// `("definitions", "user")` from `definitions/user.json`.
fn split_path(path: &str) -> (&str, &str) {
    let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
    (folder, name.strip_suffix(".json").unwrap_or(name))
}

/// Joins a relative file reference onto the folder of `from`.
fn join(from: &str, target: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for piece in target.split('/') {
        match piece {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn rewrite_refs(
    value: &mut Value,
    file: &str,
    pointer: &str,
    by_location: &BTreeMap<(String, Option<String>), String>,
) -> Result<()> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let (file_part, fragment) = target.split_once('#').unwrap_or((target, ""));
                let target_file = if file_part.is_empty() {
                    file.to_owned()
                } else {
                    join(file, file_part)
                };
                let local = match fragment {
                    "" | "/" => None,
                    other => match other.strip_prefix("/definitions/") {
                        Some(key) if !key.contains('/') => Some(key.to_owned()),
                        _ => {
                            return Err(unsupported(
                                file,
                                pointer,
                                &format!(
                                    "`$ref` \"{target}\" must name a file or `#/definitions/<Name>`"
                                ),
                            ));
                        }
                    },
                };
                let Some(name) = by_location.get(&(target_file, local)) else {
                    return Err(CodegenError::DanglingRef {
                        file: file.to_owned(),
                        pointer: pointer.to_owned(),
                        target: target.clone(),
                    });
                };
                map.insert(
                    "$ref".to_owned(),
                    Value::String(format!("#/definitions/{name}")),
                );
            }
            for (key, child) in map.iter_mut() {
                if key == "$ref" {
                    continue;
                }
                let child_pointer = format!("{pointer}/{}", escape_pointer(key));
                rewrite_refs(child, file, &child_pointer, by_location)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (index, child) in items.iter_mut().enumerate() {
                rewrite_refs(child, file, &format!("{pointer}/{index}"), by_location)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Escapes one JSON pointer token (RFC 6901).
pub(crate) fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A copy of `value` whose objects hold their keys in sorted order, whatever
/// map type serde_json was built with.
pub(crate) fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                if let Some(child) = map.get(key) {
                    out.insert(key.clone(), canonical(child));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}
