//! The logbook end to end: a real `picket serve` fed the attack traffic over TCP, marks
//! through the socket (`picket mark`) land in the logbook with who did them, `picket
//! logbook` prints them (op `logbook` and `--offline`), the head file is written by serve,
//! `picket verify` passes and prints the heads, `--expect-head` catches a wrong head, and one
//! byte changed behind picket's back (sled opened directly) is named by its entry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Picket, wait_stats};

fn picket(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_lines(o: &Output) -> (Vec<Value>, Value) {
    assert!(
        o.status.success(),
        "{}{}",
        out(o),
        String::from_utf8_lossy(&o.stderr)
    );
    let mut v: Vec<Value> = out(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let end = v.pop().expect("an end line");
    assert_eq!(end["end"], true, "{end}");
    (v, end)
}

#[test]
fn marks_are_logged_verified_anchored_and_a_changed_byte_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let heads = dir.path().join("anchor").join("heads");
    std::fs::create_dir_all(heads.parent().unwrap()).unwrap();
    let config = dir.path().join("picket.toml");
    std::fs::write(
        &config,
        format!(
            "[sensor]\nblock_duration = \"1s\"\n[logbook]\nhead_file = \"{}\"\nhead_interval = \"1s\"\n",
            heads.display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap().to_string();
    let srv = Picket::start(
        &data,
        &["--config", &cfg, "--no-udp", "--tcp", "127.0.0.1:0"],
    );
    let sock = srv.socket();
    let lines = support::attack_traffic();
    let mut c = TcpStream::connect(srv.tcp()).unwrap();
    for l in &lines {
        writeln!(c, "{l}").unwrap();
    }
    drop(c);
    wait_stats(&sock, Duration::from_secs(20), |s| {
        s["stored"] == lines.len()
    });
    // The candidate appears once the sensor settles.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let m = picket(
            &data,
            &[
                "mark",
                "203.0.113.50",
                "reported",
                "--note",
                "abuse@example.net",
            ],
        );
        if m.status.success() {
            break;
        }
        assert!(Instant::now() < deadline, "{}", out(&m));
        std::thread::sleep(Duration::from_millis(100));
    }
    let m = picket(
        &data,
        &["mark", "203.0.113.50", "blocked", "--note", "came back"],
    );
    assert!(m.status.success(), "{}", out(&m));

    // Through the socket: two marks, the block the second one started, and (the block
    // lasts 1 s; the writer ends blocks every 10 s when quiet) its expiry, by picket itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (entries, end) = loop {
        let (entries, end) = json_lines(&picket(&data, &["logbook", "203.0.113.50", "--json"]));
        if entries.len() >= 4 || Instant::now() > deadline {
            break (entries, end);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let e: Vec<&Value> = entries.iter().map(|v| &v["entry"]).collect();
    let kinds: Vec<&str> = e.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["mark", "mark", "block", "expiry"], "{entries:#?}");
    assert_eq!(e[3]["who"], "picket");
    assert_eq!(e[3]["detail"], "block ran out");
    assert_eq!(e[0]["seq"], 1);
    assert_eq!(
        e[0]["detail"],
        "state new -> reported; note: abuse@example.net"
    );
    assert_eq!(e[1]["detail"], "state reported -> blocked; note: came back");
    assert!(
        e[2]["detail"]
            .as_str()
            .unwrap()
            .starts_with("blocked until ")
    );
    let me = whoami();
    assert!(
        e[..3].iter().all(|e| e["who"] == me.as_str()),
        "{entries:#?}"
    );
    assert!(e.iter().all(|e| e["incident"] == "203.0.113.50"));
    assert_eq!(e[1]["prev"], e[0]["hash"]);
    let head = end["head"].as_str().unwrap().to_string();
    assert!(head.starts_with("logbook:4:"), "{head}");
    // Another incident has none; a bad source is a filter error.
    let (none, _) = json_lines(&picket(&data, &["logbook", "203.0.113.66", "--json"]));
    assert!(none.is_empty());
    let bad = picket(&data, &["logbook", "not an address"]);
    assert_eq!(bad.status.code(), Some(1));

    // serve appends the heads to its file (within the 1 s interval).
    let deadline = Instant::now() + Duration::from_secs(10);
    let written = loop {
        let t = std::fs::read_to_string(&heads).unwrap_or_default();
        if t.contains(&head) || Instant::now() > deadline {
            break t;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(written.contains(&head), "{written}");
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    assert!(log.contains("chain heads"), "{log}");
    let last_line = std::fs::read_to_string(&heads).unwrap();
    let recorded = last_line
        .lines()
        .last()
        .unwrap()
        .split_once(' ')
        .unwrap()
        .1
        .to_string();
    assert!(recorded.starts_with("events:"), "{recorded}");

    // Offline: the same entries; verify passes, prints the heads, and checks the recorded one.
    let (offline, _) = json_lines(&picket(&data, &["logbook", "--offline", "--json"]));
    assert_eq!(offline, entries);
    let v = picket(&data, &["verify", "--expect-head", &recorded]);
    assert!(v.status.success(), "{}", out(&v));
    assert!(
        out(&v).contains("all 4 logbook entries verify"),
        "{}",
        out(&v)
    );
    assert!(
        out(&v).contains(&format!("heads {recorded}")),
        "{}",
        out(&v)
    );
    // A head that is not the store's.
    let wrong = format!(
        "{}{}",
        &head[..head.len() - 1],
        if head.ends_with('0') { '1' } else { '0' }
    );
    let v = picket(&data, &["verify", "--expect-head", &wrong]);
    assert_eq!(v.status.code(), Some(1), "{}", out(&v));
    assert!(out(&v).contains("does not match"), "{}", out(&v));
    let v = picket(&data, &["verify", "--expect-head", "logbook:9:00"]);
    assert!(!v.status.success());

    // One byte of entry 1 changed behind picket's back: verify names entry 1.
    {
        let db = sled::open(&data).unwrap();
        let tree = db.open_tree("logbook").unwrap();
        let mut b = tree.get(1u64.to_be_bytes()).unwrap().unwrap().to_vec();
        let at = b.windows(8).position(|w| w == b"reported").unwrap();
        b[at] = b'R';
        tree.insert(1u64.to_be_bytes(), b).unwrap();
        db.flush().unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let v = picket(&data, &["verify"]);
    assert_eq!(v.status.code(), Some(1), "{}", out(&v));
    let said = out(&v);
    assert!(said.contains("logbook entry 1 was altered"), "{said}");
    assert!(said.contains("Reported"), "{said}");
}

fn whoami() -> String {
    let o = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn an_evidence_bundle_verifies_without_the_store_and_fails_when_a_line_is_altered() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let srv = Picket::start(&data, &["--no-udp", "--tcp", "127.0.0.1:0"]);
    let sock = srv.socket();
    let lines = support::attack_traffic();
    let mut c = TcpStream::connect(srv.tcp()).unwrap();
    for l in &lines {
        writeln!(c, "{l}").unwrap();
    }
    drop(c);
    wait_stats(&sock, Duration::from_secs(20), |s| {
        s["stored"] == lines.len()
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !picket(&data, &["mark", "203.0.113.50", "reported"])
        .status
        .success()
    {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(100));
    }
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");

    let file = dir.path().join("203.0.113.50.bundle");
    let w = picket(
        &data,
        &["evidence", "203.0.113.50", "-o", file.to_str().unwrap()],
    );
    assert!(
        w.status.success(),
        "{}{}",
        out(&w),
        String::from_utf8_lossy(&w.stderr)
    );
    assert!(out(&w).contains("20 lines"), "{}", out(&w));
    // Writing it is logged, with the file's hash.
    let (entries, _) = json_lines(&picket(&data, &["logbook", "--offline", "--json"]));
    let last = &entries.last().unwrap()["entry"];
    assert_eq!(last["action"], "evidence");
    let bytes = std::fs::read(&file).unwrap();
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains(&picket_store::hex(&picket_store::file_hash(&bytes))),
        "{last}"
    );
    assert!(picket(&data, &["verify"]).status.success());
    std::fs::remove_dir_all(&data).unwrap();

    let v = picket(dir.path(), &["verify", "--bundle", file.to_str().unwrap()]);
    assert!(v.status.success(), "{}", out(&v));
    let said = out(&v);
    assert!(said.contains("all 20 lines are committed"), "{said}");
    assert!(said.contains("SRC=203.0.113.50"), "{said}");
    assert!(said.contains(" from fw: "), "{said}");
    assert!(said.contains("logbook #1 "), "{said}");

    // One byte of the last line ("DPT=1019" becomes "DPT=1018").
    let at = bytes.windows(8).rposition(|w| w == b"DPT=1019").unwrap();
    let mut bad = bytes.clone();
    bad[at + 7] = b'8';
    let altered = dir.path().join("altered.bundle");
    std::fs::write(&altered, &bad).unwrap();
    let v = picket(
        dir.path(),
        &["verify", "--bundle", altered.to_str().unwrap()],
    );
    assert_eq!(v.status.code(), Some(1), "{}", out(&v));
    assert!(out(&v).contains("line 20 "), "{}", out(&v));
}
