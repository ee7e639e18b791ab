//! The schemas themselves: every file is valid draft-07, every example
//! validates against its event, and the bundle matches the catalogue.

use std::collections::BTreeSet;

use icr_webhooks_tests::{bundled_schema, event_validator, examples, root};
use serde_json::Value;

/// `CreditBlock` from `credit_block`.
fn pascal(stem: &str) -> String {
    stem.split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

/// How many event/action pairs the catalogue has, `ping` one of them.
fn catalogue_pairs() -> usize {
    icr_webhooks::types::CATALOGUE
        .iter()
        .map(|spec| spec.actions.len().max(1))
        .sum()
}

/// Every file is checked, and the files are the bundle: each definition of
/// it comes from one of them (`credit_block.json` is `CreditBlock`, the
/// `definitions` inside a file keep their keys, `events/ping.json` is
/// `PingEvent`), and the events are the catalogue's.
#[test]
fn every_schema_file_is_valid_draft07() {
    let mut definitions = BTreeSet::new();
    let mut events = BTreeSet::new();
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
            let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
            if folder == "events" {
                definitions.insert(format!("{}Event", pascal(&stem)));
                events.insert(stem);
            } else {
                definitions.insert(pascal(&stem));
            }
            if let Some(Value::Object(locals)) = schema.get("definitions") {
                definitions.extend(locals.keys().cloned());
            }
        }
    }
    let bundle = bundled_schema().unwrap();
    assert!(jsonschema::draft7::meta::is_valid(&bundle));
    let bundled: BTreeSet<String> = bundle["definitions"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(definitions, bundled);
    let catalogue: BTreeSet<String> = icr_webhooks::types::CATALOGUE
        .iter()
        .map(|spec| spec.name.to_owned())
        .collect();
    assert_eq!(events, catalogue);
}

#[test]
fn every_example_validates_against_its_event() {
    let all = examples().unwrap();
    assert_eq!(
        all.len(),
        catalogue_pairs(),
        "one per event/action pair and ping"
    );
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

/// Our copies of the contract's two signed examples are its bytes exactly:
/// each verifies under the signature the contract publishes for it (section
/// 7), which covers every byte, the final newline included. The contract's
/// own files are not read: a clone of this repository does not have them.
#[test]
fn contract_examples_are_byte_for_byte() {
    const SECRET: &str = "whsec_Q7mN4rT8p3Xv2kLs9dE1";
    for (name, signature) in [
        (
            "credit_transfer.completed.json",
            "sha256=6896b0dfa4a6a54664f6af2ed8627fe4e244b073ca31f2ccc48b77cb99056d21",
        ),
        (
            "ping.json",
            "sha256=979bca6f1b11006d77cd4c9f7e3439fb1fa9ab198e5b9ea03b7d5e2596993534",
        ),
    ] {
        let ours = std::fs::read(root().join("schema/examples").join(name)).unwrap();
        assert_eq!(
            icr_webhooks::receive::Secret::new(SECRET)
                .sign(&ours)
                .to_string(),
            signature,
            "{name}"
        );
    }
}

#[test]
fn examples_cover_the_catalogue_exactly() {
    let keys: BTreeSet<String> = icr_webhooks::types::CATALOGUE
        .iter()
        .flat_map(|spec| spec.keys())
        .map(|key| key.to_string())
        .collect();
    let files: BTreeSet<String> = examples()
        .unwrap()
        .into_iter()
        .map(|e| e.file.trim_end_matches(".json").to_owned())
        .collect();
    assert_eq!(keys, files);
    assert_eq!(keys.len(), catalogue_pairs());
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
