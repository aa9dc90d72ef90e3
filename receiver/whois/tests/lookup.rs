//! `lookup` against whois servers this test starts on loopback, each answering one canned
//! reply in its registry's shape and recording the query it was sent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use picket_whois::{How, WhoisConfig, WhoisError, lookup};

/// A server that answers every connection with `reply` (after `{}` is replaced by `next`);
/// returns its address and the queries it got.
fn server(reply: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let mut line = String::new();
            let _ = BufReader::new(&c).read_line(&mut line);
            s.lock().unwrap().push(line);
            let _ = c.write_all(reply.as_bytes());
        }
    });
    (addr, seen)
}

const RIPE: &str = "\
% This is the RIPE Database query service.
% Note: this output has been filtered.
%       To receive output for a database update, use the \"-B\" flag.

% Information related to '193.51.0.0 - 193.51.255.255'

% Abuse contact for '193.51.0.0 - 193.51.255.255' is 'abuse@example-isp.fr'

inetnum:        193.51.0.0 - 193.51.255.255
netname:        EXAMPLE-NET
country:        FR
abuse-c:        AR41-RIPE
source:         RIPE # Filtered

role:           Abuse contact role
abuse-mailbox:  abuse@example-isp.fr
nic-hdl:        AR41-RIPE
source:         RIPE # Filtered
";

#[test]
fn iana_arin_ripe_with_arin_named_and_queried_in_its_own_syntax() {
    let (ripe, ripe_seen) = server(RIPE.into());
    let arin_reply = format!(
        "NetRange:       193.0.0.0 - 193.255.255.255\nNetName:        RIPE-CBLK2\nNetType:        Allocated to RIPE NCC\n\nReferralServer:  whois://{ripe}\n\nOrgAbuseEmail:  abuse@ripe.net\n"
    );
    let (arin, arin_seen) = server(arin_reply);
    let (iana, _) = server("refer:        whois.arin.net\n\ninetnum:      193.0.0.0 - 193.255.255.255\nwhois:        whois.arin.net\nsource:       IANA\n".into());
    let cfg = WhoisConfig {
        root: iana.clone(),
        connect_to: vec![("whois.arin.net".into(), arin)],
        ..WhoisConfig::default()
    };
    let c = lookup("193.51.7.9".parse().unwrap(), &cfg).unwrap();
    assert_eq!(c.abuse.as_deref(), Some("abuse@example-isp.fr"));
    assert_eq!(c.found_by, Some(How::AbuseC));
    assert!(!c.fallback);
    assert_eq!(c.netname.as_deref(), Some("EXAMPLE-NET"));
    let servers: Vec<_> = c.chain.iter().map(|h| h.server.as_str()).collect();
    assert_eq!(servers, [iana.as_str(), "whois.arin.net", ripe.as_str()]);
    assert_eq!(c.chain[1].reason, "refer: whois.arin.net");
    assert_eq!(c.chain[2].reason, format!("ReferralServer: whois://{ripe}"));
    assert_eq!(arin_seen.lock().unwrap()[0], "n + 193.51.7.9\r\n");
    assert_eq!(ripe_seen.lock().unwrap()[0], "193.51.7.9\r\n");
    // The cached form reads back the same.
    assert_eq!(picket_whois::Contact::from_json(&c.to_json()), Some(c));
}

#[test]
fn a_loop_a_hop_cap_and_a_silent_server() {
    // Two servers that refer to each other.
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let a_addr = a.local_addr().unwrap().to_string();
    let (b, _) = server(format!("refer: {a_addr}\n"));
    let reply = format!("refer: {b}\n");
    std::thread::spawn(move || {
        for c in a.incoming() {
            let mut c = c.unwrap();
            let _ = BufReader::new(&c).read_line(&mut String::new());
            let _ = c.write_all(reply.as_bytes());
        }
    });
    let cfg = WhoisConfig {
        root: a_addr.clone(),
        ..WhoisConfig::default()
    };
    match lookup("192.0.2.1".parse().unwrap(), &cfg) {
        Err(WhoisError::Loop { server, chain }) => {
            assert_eq!(server, a_addr);
            assert_eq!(chain.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    // A chain of referrals longer than the cap.
    let (mut next, _) = server(RIPE.into());
    for _ in 0..4 {
        next = server(format!("refer: whois://{next}\n")).0;
    }
    let cfg = WhoisConfig {
        root: next.clone(),
        max_hops: 3,
        ..WhoisConfig::default()
    };
    match lookup("193.51.7.9".parse().unwrap(), &cfg) {
        Err(WhoisError::TooManyHops { limit: 3, chain }) => assert_eq!(chain.len(), 3),
        other => panic!("{other:?}"),
    }
    let five = WhoisConfig { max_hops: 5, ..cfg };
    assert!(lookup("193.51.7.9".parse().unwrap(), &five).is_ok());
    // A reply over the size cap.
    let (big, _) = server("remarks: padding\n".repeat(20_000));
    let cfg = WhoisConfig {
        root: big,
        max_reply: 64 * 1024,
        ..WhoisConfig::default()
    };
    match lookup("192.0.2.1".parse().unwrap(), &cfg) {
        Err(WhoisError::TooLarge { limit, .. }) => assert_eq!(limit, 64 * 1024),
        other => panic!("{other:?}"),
    }
    // A server that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let cfg = WhoisConfig {
        root: silent.local_addr().unwrap().to_string(),
        timeout: Duration::from_millis(300),
        ..WhoisConfig::default()
    };
    let t = std::time::Instant::now();
    match lookup("192.0.2.1".parse().unwrap(), &cfg) {
        Err(WhoisError::Timeout { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    drop(silent);
}
