//! Times as notices write them: RFC 5322 `Date:` values, RFC 3339 for X-ARF, and the
//! `2026-12-02 03:48:28 +0000` form of the notice body, always with the zone stated.

/// Civil date and time of `secs` after the epoch: (year, month, day, hour, minute, second,
/// weekday 0 = Sunday).
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    let wd = (days + 4).rem_euclid(7) as u32;
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
        wd,
    )
}

fn secs(ns: i64) -> i64 {
    ns.div_euclid(1_000_000_000)
}

/// `+0100`, `-0530`, `+0000`.
fn offset_hhmm(offset_secs: i32) -> String {
    let sign = if offset_secs < 0 { '-' } else { '+' };
    let a = offset_secs.unsigned_abs();
    format!("{sign}{:02}{:02}", a / 3600, a % 3600 / 60)
}

/// The zone as the body names it: `UTC` or `UTC+01:00`.
pub fn zone_name(offset_secs: i32) -> String {
    if offset_secs == 0 {
        return "UTC".into();
    }
    let sign = if offset_secs < 0 { '-' } else { '+' };
    let a = offset_secs.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

/// An RFC 5322 date: `Wed, 02 Dec 2026 03:48:28 +0000`.
pub fn rfc5322(ns: i64, offset_secs: i32) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d, hh, mm, ss, wd) = civil(secs(ns) + i64::from(offset_secs));
    format!(
        "{}, {d:02} {} {y} {hh:02}:{mm:02}:{ss:02} {}",
        DAYS.get(wd as usize).unwrap_or(&"Sun"),
        MONTHS.get(m.saturating_sub(1) as usize).unwrap_or(&"Jan"),
        offset_hhmm(offset_secs)
    )
}

/// The body's form: `2026-12-02 04:48:28 +0100`.
pub fn local(ns: i64, offset_secs: i32) -> String {
    let (y, m, d, hh, mm, ss, _) = civil(secs(ns) + i64::from(offset_secs));
    format!(
        "{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02} {}",
        offset_hhmm(offset_secs)
    )
}

/// RFC 3339 in UTC: `2026-12-02T03:48:28Z`.
pub fn rfc3339(ns: i64) -> String {
    let (y, m, d, hh, mm, ss, _) = civil(secs(ns));
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

/// The month of `ns` in UTC: `2026-12` (for the monthly report table).
pub fn month(ns: i64) -> String {
    let (y, m, ..) = civil(secs(ns));
    format!("{y:04}-{m:02}")
}

/// Parses an RFC 5322 date (`Wed, 2 Dec 2026 03:48:28 +0000`, the weekday optional, obsolete
/// zone names UT/GMT/EST… read) into Unix ns. None when it is not one.
pub fn parse_rfc5322(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = match s.split_once(',') {
        Some((_, rest)) => rest.trim(),
        None => s,
    };
    let mut it = s.split_ascii_whitespace();
    let day: u32 = it.next()?.parse().ok()?;
    let mon = it.next()?.to_ascii_lowercase();
    let month = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| mon.starts_with(m))? as u32
        + 1;
    let mut year: i64 = it.next()?.parse().ok()?;
    if year < 50 {
        year += 2000;
    } else if year < 1000 {
        year += 1900;
    }
    let mut hms = it.next()?.split(':');
    let hh: i64 = hms.next()?.parse().ok()?;
    let mm: i64 = hms.next()?.parse().ok()?;
    let ss: i64 = hms.next().map_or(Some(0), |v| v.parse().ok())?;
    let zone = it.next().unwrap_or("+0000");
    let off: i64 = match zone.as_bytes().first() {
        Some(b'+' | b'-') if zone.len() == 5 => {
            let n: i64 = zone.get(1..)?.parse().ok()?;
            let v = (n / 100) * 3600 + (n % 100) * 60;
            if zone.starts_with('-') { -v } else { v }
        }
        _ => match zone.to_ascii_uppercase().as_str() {
            "EST" => -5 * 3600,
            "EDT" => -4 * 3600,
            "CST" => -6 * 3600,
            "CDT" => -5 * 3600,
            "MST" => -7 * 3600,
            "MDT" => -6 * 3600,
            "PST" => -8 * 3600,
            "PDT" => -7 * 3600,
            _ => 0,
        },
    };
    if !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let t = days
        .checked_mul(86_400)?
        .checked_add(hh * 3600 + mm * 60 + ss - off)?;
    t.checked_mul(1_000_000_000)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t = 1_796_183_308_000_000_000; // 2026-12-02T03:48:28Z, a Wednesday
        assert_eq!(rfc5322(t, 0), "Wed, 02 Dec 2026 03:48:28 +0000");
        assert_eq!(rfc5322(t, 3600), "Wed, 02 Dec 2026 04:48:28 +0100");
        assert_eq!(local(t, -19_800), "2026-12-01 22:18:28 -0530");
        assert_eq!(rfc3339(t), "2026-12-02T03:48:28Z");
        assert_eq!(zone_name(3600), "UTC+01:00");
        assert_eq!(month(t), "2026-12");
        assert_eq!(parse_rfc5322("Wed, 02 Dec 2026 04:48:28 +0100"), Some(t));
        assert_eq!(parse_rfc5322("2 Dec 2026 03:48:28 GMT"), Some(t));
        assert_eq!(parse_rfc5322("yesterday"), None);
    }
}
