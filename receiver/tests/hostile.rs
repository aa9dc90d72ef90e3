//! Hostile and broken senders against a real `picket serve` on loopback (issue 14, item 4; the
//! full-size run is bench/hostile.sh): 650 idle TCP connections against a budget of 600,
//! slow-loris senders trickling a byte at a time, TLS clients that send garbage or stall
//! inside the handshake, oversize frames, absurd octet counts, invalid UTF-8, NUL, ANSI
//! escapes and other control bytes, a flood of query clients, oversize requests and readers
//! that never read, all at once while an honest sender sends numbered lines. Every honest
//! line must be stored, every refusal counted in `stats`, picket's memory must stay under a
//! bound derived from its configuration, and no picket command may write a control byte from
//! the network to its stdout.
// A test fails by panicking: unwrap, expect and indexing are how it says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support::{Picket, stored, wait_stats};

// The configuration the server runs with; the memory bound is derived from it.
const MAX_MESSAGE: u64 = 4096;
const MAX_CONNECTIONS: u64 = 600;
const IDLE_SECS: u64 = 4;
const QUEUE_MB: u64 = 8;
const CACHE_MB: u64 = 16;
const BATCH_EVENTS: u64 = 2000;
const QUERY_CONNECTIONS: u64 = 32;
const QUERY_WRITE_SECS: u64 = 2;
const QUERY_IDLE_SECS: u64 = 3;
/// serve's TLS handshake timeout (serve/tls.rs), not configurable.
const HANDSHAKE_SECS: u64 = 10;

const HONEST: usize = 20_000;

/// A self-signed certificate for 127.0.0.1 (rcgen), as cert.pem and key.pem in `dir`.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k)
}

/// `picket serve` with TCP and TLS on loopback and every limit of this test set.
fn start(dir: &Path) -> Picket {
    let (cert, key) = certificate(dir);
    let cfg = dir.join("picket.toml");
    std::fs::write(
        &cfg,
        format!(
            "[writer]\nqueue_mb = {QUEUE_MB}\nbatch_events = {BATCH_EVENTS}\n\
             [store]\ncache_mb = {CACHE_MB}\n\
             [query]\nmax_connections = {QUERY_CONNECTIONS}\nmax_streams = 4\n\
             idle_timeout_secs = {QUERY_IDLE_SECS}\nwrite_timeout_secs = {QUERY_WRITE_SECS}\n"
        ),
    )
    .unwrap();
    let (max_message, max_conns, idle) = (
        MAX_MESSAGE.to_string(),
        MAX_CONNECTIONS.to_string(),
        IDLE_SECS.to_string(),
    );
    Picket::start(
        &dir.join("data"),
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--no-udp",
            "--tcp",
            "127.0.0.1:0",
            "--tls",
            "127.0.0.1:0",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--max-message",
            &max_message,
            "--max-connections",
            &max_conns,
            "--idle-timeout",
            &idle,
        ],
    )
}

/// A field of /proc/PID/status in KiB (VmRSS, VmHWM); None once the process is gone.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// The most memory picket may use, from its configuration (as bench/hostile.sh derives it):
/// what it used at start, the sled cache, the queue, one write batch and the live tail's ring
/// of full-size messages; per stream connection a 64 KiB read buffer, a partial message and
/// 32 KiB of TLS record buffers; per query connection a request of at most 16 KiB and its read
/// chunk.
fn memory_bound_kib(start_kib: u64) -> u64 {
    let max_kib = MAX_MESSAGE.div_ceil(1024);
    start_kib
        + CACHE_MB * 1024
        + QUEUE_MB * 1024
        + BATCH_EVENTS * max_kib
        + 4096 * max_kib
        + MAX_CONNECTIONS * (64 + max_kib + 32)
        + QUERY_CONNECTIONS * (16 + 4)
}

/// Samples VmRSS every 50 ms until `stop`; the highest value seen, in KiB.
fn rss_sampler(pid: u32, stop: Arc<AtomicBool>) -> JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while !stop.load(Ordering::Relaxed) {
            let Some(now) = status_kib(pid, "VmRSS") else {
                break;
            };
            peak = peak.max(now);
            std::thread::sleep(Duration::from_millis(50));
        }
        peak
    })
}

/// True once the server has closed the connection (end of stream or reset); false while it
/// is still open after `wait`.
fn closed_by_server(s: &mut TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut b = [0u8; 4096];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// What a slow loris sends, a byte at a time.
const LORIS: &str = "<13>Dec  2 12:00:00 loris app: never ends ";

/// A sender that trickles one byte every `every` of a message that never ends; the time from
/// its connect until the server closed it (None: still open after `give_up`).
fn slow_loris(to: SocketAddr, every: Duration, give_up: Duration) -> JoinHandle<Option<Duration>> {
    std::thread::spawn(move || {
        let t = Instant::now();
        let mut s = TcpStream::connect(to).unwrap();
        let msg = LORIS.as_bytes();
        let mut i = 0;
        while t.elapsed() < give_up {
            if s.write_all(&msg[i % msg.len()..][..1]).is_err() {
                return Some(t.elapsed());
            }
            i += 1;
            if closed_by_server(&mut s, every) {
                return Some(t.elapsed());
            }
        }
        None
    })
}

/// Numbered lines over one TCP connection, in writes of 200 lines, about 20,000 a second.
fn honest(to: SocketAddr, n: usize) -> JoinHandle<Duration> {
    std::thread::spawn(move || {
        let t = Instant::now();
        let mut s = TcpStream::connect(to).unwrap();
        for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
            let mut buf = Vec::new();
            for i in chunk {
                writeln!(buf, "<13>Dec  2 12:00:00 honest app[1]: honest seq {i:06}").unwrap();
            }
            s.write_all(&buf).unwrap();
            std::thread::sleep(Duration::from_millis(10));
        }
        t.elapsed()
    })
}

/// The first bytes of a TLS ClientHello (a record header announcing 256 bytes, then the
/// handshake header): the server waits for the rest, which never comes.
const HALF_CLIENT_HELLO: &[u8] = &[
    0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0xfc, 0x03, 0x03, 0x00, 0x01, 0x02,
];

/// Bytes that are no TLS at all (a fixed pseudo-random sequence).
fn garbage(seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..512)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}

/// Lines with bytes a terminal would act on: ANSI escapes (clear screen, colours, a window
/// title), other C0 controls, DEL, a C1 CSI in UTF-8 and raw, invalid UTF-8, a NUL.
fn nasty(tag: &str) -> Vec<Vec<u8>> {
    [
        &b"ansi \x1b[2J\x1b[31mred\x1b[0m \x1b]0;title\x07 end"[..],
        b"controls \x01\x02\x07\x08\x0b\x0c\x0e\x1f\x7f end",
        "c1 \u{9b}31m and \u{85} end".as_bytes(),
        b"raw c1 \x9b31m invalid \xff\xfe\xc3\x28 \xed\xa0\x80 end",
        b"nul\x00 after the nul",
    ]
    .iter()
    .map(|body| {
        let mut l = format!("<13>Dec  2 12:00:00 nasty app: {tag} ").into_bytes();
        l.extend_from_slice(body);
        l
    })
    .collect()
}

/// Sends each line octet-counted (so NUL and LF inside stay part of the message).
fn send_counted(to: SocketAddr, lines: &[Vec<u8>]) {
    let mut s = TcpStream::connect(to).unwrap();
    for l in lines {
        write!(s, "{} ", l.len()).unwrap();
        s.write_all(l).unwrap();
    }
}

/// Broken frames on one connection: oversize (LF and octet-counted), two absurd octet
/// counts, and the nasty lines. Truncated 2, bad frames 2.
fn broken_frames(to: SocketAddr) {
    let mut s = TcpStream::connect(to).unwrap();
    let big = format!(
        "<13>Dec  2 12:00:00 big app: {}",
        "A".repeat(4 * MAX_MESSAGE as usize)
    );
    writeln!(s, "{big}").unwrap();
    write!(s, "{} {big}", big.len()).unwrap();
    s.write_all(b"99999999999 <13>absurd count\n<13>after absurd\n")
        .unwrap();
    s.write_all(b"88888888888 <13>absurd again 17 <13>counted after")
        .unwrap();
    drop(s);
    send_counted(to, &nasty("stored"));
}

/// Runs `picket ARGS` on a pty (util-linux `script`): the bytes the terminal got.
fn on_terminal(data: &Path, args: &str) -> Vec<u8> {
    let o = support::on_terminal_command(data, args)
        .stdin(Stdio::null())
        .output()
        .expect("util-linux script (package bsdutils)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    o.stdout
}

/// What in output a terminal would act on: anything that is not UTF-8 (a raw C1 byte such as
/// 0x9b is a CSI to some terminals), C0 controls but LF, CR and TAB, DEL, and C1 controls
/// (U+0080-U+009F).
fn raw_controls(out: &[u8]) -> Vec<String> {
    let Ok(text) = std::str::from_utf8(out) else {
        return vec!["not UTF-8".into()];
    };
    let mut bad: Vec<String> = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .map(|c| format!("U+{:04X}", u32::from(c)))
        .collect();
    bad.dedup();
    bad
}

#[test]
fn hostile_senders_are_bounded_counted_and_an_honest_one_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let srv = start(dir.path());
    let (tcp, tls, sock) = (srv.tcp(), srv.tls(), srv.socket());
    let pid = srv.pid();
    let start_kib = status_kib(pid, "VmRSS").unwrap();
    let bound = memory_bound_kib(start_kib);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = rss_sampler(pid, stop.clone());
    let t0 = Instant::now();

    // The honest sender first: it holds its connection slot before the flood takes the rest.
    let honest = honest(tcp, HONEST);
    // Slow loris: a byte every 500 ms; each must be closed at the idle timeout.
    let loris: Vec<_> = (0..5)
        .map(|_| {
            slow_loris(
                tcp,
                Duration::from_millis(500),
                Duration::from_secs(IDLE_SECS + 10),
            )
        })
        .collect();
    // TLS: garbage instead of a ClientHello (refused at once), and handshakes that stall.
    let tls_clients: Vec<JoinHandle<(bool, Duration)>> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let t = Instant::now();
                let mut s = TcpStream::connect(tls).unwrap();
                let stalls = i >= 5;
                let hello = if stalls {
                    HALF_CLIENT_HELLO.to_vec()
                } else {
                    garbage(i)
                };
                let _ = s.write_all(&hello);
                let closed = closed_by_server(&mut s, Duration::from_secs(HANDSHAKE_SECS + 5));
                (stalls, if closed { t.elapsed() } else { Duration::MAX })
            })
        })
        .collect();
    broken_frames(tcp);
    // 650 idle connections against a budget of 600 (less the ones above): the rest are
    // refused and counted; the accepted ones are closed at the idle timeout.
    let mut idle = Vec::new();
    for _ in 0..650 {
        if let Ok(s) = TcpStream::connect(tcp) {
            idle.push(s);
        }
    }
    // The query socket: requests of 1 MiB, and a flood of connections beyond its limit
    // (readers that never read come below, once there are events to read).
    let too_long: Vec<String> = (0..3)
        .map(|_| {
            let mut s = UnixStream::connect(&sock).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut req = b"{\"op\":\"events\",\"text\":\"".to_vec();
            req.extend(std::iter::repeat_n(b'z', 1 << 20));
            let _ = s.write_all(&req);
            let mut reply = [0u8; 512];
            let n = s.read(&mut reply).unwrap_or(0);
            String::from_utf8_lossy(&reply[..n]).into_owned()
        })
        .collect();
    let flood: Vec<UnixStream> = (0..100)
        .filter_map(|_| UnixStream::connect(&sock).ok())
        .collect();

    let honest_took = honest.join().unwrap();
    // Readers that ask for every event, now that there are thousands and the flood has
    // gone, and never read.
    drop(flood);
    wait_stats(&sock, Duration::from_secs(30), |s| {
        s["store"]["events"].as_u64() >= Some(HONEST as u64)
    });
    let mut noread: Vec<UnixStream> = (0..2)
        .map(|_| {
            let mut s = UnixStream::connect(&sock).unwrap();
            s.write_all(b"{\"op\":\"events\"}\n").unwrap();
            s
        })
        .collect();
    let loris: Vec<Option<Duration>> = loris.into_iter().map(|h| h.join().unwrap()).collect();
    let tls_clients: Vec<(bool, Duration)> =
        tls_clients.into_iter().map(|h| h.join().unwrap()).collect();
    drop(idle);
    // The server gave up on the readers that never read: what it had written, then the end.
    for r in &mut noread {
        r.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut sink = Vec::new();
        let end = r.read_to_end(&mut sink);
        assert!(
            !matches!(&end, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
            "a reader that never read was kept: {end:?} after {} bytes",
            sink.len()
        );
        // It had its reply's first part, not its end.
        let got = String::from_utf8_lossy(&sink);
        assert!(
            got.starts_with("{\"@timestamp\"") && !got.contains("\"end\":true"),
            "{} bytes, ending {:?}",
            got.len(),
            &got[got.len().saturating_sub(200)..]
        );
    }

    // Every honest line stored, and every refusal counted.
    let s = wait_stats(&sock, Duration::from_secs(30), |s| {
        s["store"]["events"].as_u64() >= Some(HONEST as u64)
            && s["dropped"]["tls_handshake"] == 8
            && s["query"]["timeouts"].as_u64() >= Some(2)
    });
    stop.store(true, Ordering::Relaxed);
    let peak = sampler
        .join()
        .unwrap()
        .max(status_kib(pid, "VmHWM").unwrap());
    eprintln!(
        "honest {HONEST} lines sent in {honest_took:?}; slow loris closed after {loris:?}; TLS {tls_clients:?}; \
         RSS {start_kib} KiB at start, peak {peak} KiB, bound {bound} KiB; {:?} in all\nstats: {s}",
        t0.elapsed()
    );
    for (i, t) in loris.iter().enumerate() {
        let t = t.unwrap_or_else(|| panic!("slow loris {i} was never closed: {s}"));
        assert!(
            t >= Duration::from_secs(IDLE_SECS) && t < Duration::from_secs(IDLE_SECS + 3),
            "slow loris {i} closed after {t:?}, idle timeout {IDLE_SECS} s"
        );
    }
    for (stalls, t) in &tls_clients {
        let within = if *stalls {
            Duration::from_secs(HANDSHAKE_SECS - 1)..Duration::from_secs(HANDSHAKE_SECS + 3)
        } else {
            Duration::ZERO..Duration::from_secs(3)
        };
        assert!(
            within.contains(t),
            "TLS client (stalls: {stalls}) closed after {t:?}"
        );
    }
    assert!(
        too_long.iter().all(|r| r.contains("too_long")),
        "{too_long:?}"
    );
    assert_eq!(s["truncated"], 2, "{s}");
    assert_eq!(s["dropped"]["bad_frame"], 2, "{s}");
    assert!(s["dropped"]["connection_limit"].as_u64() > Some(0), "{s}");
    assert!(s["idle_closed"].as_u64() >= Some(5), "{s}");
    assert_eq!(s["query"]["too_long"], 3, "{s}");
    assert!(
        s["query"]["refused"].as_u64() >= Some(100 - QUERY_CONNECTIONS),
        "{s}"
    );
    assert!(
        peak < bound,
        "RSS peaked at {peak} KiB, over the bound {bound} KiB"
    );

    // No picket command writes a control byte from the network to its stdout: the stored
    // lines as a table on a terminal, as JSON lines, and a live tail on a terminal.
    let table = on_terminal(&data, "query events --text nasty");
    let shown = String::from_utf8_lossy(&table);
    let rows = |shown: &str, tag: &str| {
        shown
            .lines()
            .filter(|l| l.contains(" nasty ") && l.contains(&format!(" {tag} ")))
            .count()
    };
    assert_eq!(rows(&shown, "stored"), 5, "{shown}");
    assert!(shown.contains("\\x1b[2J"), "{shown}");
    assert_eq!(raw_controls(&table), Vec::<String>::new(), "{shown}");
    let json = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(&data)
        .args(["query", "events", "--text", "nasty"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&json.stdout).lines().count(),
        6,
        "{json:?}"
    );
    assert_eq!(raw_controls(&json.stdout), Vec::<String>::new(), "{json:?}");
    let cmd = format!(
        "{} --data {} tail --text live --limit 5",
        env!("CARGO_BIN_EXE_picket"),
        data.display()
    );
    let tail = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The tail may subscribe after the first lines are sent: send until it has printed five.
    let printed = Arc::new(AtomicBool::new(false));
    let t = Instant::now();
    let sender = {
        let printed = printed.clone();
        std::thread::spawn(move || {
            while !printed.load(Ordering::Relaxed) && t.elapsed() < Duration::from_secs(20) {
                send_counted(tcp, &nasty("live"));
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let out = tail.wait_with_output().unwrap();
    printed.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert_eq!(rows(&shown, "live"), 5, "{shown}");
    assert_eq!(raw_controls(&out.stdout), Vec::<String>::new(), "{shown}");

    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    let lines = stored(&data);
    for i in 0..HONEST {
        let want = format!("<13>Dec  2 12:00:00 honest app[1]: honest seq {i:06}");
        assert_eq!(
            lines.get(&want),
            Some(&1),
            "{want:?} not stored exactly once"
        );
    }
}

#[test]
fn a_byte_a_second_does_not_keep_a_connection_or_a_query_client_open() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(dir.path());
    let (tcp, sock) = (srv.tcp(), srv.socket());
    let loris = slow_loris(
        tcp,
        Duration::from_millis(500),
        Duration::from_secs(IDLE_SECS + 10),
    );
    // A query client that trickles its request, and one that asks nothing at all.
    let trickle = std::thread::spawn(move || {
        let t = Instant::now();
        let mut s = UnixStream::connect(sock).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        for b in b"{\"op\":\"stats\"".iter().cycle() {
            if s.write_all(&[*b]).is_err() {
                return t.elapsed();
            }
            let mut buf = [0u8; 64];
            match s.read(&mut buf) {
                Ok(0) => return t.elapsed(),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                _ => return t.elapsed(),
            }
            assert!(t.elapsed() < Duration::from_secs(20), "never closed");
        }
        t.elapsed()
    });
    // A sender of one whole line and then nothing is closed as idle, its line stored.
    let mut quiet = TcpStream::connect(tcp).unwrap();
    writeln!(quiet, "<13>Dec  2 12:00:00 h app: one whole line").unwrap();
    assert!(closed_by_server(
        &mut quiet,
        Duration::from_secs(IDLE_SECS + 3)
    ));
    let took = loris
        .join()
        .unwrap()
        .expect("the slow loris was never closed");
    let query_took = trickle.join().unwrap();
    assert!(
        took >= Duration::from_secs(IDLE_SECS) && took < Duration::from_secs(IDLE_SECS + 3),
        "slow loris closed after {took:?}"
    );
    assert!(
        query_took >= Duration::from_secs(QUERY_IDLE_SECS)
            && query_took < Duration::from_secs(QUERY_IDLE_SECS + 3),
        "query trickle closed after {query_took:?}"
    );
    let s = wait_stats(&srv.socket(), Duration::from_secs(10), |s| {
        s["idle_closed"].as_u64() >= Some(2)
    });
    assert!(s["query"]["timeouts"].as_u64() >= Some(1), "{s}");
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    let lines = stored(&dir.path().join("data"));
    assert!(
        lines.contains_key("<13>Dec  2 12:00:00 h app: one whole line"),
        "{lines:?}"
    );
    // What the slow loris had sent is kept too: it was read, so it is stored.
    assert!(
        lines
            .keys()
            .any(|l| l.len() > 4 && LORIS.starts_with(l.as_str())),
        "{lines:?}"
    );
}
