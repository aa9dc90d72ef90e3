//! pf `filterlog` (OpenBSD pf as pfSense and OPNsense log it): one CSV record per packet after
//! the tag, `RULE,SUBRULE,ANCHOR,TRACKER,IFACE,REASON,ACTION,DIR,VERSION,…`, then for IPv4
//! `TOS,ECN,TTL,ID,OFFSET,FLAGS,PROTO-ID,PROTO,LENGTH,SRC,DST`, for IPv6
//! `CLASS,FLOW,HOPLIMIT,PROTO,PROTO-ID,LENGTH,SRC,DST`, then for TCP and UDP `SPORT,DPORT,…`.
//!
//! Fields may be empty and a record may be cut short: each field is read where it stands, and
//! the fields before the cut are kept. OPNsense's own file format writes RFC 5424's
//! `PROCID - [SD]` after the tag of an RFC 3164-looking line; that prefix is skipped.

use super::Family;
use crate::event::{Action, Dataset, Details, Transport};
use crate::header::Header;
use crate::lex::{position, skip_spaces, to_ip, to_port, to_u32};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Pf,
    tags: &[b"filterlog"],
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
        return match memchr::memchr(b']', sd) {
            Some(close) => skip_spaces(sd.get(close + 1..).unwrap_or_default()),
            None => m,
        };
    }
    rest.strip_prefix(b"- ").unwrap_or(rest)
}

/// Parses a `filterlog` record.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
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
}
