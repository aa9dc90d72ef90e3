//! systemd socket activation: listening sockets handed over from descriptor 3 on, as many as
//! `LISTEN_FDS` says, when `LISTEN_PID` is this process; `LISTEN_FDNAMES` (the socket
//! units' `FileDescriptorName=`) tells a TLS socket (a name containing `tls`) from a plain
//! TCP one. A datagram socket is UDP. systemd binds port 514 and 6514, so picket needs no
//! capability, and a restart loses no connection attempt: the sockets stay open meanwhile.

use std::os::fd::{FromRawFd, RawFd};

use crate::error::Error;

/// The first descriptor systemd hands over.
const FIRST_FD: RawFd = 3;

/// Sockets handed over by systemd, by kind.
#[derive(Debug, Default)]
pub struct Inherited {
    /// Datagram sockets: UDP syslog.
    pub udp: Vec<std::net::UdpSocket>,
    /// Stream sockets: plain TCP syslog.
    pub tcp: Vec<std::net::TcpListener>,
    /// The stream socket named `…tls…`: RFC 5425.
    pub tls: Vec<std::net::TcpListener>,
}

impl Inherited {
    /// Whether systemd handed over anything.
    pub fn is_empty(&self) -> bool {
        self.udp.is_empty() && self.tcp.is_empty() && self.tls.is_empty()
    }
}

/// The sockets systemd handed to this process, if it did (none when started otherwise).
pub fn take() -> Result<Inherited, Error> {
    let mut out = Inherited::default();
    let for_us = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        == Some(std::process::id());
    if !for_us {
        return Ok(out);
    }
    let count: RawFd = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let names: Vec<String> = std::env::var("LISTEN_FDNAMES")
        .map(|n| n.split(':').map(String::from).collect())
        .unwrap_or_default();
    for (i, fd) in (FIRST_FD..FIRST_FD.saturating_add(count.clamp(0, 64))).enumerate() {
        let bad = |what: &str, e: std::io::Error| {
            Error::Usage(format!(
                "socket {fd} from systemd (LISTEN_FDS): {what}: {e}"
            ))
        };
        // Looked at before it is owned: a descriptor that is not open (a wrong LISTEN_FDS)
        // may be reused by the runtime, and owning it would close someone else's.
        // SAFETY: fcntl(F_GETFD) only reads the descriptor's flags.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Err(bad("not open", std::io::Error::last_os_error()));
        }
        // SAFETY: the descriptor is open (above) and stays open while borrowed here.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let kind = socket2::SockRef::from(&borrowed)
            .r#type()
            .map_err(|e| bad("not a socket", e))?;
        // SAFETY: systemd's protocol gives this process descriptors FIRST_FD.. FIRST_FD+count
        // as open listening sockets that nothing else in it owns; each is taken once here.
        let sock = unsafe { socket2::Socket::from_raw_fd(fd) };
        sock.set_cloexec(true).map_err(|e| bad("FD_CLOEXEC", e))?;
        sock.set_nonblocking(true)
            .map_err(|e| bad("O_NONBLOCK", e))?;
        let name = names.get(i).map(String::as_str).unwrap_or("");
        if kind == socket2::Type::DGRAM {
            out.udp.push(sock.into());
        } else if kind == socket2::Type::STREAM {
            if name.contains("tls") {
                out.tls.push(sock.into());
            } else {
                out.tcp.push(sock.into());
            }
        } else {
            return Err(Error::Usage(format!(
                "socket {fd} from systemd ({name:?}) is neither a datagram nor a stream socket"
            )));
        }
    }
    if out.tls.len() > 1 {
        return Err(Error::Usage(
            "systemd handed over more than one TLS socket; picket serves one".into(),
        ));
    }
    Ok(out)
}
