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

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picket_store::{Query, Store, StoreConfig};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};

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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server process, killed if a test fails before stopping it.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Running {
    fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }
}

fn start(data: &Path, port: u16, pki: &Pki, mutual: bool) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_picket"));
    cmd.arg("--data")
        .arg(data)
        .args(["serve", "--no-udp", "--no-tcp", "--flush-interval", "200"]);
    cmd.arg("--tls").arg(format!("127.0.0.1:{port}"));
    cmd.arg("--cert")
        .arg(pki.path("server.pem"))
        .arg("--key")
        .arg(pki.path("server.key"));
    if mutual {
        cmd.arg("--client-ca").arg(pki.path("ca.pem"));
    }
    let child = Running(Some(cmd.stderr(Stdio::piped()).spawn().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "picket serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// `openssl s_client` sending `lines`, optionally with a client certificate `who`.
fn send(port: u16, pki: &Pki, who: Option<&str>, lines: &str) -> std::process::Output {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-quiet",
        "-no_ign_eof",
        "-verify_return_error",
        "-connect",
    ])
    .arg(format!("127.0.0.1:{port}"))
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

fn stop(mut running: Running) -> String {
    let child = running.0.take().unwrap();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn messages(data: &Path) -> Vec<String> {
    let store = Store::open(data, &StoreConfig::default()).unwrap();
    let mut v: Vec<String> = store
        .scan(&Query::default())
        .map(|s| String::from_utf8_lossy(s.unwrap().event().unwrap().original).into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn tls_with_and_without_client_certificates() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let server = start(&data, port, &pki, true);
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
    std::thread::sleep(Duration::from_millis(600));
    let log = stop(server);
    assert_eq!(
        messages(&data),
        vec![
            "<13>Nov  8 15:26:31 gw app: octet counted".to_string(),
            "<38>Nov  8 15:26:31 gw sshd[1]: Failed password for root from 198.51.100.7 port 22 ssh2".to_string(),
        ],
        "{log}"
    );
    // The untrusted and the anonymous client, and the readiness probe of `start`.
    assert!(log.contains("failed TLS handshakes 3"), "{log}");
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
    let port = free_port();
    let server = start(&data, port, &pki, false);
    // An open connection that sends before and after the reload.
    let mut open = Command::new("openssl")
        .args(["s_client", "-quiet", "-no_ign_eof", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-CAfile")
        .arg(pki.path("ca.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = open.stdin.take().unwrap();
    stdin.write_all(b"<13>before reload\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // A new server certificate from the same CA, then SIGHUP.
    std::fs::copy(pki.path("server2.pem"), pki.path("server.pem")).unwrap();
    std::fs::copy(pki.path("server2.key"), pki.path("server.key")).unwrap();
    Command::new("kill")
        .args(["-HUP", &server.id().to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
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
    std::thread::sleep(Duration::from_millis(500));
    let log = stop(server);
    assert!(log.contains("reloaded TLS certificate"), "{log}");
    assert_eq!(
        messages(&data),
        vec![
            "<13>after reload, same connection",
            "<13>before reload",
            "<13>new connection after reload"
        ],
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
    let port = free_port();
    let server = start(&data, port, &pki, true);
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
    std::thread::sleep(Duration::from_millis(1500));
    let log = stop(server);
    let stored = messages(&data);
    let mut dedup = stored.clone();
    dedup.dedup();
    assert_eq!((stored.len(), dedup.len()), (n, n), "{log}");
}
