//! The JSON writer of picket-parsers as it was before the speed work of issue 13 (commit
//! 59f4fd9), kept verbatim (but for paths) as the reference the fast writer must match byte
//! for byte (`tests/json_identical.rs`) and the baseline of `benches/json.rs`.
//!
//! Strings are escaped so that no control character reaches a terminal: C0, DEL and C1 controls
//! become `\u00XX`. Bytes that are not UTF-8 are kept as the four characters `\xNN`, so the
//! original line can be told byte for byte from the output.

use std::net::IpAddr;

use picket_parsers::{Action, Event, Timestamp};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes that go into a JSON string as they are: printable ASCII but `"` and `\`.
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        t[b] = b != b'"' as usize && b != b'\\' as usize;
        b += 1;
    }
    t
};

/// Writes `s` as a JSON string (with quotes), escaping as described in the module docs.
fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if PLAIN.get(usize::from(b)) == Some(&true) {
            i += 1;
            continue;
        }
        out.extend_from_slice(s.get(start..i).unwrap_or_default());
        i += escape_at(out, s, i);
        start = i;
    }
    out.extend_from_slice(s.get(start..).unwrap_or_default());
    out.push(b'"');
}

/// Escapes the character starting at `s[i]` (not plain ASCII); returns how many bytes it used.
fn escape_at(out: &mut Vec<u8>, s: &[u8], i: usize) -> usize {
    let b = s.get(i).copied().unwrap_or(0);
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0..=0x7f => push_u_escape(out, b),
        _ => {
            let width = match b {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                _ => 0,
            };
            let ch = s
                .get(i..i + width)
                .filter(|_| width > 0)
                .and_then(|c| std::str::from_utf8(c).ok());
            match ch {
                // C1 controls (U+0080..U+009F) act on terminals too.
                Some(_) if b == 0xC2 && s.get(i + 1).is_some_and(|n| *n <= 0x9F) => {
                    push_u_escape(out, s.get(i + 1).copied().unwrap_or(0));
                }
                Some(c) => out.extend_from_slice(c.as_bytes()),
                None => {
                    out.extend_from_slice(b"\\\\x");
                    out.extend_from_slice(&hex_pair(b));
                    return 1;
                }
            }
            return width;
        }
    }
    1
}

/// The two lower-case hex digits of `b`.
fn hex_pair(b: u8) -> [u8; 2] {
    let digit = |n: u8| HEX.get(usize::from(n & 15)).copied().unwrap_or(b'0');
    [digit(b >> 4), digit(b)]
}

fn push_u_escape(out: &mut Vec<u8>, c: u8) {
    out.extend_from_slice(b"\\u00");
    out.extend_from_slice(&hex_pair(c));
}

/// Appends a decimal number.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    loop {
        pos -= 1;
        if let Some(slot) = buf.get_mut(pos) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || pos == 0 {
            break;
        }
    }
    out.extend_from_slice(buf.get(pos..).unwrap_or_default());
}

fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (k, o) in v4.octets().into_iter().enumerate() {
                if k > 0 {
                    out.push(b'.');
                }
                push_u64(out, u64::from(o));
            }
        }
        IpAddr::V6(v6) => {
            use std::io::Write;
            let _ = write!(out, "{v6}");
        }
    }
}

/// A JSON object being written; nested objects that end up empty are removed again.
struct Obj<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl Obj<'_> {
    fn key(&mut self, k: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn str(&mut self, k: &str, v: Option<&[u8]>) {
        if let Some(v) = v {
            self.key(k);
            write_str(self.out, v);
        }
    }

    fn num(&mut self, k: &str, v: Option<u64>) {
        if let Some(v) = v {
            self.key(k);
            push_u64(self.out, v);
        }
    }

    fn ip(&mut self, k: &str, v: Option<IpAddr>) {
        if let Some(v) = v {
            self.key(k);
            self.out.push(b'"');
            push_ip(self.out, v);
            self.out.push(b'"');
        }
    }

    fn time(&mut self, k: &str, v: Option<Timestamp>) {
        if let Some(v) = v {
            self.key(k);
            self.out.push(b'"');
            v.write_rfc3339(self.out);
            self.out.push(b'"');
        }
    }

    fn object(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) {
        let mark = self.out.len();
        let was_empty = self.empty;
        self.key(k);
        self.out.push(b'{');
        let mut inner = Obj {
            out: self.out,
            empty: true,
        };
        f(&mut inner);
        if inner.empty {
            self.out.truncate(mark);
            self.empty = was_empty;
        } else {
            self.out.push(b'}');
        }
    }
}

/// Appends the event as one JSON object (no trailing newline), as picket 59f4fd9 did.
pub fn write_event(out: &mut Vec<u8>, ev: &Event<'_>) {
    let h = &ev.header;
    let d = &ev.details;
    out.push(b'{');
    let mut o = Obj { out, empty: true };
    o.time("@timestamp", h.timestamp.or(ev.received));
    o.object("event", |e| {
        e.time("received", ev.received);
        e.str("dataset", Some(ev.dataset.as_str().as_bytes()));
        e.str("action", d.action.map(|a| a.as_str().as_bytes()));
        let kind: &[u8] = if matches!(d.action, Some(Action::IdsAlert | Action::PortScan)) {
            b"alert"
        } else {
            b"event"
        };
        e.str("kind", Some(kind));
        e.str(
            "outcome",
            d.action.and_then(Action::outcome).map(str::as_bytes),
        );
        e.num(
            "severity",
            d.priority.map(u64::from).or(h.severity().map(u64::from)),
        );
        e.str("code", d.code);
        e.num("repeat_count", h.repeat.map(u64::from));
        e.str("original", Some(ev.original));
    });
    o.str("message", Some(h.message));
    o.object("host", |x| x.str("hostname", h.hostname));
    o.object("process", |x| {
        x.str("name", h.appname);
        x.num("pid", h.pid().map(u64::from));
    });
    for (key, ep) in [("source", &d.source), ("destination", &d.destination)] {
        o.object(key, |x| {
            x.ip("ip", ep.ip);
            x.num("port", ep.port.map(u64::from));
            x.str("domain", ep.domain);
        });
    }
    o.object("network", |x| {
        x.str("transport", d.transport.map(|t| t.name()))
    });
    o.object("rule", |x| {
        x.str("id", d.rule.id);
        x.str("name", d.rule.name);
        x.str("category", d.rule.category);
    });
    if ev.truncated {
        o.key("tags");
        o.out.extend_from_slice(b"[\"truncated\"]");
    }
    o.object("user", |x| x.str("name", d.user));
    o.object("service", |x| x.str("name", d.service));
    o.object("log", |x| {
        x.object("syslog", |s| {
            s.object("facility", |f| f.num("code", h.facility().map(u64::from)));
            s.object("severity", |f| f.num("code", h.severity().map(u64::from)));
            s.num("version", h.version.map(u64::from));
            s.str("appname", h.appname);
            s.str("procid", h.procid);
            s.str("msgid", h.msgid);
            s.str("structured_data", h.structured_data);
            s.num("sequence", h.sequence.map(u64::from));
        });
    });
    out.push(b'}');
}
