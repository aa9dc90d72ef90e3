//! PAM's `authentication failure; logname= uid=0 euid=0 tty=… ruser=… rhost=PEER  user=USER`
//! under any daemon's tag (`pam_unix(vsftpd:auth):`, `(pam_unix)`, `pop(pam_unix)[pid]:`,
//! `pam_sss(dovecot:auth):`). sshd's own lines stay sshd's (that family reads them first). A
//! failure without a remote host (`rhost=` empty: `su`, `sudo` at a terminal) names no peer
//! and is left to the plain syslog dataset.

use super::Family;
use super::sshd::pam_rhost;
use crate::event::{Dataset, Details};
use crate::header::Header;
use crate::lex::find;

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Pam,
    tags: &[],
    owns_tag: false,
    any_program: true,
    parse,
};

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
    find(
        m.get(..m.len().min(72)).unwrap_or(m),
        b"authentication failure",
    )?;
    let d = pam_rhost(m)?;
    (d.source.ip.is_some() || d.source.domain.is_some()).then_some(d)
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
            ],
            5,
        );
    }
}
