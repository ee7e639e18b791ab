//! Turning a JSON Schema `pattern` (ECMA-262 syntax) into a regex proptest
//! can generate full matches from, with ECMA meanings kept where the Rust
//! `regex` syntax differs and unbounded repetition kept short.

/// How many repetitions past the minimum `*`, `+` and `{n,}` may generate.
const REPEAT_SLACK: u32 = 8;

/// Which matches of a pattern the generator regex makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Realism {
    /// Every string the pattern matches (within [`REPEAT_SLACK`]).
    Full,
    /// Where the pattern leaves the choice open (`.`, a negated class, `\S`,
    /// `\W`, `\D`), only characters of [`PLAIN`]; `\s` is a space. A class
    /// the pattern spells out is kept as it is.
    Plain,
}

/// The characters [`Realism::Plain`] picks from where a pattern allows
/// more: letters, digits, `.`, `_` and `-`, as identifiers are made of.
const PLAIN: &str = "A-Za-z0-9._\\-";

/// The generator regex for `pattern`: the leading `^` and trailing `$` are
/// dropped (a generated string is a whole match, which also satisfies an
/// unanchored pattern), and the rest is rewritten so that every generated
/// string also matches under ECMA-262 rules:
/// - `\d`, `\w` are ASCII in ECMA but Unicode in Rust: written as ASCII
///   classes; `\s` generates ASCII white space only, `\S` excludes U+FEFF;
/// - `.` does not match `\r`, U+2028 or U+2029 in ECMA;
/// - `[` inside a class is a literal in ECMA but nests in Rust, and `&&`,
///   `~~` are set operators in Rust: escaped;
/// - `*`, `+` and `{n,}` are bounded to [`REPEAT_SLACK`] extra repetitions;
/// - with [`Realism::Plain`], open choices are narrowed to [`PLAIN`].
pub(crate) fn generator_regex(pattern: &str, realism: Realism) -> String {
    let body = pattern.strip_prefix('^').unwrap_or(pattern);
    let body = strip_end_anchor(body);
    translate(body, realism)
}

/// `body` without a final unescaped `$`.
fn strip_end_anchor(body: &str) -> &str {
    let Some(rest) = body.strip_suffix('$') else {
        return body;
    };
    let backslashes = rest.chars().rev().take_while(|&c| c == '\\').count();
    if backslashes % 2 == 0 { rest } else { body }
}

fn translate(body: &str, realism: Realism) -> String {
    let plain = realism == Realism::Plain;
    let mut out = String::with_capacity(body.len() + 16);
    // The class being read, written out when it closes; whether it is open
    // (negated, or holding `\S`, `\W` or `\D`).
    let mut class: Option<(String, bool)> = None;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some((text, open)) = class.as_mut() {
            match c {
                '\\' => match chars.next() {
                    Some(escaped) => {
                        *open |= matches!(escaped, 'S' | 'W' | 'D');
                        text.push_str(&escape(escaped, true, realism));
                    }
                    None => text.push('\\'),
                },
                '[' => text.push_str("\\["),
                ']' => {
                    if plain && *open {
                        out.push_str(&format!("[[{text}]&&[{PLAIN}]]"));
                    } else {
                        out.push_str(&format!("[{text}]"));
                    }
                    class = None;
                }
                '&' | '~' => {
                    text.push('\\');
                    text.push(c);
                }
                other => text.push(other),
            }
            continue;
        }
        match c {
            '\\' => match chars.next() {
                Some(escaped) => out.push_str(&escape(escaped, false, realism)),
                None => out.push('\\'),
            },
            '[' => {
                let negated = chars.peek() == Some(&'^');
                if negated {
                    chars.next();
                }
                class = Some((
                    if negated {
                        "^".to_owned()
                    } else {
                        String::new()
                    },
                    negated,
                ));
            }
            '.' if plain => out.push_str(&format!("[{PLAIN}]")),
            '.' => out.push_str("[^\\n\\r\\x{2028}\\x{2029}]"),
            '*' => out.push_str(&format!("{{0,{REPEAT_SLACK}}}")),
            '+' => out.push_str(&format!("{{1,{REPEAT_SLACK}}}")),
            '{' => {
                let mut inner = String::new();
                let mut closed = false;
                for next in chars.by_ref() {
                    if next == '}' {
                        closed = true;
                        break;
                    }
                    inner.push(next);
                }
                out.push('{');
                match inner.strip_suffix(',').map(str::parse::<u32>) {
                    Some(Ok(min)) if closed => {
                        out.push_str(&format!("{min},{}", min.saturating_add(REPEAT_SLACK)));
                    }
                    _ => out.push_str(&inner),
                }
                if closed {
                    out.push('}');
                }
            }
            other => out.push(other),
        }
    }
    // An unclosed class is left for the regex parser to refuse.
    if let Some((text, _)) = class {
        out.push('[');
        out.push_str(&text);
    }
    out
}

/// The Rust regex text for the ECMA escape `\c`.
fn escape(c: char, in_class: bool, realism: Realism) -> String {
    let plain = realism == Realism::Plain;
    let text = match (c, in_class) {
        ('d', false) => "[0-9]",
        ('d', true) => "0-9",
        ('w', false) => "[0-9A-Za-z_]",
        ('w', true) => "0-9A-Za-z_",
        ('s', false) if plain => "[ ]",
        ('s', true) if plain => " ",
        ('s', false) => "[\\t\\n\\x0B\\x0C\\r ]",
        ('s', true) => "\\t\\n\\x0B\\x0C\\r ",
        ('D', false) if plain => "[A-Za-z._\\-]",
        ('W', false) if plain => "[._\\-]",
        ('S', false) if plain => return format!("[{PLAIN}]"),
        ('D', _) => "[^0-9]",
        ('W', _) => "[^0-9A-Za-z_]",
        ('S', _) => "[^\\s\\x{FEFF}]",
        _ => return format!("\\{c}"),
    };
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::{Realism, generator_regex};

    #[track_caller]
    fn check(pattern: &str, expected: &str) {
        let full = generator_regex(pattern, Realism::Full);
        assert_eq!(full, expected, "pattern {pattern}");
    }

    #[track_caller]
    fn check_plain(pattern: &str, expected: &str) {
        let plain = generator_regex(pattern, Realism::Plain);
        assert_eq!(plain, expected, "pattern {pattern}");
    }

    #[test]
    fn translations() {
        check("^[A-Z]{2}$", "[A-Z]{2}");
        check("^[^/]+/[^/]+$", "[^/]{1,8}/[^/]{1,8}");
        check("ab\\$", "ab\\$");
        check("ab\\\\$", "ab\\\\");
        check("^\\d{3}-\\w*$", "[0-9]{3}-[0-9A-Za-z_]{0,8}");
        check("[\\d\\s]", "[0-9\\t\\n\\x0B\\x0C\\r ]");
        check("[a[&&~]", "[a\\[\\&\\&\\~]");
        check("x{2,}", "x{2,10}");
        check("x{2,4}", "x{2,4}");
        check("a.b", "a[^\\n\\r\\x{2028}\\x{2029}]b");
        check("[.*+]", "[.*+]");
        check("\\D\\S", "[^0-9][^\\s\\x{FEFF}]");
    }

    #[test]
    fn plain_translations() {
        check_plain("^[A-Z]{2}$", "[A-Z]{2}");
        check_plain(
            "^[^/]+/[^/]+$",
            "[[^/]&&[A-Za-z0-9._\\-]]{1,8}/[[^/]&&[A-Za-z0-9._\\-]]{1,8}",
        );
        check_plain("a.b", "a[A-Za-z0-9._\\-]b");
        check_plain("\\S\\s\\D\\W", "[A-Za-z0-9._\\-][ ][A-Za-z._\\-][._\\-]");
        check_plain("[\\S!]", "[[[^\\s\\x{FEFF}]!]&&[A-Za-z0-9._\\-]]");
        check_plain("[\\d\\s]", "[0-9 ]");
    }
}
