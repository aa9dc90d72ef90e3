//! xinetd: `START: SERVICE [pid=N] from=ADDR`, `EXIT: SERVICE status=N pid=N duration=N(sec)`,
//! `FAIL: SERVICE REASON from=ADDR`, `libwrap refused connection to SERVICE (libwrap=DAEMON)
//! from ADDR`, and the lines that name no peer (`USERID:`, `Deactivating service …`).

use nom::Parser;
use nom::branch::alt;
use nom::combinator::verify;
use nom::sequence::preceded;

use super::Family;
use crate::event::{Action, Dataset, Details, Endpoint};
use crate::header::Header;
use crate::lex::{Peer, Res, blanks, lit, past, skip_spaces, to_peer, token, value_of};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Xinetd,
    tags: &[b"xinetd", b"xinetd-ipv6"],
    owns_tag: true,
    any_program: false,
    parse,
};

fn peer(tok: &[u8]) -> Endpoint<'_> {
    let mut ep = Endpoint::default();
    match to_peer(tok) {
        Some(Peer::Ip(a)) => ep.ip = Some(a),
        Some(Peer::Name(n)) => ep.domain = Some(n),
        None => {}
    }
    ep
}

/// Strips the stamp xinetd writes in its own log file (`log_type = FILE`):
/// `00/9/17@16:47:46: START: …` (year/month/day@time).
///
/// The date is a run of digits and `/` ending at the first `@`, the time a run of digits and
/// `:` ending at the first `: `; measuring the runs finds both without a search, so that the
/// syslog lines (and every untagged router line this is tried on) are turned away at once.
fn strip_file_stamp(m: &[u8]) -> &[u8] {
    let at = m
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b'/')
        .count();
    if !(5..=10).contains(&at) || m.get(at) != Some(&b'@') {
        return m;
    }
    let (Some(date), Some(rest)) = (m.get(..at), m.get(at + 1..)) else {
        return m;
    };
    // The run takes in the `:` of the `: ` that ends the time.
    let run = rest
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b':')
        .count();
    let Some(end) = run.checked_sub(1) else {
        return m;
    };
    if rest.get(end..run + 1) != Some(b": ") {
        return m;
    }
    let time = rest.get(..end).unwrap_or_default();
    let date_ok = date.iter().filter(|b| **b == b'/').count() == 2;
    let time_ok = (5..=8).contains(&time.len()) && time.iter().filter(|b| **b == b':').count() == 2;
    if date_ok && time_ok {
        skip_spaces(rest.get(end + 2..).unwrap_or_default())
    } else {
        m
    }
}

/// `libwrap refused connection to SERVICE (libwrap=DAEMON) from ADDR`: the service and peer.
fn libwrap(i: &[u8]) -> Res<'_, (&[u8], &[u8])> {
    (
        preceded((lit(b"libwrap refused connection to "), blanks), token),
        preceded((past(b" from "), blanks), token),
    )
        .parse(i)
}

/// `USERID: SERVICE …` and `Deactivating service SERVICE`: the service.
fn no_peer(i: &[u8]) -> Res<'_, &[u8]> {
    preceded(
        (
            alt((lit(b"USERID:"), lit(b"Deactivating service "))),
            blanks,
        ),
        token,
    )
    .parse(i)
}

/// `START:`, `EXIT:` or `FAIL:`, then a service word (no `=` in it); the output is the service,
/// the rest is the key=value pairs or the reason.
fn service_line<'a, const N: usize>(
    opening: &'static [u8; N],
) -> impl Parser<&'a [u8], Output = &'a [u8], Error = ()> {
    preceded(
        (lit(opening), blanks),
        verify(token, |s: &[u8]| !s.is_empty() && !s.contains(&b'=')),
    )
}

/// Parses an xinetd message.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = strip_file_stamp(h.message);
    // Tried on every untagged line (router lines above all): the six forms start with distinct
    // bytes, so one byte picks the only grammar worth trying and turns the rest away.
    let (action, line) = match m.first() {
        Some(b'S') => (Action::ServiceStart, service_line(b"START:").parse(m)),
        Some(b'E') => (Action::ServiceExit, service_line(b"EXIT:").parse(m)),
        Some(b'F') => (Action::ServiceFail, service_line(b"FAIL:").parse(m)),
        Some(b'l') => {
            let (svc, tok) = libwrap(m).ok()?.1;
            return Some(Details {
                action: Some(Action::ConnectionRefused),
                service: Some(svc).filter(|s| !s.is_empty()),
                source: peer(tok),
                ..Details::default()
            });
        }
        Some(b'U' | b'D') => {
            let svc = no_peer(m).ok()?.1;
            return Some(Details {
                service: Some(svc).filter(|s| !s.is_empty()),
                ..Details::default()
            });
        }
        _ => return None,
    };
    // The body must look like xinetd's: a service word, then key=value pairs or a reason.
    let (rest, svc) = line.ok()?;
    let mut d = Details {
        action: Some(action),
        service: Some(svc),
        ..Details::default()
    };
    let from = value_of(rest, b"from=");
    if let Some(v) = from {
        d.source = peer(v);
    }
    // Under another tag, only xinetd's own key=value shape claims the line.
    let tagged = h
        .program()
        .is_some_and(|p| p.eq_ignore_ascii_case(b"xinetd"));
    // Checked only when the tag does not settle it: the key searches are the costly part.
    let shaped = || {
        from.is_some()
            || [&b"pid="[..], b"status=", b"duration="]
                .iter()
                .any(|k| value_of(rest, k).is_some())
    };
    (tagged || shaped()).then_some(d)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, check, run};

    fn x(action: Option<&'static str>, src: Option<&'static str>) -> Expect {
        Expect {
            dataset: Some("xinetd"),
            action,
            src,
            host: Some("srv"),
            program: Some("xinetd"),
            pid: Some(4),
            ..Expect::default()
        }
    }

    #[test]
    fn variants() {
        let l = |m: &str| format!("Nov  8 15:26:31 srv xinetd[4]: {m}");
        let ip = Some("198.51.100.7");
        let rows = [
            (
                l("START: ftp pid=1234 from=198.51.100.7"),
                x(Some("service-start"), ip),
            ),
            (
                l("START: ftp from=::ffff:198.51.100.7"),
                x(Some("service-start"), ip),
            ),
            (
                l("START: telnet pid=1 from=2001:db8::7"),
                x(Some("service-start"), Some("2001:db8::7")),
            ),
            (
                l("START: ftp pid=1234 from=<no address>"),
                x(Some("service-start"), None),
            ),
            (
                l("START: ftp pid=1234 from=dial.example.net"),
                Expect {
                    sdomain: Some("dial.example.net"),
                    ..x(Some("service-start"), None)
                },
            ),
            (
                l("EXIT: ftp status=0 pid=1234 duration=30(sec)"),
                x(Some("service-exit"), None),
            ),
            (
                l("EXIT: ftp pid=1234 duration=30(sec)"),
                x(Some("service-exit"), None),
            ),
            (
                l("FAIL: telnet address from=198.51.100.7"),
                x(Some("service-fail"), ip),
            ),
            (
                l("FAIL: telnet time from=198.51.100.7"),
                x(Some("service-fail"), ip),
            ),
            (
                l("FAIL: ftp service_limit from=198.51.100.7"),
                x(Some("service-fail"), ip),
            ),
            (
                l("FAIL: ftp per_source_limit from=198.51.100.7"),
                x(Some("service-fail"), ip),
            ),
            (
                l("FAIL: ftp process_limit from=198.51.100.7"),
                x(Some("service-fail"), ip),
            ),
            (
                l("FAIL: telnet libwrap from=198.51.100.7"),
                x(Some("service-fail"), ip),
            ),
            (
                l("libwrap refused connection to telnet (libwrap=in.telnetd) from 198.51.100.7"),
                x(Some("connection-refused"), ip),
            ),
            (l("USERID: ftp OTHER :root"), x(None, None)),
            (
                l(
                    "Deactivating service ftp due to excessive incoming connections.  Restarting in 30 seconds.",
                ),
                x(None, None),
            ),
            (
                l("START:  ftp  pid=1234  from=198.51.100.7"),
                x(Some("service-start"), ip),
            ),
        ];
        let table: Vec<(&str, Expect)> = rows.iter().map(|(l, e)| (l.as_str(), *e)).collect();
        run(&table, 15);
    }

    #[test]
    fn xinetd_chatter_belongs_to_xinetd() {
        check(
            "Nov  8 15:26:31 srv xinetd[4]: Started working: 3 available services",
            &x(None, None),
        );
        check(
            "Nov  8 15:26:31 srv other[4]: START: the engines",
            &Expect {
                host: Some("srv"),
                program: Some("other"),
                pid: Some(4),
                ..Expect::default()
            },
        );
    }

    /// Real lines (Elastic, Wazuh and fail2ban test logs, public write-ups) that earlier versions misread.
    #[test]
    fn real_lines() {
        let table = [
            (
                "00/9/18@17:15:42: START: finger pid=28857 from=192.168.1.1",
                Expect {
                    dataset: Some("xinetd"),
                    action: Some("service-start"),
                    src: Some("192.168.1.1"),
                    ..Expect::default()
                },
            ),
            (
                "00/9/18@17:15:47: EXIT: finger status=0 pid=28857 duration=5(sec)",
                Expect {
                    dataset: Some("xinetd"),
                    action: Some("service-exit"),
                    ..Expect::default()
                },
            ),
            (
                "00/9/18@17:15:55: FAIL: finger address from=192.168.1.10",
                Expect {
                    dataset: Some("xinetd"),
                    action: Some("service-fail"),
                    src: Some("192.168.1.10"),
                    ..Expect::default()
                },
            ),
            (
                "Aug  2 12:17:43 localhost xinetd[14745]: FAIL: echo-dgram connections per second from=::ffff:192.168.0.11",
                Expect {
                    dataset: Some("xinetd"),
                    action: Some("service-fail"),
                    src: Some("192.168.0.11"),
                    host: Some("localhost"),
                    program: Some("xinetd"),
                    pid: Some(14745),
                    ..Expect::default()
                },
            ),
            (
                "Jan 2 20:40:44 gate xinetd-ipv6[12346]: FAIL: daytime-stream libwrap from=::ffff:1.2.3.4",
                Expect {
                    dataset: Some("xinetd"),
                    action: Some("service-fail"),
                    src: Some("1.2.3.4"),
                    host: Some("gate"),
                    program: Some("xinetd-ipv6"),
                    pid: Some(12346),
                    ..Expect::default()
                },
            ),
        ];
        run(&table, 5);
    }
}
