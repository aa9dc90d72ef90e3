//! systemd socket activation, handed over the way systemd does it: listening sockets on
//! descriptors 3, 4, … (the sockets the test bound itself), `LISTEN_FDS`, `LISTEN_FDNAMES`,
//! and `LISTEN_PID` set to the pid of the process that execs picket. picket must serve on
//! exactly those sockets and bind none of its own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

use support::{Picket, wait_stored};

#[test]
fn picket_serves_on_the_sockets_systemd_hands_over() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let (udp_addr, tcp_addr) = (udp.local_addr().unwrap(), tcp.local_addr().unwrap());
    let fds = [udp.as_raw_fd(), tcp.as_raw_fd()];
    // sh sets LISTEN_PID to its own pid, which exec keeps: picket's pid, as systemd does.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=syslog-udp:syslog-tcp exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_picket"),
        "--data",
        data.to_str().unwrap(),
        "serve",
        "--flush-interval",
        "50",
    ]);
    // SAFETY: between fork and exec only dup2, which is async-signal-safe; dup2 leaves the
    // new descriptors without FD_CLOEXEC, so they survive the exec as systemd's do.
    unsafe {
        cmd.pre_exec(move || {
            // Out of the way first (the sockets may sit on 3 and 4 already, in any order),
            // then onto 3, 4: never a dup2 onto itself, which would keep FD_CLOEXEC.
            for (i, fd) in fds.iter().enumerate() {
                if libc::dup2(*fd, 100 + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for i in 0..fds.len() as i32 {
                if libc::dup2(100 + i, 3 + i) < 0 || libc::close(100 + i) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let server = Picket::start_exact(cmd, &data);
    let log = server.log();
    assert!(
        log.contains(&format!("udp socket from systemd addr={udp_addr}"))
            && log.contains(&format!("tcp socket from systemd addr={tcp_addr}")),
        "{log}"
    );
    assert_eq!(server.wait_addr("udp"), udp_addr, "{log}");
    assert_eq!(server.wait_addr("tcp"), tcp_addr, "{log}");
    // Nothing of its own: the default 0.0.0.0:5514 is not bound.
    assert!(!log.contains("5514"), "{log}");
    drop((udp, tcp)); // picket has its own copies

    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .send_to(
            b"<38>Jan  8 03:10:00 gw sshd[1]: over inherited udp",
            udp_addr,
        )
        .unwrap();
    let mut s = TcpStream::connect(tcp_addr).unwrap();
    s.write_all(b"<38>Jan  8 03:10:00 gw sshd[1]: over inherited tcp\n")
        .unwrap();
    drop(s);
    wait_stored(&server.socket(), 2);
    let (status, _, log) = server.stop();
    assert!(status.success(), "{log}");

    // A LISTEN_PID of another process: the variables are not for picket, which binds its own.
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args([
            "--data",
            data.to_str().unwrap(),
            "serve",
            "--udp",
            "127.0.0.1:0",
            "--no-tcp",
        ])
        .env("LISTEN_PID", "1")
        .env("LISTEN_FDS", "2")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let p = out;
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let _ = Command::new("kill")
        .args(["-TERM", &p.id().to_string()])
        .status();
    let o = p.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        !err.contains("from systemd") && err.contains("listening on udp"),
        "{err}"
    );
}
