//! picket-store: the event log on sled.
//!
//! Trees: `events` (block key → a block of up to 64 records, see `block`), `by_source`
//! (sorted runs of (address, event, block, ordinal) entries, see `index`), `chain` (batch
//! number → [`ChainEntry`]), `meta` (format, counters, index runs, retention anchor, change
//! numbering), `incidents` (the sensor's candidates, opaque key → value), `changes` (the
//! sensor's change log, big-endian change number → opaque record), `contacts` (a cache of abuse
//! contacts, see `contacts`), `logbook` (the hash-chained record of actions on incidents,
//! see [`Store::logbook_append`]) and `notices` (abuse notices and their replies, opaque,
//! each write flushed at once: see `notices`). A batch of
//! events, and the incident writes and logbook entries it caused ([`Store::append_with`]), is
//! written to every tree in one sled transaction, so a crash leaves either all of a batch or
//! none of it. sled's cost is per key: blocks and index runs keep the number of keys ~50
//! times below the number of events.
//!
//! sled stays behind this API: callers see [`Store`], [`Batch`], [`Query`] and plain types.

mod anchor;
mod batch;
mod block;
mod bundle;
mod chain;
mod contacts;
mod error;
mod incidents;
mod index;
mod key;
mod logbook;
mod merkle;
mod notices;
mod query;
mod record;
mod retention;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use picket_parsers::Dataset;
use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};

pub use anchor::{Head, HeadKind, format_heads, parse_hash, parse_heads};
pub use batch::Batch;
pub use bundle::{Bundle, BundleError, BundleLine, BundleReport, CheckedLine, Evidence, file_hash};
pub use chain::{ChainEntry, Hash, hex};
pub use error::{DecodeError, StoreError};
pub use incidents::IncidentWrites;
pub use key::{Cidr, EventKey};
pub use logbook::{
    LogbookAction, LogbookEntry, LogbookProblem, LogbookReport, kind as logbook_kind, os_user,
};
pub use notices::NoticeRecords;
pub use query::{Cursor, Order, Query, Scan, Stored};
pub use retention::{Retention, RetentionReport};
pub use verify::{Problem, VerifyReport};

/// The on-disk layout version this build writes (in `meta`). Format 2 adds the Merkle root
/// to new chain entries (version 2, see `chain`); a store of format 1 opens, keeps its
/// version 1 entries (which still verify) and is marked format 2 at its next open, since
/// an older build could not read the new entries.
const STORE_FORMAT: u8 = 2;
/// The oldest format this build opens.
const OLDEST_FORMAT: u8 = 1;

/// Store settings.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// sled page cache size in bytes.
    pub cache_bytes: u64,
    /// How often sled flushes on its own, in milliseconds (`None`: only on [`Store::flush`]).
    pub flush_every_ms: Option<u64>,
    /// Index entries gathered in memory before they are written as one sorted run.
    pub index_run_entries: usize,
    /// Write batches as a store of format 1 did (version 1 chain entries, no Merkle root):
    /// only for tests that an old store still opens and verifies.
    #[doc(hidden)]
    pub format_1: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            cache_bytes: 64 << 20,
            flush_every_ms: Some(1000),
            index_run_entries: 256 * 1024,
            format_1: false,
        }
    }
}

/// What the single writer must remember between batches (behind the writer's lock, which
/// only `append`, `checkpoint`, retention, `verify` and `recover` take).
#[derive(Debug)]
struct WriterState {
    last_key: Option<EventKey>,
    next_batch: u64,
    /// Pending entries that trigger a run.
    run_entries: usize,
    /// The number the next change record gets (from 1; never reused).
    next_change: u64,
}

/// What readers need, behind a small lock of its own: held only to copy a few words or the
/// pending run's piece pointers, never across a commit, so `counts`, `head`, `live_bytes` and
/// scans answer while the writer waits on the disk. Changed only by a holder of the writer's
/// lock, after its transaction committed.
#[derive(Debug, Default)]
struct Shared {
    head: Hash,
    /// The number of the batch `head` belongs to (None before the first batch).
    head_batch: Option<u64>,
    counts: [u64; Dataset::ALL.len()],
    live_bytes: u64,
    /// Index entries not yet written as a run.
    pending: index::Pending,
    /// Written index runs, oldest first.
    runs: Vec<index::Run>,
    /// The id the pending run will get.
    next_run: u64,
    /// Candidates in `incidents`.
    incident_count: u64,
    /// The highest change number ever written (kept when `clear_incidents` empties the log).
    last_change: Option<u64>,
    /// The logbook's last entry number and hash.
    logbook_head: (u64, Hash),
}

/// The sled handles of one open.
struct Trees {
    db: sled::Db,
    events: sled::Tree,
    by_source: sled::Tree,
    chain: sled::Tree,
    meta: sled::Tree,
    incidents: sled::Tree,
    changes: sled::Tree,
    logbook: sled::Tree,
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
///
/// After an I/O error from sled (a full disk, say) the handle is not used again: sled 0.34
/// keeps its first I/O error and returns it from every later write, and reads from it can
/// block. Every call then fails at once with [`StoreError::NeedsRecovery`] until
/// [`Store::recover`] reopens the directory (see there).
pub struct Store {
    path: PathBuf,
    cfg: StoreConfig,
    /// `None` while the store is failed or being reopened.
    trees: RwLock<Option<Arc<Trees>>>,
    /// Bumped when sled reports an I/O error; scans stop when it moves.
    failures: AtomicU64,
    writer: Mutex<WriterState>,
    shared: Mutex<Shared>,
    /// Held by `verify` and retention for their whole pass, so that a verify walking the
    /// chain while appends go on never sees retention move the anchor under it.
    maintenance: Mutex<()>,
    /// The batch count last written to the format file, and when.
    marker: Mutex<(u64, std::time::Instant)>,
}

mod meta_key {
    pub const FORMAT: &[u8] = b"format";
    pub const COUNTS: &[u8] = b"counts";
    pub const ANCHOR: &[u8] = b"anchor";
    pub const LIVE_BYTES: &[u8] = b"live_bytes";
    pub const INDEX_RUNS: &[u8] = b"index_runs";
    pub const INDEX_NEXT: &[u8] = b"index_next";
    /// The number the next change record gets, written by `clear_incidents` (otherwise the
    /// last key of `changes` says it), big-endian.
    pub const CHANGES_NEXT: &[u8] = b"changes_next";
    /// Candidates in `incidents`, big-endian; written with every incident write.
    pub const INCIDENT_COUNT: &[u8] = b"incident_count";
    pub const INCIDENTS_THROUGH: &[u8] = b"incidents_through";
    /// `import:` + a file's fingerprint: the note of its import (so that the same file is
    /// not stored twice by mistake).
    pub const IMPORTED: &[u8] = b"import:";
}

/// A big-endian u64 stored in `meta`.
fn meta_u64(meta: &sled::Tree, key: &[u8]) -> Result<Option<u64>, StoreError> {
    Ok(meta
        .get(key)?
        .and_then(|v| Some(u64::from_be_bytes(v.as_ref().try_into().ok()?))))
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // State is only changed after a commit, whole, so a panic elsewhere while a lock was held
    // leaves it consistent: poisoning is harmless.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The file beside sled's that names the store's format, so that a newer store is refused
/// before sled opens it: sled writes (a snapshot, a recovered log tail) as it opens.
const FORMAT_FILE: &str = "picket-store-format";

/// The refusal of a store this build cannot read.
fn newer_format(dir: &Path, found: &str) -> StoreError {
    StoreError::Meta(format!(
        "the store in {} has format {found}, newer than this build of picket understands \
         (format {STORE_FORMAT}); it was left as it is: run a newer picket on it",
        dir.display()
    ))
}

/// What the format file says: the format, and how many batches the store had once durably
/// held (so that sled opening a cut log as far as it can read is caught, not taken for a
/// smaller store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marker {
    format: u8,
    batches: Option<u64>,
}

/// Reads the format file, if there is one (stores before it have none).
fn format_file(dir: &Path) -> Result<Option<Marker>, StoreError> {
    let path = dir.join(FORMAT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StoreError::Meta(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let bad = || {
        StoreError::Meta(format!(
            "{} is damaged ({:?}): it should say the store's format ({STORE_FORMAT}) and its \
             batch count",
            path.display(),
            text.chars().take(40).collect::<String>()
        ))
    };
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().trim();
    let format = match first.parse::<u64>() {
        Ok(n) if n > u64::from(STORE_FORMAT) => return Err(newer_format(dir, first)),
        Ok(n) => u8::try_from(n).map_err(|_| bad())?,
        Err(_) => return Err(bad()),
    };
    let batches = match lines.next().map(str::trim) {
        None | Some("") => None,
        Some(l) => Some(
            l.strip_prefix("batches ")
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(bad)?,
        ),
    };
    Ok(Some(Marker { format, batches }))
}

/// Writes the format file (atomically: a torn one would refuse the store at the next open).
/// Called only after sled has flushed as many batches, so it never claims more than is
/// durable.
fn write_format_file(dir: &Path, m: Marker) -> Result<(), StoreError> {
    let path = dir.join(FORMAT_FILE);
    let tmp = dir.join(format!("{FORMAT_FILE}.tmp"));
    let text = match m.batches {
        Some(b) => format!("{}\nbatches {b}\n", m.format),
        None => format!("{}\n", m.format),
    };
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| StoreError::Meta(format!("cannot write {}: {e}", path.display())))
}

/// Opens sled in `dir` and reads the writer's and the readers' state from it.
fn load(dir: &Path, cfg: &StoreConfig) -> Result<(Trees, WriterState, Shared), StoreError> {
    let open_err = |source| StoreError::Open {
        path: dir.to_path_buf(),
        source,
    };
    let marked = format_file(dir)?;
    let config = sled::Config::new()
        .path(dir)
        .cache_capacity(cfg.cache_bytes)
        .flush_every_ms(cfg.flush_every_ms)
        .mode(sled::Mode::HighThroughput);
    // sled's flusher thread lets go of the directory's lock a moment after the last handle
    // is dropped, so a reopen in the same process (recover, a test) can find it still held:
    // wait a little. Another process holding it still gets the error, after the wait.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let mut cleared = false;
    let db = loop {
        // sled 0.34 panics on some damaged logs instead of returning Corruption (seen: a
        // snapshot of a page it could not read, serialization.rs "tried to serialize"): that is
        // damage too, and must be an error, not a crash of whoever opened the store.
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()))
            .unwrap_or_else(|_| Err(sled::Error::Corruption { at: None, bt: () }));
        match opened {
            Ok(db) => break db,
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e @ sled::Error::Corruption { .. }) if !cleared => {
                cleared = true;
                if remove_unfinished_snapshots(dir) == 0 {
                    return Err(open_err(e));
                }
            }
            Err(e) => return Err(open_err(e)),
        }
    };
    // The format first: a store of a newer build may lack a tree this one would create, and
    // is refused before anything is written to it.
    let meta = db.open_tree("meta")?;
    // The format the store has once opened (older ones are marked current unless kept at 1).
    let format = match meta.get(meta_key::FORMAT)? {
        // sled opens a cut log as far as it reads, which may be nothing at all: an empty
        // store where the format file says one was is damage, not a new store.
        None if marked.is_some() => {
            return Err(StoreError::Meta(format!(
                "the store in {} is damaged: {FORMAT_FILE} says a store is here, but sled's \
                 files hold none of it (cut or replaced). {}",
                dir.display(),
                error::DAMAGED_ADVICE
            )));
        }
        None => {
            let f = if cfg.format_1 { 1 } else { STORE_FORMAT };
            meta.insert(meta_key::FORMAT, &[f])?;
            f
        }
        Some(v) if v.as_ref() == [STORE_FORMAT] => STORE_FORMAT,
        Some(v) => match v.as_ref() {
            [f] if (OLDEST_FORMAT..STORE_FORMAT).contains(f) => {
                if cfg.format_1 {
                    *f
                } else {
                    meta.insert(meta_key::FORMAT, &[STORE_FORMAT])?;
                    STORE_FORMAT
                }
            }
            other => {
                let found = other
                    .iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join(".");
                return Err(newer_format(dir, &found));
            }
        },
    };
    let events = db.open_tree("events")?;
    let by_source = db.open_tree("by_source")?;
    let chain = db.open_tree("chain")?;
    let incidents = db.open_tree("incidents")?;
    let changes = db.open_tree("changes")?;
    let logbook = db.open_tree("logbook")?;
    let anchor = meta
        .get(meta_key::ANCHOR)?
        .and_then(|v| chain::anchor_from_bytes(&v));
    let (next_batch, head) = match chain.last()? {
        Some((k, v)) => {
            let n =
                chain::batch_number(&k).ok_or_else(|| StoreError::Meta("bad chain key".into()))?;
            let e = ChainEntry::from_bytes(&v)
                .ok_or_else(|| StoreError::Meta(format!("bad chain entry {n}")))?;
            (n + 1, e.hash)
        }
        None => match anchor {
            Some((n, h)) => (n + 1, h),
            None => (0, [0; 32]),
        },
    };
    if let Some(had) = marked.and_then(|m| m.batches)
        && next_batch < had
    {
        return Err(StoreError::Meta(format!(
            "the store in {} is damaged: it held {had} batches, but sled's files give back \
             only {next_batch} (they were cut or replaced). {}",
            dir.display(),
            error::DAMAGED_ADVICE
        )));
    }
    let marker = Marker {
        format,
        batches: Some(next_batch),
    };
    if marked != Some(marker) {
        write_format_file(dir, marker)?;
    }
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
    let after_log = match changes.last()? {
        Some((k, _)) => incidents::change_number(&k)
            .ok_or_else(|| StoreError::Meta("bad change key".into()))?
            .saturating_add(1),
        None => 1,
    };
    let next_change = after_log
        .max(meta_u64(&meta, meta_key::CHANGES_NEXT)?.unwrap_or(1))
        .max(1);
    let incident_count = match meta_u64(&meta, meta_key::INCIDENT_COUNT)? {
        Some(n) => n,
        None => incidents.len() as u64,
    };
    let trees = Trees {
        db,
        events,
        by_source,
        chain,
        meta,
        incidents,
        changes,
        logbook,
    };
    let logbook_head = logbook::load_head(&trees.logbook)?;
    let pending = rebuild_pending(&trees, indexed_through)?;
    Ok((
        trees,
        WriterState {
            last_key,
            next_batch,
            run_entries: cfg.index_run_entries.max(1),
            next_change,
        },
        Shared {
            head,
            head_batch: next_batch.checked_sub(1),
            counts,
            live_bytes,
            pending,
            runs,
            next_run,
            incident_count,
            last_change: next_change.checked_sub(1).filter(|n| *n > 0),
            logbook_head,
        },
    ))
}

/// Rebuilds the pending index run from the blocks written after the last run.
fn rebuild_pending(
    t: &Trees,
    indexed_through: Option<EventKey>,
) -> Result<index::Pending, StoreError> {
    let start = indexed_through.map_or(EventKey::at(0), EventKey::next);
    let mut pending = index::Pending::default();
    let mut found = Vec::new();
    for item in t.events.range(start.to_bytes()..) {
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
        found.clear();
        for i in 0..view.len() {
            let Ok((event, rec)) = view.get(i) else {
                continue;
            };
            if let Some(ip) = record::decode(rec).ok().and_then(|e| e.details.source.ip) {
                found.push(index::Entry {
                    addr: key::addr16(ip),
                    event,
                    block: block_key,
                    ordinal: u8::try_from(i).unwrap_or(u8::MAX),
                });
            }
        }
        pending.extend(&found);
    }
    Ok(pending)
}

/// A store closed in order records its final batch count (see [`Store::flush`]).
impl Drop for Store {
    fn drop(&mut self) {
        let Ok(t) = self.trees() else { return };
        let batches = lock(&self.writer).next_batch;
        if t.db.flush().is_ok() {
            self.mark_batches(batches, true);
        }
    }
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path, cfg: &StoreConfig) -> Result<Store, StoreError> {
        let (trees, writer, shared) = load(dir, cfg)?;
        let batches = writer.next_batch;
        Ok(Store {
            path: dir.to_path_buf(),
            cfg: cfg.clone(),
            trees: RwLock::new(Some(Arc::new(trees))),
            failures: AtomicU64::new(0),
            writer: Mutex::new(writer),
            shared: Mutex::new(shared),
            maintenance: Mutex::new(()),
            marker: Mutex::new((batches, std::time::Instant::now())),
        })
    }

    /// The open sled handles, or [`StoreError::NeedsRecovery`] after an I/O error.
    fn trees(&self) -> Result<Arc<Trees>, StoreError> {
        self.trees
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(StoreError::NeedsRecovery)
    }

    /// Notes an error on its way out: an I/O error from sled retires the handle, so that
    /// nothing touches it again before [`Store::recover`].
    fn note(&self, e: StoreError) -> StoreError {
        if e.is_sled_io() {
            *self.trees.write().unwrap_or_else(|p| p.into_inner()) = None;
            self.failures.fetch_add(1, Ordering::SeqCst);
        }
        e
    }

    /// How many I/O failures this store has seen (scans stop when it changes under them).
    pub(crate) fn failures(&self) -> u64 {
        self.failures.load(Ordering::SeqCst)
    }

    /// True while an I/O error keeps the store closed (until [`Store::recover`]).
    pub fn needs_recovery(&self) -> bool {
        self.trees
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Reopens the data directory after an I/O error (a full disk): drops the failed sled
    /// handle, opens the directory again and reloads the chain head, counters and pending
    /// index from what is on disk. A no-op on a healthy store.
    ///
    /// What survives: every batch whose `append` *and* a later `flush` returned `Ok`; the batch
    /// in flight when the error came may or may not be there (sled commits whole transactions,
    /// so it is there entirely or not at all). Compare [`Store::next_batch`] before the append
    /// with after the recovery to know, and append it again only if it is missing.
    ///
    /// Fails with a retryable error while the disk is still full, or while scans started before
    /// the failure still hold the old handle (they stop at their next `next()`); call it
    /// again after a back-off.
    pub fn recover(&self) -> Result<(), StoreError> {
        let mut w = lock(&self.writer);
        if !self.needs_recovery() {
            return Ok(());
        }
        let (trees, writer, shared) = match load(&self.path, &self.cfg) {
            Ok(got) => got,
            // sled could not take its lock: a scan still holds the old handle.
            Err(StoreError::Open { source, .. }) if is_lock_busy(&source) => {
                return Err(StoreError::NeedsRecovery);
            }
            Err(e) => return Err(e),
        };
        *w = writer;
        *lock(&self.shared) = shared;
        *self.trees.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(trees));
        Ok(())
    }

    /// The note kept when a file with this fingerprint was imported, if one was.
    pub fn imported(&self, fingerprint: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let t = self.trees()?;
        let key = [meta_key::IMPORTED, fingerprint].concat();
        Ok(t.meta
            .get(key)
            .map_err(|e| self.note(e.into()))?
            .map(|v| v.to_vec()))
    }

    /// Remembers that a file with this fingerprint was imported (`note`: when, what), once
    /// its lines are stored; flushed with the next flush.
    pub fn record_import(&self, fingerprint: &[u8], note: &[u8]) -> Result<(), StoreError> {
        let t = self.trees()?;
        let key = [meta_key::IMPORTED, fingerprint].concat();
        t.meta.insert(key, note).map_err(|e| self.note(e.into()))?;
        Ok(())
    }

    /// The number the next appended batch will get (batches are numbered from 0).
    pub fn next_batch(&self) -> u64 {
        lock(&self.writer).next_batch
    }

    /// Writes the pending index entries as a run now (at shutdown, so that the next open does
    /// not rebuild them from the blocks).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let w = lock(&self.writer);
        self.checkpoint_locked(&w).map_err(|e| self.note(e))
    }

    fn checkpoint_locked(&self, w: &WriterState) -> Result<(), StoreError> {
        let t = self.trees()?;
        let (snapshot, mut runs, id) = {
            let s = lock(&self.shared);
            (s.pending.clone(), s.runs.clone(), s.next_run)
        };
        let Some(last) = w.last_key.filter(|_| !snapshot.is_empty()) else {
            return Ok(());
        };
        let mut sorted: Vec<index::Entry> = snapshot.iter().copied().collect();
        drop(snapshot);
        index::sort(&mut sorted);
        let mut idx_batch = sled::Batch::default();
        for (k, v) in index::chunks(id, &sorted) {
            idx_batch.insert(&k[..], v);
        }
        runs.push(index::Run { id, last });
        let runs_bytes = index::runs_to_bytes(&runs);
        (&t.by_source, &t.meta)
            .transaction(|(idx, me)| {
                idx.apply_batch(&idx_batch)?;
                me.insert(meta_key::INDEX_RUNS, &runs_bytes[..])?;
                me.insert(meta_key::INDEX_NEXT, &(id + 1).to_be_bytes()[..])?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(tx_err)?;
        let mut s = lock(&self.shared);
        s.pending.clear();
        s.runs = runs;
        s.next_run = id + 1;
        Ok(())
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn lock_writer(&self) -> MutexGuard<'_, WriterState> {
        lock(&self.writer)
    }

    pub(crate) fn lock_maintenance(&self) -> MutexGuard<'_, ()> {
        lock(&self.maintenance)
    }

    /// The last appended batch and the last event key, read under the writer's lock: what a
    /// verify that runs beside appends checks (everything up to there is whole).
    pub(crate) fn appended_through(&self) -> (Option<u64>, Option<EventKey>) {
        let w = lock(&self.writer);
        (w.next_batch.checked_sub(1), w.last_key)
    }

    pub(crate) fn lock_shared(&self) -> MutexGuard<'_, Shared> {
        lock(&self.shared)
    }

    pub(crate) fn open_trees(&self) -> Result<Arc<Trees>, StoreError> {
        self.trees()
    }

    pub(crate) fn noted(&self, e: StoreError) -> StoreError {
        self.note(e)
    }

    /// Stores a batch of events in one transaction across all trees and chains it.
    /// Keys are strictly increasing: an event received "before" the previous one (clock
    /// stepped back) is keyed just after it; its record keeps the true receive time.
    ///
    /// On error nothing of the batch is kept, in sled or in memory (the pending index run is
    /// changed only after the commit). An error for which [`StoreError::is_retryable`] holds
    /// (a full disk) leaves the store needing [`Store::recover`].
    pub fn append(&self, batch: &Batch) -> Result<Option<Appended>, StoreError> {
        self.append_with(batch, &IncidentWrites::default())
    }

    /// [`Store::append`], plus incident writes in the same sled transaction: the batch's
    /// events and the candidates and change records they caused are stored all together or
    /// not at all, so after a crash or a failed append the candidates agree with the stored
    /// events. With an empty batch, the incident writes are made alone (as by
    /// [`Store::write_incidents`]) and the result is `Ok(None)`.
    ///
    /// Change records are numbered on from [`Store::last_change`]; the in-memory numbering
    /// and candidate count move only after the commit.
    pub fn append_with(
        &self,
        batch: &Batch,
        incidents: &IncidentWrites,
    ) -> Result<Option<Appended>, StoreError> {
        if batch.is_empty() {
            if incidents.is_empty() {
                return Ok(None);
            }
            return self.write_incidents(incidents).map(|_| None);
        }
        let mut w = lock(&self.writer);
        self.append_locked(&mut w, batch, incidents)
            .map_err(|e| self.note(e))
    }

    /// The event keys [`Store::append`] or [`Store::append_with`] would give `batch` if it
    /// were the next one appended: what the caller keys derived data (the sensor's
    /// candidates) by before writing both together. Valid until the next append, and not
    /// after [`Store::recover`] (which reloads the last key from disk); there is one writer,
    /// so nothing else appends in between.
    pub fn keys_for(&self, batch: &Batch) -> Vec<EventKey> {
        let mut cursor = self.key_cursor();
        batch
            .entries
            .iter()
            .map(|e| cursor.next(e.received_ns))
            .collect()
    }

    /// The keys the next append will give its events, one at a time as they are pushed to
    /// the batch (what [`Store::keys_for`] gives for the whole batch), so a caller can use
    /// each key as soon as its event is parsed. Valid as long as `keys_for` is.
    pub fn key_cursor(&self) -> KeyCursor {
        KeyCursor {
            last: lock(&self.writer).last_key,
        }
    }

    fn append_locked(
        &self,
        w: &mut WriterState,
        batch: &Batch,
        inc: &IncidentWrites,
    ) -> Result<Option<Appended>, StoreError> {
        let t = self.trees()?;
        let (prev_hash, mut counts, live_before, pending_len, next_run, incident_count) = {
            let s = lock(&self.shared);
            (
                s.head,
                s.counts,
                s.live_bytes,
                s.pending.len(),
                s.next_run,
                s.incident_count,
            )
        };
        let number = w.next_batch;
        let mut hasher = chain::BatchHasher::new(number, &prev_hash);
        let v1 = self.cfg.format_1;
        let mut leaves: Vec<Hash> = Vec::with_capacity(if v1 { 0 } else { batch.len() });
        let mut last = w.last_key;
        // Keys first: strictly increasing whatever the clock did.
        let mut keys = Vec::with_capacity(batch.len());
        for e in &batch.entries {
            let key = next_key(last, e.received_ns);
            last = Some(key);
            keys.push(key);
            if let Some(c) = counts.get_mut(usize::from(e.dataset)) {
                *c += 1;
            }
        }
        let (Some(&first), Some(last)) = (keys.first(), last) else {
            return Ok(None);
        };
        // Blocks of consecutive records; the index entries of the sourced events as they go.
        let mut ev_batch = sled::Batch::default();
        let mut bytes = 0u64;
        let mut new_entries: Vec<index::Entry> = Vec::with_capacity(batch.len());
        let mut rest: Vec<(&batch::Entry, EventKey)> =
            batch.entries.iter().zip(keys.iter().copied()).collect();
        let mut members: Vec<(EventKey, &[u8])> = Vec::with_capacity(block::BLOCK_RECORDS);
        let mut todo = rest.as_mut_slice();
        while let Some(&(_, block_key)) = todo.first() {
            // Up to BLOCK_RECORDS records, closing once BLOCK_BYTES is reached.
            let mut n = 0;
            let mut size = 0;
            for (e, _) in todo.iter() {
                if n == block::BLOCK_RECORDS || (n > 0 && size >= block::BLOCK_BYTES) {
                    break;
                }
                size += e.end - e.start;
                n += 1;
            }
            let (this, later) = todo.split_at_mut(n);
            members.clear();
            for (ordinal, (e, key)) in this.iter().enumerate() {
                members.push((*key, batch.record(e)));
                if !v1 {
                    leaves.push(merkle::leaf(&key.to_bytes(), batch.record(e)));
                }
                if let Some(addr) = e.source {
                    new_entries.push(index::Entry {
                        addr,
                        event: *key,
                        block: block_key,
                        ordinal: u8::try_from(ordinal).unwrap_or(u8::MAX),
                    });
                }
            }
            let layout = block::encode(&members);
            if v1 {
                hasher.add(&layout);
            }
            let encoded = block::pack(&layout);
            bytes += (key::EVENT_KEY_LEN + encoded.len()) as u64;
            ev_batch.insert(&block_key.to_bytes()[..], encoded);
            todo = later;
        }
        bytes += (new_entries.len() * index::ENTRY_LEN) as u64;
        // A full pending run is written with this batch, from a sorted copy: the pending run
        // itself is untouched until the commit.
        let mut idx_batch = sled::Batch::default();
        let mut new_runs = None;
        if pending_len + new_entries.len() >= w.run_entries {
            let snapshot = lock(&self.shared).pending.clone();
            let mut sorted: Vec<index::Entry> =
                Vec::with_capacity(snapshot.len() + new_entries.len());
            sorted.extend(snapshot.iter());
            drop(snapshot);
            sorted.extend_from_slice(&new_entries);
            index::sort(&mut sorted);
            for (k, v) in index::chunks(next_run, &sorted) {
                idx_batch.insert(&k[..], v);
            }
            let mut runs = lock(&self.shared).runs.clone();
            runs.push(index::Run { id: next_run, last });
            new_runs = Some(runs);
        }
        let count = u32::try_from(batch.len()).unwrap_or(u32::MAX);
        let entry = if v1 {
            ChainEntry {
                first,
                last,
                count,
                bytes,
                prev: prev_hash,
                root: None,
                hash: hasher.finish(),
            }
        } else {
            let root = merkle::root(&leaves);
            ChainEntry {
                first,
                last,
                count,
                bytes,
                prev: prev_hash,
                root: Some(root),
                hash: chain::v2_hash(number, &prev_hash, &first, &last, count, &root),
            }
        };
        let entry_bytes = entry.to_bytes();
        let counts_bytes = encode_counts(&counts);
        let live = live_before + bytes;
        let events_tx = |ev: &TransactionalTree,
                         idx: &TransactionalTree,
                         ch: &TransactionalTree,
                         me: &TransactionalTree|
         -> Result<(), UnabortableTransactionError> {
            ev.apply_batch(&ev_batch)?;
            idx.apply_batch(&idx_batch)?;
            ch.insert(&chain::batch_key(number)[..], &entry_bytes[..])?;
            me.insert(meta_key::COUNTS, &counts_bytes[..])?;
            me.insert(meta_key::LIVE_BYTES, &live.to_le_bytes()[..])?;
            if let Some(runs) = &new_runs {
                me.insert(meta_key::INDEX_RUNS, index::runs_to_bytes(runs))?;
                me.insert(meta_key::INDEX_NEXT, &(next_run + 1).to_be_bytes()[..])?;
            }
            Ok(())
        };
        let first_change = w.next_change;
        let book = logbook::prepare(&inc.logbook, lock(&self.shared).logbook_head)?;
        // The hot path (no incident writes) keeps its four-tree transaction.
        let incident_count_now = if inc.is_empty() {
            (&t.events, &t.by_source, &t.chain, &t.meta)
                .transaction(|(ev, idx, ch, me)| {
                    events_tx(ev, idx, ch, me)?;
                    Ok::<_, ConflictableTransactionError<StoreError>>(0)
                })
                .map_err(tx_err)?
        } else {
            (
                &t.events,
                &t.by_source,
                &t.chain,
                &t.meta,
                &t.incidents,
                &t.changes,
                &t.logbook,
            )
                .transaction(|(ev, idx, ch, me, cand, log, lb)| {
                    events_tx(ev, idx, ch, me)?;
                    let now = incidents::write_tx(
                        cand,
                        log,
                        me,
                        lb,
                        inc,
                        &book,
                        first_change,
                        incident_count,
                    )?;
                    Ok::<_, ConflictableTransactionError<StoreError>>(now)
                })
                .map_err(tx_err)?
        };
        // Committed: publish.
        {
            let mut s = lock(&self.shared);
            if !inc.is_empty() {
                s.incident_count = incident_count_now;
                s.logbook_head = book.head;
                w.next_change = first_change + inc.changes.len() as u64;
                if !inc.changes.is_empty() {
                    s.last_change = Some(w.next_change - 1);
                }
            }
            match new_runs {
                Some(runs) => {
                    s.pending.clear();
                    s.runs = runs;
                    s.next_run = next_run + 1;
                }
                None => s.pending.extend(&new_entries),
            }
            s.head = entry.hash;
            s.head_batch = Some(number);
            s.counts = counts;
            s.live_bytes = live;
        }
        w.next_batch = number + 1;
        w.last_key = Some(last);
        Ok(Some(Appended {
            batch: number,
            first,
            last,
            count,
        }))
    }

    /// Makes everything appended so far durable; returns the bytes sled wrote.
    pub fn flush(&self) -> Result<usize, StoreError> {
        let t = self.trees()?;
        let batches = lock(&self.writer).next_batch;
        let n = t.db.flush().map_err(|e| self.note(e.into()))?;
        self.mark_batches(batches, false);
        Ok(n)
    }

    /// Records in the format file that `batches` batches are durable, at most once a second
    /// (a rename per group commit would cost the writer): a later open that finds fewer knows
    /// the files were cut. A failure to write it only weakens that check, so it is logged by
    /// no one and retried at the next flush.
    fn mark_batches(&self, batches: u64, now: bool) {
        let mut m = lock(&self.marker);
        if batches <= m.0 || (!now && m.1.elapsed() < std::time::Duration::from_secs(1)) {
            return;
        }
        let format = if self.cfg.format_1 { 1 } else { STORE_FORMAT };
        let marker = Marker {
            format,
            batches: Some(batches),
        };
        if write_format_file(&self.path, marker).is_ok() {
            *m = (batches, std::time::Instant::now());
        }
    }

    /// Events stored per dataset. Never waits behind a commit.
    pub fn counts(&self) -> Counts {
        let counts = lock(&self.shared).counts;
        let by_dataset: Vec<(Dataset, u64)> = Dataset::ALL
            .iter()
            .zip(counts)
            .map(|(d, n)| (*d, n))
            .collect();
        let total = by_dataset.iter().map(|(_, n)| n).sum();
        Counts { by_dataset, total }
    }

    /// Bytes of records and index entries currently stored (what size retention counts).
    /// Never waits behind a commit.
    pub fn live_bytes(&self) -> u64 {
        lock(&self.shared).live_bytes
    }

    /// The store's size on disk in bytes, as sled reports it.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        let t = self.trees()?;
        t.db.size_on_disk().map_err(|e| self.note(e.into()))
    }

    /// The hash at the head of the evidence chain (record it elsewhere to detect a rewrite of
    /// the whole chain).
    /// Never waits behind a commit.
    pub fn head(&self) -> Hash {
        lock(&self.shared).head
    }
}

/// The keys of the next append's events in order: see [`Store::key_cursor`].
#[derive(Clone, Copy, Debug)]
pub struct KeyCursor {
    last: Option<EventKey>,
}

impl KeyCursor {
    /// The key of the next event pushed, received at `received_ns`.
    pub fn next(&mut self, received_ns: u64) -> EventKey {
        let key = next_key(self.last, received_ns);
        self.last = Some(key);
        key
    }
}

/// The key of an event received at `received_ns` after the event keyed `last`: strictly
/// increasing whatever the clock did.
fn next_key(last: Option<EventKey>, received_ns: u64) -> EventKey {
    match last {
        Some(prev) if received_ns <= prev.time_ns => prev.next(),
        _ => EventKey::at(received_ns),
    }
}

/// Removes the snapshots sled began and never finished (`snap.*.generating`), and says how
/// many there were.
///
/// sled 0.34 writes a snapshot to `snap.LSN.generating` and renames it when complete, but
/// reads the last `snap.*` file whatever its suffix: one cut short (by a full disk) makes
/// every later open fail with "Read corrupted data" although the log is intact. Called only
/// after such a failure, when this process held the lock (sled takes it before it reads
/// the snapshot), so no other process is writing one. Without it the snapshot is rebuilt
/// from the log.
fn remove_unfinished_snapshots(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.")
            && name.ends_with(".generating")
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// sled could not take the directory's lock (another handle on it is still alive).
fn is_lock_busy(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}
