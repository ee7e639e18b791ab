//! Parse errors as the SDK reports them: serde_json's error classified as
//! malformed JSON or a shape that does not fit, its position dropped, and
//! every value it quotes from the body removed, so that an error never
//! carries the body's contents.

use crate::parse::ParseError;

pub(super) fn classify(
    error: serde_json::Error,
    event: &str,
    action: Option<&str>,
    path: &str,
) -> ParseError {
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
