//! What the strategies generate, keyword by keyword (integers, patterns,
//! nullable types, arrays, optional properties, formats, text), how
//! failures shrink, and the exact errors of what they cannot generate.

use super::*;

#[test]
pub(super) fn integers_keep_their_bounds_and_reach_the_edges() {
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
pub(super) fn patterns_generate_matches_with_ecma_meanings() {
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
pub(super) fn nullable_types_and_unions_give_both() {
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
pub(super) fn arrays_hold_min_items_to_three_more() {
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
pub(super) fn optional_properties_come_and_go_and_maps_get_identifier_keys() {
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
pub(super) fn formats_are_valid_and_varied() {
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
pub(super) fn text_is_printable_with_some_non_ascii() {
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
pub(super) fn failures_shrink_to_the_smallest_case() {
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
pub(super) fn check_error(definitions: Value, expected: fn(&StrategyError) -> bool) {
    match SchemaStrategies::from_document(document(definitions.clone())) {
        Ok(_) => panic!("{definitions} compiled"),
        Err(error) => assert!(expected(&error), "{definitions}: {error:?}"),
    }
}

#[test]
pub(super) fn unsupported_schemas_fail_with_the_exact_error() {
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
pub(super) fn documents_of_the_wrong_form_fail_with_the_exact_error() {
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
pub(super) fn strategies_and_errors_cross_threads() {
    fn check<T: Send + Sync + 'static>() {}
    check::<SchemaStrategies>();
    check::<StrategyError>();
}

/// Optional is not nullable: a valid payload with one optional,
/// non-nullable property set to `null` is refused by both parses, at that
/// property's path, as a `null` of the wrong type.
#[test]
pub(super) fn nulled_optional_properties_are_refused_at_their_path() {
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
pub(super) fn optional_fields_of_valid_payloads_may_be_left_out() {
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
