//! The sensor around the pure incident book: the I/O the book must not do. It restores a
//! source's stored candidate before the book sees the source again, folds each batch of
//! parsed events with their store keys, and turns what changed into [`IncidentWrites`] that
//! the writer stores in the same sled transaction as the batch, so that after a crash the
//! candidates agree with the stored events. Marks and block expiry go through it too, so the
//! book has one owner: the writer thread.

pub mod change;
pub mod cold;
pub mod config;
pub mod offline;
pub mod resolve;
pub mod unstored;

use std::collections::HashSet;

use picket_parsers::Event;
use picket_sensor::{
    Change, EventRef, IncidentBook, SensorConfig, SourceKey, State, decode_candidate,
    encode_candidate,
};
use picket_store::{EventKey, IncidentWrites, Store};

use change::ChangeRecord;
use cold::ColdCandidates;
use unstored::UnstoredIndex;

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
    /// The key of the last event folded: what a flush says every candidate has seen.
    last_folded: Option<EventKey>,
    /// While replaying after a restart: how far each restored candidate had already seen
    /// (by source hash), so that no event is counted twice.
    replay: Option<std::collections::HashMap<u64, EventKey>>,
    /// Evicted candidates in their stored form, before (and after) they reach the store.
    cold: ColdCandidates,
    /// Candidates the cold cache pushed out, to be written now.
    spilled: Vec<(SourceKey, Vec<u8>)>,
    /// The periodic flush in progress, written a slice per batch.
    round: Option<FlushRound>,
    /// Whether actions (marks, blocks, expiry) go to the logbook: off for a rebuild, which
    /// recomputes candidates and takes no action.
    logbook: bool,
    /// Who is acting while a mark is applied (else the sensor itself: [`SENSOR_WHO`]).
    acting: Option<String>,
    /// The candidates the writes being filled put or remove that are no longer in the book
    /// or the cold cache: a source seen again before they are stored comes back from them.
    unwritten: UnstoredIndex,
    /// The same for the batch the store thread is writing: its writes and their index.
    in_flight: Option<(std::sync::Arc<IncidentWrites>, UnstoredIndex)>,
    /// Events not folded because the store could not be read when their candidate was to
    /// be brought back.
    unfolded: u64,
}

/// The `who` of the logbook entries the sensor writes by itself (a block that ran out).
pub const SENSOR_WHO: &str = "picket";

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
        let cold = ColdCandidates::new(cfg.evicted_cache_bytes);
        Sensor {
            cold,
            spilled: Vec::new(),
            round: None,
            book: IncidentBook::new(cfg),
            changes: Vec::new(),
            absent: HashSet::new(),
            unsettled: false,
            resolver: None,
            last_folded: None,
            replay: None,
            logbook: true,
            acting: None,
            unwritten: UnstoredIndex::default(),
            in_flight: None,
            unfolded: 0,
        }
    }

    /// A sensor that writes nothing to the logbook (a rebuild: no action is taken).
    pub fn without_logbook(mut self) -> Sensor {
        self.logbook = false;
        self
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
        self.restore(store, source, writes);
        if let Some(a) = addr {
            let cfg = self.book.config();
            let prefix = if a.is_ipv4() {
                cfg.group_v4
            } else {
                cfg.group_v6
            };
            self.restore(store, SourceKey::new(a, prefix), writes);
        }
        self.book.resolved(source, addr, &mut self.changes);
        self.collect(writes);
    }

    /// Brings a source's stored candidate back into the book, once: from the cold cache,
    /// else from the store. False when the store could not be read (it is failing): the
    /// caller must not fold into a fresh candidate, whose later write would replace the
    /// stored one's history.
    fn restore(&mut self, store: &Store, key: SourceKey, writes: &IncidentWrites) -> bool {
        if self.book.get(&key).is_some() {
            return true;
        }
        let found = match self.cold.take(&key) {
            // Back in the book, it is touched: the next flush writes it if the store lacks it.
            Some((bytes, _dirty)) => Ok(Some(bytes)),
            None if self.absent.contains(&key_hash(&key)) => return true,
            None => {
                let skey = store_key(&key);
                let unstored = self.unwritten.get(&skey, writes).or_else(|| {
                    let (w, index) = self.in_flight.as_ref()?;
                    index.get(&skey, w)
                });
                match unstored {
                    Some(found) => Ok(found.map(<[u8]>::to_vec)),
                    None => store.incident(&skey).map(|b| b.map(|b| b.to_vec())),
                }
            }
        };
        match found {
            Ok(Some(bytes)) => match decode_stored(&bytes) {
                Ok((through, c)) => {
                    if let (Some(map), Some(t)) = (self.replay.as_mut(), through) {
                        map.insert(key_hash(&key), t);
                    }
                    self.book.restore(c, &mut self.changes);
                }
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
            // The store is failing (the batch before this one on the store thread met the
            // error, and it is being retried): this event is stored with its batch but not
            // folded, so the stored candidate keeps its history (a rebuild counts the event).
            Err(e) => {
                tracing::debug!(source = %key, "cannot read the stored candidate: {e}");
                return false;
            }
        }
        true
    }

    /// Folds a batch (`keys` are the store keys the batch will get) and puts what must go
    /// with it into `writes`: change records, evicted candidates, deletions. The touched
    /// candidates wait for [`Sensor::flush`], which the writer calls every few seconds: writing
    /// every touched candidate with every batch cost 60 times the ingest itself on a
    /// scan-heavy load (bench/README.md), and after a crash [`Sensor::replay`] folds the
    /// events stored since the last flush again.
    pub fn fold_batch(
        &mut self,
        store: &Store,
        events: &[(Event<'_>, u64)],
        keys: &[EventKey],
        writes: &mut IncidentWrites,
    ) {
        for ((event, received), key) in events.iter().zip(keys) {
            self.fold_one(store, event, *received, *key, writes);
        }
        self.end_batch();
    }

    /// Folds one event of a batch (`key` is the store key it will get: see
    /// [`Store::key_cursor`]), as [`Sensor::fold_batch`] does; [`Sensor::end_batch`] after the
    /// batch's last. The writer folds each event as it parses it, so that no batch-long list
    /// of parsed events is built.
    pub fn fold_one(
        &mut self,
        store: &Store,
        event: &Event<'_>,
        received: u64,
        key: EventKey,
        writes: &mut IncidentWrites,
    ) {
        let source = self.book.key_for(event);
        if let Ok(source) = source {
            if !self.restore(store, source, writes) {
                self.unfolded += 1;
                return;
            }
            if let Some(t) = self.replay.as_ref().and_then(|m| m.get(&key_hash(&source)))
                && key <= *t
            {
                return; // already in the stored candidate
            }
        }
        let received = i64::try_from(received).unwrap_or(i64::MAX);
        let before = self.last_folded;
        self.book.fold_keyed(
            source,
            event,
            received,
            EventRef(key.to_bytes()),
            &mut self.changes,
        );
        self.last_folded = Some(key);
        self.unsettled = true;
        if !self.changes.is_empty() {
            // An eviction inside `fold` happens before the event is counted.
            self.collect_changes(writes, before);
        }
    }

    /// The writes of the batch now handed to the store thread (the ones this sensor filled):
    /// until [`Sensor::stored_in_flight`], a candidate brought back reads them before the
    /// store. Their index goes with them.
    pub fn set_in_flight(&mut self, writes: std::sync::Arc<IncidentWrites>) {
        self.in_flight = Some((writes, std::mem::take(&mut self.unwritten)));
    }

    /// The batch in flight is stored (or failed for good): the store has the truth again.
    pub fn stored_in_flight(&mut self) {
        self.in_flight = None;
    }

    /// The writes this sensor filled were stored by the caller itself (an import's chunk, a
    /// rebuild's or a replay's): the store has what they put.
    pub fn writes_stored(&mut self) {
        self.unwritten.clear();
    }

    /// After a batch's events: asks for the names to resolve.
    pub fn end_batch(&mut self) {
        if self.unfolded > 0 {
            tracing::warn!(
                events = self.unfolded,
                "events stored but not folded into candidates while the store was failing; \
                 `picket incidents --rebuild` counts them"
            );
            self.unfolded = 0;
        }
        self.ask_names();
    }

    /// Writes every candidate that changed since the last flush, and the checkpoint: the
    /// key of the last event they have all seen.
    pub fn flush(&mut self, writes: &mut IncidentWrites) {
        let through = self.last_folded;
        self.collect_changes(writes, through);
        let mut keys = self.round.take().map(|r| r.keys).unwrap_or_default();
        keys.extend(self.book.take_touched());
        self.cold.dirty_keys_into(&mut keys);
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            self.write_current(key, through, writes);
        }
        self.write_spilled(writes);
        if let Some(t) = through {
            writes.checkpoint = Some(t.to_bytes().to_vec());
        }
    }

    /// Starts a flush written a slice at a time ([`Sensor::flush_step`]): the candidates
    /// changed so far, and the checkpoint that holds once they are all written. One sled
    /// transaction of every candidate took seconds with tens of thousands of them (the
    /// writer stalled, queries waited: bench/README.md). Nothing if one is in progress.
    pub fn begin_flush(&mut self) {
        if self.round.is_some() {
            return;
        }
        let mut keys = self.book.take_touched();
        self.cold.dirty_keys_into(&mut keys);
        keys.sort_unstable();
        keys.dedup();
        keys.reverse();
        self.round = Some(FlushRound {
            keys,
            through: self.last_folded,
        });
    }

    /// Writes up to `max` candidates of the flush in progress, each as it is now, and the
    /// round's checkpoint with the last. True when no flush is in progress any more.
    ///
    /// Why the checkpoint holds: every candidate changed before the round began is written
    /// by its end (as it is then, with the key of the last event folded so far), and one
    /// changed after it carries its own key, so a replay from the checkpoint counts no
    /// event twice and misses none.
    pub fn flush_step(&mut self, writes: &mut IncidentWrites, max: usize) -> bool {
        let Some(mut round) = self.round.take() else {
            return true;
        };
        let now = self.last_folded;
        for _ in 0..max {
            let Some(key) = round.keys.pop() else {
                break;
            };
            self.write_current(key, now, writes);
        }
        self.write_spilled(writes);
        if round.keys.is_empty() {
            if let Some(t) = round.through {
                writes.checkpoint = Some(t.to_bytes().to_vec());
            }
            return true;
        }
        self.round = Some(round);
        false
    }

    /// Writes a source's candidate as it is now: from the book, or the cold cache's bytes
    /// if the store lacks them.
    fn write_current(
        &mut self,
        key: SourceKey,
        through: Option<EventKey>,
        writes: &mut IncidentWrites,
    ) {
        if let Some(c) = self.book.get(&key) {
            if c.is_published() {
                let mut v = Vec::with_capacity(2048);
                encode_stored(c, through, &mut v);
                writes.put.push((store_key(&key), v));
                self.absent.remove(&key_hash(&key));
            }
        } else if let Some(bytes) = self.cold.take_dirty(&key) {
            writes.put.push((store_key(&key), bytes));
        }
    }

    /// After a restart: folds the events stored after the last flush's checkpoint (a crash
    /// lost what the book had of them), without logging their changes again (the change
    /// log got them with their batch), then flushes. Returns how many events it folded.
    pub fn replay(
        &mut self,
        store: &Store,
        writes: &mut IncidentWrites,
    ) -> Result<u64, picket_store::StoreError> {
        let Some(through) = store
            .incidents_checkpoint()?
            .and_then(|b| EventKey::from_bytes(&b))
        else {
            // The first start with the sensor: what is stored already came before it (a
            // rebuild folds that); from the last stored event on, a crash is caught up.
            let newest = picket_store::Query {
                order: picket_store::Order::NewestFirst,
                limit: Some(1),
                ..picket_store::Query::default()
            };
            let last = match store.scan(&newest).next() {
                Some(s) => s?.key,
                None => EventKey::at(0),
            };
            writes.checkpoint = Some(last.to_bytes().to_vec());
            self.last_folded = self.last_folded.or(Some(last));
            return Ok(0);
        };
        self.replay = Some(std::collections::HashMap::new());
        let q = picket_store::Query {
            since_ns: Some(through.time_ns),
            ..picket_store::Query::default()
        };
        // Each chunk's writes (candidates evicted on the way) are stored before the next
        // chunk brings them back: kept unstored, they would be read from the store as they
        // were before the crash.
        let folded = self.fold_stored(store, &q, Some(through), writes, |w| {
            if !w.is_empty() {
                store.write_incidents(w)?;
                w.clear();
            }
            Ok(())
        })?;
        // What a replay found is already in the change log.
        writes.changes.clear();
        self.replay = None;
        // Decide the last second's candidates before the checkpoint moves past their events:
        // a candidate still unpublished is not stored, so its events would be lost at the
        // next crash. What this settle decides may have been logged before the crash (a
        // subscriber then sees it twice) or not (it must see it): it is logged.
        self.book.settle(&mut self.changes);
        self.unsettled = false;
        self.flush(writes);
        Ok(folded)
    }

    /// Folds the stored events `q` finds (those after `after`, if given), oldest first, in
    /// chunks; `per_chunk` stores the writes after each (as a rebuild and a replay do).
    /// Returns how many events it folded.
    pub fn fold_stored(
        &mut self,
        store: &Store,
        q: &picket_store::Query,
        after: Option<EventKey>,
        writes: &mut IncidentWrites,
        mut per_chunk: impl FnMut(&mut IncidentWrites) -> Result<(), picket_store::StoreError>,
    ) -> Result<u64, picket_store::StoreError> {
        let mut folded = 0u64;
        let mut chunk = Vec::with_capacity(4096);
        let mut scan = store.scan(q);
        loop {
            chunk.clear();
            for item in scan.by_ref() {
                let s = item?;
                if after.is_none_or(|a| s.key > a) {
                    chunk.push(s);
                }
                if chunk.len() >= 4096 {
                    break;
                }
            }
            if chunk.is_empty() {
                break;
            }
            let mut parsed = Vec::with_capacity(chunk.len());
            let mut keys = Vec::with_capacity(chunk.len());
            for s in &chunk {
                if let Ok(ev) = s.event() {
                    let received = ev
                        .received
                        .and_then(|t| u64::try_from(t.as_nanos()).ok())
                        .unwrap_or(s.key.time_ns);
                    parsed.push((ev, received));
                    keys.push(s.key);
                }
            }
            folded += parsed.len() as u64;
            self.fold_batch(store, &parsed, &keys, writes);
            drop(parsed);
            per_chunk(writes)?;
            self.writes_stored();
        }
        Ok(folded)
    }

    /// Decides everything folded so far (when ingest has gone quiet, and at shutdown).
    pub fn settle(&mut self, writes: &mut IncidentWrites) {
        if self.unsettled {
            self.book.settle(&mut self.changes);
            self.unsettled = false;
            self.collect(writes);
        }
    }

    /// [`Sensor::settle`] without the flush: the caller writes it in slices
    /// ([`Sensor::begin_flush`], [`Sensor::flush_step`]).
    pub fn settle_only(&mut self, writes: &mut IncidentWrites) {
        if self.unsettled {
            self.book.settle(&mut self.changes);
            self.unsettled = false;
            let through = self.last_folded;
            self.collect_changes(writes, through);
            self.ask_names();
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
        self.restore(store, key, writes);
        self.book.settle(&mut self.changes);
        let known = self.book.get(&key).is_some_and(|c| c.is_published());
        if !known {
            self.collect(writes);
            return false;
        }
        let from = self.book.get(&key).map(|c| c.state());
        let ok = self
            .book
            .mark(&key, req.state, &req.note, &req.who, at, &mut self.changes)
            .is_ok();
        if ok && self.logbook {
            let mut detail = match from {
                Some(f) => format!("state {f} -> {}", req.state),
                None => format!("state {}", req.state),
            };
            if !req.note.is_empty() {
                detail.push_str("; note: ");
                detail.push_str(&req.note);
            }
            writes.logbook.push(picket_store::LogbookAction {
                at_ns: u64::try_from(at).unwrap_or(0),
                who: req.who.clone(),
                incident: key.to_string(),
                kind: picket_store::logbook_kind::MARK.into(),
                detail,
            });
        }
        // The block a mark starts or lifts is the marker's action.
        self.acting = Some(req.who.clone());
        self.collect(writes);
        self.acting = None;
        ok
    }

    /// Targets hit by many distinct sources (a distributed scan, a flood), in the window
    /// ending at the book's latest event time.
    pub fn targets(&self, min_sources: u64) -> Vec<picket_sensor::TargetHit> {
        let now = self.book.clock().unwrap_or(0);
        self.book.targets().busiest(now, min_sources)
    }

    /// Moves the book's changes into `writes`: evicted candidates (they have seen events
    /// through `through`), deletions, and a record of every published change (none while
    /// replaying).
    fn collect_changes(&mut self, writes: &mut IncidentWrites, through: Option<EventKey>) {
        let changes = std::mem::take(&mut self.changes);
        let evicted = |i: usize| match changes.get(i) {
            Some(Change::Evicted(c)) => Some(c),
            _ => None,
        };
        for (i, change) in changes.iter().enumerate() {
            // An eviction run encodes the least recently active candidates: none is in the
            // cache (picket-sensor's prefetch.rs).
            if let Some(c) = evicted(i + 4) {
                c.prefetch_box();
            }
            if let Some(c) = evicted(i + 2) {
                c.prefetch_pieces();
            }
            match change {
                Change::Removed { key } => {
                    self.cold.forget(key);
                    let skey = store_key(key);
                    self.unwritten.remove(&skey);
                    writes.remove.push(skey);
                }
                Change::Evicted(c) => {
                    if c.is_published() {
                        let mut v = Vec::with_capacity(2048);
                        encode_stored(c, through, &mut v);
                        v.shrink_to_fit();
                        self.cold.put(c.key(), v, true, &mut self.spilled);
                        self.absent.remove(&key_hash(&c.key()));
                    }
                }
                other => {
                    if self.replay.is_none()
                        && let Some(r) = ChangeRecord::of(other)
                    {
                        writes.changes.push(r.encode());
                    }
                    if self.replay.is_none() && self.logbook {
                        log_action(self.acting.as_deref(), other, writes);
                    }
                }
            }
        }
        // The list's buffer is kept for the next batch's changes.
        let mut changes = changes;
        changes.clear();
        if self.changes.is_empty() {
            self.changes = changes;
        }
        self.write_spilled(writes);
    }

    /// Writes what the cold cache pushed out (or a flush found dirty) with the batch.
    fn write_spilled(&mut self, writes: &mut IncidentWrites) {
        for (key, bytes) in self.spilled.drain(..) {
            let skey = store_key(&key);
            self.unwritten.put(&skey, writes.put.len(), writes);
            writes.put.push((skey, bytes));
        }
    }

    /// Sends the names the book wants resolved to the resolver.
    fn ask_names(&mut self) {
        if let Some(r) = &self.resolver {
            for (key, name) in self.book.names_to_resolve() {
                // A full queue drops the name; the book asks for it again later.
                let _ = r.try_send((key, name));
            }
        }
    }

    /// Everything: changes, names to resolve, and a flush (for the rare paths: settle,
    /// expiry, marks, resolved names).
    fn collect(&mut self, writes: &mut IncidentWrites) {
        self.ask_names();
        self.flush(writes);
    }
}

/// The logbook entry of a change that is an action, by `acting` (else the sensor): a block
/// started, ran out or was lifted. State changes by hand are logged by [`Sensor::mark`],
/// with the note.
fn log_action(acting: Option<&str>, change: &Change, writes: &mut IncidentWrites) {
    let who = acting.unwrap_or(SENSOR_WHO);
    let (kind, at, detail) = match change {
        Change::BlockAdded { since, until, .. } => (
            picket_store::logbook_kind::BLOCK,
            *since,
            format!(
                "blocked until {}",
                crate::clock::rfc3339(u64::try_from(*until).unwrap_or(0))
            ),
        ),
        Change::BlockEnded { at, expired, .. } => {
            if *expired {
                (
                    picket_store::logbook_kind::EXPIRY,
                    *at,
                    "block ran out".to_string(),
                )
            } else {
                (
                    picket_store::logbook_kind::UNBLOCK,
                    *at,
                    "block lifted by hand".to_string(),
                )
            }
        }
        _ => return,
    };
    writes.logbook.push(picket_store::LogbookAction {
        at_ns: u64::try_from(at).unwrap_or(0),
        who: who.to_string(),
        incident: change.key().to_string(),
        kind: kind.into(),
        detail,
    });
}

/// A flush in progress: the sources still to write (last first) and the key of the last event
/// folded when it began.
struct FlushRound {
    keys: Vec<SourceKey>,
    through: Option<EventKey>,
}

/// The marker of a stored candidate's envelope (the codec's own bytes start with `P`).
const STORED: u8 = 0xE1;

/// A candidate as the store keeps it: the key of the last event it has seen (what a replay
/// after a crash must not count again), then the codec's bytes.
pub fn encode_stored(c: &picket_sensor::Candidate, through: Option<EventKey>, out: &mut Vec<u8>) {
    out.push(STORED);
    out.extend_from_slice(&through.map_or([0; 12], EventKey::to_bytes));
    encode_candidate(c, out);
}

/// Reads a stored candidate (with or without the envelope of [`encode_stored`]).
pub fn decode_stored(
    b: &[u8],
) -> Result<(Option<EventKey>, picket_sensor::Candidate), picket_sensor::DecodeError> {
    match b.split_first() {
        Some((&STORED, rest)) => {
            let (k, c) = rest
                .split_at_checked(12)
                .ok_or(picket_sensor::DecodeError::Truncated)?;
            let through = EventKey::from_bytes(k).filter(|k| *k != EventKey::at(0));
            Ok((through, decode_candidate(c)?))
        }
        _ => Ok((None, decode_candidate(b)?)),
    }
}

/// The summary of a stored candidate (what the list ops filter and sort on), without decoding
/// the rest of it.
pub fn summary_stored(
    b: &[u8],
) -> Result<picket_sensor::CandidateSummary, picket_sensor::DecodeError> {
    match b.split_first() {
        Some((&STORED, rest)) => rest
            .get(12..)
            .ok_or(picket_sensor::DecodeError::Truncated)
            .and_then(picket_sensor::decode_summary),
        _ => picket_sensor::decode_summary(b),
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
    /// Record a notice or file a reply (the `notices` tree is written by the writer only).
    Notice {
        /// What to write.
        write: NoticeWrite,
        /// The OS user of the client.
        who: String,
        /// The reply line's object, or the error.
        reply: tokio::sync::oneshot::Sender<
            Result<serde_json::Value, crate::query::protocol::ReplyError>,
        >,
    },
}

/// A write to the `notices` tree.
pub enum NoticeWrite {
    /// A notice's intent or outcome.
    Notice(crate::reports::NoticeRecord),
    /// A reply under a notice.
    Followup(crate::reports::FollowupRecord),
}

impl NoticeWrite {
    /// Applies it to `store` (the writer while serve runs; a client with `--data` otherwise).
    pub fn apply(
        self,
        store: &picket_store::Store,
        who: &str,
    ) -> Result<serde_json::Value, crate::query::protocol::ReplyError> {
        match self {
            NoticeWrite::Notice(r) => crate::reports::apply_notice(store, r, who),
            NoticeWrite::Followup(r) => crate::reports::apply_followup(store, r, who),
        }
    }
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
