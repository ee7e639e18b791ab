//! Snapshot cases: `tests/snapshots/<case>/schema/` in, `expected/` out.
//! `UPDATE_SNAPSHOTS=1 cargo test -p icr-webhooks-codegen` rewrites them; the
//! expected Rust is compiled by the `icr-webhooks-tests` crate.

use std::path::{Path, PathBuf};

use icr_webhooks_codegen::bundle::SchemaFile;

fn read_case(dir: &Path) -> Vec<SchemaFile> {
    let mut files = Vec::new();
    for sub in ["definitions", "events"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            files.push(SchemaFile {
                path: format!("{sub}/{name}"),
                text: std::fs::read_to_string(dir.join(sub).join(&name)).unwrap(),
            });
        }
    }
    files
}

/// The folder of every case: each folder of `tests/snapshots/`, by name.
fn cases() -> Vec<(String, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                path,
            )
        })
        .collect();
    cases.sort();
    cases
}

/// Generates the case in `dir` from its `schema/` (rewriting `expected/`
/// when `UPDATE_SNAPSHOTS` is set) and names what differs.
fn check_case(case: &str, dir: &Path) -> Result<(), String> {
    let generated = icr_webhooks_codegen::generate_from_files(&read_case(&dir.join("schema")))
        .map_err(|error| format!("snapshot `{case}` does not generate: {error}"))?;
    let expected_dir = dir.join("expected");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(&expected_dir).unwrap();
        for (name, text) in &generated {
            std::fs::write(expected_dir.join(name), text).unwrap();
        }
    }
    let stale = icr_webhooks_codegen::stale_files(&expected_dir, &generated);
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "snapshot `{case}` differs in {stale:?}; rerun with UPDATE_SNAPSHOTS=1 and review the diff"
        ))
    }
}

/// Every case folder, found at run time: a new case needs no code here.
#[test]
fn every_case_generates_its_expected_rust() {
    let cases = cases();
    assert!(!cases.is_empty(), "no case folder in tests/snapshots/");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(case, dir)| check_case(case, dir).err())
        .collect();
    assert_eq!(failures, Vec::<String>::new());
}
