//! Proptest strategies built at run time from the bundled JSON Schema (the
//! one the codegen writes), not written per event, so they follow a schema
//! change with no code change.
//!
//! [`SchemaStrategies`] compiles the document once: every definition into a
//! strategy (shared by every `$ref` to it), every event of `x-icr-events`
//! into one strategy per action (the `oneOf` branch whose `action` is that
//! `const`). From it come:
//! - valid payloads: [`SchemaStrategies::payload`] for one event and action,
//!   [`SchemaStrategies::any_payload`] across the catalogue; both over the
//!   full space the schema allows (offsets and fractions in timestamps, far
//!   years, any printable Unicode), for property tests;
//! - valid payloads as ICR writes them, for samples and the mock sender:
//!   [`SchemaStrategies::payload_in`] with [`Mode::Realistic`];
//! - full deliveries, unsigned: [`SchemaStrategies::delivery`];
//! - evolved payloads, changed as the contract lets ICR change them without
//!   notice, each change described by an [`Evolution`]:
//!   [`SchemaStrategies::evolved_payload`] (unknown fields, enum values and
//!   union tags) and [`SchemaStrategies::evolved_event`] (unknown actions
//!   and events);
//! - payloads the SDK must refuse because an optional property that is not
//!   nullable holds `null`: [`SchemaStrategies::nulled_optional`], with
//!   [`SchemaStrategies::optional_fields`] as the oracle that lists them.
//!
//! Handled: `$ref` (to `#/definitions/<name>`), `oneOf` (branches told apart
//! by type, `const` or a `const` property, else an error) and `anyOf`,
//! `const`, `enum`, `type` (a name or a list: `["string", "null"]` is
//! sometimes `null`), `properties` with `required` (optional properties come
//! and go independently), `additionalProperties` as a schema (0 to 3 extra
//! identifier-like keys), `items` with `minItems`/`maxItems` (at most
//! `minItems + 3` items), `minimum`/`maximum` and their exclusive forms
//! (integers hit their bounds exactly, and sometimes the edges), `pattern`
//! (ECMA-262, rewritten for the generator), `format` `date-time`, `date` and
//! `uri`, `minLength`/`maxLength`. Annotations and `x-` keywords are
//! ignored; anything else is a [`StrategyError`] naming the JSON pointer.
//!
//! Everything is a proptest strategy with shrinking value trees, so a failing
//! case shrinks: optional properties go, arrays drop to `minItems`, integers
//! go toward zero within their bounds (to the minimum of an ID), nullable
//! values to `null`, unions to their first branch, strings to the fewest and
//! simplest characters.
//!
//! ```
//! use icr_webhooks::Event;
//! use icr_webhooks_harness::strategy::SchemaStrategies;
//! use proptest::prelude::*;
//! use proptest::test_runner::{Config, TestRunner};
//!
//! let strategies = SchemaStrategies::bundled()?;
//! let completed = strategies.payload("credit_transfer", Some("completed"))?;
//! let mut runner = TestRunner::new(Config {
//!     cases: 16,
//!     failure_persistence: None,
//!     ..Config::default()
//! });
//! runner.run(&completed, |payload| {
//!     let event = Event::from_slice("credit_transfer", payload.to_string().as_bytes())
//!         .map_err(|e| TestCaseError::fail(e.to_string()))?;
//!     prop_assert_eq!(event.action(), Some("completed"));
//!     Ok(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod delivery;
mod error;
mod evolve;
mod node;
mod optional;
mod pattern;
mod realistic;
mod trees;
mod values;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::Value;

pub use self::error::StrategyError;
pub use self::evolve::{Evolution, EvolutionKind, Evolved};
pub use self::optional::{NulledOptional, OptionalField};
pub use self::realistic::{REALISTIC_NOW, REALISTIC_SINCE};

use self::node::{Compiler, Definition, Node, Typed, build, build_in, escape};
use self::realistic::Site;
use self::values::Gen;

/// Which values the strategies draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Everything the schema allows: timestamps in any RFC 3339 form (lower
    /// case, fractions, offsets) from 1900 to 2199, any printable text
    /// (quotes, backslashes, CJK, emoji), integers at their bounds. What
    /// property tests need; [`SchemaStrategies::payload`] and the others
    /// draw this.
    #[default]
    Full,
    /// Payloads as the contract says ICR writes them: timestamps in UTC
    /// with `Z` and whole seconds, from [`REALISTIC_SINCE`] to
    /// [`REALISTIC_NOW`], in order within each object (created, updated,
    /// then completed, suspended, revoked...); names, logins, memos,
    /// purposes and reasons a person would write; identifiers in ICR's
    /// shapes; a quantity the sum of its blocks. No control characters,
    /// line breaks or unpaired code points. What samples and the mock sender
    /// send; still valid under the schema.
    Realistic,
}

/// Strategies for every event, action and definition of a schema document.
///
/// Cheap to clone; `Send` and `Sync`.
#[derive(Clone)]
pub struct SchemaStrategies {
    inner: Arc<Inner>,
}

struct Inner {
    /// Event name to its payloads, one per action (or one with no action).
    events: BTreeMap<String, Vec<Payload>>,
    definitions: BTreeMap<String, Arc<Definition>>,
}

/// The payloads of one event and action.
struct Payload {
    action: Option<String>,
    node: Arc<Node>,
    strategy: Gen<Value>,
    /// In [`Mode::Realistic`].
    realistic: Gen<Value>,
}

impl fmt::Debug for SchemaStrategies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaStrategies")
            .field("pairs", &self.pairs())
            .field("definitions", &self.inner.definitions.keys())
            .finish()
    }
}

impl SchemaStrategies {
    /// Strategies from the schema bundled in the SDK
    /// (`icr_webhooks::types::SCHEMA_JSON`).
    ///
    /// # Errors
    /// [`StrategyError::NotJson`], and those of
    /// [`SchemaStrategies::from_document`]; none for the schema as shipped.
    pub fn bundled() -> Result<Self, StrategyError> {
        let document: Value =
            serde_json::from_str(icr_webhooks::types::SCHEMA_JSON).map_err(|source| {
                StrategyError::NotJson {
                    source: Box::new(source),
                }
            })?;
        Self::from_document(document)
    }

    /// Strategies from a bundled schema document: `definitions` holds the
    /// named schemas, `x-icr-events` maps each event name to its payload
    /// schema. An event whose schema is a union must have a string `const`
    /// `action` in every branch; each branch is one action.
    ///
    /// # Errors
    /// [`StrategyError::MissingSection`] or [`StrategyError::NoEvents`] when
    /// the document is not of that form, and any error of a schema it holds
    /// (every definition is checked, used or not): unsupported keywords,
    /// formats or combinations, bad `$ref`s and cycles, unsatisfiable
    /// schemas, ambiguous `oneOf`s, patterns that cannot be generated from.
    pub fn from_document(document: Value) -> Result<Self, StrategyError> {
        let definitions = match document.get("definitions") {
            None => None,
            Some(Value::Object(definitions)) => Some(definitions),
            Some(_) => {
                return Err(StrategyError::MissingSection {
                    section: "definitions",
                });
            }
        };
        let Some(Value::Object(event_schemas)) = document.get("x-icr-events") else {
            return Err(StrategyError::MissingSection {
                section: "x-icr-events",
            });
        };
        if event_schemas.is_empty() {
            return Err(StrategyError::NoEvents);
        }
        let mut compiler = Compiler::new(definitions);
        compiler.all_definitions()?;
        let mut events = BTreeMap::new();
        for (event, schema) in event_schemas {
            let pointer = format!("/x-icr-events/{}", escape(event));
            let node = compiler.node(schema, &pointer, 0)?;
            events.insert(event.clone(), payloads(event, &node)?);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                events,
                definitions: compiler.into_definitions(),
            }),
        })
    }

    /// Every event and action of the schema, sorted by event and then in
    /// schema order; `None` for an event without actions (`ping`).
    pub fn pairs(&self) -> Vec<(&str, Option<&str>)> {
        self.inner
            .events
            .iter()
            .flat_map(|(event, payloads)| {
                payloads
                    .iter()
                    .map(move |p| (event.as_str(), p.action.as_deref()))
            })
            .collect()
    }

    fn find(&self, event: &str, action: Option<&str>) -> Result<&Payload, StrategyError> {
        let payloads = self
            .inner
            .events
            .get(event)
            .ok_or_else(|| StrategyError::UnknownEvent {
                event: event.to_owned(),
            })?;
        payloads
            .iter()
            .find(|p| p.action.as_deref() == action)
            .ok_or_else(|| match action {
                Some(action) => StrategyError::UnknownAction {
                    event: event.to_owned(),
                    action: action.to_owned(),
                },
                None => StrategyError::MissingAction {
                    event: event.to_owned(),
                },
            })
    }

    /// Valid payloads of `event` with `action` (`None` for an event without
    /// actions, such as `ping`).
    ///
    /// # Errors
    /// [`StrategyError::UnknownEvent`], [`StrategyError::UnknownAction`] (an
    /// action the event does not have, or any action for an event without
    /// actions), [`StrategyError::MissingAction`] (no action for an event
    /// that has actions).
    pub fn payload(
        &self,
        event: &str,
        action: Option<&str>,
    ) -> Result<BoxedStrategy<Value>, StrategyError> {
        self.payload_in(event, action, Mode::Full)
    }

    /// Valid payloads of `event` with `action`, drawn in `mode`:
    /// [`Mode::Full`] as [`SchemaStrategies::payload`], [`Mode::Realistic`]
    /// as ICR writes them.
    ///
    /// # Errors
    /// As [`SchemaStrategies::payload`].
    pub fn payload_in(
        &self,
        event: &str,
        action: Option<&str>,
        mode: Mode,
    ) -> Result<BoxedStrategy<Value>, StrategyError> {
        let payload = self.find(event, action)?;
        Ok(match mode {
            Mode::Full => payload.strategy.clone().boxed(),
            Mode::Realistic => payload.realistic.clone().boxed(),
        })
    }

    /// Valid payloads of a named definition (`User`, `Transfer`, ...).
    ///
    /// # Errors
    /// [`StrategyError::UnknownDefinition`].
    pub fn definition(&self, name: &str) -> Result<BoxedStrategy<Value>, StrategyError> {
        self.inner
            .definitions
            .get(name)
            .map(|definition| definition.strategy.clone().boxed())
            .ok_or_else(|| StrategyError::UnknownDefinition {
                name: name.to_owned(),
            })
    }

    fn any_payload_gen(&self) -> Gen<(String, Option<String>, Value)> {
        let options = self.inner.events.iter().flat_map(|(event, payloads)| {
            payloads.iter().map(move |payload| {
                let event = event.clone();
                let action = payload.action.clone();
                payload
                    .strategy
                    .clone()
                    .prop_map(move |value| (event.clone(), action.clone(), value))
                    .sboxed()
            })
        });
        values::weighted(options.map(|option| (1, option)).collect())
    }

    /// Valid payloads of every event and action of the schema, each pair as
    /// likely as the others: `(event, action, payload)`.
    pub fn any_payload(&self) -> BoxedStrategy<(String, Option<String>, Value)> {
        self.any_payload_gen().boxed()
    }

    /// Deliveries of valid payloads of every event and action, as the
    /// sender's [`Outgoing`](crate::sender::Outgoing): sign and send them with
    /// [`Sender`](crate::sender::Sender), or build the signed request with
    /// [`SenderConfig::build`](crate::sender::SenderConfig::build).
    pub fn delivery(&self) -> BoxedStrategy<crate::sender::Outgoing> {
        delivery::deliveries(self.any_payload_gen()).boxed()
    }

    /// Deliveries of valid payloads of `event` and `action`, as
    /// [`SchemaStrategies::delivery`] makes them.
    ///
    /// # Errors
    /// As [`SchemaStrategies::payload`].
    pub fn delivery_for(
        &self,
        event: &str,
        action: Option<&str>,
    ) -> Result<BoxedStrategy<crate::sender::Outgoing>, StrategyError> {
        let payload = self.find(event, action)?;
        let event = event.to_owned();
        let action = action.map(str::to_owned);
        let payloads = payload
            .strategy
            .clone()
            .prop_map(move |value| (event.clone(), action.clone(), value))
            .sboxed();
        Ok(delivery::deliveries(payloads).boxed())
    }
}

/// The payloads of an event: one per branch of a union tagged by `action`,
/// or one for a single schema (whose action is its `action` `const`, if
/// any).
fn payloads(event: &str, node: &Node) -> Result<Vec<Payload>, StrategyError> {
    match node.resolved() {
        Node::Choice { branches, tags } => {
            if !tags.iter().any(|t| t == "action") {
                return Err(StrategyError::UntaggedEvent {
                    event: event.to_owned(),
                });
            }
            Ok(branches
                .iter()
                .map(|branch| Payload {
                    action: branch.shape.tag("action").map(str::to_owned),
                    strategy: build(&branch.node),
                    realistic: build_in(&branch.node, Mode::Realistic, &Site::of(event)),
                    node: Arc::new(branch.node.clone()),
                })
                .collect())
        }
        resolved => {
            let action = match resolved {
                Node::Typed(types) => match types.first.as_ref() {
                    Typed::Object(object) => object
                        .property("action")
                        .filter(|p| p.required)
                        .and_then(|p| match p.node.resolved() {
                            Node::Const(Value::String(action)) => Some(action.clone()),
                            _ => None,
                        }),
                    _ => None,
                },
                _ => None,
            };
            Ok(vec![Payload {
                action,
                strategy: build(node),
                realistic: build_in(node, Mode::Realistic, &Site::of(event)),
                node: Arc::new(node.clone()),
            }])
        }
    }
}
