//! The compiled form of a schema: [`Node`], checked once against the
//! keywords the strategies handle ([`Compiler`], reading each keyword in
//! `keywords`), with every `$ref` resolved to a shared [`Definition`]
//! that carries its strategy (so each definition is built once), and
//! [`build()`] that turns a node into a strategy of JSON values.

mod build;
mod compile;
mod keywords;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

pub(crate) use self::build::{build, build_in};
pub(crate) use self::compile::Compiler;
use super::values::Gen;

/// A list with at least one element, so that choosing from it cannot fail.
#[derive(Debug, Clone)]
pub(crate) struct NonEmpty<T> {
    /// Boxed, so that nodes may hold lists of nodes.
    pub(crate) first: Box<T>,
    pub(crate) rest: Vec<T>,
}

impl<T> NonEmpty<T> {
    fn from_vec(mut items: Vec<T>) -> Option<Self> {
        if items.is_empty() {
            return None;
        }
        let first = Box::new(items.remove(0));
        Some(Self { first, rest: items })
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        std::iter::once(&*self.first).chain(self.rest.iter())
    }

    fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> NonEmpty<U> {
        NonEmpty {
            first: Box::new(f(&self.first)),
            rest: self.rest.iter().map(f).collect(),
        }
    }
}

/// A named schema of `definitions`, compiled once, with its strategy.
#[derive(Debug)]
pub(crate) struct Definition {
    pub(crate) node: Node,
    /// Over the full space.
    pub(crate) strategy: Gen<Value>,
    /// In [`Mode::Realistic`](crate::strategy::Mode::Realistic).
    pub(crate) realistic: Gen<Value>,
}

/// A compiled schema.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// Any JSON value (`{}`, `true`, no type and no keyword).
    Any,
    /// `const`.
    Const(Value),
    /// `enum` (values already filtered by `type`).
    Enum(NonEmpty<Value>),
    /// `$ref` to a definition.
    Ref(Arc<Definition>),
    /// `oneOf` (exclusive) or `anyOf`: any one branch.
    Choice {
        branches: NonEmpty<Branch>,
        /// Properties that hold a different string `const` in every branch,
        /// sorted (`action` for events, `kind` for `TransferDestination`).
        tags: Vec<String>,
    },
    /// One or more JSON types (`type: ["string", "null"]`).
    Typed(NonEmpty<Typed>),
}

/// A branch of a [`Node::Choice`], with what tells it apart.
#[derive(Debug, Clone)]
pub(crate) struct Branch {
    pub(crate) shape: Shape,
    pub(crate) node: Node,
}

/// One JSON type with its keywords.
#[derive(Debug, Clone)]
pub(crate) enum Typed {
    Null,
    Boolean,
    Integer {
        lo: i64,
        hi: i64,
    },
    Number {
        lo: f64,
        hi: f64,
        exclude_lo: bool,
        exclude_hi: bool,
    },
    String(Text),
    Array {
        items: Box<Node>,
        min: usize,
        max: usize,
    },
    Object(Object),
}

/// What strings a string schema generates.
#[derive(Debug, Clone)]
pub(crate) enum Text {
    /// `min..=max` characters (`max` at most [`TEXT_SLACK`] past `min`);
    /// `limit` is the schema's own `maxLength`.
    ///
    /// [`TEXT_SLACK`]: keywords::TEXT_SLACK
    Plain {
        min: usize,
        max: usize,
        limit: Option<usize>,
    },
    /// `pattern`: its source, and generators of every string the pattern
    /// matches (`full`) and of those made only of `[A-Za-z0-9._-]` where
    /// the pattern leaves the choice open (`plain`).
    Pattern {
        source: String,
        full: Gen<String>,
        plain: Gen<String>,
    },
    DateTime,
    Date,
    Uri,
}

/// An object schema.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub(crate) properties: Vec<Property>,
    /// `additionalProperties` as a schema: extra entries are generated.
    pub(crate) additional: Option<Box<Node>>,
}

impl Object {
    pub(crate) fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }
}

/// A property of an object schema.
#[derive(Debug, Clone)]
pub(crate) struct Property {
    pub(crate) name: String,
    pub(crate) required: bool,
    pub(crate) node: Node,
}

/// JSON type bits.
pub(crate) mod bits {
    pub(crate) const NULL: u8 = 1;
    pub(crate) const BOOLEAN: u8 = 2;
    pub(crate) const INTEGER: u8 = 4;
    /// Numbers with a fractional part.
    pub(crate) const FRACTION: u8 = 8;
    pub(crate) const STRING: u8 = 16;
    pub(crate) const ARRAY: u8 = 32;
    pub(crate) const OBJECT: u8 = 64;
    pub(crate) const ALL: u8 = 127;
}

/// The JSON type bit of a value.
pub(crate) fn type_bit(value: &Value) -> u8 {
    match value {
        Value::Null => bits::NULL,
        Value::Bool(_) => bits::BOOLEAN,
        Value::Number(n) if n.is_i64() || n.is_u64() => bits::INTEGER,
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => bits::INTEGER,
        Value::Number(_) => bits::FRACTION,
        Value::String(_) => bits::STRING,
        Value::Array(_) => bits::ARRAY,
        Value::Object(_) => bits::OBJECT,
    }
}

/// A coarse picture of what a node may generate: enough to check that the
/// branches of a `oneOf` never match one value together, and to find back
/// which branch a value came from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shape {
    /// [`bits`] of the JSON types.
    types: u8,
    /// The only values, for `const` and `enum`.
    values: Option<Vec<Value>>,
    /// Required object properties with a `const` value.
    tags: BTreeMap<String, Value>,
}

impl Shape {
    fn of(node: &Node) -> Self {
        match node {
            Node::Any => Self {
                types: bits::ALL,
                ..Self::default()
            },
            Node::Const(value) => Self {
                types: type_bit(value),
                values: Some(vec![value.clone()]),
                tags: BTreeMap::new(),
            },
            Node::Enum(values) => Self {
                types: values.iter().fold(0, |acc, v| acc | type_bit(v)),
                values: Some(values.iter().cloned().collect()),
                tags: BTreeMap::new(),
            },
            Node::Ref(definition) => Self::of(&definition.node),
            Node::Choice { branches, .. } => {
                let mut types = 0;
                let mut values = Some(Vec::new());
                for branch in branches.iter() {
                    types |= branch.shape.types;
                    values = match (values, &branch.shape.values) {
                        (Some(mut all), Some(more)) => {
                            all.extend(more.iter().cloned());
                            Some(all)
                        }
                        _ => None,
                    };
                }
                Self {
                    types,
                    values,
                    tags: BTreeMap::new(),
                }
            }
            Node::Typed(types) => {
                let mut shape = Self {
                    types: types.iter().fold(0, |acc, t| acc | t.bits()),
                    ..Self::default()
                };
                if let (Typed::Object(object), true) = (types.first.as_ref(), types.rest.is_empty())
                {
                    for property in object.properties.iter().filter(|p| p.required) {
                        if let Node::Const(value) = property.node.resolved() {
                            shape.tags.insert(property.name.clone(), value.clone());
                        }
                    }
                }
                shape
            }
        }
    }

    /// Whether a value may have come from the node this shape describes.
    pub(crate) fn admits(&self, value: &Value) -> bool {
        self.types & type_bit(value) != 0
            && self
                .values
                .as_ref()
                .is_none_or(|values| values.contains(value))
            && self
                .tags
                .iter()
                .all(|(key, tag)| value.get(key) == Some(tag))
    }

    /// Whether no value can match both shapes.
    fn disjoint(&self, other: &Self) -> bool {
        let common = self.types & other.types;
        if common == 0 {
            return true;
        }
        if let (Some(ours), Some(theirs)) = (&self.values, &other.values) {
            return ours.iter().all(|v| !theirs.contains(v));
        }
        common == bits::OBJECT
            && self
                .tags
                .iter()
                .any(|(key, tag)| other.tags.get(key).is_some_and(|t| t != tag))
    }

    /// The `const` of tag property `key`, when it is a string.
    pub(crate) fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).and_then(Value::as_str)
    }
}

impl Typed {
    fn bits(&self) -> u8 {
        match self {
            Self::Null => bits::NULL,
            Self::Boolean => bits::BOOLEAN,
            Self::Integer { .. } => bits::INTEGER,
            Self::Number { .. } => bits::INTEGER | bits::FRACTION,
            Self::String(_) => bits::STRING,
            Self::Array { .. } => bits::ARRAY,
            Self::Object(_) => bits::OBJECT,
        }
    }

    /// Whether a value has this type.
    pub(crate) fn admits(&self, value: &Value) -> bool {
        self.bits() & type_bit(value) != 0
    }
}

impl Node {
    /// The node behind any `$ref`s.
    pub(crate) fn resolved(&self) -> &Node {
        let mut node = self;
        while let Node::Ref(definition) = node {
            node = &definition.node;
        }
        node
    }

    /// Whether the node only generates `null`.
    fn is_null(&self) -> bool {
        match self.resolved() {
            Node::Const(Value::Null) => true,
            Node::Typed(types) => types.rest.is_empty() && matches!(*types.first, Typed::Null),
            _ => false,
        }
    }
}

/// Escapes a key for a JSON pointer (RFC 6901).
pub(crate) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
