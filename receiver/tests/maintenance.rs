//! `picket verify`, `import` and `vacuum` while `picket serve` runs (through its query socket)
//! and while it does not (on the store itself); the words a user gets when the store is
//! locked and no socket answers; every client finding the server through the config's
//! `socket` key.
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
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use support::{Picket, stats, stored, wait_stats};

fn picket(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Sends numbered lines over TCP until `stop`; how many it sent.
fn sender(addr: std::net::SocketAddr, stop: Arc<AtomicBool>, sent: Arc<AtomicU64>) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        writeln!(
            s,
            "<38>Jan  8 03:10:00 belka sshd[1]: Failed password for root from 192.0.2.9 port {n} ssh2 live"
        )
        .unwrap();
        n += 1;
        sent.store(n, Ordering::Relaxed);
        if n.is_multiple_of(50) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn write_log(path: &Path, n: usize) {
    let mut f = std::fs::File::create(path).unwrap();
    for i in 0..n {
        writeln!(
            f,
            "Dec  1 10:{:02}:{:02} gw sshd[411]: Failed password for root from 203.0.113.{} port {i} ssh2",
            (i / 60) % 60,
            i % 60,
            i % 200
        )
        .unwrap();
    }
}

#[test]
fn verify_import_and_vacuum_go_through_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let server = Picket::start(&data, &[]);
    let sock = server.socket();
    // Ingest goes on the whole time.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let feeder = {
        let (stop, sent, addr) = (stop.clone(), sent.clone(), server.tcp());
        std::thread::spawn(move || sender(addr, stop, sent))
    };
    wait_stats(&sock, Duration::from_secs(30), |s| {
        s["stored"].as_u64() > Some(500)
    });

    let log = dir.path().join("old.log");
    write_log(&log, 30_000);
    let o = picket(&["--data", d, "import", log.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "import: {out}{err}");
    assert!(
        err.contains("imported 30000 lines from 1 file(s) into the running server")
            && err.contains("30000 stored")
            && err.contains("sshd         30000"),
        "{err}"
    );

    let o = picket(&["--data", d, "verify"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "verify: {out}{err}");
    assert!(
        out.starts_with("all ") && out.contains(" verify; chain head "),
        "{out}"
    );

    let o = picket(&["--data", d, "vacuum", "--max-age", "1d"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "vacuum: {out}{err}");
    assert!(out.starts_with("removed 0 events in 0 batches; "), "{out}");

    stop.store(true, Ordering::Relaxed);
    feeder.join().unwrap();
    let live = sent.load(Ordering::Relaxed);
    wait_stats(&sock, Duration::from_secs(30), |s| s["stored"] == live);
    assert_eq!(stats(&sock)["store"]["events"], live + 30_000);
    let (status, _, log_text) = server.stop();
    assert!(status.success(), "{log_text}");

    // Every imported line is stored once, beside every live one; the store verifies.
    let all = stored(&data);
    assert_eq!(all.values().sum::<usize>() as u64, live + 30_000);
    let imported = all.iter().filter(|(l, _)| l.contains(" gw sshd")).count();
    assert_eq!(imported, 30_000);
    assert!(all.values().all(|n| *n == 1));

    // With the server stopped, the same commands work on the store itself.
    let o = picket(&["--data", d, "verify"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "offline verify: {out}{err}");
    assert!(
        out.starts_with(&format!("all {} events in ", live + 30_000)),
        "{out}"
    );
    let o = picket(&["--data", d, "vacuum", "--max-size", "1"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("; 0 events remain"), "{:?}", text(&o));
}

#[test]
fn a_locked_store_says_who_holds_it_and_clients_follow_the_config_socket() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let other = dir.path().join("elsewhere.sock");
    let cfg = dir.path().join("picket.toml");
    std::fs::write(
        &cfg,
        format!(
            "data = \"{d}\"\nsocket = \"{}\"\n[udp]\nlisten = []\n[tcp]\nlisten = [\"127.0.0.1:0\"]\n",
            other.display()
        ),
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_picket"));
    cmd.args(["--config", c, "serve"]);
    let server = Picket::start_exact(cmd, &data);
    let pid = server.pid();

    // Without the config, nothing answers on DATA/picket.sock and the store is locked.
    let log = dir.path().join("old.log");
    write_log(&log, 10);
    for args in [
        vec!["--data", d, "verify"],
        vec!["--data", d, "vacuum", "--max-age", "30d"],
        vec!["--data", d, "import", log.to_str().unwrap()],
    ] {
        let o = picket(&args);
        let (out, err) = text(&o);
        assert!(!o.status.success(), "{args:?}: {out}{err}");
        assert!(
            err.contains(&format!("is locked by process {pid} ("))
                && err.contains("serve)")
                && err.contains("no server answers on the query socket")
                && err.contains("give --socket PATH"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("WouldBlock"), "{err}");
    }

    // With it, every client finds the server.
    let o = picket(&["--config", c, "import", log.to_str().unwrap()]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("into the running server"),
        "{:?}",
        text(&o)
    );
    for args in [
        vec!["--config", c, "verify"],
        vec!["--config", c, "vacuum", "--max-age", "3650d"],
        vec!["--config", c, "stats"],
        vec!["--config", c, "query", "events", "--limit", "1"],
        vec!["--config", c, "tail", "--limit", "0"],
        vec!["--config", c, "incidents"],
        vec!["--config", c, "blocklist"],
        vec!["--data", d, "verify", "--socket", other.to_str().unwrap()],
    ] {
        let o = picket(&args);
        assert!(o.status.success(), "{args:?}: {:?}", text(&o));
    }
    let o = picket(&["--config", c, "mark", "198.51.100.99", "closed"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no candidate"), "{err}");
    let (status, _, log_text) = server.stop();
    assert!(status.success(), "{log_text}");
}

#[test]
fn the_same_file_twice_is_skipped_with_a_warning_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let log = dir.path().join("auth.log");
    write_log(&log, 40);
    let copy = dir.path().join("auth.log.renamed");
    std::fs::copy(&log, &copy).unwrap();
    let l = log.to_str().unwrap();

    // Offline.
    assert!(picket(&["--data", d, "import", l]).status.success());
    let o = picket(&["--data", d, "import", copy.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("picket: skipping ")
            && err.contains("the same file was imported before (on ")
            && err.contains(" as ")
            && err.contains(", 40 lines); --force imports it again")
            && err.contains("0 stored"),
        "{err}"
    );
    // Through the server: the same record.
    let server = Picket::start(&data, &[]);
    let o = picket(&["--data", d, "import", l]);
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("the same file was imported before"), "{err}");
    assert_eq!(stats(&server.socket())["store"]["events"], 40);
    let o = picket(&["--data", d, "import", "--force", l]);
    let (_, err) = text(&o);
    assert!(err.contains("40 stored"), "{err}");
    assert_eq!(stats(&server.socket())["store"]["events"], 80);
    assert!(server.stop().0.success());
    let o = picket(&["--data", d, "import", "--force", l]);
    assert!(text(&o).1.contains("40 stored"), "{:?}", text(&o));
    assert_eq!(stored(&data).values().sum::<usize>(), 120);
}
