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

use icr_webhooks_tests::root;

mod scan;

use scan::*;

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
