//! Cisco access-list logging: IOS `%SEC-6-IPACCESSLOG*` and `%IPV6_ACL-6-ACCESSLOG*`, and ASA/PIX/FWSM
//! deny messages (106001, 106006, 106007, 106014, 106015, 106021, 106023, 106100, 710003, …).
//!
//! The mnemonic is found anywhere in the message (`%FAC-SEV-MNEMONIC:`), since devices put
//! sequence numbers and stamps before it in many combinations. Address forms read:
//! IOS `ADDR(PORT) -> ADDR(PORT)`, ASA `src IF:ADDR/PORT dst IF:ADDR/PORT`,
//! `from [IF:]ADDR/PORT to [IF:]ADDR/PORT`, and 106100's `IF/ADDR(PORT) -> IF/ADDR(PORT)`.

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint, Transport};
use crate::header::Header;
use crate::lex::{after, find, skip_spaces, split_word, to_ip, to_port, trim_end};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::CiscoAcl,
    tags: &[],
    owns_tag: false,
    parse,
};

/// A located `%FAC-SEV-MNEMONIC:` and the body after it.
struct Mnemonic<'a> {
    facility: &'a [u8],
    mnemonic: &'a [u8],
    body: &'a [u8],
}

fn mnemonic(m: &[u8]) -> Option<Mnemonic<'_>> {
    for pct in memchr::memchr_iter(b'%', m) {
        let rest = m.get(pct + 1..)?;
        let colon = memchr::memchr(b':', rest)?;
        let tag = &rest[..colon];
        let mut parts = tag.splitn(3, |b| *b == b'-');
        let (Some(fac), Some(sev), Some(mn)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let ok = !fac.is_empty()
            && fac
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            && sev.len() == 1
            && sev.first().is_some_and(u8::is_ascii_digit)
            && !mn.is_empty()
            && mn.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if ok {
            return Some(Mnemonic {
                facility: fac,
                mnemonic: mn,
                body: skip_spaces(rest.get(colon + 1..)?),
            });
        }
    }
    None
}

/// `ADDR(PORT)` or `ADDR`, optionally followed by `(…)` groups that are not ports (interface
/// and MAC on newer IOS), returning what follows.
fn ios_endpoint(i: &[u8]) -> Option<(Endpoint<'static>, &[u8])> {
    let (tok, mut rest) = split_word(skip_spaces(i));
    let tok = tok.strip_suffix(b",").unwrap_or(tok);
    let mut ep = Endpoint::default();
    match memchr::memchr(b'(', tok) {
        Some(open) => {
            ep.ip = Some(to_ip(tok.get(..open)?)?);
            let inner = tok.get(open + 1..)?;
            let inner = inner.strip_suffix(b")").unwrap_or(inner);
            ep.port = to_port(inner);
        }
        None => ep.ip = Some(to_ip(tok)?),
    }
    // Skip `(Gi0/0 0011.2233.4455)` style groups.
    loop {
        let r = skip_spaces(rest);
        if let Some(inner) = r.strip_prefix(b"(") {
            if inner.first().is_some_and(u8::is_ascii_digit) {
                break;
            }
            let close = memchr::memchr(b')', inner)?;
            rest = inner.get(close + 1..)?;
        } else {
            break;
        }
    }
    Some((ep, rest))
}

/// IOS: `list NAME denied|permitted [PROTO] SRC[(P)] [-> DST[(P)]][ (type/code)], N packets`.
fn ios<'a>(body: &'a [u8], d: &mut Details<'a>) -> Option<()> {
    let r = skip_spaces(body.strip_prefix(b"list ")?);
    let (_name, r) = split_word(r);
    let (verb, r) = split_word(skip_spaces(r));
    d.action = match verb {
        b"denied" => Some(Action::AclDenied),
        b"permitted" => Some(Action::AclPermitted),
        _ => return None,
    };
    let r = skip_spaces(r);
    let (first, after_first) = split_word(r);
    let r = if to_ip(first.split(|b| *b == b'(').next()?).is_some() {
        r
    } else {
        d.transport = Transport::from_token(first);
        after_first
    };
    let (src, r) = ios_endpoint(r)?;
    d.source = src;
    if let Some(r) = skip_spaces(r).strip_prefix(b"->") {
        let (dst, _) = ios_endpoint(r)?;
        d.destination = dst;
    }
    Some(())
}

/// ASA `[IF:]ADDR[/PORT]` (also `IF/ADDR(PORT)` for 106100).
fn asa_endpoint(tok: &[u8]) -> Option<Endpoint<'_>> {
    let tok = trim_end(tok);
    let tok = tok.strip_suffix(b",").unwrap_or(tok);
    let mut ep = Endpoint::default();
    if let Some(open) = memchr::memchr(b'(', tok) {
        // 106100: IF/ADDR(PORT)
        let head = tok.get(..open)?;
        let addr = match memchr::memrchr(b'/', head) {
            Some(s) => head.get(s + 1..)?,
            None => head,
        };
        ep.ip = Some(to_ip(addr)?);
        let inner = tok.get(open + 1..)?;
        ep.port = to_port(inner.strip_suffix(b")").unwrap_or(inner));
        return Some(ep);
    }
    // IF:ADDR/PORT — the interface ends at the first colon only when the rest reads as an address.
    let (addr_port, _) = match memchr::memchr(b':', tok) {
        Some(c) if to_ip(tok.split(|b| *b == b'/').next()?).is_none() => (tok.get(c + 1..)?, ()),
        _ => (tok, ()),
    };
    let (addr, port) = match memchr::memrchr(b'/', addr_port) {
        Some(s) => (addr_port.get(..s)?, to_port(addr_port.get(s + 1..)?)),
        None => (addr_port, None),
    };
    match to_ip(addr) {
        Some(a) => ep.ip = Some(a),
        None if !addr.is_empty() && addr.iter().all(|b| crate::lex::is_host_char(*b)) => {
            ep.domain = Some(addr)
        }
        None => return None,
    }
    ep.port = port;
    Some(ep)
}

/// The first protocol word in an ASA body (`tcp`, `UDP`, `icmp`, `protocol 47`).
fn asa_transport(body: &[u8]) -> Option<Transport<'_>> {
    let mut words = body
        .split(|b| *b == b' ')
        .filter(|w| !w.is_empty())
        .take(8)
        .peekable();
    while let Some(w) = words.next() {
        if w.eq_ignore_ascii_case(b"protocol") {
            return words.peek().and_then(|n| Transport::from_token(n));
        }
        for name in [
            &b"tcp"[..],
            b"udp",
            b"icmp",
            b"icmp6",
            b"gre",
            b"esp",
            b"ah",
            b"sctp",
        ] {
            if w.eq_ignore_ascii_case(name) {
                return Transport::from_token(w);
            }
        }
    }
    None
}

/// ASA/PIX/FWSM access messages.
fn asa<'a>(id: &'a [u8], body: &'a [u8], d: &mut Details<'a>) -> Option<()> {
    const READ: [&[u8]; 18] = [
        b"106001", b"106002", b"106006", b"106007", b"106010", b"106011", b"106012", b"106013",
        b"106014", b"106015", b"106016", b"106017", b"106020", b"106021", b"106022", b"106023",
        b"106100", b"710003",
    ];
    if !READ.contains(&id) && id != b"313001" {
        return None;
    }
    d.code = Some(id);
    d.transport = asa_transport(body);
    let lower_has = |w: &[u8]| body.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w));
    d.action = if lower_has(b"permitted") {
        Some(Action::AclPermitted)
    } else if lower_has(b"deny") || lower_has(b"denied") {
        Some(Action::AclDenied)
    } else {
        None
    };
    if let Some(r) = after(body, b"access-group \"").or_else(|| after(body, b"access-list ")) {
        let end = memchr::memchr2(b'"', b' ', r).unwrap_or(r.len());
        d.rule.name = r.get(..end).filter(|n| !n.is_empty());
    }
    if let Some(r) = after(body, b" src ") {
        let (s, r) = split_word(skip_spaces(r));
        d.source = asa_endpoint(s)?;
        if let Some(r) = after(r, b"dst ") {
            let (t, _) = split_word(skip_spaces(r));
            d.destination = asa_endpoint(t)?;
        }
        return Some(());
    }
    if let Some(arrow) = find(body, b" -> ") {
        let left = trim_end(&body[..arrow]);
        let s = &left[memchr::memrchr(b' ', left).map_or(0, |n| n + 1)..];
        let (t, _) = split_word(skip_spaces(&body[arrow + 4..]));
        d.source = asa_endpoint(s)?;
        d.destination = asa_endpoint(t)?;
        return Some(());
    }
    if let Some(r) = after(body, b" from ") {
        let (s, r) = split_word(skip_spaces(r));
        d.source = asa_endpoint(s)?;
        if let Some(r) = skip_spaces(r).strip_prefix(b"to ") {
            let (t, _) = split_word(skip_spaces(r));
            d.destination = asa_endpoint(t)?;
        }
        return Some(());
    }
    None
}

/// Parses a Cisco ACL message.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = mnemonic(h.message)?;
    let mut d = Details {
        code: Some(m.mnemonic),
        ..Details::default()
    };
    match m.facility {
        b"SEC" | b"IPV6_ACL" | b"IPV6" | b"SEC_LOGIN" | b"FMANFP" | b"IPACL" => {
            let is_acl = m.mnemonic.starts_with(b"IPACCESSLOG")
                || m.mnemonic.starts_with(b"ACCESSLOG")
                || m.mnemonic.starts_with(b"ACL");
            if !is_acl {
                return None;
            }
            ios(m.body, &mut d)?;
            if let Some(r) = after(m.body, b"list ") {
                let (name, _) = split_word(r);
                d.rule.name = Some(name).filter(|n| !n.is_empty());
            }
        }
        b"ASA" | b"PIX" | b"FWSM" => asa(m.mnemonic, m.body, &mut d)?,
        _ => return None,
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::families::testing::{Expect, check, run};

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
}
