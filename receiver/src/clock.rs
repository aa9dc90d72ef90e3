//! The wall clock, read in one place: receive times are Unix nanoseconds from here.

/// Now, Unix nanoseconds (0 if the clock is before 1970).
pub fn now_ns() -> u64 {
    u64::try_from(picket_parsers::Timestamp::now().as_nanos()).unwrap_or(0)
}
