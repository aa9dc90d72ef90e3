//! `picket parse` as a user runs it: the real binary, real files and pipes.
// A test fails by panicking: unwrap, expect and indexing are how it says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::process::{Command, Stdio};

fn picket() -> Command {
    Command::new(env!("CARGO_BIN_EXE_picket"))
}

fn run_stdin(input: &[u8], args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let mut child = picket()
        .arg("parse")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn picket");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("join").expect("write");
    let events = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("valid JSON line"))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        events,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const MIXED: &str = "\
<38>Nov  8 15:26:31 linux in.telnetd[812]: refused connect from 198.51.100.7
Nov  8 15:26:31 gw sshd[411]: Failed password for invalid user admin from 198.51.100.7 port 4242 ssh2
Nov  8 15:26:31 gw CRON[5]: (root) CMD (run-parts /etc/cron.hourly)

totally not syslog
<189>123: *Mar  1 00:01:02.345 UTC: %SEC-6-IPACCESSLOGP: list 101 denied tcp 198.51.100.7(3527) -> 192.0.2.10(23), 1 packet
";

#[test]
fn one_event_per_line_in_order() {
    let (code, events, _) = run_stdin(MIXED.as_bytes(), &[]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = MIXED.lines().collect();
    assert_eq!(events.len(), lines.len(), "no line lost, none added");
    for (ev, line) in events.iter().zip(&lines) {
        assert_eq!(ev["event"]["original"], *line);
    }
    let datasets: Vec<&str> = events
        .iter()
        .map(|e| e["event"]["dataset"].as_str().unwrap())
        .collect();
    assert_eq!(
        datasets,
        ["tcpd", "sshd", "syslog", "syslog", "syslog", "cisco_acl"]
    );
    assert_eq!(events[0]["source"]["ip"], "198.51.100.7");
    assert_eq!(events[0]["process"]["pid"], 812);
    assert_eq!(events[1]["user"]["name"], "admin");
    assert_eq!(events[2]["host"]["hostname"], "gw");
    assert!(events[2].get("source").is_none(), "cron line names no peer");
    assert_eq!(events[5]["destination"]["port"], 23);
}

#[test]
fn files_are_read_in_turn_and_dash_is_stdin() {
    let dir = std::env::temp_dir().join(format!("picket-parse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.log");
    let b = dir.join("b.log");
    std::fs::write(
        &a,
        "Nov  8 15:26:31 h a[1]: one\nNov  8 15:26:31 h a[1]: two",
    )
    .unwrap();
    std::fs::write(&b, "Nov  8 15:26:31 h b[2]: three\r\n").unwrap();
    let (code, events, _) = run_stdin(
        b"from stdin\n",
        &[a.to_str().unwrap(), "-", b.to_str().unwrap()],
    );
    assert_eq!(code, 0);
    let originals: Vec<&str> = events
        .iter()
        .map(|e| e["event"]["original"].as_str().unwrap())
        .collect();
    assert_eq!(
        originals,
        [
            "Nov  8 15:26:31 h a[1]: one",
            "Nov  8 15:26:31 h a[1]: two",
            "from stdin",
            "Nov  8 15:26:31 h b[2]: three"
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn year_flag_and_zone() {
    let (_, events, _) = run_stdin(
        b"Nov  8 15:26:31 h p: x\n",
        &["--year", "2001", "--tz", "+01:00"],
    );
    assert_eq!(events[0]["@timestamp"], "2001-11-08T14:26:31Z");
    let (code, _, err) = run_stdin(b"", &["--tz", "Mars/Olympus"]);
    assert_ne!(code, 0);
    assert!(err.contains("not a UTC offset"), "{err}");
}

#[test]
fn missing_file_is_a_clear_error() {
    let (code, _, err) = run_stdin(b"", &["/nonexistent/picket-test.log"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("cannot open /nonexistent/picket-test.log"),
        "{err}"
    );
}

#[test]
fn bytes_that_are_not_utf8_are_kept_escaped_and_controls_never_reach_the_terminal() {
    let (code, events, _) = run_stdin(b"Nov  8 15:26:31 h p[1]: caf\xe9 \x1b[2J\x07 done\n", &[]);
    assert_eq!(code, 0);
    assert_eq!(
        events[0]["event"]["original"],
        "Nov  8 15:26:31 h p[1]: caf\\xe9 \u{1b}[2J\u{7} done"
    );
    // The raw output holds no ESC or BEL byte: they are \u escapes in the JSON text.
    let out = picket()
        .arg("parse")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = out.stdin.as_ref().unwrap();
    stdin.write_all(b"x \x1b[2J\x07\n").unwrap();
    let out = out.wait_with_output().unwrap();
    assert!(!out.stdout.iter().any(|b| *b == 0x1b || *b == 0x07));
}

#[test]
fn closed_output_pipe_is_not_an_error() {
    let mut child = picket()
        .arg("parse")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let line = b"Nov  8 15:26:31 h p[1]: some line\n".repeat(2000);
        for _ in 0..200 {
            if stdin.write_all(&line).is_err() {
                break;
            }
        }
    });
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Peak resident memory of a running process, from /proc (kB).
fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn memory_stays_flat_on_a_large_stream() {
    // 64 MiB of lines through a pipe; reading it into memory would show up in VmHWM.
    let mut child = picket()
        .arg("parse")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let block = b"<38>Nov  8 15:26:31 linux in.telnetd[812]: refused connect from 198.51.100.7\n"
        .repeat(16_384);
    let mut sent = 0usize;
    let mut peak = 0;
    while sent < 64 << 20 {
        stdin.write_all(&block).unwrap();
        sent += block.len();
        peak = peak.max(vm_hwm_kb(pid).unwrap_or(0));
    }
    peak = peak.max(vm_hwm_kb(pid).unwrap_or(0));
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert!(peak > 0, "could not read VmHWM");
    // About 30 MiB is what it takes: the chunks in flight between the reader and the jobs,
    // and mimalloc's per-thread caches (glibc's malloc took 17 MiB, bench/README.md session 10).
    assert!(peak < 48 * 1024, "peak RSS {peak} kB for a 64 MiB stream");
}

#[test]
fn jobs_give_the_same_output_in_the_same_order_as_one_job() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let mut text = Vec::new();
    for i in 0..40_000 {
        let line = match i % 5 {
            0 => format!(
                "<38>Nov  8 15:26:31 linux in.telnetd[{i}]: refused connect from 198.51.{}.{}\n",
                i / 256 % 256,
                i % 256
            ),
            1 => format!(
                "Nov  8 15:26:31 gw sshd[{i}]: Failed password for root from 2001:db8::{i:x} port {i} ssh2\r\n"
            ),
            2 => format!("line {i} with \x1b[31m and \u{e9} and \"quotes\"\n"),
            3 => "\n".to_string(),
            _ => format!("<13>1 2026-11-23T10:00:00.{i:06}Z h app {i} - - message {i}\n"),
        };
        text.extend_from_slice(line.as_bytes());
    }
    std::fs::write(&a, &text).unwrap();
    text.extend_from_slice(b"an unterminated last line\r");
    std::fs::write(&b, &text).unwrap();
    let run = |jobs: &str| {
        let out = picket()
            .args(["parse", "--jobs", jobs, "--year", "2026"])
            .arg(&a)
            .arg(&b)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let one = run("1");
    assert_eq!(one.iter().filter(|b| **b == b'\n').count(), 80_001);
    for jobs in ["2", "3"] {
        assert!(run(jobs) == one, "--jobs {jobs} differs from --jobs 1");
    }
    let bad = picket().args(["parse", "--jobs", "0"]).output().unwrap();
    assert!(!bad.status.success());
}

#[test]
fn a_byte_that_is_not_utf8_and_the_text_backslash_x_are_told_apart() {
    let mut input = b"Nov  8 15:26:31 h app: caf\xff\n".to_vec();
    input.extend_from_slice(br"Nov  8 15:26:31 h app: caf\xff");
    input.push(b'\n');
    let (code, events, err) = run_stdin(&input, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(events.len(), 2);
    // Both read the same in `original` ...
    assert_eq!(
        events[0]["event"]["original"],
        events[1]["event"]["original"]
    );
    // ... but only the raw byte's event carries the exact bytes.
    let b64 = events[0]["event"]["original_base64"]
        .as_str()
        .expect("base64 of the raw line");
    assert_eq!(b64, "Tm92ICA4IDE1OjI2OjMxIGggYXBwOiBjYWb/");
    assert!(events[1]["event"].get("original_base64").is_none());
}
