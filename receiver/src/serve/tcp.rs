//! TCP listener and connections: RFC 6587 framing per connection, a maximum connection count,
//! an idle timeout. A connection waits for room in the queue (backpressure reaches the
//! sender); a bad frame closes that connection only. On shutdown each connection stops
//! reading, hands over every frame already read, and closes.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Message, ServeConfig, Stats, now_ns};
use crate::error::Error;
use picket_framing::FrameDecoder;

/// Binds a listener.
pub fn bind(addr: SocketAddr) -> Result<(SocketAddr, TcpListener), Error> {
    let err = |what: &str, e: std::io::Error| {
        Error::Usage(format!("cannot listen on tcp {addr}: {what}: {e}"))
    };
    let s = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .map_err(|e| err("socket", e))?;
    s.set_reuse_address(true)
        .map_err(|e| err("SO_REUSEADDR", e))?;
    if addr.is_ipv6() {
        let _ = s.set_only_v6(true);
    }
    s.bind(&addr.into()).map_err(|e| err("bind", e))?;
    s.listen(1024).map_err(|e| err("listen", e))?;
    s.set_nonblocking(true).map_err(|e| err("nonblocking", e))?;
    let l = TcpListener::from_std(s.into()).map_err(|e| err("register", e))?;
    let local = l.local_addr().unwrap_or(addr);
    Ok((local, l))
}

/// The accept loop shared by TCP and TLS: allow-list, connection limit, one task per
/// connection; on shutdown it stops accepting and waits for the connections to drain.
pub async fn accept_loop<F, Fut>(
    listener: TcpListener,
    allow: &[picket_store::Cidr],
    max_connections: usize,
    stats: &Stats,
    shutdown: &CancellationToken,
    mut handle: F,
) where
    F: FnMut(tokio::net::TcpStream, SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(max_connections));
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let Ok((stream, peer)) = accepted else {
            continue;
        };
        if !allowed(allow, peer, stats) {
            continue;
        }
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            Stats::inc(&stats.refused_connections);
            continue;
        };
        let work = handle(stream, peer);
        conns.spawn(async move {
            work.await;
            drop(permit);
        });
        // Reap finished connections so the set does not grow.
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
}

/// Accepts TCP connections until shutdown, then waits for them to drain.
pub async fn run(
    addr: SocketAddr,
    listener: TcpListener,
    tx: mpsc::Sender<Message>,
    stats: Arc<Stats>,
    shutdown: CancellationToken,
    cfg: ServeConfig,
) {
    tracing::info!(%addr, "listening on tcp");
    let allow = cfg.tcp_allow.clone();
    accept_loop(
        listener,
        &allow,
        cfg.max_connections,
        &stats,
        &shutdown.clone(),
        |stream, peer| {
            let (tx, stats, shutdown, cfg) =
                (tx.clone(), stats.clone(), shutdown.clone(), cfg.clone());
            async move {
                Stats::inc(&stats.connections_open);
                connection(
                    stream,
                    peer,
                    tx,
                    &stats,
                    &stats.tcp_received,
                    shutdown,
                    &cfg,
                )
                .await;
                stats
                    .connections_open
                    .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            }
        },
    )
    .await;
}

/// True when the sender may send; a refused sender is counted (and its connection dropped
/// by the caller) before anything is read.
pub fn allowed(allow: &[picket_store::Cidr], peer: SocketAddr, stats: &Stats) -> bool {
    if allow.is_empty() || allow.iter().any(|c| c.contains(peer.ip().to_canonical())) {
        return true;
    }
    Stats::inc(&stats.denied_sender);
    tracing::debug!(%peer, "sender not in the allow-list");
    false
}

/// Reads frames from one connection (plain TCP or TLS) until it ends, goes idle, sends a
/// bad frame, or the server shuts down.
pub async fn connection<S: AsyncRead + Unpin>(
    mut stream: S,
    peer: SocketAddr,
    tx: mpsc::Sender<Message>,
    stats: &Stats,
    received: &std::sync::atomic::AtomicU64,
    shutdown: CancellationToken,
    cfg: &ServeConfig,
) {
    let mut decoder = FrameDecoder::new(cfg.max_message);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    // Frames of one read go to the writer together: one clock reading and one channel
    // reservation per read instead of per message.
    let mut ready: Vec<Message> = Vec::with_capacity(512);
    let mut read_at = now_ns();
    loop {
        // Hand over every whole frame already read.
        let mut fatal = false;
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(f)) => ready.push(frame_message(f, read_at, stats, received)),
                Ok(None) => break,
                Err(e) => {
                    Stats::inc(&stats.bad_frames);
                    tracing::warn!(%peer, "closing connection: {e}");
                    fatal = true;
                    break;
                }
            }
            if ready.len() >= 512 && !hand_over(&tx, &mut ready).await {
                return;
            }
        }
        if !hand_over(&tx, &mut ready).await || fatal {
            return;
        }
        if buf.capacity() - buf.len() < 16 * 1024 {
            buf.reserve(64 * 1024);
        }
        let read = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = tokio::time::timeout(cfg.idle_timeout, stream.read_buf(&mut buf)) => r,
        };
        match read {
            Ok(Ok(0)) => break,
            Ok(Ok(_)) => read_at = now_ns(),
            Ok(Err(_)) => break,
            Err(_) => {
                tracing::debug!(%peer, "closing idle connection");
                break;
            }
        }
    }
    // End of stream or shutdown: what was read is stored too.
    while let Ok(Some(f)) = decoder.decode(&mut buf) {
        ready.push(frame_message(f, read_at, stats, received));
    }
    if let Some(f) = decoder.finish(&mut buf) {
        ready.push(frame_message(f, read_at, stats, received));
    }
    hand_over(&tx, &mut ready).await;
}

/// Counts a frame and turns it into a message.
fn frame_message(
    f: picket_framing::Frame,
    received_ns: u64,
    stats: &Stats,
    received: &std::sync::atomic::AtomicU64,
) -> Message {
    Stats::inc(received);
    if f.truncated {
        Stats::inc(&stats.truncated);
    }
    Message {
        bytes: f.bytes,
        received_ns,
    }
}

/// Sends the ready messages, waiting for room in the queue (backpressure); false when the
/// writer is gone.
async fn hand_over(tx: &mpsc::Sender<Message>, ready: &mut Vec<Message>) -> bool {
    // A reservation larger than the queue could never be granted.
    let step = tx.max_capacity().max(1);
    while !ready.is_empty() {
        let n = ready.len().min(step);
        match tx.reserve_many(n).await {
            Ok(permits) => {
                for (permit, m) in permits.zip(ready.drain(..n)) {
                    permit.send(m);
                }
            }
            Err(_) => return false,
        }
    }
    true
}
