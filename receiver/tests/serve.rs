//! `picket serve` with real senders on loopback: util-linux `logger` over UDP and TCP (RFC 3164,
//! RFC 5424, octet counting), a client sending 100,000 messages, bad frames on one connection
//! while another keeps flowing, and SIGTERM with messages in flight.
// A test fails by panicking: unwrap, expect and indexing are how it says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

use picket_store::{Query, Store, StoreConfig};
use support::{Picket, stored, wait_stats, wait_stored};

/// `picket serve` on its own data directory, UDP and TCP on loopback ports of its choosing.
fn start(args: &[&str]) -> (Picket, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let srv = Picket::start(&dir.path().join("data"), args);
    (srv, dir)
}

fn logger(to: SocketAddr, args: &[&str], msg: &str) {
    let st = Command::new("logger")
        .args(["-n", &to.ip().to_string(), "-P", &to.port().to_string()])
        .args(args)
        .arg(msg)
        .status()
        .expect("util-linux logger (Debian package bsdutils) is needed");
    assert!(st.success());
}

#[test]
fn logger_over_udp_and_tcp_in_both_formats() {
    let (srv, dir) = start(&[]);
    let (udp, tcp) = (srv.udp(), srv.tcp());
    logger(
        udp,
        &["-d", "--rfc3164", "-t", "sshd"],
        "Failed password for root from 198.51.100.7 port 4242 ssh2",
    );
    logger(
        udp,
        &["-d", "--rfc5424", "-t", "in.telnetd"],
        "refused connect from 198.51.100.8",
    );
    logger(
        tcp,
        &["-T", "--rfc3164", "-t", "kernel"],
        "DROP IN=eth0 OUT= SRC=203.0.113.9 DST=192.0.2.1 PROTO=TCP SPT=1 DPT=23",
    );
    logger(
        tcp,
        &["-T", "--rfc5424", "--octet-count", "-t", "xinetd"],
        "START: ftp pid=7 from=198.51.100.10",
    );
    logger(
        tcp,
        &["-T", "--rfc3164", "--octet-count", "-t", "cron"],
        "plain line",
    );
    wait_stored(&srv.socket(), 5);
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    let data = dir.path().join("data");
    let lines = stored(&data);
    assert_eq!(lines.len(), 5, "{lines:#?}\n{log}");
    let store = Store::open(&data, &StoreConfig::default()).unwrap();
    let mut datasets: Vec<String> = store
        .scan(&Query::default())
        .map(|s| s.unwrap().event().unwrap().dataset.as_str().to_string())
        .collect();
    datasets.sort();
    assert_eq!(datasets, ["iptables", "sshd", "syslog", "tcpd", "xinetd"]);
    assert!(
        log.contains("received udp 2 tcp 3 tls 0, stored 5"),
        "{log}"
    );
}

#[test]
fn a_hundred_thousand_messages_over_tcp_stored_exactly_once() {
    let (srv, dir) = start(&[]);
    let n = 100_000;
    let mut conn = TcpStream::connect(srv.tcp()).unwrap();
    let mut buf = Vec::with_capacity(8 << 20);
    for i in 0..n {
        let msg = format!(
            "<38>Nov  8 15:26:31 gw sshd[{i}]: Failed password for root from 198.51.{}.{} port {i} ssh2",
            i / 256 % 256,
            i % 256
        );
        // Alternate octet counting and LF framing on the same connection.
        if i % 2 == 0 {
            write!(buf, "{} {msg}", msg.len()).unwrap();
        } else {
            writeln!(buf, "{msg}").unwrap();
        }
    }
    conn.write_all(&buf).unwrap();
    drop(conn);
    wait_stored(&srv.socket(), n as u64);
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    let lines = stored(&dir.path().join("data"));
    assert_eq!(lines.len(), n, "{log}");
    assert!(
        lines.values().all(|c| *c == 1),
        "a message was stored twice"
    );
}

#[test]
fn a_bad_octet_count_costs_one_frame_not_the_connection() {
    let (srv, dir) = start(&[]);
    let sock = srv.socket();
    let mut good = TcpStream::connect(srv.tcp()).unwrap();
    let mut bad = TcpStream::connect(srv.tcp()).unwrap();
    good.write_all(b"<13>before\n").unwrap();
    // A line with an impossible count, then octet-counted frames back to back with another
    // damaged count between them (rsyslog puts no delimiter between counted frames).
    bad.write_all(b"<13>fine first\n99999999999 never\n<13>after the bad frame\n")
        .unwrap();
    bad.write_all(b"15 <13>counted one8888888888 <13>lost count17 <13>counted after")
        .unwrap();
    drop(bad);
    wait_stats(&sock, Duration::from_secs(20), |s| {
        s["dropped"]["bad_frame"] == 2 && s["stored"] == 7
    });
    good.write_all(b"<13>after\n").unwrap();
    // Binary garbage on a third connection is stored as what it is, and closes nothing.
    let mut junk = TcpStream::connect(srv.tcp()).unwrap();
    junk.write_all(b"\x00\xff\xfe\x01binary\n").unwrap();
    // A half-sent frame on a fourth.
    let mut half = TcpStream::connect(srv.tcp()).unwrap();
    half.write_all(b"40 <13>only part of it").unwrap();
    drop(half);
    wait_stored(&sock, 10);
    drop(good);
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    let lines = stored(&dir.path().join("data"));
    for want in [
        "<13>before",
        "<13>fine first",
        "99999999999 never",
        "<13>after the bad frame",
        "<13>counted one",
        "8888888888 <13>lost count",
        "<13>counted after",
        "<13>after",
        "<13>only part of it",
    ] {
        assert!(lines.contains_key(want), "{want:?} missing: {lines:#?}");
    }
    assert!(log.contains("bad frames 2"), "{log}");
    assert!(log.contains("truncated 1"), "{log}");
}

#[test]
fn sigterm_under_load_loses_nothing_that_was_read() {
    let (srv, dir) = start(&[]);
    let n = 30_000;
    let mut conn = TcpStream::connect(srv.tcp()).unwrap();
    let mut buf = Vec::new();
    for i in 0..n {
        writeln!(buf, "<13>Nov  8 15:26:31 h app[1]: message {i}").unwrap();
    }
    conn.write_all(&buf).unwrap();
    // The connection stays open: picket must hand over what it read when told to stop. Read,
    // not stored: the stop may come while some of it is still queued for the writer.
    wait_stats(&srv.socket(), Duration::from_secs(60), |s| {
        s["received"]["tcp"] == n
    });
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    let lines = stored(&dir.path().join("data"));
    assert_eq!(lines.len(), n, "{log}");
    drop(conn);
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(dir.path())
        .args(["serve", "--no-udp", "--tcp", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot listen on tcp 127.0.0.1:{port}")) && err.contains("in use"),
        "{err}"
    );
}

#[test]
fn senders_outside_the_allow_list_get_nothing_stored() {
    // Loopback is not in 10.0.0.0/8: everything is refused and counted.
    let (srv, dir) = start(&["--allow", "10.0.0.0/8", "--allow", "2001:db8::/32"]);
    logger(srv.udp(), &["-d", "-t", "x"], "over udp");
    let mut c = TcpStream::connect(srv.tcp()).unwrap();
    let _ = c.write_all(b"<13>over tcp\n");
    drop(c);
    // The datagram and the connection.
    wait_stats(&srv.socket(), Duration::from_secs(20), |s| {
        s["dropped"]["allow_list"] == 2
    });
    // A third and a fourth from the same sender: counted, not logged again.
    logger(srv.udp(), &["-d", "-t", "x"], "over udp again");
    logger(srv.udp(), &["-d", "-t", "x"], "and again");
    wait_stats(&srv.socket(), Duration::from_secs(20), |s| {
        s["dropped"]["allow_list"] == 4
    });
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    assert!(stored(&dir.path().join("data")).is_empty(), "{log}");
    assert!(
        log.contains("stored 0") && log.contains("denied senders 4"),
        "{log}"
    );
    // Logged once per sender per interval, in words, with the address.
    let refused: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("sender not in the allow-list"))
        .collect();
    assert_eq!(refused.len(), 1, "{log}");
    assert!(refused[0].contains("sender=127.0.0.1"), "{log}");

    let (srv, dir) = start(&["--allow", "127.0.0.0/8"]);
    logger(srv.udp(), &["-d", "-t", "x"], "allowed");
    wait_stored(&srv.socket(), 1);
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    assert_eq!(stored(&dir.path().join("data")).len(), 1, "{log}");
}

#[test]
fn a_config_file_sets_listeners_allow_lists_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("from-config");
    let conf = dir.path().join("picket.toml");
    // Port 0 in the file too: picket picks, and its log says which.
    std::fs::write(
        &conf,
        format!(
            "data = \"{}\"\nmax_message = 100\n[udp]\nlisten = [\"127.0.0.1:0\"]\nallow = [\"10.0.0.0/8\"]\n\
             [tcp]\nlisten = [\"127.0.0.1:0\"]\n[writer]\nflush_interval_ms = 100\n",
            data.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_picket"));
    cmd.arg("--config").arg(&conf).arg("serve");
    let srv = Picket::start_exact(cmd, &data);
    let mut c = TcpStream::connect(srv.tcp()).unwrap();
    logger(
        srv.udp(),
        &["-d", "-t", "x"],
        "udp is refused by the file's allow-list",
    );
    c.write_all(format!("<13>{}\n<13>short\n", "x".repeat(300)).as_bytes())
        .unwrap();
    drop(c);
    wait_stats(&srv.socket(), Duration::from_secs(20), |s| {
        s["stored"] == 2 && s["dropped"]["allow_list"] == 1
    });
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    let lines = stored(&data);
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines.keys().any(|l| l.len() == 100),
        "the long line is cut at 100 bytes: {lines:?}"
    );
    assert!(
        log.contains("truncated 1") && log.contains("denied senders 1"),
        "{log}"
    );
}

#[test]
fn a_typo_in_the_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("picket.toml");
    std::fs::write(&conf, "[tcp]\nmax_conections = 5\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--config")
        .arg(&conf)
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("picket.toml") && err.contains("max_conections"),
        "{err}"
    );
}

#[test]
fn udp_bursts_from_several_senders_are_stored_whole_and_stats_shows_queue_and_commits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let conf = dir.path().join("picket.toml");
    std::fs::write(
        &conf,
        format!(
            "data = \"{}\"\n[udp]\nlisten = [\"127.0.0.1:0\"]\n[tcp]\nlisten = [\"127.0.0.1:0\"]\n\
             [writer]\nqueue_mb = 3\nflush_interval_ms = 100\n",
            data.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_picket"));
    cmd.arg("--config").arg(&conf).arg("serve");
    let srv = Picket::start_exact(cmd, &data);
    let to = srv.udp();
    // Three senders, datagrams of 30 to ~1,500 bytes, some ending in the LF, CR or NUL that
    // senders append; pauses keep the burst inside the socket buffer.
    let senders: Vec<_> = (0..3)
        .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let n = 6_000;
    let mut want = std::collections::BTreeMap::new();
    for i in 0..n {
        let pad = "p".repeat(i * 7 % 1_400);
        let msg = format!("<13>Nov  8 15:26:31 gw tag[{i}]: datagram {i} {pad}");
        let tail = ["", "\n", "\r\n", "\0"][i % 4];
        senders[i % 3]
            .send_to(format!("{msg}{tail}").as_bytes(), to)
            .unwrap();
        want.insert(msg, 1usize);
        if i % 500 == 499 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let s = wait_stored(&srv.socket(), n as u64);
    assert_eq!(s["received"]["udp"], n as u64, "{s}");
    assert_eq!(s["dropped"]["queue_full"], 0, "{s}");
    let q = &s["queue"];
    assert_eq!(q["capacity_bytes"], 3u64 << 20, "{s}");
    assert_eq!(
        (q["bytes"].as_u64(), q["messages"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    assert!(q["peak_bytes"].as_u64().unwrap() > 0, "{s}");
    let c = &s["commits"];
    assert_eq!(c["messages"], n as u64, "{s}");
    assert!(c["count"].as_u64().unwrap() >= 1, "{s}");
    let (p50, p99, max) = (
        c["p50_us"].as_u64().unwrap(),
        c["p99_us"].as_u64().unwrap(),
        c["max_us"].as_u64().unwrap(),
    );
    assert!(0 < p50 && p50 <= p99 && p99 <= max, "{s}");
    // Memory as the kernel counts it for this process (what `ps` shows), not an estimate.
    let m = &s["memory"];
    let (rss, peak) = (
        m["rss_bytes"].as_u64().unwrap(),
        m["peak_rss_bytes"].as_u64().unwrap(),
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", srv.pid())).unwrap();
    let hwm: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(
        1 << 20 < rss && rss <= peak && peak <= hwm * 1024,
        "{s} {hwm} kB"
    );
    // What the bursts freed is handed back within seconds of being stored, not held.
    let s = wait_stats(&srv.socket(), Duration::from_secs(30), |s| {
        s["memory"]["heap_trims"].as_u64() >= Some(1)
    });
    assert!(s["memory"]["last_trim_us"].is_u64(), "{s}");
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    assert_eq!(stored(&data), want, "{log}");
}
