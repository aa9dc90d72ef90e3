//! Real peers' helpers shared by the rsyslog tests: finding a program (naming the Debian
//! package that provides it) and a test PKI made with the openssl command.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::new_without_default
)]

use std::path::PathBuf;
use std::process::Command;

/// Finds a program on PATH (or in /usr/sbin, which a non-root PATH may lack), or fails saying
/// which Debian package provides it.
pub fn require(program: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{program} not found: this test needs the Debian package {package} \
                 (apt-get install {package}; .ci/run installs it)"
            )
        })
}

/// A test CA, a server certificate from it for localhost and 127.0.0.1 (subjectAltName), and a
/// client certificate from it: EC P-256 keys, made with `openssl req` and `openssl x509`.
pub struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// Makes the CA and both certificates in a temp dir.
    pub fn new() -> Pki {
        let openssl = require("openssl", "openssl");
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
        };
        let run = |args: &[&str]| {
            let out = Command::new(&openssl)
                .args(args)
                .current_dir(pki.dir.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        run(&[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
            &["-subj", "/CN=picket test CA"],
            &["-addext", "basicConstraints=critical,CA:TRUE"],
            &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ]
        .concat());
        let leaf = |name: &str, cn: &str, serial: &str, ext: &str| {
            std::fs::write(pki.path(&format!("{name}.ext")), ext).unwrap();
            run(&[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                ],
                &["-subj", cn],
            ]
            .concat());
            run(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                serial,
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
                "-out",
                &format!("{name}.pem"),
            ]);
        };
        leaf(
            "server",
            "/CN=localhost",
            "2",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n\
             basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n",
        );
        leaf(
            "client",
            "/CN=rsyslog forwarder",
            "3",
            "extendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\n",
        );
        pki
    }

    /// A file of the set: ca.pem, server.pem, server.key, client.pem, client.key.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}
