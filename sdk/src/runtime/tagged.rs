//! Deserializing a tagged union in one streaming pass: the tag picks the
//! variant and the rest of the object is read straight into it (only the
//! entries before the tag, if any, are held).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::Value;

use super::text::Text;

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
