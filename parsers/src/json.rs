//! The JSON form of an [`Event`] (Elastic Common Schema names), written straight into a byte
//! buffer. This is for the edges (CLI output, query socket), never for the write path.
//!
//! Strings are escaped so that no control character reaches a terminal: C0, DEL and C1 controls
//! become `\u00XX`. Bytes that are not UTF-8 are shown as the four characters `\xNN`, which
//! reads well but is the same JSON as the literal text `\xNN`; so when the raw line is not
//! UTF-8 the event also carries its exact bytes as `event.original_base64` (standard alphabet,
//! padded), and a line that is valid UTF-8 never has that field.
//!
//! Written for speed (`picket parse` spends most of its time here). Room is reserved once per
//! event (enough for all but freak lines; those are written again into their worst case) and
//! the event is written into it through [`Out`], a cursor whose writes are fixed-size copies
//! with one length check each (no capacity check, no length stored back, no `memcpy` call
//! per field); one `unsafe` `set_len` at the end takes the bytes over. Strings are scanned
//! sixteen bytes at a time for anything to escape (SSE2 on x86_64, two 64-bit words
//! elsewhere), keys and the names picket gives (dataset, action, kind, outcome) are pre-built
//! constants, which objects are empty is known before they are opened, and numbers, addresses
//! and stamps are formatted from digit tables, the stamp's date part cached from the previous
//! event. Beyond the instructions, what the time goes on is branches whose outcome changes
//! from line to line (lengths, which fields a family fills); so a string's length decides as
//! little as possible (short ones are one block loaded from the line they are part of, a long
//! one's end is its last block again). The event is not prefetched: callers write it right
//! after parsing it, while it is still in the cache (a prefetch helped only a bench that
//! parses everything first).

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::event::{Action, Dataset, Endpoint, Event, Transport};
use crate::header::Header;
use crate::time::{Timestamp, civil_from_days};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes that go into a JSON string as they are: printable ASCII but `"` and `\` (what the
/// scans compute, as a table for the tests).
#[cfg(test)]
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        t[b] = b != b'"' as usize && b != b'\\' as usize;
        b += 1;
    }
    t
};

/// The output of one event: the spare capacity of the caller's buffer, written front to back.
///
/// `rest` is the part not written yet. Every write is a copy of a fixed number of bytes to the
/// start of `rest` after one length check, and may keep fewer than it wrote (`put`): a
/// 16-byte block of which only the plain bytes count, a number in a word. `rest` then moves on
/// by the bytes kept, never more than were written; so everything before it is written, which
/// `write_event_in`'s `set_len` relies on. A write that does not fit sets `full` and writes
/// nothing; the event is then written again into more room.
struct Out<'a> {
    rest: &'a mut [MaybeUninit<u8>],
    full: bool,
}

impl<'a> Out<'a> {
    fn new(buf: &'a mut [MaybeUninit<u8>]) -> Self {
        Out {
            rest: buf,
            full: false,
        }
    }

    /// Writes all of `b` at the end and keeps its first `keep` bytes (at most `N`).
    #[inline(always)]
    fn put<const N: usize>(&mut self, b: [u8; N], keep: usize) {
        self.put_ref(&b, keep);
    }

    /// [`Out::put`] from a table entry, copied straight from where it is.
    #[inline(always)]
    fn put_ref<const N: usize>(&mut self, b: &[u8; N], keep: usize) {
        let rest = std::mem::take(&mut self.rest);
        match rest.first_chunk_mut::<N>() {
            Some(dst) => {
                // A whole-array assignment: one copy of N bytes (a loop of byte writes was
                // turned into byte shuffles).
                *dst = b.map(MaybeUninit::new);
                self.rest = rest.get_mut(keep.min(N)..).unwrap_or_default();
            }
            None => {
                self.rest = rest;
                self.full = true;
            }
        }
    }

    /// Writes `x` as sixteen little-endian bytes and keeps the first `keep`: a prefix byte
    /// and a word built in registers go out as two stores, not byte by byte.
    #[inline(always)]
    fn put_u128(&mut self, x: u128, keep: usize) {
        self.put(x.to_le_bytes(), keep);
    }

    /// Writes a JSON string of the first `n` (at most 16) bytes of `b`, all plain: the
    /// opening quote, the whole block, and the closing quote over the block's byte `n`; one
    /// length check for the three stores.
    #[inline(always)]
    fn quoted16(&mut self, b: [u8; 16], n: usize) {
        let n = n.min(16);
        let rest = std::mem::take(&mut self.rest);
        match rest.first_chunk_mut::<18>() {
            Some(dst) => {
                let [q, body @ ..] = dst;
                q.write(b'"');
                if let Some(body) = body.first_chunk_mut::<16>() {
                    *body = b.map(MaybeUninit::new);
                }
                if let Some(q) = dst.get_mut(n + 1) {
                    q.write(b'"');
                }
                self.rest = rest.get_mut(n + 2..).unwrap_or_default();
            }
            None => {
                self.rest = rest;
                self.full = true;
            }
        }
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.put([b], 1);
    }

    /// Appends `s` (of a length the caller usually knows at compile time).
    #[inline(always)]
    fn slice(&mut self, s: &[u8]) {
        let rest = std::mem::take(&mut self.rest);
        if s.len() <= rest.len() {
            let (dst, tail) = rest.split_at_mut(s.len());
            for (d, c) in dst.iter_mut().zip(s) {
                d.write(*c);
            }
            self.rest = tail;
        } else {
            self.rest = rest;
            self.full = true;
        }
    }

    /// Runs `f` (a function not inlined) on a cursor of its own over the rest of the buffer,
    /// then takes over where it ended: only that copy's address is passed on, so this cursor
    /// can stay in registers.
    #[inline(always)]
    fn with<R>(&mut self, f: impl FnOnce(&mut Out<'_>) -> R) -> R {
        let mut inner = Out {
            rest: std::mem::take(&mut self.rest),
            full: false,
        };
        let r = f(&mut inner);
        self.rest = inner.rest;
        self.full |= inner.full;
        r
    }
}

/// `n` in every byte of a word.
const fn splat(n: u8) -> u64 {
    u64::from_ne_bytes([n; 8])
}
const ONES: u64 = splat(0x01);
const HIGHS: u64 = splat(0x80);

/// A mask whose lowest set bit lies in the first byte of `x` (little-endian) that is not
/// plain (printable ASCII but `"` and `\`); zero when all eight are. Bits above the first one
/// may be false alarms (borrows and carries run upwards only), so only the lowest one is read.
#[inline(always)]
fn special(x: u64) -> u64 {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    // below 0x20 | equal to '"' | equal to '\\' | 0x7f and above (0x7f + 1 sets bit 7)
    (x.wrapping_sub(splat(0x20)) & !x
        | zero(x ^ splat(b'"'))
        | zero(x ^ splat(b'\\'))
        | x
        | x.wrapping_add(ONES))
        & HIGHS
}

/// How many of the eight bytes of `w` are plain before the first that is not (8: all).
#[inline(always)]
fn plain8(w: [u8; 8]) -> usize {
    (special(u64::from_le_bytes(w)).trailing_zeros() / 8) as usize
}

/// [`plain16`] from two words, for targets without SSE2 (and to check the SSE2 one).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline(always)]
fn plain16_words(c: [u8; 16]) -> usize {
    let (lo, hi) = split16(c);
    let k = plain8(lo);
    if k < 8 { k } else { 8 + plain8(hi) }
}

fn split16(c: [u8; 16]) -> ([u8; 8], [u8; 8]) {
    let mut lo = [0u8; 8];
    let mut hi = [0u8; 8];
    lo.copy_from_slice(c.get(..8).unwrap_or(&[0; 8]));
    hi.copy_from_slice(c.get(8..).unwrap_or(&[0; 8]));
    (lo, hi)
}

/// A bit for each of the sixteen bytes of `c` (bit `i` for `c[i]`) that is not plain.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn mask16(c: [u8; 16]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // SAFETY: the intrinsics need SSE2, which this function is compiled only with (the cfg
    // above; it is part of every x86_64 target), and `__m128i` is sixteen bytes with no invalid
    // bit patterns, like `[u8; 16]`. The tests check this against `plain16_words` for every
    // byte value at every place.
    unsafe {
        let v = std::mem::transmute::<[u8; 16], __m128i>(c);
        // One added, signed: controls become 0x01..=0x20, DEL 0x80 and the bytes 0x80 and
        // above 0x81..=0xff (negative) or 0x00, all below 0x21; printable ASCII stays above.
        let one = _mm_add_epi8(v, _mm_set1_epi8(1));
        let low = _mm_cmplt_epi8(one, _mm_set1_epi8(0x21));
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        let hit = _mm_or_si128(low, _mm_or_si128(quote, backslash));
        _mm_movemask_epi8(hit) as u32
    }
}

/// How many of the sixteen bytes of `c` are plain before the first that is not (16: all).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn plain16(c: [u8; 16]) -> usize {
    (mask16(c) | 1 << 16).trailing_zeros() as usize
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn plain16(c: [u8; 16]) -> usize {
    plain16_words(c)
}

/// How many of the 32 bytes of `c` are plain before the first that is not (32: all): both
/// halves' masks in one word, so no branch between them.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn plain32(c: [u8; 32]) -> usize {
    let (lo, hi) = split32(c);
    let m = u64::from(mask16(lo)) | u64::from(mask16(hi)) << 16;
    (m | 1 << 32).trailing_zeros() as usize
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn plain32(c: [u8; 32]) -> usize {
    let (lo, hi) = split32(c);
    match plain16(lo) {
        16 => 16 + plain16(hi),
        k => k,
    }
}

#[inline(always)]
fn split32(c: [u8; 32]) -> ([u8; 16], [u8; 16]) {
    (head::<16>(&c), head::<16>(c.get(16..).unwrap_or_default()))
}

/// The first `N` bytes of `s`, or `N` plain bytes if it is shorter (callers check first).
#[inline(always)]
fn head<const N: usize>(s: &[u8]) -> [u8; N] {
    s.first_chunk::<N>().copied().unwrap_or([b'a'; N])
}

/// The bytes of `s` (at most eight) in the low bytes of a word, zero above: by two
/// overlapping loads, whatever the length, never a byte loop.
#[inline(always)]
fn short_word(s: &[u8]) -> u64 {
    let n = s.len();
    let at = |i: usize| u64::from(s.get(i).copied().unwrap_or(0));
    let u32_at = |i: usize| {
        let w = s.get(i..).and_then(<[u8]>::first_chunk::<4>).copied();
        u64::from(u32::from_le_bytes(w.unwrap_or([0; 4])))
    };
    match n {
        0 => 0,
        1..=3 => at(0) | at(n / 2) << (8 * (n / 2)) | at(n - 1) << (8 * (n - 1)),
        4..=7 => u32_at(0) | u32_at(n - 4) << (8 * (n - 4)),
        _ => u64::from_le_bytes(head::<8>(s)),
    }
}

/// The last `r` bytes (1 to 8) of `s`, which has at least eight, in the low bytes of a word,
/// zero above: one load of its last eight bytes, shifted.
#[inline(always)]
fn tail_word(s: &[u8], r: usize) -> u64 {
    let last = s
        .len()
        .checked_sub(8)
        .and_then(|at| s.get(at..))
        .and_then(<[u8]>::first_chunk::<8>)
        .copied()
        .unwrap_or([0; 8]);
    u64::from_le_bytes(last) >> (8 * (8 - r.clamp(1, 8)))
}

/// Writes `s` as a JSON string (with quotes), escaping as described in the module docs; true
/// when some byte of it was not UTF-8. `line` is the event's line, which most of its strings
/// are pieces of (see [`window`]).
#[inline(always)]
fn write_str(w: &mut Out<'_>, s: &[u8], line: &[u8]) -> bool {
    // Up to sixteen plain bytes (most pids, program and host names) right here, as one block
    // whatever their length (by length, as words, the branches went either way): a call
    // costs more than the write.
    if let Some(block) = window(s, line).filter(|b| plain16(*b) >= s.len()) {
        w.quoted16(block, s.len());
        return false;
    }
    w.with(|w| write_str_at(w, s))
}

/// The sixteen bytes of `line` from where `s` starts, when `s` has at most sixteen bytes and
/// starts inside `line` with sixteen bytes of it left there: then its bytes are the first
/// `s.len()` of them (the same memory; two slices that are both alive and overlap are of one
/// allocation), and a string of any length up to sixteen is one load. Safe code: only the
/// addresses are compared, and only `line` is read.
#[inline(always)]
fn window(s: &[u8], line: &[u8]) -> Option<[u8; 16]> {
    if s.len() > 16 {
        return None;
    }
    let off = (s.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
    line.get(off..).and_then(<[u8]>::first_chunk::<16>).copied()
}

/// Strings of up to 16 plain bytes in one or two words: opening quote, the bytes, closing
/// quote. False (nothing written) for longer ones and ones that need escaping.
#[inline(always)]
fn write_short(w: &mut Out<'_>, s: &[u8]) -> bool {
    const QUOTE: u128 = b'"' as u128;
    let n = s.len();
    if n < 8 {
        let x = short_word(s);
        if plain8(x.to_le_bytes()) >= n {
            w.put_u128(QUOTE | u128::from(x) << 8 | QUOTE << (8 * (n + 1)), n + 2);
            return true;
        }
    } else if n <= 16 {
        let a = u64::from_le_bytes(head::<8>(s));
        let r = n - 8;
        let x = if r == 0 { 0 } else { tail_word(s, r) };
        if special(a) == 0 && plain8(x.to_le_bytes()) >= r {
            w.put_u128(QUOTE | u128::from(a) << 8, 9);
            w.put_u128(u128::from(x) | QUOTE << (8 * r), r + 1);
            return true;
        }
    }
    false
}

/// [`write_str`], not inlined: inlined at each of the event's string fields, the set-up of
/// every one was worked out (and spilled) before the first byte was written. Strings of up
/// to 16 plain bytes (host and program names, pids) go out here in one or two words; the
/// rest through [`write_str_long`].
#[inline(never)]
fn write_str_at(w: &mut Out<'_>, s: &[u8]) -> bool {
    w.with(|w| {
        if write_short(w, s) {
            return false;
        }
        write_str_long(w, s)
    })
}

/// [`write_str`] for any string.
#[inline(always)]
fn write_str_long(w: &mut Out<'_>, s: &[u8]) -> bool {
    w.byte(b'"');
    let mut invalid = false;
    let mut rest = s;
    loop {
        let at = copy_plain(w, rest);
        let Some(tail) = rest.get(at..).filter(|t| !t.is_empty()) else {
            break;
        };
        let used = w.with(|w| escape_at(w, tail, &mut invalid));
        rest = tail.get(used..).unwrap_or_default();
    }
    w.byte(b'"');
    invalid
}

/// Copies the plain bytes at the start of `s` to `w`; how many there were. Runs of 32 bytes
/// (16 or 8 for shorter strings) are copied whole as they are scanned and only their plain
/// bytes kept. The bytes after the last whole run are not taken in smaller and smaller steps
/// (a branch each, which went either way on lines of every length): the last run's worth of
/// `s` is copied once more, ending at its end, over the bytes just written from it.
#[inline(always)]
fn copy_plain(w: &mut Out<'_>, s: &[u8]) -> usize {
    if s.len() >= 32 {
        copy_runs::<32>(w, s, plain32)
    } else if s.len() >= 16 {
        copy_runs::<16>(w, s, plain16)
    } else if s.len() >= 8 {
        copy_runs::<8>(w, s, plain8)
    } else {
        // The zero bytes above the string count as special: the scan stops at its end.
        let x = short_word(s).to_le_bytes();
        let k = plain8(x).min(s.len());
        w.put(x, k);
        k
    }
}

/// [`copy_plain`] for `s` of at least `N` bytes, `plain` counting the plain bytes of a run.
#[inline(always)]
fn copy_runs<const N: usize>(w: &mut Out<'_>, s: &[u8], plain: impl Fn([u8; N]) -> usize) -> usize {
    // Written by index into the whole rest, so that the last run can go back over the ones
    // before it; `done` is both how much of `s` is written and where the next byte goes.
    let buf = std::mem::take(&mut w.rest);
    let mut done = 0;
    let mut runs = s.chunks_exact(N);
    for run in &mut runs {
        let c = head::<N>(run);
        let Some(dst) = buf.get_mut(done..).and_then(<[_]>::first_chunk_mut::<N>) else {
            return out_of_room(w, buf, s);
        };
        *dst = c.map(MaybeUninit::new);
        let k = plain(c);
        done += k;
        if k < N {
            w.rest = buf.get_mut(done..).unwrap_or_default();
            return done;
        }
    }
    // `done` is `s.len()` less the `r` bytes left; the run ending at the end of `s` starts
    // `N - r` bytes before them, over bytes just written from the same places of `s` (all
    // plain), so writing it again changes none of them and its plain count is at least `N - r`.
    let r = runs.remainder().len();
    let last = s.last_chunk::<N>().copied().unwrap_or([b'a'; N]);
    let at = s.len().saturating_sub(N);
    let Some(dst) = buf.get_mut(at..).and_then(<[_]>::first_chunk_mut::<N>) else {
        return out_of_room(w, buf, s);
    };
    *dst = last.map(MaybeUninit::new);
    done += plain(last).saturating_sub(N - r);
    w.rest = buf.get_mut(done..).unwrap_or_default();
    done
}

/// A run of [`copy_runs`] did not fit: the event is written again into more room, so all of
/// `s` is taken as done (the caller stops) and the rest left as it was.
#[cold]
fn out_of_room<'a>(w: &mut Out<'a>, buf: &'a mut [MaybeUninit<u8>], s: &[u8]) -> usize {
    w.rest = buf;
    w.full = true;
    s.len()
}

/// Escapes the character starting at `s[0]` (not plain ASCII); returns how many bytes it used.
/// Sets `invalid` when that byte does not start a UTF-8 character.
#[inline(never)]
fn escape_at(w: &mut Out<'_>, s: &[u8], invalid: &mut bool) -> usize {
    let b = s.first().copied().unwrap_or(0);
    match b {
        b'"' => w.put(*b"\\\"", 2),
        b'\\' => w.put(*b"\\\\", 2),
        b'\n' => w.put(*b"\\n", 2),
        b'\r' => w.put(*b"\\r", 2),
        b'\t' => w.put(*b"\\t", 2),
        0..=0x7f => push_u_escape(w, b),
        _ => {
            let width = match b {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                _ => 0,
            };
            let ch = s
                .get(..width)
                .filter(|_| width > 0)
                .and_then(|c| std::str::from_utf8(c).ok());
            match ch {
                // C1 controls (U+0080..U+009F) act on terminals too.
                Some(_) if b == 0xC2 && s.get(1).is_some_and(|n| *n <= 0x9F) => {
                    push_u_escape(w, s.get(1).copied().unwrap_or(0));
                }
                Some(c) => w.slice(c.as_bytes()),
                None => {
                    let [h, l] = hex_pair(b);
                    w.put([b'\\', b'\\', b'x', h, l], 5);
                    *invalid = true;
                    return 1;
                }
            }
            return width;
        }
    }
    1
}

/// Appends `bytes` in standard base64 (RFC 4648, padded).
#[inline(never)]
fn push_base64(w: &mut Out<'_>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |n: u32| ALPHABET.get((n & 63) as usize).copied().unwrap_or(b'=');
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        w.put(
            [
                sym(n >> 18),
                sym(n >> 12),
                if chunk.len() > 1 { sym(n >> 6) } else { b'=' },
                if chunk.len() > 2 { sym(n) } else { b'=' },
            ],
            4,
        );
    }
}

/// The two lower-case hex digits of `b`.
fn hex_pair(b: u8) -> [u8; 2] {
    let digit = |n: u8| HEX.get(usize::from(n & 15)).copied().unwrap_or(b'0');
    [digit(b >> 4), digit(b)]
}

fn push_u_escape(w: &mut Out<'_>, c: u8) {
    let [h, l] = hex_pair(c);
    w.put([b'\\', b'u', b'0', b'0', h, l], 6);
}

/// "00" to "99", two bytes each.
#[allow(clippy::indexing_slicing)]
const PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// The two decimal digits of `n % 100`.
#[inline(always)]
fn pair(n: u32) -> [u8; 2] {
    PAIRS.get((n % 100) as usize).copied().unwrap_or(*b"00")
}

/// Appends a decimal number. Below 10^8 (ports, pids, codes, counts) without a branch on its
/// length: all eight digits are built in a word, the leading zeros shifted out (by digit
/// count, loops and length tests went either way from one line to the next).
#[inline(always)]
fn push_u32(w: &mut Out<'_>, n: u32) {
    if n < 100_000_000 {
        // The four digits of `x` (below 10^4), most significant in the lowest byte.
        let four = |x: u32| {
            u64::from(u16::from_le_bytes(pair(x / 100)))
                | u64::from(u16::from_le_bytes(pair(x))) << 16
        };
        let digits = four(n / 10_000) | four(n % 10_000) << 32;
        // 1 to 8: `n | 1` has the digits of `n`, but one for 0.
        let len = (n | 1).ilog10() as usize + 1;
        w.put((digits >> (8 * (8 - len))).to_le_bytes(), len);
    } else {
        push_u32_long(w, n);
    }
}

/// Appends a decimal number, its digits built in a register and written in one go (built
/// byte by byte in a stack array, the array's load stalled on the byte stores).
#[inline(never)]
fn push_u32_long(w: &mut Out<'_>, n: u32) {
    let len = n.checked_ilog10().unwrap_or(0) as usize + 1;
    let mut digits = 0u128;
    let mut v = n;
    for i in (0..len).rev() {
        digits |= u128::from(b'0' + (v % 10) as u8) << (8 * i);
        v /= 10;
    }
    w.put_u128(digits, len);
}

/// Each octet's digits and a dot, with how many of those bytes are in use.
#[allow(clippy::indexing_slicing)]
const OCTETS: [([u8; 4], u8); 256] = {
    let mut t = [([0u8; 4], 0u8); 256];
    let mut o = 0;
    while o < 256 {
        let d = [
            b'0' + (o / 100) as u8,
            b'0' + (o / 10 % 10) as u8,
            b'0' + (o % 10) as u8,
        ];
        t[o] = if o >= 100 {
            ([d[0], d[1], d[2], b'.'], 4)
        } else if o >= 10 {
            ([d[1], d[2], b'.', 0], 3)
        } else {
            ([d[2], b'.', 0, 0], 2)
        };
        o += 1;
    }
    t
};

fn push_v4(w: &mut Out<'_>, v4: Ipv4Addr) {
    let [a, b, c, d] = v4.octets();
    for o in [a, b, c] {
        let (bytes, len) = OCTETS.get(usize::from(o)).copied().unwrap_or(([0; 4], 0));
        w.put(bytes, usize::from(len));
    }
    let (bytes, len) = OCTETS.get(usize::from(d)).copied().unwrap_or(([0; 4], 1));
    w.put(bytes, usize::from(len) - 1);
}

/// A few bytes built on the stack and appended to the output in one go.
struct Stack<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Stack<N> {
    fn new() -> Self {
        Stack {
            buf: [0; N],
            len: 0,
        }
    }

    #[inline(always)]
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn octet(&mut self, o: u8) {
        if o >= 100 {
            self.push(b'0' + o / 100);
        }
        if o >= 10 {
            self.push(b'0' + o / 10 % 10);
        }
        self.push(b'0' + o % 10);
    }

    /// `seg` in lower-case hex without leading zeros, as `Display` for `Ipv6Addr` writes it.
    fn hex16(&mut self, seg: u16) {
        let mut started = false;
        for shift in [12u16, 8, 4, 0] {
            let d = (seg >> shift) & 15;
            if d != 0 || started || shift == 0 {
                started = true;
                self.push(HEX.get(usize::from(d)).copied().unwrap_or(b'0'));
            }
        }
    }

    fn groups(&mut self, chunk: &[u16]) {
        for (k, &s) in chunk.iter().enumerate() {
            if k > 0 {
                self.push(b':');
            }
            self.hex16(s);
        }
    }

    fn v4(&mut self, v4: Ipv4Addr) {
        for (k, o) in v4.octets().into_iter().enumerate() {
            if k > 0 {
                self.push(b'.');
            }
            self.octet(o);
        }
    }

    fn done(&self, w: &mut Out<'_>) {
        w.put(self.buf, self.len);
    }
}

/// Appends `v6` exactly as its `Display` would (RFC 5952: the longest run of two or more zero
/// groups, the first of equal ones, becomes `::`; IPv4-mapped addresses end in dotted quad).
#[inline(never)]
fn push_v6(w: &mut Out<'_>, v6: Ipv6Addr) {
    let mut b = Stack::<48>::new();
    if let Some(v4) = v6.to_ipv4_mapped() {
        for &c in b"::ffff:" {
            b.push(c);
        }
        b.v4(v4);
        b.done(w);
        return;
    }
    let segs = v6.segments();
    let (mut best_start, mut best_len, mut cur_start, mut cur_len) = (0, 0, 0, 0);
    for (i, &s) in segs.iter().enumerate() {
        if s == 0 {
            if cur_len == 0 {
                cur_start = i;
            }
            cur_len += 1;
            if cur_len > best_len {
                (best_start, best_len) = (cur_start, cur_len);
            }
        } else {
            cur_len = 0;
        }
    }
    if best_len > 1 {
        b.groups(segs.get(..best_start).unwrap_or_default());
        b.push(b':');
        b.push(b':');
        b.groups(segs.get(best_start + best_len..).unwrap_or_default());
    } else {
        b.groups(&segs);
    }
    b.done(w);
}

#[inline(always)]
fn push_ip(w: &mut Out<'_>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => push_v4(w, v4),
        IpAddr::V6(v6) => w.with(|w| push_v6(w, v6)),
    }
}

/// `"YYYY-MM-DDT` for a day number (days since 1970-01-01; the year clamped to 0..=9999 as
/// `Timestamp::write_rfc3339` does), as the low twelve bytes of a little-endian word: built
/// and handed back in registers (as an array, in memory, its bytes were stored one by one and
/// read back as a block, which stalls).
#[inline(never)]
fn date_prefix(days: i64) -> u128 {
    // 1970 to 2100 from two small tables: no chain of multiplications (Neri and Schneider's
    // is one, about forty cycles long, and the mixed corpus's header dates miss the cache).
    if let Ok(d) = u16::try_from(days)
        && let Some(&year) = YEARS.get(usize::from(d / 365))
    {
        // `d / 365` is the year or the one after (fewer than 365 leap days before 2100), and
        // a year starts on the day its entry gives.
        let (start, year) = match YEARS.get(usize::from(d / 365).wrapping_sub(1)) {
            Some(&before) if d < year.start => (before.start, before),
            _ => (year.start, year),
        };
        let day_of_year = usize::from(d - start);
        // The table is a leap year's: past February, a common year's day is one further on.
        let at = day_of_year + usize::from(!year.leap && day_of_year >= 59);
        let month_day = MONTH_DAYS.get(at).copied().unwrap_or(0);
        return u128::from(b'"') | u128::from(year.digits) << 8 | u128::from(month_day) << 40;
    }
    date_prefix_of_any(days)
}

/// [`date_prefix`] for any day.
fn date_prefix_of_any(days: i64) -> u128 {
    let (year, month, day) = date_of(days);
    let year = year.clamp(0, 9999) as u32;
    let two = |n: u32, at: u32| u128::from(u16::from_le_bytes(pair(n))) << (8 * at);
    u128::from(b'"')
        | two(year / 100, 1)
        | two(year, 3)
        | u128::from(b'-') << 40
        | two(month, 6)
        | u128::from(b'-') << 64
        | two(day, 9)
        | u128::from(b'T') << 88
}

/// One year of [`YEARS`].
#[derive(Clone, Copy)]
struct Year {
    /// Its first day, in days since 1970-01-01.
    start: u16,
    leap: bool,
    /// Its four digits, as they are written (the first in the lowest byte).
    digits: u32,
}

/// 1970 to 2100 (the 16-bit day numbers [`date_prefix`] looks up: 2100 ends before day 65,535).
// Only evaluated at compile time: an index out of range is a build error.
#[allow(clippy::indexing_slicing)]
const YEARS: [Year; 131] = {
    let mut t = [Year {
        start: 0,
        leap: false,
        digits: 0,
    }; 131];
    let mut i = 0;
    let mut start = 0u32;
    while i < t.len() {
        let y = 1970 + i as u32;
        let leap = y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400));
        const fn d(n: u32) -> u32 {
            (b'0' + (n % 10) as u8) as u32
        }
        t[i] = Year {
            start: start as u16,
            leap,
            digits: d(y / 1000) | d(y / 100) << 8 | d(y / 10) << 16 | d(y) << 24,
        };
        start += if leap { 366 } else { 365 };
        i += 1;
    }
    t
};

/// `-MM-DDT` for each day of a leap year, the first byte in the lowest.
#[allow(clippy::indexing_slicing)]
const MONTH_DAYS: [u64; 366] = {
    const LENGTHS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut t = [0u64; 366];
    let mut i = 0;
    let mut m = 0;
    while m < 12 {
        let mut d = 1;
        while d <= LENGTHS[m] {
            let month = m as u32 + 1;
            let b = [
                b'-',
                b'0' + (month / 10) as u8,
                b'0' + (month % 10) as u8,
                b'-',
                b'0' + (d / 10) as u8,
                b'0' + (d % 10) as u8,
                b'T',
                0,
            ];
            t[i] = u64::from_le_bytes(b);
            i += 1;
            d += 1;
        }
        m += 1;
    }
    t
};

/// [`civil_from_days`] by Neri and Schneider's algorithm ("Euclidean affine functions and
/// their application to calendar algorithms", 2022): in 32-bit unsigned arithmetic, with
/// multiplications and shifts in place of most divisions. Days outside the range it covers
/// (about a million years either side of 1970) go to `civil_from_days`.
fn date_of(days: i64) -> (i64, u32, u32) {
    /// Eras of 400 years added so that every day in range is positive.
    const ERAS: u32 = 2_500;
    const K: u32 = 719_468 + 146_097 * ERAS;
    // The largest day with `4 * (days + K) + 3` below 2^32.
    const MAX: i64 = ((u32::MAX - 3) / 4 - K) as i64;
    if days < -i64::from(K) || days > MAX {
        return civil_from_days(days);
    }
    let n = (days + i64::from(K)) as u32;
    let n1 = 4 * n + 3;
    let century = n1 / 146_097;
    let of_century = n1 % 146_097 / 4;
    let n2 = 4 * of_century + 3;
    let p2 = 2_939_745 * u64::from(n2);
    let year_of_century = (p2 >> 32) as u32;
    let day_of_year = (p2 as u32) / 2_939_745 / 4;
    let n3 = 2_141 * day_of_year + 197_913;
    let (month, day) = (n3 >> 16, (n3 & 0xffff) / 2_141 + 1);
    // The computed year starts in March: January and February belong to the next one.
    let january = day_of_year >= 306;
    let year =
        i64::from(100 * century + year_of_century) - i64::from(400 * ERAS) + i64::from(january);
    (year, if january { month - 12 } else { month }, day)
}

/// Which of the date caches a stamp uses: the header's stamps and the receive times each keep
/// their own, so that an event with both does not evict the other's.
#[derive(Clone, Copy)]
enum Slot {
    Header = 0,
    Received = 1,
}

thread_local! {
    /// The last day number written per [`Slot`] and its date prefix: consecutive events mostly
    /// fall on the same day, and the civil date is the dearest part of a stamp.
    static DATES: [Cell<(i64, u128)>; 2] =
        const { [Cell::new((i64::MIN, 0)), Cell::new((i64::MIN, 0))] };
}

/// Appends `"` + the RFC 3339 form of `t` + `"`, the bytes `Timestamp::write_rfc3339` gives.
/// Not inlined: inside `fields`, the digits of every precision were worked out up front for
/// both stamps, present or not (measured: a fifth of the writer's instructions).
#[inline(never)]
fn push_time(w: &mut Out<'_>, t: Timestamp, slot: Slot) {
    const DAY: i64 = 86_400;
    // No day number reaches i64::MIN (the cache's "nothing yet"): secs / 86400 cannot.
    let days = t.secs.div_euclid(DAY);
    let sod = (t.secs - days * DAY) as u32;
    let date = DATES.with(|cache| {
        let Some(cell) = cache.get(slot as usize) else {
            return date_prefix(days);
        };
        let (cached, prefix) = cell.get();
        if cached == days {
            return prefix;
        }
        let prefix = date_prefix(days);
        cell.set((days, prefix));
        prefix
    });
    w.put_u128(date, 12);
    let minutes = sod / 60;
    let hours = minutes / 60;
    let [h0, h1] = pair(hours);
    let [m0, m1] = pair(minutes - 60 * hours);
    let [s0, s1] = pair(sod - 60 * minutes);
    w.put([h0, h1, b':', m0, m1, b':', s0, s1], 8);
    let nanos = t.nanos % 1_000_000_000;
    if nanos == 0 {
        w.put(*b"Z\"", 2);
    } else if nanos.is_multiple_of(1_000_000) {
        let ms = nanos / 1_000_000;
        let [a, b] = pair(ms / 10);
        let [_, c] = pair(ms);
        w.put([b'.', a, b, c, b'Z', b'"'], 6);
    } else if nanos.is_multiple_of(1_000) {
        let us = nanos / 1_000;
        let [a, b] = pair(us / 10_000);
        let [c, d] = pair(us / 100);
        let [e, f] = pair(us);
        w.put([b'.', a, b, c, d, e, f, b'Z', b'"'], 9);
    } else {
        let [a, b] = pair(nanos / 10_000_000);
        let [c, d] = pair(nanos / 100_000);
        let [e, f] = pair(nanos / 1_000);
        let [g, h] = pair(nanos / 10);
        let i = b'0' + (nanos % 10) as u8;
        w.put([b'.', a, b, c, d, e, f, g, h, i, b'Z', b'"'], 12);
    }
}

/// Bytes fixed at compile time in an array of `N`, copied whole (a few vector moves), of which
/// the first `len` are output.
#[derive(Clone, Copy)]
struct Piece<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Piece<N> {
    /// The parts one after the other; a piece longer than `N` fails the build.
    // Only evaluated at compile time (the tables below): an index out of range is a build error.
    #[allow(clippy::indexing_slicing)]
    const fn new(parts: &[&[u8]]) -> Self {
        let mut bytes = [b' '; N];
        let mut len = 0;
        let mut p = 0;
        while p < parts.len() {
            let part = parts[p];
            let mut i = 0;
            while i < part.len() {
                bytes[len] = part[i];
                len += 1;
                i += 1;
            }
            p += 1;
        }
        Piece { bytes, len }
    }

    #[inline(always)]
    fn write(&'static self, w: &mut Out<'_>) {
        w.put_ref(&self.bytes, self.len);
    }
}

/// Nothing, where a table has no entry (never: every code has one).
const EMPTY: Piece<32> = Piece::new(&[]);
/// [`EMPTY`] the size of an [`ACTIONS`] entry.
const EMPTY_80: Piece<80> = Piece::new(&[]);

/// `"dataset":"NAME"` by dataset code, after `before` (a comma, or nothing).
// Only evaluated at compile time: an index out of range is a build error.
#[allow(clippy::indexing_slicing)]
const fn datasets(before: &[u8]) -> [Piece<32>; Dataset::ALL.len()] {
    let mut t = [Piece::new(&[]); Dataset::ALL.len()];
    let mut i = 0;
    while i < Dataset::ALL.len() {
        let name = Dataset::ALL[i].as_str().as_bytes();
        t[Dataset::ALL[i] as usize] = Piece::new(&[before, b"\"dataset\":\"", name, b"\""]);
        i += 1;
    }
    t
}

/// The dataset as the first field of `event`.
const DATASET_FIRST: [Piece<32>; Dataset::ALL.len()] = datasets(b"");
/// The dataset after `event.received`.
const DATASET_NEXT: [Piece<32>; Dataset::ALL.len()] = datasets(b",");

/// `,"action":"NAME","kind":"KIND","outcome":"OUTCOME"` by action code (0: no action, only
/// `,"kind":"event"`), the fields the action decides, in the order they are written.
#[allow(clippy::indexing_slicing)]
const ACTIONS: [Piece<80>; Action::ALL.len() + 1] = {
    let mut t = [Piece::new(&[b",\"kind\":\"event\""]); Action::ALL.len() + 1];
    let mut i = 0;
    while i < Action::ALL.len() {
        let a = Action::ALL[i];
        let kind: &[u8] = if matches!(a, Action::IdsAlert | Action::PortScan) {
            b"alert"
        } else {
            b"event"
        };
        let action = a.as_str().as_bytes();
        t[a as usize] = match a.outcome() {
            Some(o) => Piece::new(&[
                b",\"action\":\"",
                action,
                b"\",\"kind\":\"",
                kind,
                b"\",\"outcome\":\"",
                o.as_bytes(),
                b"\"",
            ]),
            None => Piece::new(&[b",\"action\":\"", action, b"\",\"kind\":\"", kind, b"\""]),
        };
        i += 1;
    }
    t
};

/// A transport picket names, as a JSON string.
#[inline(always)]
fn known_transport(t: Transport<'_>) -> &'static Piece<16> {
    match t {
        Transport::Tcp => const { &Piece::new(&[b"\"tcp\""]) },
        Transport::Udp => const { &Piece::new(&[b"\"udp\""]) },
        Transport::Icmp => const { &Piece::new(&[b"\"icmp\""]) },
        Transport::Ipv6Icmp => const { &Piece::new(&[b"\"ipv6-icmp\""]) },
        Transport::Igmp => const { &Piece::new(&[b"\"igmp\""]) },
        Transport::Gre => const { &Piece::new(&[b"\"gre\""]) },
        Transport::Esp => const { &Piece::new(&[b"\"esp\""]) },
        Transport::Ah => const { &Piece::new(&[b"\"ah\""]) },
        Transport::Sctp => const { &Piece::new(&[b"\"sctp\""]) },
        Transport::Other(_) => const { &Piece::new(&[b"\"\""]) },
    }
}

/// The fields of one JSON object, written in order; `first` is whether no field is out yet.
/// Keys are constants that start with their comma (`,"name":`), cut off for the first field.
struct Fields<'o, 'a, 'l> {
    out: &'o mut Out<'a>,
    first: bool,
    /// The event's line, for [`write_str`].
    line: &'l [u8],
}

impl<'a, 'l> Fields<'_, 'a, 'l> {
    /// The fields of a nested object whose key (ending in the opening brace) is written:
    /// the caller closes it.
    #[inline(always)]
    fn nested(&mut self) -> Fields<'_, 'a, 'l> {
        Fields {
            out: self.out,
            first: true,
            line: self.line,
        }
    }
}

impl Fields<'_, '_, '_> {
    #[inline(always)]
    fn key(&mut self, k: &'static [u8]) {
        if self.first {
            self.out.slice(k.get(1..).unwrap_or_default());
        } else {
            self.out.slice(k);
        }
        self.first = false;
    }

    #[inline(always)]
    fn str(&mut self, k: &'static [u8], v: Option<&[u8]>) {
        if let Some(v) = v {
            self.key(k);
            write_str(self.out, v, self.line);
        }
    }

    #[inline(always)]
    fn num(&mut self, k: &'static [u8], v: Option<u32>) {
        if let Some(v) = v {
            self.key(k);
            push_u32(self.out, v);
        }
    }

    /// `process.pid`.
    #[inline(always)]
    fn pid(&mut self, k: &'static [u8], pid: Pid) {
        match pid {
            Pid::None => {}
            Pid::Digits(block, n) => {
                self.key(k);
                self.out.put(block, n);
            }
            Pid::Number(n) => {
                self.key(k);
                push_u32(self.out, n);
            }
        }
    }

    /// An address; `k` ends in the opening quote.
    #[inline(always)]
    fn ip(&mut self, k: &'static [u8], v: Option<IpAddr>) {
        if let Some(v) = v {
            self.key(k);
            push_ip(self.out, v);
            self.out.byte(b'"');
        }
    }

    /// A nested object, written only when `present` (it has at least one field); `k` ends in
    /// the opening brace.
    #[inline(always)]
    fn object(&mut self, k: &'static [u8], present: bool, f: impl FnOnce(&mut Fields<'_, '_, '_>)) {
        if !present {
            return;
        }
        self.key(k);
        f(&mut self.nested());
        self.out.byte(b'}');
    }
}

// The presence tests below are `|`, not `||`: one branch on all of them, not one each (whose
// outcomes change from line to line with the family).
fn endpoint_present(ep: &Endpoint<'_>) -> bool {
    ep.ip.is_some() | ep.port.is_some() | ep.domain.is_some()
}

/// How `process.pid` is written, from the PROCID: its own bytes where they are the number's
/// decimal form (no digit loop to read it, none to write it back: both ended on a branch that
/// went either way with the number of digits), else the number it reads as.
#[derive(Clone, Copy)]
enum Pid {
    /// The PROCID is not a number (or there is none): no `pid`.
    None,
    /// The first `.1` bytes (one to eight) of the block are the number as written.
    Digits([u8; 8], usize),
    /// The number, to be formatted.
    Number(u32),
}

impl Pid {
    #[inline(always)]
    fn of(h: &Header<'_>, line: &[u8]) -> Pid {
        let Some(p) = h.procid else {
            return Pid::None;
        };
        let n = p.len();
        if let Some(block) = window(p, line) {
            let w = head::<8>(&block);
            // A byte is a digit when its high half is 3 and adding 6 leaves it so; a carry
            // out of a byte of 0xfa or more can only spoil the verdict on bytes above one that
            // already failed.
            let x = u64::from_le_bytes(w);
            let hi = splat(0xf0);
            let bad = ((x & hi) ^ splat(0x30)) | ((x.wrapping_add(splat(6)) & hi) ^ splat(0x30));
            let lanes = u64::MAX >> (8 * (8 - n.clamp(1, 8)));
            // No leading zero (but "0" itself): then these are the digits `Display` writes.
            if (1..=8).contains(&n) && bad & lanes == 0 && (w[0] != b'0' || n == 1) {
                return Pid::Digits(w, n);
            }
        }
        match h.pid() {
            Some(n) => Pid::Number(n),
            None => Pid::None,
        }
    }
}

fn len(v: Option<&[u8]>) -> usize {
    v.map_or(0, <[u8]>::len)
}

/// Room that always holds the event's JSON: every string byte escaped as `\u00XX` (six bytes),
/// the base64 of the line, and the keys, numbers, stamps and addresses with the slack of the
/// widest fixed-size write. Cold and not inlined: only a second pass needs it, and inlined it
/// was worked out in front of the first.
#[cold]
#[inline(never)]
fn room(ev: &Event<'_>) -> usize {
    let h = &ev.header;
    let d = &ev.details;
    let strings = ev.original.len()
        + h.message.len()
        + len(h.hostname)
        + 2 * len(h.appname)
        + len(h.procid)
        + len(h.msgid)
        + len(h.structured_data)
        + len(d.code)
        + len(d.source.domain)
        + len(d.destination.domain)
        + len(d.transport.map(|t| t.name()))
        + len(d.rule.id)
        + len(d.rule.name)
        + len(d.rule.category)
        + len(d.user)
        + len(d.service);
    6 * strings + ev.original.len() / 3 * 4 + 4 + 1024
}

/// Room that holds the JSON of all but freak events, cheap to work out: the fields are pieces
/// of the line (together about twice its length), so sixteen times it leaves room for heavy
/// escaping. When it is too little, [`write_event_in`] writes the event again into [`room`].
fn likely_room(ev: &Event<'_>) -> usize {
    16 * ev.original.len() + 2048
}

/// Appends the event as one JSON object (no trailing newline).
pub fn write_event(out: &mut Vec<u8>, ev: &Event<'_>) {
    write_event_in(out, ev, likely_room(ev));
}

/// [`write_event`] with the room to reserve first: when it is too little, the event is
/// written again into [`room`]'s worst case (or twice as much, if that was less).
fn write_event_in(out: &mut Vec<u8>, ev: &Event<'_>, mut room: usize) {
    loop {
        out.reserve(room);
        let spare = out.spare_capacity_mut();
        let room_there = spare.len();
        let mut w = Out::new(spare);
        fields(&mut w, ev);
        if !w.full {
            let n = room_there - w.rest.len();
            // SAFETY: `Out` has written every byte before its `rest` (see its invariant), and
            // it started on the spare capacity after `out.len()`: these `n` bytes are
            // initialised and within the capacity.
            unsafe { out.set_len(out.len() + n) };
            return;
        }
        room = room.saturating_mul(2).max(self::room(ev));
    }
}

/// The event's fields, in the order the JSON has always had them. Where whether a field is
/// the first of its object is known here, its key is one constant with what comes before it.
/// Not inlined into `write_event_in`'s retry loop: there, everything this works out from the
/// event was hoisted in front of the loop, for every field whether present or not.
#[inline(never)]
fn fields(w: &mut Out<'_>, ev: &Event<'_>) {
    // On a copy, so that the cursor can live in registers.
    w.with(|w| fields_on(w, ev));
}

/// The body of [`fields`].
#[inline(always)]
fn fields_on(w: &mut Out<'_>, ev: &Event<'_>) {
    let h = &ev.header;
    let d = &ev.details;
    let line = ev.original;
    match h.timestamp.or(ev.received) {
        Some(t) => {
            w.slice(b"{\"@timestamp\":");
            w.with(|w| push_time(w, t, Slot::Header));
            w.slice(b",\"event\":{");
        }
        None => w.slice(b"{\"event\":{"),
    }
    match ev.received {
        Some(t) => {
            w.slice(b"\"received\":");
            w.with(|w| push_time(w, t, Slot::Received));
            DATASET_NEXT.get(ev.dataset as usize)
        }
        None => DATASET_FIRST.get(ev.dataset as usize),
    }
    .unwrap_or(&EMPTY)
    .write(w);
    ACTIONS
        .get(d.action.map_or(0, |a| a as usize))
        .unwrap_or(&EMPTY_80)
        .write(w);
    if let Some(n) = d.priority.map(u32::from).or(h.severity().map(u32::from)) {
        w.slice(b",\"severity\":");
        push_u32(w, n);
    }
    if let Some(code) = d.code {
        w.slice(b",\"code\":");
        write_str(w, code, line);
    }
    if let Some(n) = h.repeat {
        w.slice(b",\"repeat_count\":");
        push_u32(w, n);
    }
    w.slice(b",\"original\":");
    if write_str(w, ev.original, line) {
        // The escaped `original` cannot tell a raw 0xff from the text `\xff`.
        w.slice(b",\"original_base64\":\"");
        w.with(|w| push_base64(w, ev.original));
        w.byte(b'"');
    }
    w.slice(b"},\"message\":");
    write_str(w, h.message, line);
    if let Some(host) = h.hostname {
        w.slice(b",\"host\":{\"hostname\":");
        write_str(w, host, line);
        w.byte(b'}');
    }
    let pid = Pid::of(h, line);
    let mut o = Fields {
        out: w,
        first: false,
        line,
    };
    o.object(
        b",\"process\":{",
        h.appname.is_some() | !matches!(pid, Pid::None),
        |x| {
            x.str(b",\"name\":", h.appname);
            x.pid(b",\"pid\":", pid);
        },
    );
    // Twice in a row, not a loop over an array of the two: from the array, each end's fields
    // were loaded only after its address came back from the stack.
    // Not through `Fields::object`: its closure, called twice, was left out of line.
    #[inline(always)]
    fn endpoint(o: &mut Fields<'_, '_, '_>, key: &'static [u8], ep: &Endpoint<'_>) {
        if !endpoint_present(ep) {
            return;
        }
        o.key(key);
        let mut x = o.nested();
        x.ip(b",\"ip\":\"", ep.ip);
        x.num(b",\"port\":", ep.port.map(u32::from));
        x.str(b",\"domain\":", ep.domain);
        o.out.byte(b'}');
    }
    endpoint(&mut o, b",\"source\":{", &d.source);
    endpoint(&mut o, b",\"destination\":{", &d.destination);
    if let Some(t) = d.transport {
        o.out.slice(b",\"network\":{\"transport\":");
        match t {
            Transport::Other(name) => {
                write_str(o.out, name, line);
            }
            known => known_transport(known).write(o.out),
        }
        o.out.byte(b'}');
    }
    let r = &d.rule;
    o.object(
        b",\"rule\":{",
        r.id.is_some() | r.name.is_some() | r.category.is_some(),
        |x| {
            x.str(b",\"id\":", r.id);
            x.str(b",\"name\":", r.name);
            x.str(b",\"category\":", r.category);
        },
    );
    if ev.truncated {
        o.out.slice(b",\"tags\":[\"truncated\"]");
    }
    if let Some(user) = d.user {
        o.out.slice(b",\"user\":{\"name\":");
        write_str(o.out, user, line);
        o.out.byte(b'}');
    }
    if let Some(service) = d.service {
        o.out.slice(b",\"service\":{\"name\":");
        write_str(o.out, service, line);
        o.out.byte(b'}');
    }
    let (facility, severity) = (h.facility(), h.severity());
    let syslog = facility.is_some()
        | severity.is_some()
        | h.version.is_some()
        | h.appname.is_some()
        | h.procid.is_some()
        | h.msgid.is_some()
        | h.structured_data.is_some()
        | h.sequence.is_some();
    o.object(b",\"log\":{\"syslog\":{", syslog, |s| {
        s.object(b",\"facility\":{", facility.is_some(), |f| {
            f.num(b",\"code\":", facility.map(u32::from))
        });
        s.object(b",\"severity\":{", severity.is_some(), |f| {
            f.num(b",\"code\":", severity.map(u32::from))
        });
        s.num(b",\"version\":", h.version.map(u32::from));
        s.str(b",\"appname\":", h.appname);
        s.str(b",\"procid\":", h.procid);
        s.str(b",\"msgid\":", h.msgid);
        s.str(b",\"structured_data\":", h.structured_data);
        s.num(b",\"sequence\":", h.sequence);
        s.out.byte(b'}');
    });
    o.out.byte(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ParseContext;
    use crate::line::parse_line;

    fn json(line: &[u8]) -> String {
        let ev = parse_line(line, &ParseContext::new(1_005_300_000));
        let mut out = Vec::new();
        write_event(&mut out, &ev);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn design_example() {
        let j = json(
            b"<38>Nov  8 15:26:31 linux ftpd[3689]: refused connect from 7dyn94.ztm.casema.net",
        );
        assert_eq!(
            j,
            concat!(
                r#"{"@timestamp":"2001-11-08T15:26:31Z","event":{"dataset":"tcpd","action":"connection-refused","kind":"event","outcome":"failure","severity":6,"#,
                r#""original":"<38>Nov  8 15:26:31 linux ftpd[3689]: refused connect from 7dyn94.ztm.casema.net"},"#,
                r#""message":"refused connect from 7dyn94.ztm.casema.net","host":{"hostname":"linux"},"process":{"name":"ftpd","pid":3689},"#,
                r#""source":{"domain":"7dyn94.ztm.casema.net"},"log":{"syslog":{"facility":{"code":4},"severity":{"code":6},"appname":"ftpd","procid":"3689"}}}"#
            )
        );
    }

    /// Decodes padded standard base64, for checking `push_base64`.
    fn unbase64(s: &str) -> Vec<u8> {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = Vec::new();
        for c in s.bytes().take_while(|c| *c != b'=') {
            bits = (bits << 6) | A.iter().position(|a| *a == c).unwrap() as u32;
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
            }
        }
        out
    }

    /// What `f` writes through an `Out` over a fresh buffer's spare capacity.
    fn written(f: impl FnOnce(&mut Out<'_>)) -> Vec<u8> {
        let mut v = Vec::with_capacity(4096);
        let spare = v.spare_capacity_mut();
        let room = spare.len();
        let mut w = Out::new(spare);
        f(&mut w);
        assert!(!w.full);
        let n = room - w.rest.len();
        // SAFETY: as in `write_event_in`.
        unsafe { v.set_len(n) };
        v
    }

    fn str_json(s: &[u8]) -> Vec<u8> {
        written(|w| {
            write_str(w, s, &[]);
        })
    }

    #[test]
    fn a_raw_byte_and_the_text_backslash_x_differ_and_the_bytes_come_back() {
        // The text `\xe9 \xff` (backslashes and letters), valid UTF-8.
        let raw = br"<13>Nov  8 15:26:31 h app: caf\xe9 \xff".to_vec();
        let text = json(&raw);
        assert!(!text.contains("original_base64"), "{text}");
        let mut bin = b"<13>Nov  8 15:26:31 h app: caf\xe9 ".to_vec();
        bin.push(0xff);
        let j = json(&bin);
        let b64 = j.split("\"original_base64\":\"").nth(1).unwrap();
        let b64 = &b64[..b64.find('"').unwrap()];
        assert_eq!(unbase64(b64), bin);
        for len in 0..7usize {
            let bytes: Vec<u8> = (0..len).map(|i| 0xf0 + i as u8).collect();
            let out = written(|w| push_base64(w, &bytes));
            assert_eq!(out.len(), len.div_ceil(3) * 4);
            assert_eq!(unbase64(std::str::from_utf8(&out).unwrap()), bytes);
        }
    }

    /// The straightforward form of `write_str`, to check the fast one against.
    fn reference(s: &[u8]) -> String {
        let mut out = String::from("\"");
        for chunk in s.utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) => {
                        out.push_str(&format!("\\u{:04x}", c as u32))
                    }
                    c => out.push(c),
                }
            }
            for b in chunk.invalid() {
                out.push_str(&format!("\\\\x{b:02x}"));
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn fast_escaping_matches_the_reference() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let alphabet: &[u8] =
            b"a\"\\\n\x1b\x7f\xc2\x9b\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80\xff\x80 ";
        for _ in 0..20_000 {
            let mut s = Vec::new();
            for _ in 0..(seed % 41) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let out = str_json(&s);
            assert_eq!(String::from_utf8(out).unwrap(), reference(&s), "{s:x?}");
        }
    }

    #[test]
    fn escapes_controls_and_keeps_bad_bytes() {
        let out = str_json(b"a\"b\\c\n\x1b[31m\x7f\xc2\x9b\xe9z\xc3\xa9\xe2\x82\x80\x82");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\"b\\c\n\u001b[31m\u007f\u009b\\xe9zé₀\\x82""#
        );
    }

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let check = |ip: IpAddr| {
            let out = written(|w| push_ip(w, ip));
            assert_eq!(String::from_utf8(out).unwrap(), ip.to_string());
        };
        for s in [
            "::",
            "::1",
            "1::",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "1:0:0:1:0:0:0:1",
            "1:0:0:0:1:0:0:1",
            "0:1:0:1:0:1:0:1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "2001:db8::8:800:200c:417a",
            "0.0.0.0",
            "255.255.255.255",
            "10.0.100.9",
        ] {
            check(s.parse().unwrap());
        }
        for _ in 0..50_000 {
            let r = xorshift(&mut seed);
            // Segments drawn so that zero runs of every length and place occur.
            let mut segs = [0u16; 8];
            for (i, g) in segs.iter_mut().enumerate() {
                if (r >> (i * 3)) & 3 != 0 {
                    *g = (xorshift(&mut seed) >> ((r >> 40) % 48)) as u16;
                }
            }
            if r & (1 << 60) != 0 {
                segs[..5].fill(0);
                segs[5] = 0xffff;
            }
            check(IpAddr::V6(Ipv6Addr::from(segs)));
            check(IpAddr::V4(Ipv4Addr::from(
                (r >> 16) as u32 >> ((r & 7) * 4),
            )));
        }
    }

    #[test]
    fn stamps_are_written_as_write_rfc3339_writes_them() {
        let mut seed = 0x0123_4567_89ab_cdefu64;
        for i in 0..100_000u64 {
            let r = xorshift(&mut seed);
            let secs = match i % 3 {
                0 => (r % 4_000_000_000) as i64 - 500_000_000,
                1 => (r as i64) >> (r % 40),
                _ => 1_795_392_000 + (r % 100_000) as i64,
            };
            let nanos = match (r >> 50) % 5 {
                0 => 0,
                1 => (r % 1000) as u32 * 1_000_000,
                2 => (r % 1_000_000) as u32 * 1000,
                3 => (r % 1_000_000_000) as u32,
                _ => (r >> 20) as u32,
            };
            let t = Timestamp { secs, nanos };
            let mut want = b"\"".to_vec();
            t.write_rfc3339(&mut want);
            want.push(b'"');
            let got = written(|w| push_time(w, t, Slot::Header));
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
    }

    #[test]
    fn the_block_scans_stop_where_the_byte_scan_does() {
        let mut seed = 0xdead_beef_u64;
        for _ in 0..200_000 {
            let r = xorshift(&mut seed);
            let len = (r % 40) as usize;
            let r = r >> 6;
            let mut s: Vec<u8> = (0..len)
                .map(|_| b' ' + (xorshift(&mut seed) % 95) as u8)
                .filter(|b| PLAIN[usize::from(*b)])
                .collect();
            let len = s.len();
            if len > 0 && r & 1 == 0 {
                let at = (r >> 8) as usize % len;
                s[at] = (r >> 32) as u8;
                if r & 2 == 0 {
                    let at2 = (r >> 16) as usize % len;
                    s[at2] = (r >> 40) as u8;
                }
            }
            let want = s
                .iter()
                .position(|b| !PLAIN[usize::from(*b)])
                .unwrap_or(s.len());
            if let Ok(block) = <[u8; 16]>::try_from(s.get(..16).unwrap_or_default()) {
                assert_eq!(plain16(block), want.min(16), "{s:x?}");
                assert_eq!(plain16_words(block), want.min(16), "{s:x?}");
            }
            let out = written(|w| {
                w.slice(b"xy");
                assert_eq!(copy_plain(w, &s), want, "{s:x?}");
            });
            assert_eq!(&out[2..], &s[..want], "{s:x?}");
        }
    }

    #[test]
    fn every_byte_value_at_every_place_in_a_block_is_judged_as_the_table_says() {
        for b in 0..=255u8 {
            for at in 0..16 {
                let mut block = [b'a'; 16];
                block[at] = b;
                let want = if PLAIN[usize::from(b)] { 16 } else { at };
                assert_eq!(plain16(block), want, "{b:#x} at {at}");
                assert_eq!(plain16_words(block), want, "{b:#x} at {at}");
            }
        }
    }

    #[test]
    fn numbers_are_written_as_display_writes_them() {
        let mut seed = 0x5151_u64;
        let check = |n: u32| {
            assert_eq!(written(|w| push_u32(w, n)), n.to_string().into_bytes());
        };
        for n in (0..100_000).chain([
            u32::MAX,
            99_999_999,
            100_000_000,
            999_999_999,
            1_000_000_000,
            4_000_000_000,
        ]) {
            check(n);
        }
        for _ in 0..100_000 {
            check((xorshift(&mut seed) >> (seed % 32)) as u32);
        }
    }

    /// An event with every field set, strings of `n` bytes each that all need the widest escape.
    fn worst(n: usize, original: &[u8]) -> Event<'_> {
        let mut ev = parse_line(original, &ParseContext::new(1_005_300_000));
        let s = &original[..n.min(original.len())];
        let h = &mut ev.header;
        (h.hostname, h.appname, h.procid, h.msgid, h.structured_data) =
            (Some(s), Some(s), Some(s), Some(s), Some(s));
        h.message = s;
        (h.pri, h.version, h.sequence, h.repeat) =
            (Some(191), Some(1), Some(u32::MAX), Some(u32::MAX));
        h.timestamp = Some(Timestamp {
            secs: i64::MIN / 2,
            nanos: 999_999_999,
        });
        ev.received = Some(Timestamp {
            secs: i64::MAX / 2,
            nanos: 1,
        });
        let d = &mut ev.details;
        d.action = Some(Action::ConnectionAccepted);
        d.priority = Some(255);
        (d.code, d.user, d.service) = (Some(s), Some(s), Some(s));
        (d.rule.id, d.rule.name, d.rule.category) = (Some(s), Some(s), Some(s));
        let ip: IpAddr = "1111:2222:3333:4444:5555:6666:7777:8888".parse().unwrap();
        for ep in [&mut d.source, &mut d.destination] {
            (ep.ip, ep.port, ep.domain) = (Some(ip), Some(65535), Some(s));
        }
        d.transport = Some(crate::event::Transport::Other(s));
        ev.truncated = true;
        ev
    }

    #[test]
    fn the_room_reserved_holds_the_worst_event() {
        for n in [0usize, 1, 7, 100, 1000] {
            // C0 controls escape to six bytes each: the most any byte takes.
            let line = vec![0x01u8; n];
            let ev = worst(n, &line);
            let mut out = Vec::new();
            let mut w = Out::new(&mut []);
            fields(&mut w, &ev);
            assert!(w.full, "an empty buffer holds nothing");
            let mut big = Vec::with_capacity(room(&ev));
            let mut w = Out::new(big.spare_capacity_mut());
            fields(&mut w, &ev);
            assert!(!w.full, "room({n}) is too small");
            // Past `likely_room` (for all but the shortest lines), through the second pass.
            write_event(&mut out, &ev);
            assert!(out.len() <= room(&ev));
            let mut direct = Vec::new();
            write_event_in(&mut direct, &ev, room(&ev));
            assert_eq!(out, direct);
            assert!(
                n < 100 || out.len() > likely_room(&ev),
                "{n}: the second pass was not tried"
            );
        }
    }

    #[test]
    fn an_ordinary_line_fits_the_likely_room() {
        let line = b"<38>Nov  8 15:26:31 linux sshd[3689]: Failed password for root from 10.0.0.1 port 22 ssh2";
        let ev = parse_line(line, &ParseContext::new(1_005_300_000));
        let mut big = Vec::with_capacity(likely_room(&ev));
        let mut w = Out::new(big.spare_capacity_mut());
        fields(&mut w, &ev);
        assert!(!w.full);
    }

    #[test]
    fn too_little_room_is_written_again_into_more_with_the_same_bytes() {
        let lines: [&[u8]; 3] = [
            b"<38>Nov  8 15:26:31 linux ftpd[3689]: refused connect from 7dyn94.ztm.casema.net",
            b"<13>Nov  8 15:26:31 h app: caf\xe9 \"\x01\xff",
            b"",
        ];
        for line in lines {
            let ev = parse_line(line, &ParseContext::new(1_005_300_000));
            let mut want = Vec::new();
            write_event(&mut want, &ev);
            for room in [0, 1, 2, 17, 100] {
                let mut got = b"before".to_vec();
                got.shrink_to_fit();
                write_event_in(&mut got, &ev, room);
                assert_eq!(&got[..6], b"before");
                assert_eq!(&got[6..], &want[..], "room {room}");
            }
        }
    }

    #[test]
    fn stale_bytes_in_the_spare_capacity_never_reach_the_output() {
        // 0xff never appears in the JSON (bytes that are not UTF-8 are written as `\xNN`): a
        // byte counted as written but left as it was would show up as one.
        let mut seed = 0x77_u64;
        let mut buf = Vec::new();
        for i in 0..2_000 {
            let mut line = b"<38>Nov  8 15:26:31 linux sshd[3689]: Failed password for root from 10.0.0.1 port 22 ssh2 "
                .to_vec();
            for _ in 0..(i % 50) {
                line.push(
                    [b'a', b'"', 0x01, 0xc3, 0xa9, 0xff, b' '][(xorshift(&mut seed) % 7) as usize],
                );
            }
            let ev = parse_line(&line, &ParseContext::new(1_005_300_000));
            buf.clear();
            buf.resize(buf.capacity().max(8192), 0xff);
            buf.truncate(i % 7);
            write_event(&mut buf, &ev);
            assert!(
                !buf[i % 7..].contains(&0xff),
                "{}",
                String::from_utf8_lossy(&buf)
            );
            let mut fresh = Vec::new();
            write_event(&mut fresh, &ev);
            assert_eq!(&buf[i % 7..], &fresh[..]);
        }
    }

    #[test]
    fn the_tables_date_prefixes_are_the_computed_ones() {
        for days in -1_000..80_000 {
            assert_eq!(date_prefix(days), date_prefix_of_any(days), "{days}");
        }
        let mut want = b"\"".to_vec();
        Timestamp {
            secs: 4_133_894_399,
            nanos: 0,
        }
        .write_rfc3339(&mut want);
        assert_eq!(&date_prefix(47_845).to_le_bytes()[..12], &want[..12]);
    }

    #[test]
    fn dates_are_the_civil_dates() {
        for days in -1_000_000..3_000_000 {
            assert_eq!(date_of(days), civil_from_days(days), "{days}");
        }
        let mut seed = 0x3141_5926_u64;
        let edge = 719_468 + 146_097 * 2_500;
        for days in [
            -edge - 1,
            -edge,
            -edge + 1,
            i64::MIN / 86_400,
            i64::MAX / 86_400,
        ] {
            assert_eq!(date_of(days), civil_from_days(days), "{days}");
        }
        for _ in 0..1_000_000 {
            let r = xorshift(&mut seed);
            let days = (r as i64) >> (17 + r % 40);
            assert_eq!(date_of(days), civil_from_days(days), "{days}");
        }
        let top = ((u32::MAX - 3) / 4 - 719_468 - 146_097 * 2_500) as i64;
        for days in top - 1000..top + 1000 {
            assert_eq!(date_of(days), civil_from_days(days), "{days}");
        }
    }

    #[test]
    fn known_transports_are_their_names() {
        use crate::event::Transport as T;
        for t in [
            T::Tcp,
            T::Udp,
            T::Icmp,
            T::Ipv6Icmp,
            T::Igmp,
            T::Gre,
            T::Esp,
            T::Ah,
            T::Sctp,
        ] {
            let want = format!("\"{}\"", String::from_utf8_lossy(t.name()));
            assert_eq!(written(|w| known_transport(t).write(w)), want.into_bytes());
        }
    }

    #[test]
    fn pieces_of_the_line_are_written_as_the_reference_writes_them() {
        // Strings that lie in the line take the window path while sixteen bytes of the line
        // are left after their start, the word path nearer its end, and the same bytes
        // copied out of the line the word path always.
        let specials: &[&[u8]] = &[b"\"", b"\\", b"\x00", b"\x7f", b"\xc3\xa9", b"\xff", b"a"];
        let mut seed = 0xfeed_u64;
        for _ in 0..20_000 {
            let r = xorshift(&mut seed);
            let mut line: Vec<u8> = (0..(r % 60) as usize)
                .map(|i| b' ' + 1 + ((r >> 8) as usize + i * 7) as u8 % 90)
                .map(|b| if PLAIN[usize::from(b)] { b } else { b'x' })
                .collect();
            if r & 1 << 40 != 0 && !line.is_empty() {
                let at = (r >> 20) as usize % line.len();
                let sp = specials[(r >> 32) as usize % specials.len()];
                line.splice(at..at + 1, sp.iter().copied());
            }
            let start = (r >> 44) as usize % (line.len() + 1);
            let end = start + (r >> 50) as usize % (line.len() - start + 1);
            let piece = &line[start..end];
            let out = written(|w| {
                write_str(w, piece, &line);
            });
            let want = reference(piece);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                want,
                "{piece:x?} in {line:x?}"
            );
            let copy = piece.to_vec();
            let out = written(|w| {
                write_str(w, &copy, &line);
            });
            assert_eq!(String::from_utf8(out).unwrap(), want, "copy of {piece:x?}");
        }
    }

    #[test]
    fn pids_are_written_as_display_writes_the_number_they_read_as() {
        let procids: &[&[u8]] = &[
            b"0",
            b"7",
            b"00",
            b"01",
            b"10",
            b"3689",
            b"12345678",
            b"123456789",
            b"4294967295",
            b"4294967296",
            b"99999999999",
            b"",
            b"12a",
            b"-1",
            b"1 ",
            b" 1",
            b"\xff1",
            b"1\xfa",
            b"\xfa1",
            b"/",
            b":",
            b"9:",
        ];
        for p in procids {
            for pad in [0usize, 1, 8, 20] {
                let mut line = b"<13>host app[".to_vec();
                let at = line.len();
                line.extend_from_slice(p);
                line.extend(std::iter::repeat_n(b']', pad));
                let p = &line[at..at + p.len()];
                let want = std::str::from_utf8(p)
                    .ok()
                    .and_then(|t| t.parse::<u32>().ok())
                    .filter(|_| p.iter().all(u8::is_ascii_digit))
                    .map(|n| n.to_string());
                let got = written(|w| {
                    let mut f = Fields {
                        out: w,
                        first: true,
                        line: &line,
                    };
                    let h = Header {
                        procid: Some(p),
                        ..Header::bare(&line)
                    };
                    f.pid(b",\"pid\":", Pid::of(&h, &line));
                });
                let got = String::from_utf8(got).unwrap();
                let want = want.map_or(String::new(), |n| format!("\"pid\":{n}"));
                assert_eq!(got, want, "{p:x?} pad {pad}");
            }
        }
    }

    #[test]
    fn every_length_with_a_byte_to_escape_anywhere_matches_the_reference() {
        let specials: &[&[u8]] = &[
            b"\"",
            b"\\",
            b"\x00",
            b"\x1f",
            b"\x7f",
            b"\xc3\xa9",
            b"\xff",
            b"\xc2\x85",
        ];
        for n in 0..=40usize {
            let plain: Vec<u8> = (0..n)
                .map(|i| b' ' + 1 + (i * 7 % 90) as u8)
                .map(|b| if PLAIN[usize::from(b)] { b } else { b'x' })
                .collect();
            let out = str_json(&plain);
            assert_eq!(String::from_utf8(out).unwrap(), reference(&plain), "{n}");
            for at in 0..n {
                for sp in specials {
                    let mut s = plain.clone();
                    s.splice(at..at + 1, sp.iter().copied());
                    let out = str_json(&s);
                    assert_eq!(String::from_utf8(out).unwrap(), reference(&s), "{s:x?}");
                }
            }
        }
    }

    #[test]
    fn short_and_tail_words_hold_the_bytes_zero_above() {
        let s: Vec<u8> = (1..=20).collect();
        for n in 0..=8 {
            let mut want = [0u8; 8];
            want[..n].copy_from_slice(&s[..n]);
            assert_eq!(short_word(&s[..n]).to_le_bytes(), want, "{n}");
        }
        for len in 8..=20 {
            for r in 1..=8 {
                let mut want = [0u8; 8];
                want[..r].copy_from_slice(&s[len - r..len]);
                assert_eq!(tail_word(&s[..len], r).to_le_bytes(), want, "{len} {r}");
            }
        }
    }
}
