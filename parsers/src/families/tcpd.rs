//! TCP wrappers (libwrap/tcpd), logged under the wrapped daemon's name:
//! `refused connect from PEER`, `connect from PEER`, where PEER is an address, a host name,
//! `user@host` from ident, or `name (address)` (libwrap inside sshd); and the two warnings
//! that name a peer (`can't verify hostname`, `host name/address mismatch`).

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint};
use crate::header::Header;
use crate::lex::{Peer, after, split_word, to_ip, to_peer};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Tcpd,
    tags: &[b"tcpd"],
    owns_tag: true,
    any_program: true,
    parse,
};

/// Reads `PEER [(ADDR)]` into the source endpoint and ident user.
fn peer(i: &[u8]) -> Option<(Endpoint<'_>, Option<&[u8]>)> {
    let (tok, rest) = split_word(i);
    // postfix and others write `name[addr]`: not a TCP wrappers line.
    if tok.contains(&b'[') {
        return None;
    }
    let (user, host) = match memchr::memrchr(b'@', tok) {
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
        None if host.eq_ignore_ascii_case(b"unknown") => {}
        None => return None,
    }
    let rest = crate::lex::skip_spaces(rest);
    if let Some(inner) = rest.strip_prefix(b"(") {
        let (tok, _) = split_word(inner);
        if let Some(a) = tok.strip_suffix(b")").and_then(to_ip) {
            ep.ip = Some(a);
        }
    }
    Some((ep, user))
}

/// The two libwrap warnings that name a peer.
fn warning(m: &[u8]) -> Option<Details<'_>> {
    if let Some(r) = m.strip_prefix(b"warning: can't verify hostname: getaddrinfo(") {
        let end = memchr::memchr2(b',', b')', r)?;
        let name = r.get(..end)?;
        let mut d = Details::default();
        match to_peer(name)? {
            Peer::Ip(a) => d.source.ip = Some(a),
            Peer::Name(n) => d.source.domain = Some(n),
        }
        return Some(d);
    }
    // libwrap writes the mismatch right after `warning: `, so that is tried before a search
    // (the needle starts with `h`, which `warning: ` lacks: no match straddles the prefix).
    const MISMATCH: &[u8] = b"host name/address mismatch: ";
    let w = m.strip_prefix(b"warning: ")?;
    let r = after(w, MISMATCH)?;
    let (addr, rest) = split_word(r);
    let mut d = Details::default();
    d.source.ip = Some(to_ip(addr)?);
    let rest = crate::lex::skip_spaces(rest);
    let (name, _) = split_word(crate::lex::skip_spaces(
        rest.strip_prefix(b"!=").unwrap_or(rest),
    ));
    if let Some(Peer::Name(n)) = to_peer(name) {
        d.source.domain = Some(n);
    }
    Some(d)
}

/// Parses a TCP wrappers message.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    // This runs on every line whatever its tag: the forms start with distinct bytes, so one
    // byte picks the only comparison worth making and turns most lines away.
    let (action, rest) = match m.first() {
        Some(b'r') => (
            Some(Action::ConnectionRefused),
            m.strip_prefix(b"refused connect from ")?,
        ),
        Some(b'c') => (
            Some(Action::ConnectionAccepted),
            m.strip_prefix(b"connect from ")?,
        ),
        Some(b'w') => return warning(m),
        _ => return None,
    };
    let (source, user) = peer(crate::lex::skip_spaces(rest))?;
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
        run(&table, 15);
    }

    #[test]
    fn not_tcpd() {
        for line in [
            "Nov  8 15:26:31 mail postfix/smtpd[77]: connect from unknown[198.51.100.7]",
            "Nov  8 15:26:31 mail postfix/smtpd[77]: disconnect from unknown[198.51.100.7]",
            "Nov  8 15:26:31 linux in.telnetd[812]: refused connect from",
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
