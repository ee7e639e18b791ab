//! The tag probe: the string value of one top-level property of a JSON
//! object, read without building the document. Used on error paths, to name
//! the action in a parse error.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::explain::classify;
use super::text::Text;
use crate::parse::ParseError;

/// Reads the string value of the top-level property `tag` without building
/// the document: every other value is skipped. Used on error paths, to name
/// the action in the error.
///
/// # Errors
/// Malformed JSON, a non-object, a missing, repeated or non-string tag.
pub(super) fn probe_tag<'a>(
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
