//! The drift report: what a payload holds that this version's types do not
//! know, by JSON path, without any of the payload's values.
//!
//! ICR adds events, actions, fields and enum values without notice (the
//! contract's "The contract grows"). The receiver accepts them, as
//! `Unknown` variants or ignored fields; the drift report says where they
//! are, so that the schema in `schema/` can follow and `cargo codegen` can
//! give them types. [`Drift::of`] reads one payload beside the bundled
//! schema ([`SCHEMA_JSON`](crate::types::SCHEMA_JSON)); a [`DriftTally`]
//! counts findings over many deliveries, with when each was first and last
//! seen.
//!
//! | finding | path |
//! | --- | --- |
//! | [`UnknownEvent`](FindingKind::UnknownEvent) | `""`: the event name is the `X-ICR-Event` header's |
//! | [`UnknownAction`](FindingKind::UnknownAction) | `action` |
//! | [`UnknownField`](FindingKind::UnknownField) | the field, e.g. `transfer.blocks[].note` |
//! | [`UnknownEnumValue`](FindingKind::UnknownEnumValue) | the value's place, e.g. `sender.type` or the tag `transfer.destination.kind` |
//!
//! Paths name fields with `.`, collapse an array's elements to `[]` and a
//! map's keys to `*` (a map's keys are data, not drift: `changes.*.from`);
//! a key that is not plain text is written quoted, `["a.b"]`. Findings are
//! sorted and deduplicated. Under an unknown action or tag nothing more is
//! reported: the schema does not say what that object holds. A report never
//! holds a value of the payload, so it may be logged and shared.
//!
//! ```
//! use icr_webhooks::drift::{Drift, DriftTally, Finding, FindingKind};
//!
//! let body = br#"{"zen":"z","hook_id":1,"note":"new","hook":{"id":1,"type":"Webhook","name":"web","active":true,"events":[],"config":{"url":"https://example.net/icr","content_type":"json","insecure_ssl":"0"},"created_at":"2026-11-28T08:59:58Z","updated_at":"2026-11-28T08:59:58Z"}}"#;
//! let drift = Drift::of("ping", body)?;
//! assert_eq!(
//!     drift.findings(),
//!     [
//!         Finding::new(FindingKind::UnknownField, "note"),
//!         Finding::new(FindingKind::UnknownEnumValue, "hook.type"),
//!     ]
//! );
//! // The values ("new", "Webhook") are not kept.
//! assert!(!format!("{drift:?}").contains("Webhook"));
//!
//! // Over many deliveries: how often, since when.
//! let mut tally = DriftTally::new();
//! tally.add("ping", &drift, std::time::SystemTime::now());
//! tally.add("ping", &drift, std::time::SystemTime::now());
//! assert_eq!(tally.entries()[0].count, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod tally;
mod walk;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use self::tally::{DriftTally, MAX_EVENT_LEN, MAX_PATH_LEN, MAX_TALLY_ENTRIES, TallyEntry};

/// What a payload holds that the types do not know: its findings, sorted
/// and deduplicated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Drift {
    findings: Vec<Finding>,
}

impl Drift {
    /// The drift of the JSON payload `body` (the payload itself: a form
    /// body's `payload` field decoded) delivered as `event`.
    ///
    /// # Errors
    /// [`DriftError::MalformedJson`] when `body` is not well-formed UTF-8
    /// JSON, [`DriftError::NotAnObject`] when it is not a JSON object.
    pub fn of(event: &str, body: &[u8]) -> Result<Self, DriftError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|error| DriftError::MalformedJson {
                line: error.line(),
                column: error.column(),
            })?;
        Self::of_value(event, &value)
    }

    /// The drift of a payload already parsed.
    ///
    /// # Errors
    /// [`DriftError::NotAnObject`] when `payload` is not a JSON object.
    pub fn of_value(event: &str, payload: &Value) -> Result<Self, DriftError> {
        if !payload.is_object() {
            return Err(DriftError::NotAnObject);
        }
        let root = walk::schema().ok_or(DriftError::Schema)?;
        let mut found = BTreeSet::new();
        match walk::event_schema(root, event) {
            Some(schema) => walk::walk(root, schema, payload, &mut found),
            None => {
                found.insert(Finding::new(FindingKind::UnknownEvent, ""));
            }
        }
        Ok(Self {
            findings: found.into_iter().collect(),
        })
    }

    /// The findings, sorted by kind then path, each once.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Whether the types know everything in the payload.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }
}

/// One thing the types do not know, and where.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// What is unknown.
    pub kind: FindingKind,
    /// Where: a JSON path (`transfer.blocks[].note`); `""` for an unknown
    /// event.
    pub path: String,
}

impl Finding {
    /// A finding of `kind` at `path`.
    pub fn new(kind: FindingKind, path: impl Into<String>) -> Self {
        Self {
            kind,
            path: path.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{} at `{}`", self.kind, self.path)
        }
    }
}

/// The kinds of [`Finding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// The `X-ICR-Event` name is not one of the catalogue's.
    UnknownEvent,
    /// The `action` is not one of the event's.
    UnknownAction,
    /// A field the schema does not describe.
    UnknownField,
    /// A string outside its enum's known values, or a union's tag (such as
    /// a transfer destination's `kind`) that names no known branch.
    UnknownEnumValue,
}

impl FindingKind {
    /// The kind's name, as serialized: `unknown_field`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownEvent => "unknown_event",
            Self::UnknownAction => "unknown_action",
            Self::UnknownField => "unknown_field",
            Self::UnknownEnumValue => "unknown_enum_value",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a payload's drift could not be reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DriftError {
    /// The body is not well-formed UTF-8 JSON.
    #[error("malformed JSON at line {line}, column {column}")]
    MalformedJson {
        /// 1-based line where parsing stopped.
        line: usize,
        /// 1-based column where parsing stopped.
        column: usize,
    },
    /// Well-formed JSON that is not an object.
    #[error("the payload is not a JSON object")]
    NotAnObject,
    /// The bundled schema could not be read: a bug of this crate, which its
    /// tests rule out.
    #[error("the bundled schema cannot be read")]
    Schema,
}

#[cfg(test)]
mod tests {
    use super::{Drift, DriftError, Finding, FindingKind, walk};

    #[test]
    fn the_bundled_schema_is_read() {
        let root = walk::schema().unwrap();
        assert!(walk::event_schema(root, "credit_transfer").is_some());
    }

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<DriftError>();
    }

    #[test]
    fn bodies_that_are_not_objects_are_errors() {
        assert_eq!(
            Drift::of("ping", b"{\"zen\":"),
            Err(DriftError::MalformedJson { line: 1, column: 7 })
        );
        assert_eq!(Drift::of("ping", b"[1]"), Err(DriftError::NotAnObject));
        assert_eq!(
            Drift::of("ping", b"\xff"),
            Err(DriftError::MalformedJson { line: 1, column: 1 })
        );
    }

    #[test]
    fn kinds_print_as_they_serialize() {
        for kind in [
            FindingKind::UnknownEvent,
            FindingKind::UnknownAction,
            FindingKind::UnknownField,
            FindingKind::UnknownEnumValue,
        ] {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.to_string())
            );
        }
        assert_eq!(
            Finding::new(FindingKind::UnknownField, "transfer.note").to_string(),
            "unknown_field at `transfer.note`"
        );
        assert_eq!(
            Finding::new(FindingKind::UnknownEvent, "").to_string(),
            "unknown_event"
        );
    }
}
