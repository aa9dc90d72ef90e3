//! RELP with the real sender: rsyslogd (Debian rsyslog with rsyslog-relp) forwards numbered
//! messages to `picket serve --relp` with omrelp.
//!
//! rsyslogd runs in the foreground as a child process with its own config, pid file, work
//! directory and stats file in a temp dir. Its only input is imtcp on a loopback port that
//! `logger` feeds; its only output is omrelp to picket, through an in-memory action queue
//! that retries forever. A message is acknowledged by picket only once its batch is stored
//! and flushed, so omrelp keeps every message it has not heard acknowledged and sends it
//! again on its next session: with picket killed with SIGKILL during the stream and
//! restarted, every number still arrives at least once. The copies that arrive twice are the
//! messages picket had stored but whose `rsp` had not reached rsyslog when picket died (at
//! most omrelp's window per kill); the test counts them and checks that bound.
// A test fails by panicking: unwrap, expect and indexing are how it says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::peers::{Pki, require};
use support::{Picket, stats, wait_stats};

/// omrelp's window (librelp's default): at most this many messages unacknowledged.
const WINDOW: usize = 128;

/// Fails unless rsyslog's omrelp module is installed.
fn require_omrelp() {
    let mut dirs = vec![PathBuf::from("/usr/lib/rsyslog")];
    if let Ok(entries) = std::fs::read_dir("/usr/lib") {
        dirs.extend(entries.flatten().map(|e| e.path().join("rsyslog")));
    }
    assert!(
        dirs.iter().any(|d| d.join("omrelp.so").is_file()),
        "rsyslog's omrelp.so not found: this test needs the Debian package rsyslog-relp \
         (apt-get install rsyslog-relp; .ci/run installs it)"
    );
}

/// A running rsyslogd forwarding with omrelp; killed by pid on drop.
struct Rsyslog {
    child: Option<Child>,
    /// imtcp port `logger` sends to.
    port: u16,
    dir: tempfile::TempDir,
}

impl Rsyslog {
    /// Starts rsyslogd forwarding to picket's RELP port; returns when its input accepts.
    fn start(picket_port: u16, tls: &str) -> Rsyslog {
        let rsyslogd = require("rsyslogd", "rsyslog");
        require_omrelp();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("work")).unwrap();
        let port = support::free_port();
        let conf = format!(
            r#"# picket RELP test forwarder: nothing from the machine, nothing outside {dir}.
global(workDirectory="{dir}/work" net.enableDNS="off")
module(load="impstats" interval="1" format="json" resetCounters="off"
       log.syslog="off" log.file="{dir}/stats.json")
module(load="imtcp")
module(load="omrelp")
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="to_picket")
ruleset(name="to_picket") {{
  action(type="omrelp" name="to_picket" target="127.0.0.1" port="{picket_port}" {tls}
         queue.type="LinkedList" queue.size="200000" queue.timeoutShutdown="20000"
         action.resumeRetryCount="-1" action.resumeInterval="1")
}}
"#,
            dir = d.display()
        );
        std::fs::write(d.join("rsyslog.conf"), &conf).unwrap();
        let child = Command::new(rsyslogd)
            .arg("-f")
            .arg(d.join("rsyslog.conf"))
            .arg("-i")
            .arg(d.join("rsyslogd.pid"))
            .arg("-n")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(d.join("stdout")).unwrap())
            .stderr(std::fs::File::create(d.join("stderr")).unwrap())
            .spawn()
            .unwrap();
        let mut rs = Rsyslog {
            child: Some(child),
            port,
            dir,
        };
        let pid_file = rs.dir.path().join("rsyslogd.pid");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let written = std::fs::read_to_string(&pid_file).unwrap_or_default();
            if !written.trim().is_empty() && TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Some(st) = rs.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("rsyslogd exited at start ({st}):\n{}", rs.diagnostics());
            }
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not start:\n{}",
                rs.diagnostics()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        rs
    }

    fn diagnostics(&self) -> String {
        let d = self.dir.path();
        let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap_or_default();
        format!(
            "--- rsyslogd stderr:\n{}--- rsyslog.conf:\n{}",
            read("stderr"),
            read("rsyslog.conf")
        )
    }

    /// imtcp's `submitted` counter: messages rsyslog has read.
    fn submitted(&self) -> u64 {
        let stats = std::fs::read_to_string(self.dir.path().join("stats.json")).unwrap_or_default();
        stats
            .split_inclusive('\n')
            .filter(|l| l.ends_with('\n') && l.contains("\"origin\": \"imtcp\""))
            .filter_map(|l| {
                let rest = &l[l.find("\"submitted\": ")? + 13..];
                let end = rest.find(|c: char| !c.is_ascii_digit())?;
                rest[..end].parse().ok()
            })
            .next_back()
            .unwrap_or(0)
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The text of message number `i`.
fn numbered(i: usize) -> String {
    format!(
        "Failed password for root from 198.51.100.{} port {i} ssh2 relp-seq={i:07}",
        i % 250
    )
}

/// Sends messages `range` to rsyslog's imtcp with `logger`, one line each.
fn send(port: u16, range: std::ops::Range<usize>) {
    let logger = require("logger", "bsdutils");
    let mut child = Command::new(logger)
        .args(["-n", "127.0.0.1", "-P", &port.to_string(), "-T"])
        .args(["--rfc3164", "--id=4242", "-t", "sshd"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for i in range {
        writeln!(stdin, "{}", numbered(i)).unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success(), "logger failed");
}

/// How many times each number is stored (the store must verify).
fn numbers(data: &Path) -> BTreeMap<usize, usize> {
    let mut m = BTreeMap::new();
    for (line, count) in support::stored(data) {
        if let Some(n) = line
            .split("relp-seq=")
            .nth(1)
            .and_then(|r| r.get(..7))
            .and_then(|d| d.parse().ok())
        {
            *m.entry(n).or_insert(0) += count;
        }
    }
    m
}

/// `picket verify` on `data`: passed, and what it said.
fn verify(data: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(data)
        .arg("verify")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn start_picket(data: &Path, addr: &str, extra: &[&str]) -> (Picket, u16) {
    let mut args = vec!["--no-udp", "--no-tcp", "--relp", addr];
    args.extend(extra);
    let srv = Picket::start(data, &args);
    let port = srv.wait_addr("relp").port();
    (srv, port)
}

/// Waits until picket has stored everything it received over RELP and no more arrives for a
/// while (omrelp has nothing left to send or resend), then returns the stats.
fn wait_quiet(sock: &Path, at_least: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last = (u64::MAX, Instant::now());
    loop {
        let s = stats(sock);
        let got = s["received"]["relp"].as_u64().unwrap();
        let done = got >= at_least && s["stored"] == got && s["relp_acked"] == got;
        if got != last.0 || !done {
            last = (got, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(3) {
            return s;
        }
        assert!(Instant::now() < deadline, "RELP never went quiet: {s}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn rsyslog_omrelp_delivers_every_message_once() {
    const N: usize = 5_000;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (srv, port) = start_picket(&data, "127.0.0.1:0", &["--flush-interval", "1000"]);
    let rs = Rsyslog::start(port, "");
    let started = Instant::now();
    send(rs.port, 0..N);
    let s = wait_quiet(&srv.socket(), N as u64);
    eprintln!(
        "{N} messages through omrelp in {:?}: {s}",
        started.elapsed()
    );
    // Group commit: with a 1 s flush interval and one window of 128 per flush, 5,000
    // messages would take 40 s; acknowledged at once, they take a moment.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "RELP waited for the flush interval"
    );
    drop(rs);
    let (st, _, log) = srv.stop();
    assert!(st.success(), "picket serve failed:\n{log}");
    let got = numbers(&data);
    let missing: Vec<usize> = (0..N).filter(|i| !got.contains_key(i)).collect();
    assert!(
        missing.is_empty(),
        "{} missing, first {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let repeated: Vec<_> = got.iter().filter(|(_, c)| **c > 1).collect();
    assert!(
        repeated.is_empty(),
        "stored twice without a crash: {repeated:?}"
    );
    assert_eq!(got.len(), N);
}

/// picket killed with SIGKILL three times while omrelp streams, restarted on the same port
/// each time: every restart's store verifies, and at the end every number is there.
#[test]
fn rsyslog_omrelp_loses_nothing_across_kill_9() {
    const N: usize = 40_000;
    const ROUNDS: usize = 3;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut srv, port) = start_picket(&data, "127.0.0.1:0", &[]);
    let addr = format!("127.0.0.1:{port}");
    let rs = Rsyslog::start(port, "");
    let feeder = {
        let p = rs.port;
        std::thread::spawn(move || send(p, 0..N))
    };
    let mut kills = 0;
    for round in 0..ROUNDS {
        // Kill at a different point of each run, while messages are in flight.
        let at = 2_000 + 2_500 * round as u64;
        let sock = srv.socket();
        wait_stats(&sock, Duration::from_secs(120), |s| {
            s["stored"].as_u64().unwrap() >= at
        });
        let before = stats(&sock);
        let (st, _) = srv.kill();
        assert!(!st.success(), "picket survived kill -9");
        kills += 1;
        let (ok, text) = verify(&data);
        assert!(ok, "round {round}: verify after kill -9 failed: {text}");
        eprintln!(
            "round {round}: killed with received {} stored {} acked {}; verify: {}",
            before["received"]["relp"],
            before["stored"],
            before["relp_acked"],
            text.trim()
        );
        srv = start_picket(&data, &addr, &[]).0;
    }
    feeder.join().unwrap();
    let read_all = Instant::now() + Duration::from_secs(30);
    while rs.submitted() < N as u64 {
        assert!(
            Instant::now() < read_all,
            "rsyslog did not read all:\n{}",
            rs.diagnostics()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_quiet(&srv.socket(), 1);
    drop(rs);
    let (st, _, log) = srv.stop();
    assert!(st.success(), "picket serve failed:\n{log}");
    let got = numbers(&data);
    let missing: Vec<usize> = (0..N).filter(|i| !got.contains_key(i)).collect();
    let duplicates: usize = got.values().map(|c| c - 1).sum();
    eprintln!(
        "{N} messages, {kills} kills: {} numbers stored, {duplicates} duplicates, {} missing",
        got.len(),
        missing.len()
    );
    assert!(
        missing.is_empty(),
        "{} numbers missing after {kills} kills, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    // A duplicate is a message stored before the kill whose acknowledgement rsyslog never
    // read: at most one window per kill.
    assert!(
        duplicates <= kills * WINDOW,
        "{duplicates} duplicates for {kills} kills"
    );
}

/// omrelp's TLS settings: picket's certificate checked against the test CA and the name
/// localhost; with `client`, rsyslog presents the client certificate (mutual TLS).
fn omrelp_tls(pki: &Pki, client: bool) -> String {
    let f = |n: &str| pki.path(n).display().to_string();
    let mut t = format!(
        r#"tls="on" tls.caCert="{}" tls.authMode="name" tls.permittedPeer=["localhost"]"#,
        f("ca.pem")
    );
    if client {
        t += &format!(
            r#" tls.myCert="{}" tls.myPrivKey="{}""#,
            f("client.pem"),
            f("client.key")
        );
    }
    t
}

/// RELP over mutual TLS: rsyslog with its client certificate delivers everything once; a
/// second rsyslog without one is refused at the handshake and nothing of it is stored.
#[test]
fn rsyslog_omrelp_over_mutual_tls() {
    const N: usize = 2_000;
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (cert, key, ca) = (
        pki.path("server.pem"),
        pki.path("server.key"),
        pki.path("ca.pem"),
    );
    let args = [
        "--no-udp",
        "--no-tcp",
        "--relp-tls",
        "127.0.0.1:0",
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--client-ca",
        ca.to_str().unwrap(),
    ];
    let srv = Picket::start(&data, &args);
    let port = srv.wait_addr("secure relp").port();
    let rs = Rsyslog::start(port, &omrelp_tls(&pki, true));
    send(rs.port, 0..N);
    let s = wait_quiet(&srv.socket(), N as u64);
    assert_eq!(s["dropped"]["tls_handshake"], 0, "{s}");
    drop(rs);
    // Without a client certificate: refused, retried by rsyslog, never stored.
    let stranger = Rsyslog::start(port, &omrelp_tls(&pki, false));
    send(stranger.port, N..N + 10);
    wait_stats(&srv.socket(), Duration::from_secs(30), |s| {
        s["dropped"]["tls_handshake"].as_u64().unwrap() >= 1
    });
    drop(stranger);
    let (st, _, log) = srv.stop();
    assert!(st.success(), "picket serve failed:\n{log}");
    let got = numbers(&data);
    assert_eq!(got.len(), N, "numbers stored");
    assert!(got.values().all(|c| *c == 1), "a message stored twice");
    assert!(
        got.keys().all(|n| *n < N),
        "the stranger's messages were stored"
    );
}

/// A tmpfs mounted for the test, unmounted at the end.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A full disk: picket stops acknowledging (and reading) RELP while the store cannot be
/// written, rsyslog waits, and when space returns every message arrives, once. With the
/// sensor off: see `a_full_disk_with_the_sensor_on_keeps_the_store_usable`.
#[test]
fn a_full_disk_holds_relp_acks_until_space_returns() {
    full_disk(false);
}

/// The same with the sensor on (sshd failures make candidates, whose writes make sled take
/// snapshots sooner). Failed before the store removed the unfinished snapshot a full disk
/// leaves (`store/tests/disk_full.rs`): "Read corrupted data" at every reopen.
#[test]
fn a_full_disk_with_the_sensor_on_keeps_the_store_usable() {
    full_disk(true);
}

fn full_disk(sensor: bool) {
    const N: usize = 30_000;
    let dir = tempfile::tempdir().unwrap();
    let Some(fs) = Tmpfs::mount(&dir.path().join("mnt"), "48m") else {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        assert!(!root, "running as root but mount -t tmpfs failed");
        eprintln!("SKIPPED: mounting a tmpfs needs root");
        return;
    };
    let data = fs.0.join("data");
    let conf = dir.path().join("picket.toml");
    std::fs::write(&conf, format!("[sensor]\nenabled = {sensor}\n")).unwrap();
    let conf = conf.to_str().unwrap();
    let (mut srv, port) = start_picket(&data, "127.0.0.1:0", &["--config", conf]);
    let sock = srv.socket();
    let rs = Rsyslog::start(port, "");
    const BEFORE: usize = 10_000;
    send(rs.port, 0..BEFORE);
    wait_stats(&sock, Duration::from_secs(60), |s| {
        s["relp_acked"] == BEFORE
    });

    let filler = fs.0.join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0xAAu8; 64 * 1024];
        while matches!(f.write(&block), Ok(k) if k > 0) {}
        let _ = f.sync_all();
    }
    send(rs.port, BEFORE..N);
    srv.wait_log("the store cannot be written", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(1));
    eprintln!("DEBUG {}", srv.log());
    let a = stats(&sock);
    std::thread::sleep(Duration::from_secs(2));
    let b = stats(&sock);
    assert_eq!(b["writer"]["state"], "retrying", "{b}");
    assert_eq!(
        a["relp_acked"], b["relp_acked"],
        "acked while the disk is full"
    );
    assert_eq!(
        a["received"]["relp"], b["received"]["relp"],
        "read while the disk is full"
    );
    assert!(
        b["relp_acked"].as_u64().unwrap() <= b["stored"].as_u64().unwrap(),
        "acked more than stored: {b}"
    );
    assert!(b["relp_acked"].as_u64().unwrap() < N as u64, "{b}");
    assert_eq!(b["connections_open"], 1, "rsyslog stays connected: {b}");

    std::fs::remove_file(&filler).unwrap();
    srv.wait_log("the store is writable again", Duration::from_secs(30));
    wait_quiet(&sock, N as u64);
    drop(rs);
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    let got = numbers(&data);
    assert_eq!(got.len(), N, "every number stored");
    assert!(got.values().all(|c| *c == 1), "nothing stored twice");
}

/// Reads from a raw RELP connection until `want` frames (lines of the form librelp sends)
/// have arrived, or the peer closes; what was read.
fn read_frames(s: &mut TcpStream, want: usize) -> String {
    use std::io::Read;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // Each frame here ends at its only LF except the open answer, which has 3 more.
    while String::from_utf8_lossy(&got).matches(" rsp ").count()
        + String::from_utf8_lossy(&got)
            .matches(" serverclose ")
            .count()
        < want
    {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// The protocol as a raw client sees it: the answer to `open`, `rsp 200 OK` per message,
/// `close` answered before the connection ends, a wrong transaction number closes the
/// connection and is counted, and a stopping server says `serverclose`.
#[test]
fn relp_frames_as_librelp_expects_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (srv, port) = start_picket(&data, "127.0.0.1:0", &[]);
    let open =
        "relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog";
    let frame = |txnr: u32, cmd: &str, data: &str| {
        if data.is_empty() {
            format!("{txnr} {cmd} 0\n")
        } else {
            format!("{txnr} {cmd} {} {data}\n", data.len())
        }
    };

    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(frame(1, "open", open).as_bytes()).unwrap();
    let answer = read_frames(&mut c, 1);
    let version = env!("CARGO_PKG_VERSION");
    let offers = format!("200 OK\nrelp_version=0\nrelp_software=picket,{version}\ncommands=syslog");
    assert_eq!(answer, frame(1, "rsp", &offers));
    let msgs: String = (2..=4)
        .map(|t| frame(t, "syslog", &format!("<13>Dec  2 10:00:00 h app: raw {t}")))
        .collect();
    c.write_all(msgs.as_bytes()).unwrap();
    assert_eq!(
        read_frames(&mut c, 3),
        "2 rsp 6 200 OK\n3 rsp 6 200 OK\n4 rsp 6 200 OK\n"
    );
    c.write_all(frame(5, "close", "").as_bytes()).unwrap();
    assert_eq!(read_frames(&mut c, 2), "5 rsp 0\n", "close, then the end");

    // A transaction number out of order: the connection is closed and counted.
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(frame(1, "open", open).as_bytes()).unwrap();
    read_frames(&mut c, 1);
    c.write_all(frame(3, "syslog", "<13>skipped a number").as_bytes())
        .unwrap();
    assert_eq!(read_frames(&mut c, 1), "", "closed without an answer");
    // Not RELP at all: closed and counted too.
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(b"<13>Dec  2 10:00:00 h app: plain syslog\n")
        .unwrap();
    assert_eq!(read_frames(&mut c, 1), "");
    let s = wait_stats(&srv.socket(), Duration::from_secs(10), |s| {
        s["dropped"]["bad_frame"] == 2
    });
    assert_eq!(s["received"]["relp"], 3, "{s}");
    assert_eq!(s["relp_acked"], 3, "{s}");

    // A session open when picket stops is told so.
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(frame(1, "open", open).as_bytes()).unwrap();
    read_frames(&mut c, 1);
    let stopper = std::thread::spawn(move || srv.stop());
    assert_eq!(read_frames(&mut c, 1), "0 serverclose 0\n");
    let (st, _, log) = stopper.join().unwrap();
    assert!(st.success(), "{log}");
    let stored = support::stored(&data);
    assert_eq!(stored.len(), 3, "{stored:?}");
}

/// The allow-list holds on RELP: a sender outside it is dropped before anything is read.
#[test]
fn relp_senders_outside_the_allow_list_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (srv, port) = start_picket(&data, "127.0.0.1:0", &["--allow", "192.0.2.0/24"]);
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _ = c.write_all(b"1 open 23 relp_version=0\ncommands=syslog\n");
    assert_eq!(read_frames(&mut c, 1), "", "no answer to a refused sender");
    let s = wait_stats(&srv.socket(), Duration::from_secs(10), |s| {
        s["dropped"]["allow_list"] == 1
    });
    assert_eq!(s["received"]["relp"], 0, "{s}");
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
}
