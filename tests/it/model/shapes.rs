//! What the model does with payloads beside the examples: unknown fields,
//! values, kinds, actions and events kept, timestamps, and invalid shapes
//! refused with their path.

use super::*;

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
