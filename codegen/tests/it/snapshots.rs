//! Snapshot cases: `tests/snapshots/<case>/schema/` in, `expected/` out.
//! `UPDATE_SNAPSHOTS=1 cargo test -p icr-webhooks-codegen` rewrites them; the
//! expected Rust is compiled by the `icr-webhooks-tests` crate.

use std::path::Path;

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

#[track_caller]
fn check_case(case: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(case);
    let generated =
        icr_webhooks_codegen::generate_from_files(&read_case(&dir.join("schema"))).unwrap();
    let expected_dir = dir.join("expected");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(&expected_dir).unwrap();
        for (name, text) in &generated {
            std::fs::write(expected_dir.join(name), text).unwrap();
        }
    }
    let stale = icr_webhooks_codegen::stale_files(&expected_dir, &generated);
    assert!(
        stale.is_empty(),
        "snapshot `{case}` differs in {stale:?}; rerun with UPDATE_SNAPSHOTS=1 and review the diff"
    );
}

#[test]
fn open_enum() {
    check_case("open_enum");
}

#[test]
fn tagged_union() {
    check_case("tagged_union");
}

#[test]
fn event_actions() {
    check_case("event_actions");
}

#[test]
fn fields() {
    check_case("fields");
}
