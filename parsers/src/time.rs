//! Calendar arithmetic for syslog stamps: civil date to Unix time and back, year inference for
//! year-less RFC 3164 stamps, and RFC 3339 output. No time-zone database: a zone is a fixed offset.

/// A point in time as Unix seconds and nanoseconds (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    pub secs: i64,
    /// Nanoseconds within the second, below 1e9.
    pub nanos: u32,
}

/// Seconds per day.
const DAY: i64 = 86_400;

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A wall-clock reading from a stamp, before a year or zone is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CivilTime {
    /// The year, if the stamp had one.
    pub year: Option<i64>,
    /// 1..=12.
    pub month: u32,
    /// 1..=31.
    pub day: u32,
    /// 0..=23.
    pub hour: u32,
    /// 0..=59.
    pub minute: u32,
    /// 0..=60 (a leap second is accepted and rolls over).
    pub second: u32,
    /// Nanoseconds within the second.
    pub nanos: u32,
    /// Offset east of UTC in seconds, if the stamp named one.
    pub offset: Option<i32>,
}

impl CivilTime {
    /// Unix time of this reading in the given year, with `default_offset` for a zone-less stamp.
    fn at_year(&self, year: i64, default_offset: i32) -> Timestamp {
        self.at_days(days_from_civil(year, self.month, self.day), default_offset)
    }

    /// Unix time of this reading's clock on the given day (counted from 1970-01-01).
    fn at_days(&self, days: i64, default_offset: i32) -> Timestamp {
        let secs = days * DAY
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.offset.unwrap_or(default_offset));
        Timestamp {
            secs,
            nanos: self.nanos,
        }
    }

    /// Settles the year and zone: a year-less stamp takes the reference's year, or the year
    /// before when that would put it more than two days after the reference (a December line
    /// read in January).
    pub fn resolve(&self, reference: i64, default_offset: i32) -> Timestamp {
        let year = year_of(reference);
        self.resolve_in(reference, year, &month_starts(year), default_offset)
    }

    /// [`CivilTime::resolve`] with the reference's year, and the day number of the first of
    /// each of its months, already known.
    pub(crate) fn resolve_in(
        &self,
        reference: i64,
        reference_year: i64,
        month_starts: &[i64; 12],
        default_offset: i32,
    ) -> Timestamp {
        if let Some(year) = self.year {
            return self.at_year(year, default_offset);
        }
        // days_from_civil is linear in the day, so the month's first day plus the day agrees
        // with it for any day number, even past the month's end.
        let month = (self.month as usize).wrapping_sub(1);
        let this_year = match month_starts.get(month) {
            Some(first) => self.at_days(first + i64::from(self.day) - 1, default_offset),
            None => self.at_year(reference_year, default_offset),
        };
        if this_year.secs > reference.saturating_add(2 * DAY) {
            self.at_year(reference_year - 1, default_offset)
        } else {
            this_year
        }
    }
}

/// The day numbers (from 1970-01-01) of the first of each month of `year`.
pub(crate) fn month_starts(year: i64) -> [i64; 12] {
    let mut out = [0; 12];
    for (m, slot) in (1..=12).zip(out.iter_mut()) {
        *slot = days_from_civil(year, m, 1);
    }
    out
}

/// The calendar year (UTC) of a Unix time.
pub fn year_of(secs: i64) -> i64 {
    civil_from_days(secs.div_euclid(DAY)).0
}

impl Timestamp {
    /// The current time from the system clock.
    pub fn now() -> Timestamp {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Timestamp {
                secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                nanos: d.subsec_nanos(),
            },
            Err(_) => Timestamp { secs: 0, nanos: 0 },
        }
    }

    /// Nanoseconds since the epoch, saturating (the store's key).
    pub fn as_nanos(&self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// Writes the stamp as RFC 3339 in UTC (`2001-11-08T15:26:31.123Z`), with as many
    /// fraction digits as it needs (none, 3, 6 or 9).
    pub fn write_rfc3339(&self, out: &mut Vec<u8>) {
        let days = self.secs.div_euclid(DAY);
        let sod = self.secs.rem_euclid(DAY);
        let (year, month, day) = civil_from_days(days);
        let year = year.clamp(0, 9999) as u32;
        push_digits(out, year, 4);
        out.push(b'-');
        push_digits(out, month, 2);
        out.push(b'-');
        push_digits(out, day, 2);
        out.push(b'T');
        push_digits(out, (sod / 3600) as u32, 2);
        out.push(b':');
        push_digits(out, (sod / 60 % 60) as u32, 2);
        out.push(b':');
        push_digits(out, (sod % 60) as u32, 2);
        let nanos = self.nanos % 1_000_000_000;
        if nanos != 0 {
            out.push(b'.');
            if nanos.is_multiple_of(1_000_000) {
                push_digits(out, nanos / 1_000_000, 3);
            } else if nanos.is_multiple_of(1_000) {
                push_digits(out, nanos / 1_000, 6);
            } else {
                push_digits(out, nanos, 9);
            }
        }
        out.push(b'Z');
    }
}

/// Appends `value` as exactly `width` decimal digits (zero-padded, high digits dropped).
fn push_digits(out: &mut Vec<u8>, mut value: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let width = width.min(buf.len());
    for slot in buf.iter_mut().take(width).rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
    out.extend_from_slice(buf.get(..width).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_starts_agree_with_the_full_formula() {
        // Every month and day (past the month's end too) against references around leap
        // years and year ends.
        for reference in [
            0,
            951_782_400,
            1_709_164_800,
            1_735_603_200,
            1_795_392_000,
            4_107_542_399,
        ] {
            let year = year_of(reference);
            let starts = month_starts(year);
            for month in 1..=12 {
                for day in 1..=31 {
                    let t = CivilTime {
                        year: None,
                        month,
                        day,
                        hour: 23,
                        minute: 59,
                        second: 60,
                        nanos: 7,
                        offset: None,
                    };
                    let slow = {
                        let this_year = t.at_year(year, 3600);
                        if this_year.secs > reference + 2 * DAY {
                            t.at_year(year - 1, 3600)
                        } else {
                            this_year
                        }
                    };
                    assert_eq!(
                        t.resolve_in(reference, year, &starts, 3600),
                        slow,
                        "{reference} {month}-{day}"
                    );
                }
            }
        }
    }

    fn rfc3339(t: Timestamp) -> String {
        let mut out = Vec::new();
        t.write_rfc3339(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 11_634, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2001, 11, 8), 11_634);
    }

    #[test]
    fn writes_rfc3339() {
        let t = Timestamp {
            secs: 1_005_233_191,
            nanos: 0,
        };
        assert_eq!(rfc3339(t), "2001-11-08T15:26:31Z");
        let t = Timestamp {
            secs: 1_005_233_191,
            nanos: 123_456_000,
        };
        assert_eq!(rfc3339(t), "2001-11-08T15:26:31.123456Z");
    }

    #[test]
    fn december_line_read_in_january_is_last_year() {
        let dec = CivilTime {
            year: None,
            month: 12,
            day: 31,
            hour: 23,
            minute: 59,
            second: 58,
            nanos: 0,
            offset: None,
        };
        // 2002-01-01T00:00:05Z
        let reference = days_from_civil(2002, 1, 1) * DAY + 5;
        assert_eq!(rfc3339(dec.resolve(reference, 0)), "2001-12-31T23:59:58Z");
        let nov = CivilTime {
            month: 11,
            day: 30,
            ..dec
        };
        let reference = days_from_civil(2001, 12, 1) * DAY;
        assert_eq!(rfc3339(nov.resolve(reference, 0)), "2001-11-30T23:59:58Z");
    }

    #[test]
    fn default_offset_applies_to_zoneless_stamps() {
        let t = CivilTime {
            year: Some(2001),
            month: 11,
            day: 8,
            hour: 16,
            minute: 26,
            second: 31,
            nanos: 0,
            offset: None,
        };
        assert_eq!(rfc3339(t.resolve(0, 3600)), "2001-11-08T15:26:31Z");
        let zoned = CivilTime {
            offset: Some(0),
            ..t
        };
        assert_eq!(rfc3339(zoned.resolve(0, 3600)), "2001-11-08T16:26:31Z");
    }
}
