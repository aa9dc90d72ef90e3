//! Text from the network made safe to show: printable ASCII as it is, anything else as
//! `\xNN`, so that no control character reaches a terminal from a reply or a log line.

use std::fmt::Write;

/// Bytes from the network as text that is safe on a terminal: printable ASCII as it is,
/// anything else as `\xNN`.
pub fn safe_text(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for &c in b {
        if (0x20..0x7f).contains(&c) && c != b'\\' {
            out.push(char::from(c));
        } else if c == b'\\' {
            out.push_str("\\\\");
        } else {
            let _ = write!(out, "\\x{c:02x}");
        }
    }
    out
}

/// Text already decoded (from a JSON reply) with its control characters written `\xNN`.
pub fn safe_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}
