//! The ICR webhook code generator: reads `schema/`, bundles it, runs typify
//! over the objects and writes the typed model into `sdk/src/generated/`.
//!
//! The pipeline is [`bundle`] (files to one document), [`model`] (what each
//! schema becomes) and [`emit`] (Rust text; [`generic`] makes the types that
//! hold a string generic over it, so one model serves the owned and the
//! borrowed parse). [`generate`] runs them all.

pub mod bundle;
pub mod emit;
pub mod error;
pub mod generic;
pub mod model;
pub mod names;

use std::collections::BTreeMap;
use std::path::Path;

pub use crate::error::{CodegenError, Result};

/// Every output file, by name inside the output folder
/// (`mod.rs`, `types.rs`, ..., `schema.json`).
pub fn generate_from_files(files: &[bundle::SchemaFile]) -> Result<BTreeMap<String, String>> {
    let bundle = bundle::Bundle::from_files(files)?;
    let model = model::Model::build(&bundle)?;
    let mut out = emit::emit(&model)?;
    let document = bundle.to_document();
    let mut schema =
        serde_json::to_string_pretty(&document).map_err(|source| CodegenError::Json {
            path: "schema.json".to_owned(),
            source,
        })?;
    schema.push('\n');
    out.insert("schema.json".to_owned(), schema);
    Ok(out)
}

/// Reads `schema_dir` and generates every output file.
///
/// # Errors
/// Any [`CodegenError`]: unreadable files, bad references, name collisions,
/// unsupported shapes or a typify failure.
pub fn generate(schema_dir: &Path) -> Result<BTreeMap<String, String>> {
    generate_from_files(&bundle::read_dir(schema_dir)?)
}

/// The files of `out_dir` that differ from `generated` (missing, changed, or
/// present but no longer generated), sorted.
pub fn stale_files(out_dir: &Path, generated: &BTreeMap<String, String>) -> Vec<String> {
    let mut stale = Vec::new();
    for (name, text) in generated {
        match std::fs::read_to_string(out_dir.join(name)) {
            Ok(existing) if &existing == text => {}
            _ => stale.push(name.clone()),
        }
    }
    if let Ok(entries) = std::fs::read_dir(out_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !generated.contains_key(&name) {
                stale.push(name);
            }
        }
    }
    stale.sort();
    stale
}
