//! README.md cannot drift from what picket does: every command of its five-minute tour, taken
//! from README.md itself, runs against a live `picket serve` on a terminal (util-linux
//! `script` gives each one a pty, as a user's shell would) and must print what the README
//! shows after it; the README's apt line must be .ci/packages, and its test command the one
//! .ci/run runs.
//!
//! How the tour is written (so that other sections can extend it): inside the "Five-minute
//! tour" section, every ```console block is part of it. `$ CMD` is a command, run by `sh -c`
//! in a fresh directory with `picket` on PATH; the lines after it, up to the next `$`, are what
//! it prints: each must match one output line, in order (other output lines may come
//! between), with runs of spaces counted as one and `…` standing for any text. `$ CMD &`
//! runs in the background; `$ wait` waits for the background commands, and the lines after
//! it are what they printed. The tour's port 5514 is replaced by the port the test's server
//! listens on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Picket, free_port};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// One `$` line of the tour and the lines the README shows after it.
#[derive(Debug)]
struct Step {
    cmd: String,
    expect: Vec<String>,
}

/// The tour's steps, from README.md.
fn tour(readme: &str) -> Vec<Step> {
    let start = readme
        .find("\n## Five-minute tour")
        .expect("README has a Five-minute tour section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    let section = &rest[..end];
    let mut steps: Vec<Step> = Vec::new();
    let mut in_block = false;
    for line in section.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block && line.trim() == "```console";
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            steps.push(Step {
                cmd: cmd.to_string(),
                expect: Vec::new(),
            });
        } else if !line.trim().is_empty() {
            steps
                .last_mut()
                .expect("output before the first command")
                .expect
                .push(line.to_string());
        }
    }
    steps
}

/// Runs of whitespace as one space, no space at the ends.
fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `line` matches `pattern`, where `…` stands for any text.
fn matches(pattern: &str, line: &str) -> bool {
    let (pattern, line) = (squeeze(pattern), squeeze(line));
    let parts: Vec<&str> = pattern.split('…').map(str::trim).collect();
    let mut at = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        let found = if i == 0 {
            line.starts_with(part).then_some(0)
        } else if i == parts.len() - 1 {
            // The end of the pattern is the end of the line.
            (line.ends_with(part) && line.len() - part.len() >= at).then(|| line.len() - part.len())
        } else {
            line[at..].find(part).map(|p| p + at)
        };
        let Some(p) = found else { return false };
        at = p + part.len();
    }
    parts.last().is_some_and(|p| p.is_empty()) || at == line.len()
}

/// Checks that every expected line matches an output line, in order.
fn check(step: &Step, output: &str) {
    let lines: Vec<&str> = output.lines().collect();
    let mut from = 0;
    for want in &step.expect {
        match lines[from..].iter().position(|l| matches(want, l)) {
            Some(i) => from += i + 1,
            None => panic!(
                "README tour: `{}` should print a line like\n  {want}\nafter what it matched so far; it printed:\n{output}",
                step.cmd
            ),
        }
    }
}

/// What a terminal shows: no carriage returns, no escape sequences (progress lines).
fn screen(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw).replace('\r', "");
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A tour command running on a pty of its own, its output collected as it comes.
struct Running {
    cmd: String,
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
}

impl Running {
    fn start(cmd: &str, dir: &Path, path_env: &str) -> Running {
        let mut child = Command::new("script")
            .args(["-qec", cmd, "/dev/null"])
            .current_dir(dir)
            .env("PATH", path_env)
            .env("TERM", "dumb")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("util-linux `script` runs the tour on a terminal (package bsdutils)");
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Running {
            cmd: cmd.to_string(),
            child,
            output,
        }
    }

    fn output(&self) -> String {
        screen(&self.output.lock().unwrap())
    }

    /// Waits for the command to end (at most `timeout`); its output.
    fn finish(mut self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50));
                let out = self.output();
                assert!(
                    st.success(),
                    "README tour: `{}` failed ({st}):\n{out}",
                    self.cmd
                );
                return out;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "README tour: `{}` did not end within {timeout:?}:\n{}",
                    self.cmd,
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn the_tour_prints_what_the_readme_shows() {
    let readme = readme();
    let steps = tour(&readme);
    assert!(steps.len() >= 10, "the tour is short: {steps:?}");
    for must in [
        "picket tail",
        "logger",
        "picket query events",
        "picket stats",
        "picket parse",
        "picket import",
        "picket verify",
        "picket incidents",
        "picket mark",
        "picket blocklist",
    ] {
        assert!(
            steps.iter().any(|s| s.cmd.contains(must)),
            "the tour shows no `{must}`"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    // `picket` on PATH, as the README tells a user to arrange.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_picket"), bin.join("picket")).unwrap();
    let path_env = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    // `picket serve` as the README starts it, in the same directory (./picket-data), on a
    // loopback port of the test's choosing instead of 5514.
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let server = Picket::start(&work.join("picket-data"), &["--udp", &addr, "--tcp", &addr]);

    let mut background: Vec<Running> = Vec::new();
    for step in &steps {
        let cmd = step.cmd.replace("5514", &port.to_string());
        if let Some(cmd) = cmd.strip_suffix('&') {
            let r = Running::start(cmd.trim(), &work, &path_env);
            // A person pastes the next line a moment after this one: give the command that
            // moment to be under way (a tail prints its header once it has asked).
            let deadline = Instant::now() + Duration::from_secs(10);
            while r.output().is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_millis(300));
            background.push(r);
            continue;
        }
        if cmd.trim() == "wait" {
            let out: String = background
                .drain(..)
                .map(|r| r.finish(Duration::from_secs(30)))
                .collect();
            check(step, &out);
            continue;
        }
        let out = Running::start(&cmd, &work, &path_env).finish(Duration::from_secs(120));
        check(step, &out);
    }
    assert!(
        background.is_empty(),
        "a background command was not waited for"
    );
    let (status, _, log) = server.stop();
    assert!(status.success(), "{log}");
}

#[test]
fn the_matcher_means_what_the_tour_says() {
    assert!(matches(
        "… sshd login-failed …",
        "2026-12-02T03:49  sshd   login-failed  x"
    ));
    assert!(matches("(1 events)", "(1 events)"));
    assert!(!matches("(1 events)", "(1 events; more with --cursor 00)"));
    assert!(matches(
        "all 8 events in … batches verify; chain head …",
        "all 8 events in 3 batches verify; chain head ab"
    ));
    assert!(!matches("all 8 events …", "all 9 events in 3"));
    assert!(matches("…\"stored\": 2,…", "  \"stored\": 2,"));
    assert!(matches("{\"a\":…}", "{\"a\":{\"b\":1}}"));
    assert!(!matches("{\"a\":…}x", "{\"a\":{\"b\":1}}"));
}

/// The packages of the README's apt line.
fn readme_packages(readme: &str) -> Vec<String> {
    let line = readme
        .lines()
        .find(|l| l.trim_start().starts_with("sudo apt-get install"))
        .expect("README has an apt-get install line");
    let mut p: Vec<String> = line
        .split_whitespace()
        .skip(3)
        .filter(|w| !w.starts_with('-'))
        .map(String::from)
        .collect();
    p.sort();
    p
}

#[test]
fn the_apt_line_and_the_test_command_are_the_ones_ci_uses() {
    let readme = readme();
    let mut listed: Vec<String> = std::fs::read_to_string(root().join(".ci/packages"))
        .unwrap()
        .lines()
        .flat_map(|l| {
            l.split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    listed.sort();
    assert_eq!(
        readme_packages(&readme),
        listed,
        "README's apt line and .ci/packages differ"
    );
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.contains(".ci/packages"),
        ".ci/run does not install .ci/packages"
    );
    for cmd in ["cargo run --release -- serve", "cargo test --workspace"] {
        assert!(readme.contains(&format!("\n{cmd} ")), "README lost `{cmd}`");
    }
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test --workspace"),
        ".ci/run does not run the README's test command"
    );
}
