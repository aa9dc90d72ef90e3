//! The fast JSON writer (`picket_parsers::write_event`) writes exactly the bytes the writer
//! before it did (`picket_bench::json_before`), on the mixed corpus, on every family's lines,
//! on those lines with bytes that need escaping put in (quotes, backslashes, controls, C1
//! controls, valid and broken UTF-8), with receive times of every precision, and on the
//! fuzzers' seed lines.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use picket_bench::{Rng, family_line, json_before, mixed_corpus};
use picket_parsers::{Dataset, Event, ParseContext, Timestamp, parse_line};

/// 2026-11-23T00:00:00Z.
const REFERENCE: i64 = 1_795_392_000;

fn same(ev: &Event<'_>, what: &str) {
    let mut old = Vec::new();
    json_before::write_event(&mut old, ev);
    // The new writer appends: start it after something already in the buffer.
    let mut new = b"prefix".to_vec();
    picket_parsers::write_event(&mut new, ev);
    // The one addition: a line that is not UTF-8 also carries its bytes in base64 (the old
    // writer could not tell them from the text `\xNN`). Taken out, the rest is as before.
    let key: &[u8] = b",\"original_base64\":\"";
    let at = new.windows(key.len()).position(|w| w == key);
    assert_eq!(
        at.is_some(),
        std::str::from_utf8(ev.original).is_err(),
        "{what}: base64 exactly when the line is not UTF-8"
    );
    if let Some(at) = at {
        let end = at
            + key.len()
            + new[at + key.len()..]
                .iter()
                .position(|b| *b == b'"')
                .unwrap();
        new.drain(at..=end);
    }
    assert_eq!(
        String::from_utf8_lossy(&new[6..]),
        String::from_utf8_lossy(&old),
        "{what}: {:?}",
        String::from_utf8_lossy(ev.original)
    );
    assert_eq!(&new[6..], &old[..], "{what}");
}

fn check_line(line: &[u8], ctx: &ParseContext, rng: &mut Rng, what: &str) {
    let mut ev = parse_line(line, ctx);
    same(&ev, what);
    let nanos = match rng.below(4) {
        0 => 0,
        1 => rng.below(1000) * 1_000_000,
        2 => rng.below(1_000_000) * 1000,
        _ => rng.below(1_000_000_000),
    };
    ev.received = Some(Timestamp {
        secs: REFERENCE + i64::from(rng.below(400_000_000)) - 200_000_000,
        nanos,
    });
    same(&ev, what);
}

/// Bytes that take every path of the escaper.
const SPICE: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"\n",
    b"\r",
    b"\t",
    b"\x00",
    b"\x1b[31m",
    b"\x7f",
    b"\xc2\x85",
    b"\xc2\x9f",
    b"\xc2\xa0",
    b"\xc3\xa9",
    b"\xe2\x82\xac",
    b"\xf0\x9f\x98\x80",
    b"\xed\xa0\x80",
    b"\xff",
    b"\x80",
    b"\xc3",
    b"\xe2\x82",
    b"\xf4\x90\x80\x80",
    b"\xf0\x9f\x98",
    b"/",
    b"<",
    b"\x08",
];

fn spiced(line: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = line.to_vec();
    for _ in 0..rng.range(1, 4) {
        let at = rng.below(out.len() as u32 + 1) as usize;
        let s = SPICE[rng.below(SPICE.len() as u32) as usize];
        out.splice(at..at, s.iter().copied());
    }
    out
}

#[test]
fn the_mixed_corpus_is_written_byte_for_byte_as_before() {
    let ctx = ParseContext::new(REFERENCE);
    let mut rng = Rng::new(7);
    for seed in 1..=2 {
        for line in mixed_corpus(30_000, seed) {
            check_line(&line, &ctx, &mut rng, "mixed");
        }
    }
}

#[test]
fn every_family_with_bytes_to_escape_is_written_as_before() {
    let ctx = ParseContext::new(REFERENCE).with_offset(3600);
    let mut rng = Rng::new(11);
    let families = [
        Dataset::Tcpd,
        Dataset::Snort,
        Dataset::Portsentry,
        Dataset::Xinetd,
        Dataset::LogInVain,
        Dataset::CiscoAcl,
        Dataset::Iptables,
        Dataset::Sshd,
    ];
    let mut line = Vec::new();
    for _ in 0..3_000 {
        for f in families {
            line.clear();
            family_line(f, &mut rng, &mut line);
            check_line(&line, &ctx, &mut rng, f.as_str());
            let hot = spiced(&line, &mut rng);
            check_line(&hot, &ctx, &mut rng, "spiced");
        }
    }
}

#[test]
fn the_fuzzers_seed_lines_are_written_as_before() {
    let ctx = ParseContext::new(REFERENCE);
    let mut rng = Rng::new(3);
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    let mut n = 0;
    for dir in std::fs::read_dir(&seeds).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(f.unwrap().path()).unwrap();
            for line in bytes.split(|b| *b == b'\n') {
                check_line(line, &ctx, &mut rng, "seed");
                n += 1;
            }
            check_line(&bytes, &ctx, &mut rng, "seed file");
        }
    }
    assert!(n > 30, "only {n} seed lines");
}
