//! The labelled corpus (`tests/labelled/*.txt`, see its README): every line's fields against
//! labels written by reading the line, scored field by field, printed and asserted (at least
//! 99% per field); and the non-security lines of `tests/corpus/negative.log`, every one of
//! which must stay `syslog` with no action and no peer.
// A test file: a test fails by panicking, and it may unwrap and index what it built.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use picket_parsers::{Action, Event, ParseContext, parse_line};

/// The scored fields, in report order.
const FIELDS: [&str; 12] = [
    "ds", "act", "src", "sport", "dst", "dport", "tr", "host", "prog", "pid", "peer", "rule",
];

/// What the parser gave for `field`, as the label spells it.
fn value(ev: &Event<'_>, field: &str) -> Option<String> {
    let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
    let d = &ev.details;
    match field {
        "ds" => Some(ev.dataset.as_str().to_string()),
        "act" => d.action.map(|a: Action| a.as_str().to_string()),
        "src" => d.source.ip.map(|a| a.to_string()),
        "sport" => d.source.port.map(|p| p.to_string()),
        "dst" => d.destination.ip.map(|a| a.to_string()),
        "dport" => d.destination.port.map(|p| p.to_string()),
        "tr" => text(d.transport.map(|t| t.name())),
        "host" => text(ev.header.hostname),
        "prog" => text(ev.header.appname),
        "pid" => ev.header.pid().map(|p| p.to_string()),
        "peer" => text(d.source.domain),
        "rule" => text(d.rule.id),
        _ => unreachable!("{field}"),
    }
}

/// One labelled line: the line, its labels (field → value; `kind` too), where it came from.
struct Record {
    file: String,
    line: Vec<u8>,
    labels: BTreeMap<String, String>,
}

fn records() -> Vec<Record> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/labelled");
    let mut paths: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = fs::read(&p).unwrap();
        let mut pending: Option<Vec<u8>> = None;
        for (n, raw) in bytes.split(|b| *b == b'\n').enumerate() {
            if let Some(lab) = raw.strip_prefix(b"= ") {
                let line = pending
                    .take()
                    .unwrap_or_else(|| panic!("{file}:{}: label without a line", n + 1));
                let mut labels = BTreeMap::new();
                for kv in String::from_utf8_lossy(lab).split_whitespace() {
                    let (k, v) = kv
                        .split_once('=')
                        .unwrap_or_else(|| panic!("{file}:{}: {kv:?}", n + 1));
                    assert!(
                        k == "kind" || FIELDS.contains(&k),
                        "{file}:{}: unknown field {k}",
                        n + 1
                    );
                    labels.insert(k.to_string(), v.to_string());
                }
                assert!(labels.contains_key("ds"), "{file}:{}: no ds", n + 1);
                out.push(Record {
                    file: file.clone(),
                    line,
                    labels,
                });
            } else if raw.starts_with(b"# ") || raw.is_empty() && pending.is_none() {
                continue;
            } else {
                assert!(pending.is_none(), "{file}:{}: line without a label", n + 1);
                pending = Some(raw.to_vec());
            }
        }
        assert!(pending.is_none(), "{file}: last line without a label");
    }
    out
}

#[test]
fn fields_match_the_labels() {
    let ctx = ParseContext::new(1_795_392_000);
    let recs = records();
    assert!(recs.len() >= 100, "only {} labelled lines", recs.len());
    let mut right = [0usize; FIELDS.len()];
    let mut misses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &recs {
        let ev = parse_line(&r.line, &ctx);
        for (k, f) in FIELDS.iter().enumerate() {
            let want = r.labels.get(*f).cloned();
            let got = value(&ev, f);
            if want == got {
                right[k] += 1;
            } else {
                let kind = r
                    .labels
                    .get("kind")
                    .cloned()
                    .unwrap_or_else(|| "plain".into());
                misses.entry(kind).or_default().push(format!(
                    "  {}: {f}: want {want:?} got {got:?}: {}",
                    r.file,
                    String::from_utf8_lossy(&r.line)
                ));
            }
        }
    }
    let mut per_dataset: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &recs {
        *per_dataset.entry(r.labels["ds"].as_str()).or_default() += 1;
    }
    let mut report = format!(
        "per-field accuracy on {} labelled lines ({}):\n",
        recs.len(),
        per_dataset
            .iter()
            .map(|(d, n)| format!("{d} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut worst = 100.0f64;
    for (k, f) in FIELDS.iter().enumerate() {
        let pct = right[k] as f64 * 100.0 / recs.len() as f64;
        worst = worst.min(pct);
        report.push_str(&format!(
            "  {f:<6} {:>5}/{} {pct:6.2}%\n",
            right[k],
            recs.len()
        ));
    }
    for (kind, list) in &misses {
        report.push_str(&format!("misses of kind {kind} ({}):\n", list.len()));
        for m in list {
            report.push_str(m);
            report.push('\n');
        }
    }
    println!("{report}");
    assert!(worst >= 99.0, "{report}");
}

#[test]
fn non_security_lines_stay_syslog_without_a_peer() {
    let ctx = ParseContext::new(1_795_392_000);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/negative.log");
    let bytes = fs::read(&path).unwrap();
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    let mut total = 0;
    let mut dirty = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        total += 1;
        let ev = parse_line(line, &ctx);
        let d = &ev.details;
        let clean = ev.dataset.as_str() == "syslog"
            && d.action.is_none()
            && d.source.is_empty()
            && d.destination.ip.is_none()
            && d.destination.port.is_none();
        if !clean {
            dirty.push(format!(
                "  {} {:?}: {}",
                ev.dataset.as_str(),
                d.action.map(Action::as_str),
                String::from_utf8_lossy(line)
            ));
        }
    }
    // The labelled lines that are no security event count here too.
    for r in records()
        .iter()
        .filter(|r| r.labels.get("ds").map(String::as_str) == Some("syslog"))
    {
        total += 1;
        let ev = parse_line(&r.line, &ctx);
        let d = &ev.details;
        if ev.dataset.as_str() != "syslog" || d.action.is_some() || !d.source.is_empty() {
            dirty.push(format!(
                "  {}: {}",
                r.file,
                String::from_utf8_lossy(&r.line)
            ));
        }
    }
    println!("non-security lines: {}/{total} clean", total - dirty.len());
    assert!(dirty.is_empty(), "not clean:\n{}", dirty.join("\n"));
}
