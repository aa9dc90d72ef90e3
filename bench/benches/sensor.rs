//! Incident book updates per second on a scan-heavy corpus: 200,000 netfilter DROP lines from
//! 50,000 sources, each hitting 1-40 ports of 1-20 hosts (the corpus of
//! `bench/sensor_ingest.py`), parsed once before timing. One iteration folds every event into
//! a fresh book with the default settings (creating, updating and evicting candidates) and
//! settles it. With 50,000 sources and `max_active = 20,000`, nearly every event creates a
//! candidate and evicts one: the worst case. `fold_known_sources` folds the same lines from
//! 2,000 sources, so after the first second nearly every event updates a candidate already in
//! the book (the common case of a live receiver).
//!
//! `cargo bench -p picket-bench --bench sensor`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use picket_parsers::{Event, ParseContext, parse_line};
use picket_sensor::{EventRef, IncidentBook, SensorConfig};

/// The scan-heavy corpus line `i`, from one of `sources` sources.
fn line(i: usize, sources: usize) -> String {
    let src = i * 7919 % sources;
    let (a, b) = (src / 250, src % 250);
    let port = 1 + (i * 31 + src) % 40;
    let host = 1 + (i / 40 + src) % 20;
    let sec = (i / 2000) % 3600;
    format!(
        "<4>Jan  8 {:02}:{:02}:{:02} fw kernel: DROP IN=eth0 OUT= SRC=198.{}.{}.{b} DST=192.0.2.{host} LEN=52 TOS=0x00 PREC=0x00 TTL=115 ID=15743 DF PROTO=TCP SPT=17805 DPT={port} WINDOW=8192 RES=0x00 SYN URGP=0",
        sec / 3600 + 3,
        sec / 60 % 60,
        sec % 60,
        18 + a / 250,
        a % 250,
    )
}

fn fold_all(events: &[Event<'_>]) -> (usize, usize) {
    let mut book = IncidentBook::new(SensorConfig::default());
    let mut changes = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        book.fold(ev, i as i64, EventRef::default(), &mut changes);
        if changes.len() > 4096 {
            changes.clear();
        }
    }
    book.settle(&mut changes);
    (book.len(), changes.len())
}

fn main() {
    let ctx = ParseContext::new(1_795_392_000);
    let scan: Vec<String> = (0..200_000).map(|i| line(i, 50_000)).collect();
    let known: Vec<String> = (0..200_000).map(|i| line(i, 2_000)).collect();
    let scan: Vec<_> = scan
        .iter()
        .map(|l| parse_line(l.as_bytes(), &ctx))
        .collect();
    let known: Vec<_> = known
        .iter()
        .map(|l| parse_line(l.as_bytes(), &ctx))
        .collect();
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let mut g = c.benchmark_group("sensor");
    g.throughput(Throughput::Elements(scan.len() as u64));
    g.bench_function("fold_scan_heavy", |b| b.iter(|| black_box(fold_all(&scan))));
    g.throughput(Throughput::Elements(known.len() as u64));
    g.bench_function("fold_known_sources", |b| {
        b.iter(|| black_box(fold_all(&known)))
    });
    g.finish();
    c.final_summary();
}

/// The allocator `picket` runs with (receiver/src/main.rs), so that these figures are its.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
