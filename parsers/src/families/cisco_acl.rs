//! Cisco access-list logging: IOS `%SEC-6-IPACCESSLOG*` and `%IPV6_ACL-6-ACCESSLOG*`, and ASA/PIX/FWSM
//! deny messages (106001, 106006, 106007, 106014, 106015, 106021, 106023, 106100, 710003, …).
//!
//! The mnemonic is found anywhere in the message (`%FAC-SEV-MNEMONIC:`), since devices put
//! sequence numbers and stamps before it in many combinations. Address forms read:
//! IOS `ADDR(PORT) -> ADDR(PORT)`, ASA `src IF:ADDR/PORT dst IF:ADDR/PORT`,
//! `from [IF:]ADDR/PORT to [IF:]ADDR/PORT`, and 106100's `IF/ADDR(PORT) -> IF/ADDR(PORT)`.
//!
//! Cost: shape fallback runs this parser on every line that no tagged family claimed, so work
//! is not repeated. The mnemonic is read in one pass. Short tokens (verbs, list names, ports)
//! are read with byte loops, where a search's set-up costs more than the scan; `lex`'s byte
//! searches are kept for scans over the message or body, and each ASA body is scanned once
//! for the markers that share a rare byte ([`AsaMarks`]). The common `A.B.C.D(PORT)` and `IF:A.B.C.D/PORT` tokens
//! are read in one pass ([`ios_quad`], [`asa_endpoint_quick`]), falling back to the general
//! reading for anything else; addresses and ports go through `lex`.
//!
//! nom (issue 9, item 7): this stays a hand reader. The IOS grammar was written as a nom
//! composition (`alt((lit("list "), past(" list "), past("access-list ")))`, the name and verb
//! tokens, then `(preceded(blanks, protocol), source, opt(preceded(past("->"),
//! cut(destination))))` over [`ios_endpoint`] as a hand primitive), byte-identical on the
//! references, and measured (callgrind, `parse_loop full cisco_acl 50000`) 3,737 instructions a
//! line against the hand reader's 3,722; 3,729 with `ios` kept out of line, which is also what
//! the hand reader costs out of line. Still 7 above the hand reader, so the hand reader stayed
//! (differences between builds of unrelated code are of the same order, about ±10).
//!
//! The ASA bodies' word grammar was written as nom too, over the same [`AsaMarks`] pass and
//! [`asa_endpoint`]: `preceded(past(" src "), …)` with the source word, then 106002's
//! `(map_opt(word, to_port), opt(preceded((blanks, lit("dest ")), (word, word))))` or
//! `opt(preceded(past("dst "), word))`, and the `from` form as `(preceded(opt(verify(word,
//! laddr|faddr)), word), opt(preceded(alt((past(" to "), preceded(blanks, lit("to ")))),
//! word)))`, where `word` is `preceded(blanks, token)`. Byte-identical on the references, it
//! measured 3,783 a line with `past` (whose closure, shared by every needle of a length, stayed
//! out of line), 3,759 with the search written as an always-inlined `find` per needle, 3,736
//! with the endpoint reading out of line, 3,732 with the `src` form out of line too (mixed
//! 2,052), against the hand reader's 3,722 (mixed 2,051) in the same tree: 10 above, so the hand
//! reader stayed. What was left is a copy of the whole [`Details`] on return (29 instructions a
//! line, memcpy) that appears once the reading takes `&mut Details` out of line; building the
//! result in the return slot did not remove it, and endpoints returned by value cost 3,779.

use std::net::IpAddr;

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint, Rule, Transport};
use crate::header::Header;
use crate::lex::{
    after, find, find_byte3, find_byte3_iter, ipv4, is_host_char, is_redacted, position,
    skip_spaces, split_word, to_ip, to_port, trim_end,
};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::CiscoAcl,
    tags: &[],
    owns_tag: false,
    any_program: true,
    parse,
};

/// A located `%FAC-SEV-MNEMONIC:` and the body after it.
struct Mnemonic<'a> {
    /// The first facility word (`SEC`, `ASA`, `FMANFP`, `ACL`).
    facility: &'a [u8],
    mnemonic: &'a [u8],
    body: &'a [u8],
}

/// Byte classes for the `%FAC-SEV-MNEMONIC` scan, looked up rather than tested range by range
/// (the scan reads every byte of the tag). Letters, digits and `_`: a part's bytes.
const WORD: u8 = 1;
/// Upper-case letters, digits and `_`: a facility's bytes.
const FACILITY: u8 = 2;
/// Built at compile time; looked up with `get`.
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            b'A'..=b'Z' | b'0'..=b'9' | b'_' => WORD | FACILITY,
            b'a'..=b'z' => WORD,
            _ => 0,
        };
        b += 1;
    }
    t
};

fn class(b: u8) -> u8 {
    CLASS.get(usize::from(b)).copied().unwrap_or(0)
}

/// Where the run of bytes that satisfy `ok` from `from` ends.
fn run_end(s: &[u8], from: usize, ok: impl Fn(u8) -> bool) -> usize {
    let rest = s.get(from..).unwrap_or_default();
    from + rest.iter().position(|b| !ok(*b)).unwrap_or(rest.len())
}

/// Finds `%FAC[-SUBFAC…]-SEV-MNEMONIC:` (ASA also writes `%ASA-session-5-106100:`, IOS-XR
/// `%ACL-IPV4_ACL-6-IPACCESSLOGP :`).
fn mnemonic(m: &[u8]) -> Option<Mnemonic<'_>> {
    // A vector search here: the message is long and most lines have no `%` at all.
    find_byte3_iter(b'%', b'%', b'%', m).find_map(|p| mnemonic_at(m.get(p + 1..)?))
}

/// The mnemonic and body of the first `%FACILITY-SEV-MNEMONIC:` in `m` whose facility is
/// `facility` (the other Cisco families' entry: `%FW-6-DROP_PKT`, `%SEC_LOGIN-4-…`).
pub(super) fn cisco_message<'a>(m: &'a [u8], facility: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    find_byte3_iter(b'%', b'%', b'%', m).find_map(|p| {
        let rest = m.get(p + 1..)?;
        if !rest.starts_with(facility) || rest.get(facility.len()) != Some(&b'-') {
            return None;
        }
        let found = mnemonic_at(rest)?;
        (found.facility == facility).then_some((found.mnemonic, found.body))
    })
}

/// Reads `FAC-…-SEV-MNEMONIC`, optional blanks and the colon at the start of `rest` (the bytes
/// after a `%`) in one pass: the facility is upper case, digits and `_`; the parts after it
/// are letters, digits and `_`; the severity is the first single-digit part; the mnemonic is
/// the one part after it.
fn mnemonic_at(rest: &[u8]) -> Option<Mnemonic<'_>> {
    let word_char = |b: u8| class(b) & WORD != 0;
    let fac_end = run_end(rest, 0, |b| class(b) & FACILITY != 0);
    if fac_end == 0 || rest.get(fac_end) != Some(&b'-') {
        return None;
    }
    let mut at = fac_end + 1;
    loop {
        let end = run_end(rest, at, word_char);
        if end == at || rest.get(end) != Some(&b'-') {
            return None;
        }
        let single_digit = end == at + 1 && rest.get(at).is_some_and(u8::is_ascii_digit);
        at = end + 1;
        if single_digit {
            break;
        }
    }
    let end = run_end(rest, at, word_char);
    let blanks = run_end(rest, end, |b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0));
    if end == at || rest.get(blanks) != Some(&b':') {
        return None;
    }
    Some(Mnemonic {
        facility: rest.get(..fac_end)?,
        mnemonic: rest.get(at..end)?,
        body: skip_spaces(rest.get(blanks + 1..)?),
    })
}

/// A MAC address as IOS prints it before the source (`00-00-5E-00-53-23`, `0011.2233.4455`).
fn is_mac(tok: &[u8]) -> bool {
    // Six groups of two or three of four hex digits: the length alone rules out most tokens.
    let groups = |sep: u8, len: usize| {
        tok.iter().enumerate().all(|(i, b)| {
            if (i + 1) % (len + 1) == 0 {
                *b == sep
            } else {
                b.is_ascii_hexdigit()
            }
        })
    };
    match tok.len() {
        17 => groups(b'-', 2) || groups(b':', 2),
        14 => groups(b'.', 4),
        _ => false,
    }
}

/// An IOS endpoint at the start of `r`: `ADDR(PORT)` or `ADDR`, after a MAC address where the
/// source may have one (`mac`), and followed by `(…)` groups that are not ports (interface and
/// MAC on newer IOS), which are skipped. Returns the endpoint and what follows.
fn ios_endpoint(r: &[u8], mac: bool) -> Option<(Endpoint<'static>, &[u8])> {
    let r = skip_spaces(r);
    let (ep, mut rest) = match ios_quad(r) {
        Some(found) => found,
        None => {
            let (tok, rest) = split_word(r);
            let (tok, rest) = if mac && is_mac(tok) {
                split_word(skip_spaces(rest))
            } else {
                (tok, rest)
            };
            (ios_token(tok)?, rest)
        }
    };
    // Skip `(Gi0/0 0011.2233.4455)` style groups.
    loop {
        let r = skip_spaces(rest);
        if let Some(inner) = r.strip_prefix(b"(") {
            if inner.first().is_some_and(u8::is_ascii_digit) {
                break;
            }
            let close = position(inner, b')')?;
            rest = inner.get(close + 1..)?;
        } else {
            break;
        }
    }
    Some((ep, rest))
}

/// The common `A.B.C.D[(PORT)][,]` token at the start of `r`, read as [`ios_token`] reads it but
/// without finding the token's end first; `None` leaves `r` to that reading. (A token that
/// starts with a dotted quad is no MAC address.)
fn ios_quad(r: &[u8]) -> Option<(Endpoint<'static>, &[u8])> {
    let (mut rest, a) = ipv4(r).ok()?;
    let mut ep = Endpoint {
        ip: Some(IpAddr::V4(a)),
        ..Endpoint::default()
    };
    if let Some(inner) = rest.strip_prefix(b"(") {
        let digits = inner
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(inner.len());
        ep.port = to_port(inner.get(..digits)?);
        rest = inner.get(digits..)?.strip_prefix(b")")?;
    }
    let rest = rest.strip_prefix(b",").unwrap_or(rest);
    matches!(rest.first(), None | Some(b' ')).then_some((ep, rest))
}

/// `ADDR(PORT)` or `ADDR`, one token.
fn ios_token(tok: &[u8]) -> Option<Endpoint<'static>> {
    let tok = tok.strip_suffix(b",").unwrap_or(tok);
    let mut ep = Endpoint::default();
    // The address is what comes before the first `(`: a dotted quad that ends there or at the
    // token's end, else IPv6 (a quad followed by anything else is no address for `to_ip`).
    let open = match ipv4(tok).ok().map(|(rest, a)| (a, tok.len() - rest.len())) {
        Some((a, n)) if matches!(tok.get(n), None | Some(b'(')) => {
            ep.ip = Some(IpAddr::V4(a));
            n
        }
        Some(_) => return None,
        None => {
            let open = position(tok, b'(').unwrap_or(tok.len());
            let addr = tok.get(..open)?;
            // A redacted address (`x.x.x.x(3527)`) gives no address; its port still counts.
            if !is_redacted(addr) {
                ep.ip = Some(to_ip(addr)?);
            }
            open
        }
    };
    // `(2` without its `)`: the number was cut, and is no port.
    if let Some(inner) = tok.get(open + 1..).and_then(|i| i.strip_suffix(b")")) {
        ep.port = to_port(inner);
    }
    Some(ep)
}

/// IOS: `list NAME denied|permitted [PROTO] SRC[(P)] [-> DST[(P)]][ (type/code)], N packets`;
/// IOS-XE FMANFP puts `R0/0: fman_fp_image: ` before `list`, IOS-XR writes
/// `access-list NAME deny|permit`.
fn ios<'a>(body: &'a [u8], d: &mut Details<'a>) -> Option<()> {
    let r = match body.strip_prefix(b"list ") {
        Some(r) => r,
        None => after(body, b" list ").or_else(|| after(body, b"access-list "))?,
    };
    let (name, r) = split_word(skip_spaces(r));
    d.rule.name = Some(name).filter(|n| !n.is_empty());
    let (verb, r) = split_word(skip_spaces(r));
    d.action = match verb {
        b"denied" | b"deny" => Some(Action::AclDenied),
        b"permitted" | b"permit" => Some(Action::AclPermitted),
        _ => return None,
    };
    let r = skip_spaces(r);
    let (first, after_first) = split_word(r);
    let addr = first.get(..position(first, b'(').unwrap_or(first.len()))?;
    // Every address starts with a hex digit or `:`; most protocol names do not.
    let is_addr = addr
        .first()
        .is_some_and(|b| b.is_ascii_hexdigit() || *b == b':')
        && to_ip(addr).is_some();
    let r = if is_addr {
        r
    } else {
        d.transport = transport(first);
        after_first
    };
    let (src, r) = ios_endpoint(r, true)?;
    d.source = src;
    // The arrow may be glued to an interface name (`TenGigabitEthernet0/1/1->`).
    // A line cut inside the destination keeps its source.
    if let Some(at) = find(r, b"->")
        && let Some((dst, _)) = r.get(at + 2..).and_then(|r| ios_endpoint(r, false))
    {
        d.destination = dst;
    }
    Some(())
}

/// `Transport::from_token`, with the spellings lines use most answered without its table walk.
fn transport(tok: &[u8]) -> Option<Transport<'_>> {
    match tok {
        b"tcp" | b"TCP" => Some(Transport::Tcp),
        b"udp" | b"UDP" => Some(Transport::Udp),
        b"icmp" | b"ICMP" => Some(Transport::Icmp),
        _ => Transport::from_token(tok),
    }
}

/// Lower-cases a word of at most `N` bytes into `buf`; `None` if it is longer.
fn lower<const N: usize>(w: &[u8], buf: &mut [u8; N]) -> Option<usize> {
    let out = buf.get_mut(..w.len())?;
    for (o, b) in out.iter_mut().zip(w) {
        *o = b.to_ascii_lowercase();
    }
    Some(w.len())
}

/// Port names ASA prints instead of numbers (`outside:192.0.2.10/ssh`), any case.
fn service_port(name: &[u8]) -> Option<u16> {
    if let Some(p) = to_port(name) {
        return Some(p);
    }
    let mut buf = [0u8; 11];
    let n = lower(name, &mut buf)?;
    Some(match buf.get(..n)? {
        b"echo" => 7,
        b"discard" => 9,
        b"daytime" => 13,
        b"chargen" => 19,
        b"ftp-data" => 20,
        b"ftp" => 21,
        b"ssh" => 22,
        b"telnet" => 23,
        b"smtp" => 25,
        b"time" => 37,
        b"tacacs" => 49,
        b"domain" => 53,
        b"bootps" => 67,
        b"bootpc" => 68,
        b"tftp" => 69,
        b"gopher" => 70,
        b"finger" => 79,
        b"www" | b"http" => 80,
        b"kerberos" => 88,
        b"pop2" => 109,
        b"pop3" => 110,
        b"sunrpc" => 111,
        b"ident" => 113,
        b"nntp" => 119,
        b"ntp" => 123,
        b"netbios-ns" => 137,
        b"netbios-dgm" => 138,
        b"netbios-ssn" => 139,
        b"imap4" => 143,
        b"snmp" => 161,
        b"snmptrap" => 162,
        b"bgp" => 179,
        b"ldap" => 389,
        b"https" => 443,
        b"isakmp" => 500,
        b"syslog" => 514,
        b"ldaps" => 636,
        b"sqlnet" => 1521,
        b"sip" => 5060,
        _ => return None,
    })
}

/// The digits at the start of `(1234)…`.
fn paren_port(inner: &[u8]) -> Option<u16> {
    let end = inner.iter().position(|b| !b.is_ascii_digit())?;
    if inner.get(end) != Some(&b')') {
        return None;
    }
    to_port(inner.get(..end)?)
}

/// Sets the endpoint's address if `tok` is one.
fn set_ip(tok: &[u8], ep: &mut Endpoint<'_>) -> bool {
    if let Some(a) = to_ip(tok) {
        ep.ip = Some(a);
        return true;
    }
    false
}

/// The common ASA endpoints, `[IF:]A.B.C.D[/PORT]` and `IF/A.B.C.D[(PORT)…]`, read in one pass
/// where [`asa_endpoint`]'s general reading takes several. `None` leaves the token to that
/// reading, which gives the same result for these shapes: an interface name with a byte that
/// no address has cannot be read as an address, and what follows the quad decides the rest.
fn asa_endpoint_quick(tok: &[u8]) -> Option<Endpoint<'_>> {
    let (at, after_slash) = if tok.first().is_some_and(u8::is_ascii_digit) {
        (0, false)
    } else {
        // An interface name up to `:` or `/`, with a byte that is in no address.
        let end = tok.iter().position(|b| matches!(b, b':' | b'/' | b'('))?;
        let not_hex = tok
            .get(..end)?
            .iter()
            .any(|b| !b.is_ascii_hexdigit() && *b != b'.');
        match tok.get(end) {
            Some(b':') if not_hex => (end + 1, false),
            Some(b'/') if not_hex => (end + 1, true),
            _ => return None,
        }
    };
    let (rest, a) = ipv4(tok.get(at..)?).ok()?;
    let mut ep = Endpoint {
        ip: Some(IpAddr::V4(a)),
        ..Endpoint::default()
    };
    match (rest, after_slash) {
        ([], _) => {}
        // `IF/ADDR(PORT)` (106100)
        ([b'(', paren @ ..], true) => ep.port = paren_port(paren),
        ([b'(', ..], false) => {}
        ([b'/', port @ ..], false) => {
            // The port runs to a `(` group; another `/` would make the last one the split.
            let end = port.iter().position(|b| *b == b'(' || *b == b'/');
            let port = match end {
                Some(e) if port.get(e) == Some(&b'/') => return None,
                Some(e) => port.get(..e)?,
                None => port,
            };
            ep.port = service_port(port);
        }
        _ => return None,
    }
    Some(ep)
}

/// ASA endpoints: `[IF:]ADDR[/PORT]`, `IF/ADDR(PORT)` (106100), each optionally followed by a
/// `(LOCAL\user)` or `(type 8, code 0)` group; `(ADDR)` alone (106016).
fn asa_endpoint(tok: &[u8]) -> Option<Endpoint<'_>> {
    let tok = trim_end(tok);
    let tok = tok
        .strip_suffix(b",")
        .or_else(|| tok.strip_suffix(b":"))
        .unwrap_or(tok);
    let tok = match tok.strip_prefix(b"(").and_then(|t| t.strip_suffix(b")")) {
        Some(inner) => inner,
        None => tok,
    };
    if let Some(ep) = asa_endpoint_quick(tok) {
        return Some(ep);
    }
    // One pass finds the first `(` and, before it, the first `:` and the first and last `/`.
    let (mut open, mut colon, mut first_slash, mut last_slash) = (tok.len(), None, None, None);
    for (i, b) in tok.iter().enumerate() {
        match b {
            b'(' => {
                open = i;
                break;
            }
            b':' if colon.is_none() => colon = Some(i),
            b'/' => {
                first_slash.get_or_insert(i);
                last_slash = Some(i);
            }
            _ => {}
        }
    }
    let main = tok.get(..open)?;
    let paren = tok.get(open + 1..);
    let mut ep = Endpoint::default();
    // `IF:` prefix, unless the colon belongs to an IPv6 address.
    let mut from = 0;
    if let Some(c) = colon
        && to_ip(main.get(..first_slash.unwrap_or(main.len()))?).is_none()
    {
        from = c + 1;
    }
    let main = main.get(from..)?;
    let slash = last_slash.and_then(|s| s.checked_sub(from));
    let name_ok =
        |n: &[u8]| n.iter().all(|b| is_host_char(*b)) && n.iter().any(u8::is_ascii_alphabetic);
    match slash {
        Some(slash) => {
            let (left, right) = (main.get(..slash)?, main.get(slash + 1..)?);
            if set_ip(left, &mut ep) {
                ep.port = service_port(right);
            } else if set_ip(right, &mut ep) {
                // 106100: IF/ADDR(PORT)
                ep.port = paren.and_then(paren_port);
            } else if is_redacted(left)
                || (!left.is_empty() && left.iter().all(|b| b.is_ascii_digit() || *b == b'.'))
            {
                // `***/20031`: the address was blanked out; `192.168.20/65`: it was cut short.
                // The port stands.
                ep.port = service_port(right);
            } else if service_port(right).is_some() && name_ok(left) {
                ep.domain = Some(left);
                ep.port = service_port(right);
            } else if name_ok(right) {
                ep.domain = Some(right);
                ep.port = paren.and_then(paren_port);
            } else {
                return None;
            }
        }
        None => {
            if !set_ip(main, &mut ep) {
                if !name_ok(main) {
                    return None;
                }
                ep.domain = Some(main);
            }
        }
    }
    Some(ep)
}

/// The protocol words ASA prints, lower-case.
const ASA_PROTOCOLS: [&[u8]; 11] = [
    b"tcp",
    b"udp",
    b"icmp",
    b"icmp6",
    b"icmpv6",
    b"ipv6-icmp",
    b"gre",
    b"esp",
    b"ah",
    b"sctp",
    b"igmp",
];

/// A protocol word ASA prints (`tcp`, `UDP`, `icmp6`), any case.
fn is_asa_protocol(w: &[u8]) -> bool {
    // Most words before the protocol (`Deny`, `denied`, `outside_in`) fail the first test, and
    // most protocols are spelt one of the first two ways.
    let first = w.first().map(u8::to_ascii_lowercase);
    if !matches!(first, Some(b't' | b'u' | b'i' | b'g' | b'e' | b'a' | b's')) {
        return false;
    }
    matches!(w, b"tcp" | b"TCP" | b"udp" | b"UDP" | b"icmp" | b"ICMP")
        || ASA_PROTOCOLS.iter().any(|n| n.eq_ignore_ascii_case(w))
}

/// The first protocol word in an ASA body (`tcp`, `UDP`, `icmp`, `protocol 47`).
fn asa_transport(body: &[u8]) -> Option<Transport<'_>> {
    // The first eight words, split at spaces; `protocol` as the eighth has no next word.
    let mut rest = body;
    for n in 0..8 {
        let w = next_word(&mut rest)?;
        if w.eq_ignore_ascii_case(b"protocol") {
            let next = (n < 7).then(|| next_word(&mut rest)).flatten()?;
            let known = next.iter().all(u8::is_ascii_digit) || is_asa_protocol(next);
            return known.then(|| Transport::from_token(next)).flatten();
        }
        if is_asa_protocol(w) {
            return transport(w);
        }
    }
    None
}

/// The next word of `rest` (skipping spaces; tabs belong to words), advancing past it.
fn next_word<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let mut r = *rest;
    while let [b' ', tail @ ..] = r {
        r = tail;
    }
    let (w, tail) = split_word(r);
    *rest = tail;
    (!w.is_empty()).then_some(w)
}

/// What an ASA body says, from one pass over its `-`, `m` and `M` bytes: each marker below has
/// one of them, and they are rare in ASA text, so the pass costs a few searches where a
/// search per marker cost one scan each (and the case-blind ones a comparison per byte).
#[derive(Default)]
struct AsaMarks {
    /// `permitted` or `est-allowed` in any case.
    permitted: bool,
    /// Where the first `access-group "` ends.
    group: Option<usize>,
    /// Where the first `access-list ` ends.
    list: Option<usize>,
    /// Where the first ` -> ` starts.
    arrow: Option<usize>,
    /// Where the first ` from ` starts.
    from: Option<usize>,
}

impl AsaMarks {
    fn scan(body: &[u8]) -> AsaMarks {
        let mut k = AsaMarks::default();
        // The needle around byte `p`, starting `back` bytes before it.
        let at = |p: usize, back: usize, len: usize| {
            p.checked_sub(back)
                .and_then(|s| body.get(s..s + len))
                .unwrap_or_default()
        };
        for p in find_byte3_iter(b'-', b'm', b'M', body) {
            let before = p.saturating_sub(3);
            if body.get(p) != Some(&b'-') {
                k.permitted |= p >= 3 && letters_at(body, before, b"permitted");
                if k.from.is_none() && at(p, 4, 6) == b" from " {
                    k.from = Some(p - 4);
                }
                continue;
            }
            k.permitted |=
                p >= 3 && letters_at(body, before, b"est") && letters_at(body, p + 1, b"allowed");
            if k.group.is_none() && at(p, 6, 14) == b"access-group \"" {
                k.group = Some(p + 8);
            }
            if k.list.is_none() && at(p, 6, 12) == b"access-list " {
                k.list = Some(p + 6);
            }
            if k.arrow.is_none() && at(p, 1, 4) == b" -> " {
                k.arrow = Some(p - 1);
            }
        }
        k
    }
}

/// Whether a body has `deny` or `denied` in any case.
fn says_deny(body: &[u8]) -> bool {
    find_byte3_iter(b'd', b'D', b'D', body)
        .any(|p| letters_at(body, p, b"deny") || letters_at(body, p, b"denied"))
}

/// Whether `h` has the letters `lower` (given in lower case) at `at`, in any case. `b | 0x20`
/// lower-cases a letter, and only a letter's two cases give that letter, so this is
/// `eq_ignore_ascii_case` for letters, without its per-byte case mapping.
fn letters_at<const N: usize>(h: &[u8], at: usize, lower: &[u8; N]) -> bool {
    h.get(at..at + N)
        .is_some_and(|w| w.iter().zip(lower).all(|(b, l)| b | 0x20 == *l))
}

/// Reads the `from SRC … to DST` form (106001, 106006, 106015, 106021, 313001, 710003, …),
/// skipping mapped-address groups and `laddr`/`on interface X` between the two.
fn asa_from_to<'a>(r: &'a [u8], d: &mut Details<'a>) {
    let (mut s, mut r) = split_word(skip_spaces(r));
    if s == b"laddr" || s == b"faddr" {
        (s, r) = split_word(skip_spaces(r));
    }
    if let Some(ep) = asa_endpoint(s) {
        d.source = ep;
    }
    let to = match find(r, b" to ") {
        Some(at) => r.get(at + 4..),
        None => skip_spaces(r).strip_prefix(b"to "),
    };
    if let Some(to) = to {
        let (t, _) = split_word(skip_spaces(to));
        if let Some(ep) = asa_endpoint(t) {
            d.destination = ep;
        }
    }
}

/// Whether this parser reads the ASA message `id`.
fn asa_reads(id: &[u8]) -> bool {
    if id.len() != 6 || !id.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = id.iter().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    matches!(
        n,
        106_001
            | 106_002
            | 106_006
            | 106_007
            | 106_010
            | 106_011
            | 106_012
            | 106_013
            | 106_014
            | 106_015
            | 106_016
            | 106_017
            | 106_018
            | 106_019
            | 106_020
            | 106_021
            | 106_022
            | 106_023
            | 106_025
            | 106_026
            | 106_027
            | 106_100
            | 106_102
            | 106_103
            | 313_001
            | 313_004
            | 313_008
            | 313_009
            | 710_002
            | 710_003
    )
}

/// ASA/PIX/FWSM/FTD access messages.
fn asa<'a>(id: &'a [u8], body: &'a [u8], d: &mut Details<'a>) -> Option<()> {
    asa_flow(id, body, d)?;
    // ICMP has no ports: what ASA prints in their place (`(8)`, `/0`) is a type, a code or an id.
    if matches!(d.transport, Some(Transport::Icmp | Transport::Ipv6Icmp)) {
        d.source.port = None;
        d.destination.port = None;
    }
    Some(())
}

/// [`asa`]'s reading of the action, the rule and the flow.
fn asa_flow<'a>(id: &'a [u8], body: &'a [u8], d: &mut Details<'a>) -> Option<()> {
    if !asa_reads(id) {
        return None;
    }
    d.code = Some(id);
    d.transport = asa_transport(body);
    let marks = AsaMarks::scan(body);
    d.action = if marks.permitted {
        Some(Action::AclPermitted)
    } else if says_deny(body) {
        Some(Action::AclDenied)
    } else {
        None
    };
    if let Some(r) = marks.group.or(marks.list).and_then(|at| body.get(at..)) {
        let end = find_byte3(b'"', b' ', b' ', r).unwrap_or(r.len());
        d.rule.name = r.get(..end).filter(|n| !n.is_empty());
    }
    if let Some(arrow) = marks.arrow {
        let left = trim_end(body.get(..arrow)?);
        let s = left
            .get(crate::lex::rfind_byte(b' ', left).map_or(0, |n| n + 1)..)
            .unwrap_or_default();
        let (t, _) = split_word(skip_spaces(body.get(arrow + 4..)?));
        if let Some(ep) = asa_endpoint(s) {
            d.source = ep;
        }
        if let Some(ep) = asa_endpoint(t) {
            d.destination = ep;
        }
        return Some(());
    }
    if let Some(r) = find(body, b" src ").and_then(|at| body.get(at + 5..)) {
        let (mut s, mut r) = split_word(skip_spaces(r));
        // `src outside: 204.16.208.49/58940` (a PIX sample): a space after the interface's
        // colon; the interface alone is no peer name.
        if s.len() > 1 && s.ends_with(b":") && position(s, b'.').is_none() {
            let (next, rest) = split_word(skip_spaces(r));
            if asa_endpoint(next).is_some() {
                (s, r) = (next, rest);
            }
        }
        // 106002: `src ADDR PORT dest ADDR PORT`
        let (p, after_port) = split_word(skip_spaces(r));
        if let Some(port) = to_port(p)
            && let Some(a) = to_ip(s)
        {
            d.source.ip = Some(a);
            d.source.port = Some(port);
            if let Some(r) = skip_spaces(after_port).strip_prefix(b"dest ") {
                let (t, r) = split_word(skip_spaces(r));
                let (p, _) = split_word(skip_spaces(r));
                d.destination.ip = to_ip(t);
                d.destination.port = d.destination.ip.and_then(|_| to_port(p));
            }
            return Some(());
        }
        if let Some(ep) = asa_endpoint(s) {
            d.source = ep;
        }
        if let Some(at) = find(r, b"dst ") {
            let (t, _) = split_word(skip_spaces(r.get(at + 4..)?));
            if let Some(ep) = asa_endpoint(t) {
                d.destination = ep;
            }
        }
        return Some(());
    }
    let from = marks
        .from
        .map(|at| at + 6)
        .or_else(|| find(body, b" for ").map(|at| at + 5));
    if let Some(r) = from.and_then(|at| body.get(at..)) {
        asa_from_to(r, d);
    }
    Some(())
}

/// Parses a Cisco ACL message.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = mnemonic(h.message)?;
    let mut d = Details {
        code: Some(m.mnemonic),
        ..Details::default()
    };
    match m.facility {
        b"ASA" | b"PIX" | b"FWSM" | b"FTD" => asa(m.mnemonic, m.body, &mut d)?,
        _ => {
            find(m.mnemonic, b"ACCESSLOG")?;
            // A line the ACL logger wrote but that names no flow (`IPACCESSLOGRL: access-list
            // logging rate-limited`) is still the family's; keep what could be read.
            if ios(m.body, &mut d).is_none() {
                d = Details {
                    code: d.code,
                    action: d.action,
                    rule: Rule {
                        name: d.rule.name,
                        ..Rule::default()
                    },
                    ..Details::default()
                };
            }
        }
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, check, run};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn letters_compare_as_eq_ignore_ascii_case(a in any::<u8>(), l in b'a'..=b'z') {
            prop_assert_eq!(super::letters_at(&[a], 0, &[l]), a.eq_ignore_ascii_case(&l));
        }
    }

    #[test]
    fn protocol_words_any_case() {
        let names = super::ASA_PROTOCOLS;
        let words: &[&[u8]] = &[
            b"TCP",
            b"Tcp",
            b"uDp",
            b"ICMP6",
            b"IcmpV6",
            b"IPV6-ICMP",
            b"AH",
            b"Deny",
            b"tcp6",
            b"tc",
            b"icm",
            b"\0ah",
            b"a",
            b"",
            b"protocol",
            b"access-list",
            b"sctpx",
            b"ipv6-icmpx",
        ];
        for w in names.iter().chain(words) {
            let want = names.iter().any(|n| n.eq_ignore_ascii_case(w));
            assert_eq!(super::is_asa_protocol(w), want, "{w:?}");
        }
    }

    fn acl(
        action: &'static str,
        t: Option<&'static str>,
        src: &'static str,
        sport: Option<u16>,
        dst: Option<&'static str>,
        dport: Option<u16>,
    ) -> Expect {
        Expect {
            dataset: Some("cisco_acl"),
            action: Some(action),
            transport: t,
            src: Some(src),
            sport,
            dst,
            dport,
            host: Some("rtr"),
            ..Expect::default()
        }
    }

    #[test]
    fn variants() {
        let l = |m: &str| format!("<189>Nov  8 15:26:31 rtr 123: {m}");
        let a = "198.51.100.7";
        let b = Some("192.0.2.10");
        let d = "acl-denied";
        let rows = [
            (
                l(
                    "%SEC-6-IPACCESSLOGP: list 101 denied tcp 198.51.100.7(3527) -> 192.0.2.10(23), 1 packet",
                ),
                acl(d, Some("tcp"), a, Some(3527), b, Some(23)),
            ),
            (
                l(
                    "%SEC-6-IPACCESSLOGP: list 101 permitted udp 198.51.100.7(53) -> 192.0.2.10(1024), 3 packets",
                ),
                acl("acl-permitted", Some("udp"), a, Some(53), b, Some(1024)),
            ),
            (
                l(
                    "%SEC-6-IPACCESSLOGDP: list 110 denied icmp 198.51.100.7 -> 192.0.2.10 (8/0), 4 packets",
                ),
                acl(d, Some("icmp"), a, None, b, None),
            ),
            (
                l("%SEC-6-IPACCESSLOGS: list 10 denied 198.51.100.7 1 packet"),
                acl(d, None, a, None, None, None),
            ),
            (
                l("%SEC-6-IPACCESSLOGNP: list 120 denied 47 198.51.100.7 -> 192.0.2.10, 1 packet"),
                acl(d, Some("gre"), a, None, b, None),
            ),
            (
                l(
                    "%IPV6_ACL-6-ACCESSLOGP: list OUTSIDE6 denied tcp 2001:DB8::3(1028) -> 2001:DB8:1::1(22), 9 packets",
                ),
                acl(
                    d,
                    Some("tcp"),
                    "2001:db8::3",
                    Some(1028),
                    Some("2001:db8:1::1"),
                    Some(22),
                ),
            ),
            (
                l(
                    "%SEC-6-IPACCESSLOGP: list OUTSIDE-IN denied tcp 198.51.100.7(3527) (GigabitEthernet0/0 0011.2233.4455) -> 192.0.2.10(23), 1 packet",
                ),
                acl(d, Some("tcp"), a, Some(3527), b, Some(23)),
            ),
            (
                l(
                    "%ASA-4-106023: Deny tcp src outside:198.51.100.7/3527 dst inside:192.0.2.10/23 by access-group \"outside_in\" [0x0, 0x0]",
                ),
                acl(d, Some("tcp"), a, Some(3527), b, Some(23)),
            ),
            (
                l(
                    "%ASA-4-106023: Deny icmp src outside:198.51.100.7 dst inside:192.0.2.10 (type 8, code 0) by access-group \"outside_in\" [0x0, 0x0]",
                ),
                acl(d, Some("icmp"), a, None, b, None),
            ),
            (
                l(
                    "%ASA-4-106023: Deny protocol 47 src outside:198.51.100.7 dst inside:192.0.2.10 by access-group \"outside_in\" [0x0, 0x0]",
                ),
                acl(d, Some("gre"), a, None, b, None),
            ),
            (
                l(
                    "%ASA-2-106001: Inbound TCP connection denied from 198.51.100.7/3527 to 192.0.2.10/23 flags SYN  on interface outside",
                ),
                acl(d, Some("tcp"), a, Some(3527), b, Some(23)),
            ),
            (
                l(
                    "%ASA-2-106006: Deny inbound UDP from 198.51.100.7/3527 to 192.0.2.10/161 on interface outside",
                ),
                acl(d, Some("udp"), a, Some(3527), b, Some(161)),
            ),
            (
                l(
                    "%ASA-6-106015: Deny TCP (no connection) from 198.51.100.7/3527 to 192.0.2.10/23 flags RST  on interface outside",
                ),
                acl(d, Some("tcp"), a, Some(3527), b, Some(23)),
            ),
            (
                l(
                    "%ASA-3-106014: Deny inbound icmp src outside:198.51.100.7 dst inside:192.0.2.10 (type 8, code 0)",
                ),
                acl(d, Some("icmp"), a, None, b, None),
            ),
            (
                l(
                    "%ASA-5-106100: access-list outside_in denied tcp outside/198.51.100.7(3527) -> inside/192.0.2.10(23) hit-cnt 1 first hit [0x1, 0x0]",
                ),
                acl(d, Some("tcp"), a, Some(3527), b, Some(23)),
            ),
            (
                l(
                    "%ASA-6-106100: access-list outside_in permitted udp outside/198.51.100.7(53) -> inside/192.0.2.10(53) hit-cnt 1 first hit [0x1, 0x0]",
                ),
                acl("acl-permitted", Some("udp"), a, Some(53), b, Some(53)),
            ),
            (
                l(
                    "%ASA-4-106023: Deny tcp src outside:2001:db8::7/3527 dst inside:2001:db8::10/23 by access-group \"outside_in\" [0x0, 0x0]",
                ),
                acl(
                    d,
                    Some("tcp"),
                    "2001:db8::7",
                    Some(3527),
                    Some("2001:db8::10"),
                    Some(23),
                ),
            ),
            (
                l(
                    "%PIX-4-106023: Deny udp src outside:198.51.100.7/53 dst inside:192.0.2.10/1024 by access-group \"101\"",
                ),
                acl(d, Some("udp"), a, Some(53), b, Some(1024)),
            ),
            (
                l(
                    "%ASA-6-710003: TCP access denied by ACL from 198.51.100.7/3527 to outside:192.0.2.10/22",
                ),
                acl(d, Some("tcp"), a, Some(3527), b, Some(22)),
            ),
        ];
        let table: Vec<(&str, Expect)> = rows.iter().map(|(l, e)| (l.as_str(), *e)).collect();
        run(&table, 15);
    }

    #[test]
    fn header_forms() {
        let want = super::tests::acl(
            "acl-denied",
            Some("tcp"),
            "198.51.100.7",
            Some(3527),
            Some("192.0.2.10"),
            Some(23),
        );
        let body = "%SEC-6-IPACCESSLOGP: list 101 denied tcp 198.51.100.7(3527) -> 192.0.2.10(23), 1 packet";
        check(
            &format!("<189>123: *Mar  1 00:01:02.345 UTC: {body}"),
            &Expect { host: None, ..want },
        );
        check(
            &format!("<189>Mar  1 00:01:02 rtr 123: 000120: *Mar  1 00:01:02.345 UTC: {body}"),
            &want,
        );
        check(&format!("Mar  1 00:01:02 rtr {body}"), &want);
        check(
            "<166>Jan 01 2020 10:00:00 rtr : %ASA-4-106023: Deny tcp src outside:198.51.100.7/3527 dst inside:192.0.2.10/23 by access-group \"outside_in\" [0x0, 0x0]",
            &want,
        );
    }

    #[test]
    fn other_cisco_messages_are_not_acl_lines() {
        check(
            "<189>Nov  8 15:26:31 rtr 12: %SYS-5-CONFIG_I: Configured from console by vty0 (192.0.2.1)",
            &Expect {
                host: Some("rtr"),
                ..Expect::default()
            },
        );
        check(
            "<189>Nov  8 15:26:31 rtr 12: %LINK-3-UPDOWN: Interface Serial0, changed state to up",
            &Expect {
                host: Some("rtr"),
                ..Expect::default()
            },
        );
        check(
            "<166>Nov  8 15:26:31 fw %ASA-6-302013: Built inbound TCP connection 1 for outside:198.51.100.7/3527 (198.51.100.7/3527) to inside:192.0.2.10/23 (192.0.2.10/23)",
            &Expect {
                host: Some("fw"),
                ..Expect::default()
            },
        );
    }

    /// Real lines (Elastic, Wazuh and fail2ban test logs, public write-ups) that earlier versions misread.
    #[test]
    fn real_lines() {
        let table = [
            (
                "Apr 15 2014 09:34:34 EDT: %ASA-session-5-106100: access-list acl_in permitted tcp inside/10.1.2.16(2241) -> outside/192.168.0.89(2000) hit-cnt 1 first hit [0x71a87d94, 0x0]",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-permitted"),
                    src: Some("10.1.2.16"),
                    sport: Some(2241),
                    dst: Some("192.168.0.89"),
                    dport: Some(2000),
                    transport: Some("tcp"),
                    ..Expect::default()
                },
            ),
            (
                "Apr 30 2013 09:23:43: %ASA-5-106100: access-list acl_in est-allowed tcp inside/10.0.0.46(49840) -> outside/192.168.0.88(40443) hit-cnt 1 first hit [0x71a87d94, 0x0]",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-permitted"),
                    src: Some("10.0.0.46"),
                    sport: Some(49840),
                    dst: Some("192.168.0.88"),
                    dport: Some(40443),
                    transport: Some("tcp"),
                    ..Expect::default()
                },
            ),
            (
                "Dec 11 2018 08:01:24 <IP>: %ASA-4-106023: Deny udp src dmz:192.168.1.33/5555 dst outside:192.168.0.12/53 by access-group \"dmz\" [0x123a465e, 0x4c7bf613]",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("192.168.1.33"),
                    sport: Some(5555),
                    dst: Some("192.168.0.12"),
                    dport: Some(53),
                    transport: Some("udp"),
                    host: None,
                    ..Expect::default()
                },
            ),
            (
                "Sep 12 2014 06:50:53 GIFRCHN01 : %ASA-2-106016: Deny IP spoof from (0.0.0.0) to 192.168.99.47 on interface Mobile_Traffic",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("0.0.0.0"),
                    dst: Some("192.168.99.47"),
                    host: Some("GIFRCHN01"),
                    ..Expect::default()
                },
            ),
            (
                "Jan 14 2015 13:16:13: %ASA-4-313004: Denied ICMP type=0, from laddr 172.16.30.2 on interface inside to 172.16.1.10: no matching session",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("172.16.30.2"),
                    dst: Some("172.16.1.10"),
                    transport: Some("icmp"),
                    ..Expect::default()
                },
            ),
            (
                "Apr 17 2020 14:16:20 SNL-ASA-VPN-A01 : %ASA-4-106023: Deny udp src Inside:10.123.123.123/57621(LOCAL\\Elastic) dst Outside:10.123.123.123/57621 by access-group \"Inside_access_in\" [0x0, 0x0]",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("10.123.123.123"),
                    sport: Some(57621),
                    dst: Some("10.123.123.123"),
                    dport: Some(57621),
                    transport: Some("udp"),
                    host: Some("SNL-ASA-VPN-A01"),
                    ..Expect::default()
                },
            ),
            (
                "Apr 17 2020 14:15:07 SNL-ASA-VPN-A01 : %ASA-3-313008: Denied IPv6-ICMP type=134, code=0 from fe80::1ff:fe23:4567:890a on interface ISP1",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("fe80::1ff:fe23:4567:890a"),
                    transport: Some("ipv6-icmp"),
                    host: Some("SNL-ASA-VPN-A01"),
                    ..Expect::default()
                },
            ),
            (
                "Oct 20 2019 15:42:54: %ASA-6-106100: access-list incoming permitted udp dmz2/127.2.3.4(56575)(LOCAL\\\\username) -> inside/127.3.4.5(53) hit-cnt 1 first hit [0x93d0e533, 0x578ef52f]",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-permitted"),
                    src: Some("127.2.3.4"),
                    sport: Some(56575),
                    dst: Some("127.3.4.5"),
                    dport: Some(53),
                    transport: Some("udp"),
                    ..Expect::default()
                },
            ),
            (
                "Aug  6 2020 11:01:38: %ASA-1-106103: access-list filter denied icmp for user joe inside/10.1.2.3(64321) -> outside/81.2.69.144(8080) hit-cnt 1 first hit [0x3c8b88c1, 0xbee595c3]",
                // ICMP has no ports: ASA prints its type and code where ports would be.
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("10.1.2.3"),
                    sport: None,
                    dst: Some("81.2.69.144"),
                    dport: None,
                    transport: Some("icmp"),
                    ..Expect::default()
                },
            ),
            (
                "May  5 18:40:50 dev01: %ASA-2-106001: Inbound TCP connection denied from 192.168.2.2/43803 to 10.10.10.10/14322 flags SYN  on interface out111",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("192.168.2.2"),
                    sport: Some(43803),
                    dst: Some("10.10.10.10"),
                    dport: Some(14322),
                    transport: Some("tcp"),
                    host: Some("dev01"),
                    ..Expect::default()
                },
            ),
            (
                "May  5 19:02:26 dev01: %ASA-3-106014: Deny inbound icmp src fw111:10.10.10.10 dst fw111:10.10.10.10(type 8, code 0)",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("10.10.10.10"),
                    dst: Some("10.10.10.10"),
                    transport: Some("icmp"),
                    host: Some("dev01"),
                    ..Expect::default()
                },
            ),
            (
                "Apr 27 02:02:02 dev01: %ASA-4-106023: Deny tcp src outside:10.10.10.2/56444 dst srv:192.168.2.2/51635(testhostname.domain) by access-group \"global_access_1\"",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("10.10.10.2"),
                    sport: Some(56444),
                    dst: Some("192.168.2.2"),
                    dport: Some(51635),
                    transport: Some("tcp"),
                    host: Some("dev01"),
                    ..Expect::default()
                },
            ),
            (
                "Oct 20 2019 15:15:15 dev01: %ASA-5-106100: access-list testrulename denied tcp insideintf/somedomainname.local(27218) -> OUTSIDE/192.168.157.61(53) hit-cnt 1 first hit [0x16847359, 0x00000000]",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    sport: Some(27218),
                    sdomain: Some("somedomainname.local"),
                    dst: Some("192.168.157.61"),
                    dport: Some(53),
                    transport: Some("tcp"),
                    host: Some("dev01"),
                    ..Expect::default()
                },
            ),
            (
                "%PIX-7-710002: TCP access permitted from 10.0.0.1/60749 to db:10.0.0.2/ssh",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-permitted"),
                    src: Some("10.0.0.1"),
                    sport: Some(60749),
                    dst: Some("10.0.0.2"),
                    dport: Some(22),
                    transport: Some("tcp"),
                    ..Expect::default()
                },
            ),
            (
                "%PIX-2-106002: udp connection denied by outbound list 30 src 216.53.120.62 138 dest 169.132.10.82 138",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("216.53.120.62"),
                    sport: Some(138),
                    dst: Some("169.132.10.82"),
                    dport: Some(138),
                    transport: Some("udp"),
                    ..Expect::default()
                },
            ),
            (
                // ossec-docs' PIX samples: a space after the interface's colon.
                "Sep  7 06:26:49 PIXName %PIX-4-106023: Deny udp src outside: 204.16.208.49/58940 dst dmz:10.0.0.158/1027 by access-group \"acl_outside\" [0x0, 0x0]",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("204.16.208.49"),
                    sport: Some(58940),
                    dst: Some("10.0.0.158"),
                    dport: Some(1027),
                    transport: Some("udp"),
                    host: Some("PIXName"),
                    rule_name: Some("acl_outside"),
                    ..Expect::default()
                },
            ),
            (
                // An address cut short (`192.168.20`): no address, its port stands.
                "%PIX-6-106015: Deny TCP (no connection) from 192.168.2.50/443 to 192.168.20/65 flags RST on interface outside",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("192.168.2.50"),
                    sport: Some(443),
                    dport: Some(65),
                    transport: Some("tcp"),
                    ..Expect::default()
                },
            ),
            (
                // Blanked addresses: no address, the ports stand.
                "%PIX-2-106006: Deny inbound UDP from ***/20031 to ***/20031 on",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    transport: Some("udp"),
                    sport: Some(20031),
                    dport: Some(20031),
                    ..Expect::default()
                },
            ),
            (
                "%ASA-1-106022: Deny protocol connection spoof from 192.168.0.1 to 192.168.0.2 on interface interfacename.",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("192.168.0.1"),
                    dst: Some("192.168.0.2"),
                    ..Expect::default()
                },
            ),
            (
                "Jun 20 02:42:28 192.168.100.2 1663313: Jun 20 02:42:28.374: %SEC-6-IPACCESSLOGRL: access-list logging rate-limited or missed 18 packets",
                Expect {
                    dataset: Some("cisco_acl"),
                    host: Some("192.168.100.2"),
                    ..Expect::default()
                },
            ),
            (
                "Jul 11 09:31:03 my-router-hostname 1663410: Jul 11 09:31:03.762: %FMANFP-6-IPACCESSLOGP: R0/0: fman_fp_image: list 110 denied tcp 10.100.8.34(59120) -> 172.16.0.26(7774), 1 packet",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("10.100.8.34"),
                    sport: Some(59120),
                    dst: Some("172.16.0.26"),
                    dport: Some(7774),
                    transport: Some("tcp"),
                    host: Some("my-router-hostname"),
                    ..Expect::default()
                },
            ),
            (
                "<174>15162564: BGP-BETA: 29391555: Jun 26 16:44:58.802 CEST: %FMANFP-6-IPACCESSLOGP: F0/0: fman_fp_image: list acl_Te0-1-1_in denied tcp 00-00-5E-00-53-23 198.51.100.10(56279) TenGigabitEthernet0/1/1-> 203.0.113.20(45240), 1 packet",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("198.51.100.10"),
                    sport: Some(56279),
                    dst: Some("203.0.113.20"),
                    dport: Some(45240),
                    transport: Some("tcp"),
                    host: Some("BGP-BETA"),
                    ..Expect::default()
                },
            ),
            (
                "<182>: host-1: 115649616: Jan 23 14:54:28.511 CET: %FMANFP-6-IPV6ACCESSLOGP: R0/0: fman_fp_image: list ACL-IPv6-OUTSIDE-2-AS51871 denied udp 2a02:cf40::(38370) -> 2a02:cf41::(3370), 1 packet",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("2a02:cf40::"),
                    sport: Some(38370),
                    dst: Some("2a02:cf41::"),
                    dport: Some(3370),
                    transport: Some("udp"),
                    host: Some("host-1"),
                    ..Expect::default()
                },
            ),
            (
                "<190>Oct 7 07:19:44 internet-primary-mgmt RP/0/RP0/CPU0:Oct 7 07:19:43.630 UTC: ipv4_acl_mgr[310]: %ACL-IPV4_ACL-6-IPACCESSLOGP : access-list outgoing-to-VCS-GW deny tcp 89.160.20.128(39527) -> 89.160.20.128(1830), 1 packet",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("89.160.20.128"),
                    sport: Some(39527),
                    dst: Some("89.160.20.128"),
                    dport: Some(1830),
                    transport: Some("tcp"),
                    host: Some("internet-primary-mgmt"),
                    ..Expect::default()
                },
            ),
            (
                "3924923: *Oct  6 03:32:04.114 gmt: %SEC-6-IPACCESSLOGP: list bcv_out denied tcp 10.0.3.100(50150) -> 192.168.216.1(443), 1 packet",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("10.0.3.100"),
                    sport: Some(50150),
                    dst: Some("192.168.216.1"),
                    dport: Some(443),
                    transport: Some("tcp"),
                    ..Expect::default()
                },
            ),
            (
                "3924923: *Oct 6 03:32:04 mng: %SEC-6-IPACCESSLOGP: list 1111 denied tcp 10.0.3.100(50150) (Serial4/3 ) -> 192.168.216.1(443), 1 packet",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("10.0.3.100"),
                    sport: Some(50150),
                    dst: Some("192.168.216.1"),
                    dport: Some(443),
                    transport: Some("tcp"),
                    ..Expect::default()
                },
            ),
            (
                "Feb  8 04:00:48 192.168.100.2 585917: Feb  8 04:00:47.272: %SEC-6-IPACCESSLOGRP: list 177 denied igmp 192.168.100.197 -> 224.0.0.22, 1 packet",
                Expect {
                    dataset: Some("cisco_acl"),
                    action: Some("acl-denied"),
                    src: Some("192.168.100.197"),
                    dst: Some("224.0.0.22"),
                    transport: Some("igmp"),
                    host: Some("192.168.100.2"),
                    ..Expect::default()
                },
            ),
        ];
        run(&table, 25);
    }
}
