//! The house rules that no compiler checks, checked here so that ARCHITECTURE.md's
//! "Architecture Invariant" lines stay true: which crate may depend on which, that every
//! member opts in to the workspace lints, and that only the writer and import append.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The names in a manifest's `[dependencies]` table (not dev- or build-dependencies).
fn dependencies(manifest: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(manifest)).unwrap();
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            inside = l == "[dependencies]";
            continue;
        }
        if inside && let Some((name, _)) = l.split_once('=') {
            let name = name.trim();
            if !name.is_empty() && !name.starts_with('#') {
                out.push(name.split('.').next().unwrap().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn dependencies_point_one_way() {
    assert_eq!(dependencies("parsers/Cargo.toml"), ["memchr", "nom"]);
    assert_eq!(
        dependencies("receiver/framing/Cargo.toml"),
        ["bytes", "memchr"]
    );
    let store = dependencies("store/Cargo.toml");
    assert!(store.contains(&"picket-parsers".to_string()));
    assert!(
        !store
            .iter()
            .any(|d| d == "picket" || d.starts_with("tokio"))
    );
    let sensor = dependencies("receiver/sensor/Cargo.toml");
    assert!(
        sensor
            .iter()
            .all(|d| !matches!(d.as_str(), "tokio" | "sled" | "picket" | "picket-store")),
        "the sensor is pure: {sensor:?}"
    );
    // The whois client is std networking and JSON: no runtime, no store.
    assert_eq!(
        dependencies("receiver/whois/Cargo.toml"),
        ["serde", "serde_json"]
    );
    // Notice drafting and the reply reader are pure: JSON only.
    assert_eq!(dependencies("receiver/notice/Cargo.toml"), ["serde_json"]);
    // Only the store names sled.
    for m in [
        "receiver/Cargo.toml",
        "receiver/sensor/Cargo.toml",
        "parsers/Cargo.toml",
    ] {
        assert!(
            !dependencies(m).contains(&"sled".to_string()),
            "{m} names sled"
        );
    }
}

#[test]
fn every_member_opts_in_to_the_workspace_lints() {
    for m in [
        "parsers/Cargo.toml",
        "store/Cargo.toml",
        "receiver/Cargo.toml",
        "receiver/framing/Cargo.toml",
        "receiver/sensor/Cargo.toml",
        "receiver/dns/Cargo.toml",
        "receiver/whois/Cargo.toml",
        "receiver/notice/Cargo.toml",
    ] {
        let text = std::fs::read_to_string(root().join(m)).unwrap();
        assert!(
            text.contains("[lints]\nworkspace = true"),
            "{m} does not opt in to [workspace.lints]"
        );
    }
    let ws = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    for lint in [
        "unwrap_used",
        "expect_used",
        "panic",
        "indexing_slicing",
        "missing_docs",
    ] {
        assert!(ws.contains(lint), "workspace lint {lint} is gone");
    }
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn only_the_writer_and_import_append_to_the_store() {
    // (sense/offline.rs is import's and rebuild's sensor: it appends for `picket import`.)
    let mut files = Vec::new();
    sources(&root().join("receiver/src"), &mut files);
    let mut appenders: Vec<String> = files
        .iter()
        .filter(|f| {
            std::fs::read_to_string(f).unwrap().contains(".append(")
                || std::fs::read_to_string(f)
                    .unwrap()
                    .contains(".append_with(")
        })
        .map(|f| f.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    appenders.sort();
    assert_eq!(
        appenders,
        [
            "receiver/src/cli/import.rs",
            "receiver/src/sense/offline.rs",
            "receiver/src/serve/committer.rs"
        ]
        .map(String::from),
        "listeners and query connections never write"
    );
    // Listeners never parse.
    for f in ["tcp.rs", "udp.rs", "tls.rs", "accept.rs", "intake.rs"] {
        let text = std::fs::read_to_string(root().join("receiver/src/serve").join(f)).unwrap();
        assert!(!text.contains("parse_line"), "serve/{f} parses");
    }
}
