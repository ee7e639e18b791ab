//! [`StrategyError`]: why no strategy could be built from a schema document,
//! or why a strategy was asked for that the document does not describe.

use std::error::Error;

/// Why strategies could not be built, or asked for.
///
/// Every variant about the document names the JSON pointer (RFC 6901) of the
/// schema at fault, e.g. `/definitions/Transfer/properties/blocks`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StrategyError {
    /// The document text is not JSON.
    #[error("the schema document is not JSON")]
    NotJson {
        /// What the JSON parser reports.
        #[source]
        source: Box<dyn Error + Send + Sync + 'static>,
    },
    /// The document lacks a section it must have, or has it in the wrong
    /// shape (`x-icr-events` must be an object, `definitions` too when
    /// present).
    #[error("the document has no `{section}` object")]
    MissingSection {
        /// The top-level key.
        section: &'static str,
    },
    /// `x-icr-events` is empty: there is nothing to generate.
    #[error("the document's `x-icr-events` names no event")]
    NoEvents,
    /// A schema is neither an object nor a boolean.
    #[error("the schema at `{pointer}` is not an object or a boolean")]
    NotASchema {
        /// Where the schema is.
        pointer: String,
    },
    /// A keyword the strategies do not handle (`not`, `allOf`,
    /// `patternProperties`, `uniqueItems: true`, ...).
    #[error("unsupported keyword `{keyword}` at `{pointer}`")]
    UnsupportedKeyword {
        /// Where the schema is.
        pointer: String,
        /// The keyword.
        keyword: String,
    },
    /// Keywords handled alone but not together (`$ref` with validation
    /// siblings, `pattern` with `format`, `oneOf` with `type`, ...).
    #[error("unsupported combination of keywords {} at `{pointer}`", .keywords.join(", "))]
    UnsupportedCombination {
        /// Where the schema is.
        pointer: String,
        /// The keywords that clash, sorted.
        keywords: Vec<String>,
    },
    /// A keyword whose value has the wrong JSON type or shape (`required`
    /// not an array of strings, `items` as an array, ...).
    #[error("invalid value for `{keyword}` at `{pointer}`")]
    InvalidKeyword {
        /// Where the schema is.
        pointer: String,
        /// The keyword.
        keyword: String,
    },
    /// A `type` that is not one of the seven JSON Schema types.
    #[error("unsupported type `{name}` at `{pointer}`")]
    UnsupportedType {
        /// Where the schema is.
        pointer: String,
        /// The type name.
        name: String,
    },
    /// A `format` other than `date-time`, `date` and `uri`.
    #[error("unsupported format `{format}` at `{pointer}`")]
    UnsupportedFormat {
        /// Where the schema is.
        pointer: String,
        /// The format name.
        format: String,
    },
    /// No value satisfies the schema: `false`, an empty `enum`, a minimum
    /// above the maximum, ...
    #[error("no value satisfies the schema at `{pointer}`")]
    Unsatisfiable {
        /// Where the schema is.
        pointer: String,
    },
    /// A `pattern` that cannot be generated from (look-around,
    /// back-reference, bad syntax).
    #[error("pattern `{pattern}` at `{pointer}` cannot be generated from")]
    Pattern {
        /// Where the schema is.
        pointer: String,
        /// The pattern as written in the schema.
        pattern: String,
        /// What the regex parser reports.
        #[source]
        source: Box<dyn Error + Send + Sync + 'static>,
    },
    /// A `$ref` that is not of the form `#/definitions/<name>`.
    #[error("`$ref` `{reference}` at `{pointer}` is not of the form `#/definitions/<name>`")]
    UnsupportedRef {
        /// Where the `$ref` is.
        pointer: String,
        /// The reference.
        reference: String,
    },
    /// A `$ref` to a definition the document does not have.
    #[error("`$ref` `{reference}` at `{pointer}` names no definition")]
    UnresolvedRef {
        /// Where the `$ref` is.
        pointer: String,
        /// The reference.
        reference: String,
    },
    /// Definitions that refer to themselves, directly or not.
    #[error("`$ref` cycle at `{pointer}`: {}", .chain.join(" -> "))]
    RefCycle {
        /// Where the `$ref` that closes the cycle is.
        pointer: String,
        /// The definition names along the cycle, the first repeated last.
        chain: Vec<String>,
    },
    /// Inline schemas nested deeper than the strategies follow.
    #[error("schemas nest deeper than {limit} levels at `{pointer}`")]
    TooDeep {
        /// Where the limit was hit.
        pointer: String,
        /// The limit.
        limit: usize,
    },
    /// Two branches of a `oneOf` that one value may match both of: a value
    /// generated from either would then be invalid. Branches are told apart
    /// by JSON type, by `const`/`enum` values, or by a required property with
    /// a different `const` in each.
    #[error("branches {first} and {second} of `oneOf` at `{pointer}` may match the same value")]
    AmbiguousOneOf {
        /// Where the `oneOf` is.
        pointer: String,
        /// Index of the first branch.
        first: usize,
        /// Index of the second branch.
        second: usize,
    },
    /// An event whose schema is a union not told apart by a constant
    /// `action` in each branch.
    #[error("the branches of event `{event}` are not told apart by a constant `action`")]
    UntaggedEvent {
        /// The event name.
        event: String,
    },
    /// An event the document does not describe.
    #[error("no event `{event}` in the schema")]
    UnknownEvent {
        /// The event name asked for.
        event: String,
    },
    /// An action the event does not have (or any action, for an event
    /// without actions such as `ping`).
    #[error("event `{event}` has no action `{action}`")]
    UnknownAction {
        /// The event name.
        event: String,
        /// The action asked for.
        action: String,
    },
    /// No action was given for an event that has actions.
    #[error("event `{event}` has actions and none was given")]
    MissingAction {
        /// The event name.
        event: String,
    },
    /// A definition the document does not have.
    #[error("no definition `{name}` in the schema")]
    UnknownDefinition {
        /// The name asked for.
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::StrategyError;

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<StrategyError>();
    }

    #[test]
    fn messages_name_the_pointer() {
        let error = StrategyError::RefCycle {
            pointer: "/definitions/B".into(),
            chain: vec!["A".into(), "B".into(), "A".into()],
        };
        assert_eq!(
            error.to_string(),
            "`$ref` cycle at `/definitions/B`: A -> B -> A"
        );
        let error = StrategyError::UnknownAction {
            event: "ping".into(),
            action: "x".into(),
        };
        assert_eq!(error.to_string(), "event `ping` has no action `x`");
    }
}
