//! Cisco IOS login enhancements: `%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin]
//! [Source: 198.51.100.7] [localport: 22] [Reason: …] at …`, `%SEC_LOGIN-5-LOGIN_SUCCESS:
//! Login Success [user: …] [Source: …] [localport: …] at …`, and the quiet-mode lines
//! (`%SEC_LOGIN-1-QUIET_MODE_ON: … [user: …] [Source: …] …`), which name the last source
//! but state no login outcome of their own.

use super::Family;
use super::cisco_acl::cisco_message;
use crate::event::{Action, Dataset, Details};
use crate::header::Header;
use crate::lex::{Peer, after, position, to_peer, to_port};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::CiscoLogin,
    tags: &[],
    owns_tag: false,
    // IOS sends these without a program; trying them under every program's tag would cost
    // a scan for `%` on every line no family claims.
    any_program: false,
    parse,
};

/// The value of `[KEY VALUE]` (KEY with its colon), up to the bracket.
fn bracket<'a>(body: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let v = after(body, key)?;
    let v = v.strip_prefix(b" ").unwrap_or(v);
    let v = v.get(..position(v, b']')?)?;
    (!v.is_empty()).then_some(v)
}

/// Parses a `%SEC_LOGIN` line.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let (mnemonic, body) = cisco_message(h.message, b"SEC_LOGIN")?;
    let mut d = Details {
        code: Some(mnemonic),
        action: match mnemonic {
            b"LOGIN_FAILED" => Some(Action::LoginFailed),
            b"LOGIN_SUCCESS" => Some(Action::LoginSucceeded),
            _ => None,
        },
        ..Details::default()
    };
    d.user = bracket(body, b"[user:");
    // A console login names no peer: `[Source: LOCAL] [localport: 0]`.
    match bracket(body, b"[Source:")
        .filter(|s| *s != b"LOCAL")
        .and_then(to_peer)
    {
        Some(Peer::Ip(a)) => d.source.ip = Some(a),
        Some(Peer::Name(n)) => d.source.domain = Some(n),
        None => {}
    }
    d.destination.port = bracket(body, b"[localport:").and_then(to_port);
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, run};

    #[test]
    fn logins() {
        let login = |action| Expect {
            dataset: Some("cisco_login"),
            action,
            ..Expect::default()
        };
        run(
            &[
                (
                    // elastic/integrations cisco_ios test log (quoted in the old negative corpus)
                    "Mar 24 18:06:03 192.168.100.2 1991219: Mar 24 18:06:03.424 UTC: %SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: john.smith] [Source: 10.2.55.3] [localport: 22] at 12:06:03 MST Wed Mar 24 2021",
                    Expect {
                        src: Some("10.2.55.3"),
                        dport: Some(22),
                        host: Some("192.168.100.2"),
                        user: Some("john.smith"),
                        ..login(Some("login-succeeded"))
                    },
                ),
                (
                    "Mar  1 00:01:02 rtr %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] [Source: 198.51.100.7] [localport: 22] [Reason: Login Authentication Failed] at 00:01:02 UTC Mon Mar 1 2021",
                    Expect {
                        src: Some("198.51.100.7"),
                        dport: Some(22),
                        host: Some("rtr"),
                        user: Some("admin"),
                        ..login(Some("login-failed"))
                    },
                ),
                (
                    "Mar  1 00:01:02 rtr %SEC_LOGIN-1-QUIET_MODE_ON: Still timeleft for watching failures is 112 secs, [user: admin] [Source: 198.51.100.7] [localport: 22] [Reason: Login Authentication Failed] [ACL: sl_def_acl] at 00:01:02 UTC Mon Mar 1 2021",
                    Expect {
                        src: Some("198.51.100.7"),
                        dport: Some(22),
                        host: Some("rtr"),
                        user: Some("admin"),
                        ..login(None)
                    },
                ),
                // Redacted source: no address, the rest stays.
                (
                    "Mar  1 00:01:02 rtr %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] [Source: x.x.x.x] [localport: 23] [Reason: Login Authentication Failed]",
                    Expect {
                        dport: Some(23),
                        host: Some("rtr"),
                        user: Some("admin"),
                        ..login(Some("login-failed"))
                    },
                ),
            ],
            4,
        );
    }

    /// A router lab's console login (a real line): `LOCAL` is no peer.
    #[test]
    fn a_console_login_names_no_peer() {
        run(
            &[(
                "*Aug 24 13:20:50.848: %SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: fieldtech] [Source: LOCAL] [localport: 0] at 13:20:50 UTC Mon Aug 24 2026",
                Expect {
                    dataset: Some("cisco_login"),
                    action: Some("login-succeeded"),
                    dport: Some(0),
                    user: Some("fieldtech"),
                    ..Expect::default()
                },
            )],
            1,
        );
    }
}
