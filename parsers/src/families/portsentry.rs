//! PortSentry `attackalert:` lines: connects and scans to trap ports (`KIND from host:
//! NAME/ADDR to PROTO port: N`), blocks (`Host ADDR has been blocked via …`) and repeats
//! (`Host: NAME/ADDR is already blocked Ignoring`). `adminalert:` lines are PortSentry's own
//! status and name no peer.

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint, Transport};
use crate::header::Header;
use crate::lex::{Peer, after, find, skip_spaces, split_word, to_peer, to_port};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Portsentry,
    tags: &[b"portsentry"],
    owns_tag: true,
    parse,
};

/// `NAME/ADDR` (PortSentry resolves when configured to; both halves may be the address).
fn name_slash_addr(tok: &[u8]) -> Option<Endpoint<'_>> {
    let mut ep = Endpoint::default();
    let (name, addr) = match memchr::memrchr(b'/', tok) {
        Some(n) => (tok.get(..n)?, tok.get(n + 1..)?),
        None => (&[][..], tok),
    };
    match to_peer(addr) {
        Some(Peer::Ip(a)) => ep.ip = Some(a),
        Some(Peer::Name(n)) => ep.domain = Some(n),
        None => {}
    }
    if let Some(Peer::Name(n)) = to_peer(name) {
        ep.domain = Some(n);
    }
    (!ep.is_empty()).then_some(ep)
}

/// Parses a PortSentry message.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    if m.starts_with(b"adminalert:") {
        return Some(Details::default());
    }
    let m = skip_spaces(m.strip_prefix(b"attackalert:")?);
    let mut d = Details::default();
    if let Some(r) = m.strip_prefix(b"Host: ") {
        // `Host: NAME/ADDR is already blocked Ignoring`
        let (tok, _) = split_word(skip_spaces(r));
        d.source = name_slash_addr(tok)?;
        d.action = Some(Action::HostBlocked);
        return Some(d);
    }
    if let Some(r) = m.strip_prefix(b"Host ") {
        // `Host ADDR has been blocked via wrappers with string: "ALL: ADDR"`
        let (tok, rest) = split_word(skip_spaces(r));
        d.source = name_slash_addr(tok)?;
        if find(rest, b"blocked").is_some() {
            d.action = Some(Action::HostBlocked);
        }
        return Some(d);
    }
    let at = find(m, b" from host:")?;
    let kind = m.get(..at)?;
    let r = skip_spaces(m.get(at + b" from host:".len()..)?);
    let (tok, rest) = split_word(r);
    d.source = name_slash_addr(tok)?;
    d.action = Some(if kind.ends_with(b"scan") {
        Action::PortScan
    } else {
        Action::ConnectionAttempt
    });
    if let Some(r) = after(rest, b" to ") {
        let (proto, r) = split_word(skip_spaces(r));
        d.transport = Transport::from_token(proto);
        if let Some(p) = after(r, b"port:") {
            let (num, _) = split_word(skip_spaces(p));
            d.destination.port = to_port(num);
        }
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::families::testing::{Expect, check, run};

    fn ps(action: &'static str) -> Expect {
        Expect {
            dataset: Some("portsentry"),
            action: Some(action),
            host: Some("gw"),
            program: Some("portsentry"),
            pid: Some(77),
            ..Expect::default()
        }
    }

    #[test]
    fn variants() {
        let l = |m: &str| format!("Nov  8 15:26:31 gw portsentry[77]: {m}");
        let lines = [
            l("attackalert: Connect from host: 198.51.100.7/198.51.100.7 to TCP port: 111"),
            l(
                "attackalert: SYN/Normal scan from host: dsl-7.example.net/198.51.100.7 to TCP port: 23",
            ),
            l("attackalert: UDP scan from host: 198.51.100.7/198.51.100.7 to UDP port: 31337"),
            l("attackalert: FIN stealth scan from host: 198.51.100.7/198.51.100.7 to TCP port: 1"),
            l("attackalert: NULL stealth scan from host: 198.51.100.7/198.51.100.7 to TCP port: 2"),
            l("attackalert: XMAS stealth scan from host: 198.51.100.7/198.51.100.7 to TCP port: 3"),
            l(
                "attackalert: Host 198.51.100.7 has been blocked via wrappers with string: \"ALL: 198.51.100.7\"",
            ),
            l(
                "attackalert: Host 198.51.100.7 has been blocked via dropped route using command: \"/sbin/route add -host 198.51.100.7 reject\"",
            ),
            l("attackalert: Host: 198.51.100.7/198.51.100.7 is already blocked Ignoring"),
            l("attackalert: Host: dsl-7.example.net/198.51.100.7 is already blocked. Ignoring"),
            l("attackalert: Connect from host: 2001:db8::7/2001:db8::7 to TCP port: 111"),
            l("attackalert:  Connect from host:  198.51.100.7/198.51.100.7  to  TCP  port:  111"),
            l("attackalert: Connect from host: 198.51.100.7/198.51.100.7 to TCP port"),
            l("attackalert: Connect from host: 198.51.100.7/198.51.100.7 to UDP port: 69"),
            l(
                "attackalert: SYN/Normal scan from host: dsl-7.example.net/dsl-7.example.net to TCP port: 23",
            ),
            l(
                "attackalert: Host 2001:db8::7 has been blocked via dropped route using command: \"/sbin/route add -host 2001:db8::7 reject\"",
            ),
        ];
        let e = |a,
                 src: Option<&'static str>,
                 dom: Option<&'static str>,
                 t: Option<&'static str>,
                 p: Option<u16>| Expect {
            src,
            sdomain: dom,
            transport: t,
            dport: p,
            ..ps(a)
        };
        let ip = Some("198.51.100.7");
        let wants = [
            e("connection-attempt", ip, None, Some("tcp"), Some(111)),
            e(
                "port-scan",
                ip,
                Some("dsl-7.example.net"),
                Some("tcp"),
                Some(23),
            ),
            e("port-scan", ip, None, Some("udp"), Some(31337)),
            e("port-scan", ip, None, Some("tcp"), Some(1)),
            e("port-scan", ip, None, Some("tcp"), Some(2)),
            e("port-scan", ip, None, Some("tcp"), Some(3)),
            e("host-blocked", ip, None, None, None),
            e("host-blocked", ip, None, None, None),
            e("host-blocked", ip, None, None, None),
            e("host-blocked", ip, Some("dsl-7.example.net"), None, None),
            e(
                "connection-attempt",
                Some("2001:db8::7"),
                None,
                Some("tcp"),
                Some(111),
            ),
            e("connection-attempt", ip, None, Some("tcp"), Some(111)),
            e("connection-attempt", ip, None, Some("tcp"), None),
            e("connection-attempt", ip, None, Some("udp"), Some(69)),
            e(
                "port-scan",
                None,
                Some("dsl-7.example.net"),
                Some("tcp"),
                Some(23),
            ),
            e("host-blocked", Some("2001:db8::7"), None, None, None),
        ];
        let table: Vec<(&str, Expect)> = lines.iter().map(String::as_str).zip(wants).collect();
        run(&table, 15);
    }

    #[test]
    fn adminalert_names_no_peer() {
        check(
            "Nov  8 15:26:31 gw portsentry[77]: adminalert: PortSentry is now active and listening.",
            &Expect {
                dataset: Some("portsentry"),
                host: Some("gw"),
                program: Some("portsentry"),
                pid: Some(77),
                ..Expect::default()
            },
        );
        check(
            "Nov  8 15:26:31 gw portsentry[77]: adminalert: Going into listen mode on TCP port: 143",
            &Expect {
                dataset: Some("portsentry"),
                host: Some("gw"),
                program: Some("portsentry"),
                pid: Some(77),
                ..Expect::default()
            },
        );
    }
}
