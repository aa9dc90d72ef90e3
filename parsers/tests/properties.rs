//! Property tests: no input panics, `event.original` is the input, every borrowed field is a
//! slice of the input, the JSON is one valid object, and generated security lines give back
//! the addresses and ports they were built from.
// A test file: a test fails by panicking, and it may unwrap and index what it built.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::IpAddr;

use picket_parsers::{Event, ParseContext, parse_line, write_event};
use proptest::prelude::*;

fn ctx() -> ParseContext {
    ParseContext::new(1_795_392_000)
}

fn inside(outer: &[u8], inner: &[u8]) -> bool {
    let o = outer.as_ptr() as usize;
    let i = inner.as_ptr() as usize;
    inner.is_empty() || (i >= o && i + inner.len() <= o + outer.len())
}

fn check_invariants(line: &[u8], ev: &Event<'_>) -> Result<(), TestCaseError> {
    prop_assert_eq!(ev.original, line);
    for f in ev.borrowed_fields() {
        prop_assert!(inside(line, f), "field {:?} not inside the input", f);
    }
    let mut out = Vec::new();
    write_event(&mut out, ev);
    prop_assert!(!out.iter().any(|b| *b < 0x20), "raw control byte in JSON");
    let v: serde_json::Value = serde_json::from_slice(&out).map_err(|e| {
        TestCaseError::fail(format!(
            "invalid JSON {e}: {}",
            String::from_utf8_lossy(&out)
        ))
    })?;
    let original = v["event"]["original"].as_str().unwrap_or_default();
    if let Ok(s) = std::str::from_utf8(line)
        && !s.contains('\\')
    {
        prop_assert_eq!(original, s);
    }
    Ok(())
}

/// Bytes that look a bit like syslog, so the parsers get past their first checks.
fn syslogish() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        &b"<38>"[..],
        b"<189>",
        b"1 ",
        b"Nov  8 15:26:31 ",
        b"2001-11-08T15:26:31.1+01:00 ",
        b"*Mar  1 00:01:02.345 UTC: ",
        b"host ",
        b"sshd[411]: ",
        b"kernel: ",
        b"123: ",
        b"%SEC-6-IPACCESSLOGP: ",
        b"%ASA-4-106023: ",
        b"list 101 denied tcp ",
        b"198.51.100.7",
        b"(3527)",
        b" -> ",
        b"2001:db8::7",
        b"[",
        b"]",
        b":",
        b"/",
        b" from ",
        b" port ",
        b"refused connect from ",
        b"attackalert: ",
        b"START: ",
        b"SRC=",
        b" DST=",
        b" PROTO=TCP",
        b" SPT=",
        b"DPT=",
        b"IN=eth0 ",
        b"{TCP} ",
        b"[Priority: 2]",
        b"Connection attempt to TCP ",
        b"Failed password for ",
        b"invalid user ",
        b"message repeated 2 times: [ ",
        b" ",
        b"  ",
        b"\xff",
        b"\0",
        b"\"",
        b"-",
        b"[x@1 a=\"\\]\"]",
        b"\xEF\xBB\xBF",
        b"65535",
        b"99999",
        b"4294967296",
        b"from=",
        b"user@",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(line in prop::collection::vec(any::<u8>(), 0..300)) {
        let ev = parse_line(&line, &ctx());
        check_invariants(&line, &ev)?;
    }

    #[test]
    fn syslog_like_bytes_never_panic(line in syslogish()) {
        let ev = parse_line(&line, &ctx());
        check_invariants(&line, &ev)?;
    }

    #[test]
    fn tcpd_peer_round_trips(ip in any::<IpAddr>(), pid in 1u32..99999, host in "[a-z][a-z0-9-]{0,15}") {
        let ip = ip.to_canonical();
        let line = format!("<38>Nov  8 15:26:31 {host} in.telnetd[{pid}]: refused connect from {ip}");
        let ev = parse_line(line.as_bytes(), &ctx());
        prop_assert_eq!(ev.details.source.ip, Some(ip));
        prop_assert_eq!(ev.header.pid(), Some(pid));
        prop_assert_eq!(ev.header.hostname, Some(host.as_bytes()));
    }

    #[test]
    fn snort_flow_round_trips(src in any::<std::net::Ipv4Addr>(), dst in any::<std::net::Ipv4Addr>(), sp in any::<u16>(), dp in any::<u16>()) {
        let line = format!("snort[1]: [1:2:3] ET X -> Y [Classification: Z] [Priority: 1]: {{TCP}} {src}:{sp} -> {dst}:{dp}");
        let ev = parse_line(line.as_bytes(), &ctx());
        prop_assert_eq!(ev.details.source.ip, Some(IpAddr::V4(src)));
        prop_assert_eq!(ev.details.source.port, Some(sp));
        prop_assert_eq!(ev.details.destination.ip, Some(IpAddr::V4(dst)));
        prop_assert_eq!(ev.details.destination.port, Some(dp));
    }

    #[test]
    fn sshd_takes_the_last_from_port(user in "[ -~]{0,40}", ip in any::<IpAddr>(), port in any::<u16>()) {
        let ip = ip.to_canonical();
        let line = format!("Nov  8 15:26:31 gw sshd[9]: Failed password for invalid user {user} from {ip} port {port} ssh2");
        let ev = parse_line(line.as_bytes(), &ctx());
        prop_assert_eq!(ev.details.source.ip, Some(ip));
        prop_assert_eq!(ev.details.source.port, Some(port));
    }

    #[test]
    fn netfilter_fields_round_trip(src in any::<IpAddr>(), dst in any::<IpAddr>(), sp in any::<u16>(), dp in any::<u16>()) {
        let (src, dst) = (src.to_canonical(), dst.to_canonical());
        let line = format!("Nov  8 15:26:31 fw kernel: [1.5] DROP IN=eth0 OUT= SRC={src} DST={dst} LEN=60 PROTO=UDP SPT={sp} DPT={dp} LEN=40");
        let ev = parse_line(line.as_bytes(), &ctx());
        prop_assert_eq!(ev.details.source.ip, Some(src));
        prop_assert_eq!(ev.details.destination.ip, Some(dst));
        prop_assert_eq!(ev.details.source.port, Some(sp));
        prop_assert_eq!(ev.details.destination.port, Some(dp));
    }


    #[test]
    fn ipv6_reads_what_std_reads(s in ipv6ish()) {
        let std = s.parse::<std::net::Ipv6Addr>().ok();
        prop_assert_eq!(picket_parsers::to_ipv6(s.as_bytes()), std, "{:?}", s);
    }
}

/// IPv6 spellings: real addresses in every form std prints or accepts, and near-misses.
fn ipv6ish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<std::net::Ipv6Addr>().prop_map(|a| a.to_string()),
        any::<std::net::Ipv6Addr>().prop_map(|a| {
            let s = a.segments();
            format!(
                "{:x}:{:X}:{:04x}:{:x}:{:x}:{:x}:{:x}:{:x}",
                s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
            )
        }),
        (any::<[u16; 6]>(), any::<std::net::Ipv4Addr>()).prop_map(|(g, v4)| format!(
            "{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{v4}",
            g[0], g[1], g[2], g[3], g[4], g[5]
        )),
        any::<std::net::Ipv4Addr>().prop_map(|v4| format!("::ffff:{v4}")),
        "[0-9a-fA-F:.]{0,45}",
        "(::)?([0-9a-f]{0,5}:){0,8}[0-9a-f]{0,5}(:?:[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4})?",
    ]
}
