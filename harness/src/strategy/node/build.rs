//! From a compiled [`Node`] to a strategy of JSON values, in either
//! [`Mode`]: the full space draws leaves from `values`, the realistic mode
//! from `realistic`, which also knows each leaf's [`Site`] and arranges
//! each object once drawn.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

use super::{Node, NonEmpty, Object, Text, Typed};
use crate::strategy::Mode;
use crate::strategy::realistic::{self, Site};
use crate::strategy::values::{self, Gen};

/// Odds that an optional property is absent or present (2 to 3).
const OPTIONAL_ABSENT: u32 = 2;
const OPTIONAL_PRESENT: u32 = 3;
/// Entries of an `additionalProperties` map, at most.
const MAP_ENTRIES: usize = 3;

/// The strategy of JSON values for a node, over the full space.
pub(crate) fn build(node: &Node) -> Gen<Value> {
    build_in(node, Mode::Full, &Site::root())
}

/// The strategy of JSON values for a node in `mode`, the node being at
/// `site` (which only the realistic mode reads).
pub(crate) fn build_in(node: &Node, mode: Mode, site: &Site) -> Gen<Value> {
    match node {
        Node::Any => match mode {
            Mode::Full => values::any_json(),
            Mode::Realistic => realistic::any_json(site),
        },
        Node::Const(value) => Just(value.clone()).sboxed(),
        Node::Enum(values) => select(values.iter().cloned().collect::<Vec<_>>()).sboxed(),
        Node::Ref(definition) => match mode {
            Mode::Full => definition.strategy.clone(),
            Mode::Realistic => definition.realistic.clone(),
        },
        Node::Choice { branches, .. } => {
            nullable_first(branches.map(|b| (b.node.is_null(), build_in(&b.node, mode, site))))
        }
        Node::Typed(types) if types.rest.is_empty() => build_typed(&types.first, mode, site),
        Node::Typed(types) => {
            nullable_first(types.map(|t| (matches!(t, Typed::Null), build_typed(t, mode, site))))
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

fn build_typed(typed: &Typed, mode: Mode, site: &Site) -> Gen<Value> {
    match typed {
        Typed::Null => Just(Value::Null).sboxed(),
        Typed::Boolean => any::<bool>().prop_map(Value::Bool).sboxed(),
        Typed::Integer { lo, hi } => match mode {
            Mode::Full => values::integer(*lo, *hi),
            Mode::Realistic => realistic::integer(*lo, *hi, site),
        }
        .prop_map(Value::from)
        .sboxed(),
        Typed::Number {
            lo,
            hi,
            exclude_lo,
            exclude_hi,
        } => values::number(*lo, *hi, *exclude_lo, *exclude_hi)
            .prop_map(Value::from)
            .sboxed(),
        Typed::String(text) => {
            let strings = match mode {
                Mode::Full => full_string(text),
                Mode::Realistic => realistic::string(text, site),
            };
            strings.prop_map(Value::String).sboxed()
        }
        Typed::Array { items, min, max } => {
            prop::collection::vec(build_in(items, mode, site), *min..=*max)
                .prop_map(Value::Array)
                .sboxed()
        }
        Typed::Object(object) => build_object(object, mode, site),
    }
}

fn full_string(text: &Text) -> Gen<String> {
    match text {
        Text::Plain { min, max, .. } => values::text(*min, *max),
        Text::Pattern { full, .. } => full.clone(),
        Text::DateTime => values::date_time(),
        Text::Date => values::date(),
        Text::Uri => values::uri(),
    }
}

fn build_object(object: &Object, mode: Mode, site: &Site) -> Gen<Value> {
    let fields: Vec<Gen<Option<(String, Value)>>> = object
        .properties
        .iter()
        .map(|property| {
            let name = property.name.clone();
            let entry = build_in(&property.node, mode, &site.child(&property.name))
                .prop_map(move |value| (name.clone(), value));
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
            let keys = match mode {
                Mode::Full => values::identifier(),
                Mode::Realistic => realistic::map_key(site),
            };
            let entry = build_in(schema, mode, &site.child("*"));
            prop::collection::vec((keys, entry), 0..=MAP_ENTRIES).sboxed()
        }
        None => Just(Vec::new()).sboxed(),
    };
    let declared: Arc<BTreeSet<String>> =
        Arc::new(object.properties.iter().map(|p| p.name.clone()).collect());
    let arrange = match mode {
        Mode::Full => None,
        Mode::Realistic => Some(Arc::new(realistic::Arrangement::of(object, site))),
    };
    (fields, extra)
        .prop_map(move |(fields, extra)| {
            let mut map: Map<String, Value> = fields.into_iter().flatten().collect();
            for (key, value) in extra {
                if !declared.contains(&key) {
                    map.insert(key, value);
                }
            }
            if let Some(arrangement) = &arrange {
                arrangement.apply(&mut map);
            }
            Value::Object(map)
        })
        .sboxed()
}
