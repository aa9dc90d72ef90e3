//! Syslog over a byte stream (RFC 6587): each frame is either octet-counted (`LEN SP MSG`) or
//! ends at LF, CRLF or NUL, and senders may switch between the two from one frame to the next.
//!
//! [`FrameDecoder`] is an explicit state machine over a buffer the caller fills. A message
//! longer than the maximum is cut at the maximum, flagged as truncated, and the rest of that
//! frame is skipped without buffering it, so a flood cannot grow memory and the decoder keeps
//! its place in the stream. Errors say whether the stream can go on.
//!
//! [`relp`] decodes RELP (rsyslog's reliable protocol) the same way.

use bytes::{Buf, BytesMut};

pub mod relp;

/// One decoded message.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    /// The message bytes (at most the maximum message size).
    pub bytes: bytes::Bytes,
    /// True when the sender's message was longer and was cut.
    pub truncated: bool,
}

/// A frame the decoder cannot read. The stream cannot go on: the connection is closed.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// An octet count with more digits than any allowed length (`99999999999 …`).
    HugeCount,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::HugeCount => f.write_str("octet count too large; closing the connection"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Where the decoder is between calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a frame.
    Start,
    /// Inside an octet-counted frame: bytes of it still to keep, and bytes to skip after
    /// them (the part of an oversize frame beyond the maximum).
    Counted { remaining: usize, skip: usize },
    /// Skipping the rest of an oversize octet-counted frame.
    SkipCounted { remaining: usize },
    /// Skipping the rest of an oversize delimited frame, up to its delimiter.
    SkipDelimited,
}

/// Decodes RFC 6587 frames; see the module docs.
#[derive(Debug)]
pub struct FrameDecoder {
    max: usize,
    state: State,
    /// A message collected across calls (octet-counted frames longer than one read).
    partial: BytesMut,
}

/// Digits an octet count may have: enough for any length up to 4 GiB.
const MAX_COUNT_DIGITS: usize = 10;

impl FrameDecoder {
    /// A decoder for messages of at most `max` bytes.
    pub fn new(max: usize) -> FrameDecoder {
        FrameDecoder {
            max: max.max(1),
            state: State::Start,
            partial: BytesMut::new(),
        }
    }

    /// Decodes the next frame from `buf`, consuming what it used. `Ok(None)` means more
    /// bytes are needed (the decoder keeps at most `max` bytes of a frame buffered).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        loop {
            match self.state {
                State::Start => {
                    // Skip the empty lines some senders put between frames.
                    let blank = buf
                        .iter()
                        .take_while(|b| matches!(b, b'\n' | b'\r' | 0))
                        .count();
                    buf.advance(blank);
                    let Some(&first) = buf.first() else {
                        return Ok(None);
                    };
                    if first.is_ascii_digit() && first != b'0' {
                        match octet_count(buf) {
                            Count::Length { len, header } => {
                                buf.advance(header);
                                let keep = len.min(self.max);
                                self.partial.clear();
                                self.state = State::Counted {
                                    remaining: keep,
                                    skip: len - keep,
                                };
                                continue;
                            }
                            Count::NeedMore => return Ok(None),
                            Count::Huge => return Err(FrameError::HugeCount),
                            Count::NotCounted => {}
                        }
                    }
                    return Ok(self.delimited(buf));
                }
                State::Counted { remaining, skip } => {
                    let take = remaining.min(buf.len());
                    self.partial
                        .extend_from_slice(buf.get(..take).unwrap_or_default());
                    buf.advance(take);
                    let left = remaining - take;
                    if left > 0 {
                        self.state = State::Counted {
                            remaining: left,
                            skip,
                        };
                        return Ok(None);
                    }
                    let bytes = std::mem::take(&mut self.partial).freeze();
                    self.state = if skip > 0 {
                        State::SkipCounted { remaining: skip }
                    } else {
                        State::Start
                    };
                    return Ok(Some(Frame {
                        bytes: trim(bytes),
                        truncated: skip > 0,
                    }));
                }
                State::SkipCounted { remaining } => {
                    let take = remaining.min(buf.len());
                    buf.advance(take);
                    if remaining > take {
                        self.state = State::SkipCounted {
                            remaining: remaining - take,
                        };
                        return Ok(None);
                    }
                    self.state = State::Start;
                }
                State::SkipDelimited => match memchr::memchr2(b'\n', 0, buf) {
                    Some(end) => {
                        buf.advance(end + 1);
                        self.state = State::Start;
                    }
                    None => {
                        buf.clear();
                        return Ok(None);
                    }
                },
            }
        }
    }

    /// A frame ending at LF, CRLF or NUL; an oversize one is cut and the rest skipped.
    fn delimited(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        let window = buf.len().min(self.max + 1);
        match memchr::memchr2(b'\n', 0, buf.get(..window)?) {
            Some(end) => {
                let line = buf.split_to(end).freeze();
                buf.advance(1);
                Some(Frame {
                    bytes: trim(line),
                    truncated: false,
                })
            }
            None if buf.len() > self.max => {
                let line = buf.split_to(self.max).freeze();
                self.state = State::SkipDelimited;
                Some(Frame {
                    bytes: trim(line),
                    truncated: true,
                })
            }
            None => None,
        }
    }

    /// What is left at the end of the stream: a last line without its delimiter, or the
    /// part of an octet-counted frame that arrived (flagged truncated).
    pub fn finish(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        match std::mem::replace(&mut self.state, State::Start) {
            State::Start => {
                let rest = trim(buf.split().freeze());
                (!rest.is_empty()).then_some(Frame {
                    bytes: rest,
                    truncated: false,
                })
            }
            State::Counted { .. } => {
                let got = std::mem::take(&mut self.partial).freeze();
                buf.clear();
                (!got.is_empty()).then_some(Frame {
                    bytes: trim(got),
                    truncated: true,
                })
            }
            State::SkipCounted { .. } | State::SkipDelimited => {
                buf.clear();
                None
            }
        }
    }
}

/// Drops trailing CR, LF and NUL.
fn trim(mut b: bytes::Bytes) -> bytes::Bytes {
    let keep = b.len()
        - b.iter()
            .rev()
            .take_while(|c| matches!(c, b'\r' | b'\n' | 0))
            .count();
    b.truncate(keep);
    b
}

enum Count {
    /// `LEN SP`: the length and how many bytes the header took.
    Length { len: usize, header: usize },
    /// Digits so far, no space yet.
    NeedMore,
    /// More digits than any allowed length.
    Huge,
    /// Digits not followed by a space: a delimited line that starts with a number.
    NotCounted,
}

fn octet_count(buf: &[u8]) -> Count {
    let digits = buf.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > MAX_COUNT_DIGITS {
        return Count::Huge;
    }
    match buf.get(digits) {
        None => Count::NeedMore,
        Some(b' ') => {
            let len = buf
                .iter()
                .take(digits)
                .fold(0u64, |a, d| a * 10 + u64::from(d - b'0'));
            match usize::try_from(len) {
                Ok(len) if len <= u32::MAX as usize => Count::Length {
                    len,
                    header: digits + 1,
                },
                _ => Count::Huge,
            }
        }
        Some(_) => Count::NotCounted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes and collects frames (and whether it failed).
    fn run(input: &[u8], max: usize, step: usize) -> (Vec<(String, bool)>, bool) {
        let mut d = FrameDecoder::new(max);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in input.chunks(step.max(1)) {
            buf.extend_from_slice(piece);
            loop {
                match d.decode(&mut buf) {
                    Ok(Some(f)) => {
                        out.push((String::from_utf8_lossy(&f.bytes).into_owned(), f.truncated))
                    }
                    Ok(None) => break,
                    Err(_) => return (out, true),
                }
            }
        }
        if let Some(f) = d.finish(&mut buf) {
            out.push((String::from_utf8_lossy(&f.bytes).into_owned(), f.truncated));
        }
        (out, false)
    }

    fn plain(v: &[&str]) -> Vec<(String, bool)> {
        v.iter().map(|s| (s.to_string(), false)).collect()
    }

    #[test]
    fn mixed_framing_in_any_piece_size() {
        let input = b"11 <13>hello 1\n<13>line two\r\n<13>nul\x009 <13>x\ny\nz2001-11-08T15:26:31Z host: iso\nlast";
        for step in [1, 2, 3, 7, 64, 1000] {
            let (frames, failed) = run(input, 1024, step);
            assert!(!failed);
            assert_eq!(
                frames,
                plain(&[
                    "<13>hello 1",
                    "<13>line two",
                    "<13>nul",
                    "<13>x\ny\nz",
                    "2001-11-08T15:26:31Z host: iso",
                    "last"
                ]),
                "step {step}"
            );
        }
    }

    #[test]
    fn oversize_frames_are_cut_and_skipped_without_losing_place() {
        let mut input = Vec::new();
        input.extend_from_slice(b"30 ");
        input.extend_from_slice(&[b'a'; 30]);
        input.extend_from_slice(&[b'b'; 25]);
        input.extend_from_slice(b"\nafter\n");
        for step in [1, 5, 100] {
            let (frames, failed) = run(&input, 10, step);
            assert!(!failed);
            assert_eq!(
                frames,
                vec![
                    ("a".repeat(10), true),
                    ("b".repeat(10), true),
                    ("after".to_string(), false)
                ],
                "step {step}"
            );
        }
    }

    #[test]
    fn a_huge_count_closes_the_stream() {
        let (frames, failed) = run(b"<13>ok\n99999999999 x", 100, 4);
        assert_eq!(frames, plain(&["<13>ok"]));
        assert!(failed);
    }

    #[test]
    fn a_half_sent_counted_frame_is_kept_and_flagged() {
        let (frames, failed) = run(b"20 <13>only part", 100, 3);
        assert!(!failed);
        assert_eq!(frames, vec![("<13>only part".to_string(), true)]);
    }

    #[test]
    fn numbers_that_are_not_counts_are_lines() {
        let (frames, _) = run(b"123: *Mar  1 x\n0 zero\n", 100, 2);
        assert_eq!(frames, plain(&["123: *Mar  1 x", "0 zero"]));
    }

    #[test]
    fn memory_stays_bounded_on_an_endless_line() {
        let mut d = FrameDecoder::new(64);
        let mut buf = BytesMut::new();
        let mut frames = 0;
        for _ in 0..10_000 {
            buf.extend_from_slice(&[b'x'; 100]);
            while let Ok(Some(_)) = d.decode(&mut buf) {
                frames += 1;
            }
            assert!(buf.len() <= 64 + 100, "buffer grew to {}", buf.len());
        }
        assert_eq!(frames, 1, "one truncated frame, the rest skipped");
    }
}
