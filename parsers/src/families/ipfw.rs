//! FreeBSD and older macOS ipfw rule logs (`net.inet.ip.fw.verbose`):
//! `ipfw: 100 Deny TCP 198.51.100.7:3527 192.0.2.10:23 in via em0`, `ipfw: 65000 Accept UDP …`,
//! ICMP as `ICMP:8.0 a b`, actions `Deny`, `Reset`, `Unreach …`, `Accept`, `Count`, `Divert …`,
//! `Forward …`. The line comes under `ipfw` or `kernel` (then the message opens `ipfw: `).
//! macOS' `Stealth Mode connection attempt …` is log_in_vain's (that family reads it).

use super::Family;
use crate::event::{Action, Dataset, Details, Transport};
use crate::header::Header;
use crate::lex::{addr_colon_port, position, skip_spaces, split_word, to_u32};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Ipfw,
    // Its lines come under `ipfw` or `kernel` (`kernel: ipfw: …`; Mac OS X Server 10.3's
    // kernel logs as `mach_kernel`): tried by tag, and by shape only for lines without a program.
    tags: &[b"ipfw", b"kernel", b"mach_kernel"],
    owns_tag: false,
    any_program: false,
    parse,
};

/// The action word and how many words it takes (`Unreach host`, `Divert 8668`, `Forward to a`).
fn action(word: &[u8]) -> Option<(Option<Action>, usize)> {
    Some(match word {
        b"Deny" | b"Reset" | b"Reject" => (Some(Action::AclDenied), 0),
        b"Unreach" | b"Unreach6" => (Some(Action::AclDenied), 1),
        b"Accept" | b"Allow" | b"Pass" => (Some(Action::AclPermitted), 0),
        b"Count" | b"Skipto" | b"Tee" | b"Divert" => (None, usize::from(word != b"Count")),
        b"Forward" | b"Fwd" => (None, 1),
        _ => return None,
    })
}

/// Parses an ipfw rule log line.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    let m = match m.strip_prefix(b"ipfw: ") {
        Some(r) => skip_spaces(r),
        None if h.program().is_some_and(|p| p.eq_ignore_ascii_case(b"ipfw")) => m,
        None => return None,
    };
    let (rule, rest) = split_word(m);
    to_u32(rule)?;
    let (word, mut rest) = split_word(skip_spaces(rest));
    let (act, mut extra) = action(word)?;
    // Mac OS X Server writes `Unreach TCP …` without the code: a word that opens upper-case is
    // the protocol (`TCP`, `ICMP:3.1`, `P:47`), never a code (`3`, `host`).
    if word.starts_with(b"Unreach")
        && split_word(skip_spaces(rest))
            .0
            .first()
            .is_some_and(u8::is_ascii_uppercase)
    {
        extra = 0;
    }
    for _ in 0..extra {
        rest = split_word(skip_spaces(rest)).1;
    }
    // `Forward to 10.0.0.1:8080`: the `to` and the target.
    if matches!(word, b"Forward" | b"Fwd") {
        rest = split_word(skip_spaces(rest)).1;
    }
    let mut d = Details {
        action: act,
        rule: crate::event::Rule {
            id: Some(rule),
            ..Default::default()
        },
        ..Details::default()
    };
    let (proto, rest) = split_word(skip_spaces(rest));
    // `ICMP:8.0`, `ICMPv6:128.0`: the type and code are no ports.
    // `P:47`: a protocol ipfw has no name for, by number.
    let name = match proto.strip_prefix(b"P:") {
        Some(number) => number,
        None => proto.get(..position(proto, b':').unwrap_or(proto.len()))?,
    };
    d.transport = Transport::from_token(name);
    let ports = matches!(
        d.transport,
        Some(Transport::Tcp | Transport::Udp | Transport::Sctp)
    );
    let (src, rest) = split_word(skip_spaces(rest));
    let (dst, _) = split_word(skip_spaces(rest));
    if let Some((a, p)) = addr_colon_port(src, ports) {
        d.source.ip = Some(a);
        d.source.port = p.filter(|_| ports);
    }
    if let Some((a, p)) = addr_colon_port(dst.strip_suffix(b",").unwrap_or(dst), ports) {
        d.destination.ip = Some(a);
        d.destination.port = p.filter(|_| ports);
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, run};

    fn ipfw(action: Option<&'static str>) -> Expect {
        Expect {
            dataset: Some("ipfw"),
            action,
            ..Expect::default()
        }
    }

    #[test]
    fn rule_logs() {
        run(
            &[
                (
                    "Jan 10 10:10:10 fw kernel: ipfw: 100 Deny TCP 198.51.100.7:3527 192.0.2.10:23 in via em0",
                    Expect {
                        src: Some("198.51.100.7"),
                        sport: Some(3527),
                        dst: Some("192.0.2.10"),
                        dport: Some(23),
                        transport: Some("tcp"),
                        host: Some("fw"),
                        program: Some("kernel"),
                        rule_id: Some("100"),
                        ..ipfw(Some("acl-denied"))
                    },
                ),
                (
                    "Jan 10 10:10:10 fw ipfw: 65000 Accept UDP 192.0.2.10:53 198.51.100.7:1029 out via em0",
                    Expect {
                        src: Some("192.0.2.10"),
                        sport: Some(53),
                        dst: Some("198.51.100.7"),
                        dport: Some(1029),
                        transport: Some("udp"),
                        host: Some("fw"),
                        program: Some("ipfw"),
                        ..ipfw(Some("acl-permitted"))
                    },
                ),
                (
                    "Jan 10 10:10:10 fw kernel: ipfw: 500 Deny ICMP:8.0 198.51.100.7 192.0.2.10 in via fxp0",
                    Expect {
                        src: Some("198.51.100.7"),
                        dst: Some("192.0.2.10"),
                        transport: Some("icmp"),
                        host: Some("fw"),
                        program: Some("kernel"),
                        ..ipfw(Some("acl-denied"))
                    },
                ),
                (
                    "Jan 10 10:10:10 fw kernel: ipfw: 200 Unreach host TCP 198.51.100.7:3527 192.0.2.10:23 in via em0",
                    Expect {
                        src: Some("198.51.100.7"),
                        sport: Some(3527),
                        dst: Some("192.0.2.10"),
                        dport: Some(23),
                        transport: Some("tcp"),
                        host: Some("fw"),
                        program: Some("kernel"),
                        ..ipfw(Some("acl-denied"))
                    },
                ),
                (
                    "Jan 10 10:10:10 fw kernel: ipfw: 300 Count TCP [2001:db8::7]:3527 [2001:db8::1]:22 in via em0",
                    Expect {
                        src: Some("2001:db8::7"),
                        sport: Some(3527),
                        dst: Some("2001:db8::1"),
                        dport: Some(22),
                        transport: Some("tcp"),
                        host: Some("fw"),
                        program: Some("kernel"),
                        ..ipfw(None)
                    },
                ),
            ],
            5,
        );
    }

    /// Mac OS X Server's log examples (its manual): `mach_kernel`'s tag, `Unreach` without a code.
    #[test]
    fn mac_os_x_server_lines() {
        run(
            &[
                (
                    "Dec 12 13:08:16 ballch5 mach_kernel: ipfw: 65000 Unreach TCP 10.221.41.33:2190 192.168.12.12:80 in via en0",
                    Expect {
                        src: Some("10.221.41.33"),
                        sport: Some(2190),
                        dst: Some("192.168.12.12"),
                        dport: Some(80),
                        transport: Some("tcp"),
                        host: Some("ballch5"),
                        program: Some("mach_kernel"),
                        ..ipfw(Some("acl-denied"))
                    },
                ),
                (
                    "Dec 12 13:20:15 mayalu6 mach_kernel: ipfw: 100 Accept TCP 10.221.41.33:721 192.168.12.12:515 in via en0",
                    Expect {
                        src: Some("10.221.41.33"),
                        sport: Some(721),
                        dst: Some("192.168.12.12"),
                        dport: Some(515),
                        transport: Some("tcp"),
                        host: Some("mayalu6"),
                        program: Some("mach_kernel"),
                        ..ipfw(Some("acl-permitted"))
                    },
                ),
            ],
            2,
        );
    }
}
