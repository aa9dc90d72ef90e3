//! `parse_loop [header|full] [KIND] [LINES] [REPEAT]`: parses generated lines in a loop, for
//! profilers (perf, callgrind) and quick per-family timings.
//!
//! KIND is `mixed` (the benchmark corpus, default) or one dataset name (`syslog` for unrelated
//! lines, `tcpd`, `snort`, `portsentry`, `xinetd`, `log_in_vain`, `cisco_acl`, `iptables`,
//! `sshd`). LINES defaults to 50000, REPEAT to 1. Prints the best ns/line over the repeats.
//! All parsing happens inside `run`, so
//! `valgrind --tool=callgrind --toggle-collect='parse_loop::run' target/release/parse_loop full sshd`
//! counts the parser's instructions only.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use picket_bench::{Rng, family_line, mixed_corpus};
use picket_parsers::{Dataset, ParseContext, parse_header, parse_line};

#[inline(never)]
fn run(lines: &[Vec<u8>], ctx: &ParseContext, full: bool) {
    for l in lines {
        if full {
            black_box(parse_line(black_box(l), ctx));
        } else {
            black_box(parse_header(black_box(l), ctx));
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        eprintln!("usage: parse_loop [header|full] [mixed|DATASET] [LINES] [REPEAT]");
        ExitCode::from(2)
    };
    let full = match args.first().map(String::as_str) {
        None | Some("full") => true,
        Some("header") => false,
        Some(_) => return usage(),
    };
    let kind = args.get(1).map_or("mixed", String::as_str);
    let Ok(n) = args.get(2).map_or(Ok(50_000), |s| s.parse::<usize>()) else {
        return usage();
    };
    let Ok(repeat) = args.get(3).map_or(Ok(1), |s| s.parse::<u32>()) else {
        return usage();
    };
    let lines = if kind == "mixed" {
        mixed_corpus(n, 1)
    } else {
        let Some(ds) = Dataset::from_name(kind) else {
            return usage();
        };
        let mut r = Rng::new(1);
        (0..n)
            .map(|_| {
                let mut l = Vec::new();
                family_line(ds, &mut r, &mut l);
                l
            })
            .collect()
    };
    let ctx = ParseContext::new(1_795_392_000);
    let mut best = f64::MAX;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        run(&lines, &ctx, full);
        best = best.min(t.elapsed().as_nanos() as f64 / n.max(1) as f64);
    }
    println!(
        "{} {kind}: {n} lines, best {best:.0} ns/line",
        if full { "full" } else { "header" }
    );
    ExitCode::SUCCESS
}
