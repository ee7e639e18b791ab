//! The compiler: a schema document's definitions and schemas compiled into
//! [`Node`]s, `$ref`s resolved and cycles refused.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::keywords::{
    count, integer, invalid, number, string, types_of, unsatisfiable, validation_keywords,
};
use super::{
    Branch, Definition, Node, NonEmpty, Object, Property, Shape, Typed, bits, build, build_in,
    escape, type_bit,
};
use crate::strategy::realistic::Site;
use crate::strategy::{Mode, StrategyError};

/// How deep inline schemas may nest (a `$ref` starts again at zero).
const MAX_DEPTH: usize = 64;
/// Arrays hold at most this many items more than `minItems`.
const ARRAY_SLACK: usize = 3;

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
            realistic: build_in(&node, Mode::Realistic, &Site::of(name)),
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
