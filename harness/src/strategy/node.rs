//! The compiled form of a schema: [`Node`], checked once against the
//! keywords the strategies handle, with every `$ref` resolved to a shared
//! [`Definition`] that carries its strategy (so each definition is built
//! once), and [`build`] that turns a node into a strategy of JSON values.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

use super::StrategyError;
use super::pattern::generator_regex;
use super::values::{self, Gen, MAX_SAFE_INTEGER};

/// How deep inline schemas may nest (a `$ref` starts again at zero).
const MAX_DEPTH: usize = 64;
/// Arrays hold at most this many items more than `minItems`.
const ARRAY_SLACK: usize = 3;
/// Plain strings hold at most this many characters more than `minLength`.
const TEXT_SLACK: usize = 12;
/// Odds that an optional property is absent or present (2 to 3).
const OPTIONAL_ABSENT: u32 = 2;
const OPTIONAL_PRESENT: u32 = 3;
/// Entries of an `additionalProperties` map, at most.
const MAP_ENTRIES: usize = 3;

/// Keywords that never constrain a value.
const ANNOTATIONS: &[&str] = &[
    "$comment",
    "$id",
    "$schema",
    "contentEncoding",
    "contentMediaType",
    "default",
    "definitions",
    "deprecated",
    "description",
    "examples",
    "readOnly",
    "title",
    "writeOnly",
];
const OBJECT_KEYWORDS: &[&str] = &["properties", "required", "additionalProperties"];
const ARRAY_KEYWORDS: &[&str] = &["items", "minItems", "maxItems", "uniqueItems"];
const STRING_KEYWORDS: &[&str] = &["pattern", "format", "minLength", "maxLength"];
const NUMBER_KEYWORDS: &[&str] = &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];

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
    pub(crate) strategy: Gen<Value>,
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
    Plain { min: usize, max: usize },
    Pattern(Gen<String>),
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

/// Compiles the schemas of one document.
pub(crate) struct Compiler<'a> {
    definitions: Option<&'a Map<String, Value>>,
    done: BTreeMap<String, Arc<Definition>>,
    /// Definitions being compiled, outermost first.
    stack: Vec<String>,
}

impl<'a> Compiler<'a> {
    pub(crate) fn new(definitions: Option<&'a Map<String, Value>>) -> Self {
        Self {
            definitions,
            done: BTreeMap::new(),
            stack: Vec::new(),
        }
    }

    /// Compiles every definition, so that errors in unused ones show too.
    pub(crate) fn all_definitions(&mut self) -> Result<(), StrategyError> {
        let Some(definitions) = self.definitions else {
            return Ok(());
        };
        for name in definitions.keys() {
            let pointer = format!("/definitions/{}", escape(name));
            let reference = format!("#{pointer}");
            self.definition(name, &pointer, &reference)?;
        }
        Ok(())
    }

    /// The compiled definitions by name.
    pub(crate) fn into_definitions(self) -> BTreeMap<String, Arc<Definition>> {
        self.done
    }

    fn definition(
        &mut self,
        name: &str,
        pointer: &str,
        reference: &str,
    ) -> Result<Arc<Definition>, StrategyError> {
        if let Some(done) = self.done.get(name) {
            return Ok(Arc::clone(done));
        }
        if let Some(start) = self.stack.iter().position(|n| n == name) {
            let mut chain: Vec<String> = self.stack.iter().skip(start).cloned().collect();
            chain.push(name.to_owned());
            return Err(StrategyError::RefCycle {
                pointer: pointer.to_owned(),
                chain,
            });
        }
        let Some(schema) = self.definitions.and_then(|d| d.get(name)) else {
            return Err(StrategyError::UnresolvedRef {
                pointer: pointer.to_owned(),
                reference: reference.to_owned(),
            });
        };
        self.stack.push(name.to_owned());
        let node = self.node(schema, &format!("/definitions/{}", escape(name)), 0);
        self.stack.pop();
        let node = node?;
        let definition = Arc::new(Definition {
            strategy: build(&node),
            node,
        });
        self.done.insert(name.to_owned(), Arc::clone(&definition));
        Ok(definition)
    }

    /// Compiles the schema at `pointer`.
    pub(crate) fn node(
        &mut self,
        schema: &Value,
        pointer: &str,
        depth: usize,
    ) -> Result<Node, StrategyError> {
        if depth > MAX_DEPTH {
            return Err(StrategyError::TooDeep {
                pointer: pointer.to_owned(),
                limit: MAX_DEPTH,
            });
        }
        let object = match schema {
            Value::Bool(true) => return Ok(Node::Any),
            Value::Bool(false) => return Err(unsatisfiable(pointer)),
            Value::Object(object) => object,
            _ => {
                return Err(StrategyError::NotASchema {
                    pointer: pointer.to_owned(),
                });
            }
        };
        let keywords = validation_keywords(object, pointer)?;
        let has = |keyword: &str| keywords.contains(keyword);
        let only = |allowed: &[&str]| -> Result<(), StrategyError> {
            if keywords.iter().all(|k| allowed.contains(k)) {
                Ok(())
            } else {
                Err(StrategyError::UnsupportedCombination {
                    pointer: pointer.to_owned(),
                    keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
                })
            }
        };
        if let Some(reference) = object.get("$ref") {
            only(&["$ref"])?;
            return self.reference(reference, pointer);
        }
        for choice in ["oneOf", "anyOf"] {
            if let Some(branches) = object.get(choice) {
                only(&[choice])?;
                return self.choice(branches, choice, &format!("{pointer}/{choice}"), depth);
            }
        }
        let types = types_of(object, &keywords, pointer)?;
        if has("const") || has("enum") {
            only(&["const", "enum", "type"])?;
            if has("const") && has("enum") {
                return Err(StrategyError::UnsupportedCombination {
                    pointer: pointer.to_owned(),
                    keywords: vec!["const".to_owned(), "enum".to_owned()],
                });
            }
            let fits = |value: &Value| types.as_ref().is_none_or(|t| t & type_bit(value) != 0);
            if let Some(value) = object.get("const") {
                return if fits(value) {
                    Ok(Node::Const(value.clone()))
                } else {
                    Err(unsatisfiable(pointer))
                };
            }
            let Some(Value::Array(values)) = object.get("enum") else {
                return Err(invalid(pointer, "enum"));
            };
            let values = values.iter().filter(|v| fits(v)).cloned().collect();
            return NonEmpty::from_vec(values)
                .map(Node::Enum)
                .ok_or_else(|| unsatisfiable(pointer));
        }
        let Some(types) = types else {
            return Ok(Node::Any);
        };
        let mut typed = Vec::new();
        for (bit, name) in [
            (bits::NULL, "null"),
            (bits::BOOLEAN, "boolean"),
            (bits::INTEGER, "integer"),
            (bits::FRACTION, "number"),
            (bits::STRING, "string"),
            (bits::ARRAY, "array"),
            (bits::OBJECT, "object"),
        ] {
            if types & bit == 0 {
                continue;
            }
            typed.push(match name {
                "null" => Typed::Null,
                "boolean" => Typed::Boolean,
                "integer" if types & bits::FRACTION != 0 => continue,
                "integer" => integer(object, pointer)?,
                "number" => number(object, pointer)?,
                "string" => Typed::String(string(object, &keywords, pointer)?),
                "array" => self.array(object, pointer, depth)?,
                _ => Typed::Object(self.object(object, pointer, depth)?),
            });
        }
        NonEmpty::from_vec(typed)
            .map(Node::Typed)
            .ok_or_else(|| unsatisfiable(pointer))
    }

    fn reference(&mut self, reference: &Value, pointer: &str) -> Result<Node, StrategyError> {
        let Some(text) = reference.as_str() else {
            return Err(invalid(pointer, "$ref"));
        };
        let name = text
            .strip_prefix("#/definitions/")
            .filter(|name| !name.is_empty() && !name.contains('/'))
            .map(|name| name.replace("~1", "/").replace("~0", "~"));
        let Some(name) = name else {
            return Err(StrategyError::UnsupportedRef {
                pointer: pointer.to_owned(),
                reference: text.to_owned(),
            });
        };
        self.definition(&name, pointer, text).map(Node::Ref)
    }

    fn choice(
        &mut self,
        branches: &Value,
        keyword: &str,
        pointer: &str,
        depth: usize,
    ) -> Result<Node, StrategyError> {
        let Some(schemas) = branches.as_array() else {
            return Err(invalid(pointer, keyword));
        };
        let mut compiled = Vec::with_capacity(schemas.len());
        for (index, schema) in schemas.iter().enumerate() {
            let node = self.node(schema, &format!("{pointer}/{index}"), depth + 1)?;
            compiled.push(Branch {
                shape: Shape::of(&node),
                node,
            });
        }
        if keyword == "oneOf" {
            for (first, a) in compiled.iter().enumerate() {
                for (second, b) in compiled.iter().enumerate().skip(first + 1) {
                    if !a.shape.disjoint(&b.shape) {
                        return Err(StrategyError::AmbiguousOneOf {
                            pointer: pointer.to_owned(),
                            first,
                            second,
                        });
                    }
                }
            }
        }
        let tags = compiled
            .first()
            .map(|first| {
                first
                    .shape
                    .tags
                    .keys()
                    .filter(|key| {
                        let values: Vec<Option<&str>> =
                            compiled.iter().map(|b| b.shape.tag(key)).collect();
                        let distinct: BTreeSet<&str> = values.iter().flatten().copied().collect();
                        values.iter().all(Option::is_some) && distinct.len() == values.len()
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let branches = NonEmpty::from_vec(compiled).ok_or_else(|| invalid(pointer, keyword))?;
        Ok(Node::Choice { branches, tags })
    }

    fn array(
        &mut self,
        object: &Map<String, Value>,
        pointer: &str,
        depth: usize,
    ) -> Result<Typed, StrategyError> {
        if let Some(unique) = object.get("uniqueItems") {
            match unique {
                Value::Bool(false) => {}
                Value::Bool(true) => {
                    return Err(StrategyError::UnsupportedKeyword {
                        pointer: pointer.to_owned(),
                        keyword: "uniqueItems".to_owned(),
                    });
                }
                _ => return Err(invalid(pointer, "uniqueItems")),
            }
        }
        let items = match object.get("items") {
            None => Node::Any,
            Some(items @ (Value::Object(_) | Value::Bool(_))) => {
                self.node(items, &format!("{pointer}/items"), depth + 1)?
            }
            Some(_) => return Err(invalid(pointer, "items")),
        };
        let min = count(object, "minItems", pointer)?.unwrap_or(0);
        let cap = min.saturating_add(ARRAY_SLACK);
        let max = count(object, "maxItems", pointer)?.map_or(cap, |max| max.min(cap));
        if max < min {
            return Err(unsatisfiable(pointer));
        }
        Ok(Typed::Array {
            items: Box::new(items),
            min,
            max,
        })
    }

    fn object(
        &mut self,
        object: &Map<String, Value>,
        pointer: &str,
        depth: usize,
    ) -> Result<Object, StrategyError> {
        let required: BTreeSet<&str> = match object.get("required") {
            None => BTreeSet::new(),
            Some(Value::Array(names)) => names
                .iter()
                .map(|n| n.as_str().ok_or_else(|| invalid(pointer, "required")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(invalid(pointer, "required")),
        };
        let mut properties = Vec::new();
        match object.get("properties") {
            None => {}
            Some(Value::Object(schemas)) => {
                for (name, schema) in schemas {
                    let at = format!("{pointer}/properties/{}", escape(name));
                    properties.push(Property {
                        name: name.clone(),
                        required: required.contains(name.as_str()),
                        node: self.node(schema, &at, depth + 1)?,
                    });
                }
            }
            Some(_) => return Err(invalid(pointer, "properties")),
        }
        for name in required {
            if !properties.iter().any(|p| p.name == name) {
                properties.push(Property {
                    name: name.to_owned(),
                    required: true,
                    node: Node::Any,
                });
            }
        }
        let additional = match object.get("additionalProperties") {
            None | Some(Value::Bool(_)) => None,
            Some(schema @ Value::Object(_)) => Some(Box::new(self.node(
                schema,
                &format!("{pointer}/additionalProperties"),
                depth + 1,
            )?)),
            Some(_) => return Err(invalid(pointer, "additionalProperties")),
        };
        Ok(Object {
            properties,
            additional,
        })
    }
}

/// The [`bits`] of `type`, or of the keywords present when there is no
/// `type`; `None` for any JSON.
fn types_of(
    object: &Map<String, Value>,
    keywords: &BTreeSet<&str>,
    pointer: &str,
) -> Result<Option<u8>, StrategyError> {
    let names: Vec<&str> = match object.get("type") {
        None => {
            let mut inferred = Vec::new();
            for (keywords_of, name) in [
                (OBJECT_KEYWORDS, "object"),
                (ARRAY_KEYWORDS, "array"),
                (STRING_KEYWORDS, "string"),
                (NUMBER_KEYWORDS, "number"),
            ] {
                if keywords_of.iter().any(|k| keywords.contains(k)) {
                    inferred.push(name);
                }
            }
            if inferred.len() > 1 {
                return Err(StrategyError::UnsupportedCombination {
                    pointer: pointer.to_owned(),
                    keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
                });
            }
            if inferred.is_empty() {
                return Ok(None);
            }
            inferred
        }
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) if !names.is_empty() => names
            .iter()
            .map(|n| n.as_str().ok_or_else(|| invalid(pointer, "type")))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid(pointer, "type")),
    };
    let mut types = 0;
    for name in names {
        types |= match name {
            "null" => bits::NULL,
            "boolean" => bits::BOOLEAN,
            "integer" => bits::INTEGER,
            "number" => bits::INTEGER | bits::FRACTION,
            "string" => bits::STRING,
            "array" => bits::ARRAY,
            "object" => bits::OBJECT,
            other => {
                return Err(StrategyError::UnsupportedType {
                    pointer: pointer.to_owned(),
                    name: other.to_owned(),
                });
            }
        };
    }
    Ok(Some(types))
}

/// The keywords of a schema object that constrain values, checked against
/// those the strategies handle; annotations and `x-` extensions are left out.
fn validation_keywords<'s>(
    object: &'s Map<String, Value>,
    pointer: &str,
) -> Result<BTreeSet<&'s str>, StrategyError> {
    let mut keywords = BTreeSet::new();
    for key in object.keys() {
        let key = key.as_str();
        if ANNOTATIONS.contains(&key) || key.starts_with("x-") {
            continue;
        }
        let known = ["$ref", "oneOf", "anyOf", "const", "enum", "type"].contains(&key)
            || OBJECT_KEYWORDS.contains(&key)
            || ARRAY_KEYWORDS.contains(&key)
            || STRING_KEYWORDS.contains(&key)
            || NUMBER_KEYWORDS.contains(&key);
        if !known {
            return Err(StrategyError::UnsupportedKeyword {
                pointer: pointer.to_owned(),
                keyword: key.to_owned(),
            });
        }
        keywords.insert(key);
    }
    Ok(keywords)
}

fn invalid(pointer: &str, keyword: &str) -> StrategyError {
    StrategyError::InvalidKeyword {
        pointer: pointer.to_owned(),
        keyword: keyword.to_owned(),
    }
}

fn unsatisfiable(pointer: &str) -> StrategyError {
    StrategyError::Unsatisfiable {
        pointer: pointer.to_owned(),
    }
}

/// A non-negative integer keyword (`minItems`, `maxLength`, ...).
fn count(
    object: &Map<String, Value>,
    keyword: &str,
    pointer: &str,
) -> Result<Option<usize>, StrategyError> {
    match object.get(keyword) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| invalid(pointer, keyword)),
    }
}

/// A numeric keyword as a finite `f64`.
fn bound(
    object: &Map<String, Value>,
    keyword: &str,
    pointer: &str,
) -> Result<Option<f64>, StrategyError> {
    match object.get(keyword) {
        None => Ok(None),
        Some(value) => value
            .as_f64()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| invalid(pointer, keyword)),
    }
}

/// A numeric keyword as a whole number, rounded toward the inside of the
/// range (`up` for lower bounds) and saturated to `i64`.
fn whole_bound(
    object: &Map<String, Value>,
    keyword: &str,
    pointer: &str,
    up: bool,
) -> Result<Option<i64>, StrategyError> {
    let Some(value) = object.get(keyword) else {
        return Ok(None);
    };
    if let Some(n) = value.as_i64() {
        return Ok(Some(n));
    }
    if value.as_u64().is_some() {
        return Ok(Some(i64::MAX));
    }
    let Some(f) = value.as_f64().filter(|f| f.is_finite()) else {
        return Err(invalid(pointer, keyword));
    };
    // `as` saturates, which is what a bound beyond `i64` needs.
    Ok(Some(if up {
        f.ceil() as i64
    } else {
        f.floor() as i64
    }))
}

fn integer(object: &Map<String, Value>, pointer: &str) -> Result<Typed, StrategyError> {
    let mut lo = whole_bound(object, "minimum", pointer, true)?.unwrap_or(-MAX_SAFE_INTEGER);
    let mut hi = whole_bound(object, "maximum", pointer, false)?.unwrap_or(MAX_SAFE_INTEGER);
    if let Some(exclusive) = whole_bound(object, "exclusiveMinimum", pointer, false)? {
        lo = lo.max(exclusive.saturating_add(1));
    }
    if let Some(exclusive) = whole_bound(object, "exclusiveMaximum", pointer, true)? {
        hi = hi.min(exclusive.saturating_sub(1));
    }
    if lo > hi {
        return Err(unsatisfiable(pointer));
    }
    Ok(Typed::Integer { lo, hi })
}

fn number(object: &Map<String, Value>, pointer: &str) -> Result<Typed, StrategyError> {
    const DEFAULT: f64 = 1.0e9;
    let mut lo = bound(object, "minimum", pointer)?.unwrap_or(-DEFAULT);
    let mut hi = bound(object, "maximum", pointer)?.unwrap_or(DEFAULT);
    let mut exclude_lo = false;
    let mut exclude_hi = false;
    if let Some(exclusive) = bound(object, "exclusiveMinimum", pointer)? {
        if exclusive >= lo {
            lo = exclusive;
            exclude_lo = true;
        }
    }
    if let Some(exclusive) = bound(object, "exclusiveMaximum", pointer)? {
        if exclusive <= hi {
            hi = exclusive;
            exclude_hi = true;
        }
    }
    if lo > hi || (lo == hi && (exclude_lo || exclude_hi)) {
        return Err(unsatisfiable(pointer));
    }
    Ok(Typed::Number {
        lo,
        hi,
        exclude_lo,
        exclude_hi,
    })
}

fn string(
    object: &Map<String, Value>,
    keywords: &BTreeSet<&str>,
    pointer: &str,
) -> Result<Text, StrategyError> {
    // `keywords` is sorted, so `present` is too.
    let present: Vec<String> = keywords
        .iter()
        .filter(|k| STRING_KEYWORDS.contains(k))
        .map(|k| (*k).to_owned())
        .collect();
    let lengths = keywords.contains("minLength") || keywords.contains("maxLength");
    let clash = |other: &str| keywords.contains(other) && (lengths || present.len() > 1);
    if clash("pattern") || clash("format") {
        return Err(StrategyError::UnsupportedCombination {
            pointer: pointer.to_owned(),
            keywords: present,
        });
    }
    if let Some(pattern) = object.get("pattern") {
        let Some(pattern) = pattern.as_str() else {
            return Err(invalid(pointer, "pattern"));
        };
        return proptest::string::string_regex(&generator_regex(pattern))
            .map(|strategy| Text::Pattern(strategy.sboxed()))
            .map_err(|source| StrategyError::Pattern {
                pointer: pointer.to_owned(),
                pattern: pattern.to_owned(),
                source: Box::new(source),
            });
    }
    if let Some(format) = object.get("format") {
        return match format.as_str() {
            Some("date-time") => Ok(Text::DateTime),
            Some("date") => Ok(Text::Date),
            Some("uri") => Ok(Text::Uri),
            Some(other) => Err(StrategyError::UnsupportedFormat {
                pointer: pointer.to_owned(),
                format: other.to_owned(),
            }),
            None => Err(invalid(pointer, "format")),
        };
    }
    let min = count(object, "minLength", pointer)?.unwrap_or(0);
    let cap = min.saturating_add(TEXT_SLACK);
    let max = count(object, "maxLength", pointer)?.map_or(cap, |max| max.min(cap));
    if max < min {
        return Err(unsatisfiable(pointer));
    }
    Ok(Text::Plain { min, max })
}

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
