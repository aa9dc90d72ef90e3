//! The single writer: collects messages into batches (by size or by the flush interval),
//! parses and stores each batch on a blocking thread, and flushes the store at least once per
//! interval. When every sender is gone it stores what is left and returns.

use std::sync::Arc;
use std::time::Instant;

use picket_parsers::{ParseContext, parse_line};
use picket_store::{Batch, Store};
use tokio::sync::mpsc;

use super::{Message, ServeConfig, Stats};
use crate::error::Error;

/// Runs the writer; returns how many messages it stored.
pub async fn run(
    mut rx: mpsc::Receiver<Message>,
    store: Arc<Store>,
    stats: Arc<Stats>,
    cfg: ServeConfig,
    tail: tokio::sync::broadcast::Sender<crate::query::TailItem>,
) -> Result<u64, Error> {
    let mut pending: Vec<Message> = Vec::with_capacity(cfg.batch_events);
    let mut batch = Batch::new();
    let mut stored = 0u64;
    let mut since = Instant::now();
    let mut open = true;
    while open || !pending.is_empty() {
        if open {
            let left = cfg.flush_interval.saturating_sub(since.elapsed());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some(m)) => {
                    publish(&tail, &m);
                    pending.push(m);
                }
                Ok(None) => open = false,
                Err(_) => {}
            }
            while pending.len() < cfg.batch_events {
                match rx.try_recv() {
                    Ok(m) => {
                        publish(&tail, &m);
                        pending.push(m);
                    }
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
        }
        let due =
            pending.len() >= cfg.batch_events || since.elapsed() >= cfg.flush_interval || !open;
        if !due {
            continue;
        }
        since = Instant::now();
        if pending.is_empty() {
            continue;
        }
        // The batch and the message buffer go to the blocking thread and come back, so their
        // memory is reused from one batch to the next.
        let store2 = store.clone();
        let taken = std::mem::take(&mut pending);
        let tz = cfg.time_zone;
        let (back, b, r) = tokio::task::spawn_blocking(move || {
            let r = commit(&store2, &taken, &mut batch, tz);
            (taken, batch, r)
        })
        .await
        .map_err(|e| Error::Usage(format!("writer thread failed: {e}")))?;
        batch = b;
        let n = r.map_err(|source| Error::Store {
            dir: cfg.data.clone(),
            source,
        })?;
        stored += n;
        stats
            .stored
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        pending = back;
        pending.clear();
    }
    Ok(stored)
}

/// Hands a message to live subscribers as soon as the writer has it (a tail should not wait
/// for the flush interval); without subscribers this costs one atomic load.
fn publish(tail: &tokio::sync::broadcast::Sender<crate::query::TailItem>, m: &Message) {
    if tail.receiver_count() > 0 {
        let _ = tail.send(crate::query::TailItem {
            bytes: m.bytes.clone(),
            received_ns: m.received_ns,
        });
    }
}

/// Parses, stores and flushes one batch.
fn commit(
    store: &Store,
    msgs: &[Message],
    batch: &mut Batch,
    time_zone: i32,
) -> Result<u64, picket_store::StoreError> {
    batch.clear();
    let ctx = ParseContext::new(picket_parsers::Timestamp::now().secs).with_offset(time_zone);
    for m in msgs {
        batch.push(&parse_line(&m.bytes, &ctx), m.received_ns);
    }
    store.append(batch)?;
    store.flush()?;
    Ok(msgs.len() as u64)
}
