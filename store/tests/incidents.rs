//! The sensor's trees on a real sled directory: candidates and change records written with
//! their batch or alone, numbered change log resumable from any cursor, clearing for a
//! rebuild, event keys known before the append, and retention that leaves them alone.
// Test code: a failed expectation panics, which is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use picket_parsers::{ParseContext, parse_line};
use picket_store::{Batch, EventKey, IncidentWrites, Query, Retention, Store, StoreConfig};

const BASE: u64 = 1_795_392_000_000_000_000;
const SEC: u64 = 1_000_000_000;

fn open(dir: &std::path::Path) -> Store {
    let cfg = StoreConfig {
        index_run_entries: 37,
        ..StoreConfig::default()
    };
    // sled's flusher thread lets go of the directory's lock a moment after a drop.
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

/// A batch of sshd failures received at the given times.
fn batch(times: &[u64]) -> Batch {
    let ctx = ParseContext::new((BASE / SEC) as i64);
    let mut b = Batch::new();
    for (i, t) in times.iter().enumerate() {
        let l = format!(
            "<38>Nov  8 15:26:31 gw sshd[{i}]: Failed password for root from 198.51.100.{} port 22 ssh2",
            i % 7
        );
        b.push(&parse_line(l.as_bytes(), &ctx), *t);
    }
    b
}

fn secs(from: u64, n: u64) -> Vec<u64> {
    (0..n).map(|i| BASE + (from + i) * SEC).collect()
}

fn writes(put: &[(&str, &str)], changes: &[&str]) -> IncidentWrites {
    IncidentWrites {
        put: put
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect(),
        changes: changes.iter().map(|c| c.as_bytes().to_vec()).collect(),
        remove: Vec::new(),
        checkpoint: None,
        logbook: Vec::new(),
    }
}

fn candidates(store: &Store) -> Vec<(String, String)> {
    store
        .incidents()
        .map(|r| {
            let (k, v) = r.unwrap();
            (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap())
        })
        .collect()
}

fn changes(store: &Store, after: Option<u64>) -> Vec<(u64, String)> {
    store
        .changes_after(after)
        .map(|r| {
            let (n, c) = r.unwrap();
            (n, String::from_utf8(c).unwrap())
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn append_with_stores_events_and_incidents_together() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        let b = batch(&secs(0, 10));
        let w = writes(&[("b", "2"), ("a", "1")], &["new a", "new b"]);
        let got = store.append_with(&b, &w).unwrap().unwrap();
        assert_eq!((got.batch, got.count), (0, 10));
        assert_eq!(store.incident_count(), 2);
        assert_eq!(store.last_change(), Some(2));
        // A plain append on top changes no incident.
        store.append(&batch(&secs(10, 5))).unwrap();
        assert_eq!(store.incident_count(), 2);
        // An empty batch with incident writes stores them alone.
        assert_eq!(
            store
                .append_with(&Batch::new(), &writes(&[("c", "3")], &["new c"]))
                .unwrap(),
            None
        );
        store.flush().unwrap();
    }
    let store = open(dir.path());
    assert_eq!(store.counts().total, 15);
    assert_eq!(store.verify().unwrap().problem, None);
    assert_eq!(store.incident_count(), 3);
    assert_eq!(store.incident(b"a").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(store.incident(b"zz").unwrap(), None);
    assert_eq!(
        candidates(&store),
        pairs(&[("a", "1"), ("b", "2"), ("c", "3")])
    );
    assert_eq!(
        changes(&store, None),
        vec![
            (1, "new a".to_string()),
            (2, "new b".to_string()),
            (3, "new c".to_string())
        ]
    );
    assert_eq!(store.last_change(), Some(3));
}

#[test]
fn write_incidents_alone_replaces_candidates_and_numbers_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert_eq!(store.last_change(), None);
    assert_eq!(
        store.write_incidents(&IncidentWrites::default()).unwrap(),
        None
    );
    // Candidates without change records: no number.
    assert_eq!(
        store.write_incidents(&writes(&[("k", "v1")], &[])).unwrap(),
        None
    );
    assert_eq!(store.last_change(), None);
    assert_eq!(
        store
            .write_incidents(&writes(&[("k", "v2"), ("j", "w")], &["x", "y"]))
            .unwrap(),
        Some(2)
    );
    // Replacing a candidate does not count it twice, nor does a key put twice in one write.
    assert_eq!(
        store
            .write_incidents(&writes(&[("k", "v3"), ("k", "v4")], &["z"]))
            .unwrap(),
        Some(3)
    );
    assert_eq!(store.incident_count(), 2);
    assert_eq!(candidates(&store), pairs(&[("j", "w"), ("k", "v4")]));
    // A checkpoint is kept with the writes, across a reopen, and a rebuild's clear drops it.
    let w = IncidentWrites {
        checkpoint: Some(b"through".to_vec()),
        ..IncidentWrites::default()
    };
    assert_eq!(store.write_incidents(&w).unwrap(), None);
    assert_eq!(
        store.incidents_checkpoint().unwrap(),
        Some(b"through".to_vec())
    );
    // A removal (a name's candidate merged into its address's), counted, across a reopen.
    let mut w = writes(&[("m", "merged")], &["merge"]);
    w.remove = vec![b"j".to_vec(), b"absent".to_vec()];
    assert_eq!(store.write_incidents(&w).unwrap(), Some(4));
    assert_eq!(store.incident_count(), 2);
    assert_eq!(candidates(&store), pairs(&[("k", "v4"), ("m", "merged")]));
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.incident_count(), 2);
    assert_eq!(candidates(&store), pairs(&[("k", "v4"), ("m", "merged")]));
    drop(store);
    let store = open(dir.path());
    // Put back as it was for the rest of the test.
    let mut w = writes(&[("j", "w")], &[]);
    w.remove = vec![b"m".to_vec()];
    store.write_incidents(&w).unwrap();
    assert_eq!(store.counts().total, 0);
    assert_eq!(store.next_batch(), 0);
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.incident_count(), 2);
    assert_eq!(store.last_change(), Some(4));
    assert_eq!(
        store.incidents_checkpoint().unwrap(),
        Some(b"through".to_vec())
    );
    store.clear_incidents().unwrap();
    assert_eq!(store.incidents_checkpoint().unwrap(), None);
}

#[test]
fn changes_are_numbered_from_one_and_resume_from_any_cursor_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut want = Vec::new();
    {
        let store = open(dir.path());
        for i in 0..4u64 {
            let names: Vec<String> = (0..i + 1).map(|j| format!("c{i}.{j}")).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let w = writes(&[], &refs);
            if i % 2 == 0 {
                store.append_with(&batch(&secs(i * 10, 3)), &w).unwrap();
            } else {
                store.write_incidents(&w).unwrap();
            }
            want.extend(names);
        }
    }
    let store = open(dir.path());
    let numbered: Vec<(u64, String)> = (1..).zip(want.iter().cloned()).collect();
    assert_eq!(store.last_change(), Some(want.len() as u64));
    assert_eq!(changes(&store, None), numbered);
    for c in 0..=want.len() as u64 + 2 {
        let tail: Vec<(u64, String)> = numbered.iter().filter(|(n, _)| *n > c).cloned().collect();
        assert_eq!(changes(&store, Some(c)), tail, "after {c}");
    }
    assert_eq!(changes(&store, Some(u64::MAX)), vec![]);
    // Numbering goes on after the reopen.
    assert_eq!(
        store.write_incidents(&writes(&[], &["more"])).unwrap(),
        Some(11)
    );
    assert_eq!(changes(&store, Some(10)), vec![(11, "more".to_string())]);
}

#[test]
fn clearing_incidents_keeps_the_numbering_going() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        store
            .append_with(
                &batch(&secs(0, 4)),
                &writes(&[("a", "1"), ("b", "2")], &["1", "2", "3"]),
            )
            .unwrap();
        store.clear_incidents().unwrap();
        assert_eq!(store.incident_count(), 0);
        assert_eq!(candidates(&store), vec![]);
        assert_eq!(changes(&store, None), vec![]);
        // The events stay; the last number stays, so a cursor at it sees only what is new.
        assert_eq!(store.counts().total, 4);
        assert_eq!(store.last_change(), Some(3));
    }
    // Across a reopen with an empty log too.
    let store = open(dir.path());
    assert_eq!(store.last_change(), Some(3));
    assert_eq!(store.incident_count(), 0);
    assert_eq!(
        store
            .write_incidents(&writes(&[("a", "rebuilt")], &["r"]))
            .unwrap(),
        Some(4)
    );
    assert_eq!(changes(&store, Some(3)), vec![(4, "r".to_string())]);
    assert_eq!(changes(&store, None), vec![(4, "r".to_string())]);
    store.clear_incidents().unwrap();
    store.clear_incidents().unwrap();
    drop(store);
    let store = open(dir.path());
    assert_eq!(
        store.write_incidents(&writes(&[], &["s"])).unwrap(),
        Some(5)
    );
    assert_eq!(store.incident_count(), 0);
}

#[test]
fn keys_for_equals_the_keys_append_then_assigns() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let t = BASE + 100 * SEC;
    // Equal times, a step back inside the batch, then whole batches older than what is stored.
    let batches = [
        vec![t, t, t + 5, t + 3, t + 3, t + 10],
        vec![BASE, BASE + 1, t + 10, t + 11],
        vec![t + 20 * SEC, t + 21 * SEC],
        vec![BASE],
    ];
    let mut all_keys: Vec<EventKey> = Vec::new();
    for times in &batches {
        let b = batch(times);
        let keys = store.keys_for(&b);
        assert_eq!(keys, store.keys_for(&b), "asking twice changes nothing");
        assert_eq!(keys.len(), times.len());
        let got = store
            .append_with(&b, &writes(&[("k", "v")], &["c"]))
            .unwrap()
            .unwrap();
        assert_eq!((got.first, got.last), (keys[0], *keys.last().unwrap()));
        all_keys.extend(keys);
    }
    let stored: Vec<EventKey> = store
        .scan(&Query::default())
        .map(|s| s.unwrap().key)
        .collect();
    assert_eq!(stored, all_keys);
    assert!(stored.windows(2).all(|w| w[0] < w[1]));
    // And across a reopen (the last key comes back from disk).
    drop(store);
    let store = open(dir.path());
    let b = batch(&[BASE, t]);
    let keys = store.keys_for(&b);
    store.append(&b).unwrap();
    let last: Vec<EventKey> = store
        .scan(&Query::default())
        .map(|s| s.unwrap().key)
        .skip(all_keys.len())
        .collect();
    assert_eq!(last, keys);
}

#[test]
fn a_candidate_outlives_the_events_retention_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for i in 0..10u64 {
        let key = format!("cand{i}");
        let change = format!("change{i}");
        store
            .append_with(
                &batch(&secs(i * 100, 20)),
                &writes(&[(key.as_str(), "x")], &[change.as_str()]),
            )
            .unwrap();
    }
    let now = BASE + 1000 * SEC;
    let r = store
        .apply_retention(
            &Retention {
                max_age: Some(Duration::from_secs(150)),
                max_bytes: None,
            },
            now,
        )
        .unwrap();
    assert_eq!(r.batches, 9);
    store
        .apply_retention(
            &Retention {
                max_age: None,
                max_bytes: Some(0),
            },
            now,
        )
        .unwrap();
    assert_eq!(store.counts().total, 0);
    assert_eq!(store.verify().unwrap().problem, None);
    let check = |store: &Store| {
        assert_eq!(store.incident_count(), 10);
        assert_eq!(candidates(store).len(), 10);
        assert_eq!(
            store.incident(b"cand0").unwrap().as_deref(),
            Some(&b"x"[..])
        );
        let log = changes(store, None);
        assert_eq!(log.len(), 10);
        assert_eq!(log[0], (1, "change0".to_string()));
        assert_eq!(store.last_change(), Some(10));
    };
    check(&store);
    store.flush().unwrap();
    drop(store);
    let store = open(dir.path());
    check(&store);
}
