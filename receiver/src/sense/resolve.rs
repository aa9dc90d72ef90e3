//! The resolver for sources known only by name (`refused connect from 7dyn94.ztm.casema.net`):
//! a task beside the writer, never in its path, that asks a DNS server for the name's
//! address and hands the answer back to the writer, which merges the name's candidate into
//! the address's. Cached (answers for their TTL, at most an hour; failures for ten minutes),
//! rate-limited (`[sensor] resolve_rate` queries a second), one question at a time, and
//! dropped rather than queued without bound when names come faster than that.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use picket_dns::{RecordType, answer, query};
use picket_sensor::SourceKey;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::SensorRequest;

/// How names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverConfig {
    /// The DNS server (UDP).
    pub server: SocketAddr,
    /// Most queries a second.
    pub rate: u32,
    /// How long to wait for one answer.
    pub timeout: Duration,
}

/// The first `nameserver` of /etc/resolv.conf, on port 53.
pub fn system_server() -> Option<SocketAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    text.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next()? == "nameserver").then_some(())?;
        let ip: IpAddr = w.next()?.parse().ok()?;
        Some(SocketAddr::new(ip, 53))
    })
}

/// Names waiting for the resolver, beyond which new ones are dropped (asked again later).
const QUEUE: usize = 1024;
/// Cached answers kept.
const CACHE: usize = 10_000;

/// Starts the resolver; names go in through the returned sender, answers come back to the
/// writer as [`SensorRequest::Resolved`].
pub fn spawn(
    cfg: ResolverConfig,
    back: mpsc::Sender<SensorRequest>,
    shutdown: CancellationToken,
) -> mpsc::Sender<(SourceKey, Vec<u8>)> {
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(run(cfg, rx, back, shutdown));
    tx
}

async fn run(
    cfg: ResolverConfig,
    mut rx: mpsc::Receiver<(SourceKey, Vec<u8>)>,
    back: mpsc::Sender<SensorRequest>,
    shutdown: CancellationToken,
) {
    let bind: SocketAddr = if cfg.server.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let sock = match UdpSocket::bind(bind).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("names will not be resolved: cannot open a UDP socket: {e}");
            return;
        }
    };
    let gap = Duration::from_secs(1) / cfg.rate.max(1);
    let mut cache: HashMap<Vec<u8>, (Option<IpAddr>, Instant)> = HashMap::new();
    let mut next_query = Instant::now();
    let mut id: u16 = 0x5eed;
    loop {
        let (key, name) = tokio::select! {
            _ = shutdown.cancelled() => return,
            n = rx.recv() => match n { Some(n) => n, None => return },
        };
        let now = Instant::now();
        let addr = match cache.get(&name) {
            Some((addr, until)) if *until > now => *addr,
            _ => {
                if next_query > now {
                    tokio::time::sleep(next_query - now).await;
                }
                next_query = Instant::now() + gap;
                id = id.wrapping_add(1);
                let (addr, ttl) = lookup(&sock, &cfg, id, &name).await;
                if cache.len() >= CACHE {
                    cache.clear();
                }
                cache.insert(name.clone(), (addr, Instant::now() + ttl));
                addr
            }
        };
        if back
            .send(SensorRequest::Resolved { source: key, addr })
            .await
            .is_err()
        {
            return;
        }
    }
}

/// The name's address (IPv4 first, then IPv6) and how long to remember the answer.
async fn lookup(
    sock: &UdpSocket,
    cfg: &ResolverConfig,
    id: u16,
    name: &[u8],
) -> (Option<IpAddr>, Duration) {
    let failed = (None, Duration::from_secs(600));
    for kind in [RecordType::A, RecordType::Aaaa] {
        let Ok(q) = query(id, name, kind) else {
            return failed;
        };
        if sock.send_to(&q, cfg.server).await.is_err() {
            return failed;
        }
        let mut buf = [0u8; 1500];
        let deadline = tokio::time::Instant::now() + cfg.timeout;
        // Datagrams that are not the answer (late replies, strangers) are skipped.
        loop {
            let got = tokio::time::timeout_at(deadline, sock.recv_from(&mut buf)).await;
            let Ok(Ok((n, from))) = got else {
                tracing::debug!(name = %crate::text::safe_text(name), "DNS query timed out");
                return failed;
            };
            if from != cfg.server {
                continue;
            }
            match answer(buf.get(..n).unwrap_or_default(), id, name, kind) {
                Ok(addrs) => {
                    if let Some((a, ttl)) = addrs.first() {
                        let ttl = Duration::from_secs(u64::from(*ttl).clamp(60, 3600));
                        return (Some(*a), ttl);
                    }
                    break; // no record of this kind: try the next
                }
                Err(picket_dns::DnsError::NotOurs) => continue,
                Err(_) => break,
            }
        }
    }
    failed
}
