//! JSON writer throughput on the mixed corpus (see `picket_bench::mixed_corpus`): the events
//! are parsed once before timing, then each iteration writes every event's JSON (and a line
//! end) into one reused buffer, cleared when it passes 1 MiB as `picket parse` does.
//!
//! - `json_before`: the writer as it was before issue 13 (`picket_bench::json_before`).
//! - `json_now`: `picket_parsers::write_event`.
//!
//! `lines` reports events/s; `bytes` reports JSON bytes written per second.
//! `cargo bench -p picket-bench --bench json`; env `PICKET_BENCH_LINES` (default 100000) and
//! `PICKET_BENCH_SEED` (default 1) choose the corpus.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use picket_parsers::{Event, ParseContext};

/// 2026-11-23T00:00:00Z: the reference instant for year-less stamps.
const REFERENCE: i64 = 1_795_392_000;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn write_all(events: &[Event<'_>], out: &mut Vec<u8>, f: fn(&mut Vec<u8>, &Event<'_>)) -> usize {
    let mut total = 0;
    for ev in events {
        f(out, black_box(ev));
        out.push(b'\n');
        if out.len() >= 1 << 20 {
            total += out.len();
            black_box(&out[..]);
            out.clear();
        }
    }
    total + out.len()
}

fn main() {
    let n = env_num("PICKET_BENCH_LINES", 100_000) as usize;
    let seed = env_num("PICKET_BENCH_SEED", 1);
    let lines = picket_bench::mixed_corpus(n, seed);
    let ctx = ParseContext::new(REFERENCE);
    // As `picket parse` and the query socket see them: header stamp, and a receive time.
    let events: Vec<Event<'_>> = picket_bench::json_events(&lines, &ctx, REFERENCE);
    let mut out = Vec::with_capacity(2 << 20);
    let json_bytes = write_all(&events, &mut out, picket_parsers::write_event);
    let mut check = Vec::with_capacity(2 << 20);
    assert_eq!(
        json_bytes,
        write_all(&events, &mut check, picket_bench::json_before::write_event)
    );
    println!(
        "{n} events, {json_bytes} JSON bytes ({:.1} per event)",
        json_bytes as f64 / n as f64
    );

    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6))
        .sample_size(20);
    for (group, tp) in [
        ("lines", Throughput::Elements(n as u64)),
        ("bytes", Throughput::Bytes(json_bytes as u64)),
    ] {
        let mut g = c.benchmark_group(group);
        g.sampling_mode(SamplingMode::Flat).throughput(tp);
        g.bench_function("json_before", |b| {
            b.iter(|| write_all(&events, &mut out, picket_bench::json_before::write_event))
        });
        g.bench_function("json_now", |b| {
            b.iter(|| write_all(&events, &mut out, picket_parsers::write_event))
        });
        g.finish();
    }
    c.final_summary();
}
