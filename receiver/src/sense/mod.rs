//! The sensor around the pure incident book: the I/O the book must not do. It restores a
//! source's stored candidate before the book sees the source again, folds each batch of
//! parsed events with their store keys, and turns what changed into [`IncidentWrites`] that
//! the writer stores in the same sled transaction as the batch, so that after a crash the
//! candidates agree with the stored events. Marks and block expiry go through it too, so the
//! book has one owner: the writer thread.

pub mod change;
pub mod config;
pub mod offline;
pub mod resolve;

use std::collections::HashSet;

use picket_parsers::Event;
use picket_sensor::{
    Change, EventRef, IncidentBook, SensorConfig, SourceKey, State, decode_candidate,
    encode_candidate,
};
use picket_store::{EventKey, IncidentWrites, Store};

use change::ChangeRecord;

/// Sources known to have no stored candidate, so that each new source costs one lookup;
/// forgotten wholesale beyond this many.
const ABSENT_KEPT: usize = 200_000;

/// The book and what it needs to talk to the store.
pub struct Sensor {
    book: IncidentBook,
    changes: Vec<Change>,
    /// Hashes of the sources known to have no stored candidate (a key is up to 256 bytes,
    /// its hash 8).
    absent: HashSet<u64>,
    unsettled: bool,
    /// Where names to resolve go (when `[sensor] resolve` is on).
    resolver: Option<tokio::sync::mpsc::Sender<(SourceKey, Vec<u8>)>>,
}

/// A hash of a source key, for the set of sources without a stored candidate.
fn key_hash(key: &SourceKey) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// The store key of a source's candidate.
pub fn store_key(key: &SourceKey) -> Vec<u8> {
    key.to_string().into_bytes()
}

impl Sensor {
    /// A sensor with an empty book (stored candidates come back as their sources show up).
    pub fn new(cfg: SensorConfig) -> Sensor {
        Sensor {
            book: IncidentBook::new(cfg),
            changes: Vec::new(),
            absent: HashSet::new(),
            unsettled: false,
            resolver: None,
        }
    }

    /// Sends the names the book wants resolved to `resolver` from now on.
    pub fn with_resolver(
        mut self,
        resolver: tokio::sync::mpsc::Sender<(SourceKey, Vec<u8>)>,
    ) -> Sensor {
        self.resolver = Some(resolver);
        self
    }

    /// The resolver's answer for a name: the name's candidate merges into the address's
    /// (restored from the store first), and the name's stored record is removed.
    pub fn resolved(
        &mut self,
        store: &Store,
        source: SourceKey,
        addr: Option<std::net::IpAddr>,
        writes: &mut IncidentWrites,
    ) {
        self.restore(store, source);
        if let Some(a) = addr {
            let cfg = self.book.config();
            let prefix = if a.is_ipv4() {
                cfg.group_v4
            } else {
                cfg.group_v6
            };
            self.restore(store, SourceKey::new(a, prefix));
        }
        self.book.resolved(source, addr, &mut self.changes);
        self.collect(writes);
    }

    /// Brings a source's stored candidate back into the book, once.
    fn restore(&mut self, store: &Store, key: SourceKey) {
        if self.book.get(&key).is_some() || self.absent.contains(&key_hash(&key)) {
            return;
        }
        match store.incident(&store_key(&key)) {
            Ok(Some(bytes)) => match decode_candidate(&bytes) {
                Ok(c) => self.book.restore(c, &mut self.changes),
                Err(e) => {
                    tracing::warn!(source = %key, "stored candidate unreadable, starting anew: {e}")
                }
            },
            Ok(None) => {
                if self.absent.len() >= ABSENT_KEPT {
                    self.absent.clear();
                }
                self.absent.insert(key_hash(&key));
            }
            // The write of this batch will fail the same way and be retried; a candidate
            // missed here is merged when the source is next seen after a restart.
            Err(e) => tracing::debug!(source = %key, "cannot read the stored candidate: {e}"),
        }
    }

    /// Folds a batch (`keys` are the store keys the batch will get) and puts what changed
    /// into `writes`.
    pub fn fold_batch(
        &mut self,
        store: &Store,
        events: &[(Event<'_>, u64)],
        keys: &[EventKey],
        writes: &mut IncidentWrites,
    ) {
        for ((event, received), key) in events.iter().zip(keys) {
            if let Ok(source) = self.book.key_for(event) {
                self.restore(store, source);
            }
            let received = i64::try_from(*received).unwrap_or(i64::MAX);
            self.book
                .fold(event, received, EventRef(key.to_bytes()), &mut self.changes);
        }
        self.unsettled |= !events.is_empty();
        self.collect(writes);
    }

    /// Decides everything folded so far (when ingest has gone quiet, and at shutdown).
    pub fn settle(&mut self, writes: &mut IncidentWrites) {
        if self.unsettled {
            self.book.settle(&mut self.changes);
            self.unsettled = false;
            self.collect(writes);
        }
    }

    /// Ends the blocks that expired by `now` (wall clock, Unix ns).
    pub fn expire(&mut self, now: i64, writes: &mut IncidentWrites) {
        self.book.expire(now, &mut self.changes);
        self.collect(writes);
    }

    /// Sets a candidate's state by hand; false when the source has no candidate.
    pub fn mark(
        &mut self,
        store: &Store,
        req: &MarkRequest,
        at: i64,
        writes: &mut IncidentWrites,
    ) -> bool {
        let key = req.source;
        self.restore(store, key);
        self.book.settle(&mut self.changes);
        let known = self.book.get(&key).is_some_and(|c| c.is_published());
        if !known {
            self.collect(writes);
            return false;
        }
        let ok = self
            .book
            .mark(&key, req.state, &req.note, &req.who, at, &mut self.changes)
            .is_ok();
        self.collect(writes);
        ok
    }

    /// Targets hit by many distinct sources (a distributed scan, a flood), in the window
    /// ending at the book's latest event time.
    pub fn targets(&self, min_sources: u64) -> Vec<picket_sensor::TargetHit> {
        let now = self.book.clock().unwrap_or(0);
        self.book.targets().busiest(now, min_sources)
    }

    /// Moves what changed into `writes`: every touched published candidate, every evicted
    /// one, and a record of every published change.
    fn collect(&mut self, writes: &mut IncidentWrites) {
        for change in self.changes.drain(..) {
            match &change {
                Change::Removed { key } => {
                    writes.remove.push(store_key(key));
                }
                Change::Evicted(c) => {
                    if c.is_published() {
                        let mut v = Vec::new();
                        encode_candidate(c, &mut v);
                        writes.put.push((store_key(&c.key()), v));
                        self.absent.remove(&key_hash(&c.key()));
                    }
                }
                other => {
                    if let Some(r) = ChangeRecord::of(other) {
                        writes.changes.push(r.encode());
                    }
                }
            }
        }
        if let Some(r) = &self.resolver {
            for (key, name) in self.book.names_to_resolve() {
                // A full queue drops the name; the book asks for it again later.
                let _ = r.try_send((key, name));
            }
        }
        for key in self.book.take_touched() {
            if let Some(c) = self.book.get(&key).filter(|c| c.is_published()) {
                let mut v = Vec::new();
                encode_candidate(c, &mut v);
                writes.put.push((store_key(&key), v));
                self.absent.remove(&key_hash(&key));
            }
        }
    }
}

/// A published change as `watch` subscribers get it: its number and its stored record.
pub type WatchItem = (u64, std::sync::Arc<Vec<u8>>);

/// What the query socket asks of the book, which only the writer thread touches.
pub enum SensorRequest {
    /// Set a candidate's state.
    Mark(MarkRequest),
    /// The resolver's answer for a source known by name (None: it does not resolve).
    Resolved {
        /// The name's key.
        source: SourceKey,
        /// Its address.
        addr: Option<std::net::IpAddr>,
    },
    /// The targets hit by at least `min_sources` distinct sources in the target window.
    Targets {
        /// The least number of distinct sources.
        min_sources: u64,
        /// The answer, most sources first.
        reply: tokio::sync::oneshot::Sender<Vec<picket_sensor::TargetHit>>,
    },
}

/// A `mark` from the query socket, for the writer (the book's one owner).
pub struct MarkRequest {
    /// The candidate's source.
    pub source: SourceKey,
    /// The state to set.
    pub state: State,
    /// Why (free text, kept in the history).
    pub note: String,
    /// Who (the OS user of the client).
    pub who: String,
    /// The answer.
    pub reply: tokio::sync::oneshot::Sender<Result<(), MarkError>>,
}

/// Why a mark was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkError {
    /// The source has no candidate.
    NoCandidate,
    /// The store refused the write (it is retried with the next batch).
    Store,
}

impl std::fmt::Display for MarkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MarkError::NoCandidate => f.write_str("no candidate for that source"),
            MarkError::Store => f.write_str(
                "the store cannot be written now; the mark is kept and stored with the next batch",
            ),
        }
    }
}
