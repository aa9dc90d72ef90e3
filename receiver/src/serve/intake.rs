//! What every listener hands its messages to: the writer's queue, the counters, and the
//! shutdown signal. Cloned into each connection and UDP worker.
//!
//! The queue is bounded in bytes, not in messages: a burst of small datagrams and a few large
//! ones cost what they weigh in memory. Listeners hand over parcels (every message of one read
//! or one `recvmmsg`), so the channel is touched once per read, not once per message. A parcel
//! holds its share of the budget until the writer takes it off the queue, so the listeners
//! go on reading while the writer commits, and only a writer that falls behind by the whole
//! budget makes TCP wait and UDP drop.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::message::Message;
use crate::stats::Stats;

/// What a message costs in the queue besides its bytes (the `Message` itself and its share of
/// the parcel's vector).
pub const MESSAGE_OVERHEAD: usize = 64;

/// Messages of one read, with what they were charged.
pub struct Parcel {
    /// The messages, in the order they were read.
    pub msgs: Vec<Message>,
    /// Budget bytes held (returned when the writer takes the parcel).
    cost: u32,
}

/// The listeners' side of the pipeline.
#[derive(Clone)]
pub struct Intake {
    tx: mpsc::UnboundedSender<Parcel>,
    room: Arc<Semaphore>,
    capacity: u32,
    /// Counters and the writer's health.
    pub stats: Arc<Stats>,
    /// Cancelled when serve stops.
    pub shutdown: CancellationToken,
}

/// The writer's side of the queue.
pub struct Outlet {
    rx: mpsc::UnboundedReceiver<Parcel>,
    room: Arc<Semaphore>,
    stats: Arc<Stats>,
}

/// What [`Outlet::try_recv`] found.
pub enum Next {
    /// A parcel's messages.
    Parcel(Vec<Message>),
    /// Nothing queued now.
    Empty,
    /// Every listener is gone and the queue is empty.
    Closed,
}

/// Why a parcel was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The byte budget is used up (UDP drops the parcel).
    Full,
    /// The writer is gone.
    Closed,
}

/// A queue of `bytes` (at least one message's worth, at most 4 GiB).
pub fn queue(bytes: usize, stats: Arc<Stats>, shutdown: CancellationToken) -> (Intake, Outlet) {
    let capacity = u32::try_from(bytes.max(MESSAGE_OVERHEAD)).unwrap_or(u32::MAX);
    let room = Arc::new(Semaphore::new(capacity as usize));
    let (tx, rx) = mpsc::unbounded_channel();
    stats
        .queue_capacity_bytes
        .store(u64::from(capacity), Ordering::Relaxed);
    (
        Intake {
            tx,
            room: room.clone(),
            capacity,
            stats: stats.clone(),
            shutdown,
        },
        Outlet { rx, room, stats },
    )
}

impl Intake {
    /// What `msgs` cost; a parcel larger than the whole queue is charged the whole queue, so
    /// that it passes alone instead of never.
    fn cost(&self, msgs: &[Message]) -> u32 {
        let bytes: usize = msgs.iter().map(|m| m.bytes.len() + MESSAGE_OVERHEAD).sum();
        u32::try_from(bytes).unwrap_or(u32::MAX).min(self.capacity)
    }

    fn enqueue(&self, msgs: Vec<Message>, cost: u32) -> Result<(), Refused> {
        let n = msgs.len() as u64;
        let s = &self.stats;
        let before = s.queued_bytes.fetch_add(u64::from(cost), Ordering::Relaxed);
        s.queue_peak_bytes
            .fetch_max(before + u64::from(cost), Ordering::Relaxed);
        s.queued_messages.fetch_add(n, Ordering::Relaxed);
        self.tx.send(Parcel { msgs, cost }).map_err(|p| {
            s.queued_bytes
                .fetch_sub(u64::from(p.0.cost), Ordering::Relaxed);
            s.queued_messages.fetch_sub(n, Ordering::Relaxed);
            Refused::Closed
        })
    }

    /// Queues `msgs` if there is room now (UDP: a sender that cannot wait).
    pub fn try_send(&self, msgs: Vec<Message>) -> Result<(), Refused> {
        if msgs.is_empty() {
            return Ok(());
        }
        let cost = self.cost(&msgs);
        match self.room.try_acquire_many(cost) {
            Ok(permit) => permit.forget(),
            Err(tokio::sync::TryAcquireError::NoPermits) => return Err(Refused::Full),
            Err(tokio::sync::TryAcquireError::Closed) => return Err(Refused::Closed),
        }
        self.enqueue(msgs, cost)
    }

    /// Queues `msgs`, waiting for room (TCP and TLS: the sender is held back); false when
    /// the writer is gone.
    pub async fn send(&self, msgs: Vec<Message>) -> bool {
        if msgs.is_empty() {
            return true;
        }
        let cost = self.cost(&msgs);
        match self.room.acquire_many(cost).await {
            Ok(permit) => permit.forget(),
            Err(_) => return false,
        }
        self.enqueue(msgs, cost).is_ok()
    }

    /// Waits while the writer cannot store (the store refused a write), so that a stream
    /// sender is held back instead of filling the queue; false when serve stops meanwhile.
    pub async fn writer_ready(&self) -> bool {
        if self.stats.writer.is_healthy() {
            return true;
        }
        let mut health = self.stats.writer.watch();
        tokio::select! {
            _ = self.shutdown.cancelled() => false,
            r = health.wait_for(|ok| *ok) => r.is_ok(),
        }
    }
}

impl Outlet {
    /// Gives the parcel's budget back and counts it out of the queue.
    fn took(&self, p: Parcel) -> Vec<Message> {
        self.room.add_permits(p.cost as usize);
        self.stats
            .queued_bytes
            .fetch_sub(u64::from(p.cost), Ordering::Relaxed);
        self.stats
            .queued_messages
            .fetch_sub(p.msgs.len() as u64, Ordering::Relaxed);
        p.msgs
    }

    /// The next parcel; None when every listener is gone and the queue is empty.
    pub async fn recv(&mut self) -> Option<Vec<Message>> {
        let p = self.rx.recv().await?;
        Some(self.took(p))
    }

    /// The next parcel if one is queued.
    pub fn try_recv(&mut self) -> Next {
        match self.rx.try_recv() {
            Ok(p) => Next::Parcel(self.took(p)),
            Err(mpsc::error::TryRecvError::Empty) => Next::Empty,
            Err(mpsc::error::TryRecvError::Disconnected) => Next::Closed,
        }
    }

    /// Messages still queued (for the error message of a writer that gives up).
    pub fn queued(&self) -> u64 {
        self.stats.queued_messages.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(len: usize) -> Message {
        Message {
            bytes: bytes::Bytes::from(vec![b'x'; len]),
            received_ns: 0,
            ack: None,
            truncated: false,
        }
    }

    #[tokio::test]
    async fn the_budget_is_bytes_and_comes_back_when_the_writer_takes_a_parcel() {
        let stats = Arc::new(Stats::default());
        let (intake, mut outlet) = queue(1000, stats.clone(), CancellationToken::new());
        // 3 x (200 + 64) = 792 fits; one more of 200 does not, one of 100 does not either.
        assert_eq!(intake.try_send(vec![msg(200), msg(200), msg(200)]), Ok(()));
        assert_eq!(intake.try_send(vec![msg(200)]), Err(Refused::Full));
        assert_eq!(stats.queued_bytes.load(Ordering::Relaxed), 792);
        assert_eq!(stats.queued_messages.load(Ordering::Relaxed), 3);
        assert_eq!(outlet.recv().await.map(|v| v.len()), Some(3));
        assert_eq!(stats.queued_bytes.load(Ordering::Relaxed), 0);
        assert_eq!(stats.queue_peak_bytes.load(Ordering::Relaxed), 792);
        assert_eq!(intake.try_send(vec![msg(200)]), Ok(()));
        // Larger than the whole queue: waits for an empty queue, then passes alone.
        let big = intake.clone();
        let t = tokio::spawn(async move { big.send(vec![msg(5000)]).await });
        assert_eq!(outlet.recv().await.map(|v| v.len()), Some(1));
        assert!(t.await.unwrap());
        assert_eq!(outlet.recv().await.map(|v| v[0].bytes.len()), Some(5000));
        drop(intake);
        assert!(matches!(outlet.try_recv(), Next::Closed));
    }
}
