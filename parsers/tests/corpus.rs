//! Real log lines gathered from public sources (see `tests/corpus/SOURCES.md`), run through
//! the whole line parser.
//!
//! For every `tests/corpus/*.log`: no line panics and `original` is the line itself. A file
//! named after a dataset (`sshd.log`, `cisco_acl.log`, …) holds only lines of that family, and
//! at least 98% of them must be claimed by it; `negative.log` holds lines no family reads, none
//! of which may yield a `source.ip`.
// A test file: a test fails by panicking, and it may unwrap and index what it built.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use picket_parsers::{Dataset, ParseContext, parse_line};

fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    files
}

/// The file's lines, as `picket parse` reads them (without `\n`).
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.split(|b| *b == b'\n')
}

#[test]
fn every_corpus_line_parses() {
    let ctx = ParseContext::new(1_795_392_000);
    let files = corpus_files();
    assert!(files.len() >= 9, "corpus files missing: {files:?}");
    for path in files {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let family = Dataset::from_name(name);
        let (mut total, mut claimed, mut misses) = (0usize, 0usize, Vec::new());
        for (n, line) in lines(&bytes).enumerate() {
            let shown = String::from_utf8_lossy(line);
            let ev = catch_unwind(AssertUnwindSafe(|| parse_line(line, &ctx)))
                .unwrap_or_else(|_| panic!("{name}:{}: panicked on {shown:?}", n + 1));
            assert_eq!(ev.original, line, "{name}:{}: original", n + 1);
            total += 1;
            if name == "negative" {
                assert_eq!(
                    ev.details.source.ip,
                    None,
                    "{name}:{}: source.ip from {shown:?}",
                    n + 1
                );
            }
            if let Some(ds) = family {
                if ev.dataset == ds {
                    claimed += 1;
                } else {
                    misses.push(format!("{}: {} {shown}", n + 1, ev.dataset.as_str()));
                }
            }
        }
        assert!(total > 0, "{name}: empty");
        if family.is_some() {
            assert!(
                claimed * 100 >= total * 98,
                "{name}: only {claimed}/{total} lines claimed; misses:\n{}",
                misses.join("\n")
            );
        }
    }
}
