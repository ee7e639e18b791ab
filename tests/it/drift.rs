//! The SDK's drift report against the harness's evolved payloads: each
//! evolution the strategies make is reported exactly, at its path and with
//! its kind, and valid payloads give no drift.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use icr_webhooks::drift::{Drift, Finding, FindingKind};
use icr_webhooks_harness::strategy::{Evolution, Evolved, SchemaStrategies};
use proptest::strategy::{BoxedStrategy, Strategy as _, ValueTree as _};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;

/// Payloads drawn per event and action.
const CASES: usize = 25;

fn strategies() -> &'static SchemaStrategies {
    static STRATEGIES: OnceLock<SchemaStrategies> = OnceLock::new();
    STRATEGIES.get_or_init(|| SchemaStrategies::bundled().unwrap())
}

/// `n` values drawn with a fixed seed.
fn draw<T: std::fmt::Debug>(strategy: &BoxedStrategy<T>, n: usize) -> Vec<T> {
    let config = Config {
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::XorShift,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::XorShift));
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// The drift path of a JSON pointer into `payload` of `event`: array
/// indices become `[]`, the keys of the one map of the contract
/// (`project.updated`'s `changes`) become `*`.
fn path_of(event: &str, payload: &Value, pointer: &str) -> String {
    let mut path = String::new();
    let mut at = payload;
    for segment in pointer.split('/').skip(1) {
        let key = segment.replace("~1", "/").replace("~0", "~");
        match at {
            Value::Array(items) => {
                path.push_str("[]");
                at = &items[key.parse::<usize>().unwrap()];
            }
            _ => {
                let is_map = event == "project" && path == "changes";
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(if is_map { "*" } else { &key });
                at = at.get(&key).unwrap_or(&Value::Null);
            }
        }
    }
    path
}

/// What the drift report must say of an evolved payload.
fn expected(evolved: &Evolved) -> Vec<Finding> {
    // Nothing is read below an unknown tag: the schema does not say what
    // such an object holds.
    let hidden: Vec<String> = evolved
        .evolutions
        .iter()
        .filter_map(|e| match e {
            Evolution::UnknownTag { pointer, .. } => {
                Some(format!("{}/", pointer.rsplit_once('/').unwrap().0))
            }
            _ => None,
        })
        .collect();
    let mut out = BTreeSet::new();
    for evolution in &evolved.evolutions {
        let (kind, pointer) = match evolution {
            Evolution::UnknownEvent { .. } => {
                return vec![Finding::new(FindingKind::UnknownEvent, "")];
            }
            Evolution::UnknownAction { .. } => {
                return vec![Finding::new(FindingKind::UnknownAction, "action")];
            }
            Evolution::UnknownField { pointer } => (FindingKind::UnknownField, pointer),
            Evolution::UnknownTag { pointer, .. } if pointer == "/action" => {
                (FindingKind::UnknownAction, pointer)
            }
            Evolution::UnknownEnumValue { pointer, .. } | Evolution::UnknownTag { pointer, .. } => {
                (FindingKind::UnknownEnumValue, pointer)
            }
            other => panic!("unexpected {other:?}"),
        };
        let below_its_own_tag = matches!(evolution, Evolution::UnknownTag { .. })
            && hidden.iter().filter(|h| pointer.starts_with(*h)).count() == 1;
        if hidden.iter().any(|h| pointer.starts_with(h)) && !below_its_own_tag {
            continue;
        }
        out.insert(Finding::new(
            kind,
            path_of(&evolved.event, &evolved.payload, pointer),
        ));
    }
    out.into_iter().collect()
}

#[test]
fn evolved_payloads_give_exactly_what_was_changed() {
    let mut kinds = BTreeSet::new();
    for (event, action) in strategies().pairs() {
        let strategy = strategies().evolved_payload(event, action).unwrap();
        for evolved in draw(&strategy, CASES) {
            let drift = Drift::of_value(&evolved.event, &evolved.payload).unwrap();
            assert_eq!(drift.findings(), expected(&evolved), "{evolved:#?}");
            kinds.extend(drift.findings().iter().map(|f| f.kind));
            let original = Drift::of_value(event, &evolved.original).unwrap();
            assert_eq!(original.findings(), [], "{:#?}", evolved.original);
        }
    }
    for evolved in draw(&strategies().evolved_event(), 200) {
        let drift = Drift::of_value(&evolved.event, &evolved.payload).unwrap();
        assert_eq!(drift.findings(), expected(&evolved), "{evolved:#?}");
        kinds.extend(drift.findings().iter().map(|f| f.kind));
    }
    assert_eq!(
        kinds,
        BTreeSet::from([
            FindingKind::UnknownEvent,
            FindingKind::UnknownAction,
            FindingKind::UnknownField,
            FindingKind::UnknownEnumValue,
        ])
    );
}
