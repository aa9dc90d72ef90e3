//! `picket parse`: lines in, one JSON event per line out, in input order, with bounded memory.
//!
//! One job parses line by line into one output buffer written out in large pieces. More jobs
//! (`--jobs`, default every core) split the input into chunks of whole lines: this thread reads
//! chunk after chunk and hands them round-robin to the workers, and writes their output back
//! in the order the chunks were read. At most two chunks per worker are in flight, and their
//! buffers are reused, so memory stays bounded whatever the size of the input.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::sync::mpsc;

use clap::Args;
use picket_parsers::write_event;
use picket_parsers::{ParseContext, parse_line};

use super::input::{self, TimeArgs};
use crate::error::Error;
use crate::lines::LineReader;

/// Options of `picket parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Files to read, plain or gzip (standard input if none; `-` also means standard input).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Threads that parse (default: one per core); output stays in input order.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// How stamps without a year or zone are read.
    #[command(flatten)]
    pub time: TimeArgs,
}

/// Output is written once this much has gathered.
const WRITE_AT: usize = 1 << 20;
/// Input bytes per chunk handed to a worker (a chunk ends at a line end: a longer line makes
/// a longer chunk).
const CHUNK: usize = 256 * 1024;
/// Chunks in flight per worker.
const DEPTH: usize = 2;

/// Appends the JSON of `line` and a line end.
fn event_line(out: &mut Vec<u8>, line: &[u8], ctx: &ParseContext) {
    write_event(out, &parse_line(line, ctx));
    out.push(b'\n');
}

/// Parses every line of `input` and writes its JSON to `out`, on this thread.
fn parse_stream<R: BufRead + ?Sized, W: Write>(
    input: &mut R,
    out: &mut W,
    ctx: &ParseContext,
) -> Result<(), io::Error> {
    let mut lines = LineReader::new(input);
    let mut json = Vec::with_capacity(WRITE_AT + 64 * 1024);
    while let Some(line) = lines.next_line()? {
        event_line(&mut json, line, ctx);
        if json.len() >= WRITE_AT {
            out.write_all(&json)?;
            json.clear();
        }
    }
    out.write_all(&json)
}

/// The lines of a chunk as [`LineReader`] gives them: split at LF, a CR before the LF
/// dropped, and a piece after the last LF (only the input's last chunk has one) a line too.
pub(super) fn chunk_lines(chunk: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = chunk;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        // memchr, not a byte loop: a worker finds the line ends of every chunk it parses.
        let Some(end) = memchr::memchr(b'\n', rest) else {
            return Some(std::mem::take(&mut rest));
        };
        let (line, tail) = rest.split_at(end);
        rest = tail.get(1..).unwrap_or_default();
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    })
}

/// The least one read asks for: a read this large passes a `BufReader` (whose capacity is
/// `input::BUF`) by, straight from the file into the chunk. A chunk's buffer has this much room
/// past `CHUNK`.
const READ_ROOM: usize = input::BUF;

/// Reads the next chunk of whole lines into `buf[..*filled]` (which starts with `carry`, the
/// part of a line the previous chunk ended in); false when the input has nothing more.
///
/// `buf` stays at its full length between chunks (what it holds past `filled` is stale) so
/// that each read goes into it directly: copying out of `fill_buf` cost the reading thread,
/// which also writes the output, a memmove of every byte of input.
fn next_chunk<R: BufRead + ?Sized>(
    input: &mut R,
    buf: &mut Vec<u8>,
    filled: &mut usize,
    carry: &mut Vec<u8>,
) -> io::Result<bool> {
    if buf.len() < CHUNK + READ_ROOM {
        buf.resize(CHUNK + READ_ROOM, 0);
    }
    if let Some(start) = buf.get_mut(..carry.len()) {
        start.copy_from_slice(carry);
    }
    *filled = carry.len();
    carry.clear();
    loop {
        if buf.len() - *filled < READ_ROOM {
            // A line longer than the chunk: make room for more of it.
            let grown = buf.len().saturating_mul(2);
            buf.resize(grown, 0);
        }
        // Only what the chunk still lacks (but never less than READ_ROOM): a larger read
        // would make larger chunks, and more memory in flight.
        let end = *filled + CHUNK.saturating_sub(*filled).max(READ_ROOM);
        let n = match input.read(buf.get_mut(*filled..end).unwrap_or_default()) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(*filled > 0);
        }
        let before = *filled;
        *filled += n;
        if *filled < CHUNK {
            continue;
        }
        // Full: end the chunk at the last line end of what is there. Once full, what came
        // before this read was searched already: a line of gigabytes is scanned once, not
        // once a read.
        let from = if before >= CHUNK { before } else { 0 };
        let data = buf.get(..*filled).unwrap_or_default();
        let found = data.get(from..).and_then(|new| memchr::memrchr(b'\n', new));
        if let Some(end) = found.map(|at| from + at) {
            carry.extend_from_slice(data.get(end + 1..).unwrap_or_default());
            *filled = end + 1;
            return Ok(true);
        }
    }
}

/// A chunk to parse and the buffer its JSON goes into.
struct Work {
    input: Vec<u8>,
    /// How much of `input` is this chunk.
    filled: usize,
    output: Vec<u8>,
    ctx: ParseContext,
}

/// Parses `input` on `jobs` workers and writes the JSON to `out` in input order.
fn parse_parallel<R: BufRead + ?Sized, W: Write>(
    input: &mut R,
    out: &mut W,
    ctx: &ParseContext,
    jobs: usize,
) -> Result<(), io::Error> {
    std::thread::scope(|scope| {
        let mut to: Vec<mpsc::SyncSender<Work>> = Vec::with_capacity(jobs);
        let mut from: Vec<mpsc::Receiver<Work>> = Vec::with_capacity(jobs);
        for _ in 0..jobs {
            let (tx, rx) = mpsc::sync_channel::<Work>(DEPTH);
            let (back, done) = mpsc::sync_channel::<Work>(DEPTH);
            scope.spawn(move || {
                for mut w in rx {
                    w.output.clear();
                    for line in chunk_lines(w.input.get(..w.filled).unwrap_or_default()) {
                        event_line(&mut w.output, line, &w.ctx);
                    }
                    if back.send(w).is_err() {
                        return;
                    }
                }
            });
            to.push(tx);
            from.push(done);
        }
        let gone = || io::Error::other("a parse worker stopped");
        let mut pool: Vec<Work> = Vec::new();
        let mut inflight: VecDeque<usize> = VecDeque::new();
        let mut carry = Vec::new();
        let mut next = 0usize;
        loop {
            let mut w = pool.pop().unwrap_or_else(|| Work {
                input: Vec::new(),
                filled: 0,
                output: Vec::new(),
                ctx: *ctx,
            });
            if !next_chunk(input, &mut w.input, &mut w.filled, &mut carry)? {
                break;
            }
            if inflight.len() >= DEPTH * jobs
                && let Some(k) = inflight.pop_front()
            {
                let done = from.get(k).ok_or_else(gone)?.recv().map_err(|_| gone())?;
                out.write_all(&done.output)?;
                pool.push(done);
            }
            let k = next % jobs;
            next += 1;
            to.get(k).ok_or_else(gone)?.send(w).map_err(|_| gone())?;
            inflight.push_back(k);
        }
        while let Some(k) = inflight.pop_front() {
            let done = from.get(k).ok_or_else(gone)?.recv().map_err(|_| gone())?;
            out.write_all(&done.output)?;
        }
        Ok(())
    })
}

/// A writer that remembers whether its own error happened, to tell read and write failures apart.
struct TrackedWriter<W> {
    inner: W,
    failed: bool,
}

impl<W: Write> Write for TrackedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).inspect_err(|_| self.failed = true)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner
            .write_all(buf)
            .inspect_err(|_| self.failed = true)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|_| self.failed = true)
    }
}

/// How many workers `--jobs` asks for (default: the cores this process may use).
fn jobs(args: &ParseArgs) -> usize {
    args.jobs.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    })
}

/// Runs `picket parse`.
pub fn run(args: &ParseArgs) -> Result<(), Error> {
    let stdout = io::stdout();
    let mut out = TrackedWriter {
        inner: BufWriter::with_capacity(256 * 1024, stdout.lock()),
        failed: false,
    };
    let stdin_only = [PathBuf::from("-")];
    let files: &[PathBuf] = if args.files.is_empty() {
        &stdin_only
    } else {
        &args.files
    };
    let jobs = jobs(args);
    let result = (|| {
        for path in files {
            let mut input = input::open(path)?;
            let ctx = args.time.context(input.mtime);
            let r = if jobs > 1 {
                parse_parallel(&mut input.reader, &mut out, &ctx, jobs)
            } else {
                parse_stream(&mut input.reader, &mut out, &ctx)
            };
            if let Err(e) = r {
                return Err(if out.failed {
                    Error::Stdout(e)
                } else {
                    input.read_error(e)
                });
            }
        }
        out.flush().map_err(Error::Stdout)
    })();
    match result {
        // A closed pipe (`picket parse | head`) is the reader's choice, not an error.
        Err(Error::Stdout(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequential(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        parse_stream(&mut &data[..], &mut out, &ParseContext::new(1_795_392_000)).unwrap();
        out
    }

    fn parallel(data: &[u8], jobs: usize) -> Vec<u8> {
        let mut out = Vec::new();
        // A small read buffer: chunks end in every possible place of a line.
        let mut r = io::BufReader::with_capacity(997, data);
        parse_parallel(&mut r, &mut out, &ParseContext::new(1_795_392_000), jobs).unwrap();
        out
    }

    #[test]
    fn chunks_give_the_lines_the_line_reader_gives() {
        let mut data = Vec::new();
        for i in 0..4_000 {
            match i % 7 {
                0 => data.extend_from_slice(b"\r\n"),
                1 => data.extend_from_slice(b"\n"),
                2 => data.extend_from_slice(format!("x\r{i}\r\n").as_bytes()),
                _ => data.extend_from_slice(
                    format!("<38>Nov  8 15:26:31 gw sshd[{i}]: Failed password for root from 198.51.100.7 port {i} ssh2\n").as_bytes(),
                ),
            }
        }
        data.extend_from_slice(&vec![b'L'; CHUNK + 5]);
        data.extend_from_slice(b"\nunterminated\r");
        let want = sequential(&data);
        for jobs in [1, 2, 3] {
            assert!(parallel(&data, jobs) == want, "{jobs} jobs");
        }
        for tail in [&b""[..], b"\n", b"\r\n", b"a", b"\r", b"\n\n"] {
            assert!(parallel(tail, 2) == sequential(tail), "{tail:?}");
        }
    }
}
