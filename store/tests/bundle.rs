//! Evidence bundles on real sled directories: a source's lines in big batches of other
//! sources' lines, proven by Merkle inclusion proofs; the bundle verifies with the store
//! deleted, fails when one byte of a line or of a proof is altered, and stays far smaller than
//! the batches. A store of format 1 (no Merkle roots) still opens and verifies, and its old
//! batches go into a bundle whole.
// Test code: a failed expectation panics, which is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use picket_parsers::{ParseContext, parse_line};
use picket_store::{
    Batch, Bundle, Cidr, EventKey, LogbookAction, Query, Store, StoreConfig, logbook_kind,
};

const BASE: u64 = 1_795_392_000_000_000_000;
const SEC: u64 = 1_000_000_000;
const TARGET: &str = "203.0.113.50";

fn open(dir: &std::path::Path, format_1: bool) -> Store {
    let cfg = StoreConfig {
        format_1,
        ..StoreConfig::default()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Store::open(dir, &cfg) {
            Ok(s) => return s,
            Err(e) if std::time::Instant::now() < deadline && e.to_string().contains("lock") => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// A batch of `n` sshd failures from many sources; every `every`-th one from TARGET.
fn batch(start: u64, n: u64, every: u64) -> Batch {
    let ctx = ParseContext::new((BASE / SEC) as i64);
    let mut b = Batch::new();
    for i in 0..n {
        let src = if i % every == every / 2 {
            TARGET.to_string()
        } else {
            format!("198.51.{}.{}", (i / 250) % 250, i % 250)
        };
        let l = format!(
            "<38>Nov  8 15:26:31 gw{} sshd[{i}]: Failed password for root from {src} port {} ssh2",
            i % 3,
            1024 + i
        );
        b.push(
            &parse_line(l.as_bytes(), &ctx),
            BASE + (start + i) * 1_000_000,
        );
    }
    b
}

fn target_keys(store: &Store) -> Vec<EventKey> {
    let q = Query {
        source: Some(TARGET.parse::<Cidr>().unwrap()),
        ..Query::default()
    };
    store.scan(&q).map(|s| s.unwrap().key).collect()
}

fn bundle_of(store: &Store) -> Bundle {
    let ev = store.evidence(&target_keys(store)).unwrap();
    Bundle {
        candidate: format!("{{\"source\":\"{TARGET}\"}}"),
        heads: picket_store::format_heads(&store.heads()),
        chain: ev.chain,
        lines: ev.lines,
        whole: ev.whole,
        logbook: store.logbook(Some(TARGET)).unwrap(),
    }
}

#[test]
fn a_bundle_verifies_alone_is_small_and_fails_when_altered() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = open(&data, false);
    for n in 0..3 {
        store.append(&batch(n * 10_000, 4000, 500)).unwrap();
    }
    store
        .logbook_append(&LogbookAction::now(
            "alice",
            TARGET,
            logbook_kind::MARK,
            "state new -> reported",
        ))
        .unwrap();
    assert!(store.verify().unwrap().ok());
    let batches_bytes = store.live_bytes();
    let bytes = bundle_of(&store).to_bytes();
    drop(store);
    std::fs::remove_dir_all(&data).unwrap();

    let b = Bundle::from_bytes(&bytes).unwrap();
    let r = b.verify();
    assert_eq!(r.problem, None);
    assert_eq!(r.lines.len(), 24);
    assert_eq!((r.batches, r.logbook), (3, 1));
    assert!(b.whole.is_empty());
    let first = &r.lines[0];
    assert!(
        String::from_utf8_lossy(&first.raw).contains(&format!("from {TARGET} port")),
        "{first:?}"
    );
    assert!(first.host.as_deref().unwrap().starts_with(b"gw"));
    assert!(first.received_ns >= BASE);
    // 24 lines of 12,000, each with 12 hashes of proof: far below the batches.
    eprintln!(
        "bundle: {} bytes for 24 lines; their 3 batches: {batches_bytes} bytes",
        bytes.len()
    );
    assert!(
        bytes.len() * 20 < batches_bytes as usize,
        "bundle {} bytes, batches {batches_bytes}",
        bytes.len()
    );

    // One byte of a line: the 'F' of "Failed" in the third line.
    let at = bytes
        .windows(6)
        .enumerate()
        .filter(|(_, w)| *w == b"Failed")
        .nth(2)
        .unwrap()
        .0;
    let mut bad = bytes.clone();
    bad[at] = b'f';
    let r = Bundle::from_bytes(&bad).unwrap().verify();
    let p = r.problem.unwrap();
    assert!(p.contains("line 3 ") && p.contains("altered"), "{p}");

    // One byte of a proof.
    let mut b2 = Bundle::from_bytes(&bytes).unwrap();
    b2.lines[5].proof[3][7] ^= 0x40;
    let p = b2.verify().problem.unwrap();
    assert!(p.contains("line 6 "), "{p}");
    // A line moved to another index of its batch.
    let mut b3 = Bundle::from_bytes(&bytes).unwrap();
    b3.lines[0].index += 1;
    assert!(b3.verify().problem.is_some());
    // An altered chain entry (its count) no longer hashes.
    let mut b4 = Bundle::from_bytes(&bytes).unwrap();
    b4.chain[1].1.count += 1;
    let p = b4.verify().problem.unwrap();
    assert!(p.contains("chain entry of batch 1"), "{p}");
    // An altered logbook entry.
    let mut b5 = Bundle::from_bytes(&bytes).unwrap();
    b5.logbook[0].action.detail = "state new -> closed".into();
    let p = b5.verify().problem.unwrap();
    assert!(p.contains("logbook entry 1 was altered"), "{p}");
}

#[test]
fn a_format_1_store_opens_verifies_and_its_old_batches_go_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), true);
    store.append(&batch(0, 300, 100)).unwrap();
    drop(store);
    // This build: the old batch keeps its version 1 entry, new batches get a Merkle root.
    let store = open(dir.path(), false);
    store.append(&batch(10_000, 300, 100)).unwrap();
    let r = store.verify().unwrap();
    assert!(r.ok(), "{r:?}");
    assert_eq!(r.batches, 2);
    let b = bundle_of(&store);
    assert_eq!(b.whole.len(), 1);
    assert_eq!(b.whole[0].0, 0);
    assert_eq!(b.chain.len(), 2);
    assert!(b.chain[0].1.root.is_none() && b.chain[1].1.root.is_some());
    let bytes = b.to_bytes();
    let back = Bundle::from_bytes(&bytes).unwrap();
    let r = back.verify();
    assert_eq!(r.problem, None);
    assert_eq!(r.lines.len(), 6);
    // A line of the whole batch altered is caught too.
    let mut bad = back.clone();
    let l = bad.lines[0].record.len() - 3;
    bad.lines[0].record[l] ^= 1;
    assert!(bad.verify().problem.unwrap().contains("line 1 "));
    // The old batch's blocks altered: its entry no longer hashes.
    let mut bad = back;
    let n = bad.whole[0].1[0].len() - 1;
    bad.whole[0].1[0][n] ^= 1;
    assert!(
        bad.verify()
            .problem
            .unwrap()
            .contains("chain entry of batch 0")
    );
}

/// Writes small bundles as fuzz seeds when PICKET_FUZZ_SEEDS names a directory
/// (fuzz/seeds/bundle); otherwise checks that they verify.
#[test]
fn small_bundles_for_the_fuzz_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("v1"), true);
    store.append(&batch(0, 4, 4)).unwrap();
    drop(store);
    let store = open(&dir.path().join("v1"), false);
    store.append(&batch(100, 6, 3)).unwrap();
    store
        .logbook_append(&LogbookAction::now(
            "alice",
            TARGET,
            logbook_kind::BLOCK,
            "blocked until 2026-12-03T00:00:00Z",
        ))
        .unwrap();
    let mixed = bundle_of(&store).to_bytes();
    let store = open(&dir.path().join("v2"), false);
    store.append(&batch(0, 9, 9)).unwrap();
    let small = bundle_of(&store).to_bytes();
    for b in [&mixed, &small] {
        assert!(b.len() < 4096, "{}", b.len());
        assert_eq!(Bundle::from_bytes(b).unwrap().verify().problem, None);
    }
    if let Ok(out) = std::env::var("PICKET_FUZZ_SEEDS") {
        std::fs::write(format!("{out}/mixed"), &mixed).unwrap();
        std::fs::write(format!("{out}/small"), &small).unwrap();
    }
}
