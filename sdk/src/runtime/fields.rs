//! Field deserializers the generated structs name in `deserialize_with`:
//! open enums, RFC 3339 timestamps, and optional fields that tell absent
//! from `null`.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserialize, Visitor};

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
