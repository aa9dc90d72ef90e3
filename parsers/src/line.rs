//! The full line parser: header, then the family that claims the message.

use crate::event::Event;
use crate::families;
use crate::header;

/// What parsing needs to know beyond the line itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseContext {
    /// Unix seconds that year-less stamps are resolved against (the receive time, or a file's
    /// modification time).
    pub reference: i64,
    /// Offset east of UTC, in seconds, for stamps that name no zone.
    pub default_offset: i32,
}

impl ParseContext {
    /// A context for lines seen at `reference` (Unix seconds), zone-less stamps taken as UTC.
    pub fn new(reference: i64) -> ParseContext {
        ParseContext {
            reference,
            default_offset: 0,
        }
    }
}

/// Parses one line (without its terminator). Never fails: a line no family claims comes back
/// with dataset `syslog`, and `original` is always the whole input.
pub fn parse_line<'a>(line: &'a [u8], ctx: &ParseContext) -> Event<'a> {
    let header = header::parse(line, ctx);
    let (dataset, details) = families::classify(&header);
    Event {
        original: line,
        header,
        dataset,
        details,
        received: None,
    }
}
