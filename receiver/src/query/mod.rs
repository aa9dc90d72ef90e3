//! The query socket: a Unix stream socket (mode 0600, or 0660 for one group) where people and
//! tools ask for stored events, follow live ones, and read the server's counters. One JSON
//! request per line; replies are JSON lines ended by `{"end":true,...}` (docs/protocol.md).
//!
//! Queries run on a blocking thread and hand lines to the connection through a small bounded
//! channel, so memory stays bounded however many events match, and a client that goes away
//! stops its scan. A live tail reads from a broadcast channel: a slow reader is told how many
//! events it missed (`{"lagged":N}`) and never slows ingest.

pub mod protocol;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use picket_parsers::json::write_event;
use picket_parsers::{Event, ParseContext, parse_line};
use picket_store::{Query, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::serve::{Stats, now_ns};
use protocol::{Extra, MAX_REQUEST, ReplyError, Request};

/// One message as the writer took it from the listeners, for live subscribers.
#[derive(Debug, Clone)]
pub struct TailItem {
    /// The message bytes.
    pub bytes: bytes::Bytes,
    /// Receive time, Unix nanoseconds.
    pub received_ns: u64,
}

/// What connections need.
#[derive(Clone)]
pub struct Context {
    /// The store.
    pub store: Arc<Store>,
    /// Server counters.
    pub stats: Arc<Stats>,
    /// Live events.
    pub tail: broadcast::Sender<TailItem>,
    /// Zone of stamps without one.
    pub time_zone: i32,
}

/// Looks up a group id in /etc/group.
fn group_id(name: &str) -> Option<u32> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        f.nth(1)?.parse().ok()
    })
}

/// Creates the socket at `path`: replaces a stale one left by a crash, refuses to start when
/// another picket answers there, and never lets the socket exist with a wider mode than it
/// should have (it is created under a temporary name, restricted, then renamed).
pub fn bind(path: &Path, group: Option<&str>) -> Result<UnixListener, Error> {
    use std::os::unix::fs::PermissionsExt;
    let err = |what: &str, e: std::io::Error| {
        Error::Usage(format!("query socket {}: {what}: {e}", path.display()))
    };
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(Error::Usage(format!(
                "query socket {}: another picket is running there",
                path.display()
            )));
        }
        std::fs::remove_file(path).map_err(|e| err("removing the stale socket", e))?;
        tracing::warn!(socket = %path.display(), "removed a stale query socket left by an earlier run");
    }
    let tmp = path.with_extension(format!("sock.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let listener = UnixListener::bind(&tmp).map_err(|e| err("bind", e))?;
    let mode = match group {
        Some(g) => {
            let gid = group_id(g)
                .ok_or_else(|| Error::Usage(format!("socket_group {g:?}: no such group")))?;
            std::os::unix::fs::chown(&tmp, None, Some(gid)).map_err(|e| err("chown", e))?;
            0o660
        }
        None => 0o600,
    };
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
        .map_err(|e| err("chmod", e))?;
    std::fs::rename(&tmp, path).map_err(|e| err("rename", e))?;
    Ok(listener)
}

/// Serves connections until shutdown, then removes the socket.
pub async fn run(listener: UnixListener, path: PathBuf, ctx: Context, shutdown: CancellationToken) {
    tracing::info!(socket = %path.display(), "query socket ready");
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else { continue };
        conns.spawn(connection(stream, ctx.clone(), shutdown.clone()));
        while conns.try_join_next().is_some() {}
    }
    conns.abort_all();
    let _ = std::fs::remove_file(&path);
}

async fn connection(stream: UnixStream, ctx: Context, shutdown: CancellationToken) {
    let (mut rd, mut wr) = stream.into_split();
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let mut discarding = false;
    loop {
        // Answer every whole line already read.
        while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=nl).collect();
            if discarding {
                discarding = false;
                continue;
            }
            let line = line.strip_suffix(b"\n").unwrap_or(&line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if !answer(line, &ctx, &mut wr, &shutdown).await {
                return;
            }
        }
        if buf.len() > MAX_REQUEST {
            buf.clear();
            if !discarding {
                discarding = true;
                let e = ReplyError {
                    code: "too_long",
                    message: format!("a request is at most {MAX_REQUEST} bytes"),
                };
                if wr.write_all(&e.to_line()).await.is_err() {
                    return;
                }
            }
        }
        let n = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = rd.read(&mut chunk) => match r { Ok(0) | Err(_) => return, Ok(n) => n },
        };
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

/// Answers one request; false when the connection is done.
async fn answer(
    line: &[u8],
    ctx: &Context,
    wr: &mut tokio::net::unix::OwnedWriteHalf,
    shutdown: &CancellationToken,
) -> bool {
    match protocol::parse(line, now_ns()) {
        Err(e) => wr.write_all(&e.to_line()).await.is_ok(),
        Ok(Request::Stats) => wr.write_all(&stats_lines(ctx)).await.is_ok(),
        Ok(Request::Events(q, extra)) => events(q, extra, ctx, wr).await,
        Ok(Request::Tail(q, extra)) => {
            tail(q, extra, ctx, wr, shutdown).await;
            false
        }
    }
}

fn stats_lines(ctx: &Context) -> Vec<u8> {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &ctx.stats;
    let counts = ctx.store.counts();
    let parsed: serde_json::Map<String, serde_json::Value> = counts
        .by_dataset
        .iter()
        .map(|(d, n)| (d.as_str().to_string(), (*n).into()))
        .collect();
    let v = serde_json::json!({"stats": {
        "received": {
            "udp": s.udp_received.load(Relaxed),
            "tcp": s.tcp_received.load(Relaxed),
            "tls": s.tls_received.load(Relaxed),
        },
        "stored": s.stored.load(Relaxed),
        "truncated": s.truncated.load(Relaxed),
        "dropped": {
            "queue_full": s.dropped_queue_full.load(Relaxed),
            "allow_list": s.denied_sender.load(Relaxed),
            "bad_frame": s.bad_frames.load(Relaxed),
            "connection_limit": s.refused_connections.load(Relaxed),
            "tls_handshake": s.tls_refused.load(Relaxed),
        },
        "connections_open": s.connections_open.load(Relaxed),
        "store": {
            "events": counts.total,
            "by_dataset": parsed,
            "bytes_on_disk": ctx.store.size_on_disk().unwrap_or(0),
        },
    }});
    let mut out = serde_json::to_vec(&v).unwrap_or_default();
    out.extend_from_slice(b"\n{\"end\":true,\"count\":1}\n");
    out
}

/// True when a live event passes the filters (time filters do not apply to a tail).
fn live_matches(q: &Query, extra: &Extra, ev: &Event<'_>) -> bool {
    q.dataset.is_none_or(|d| d == ev.dataset)
        && q.action.is_none_or(|a| Some(a) == ev.details.action)
        && q.source
            .is_none_or(|c| ev.details.source.ip.is_some_and(|ip| c.contains(ip)))
        && extra.matches(ev)
}

async fn events(
    q: Query,
    extra: Extra,
    ctx: &Context,
    wr: &mut tokio::net::unix::OwnedWriteHalf,
) -> bool {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let store = ctx.store.clone();
    let scan = tokio::task::spawn_blocking(move || {
        let mut count = 0u64;
        let mut last = None;
        let mut line = Vec::with_capacity(1024);
        for item in store.scan(&q) {
            let stored = match item {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.blocking_send(
                        ReplyError {
                            code: "internal",
                            message: e.to_string(),
                        }
                        .to_line(),
                    );
                    return;
                }
            };
            let Ok(ev) = stored.event() else { continue };
            if !extra.matches(&ev) {
                continue;
            }
            line.clear();
            write_event(&mut line, &ev);
            line.push(b'\n');
            if tx.blocking_send(line.clone()).is_err() {
                return; // the client went away
            }
            count += 1;
            last = Some(stored.cursor.clone());
        }
        // Written by hand so that "end" comes first for people reading socat output.
        let end = match last {
            Some(c) => format!("{{\"end\":true,\"count\":{count},\"cursor\":\"{c}\"}}\n"),
            None => format!("{{\"end\":true,\"count\":{count}}}\n"),
        };
        let _ = tx.blocking_send(end.into_bytes());
    });
    let mut ok = true;
    while let Some(line) = rx.recv().await {
        if wr.write_all(&line).await.is_err() {
            ok = false;
            break;
        }
    }
    drop(rx);
    let _ = scan.await;
    ok
}

async fn tail(
    q: Query,
    extra: Extra,
    ctx: &Context,
    wr: &mut tokio::net::unix::OwnedWriteHalf,
    shutdown: &CancellationToken,
) {
    let mut rx = ctx.tail.subscribe();
    let mut line = Vec::with_capacity(1024);
    let mut count = 0u64;
    loop {
        let item = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = rx.recv() => r,
        };
        line.clear();
        match item {
            Ok(item) => {
                let pctx = ParseContext::new((item.received_ns / 1_000_000_000) as i64)
                    .with_offset(ctx.time_zone);
                let mut ev = parse_line(&item.bytes, &pctx);
                if !live_matches(&q, &extra, &ev) {
                    continue;
                }
                ev.received = Some(picket_parsers::Timestamp {
                    secs: (item.received_ns / 1_000_000_000) as i64,
                    nanos: (item.received_ns % 1_000_000_000) as u32,
                });
                write_event(&mut line, &ev);
                line.push(b'\n');
                count += 1;
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                line.extend_from_slice(format!("{{\"lagged\":{n}}}\n").as_bytes());
            }
            Err(broadcast::error::RecvError::Closed) => break,
        }
        if wr.write_all(&line).await.is_err() {
            return;
        }
    }
    let _ = wr
        .write_all(format!("{{\"end\":true,\"count\":{count}}}\n").as_bytes())
        .await;
}
