//! TCP wrappers (libwrap/tcpd), logged under the wrapped daemon's name:
//! `refused connect from PEER`, `connect from PEER`, where PEER is an address, a host name,
//! `user@host` from ident, or `name (address)` (libwrap inside sshd); and the two warnings
//! that name a peer (`can't verify hostname`, `host name/address mismatch`).

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::take_till;
use nom::character::complete::one_of;
use nom::combinator::{cut, map_opt, opt, peek, verify};
use nom::sequence::{preceded, terminated};

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint};
use crate::header::Header;
use crate::lex::{Peer, Res, blanks, fail, is_redacted, lit, past, to_ip, to_peer, token};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Tcpd,
    tags: &[b"tcpd"],
    owns_tag: true,
    any_program: true,
    parse,
};

/// `[USER@]HOST`, where HOST is an address, a name or `unknown`, then an optional ` (ADDR)`.
#[inline(always)]
fn peer(i: &[u8]) -> Res<'_, (Endpoint<'_>, Option<&[u8]>)> {
    // postfix and others write `name[addr]`: not a TCP wrappers line.
    let (i, tok) = verify(token, |t: &[u8]| !t.contains(&b'[')).parse(i)?;
    let (user, host) = match crate::lex::rfind_byte(b'@', tok) {
        Some(at) => (
            tok.get(..at).filter(|u| !u.is_empty()),
            tok.get(at + 1..).unwrap_or_default(),
        ),
        None => (None, tok),
    };
    let mut ep = Endpoint::default();
    match to_peer(host) {
        Some(Peer::Ip(a)) => ep.ip = Some(a),
        Some(Peer::Name(n)) => ep.domain = Some(n),
        // `unknown`, a blanked address (`xx.xx.xx.xx`) or nothing (the line was cut): the
        // refusal stands without a peer.
        None if host.eq_ignore_ascii_case(b"unknown") || is_redacted(host) || host.is_empty() => {}
        None => return fail(),
    }
    // libwrap inside sshd: `name (addr)`; a token that is no `(ADDR)` is left alone.
    let (i, paren) = preceded(blanks, opt(preceded(lit(b"("), token))).parse(i)?;
    if let Some(a) = paren.and_then(|t| t.strip_suffix(b")")).and_then(to_ip) {
        ep.ip = Some(a);
    }
    Ok((i, (ep, user)))
}

/// `refused connect from PEER` and `connect from PEER`.
fn connection<'a, const N: usize>(
    opening: &'static [u8; N],
) -> impl Parser<&'a [u8], Output = (Endpoint<'a>, Option<&'a [u8]>), Error = ()> {
    preceded((lit(opening), blanks), peer)
}

/// A name-or-address token read as an endpoint.
fn source(tok: &[u8]) -> Option<Endpoint<'_>> {
    let mut ep = Endpoint::default();
    match to_peer(tok)? {
        Peer::Ip(a) => ep.ip = Some(a),
        Peer::Name(n) => ep.domain = Some(n),
    }
    Some(ep)
}

/// The two libwrap warnings that name a peer:
/// `warning: [FILE, line N: ]can't verify hostname: getaddrinfo(PEER, …)` and
/// `warning: … host name/address mismatch: ADDR != NAME`.
fn warning(i: &[u8]) -> Res<'_, Endpoint<'_>> {
    // Once the getaddrinfo opening matched, its peer must read (`cut`): no other form is tried.
    // Inside a rule (`paranoid`, a host name pattern) libwrap names the rule's place first:
    // `warning: /etc/hosts.allow, line 14: can't verify hostname: …`.
    let getaddrinfo = preceded(
        (
            lit(b"warning: "),
            past(b"can't verify hostname: getaddrinfo("),
        ),
        cut(map_opt(
            terminated(take_till(|b| b == b',' || b == b')'), peek(one_of(",)"))),
            source,
        )),
    );
    // libwrap writes the mismatch right after `warning: `, and the needle starts with `h`,
    // which `warning: ` lacks: no match straddles the prefix.
    let mismatch = (
        preceded(
            (lit(b"warning: "), past(b"host name/address mismatch: ")),
            map_opt(token, to_ip),
        ),
        preceded((blanks, opt(lit(b"!=")), blanks), token),
    )
        .map(|(addr, name)| Endpoint {
            ip: Some(addr),
            domain: match to_peer(name) {
                Some(Peer::Name(n)) => Some(n),
                _ => None,
            },
            port: None,
        });
    alt((getaddrinfo, mismatch)).parse(i)
}

/// Parses a TCP wrappers message.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    // This runs on every line whatever its tag: the forms start with distinct bytes, so one
    // byte picks the only grammar worth trying and turns most lines away.
    // The grammars return the few fields they read; the details are built once, here.
    let (action, (source, user)) = match m.first() {
        // Cut right after the opening: a refusal whose peer was lost.
        Some(b'r') if m == b"refused connect from" => {
            (Some(Action::ConnectionRefused), (Endpoint::default(), None))
        }
        Some(b'r') => (
            Some(Action::ConnectionRefused),
            connection(b"refused connect from ").parse(m).ok()?.1,
        ),
        Some(b'c') => (
            Some(Action::ConnectionAccepted),
            connection(b"connect from ").parse(m).ok()?.1,
        ),
        Some(b'w') => (None, (warning(m).ok()?.1, None)),
        _ => return None,
    };
    Some(Details {
        action,
        source,
        user,
        ..Details::default()
    })
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, run};

    fn tcpd(action: &'static str) -> Expect {
        Expect {
            dataset: Some("tcpd"),
            action: Some(action),
            ..Expect::default()
        }
    }

    #[test]
    fn variants() {
        let table = [
            (
                "<38>Nov  8 15:26:31 linux in.telnetd[812]: refused connect from 198.51.100.7",
                Expect {
                    src: Some("198.51.100.7"),
                    host: Some("linux"),
                    program: Some("in.telnetd"),
                    pid: Some(812),
                    ..tcpd("connection-refused")
                },
            ),
            (
                "<38>Nov  8 15:26:31 linux ftpd[3689]: refused connect from 7dyn94.ztm.casema.net",
                Expect {
                    sdomain: Some("7dyn94.ztm.casema.net"),
                    host: Some("linux"),
                    program: Some("ftpd"),
                    pid: Some(3689),
                    ..tcpd("connection-refused")
                },
            ),
            (
                "Nov  8 15:26:31 linux in.fingerd[531]: connect from root@192.0.2.5",
                Expect {
                    src: Some("192.0.2.5"),
                    user: Some("root"),
                    host: Some("linux"),
                    program: Some("in.fingerd"),
                    pid: Some(531),
                    ..tcpd("connection-accepted")
                },
            ),
            (
                "Nov  8 15:26:31 linux sshd[411]: refused connect from 2001:db8::7 (2001:db8::7)",
                Expect {
                    src: Some("2001:db8::7"),
                    host: Some("linux"),
                    program: Some("sshd"),
                    pid: Some(411),
                    ..tcpd("connection-refused")
                },
            ),
            (
                "Nov  8 15:26:31 linux sshd[411]: refused connect from host.example.org (198.51.100.9)",
                Expect {
                    src: Some("198.51.100.9"),
                    sdomain: Some("host.example.org"),
                    host: Some("linux"),
                    program: Some("sshd"),
                    pid: Some(411),
                    ..tcpd("connection-refused")
                },
            ),
            (
                "Nov  8 15:26:31 linux in.ftpd[77]: connect from 198.51.100.7",
                Expect {
                    src: Some("198.51.100.7"),
                    host: Some("linux"),
                    program: Some("in.ftpd"),
                    pid: Some(77),
                    ..tcpd("connection-accepted")
                },
            ),
            (
                "Nov  8 15:26:31 linux in.rshd[77]: connect from user@dialup.example.net",
                Expect {
                    sdomain: Some("dialup.example.net"),
                    user: Some("user"),
                    host: Some("linux"),
                    program: Some("in.rshd"),
                    pid: Some(77),
                    ..tcpd("connection-accepted")
                },
            ),
            (
                "in.telnetd[812]: refused connect from 198.51.100.7",
                Expect {
                    src: Some("198.51.100.7"),
                    program: Some("in.telnetd"),
                    pid: Some(812),
                    ..tcpd("connection-refused")
                },
            ),
            (
                "Nov  8 15:26:31 in.telnetd[812]: refused connect from 198.51.100.7",
                Expect {
                    src: Some("198.51.100.7"),
                    program: Some("in.telnetd"),
                    pid: Some(812),
                    ..tcpd("connection-refused")
                },
            ),
            (
                "<38>Nov  8 15:26:31 linux in.telnetd: refused connect from 198.51.100.7",
                Expect {
                    src: Some("198.51.100.7"),
                    host: Some("linux"),
                    program: Some("in.telnetd"),
                    ..tcpd("connection-refused")
                },
            ),
            (
                "<38>Nov  8 15:26:31 linux  in.telnetd[812]:  refused connect from   198.51.100.7  ",
                Expect {
                    src: Some("198.51.100.7"),
                    host: Some("linux"),
                    program: Some("in.telnetd"),
                    pid: Some(812),
                    ..tcpd("connection-refused")
                },
            ),
            (
                "<38>1 2026-11-08T15:26:31Z linux in.telnetd 812 - - refused connect from 198.51.100.7",
                Expect {
                    src: Some("198.51.100.7"),
                    host: Some("linux"),
                    program: Some("in.telnetd"),
                    pid: Some(812),
                    ..tcpd("connection-refused")
                },
            ),
            (
                "Nov  8 15:26:31 linux vsftpd[9]: refused connect from ::ffff:198.51.100.7",
                Expect {
                    src: Some("198.51.100.7"),
                    host: Some("linux"),
                    program: Some("vsftpd"),
                    pid: Some(9),
                    ..tcpd("connection-refused")
                },
            ),
            (
                "Nov  8 15:26:31 linux in.telnetd[812]: refused connect from unknown",
                Expect {
                    host: Some("linux"),
                    program: Some("in.telnetd"),
                    pid: Some(812),
                    ..tcpd("connection-refused")
                },
            ),
            (
                "Nov  8 15:26:31 linux sshd[9]: warning: can't verify hostname: getaddrinfo(x.example, AF_INET) failed",
                Expect {
                    dataset: Some("tcpd"),
                    sdomain: Some("x.example"),
                    host: Some("linux"),
                    program: Some("sshd"),
                    pid: Some(9),
                    ..Expect::default()
                },
            ),
            (
                // A real line (an Ubuntu forum thread): the rule's file and line come first.
                "Nov 22 14:27:55 possum sshd[8839]: warning: /etc/hosts.allow, line 14: can't verify hostname: getaddrinfo(host-62-133-64-14.kpn-gprs.nl, AF_INET) failed",
                Expect {
                    dataset: Some("tcpd"),
                    sdomain: Some("host-62-133-64-14.kpn-gprs.nl"),
                    host: Some("possum"),
                    program: Some("sshd"),
                    pid: Some(8839),
                    ..Expect::default()
                },
            ),
            (
                "Nov  8 15:26:31 linux in.telnetd[9]: warning: host name/address mismatch: 192.0.2.9 != x.example",
                Expect {
                    dataset: Some("tcpd"),
                    src: Some("192.0.2.9"),
                    sdomain: Some("x.example"),
                    host: Some("linux"),
                    program: Some("in.telnetd"),
                    pid: Some(9),
                    ..Expect::default()
                },
            ),
            (
                "Nov  8 15:26:31 linux tcpd[9]: refused connect from 198.51.100.7",
                Expect {
                    src: Some("198.51.100.7"),
                    host: Some("linux"),
                    program: Some("tcpd"),
                    pid: Some(9),
                    ..tcpd("connection-refused")
                },
            ),
        ];
        run(&table, 16);
    }

    #[test]
    fn not_tcpd() {
        for line in [
            "Nov  8 15:26:31 mail postfix/smtpd[77]: connect from unknown[198.51.100.7]",
            "Nov  8 15:26:31 mail postfix/smtpd[77]: disconnect from unknown[198.51.100.7]",
        ] {
            crate::testing::check(
                line,
                &Expect {
                    host: Some(if line.contains("mail") {
                        "mail"
                    } else {
                        "linux"
                    }),
                    program: Some(if line.contains("postfix") {
                        "postfix/smtpd"
                    } else {
                        "in.telnetd"
                    }),
                    pid: Some(if line.contains("postfix") { 77 } else { 812 }),
                    ..Expect::default()
                },
            );
        }
    }

    /// Cut after `from` or blanked: still a refusal, without a peer.
    #[test]
    fn refusal_without_a_peer() {
        for line in [
            "Nov  8 15:26:31 linux in.telnetd[812]: refused connect from",
            "Nov  8 15:26:31 linux in.telnetd[812]: refused connect from xx.xx.xx.xx",
        ] {
            crate::testing::check(
                line,
                &Expect {
                    host: Some("linux"),
                    program: Some("in.telnetd"),
                    pid: Some(812),
                    ..tcpd("connection-refused")
                },
            );
        }
    }

    /// Real lines from public write-ups (libwrap inside sshd, ident user, names).
    #[test]
    fn real_lines() {
        let table = [
            (
                "Dec  24 14:10:29 target in.finger[11244]: refused connect from toad.com ",
                Expect {
                    dataset: Some("tcpd"),
                    action: Some("connection-refused"),
                    sdomain: Some("toad.com"),
                    host: Some("target"),
                    program: Some("in.finger"),
                    pid: Some(11244),
                    ..Expect::default()
                },
            ),
            (
                "Nov 11 23:33:27 Server sshd[5174]: refused connect from _U2FsdGVkX19P3BCJmFBHhjLza8BcMH06WCUVwttMHpE=_@::ffff:218.249.210.161 (::ffff:218.249.210.161)",
                Expect {
                    dataset: Some("tcpd"),
                    action: Some("connection-refused"),
                    src: Some("218.249.210.161"),
                    host: Some("Server"),
                    program: Some("sshd"),
                    pid: Some(5174),
                    user: Some("_U2FsdGVkX19P3BCJmFBHhjLza8BcMH06WCUVwttMHpE=_"),
                    ..Expect::default()
                },
            ),
            (
                "Feb  8 11:18:29 7-web-2 sshd[1811]: refused connect from 192.168.7.201 (192.168.7.201)",
                Expect {
                    dataset: Some("tcpd"),
                    action: Some("connection-refused"),
                    src: Some("192.168.7.201"),
                    host: Some("7-web-2"),
                    program: Some("sshd"),
                    pid: Some(1811),
                    ..Expect::default()
                },
            ),
        ];
        run(&table, 3);
    }
}
