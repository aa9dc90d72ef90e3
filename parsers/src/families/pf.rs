//! pf `filterlog` (OpenBSD pf as pfSense and OPNsense log it): one CSV record per packet after
//! the tag, `RULE,SUBRULE,ANCHOR,TRACKER,IFACE,REASON,ACTION,DIR,VERSION,…`, then for IPv4
//! `TOS,ECN,TTL,ID,OFFSET,FLAGS,PROTO-ID,PROTO,LENGTH,SRC,DST`, for IPv6
//! `CLASS,FLOW,HOPLIMIT,PROTO,PROTO-ID,LENGTH,SRC,DST`, then for TCP and UDP `SPORT,DPORT,…`.
//!
//! Fields may be empty and a record may be cut short: each field is read where it stands, and
//! the fields before the cut are kept. OPNsense's own file format writes RFC 5424's
//! `PROCID - [SD]` after the tag of an RFC 3164-looking line; that prefix is skipped.
//!
//! OpenBSD's own pflog, as `tcpdump -e` prints it and pflogd-to-syslog set-ups log it under
//! `pf`: `[STAMP] rule 2/(match) pass in on xl0: 205.174.165.231.50425 > 192.168.2.10.22: . ack
//! …` (newer tcpdump: `rule 1/0(match): block in on vtnet0: A.P > B.Q: Flags [S], …`). The
//! port is the address' last dotted part; the transport is what tcpdump prints after `B.Q: `
//! (`udp 57`, `UDP, length 40`, `icmp:`, `Flags [S]` and the old flag letters are TCP's).

use super::Family;
use crate::event::{Action, Dataset, Details, Transport};
use crate::header::Header;
use crate::lex::{find, position, rposition, skip_spaces, split_word, to_ip, to_port, to_u32};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Pf,
    tags: &[b"filterlog", b"pf"],
    owns_tag: true,
    any_program: false,
    parse,
};

/// Skips `PROCID - [SD] ` or `PROCID - - ` that OPNsense writes after a bare tag.
fn skip_5424_rest(m: &[u8]) -> &[u8] {
    let Some(sp) = position(m, b' ') else {
        return m;
    };
    let (pid, rest) = m.split_at(sp);
    if to_u32(pid).is_none() {
        return m;
    }
    let Some(rest) = skip_spaces(rest).strip_prefix(b"- ") else {
        return m;
    };
    let rest = skip_spaces(rest);
    if let Some(sd) = rest.strip_prefix(b"[") {
        return match crate::lex::find_byte(b']', sd) {
            Some(close) => skip_spaces(sd.get(close + 1..).unwrap_or_default()),
            None => m,
        };
    }
    rest.strip_prefix(b"- ").unwrap_or(rest)
}

/// Parses a `filterlog` record or a pflog line as tcpdump prints it.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    if let Some(d) = pflog_text(m) {
        return Some(d);
    }
    // Every record and every OPNsense prefix opens with a digit: one byte turns the lines
    // this family is tried on by shape away.
    if !m.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    // A space before the first comma: the record does not start here.
    let m = match (position(m, b' '), position(m, b',')) {
        (Some(s), Some(c)) if s < c => skip_5424_rest(m),
        _ => m,
    };
    let mut f = m.split(|b| *b == b',');
    let rule = f.next()?;
    // The record opens with the rule number and holds commas: anything else is not one.
    if to_u32(rule).is_none() || position(m, b',').is_none() {
        return None;
    }
    let mut d = Details::default();
    let (_sub, _anchor) = (f.next(), f.next());
    let tracker = f.next().filter(|t| !t.is_empty());
    d.rule.id = tracker.or(Some(rule));
    let _iface = f.next();
    let _reason = f.next();
    d.action = match f.next() {
        Some(b"pass") => Some(Action::AclPermitted),
        Some(b"block" | b"reject") => Some(Action::AclDenied),
        _ => None,
    };
    let _dir = f.next();
    let proto = match f.next() {
        Some(b"4") => {
            let mut f = f.by_ref().skip(6);
            let id = f.next();
            let name = f.next();
            let _len = f.next();
            proto_of(name, id)
        }
        Some(b"6") => {
            let mut f = f.by_ref().skip(3);
            let name = f.next();
            let id = f.next();
            let _len = f.next();
            proto_of(name, id)
        }
        _ => return Some(d),
    };
    d.transport = proto;
    d.source.ip = f.next().and_then(to_ip);
    d.destination.ip = f.next().and_then(to_ip);
    if matches!(
        proto,
        Some(Transport::Tcp | Transport::Udp | Transport::Sctp)
    ) {
        d.source.port = f.next().and_then(to_port);
        d.destination.port = f.next().and_then(to_port);
    }
    Some(d)
}

/// A pflog line as tcpdump prints it: `rule N/…(match)[:] ACTION DIR on IFACE: SRC > DST: …`,
/// after an optional stamp or record number (`Mar 30 15:53:25.793256 `, `000145 `).
fn pflog_text(m: &[u8]) -> Option<Details<'_>> {
    let body = if m.starts_with(b"rule ") {
        m
    } else {
        // A stamp or a record number is at most this long; further on `rule` is text.
        let head = m.get(..m.len().min(40)).unwrap_or(m);
        m.get(find(head, b" rule ")? + 1..)?
    };
    let rest = body.strip_prefix(b"rule ")?;
    let (rule, rest) = split_word(rest);
    let at = position(rule, b'(')?;
    let (num, tag) = rule.split_at(at);
    if !tag.starts_with(b"(match)") {
        return None;
    }
    let digits = num.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut d = Details::default();
    d.rule.id = num.get(..digits).filter(|n| !n.is_empty());
    let (act, rest) = split_word(skip_spaces(rest));
    d.action = match act {
        b"pass" => Some(Action::AclPermitted),
        b"block" => Some(Action::AclDenied),
        _ => None,
    };
    // `in on IFACE: ` (`on` may be missing in odd builds): the packet follows the first `: `.
    // A line cut (or broken for display) after the interface keeps its rule and action.
    let Some(colon) = find(rest, b": ") else {
        return Some(d);
    };
    let mut pkt = skip_spaces(rest.get(colon + 2..)?);
    // `tcpdump -v`: `(tos 0x0, ttl 128, …, proto UDP (17), length 1052) A.P > B.Q: …`.
    let mut proto = None;
    if let Some(inner) = pkt.strip_prefix(b"(") {
        let close = position(inner, b')').and_then(|c| {
            // `proto UDP (17)` holds a parenthesis of its own.
            let r = inner.get(c + 1..)?;
            if r.starts_with(b",") {
                position(r, b')').map(|c2| c + 1 + c2)
            } else {
                Some(c)
            }
        })?;
        let opts = inner.get(..close)?;
        if let Some(p) = find(opts, b"proto ") {
            proto = opts
                .get(p + 6..)
                .map(|r| split_word(r).0)
                .and_then(Transport::from_token);
        }
        pkt = skip_spaces(inner.get(close + 1..)?);
    }
    let (src, rest) = split_word(pkt);
    let (gt, rest) = split_word(skip_spaces(rest));
    if gt != b">" {
        return Some(d);
    }
    let (dst, rest) = split_word(skip_spaces(rest));
    let dst = dst.strip_suffix(b":").unwrap_or(dst);
    (d.source.ip, d.source.port) = dotted_endpoint(src);
    (d.destination.ip, d.destination.port) = dotted_endpoint(dst);
    d.transport = proto.or_else(|| printed_transport(skip_spaces(rest)));
    Some(d)
}

/// tcpdump's `ADDR.PORT` or `ADDR`: an address as it stands, else the last dotted part is the
/// port. A blanked address (`52.x.x.x.38527`) still gives its port; a decode glued to the port
/// (`ff02::1:2.547:dhcp6`) is cut off it.
fn dotted_endpoint(tok: &[u8]) -> (Option<std::net::IpAddr>, Option<u16>) {
    if let Some(ip) = to_ip(tok) {
        return (Some(ip), None);
    }
    let Some(at) = rposition(tok, b'.') else {
        return (None, None);
    };
    let port = tok.get(at + 1..).unwrap_or_default();
    let port = port.split(|b| *b == b':').next().unwrap_or(port);
    (tok.get(..at).and_then(to_ip), to_port(port))
}

/// The transport tcpdump prints after the addresses: `udp 57`, `UDP, length 40`, `icmp: echo
/// reply`, `ICMP6, …`, `igmp-2`, `[|tcp]`, TCP's `Flags [S]` or its old flag letters (`S 1:1(0)`,
/// `. ack 2450721`, `P 7408:7677(269)`). An application's decode (`NTPv2`, `0*- [0q]`) names none.
fn printed_transport(rest: &[u8]) -> Option<Transport<'static>> {
    let (mut word, mut after) = split_word(rest);
    if word == b"HBH" {
        (word, after) = split_word(skip_spaces(after));
    }
    let word = word
        .strip_suffix(b",")
        .or_else(|| word.strip_suffix(b":"))
        .unwrap_or(word);
    let lower = |w: &[u8], s: &[u8]| w.eq_ignore_ascii_case(s);
    if lower(word, b"udp") {
        Some(Transport::Udp)
    } else if lower(word, b"tcp") || word == b"Flags" || word == b"[|tcp]" {
        Some(Transport::Tcp)
    } else if lower(word, b"icmp") || word == b"[|icmp]" {
        Some(Transport::Icmp)
    } else if lower(word, b"icmp6") || word == b"[|icmp6]" {
        Some(Transport::Ipv6Icmp)
    } else if word.len() >= 4 && lower(word.get(..4)?, b"igmp") {
        Some(Transport::Igmp)
    } else if !word.is_empty()
        && word.iter().all(|b| b"SFPRUEW.".contains(b))
        && split_word(skip_spaces(after))
            .0
            .first()
            .is_some_and(|b| b.is_ascii_digit() || *b == b'a' || *b == b'w')
    {
        // `S 1381529123:1381529123(0) win …`, `. ack 2450721 win 73`.
        Some(Transport::Tcp)
    } else {
        None
    }
}

/// The protocol by name, else by number.
fn proto_of<'a>(name: Option<&'a [u8]>, id: Option<&'a [u8]>) -> Option<Transport<'a>> {
    name.and_then(Transport::from_token)
        .or_else(|| id.and_then(Transport::from_token))
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, run};

    fn pf(action: Option<&'static str>) -> Expect {
        Expect {
            dataset: Some("pf"),
            action,
            ..Expect::default()
        }
    }

    /// Real lines: elastic/integrations pfsense pipeline tests, crowdsecurity/hub pf-logs.
    #[test]
    fn filterlog_records() {
        run(
            &[
                (
                    "<134>Jul  3 19:10:30 filterlog[72237]: 146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,10.170.12.50,1.1.1.1,49724,853,0,S,1891286705,,64240,,mss;sackOK;TS;nop;wscale",
                    Expect {
                        src: Some("10.170.12.50"),
                        sport: Some(49724),
                        dst: Some("1.1.1.1"),
                        dport: Some(853),
                        transport: Some("tcp"),
                        program: Some("filterlog"),
                        pid: Some(72237),
                        rule_id: Some("1535324496"),
                        ..pf(Some("acl-denied"))
                    },
                ),
                (
                    "<134>Jul  3 19:10:31 filterlog[72237]: 6,,,1000000105,igb1.27,match,block,in,6,0x00,0xf6279,1,UDP,17,32,fe80::208:9bff:fef3:652b,ff02::1:2,546,547,32",
                    Expect {
                        src: Some("fe80::208:9bff:fef3:652b"),
                        sport: Some(546),
                        dst: Some("ff02::1:2"),
                        dport: Some(547),
                        transport: Some("udp"),
                        program: Some("filterlog"),
                        pid: Some(72237),
                        ..pf(Some("acl-denied"))
                    },
                ),
                (
                    "<134>Jul  4 11:10:45 filterlog[72237]: 176,,,1520797901,igb1.10,match,pass,in,4,0x0,,64,62096,0,DF,1,icmp,84,10.100.10.30,142.250.114.105,request,37728,164",
                    Expect {
                        src: Some("10.100.10.30"),
                        dst: Some("142.250.114.105"),
                        transport: Some("icmp"),
                        program: Some("filterlog"),
                        pid: Some(72237),
                        ..pf(Some("acl-permitted"))
                    },
                ),
                (
                    "<134>1 2022-09-06T18:37:34+02:00 opnsense filterlog 69805 - [meta sequenceId=\"2633353\"] 10,,,02f4bab031b57d1e30553ce08e0ec131,re0,match,block,in,4,0x0,,118,28579,0,none,17,udp,132,212.102.36.22,37.120.48.198,49838,52938,112",
                    Expect {
                        src: Some("212.102.36.22"),
                        sport: Some(49838),
                        dst: Some("37.120.48.198"),
                        dport: Some(52938),
                        transport: Some("udp"),
                        host: Some("opnsense"),
                        program: Some("filterlog"),
                        pid: Some(69805),
                        ..pf(Some("acl-denied"))
                    },
                ),
                (
                    "2026-03-10T17:20:33+00:00 OPNsense.internal filterlog 87496 - [meta sequenceId=\"7\"] 69,,,49484b4b90e87d327015604798f010e9,em0,match,pass,out,4,0xb8,,64,21200,0,none,17,udp,76,192.168.122.91,51.91.83.168,123,123,56",
                    Expect {
                        src: Some("192.168.122.91"),
                        sport: Some(123),
                        dst: Some("51.91.83.168"),
                        dport: Some(123),
                        transport: Some("udp"),
                        host: Some("OPNsense.internal"),
                        program: Some("filterlog"),
                        ..pf(Some("acl-permitted"))
                    },
                ),
                (
                    "Sep 28 10:38:09 pfSense filterlog: 53,,,1000000301,em0,match,block,in,4,0x0,,64,420,0,none,6,tcp,460,10.0.2.2,10.0.2.15,53742,22,420,PA,29633380:29633800,3617062173,65535,,",
                    Expect {
                        src: Some("10.0.2.2"),
                        sport: Some(53742),
                        dst: Some("10.0.2.15"),
                        dport: Some(22),
                        transport: Some("tcp"),
                        host: Some("pfSense"),
                        program: Some("filterlog"),
                        ..pf(Some("acl-denied"))
                    },
                ),
                // Cut after the source address: what was read stays.
                (
                    "Sep 28 10:38:09 pfSense filterlog: 53,,,1000000301,em0,match,block,in,4,0x0,,64,420,0,none,6,tcp,460,10.0.2.2",
                    Expect {
                        src: Some("10.0.2.2"),
                        transport: Some("tcp"),
                        host: Some("pfSense"),
                        program: Some("filterlog"),
                        ..pf(Some("acl-denied"))
                    },
                ),
            ],
            7,
        );
    }

    /// Real lines: ossec-docs' pf samples (pflog through tcpdump to syslog), tcpdump output
    /// quoted in write-ups and other parsers' tests.
    #[test]
    fn pflog_text() {
        run(
            &[
                (
                    "Mar 30 15:55:20 enigma pf: Mar 30 15:53:25.793256 rule 2/(match) pass in on xl0: 205.174.165.231.50425 > 192.168.2.10.22: . ack 2450721 win 73 <nop,nop,timestamp 1815379950 17589621,[|tcp]> (DF) [tos 0x10]",
                    Expect {
                        src: Some("205.174.165.231"),
                        sport: Some(50425),
                        dst: Some("192.168.2.10"),
                        dport: Some(22),
                        transport: Some("tcp"),
                        host: Some("enigma"),
                        program: Some("pf"),
                        rule_id: Some("2"),
                        ..pf(Some("acl-permitted"))
                    },
                ),
                (
                    "Mar 30 15:55:19 enigma pf: Mar 30 15:48:02.810188 rule 2/(match) pass in on lo0: 127.0.0.1 > 127.0.0.1: icmp: echo reply",
                    Expect {
                        src: Some("127.0.0.1"),
                        dst: Some("127.0.0.1"),
                        transport: Some("icmp"),
                        host: Some("enigma"),
                        program: Some("pf"),
                        rule_id: Some("2"),
                        ..pf(Some("acl-permitted"))
                    },
                ),
                (
                    "Jan 11 07:28:30 141.102.4.254 pf: 000145 rule 141/0(match): block in on bge0: (tos 0x0, ttl 128, id 58078, offset 0, flags [none], proto UDP (17), length 1052) 141.102.12.99.1137 > 188.40.123.111.24460: UDP, length 1024",
                    Expect {
                        src: Some("141.102.12.99"),
                        sport: Some(1137),
                        dst: Some("188.40.123.111"),
                        dport: Some(24460),
                        transport: Some("udp"),
                        host: Some("141.102.4.254"),
                        program: Some("pf"),
                        rule_id: Some("141"),
                        ..pf(Some("acl-denied"))
                    },
                ),
                // tcpdump's output copied without a syslog header: `rule` is no host.
                (
                    "Oct 18 05:16:52.230791 rule 11/(match) block in on em1: fe80::a00:27ff:fe4f:2af9.546 > ff02::1:2.547:dhcp6 solicit [hlim 1]",
                    Expect {
                        src: Some("fe80::a00:27ff:fe4f:2af9"),
                        sport: Some(546),
                        dst: Some("ff02::1:2"),
                        dport: Some(547),
                        rule_id: Some("11"),
                        ..pf(Some("acl-denied"))
                    },
                ),
                // Broken for display after the interface: the rule and the action stand.
                (
                    "2024-05-29T22:00:08.006704+02:00 rule 1/0(match): block in on vtnet0:",
                    Expect {
                        rule_id: Some("1"),
                        ..pf(Some("acl-denied"))
                    },
                ),
                // Blanked addresses keep their ports.
                (
                    "Jan 30 20:43:54.026177 rule 4/(match) block in on em0: 52.x.x.x.38527 > 67.x.x.x.5432: S 362481813:362481813(0) win 26880 <mss 1460,sackOK,timestamp 664198628 0,nop,wscale 7> (DF) [tos 0x20]",
                    Expect {
                        sport: Some(38527),
                        dport: Some(5432),
                        transport: Some("tcp"),
                        rule_id: Some("4"),
                        ..pf(Some("acl-denied"))
                    },
                ),
            ],
            4,
        );
    }
}
