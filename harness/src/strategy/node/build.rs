//! From a compiled [`Node`] to a strategy of JSON values.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

use super::{Node, NonEmpty, Object, Text, Typed};
use crate::strategy::values::{self, Gen};

/// Odds that an optional property is absent or present (2 to 3).
const OPTIONAL_ABSENT: u32 = 2;
const OPTIONAL_PRESENT: u32 = 3;
/// Entries of an `additionalProperties` map, at most.
const MAP_ENTRIES: usize = 3;

/// The strategy of JSON values for a node.
pub(crate) fn build(node: &Node) -> Gen<Value> {
    match node {
        Node::Any => values::any_json(),
        Node::Const(value) => Just(value.clone()).sboxed(),
        Node::Enum(values) => select(values.iter().cloned().collect::<Vec<_>>()).sboxed(),
        Node::Ref(definition) => definition.strategy.clone(),
        Node::Choice { branches, .. } => {
            nullable_first(branches.map(|b| (b.node.is_null(), build(&b.node))))
        }
        Node::Typed(types) if types.rest.is_empty() => build_typed(&types.first),
        Node::Typed(types) => {
            nullable_first(types.map(|t| (matches!(t, Typed::Null), build_typed(t))))
        }
    }
}

/// One of the strategies; those that only give `null` come first (so that
/// shrinking ends on `null`) and are picked a quarter as often as the others.
fn nullable_first(options: NonEmpty<(bool, Gen<Value>)>) -> Gen<Value> {
    if options.rest.is_empty() {
        return options.first.1.clone();
    }
    let (nulls, others): (Vec<_>, Vec<_>) = options.iter().cloned().partition(|(null, _)| *null);
    let weighted = nulls
        .into_iter()
        .map(|(_, s)| (1, s))
        .chain(others.into_iter().map(|(_, s)| (4, s)))
        .collect();
    values::weighted(weighted)
}

fn build_typed(typed: &Typed) -> Gen<Value> {
    match typed {
        Typed::Null => Just(Value::Null).sboxed(),
        Typed::Boolean => any::<bool>().prop_map(Value::Bool).sboxed(),
        Typed::Integer { lo, hi } => values::integer(*lo, *hi).prop_map(Value::from).sboxed(),
        Typed::Number {
            lo,
            hi,
            exclude_lo,
            exclude_hi,
        } => values::number(*lo, *hi, *exclude_lo, *exclude_hi)
            .prop_map(Value::from)
            .sboxed(),
        Typed::String(text) => {
            let strings = match text {
                Text::Plain { min, max } => values::text(*min, *max),
                Text::Pattern(strategy) => strategy.clone(),
                Text::DateTime => values::date_time(),
                Text::Date => values::date(),
                Text::Uri => values::uri(),
            };
            strings.prop_map(Value::String).sboxed()
        }
        Typed::Array { items, min, max } => prop::collection::vec(build(items), *min..=*max)
            .prop_map(Value::Array)
            .sboxed(),
        Typed::Object(object) => build_object(object),
    }
}

fn build_object(object: &Object) -> Gen<Value> {
    let fields: Vec<Gen<Option<(String, Value)>>> = object
        .properties
        .iter()
        .map(|property| {
            let name = property.name.clone();
            let entry = build(&property.node).prop_map(move |value| (name.clone(), value));
            if property.required {
                entry.prop_map(Some).sboxed()
            } else {
                values::weighted(vec![
                    (OPTIONAL_ABSENT, Just(None).sboxed()),
                    (OPTIONAL_PRESENT, entry.prop_map(Some).sboxed()),
                ])
            }
        })
        .collect();
    let extra = match &object.additional {
        Some(schema) => {
            prop::collection::vec((values::identifier(), build(schema)), 0..=MAP_ENTRIES).sboxed()
        }
        None => Just(Vec::new()).sboxed(),
    };
    let declared: Arc<BTreeSet<String>> =
        Arc::new(object.properties.iter().map(|p| p.name.clone()).collect());
    (fields, extra)
        .prop_map(move |(fields, extra)| {
            let mut map: Map<String, Value> = fields.into_iter().flatten().collect();
            for (key, value) in extra {
                if !declared.contains(&key) {
                    map.insert(key, value);
                }
            }
            Value::Object(map)
        })
        .sboxed()
}
