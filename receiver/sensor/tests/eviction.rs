//! Test-only: candidates that leave the book and come back (the receiver restores evicted
//! candidates when their source shows up again) are written once per flush, not once per
//! return.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use picket_parsers::{ParseContext, parse_line};
use picket_sensor::{Change, EventRef, IncidentBook, SensorConfig};

const REFERENCE: i64 = 1_700_000_000;

/// A port scan of 20 ports from `198.51.100.{src}` in second `sec`.
fn scan(src: u8, sec: u32) -> Vec<String> {
    (0..20)
        .map(|port| {
            format!(
                "Nov 14 22:{:02}:{:02} fw kernel: DROP IN=eth0 OUT= SRC=198.51.100.{src} \
                 DST=192.0.2.1 LEN=44 TTL=50 PROTO=TCP SPT=40000 DPT={} WINDOW=1024 SYN",
                sec / 60 % 60,
                sec % 60,
                1000 + port
            )
        })
        .collect()
}

#[test]
fn a_candidate_evicted_and_restored_is_touched_once() {
    let cfg = SensorConfig {
        max_active: 3,
        ..SensorConfig::default()
    };
    let mut book = IncidentBook::new(cfg);
    let ctx = ParseContext::new(REFERENCE);
    let mut changes = Vec::new();
    let mut evicted = 0;
    for round in 0..4u32 {
        for src in 1..=8u8 {
            for line in scan(src, round * 10 + u32::from(src)) {
                let e = parse_line(line.as_bytes(), &ctx);
                book.fold(&e, 0, EventRef::default(), &mut changes);
            }
            book.settle(&mut changes);
            // What the receiver does: an evicted candidate comes back when its source does.
            for c in std::mem::take(&mut changes) {
                if let Change::Evicted(c) = c {
                    evicted += 1;
                    book.restore(*c, &mut changes);
                }
            }
        }
    }
    assert!(evicted > 8, "the bound made the book evict ({evicted})");
    let touched = book.take_touched();
    let mut unique = touched.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(touched.len(), unique.len(), "no key twice: {touched:?}");
    assert_eq!(touched.len(), book.len(), "each candidate in the book once");
}
