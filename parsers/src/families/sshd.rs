//! OpenSSH server: failed and accepted logins, invalid users, pre-auth disconnects, PAM
//! failures and reverse-mapping warnings.
//!
//! The peer is the address after the *last* `from` that is followed by `port`: user names are
//! attacker input and may themselves contain `from … port …`. Lines of the form
//! `… user NAME ADDR port N` (no `from`) take the address before the last `port`.

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint};
use crate::header::Header;
use crate::lex::{
    Peer, after, find, rfind, skip_spaces, split_word, to_peer, to_port, trim_end, value_of,
};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Sshd,
    tags: &[b"sshd", b"sshd-session", b"sshd-auth"],
    owns_tag: true,
    parse,
};

/// Message openings and the action each states.
const OPENINGS: [(&[u8], Option<Action>); 24] = [
    (b"Failed ", Some(Action::LoginFailed)),
    (b"Invalid user ", Some(Action::LoginFailed)),
    (b"Illegal user ", Some(Action::LoginFailed)),
    (b"invalid user ", Some(Action::LoginFailed)),
    (b"User ", Some(Action::LoginFailed)),
    (
        b"error: maximum authentication attempts exceeded ",
        Some(Action::LoginFailed),
    ),
    (
        b"maximum authentication attempts exceeded ",
        Some(Action::LoginFailed),
    ),
    (
        b"Disconnecting authenticating user ",
        Some(Action::LoginFailed),
    ),
    (b"Disconnecting invalid user ", Some(Action::LoginFailed)),
    (
        b"Connection closed by authenticating user ",
        Some(Action::LoginFailed),
    ),
    (
        b"Connection closed by invalid user ",
        Some(Action::LoginFailed),
    ),
    (
        b"Disconnected from authenticating user ",
        Some(Action::LoginFailed),
    ),
    (
        b"Disconnected from invalid user ",
        Some(Action::LoginFailed),
    ),
    (
        b"Connection reset by authenticating user ",
        Some(Action::LoginFailed),
    ),
    (
        b"Connection reset by invalid user ",
        Some(Action::LoginFailed),
    ),
    (b"PAM: Authentication failure ", Some(Action::LoginFailed)),
    (
        b"error: PAM: Authentication failure ",
        Some(Action::LoginFailed),
    ),
    (
        b"pam_unix(sshd:auth): authentication failure;",
        Some(Action::LoginFailed),
    ),
    (b"Accepted ", Some(Action::LoginSucceeded)),
    (
        b"Did not receive identification string from ",
        Some(Action::ConnectionAttempt),
    ),
    (b"Connection closed by ", None),
    (b"Connection reset by ", None),
    (b"Disconnected from ", None),
    (b"Received disconnect from ", None),
];

/// `ADDR port N` at the start of `i`.
fn addr_port(i: &[u8]) -> Option<(Endpoint<'_>, &[u8])> {
    let (tok, rest) = split_word(skip_spaces(i));
    let mut ep = Endpoint::default();
    match to_peer(tok)? {
        Peer::Ip(a) => ep.ip = Some(a),
        Peer::Name(n) => ep.domain = Some(n),
    }
    let rest = skip_spaces(rest);
    if let Some(r) = rest.strip_prefix(b"port ") {
        let (p, r) = split_word(skip_spaces(r));
        let p = p
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(p, |n| &p[..n]);
        ep.port = Some(to_port(p)?);
        return Some((ep, r));
    }
    None
}

/// The peer: the last `from ADDR port N`, else the last `ADDR port N`; and where it starts.
fn peer(m: &[u8]) -> Option<(Endpoint<'_>, usize)> {
    let mut end = m.len();
    while let Some(at) = rfind(m.get(..end)?, b"from ") {
        let boundary = at == 0 || m.get(at - 1) == Some(&b' ');
        if boundary && let Some((ep, _)) = addr_port(m.get(at + 5..)?) {
            return Some((ep, at));
        }
        end = at;
    }
    // `… user root 198.51.100.7 port 1234 [preauth]`
    let mut end = m.len();
    while let Some(at) = rfind(m.get(..end)?, b" port ") {
        let before = trim_end(m.get(..at)?);
        let start = memchr::memrchr(b' ', before).map_or(0, |n| n + 1);
        if let Some((ep, _)) = addr_port(m.get(start..)?) {
            return Some((ep, start));
        }
        end = at;
    }
    None
}

/// The account name between an opening and the peer (`for invalid user NAME from`).
fn user_before<'a>(m: &'a [u8], opening: &[u8], peer_at: usize) -> Option<&'a [u8]> {
    let mut u = m.get(..peer_at)?;
    u = u.get(opening.len().min(u.len())..)?;
    if let Some(r) = u.strip_prefix(b"for ").or_else(|| after(u, b" for ")) {
        u = r;
    }
    for p in [
        &b"invalid user "[..],
        b"illegal user ",
        b"authenticating user ",
        b"user ",
    ] {
        if let Some(r) = u.strip_prefix(p) {
            u = r;
        }
    }
    let u = trim_end(u);
    let u = u.strip_suffix(b" from").unwrap_or(u);
    (!u.is_empty() && u.len() <= 256).then_some(u)
}

/// Parses an sshd message.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    let mut d = Details::default();
    if let Some((opening, action)) = OPENINGS.iter().find(|(o, _)| m.starts_with(o)) {
        if opening.starts_with(b"pam_unix")
            || opening.starts_with(b"PAM")
            || opening.starts_with(b"error: PAM")
        {
            // `…; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.7  user=root`
            d.action = *action;
            let rhost = value_of(m, b"rhost=")?;
            match to_peer(rhost) {
                Some(Peer::Ip(a)) => d.source.ip = Some(a),
                Some(Peer::Name(n)) => d.source.domain = Some(n),
                None => {}
            }
            d.user = value_of(m, b"user=").filter(|u| !u.is_empty());
            if d.user.is_none() {
                d.user = after(m, b"failure for ").map(|r| split_word(r).0);
            }
            return Some(d);
        }
        if opening.starts_with(b"User ") && find(m, b" not allowed because ").is_none() {
            return None;
        }
        let Some((ep, at)) = peer(m) else {
            // `Invalid user oracle from 198.51.100.7` (older, no port).
            let r = after(m, b" from ")?;
            let (tok, _) = split_word(r);
            match to_peer(tok)? {
                Peer::Ip(a) => d.source.ip = Some(a),
                Peer::Name(n) => d.source.domain = Some(n),
            }
            d.action = *action;
            let at = rfind(m, b" from ")?;
            d.user = user_before(m, opening, at + 1);
            return Some(d);
        };
        d.action = *action;
        d.source = ep;
        if action.is_some() {
            d.user = user_before(m, opening, at);
        }
        return Some(d);
    }
    if let Some(r) = m.strip_prefix(b"reverse mapping checking getaddrinfo for ") {
        // `… for NAME [ADDR] failed - POSSIBLE BREAK-IN ATTEMPT!`
        let (name, r) = split_word(r);
        let (addr, _) = split_word(skip_spaces(r));
        if let Some(Peer::Name(n)) = to_peer(name) {
            d.source.domain = Some(n);
        }
        if let Some(Peer::Ip(a)) = to_peer(addr) {
            d.source.ip = Some(a);
        }
        return (!d.source.is_empty()).then_some(d);
    }
    if let Some(r) = m.strip_prefix(b"Address ") {
        // `Address ADDR maps to NAME, but this does not map back to the address …`
        let (addr, r) = split_word(r);
        d.source.ip = Some(crate::lex::to_ip(addr)?);
        let r = r.strip_prefix(b" maps to ")?;
        let (name, _) = split_word(r);
        if let Some(Peer::Name(n)) = to_peer(name.strip_suffix(b",").unwrap_or(name)) {
            d.source.domain = Some(n);
        }
        return Some(d);
    }
    if let Some(r) = m.strip_prefix(b"Connection from ") {
        // `Connection from ADDR port N on ADDR port N` (LogLevel VERBOSE)
        let (src, r) = addr_port(r)?;
        d.source = src;
        if let Some(r) = skip_spaces(r).strip_prefix(b"on ")
            && let Some((dst, _)) = addr_port(r)
        {
            d.destination = dst;
        }
        return Some(d);
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::families::testing::{Expect, check, run};

    fn ssh(
        action: Option<&'static str>,
        src: Option<&'static str>,
        sport: Option<u16>,
        user: Option<&'static str>,
    ) -> Expect {
        Expect {
            dataset: Some("sshd"),
            action,
            src,
            sport,
            user,
            host: Some("gw"),
            program: Some("sshd"),
            pid: Some(411),
            ..Expect::default()
        }
    }

    #[test]
    fn variants() {
        let l = |m: &str| format!("Nov  8 15:26:31 gw sshd[411]: {m}");
        let ip = Some("198.51.100.7");
        let failed = Some("login-failed");
        let rows = [
            (
                l("Failed password for invalid user admin from 198.51.100.7 port 4242 ssh2"),
                ssh(failed, ip, Some(4242), Some("admin")),
            ),
            (
                l("Failed password for root from 2001:db8::7 port 50022 ssh2"),
                ssh(failed, Some("2001:db8::7"), Some(50022), Some("root")),
            ),
            (
                l("Invalid user oracle from 198.51.100.7 port 51234"),
                ssh(failed, ip, Some(51234), Some("oracle")),
            ),
            (
                l("Invalid user oracle from 198.51.100.7"),
                ssh(failed, ip, None, Some("oracle")),
            ),
            (
                l("Connection closed by authenticating user root 198.51.100.7 port 1234 [preauth]"),
                ssh(failed, ip, Some(1234), Some("root")),
            ),
            (
                l(
                    "Failed password for invalid user x from 1.1.1.1 port 22 from 198.51.100.7 port 4242 ssh2",
                ),
                ssh(failed, ip, Some(4242), Some("x from 1.1.1.1 port 22")),
            ),
            (
                l("Failed publickey for root from 198.51.100.7 port 4242 ssh2: RSA SHA256:abc"),
                ssh(failed, ip, Some(4242), Some("root")),
            ),
            (
                l("Failed none for invalid user guest from 198.51.100.7 port 4242 ssh2"),
                ssh(failed, ip, Some(4242), Some("guest")),
            ),
            (
                l("Failed keyboard-interactive/pam for root from 198.51.100.7 port 4242 ssh2"),
                ssh(failed, ip, Some(4242), Some("root")),
            ),
            (
                l("Accepted publickey for bob from 198.51.100.7 port 4242 ssh2: ED25519 SHA256:x"),
                ssh(Some("login-succeeded"), ip, Some(4242), Some("bob")),
            ),
            (
                l("Accepted password for bob from 198.51.100.7 port 4242 ssh2"),
                ssh(Some("login-succeeded"), ip, Some(4242), Some("bob")),
            ),
            (
                l(
                    "error: maximum authentication attempts exceeded for root from 198.51.100.7 port 4242 ssh2 [preauth]",
                ),
                ssh(failed, ip, Some(4242), Some("root")),
            ),
            (
                l(
                    "Disconnecting authenticating user root 198.51.100.7 port 4242: Too many authentication failures [preauth]",
                ),
                ssh(failed, ip, Some(4242), Some("root")),
            ),
            (
                l("Disconnected from invalid user admin 198.51.100.7 port 4242 [preauth]"),
                ssh(failed, ip, Some(4242), Some("admin")),
            ),
            (
                l("Connection closed by 198.51.100.7 port 4242 [preauth]"),
                ssh(None, ip, Some(4242), None),
            ),
            (
                l("Received disconnect from 198.51.100.7 port 4242:11: Bye Bye [preauth]"),
                ssh(None, ip, Some(4242), None),
            ),
            (
                l("Did not receive identification string from 198.51.100.7 port 4242"),
                ssh(Some("connection-attempt"), ip, Some(4242), None),
            ),
            (
                l(
                    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.7  user=root",
                ),
                ssh(failed, ip, None, Some("root")),
            ),
            (
                l("User root from 198.51.100.7 not allowed because not listed in AllowUsers"),
                ssh(failed, ip, None, Some("root")),
            ),
            (
                l("Failed password for root from attacker.example.net port 4242 ssh2"),
                Expect {
                    sdomain: Some("attacker.example.net"),
                    ..ssh(failed, None, Some(4242), Some("root"))
                },
            ),
            (
                l("Failed password for invalid user  from 198.51.100.7 port 4242 ssh2"),
                ssh(failed, ip, Some(4242), None),
            ),
            (
                l("Failed password for root from ::ffff:198.51.100.7 port 4242 ssh2"),
                ssh(failed, ip, Some(4242), Some("root")),
            ),
        ];
        let table: Vec<(&str, Expect)> = rows.iter().map(|(l, e)| (l.as_str(), *e)).collect();
        run(&table, 15);
    }

    #[test]
    fn header_forms_and_chatter() {
        let want = ssh(
            Some("login-failed"),
            Some("198.51.100.7"),
            Some(4242),
            Some("root"),
        );
        check(
            "<38>1 2026-11-08T15:26:31Z gw sshd 411 - - Failed password for root from 198.51.100.7 port 4242 ssh2",
            &want,
        );
        check(
            "Nov  8 15:26:31 gw sshd[411]: message repeated 2 times: [ Failed password for root from 198.51.100.7 port 4242 ssh2]",
            &want,
        );
        check(
            "Nov  8 15:26:31 gw sshd[411]: Server listening on 0.0.0.0 port 22.",
            &ssh(None, None, None, None),
        );
        check(
            "Nov  8 15:26:31 gw sshd[411]: Connection from 198.51.100.7 port 4242 on 192.0.2.10 port 22 rdomain \"\"",
            &Expect {
                dst: Some("192.0.2.10"),
                dport: Some(22),
                ..ssh(None, Some("198.51.100.7"), Some(4242), None)
            },
        );
        check(
            "Nov  8 15:26:31 gw sshd[411]: reverse mapping checking getaddrinfo for x.example [198.51.100.7] failed - POSSIBLE BREAK-IN ATTEMPT!",
            &Expect {
                sdomain: Some("x.example"),
                ..ssh(None, Some("198.51.100.7"), None, None)
            },
        );
        check(
            "Nov  8 15:26:31 gw sshd[411]: Address 198.51.100.7 maps to x.example, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!",
            &Expect {
                sdomain: Some("x.example"),
                ..ssh(None, Some("198.51.100.7"), None, None)
            },
        );
    }
}
