//! deploy/senders.md cannot drift: every snippet marked `<!-- test: rsyslog NAME -->` or
//! `<!-- test: syslog-ng NAME -->` is taken from the page and run by a real rsyslogd (Debian
//! package rsyslog, with rsyslog-gnutls for TLS) or syslog-ng (Debian's syslog-ng-core, unpacked
//! by .ci/syslog-ng, never installed: it would remove rsyslog) against a live `picket serve`:
//! picket.example.net becomes 127.0.0.1 (the name rsyslog checks in picket's certificate
//! becomes localhost), the ports picket's, /etc/ssl/picket/ a directory of certificates made
//! here. The snippet goes into a config whose only input is TCP on loopback, fed by util-linux
//! `logger`; every line sent must be stored. The disk-assisted queue is started before picket,
//! as when picket restarts: what it queued meanwhile must arrive.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use support::{Picket, free_port, stored, wait_stats};

/// Lines sent through each snippet.
const LINES: usize = 20;

/// The snippets of deploy/senders.md for one sender (`rsyslog`, `syslog-ng`), by name.
fn snippets(sender: &str) -> Vec<(String, String)> {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/senders.md"))
            .unwrap();
    let mut out = Vec::new();
    let mut rest = page.as_str();
    let marker = format!("<!-- test: {sender} ");
    while let Some(at) = rest.find(&marker) {
        rest = &rest[at + marker.len()..];
        let name = rest[..rest.find(" -->").unwrap()].to_string();
        let open = rest.find("```\n").unwrap() + 4;
        let close = rest[open..].find("```").unwrap() + open;
        out.push((name, rest[open..close].to_string()));
        rest = &rest[close..];
    }
    out
}

/// A CA, picket's certificate from it (localhost, 127.0.0.1), and a sender's (fw1).
fn pki(dir: &Path) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "picket CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    std::fs::write(dir.join("ca.pem"), params.self_signed(&key).unwrap().pem()).unwrap();
    let ca = Issuer::new(params, key);
    for (name, usage) in [
        ("server", ExtendedKeyUsagePurpose::ServerAuth),
        ("fw1", ExtendedKeyUsagePurpose::ClientAuth),
    ] {
        let mut p =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        p.extended_key_usages.push(usage);
        p.distinguished_name.push(DnType::CommonName, name);
        p.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &ca).unwrap();
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    }
}

fn rsyslogd() -> PathBuf {
    ["/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/bin/rsyslogd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("rsyslogd not found: the Debian package rsyslog (.ci/packages)")
}

/// A real sender daemon (rsyslogd, syslog-ng) in a directory of its own, its config in
/// `conf` there and its stderr in `stderr`; killed on drop.
struct Sender {
    child: Child,
    dir: tempfile::TempDir,
    conf: &'static str,
}

impl Sender {
    /// Runs `cmd` (already given its config, written to `dir`/`conf`) with stderr to
    /// `dir`/stderr, and waits until it listens on `port`.
    fn spawn(mut cmd: Command, dir: tempfile::TempDir, conf: &'static str, port: u16) -> Sender {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap())
            .spawn()
            .unwrap();
        let mut s = Sender { child, dir, conf };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(st) = s.child.try_wait().unwrap() {
                panic!("the sender exited ({st}):\n{}", s.diagnostics());
            }
            assert!(
                Instant::now() < deadline,
                "the sender did not start:\n{}",
                s.diagnostics()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    fn diagnostics(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        format!(
            "--- stderr:\n{}--- {}:\n{}",
            read("stderr"),
            self.conf,
            read(self.conf)
        )
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// rsyslogd running `snippet` (already made local), its input on `port`.
fn rsyslog(snippet: &str, port: u16) -> Sender {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("work")).unwrap();
    // global() and module() statements stay at the top; the action goes in the ruleset of the
    // test's one input.
    let at = snippet.find("action(").unwrap();
    let (top, action) = snippet.split_at(at);
    let conf = format!(
        "global(workDirectory=\"{work}\" net.enableDNS=\"off\")\n{top}\n\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"to_picket\")\n\
         ruleset(name=\"to_picket\") {{\n{action}}}\n",
        work = d.join("work").display()
    );
    std::fs::write(d.join("rsyslog.conf"), &conf).unwrap();
    let mut cmd = Command::new(rsyslogd());
    cmd.arg("-f")
        .arg(d.join("rsyslog.conf"))
        .arg("-i")
        .arg(d.join("rsyslogd.pid"))
        .arg("-n");
    Sender::spawn(cmd, dir, "rsyslog.conf", port)
}

/// Sends `LINES` lines tagged `name` to rsyslog's input with logger; their texts.
fn send(port: u16, name: &str) -> Vec<String> {
    let texts: Vec<String> = (0..LINES)
        .map(|i| format!("Failed password for root from 198.51.100.{i} port 22 ssh2 via {name}"))
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), texts.join("\n") + "\n").unwrap();
    let st = Command::new("logger")
        .args([
            "-n",
            "127.0.0.1",
            "-P",
            &port.to_string(),
            "-T",
            "-t",
            "sshd",
            "-f",
        ])
        .arg(file.path())
        .status()
        .expect("logger (Debian package bsdutils)");
    assert!(st.success());
    texts
}

#[test]
fn every_rsyslog_snippet_in_senders_md_delivers_to_picket() {
    let all = snippets("rsyslog");
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["udp", "tcp", "queue", "tls", "mtls"],
        "the snippets on the page"
    );
    let certs = tempfile::tempdir().unwrap();
    pki(certs.path());
    for (name, snippet) in &all {
        let local = |picket_port: u16| {
            snippet
                .replace(
                    "StreamDriverPermittedPeers=\"picket.example.net\"",
                    "StreamDriverPermittedPeers=\"localhost\"",
                )
                .replace("picket.example.net", "127.0.0.1")
                .replace("\"5514\"", &format!("\"{picket_port}\""))
                .replace("\"6514\"", &format!("\"{picket_port}\""))
                .replace("/etc/ssl/picket/", &format!("{}/", certs.path().display()))
        };
        // The queue is tried the hard way: rsyslog first, picket down while the lines come.
        deliver(name, certs.path(), local, rsyslog, name == "queue");
    }
}

/// Where .ci/syslog-ng unpacked syslog-ng-core (`PICKET_SYSLOG_NG`, else its default).
fn syslog_ng_root() -> PathBuf {
    let dir = std::env::var_os("PICKET_SYSLOG_NG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/picket-load-cache"));
    let root = dir.join("root");
    assert!(
        root.join("usr/sbin/syslog-ng").is_file(),
        "syslog-ng not found under {}: run .ci/syslog-ng (it unpacks Debian's syslog-ng-core \
         without installing it; `apt-get install syslog-ng-core` would remove rsyslog)",
        root.display()
    );
    root
}

/// syslog-ng running `snippet` (already made local), its source `s_src` on `port`.
fn syslog_ng(snippet: &str, port: u16) -> Sender {
    let root = syslog_ng_root();
    let lib = root.join("usr/lib/syslog-ng");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let conf = format!(
        "@version: 3.38\n\
         options {{ stats-freq(0); }};\n\
         source s_src {{ network(ip(\"127.0.0.1\") port({port}) transport(\"tcp\")); }};\n\
         {snippet}"
    );
    std::fs::write(d.join("syslog-ng.conf"), &conf).unwrap();
    let mut cmd = Command::new(root.join("usr/sbin/syslog-ng"));
    cmd.env("LD_LIBRARY_PATH", &lib)
        .arg("-F")
        .arg("--no-caps")
        .arg("-f")
        .arg(d.join("syslog-ng.conf"))
        .arg("-p")
        .arg(d.join("syslog-ng.pid"))
        .arg("-R")
        .arg(d.join("syslog-ng.persist"))
        .arg("-c")
        .arg(d.join("syslog-ng.ctl"))
        .arg(format!("--module-path={}", lib.join("3.38").display()))
        .current_dir(d);
    Sender::spawn(cmd, dir, "syslog-ng.conf", port)
}

#[test]
fn every_syslog_ng_snippet_in_senders_md_delivers_to_picket() {
    let all = snippets("syslog-ng");
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["tcp", "rfc5424", "tls", "mtls"],
        "the snippets on the page"
    );
    let certs = tempfile::tempdir().unwrap();
    pki(certs.path());
    for (name, snippet) in &all {
        let local = |picket_port: u16| {
            snippet
                .replace("picket.example.net", "127.0.0.1")
                .replace("port(5514)", &format!("port({picket_port})"))
                .replace("port(6514)", &format!("port({picket_port})"))
                .replace("/etc/ssl/picket/", &format!("{}/", certs.path().display()))
                // The test's disk buffer is small: the page's 1 GiB would be reserved on disk.
                .replace("disk-buf-size(1073741824)", "disk-buf-size(1048576)")
        };
        // The disk buffer is tried the hard way, as rsyslog's queue: picket starts only after
        // the lines were sent.
        let lines = deliver(name, certs.path(), local, syslog_ng, name == "rfc5424");
        // syslog-ng's own header reached picket, not a doubled one: the tag is sshd's.
        assert!(
            lines.keys().all(|l| l.contains("sshd")),
            "{name}: {lines:?}"
        );
    }
}

/// Runs one snippet: picket (TLS with the certificates in `certs` for `tls` and `mtls`, UDP
/// for `udp`, else TCP) and the sender running `localise(picket's port)`, fed `LINES` lines
/// by logger; with `sender_first`, picket starts only once the lines were sent. Every line
/// must be stored; the stored lines are returned.
fn deliver(
    name: &str,
    certs: &Path,
    localise: impl Fn(u16) -> String,
    sender: fn(&str, u16) -> Sender,
    sender_first: bool,
) -> std::collections::BTreeMap<String, usize> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let picket_port = free_port();
    let addr = format!("127.0.0.1:{picket_port}");
    let local = localise(picket_port);
    let start = || {
        let p = |f: &str| certs.join(f);
        match name {
            "udp" => Picket::start(&data, &["--no-tcp", "--udp", &addr]),
            "tls" => Picket::start_tls(&data, &addr, &p("server.pem"), &p("server.key"), None),
            "mtls" => Picket::start_tls(
                &data,
                &addr,
                &p("server.pem"),
                &p("server.key"),
                Some(&p("ca.pem")),
            ),
            _ => Picket::start(&data, &["--no-udp", "--tcp", &addr]),
        }
    };
    let port = free_port();
    let (server, daemon, texts) = if sender_first {
        let d = sender(&local, port);
        let texts = send(port, name);
        std::thread::sleep(Duration::from_secs(2));
        (start(), d, texts)
    } else {
        let server = start();
        let d = sender(&local, port);
        let texts = send(port, name);
        (server, d, texts)
    };
    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_stats(&server.socket(), Duration::from_secs(60), |s| {
            s["stored"].as_u64() >= Some(LINES as u64)
        })
    }));
    if got.is_err() {
        panic!(
            "{name}: picket did not get {LINES} lines:\n{}",
            daemon.diagnostics()
        );
    }
    drop(daemon);
    let (st, _, log) = server.stop();
    assert!(st.success(), "{log}");
    let lines = stored(&data);
    for t in &texts {
        assert!(
            lines.keys().any(|l| l.ends_with(t.as_str())),
            "{name}: {t:?} not stored; stored: {lines:?}"
        );
    }
    lines
}
