//! Sources known only by name, resolved for real: a DNS server the test runs on loopback
//! (UDP, answering A queries from a table, NXDOMAIN otherwise) and `picket serve` with
//! `[sensor] resolve = true` pointed at it. An SSH brute force logged partly under the
//! attacker's name and partly under its address must end as one candidate under the
//! address, with all its events and the name kept; a name that does not resolve stays a
//! candidate of its own under the name.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Picket, ask, wait_stats};

/// A DNS server for one zone table; counts the queries it answered.
fn dns_server(
    table: &'static [(&'static str, [u8; 4])],
) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                return;
            };
            let q = &buf[..n];
            // The question: labels from offset 12 to the zero byte, then type and class.
            let mut at = 12;
            let mut name = Vec::new();
            while q[at] != 0 {
                let len = q[at] as usize;
                if !name.is_empty() {
                    name.push(b'.');
                }
                name.extend_from_slice(&q[at + 1..at + 1 + len]);
                at += 1 + len;
            }
            let qtype = u16::from_be_bytes([q[at + 1], q[at + 2]]);
            let question_end = at + 5;
            seen.fetch_add(1, Ordering::Relaxed);
            let name = String::from_utf8_lossy(&name).to_lowercase();
            let hit = table.iter().find(|(n, _)| *n == name);
            let mut r = q[..question_end].to_vec();
            r[2] = 0x81;
            r[3] = match hit {
                Some(_) => 0x80,
                None => 0x83, // NXDOMAIN
            };
            if let (Some((_, a)), 1) = (hit, qtype) {
                r[7] = 1;
                r.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4]);
                r.extend_from_slice(a);
            }
            let _ = sock.send_to(&r, from);
        }
    });
    (addr, count)
}

fn find<'a>(list: &'a [Value], source: &str) -> Option<&'a Value> {
    list.iter().find(|c| c["source"] == source)
}

#[test]
fn a_name_resolves_and_its_candidate_merges_into_the_address() {
    static TABLE: [(&str, [u8; 4]); 1] = [("attacker.example.com", [198, 51, 100, 77])];
    let (dns, queries) = dns_server(&TABLE);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("picket.toml");
    std::fs::write(
        &config,
        format!("[sensor]\nresolve = true\nresolver = \"{dns}\"\n"),
    )
    .unwrap();
    let cfg = config.to_str().unwrap().to_string();
    let data = dir.path().join("data");
    let srv = Picket::start(
        &data,
        &["--config", &cfg, "--no-udp", "--tcp", "127.0.0.1:0"],
    );
    let sock = srv.socket();

    let mut lines = Vec::new();
    // Six failures under the name (PAM's rhost= and sshd's own line), four under the address.
    for i in 0..3 {
        lines.push(format!("<38>Dec  1 10:00:{:02} host sshd[42]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=attacker.example.com  user=root", i * 4));
        lines.push(format!("<38>Dec  1 10:00:{:02} host sshd[42]: Failed password for root from attacker.example.com port 22 ssh2", i * 4 + 1));
    }
    for i in 0..4 {
        lines.push(format!("<38>Dec  1 10:01:{:02} host sshd[43]: Failed password for root from 198.51.100.77 port {} ssh2", i * 3, 40000 + i));
    }
    // TCP wrappers refusing a host whose name does not resolve.
    for i in 0..6 {
        lines.push(format!("<38>Dec  1 10:02:{:02} linux in.telnetd[812]: refused connect from 7dyn94.ztm.casema.net", i));
    }
    let mut c = TcpStream::connect(srv.tcp()).unwrap();
    for l in &lines {
        writeln!(c, "{l}").unwrap();
    }
    drop(c);
    wait_stats(&sock, Duration::from_secs(20), |s| {
        s["stored"] == lines.len()
    });

    let deadline = Instant::now() + Duration::from_secs(20);
    let list = loop {
        let r = ask(&sock, r#"{"op":"incidents"}"#);
        let list = r[..r.len() - 1].to_vec();
        let merged = find(&list, "198.51.100.77").is_some_and(|c| c["events"] == 10);
        if (merged && find(&list, "attacker.example.com").is_none()) || Instant::now() > deadline {
            break list;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let addr = find(&list, "198.51.100.77").unwrap_or_else(|| panic!("{list:#?}"));
    assert_eq!(addr["events"], 10, "both halves in one candidate: {addr}");
    assert_eq!(addr["class"], "repeated-attempts");
    assert!(
        find(&list, "attacker.example.com").is_none(),
        "the name's candidate is gone: {list:#?}"
    );
    let one = ask(&sock, r#"{"op":"incident","source":"198.51.100.77"}"#);
    let names = one[0]["incident"]["names"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        names.iter().any(|n| n == "attacker.example.com"),
        "the name is kept: {}",
        one[0]
    );
    let unresolved = find(&list, "7dyn94.ztm.casema.net").unwrap_or_else(|| panic!("{list:#?}"));
    assert_eq!(unresolved["events"], 6);
    // Each name was asked for at most twice (A, then AAAA when there is no A).
    assert!(
        queries.load(Ordering::Relaxed) <= 4,
        "{} queries",
        queries.load(Ordering::Relaxed)
    );
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
}
