//! Counters the server keeps (what came in, what was stored, what was dropped and why) and
//! the writer's health, which the listeners watch so that they stop reading while the store
//! cannot take messages. Read by `picket stats` through the query socket and logged at exit.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;

/// Server counters.
#[derive(Debug, Default)]
pub struct Stats {
    /// UDP datagrams received.
    pub udp_received: AtomicU64,
    /// TCP messages received.
    pub tcp_received: AtomicU64,
    /// TLS messages received.
    pub tls_received: AtomicU64,
    /// RELP messages received (plain and over TLS).
    pub relp_received: AtomicU64,
    /// RELP messages acknowledged to their sender (each after its batch was flushed).
    pub relp_acked: AtomicU64,
    /// Messages stored.
    pub stored: AtomicU64,
    /// Messages cut at the maximum size.
    pub truncated: AtomicU64,
    /// UDP datagrams dropped because the queue was full.
    pub dropped_queue_full: AtomicU64,
    /// UDP datagrams dropped because the store could not take messages (disk full).
    pub dropped_store_unavailable: AtomicU64,
    /// Connections closed for a bad frame.
    pub bad_frames: AtomicU64,
    /// Connections refused because the maximum was reached.
    pub refused_connections: AtomicU64,
    /// TCP and TLS connections open now.
    pub connections_open: AtomicU64,
    /// Messages or connections from senders outside the allow-list.
    pub denied_sender: AtomicU64,
    /// TLS handshakes that failed (untrusted client certificate, bad protocol).
    pub tls_refused: AtomicU64,
    /// `accept` calls that failed (descriptor limit reached, out of memory).
    pub accept_errors: AtomicU64,
    /// Query connections refused because the maximum was reached.
    pub query_refused: AtomicU64,
    /// Query connections closed because the client did not read or did not ask in time.
    pub query_timeouts: AtomicU64,
    /// The writer's state.
    pub writer: WriterStatus,
}

impl Stats {
    /// Adds one to a counter.
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes one from a counter.
    pub fn dec(c: &AtomicU64) {
        c.fetch_sub(1, Ordering::Relaxed);
    }

    /// One line for the log.
    pub fn summary(&self) -> String {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "received udp {} tcp {} tls {}, stored {}, truncated {}, dropped (queue full) {}, dropped (store unavailable) {}, bad frames {}, refused connections {}, denied senders {}, failed TLS handshakes {}, accept errors {}, received relp {}, relp acked {}",
            g(&self.udp_received),
            g(&self.tcp_received),
            g(&self.tls_received),
            g(&self.stored),
            g(&self.truncated),
            g(&self.dropped_queue_full),
            g(&self.dropped_store_unavailable),
            g(&self.bad_frames),
            g(&self.refused_connections),
            g(&self.denied_sender),
            g(&self.tls_refused),
            g(&self.accept_errors),
            g(&self.relp_received),
            g(&self.relp_acked),
        )
    }
}

/// Why the writer is not storing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterProblem {
    /// False while the writer retries (disk full); true when it gave up (corruption).
    pub fatal: bool,
    /// The store's error, as logged.
    pub error: String,
    /// When it started, Unix nanoseconds.
    pub since_ns: u64,
}

/// The writer's health: listeners wait on it, `stats` shows it.
#[derive(Debug)]
pub struct WriterStatus {
    healthy: watch::Sender<bool>,
    /// The same as `healthy`, read without a lock: the UDP workers ask per datagram.
    healthy_now: std::sync::atomic::AtomicBool,
    problem: Mutex<Option<WriterProblem>>,
    retries: AtomicU64,
}

impl Default for WriterStatus {
    fn default() -> Self {
        WriterStatus {
            healthy: watch::Sender::new(true),
            healthy_now: std::sync::atomic::AtomicBool::new(true),
            problem: Mutex::new(None),
            retries: AtomicU64::new(0),
        }
    }
}

impl WriterStatus {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<WriterProblem>> {
        // The slot holds plain data: a panic elsewhere cannot leave it half-written.
        self.problem.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The store refused a write. Logged once per episode (not once per retry); listeners
    /// stop reading until [`WriterStatus::recovered`].
    pub fn failed(&self, error: &str, fatal: bool, now_ns: u64) {
        let mut slot = self.slot();
        let first = slot.is_none();
        if first || (fatal && !slot.as_ref().is_some_and(|p| p.fatal)) {
            if fatal {
                tracing::error!(
                    "the store cannot be written and picket will stop: {error}; nothing more is read from senders"
                );
            } else {
                tracing::error!(
                    "the store cannot be written: {error}; senders are paused (TCP, TLS wait; UDP is dropped and counted) and the write is retried until it succeeds"
                );
            }
            *slot = Some(WriterProblem {
                fatal,
                error: error.to_string(),
                since_ns: slot.as_ref().map_or(now_ns, |p| p.since_ns),
            });
        }
        if !first {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
        drop(slot);
        self.healthy_now.store(false, Ordering::Release);
        self.healthy.send_replace(false);
    }

    /// The store took a write again after a failure.
    pub fn recovered(&self, now_ns: u64) {
        let mut slot = self.slot();
        if let Some(p) = slot.take() {
            let secs = now_ns.saturating_sub(p.since_ns) / 1_000_000_000;
            tracing::info!(
                "the store is writable again after {secs} s ({} retries); senders resume",
                self.retries.load(Ordering::Relaxed)
            );
        }
        drop(slot);
        self.healthy_now.store(true, Ordering::Release);
        self.healthy.send_replace(true);
    }

    /// True while the writer stores.
    pub fn is_healthy(&self) -> bool {
        self.healthy_now.load(Ordering::Acquire)
    }

    /// A receiver that sees every change of health.
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.healthy.subscribe()
    }

    /// The current problem, if any.
    pub fn problem(&self) -> Option<WriterProblem> {
        self.slot().clone()
    }

    /// Failed writes retried since the first failure of any episode.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_pauses_and_a_recovery_resumes() {
        let s = WriterStatus::default();
        let w = s.watch();
        assert!(s.is_healthy());
        s.failed("No space left on device", false, 10);
        s.failed("No space left on device", false, 20);
        assert!(!s.is_healthy());
        assert!(w.has_changed().unwrap());
        let p = s.problem().unwrap();
        assert_eq!((p.fatal, p.since_ns), (false, 10));
        assert_eq!(s.retries(), 1);
        s.recovered(30);
        assert!(s.is_healthy());
        assert_eq!(s.problem(), None);
    }
}
