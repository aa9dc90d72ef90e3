//! `picket import`, `verify` and `vacuum` as a user runs them, on a real sled directory.
// A test fails by panicking: unwrap, expect and indexing are how it says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Output};

fn picket(data: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

fn write_logs(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let plain = dir.join("secure");
    let gz = dir.join("secure.1.gz");
    let mut f = std::fs::File::create(&plain).unwrap();
    for i in 0..3000 {
        writeln!(f, "Nov  8 15:26:31 gw sshd[{i}]: Failed password for root from 198.51.100.{} port {i} ssh2", i % 200).unwrap();
        writeln!(f, "Nov  8 15:26:32 gw CRON[{i}]: (root) CMD (true)").unwrap();
    }
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    for i in 0..1000 {
        writeln!(
            enc,
            "<38>Nov  7 10:00:00 linux in.telnetd[{i}]: refused connect from 203.0.113.{}",
            i % 50
        )
        .unwrap();
    }
    enc.finish().unwrap();
    (plain, gz)
}

#[test]
fn import_plain_and_gzip_then_verify() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (plain, gz) = write_logs(dir.path());
    let out = picket(
        &data,
        &[
            "import",
            "--batch",
            "1000",
            plain.to_str().unwrap(),
            gz.to_str().unwrap(),
        ],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("imported 7000 lines from 2 file(s)"), "{t}");
    assert!(t.contains("sshd         3000"), "{t}");
    assert!(t.contains("tcpd         1000"), "{t}");
    assert!(t.contains("syslog       3000"), "{t}");
    let out = picket(&data, &["verify"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.starts_with("all 7000 events in 7 batches verify; chain head "),
        "{t}"
    );
}

#[test]
fn verify_names_the_batch_that_was_changed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (plain, _) = write_logs(dir.path());
    assert!(
        picket(
            &data,
            &["import", "--batch", "1000", plain.to_str().unwrap()]
        )
        .status
        .success()
    );
    {
        // Behind picket's back: change one byte of one stored block.
        let db = sled::open(&data).unwrap();
        let events = db.open_tree("events").unwrap();
        let (k, v) = events.iter().nth(40).unwrap().unwrap();
        let mut bad = v.to_vec();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x01;
        events.insert(k, bad).unwrap();
        db.flush().unwrap();
    }
    let out = picket(&data, &["verify"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    // 1000 events a batch, 64 a block: block 40 is in batch 2.
    assert!(t.contains("verify FAILED: batch 2 (received "), "{t}");
    assert!(t.contains("was altered"), "{t}");
}

#[test]
fn vacuum_by_size_keeps_the_chain_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (plain, _) = write_logs(dir.path());
    assert!(
        picket(
            &data,
            &["import", "--batch", "500", plain.to_str().unwrap()]
        )
        .status
        .success()
    );
    let out = picket(&data, &["vacuum", "--max-size", "100K"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.starts_with("removed "), "{t}");
    let remain: u64 = t
        .split(';')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(remain > 0 && remain < 6000, "{t}");
    let out = picket(&data, &["verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).starts_with(&format!("all {remain} events")),
        "{}",
        text(&out)
    );
    // Nothing is older than a day: by age nothing goes.
    let out = picket(&data, &["vacuum", "--max-age", "1d"]);
    assert!(text(&out).starts_with("removed 0 events"), "{}", text(&out));
}

#[test]
fn clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = picket(&dir.path().join("data"), &["import", "/nonexistent/secure"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("cannot open /nonexistent/secure"),
        "{}",
        text(&out)
    );
    let out = picket(&dir.path().join("nothing-here"), &["verify"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no store in"), "{}", text(&out));
    // A data directory that cannot be created.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let (plain, _) = write_logs(dir.path());
    let out = picket(&file.join("data"), &["import", plain.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("cannot create"), "{}", text(&out));
    let out = picket(&dir.path().join("data"), &["vacuum"]);
    assert!(
        text(&out).contains("needs --max-age, --max-size"),
        "{}",
        text(&out)
    );
}
