//! The open string enums of the model, with their variant names.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::Result;
use crate::model::schema::{At, description};
use crate::model::{Model, OpenEnum};
use crate::names::pascal;

impl Model {
    pub(super) fn open_enum(
        &mut self,
        name: &str,
        map: &Map<String, Value>,
        at: &At,
    ) -> Result<()> {
        let mut values = Vec::new();
        let Some(Value::Array(items)) = map.get("enum") else {
            return Err(at.unsupported("`enum` must be an array"));
        };
        for item in items {
            let Value::String(value) = item else {
                return Err(at.unsupported("only string enums are supported"));
            };
            values.push(value.clone());
        }
        let names: Vec<String> = match map.get("x-enum-varnames") {
            None => values.iter().map(|value| pascal(value)).collect(),
            Some(Value::Array(names)) if names.len() == values.len() => names
                .iter()
                .map(|name| name.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| at.unsupported("`x-enum-varnames` must hold strings"))?,
            Some(_) => {
                return Err(at.unsupported(
                    "`x-enum-varnames` must be an array with one name per `enum` value",
                ));
            }
        };
        let mut idents: BTreeMap<String, &str> = BTreeMap::new();
        for (value, ident) in values.iter().zip(&names) {
            if !crate::names::is_pascal_ident(ident) || ident == "Unknown" {
                return Err(at.unsupported(&format!(
                    "enum value \"{value}\" has no usable variant name"
                )));
            }
            if let Some(other) = idents.insert(ident.clone(), value) {
                return Err(at.unsupported(&format!(
                    "enum values \"{other}\" and \"{value}\" both become variant `{ident}`"
                )));
            }
        }
        self.claim(name, at)?;
        self.enums.insert(
            name.to_owned(),
            OpenEnum {
                name: name.to_owned(),
                doc: description(&Value::Object(map.clone())),
                values,
                idents: names,
            },
        );
        Ok(())
    }
}
