//! The module graph of the crate, drawn from its `crate::` paths (test code left out): it has no
//! cycle, and the layers point one way (`line -> families -> header -> context -> time`; no
//! module below `line` names it). A test file: it may panic and index.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Top-level module of a source file (`families/sshd.rs` -> `families`).
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The non-test part of a file: everything before its first `#[cfg(test)]`.
fn non_test(src: &str) -> &str {
    src.find("#[cfg(test)]").map_or(src, |at| &src[..at])
}

fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap();
            let from = module_of(rel);
            if from == "lib" || from == "testing" {
                continue;
            }
            let src = fs::read_to_string(&path).unwrap();
            let deps = graph.entry(from.clone()).or_default();
            // Comments (doc links among them) are not dependencies.
            let code = non_test(&src)
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"));
            for line in code {
                for (at, _) in line.match_indices("crate::") {
                    let name: String = line[at + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    // `crate::X` may name an item re-exported at the root (`crate::Event`):
                    // those start with a capital and are skipped.
                    if !name.is_empty() && name != from && name.starts_with(char::is_lowercase) {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn modules_form_no_cycle() {
    let graph = edges();
    assert!(graph.contains_key("line") && graph.contains_key("header"));
    // Depth-first search for a back edge.
    fn visit<'a>(
        g: &'a BTreeMap<String, BTreeSet<String>>,
        n: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(n) {
            return;
        }
        if let Some(k) = path.iter().position(|p| *p == n) {
            panic!("module cycle: {:?} -> {n}", &path[k..]);
        }
        path.push(n);
        for d in g.get(n).into_iter().flatten() {
            visit(g, d, path, done);
        }
        path.pop();
        done.insert(n);
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        visit(&graph, n, &mut Vec::new(), &mut done);
    }
}

#[test]
fn layers_point_one_way() {
    let graph = edges();
    let forbidden: &[(&str, &[&str])] = &[
        ("families", &["line", "json"]),
        ("header", &["line", "families", "json", "event"]),
        (
            "context",
            &["line", "families", "header", "lex", "json", "event"],
        ),
        (
            "lex",
            &["line", "families", "header", "context", "json", "event"],
        ),
        (
            "time",
            &[
                "line", "families", "header", "context", "lex", "json", "event",
            ],
        ),
    ];
    for (module, never) in forbidden {
        let deps = graph.get(*module).cloned().unwrap_or_default();
        for n in *never {
            assert!(
                !deps.contains(*n),
                "{module} must not depend on {n}: {deps:?}"
            );
        }
    }
}
