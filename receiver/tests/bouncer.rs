//! A scripted firewall bouncer (tests/scripts/bouncer.py, written from docs/protocol.md)
//! follows `watch` from a saved cursor, is killed mid-stream, more blocks and unblocks happen
//! while it is down, and after its restart it must hold exactly the blocks
//! `picket blocklist --format plain` prints: nothing missed, nothing twice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Picket, ask, wait_stats};

fn bouncer(sock: &Path, state: &Path) -> Child {
    Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/scripts/bouncer.py"
        ))
        .arg(sock)
        .arg(state)
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 is needed")
}

fn bouncer_blocks(state: &Path) -> Option<(u64, Vec<String>)> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(state).ok()?).ok()?;
    let blocked = v["blocked"]
        .as_array()?
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    Some((v["cursor"].as_u64()?, blocked))
}

fn blocklist(data: &Path) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(data)
        .args(["blocklist", "--format", "plain"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn mark(sock: &Path, source: &str, state: &str) {
    let r = ask(
        sock,
        &format!(r#"{{"op":"mark","source":"{source}","state":"{state}"}}"#),
    );
    assert!(r[0].get("marked").is_some(), "{r:?}");
}

/// Waits until the bouncer's saved cursor reaches `change`.
fn wait_bouncer(state: &Path, change: u64) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some((c, b)) = bouncer_blocks(state)
            && c >= change
        {
            return b;
        }
        assert!(
            Instant::now() < deadline,
            "the bouncer never reached change {change}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The number of the last stored change (from a watch that replays everything).
fn last_change(sock: &Path) -> u64 {
    let mut s = std::os::unix::net::UnixStream::connect(sock).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    writeln!(s, r#"{{"op":"watch"}}"#).unwrap();
    let mut last = 0;
    let mut r = std::io::BufReader::new(s);
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut r, &mut line).unwrap_or(0) > 0 {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        last = v["change"].as_u64().unwrap_or(last);
        line.clear();
    }
    last
}

#[test]
fn a_bouncer_killed_and_restarted_ends_with_exactly_the_blocklist() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let srv = Picket::start(&data, &["--no-udp", "--tcp", "127.0.0.1:0"]);
    let sock = srv.socket();
    // Four attackers: SSH brute forces from four addresses.
    let attackers = [
        "203.0.113.10",
        "203.0.113.11",
        "203.0.113.12",
        "203.0.113.13",
    ];
    let mut lines = Vec::new();
    for (k, a) in attackers.iter().enumerate() {
        for i in 0..6 {
            lines.push(format!(
                "<38>Dec  1 10:0{k}:{:02} host sshd[42]: Failed password for root from {a} port {} ssh2",
                i * 5,
                40000 + i
            ));
        }
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
    while ask(&sock, r#"{"op":"incidents"}"#).len() < 5 {
        assert!(Instant::now() < deadline, "no candidates");
        std::thread::sleep(Duration::from_millis(100));
    }

    mark(&sock, "203.0.113.10", "blocked");
    mark(&sock, "203.0.113.11", "blocked");
    let state = dir.path().join("bouncer.json");
    let mut b = bouncer(&sock, &state);
    let seen = wait_bouncer(&state, last_change(&sock));
    assert_eq!(seen, ["203.0.113.10", "203.0.113.11"]);
    // Killed mid-stream: what happens now it must learn from its cursor.
    b.kill().unwrap();
    b.wait().unwrap();
    mark(&sock, "203.0.113.12", "blocked");
    mark(&sock, "203.0.113.10", "closed");
    mark(&sock, "203.0.113.13", "blocked");
    mark(&sock, "203.0.113.13", "reported");
    let mut b = bouncer(&sock, &state);
    let seen = wait_bouncer(&state, last_change(&sock));
    b.kill().unwrap();
    b.wait().unwrap();
    assert_eq!(seen, ["203.0.113.11", "203.0.113.12"]);
    assert_eq!(
        seen,
        blocklist(&data),
        "the bouncer and picket blocklist agree"
    );
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
}
