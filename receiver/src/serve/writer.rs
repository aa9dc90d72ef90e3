//! The single writer, on a thread of its own: collects messages into batches (by size or by
//! the flush interval), parses them, folds them into the sensor, and hands each batch to its
//! store thread (serve/committer.rs), which appends and flushes it while this thread
//! prepares the next. A batch holding a RELP message is stored as soon as the queue is empty
//! (group commit: whatever arrived during the previous flush goes in one batch), and after
//! its flush each RELP connection is told the highest of its messages now durable, so that
//! it acknowledges them. It never shares a thread pool with query scans, so no number of
//! query clients can hold it up.
//!
//! Supervision: when the store refuses a write, the store thread keeps the batch and tells
//! [`WriterStatus`](crate::stats::WriterStatus), which logs it once, shows it in `stats` and
//! pauses the listeners. A full disk (or another error that space or time can cure) is
//! retried with back-off, 100 ms doubling to 5 s, each retry after `Store::recover`, until it
//! succeeds: serve resumes by itself.
//! Anything else (corruption, a store format it cannot read) is fatal: the writer cancels
//! `fatal` and returns the error, and `serve` exits non-zero. On shutdown a writer that is
//! still retrying tries once more and then gives up, saying how many messages were lost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use picket_parsers::{ParseContext, parse_line, parse_line_into};
use picket_store::{Batch, EventKey, IncidentWrites, KeyCursor, Store};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::committer::{Committer, Prepared, store_batch};
use super::intake::{Next, Outlet};
use crate::clock::now_ns;
use crate::error::Error;
use crate::message::{Message, WriterCommand};
use crate::sense::{MarkError, MarkRequest, Sensor, SensorRequest, WatchItem};
use crate::stats::Stats;

/// How the writer batches.
#[derive(Debug, Clone)]
pub struct WriterSettings {
    /// Most messages in one batch.
    pub batch_events: usize,
    /// Longest time a message waits before it is stored.
    pub flush_interval: Duration,
    /// Zone of stamps that name none, seconds east of UTC.
    pub time_zone: i32,
    /// The data directory (for error messages).
    pub data: std::path::PathBuf,
}

/// What the writer thread needs besides its queue (its store thread gets a copy).
#[derive(Clone)]
pub struct WriterParts {
    /// The store (recovered here after a write failure).
    pub store: Arc<Store>,
    /// Counters and health.
    pub stats: Arc<Stats>,
    /// Live subscribers.
    pub tail: broadcast::Sender<Message>,
    /// Cancelled when serve stops: a writer that is retrying gives up.
    pub stop: CancellationToken,
    /// Cancelled by the writer when it cannot go on: serve stops.
    pub fatal: CancellationToken,
    /// Published candidate changes, numbered as the store numbered them (for `watch`).
    pub watch: broadcast::Sender<WatchItem>,
}

/// Writes the query socket asks of the writer besides the sensor's: cached abuse contacts.
pub struct WriterRequests {
    /// Contacts the `contact` op looked up, to cache.
    pub contacts: mpsc::Receiver<crate::contact::ContactWrite>,
    /// Maintenance that goes through the writer (an import's chunks).
    pub commands: mpsc::Receiver<WriterCommand>,
}

/// The sensor as the writer runs it: the book and the marks that reach it.
pub struct WriterSensor {
    /// The book and its store glue.
    pub sensor: Sensor,
    /// Requests from the query socket (marks, the by-target view).
    pub requests: mpsc::Receiver<SensorRequest>,
}

/// A running writer.
pub struct WriterHandle {
    done: oneshot::Receiver<Result<u64, Error>>,
    thread: std::thread::JoinHandle<()>,
}

impl WriterHandle {
    /// Waits until the writer has stored what it could and ended; how many messages it stored.
    pub async fn finish(self) -> Result<u64, Error> {
        let r = self
            .done
            .await
            .map_err(|_| Error::Usage("the writer thread ended without a result".into()));
        // The thread has sent its result; it ends right after.
        let _ = self.thread.join();
        r?
    }
}

/// Starts the writer thread. It returns when every sender of `rx` is gone and everything
/// queued is stored (or, on a fatal error or a shutdown during a failure, at once).
pub fn spawn(
    rx: Outlet,
    settings: WriterSettings,
    parts: WriterParts,
    sensor: Option<WriterSensor>,
    requests: WriterRequests,
) -> Result<WriterHandle, Error> {
    let (tx, done) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("picket-writer".into())
        .spawn(move || {
            // The writer runs at the listeners' priority. It once ran at nice +10, so that on a
            // shared CPU the listeners drained their sockets first; but nice is weighed against
            // every process on the machine, and beside one busy process at nice 0 the writer got
            // a tenth of the CPU and the queue overflowed (bench/LOAD.md, session 6). UDP now
            // has threads of its own, which is what the nice was for.
            // A panic here (sled 0.34 panics on some damaged pages instead of returning an
            // error) must not leave serve running with no writer, its senders waiting for
            // ever: it is a fatal store error, logged, shown in `stats`, and serve stops.
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                {
                    Ok(rt) => rt.block_on(run(rx, &settings, &parts, sensor, requests)),
                    Err(e) => Err(Error::Usage(format!("cannot start the writer: {e}"))),
                }
            }))
            .unwrap_or_else(|panic| {
                let error = format!("the writer crashed ({})", panic_message(&*panic));
                parts
                    .stats
                    .writer
                    .failed(&error, true, crate::clock::now_ns());
                Err(Error::Usage(error))
            });
            if r.is_err() {
                parts.fatal.cancel();
            }
            let _ = tx.send(r);
        })
        .map_err(|e| Error::Usage(format!("cannot start the writer thread: {e}")))?;
    Ok(WriterHandle { done, thread })
}

async fn run(
    mut rx: Outlet,
    settings: &WriterSettings,
    parts: &WriterParts,
    mut sensor: Option<WriterSensor>,
    mut requests: WriterRequests,
) -> Result<u64, Error> {
    let mut pending: Vec<Message> = Vec::with_capacity(settings.batch_events);
    let mut batch = Batch::new();
    let mut writes = IncidentWrites::default();
    let mut stored = 0u64;
    let mut since = Instant::now();
    let mut expired_at = Instant::now();
    let mut flushed_at = Instant::now();
    let mut trimmed_at = Instant::now();
    let mut stored_at_trim = 0u64;
    let mut open = true;
    // A RELP sender waits for its acknowledgement: its batch is stored at once (group commit).
    let mut acks_waiting = false;
    // After a crash the candidates lag behind the stored events by up to a flush: fold
    // those events again before taking new ones.
    if let Some(s) = sensor.as_mut() {
        match s.sensor.replay(&parts.store, &mut writes) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                events = n,
                "candidates brought up to date with the stored events"
            ),
            Err(e) => tracing::warn!("candidates not brought up to date: {e}"),
        }
        write_alone(&mut writes, parts);
    }
    let mut committer = Committer::spawn(parts.clone(), settings.data.clone())?;
    // The keys the next batch's events will get, carried across the batch in flight.
    let mut keys: Option<KeyCursor> = None;
    // Buffers of batches the store thread gave back, for the next ones.
    let mut spare: Vec<(Vec<Message>, Batch)> = Vec::new();
    // Before anything the writer writes or reads besides a batch, the batch in flight lands.
    // `also`: messages besides those gathered and queued that a failure now loses.
    macro_rules! land {
        () => {
            land!(0)
        };
        ($also:expr) => {
            land(
                &mut committer,
                &mut sensor,
                &mut stored,
                &mut spare,
                $also + pending.len() as u64 + rx.queued(),
            )
            .await?
        };
    }
    let mut busy = false;
    while open || !pending.is_empty() {
        if open {
            let left = settings.flush_interval.saturating_sub(since.elapsed());
            let marks = async {
                match sensor.as_mut() {
                    Some(s) => s.requests.recv().await,
                    None => std::future::pending().await,
                }
            };
            // Busy, the writer looks at the queue every POLL instead of being woken for each
            // parcel: a listener then never pays for waking it (a futex call and a context
            // switch per read, on the CPU the listener needs to drain its socket). Idle, it
            // waits for the next parcel, so an idle server does not wake up for nothing.
            // A RELP batch waits for the one in flight to land: what arrives during that
            // flush goes in with it, as in a group commit.
            let ack_wait = acks_waiting && !committer.is_idle();
            let landing = &mut committer;
            let wait = async {
                if ack_wait {
                    tokio::select! {
                        r = rx.recv() => Some(r),
                        () = landing.until_landed() => None,
                        () = tokio::time::sleep(left) => None,
                    }
                } else if busy {
                    tokio::time::sleep(left.min(POLL)).await;
                    None
                } else {
                    tokio::time::timeout(left, rx.recv()).await.ok()
                }
            };
            tokio::select! {
                r = wait => match r {
                    Some(Some(msgs)) => acks_waiting |= take(&parts.tail, &mut pending, msgs),
                    Some(None) => open = false,
                    None => {}
                },
                Some(req) = marks => {
                    land!();
                    if let Some(s) = sensor.as_mut() {
                        match req {
                            SensorRequest::Mark(req) => mark(s, req, parts, &mut writes),
                            SensorRequest::Resolved { source, addr } => {
                                s.sensor.resolved(&parts.store, source, addr, &mut writes);
                                write_alone(&mut writes, parts);
                            }
                            SensorRequest::Targets { min_sources, reply } => {
                                let _ = reply.send(s.sensor.targets(min_sources));
                            }
                            SensorRequest::Notice { write, who, reply } => {
                                let _ = reply.send(write.apply(&parts.store, &who));
                            }
                        }
                    }
                    continue;
                }
                Some(w) = requests.contacts.recv() => {
                    land!();
                    // A cache entry, alone: losing it to a crash costs one more lookup. The
                    // lookup goes to the logbook with it.
                    let stored = parts
                        .store
                        .put_contact(&w.key, &w.bytes, w.stored_at_ns)
                        .and_then(|()| parts.store.logbook_append(&w.logged).map(|_| ()));
                    if let Err(e) = &stored {
                        tracing::warn!("abuse contact not cached: {e}");
                    }
                    let _ = w.reply.send(stored.is_ok());
                    continue;
                }
                Some(cmd) = requests.commands.recv() => {
                    land!();
                    let WriterCommand::Import { lines, ctx, last, reply } = cmd;
                    let msgs: Vec<Message> = lines
                        .into_iter()
                        .map(|bytes| Message {
                            bytes,
                            received_ns: now_ns(),
                            ack: None,
                            truncated: false,
                        })
                        .collect();
                    // An import's chunk is stored here, not on the store thread: its reply
                    // waits for it. Candidates are stored with each chunk: `picket incidents`
                    // sees them at once.
                    let folding = sensor.as_mut().map(|s| (&mut s.sensor, true));
                    let r = if msgs.is_empty() {
                        Ok(0)
                    } else {
                        let mut cursor = parts.store.key_cursor();
                        prepare(&msgs, &mut batch, &ctx, &parts.store, folding, &mut writes, &mut cursor);
                        let r = store_batch(&batch, &writes, parts).await;
                        if r.is_ok() {
                            writes.clear();
                            if let Some(s) = sensor.as_mut() {
                                s.sensor.writes_stored();
                            }
                        }
                        r.map(|()| msgs.len() as u64)
                    };
                    keys = None;
                    if let Some(s) = sensor.as_mut().filter(|_| last && r.is_ok()) {
                        s.sensor.settle(&mut writes);
                        s.sensor.flush(&mut writes);
                        write_alone(&mut writes, parts);
                    }
                    let _ = reply.send(r.map_err(|e| e.to_string()));
                    continue;
                }
            }
            let before = pending.len();
            while pending.len() < settings.batch_events {
                match rx.try_recv() {
                    Next::Parcel(msgs) => acks_waiting |= take(&parts.tail, &mut pending, msgs),
                    Next::Empty => break,
                    Next::Closed => {
                        open = false;
                        break;
                    }
                }
            }
            busy = pending.len() > before || pending.len() >= settings.batch_events;
        }
        let due = pending.len() >= settings.batch_events
            || since.elapsed() >= settings.flush_interval
            || (acks_waiting && committer.landed())
            || !open;
        if !due {
            continue;
        }
        since = Instant::now();
        if pending.is_empty() {
            land!();
            // Quiet for a whole flush interval: nobody is sending, so a trim stalls no one.
            if stored.saturating_sub(stored_at_trim) >= TRIM_AFTER
                && trimmed_at.elapsed() >= TRIM_EVERY
            {
                trimmed_at = Instant::now();
                stored_at_trim = stored;
                trim_heap(&parts.stats);
            }
            // Quiet: decide the last events' candidates, and end the blocks that ran out.
            if let Some(s) = sensor.as_mut() {
                s.sensor.settle_only(&mut writes);
                flush_in_slices(&mut s.sensor, &mut writes, parts);
                if expired_at.elapsed() >= Duration::from_secs(10) {
                    expired_at = Instant::now();
                    s.sensor
                        .expire(i64::try_from(now_ns()).unwrap_or(i64::MAX), &mut writes);
                }
                write_alone(&mut writes, parts);
            }
            continue;
        }
        // Every few seconds a flush of the candidates begins, written a slice per batch.
        let flush = flushed_at.elapsed() >= FLUSH_EVERY;
        if flush {
            flushed_at = Instant::now();
        }
        let ctx = ParseContext::new(picket_parsers::Timestamp::now().secs)
            .with_offset(settings.time_zone);
        // The batch before this one may still be on the store thread: these events take the
        // keys that follow its events'.
        let cursor = keys.get_or_insert_with(|| parts.store.key_cursor());
        let (spare_msgs, mut next) = spare
            .pop()
            .unwrap_or_else(|| (Vec::with_capacity(settings.batch_events), Batch::new()));
        let msgs = std::mem::replace(&mut pending, spare_msgs);
        let first_key = prepare(
            &msgs,
            &mut next,
            &ctx,
            &parts.store,
            sensor.as_mut().map(|s| (&mut s.sensor, flush)),
            &mut writes,
            cursor,
        );
        let job = Prepared {
            msgs,
            batch: next,
            writes: Arc::new(std::mem::take(&mut writes)),
            acks: acks_waiting,
            first_key,
        };
        acks_waiting = false;
        // Lost if the batch before fails for good: this one's messages too.
        land!(job.msgs.len() as u64);
        if let Some(s) = sensor.as_mut() {
            s.sensor.set_in_flight(Arc::clone(&job.writes));
        }
        if let Err(count) = committer.send(job).await {
            let lost = count as u64 + pending.len() as u64 + rx.queued();
            tracing::error!("{lost} messages received but not stored: the store thread ended");
            return Err(Error::Usage("the store thread has ended".into()));
        }
    }
    land!();
    if let Some(s) = sensor.as_mut() {
        s.sensor.settle_only(&mut writes);
        flush_in_slices(&mut s.sensor, &mut writes, parts);
        write_alone(&mut writes, parts);
    }
    committer.finish();
    Ok(stored)
}

/// Waits for the batch in flight (if any) and takes its outcome: counts what it stored and
/// keeps its buffers for reuse. On a store error it says how many messages are lost (the
/// batch's and `also` more: those gathered and queued) and returns the error.
async fn land(
    committer: &mut Committer,
    sensor: &mut Option<WriterSensor>,
    stored: &mut u64,
    spare: &mut Vec<(Vec<Message>, Batch)>,
    also: u64,
) -> Result<(), Error> {
    let Some(back) = committer.wait().await else {
        return Ok(());
    };
    if let Some(s) = sensor.as_mut() {
        s.sensor.stored_in_flight();
    }
    match back.result {
        Ok(n) => {
            *stored += n;
            spare.push((back.msgs, back.batch));
            Ok(())
        }
        Err(e) => {
            let lost = back.count as u64 + also;
            tracing::error!("{lost} messages received but not stored: {e}");
            Err(e)
        }
    }
}

/// Writes every candidate changed so far, [`FLUSH_SLICE`] per transaction (when ingest is
/// quiet, and at the end): queries read between the slices.
fn flush_in_slices(sensor: &mut Sensor, writes: &mut IncidentWrites, parts: &WriterParts) {
    // A second round for what changed while a round begun during ingest was still going.
    for _ in 0..2 {
        sensor.begin_flush();
        while !sensor.flush_step(writes, FLUSH_SLICE) {
            write_alone(writes, parts);
        }
        write_alone(writes, parts);
    }
}

/// What a caught panic said.
pub(super) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

/// Tells each RELP connection with messages in a batch just flushed the highest of them now
/// durable. A connection's messages reach the queue in its order, so its last one in the
/// batch covers the rest; a run of one connection's messages costs one notification.
pub(super) fn acknowledge(msgs: &[Message]) {
    let mut last: Option<&crate::message::Ack> = None;
    for a in msgs.iter().filter_map(|m| m.ack.as_ref()) {
        if let Some(l) = last
            && !Arc::ptr_eq(&l.to, &a.to)
        {
            l.durable();
        }
        last = Some(a);
    }
    if let Some(l) = last {
        l.durable();
    }
}

/// How often a busy writer takes what the listeners queued.
const POLL: Duration = Duration::from_millis(5);

/// How often the writer stores the candidates that changed (and what a crash can make the
/// next start fold again).
const FLUSH_EVERY: Duration = Duration::from_secs(10);

/// At most how often the writer hands the heap's free pages back (`trim_heap`).
const TRIM_EVERY: Duration = Duration::from_secs(5);

/// Messages stored since the last trim before a quiet writer trims again: a trickle leaves
/// little to hand back.
const TRIM_AFTER: u64 = 1_000;

/// Hands the heap's free pages back to the system. The allocator keeps what batches,
/// queued parcels and parsed events freed, so a long run's RSS grew with what the process had
/// written rather than with what it holds (bench/LOAD.md, "RSS by store size, profiled").
/// The binary's allocator is mimalloc (main.rs), which purges freed pages on its own after a
/// short delay; `mi_collect` here also frees what the writer thread's own heap still caches.
/// It once was glibc's `malloc_trim(0)`, which locks every arena while it walks it (18-44 ms
/// on a heap of 300-500 MB): a UDP receive thread that needed its arena meanwhile stopped
/// reading, and the kernel dropped datagrams (34,502 at 215 k/s when it ran every 5 s under
/// load, bench/LOAD.md). So only a quiet writer collects. Timed in `stats`
/// (`memory.last_trim_us`).
fn trim_heap(stats: &Stats) {
    let started = Instant::now();
    // SAFETY: mi_collect takes no pointers and touches only the calling thread's heap and
    // the segments no thread owns any more.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    Stats::inc(&stats.heap_trims);
    stats.last_trim_us.store(
        u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Candidates written with one batch while a flush is in progress (about 1 KiB each):
/// one sled transaction of every candidate of a large book took seconds (about 18 µs a key),
/// stalling the writer and the queries.
const FLUSH_SLICE: usize = 2_000;

/// Applies a `mark` and stores it (a mark is rare: stored at once, alone).
fn mark(s: &mut WriterSensor, req: MarkRequest, parts: &WriterParts, writes: &mut IncidentWrites) {
    let at = i64::try_from(now_ns()).unwrap_or(i64::MAX);
    let known = s.sensor.mark(&parts.store, &req, at, writes);
    let stored = write_alone(writes, parts);
    let reply = match (known, stored) {
        (true, true) => Ok(()),
        (false, _) => Err(MarkError::NoCandidate),
        (true, false) => Err(MarkError::Store),
    };
    let _ = req.reply.send(reply);
}

/// Stores incident writes made outside a batch (settle, expiry, marks) and publishes their
/// changes; false when the store refused them (they are retried with the next batch's).
fn write_alone(writes: &mut IncidentWrites, parts: &WriterParts) -> bool {
    if writes.is_empty() {
        return true;
    }
    match parts.store.write_incidents(writes) {
        Ok(_) => {
            publish_changes(writes, parts);
            writes.clear();
            true
        }
        Err(e) => {
            tracing::warn!("candidate changes not stored yet: {e}");
            false
        }
    }
}

/// Sends the stored change records to `watch` subscribers, with the numbers the store gave.
pub(super) fn publish_changes(writes: &IncidentWrites, parts: &WriterParts) {
    if writes.changes.is_empty() || parts.watch.receiver_count() == 0 {
        return;
    }
    let Some(last) = parts.store.last_change() else {
        return;
    };
    let first = last + 1 - writes.changes.len() as u64;
    for (i, rec) in writes.changes.iter().enumerate() {
        let _ = parts.watch.send((first + i as u64, Arc::new(rec.clone())));
    }
}

/// Hands a message to live subscribers as soon as the writer has it (a tail should not wait
/// for the flush interval); without subscribers this costs one atomic load.
fn publish(tail: &broadcast::Sender<Message>, msgs: &[Message]) {
    if tail.receiver_count() > 0 {
        for m in msgs {
            let _ = tail.send(m.clone());
        }
    }
}

/// Takes a parcel off the queue into the batch being gathered.
fn take(tail: &broadcast::Sender<Message>, pending: &mut Vec<Message>, msgs: Vec<Message>) -> bool {
    publish(tail, &msgs);
    // A RELP sender waits for its acknowledgement: its batch is committed at once.
    let acks = msgs.iter().any(|m| m.ack.is_some());
    if pending.is_empty() && pending.capacity() <= msgs.capacity() {
        *pending = msgs;
    } else {
        pending.extend(msgs);
    }
    acks
}

/// Parses a message into `ev`, with the receiver's cut flag.
fn parse_into<'m>(m: &'m Message, ctx: &ParseContext, ev: &mut picket_parsers::Event<'m>) {
    parse_line_into(&m.bytes, ctx, ev);
    ev.truncated = m.truncated;
}

/// Parses the batch into `batch` and folds each event into the sensor (if on), with the keys
/// `keys` gives them; returns the first event's key.
fn prepare(
    msgs: &[Message],
    batch: &mut Batch,
    ctx: &ParseContext,
    store: &Store,
    sensor: Option<(&mut Sensor, bool)>,
    writes: &mut IncidentWrites,
    keys: &mut KeyCursor,
) -> Option<EventKey> {
    batch.clear();
    let mut first = None;
    // One event, parsed into again for each message: returning a fresh one copies it.
    let mut e = parse_line(b"", ctx);
    match sensor {
        // Each event is parsed once, pushed to the batch and folded while its line is in
        // the cache (a batch-long list of parsed events cost a page-faulting allocation
        // of megabytes per batch).
        Some((sensor, flush)) => {
            for m in msgs {
                parse_into(m, ctx, &mut e);
                batch.push(&e, m.received_ns);
                let key = keys.next(m.received_ns);
                first = first.or(Some(key));
                sensor.fold_one(store, &e, m.received_ns, key, writes);
            }
            sensor.end_batch();
            if flush {
                sensor.begin_flush();
            }
            sensor.flush_step(writes, FLUSH_SLICE);
        }
        None => {
            for m in msgs {
                parse_into(m, ctx, &mut e);
                batch.push(&e, m.received_ns);
                let key = keys.next(m.received_ns);
                first = first.or(Some(key));
            }
        }
    }
    first
}
