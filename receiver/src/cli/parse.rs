//! `picket parse`: lines in, one JSON event per line out, streaming with constant memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use picket_parsers::json::write_event;
use picket_parsers::time::days_from_civil;
use picket_parsers::{ParseContext, Timestamp, parse_line};

use crate::error::Error;
use crate::lines::LineReader;

/// Options of `picket parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Files to read (standard input if none; `-` also means standard input).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Year for stamps that have none (default: inferred from each file's modification time,
    /// or from the current time for standard input; December lines read in January count as
    /// the year before).
    #[arg(long, value_name = "YEAR")]
    pub year: Option<i32>,
    /// Time zone of stamps that name none, as an offset from UTC (`+01:00`, `-0500`, `Z`).
    #[arg(long, value_name = "OFFSET", default_value = "Z", value_parser = parse_offset)]
    pub tz: i32,
}

/// Reads `Z`, `+hh:mm`, `+hhmm` or `+hh` into seconds east of UTC.
fn parse_offset(s: &str) -> Result<i32, String> {
    let bad = || format!("{s:?} is not a UTC offset (try Z, +01:00 or -0500)");
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return Err(bad());
    }
    let h: i32 = digits[..2].parse().map_err(|_| bad())?;
    let m: i32 = if digits.len() == 4 {
        digits[2..].parse().map_err(|_| bad())?
    } else {
        0
    };
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(sign * (h * 3600 + m * 60))
}

/// The reference instant for year inference.
fn reference(year: Option<i32>, mtime: Option<std::time::SystemTime>) -> i64 {
    if let Some(y) = year {
        // The last second of that year: every year-less stamp lands in it.
        return days_from_civil(i64::from(y) + 1, 1, 1) * 86_400 - 1;
    }
    mtime
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .unwrap_or_else(|| Timestamp::now().secs)
}

/// Parses every line of `input` and writes its JSON to `out`.
fn parse_stream<R: BufRead, W: Write>(
    input: R,
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
            let (reader, mtime, name): (Box<dyn BufRead>, _, _) = if path.as_os_str() == "-" {
                let stdin = BufReader::with_capacity(256 * 1024, io::stdin().lock());
                (Box::new(stdin), None, None)
            } else {
                let open_err = |source| Error::File {
                    op: "open",
                    path: path.clone(),
                    source,
                };
                let f = File::open(path).map_err(open_err)?;
                let mtime = f.metadata().and_then(|m| m.modified()).ok();
                (
                    Box::new(BufReader::with_capacity(256 * 1024, f)),
                    mtime,
                    Some(path),
                )
            };
            let ctx = ParseContext {
                reference: reference(args.year, mtime),
                default_offset: args.tz,
            };
            parse_stream(reader, &mut out, &ctx).map_err(|e| match name {
                _ if out.failed => Error::Stdout(e),
                Some(p) => Error::File {
                    op: "read",
                    path: p.clone(),
                    source: e,
                },
                None => Error::Stdin(e),
            })?;
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

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("Z"), Ok(0));
        assert_eq!(parse_offset("+01:00"), Ok(3600));
        assert_eq!(parse_offset("-0530"), Ok(-(5 * 3600 + 30 * 60)));
        assert_eq!(parse_offset("+02"), Ok(7200));
        assert!(parse_offset("01:00").is_err());
        assert!(parse_offset("+25:00").is_err());
        assert!(parse_offset("+1").is_err());
    }

    #[test]
    fn year_reference_is_the_years_last_second() {
        let r = reference(Some(2001), None);
        assert_eq!(r, days_from_civil(2002, 1, 1) * 86_400 - 1);
    }
}
