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

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picket_store::{Query, Store, StoreConfig};

/// A free loopback port for both UDP and TCP (probed, then released).
fn free_port() -> u16 {
    loop {
        let t = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = t.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

struct Server {
    child: Child,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_picket"))
            .arg("--data")
            .arg(&data)
            .args([
                "serve",
                "--udp",
                &addr,
                "--tcp",
                &addr,
                "--flush-interval",
                "200",
            ])
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Ready when the TCP port accepts.
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "picket serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server {
            child,
            data,
            port,
            _dir: dir,
        }
    }

    /// SIGTERM, then the exit status and the log.
    fn stop(mut self) -> (bool, String, PathBuf, tempfile::TempDir) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let out = std::mem::replace(&mut self.child, Command::new("true").spawn().unwrap())
            .wait_with_output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        (
            out.status.success(),
            log,
            self.data.clone(),
            std::mem::replace(&mut self._dir, tempfile::tempdir().unwrap()),
        )
    }
}

/// Every stored original line, with how many times it is stored.
fn stored(data: &Path) -> BTreeMap<String, usize> {
    let store = Store::open(data, &StoreConfig::default()).unwrap();
    let mut m = BTreeMap::new();
    for s in store.scan(&Query::default()) {
        let s = s.unwrap();
        let ev = s.event().unwrap();
        *m.entry(String::from_utf8_lossy(ev.original).into_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(store.verify().unwrap().problem, None);
    m
}

fn logger(port: u16, args: &[&str], msg: &str) {
    let st = Command::new("logger")
        .args(["-n", "127.0.0.1", "-P", &port.to_string()])
        .args(args)
        .arg(msg)
        .status()
        .expect("util-linux logger (Debian package bsdutils) is needed");
    assert!(st.success());
}

#[test]
fn logger_over_udp_and_tcp_in_both_formats() {
    let srv = Server::start(&[]);
    let p = srv.port;
    logger(
        p,
        &["-d", "--rfc3164", "-t", "sshd"],
        "Failed password for root from 198.51.100.7 port 4242 ssh2",
    );
    logger(
        p,
        &["-d", "--rfc5424", "-t", "in.telnetd"],
        "refused connect from 198.51.100.8",
    );
    logger(
        p,
        &["-T", "--rfc3164", "-t", "kernel"],
        "DROP IN=eth0 OUT= SRC=203.0.113.9 DST=192.0.2.1 PROTO=TCP SPT=1 DPT=23",
    );
    logger(
        p,
        &["-T", "--rfc5424", "--octet-count", "-t", "xinetd"],
        "START: ftp pid=7 from=198.51.100.10",
    );
    logger(
        p,
        &["-T", "--rfc3164", "--octet-count", "-t", "cron"],
        "plain line",
    );
    std::thread::sleep(Duration::from_millis(800));
    let (ok, log, data, _dir) = srv.stop();
    assert!(ok, "{log}");
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
    let srv = Server::start(&[]);
    let n = 100_000;
    let mut conn = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
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
    std::thread::sleep(Duration::from_millis(1500));
    let (ok, log, data, _dir) = srv.stop();
    assert!(ok, "{log}");
    let lines = stored(&data);
    assert_eq!(lines.len(), n, "{log}");
    assert!(
        lines.values().all(|c| *c == 1),
        "a message was stored twice"
    );
}

#[test]
fn a_bad_frame_closes_only_its_connection() {
    let srv = Server::start(&[]);
    let mut good = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    let mut bad = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    good.write_all(b"<13>before\n").unwrap();
    bad.write_all(b"<13>fine first\n99999999999 never\n<13>after the bad frame\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    good.write_all(b"<13>after\n").unwrap();
    // Binary garbage on a third connection is stored as what it is, and closes nothing.
    let mut junk = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    junk.write_all(b"\x00\xff\xfe\x01binary\n").unwrap();
    // A half-sent frame on a fourth.
    let mut half = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    half.write_all(b"40 <13>only part of it").unwrap();
    drop(half);
    std::thread::sleep(Duration::from_millis(800));
    drop(good);
    let (ok, log, data, _dir) = srv.stop();
    assert!(ok, "{log}");
    let lines = stored(&data);
    for want in [
        "<13>before",
        "<13>fine first",
        "<13>after",
        "<13>only part of it",
    ] {
        assert!(lines.contains_key(want), "{want:?} missing: {lines:#?}");
    }
    assert!(
        !lines.contains_key("<13>after the bad frame"),
        "read past a fatal frame"
    );
    assert!(log.contains("bad frames 1"), "{log}");
    assert!(log.contains("truncated 1"), "{log}");
}

#[test]
fn sigterm_under_load_loses_nothing_that_was_read() {
    let srv = Server::start(&[]);
    let n = 30_000;
    let mut conn = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    let mut buf = Vec::new();
    for i in 0..n {
        writeln!(buf, "<13>Nov  8 15:26:31 h app[1]: message {i}").unwrap();
    }
    conn.write_all(&buf).unwrap();
    // The connection stays open: picket must hand over what it read when told to stop.
    std::thread::sleep(Duration::from_millis(1000));
    let (ok, log, data, _dir) = srv.stop();
    assert!(ok, "{log}");
    let lines = stored(&data);
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
    let srv = Server::start(&["--allow", "10.0.0.0/8", "--allow", "2001:db8::/32"]);
    logger(srv.port, &["-d", "-t", "x"], "over udp");
    let mut c = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    let _ = c.write_all(b"<13>over tcp\n");
    drop(c);
    std::thread::sleep(Duration::from_millis(500));
    let (ok, log, data, _dir) = srv.stop();
    assert!(ok, "{log}");
    assert!(stored(&data).is_empty(), "{log}");
    // The readiness probe of Server::start is refused too.
    assert!(
        log.contains("stored 0") && log.contains("denied senders"),
        "{log}"
    );
    assert!(!log.contains("denied senders 0"), "{log}");

    let srv = Server::start(&["--allow", "127.0.0.0/8"]);
    logger(srv.port, &["-d", "-t", "x"], "allowed");
    std::thread::sleep(Duration::from_millis(500));
    let (ok, log, data, _dir) = srv.stop();
    assert!(ok, "{log}");
    assert_eq!(stored(&data).len(), 1, "{log}");
}

#[test]
fn a_config_file_sets_listeners_allow_lists_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let data = dir.path().join("from-config");
    let conf = dir.path().join("picket.toml");
    std::fs::write(
        &conf,
        format!(
            "data = \"{}\"\nmax_message = 100\n[udp]\nlisten = [\"127.0.0.1:{port}\"]\nallow = [\"10.0.0.0/8\"]\n\
             [tcp]\nlisten = [\"127.0.0.1:{port}\"]\n[writer]\nflush_interval_ms = 100\n",
            data.display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--config")
        .arg(&conf)
        .arg("serve")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut c = loop {
        if let Ok(c) = TcpStream::connect(("127.0.0.1", port)) {
            break c;
        }
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    logger(
        port,
        &["-d", "-t", "x"],
        "udp is refused by the file's allow-list",
    );
    c.write_all(format!("<13>{}\n<13>short\n", "x".repeat(300)).as_bytes())
        .unwrap();
    drop(c);
    std::thread::sleep(Duration::from_millis(600));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    let mut log = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
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
