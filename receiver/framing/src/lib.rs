//! Syslog over a byte stream (RFC 6587): each frame is either octet-counted (`LEN SP MSG`) or
//! ends at LF, CRLF or NUL, and senders may switch between the two from one frame to the next.
//!
//! [`FrameDecoder`] is an explicit state machine over a buffer the caller fills. A message
//! longer than the maximum is cut at the maximum, flagged as truncated, and the rest of that
//! frame is skipped without buffering it, so a flood cannot grow memory and the decoder keeps
//! its place in the stream. An octet count too large to be real (more digits than any length,
//! or far beyond the maximum) does not end the stream either: the decoder keeps the bytes up
//! to the next place a frame starts (a delimiter, or `LEN SP <`) as one frame flagged
//! `resynced`, and reads on from there, so one bad header costs one frame, not the connection.
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
    /// True when the frame began with an absurd octet count: it holds the raw bytes from that
    /// count up to where the next frame was found (a bad frame, counted by the caller).
    pub resynced: bool,
}

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
    /// At an absurd octet count: collecting the bytes up to the next frame start.
    Resync,
    /// Skipping what follows an absurd count beyond the maximum, up to the next frame start.
    ResyncSkip,
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

/// A count above this many times the maximum message is taken for a damaged header, not a
/// real (cut) message: skipping it would throw away up to 4 GiB of the stream behind it.
const ABSURD_FACTOR: usize = 16;

/// Counts up to this size are always believed, however small the maximum message.
const ABSURD_FLOOR: usize = 1 << 20;

impl FrameDecoder {
    /// A decoder for messages of at most `max` bytes.
    pub fn new(max: usize) -> FrameDecoder {
        FrameDecoder {
            max: max.max(1),
            state: State::Start,
            partial: BytesMut::new(),
        }
    }

    /// The largest octet count taken at its word.
    fn absurd(&self) -> usize {
        self.max.saturating_mul(ABSURD_FACTOR).max(ABSURD_FLOOR)
    }

    /// Decodes the next frame from `buf`, consuming what it used. `None` means more bytes are
    /// needed (the decoder keeps at most `max` bytes of a frame, plus the few bytes of a
    /// header it cannot yet tell, buffered).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        loop {
            match self.state {
                State::Start => {
                    // Skip the empty lines some senders put between frames.
                    let blank = buf
                        .iter()
                        .take_while(|b| matches!(b, b'\n' | b'\r' | 0))
                        .count();
                    buf.advance(blank);
                    let &first = buf.first()?;
                    if first.is_ascii_digit() && first != b'0' {
                        match octet_count(buf, self.absurd()) {
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
                            Count::NeedMore => return None,
                            Count::Absurd => {
                                self.state = State::Resync;
                                continue;
                            }
                            Count::NotCounted => {}
                        }
                    }
                    return self.delimited(buf);
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
                        return None;
                    }
                    let bytes = std::mem::take(&mut self.partial).freeze();
                    self.state = if skip > 0 {
                        State::SkipCounted { remaining: skip }
                    } else {
                        State::Start
                    };
                    return Some(Frame {
                        bytes: trim(bytes),
                        truncated: skip > 0,
                        resynced: false,
                    });
                }
                State::SkipCounted { remaining } => {
                    let take = remaining.min(buf.len());
                    buf.advance(take);
                    if remaining > take {
                        self.state = State::SkipCounted {
                            remaining: remaining - take,
                        };
                        return None;
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
                        return None;
                    }
                },
                State::Resync => match next_frame_start(buf, self.max, self.absurd()) {
                    Scan::Found { at, delimiter } => {
                        let bytes = buf.split_to(at).freeze();
                        if delimiter {
                            buf.advance(1);
                        }
                        self.state = State::Start;
                        return Some(Frame {
                            bytes: trim(bytes),
                            truncated: false,
                            resynced: true,
                        });
                    }
                    Scan::Undecided(_) => return None,
                    Scan::NotWithin => {
                        let bytes = buf.split_to(self.max.min(buf.len())).freeze();
                        self.state = State::ResyncSkip;
                        return Some(Frame {
                            bytes: trim(bytes),
                            truncated: true,
                            resynced: true,
                        });
                    }
                },
                State::ResyncSkip => match next_frame_start(buf, usize::MAX, self.absurd()) {
                    Scan::Found { at, delimiter } => {
                        buf.advance(at + usize::from(delimiter));
                        self.state = State::Start;
                    }
                    Scan::Undecided(at) => {
                        // Keep the byte before the undecided place: whether a header starts
                        // there depends on it.
                        buf.advance(at.saturating_sub(1));
                        return None;
                    }
                    Scan::NotWithin => {
                        buf.clear();
                        return None;
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
                    resynced: false,
                })
            }
            None if buf.len() > self.max => {
                let line = buf.split_to(self.max).freeze();
                self.state = State::SkipDelimited;
                Some(Frame {
                    bytes: trim(line),
                    truncated: true,
                    resynced: false,
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
                    resynced: false,
                })
            }
            State::Resync => {
                let rest = trim(buf.split().freeze());
                (!rest.is_empty()).then_some(Frame {
                    bytes: rest,
                    truncated: false,
                    resynced: true,
                })
            }
            State::Counted { .. } => {
                let got = std::mem::take(&mut self.partial).freeze();
                buf.clear();
                (!got.is_empty()).then_some(Frame {
                    bytes: trim(got),
                    truncated: true,
                    resynced: false,
                })
            }
            State::SkipCounted { .. } | State::SkipDelimited | State::ResyncSkip => {
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
    /// More digits than any allowed length, or a length too large to be real.
    Absurd,
    /// Digits not followed by a space: a delimited line that starts with a number.
    NotCounted,
}

fn octet_count(buf: &[u8], absurd: usize) -> Count {
    let digits = buf.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > MAX_COUNT_DIGITS {
        return Count::Absurd;
    }
    match buf.get(digits) {
        None => Count::NeedMore,
        Some(b' ') => {
            let len = buf
                .iter()
                .take(digits)
                .fold(0u64, |a, d| a * 10 + u64::from(d - b'0'));
            match usize::try_from(len) {
                Ok(len) if len <= absurd => Count::Length {
                    len,
                    header: digits + 1,
                },
                _ => Count::Absurd,
            }
        }
        Some(_) => Count::NotCounted,
    }
}

/// Where the next frame starts after a damaged header.
enum Scan {
    /// At `at`: a delimiter (LF or NUL, consumed with the bad frame) or a believable header.
    Found { at: usize, delimiter: bool },
    /// Whether a frame starts at this place depends on bytes not yet read.
    Undecided(usize),
    /// No frame starts in the places looked at.
    NotWithin,
}

/// The first place in `buf[1..=limit]` where a frame starts: LF, NUL, or `LEN SP <` with a
/// believable length after a byte that is not a digit. Place 0 is the damaged header itself.
/// The answer never depends on how the stream was cut into reads: a place is only passed over
/// once the bytes that decide it have arrived.
fn next_frame_start(buf: &[u8], limit: usize, absurd: usize) -> Scan {
    let mut at = 1;
    loop {
        if at > limit {
            return Scan::NotWithin;
        }
        let (Some(&prev), Some(&b)) = (buf.get(at - 1), buf.get(at)) else {
            return Scan::Undecided(at);
        };
        if b == b'\n' || b == 0 {
            return Scan::Found {
                at,
                delimiter: true,
            };
        }
        if (b'1'..=b'9').contains(&b) && !prev.is_ascii_digit() {
            let rest = buf.get(at..).unwrap_or_default();
            match header_at(rest, absurd) {
                Some(true) => {
                    return Scan::Found {
                        at,
                        delimiter: false,
                    };
                }
                None => return Scan::Undecided(at),
                Some(false) => {}
            }
        }
        at += 1;
    }
}

/// Whether `s` starts with `LEN SP <` and a believable length; `None` while undecided.
fn header_at(s: &[u8], absurd: usize) -> Option<bool> {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > MAX_COUNT_DIGITS {
        return Some(false);
    }
    match (s.get(digits), s.get(digits + 1)) {
        (None, _) => None,
        (Some(b' '), None) => None,
        (Some(b' '), Some(b'<')) => {
            let len = s
                .iter()
                .take(digits)
                .fold(0u64, |a, d| a * 10 + u64::from(d - b'0'));
            Some(usize::try_from(len).is_ok_and(|len| len <= absurd))
        }
        _ => Some(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes and collects frames (and how many resynced).
    fn run(input: &[u8], max: usize, step: usize) -> (Vec<(String, bool)>, usize) {
        let mut d = FrameDecoder::new(max);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut resynced = 0;
        let mut keep = |f: Frame| {
            resynced += usize::from(f.resynced);
            out.push((String::from_utf8_lossy(&f.bytes).into_owned(), f.truncated));
        };
        for piece in input.chunks(step.max(1)) {
            buf.extend_from_slice(piece);
            while let Some(f) = d.decode(&mut buf) {
                keep(f);
            }
        }
        if let Some(f) = d.finish(&mut buf) {
            keep(f);
        }
        (out, resynced)
    }

    fn plain(v: &[&str]) -> Vec<(String, bool)> {
        v.iter().map(|s| (s.to_string(), false)).collect()
    }

    #[test]
    fn mixed_framing_in_any_piece_size() {
        let input = b"11 <13>hello 1\n<13>line two\r\n<13>nul\x009 <13>x\ny\nz2001-11-08T15:26:31Z host: iso\nlast";
        for step in [1, 2, 3, 7, 64, 1000] {
            let (frames, resynced) = run(input, 1024, step);
            assert_eq!(resynced, 0);
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
            let (frames, resynced) = run(&input, 10, step);
            assert_eq!(resynced, 0);
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
    fn an_absurd_count_resynchronises_on_the_next_counted_frame() {
        // rsyslog's octet-counted frames follow each other with no delimiter between them.
        let input = b"9 <13>first199999999999 <13>bad header12 <13>after it7 <13>end";
        for step in [1, 2, 5, 64] {
            let (frames, resynced) = run(input, 100, step);
            assert_eq!(resynced, 1, "step {step}");
            assert_eq!(
                frames,
                plain(&[
                    "<13>first",
                    "199999999999 <13>bad header",
                    "<13>after it",
                    "<13>end"
                ]),
                "step {step}"
            );
        }
    }

    #[test]
    fn an_absurd_count_resynchronises_on_the_next_line() {
        // 4,000,000,000 fits the digits, but is far beyond 16 x the maximum: not believed.
        let input = b"<13>ok\n4000000000 <13>lost count\n<13>next line\n";
        for step in [1, 3, 100] {
            let (frames, resynced) = run(input, 100, step);
            assert_eq!(resynced, 1);
            assert_eq!(
                frames,
                plain(&["<13>ok", "4000000000 <13>lost count", "<13>next line"]),
                "step {step}"
            );
        }
    }

    #[test]
    fn a_long_run_after_an_absurd_count_is_cut_then_skipped_to_the_next_frame() {
        let mut input = b"99999999999 ".to_vec();
        input.extend_from_slice(&[b'z'; 300]);
        input.extend_from_slice(b" 123x 5 <13>a");
        for step in [1, 7, 1000] {
            let (frames, resynced) = run(&input, 20, step);
            assert_eq!(resynced, 1);
            assert_eq!(
                frames,
                vec![
                    (format!("99999999999 {}", "z".repeat(8)), true),
                    ("<13>a".to_string(), false)
                ],
                "step {step}"
            );
        }
    }

    #[test]
    fn a_believable_count_beyond_the_maximum_is_still_a_cut_message() {
        // 5,000 bytes against a maximum of 1,000: a real long message, cut, not a resync.
        let mut input = b"5000 <13>".to_vec();
        input.extend_from_slice(&[b'm'; 4996]);
        input.extend_from_slice(b"6 <13>ok");
        let (frames, resynced) = run(&input, 1000, 333);
        assert_eq!(resynced, 0);
        assert_eq!(frames.len(), 2);
        assert!(frames[0].1, "the long one is flagged cut");
        assert_eq!(frames[1], ("<13>ok".to_string(), false));
    }

    #[test]
    fn a_half_sent_counted_frame_is_kept_and_flagged() {
        let (frames, resynced) = run(b"20 <13>only part", 100, 3);
        assert_eq!(resynced, 0);
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
            while d.decode(&mut buf).is_some() {
                frames += 1;
            }
            assert!(buf.len() <= 64 + 100, "buffer grew to {}", buf.len());
        }
        assert_eq!(frames, 1, "one truncated frame, the rest skipped");
    }
}
