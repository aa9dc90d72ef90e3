//! Mail servers' authentication failures, the brute-force target beside sshd:
//! postfix `warning: NAME[ADDR]: SASL LOGIN authentication failed: …`; dovecot's login
//! processes `imap-login: Disconnected (auth failed, 3 attempts …): user=<…>, method=PLAIN,
//! rip=ADDR, lip=ADDR` (and `Aborted login`, `Login:`), its auth workers
//! `auth-worker(default): pam(USER,ADDR): pam_authenticate() failed: …` and
//! `passwd-file(USER,ADDR): unknown user`. The tag may be the process (`imap-login`), dovecot's
//! own, or none (a daemontools `@4000…` stamp opens the line).

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint};
use crate::header::Header;
use crate::lex::{
    Peer, after, find, find_anchored, find_byte3_iter, position, rposition, to_ip, to_peer,
    trim_end,
};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::MailAuth,
    tags: &[
        b"smtpd",
        b"dovecot",
        b"imap-login",
        b"pop3-login",
        b"submission-login",
        b"managesieve-login",
        b"auth",
        b"auth-worker",
        b"dovecot-auth",
    ],
    owns_tag: false,
    any_program: false,
    parse,
};

/// `NAME[ADDR]` (postfix's peer): the name unless `unknown`, and the address.
fn name_addr(tok: &[u8]) -> Option<Endpoint<'_>> {
    let tok = tok.strip_suffix(b":").unwrap_or(tok);
    let inner = tok.strip_suffix(b"]")?;
    let open = rposition(inner, b'[')?;
    let name = inner.get(..open)?;
    let mut ep = Endpoint {
        ip: inner.get(open + 1..).and_then(to_ip),
        ..Endpoint::default()
    };
    if let Some(Peer::Name(n)) = to_peer(name) {
        ep.domain = Some(n);
    }
    Some(ep)
}

/// The value of `key=` up to the next comma or space.
fn field<'a>(m: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut from = 0;
    while let Some(at) = find(m.get(from..)?, key) {
        let start = from + at;
        if start == 0 || matches!(m.get(start - 1), Some(b' ' | b'(' | b',')) {
            let v = m.get(start + key.len()..)?;
            let end = v
                .iter()
                .position(|b| matches!(b, b',' | b' ' | b')'))
                .unwrap_or(v.len());
            return v.get(..end);
        }
        from = start + key.len();
    }
    None
}

/// Whether `m` holds `rip=` or `-login: Login: user=` (a dovecot login line), told at each
/// `=`: one pass, where a search for each stopped at every `=` of a dovecot line.
fn says_login(m: &[u8]) -> bool {
    find_byte3_iter(b'=', b'=', b'=', m).any(|p| {
        (p >= 3 && m.get(p - 3..p) == Some(b"rip"))
            || (p >= 19 && m.get(p - 19..p) == Some(b"-login: Login: user"))
    })
}

/// Whether `m` holds `pam_authenticate() failed`, `unknown user` or `Password mismatch` (a
/// dovecot auth worker's failure), told at each `_`, `k` and `P` (each needle's rarest byte)
/// in one pass, where the three searches cost three.
fn says_auth_failure(m: &[u8]) -> bool {
    find_byte3_iter(b'_', b'k', b'P', m).any(|p| match m.get(p) {
        Some(b'_') => p >= 3 && m.get(p - 3..p + 22) == Some(b"pam_authenticate() failed"),
        Some(b'k') => p >= 2 && m.get(p - 2..p + 10) == Some(b"unknown user"),
        _ => m.get(p..p + 17) == Some(b"Password mismatch"),
    })
}

/// postfix's SASL failure.
fn postfix(m: &[u8]) -> Option<Details<'_>> {
    let w = after(m, b"warning: ")?;
    let sasl = find(w, b": SASL ")?;
    let tail = w.get(sasl..)?;
    find(tail, b" authentication failed")?;
    let peer = w.get(..sasl)?;
    // Older postfix wrote the client's address alone (`warning: 80.110.174.199: SASL …`).
    let source = name_addr(peer).or_else(|| {
        to_ip(peer).map(|ip| Endpoint {
            ip: Some(ip),
            ..Endpoint::default()
        })
    })?;
    // A lost connection to the auth server is the server's fault, not a failed login.
    let server = find(tail, b"Connection lost to authentication server").is_some();
    Some(Details {
        action: (!server).then_some(Action::LoginFailed),
        source,
        ..Details::default()
    })
}

/// dovecot 1.x' `Aborted login (N authentication attempts)`: a client that tried N > 0 times
/// and left without logging in, which later versions write `(auth failed, N attempts)`.
fn tried_and_left(m: &[u8]) -> bool {
    let Some(at) = find(m, b" authentication attempts)") else {
        return false;
    };
    let before = m.get(..at).unwrap_or_default();
    let n = before
        .get(rposition(before, b'(').map_or(0, |p| p + 1)..)
        .unwrap_or_default();
    !n.is_empty() && n.iter().all(u8::is_ascii_digit) && n.iter().any(|d| *d != b'0')
}

/// dovecot's login processes: `rip=`, `lip=`, `user=<…>` and the outcome in parentheses.
fn dovecot_login(m: &[u8]) -> Option<Details<'_>> {
    let mut d = Details::default();
    d.source.ip = field(m, b"rip=").and_then(to_ip);
    d.destination.ip = field(m, b"lip=").and_then(to_ip);
    d.user = field(m, b"user=<")
        .map(|u| u.strip_suffix(b">").unwrap_or(u))
        .filter(|u| !u.is_empty());
    d.action = if find(m, b"auth failed").is_some()
        // `tried to use disabled plaintext auth` (dovecot 2.2), `… disallowed …` (2.3).
        || find(m, b"tried to use dis").is_some()
        || find(m, b"Password mismatch").is_some()
        || tried_and_left(m)
    {
        Some(Action::LoginFailed)
    } else if find(m, b"Login: ").is_some() {
        Some(Action::LoginSucceeded)
    } else {
        None
    };
    Some(d)
}

/// dovecot's auth workers: `pam(USER,ADDR): pam_authenticate() failed`, `passwd-file(USER,ADDR):
/// unknown user`, `…(USER,ADDR): Password mismatch`.
fn dovecot_auth(m: &[u8]) -> Option<Details<'_>> {
    // The first `(USER,ADDR): ` (`auth(default): ` before it names no peer).
    let mut from = 0;
    let (close, args, ip) = loop {
        let close = from + find(m.get(from..)?, b"): ")?;
        from = close + 3;
        let inner = m.get(..close)?;
        let Some(open) = rposition(inner, b'(') else {
            continue;
        };
        // `(USER,ADDR)`, and since dovecot 2.3 `(USER,ADDR,<SESSION>)`.
        let args = inner.get(open + 1..)?;
        let mut parts = args.split(|b| *b == b',');
        let (Some(user), Some(addr)) = (parts.next(), parts.next()) else {
            continue;
        };
        if let Some(ip) = to_ip(addr) {
            break (close, user, ip);
        }
    };
    let what = m.get(close + 3..)?;
    let failed = find(what, b"failed").is_some()
        || find(what, b"unknown user").is_some()
        || find(what, b"mismatch").is_some();
    let user = Some(trim_end(args)).filter(|u| !u.is_empty());
    Some(Details {
        action: failed.then_some(Action::LoginFailed),
        source: Endpoint {
            ip: Some(ip),
            ..Endpoint::default()
        },
        user: user.filter(|u| position(u, b'(').is_none()),
        ..Details::default()
    })
}

/// Parses a postfix or dovecot authentication line.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    // Every form comes under a program (postfix's, dovecot's or its process'; a daemontools
    // label or a level word before it is read by the header): lines without one, which reach
    // this by shape, are turned away before any search.
    h.program()?;
    let m = h.message;
    // Each test below is one pass where the searches it stands for were several: dovecot's
    // other lines (`Disconnected: Logged out in=… out=…`) ran seven, and cost 1,150
    // instructions each in this parser (callgrind).
    //
    // postfix's failure has `: SASL ` after its `warning: `: without one anywhere, `postfix`
    // cannot read the line (scanned for the `S`, rare in mail logs, not the `:`).
    if find_anchored(m, b": SASL ", 2).is_some()
        && let Some(d) = postfix(m)
    {
        return Some(d);
    }
    // A login line damaged before `rip=` (a forum paste) is still a login.
    if says_login(m) {
        return dovecot_login(m);
    }
    if says_auth_failure(m) {
        return dovecot_auth(m);
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, run};

    proptest::proptest! {
        #[test]
        fn one_pass_tests_agree_with_the_searches(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    &b"un"[..], b"known user", b"unknown user", b"u", b"n", b"k", b" ", b"x",
                    b"pam_authenticate() failed", b"pam_", b"_", b"P", b"Password mismatch",
                    b"rip=", b"rip", b"=", b"-login: Login: user=", b"-login: Login: user",
                ]),
                0..12,
            ),
        ) {
            use crate::lex::find;
            let soup = parts.concat();
            proptest::prop_assert_eq!(
                super::says_auth_failure(&soup),
                find(&soup, b"pam_authenticate() failed").is_some()
                    || find(&soup, b"unknown user").is_some()
                    || find(&soup, b"Password mismatch").is_some()
            );
            proptest::prop_assert_eq!(
                super::says_login(&soup),
                find(&soup, b"rip=").is_some() || find(&soup, b"-login: Login: user=").is_some()
            );
        }
    }

    /// Real lines: fail2ban's postfix-sasl and dovecot test logs.
    #[test]
    fn failures() {
        let mail = |action| Expect {
            dataset: Some("mail_auth"),
            action,
            ..Expect::default()
        };
        run(
            &[
                (
                    "Dec  2 22:24:22 hel postfix/smtpd[7676]: warning: 114-44-142-233.dynamic.hinet.net[114.44.142.233]: SASL CRAM-MD5 authentication failed: PDc3OTEwNTkyNTEyMzA2NDIuMTIyODI1MzA2MUBoZWw+",
                    Expect {
                        src: Some("114.44.142.233"),
                        sdomain: Some("114-44-142-233.dynamic.hinet.net"),
                        host: Some("hel"),
                        program: Some("postfix/smtpd"),
                        pid: Some(7676),
                        ..mail(Some("login-failed"))
                    },
                ),
                (
                    "Sep  6 00:44:56 trianon postfix/submission/smtpd[11538]: warning: unknown[82.221.106.233]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
                    Expect {
                        src: Some("82.221.106.233"),
                        host: Some("trianon"),
                        program: Some("postfix/submission/smtpd"),
                        pid: Some(11538),
                        ..mail(Some("login-failed"))
                    },
                ),
                (
                    "Feb  3 08:29:28 mail postfix/smtpd[21022]: warning: unknown[1.1.1.1]: SASL LOGIN authentication failed: Connection lost to authentication server",
                    Expect {
                        src: Some("1.1.1.1"),
                        host: Some("mail"),
                        program: Some("postfix/smtpd"),
                        pid: Some(21022),
                        ..mail(None)
                    },
                ),
                (
                    "Jun 13 16:30:54 platypus dovecot: imap-login: Disconnected (auth failed, 2 attempts): user=<username.bob>, method=PLAIN, rip=49.176.98.87, lip=113.212.99.194, TLS",
                    Expect {
                        src: Some("49.176.98.87"),
                        dst: Some("113.212.99.194"),
                        host: Some("platypus"),
                        program: Some("dovecot"),
                        user: Some("username.bob"),
                        ..mail(Some("login-failed"))
                    },
                ),
                (
                    "@400000004c91b044077a9e94 imap-login: Info: Aborted login (auth failed, 1 attempts): user=<martin@waschbuesch.de>, method=CRAM-MD5, rip=80.187.101.33, lip=80.254.129.240, TLS",
                    Expect {
                        src: Some("80.187.101.33"),
                        dst: Some("80.254.129.240"),
                        program: Some("imap-login"),
                        user: Some("martin@waschbuesch.de"),
                        ..mail(Some("login-failed"))
                    },
                ),
                (
                    "Jun 13 20:48:11 platypus dovecot: pop3-login: Disconnected (no auth attempts): rip=121.44.24.254, lip=113.212.99.194, TLS: Disconnected",
                    Expect {
                        src: Some("121.44.24.254"),
                        dst: Some("113.212.99.194"),
                        host: Some("platypus"),
                        program: Some("dovecot"),
                        ..mail(None)
                    },
                ),
                (
                    "Dec 12 11:19:11 dunnart dovecot: pop3-login: Aborted login (tried to use disallowed plaintext auth): rip=190.210.136.21, lip=113.212.99.193, session=<LgDINsQCkttVIMPg>",
                    Expect {
                        src: Some("190.210.136.21"),
                        dst: Some("113.212.99.193"),
                        host: Some("dunnart"),
                        program: Some("dovecot"),
                        ..mail(Some("login-failed"))
                    },
                ),
                (
                    // An Ubuntu forum post: older postfix names the client by its address alone.
                    "Feb 10 10:47:19 mydomain postfix/smtpd[5865]: warning: 80.110.174.199: SASL PLAIN authentication failed: authentication failure",
                    Expect {
                        src: Some("80.110.174.199"),
                        host: Some("mydomain"),
                        program: Some("postfix/smtpd"),
                        pid: Some(5865),
                        ..mail(Some("login-failed"))
                    },
                ),
                (
                    // A forum paste that mangled the addresses: the login stands.
                    "May  4 21:20:20 mail dovecot: pop3-login: Login: user=mail@host.com <q72.223, lip=545.254.93.23, mpid=22675, session=<QEgl42drXABpvUjf>",
                    Expect {
                        host: Some("mail"),
                        program: Some("dovecot"),
                        ..mail(Some("login-succeeded"))
                    },
                ),
                (
                    // ossec-docs' dovecot 1.0 samples: one attempt, then the client left.
                    "Oct 19 14:16:55 host dovecot: pop3-login: Aborted login (1 authentication attempts): user=<uuuuu>, method=PLAIN, rip=192.0.2.7, lip=198.51.100.2, TLS",
                    Expect {
                        src: Some("192.0.2.7"),
                        dst: Some("198.51.100.2"),
                        host: Some("host"),
                        program: Some("dovecot"),
                        user: Some("uuuuu"),
                        ..mail(Some("login-failed"))
                    },
                ),
                (
                    "Oct 19 14:17:22 host dovecot: imap-login: Aborted login (0 authentication attempts): rip=192.0.2.7, lip=198.51.100.2, TLS",
                    Expect {
                        src: Some("192.0.2.7"),
                        dst: Some("198.51.100.2"),
                        host: Some("host"),
                        program: Some("dovecot"),
                        ..mail(None)
                    },
                ),
                (
                    "2013-08-11 03:56:40 auth-worker(default): Info: pam(username,1.2.3.4): pam_authenticate() failed: Authentication failure (password mismatch?)",
                    Expect {
                        src: Some("1.2.3.4"),
                        program: Some("auth-worker(default)"),
                        user: Some("username"),
                        ..mail(Some("login-failed"))
                    },
                ),
            ],
            7,
        );
    }
}
