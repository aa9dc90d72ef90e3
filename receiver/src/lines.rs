//! Line reading for files and pipes: one reused buffer, any line length, CR LF or LF
//! terminators, constant memory however large the input.

use std::io::{self, BufRead};

/// Reads lines without their terminator into one reused buffer.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps a buffered reader.
    pub fn new(inner: R) -> LineReader<R> {
        LineReader {
            inner,
            buf: Vec::with_capacity(4096),
        }
    }

    /// The next line without `\n` or `\r\n`, or `None` at end of input. A last line without a
    /// terminator is still returned.
    pub fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        self.buf.clear();
        let n = self.inner.read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
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
}
