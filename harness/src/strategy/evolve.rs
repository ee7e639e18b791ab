//! Evolved payloads: valid payloads changed the ways the contract lets ICR
//! change them without notice (section 2, "Evolution"), each change recorded
//! as an [`Evolution`] that says where the unknown part is; and the
//! strategies of [`SchemaStrategies`] that draw them, unknown events and
//! actions included.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::BoxedStrategy;
use serde_json::Value;

use super::node::{Node, Typed, escape};
use super::values::{self, Gen};
use super::{Payload, SchemaStrategies, StrategyError};

/// Changes drawn per evolved payload, at most.
const MAX_EVOLUTIONS: usize = 4;

/// A kind of change [`SchemaStrategies::evolved_payload_with`] may make to a
/// payload of a known event and action.
///
/// [`SchemaStrategies::evolved_payload_with`]: super::SchemaStrategies::evolved_payload_with
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EvolutionKind {
    /// Add a field to an object that the schema describes by its
    /// properties ([`Evolution::UnknownField`]).
    UnknownField,
    /// Replace the value of a string `enum` ([`Evolution::UnknownEnumValue`]).
    UnknownEnumValue,
    /// Replace the tag of a tagged union such as `TransferDestination.kind`
    /// ([`Evolution::UnknownTag`]).
    UnknownTag,
}

impl EvolutionKind {
    /// Every kind, in the order above.
    pub const ALL: &'static [Self] =
        &[Self::UnknownField, Self::UnknownEnumValue, Self::UnknownTag];
}

/// One change made to a valid payload, and where.
///
/// Pointers are JSON pointers (RFC 6901) into the evolved payload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Evolution {
    /// A field the schema does not know was added; its value is any JSON.
    /// A receiver ignores it.
    UnknownField {
        /// The new field, e.g. `/transfer/blocks/0/vintage_note`.
        pointer: String,
    },
    /// A string enum value was replaced by one the schema does not list.
    /// A receiver keeps it and serializes it back unchanged.
    UnknownEnumValue {
        /// The replaced value, e.g. `/sender/type`.
        pointer: String,
        /// The new value.
        value: String,
    },
    /// The tag of a tagged union was replaced by one the schema does not
    /// list. A receiver keeps the object as an unknown variant with its JSON.
    UnknownTag {
        /// The tag property, e.g. `/transfer/destination/kind`.
        pointer: String,
        /// The new tag.
        value: String,
    },
    /// The `action` of a known event was replaced by one it does not have.
    UnknownAction {
        /// The event name.
        event: String,
        /// The new action.
        action: String,
    },
    /// The event name is one the schema does not have; the payload is a
    /// valid payload of some known event and action.
    UnknownEvent {
        /// The new event name.
        event: String,
    },
}

impl Evolution {
    /// The JSON pointer of the change, for changes inside the payload.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Self::UnknownField { pointer }
            | Self::UnknownEnumValue { pointer, .. }
            | Self::UnknownTag { pointer, .. } => Some(pointer),
            Self::UnknownAction { .. } | Self::UnknownEvent { .. } => None,
        }
    }
}

/// A payload evolved from a valid one, with what was changed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Evolved {
    /// The event name to deliver it under (unknown for
    /// [`Evolution::UnknownEvent`]).
    pub event: String,
    /// The payload's `action`, if it has one (unknown for
    /// [`Evolution::UnknownAction`]).
    pub action: Option<String>,
    /// The valid payload before the changes.
    pub original: Value,
    /// The payload after the changes.
    pub payload: Value,
    /// The changes, in the order they were made. May be empty when the
    /// payload has no place for the kinds asked for (no tagged union for
    /// [`EvolutionKind::UnknownTag`]).
    pub evolutions: Vec<Evolution>,
}

/// One change to make, as drawn by the strategy: which kind (an index into
/// the kinds allowed), which place (an index into the places of that kind),
/// a name for the new field or value, and a value for a new field.
pub(crate) type Draw = (Index, Index, String, Value);

/// `name`, or `name` with `_` appended until it is not in `taken`.
pub(crate) fn fresh(mut name: String, taken: impl Fn(&str) -> bool) -> String {
    while taken(&name) {
        name.push('_');
    }
    name
}

/// An object described by its properties: unknown fields may go there.
struct ObjectSite {
    pointer: String,
    declared: BTreeSet<String>,
}

/// A string value with a closed set of known values.
struct ValueSite {
    pointer: String,
    known: BTreeSet<String>,
}

#[derive(Default)]
struct Sites {
    objects: Vec<ObjectSite>,
    enums: Vec<ValueSite>,
    tags: Vec<ValueSite>,
}

/// Walks a value and the node it was generated from, noting the places
/// where each kind of change may go.
fn collect(node: &Node, value: &Value, pointer: &str, sites: &mut Sites) {
    match node {
        Node::Any | Node::Const(_) => {}
        Node::Ref(definition) => collect(&definition.node, value, pointer, sites),
        Node::Enum(values) => {
            let known: Option<BTreeSet<String>> = values
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect();
            if let (Some(known), true) = (known, value.is_string()) {
                sites.enums.push(ValueSite {
                    pointer: pointer.to_owned(),
                    known,
                });
            }
        }
        Node::Choice { branches, tags } => {
            let Some(branch) = branches.iter().find(|b| b.shape.admits(value)) else {
                return;
            };
            if let Some(tag) = tags.first() {
                if value.get(tag).is_some_and(Value::is_string) {
                    sites.tags.push(ValueSite {
                        pointer: format!("{pointer}/{}", escape(tag)),
                        known: branches
                            .iter()
                            .filter_map(|b| b.shape.tag(tag).map(str::to_owned))
                            .collect(),
                    });
                }
            }
            collect(&branch.node, value, pointer, sites);
        }
        Node::Typed(types) => match (types.iter().find(|t| t.admits(value)), value) {
            (Some(Typed::Object(object)), Value::Object(map)) => {
                if !object.properties.is_empty() && object.additional.is_none() {
                    sites.objects.push(ObjectSite {
                        pointer: pointer.to_owned(),
                        declared: object.properties.iter().map(|p| p.name.clone()).collect(),
                    });
                }
                for (key, item) in map {
                    let at = format!("{pointer}/{}", escape(key));
                    if let Some(property) = object.property(key) {
                        collect(&property.node, item, &at, sites);
                    } else if let Some(additional) = &object.additional {
                        collect(additional, item, &at, sites);
                    }
                }
            }
            (Some(Typed::Array { items, .. }), Value::Array(elements)) => {
                for (index, item) in elements.iter().enumerate() {
                    collect(items, item, &format!("{pointer}/{index}"), sites);
                }
            }
            _ => {}
        },
    }
}

/// Applies the drawn changes to `payload`, generated from `node`, using only
/// the `kinds` given; a draw whose kind has no place left tries the next
/// kind, and is dropped when none has.
pub(crate) fn evolve(
    node: &Node,
    payload: &mut Value,
    draws: Vec<Draw>,
    kinds: &[EvolutionKind],
) -> Vec<Evolution> {
    let mut sites = Sites::default();
    collect(node, payload, "", &mut sites);
    let mut replaced: BTreeSet<String> = BTreeSet::new();
    let mut evolutions = Vec::new();
    if kinds.is_empty() {
        return evolutions;
    }
    for (kind, place, name, value) in draws {
        let start = kind.index(kinds.len());
        let order = kinds.iter().cycle().skip(start).take(kinds.len());
        for kind in order {
            let done = match kind {
                EvolutionKind::UnknownField => {
                    add_field(&sites.objects, place, &name, &value, payload)
                }
                EvolutionKind::UnknownEnumValue => {
                    replace_value(&sites.enums, place, &name, payload, &mut replaced)
                        .map(|(pointer, value)| Evolution::UnknownEnumValue { pointer, value })
                }
                EvolutionKind::UnknownTag => {
                    replace_value(&sites.tags, place, &name, payload, &mut replaced)
                        .map(|(pointer, value)| Evolution::UnknownTag { pointer, value })
                }
            };
            if let Some(evolution) = done {
                evolutions.push(evolution);
                break;
            }
        }
    }
    evolutions
}

fn add_field(
    sites: &[ObjectSite],
    place: Index,
    name: &str,
    value: &Value,
    payload: &mut Value,
) -> Option<Evolution> {
    if sites.is_empty() {
        return None;
    }
    let site = sites.get(place.index(sites.len()))?;
    let object = payload.pointer_mut(&site.pointer)?.as_object_mut()?;
    let name = fresh(name.to_owned(), |n| {
        site.declared.contains(n) || object.contains_key(n)
    });
    let pointer = format!("{}/{}", site.pointer, escape(&name));
    object.insert(name, value.clone());
    Some(Evolution::UnknownField { pointer })
}

fn replace_value(
    sites: &[ValueSite],
    place: Index,
    name: &str,
    payload: &mut Value,
    replaced: &mut BTreeSet<String>,
) -> Option<(String, String)> {
    let free: Vec<&ValueSite> = sites
        .iter()
        .filter(|s| !replaced.contains(&s.pointer))
        .collect();
    if free.is_empty() {
        return None;
    }
    let site = free.get(place.index(free.len()))?;
    let slot = payload.pointer_mut(&site.pointer)?;
    let value = fresh(name.to_owned(), |n| site.known.contains(n));
    *slot = Value::String(value.clone());
    replaced.insert(site.pointer.clone());
    Some((site.pointer.clone(), value))
}

impl SchemaStrategies {
    /// Valid payloads of `event` and `action` with one to four changes of
    /// any [`EvolutionKind`].
    ///
    /// # Errors
    /// As [`SchemaStrategies::payload`].
    pub fn evolved_payload(
        &self,
        event: &str,
        action: Option<&str>,
    ) -> Result<BoxedStrategy<Evolved>, StrategyError> {
        self.evolved_payload_with(event, action, EvolutionKind::ALL)
    }

    /// Valid payloads of `event` and `action` with one to four changes of
    /// the `kinds` given. A change goes to a place drawn among those the
    /// payload has for its kind (objects described by their properties,
    /// string enums, tagged unions); when there is none it takes the next
    /// kind, so [`Evolved::evolutions`] may be shorter than drawn, or empty.
    /// Two changes never replace the same value.
    ///
    /// # Errors
    /// As [`SchemaStrategies::payload`].
    pub fn evolved_payload_with(
        &self,
        event: &str,
        action: Option<&str>,
        kinds: &[EvolutionKind],
    ) -> Result<BoxedStrategy<Evolved>, StrategyError> {
        let payload = self.find(event, action)?;
        let node = Arc::clone(&payload.node);
        let kinds = kinds.to_vec();
        let event = event.to_owned();
        let action = action.map(str::to_owned);
        let draws = prop::collection::vec(draw(), 1..=MAX_EVOLUTIONS);
        Ok((payload.strategy.clone(), draws)
            .prop_map(move |(original, draws)| {
                let mut evolved = original.clone();
                let evolutions = evolve(&node, &mut evolved, draws, &kinds);
                Evolved {
                    event: event.clone(),
                    action: action.clone(),
                    original,
                    payload: evolved,
                    evolutions,
                }
            })
            .boxed())
    }

    /// Payloads of events or actions the schema does not have: a valid
    /// payload of a known event delivered under an unknown event name
    /// ([`Evolution::UnknownEvent`]), or a valid payload of a known event
    /// whose `action` is replaced by one the event does not have
    /// ([`Evolution::UnknownAction`]). The evolution is the first in
    /// [`Evolved::evolutions`]; up to three unknown fields may follow.
    pub fn evolved_event(&self) -> BoxedStrategy<Evolved> {
        let known_events: Arc<Vec<String>> = Arc::new(self.inner.events.keys().cloned().collect());
        let unknown_event = (self.any_payload_gen(), values::identifier())
            .prop_map(move |((_, action, payload), name)| {
                let event = fresh(name, |n| known_events.iter().any(|e| e == n));
                Evolved {
                    evolutions: vec![Evolution::UnknownEvent {
                        event: event.clone(),
                    }],
                    event,
                    action,
                    original: payload.clone(),
                    payload,
                }
            })
            .sboxed();
        let with_actions: Vec<Gen<Evolved>> = self
            .inner
            .events
            .iter()
            .flat_map(|(event, payloads)| {
                let known: Arc<Vec<String>> =
                    Arc::new(payloads.iter().filter_map(|p| p.action.clone()).collect());
                payloads
                    .iter()
                    .filter(|p| p.action.is_some())
                    .map(move |payload| unknown_action(event.clone(), Arc::clone(&known), payload))
            })
            .collect();
        if with_actions.is_empty() {
            return unknown_event.boxed();
        }
        let unknown_action = values::weighted(with_actions.into_iter().map(|s| (1, s)).collect());
        values::weighted(vec![(1, unknown_event), (1, unknown_action)]).boxed()
    }
}

/// One drawn change: kind, place, name, value of a new field.
fn draw() -> impl Strategy<Value = Draw> {
    (
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        values::identifier(),
        values::any_json(),
    )
}

/// Payloads of a known event whose `action` is replaced by an unknown one,
/// with up to three unknown fields besides.
fn unknown_action(event: String, known: Arc<Vec<String>>, payload: &Payload) -> Gen<Evolved> {
    let node = Arc::clone(&payload.node);
    let fields = prop::collection::vec(draw(), 0..MAX_EVOLUTIONS);
    (payload.strategy.clone(), values::identifier(), fields)
        .prop_map(move |(original, name, draws)| {
            let action = fresh(name, |n| known.iter().any(|a| a == n));
            let mut payload = original.clone();
            let mut evolutions = vec![Evolution::UnknownAction {
                event: event.clone(),
                action: action.clone(),
            }];
            evolutions.extend(evolve(
                &node,
                &mut payload,
                draws,
                &[EvolutionKind::UnknownField],
            ));
            if let Some(object) = payload.as_object_mut() {
                object.insert("action".to_owned(), Value::String(action.clone()));
            }
            Evolved {
                event: event.clone(),
                action: Some(action),
                original,
                payload,
                evolutions,
            }
        })
        .sboxed()
}

#[cfg(test)]
mod tests {
    use super::fresh;

    #[test]
    fn fresh_names_avoid_taken_ones() {
        let taken = ["kind", "kind_"];
        assert_eq!(fresh("kind".into(), |n| taken.contains(&n)), "kind__");
        assert_eq!(fresh("other".into(), |n| taken.contains(&n)), "other");
    }
}
