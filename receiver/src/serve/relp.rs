//! RELP listener and sessions, as rsyslog's omrelp (librelp) speaks it: `open` answered with
//! picket's offers, `syslog` acknowledged with `rsp 200 OK` only once the batch holding the
//! message is stored and flushed (the writer reports it through the connection's channel),
//! `close` answered with `rsp` before the connection ends, `serverclose` sent when picket
//! stops with a session open. Transaction numbers must follow each other from 1 as in
//! librelp; a frame that breaks the grammar or the numbering closes the connection and is
//! counted as a bad frame (the sender resends what was not acknowledged).
//!
//! The sender's window: a session may have at most [`MAX_UNACKED`] messages waiting for
//! their acknowledgement; beyond that nothing more is read from it until acknowledgements go
//! out, so memory stays bounded and backpressure reaches the sender as on TCP (the queue to
//! the writer, and a paused writer, hold it back the same way). Over TLS the session runs
//! inside the TLS listener's handshake, certificate checks and allow-list.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use picket_framing::relp::{Command, RelpDecoder, RelpFrame, encode, next_txnr};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;

use super::accept::accept_loop;
use super::intake::Intake;
use super::limits::{ConnLimits, ConnectionSlots};
use super::tcp::hand_over;
use crate::clock::now_ns;
use crate::message::{Ack, Message};
use crate::stats::Stats;

/// Most messages of one session waiting for their acknowledgement (librelp's default window
/// is 128; omrelp's `windowSize` may raise it).
pub const MAX_UNACKED: usize = 1024;

/// How long a stopping server waits for the messages a session handed over to be stored, so
/// that it can acknowledge them and the sender need not resend them.
const ACK_GRACE: Duration = Duration::from_secs(5);

/// The answer to `open`: picket speaks RELP version 0 and the `syslog` command.
const OFFERS: &str = concat!(
    "200 OK\nrelp_version=0\nrelp_software=picket,",
    env!("CARGO_PKG_VERSION"),
    "\ncommands=syslog"
);

/// Accepts RELP connections until shutdown, then waits for them to drain.
pub async fn run(
    addr: SocketAddr,
    listener: TcpListener,
    intake: Intake,
    allow: Vec<picket_store::Cidr>,
    slots: ConnectionSlots,
    limits: ConnLimits,
) {
    tracing::info!(%addr, "listening on relp");
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
                connection(stream, peer, &intake, limits).await;
                Stats::dec(&stats.connections_open);
            }
        },
    )
    .await;
}

/// One session's state between frames.
struct Session {
    /// The transaction number the next frame must carry.
    expect: u32,
    /// `open` was answered.
    opened: bool,
    /// Messages handed to the writer so far (the last one's number).
    seq: u64,
    /// Messages handed over and not yet acknowledged: (number, transaction number).
    waiting: VecDeque<(u64, u32)>,
    /// The transaction number of `close`, answered once nothing waits.
    closing: Option<u32>,
    /// The session cannot go on (a bad frame, an unusable `open`): it ends after sending
    /// what it owes.
    failed: bool,
}

/// Serves one RELP session (plain TCP or TLS) until it closes, fails, goes idle, or the
/// server shuts down.
pub async fn connection<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    peer: SocketAddr,
    intake: &Intake,
    limits: ConnLimits,
) {
    let stats = &intake.stats;
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut decoder = RelpDecoder::new(limits.max_message);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let (ack_tx, mut durable) = watch::channel(0u64);
    let ack_tx = Arc::new(ack_tx);
    let mut health = stats.writer.watch();
    let mut s = Session {
        expect: 1,
        opened: false,
        seq: 0,
        waiting: VecDeque::new(),
        closing: None,
        failed: false,
    };
    let mut ready: Vec<Message> = Vec::with_capacity(512);
    let mut out = BytesMut::new();
    let mut read_at = now_ns();
    // Restarted by a whole frame, not by any byte: a sender trickling a frame a byte at a
    // time is closed as idle (slow loris), as on plain TCP.
    let mut last_frame = Instant::now();
    let stopping = loop {
        while s.waiting.len() < MAX_UNACKED && s.closing.is_none() && !s.failed {
            match decoder.decode(&mut buf) {
                Ok(Some(f)) => {
                    last_frame = Instant::now();
                    if let Err(why) = s.frame(f, read_at, &ack_tx, &mut ready, &mut out, stats) {
                        Stats::inc(&stats.bad_frames);
                        tracing::warn!(%peer, "closing RELP connection: {why}");
                        s.failed = true;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    Stats::inc(&stats.bad_frames);
                    tracing::warn!(%peer, "closing RELP connection: {e}");
                    s.failed = true;
                }
            }
            if ready.len() >= 512 && !hand_over(intake, &mut ready).await {
                return;
            }
        }
        if !hand_over(intake, &mut ready).await {
            return;
        }
        s.acknowledge(*durable.borrow_and_update(), &mut out, stats);
        let closed = match s.closing {
            Some(txnr) if s.waiting.is_empty() => {
                encode(txnr, "rsp", b"", &mut out);
                true
            }
            _ => false,
        };
        if !send(&mut wr, &mut out, limits.idle_timeout).await {
            return;
        }
        if closed || s.failed {
            let _ = wr.shutdown().await;
            return;
        }
        let can_read =
            s.waiting.len() < MAX_UNACKED && s.closing.is_none() && stats.writer.is_healthy();
        if buf.capacity() - buf.len() < 16 * 1024 {
            buf.reserve(64 * 1024);
        }
        tokio::select! {
            _ = intake.shutdown.cancelled() => break true,
            r = durable.changed() => if r.is_err() { return },
            _ = health.changed(), if !can_read => {}
            r = rd.read_buf(&mut buf), if can_read => match r {
                Ok(0) | Err(_) => break false,
                Ok(_) => read_at = now_ns(),
            },
            _ = tokio::time::sleep_until(last_frame + limits.idle_timeout), if s.waiting.is_empty() => {
                Stats::inc(&stats.idle_closed);
                tracing::debug!(%peer, "closing idle RELP connection");
                break false;
            }
        }
    };
    if !stopping {
        // The sender closed or went idle: what it handed over is stored all the same, and
        // what it did not hear acknowledged it sends again on its next session.
        return;
    }
    // Shutdown: acknowledge what the writer stores in time, then tell the sender to go.
    let grace = Instant::now() + ACK_GRACE;
    while !s.waiting.is_empty() {
        s.acknowledge(*durable.borrow_and_update(), &mut out, stats);
        if s.waiting.is_empty() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(grace) => break,
            r = durable.changed() => if r.is_err() { break },
        }
    }
    if s.opened {
        encode(0, "serverclose", b"", &mut out);
    }
    if send(&mut wr, &mut out, limits.idle_timeout).await {
        let _ = wr.shutdown().await;
    }
}

impl Session {
    /// Handles one frame: answers it in `out`, or queues its message in `ready`. An error
    /// ends the session (the reason is logged).
    fn frame(
        &mut self,
        f: RelpFrame,
        received_ns: u64,
        ack: &Arc<watch::Sender<u64>>,
        ready: &mut Vec<Message>,
        out: &mut BytesMut,
        stats: &Stats,
    ) -> Result<(), String> {
        // librelp numbers every client frame from 1 (0 is the server's hint number).
        if f.txnr != 0 {
            if f.txnr != self.expect {
                return Err(format!(
                    "transaction number {} where {} was due",
                    f.txnr, self.expect
                ));
            }
            self.expect = next_txnr(self.expect);
        }
        match f.command {
            Command::Open if self.opened => {
                encode(f.txnr, "rsp", b"200 connection already open - ignored", out);
            }
            Command::Open => {
                if !offers_syslog(&f.data) {
                    encode(
                        f.txnr,
                        "rsp",
                        b"500 required command not supported by client",
                        out,
                    );
                    return Err("the client does not offer the syslog command".into());
                }
                self.opened = true;
                encode(f.txnr, "rsp", OFFERS.as_bytes(), out);
            }
            Command::Syslog if !self.opened => {
                encode(f.txnr, "rsp", b"500 session not open", out);
                return Err("syslog before open".into());
            }
            Command::Syslog => {
                Stats::inc(&stats.relp_received);
                if f.truncated {
                    Stats::inc(&stats.truncated);
                }
                self.seq += 1;
                self.waiting.push_back((self.seq, f.txnr));
                ready.push(Message {
                    bytes: trim(f.data),
                    received_ns,
                    ack: Some(Ack {
                        to: ack.clone(),
                        seq: self.seq,
                    }),
                    truncated: f.truncated,
                });
            }
            Command::Close => self.closing = Some(f.txnr),
            Command::Rsp | Command::ServerClose | Command::Other(_) => {
                encode(f.txnr, "rsp", b"500 command not supported", out);
            }
        }
        Ok(())
    }

    /// Answers `200 OK` for every waiting message up to number `durable`, in order.
    fn acknowledge(&mut self, durable: u64, out: &mut BytesMut, stats: &Stats) {
        while let Some(&(seq, txnr)) = self.waiting.front() {
            if seq > durable {
                break;
            }
            self.waiting.pop_front();
            encode(txnr, "rsp", b"200 OK", out);
            Stats::inc(&stats.relp_acked);
        }
    }
}

/// True when the `commands` offer of an `open` names `syslog`.
fn offers_syslog(offers: &[u8]) -> bool {
    offers
        .split(|&b| b == b'\n')
        .filter_map(|line| line.strip_prefix(b"commands="))
        .any(|v| v.split(|&b| b == b',').any(|c| c == b"syslog"))
}

/// Drops trailing CR, LF and NUL, as the other listeners do.
fn trim(mut b: bytes::Bytes) -> bytes::Bytes {
    let keep = b.len()
        - b.iter()
            .rev()
            .take_while(|c| matches!(c, b'\r' | b'\n' | 0))
            .count();
    b.truncate(keep);
    b
}

/// Writes what is in `out` (a reader that does not read for `timeout` is given up); false
/// when the connection is gone.
async fn send<W: AsyncWrite + Unpin>(wr: &mut W, out: &mut BytesMut, timeout: Duration) -> bool {
    if out.is_empty() {
        return true;
    }
    let ok = matches!(
        tokio::time::timeout(timeout, wr.write_all(out)).await,
        Ok(Ok(()))
    ) && matches!(tokio::time::timeout(timeout, wr.flush()).await, Ok(Ok(())));
    out.clear();
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_syslog_command_must_be_offered() {
        assert!(offers_syslog(
            b"relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog"
        ));
        assert!(offers_syslog(b"commands=other,syslog\nrelp_version=0"));
        assert!(!offers_syslog(b"relp_version=0\ncommands=sys"));
        assert!(!offers_syslog(b""));
    }
}
