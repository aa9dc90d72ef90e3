//! Cisco IOS zone-based firewall drops: `%FW-6-DROP_PKT: Dropping tcp session A:P B:P on
//! zone-pair ZP class CLASS with ip ident 0 due to …` and the IOS-XE form `Dropping tcp pkt
//! from IFACE A:P => B:P(target:class)-(ZP:class) due to …`, also nested in a platform line
//! (`%IOSXE-6-PLATFORM: … cpp_cp: … %FW-6-DROP_PKT: …`). Other `%FW-` lines with a session
//! (`%FW-6-SESS_AUDIT_TRAIL_START: Start tcp session: initiator (A:P) -- responder (B:P)`)
//! give their flow without an action, and so does a segment the inspection dropped
//! (`%FW-4-TCP_OoO_SEG: Dropping TCP Segment: … - session A:P to B:P on zone-pair …`).

use super::Family;
use super::cisco_acl::cisco_message;
use crate::event::{Action, Dataset, Details, Endpoint, Transport};
use crate::header::Header;
use crate::lex::{addr_colon_port, after, find, position, rposition, skip_spaces, split_word};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::CiscoFw,
    tags: &[],
    owns_tag: false,
    // IOS sends these without a program; trying them under every program's tag would cost
    // a scan for `%` on every line no family claims.
    any_program: false,
    parse,
};

/// `A:P` (or `(A:P)`, `A:P(target…`) as an endpoint.
fn endpoint(tok: &[u8]) -> Option<Endpoint<'_>> {
    let tok = tok.strip_prefix(b"(").unwrap_or(tok);
    let tok = tok.get(
        ..position(tok, b'(')
            .or_else(|| position(tok, b')'))
            .unwrap_or(tok.len()),
    )?;
    let tok = tok.strip_suffix(b",").unwrap_or(tok);
    let (ip, port) = addr_colon_port(tok, true)?;
    Some(Endpoint {
        ip: Some(ip),
        port,
        domain: None,
    })
}

/// `Dropping PROTO session|pkt|packet …` (a drop by policy): the protocol and what follows the
/// kind word. Other `Dropping …` lines (`Dropping TCP Segment: …`) are no session drop.
fn dropped_flow(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let (proto, rest) = split_word(body.strip_prefix(b"Dropping ")?);
    let (kind, _) = split_word(skip_spaces(rest));
    matches!(kind, b"session" | b"pkt" | b"packet").then_some((proto, rest))
}

/// `Dropping PROTO Segment: … - session A:P to B:P …`: the protocol and the text after
/// ` - session `.
fn segment_flow(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let (proto, rest) = split_word(body.strip_prefix(b"Dropping ")?);
    if !skip_spaces(rest).starts_with(b"Segment") {
        return None;
    }
    Some((proto, skip_spaces(after(rest, b" - session ")?)))
}

/// Parses a zone-based firewall line.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let (mnemonic, body) = cisco_message(h.message, b"FW")?;
    let mut d = Details {
        code: Some(mnemonic),
        ..Details::default()
    };
    let mut portless = false;
    if let Some((proto, rest)) = dropped_flow(body) {
        d.action = Some(Action::AclDenied);
        // `Dropping Unknown-l4 session A:0 B:0`: IOS names no layer-4 protocol (GRE, ESP, …),
        // and the zeros stand where it has no ports.
        if proto.eq_ignore_ascii_case(b"Unknown-l4") {
            portless = true;
        } else {
            d.transport = Transport::from_token(proto);
        }
        let (kind, mut rest) = split_word(skip_spaces(rest));
        if (kind == b"pkt" || kind == b"packet")
            && let Some(r) = skip_spaces(rest).strip_prefix(b"from ")
        {
            rest = split_word(skip_spaces(r)).1;
        }
        let (src, rest) = split_word(skip_spaces(rest));
        let (mut dst, rest) = split_word(skip_spaces(rest));
        if dst == b"=>" {
            dst = split_word(skip_spaces(rest)).0;
        }
        if let Some(e) = endpoint(src) {
            d.source = e;
        }
        if let Some(e) = endpoint(dst) {
            d.destination = e;
        }
        if let Some(zp) = after(body, b" zone-pair ") {
            d.rule.name = Some(split_word(zp).0).filter(|z| !z.is_empty());
        }
    } else if let Some((proto, flow)) = segment_flow(body) {
        // `Dropping TCP Segment: … - session A:P to B:P on zone-pair …`: the inspection dropped
        // one segment (a full reassembly queue, a bad window), not the session by policy.
        d.transport = Transport::from_token(proto);
        let (src, rest) = split_word(flow);
        if let Some(e) = endpoint(src) {
            d.source = e;
        }
        if let Some(to) = skip_spaces(rest).strip_prefix(b"to ")
            && let Some(e) = endpoint(split_word(skip_spaces(to)).0)
        {
            d.destination = e;
        }
    } else if let Some(ini) = after(body, b"initiator (") {
        // `Start tcp session:`, `Stop dns session:`: the word before `session` is the transport
        // or, for an inspected application (`dns`, `http`), its name, which is no transport.
        if let Some(at) = find(body, b" session:") {
            let before = body.get(..at).unwrap_or_default();
            let word = before
                .get(rposition(before, b' ').map_or(0, |p| p + 1)..)
                .unwrap_or_default();
            d.transport = Transport::from_token(word)
                .filter(|t| matches!(t, Transport::Tcp | Transport::Udp | Transport::Icmp));
        }
        if let Some(e) = endpoint(split_word(ini).0) {
            d.source = e;
        }
        if let Some(e) = after(body, b"responder (").and_then(|r| endpoint(split_word(r).0)) {
            d.destination = e;
        }
    }
    // An ICMP session's `(A:8)` is the ICMP type and `(B:0)` its code: no ports.
    if portless || d.transport == Some(Transport::Icmp) {
        d.source.port = None;
        d.destination.port = None;
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, run};

    #[test]
    fn drops() {
        let fw = Expect {
            dataset: Some("cisco_fw"),
            action: Some("acl-denied"),
            transport: Some("tcp"),
            ..Expect::default()
        };
        run(
            &[
                (
                    // elastic/integrations cisco_ios test log (quoted in the old negative corpus)
                    "<190>3352460: 3352481: Aug 12 2023 12:15:33.963 mdt: %IOSXE-6-PLATFORM: R0/0: cpp_cp: QFP:0.0 Thread:001 TS:00013807835737559120 %FW-6-DROP_PKT: Dropping tcp pkt from GigabitEthernet1/0/2.6 10.50.14.44:53836 => 89.160.20.128:80(target:class)-(ZP_PROCESS_TO_CORPORATE:class-default) due to Policy drop:classify result with ip ident 13017 tcp flag 0x2, seq 4266642156, ack 0",
                    Expect {
                        src: Some("10.50.14.44"),
                        sport: Some(53836),
                        dst: Some("89.160.20.128"),
                        dport: Some(80),
                        ..fw
                    },
                ),
                (
                    "Mar  1 00:01:02 rtr %FW-6-DROP_PKT: Dropping tcp session 198.51.100.7:3527 192.0.2.10:23 on zone-pair out-in class class-default with ip ident 0 due to Invalid Flags",
                    Expect {
                        src: Some("198.51.100.7"),
                        sport: Some(3527),
                        dst: Some("192.0.2.10"),
                        dport: Some(23),
                        host: Some("rtr"),
                        ..fw
                    },
                ),
                (
                    "Mar  1 00:01:02 rtr %FW-6-SESS_AUDIT_TRAIL_START: Start tcp session: initiator (198.51.100.7:3527) -- responder (192.0.2.10:80)",
                    Expect {
                        src: Some("198.51.100.7"),
                        sport: Some(3527),
                        dst: Some("192.0.2.10"),
                        dport: Some(80),
                        host: Some("rtr"),
                        action: None,
                        ..fw
                    },
                ),
                (
                    // elastic/integrations cisco_ios test-syslog.log: `dns` is the inspected
                    // application before `session`, not the transport.
                    "<190>3352436: 3352457: Aug 12 2023 12:14:24.412 mdt: %IOSXE-6-PLATFORM: R0/0: cpp_cp: QFP:0.0 Thread:001 TS:00013807766185951588 %FW-6-SESS_AUDIT_TRAIL: (target:class) (ZP_PROCESS_TO_CORPORATE:CM_PROCESS_TO_CORPORATE):Stop dns session: initiator (10.50.14.44:33207) sent 48 bytes -- responder (10.120.42.6:53) sent 40 bytes, from GigabitEthernet10/0/2.6",
                    Expect {
                        src: Some("10.50.14.44"),
                        sport: Some(33207),
                        dst: Some("10.120.42.6"),
                        dport: Some(53),
                        action: None,
                        transport: None,
                        ..fw
                    },
                ),
            ],
            3,
        );
    }

    /// A zone-based firewall's drops pasted to pastebin (UgPMvjz7): an `Unknown-l4` session
    /// names no transport, and its `:0` are no ports.
    #[test]
    fn unknown_l4_drops_have_no_transport_or_ports() {
        run(
            &[(
                "Dec 11 23:12:59.406: %FW-6-DROP_PKT: Dropping Unknown-l4 session 10.15.89.52:0 73.129.236.163:0 on zone-pair inside-outside class class-default due to DROP action found in policy-map with ip ident 49051",
                Expect {
                    dataset: Some("cisco_fw"),
                    action: Some("acl-denied"),
                    src: Some("10.15.89.52"),
                    dst: Some("73.129.236.163"),
                    ..Expect::default()
                },
            )],
            1,
        );
    }

    /// Observium's syslog test (a real router's line): an out-of-order segment the inspection
    /// dropped is no policy drop, and its flow is written `session A:P to B:P`.
    #[test]
    fn dropped_segments_give_their_flow_without_an_action() {
        run(
            &[(
                "033884: Nov  8 07:19:23.993: %FW-4-TCP_OoO_SEG: Dropping TCP Segment: seq:-1169729434 1500 bytes is out-of-order; expected seq:3124765814. Reason: TCP reassembly queue overflow - session 10.10.32.37:56316 to 93.186.239.142:80 on zone-pair Local->Internet class All_Inspection",
                Expect {
                    dataset: Some("cisco_fw"),
                    src: Some("10.10.32.37"),
                    sport: Some(56316),
                    dst: Some("93.186.239.142"),
                    dport: Some(80),
                    transport: Some("tcp"),
                    ..Expect::default()
                },
            )],
            1,
        );
    }

    /// A Korean CBAC lab's audit trail (a real console): the ICMP session's type and code are
    /// no ports.
    #[test]
    fn icmp_sessions_have_no_ports() {
        run(
            &[(
                "*Jun 22 07:57:48.935: %FW-6-SESS_AUDIT_TRAIL_START: Start icmp session: initiator (13.13.2.2:8) -- responder (13.13.5.5:0)",
                Expect {
                    dataset: Some("cisco_fw"),
                    src: Some("13.13.2.2"),
                    dst: Some("13.13.5.5"),
                    transport: Some("icmp"),
                    ..Expect::default()
                },
            )],
            1,
        );
    }
}
