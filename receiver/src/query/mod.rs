//! The query socket: a Unix stream socket (mode 0600, or 0660 for one group) where people and
//! tools ask for stored events, follow live ones, and read the server's counters. One JSON
//! request per line; replies are JSON lines ended by `{"end":true,...}` (docs/protocol.md).
//!
//! A query client can never slow ingest: the writer has a thread of its own, and here every
//! resource a client can hold is bounded. At most `max_connections` connections (more get a
//! `busy` error, unless their first request is `stats`) and `max_streams` running scans and tails (a request over it waits up to two
//! seconds for a slot, then gets `busy`; `stats` needs no slot and always answers); a connection that asks nothing for `idle_timeout` is closed, one that reads
//! nothing of its reply for `write_timeout` is dropped. A scan runs on a blocking thread and
//! hands lines over a small bounded channel; it stops at its next event when its client goes
//! away (the socket hangs up), when the client stops reading, or when serve shuts down. A live
//! tail reads from a broadcast channel: a slow reader is told how many events it missed
//! (`{"lagged":N}`) and never holds anything up.

pub mod incidents;
pub mod logbook;
pub mod protocol;
pub mod reply;
pub mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use picket_parsers::write_event;
use picket_parsers::{ParseContext, parse_line};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use picket_store::{Query, Store, StoreError};
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::clock::now_ns;
use crate::error::Error;
use crate::message::Message;
use crate::stats::Stats;
use protocol::{MAX_REQUEST, ReplyError, Request};

/// How much of the server one query client may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// `events` scans and `tail`s running at once.
    pub max_streams: usize,
    /// A connection that sends no request for this long is closed.
    pub idle_timeout: Duration,
    /// A client that takes nothing of a reply for this long is disconnected.
    pub write_timeout: Duration,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_connections: 512,
            max_streams: 64,
            idle_timeout: Duration::from_secs(300),
            write_timeout: Duration::from_secs(10),
        }
    }
}

/// What connections need.
#[derive(Clone)]
pub struct Context {
    /// The store.
    pub store: Arc<Store>,
    /// Server counters.
    pub stats: Arc<Stats>,
    /// Live events.
    pub tail: broadcast::Sender<Message>,
    /// Zone of stamps without one.
    pub time_zone: i32,
    /// What one client may hold.
    pub limits: QueryLimits,
    /// Work that goes through the single writer (`import`).
    pub writer: mpsc::Sender<crate::message::WriterCommand>,
    /// The sensor's side of the socket (marks to the writer, changes from it); None when the
    /// sensor is off.
    pub sensor: Option<SensorLink>,
    /// The abuse-contact lookup and its cache (op `contact`).
    pub whois: Arc<WhoisLink>,
}

/// Lookups running at once: each holds a blocking thread for up to hops × timeout.
pub const MAX_LOOKUPS: usize = 4;

/// What the `contact` op needs: the settings, a bound on lookups, and the writer's cache
/// channel (the writer is the store's one writer).
pub struct WhoisLink {
    /// `[whois]`.
    pub settings: crate::contact::WhoisSettings,
    /// Lookups running at once (at most [`MAX_LOOKUPS`]).
    pub lookups: Semaphore,
    /// Cache writes to the writer.
    pub cache: mpsc::Sender<crate::contact::ContactWrite>,
}

/// How query connections reach the sensor, which the writer thread owns.
#[derive(Clone)]
pub struct SensorLink {
    /// Requests to the writer (marks, the by-target view).
    pub requests: mpsc::Sender<crate::sense::SensorRequest>,
    /// Changes as the writer stores them.
    pub watch: broadcast::Sender<crate::sense::WatchItem>,
    /// The sensor's settings (for staleness and noise rule names in replies).
    pub config: Arc<picket_sensor::SensorConfig>,
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
    let slots = Arc::new(Semaphore::new(ctx.limits.max_connections));
    let streams = Arc::new(Semaphore::new(ctx.limits.max_streams));
    let overflow = Arc::new(Semaphore::new(OVERFLOW_STATS));
    let mut conns = tokio::task::JoinSet::new();
    let mut backoff = Duration::from_millis(10);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors: the connection stays queued, so wait before retrying.
                Stats::inc(&ctx.stats.accept_errors);
                tracing::warn!("query socket: accept failed: {e}");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        backoff = Duration::from_millis(10);
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            let overflow = overflow.clone().try_acquire_owned().ok();
            conns.spawn(refuse(stream, ctx.clone(), overflow));
            while conns.try_join_next().is_some() {}
            continue;
        };
        let (ctx, shutdown, streams) = (ctx.clone(), shutdown.clone(), streams.clone());
        conns.spawn(async move {
            connection(stream, ctx, streams, shutdown).await;
            drop(permit);
        });
        while conns.try_join_next().is_some() {}
    }
    // Connections see the cancellation and end at their next step; scans stop at their next
    // event. Waiting for them is short, and bounded in case a client holds a write.
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.abort_all();
    let _ = std::fs::remove_file(&path);
}

/// How long an `events` or `tail` request waits for a stream slot before it is told `busy`.
const ADMISSION_WAIT: Duration = Duration::from_secs(2);

/// Connections over the limit that may still ask for `stats` at once: an operator looking at
/// a server whose query socket is flooded must see its counters.
const OVERFLOW_STATS: usize = 16;

/// How long a connection over the limit has to send `stats` (a client sends its request as
/// soon as it connects; one that waits is told `busy`).
const OVERFLOW_WAIT: Duration = Duration::from_millis(250);

/// Tells a client over the connection limit why it is turned away, unless (with an overflow
/// permit) its first request is `stats`: that one is answered, then the connection closes.
async fn refuse(
    mut stream: UnixStream,
    ctx: Context,
    overflow: Option<tokio::sync::OwnedSemaphorePermit>,
) {
    let write_timeout = ctx.limits.write_timeout;
    if overflow.is_some() {
        let mut line = Vec::with_capacity(64);
        let mut chunk = [0u8; 256];
        let read = tokio::time::timeout(OVERFLOW_WAIT, async {
            while memchr_nl(&line).is_none() && line.len() <= 256 {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => line.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                }
            }
        })
        .await;
        let first = memchr_nl(&line).and_then(|nl| line.get(..nl));
        if read.is_ok()
            && let Some(first) = first
            && matches!(protocol::parse(first, now_ns()), Ok(Request::Stats))
        {
            let _ = tokio::time::timeout(write_timeout, stream.write_all(&stats_lines(&ctx))).await;
            return;
        }
    }
    Stats::inc(&ctx.stats.query_refused);
    let e = ReplyError {
        code: "busy",
        message: "too many query connections; try again later (`stats` is still answered)".into(),
    };
    let _ = tokio::time::timeout(write_timeout, stream.write_all(&e.to_line())).await;
}

/// Writes to the client, or gives up after the write timeout (the client is not reading).
async fn send(wr: &mut OwnedWriteHalf, bytes: &[u8], ctx: &Context) -> bool {
    match tokio::time::timeout(ctx.limits.write_timeout, wr.write_all(bytes)).await {
        Ok(Ok(())) => true,
        Ok(Err(_)) => false,
        Err(_) => {
            Stats::inc(&ctx.stats.query_timeouts);
            false
        }
    }
}

async fn connection(
    stream: UnixStream,
    ctx: Context,
    streams: Arc<Semaphore>,
    shutdown: CancellationToken,
) {
    let who = peer_user(&stream);
    let (mut rd, mut wr) = stream.into_split();
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let mut discarding = false;
    // The idle clock restarts when a request has been answered, not on every byte: a client
    // that trickles a request a byte at a time would otherwise hold a connection slot for ever.
    let mut deadline = tokio::time::Instant::now() + ctx.limits.idle_timeout;
    loop {
        // Answer every whole line already read.
        while let Some(nl) = memchr_nl(&buf) {
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
            // An import takes the rest of the connection: the raw lines follow the request.
            if let Ok(Request::Import {
                reference,
                offset,
                fingerprint,
                name,
                force,
            }) = protocol::parse(line, now_ns())
            {
                let rest = std::mem::take(&mut buf);
                let file = ImportFile {
                    ctx: ParseContext::new(reference).with_offset(offset),
                    fingerprint,
                    name,
                    force,
                };
                import(file, rest, &mut rd, &mut wr, &ctx, &shutdown).await;
                return;
            }
            if !answer(line, &ctx, &streams, &who, &rd, &mut wr, &shutdown).await {
                return;
            }
            deadline = tokio::time::Instant::now() + ctx.limits.idle_timeout;
        }
        if buf.len() > MAX_REQUEST {
            buf.clear();
            if !discarding {
                discarding = true;
                Stats::inc(&ctx.stats.query_too_long);
                let e = ReplyError {
                    code: "too_long",
                    message: format!("a request is at most {MAX_REQUEST} bytes"),
                };
                if !send(&mut wr, &e.to_line(), &ctx).await {
                    return;
                }
            }
        }
        let n = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = tokio::time::timeout_at(deadline, rd.read(&mut chunk)) => match r {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(n)) => n,
                Err(_) => {
                    Stats::inc(&ctx.stats.query_timeouts);
                    return;
                }
            },
        };
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

fn memchr_nl(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|b| *b == b'\n')
}

/// Answers one request; false when the connection is done. `stats` and errors answer at
/// once; `events` and `tail` hold one of the stream slots while they run.
async fn answer(
    line: &[u8],
    ctx: &Context,
    streams: &Arc<Semaphore>,
    who: &str,
    rd: &OwnedReadHalf,
    wr: &mut OwnedWriteHalf,
    shutdown: &CancellationToken,
) -> bool {
    let request = match protocol::parse(line, now_ns()) {
        Err(e) => return send(wr, &e.to_line(), ctx).await,
        Ok(Request::Stats) => return send(wr, &stats_lines(ctx), ctx).await,
        Ok(Request::Mark {
            source,
            state,
            note,
        }) => return send(wr, &mark(ctx, source, state, note, who).await, ctx).await,
        Ok(Request::Notice(r)) => {
            let w = crate::sense::NoticeWrite::Notice(r);
            return send(wr, &notice_write(ctx, w, who).await, ctx).await;
        }
        Ok(Request::Followup(r)) => {
            let w = crate::sense::NoticeWrite::Followup(r);
            return send(wr, &notice_write(ctx, w, who).await, ctx).await;
        }
        Ok(Request::Contact { ip, lookup }) => {
            return send(wr, &contact(ctx, ip, lookup, who).await, ctx).await;
        }
        Ok(r) => r,
    };
    let needs_sensor = matches!(
        request,
        Request::Incidents(_)
            | Request::Incident(_)
            | Request::Watch(_)
            | Request::Targets(_)
            | Request::Notices(_)
    );
    if needs_sensor && ctx.sensor.is_none() {
        let e = ReplyError {
            code: "not_available",
            message: "the incident sensor is off ([sensor] enabled = false)".into(),
        };
        return send(wr, &e.to_line(), ctx).await;
    }
    // Clients that leave free their slots within milliseconds, so a request waits a moment
    // before it is told to come back.
    let Ok(Ok(_slot)) = tokio::time::timeout(ADMISSION_WAIT, streams.clone().acquire_owned()).await
    else {
        Stats::inc(&ctx.stats.query_refused);
        let e = ReplyError {
            code: "busy",
            message: format!(
                "{} scans and tails are running already; try again later",
                ctx.limits.max_streams
            ),
        };
        return send(wr, &e.to_line(), ctx).await;
    };
    match request {
        Request::Events(q, tag) => events(q, &tag, ctx, rd, wr, shutdown).await,
        Request::Tail(q) => {
            tail(q, ctx, wr, shutdown).await;
            false
        }
        Request::Incidents(f) => {
            let store = ctx.store.clone();
            let view = view(ctx);
            let lines = tokio::task::spawn_blocking(move || incident_list_lines(&store, &f, &view))
                .await
                .unwrap_or_default();
            send(wr, &lines, ctx).await
        }
        Request::Incident(source) => {
            let store = ctx.store.clone();
            let view = view(ctx);
            let lines = tokio::task::spawn_blocking(move || incident_lines(&store, &source, &view))
                .await
                .unwrap_or_default();
            send(wr, &lines, ctx).await
        }
        Request::Watch(after) => {
            watch(after, ctx, wr, shutdown).await;
            false
        }
        Request::Targets(min_sources) => send(wr, &targets(ctx, min_sources).await, ctx).await,
        Request::Notices(source) => {
            let store = ctx.store.clone();
            let lines = tokio::task::spawn_blocking(move || notices_lines(&store, source))
                .await
                .unwrap_or_default();
            send(wr, &lines, ctx).await
        }
        Request::Verify(expect) => {
            let store = ctx.store.clone();
            let lines = tokio::task::spawn_blocking(move || {
                lower_priority();
                verify_lines(&store, &expect)
            })
            .await
            .unwrap_or_default();
            send(wr, &lines, ctx).await
        }
        Request::Vacuum(policy) => {
            let store = ctx.store.clone();
            let lines = tokio::task::spawn_blocking(move || vacuum_lines(&store, &policy))
                .await
                .unwrap_or_default();
            send(wr, &lines, ctx).await
        }
        Request::Logbook(source) => {
            let store = ctx.store.clone();
            let lines =
                tokio::task::spawn_blocking(move || logbook::lines(&store, source.as_deref()))
                    .await
                    .unwrap_or_default();
            send(wr, &lines, ctx).await
        }
        // Import is taken by `connection` before it gets here.
        Request::Stats
        | Request::Mark { .. }
        | Request::Notice(_)
        | Request::Followup(_)
        | Request::Contact { .. }
        | Request::Import { .. } => true,
    }
}

/// The `verify` reply: the chain and logbook as of the request, checked while appends go
/// on, as the lines `picket verify` prints.
fn verify_lines(store: &Store, expect: &[String]) -> Vec<u8> {
    match verify::report(store, expect) {
        Err(e) => ReplyError::new("bad_filter", e).to_line(),
        Ok(Err(e)) => ReplyError::new("internal", e.to_string()).to_line(),
        Ok(Ok(r)) => with_end(&serde_json::json!({"verify": {"ok": r.ok, "lines": r.lines}})),
    }
}

/// The `vacuum` reply: what retention removed now, and what remains.
fn vacuum_lines(store: &Store, policy: &picket_store::Retention) -> Vec<u8> {
    let r = match store
        .apply_retention(policy, now_ns())
        .and_then(|r| store.flush().map(|_| r))
    {
        Ok(r) => r,
        Err(e) => return ReplyError::new("internal", e.to_string()).to_line(),
    };
    let v = serde_json::json!({"vacuum": {
        "removed_events": r.events,
        "removed_batches": r.batches,
        "events": store.counts().total,
        "bytes": store.live_bytes(),
    }});
    with_end(&v)
}

/// One reply object and the end line.
fn with_end(v: &serde_json::Value) -> Vec<u8> {
    let mut out = serde_json::to_vec(v).unwrap_or_default();
    out.extend_from_slice(b"\n{\"end\":true,\"count\":1}\n");
    out
}

/// Bytes of an import handed to the writer at once (whole lines; about 1 MiB).
const IMPORT_CHUNK: usize = 1 << 20;

/// The note kept of an earlier import, in words: "on 2026-12-02T04:22:20Z as auth.log, 6 lines".
pub fn describe_import(note: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(note).unwrap_or_default();
    let at = v.get("at").and_then(|a| a.as_str()).unwrap_or("?");
    format!(
        "on {} as {}, {} lines",
        at.get(..19).map_or(at.to_string(), |s| format!("{s}Z")),
        crate::text::safe_str(v.get("name").and_then(|n| n.as_str()).unwrap_or("?")),
        v.get("lines")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    )
}

/// What an `import` request says about its file.
struct ImportFile {
    ctx: ParseContext,
    fingerprint: Option<String>,
    name: String,
    force: bool,
}

/// `import`: says whether it takes the file (a file imported before is refused unless
/// forced), reads the raw lines that follow the request until the client shuts down its
/// sending side, hands them to the writer a chunk at a time (waiting for each, so a fast
/// client cannot queue more than a chunk), then answers how many lines were stored and
/// remembers the file.
async fn import(
    file: ImportFile,
    mut buf: Vec<u8>,
    rd: &mut OwnedReadHalf,
    wr: &mut OwnedWriteHalf,
    ctx: &Context,
    shutdown: &CancellationToken,
) {
    let pctx = file.ctx;
    if let Some(fp) = file.fingerprint.clone().filter(|_| !file.force) {
        let store = ctx.store.clone();
        let seen = tokio::task::spawn_blocking(move || store.imported(fp.as_bytes()))
            .await
            .ok();
        let line = match seen {
            Some(Ok(Some(note))) => ReplyError::new(
                "already_imported",
                format!(
                    "the same file was imported before ({}): force imports it again",
                    describe_import(&note)
                ),
            )
            .to_line(),
            Some(Ok(None)) => b"{\"importing\":true}\n".to_vec(),
            Some(Err(e)) => ReplyError::new("unavailable", e.to_string()).to_line(),
            None => ReplyError::new("internal", "the check for an earlier import failed").to_line(),
        };
        let go = line.starts_with(b"{\"importing");
        if !send(wr, &line, ctx).await || !go {
            return;
        }
    } else if !send(wr, b"{\"importing\":true}\n", ctx).await {
        return;
    }
    let mut chunk = vec![0u8; 64 * 1024];
    let (mut lines_seen, mut stored) = (0u64, 0u64);
    let mut eof = false;
    loop {
        while !eof && buf.len() < IMPORT_CHUNK {
            let n = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = tokio::time::timeout(ctx.limits.idle_timeout, rd.read(&mut chunk)) => match r {
                    Ok(Ok(n)) => n,
                    Ok(Err(_)) => return,
                    Err(_) => {
                        Stats::inc(&ctx.stats.query_timeouts);
                        return;
                    }
                },
            };
            eof = n == 0;
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
        // Whole lines only, unless the input ends (or one line is longer than a chunk).
        let cut = match buf.iter().rposition(|b| *b == b'\n') {
            Some(i) if !eof => i + 1,
            _ => buf.len(),
        };
        let data = bytes::Bytes::from(buf.drain(..cut).collect::<Vec<u8>>());
        let lines = split_lines(&data);
        lines_seen += lines.len() as u64;
        let last = eof && buf.is_empty();
        if !lines.is_empty() || last {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let cmd = crate::message::WriterCommand::Import {
                lines,
                ctx: pctx,
                last,
                reply: tx,
            };
            let answer = match ctx.writer.send(cmd).await {
                Ok(()) => tokio::time::timeout(Duration::from_secs(60), rx).await.ok(),
                Err(_) => None,
            };
            match answer {
                Some(Ok(Ok(n))) => stored += n,
                Some(Ok(Err(e))) => {
                    let e = ReplyError::new(
                        "unavailable",
                        format!("{e} ({stored} of the lines before stored)"),
                    );
                    let _ = send(wr, &e.to_line(), ctx).await;
                    return;
                }
                _ => {
                    let e = ReplyError::new(
                        "unavailable",
                        format!(
                            "the writer did not answer (serve stopping, or the store full); \
                             {stored} lines stored"
                        ),
                    );
                    let _ = send(wr, &e.to_line(), ctx).await;
                    return;
                }
            }
        }
        if last {
            break;
        }
    }
    if let Some(fp) = file.fingerprint {
        let note = serde_json::json!({
            "at": crate::clock::rfc3339(now_ns()),
            "name": file.name,
            "lines": lines_seen,
        })
        .to_string();
        let store = ctx.store.clone();
        let _ = tokio::task::spawn_blocking(move || {
            store.record_import(fp.as_bytes(), note.as_bytes())
        })
        .await;
    }
    let v = serde_json::json!({"imported": {"lines": lines_seen, "stored": stored}});
    let _ = send(wr, &with_end(&v), ctx).await;
}

/// Splits at `\n` as `picket import` reads a file: `\r\n` ends a line too, and a last line
/// without an end is a line.
fn split_lines(data: &bytes::Bytes) -> Vec<bytes::Bytes> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let end = data
            .get(start..)
            .and_then(|rest| rest.iter().position(|b| *b == b'\n'))
            .map_or(data.len(), |i| start + i);
        let mut line_end = end;
        if line_end > start && data.get(line_end - 1) == Some(&b'\r') {
            line_end -= 1;
        }
        out.push(data.slice(start..line_end));
        start = end + 1;
    }
    out
}

/// The `incidents` reply: one candidate per line, then the end line (with a cursor when the
/// limit cut the list).
fn incident_list_lines(
    store: &Store,
    f: &incidents::IncidentFilter,
    view: &incidents::View,
) -> Vec<u8> {
    let (list, cursor) = match incidents::list(store, f) {
        Ok(r) => r,
        Err(e) => return e.to_line(),
    };
    let mut out = Vec::new();
    for c in &list {
        let _ = serde_json::to_writer(&mut out, &incidents::to_json_with(c, false, view));
        out.push(b'\n');
    }
    let end = match cursor {
        Some(c) => serde_json::json!({"end": true, "count": list.len(), "cursor": c}),
        None => serde_json::json!({"end": true, "count": list.len()}),
    };
    let _ = serde_json::to_writer(&mut out, &end);
    out.push(b'\n');
    out
}

/// The `incident` reply: the candidate with its history and evidence.
fn incident_lines(store: &Store, source: &str, view: &incidents::View) -> Vec<u8> {
    match incidents::one(store, source) {
        Ok(Some(c)) => {
            let mut v = incidents::to_json_with(&c, true, view);
            crate::reports::attach(store, &mut v);
            let mut out =
                serde_json::to_vec(&serde_json::json!({"incident": v})).unwrap_or_default();
            out.extend_from_slice(b"\n{\"end\":true,\"count\":1}\n");
            out
        }
        Ok(None) => ReplyError {
            code: "not_found",
            message: format!(
                "no candidate for {}",
                crate::text::safe_text(source.as_bytes())
            ),
        }
        .to_line(),
        Err(e) => e.to_line(),
    }
}

/// The `targets` reply: hosts (and host-ports) hit by many distinct sources, from the book.
async fn targets(ctx: &Context, min_sources: u64) -> Vec<u8> {
    let Some(link) = &ctx.sensor else {
        return Vec::new();
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let req = crate::sense::SensorRequest::Targets {
        min_sources,
        reply: tx,
    };
    let hits = match link.requests.send(req).await {
        Ok(()) => tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .ok()
            .and_then(Result::ok),
        Err(_) => None,
    };
    let Some(hits) = hits else {
        return ReplyError {
            code: "unavailable",
            message: "the writer did not answer (the store may be full); try again".into(),
        }
        .to_line();
    };
    let mut out = Vec::new();
    for h in &hits {
        let host = match &h.host {
            picket_sensor::TargetHost::Addr(a) => a.to_string(),
            picket_sensor::TargetHost::Reporter(r) => crate::text::safe_text(r),
        };
        let v = serde_json::json!({
            "target": host,
            "reporter": matches!(h.host, picket_sensor::TargetHost::Reporter(_)),
            "port": h.port,
            "sources": h.sources,
            "last_seen": crate::clock::rfc3339(u64::try_from(h.last_seen).unwrap_or(0)),
        });
        let _ = serde_json::to_writer(&mut out, &v);
        out.push(b'\n');
    }
    out.extend_from_slice(format!("{{\"end\":true,\"count\":{}}}\n", hits.len()).as_bytes());
    out
}

/// The view replies judge candidates under: the running sensor's settings, now.
fn view(ctx: &Context) -> incidents::View {
    ctx.sensor
        .as_ref()
        .map_or_else(incidents::View::default, |l| incidents::View::of(&l.config))
}

/// The `notices` reply: one notice per line (with its replies), then the end line.
fn notices_lines(store: &Store, source: Option<picket_store::Cidr>) -> Vec<u8> {
    match crate::reports::list(store, source) {
        Ok(list) => {
            let mut out = Vec::new();
            for v in &list {
                let _ = serde_json::to_writer(&mut out, v);
                out.push(b'\n');
            }
            out.extend_from_slice(
                format!("{{\"end\":true,\"count\":{}}}\n", list.len()).as_bytes(),
            );
            out
        }
        Err(e) => e.to_line(),
    }
}

/// Hands a `notice` or `followup` write to the writer (the one that writes the store) and
/// waits for its answer.
async fn notice_write(ctx: &Context, write: crate::sense::NoticeWrite, who: &str) -> Vec<u8> {
    let Some(link) = &ctx.sensor else {
        return ReplyError {
            code: "not_available",
            message: "the incident sensor is off ([sensor] enabled = false)".into(),
        }
        .to_line();
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let req = crate::sense::SensorRequest::Notice {
        write,
        who: who.to_string(),
        reply: tx,
    };
    if link.requests.send(req).await.is_err() {
        return ReplyError::new("unavailable", "serve is stopping").to_line();
    }
    match tokio::time::timeout(Duration::from_secs(30), rx).await {
        Ok(Ok(Ok(v))) => {
            let mut out = serde_json::to_vec(&v).unwrap_or_default();
            out.extend_from_slice(b"\n{\"end\":true,\"count\":1}\n");
            out
        }
        Ok(Ok(Err(e))) => e.to_line(),
        _ => ReplyError::new(
            "unavailable",
            "the writer did not answer (the store may be full); try again",
        )
        .to_line(),
    }
}

/// The `contact` reply: the cached contact while it is fresh (or whatever is cached, with
/// `lookup` false); else a lookup on a blocking thread, cached through the writer.
async fn contact(ctx: &Context, ip: std::net::IpAddr, lookup: bool, who: &str) -> Vec<u8> {
    let link = ctx.whois.clone();
    let store = ctx.store.clone();
    let ttl = link.settings.cache_ttl;
    let now = now_ns();
    let found = tokio::task::spawn_blocking(move || crate::contact::cached(&store, ip, ttl, now))
        .await
        .ok();
    let line = |v: serde_json::Value| {
        let mut out = serde_json::to_vec(&v).unwrap_or_default();
        out.extend_from_slice(b"\n{\"end\":true,\"count\":1}\n");
        out
    };
    match found {
        Some(Ok(Some(c))) if c.fresh || !lookup => {
            return line(crate::contact::to_json(
                &c.contact,
                c.stored_at_ns,
                true,
                c.fresh,
            ));
        }
        Some(Ok(_)) => {}
        Some(Err(e)) => {
            let code = match e {
                StoreError::NeedsRecovery => "unavailable",
                _ => "internal",
            };
            return ReplyError::new(code, e.to_string()).to_line();
        }
        None => {
            return ReplyError::new("internal", "the cache read did not finish").to_line();
        }
    }
    if !lookup {
        return ReplyError::new(
            "not_found",
            format!("no cached contact for {ip} (ask with lookup true)"),
        )
        .to_line();
    }
    let Ok(_slot) = tokio::time::timeout(ADMISSION_WAIT, link.lookups.acquire()).await else {
        return ReplyError::new(
            "busy",
            format!("{MAX_LOOKUPS} whois lookups are running already; try again later"),
        )
        .to_line();
    };
    let cfg = link.settings.lookup.clone();
    let result = tokio::task::spawn_blocking(move || picket_whois::lookup(ip, &cfg))
        .await
        .ok();
    let c = match result {
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            let mut out = serde_json::to_vec(&crate::contact::error_json(&e)).unwrap_or_default();
            out.push(b'\n');
            return out;
        }
        None => return ReplyError::new("internal", "the lookup did not finish").to_line(),
    };
    let at = now_ns();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let write = crate::contact::ContactWrite {
        key: crate::contact::key(ip),
        bytes: c.to_json(),
        stored_at_ns: at,
        logged: crate::contact::lookup_action(who, ip, &c, at),
        reply: tx,
    };
    // The answer does not wait on a writer that is busy retrying a full disk.
    if link.cache.send(write).await.is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(5), rx).await;
    }
    line(crate::contact::to_json(&c, at, false, true))
}

/// Hands a `mark` to the writer and waits for its answer.
async fn mark(
    ctx: &Context,
    source: String,
    state: picket_sensor::State,
    note: String,
    who: &str,
) -> Vec<u8> {
    let Some(link) = &ctx.sensor else {
        return ReplyError {
            code: "not_available",
            message: "the incident sensor is off ([sensor] enabled = false)".into(),
        }
        .to_line();
    };
    // The candidate's key: the source as given, or the stored candidate holding the address.
    let store = ctx.store.clone();
    let given = source.clone();
    let found = tokio::task::spawn_blocking(move || incidents::one(&store, &given))
        .await
        .ok();
    let key = match found {
        Some(Ok(Some(c))) => c.key(),
        Some(Err(e)) => return e.to_line(),
        _ => {
            return ReplyError {
                code: "not_found",
                message: format!(
                    "no candidate for {}",
                    crate::text::safe_text(source.as_bytes())
                ),
            }
            .to_line();
        }
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let req = crate::sense::MarkRequest {
        source: key,
        state,
        note,
        who: who.to_string(),
        reply: tx,
    };
    if link
        .requests
        .send(crate::sense::SensorRequest::Mark(req))
        .await
        .is_err()
    {
        return ReplyError {
            code: "unavailable",
            message: "serve is stopping".into(),
        }
        .to_line();
    }
    match tokio::time::timeout(Duration::from_secs(30), rx).await {
        Ok(Ok(Ok(()))) => {
            let mut out = serde_json::to_vec(&serde_json::json!({"marked": {
                "source": key.to_string(), "state": state.as_str(), "who": who}}))
            .unwrap_or_default();
            out.extend_from_slice(b"\n{\"end\":true,\"count\":1}\n");
            out
        }
        Ok(Ok(Err(e))) => ReplyError {
            code: match e {
                crate::sense::MarkError::NoCandidate => "not_found",
                crate::sense::MarkError::Store => "unavailable",
            },
            message: e.to_string(),
        }
        .to_line(),
        _ => ReplyError {
            code: "unavailable",
            message: "the writer did not answer (the store may be full); try again".into(),
        }
        .to_line(),
    }
}

/// `watch`: every stored change after `after`, then new ones as the writer stores them. A
/// subscriber that falls behind is caught up from the store, so it never misses a change.
async fn watch(
    after: Option<u64>,
    ctx: &Context,
    wr: &mut OwnedWriteHalf,
    shutdown: &CancellationToken,
) {
    let Some(link) = &ctx.sensor else { return };
    let mut rx = link.watch.subscribe();
    let mut last = after;
    loop {
        // Catch up from the store: everything after the last number sent.
        let store = ctx.store.clone();
        let from = last;
        let backlog = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            let mut n = from;
            for item in store.changes_after(from) {
                let Ok((num, bytes)) = item else { break };
                if let Some(r) = crate::sense::change::ChangeRecord::decode(&bytes) {
                    out.extend_from_slice(&r.to_json(num));
                    out.push(b'\n');
                }
                n = Some(num);
                if out.len() > 1 << 20 {
                    break;
                }
            }
            (out, n)
        })
        .await
        .unwrap_or_default();
        let (lines, n) = backlog;
        if !lines.is_empty() && !send(wr, &lines, ctx).await {
            return;
        }
        let caught_up = n == last;
        last = n;
        if !caught_up {
            continue;
        }
        // Live.
        loop {
            let item = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = rx.recv() => r,
            };
            match item {
                Ok((num, bytes)) => {
                    if last.is_some_and(|l| num <= l) {
                        continue;
                    }
                    if last.is_some_and(|l| num > l + 1) || (last.is_none() && num > 1) {
                        break; // a gap: catch up from the store
                    }
                    let Some(r) = crate::sense::change::ChangeRecord::decode(&bytes) else {
                        last = Some(num);
                        continue;
                    };
                    let mut line = r.to_json(num);
                    line.push(b'\n');
                    if !send(wr, &line, ctx).await {
                        return;
                    }
                    last = Some(num);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => break,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

/// The OS user on the other end of the socket (for the history of a mark).
fn peer_user(stream: &UnixStream) -> String {
    let Ok(cred) = stream.peer_cred() else {
        return "unknown".into();
    };
    let uid = cred.uid();
    let name = std::fs::read_to_string("/etc/passwd").ok().and_then(|t| {
        t.lines().find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
        })
    });
    name.unwrap_or_else(|| format!("uid {uid}"))
}

/// Puts the calling thread (a blocking thread about to scan) at the lowest CPU priority, so
/// that scans take only the CPU that ingest leaves: on a busy machine a scan is slower, the
/// writer and the listeners are not. Linux gives each thread its own nice value.
fn lower_priority() {
    // SAFETY: setpriority only changes the scheduling priority of the calling thread (who = 0).
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

/// Sets its flag when dropped: ends a scan however its request ends.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Completes when the client has hung up entirely (not when it only shut down its sending
/// side, as `socat` and `nc -N` do after a request: those still read the reply).
async fn hung_up(rd: &OwnedReadHalf) {
    loop {
        // WRITE_CLOSED (the peer is gone: EPOLLHUP) is only reported to a writable interest.
        match rd.ready(Interest::READABLE | Interest::WRITABLE).await {
            Ok(r) if r.is_write_closed() => return,
            Err(_) => return,
            // Readable (a pipelined request) or half-closed: nothing to do but look again
            // later, without spinning on a readiness that stays set.
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// The process's resident memory now and at its peak (`VmRSS`, `VmHWM` of
/// /proc/self/status), in bytes; null where the system does not say.
fn process_memory(stats: &Stats) -> serde_json::Value {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().strip_suffix("kB"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
    };
    serde_json::json!({
        "rss_bytes": field("VmRSS:"),
        "peak_rss_bytes": field("VmHWM:"),
        "heap_trims": stats.heap_trims.load(Ordering::Relaxed),
        "last_trim_us": stats.last_trim_us.load(Ordering::Relaxed),
    })
}

fn stats_lines(ctx: &Context) -> Vec<u8> {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &ctx.stats;
    let counts = ctx.store.counts();
    let writer = match s.writer.problem() {
        None => serde_json::json!({"state": "ok"}),
        Some(p) => serde_json::json!({
            "state": if p.fatal { "failed" } else { "retrying" },
            "error": p.error,
            "since": crate::clock::rfc3339(p.since_ns),
            "retries": s.writer.retries(),
        }),
    };
    let parsed: serde_json::Map<String, serde_json::Value> = counts
        .by_dataset
        .iter()
        .map(|(d, n)| (d.as_str().to_string(), (*n).into()))
        .collect();
    let commits = s.commits.summary();
    let v = serde_json::json!({"stats": {
        "received": {
            "udp": s.udp_received.load(Relaxed),
            "tcp": s.tcp_received.load(Relaxed),
            "tls": s.tls_received.load(Relaxed),
            "relp": s.relp_received.load(Relaxed),
        },
        "relp_acked": s.relp_acked.load(Relaxed),
        "stored": s.stored.load(Relaxed),
        "truncated": s.truncated.load(Relaxed),
        "dropped": {
            "queue_full": s.dropped_queue_full.load(Relaxed),
            "allow_list": s.denied_sender.load(Relaxed),
            "bad_frame": s.bad_frames.load(Relaxed),
            "connection_limit": s.refused_connections.load(Relaxed),
            "tls_handshake": s.tls_refused.load(Relaxed),
            "store_unavailable": s.dropped_store_unavailable.load(Relaxed),
        },
        "connections_open": s.connections_open.load(Relaxed),
        "idle_closed": s.idle_closed.load(Relaxed),
        "accept_errors": s.accept_errors.load(Relaxed),
        "query": {
            "refused": s.query_refused.load(Relaxed),
            "timeouts": s.query_timeouts.load(Relaxed),
            "too_long": s.query_too_long.load(Relaxed),
        },
        "writer": writer,
        "queue": {
            "capacity_bytes": s.queue_capacity_bytes.load(Relaxed),
            "bytes": s.queued_bytes.load(Relaxed),
            "messages": s.queued_messages.load(Relaxed),
            "peak_bytes": s.queue_peak_bytes.load(Relaxed),
        },
        "commits": {
            "count": commits.count,
            "messages": commits.messages,
            "p50_us": commits.p50_us,
            "p99_us": commits.p99_us,
            "max_us": commits.max_us,
        },
        "memory": process_memory(&ctx.stats),
        "store": {
            "events": counts.total,
            "by_dataset": parsed,
            "bytes_on_disk": ctx.store.size_on_disk().unwrap_or(0),
            "open": !ctx.store.needs_recovery(),
            "incidents": ctx.store.incident_count(),
        },
    }});
    let mut out = serde_json::to_vec(&v).unwrap_or_default();
    out.extend_from_slice(b"\n{\"end\":true,\"count\":1}\n");
    out
}

async fn events(
    q: Query,
    tag: &str,
    ctx: &Context,
    rd: &OwnedReadHalf,
    wr: &mut OwnedWriteHalf,
    shutdown: &CancellationToken,
) -> bool {
    // A client that sent its request and left (fire and forget) gets no scan at all.
    if tokio::time::timeout(Duration::ZERO, hung_up(rd))
        .await
        .is_ok()
    {
        return false;
    }
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    // Cancelled when the client goes or serve stops; the scan looks at it before every event.
    let cancel = shutdown.child_token();
    let store = ctx.store.clone();
    // The store checks this flag at every row it looks at; the guard sets it whenever this
    // request ends, including when the connection task is dropped at shutdown.
    let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
    let scan_stop = stop.0.clone();
    let tag = tag.to_string();
    let scan = tokio::task::spawn_blocking(move || {
        lower_priority();
        let mut count = 0u64;
        let mut last = None;
        let mut line = Vec::with_capacity(1024);
        for item in store.scan(&q).stop_on(scan_stop) {
            let stored = match item {
                Ok(s) => s,
                Err(e) => {
                    let code = match e {
                        // The writer recovers the store after a write failure: ask again.
                        StoreError::NeedsRecovery => "unavailable",
                        _ => "internal",
                    };
                    let _ = tx.blocking_send(
                        ReplyError {
                            code,
                            message: e.to_string(),
                        }
                        .to_line(),
                    );
                    return;
                }
            };
            let Ok(ev) = stored.event() else { continue };
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
            Some(c) => {
                format!("{{\"end\":true,\"count\":{count},\"cursor\":\"{c}.{tag}\"}}\n")
            }
            None => format!("{{\"end\":true,\"count\":{count}}}\n"),
        };
        let _ = tx.blocking_send(end.into_bytes());
    });
    let mut ok = true;
    loop {
        let line = tokio::select! {
            l = rx.recv() => l,
            _ = hung_up(rd) => { ok = false; break }
            _ = cancel.cancelled() => { ok = false; break }
        };
        let Some(line) = line else { break };
        if !send(wr, &line, ctx).await {
            ok = false;
            break;
        }
    }
    cancel.cancel();
    drop(stop);
    drop(rx);
    // The scan ends at its next event (or its next send); the connection need not wait.
    drop(scan);
    ok
}

async fn tail(q: Query, ctx: &Context, wr: &mut OwnedWriteHalf, shutdown: &CancellationToken) {
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
                ev.truncated = item.truncated;
                // Time filters do not apply to a live tail.
                if !q.matches(&ev) {
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
        if !send(wr, &line, ctx).await {
            return;
        }
    }
    let _ = send(
        wr,
        format!("{{\"end\":true,\"count\":{count}}}\n").as_bytes(),
        ctx,
    )
    .await;
}
