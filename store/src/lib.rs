//! picket-store: the event log on sled.
//!
//! Trees: `events` (block key → a block of up to 64 records, see [`block`]), `by_source`
//! (16-byte address + the batch's first event key → the (event key, block key, ordinal)
//! of every event of that source in the batch), `chain` (batch number → [`ChainEntry`]),
//! `meta` (format, counters, retention anchor) and `incidents` (kept for the sensor). A batch
//! of events is written to every tree in one sled transaction, so a crash leaves either all
//! of a batch or none of it. sled's cost is per key: blocks and per-batch index entries keep
//! the number of keys far below the number of events.
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
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            cache_bytes: 64 << 20,
            flush_every_ms: Some(1000),
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
        Ok(Store {
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
            }),
        })
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
        // One index entry per source in this batch: (event key, block key, ordinal) each.
        let mut by_src: Vec<(usize, [u8; 16])> = batch
            .entries
            .iter()
            .enumerate()
            .filter_map(|(k, e)| e.source.map(|s| (k, s)))
            .collect();
        by_src.sort_unstable_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let mut idx_batch = sled::Batch::default();
        for group in by_src.chunk_by(|a, b| a.1 == b.1) {
            let mut value = Vec::with_capacity(group.len() * index::ENTRY_LEN);
            for (k, _) in group {
                let (block_key, ordinal) = placed[*k];
                index::push(&mut value, keys[*k], block_key, ordinal);
            }
            let ik = index::key(&group[0].1, first);
            bytes += (ik.len() + value.len()) as u64;
            idx_batch.insert(&ik[..], value);
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
        (&self.events, &self.by_source, &self.chain, &self.meta)
            .transaction(|(ev, idx, ch, me)| {
                ev.apply_batch(&ev_batch)?;
                idx.apply_batch(&idx_batch)?;
                ch.insert(&chain::batch_key(number)[..], &entry_bytes[..])?;
                me.insert(meta_key::COUNTS, &counts_bytes[..])?;
                me.insert(meta_key::LIVE_BYTES, &live.to_le_bytes()[..])?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(tx_err)?;
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
