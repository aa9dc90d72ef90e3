//! Opening log files for `parse` and `import`: plain or gzip (detected by its magic bytes),
//! `-` for standard input, with a byte counter for progress and the settings that turn
//! year-less stamps into times (`--year`, `--tz`).

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::SystemTime;

use clap::Args;
use flate2::bufread::MultiGzDecoder;
use picket_parsers::days_from_civil;
use picket_parsers::{ParseContext, Timestamp};

use crate::error::Error;

pub(super) const BUF: usize = 256 * 1024;

/// How year-less and zone-less stamps are read.
#[derive(Debug, Clone, Copy, Args)]
pub struct TimeArgs {
    /// Year for stamps that have none (default: inferred from each file's modification time,
    /// or from the current time for standard input; December lines read in January count as
    /// the year before).
    #[arg(long, value_name = "YEAR")]
    pub year: Option<i32>,
    /// Time zone of stamps that name none, as an offset from UTC (`+01:00`, `-0500`, `Z`).
    #[arg(long, value_name = "OFFSET", default_value = "Z", value_parser = crate::values::parse_offset)]
    pub tz: i32,
}

impl TimeArgs {
    /// The parse context for a file modified at `mtime` (or read now).
    pub fn context(&self, mtime: Option<SystemTime>) -> ParseContext {
        ParseContext::new(reference(self.year, mtime)).with_offset(self.tz)
    }
}

/// The reference instant for year inference.
pub fn reference(year: Option<i32>, mtime: Option<SystemTime>) -> i64 {
    if let Some(y) = year {
        // The last second of that year: every year-less stamp lands in it.
        return days_from_civil(i64::from(y) + 1, 1, 1) * 86_400 - 1;
    }
    mtime
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .unwrap_or_else(|| Timestamp::now().secs)
}

/// Counts bytes read from the underlying file (for progress on compressed input too).
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// An opened input.
pub struct Input {
    /// Line source (decompressed if the file was gzip).
    pub reader: Box<dyn BufRead>,
    /// The file, or `None` for standard input.
    pub path: Option<PathBuf>,
    /// Modification time, for year inference.
    pub mtime: Option<SystemTime>,
    /// Size on disk, if known.
    pub size: Option<u64>,
    /// Bytes of the file read so far.
    pub read: Rc<Cell<u64>>,
}

impl Input {
    /// The name to show the user.
    pub fn name(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "<stdin>".to_string(), |p| p.display().to_string())
    }

    /// An I/O error while reading this input, with its name.
    pub fn read_error(&self, source: io::Error) -> Error {
        match &self.path {
            Some(p) => Error::File {
                op: "read",
                path: p.clone(),
                source,
            },
            None => Error::Stdin(source),
        }
    }
}

fn wrap<R: Read + 'static>(raw: R, count: Rc<Cell<u64>>) -> io::Result<Box<dyn BufRead>> {
    let mut buffered = BufReader::with_capacity(BUF, Counting { inner: raw, count });
    let gz = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::with_capacity(BUF, MultiGzDecoder::new(buffered)))
    } else {
        Box::new(buffered)
    })
}

/// Opens a file (or standard input for `-`), decompressing gzip.
pub fn open(path: &Path) -> Result<Input, Error> {
    let read = Rc::new(Cell::new(0));
    if path.as_os_str() == "-" {
        let reader = wrap(io::stdin(), read.clone()).map_err(Error::Stdin)?;
        return Ok(Input {
            reader,
            path: None,
            mtime: None,
            size: None,
            read,
        });
    }
    let err = |op, source| Error::File {
        op,
        path: path.to_path_buf(),
        source,
    };
    let f = File::open(path).map_err(|e| err("open", e))?;
    let meta = f.metadata().ok();
    let reader = wrap(f, read.clone()).map_err(|e| err("read", e))?;
    Ok(Input {
        reader,
        path: Some(path.to_path_buf()),
        mtime: meta.as_ref().and_then(|m| m.modified().ok()),
        size: meta.map(|m| m.len()),
        read,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_reference_is_the_years_last_second() {
        let r = reference(Some(2001), None);
        assert_eq!(r, days_from_civil(2002, 1, 1) * 86_400 - 1);
    }
}
