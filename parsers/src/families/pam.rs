//! PAM's `authentication failure; logname= uid=0 euid=0 tty=… ruser=… rhost=PEER  user=USER`
//! under any daemon's tag (`pam_unix(vsftpd:auth):`, `(pam_unix)`, `pop(pam_unix)[pid]:`,
//! `pam_sss(dovecot:auth):`). sshd's own lines stay sshd's (that family reads them first). A
//! failure without a remote host (`rhost=` empty: `su`, `sudo` at a terminal) names no peer
//! and is left to the plain syslog dataset; a blanked-out `rhost=` or a line cut before it keeps
//! the failure without an address.

use super::Family;
use super::sshd::pam_rhost;
use crate::event::{Action, Dataset, Details};
use crate::header::Header;
use crate::lex::{after, find, skip_spaces, split_word};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Pam,
    tags: &[],
    owns_tag: false,
    any_program: true,
    parse,
};

/// Whether `authentication failure` opens within the message's first 72 bytes. A forum's
/// doubled space between the words (`authentication  failure`) still names it.
fn names_failure(m: &[u8]) -> bool {
    const WORD: &[u8] = b"authentication ";
    let window = m.get(..m.len().min(72)).unwrap_or(m);
    let mut from = 0;
    while let Some(at) = window.get(from..).and_then(|w| find(w, WORD)) {
        let end = from + at + WORD.len();
        if skip_spaces(m.get(end..).unwrap_or_default()).starts_with(b"failure") {
            return true;
        }
        from = end;
    }
    false
}

/// Parses a PAM authentication failure.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    // Every form opens with `pam_…`, `(pam_unix)`, dovecot's `auth: pam_…` or the failure itself
    // (`pop(pam_unix)[1]:`): prefix tests turn the other lines away before any search.
    if !(m.starts_with(b"pam_")
        || m.starts_with(b"(pam_")
        || m.starts_with(b"auth: pam_")
        || m.starts_with(b"authentication failure;"))
    {
        return None;
    }
    // The failure is the message's subject, not text quoted further on.
    if !names_failure(m) {
        return None;
    }
    match pam_rhost(m) {
        Some(d) if d.source.ip.is_some() || d.source.domain.is_some() => Some(d),
        // `rhost=XX.XXX.XX.XXX`: a remote host was named but blanked out before the line was
        // shared; the failure stands, without an address. An empty `rhost=` is a terminal's.
        Some(d) => after(m, b" rhost=")
            .is_some_and(|v| !split_word(v).0.is_empty())
            .then_some(d),
        // No `rhost=` at all: pam_unix always writes one, so the line was cut before it (a
        // terminal's width, a paste); the failure is still read.
        None => Some(Details {
            action: Some(Action::LoginFailed),
            ..Details::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, run};

    /// Real lines: fail2ban's pam-generic, vsftpd and dovecot test logs.
    #[test]
    fn failures_under_any_tag() {
        let pam = Expect {
            dataset: Some("pam"),
            action: Some("login-failed"),
            ..Expect::default()
        };
        run(
            &[
                (
                    "Feb  7 15:10:42 example pure-ftpd: (pam_unix) authentication failure; logname= uid=0 euid=0 tty=pure-ftpd ruser=sample-user rhost=192.168.1.1 ",
                    Expect {
                        src: Some("192.168.1.1"),
                        host: Some("example"),
                        program: Some("pure-ftpd"),
                        ..pam
                    },
                ),
                (
                    "Nov 25 17:12:13 webmail pop(pam_unix)[4920]: authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=192.168.10.3 user=mailuser",
                    Expect {
                        src: Some("192.168.10.3"),
                        host: Some("webmail"),
                        program: Some("pop(pam_unix)"),
                        pid: Some(4920),
                        user: Some("mailuser"),
                        ..pam
                    },
                ),
                (
                    "Jul 19 18:11:26 srv2 vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=an8767 rhost=www3.google.com",
                    Expect {
                        sdomain: Some("www3.google.com"),
                        host: Some("srv2"),
                        program: Some("vsftpd"),
                        ..pam
                    },
                ),
                (
                    "Apr 19 05:22:20 vm5 auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=informix rhost=80.255.3.104",
                    Expect {
                        src: Some("80.255.3.104"),
                        host: Some("vm5"),
                        program: Some("auth"),
                        ..pam
                    },
                ),
                (
                    "Feb 24 00:12:20 precise32 sudo: pam_unix(sudo:auth): authentication failure; logname=vagrant uid=1001 euid=0 tty=/dev/pts/1 ruser=tsg rhost=  user=tsg",
                    Expect {
                        host: Some("precise32"),
                        program: Some("sudo"),
                        ..Expect::default()
                    },
                ),
                (
                    // A fail2ban issue: the remote host blanked out before the line was shared.
                    "Jan  1 21:52:28 server1 auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=no@account.com rhost=XX.XXX.XX.XXX  user=no@account.com",
                    Expect {
                        host: Some("server1"),
                        program: Some("auth"),
                        user: Some("no@account.com"),
                        ..pam
                    },
                ),
                (
                    // A journal line cut at the terminal's width, before `rhost=`.
                    "Jul 12 12:31:11 server vsftpd[155725]: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=global >",
                    Expect {
                        host: Some("server"),
                        program: Some("vsftpd"),
                        pid: Some(155725),
                        ..pam
                    },
                ),
                (
                    // An Ubuntu Forums post (round 11): the forum doubled the space between the
                    // words, and after the day.
                    "Jul  13 19:57:56 thinkpad vsftpd: pam_unix(vsftpd:auth): authentication  failure; logname= uid=0 euid=0 tty=ftp ruser=cc rhost=192.168.1.106 ",
                    Expect {
                        src: Some("192.168.1.106"),
                        host: Some("thinkpad"),
                        program: Some("vsftpd"),
                        ..pam
                    },
                ),
            ],
            6,
        );
    }
}
