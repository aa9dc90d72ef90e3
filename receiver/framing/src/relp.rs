//! RELP, the Reliable Event Logging Protocol of librelp and rsyslog (omrelp, imrelp): each
//! frame is `TXNR SP COMMAND SP DATALEN [SP DATA] LF`, with TXNR and DATALEN of at most nine
//! digits and COMMAND of 1 to 32 letters; a frame without data ends at its DATALEN `0` and LF.
//!
//! [`RelpDecoder`] is an explicit state machine over a buffer the caller fills, like
//! [`FrameDecoder`](crate::FrameDecoder). Data longer than the maximum is cut at the maximum
//! and the rest skipped without buffering it, so a sender cannot grow memory with a long
//! DATALEN, and a message too long to keep is still acknowledged (refusing it would make the
//! sender resend it forever). Any other deviation from the grammar is an error: a RELP stream
//! that lost its place cannot be resynchronised, so the connection is closed.
//! [`encode`] writes the server's frames (`rsp`, `serverclose`).

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// A RELP command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `open`: the client's offers.
    Open,
    /// `syslog`: one message.
    Syslog,
    /// `close`: the client ends the session.
    Close,
    /// `rsp`: a response (sent by servers; a client sending it is wrong).
    Rsp,
    /// `serverclose`: the server's hint that it goes away.
    ServerClose,
    /// Any other command name (letters only).
    Other(String),
}

impl Command {
    fn from_name(name: &[u8]) -> Command {
        match name {
            b"open" => Command::Open,
            b"syslog" => Command::Syslog,
            b"close" => Command::Close,
            b"rsp" => Command::Rsp,
            b"serverclose" => Command::ServerClose,
            other => Command::Other(String::from_utf8_lossy(other).into_owned()),
        }
    }
}

/// One decoded RELP frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelpFrame {
    /// Transaction number (0 to 999,999,999).
    pub txnr: u32,
    /// The command.
    pub command: Command,
    /// The data (at most the maximum; empty when DATALEN is 0).
    pub data: Bytes,
    /// True when DATALEN was larger than the maximum and the data was cut.
    pub truncated: bool,
}

/// A frame that breaks the grammar. The stream cannot go on: the connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelpError {
    /// The transaction number is missing, too long or not followed by a space.
    Txnr,
    /// The command is missing, too long, or has a character other than a letter.
    Command,
    /// DATALEN is missing, too long, or not followed by a space (or by LF when 0).
    DataLen,
    /// The byte after the data is not LF.
    Trailer,
}

impl std::fmt::Display for RelpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RelpError::Txnr => "bad RELP frame: transaction number",
            RelpError::Command => "bad RELP frame: command",
            RelpError::DataLen => "bad RELP frame: data length",
            RelpError::Trailer => "bad RELP frame: no LF after the data",
        })
    }
}

impl std::error::Error for RelpError {}

/// Most digits of TXNR and DATALEN.
const MAX_DIGITS: usize = 9;
/// Most letters of a command.
const MAX_COMMAND: usize = 32;
/// Longest header: TXNR SP COMMAND SP DATALEN and the byte after it.
const MAX_HEADER: usize = MAX_DIGITS + 1 + MAX_COMMAND + 1 + MAX_DIGITS + 1;
/// Largest transaction number; the next after it is 1.
pub const MAX_TXNR: u32 = 999_999_999;

/// The transaction number that follows `txnr` (librelp wraps after 999,999,999 to 1).
pub fn next_txnr(txnr: u32) -> u32 {
    if txnr >= MAX_TXNR { 1 } else { txnr + 1 }
}

/// Where the decoder is between calls.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// At the start of a frame.
    Header,
    /// After the header: `keep` data bytes to take, then `skip` to drop, then LF.
    Data {
        txnr: u32,
        command: Command,
        keep: usize,
        skip: usize,
    },
    /// Dropping the part of the data beyond the maximum; `kept` is what was taken.
    Skip {
        txnr: u32,
        command: Command,
        kept: Bytes,
        skip: usize,
    },
}

/// Decodes RELP frames; see the module docs.
#[derive(Debug)]
pub struct RelpDecoder {
    max: usize,
    state: State,
}

impl RelpDecoder {
    /// A decoder keeping at most `max` bytes of a frame's data.
    pub fn new(max: usize) -> RelpDecoder {
        RelpDecoder {
            max: max.max(1),
            state: State::Header,
        }
    }

    /// Decodes the next frame from `buf`, consuming what it used. `Ok(None)` means more
    /// bytes are needed; the decoder never needs more than the maximum plus a header buffered.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<RelpFrame>, RelpError> {
        loop {
            match std::mem::replace(&mut self.state, State::Header) {
                State::Header => match header(buf)? {
                    None => return Ok(None),
                    Some(h) => {
                        buf.advance(h.len);
                        if h.data_len == 0 {
                            return Ok(Some(RelpFrame {
                                txnr: h.txnr,
                                command: h.command,
                                data: Bytes::new(),
                                truncated: false,
                            }));
                        }
                        let keep = h.data_len.min(self.max);
                        self.state = State::Data {
                            txnr: h.txnr,
                            command: h.command,
                            keep,
                            skip: h.data_len - keep,
                        };
                    }
                },
                State::Data {
                    txnr,
                    command,
                    keep,
                    skip,
                } => {
                    // Whole data and its LF at once when nothing is skipped: the frame is
                    // handed out only once it is known to be well formed.
                    let need = if skip == 0 { keep + 1 } else { keep };
                    if buf.len() < need {
                        self.state = State::Data {
                            txnr,
                            command,
                            keep,
                            skip,
                        };
                        return Ok(None);
                    }
                    let kept = buf.split_to(keep).freeze();
                    if skip > 0 {
                        self.state = State::Skip {
                            txnr,
                            command,
                            kept,
                            skip,
                        };
                        continue;
                    }
                    return finish(buf, txnr, command, kept, false).map(Some);
                }
                State::Skip {
                    txnr,
                    command,
                    kept,
                    skip,
                } => {
                    let take = skip.min(buf.len());
                    buf.advance(take);
                    if take < skip || buf.is_empty() {
                        self.state = State::Skip {
                            txnr,
                            command,
                            kept,
                            skip: skip - take,
                        };
                        return Ok(None);
                    }
                    return finish(buf, txnr, command, kept, true).map(Some);
                }
            }
        }
    }

    /// True between frames (nothing of a frame has been consumed).
    pub fn at_frame_start(&self) -> bool {
        self.state == State::Header
    }
}

/// Checks the LF after the data (the buffer holds at least one byte) and builds the frame.
fn finish(
    buf: &mut BytesMut,
    txnr: u32,
    command: Command,
    data: Bytes,
    truncated: bool,
) -> Result<RelpFrame, RelpError> {
    if buf.first() != Some(&b'\n') {
        return Err(RelpError::Trailer);
    }
    buf.advance(1);
    Ok(RelpFrame {
        txnr,
        command,
        data,
        truncated,
    })
}

struct Header {
    txnr: u32,
    command: Command,
    data_len: usize,
    /// Bytes the header takes, with the SP before the data (or the LF of an empty frame).
    len: usize,
}

/// Reads a header from the start of `buf`: `Ok(None)` while it is incomplete.
fn header(buf: &[u8]) -> Result<Option<Header>, RelpError> {
    let head = buf.get(..buf.len().min(MAX_HEADER)).unwrap_or_default();
    let mut at = 0;
    let Some(txnr) = number(head, &mut at, RelpError::Txnr)? else {
        return Ok(None);
    };
    let start = at;
    while let Some(&c) = head.get(at) {
        if !c.is_ascii_alphabetic() {
            break;
        }
        at += 1;
        if at - start > MAX_COMMAND {
            return Err(RelpError::Command);
        }
    }
    match head.get(at) {
        None => return Ok(None),
        Some(b' ') if at > start => {}
        Some(_) => return Err(RelpError::Command),
    }
    let command = Command::from_name(head.get(start..at).unwrap_or_default());
    at += 1;
    let Some(data_len) = number(head, &mut at, RelpError::DataLen)? else {
        return Ok(None);
    };
    match (data_len, head.get(at - 1)) {
        // `number` stopped at the byte after the digits: SP before data, LF for no data.
        (0, Some(b'\n')) | (1.., Some(b' ')) => {}
        _ => return Err(RelpError::DataLen),
    }
    Ok(Some(Header {
        txnr: u32::try_from(txnr).map_err(|_| RelpError::Txnr)?,
        command,
        data_len,
        len: at,
    }))
}

/// Reads 1 to 9 digits at `*at` and the byte after them (consumed, left for the caller to
/// check, except that a transaction number must be followed by SP). `Ok(None)`: more bytes
/// needed.
fn number(head: &[u8], at: &mut usize, err: RelpError) -> Result<Option<usize>, RelpError> {
    let start = *at;
    let mut n = 0usize;
    loop {
        match head.get(*at) {
            None => return Ok(None),
            Some(c) if c.is_ascii_digit() => {
                if *at - start == MAX_DIGITS {
                    return Err(err);
                }
                n = n * 10 + usize::from(c - b'0');
                *at += 1;
            }
            Some(&c) => {
                if *at == start {
                    return Err(err);
                }
                if err == RelpError::Txnr && c != b' ' {
                    return Err(err);
                }
                if err == RelpError::DataLen && c != b' ' && c != b'\n' {
                    return Err(err);
                }
                *at += 1;
                return Ok(Some(n));
            }
        }
    }
}

/// Appends one frame: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`.
pub fn encode(txnr: u32, command: &str, data: &[u8], out: &mut BytesMut) {
    out.reserve(data.len() + 32);
    out.put_slice(txnr.to_string().as_bytes());
    out.put_u8(b' ');
    out.put_slice(command.as_bytes());
    out.put_u8(b' ');
    out.put_slice(data.len().to_string().as_bytes());
    if !data.is_empty() {
        out.put_u8(b' ');
        out.put_slice(data);
    }
    out.put_u8(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoded frame as (txnr, command, data, truncated).
    type Seen = (u32, Command, String, bool);

    /// Feeds `input` in pieces of `step` bytes: the frames as (txnr, command, data,
    /// truncated), and the error that stopped it, if any.
    fn run(input: &[u8], max: usize, step: usize) -> (Vec<Seen>, Option<RelpError>) {
        let mut d = RelpDecoder::new(max);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in input.chunks(step.max(1)) {
            buf.extend_from_slice(piece);
            loop {
                match d.decode(&mut buf) {
                    Ok(Some(f)) => out.push((
                        f.txnr,
                        f.command,
                        String::from_utf8_lossy(&f.data).into_owned(),
                        f.truncated,
                    )),
                    Ok(None) => break,
                    Err(e) => return (out, Some(e)),
                }
            }
        }
        (out, None)
    }

    #[test]
    fn an_omrelp_session_in_any_piece_size() {
        let input = b"1 open 86 relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n\
2 syslog 11 <13>hello 1\n\
3 syslog 16 <13>two\nlines ok\n\
4 close 0\n";
        for step in [1, 2, 3, 7, 64, 1000] {
            let (frames, err) = run(input, 1024, step);
            assert_eq!(err, None, "step {step}");
            assert_eq!(
                frames,
                vec![
                    (
                        1,
                        Command::Open,
                        "relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog".into(),
                        false
                    ),
                    (2, Command::Syslog, "<13>hello 1".into(), false),
                    (3, Command::Syslog, "<13>two\nlines ok".into(), false),
                    (4, Command::Close, String::new(), false),
                ],
                "step {step}"
            );
        }
    }

    #[test]
    fn long_data_is_cut_and_the_stream_keeps_its_place() {
        let mut input = b"7 syslog 30 ".to_vec();
        input.extend_from_slice(&[b'a'; 30]);
        input.extend_from_slice(b"\n8 syslog 2 ok\n");
        for step in [1, 5, 100] {
            let (frames, err) = run(&input, 10, step);
            assert_eq!(err, None);
            assert_eq!(
                frames,
                vec![
                    (7, Command::Syslog, "a".repeat(10), true),
                    (8, Command::Syslog, "ok".into(), false)
                ],
                "step {step}"
            );
        }
    }

    #[test]
    fn grammar_errors_close_the_stream() {
        let cases: &[(&[u8], RelpError)] = &[
            (b"x syslog 1 a\n", RelpError::Txnr),
            (b"1234567890 syslog 1 a\n", RelpError::Txnr),
            (b"1\tsyslog 1 a\n", RelpError::Txnr),
            (b"1  1 a\n", RelpError::Command),
            (b"1 sys-log 1 a\n", RelpError::Command),
            (
                b"1 abcdefghijklmnopqrstuvwxyzabcdefg 1 a\n",
                RelpError::Command,
            ),
            (b"1 syslog x\n", RelpError::DataLen),
            (b"1 syslog 1234567890 a\n", RelpError::DataLen),
            (b"1 syslog 0 \n", RelpError::DataLen),
            (b"1 syslog 3\nabc\n", RelpError::DataLen),
            (b"1 syslog 1 ab\n", RelpError::Trailer),
        ];
        for (input, want) in cases {
            for step in [1, 3, 100] {
                let (frames, err) = run(input, 100, step);
                assert!(frames.is_empty(), "{:?}", String::from_utf8_lossy(input));
                assert_eq!(err, Some(*want), "{:?}", String::from_utf8_lossy(input));
            }
        }
    }

    #[test]
    fn other_commands_and_numbers_at_the_limits() {
        let (frames, err) = run(b"999999999 starttls 0\n0 serverclose 0\n", 100, 4);
        assert_eq!(err, None);
        assert_eq!(
            frames,
            vec![
                (
                    MAX_TXNR,
                    Command::Other("starttls".into()),
                    String::new(),
                    false
                ),
                (0, Command::ServerClose, String::new(), false)
            ]
        );
        assert_eq!(next_txnr(MAX_TXNR), 1);
        assert_eq!(next_txnr(1), 2);
    }

    #[test]
    fn encoded_frames_decode_back() {
        let mut out = BytesMut::new();
        encode(5, "rsp", b"200 OK", &mut out);
        encode(0, "serverclose", b"", &mut out);
        assert_eq!(&out[..], b"5 rsp 6 200 OK\n0 serverclose 0\n");
        let (frames, err) = run(&out, 100, 1);
        assert_eq!(err, None);
        assert_eq!(frames.len(), 2);
    }

    #[test]
    fn memory_stays_bounded_on_a_huge_data_length() {
        let mut d = RelpDecoder::new(64);
        let mut buf = BytesMut::from(&b"1 syslog 999999999 "[..]);
        let mut frames = 0;
        for _ in 0..10_000 {
            buf.extend_from_slice(&[b'x'; 100]);
            while let Ok(Some(_)) = d.decode(&mut buf) {
                frames += 1;
            }
            assert!(buf.len() <= 64 + 100, "buffer grew to {}", buf.len());
        }
        assert_eq!(frames, 0);
        assert!(!d.at_frame_start());
    }
}
