//! `picket bench`: how fast the parser reads the user's own lines, without the source tree.
//!
//! The FILEs are read into memory once (so disk and gzip speed stay out of the figures), then
//! parsed three ways: on one core (this pass also counts the datasets), on every core (the
//! lines split into one contiguous share per thread), and on one core with each event written
//! as JSON as `picket parse` does. Each timed pass repeats until it has run for at least
//! [`MIN_PASS`], so a small file still gives a steady figure.

use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use picket_parsers::{Dataset, ParseContext, parse_line, write_event};

use super::input::{self, TimeArgs};
use super::parse::chunk_lines;
use crate::error::Error;

/// Options of `picket bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Files to measure, plain or gzip (standard input if none; `-` also means standard input).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Threads for the all-cores pass (default: one per core).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Print the figures as one JSON object (for scripts) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// How stamps without a year or zone are read.
    #[command(flatten)]
    pub time: TimeArgs,
}

/// The shortest a timed pass runs (it repeats over the lines until then).
const MIN_PASS: Duration = Duration::from_millis(500);

/// One file's lines, kept in memory with the context its stamps are read in.
struct Loaded {
    text: Vec<u8>,
    ctx: ParseContext,
}

/// The progress line on stderr, drawn only on a terminal.
struct Progress {
    enabled: bool,
    last: Instant,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            enabled: io::stderr().is_terminal(),
            last: Instant::now(),
        }
    }

    /// Draws `stage` at `done` of `total` (a bar of 30 cells), at most five times a second.
    fn tick(&mut self, stage: &str, done: u64, total: u64) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last = Instant::now();
        let share = if total == 0 {
            1.0
        } else {
            (done as f64 / total as f64).min(1.0)
        };
        let cells = (share * 30.0) as usize;
        let mut err = io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[K{stage:<18} [{}{}] {:3.0}%",
            "#".repeat(cells),
            " ".repeat(30 - cells),
            share * 100.0
        );
        let _ = err.flush();
    }

    fn done(&self) {
        if self.enabled {
            let _ = write!(io::stderr(), "\r\x1b[K");
        }
    }
}

/// Runs `pass` over and over until [`MIN_PASS`] has gone by; lines per second.
fn timed(lines: u64, progress: &mut Progress, stage: &str, mut pass: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut rounds = 0u64;
    loop {
        pass();
        rounds += 1;
        let spent = started.elapsed();
        progress.tick(stage, spent.as_millis() as u64, MIN_PASS.as_millis() as u64);
        if spent >= MIN_PASS {
            return (lines * rounds) as f64 / spent.as_secs_f64().max(1e-9);
        }
    }
}

/// The figures one run gives.
struct Figures {
    files: usize,
    bytes: u64,
    lines: u64,
    jobs: usize,
    one_core: f64,
    all_cores: f64,
    json_lines: f64,
    json_bytes: f64,
    datasets: [u64; Dataset::ALL.len()],
}

/// Reads every input into memory.
fn load(args: &BenchArgs) -> Result<Vec<Loaded>, Error> {
    let stdin_only = [PathBuf::from("-")];
    let files: &[PathBuf] = if args.files.is_empty() {
        &stdin_only
    } else {
        &args.files
    };
    let mut out = Vec::with_capacity(files.len());
    for path in files {
        let mut input = input::open(path)?;
        let mut text = Vec::new();
        if let Err(e) = input.reader.read_to_end(&mut text) {
            return Err(input.read_error(e));
        }
        let ctx = args.time.context(input.mtime);
        out.push(Loaded { text, ctx });
    }
    Ok(out)
}

/// Measures `files` with `jobs` threads for the all-cores pass.
fn measure(files: &[Loaded], jobs: usize, progress: &mut Progress) -> Figures {
    let bytes = files.iter().map(|f| f.text.len() as u64).sum();
    // The counting pass: what each line is, as `picket parse` would label it.
    let mut datasets = [0u64; Dataset::ALL.len()];
    let mut lines_total = 0u64;
    let mut seen = 0u64;
    for f in files {
        for line in chunk_lines(&f.text) {
            let ev = parse_line(line, &f.ctx);
            if let Some(n) = datasets.get_mut(ev.dataset as usize) {
                *n += 1;
            }
            lines_total += 1;
            seen += line.len() as u64 + 1;
            if lines_total.is_multiple_of(65_536) {
                progress.tick("counting", seen, bytes);
            }
        }
    }
    let one_core = timed(lines_total, progress, "parse, 1 core", || {
        for f in files {
            for line in chunk_lines(&f.text) {
                std::hint::black_box(parse_line(std::hint::black_box(line), &f.ctx).dataset);
            }
        }
    });
    // Each thread takes one contiguous share of every file's lines.
    let shares: Vec<Vec<(&[u8], &ParseContext)>> = {
        let all: Vec<(&[u8], &ParseContext)> = files
            .iter()
            .flat_map(|f| chunk_lines(&f.text).map(move |l| (l, &f.ctx)))
            .collect();
        let per = all.len().div_ceil(jobs.max(1)).max(1);
        all.chunks(per).map(<[_]>::to_vec).collect()
    };
    let all_cores = timed(lines_total, progress, "parse, all cores", || {
        std::thread::scope(|s| {
            for share in &shares {
                s.spawn(move || {
                    for (line, ctx) in share {
                        std::hint::black_box(parse_line(std::hint::black_box(line), ctx).dataset);
                    }
                });
            }
        });
    });
    let mut json = Vec::with_capacity((1 << 20) + 64 * 1024);
    let mut json_written = 0u64;
    let mut rounds = 0u64;
    let json_lines = timed(lines_total, progress, "parse + JSON", || {
        for f in files {
            for line in chunk_lines(&f.text) {
                write_event(&mut json, &parse_line(line, &f.ctx));
                json.push(b'\n');
                if json.len() >= 1 << 20 {
                    json_written += json.len() as u64;
                    std::hint::black_box(&json);
                    json.clear();
                }
            }
        }
        json_written += json.len() as u64;
        json.clear();
        rounds += 1;
    });
    let per_round = json_written / rounds.max(1);
    let json_bytes = if lines_total == 0 {
        0.0
    } else {
        json_lines * per_round as f64 / lines_total as f64
    };
    progress.done();
    Figures {
        files: files.len(),
        bytes,
        lines: lines_total,
        jobs: shares.len().max(1),
        one_core,
        all_cores,
        json_lines,
        json_bytes,
        datasets,
    }
}

/// Writes the figures as a table.
fn table(f: &Figures, out: &mut impl Write) -> io::Result<()> {
    let mib = f.bytes as f64 / (1024.0 * 1024.0);
    writeln!(
        out,
        "{} lines, {mib:.1} MiB in {} file{}",
        f.lines,
        f.files,
        if f.files == 1 { "" } else { "s" }
    )?;
    let rate = |r: f64| format!("{:>8.3} M lines/s", r / 1e6);
    writeln!(out, "parse, 1 core         {}", rate(f.one_core))?;
    writeln!(
        out,
        "parse, {} thread{:<7} {}",
        f.jobs,
        if f.jobs == 1 { "" } else { "s" },
        rate(f.all_cores)
    )?;
    writeln!(
        out,
        "parse + JSON, 1 core  {}  ({:.0} MiB/s of JSON)",
        rate(f.json_lines),
        f.json_bytes / (1024.0 * 1024.0)
    )?;
    writeln!(out)?;
    writeln!(out, "{:<14} {:>12} {:>7}", "dataset", "lines", "share")?;
    for d in Dataset::ALL {
        let n = f.datasets.get(d as usize).copied().unwrap_or(0);
        if n == 0 {
            continue;
        }
        let name = if d == Dataset::Syslog {
            "unclaimed"
        } else {
            d.as_str()
        };
        writeln!(out, "{name:<14} {n:>12} {:>6.1}%", share(n, f.lines))?;
    }
    Ok(())
}

fn share(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 * 100.0 / of as f64
    }
}

/// Writes the figures as one JSON object.
fn json(f: &Figures, out: &mut impl Write) -> io::Result<()> {
    let unclaimed = f
        .datasets
        .get(Dataset::Syslog as usize)
        .copied()
        .unwrap_or(0);
    write!(
        out,
        "{{\"files\":{},\"bytes\":{},\"lines\":{},\"jobs\":{},\"parse_lines_per_s\":{:.0},\
         \"parse_all_cores_lines_per_s\":{:.0},\"json_lines_per_s\":{:.0},\
         \"json_bytes_per_s\":{:.0},\"unclaimed\":{unclaimed},\"unclaimed_share\":{:.4},\
         \"datasets\":{{",
        f.files,
        f.bytes,
        f.lines,
        f.jobs,
        f.one_core,
        f.all_cores,
        f.json_lines,
        f.json_bytes,
        share(unclaimed, f.lines) / 100.0
    )?;
    let mut first = true;
    for d in Dataset::ALL {
        let n = f.datasets.get(d as usize).copied().unwrap_or(0);
        if n == 0 {
            continue;
        }
        write!(
            out,
            "{}\"{}\":{n}",
            if first { "" } else { "," },
            d.as_str()
        )?;
        first = false;
    }
    writeln!(out, "}}}}")
}

/// Runs `picket bench`.
pub fn run(args: &BenchArgs) -> Result<(), Error> {
    let files = load(args)?;
    let jobs = args.jobs.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let figures = measure(&files, jobs, &mut Progress::new());
    let mut out = io::stdout().lock();
    let r = if args.json {
        json(&figures, &mut out)
    } else {
        table(&figures, &mut out)
    };
    match r.and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(Error::Stdout),
    }
}
