//! The tagged unions of the model: `oneOf`s told apart by a `const`
//! property, each branch an object of its own.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::Result;
use crate::model::schema::{At, description, is_object};
use crate::model::{Model, Union, Variant};
use crate::names::pascal;

impl Model {
    pub(super) fn union(
        &mut self,
        name: &str,
        map: &Map<String, Value>,
        one_of: &Value,
        at: &At,
        event: Option<&str>,
    ) -> Result<()> {
        let Value::Array(branches) = one_of else {
            return Err(at.unsupported("`oneOf` must be an array"));
        };
        let branch_maps: Vec<&Map<String, Value>> = branches
            .iter()
            .filter_map(Value::as_object)
            .filter(|b| is_object(b))
            .collect();
        if branch_maps.len() != branches.len() || branches.is_empty() {
            return Err(at.unsupported("every `oneOf` branch must be an inline object schema"));
        }
        let tag = common_tag(&branch_maps).ok_or_else(|| {
            at.unsupported(
                "the `oneOf` branches must share exactly one required property fixed with `const`",
            )
        })?;
        let base = event.map_or_else(|| name.to_owned(), pascal);
        let mut variants = Vec::new();
        let mut seen = BTreeMap::new();
        for (index, branch) in branch_maps.iter().enumerate() {
            let branch_at = at.child(&format!("oneOf/{index}"));
            let value = const_of(branch, &tag).unwrap_or_default();
            if let Some(previous) = seen.insert(value.clone(), index) {
                return Err(branch_at.unsupported(&format!(
                    "`{tag}` \"{value}\" is used by branches {previous} and {index}"
                )));
            }
            let ident = pascal(&value);
            if ident.is_empty() || ident == "Unknown" {
                return Err(branch_at
                    .unsupported(&format!("`{tag}` \"{value}\" has no usable variant name")));
            }
            let payload = format!("{base}{ident}");
            let mut stripped = (*branch).clone();
            if let Some(Value::Object(props)) = stripped.get_mut("properties") {
                props.remove(&tag);
            }
            if let Some(Value::Array(required)) = stripped.get_mut("required") {
                required.retain(|r| r.as_str() != Some(tag.as_str()));
            }
            self.object(&payload, &stripped, &branch_at)?;
            variants.push(Variant {
                value,
                ident,
                payload,
                doc: description(&Value::Object((*branch).clone())),
            });
        }
        self.claim(name, at)?;
        self.unions.insert(
            name.to_owned(),
            Union {
                name: name.to_owned(),
                doc: description(&Value::Object(map.clone())),
                tag,
                variants,
                boxed: event.is_some(),
                event: event.map(str::to_owned),
            },
        );
        Ok(())
    }
}

fn const_of(branch: &Map<String, Value>, prop: &str) -> Option<String> {
    branch
        .get("properties")?
        .get(prop)?
        .get("const")?
        .as_str()
        .map(str::to_owned)
}

/// The one property that every branch requires and fixes with a string `const`.
fn common_tag(branches: &[&Map<String, Value>]) -> Option<String> {
    let first = branches.first()?;
    let candidates: Vec<String> = first
        .get("properties")?
        .as_object()?
        .keys()
        .filter(|key| {
            branches.iter().all(|b| {
                const_of(b, key).is_some()
                    && b.get("required")
                        .and_then(Value::as_array)
                        .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(key.as_str())))
            })
        })
        .cloned()
        .collect();
    match candidates.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}
