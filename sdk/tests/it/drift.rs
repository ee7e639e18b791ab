//! The drift report over the contract's examples and over examples changed
//! the ways ICR may change them: each change gives exactly its finding,
//! and no value of the payload shows in the report.

use icr_webhooks::drift::{Drift, DriftTally, Finding, FindingKind};
use serde_json::{Value, json};

use crate::support::{example, example_files};

/// The event of an example file (`credit_transfer.completed.json`).
fn event_of(file: &str) -> &str {
    file.split('.').next().unwrap()
}

#[test]
fn every_contract_example_has_no_drift() {
    let files = example_files();
    assert_eq!(files.len(), 35);
    for file in files {
        let drift = Drift::of(event_of(&file), &example(&file)).unwrap();
        assert_eq!(drift.findings(), [], "{file}");
        assert!(drift.is_empty());
    }
    // The benchmarks' larger payloads are contract payloads too.
    for body in [
        &include_bytes!("../../benches/fixtures/credit_transfer_4k.json")[..],
        &include_bytes!("../../benches/fixtures/credit_transfer_64k.json")[..],
    ] {
        assert_eq!(Drift::of("credit_transfer", body).unwrap().findings(), []);
    }
}

/// The example `file`, changed by `change`.
fn changed(file: &str, change: impl FnOnce(&mut Value)) -> Value {
    let mut payload: Value = serde_json::from_slice(&example(file)).unwrap();
    change(&mut payload);
    payload
}

#[track_caller]
fn check(event: &str, payload: &Value, expected: &[(FindingKind, &str)]) {
    let body = serde_json::to_vec(payload).unwrap();
    let drift = Drift::of(event, &body).unwrap();
    let expected: Vec<Finding> = expected
        .iter()
        .map(|(kind, path)| Finding::new(*kind, *path))
        .collect();
    assert_eq!(drift.findings(), expected);
    assert_eq!(Drift::of_value(event, payload).unwrap(), drift);
}

const TRANSFER: &str = "credit_transfer.completed.json";

/// An event, its payload and the findings expected.
type Case<'a> = (&'a str, Value, Vec<(FindingKind, &'a str)>);

#[test]
fn each_change_gives_exactly_its_finding() {
    use FindingKind::{UnknownAction, UnknownEnumValue, UnknownEvent, UnknownField};
    let cases: Vec<Case<'_>> = vec![
        (
            "credit_transfer",
            changed(TRANSFER, |p| p["carbon_note"] = json!("secret-value-1")),
            vec![(UnknownField, "carbon_note")],
        ),
        (
            "credit_transfer",
            changed(TRANSFER, |p| {
                p["transfer"]["source"]["region"] = json!({"a": 1})
            }),
            vec![(UnknownField, "transfer.source.region")],
        ),
        (
            // In an array element, and in two elements: one finding.
            "credit_transfer",
            changed(TRANSFER, |p| {
                let block = p["transfer"]["blocks"][0].clone();
                p["transfer"]["blocks"] = json!([block.clone(), block]);
                p["transfer"]["blocks"][0]["note"] = json!("secret-value-2");
                p["transfer"]["blocks"][1]["note"] = json!(null);
            }),
            vec![(UnknownField, "transfer.blocks[].note")],
        ),
        (
            "credit_transfer",
            changed(TRANSFER, |p| {
                p["transfer"]["blocks"][0]["credit_type"] = json!("secret-value-3")
            }),
            vec![(UnknownEnumValue, "transfer.blocks[].credit_type")],
        ),
        (
            // An unknown tag: nothing is said of what its object holds.
            "credit_transfer",
            changed(TRANSFER, |p| {
                p["transfer"]["destination"]["kind"] = json!("secret-value-4");
                p["transfer"]["destination"]["extra"] = json!(1);
            }),
            vec![(UnknownEnumValue, "transfer.destination.kind")],
        ),
        (
            // A known tag: its branch's fields are known.
            "credit_transfer",
            changed(TRANSFER, |p| {
                p["transfer"]["destination"]["extra"] = json!(1)
            }),
            vec![(UnknownField, "transfer.destination.extra")],
        ),
        (
            "credit_transfer",
            changed(TRANSFER, |p| p["action"] = json!("secret-value-5")),
            vec![(UnknownAction, "action")],
        ),
        (
            "secret_event",
            changed(TRANSFER, |p| p["anything"] = json!(1)),
            vec![(UnknownEvent, "")],
        ),
        (
            // A nullable field given null, and given a value with a new field.
            "credit_transfer",
            changed(TRANSFER, |p| {
                p["transfer"]["memo"] = json!(null);
                p["transfer"]["initiated_by"]["pronouns"] = json!("x");
            }),
            vec![(UnknownField, "transfer.initiated_by.pronouns")],
        ),
        (
            // Several at once, sorted by kind then path.
            "credit_transfer",
            changed(TRANSFER, |p| {
                p["sender"]["type"] = json!("Robot");
                p["zzz"] = json!(1);
                p["aaa"] = json!(1);
                p["odd.key"] = json!(1);
            }),
            vec![
                (UnknownField, "[\"odd.key\"]"),
                (UnknownField, "aaa"),
                (UnknownField, "zzz"),
                (UnknownEnumValue, "sender.type"),
            ],
        ),
    ];
    for (event, payload, expected) in &cases {
        check(event, payload, expected);
    }
}

#[test]
fn a_maps_keys_are_not_drift_but_its_values_are_read() {
    let file = "project.updated.json";
    // `changes` maps each changed field to `{ "from": any }`.
    let payload = changed(file, |p| {
        p["changes"]["a_field_added_later"] = json!({"from": {"deep": ["any", {"json": 1}]}});
    });
    check("project", &payload, &[]);
    let payload = changed(file, |p| {
        p["changes"]["name"]["to"] = json!("secret-value-6")
    });
    check(
        "project",
        &payload,
        &[(FindingKind::UnknownField, "changes.*.to")],
    );
}

#[test]
fn no_value_of_the_payload_shows_in_the_report() {
    let payload = changed(TRANSFER, |p| {
        p["carbon_note"] = json!("secret-value-7");
        p["sender"]["type"] = json!("secret-value-8");
        p["transfer"]["destination"]["kind"] = json!("secret-value-9");
    });
    let drift = Drift::of_value("credit_transfer", &payload).unwrap();
    assert_eq!(drift.findings().len(), 3);
    let mut tally = DriftTally::new();
    tally.add("credit_transfer", &drift, std::time::SystemTime::now());
    let shown = [
        format!("{drift:?}"),
        serde_json::to_string(&drift).unwrap(),
        format!("{tally:?}"),
        serde_json::to_string(&tally.entries()).unwrap(),
        format!("{:?}", tally.entries()),
    ];
    for text in shown {
        assert!(!text.contains("secret-value"), "{text}");
    }
    let json = serde_json::to_value(&drift).unwrap();
    assert_eq!(
        json,
        json!([
            {"kind": "unknown_field", "path": "carbon_note"},
            {"kind": "unknown_enum_value", "path": "sender.type"},
            {"kind": "unknown_enum_value", "path": "transfer.destination.kind"},
        ])
    );
    let back: Drift = serde_json::from_value(json).unwrap();
    assert_eq!(back, drift);
}
