//! The sensor's trees, opaque to the store: `incidents` (candidate key → candidate) and
//! `changes` (change number, big-endian u64 → change record). Written in the transaction of
//! the batch whose events caused them ([`Store::append_with`]) or alone
//! ([`Store::write_incidents`]); retention never touches them, so a candidate outlives the
//! raw events it came from.
//!
//! Change numbers start at 1 and only grow, across restarts and [`Store::clear_incidents`]:
//! the next number is one past the last key of `changes`, or what `meta` kept when the log
//! was cleared, whichever is higher. A watcher's cursor therefore never names a different
//! change.

use std::sync::Arc;

use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError, TransactionalTree, UnabortableTransactionError,
};

use crate::error::StoreError;
use crate::logbook;
use crate::{Store, Trees, lock, meta_key, tx_err};

/// Incident writes that go into the same transaction as a batch (or alone).
#[derive(Clone, Debug, Default)]
pub struct IncidentWrites {
    /// Candidates to store: (key, value), replacing what the key held.
    pub put: Vec<(Vec<u8>, Vec<u8>)>,
    /// Change records to append to the change log, in order; the store numbers them.
    pub changes: Vec<Vec<u8>>,
    /// Candidates to delete (after the puts), e.g. a name's candidate merged into an
    /// address's.
    pub remove: Vec<Vec<u8>>,
    /// The caller's checkpoint, kept in `meta` with these writes (the sensor's: the key of
    /// the last event every stored candidate has seen).
    pub checkpoint: Option<Vec<u8>>,
    /// Actions to append to the logbook, in order, in the same transaction (the store numbers
    /// and chains them; see [`Store::logbook_append`] for one alone).
    pub logbook: Vec<crate::LogbookAction>,
}

impl IncidentWrites {
    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.put.is_empty()
            && self.changes.is_empty()
            && self.remove.is_empty()
            && self.checkpoint.is_none()
            && self.logbook.is_empty()
    }

    /// Empties every list, keeping their memory.
    pub fn clear(&mut self) {
        self.put.clear();
        self.changes.clear();
        self.remove.clear();
        self.checkpoint = None;
        self.logbook.clear();
    }
}

/// The `changes` key of change `n`.
fn change_key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// The change number a `changes` key names.
pub(crate) fn change_number(k: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(k.try_into().ok()?))
}

/// Writes `w` inside a transaction: candidates into `cand`, change records into `log` from
/// number `first_change` on, deletions, and the new candidate count (`count` before) into
/// `meta`. Returns the new count.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_tx(
    cand: &TransactionalTree,
    log: &TransactionalTree,
    meta: &TransactionalTree,
    book: &TransactionalTree,
    w: &IncidentWrites,
    entries: &logbook::Prepared,
    first_change: u64,
    count: u64,
) -> Result<u64, UnabortableTransactionError> {
    logbook::write_tx(book, entries)?;
    let mut added = 0u64;
    for (k, v) in &w.put {
        if cand.insert(k.as_slice(), v.as_slice())?.is_none() {
            added += 1;
        }
    }
    for (n, c) in (first_change..).zip(&w.changes) {
        log.insert(&change_key(n)[..], c.as_slice())?;
    }
    let mut removed = 0u64;
    for k in &w.remove {
        if cand.remove(k.as_slice())?.is_some() {
            removed += 1;
        }
    }
    if let Some(c) = &w.checkpoint {
        meta.insert(meta_key::INCIDENTS_THROUGH, c.as_slice())?;
    }
    let now = (count + added).saturating_sub(removed);
    if now != count {
        meta.insert(meta_key::INCIDENT_COUNT, &now.to_be_bytes()[..])?;
    }
    Ok(now)
}

/// A walk over one of the sensor's trees that holds no lock between items and lets go of
/// the sled handle when the store fails (as scans do), so that [`Store::recover`] can reopen.
struct Walk<'a> {
    store: &'a Store,
    failures: u64,
    /// The handle and the sled iterator, or the error still to report (once).
    state: Result<(Arc<Trees>, sled::Iter), Option<StoreError>>,
}

impl<'a> Walk<'a> {
    fn new(store: &'a Store, iter: impl FnOnce(&Trees) -> sled::Iter) -> Walk<'a> {
        let failures = store.failures();
        let state = match store.trees() {
            Ok(t) => {
                let it = iter(&t);
                Ok((t, it))
            }
            Err(e) => Err(Some(e)),
        };
        Walk {
            store,
            failures,
            state,
        }
    }
}

impl Iterator for Walk<'_> {
    type Item = Result<(sled::IVec, sled::IVec), StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.state.is_ok() && self.store.failures() != self.failures {
            // The store was closed by an I/O error: let go of the old handle.
            self.state = Err(None);
            return Some(Err(StoreError::NeedsRecovery));
        }
        let (_, it) = match &mut self.state {
            Ok(s) => s,
            Err(e) => return e.take().map(Err),
        };
        match it.next() {
            Some(Ok(kv)) => Some(Ok(kv)),
            Some(Err(e)) => {
                self.state = Err(None);
                Some(Err(self.store.note(e.into())))
            }
            None => {
                self.state = Err(None);
                None
            }
        }
    }
}

impl Store {
    /// Incident writes alone, in one transaction (marks, block expiry); returns the sequence
    /// number of the last change written, if any. Nothing to write: `Ok(None)`, without a
    /// transaction.
    pub fn write_incidents(&self, w: &IncidentWrites) -> Result<Option<u64>, StoreError> {
        let mut ws = lock(&self.writer);
        self.write_incidents_locked(&mut ws.next_change, w)
            .map_err(|e| self.note(e))
    }

    fn write_incidents_locked(
        &self,
        next_change: &mut u64,
        w: &IncidentWrites,
    ) -> Result<Option<u64>, StoreError> {
        let t = self.trees()?;
        if w.is_empty() {
            return Ok(None);
        }
        let first = *next_change;
        let (count, head) = {
            let s = lock(&self.shared);
            (s.incident_count, s.logbook_head)
        };
        let entries = logbook::prepare(&w.logbook, head)?;
        let now = (&t.incidents, &t.changes, &t.meta, &t.logbook)
            .transaction(|(cand, log, me, book)| {
                let now = write_tx(cand, log, me, book, w, &entries, first, count)?;
                Ok::<_, ConflictableTransactionError<StoreError>>(now)
            })
            .map_err(tx_err)?;
        *next_change = first + w.changes.len() as u64;
        let last = next_change.checked_sub(1).filter(|_| !w.changes.is_empty());
        let mut s = lock(&self.shared);
        s.incident_count = now;
        s.logbook_head = entries.head;
        if last.is_some() {
            s.last_change = last;
        }
        Ok(last)
    }

    /// One stored candidate.
    pub fn incident(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let t = self.trees()?;
        t.incidents
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| self.note(e.into()))
    }

    /// The checkpoint last written with [`IncidentWrites::checkpoint`].
    pub fn incidents_checkpoint(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let t = self.trees()?;
        t.meta
            .get(meta_key::INCIDENTS_THROUGH)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| self.note(e.into()))
    }

    /// Every stored candidate, in key order. No lock is held between items, so writes go on
    /// during the walk (it sees each key once, with the value it held when reached); after an
    /// I/O error it yields [`StoreError::NeedsRecovery`] and ends.
    pub fn incidents(&self) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + '_ {
        Walk::new(self, |t| t.incidents.iter()).map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())))
    }

    /// Stored candidates. Never waits behind a commit.
    pub fn incident_count(&self) -> u64 {
        lock(&self.shared).incident_count
    }

    /// Change records after `after` (None: from the first), oldest first, with their numbers:
    /// a watcher that kept the number of the last change it handled asks for what came after
    /// it and misses nothing (numbers are never reused, see [`Store::last_change`]). No lock
    /// is held between items; records committed during the walk may or may not be seen (ask
    /// again from the last number returned).
    pub fn changes_after(
        &self,
        after: Option<u64>,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + '_ {
        let start = match after {
            None => Some(0),
            Some(n) => n.checked_add(1),
        };
        Walk::new(self, move |t| match start {
            Some(s) => t.changes.range(change_key(s)..),
            // After u64::MAX: nothing (an empty range).
            None => t.changes.range(change_key(0)..change_key(0)),
        })
        .map(|r| {
            let (k, v) = r?;
            let n = change_number(&k).ok_or_else(|| StoreError::Meta("bad change key".into()))?;
            Ok((n, v.to_vec()))
        })
    }

    /// The number of the last change record written, if any. It stays when
    /// [`Store::clear_incidents`] removes the records, so that the next change gets a higher
    /// number and `changes_after(last_change())` is what is new from now on. Never waits
    /// behind a commit.
    pub fn last_change(&self) -> Option<u64> {
        lock(&self.shared).last_change
    }

    /// Removes every candidate and change record (for a rebuild), in one transaction.
    /// Change numbering goes on where it was: the next change gets a number no cursor has seen.
    pub fn clear_incidents(&self) -> Result<(), StoreError> {
        let w = lock(&self.writer);
        self.clear_locked(w.next_change).map_err(|e| self.note(e))
    }

    fn clear_locked(&self, next_change: u64) -> Result<(), StoreError> {
        let t = self.trees()?;
        let mut cand_del = sled::Batch::default();
        for k in t.incidents.iter().keys() {
            cand_del.remove(k?);
        }
        let mut log_del = sled::Batch::default();
        for k in t.changes.iter().keys() {
            log_del.remove(k?);
        }
        (&t.incidents, &t.changes, &t.meta)
            .transaction(|(cand, log, me)| {
                cand.apply_batch(&cand_del)?;
                log.apply_batch(&log_del)?;
                me.insert(meta_key::CHANGES_NEXT, &next_change.to_be_bytes()[..])?;
                me.insert(meta_key::INCIDENT_COUNT, &0u64.to_be_bytes()[..])?;
                me.remove(meta_key::INCIDENTS_THROUGH)?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(tx_err)?;
        lock(&self.shared).incident_count = 0;
        Ok(())
    }
}
