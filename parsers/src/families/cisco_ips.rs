//! Cisco IOS IPS signatures: `%IPS-4-SIGNATURE: Sig:3050 Subsig:1 Sev:50 TCP SYN/FIN Packet
//! [198.51.100.7:3527 -> 192.0.2.10:23] VRF:NONE RiskRating:50`, and the older IOS IDS form
//! `%IDS-4-ICMP_ECHO_SIG: Sig:2004:ICMP Echo Request - from 198.51.100.7 to 192.0.2.10`.
//! The signature's name may say `TCP`, but the line gives no protocol field: none is output.

use super::Family;
use super::cisco_acl::cisco_message;
use crate::event::{Action, Dataset, Details};
use crate::header::Header;
use crate::lex::{
    addr_colon_port, after, find, position, skip_spaces, split_word, to_u32, trim_end,
};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::CiscoIps,
    tags: &[],
    owns_tag: false,
    // IOS sends these without a program; trying them under every program's tag would cost
    // a scan for `%` on every line no family claims.
    any_program: false,
    parse,
};

/// Parses an IOS IPS or IDS signature line.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    let (mnemonic, body) = cisco_message(m, b"IPS").or_else(|| cisco_message(m, b"IDS"))?;
    let mut d = Details {
        code: Some(mnemonic),
        ..Details::default()
    };
    let Some(sig) = body.strip_prefix(b"Sig:") else {
        return Some(d);
    };
    d.action = Some(Action::IdsAlert);
    let end = sig
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(sig.len());
    let (id, rest) = sig.split_at(end);
    d.rule.id = to_u32(id).map(|_| id);
    if let Some(name) = rest.strip_prefix(b":") {
        // IDS: `Sig:2004:NAME - from A to B`.
        let stop = find(name, b" - from ").unwrap_or(name.len());
        d.rule.name = name.get(..stop).map(trim_end).filter(|n| !n.is_empty());
        if let Some(from) = after(name, b" - from ") {
            let (src, rest) = split_word(from);
            d.source.ip = addr_colon_port(src, false).map(|(a, _)| a);
            if let Some(to) = skip_spaces(rest).strip_prefix(b"to ") {
                d.destination.ip =
                    addr_colon_port(split_word(skip_spaces(to)).0, false).map(|(a, _)| a);
            }
        }
        return Some(d);
    }
    // IPS: `Subsig:N Sev:N NAME [A:P -> B:P] …`.
    let mut rest = skip_spaces(rest);
    for key in [&b"Subsig:"[..], b"Sev:"] {
        if rest.starts_with(key) {
            rest = skip_spaces(split_word(rest).1);
        }
    }
    let open = position(rest, b'[');
    d.rule.name = rest
        .get(..open.unwrap_or(rest.len()))
        .map(trim_end)
        .filter(|n| !n.is_empty());
    if let Some(open) = open {
        let flow = rest.get(open + 1..).unwrap_or_default();
        let (src, more) = split_word(flow);
        if let Some((a, p)) = addr_colon_port(src, true) {
            d.source.ip = Some(a);
            d.source.port = p;
        }
        if let Some(arrow) = skip_spaces(more).strip_prefix(b"-> ") {
            let (dst, _) = split_word(skip_spaces(arrow));
            let dst = dst
                .get(..position(dst, b']').unwrap_or(dst.len()))
                .unwrap_or_default();
            if let Some((a, p)) = addr_colon_port(dst, true) {
                d.destination.ip = Some(a);
                d.destination.port = p;
            }
        }
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, run};

    #[test]
    fn signatures() {
        let ips = Expect {
            dataset: Some("cisco_ips"),
            action: Some("ids-alert"),
            ..Expect::default()
        };
        run(
            &[
                (
                    // elastic/integrations cisco_ios test log (quoted in the old negative corpus)
                    "Sep  1 10:25:29 10.10.10.1 %IPS-4-SIGNATURE: Sig:3051 Subsig:1 Sev:4 TCP Connection Window Size DoS [192.168.100.11:51654 -> 10.10.10.10:4444]",
                    Expect {
                        src: Some("192.168.100.11"),
                        sport: Some(51654),
                        dst: Some("10.10.10.10"),
                        dport: Some(4444),
                        host: Some("10.10.10.1"),
                        rule_id: Some("3051"),
                        rule_name: Some("TCP Connection Window Size DoS"),
                        ..ips
                    },
                ),
                (
                    "Mar  1 00:01:02 rtr %IPS-4-SIGNATURE: Sig:3050 Subsig:1 Sev:50 TCP SYN/FIN Packet [198.51.100.7:3527 -> 192.0.2.10:23] VRF:NONE RiskRating:50",
                    Expect {
                        src: Some("198.51.100.7"),
                        sport: Some(3527),
                        dst: Some("192.0.2.10"),
                        dport: Some(23),
                        host: Some("rtr"),
                        rule_id: Some("3050"),
                        ..ips
                    },
                ),
                (
                    "Mar  1 00:01:02 rtr %IDS-4-ICMP_ECHO_SIG: Sig:2004:ICMP Echo Request - from 198.51.100.7 to 192.0.2.10",
                    Expect {
                        src: Some("198.51.100.7"),
                        dst: Some("192.0.2.10"),
                        host: Some("rtr"),
                        rule_id: Some("2004"),
                        rule_name: Some("ICMP Echo Request"),
                        ..ips
                    },
                ),
                // Cut inside the flow: the source is kept.
                (
                    "Mar  1 00:01:02 rtr %IPS-4-SIGNATURE: Sig:3050 Subsig:1 Sev:50 TCP SYN/FIN Packet [198.51.100.7:3527 ->",
                    Expect {
                        src: Some("198.51.100.7"),
                        sport: Some(3527),
                        host: Some("rtr"),
                        rule_id: Some("3050"),
                        ..ips
                    },
                ),
            ],
            4,
        );
    }
}
