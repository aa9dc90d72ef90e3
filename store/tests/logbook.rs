//! The logbook on a real sled directory: entries appended alone and with a batch's
//! transaction, numbered without gaps across reopens, verified with the event chain, and a
//! byte changed behind the store's back (sled opened directly) named by its entry.
// Test code: a failed expectation panics, which is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use picket_parsers::{ParseContext, parse_line};
use picket_store::{
    Batch, IncidentWrites, LogbookAction, LogbookProblem, Store, StoreConfig, logbook_kind,
};

const BASE: u64 = 1_795_392_000_000_000_000;

fn open(dir: &std::path::Path) -> Store {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Store::open(dir, &StoreConfig::default()) {
            Ok(s) => return s,
            Err(e) if std::time::Instant::now() < deadline && e.to_string().contains("lock") => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

fn action(n: u64, kind: &str, detail: &str) -> LogbookAction {
    LogbookAction {
        at_ns: BASE + n,
        who: "alice".into(),
        incident: "198.51.100.7".into(),
        kind: kind.into(),
        detail: detail.into(),
    }
}

fn batch() -> Batch {
    batch_at(BASE)
}

fn batch_at(t: u64) -> Batch {
    let ctx = ParseContext::new((BASE / 1_000_000_000) as i64);
    let mut b = Batch::new();
    b.push(
        &parse_line(
            b"<38>Nov  8 15:26:31 gw sshd[1]: Failed password for root from 198.51.100.7 port 22 ssh2",
            &ctx,
        ),
        t,
    );
    b
}

#[test]
fn appended_alone_and_with_a_batch_verify_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let e1 = store
        .logbook_append(&action(1, logbook_kind::LOOKUP, "abuse@example.net"))
        .unwrap();
    assert_eq!(e1.seq, 1);
    assert_eq!(e1.prev, [0; 32]);
    let w = IncidentWrites {
        logbook: vec![
            action(2, logbook_kind::MARK, "state new -> reported"),
            action(3, logbook_kind::BLOCK, "blocked until tomorrow"),
        ],
        ..IncidentWrites::default()
    };
    store.append_with(&batch(), &w).unwrap();
    store
        .write_incidents(&IncidentWrites {
            logbook: vec![action(4, logbook_kind::EXPIRY, "block ran out")],
            ..IncidentWrites::default()
        })
        .unwrap();
    let all = store.logbook(None).unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(all[1].prev, e1.hash);
    assert_eq!(store.logbook_head(), (4, all[3].hash));
    let r = store.verify().unwrap();
    assert!(r.ok(), "{r:?}");
    assert_eq!(r.logbook.entries, 4);
    assert_eq!(r.logbook.head, store.logbook_head());
    // A bad kind is refused and nothing is written.
    assert!(store.logbook_append(&action(5, "Send!", "")).is_err());
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.logbook_head().0, 4);
    let e5 = store
        .logbook_append(&action(5, logbook_kind::SEND, "<id@x>"))
        .unwrap();
    assert_eq!((e5.seq, e5.prev), (5, all[3].hash));
    assert!(store.verify().unwrap().ok());
    assert!(store.logbook(Some("203.0.113.1")).unwrap().is_empty());
}

/// Changes one byte of logbook entry `seq` with sled itself, as someone with the files would.
fn tamper(dir: &std::path::Path, seq: u64, at: impl Fn(&[u8]) -> usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let db = loop {
        match sled::open(dir) {
            Ok(db) => break db,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    let tree = db.open_tree("logbook").unwrap();
    let mut v = tree.get(seq.to_be_bytes()).unwrap().unwrap().to_vec();
    let i = at(&v);
    v[i] ^= 0x01;
    tree.insert(seq.to_be_bytes(), v).unwrap();
    db.flush().unwrap();
}

#[test]
fn a_changed_byte_is_named_by_its_entry() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for n in 1..=3 {
        store
            .logbook_append(&action(n, logbook_kind::MARK, "state new -> reported"))
            .unwrap();
    }
    drop(store);
    // The 'r' of "reported" in entry 2 becomes 's'.
    tamper(dir.path(), 2, |v| {
        v.windows(8).position(|w| w == b"reported").unwrap()
    });
    let store = open(dir.path());
    let r = store.verify().unwrap();
    assert!(!r.ok());
    match &r.logbook.problem {
        Some(LogbookProblem::Altered { seq: 2, now }) => {
            assert!(now.action.detail.contains("seported"), "{now:?}");
        }
        other => panic!("{other:?}"),
    }
    let said = r.logbook.problem.as_ref().unwrap().to_string();
    assert!(said.contains("logbook entry 2 was altered"), "{said}");
    assert!(said.contains("seported"), "{said}");
    drop(store);
    // Rewriting the hash too is caught by the next entry's link.
    let dir2 = tempfile::tempdir().unwrap();
    let store = open(dir2.path());
    for n in 1..=3 {
        store
            .logbook_append(&action(n, logbook_kind::MARK, "x"))
            .unwrap();
    }
    drop(store);
    tamper(dir2.path(), 2, |v| v.len() - 1);
    let store = open(dir2.path());
    let r = store.verify().unwrap();
    assert!(
        matches!(
            r.logbook.problem,
            Some(LogbookProblem::Altered { seq: 2, .. })
        ),
        "{r:?}"
    );
}

#[test]
fn a_recorded_head_is_found_later_and_a_rebuilt_store_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert!(store.heads().is_empty());
    store.append(&batch()).unwrap();
    store
        .logbook_append(&action(1, logbook_kind::MARK, "x"))
        .unwrap();
    let recorded = store.heads();
    assert_eq!(recorded.len(), 2);
    let text = picket_store::format_heads(&recorded);
    assert_eq!(picket_store::parse_heads(&text).unwrap(), recorded);
    // The store goes on: the recorded heads are still in it.
    store.append(&batch()).unwrap();
    store
        .logbook_append(&action(2, logbook_kind::MARK, "y"))
        .unwrap();
    for h in &recorded {
        assert_eq!(store.check_head(h).unwrap(), None, "{h}");
    }
    assert_ne!(store.heads(), recorded);
    // A store built again from scratch with other content (one event received 1 ns later,
    // another logbook entry) has other hashes.
    let other = tempfile::tempdir().unwrap();
    let forged = open(other.path());
    forged.append(&batch_at(BASE + 1)).unwrap();
    forged
        .logbook_append(&action(1, logbook_kind::MARK, "forged"))
        .unwrap();
    for h in &recorded {
        let why = forged.check_head(h).unwrap().expect("a mismatch");
        assert!(
            why.contains("does not match") || why.contains("rewritten"),
            "{why}"
        );
    }
    // A head past the end: entries were removed.
    let mut far = recorded[1];
    far.number = 9;
    assert!(
        forged
            .check_head(&far)
            .unwrap()
            .unwrap()
            .contains("removed")
    );
}
