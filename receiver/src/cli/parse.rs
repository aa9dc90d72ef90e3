//! `picket parse`: lines in, one JSON event per line out, streaming with constant memory.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;

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
    /// How stamps without a year or zone are read.
    #[command(flatten)]
    pub time: TimeArgs,
}

/// Parses every line of `input` and writes its JSON to `out`.
fn parse_stream<R: BufRead + ?Sized, W: Write>(
    input: &mut R,
    out: &mut W,
    ctx: &ParseContext,
) -> Result<(), io::Error> {
    let mut lines = LineReader::new(input);
    let mut json = Vec::with_capacity(1024);
    while let Some(line) = lines.next_line()? {
        json.clear();
        write_event(&mut json, &parse_line(line, ctx));
        json.push(b'\n');
        out.write_all(&json)?;
    }
    Ok(())
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
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|_| self.failed = true)
    }
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
    let result = (|| {
        for path in files {
            let mut input = input::open(path)?;
            let ctx = args.time.context(input.mtime);
            if let Err(e) = parse_stream(&mut input.reader, &mut out, &ctx) {
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
