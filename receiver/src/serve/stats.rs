//! Counters the server keeps: what came in, what was stored, what was dropped and why.

use std::sync::atomic::{AtomicU64, Ordering};

/// Server counters (read by `picket stats` through the query socket, and logged at exit).
#[derive(Debug, Default)]
pub struct Stats {
    /// UDP datagrams received.
    pub udp_received: AtomicU64,
    /// TCP messages received.
    pub tcp_received: AtomicU64,
    /// TLS messages received.
    pub tls_received: AtomicU64,
    /// Messages stored.
    pub stored: AtomicU64,
    /// Messages cut at the maximum size.
    pub truncated: AtomicU64,
    /// UDP datagrams dropped because the queue was full.
    pub dropped_queue_full: AtomicU64,
    /// Connections closed for a bad frame.
    pub bad_frames: AtomicU64,
    /// Connections refused because the maximum was reached.
    pub refused_connections: AtomicU64,
    /// TCP connections open now.
    pub connections_open: AtomicU64,
    /// Messages or connections from senders outside the allow-list.
    pub denied_sender: AtomicU64,
    /// TLS handshakes that failed (untrusted client certificate, bad protocol).
    pub tls_refused: AtomicU64,
}

impl Stats {
    /// Adds one to a counter.
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// One line for the log.
    pub fn summary(&self) -> String {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "received udp {} tcp {} tls {}, stored {}, truncated {}, dropped (queue full) {}, bad frames {}, refused connections {}, denied senders {}, failed TLS handshakes {}",
            g(&self.udp_received),
            g(&self.tcp_received),
            g(&self.tls_received),
            g(&self.stored),
            g(&self.truncated),
            g(&self.dropped_queue_full),
            g(&self.bad_frames),
            g(&self.refused_connections),
            g(&self.denied_sender),
            g(&self.tls_refused),
        )
    }
}
