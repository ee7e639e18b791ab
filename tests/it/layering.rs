//! Dependencies between modules point one way: the hand-written modules of
//! `sdk/src` (not `generated/`) and `codegen/src` form no cycle.
//!
//! A module is a file (`foo.rs` and `foo/mod.rs` are `foo`, `once/memory.rs`
//! is `once::memory`). Its dependencies are the `crate::` paths it writes, in
//! `use` lines and anywhere else (as `crate::contract::MAX_BODY_SIZE`), with
//! comments, string literals and `mod tests` blocks left out. A name imported
//! from the crate root (`use crate::{Receiver, ParseError}`) is the module
//! `lib.rs` imports it from (`pub use receiver::{Receiver, ..}`), and the
//! crate's own name (`extern crate self as icr_webhooks`) is `crate`. The
//! crate roots themselves (`lib.rs`, `main.rs`) are not modules here, and
//! relative paths (`super::`, `self::`) are not followed: between files they
//! only reach within one folder. `$crate::` in a macro is not counted either:
//! it names what the macro needs where it is expanded, the generated code.
//!
//! For the cycle check a dependency on a submodule counts as one on its
//! top-level module (`once`), and one from a submodule as one from its
//! top-level module, unless both ends are inside that module: those form a
//! graph of their own, with `once` for `once/mod.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use icr_webhooks_tests::root;

/// A module's path inside its crate: `["once", "memory"]`.
type Module = Vec<String>;

/// Each module's direct dependencies, by name.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// A token of Rust source with its line, comments and literals gone.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

/// A leaf of a use tree or a path: its segments and, for `x as y`, the alias.
#[derive(Debug)]
struct Leaf {
    path: Vec<String>,
    alias: Option<String>,
}

/// One dependency as written: the module that writes it, the module it
/// names, and where.
#[derive(Debug)]
struct Dependency {
    from: Module,
    to: Module,
    file: String,
    line: usize,
}

/// The hand-written `.rs` files below `dir` as (path relative to `dir` with
/// `/`, text), skipping the folders in `skip`, sorted by path.
fn read_sources(dir: &Path, skip: &[&str]) -> Vec<(String, String)> {
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
fn module_of(file: &str) -> Option<Module> {
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

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `code` with every comment and string or character literal blanked out
/// (newlines kept, so lines still count).
fn strip(code: &str) -> String {
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
fn tokens(code: &str) -> Vec<(Token, usize)> {
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

fn ident(token: Option<&(Token, usize)>) -> Option<&str> {
    match token {
        Some((Token::Ident(name), _)) => Some(name),
        _ => None,
    }
}

fn punct(token: Option<&(Token, usize)>, c: char) -> bool {
    matches!(token, Some((Token::Punct(p), _)) if *p == c)
}

/// `tokens` without each block `mod NAME { … }` whose name `drop` picks.
fn without_modules(
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
fn tree(tokens: &[(Token, usize)], mut i: usize, prefix: &[String], out: &mut Vec<Leaf>) -> usize {
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

/// One crate's modules, its root re-exports and the dependencies of each
/// module.
struct Layering {
    dependencies: Vec<Dependency>,
}

impl Layering {
    /// Reads `files` (paths relative to the crate's `src`, as from
    /// [`read_sources`]).
    fn of(files: &[(String, String)]) -> Self {
        let modules: BTreeSet<Module> = files
            .iter()
            .filter_map(|(file, _)| module_of(file))
            .collect();
        let longest_module = |path: &[String]| {
            (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| modules.contains(prefix))
        };
        // The crate root's names: `pub use module::{A, B as C}` and the
        // names `extern crate self as NAME` gives the crate.
        let mut exports: BTreeMap<String, Module> = BTreeMap::new();
        let mut roots = vec!["crate".to_owned()];
        for (file, text) in files {
            if file != "lib.rs" {
                continue;
            }
            let tokens = without_modules(tokens(&strip(text)), |_| true);
            for i in 0..tokens.len() {
                let word = |k: usize| ident(tokens.get(i + k));
                if word(0) == Some("extern") && word(1) == Some("crate") && word(2) == Some("self")
                {
                    roots.extend(word(4).map(str::to_owned));
                }
                // Private imports of the root are names of the crate too.
                if word(0) != Some("use") {
                    continue;
                }
                let mut leaves = Vec::new();
                tree(&tokens, i + 1, &[], &mut leaves);
                for Leaf { mut path, alias } in leaves {
                    if path.first().is_some_and(|first| first == "crate") {
                        path.remove(0);
                    }
                    let Some(name) = alias.or_else(|| path.last().cloned()) else {
                        continue;
                    };
                    if let Some(module) = longest_module(&path) {
                        exports.insert(name, module);
                    }
                }
            }
        }
        let resolve =
            |path: &[String]| longest_module(path).or_else(|| exports.get(path.first()?).cloned());

        let mut dependencies = Vec::new();
        for (file, text) in files {
            let Some(from) = module_of(file) else {
                continue;
            };
            let tokens = without_modules(tokens(&strip(text)), |name| name == "tests");
            for i in 0..tokens.len() {
                let Some(word) = ident(tokens.get(i)) else {
                    continue;
                };
                let path_follows = tokens
                    .get(i + 1)
                    .is_some_and(|(token, _)| *token == Token::PathSep);
                // Not `$crate::`, `pub(in crate::x)`, nor the crate's name
                // inside another path (`a::me::`); a leading `::me::` is it.
                let before = |k: usize| i.checked_sub(k).and_then(|k| tokens.get(k));
                let inside_path = before(1).is_some_and(|(token, _)| *token == Token::PathSep)
                    && (word == "crate" || ident(before(2)).is_some());
                let written_after =
                    punct(before(1), '$') || ident(before(1)) == Some("in") || inside_path;
                if !roots.iter().any(|root| root == word) || !path_follows || written_after {
                    continue;
                }
                let mut leaves = Vec::new();
                tree(&tokens, i + 2, &[], &mut leaves);
                for leaf in leaves {
                    if let Some(to) = resolve(&leaf.path).filter(|to| *to != from) {
                        dependencies.push(Dependency {
                            from: from.clone(),
                            to,
                            file: file.clone(),
                            line: tokens[i].1,
                        });
                    }
                }
            }
        }
        Self { dependencies }
    }

    /// The graph of the cycle check that `dependency` is an edge of, and the
    /// edge: between top-level modules, or inside one (scope `once`).
    fn edge(dependency: &Dependency) -> (String, String, String) {
        let (from, to) = (&dependency.from, &dependency.to);
        if from[0] == to[0] {
            (from[0].clone(), from.join("::"), to.join("::"))
        } else {
            (String::new(), from[0].clone(), to[0].clone())
        }
    }

    /// The graphs of the cycle check, by scope (`""` for the top level).
    fn graphs(&self) -> BTreeMap<String, Graph> {
        let mut graphs: BTreeMap<String, Graph> = BTreeMap::new();
        for dependency in &self.dependencies {
            let (scope, from, to) = Self::edge(dependency);
            graphs
                .entry(scope)
                .or_default()
                .entry(from)
                .or_default()
                .insert(to);
        }
        graphs
    }

    /// Each cycle as `a -> b -> a`, with where each of its edges is
    /// written (file paths below `dir`).
    fn cycles(&self, dir: &str) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        for (scope, graph) in self.graphs() {
            for cycle in cycles(&graph) {
                let mut written = Vec::new();
                for (n, from) in cycle.iter().enumerate() {
                    let to = &cycle[(n + 1) % cycle.len()];
                    let mut places: Vec<String> = self
                        .dependencies
                        .iter()
                        .filter(|d| Self::edge(d) == (scope.clone(), from.clone(), to.clone()))
                        .map(|d| format!("{dir}{}:{}", d.file, d.line))
                        .collect();
                    places.dedup();
                    written.push(format!("{from} -> {to}: {}", places.join(", ")));
                }
                out.push((render(&cycle), written));
            }
        }
        out
    }
}

/// Every elementary cycle of `graph`, each once, starting from its smallest
/// module; sorted.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    fn walk(graph: &Graph, start: &String, path: &mut Vec<String>, found: &mut Vec<Vec<String>>) {
        let last = path.last().cloned().unwrap_or_default();
        for next in graph.get(&last).into_iter().flatten() {
            if next == start {
                found.push(path.clone());
            } else if next > start && !path.contains(next) {
                path.push(next.clone());
                walk(graph, start, path, found);
                path.pop();
            }
        }
    }
    let mut found = Vec::new();
    for start in graph.keys() {
        walk(graph, start, &mut vec![start.clone()], &mut found);
    }
    found.sort();
    found
}

/// `a -> b -> a`.
fn render(cycle: &[String]) -> String {
    let mut names = cycle.to_vec();
    names.extend(cycle.first().cloned());
    names.join(" -> ")
}

#[test]
fn hand_written_modules_form_no_cycle() {
    let mut found = BTreeMap::new();
    let mut written = Vec::new();
    for (src, skip) in [("sdk/src", &["generated"][..]), ("codegen/src", &[][..])] {
        let layering = Layering::of(&read_sources(&root().join(src), skip));
        assert!(
            !layering.dependencies.is_empty(),
            "no `crate::` path read in {src}"
        );
        let cycles = layering.cycles(&format!("{src}/"));
        for (cycle, edges) in &cycles {
            written.push(format!("{src}: {cycle}"));
            written.extend(edges.iter().map(|edge| format!("    {edge}")));
        }
        found.insert(
            src,
            cycles
                .into_iter()
                .map(|(cycle, _)| cycle)
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(
        found,
        BTreeMap::from([("codegen/src", Vec::new()), ("sdk/src", Vec::new())]),
        "modules that depend on each other, and where each edge is written:\n{}",
        written.join("\n")
    );
}

#[track_caller]
fn check_cycles(edges: &[(&str, &str)], expected: &[&str]) {
    let mut graph = Graph::new();
    for (from, to) in edges {
        graph
            .entry((*from).to_owned())
            .or_default()
            .insert((*to).to_owned());
    }
    let found: Vec<String> = cycles(&graph).iter().map(|cycle| render(cycle)).collect();
    assert_eq!(found, expected, "{edges:?}");
}

#[test]
fn the_cycle_finder_reports_each_cycle_once() {
    check_cycles(&[], &[]);
    check_cycles(&[("a", "b"), ("b", "c"), ("a", "c")], &[]);
    check_cycles(&[("a", "b"), ("b", "a")], &["a -> b -> a"]);
    check_cycles(&[("a", "a")], &["a -> a"]);
    check_cycles(
        &[("c", "a"), ("b", "c"), ("a", "b"), ("d", "a")],
        &["a -> b -> c -> a"],
    );
    check_cycles(
        &[("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")],
        &["a -> b -> a", "b -> c -> b"],
    );
    check_cycles(
        &[("a", "b"), ("b", "c"), ("c", "a"), ("b", "a")],
        &["a -> b -> a", "a -> b -> c -> a"],
    );
}

/// The edges of the cycle check read from hand-made sources, as
/// `scope: from -> to` (`scope` empty for the top level), and its cycles.
#[track_caller]
fn check_sources(files: &[(&str, &str)], edges: &[&str], cycles: &[&str]) {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(file, text)| ((*file).to_owned(), (*text).to_owned()))
        .collect();
    let layering = Layering::of(&files);
    let found: BTreeSet<String> = layering
        .dependencies
        .iter()
        .map(|d| {
            let (scope, from, to) = Layering::edge(d);
            format!("{scope}: {from} -> {to}")
        })
        .collect();
    let expected: BTreeSet<String> = edges.iter().map(|edge| (*edge).to_owned()).collect();
    assert_eq!(found, expected);
    let found: Vec<String> = layering
        .cycles("")
        .into_iter()
        .map(|(cycle, _)| cycle)
        .collect();
    assert_eq!(found, cycles);
}

#[test]
fn dependencies_are_read_from_crate_paths() {
    const LIB: &str = "extern crate self as me;\n\
        mod a; mod b; mod c; pub mod once;\n\
        pub use b::{B, inner::Deep as Renamed};\n\
        pub use crate::c::C;\n\
        pub use once::Claim;\n\
        pub use external::Thing;\n\
        use a::Hidden;\n\
        pub mod __private { pub use crate::a::*; }\n";
    // Names from the root, a nested tree, a path in an expression, and the
    // crate's own name; nothing from lib.rs itself.
    check_sources(
        &[
            ("lib.rs", LIB),
            (
                "a.rs",
                "use crate::{B, c::{self, Other}};\nfn f() { crate::Renamed::new(); }",
            ),
            (
                "b.rs",
                "fn g() -> me::C { crate::Hidden }\nuse crate::Thing;\nuse x::me::a;",
            ),
            ("c.rs", ""),
        ],
        &[": a -> b", ": a -> c", ": b -> a", ": b -> c"],
        &["a -> b -> a"],
    );
    // Comments, strings, characters, `mod tests`, `$crate` and visibility
    // are not dependencies.
    check_sources(
        &[
            ("lib.rs", LIB),
            (
                "a.rs",
                "// use crate::b::X;\n/* crate::b /* nested */ crate::b */\nconst S: &str = \"crate::b::X\";",
            ),
            (
                "b.rs",
                "const R: &str = r#\"crate::a \"quoted\"\"#;\nconst Q: char = '\"';\nfn f<'a>(x: &'a str) {}\npub(crate) fn g() {}\npub(in crate::a) fn h() {}",
            ),
            (
                "c.rs",
                "macro_rules! m { () => { $crate::a::X } }\n#[cfg(test)]\nmod tests { use crate::a::X; fn t() { if true { crate::b::f(); } } }\nuse crate::b::Z;",
            ),
        ],
        &[": c -> b"],
        &[],
    );
    // A submodule counts as its top-level module, both ways, unless both
    // ends are inside it.
    check_sources(
        &[
            ("lib.rs", LIB),
            ("a.rs", "use crate::once::memory::MemoryStore;"),
            (
                "once/mod.rs",
                "use crate::a::A;\nuse crate::once::sql::Row;",
            ),
            ("once/memory.rs", "use crate::Claim;\nuse crate::once::sql;"),
            ("once/sql.rs", "use crate::once::memory::Thing;"),
        ],
        &[
            ": a -> once",
            ": once -> a",
            "once: once -> once::sql",
            "once: once::memory -> once",
            "once: once::memory -> once::sql",
            "once: once::sql -> once::memory",
        ],
        &[
            "a -> once -> a",
            "once -> once::sql -> once::memory -> once",
            "once::memory -> once::sql -> once::memory",
        ],
    );
}
