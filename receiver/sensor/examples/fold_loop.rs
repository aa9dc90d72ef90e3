//! A fold loop for callgrind and `perf stat`: the corpus of `bench/benches/sensor.rs`, parsed
//! once, then folded into a fresh default book `REPEAT` times (settled at the end of each).
//!
//! `cargo build --release -p picket-sensor --example fold_loop`, then
//! `valgrind --tool=callgrind --toggle-collect='fold_loop::run' target/release/examples/fold_loop scan 200000 1`
//! or `perf stat -e task-clock target/release/examples/fold_loop mix 200000 5`.
//!
//! Corpora: `scan` (200,000 netfilter DROPs from 50,000 sources, each hitting 1-40 ports of
//! 1-20 hosts: nearly every event makes a candidate and evicts one), `mix` (the same lines
//! from 2,000 sources: nearly every event folds into a candidate already in the book), `live`
//! (5,000 sources, 400,000 events per second of event time, as live ingest at that rate
//! stamps them: the others put 2,000 events in a second, as an import of old logs does),
//! `varied` (as `live`, but each source's lines differ: in the others a source repeats a few
//! lines, and equal lines of one second tie in the evidence order).

use std::hint::black_box;
use std::time::Instant;

use picket_parsers::{Event, ParseContext, parse_line};
use picket_sensor::{EventRef, IncidentBook, SensorConfig};

/// Corpus line `i` with `sources` distinct sources. With `varied`, a source's lines differ as
/// a real scanner's do (its source port and IP id change, its ports and hosts cycle through
/// all 40 and 20); without, each source repeats a few lines (with 5,000 sources its port is
/// constant and its host cycles through 4), as the figures before session 9 were taken.
fn line(i: usize, sources: usize, per_second: usize, varied: bool) -> String {
    let src = i * 7919 % sources;
    let (a, b) = (src / 250, src % 250);
    let nth = i / sources;
    let (port, host, spt, id) = if varied {
        let k = nth * 7 + src;
        (
            1 + k % 40,
            1 + k / 40 % 20,
            1024 + (i * 7) % 60_000,
            i % 65_536,
        )
    } else {
        (
            1 + (i * 31 + src) % 40,
            1 + (i / 40 + src) % 20,
            17_805,
            15_743,
        )
    };
    let sec = (i / per_second) % 3600;
    format!(
        "<4>Jan  8 {:02}:{:02}:{:02} fw kernel: DROP IN=eth0 OUT= SRC=198.{}.{}.{b} DST=192.0.2.{host} LEN=52 TOS=0x00 PREC=0x00 TTL=115 ID={id} DF PROTO=TCP SPT={spt} DPT={port} WINDOW=8192 RES=0x00 SYN URGP=0",
        sec / 3600 + 3,
        sec / 60 % 60,
        sec % 60,
        18 + a / 250,
        a % 250,
    )
}

#[inline(never)]
fn run(events: &[Event<'_>]) -> (usize, usize) {
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
    let mut args = std::env::args().skip(1);
    let corpus = args.next().unwrap_or_else(|| "scan".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let repeat: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let (sources, per_second, varied) = match corpus.as_str() {
        "mix" => (2_000, 2_000, false),
        "live" => (5_000, 400_000, false),
        "varied" => (5_000, 400_000, true),
        _ => (50_000, 2_000, false),
    };
    let lines: Vec<String> = (0..n)
        .map(|i| line(i, sources, per_second, varied))
        .collect();
    let ctx = ParseContext::new(1_795_392_000);
    let events: Vec<_> = lines
        .iter()
        .map(|l| parse_line(l.as_bytes(), &ctx))
        .collect();
    let start = Instant::now();
    for _ in 0..repeat {
        black_box(run(black_box(&events)));
    }
    let ns = start.elapsed().as_nanos() as f64 / (repeat * n) as f64;
    eprintln!("{corpus}: {ns:.0} ns/event (wall)");
}

/// The allocator `picket` runs with (receiver/src/main.rs), so that these figures are its.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
