//! The generated model: every example parses into its exact variant and
//! round-trips; unknown parts land in the unknown variants and survive;
//! invalid payloads fail with the exact error and path. Every parse here is
//! done twice, owned and borrowed, and the two must agree.

use icr_webhooks::Event;
use icr_webhooks::receive::ParseError;
use icr_webhooks::types::EventPayload;
use icr_webhooks::types::*;
use icr_webhooks_tests::{Example, event_validator, examples};
use serde_json::{Value, json};

type Matcher = fn(&Event) -> bool;

/// Each example file with the pattern its parse must match.
const EXPECTED: &[(&str, Matcher)] = &[
    ("credit_issuance.issued", |e| {
        matches!(e, Event::CreditIssuance(CreditIssuanceEvent::Issued(_)))
    }),
    ("credit_issuance.revoked", |e| {
        matches!(e, Event::CreditIssuance(CreditIssuanceEvent::Revoked(_)))
    }),
    ("credit_retirement.completed", |e| {
        matches!(
            e,
            Event::CreditRetirement(CreditRetirementEvent::Completed(_))
        )
    }),
    ("credit_retirement.rejected", |e| {
        matches!(
            e,
            Event::CreditRetirement(CreditRetirementEvent::Rejected(_))
        )
    }),
    ("credit_retirement.requested", |e| {
        matches!(
            e,
            Event::CreditRetirement(CreditRetirementEvent::Requested(_))
        )
    }),
    ("credit_transfer.cancelled", |e| {
        matches!(e, Event::CreditTransfer(CreditTransferEvent::Cancelled(_)))
    }),
    ("credit_transfer.completed", |e| {
        matches!(e, Event::CreditTransfer(CreditTransferEvent::Completed(_)))
    }),
    ("credit_transfer.created", |e| {
        matches!(e, Event::CreditTransfer(CreditTransferEvent::Created(_)))
    }),
    ("credit_transfer.rejected", |e| {
        matches!(e, Event::CreditTransfer(CreditTransferEvent::Rejected(_)))
    }),
    ("credit_transfer.reversed", |e| {
        matches!(e, Event::CreditTransfer(CreditTransferEvent::Reversed(_)))
    }),
    ("icr_app_authorization.revoked", |e| {
        matches!(
            e,
            Event::IcrAppAuthorization(IcrAppAuthorizationEvent::Revoked(_))
        )
    }),
    ("installation.created", |e| {
        matches!(e, Event::Installation(InstallationEvent::Created(_)))
    }),
    ("installation.deleted", |e| {
        matches!(e, Event::Installation(InstallationEvent::Deleted(_)))
    }),
    ("installation.new_permissions_accepted", |e| {
        matches!(
            e,
            Event::Installation(InstallationEvent::NewPermissionsAccepted(_))
        )
    }),
    ("installation.suspend", |e| {
        matches!(e, Event::Installation(InstallationEvent::Suspend(_)))
    }),
    ("installation.unsuspend", |e| {
        matches!(e, Event::Installation(InstallationEvent::Unsuspend(_)))
    }),
    ("installation_inventories.added", |e| {
        matches!(
            e,
            Event::InstallationInventories(InstallationInventoriesEvent::Added(_))
        )
    }),
    ("installation_inventories.removed", |e| {
        matches!(
            e,
            Event::InstallationInventories(InstallationInventoriesEvent::Removed(_))
        )
    }),
    ("inventory.archived", |e| {
        matches!(e, Event::Inventory(InventoryEvent::Archived(_)))
    }),
    ("inventory.created", |e| {
        matches!(e, Event::Inventory(InventoryEvent::Created(_)))
    }),
    ("inventory.deleted", |e| {
        matches!(e, Event::Inventory(InventoryEvent::Deleted(_)))
    }),
    ("inventory.renamed", |e| {
        matches!(e, Event::Inventory(InventoryEvent::Renamed(_)))
    }),
    ("inventory.unarchived", |e| {
        matches!(e, Event::Inventory(InventoryEvent::Unarchived(_)))
    }),
    ("meta.deleted", |e| {
        matches!(e, Event::Meta(MetaEvent::Deleted(_)))
    }),
    ("organization.deleted", |e| {
        matches!(e, Event::Organization(OrganizationEvent::Deleted(_)))
    }),
    ("organization.member_added", |e| {
        matches!(e, Event::Organization(OrganizationEvent::MemberAdded(_)))
    }),
    ("organization.member_invited", |e| {
        matches!(e, Event::Organization(OrganizationEvent::MemberInvited(_)))
    }),
    ("organization.member_removed", |e| {
        matches!(e, Event::Organization(OrganizationEvent::MemberRemoved(_)))
    }),
    ("organization.renamed", |e| {
        matches!(e, Event::Organization(OrganizationEvent::Renamed(_)))
    }),
    ("ping", |e| matches!(e, Event::Ping(_))),
    ("project.completed", |e| {
        matches!(e, Event::Project(ProjectEvent::Completed(_)))
    }),
    ("project.registered", |e| {
        matches!(e, Event::Project(ProjectEvent::Registered(_)))
    }),
    ("project.reinstated", |e| {
        matches!(e, Event::Project(ProjectEvent::Reinstated(_)))
    }),
    ("project.suspended", |e| {
        matches!(e, Event::Project(ProjectEvent::Suspended(_)))
    }),
    ("project.updated", |e| {
        matches!(e, Event::Project(ProjectEvent::Updated(_)))
    }),
];

fn example(file: &str) -> Example {
    examples()
        .unwrap()
        .into_iter()
        .find(|e| e.file == format!("{file}.json"))
        .unwrap()
}

fn parse(event: &str, value: &Value) -> Result<Event, ParseError> {
    both(event, &serde_json::to_vec(value).unwrap())
}

/// Parses with [`Event::from_slice`] and with the borrowed twin, which must
/// agree exactly (the same value once owned, or the same error).
#[track_caller]
fn both(event: &str, json: &[u8]) -> Result<Event, ParseError> {
    let owned = Event::from_slice(event, json);
    let borrowed = icr_webhooks::Event::from_slice_borrowed(event, json);
    assert_eq!(
        borrowed.map(icr_webhooks::Event::into_owned),
        owned,
        "{event}: the borrowed parse differs"
    );
    owned
}

#[test]
fn every_example_parses_into_its_exact_variant() {
    let all = examples().unwrap();
    assert_eq!(all.len(), EXPECTED.len());
    for (example, (file, matcher)) in all.iter().zip(EXPECTED) {
        assert_eq!(example.file, format!("{file}.json"));
        let event = both(&example.event, &example.bytes).unwrap();
        assert!(matcher(&event), "{file} parsed as {:?}", event.name());
        assert_eq!(event.name(), example.event);
        assert_eq!(event.action(), example.action.as_deref());
        assert!(event.is_known(), "{file}");
    }
}

#[test]
fn every_example_round_trips_and_still_validates() {
    for example in examples().unwrap() {
        let event = both(&example.event, &example.bytes).unwrap();
        let bytes = serde_json::to_vec(&event).unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let validator = event_validator(&example.event).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", example.file);
        assert_eq!(
            both(&example.event, &bytes).unwrap(),
            event,
            "{}",
            example.file
        );
        // Nothing the contract defines is lost: the re-serialized JSON is the
        // original JSON (timestamps are written in ICR's own form).
        let original: Value = serde_json::from_slice(&example.bytes).unwrap();
        assert_eq!(value, original, "{}", example.file);
    }
}

#[test]
fn payload_types_know_their_event_and_action() {
    let event = both(
        "credit_transfer",
        &example("credit_transfer.completed").bytes,
    )
    .unwrap();
    assert_eq!(CreditTransferCompleted::EVENT, "credit_transfer");
    assert_eq!(CreditTransferCompleted::ACTION, Some("completed"));
    let other = CreditTransferCreated::from_event(event.clone()).unwrap_err();
    assert_eq!(other, event);
    let completed = CreditTransferCompleted::from_event(event.clone()).unwrap();
    assert_eq!(completed.transfer.quantity.get(), 1500);
    assert_eq!(Event::from(completed), event);
    let whole = CreditTransferEvent::from_event(event.clone()).unwrap();
    assert_eq!(whole.action(), "completed");
    assert_eq!(PingEvent::ACTION, None);
}

#[test]
fn typed_values_are_the_contract_types() {
    let event = both(
        "credit_transfer",
        &example("credit_transfer.completed").bytes,
    )
    .unwrap();
    let Event::CreditTransfer(CreditTransferEvent::Completed(payload)) = event else {
        panic!("wrong variant");
    };
    let transfer = &payload.transfer;
    assert_eq!(transfer.id.get(), 88213);
    assert_eq!(transfer.status, TransferStatus::Completed);
    assert_eq!(
        transfer.memo.as_deref(),
        Some("Q4 offset purchase, PO 7731")
    );
    assert_eq!(
        transfer.completed_at,
        Some(
            "2026-11-27T14:05:40Z"
                .parse::<icr_webhooks::chrono::DateTime<icr_webhooks::chrono::Utc>>()
                .unwrap()
        )
    );
    let TransferDestination::Inventory(destination) = &transfer.destination else {
        panic!("wrong destination");
    };
    assert_eq!(
        destination.inventory.full_name,
        "acme-airlines/offsets-2026"
    );
    let block = &transfer.blocks[0];
    assert_eq!(block.vintage, 2024);
    assert_eq!(block.credit_type, CreditBlockCreditType::Removal);
    assert_eq!(payload.inventory.credit_balance, 48500);
    assert_eq!(payload.sender.type_, UserType::User);
}

/// Adds `x_future` to every object, recursively; not to the `changes` map
/// of `project.updated`, whose every key is a field name.
fn add_unknown_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_field_map = map.values().all(|v| v.get("from").is_some()) && !map.is_empty();
            for child in map.values_mut() {
                add_unknown_fields(child);
            }
            if !is_field_map {
                map.insert("x_future".into(), json!({"nested": [1, "two", null]}));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(add_unknown_fields),
        _ => {}
    }
}

#[test]
fn extra_fields_at_every_level_are_ignored() {
    for example in examples().unwrap() {
        let original = both(&example.event, &example.bytes).unwrap();
        let mut value: Value = serde_json::from_slice(&example.bytes).unwrap();
        add_unknown_fields(&mut value);
        assert_eq!(
            parse(&example.event, &value).unwrap(),
            original,
            "{}",
            example.file
        );
    }
}

#[test]
fn unknown_enum_values_are_kept_and_round_trip() {
    let mut value: Value =
        serde_json::from_slice(&example("credit_transfer.completed").bytes).unwrap();
    value["transfer"]["status"] = "on_hold".into();
    value["transfer"]["blocks"][0]["credit_type"] = "sequestration".into();
    value["sender"]["type"] = "Auditor".into();
    let event = parse("credit_transfer", &value).unwrap();
    let Event::CreditTransfer(CreditTransferEvent::Completed(payload)) = &event else {
        panic!("wrong variant");
    };
    assert_eq!(
        payload.transfer.status,
        TransferStatus::Unknown("on_hold".into())
    );
    assert_eq!(
        payload.transfer.blocks[0].credit_type,
        CreditBlockCreditType::Unknown("sequestration".into())
    );
    assert_eq!(payload.sender.type_, UserType::Unknown("Auditor".into()));
    assert_eq!(payload.transfer.status.as_str(), "on_hold");
    assert_eq!(serde_json::to_value(&event).unwrap(), value);
}

#[test]
fn unknown_destination_kind_is_kept_with_its_json() {
    let mut value: Value =
        serde_json::from_slice(&example("credit_transfer.completed").bytes).unwrap();
    let destination = json!({"kind": "escrow", "escrow_id": "E-17", "release_on": "2027-01-01"});
    value["transfer"]["destination"] = destination.clone();
    let event = parse("credit_transfer", &value).unwrap();
    let Event::CreditTransfer(CreditTransferEvent::Completed(payload)) = &event else {
        panic!("wrong variant");
    };
    assert_eq!(
        payload.transfer.destination,
        TransferDestination::Unknown {
            kind: "escrow".into(),
            raw: Box::new(destination)
        }
    );
    assert_eq!(serde_json::to_value(&event).unwrap(), value);
}

#[test]
fn unknown_action_of_a_known_event_is_kept() {
    let mut value: Value =
        serde_json::from_slice(&example("credit_transfer.completed").bytes).unwrap();
    value["action"] = "disputed".into();
    let event = parse("credit_transfer", &value).unwrap();
    assert_eq!(
        event,
        Event::CreditTransfer(CreditTransferEvent::Unknown {
            action: "disputed".into(),
            raw: Box::new(value.clone())
        })
    );
    assert_eq!(event.action(), Some("disputed"));
    assert!(!event.is_known());
    assert_eq!(serde_json::to_value(&event).unwrap(), value);
}

#[test]
fn unknown_event_is_kept() {
    let value = json!({"action": "opened", "dispute": {"id": 3}, "sender": {"id": 1}});
    let event = parse("credit_dispute", &value).unwrap();
    assert_eq!(
        event,
        Event::Unknown {
            event: "credit_dispute".into(),
            raw: Box::new(value.clone())
        }
    );
    assert_eq!(event.name(), "credit_dispute");
    assert_eq!(event.action(), Some("opened"));
    assert!(!event.is_known());
    assert_eq!(serde_json::to_value(&event).unwrap(), value);
}

#[test]
fn timestamps_accept_any_rfc3339_form() {
    let mut value: Value =
        serde_json::from_slice(&example("credit_transfer.completed").bytes).unwrap();
    value["transfer"]["created_at"] = "2026-11-27T16:02:11.250+02:00".into();
    let event = parse("credit_transfer", &value).unwrap();
    let Event::CreditTransfer(CreditTransferEvent::Completed(payload)) = &event else {
        panic!("wrong variant");
    };
    assert_eq!(
        payload.transfer.created_at.to_rfc3339(),
        "2026-11-27T14:02:11.250+00:00"
    );

    // RFC 3339's lower-case `t` and `z`, and the space its section 5.6
    // allows between date and time; a nullable timestamp takes them too.
    value["transfer"]["created_at"] = "2026-11-27t14:02:11z".into();
    value["transfer"]["completed_at"] = "2026-11-27 14:05:40-00:30".into();
    let event = parse("credit_transfer", &value).unwrap();
    let Event::CreditTransfer(CreditTransferEvent::Completed(payload)) = &event else {
        panic!("wrong variant");
    };
    assert_eq!(
        payload.transfer.created_at.to_rfc3339(),
        "2026-11-27T14:02:11+00:00"
    );
    assert_eq!(
        payload.transfer.completed_at.map(|at| at.to_rfc3339()),
        Some("2026-11-27T14:35:40+00:00".to_owned())
    );
}

#[test]
fn timestamps_outside_rfc3339_are_refused_with_the_path() {
    // ISO 8601 forms that RFC 3339 does not allow: no offset, a basic
    // format, a week date.
    for (at, reason) in [
        ("2026-11-27T14:02:11", "premature end of input"),
        ("20261127T140211Z", "premature end of input"),
        ("2026-W48-5T14:02:11Z", "input contains invalid characters"),
    ] {
        let mut value: Value =
            serde_json::from_slice(&example("credit_transfer.completed").bytes).unwrap();
        value["transfer"]["completed_at"] = at.into();
        assert_eq!(
            parse("credit_transfer", &value).unwrap_err(),
            ParseError::Shape {
                event: "credit_transfer".into(),
                action: Some("completed".into()),
                path: "transfer.completed_at".into(),
                reason: format!("not an RFC 3339 date-time: {reason}"),
            },
            "{at}"
        );
    }
}

#[track_caller]
fn check_shape(file: &str, mutate: fn(&mut Value), path: &str, reason: &str) {
    let example = example(file);
    let mut value: Value = serde_json::from_slice(&example.bytes).unwrap();
    mutate(&mut value);
    assert_eq!(
        parse(&example.event, &value).unwrap_err(),
        ParseError::Shape {
            event: example.event.clone(),
            action: example.action.clone(),
            path: path.into(),
            reason: reason.into(),
        }
    );
}

#[test]
fn invalid_payloads_fail_with_the_path() {
    let ct = "credit_transfer.completed";
    check_shape(
        ct,
        |v| {
            v["transfer"].as_object_mut().unwrap().remove("quantity");
        },
        "transfer",
        "missing field `quantity`",
    );
    check_shape(
        ct,
        |v| {
            v["transfer"].as_object_mut().unwrap().remove("memo");
        },
        "transfer",
        "missing field `memo`",
    );
    check_shape(
        ct,
        |v| v["transfer"]["source"] = Value::Null,
        "transfer.source",
        "invalid type: null, expected struct InventoryRef",
    );
    check_shape(
        ct,
        |v| v["transfer"]["quantity"] = "1500".into(),
        "transfer.quantity",
        "invalid type: string, expected a nonzero u64",
    );
    check_shape(
        ct,
        |v| v["transfer"]["quantity"] = 0.into(),
        "transfer.quantity",
        "invalid value: integer, expected a nonzero u64",
    );
    check_shape(
        ct,
        |v| v["inventory"]["credit_balance"] = (-1).into(),
        "inventory.credit_balance",
        "invalid value: integer, expected u64",
    );
    check_shape(
        ct,
        |v| v["transfer"]["blocks"][0]["vintage"] = 70000.into(),
        "transfer.blocks[0].vintage",
        "invalid value: integer, expected u16",
    );
    check_shape(
        ct,
        |v| v["transfer"]["created_at"] = "yesterday".into(),
        "transfer.created_at",
        "not an RFC 3339 date-time: premature end of input",
    );
    check_shape(
        ct,
        |v| v["transfer"]["status"] = 3.into(),
        "transfer.status",
        "invalid type: integer, expected a string",
    );
    check_shape(
        ct,
        |v| {
            v.as_object_mut().unwrap().remove("sender");
        },
        ".",
        "missing field `sender`",
    );
    check_shape(
        "credit_transfer.rejected",
        |v| {
            v.as_object_mut().unwrap().remove("reason");
        },
        ".",
        "missing field `reason`",
    );
    check_shape(
        ct,
        |v| v["transfer"]["destination"] = json!({"kind": "inventory"}),
        "transfer.destination",
        "missing field `inventory`",
    );
    check_shape(
        "ping",
        |v| v["hook"]["config"]["content_type"] = Value::Null,
        "hook.config.content_type",
        "invalid type: null, expected a string",
    );
}

#[test]
fn missing_or_bad_action_and_non_objects() {
    let shape = |reason: &str| ParseError::Shape {
        event: "credit_transfer".into(),
        action: None,
        path: ".".into(),
        reason: reason.into(),
    };
    assert_eq!(
        parse("credit_transfer", &json!({"transfer": {}})).unwrap_err(),
        shape("missing field `action`")
    );
    assert_eq!(
        parse("credit_transfer", &json!({"action": 7})).unwrap_err(),
        ParseError::Shape {
            event: "credit_transfer".into(),
            action: None,
            path: "action".into(),
            reason: "invalid type: integer, expected a string".into(),
        }
    );
    assert_eq!(
        both("credit_transfer", br#"{"action":"a","action":"b"}"#).unwrap_err(),
        shape("duplicate field `action`")
    );
    assert_eq!(
        both("credit_transfer", b"[1, 2]").unwrap_err(),
        ParseError::NotAnObject
    );
    assert_eq!(
        both("ping", b"\"zen\"").unwrap_err(),
        ParseError::NotAnObject
    );
    assert_eq!(
        both("credit_dispute", b"42").unwrap_err(),
        ParseError::NotAnObject
    );
    assert_eq!(
        both("credit_transfer", b"{\"action\":").unwrap_err(),
        ParseError::Malformed {
            line: 1,
            column: 10,
            reason: "EOF while parsing a value".into()
        }
    );
    assert_eq!(
        both("credit_dispute", b"{} x").unwrap_err(),
        ParseError::Malformed {
            line: 1,
            column: 4,
            reason: "trailing characters".into()
        }
    );
}

#[test]
fn the_tag_may_come_anywhere_in_the_object() {
    for example in examples().unwrap() {
        let original = both(&example.event, &example.bytes).unwrap();
        // The same object with `action` (and `kind`) written last.
        let text = String::from_utf8(example.bytes.clone()).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        let mut reordered = String::from("{");
        let map = value.as_object().unwrap();
        for (key, field) in map.iter().filter(|(k, _)| *k != "action") {
            let mut field = field.clone();
            if let Some(destination) = field.get_mut("destination").and_then(Value::as_object_mut) {
                let kind = destination.remove("kind").unwrap();
                destination.insert("kind".into(), kind);
            }
            reordered.push_str(&format!(
                "{}:{},",
                serde_json::to_string(key).unwrap(),
                field
            ));
        }
        if let Some(action) = map.get("action") {
            reordered.push_str(&format!("\"action\":{action},"));
        }
        reordered.pop();
        reordered.push('}');
        let parsed = both(&example.event, reordered.as_bytes()).unwrap();
        assert_eq!(parsed, original, "{}", example.file);
    }
}

/// `(sender.login, transfer.node_id)` of a borrowed `credit_transfer.completed`:
/// each one's text and whether it points into the body.
fn borrowed_fields(json: &[u8]) -> [(String, bool); 2] {
    use icr_webhooks::Event;
    use icr_webhooks::types::CreditTransferEvent;
    match Event::from_slice_borrowed("credit_transfer", json).unwrap() {
        Event::CreditTransfer(CreditTransferEvent::Completed(done)) => [
            (
                done.sender.login.to_string(),
                done.sender.login.is_borrowed(),
            ),
            (
                done.transfer.node_id.to_string(),
                done.transfer.node_id.is_borrowed(),
            ),
        ],
        other => panic!("wrong variant: {other:?}"),
    }
}

#[test]
fn borrowed_strings_are_copies_only_when_escaped_or_before_the_tag() {
    let text = String::from_utf8(example("credit_transfer.completed").bytes).unwrap();
    let login = ("aino.virtanen".to_owned(), true);
    let node_id = ("TRF_kwDOAAFYtQ".to_owned(), true);
    // As ICR writes it, `action` first: both point into the body.
    assert_eq!(
        borrowed_fields(text.as_bytes()),
        [login.clone(), node_id.clone()]
    );
    // An escaped string is decoded into a copy; the others still borrow.
    let escaped = text.replace("\"aino.virtanen\"", "\"aino.virtan\\u0065n\"");
    assert_eq!(
        borrowed_fields(escaped.as_bytes()),
        [("aino.virtanen".to_owned(), false), node_id.clone()]
    );
    // `action` last: every member before it was held as a JSON value, so
    // its strings are copies. The values are the same.
    let without = text.replacen("\"action\": \"completed\",", "", 1);
    let last = format!(
        "{},\"action\":\"completed\"}}",
        without.trim_end().strip_suffix('}').unwrap()
    );
    assert_eq!(
        borrowed_fields(last.as_bytes()),
        [
            ("aino.virtanen".to_owned(), false),
            ("TRF_kwDOAAFYtQ".to_owned(), false)
        ]
    );
    for json in [&text, &escaped, &last] {
        both("credit_transfer", json.as_bytes()).unwrap();
    }
}
