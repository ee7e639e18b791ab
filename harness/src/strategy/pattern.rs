//! Turning a JSON Schema `pattern` (ECMA-262 syntax) into a regex proptest
//! can generate full matches from, with ECMA meanings kept where the Rust
//! `regex` syntax differs and unbounded repetition kept short.

/// How many repetitions past the minimum `*`, `+` and `{n,}` may generate.
const REPEAT_SLACK: u32 = 8;

/// The generator regex for `pattern`: the leading `^` and trailing `$` are
/// dropped (a generated string is a whole match, which also satisfies an
/// unanchored pattern), and the rest is rewritten so that every generated
/// string also matches under ECMA-262 rules:
/// - `\d`, `\w` are ASCII in ECMA but Unicode in Rust: written as ASCII
///   classes; `\s` generates ASCII white space only, `\S` excludes U+FEFF;
/// - `.` does not match `\r`, U+2028 or U+2029 in ECMA;
/// - `[` inside a class is a literal in ECMA but nests in Rust, and `&&`,
///   `~~` are set operators in Rust: escaped;
/// - `*`, `+` and `{n,}` are bounded to [`REPEAT_SLACK`] extra repetitions.
pub(crate) fn generator_regex(pattern: &str) -> String {
    let body = pattern.strip_prefix('^').unwrap_or(pattern);
    let body = strip_end_anchor(body);
    translate(body)
}

/// `body` without a final unescaped `$`.
fn strip_end_anchor(body: &str) -> &str {
    let Some(rest) = body.strip_suffix('$') else {
        return body;
    };
    let backslashes = rest.chars().rev().take_while(|&c| c == '\\').count();
    if backslashes % 2 == 0 { rest } else { body }
}

fn translate(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 16);
    let mut chars = body.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => out.push_str(&escape(escaped, in_class)),
                None => out.push('\\'),
            },
            '[' if in_class => out.push_str("\\["),
            '[' => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            '.' if !in_class => out.push_str("[^\\n\\r\\x{2028}\\x{2029}]"),
            '*' if !in_class => out.push_str(&format!("{{0,{REPEAT_SLACK}}}")),
            '+' if !in_class => out.push_str(&format!("{{1,{REPEAT_SLACK}}}")),
            '{' if !in_class => {
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
    out
}

/// The Rust regex text for the ECMA escape `\c`.
fn escape(c: char, in_class: bool) -> String {
    let text = match (c, in_class) {
        ('d', false) => "[0-9]",
        ('d', true) => "0-9",
        ('w', false) => "[0-9A-Za-z_]",
        ('w', true) => "0-9A-Za-z_",
        ('s', false) => "[\\t\\n\\x0B\\x0C\\r ]",
        ('s', true) => "\\t\\n\\x0B\\x0C\\r ",
        ('D', _) => "[^0-9]",
        ('W', _) => "[^0-9A-Za-z_]",
        ('S', _) => "[^\\s\\x{FEFF}]",
        _ => return format!("\\{c}"),
    };
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::generator_regex;

    #[track_caller]
    fn check(pattern: &str, expected: &str) {
        assert_eq!(generator_regex(pattern), expected, "pattern {pattern}");
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
}
