//! Scans: by receive-time range over `events`, or by source address or CIDR over
//! `by_source`; filtered by dataset and action; oldest- or newest-first; resumable from a
//! cursor. Results stream from sled's iterators, so memory stays bounded whatever matches.

use picket_parsers::{Action, Dataset, Event};

use crate::Store;
use crate::error::{DecodeError, StoreError};
use crate::key::{Cidr, EVENT_KEY_LEN, EventKey};
use crate::record;

/// Which end of the range comes first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// Oldest first.
    #[default]
    OldestFirst,
    /// Newest first.
    NewestFirst,
}

/// A position to resume a scan after: the key of the last event returned, in the tree the
/// scan walks. Opaque to users; printed and read as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor(Vec<u8>);

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Cursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a cursor");
        if !s.is_ascii() || !(s.len() == 24 || s.len() == 56) {
            return Err(bad());
        }
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| bad()))
            .collect::<Result<Vec<u8>, String>>()
            .map(Cursor)
    }
}

/// What to scan for. `Default` is every event, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Received at or after (Unix ns).
    pub since_ns: Option<u64>,
    /// Received before (Unix ns).
    pub until_ns: Option<u64>,
    /// Source address or block.
    pub source: Option<Cidr>,
    /// Only this dataset.
    pub dataset: Option<Dataset>,
    /// Only this action.
    pub action: Option<Action>,
    /// Order of results (for a CIDR block: by address, then time).
    pub order: Order,
    /// At most this many results.
    pub limit: Option<usize>,
    /// Resume after this cursor.
    pub after: Option<Cursor>,
}

/// One stored event: its key, where to resume after it, and its record.
#[derive(Clone, Debug)]
pub struct Stored {
    /// The event key.
    pub key: EventKey,
    /// Resume position after this event.
    pub cursor: Cursor,
    /// The encoded record.
    pub record: sled::IVec,
}

impl Stored {
    /// Decodes the event (borrowing from the record).
    pub fn event(&self) -> Result<Event<'_>, DecodeError> {
        record::decode(&self.record)
    }
}

type Inner = Box<dyn DoubleEndedIterator<Item = sled::Result<(sled::IVec, sled::IVec)>> + Send>;

/// A running scan; an iterator of stored events.
pub struct Scan<'s> {
    store: &'s Store,
    inner: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>> + Send>,
    by_source: bool,
    query: Query,
    remaining: usize,
}

fn ns_bounds(q: &Query) -> (u64, u64) {
    (q.since_ns.unwrap_or(0), q.until_ns.unwrap_or(u64::MAX))
}

impl Store {
    /// Starts a scan.
    pub fn scan(&self, q: &Query) -> Scan<'_> {
        let (since, until) = ns_bounds(q);
        let lo_key = EventKey::at(since).to_bytes();
        // `until` is exclusive: the last key strictly before it.
        let hi_key = if until == 0 {
            [0u8; EVENT_KEY_LEN]
        } else {
            EventKey {
                time_ns: until - 1,
                seq: u32::MAX,
            }
            .to_bytes()
        };
        let (tree, mut lo, mut hi, by_source) = match q.source {
            Some(c) => {
                let (a, b) = c.range16();
                let (ka, kb) = if c.is_single() {
                    (lo_key, hi_key)
                } else {
                    ([0; EVENT_KEY_LEN], [0xff; EVENT_KEY_LEN])
                };
                let mut lo = a.to_vec();
                lo.extend_from_slice(&ka);
                let mut hi = b.to_vec();
                hi.extend_from_slice(&kb);
                (&self.by_source, lo, hi, true)
            }
            None => (&self.events, lo_key.to_vec(), hi_key.to_vec(), false),
        };
        let empty = (since >= until) || lo > hi;
        if let Some(c) = &q.after {
            match q.order {
                Order::OldestFirst => {
                    let mut next = c.0.clone();
                    next.push(0);
                    if next > lo {
                        lo = next;
                    }
                }
                Order::NewestFirst => {
                    if c.0 <= hi {
                        hi = c.0.clone();
                        // exclusive: step below the cursor
                        if let Some(pos) = hi.iter().rposition(|b| *b != 0) {
                            hi[pos] -= 1;
                            for b in hi.iter_mut().skip(pos + 1) {
                                *b = 0xff;
                            }
                        } else {
                            lo = vec![0xff; hi.len() + 1];
                        }
                    }
                }
            }
        }
        let inner: Inner = if empty || lo > hi {
            Box::new(std::iter::empty())
        } else {
            Box::new(tree.range(lo..=hi))
        };
        let inner: Box<dyn Iterator<Item = _> + Send> = match q.order {
            Order::OldestFirst => inner,
            Order::NewestFirst => Box::new(inner.rev()),
        };
        Scan {
            store: self,
            inner,
            by_source,
            query: q.clone(),
            remaining: q.limit.unwrap_or(usize::MAX),
        }
    }
}

impl Scan<'_> {
    fn accept(&self, key: EventKey, rec: &[u8]) -> Result<bool, StoreError> {
        let q = &self.query;
        let (since, until) = ns_bounds(q);
        if key.time_ns < since || key.time_ns >= until {
            return Ok(false);
        }
        if q.dataset.is_none() && q.action.is_none() {
            return Ok(true);
        }
        let s = record::summary(rec).map_err(|source| StoreError::Decode {
            key: key.to_string(),
            source,
        })?;
        Ok(
            q.dataset.is_none_or(|d| d == s.dataset)
                && q.action.is_none_or(|a| Some(a) == s.action),
        )
    }

    fn next_stored(&mut self) -> Result<Option<Stored>, StoreError> {
        while self.remaining > 0 {
            let Some(item) = self.inner.next() else {
                return Ok(None);
            };
            let (k, v) = item?;
            let (key, record) = if self.by_source {
                let Some(key) = k.get(16..).and_then(EventKey::from_bytes) else {
                    continue;
                };
                match self.store.events.get(key.to_bytes())? {
                    Some(rec) => (key, rec),
                    // An index entry whose event retention removed in the meantime.
                    None => continue,
                }
            } else {
                let Some(key) = EventKey::from_bytes(&k) else {
                    continue;
                };
                (key, v)
            };
            if !self.accept(key, &record)? {
                continue;
            }
            self.remaining -= 1;
            return Ok(Some(Stored {
                key,
                cursor: Cursor(k.to_vec()),
                record,
            }));
        }
        Ok(None)
    }
}

impl Iterator for Scan<'_> {
    type Item = Result<Stored, StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_stored().transpose()
    }
}
