//! `picket import`: bulk-load old log files (plain or gzip) through the parsers into the
//! store, in large batches, with a progress line on a terminal and a summary at the end.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use picket_parsers::{Dataset, Timestamp, parse_line};
use picket_store::{Batch, Store, StoreConfig};

use super::input::{self, TimeArgs};
use crate::error::Error;
use crate::lines::LineReader;

/// Options of `picket import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Log files to load, plain or gzip (rotated `secure.1.gz` and the like); `-` is stdin.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// How stamps without a year or zone are read.
    #[command(flatten)]
    pub time: TimeArgs,
    /// Events per write batch.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub batch: usize,
    /// Flush after every batch and print `flushed N` (events so far) to stdout: for tests
    /// that kill the import and check what survived.
    #[arg(long, hide = true)]
    pub report_flushes: bool,
}

/// Totals for the summary.
#[derive(Default)]
struct Totals {
    lines: u64,
    per_dataset: [u64; Dataset::ALL.len()],
}

/// The progress line on stderr, drawn only on a terminal and at most a few times a second.
struct Progress {
    enabled: bool,
    last: Instant,
    started: Instant,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            last: Instant::now(),
            started: Instant::now(),
        }
    }

    fn tick(&mut self, name: &str, read: u64, size: Option<u64>, lines: u64) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last = Instant::now();
        let rate = lines as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        let pct = size
            .filter(|s| *s > 0)
            .map(|s| format!("{:3.0}% ", read as f64 * 100.0 / s as f64))
            .unwrap_or_default();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{name}: {pct}{lines} lines, {rate:.0} lines/s");
        let _ = err.flush();
    }

    fn done(&self) {
        if self.enabled {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

fn now_ns() -> u64 {
    let t = Timestamp::now();
    u64::try_from(t.as_nanos()).unwrap_or(0)
}

fn store_err(dir: &Path, e: picket_store::StoreError) -> Error {
    Error::Store {
        dir: dir.to_path_buf(),
        source: e,
    }
}

/// Runs `picket import`.
pub fn run(
    data: &Path,
    args: &ImportArgs,
    sensor: Option<picket_sensor::SensorConfig>,
) -> Result<(), Error> {
    std::fs::create_dir_all(data).map_err(|source| Error::File {
        op: "create",
        path: data.to_path_buf(),
        source,
    })?;
    let store = Store::open(data, &StoreConfig::default()).map_err(|e| store_err(data, e))?;
    let started = Instant::now();
    let mut totals = Totals::default();
    let mut progress = Progress::new();
    let mut batch = Batch::new();
    let batch_size = args.batch.max(1);
    let mut stored = 0u64;
    let mut stdout = std::io::stdout().lock();
    // Candidates are folded as in serve and stored with each batch.
    let mut sensor = sensor.map(crate::sense::offline::OfflineSensor::new);
    let mut commit = |batch: &mut Batch, stored: &mut u64| -> Result<(), Error> {
        if batch.is_empty() {
            return Ok(());
        }
        match sensor.as_mut() {
            Some(s) => s.append(&store, batch),
            None => store.append(batch),
        }
        .map_err(|e| store_err(data, e))?;
        *stored += batch.len() as u64;
        batch.clear();
        if args.report_flushes {
            store.flush().map_err(|e| store_err(data, e))?;
            let _ = writeln!(stdout, "flushed {stored}");
            let _ = stdout.flush();
        }
        Ok(())
    };
    for path in &args.files {
        let mut input = input::open(path)?;
        let ctx = args.time.context(input.mtime);
        let name = input.name();
        let mut lines = LineReader::new(&mut input.reader);
        // One clock reading per few thousand lines: keys stay increasing either way.
        let mut received = now_ns();
        loop {
            let line = match lines.next_line() {
                Ok(Some(l)) => l,
                Ok(None) => break,
                Err(e) => return Err(input.read_error(e)),
            };
            let ev = parse_line(line, &ctx);
            totals.lines += 1;
            if let Some(n) = totals.per_dataset.get_mut(ev.dataset as usize) {
                *n += 1;
            }
            batch.push(&ev, received);
            if batch.len() >= batch_size {
                commit(&mut batch, &mut stored)?;
                received = now_ns();
                progress.tick(&name, input.read.get(), input.size, totals.lines);
            } else if totals.lines % 4096 == 0 {
                received = now_ns();
            }
        }
    }
    commit(&mut batch, &mut stored)?;
    if let Some(s) = sensor.as_mut() {
        s.finish(&store).map_err(|e| store_err(data, e))?;
    }
    store.checkpoint().map_err(|e| store_err(data, e))?;
    store.flush().map_err(|e| store_err(data, e))?;
    progress.done();
    let secs = started.elapsed().as_secs_f64();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "imported {} lines from {} file(s) into {}: {stored} stored in {secs:.1} s ({:.0} lines/s)",
        totals.lines,
        args.files.len(),
        data.display(),
        totals.lines as f64 / secs.max(1e-9),
    );
    for (d, n) in Dataset::ALL.iter().zip(totals.per_dataset) {
        if n > 0 {
            let _ = writeln!(err, "  {:<12} {n}", d.as_str());
        }
    }
    Ok(())
}
