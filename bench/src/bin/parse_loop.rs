//! `parse_loop [header|full|json|json_before] [KIND] [LINES] [REPEAT]`: parses generated lines
//! in a loop, for profilers (perf, callgrind) and quick per-family timings.
//!
//! KIND is `mixed` (the benchmark corpus, default) or one dataset name (`syslog` for unrelated
//! lines, `tcpd`, `snort`, `portsentry`, `xinetd`, `log_in_vain`, `cisco_acl`, `iptables`,
//! `sshd`), or `file=PATH` for the lines of a file, cycled to LINES (to count one header
//! shape's instructions). LINES defaults to 50000, REPEAT to 1. Prints the best ns/line over the repeats.
//! All parsing happens inside `run`, so
//! `valgrind --tool=callgrind --toggle-collect='parse_loop::run' target/release/parse_loop full sshd`
//! counts the parser's instructions only.
//!
//! `json` and `json_before` parse the lines first (every other one given a receive time, as the
//! json bench does) and then time the JSON writer alone, `picket_parsers::write_event` or the
//! writer before issue 13 (`picket_bench::json_before`), inside `run_json`:
//! `valgrind --tool=callgrind --toggle-collect='parse_loop::run_json' target/release/parse_loop json`.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use picket_bench::{Rng, family_line, json_events, mixed_corpus};
use picket_parsers::{Dataset, Event, ParseContext, parse_header, parse_line, parse_line_into};

#[inline(never)]
fn run(lines: &[Vec<u8>], ctx: &ParseContext, full: bool) {
    if full {
        // Into one reused event, as the writer parses a batch.
        let mut ev = parse_line(b"", ctx);
        for l in lines {
            parse_line_into(black_box(l), ctx, &mut ev);
            black_box(&ev);
        }
    } else {
        for l in lines {
            black_box(&parse_header(black_box(l), ctx));
        }
    }
}

/// Writes every event's JSON and a line end into `out`, cleared at 1 MiB as `picket parse` does.
#[inline(never)]
fn run_json(events: &[Event<'_>], out: &mut Vec<u8>, write: fn(&mut Vec<u8>, &Event<'_>)) {
    for ev in events {
        write(out, black_box(ev));
        out.push(b'\n');
        if out.len() >= 1 << 20 {
            black_box(&out[..]);
            out.clear();
        }
    }
    black_box(&out[..]);
}

/// What the loop times.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Header,
    Full,
    Json,
    JsonBefore,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        eprintln!(
            "usage: parse_loop [header|full|json|json_before] [mixed|DATASET|file=PATH] [LINES] [REPEAT]"
        );
        ExitCode::from(2)
    };
    let mode = match args.first().map(String::as_str) {
        None | Some("full") => Mode::Full,
        Some("header") => Mode::Header,
        Some("json") => Mode::Json,
        Some("json_before") => Mode::JsonBefore,
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
    } else if let Some(path) = kind.strip_prefix("file=") {
        let Ok(text) = std::fs::read(path) else {
            eprintln!("parse_loop: cannot read {path}");
            return ExitCode::from(2);
        };
        let file: Vec<&[u8]> = text
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        if file.is_empty() {
            return usage();
        }
        file.iter().cycle().take(n).map(|l| l.to_vec()).collect()
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
    let events: Vec<Event<'_>> = match mode {
        Mode::Json | Mode::JsonBefore => json_events(&lines, &ctx, 1_795_392_000),
        Mode::Header | Mode::Full => Vec::new(),
    };
    let mut out = Vec::with_capacity(2 << 20);
    let mut best = f64::MAX;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        match mode {
            Mode::Header | Mode::Full => run(&lines, &ctx, mode == Mode::Full),
            Mode::Json => run_json(&events, &mut out, picket_parsers::write_event),
            Mode::JsonBefore => run_json(&events, &mut out, picket_bench::json_before::write_event),
        }
        best = best.min(t.elapsed().as_nanos() as f64 / n.max(1) as f64);
    }
    let name = match mode {
        Mode::Header => "header",
        Mode::Full => "full",
        Mode::Json => "json",
        Mode::JsonBefore => "json_before",
    };
    println!("{name} {kind}: {n} lines, best {best:.0} ns/line");
    ExitCode::SUCCESS
}
