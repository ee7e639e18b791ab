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
mod shapes;

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
