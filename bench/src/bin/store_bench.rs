//! Store benchmark: insert throughput (parse + records + index + chain), a one-source query
//! among many events, disk bytes per event against the raw lines, and peak memory.
//!
//! `cargo run --release -p picket-bench --bin store_bench -- [EVENTS] [DIR]`
//! (default 10,000,000 events in a temporary directory under /tmp).

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use picket_parsers::{ParseContext, parse_line};
use picket_store::{Batch, Cidr, Query, Store, StoreConfig};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// An attacker address from a pool of 100,000, skewed so some repeat a lot (as real logs do).
fn attacker(rng: &mut Rng) -> Ipv4Addr {
    let r = rng.next();
    let n = if r.is_multiple_of(4) {
        (r >> 8) % 100
    } else {
        (r >> 8) % 100_000
    };
    Ipv4Addr::from(0xC633_0000u32 + n as u32) // 198.51.0.0/16 and up
}

/// One line; `sourced` forces a family line that names `src` (the queried source's lines).
fn line(rng: &mut Rng, i: u64, src: IpAddr, sourced: bool, out: &mut Vec<u8>) {
    out.clear();
    let port = 1024 + rng.next() % 60_000;
    let pick = rng.next() % if sourced { 5 } else { 10 };
    let _ = match pick {
        0 => write!(
            out,
            "<38>Nov  8 15:26:31 gw sshd[{}]: Failed password for invalid user admin{} from {src} port {port} ssh2",
            i % 30_000,
            i % 97
        ),
        1 => write!(
            out,
            "<4>Nov  8 15:26:31 fw kernel: [{}.123] DROP IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC={src} DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=0 DF PROTO=TCP SPT={port} DPT=23 WINDOW=5840 RES=0x00 SYN URGP=0",
            i % 100_000
        ),
        2 => write!(
            out,
            "<189>Nov  8 15:26:31 rtr 123: %SEC-6-IPACCESSLOGP: list 101 denied tcp {src}({port}) -> 192.0.2.10(23), 1 packet"
        ),
        3 => write!(
            out,
            "<38>Nov  8 15:26:31 linux in.telnetd[{}]: refused connect from {src}",
            i % 30_000
        ),
        4 => write!(
            out,
            "<33>Nov  8 15:26:31 ids snort[1210]: [1:2001219:20] ET SCAN Potential SSH Scan [Classification: Attempted Information Leak] [Priority: 2]: {{TCP}} {src}:{port} -> 192.0.2.10:22"
        ),
        _ => write!(
            out,
            "<30>Nov  8 15:26:31 host{} systemd[1]: Started Session {i} of user u{}; cron and mail chatter that names no peer.",
            i % 50,
            i % 300
        ),
    };
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn du(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("picket-store-bench-{}", std::process::id()))
        });
    let _ = std::fs::remove_dir_all(&dir);
    let target: IpAddr = "203.0.113.77".parse().expect("address");
    let every = (n / 1000).max(1);
    let ctx = ParseContext::new(1_795_392_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut buf = Vec::with_capacity(512);

    // Parsing alone, to tell the store's share of the time.
    let t = Instant::now();
    for i in 0..n.min(1_000_000) {
        let src = if i % every == 0 {
            target
        } else {
            IpAddr::V4(attacker(&mut rng))
        };
        line(&mut rng, i, src, i % every == 0, &mut buf);
        std::hint::black_box(parse_line(&buf, &ctx));
    }
    let parse_rate = n.min(1_000_000) as f64 / t.elapsed().as_secs_f64();

    let store = Store::open(&dir, &StoreConfig::default()).expect("open store");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut batch = Batch::new();
    let mut raw_bytes = 0u64;
    let base_ns = 1_795_392_000_000_000_000u64;
    let t = Instant::now();
    for i in 0..n {
        let src = if i % every == 0 {
            target
        } else {
            IpAddr::V4(attacker(&mut rng))
        };
        line(&mut rng, i, src, i % every == 0, &mut buf);
        raw_bytes += buf.len() as u64 + 1;
        batch.push(&parse_line(&buf, &ctx), base_ns + i * 1000);
        if batch.len() == 20_000 {
            store.append(&batch).expect("append");
            batch.clear();
        }
    }
    store.append(&batch).expect("append");
    store.checkpoint().expect("checkpoint");
    store.flush().expect("flush");
    let insert_secs = t.elapsed().as_secs_f64();
    let disk = du(&dir);

    let q = Query {
        source: Some(Cidr {
            addr: target,
            prefix: 32,
        }),
        ..Query::default()
    };
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..7 {
        let t = Instant::now();
        found = store.scan(&q).filter(|r| r.is_ok()).count();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let first_ms = times[0];
    times.sort_by(f64::total_cmp);
    drop(store);
    let store = Store::open(&dir, &StoreConfig::default()).expect("reopen");
    let t = Instant::now();
    let reopened = store.scan(&q).filter(|r| r.is_ok()).count();
    let cold_ms = t.elapsed().as_secs_f64() * 1000.0;

    println!(
        "store benchmark: {n} events, {} MB of raw lines, dir {}",
        raw_bytes >> 20,
        dir.display()
    );
    println!("| measure | value |");
    println!("| --- | --- |");
    println!("| parse only (1M lines) | {parse_rate:.0} lines/s |");
    println!(
        "| insert: parse + records + index + chain | {:.0} events/s ({insert_secs:.1} s) |",
        n as f64 / insert_secs
    );
    println!("| one-source query ({found} events), first run | {first_ms:.2} ms |");
    println!(
        "| one-source query, median of 7 | {:.2} ms |",
        times[times.len() / 2]
    );
    println!("| one-source query after reopen ({reopened} events) | {cold_ms:.2} ms |");
    println!(
        "| disk | {} MB, {:.1} bytes/event, {:.2} x raw |",
        disk >> 20,
        disk as f64 / n as f64,
        disk as f64 / raw_bytes as f64
    );
    println!("| peak memory (VmHWM) | {} MB |", vm_hwm_kb() >> 10);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
