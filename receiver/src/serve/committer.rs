//! The store half of the writer, on a thread of its own: appends each prepared batch (its
//! events and the candidate writes folded from them, in one sled transaction) and flushes
//! it, acknowledges its RELP messages and counts it in `stats`, while the writer thread
//! parses and folds the next batch.
//!
//! Why a second thread: the writer's work per message is the parse and the sensor's fold on
//! one side, the append (records, indexes, the evidence chain) and the flush on the other;
//! in one thread each waited for the other, so the sensor's fold came straight off the
//! ingest rate (bench/README.md, session 10). One batch is in flight at a time: the writer
//! waits for it before it hands over the next one, and before anything else it writes
//! (marks, settles, contacts, an import), so the store sees every write in the writer's
//! order. Events keep the keys the writer folded them with: the writer carries its
//! [`KeyCursor`](picket_store::KeyCursor) from one batch to the next, there being no other
//! appender. A candidate the fold brings back while its latest form is still in flight is
//! read from the batch in flight ([`Sensor::set_in_flight`](crate::sense::Sensor)).
//!
//! A store error is retried here with back-off, as the writer did it (see writer.rs); the
//! writer learns a fatal one when it waits for the batch, and stops.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use picket_store::{Batch, EventKey, IncidentWrites, StoreError};
use tokio::sync::mpsc;

use super::writer::{WriterParts, acknowledge, panic_message, publish_changes};
use crate::clock::now_ns;
use crate::error::Error;
use crate::message::Message;

/// A batch parsed and folded, for the store thread.
pub struct Prepared {
    /// The messages (for their acknowledgements).
    pub msgs: Vec<Message>,
    /// Their parsed events.
    pub batch: Batch,
    /// The candidate writes that go with them.
    pub writes: Arc<IncidentWrites>,
    /// Whether a RELP sender waits for some of them.
    pub acks: bool,
    /// The key the writer gave the first event when it folded them.
    pub first_key: Option<EventKey>,
}

/// A batch back from the store thread: its buffers, emptied for reuse, and how it went.
pub struct Stored {
    /// The messages' vector, empty.
    pub msgs: Vec<Message>,
    /// The batch, to be cleared and reused.
    pub batch: Batch,
    /// How many messages the batch held.
    pub count: usize,
    /// The messages stored, or why none were.
    pub result: Result<u64, Error>,
}

/// The handle on the store thread.
pub struct Committer {
    jobs: mpsc::Sender<Prepared>,
    done: mpsc::Receiver<Stored>,
    in_flight: bool,
    /// The batch in flight, back already ([`Committer::landed`] saw it).
    back: Option<Stored>,
    thread: std::thread::JoinHandle<()>,
}

impl Committer {
    /// Starts the store thread.
    pub fn spawn(parts: WriterParts, data: PathBuf) -> Result<Committer, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| Error::Usage(format!("cannot start the store thread: {e}")))?;
        let (jobs_tx, mut jobs) = mpsc::channel::<Prepared>(1);
        let (done_tx, done) = mpsc::channel::<Stored>(1);
        let thread = std::thread::Builder::new()
            .name("picket-store".into())
            .spawn(move || {
                while let Some(job) = jobs.blocking_recv() {
                    let count = job.msgs.len();
                    // sled 0.34 panics on some damaged pages instead of returning an error:
                    // that is a fatal store error, reported to the writer like any other.
                    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        rt.block_on(store_job(job, &parts, &data))
                    }))
                    .unwrap_or_else(|panic| {
                        let error =
                            format!("the store thread crashed ({})", panic_message(&*panic));
                        parts.stats.writer.failed(&error, true, now_ns());
                        Stored {
                            msgs: Vec::new(),
                            batch: Batch::new(),
                            count,
                            result: Err(Error::Usage(error)),
                        }
                    });
                    let fatal = out.result.is_err();
                    if done_tx.blocking_send(out).is_err() || fatal {
                        break;
                    }
                }
            })
            .map_err(|e| Error::Usage(format!("cannot start the store thread: {e}")))?;
        Ok(Committer {
            jobs: jobs_tx,
            done,
            in_flight: false,
            back: None,
            thread,
        })
    }

    /// True when no batch is in flight.
    pub fn is_idle(&self) -> bool {
        !self.in_flight
    }

    /// True when no batch is in flight or the one in flight is back (without waiting).
    pub fn landed(&mut self) -> bool {
        if !self.in_flight || self.back.is_some() {
            return true;
        }
        match self.done.try_recv() {
            Ok(s) => {
                self.back = Some(s);
                true
            }
            // Gone: `wait` reports it.
            Err(mpsc::error::TryRecvError::Disconnected) => true,
            Err(mpsc::error::TryRecvError::Empty) => false,
        }
    }

    /// Returns when no batch is in flight or the one in flight is back (cancel-safe: a
    /// batch that came back is kept for [`Committer::wait`]).
    pub async fn until_landed(&mut self) {
        if !self.in_flight || self.back.is_some() {
            return;
        }
        self.back = Some(self.done.recv().await.unwrap_or_else(ended));
    }

    /// Hands `job` to the store thread. The batch before it must have been waited for
    /// ([`Committer::wait`]): one is in flight at a time. If the thread has ended, says how
    /// many messages the job held.
    pub async fn send(&mut self, job: Prepared) -> Result<(), usize> {
        match self.jobs.send(job).await {
            Ok(()) => {
                self.in_flight = true;
                Ok(())
            }
            Err(mpsc::error::SendError(job)) => Err(job.msgs.len()),
        }
    }

    /// Waits for the batch in flight, if there is one, and gives it back.
    pub async fn wait(&mut self) -> Option<Stored> {
        if !self.in_flight {
            return None;
        }
        self.in_flight = false;
        if let Some(back) = self.back.take() {
            return Some(back);
        }
        Some(self.done.recv().await.unwrap_or_else(ended))
    }

    /// Ends the store thread (after the last batch was waited for).
    pub fn finish(self) {
        let Committer { jobs, thread, .. } = self;
        drop(jobs);
        let _ = thread.join();
    }
}

/// What the writer gets when the store thread ended without giving a batch back.
fn ended() -> Stored {
    Stored {
        msgs: Vec::new(),
        batch: Batch::new(),
        count: 0,
        result: Err(Error::Usage(
            "the store thread ended without a result".into(),
        )),
    }
}

/// Stores one prepared batch, acknowledges and counts it.
async fn store_job(mut job: Prepared, parts: &WriterParts, data: &std::path::Path) -> Stored {
    let started = Instant::now();
    let count = job.msgs.len();
    if let (Some(expected), Some(first)) = (job.first_key, job.msgs.first())
        && parts.store.key_cursor().next(first.received_ns) != expected
    {
        // Only after a recovery that lost batches: the candidates' references to these
        // events point a few keys off until a rebuild.
        tracing::warn!("the store's keys moved under the writer (after a recovery)");
    }
    let result = match store_batch(&job.batch, &job.writes, parts).await {
        Ok(()) => {
            let n = count as u64;
            // A retried commit counts with its back-off: that is how long it held the batch.
            parts.stats.commits.record(
                u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                n,
            );
            if job.acks {
                acknowledge(&job.msgs);
            }
            parts
                .stats
                .stored
                .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            job.msgs.clear();
            Ok(n)
        }
        Err(source) => Err(Error::Store {
            dir: data.to_path_buf(),
            source,
        }),
    };
    Stored {
        msgs: job.msgs,
        batch: job.batch,
        count,
        result,
    }
}

/// Appends the batch with its candidate writes and flushes it, retrying what can be
/// retried, then publishes the changes to `watch`. A retry first recovers the store (sled
/// refuses every write after an I/O error until it is reopened), and the recovered store's
/// batch count tells whether the failed batch had become durable after all, so that it is
/// never stored twice.
pub async fn store_batch(
    batch: &Batch,
    writes: &IncidentWrites,
    parts: &WriterParts,
) -> Result<(), StoreError> {
    let store = &parts.store;
    let status = &parts.stats.writer;
    let before = store.next_batch();
    let mut backoff = Duration::from_millis(100);
    let mut last_try = false;
    let mut retry = false;
    loop {
        let r = if retry {
            store.recover().and_then(|()| {
                if store.next_batch() > before {
                    Ok(()) // it was stored before the failure was reported
                } else {
                    store
                        .append_with(batch, writes)
                        .and_then(|_| store.flush())
                        .map(|_| ())
                }
            })
        } else {
            store
                .append_with(batch, writes)
                .and_then(|_| store.flush())
                .map(|_| ())
        };
        match r {
            Ok(()) => {
                if !status.is_healthy() {
                    status.recovered(now_ns());
                }
                publish_changes(writes, parts);
                return Ok(());
            }
            Err(e) if e.is_retryable() && !last_try => {
                status.failed(&e.to_string(), false, now_ns());
                retry = true;
                tokio::select! {
                    _ = parts.stop.cancelled() => last_try = true,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                status.failed(&e.to_string(), true, now_ns());
                return Err(e);
            }
        }
    }
}
