//! Test-only: the book on real log lines (templates from parsers/tests/corpus, with addresses,
//! ports and times varied): one scenario per class, the noise set, and the events that must
//! never make a candidate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use picket_parsers::{ParseContext, parse_line};
use picket_sensor::{
    Change, Class, EventRef, IncidentBook, SensorConfig, SourceKey, State, TargetHost,
    decode_candidate, encode_candidate,
};

const REFERENCE: i64 = 1_700_000_000;

fn feed(book: &mut IncidentBook, lines: &[String]) -> Vec<Change> {
    let ctx = ParseContext::new(REFERENCE);
    let mut changes = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let event = parse_line(line.as_bytes(), &ctx);
        let mut r = [0u8; 12];
        r[8..].copy_from_slice(&(i as u32).to_be_bytes());
        book.fold(&event, REFERENCE * 1_000_000_000, EventRef(r), &mut changes);
    }
    book.settle(&mut changes);
    changes
}

fn key(s: &str) -> SourceKey {
    SourceKey::new(s.parse().unwrap(), 32)
}

fn created(changes: &[Change]) -> Vec<(String, Class)> {
    let mut out: Vec<(String, Class)> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Created { key, class, .. } => Some((key.to_string(), *class)),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

fn iptables(src: &str, dst: &str, dport: u16, sec: u32) -> String {
    format!(
        "Jan  8 03:{:02}:{:02} example-host kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC={src} DST={dst} LEN=52 TOS=0x00 PREC=0x00 TTL=115 ID=15743 DF PROTO=TCP SPT=17805 DPT={dport} WINDOW=8192 RES=0x00 SYN URGP=0",
        sec / 60,
        sec % 60
    )
}

#[test]
fn port_scan_from_iptables() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let lines: Vec<String> = (0..20)
        .map(|i| iptables("203.0.113.50", "198.51.100.20", 1000 + i as u16, i * 5))
        .collect();
    let changes = feed(&mut book, &lines);
    assert_eq!(
        created(&changes),
        vec![("203.0.113.50".into(), Class::SingleProbe)]
    );
    let c = book.get(&key("203.0.113.50")).unwrap();
    assert_eq!(c.class(), Class::PortScan);
    assert_eq!(c.distinct_ports().count(), 20);
    assert_eq!(c.distinct_hosts().count(), 1);
    assert!(c.peak_ports() >= 15);
    assert!(changes.iter().any(|ch| matches!(
        ch,
        Change::ClassChanged {
            to: Class::PortScan,
            ..
        }
    )));
    let (sigs, _) = c.signatures();
    assert_eq!(sigs[0], (&b"iptables DROP_INPUT:"[..], 20));
    // Evidence: first 5 and latest 5, raw lines with their references.
    let ev = c.evidence().lines();
    assert_eq!(ev.len(), 10);
    assert_eq!(ev[0].line, lines[0].as_bytes());
    assert_eq!(ev[9].line, lines[19].as_bytes());
}

#[test]
fn slow_ports_are_not_a_scan() {
    // 20 ports, one every minute: never 15 within 5 minutes.
    let mut book = IncidentBook::new(SensorConfig::default());
    let lines: Vec<String> = (0..20)
        .map(|i| iptables("203.0.113.51", "198.51.100.20", 2000 + i as u16, i * 60))
        .collect();
    feed(&mut book, &lines);
    let c = book.get(&key("203.0.113.51")).unwrap();
    assert_eq!(c.class(), Class::SingleProbe);
    assert_eq!(c.distinct_ports().count(), 20);
    assert!(c.peak_ports() < 15);
}

#[test]
fn port_scan_from_portsentry() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let lines: Vec<String> = (0..16)
        .map(|i| {
            format!(
                "Jul 20 16:13:{:02} qdb-desktop portsentry[5809]: attackalert: Connect from host: 213.234.219.107/213.234.219.107 to TCP port: {}",
                i,
                [1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 70, 79, 111, 113, 119, 1080][i]
            )
        })
        .collect();
    feed(&mut book, &lines);
    let c = book.get(&key("213.234.219.107")).unwrap();
    assert_eq!(c.class(), Class::PortScan);
    assert_eq!(
        c.distinct_hosts().count(),
        1,
        "the reporter is the one target"
    );
}

#[test]
fn sweep_from_cisco_acl() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let lines: Vec<String> = (1..=12)
        .map(|n| {
            format!(
                "Jun 20 02:41:{n:02} 192.168.100.2 1663303: Jun 20 02:41:{n:02}.326: %SEC-6-IPACCESSLOGP: list 177 denied tcp 203.0.113.77(40000) -> 198.51.100.{n}(445), 1 packet"
            )
        })
        .collect();
    feed(&mut book, &lines);
    let c = book.get(&key("203.0.113.77")).unwrap();
    assert_eq!(c.class(), Class::Sweep);
    assert_eq!(c.distinct_hosts().count(), 12);
    assert_eq!(c.ports(), Some(vec![445]));
    // The by-target view sees each host hit by one source, and port 445 of each.
    assert!(book.targets().busiest(book.clock().unwrap(), 2).is_empty());
}

/// The brute-force targets beside sshd (issue 12): mail, FTP, PAM under any daemon and Cisco
/// logins fail with `login-failed`, and a run of them is repeated attempts.
#[test]
fn login_failures_of_the_other_families_are_repeated_attempts() {
    let templates: [fn(u32) -> String; 5] = [
        |i| {
            format!(
                "Dec  2 22:24:{i:02} hel postfix/smtpd[7676]: warning: unknown[203.0.113.61]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
            )
        },
        |i| {
            format!(
                "Jun 13 16:30:{i:02} platypus dovecot: imap-login: Disconnected (auth failed, 2 attempts): user=<bob>, method=PLAIN, rip=203.0.113.62, lip=198.51.100.2, TLS"
            )
        },
        |i| {
            format!(
                "Oct  6 09:59:{i:02} myserver wu-ftpd[18760]: failed login from host.example [203.0.113.63]"
            )
        },
        |i| {
            format!(
                "Oct 23 21:15:{i:02} vps vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=test rhost=203.0.113.64"
            )
        },
        |i| {
            format!(
                "Mar  1 00:01:{i:02} rtr %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] [Source: 203.0.113.65] [localport: 22] [Reason: Login Authentication Failed] at 00:01:{i:02} UTC Mon Mar 1 2021"
            )
        },
    ];
    for (k, template) in templates.iter().enumerate() {
        let mut book = IncidentBook::new(SensorConfig::default());
        let lines: Vec<String> = (0..8).map(|i| template(i * 7)).collect();
        feed(&mut book, &lines);
        let source = format!("203.0.113.{}", 61 + k);
        let c = book
            .get(&key(&source))
            .unwrap_or_else(|| panic!("no candidate for {source}: {}", lines[0]));
        assert_eq!(c.class(), Class::RepeatedAttempts, "{}", lines[0]);
    }
}

#[test]
fn sshd_brute_force() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let mut lines: Vec<String> = (0..8)
        .map(|i| {
            format!(
                "Feb 25 14:34:{:02} belka sshd[31602]: Failed password for invalid user ROOT from 194.117.26.69 port {} ssh2",
                i * 7,
                50273 + i
            )
        })
        .collect();
    lines.push("Feb 25 14:35:10 belka sshd[31602]: Accepted password for root from 194.117.26.69 port 50300 ssh2".into());
    feed(&mut book, &lines);
    let c = book.get(&key("194.117.26.69")).unwrap();
    assert_eq!(c.class(), Class::RepeatedAttempts);
    assert_eq!(c.failures(), 8);
    assert_eq!(c.events(), 9);
    assert_eq!(
        c.signal_events(),
        8,
        "the success counts, but not as signal"
    );
    assert_eq!(c.reporters().0, &[b"belka".to_vec()]);
}

#[test]
fn four_failures_are_not_repeated_attempts() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let lines: Vec<String> = (0..4)
        .map(|i| format!("Feb 25 14:34:1{i} belka sshd[1]: Failed password for root from 194.117.26.70 port 5000{i} ssh2"))
        .collect();
    feed(&mut book, &lines);
    assert_eq!(
        book.get(&key("194.117.26.70")).unwrap().class(),
        Class::SingleProbe
    );
}

#[test]
fn snort_priority_one_is_an_exploit() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let lines = vec![
        "Aug  6 12:35:41 ids snort[2875]: [1:1390:5] SHELLCODE x86 inc ebx NOOP [Classification: Executable code was detected] [Priority: 1]: {TCP} 203.0.113.66:4444 -> 198.51.100.20:21".to_string(),
        "Aug  6 12:35:41 comixwall snort[2875]: [1:853:10] WEB-CGI wrap access [Classification: Attempted Information Leak] [Priority: 2]: {TCP} 198.18.0.11:35690 -> 209.85.129.147:80".to_string(),
    ];
    let changes = feed(&mut book, &lines);
    assert_eq!(
        created(&changes),
        vec![
            ("198.18.0.11".into(), Class::SingleProbe),
            ("203.0.113.66".into(), Class::IdsExploit)
        ]
    );
    let c = book.get(&key("203.0.113.66")).unwrap();
    assert!(c.score() >= 100);
    assert_eq!(c.exploit_alerts(), 1);
    let (sigs, _) = c.signatures();
    assert_eq!(sigs[0].0, b"SHELLCODE x86 inc ebx NOOP");
}

#[test]
fn exploit_by_class_name_without_priority_one() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let lines = vec![
        "Aug  6 12:35:41 ids snort[2875]: [1:2:3] WEB-MISC something [Classification: Web Application Attack] [Priority: 2]: {TCP} 203.0.113.67:4444 -> 198.51.100.20:80".to_string(),
        "Aug  6 12:35:41 ids snort[2875]: [1:2:4] ET EXPLOIT Possible CVE-2014-6271 [Classification: Misc activity] [Priority: 3]: {TCP} 203.0.113.68:4444 -> 198.51.100.20:80".to_string(),
    ];
    feed(&mut book, &lines);
    assert_eq!(
        book.get(&key("203.0.113.67")).unwrap().class(),
        Class::IdsExploit
    );
    assert_eq!(
        book.get(&key("203.0.113.68")).unwrap().class(),
        Class::IdsExploit
    );
}

#[test]
fn noise_makes_no_candidate() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let lines = vec![
        iptables("198.51.100.101", "192.0.2.10", 80, 1),
        iptables("198.51.100.102", "192.0.2.10", 443, 2),
        iptables("198.51.100.103", "192.0.2.10", 25, 3),
        iptables("198.51.100.104", "192.0.2.10", 587, 4),
        "Jan  8 03:37:09 fw kernel: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC=198.51.100.105 DST=192.0.2.10 LEN=84 TOS=0x00 PREC=0x00 TTL=56 ID=0 DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1".into(),
        "Apr 30 2013 09:23:02: %ASA-2-106006: Deny inbound UDP from 198.51.100.106/137 to 10.1.2.42/137 on interface inside".into(),
        "Jun 30 10:19:13 mars snort[6945]: [1:2100368:7] GPL ICMP_INFO PING BSDtype [Classification: Misc activity] [Priority: 3]: {ICMP} 198.51.100.107 -> 192.168.1.67".into(),
    ];
    let changes = feed(&mut book, &lines);
    assert!(created(&changes).is_empty(), "{changes:?}");
    assert!(
        book.candidates()
            .all(|c| !c.is_published() && c.class() == Class::Noise)
    );
    let ping = book.get(&key("198.51.100.105")).unwrap();
    let rule = ping.noise()[0].rule;
    assert_eq!(book.noise_policy().rule(rule).unwrap().name, "icmp-echo");
    let nb = book.get(&key("198.51.100.106")).unwrap();
    assert_eq!(
        book.noise_policy().rule(nb.noise()[0].rule).unwrap().name,
        "netbios"
    );
    assert_eq!(book.stats().folded, 7);
}

#[test]
fn noise_over_volume_raises_a_candidate() {
    let mut book = IncidentBook::new(SensorConfig::default());
    // 40 pings in 40 seconds: over the icmp-echo volume (20 in 5 minutes).
    let lines: Vec<String> = (0..40)
        .map(|i| format!("Jan  8 03:37:{i:02} fw kernel: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC=198.51.100.110 DST=192.0.2.10 LEN=84 TOS=0x00 PREC=0x00 TTL=56 ID=0 DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ={i}"))
        .collect();
    let changes = feed(&mut book, &lines);
    assert_eq!(
        created(&changes),
        vec![("198.51.100.110".into(), Class::SingleProbe)]
    );
    let c = book.get(&key("198.51.100.110")).unwrap();
    assert_eq!(c.noise()[0].events, 40);
    assert!(c.noise()[0].over_volume);
    assert!(c.signal_events() < 40);
}

#[test]
fn own_networks_loopback_self_reports_and_sourceless_lines_are_ignored() {
    let config = SensorConfig {
        own_networks: vec!["10.0.0.0/8".parse().unwrap()],
        ..SensorConfig::default()
    };
    let mut book = IncidentBook::new(config);
    let mut lines: Vec<String> = (0..20)
        .map(|i| iptables("10.1.2.3", "10.4.0.5", 1000 + i, i as u32))
        .collect();
    lines.extend([
        // The router 192.168.100.2 logging a packet of its own.
        "Feb  9 04:00:48 192.168.100.2 585918: Feb  9 04:00:47.272: %SEC-6-IPACCESSLOGSP: list INBOUND-ON-F11 denied igmp 192.168.100.2 -> 224.0.0.2 (20), 1 packet".to_string(),
        "Jun 27 15:02:51 foohost /kernel: Connection attempt to TCP 127.0.0.1:7777 from 127.0.0.1:1806 flags:0x02".to_string(),
        "Jul 20 14:42:11 localhost sshd[22708]: Server listening on 0.0.0.0 port 22.".to_string(),
        // A peer wrappers could not name, and the host about itself by name.
        "Dec 24 14:10:29 target in.finger[11244]: refused connect from unknown".to_string(),
        "Dec 24 14:10:30 target in.finger[11244]: refused connect from TARGET".to_string(),
    ]);
    let changes = feed(&mut book, &lines);
    assert!(changes.is_empty(), "{changes:?}");
    assert!(book.is_empty());
    let s = book.stats();
    assert_eq!(s.own_network, 20);
    assert_eq!(s.self_report, 2);
    assert_eq!(s.loopback, 1);
    assert_eq!(s.no_source, 2);
}

#[test]
fn prefix_grouping() {
    let config = SensorConfig {
        group_v4: 24,
        ..SensorConfig::default()
    };
    let mut book = IncidentBook::new(config);
    let lines: Vec<String> = (0..16)
        .map(|i| {
            iptables(
                &format!("203.0.113.{}", 10 + i),
                "198.51.100.20",
                3000 + i as u16,
                i,
            )
        })
        .collect();
    feed(&mut book, &lines);
    assert_eq!(book.len(), 1);
    let c = book.candidates().next().unwrap();
    assert_eq!(c.key().to_string(), "203.0.113.0/24");
    assert_eq!(c.class(), Class::PortScan);
}

#[test]
fn many_sources_one_target() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let lines: Vec<String> = (1..=30)
        .map(|i| iptables(&format!("198.18.{i}.9"), "192.0.2.22", 22, i))
        .collect();
    feed(&mut book, &lines);
    let hits = book.targets().busiest(book.clock().unwrap(), 10);
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(
        hits[0].host,
        TargetHost::Addr("192.0.2.22".parse().unwrap())
    );
    assert_eq!(hits[0].sources, 30);
    assert!(hits.iter().any(|h| h.port == Some(22)));
    // Ten minutes later the window has moved on.
    let later = book.clock().unwrap() + 600 * 1_000_000_000;
    assert!(book.targets().busiest(later, 10).is_empty());
}

#[test]
fn lifecycle_report_repeat_block_expire() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let src = "203.0.113.90";
    let first: Vec<String> = (0..3)
        .map(|i| iptables(src, "198.51.100.20", 23, i))
        .collect();
    feed(&mut book, &first);
    let k = key(src);
    let t0 = book.get(&k).unwrap().last_seen();
    let mut changes = Vec::new();
    book.mark(
        &k,
        State::Reported,
        "notice to abuse@",
        "alice",
        t0 + 1,
        &mut changes,
    )
    .unwrap();
    assert_eq!(book.get(&k).unwrap().notices(), 1);
    assert!(matches!(
        changes[0],
        Change::StateChanged {
            from: State::New,
            to: State::Reported,
            ..
        }
    ));

    // It comes back a minute later: repeated.
    let again: Vec<String> = (0..2)
        .map(|i| iptables(src, "198.51.100.20", 23, 120 + i))
        .collect();
    let changes = feed(&mut book, &again);
    assert!(
        changes.iter().any(|c| matches!(
            c,
            Change::StateChanged {
                to: State::Repeated,
                ..
            }
        )),
        "{changes:?}"
    );
    let c = book.get(&k).unwrap();
    assert_eq!(c.state(), State::Repeated);
    assert_eq!(c.history().len(), 2);
    assert_eq!(c.history()[0].who, "alice");

    // Blocked for an hour; no activity; expires to closed.
    let t1 = c.last_seen() + 1;
    let mut changes = Vec::new();
    book.mark(&k, State::Blocked, "", "bob", t1, &mut changes)
        .unwrap();
    let block = book.get(&k).unwrap().block().unwrap();
    assert_eq!(block.until - block.since, 3600 * 1_000_000_000);
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::BlockAdded { .. }))
    );
    let mut changes = Vec::new();
    book.expire(t1 + 3599 * 1_000_000_000, &mut changes);
    assert!(changes.is_empty());
    book.expire(t1 + 3600 * 1_000_000_000, &mut changes);
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::BlockEnded { expired: true, .. }))
    );
    assert_eq!(book.get(&k).unwrap().state(), State::Closed);

    // Second block lasts twice as long; activity during it sends it back to repeated.
    let t2 = t1 + 4000 * 1_000_000_000;
    let mut changes = Vec::new();
    book.mark(&k, State::Blocked, "", "bob", t2, &mut changes)
        .unwrap();
    let block = book.get(&k).unwrap().block().unwrap();
    assert_eq!(block.until - block.since, 7200 * 1_000_000_000);
    let during = vec![iptables(src, "198.51.100.20", 23, 59 * 60 + 59)];
    // Event time must pass the block start: use an explicit later stamp.
    let during: Vec<String> = during
        .into_iter()
        .map(|l| l.replacen("Jan  8 03:59:59", "Jan  8 06:00:00", 1))
        .collect();
    feed(&mut book, &during);
    let c = book.get(&k).unwrap();
    assert!(
        c.last_signal().unwrap() > block.since,
        "{} {}",
        c.last_signal().unwrap(),
        block.since
    );
    let mut changes = Vec::new();
    book.expire(block.until, &mut changes);
    assert_eq!(book.get(&k).unwrap().state(), State::Repeated);
    assert_eq!(book.get(&k).unwrap().blocks(), 2);
}

#[test]
fn stale_unless_exploit_or_huge() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let lines = vec![iptables("203.0.113.91", "198.51.100.20", 23, 0)];
    feed(&mut book, &lines);
    let c = book.get(&key("203.0.113.91")).unwrap();
    let week = 7 * 86_400 * 1_000_000_000i64;
    assert!(!c.is_stale(c.last_seen() + week - 1, week, 1500));
    assert!(c.is_stale(c.last_seen() + week + 1, week, 1500));
}

#[test]
fn eviction_and_restore() {
    let config = SensorConfig {
        max_active: 4,
        ..SensorConfig::default()
    };
    let mut book = IncidentBook::new(config);
    let mut lines: Vec<String> = (0..16)
        .map(|i| iptables("203.0.113.200", "198.51.100.20", 4000 + i as u16, i))
        .collect();
    lines.extend((1..=10).map(|i| iptables(&format!("198.18.0.{i}"), "198.51.100.20", 23, 20 + i)));
    let changes = feed(&mut book, &lines);
    assert!(book.len() <= 4);
    // The port scan has the highest score: it stays.
    assert!(book.get(&key("203.0.113.200")).is_some());
    let evicted: Vec<_> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Evicted(c) => Some(c.as_ref().clone()),
            _ => None,
        })
        .collect();
    assert!(!evicted.is_empty());
    // The receiver stores it and puts it back when its source comes again.
    let mut stored = Vec::new();
    encode_candidate(&evicted[0], &mut stored);
    let back = decode_candidate(&stored).unwrap();
    assert_eq!(back, evicted[0]);
    let k = back.key();
    let mut changes = Vec::new();
    book.restore(back, &mut changes);
    assert!(book.get(&k).is_some());
}

#[test]
fn candidates_round_trip_through_the_codec() {
    let mut book = IncidentBook::new(SensorConfig::default());
    let mut lines: Vec<String> = (0..70)
        .map(|i| {
            iptables(
                "203.0.113.50",
                &format!("198.51.{}.{}", i / 200, i % 200),
                1000 + i as u16,
                i,
            )
        })
        .collect();
    lines.push("Aug  6 12:35:41 ids snort[2875]: [1:1390:5] SHELLCODE x86 inc ebx NOOP [Classification: Executable code was detected] [Priority: 1]: {TCP} 203.0.113.66:4444 -> 198.51.100.20:21".into());
    feed(&mut book, &lines);
    let k = key("203.0.113.66");
    let mut changes = Vec::new();
    book.mark(&k, State::Blocked, "shellcode", "carol", 5, &mut changes)
        .unwrap();
    for c in book.candidates() {
        let mut bytes = Vec::new();
        encode_candidate(c, &mut bytes);
        assert_eq!(&decode_candidate(&bytes).unwrap(), c);
    }
    let scan = book.get(&key("203.0.113.50")).unwrap();
    assert!(!scan.distinct_ports().is_exact());
}
