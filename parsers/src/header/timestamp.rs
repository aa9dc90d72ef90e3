//! The stamps syslog senders write: BSD `Mmm dd hh:mm:ss` (space- or zero-padded day, optional
//! year, optional fraction, Cisco's `*`/`.` sync markers and `UTC:` zone) and ISO 8601 /
//! RFC 3339 (`2001-11-08T15:26:31.123456+01:00`).

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while_m_n};
use nom::character::complete::{one_of, space1};
use nom::combinator::{map_opt, opt, verify};
use nom::{IResult, Parser};

use crate::lex::Input;
use crate::time::CivilTime;

#[cfg(test)]
const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

#[cfg(test)]
fn month(i: Input<'_>) -> IResult<Input<'_>, u32> {
    map_opt(
        take_while_m_n(3, 3, |b: u8| b.is_ascii_alphabetic()),
        |m: &[u8]| {
            MONTHS
                .iter()
                .position(|name| m.eq_ignore_ascii_case(&name[..]))
                .map(|p| p as u32 + 1)
        },
    )
    .parse(i)
}

fn digits(min: usize, max: usize) -> impl Fn(Input<'_>) -> IResult<Input<'_>, u32> {
    move |i| {
        map_opt(
            take_while_m_n(min, max, |b: u8| b.is_ascii_digit()),
            |d: &[u8]| {
                Some(
                    d.iter()
                        .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0')),
                )
            },
        )
        .parse(i)
    }
}

fn not_followed_by_digit(i: Input<'_>) -> bool {
    !i.first().is_some_and(u8::is_ascii_digit)
}

/// `.123456` → nanoseconds (digits past the ninth are read and dropped).
fn fraction(i: Input<'_>) -> IResult<Input<'_>, u32> {
    let (i, _) = one_of(".,").parse(i)?;
    let (i, d) = take_while_m_n(1, 32, |b: u8| b.is_ascii_digit()).parse(i)?;
    let mut nanos = 0u32;
    for k in 0..9 {
        nanos = nanos * 10 + d.get(k).map_or(0, |b| u32::from(b - b'0'));
    }
    Ok((i, nanos))
}

/// `hh:mm:ss[.frac]`.
fn clock(i: Input<'_>) -> IResult<Input<'_>, (u32, u32, u32, u32)> {
    let (i, (h, _, m, _, s)) = (
        verify(digits(1, 2), |h| *h < 24),
        tag(&b":"[..]),
        verify(digits(2, 2), |m| *m < 60),
        tag(&b":"[..]),
        verify(digits(2, 2), |s| *s <= 60),
    )
        .parse(i)?;
    let (i, nanos) = opt(fraction).parse(i)?;
    if !not_followed_by_digit(i) {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        )));
    }
    Ok((i, (h, m, s, nanos.unwrap_or(0))))
}

/// Zone names Cisco devices print after the clock (`show-timezone`), compared case-insensitively.
const ZONES: [&[u8]; 48] = [
    b"UTC", b"GMT", b"UT", b"Z", b"CET", b"CEST", b"EET", b"EEST", b"WET", b"WEST", b"BST", b"IST",
    b"MSK", b"MET", b"MEST", b"EST", b"EDT", b"CST", b"CDT", b"MST", b"MDT", b"PST", b"PDT",
    b"AKST", b"AKDT", b"HST", b"AST", b"ADT", b"NST", b"NDT", b"AEST", b"AEDT", b"ACST", b"ACDT",
    b"AWST", b"JST", b"KST", b"HKT", b"SGT", b"NZST", b"NZDT", b"SAST", b"ART", b"BRT", b"WIB",
    b"PHT", b"ICT", b"CAT",
];

fn zone_error(i: Input<'_>) -> nom::Err<nom::error::Error<Input<'_>>> {
    nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Tag))
}

/// `+1`, `+07:30`, `-5` after a zone name (`UTC+1:`).
fn zone_offset(i: Input<'_>) -> IResult<Input<'_>, i32> {
    let (i, (sign, h, m)) = (
        one_of("+-"),
        verify(digits(1, 2), |h| *h < 24),
        opt((tag(&b":"[..]), verify(digits(2, 2), |m| *m < 60)).map(|(_, m)| m)),
    )
        .parse(i)?;
    let secs = (h * 3600 + m.unwrap_or(0) * 60) as i32;
    Ok((i, if sign == '-' { -secs } else { secs }))
}

/// A zone word Cisco prints after the clock, followed by a colon (`UTC:`, `CEST:`, `gmt:`,
/// `UTC+1:`). Consumed only for a known zone name, or for any short word when the message
/// mnemonic follows (`mng: %SEC-6-…`), so that a host or tag (`DENY: IN=…`) is never taken
/// for a zone.
fn cisco_zone(i: Input<'_>) -> IResult<Input<'_>, Option<i32>> {
    let (rest, (_, zone)) = (
        space1,
        take_while_m_n(1, 5, |b: u8| b.is_ascii_alphabetic()),
    )
        .parse(i)?;
    let (rest, shift) = opt(zone_offset).parse(rest)?;
    let Some(after) = rest.strip_prefix(b":") else {
        return Err(zone_error(i));
    };
    let known = ZONES.iter().any(|z| z.eq_ignore_ascii_case(zone));
    let before_mnemonic = zone.len() >= 2
        && after
            .iter()
            .find(|b| **b != b' ')
            .is_some_and(|b| *b == b'%');
    if !known && !before_mnemonic {
        return Err(zone_error(i));
    }
    let utc = [&b"UTC"[..], b"GMT", b"UT", b"Z"]
        .iter()
        .any(|z| z.eq_ignore_ascii_case(zone));
    let offset = utc.then(|| shift.unwrap_or(0));
    Ok((rest, offset))
}

/// BSD stamp: `[*|.]Mmm dd [yyyy] hh:mm:ss[.frac][ ZONE:]`: the reference grammar that the
/// hand readers ([`bsd_fast`], [`bsd_exact`]) are property-tested against.
#[cfg(test)]
pub fn bsd(i: Input<'_>) -> IResult<Input<'_>, CivilTime> {
    let (i, _) = opt(one_of("*.")).parse(i)?;
    let (i, month) = month(i)?;
    let (i, _) = space1(i)?;
    let (i, day) = verify(digits(1, 2), |d| (1..=31).contains(d)).parse(i)?;
    let (i, _) = space1(i)?;
    let (i, year) = opt((digits(4, 4), space1).map(|(y, _)| y)).parse(i)?;
    let (i, (hour, minute, second, nanos)) = clock(i)?;
    let (i, zone) = opt(cisco_zone).parse(i)?;
    Ok((
        i,
        CivilTime {
            year: year.map(i64::from),
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            offset: zone.flatten(),
        },
    ))
}

/// `Z`, `+hh:mm`, `+hhmm` or `+hh` → seconds east of UTC.
fn offset(i: Input<'_>) -> IResult<Input<'_>, i32> {
    alt((
        one_of("Zz").map(|_| 0),
        (
            one_of("+-"),
            verify(digits(2, 2), |h| *h < 24),
            opt((opt(tag(&b":"[..])), verify(digits(2, 2), |m| *m < 60)).map(|(_, m)| m)),
        )
            .map(|(sign, h, m)| {
                let secs = (h * 3600 + m.unwrap_or(0) * 60) as i32;
                if sign == '-' { -secs } else { secs }
            }),
    ))
    .parse(i)
}

/// ISO 8601 / RFC 3339: `yyyy-mm-dd(T| )hh:mm:ss[.frac][zone]`.
pub fn iso(i: Input<'_>) -> IResult<Input<'_>, CivilTime> {
    let (i, (year, _, month, _, day)) = (
        digits(4, 4),
        tag(&b"-"[..]),
        verify(digits(2, 2), |m| (1..=12).contains(m)),
        tag(&b"-"[..]),
        verify(digits(2, 2), |d| (1..=31).contains(d)),
    )
        .parse(i)?;
    let (i, _) = one_of("Tt ").parse(i)?;
    let (i, (hour, minute, second, nanos)) = clock(i)?;
    let (i, offset) = opt(offset).parse(i)?;
    Ok((
        i,
        CivilTime {
            year: Some(i64::from(year)),
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            offset,
        },
    ))
}

/// ISO 8601 / RFC 3339 as [`iso`] reads it, through `iso_common` when the stamp has the
/// usual shape.
pub fn iso_fast(i: Input<'_>) -> IResult<Input<'_>, CivilTime> {
    match iso_common(i) {
        Some(r) => Ok(r),
        None => iso(i),
    }
}

/// Any stamp a syslog header may start with.
pub fn any(i: Input<'_>) -> IResult<Input<'_>, CivilTime> {
    match i.first() {
        Some(b'0'..=b'9') => iso_fast(i).or_else(|e| year_first(i).or_else(|| dotted(i)).ok_or(e)),
        _ => bsd_fast(i),
    }
}

/// The plain BSD stamp (`Mmm dd hh:mm:ss`) or ISO stamp at the start of `i`, exactly as
/// [`any`] would read it, or `None` when `i` opens with neither (then ask [`any`]).
#[inline]
pub fn common(i: Input<'_>) -> Option<(Input<'_>, CivilTime)> {
    match i.first() {
        Some(b'0'..=b'9') => iso_common(i),
        _ => bsd_common(i),
    }
}

/// `2006.12.07 08:49:58.002`: the date written with dots (WIPFW's own log file), read as the
/// ISO stamp it spells; no zone follows it.
#[cold]
fn dotted(i: Input<'_>) -> Option<(Input<'_>, CivilTime)> {
    let head = i.get(..19)?;
    if head.get(4) != Some(&b'.') || head.get(7) != Some(&b'.') || head.get(10) != Some(&b' ') {
        return None;
    }
    let mut iso = [0u8; 19];
    iso.copy_from_slice(head);
    iso[4] = b'-';
    iso[7] = b'-';
    let (_, mut t) = iso_common(&iso)?;
    let (rest, nanos) = fraction_fast(i.get(19..)?);
    t.nanos = nanos;
    Some((rest, t))
}

/// `2015 Nov 13 13:40:01`: the year before a BSD stamp (syslog-ng's `$YEAR $DATE` templates).
#[cold]
fn year_first(i: Input<'_>) -> Option<(Input<'_>, CivilTime)> {
    let (n, year) = leading_digits(i, 4);
    let rest = i.get(n..)?;
    if n != 4 || rest.first() != Some(&b' ') {
        return None;
    }
    let rest = rest.get(blanks(rest)..)?;
    let (rest, mut t) = bsd_fast(rest).ok()?;
    t.year.get_or_insert(i64::from(year));
    Some((rest, t))
}

fn stamp_error(i: Input<'_>) -> nom::Err<nom::error::Error<Input<'_>>> {
    nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify))
}

/// The number of leading spaces and tabs (nom's `space0`).
fn blanks(i: &[u8]) -> usize {
    i.iter().take_while(|b| matches!(b, b' ' | b'\t')).count()
}

/// Up to `max` leading digits and their value.
fn leading_digits(i: &[u8], max: usize) -> (usize, u32) {
    let mut value = 0;
    let mut n = 0;
    for b in i.iter().take(max) {
        if !b.is_ascii_digit() {
            break;
        }
        value = value * 10 + u32::from(b - b'0');
        n += 1;
    }
    (n, value)
}

/// Two ASCII digits as a number.
fn two_digits(a: u8, b: u8) -> Option<u32> {
    let digit = |c: u8| c.is_ascii_digit().then(|| u32::from(c - b'0'));
    Some(digit(a)? * 10 + digit(b)?)
}

/// Hour, minute, second, nanoseconds.
type Clock = (u32, u32, u32, u32);

/// `.123456` or `,123` as [`fraction`] reads it: nanoseconds (digits past the ninth dropped,
/// at most 32 read) and the rest; the input unchanged, and 0, when no digit follows.
fn fraction_fast(i: &[u8]) -> (&[u8], u32) {
    let Some(after) = i.strip_prefix(b".").or_else(|| i.strip_prefix(b",")) else {
        return (i, 0);
    };
    let n = after
        .iter()
        .take(32)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n == 0 {
        return (i, 0);
    }
    let mut nanos = 0;
    for k in 0..9 {
        nanos = nanos * 10
            + after
                .get(k)
                .filter(|_| k < n)
                .map_or(0, |c| u32::from(c - b'0'));
    }
    (after.get(n..).unwrap_or_default(), nanos)
}

/// `hh:mm:ss[.frac]` not followed by a digit, as [`clock`] reads it, by hand.
fn clock_fast(i: &[u8]) -> Option<(&[u8], Clock)> {
    let (nh, hour) = leading_digits(i, 2);
    let i = i
        .get(nh..)?
        .strip_prefix(b":")
        .filter(|_| nh > 0 && hour < 24)?;
    let (nm, minute) = leading_digits(i, 2);
    let i = i
        .get(nm..)?
        .strip_prefix(b":")
        .filter(|_| nm == 2 && minute < 60)?;
    let (ns, second) = leading_digits(i, 2);
    let i = i.get(ns..).filter(|_| ns == 2 && second <= 60)?;
    let (i, nanos) = fraction_fast(i);
    if i.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((i, (hour, minute, second, nanos)))
}

/// BSD stamp, read by hand: every RFC 3164 line starts here, and the nom grammar ([`bsd`])
/// cost a fifth of the header. Only a possible Cisco zone word goes to nom.
pub fn bsd_fast(input: Input<'_>) -> IResult<Input<'_>, CivilTime> {
    // The fixed-offset reader first: it is most lines, and it decides the one case where
    // this function and the grammar part (see `bsd_common`).
    bsd_common(input)
        .or_else(|| bsd_by_hand(input))
        .ok_or_else(|| stamp_error(input))
}

/// BSD stamp exactly as [`bsd`] reads it, by hand (Cisco's in-message stamps).
pub fn bsd_exact(input: Input<'_>) -> IResult<Input<'_>, CivilTime> {
    bsd_by_hand(input).ok_or_else(|| stamp_error(input))
}

/// The month numbered by its English abbreviation, any case.
fn month_number(a: u8, b: u8, c: u8) -> Option<u32> {
    month_of_key(u32::from_le_bytes([a, b, c, 0]))
}

/// The twelve abbreviations folded to lower case as [`month_of_key`]'s keys, each at its
/// slot (`key * 0x67e4 >> 28`, distinct for the twelve), with the month's number.
// Built at compile time: an index out of range, or a collision, fails the build, not a line.
#[allow(clippy::indexing_slicing)]
const MONTH_SLOTS: [(u32, u8); 16] = {
    const NAMES: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let mut slots = [(0u32, 0u8); 16];
    let mut m = 0;
    while m < 12 {
        let n = NAMES[m];
        let key = n[0] as u32 | (n[1] as u32) << 8 | (n[2] as u32) << 16;
        let slot = (key.wrapping_mul(0x67e4) >> 28) as usize;
        assert!(slots[slot].1 == 0);
        slots[slot] = (key, m as u8 + 1);
        m += 1;
    }
    slots
};

/// The month whose abbreviation is the low three bytes of `key` (little-endian, the fourth
/// byte ignored), any case: one multiply and one compare instead of a chain of twelve.
fn month_of_key(key: u32) -> Option<u32> {
    // `| 0x20` lower-cases ASCII letters and turns no other byte into one.
    let key = (key | 0x0020_2020) & 0x00FF_FFFF;
    let (want, month) = MONTH_SLOTS.get((key.wrapping_mul(0x67e4) >> 28) as usize)?;
    (*want == key).then_some(u32::from(*month))
}

/// Little-endian word of the eight bytes at `at` (`None` past the end).
#[inline(always)]
fn word_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// True when every byte of `x` in the lanes `mask` selects (`0xFF` lanes) is an ASCII digit:
/// `0x3_` in its high nibble, and still after adding 6 (so not `:`..`?`). A lane outside the
/// mask can carry into the next one only when it is `0xFA` or more, and every caller checks
/// the lane below each digit run for a separator, which such a byte is not.
#[inline(always)]
fn all_digits(x: u64, mask: u64) -> bool {
    let high = 0xF0F0_F0F0_F0F0_F0F0 & mask;
    let zeros = 0x3030_3030_3030_3030 & mask;
    (x & high) == zeros && (x.wrapping_add(0x0606_0606_0606_0606) & high) == zeros
}

/// True when the `len` bytes of `hay` at `at` are one or more ASCII digits: a word at a time
/// when there are at most eight and eight bytes can be read there (a pid inside its line,
/// with its `]` and the message after it), else a byte at a time.
#[inline]
pub(super) fn digits_at(hay: &[u8], at: usize, len: usize) -> bool {
    match word_at(hay, at) {
        // `len` is 1 to 8: the low `len` lanes, from lane 0 up (no lane below to carry in).
        Some(w) if (1..=8).contains(&len) => all_digits(w, u64::MAX >> (64 - 8 * len)),
        _ => hay
            .get(at..at.saturating_add(len))
            .is_some_and(|s| !s.is_empty() && s.iter().all(u8::is_ascii_digit)),
    }
}

/// Two-digit numbers of the digit lanes `mask` selects: lane k holds ten times digit k plus
/// digit k + 1 (at most 99, so no lane carries).
#[inline(always)]
fn pairs(x: u64, mask: u64) -> u64 {
    let v = x & 0x0F0F_0F0F_0F0F_0F0F & mask;
    v * 10 + (v >> 8)
}

/// Byte lane `k` of `x`.
#[inline(always)]
fn lane(x: u64, k: u32) -> u32 {
    (x >> (8 * k)) as u32 & 0xFF
}

/// The common BSD stamp `Mmm dd hh:mm:ss` (day space- or zero-padded) read at fixed offsets,
/// without nom: most lines have exactly this, and it is a quarter of the header's cost.
/// Anything else (a year, a fraction, a zone, a one-space day) is left to the general reader.
fn bsd_common(i: &[u8]) -> Option<(&[u8], CivilTime)> {
    // Two words, read at once: `Mmm dd h` and `hh:mm:ss`; the separators and digits are
    // checked a word at a time (a byte at a time, this reader was a quarter of the header).
    let head = i.get(..16)?;
    let (a, c) = (word_at(head, 0)?, word_at(head, 7)?);
    // Lanes 3 and 6 of the first word are the blanks around the day; 2 and 5 of the second
    // the clock's colons.
    if a & 0x00FF_0000_FF00_0000 != 0x0020_0000_2000_0000
        || c & 0x0000_FF00_00FF_0000 != 0x0000_3A00_003A_0000
    {
        return None;
    }
    // What follows must end the stamp: a colon, or a space not starting an upper-case zone
    // word. A lower-case word here is the host (`rtr: %SEC-…`), which the grammar would take
    // for a zone when a mnemonic follows; this shape has always been read this way.
    match head.get(15) {
        Some(b':') => {}
        Some(b' ') if !i.get(16).is_some_and(u8::is_ascii_uppercase) => {}
        _ => return None,
    }
    // A space-padded day reads as a zero-padded one (`' ' | 0x10` is `'0'`).
    let a = if lane(a, 4) == u32::from(b' ') {
        a | 0x10 << 32
    } else {
        a
    };
    const DAY: u64 = 0x0000_FFFF_0000_0000;
    const CLOCK: u64 = 0xFFFF_00FF_FF00_FFFF;
    if !all_digits(a, DAY) || !all_digits(c, CLOCK) {
        return None;
    }
    let month = month_of_key(a as u32)?;
    let day = lane(pairs(a, DAY), 4);
    let clock = pairs(c, CLOCK);
    let (hour, minute, second) = (lane(clock, 0), lane(clock, 3), lane(clock, 6));
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let t = CivilTime {
        year: None,
        month,
        day,
        hour,
        minute,
        second,
        nanos: 0,
        offset: None,
    };
    Some((i.get(15..)?, t))
}

fn bsd_by_hand(i: &[u8]) -> Option<(&[u8], CivilTime)> {
    let i = match i.first() {
        Some(b'*' | b'.') => i.get(1..)?,
        _ => i,
    };
    let month = match i {
        [a, b, c, ..] => month_number(*a, *b, *c)?,
        _ => return None,
    };
    let i = i.get(3..)?;
    let sp = blanks(i);
    let i = i.get(sp..).filter(|_| sp > 0)?;
    let (nd, day) = leading_digits(i, 2);
    let i = i.get(nd..).filter(|_| nd > 0 && (1..=31).contains(&day))?;
    let sp = blanks(i);
    let mut i = i.get(sp..).filter(|_| sp > 0)?;
    let mut year = None;
    let (ny, y) = leading_digits(i, 4);
    if ny == 4 {
        let sp = blanks(i.get(4..)?);
        if sp > 0 {
            year = Some(i64::from(y));
            i = i.get(4 + sp..)?;
        }
    }
    let (mut i, (hour, minute, second, nanos)) = clock_fast(i)?;
    let mut offset = None;
    if might_be_zone(i)
        && let Ok((rest, zone)) = cisco_zone(i)
    {
        offset = zone;
        i = rest;
    }
    let t = CivilTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        nanos,
        offset,
    };
    Some((i, t))
}

/// A necessary condition for [`cisco_zone`]: blanks, one to five letters, then `:`, `+` or
/// `-`. Most stamps are followed by a host name, which this rejects without nom.
fn might_be_zone(i: &[u8]) -> bool {
    let sp = blanks(i);
    let word = i.get(sp..).unwrap_or_default();
    let n = word
        .iter()
        .take(5)
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    sp > 0 && n > 0 && matches!(word.get(n), Some(b':' | b'+' | b'-'))
}

/// The usual ISO stamp `yyyy-mm-ddThh:mm:ss[.frac][Z|±hh[:]mm|±hh]` (two-digit hour) read at
/// fixed offsets, without nom: RFC 5424 and rsyslog's file format write nothing else. Returns
/// exactly what [`iso`] would, or `None` to leave the line to it.
fn iso_common(i: &[u8]) -> Option<(&[u8], CivilTime)> {
    let two = two_digits;
    // Three words: `yyyy-mm-`, `ddThh:mm` and `hh:mm:ss` (overlapping), checked a word at a
    // time as in `bsd_common`.
    let head = i.get(..19)?;
    let (a, m, c) = (word_at(head, 0)?, word_at(head, 8)?, word_at(head, 11)?);
    if a & 0xFF00_00FF_0000_0000 != 0x2D00_002D_0000_0000
        || c & 0x0000_FF00_00FF_0000 != 0x0000_3A00_003A_0000
        || !matches!(head.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    const DATE: u64 = 0x00FF_FF00_FFFF_FFFF;
    const DAY: u64 = 0xFFFF;
    const CLOCK: u64 = 0xFFFF_00FF_FF00_FFFF;
    if !all_digits(a, DATE) || !all_digits(m, DAY) || !all_digits(c, CLOCK) {
        return None;
    }
    let date = pairs(a, DATE);
    let clock = pairs(c, CLOCK);
    let year = lane(date, 0) * 100 + lane(date, 2);
    let (month, day) = (lane(date, 5), lane(pairs(m, DAY), 0));
    let (hour, minute, second) = (lane(clock, 0), lane(clock, 3), lane(clock, 6));
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // More than 32 fraction digits leave a digit behind, which the match below rejects.
    let (mut rest, nanos) = fraction_fast(i.get(19..)?);
    let mut offset = None;
    match rest.first() {
        Some(b'Z' | b'z') => {
            offset = Some(0);
            rest = rest.get(1..)?;
        }
        Some(&sign @ (b'+' | b'-')) => {
            if let Some(h) = rest.get(1..3).and_then(|h| two(*h.first()?, *h.get(1)?))
                && h < 24
            {
                let after_h = rest.get(3..)?;
                let colon = usize::from(after_h.first() == Some(&b':'));
                let m = after_h
                    .get(colon..colon + 2)
                    .and_then(|m| two(*m.first()?, *m.get(1)?))
                    .filter(|m| *m < 60);
                let secs = (h * 3600 + m.unwrap_or(0) * 60) as i32;
                offset = Some(if sign == b'-' { -secs } else { secs });
                rest = match m {
                    Some(_) => after_h.get(colon + 2..)?,
                    None => after_h,
                };
            }
        }
        Some(b'0'..=b'9') => return None,
        _ => {}
    }
    let t = CivilTime {
        year: Some(i64::from(year)),
        month,
        day,
        hour,
        minute,
        second,
        nanos,
        offset,
    };
    Some((rest, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> (CivilTime, String) {
        let (rest, t) = any(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e:?}"));
        (t, String::from_utf8(rest.to_vec()).unwrap())
    }

    #[test]
    fn bsd_variants() {
        let (t, rest) = ok("Nov  8 15:26:31 linux");
        assert_eq!((t.month, t.day, t.hour, t.year), (11, 8, 15, None));
        assert_eq!(rest, " linux");
        let (t, _) = ok("Nov 08 15:26:31 x");
        assert_eq!(t.day, 8);
        let (t, _) = ok("nov 8 2001 15:26:31 x");
        assert_eq!(t.year, Some(2001));
        let (t, rest) = ok("*Mar  1 00:01:02.345 UTC: %SEC");
        assert_eq!((t.month, t.nanos, t.offset), (3, 345_000_000, Some(0)));
        assert_eq!(rest, ": %SEC");
        let (t, rest) = ok(".Mar  1 00:01:02.345 CET: x");
        assert_eq!(t.offset, None);
        assert_eq!(rest, ": x");
        let (_, rest) = ok("Mar  1 00:01:02 ROUTER x");
        assert_eq!(rest, " ROUTER x");
        // A tag or host is not a zone; known zones and UTC offsets are.
        let (_, rest) = ok("Jan  8 03:37:09 DENY: IN=eth0");
        assert_eq!(rest, " DENY: IN=eth0");
        let (t, rest) = ok("*Oct  6 03:32:04.114 gmt: %SEC");
        assert_eq!((t.offset, rest.as_str()), (Some(0), ": %SEC"));
        let (t, rest) = ok("May 6 16:13:09.123 UTC+07:30: %DOT1X");
        assert_eq!((t.offset, rest.as_str()), (Some(27000), ": %DOT1X"));
        let (t, rest) = ok("Oct 6 03:32:04 mng: %SEC");
        assert_eq!((t.offset, rest.as_str()), (None, ": %SEC"));
    }

    #[test]
    fn iso_variants() {
        let (t, _) = ok("2001-11-08T15:26:31.123456+01:00 host");
        assert_eq!(
            (t.year, t.nanos, t.offset),
            (Some(2001), 123_456_000, Some(3600))
        );
        let (t, _) = ok("2003-10-11T22:14:15.003Z mymachine");
        assert_eq!(t.offset, Some(0));
        let (t, _) = ok("2003-10-11T22:14:15-0700 x");
        assert_eq!(t.offset, Some(-7 * 3600));
        let (t, _) = ok("2003-10-11 22:14:15 x");
        assert_eq!(t.offset, None);
    }

    #[test]
    fn the_fast_path_agrees_with_the_grammar() {
        for s in [
            "Nov  8 15:26:31 host",
            "Nov 08 15:26:31: x",
            "nov 18 05:06:07 h",
            "Dec 31 23:59:60 h",
            "Nov  8 15:26:31 UTC: x",
            "Nov  8 15:26:31.123 h",
            "Nov 8 15:26:31 h",
            "Nov  8 2001 15:26:31 h",
            "Nov 32 15:26:31 h",
            "Foo  8 15:26:31 h",
            "Nov  8 25:26:31 h",
            "Nov  8 15:26:31",
        ] {
            let i = s.as_bytes();
            assert_eq!(bsd_fast(i).ok(), bsd(i).ok(), "{s}");
            assert_eq!(any(i).ok(), bsd(i).ok().or_else(|| iso(i).ok()), "{s}");
        }
    }

    #[test]
    fn rejects_non_stamps() {
        for s in [
            "Nov 32 15:26:31",
            "Foo  8 15:26:31",
            "Nov  8 25:26:31",
            "2001-13-08T15:26:31",
            "Nov  8 15:26:311",
            "",
        ] {
            assert!(any(s.as_bytes()).is_err(), "{s}");
        }
    }

    use proptest::prelude::{ProptestConfig, Strategy, prop_assert_eq, prop_oneof, proptest};

    /// A number around a field's limits, mostly zero-padded to `width`, sometimes not, now and
    /// then not a number: most cases reach the readers' later checks.
    fn number(lo: u32, hi: u32, width: usize) -> impl Strategy<Value = String> {
        prop_oneof![
            12 => (lo..=hi).prop_map(move |v| format!("{v:0width$}")),
            2 => (lo..=hi).prop_map(|v| v.to_string()),
            1 => proptest::string::string_regex("[0-9]{1,3}|x").unwrap(),
        ]
    }

    /// Strings shaped like ISO stamps, with every piece sometimes wrong.
    fn isoish() -> impl Strategy<Value = String> {
        let n = number;
        let date = (
            n(0, 9999, 4),
            "-|-|-|/",
            n(0, 13, 2),
            "-",
            n(0, 32, 2),
            "[Tt x]",
        );
        let clock = (n(0, 25, 2), ":", n(0, 61, 2), ":|:|:|.", n(0, 61, 2));
        let tail = (
            "([.,][0-9]{0,35})?",
            "(Z|z|[+-][0-9]{1,3}(:?[0-9]{0,3})?|[ a0.])?",
            "[ 0-9a-z:]{0,3}",
        );
        (date, clock, tail).prop_map(|((a, b, c, e, f, g), (h, k, l, m, o), (p, q, r))| {
            [a, b, c, e, f, g, h, k, l, m, o, p, q, r].concat()
        })
    }

    /// Strings shaped like BSD and Cisco stamps, with every piece sometimes wrong.
    fn bsdish() -> impl Strategy<Value = String> {
        let n = number;
        let sp = || proptest::string::string_regex("( | |  |\t| \t|)").unwrap();
        let date = (
            "[*.]?",
            "Jan|nov|DEC|Foo|Ma",
            sp(),
            n(0, 32, 2),
            sp(),
            "([0-9]{4}( |  |\\t)|[0-9]{4}|[0-9]{3,5} )?",
        );
        let clock = (n(0, 25, 2), ":|:|:|.", n(0, 61, 2), ":", n(0, 61, 2));
        let tail = (
            "([.,][0-9]{0,35})?",
            "( |  |\t)?",
            "(UTC|gmt|CEST|mng|host|ABCDEF|x)?",
            "([+-][0-9]{1,3}(:?[0-9]{0,3})?)?",
            "(: %|:|: x| x|)",
        );
        (date, clock, tail).prop_map(|((a, b, c, d, e, f), (g, h, k, l, m), (o, p, q, r, t))| {
            [a, b, c, d, e, f, g, h, k, l, m, o, p, q, r, t].concat()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// The hand-written reader agrees with the grammar everywhere (the fixed-offset one,
        /// checked above, parts from it only on a lower-case word after the stamp).
        #[test]
        fn the_hand_reader_reads_what_the_grammar_reads(s in bsdish()) {
            let (fast, full) = (bsd_by_hand(s.as_bytes()), bsd(s.as_bytes()).ok());
            prop_assert_eq!(fast, full, "{:?}", s);
        }

        /// The fixed-offset ISO reader returns what the grammar returns, or leaves the stamp
        /// to it.
        #[test]
        fn the_iso_fast_path_reads_what_the_grammar_reads(s in isoish()) {
            prop_assert_eq!(iso_fast(s.as_bytes()).ok(), iso(s.as_bytes()).ok(), "{:?}", s);
        }
    }
}
