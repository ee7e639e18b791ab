//! Parse errors: what went wrong turning verified bytes into a typed
//! [`Event`](crate::Event), with the JSON path of the first problem.

use std::fmt;

use crate::contract::Joined;

/// Why a payload could not be parsed.
///
/// Messages name the event, action and JSON path, and serde's reason; they
/// never hold the body itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The bytes are not well-formed JSON (bad syntax, truncated, invalid UTF-8,
    /// or trailing characters).
    #[error("malformed JSON at line {line}, column {column}: {reason}")]
    Malformed {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What serde_json reports.
        reason: String,
    },
    /// Well-formed JSON that is not an object.
    #[error("the payload is not a JSON object")]
    NotAnObject,
    /// A JSON object that does not fit the type of a known event and action.
    #[error("{} payload does not fit at `{path}`: {reason}", Joined(event, action.as_deref()))]
    Shape {
        /// The event name.
        event: String,
        /// The action, when known.
        action: Option<String>,
        /// The JSON path of the first problem (`transfer.blocks[0].quantity`),
        /// `.` for the top level.
        path: String,
        /// What serde reports.
        reason: String,
    },
}

impl ParseError {
    /// The JSON path of a [`ParseError::Shape`] error.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Shape { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The event of a [`ParseError::Shape`] error.
    pub fn event(&self) -> Option<&str> {
        match self {
            Self::Shape { event, .. } => Some(event),
            _ => None,
        }
    }

    /// The action of a [`ParseError::Shape`] error, when the event has one
    /// and it is known.
    pub fn action(&self) -> Option<&str> {
        match self {
            Self::Shape { action, .. } => action.as_deref(),
            _ => None,
        }
    }

    /// `event.action` (or `event`) and the path, for messages that name
    /// where a shape error is without its reason.
    pub(crate) fn place(&self) -> impl fmt::Display + '_ {
        Place(self)
    }
}

struct Place<'a>(&'a ParseError);

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = Joined(self.0.event().unwrap_or_default(), self.0.action());
        write!(
            f,
            "{target} payload does not fit its type at `{}`",
            self.0.path().unwrap_or(".")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::ParseError;

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<ParseError>();
    }

    #[test]
    fn shape_message_names_event_action_and_path() {
        let error = ParseError::Shape {
            event: "credit_transfer".into(),
            action: Some("completed".into()),
            path: "transfer.quantity".into(),
            reason: "invalid type".into(),
        };
        assert_eq!(
            error.to_string(),
            "credit_transfer.completed payload does not fit at `transfer.quantity`: invalid type"
        );
    }
}
