//! A small SMTP client (RFC 5321) for notices: EHLO, STARTTLS (RFC 3207, rustls with the ring
//! provider, certificates checked against `[report] smtp_ca` or the system's CAs), AUTH PLAIN
//! or LOGIN (RFC 4954, only over TLS), MAIL, RCPT, DATA with dot-stuffing, QUIT. Blocking, one
//! message per connection: notices are few, and the caller must learn the outcome of each one
//! before it records it. The caller's `before_data` runs between the last RCPT and DATA: that
//! is where the intent is recorded, so that nothing the relay may deliver goes unrecorded.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `host:port`.
    pub relay: String,
    /// STARTTLS first (refuse a relay that does not offer it).
    pub starttls: bool,
    /// CA file (None: /etc/ssl/certs/ca-certificates.crt).
    pub ca: Option<PathBuf>,
    /// AUTH user and password.
    pub auth: Option<(String, String)>,
    /// The name given in EHLO.
    pub helo: String,
    /// Per read and write.
    pub timeout: Duration,
}

/// Why a message was not sent, and whether it may have been.
#[derive(Debug)]
pub enum SmtpError {
    /// Nothing reached the relay's queue: the connection, TLS, AUTH, MAIL or RCPT failed, or
    /// `before_data` refused.
    NotSent(String),
    /// The relay refused the message after DATA (a definite answer: it was not accepted).
    Refused(String),
    /// DATA was sent but no answer came: the relay may or may not have the message.
    Unknown(String),
}

impl std::fmt::Display for SmtpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SmtpError::NotSent(m) => write!(f, "not sent: {m}"),
            SmtpError::Refused(m) => write!(f, "refused by the relay: {m}"),
            SmtpError::Unknown(m) => write!(
                f,
                "unconfirmed (the relay did not answer after the message): {m}"
            ),
        }
    }
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    Gone,
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
            Conn::Gone => Ok(0),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
            Conn::Gone => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
            Conn::Gone => Ok(()),
        }
    }
}

/// One connection: the stream and what has been read of it.
struct Session {
    conn: Conn,
    buf: Vec<u8>,
}

/// A reply: its code and its text lines.
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    fn text(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" / "))
    }
}

/// Longest reply line read (RFC 5321 allows 512; some relays write more).
const MAX_REPLY_LINE: usize = 4096;

impl Session {
    fn line(&mut self) -> Result<String, String> {
        loop {
            if let Some(p) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=p).collect();
                let s = String::from_utf8_lossy(&line);
                return Ok(crate::text::safe_text(s.trim_end().as_bytes()));
            }
            if self.buf.len() > MAX_REPLY_LINE {
                return Err("the relay sent a reply line over 4 KiB".into());
            }
            let mut chunk = [0u8; 1024];
            let n = self.conn.read(&mut chunk).map_err(|e| match e.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                    "the relay did not answer in time".to_string()
                }
                _ => format!("reading from the relay: {e}"),
            })?;
            if n == 0 {
                return Err("the relay closed the connection".into());
            }
            self.buf
                .extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
    }

    fn reply(&mut self) -> Result<Reply, String> {
        let mut lines = Vec::new();
        loop {
            let l = self.line()?;
            let code = l
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .ok_or_else(|| format!("the relay sent {l:?}, not an SMTP reply"))?;
            let more = l.as_bytes().get(3) == Some(&b'-');
            lines.push(l.get(4..).unwrap_or_default().to_string());
            if !more {
                return Ok(Reply { code, lines });
            }
            if lines.len() > 100 {
                return Err("the relay's reply has over 100 lines".into());
            }
        }
    }

    fn send(&mut self, cmd: &str) -> Result<(), String> {
        self.conn
            .write_all(cmd.as_bytes())
            .and_then(|()| self.conn.write_all(b"\r\n"))
            .and_then(|()| self.conn.flush())
            .map_err(|e| format!("writing to the relay: {e}"))
    }

    /// Sends `cmd` and wants a reply in `ok` (the first digit).
    fn command(&mut self, cmd: &str, ok: u16, what: &str) -> Result<Reply, String> {
        self.send(cmd)?;
        let r = self.reply()?;
        if r.code / 100 != ok {
            return Err(format!("{what}: {}", r.text()));
        }
        Ok(r)
    }
}

fn tls_config(ca: Option<&PathBuf>) -> Result<Arc<rustls::ClientConfig>, String> {
    let path = ca
        .cloned()
        .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(&path)
        .map_err(|e| format!("CA file {}: {e}", path.display()))?;
    for c in certs {
        let c = c.map_err(|e| format!("CA file {}: {e}", path.display()))?;
        // A bundle may hold certificates rustls cannot use; the others still count.
        let _ = roots.add(c);
    }
    if roots.is_empty() {
        return Err(format!("CA file {}: no usable certificate", path.display()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// What the relay offers after EHLO.
fn has(ehlo: &Reply, ext: &str) -> bool {
    ehlo.lines.iter().any(|l| {
        l.split_ascii_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(ext))
    })
}

fn auth_mechs(ehlo: &Reply) -> Vec<String> {
    ehlo.lines
        .iter()
        .filter_map(|l| {
            let mut w = l.split_ascii_whitespace();
            w.next()
                .filter(|a| a.eq_ignore_ascii_case("AUTH"))
                .map(|_| w.map(str::to_ascii_uppercase).collect::<Vec<_>>())
        })
        .flatten()
        .collect()
}

/// The message with SMTP's transparency (RFC 5321 4.5.2): CRLF line ends, a leading dot
/// doubled, then the end mark.
fn dot_stuffed(message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    for line in message.lines() {
        if line.starts_with('.') {
            out.push(b'.');
        }
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Sends one message from `from` to `to` (envelope addresses); runs `before_data` just
/// before DATA (an error there stops the message unsent). Returns the relay's answer to the
/// message (250 …).
pub fn send(
    cfg: &SmtpConfig,
    from: &str,
    to: &[String],
    message: &str,
    before_data: impl FnOnce() -> Result<(), String>,
) -> Result<String, SmtpError> {
    let not_sent = SmtpError::NotSent;
    let tcp = connect(&cfg.relay, cfg.timeout).map_err(not_sent)?;
    let mut s = Session {
        conn: Conn::Plain(tcp),
        buf: Vec::new(),
    };
    let greeting = s.reply().map_err(not_sent)?;
    if greeting.code != 220 {
        return Err(SmtpError::NotSent(format!("greeting: {}", greeting.text())));
    }
    let helo = format!("EHLO {}", cfg.helo);
    let mut ehlo = s.command(&helo, 2, "EHLO").map_err(not_sent)?;
    if cfg.starttls {
        if !has(&ehlo, "STARTTLS") {
            return Err(SmtpError::NotSent(
                "the relay does not offer STARTTLS ([report] starttls = false to send in the clear)"
                    .into(),
            ));
        }
        s.command("STARTTLS", 2, "STARTTLS").map_err(not_sent)?;
        // Anything the relay sent before the handshake is not to be trusted (RFC 3207 5).
        s.buf.clear();
        let host = cfg
            .relay
            .rsplit_once(':')
            .map_or(cfg.relay.as_str(), |(h, _)| h)
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let name = ServerName::try_from(host.clone())
            .map_err(|e| SmtpError::NotSent(format!("TLS name {host:?}: {e}")))?;
        let tls = tls_config(cfg.ca.as_ref()).map_err(not_sent)?;
        let conn = rustls::ClientConnection::new(tls, name)
            .map_err(|e| SmtpError::NotSent(format!("TLS: {e}")))?;
        let Conn::Plain(tcp) = std::mem::replace(&mut s.conn, Conn::Gone) else {
            return Err(SmtpError::NotSent("TLS: not a plain connection".into()));
        };
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        // Finish the handshake now, so a certificate problem is reported as one.
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock).map_err(|e| {
                SmtpError::NotSent(format!("TLS handshake with {}: {e}", cfg.relay))
            })?;
        }
        s.conn = Conn::Tls(Box::new(stream));
        ehlo = s
            .command(&helo, 2, "EHLO after STARTTLS")
            .map_err(not_sent)?;
    }
    if let Some((user, pass)) = &cfg.auth {
        if !matches!(s.conn, Conn::Tls(_)) {
            return Err(SmtpError::NotSent(
                "refusing to send the SMTP password without TLS ([report] starttls = true)".into(),
            ));
        }
        let mechs = auth_mechs(&ehlo);
        if mechs.iter().any(|m| m == "PLAIN") {
            let token = picket_notice::base64(format!("\0{user}\0{pass}").as_bytes());
            s.command(&format!("AUTH PLAIN {token}"), 2, "AUTH PLAIN")
                .map_err(not_sent)?;
        } else if mechs.iter().any(|m| m == "LOGIN") {
            s.command("AUTH LOGIN", 3, "AUTH LOGIN").map_err(not_sent)?;
            s.command(
                &picket_notice::base64(user.as_bytes()),
                3,
                "AUTH LOGIN user",
            )
            .map_err(not_sent)?;
            s.command(
                &picket_notice::base64(pass.as_bytes()),
                2,
                "AUTH LOGIN password",
            )
            .map_err(not_sent)?;
        } else {
            return Err(SmtpError::NotSent(format!(
                "the relay offers no AUTH PLAIN or LOGIN (it offers {:?})",
                mechs
            )));
        }
    }
    s.command(&format!("MAIL FROM:<{from}>"), 2, "MAIL FROM")
        .map_err(not_sent)?;
    for rcpt in to {
        s.command(&format!("RCPT TO:<{rcpt}>"), 2, &format!("RCPT TO {rcpt}"))
            .map_err(not_sent)?;
    }
    before_data().map_err(not_sent)?;
    // From here on the relay may end up with the message whatever happens to us.
    s.send("DATA").map_err(SmtpError::Unknown)?;
    let r = s.reply().map_err(SmtpError::Unknown)?;
    if r.code != 354 {
        return Err(SmtpError::Refused(format!("DATA: {}", r.text())));
    }
    s.conn
        .write_all(&dot_stuffed(message))
        .and_then(|()| s.conn.flush())
        .map_err(|e| SmtpError::Unknown(format!("writing the message: {e}")))?;
    let r = s.reply().map_err(SmtpError::Unknown)?;
    if r.code / 100 != 2 {
        return Err(SmtpError::Refused(r.text()));
    }
    let _ = s.send("QUIT");
    Ok(r.text())
}

fn connect(relay: &str, timeout: Duration) -> Result<TcpStream, String> {
    use std::net::ToSocketAddrs;
    let addrs = relay
        .to_socket_addrs()
        .map_err(|e| format!("relay {relay}: {e}"))?;
    let mut last = format!("relay {relay}: no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                s.set_read_timeout(Some(timeout))
                    .and_then(|()| s.set_write_timeout(Some(timeout)))
                    .map_err(|e| format!("relay {relay}: {e}"))?;
                return Ok(s);
            }
            Err(e) => last = format!("relay {relay} ({a}): {e}"),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparency() {
        assert_eq!(
            dot_stuffed("a\n.b\n..c\n"),
            b"a\r\n..b\r\n...c\r\n.\r\n".to_vec()
        );
    }
}
