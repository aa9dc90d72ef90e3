//! picket-store: the event log on sled.
//!
//! Trees: `events` (block key → a block of up to 64 records, see [`block`]), `by_source`
//! (sorted runs of (address, event, block, ordinal) entries, see `index`), `chain` (batch
//! number → [`ChainEntry`]), `meta` (format, counters, index runs, retention anchor) and
//! `incidents` (kept for the sensor). A batch of events is written to every tree in one sled
//! transaction, so a crash leaves either all of a batch or none of it. sled's cost is per
//! key: blocks and index runs keep the number of keys ~50 times below the number of events.
//!
//! sled stays behind this API: callers see [`Store`], [`Batch`], [`Query`] and plain types.

mod batch;
pub mod block;
pub mod chain;
mod error;
mod index;
pub mod key;
mod query;
pub mod record;
mod retention;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use picket_parsers::Dataset;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

pub use batch::Batch;
pub use chain::{ChainEntry, Hash};
pub use error::{DecodeError, StoreError};
pub use key::{Cidr, EventKey};
pub use query::{Cursor, Order, Query, Scan, Stored};
pub use retention::{Retention, RetentionReport};
pub use verify::{Problem, VerifyReport};

/// The on-disk layout version this build writes (in `meta`).
const STORE_FORMAT: u8 = 1;

/// Store settings.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// sled page cache size in bytes.
    pub cache_bytes: u64,
    /// How often sled flushes on its own, in milliseconds (`None`: only on [`Store::flush`]).
    pub flush_every_ms: Option<u64>,
    /// Index entries gathered in memory before they are written as one sorted run.
    pub index_run_entries: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            cache_bytes: 64 << 20,
            flush_every_ms: Some(1000),
            index_run_entries: 256 * 1024,
        }
    }
}

/// What the single writer must remember between batches.
#[derive(Debug)]
struct WriterState {
    last_key: Option<EventKey>,
    next_batch: u64,
    prev_hash: Hash,
    counts: [u64; Dataset::ALL.len()],
    live_bytes: u64,
    /// Index entries not yet written as a run.
    pending: Vec<index::Entry>,
    /// Written index runs, oldest first.
    runs: Vec<index::Run>,
    /// The id the pending run will get.
    next_run: u64,
    /// Pending entries that trigger a run.
    run_entries: usize,
}

/// Where a committed batch landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The batch's number in the chain.
    pub batch: u64,
    /// Its first event key.
    pub first: EventKey,
    /// Its last event key.
    pub last: EventKey,
    /// Events stored.
    pub count: u32,
}

/// Events per dataset and in all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Events stored, by dataset.
    pub by_dataset: Vec<(Dataset, u64)>,
    /// All events stored.
    pub total: u64,
}

/// The event store in one data directory.
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    events: sled::Tree,
    by_source: sled::Tree,
    chain: sled::Tree,
    meta: sled::Tree,
    writer: Mutex<WriterState>,
}

mod meta_key {
    pub const FORMAT: &[u8] = b"format";
    pub const COUNTS: &[u8] = b"counts";
    pub const ANCHOR: &[u8] = b"anchor";
    pub const LIVE_BYTES: &[u8] = b"live_bytes";
    pub const INDEX_RUNS: &[u8] = b"index_runs";
    pub const INDEX_NEXT: &[u8] = b"index_next";
}

fn encode_counts(c: &[u64]) -> Vec<u8> {
    c.iter().flat_map(|n| n.to_le_bytes()).collect()
}

fn decode_counts(b: &[u8]) -> [u64; Dataset::ALL.len()] {
    let mut c = [0u64; Dataset::ALL.len()];
    for (slot, chunk) in c.iter_mut().zip(b.chunks_exact(8)) {
        let mut a = [0u8; 8];
        a.copy_from_slice(chunk);
        *slot = u64::from_le_bytes(a);
    }
    c
}

fn tx_err(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Db(e),
    }
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path, cfg: &StoreConfig) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: dir.to_path_buf(),
            source,
        };
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cfg.cache_bytes)
            .flush_every_ms(cfg.flush_every_ms)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(open_err)?;
        let events = db.open_tree("events")?;
        let by_source = db.open_tree("by_source")?;
        let chain = db.open_tree("chain")?;
        let meta = db.open_tree("meta")?;
        // Created now so that the layout is complete; the incident sensor fills it.
        db.open_tree("incidents")?;
        match meta.get(meta_key::FORMAT)? {
            None => {
                meta.insert(meta_key::FORMAT, &[STORE_FORMAT])?;
            }
            Some(v) if v.as_ref() == [STORE_FORMAT] => {}
            Some(v) => {
                return Err(StoreError::Meta(format!(
                    "store format {:?} is newer than this build understands ({STORE_FORMAT})",
                    v.as_ref()
                )));
            }
        }
        let anchor = meta
            .get(meta_key::ANCHOR)?
            .and_then(|v| chain::anchor_from_bytes(&v));
        let (next_batch, prev_hash) = match chain.last()? {
            Some((k, v)) => {
                let n = chain::batch_number(&k)
                    .ok_or_else(|| StoreError::Meta("bad chain key".into()))?;
                let e = ChainEntry::from_bytes(&v)
                    .ok_or_else(|| StoreError::Meta(format!("bad chain entry {n}")))?;
                (n + 1, e.hash)
            }
            None => match anchor {
                Some((n, h)) => (n + 1, h),
                None => (0, [0; 32]),
            },
        };
        let last_key = match events.last()? {
            Some((k, _)) => EventKey::from_bytes(&k),
            None => None,
        };
        let counts = meta
            .get(meta_key::COUNTS)?
            .map_or([0; Dataset::ALL.len()], |v| decode_counts(&v));
        let live_bytes = meta
            .get(meta_key::LIVE_BYTES)?
            .and_then(|v| Some(u64::from_le_bytes(v.as_ref().try_into().ok()?)))
            .unwrap_or(0);
        let runs = meta
            .get(meta_key::INDEX_RUNS)?
            .map(|v| index::runs_from_bytes(&v))
            .unwrap_or(Some(Vec::new()))
            .ok_or_else(|| StoreError::Meta("bad index run list".into()))?;
        let next_run = meta
            .get(meta_key::INDEX_NEXT)?
            .and_then(|v| Some(u64::from_be_bytes(v.as_ref().try_into().ok()?)))
            .unwrap_or(0);
        let indexed_through = runs.last().map(|r| r.last);
        let store = Store {
            path: dir.to_path_buf(),
            db,
            events,
            by_source,
            chain,
            meta,
            writer: Mutex::new(WriterState {
                last_key,
                next_batch,
                prev_hash,
                counts,
                live_bytes,
                pending: Vec::new(),
                runs,
                next_run,
                run_entries: cfg.index_run_entries.max(1),
            }),
        };
        store.rebuild_pending(indexed_through)?;
        Ok(store)
    }

    /// Rebuilds the pending index run from the blocks written after the last run.
    fn rebuild_pending(&self, indexed_through: Option<EventKey>) -> Result<(), StoreError> {
        let start = indexed_through.map_or(EventKey::at(0), EventKey::next);
        let mut pending = Vec::new();
        for item in self.events.range(start.to_bytes()..) {
            let (bk, stored) = item?;
            let Some(block_key) = EventKey::from_bytes(&bk) else {
                continue;
            };
            let Ok(layout) = block::unpack(&stored) else {
                continue;
            };
            let Ok(view) = block::BlockView::new(&layout) else {
                continue;
            };
            for i in 0..view.len() {
                let Ok((event, rec)) = view.get(i) else {
                    continue;
                };
                if let Some(ip) = record::decode(rec).ok().and_then(|e| e.details.source.ip) {
                    pending.push(index::Entry {
                        addr: key::addr16(ip),
                        event,
                        block: block_key,
                        ordinal: i as u8,
                    });
                }
            }
        }
        self.lock().pending = pending;
        Ok(())
    }

    /// Writes the pending index entries as a run now (at shutdown, so that the next open does
    /// not rebuild them from the blocks).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let mut w = self.lock();
        if w.pending.is_empty() {
            return Ok(());
        }
        let Some(last) = w.last_key else {
            return Ok(());
        };
        let id = w.next_run;
        let mut idx_batch = sled::Batch::default();
        for (k, v) in index::chunks(id, &mut w.pending) {
            idx_batch.insert(&k[..], v);
        }
        let mut runs = w.runs.clone();
        runs.push(index::Run { id, last });
        let runs_bytes = index::runs_to_bytes(&runs);
        (&self.by_source, &self.meta)
            .transaction(|(idx, me)| {
                idx.apply_batch(&idx_batch)?;
                me.insert(meta_key::INDEX_RUNS, &runs_bytes[..])?;
                me.insert(meta_key::INDEX_NEXT, &(id + 1).to_be_bytes()[..])?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(tx_err)?;
        w.pending.clear();
        w.runs = runs;
        w.next_run = id + 1;
        Ok(())
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WriterState> {
        // A panic while holding the lock leaves the state as it was before the failed
        // transaction (state is only updated after a commit), so poisoning is harmless.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a batch of events in one transaction across all trees and chains it.
    /// Keys are strictly increasing: an event received "before" the previous one (clock
    /// stepped back) is keyed just after it; its record keeps the true receive time.
    pub fn append(&self, batch: &Batch) -> Result<Option<Appended>, StoreError> {
        if batch.is_empty() {
            return Ok(None);
        }
        let mut w = self.lock();
        let number = w.next_batch;
        let mut hasher = chain::BatchHasher::new(number, &w.prev_hash);
        let mut counts = w.counts;
        let mut last = w.last_key;
        // Keys first: strictly increasing whatever the clock did.
        let mut keys = Vec::with_capacity(batch.len());
        for e in &batch.entries {
            let key = match last {
                Some(prev) if e.received_ns <= prev.time_ns => prev.next(),
                _ => EventKey::at(e.received_ns),
            };
            last = Some(key);
            keys.push(key);
            if let Some(c) = counts.get_mut(usize::from(e.dataset)) {
                *c += 1;
            }
        }
        let (Some(&first), Some(last)) = (keys.first(), last) else {
            return Ok(None);
        };
        // Blocks of consecutive records; remember where each event went for the index.
        let mut ev_batch = sled::Batch::default();
        let mut bytes = 0u64;
        let mut placed: Vec<(EventKey, u8)> = Vec::with_capacity(batch.len());
        let mut i = 0;
        while i < batch.entries.len() {
            let mut j = i;
            let mut size = 0;
            while j < batch.entries.len()
                && j - i < block::BLOCK_RECORDS
                && (j == i || size < block::BLOCK_BYTES)
            {
                size += batch.entries[j].end - batch.entries[j].start;
                j += 1;
            }
            let entries: Vec<(EventKey, &[u8])> = (i..j)
                .map(|k| (keys[k], batch.record(&batch.entries[k])))
                .collect();
            let block_key = keys[i];
            for ordinal in 0..(j - i) {
                placed.push((block_key, ordinal as u8));
            }
            let layout = block::encode(&entries);
            hasher.add(&layout);
            let encoded = block::pack(&layout);
            bytes += (key::EVENT_KEY_LEN + encoded.len()) as u64;
            ev_batch.insert(&block_key.to_bytes()[..], encoded);
            i = j;
        }
        // Index entries join the pending run; a full pending run is written with this batch.
        let pending_before = w.pending.len();
        for (k, e) in batch.entries.iter().enumerate() {
            if let (Some(addr), Some(&(block, ordinal))) = (e.source, placed.get(k)) {
                w.pending.push(index::Entry {
                    addr,
                    event: keys[k],
                    block,
                    ordinal,
                });
                bytes += index::ENTRY_LEN as u64;
            }
        }
        let mut idx_batch = sled::Batch::default();
        let mut new_runs = None;
        if w.pending.len() >= w.run_entries {
            let id = w.next_run;
            for (k, v) in index::chunks(id, &mut w.pending) {
                idx_batch.insert(&k[..], v);
            }
            let mut runs = w.runs.clone();
            runs.push(index::Run { id, last });
            new_runs = Some(runs);
        }
        let count = u32::try_from(batch.len()).unwrap_or(u32::MAX);
        let entry = ChainEntry {
            first,
            last,
            count,
            bytes,
            prev: w.prev_hash,
            hash: hasher.finish(),
        };
        let entry_bytes = entry.to_bytes();
        let counts_bytes = encode_counts(&counts);
        let live = w.live_bytes + bytes;
        let next_run = w.next_run;
        (&self.events, &self.by_source, &self.chain, &self.meta)
            .transaction(|(ev, idx, ch, me)| {
                ev.apply_batch(&ev_batch)?;
                idx.apply_batch(&idx_batch)?;
                ch.insert(&chain::batch_key(number)[..], &entry_bytes[..])?;
                me.insert(meta_key::COUNTS, &counts_bytes[..])?;
                me.insert(meta_key::LIVE_BYTES, &live.to_le_bytes()[..])?;
                if let Some(runs) = &new_runs {
                    me.insert(meta_key::INDEX_RUNS, index::runs_to_bytes(runs))?;
                    me.insert(meta_key::INDEX_NEXT, &(next_run + 1).to_be_bytes()[..])?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(|e| {
                // The batch is not stored: neither are its index entries.
                w.pending.truncate(pending_before);
                tx_err(e)
            })?;
        if let Some(runs) = new_runs {
            w.pending.clear();
            w.runs = runs;
            w.next_run += 1;
        }
        w.next_batch = number + 1;
        w.prev_hash = entry.hash;
        w.last_key = Some(last);
        w.counts = counts;
        w.live_bytes = live;
        Ok(Some(Appended {
            batch: number,
            first,
            last,
            count,
        }))
    }

    /// Makes everything appended so far durable; returns the bytes sled wrote.
    pub fn flush(&self) -> Result<usize, StoreError> {
        Ok(self.db.flush()?)
    }

    /// Events stored per dataset.
    pub fn counts(&self) -> Counts {
        let w = self.lock();
        let by_dataset: Vec<(Dataset, u64)> = Dataset::ALL
            .iter()
            .zip(w.counts)
            .map(|(d, n)| (*d, n))
            .collect();
        let total = by_dataset.iter().map(|(_, n)| n).sum();
        Counts { by_dataset, total }
    }

    /// Bytes of records and index entries currently stored (what size retention counts).
    pub fn live_bytes(&self) -> u64 {
        self.lock().live_bytes
    }

    /// The store's size on disk in bytes, as sled reports it.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    /// The hash at the head of the evidence chain (record it elsewhere to detect a rewrite of
    /// the whole chain).
    pub fn head(&self) -> Hash {
        self.lock().prev_hash
    }
}
