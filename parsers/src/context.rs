//! What parsing needs to know beyond the line: the reference time and the default zone.
//!
//! Below the header code that uses it and the line parser that passes it down
//! (`header -> context`, `line -> context`), so that no module of the crate depends on one
//! above it.

use crate::time::{CivilTime, Timestamp};

/// What parsing needs to know beyond the line itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseContext {
    /// Unix seconds that year-less stamps are resolved against (the receive time, or a file's
    /// modification time).
    reference: i64,
    /// Offset east of UTC, in seconds, for stamps that name no zone.
    default_offset: i32,
    /// The reference's calendar year and the day numbers of its months' first days, worked
    /// out once: year-less stamps need them on every line.
    reference_year: i64,
    month_starts: [i64; 12],
}

impl ParseContext {
    /// A context for lines seen at `reference` (Unix seconds), zone-less stamps taken as UTC.
    pub fn new(reference: i64) -> ParseContext {
        let reference_year = crate::time::year_of(reference);
        ParseContext {
            reference,
            default_offset: 0,
            reference_year,
            month_starts: crate::time::month_starts(reference_year),
        }
    }

    /// The same context with zone-less stamps read at `offset` seconds east of UTC.
    pub fn with_offset(self, offset: i32) -> ParseContext {
        ParseContext {
            default_offset: offset,
            ..self
        }
    }

    /// Settles the year and zone of a stamp read from a line.
    pub fn resolve(&self, t: &CivilTime) -> Timestamp {
        t.resolve_in(
            self.reference,
            self.reference_year,
            &self.month_starts,
            self.default_offset,
        )
    }
}
