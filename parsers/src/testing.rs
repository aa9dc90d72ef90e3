//! Table-driven checks shared by the family tests (test builds only).

use crate::context::ParseContext;
use crate::event::{Action, Dataset, Event};
use crate::line::parse_line;

/// What a test expects of one line; `None` means "must be absent".
#[derive(Default, Clone, Copy)]
pub struct Expect {
    pub dataset: Option<&'static str>,
    pub action: Option<&'static str>,
    pub src: Option<&'static str>,
    pub sport: Option<u16>,
    pub sdomain: Option<&'static str>,
    pub dst: Option<&'static str>,
    pub dport: Option<u16>,
    pub transport: Option<&'static str>,
    pub host: Option<&'static str>,
    pub program: Option<&'static str>,
    pub pid: Option<u32>,
    pub user: Option<&'static str>,
    pub rule_id: Option<&'static str>,
    pub rule_name: Option<&'static str>,
}

fn text(b: Option<&[u8]>) -> Option<String> {
    b.map(|b| String::from_utf8_lossy(b).into_owned())
}

/// Parses `line` and compares every field of `want`.
pub fn check(line: &str, want: &Expect) {
    let ctx = ParseContext::new(1_795_392_000);
    let ev: Event<'_> = parse_line(line.as_bytes(), &ctx);
    let d = &ev.details;
    let ds = want.dataset.unwrap_or("syslog");
    assert_eq!(
        ev.dataset,
        Dataset::from_name(ds).unwrap(),
        "dataset of {line:?}"
    );
    assert_eq!(
        d.action.map(Action::as_str),
        want.action,
        "action of {line:?}"
    );
    assert_eq!(
        d.source.ip.map(|a| a.to_string()).as_deref(),
        want.src,
        "source.ip of {line:?}"
    );
    assert_eq!(d.source.port, want.sport, "source.port of {line:?}");
    assert_eq!(
        text(d.source.domain).as_deref(),
        want.sdomain,
        "source.domain of {line:?}"
    );
    assert_eq!(
        d.destination.ip.map(|a| a.to_string()).as_deref(),
        want.dst,
        "destination.ip of {line:?}"
    );
    assert_eq!(
        d.destination.port, want.dport,
        "destination.port of {line:?}"
    );
    assert_eq!(
        text(d.transport.map(|t| t.name())).as_deref(),
        want.transport,
        "transport of {line:?}"
    );
    assert_eq!(
        text(ev.header.hostname).as_deref(),
        want.host,
        "host of {line:?}"
    );
    assert_eq!(
        text(ev.header.appname).as_deref(),
        want.program,
        "program of {line:?}"
    );
    assert_eq!(ev.header.pid(), want.pid, "pid of {line:?}");
    assert_eq!(text(d.user).as_deref(), want.user, "user of {line:?}");
    if want.rule_id.is_some() {
        assert_eq!(
            text(d.rule.id).as_deref(),
            want.rule_id,
            "rule.id of {line:?}"
        );
    }
    if want.rule_name.is_some() {
        assert_eq!(
            text(d.rule.name).as_deref(),
            want.rule_name,
            "rule.name of {line:?}"
        );
    }
    assert_eq!(ev.original, line.as_bytes());
}

/// Runs a table and counts how many distinct lines it checked.
pub fn run(table: &[(&str, Expect)], min_variants: usize) {
    for (line, want) in table {
        check(line, want);
    }
    let distinct: std::collections::BTreeSet<&str> = table.iter().map(|(l, _)| *l).collect();
    assert!(
        distinct.len() >= min_variants,
        "only {} variants",
        distinct.len()
    );
}

/// Every line of the test corpora (tests/labelled and tests/corpus), for the checks that must
/// hold on every real line.
pub fn corpus_lines() -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut lines = Vec::new();
    for dir in ["labelled", "corpus"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            lines.extend(bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec));
        }
    }
    lines
}
