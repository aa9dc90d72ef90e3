//! Every fuzz target builds and runs over its seeds (`fuzz/run.sh seeds`), so none rots while
//! the code around it moves (issue 14). Runs where cargo-fuzz exists (`cargo install
//! cargo-fuzz --locked`); with PICKET_FUZZ_REQUIRED=1 (CI) a missing cargo-fuzz is a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn every_fuzz_target_builds_and_passes_its_seeds() {
    let has_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_fuzz {
        assert!(
            std::env::var_os("PICKET_FUZZ_REQUIRED").is_none_or(|v| v != "1"),
            "PICKET_FUZZ_REQUIRED=1 but cargo-fuzz is not installed"
        );
        eprintln!("cargo-fuzz is not installed here: the fuzz targets are not built");
        return;
    }
    let mut cmd = Command::new(root().join("fuzz/run.sh"));
    cmd.arg("seeds");
    // fuzz/ is a workspace of its own: it must not share the build directory this test was
    // built in (cargo would wait on its own lock, and the fuzz flags would rebuild it all).
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => cmd.env("CARGO_TARGET_DIR", Path::new(&dir).join("fuzz")),
        None => cmd.env_remove("CARGO_TARGET_DIR"),
    };
    let o = cmd.output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "fuzz/run.sh seeds:\n{out}\n{err}");
    // The summary names every target of fuzz/Cargo.toml, each ok.
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
    let targets: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "picket-fuzz")
        .collect();
    assert!(targets.len() >= 27, "{targets:?}");
    for t in targets {
        let row = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(t))
            .unwrap_or_else(|| panic!("no summary row for {t}:\n{out}"));
        assert!(row.ends_with(" ok"), "{row}");
    }
}
