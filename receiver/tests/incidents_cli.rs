//! `picket incidents` and `picket mark` against a real `picket serve` fed over TCP (the
//! traffic of tests/sensor.rs, plus one exploit alert whose signature carries terminal escape
//! codes): the JSON lines, the filters and the cursor, one candidate with its evidence, the
//! table on a real terminal (through `script`) with the escapes defused, marks and their
//! errors, and `--offline` after serve stopped giving the same list.
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
use support::{Picket, classes, wait_stats};

/// The traffic of tests/sensor.rs, and a second priority-1 alert with escape codes in its
/// signature.
fn traffic() -> Vec<String> {
    let mut l = support::attack_traffic();
    l.push("<33>Jan  8 03:20:30 ids snort[2875]: [1:1391:5] EVIL \x1b[2J\x1b]0;owned\x07 NOOP [Classification: Executable code was detected] [Priority: 1]: {TCP} 203.0.113.77:4444 -> 198.51.100.20:21".into());
    l
}

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

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The JSON lines of a successful run: the candidates and the end line.
fn json_lines(o: &Output) -> (Vec<Value>, Value) {
    assert!(o.status.success(), "{}", err(o));
    let mut v: Vec<Value> = out(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let end = v.pop().expect("an end line");
    assert_eq!(end["end"], true, "{end}");
    (v, end)
}

fn sources(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|c| c["source"].as_str().unwrap().to_string())
        .collect()
}

/// Runs the command on a pseudo-terminal (util-linux `script`); None where there is none.
fn on_terminal(data: &Path, args: &str) -> Option<String> {
    let o = support::on_terminal_command(data, args)
        .env("COLUMNS", "250")
        .output()
        .ok()?;
    o.status.success().then(|| out(&o))
}

#[test]
fn incidents_and_mark_through_the_socket_and_offline() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("picket.toml");
    std::fs::write(&config, "[sensor]\nown_networks = [\"10.0.0.0/8\"]\n").unwrap();
    let cfg = config.to_str().unwrap().to_string();
    let srv = Picket::start(
        &data,
        &["--config", &cfg, "--no-udp", "--tcp", "127.0.0.1:0"],
    );
    let sock = srv.socket();
    let lines = traffic();
    let mut c = TcpStream::connect(srv.tcp()).unwrap();
    for l in &lines {
        writeln!(c, "{l}").unwrap();
    }
    drop(c);
    wait_stats(&sock, Duration::from_secs(20), |s| {
        s["stored"] == lines.len()
    });

    let want = vec![
        ("194.117.26.69".to_string(), "repeated-attempts".to_string()),
        ("203.0.113.50".to_string(), "port-scan".to_string()),
        ("203.0.113.66".to_string(), "ids-exploit".to_string()),
        ("203.0.113.77".to_string(), "ids-exploit".to_string()),
    ];
    let deadline = Instant::now() + Duration::from_secs(20);
    let list = loop {
        let (list, _) = json_lines(&picket(&data, &["incidents", "--json"]));
        if classes(&list) == want || Instant::now() > deadline {
            break list;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(classes(&list), want, "{list:#?}");
    let scores: Vec<u64> = list.iter().map(|c| c["score"].as_u64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let scan = list.iter().find(|c| c["source"] == "203.0.113.50").unwrap();
    assert_eq!(
        (scan["ports"].as_u64(), scan["hosts"].as_u64()),
        (Some(20), Some(1))
    );
    assert_eq!(scan["state"], "new");
    // The escape codes arrive as text, not as control characters.
    let evil = list.iter().find(|c| c["source"] == "203.0.113.77").unwrap();
    let sig = evil["top_signature"].as_str().unwrap();
    assert!(!sig.chars().any(char::is_control), "{sig:?}");
    assert!(sig.contains("\\x1b[2J"), "{sig:?}");

    // Piped without --json: JSON lines too, the same ones.
    let (piped, _) = json_lines(&picket(&data, &["incidents"]));
    assert_eq!(piped, list);

    // Filters, the sort and the cursor.
    let (scans, _) = json_lines(&picket(
        &data,
        &["incidents", "--json", "--class", "port-scan"],
    ));
    assert_eq!(sources(&scans), ["203.0.113.50"]);
    let (net, _) = json_lines(&picket(
        &data,
        &["incidents", "--json", "--src", "203.0.113.0/24"],
    ));
    assert_eq!(net.len(), 3, "{net:?}");
    let (high, _) = json_lines(&picket(
        &data,
        &["incidents", "--json", "--min-score", &scores[1].to_string()],
    ));
    assert!(high.len() >= 2 && high.len() < 4, "{high:?}");
    let (first, end) = json_lines(&picket(&data, &["incidents", "--json", "--limit", "1"]));
    assert_eq!(first.len(), 1);
    let cursor = end["cursor"]
        .as_str()
        .expect("a cursor when the limit cut")
        .to_string();
    let (rest, end) = json_lines(&picket(
        &data,
        &["incidents", "--json", "--cursor", &cursor],
    ));
    assert!(end.get("cursor").is_none());
    assert_eq!(
        sources(&first)
            .into_iter()
            .chain(sources(&rest))
            .collect::<Vec<_>>(),
        sources(&list)
    );
    let (recent, _) = json_lines(&picket(
        &data,
        &["incidents", "--json", "--sort", "last-seen"],
    ));
    let last: Vec<&str> = recent
        .iter()
        .map(|c| c["last_seen"].as_str().unwrap())
        .collect();
    assert!(last.windows(2).all(|w| w[0] >= w[1]), "{last:?}");
    let bad = picket(&data, &["incidents", "--src", "203.0.113.0/99"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(err(&bad).contains("bad_filter"), "{}", err(&bad));
    let bad = picket(&data, &["incidents", "--state", "bogus"]);
    assert_eq!(bad.status.code(), Some(2), "clap refuses it");
    assert!(err(&bad).contains("possible values"), "{}", err(&bad));

    // One candidate with its evidence lines.
    let (one, _) = json_lines(&picket(
        &data,
        &["incidents", "--json", "--show", "203.0.113.50"],
    ));
    let inc = &one[0]["incident"];
    assert!(inc["evidence"].as_array().unwrap().len() >= 2, "{inc}");
    assert!(
        inc["evidence"][0]["line"]
            .as_str()
            .unwrap()
            .contains("SRC=203.0.113.50")
    );
    let none = picket(&data, &["incidents", "--show", "198.51.100.201"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(
        err(&none).contains("no candidate for 198.51.100.201"),
        "{}",
        err(&none)
    );

    // mark: blocked with a note; its errors.
    let m = picket(
        &data,
        &["mark", "203.0.113.50", "blocked", "--note", "scanner"],
    );
    assert!(m.status.success(), "{}", err(&m));
    let (marked, _) = json_lines(&m);
    assert_eq!(marked[0]["marked"]["state"], "blocked");
    assert_eq!(marked[0]["marked"]["source"], "203.0.113.50");
    let m = picket(&data, &["mark", "203.0.113.66", "reported"]);
    assert!(m.status.success(), "{}", err(&m));
    let nf = picket(&data, &["mark", "192.0.2.99", "blocked"]);
    assert_eq!(nf.status.code(), Some(1), "not_found exits 1");
    assert!(
        err(&nf).contains("no candidate for 192.0.2.99") && err(&nf).contains("not_found"),
        "{}",
        err(&nf)
    );
    let bs = picket(&data, &["mark", "203.0.113.50", "stale"]);
    assert_eq!(bs.status.code(), Some(2));
    assert!(
        err(&bs).contains("invalid value 'stale'") && err(&bs).contains("blocked"),
        "{}",
        err(&bs)
    );
    let (one, _) = json_lines(&picket(
        &data,
        &["incidents", "--json", "--show", "203.0.113.50"],
    ));
    let inc = &one[0]["incident"];
    assert_eq!(inc["state"], "blocked");
    assert!(inc["block_until"].is_string(), "{inc}");
    let h = inc["history"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (h["to"].as_str(), h["note"].as_str()),
        (Some("blocked"), Some("scanner"))
    );
    let (blocked, _) = json_lines(&picket(
        &data,
        &["incidents", "--json", "--state", "blocked"],
    ));
    assert_eq!(sources(&blocked), ["203.0.113.50"]);

    // The table, on a real terminal: sorted by score, the escape codes defused.
    match on_terminal(&data, "incidents") {
        Some(table) => {
            assert!(
                !table.contains('\x1b') && !table.contains('\x07'),
                "{table:?}"
            );
            let rows: Vec<&str> = table.lines().collect();
            assert!(
                rows[0].starts_with("address") && rows[0].contains("top signature"),
                "{table}"
            );
            let order: Vec<&str> = rows[1..5]
                .iter()
                .map(|r| r.split_whitespace().next().unwrap())
                .collect();
            assert_eq!(order, sources(&list), "{table}");
            let scan = rows.iter().find(|r| r.starts_with("203.0.113.50")).unwrap();
            assert!(
                scan.contains("port-scan") && scan.contains("blocked"),
                "{scan}"
            );
            assert!(table.contains("\\x1b[2J"), "{table}");
            assert!(rows.last().unwrap().contains("(4 candidates)"), "{table}");
            let show = on_terminal(&data, "incidents --show 203.0.113.50").unwrap();
            assert!(
                show.contains("blocked until") && show.contains("by "),
                "{show}"
            );
            assert!(
                show.contains("evidence lines:") && show.contains("SRC=203.0.113.50"),
                "{show}"
            );
            let show = on_terminal(&data, "incidents --show 203.0.113.77").unwrap();
            assert!(!show.contains('\x1b'), "{show:?}");
        }
        None => eprintln!("no pseudo-terminal (util-linux `script`): the table is not checked"),
    }

    // --offline while serve runs: refused, with why.
    let locked = picket(&data, &["incidents", "--offline"]);
    assert_eq!(locked.status.code(), Some(1));
    assert!(
        err(&locked).contains("locked") && err(&locked).contains("picket serve"),
        "{}",
        err(&locked)
    );

    // Stopped: --offline gives the same list, and mark has no server to go to.
    let (before, _) = json_lines(&picket(&data, &["incidents", "--json"]));
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    let (after, _) = json_lines(&picket(&data, &["incidents", "--offline", "--json"]));
    assert_eq!(after, before);
    let (one, _) = json_lines(&picket(
        &data,
        &["incidents", "--offline", "--show", "203.0.113.50"],
    ));
    assert_eq!(one[0]["incident"]["state"], "blocked");
    let gone = picket(&data, &["mark", "203.0.113.50", "closed"]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(
        err(&gone).contains("is `picket serve` running"),
        "{}",
        err(&gone)
    );
    let empty = tempfile::tempdir().unwrap();
    let none = picket(empty.path(), &["incidents", "--offline"]);
    assert!(err(&none).contains("no store in"), "{}", err(&none));
}
