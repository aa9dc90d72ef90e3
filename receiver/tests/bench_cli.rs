//! `picket bench` as a user runs it: its dataset counts agree with what `picket parse` gives on
//! the same file, and its figures are there and positive.
// A test fails by panicking: unwrap, expect and indexing are how it says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

fn picket() -> Command {
    Command::new(env!("CARGO_BIN_EXE_picket"))
}

/// The project's real-line corpus, every family and the negative lines, as one file, with a
/// CRLF line and a last line without LF (both read as lines by `parse` and `bench`).
fn corpus_file(dir: &std::path::Path) -> std::path::PathBuf {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../parsers/tests/corpus");
    let mut text = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "the corpus has its family files");
    for p in names {
        text.extend_from_slice(&std::fs::read(p).unwrap());
    }
    text.extend_from_slice(
        b"Feb 25 14:34:00 belka sshd[1]: Failed password for root from 192.0.2.7 port 22 ssh2\r\n",
    );
    text.extend_from_slice(b"Feb 25 14:35:00 belka cron[2]: (root) CMD (true)");
    let path = dir.join("mixed.log");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bench_counts_agree_with_parse_on_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = corpus_file(dir.path());

    let parsed = picket().arg("parse").arg(&file).output().unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let mut from_parse: BTreeMap<String, u64> = BTreeMap::new();
    let mut lines = 0u64;
    for l in parsed
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
    {
        let v: Value = serde_json::from_slice(l).unwrap();
        let d = v["event"]["dataset"].as_str().unwrap_or("none").to_string();
        *from_parse.entry(d).or_default() += 1;
        lines += 1;
    }

    let out = picket()
        .args(["bench", "--json", "--jobs", "2"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Not a terminal: no progress bar on stderr.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(b["lines"].as_u64(), Some(lines));
    assert_eq!(b["files"].as_u64(), Some(1));
    assert_eq!(b["jobs"].as_u64(), Some(2));
    for k in [
        "parse_lines_per_s",
        "parse_all_cores_lines_per_s",
        "json_lines_per_s",
        "json_bytes_per_s",
    ] {
        assert!(b[k].as_f64().unwrap() > 0.0, "{k} in {b}");
    }
    let from_bench: BTreeMap<String, u64> = b["datasets"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(
        from_bench, from_parse,
        "bench and parse count the datasets alike"
    );
    assert!(
        from_bench.len() >= 5,
        "the corpus spans families: {from_bench:?}"
    );
    let unclaimed = b["unclaimed"].as_u64().unwrap();
    assert_eq!(Some(&unclaimed), from_parse.get("syslog").or(Some(&0)));
    assert!(unclaimed > 0, "the negative lines are unclaimed");

    // The table for people names the same counts.
    let table = picket().arg("bench").arg(&file).output().unwrap();
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("unclaimed"), "{text}");
}

#[test]
fn bench_on_a_missing_file_says_which() {
    let out = picket()
        .args(["bench", "/nonexistent/picket-bench.log"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/picket-bench.log"), "{err}");
}
