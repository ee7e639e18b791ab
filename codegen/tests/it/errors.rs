//! Bad schemas: each gives its exact error, naming the schema and pointer,
//! never a panic or broken output.

use icr_webhooks_codegen::{CodegenError, generate_from_files};

use crate::files;

const OBJ_HEAD: &str =
    r#""$schema": "http://json-schema.org/draft-07/schema#", "title": "T", "description": "D""#;

fn object(props: &str) -> String {
    format!(r#"{{ {OBJ_HEAD}, "type": "object", "properties": {{ {props} }} }}"#)
}

#[test]
fn dangling_ref_names_file_and_pointer() {
    let user = object(r#""org": { "$ref": "organisation.json" }"#);
    let error = generate_from_files(&files(&[("definitions/user.json", &user)])).unwrap_err();
    let CodegenError::DanglingRef {
        file,
        pointer,
        target,
    } = &error
    else {
        panic!("expected DanglingRef, got {error:?}");
    };
    assert_eq!(
        (file.as_str(), pointer.as_str(), target.as_str()),
        (
            "definitions/user.json",
            "/properties/org",
            "organisation.json"
        )
    );
    assert_eq!(
        error.to_string(),
        "definitions/user.json#/properties/org: `$ref` \"organisation.json\" resolves to no schema"
    );
}

#[test]
fn hoisted_name_clashing_with_a_file_is_reported() {
    let hook =
        object(r#""config": { "type": "object", "properties": { "url": { "type": "string" } } }"#);
    let hook_config = object(r#""url": { "type": "string" }"#);
    let error = generate_from_files(&files(&[
        ("definitions/hook.json", &hook),
        ("definitions/hook_config.json", &hook_config),
    ]))
    .unwrap_err();
    let CodegenError::NameCollision {
        name,
        first,
        second,
    } = &error
    else {
        panic!("expected NameCollision, got {error:?}");
    };
    assert_eq!(name, "HookConfig");
    assert_eq!(first, "definitions/hook.json#/properties/config");
    assert_eq!(second, "definitions/hook_config.json#");
}

#[test]
fn two_files_with_one_rust_name_are_reported() {
    let a = object("");
    let error = generate_from_files(&files(&[
        ("definitions/credit_block.json", &a),
        ("definitions/Credit-Block.json", &a),
    ]))
    .unwrap_err();
    assert!(
        matches!(&error, CodegenError::NameCollision { name, .. } if name == "CreditBlock"),
        "{error:?}"
    );
}

#[test]
fn enum_values_with_one_variant_name_are_reported() {
    let a = object(r#""mode": { "type": "string", "enum": ["read-only", "read_only"] }"#);
    let error = generate_from_files(&files(&[("definitions/access.json", &a)])).unwrap_err();
    let CodegenError::Unsupported {
        file,
        pointer,
        reason,
    } = &error
    else {
        panic!("expected Unsupported, got {error:?}");
    };
    assert_eq!(file, "definitions/access.json");
    assert_eq!(pointer, "/properties/mode");
    assert_eq!(
        reason,
        "enum values \"read-only\" and \"read_only\" both become variant `ReadOnly`"
    );
}

#[track_caller]
fn check_unsupported(path: &str, text: &str, pointer: &str, reason: &str) {
    let error = generate_from_files(&files(&[(path, text)])).unwrap_err();
    let CodegenError::Unsupported {
        file,
        pointer: at,
        reason: why,
    } = &error
    else {
        panic!("expected Unsupported, got {error:?}");
    };
    assert_eq!(
        (file.as_str(), at.as_str(), why.as_str()),
        (path, pointer, reason)
    );
}

#[test]
fn unsupported_shapes_are_reported() {
    check_unsupported(
        "definitions/a.json",
        &object(r#""x": { "oneOf": [{ "type": "string" }, { "type": "integer" }] }"#),
        "/properties/x",
        "an inline `oneOf` must be `[<schema>, {\"type\": \"null\"}]`; make a tagged union a named definition",
    );
    check_unsupported(
        "definitions/a.json",
        &object(r#""x": { "type": "integer", "enum": [1, 2] }"#),
        "/properties/x",
        "only string enums are supported",
    );
    check_unsupported(
        "definitions/a.json",
        &object(r#""x": { "type": ["string", "integer"] }"#),
        "/properties/x",
        "a property may have one type besides null",
    );
    check_unsupported(
        "events/door.json",
        r#"{ "oneOf": [ { "type": "object", "required": ["action"], "properties": { "action": { "type": "string" } } } ] }"#,
        "",
        "the `oneOf` branches must share exactly one required property fixed with `const`",
    );
    check_unsupported(
        "events/door.json",
        r#"{ "oneOf": [
            { "type": "object", "required": ["action"], "properties": { "action": { "const": "opened" } } },
            { "type": "object", "required": ["action"], "properties": { "action": { "const": "opened" } } }
        ] }"#,
        "/oneOf/1",
        "`action` \"opened\" is used by branches 0 and 1",
    );
    check_unsupported(
        "definitions/a.json",
        "[]",
        "",
        "a schema file must hold a JSON object",
    );
    check_unsupported(
        "definitions/a.json",
        r#"{ "type": "string" }"#,
        "",
        "a named schema must be an object, a string enum or a `oneOf` told apart by a `const` property",
    );
}

#[test]
fn invalid_json_names_the_file() {
    let error = generate_from_files(&files(&[("definitions/a.json", "{ nope")])).unwrap_err();
    assert!(
        matches!(&error, CodegenError::Json { path, .. } if path == "definitions/a.json"),
        "{error:?}"
    );
}
