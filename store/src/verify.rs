//! `verify`: walk the chain and the events together, recompute every batch hash, and name
//! the first batch that was altered, removed or reordered; then check that every index entry
//! points at an event with that source.

use crate::chain::{self, BatchHasher, ChainEntry, Hash};
use crate::error::StoreError;
use crate::key::{EventKey, addr16};
use crate::{Store, meta_key, record};

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
}

impl Store {
    /// Re-checks the whole store.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let _w = self.lock();
        let anchor = self
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
        };
        let mut events = self.events.iter().peekable();
        for item in self.chain.iter() {
            let (k, v) = item?;
            let number = chain::batch_number(&k).unwrap_or(u64::MAX);
            let Some(entry) = ChainEntry::from_bytes(&v) else {
                report.problem = Some(Problem::BadEntry { batch: number });
                return Ok(report);
            };
            if let Some(want) = expect_batch
                && number != want
            {
                report.problem = Some(if number > want {
                    Problem::MissingBatches {
                        expected: want,
                        found: number,
                    }
                } else {
                    Problem::BrokenLink {
                        batch: number,
                        first: entry.first,
                        last: entry.last,
                    }
                });
                return Ok(report);
            }
            if entry.prev != prev {
                report.problem = Some(Problem::BrokenLink {
                    batch: number,
                    first: entry.first,
                    last: entry.last,
                });
                return Ok(report);
            }
            let mut hasher = BatchHasher::new(number, &prev);
            let mut found = 0u32;
            while let Some(peek) = events.peek() {
                let (ek, _) = match peek {
                    Ok(kv) => kv,
                    Err(_) => {
                        // Surface the sled error.
                        if let Some(Err(e)) = events.next() {
                            return Err(e.into());
                        }
                        continue;
                    }
                };
                let key = EventKey::from_bytes(ek).unwrap_or(EventKey { time_ns: 0, seq: 0 });
                if key > entry.last {
                    break;
                }
                if key < entry.first {
                    report.problem = Some(Problem::Unchained { key });
                    return Ok(report);
                }
                if let Some(Ok((ek, ev))) = events.next() {
                    hasher.add(&ek, &ev);
                    found = found.saturating_add(1);
                }
            }
            report.events += u64::from(found);
            report.batches += 1;
            if found != entry.count || hasher.finish() != entry.hash {
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
            expect_batch = number.checked_add(1);
        }
        if let Some(item) = events.next() {
            let (ek, _) = item?;
            report.problem = Some(Problem::Unchained {
                key: EventKey::from_bytes(&ek).unwrap_or(EventKey { time_ns: 0, seq: 0 }),
            });
            return Ok(report);
        }
        for item in self.by_source.iter() {
            let (k, _) = item?;
            let key = k.get(16..).and_then(EventKey::from_bytes);
            let ok = match (key, k.get(..16)) {
                (Some(key), Some(src)) => match self.events.get(key.to_bytes())? {
                    Some(rec) => record::decode(&rec)
                        .ok()
                        .and_then(|e| e.details.source.ip)
                        .is_some_and(|ip| addr16(ip) == src),
                    None => false,
                },
                _ => false,
            };
            if !ok {
                report.problem = Some(Problem::DanglingIndex {
                    key: key.unwrap_or(EventKey { time_ns: 0, seq: 0 }),
                });
                return Ok(report);
            }
        }
        Ok(report)
    }
}
