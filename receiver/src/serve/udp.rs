//! UDP listeners: one socket per worker with SO_REUSEPORT and the largest receive buffer the
//! system grants, each read by a thread of its own; a datagram is one message. Datagrams are
//! read in batches with `recvmmsg` into a reused arena, so a busy worker makes one syscall,
//! one clock reading, one parcel and no allocation per datagram; after draining the socket a
//! worker pauses briefly (sized from the receive buffer) so that the next batch is full. UDP cannot push back on its sender: a full queue
//! drops the datagram and counts it (`dropped.queue_full`), and so does a writer that cannot
//! store (`dropped.store_unavailable`), each under its own name.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;

use bytes::BytesMut;
use socket2::{Domain, Protocol, Socket, Type};

use super::intake::{Intake, Refused};
use crate::clock::now_ns;
use crate::error::Error;
use crate::message::Message;

/// Binds `workers` sockets on `addr`.
pub fn bind(
    addr: SocketAddr,
    workers: usize,
    recv_buffer: usize,
) -> Result<Vec<(SocketAddr, std::net::UdpSocket)>, Error> {
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
        // SO_RCVBUF stops at net.core.rmem_max (208 KiB on a stock Debian: two milliseconds at
        // 100,000 datagrams/s). Root (CAP_NET_ADMIN) may go past it, as systemd's
        // ReceiveBuffer= and rsyslog's imudp do; picket binds before it drops root.
        let forced =
            s.recv_buffer_size().unwrap_or(0) < recv_buffer && force_recv_buffer(&s, recv_buffer);
        s.bind(&addr.into()).map_err(|e| err("bind", e))?;
        s.set_nonblocking(true).map_err(|e| err("nonblocking", e))?;
        if out.is_empty() {
            let granted = s.recv_buffer_size().unwrap_or(0);
            tracing::info!(
                %addr,
                requested = recv_buffer,
                granted,
                forced,
                workers,
                "udp receive buffer"
            );
        }
        // Read by a thread of its own (see `receive`), never registered with the runtime.
        let sock: std::net::UdpSocket = s.into();
        let local = sock.local_addr().unwrap_or(addr);
        addr = local;
        out.push((local, sock));
    }
    Ok(out)
}

/// Asks for `bytes` of receive buffer past `net.core.rmem_max` (SO_RCVBUFFORCE); true if the
/// kernel took it (it needs CAP_NET_ADMIN).
fn force_recv_buffer(s: &Socket, bytes: usize) -> bool {
    let Ok(v) = libc::c_int::try_from(bytes) else {
        return false;
    };
    // SAFETY: a valid socket, and an int option whose size is passed with it.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
    }
}

/// Most datagrams one `recvmmsg` call takes.
const BATCH: usize = 64;
/// Room for one datagram: the largest UDP payload fits, so nothing is ever cut.
const SLOT: usize = 65_536;
/// The shared buffer that kept datagrams are copied into; a new one is taken when the rest
/// of the current one is too small for a batch (about one allocation per 256 KiB received).
const CHUNK: usize = 256 * 1024;

/// Where `recvmmsg` puts a batch; allocated once per worker and reused. Pages of a slot are
/// touched only as far as datagrams reach, so small datagrams keep the resident part small.
struct Arena {
    slots: Vec<u8>,
    addrs: Vec<libc::sockaddr_storage>,
    /// Per datagram of the last batch: its length and the length of its address.
    got: Vec<(usize, libc::socklen_t)>,
}

impl Arena {
    fn new() -> Arena {
        // SAFETY: sockaddr_storage is plain data; all zeroes is a valid (AF_UNSPEC) value.
        let empty: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        Arena {
            slots: vec![0u8; BATCH * SLOT],
            addrs: vec![empty; BATCH],
            got: Vec::with_capacity(BATCH),
        }
    }

    /// One `recvmmsg` without waiting: how many datagrams arrived (`WouldBlock` if none).
    fn recv(&mut self, fd: std::os::fd::RawFd) -> std::io::Result<usize> {
        // SAFETY: iovec and mmsghdr are plain C structs; zeroed is their empty value.
        let mut iovs: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        let base = self.slots.as_mut_ptr();
        for (i, ((iov, hdr), addr)) in iovs
            .iter_mut()
            .zip(hdrs.iter_mut())
            .zip(self.addrs.iter_mut())
            .enumerate()
        {
            // SAFETY: slot i lies inside `slots` (BATCH * SLOT bytes).
            iov.iov_base = unsafe { base.add(i * SLOT) }.cast();
            iov.iov_len = SLOT;
            hdr.msg_hdr.msg_iov = iov;
            hdr.msg_hdr.msg_iovlen = 1;
            hdr.msg_hdr.msg_name = (addr as *mut libc::sockaddr_storage).cast();
            hdr.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as u32;
        }
        // SAFETY: every header points at its own slot and address, which outlive the call.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let n = usize::try_from(n).unwrap_or(0).min(BATCH);
        self.got.clear();
        self.got.extend(
            hdrs.iter()
                .take(n)
                .map(|h| ((h.msg_len as usize).min(SLOT), h.msg_hdr.msg_namelen)),
        );
        Ok(n)
    }

    /// Datagram `i` of the last batch.
    fn datagram(&self, i: usize) -> &[u8] {
        let len = self.got.get(i).map_or(0, |g| g.0);
        self.slots.get(i * SLOT..i * SLOT + len).unwrap_or_default()
    }

    /// The sender of datagram `i` of the last batch.
    fn peer(&self, i: usize) -> Option<SocketAddr> {
        let (ss, len) = (self.addrs.get(i)?, self.got.get(i)?.1 as usize);
        match i32::from(ss.ss_family) {
            libc::AF_INET if len >= std::mem::size_of::<libc::sockaddr_in>() => {
                // SAFETY: the kernel wrote a sockaddr_in here (family and length say so).
                let a =
                    unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
                Some(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                    u16::from_be(a.sin_port),
                )))
            }
            libc::AF_INET6 if len >= std::mem::size_of::<libc::sockaddr_in6>() => {
                // SAFETY: the kernel wrote a sockaddr_in6 here (family and length say so).
                let a =
                    unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(a.sin6_addr.s6_addr),
                    u16::from_be(a.sin6_port),
                    a.sin6_flowinfo,
                    a.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

/// The datagram without the line ends and NULs some senders put after the message.
fn trimmed(data: &[u8]) -> &[u8] {
    let keep = data.len()
        - data
            .iter()
            .rev()
            .take_while(|b| matches!(b, b'\n' | b'\r' | 0))
            .count();
    data.get(..keep).unwrap_or_default()
}

/// How long a receiving thread waits for a datagram before it looks at the shutdown flag.
const POLL_MS: libc::c_int = 100;

/// Receive buffer a small datagram takes in the kernel (its whole buffer, not the payload:
/// about 1.3 KiB for 200 bytes on loopback), rounded up so that the pause below errs short.
const DATAGRAM_TRUESIZE: usize = 2048;
/// The fastest arrival a pause is sized for: a datagram a microsecond (one socket on this
/// kind of machine takes well under that).
const WORST_NS_PER_DATAGRAM: u64 = 1_000;
/// The longest pause after draining the socket (also the most a datagram waits for it): 1 ms
/// gave the same CPU saving but more loss at 400,000/s on loopback than 200 µs.
const PAUSE_MAX_NS: u64 = 200_000;
/// Pauses shorter than this are not taken (the timer's own slack is 50 µs).
const PAUSE_MIN_NS: u64 = 100_000;

/// How long the thread pauses after draining the socket before it reads again: an eighth of
/// what the receive buffer holds at the fastest arrival [`WORST_NS_PER_DATAGRAM`], at most
/// [`PAUSE_MAX_NS`]; zero when that is too short to be worth a sleep (a small buffer).
///
/// Why pause at all: waking on every datagram or two cost the receiving thread a quarter of
/// its time in context switches at 300,000 datagrams/s (`perf`, bench/LOAD.md), time taken
/// from the writer on the same core, so the socket overflowed with the core 30 % idle. After
/// a pause the next `recvmmsg` calls come back full.
fn pause_ns(granted_bytes: usize) -> u64 {
    let room = (granted_bytes / DATAGRAM_TRUESIZE / 8) as u64;
    let ns = room.saturating_mul(WORST_NS_PER_DATAGRAM).min(PAUSE_MAX_NS);
    if ns < PAUSE_MIN_NS { 0 } else { ns }
}

/// Sleeps `ns` nanoseconds (less if a signal comes).
fn pause(ns: u64) {
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: libc::c_long::try_from(ns.min(999_999_999)).unwrap_or(0),
    };
    // SAFETY: a valid timespec; the remainder is not wanted.
    unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
}

/// The receive buffer the kernel granted the socket (SO_RCVBUF reports the doubled value it
/// accounts with), 0 if unknown.
fn granted_buffer(fd: std::os::fd::RawFd) -> usize {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: an int option read into an int whose size is passed with it.
    let ok = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    } == 0;
    if ok {
        usize::try_from(v).unwrap_or(0)
    } else {
        0
    }
}

/// Receives datagrams until shutdown, a batch per `recvmmsg`: one clock reading per batch,
/// the kept datagrams copied into one shared buffer and handed to the writer as one parcel.
///
/// Runs on a thread of its own (tokio's blocking pool), as rsyslog's imudp does, not as a task
/// on the runtime's workers: a datagram is read as soon as the kernel wakes this thread, never
/// after TCP connections, TLS handshakes or query replies that a worker was busy with. On a
/// loaded machine that difference is a socket buffer that does or does not overflow.
pub fn receive(
    addr: SocketAddr,
    sock: std::net::UdpSocket,
    intake: Intake,
    allow: Vec<picket_store::Cidr>,
) {
    let stats = &intake.stats;
    tracing::info!(%addr, "listening on udp");
    let fd = sock.as_raw_fd();
    let linger = pause_ns(granted_buffer(fd));
    let mut arena = Arena::new();
    let mut store = BytesMut::new();
    // Which datagrams of a batch the allow-list kept; reused from batch to batch.
    let mut keep: Vec<usize> = Vec::with_capacity(BATCH);
    while !intake.shutdown.is_cancelled() {
        let n = match arena.recv(fd) {
            Ok(n) if n > 0 => n,
            // Nothing queued (or an ICMP error queued on the socket, or a signal): wait.
            _ => {
                let mut pfd = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd for the duration of the call.
                unsafe { libc::poll(&mut pfd, 1, POLL_MS) };
                continue;
            }
        };
        let received_ns = now_ns();
        keep.clear();
        keep.extend((0..n).filter(|&i| {
            allow.is_empty()
                || arena
                    .peer(i)
                    .is_some_and(|peer| super::accept::allowed(&allow, peer, stats))
        }));
        if keep.is_empty() {
            continue;
        }
        stats
            .udp_received
            .fetch_add(keep.len() as u64, Ordering::Relaxed);
        if !stats.writer.is_healthy() {
            stats
                .dropped_store_unavailable
                .fetch_add(keep.len() as u64, Ordering::Relaxed);
            continue;
        }
        let total: usize = keep.iter().map(|&i| trimmed(arena.datagram(i)).len()).sum();
        if store.capacity() < total {
            store = BytesMut::with_capacity(CHUNK.max(total));
        }
        let mut msgs = Vec::with_capacity(keep.len());
        for &i in &keep {
            store.extend_from_slice(trimmed(arena.datagram(i)));
            msgs.push(Message {
                bytes: store.split().freeze(),
                received_ns,
                ack: None,
                // A datagram is whole: at most 64 KiB, which the arena's slots hold.
                truncated: false,
            });
        }
        if let Err(Refused::Full) = intake.try_send(msgs) {
            stats
                .dropped_queue_full
                .fetch_add(keep.len() as u64, Ordering::Relaxed);
        }
        if n < BATCH && linger > 0 {
            // The socket is drained: let a batch gather (see `pause_ns`).
            pause(linger);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_receive_buffer_never_pauses_and_a_large_one_pauses_at_most_the_cap() {
        // Debian's default without root: 208 KiB asked, 416 KiB granted: about 200
        // datagrams, a fifth of a millisecond at the worst rate: no pause is safe.
        assert_eq!(pause_ns(425_984), 0);
        // The 4 MiB of bench/load.sh (8 MiB granted) and picket's 32 MiB default as root.
        assert_eq!(pause_ns(8 << 20), PAUSE_MAX_NS);
        assert_eq!(pause_ns(64 << 20), PAUSE_MAX_NS);
        // In between, an eighth of what the buffer holds at a datagram a microsecond.
        assert_eq!(pause_ns(1 << 20), 0);
        assert_eq!(pause_ns(3 << 20), 192_000);
    }
}
