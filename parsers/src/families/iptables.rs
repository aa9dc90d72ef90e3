//! Linux netfilter `LOG` target lines: `[UPTIME] PREFIX IN=… OUT=… SRC=… DST=… PROTO=… SPT=… DPT=…`.
//!
//! The LOG target states no verdict: the action comes from the rule's prefix (DROP, REJECT,
//! DENY, BLOCK → acl-denied; ACCEPT, ALLOW → acl-permitted). An ICMP error quotes the packet
//! it answers in brackets (`[SRC=… DST=…]`); those fields are not the flow's and are not read.

use super::Family;
use crate::event::{Action, Dataset, Details, Transport};
use crate::header::Header;
use crate::lex::{find, skip_spaces, to_ip, to_port, trim_end};

/// Registry entry.
pub const FAMILY: Family = Family {
    dataset: Dataset::Iptables,
    tags: &[b"kernel"],
    owns_tag: false,
    any_program: true,
    parse,
};

/// Strips a kernel uptime stamp (`[ 8123.456789]`).
fn strip_uptime(m: &[u8]) -> &[u8] {
    let Some(inner) = m.strip_prefix(b"[") else {
        return m;
    };
    match memchr::memchr(b']', inner) {
        Some(end)
            if inner[..end]
                .iter()
                .all(|b| b.is_ascii_digit() || *b == b'.' || *b == b' ') =>
        {
            skip_spaces(&inner[end + 1..])
        }
        _ => m,
    }
}

fn contains_word(haystack: &[u8], word: &[u8]) -> bool {
    haystack
        .windows(word.len())
        .any(|w| w.eq_ignore_ascii_case(word))
}

/// The verdict a log prefix names, if any.
fn verdict(prefix: &[u8]) -> Option<Action> {
    const DENY: [&[u8]; 4] = [b"drop", b"reject", b"deny", b"block"];
    const ALLOW: [&[u8]; 2] = [b"accept", b"allow"];
    if DENY.iter().any(|w| contains_word(prefix, w)) {
        Some(Action::AclDenied)
    } else if ALLOW.iter().any(|w| contains_word(prefix, w)) {
        Some(Action::AclPermitted)
    } else {
        edgeos_verdict(prefix)
    }
}

/// EdgeOS/VyOS name their rules `[RULESET-RULE-X]`, X being D (drop), R (reject) or
/// A (accept).
fn edgeos_verdict(prefix: &[u8]) -> Option<Action> {
    let p = trim_end(prefix);
    let p = p.strip_suffix(b":").unwrap_or(p);
    let inner = p.strip_suffix(b"]")?;
    let inner = inner.get(memchr::memrchr(b'[', inner)? + 1..)?;
    if inner.ends_with(b"-D") || inner.ends_with(b"-R") {
        Some(Action::AclDenied)
    } else if inner.ends_with(b"-A") {
        Some(Action::AclPermitted)
    } else {
        None
    }
}

/// Parses a netfilter LOG message.
pub fn parse<'a>(h: &Header<'a>) -> Option<Details<'a>> {
    let m = h.message;
    let m = m.strip_prefix(b"kernel: ").unwrap_or(m);
    let m = strip_uptime(m);
    // `IN=` starts the packet fields; the prefix is what comes before it.
    let mut at = 0;
    let start = loop {
        let n = find(m.get(at..)?, b"IN=")?;
        let pos = at + n;
        if pos == 0
            || m.get(pos - 1)
                .is_some_and(|b| matches!(b, b' ' | b']' | b':' | b')'))
        {
            break pos;
        }
        at = pos + 3;
    };
    let prefix = trim_end(m.get(..start)?);
    // Only the flow's own fields: stop at the quoted packet of an ICMP error.
    let fields = m.get(start..)?;
    let fields = match memchr::memchr(b'[', fields) {
        Some(q) => fields.get(..q)?,
        None => fields,
    };
    // One pass over the KEY=VALUE tokens (the first of each key counts).
    let (mut src, mut dst, mut proto, mut spt, mut dpt) = (None, None, None, None, None);
    for tok in fields.split(|b| *b == b' ') {
        let Some(eq) = memchr::memchr(b'=', tok) else {
            continue;
        };
        let (key, value) = (&tok[..eq], &tok[eq + 1..]);
        let slot = match key {
            b"SRC" => &mut src,
            b"DST" => &mut dst,
            b"PROTO" => &mut proto,
            b"SPT" => &mut spt,
            b"DPT" => &mut dpt,
            _ => continue,
        };
        slot.get_or_insert(value);
    }
    let mut d = Details::default();
    d.source.ip = Some(to_ip(src?)?);
    d.destination.ip = to_ip(dst?);
    d.transport = proto.and_then(Transport::from_token);
    d.source.port = spt.and_then(to_port);
    d.destination.port = dpt.and_then(to_port);
    if !prefix.is_empty() {
        d.rule.name = Some(prefix);
    }
    d.action = verdict(prefix);
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::families::testing::{Expect, check, run};

    fn nf(
        action: Option<&'static str>,
        t: &'static str,
        sport: Option<u16>,
        dport: Option<u16>,
    ) -> Expect {
        Expect {
            dataset: Some("iptables"),
            action,
            src: Some("198.51.100.7"),
            dst: Some("192.0.2.10"),
            sport,
            dport,
            transport: Some(t),
            host: Some("fw"),
            program: Some("kernel"),
            ..Expect::default()
        }
    }

    #[test]
    fn variants() {
        let l = |m: &str| format!("Nov  8 15:26:31 fw kernel: {m}");
        let tcp = "SRC=198.51.100.7 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=0 DF PROTO=TCP SPT=3527 DPT=23 WINDOW=5840 RES=0x00 SYN URGP=0";
        let denied = Some("acl-denied");
        let rows = [
            (
                l(&format!(
                    "[8123.456] DROP IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 {tcp}"
                )),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!(
                    "[ 8123.456789] [UFW BLOCK] IN=eth0 OUT= MAC=00:11 {tcp}"
                )),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("IPTABLES-REJECT: IN=eth0 OUT= {tcp}")),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("Shorewall:net2fw:DROP:IN=eth0 OUT= {tcp}")),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("DENY IN=eth0 OUT= {tcp}")),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("ACCEPT IN=eth0 OUT= {tcp}")),
                nf(Some("acl-permitted"), "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("[UFW ALLOW] IN=eth0 OUT= {tcp}")),
                nf(Some("acl-permitted"), "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("[UFW AUDIT] IN=eth0 OUT= {tcp}")),
                nf(None, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("IN=eth0 OUT= {tcp}")),
                nf(None, "tcp", Some(3527), Some(23)),
            ),
            (
                l(
                    "DROP IN=eth0 OUT= SRC=198.51.100.7 DST=192.0.2.10 LEN=84 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1",
                ),
                nf(denied, "icmp", None, None),
            ),
            (
                l(
                    "DROP IN=eth0 OUT= SRC=198.51.100.7 DST=192.0.2.10 LEN=96 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.0.2.10 DST=198.51.100.7 LEN=68 PROTO=UDP SPT=53 DPT=40000 LEN=48 ]",
                ),
                nf(denied, "icmp", None, None),
            ),
            (
                l(
                    "dropped: IN=eth0 OUT= SRC=198.51.100.7 DST=192.0.2.10 LEN=40 PROTO=UDP SPT=5353 DPT=161 LEN=20",
                ),
                nf(denied, "udp", Some(5353), Some(161)),
            ),
            (
                l("BLOCK IN=eth0 OUT= SRC=198.51.100.7 DST=192.0.2.10 LEN=40 PROTO=47"),
                nf(denied, "gre", None, None),
            ),
            (
                l(&format!("DROP  IN=eth0  OUT=  {}", tcp.replace(' ', "  "))),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("FINAL_REJECT: IN=ppp0 OUT= MAC= {tcp}")),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
            (
                l(&format!("[1.0] INPUT:DROP:IN=eth0 OUT= {tcp}")),
                nf(denied, "tcp", Some(3527), Some(23)),
            ),
        ];
        let table: Vec<(&str, Expect)> = rows.iter().map(|(l, e)| (l.as_str(), *e)).collect();
        run(&table, 15);
        let v6 = "Nov  8 15:26:31 fw kernel: [1.0] DROP IN=eth0 OUT= MAC=aa SRC=2001:0db8:0000:0000:0000:0000:0000:0007 DST=2001:db8::10 LEN=80 TC=0 HOPLIMIT=57 FLOWLBL=0 PROTO=TCP SPT=4000 DPT=22 WINDOW=1 RES=0x00 SYN URGP=0";
        check(
            v6,
            &Expect {
                src: Some("2001:db8::7"),
                dst: Some("2001:db8::10"),
                ..nf(denied, "tcp", Some(4000), Some(22))
            },
        );
        let v6icmp = "Nov  8 15:26:31 fw kernel: DROP IN=eth0 OUT= SRC=2001:db8::7 DST=2001:db8::10 LEN=80 PROTO=ICMPv6 TYPE=128 CODE=0";
        check(
            v6icmp,
            &Expect {
                src: Some("2001:db8::7"),
                dst: Some("2001:db8::10"),
                ..nf(denied, "ipv6-icmp", None, None)
            },
        );
    }

    #[test]
    fn kernel_chatter_is_not_netfilter() {
        let k = Expect {
            host: Some("fw"),
            program: Some("kernel"),
            ..Expect::default()
        };
        check(
            "Nov  8 15:26:31 fw kernel: [ 1.0] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex",
            &k,
        );
        check(
            "Nov  8 15:26:31 fw kernel: [ 1.0] audit: type=1400 audit(1.2:3): apparmor=\"DENIED\" operation=\"open\"",
            &k,
        );
        check("Nov  8 15:26:31 fw kernel: DROP IN=eth0 OUT= SRC=", &k);
    }

    /// Real lines (Elastic, Wazuh and fail2ban test logs, public write-ups) that earlier versions misread.
    #[test]
    fn real_lines() {
        let table = [
            (
                "<161>Oct 10 07:25:12 Hostname kernel: [wan-lan-default-D]IN=eth0 OUT= MAC=90:10:20:76:8d:20:90:10:65:29:b6:2a:08:00 SRC=67.43.156.15 DST=10.4.0.5 LEN=52 TOS=0x00 PREC=0x00 TTL=63 ID=0 DF PROTO=TCP SPT=38842 DPT=443 WINDOW=2853 RES=0x00 ACK URGP=0",
                Expect {
                    dataset: Some("iptables"),
                    action: Some("acl-denied"),
                    src: Some("67.43.156.15"),
                    sport: Some(38842),
                    dst: Some("10.4.0.5"),
                    dport: Some(443),
                    transport: Some("tcp"),
                    host: Some("Hostname"),
                    program: Some("kernel"),
                    ..Expect::default()
                },
            ),
            (
                "Jan  5 20:17:01 MainFirewall kernel: [WAN_OUT-2000-A]IN=eth0 OUT=eth2 MAC=90:10:20:76:8d:20:90:10:24:67:f4:89:08:00 SRC=192.168.134.158 DST=192.168.2.25 LEN=265 TOS=0x00 PREC=0x00 TTL=63 ID=51768 DF PROTO=TCP SPT=43189 DPT=443 WINDOW=159 RES=0x00 ACK PSH URGP=0 ",
                Expect {
                    dataset: Some("iptables"),
                    action: Some("acl-permitted"),
                    src: Some("192.168.134.158"),
                    sport: Some(43189),
                    dst: Some("192.168.2.25"),
                    dport: Some(443),
                    transport: Some("tcp"),
                    host: Some("MainFirewall"),
                    program: Some("kernel"),
                    ..Expect::default()
                },
            ),
            (
                "Jan  8 03:37:09 DENY: IN=eth0 OUT= MAC=90:10:28:5f:62:24:90:10:18:5a:89:2a:08:00 SRC=192.168.2.71 DST=192.168.2.83 LEN=88 TOS=0x00 PREC=0x00 TTL=118 ID=21684 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.168.2.83 DST=192.168.173.191 LEN=60 TOS=0x00 PREC=0x00 TTL=54 ID=0 DF PROTO=UDP SPT=21458 DPT=62936 LEN=40 ]",
                Expect {
                    dataset: Some("iptables"),
                    action: Some("acl-denied"),
                    src: Some("192.168.2.71"),
                    dst: Some("192.168.2.83"),
                    transport: Some("icmp"),
                    ..Expect::default()
                },
            ),
            (
                "Nov 18 13:39:49 OpenWRT kernel: [10051.313745] DROP(src wan)IN=eth0 OUT= MAC=c2:56:27:73:33:cf:c4:f0:81:b0:93:24:08:00 SRC=205.205.205.205 DST=192.168.8.100 LEN=44 TOS=0x00 PREC=0x00 TTL=31 ID=8549 PROTO=TCP SPT=40952 DPT=23 WINDOW=64144 RES=0x00 SYN URGP=0 MARK=0xff00",
                Expect {
                    dataset: Some("iptables"),
                    action: Some("acl-denied"),
                    src: Some("205.205.205.205"),
                    sport: Some(40952),
                    dst: Some("192.168.8.100"),
                    dport: Some(23),
                    transport: Some("tcp"),
                    host: Some("OpenWRT"),
                    program: Some("kernel"),
                    ..Expect::default()
                },
            ),
            (
                "Jun 28 04:35:30 Abc-A1 [SOMETHING-1234-A] IN=abc.123 OUT=abc.123 MAC=0a:ea:10:00:f0:06:10:e1:21:31:61:20:01:00:41:00:00:01 SRC=10.251.1.1 DST=10.251.1.1 LEN=32 TOS=00 PREC=0x00 TTL=63 ID=12345 PROTO=UDP SPT=9000 DPT=9000 LEN=12 MARK=0",
                Expect {
                    dataset: Some("iptables"),
                    action: Some("acl-permitted"),
                    src: Some("10.251.1.1"),
                    sport: Some(9000),
                    dst: Some("10.251.1.1"),
                    dport: Some(9000),
                    transport: Some("udp"),
                    host: Some("Abc-A1"),
                    ..Expect::default()
                },
            ),
        ];
        run(&table, 5);
    }
}
