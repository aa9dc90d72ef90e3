//! A byte that is not UTF-8 and the literal text `\xff` look alike in the escaped
//! `event.original`; the event of the first also carries the exact bytes in
//! `event.original_base64`. Sent over real UDP and TCP to a live `picket serve`, read back over
//! the query socket and from `picket parse`.
// A test fails by panicking: unwrap, expect and indexing are how it says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::process::{Command, Stdio};

use serde_json::Value;
use support::{Picket, ask, wait_stored};

/// Decodes padded standard base64 (the test's own, so it does not trust picket's encoder).
fn unbase64(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    assert_eq!(s.len() % 4, 0, "padded base64: {s}");
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().take_while(|c| *c != b'=') {
        let v = A.iter().position(|a| *a == c).expect("base64 symbol");
        bits = (bits << 6) | v as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// The two lines of a pair: the text `\xff` and the byte 0xff, otherwise alike.
fn pair(tag: &str) -> (Vec<u8>, Vec<u8>) {
    let text = format!("<13>Nov  8 15:26:31 h app: {tag} caf\\xe9 \\xff").into_bytes();
    let mut raw = format!("<13>Nov  8 15:26:31 h app: {tag} caf\\xe9 ").into_bytes();
    raw.push(0xff);
    (text, raw)
}

/// Checks one pair of events as JSON: the same escaped original, told apart by the extra field,
/// the raw bytes recovered exactly.
fn check(text_ev: &Value, raw_ev: &Value, text: &[u8], raw: &[u8]) {
    let (t, r) = (&text_ev["event"], &raw_ev["event"]);
    assert_eq!(t["original"], r["original"], "the escapes read alike");
    assert_eq!(t["original"].as_str().unwrap().as_bytes(), text);
    assert!(t.get("original_base64").is_none(), "{text_ev}");
    let b64 = r["original_base64"]
        .as_str()
        .expect("original_base64 on the raw line");
    assert_eq!(unbase64(b64), raw);
}

#[test]
fn raw_bytes_and_backslash_text_differ_over_udp_tcp_query_and_parse() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Picket::start(dir.path(), &[]);
    let (ut, ur) = pair("udp");
    let (tt, tr) = pair("tcp");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(&ut, srv.udp()).unwrap();
    udp.send_to(&ur, srv.udp()).unwrap();
    let mut tcp = TcpStream::connect(srv.tcp()).unwrap();
    for line in [&tt, &tr] {
        tcp.write_all(format!("{} ", line.len()).as_bytes())
            .unwrap();
        tcp.write_all(line).unwrap();
    }
    drop(tcp);
    let sock = srv.socket();
    wait_stored(&sock, 4);
    for (tag, text, raw) in [("udp", &ut, &ur), ("tcp", &tt, &tr)] {
        let reply = ask(&sock, &format!(r#"{{"op":"events","text":"app: {tag} "}}"#));
        assert_eq!(reply.len(), 3, "{reply:?}");
        let (a, b) = (&reply[0], &reply[1]);
        let (t, r) = if a["event"].get("original_base64").is_none() {
            (a, b)
        } else {
            (b, a)
        };
        check(t, r, text, raw);
    }

    // `picket parse` writes the same JSON.
    let mut input = Vec::new();
    for line in [&ut, &ur] {
        input.extend_from_slice(line);
        input.push(b'\n');
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("parse")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let evs: Vec<Value> = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(evs.len(), 2);
    check(&evs[0], &evs[1], &ut, &ur);
    srv.stop();
}
