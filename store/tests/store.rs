//! The store on a real sled directory: appends, scans, paging, verify against tampering,
//! retention, reopen.
// Test code: a failed expectation panics, which is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::IpAddr;
use std::time::Duration;

use picket_parsers::{Action, Dataset, ParseContext, parse_line};
use picket_store::{Batch, Cidr, Order, Problem, Query, Retention, Store, StoreConfig};

const BASE: u64 = 1_795_392_000_000_000_000;
const SEC: u64 = 1_000_000_000;

fn line(i: usize) -> String {
    match i % 4 {
        0 => format!(
            "<38>Nov  8 15:26:31 gw sshd[{i}]: Failed password for root from 198.51.100.{} port {} ssh2",
            i % 7,
            1000 + i
        ),
        1 => format!(
            "Nov  8 15:26:31 gw in.telnetd[{i}]: refused connect from 2001:db8::{:x}",
            i % 5
        ),
        2 => format!(
            "Nov  8 15:26:31 fw kernel: DROP IN=eth0 OUT= SRC=203.0.113.{} DST=192.0.2.1 PROTO=TCP SPT=1 DPT=23",
            i % 3
        ),
        _ => format!("Nov  8 15:26:31 gw CRON[{i}]: (root) CMD (true) {i}"),
    }
}

/// Appends `n` events in batches of `per`, one second apart, starting at `start`.
fn fill(store: &Store, n: usize, per: usize, start: u64) {
    let ctx = ParseContext::new((BASE / SEC) as i64);
    let mut batch = Batch::new();
    for i in 0..n {
        let l = line(i);
        batch.push(&parse_line(l.as_bytes(), &ctx), start + i as u64 * SEC);
        if batch.len() == per {
            store.append(&batch).unwrap();
            batch.clear();
        }
    }
    store.append(&batch).unwrap();
}

/// Small index runs, so that tests cover written runs and the pending run together.
fn open(dir: &std::path::Path) -> Store {
    let cfg = StoreConfig {
        index_run_entries: 37,
        ..StoreConfig::default()
    };
    Store::open(dir, &cfg).unwrap()
}

fn all(store: &Store, q: &Query) -> Vec<String> {
    store
        .scan(q)
        .map(|s| {
            let s = s.unwrap();
            String::from_utf8(s.event().unwrap().original.to_vec()).unwrap()
        })
        .collect()
}

#[test]
fn scans_by_time_source_cidr_dataset_and_action() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill(&store, 400, 64, BASE);
    assert_eq!(store.counts().total, 400);
    let c = store.counts();
    let sshd = c
        .by_dataset
        .iter()
        .find(|(d, _)| *d == Dataset::Sshd)
        .unwrap()
        .1;
    assert_eq!(sshd, 100);

    let everything = all(&store, &Query::default());
    assert_eq!(everything.len(), 400);
    assert_eq!(everything[0], line(0));

    let newest = all(
        &store,
        &Query {
            order: Order::NewestFirst,
            limit: Some(3),
            ..Query::default()
        },
    );
    assert_eq!(newest, vec![line(399), line(398), line(397)]);

    let window = all(
        &store,
        &Query {
            since_ns: Some(BASE + 10 * SEC),
            until_ns: Some(BASE + 20 * SEC),
            ..Query::default()
        },
    );
    assert_eq!(window, (10..20).map(line).collect::<Vec<_>>());

    let one: IpAddr = "198.51.100.3".parse().unwrap();
    let q = Query {
        source: Some(Cidr {
            addr: one,
            prefix: 32,
        }),
        ..Query::default()
    };
    let got = all(&store, &q);
    let want: Vec<String> = (0..400)
        .filter(|i| i % 4 == 0 && i % 7 == 3)
        .map(line)
        .collect();
    assert_eq!(got, want);

    let v6: Cidr = "2001:db8::/64".parse().unwrap();
    assert_eq!(
        all(
            &store,
            &Query {
                source: Some(v6),
                ..Query::default()
            }
        )
        .len(),
        100
    );
    let v4: Cidr = "203.0.113.0/24".parse().unwrap();
    assert_eq!(
        all(
            &store,
            &Query {
                source: Some(v4),
                ..Query::default()
            }
        )
        .len(),
        100
    );

    let denied = all(
        &store,
        &Query {
            action: Some(Action::AclDenied),
            ..Query::default()
        },
    );
    assert_eq!(denied.len(), 100);
    let tcpd = all(
        &store,
        &Query {
            dataset: Some(Dataset::Tcpd),
            since_ns: Some(BASE + 100 * SEC),
            ..Query::default()
        },
    );
    assert_eq!(tcpd.len(), 75);
    assert!(
        all(
            &store,
            &Query {
                dataset: Some(Dataset::Snort),
                ..Query::default()
            }
        )
        .is_empty()
    );
}

#[test]
fn paging_with_a_cursor_returns_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill(&store, 250, 50, BASE);
    for order in [Order::OldestFirst, Order::NewestFirst] {
        for source in [None, Some("198.51.100.0/24".parse::<Cidr>().unwrap())] {
            let mut q = Query {
                order,
                source,
                limit: Some(7),
                ..Query::default()
            };
            let mut seen = Vec::new();
            loop {
                let page: Vec<_> = store.scan(&q).map(Result::unwrap).collect();
                if page.is_empty() {
                    break;
                }
                seen.extend(page.iter().map(|s| s.key));
                q.after = page.last().map(|s| s.cursor.clone());
                // The cursor survives a round trip through text.
                q.after = q.after.map(|c| c.to_string().parse().unwrap());
            }
            let full: Vec<_> = store
                .scan(&Query {
                    order,
                    source,
                    ..Query::default()
                })
                .map(|s| s.unwrap().key)
                .collect();
            assert_eq!(seen, full, "{order:?} {source:?}");
            let mut dedup = seen.clone();
            dedup.sort();
            dedup.dedup();
            assert_eq!(dedup.len(), seen.len());
        }
    }
}

#[test]
fn verify_passes_then_names_the_altered_batch() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        fill(&store, 300, 100, BASE);
        let r = store.verify().unwrap();
        assert_eq!((r.events, r.batches, r.problem), (300, 3, None));
        store.flush().unwrap();
    }
    // Change one byte of one record behind the store's back.
    {
        let db = sled::open(dir.path()).unwrap();
        let events = db.open_tree("events").unwrap();
        // Batches of 100 events are stored as blocks of 64 and 36: block 2 is in batch 1.
        let (k, v) = events.iter().nth(2).unwrap().unwrap();
        let mut bad = v.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 0x20;
        events.insert(k, bad).unwrap();
        db.flush().unwrap();
    }
    let store = open(dir.path());
    let r = store.verify().unwrap();
    match r.problem {
        Some(Problem::Altered {
            batch: 1,
            expected: 100,
            found: 100,
            first,
            last,
        }) => {
            assert_eq!(first.time_ns, BASE + 100 * SEC);
            assert_eq!(last.time_ns, BASE + 199 * SEC);
        }
        other => panic!("expected batch 1 altered, got {other:?}"),
    }
    let text = r.problem.unwrap().to_string();
    assert!(text.contains("batch 1"), "{text}");
}

#[test]
fn verify_detects_removed_events_and_batches() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        fill(&store, 300, 100, BASE);
        store.flush().unwrap();
    }
    {
        let db = sled::open(dir.path()).unwrap();
        let events = db.open_tree("events").unwrap();
        // Block 5 holds the last 36 events of batch 2.
        let (k, _) = events.iter().nth(5).unwrap().unwrap();
        events.remove(k).unwrap();
        db.flush().unwrap();
    }
    {
        let store = open(dir.path());
        let r = store.verify().unwrap();
        assert!(
            matches!(
                r.problem,
                Some(Problem::Altered {
                    batch: 2,
                    expected: 100,
                    found: 64,
                    ..
                })
            ),
            "{r:?}"
        );
    }
    {
        let db = sled::open(dir.path()).unwrap();
        let chain = db.open_tree("chain").unwrap();
        chain.remove(1u64.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let store = open(dir.path());
    let r = store.verify().unwrap();
    assert!(
        matches!(
            r.problem,
            Some(Problem::Unchained { .. }) | Some(Problem::MissingBatches { .. })
        ),
        "{r:?}"
    );
}

#[test]
fn retention_removes_whole_batches_and_verify_still_passes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill(&store, 1000, 100, BASE);
    let before = store.live_bytes();
    // By age: everything received more than 500 s before BASE+1000 s.
    let now = BASE + 1000 * SEC;
    let r = store
        .apply_retention(
            &Retention {
                max_age: Some(Duration::from_secs(500)),
                max_bytes: None,
            },
            now,
        )
        .unwrap();
    assert_eq!((r.batches, r.events), (5, 500));
    assert_eq!(store.counts().total, 500);
    assert!(store.live_bytes() < before);
    let v = store.verify().unwrap();
    assert_eq!((v.events, v.problem), (500, None));
    // No index entry survives its event.
    let src: Cidr = "::/0".parse().unwrap();
    for s in store.scan(&Query {
        source: Some(src),
        ..Query::default()
    }) {
        assert!(s.unwrap().key.time_ns >= BASE + 500 * SEC);
    }
    // By size: down to at most a third of what is left.
    let target = store.live_bytes() / 3;
    store
        .apply_retention(
            &Retention {
                max_age: None,
                max_bytes: Some(target),
            },
            now,
        )
        .unwrap();
    assert!(store.live_bytes() <= target);
    assert_eq!(store.verify().unwrap().problem, None);
    // Appending after retention chains on from the anchor, across a reopen.
    drop(store);
    let store = open(dir.path());
    fill(&store, 50, 25, BASE + 2000 * SEC);
    let v = store.verify().unwrap();
    assert_eq!(v.problem, None);
    assert_eq!(v.head, store.head());
}

#[test]
fn keys_stay_ordered_when_the_clock_steps_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill(&store, 10, 5, BASE + 100 * SEC);
    fill(&store, 10, 5, BASE); // older receive times than what is stored
    assert_eq!(store.verify().unwrap().problem, None);
    let got = all(&store, &Query::default());
    assert_eq!(got.len(), 20);
    let s = store.scan(&Query::default()).last().unwrap().unwrap();
    // The record keeps the true receive time.
    assert_eq!(
        s.event().unwrap().received.unwrap().secs as u64,
        (BASE + 9 * SEC) / SEC
    );
}

#[test]
fn reopen_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        fill(&store, 120, 40, BASE);
        store.flush().unwrap();
    }
    let store = open(dir.path());
    assert_eq!(store.counts().total, 120);
    fill(&store, 30, 40, BASE + 500 * SEC);
    let v = store.verify().unwrap();
    assert_eq!((v.events, v.batches, v.problem), (150, 4, None));
}

#[test]
fn a_second_process_cannot_open_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let _store = open(dir.path());
    // sled locks the directory; within one process a second open is refused as well.
    match Store::open(dir.path(), &StoreConfig::default()) {
        Err(e) => assert!(
            e.to_string().contains(&dir.path().display().to_string()),
            "{e}"
        ),
        Ok(_) => panic!("second open succeeded"),
    }
}

#[test]
fn a_scan_stops_when_its_flag_is_set_even_while_nothing_matches() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    fill(&store, 5000, 500, 1_000_000_000);
    let nothing = Query {
        text: Some(b"no such text".to_vec()),
        ..Query::default()
    };
    let flag = Arc::new(AtomicBool::new(false));
    // Unset, the scan walks everything and finds nothing.
    assert_eq!(store.scan(&nothing).stop_on(flag.clone()).count(), 0);
    // Set, even a scan that would match everything ends at once.
    flag.store(true, Ordering::Relaxed);
    assert_eq!(
        store.scan(&Query::default()).stop_on(flag.clone()).count(),
        0
    );
    let by_source = Query {
        source: Some("198.51.100.0/24".parse().unwrap()),
        ..Query::default()
    };
    assert_eq!(store.scan(&by_source).stop_on(flag).count(), 0);
    assert!(
        store.scan(&by_source).count() > 0,
        "the source scan has matches"
    );
}

/// Every file under `dir` with its bytes.
fn files(dir: &std::path::Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn a_store_of_a_newer_format_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        fill(&store, 100, 50, BASE);
        store.flush().unwrap();
    }
    // What a newer build would have written: its format number beside sled's files, and in
    // the meta tree.
    std::fs::write(dir.path().join("picket-store-format"), "9\n").unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert(b"format", &[9u8])
            .unwrap();
        db.flush().unwrap();
    }
    let before = files(dir.path());
    let e = match Store::open(dir.path(), &StoreConfig::default()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a store of format 9 was opened"),
    };
    assert!(
        e.contains("format 9, newer than this build") && e.contains("left as it is"),
        "{e}"
    );
    assert!(
        before == files(dir.path()),
        "the refused store was written to"
    );
}

#[test]
fn damaged_files_are_named_by_batch_or_refused_at_open_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // Where batch 1 went in sled's log: what the file grew by while it was written.
    let (from, to) = {
        let store = open(dir.path());
        let len = || std::fs::metadata(dir.path().join("db")).unwrap().len() as usize;
        fill(&store, 10_000, 10_000, BASE);
        store.flush().unwrap();
        let from = len();
        fill(&store, 10_000, 10_000, BASE + 20_000 * SEC);
        store.flush().unwrap();
        let to = len();
        fill(&store, 10_000, 10_000, BASE + 40_000 * SEC);
        store.flush().unwrap();
        (from, to)
    };
    // Opened and closed once more, sled has a snapshot: pages before it are read only when a
    // reader needs them, after the open, as in a store that ran for a while.
    drop(open(dir.path()));
    eprintln!("batch 1 written at bytes {from}..{to}");
    let db = std::fs::read(dir.path().join("db")).unwrap();
    let t0 = std::time::Instant::now();
    let (mut by_batch, mut by_index, mut at_open, mut clean) = (0, 0, 0, 0);
    let mut batch_1 = 0;
    for at in (from..to).step_by(((to - from) / 40).max(1)) {
        let copy = tempfile::tempdir().unwrap();
        for (p, bytes) in files(dir.path()) {
            let to = copy.path().join(p.strip_prefix(dir.path()).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::write(&to, bytes).unwrap();
        }
        let mut damaged = db.clone();
        for b in &mut damaged[at..(at + 8).min(db.len())] {
            *b ^= 0xff;
        }
        std::fs::write(copy.path().join("db"), &damaged).unwrap();
        match Store::open(copy.path(), &StoreConfig::default()) {
            Err(e) => {
                let e = e.to_string();
                assert!(e.contains("damaged") || e.contains("store"), "at {at}: {e}");
                assert!(!e.contains("backtrace"), "sled's raw words at {at}: {e}");
                at_open += 1;
            }
            Ok(store) => match store.verify() {
                Ok(r) => match r.problem {
                    None => clean += 1, // a byte of a page sled no longer uses
                    Some(p) => {
                        let p = p.to_string();
                        assert!(
                            p.contains("batch ") || p.contains("source index"),
                            "at {at}: {p}"
                        );
                        by_batch += usize::from(p.contains("batch "));
                        batch_1 += usize::from(p.starts_with("batch 1 "));
                        by_index += usize::from(p.contains("source index"));
                    }
                },
                Err(e) => panic!("verify gave up instead of naming the damage at {at}: {e}"),
            },
        }
    }
    eprintln!(
        "damage named by batch {by_batch} (batch 1: {batch_1}), in the index {by_index}, \
         refused at open {at_open}, unused bytes {clean} ({:?})",
        t0.elapsed()
    );
    // Damage where batch 1 was written, in pages read only after the open, is named so.
    assert!(batch_1 > 0, "no damage was named by its batch");
}
