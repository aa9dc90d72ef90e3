//! `picket import`: bulk-load old log files (plain or gzip) through the parsers into the
//! store, in large batches, with a progress line on a terminal and a summary at the end.
//! While `picket serve` runs, the lines are streamed to it over the query socket (op
//! `import`) and stored by its single writer; otherwise they go into the store directly.

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
    /// Query socket of the running server, if one runs [default: DATA/picket.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Import a file even though the same file was imported before (its lines are then
    /// stored twice). Without it such a file is skipped with a warning.
    #[arg(long)]
    pub force: bool,
}

/// A file's fingerprint: its size and an FNV-1a hash of its first and last 64 KiB (rotated
/// logs do not change, so the same file gives the same fingerprint whatever its name).
/// None for standard input.
fn fingerprint(path: &Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    if path.as_os_str() == "-" {
        return None;
    }
    let mut f = std::fs::File::open(path).ok()?;
    let size = f.metadata().ok()?.len();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut buf = vec![0u8; 64 * 1024];
    for start in [0, size.saturating_sub(64 * 1024)] {
        f.seek(SeekFrom::Start(start)).ok()?;
        let n = f.read(&mut buf).ok()?;
        for b in buf.get(..n).unwrap_or_default() {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    Some(format!("{size:x}-{h:016x}"))
}

/// The warning for a file imported before.
fn skipped(name: &str, why: &str) {
    eprintln!("picket: skipping {name}: {why}; --force imports it again");
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

/// Runs `picket import`: through the server on `socket` when one answers there, else on the
/// store in `data` (with the `[sensor]` settings given).
pub fn run(
    data: &Path,
    socket: &Path,
    args: &ImportArgs,
    sensor: Option<picket_sensor::SensorConfig>,
) -> Result<(), Error> {
    if !args.report_flushes && super::maint::server(socket).is_some() {
        return online(socket, args);
    }
    std::fs::create_dir_all(data).map_err(|source| Error::File {
        op: "create",
        path: data.to_path_buf(),
        source,
    })?;
    let store = if data.join("conf").exists() {
        super::maint::open_store(data, socket)?
    } else {
        Store::open(data, &StoreConfig::default()).map_err(|e| store_err(data, e))?
    };
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
    let mut done: Vec<(String, String, u64)> = Vec::new();
    for path in &args.files {
        let fp = fingerprint(path);
        if let Some(fp) = fp.as_deref().filter(|_| !args.force)
            && let Some(note) = store
                .imported(fp.as_bytes())
                .map_err(|e| store_err(data, e))?
        {
            skipped(
                &path.display().to_string(),
                &format!(
                    "the same file was imported before ({})",
                    crate::query::describe_import(&note)
                ),
            );
            continue;
        }
        let lines_before = totals.lines;
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
        if let Some(fp) = fp {
            done.push((fp, name, totals.lines - lines_before));
        }
    }
    commit(&mut batch, &mut stored)?;
    if let Some(s) = sensor.as_mut() {
        s.finish(&store).map_err(|e| store_err(data, e))?;
    }
    // Remembered once their lines are stored (a crash before this imports them again).
    for (fp, name, lines) in &done {
        let note = serde_json::json!({
            "at": crate::clock::rfc3339(now_ns()),
            "name": name,
            "lines": lines,
        })
        .to_string();
        store
            .record_import(fp.as_bytes(), note.as_bytes())
            .map_err(|e| store_err(data, e))?;
    }
    store.checkpoint().map_err(|e| store_err(data, e))?;
    store.flush().map_err(|e| store_err(data, e))?;
    progress.done();
    summary(
        &totals,
        args.files.len(),
        &data.display().to_string(),
        stored,
        started,
    );
    Ok(())
}

/// The summary on stderr: lines, where they went, how fast, and how many per dataset.
fn summary(totals: &Totals, files: usize, into: &str, stored: u64, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "imported {} lines from {files} file(s) into {into}: {stored} stored in {secs:.1} s ({:.0} lines/s)",
        totals.lines,
        totals.lines as f64 / secs.max(1e-9),
    );
    for (d, n) in Dataset::ALL.iter().zip(totals.per_dataset) {
        if n > 0 {
            let _ = writeln!(err, "  {:<12} {n}", d.as_str());
        }
    }
}

/// Streams every file to the running server (op `import`, one connection per file): its
/// writer parses and stores the lines with the file's year and zone, and its sensor folds
/// them. The lines are parsed here too, only to count them per dataset for the summary.
fn online(socket: &Path, args: &ImportArgs) -> Result<(), Error> {
    use super::maint;
    let started = Instant::now();
    let mut totals = Totals::default();
    let mut progress = Progress::new();
    let mut stored = 0u64;
    let lost = |e: std::io::Error| Error::Usage(format!("lost the connection to the server: {e}"));
    for path in &args.files {
        let mut input = input::open(path)?;
        let ctx = args.time.context(input.mtime);
        let name = input.name();
        let mut conn = maint::server(socket).ok_or_else(|| {
            Error::Usage(format!(
                "the server on {} stopped answering during the import",
                socket.display()
            ))
        })?;
        let mut req = serde_json::Map::new();
        req.insert("op".into(), "import".into());
        req.insert(
            "reference".into(),
            input::reference(args.time.year, input.mtime).into(),
        );
        req.insert("offset".into(), args.time.tz.into());
        req.insert("name".into(), name.clone().into());
        req.insert("force".into(), args.force.into());
        if let Some(fp) = fingerprint(path) {
            req.insert("fingerprint".into(), fp.into());
        }
        maint::send_request(&mut conn, &req)?;
        // The server says whether it takes the file before any line is sent.
        match maint::first_line(&conn)? {
            v if v.get("importing").is_some() => {}
            v => match v.pointer("/error/code").and_then(serde_json::Value::as_str) {
                Some("already_imported") => {
                    let why = v
                        .pointer("/error/message")
                        .map(super::client::text)
                        .unwrap_or_default();
                    skipped(&name, why.trim_end_matches(": force imports it again"));
                    continue;
                }
                _ => {
                    return Err(Error::Usage(format!(
                        "the server refused the import: {}",
                        super::client::text(&v)
                    )));
                }
            },
        }
        let mut out =
            std::io::BufWriter::with_capacity(256 * 1024, conn.try_clone().map_err(lost)?);
        let mut lines = LineReader::new(&mut input.reader);
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
            out.write_all(line).map_err(lost)?;
            out.write_all(b"\n").map_err(lost)?;
            if totals.lines % 4096 == 0 {
                progress.tick(&name, input.read.get(), input.size, totals.lines);
            }
        }
        out.flush().map_err(lost)?;
        drop(out);
        conn.shutdown(std::net::Shutdown::Write).map_err(lost)?;
        let reply = maint::read_reply(conn)?;
        stored += reply
            .pointer("/imported/stored")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
    }
    progress.done();
    let into = format!("the running server ({})", socket.display());
    summary(&totals, args.files.len(), &into, stored, started);
    Ok(())
}
