//! inetd's connection tracing (`inetd -t` on Solaris/illumos, `inetd -l` on the BSDs):
//! Solaris `[ID 317013 daemon.notice] telnet[4567] from 198.51.100.7 32830` (the header strips
//! the `[ID …]` tag; the last number is the peer's port), FreeBSD `telnet from 198.51.100.7`
//! and `ftp/tcp: connection from 198.51.100.7`. Each is a service started for the peer.

use super::Family;
use crate::event::{Action, Dataset, Details};
use crate::header::Header;
use crate::lex::{Peer, position, skip_spaces, split_word, to_peer, to_port};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Inetd,
    tags: &[b"inetd"],
    owns_tag: false,
    any_program: false,
    parse,
};

/// Parses an inetd tracing line.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    let (service, rest) = split_word(m);
    let rest = skip_spaces(rest);
    let rest = rest.strip_prefix(b"connection ").unwrap_or(rest);
    let from = rest.strip_prefix(b"from ")?;
    // `telnet[4567]`, `ftp/tcp:`: the service name is what comes before `[`, `/` or `:`.
    let end = service
        .iter()
        .position(|b| matches!(b, b'[' | b'/' | b':'))
        .unwrap_or(service.len());
    let name = service.get(..end).filter(|n| !n.is_empty())?;
    if !name
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return None;
    }
    // `ftp/tcp: connection from ADDR (ADDR) exceeded counts/min`: inetd refused the service.
    let refused = crate::lex::find(from, b" exceeded ").is_some();
    let mut d = Details {
        action: Some(if refused {
            Action::ServiceFail
        } else {
            Action::ServiceStart
        }),
        service: Some(name),
        ..Details::default()
    };
    let (peer, rest) = split_word(skip_spaces(from));
    match to_peer(peer) {
        Some(Peer::Ip(a)) => d.source.ip = Some(a),
        Some(Peer::Name(n)) => d.source.domain = Some(n),
        None => {}
    }
    let (port, _) = split_word(skip_spaces(rest));
    if position(port, b'.').is_none() {
        d.source.port = to_port(port);
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Expect, run};

    #[test]
    fn tracing() {
        let inetd = Expect {
            dataset: Some("inetd"),
            action: Some("service-start"),
            ..Expect::default()
        };
        run(
            &[
                (
                    "Jun  1 12:00:00 sol10 inetd[16087]: [ID 317013 daemon.notice] telnet[16088] from 198.51.100.7 36437",
                    Expect {
                        src: Some("198.51.100.7"),
                        sport: Some(36437),
                        host: Some("sol10"),
                        program: Some("inetd"),
                        pid: Some(16087),
                        ..inetd
                    },
                ),
                (
                    "Jun  1 12:00:00 bsd inetd[812]: telnet from 198.51.100.7",
                    Expect {
                        src: Some("198.51.100.7"),
                        host: Some("bsd"),
                        program: Some("inetd"),
                        pid: Some(812),
                        ..inetd
                    },
                ),
            ],
            2,
        );
    }
}
