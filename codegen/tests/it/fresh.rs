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
