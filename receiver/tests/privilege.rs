//! Least privilege without systemd: `picket serve` started as root binds a port below 1024,
//! then becomes the configured user (`--user`, the `user` key) before it opens the store. The
//! kernel's view (/proc/PID/status) is what is checked, not picket's word. Run as root (CI
//! is); as another user only the refusal of `--user` can be tried, and that is what runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use support::{Picket, stored, wait_stored};

/// Debian's unprivileged account and its group.
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// A directory the unprivileged user can enter (a tempdir is 0700 root).
fn open_dir(mode: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    dir
}

/// A free TCP port below 1024 on loopback: only root may bind it.
fn low_port() -> u16 {
    (700..1000)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("no free port in 700..1000")
}

/// The ids of a `/proc/PID/status` line (`Uid:`, `Gid:`, `Groups:`).
fn ids(pid: u32, key: &str) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} in {status}"));
    line[key.len()..]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

#[test]
fn root_binds_a_low_port_then_serves_as_the_configured_user() {
    if !is_root() {
        eprintln!("not root: the drop itself needs root (CI runs it)");
        return;
    }
    let base = open_dir(0o755);
    let data = base.path().join("data");
    let port = low_port();
    let addr = format!("127.0.0.1:{port}");
    let srv = Picket::start(&data, &["--no-udp", "--tcp", &addr, "--user", "nobody"]);
    let pid = srv.pid();
    // Real, effective, saved and filesystem ids: all nobody's, and no group of root's left.
    assert_eq!(ids(pid, "Uid:"), vec![NOBODY; 4], "{}", srv.log());
    assert_eq!(ids(pid, "Gid:"), vec![NOBODY; 4], "{}", srv.log());
    assert_eq!(ids(pid, "Groups:"), vec![NOBODY], "{}", srv.log());
    assert!(srv.log().contains("dropped root"), "{}", srv.log());
    // It still listens on the low port, and stores into the directory it made and handed over.
    let mut conn = TcpStream::connect(&addr).unwrap();
    conn.write_all(b"<38>Nov  8 15:26:31 fw1 sshd[7]: Failed password for root from 198.51.100.7 port 22 ssh2\n")
        .unwrap();
    drop(conn);
    wait_stored(&srv.socket(), 1);
    let sock = std::fs::metadata(srv.socket()).unwrap();
    assert_eq!(sock.uid(), NOBODY, "the query socket belongs to the user");
    assert_eq!(sock.mode() & 0o777, 0o600, "and no one else may use it");
    assert_eq!(std::fs::metadata(&data).unwrap().uid(), NOBODY);
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    assert_eq!(stored(&data).len(), 1);
}

#[test]
fn a_data_directory_the_user_cannot_write_is_refused_in_words() {
    if !is_root() {
        eprintln!("not root: the drop itself needs root (CI runs it)");
        return;
    }
    let base = open_dir(0o755);
    let data = base.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = serve(&data, &["--user", "nobody"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not writable by nobody") && err.contains("chown -R nobody:"),
        "{err}"
    );
}

#[test]
fn a_user_key_is_refused_when_not_started_as_root() {
    let base = open_dir(0o777);
    let data = base.path().join("data");
    // As root, become nobody first (util-linux setpriv) and ask for another account.
    let (wrapper, target) = if is_root() {
        (
            Some(["--reuid=65534", "--regid=65534", "--clear-groups"]),
            "daemon",
        )
    } else {
        (None, "root")
    };
    let out = serve(&data, &["--user", target], wrapper);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not root, so it cannot become that user"),
        "{err}"
    );
}

/// Runs `picket --data DATA serve` on loopback port 0 with `args` (optionally under
/// `setpriv WRAPPER`), expecting it to exit by itself.
fn serve(data: &Path, args: &[&str], wrapper: Option<[&str; 3]>) -> std::process::Output {
    let bin = env!("CARGO_BIN_EXE_picket");
    let mut cmd = match wrapper {
        Some(w) => {
            let mut c = Command::new("setpriv");
            c.args(w).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.arg("--data")
        .arg(data)
        .args(["serve", "--no-udp", "--tcp", "127.0.0.1:0"])
        .args(args);
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A serve that wrongly runs would never exit: bound it (its output is a few lines, well
    // within a pipe's buffer, so it cannot block on writing meanwhile).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn root_gets_a_udp_receive_buffer_past_rmem_max() {
    if !is_root() {
        eprintln!("not root: SO_RCVBUFFORCE needs CAP_NET_ADMIN (CI runs it)");
        return;
    }
    let rmem_max: usize = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let want = (rmem_max * 4).max(8 << 20);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("picket.toml");
    std::fs::write(&cfg, format!("[udp]\nreceive_buffer = {want}\n")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_picket"));
    cmd.arg("--config").arg(&cfg);
    let srv = Picket::start_with(
        cmd,
        &dir.path().join("data"),
        &["--no-tcp", "--udp", "127.0.0.1:0"],
    );
    let log = srv.log();
    let granted: usize = log
        .lines()
        .find(|l| l.contains("udp receive buffer"))
        .and_then(|l| l.split(" granted=").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no granted= in the log:\n{log}"));
    // The kernel reports twice what it grants (its bookkeeping); past rmem_max means forced.
    assert!(
        granted >= 2 * want,
        "asked {want} with rmem_max {rmem_max}, granted {granted}:\n{log}"
    );
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
}
