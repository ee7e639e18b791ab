//! The schema-driven strategies: every event and action gives payloads that
//! validate against the bundled schema and parse into their exact variant;
//! evolved payloads are accepted with the unknown parts where the evolution
//! says (owned and borrowed parses agreeing on every payload); signed
//! deliveries are received as their exact variant; and the keyword handling,
//! shrinking and errors hold on small schemas.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use icr_webhooks::contract::EventKey;
use icr_webhooks::receive::{ContentType, Secret};
use icr_webhooks::types::{CATALOGUE, SCHEMA_JSON};
use icr_webhooks::{Event, Receiver};
use icr_webhooks_harness::sender::SenderConfig;
use icr_webhooks_harness::strategy::{Evolution, EvolutionKind, SchemaStrategies, StrategyError};
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use proptest::{prop_assert, prop_assert_eq};
use serde_json::{Value, json};

/// Payloads checked per event and action.
const CASES_PER_PAIR: u32 = 200;

fn strategies() -> &'static SchemaStrategies {
    static STRATEGIES: OnceLock<SchemaStrategies> = OnceLock::new();
    STRATEGIES.get_or_init(|| SchemaStrategies::bundled().unwrap())
}

fn bundled_document() -> Value {
    serde_json::from_str(SCHEMA_JSON).unwrap()
}

/// The configuration of every run: a fixed number of cases, no regression
/// files, and the cheaper of proptest's generators (a debug build spends a
/// good part of its time in ChaCha otherwise).
fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::XorShift,
        ..Config::default()
    }
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(config(cases))
}

/// `n` values drawn with a fixed seed.
fn samples<T: std::fmt::Debug>(strategy: &BoxedStrategy<T>, n: usize) -> Vec<T> {
    let mut runner = TestRunner::new_with_rng(
        config(1),
        TestRng::deterministic_rng(RngAlgorithm::XorShift),
    );
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

fn key(event: &str, action: Option<&str>) -> String {
    EventKey::new(event, action).to_string()
}

/// A draft-07 validator (formats checked) for `document` with a top-level
/// `$ref` to `reference`.
fn validator(document: &Value, reference: &str) -> jsonschema::Validator {
    let mut schema = document.clone();
    schema["$ref"] = json!(reference);
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

/// A validator per event of the bundled schema.
pub(crate) fn event_validators() -> BTreeMap<String, jsonschema::Validator> {
    let document = bundled_document();
    document["x-icr-events"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(event, schema)| {
            let reference = schema["$ref"].as_str().unwrap();
            (event.clone(), validator(&document, reference))
        })
        .collect()
}

fn check_valid(
    validator: &jsonschema::Validator,
    value: &Value,
    what: &str,
) -> Result<(), TestCaseError> {
    if validator.is_valid(value) {
        return Ok(());
    }
    let error = validator
        .validate(value)
        .err()
        .map(|e| format!("{e} at `{}`", e.instance_path().as_str()));
    Err(TestCaseError::fail(format!("{what} is invalid: {error:?}")))
}

/// Parses owned and borrowed; the two must agree exactly.
fn parse(event: &str, value: &Value) -> Result<Event, TestCaseError> {
    let json = serde_json::to_vec(value).unwrap();
    let owned = Event::from_slice(event, &json);
    let borrowed =
        icr_webhooks::Event::from_slice_borrowed(event, &json).map(icr_webhooks::Event::into_owned);
    if borrowed != owned {
        return Err(TestCaseError::fail(format!(
            "`{event}`: the borrowed parse differs: {borrowed:?} vs {owned:?}"
        )));
    }
    owned.map_err(|e| TestCaseError::fail(format!("`{event}` does not parse: {e}")))
}

#[track_caller]
fn run<T: std::fmt::Debug>(
    cases: u32,
    strategy: &BoxedStrategy<T>,
    what: &str,
    test: impl Fn(T) -> Result<(), TestCaseError>,
) {
    if let Err(error) = runner(cases).run(strategy, test) {
        panic!("{what}: {error}");
    }
}

#[test]
fn the_schema_describes_the_catalogue() {
    let pairs: Vec<EventKey> = strategies()
        .pairs()
        .into_iter()
        .map(|(event, action)| EventKey::new(event, action))
        .collect();
    let catalogue: Vec<EventKey> = CATALOGUE.iter().flat_map(|spec| spec.keys()).collect();
    assert_eq!(pairs, catalogue);
    // One per action, one for an event without actions (`ping`).
    let expected: usize = CATALOGUE.iter().map(|spec| spec.actions.len().max(1)).sum();
    assert_eq!(pairs.len(), expected);
}

/// Checks `CASES_PER_PAIR` payloads of one event and action: valid against
/// the schema, parsed into the exact event and action, serialized back
/// valid, and parsed back equal.
fn check_pair(event: &str, action: Option<&str>, validator: &jsonschema::Validator) {
    let strategy = strategies().payload(event, action).unwrap();
    run(CASES_PER_PAIR, &strategy, &key(event, action), |payload| {
        check_valid(validator, &payload, "the payload")?;
        proptest::prop_assert_eq!(payload.get("action").and_then(Value::as_str), action);
        let parsed = parse(event, &payload)?;
        proptest::prop_assert_eq!(parsed.name(), event);
        proptest::prop_assert_eq!(parsed.action(), action);
        proptest::prop_assert!(parsed.is_known());
        let back = serde_json::to_value(&parsed).unwrap();
        check_valid(validator, &back, "the re-serialized payload")?;
        proptest::prop_assert_eq!(parse(event, &back)?, parsed);
        Ok(())
    });
}

#[test]
fn every_event_and_action_gives_valid_payloads_that_parse_and_round_trip() {
    let validators = event_validators();
    let pairs = strategies().pairs();
    // Two threads, as the pairs are many and the machine has two cores.
    std::thread::scope(|scope| {
        for first in 0..2 {
            let (pairs, validators) = (&pairs, &validators);
            scope.spawn(move || {
                for &(event, action) in pairs.iter().skip(first).step_by(2) {
                    check_pair(event, action, &validators[event]);
                }
            });
        }
    });
}

#[test]
fn any_payload_covers_every_event_and_action() {
    let validators = event_validators();
    let mut seen = BTreeSet::new();
    for (event, action, payload) in samples(&strategies().any_payload(), 1000) {
        assert!(validators[&event].is_valid(&payload), "{event}: {payload}");
        assert_eq!(
            payload.get("action").and_then(Value::as_str),
            action.as_deref()
        );
        seen.insert(key(&event, action.as_deref()));
    }
    let all: BTreeSet<String> = CATALOGUE
        .iter()
        .flat_map(|spec| spec.keys())
        .map(|key| key.to_string())
        .collect();
    assert_eq!(seen, all);
}

#[test]
fn signed_deliveries_are_received_as_their_exact_variant() {
    let validators = event_validators();
    let config = SenderConfig::new("http://127.0.0.1:9/", Some(Secret::new("whsec_prop")));
    let receiver = Receiver::new("whsec_prop").unwrap();
    let seen = RefCell::new(BTreeSet::new());
    run(300, &strategies().delivery(), "delivery", |delivery| {
        let guid = uuid::Uuid::parse_str(&delivery.id).unwrap();
        proptest::prop_assert_eq!(guid.hyphenated().to_string(), delivery.id.clone());
        proptest::prop_assert_eq!(guid.get_version_num(), 4);
        let payload: Value = serde_json::from_slice(&delivery.payload).unwrap();
        check_valid(&validators[&delivery.event], &payload, "the payload")?;
        let wire = config.build(&delivery);
        let headers: Vec<(&str, &str)> =
            wire.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let received = receiver.receive(&headers, wire.body.clone()).unwrap();
        proptest::prop_assert_eq!(received.info.id.as_str(), delivery.id.as_str());
        proptest::prop_assert_eq!(received.info.content_type, delivery.content_type);
        proptest::prop_assert_eq!(&received.info.payload, &delivery.payload);
        proptest::prop_assert_eq!(received.event.name(), delivery.event.as_str());
        proptest::prop_assert_eq!(received.event.action(), delivery.action.as_deref());
        proptest::prop_assert!(received.event.is_known());
        seen.borrow_mut().insert(delivery.content_type.media_type());
        Ok(())
    });
    assert_eq!(
        seen.into_inner(),
        BTreeSet::from([
            ContentType::Json.media_type(),
            ContentType::Form.media_type()
        ])
    );
}

#[test]
fn one_event_deliveries_and_unknown_requests() {
    let delivery = samples(&strategies().delivery_for("ping", None).unwrap(), 1);
    assert_eq!(delivery[0].event, "ping");
    assert_eq!(delivery[0].action, None);
    assert!(matches!(
        strategies().payload("credit_dispute", None),
        Err(StrategyError::UnknownEvent { event }) if event == "credit_dispute"
    ));
    assert!(matches!(
        strategies().payload("credit_transfer", Some("opened")),
        Err(StrategyError::UnknownAction { event, action })
            if event == "credit_transfer" && action == "opened"
    ));
    assert!(matches!(
        strategies().payload("ping", Some("opened")),
        Err(StrategyError::UnknownAction { event, action }) if event == "ping" && action == "opened"
    ));
    assert!(matches!(
        strategies().evolved_payload("credit_transfer", None),
        Err(StrategyError::MissingAction { event }) if event == "credit_transfer"
    ));
    assert!(matches!(
        strategies().definition("Nope"),
        Err(StrategyError::UnknownDefinition { name }) if name == "Nope"
    ));
    let _destinations = strategies().definition("TransferDestination").unwrap();
}

/// The pointer of the object holding `pointer`.
fn parent(pointer: &str) -> &str {
    pointer.rsplit_once('/').map_or("", |(parent, _)| parent)
}

#[test]
fn evolved_payloads_keep_unknown_values_where_they_landed() {
    let seen = RefCell::new(BTreeSet::new());
    for (event, action) in strategies().pairs() {
        let strategy = strategies().evolved_payload(event, action).unwrap();
        run(40, &strategy, &key(event, action), |evolved| {
            proptest::prop_assert_eq!(evolved.event.as_str(), event);
            proptest::prop_assert_eq!(evolved.action.as_deref(), action);
            proptest::prop_assert!(!evolved.evolutions.is_empty());
            let parsed = parse(event, &evolved.payload)?;
            proptest::prop_assert_eq!(parsed.name(), event);
            proptest::prop_assert_eq!(parsed.action(), action);
            proptest::prop_assert!(parsed.is_known());
            let back = serde_json::to_value(&parsed).unwrap();
            proptest::prop_assert_eq!(&parse(event, &back)?, &parsed);
            let unknown_tags: Vec<&str> = evolved
                .evolutions
                .iter()
                .filter_map(|e| match e {
                    Evolution::UnknownTag { pointer, .. } => Some(parent(pointer)),
                    _ => None,
                })
                .collect();
            for evolution in &evolved.evolutions {
                match evolution {
                    Evolution::UnknownEnumValue { pointer, value }
                    | Evolution::UnknownTag { pointer, value } => {
                        proptest::prop_assert_eq!(back.pointer(pointer), Some(&json!(value)));
                    }
                    Evolution::UnknownField { pointer } => {
                        let kept = unknown_tags
                            .iter()
                            .any(|t| pointer.starts_with(&format!("{t}/")));
                        proptest::prop_assert_eq!(
                            back.pointer(pointer),
                            kept.then(|| evolved.payload.pointer(pointer).unwrap())
                        );
                    }
                    other => proptest::prop_assert!(false, "unexpected {other:?}"),
                }
                let kind = match evolution {
                    Evolution::UnknownField { .. } => "field",
                    Evolution::UnknownEnumValue { .. } => "enum",
                    _ => "tag",
                };
                seen.borrow_mut().insert(kind);
            }
            for tagged in &unknown_tags {
                // Kept as an unknown variant: its JSON comes back as it was.
                proptest::prop_assert_eq!(back.pointer(tagged), evolved.payload.pointer(tagged));
            }
            Ok(())
        });
    }
    assert_eq!(seen.into_inner(), BTreeSet::from(["enum", "field", "tag"]));
}

#[test]
fn unknown_fields_are_ignored() {
    for (event, action) in strategies().pairs() {
        let strategy = strategies()
            .evolved_payload_with(event, action, &[EvolutionKind::UnknownField])
            .unwrap();
        run(25, &strategy, &key(event, action), |evolved| {
            proptest::prop_assert!(!evolved.evolutions.is_empty());
            for evolution in &evolved.evolutions {
                let Evolution::UnknownField { pointer } = evolution else {
                    return Err(TestCaseError::fail(format!("unexpected {evolution:?}")));
                };
                proptest::prop_assert!(evolved.payload.pointer(pointer).is_some());
                proptest::prop_assert!(evolved.original.pointer(pointer).is_none());
            }
            let parsed = parse(event, &evolved.payload)?;
            proptest::prop_assert_eq!(&parsed, &parse(event, &evolved.original)?);
            Ok(())
        });
    }
}

#[test]
fn evolved_events_are_kept_as_unknown() {
    let known: BTreeSet<&str> = CATALOGUE.iter().map(|spec| spec.name).collect();
    let seen = RefCell::new(BTreeSet::new());
    run(
        400,
        &strategies().evolved_event(),
        "evolved event",
        |evolved| {
            let parsed = parse(&evolved.event, &evolved.payload)?;
            proptest::prop_assert!(!parsed.is_known());
            proptest::prop_assert_eq!(parsed.name(), evolved.event.as_str());
            proptest::prop_assert_eq!(parsed.action(), evolved.action.as_deref());
            // Unknown events and actions keep their whole JSON.
            proptest::prop_assert_eq!(
                serde_json::to_value(&parsed).unwrap(),
                evolved.payload.clone()
            );
            match &evolved.evolutions[0] {
                Evolution::UnknownEvent { event } => {
                    proptest::prop_assert_eq!(event, &evolved.event);
                    proptest::prop_assert!(!known.contains(event.as_str()));
                    proptest::prop_assert_eq!(&evolved.payload, &evolved.original);
                    let Event::Unknown { event: name, raw } = &parsed else {
                        return Err(TestCaseError::fail("not Event::Unknown"));
                    };
                    proptest::prop_assert_eq!(name, event);
                    proptest::prop_assert_eq!(raw.as_ref(), &evolved.payload);
                    seen.borrow_mut().insert("event");
                }
                Evolution::UnknownAction { event, action } => {
                    proptest::prop_assert_eq!(event, &evolved.event);
                    proptest::prop_assert!(known.contains(event.as_str()));
                    proptest::prop_assert_eq!(Some(action.as_str()), parsed.action());
                    let spec = CATALOGUE.iter().find(|s| s.name == event).unwrap();
                    proptest::prop_assert!(!spec.actions.contains(&action.as_str()));
                    seen.borrow_mut().insert("action");
                }
                other => proptest::prop_assert!(false, "unexpected {other:?}"),
            }
            Ok(())
        },
    );
    assert_eq!(seen.into_inner(), BTreeSet::from(["action", "event"]));
}

#[test]
fn a_schema_change_needs_no_code_change() {
    let bundled = strategies().pairs().len();
    let mut document = bundled_document();
    document["definitions"]["User"]["properties"]["type"]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("Auditor"));
    document["x-icr-events"]["credit_dispute"] = json!({"oneOf": [{
        "type": "object",
        "properties": {
            "action": {"type": "string", "const": "opened"},
            "dispute": {"type": "integer", "minimum": 1, "maximum": 9},
            "sender": {"$ref": "#/definitions/User"}
        },
        "required": ["action", "dispute", "sender"]
    }]});
    let strategies = SchemaStrategies::from_document(document.clone()).unwrap();
    assert_eq!(
        strategies.pairs().len(),
        bundled + 1,
        "one new event/action pair"
    );
    let strategy = strategies
        .payload("credit_dispute", Some("opened"))
        .unwrap();
    let validator = validator(&document, "#/definitions/User");
    let payloads = samples(&strategy, 200);
    for payload in &payloads {
        assert_eq!(payload["action"], "opened");
        assert!((1..=9).contains(&payload["dispute"].as_i64().unwrap()));
        assert!(validator.is_valid(&payload["sender"]), "{payload}");
    }
    assert!(payloads.iter().any(|p| p["sender"]["type"] == "Auditor"));
}

// Keyword handling, on small schemas.

/// A document with `definitions` and one event `e` whose payload holds an
/// `A`.
fn document(definitions: Value) -> Value {
    json!({
        "definitions": definitions,
        "x-icr-events": {"e": {
            "type": "object",
            "properties": {"a": {"$ref": "#/definitions/A"}},
            "required": ["a"]
        }}
    })
}

/// Samples of definition `A`, each checked against the schema.
fn valid_samples(a: Value, n: usize) -> Vec<Value> {
    let document = document(json!({ "A": a }));
    let strategies = SchemaStrategies::from_document(document.clone()).unwrap();
    let validator = validator(&document, "#/definitions/A");
    let values = samples(&strategies.definition("A").unwrap(), n);
    for value in &values {
        assert!(validator.is_valid(value), "{value} does not fit {a}");
    }
    values
}

mod generation;
#[allow(unused_imports)]
use generation::*;
