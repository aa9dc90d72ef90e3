//! Replays fuzz findings and the fuzz seeds through the fuzz targets' property checks.
//!
//! Every file in `tests/fuzz_regressions/` (one raw input per file, named after the fuzz target
//! and the issue) and every seed in `../fuzz/seeds/<target>/` goes through `parse_line` +
//! `json::write_event`, `header::parse` and each family parser, with the checks of
//! `tests/fuzz_support` (the same module the fuzz targets use): every borrowed slice inside the
//! input, `event.original` the input, the JSON one sound object that decodes back to the
//! event's fields, and deterministic parsing. A new regression file needs no new code.
// A test file: a test fails by panicking, and it may unwrap and index what it built.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod fuzz_support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Regular files under `dir` (recursively), sorted; README files are skipped.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(inputs(&p));
        } else if !p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.') || n.starts_with("README"))
        {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// How long one input may take before it counts as a hang (the fuzz targets' `-timeout` is 10 s).
const HANG_AFTER: Duration = Duration::from_secs(10);

/// Runs every check on one input in its own thread; a panic or a hang comes back as `Err`.
/// (A hung thread is left spinning; the test binary exits when the tests are done.)
fn check_one(data: Vec<u8>) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = catch_unwind(AssertUnwindSafe(|| fuzz_support::check_all(&data)));
        let _ = tx.send(r.map_err(|e| {
            e.downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| e.downcast_ref::<&str>().copied())
                .unwrap_or("(non-string panic)")
                .to_owned()
        }));
    });
    match rx.recv_timeout(HANG_AFTER) {
        Ok(r) => r,
        Err(_) => Err(format!("no result after {HANG_AFTER:?} (hang)")),
    }
}

/// Runs every check on every file; fails once, listing every file that failed.
fn replay(files: &[PathBuf]) {
    let mut failed = Vec::new();
    for f in files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("reading {}: {e}", f.display()));
        if let Err(msg) = check_one(data) {
            failed.push(format!("{}: {msg}", f.display()));
        }
    }
    assert!(
        failed.is_empty(),
        "{} input(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn fuzz_regression_files() {
    replay(&inputs(&manifest_dir().join("tests/fuzz_regressions")));
}

#[test]
fn fuzz_seeds() {
    let seeds = inputs(&manifest_dir().join("../fuzz/seeds"));
    assert!(
        seeds.len() >= 30,
        "expected the fuzz seeds, found {}",
        seeds.len()
    );
    replay(&seeds);
}

/// Hand-picked edge cases beside the files: empty, terminators only, bytes that are not UTF-8,
/// controls that the JSON must escape.
#[test]
fn edge_inputs() {
    let cases: &[&[u8]] = &[
        b"",
        b"\n",
        b"\r\n\0 ",
        b"<",
        b"<191>",
        b"<192>x",
        b"<13>1",
        b"<13>1 ",
        b"\xff\xfe\x00\x80",
        b"<38>Nov  8 15:26:31 h\xe9 p\xc3[1]: refused connect from \xc2\x9b\x1b[2J",
        b"<13>1 9999-12-31T23:59:59.999999999-23:59 h a p m [x@1 k=\"\\]\"] \x7f",
        b"<13>1 0000-01-01T00:00:00+23:59 h a p m - x",
        b"Feb 31 23:59:60 h kernel: Connection attempt to TCP [::]:0 from [::]:65535",
        b"message repeated 4294967296 times: [ x]",
        b"Nov  8 15:26:31 h sshd[1]: message repeated 2 times: [ ]",
    ];
    let failed: Vec<String> = cases
        .iter()
        .filter_map(|c| check_one(c.to_vec()).err().map(|e| format!("{c:?}: {e}")))
        .collect();
    assert!(
        failed.is_empty(),
        "edge inputs failed:\n{}",
        failed.join("\n")
    );
}

/// The checks themselves catch what they are meant to (so a pass above means something).
#[test]
fn checks_catch_bad_output() {
    let line = b"<38>Nov  8 15:26:31 linux in.telnetd[812]: refused connect from 198.51.100.7";
    let ev = picket_parsers::parse_line(line, &fuzz_support::ctx());
    let mut good = Vec::new();
    picket_parsers::write_event(&mut good, &ev);
    fuzz_support::check_json(&good, &ev);
    let good = String::from_utf8(good).unwrap();
    let bad = [
        good.replace("refused connect", "refused\u{1}connect"),
        good.replace("refused connect", "refused\u{9b}connect"),
        good.replace("198.51.100.7\"}", "198.51.100.8\"}"),
        good.replace("\"kind\":\"event\",", "\"kind\":\"event\",\"kind\":\"x\","),
        good.replace("\"host\":{\"hostname\":\"linux\"}", "\"host\":{}"),
        good.replace("\"pid\":812", "\"pid\":813"),
        good.replace("2001-", "2002-").replace("2026-", "2027-"),
        format!("{good} {{}}"),
        good[..good.len() - 1].to_owned(),
    ];
    for b in bad {
        assert!(
            catch_unwind(|| fuzz_support::check_json(b.as_bytes(), &ev)).is_err(),
            "check_json accepted {b}"
        );
    }
    let other = line.to_vec();
    assert!(fuzz_support::inside(line, &line[3..9]));
    assert!(fuzz_support::inside(line, &line[line.len()..]));
    assert!(!fuzz_support::inside(line, &other));
    assert!(!fuzz_support::inside(&line[1..], &line[..2]));
}

/// Finding of the `line` and `header` targets: when the last header token runs to the end of
/// the line, `lex::split_word` returns `(i, &[])`, a `'static` empty slice, and the header's
/// empty `message` then points outside the line (event.rs promises every slice points into it).
/// Harmless for the JSON and the store (it drops spans outside `original`), wrong for anything
/// that takes `message.as_ptr() - original.as_ptr()` as an offset. Fix: `(i, &i[i.len()..])`.
/// The other tests tolerate exactly this (see `fuzz_support::STRICT_EMPTY_MESSAGE`).
#[test]
fn empty_message_points_into_the_input() {
    fuzz_support::STRICT_EMPTY_MESSAGE.with(|c| c.set(true));
    let mut files = inputs(&manifest_dir().join("tests/fuzz_regressions"));
    files.extend(inputs(&manifest_dir().join("../fuzz/seeds")));
    replay(&files);
}
