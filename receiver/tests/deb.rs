//! The Debian package, where cargo-deb exists (`cargo install cargo-deb --locked`): deploy/deb.sh
//! packs this build's binary with the units, the config, the manual page and completions; the
//! package holds each of them, and the binary it holds runs (`--version`, a parse). With
//! PICKET_DEB_INSTALL=1 (CI, as root) it is installed with dpkg and run from /usr/bin, then
//! purged; otherwise it is unpacked with dpkg-deb and run from there.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn parse_one(bin: &Path) -> String {
    let mut child = Command::new(bin)
        .arg("parse")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Nov  8 15:26:31 gw sshd[411]: Failed password for root from 198.51.100.7 port 22 ssh2\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn the_debian_package_holds_everything_and_its_binary_runs() {
    let has_deb = Command::new("cargo")
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_deb {
        eprintln!("cargo-deb is not installed here: the package is not built");
        return;
    }
    // A debug binary is large: quick compression keeps this test at seconds.
    let o = Command::new(root().join("deploy/deb.sh"))
        .arg("--fast")
        .env("PICKET_BIN", env!("CARGO_BIN_EXE_picket"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "deploy/deb.sh: {err}");
    let deb = std::fs::read_dir(root().join("target/debian"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .expect("a .deb in target/debian");
    let list = Command::new("dpkg-deb")
        .arg("-c")
        .arg(&deb)
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    for want in [
        "./usr/bin/picket",
        "./lib/systemd/system/picket.service",
        "./lib/systemd/system/picket-udp.socket",
        "./lib/systemd/system/picket-tcp.socket",
        "./lib/systemd/system/picket-tls.socket",
        "./etc/picket/picket.toml",
        "./usr/share/doc/picket/picket.toml.example",
        "./usr/share/man/man1/picket.1.gz",
        "./usr/share/bash-completion/completions/picket",
        "./usr/share/zsh/vendor-completions/_picket",
        "./usr/share/fish/vendor_completions.d/picket.fish",
    ] {
        assert!(
            list.contains(want),
            "{} lacks {want}:\n{list}",
            deb.display()
        );
    }
    let conffiles = Command::new("dpkg-deb")
        .args(["-I"])
        .arg(&deb)
        .arg("conffiles")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&conffiles.stdout).contains("/etc/picket/picket.toml"));

    let dir = tempfile::tempdir().unwrap();
    let st = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    let unit =
        std::fs::read_to_string(dir.path().join("lib/systemd/system/picket.service")).unwrap();
    assert!(
        unit.contains("ExecStart=/usr/bin/picket --config /etc/picket/picket.toml"),
        "{unit}"
    );
    let bin = if std::env::var_os("PICKET_DEB_INSTALL").is_some() {
        let st = Command::new("dpkg").arg("-i").arg(&deb).status().unwrap();
        assert!(st.success(), "dpkg -i");
        PathBuf::from("/usr/bin/picket")
    } else {
        dir.path().join("usr/bin/picket")
    };
    let v = Command::new(&bin).arg("--version").output().unwrap();
    assert!(
        String::from_utf8_lossy(&v.stdout).starts_with("picket "),
        "{v:?}"
    );
    assert!(parse_one(&bin).contains(r#""dataset":"sshd","action":"login-failed""#));
    if std::env::var_os("PICKET_DEB_INSTALL").is_some() {
        assert!(
            Command::new("dpkg")
                .args(["-P", "picket"])
                .status()
                .unwrap()
                .success()
        );
    }
}
