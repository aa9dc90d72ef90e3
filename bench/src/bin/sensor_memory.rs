//! Memory per candidate: folds port scans from N distinct sources (20 ports each) into a
//! book large enough to keep them all, and prints the resident memory it took per candidate
//! and the stored (encoded) size per candidate.
//!
//! `cargo run --release -p picket-bench --bin sensor_memory -- [N]` (default 100000).

use picket_parsers::{ParseContext, parse_line};
use picket_sensor::{EventRef, IncidentBook, SensorConfig, encode_candidate};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let ctx = ParseContext::new(1_795_392_000);
    let cfg = SensorConfig {
        max_active: n * 2,
        ..SensorConfig::default()
    };
    let before = rss_kib();
    let mut book = IncidentBook::new(cfg);
    let mut changes = Vec::new();
    for s in 0..n {
        for p in 0..20 {
            let line = format!(
                "<4>Jan  8 03:00:{p:02} fw kernel: DROP IN=eth0 OUT= SRC=198.{}.{}.{} DST=192.0.2.1 LEN=52 PROTO=TCP SPT=1 DPT={} SYN",
                18 + s / 65_536,
                s / 256 % 256,
                s % 256,
                1000 + p
            );
            book.fold(
                &parse_line(line.as_bytes(), &ctx),
                0,
                EventRef::default(),
                &mut changes,
            );
        }
        changes.clear();
    }
    book.settle(&mut changes);
    let after = rss_kib();
    let mut encoded = 0usize;
    let mut buf = Vec::new();
    for c in book.candidates() {
        buf.clear();
        encode_candidate(c, &mut buf);
        encoded += buf.len();
    }
    let held = book.len().max(1);
    println!(
        "{held} candidates: {:.0} bytes resident each, {:.0} bytes stored each",
        (after.saturating_sub(before) * 1024) as f64 / held as f64,
        encoded as f64 / held as f64
    );
}

/// The allocator `picket` runs with (receiver/src/main.rs), so that these figures are its.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
