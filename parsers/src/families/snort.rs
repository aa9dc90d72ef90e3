//! Snort 1.x/2.x and Suricata `alert_syslog` lines, and the spp_portscan preprocessor.
//!
//! Shape: `[gid:sid:rev] MESSAGE [Classification: C] [Priority: N]: {PROTO} SRC[:PORT] -> DST[:PORT]`;
//! Snort 1.x has only `MESSAGE: SRC:PORT -> DST:PORT`, Suricata drops the colon after the
//! priority and brackets IPv6 (`[2001:db8::1]:80`). The flow is read from the last ` -> `, so
//! a signature message may contain anything.
//!
//! This parser also runs, by shape, on every line no other family claims, so it is written to
//! be cheap: a line without ` -> ` costs a look at its opening and one backwards scan. Fields
//! are found with `lex`'s word-at-a-time scans over the few bytes they span, and addresses
//! with `lex`'s readers (its dotted quad and hex-group IPv6 fast paths were snort's own once).
//!
//! nom (issue 9, item 7): the preprocessor's lines are a nom composition ([`portscan`]); the
//! alert stays a hand reader. It is read from its last ` -> ` outwards (the source token and
//! `{PROTO}` backwards from the arrow, the destination forwards), which nom, reading forwards
//! only, cannot express, and its rule part is one pass over the `[` of the name. The forward
//! pieces were tried as nom parsers, byte-identical on the references, and measured
//! (callgrind, instructions per line, `parse_loop full snort 50000`): the hand reader 2,721;
//! `portscan` as nom 2,721 (10 more with a bare `past(b" from ")`: `alt((lit, past))` finds the
//! usual ` from ` right after the opening without a search); [`gid`] as
//! `delimited(lit("["), id, lit("]"))` over a hand `id` primitive (forced inline) 2,733;
//! [`bracket_value`] as `terminated(preceded(blanks, till(b']')), lit("]"))` as well 2,737, and
//! 2,800 with nom's `take_till` (byte by byte, where `lex::position` reads words) and `gid` not
//! forced inline. So `gid` and `bracket_value` stay by hand.

use std::net::IpAddr;

use nom::Parser;
use nom::branch::alt;
use nom::combinator::{map_opt, opt};
use nom::sequence::preceded;

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint, Rule, Transport};
use crate::header::Header;
use crate::lex::{
    HIGHS, ONES, Res, addr_colon_port, blanks, find, ipv4, is_redacted, lit, past, position,
    redacted_port, rposition, skip_spaces, split_word, to_ip, to_u32, token, trim_end,
};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Snort,
    tags: &[b"snort", b"suricata", b"spp_portscan", b"snort2", b"snort3"],
    owns_tag: true,
    any_program: true,
    parse,
};

const CLASSIFICATION: &[u8] = b"[Classification:";
const PRIORITY: &[u8] = b"[Priority:";

/// The start of the last ` -> ` in `m`. On the lines of other programs (half of all traffic)
/// this scan is the whole cost of the parser. It looks for `>`, the rarest of the arrow's bytes,
/// with `lex::rfind_byte`: most messages have none or one, and over a whole message the vector
/// scan beats a word-at-a-time loop.
fn last_arrow(m: &[u8]) -> Option<usize> {
    let mut end = m.len();
    while let Some(gt) = crate::lex::rfind_byte(b'>', m.get(..end)?) {
        if gt >= 2 && m.get(gt - 2..gt) == Some(&b" -"[..]) && m.get(gt + 1) == Some(&b' ') {
            return Some(gt - 2);
        }
        end = gt;
    }
    None
}

/// An address and maybe a port, as `lex::addr_colon_port` gives them.
type AddrPort = (IpAddr, Option<u16>);

/// A dotted quad and an optional `:DIGITS` at the start of `s`, in one pass: what
/// `lex::addr_colon_port` makes of them as a token, and what follows them. `None` when `s` starts
/// otherwise.
fn quad_port(s: &[u8]) -> Option<(Option<AddrPort>, &[u8])> {
    let (rest, a) = ipv4(s).ok()?;
    let a = IpAddr::V4(a);
    let Some(after_colon) = rest.strip_prefix(b":") else {
        return Some((Some((a, None)), rest));
    };
    let mut v = 0u64;
    let mut n = 0;
    for &b in after_colon {
        if !b.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(u64::from(b - b'0'));
        n += 1;
    }
    if n == 0 {
        return None;
    }
    // One colon: the token is split there, and with a bad port (`lex::to_port`: at most ten
    // digits, at most 65535) nothing reads as an address.
    let port = u16::try_from(v).ok().filter(|_| n <= 10);
    Some((port.map(|p| (a, Some(p))), after_colon.get(n..)?))
}

/// `SRC[:PORT]` as Snort prints it; a bare IPv6 address with a port is split at its last colon
/// only when the protocol has ports.
// Inlined, as `word_endpoint`: as a call, passing the `Endpoint` back costs more than reading
// a dotted quad.
#[inline(always)]
fn endpoint(tok: &[u8], has_ports: bool) -> Option<Endpoint<'static>> {
    let (ip, port) = match quad_port(tok) {
        Some((read, b"")) => read?,
        _ => match addr_colon_port(tok, has_ports) {
            Some(read) => read,
            None => return redacted_endpoint(tok, has_ports),
        },
    };
    Some(Endpoint {
        ip: Some(ip),
        port,
        domain: None,
    })
}

/// A blanked endpoint (`x.x.x.x:41022`, `xx.xx.xx.xx`): no address, the port if given.
#[cold]
fn redacted_endpoint(tok: &[u8], has_ports: bool) -> Option<Endpoint<'static>> {
    let port = if has_ports { redacted_port(tok) } else { None };
    (port.is_some() || is_redacted(tok)).then_some(Endpoint {
        ip: None,
        port,
        domain: None,
    })
}

/// [`endpoint`] of the word that starts `s`: up to a space, less a trailing comma. A dotted
/// quad is read before looking for the end of the word, which then is where the quad ends.
#[inline(always)]
fn word_endpoint(s: &[u8], has_ports: bool) -> Option<Endpoint<'static>> {
    // The quad is the whole word if the word ends after it: at the end, at a space, or at a
    // comma that the word ends with.
    if let Some((read, rest)) = quad_port(s)
        && matches!(rest, [] | [b' ', ..] | [b','] | [b',', b' ', ..])
    {
        let (ip, port) = read?;
        return Some(Endpoint {
            ip: Some(ip),
            port,
            domain: None,
        });
    }
    let word = s.get(..position(s, b' ').unwrap_or(s.len()))?;
    endpoint(word.strip_suffix(b",").unwrap_or(word), has_ports)
}

/// `{TCP}`, `{PROTO:255}`, `{PROTO255}` → transport.
fn proto(p: &[u8]) -> Option<Transport<'_>> {
    let p = p
        .strip_prefix(b"PROTO")
        .map_or(p, |n| n.strip_prefix(b":").unwrap_or(n));
    // The spellings Snort prints, without `from_token`'s table walk.
    match p {
        b"TCP" => Some(Transport::Tcp),
        b"UDP" => Some(Transport::Udp),
        b"ICMP" => Some(Transport::Icmp),
        _ => Transport::from_token(p),
    }
}

/// How many bytes at the start of `s` are digits or colons (`0x30..=0x3A`), eight a step: an
/// id such as `1:2001219:20` takes two steps, not a dozen.
fn id_len(s: &[u8]) -> usize {
    let mut words = s.chunks_exact(8);
    let mut n = 0;
    for w in &mut words {
        let x = u64::from_le_bytes(w.try_into().unwrap_or_default());
        let low = x & !HIGHS;
        // Per lane, `low + k` has its high bit set when the lane's low seven bits are at least
        // 0x80 - k (no carry crosses lanes); a lane with its own high bit set is outside.
        let at_least_0x30 = low + ONES * (0x80 - 0x30);
        let above_0x3a = low + ONES * (0x80 - 0x3B);
        let inside = at_least_0x30 & !above_0x3a & !x & HIGHS;
        let outside = !inside & HIGHS;
        if outside != 0 {
            return n + outside.trailing_zeros() as usize / 8;
        }
        n += 8;
    }
    n + words
        .remainder()
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b':')
        .count()
}

/// `[gid:sid:rev]` at the start of `t` (digits and colons, maybe none): the id and what
/// follows the `]`.
fn gid(t: &[u8]) -> Option<(&[u8], &[u8])> {
    let r = t.strip_prefix(b"[")?;
    let n = id_len(r);
    if r.get(n) != Some(&b']') {
        return None;
    }
    Some((r.get(..n)?, r.get(n + 1..)?))
}

/// The text of `KEY VALUE]` after a key: the value up to the `]`, trimmed.
fn bracket_value(v: &[u8]) -> Option<&[u8]> {
    let end = position(v, b']')?;
    Some(trim_end(skip_spaces(v.get(..end)?)))
}

/// Signature part: id, name, classification, priority. `text` is a prefix of the message and
/// `sig` the id of the `[gid:sid:rev]` that starts the message, if one does (read once, in
/// [`parse`]).
fn rule_part<'a>(text: &'a [u8], sig: Option<&'a [u8]>) -> (Rule<'a>, Option<u8>) {
    let mut rule = Rule::default();
    let mut t = skip_spaces(text);
    // `t` starts where the message does, so it holds that `[id]` when it is long enough to.
    let lead = sig.and_then(|id| Some((id, t.get(id.len() + 2..)?)));
    match lead {
        // The usual start, `[gid:sid:rev] `: a first word without `/` is no stamp, and it is
        // no `[**]`.
        Some((id, rest)) if rest.first().is_none_or(|&b| b == b' ') => {
            if !id.is_empty() {
                rule.id = Some(id);
                t = skip_spaces(rest);
            }
        }
        _ => {
            // alert_fast files start with the packet's stamp: `07/12-21:04:38.489675 [**] …`.
            let (first, rest) = split_word(t);
            if first.contains(&b'/') && first.contains(&b'-') && first.contains(&b':') {
                t = skip_spaces(rest);
            }
            while let Some(r) = t.strip_prefix(b"[**]") {
                t = skip_spaces(r);
            }
            if let Some((id, rest)) = gid(t)
                && !id.is_empty()
            {
                rule.id = Some(id);
                t = skip_spaces(rest);
            }
        }
    }
    // The name ends at the first ` [Classification:`, ` [Priority:` or ` [**]`, and each field
    // is read after the first occurrence of its key. All start with `[`: one pass over the
    // brackets finds them, and stops once all three are known.
    let (mut name_end, mut class, mut prio) = (None, None, None);
    let mut from = 0;
    while let Some(at) = t.get(from..).and_then(|s| position(s, b'[')) {
        let p = from + at;
        let rest = t.get(p..).unwrap_or_default();
        let key = if rest.starts_with(CLASSIFICATION) {
            class = class.or(Some(p + CLASSIFICATION.len()));
            true
        } else if rest.starts_with(PRIORITY) {
            prio = prio.or(Some(p + PRIORITY.len()));
            true
        } else {
            rest.starts_with(b"[**]")
        };
        if key && name_end.is_none() && p > 0 && t.get(p - 1) == Some(&b' ') {
            name_end = Some(p - 1);
        }
        if name_end.is_some() && class.is_some() && prio.is_some() {
            break;
        }
        from = p + 1;
    }
    let name = trim_end(t.get(..name_end.unwrap_or(t.len())).unwrap_or(t));
    let name = name.strip_suffix(b":").unwrap_or(name);
    if !name.is_empty() {
        rule.name = Some(trim_end(name));
    }
    rule.category = class.and_then(|v| bracket_value(t.get(v..)?));
    let priority = prio
        .and_then(|v| bracket_value(t.get(v..)?))
        .and_then(to_u32)
        .and_then(|n| u8::try_from(n).ok());
    (rule, priority)
}

/// The spp_portscan preprocessor's lines (with or without its tag); the source:
///
/// `spp_portscan: PORTSCAN DETECTED from 198.51.100.7 (THRESHOLD 4 connections exceeded in 0 seconds)`
/// `spp_portscan: End of portscan from 198.51.100.7: TOTAL HOSTS:1 TCP:4 UDP:0`
/// `spp_portscan: portscan status from 198.51.100.7: 4 connections across 1 hosts: TCP(4), UDP(0)`
fn portscan(i: &[u8]) -> Res<'_, IpAddr> {
    let opening = alt((
        lit(b"PORTSCAN DETECTED"),
        lit(b"portscan detected"),
        lit(b"End of portscan"),
        lit(b"portscan status"),
    ));
    // No ` from ` starts inside an opening, so the first one after it is the line's first;
    // it usually follows the opening at once, where `lit` finds it before `past` searches.
    let from = alt((lit(b" from "), past(b" from ")));
    let source = map_opt(token, |t: &[u8]| to_ip(t.strip_suffix(b":").unwrap_or(t)));
    preceded(
        (opt((lit(b"spp_portscan:"), blanks)), opening, from),
        source,
    )
    .parse(i)
}

/// Skips a leading `[**] ` and `[gid:sid:rev] `.
fn skip_gid(m: &[u8]) -> &[u8] {
    let mut t = skip_spaces(m);
    while let Some(r) = t.strip_prefix(b"[**]") {
        t = skip_spaces(r);
    }
    match gid(t) {
        Some((_, rest)) => skip_spaces(rest),
        None => t,
    }
}

/// Whether the line's program is one of the family's tags.
fn tagged(h: &Header<'_>) -> bool {
    h.program()
        .is_some_and(|p| FAMILY.tags.iter().any(|t| t.eq_ignore_ascii_case(p)))
}

/// Parses a Snort or Suricata alert line.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    // `[gid:sid:rev]` opening the message, read once for the preprocessor test and the rule.
    let lead = skip_spaces(m);
    let sig = gid(lead);
    let ps = match sig {
        Some((_, rest)) => skip_spaces(rest),
        None if lead.starts_with(b"[**]") => skip_gid(lead),
        None => lead,
    };
    // `[100:1:1] spp_portscan: PORTSCAN DETECTED from …` (with the generator id of the preprocessor).
    if ps.starts_with(b"spp_portscan")
        || ps.starts_with(b"PORTSCAN")
        || ps.starts_with(b"End of portscan")
    {
        let source = portscan(ps).ok()?.1;
        let mut d = Details {
            action: Some(Action::PortScan),
            ..Details::default()
        };
        d.source.ip = Some(source);
        return Some(d);
    }
    match last_arrow(m) {
        Some(arrow) => alert(h, arrow, sig.map(|(id, _)| id)),
        // Only a signature or Snort 3's quoted text opens a cut alert: one test here spares
        // the call on every other line.
        None if sig.is_some() || m.first() == Some(&b'"') => cut_alert(h, sig.map(|(id, _)| id)),
        None => None,
    }
}

/// An alert cut short before its ` -> ` (a datagram limit, a paste): the rule, the
/// classification, the priority, the protocol and the source if it was reached. Only a line
/// with a `[gid:sid:rev]` or under Snort's tag is taken for one.
#[inline(never)]
fn cut_alert<'a>(h: &Header<'a>, sig: Option<&'a [u8]>) -> Option<Details<'a>> {
    let m = h.message;
    // `[26931:0] info: …` (unbound) is no signature: a cut alert needs a full `[gid:sid:rev]`
    // and what alert_syslog writes after it; without one, Snort 3's quoted text under Snort's
    // tag. The cheap tests first: this runs on every line no family took.
    let claimed = match sig {
        Some(s) => {
            s.iter().filter(|b| **b == b':').count() == 2
                && (find(m, b"[Priority: ").is_some()
                    || find(m, b"[Classification: ").is_some()
                    || position(m, b'{').is_some()
                    || tagged(h))
        }
        None => m.starts_with(b"\"(") && tagged(h),
    };
    if !claimed {
        return None;
    }
    let mut d = Details {
        action: Some(Action::IdsAlert),
        ..Details::default()
    };
    let head = match position(m, b'{') {
        Some(open) => {
            let inner = m.get(open + 1..)?;
            if let Some(close) = position(inner, b'}') {
                d.transport = proto(inner.get(..close)?);
                let has_ports = !matches!(d.transport, Some(Transport::Icmp | Transport::Ipv6Icmp));
                let (tok, _) = split_word(skip_spaces(inner.get(close + 1..)?));
                if let Some(e) = endpoint(tok, has_ports) {
                    d.source = e;
                }
            }
            trim_end(m.get(..open)?)
        }
        // Snort 3 writes the alert's text in quotes: `"(arp_spoof) unicast ARP request`.
        None if sig.is_some() || m.starts_with(b"\"(") => m,
        None => return None,
    };
    let (rule, priority) = rule_part(head, sig);
    d.rule = rule;
    d.priority = priority;
    Some(d)
}

/// The alert at `arrow`, the last ` -> ` of the message; `sig` as for [`rule_part`]. Kept out
/// of [`parse`] so that the lines of other programs, which stop before this, pay for no more
/// than the scans above.
#[inline(never)]
fn alert<'a>(h: &Header<'a>, arrow: usize, sig: Option<&'a [u8]>) -> Option<Details<'a>> {
    let m = h.message;
    let left = trim_end(m.get(..arrow)?);
    let right = skip_spaces(m.get(arrow + 4..)?);
    let src_start = rposition(left, b' ').map_or(0, |n| n + 1);
    let src_tok = left.get(src_start..)?;
    let mut head = trim_end(left.get(..src_start)?);
    let mut transport = None;
    if let Some(inner) = head.strip_suffix(b"}") {
        let open = rposition(inner, b'{')?;
        transport = proto(inner.get(open + 1..)?);
        head = trim_end(inner.get(..open)?);
    } else if !head.ends_with(b":") && !tagged(h) {
        // Without `{PROTO}` only a Snort-tagged line or a signature-shaped one is an alert.
        return None;
    }
    let has_ports = !matches!(transport, Some(Transport::Icmp | Transport::Ipv6Icmp));
    let source = endpoint(src_tok, has_ports)?;
    let destination = word_endpoint(right, has_ports)?;
    let (rule, priority) = rule_part(head, sig);
    let is_portscan = rule.id.is_some_and(|id| id.starts_with(b"122:"))
        || rule.name.is_some_and(|n| {
            let n = n.strip_prefix(b"\"").unwrap_or(n);
            n.starts_with(b"(portscan)") || n.starts_with(b"(port_scan)")
        });
    Some(Details {
        action: Some(if is_portscan {
            Action::PortScan
        } else {
            Action::IdsAlert
        }),
        source,
        destination,
        transport,
        rule,
        priority,
        ..Details::default()
    })
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, check, run};

    fn alert() -> Expect {
        Expect {
            dataset: Some("snort"),
            action: Some("ids-alert"),
            ..Expect::default()
        }
    }

    #[test]
    fn variants() {
        let table = [
            (
                "Nov  8 15:26:31 ids snort[16526]: IDS278 - SCAN -named Version probe: 166.188.17.76:8300 -> 1.2.3.2:53",
                Expect {
                    src: Some("166.188.17.76"),
                    sport: Some(8300),
                    dst: Some("1.2.3.2"),
                    dport: Some(53),
                    host: Some("ids"),
                    program: Some("snort"),
                    pid: Some(16526),
                    rule_name: Some("IDS278 - SCAN -named Version probe"),
                    ..alert()
                },
            ),
            (
                "Nov  8 15:26:31 ids snort[86706]: MISC-WinGate-8080-Attempt: 211.191.28.13:1693 -> 1.2.3.2:8080",
                Expect {
                    src: Some("211.191.28.13"),
                    sport: Some(1693),
                    dst: Some("1.2.3.2"),
                    dport: Some(8080),
                    host: Some("ids"),
                    program: Some("snort"),
                    pid: Some(86706),
                    ..alert()
                },
            ),
            (
                "Nov  8 15:26:31 ids snort[1210]: [1:2001219:20] ET SCAN Potential SSH Scan [Classification: Attempted Information Leak] [Priority: 2]: {TCP} 198.51.100.23:41022 -> 192.0.2.10:22",
                Expect {
                    src: Some("198.51.100.23"),
                    sport: Some(41022),
                    dst: Some("192.0.2.10"),
                    dport: Some(22),
                    transport: Some("tcp"),
                    host: Some("ids"),
                    program: Some("snort"),
                    pid: Some(1210),
                    rule_id: Some("1:2001219:20"),
                    rule_name: Some("ET SCAN Potential SSH Scan"),
                    ..alert()
                },
            ),
            (
                "Nov  8 15:26:31 ids snort[1210]: [1:408:5] ICMP Echo Reply [Classification: Misc activity] [Priority: 3]: {ICMP} 198.51.100.23 -> 192.0.2.10",
                Expect {
                    src: Some("198.51.100.23"),
                    dst: Some("192.0.2.10"),
                    transport: Some("icmp"),
                    host: Some("ids"),
                    program: Some("snort"),
                    pid: Some(1210),
                    ..alert()
                },
            ),
            (
                "Nov  8 15:26:31 ids snort[1210]: [1:1:1] X [Priority: 2]: {PROTO:255} 198.51.100.23 -> 192.0.2.10",
                Expect {
                    src: Some("198.51.100.23"),
                    dst: Some("192.0.2.10"),
                    transport: Some("255"),
                    host: Some("ids"),
                    program: Some("snort"),
                    pid: Some(1210),
                    ..alert()
                },
            ),
            (
                "Nov  8 15:26:31 ids snort[1210]: [1:1:1] X [Priority: 2]: {PROTO255} 198.51.100.23 -> 192.0.2.10",
                Expect {
                    src: Some("198.51.100.23"),
                    dst: Some("192.0.2.10"),
                    transport: Some("255"),
                    host: Some("ids"),
                    program: Some("snort"),
                    pid: Some(1210),
                    ..alert()
                },
            ),
            (
                "Nov  8 15:26:31 ids suricata[99]: [1:2001219:20] ET SCAN Potential SSH Scan [Classification: Attempted Information Leak] [Priority: 2] {TCP} 198.51.100.23:41022 -> 192.0.2.10:22",
                Expect {
                    src: Some("198.51.100.23"),
                    sport: Some(41022),
                    dst: Some("192.0.2.10"),
                    dport: Some(22),
                    transport: Some("tcp"),
                    host: Some("ids"),
                    program: Some("suricata"),
                    pid: Some(99),
                    ..alert()
                },
            ),
            (
                "Nov  8 15:26:31 ids suricata[99]: [1:2:3] ET X [Classification: Y] [Priority: 1] {TCP} [2001:db8::1]:80 -> [2001:db8::2]:44321",
                Expect {
                    src: Some("2001:db8::1"),
                    sport: Some(80),
                    dst: Some("2001:db8::2"),
                    dport: Some(44321),
                    transport: Some("tcp"),
                    host: Some("ids"),
                    program: Some("suricata"),
                    pid: Some(99),
                    ..alert()
                },
            ),
            (
                "Nov  8 15:26:31 ids suricata[99]: [1:2:3] ET X [Classification: Y] [Priority: 1] {UDP} 2001:db8::1:53 -> 2001:db8::2:4000",
                Expect {
                    src: Some("2001:db8::1"),
                    sport: Some(53),
                    dst: Some("2001:db8::2"),
                    dport: Some(4000),
                    transport: Some("udp"),
                    host: Some("ids"),
                    program: Some("suricata"),
                    pid: Some(99),
                    ..alert()
                },
            ),
            (
                "Nov  8 15:26:31 ids suricata[99]: [1:2:3] ET X [Classification: Y] [Priority: 1] {IPV6-ICMP} 2001:db8::1 -> 2001:db8::2",
                Expect {
                    src: Some("2001:db8::1"),
                    dst: Some("2001:db8::2"),
                    transport: Some("ipv6-icmp"),
                    host: Some("ids"),
                    program: Some("suricata"),
                    pid: Some(99),
                    ..alert()
                },
            ),
            (
                "Nov  8 15:26:31 ids snort[5]: spp_portscan: PORTSCAN DETECTED from 198.51.100.23 (THRESHOLD 4 connections exceeded in 0 seconds)",
                Expect {
                    dataset: Some("snort"),
                    action: Some("port-scan"),
                    src: Some("198.51.100.23"),
                    host: Some("ids"),
                    program: Some("snort"),
                    pid: Some(5),
                    ..Expect::default()
                },
            ),
            (
                "Nov  8 15:26:31 ids snort[5]: spp_portscan: End of portscan from 198.51.100.23: TOTAL time(3s) hosts(1) TCP(12) UDP(0)",
                Expect {
                    dataset: Some("snort"),
                    action: Some("port-scan"),
                    src: Some("198.51.100.23"),
                    host: Some("ids"),
                    program: Some("snort"),
                    pid: Some(5),
                    ..Expect::default()
                },
            ),
            (
                "Nov  8 15:26:31 ids spp_portscan: PORTSCAN DETECTED from 198.51.100.23 (STEALTH)",
                Expect {
                    dataset: Some("snort"),
                    action: Some("port-scan"),
                    src: Some("198.51.100.23"),
                    host: Some("ids"),
                    program: Some("spp_portscan"),
                    ..Expect::default()
                },
            ),
            (
                "Nov  8 15:26:31 ids snort[5]: [122:1:1] (portscan) TCP Portscan [Classification: Attempted Information Leak] [Priority: 2]: {PROTO:255} 198.51.100.23 -> 192.0.2.10",
                Expect {
                    dataset: Some("snort"),
                    action: Some("port-scan"),
                    src: Some("198.51.100.23"),
                    dst: Some("192.0.2.10"),
                    transport: Some("255"),
                    host: Some("ids"),
                    program: Some("snort"),
                    pid: Some(5),
                    ..Expect::default()
                },
            ),
            (
                "<33>1 2026-11-08T15:26:31Z ids snort 1210 - - [1:2001219:20] ET SCAN Potential SSH Scan [Classification: Attempted Information Leak] [Priority: 2]: {TCP} 198.51.100.23:41022 -> 192.0.2.10:22",
                Expect {
                    src: Some("198.51.100.23"),
                    sport: Some(41022),
                    dst: Some("192.0.2.10"),
                    dport: Some(22),
                    transport: Some("tcp"),
                    host: Some("ids"),
                    program: Some("snort"),
                    pid: Some(1210),
                    ..alert()
                },
            ),
            (
                "snort[1210]: [1:2001219:20] ET SCAN a -> b [Priority: 2]: {TCP} 198.51.100.23:41022 -> 192.0.2.10:22",
                Expect {
                    src: Some("198.51.100.23"),
                    sport: Some(41022),
                    dst: Some("192.0.2.10"),
                    dport: Some(22),
                    transport: Some("tcp"),
                    program: Some("snort"),
                    pid: Some(1210),
                    rule_name: Some("ET SCAN a -> b"),
                    ..alert()
                },
            ),
            (
                "Nov  8 15:26:31 ids [1:2001219:20] ET SCAN X [Classification: Y] [Priority: 2]: {TCP} 198.51.100.23:41022 -> 192.0.2.10:22",
                Expect {
                    src: Some("198.51.100.23"),
                    sport: Some(41022),
                    dst: Some("192.0.2.10"),
                    dport: Some(22),
                    transport: Some("tcp"),
                    host: Some("ids"),
                    ..alert()
                },
            ),
        ];
        run(&table, 15);
    }

    #[test]
    fn snort_chatter_is_snort_without_a_peer() {
        check(
            "Nov  8 15:26:31 ids snort[5]: Snort initialization completed successfully (pid=5)",
            &Expect {
                dataset: Some("snort"),
                host: Some("ids"),
                program: Some("snort"),
                pid: Some(5),
                ..Expect::default()
            },
        );
        check(
            "Nov  8 15:26:31 box myapp[5]: copying a -> b",
            &Expect {
                host: Some("box"),
                program: Some("myapp"),
                pid: Some(5),
                ..Expect::default()
            },
        );
    }

    /// Real lines (Elastic, Wazuh and fail2ban test logs, public write-ups) that earlier versions misread.
    #[test]
    fn real_lines() {
        let table = [
            (
                "<38>Nov  1 09:49:13 localhost snort: [122:23:1] \"(port_scan) UDP filtered portsweep\" [Priority: 3] {UDP} 172.16.39.68:55326 -> 224.0.0.252:5355",
                Expect {
                    dataset: Some("snort"),
                    action: Some("port-scan"),
                    src: Some("172.16.39.68"),
                    sport: Some(55326),
                    dst: Some("224.0.0.252"),
                    dport: Some(5355),
                    transport: Some("udp"),
                    host: Some("localhost"),
                    program: Some("snort"),
                    ..Expect::default()
                },
            ),
            (
                "07/12-21:04:38.489675 [**] [122:17:1] \"(port_scan) UDP portscan\" [**] [Priority: 3] {UDP} 192.168.176.155:47076 -> 192.168.168.139:34578 ",
                Expect {
                    dataset: Some("snort"),
                    action: Some("port-scan"),
                    src: Some("192.168.176.155"),
                    sport: Some(47076),
                    dst: Some("192.168.168.139"),
                    dport: Some(34578),
                    transport: Some("udp"),
                    ..Expect::default()
                },
            ),
            (
                "10/08/2022-19:55:04.165078  [**] [1:2403373:77918] ET CINS Active Threat Intelligence Poor Reputation IP group 74 [**] [Classification: Misc Attack] [Priority: 2] {TCP} 1.2.3.4:40927 -> 192.168.14.42:31408",
                Expect {
                    dataset: Some("snort"),
                    action: Some("ids-alert"),
                    src: Some("1.2.3.4"),
                    sport: Some(40927),
                    dst: Some("192.168.14.42"),
                    dport: Some(31408),
                    transport: Some("tcp"),
                    ..Expect::default()
                },
            ),
            (
                "Feb 27 19:24:50 suricata[14478]: [1:2200075:2] SURICATA UDPv4 invalid checksum [Classification: Generic Protocol Command Decode] [Priority: 3] {UDP} 10.0.2.15:8257 -> 8.8.8.8:53",
                Expect {
                    dataset: Some("snort"),
                    action: Some("ids-alert"),
                    src: Some("10.0.2.15"),
                    sport: Some(8257),
                    dst: Some("8.8.8.8"),
                    dport: Some(53),
                    transport: Some("udp"),
                    program: Some("suricata"),
                    pid: Some(14478),
                    ..Expect::default()
                },
            ),
            (
                "May 22 10:11:22 pooh snort: spp_portscan: portscan status from 199.183.24.194: 1 connections across 1 hosts: TCP(1), UDP(0) STEALTH",
                Expect {
                    dataset: Some("snort"),
                    action: Some("port-scan"),
                    src: Some("199.183.24.194"),
                    host: Some("pooh"),
                    program: Some("snort"),
                    ..Expect::default()
                },
            ),
        ];
        run(&table, 5);
    }
}

/// The fast paths above against the shared readers they stand in for.
#[cfg(test)]
mod fast_paths {
    use std::net::IpAddr;

    use proptest::prelude::*;

    use super::{endpoint, id_len, last_arrow, word_endpoint};
    use crate::event::Endpoint;
    use crate::lex::{addr_colon_port, position, rfind, rposition, to_ipv6};

    /// Address-like tokens: real addresses printed every way, and runs of address bytes.
    fn token() -> impl Strategy<Value = Vec<u8>> {
        let printed = (any::<IpAddr>(), 0..6u8, any::<u16>()).prop_map(|(a, style, p)| {
            let v6_full = |a: &std::net::Ipv6Addr| {
                let s = a.segments().map(|g| format!("{g:X}"));
                s.join(":")
            };
            let text = match (a, style) {
                (IpAddr::V6(v6), 0) => v6_full(&v6),
                (IpAddr::V6(v6), 1) => format!("::ffff:{}", v6.segments()[7]),
                (IpAddr::V4(v4), 1) => format!("::ffff:{v4}"),
                (IpAddr::V4(v4), 2) => {
                    let [a, b, c, d] = v4.octets();
                    format!("{a:03}.{b}.{c:02}.{d}")
                }
                _ => a.to_string(),
            };
            match style {
                3 => format!("{text}:{p}"),
                4 => format!("[{text}]:{p}"),
                5 => format!("{text}:{}", u32::from(p) * 7),
                _ => text,
            }
            .into_bytes()
        });
        // Hex groups joined by `:` or `::`, maybe with a dotted quad after: mostly well formed,
        // with the odd empty or five-digit group and the odd stray separator.
        const SEPARATORS: [&[u8]; 8] = [b":", b":", b":", b":", b":", b"::", b":::", b"."];
        let group = prop_oneof![
            9 => prop::collection::vec(prop::sample::select(&b"0fA9"[..]), 1..5),
            1 => prop::collection::vec(prop::sample::select(&b"0fA9"[..]), 0..6),
        ];
        let groups = (
            prop::collection::vec((group, prop::sample::select(&SEPARATORS[..])), 1..10),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(g, open, quad)| {
                let mut s: Vec<u8> = if open { b"::".to_vec() } else { Vec::new() };
                for (g, sep) in g {
                    s.extend_from_slice(&g);
                    s.extend_from_slice(sep);
                }
                if quad {
                    s.extend_from_slice(b"1.2.3.4");
                } else if s.ends_with(b":") && !s.ends_with(b"::") {
                    s.pop();
                }
                s
            });
        let soup = prop::collection::vec(
            prop::sample::select(&b"0123456789abcdefABCDEF:.[] "[..]),
            0..24,
        );
        prop_oneof![printed, groups, soup]
    }

    fn reference(tok: &[u8], has_ports: bool) -> Option<Endpoint<'static>> {
        let Some((ip, port)) = addr_colon_port(tok, has_ports) else {
            return super::redacted_endpoint(tok, has_ports);
        };
        Some(Endpoint {
            ip: Some(ip),
            port,
            domain: None,
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn addresses_read_as_lex_reads_them(tok in token(), has_ports in any::<bool>()) {
            // lex's hex-group fast path, against the standard library.
            let std_v6 = std::str::from_utf8(&tok).ok().and_then(|t| t.parse::<std::net::Ipv6Addr>().ok());
            prop_assert_eq!(to_ipv6(&tok), std_v6);
            prop_assert_eq!(endpoint(&tok, has_ports), reference(&tok, has_ports));
            for tail in [&b""[..], b" x", b",", b", y", b",,", b"x", b":1"] {
                let s = [&tok[..], tail].concat();
                let word = s.split(|&b| b == b' ').next().unwrap_or_default();
                let word = word.strip_suffix(b",").unwrap_or(word);
                prop_assert_eq!(word_endpoint(&s, has_ports), reference(word, has_ports));
            }
        }

        #[test]
        fn scans_agree_with_plain_loops(s in prop::collection::vec(prop::sample::select(&[b'0', b'9', b':', b';', b'/', b'[', b']', b'>', b'-', b' ', 0x80, 0xBA, 0xFF][..]), 0..40)) {
            let digits = s.iter().take_while(|b| b.is_ascii_digit() || **b == b':').count();
            prop_assert_eq!(id_len(&s), digits);
            for b in [b'[', b']', b' ', 0xBA] {
                prop_assert_eq!(position(&s, b), s.iter().position(|&x| x == b));
                prop_assert_eq!(rposition(&s, b), s.iter().rposition(|&x| x == b));
            }
            prop_assert_eq!(last_arrow(&s), rfind(&s, b" -> "));
        }
    }
}
