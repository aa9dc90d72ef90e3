//! Retention: delete whole batches, oldest first, from every tree in one transaction each,
//! and move the chain anchor so that `verify` still passes afterwards.

use std::time::Duration;

use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use crate::block::{self, BlockView};
use crate::chain::{self, ChainEntry};
use crate::error::StoreError;
use crate::{Store, encode_counts, index, meta_key, record, tx_err};

/// What to keep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// Delete batches whose newest event is older than this.
    pub max_age: Option<Duration>,
    /// Delete oldest batches while stored record and index bytes exceed this.
    pub max_bytes: Option<u64>,
}

/// What retention removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Batches removed.
    pub batches: u64,
    /// Events removed.
    pub events: u64,
}

impl Store {
    /// Applies `policy` as of `now_ns` (Unix nanoseconds).
    pub fn apply_retention(
        &self,
        policy: &Retention,
        now_ns: u64,
    ) -> Result<RetentionReport, StoreError> {
        self.retention(policy, now_ns).map_err(|e| self.noted(e))
    }

    fn retention(&self, policy: &Retention, now_ns: u64) -> Result<RetentionReport, StoreError> {
        let _m = self.lock_maintenance();
        let t = self.open_trees()?;
        let mut report = RetentionReport::default();
        let mut removed_through = None;
        if policy.max_age.is_none() && policy.max_bytes.is_none() {
            return Ok(report);
        }
        let cutoff = policy
            .max_age
            .map(|a| now_ns.saturating_sub(u64::try_from(a.as_nanos()).unwrap_or(u64::MAX)));
        loop {
            let _w = self.lock_writer();
            let Some((k, v)) = t.chain.first()? else {
                break;
            };
            let number =
                chain::batch_number(&k).ok_or_else(|| StoreError::Meta("bad chain key".into()))?;
            let entry = ChainEntry::from_bytes(&v)
                .ok_or_else(|| StoreError::Meta(format!("bad chain entry {number}")))?;
            let too_old = cutoff.is_some_and(|c| entry.last.time_ns < c);
            let (mut counts, live_bytes) = {
                let s = self.lock_shared();
                (s.counts, s.live_bytes)
            };
            let too_big = policy.max_bytes.is_some_and(|m| live_bytes > m);
            if !too_old && !too_big {
                break;
            }
            // Collect the batch's blocks, its sources' index keys, and the counts to take off.
            let mut ev_del = sled::Batch::default();
            let mut n = 0u64;
            for item in t
                .events
                .range(entry.first.to_bytes()..=entry.last.to_bytes())
            {
                let (bk, block) = item?;
                ev_del.remove(bk);
                let Ok(layout) = block::unpack(&block) else {
                    continue;
                };
                let Ok(view) = BlockView::new(&layout) else {
                    continue;
                };
                for i in 0..view.len() {
                    let Ok((_, rec)) = view.get(i) else { continue };
                    n += 1;
                    if let Ok(ev) = record::decode(rec)
                        && let Some(c) = counts.get_mut(ev.dataset as usize)
                    {
                        *c = c.saturating_sub(1);
                    }
                }
            }
            let live = live_bytes.saturating_sub(entry.bytes);
            let anchor = chain::anchor_to_bytes(number, &entry.hash);
            let counts_bytes = encode_counts(&counts);
            (&t.events, &t.chain, &t.meta)
                .transaction(|(ev, ch, me)| {
                    ev.apply_batch(&ev_del)?;
                    ch.remove(&k)?;
                    me.insert(meta_key::ANCHOR, &anchor[..])?;
                    me.insert(meta_key::COUNTS, &counts_bytes[..])?;
                    me.insert(meta_key::LIVE_BYTES, &live.to_le_bytes()[..])?;
                    Ok::<_, ConflictableTransactionError<StoreError>>(())
                })
                .map_err(tx_err)?;
            {
                let mut s = self.lock_shared();
                s.counts = counts;
                s.live_bytes = live;
            }
            report.batches += 1;
            report.events += n;
            removed_through = Some(entry.last);
        }
        if let Some(k) = removed_through {
            self.drop_index_through(&t, k)?;
        }
        Ok(report)
    }

    /// Removes index runs (and pending entries) that cover only removed events.
    fn drop_index_through(
        &self,
        t: &crate::Trees,
        k: crate::key::EventKey,
    ) -> Result<(), StoreError> {
        let _w = self.lock_writer();
        let (gone, kept): (Vec<index::Run>, Vec<index::Run>) = {
            let mut s = self.lock_shared();
            s.pending.retain(|e| e.event > k);
            s.runs.iter().partition(|r| r.last <= k)
        };
        if gone.is_empty() {
            return Ok(());
        }
        let mut del = sled::Batch::default();
        for r in &gone {
            for item in t.by_source.scan_prefix(r.id.to_be_bytes()) {
                let (key, _) = item?;
                del.remove(key);
            }
        }
        let runs_bytes = index::runs_to_bytes(&kept);
        (&t.by_source, &t.meta)
            .transaction(|(idx, me)| {
                idx.apply_batch(&del)?;
                me.insert(meta_key::INDEX_RUNS, &runs_bytes[..])?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(tx_err)?;
        self.lock_shared().runs = kept;
        Ok(())
    }
}
