//! The committed `sdk/src/generated/` is exactly what the generator writes
//! now, and a second run writes the same bytes.

use crate::root;

#[test]
fn committed_output_is_fresh() {
    let generated = icr_webhooks_codegen::generate(&root().join("schema")).unwrap();
    let stale = icr_webhooks_codegen::stale_files(&root().join("sdk/src/generated"), &generated);
    assert!(
        stale.is_empty(),
        "sdk/src/generated/ is stale ({}): run `cargo codegen` and commit the result",
        stale.join(", ")
    );
}

#[test]
fn output_is_byte_stable() {
    let first = icr_webhooks_codegen::generate(&root().join("schema")).unwrap();
    let second = icr_webhooks_codegen::generate(&root().join("schema")).unwrap();
    assert_eq!(first, second);
    for (name, text) in &first {
        if name.ends_with(".rs") {
            assert!(
                text.starts_with(icr_webhooks_codegen::emit::HEADER),
                "{name}"
            );
        }
    }
}

#[test]
fn the_sdk_does_not_depend_on_the_generator() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .current_dir(root())
        .args([
            "tree",
            "-p",
            "icr-webhooks",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
            "--locked",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).unwrap();
    assert!(tree.starts_with("icr-webhooks v"), "{tree}");
    for generator in ["typify", "schemars", "prettyplease", "icr-webhooks-codegen"] {
        assert!(
            !tree
                .lines()
                .any(|line| line.split(' ').next() == Some(generator)),
            "the SDK depends on {generator}:\n{tree}"
        );
    }
}
