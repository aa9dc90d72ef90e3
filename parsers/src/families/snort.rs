//! Snort 1.x/2.x and Suricata `alert_syslog` lines, and the spp_portscan preprocessor.
//!
//! Shape: `[gid:sid:rev] MESSAGE [Classification: C] [Priority: N]: {PROTO} SRC[:PORT] -> DST[:PORT]`;
//! Snort 1.x has only `MESSAGE: SRC:PORT -> DST:PORT`, Suricata drops the colon after the
//! priority and brackets IPv6 (`[2001:db8::1]:80`). The flow is read from the last ` -> `, so
//! a signature message may contain anything.

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint, Transport};
use crate::header::Header;
use crate::lex::{addr_colon_port, after, rfind, skip_spaces, split_word, to_ip, to_u32, trim_end};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Snort,
    tags: &[b"snort", b"suricata", b"spp_portscan", b"snort2", b"snort3"],
    owns_tag: true,
    any_program: true,
    parse,
};

/// `SRC[:PORT]` as Snort prints it; a bare IPv6 address with a port is split at its last colon
/// only when the protocol has ports.
fn endpoint(tok: &[u8], has_ports: bool) -> Option<Endpoint<'static>> {
    let (ip, port) = addr_colon_port(tok, has_ports)?;
    Some(Endpoint {
        ip: Some(ip),
        port,
        domain: None,
    })
}

/// `{TCP}`, `{PROTO:255}`, `{PROTO255}` → transport.
fn proto(p: &[u8]) -> Option<Transport<'_>> {
    let p = p
        .strip_prefix(b"PROTO")
        .map_or(p, |n| n.strip_prefix(b":").unwrap_or(n));
    Transport::from_token(p)
}

fn bracketed<'a>(text: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let v = after(text, key)?;
    let end = memchr::memchr(b']', v)?;
    Some(trim_end(skip_spaces(v.get(..end)?)))
}

/// Signature part: id, name, classification, priority.
fn rule_part<'a>(text: &'a [u8], d: &mut Details<'a>) {
    let mut t = skip_spaces(text);
    // alert_fast files start with the packet's stamp: `07/12-21:04:38.489675 [**] …`.
    let (first, rest) = split_word(t);
    if first.contains(&b'/') && first.contains(&b'-') && first.contains(&b':') {
        t = skip_spaces(rest);
    }
    while let Some(r) = t.strip_prefix(b"[**]") {
        t = skip_spaces(r);
    }
    if let Some(r) = t.strip_prefix(b"[")
        && let Some(end) = memchr::memchr(b']', r)
    {
        let id = &r[..end];
        if !id.is_empty() && id.iter().all(|b| b.is_ascii_digit() || *b == b':') {
            d.rule.id = Some(id);
            t = skip_spaces(&r[end + 1..]);
        }
    }
    let name_end = [&b" [Classification:"[..], b" [Priority:", b" [**]"]
        .iter()
        .filter_map(|k| crate::lex::find(t, k))
        .min()
        .unwrap_or(t.len());
    let name = trim_end(t.get(..name_end).unwrap_or(t));
    let name = name.strip_suffix(b":").unwrap_or(name);
    if !name.is_empty() {
        d.rule.name = Some(trim_end(name));
    }
    d.rule.category = bracketed(t, b"[Classification:");
    d.priority = bracketed(t, b"[Priority:")
        .and_then(to_u32)
        .and_then(|p| u8::try_from(p).ok());
}

/// `spp_portscan: PORTSCAN DETECTED from SRC …`, `End of portscan from SRC: …`.
fn portscan(m: &[u8]) -> Option<Details<'_>> {
    let m = m.strip_prefix(b"spp_portscan:").map_or(m, skip_spaces);
    let upper_ok = m.starts_with(b"PORTSCAN DETECTED")
        || m.starts_with(b"End of portscan")
        || m.starts_with(b"portscan status");
    if !upper_ok {
        return None;
    }
    let r = after(m, b" from ")?;
    let (tok, _) = split_word(r);
    let tok = tok.strip_suffix(b":").unwrap_or(tok);
    let mut d = Details {
        action: Some(Action::PortScan),
        ..Details::default()
    };
    d.source.ip = Some(to_ip(tok)?);
    Some(d)
}

/// Skips a leading `[**] ` and `[gid:sid:rev] `.
fn skip_gid(m: &[u8]) -> &[u8] {
    let mut t = skip_spaces(m);
    while let Some(r) = t.strip_prefix(b"[**]") {
        t = skip_spaces(r);
    }
    if let Some(r) = t.strip_prefix(b"[")
        && let Some(end) = memchr::memchr(b']', r)
        && r.get(..end)
            .is_some_and(|id| id.iter().all(|b| b.is_ascii_digit() || *b == b':'))
    {
        return skip_spaces(r.get(end + 1..).unwrap_or_default());
    }
    t
}

/// Parses a Snort or Suricata alert line.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    // `[100:1:1] spp_portscan: PORTSCAN DETECTED from …` (with the generator id of the preprocessor).
    let ps = skip_gid(m);
    if ps.starts_with(b"spp_portscan")
        || ps.starts_with(b"PORTSCAN")
        || ps.starts_with(b"End of portscan")
    {
        return portscan(ps);
    }
    let arrow = rfind(m, b" -> ")?;
    let left = trim_end(m.get(..arrow)?);
    let right = skip_spaces(m.get(arrow + 4..)?);
    let src_start = memchr::memrchr(b' ', left).map_or(0, |n| n + 1);
    let src_tok = left.get(src_start..)?;
    let (dst_tok, _) = split_word(right);
    let dst_tok = dst_tok.strip_suffix(b",").unwrap_or(dst_tok);
    let mut head = trim_end(left.get(..src_start)?);
    let mut d = Details::default();
    if let Some(inner) = head.strip_suffix(b"}") {
        let open = memchr::memrchr(b'{', inner)?;
        d.transport = proto(inner.get(open + 1..)?);
        head = trim_end(inner.get(..open)?);
    } else {
        // Without `{PROTO}` only a Snort-tagged line or a signature-shaped one is an alert.
        let tagged = h
            .program()
            .is_some_and(|p| FAMILY.tags.iter().any(|t| t.eq_ignore_ascii_case(p)));
        if !tagged && !head.ends_with(b":") {
            return None;
        }
    }
    let has_ports = !matches!(d.transport, Some(Transport::Icmp | Transport::Ipv6Icmp));
    d.source = endpoint(src_tok, has_ports)?;
    d.destination = endpoint(dst_tok, has_ports)?;
    rule_part(head, &mut d);
    let is_portscan = d.rule.id.is_some_and(|id| id.starts_with(b"122:"))
        || d.rule.name.is_some_and(|n| {
            let n = n.strip_prefix(b"\"").unwrap_or(n);
            n.starts_with(b"(portscan)") || n.starts_with(b"(port_scan)")
        });
    d.action = Some(if is_portscan {
        Action::PortScan
    } else {
        Action::IdsAlert
    });
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::families::testing::{Expect, check, run};

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
