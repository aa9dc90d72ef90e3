//! deploy/ as an admin installs it: the systemd units pass the config, hand picket the
//! sockets it takes over (names and ports it understands), and pass `systemd-analyze verify`
//! where systemd's tools exist.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn unit(name: &str) -> String {
    std::fs::read_to_string(deploy().join(name)).unwrap()
}

/// The values of `key=` in a unit (its last setting wins; lists are joined).
fn values(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(String::from)
        .collect()
}

#[test]
fn the_units_pass_the_config_and_hand_over_the_syslog_sockets() {
    let service = unit("picket.service");
    let exec = values(&service, "ExecStart").pop().unwrap();
    assert!(
        exec.contains(" --config /etc/picket/picket.toml ") && exec.ends_with(" serve"),
        "{exec}"
    );
    let sockets = values(&service, "Sockets").pop().unwrap();
    for (file, listen, name) in [
        ("picket-udp.socket", "ListenDatagram", "syslog-udp"),
        ("picket-tcp.socket", "ListenStream", "syslog-tcp"),
        ("picket-tls.socket", "ListenStream", "syslog-tls"),
    ] {
        let s = unit(file);
        let port = values(&s, listen).pop().unwrap();
        assert_eq!(port, if name == "syslog-tls" { "6514" } else { "514" });
        let n = values(&s, "FileDescriptorName").pop().unwrap();
        assert_eq!(n, name);
        // picket tells TLS from plain TCP by the name alone.
        assert_eq!(n.contains("tls"), file.contains("tls"), "{file}");
        assert_eq!(values(&s, "Service"), ["picket.service"]);
        if name != "syslog-tls" {
            assert!(
                sockets.contains(file),
                "picket.service does not take {file}"
            );
        }
    }
    // Sandboxed, and no capability: systemd binds the privileged ports.
    for want in [
        "DynamicUser=yes",
        "CapabilityBoundingSet=",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
    ] {
        assert!(service.lines().any(|l| l == want), "no {want}");
    }
}

#[test]
fn systemd_analyze_verify_passes_where_it_exists() {
    let probe = Command::new("systemd-analyze").arg("--version").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("systemd-analyze is not installed here: not checked");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = [
        "picket.service",
        "picket-udp.socket",
        "picket-tcp.socket",
        "picket-tls.socket",
    ];
    for f in files {
        // The binary the unit names must exist for verify: this build's.
        let text = unit(f).replace("/usr/local/bin/picket", env!("CARGO_BIN_EXE_picket"));
        std::fs::write(dir.path().join(f), text).unwrap();
    }
    let o = Command::new("systemd-analyze")
        .arg("verify")
        .args(files)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.trim().is_empty(), "{err}");
}
