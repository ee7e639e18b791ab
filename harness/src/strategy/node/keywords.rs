//! The keywords of one schema object: which are handled, the JSON types
//! they imply, and the bounds, lengths and formats they read into a
//! [`Typed`].

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::{Text, Typed, bits};
use crate::strategy::StrategyError;
use crate::strategy::pattern::{Realism, generator_regex};
use crate::strategy::values::MAX_SAFE_INTEGER;

/// Plain strings hold at most this many characters more than `minLength`.
pub(super) const TEXT_SLACK: usize = 12;

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

/// The [`bits`] of `type`, or of the keywords present when there is no
/// `type`; `None` for any JSON.
pub(super) fn types_of(
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
pub(super) fn validation_keywords<'s>(
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

pub(super) fn invalid(pointer: &str, keyword: &str) -> StrategyError {
    StrategyError::InvalidKeyword {
        pointer: pointer.to_owned(),
        keyword: keyword.to_owned(),
    }
}

pub(super) fn unsatisfiable(pointer: &str) -> StrategyError {
    StrategyError::Unsatisfiable {
        pointer: pointer.to_owned(),
    }
}

/// A non-negative integer keyword (`minItems`, `maxLength`, ...).
pub(super) fn count(
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

pub(super) fn integer(object: &Map<String, Value>, pointer: &str) -> Result<Typed, StrategyError> {
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

pub(super) fn number(object: &Map<String, Value>, pointer: &str) -> Result<Typed, StrategyError> {
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

pub(super) fn string(
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
        let compile = |regex: &str| {
            proptest::string::string_regex(regex)
                .map(Strategy::sboxed)
                .map_err(|source| StrategyError::Pattern {
                    pointer: pointer.to_owned(),
                    pattern: pattern.to_owned(),
                    source: Box::new(source),
                })
        };
        let full = compile(&generator_regex(pattern, Realism::Full))?;
        let plain = compile(&generator_regex(pattern, Realism::Plain))?;
        return Ok(Text::Pattern {
            source: pattern.to_owned(),
            full,
            plain,
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
    let limit = count(object, "maxLength", pointer)?;
    let max = limit.map_or(cap, |max| max.min(cap));
    if max < min {
        return Err(unsatisfiable(pointer));
    }
    Ok(Text::Plain { min, max, limit })
}
