//! TCP listener and connections: RFC 6587 framing per connection, the shared connection
//! budget, an idle timeout that only a whole message restarts (a byte a second does not). A
//! connection waits for room in the queue, and stops reading while the writer cannot store,
//! so backpressure reaches the sender; a damaged octet count costs its frame, not the
//! connection (picket-framing resynchronises). On shutdown
//! each connection stops reading, hands over every frame already read, and closes.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;

use bytes::BytesMut;
use picket_framing::{Frame, FrameDecoder};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpListener;
use tokio::time::Instant;

use super::accept::accept_loop;
use super::intake::Intake;
use super::limits::{ConnLimits, ConnectionSlots};
use crate::clock::now_ns;
use crate::error::Error;
use crate::message::Message;
use crate::stats::Stats;

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

/// Accepts TCP connections until shutdown, then waits for them to drain.
pub async fn run(
    addr: SocketAddr,
    listener: TcpListener,
    intake: Intake,
    allow: Vec<picket_store::Cidr>,
    slots: ConnectionSlots,
    limits: ConnLimits,
) {
    tracing::info!(%addr, "listening on tcp");
    let stats = intake.stats.clone();
    let shutdown = intake.shutdown.clone();
    accept_loop(
        listener,
        &allow,
        &slots,
        &stats,
        &shutdown,
        |stream, peer| {
            let intake = intake.clone();
            async move {
                let stats = intake.stats.clone();
                Stats::inc(&stats.connections_open);
                connection(stream, peer, &intake, &stats.tcp_received, limits).await;
                Stats::dec(&stats.connections_open);
            }
        },
    )
    .await;
}

/// Reads frames from one connection (plain TCP or TLS) until it ends, goes idle, or the server
/// shuts down. A bad octet count costs its frame, not the connection (see picket-framing).
pub async fn connection<S: AsyncRead + Readiness + Unpin>(
    mut stream: S,
    peer: SocketAddr,
    intake: &Intake,
    received: &AtomicU64,
    limits: ConnLimits,
) {
    let stats = &intake.stats;
    let mut decoder = FrameDecoder::new(limits.max_message);
    // Taken when data arrives, given back while the connection is idle (see below).
    let mut buf = BytesMut::new();
    // Frames of one read go to the writer together: one clock reading and one channel
    // reservation per read instead of per message. Grows on the first read, not at accept.
    let mut ready: Vec<Message> = Vec::new();
    let mut read_at = now_ns();
    // One warning per connection: a sender with a broken framer would flood the log.
    let mut warned = false;
    // The idle clock restarts when a whole message arrives, not on every byte: a sender that
    // trickles a message a byte at a time (slow loris) would otherwise hold its connection
    // slot and its partial frame for ever. It is closed like an idle one.
    let mut deadline = Instant::now() + limits.idle_timeout;
    loop {
        let mut complete = false;
        // Hand over every whole frame already read.
        while let Some(f) = decoder.decode(&mut buf) {
            complete = true;
            if f.resynced {
                Stats::inc(&stats.bad_frames);
                if !warned {
                    tracing::warn!(%peer, "octet count too large to be real; kept the bytes up to the next frame as one message and read on");
                    warned = true;
                }
            }
            ready.push(frame_message(f, read_at, stats, received));
            if ready.len() >= 512 && !hand_over(intake, &mut ready).await {
                return;
            }
        }
        if !hand_over(intake, &mut ready).await {
            return;
        }
        if complete {
            deadline = Instant::now() + limits.idle_timeout;
        }
        // While the store refuses writes, read nothing more: the sender waits, and the time
        // it is held back is not held against it.
        let paused = Instant::now();
        if !intake.writer_ready().await {
            break;
        }
        deadline += paused.elapsed();
        // Idle plain TCP with no partial frame: hand the 64 KiB read buffer back and wait for
        // readability without one, so an idle connection costs its task, not a buffer.
        if buf.is_empty()
            && let Some(sock) = stream.socket()
        {
            buf = BytesMut::new();
            let waited = tokio::select! {
                _ = intake.shutdown.cancelled() => break,
                r = tokio::time::timeout_at(deadline, sock.readable()) => r,
            };
            match waited {
                Ok(Ok(())) => {}
                Ok(Err(_)) => break,
                Err(_) => {
                    Stats::inc(&stats.idle_closed);
                    tracing::debug!(%peer, "closing idle connection");
                    break;
                }
            }
        }
        if buf.capacity() - buf.len() < 16 * 1024 {
            buf.reserve(64 * 1024);
        }
        let read = tokio::select! {
            _ = intake.shutdown.cancelled() => break,
            r = tokio::time::timeout_at(deadline, stream.read_buf(&mut buf)) => r,
        };
        match read {
            Ok(Ok(0)) => break,
            Ok(Ok(_)) => read_at = now_ns(),
            Ok(Err(_)) => break,
            Err(_) => {
                Stats::inc(&stats.idle_closed);
                tracing::debug!(%peer, "closing connection: no whole message within the idle timeout");
                break;
            }
        }
    }
    // End of stream or shutdown: what was read is stored too.
    while let Some(f) = decoder.decode(&mut buf) {
        if f.resynced {
            Stats::inc(&stats.bad_frames);
        }
        ready.push(frame_message(f, read_at, stats, received));
    }
    if let Some(f) = decoder.finish(&mut buf) {
        ready.push(frame_message(f, read_at, stats, received));
    }
    hand_over(intake, &mut ready).await;
}

/// Whether a stream can be waited on without a read buffer.
pub trait Readiness {
    /// The socket to wait on while no data is pending; `None` when the stream may hold data
    /// the socket does not show (TLS keeps decrypted bytes in its own buffers).
    fn socket(&self) -> Option<&tokio::net::TcpStream>;
}

impl Readiness for tokio::net::TcpStream {
    fn socket(&self) -> Option<&tokio::net::TcpStream> {
        Some(self)
    }
}

impl<S> Readiness for tokio_rustls::server::TlsStream<S> {
    fn socket(&self) -> Option<&tokio::net::TcpStream> {
        None
    }
}

/// Counts a frame and turns it into a message.
fn frame_message(f: Frame, received_ns: u64, stats: &Stats, received: &AtomicU64) -> Message {
    Stats::inc(received);
    if f.truncated {
        Stats::inc(&stats.truncated);
    }
    Message {
        bytes: f.bytes,
        received_ns,
        ack: None,
        truncated: f.truncated,
    }
}

/// Sends the ready messages as one parcel, waiting for room in the queue (backpressure);
/// false when the writer is gone.
pub(super) async fn hand_over(intake: &Intake, ready: &mut Vec<Message>) -> bool {
    if ready.is_empty() {
        return true;
    }
    let parcel = std::mem::take(ready);
    intake.send(parcel).await
}
