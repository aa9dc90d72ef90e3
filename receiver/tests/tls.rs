//! TLS (RFC 5425) with real handshakes: `openssl s_client` as the sender, certificates made by
//! rcgen. Mutual TLS refuses a client certificate from another CA; SIGHUP reloads the server
//! certificate without dropping an open connection.
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
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use support::{Picket, stored, wait_stats, wait_stored};

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A CA, a server certificate for 127.0.0.1 from it, a client certificate from it, and a
    /// client certificate from a second, untrusted CA.
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki { dir };
        let (ca_pem, ca) = Self::ca("picket test CA");
        std::fs::write(pki.path("ca.pem"), ca_pem).unwrap();
        pki.leaf(&ca, "server", ExtendedKeyUsagePurpose::ServerAuth);
        pki.leaf(&ca, "server2", ExtendedKeyUsagePurpose::ServerAuth);
        pki.leaf(&ca, "client", ExtendedKeyUsagePurpose::ClientAuth);
        let (_, rogue) = Self::ca("rogue CA");
        pki.leaf(&rogue, "rogue", ExtendedKeyUsagePurpose::ClientAuth);
        pki
    }

    fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), Issuer::new(params, key))
    }

    fn leaf(&self, ca: &Issuer<'static, KeyPair>, name: &str, usage: ExtendedKeyUsagePurpose) {
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params.extended_key_usages.push(usage);
        params.distinguished_name.push(DnType::CommonName, name);
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, ca).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(self.path(&format!("{name}.key")), key.serialize_pem()).unwrap();
    }
}

/// `picket serve` with TLS only, on a port of its choosing (with `--client-ca` when `mutual`).
fn start(data: &Path, pki: &Pki, mutual: bool) -> Picket {
    let ca = mutual.then(|| pki.path("ca.pem"));
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    Picket::start_tls(data, "127.0.0.1:0", &cert, &key, ca.as_deref())
}

/// `openssl s_client` sending `lines`, optionally with a client certificate `who`.
fn send(to: SocketAddr, pki: &Pki, who: Option<&str>, lines: &str) -> std::process::Output {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-quiet",
        "-no_ign_eof",
        "-verify_return_error",
        "-connect",
    ])
    .arg(to.to_string())
    .arg("-CAfile")
    .arg(pki.path("ca.pem"));
    if let Some(w) = who {
        cmd.arg("-cert")
            .arg(pki.path(&format!("{w}.pem")))
            .arg("-key")
            .arg(pki.path(&format!("{w}.key")));
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl (Debian package openssl) is needed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// SIGTERM; it must exit 0. The log.
fn stop(server: Picket) -> String {
    let (st, _, log) = server.stop();
    assert!(st.success(), "{log}");
    log
}

/// Every stored original line, each stored once.
fn once(lines: &[&str]) -> BTreeMap<String, usize> {
    lines.iter().map(|l| (l.to_string(), 1)).collect()
}

#[test]
fn a_client_garbling_handshakes_in_a_loop_is_counted_every_time_and_logged_once() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, &pki, false);
    let port = server.tls();
    for _ in 0..30 {
        let mut c = std::net::TcpStream::connect(port).unwrap();
        // Plain syslog where a ClientHello belongs.
        let _ = c.write_all(b"<13>Nov  8 15:26:31 gw app: not TLS at all\n");
        let mut rest = Vec::new();
        let _ = std::io::Read::read_to_end(&mut c, &mut rest);
    }
    wait_stats(&server.socket(), Duration::from_secs(20), |s| {
        s["dropped"]["tls_handshake"] == 30
    });
    // A real client from the same address still gets in, and its line is stored.
    let ok = send(
        port,
        &pki,
        None,
        "<13>Nov  8 15:26:32 gw app: after the garbage\n",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    wait_stats(&server.socket(), Duration::from_secs(20), |s| {
        s["stored"] == 1
    });
    let log = stop(server);
    let warned = log.matches("TLS handshake failed").count();
    assert_eq!(warned, 1, "one line for 30 failures of one reason:\n{log}");
    assert!(log.contains("failed TLS handshakes 30"), "{log}");
}

#[test]
fn tls_with_and_without_client_certificates() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, &pki, true);
    let port = server.tls();
    let ok = send(
        port,
        &pki,
        Some("client"),
        "<38>Nov  8 15:26:31 gw sshd[1]: Failed password for root from 198.51.100.7 port 22 ssh2\n42 <13>Nov  8 15:26:31 gw app: octet counted\n",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let _refused = send(port, &pki, Some("rogue"), "<13>from an untrusted client\n");
    let _anonymous = send(
        port,
        &pki,
        None,
        "<13>from a client without a certificate\n",
    );
    wait_stats(&server.socket(), Duration::from_secs(20), |s| {
        s["stored"] == 2 && s["dropped"]["tls_handshake"] == 2
    });
    let log = stop(server);
    assert_eq!(
        stored(&data),
        once(&[
            "<13>Nov  8 15:26:31 gw app: octet counted",
            "<38>Nov  8 15:26:31 gw sshd[1]: Failed password for root from 198.51.100.7 port 22 ssh2",
        ]),
        "{log}"
    );
    // The untrusted and the anonymous client.
    assert!(log.contains("failed TLS handshakes 2"), "{log}");
    assert!(
        log.contains("UnknownIssuer") && log.contains("peer sent no certificates"),
        "{log}"
    );
}

#[test]
fn sighup_reloads_the_certificate_and_keeps_open_connections() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = start(&data, &pki, false);
    let port = server.tls();
    let sock = server.socket();
    // An open connection that sends before and after the reload.
    let mut open = Command::new("openssl")
        .args(["s_client", "-quiet", "-no_ign_eof", "-connect"])
        .arg(port.to_string())
        .arg("-CAfile")
        .arg(pki.path("ca.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = open.stdin.take().unwrap();
    stdin.write_all(b"<13>before reload\n").unwrap();
    wait_stored(&sock, 1);
    // A new server certificate from the same CA, then SIGHUP.
    std::fs::copy(pki.path("server2.pem"), pki.path("server.pem")).unwrap();
    std::fs::copy(pki.path("server2.key"), pki.path("server.key")).unwrap();
    server.signal("-HUP");
    server.wait_log("reloaded TLS certificate", Duration::from_secs(20));
    stdin
        .write_all(b"<13>after reload, same connection\n")
        .unwrap();
    drop(stdin);
    assert!(open.wait().unwrap().success());
    let fresh = send(port, &pki, None, "<13>new connection after reload\n");
    assert!(
        fresh.status.success(),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    wait_stored(&sock, 3);
    let log = stop(server);
    assert!(log.contains("reloaded TLS certificate"), "{log}");
    assert_eq!(
        stored(&data),
        once(&[
            "<13>after reload, same connection",
            "<13>before reload",
            "<13>new connection after reload"
        ]),
        "{log}"
    );
}

#[test]
fn a_missing_certificate_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(dir.path())
        .args([
            "serve",
            "--no-udp",
            "--no-tcp",
            "--tls",
            "127.0.0.1:0",
            "--cert",
            "/nonexistent/cert.pem",
            "--key",
            "/nonexistent/key.pem",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read certificate /nonexistent/cert.pem"),
        "{err}"
    );
}

#[test]
fn a_hundred_thousand_messages_over_tls_stored_exactly_once() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, &pki, true);
    let port = server.tls();
    let n = 100_000;
    let mut payload = String::with_capacity(n * 100);
    for i in 0..n {
        payload.push_str(&format!("<38>Nov  8 15:26:31 gw sshd[{i}]: Failed password for root from 198.51.{}.{} port {i} ssh2\n", i / 256 % 256, i % 256));
    }
    let out = send(port, &pki, Some("client"), &payload);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_stored(&server.socket(), n as u64);
    let log = stop(server);
    let lines = stored(&data);
    let total: usize = lines.values().sum();
    assert_eq!((total, lines.len()), (n, n), "{log}");
}
