//! Bad files a user can have on disk: a config with a typo, a bad value or cut short; a store
//! whose files are damaged; a store written by a newer picket. Each gives an error that says
//! which file, where and what to do, and none is changed by the attempt.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::{Command, Output};

fn picket(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `picket --config FILE serve` with `text` as the file: it must refuse to start.
fn serve_with(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("picket.toml");
    std::fs::write(&cfg, text).unwrap();
    let data = dir.path().join("data");
    let out = picket(&[
        "--config",
        cfg.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "serve",
        "--udp",
        "127.0.0.1:0",
        "--tcp",
        "127.0.0.1:0",
    ]);
    assert!(!out.status.success(), "serve started with:\n{text}");
    stderr(&out).replace(&format!("{}", cfg.display()), "picket.toml")
}

#[test]
fn a_bad_config_names_the_file_the_line_and_the_key() {
    // A value of the wrong kind, and a key with a typo: TOML's own error, with line and key.
    let e = serve_with("data = \"x\"\n[tcp]\nmax_connections = \"lots\"\n");
    assert!(
        e.contains("picket.toml") && e.contains("line 3") && e.contains("max_connections"),
        "{e}"
    );
    let e = serve_with("[udp]\nlisten = []\nworkerz = 2\n");
    assert!(
        e.contains("line 3") && e.contains("unknown field `workerz`"),
        "{e}"
    );
    // A value TOML accepts but picket does not: the file, the line and the key all the same.
    let e = serve_with("# zone\n\ntime_zone = \"Mars\"\n");
    assert!(e.contains("picket.toml:3: config key time_zone:"), "{e}");
    let e = serve_with("[udp]\nlisten = []\n[tcp]\nlisten = []\nallow = [\"10.0.0.0/33\"]\n");
    assert!(e.contains("picket.toml:5: config key tcp.allow:"), "{e}");
    let e = serve_with("[sensor]\nenabled = true\nscan_window = \"5 fortnights\"\n");
    assert!(
        e.contains("picket.toml:3: config key sensor.scan_window:"),
        "{e}"
    );
    // Cut short, as by a full disk or an editor that died: where it ends, and what is missing.
    let e = serve_with("[udp]\nlisten = [\"0.0.0.0:55");
    assert!(e.contains("picket.toml") && e.contains("line 2"), "{e}");
    // Not text at all.
    let e = serve_with("\u{feff}\0\0[udp]\n");
    assert!(e.contains("picket.toml"), "{e}");
}

/// A store of three batches made by `picket import`, in `dir`/data.
fn store(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("data");
    let log = dir.join("auth.log");
    let lines: String = (0..30_000)
        .map(|i| {
            format!(
                "Nov  8 15:26:31 fw1 sshd[7]: Failed password for root from 198.51.{}.{} port 22 ssh2 n{i}\n",
                i % 200,
                i % 250
            )
        })
        .collect();
    std::fs::write(&log, lines).unwrap();
    let out = picket(&[
        "--data",
        data.to_str().unwrap(),
        "import",
        log.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    data
}

fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let (p, kind) = (e.path(), e.file_type().unwrap());
            if kind.is_dir() {
                todo.push(p);
            } else if kind.is_file() {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_store_from_a_newer_picket_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = store(dir.path());
    assert_eq!(
        std::fs::read_to_string(data.join("picket-store-format")).unwrap(),
        "2\nbatches 2\n",
        "the store says its format and batch count beside sled's files"
    );
    std::fs::write(data.join("picket-store-format"), "3\n").unwrap();
    let before = snapshot(&data);
    let d = data.to_str().unwrap();
    for args in [
        vec!["--data", d, "verify"],
        vec!["--data", d, "incidents", "--offline"],
        vec![
            "--data",
            d,
            "serve",
            "--udp",
            "127.0.0.1:0",
            "--tcp",
            "127.0.0.1:0",
        ],
    ] {
        let out = picket(&args);
        assert!(!out.status.success(), "{args:?} ran on a newer store");
        let e = stderr(&out);
        assert!(
            e.contains("has format 3, newer than this build of picket understands")
                && e.contains("left as it is"),
            "{args:?}: {e}"
        );
    }
    assert!(before == snapshot(&data), "a refused store was changed");
}

#[test]
fn a_cut_store_is_refused_in_words_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = store(dir.path());
    assert_eq!(
        std::fs::read_to_string(data.join("picket-store-format")).unwrap(),
        "2\nbatches 2\n"
    );
    // The store's log file cut to its first eighth, as by a copy that stopped: sled opens what
    // it can read, which is no batch at all. That must not pass for an empty store.
    let db = data.join("db");
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(len / 8)
        .unwrap();
    let out = picket(&["--data", data.to_str().unwrap(), "verify"]);
    assert!(!out.status.success());
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("damaged"), "{text}");
    assert!(
        text.contains("Keep a copy of the directory") && text.contains("picket import"),
        "{text}"
    );
    assert!(!text.contains("backtrace"), "sled's raw words: {text}");
}
