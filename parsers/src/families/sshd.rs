//! OpenSSH server: failed and accepted logins, invalid users, pre-auth disconnects, PAM
//! failures and reverse-mapping warnings.
//!
//! The peer is the address after the *last* `from` that is followed by `port`: user names are
//! attacker input and may themselves contain `from … port …`. Lines of the form
//! `… user NAME ADDR port N` (no `from`) take the address before the last `port`.
//!
//! The pieces of the grammar are nom parsers ([`addr_port`], [`genuine_tail`],
//! [`connection_from`], [`peer_via`], [`reverse_mapping`], [`address_maps`], [`suse_remote`]),
//! behind the cheap dispatch: a first-byte table over the openings and over the other forms.
//! Two readers stay by hand, as nom's own primitives are written: [`peer`], a search over the
//! `from ` of a line for the last one sshd wrote (nom has no backtracking search to express
//! it), and [`pam_rhost`], one pass over the `=` signs (why in its doc).

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::take_while;
use nom::combinator::{eof, map_opt, opt, peek};
use nom::sequence::preceded;

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint};
use crate::header::Header;
use crate::lex::{
    Peer, Res, after, blanks, fail, find, is_redacted, lit, past, rfind, split_word, to_ip,
    to_peer, to_port, token, trim_end,
};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Sshd,
    tags: &[b"sshd", b"sshd-session", b"sshd-auth"],
    owns_tag: true,
    any_program: false,
    parse,
};

/// Message openings and the action each states (matched after an `error: ` or `fatal: `).
const OPENINGS: [(&[u8], Option<Action>); 38] = [
    (b"Failed ", Some(Action::LoginFailed)),
    (b"Invalid user ", Some(Action::LoginFailed)),
    (b"Illegal user ", Some(Action::LoginFailed)),
    (b"invalid user ", Some(Action::LoginFailed)),
    // Summaries of failures sshd logged one by one already (`User root not allowed because
    // account is locked` precedes `Failed … for invalid user root`; the limit and disconnect
    // lines follow the last failure): counted again, one attempt would count twice.
    (b"User ", None),
    (b"maximum authentication attempts exceeded ", None),
    (b"Disconnecting authenticating user ", None),
    (b"Disconnecting invalid user ", Some(Action::LoginFailed)),
    (b"Disconnecting: Too many authentication failures", None),
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
    (b"PAM: authentication failure ", Some(Action::LoginFailed)),
    (b"PAM: Authentication error ", Some(Action::LoginFailed)),
    (b"PAM: authentication error ", Some(Action::LoginFailed)),
    (b"PAM: User not known ", Some(Action::LoginFailed)),
    (b"PAM: unknown user ", Some(Action::LoginFailed)),
    (b"ROOT LOGIN REFUSED FROM ", Some(Action::LoginFailed)),
    (b"Accepted ", Some(Action::LoginSucceeded)),
    (
        b"Did not receive identification string from ",
        Some(Action::ConnectionAttempt),
    ),
    (
        b"Bad protocol version identification ",
        Some(Action::ConnectionAttempt),
    ),
    // OpenSSH 9.8's wording for a bad or missing banner (`… port 47144: invalid format`).
    (
        b"banner exchange: Connection from ",
        Some(Action::ConnectionAttempt),
    ),
    (b"Postponed ", None),
    (b"Connection closed by ", None),
    (b"Connection reset by ", None),
    (b"Disconnected from ", None),
    (b"Received disconnect from ", None),
    (b"Connection from ", None),
    (b"Unable to negotiate with ", None),
    (b"Read error from remote host ", None),
    (b"Timeout before authentication for ", None),
    (b"Timeout, client not responding from ", None),
    (b"Disconnecting: ", None),
    (b"Connection refused by ", None),
];

/// Openings of the summary lines (no action of their own) that still name the account.
const SUMMARIES: [&[u8]; 4] = [
    b"User ",
    b"maximum authentication attempts exceeded ",
    b"Disconnecting authenticating user ",
    b"Disconnecting: Too many authentication failures",
];

/// For each byte, the index of the first opening that starts with it (`OPENINGS.len()` for
/// none): the search below starts there instead of walking the table from its top.
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
const FIRST_OPENING: [u8; 256] = {
    let mut table = [OPENINGS.len() as u8; 256];
    let mut k = OPENINGS.len();
    while k > 0 {
        k -= 1;
        if let Some(b) = OPENINGS[k].0.first() {
            table[*b as usize] = k as u8;
        }
    }
    table
};

/// Openings that name the peer first, right after them.
const DIRECT: [&[u8]; 12] = [
    b"ROOT LOGIN REFUSED FROM ",
    b"Did not receive identification string from ",
    b"Connection closed by ",
    b"Connection reset by ",
    b"Disconnected from ",
    b"Received disconnect from ",
    b"Connection from ",
    b"Unable to negotiate with ",
    b"Read error from remote host ",
    b"Timeout before authentication for ",
    b"Timeout, client not responding from ",
    b"Connection refused by ",
];

/// Reads a peer token (an address, or a host name with a dot), ignoring trailing punctuation.
fn peer_token(tok: &[u8]) -> Option<Endpoint<'_>> {
    let tok = tok
        .strip_suffix(b":")
        .or_else(|| tok.strip_suffix(b","))
        .or_else(|| tok.strip_suffix(b";"))
        .or_else(|| tok.strip_suffix(b"'"))
        .unwrap_or(tok);
    let mut ep = Endpoint::default();
    match to_peer(tok)? {
        Peer::Ip(a) => ep.ip = Some(a),
        Peer::Name(n) if n.contains(&b'.') => ep.domain = Some(n),
        Peer::Name(_) => return None,
    }
    Some(ep)
}

/// `ADDR port N`, after blanks: `198.51.100.7 port 50022`, `host.example.net port 22`.
#[inline]
fn addr_port(i: &[u8]) -> Res<'_, Endpoint<'_>> {
    let (i, tok) = preceded(blanks, token).parse(i)?;
    // `port` first: it rules out most candidates (`from invalid user …`) before the address
    // is read.
    let (i, _) = (blanks, lit(b"port "), blanks).parse(i)?;
    let mut ep = Endpoint::default();
    match to_peer(tok) {
        Some(Peer::Ip(a)) => ep.ip = Some(a),
        Some(Peer::Name(n)) => ep.domain = Some(n),
        // A blanked address (`x.x.x.x port 4242`): no peer, but the port is still the line's.
        None if is_redacted(tok) => {}
        None => return fail(),
    }
    let (i, port) = map_opt(take_while(|b: u8| b.is_ascii_digit()), to_port).parse(i)?;
    ep.port = Some(port);
    Ok((i, ep))
}

/// Whether what follows `from ADDR port N` is how sshd ends that part of a line, rather than
/// more user name: the protocol, then the auth info after `: `, `[preauth]`, `on ADDR`,
/// `rdomain …` or nothing (`ssh2: RSA SHA256:…`, `ssh2 [preauth]`, ``).
fn genuine_tail(rest: &[u8]) -> bool {
    (
        blanks,
        opt(alt((lit(b"ssh2"), lit(b"ssh1")))),
        alt((
            lit(b":"),
            preceded(
                blanks,
                alt((eof, lit(b"[preauth]"), lit(b"on "), lit(b"rdomain"))),
            ),
        )),
    )
        .parse(rest)
        .is_ok()
}

/// The peer: a `from ADDR port N` that sshd wrote (user names are attacker input and may
/// contain `from … port …` themselves; so may the auth info after `ssh2: `), else the last
/// `ADDR port N`; and where it starts.
fn peer(m: &[u8]) -> Option<(Endpoint<'_>, usize)> {
    let mut last = None;
    let mut from = 0;
    while let Some(n) = find(m.get(from..)?, b"from ") {
        let at = from + n;
        from = at + 5;
        let boundary = at == 0 || m.get(at - 1) == Some(&b' ');
        if !boundary {
            continue;
        }
        if let Some((rest, ep)) = m.get(at + 5..).and_then(|r| addr_port(r).ok()) {
            if genuine_tail(rest) {
                return Some((ep, at));
            }
            last = Some((ep, at));
        }
    }
    if last.is_some() {
        return last;
    }
    // `… user root 198.51.100.7 port 1234 [preauth]`
    let mut end = m.len();
    while let Some(at) = rfind(m.get(..end)?, b" port ") {
        let before = trim_end(m.get(..at)?);
        let start = crate::lex::rfind_byte(b' ', before).map_or(0, |n| n + 1);
        if let Ok((_, ep)) = addr_port(m.get(start..)?) {
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

/// PAM's `…; logname= uid=0 euid=0 tty=ssh ruser= rhost=ADDR  user=root` (pam_unix, and
/// `PAM N more authentication failures; …`): `None` without an `rhost=` anywhere, else the
/// event with the values of the first `rhost=` and `user=` that start a word.
///
/// One pass over the `=` signs, where `find` and `lex::value_of` would scan the line three
/// times: `=` is the rarest byte of both keys, so each search stopped at every `=` of the line.
pub(super) fn pam_rhost(m: &[u8]) -> Option<Details<'_>> {
    // A key starts a word: at the start, or after a space, a tab or `(`.
    let word_start = |at: usize| at == 0 || matches!(m.get(at - 1), Some(b' ' | b'\t' | b'('));
    let value = |eq: usize| m.get(eq + 1..).map(|r| split_word(r).0);
    let (mut any_rhost, mut rhost, mut user) = (false, None, None);
    for eq in crate::lex::find_byte3_iter(b'=', b'=', b'=', m) {
        let key = m.get(..eq).unwrap_or_default();
        if key.ends_with(b"rhost") {
            any_rhost = true;
            if rhost.is_none() && word_start(eq - 5) {
                rhost = value(eq);
            }
        } else if user.is_none() && key.ends_with(b"user") && word_start(eq - 4) {
            user = value(eq);
        }
        if rhost.is_some() && user.is_some() {
            break;
        }
    }
    if !any_rhost {
        return None;
    }
    let mut d = Details {
        action: Some(Action::LoginFailed),
        ..Details::default()
    };
    match rhost.and_then(to_peer) {
        Some(Peer::Ip(a)) => d.source.ip = Some(a),
        Some(Peer::Name(n)) => d.source.domain = Some(n),
        None => {}
    }
    d.user = user.filter(|u| !u.is_empty());
    Some(d)
}

/// `reverse mapping checking getaddrinfo for NAME [ADDR] failed - POSSIBLE BREAK-IN ATTEMPT!`:
/// the name and the address tokens.
fn reverse_mapping(i: &[u8]) -> Res<'_, (&[u8], &[u8])> {
    preceded(
        lit(b"reverse mapping checking getaddrinfo for "),
        (token, preceded(blanks, token)),
    )
    .parse(i)
}

/// `Address ADDR maps to NAME, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!`:
/// the address, and the name token if ` maps to ` follows it.
fn address_maps(i: &[u8]) -> Res<'_, (std::net::IpAddr, Option<&[u8]>)> {
    preceded(
        lit(b"Address "),
        (
            map_opt(token, to_ip),
            opt(preceded(lit(b" maps to "), token)),
        ),
    )
    .parse(i)
}

/// SUSE's `SSH: Server;Ltype: Version;Remote: 127.0.0.1-1780;Protocol: 2.0;…`: the remote's
/// `ADDR-PORT`, address and port split at the last `-`.
fn suse_remote(i: &[u8]) -> Res<'_, Endpoint<'_>> {
    let remote = take_while(|b: u8| b != b';');
    // `;Remote: ` may start at the opening's `;`: the opening is only looked at.
    let (i, remote) =
        preceded((peek(lit(b"SSH: Server;")), past(b";Remote: ")), remote).parse(i)?;
    let Some(dash) = crate::lex::rfind_byte(b'-', remote) else {
        return fail();
    };
    let Some(ip) = remote.get(..dash).and_then(to_ip) else {
        return fail();
    };
    let port = remote.get(dash + 1..).and_then(to_port);
    Ok((
        i,
        Endpoint {
            ip: Some(ip),
            port,
            domain: None,
        },
    ))
}

/// `Connection from 198.51.100.7 port 50022 on 192.0.2.10 port 22` (LogLevel VERBOSE): the
/// peer, and the local end when `on` follows.
fn connection_from(i: &[u8]) -> Res<'_, (Endpoint<'_>, Option<Endpoint<'_>>)> {
    preceded(
        lit(b"Connection from "),
        (addr_port, opt(preceded((blanks, lit(b"on ")), addr_port))),
    )
    .parse(i)
}

/// The peer token where no `port` follows it, and the local address after `via`:
/// `198.51.100.7` (`Invalid user oracle from 198.51.100.7`),
/// `205.186.180.88 via 192.168.1.201` (`PAM: authentication failure for james from …`).
fn peer_via(i: &[u8]) -> Res<'_, (&[u8], Option<&[u8]>)> {
    (token, opt(preceded((blanks, lit(b"via "), blanks), token))).parse(i)
}

/// Reads the lines that name the peer outside the common openings.
fn other<'a>(m: &'a [u8], d: &mut Details<'a>) -> Option<()> {
    match m.first() {
        Some(b'r') => {
            let (name, addr) = reverse_mapping(m).ok()?.1;
            if let Some(Peer::Name(n)) = to_peer(name) {
                d.source.domain = Some(n);
            }
            if let Some(Peer::Ip(a)) = to_peer(addr) {
                d.source.ip = Some(a);
            }
            (!d.source.is_empty()).then_some(())
        }
        Some(b'A') => {
            let (ip, name) = address_maps(m).ok()?.1;
            // Without ` maps to ` the line is read as any other sshd line, the address kept.
            d.source.ip = Some(ip);
            let name = name?;
            if let Some(Peer::Name(n)) = to_peer(name.strip_suffix(b",").unwrap_or(name)) {
                d.source.domain = Some(n);
            }
            Some(())
        }
        Some(b'S') => {
            d.source = suse_remote(m).ok()?.1;
            Some(())
        }
        _ => None,
    }
}

/// Bytes that can open a message this parser reads without sshd's tag: the openings, the PAM
/// line (`pam_unix(sshd:auth)`) and the forms of `other` (`reverse …`, `Address …`, `SSH: …`).
// Evaluated at compile time: an index out of range fails the build, never a line.
#[allow(clippy::indexing_slicing)]
pub(super) const UNTAGGED_FIRST: [bool; 256] = {
    let mut table = [false; 256];
    let mut k = 0;
    while k < OPENINGS.len() {
        if let Some(b) = OPENINGS[k].0.first() {
            table[*b as usize] = true;
        }
        k += 1;
    }
    let others = [b'p', b'r', b'A', b'S'];
    let mut k = 0;
    while k < others.len() {
        table[others[k] as usize] = true;
        k += 1;
    }
    table
};

/// Parses an sshd message.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    let mut d = Details::default();
    let body = m
        .strip_prefix(b"error: ")
        .or_else(|| m.strip_prefix(b"fatal: "))
        .unwrap_or(m);
    // Old PAM and the retry summary name no service: only under sshd's own tag.
    let tagged = h
        .program()
        .is_some_and(|p| FAMILY.tags.iter().any(|t| t.eq_ignore_ascii_case(p)));
    // A line without sshd's tag (tried by shape, like every router line) must open with one
    // of the forms read below: one table lookup turns most of them away.
    let opens_a_form = |b: &u8| UNTAGGED_FIRST.get(usize::from(*b)) == Some(&true);
    if !tagged && !body.first().is_some_and(opens_a_form) {
        return None;
    }
    let pam = body.starts_with(b"pam_unix(sshd:auth): authentication failure;")
        // Other PAM modules under sshd's own tag (`pam_sss(sshd:auth)`, `pam_ldap(sshd:auth)`).
        || (tagged
            && body.starts_with(b"pam_")
            && find(body, b":auth): authentication failure;").is_some())
        || (tagged
            && (body.starts_with(b"(pam_unix) authentication failure;")
                || body.starts_with(b"authentication failure; logname=")
                || ((body.starts_with(b"PAM ") || body.first().is_some_and(u8::is_ascii_digit))
                    && find(body, b" more authentication failure").is_some())));
    if pam && let Some(d) = pam_rhost(body) {
        return Some(d);
    }
    // Comparing first bytes before whole openings, from the first opening with this one:
    // 38 memcmp calls cost more than the rest of the parse.
    let first = body.first();
    let start = first.map_or(OPENINGS.len(), |b| {
        FIRST_OPENING
            .get(usize::from(*b))
            .map_or(OPENINGS.len(), |k| usize::from(*k))
    });
    let Some((opening, action)) = OPENINGS
        .get(start..)
        .unwrap_or_default()
        .iter()
        .find(|(o, _)| o.first() == first && body.starts_with(o))
    else {
        if other(body, &mut d).is_some() {
            return Some(d);
        }
        // Any other line of sshd's that names the peer (`Starting session: … from ADDR port N`,
        // `ssh_dispatch_run_fatal: Connection from … ADDR port N: …`,
        // `drop connection #0 from [ADDR]:PORT on …`), but not its own listening address.
        // libwrap inside sshd (`refused connect from …`, `warning: …`) is TCP wrappers'.
        let libwrap = [
            &b"refused connect from "[..],
            b"connect from ",
            b"warning: ",
        ]
        .iter()
        .any(|p| body.starts_with(p));
        if !tagged || libwrap || find(body, b"listening on").is_some() {
            return None;
        }
        if let Some((ep, _)) = peer(body) {
            d.source = ep;
        } else if let Some(at) = find(body, b" from [") {
            let (tok, _) = split_word(body.get(at + b" from ".len()..).unwrap_or_default());
            if let Some((ip, port)) = crate::lex::addr_colon_port(tok, true) {
                d.source.ip = Some(ip);
                d.source.port = port;
            }
        }
        return Some(d);
    };
    if opening.starts_with(b"User ")
        && find(body, b" not allowed because ").is_none()
        && find(body, b" from ").is_none()
    {
        return None;
    }
    d.action = *action;
    // Sun SSH's `User NAME, coming from ADDR,  -  authenticated.` is the login itself.
    if opening.starts_with(b"User ")
        && body.ends_with(b"authenticated.")
        && let Some(at) = find(body, b", coming from ")
    {
        d.action = Some(Action::LoginSucceeded);
        d.user = body.get(opening.len()..at).filter(|u| !u.is_empty());
        let from = body.get(at + b", coming from ".len()..).unwrap_or_default();
        let tok = from
            .split(|b| *b == b',' || *b == b' ')
            .next()
            .unwrap_or_default();
        if let Some(ep) = peer_token(tok) {
            d.source = ep;
        }
        return Some(d);
    }
    if let Ok((_, (src, dst))) = connection_from(body) {
        d.source = src;
        if let Some(dst) = dst {
            d.destination = dst;
        }
        return Some(d);
    }
    let login = matches!(action, Some(Action::LoginFailed | Action::LoginSucceeded))
        || SUMMARIES.contains(opening);
    if let Some((ep, at)) = peer(body) {
        d.source = ep;
        if login {
            d.user = user_before(body, opening, at);
        }
        return Some(d);
    }
    // No `port`: the token right after an opening that names the peer first
    // (`Connection closed by ADDR`, `Unable to negotiate with ADDR: …`), else the one after
    // the last ` from ` (`Invalid user oracle from ADDR`, `PAM: … for NAME from HOST via LOCAL`).
    let (peer_at, user_end) = if DIRECT.contains(opening) {
        (opening.len(), None)
    } else if let Some(at) = rfind(body, b" from ") {
        (at + b" from ".len(), Some(at + 1))
    } else {
        return Some(d);
    };
    let (tok, via) = peer_via(body.get(peer_at..).unwrap_or_default()).ok()?.1;
    if let Some(ep) = peer_token(tok) {
        d.source = ep;
        if let Some(via) = via {
            d.destination.ip = to_ip(via);
        }
    }
    if let Some(end) = user_end
        && login
    {
        d.user = user_before(body, opening, end);
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, check, run};

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
                ssh(None, ip, Some(4242), Some("root")),
            ),
            (
                l(
                    "Disconnecting authenticating user root 198.51.100.7 port 4242: Too many authentication failures [preauth]",
                ),
                ssh(None, ip, Some(4242), Some("root")),
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
                ssh(None, ip, None, Some("root")),
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

    /// PAM's keys count only where they start a word; the first of each is read.
    #[test]
    fn pam_keys() {
        let l = |m: &str| format!("Nov  8 15:26:31 gw sshd[411]: {m}");
        check(
            &l(
                "pam_unix(sshd:auth): authentication failure; ruser=x xrhost=192.0.2.1 rhost=198.51.100.7 user=root user=other rhost=192.0.2.2",
            ),
            &ssh(
                Some("login-failed"),
                Some("198.51.100.7"),
                None,
                Some("root"),
            ),
        );
        check(
            &l(
                "pam_unix(sshd:auth): authentication failure; logname= uid=0 xrhost=192.0.2.1 ruser=root",
            ),
            &ssh(Some("login-failed"), None, None, None),
        );
    }

    /// Real lines (fail2ban, Elastic and Wazuh test logs) that earlier versions misread.
    #[test]
    fn real_lines() {
        let table = [
            (
                "May 29 20:56:52 imago sshd[28732]: error: PAM: Authentication failure for stefanor from example.com",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    sdomain: Some("example.com"),
                    host: Some("imago"),
                    program: Some("sshd"),
                    pid: Some(28732),
                    user: Some("stefanor"),
                    ..Expect::default()
                },
            ),
            (
                "Apr 29 12:53:38 Jamess-iMac.local sshd[47831]: error: PAM: authentication failure for james from 205.186.180.88 via 192.168.1.201",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    src: Some("205.186.180.88"),
                    dst: Some("192.168.1.201"),
                    host: Some("Jamess-iMac.local"),
                    program: Some("sshd"),
                    pid: Some(47831),
                    user: Some("james"),
                    ..Expect::default()
                },
            ),
            (
                "Dec 12 20:04:39 aragorn sshd[1328]: error: PAM: User not known to the underlying authentication module for illegal user kernelitshell from 10.215.4.227 ",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    src: Some("10.215.4.227"),
                    host: Some("aragorn"),
                    program: Some("sshd"),
                    pid: Some(1328),
                    user: Some("kernelitshell"),
                    ..Expect::default()
                },
            ),
            (
                "Jan  5 01:31:41 www sshd[1643]: ROOT LOGIN REFUSED FROM 1.2.3.4 port 12345 [preauth]",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    src: Some("1.2.3.4"),
                    sport: Some(12345),
                    host: Some("www"),
                    program: Some("sshd"),
                    pid: Some(1643),
                    ..Expect::default()
                },
            ),
            (
                "Jan  5 01:31:41 www sshd[1643]: ROOT LOGIN REFUSED FROM ::ffff:1.2.3.4",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    src: Some("1.2.3.4"),
                    host: Some("www"),
                    program: Some("sshd"),
                    pid: Some(1643),
                    ..Expect::default()
                },
            ),
            (
                "Mar  3 00:17:22 [sshd]: User root from 211.188.220.49 not allowed because not listed in AllowUsers",
                Expect {
                    dataset: Some("sshd"),
                    action: None,
                    src: Some("211.188.220.49"),
                    program: Some("sshd"),
                    user: Some("root"),
                    ..Expect::default()
                },
            ),
            (
                "Mar 29 05:59:23 dusky sshd[20878]: [ID 800047 auth.info] Failed keyboard-interactive for <invalid username> from 205.186.180.55 port 42742 ssh2",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    src: Some("205.186.180.55"),
                    sport: Some(42742),
                    host: Some("dusky"),
                    program: Some("sshd"),
                    pid: Some(20878),
                    user: Some("<invalid username>"),
                    ..Expect::default()
                },
            ),
            (
                "Apr 24 01:39:19 host sshd[3719]: error: Received disconnect from 198.51.100.34: 11: Bye Bye [preauth]",
                Expect {
                    dataset: Some("sshd"),
                    src: Some("198.51.100.34"),
                    host: Some("host"),
                    program: Some("sshd"),
                    pid: Some(3719),
                    ..Expect::default()
                },
            ),
            (
                "Jan  2 01:18:41 host sshd[11808]: error: Received disconnect from 10.0.0.1 port 7736:3: com.jcraft.jsch.JSchException: Auth fail [preauth]",
                Expect {
                    dataset: Some("sshd"),
                    src: Some("10.0.0.1"),
                    sport: Some(7736),
                    host: Some("host"),
                    program: Some("sshd"),
                    pid: Some(11808),
                    ..Expect::default()
                },
            ),
            (
                "Sep 29 16:28:05 localhost sshd[16700]: Connection from 192.0.2.5",
                Expect {
                    dataset: Some("sshd"),
                    src: Some("192.0.2.5"),
                    host: Some("localhost"),
                    program: Some("sshd"),
                    pid: Some(16700),
                    ..Expect::default()
                },
            ),
            (
                "Nov 23 21:50:37 sshd[8148]: Connection closed by 61.0.0.1 [preauth]",
                Expect {
                    dataset: Some("sshd"),
                    src: Some("61.0.0.1"),
                    program: Some("sshd"),
                    pid: Some(8148),
                    ..Expect::default()
                },
            ),
            (
                "Nov 28 09:16:05 srv sshd[32310]: Disconnecting: Too many authentication failures for git [preauth]",
                Expect {
                    dataset: Some("sshd"),
                    action: None,
                    host: Some("srv"),
                    program: Some("sshd"),
                    pid: Some(32310),
                    ..Expect::default()
                },
            ),
            (
                "Nov 11 08:04:52 redbamboo sshd[2737]: Failed password for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    src: Some("127.0.0.1"),
                    sport: Some(58946),
                    host: Some("redbamboo"),
                    program: Some("sshd"),
                    pid: Some(2737),
                    user: Some("test from 10.10.1.2 port 55555 ssh2"),
                    ..Expect::default()
                },
            ),
            (
                "Nov 11 08:04:52 redbamboo sshd[2737]: Failed password for invalid user test from 127.0.0.1 port 58946 ssh2: from 10.10.1.2 port 55555 ssh2",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    src: Some("127.0.0.1"),
                    sport: Some(58946),
                    host: Some("redbamboo"),
                    program: Some("sshd"),
                    pid: Some(2737),
                    user: Some("test"),
                    ..Expect::default()
                },
            ),
            (
                "Jun 7 01:11:58 host sshd[8783]: Bad protocol version identification 'dummy string' from 192.0.2.1' from 69.61.56.115 port 31778",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("connection-attempt"),
                    src: Some("69.61.56.115"),
                    sport: Some(31778),
                    host: Some("host"),
                    program: Some("sshd"),
                    pid: Some(8783),
                    ..Expect::default()
                },
            ),
            (
                "Nov 24 23:46:39 host sshd[32686]: SSH: Server;Ltype: Version;Remote: 127.0.0.1-1780;Protocol: 2.0;Client: libssh2_1.4.3",
                Expect {
                    dataset: Some("sshd"),
                    src: Some("127.0.0.1"),
                    sport: Some(1780),
                    host: Some("host"),
                    program: Some("sshd"),
                    pid: Some(32686),
                    ..Expect::default()
                },
            ),
            (
                "Nov 26 13:03:29 srv sshd[45]: Unable to negotiate with 192.0.2.1 port 55419: no matching cipher found. Their offer: aes256-cbc,rijndael-cbc@lysator.liu.se,aes192-cbc,aes128-cbc,arcfour128,arcfour,3des-cbc,none [preauth]",
                Expect {
                    dataset: Some("sshd"),
                    src: Some("192.0.2.1"),
                    sport: Some(55419),
                    host: Some("srv"),
                    program: Some("sshd"),
                    pid: Some(45),
                    ..Expect::default()
                },
            ),
            (
                "Sep 16 05:46:56 junction sshd[1961]: fatal: Unable to negotiate with 108.229.36.174: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1,diffie-hellman-group-exchange-sha1 [preauth]",
                Expect {
                    dataset: Some("sshd"),
                    src: Some("108.229.36.174"),
                    host: Some("junction"),
                    program: Some("sshd"),
                    pid: Some(1961),
                    ..Expect::default()
                },
            ),
            (
                "2013-10-30T14:51:21.901728+01:00 srv sshd[12664]: Postponed keyboard-interactive for invalid user warez from 192.241.237.101 port 54197 ssh2 [preauth]",
                Expect {
                    dataset: Some("sshd"),
                    src: Some("192.241.237.101"),
                    sport: Some(54197),
                    host: Some("srv"),
                    program: Some("sshd"),
                    pid: Some(12664),
                    ..Expect::default()
                },
            ),
            (
                "Feb 22 16:45:26 slave22 sshd[2738]: PAM 4 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=202.109.143.106  user=root",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    src: Some("202.109.143.106"),
                    host: Some("slave22"),
                    program: Some("sshd"),
                    pid: Some(2738),
                    user: Some("root"),
                    ..Expect::default()
                },
            ),
            (
                "May 12 09:47:54 vaio sshd[16004]: (pam_unix) authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=71-13-115-12.static.mdsn.wi.charter.com  user=root",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    sdomain: Some("71-13-115-12.static.mdsn.wi.charter.com"),
                    host: Some("vaio"),
                    program: Some("sshd"),
                    pid: Some(16004),
                    user: Some("root"),
                    ..Expect::default()
                },
            ),
            (
                "Feb 10 23:21:05 someserver sshd[1234]: Read error from remote host 192.168.1.1: Connection reset by peer",
                Expect {
                    dataset: Some("sshd"),
                    src: Some("192.168.1.1"),
                    host: Some("someserver"),
                    program: Some("sshd"),
                    pid: Some(1234),
                    ..Expect::default()
                },
            ),
            (
                // A log parser's tests (its author's server): OpenSSH 9.8's sshd-session.
                "May 29 15:21:53 gr auth.info sshd-session[25292]: banner exchange: Connection from 20.64.105.146 port 47144: invalid format",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("connection-attempt"),
                    src: Some("20.64.105.146"),
                    sport: Some(47144),
                    host: Some("gr"),
                    program: Some("sshd-session"),
                    pid: Some(25292),
                    ..Expect::default()
                },
            ),
            (
                // ossec-docs' sshd samples: Sun SSH logs the login as `User …, coming from …`.
                "May 21 20:22:28 sol2 sshd[23857]: [ID 702911 auth.notice] User test1, coming from 192.168.2.185,  -  authenticated.",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-succeeded"),
                    src: Some("192.168.2.185"),
                    host: Some("sol2"),
                    program: Some("sshd"),
                    pid: Some(23857),
                    user: Some("test1"),
                    ..Expect::default()
                },
            ),
            (
                "Apr 24 01:39:19 host sshd[3719]: User root not allowed because account is locked",
                Expect {
                    dataset: Some("sshd"),
                    action: None,
                    host: Some("host"),
                    program: Some("sshd"),
                    pid: Some(3719),
                    ..Expect::default()
                },
            ),
            (
                "Jun 15 02:04:59 combo sshd(pam_unix)[20882]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=220-135-151-1.hinet-ip.hinet.net  user=root",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    sdomain: Some("220-135-151-1.hinet-ip.hinet.net"),
                    host: Some("combo"),
                    program: Some("sshd(pam_unix)"),
                    pid: Some(20882),
                    user: Some("root"),
                    ..Expect::default()
                },
            ),
            (
                "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    src: Some("218.188.2.4"),
                    host: Some("combo"),
                    program: Some("sshd(pam_unix)"),
                    pid: Some(19939),
                    ..Expect::default()
                },
            ),
            (
                "Dec 10 08:39:59 LabSZ sshd[24408]: message repeated 5 times: [ Failed password for root from 106.5.5.195 port 50719 ssh2]",
                Expect {
                    dataset: Some("sshd"),
                    action: Some("login-failed"),
                    src: Some("106.5.5.195"),
                    sport: Some(50719),
                    host: Some("LabSZ"),
                    program: Some("sshd"),
                    pid: Some(24408),
                    user: Some("root"),
                    ..Expect::default()
                },
            ),
        ];
        run(&table, 26);
    }
}
