//! Parser throughput on the mixed corpus (see `picket_bench::mixed_corpus`): picket's header
//! parser and full parser against two baselines on the same lines, in the same run:
//!
//! - `syslog_loose_header`: `syslog_loose::parse_message(line, Variant::Either)`, header only.
//!   It takes `&str`, so the lines are converted once, before timing, with
//!   `String::from_utf8_lossy` (a no-op on this all-ASCII corpus: same bytes, same length).
//! - `regex_full`: how fail2ban or grok would do it with the `regex` crate: one header regex
//!   (RFC 5424 | RFC 3164/ISO), then one regex per family with captures for addresses and
//!   ports, tried in picket's family order until one matches. `regex_header` is its first step
//!   alone. Capture slots are allocated once and reused (`captures_read`), the baseline's best
//!   case; it only locates fields and converts nothing (no IP, port or timestamp parsing), so
//!   it does less work than `picket_full`.
//!
//! Two groups over the same lines: `lines` reports lines/s (`Throughput::Elements`), `bytes`
//! reports bytes/s (`Throughput::Bytes`, line bytes without terminators). One iteration parses
//! every line of the corpus once.
//!
//! `cargo bench -p picket-bench --bench parse`; env `PICKET_BENCH_LINES` (default 100000) and
//! `PICKET_BENCH_SEED` (default 1) choose the corpus.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};
use picket_parsers::{Dataset, ParseContext, parse_header, parse_line, parse_line_into};
use regex::bytes::{CaptureLocations, Regex};

/// 2026-11-23T00:00:00Z: the reference instant for year-less stamps.
const REFERENCE: i64 = 1_795_392_000;

// Building blocks, as fail2ban's `<HOST>`/`<ADDR>` or grok's `%{IP}`/`%{IPORHOST}` expand.
const IP4: &str = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}";
const IP6: &str = r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}";
const HOSTNAME: &str = r"[A-Za-z0-9][A-Za-z0-9._-]*";
const PORT: &str = r"[0-9]{1,5}";

/// The regex baseline: one header pattern, one pattern per family.
struct RegexParser {
    header: Regex,
    header_locs: CaptureLocations,
    families: Vec<(Dataset, Regex, CaptureLocations)>,
}

/// Expands `<IP>`, `<IP4>`, `<IP6>`, `<HOST>` (address or name) and `<PORT>` in `p`.
fn expand(p: &str) -> String {
    let ip = format!("(?:{IP4}|{IP6})");
    let host = format!("(?:{IP4}|{IP6}|{HOSTNAME})");
    // (?-u): ASCII classes, `.` matches any byte (these are bytes regexes).
    format!("(?-u){p}")
        .replace("<IP>", &ip)
        .replace("<IP4>", IP4)
        .replace("<IP6>", IP6)
        .replace("<HOST>", &host)
        .replace("<PORT>", PORT)
}

fn regex(p: &str) -> Regex {
    Regex::new(&expand(p)).expect("baseline pattern compiles")
}

impl RegexParser {
    fn new() -> RegexParser {
        let header = regex(concat!(
            r"^(?:<(?P<pri>[0-9]{1,3})>)?(?:",
            // RFC 5424.
            r"(?P<ver>[0-9]{1,2}) (?P<ts5>-|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9]{2}:[0-9]{2}))",
            r" (?P<host5>\S+) (?P<app5>\S+) (?P<pid5>\S+) (?P<msgid>\S+)",
            r" (?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: |$)",
            r"|",
            // RFC 3164, BSD stamp (with or without a year) or ISO stamp, optional host and tag.
            r"(?:(?P<ts>[A-Z][a-z]{2} [ 0-9][0-9](?: [0-9]{4})? [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?",
            r"|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)",
            r"(?: (?P<host>[A-Za-z0-9._:-]+))? )?",
            r"(?:(?P<prog>[A-Za-z0-9._/-]+)(?:\[(?P<pid>[0-9]+)\])?:? )?",
            r")",
        ));
        let families = [
            (
                Dataset::Sshd,
                concat!(
                    r"^(?:Failed (?:password|publickey|keyboard-interactive/pam|none) for (?:invalid user )?(?P<u1>.*) from (?P<s1><IP>) port (?P<p1><PORT>)",
                    r"|(?:Invalid|Illegal) user (?P<u2>.*) from (?P<s2><IP>)(?: port (?P<p2><PORT>))?",
                    r"|Accepted \S+ for (?P<u3>\S+) from (?P<s3><IP>) port (?P<p3><PORT>)",
                    r"|(?:Connection closed by|Disconnected from|Connection reset by) (?:authenticating|invalid) user (?P<u4>.*) (?P<s4><IP>) port (?P<p4><PORT>)",
                    r"|(?:error: )?maximum authentication attempts exceeded for (?:invalid user )?(?P<u5>.*) from (?P<s5><IP>) port (?P<p5><PORT>)",
                    r"|pam_unix\(sshd:auth\): authentication failure;.* rhost=(?P<s6><HOST>)(?: +user=(?P<u6>\S*))?",
                    r")",
                ),
            ),
            (
                Dataset::Tcpd,
                concat!(
                    r"^(?:(?:refused )?connect from (?:(?P<user>[^@ ]+)@)?(?P<s1><HOST>)(?: \((?P<s2><IP>)\))?$",
                    r"|warning: can't verify hostname: getaddrinfo\((?P<name>[^,]+), AF_INET6?\) failed",
                    r"|warning: host name/address mismatch: (?P<s3><IP>) != (?P<name2>\S+)",
                    r")",
                ),
            ),
            (
                Dataset::Snort,
                concat!(
                    r"^(?:(?:\[(?P<gid>[0-9]+):(?P<sid>[0-9]+):(?P<rev>[0-9]+)\] )?(?P<sig>.*?)",
                    r"(?: \[Classification: (?P<class>[^\]]*)\])?(?: \[Priority: (?P<prio>[0-9]+)\])?:? ",
                    r"(?:\{(?P<proto>[^}]+)\} )?\[?(?P<src><IP>)\]?(?::(?P<sp><PORT>))? -> \[?(?P<dst><IP>)\]?(?::(?P<dp><PORT>))?$",
                    r"|spp_portscan: (?:PORTSCAN DETECTED|End of portscan) from (?P<ps><IP>)",
                    r")",
                ),
            ),
            (
                Dataset::Portsentry,
                concat!(
                    r"^attackalert: (?:(?P<kind>.+?) from host: (?P<name>\S+)/(?P<s1><IP>) to (?P<proto>TCP|UDP) port: (?P<dp><PORT>)",
                    r"|Host:? (?:\S+/)?(?P<s2><IP>) (?:has been blocked|is already blocked)",
                    r")",
                ),
            ),
            (
                Dataset::Xinetd,
                concat!(
                    r"^(?:(?P<what>START|FAIL): (?P<svc>\S+)(?: (?P<why>[a-z_]+))?(?: pid=(?P<pid>[0-9]+))? from=(?:::ffff:)?(?P<s1><HOST>)",
                    r"|EXIT: (?P<svc2>\S+)(?: status=(?P<status>-?[0-9]+))? pid=(?P<pid2>[0-9]+) duration=(?P<dur>[0-9]+)\(sec\)",
                    r"|libwrap refused connection to (?P<svc3>\S+) \(libwrap=(?P<lw>[^)]+)\) from (?P<s3><IP>)",
                    r")",
                ),
            ),
            (
                Dataset::LogInVain,
                concat!(
                    r"^(?:kernel: )?Connection attempt to (?P<proto>TCP|UDP) \[?(?P<dst><IP>)\]?:(?P<dp><PORT>)",
                    r" from \[?(?P<src><IP>)\]?:(?P<sp><PORT>)(?: flags:(?P<flags>0x[0-9a-f]+))?",
                ),
            ),
            (
                Dataset::CiscoAcl,
                concat!(
                    r"%(?:(?:SEC-6-IPACCESSLOG(?P<kind>[A-Z]+)|IPV6_ACL-6-ACCESSLOGP?): list (?P<list>\S+) (?P<verdict>denied|permitted)",
                    r" (?:(?P<proto>[a-z0-9]+) )?(?P<src><IP>)(?:\((?P<sp><PORT>)\))?(?: \([^)]*\))?(?: -> (?P<dst><IP>)(?:\((?P<dp><PORT>)\))?)?",
                    r"|(?:ASA|PIX)-[0-9]-(?P<id>[0-9]{6}): (?:",
                    r"Deny (?P<p1>\S+) src (?P<if1>[^: ]+):(?P<s1><IP>)(?:/(?P<sp1><PORT>))? dst (?P<if2>[^: ]+):(?P<d1><IP>)(?:/(?P<dp1><PORT>))?",
                    r"|Inbound (?P<p2>\S+) connection denied from (?P<s2><IP>)/(?P<sp2><PORT>) to (?P<d2><IP>)/(?P<dp2><PORT>)",
                    r"|access-list (?P<acl>\S+) (?P<v3>denied|permitted) (?P<p3>\S+) (?P<if3>[^/ ]+)/(?P<s3><IP>)\((?P<sp3><PORT>)\) -> (?P<if4>[^/ ]+)/(?P<d3><IP>)\((?P<dp3><PORT>)\)",
                    r"|Deny (?P<p4>\S+) \(no connection\) from (?P<s4><IP>)/(?P<sp4><PORT>) to (?P<d4><IP>)/(?P<dp4><PORT>)",
                    r"|Deny inbound (?P<p5>\S+) from (?P<s5><IP>)/(?P<sp5><PORT>) to (?P<d5><IP>)/(?P<dp5><PORT>)",
                    r"))",
                ),
            ),
            (
                Dataset::Iptables,
                concat!(
                    r"^(?:\[ *[0-9]+\.[0-9]+\] )?(?P<prefix>.*?)IN=(?P<in>\S*) OUT=(?P<out>\S*) (?:MAC=(?P<mac>\S*) )?",
                    r"SRC=(?P<src><IP>) DST=(?P<dst><IP>) .*?PROTO=(?P<proto>\S+)(?: SPT=(?P<sp><PORT>) DPT=(?P<dp><PORT>))?",
                ),
            ),
        ]
        .into_iter()
        .map(|(ds, p)| {
            let re = regex(p);
            let locs = re.capture_locations();
            (ds, re, locs)
        })
        .collect();
        let header_locs = header.capture_locations();
        RegexParser {
            header,
            header_locs,
            families,
        }
    }

    /// The header step: returns the message (what follows the header match; the whole line if
    /// the header regex fails) and a checksum of the captured spans, so nothing can be
    /// optimised away. The pattern stops at the end of the header rather than capturing
    /// `(?P<msg>.*)$`, which would run the capture engine over the whole line.
    fn header<'l>(&mut self, line: &'l [u8]) -> (&'l [u8], usize) {
        let Some(m) = self.header.captures_read(&mut self.header_locs, line) else {
            return (line, 0);
        };
        let mut sum = 0;
        for g in 1..self.header_locs.len() {
            if let Some((s, e)) = self.header_locs.get(g) {
                sum += e - s;
            }
        }
        (&line[m.end()..], sum)
    }

    /// Header, then the first family whose pattern matches the message.
    fn full(&mut self, line: &[u8]) -> (Dataset, usize) {
        let (msg, mut sum) = self.header(line);
        for (ds, re, locs) in &mut self.families {
            if re.captures_read(locs, msg).is_some() {
                for g in 1..locs.len() {
                    if let Some((s, e)) = locs.get(g) {
                        sum += e - s;
                    }
                }
                return (*ds, sum);
            }
        }
        (Dataset::Syslog, sum)
    }
}

fn corpus() -> Vec<Vec<u8>> {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.replace('_', "").parse().ok())
            .unwrap_or(d)
    };
    picket_bench::mixed_corpus(
        env("PICKET_BENCH_LINES", 100_000) as usize,
        env("PICKET_BENCH_SEED", 1),
    )
}

/// What each parser makes of the corpus, printed once so the figures can be read knowing how
/// much each one recognised.
fn report(lines: &[Vec<u8>], strs: &[String], ctx: &ParseContext, rx: &mut RegexParser) {
    let n = lines.len();
    let bytes: usize = lines.iter().map(Vec::len).sum();
    let mut picket_claimed = 0;
    let mut picket_src = 0;
    let mut picket_host = 0;
    let mut rx_claimed = 0;
    let mut rx_agree = 0;
    let mut loose_host = 0;
    for (l, s) in lines.iter().zip(strs) {
        let ev = parse_line(l, ctx);
        if ev.dataset != Dataset::Syslog {
            picket_claimed += 1;
        }
        if ev.details.source.ip.is_some() {
            picket_src += 1;
        }
        if ev.header.hostname.is_some() {
            picket_host += 1;
        }
        let (ds, _) = rx.full(l);
        if ds != Dataset::Syslog {
            rx_claimed += 1;
            if ds == ev.dataset {
                rx_agree += 1;
            }
        }
        if syslog_loose::parse_message(s, syslog_loose::Variant::Either)
            .hostname
            .is_some()
        {
            loose_host += 1;
        }
    }
    let pct = |k: usize| 100.0 * k as f64 / n as f64;
    eprintln!(
        "corpus: {n} lines, {bytes} bytes ({:.1} bytes/line)\n\
         picket full: {picket_claimed} lines claimed by a family ({:.1} %), {picket_src} with source.ip; \
         picket header: {picket_host} with a hostname ({:.1} %)\n\
         regex full: {rx_claimed} lines matched a family pattern ({:.1} %), {rx_agree} of them the family picket chose\n\
         syslog_loose: {loose_host} with a hostname ({:.1} %)",
        bytes as f64 / n as f64,
        pct(picket_claimed),
        pct(picket_host),
        pct(rx_claimed),
        pct(loose_host),
    );
}

fn run_group(
    g: &mut BenchmarkGroup<'_, WallTime>,
    lines: &[Vec<u8>],
    strs: &[String],
    ctx: &ParseContext,
    rx: &mut RegexParser,
) {
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    g.bench_function("picket_header", |b| {
        b.iter(|| {
            for l in lines {
                black_box(&parse_header(black_box(l), ctx));
            }
        })
    });
    g.bench_function("picket_full", |b| {
        b.iter(|| {
            // Into one reused event, as the writer parses a batch.
            let mut ev = parse_line(b"", ctx);
            for l in lines {
                parse_line_into(black_box(l), ctx, &mut ev);
                black_box(&ev);
            }
        })
    });
    g.bench_function("syslog_loose_header", |b| {
        b.iter(|| {
            for s in strs {
                black_box(&syslog_loose::parse_message(
                    black_box(s),
                    syslog_loose::Variant::Either,
                ));
            }
        })
    });
    g.bench_function("regex_header", |b| {
        b.iter(|| {
            for l in lines {
                black_box(&rx.header(black_box(l)));
            }
        })
    });
    g.bench_function("regex_full", |b| {
        b.iter(|| {
            for l in lines {
                black_box(&rx.full(black_box(l)));
            }
        })
    });
}

fn bench(c: &mut Criterion) {
    let lines = corpus();
    // syslog_loose takes &str: convert once, outside the timed loops.
    let strs: Vec<String> = lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    let ctx = ParseContext::new(REFERENCE);
    let mut rx = RegexParser::new();
    report(&lines, &strs, &ctx, &mut rx);
    let bytes: u64 = lines.iter().map(|l| l.len() as u64).sum();

    let mut g = c.benchmark_group("lines");
    g.throughput(Throughput::Elements(lines.len() as u64));
    run_group(&mut g, &lines, &strs, &ctx, &mut rx);
    g.finish();

    let mut g = c.benchmark_group("bytes");
    g.throughput(Throughput::Bytes(bytes));
    run_group(&mut g, &lines, &strs, &ctx, &mut rx);
    g.finish();
}

criterion::criterion_group!(benches, bench);
criterion::criterion_main!(benches);
