//! The log families and the one registry that dispatches a message to them.
//!
//! Each family is a module with one entry, `parse(&Header) -> Option<Details>`, and a `FAMILY`
//! constant naming its dataset and the syslog tags it usually logs under. Dispatch tries the
//! families whose tag matches first, then every other family by the message's shape (kernel
//! lines, router lines whose tag is a sequence number, files without tags). To add a family:
//! copy a module, then add one line to [`FAMILIES`].

pub mod cisco_acl;
pub mod cisco_fw;
pub mod cisco_ips;
pub mod cisco_login;
pub mod ftpd;
pub mod inetd;
pub mod ipfw;
pub mod iptables;
pub mod log_in_vain;
pub mod mail_auth;
pub mod pam;
pub mod pf;
pub mod portsentry;
pub mod snort;
pub mod sshd;
pub mod tcpd;
pub mod xinetd;

use crate::event::{Dataset, Details};
use crate::header::Header;
use crate::lex::{find_byte, find_byte3};

/// A family's entry in the registry.
pub struct Family {
    /// The dataset its events carry.
    pub dataset: Dataset,
    /// Program names it logs under (compared case-insensitively, without a leading path).
    pub tags: &'static [&'static [u8]],
    /// Whether a line under one of `tags` belongs to this family even when its message is not
    /// one the parser reads (every `sshd` line is sshd's; not every `kernel` line is netfilter's).
    pub owns_tag: bool,
    /// Whether the family's lines appear under other programs' tags too (TCP wrappers inside
    /// any daemon, netfilter via ulogd, Cisco codes after any process). A family without it is
    /// tried by shape only for lines that name no program: a `cron` line is never an sshd one.
    pub any_program: bool,
    /// The family's parser; `None` means "not mine".
    pub parse: for<'a> fn(&Header<'a>) -> Option<Details<'a>>,
}

/// Which families name `program` among their tags (bit k: `FAMILIES[k]`).
fn tagged_families(program: &[u8]) -> u32 {
    // Most programs have a length and first letter no tag has: one lookup instead of thirty
    // comparisons; the others are compared with the tags of their length only.
    let Some(first) = program.first() else {
        return 0;
    };
    let keys = TAG_KEYS.get(program.len()).copied().unwrap_or(0);
    if keys & first_letter_bit(*first) == 0 {
        return 0;
    }
    let Some(&(start, end)) = TAGS_BY_LENGTH.get(program.len()) else {
        return 0;
    };
    // Compared eight bytes at a time, folded to lower case, against the tags folded at compile
    // time: byte by byte, `eq_ignore_ascii_case` cost more than a hundred instructions a line
    // (`kernel` is three families' tag, compared three times).
    // Word by word in registers: compared as arrays, the words went through the stack and
    // each 16-byte load of them waited for two 8-byte stores (a store-forwarding stall, a
    // tenth of this function's time).
    let [w0, w1, w2, w3] = folded_words(program);
    for ([t0, t1, t2, t3], mask) in TAG_WORDS
        .get(usize::from(start)..usize::from(end))
        .unwrap_or_default()
    {
        if (t0 ^ w0) | (t1 ^ w1) | (t2 ^ w2) | (t3 ^ w3) == 0 {
            return *mask;
        }
    }
    0
}

/// ASCII lower case of eight bytes at once: `A`-`Z` gain 0x20, every other byte is kept.
#[inline(always)]
fn fold_word(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // On the low seven bits of each byte, adding 0x80 - c sets the byte's top bit exactly
    // when the byte is at least c, and cannot carry into the next byte.
    let low = x & !HIGHS;
    let at_least_a = low + ONES * u64::from(0x80 - b'A');
    let above_z = low + ONES * u64::from(0x80 - b'Z' - 1);
    let upper = at_least_a & !above_z & !x & HIGHS;
    x | (upper >> 2)
}

/// A program name of under 32 bytes as four little-endian words, folded to lower case and
/// padded with zeros (the form [`TAG_WORDS`] holds the tags in).
#[inline]
fn folded_words(p: &[u8]) -> [u64; 4] {
    let mut words = [0u64; 4];
    for (slot, chunk) in words.iter_mut().zip(p.chunks(8)) {
        let half = |s: Option<&[u8]>| {
            s.and_then(|h| <[u8; 4]>::try_from(h).ok())
                .map_or(0, |h| u64::from(u32::from_le_bytes(h)))
        };
        let n = chunk.len();
        let x = match <[u8; 8]>::try_from(chunk) {
            Ok(full) => u64::from_le_bytes(full),
            // Four to seven bytes: the first four and the last four, overlapping (the bytes in
            // both are the same, so OR-ing them changes nothing); a byte at a time, most
            // programs' last word cost ten instructions more a line.
            Err(_) if n >= 4 => half(chunk.get(..4)) | half(chunk.get(n - 4..)) << (8 * (n - 4)),
            Err(_) => chunk
                .iter()
                .enumerate()
                .fold(0, |x, (i, b)| x | u64::from(*b) << (8 * i)),
        };
        *slot = fold_word(x);
    }
    words
}

/// How many tags the families have in all.
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const TAG_COUNT: usize = {
    let mut n = 0;
    let mut k = 0;
    while k < FAMILIES.len() {
        n += FAMILIES[k].tags.len();
        k += 1;
    }
    n
};

/// Every tag with its family's index, shortest first.
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const TAGS: [(&[u8], u8); TAG_COUNT] = {
    let mut out: [(&[u8], u8); TAG_COUNT] = [(b"", 0); TAG_COUNT];
    let mut n = 0;
    let mut k = 0;
    while k < FAMILIES.len() {
        let tags = FAMILIES[k].tags;
        let mut t = 0;
        while t < tags.len() {
            out[n] = (tags[t], k as u8);
            n += 1;
            t += 1;
        }
        k += 1;
    }
    // Insertion sort by length (a few dozen entries, once, at compile time).
    let mut i = 1;
    while i < TAG_COUNT {
        let mut j = i;
        while j > 0 && out[j - 1].0.len() > out[j].0.len() {
            let tmp = out[j - 1];
            out[j - 1] = out[j];
            out[j] = tmp;
            j -= 1;
        }
        i += 1;
    }
    out
};

/// For each length below 32, where the tags that long lie in [`TAGS`].
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const TAGS_BY_LENGTH: [(u8, u8); 32] = {
    let mut out = [(0u8, 0u8); 32];
    let mut len = 0;
    while len < 32 {
        let mut start = 0;
        while start < TAG_COUNT && TAGS[start].0.len() < len {
            start += 1;
        }
        let mut end = start;
        while end < TAG_COUNT && TAGS[end].0.len() == len {
            end += 1;
        }
        out[len] = (start as u8, end as u8);
        len += 1;
    }
    out
};

/// [`TAGS`] folded as [`folded_words`] folds a program, each with every family that has the
/// tag (`kernel` is three families'), so the first match settles the lookup.
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const TAG_WORDS: [([u64; 4], u32); TAG_COUNT] = {
    let mut out = [([0u64; 4], 0u32); TAG_COUNT];
    let mut i = 0;
    while i < TAG_COUNT {
        let tag = TAGS[i].0;
        assert!(
            tag.len() < 32,
            "a tag of 32 bytes or more is never looked up"
        );
        let mut j = 0;
        while j < tag.len() {
            out[i].0[j / 8] |= (tag[j].to_ascii_lowercase() as u64) << (8 * (j % 8));
            j += 1;
        }
        i += 1;
    }
    let mut i = 0;
    while i < TAG_COUNT {
        let mut j = 0;
        while j < TAG_COUNT {
            let same = out[i].0[0] == out[j].0[0]
                && out[i].0[1] == out[j].0[1]
                && out[i].0[2] == out[j].0[2]
                && out[i].0[3] == out[j].0[3]
                && TAGS[i].0.len() == TAGS[j].0.len();
            if same {
                out[i].1 |= 1 << TAGS[j].1;
            }
            j += 1;
        }
        i += 1;
    }
    out
};

/// Bit k set for every family (`FAMILIES[k]`).
const ALL_FAMILIES: u32 = (1 << FAMILIES.len()) - 1;

/// Bit k set when `FAMILIES[k]` is tried by shape under other programs' tags.
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const ANY_PROGRAM: u32 = {
    let mut bits = 0u32;
    let mut k = 0;
    while k < FAMILIES.len() {
        if FAMILIES[k].any_program {
            bits |= 1 << k;
        }
        k += 1;
    }
    bits
};

/// The bit of a tag's first byte in [`TAG_KEYS`]: one per letter (either case), one for
/// every other byte.
const fn first_letter_bit(b: u8) -> u32 {
    let lower = b.to_ascii_lowercase();
    if lower.is_ascii_lowercase() {
        1 << (lower - b'a')
    } else {
        1 << 26
    }
}

/// For each length below 32, the first-byte bits of the tags that long (a program 32 bytes
/// long or more matches no tag).
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const TAG_KEYS: [u32; 32] = {
    let mut keys = [0u32; 32];
    let mut k = 0;
    while k < FAMILIES.len() {
        let tags = FAMILIES[k].tags;
        let mut t = 0;
        while t < tags.len() {
            let tag = tags[t];
            if tag.len() < 32 && !tag.is_empty() {
                keys[tag.len()] |= first_letter_bit(tag[0]);
            }
            t += 1;
        }
        k += 1;
    }
    keys
};

/// Every family, in the order shape fallback tries them (more specific shapes first).
pub static FAMILIES: [Family; 17] = [
    sshd::FAMILY,
    tcpd::FAMILY,
    snort::FAMILY,
    portsentry::FAMILY,
    xinetd::FAMILY,
    log_in_vain::FAMILY,
    cisco_acl::FAMILY,
    iptables::FAMILY,
    pf::FAMILY,
    ipfw::FAMILY,
    cisco_fw::FAMILY,
    cisco_ips::FAMILY,
    cisco_login::FAMILY,
    mail_auth::FAMILY,
    ftpd::FAMILY,
    pam::FAMILY,
    inetd::FAMILY,
];

/// The bit of the family with `dataset` (bit k: `FAMILIES[k]`); 0 if none has it, which the
/// assertion after [`FIRST_GATED`] turns into a build failure.
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const fn bit(dataset: Dataset) -> u32 {
    let mut k = 0;
    while k < FAMILIES.len() {
        if FAMILIES[k].dataset as u8 == dataset as u8 {
            return 1 << k;
        }
        k += 1;
    }
    0
}

/// The families that look for a `%` (Cisco's `%FAC-SEV-MNEMONIC:`) anywhere in the message.
const NEEDS_PERCENT: u32 = bit(Dataset::CiscoAcl)
    | bit(Dataset::CiscoFw)
    | bit(Dataset::CiscoIps)
    | bit(Dataset::CiscoLogin);
/// netfilter: its packet fields (`IN=`, or a fragment's first `KEY=`) need an `=`.
const NEEDS_EQUALS: u32 = bit(Dataset::Iptables);
/// Snort: an alert needs its ` -> ` (found by its `>`), unless the message opens as a portscan, signature or
/// Snort 3 quote does (see [`FIRST_BYTE`]).
const NEEDS_ARROW: u32 = bit(Dataset::Snort);
/// The families the gate may rule out.
const GATED: u32 = SCAN_GATED | FIRST_GATED;
/// The families ruled out by the message's first byte alone.
const FIRST_GATED: u32 = bit(Dataset::Tcpd)
    | bit(Dataset::Pam)
    | bit(Dataset::Snort)
    | bit(Dataset::Xinetd)
    | bit(Dataset::Portsentry)
    | SHAPE_ONLY;
/// Gated by the first byte only when tried by shape: sshd reads more forms under its own tag.
const SHAPE_ONLY: u32 = bit(Dataset::Sshd);
// Every gated dataset has its family (a family renamed or removed fails the build here).
const _: () = assert!(NEEDS_PERCENT.count_ones() == 4 && FIRST_GATED.count_ones() == 6);
const _: () = assert!(NEEDS_EQUALS != 0 && NEEDS_ARROW != 0);

/// For each first byte of a message, the families whose parsers can read a message opening
/// with it (the bytes each parser tests first): tcpd's `refused connect`, `connect from`,
/// `warning:`; PAM's `pam_…`, `(pam_`, `auth: pam_`, `authentication failure`; Snort's blanks,
/// `[gid:sid:rev]`/`[**]`, `spp_portscan`, `PORTSCAN`, `End of portscan` and Snort 3's `"`;
/// xinetd's and PortSentry's openings; sshd's when tried by shape ([`SHAPE_ONLY`]).
/// Index 256 is the empty message. The families gated by a byte anywhere are cleared here
/// and settled by [`scan`].
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const FIRST_BYTE: [u32; 257] = {
    let tcpd = bit(Dataset::Tcpd);
    let pam = bit(Dataset::Pam);
    let snort = bit(Dataset::Snort);
    let xinetd = bit(Dataset::Xinetd);
    let portsentry = bit(Dataset::Portsentry);
    let mut out = [ALL_FAMILIES & !GATED; 257];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if matches!(c, b'r' | b'c' | b'w') {
            out[b] |= tcpd;
        }
        if matches!(c, b'p' | b'(' | b'a') {
            out[b] |= pam;
        }
        if matches!(c, b' ' | b'\t' | b'[' | b's' | b'P' | b'E' | b'"') {
            out[b] |= snort;
        }
        // xinetd's forms (`START:`, `EXIT:`, `FAIL:`, `libwrap`, `USERID:`, `Deactivating
        // service`), or the digits of its own file's stamp.
        if matches!(c, b'S' | b'E' | b'F' | b'l' | b'U' | b'D' | b'0'..=b'9') {
            out[b] |= xinetd;
        }
        // PortSentry's `adminalert:`, `attackalert:`, `Scan from:`, and its blocked-host
        // records (`Host: …` after a stamp of digits, spaces, `-`, `/` and `:`).
        if matches!(
            c,
            b'a' | b'S' | b'H' | b' ' | b'-' | b'/' | b':' | b'0'..=b'9'
        ) {
            out[b] |= portsentry;
        }
        // sshd under another program or none: one of its openings, maybe after `error: ` or
        // `fatal: `.
        if sshd::UNTAGGED_FIRST[b] || matches!(c, b'e' | b'f') {
            out[b] |= SHAPE_ONLY;
        }
        b += 1;
    }
    out
};

/// The families whose parsers can read a message opening with `m`'s first byte; the ones
/// gated by a byte anywhere in the message ([`SCAN_GATED`]) are left to [`scan`].
#[inline]
fn first_byte(m: &[u8]) -> u32 {
    let first = m.first().map_or(256, |b| usize::from(*b));
    FIRST_BYTE.get(first).copied().unwrap_or(ALL_FAMILIES)
}

/// The families gated by a byte anywhere in the message.
const SCAN_GATED: u32 = NEEDS_PERCENT | NEEDS_EQUALS | NEEDS_ARROW;

/// Of [`SCAN_GATED`], the families `m` has the bytes for: one scan for the `%`, `=` and `>`
/// that the Cisco families, netfilter and Snort's alerts cannot do without. Each family ran
/// its own search before, on every line of any program; one scan for all of them is cheaper,
/// and most lines have none of the three.
#[inline]
fn scan(m: &[u8]) -> u32 {
    const PERCENT: u8 = 1;
    const EQUALS: u8 = 2;
    const ARROW: u8 = 4;
    // Each search looks only for the bytes not seen yet, from just past the last one found:
    // at most four searches, together one pass over the message.
    let mut seen = 0u8;
    let mut at = 0;
    while let Some(rest) = m.get(at..) {
        let hit = match seen {
            0 => find_byte3(b'%', b'=', b'>', rest),
            PERCENT => find_byte3(b'=', b'>', b'>', rest),
            EQUALS => find_byte3(b'%', b'>', b'>', rest),
            ARROW => find_byte3(b'%', b'=', b'=', rest),
            3 => find_byte(b'>', rest),
            5 => find_byte(b'=', rest),
            6 => find_byte(b'%', rest),
            _ => None,
        };
        let Some(p) = hit else {
            break;
        };
        let at_hit = at + p;
        seen |= match rest.get(p) {
            Some(b'%') => PERCENT,
            Some(b'=') => EQUALS,
            // Snort's alerts need ` -> ` (what `snort::last_arrow` looks for); a `>` closing
            // postfix's `<address>` is none.
            _ if at_hit >= 2
                && m.get(at_hit - 2..at_hit) == Some(b" -")
                && m.get(at_hit + 1) == Some(&b' ') =>
            {
                ARROW
            }
            _ => 0,
        };
        at = at_hit + 1;
    }
    let mut possible = 0;
    if seen & PERCENT != 0 {
        possible |= NEEDS_PERCENT;
    }
    if seen & EQUALS != 0 {
        possible |= NEEDS_EQUALS;
    }
    if seen & ARROW != 0 {
        possible |= NEEDS_ARROW;
    }
    possible
}

/// The families that can read `m` (what a parser tests first, for all of them at once).
#[cfg(test)]
fn gate(m: &[u8]) -> u32 {
    first_byte(m) | scan(m)
}

/// Finds the family that claims a message: tag-matched families first, then all others by
/// shape; a tag owned by a family claims the line even if no parser read it.
///
/// The family's details go into `out` (an [`crate::Event`]'s own, which saves copying them
/// per line); `out` is left as it was when no family read the line.
// Kept out of parse_line: inlined there (which the crate's private modules allowed), it cost
// 80 instructions per mixed line more (2,283 against 2,203, callgrind), header and families
// competing for the same registers.
#[inline(never)]
pub fn classify<'a>(h: &Header<'a>, out: &mut Details<'a>) -> Dataset {
    let program = h.program().unwrap_or_default();
    let tagged = tagged_families(program);
    let shape = if program.is_empty() {
        ALL_FAMILIES
    } else {
        ANY_PROGRAM
    } & !tagged;
    // The families that cannot read this message are never called: a call and its rejection
    // cost tens of instructions even where the parser's first test turns the line away.
    let m = h.message;
    let mut possible = first_byte(m);
    let mut owner = None;
    let mut named = tagged;
    while named != 0 {
        let k = named.trailing_zeros() as usize;
        named &= named - 1;
        let Some(f) = FAMILIES.get(k) else {
            break;
        };
        // Under a family's own tag its parser runs first and its own search is the scan:
        // gating it here would search twice on the lines it reads.
        if (possible | SCAN_GATED | SHAPE_ONLY) & (1 << k) != 0
            && let Some(d) = (f.parse)(h)
        {
            *out = d;
            return f.dataset;
        }
        if f.owns_tag && owner.is_none() {
            owner = Some(f.dataset);
        }
    }
    // Shape fallback. Half of all lines belong to no family; trying only the families that can
    // appear under a foreign tag keeps them cheap, and walking the bits of those (rather than
    // all seventeen entries) keeps the walk cheap too.
    // The scan runs when the first family it gates comes up, in the order they are tried:
    // never for a line its tag's family read, nor for one an earlier family (tcpd under any
    // daemon's tag) reads.
    let mut untried = shape & (possible | SCAN_GATED);
    let mut scanned = false;
    while untried != 0 {
        let k = untried.trailing_zeros() as usize;
        untried &= untried - 1;
        if possible & (1 << k) == 0 {
            if scanned {
                continue;
            }
            possible |= scan(m);
            scanned = true;
            untried &= possible;
            if possible & (1 << k) == 0 {
                continue;
            }
        }
        let Some(f) = FAMILIES.get(k) else {
            break;
        };
        if let Some(d) = (f.parse)(h) {
            *out = d;
            return f.dataset;
        }
    }
    owner.unwrap_or(Dataset::Syslog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tag_finds_its_family_in_any_case() {
        for (k, f) in FAMILIES.iter().enumerate() {
            for t in f.tags {
                assert_ne!(
                    tagged_families(t) & (1 << k),
                    0,
                    "{:?}",
                    std::str::from_utf8(t)
                );
                let upper = t.to_ascii_uppercase();
                assert_ne!(tagged_families(&upper) & (1 << k), 0);
            }
        }
        assert_eq!(tagged_families(b"postfix"), 0);
        assert_eq!(tagged_families(b""), 0);
        assert_eq!(tagged_families(&[b'a'; 40]), 0);
    }

    /// What the word-at-a-time lookup replaced: every tag compared byte by byte.
    fn tagged_naive(program: &[u8]) -> u32 {
        let mut mask = 0;
        for (k, f) in FAMILIES.iter().enumerate() {
            if f.tags.iter().any(|t| t.eq_ignore_ascii_case(program)) {
                mask |= 1 << k;
            }
        }
        mask
    }

    proptest::proptest! {
        #[test]
        fn folded_words_lower_case_exactly(x in proptest::prelude::any::<u64>()) {
            let want = u64::from_le_bytes(x.to_le_bytes().map(|b| b.to_ascii_lowercase()));
            proptest::prop_assert_eq!(fold_word(x), want);
        }

        #[test]
        fn tag_lookup_agrees_with_byte_comparison(
            pick in 0usize..64,
            flips in proptest::prelude::any::<u32>(),
            at in 0usize..32,
            byte in proptest::prelude::any::<u8>(),
            cut in 0usize..3,
        ) {
            let tags: Vec<&[u8]> = FAMILIES.iter().flat_map(|f| f.tags.iter().copied()).collect();
            let mut p = tags[pick % tags.len()].to_vec();
            for (i, b) in p.iter_mut().enumerate() {
                if flips & (1 << (i % 32)) != 0 {
                    *b = b.to_ascii_uppercase();
                }
            }
            match cut {
                0 => {}
                1 => { let at = at.min(p.len()); p.insert(at, byte); }
                _ => if let Some(b) = p.get_mut(at) { *b = byte },
            }
            proptest::prop_assert_eq!(tagged_families(&p), tagged_naive(&p));
        }
    }

    /// Every line in the test corpora, plus byte soup around the bytes the gate looks at.
    fn gate_inputs() -> Vec<Vec<u8>> {
        crate::testing::corpus_lines()
    }

    /// The gate is a necessary condition: no family it rules out reads the message.
    fn check_gate(line: &[u8]) {
        let ctx = crate::ParseContext::new(1_795_392_000);
        let h = crate::header::parse(line, &ctx);
        let possible = gate(h.message);
        let tagged = tagged_families(h.program().unwrap_or_default());
        for (k, f) in FAMILIES.iter().enumerate() {
            // A shape-only gate says nothing of a line under the family's own tag.
            let exempt = SHAPE_ONLY & tagged & (1 << k) != 0;
            if possible & (1 << k) == 0 && !exempt {
                assert!(
                    (f.parse)(&h).is_none(),
                    "{:?} read by {} though gated out",
                    String::from_utf8_lossy(line),
                    f.dataset.as_str()
                );
            }
        }
    }

    #[test]
    fn the_gate_never_rules_out_a_family_that_reads_the_line() {
        let lines = gate_inputs();
        assert!(lines.len() > 2_000);
        for l in &lines {
            check_gate(l);
        }
    }

    proptest::proptest! {
        #[test]
        fn the_gate_holds_on_mutated_lines(
            pick in 0usize..10_000,
            at in 0usize..300,
            len in 0usize..40,
            soup in proptest::collection::vec(
                proptest::sample::select(b" \t[]%=>-:\"(spPEacrw0123456789.".to_vec()), 0..12),
        ) {
            let lines = gate_inputs();
            let Some(base) = lines.get(pick % lines.len()) else { return Ok(()) };
            let mut l = base.clone();
            let at = at.min(l.len());
            let end = (at + len).min(l.len());
            l.splice(at..end, soup);
            check_gate(&l);
        }
    }
}
