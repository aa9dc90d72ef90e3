//! `picket blocklist` against a real `picket serve` fed over TCP: candidates are made (the
//! traffic of tests/sensor.rs plus an IPv6 port scan), some are marked blocked with `picket
//! mark`, and every format must hold exactly the blocked ones: plain and JSON as they are, the
//! nft file through `nft -c -f` (checks without touching the ruleset), the ipset script loaded
//! with `ipset restore` into scratch sets (twice: the swap replaces the set), hosts.deny lines
//! well-formed; also with /24 and /64 grouping (prefixes in every format), and `--offline`
//! after serve stopped giving the same list. Where `nft` or `ipset` cannot run (not installed,
//! no CAP_NET_ADMIN, no kernel module) the output is parsed instead and the test says why.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Picket, ask, wait_stats};

fn iptables(src: &str, dst: &str, dport: u16, sec: u32) -> String {
    format!(
        "<4>Jan  8 03:{:02}:{:02} fw kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC={src} DST={dst} LEN=52 TOS=0x00 PREC=0x00 TTL=115 ID=15743 DF PROTO=TCP SPT=17805 DPT={dport} WINDOW=8192 RES=0x00 SYN URGP=0",
        sec / 60,
        sec % 60
    )
}

fn ip6tables(src: &str, dport: u16, sec: u32) -> String {
    format!(
        "<4>Jan  8 04:{:02}:{:02} fw kernel: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:86:dd SRC={src} DST=2001:0db8:0002:0000:0000:0000:0000:0020 LEN=80 TC=0 HOPLIMIT=57 FLOWLBL=0 PROTO=TCP SPT=40000 DPT={dport} WINDOW=64800 RES=0x00 SYN URGP=0",
        sec / 60,
        sec % 60
    )
}

/// The traffic of tests/sensor.rs and an IPv6 port scan.
fn traffic() -> Vec<String> {
    let mut l = Vec::new();
    l.extend((0..20).map(|i| iptables("203.0.113.50", "198.51.100.20", 1000 + i as u16, i * 5)));
    l.extend((0..8).map(|i| format!(
        "<38>Jan  8 03:10:{:02} belka sshd[31602]: Failed password for invalid user admin from 194.117.26.69 port {} ssh2",
        i * 7, 50273 + i)));
    l.push("<33>Jan  8 03:20:00 ids snort[2875]: [1:1390:5] SHELLCODE x86 inc ebx NOOP [Classification: Executable code was detected] [Priority: 1]: {TCP} 203.0.113.66:4444 -> 198.51.100.20:21".into());
    l.push(iptables("198.51.100.201", "198.51.100.20", 80, 1300));
    l.push(iptables("198.51.100.202", "198.51.100.20", 25, 1301));
    l.extend((0..20).map(|i| iptables("10.1.2.3", "198.51.100.20", 2000 + i as u16, 1400 + i)));
    l.extend((0..20).map(|i| {
        ip6tables(
            "2001:0db8:0001:0000:0000:0000:0000:0050",
            2000 + i as u16,
            i * 5,
        )
    }));
    l
}

/// Starts serve with `config`, sends the traffic, and waits for `want` candidates.
fn serve_with(dir: &Path, config: &str, want: usize) -> Picket {
    let data = dir.join("data");
    let cfg = dir.join("picket.toml");
    std::fs::write(&cfg, config).unwrap();
    let cfg = cfg.to_str().unwrap().to_string();
    let srv = Picket::start(
        &data,
        &["--config", &cfg, "--no-udp", "--tcp", "127.0.0.1:0"],
    );
    let lines = traffic();
    let mut c = TcpStream::connect(srv.tcp()).unwrap();
    for l in &lines {
        writeln!(c, "{l}").unwrap();
    }
    drop(c);
    let sock = srv.socket();
    wait_stats(&sock, Duration::from_secs(20), |s| {
        s["stored"] == lines.len()
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = ask(&sock, r#"{"op":"incidents"}"#);
        if r.len() == want + 1 {
            break;
        }
        assert!(Instant::now() < deadline, "never {want} candidates: {r:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    srv
}

fn picket(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

/// The standard output of a run that must succeed.
fn ok(data: &Path, args: &[&str]) -> String {
    let o = picket(data, args);
    assert!(
        o.status.success(),
        "picket {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn mark(data: &Path, source: &str, state: &str) {
    ok(data, &["mark", source, state, "--note", "test"]);
}

/// The elements of each set in an nft file, after checking its shape: the table and both sets
/// declared (so it loads on a fresh ruleset), both flushed before anything is added.
fn parse_nft(text: &str, name: &str) -> BTreeMap<String, Vec<(String, Option<u64>)>> {
    for want in [
        format!("table inet {name} {{"),
        format!("\tset {name}4 {{"),
        "\t\ttype ipv4_addr".to_string(),
        format!("\tset {name}6 {{"),
        "\t\ttype ipv6_addr".to_string(),
        "\t\tflags interval, timeout".to_string(),
        "\t\tsize 1048576".to_string(),
    ] {
        assert!(text.lines().any(|l| l == want), "no {want:?} in\n{text}");
    }
    let lines: Vec<&str> = text.lines().collect();
    let flush4 = lines
        .iter()
        .position(|l| *l == format!("flush set inet {name} {name}4"))
        .unwrap_or_else(|| panic!("no flush of {name}4:\n{text}"));
    let flush6 = lines
        .iter()
        .position(|l| *l == format!("flush set inet {name} {name}6"))
        .unwrap_or_else(|| panic!("no flush of {name}6:\n{text}"));
    let mut sets: BTreeMap<String, Vec<(String, Option<u64>)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (i, l) in lines.iter().enumerate() {
        if let Some(rest) = l.strip_prefix(&format!("add element inet {name} ")) {
            assert!(
                i > flush4 && i > flush6,
                "an add before the flushes:\n{text}"
            );
            let set = rest.strip_suffix(" {").unwrap();
            current = Some(set.to_string());
            continue;
        }
        let Some(set) = &current else { continue };
        if *l == "}" {
            current = None;
            continue;
        }
        let el = l.trim().trim_end_matches(',');
        let (addr, timeout) = match el.split_once(" timeout ") {
            Some((a, t)) => (
                a,
                Some(t.strip_suffix('s').unwrap().parse::<u64>().unwrap()),
            ),
            None => (el, None),
        };
        let ip: IpAddr = addr.split('/').next().unwrap().parse().unwrap();
        assert_eq!(ip.is_ipv4(), set.ends_with('4'), "{addr} in {set}");
        sets.entry(set.clone())
            .or_default()
            .push((addr.to_string(), timeout));
    }
    assert!(current.is_none(), "an unclosed element list:\n{text}");
    sets
}

/// `nft -c -f FILE`: true when nft checked it; false (and why) where it cannot run here.
fn nft_check(file: &Path) -> bool {
    let o = match Command::new("nft").arg("-c").arg("-f").arg(file).output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "NOTE: nft cannot run here ({e}; Debian package nftables): the nft output is parsed, not checked by nft"
            );
            return false;
        }
    };
    let err = String::from_utf8_lossy(&o.stderr);
    if o.status.success() {
        return true;
    }
    if [
        "Operation not permitted",
        "Permission denied",
        "netlink",
        "Protocol not supported",
    ]
    .iter()
    .any(|w| err.contains(w))
    {
        eprintln!(
            "NOTE: nft -c cannot run in this sandbox ({}): the nft output is parsed instead",
            err.trim()
        );
        return false;
    }
    panic!(
        "nft -c -f refused the file: {err}\n{}",
        std::fs::read_to_string(file).unwrap()
    );
}

/// Scratch ipset sets, destroyed when dropped.
struct Scratch(String);

impl Drop for Scratch {
    fn drop(&mut self) {
        for fam in ["4", "6", "4-new", "6-new"] {
            let _ = Command::new("ipset")
                .args(["destroy", &format!("{}{fam}", self.0)])
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn ipset(args: &[&str], input: Option<&str>) -> std::io::Result<Output> {
    let mut c = Command::new("ipset")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = c.stdin.take().unwrap();
    stdin.write_all(input.unwrap_or("").as_bytes())?;
    drop(stdin);
    c.wait_with_output()
}

/// Checks the shape of an ipset script; its `add` entries per set.
fn parse_ipset(text: &str, name: &str) -> BTreeMap<String, Vec<(String, Option<u64>)>> {
    let mut sets: BTreeMap<String, Vec<(String, Option<u64>)>> = BTreeMap::new();
    let cmds: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    for (fam, family) in [("4", "inet"), ("6", "inet6")] {
        let set = format!("{name}{fam}");
        let new = format!("{set}-new");
        let create = |s: &str| {
            format!(
                "create {s} hash:net family {family} hashsize 4096 maxelem 1048576 timeout 0 -exist"
            )
        };
        let at = |want: &str| {
            cmds.iter()
                .position(|l| *l == want)
                .unwrap_or_else(|| panic!("no {want:?} in\n{text}"))
        };
        let (c, cn, fl) = (
            at(&create(&set)),
            at(&create(&new)),
            at(&format!("flush {new}")),
        );
        let (sw, de) = (
            at(&format!("swap {set} {new}")),
            at(&format!("destroy {new}")),
        );
        assert!(c < sw && cn < fl && fl < sw && sw < de, "{text}");
        for (i, l) in cmds.iter().enumerate() {
            let Some(rest) = l.strip_prefix(&format!("add {new} ")) else {
                continue;
            };
            assert!(fl < i && i < sw, "an add outside flush..swap: {l}");
            let (addr, timeout) = match rest.split_once(" timeout ") {
                Some((a, t)) => (a, Some(t.parse::<u64>().unwrap())),
                None => (rest, None),
            };
            let ip: IpAddr = addr.split('/').next().unwrap().parse().unwrap();
            assert_eq!(ip.is_ipv4(), fam == "4", "{l}");
            sets.entry(set.clone())
                .or_default()
                .push((addr.to_string(), timeout));
        }
    }
    let known = cmds.iter().all(|l| {
        ["create ", "flush ", "add ", "swap ", "destroy "]
            .iter()
            .any(|p| l.starts_with(p))
    });
    assert!(known, "a line ipset restore does not take:\n{text}");
    sets
}

/// Loads the script with `ipset restore` (twice: the second run swaps over existing sets) and
/// returns the members of NAME4 and NAME6 as the kernel holds them; None (and why) where
/// ipset cannot run here.
fn ipset_load(text: &str, name: &str) -> Option<BTreeMap<String, Vec<String>>> {
    for round in 0..2 {
        let o = match ipset(&["restore"], Some(text)) {
            Ok(o) => o,
            Err(e) => {
                eprintln!(
                    "NOTE: ipset cannot run here ({e}; Debian package ipset): the ipset output is parsed, not loaded"
                );
                return None;
            }
        };
        if !o.status.success() {
            let err = String::from_utf8_lossy(&o.stderr);
            let env = [
                "Operation not permitted",
                "Kernel error",
                "Cannot open session",
                "Kernel support",
                "module",
                "Protocol not supported",
                "Permission denied",
            ];
            if round == 0 && env.iter().any(|w| err.contains(w)) {
                eprintln!(
                    "NOTE: ipset restore cannot load sets here ({}): the ipset output is parsed instead",
                    err.trim()
                );
                return None;
            }
            panic!("ipset restore refused the script: {err}\n{text}");
        }
    }
    let mut sets = BTreeMap::new();
    for fam in ["4", "6"] {
        let set = format!("{name}{fam}");
        let o = ipset(&["save", &set], None).unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let members: Vec<String> = String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("add {set} ")))
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect();
        sets.insert(set, members);
    }
    let o = ipset(&["list", "-n"], None).unwrap();
    let names = String::from_utf8(o.stdout).unwrap();
    assert!(
        !names
            .lines()
            .any(|l| l == format!("{name}4-new") || l == format!("{name}6-new")),
        "the -new sets are destroyed: {names}"
    );
    Some(sets)
}

/// hosts.deny lines: comments, then `ALL: PATTERN` for TCP wrappers.
fn parse_hosts_deny(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for l in text.lines() {
        if l.starts_with('#') {
            continue;
        }
        let p = l
            .strip_prefix("ALL: ")
            .unwrap_or_else(|| panic!("not a hosts.deny line: {l:?}"));
        let (addr, len) = match p.split_once('/') {
            Some((a, n)) => (a, Some(n.parse::<u8>().unwrap())),
            None => (p, None),
        };
        match addr.strip_prefix('[') {
            Some(v6) => {
                let v6: std::net::Ipv6Addr = v6.strip_suffix(']').unwrap().parse().unwrap();
                assert!(len.is_none_or(|n| n <= 128), "{l}");
                out.push(match len {
                    Some(n) => format!("{v6}/{n}"),
                    None => v6.to_string(),
                });
            }
            None => {
                let v4: std::net::Ipv4Addr = addr.parse().unwrap_or_else(|_| panic!("{l}"));
                assert!(len.is_none_or(|n| n <= 32), "{l}");
                out.push(match len {
                    Some(n) => format!("{v4}/{n}"),
                    None => v4.to_string(),
                });
            }
        }
    }
    out
}

fn addrs(sets: &BTreeMap<String, Vec<(String, Option<u64>)>>) -> Vec<String> {
    sets.values().flatten().map(|(a, _)| a.clone()).collect()
}

#[test]
fn blocklists_hold_exactly_the_blocked_sources_and_load_into_nft_and_ipset() {
    let dir = tempfile::tempdir().unwrap();
    let srv = serve_with(
        dir.path(),
        "[sensor]\nown_networks = [\"10.0.0.0/8\"]\nblock_duration = \"2h\"\n",
        4,
    );
    let data = srv.data.clone();

    // Nothing blocked yet: empty lists, and an nft file that still declares and flushes.
    assert_eq!(ok(&data, &["blocklist"]), "");
    let nft = ok(&data, &["blocklist", "--format", "nft"]);
    assert!(parse_nft(&nft, "picket").is_empty(), "{nft}");

    mark(&data, "203.0.113.50", "blocked");
    mark(&data, "2001:db8:1::50", "blocked");
    mark(&data, "203.0.113.66", "reported");

    let plain = ok(&data, &["blocklist", "--format", "plain"]);
    assert_eq!(plain, "203.0.113.50\n2001:db8:1::50\n");
    assert_eq!(ok(&data, &["blocklist"]), plain, "plain is the default");

    let json: Vec<Value> = ok(&data, &["blocklist", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(json.len(), 2, "{json:?}");
    assert_eq!(json[0]["source"], "203.0.113.50");
    assert_eq!(json[0]["class"], "port-scan");
    assert!(json[0]["score"].as_u64().unwrap() > 0);
    assert!(
        json[0]["until"].as_str().unwrap().ends_with('Z'),
        "{json:?}"
    );

    // By class or score instead: no timeouts.
    assert_eq!(
        ok(&data, &["blocklist", "--class", "repeated-attempts"]),
        "194.117.26.69\n"
    );
    let by_class: Vec<Value> = ok(
        &data,
        &["blocklist", "--format", "json", "--class", "ids-exploit"],
    )
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    assert_eq!(by_class.len(), 1);
    assert_eq!(by_class[0]["source"], "203.0.113.66");
    assert!(by_class[0]["until"].is_null());
    let all = ok(&data, &["blocklist", "--min-score", "1"]);
    assert_eq!(all.lines().count(), 4, "{all}");

    // nft: the file nft -f takes, with each block's seconds left as the timeout.
    let nft = ok(&data, &["blocklist", "--format", "nft"]);
    let file = dir.path().join("picket.nft");
    std::fs::write(&file, &nft).unwrap();
    let checked = nft_check(&file);
    let sets = parse_nft(&nft, "picket");
    assert_eq!(
        sets["picket4"]
            .iter()
            .map(|e| e.0.as_str())
            .collect::<Vec<_>>(),
        ["203.0.113.50"]
    );
    assert_eq!(
        sets["picket6"]
            .iter()
            .map(|e| e.0.as_str())
            .collect::<Vec<_>>(),
        ["2001:db8:1::50"]
    );
    for (_, t) in sets.values().flatten() {
        let t = t.expect("a timeout");
        assert!(t > 7000 && t <= 7200, "2h block: {t}");
    }
    let untimed = ok(&data, &["blocklist", "--format", "nft", "--min-score", "1"]);
    let file2 = dir.path().join("all.nft");
    std::fs::write(&file2, &untimed).unwrap();
    nft_check(&file2);
    assert!(
        parse_nft(&untimed, "picket")
            .values()
            .flatten()
            .all(|e| e.1.is_none())
    );
    if checked {
        eprintln!("nft -c -f accepted the nft output");
    }

    // ipset: restored into scratch sets (twice), then destroyed.
    let name = format!("pkt_{}_", std::process::id() % 100_000);
    let script = ok(&data, &["blocklist", "--format", "ipset", "--name", &name]);
    let parsed = parse_ipset(&script, &name);
    assert_eq!(addrs(&parsed), ["203.0.113.50", "2001:db8:1::50"]);
    assert!(
        parsed
            .values()
            .flatten()
            .all(|e| e.1.is_some_and(|t| t > 7000 && t <= 7200))
    );
    let _cleanup = Scratch(name.clone());
    if let Some(loaded) = ipset_load(&script, &name) {
        assert_eq!(loaded[&format!("{name}4")], ["203.0.113.50"]);
        assert_eq!(loaded[&format!("{name}6")], ["2001:db8:1::50"]);
        // A later list replaces the contents: unblock one, load again.
        mark(&data, "203.0.113.50", "closed");
        let script = ok(&data, &["blocklist", "--format", "ipset", "--name", &name]);
        let loaded = ipset_load(&script, &name).unwrap();
        assert!(loaded[&format!("{name}4")].is_empty(), "{loaded:?}");
        assert_eq!(loaded[&format!("{name}6")], ["2001:db8:1::50"]);
        mark(&data, "203.0.113.50", "blocked");
        eprintln!("ipset restore loaded the ipset output into scratch sets {name}4/{name}6");
    }
    let bad = picket(
        &data,
        &["blocklist", "--format", "ipset", "--name", "no-dashes"],
    );
    assert_eq!(bad.status.code(), Some(2));

    // hosts.deny.
    let deny = ok(&data, &["blocklist", "--format", "hosts-deny"]);
    assert!(deny.starts_with('#'), "a comment header: {deny}");
    assert!(deny.contains("ALL: [2001:db8:1::50]"), "{deny}");
    assert_eq!(parse_hosts_deny(&deny), ["203.0.113.50", "2001:db8:1::50"]);

    // --offline: refused while serve runs, the same list once it stopped.
    let locked = picket(&data, &["blocklist", "--offline"]);
    assert_eq!(locked.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&locked.stderr).contains("locked"));
    let before = ok(&data, &["blocklist"]);
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
    assert_eq!(ok(&data, &["blocklist", "--offline"]), before);
    assert_eq!(before, "203.0.113.50\n2001:db8:1::50\n");
    let nft = ok(&data, &["blocklist", "--offline", "--format", "nft"]);
    assert_eq!(
        addrs(&parse_nft(&nft, "picket")),
        ["203.0.113.50", "2001:db8:1::50"]
    );
    // And without a server, the socket is missed clearly.
    let gone = picket(&data, &["blocklist"]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("is `picket serve` running"));
}

#[test]
fn grouped_sources_become_prefixes_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let srv = serve_with(
        dir.path(),
        "[sensor]\nown_networks = [\"10.0.0.0/8\"]\ngroup_v4 = 24\ngroup_v6 = 64\n",
        3,
    );
    let data = srv.data.clone();
    // 203.0.113.50 and .66 are one candidate now. An address inside a grouped prefix marks
    // the prefix's candidate.
    mark(&data, "203.0.113.50", "blocked");
    mark(&data, "2001:db8:1::/64", "blocked");
    mark(&data, "194.117.26.0/24", "blocked");
    let plain = ok(&data, &["blocklist"]);
    assert_eq!(plain, "194.117.26.0/24\n203.0.113.0/24\n2001:db8:1::/64\n");

    let nft = ok(&data, &["blocklist", "--format", "nft"]);
    let file = dir.path().join("p.nft");
    std::fs::write(&file, &nft).unwrap();
    nft_check(&file);
    assert_eq!(
        addrs(&parse_nft(&nft, "picket")),
        ["194.117.26.0/24", "203.0.113.0/24", "2001:db8:1::/64"]
    );

    let deny = ok(&data, &["blocklist", "--format", "hosts-deny"]);
    assert!(deny.contains("ALL: 203.0.113.0/24\n"), "{deny}");
    assert!(deny.contains("ALL: [2001:db8:1::]/64\n"), "{deny}");
    assert_eq!(parse_hosts_deny(&deny).len(), 3);

    let name = format!("pkg_{}_", std::process::id() % 100_000);
    let script = ok(&data, &["blocklist", "--format", "ipset", "--name", &name]);
    assert_eq!(
        addrs(&parse_ipset(&script, &name)),
        ["194.117.26.0/24", "203.0.113.0/24", "2001:db8:1::/64"]
    );
    let _cleanup = Scratch(name.clone());
    if let Some(loaded) = ipset_load(&script, &name) {
        assert_eq!(loaded[&format!("{name}4")].len(), 2, "{loaded:?}");
        assert_eq!(loaded[&format!("{name}6")], ["2001:db8:1::/64"]);
    }
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
}

#[test]
fn an_ended_block_leaves_the_blocklist() {
    let dir = tempfile::tempdir().unwrap();
    let srv = serve_with(
        dir.path(),
        "[sensor]\nown_networks = [\"10.0.0.0/8\"]\nblock_duration = \"1s\"\nblock_max = \"1s\"\n",
        4,
    );
    let data = srv.data.clone();
    mark(&data, "203.0.113.50", "blocked");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok(&data, &["blocklist"]).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the 1 s block never left the list"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(parse_nft(&ok(&data, &["blocklist", "--format", "nft"]), "picket").is_empty());
    // The candidate itself stays.
    let one = ask(
        &srv.socket(),
        r#"{"op":"incident","source":"203.0.113.50"}"#,
    );
    assert_eq!(one[0]["incident"]["source"], "203.0.113.50", "{one:?}");
    let (st, _, log) = srv.stop();
    assert!(st.success(), "{log}");
}
