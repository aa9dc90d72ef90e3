//! A full disk, for real: the data directory on a small tmpfs that fills up, then space
//! returns. Needs root (to mount); without it each test says it was skipped and why.
// Test code: a failed expectation panics, which is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use picket_parsers::{ParseContext, parse_line};
use picket_store::{Batch, Cidr, IncidentWrites, Query, Store, StoreConfig, StoreError};

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

fn mount(dir: &Path, mb: u64) -> Option<Tmpfs> {
    let out = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={mb}M"), "tmpfs"])
        .arg(dir)
        .output();
    match out {
        Ok(o) if o.status.success() => Some(Tmpfs(dir.to_path_buf())),
        Ok(o) => {
            eprintln!(
                "SKIPPED: cannot mount a tmpfs (needs root): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            None
        }
        Err(e) => {
            eprintln!("SKIPPED: cannot run mount: {e}");
            None
        }
    }
}

const BASE: u64 = 1_795_392_000_000_000_000;
const SOURCES: usize = 40;

fn source(i: usize) -> IpAddr {
    format!("198.51.{}.{}", i % SOURCES / 10, i % SOURCES)
        .parse()
        .unwrap()
}

/// Events `start..start + n`, each naming its number (`id=N`) and one of 40 sources, with
/// an incompressible tail so the disk fills at a known pace.
fn batch(start: usize, n: usize) -> Batch {
    let ctx = ParseContext::new((BASE / 1_000_000_000) as i64);
    let mut b = Batch::new();
    let mut x = (start as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in start..start + n {
        let mut pad = String::new();
        for _ in 0..8 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            pad.push_str(&format!("{x:016x}"));
        }
        let line = format!(
            "<38>Nov  8 15:26:31 gw sshd[1]: Failed password for root from {} port 22 ssh2 id={i} {pad}",
            source(i)
        );
        b.push(&parse_line(line.as_bytes(), &ctx), BASE + i as u64 * 1000);
    }
    b
}

fn id_of(original: &[u8]) -> usize {
    let s = std::str::from_utf8(original).unwrap();
    let at = s.find(" id=").unwrap() + 4;
    s[at..].split(' ').next().unwrap().parse().unwrap()
}

/// Every event id, with its source, from a time scan; panics on a duplicate.
fn by_time(store: &Store) -> BTreeMap<usize, IpAddr> {
    let mut seen = BTreeMap::new();
    for s in store.scan(&Query::default()) {
        let s = s.unwrap();
        let ev = s.event().unwrap();
        let id = id_of(ev.original);
        assert!(
            seen.insert(id, ev.details.source.ip.unwrap()).is_none(),
            "event {id} twice"
        );
    }
    seen
}

/// Every source query answers exactly the events of that source that a time scan finds.
fn check_sources(store: &Store, all: &BTreeMap<usize, IpAddr>) {
    for i in 0..SOURCES {
        let ip = source(i);
        let got: Vec<usize> = store
            .scan(&Query {
                source: Some(Cidr {
                    addr: ip,
                    prefix: 32,
                }),
                ..Query::default()
            })
            .map(|s| {
                let s = s.unwrap();
                let ev = s.event().unwrap();
                assert_eq!(ev.details.source.ip, Some(ip), "another source's event");
                id_of(ev.original)
            })
            .collect();
        let want: Vec<usize> = all
            .iter()
            .filter(|(_, s)| **s == ip)
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(got, want, "source {ip}");
    }
}

fn recover(store: &Store) {
    let t = Instant::now();
    loop {
        match store.recover() {
            Ok(()) => return,
            Err(e) if e.is_retryable() && t.elapsed() < Duration::from_secs(20) => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("recover: {e}"),
        }
    }
}

/// Fills the disk through `store` until an append or a flush fails; returns the first event
/// number not known to be stored, the failed batch, the batch number it would have had, and
/// the error.
fn fill_until_full(store: &Store, per: usize) -> (usize, Batch, u64, StoreError) {
    let mut next = 0;
    loop {
        let b = batch(next, per);
        let number = store.next_batch();
        let r = store.append(&b).and_then(|_| store.flush());
        if let Err(e) = r {
            return (next, b, number, e);
        }
        next += per;
        assert!(next < 10_000_000, "the disk never filled");
    }
}

#[test]
fn a_failed_append_leaves_no_index_entry_behind() {
    let t = tempfile::tempdir().unwrap();
    let Some(_mount) = mount(t.path(), 16) else {
        return;
    };
    let dir = t.path().join("store");
    // Runs of a few hundred entries: most appends write a run, so the failing one sorts.
    let cfg = StoreConfig {
        flush_every_ms: None,
        index_run_entries: 250,
        ..StoreConfig::default()
    };
    let store = Store::open(&dir, &cfg).unwrap();
    let filler = t.path().join("filler");
    std::fs::write(&filler, vec![0u8; 10 << 20]).unwrap();
    let (_, _, _, err) = fill_until_full(&store, 100);
    assert!(err.is_disk_full(), "{err:?}");
    assert!(err.is_retryable() && !err.is_fatal());
    // Closed, not wrong: scans say so instead of answering from a half-applied state.
    assert!(store.needs_recovery());
    let q = Query {
        source: Some(Cidr {
            addr: source(3),
            prefix: 32,
        }),
        ..Query::default()
    };
    let first = store.scan(&q).next().unwrap();
    assert!(matches!(first, Err(StoreError::NeedsRecovery)), "{first:?}");
    assert!(store.append(&batch(0, 1)).unwrap_err().is_retryable());
    // stats still answer while the store is closed.
    let _ = (store.counts(), store.head(), store.live_bytes());
    std::fs::remove_file(&filler).unwrap();
    recover(&store);
    let all = by_time(&store);
    assert_eq!(all.len() as u64, store.counts().total);
    check_sources(&store, &all);
    assert_eq!(store.verify().unwrap().problem, None);
    // And after more appends on top of the recovered state.
    let more = all.keys().last().map_or(0, |k| k + 1);
    store.append(&batch(more, 333)).unwrap();
    let all = by_time(&store);
    check_sources(&store, &all);
    assert_eq!(store.verify().unwrap().problem, None);
}

#[test]
fn the_same_store_goes_on_when_space_returns() {
    let t = tempfile::tempdir().unwrap();
    let Some(_mount) = mount(t.path(), 24) else {
        return;
    };
    let dir = t.path().join("store");
    let cfg = StoreConfig {
        flush_every_ms: None,
        index_run_entries: 1000,
        ..StoreConfig::default()
    };
    let store = Store::open(&dir, &cfg).unwrap();
    let filler = t.path().join("filler");
    std::fs::write(&filler, vec![0u8; 14 << 20]).unwrap();
    let (next, failed, number, err) = fill_until_full(&store, 500);
    assert!(err.is_disk_full(), "{err:?}");
    // Still full: recovering may fail (retryable) or succeed and fail again at the next write.
    match store.recover() {
        Ok(()) => {}
        Err(e) => assert!(e.is_retryable(), "{e:?}"),
    }
    std::fs::remove_file(&filler).unwrap();
    // What the server does: back off, recover, append the batch again unless it landed.
    let t0 = Instant::now();
    loop {
        recover(&store);
        if store.next_batch() > number {
            break; // it landed before the error
        }
        match store.append(&failed).and_then(|_| store.flush()) {
            Ok(_) => break,
            Err(e) if e.is_retryable() && t0.elapsed() < Duration::from_secs(20) => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("append after space returned: {e}"),
        }
    }
    let mut end = next + 500;
    for _ in 0..5 {
        store.append(&batch(end, 500)).unwrap();
        end += 500;
    }
    store.flush().unwrap();
    drop(store);
    let store = Store::open(&dir, &cfg).unwrap();
    let v = store.verify().unwrap();
    assert_eq!(v.problem, None);
    let all = by_time(&store);
    assert_eq!(
        all.keys().copied().collect::<Vec<_>>(),
        (0..end).collect::<Vec<_>>(),
        "every event exactly once"
    );
    assert_eq!(v.events, end as u64);
    check_sources(&store, &all);
}

/// What the receiver writes with batch `n`: its own candidate and one change record.
fn incident_writes(n: u64) -> IncidentWrites {
    IncidentWrites {
        put: vec![(
            format!("batch{n:08}").into_bytes(),
            n.to_be_bytes().to_vec(),
        )],
        changes: vec![n.to_be_bytes().to_vec()],
        remove: Vec::new(),
        checkpoint: None,
        logbook: Vec::new(),
    }
}

#[test]
fn a_failed_append_with_leaves_no_incident_behind() {
    let t = tempfile::tempdir().unwrap();
    let Some(_mount) = mount(t.path(), 16) else {
        return;
    };
    let dir = t.path().join("store");
    let cfg = StoreConfig {
        flush_every_ms: None,
        index_run_entries: 250,
        ..StoreConfig::default()
    };
    let store = Store::open(&dir, &cfg).unwrap();
    let filler = t.path().join("filler");
    std::fs::write(&filler, vec![0u8; 10 << 20]).unwrap();
    let mut next = 0;
    let err = loop {
        let number = store.next_batch();
        let r = store
            .append_with(&batch(next, 100), &incident_writes(number))
            .and_then(|_| store.flush());
        if let Err(e) = r {
            break e;
        }
        next += 100;
        assert!(next < 10_000_000, "the disk never filled");
    };
    assert!(err.is_disk_full(), "{err:?}");
    // Closed: every incident call says so, as the others do.
    let closed = |r: Result<(), StoreError>| {
        assert!(matches!(r, Err(StoreError::NeedsRecovery)), "{r:?}");
    };
    closed(store.write_incidents(&incident_writes(0)).map(|_| ()));
    closed(
        store
            .append_with(&batch(0, 1), &incident_writes(0))
            .map(|_| ()),
    );
    closed(store.incident(b"batch00000000").map(|_| ()));
    closed(store.incidents().next().unwrap().map(|_| ()));
    closed(store.changes_after(None).next().unwrap().map(|_| ()));
    closed(store.clear_incidents());
    let _ = (store.incident_count(), store.last_change());
    std::fs::remove_file(&filler).unwrap();
    recover(&store);
    // Exactly the candidates and changes of the batches that are stored.
    let check = |store: &Store| {
        let n = store.next_batch();
        assert!(n > 0);
        let keys: Vec<Vec<u8>> = store.incidents().map(|r| r.unwrap().0).collect();
        let want: Vec<Vec<u8>> = (0..n)
            .map(|b| format!("batch{b:08}").into_bytes())
            .collect();
        assert_eq!(keys, want);
        assert_eq!(store.incident_count(), n);
        let log: Vec<(u64, Vec<u8>)> = store.changes_after(None).map(|r| r.unwrap()).collect();
        let want: Vec<(u64, Vec<u8>)> = (0..n).map(|b| (b + 1, b.to_be_bytes().to_vec())).collect();
        assert_eq!(log, want);
        assert_eq!(store.last_change(), Some(n));
    };
    check(&store);
    assert_eq!(store.verify().unwrap().problem, None);
    // And numbering goes on from there.
    let number = store.next_batch();
    store
        .append_with(&batch(next + 100, 10), &incident_writes(number))
        .unwrap();
    check(&store);
}
