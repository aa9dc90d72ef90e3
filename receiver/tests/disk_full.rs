//! A full disk during `picket serve`, for real: the data directory is on a small tmpfs that a
//! filler file fills up. The log must say so at once, `stats` must show it, TCP senders must
//! be held back (not cut off), UDP drops counted under their own name, and when the filler
//! goes, ingest resumes by itself and every message sent over TCP is stored exactly once, in
//! a store that verifies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::{Picket, stats, stored, wait_stats};

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

/// Writes a file until the filesystem is full; returns its size.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0xAAu8; 64 * 1024];
    let mut n = 0u64;
    loop {
        match f.write(&block) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k as u64,
        }
    }
    let _ = f.sync_all();
    n
}

#[test]
fn a_full_disk_pauses_senders_and_ingest_resumes_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let Some(fs) = Tmpfs::mount(&dir.path().join("mnt"), "48m") else {
        // Only root (or a user namespace) can mount; CI runs as root.
        assert!(!nix_is_root(), "running as root but mount -t tmpfs failed");
        eprintln!("SKIPPED: mounting a tmpfs needs root");
        return;
    };
    let data = fs.0.join("data");
    let config = dir.path().join("picket.toml");
    // A small queue, so that backpressure reaches the sender quickly.
    std::fs::write(&config, "[writer]\nqueue_mb = 1\nbatch_events = 500\n").unwrap();
    let cfg = config.to_str().unwrap().to_string();
    let mut srv = Picket::start(&data, &["--config", &cfg]);
    let sock = srv.socket();
    let tcp = srv.tcp();

    // Some messages stored before the disk fills.
    let mut c = TcpStream::connect(tcp).unwrap();
    for i in 0..1000 {
        writeln!(c, "<13>Dec  2 10:00:00 host app: before {i:06}").unwrap();
    }
    c.flush().unwrap();
    wait_stats(&sock, Duration::from_secs(20), |s| s["stored"] == 1000);

    let filler = fs.0.join("filler");
    fill(&filler);

    // A sender with much more than the queue and the socket buffers hold.
    const N: usize = 400_000;
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let sender = std::thread::spawn(move || {
        let pad = "x".repeat(150);
        for i in 0..N {
            writeln!(c, "<13>Dec  2 10:00:01 host app: during {i:07} {pad}").unwrap();
            counter.store(i + 1, Ordering::Relaxed);
        }
        c.flush().unwrap();
    });

    srv.wait_log("the store cannot be written", Duration::from_secs(30));
    let s = wait_stats(&sock, Duration::from_secs(10), |s| {
        s["writer"]["state"] == "retrying"
    });
    let err = s["writer"]["error"].as_str().unwrap().to_lowercase();
    assert!(err.contains("space"), "the error names the cause: {err}");
    assert_eq!(
        srv.log().matches("the store cannot be written").count(),
        1,
        "logged once, not once per retry:\n{}",
        srv.log()
    );

    // The sender is held back: it makes no progress while the disk is full.
    std::thread::sleep(Duration::from_secs(1));
    let a = sent.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(2));
    let b = sent.load(Ordering::Relaxed);
    assert!(b < N, "the sender was not held back");
    assert_eq!(
        a, b,
        "the sender still makes progress while the disk is full"
    );

    // UDP cannot wait: its datagrams are dropped and counted under their own name.
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..5 {
        u.send_to(
            b"<13>Dec  2 10:00:02 host app: udp while full",
            srv.udp.unwrap(),
        )
        .unwrap();
    }
    wait_stats(&sock, Duration::from_secs(10), |s| {
        s["dropped"]["store_unavailable"].as_u64() >= Some(5)
    });
    assert_eq!(
        stats(&sock)["connections_open"],
        1,
        "the sender stays connected"
    );

    // Space returns: ingest resumes by itself.
    std::fs::remove_file(&filler).unwrap();
    srv.wait_log("the store is writable again", Duration::from_secs(30));
    sender.join().unwrap();
    let total = 1000 + N as u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    while stats(&sock)["stored"].as_u64() < Some(total) {
        assert!(
            Instant::now() < deadline,
            "not everything stored: {}",
            stats(&sock)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(stats(&sock)["writer"]["state"], "ok");
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");

    let m = stored(&data);
    let tcp_lines = m.keys().filter(|k| !k.contains("udp while full")).count();
    assert_eq!(tcp_lines, total as usize, "every TCP message is stored");
    assert!(m.values().all(|n| *n == 1), "nothing stored twice");
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}
