//! [`Text`], the string of the payload model when it borrows: a slice of the body
//! when the JSON string holds no escape, an owned copy when it does.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;

use compact_str::CompactString;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The string type `S` of a payload that borrows from the body
/// (`Event<Text<'a>>`, `Transfer<Text<'a>>`; the owned model's is
/// [`CompactString`](crate::types::CompactString)).
///
/// A JSON string without escapes (`"acme-airlines"`) becomes a slice of the
/// body; one with an escape (`"caf\u00e9"`, `"a\"b"`) is decoded into an
/// owned copy. So is every string of an object member that comes before the
/// tag of a tagged union (`action`, or `kind` in `TransferDestination`): the
/// parser holds those members as JSON values until the tag says which type
/// they belong to. ICR writes the tag first, so in its deliveries only
/// escaped strings are copies; [`is_borrowed`](Self::is_borrowed) tells.
/// Either way a `Text` reads as a `&str`: it derefs to `str`, compares with
/// `str` and `String` (both ways round), and prints as the string.
///
/// ```
/// use icr_webhooks::types::Text;
///
/// let name: Text<'_> = serde_json::from_str(r#""acme-airlines""#)?;
/// assert_eq!(name, "acme-airlines");
/// assert!(name.is_borrowed());
///
/// let escaped: Text<'_> = serde_json::from_str(r#""caf\u00e9""#)?;
/// assert_eq!(escaped, "café");
/// assert!(!escaped.is_borrowed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<'a>(Cow<'a, str>);

impl<'a> Text<'a> {
    /// A `Text` borrowing `text`.
    pub const fn borrowed(text: &'a str) -> Self {
        Self(Cow::Borrowed(text))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the string points into the bytes it was parsed from (it had
    /// no escape), rather than being an owned copy.
    pub fn is_borrowed(&self) -> bool {
        matches!(self.0, Cow::Borrowed(_))
    }

    /// The string as a `Cow`.
    pub fn into_cow(self) -> Cow<'a, str> {
        self.0
    }

    /// The string as an owned `String` (a copy when borrowed).
    pub fn into_string(self) -> String {
        self.0.into_owned()
    }

    /// The string as a `CompactString`, the string type of the owned
    /// model.
    pub fn into_compact(self) -> CompactString {
        match self.0 {
            Cow::Borrowed(text) => CompactString::from(text),
            Cow::Owned(text) => CompactString::from(text),
        }
    }
}

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Text<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Text<'_> {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Text<'_>> for str {
    fn eq(&self, other: &Text<'_>) -> bool {
        *self == *other.0
    }
}

impl PartialEq<Text<'_>> for String {
    fn eq(&self, other: &Text<'_>) -> bool {
        **self == *other.0
    }
}

impl PartialEq<Text<'_>> for &str {
    fn eq(&self, other: &Text<'_>) -> bool {
        **self == *other.0
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(text: &'a str) -> Self {
        Self(Cow::Borrowed(text))
    }
}

impl From<String> for Text<'_> {
    fn from(text: String) -> Self {
        Self(Cow::Owned(text))
    }
}

impl<'a> From<Cow<'a, str>> for Text<'a> {
    fn from(text: Cow<'a, str>) -> Self {
        Self(text)
    }
}

impl From<Text<'_>> for String {
    fn from(text: Text<'_>) -> Self {
        text.into_string()
    }
}

impl From<Text<'_>> for CompactString {
    fn from(text: Text<'_>) -> Self {
        text.into_compact()
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(json: &str, expected: &str, borrowed: bool) {
        let text: Text<'_> = serde_json::from_str(json).unwrap();
        assert_eq!(text.as_str(), expected, "{json}");
        assert_eq!(text.is_borrowed(), borrowed, "{json}");
        assert_eq!(
            serde_json::to_string(&text).unwrap(),
            serde_json::to_string(expected).unwrap()
        );
    }

    #[test]
    fn borrows_unless_escaped() {
        check(r#""acme-airlines""#, "acme-airlines", true);
        check(r#""""#, "", true);
        check(r#""São Paulo — lot 1""#, "São Paulo — lot 1", true);
        check(r#""a\"b""#, "a\"b", false);
        check(r#""caf\u00e9""#, "café", false);
        check(r#""line\nbreak""#, "line\nbreak", false);
    }

    #[test]
    fn refuses_what_is_not_a_string() {
        for json in ["1", "null", "true", "[]", "{}"] {
            let error = serde_json::from_str::<Text<'_>>(json).unwrap_err();
            assert!(error.is_data(), "{json}: {error}");
            assert!(
                error.to_string().contains("expected a string"),
                "{json}: {error}"
            );
        }
    }

    #[test]
    fn reads_as_a_str() {
        let text = Text::borrowed("offsets-2026");
        assert_eq!(text, "offsets-2026");
        assert_eq!("offsets-2026", text);
        assert_eq!(text, "offsets-2026".to_owned());
        assert_eq!("offsets-2026".to_owned(), text);
        assert_eq!(text.len(), 12);
        assert_eq!(format!("{text}|{text:?}"), "offsets-2026|\"offsets-2026\"");
        assert_eq!(String::from(text.clone()), "offsets-2026");
        assert_eq!(CompactString::from(text), "offsets-2026");
    }
}
