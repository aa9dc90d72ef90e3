//! The harness the integration tests share: `picket serve` as a real child process on
//! loopback ports it picks itself (port 0), ready when its log says so (no port probing, no
//! sleeps), with its log kept for assertions; and small clients for the query socket.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod peers;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use picket_store::{Query, Store, StoreConfig};
use serde_json::Value;

/// A running `picket serve`.
pub struct Picket {
    child: Option<Child>,
    log: Arc<Mutex<String>>,
    /// The data directory.
    pub data: PathBuf,
    /// Bound TCP address, if TCP is on.
    pub tcp: Option<SocketAddr>,
    /// Bound UDP address, if UDP is on.
    pub udp: Option<SocketAddr>,
    /// Bound TLS address, if TLS is on.
    pub tls: Option<SocketAddr>,
}

/// The value of `key=` in a log line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!(" {key}="))? + key.len() + 2;
    line[at..].split_whitespace().next()
}

impl Picket {
    /// Starts `picket --data DATA serve` with `args`; when `args` names no listener, UDP and
    /// TCP listen on 127.0.0.1 with a port of their own choosing. Returns once the log says
    /// the server runs.
    pub fn start(data: &Path, args: &[&str]) -> Picket {
        Picket::start_with(Command::new(env!("CARGO_BIN_EXE_picket")), data, args)
    }

    /// As [`Picket::start`], from a prepared command (environment, limits, a wrapper).
    pub fn start_with(mut cmd: Command, data: &Path, args: &[&str]) -> Picket {
        let names_listener = args
            .iter()
            .any(|a| matches!(*a, "--udp" | "--tcp" | "--no-udp" | "--no-tcp"));
        cmd.arg("--data").arg(data).arg("serve");
        if !names_listener {
            cmd.args(["--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0"]);
        }
        if !args.contains(&"--flush-interval") {
            cmd.args(["--flush-interval", "50"]);
        }
        cmd.args(args);
        let mut p = Picket::start_exact(cmd, data);
        // "picket is running" may come before the listener tasks log their addresses.
        let on = |flag: &str| args.contains(&flag) || (!names_listener && flag != "--tls");
        if on("--tcp") {
            p.tcp = Some(p.wait_addr("tcp"));
        }
        if on("--udp") {
            p.udp = Some(p.wait_addr("udp"));
        }
        if on("--tls") {
            p.tls = Some(p.wait_addr("tls"));
        }
        p
    }

    /// The address of the `proto` listener from the log, waiting up to 10 s for its line (each
    /// listener logs it as it starts, which may be just after "picket is running").
    pub fn wait_addr(&self, proto: &str) -> SocketAddr {
        let needle = format!("listening on {proto}");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            let addr = log
                .lines()
                .filter(|l| l.contains(&needle))
                .find_map(|l| field(l, "addr")?.parse().ok());
            if let Some(a) = addr {
                return a;
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts `picket serve` with TLS only, on `addr` (`127.0.0.1:0` for a port of its
    /// choosing), with the server certificate `cert` and key `key`, and with `client_ca` mutual
    /// TLS (client certificates from that CA required).
    pub fn start_tls(
        data: &Path,
        addr: &str,
        cert: &Path,
        key: &Path,
        client_ca: Option<&Path>,
    ) -> Picket {
        let mut args = vec!["--no-udp", "--no-tcp", "--tls", addr];
        args.extend(["--cert", cert.to_str().unwrap()]);
        args.extend(["--key", key.to_str().unwrap()]);
        if let Some(ca) = client_ca {
            args.extend(["--client-ca", ca.to_str().unwrap()]);
        }
        Picket::start(data, &args)
    }

    /// Runs `cmd` exactly as given (no `--data`, `serve`, listeners or flush interval added):
    /// for a server that takes them from its config file. `data` is the data directory the
    /// command names. Returns once the log says the server runs.
    pub fn start_exact(mut cmd: Command, data: &Path) -> Picket {
        let mut child = cmd
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start picket");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let mut p = Picket {
            child: Some(child),
            log,
            data: data.to_path_buf(),
            tcp: None,
            udp: None,
            tls: None,
        };
        p.wait_log("picket is running", Duration::from_secs(30));
        let log = p.log();
        for line in log.lines() {
            let addr = field(line, "addr").and_then(|a| a.parse().ok());
            if line.contains("listening on tcp") {
                p.tcp = p.tcp.or(addr);
            } else if line.contains("listening on udp") {
                p.udp = p.udp.or(addr);
            } else if line.contains("listening on tls") {
                p.tls = p.tls.or(addr);
            }
        }
        p
    }

    /// The log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the log contains `text`; panics with the log after `timeout`.
    pub fn wait_log(&mut self, text: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.log().contains(text) {
                return;
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(st)) = c.try_wait()
            {
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "picket exited ({st}) before logging {text:?}:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {text:?} in the log after {timeout:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The query socket.
    pub fn socket(&self) -> PathBuf {
        self.data.join("picket.sock")
    }

    /// The TCP address (TCP must be on; waits for its log line).
    pub fn tcp(&self) -> SocketAddr {
        self.tcp.unwrap_or_else(|| self.wait_addr("tcp"))
    }

    /// The UDP address (UDP must be on; waits for its log line).
    pub fn udp(&self) -> SocketAddr {
        self.udp.unwrap_or_else(|| self.wait_addr("udp"))
    }

    /// The TLS address (TLS must be on; waits for its log line).
    pub fn tls(&self) -> SocketAddr {
        self.tls.unwrap_or_else(|| self.wait_addr("tls"))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends `sig` (`-TERM`, `-KILL`, `-HUP`).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }

    /// Waits for the process to end by itself; its status, or None after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let c = self.child.as_mut()?;
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                // Let the reader thread take the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM; the exit status, how long the stop took, and the whole log. Panics if it
    /// takes longer than 60 s (the systemd unit's TimeoutStopSec).
    pub fn stop(mut self) -> (ExitStatus, Duration, String) {
        let t = Instant::now();
        self.signal("-TERM");
        let st = self
            .wait_exit(Duration::from_secs(60))
            .unwrap_or_else(|| panic!("picket did not stop within 60 s:\n{}", self.log()));
        let took = t.elapsed();
        self.child = None;
        (st, took, self.log())
    }

    /// SIGKILL (a crash: nothing is drained or flushed); the exit status and the whole log.
    pub fn kill(mut self) -> (ExitStatus, String) {
        self.signal("-KILL");
        let st = self
            .wait_exit(Duration::from_secs(30))
            .unwrap_or_else(|| panic!("picket survived SIGKILL for 30 s:\n{}", self.log()));
        self.child = None;
        (st, self.log())
    }
}

impl Drop for Picket {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One request over the query socket: the reply lines up to and including the end or
/// error line.
pub fn ask(sock: &Path, req: &str) -> Vec<Value> {
    let mut s = UnixStream::connect(sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // A server that turns the client away (`busy`) may close before the request is written:
    // its reply is still there to read.
    let _ = writeln!(s, "{req}");
    read_reply(&mut BufReader::new(s))
}

/// Reply lines up to and including the end or error line.
pub fn read_reply(r: &mut impl BufRead) -> Vec<Value> {
    let mut out = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return out;
        }
        let v: Value = serde_json::from_str(&line).unwrap();
        let done = v.get("end").is_some() || v.get("error").is_some();
        out.push(v);
        if done {
            return out;
        }
    }
}

/// The `stats` object of the running server.
pub fn stats(sock: &Path) -> Value {
    ask(sock, r#"{"op":"stats"}"#)[0]["stats"].clone()
}

/// Polls `stats` until `ok` holds; panics with the last stats after `timeout`.
pub fn wait_stats(sock: &Path, timeout: Duration, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let s = stats(sock);
        if ok(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "stats never matched: {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every stored original line with how many times it is stored; the store must verify.
pub fn stored(data: &Path) -> BTreeMap<String, usize> {
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

/// Polls `stats` until `n` messages are stored; panics with the last stats after 60 s.
pub fn wait_stored(sock: &Path, n: u64) -> Value {
    wait_stats(sock, Duration::from_secs(60), |s| s["stored"] == n)
}

/// A loopback port that was free a moment ago, for a client that must be configured with
/// picket's port before picket starts (rsyslog queueing until picket listens). Anything
/// else lets picket pick its own port (port 0) and reads it from [`Picket`].
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A netfilter DROP line from `src` to `dst`:`dport`, at second `sec` of 03:00.
pub fn netfilter_drop(src: &str, dst: &str, dport: u16, proto: &str, sec: u32) -> String {
    format!(
        "<4>Jan  8 03:{:02}:{:02} fw kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC={src} DST={dst} LEN=52 TOS=0x00 PREC=0x00 TTL=115 ID=15743 DF PROTO={proto} SPT=17805 DPT={dport} WINDOW=8192 RES=0x00 SYN URGP=0",
        sec / 60,
        sec % 60
    )
}

/// The sensor tests' traffic: a port scan, an SSH brute force, a priority-1 IDS alert,
/// web/mail/ping noise and a scanning host of the own network 10.0.0.0/8.
pub fn attack_traffic() -> Vec<String> {
    let mut l = Vec::new();
    // A port scan: 20 ports of one host in 100 s.
    l.extend((0..20).map(|i| {
        netfilter_drop(
            "203.0.113.50",
            "198.51.100.20",
            1000 + i as u16,
            "TCP",
            i * 5,
        )
    }));
    // An SSH brute force: 8 failures in a minute.
    l.extend((0..8).map(|i| format!(
        "<38>Jan  8 03:10:{:02} belka sshd[31602]: Failed password for invalid user admin from 194.117.26.69 port {} ssh2",
        i * 7, 50273 + i)));
    // One priority-1 IDS alert.
    l.push("<33>Jan  8 03:20:00 ids snort[2875]: [1:1390:5] SHELLCODE x86 inc ebx NOOP [Classification: Executable code was detected] [Priority: 1]: {TCP} 203.0.113.66:4444 -> 198.51.100.20:21".into());
    // Noise: one web connect, one mail connect, one ping.
    l.push(netfilter_drop(
        "198.51.100.201",
        "198.51.100.20",
        80,
        "TCP",
        1300,
    ));
    l.push(netfilter_drop(
        "198.51.100.202",
        "198.51.100.20",
        25,
        "TCP",
        1301,
    ));
    l.push("<4>Jan  8 03:21:42 fw kernel: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC=198.51.100.110 DST=192.0.2.10 LEN=84 TOS=0x00 PREC=0x00 TTL=56 ID=0 DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1".into());
    // A host of our own network scanning: never a candidate.
    l.extend((0..20).map(|i| {
        netfilter_drop(
            "10.1.2.3",
            "198.51.100.20",
            2000 + i as u16,
            "TCP",
            1400 + i,
        )
    }));
    l
}

/// The sorted (source, class) pairs of an incidents reply.
pub fn classes(list: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|c| {
            (
                c["source"].as_str().unwrap().to_string(),
                c["class"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// `picket --data DATA ARGS` run on a pseudo-terminal (util-linux `script`, package bsdutils),
/// so that picket sees a terminal as a person's shell gives it: what it then writes there
/// (escaped text, tables) is what the tests read from the output's stdout.
pub fn on_terminal_command(data: &Path, args: &str) -> Command {
    let cmd = format!(
        "{} --data {} {args}",
        env!("CARGO_BIN_EXE_picket"),
        data.display()
    );
    let mut c = Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"]);
    c
}
