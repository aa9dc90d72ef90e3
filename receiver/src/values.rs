//! Value readers shared by the command line, the configuration file and the query protocol:
//! durations (`90d`), sizes (`10G`), UTC offsets (`+01:00`) and times (RFC 3339 or an age).
//! One reader per kind, so a value means the same thing wherever a user writes it.

use std::time::Duration;

/// Splits `s` where its leading digits end.
fn digits_and_unit(s: &str) -> (&str, &str) {
    s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()))
}

/// Reads `90d`, `12h`, `30m`, `45s`, `2w` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration (try 90d, 12h, 30m or 3600s)");
    let (num, unit) = digits_and_unit(s);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(secs).map(Duration::from_secs).ok_or_else(bad)
}

/// Reads `10G`, `500M`, `64K` (powers of 1024) or plain bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || format!("{s:?} is not a size (try 10G, 500M, 64K or a number of bytes)");
    let (num, unit) = digits_and_unit(s);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult: u64 = match unit.to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).ok_or_else(bad)
}

/// Reads `Z`, `UTC`, `+hh:mm`, `+hhmm` or `+hh` into seconds east of UTC.
pub fn parse_offset(s: &str) -> Result<i32, String> {
    let bad = || format!("{s:?} is not a UTC offset (try Z, +01:00 or -0500)");
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    let (sign, rest) = if let Some(r) = s.strip_prefix('+') {
        (1, r)
    } else if let Some(r) = s.strip_prefix('-') {
        (-1, r)
    } else {
        return Err(bad());
    };
    let digits: Vec<i32> = rest
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_digit(10).and_then(|d| i32::try_from(d).ok()))
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    let (h, m) = match digits.as_slice() {
        [h1, h2] => (h1 * 10 + h2, 0),
        [h1, h2, m1, m2] => (h1 * 10 + h2, m1 * 10 + m2),
        _ => return Err(bad()),
    };
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(sign * (h * 3600 + m * 60))
}

/// Reads a time: RFC 3339 (`2026-11-23T10:00:00Z`) or an age before `now_ns` (`90m`, `2h`,
/// `7d`); Unix nanoseconds.
pub fn parse_time(s: &str, now_ns: u64) -> Result<u64, String> {
    if let Ok(d) = parse_duration(s) {
        let ago = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        return Ok(now_ns.saturating_sub(ago));
    }
    match picket_parsers::iso_timestamp(s.as_bytes()) {
        Ok((b"", t)) => {
            let ts = t.resolve(0, 0);
            u64::try_from(ts.as_nanos()).map_err(|_| format!("{s:?} is before 1970"))
        }
        _ => Err(format!(
            "{s:?} is not a time (try 2026-11-23T10:00:00Z or 2h)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_sizes_offsets() {
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_duration("3600"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("1y").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        assert!(parse_duration("5 years").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(parse_size("500MiB"), Ok(500 << 20));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(parse_size("10G"), Ok(10 << 30));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert!(parse_size("big").is_err());
        assert_eq!(parse_offset("Z"), Ok(0));
        assert_eq!(parse_offset("+01:00"), Ok(3600));
        assert_eq!(parse_offset("-0530"), Ok(-(5 * 3600 + 30 * 60)));
        assert_eq!(parse_offset("+02"), Ok(7200));
        for bad in [
            "", "+", "+1", "+123", "+24:00", "+01:60", "01:00", "+٣٣", "-é",
        ] {
            assert!(parse_offset(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn times() {
        let now = 2_000_000_000_000_000_000;
        assert_eq!(parse_time("2h", now), Ok(now - 7_200_000_000_000));
        assert_eq!(
            parse_time("2026-11-23T10:00:00Z", now),
            Ok(1_795_428_000_000_000_000)
        );
        assert!(parse_time("yesterday", now).is_err());
    }
}
