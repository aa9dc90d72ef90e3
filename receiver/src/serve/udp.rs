//! UDP listeners: one socket per worker with SO_REUSEPORT and the largest receive buffer the
//! system grants; a datagram is one message. UDP cannot push back on its sender: a full queue
//! drops the datagram and counts it (`dropped.queue_full`), and so does a writer that cannot
//! store (`dropped.store_unavailable`), each under its own name.

use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use super::intake::Intake;
use crate::clock::now_ns;
use crate::error::Error;
use crate::message::Message;
use crate::stats::Stats;

/// Binds `workers` sockets on `addr`.
pub fn bind(
    addr: SocketAddr,
    workers: usize,
    recv_buffer: usize,
) -> Result<Vec<(SocketAddr, UdpSocket)>, Error> {
    let err = |what: &str, e: std::io::Error| {
        Error::Usage(format!("cannot listen on udp {addr}: {what}: {e}"))
    };
    let mut out = Vec::new();
    // Port 0 asks for a free port: the first worker gets it, the others join that one.
    let mut addr = addr;
    for _ in 0..workers.max(1) {
        let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
            .map_err(|e| err("socket", e))?;
        s.set_reuse_port(true).map_err(|e| err("SO_REUSEPORT", e))?;
        if addr.is_ipv6() {
            let _ = s.set_only_v6(true);
        }
        let _ = s.set_recv_buffer_size(recv_buffer);
        s.bind(&addr.into()).map_err(|e| err("bind", e))?;
        s.set_nonblocking(true).map_err(|e| err("nonblocking", e))?;
        if out.is_empty() {
            let granted = s.recv_buffer_size().unwrap_or(0);
            tracing::info!(%addr, requested = recv_buffer, granted, workers, "udp receive buffer");
        }
        let sock = UdpSocket::from_std(s.into()).map_err(|e| err("register", e))?;
        let local = sock.local_addr().unwrap_or(addr);
        addr = local;
        out.push((local, sock));
    }
    Ok(out)
}

/// Receives datagrams until shutdown.
pub async fn run(
    addr: SocketAddr,
    sock: UdpSocket,
    intake: Intake,
    allow: Vec<picket_store::Cidr>,
) {
    let stats = &intake.stats;
    tracing::info!(%addr, "listening on udp");
    let mut buf = vec![0u8; 65_536];
    loop {
        let got = tokio::select! {
            _ = intake.shutdown.cancelled() => break,
            r = sock.recv_from(&mut buf) => r,
        };
        let Ok((n, peer)) = got else { continue };
        if !super::accept::allowed(&allow, peer, stats) {
            continue;
        }
        let data = buf.get(..n).unwrap_or_default();
        let keep = data.len()
            - data
                .iter()
                .rev()
                .take_while(|b| matches!(b, b'\n' | b'\r' | 0))
                .count();
        Stats::inc(&stats.udp_received);
        let msg = Message {
            bytes: bytes::Bytes::copy_from_slice(data.get(..keep).unwrap_or_default()),
            received_ns: now_ns(),
            ack: None,
        };
        if !stats.writer.is_healthy() {
            Stats::inc(&stats.dropped_store_unavailable);
        } else if intake.tx.try_send(msg).is_err() {
            Stats::inc(&stats.dropped_queue_full);
        }
    }
}
