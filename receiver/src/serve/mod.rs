//! `picket serve`: UDP and TCP listeners feeding one batching writer that parses and stores
//! every message. Shutdown (SIGTERM or SIGINT) stops the listeners, drains what connections
//! had already read, stores it, writes the index checkpoint and exits.
//!
//! ```text
//! udp workers ─┐                          bounded queue
//! tcp conns ───┼─ Message{bytes, received} ────────────► writer ─► parse ─► Store::append
//! (framing)   ─┘   (UDP drops when full; TCP waits)        (batch by size or interval)
//! ```

mod config;
mod stats;
mod tcp;
mod tls;
mod udp;
mod writer;

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use config::{ServeArgs, ServeConfig};
pub use stats::Stats;

use crate::error::Error;

/// One message as received, before parsing.
#[derive(Debug)]
pub struct Message {
    /// The message bytes (framing and trailing LF/NUL removed).
    pub bytes: bytes::Bytes,
    /// Receive time, Unix nanoseconds.
    pub received_ns: u64,
}

/// Receive time now, Unix nanoseconds.
pub fn now_ns() -> u64 {
    u64::try_from(picket_parsers::Timestamp::now().as_nanos()).unwrap_or(0)
}

/// Runs the server until SIGTERM or SIGINT.
pub fn run(cfg: ServeConfig) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("picket")
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(serve(cfg))
}

async fn serve(cfg: ServeConfig) -> Result<(), Error> {
    std::fs::create_dir_all(&cfg.data).map_err(|source| Error::File {
        op: "create",
        path: cfg.data.clone(),
        source,
    })?;
    let store = picket_store::Store::open(
        &cfg.data,
        &picket_store::StoreConfig {
            flush_every_ms: None,
            ..picket_store::StoreConfig::default()
        },
    )
    .map_err(|source| Error::Store {
        dir: cfg.data.clone(),
        source,
    })?;
    let store = Arc::new(store);
    let stats = Arc::new(Stats::default());
    let shutdown = CancellationToken::new();
    let (tx, rx) = mpsc::channel::<Message>(cfg.queue);

    // Bind everything first, so that a port in use is an error before anything runs.
    let mut udp_sockets = Vec::new();
    for addr in &cfg.udp {
        udp_sockets.extend(udp::bind(*addr, cfg.udp_workers, cfg.recv_buffer)?);
    }
    let mut tcp_listeners = Vec::new();
    for addr in &cfg.tcp {
        tcp_listeners.push(tcp::bind(*addr)?);
    }
    let tls = match &cfg.tls {
        Some((addr, files)) => {
            let shared: tls::SharedConfig = Arc::new(std::sync::RwLock::new(tls::load(files)?));
            Some((tcp::bind(*addr)?, files.clone(), shared))
        }
        None => None,
    };

    let query_listener = crate::query::bind(&cfg.socket, cfg.socket_group.as_deref())?;
    let (tail, _) = tokio::sync::broadcast::channel(4096);
    let writer = tokio::spawn(writer::run(
        rx,
        store.clone(),
        stats.clone(),
        cfg.clone(),
        tail.clone(),
    ));
    let query_ctx = crate::query::Context {
        store: store.clone(),
        stats: stats.clone(),
        tail,
        time_zone: cfg.time_zone,
    };
    let query_task = tokio::spawn(crate::query::run(
        query_listener,
        cfg.socket.clone(),
        query_ctx,
        shutdown.clone(),
    ));
    let mut tasks = Vec::new();
    for (addr, sock) in udp_sockets {
        tasks.push(tokio::spawn(udp::run(
            addr,
            sock,
            tx.clone(),
            stats.clone(),
            shutdown.clone(),
            cfg.udp_allow.clone(),
        )));
    }
    for (addr, listener) in tcp_listeners {
        tasks.push(tokio::spawn(tcp::run(
            addr,
            listener,
            tx.clone(),
            stats.clone(),
            shutdown.clone(),
            cfg.clone(),
        )));
    }
    if let Some(((addr, listener), files, shared)) = tls {
        tasks.push(tokio::spawn(tls::reload_on_sighup(
            files,
            shared.clone(),
            shutdown.clone(),
        )));
        tasks.push(tokio::spawn(tls::run(
            addr,
            listener,
            shared,
            tx.clone(),
            stats.clone(),
            shutdown.clone(),
            cfg.clone(),
        )));
    }
    if cfg.retention.max_age.is_some() || cfg.retention.max_bytes.is_some() {
        tasks.push(tokio::spawn(retention(
            store.clone(),
            cfg.clone(),
            shutdown.clone(),
        )));
    }
    drop(tx);
    tracing::info!(data = %cfg.data.display(), "picket is running");

    wait_for_signal().await;
    tracing::info!("shutting down: draining connections");
    shutdown.cancel();
    for t in tasks {
        let _ = t.await;
    }
    // Every sender is gone: the writer stores what is queued and returns.
    let stored = writer
        .await
        .map_err(|e| Error::Usage(format!("writer failed: {e}")))??;
    let _ = query_task.await;
    store
        .checkpoint()
        .and_then(|()| store.flush().map(|_| ()))
        .map_err(|source| Error::Store {
            dir: cfg.data.clone(),
            source,
        })?;
    tracing::info!(stored, "stopped; {}", stats.summary());
    Ok(())
}

/// Applies retention at start and every minute until shutdown.
async fn retention(store: Arc<picket_store::Store>, cfg: ServeConfig, shutdown: CancellationToken) {
    loop {
        let s = store.clone();
        let policy = cfg.retention;
        match tokio::task::spawn_blocking(move || s.apply_retention(&policy, now_ns())).await {
            Ok(Ok(r)) if r.batches > 0 => {
                tracing::info!(
                    events = r.events,
                    batches = r.batches,
                    "retention removed old events"
                )
            }
            Ok(Err(e)) => tracing::error!("retention failed: {e}"),
            _ => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
        }
    }
}

async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot watch SIGTERM ({e}); stop with SIGINT");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
