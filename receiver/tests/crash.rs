//! Crash safety: `picket import` killed with SIGKILL at arbitrary points, many times over the
//! same store. After every kill the store must open, `picket verify` must pass (chain and
//! index), and every event the importer reported as flushed must be there.
// A test fails by panicking: unwrap, expect and indexing are how it says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::Picket;

fn picket() -> Command {
    Command::new(env!("CARGO_BIN_EXE_picket"))
}

/// `picket verify`: (passed, events counted).
fn verify(dir: &std::path::Path) -> (bool, u64, String) {
    let out = picket()
        .arg("--data")
        .arg(dir)
        .arg("verify")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let events = text
        .strip_prefix("all ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (out.status.success(), events, text)
}

#[test]
fn import_killed_at_random_points_loses_nothing_it_flushed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("big.log");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
        for i in 0..200_000u32 {
            let (a, b) = (i % 251, i % 13);
            match i % 3 {
                0 => writeln!(f, "Nov  8 15:26:31 gw sshd[{i}]: Failed password for root from 198.51.{b}.{a} port {i} ssh2"),
                1 => writeln!(f, "Nov  8 15:26:31 fw kernel: DROP IN=eth0 OUT= SRC=203.0.{b}.{a} DST=192.0.2.1 PROTO=TCP SPT=1 DPT=23"),
                _ => writeln!(f, "Nov  8 15:26:31 gw CRON[{i}]: (root) CMD (true)"),
            }
            .unwrap();
        }
    }
    // A fixed pseudo-random schedule of kill delays, so a failure can be reproduced.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut expected_at_least = 0u64;
    let rounds = 8;
    for round in 0..rounds {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(150 + seed % 1200);
        let mut child = picket()
            .arg("--data")
            .arg(&data)
            .args(["import", "--report-flushes", "--batch", "3000"])
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let flushed = Arc::new(Mutex::new(0u64));
        let reader = {
            let flushed = flushed.clone();
            let stdout = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some(n) = line.strip_prefix("flushed ").and_then(|n| n.parse().ok()) {
                        *flushed.lock().unwrap() = n;
                    }
                }
            })
        };
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        reader.join().unwrap();
        let reported = *flushed.lock().unwrap();
        expected_at_least += reported;
        let (ok, events, text) = verify(&data);
        assert!(
            ok,
            "round {round} (killed after {delay:?}, {status}): verify failed: {text}"
        );
        assert!(
            events >= expected_at_least,
            "round {round}: {events} events stored but {expected_at_least} were reported flushed"
        );
        eprintln!(
            "round {round}: killed after {delay:?}; {reported} reported flushed, {events} stored in all"
        );
        // What survived beyond the reported flushes counts as flushed from here on.
        expected_at_least = events;
    }
    assert!(
        expected_at_least > 0,
        "no import got far enough to flush: the test proved nothing"
    );
}

#[test]
fn serve_killed_under_load_reopens_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut total_before = 0;
    for round in 0..4 {
        // Restarted on the data directory the last round's kill left behind.
        let srv = Picket::start(
            &data,
            &[
                "--no-udp",
                "--tcp",
                "127.0.0.1:0",
                "--flush-interval",
                "100",
            ],
        );
        let mut conn = std::net::TcpStream::connect(srv.tcp()).unwrap();
        // Keep sending until the kill; the kill lands at a different point each round.
        let writer = std::thread::spawn(move || {
            let mut i = 0u64;
            loop {
                let line = format!(
                    "<38>Nov  8 15:26:31 gw sshd[{i}]: Failed password for root from 198.51.100.{} port {i} ssh2\n",
                    i % 250
                );
                if conn.write_all(line.as_bytes()).is_err() {
                    return i;
                }
                i += 1;
            }
        });
        // The sleep is the test: the kill lands at a different point of ingest each round.
        std::thread::sleep(Duration::from_millis(900 + 330 * round));
        let (status, _) = srv.kill();
        assert!(!status.success(), "serve survived kill -9: {status}");
        let sent = writer.join().unwrap();
        let (ok, events, text) = verify(&data);
        assert!(
            ok,
            "round {round}: after kill -9 of serve, verify failed: {text}"
        );
        assert!(
            events >= total_before,
            "round {round}: events went from {total_before} to {events}"
        );
        eprintln!("round {round}: {sent} lines sent, {events} events stored in all");
        total_before = events;
    }
    assert!(
        total_before > 0,
        "nothing was stored before any kill: the test proved nothing"
    );
}
