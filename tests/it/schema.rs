//! The schemas themselves: every file is valid draft-07, every example
//! validates against its event, and the bundle matches the catalogue.

use std::collections::BTreeSet;

use icr_webhooks_tests::{bundled_schema, event_validator, examples, root};
use serde_json::Value;

#[test]
fn every_schema_file_is_valid_draft07() {
    let mut checked = 0;
    for folder in ["definitions", "events"] {
        for entry in std::fs::read_dir(root().join("schema").join(folder)).unwrap() {
            let path = entry.unwrap().path();
            let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            assert!(
                jsonschema::draft7::meta::is_valid(&schema),
                "{} is not valid draft-07: {:?}",
                path.display(),
                jsonschema::draft7::meta::validate(&schema).err()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 16 + 11);
    assert!(jsonschema::draft7::meta::is_valid(
        &bundled_schema().unwrap()
    ));
}

#[test]
fn every_example_validates_against_its_event() {
    let all = examples().unwrap();
    assert_eq!(all.len(), 35, "34 event/action pairs and ping");
    for example in all {
        let validator = event_validator(&example.event).unwrap();
        let value: Value = serde_json::from_slice(&example.bytes).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", example.file);
    }
}

#[test]
fn contract_examples_are_byte_for_byte() {
    let spec = root().join("../shared/spec/examples");
    for name in ["ping.json", "credit_transfer.completed.json"] {
        let ours = std::fs::read(root().join("schema/examples").join(name)).unwrap();
        let theirs = std::fs::read(spec.join(name)).unwrap();
        assert_eq!(ours, theirs, "{name}");
    }
}

#[test]
fn examples_cover_the_catalogue_exactly() {
    let keys: BTreeSet<String> = icr_webhooks::types::CATALOGUE
        .iter()
        .flat_map(|spec| spec.keys())
        .collect();
    let files: BTreeSet<String> = examples()
        .unwrap()
        .into_iter()
        .map(|e| e.file.trim_end_matches(".json").to_owned())
        .collect();
    assert_eq!(keys, files);
    assert_eq!(keys.len(), 35);
}

#[test]
fn invalid_payloads_fail_validation() {
    let example = examples()
        .unwrap()
        .into_iter()
        .find(|e| e.file == "credit_transfer.completed.json")
        .unwrap();
    let validator = event_validator("credit_transfer").unwrap();
    let base: Value = serde_json::from_slice(&example.bytes).unwrap();
    type Mutation = (&'static str, fn(&mut Value));
    let cases: [Mutation; 6] = [
        ("required field removed", |v| {
            v["transfer"].as_object_mut().unwrap().remove("quantity");
        }),
        ("non-nullable null", |v| {
            v["transfer"]["source"] = Value::Null
        }),
        ("wrong type", |v| v["transfer"]["quantity"] = "1500".into()),
        ("zero quantity", |v| v["transfer"]["quantity"] = 0.into()),
        ("no credit blocks", |v| {
            v["transfer"]["blocks"] = serde_json::json!([])
        }),
        ("lower-case country", |v| {
            v["organization"]["country"] = "fi".into()
        }),
    ];
    for (label, mutate) in cases {
        let mut value = base.clone();
        mutate(&mut value);
        assert!(!validator.is_valid(&value), "{label} should not validate");
    }
    assert!(validator.is_valid(&base));
}
