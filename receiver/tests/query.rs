//! The query socket through a real Unix socket: every op, socat as a client, 50 clients while
//! ingest runs, a tail that never reads, the socket's mode, a stale socket, bad requests.
// A test fails by panicking: unwrap, expect and indexing are how it says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Picket, ask, read_reply, wait_stored};

/// `picket serve` with TCP only, on a port of its choosing, in `dir`/data.
fn start_in(dir: &Path) -> Picket {
    Picket::start(&dir.join("data"), &["--no-udp", "--tcp", "127.0.0.1:0"])
}

fn send(to: SocketAddr, lines: &[String]) {
    let mut c = TcpStream::connect(to).unwrap();
    for l in lines {
        writeln!(c, "{l}").unwrap();
    }
}

fn lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 3 {
            0 => format!("<38>Nov  8 15:26:31 gw sshd[{i}]: Failed password for root from 198.51.100.{} port {i} ssh2", i % 5),
            1 => format!("<38>Nov  8 15:26:31 fw in.telnetd[{i}]: refused connect from 203.0.113.{}", i % 7),
            _ => format!("<13>Nov  8 15:26:31 web cron[{i}]: job {i} done"),
        })
        .collect()
}

#[test]
fn events_with_filters_paging_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start_in(dir.path());
    send(srv.tcp(), &lines(300));
    wait_stored(&srv.socket(), 300);
    let sock = srv.socket();
    let all = ask(&sock, r#"{"op":"events"}"#);
    assert_eq!(all.len(), 301);
    assert_eq!(all[300]["end"], true);
    assert_eq!(all[300]["count"], 300);
    let sshd = ask(
        &sock,
        r#"{"op":"events","dataset":"sshd","source":"198.51.100.2"}"#,
    );
    assert_eq!(sshd.len() - 1, 20);
    assert!(
        sshd[..20]
            .iter()
            .all(|e| e["source"]["ip"] == "198.51.100.2" && e["event"]["action"] == "login-failed")
    );
    let host = ask(&sock, r#"{"op":"events","host":"web","text":"job 2"}"#);
    assert!(
        host.len() > 1
            && host[..host.len() - 1]
                .iter()
                .all(|e| e["host"]["hostname"] == "web")
    );
    let newest = ask(&sock, r#"{"op":"events","order":"newest","limit":1}"#);
    assert_eq!(
        newest[0]["event"]["original"].as_str().unwrap(),
        lines(300)[299]
    );
    // Paging through a CIDR block with the cursor returns each event once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let req = match &cursor {
            None => r#"{"op":"events","source":"203.0.113.0/24","limit":17}"#.to_string(),
            Some(c) => {
                format!(r#"{{"op":"events","source":"203.0.113.0/24","limit":17,"cursor":"{c}"}}"#)
            }
        };
        let page = ask(&sock, &req);
        let end = page.last().unwrap().clone();
        seen.extend(
            page[..page.len() - 1]
                .iter()
                .map(|e| e["event"]["original"].as_str().unwrap().to_string()),
        );
        match end.get("cursor") {
            Some(c) if end["count"] == 17 => cursor = Some(c.as_str().unwrap().to_string()),
            _ => break,
        }
    }
    seen.sort();
    let before = seen.len();
    seen.dedup();
    assert_eq!((before, seen.len()), (100, 100));
    let stats = ask(&sock, r#"{"op":"stats"}"#);
    assert_eq!(stats[0]["stats"]["store"]["by_dataset"]["tcpd"], 100);
    assert_eq!(stats[1]["end"], true);
    assert!(srv.stop().0.success());
}

#[test]
fn bad_requests_get_an_error_and_the_connection_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start_in(dir.path());
    let mut s = UnixStream::connect(srv.socket()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    for (req, code) in [
        ("not json".to_string(), "bad_request"),
        (r#"{"op":"frobnicate"}"#.to_string(), "unknown_op"),
        (
            r#"{"op":"events","source":"300.1.1.1"}"#.to_string(),
            "bad_filter",
        ),
        (r#"{"op":"events","limt":5}"#.to_string(), "bad_request"),
        (
            format!(r#"{{"op":"events","text":"{}"}}"#, "x".repeat(40_000)),
            "too_long",
        ),
        (r#"{"op":"report"}"#.to_string(), "not_available"),
        (
            r#"{"op":"mark","source":"192.0.2.1"}"#.to_string(),
            "bad_filter",
        ),
    ] {
        writeln!(s, "{req}").unwrap();
        let reply = read_reply(&mut r);
        assert_eq!(reply.len(), 1, "{reply:?}");
        assert_eq!(reply[0]["error"]["code"], code, "{req:.60}: {reply:?}");
    }
    writeln!(s, r#"{{"op":"stats"}}"#).unwrap();
    let reply = read_reply(&mut r);
    assert!(reply[0].get("stats").is_some(), "{reply:?}");
    assert!(srv.stop().0.success());
}

#[test]
fn socat_is_a_client() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start_in(dir.path());
    send(srv.tcp(), &lines(3));
    wait_stored(&srv.socket(), 3);
    let mut child = Command::new("socat")
        .args([
            "-t",
            "2",
            "-",
            &format!("UNIX-CONNECT:{}", srv.socket().display()),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("socat (Debian package socat) is needed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"op\":\"events\",\"dataset\":\"tcpd\"}\n{\"op\":\"stats\"}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let replies: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(replies[0]["event"]["dataset"], "tcpd");
    assert_eq!(
        replies[1],
        serde_json::json!({"end": true, "count": 1, "cursor": replies[1]["cursor"]})
    );
    assert!(replies[2].get("stats").is_some());
    assert!(srv.stop().0.success());
}

#[test]
fn tail_follows_live_events_and_a_reader_that_never_reads_does_not_block_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start_in(dir.path());
    let sock = srv.socket();
    // A subscriber that reads, and one that never does.
    let mut reader = UnixStream::connect(&sock).unwrap();
    writeln!(reader, r#"{{"op":"tail","dataset":"sshd"}}"#).unwrap();
    let mut stuck = UnixStream::connect(&sock).unwrap();
    writeln!(stuck, r#"{{"op":"tail"}}"#).unwrap();
    // The protocol does not acknowledge a `tail` request: give the server a moment to take
    // both before the latency below is measured.
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    send(srv.tcp(), &lines(3));
    let mut r = BufReader::new(reader.try_clone().unwrap());
    let mut first = String::new();
    r.read_line(&mut first).unwrap();
    let latency = start.elapsed();
    let ev: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(ev["event"]["dataset"], "sshd");
    assert!(latency < Duration::from_secs(2), "{latency:?}");
    // Far more than the tail buffer, while `stuck` reads nothing.
    let n = 60_000;
    send(srv.tcp(), &lines(n));
    wait_stored(&sock, 3 + n as u64);
    drop(reader);
    // The stuck reader, once it reads, is told what it missed.
    let mut r = BufReader::new(stuck);
    let mut lagged = false;
    let mut line = String::new();
    for _ in 0..10_000 {
        line.clear();
        if r.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.starts_with("{\"lagged\":") {
            lagged = true;
            break;
        }
    }
    assert!(lagged, "no lagged notice");
    assert!(srv.stop().0.success());
}

#[test]
fn fifty_clients_at_once_while_ingest_runs() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start_in(dir.path());
    send(srv.tcp(), &lines(600));
    wait_stored(&srv.socket(), 600);
    let sock = srv.socket();
    let tcp = srv.tcp();
    let feeder = std::thread::spawn(move || {
        let mut c = TcpStream::connect(tcp).unwrap();
        for l in lines(20_000) {
            writeln!(c, "{l}").unwrap();
        }
    });
    let clients: Vec<_> = (0..50)
        .map(|i| {
            let sock = sock.clone();
            std::thread::spawn(move || {
                let req = match i % 3 {
                    0 => r#"{"op":"events","dataset":"sshd","limit":100}"#,
                    1 => r#"{"op":"events","source":"203.0.113.0/24","limit":50}"#,
                    _ => r#"{"op":"stats"}"#,
                };
                let reply = ask(&sock, req);
                assert_eq!(reply.last().unwrap()["end"], true, "{reply:?}");
                reply.len()
            })
        })
        .collect();
    for c in clients {
        assert!(c.join().unwrap() >= 2);
    }
    feeder.join().unwrap();
    wait_stored(&sock, 20_600);
    assert!(srv.stop().0.success());
}

#[test]
fn the_socket_is_private_stale_ones_are_replaced_and_it_is_removed_on_exit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // A socket file left behind by a crashed server.
    drop(std::os::unix::net::UnixListener::bind(data.join("picket.sock")).unwrap());
    assert!(data.join("picket.sock").exists());
    let srv = start_in(dir.path());
    let mode = std::fs::metadata(srv.socket())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let sock = srv.socket();
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    assert!(log.contains("removed a stale query socket"), "{log}");
    assert!(!sock.exists(), "socket left after a clean exit");
    // A client with no server says which socket it tried.
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["stats", "--socket", sock.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "cannot connect to the query socket {}",
            sock.display()
        )),
        "{err}"
    );
}

#[test]
fn the_query_client_prints_json_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start_in(dir.path());
    send(srv.tcp(), &lines(6));
    wait_stored(&srv.socket(), 6);
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(&srv.data)
        .args(["query", "events", "--dataset", "tcpd", "--limit", "5"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let vals: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(vals.len(), 3);
    assert_eq!(vals[0]["event"]["dataset"], "tcpd");
    assert_eq!(vals[2]["end"], true);
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(&srv.data)
        .args(["query", "events", "--dataset", "nonsense"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    // clap refuses it with the whole list of datasets.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid value 'nonsense'") && err.contains("log_in_vain"),
        "{err}"
    );
    assert!(srv.stop().0.success());
}

#[test]
fn stats_is_answered_while_the_query_socket_is_flooded_past_its_connection_limit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = dir.path().join("picket.toml");
    std::fs::write(&cfg, "[query]\nmax_connections = 3\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_picket"));
    cmd.arg("--config").arg(&cfg);
    let srv = Picket::start_with(cmd, &data, &["--no-udp", "--tcp", "127.0.0.1:0"]);
    send(srv.tcp(), &lines(30));
    wait_stored(&srv.socket(), 30);
    // A local flood: connections that hold every slot. Each asks once and stays, so that it
    // is known to hold a slot (a connection of `wait_stored` the server has not closed yet
    // may still hold one; a hog told `busy` tries again).
    let mut hogs: Vec<BufReader<UnixStream>> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while hogs.len() < 3 {
        assert!(Instant::now() < deadline, "no slot for the hogs");
        let mut c = UnixStream::connect(srv.socket()).unwrap();
        c.write_all(b"{\"op\":\"events\",\"limit\":1}\n").unwrap();
        let mut r = BufReader::new(c);
        let reply = read_reply(&mut r);
        if reply.last().is_some_and(|v| v.get("end").is_some()) {
            hogs.push(r);
        } else {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // Anything else over the limit is turned away...
    let other = ask(&srv.socket(), r#"{"op":"events","limit":1}"#);
    assert_eq!(other[0]["error"]["code"], "busy", "{other:?}");
    // ...but the operator's `picket stats` gets its counters.
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(&data)
        .args(["stats", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["stats"]["stored"], 30, "{text}");
    assert!(
        first["stats"]["query"]["refused"].as_u64().unwrap() >= 1,
        "{text}"
    );
    drop(hogs);
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
}
