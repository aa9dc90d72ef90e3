//! `verify`: walk the chain and the events together, recompute every batch hash, and name
//! the first batch that was altered, removed or reordered; then check that every index entry
//! points at an event with that source.

use crate::block::{self, BlockView};
use crate::chain::{self, BatchHasher, ChainEntry, Hash};
use crate::error::StoreError;
use crate::key::{EventKey, addr16};
use crate::{Store, index, merkle, meta_key, record};

/// The first problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A batch's events do not hash to the recorded value (a record changed, or events were
    /// removed from or added to its range).
    Altered {
        /// Batch number.
        batch: u64,
        /// Its first and last event keys (receive times).
        first: EventKey,
        /// Its last event key.
        last: EventKey,
        /// Events recorded for the batch.
        expected: u32,
        /// Events found in its range.
        found: u32,
    },
    /// A batch's link to its predecessor does not match: batches were removed or reordered.
    BrokenLink {
        /// Batch number.
        batch: u64,
        /// Its first event key.
        first: EventKey,
        /// Its last event key.
        last: EventKey,
    },
    /// Batch numbers jump: whole batches (and their chain entries) were removed.
    MissingBatches {
        /// The batch number expected next.
        expected: u64,
        /// The batch number found.
        found: u64,
    },
    /// An event lies outside every batch's range.
    Unchained {
        /// Its key.
        key: EventKey,
    },
    /// A chain entry cannot be read.
    BadEntry {
        /// Batch number (or the raw key's first bytes).
        batch: u64,
    },
    /// An index entry points at a missing event, or at one with another source.
    DanglingIndex {
        /// The event key the index names.
        key: EventKey,
    },
    /// Every batch verified, but the source index cannot be read back (the store's files are
    /// damaged where it lies).
    IndexUnreadable {
        /// sled's words.
        detail: String,
    },
    /// The store's files are damaged where a batch's events or its chain entry lie: sled
    /// cannot read them back (a checksum failed, the file ends early).
    Unreadable {
        /// The batch being read (`None`: the chain entry after the last batch that verified).
        batch: Option<u64>,
        /// The number of the last batch that verified, if any.
        after: Option<u64>,
        /// sled's words.
        detail: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let range = |f: &mut std::fmt::Formatter<'_>, a: &EventKey, b: &EventKey| {
            write!(f, "received {} to {}", fmt_ns(a.time_ns), fmt_ns(b.time_ns))
        };
        match self {
            Problem::Altered {
                batch,
                first,
                last,
                expected,
                found,
            } => {
                write!(f, "batch {batch} (")?;
                range(f, first, last)?;
                write!(
                    f,
                    ") was altered: its events do not match the chain ({expected} recorded, {found} found)"
                )
            }
            Problem::BrokenLink { batch, first, last } => {
                write!(f, "batch {batch} (")?;
                range(f, first, last)?;
                write!(
                    f,
                    ") does not follow its predecessor: batches were removed or reordered"
                )
            }
            Problem::MissingBatches { expected, found } => {
                write!(
                    f,
                    "batches {expected} to {} were removed",
                    found.saturating_sub(1)
                )
            }
            Problem::Unchained { key } => write!(
                f,
                "event {key} (received {}) belongs to no batch",
                fmt_ns(key.time_ns)
            ),
            Problem::BadEntry { batch } => write!(f, "chain entry of batch {batch} is unreadable"),
            Problem::DanglingIndex { key } => write!(
                f,
                "source index names event {key}, which is missing or has another source"
            ),
            Problem::IndexUnreadable { detail } => write!(
                f,
                "the source index cannot be read back: the store's files are damaged there \
                 ({detail}); every batch of events verified"
            ),
            Problem::Unreadable {
                batch,
                after,
                detail,
            } => {
                match (batch, after) {
                    (Some(b), _) => write!(f, "batch {b} cannot be read back")?,
                    (None, Some(a)) => {
                        write!(f, "the chain entry after batch {a} cannot be read back")?
                    }
                    (None, None) => f.write_str("the first chain entry cannot be read back")?,
                }
                write!(f, ": the store's files are damaged there ({detail})")
            }
        }
    }
}

/// RFC 3339 of Unix nanoseconds.
pub(crate) fn fmt_ns(ns: u64) -> String {
    let mut out = Vec::new();
    picket_parsers::Timestamp {
        secs: (ns / 1_000_000_000) as i64,
        nanos: (ns % 1_000_000_000) as u32,
    }
    .write_rfc3339(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// How far a verify walk got, kept outside it so that a panic inside sled still says where.
#[derive(Default)]
struct Walk {
    /// The batch being read.
    batch: Option<u64>,
    /// The last batch that verified.
    last_good: Option<u64>,
    /// The batches are done; the source index is being checked.
    index: bool,
    events: u64,
    batches: u64,
    head: Hash,
}

/// What `verify` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Events checked.
    pub events: u64,
    /// Batches checked.
    pub batches: u64,
    /// The chain's head hash.
    pub head: Hash,
    /// The first problem, if any.
    pub problem: Option<Problem>,
    /// What the walk of the logbook found.
    pub logbook: crate::LogbookReport,
}

impl VerifyReport {
    /// True when both the event chain and the logbook verify.
    pub fn ok(&self) -> bool {
        self.problem.is_none() && self.logbook.problem.is_none()
    }
}

impl Store {
    /// Re-checks the whole store.
    /// The event chain and the logbook are both checked, each to its first problem.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        // sled 0.34 can panic on a damaged page it reads back (an assertion in its node code)
        // instead of reporting corruption: that is damage to report, with where the walk was.
        let mut at = Walk::default();
        let walked =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.verify_all(&mut at)));
        let mut r = match walked {
            Ok(r) => r.map_err(|e| self.noted(e))?,
            Err(_) => VerifyReport {
                events: at.events,
                batches: at.batches,
                head: at.head,
                problem: Some(if at.index {
                    Problem::IndexUnreadable {
                        detail: "sled gave up reading its damaged files".into(),
                    }
                } else {
                    Problem::Unreadable {
                        batch: at.batch,
                        after: at.last_good,
                        detail: "sled gave up reading its damaged files".into(),
                    }
                }),
                logbook: crate::LogbookReport {
                    entries: 0,
                    head: (0, [0; 32]),
                    problem: None,
                },
            },
        };
        r.logbook = self.verify_logbook()?;
        Ok(r)
    }

    fn verify_all(&self, at: &mut Walk) -> Result<VerifyReport, StoreError> {
        // Retention waits while the chain is walked; appends do not. The walk stops at the
        // last batch appended when it began, so it sees whole batches only: a consistent view
        // of the store as of its start, while ingest goes on.
        let _m = self.lock_maintenance();
        let t = self.open_trees()?;
        let (through_batch, through_key) = self.appended_through();
        let anchor = t
            .meta
            .get(meta_key::ANCHOR)?
            .and_then(|v| chain::anchor_from_bytes(&v));
        let (mut expect_batch, mut prev): (Option<u64>, Hash) = match anchor {
            Some((n, h)) => (Some(n + 1), h),
            None => (Some(0), [0; 32]),
        };
        let mut report = VerifyReport {
            events: 0,
            batches: 0,
            head: prev,
            problem: None,
            logbook: crate::LogbookReport {
                entries: 0,
                head: (0, [0; 32]),
                problem: None,
            },
        };
        let mut blocks = t.events.iter().peekable();
        let mut last_good: Option<u64> = None;
        for item in t.chain.iter() {
            let (k, v) = match item {
                Ok(kv) => kv,
                Err(e) => {
                    report.problem = Some(Problem::Unreadable {
                        batch: None,
                        after: last_good,
                        detail: crate::error::sled_words(&e),
                    });
                    return Ok(report);
                }
            };
            let number = chain::batch_number(&k).unwrap_or(u64::MAX);
            at.batch = Some(number);
            if through_batch.is_none_or(|last| number > last) {
                break; // appended after the walk began
            }
            let Some(entry) = ChainEntry::from_bytes(&v) else {
                report.problem = Some(Problem::BadEntry { batch: number });
                return Ok(report);
            };
            let linked = expect_batch.is_none_or(|want| number == want) && entry.prev == prev;
            if !linked {
                report.problem = Some(match expect_batch {
                    Some(want) if number > want => Problem::MissingBatches {
                        expected: want,
                        found: number,
                    },
                    _ => Problem::BrokenLink {
                        batch: number,
                        first: entry.first,
                        last: entry.last,
                    },
                });
                return Ok(report);
            }
            let mut hasher = BatchHasher::new(number, &prev);
            let v2 = entry.root.is_some();
            let mut leaves: Vec<Hash> = Vec::new();
            let mut found = 0u32;
            let mut damaged = false;
            loop {
                let bk = match blocks.peek() {
                    None => break,
                    Some(Ok((bk, _))) => EventKey::from_bytes(bk),
                    Some(Err(_)) => match blocks.next() {
                        Some(Err(e)) => {
                            report.problem = Some(Problem::Unreadable {
                                batch: Some(number),
                                after: last_good,
                                detail: crate::error::sled_words(&e),
                            });
                            return Ok(report);
                        }
                        _ => continue,
                    },
                };
                let Some(bk) = bk else {
                    damaged = true;
                    blocks.next();
                    continue;
                };
                if bk > entry.last {
                    break;
                }
                if bk < entry.first {
                    report.problem = Some(Problem::Unchained { key: bk });
                    return Ok(report);
                }
                let Some(Ok((_, block))) = blocks.next() else {
                    continue;
                };
                match block::unpack(&block) {
                    Ok(layout) => {
                        if !v2 {
                            hasher.add(&layout);
                        }
                        match BlockView::new(&layout) {
                            Ok(view) => {
                                for i in 0..view.len() {
                                    match view.get(i) {
                                        Ok((key, rec)) => {
                                            if v2 {
                                                leaves.push(merkle::leaf(&key.to_bytes(), rec));
                                            }
                                            damaged |= key < entry.first || key > entry.last;
                                            found = found.saturating_add(1);
                                        }
                                        Err(_) => damaged = true,
                                    }
                                }
                            }
                            Err(_) => damaged = true,
                        }
                    }
                    Err(_) => damaged = true,
                }
            }
            report.events += u64::from(found);
            report.batches += 1;
            let hashes = match entry.root {
                // The root must be the events' and the hash must cover the root.
                Some(root) => {
                    merkle::root(&leaves) == root
                        && entry.expected_v2_hash(number) == Some(entry.hash)
                }
                None => hasher.finish() == entry.hash,
            };
            if damaged || found != entry.count || !hashes {
                report.problem = Some(Problem::Altered {
                    batch: number,
                    first: entry.first,
                    last: entry.last,
                    expected: entry.count,
                    found,
                });
                return Ok(report);
            }
            prev = entry.hash;
            report.head = prev;
            last_good = Some(number);
            *at = Walk {
                batch: None,
                index: false,
                last_good,
                events: report.events,
                batches: report.batches,
                head: prev,
            };
            expect_batch = number.checked_add(1);
        }
        if let Some(item) = blocks.next() {
            let (bk, _) = item?;
            let key = EventKey::from_bytes(&bk);
            // Blocks after the last key seen at the start belong to later batches.
            // (No key at the start: the store had no blocks then.)
            if key.is_none_or(|k| through_key.is_some_and(|last| k <= last)) {
                report.problem = Some(Problem::Unchained {
                    key: key.unwrap_or(EventKey::at(0)),
                });
                return Ok(report);
            }
        }
        at.index = true;
        match self.dangling_index(&t) {
            Ok(Some(key)) => report.problem = Some(Problem::DanglingIndex { key }),
            Ok(None) => {}
            // Every batch verified: the damage is in the index, which can be rebuilt from them.
            Err(StoreError::Db(e)) => {
                report.problem = Some(Problem::IndexUnreadable {
                    detail: crate::error::sled_words(&e),
                });
            }
            Err(e) => return Err(e),
        }
        Ok(report)
    }

    /// The first index entry that does not name an event with that source. Entries for events
    /// that retention removed (older than the first remaining batch) are expected: a run is
    /// dropped only once all of its events are gone, and scans skip the missing ones.
    fn dangling_index(&self, t: &crate::Trees) -> Result<Option<EventKey>, StoreError> {
        let (runs, pending) = {
            let s = self.lock_shared();
            (s.runs.clone(), s.pending.clone())
        };
        let retained = t.meta.get(meta_key::ANCHOR)?.is_some();
        let live_from = match t.chain.first()? {
            Some((_, v)) if retained => ChainEntry::from_bytes(&v).map(|e| e.first),
            Some(_) => None,
            None if retained => Some(EventKey {
                time_ns: u64::MAX,
                seq: u32::MAX,
            }),
            None => None,
        };
        let mut cached: Option<(EventKey, std::sync::Arc<Vec<u8>>)> = None;
        let mut check = |e: &index::Entry| -> Result<bool, StoreError> {
            if live_from.is_some_and(|f| e.event < f) {
                return Ok(true);
            }
            let block = match &cached {
                Some((bk, b)) if *bk == e.block => b.clone(),
                _ => match t.events.get(e.block.to_bytes())? {
                    Some(stored) => {
                        let Ok(b) = block::unpack(&stored) else {
                            return Ok(false);
                        };
                        let b = std::sync::Arc::new(b);
                        cached = Some((e.block, b.clone()));
                        b
                    }
                    None => return Ok(false),
                },
            };
            Ok(BlockView::new(&block)
                .and_then(|v| v.get(usize::from(e.ordinal)))
                .ok()
                .filter(|(key, _)| *key == e.event)
                .and_then(|(_, rec)| record::decode(rec).ok()?.details.source.ip)
                .is_some_and(|ip| addr16(ip) == e.addr))
        };
        for r in &runs {
            for item in t.by_source.scan_prefix(r.id.to_be_bytes()) {
                let (_, v) = item?;
                let Ok(entries) = index::decode_chunk(&v) else {
                    return Ok(Some(EventKey::at(0)));
                };
                for e in &entries {
                    if !check(e)? {
                        return Ok(Some(e.event));
                    }
                }
            }
        }
        for e in pending.iter() {
            if !check(e)? {
                return Ok(Some(e.event));
            }
        }
        Ok(None)
    }
}
