//! FTP daemons' connections and logins: BSD ftpd and wu-ftpd (`connection from NAME (ADDR)`,
//! Linux ftpd's `connection from ADDR (NAME) at …`, `failed login from NAME [ADDR]`,
//! `FTP LOGIN FAILED FROM NAME [ADDR], USER`, `FTP LOGIN FROM NAME [ADDR], USER`,
//! `FTP LOGIN REFUSED …`, Solaris' `repeated login failures from NAME`, macOS Server's
//! `Failed authentication from: NAME [ADDR]`), vsftpd in syslog and in its own `vsftpd.log`
//! (`[pid 2412] [USER] FAIL LOGIN: Client "ADDR"`, `OK LOGIN`, `CONNECT`), proftpd
//! (`SERVER (NAME[ADDR]) - USER admin: no such user found …`, `… (Login failed): …`) and
//! pure-ftpd (`(?@ADDR) [WARNING] Authentication failed for user [admin]`).

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint};
use crate::header::Header;
use crate::lex::{
    Peer, addr_colon_port, after, find, position, rfind, rposition, skip_spaces, split_word,
    to_peer, to_port,
};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Ftpd,
    tags: &[
        b"ftpd",
        b"in.ftpd",
        b"wu-ftpd",
        b"wu.ftpd",
        b"vsftpd",
        b"proftpd",
        b"pure-ftpd",
        b"ftp",
    ],
    owns_tag: false,
    any_program: false,
    parse,
};

/// A token as a peer endpoint (address or name), or nothing for `unknown`/redacted.
fn peer(tok: &[u8]) -> Endpoint<'_> {
    let mut ep = Endpoint::default();
    match to_peer(tok) {
        Some(Peer::Ip(a)) => ep.ip = Some(a),
        Some(Peer::Name(n)) => ep.domain = Some(n),
        None => {}
    }
    ep
}

/// `NAME [ADDR]` or `NAME (ADDR)` or `ADDR (NAME)` after a `from`.
fn name_and_addr(i: &[u8]) -> Endpoint<'_> {
    let (first, rest) = split_word(skip_spaces(i));
    let first = first.strip_suffix(b",").unwrap_or(first);
    let mut ep = peer(first);
    let (second, _) = split_word(skip_spaces(rest));
    let second = second.strip_suffix(b",").unwrap_or(second);
    let inner = second
        .strip_prefix(b"[")
        .and_then(|s| s.strip_suffix(b"]"))
        .or_else(|| second.strip_prefix(b"(").and_then(|s| s.strip_suffix(b")")));
    if let Some(inner) = inner {
        let other = peer(inner);
        if other.ip.is_some() {
            ep.ip = other.ip;
        } else if ep.domain.is_none() {
            ep.domain = other.domain;
        }
    }
    ep
}

/// The user after `FTP LOGIN … [ADDR], USER`.
fn user_after_comma(i: &[u8]) -> Option<&[u8]> {
    let at = position(i, b',')?;
    let u = split_word(skip_spaces(i.get(at + 1..)?)).0;
    (!u.is_empty()).then_some(u)
}

/// BSD ftpd and wu-ftpd.
fn bsd(m: &[u8]) -> Option<Details<'_>> {
    let (action, rest) = if let Some(r) = m.strip_prefix(b"connection from ") {
        (Some(Action::ConnectionAccepted), r)
    } else if let Some(r) = m.strip_prefix(b"failed login from ") {
        (Some(Action::LoginFailed), r)
    } else if let Some(r) = m.strip_prefix(b"FTP LOGIN FAILED FROM ") {
        (Some(Action::LoginFailed), r)
    } else if let Some(r) = m.strip_prefix(b"FTP LOGIN REFUSED ") {
        (Some(Action::LoginFailed), after(r, b"FROM ")?)
    } else if let Some(r) = m.strip_prefix(b"FTP LOGIN FROM ") {
        (Some(Action::LoginSucceeded), r)
    } else if let Some(r) = m.strip_prefix(b"ANONYMOUS FTP LOGIN FROM ") {
        (Some(Action::LoginSucceeded), r)
    } else if let Some(r) = m.strip_prefix(b"repeated login failures from ") {
        // Solaris and HP-UX ftpd.
        (Some(Action::LoginFailed), r)
    } else if let Some(r) = m.strip_prefix(b"Failed authentication from:") {
        // macOS Server's ftpd: `from: NAME [ADDR]`, or `from: [ENCODED-USER] @ ADDR [ADDR]`.
        let r = skip_spaces(r);
        let r = match r.strip_prefix(b"[") {
            Some(inner) => after(inner, b"] @ ").unwrap_or(inner),
            None => r,
        };
        (Some(Action::LoginFailed), r)
    } else {
        return None;
    };
    let source = name_and_addr(rest);
    // `FROM NAME [ADDR], USER` (wu-ftpd) or `FROM NAME as USER (class: …)` (BSD ftpd).
    let user = if !(m.starts_with(b"FTP") || m.starts_with(b"ANON")) {
        None
    } else if let Some(r) = after(rest, b" as ") {
        Some(split_word(r).0).filter(|u| !u.is_empty())
    } else {
        user_after_comma(rest)
    };
    Some(Details {
        action,
        source,
        user,
        ..Details::default()
    })
}

/// vsftpd: `[pid N] [USER] FAIL LOGIN: Client "ADDR"` (in syslog the `[pid N]` is absent).
fn vsftpd(m: &[u8]) -> Option<Details<'_>> {
    let c = find(m, b": Client \"")?;
    let head = m.get(..c)?;
    let addr = m.get(c + 10..)?;
    let addr = addr.get(..position(addr, b'"')?)?;
    let action = if head.ends_with(b"FAIL LOGIN") {
        Some(Action::LoginFailed)
    } else if head.ends_with(b"OK LOGIN") {
        Some(Action::LoginSucceeded)
    } else if head.ends_with(b"CONNECT") {
        Some(Action::ConnectionAccepted)
    } else {
        None
    };
    // The user is the last `[…]` before the verb (not `[pid N]`).
    let user = rposition(head, b']').and_then(|close| {
        let open = rposition(head.get(..close)?, b'[')?;
        let u = head.get(open + 1..close)?;
        (!u.starts_with(b"pid ") && !u.is_empty()).then_some(u)
    });
    Some(Details {
        action,
        source: peer(addr),
        user,
        ..Details::default()
    })
}

/// proftpd: `SERVER (NAME[ADDR]) - MESSAGE` or `SERVER (NAME[ADDR]): MESSAGE`.
fn proftpd(m: &[u8]) -> Option<Details<'_>> {
    let open = find(m, b" (")?;
    let inner = m.get(open + 2..)?;
    let close = find(inner, b"])")?;
    let peer_part = inner.get(..close)?;
    let lb = position(peer_part, b'[')?;
    // The brackets hold the address; anything else there (`aa.bb.vv.dd`) was blanked out, and
    // so, then, was the name before it.
    let mut source = Endpoint {
        ip: peer_part.get(lb + 1..).and_then(crate::lex::to_ip),
        ..Endpoint::default()
    };
    if source.ip.is_some()
        && let Some(Peer::Name(n)) = peer_part.get(..lb).and_then(to_peer)
    {
        source.domain = Some(n);
    }
    let msg = inner.get(close + 2..)?;
    let msg = msg
        .strip_prefix(b":")
        .or_else(|| skip_spaces(msg).strip_prefix(b"-"))
        .unwrap_or(msg);
    let msg = skip_spaces(msg);
    let failed = [
        &b"(Login failed)"[..],
        b"no such user found",
        // `no such user 'guest'`, logged before the `USER guest: no such user found` line.
        b"no such user '",
        b"Maximum login attempts",
        b"SECURITY VIOLATION",
        b"Incorrect password",
    ]
    .iter()
    .any(|n| find(msg, n).is_some());
    let action = if failed {
        Some(Action::LoginFailed)
    } else if msg.starts_with(b"Connection from ") && find(msg, b" denied").is_some() {
        Some(Action::ConnectionRefused)
    } else if find(msg, b"Login successful").is_some() {
        Some(Action::LoginSucceeded)
    } else if find(msg, b"FTP session opened").is_some() {
        Some(Action::ConnectionAccepted)
    } else {
        None
    };
    let user = msg.strip_prefix(b"USER ").map(|u| {
        let end = u
            .iter()
            .position(|b| matches!(b, b':' | b' '))
            .unwrap_or(u.len());
        u.get(..end).unwrap_or_default()
    });
    let mut d = Details {
        action,
        source,
        user: user.filter(|u| !u.is_empty()),
        ..Details::default()
    };
    // `… found from ADDR [ADDR] to ADDR:PORT`: the server's end.
    if let Some(to) = rfind(msg, b" to ") {
        let (tok, _) = split_word(msg.get(to + 4..).unwrap_or_default());
        if let Some((a, p)) = addr_colon_port(tok, true) {
            d.destination.ip = Some(a);
            d.destination.port = p;
        } else if let Some(c) = rposition(tok, b':') {
            // `to proftpd.example.net:21`: a server name; its port still stands.
            d.destination.port = tok.get(c + 1..).and_then(to_port);
        }
    }
    Some(d)
}

/// pure-ftpd: `(USER@HOST) [LEVEL] MESSAGE`.
fn pure_ftpd(m: &[u8]) -> Option<Details<'_>> {
    let inner = m.strip_prefix(b"(")?;
    let close = position(inner, b')')?;
    let who = inner.get(..close)?;
    let at = rposition(who, b'@')?;
    let user = who.get(..at).filter(|u| *u != b"?" && !u.is_empty());
    let source = peer(who.get(at + 1..)?);
    let msg = skip_spaces(inner.get(close + 1..)?);
    let action = if find(msg, b"Authentication failed").is_some() {
        Some(Action::LoginFailed)
    } else if find(msg, b"is now logged in").is_some()
        || find(msg, b"successfully authenticated").is_some()
    {
        Some(Action::LoginSucceeded)
    } else if find(msg, b"New connection from").is_some() {
        Some(Action::ConnectionAccepted)
    } else {
        None
    };
    let named = after(msg, b"for user [").and_then(|u| u.get(..position(u, b']')?));
    Some(Details {
        action,
        source,
        user: named.or(user),
        ..Details::default()
    })
}

/// Parses an FTP daemon line.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    if m.first() == Some(&b'(') {
        return pure_ftpd(m);
    }
    // proftpd's shape (`SERVER (NAME[ADDR])`) is too loose to try under another tag.
    let proftpd_tag = h
        .program()
        .is_some_and(|p| p.eq_ignore_ascii_case(b"proftpd"));
    bsd(m)
        .or_else(|| vsftpd(m))
        .or_else(|| proftpd_tag.then(|| proftpd(m)).flatten())
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, run};

    #[test]
    fn vsftpd_log_without_syslog_header() {
        run(
            &[(
                "Fri Jan 19 12:20:33 2007 [pid 27202] [anonymous] FAIL LOGIN: Client \"64.106.46.98\"",
                Expect {
                    dataset: Some("ftpd"),
                    action: Some("login-failed"),
                    src: Some("64.106.46.98"),
                    user: Some("anonymous"),
                    ..Expect::default()
                },
            )],
            1,
        );
    }

    /// Real lines: fail2ban's wuftpd, vsftpd, proftpd test logs, Loghub Linux_2k.
    #[test]
    fn daemons() {
        let ftp = |action| Expect {
            dataset: Some("ftpd"),
            action,
            ..Expect::default()
        };
        run(
            &[
                (
                    "Oct  6 09:59:26 myserver wu-ftpd[18760]: failed login from hj-145-173-a8.bta.net.cn [202.108.145.173]",
                    Expect {
                        src: Some("202.108.145.173"),
                        sdomain: Some("hj-145-173-a8.bta.net.cn"),
                        host: Some("myserver"),
                        program: Some("wu-ftpd"),
                        pid: Some(18760),
                        ..ftp(Some("login-failed"))
                    },
                ),
                (
                    // ossec-docs' Solaris and macOS Server ftpd samples.
                    "Jun  2 16:44:05 sol2 ftpd[28662]: repeated login failures from spongebob.lab.ossec.net",
                    Expect {
                        sdomain: Some("spongebob.lab.ossec.net"),
                        host: Some("sol2"),
                        program: Some("ftpd"),
                        pid: Some(28662),
                        ..ftp(Some("login-failed"))
                    },
                ),
                (
                    "Jun 20 09:00:42 File-Server ftpd[65613]: Failed authentication from: [U2FsdGVkX18af1PrJ6KSUhskC8ikccfvTqyjjJI/qtk=] @ 58.211.16.202 [58.211.16.202] ",
                    Expect {
                        src: Some("58.211.16.202"),
                        host: Some("File-Server"),
                        program: Some("ftpd"),
                        pid: Some(65613),
                        ..ftp(Some("login-failed"))
                    },
                ),
                (
                    "Jun 25 10:24:25 File-Server ftpd[29871]: Failed authentication from:   1.Red-88-2-137.staticIP.rima-tde.net [88.2.137.1]",
                    Expect {
                        src: Some("88.2.137.1"),
                        sdomain: Some("1.Red-88-2-137.staticIP.rima-tde.net"),
                        host: Some("File-Server"),
                        program: Some("ftpd"),
                        pid: Some(29871),
                        ..ftp(Some("login-failed"))
                    },
                ),
                (
                    // proftpd's first word on an unknown user, and a server named by name.
                    "Jul 14 04:44:46 opala proftpd[30814] opala.xxxxxx.edu.br (sieapp.ufpel.edu.br[200.17.161.73]): no such user 'guest'",
                    Expect {
                        src: Some("200.17.161.73"),
                        sdomain: Some("sieapp.ufpel.edu.br"),
                        host: Some("opala"),
                        program: Some("proftpd"),
                        pid: Some(30814),
                        ..ftp(Some("login-failed"))
                    },
                ),
                (
                    "May 21 20:21:21 slacker proftpd[31806] proftpd.lab.ossec.net (190.48.150.156[190.48.150.156]): USER abad: no such user found from 190.48.150.156 [190.48.150.156] to proftpd.lab.ossec.net:21",
                    Expect {
                        src: Some("190.48.150.156"),
                        dport: Some(21),
                        host: Some("slacker"),
                        program: Some("proftpd"),
                        pid: Some(31806),
                        user: Some("abad"),
                        ..ftp(Some("login-failed"))
                    },
                ),
                (
                    "Jun 17 07:07:00 combo ftpd[29504]: connection from 24.54.76.216 (24-54-76-216.bflony.adelphia.net) at Fri Jun 17 07:07:00 2005 ",
                    Expect {
                        src: Some("24.54.76.216"),
                        sdomain: Some("24-54-76-216.bflony.adelphia.net"),
                        host: Some("combo"),
                        program: Some("ftpd"),
                        pid: Some(29504),
                        ..ftp(Some("connection-accepted"))
                    },
                ),
                (
                    "2025-03-04T01:06:36.645577 ip-172-31-3-150.ap-southeast-2.compute.internal vsftpd[1658]: [username] FAIL LOGIN: Client \"192.0.2.222\"",
                    Expect {
                        src: Some("192.0.2.222"),
                        host: Some("ip-172-31-3-150.ap-southeast-2.compute.internal"),
                        program: Some("vsftpd"),
                        pid: Some(1658),
                        user: Some("username"),
                        ..ftp(Some("login-failed"))
                    },
                ),
                (
                    "Jun 09 07:30:58 platypus.ace-hosting.com.au proftpd[11864] platypus.ace-hosting.com.au (mail.bloodymonster.net[::ffff:67.227.224.66]): USER username (Login failed): Incorrect password.",
                    Expect {
                        src: Some("67.227.224.66"),
                        sdomain: Some("mail.bloodymonster.net"),
                        host: Some("platypus.ace-hosting.com.au"),
                        program: Some("proftpd"),
                        pid: Some(11864),
                        user: Some("username"),
                        ..ftp(Some("login-failed"))
                    },
                ),
                (
                    "Jun 14 00:09:59 platypus.ace-hosting.com.au proftpd[17839] platypus.ace-hosting.com.au (::ffff:59.167.242.100[::ffff:59.167.242.100]): USER platypus.ace-hosting.com.au proftpd[17424] platypus.ace-hosting.com.au (hihoinjection[1.2.3.44]): no such user found from ::ffff:59.167.242.100 [::ffff:59.167.242.100] to ::ffff:113.212.99.194:21",
                    Expect {
                        src: Some("59.167.242.100"),
                        dst: Some("113.212.99.194"),
                        dport: Some(21),
                        host: Some("platypus.ace-hosting.com.au"),
                        program: Some("proftpd"),
                        pid: Some(17839),
                        user: Some("platypus.ace-hosting.com.au"),
                        ..ftp(Some("login-failed"))
                    },
                ),
                (
                    "Mar  3 10:00:00 ftp pure-ftpd: (?@198.51.100.7) [WARNING] Authentication failed for user [admin]",
                    Expect {
                        src: Some("198.51.100.7"),
                        host: Some("ftp"),
                        program: Some("pure-ftpd"),
                        user: Some("admin"),
                        ..ftp(Some("login-failed"))
                    },
                ),
            ],
            6,
        );
    }
}
