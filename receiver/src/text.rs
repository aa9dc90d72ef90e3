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

/// Text already decoded (from a JSON reply) with its control characters written `\xNN` and
/// the invisible characters that reorder or hide text written `\u{NNNN}`.
pub fn safe_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else if is_invisible_format(c) {
            let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters a terminal does not show but that change what is shown: the bidirectional
/// embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069: "Trojan Source"), the
/// direction marks, zero-width characters, line and paragraph separators and the BOM.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reordering_and_invisible_characters_are_escaped() {
        let shown = safe_str("user \u{202e}nimda\u{202c} from \u{2066}x\u{2069} é\u{200b}\x1b[2J");
        assert_eq!(
            shown,
            "user \\u{202e}nimda\\u{202c} from \\u{2066}x\\u{2069} é\\u{200b}\\x1b[2J"
        );
        for c in [
            '\u{202a}', '\u{202b}', '\u{202d}', '\u{2067}', '\u{2068}', '\u{200f}',
        ] {
            assert!(!safe_str(&c.to_string()).contains(c));
        }
    }
}
