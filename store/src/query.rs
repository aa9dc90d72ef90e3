//! Scans: by receive-time range over the blocks of `events`, or by source address or CIDR
//! over `by_source`; filtered by dataset and action; oldest- or newest-first; resumable from a
//! cursor. Results stream from sled's iterators one block at a time, so memory stays bounded
//! whatever matches.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use picket_parsers::{Action, Dataset, Event};

use crate::block::{self, BlockView};
use crate::error::{DecodeError, StoreError};
use crate::index;
use crate::key::{Cidr, EVENT_KEY_LEN, EventKey};
use crate::record;
use crate::{Store, Trees};

/// Which end of the range comes first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// Oldest first.
    #[default]
    OldestFirst,
    /// Newest first.
    NewestFirst,
}

/// A position to resume a scan after: the last event returned (for source scans also its
/// index run and address). Opaque to users; printed and read as hex text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    source: Option<(u64, [u8; 16])>,
    key: EventKey,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some((run, addr)) = self.source {
            write!(f, "{run:016x}")?;
            for b in addr {
                write!(f, "{b:02x}")?;
            }
        }
        write!(f, "{}", self.key)
    }
}

impl std::str::FromStr for Cursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a cursor");
        if !s.is_ascii() {
            return Err(bad());
        }
        match s.len() {
            24 => Ok(Cursor {
                source: None,
                key: s.parse().map_err(|_| bad())?,
            }),
            72 => {
                let part = |r: Range<usize>| s.get(r).ok_or_else(bad);
                let run = u64::from_str_radix(part(0..16)?, 16).map_err(|_| bad())?;
                let mut addr = [0u8; 16];
                for (i, slot) in addr.iter_mut().enumerate() {
                    let at = 16 + 2 * i;
                    *slot = u8::from_str_radix(part(at..at + 2)?, 16).map_err(|_| bad())?;
                }
                Ok(Cursor {
                    source: Some((run, addr)),
                    key: part(48..72)?.parse().map_err(|_| bad())?,
                })
            }
            _ => Err(bad()),
        }
    }
}

/// What to scan for. `Default` is every event, oldest first.
///
/// Every filter is applied before `limit`, which counts events returned: a query answers the
/// same events whatever its limit, only fewer of them, and the last one's cursor resumes.
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
    /// Only events whose raw line contains these bytes.
    pub text: Option<Vec<u8>>,
    /// Only events whose reporting host (`host.name`, the header's host name) is exactly this.
    pub host: Option<Vec<u8>>,
    /// Order of results. For one address: time. For a CIDR block: by index period (about a
    /// quarter million sourced events each), then address, then time.
    pub order: Order,
    /// At most this many results.
    pub limit: Option<usize>,
    /// Resume after this cursor.
    pub after: Option<Cursor>,
}

impl Query {
    /// True when `ev` passes every filter but the time range and the cursor (what a live
    /// tail checks).
    pub fn matches(&self, ev: &Event<'_>) -> bool {
        self.dataset.is_none_or(|d| d == ev.dataset)
            && self.action.is_none_or(|a| Some(a) == ev.details.action)
            && self
                .source
                .is_none_or(|c| ev.details.source.ip.is_some_and(|ip| c.contains(ip)))
            && self.matches_text(ev)
    }

    /// The `text` and `host` filters.
    fn matches_text(&self, ev: &Event<'_>) -> bool {
        self.host
            .as_deref()
            .is_none_or(|h| ev.header.hostname == Some(h))
            && self
                .text
                .as_deref()
                .is_none_or(|t| memchr::memmem::find(ev.original, t).is_some())
    }
}

/// One stored event: its key, where to resume after it, and its record (shared with the
/// block it came from, not copied).
#[derive(Clone, Debug)]
pub struct Stored {
    /// The event key.
    pub key: EventKey,
    /// Resume position after this event.
    pub cursor: Cursor,
    block: Arc<Vec<u8>>,
    range: Range<usize>,
}

impl Stored {
    /// The encoded record.
    pub fn record(&self) -> &[u8] {
        self.block.get(self.range.clone()).unwrap_or_default()
    }

    /// Decodes the event (borrowing from the record).
    pub fn event(&self) -> Result<Event<'_>, DecodeError> {
        record::decode(self.record())
    }
}

type KvIter = Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>> + Send>;

/// Where the scan walks.
enum Walk {
    /// Blocks of `events` in key order (or reversed); the current block and the ordinals
    /// still to visit in it.
    Time {
        blocks: KvIter,
        current: Option<(Arc<Vec<u8>>, Vec<usize>)>,
    },
    /// Index runs in scan order (the pending run as `None`, its entries taken at the start);
    /// the current run's chunks, the matching entries of the current chunk (reversed, so
    /// `pop` yields them in order), and the last block fetched.
    Source {
        runs: std::collections::VecDeque<(u64, Option<Vec<index::Entry>>)>,
        chunks: Option<(u64, KvIter)>,
        entries: Vec<index::Entry>,
        run: u64,
        cached: Option<(EventKey, Arc<Vec<u8>>)>,
    },
    /// Nothing can match.
    Empty,
}

/// A running scan; an iterator of stored events.
///
/// A scan holds no lock between calls to `next()` (it took its snapshot of the pending index
/// run when it started), so it can be stopped at any point by dropping it, and a scan that is
/// not advanced costs the writer nothing. After an I/O error closes the store, the next call
/// returns [`StoreError::NeedsRecovery`] and the scan ends, releasing its sled handle.
pub struct Scan<'s> {
    store: &'s Store,
    /// The sled handles, or why there are none.
    trees: Result<Arc<Trees>, Option<StoreError>>,
    /// The store's failure count when the scan started.
    failures: u64,
    walk: Walk,
    lo: EventKey,
    hi: EventKey,
    query: Query,
    remaining: usize,
    /// Set by the caller to end the scan at the next row it looks at.
    stop: Option<Arc<AtomicBool>>,
}

fn prev_key(k: EventKey) -> Option<EventKey> {
    if k.seq > 0 {
        Some(EventKey {
            seq: k.seq - 1,
            ..k
        })
    } else {
        k.time_ns.checked_sub(1).map(|t| EventKey {
            time_ns: t,
            seq: u32::MAX,
        })
    }
}

impl Store {
    /// Starts a scan.
    pub fn scan(&self, q: &Query) -> Scan<'_> {
        let lo = EventKey::at(q.since_ns.unwrap_or(0));
        let hi = match q.until_ns {
            Some(0) => None,
            Some(u) => Some(EventKey {
                time_ns: u - 1,
                seq: u32::MAX,
            }),
            None => Some(EventKey {
                time_ns: u64::MAX,
                seq: u32::MAX,
            }),
        };
        let failures = self.failures();
        let trees = self.open_trees();
        let mut scan = Scan {
            store: self,
            trees: match &trees {
                Ok(t) => Ok(t.clone()),
                Err(_) => Err(Some(StoreError::NeedsRecovery)),
            },
            failures,
            walk: Walk::Empty,
            lo,
            hi: hi.unwrap_or(lo),
            query: q.clone(),
            remaining: q.limit.unwrap_or(usize::MAX),
            stop: None,
        };
        let Some(mut hi) = hi else { return scan };
        let Ok(trees) = trees else { return scan };
        let mut lo = lo;
        // A time cursor narrows the range; a source cursor is applied per event.
        if let Some(c) = q.after.as_ref().filter(|c| c.source.is_none()) {
            match q.order {
                Order::OldestFirst => lo = lo.max(c.key.next()),
                Order::NewestFirst => match prev_key(c.key) {
                    Some(p) => hi = hi.min(p),
                    None => return scan,
                },
            }
        }
        if lo > hi {
            return scan;
        }
        scan.lo = lo;
        scan.hi = hi;
        scan.walk = match q.source {
            None => {
                let blocks: KvIter = match q.order {
                    Order::OldestFirst => {
                        // Start at the block holding `lo`, which may begin before it.
                        let start = match trees.events.range(..=lo.to_bytes()).next_back() {
                            Some(Ok((k, _))) => k.to_vec(),
                            _ => lo.to_bytes().to_vec(),
                        };
                        Box::new(trees.events.range(start..=hi.to_bytes().to_vec()))
                    }
                    Order::NewestFirst => Box::new(trees.events.range(..=hi.to_bytes()).rev()),
                };
                Walk::Time {
                    blocks,
                    current: None,
                }
            }
            Some(c) => {
                let (a, b) = c.range16();
                let cursor_run = q.after.as_ref().and_then(|c| c.source).map(|(r, _)| r);
                // A snapshot of the run list and the pending run's pieces, taken under the
                // small lock in well under a microsecond; filtered with no lock held.
                let (snapshot, runs, pending_id) = {
                    let s = self.lock_shared();
                    (s.pending.clone(), s.runs.clone(), s.next_run)
                };
                let mut runs: std::collections::VecDeque<(u64, Option<Vec<index::Entry>>)> =
                    runs.iter().map(|r| (r.id, None)).collect();
                let mut pending: Vec<index::Entry> = snapshot
                    .iter()
                    .filter(|e| a <= e.addr && e.addr <= b && lo <= e.event && e.event <= hi)
                    .copied()
                    .collect();
                drop(snapshot);
                index::sort(&mut pending);
                runs.push_back((pending_id, Some(pending)));
                runs.retain(|(id, _)| match (q.order, cursor_run) {
                    (_, None) => true,
                    (Order::OldestFirst, Some(r)) => *id >= r,
                    (Order::NewestFirst, Some(r)) => *id <= r,
                });
                if q.order == Order::NewestFirst {
                    runs = runs.into_iter().rev().collect();
                }
                Walk::Source {
                    runs,
                    chunks: None,
                    entries: Vec::new(),
                    run: 0,
                    cached: None,
                }
            }
        };
        scan
    }
}

fn decode_err(key: EventKey) -> impl Fn(DecodeError) -> StoreError {
    move |source| StoreError::Decode {
        key: key.to_string(),
        source,
    }
}

impl Scan<'_> {
    fn in_range(&self, key: EventKey) -> bool {
        self.lo <= key && key <= self.hi
    }

    /// A source-scan position is past the cursor in scan order.
    fn past_cursor(&self, run: u64, addr: &[u8; 16], key: EventKey) -> bool {
        let cur = self
            .query
            .after
            .as_ref()
            .and_then(|c| c.source.map(|(r, a)| (r, a, c.key)));
        match cur {
            None => true,
            Some(cur) => match self.query.order {
                Order::OldestFirst => (run, *addr, key) > cur,
                Order::NewestFirst => (run, *addr, key) < cur,
            },
        }
    }

    fn wanted(&self, key: EventKey, rec: &[u8]) -> Result<bool, StoreError> {
        let q = &self.query;
        if q.dataset.is_some() || q.action.is_some() {
            let s = record::summary(rec).map_err(decode_err(key))?;
            if !(q.dataset.is_none_or(|d| d == s.dataset)
                && q.action.is_none_or(|a| Some(a) == s.action))
            {
                return Ok(false);
            }
        }
        if q.text.is_none() && q.host.is_none() {
            return Ok(true);
        }
        let ev = record::decode(rec).map_err(decode_err(key))?;
        Ok(q.matches_text(&ev))
    }

    fn ordinals(n: usize, order: Order) -> Vec<usize> {
        // Stored reversed so that `pop` yields them in scan order.
        match order {
            Order::OldestFirst => (0..n).rev().collect(),
            Order::NewestFirst => (0..n).collect(),
        }
    }

    fn next_time(&mut self) -> Result<Option<Stored>, StoreError> {
        let order = self.query.order;
        loop {
            if self.stopped() {
                return Ok(None);
            }
            let Walk::Time { blocks, current } = &mut self.walk else {
                return Ok(None);
            };
            if current.as_ref().is_none_or(|(_, left)| left.is_empty()) {
                let Some(item) = blocks.next() else {
                    return Ok(None);
                };
                let (bk, stored) = item?;
                let key = EventKey::from_bytes(&bk).unwrap_or(EventKey::at(0));
                let block = Arc::new(block::unpack(&stored).map_err(decode_err(key))?);
                let view = BlockView::new(&block).map_err(decode_err(key))?;
                let n = view.len();
                *current = Some((block, Self::ordinals(n, order)));
                continue;
            }
            let Some((block, left)) = current.as_mut() else {
                continue;
            };
            let Some(i) = left.pop() else { continue };
            let block = block.clone();
            let view = BlockView::new(&block).map_err(decode_err(EventKey::at(0)))?;
            let (key, rec) = view.get(i).map_err(decode_err(EventKey::at(0)))?;
            if !self.in_range(key) {
                let beyond = match order {
                    Order::OldestFirst => key > self.hi,
                    Order::NewestFirst => key < self.lo,
                };
                if beyond {
                    self.walk = Walk::Empty;
                    return Ok(None);
                }
                continue;
            }
            if !self.wanted(key, rec)? {
                continue;
            }
            let range = view.record_range(i).map_err(decode_err(key))?;
            return Ok(Some(Stored {
                key,
                cursor: Cursor { source: None, key },
                block,
                range,
            }));
        }
    }

    fn next_source(&mut self) -> Result<Option<Stored>, StoreError> {
        let order = self.query.order;
        let (a, b) = self
            .query
            .source
            .map_or(([0; 16], [0xff; 16]), |c| c.range16());
        loop {
            if self.stopped() {
                return Ok(None);
            }
            let Walk::Source {
                runs,
                chunks,
                entries,
                run,
                ..
            } = &mut self.walk
            else {
                return Ok(None);
            };
            let run = *run;
            if let Some(e) = entries.pop() {
                if !self.in_range(e.event) || !self.past_cursor(run, &e.addr, e.event) {
                    continue;
                }
                let Some(block) = self.block(e.block)? else {
                    // Removed by retention between reading the index and the block.
                    continue;
                };
                let view = BlockView::new(&block).map_err(decode_err(e.block))?;
                let ordinal = usize::from(e.ordinal);
                let (key, rec) = view.get(ordinal).map_err(decode_err(e.event))?;
                if key != e.event || !self.wanted(key, rec)? {
                    continue;
                }
                let range = view.record_range(ordinal).map_err(decode_err(key))?;
                return Ok(Some(Stored {
                    key,
                    cursor: Cursor {
                        source: Some((run, e.addr)),
                        key,
                    },
                    block,
                    range,
                }));
            }
            if let Some((id, it)) = chunks {
                let id = *id;
                match it.next() {
                    Some(item) => {
                        let (k, v) = item?;
                        if index::run_of(&k) != Some(id) {
                            *chunks = None;
                            continue;
                        }
                        let mut got: Vec<index::Entry> = index::decode_chunk(&v)
                            .map_err(decode_err(EventKey::at(0)))?
                            .into_iter()
                            .filter(|e| a <= e.addr && e.addr <= b)
                            .collect();
                        // `pop` takes from the end: oldest-first wants the smallest last.
                        if order == Order::OldestFirst {
                            got.reverse();
                        }
                        *entries = got;
                    }
                    None => *chunks = None,
                }
                continue;
            }
            let Some((id, pending)) = runs.pop_front() else {
                return Ok(None);
            };
            if let Walk::Source { run, .. } = &mut self.walk {
                *run = id;
            }
            match pending {
                Some(mut p) => {
                    if order == Order::OldestFirst {
                        p.reverse();
                    }
                    if let Walk::Source { entries, .. } = &mut self.walk {
                        *entries = p;
                    }
                }
                None => {
                    let first = index::chunk_key(id, &a, EventKey::at(0));
                    let Ok(trees) = &self.trees else {
                        return Ok(None);
                    };
                    let start = match trees.by_source.range(..=first).next_back() {
                        Some(Ok((k, _))) if index::run_of(&k) == Some(id) => k.to_vec(),
                        _ => first.to_vec(),
                    };
                    let max = EventKey {
                        time_ns: u64::MAX,
                        seq: u32::MAX,
                    };
                    let end = index::chunk_key(id, &b, max).to_vec();
                    let range = trees.by_source.range(start..=end);
                    let it: KvIter = match order {
                        Order::OldestFirst => Box::new(range),
                        Order::NewestFirst => Box::new(range.rev()),
                    };
                    if let Walk::Source { chunks, .. } = &mut self.walk {
                        *chunks = Some((id, it));
                    }
                }
            }
        }
    }

    /// Fetches a block, reusing the last one fetched.
    fn block(&mut self, key: EventKey) -> Result<Option<Arc<Vec<u8>>>, StoreError> {
        if let Walk::Source {
            cached: Some((k, b)),
            ..
        } = &self.walk
            && *k == key
        {
            return Ok(Some(b.clone()));
        }
        let Ok(trees) = &self.trees else {
            return Ok(None);
        };
        let got = match trees.events.get(key.to_bytes())? {
            Some(stored) => Some(Arc::new(block::unpack(&stored).map_err(decode_err(key))?)),
            None => None,
        };
        if let (Walk::Source { cached, .. }, Some(b)) = (&mut self.walk, &got) {
            *cached = Some((key, b.clone()));
        }
        Ok(got)
    }

    /// Ends the scan: drops its iterators and its sled handle.
    fn end(&mut self) {
        self.walk = Walk::Empty;
        self.trees = Err(None);
    }

    /// True when the caller asked the scan to stop.
    fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }

    fn next_stored(&mut self) -> Result<Option<Stored>, StoreError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        if self.store.failures() != self.failures && self.trees.is_ok() {
            // The store was closed by an I/O error: let go of the old handle.
            self.end();
            return Err(StoreError::NeedsRecovery);
        }
        if let Err(e) = &mut self.trees
            && let Some(e) = e.take()
        {
            return Err(e);
        }
        let got = match self.walk {
            Walk::Time { .. } => self.next_time(),
            Walk::Source { .. } => self.next_source(),
            Walk::Empty => Ok(None),
        };
        let got = match got {
            Ok(got) => got,
            Err(e) => {
                self.end();
                return Err(self.store.noted(e));
            }
        };
        if got.is_some() {
            self.remaining -= 1;
        }
        Ok(got)
    }
}

impl Scan<'_> {
    /// Ends the scan at the next row it looks at once `flag` is set, even while no row
    /// matches (a filter that matches nothing would otherwise walk the whole store before
    /// `next` returns): how a server stops the scan of a client that has gone.
    pub fn stop_on(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }
}

impl Iterator for Scan<'_> {
    type Item = Result<Stored, StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_stored().transpose()
    }
}

const _: () = assert!(EVENT_KEY_LEN == 12);
