//! Line reading for files and pipes: one reused buffer, any line length, CR LF or LF
//! terminators, constant memory however large the input.

use std::io::{self, BufRead};

/// Reads lines without their terminator: a line that lies whole in the reader's buffer is
/// lent from there (no copy); one that crosses the buffer's end is gathered in a reused one.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes of the reader's buffer the last line lent from it took (consumed at the next call).
    lent: usize,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps a buffered reader.
    pub fn new(inner: R) -> LineReader<R> {
        LineReader {
            inner,
            buf: Vec::with_capacity(4096),
            lent: 0,
        }
    }

    /// The next line without `\n` or `\r\n`, or `None` at end of input. A last line without a
    /// terminator is still returned.
    pub fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        // `read_until` copied every line and scanned it a byte-slice call at a time: 7.5 % of
        // `picket parse` on security lines (perf); lending costs one memchr.
        self.inner.consume(std::mem::take(&mut self.lent));
        let found = {
            let avail = self.inner.fill_buf()?;
            if avail.is_empty() {
                return Ok(None);
            }
            memchr::memchr(b'\n', avail)
        };
        if let Some(end) = found {
            // The same bytes again (no read: nothing was consumed); asked twice because a
            // borrow returned from one branch would hold `inner` for the other.
            let avail = self.inner.fill_buf()?;
            self.lent = end + 1;
            let line = avail.get(..end).unwrap_or_default();
            return Ok(Some(line.strip_suffix(b"\r").unwrap_or(line)));
        }
        self.buf.clear();
        self.inner.read_until(b'\n', &mut self.buf)?;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        // A single huge line may have grown the buffer; give the memory back afterwards.
        if self.buf.capacity() > 1 << 20 && self.buf.len() < 4096 {
            self.buf.shrink_to(4096);
        }
        Ok(Some(&self.buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lf_crlf_and_unterminated() {
        let data: &[u8] = b"a\nb\r\n\nc\rd\nlast";
        let mut r = LineReader::new(data);
        let mut got = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            got.push(l.to_vec());
        }
        assert_eq!(
            got,
            vec![
                b"a".to_vec(),
                b"b".to_vec(),
                b"".to_vec(),
                b"c\rd".to_vec(),
                b"last".to_vec()
            ]
        );
    }

    #[test]
    fn lines_across_the_readers_buffer_come_out_whole() {
        let mut data = Vec::new();
        let mut want = Vec::new();
        for i in 0..500 {
            let line = format!("line {i} {}", "x".repeat(i % 37));
            data.extend_from_slice(line.as_bytes());
            data.extend_from_slice(if i % 3 == 0 { b"\r\n" } else { b"\n" });
            want.push(line.into_bytes());
        }
        // 16-byte buffer: nearly every line crosses its end, some lie in it whole.
        let mut r = LineReader::new(io::BufReader::with_capacity(16, data.as_slice()));
        let mut got = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            got.push(l.to_vec());
        }
        assert_eq!(got, want);
    }
}
