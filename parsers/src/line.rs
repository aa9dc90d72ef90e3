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
    let mut ev = bare(line);
    fill(line, ctx, &mut ev);
    ev
}

/// Parses one line into `ev`, replacing all it held: [`parse_line`] for a loop over many lines.
/// Returning the event costs a copy of its 400 bytes into the caller's place (the compiler
/// cannot build it there, because the header and family parsers write into it through
/// references): 222 against 210 ns a mixed line in `parse_loop` (bench/README.md, session 15).
pub fn parse_line_into<'a>(line: &'a [u8], ctx: &ParseContext, ev: &mut Event<'a>) {
    *ev = bare(line);
    fill(line, ctx, ev);
}

/// The parse itself, into an event [`bare`] made of `line`: the header, then its family.
#[inline(always)]
fn fill<'a>(line: &'a [u8], ctx: &ParseContext, ev: &mut Event<'a>) {
    header::parse_into(line, ctx, &mut ev.header);
    ev.dataset = families::classify(&ev.header, &mut ev.details);
}

/// The event of a line before parsing: all of it message, claimed by no family.
#[inline(always)]
fn bare(line: &[u8]) -> Event<'_> {
    Event {
        original: line,
        header: Header::bare(line),
        dataset: Dataset::Syslog,
        details: Details::default(),
        received: None,
        truncated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_into_a_used_event_leaves_nothing_of_the_line_before() {
        let ctx = ParseContext::new(1_005_300_000);
        let snort = b"<33>Nov  8 15:26:31 ids snort[1234]: [1:1390:5] SHELLCODE x86 inc ebx NOOP [Classification: Executable code was detected] [Priority: 1]: {TCP} 192.0.2.7:1025 -> 10.0.0.5:80".as_slice();
        let plain = b"<13>Nov  8 15:26:32 host cron[77]: (root) CMD (run-parts /etc/cron.hourly)"
            .as_slice();
        let mut ev = parse_line(snort, &ctx);
        assert_eq!(ev.dataset, Dataset::Snort);
        ev.truncated = true;
        ev.received = Some(crate::time::Timestamp { secs: 1, nanos: 0 });
        for line in [plain, snort, plain] {
            parse_line_into(line, &ctx, &mut ev);
            assert_eq!(ev, parse_line(line, &ctx));
        }
        assert_eq!(ev.dataset, Dataset::Syslog);
        assert_eq!(ev.details, Details::default());
    }
}
