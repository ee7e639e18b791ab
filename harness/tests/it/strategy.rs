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

#[test]
fn integers_keep_their_bounds_and_reach_the_edges() {
    let values = valid_samples(
        json!({"type": "integer", "minimum": 1, "maximum": 9_007_199_254_740_991_i64}),
        500,
    );
    let values: Vec<i64> = values.iter().map(|v| v.as_i64().unwrap()).collect();
    assert!(values.contains(&1));
    assert!(values.contains(&9_007_199_254_740_991));
    assert!(values.contains(&9_007_199_254_740_990));

    let values = valid_samples(
        json!({"type": "integer", "exclusiveMinimum": -5, "maximum": -3}),
        100,
    );
    let seen: BTreeSet<i64> = values.iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(seen, BTreeSet::from([-4, -3]));

    let values = valid_samples(
        json!({"type": "integer", "minimum": 0.5, "exclusiveMaximum": 2.5}),
        100,
    );
    let seen: BTreeSet<i64> = values.iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(seen, BTreeSet::from([1, 2]));
}

#[test]
fn patterns_generate_matches_with_ecma_meanings() {
    for value in valid_samples(
        json!({"type": "string", "pattern": "^\\d{3}-\\w+\\s?$"}),
        200,
    ) {
        assert!(value.as_str().unwrap().is_ascii(), "{value}");
    }
    valid_samples(json!({"type": "string", "pattern": "^[^/]+/[^/]+$"}), 200);
    let countries = valid_samples(
        json!({"type": ["string", "null"], "pattern": "^[A-Z]{2}$"}),
        200,
    );
    assert!(countries.contains(&Value::Null));
    assert!(
        countries
            .iter()
            .any(|c| c.as_str().is_some_and(|c| c.len() == 2))
    );
    valid_samples(json!({"type": "string", "pattern": "ICR-P-[0-9]{4}"}), 50);
}

#[test]
fn nullable_types_and_unions_give_both() {
    let values = valid_samples(
        json!({"type": ["string", "null"], "format": "date-time"}),
        200,
    );
    assert!(values.contains(&Value::Null));
    assert!(values.iter().any(Value::is_string));
    let values = valid_samples(
        json!({"oneOf": [{"type": "object", "properties": {"x": {"type": "boolean"}}, "required": ["x"]}, {"type": "null"}]}),
        200,
    );
    assert!(values.contains(&Value::Null));
    assert!(values.iter().any(Value::is_object));
}

#[test]
fn arrays_hold_min_items_to_three_more() {
    let lengths = |values: Vec<Value>| -> BTreeSet<usize> {
        values.iter().map(|v| v.as_array().unwrap().len()).collect()
    };
    let values = valid_samples(
        json!({"type": "array", "items": {"type": "integer"}, "minItems": 2}),
        300,
    );
    assert_eq!(lengths(values), BTreeSet::from([2, 3, 4, 5]));
    let values = valid_samples(
        json!({"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2}),
        100,
    );
    assert_eq!(lengths(values), BTreeSet::from([1, 2]));
    let values = valid_samples(json!({"type": "array", "items": {"type": "string"}}), 300);
    assert_eq!(lengths(values), BTreeSet::from([0, 1, 2, 3]));
}

#[test]
fn optional_properties_come_and_go_and_maps_get_identifier_keys() {
    let values = valid_samples(
        json!({
            "type": "object",
            "properties": {"id": {"type": "integer", "minimum": 1}, "note": {"type": "string"}},
            "required": ["id"]
        }),
        200,
    );
    assert!(values.iter().all(|v| v.get("id").is_some()));
    assert!(values.iter().any(|v| v.get("note").is_some()));
    assert!(values.iter().any(|v| v.get("note").is_none()));

    let maps = valid_samples(
        json!({
            "type": "object",
            "additionalProperties": {"type": "object", "properties": {"from": {}}, "required": ["from"]}
        }),
        300,
    );
    let sizes: BTreeSet<usize> = maps.iter().map(|m| m.as_object().unwrap().len()).collect();
    assert_eq!(sizes, BTreeSet::from([0, 1, 2, 3]));
    let mut kinds = BTreeSet::new();
    for map in &maps {
        for (key, entry) in map.as_object().unwrap() {
            assert!(key.starts_with(|c: char| c.is_ascii_lowercase()), "{key}");
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            );
            kinds.insert(match &entry["from"] {
                Value::Null => "null",
                Value::Bool(_) => "bool",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            });
        }
    }
    assert_eq!(
        kinds,
        BTreeSet::from(["array", "bool", "null", "number", "object", "string"])
    );
}

#[test]
fn formats_are_valid_and_varied() {
    let values = valid_samples(json!({"type": "string", "format": "date-time"}), 500);
    let texts: Vec<&str> = values.iter().map(|v| v.as_str().unwrap()).collect();
    for text in &texts {
        let parsed: icr_webhooks::chrono::DateTime<icr_webhooks::chrono::Utc> =
            serde_json::from_value(json!(text)).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            parsed,
            icr_webhooks::chrono::DateTime::parse_from_rfc3339(&text.to_uppercase()).unwrap()
        );
    }
    assert!(texts.iter().any(|t| t.ends_with('Z') && t.len() == 20));
    assert!(texts.iter().any(|t| t.contains('.')));
    assert!(texts.iter().any(|t| t.ends_with("+00:00")));
    assert!(texts.iter().any(|t| t.contains('t') || t.ends_with('z')));
    assert!(
        texts
            .iter()
            .any(|t| t.len() == 25 && !t.ends_with("+00:00"))
    );
    valid_samples(json!({"type": "string", "format": "date"}), 300);
    for value in valid_samples(json!({"type": "string", "format": "uri"}), 100) {
        assert!(value.as_str().unwrap().starts_with("http"), "{value}");
    }
}

#[test]
fn text_is_printable_with_some_non_ascii() {
    let values = valid_samples(json!({"type": "string"}), 300);
    let texts: Vec<&str> = values.iter().map(|v| v.as_str().unwrap()).collect();
    assert!(texts.iter().all(|t| !t.chars().any(char::is_control)));
    assert!(texts.iter().any(|t| !t.is_ascii()));
    assert!(texts.contains(&""));
    let values = valid_samples(
        json!({"type": "string", "minLength": 2, "maxLength": 3}),
        100,
    );
    assert!(
        values
            .iter()
            .all(|v| (2..=3).contains(&v.as_str().unwrap().chars().count()))
    );
}

#[test]
fn failures_shrink_to_the_smallest_case() {
    let document = document(json!({
        "A": {
            "type": "object",
            "properties": {
                "id": {"type": "integer", "minimum": 3, "maximum": 10},
                "count": {"type": "integer", "minimum": 1, "maximum": 9_007_199_254_740_991_i64},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "note": {"type": ["string", "null"]},
                "at": {"oneOf": [{"$ref": "#/definitions/B"}, {"type": "null"}]},
                "destination": {"oneOf": [
                    {"type": "object", "properties": {"kind": {"const": "x"}, "n": {"type": "integer", "minimum": 5}}, "required": ["kind", "n"]},
                    {"type": "object", "properties": {"kind": {"const": "y"}}, "required": ["kind"]}
                ]},
                "extra": {"type": "string"}
            },
            "required": ["id", "count", "tags", "note", "at", "destination"]
        },
        "B": {"type": "string", "format": "date-time"}
    }));
    let strategies = SchemaStrategies::from_document(document).unwrap();
    let strategy = strategies.definition("A").unwrap();
    let mut runner = TestRunner::new(Config {
        max_shrink_iters: 100_000,
        ..config(10)
    });
    let result = runner.run(&strategy, |_| Err(TestCaseError::fail("always")));
    let Err(TestError::Fail(_, minimal)) = result else {
        panic!("expected a failure, got {result:?}");
    };
    assert_eq!(
        minimal,
        json!({
            "id": 3,
            "count": 1,
            "tags": [""],
            "note": null,
            "at": null,
            "destination": {"kind": "x", "n": 5}
        })
    );
}

/// Checks that a document whose definition `A` is `a` fails with the error
/// `expected` matches.
#[track_caller]
fn check_error(definitions: Value, expected: fn(&StrategyError) -> bool) {
    match SchemaStrategies::from_document(document(definitions.clone())) {
        Ok(_) => panic!("{definitions} compiled"),
        Err(error) => assert!(expected(&error), "{definitions}: {error:?}"),
    }
}

#[test]
fn unsupported_schemas_fail_with_the_exact_error() {
    use StrategyError as E;
    check_error(
        json!({"A": {"type": "string", "not": {"const": "x"}}}),
        |e| matches!(e, E::UnsupportedKeyword { pointer, keyword } if pointer == "/definitions/A" && keyword == "not"),
    );
    check_error(
        json!({"A": {"allOf": [{"type": "string"}]}}),
        |e| matches!(e, E::UnsupportedKeyword { keyword, .. } if keyword == "allOf"),
    );
    check_error(
        json!({"A": {"type": "array", "uniqueItems": true}}),
        |e| matches!(e, E::UnsupportedKeyword { keyword, .. } if keyword == "uniqueItems"),
    );
    check_error(
        json!({"A": {"type": "object", "properties": {"a/b": {"type": "string", "format": "email"}}}}),
        |e| {
            matches!(e, E::UnsupportedFormat { pointer, format }
                if pointer == "/definitions/A/properties/a~1b" && format == "email")
        },
    );
    check_error(
        json!({"A": {"type": "string", "pattern": "^a", "format": "date"}}),
        |e| {
            matches!(e, E::UnsupportedCombination { pointer, keywords }
            if pointer == "/definitions/A" && keywords == &["format", "pattern"])
        },
    );
    check_error(
        json!({"A": {"$ref": "#/definitions/B", "type": "object"}, "B": {}}),
        |e| matches!(e, E::UnsupportedCombination { keywords, .. } if keywords == &["$ref", "type"]),
    );
    check_error(
        json!({"A": {"type": "object", "oneOf": [{}]}}),
        |e| matches!(e, E::UnsupportedCombination { keywords, .. } if keywords == &["oneOf", "type"]),
    );
    check_error(json!({"A": {"$ref": "other.json#/definitions/A"}}), |e| {
        matches!(e, E::UnsupportedRef { pointer, reference }
            if pointer == "/definitions/A" && reference == "other.json#/definitions/A")
    });
    check_error(
        json!({"A": {"items": {"$ref": "#/definitions/Missing"}}}),
        |e| {
            matches!(e, E::UnresolvedRef { pointer, reference }
            if pointer == "/definitions/A/items" && reference == "#/definitions/Missing")
        },
    );
    check_error(
        json!({"A": {"type": "object", "properties": {"b": {"$ref": "#/definitions/B"}}}, "B": {"$ref": "#/definitions/A"}}),
        |e| {
            matches!(e, E::RefCycle { pointer, chain }
                if pointer == "/definitions/B" && chain == &["A", "B", "A"])
        },
    );
    check_error(
        json!({"A": {"$ref": "#/definitions/A"}}),
        |e| matches!(e, E::RefCycle { chain, .. } if chain == &["A", "A"]),
    );
    check_error(
        json!({"A": {"type": "integer", "minimum": 5, "maximum": 4}}),
        |e| matches!(e, E::Unsatisfiable { pointer } if pointer == "/definitions/A"),
    );
    check_error(json!({"A": {"type": "string", "enum": [1, 2]}}), |e| {
        matches!(e, E::Unsatisfiable { .. })
    });
    check_error(
        json!({"A": {"type": "array", "minItems": 3, "maxItems": 2}}),
        |e| matches!(e, E::Unsatisfiable { .. }),
    );
    check_error(json!({"A": false}), |e| {
        matches!(e, E::Unsatisfiable { .. })
    });
    check_error(
        json!({"A": 42}),
        |e| matches!(e, E::NotASchema { pointer } if pointer == "/definitions/A"),
    );
    check_error(
        json!({"A": {"oneOf": [{"type": "string"}, {"type": "string", "maxLength": 3}]}}),
        |e| matches!(e, E::AmbiguousOneOf { pointer, first: 0, second: 1 } if pointer == "/definitions/A/oneOf"),
    );
    check_error(
        json!({"A": {"type": "strin"}}),
        |e| matches!(e, E::UnsupportedType { name, .. } if name == "strin"),
    );
    check_error(
        json!({"A": {"type": "string", "pattern": "(a)\\1"}}),
        |e| matches!(e, E::Pattern { pattern, .. } if pattern == "(a)\\1"),
    );
    check_error(
        json!({"A": {"type": "array", "items": [{"type": "string"}]}}),
        |e| matches!(e, E::InvalidKeyword { keyword, .. } if keyword == "items"),
    );
    check_error(
        json!({"A": {"type": "object", "required": "id"}}),
        |e| matches!(e, E::InvalidKeyword { keyword, .. } if keyword == "required"),
    );
    let mut deep = json!({"type": "string"});
    for _ in 0..70 {
        deep = json!({"type": "array", "items": deep});
    }
    check_error(json!({ "A": deep }), |e| {
        matches!(e, E::TooDeep { limit: 64, .. })
    });
}

#[test]
fn documents_of_the_wrong_form_fail_with_the_exact_error() {
    let result = SchemaStrategies::from_document(json!({"definitions": {}}));
    assert!(matches!(
        result,
        Err(StrategyError::MissingSection {
            section: "x-icr-events"
        })
    ));
    let result = SchemaStrategies::from_document(json!({"x-icr-events": {}}));
    assert!(matches!(result, Err(StrategyError::NoEvents)));
    let result = SchemaStrategies::from_document(json!({"definitions": [], "x-icr-events": {}}));
    assert!(matches!(
        result,
        Err(StrategyError::MissingSection {
            section: "definitions"
        })
    ));
    let result = SchemaStrategies::from_document(json!({"x-icr-events": {"e": {"oneOf": [
        {"type": "object", "properties": {"action": {"const": "a"}}},
        {"type": "null"}
    ]}}}));
    assert!(matches!(result, Err(StrategyError::UntaggedEvent { event }) if event == "e"));
    // A single object event with a constant action has that one action.
    let strategies = SchemaStrategies::from_document(json!({"x-icr-events": {"e": {
        "type": "object",
        "properties": {"action": {"const": "only"}, "annotated": {"x-note": 1, "description": "d", "type": "boolean"}},
        "required": ["action", "annotated"]
    }}}))
    .unwrap();
    assert_eq!(strategies.pairs(), vec![("e", Some("only"))]);
}

#[test]
fn strategies_and_errors_cross_threads() {
    fn check<T: Send + Sync + 'static>() {}
    check::<SchemaStrategies>();
    check::<StrategyError>();
}

/// Optional is not nullable: a valid payload with one optional,
/// non-nullable property set to `null` is refused by both parses, at that
/// property's path, as a `null` of the wrong type.
#[test]
fn nulled_optional_properties_are_refused_at_their_path() {
    let strategy = strategies().nulled_optional();
    let seen = RefCell::new(BTreeSet::new());
    run(400, &strategy, "nulled optional", |nulled| {
        let json = serde_json::to_vec(&nulled.payload).unwrap();
        let owned = Event::from_slice(&nulled.event, &json);
        let borrowed = Event::from_slice_borrowed(&nulled.event, &json).map(Event::into_owned);
        prop_assert_eq!(&borrowed, &owned, "the borrowed parse differs");
        let Err(icr_webhooks::receive::ParseError::Shape {
            event,
            action,
            path,
            reason,
        }) = owned
        else {
            return Err(TestCaseError::fail(format!(
                "{} accepted: {owned:?}",
                nulled.field.path
            )));
        };
        prop_assert_eq!(
            (event, action),
            (nulled.event.clone(), nulled.action.clone())
        );
        prop_assert_eq!(&path, &nulled.field.path);
        prop_assert!(
            reason.starts_with("invalid type: null, expected "),
            "{}",
            reason
        );
        seen.borrow_mut().insert(path);
        Ok(())
    });
    // Every such property of the contract is reached: `ping.sender` and each
    // permission of an installation.
    let seen = seen.into_inner();
    for path in [
        "sender",
        "installation.permissions.members",
        "installation.permissions.transfers",
    ] {
        assert!(seen.contains(path), "{path} never nulled: {seen:?}");
    }
}

/// The oracle on valid payloads: the optional properties it lists are
/// present and not `null`, and leaving each out still parses.
#[test]
fn optional_fields_of_valid_payloads_may_be_left_out() {
    run(
        200,
        &strategies().any_payload(),
        "optional fields",
        |(event, action, payload)| {
            let fields = strategies()
                .optional_fields(&event, action.as_deref(), &payload)
                .unwrap();
            for field in fields {
                let value = payload.pointer(&field.pointer);
                prop_assert!(value.is_some_and(|v| !v.is_null()), "{}", field.pointer);
                let mut without = payload.clone();
                let (parent, key) = field.pointer.rsplit_once('/').unwrap();
                without
                    .pointer_mut(parent)
                    .and_then(Value::as_object_mut)
                    .unwrap()
                    .remove(key);
                parse(&event, &without)?;
            }
            Ok(())
        },
    );
}
