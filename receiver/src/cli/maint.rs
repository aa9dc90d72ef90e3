//! Where `verify`, `import` and `vacuum` run: through the running server's query socket when
//! one answers (ops `verify`, `import`, `vacuum`), else on the store itself. When the store is
//! locked and no socket answers, the error names the process that holds the lock and says
//! what to do, instead of sled's raw `could not acquire lock … WouldBlock`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use picket_store::{Store, StoreConfig};
use serde_json::{Map, Value};

use crate::error::Error;

/// A connection to the running server, or None when no server answers on `socket` (nothing
/// there, or a socket left behind by a crash).
pub fn server(socket: &Path) -> Option<UnixStream> {
    UnixStream::connect(socket).ok()
}

/// Sends one request line on `conn` (which may carry more after it) without reading.
pub fn send_request(conn: &mut UnixStream, req: &Map<String, Value>) -> Result<(), Error> {
    let mut line = serde_json::to_vec(req).unwrap_or_default();
    line.push(b'\n');
    conn.write_all(&line).map_err(server_gone)
}

/// Reads a reply: the one object before the end line, or the server's error as an error.
pub fn read_reply(conn: UnixStream) -> Result<Value, Error> {
    let mut first = Value::Null;
    for l in BufReader::new(conn).lines() {
        let l = l.map_err(server_gone)?;
        let v: Value = serde_json::from_str(&l)
            .map_err(|e| Error::Usage(format!("the server sent a line that is not JSON ({e})")))?;
        if let Some(e) = v.get("error") {
            return Err(Error::Usage(format!(
                "server: {} ({})",
                super::client::text(&e["message"]),
                super::client::text(&e["code"])
            )));
        }
        if v.get("end").is_some() {
            return Ok(first);
        }
        first = v;
    }
    Err(Error::Usage(
        "the server closed the connection before the end of its reply".into(),
    ))
}

/// Reads one reply line (byte by byte: the rest of the reply is read later, from the same
/// connection).
pub fn first_line(conn: &UnixStream) -> Result<Value, Error> {
    use std::io::Read;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    let mut r = conn;
    loop {
        match r.read(&mut byte).map_err(server_gone)? {
            0 => break,
            _ if byte == [b'\n'] => break,
            _ => line.extend_from_slice(&byte),
        }
    }
    serde_json::from_slice(&line)
        .map_err(|e| Error::Usage(format!("the server sent a line that is not JSON ({e})")))
}

fn server_gone(e: std::io::Error) -> Error {
    Error::Usage(format!("lost the connection to the server: {e}"))
}

/// Opens the store in `data` (no server answered on `socket`), turning a lock held by
/// another process into an error that says which process and what to do.
pub fn open_store(data: &Path, socket: &Path) -> Result<Store, Error> {
    Store::open(data, &StoreConfig::default()).map_err(|source| {
        let msg = source.to_string();
        if !msg.contains("could not acquire lock") {
            return Error::Store {
                dir: data.to_path_buf(),
                source,
            };
        }
        let who = match lock_holder(&data.join("db")) {
            Some((pid, cmd)) => format!("process {pid} ({cmd})"),
            None => "another process (not visible to this user; `fuser -v DATA/db` names it)"
                .to_string(),
        };
        Error::Usage(format!(
            "the store in {} is locked by {who}, and no server answers on the query socket {}. \
             If it is `picket serve` with its socket elsewhere, give --socket PATH (or \
             `socket` in --config); if it is another picket command, wait for it to finish; \
             otherwise stop that process and try again.",
            data.display(),
            socket.display()
        ))
    })
}

/// The process holding the `flock` on `file` (sled's lock on DATA/db), from /proc/locks,
/// with its command line.
fn lock_holder(file: &Path) -> Option<(u32, String)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(file).ok()?;
    let ino = meta.ino();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    let me = std::process::id();
    let pid = locks.lines().find_map(|l| {
        // "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF"
        let f: Vec<&str> = l.split_whitespace().collect();
        let (kind, pid, dev_ino) = (f.get(1)?, f.get(4)?, f.get(5)?);
        let inode: u64 = dev_ino.rsplit(':').next()?.parse().ok()?;
        let pid: u32 = pid.parse().ok()?;
        (*kind == "FLOCK" && inode == ino && pid != me).then_some(pid)
    })?;
    let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
        .ok()
        .map(|c| {
            let words: Vec<String> = c
                .split(|b| *b == 0)
                .filter(|w| !w.is_empty())
                .map(crate::text::safe_text)
                .collect();
            words.join(" ")
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "command line not readable".into());
    Some((pid, cmd))
}

/// The query socket the clients use: the flag, else the config's `socket`, else
/// DATA/picket.sock.
pub fn socket_path(data: &Path, flag: Option<&Path>, file: Option<&Path>) -> PathBuf {
    flag.or(file)
        .map_or_else(|| data.join("picket.sock"), Path::to_path_buf)
}
