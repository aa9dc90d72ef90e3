//! PortSentry `attackalert:` lines: connects and scans to trap ports (`KIND from host:
//! NAME/ADDR to PROTO port: N`), blocks (`Host ADDR has been blocked via …`) and repeats
//! (`Host: NAME/ADDR is already blocked Ignoring`). `adminalert:` lines are PortSentry's own
//! status and name no peer.
//!
//! Still a hand reader over `lex` (issue 9, item 7): a nom composition of the same grammar
//! (`lex::lit`, `past`, `word`, `alt`, `cut`; output byte-identical on the references) measured
//! 2,569 instructions per PortSentry line against this reader's 2,508 (callgrind, `parse_loop
//! full portsentry`), after its optional fields were written out by hand and its cold branches
//! kept out of line; the extra cost is spread over the layers the alert passes through.

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint, Transport};
use crate::header::Header;
use crate::lex::{Peer, after, find, skip_spaces, split_word, to_peer, to_port};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Portsentry,
    tags: &[b"portsentry"],
    owns_tag: true,
    any_program: false,
    parse,
};

/// `NAME/ADDR` (PortSentry resolves when configured to; both halves may be the address).
fn name_slash_addr(tok: &[u8]) -> Option<Endpoint<'_>> {
    let mut ep = Endpoint::default();
    let (name, addr) = match crate::lex::rfind_byte(b'/', tok) {
        Some(n) => (tok.get(..n)?, tok.get(n + 1..)?),
        None => (&[][..], tok),
    };
    match to_peer(addr) {
        Some(Peer::Ip(a)) => ep.ip = Some(a),
        Some(Peer::Name(n)) => ep.domain = Some(n),
        None => {}
    }
    // Most lines repeat the address as the name, and a name needs a letter: reading the
    // name again only when it could be one saves a second address parse.
    if name != addr
        && name.iter().any(u8::is_ascii_alphabetic)
        && let Some(Peer::Name(n)) = to_peer(name)
    {
        ep.domain = Some(n);
    }
    (!ep.is_empty()).then_some(ep)
}

/// A blocked-host record as PortSentry writes it to its history and blocked files:
/// `1403884279 - 06/27/2014 17:51:19 Host: NAME/ADDR Port: 1 TCP Blocked`.
fn blocked_record(m: &[u8]) -> Option<Details<'_>> {
    // Only a stamp (digits, spaces, `-`, `/`, `:`) may come before `Host: `; as `H` cannot be
    // part of it, the first `Host: ` is where that run ends, and no search is needed.
    let at = m
        .iter()
        .take_while(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'/' | b':'))
        .count();
    let r = m.get(at..)?.strip_prefix(b"Host: ")?;
    let (tok, r) = split_word(skip_spaces(r));
    let r = skip_spaces(r).strip_prefix(b"Port: ")?;
    let (port, r) = split_word(skip_spaces(r));
    let (proto, r) = split_word(skip_spaces(r));
    if skip_spaces(r) != b"Blocked" {
        return None;
    }
    Some(Details {
        action: Some(Action::HostBlocked),
        source: name_slash_addr(tok)?,
        destination: Endpoint {
            port: to_port(port),
            ..Endpoint::default()
        },
        transport: Transport::from_token(proto),
        ..Details::default()
    })
}

/// The text inside `[…]` after `key`.
fn bracket_value<'a>(m: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let r = after(m, key)?;
    let r = skip_spaces(r).strip_prefix(b"[")?;
    r.get(..crate::lex::find_byte(b']', r)?)
}

/// PortSentry 2: `Scan from: [ADDR] (NAME) protocol: [TCP] port: [23] type: [Connect] …`.
fn scan_event(m: &[u8]) -> Option<Details<'_>> {
    let addr = bracket_value(m, b"Scan from:")?;
    let mut d = Details::default();
    match to_peer(addr)? {
        Peer::Ip(a) => d.source.ip = Some(a),
        Peer::Name(n) => d.source.domain = Some(n),
    }
    if let Some(r) = after(m, b"] (")
        && let Some(end) = crate::lex::find_byte(b')', r)
        && let Some(Peer::Name(n)) = to_peer(r.get(..end)?)
    {
        d.source.domain = Some(n);
    }
    d.transport = bracket_value(m, b" protocol:").and_then(Transport::from_token);
    d.destination.port = bracket_value(m, b" port:").and_then(to_port);
    d.action = Some(match bracket_value(m, b" type:") {
        Some(t) if t.eq_ignore_ascii_case(b"Connect") => Action::ConnectionAttempt,
        _ => Action::PortScan,
    });
    Some(d)
}

/// Parses a PortSentry message.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    if m.starts_with(b"adminalert:") {
        return Some(Details::default());
    }
    if m.starts_with(b"Scan from: [") {
        return scan_event(m);
    }
    let Some(m) = m.strip_prefix(b"attackalert:") else {
        return blocked_record(m);
    };
    let m = skip_spaces(m);
    let mut d = Details::default();
    // Blocks and failures start `ERROR`, `External`, `Reverse` or `Host`; scan alerts start
    // with the scan's kind, which is none of those, and skip the comparisons.
    if matches!(m.first(), Some(b'E' | b'R' | b'H')) {
        if let Some(r) = m
            .strip_prefix(b"ERROR: Could not block host ")
            .or_else(|| m.strip_prefix(b"Reverse route add failed for host: "))
        {
            // PortSentry could not block the peer: the peer is named, no block happened.
            let (tok, _) = split_word(skip_spaces(r));
            d.source = name_slash_addr(tok)?;
            return Some(d);
        }
        if let Some(r) = m.strip_prefix(b"External command run for host: ") {
            // `External command run for host: ADDR using command: "…"`
            let (tok, _) = split_word(skip_spaces(r));
            d.source = name_slash_addr(tok)?;
            return Some(d);
        }
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
    }
    let (kind, r) = match find(m, b" from host:") {
        Some(at) => (m.get(..at)?, m.get(at + b" from host:".len()..)?),
        // Older builds pad the word (`TCP SYN/Normal scan from  host: ADDR/ADDR to …`), and
        // the 2.0 betas drop its colon (`TCP SYN scan from host ADDR/ADDR to TCP port: …`).
        None => {
            let at = find(m, b" from ")?;
            let r = skip_spaces(m.get(at + b" from ".len()..)?);
            let r = r
                .strip_prefix(b"host:")
                .or_else(|| r.strip_prefix(b"host "))?;
            (m.get(..at)?, r)
        }
    };
    let r = skip_spaces(r);
    let (tok, rest) = split_word(r);
    // A redacted peer (`x.x.x.x/x.x.x.x`) names no one; the rest of the alert stands.
    d.source = name_slash_addr(tok).unwrap_or_default();
    d.action = Some(if kind.ends_with(b"scan") {
        Action::PortScan
    } else {
        Action::ConnectionAttempt
    });
    if let Some(r) = after(rest, b" to ") {
        let (proto, r) = split_word(skip_spaces(r));
        d.transport = Transport::from_token(proto);
        if let Some(p) = after(r, b"port:") {
            let (num, r) = split_word(skip_spaces(p));
            d.destination.port = to_port(num);
            // Some builds add the source port: `… to TCP port: 111 from TCP port: 4242`.
            if let Some(p) = skip_spaces(r)
                .strip_prefix(b"from ")
                .and_then(|r| after(r, b"port:"))
            {
                d.source.port = to_port(split_word(skip_spaces(p)).0);
            }
        }
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, check, run};

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

    /// Real lines (Elastic, Wazuh and fail2ban test logs, Prelude-LML's rules, public write-ups) that
    /// earlier versions misread.
    #[test]
    fn real_lines() {
        let table = [
            (
                "1403884279 - 06/27/2014 17:51:19 Host: 192.168.56.1/192.168.56.1 Port: 1 TCP Blocked",
                Expect {
                    dataset: Some("portsentry"),
                    action: Some("host-blocked"),
                    src: Some("192.168.56.1"),
                    dport: Some(1),
                    transport: Some("tcp"),
                    ..Expect::default()
                },
            ),
            (
                "attackalert: Connect from host: 127.0.0.1/127.0.0.1 to TCP port: 11",
                Expect {
                    dataset: Some("portsentry"),
                    action: Some("connection-attempt"),
                    src: Some("127.0.0.1"),
                    dport: Some(11),
                    transport: Some("tcp"),
                    ..Expect::default()
                },
            ),
            (
                "attackalert: External command run for host: 127.0.0.1 using command: \"/tmp/portsentry-test/extcmd.sh 127.0.0.1 11\"",
                Expect {
                    dataset: Some("portsentry"),
                    src: Some("127.0.0.1"),
                    ..Expect::default()
                },
            ),
            (
                "Jul 20 16:13:20 qdb-desktop portsentry[5809]: attackalert: Host: 213.234.219.107 is already blocked. Ignoring",
                Expect {
                    dataset: Some("portsentry"),
                    action: Some("host-blocked"),
                    src: Some("213.234.219.107"),
                    host: Some("qdb-desktop"),
                    program: Some("portsentry"),
                    pid: Some(5809),
                    ..Expect::default()
                },
            ),
            (
                "Sep 27 20:10:48 hostname portsentry[14722]: attackalert: SYN/Normal scan from host: ejemplo.dominio.com/192.168.1.3 to TCP port: 1019",
                Expect {
                    dataset: Some("portsentry"),
                    action: Some("port-scan"),
                    src: Some("192.168.1.3"),
                    sdomain: Some("ejemplo.dominio.com"),
                    dport: Some(1019),
                    transport: Some("tcp"),
                    host: Some("hostname"),
                    program: Some("portsentry"),
                    pid: Some(14722),
                    ..Expect::default()
                },
            ),
            (
                // Prelude-LML's portsentry.rules: an older build pads `from  host:`.
                "Apr 18 10:42:51 20.0.0.3 portsentry[2549]: attackalert: TCP SYN/Normal scan from  host: 2.0.0.3/2.0.0.3 to TCP port: 119",
                Expect {
                    dataset: Some("portsentry"),
                    action: Some("port-scan"),
                    src: Some("2.0.0.3"),
                    dport: Some(119),
                    transport: Some("tcp"),
                    host: Some("20.0.0.3"),
                    program: Some("portsentry"),
                    pid: Some(2549),
                    ..Expect::default()
                },
            ),
            (
                // A SecurityFocus PortSentry article's line (a 2.0 beta: `from host` without a
                // colon, the source port after the destination).
                "May 26 22:54:50 rashi portsentry[3111]: attackalert: TCP SYN scan from host 10.16.17.1/10.16.17.1 to TCP port: 2000 from TCP port: 4427",
                Expect {
                    dataset: Some("portsentry"),
                    action: Some("port-scan"),
                    src: Some("10.16.17.1"),
                    sport: Some(4427),
                    dport: Some(2000),
                    transport: Some("tcp"),
                    host: Some("rashi"),
                    program: Some("portsentry"),
                    pid: Some(3111),
                    ..Expect::default()
                },
            ),
        ];
        run(&table, 7);
    }

    /// `attackalert: ERROR: Could not block host %s !!` (format from portsentry.c).
    #[test]
    fn failed_block_names_the_peer() {
        check(
            "Nov  8 15:26:31 gw portsentry[77]: attackalert: ERROR: Could not block host 198.51.100.7 !!",
            &Expect {
                dataset: Some("portsentry"),
                src: Some("198.51.100.7"),
                host: Some("gw"),
                program: Some("portsentry"),
                pid: Some(77),
                ..Expect::default()
            },
        );
    }

    /// PortSentry 2 logs one line per event (format from its README and `portsentry_io.c`).
    #[test]
    fn portsentry2_scan_events() {
        check(
            "Nov  8 15:26:31 gw portsentry[77]: Scan from: [198.51.100.7] (198.51.100.7) protocol: [TCP] port: [23] type: [Connect] IP opts: [unknown] ignored: [false] triggered: [true] noblock: [unset] blocked: [false]",
            &Expect {
                src: Some("198.51.100.7"),
                transport: Some("tcp"),
                dport: Some(23),
                ..ps("connection-attempt")
            },
        );
        check(
            "Nov  8 15:26:31 gw portsentry[77]: Scan from: [198.51.100.7] (dsl-7.example.net) protocol: [TCP] port: [111] type: [SYN] IP opts: [not set] ignored: [false] triggered: [true] noblock: [unset] blocked: [true]",
            &Expect {
                src: Some("198.51.100.7"),
                sdomain: Some("dsl-7.example.net"),
                transport: Some("tcp"),
                dport: Some(111),
                ..ps("port-scan")
            },
        );
    }
}
