//! What a person at a terminal sees from the query clients (util-linux `script` gives them a
//! pty): invisible characters that reorder text are escaped, `stats` is a table, a page says
//! "more with --cursor" only when there is more, and a cursor from another query is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write;
use std::net::TcpStream;

use support::{Picket, wait_stored};

/// Runs `picket ARGS` on a pty; what the terminal shows, and whether it succeeded.
fn on_terminal(data: &std::path::Path, args: &str) -> (bool, String) {
    let o = support::on_terminal_command(data, args)
        .output()
        .expect("util-linux script (package bsdutils)");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).replace('\r', ""),
    )
}

#[test]
fn a_terminal_gets_escaped_text_a_stats_table_and_honest_cursors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Picket::start(&data, &[]);
    let mut s = TcpStream::connect(server.tcp()).unwrap();
    // "Trojan Source": U+202E makes "admin" show as "nimda" and hides what follows.
    writeln!(
        s,
        "<38>Jan  8 03:10:00 gw sshd[1]: \u{2066}x\u{2069} Failed password for invalid user \u{202e}nimda\u{202c} from 198.51.100.7 port 1 ssh2"
    )
    .unwrap();
    for i in 0..4 {
        writeln!(s, "<38>Jan  8 03:10:0{i} gw sshd[1]: Failed password for root from 198.51.100.8 port {i} ssh2").unwrap();
    }
    drop(s);
    wait_stored(&server.socket(), 5);

    let (ok, shown) = on_terminal(&data, "query events --src 198.51.100.7");
    assert!(ok, "{shown}");
    assert!(
        shown.contains("\\u{202e}nimda\\u{202c}") && shown.contains("\\u{2066}x\\u{2069}"),
        "{shown}"
    );
    for c in ['\u{202e}', '\u{202c}', '\u{2066}', '\u{2069}'] {
        assert!(!shown.contains(c), "{c:?} reached the terminal: {shown}");
    }

    let (ok, table) = on_terminal(&data, "stats");
    assert!(ok, "{table}");
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
            .unwrap_or_else(|| panic!("no row {name}:\n{table}"))
    };
    assert_eq!(row("stored"), "5");
    assert_eq!(row("received.tcp"), "5");
    assert_eq!(row("writer.state"), "ok");
    assert!(!table.contains('{'), "{table}");

    // A full page says how to go on; the last one does not.
    let (_, page) = on_terminal(&data, "query events --src 198.51.100.8 --limit 2");
    let cursor = page
        .split("more with --cursor ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("{page}"))
        .to_string();
    let (ok, rest) = on_terminal(
        &data,
        &format!("query events --src 198.51.100.8 --limit 2 --cursor {cursor}"),
    );
    assert!(
        ok && rest.contains("(2 events; more with --cursor"),
        "{rest}"
    );
    let (_, last) = on_terminal(&data, "query events --src 198.51.100.8 --limit 10");
    assert!(
        last.contains("(4 events)") && !last.contains("more with"),
        "{last}"
    );
    // The cursor of one query given to another is refused, in words.
    let (ok, other) = on_terminal(
        &data,
        &format!("query events --src 198.51.100.7 --limit 2 --cursor {cursor}"),
    );
    assert!(!ok, "{other}");
    assert!(
        other.contains("this cursor belongs to another query"),
        "{other}"
    );
    assert!(server.stop().0.success());
}

#[test]
fn a_cut_message_is_flagged_on_the_event_itself() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Picket::start(&data, &["--max-message", "120"]);
    let mut s = TcpStream::connect(server.tcp()).unwrap();
    let long = format!(
        "<38>Jan  8 03:10:00 gw sshd[1]: Failed password for root from 198.51.100.9 port 22 ssh2 {}",
        "x".repeat(400)
    );
    writeln!(s, "{long}").unwrap();
    writeln!(s, "<38>Jan  8 03:10:01 gw sshd[1]: a short one").unwrap();
    drop(s);
    wait_stored(&server.socket(), 2);
    let replies = support::ask(&server.socket(), r#"{"op":"events"}"#);
    assert_eq!(
        replies[0]["tags"],
        serde_json::json!(["truncated"]),
        "{replies:?}"
    );
    assert_eq!(replies[0]["event"]["original"].as_str().unwrap().len(), 120);
    assert!(replies[1].get("tags").is_none(), "{replies:?}");
    assert_eq!(support::stats(&server.socket())["truncated"], 1);
    let (ok, table) = on_terminal(&data, "query events");
    assert!(ok, "{table}");
    let rows: Vec<&str> = table.lines().filter(|l| l.contains(" gw ")).collect();
    assert!(rows[0].contains("[cut] Failed password"), "{table}");
    assert!(!rows[1].contains("[cut]"), "{table}");
    assert!(server.stop().0.success());
}
