//! The generator's own tests: the committed output is fresh, snapshot cases
//! produce the expected Rust, and bad schemas give the exact error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod errors;
mod fresh;
mod snapshots;

use std::path::{Path, PathBuf};

use icr_webhooks_codegen::bundle::SchemaFile;

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Schema files from `(path, text)` pairs.
fn files(pairs: &[(&str, &str)]) -> Vec<SchemaFile> {
    pairs
        .iter()
        .map(|(path, text)| SchemaFile {
            path: (*path).to_owned(),
            text: (*text).to_owned(),
        })
        .collect()
}
