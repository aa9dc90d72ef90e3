//! RFC 5424 headers: `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]`,
//! with `-` as NILVALUE for any field, structured data with `\"`, `\\` and `\]` escapes, and an
//! optional UTF-8 BOM before the message. Runs of spaces between fields are tolerated.

use super::{Header, timestamp};
use crate::context::ParseContext;
use crate::lex::{Input, skip_spaces, split_word};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `VERSION SP`: one or two digits, not zero, then spaces. Read by hand because every RFC 3164
/// line is tried here first and fails on its first byte.
fn version(i: Input<'_>) -> Option<(Input<'_>, u8)> {
    let (n, v) = match i {
        [a @ b'0'..=b'9', b @ b'0'..=b'9', ..] => (2, (a - b'0') * 10 + (b - b'0')),
        [a @ b'0'..=b'9', ..] => (1, a - b'0'),
        _ => return None,
    };
    let rest = i.get(n..)?;
    let sp = rest
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    if v == 0 || sp == 0 {
        return None;
    }
    Some((rest.get(sp..)?, v))
}

fn field(i: &[u8]) -> (Option<&[u8]>, &[u8]) {
    let (w, rest) = split_word(skip_spaces(i));
    let value = if w == b"-" || w.is_empty() {
        None
    } else {
        Some(w)
    };
    (value, rest)
}

/// The length of the structured-data part at the start of `i` (one or more `[...]` elements).
/// An unterminated element runs to the end of the input.
fn structured_data_len(i: &[u8]) -> usize {
    let mut pos = 0;
    while i.get(pos) == Some(&b'[') {
        let mut in_quote = false;
        let mut escaped = false;
        let mut end = None;
        for (k, &b) in i.iter().enumerate().skip(pos + 1) {
            if escaped {
                escaped = false;
            } else if in_quote && b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_quote = !in_quote;
            } else if b == b']' && !in_quote {
                end = Some(k);
                break;
            }
        }
        match end {
            Some(k) => pos = k + 1,
            None => return i.len(),
        }
    }
    pos
}

/// Parses the part after PRI if it is an RFC 5424 header; `None` leaves the line to RFC 3164.
pub fn parse_into<'a>(i: &'a [u8], ctx: &ParseContext, h: &mut Header<'a>) -> bool {
    // Every RFC 3164 line fails here, on its version: before anything is written, so that
    // there is nothing to undo.
    let Some((rest, ver)) = version(i) else {
        return false;
    };
    let pri = h.pri;
    if fill(rest, ver, ctx, h).is_some() {
        return true;
    }
    // Not RFC 5424 after all: leave nothing half-read for the RFC 3164 reader.
    *h = Header::bare(i);
    h.pri = pri;
    false
}

fn fill<'a>(rest: &'a [u8], ver: u8, ctx: &ParseContext, h: &mut Header<'a>) -> Option<()> {
    h.version = Some(ver);
    let rest = if let Some(r) = rest.strip_prefix(b"-") {
        r
    } else {
        let (r, t) = timestamp::iso_fast(rest).ok()?;
        h.timestamp = Some(ctx.resolve(&t));
        r
    };
    if !(rest.is_empty() || rest.starts_with(b" ")) {
        return None;
    }
    let (hostname, rest) = field(rest);
    let (appname, rest) = field(rest);
    let (procid, rest) = field(rest);
    let (msgid, rest) = field(rest);
    h.hostname = hostname;
    h.appname = appname;
    h.procid = procid;
    h.msgid = msgid;
    let rest = skip_spaces(rest);
    let rest = if let Some(r) = rest.strip_prefix(b"-") {
        r
    } else if rest.starts_with(b"[") {
        let n = structured_data_len(rest);
        h.structured_data = rest.get(..n);
        rest.get(n..).unwrap_or_default()
    } else {
        rest
    };
    // rsyslog's RFC 5424 template on a BSD-format message leaves a second space before the
    // text; spaces before the message carry nothing.
    let msg = skip_spaces(rest);
    let msg = msg.strip_prefix(BOM).unwrap_or(msg);
    h.message = msg;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_before_the_message_are_not_part_of_it() {
        // rsyslog's RFC 5424 template applied to a BSD-format message.
        let ctx = ParseContext::new(1_795_392_000);
        let h = super::super::parse(
            b"<38>1 2026-11-08T15:26:31Z gw sshd 4 - -  Failed password",
            &ctx,
        );
        assert_eq!(h.message, b"Failed password");
        assert_eq!(h.appname, Some(&b"sshd"[..]));
    }

    #[test]
    fn structured_data_with_escapes() {
        let sd = br#"[a@1 x="q\"]" y="\\"][b@2] msg"#;
        let n = structured_data_len(sd);
        assert_eq!(&sd[n..], b" msg");
        assert_eq!(structured_data_len(b"[unterminated x=\"]"), 18);
        assert_eq!(structured_data_len(b"no"), 0);
    }
}
