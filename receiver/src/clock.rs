//! The wall clock, read in one place (receive times are Unix nanoseconds from here), and
//! those times written as RFC 3339 text for replies.

/// Now, Unix nanoseconds (0 if the clock is before 1970).
pub fn now_ns() -> u64 {
    u64::try_from(picket_parsers::Timestamp::now().as_nanos()).unwrap_or(0)
}

/// RFC 3339 text of a Unix-nanosecond time, for replies.
pub fn rfc3339(ns: u64) -> String {
    let ts = picket_parsers::Timestamp {
        secs: i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX),
        nanos: u32::try_from(ns % 1_000_000_000).unwrap_or(0),
    };
    let mut out = Vec::new();
    ts.write_rfc3339(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}
