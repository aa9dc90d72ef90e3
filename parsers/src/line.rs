//! The full line parser: header, then the family that claims the message.

use crate::context::ParseContext;
use crate::event::{Dataset, Details, Event};
use crate::families;
use crate::header;
use crate::header::Header;

/// Parses one line (without its terminator). Never fails: a line no family claims comes back
/// with dataset `syslog`, and `original` is always the whole input.
pub fn parse_line<'a>(line: &'a [u8], ctx: &ParseContext) -> Event<'a> {
    // Built in place: the header and details are a few hundred bytes, and copying them from
    // return values cost more per line than some whole family parsers.
    let mut ev = Event {
        original: line,
        header: Header::bare(line),
        dataset: Dataset::Syslog,
        details: Details::default(),
        received: None,
        truncated: false,
    };
    header::parse_into(line, ctx, &mut ev.header);
    ev.dataset = families::classify(&ev.header, &mut ev.details);
    ev
}
