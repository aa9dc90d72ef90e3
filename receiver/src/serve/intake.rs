//! What every listener hands its messages to: the writer's queue, the counters, and the
//! shutdown signal. Cloned into each connection and UDP worker.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::message::Message;
use crate::stats::Stats;

/// The listeners' side of the pipeline.
#[derive(Clone)]
pub struct Intake {
    /// The bounded queue to the writer.
    pub tx: mpsc::Sender<Message>,
    /// Counters and the writer's health.
    pub stats: Arc<Stats>,
    /// Cancelled when serve stops.
    pub shutdown: CancellationToken,
}

impl Intake {
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
