//! `picket serve` in-process, through the library API the binary uses (the mini-redis shape):
//! `ServeConfig::build` from flags, `Listeners::bind` on port 0 inside a tokio runtime, the
//! bound address from `Listeners::tcp_addrs`, and `run` until a oneshot fires. What it read
//! is stored when it stops, `Summary.stored` says how much, and the store verifies.
// A test fails by panicking: unwrap, expect and indexing are how it says so.
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
use std::time::Duration;

use picket::FileConfig;
use picket::{Listeners, ServeArgs, ServeConfig, Summary};
use support::{stored, wait_stats};

/// `picket serve`'s flags, parsed as the binary parses them (so a new flag needs no change
/// here).
#[derive(clap::Parser)]
struct Flags {
    #[command(flatten)]
    serve: ServeArgs,
}

fn args(flags: &[&str]) -> ServeArgs {
    let argv = ["serve"].iter().chain(flags);
    <Flags as clap::Parser>::try_parse_from(argv).unwrap().serve
}

/// TCP only, on a port of its choosing.
const TCP_ON_PORT_0: &[&str] = &["--no-udp", "--tcp", "127.0.0.1:0", "--flush-interval", "50"];

fn line(i: usize) -> String {
    format!(
        "<38>Nov  8 15:26:31 gw sshd[{i}]: Failed password for root from 198.51.100.{} port {i} ssh2",
        i % 250
    )
}

/// Serves `data` in-process; `send` gets the bound TCP address and the query socket while it
/// runs, and the server is stopped when `send` returns. What `send` returns (an open
/// connection) is kept until the run has ended.
fn serve_while<T>(
    data: &Path,
    send: impl FnOnce(std::net::SocketAddr, &Path) -> T,
) -> (Summary, T) {
    let cfg = ServeConfig::build(
        data.to_path_buf(),
        &FileConfig::default(),
        &args(TCP_ON_PORT_0),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Binding needs the runtime (its sockets register with the reactor).
    let listeners = rt.block_on(async { Listeners::bind(cfg) }).unwrap();
    let tcp = listeners.tcp_addrs();
    assert_eq!(tcp.len(), 1, "{tcp:?}");
    assert_ne!(tcp[0].port(), 0, "port 0 is resolved to the port bound");
    assert!(listeners.udp_addrs().is_empty() && listeners.tls_addr().is_none());
    let sock = listeners.socket_path();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(picket::run(listeners, async {
        let _ = stopped.await;
    }));
    let kept = send(tcp[0], &sock);
    stop.send(()).unwrap();
    let summary = rt.block_on(server).unwrap().unwrap();
    assert!(!sock.exists(), "query socket left after the run");
    (summary, kept)
}

#[test]
fn serve_runs_in_process_and_stores_what_it_read_when_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let n = 5_000;
    let (summary, _open) = serve_while(&data, |tcp, sock| {
        // Some stored while it runs, seen through its query socket.
        let mut c = TcpStream::connect(tcp).unwrap();
        for i in 0..n / 2 {
            writeln!(c, "{}", line(i)).unwrap();
        }
        c.flush().unwrap();
        wait_stats(sock, Duration::from_secs(30), |s| s["stored"] == n / 2);
        // The rest read but, as far as the test knows, not stored yet when the stop comes,
        // on a connection that stays open.
        for i in n / 2..n {
            writeln!(c, "{}", line(i)).unwrap();
        }
        c.flush().unwrap();
        wait_stats(sock, Duration::from_secs(30), |s| s["received"]["tcp"] == n);
        c
    });
    assert_eq!(summary, Summary { stored: n as u64 });
    let lines = stored(&data);
    assert_eq!(lines.len(), n);
    assert!(
        lines.values().all(|c| *c == 1),
        "a message was stored twice"
    );
    assert!(lines.contains_key(&line(0)) && lines.contains_key(&line(n - 1)));
}

#[test]
fn a_port_in_use_fails_bind_before_anything_runs() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let a = args(&["--no-udp", "--tcp", &addr]);
    let cfg = ServeConfig::build(dir.path().join("data"), &FileConfig::default(), &a).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(async { Listeners::bind(cfg) })
        .err()
        .expect("bind on a port in use succeeded");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!(
            "cannot listen on tcp {}",
            taken.local_addr().unwrap()
        )) && msg.contains("in use"),
        "{msg}"
    );
}
