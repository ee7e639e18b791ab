//! Support for the generated code: the fast tag probe, typed parsing with
//! JSON paths on error, the tag-injecting serializer and open-enum
//! deserialization. Public only so the generated code can reach it through
//! `::icr_webhooks::__private`; not part of the API.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserialize, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::ser::{self, Serialize, Serializer};
use serde_json::Value;

use crate::{ParseError, Text};

/// Reads the string value of the top-level property `tag` without building
/// the document: every other value is skipped. Used on error paths, to name
/// the action in the error.
///
/// # Errors
/// Malformed JSON, a non-object, a missing, repeated or non-string tag.
fn probe_tag<'a>(
    json: &'a [u8],
    tag: &'static str,
    event: &str,
) -> Result<Cow<'a, str>, ParseError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let found = TagSeed { tag }
        .deserialize(&mut de)
        .and_then(|found| de.end().map(|()| found))
        .map_err(|error| classify(error, event, None, "."))?;
    match found {
        Probed::Found(value) => Ok(value),
        Probed::NotObject => Err(ParseError::NotAnObject),
        Probed::Missing => Err(ParseError::Shape {
            event: event.to_owned(),
            action: None,
            path: ".".to_owned(),
            reason: format!("missing field `{tag}`"),
        }),
    }
}

enum Probed<'a> {
    Found(Cow<'a, str>),
    Missing,
    NotObject,
}

struct TagSeed {
    tag: &'static str,
}

impl<'de> DeserializeSeed<'de> for TagSeed {
    type Value = Probed<'de>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TagSeed {
    type Value = Probed<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found: Option<Cow<'de, str>> = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == self.tag {
                if found.is_some() {
                    return Err(de::Error::duplicate_field(self.tag));
                }
                found = Some(map.next_value::<Text<'de>>()?.into_cow());
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found.map_or(Probed::Missing, Probed::Found))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Probed::NotObject)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Probed::NotObject)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Probed::NotObject)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Probed::NotObject)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Probed::NotObject)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Probed::NotObject)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Probed::NotObject)
    }
}

/// The body as text: JSON is UTF-8, and checking the whole body once is
/// much cheaper than serde_json checking every string of it in turn.
fn text(json: &[u8]) -> Result<&str, ParseError> {
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

fn classify(error: serde_json::Error, event: &str, action: Option<&str>, path: &str) -> ParseError {
    if error.is_data() {
        ParseError::Shape {
            event: event.to_owned(),
            action: action.map(str::to_owned),
            path: path.to_owned(),
            reason: strip_position(&error),
        }
    } else {
        ParseError::Malformed {
            line: error.line(),
            column: error.column(),
            reason: strip_position(&error),
        }
    }
}

/// serde_json's message without its " at line L column C" suffix, and
/// without the values it quotes from the body (`invalid type: string "x"`
/// becomes `invalid type: string`): an error never carries the body's
/// contents, only the JSON path and what was expected.
fn strip_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let text = match text.rfind(" at line ") {
        Some(cut) => text.get(..cut).unwrap_or(&text),
        None => &text,
    };
    redact_values(text)
}

/// Drops the quoted value after each of serde's value kinds.
fn redact_values(reason: &str) -> String {
    const KINDS: [&str; 6] = [
        "string ",
        "char ",
        "integer ",
        "floating point ",
        "boolean ",
        "variant ",
    ];
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    'scan: while let Some(first) = rest.chars().next() {
        for kind in KINDS {
            let Some(after) = rest.strip_prefix(kind) else {
                continue;
            };
            let mut chars = after.char_indices();
            let Some((_, quote @ ('"' | '`'))) = chars.next() else {
                continue;
            };
            let mut escaped = false;
            for (at, ch) in chars {
                if escaped {
                    escaped = false;
                } else if ch == '\\' && quote == '"' {
                    escaped = true;
                } else if ch == quote {
                    out.push_str(kind.trim_end());
                    rest = after.get(at + ch.len_utf8()..).unwrap_or_default();
                    continue 'scan;
                }
            }
        }
        out.push(first);
        rest = rest.get(first.len_utf8()..).unwrap_or_default();
    }
    out
}

/// Deserializes an open string enum: known values to their variant, anything
/// else to `Unknown`.
///
/// # Errors
/// When the value is not a string.
pub fn deserialize_open_enum<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: de::Deserializer<'de>,
    T: for<'a> From<&'a str> + From<String>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<T: for<'a> From<&'a str> + From<String>> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            Ok(T::from(v))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<T, E> {
            Ok(T::from(v))
        }
    }
    deserializer.deserialize_str(V(std::marker::PhantomData))
}

/// Deserializes an RFC 3339 timestamp with chrono's dedicated RFC 3339
/// parser (several times faster than its general `FromStr`, which the serde
/// impl uses); the error says what was expected, then chrono's reason.
///
/// # Errors
/// When the value is not a string or not an RFC 3339 date-time.
pub fn rfc3339<'de, D>(deserializer: D) -> Result<DateTime<Utc>, D::Error>
where
    D: de::Deserializer<'de>,
{
    struct V;
    impl Visitor<'_> for V {
        type Value = DateTime<Utc>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 formatted date and time string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            DateTime::parse_from_rfc3339(v)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|error| E::custom(format_args!("not an RFC 3339 date-time: {error}")))
        }
    }
    deserializer.deserialize_str(V)
}

/// [`rfc3339`] for a nullable timestamp.
///
/// # Errors
/// As [`rfc3339`], for a value other than `null`.
pub fn rfc3339_opt<'de, D>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: de::Deserializer<'de>,
{
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<DateTime<Utc>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 formatted date and time string or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            rfc3339(d).map(Some)
        }
    }
    deserializer.deserialize_option(V)
}

/// An optional field that is not nullable (the contract's *optional*, without
/// `| null`): absent is `None` (with `#[serde(default)]`), present is the
/// value, and `null` is refused as the wrong type, with its path, instead of
/// being taken for absent.
///
/// # Errors
/// When the value, `null` included, does not fit `T`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: de::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// The value of an optional field that is absent (a `default` that, unlike
/// serde's own, asks no `Default` of a type parameter).
pub fn absent<T>() -> Option<T> {
    None
}

/// An optional field that is also nullable: absent is `None`, `null` is
/// `Some(None)`.
///
/// # Errors
/// When the value is neither `null` nor fits `T`.
pub fn present_nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: de::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// [`rfc3339`] for an optional timestamp that is not nullable (see
/// [`present`]).
///
/// # Errors
/// As [`rfc3339`], `null` included.
pub fn rfc3339_present<'de, D>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: de::Deserializer<'de>,
{
    rfc3339(deserializer).map(Some)
}

/// [`rfc3339_opt`] for an optional timestamp that is also nullable (see
/// [`present_nullable`]).
///
/// # Errors
/// As [`rfc3339_opt`].
pub fn rfc3339_present_nullable<'de, D>(
    deserializer: D,
) -> Result<Option<Option<DateTime<Utc>>>, D::Error>
where
    D: de::Deserializer<'de>,
{
    rfc3339_opt(deserializer).map(Some)
}

/// Serializes the struct `value` with `tag: tag_value` written first.
///
/// # Errors
/// The serializer's errors, or when `value` does not serialize as a struct
/// or map.
pub fn serialize_tagged<T: Serialize + ?Sized, S: Serializer>(
    value: &T,
    tag: &'static str,
    tag_value: &'static str,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value.serialize(Tagged {
        inner: serializer,
        tag,
        tag_value,
    })
}

/// A serializer that forwards a struct or map, adding the tag entry first.
struct Tagged<S> {
    inner: S,
    tag: &'static str,
    tag_value: &'static str,
}

impl<S: Serializer> Tagged<S> {
    fn refuse(self) -> S::Error {
        ser::Error::custom("a tagged variant must serialize as a struct or map")
    }
}

macro_rules! refuse {
    ($($name:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $name(self, $(_: $arg),*) -> Result<S::Ok, S::Error> {
            Err(self.refuse())
        })*
    };
}

impl<S: Serializer> Serializer for Tagged<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = ser::Impossible<S::Ok, S::Error>;
    type SerializeTuple = ser::Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = ser::Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = ser::Impossible<S::Ok, S::Error>;
    type SerializeMap = S::SerializeMap;
    type SerializeStruct = S::SerializeStruct;
    type SerializeStructVariant = ser::Impossible<S::Ok, S::Error>;

    refuse!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<S::Ok, S::Error> {
        Err(self.refuse())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(self.refuse())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Err(self.refuse())
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, S::Error> {
        Err(self.refuse())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Err(self.refuse())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Err(self.refuse())
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        use ser::SerializeMap as _;
        let mut map = self.inner.serialize_map(len.map(|n| n + 1))?;
        map.serialize_entry(self.tag, self.tag_value)?;
        Ok(map)
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        use ser::SerializeStruct as _;
        let mut state = self.inner.serialize_struct(name, len + 1)?;
        state.serialize_field(self.tag, self.tag_value)?;
        Ok(state)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Err(self.refuse())
    }
}

/// A `oneOf` told apart by a tag property, as the generated unions are;
/// `'de` is the lifetime of the input (the borrowed unions borrow from it).
pub trait TaggedUnion<'de>: Sized {
    /// The tag property (`action`, `kind`).
    const TAG: &'static str;
    /// What a valid value is, for messages.
    const EXPECTING: &'static str;

    /// Whether `tag` is a value this version knows.
    fn is_known(tag: &str) -> bool;

    /// Deserializes the variant of a known `tag` from the rest of the
    /// object (every entry but the tag).
    ///
    /// # Errors
    /// When the rest does not fit the variant's type.
    fn known<A: MapAccess<'de>>(tag: &str, rest: A) -> Result<Self, A::Error>;

    /// The value for an unknown tag, with the whole object.
    fn unknown(tag: String, raw: Value) -> Self;
}

/// Deserializes a [`TaggedUnion`] in one pass: the entries before the tag (if
/// any: ICR writes it first) are held as JSON values, the tag picks the
/// variant, and the variant is deserialized from the held entries followed
/// by the rest of the stream. A second tag entry is an error, as with any
/// duplicate field.
///
/// # Errors
/// A non-object, a missing, repeated or non-string tag, or a variant that
/// does not fit.
pub fn deserialize_tagged<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: de::Deserializer<'de>,
    T: TaggedUnion<'de>,
{
    deserializer.deserialize_map(TaggedVisitor(std::marker::PhantomData))
}

struct TaggedVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: TaggedUnion<'de>> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut held: Vec<(String, Value)> = Vec::new();
        loop {
            let Some(key) = map.next_key::<Text<'de>>()? else {
                return Err(de::Error::missing_field(T::TAG));
            };
            if key.as_str() != T::TAG {
                held.push((key.into_string(), map.next_value::<Value>()?));
                continue;
            }
            let tag = map.next_value::<Text<'de>>()?.into_cow();
            if T::is_known(&tag) {
                return T::known(
                    &tag,
                    Rest {
                        held: held.into_iter(),
                        pending: None,
                        live: map,
                        tag: T::TAG,
                    },
                );
            }
            let mut raw = serde_json::Map::new();
            for (key, value) in held {
                raw.insert(key, value);
            }
            raw.insert(T::TAG.to_owned(), Value::String(tag.clone().into_owned()));
            while let Some(key) = map.next_key::<String>()? {
                if key == T::TAG {
                    return Err(de::Error::duplicate_field(T::TAG));
                }
                raw.insert(key, map.next_value::<Value>()?);
            }
            return Ok(T::unknown(tag.into_owned(), Value::Object(raw)));
        }
    }
}

/// The entries of an object after its tag: the ones held from before the tag,
/// then the rest of the stream, refusing a second tag.
struct Rest<A> {
    held: std::vec::IntoIter<(String, Value)>,
    pending: Option<Value>,
    live: A,
    tag: &'static str,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Rest<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if let Some((key, value)) = self.held.next() {
            self.pending = Some(value);
            return seed
                .deserialize(de::value::StringDeserializer::new(key))
                .map(Some);
        }
        let Some(key) = self.live.next_key::<Text<'de>>()? else {
            return Ok(None);
        };
        if key.as_str() == self.tag {
            return Err(de::Error::duplicate_field(self.tag));
        }
        match key.into_cow() {
            Cow::Borrowed(key) => seed.deserialize(de::value::BorrowedStrDeserializer::new(key)),
            Cow::Owned(key) => seed.deserialize(de::value::StringDeserializer::new(key)),
        }
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.pending.take() {
            Some(value) => seed.deserialize(value).map_err(de::Error::custom),
            None => self.live.next_value_seed(seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact_values;

    #[track_caller]
    fn check(reason: &str, expected: &str) {
        assert_eq!(redact_values(reason), expected);
    }

    #[test]
    fn quoted_values_are_dropped() {
        check(
            "invalid type: string \"1500\", expected a nonzero u64",
            "invalid type: string, expected a nonzero u64",
        );
        check(
            "invalid value: integer `0`, expected a nonzero u64",
            "invalid value: integer, expected a nonzero u64",
        );
        check(
            "invalid type: string \"a \\\" b, c\", expected u16",
            "invalid type: string, expected u16",
        );
        check(
            "invalid type: floating point `1.5`, expected u64",
            "invalid type: floating point, expected u64",
        );
        check(
            "invalid type: boolean `true`, expected a string",
            "invalid type: boolean, expected a string",
        );
        check(
            "unknown variant `x`, expected `a`",
            "unknown variant, expected `a`",
        );
        check("missing field `memo`", "missing field `memo`");
        check(
            "invalid type: null, expected struct User",
            "invalid type: null, expected struct User",
        );
        check("a string \"unterminated", "a string \"unterminated");
    }
}
