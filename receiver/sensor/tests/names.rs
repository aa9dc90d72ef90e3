//! Test-only: sources known only by host name, on real lines (tcpd, PortSentry, sshd, PAM
//! `rhost=`): the name key, the names a candidate keeps, `names_to_resolve`, and `resolved`
//! merging a name's candidate into its address's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::IpAddr;

use picket_parsers::{ParseContext, parse_line};
use picket_sensor::{
    Change, Class, EventRef, Ignored, IncidentBook, SensorConfig, SourceKey, State,
    decode_candidate, encode_candidate,
};

const REFERENCE: i64 = 1_700_000_000;

fn fold_all(book: &mut IncidentBook, lines: &[String], first_ref: u32) -> Vec<Change> {
    let ctx = ParseContext::new(REFERENCE);
    let mut changes = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let event = parse_line(line.as_bytes(), &ctx);
        let mut r = [0u8; 12];
        r[8..].copy_from_slice(&(first_ref + i as u32).to_be_bytes());
        book.fold(&event, REFERENCE * 1_000_000_000, EventRef(r), &mut changes);
    }
    changes
}

fn feed(book: &mut IncidentBook, lines: &[String]) -> Vec<Change> {
    let mut changes = fold_all(book, lines, 0);
    book.settle(&mut changes);
    changes
}

fn name(s: &str) -> SourceKey {
    SourceKey::from_name(s.as_bytes()).unwrap()
}

fn addr(s: &str) -> SourceKey {
    SourceKey::new(s.parse().unwrap(), 32)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn key_of_line(book: &IncidentBook, line: &str) -> Result<SourceKey, Ignored> {
    let ctx = ParseContext::new(REFERENCE);
    book.key_for(&parse_line(line.as_bytes(), &ctx))
}

/// Real lines the parsers give a `source.domain` (and no address) for.
#[test]
fn lines_naming_their_source_get_a_name_key() {
    let book = IncidentBook::new(SensorConfig::default());
    for (line, want) in [
        (
            "<38>Nov  8 15:26:31 linux ftpd[3689]: refused connect from 7dyn94.ztm.casema.net",
            "7dyn94.ztm.casema.net",
        ),
        (
            "Feb 25 14:34:00 belka sshd[31602]: Failed password for root from attacker.example.net port 4242 ssh2",
            "attacker.example.net",
        ),
        (
            "May 12 09:47:54 vaio sshd[16004]: (pam_unix) authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=71-13-115-12.static.mdsn.wi.charter.com  user=root",
            "71-13-115-12.static.mdsn.wi.charter.com",
        ),
        (
            "Jun 15 02:04:59 combo sshd(pam_unix)[20882]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=220-135-151-1.hinet-ip.hinet.net  user=root",
            "220-135-151-1.hinet-ip.hinet.net",
        ),
        (
            "Dec 24 14:10:29 target in.fingerd[11244]: refused connect from TOAD.COM.",
            "toad.com",
        ),
    ] {
        let event = parse_line(line.as_bytes(), &ParseContext::new(REFERENCE));
        assert!(event.details.source.ip.is_none(), "{line}");
        assert!(event.details.source.domain.is_some(), "{line}");
        let key = book.key_for(&event).unwrap();
        assert!(key.is_name(), "{line}");
        assert_eq!(key.to_string(), want);
        assert_eq!(key, name(want));
        assert_eq!(want.parse::<SourceKey>().unwrap(), key);
    }
    // Lines that give an address and a name: the address wins.
    let k = key_of_line(
        &book,
        "Mar  3 10:00:00 gw portsentry[412]: attackalert: Connect from host: badhost.example.org/192.0.2.200 to TCP port: 111",
    )
    .unwrap();
    assert_eq!(k, addr("192.0.2.200"));
    // No plausible name: still no source.
    assert_eq!(
        key_of_line(
            &book,
            "Dec 24 14:10:29 target in.fingerd[11244]: refused connect from unknown"
        ),
        Err(Ignored::NoSource)
    );
}

#[test]
fn a_tcpd_name_makes_a_candidate_that_merges_when_it_resolves() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let lines: Vec<String> = (0..6)
        .map(|i| {
            format!(
                "Nov  8 15:26:{:02} linux ftpd[3689]: refused connect from 7dyn94.ztm.casema.net",
                10 + i
            )
        })
        .collect();
    let changes = feed(&mut book, &lines);
    let nk = name("7dyn94.ztm.casema.net");
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::Created { key, .. } if *key == nk)),
        "{changes:?}"
    );
    let c = book.get(&nk).unwrap();
    assert_eq!(c.class(), Class::RepeatedAttempts);
    assert_eq!(c.events(), 6);
    assert_eq!(c.names(), &[b"7dyn94.ztm.casema.net".to_vec()]);

    // Stored under its name, and back.
    let mut bytes = Vec::new();
    encode_candidate(c, &mut bytes);
    assert_eq!(&decode_candidate(&bytes).unwrap(), c);

    // Asked for once.
    assert_eq!(
        book.names_to_resolve(),
        vec![(nk, b"7dyn94.ztm.casema.net".to_vec())]
    );
    assert!(book.names_to_resolve().is_empty());
    feed(&mut book, &lines[..1]);
    assert!(book.names_to_resolve().is_empty(), "not again so soon");

    let mut changes = Vec::new();
    book.resolved(nk, Some(ip("192.0.2.94")), &mut changes);
    let into = addr("192.0.2.94");
    assert_eq!(
        changes,
        vec![
            Change::Merged {
                from: nk,
                into,
                at: book.clock().unwrap()
            },
            Change::Removed { key: nk },
        ]
    );
    assert!(changes[0].is_published());
    assert_eq!(changes[0].kind(), "merged");
    assert_eq!(changes[0].key(), nk);
    assert!(!changes[1].is_published());
    assert!(book.get(&nk).is_none());
    let c = book.get(&into).unwrap();
    assert_eq!(c.key(), into);
    assert_eq!(c.events(), 7);
    assert_eq!(c.names(), &[b"7dyn94.ztm.casema.net".to_vec()]);
    assert!(c.is_published());
    assert!(book.take_touched().contains(&into));

    // Later lines under the name go to the address directly.
    let more = [
        "Nov  8 15:40:00 linux ftpd[3689]: refused connect from 7DYN94.ztm.casema.net".to_string(),
    ];
    assert_eq!(key_of_line(&book, &more[0]), Ok(into));
    feed(&mut book, &more);
    assert_eq!(book.get(&into).unwrap().events(), 8);
    assert!(book.get(&nk).is_none());
    assert!(book.names_to_resolve().is_empty());
    assert_eq!(book.stats().merged, 1);
}

#[test]
fn portsentry_keeps_the_name_beside_the_address() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let lines = vec![
        "Mar  3 10:00:00 gw portsentry[412]: attackalert: Connect from host: badhost.example.org/192.0.2.200 to TCP port: 111".to_string(),
    ];
    let event = parse_line(lines[0].as_bytes(), &ParseContext::new(REFERENCE));
    assert_eq!(
        event.details.source.domain,
        Some(&b"badhost.example.org"[..])
    );
    feed(&mut book, &lines);
    let c = book.get(&addr("192.0.2.200")).unwrap();
    assert_eq!(c.names(), &[b"badhost.example.org".to_vec()]);
    assert!(book.names_to_resolve().is_empty());
    assert_eq!(book.len(), 1);
}

/// An SSH brute force logged partly under a name (sshd with `UseDNS`, PAM `rhost=`) and
/// partly under its address: one candidate with all events and both names once resolved.
#[test]
fn ssh_brute_force_under_a_name_and_its_address_becomes_one_candidate() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let mut lines: Vec<String> = (0..3)
        .map(|i| {
            format!(
                "Feb 25 14:34:{:02} belka sshd[31602]: Failed password for root from attacker.example.net port {} ssh2",
                i * 5,
                50273 + i
            )
        })
        .collect();
    lines.push("Feb 25 14:34:20 belka sshd[31603]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=Attacker.Example.NET  user=root".into());
    lines.extend((0..3).map(|i| {
        format!(
            "Feb 25 14:34:{:02} belka sshd[31604]: Failed password for root from 198.51.100.66 port {} ssh2",
            30 + i * 5,
            50300 + i
        )
    }));
    lines.push("Feb 25 14:34:50 belka portsentry[412]: attackalert: Connect from host: mail.attacker.example.net/198.51.100.66 to TCP port: 111".into());
    let changes = feed(&mut book, &lines);
    let nk = name("attacker.example.net");
    let ak = addr("198.51.100.66");
    assert_eq!(book.get(&nk).unwrap().events(), 4);
    assert_eq!(book.get(&nk).unwrap().class(), Class::SingleProbe);
    assert_eq!(book.get(&ak).unwrap().events(), 4);
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::Created { key, .. } if *key == nk))
    );
    assert_eq!(
        book.names_to_resolve(),
        vec![(nk, b"attacker.example.net".to_vec())]
    );

    let mut changes = Vec::new();
    book.resolved(nk, Some(ip("198.51.100.66")), &mut changes);
    book.settle(&mut changes);
    assert!(changes.contains(&Change::Removed { key: nk }));
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::Merged { from, into, .. } if *from == nk && *into == ak))
    );
    assert_eq!(book.len(), 1);
    let c = book.get(&ak).unwrap();
    assert_eq!(c.events(), 8);
    assert_eq!(c.failures(), 7);
    assert_eq!(
        c.names(),
        &[
            b"attacker.example.net".to_vec(),
            b"mail.attacker.example.net".to_vec()
        ]
    );
    // Seven failures within ten minutes once together: repeated attempts.
    assert_eq!(c.class(), Class::RepeatedAttempts);
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::ClassChanged { key, to: Class::RepeatedAttempts, .. } if *key == ak)),
        "{changes:?}"
    );
    // Both names survive the store.
    let mut bytes = Vec::new();
    encode_candidate(c, &mut bytes);
    assert_eq!(decode_candidate(&bytes).unwrap().names(), c.names());
}

#[test]
fn a_name_that_does_not_resolve_stays_and_is_not_asked_again() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let line = |s: u32| {
        format!("Nov  8 15:26:{s:02} linux ftpd[3689]: refused connect from dialup.example.net")
    };
    feed(&mut book, &[line(1)]);
    let nk = name("dialup.example.net");
    assert_eq!(book.names_to_resolve().len(), 1);
    let mut changes = Vec::new();
    book.resolved(nk, None, &mut changes);
    assert!(changes.is_empty());
    assert_eq!(book.resolution(&nk), Some(None));
    assert_eq!(book.get(&nk).unwrap().events(), 1);
    // An hour later it is still not asked for.
    feed(
        &mut book,
        &["Nov  8 16:30:00 linux ftpd[3689]: refused connect from dialup.example.net".into()],
    );
    assert!(book.names_to_resolve().is_empty());
    assert_eq!(book.get(&nk).unwrap().events(), 2);
}

#[test]
fn an_unanswered_name_is_asked_again_after_a_while() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let nk = name("dialup.example.net");
    feed(
        &mut book,
        &["Nov  8 15:26:00 linux ftpd[3689]: refused connect from dialup.example.net".into()],
    );
    assert_eq!(book.names_to_resolve().len(), 1);
    feed(
        &mut book,
        &["Nov  8 15:30:00 linux ftpd[3689]: refused connect from dialup.example.net".into()],
    );
    assert!(book.names_to_resolve().is_empty());
    feed(
        &mut book,
        &["Nov  8 15:45:00 linux ftpd[3689]: refused connect from dialup.example.net".into()],
    );
    assert_eq!(
        book.names_to_resolve(),
        vec![(nk, b"dialup.example.net".to_vec())]
    );
}

#[test]
fn names_with_only_benign_events_are_not_resolved() {
    let mut book = IncidentBook::new(SensorConfig::default());
    feed(
        &mut book,
        &["Feb 25 14:35:10 belka sshd[31602]: Accepted password for root from friend.example.org port 50300 ssh2".into()],
    );
    let nk = name("friend.example.org");
    assert!(book.get(&nk).is_some_and(|c| !c.is_published()));
    assert!(book.names_to_resolve().is_empty());
}

#[test]
fn a_name_resolving_to_an_own_network_goes_away() {
    let config = SensorConfig {
        own_networks: vec!["10.0.0.0/8".parse().unwrap()],
        ..SensorConfig::default()
    };
    let mut book = IncidentBook::new(config);
    let nk = name("printer.lan.example");
    let line =
        "Nov  8 15:26:00 linux ftpd[3689]: refused connect from printer.lan.example".to_string();
    feed(&mut book, std::slice::from_ref(&line));
    let mut changes = Vec::new();
    book.resolved(nk, Some(ip("10.1.2.3")), &mut changes);
    assert_eq!(changes, vec![Change::Removed { key: nk }]);
    assert!(book.is_empty());
    assert_eq!(key_of_line(&book, &line), Err(Ignored::OwnNetwork));
}

#[test]
fn resolving_groups_by_the_configured_prefix_and_merges_into_a_restored_candidate() {
    let config = SensorConfig {
        group_v4: 24,
        ..SensorConfig::default()
    };
    let mut book = IncidentBook::new(config.clone());
    // The address's candidate, stored earlier by another book and marked reported.
    let mut earlier = IncidentBook::new(config);
    feed(
        &mut earlier,
        &[
            "Feb 25 14:30:00 belka sshd[1]: Failed password for root from 203.0.113.9 port 1 ssh2"
                .into(),
        ],
    );
    let prefix: SourceKey = "203.0.113.0/24".parse().unwrap();
    let mut changes = Vec::new();
    earlier
        .mark(
            &prefix,
            State::Reported,
            "notice 1",
            "carol",
            7,
            &mut changes,
        )
        .unwrap();
    let stored = earlier.get(&prefix).unwrap().clone();

    feed(
        &mut book,
        &["Feb 25 14:34:00 belka sshd[2]: Failed password for root from host7.example.net port 2 ssh2"
            .into()],
    );
    let nk = name("host7.example.net");
    let mut changes = Vec::new();
    book.restore(stored, &mut changes);
    book.resolved(nk, Some(ip("203.0.113.77")), &mut changes);
    book.settle(&mut changes);
    let c = book.get(&prefix).unwrap();
    assert_eq!(c.events(), 2);
    // The name's failure came after the notice: a second one is due.
    assert_eq!(c.state(), State::Repeated);
    assert_eq!(c.notices(), 1);
    assert_eq!(c.history()[0].note, "notice 1");
    assert_eq!(c.names(), &[b"host7.example.net".to_vec()]);
    assert_eq!(book.len(), 1);
}

#[test]
fn a_stored_name_candidate_restored_after_its_name_resolved_goes_to_the_address() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let line =
        "Nov  8 15:26:00 linux ftpd[3689]: refused connect from 7dyn94.ztm.casema.net".to_string();
    feed(&mut book, std::slice::from_ref(&line));
    let nk = name("7dyn94.ztm.casema.net");
    let stored = book.get(&nk).unwrap().clone();
    let mut changes = Vec::new();
    book.resolved(nk, Some(ip("192.0.2.94")), &mut changes);
    // A copy of the name's record comes back from the store later (a restart, a race).
    let mut changes = Vec::new();
    book.restore(stored, &mut changes);
    assert!(changes.contains(&Change::Removed { key: nk }));
    assert!(book.get(&nk).is_none());
    assert_eq!(book.get(&addr("192.0.2.94")).unwrap().events(), 2);
}

#[test]
fn a_name_resolved_before_it_was_published_makes_the_address_created() {
    // The answer came (from the receiver's cache) before the name's second was settled: the
    // name was never shown, so no merge is; the address's candidate is created.
    let mut book = IncidentBook::new(SensorConfig::default());
    let line =
        "Nov  8 15:26:00 linux ftpd[3689]: refused connect from 7dyn94.ztm.casema.net".to_string();
    let mut changes = fold_all(&mut book, std::slice::from_ref(&line), 0);
    let nk = name("7dyn94.ztm.casema.net");
    assert!(!book.get(&nk).unwrap().is_published());
    assert_eq!(book.names_to_resolve().len(), 1);
    book.resolved(nk, Some(ip("192.0.2.94")), &mut changes);
    book.settle(&mut changes);
    assert_eq!(changes[0], Change::Removed { key: nk });
    assert!(!changes.iter().any(|c| matches!(c, Change::Merged { .. })));
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::Created { key, .. } if *key == addr("192.0.2.94")))
    );
}

#[test]
fn a_name_like_the_reporter_is_not_taken_for_it() {
    let book = IncidentBook::new(SensorConfig::default());
    // The host itself, by its own name: a self-report.
    assert_eq!(
        key_of_line(
            &book,
            "Dec 24 14:10:30 target in.fingerd[11244]: refused connect from Target."
        ),
        Err(Ignored::SelfReport)
    );
    // A PTR record named after the host is not the host.
    assert_eq!(
        key_of_line(
            &book,
            "Dec 24 14:10:30 target in.fingerd[11244]: refused connect from target.attacker.example"
        ),
        Ok(name("target.attacker.example"))
    );
}
