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
    /// Bad frames: a TCP/TLS octet count too large to be real (its bytes kept as one message
    /// up to the next frame found), or a RELP frame that closed its connection.
    pub bad_frames: AtomicU64,
    /// Connections refused because the maximum was reached.
    pub refused_connections: AtomicU64,
    /// TCP and TLS connections open now.
    pub connections_open: AtomicU64,
    /// TCP, TLS and RELP connections closed because no whole message came within the idle
    /// timeout (idle, or trickling a message too slowly).
    pub idle_closed: AtomicU64,
    /// Messages or connections from senders outside the allow-list.
    pub denied_sender: AtomicU64,
    /// Which refused senders were logged lately (each once per interval).
    pub refused_log: RefusedLog,
    /// Failed TLS handshakes, logged like refusals: a client that opens and garbles
    /// handshakes in a loop must not fill the log.
    pub tls_refused_log: RefusedLog,
    /// TLS handshakes that failed (untrusted client certificate, bad protocol).
    pub tls_refused: AtomicU64,
    /// `accept` calls that failed (descriptor limit reached, out of memory).
    pub accept_errors: AtomicU64,
    /// Query connections refused because the maximum was reached.
    pub query_refused: AtomicU64,
    /// Query connections closed because the client did not read or did not ask in time.
    pub query_timeouts: AtomicU64,
    /// Query requests longer than the protocol's maximum (answered `too_long`, then skipped).
    pub query_too_long: AtomicU64,
    /// The writer's state.
    pub writer: WriterStatus,
    /// The queue's size in bytes.
    pub queue_capacity_bytes: AtomicU64,
    /// Bytes queued now (messages and their overhead).
    pub queued_bytes: AtomicU64,
    /// Messages queued now.
    pub queued_messages: AtomicU64,
    /// The most bytes ever queued at once since start.
    pub queue_peak_bytes: AtomicU64,
    /// How long the writer's commits took.
    pub commits: CommitTimes,
    /// Times the writer handed the heap's free pages back to the system.
    pub heap_trims: AtomicU64,
    /// How long the latest of those took, microseconds.
    pub last_trim_us: AtomicU64,
}

/// How many recent commits the percentiles are taken over.
const RECENT_COMMITS: usize = 4096;

/// The durations of the writer's commits (append and flush of one batch): percentiles
/// over the last 4096 commits, the maximum and count since start.
#[derive(Debug, Default)]
pub struct CommitTimes {
    inner: Mutex<CommitInner>,
}

#[derive(Debug, Default)]
struct CommitInner {
    recent: std::collections::VecDeque<u64>,
    count: u64,
    max_us: u64,
    messages: u64,
}

/// A summary of [`CommitTimes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitSummary {
    /// Commits since start.
    pub count: u64,
    /// Messages those commits stored.
    pub messages: u64,
    /// Median of the recent commits, microseconds.
    pub p50_us: u64,
    /// 99th percentile of the recent commits, microseconds.
    pub p99_us: u64,
    /// The longest commit since start, microseconds.
    pub max_us: u64,
}

impl CommitTimes {
    fn lock(&self) -> std::sync::MutexGuard<'_, CommitInner> {
        // Plain numbers: a panic elsewhere cannot leave them half-written.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records one commit of `messages` that took `us` microseconds (once per batch).
    pub fn record(&self, us: u64, messages: u64) {
        let mut c = self.lock();
        if c.recent.len() == RECENT_COMMITS {
            c.recent.pop_front();
        }
        c.recent.push_back(us);
        c.count += 1;
        c.messages += messages;
        c.max_us = c.max_us.max(us);
    }

    /// Percentiles, maximum and count.
    pub fn summary(&self) -> CommitSummary {
        let c = self.lock();
        let mut v: Vec<u64> = c.recent.iter().copied().collect();
        v.sort_unstable();
        let pick = |q: usize| -> u64 {
            if v.is_empty() {
                return 0;
            }
            let i = ((v.len() - 1) * q).div_ceil(100);
            v.get(i).copied().unwrap_or(0)
        };
        CommitSummary {
            count: c.count,
            messages: c.messages,
            p50_us: pick(50),
            p99_us: pick(99),
            max_us: c.max_us,
        }
    }
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

    #[test]
    fn commit_percentiles_come_from_the_recent_commits_and_the_maximum_from_all() {
        let c = CommitTimes::default();
        assert_eq!(c.summary(), CommitSummary::default());
        c.record(1_000_000, 5);
        for us in 1..=RECENT_COMMITS as u64 {
            c.record(us, 1);
        }
        let s = c.summary();
        assert_eq!(s.count, RECENT_COMMITS as u64 + 1);
        assert_eq!(s.messages, RECENT_COMMITS as u64 + 5);
        assert_eq!(s.max_us, 1_000_000);
        assert_eq!(s.p50_us, 2049);
        assert_eq!(s.p99_us, 4056);
    }
}

/// How often one refused sender is logged again.
pub const REFUSED_LOG_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// Most senders remembered for [`RefusedLog`]; past it, senders are logged together.
const REFUSED_LOG_SENDERS: usize = 4096;

/// Logs each refused sender once per [`REFUSED_LOG_INTERVAL`] and reason, with how many
/// times it was refused since: a misconfigured router sending thousands of lines a second,
/// or a client that garbles TLS handshakes in a loop, shows up in the log at once but does not
/// fill it. A new reason from the same sender (a fixed certificate that now fails for another
/// cause) is logged at once. Bounded: past 4096 senders in one interval, the rest are logged
/// together.
#[derive(Debug, Default)]
pub struct RefusedLog {
    seen: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, Refusals>>,
}

/// One sender's refusals since it was last logged.
#[derive(Debug)]
struct Refusals {
    logged_at: std::time::Instant,
    since: u64,
    why: String,
}

impl RefusedLog {
    /// Notes one refusal of `peer` (a datagram or a connection), logging it when due.
    pub fn note(&self, peer: std::net::SocketAddr) {
        self.note_why(
            peer,
            "sender not in the allow-list: refused, nothing of it stored",
        );
    }

    /// Notes one refusal of `peer` for `why`, logging it when due.
    pub fn note_why(&self, peer: std::net::SocketAddr, why: &str) {
        let now = std::time::Instant::now();
        let ip = peer.ip().to_canonical();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= REFUSED_LOG_SENDERS && !seen.contains_key(&ip) {
            seen.retain(|_, r| now.duration_since(r.logged_at) < REFUSED_LOG_INTERVAL);
        }
        let key = if seen.len() >= REFUSED_LOG_SENDERS && !seen.contains_key(&ip) {
            std::net::IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED) // "the others"
        } else {
            ip
        };
        match seen.get_mut(&key) {
            Some(r) if now.duration_since(r.logged_at) < REFUSED_LOG_INTERVAL && r.why == why => {
                r.since += 1;
            }
            Some(r) => {
                tracing::warn!(
                    sender = %key,
                    port = peer.port(),
                    refused_since = r.since,
                    "{why} (logged again in 10 min if it goes on)"
                );
                *r = Refusals {
                    logged_at: now,
                    since: 0,
                    why: why.to_owned(),
                };
            }
            None => {
                tracing::warn!(
                    sender = %key,
                    port = peer.port(),
                    "{why} (logged again in 10 min if it goes on)"
                );
                seen.insert(
                    key,
                    Refusals {
                        logged_at: now,
                        since: 0,
                        why: why.to_owned(),
                    },
                );
            }
        }
    }
}
