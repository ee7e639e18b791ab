//! The generator's snapshot outputs compile and behave: each expected file
//! of `codegen/tests/snapshots/*/expected/` is built here as a module.

#[rustfmt::skip]
#[allow(clippy::all, dead_code, unreachable_pub, missing_docs)]
#[path = "../../codegen/tests/snapshots/open_enum/expected/mod.rs"]
mod open_enum;

#[rustfmt::skip]
#[allow(clippy::all, dead_code, unreachable_pub, missing_docs)]
#[path = "../../codegen/tests/snapshots/tagged_union/expected/mod.rs"]
mod tagged_union;

#[rustfmt::skip]
#[allow(clippy::all, dead_code, unreachable_pub, missing_docs)]
#[path = "../../codegen/tests/snapshots/event_actions/expected/mod.rs"]
mod event_actions;

#[rustfmt::skip]
#[allow(clippy::all, dead_code, unreachable_pub, missing_docs)]
#[path = "../../codegen/tests/snapshots/fields/expected/mod.rs"]
mod fields;

use std::collections::BTreeSet;
use std::path::PathBuf;

use icr_webhooks_tests::root;
use serde_json::json;

#[test]
fn open_enum_snapshot_behaves() {
    use open_enum::{HookInsecureSsl, HookType, Level};
    let hook: open_enum::Hook =
        serde_json::from_value(json!({"type": "Bot", "insecure_ssl": "1", "level": "write"}))
            .unwrap();
    assert_eq!(hook.type_, HookType::Unknown("Bot".into()));
    assert_eq!(hook.insecure_ssl, HookInsecureSsl::Insecure);
    assert_eq!(HookInsecureSsl::Verify.as_str(), "0");
    assert_eq!(hook.level, Level::Write);
    assert_eq!(Level::KNOWN, &["read", "write"]);
}

#[test]
fn tagged_union_snapshot_behaves() {
    use tagged_union::{Destination, Transfer};
    let transfer: Transfer = serde_json::from_value(
        json!({"destination": {"kind": "external_registry", "registry_name": "Verra"}}),
    )
    .unwrap();
    let Destination::ExternalRegistry(external) = &transfer.destination else {
        panic!("wrong variant: {transfer:?}");
    };
    assert_eq!(external.registry_name, "Verra");
    assert_eq!(transfer.destination.kind(), "external_registry");
    assert_eq!(
        serde_json::to_value(&transfer).unwrap(),
        json!({"destination": {"kind": "external_registry", "registry_name": "Verra"}})
    );
}

#[test]
fn event_actions_snapshot_behaves() {
    use event_actions::{DoorEvent, Event};
    let event = Event::from_slice(
        "door",
        br#"{"action":"closed","sender":{"login":"a"},"reason":"wind"}"#,
    )
    .unwrap();
    let Event::Door(DoorEvent::Closed(closed)) = &event else {
        panic!("wrong variant: {event:?}");
    };
    assert_eq!(closed.reason, "wind");
    assert!(matches!(
        Event::from_slice("ping", br#"{"zen":"z"}"#).unwrap(),
        Event::Ping(_)
    ));
    // One entry per event file of the case, in name order.
    let mut events: Vec<String> = std::fs::read_dir(case("event_actions").join("schema/events"))
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            path.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    events.sort();
    let catalogue: Vec<&str> = event_actions::CATALOGUE
        .iter()
        .map(|spec| spec.name)
        .collect();
    assert_eq!(catalogue, events);
}

/// The folder of the snapshot case `name`.
fn case(name: &str) -> PathBuf {
    root().join("codegen/tests/snapshots").join(name)
}

/// Each case folder of `codegen/tests/snapshots/` is built as a module
/// above, so that a new case cannot go uncompiled.
#[test]
fn every_snapshot_case_is_compiled_here() {
    let source = std::fs::read_to_string(root().join("tests/it/snapshots.rs")).unwrap();
    let compiled: BTreeSet<String> = source
        .lines()
        .filter_map(|line| line.strip_prefix("#[path = \"../../codegen/tests/snapshots/"))
        .filter_map(|rest| rest.strip_suffix("/expected/mod.rs\"]"))
        .map(str::to_owned)
        .collect();
    let cases: BTreeSet<String> = std::fs::read_dir(case(""))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(compiled, cases, "add a `#[path]` module for each case");
}

#[test]
fn fields_snapshot_behaves() {
    let record: fields::Record = serde_json::from_value(json!({
        "id": 1, "balance": 0, "vintage": 2024, "memo": null, "owner": null,
        "at": "2026-11-27T14:05:40Z", "on": "2026-11-27", "changes": {"name": {"from": null}},
        "from": [1], "period": {"start": "2026-01-01"}
    }))
    .unwrap();
    assert_eq!(record.memo, None);
    assert_eq!(record.delta, None);
    let text = serde_json::to_value(&record).unwrap();
    assert_eq!(text["memo"], serde_json::Value::Null);
    assert!(text.get("delta").is_none(), "absent optional stays absent");
    let missing: Result<fields::Record, _> = serde_json::from_value(json!({
        "id": 1, "balance": 0, "vintage": 2024, "owner": null,
        "at": "2026-11-27T14:05:40Z", "on": "2026-11-27", "changes": {}, "from": 1, "period": {"start": "2026-01-01"}
    }));
    assert_eq!(missing.unwrap_err().to_string(), "missing field `memo`");
}

/// `Record` with `extra` merged over its required fields.
fn record(extra: serde_json::Value) -> Result<fields::Record, serde_json::Error> {
    let mut value = json!({
        "id": 1, "balance": 0, "vintage": 2024, "memo": null, "owner": null,
        "at": "2026-11-27T14:05:40Z", "on": "2026-11-27", "changes": {}, "from": 1,
        "period": {"start": "2026-01-01"}
    });
    for (key, field) in extra.as_object().unwrap() {
        value[key] = field.clone();
    }
    serde_json::from_value(value)
}

#[test]
fn optional_fields_tell_absent_from_null() {
    // Optional, not nullable: absent is `None`, `null` is refused.
    let absent = record(json!({})).unwrap();
    assert_eq!(
        (absent.note, absent.seen_at, absent.hint, absent.closed_at),
        (None, None, None, None)
    );
    for (field, expected) in [
        ("note", "invalid type: null, expected a string"),
        ("delta", "invalid type: null, expected i64"),
        (
            "seen_at",
            "invalid type: null, expected an RFC 3339 formatted date and time string",
        ),
        ("tags", "invalid type: null, expected a sequence"),
    ] {
        let error = record(json!({ field: null })).unwrap_err();
        assert_eq!(error.to_string(), expected, "{field}");
    }
    // Optional and nullable: `null` is `Some(None)`, and stays `null`.
    let nulls = record(json!({"hint": null, "closed_at": null})).unwrap();
    assert_eq!(
        (nulls.hint.clone(), nulls.closed_at),
        (Some(None), Some(None))
    );
    let written = serde_json::to_value(&nulls).unwrap();
    assert_eq!(
        (&written["hint"], &written["closed_at"]),
        (&json!(null), &json!(null))
    );
    assert!(
        written.get("note").is_none(),
        "an absent optional stays absent"
    );
    let set = record(json!({"hint": "h", "seen_at": "2026-11-27T14:05:40Z"})).unwrap();
    assert_eq!(set.hint, Some(Some("h".into())));
    assert_eq!(
        set.seen_at.map(|at| at.to_rfc3339()).as_deref(),
        Some("2026-11-27T14:05:40+00:00")
    );
}

#[test]
fn borrowed_snapshot_points_into_the_body_and_converts() {
    use icr_webhooks::types::IntoOwned;
    let body = br#"{"action":"closed","sender":{"login":"a\u00e9"},"reason":"wind"}"#;
    let event = event_actions::Event::from_slice_borrowed("door", body).unwrap();
    let event_actions::Event::Door(event_actions::DoorEvent::Closed(closed)) = &event else {
        panic!("wrong variant: {event:?}");
    };
    assert_eq!(closed.reason, "wind");
    assert!(closed.reason.is_borrowed());
    assert_eq!(closed.sender.login, "aé");
    assert!(
        !closed.sender.login.is_borrowed(),
        "an escaped string is a copy"
    );
    assert_eq!(event.name(), "door");
    assert_eq!(event.action(), Some("closed"));
    assert_eq!(
        IntoOwned::into_owned(event),
        event_actions::Event::from_slice("door", body).unwrap()
    );
}
