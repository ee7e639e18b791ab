//! Optional is not nullable: the properties a payload may leave out but may
//! not set to `null` (contract sections 4 and 8), found by walking a payload
//! alongside the schema it was generated from. Behind
//! [`SchemaStrategies::optional_fields`](super::SchemaStrategies::optional_fields)
//! (an oracle: a payload that parses holds `null` in none of them) and
//! [`SchemaStrategies::nulled_optional`](super::SchemaStrategies::nulled_optional)
//! (valid payloads with one of them set to `null`, which the SDK must
//! refuse with that path).

use std::sync::Arc;

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::Value;

use super::node::{Node, Typed, escape};
use super::values::{self, Gen};
use super::{SchemaStrategies, StrategyError};

/// An optional property present in a payload whose schema does not admit
/// `null`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionalField {
    /// Its JSON pointer (`/installation/permissions/members`).
    pub pointer: String,
    /// Its path as the SDK's errors write it (`installation.permissions.members`,
    /// `transfer.blocks[0].labels`).
    pub path: String,
}

/// A valid payload with one optional, non-nullable property set to `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct NulledOptional {
    /// The `X-ICR-Event` name.
    pub event: String,
    /// The action, for events that have one.
    pub action: Option<String>,
    /// The payload, with `field` set to `null`.
    pub payload: Value,
    /// The property set to `null`.
    pub field: OptionalField,
}

/// Whether `node` admits `null`.
pub(crate) fn admits_null(node: &Node) -> bool {
    match node {
        Node::Any => true,
        Node::Const(value) => value.is_null(),
        Node::Enum(values) => values.iter().any(Value::is_null),
        Node::Ref(definition) => admits_null(&definition.node),
        Node::Choice { branches, .. } => branches.iter().any(|b| admits_null(&b.node)),
        Node::Typed(types) => types.iter().any(|t| matches!(t, Typed::Null)),
    }
}

/// Whether a payload of `node` can hold an optional, non-nullable property.
pub(crate) fn has_optional(node: &Node) -> bool {
    match node {
        Node::Any | Node::Const(_) | Node::Enum(_) => false,
        Node::Ref(definition) => has_optional(&definition.node),
        Node::Choice { branches, .. } => branches.iter().any(|b| has_optional(&b.node)),
        Node::Typed(types) => types.iter().any(|t| match t {
            Typed::Object(object) => {
                object
                    .properties
                    .iter()
                    .any(|p| (!p.required && !admits_null(&p.node)) || has_optional(&p.node))
                    || object.additional.as_deref().is_some_and(has_optional)
            }
            Typed::Array { items, .. } => has_optional(items),
            _ => false,
        }),
    }
}

/// The optional, non-nullable properties `value` holds, in document order.
pub(crate) fn collect(
    node: &Node,
    value: &Value,
    at: &OptionalField,
    out: &mut Vec<OptionalField>,
) {
    match node {
        Node::Any | Node::Const(_) | Node::Enum(_) => {}
        Node::Ref(definition) => collect(&definition.node, value, at, out),
        Node::Choice { branches, .. } => {
            if let Some(branch) = branches.iter().find(|b| b.shape.admits(value)) {
                collect(&branch.node, value, at, out);
            }
        }
        Node::Typed(types) => match (types.iter().find(|t| t.admits(value)), value) {
            (Some(Typed::Object(object)), Value::Object(map)) => {
                for (key, item) in map {
                    let field = OptionalField {
                        pointer: format!("{}/{}", at.pointer, escape(key)),
                        path: if at.path.is_empty() {
                            key.clone()
                        } else {
                            format!("{}.{key}", at.path)
                        },
                    };
                    if let Some(property) = object.property(key) {
                        if !property.required && !admits_null(&property.node) {
                            out.push(field.clone());
                        }
                        collect(&property.node, item, &field, out);
                    } else if let Some(additional) = &object.additional {
                        collect(additional, item, &field, out);
                    }
                }
            }
            (Some(Typed::Array { items, .. }), Value::Array(elements)) => {
                for (index, item) in elements.iter().enumerate() {
                    let field = OptionalField {
                        pointer: format!("{}/{index}", at.pointer),
                        path: format!("{}[{index}]", at.path),
                    };
                    collect(items, item, &field, out);
                }
            }
            _ => {}
        },
    }
}

impl SchemaStrategies {
    /// The optional properties `payload` (of `event` and `action`) holds
    /// whose schema does not admit `null`, in document order: where a
    /// `null` must be refused (contract sections 4 and 8) though leaving
    /// the property out is fine.
    ///
    /// # Errors
    /// As [`SchemaStrategies::payload`].
    pub fn optional_fields(
        &self,
        event: &str,
        action: Option<&str>,
        payload: &Value,
    ) -> Result<Vec<OptionalField>, StrategyError> {
        let node = &self.find(event, action)?.node;
        let mut out = Vec::new();
        let top = OptionalField {
            pointer: String::new(),
            path: String::new(),
        };
        collect(node, payload, &top, &mut out);
        Ok(out)
    }

    /// Valid payloads, of the events and actions whose schema has an
    /// optional property that is not nullable, with one such property
    /// (drawn among those the payload holds) set to `null`. Payloads that
    /// hold none are skipped (every case, for a schema without such a
    /// property).
    pub fn nulled_optional(&self) -> BoxedStrategy<NulledOptional> {
        let options: Vec<(u32, Gen<NulledOptional>)> = self
            .inner
            .events
            .iter()
            .flat_map(|(event, payloads)| {
                payloads
                    .iter()
                    .filter(|payload| has_optional(&payload.node))
                    .map(move |payload| {
                        let event = event.clone();
                        let action = payload.action.clone();
                        let node = Arc::clone(&payload.node);
                        let nulled = (payload.strategy.clone(), any::<prop::sample::Index>())
                            .prop_filter_map("holds no optional property", move |(value, pick)| {
                                let mut fields = Vec::new();
                                let top = OptionalField {
                                    pointer: String::new(),
                                    path: String::new(),
                                };
                                collect(&node, &value, &top, &mut fields);
                                if fields.is_empty() {
                                    return None;
                                }
                                let field = fields.swap_remove(pick.index(fields.len()));
                                let mut payload = value;
                                *payload.pointer_mut(&field.pointer)? = Value::Null;
                                Some(NulledOptional {
                                    event: event.clone(),
                                    action: action.clone(),
                                    payload,
                                    field,
                                })
                            })
                            .sboxed();
                        (1, nulled)
                    })
            })
            .collect();
        if options.is_empty() {
            return Just(())
                .prop_filter_map("the schema has no optional property", |()| None)
                .boxed();
        }
        values::weighted(options).boxed()
    }
}
