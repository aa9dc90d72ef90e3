//! Text from the network made safe to show: printable ASCII as it is, anything else as
//! `\xNN`, so that no control character reaches a terminal from a reply or a log line.

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
            out.push_str(&format!("\\x{c:02x}"));
        }
    }
    out
}
