//! The scanner behind the layering test: hand-written sources read,
//! comments and literals stripped, tokens, and the `crate::` paths of use
//! trees and expressions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module's path inside its crate: `["once", "memory"]`.
pub(super) type Module = Vec<String>;

/// Each module's direct dependencies, by name.
pub(super) type Graph = BTreeMap<String, BTreeSet<String>>;

/// A token of Rust source with its line, comments and literals gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

/// A leaf of a use tree or a path: its segments and, for `x as y`, the alias.
#[derive(Debug)]
pub(super) struct Leaf {
    pub(super) path: Vec<String>,
    pub(super) alias: Option<String>,
}

/// One dependency as written: the module that writes it, the module it
/// names, and where.
#[derive(Debug)]
pub(super) struct Dependency {
    pub(super) from: Module,
    pub(super) to: Module,
    pub(super) file: String,
    pub(super) line: usize,
}

/// The hand-written `.rs` files below `dir` as (path relative to `dir` with
/// `/`, text), skipping the folders in `skip`, sorted by path.
pub(super) fn read_sources(dir: &Path, skip: &[&str]) -> Vec<(String, String)> {
    fn walk(dir: &Path, relative: &str, skip: &[&str], out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let relative = if relative.is_empty() {
                name
            } else {
                format!("{relative}/{name}")
            };
            if path.is_dir() {
                if !skip.contains(&relative.as_str()) {
                    walk(&path, &relative, skip, out);
                }
            } else if relative.ends_with(".rs") {
                out.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", skip, &mut out);
    out.sort();
    out
}

/// The module a file is, or `None` for a crate root (`lib.rs`, `main.rs`,
/// `bin/`).
pub(super) fn module_of(file: &str) -> Option<Module> {
    let mut module: Module = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if module.last().is_some_and(|last| last == "mod") {
        module.pop();
    }
    let root = matches!(module.as_slice(), [only] if only == "lib" || only == "main");
    (!root && module.first().is_some_and(|first| first != "bin")).then_some(module)
}

pub(super) fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `code` with every comment and string or character literal blanked out
/// (newlines kept, so lines still count).
pub(super) fn strip(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out: Vec<char> = chars.clone();
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in &mut out[from..to.min(chars.len())] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_word = |k: usize| k == 0 || !is_ident_char(chars[k - 1]);
        if c == '/' && at(i + 1) == '/' {
            let end = (i..chars.len())
                .find(|&j| chars[j] == '\n')
                .unwrap_or(chars.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == '/' && at(i + 1) == '*' {
            let (mut depth, mut j) = (1, i + 2);
            while j < chars.len() && depth > 0 {
                if chars[j] == '/' && at(j + 1) == '*' {
                    depth += 1;
                    j += 2;
                } else if chars[j] == '*' && at(j + 1) == '/' {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c == 'r'
            && (starts_word(i) || (chars[i - 1] == 'b' && starts_word(i - 1)))
            && matches!(at(i + 1), '"' | '#')
        {
            // A raw string, `r"…"` or `r#"…"#` (`br` too); `r#ident` is not.
            let hashes = (i + 1..chars.len())
                .take_while(|&j| chars[j] == '#')
                .count();
            if at(i + 1 + hashes) != '"' {
                i += 1;
                continue;
            }
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let start = i + 2 + hashes;
            let end = (start..chars.len())
                .find(|&j| chars[j..].starts_with(&close))
                .map_or(chars.len(), |j| j + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == '\'' {
            // `'x'` and `'\n'` are characters; `'a` and `'static` lifetimes.
            let end = if at(i + 1) == '\\' {
                (i + 3..chars.len()).find(|&j| chars[j] == '\'')
            } else if at(i + 2) == '\'' {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    blank(&mut out, i, end + 1);
                    i = end + 1;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// The tokens of stripped `code`, each with its line (from 1); numbers are
/// left out.
pub(super) fn tokens(code: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if is_ident_char(c) {
            let end = (i..chars.len())
                .find(|&j| !is_ident_char(chars[j]))
                .unwrap_or(chars.len());
            if !c.is_ascii_digit() {
                out.push((Token::Ident(chars[i..end].iter().collect()), line));
            }
            i = end;
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push((Token::PathSep, line));
            i += 2;
        } else {
            out.push((Token::Punct(c), line));
            i += 1;
        }
    }
    out
}

pub(super) fn ident(token: Option<&(Token, usize)>) -> Option<&str> {
    match token {
        Some((Token::Ident(name), _)) => Some(name),
        _ => None,
    }
}

pub(super) fn punct(token: Option<&(Token, usize)>, c: char) -> bool {
    matches!(token, Some((Token::Punct(p), _)) if *p == c)
}

/// `tokens` without each block `mod NAME { … }` whose name `drop` picks.
pub(super) fn without_modules(
    tokens: Vec<(Token, usize)>,
    drop: impl Fn(&str) -> bool,
) -> Vec<(Token, usize)> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let block = ident(tokens.get(i)) == Some("mod")
            && ident(tokens.get(i + 1)).is_some_and(&drop)
            && punct(tokens.get(i + 2), '{');
        if !block {
            out.push(tokens[i].clone());
            i += 1;
            continue;
        }
        let (mut depth, mut j) = (1, i + 3);
        while j < tokens.len() && depth > 0 {
            if punct(tokens.get(j), '{') {
                depth += 1;
            } else if punct(tokens.get(j), '}') {
                depth -= 1;
            }
            j += 1;
        }
        i = j;
    }
    out
}

/// Parses the use tree or path that starts at `tokens[i]`, below `prefix`,
/// into its leaves; returns the index after it.
pub(super) fn tree(
    tokens: &[(Token, usize)],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<Leaf>,
) -> usize {
    if punct(tokens.get(i), '{') {
        i += 1;
        while i < tokens.len() && !punct(tokens.get(i), '}') {
            i = tree(tokens, i, prefix, out);
            if punct(tokens.get(i), ',') {
                i += 1;
            }
        }
        return i + 1;
    }
    if punct(tokens.get(i), '*') {
        out.push(Leaf {
            path: prefix.to_vec(),
            alias: None,
        });
        return i + 1;
    }
    let Some(name) = ident(tokens.get(i)) else {
        out.push(Leaf {
            path: prefix.to_vec(),
            alias: None,
        });
        return i;
    };
    let mut path = prefix.to_vec();
    if name != "self" {
        path.push(name.to_owned());
    }
    i += 1;
    if tokens
        .get(i)
        .is_some_and(|(token, _)| *token == Token::PathSep)
    {
        return tree(tokens, i + 1, &path, out);
    }
    let mut alias = None;
    if ident(tokens.get(i)) == Some("as") {
        alias = ident(tokens.get(i + 1)).map(str::to_owned);
        i += 2;
    }
    out.push(Leaf { path, alias });
    i
}
