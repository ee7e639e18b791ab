//! Typed parsing of a payload: one UTF-8 check of the whole body, then
//! serde_json; on failure, a second parse with path tracking names where it
//! went wrong (the fast path pays nothing for that).

use serde::de::Deserialize;
use serde_json::Value;

use super::explain::classify;
use super::probe::probe_tag;
use super::tagged::TaggedUnion;
use crate::parse::ParseError;

/// The body as text: JSON is UTF-8, and checking the whole body once is
/// much cheaper than serde_json checking every string of it in turn.
pub(crate) fn text(json: &[u8]) -> Result<&str, ParseError> {
    // simdutf8 checks with SIMD (picked at run time); std's check runs only
    // on invalid input, to find where it goes wrong.
    if let Ok(text) = simdutf8::basic::from_utf8(json) {
        return Ok(text);
    }
    std::str::from_utf8(json).map_err(|error| {
        let valid = json.get(..error.valid_up_to()).unwrap_or_default();
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let column = valid.iter().rev().take_while(|b| **b != b'\n').count() + 1;
        ParseError::Malformed {
            line,
            column,
            reason: "invalid UTF-8".to_owned(),
        }
    })
}

/// Parses `json` into `T`. On failure the document is parsed again with path
/// tracking, so the error names where it went wrong; the fast path pays
/// nothing for that.
///
/// # Errors
/// [`ParseError::Malformed`] for bad JSON, [`ParseError::Shape`] with the path
/// for JSON that does not fit `T`.
pub fn parse<'a, T: Deserialize<'a>>(
    json: &'a [u8],
    event: &str,
    action: Option<&str>,
) -> Result<T, ParseError> {
    let text = text(json)?;
    serde_json::from_str::<T>(text).map_err(|error| explain::<T>(error, text, event, action))
}

/// Parses the payload of an event with actions: the tagged union `T` picks
/// its variant by `action` while streaming. The action named in an error is
/// found again on the (cold) error path.
///
/// # Errors
/// As [`parse`].
pub fn parse_tagged<'a, T: Deserialize<'a> + TaggedUnion<'a>>(
    json: &'a [u8],
    event: &str,
) -> Result<T, ParseError> {
    let text = text(json)?;
    serde_json::from_str::<T>(text).map_err(|error| {
        let action = probe_tag(text.as_bytes(), T::TAG, event).ok();
        let action = action.as_deref().filter(|tag| T::is_known(tag));
        explain::<T>(error, text, event, action)
    })
}

/// Turns the fast path's error into a [`ParseError`], parsing again with
/// path tracking for data errors.
fn explain<'a, T: Deserialize<'a>>(
    first: serde_json::Error,
    text: &'a str,
    event: &str,
    action: Option<&str>,
) -> ParseError {
    if !first.is_data() {
        return classify(first, event, action, ".");
    }
    if !starts_object(text.as_bytes()) {
        return ParseError::NotAnObject;
    }
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => classify(first, event, action, "."),
        Err(error) => {
            let path = error.path().to_string();
            classify(error.into_inner(), event, action, &path)
        }
    }
}

/// Parses any JSON object (for unknown events and actions).
///
/// # Errors
/// [`ParseError::Malformed`] or [`ParseError::NotAnObject`].
pub fn parse_object(json: &[u8]) -> Result<Value, ParseError> {
    let value: Value = serde_json::from_str(text(json)?).map_err(|e| classify(e, "", None, "."))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ParseError::NotAnObject)
    }
}

/// Whether the first non-blank byte opens an object (the text is otherwise
/// known to be well-formed JSON when this is asked).
fn starts_object(json: &[u8]) -> bool {
    json.iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .is_some_and(|b| *b == b'{')
}
