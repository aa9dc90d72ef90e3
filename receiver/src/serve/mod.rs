//! `picket serve`: UDP, TCP, TLS and RELP listeners feeding one writer thread that parses and
//! stores every message, and the query socket beside them. Shaped like mini-redis:
//! [`Listeners::bind`] binds everything (a port in use is an error before anything runs),
//! [`run`] serves until its `shutdown` future completes, so tests run it in-process.
//! Shutdown stops the listeners, drains what connections had already read, stores it, writes
//! the index checkpoint and returns.
//!
//! ```text
//! udp workers ─┐                          bounded queue
//! tcp conns ───┼─ Message{bytes, received} ────────────► writer thread ─► parse, fold ─► store thread
//! (framing)    │   (UDP drops when full; TCP waits)        (batch by size or interval)   (append, flush)
//! relp conns ──┘◄── highest durable message, per connection ◄─ after each flush (group commit)
//! ```

mod accept;
mod activation;
mod committer;
mod config;
mod intake;
mod limits;
mod privilege;
mod relp;
mod tcp;
mod tls;
mod udp;
mod writer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use picket_store::Store;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

pub use config::{ServeArgs, ServeConfig};

use crate::clock::now_ns;
use crate::error::Error;
use crate::stats::Stats;

/// Every socket serve listens on, bound and ready, with the configuration they came from.
pub struct Listeners {
    cfg: ServeConfig,
    udp: Vec<(SocketAddr, std::net::UdpSocket)>,
    tcp: Vec<(SocketAddr, TcpListener)>,
    tls: Option<(SocketAddr, TcpListener, tls::SharedConfig)>,
    relp: Vec<(SocketAddr, TcpListener)>,
    relp_tls: Option<(SocketAddr, TcpListener, tls::SharedConfig)>,
    query: UnixListener,
    /// Whether this bind made the data directory (it is then handed to `run_as`).
    data_created: bool,
}

impl Listeners {
    /// Binds every listener of `cfg` (inside a tokio runtime). Port 0 picks a free port: ask
    /// [`Listeners::tcp_addrs`] and the others which one.
    pub fn bind(cfg: ServeConfig) -> Result<Listeners, Error> {
        let data_created = !cfg.data.exists();
        std::fs::create_dir_all(&cfg.data).map_err(|source| Error::File {
            op: "create",
            path: cfg.data.clone(),
            source,
        })?;
        // Sockets from systemd replace every configured listener: the socket units say
        // where picket listens.
        let mut inherited = activation::take()?;
        let mut udp = Vec::new();
        let mut tcp = Vec::new();
        let mut tls_listener = None;
        if inherited.is_empty() {
            for addr in &cfg.udp {
                udp.extend(udp::bind(*addr, cfg.udp_workers, cfg.recv_buffer)?);
            }
            for addr in &cfg.tcp {
                tcp.push(tcp::bind(*addr)?);
            }
            if let Some((addr, _)) = &cfg.tls {
                tls_listener = Some(tcp::bind(*addr)?);
            }
        } else {
            let err = |e: std::io::Error| Error::Usage(format!("a socket from systemd: {e}"));
            for s in inherited.udp {
                let addr = s.local_addr().map_err(err)?;
                tracing::info!(%addr, "udp socket from systemd");
                udp.push((addr, s));
            }
            for s in inherited.tcp {
                let addr = s.local_addr().map_err(err)?;
                tracing::info!(%addr, "tcp socket from systemd");
                tcp.push((addr, TcpListener::from_std(s).map_err(err)?));
            }
            if cfg.tls.is_some() && inherited.tls.is_empty() {
                tracing::warn!(
                    "TLS is configured but systemd handed over no TLS socket: TLS is off \
                     (add picket-tls.socket to the service's Sockets=)"
                );
            }
            if let Some(s) = inherited.tls.pop() {
                if cfg.tls.is_none() {
                    return Err(Error::Usage(
                        "systemd handed over a TLS socket, but no certificate is configured \
                         ([tls] cert and key, with any listen address, or --tls --cert --key)"
                            .into(),
                    ));
                }
                let addr = s.local_addr().map_err(err)?;
                tracing::info!(%addr, "tls socket from systemd");
                tls_listener = Some((addr, TcpListener::from_std(s).map_err(err)?));
            }
        }
        // TLS and RELP over TLS share one configuration (the same files), reloaded together.
        let shared: Option<tls::SharedConfig> = match cfg.tls.as_ref().or(cfg.relp_tls.as_ref()) {
            Some((_, files)) => Some(Arc::new(std::sync::RwLock::new(tls::load(files)?))),
            None => None,
        };
        let tls = match (tls_listener, &shared) {
            (Some((local, l)), Some(shared)) => Some((local, l, shared.clone())),
            _ => None,
        };
        let tls_on = |addr: Option<SocketAddr>| -> Result<_, Error> {
            match (addr, &shared) {
                (Some(addr), Some(shared)) => {
                    let (local, l) = tcp::bind(addr)?;
                    Ok(Some((local, l, shared.clone())))
                }
                _ => Ok(None),
            }
        };
        let relp_tls = tls_on(cfg.relp_tls.as_ref().map(|(a, _)| *a))?;
        let mut relp = Vec::new();
        for addr in &cfg.relp {
            relp.push(tcp::bind(*addr)?);
        }
        let query = crate::query::bind(&cfg.socket, cfg.socket_group.as_deref())?;
        Ok(Listeners {
            cfg,
            udp,
            tcp,
            tls,
            relp,
            relp_tls,
            query,
            data_created,
        })
    }

    /// Started as root with `user` configured: becomes that user now that everything is bound
    /// (see privilege.rs). Without `user`, a root serve says once that it keeps root.
    pub fn drop_privileges(&self) -> Result<(), Error> {
        match &self.cfg.run_as {
            Some(run_as) => privilege::drop_root(
                run_as,
                &self.cfg.socket,
                self.cfg.socket_group.as_deref(),
                &self.cfg.data,
                self.data_created,
            ),
            None => {
                privilege::warn_if_root();
                Ok(())
            }
        }
    }

    /// The UDP addresses bound (one per address, whatever the number of workers).
    pub fn udp_addrs(&self) -> Vec<SocketAddr> {
        let mut v: Vec<SocketAddr> = self.udp.iter().map(|(a, _)| *a).collect();
        v.dedup();
        v
    }

    /// The TCP addresses bound.
    pub fn tcp_addrs(&self) -> Vec<SocketAddr> {
        self.tcp.iter().map(|(a, _)| *a).collect()
    }

    /// The TLS address bound.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls.as_ref().map(|(a, _, _)| *a)
    }

    /// The RELP addresses bound.
    pub fn relp_addrs(&self) -> Vec<SocketAddr> {
        self.relp.iter().map(|(a, _)| *a).collect()
    }

    /// The RELP over TLS address bound.
    pub fn relp_tls_addr(&self) -> Option<SocketAddr> {
        self.relp_tls.as_ref().map(|(a, _, _)| *a)
    }

    /// The query socket's path.
    pub fn socket_path(&self) -> PathBuf {
        self.cfg.socket.clone()
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Messages stored.
    pub stored: u64,
}

/// Builds the runtime, binds, and serves until SIGTERM or SIGINT (what `picket serve` does).
pub fn run_until_signal(cfg: ServeConfig) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("picket")
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the runtime: {e}")))?;
    let r = runtime.block_on(async {
        let listeners = Listeners::bind(cfg)?;
        listeners.drop_privileges()?;
        run(listeners, wait_for_signal()).await
    });
    // Query scans notice the shutdown within a block; never wait on one for long.
    runtime.shutdown_timeout(Duration::from_secs(2));
    r.map(|_| ())
}

/// Serves until `shutdown` completes (or the writer fails for good), then drains and stores
/// what was read.
pub async fn run(
    listeners: Listeners,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<Summary, Error> {
    let Listeners {
        cfg,
        udp,
        tcp,
        tls,
        relp,
        relp_tls,
        query,
        data_created: _,
    } = listeners;
    let store = Store::open(&cfg.data, &cfg.store_config()).map_err(|source| Error::Store {
        dir: cfg.data.clone(),
        source,
    })?;
    let store = Arc::new(store);
    let stats = Arc::new(Stats::default());
    let stop = CancellationToken::new();
    let fatal = CancellationToken::new();
    let (intake, rx) = intake::queue(cfg.queue_bytes, stats.clone(), stop.clone());
    let (tail, _) = tokio::sync::broadcast::channel(4096);
    let (watch, _) = tokio::sync::broadcast::channel(4096);
    let (marks_tx, marks_rx) = mpsc::channel(64);
    let (commands_tx, commands_rx) = mpsc::channel(4);
    let (contacts_tx, contacts_rx) = mpsc::channel(64);
    let sensor = cfg.sensor.clone().map(|c| {
        let mut sensor = crate::sense::Sensor::new(c);
        if let Some(r) = &cfg.resolver {
            tracing::info!(server = %r.server, "names of sources are looked up");
            let names = crate::sense::resolve::spawn(r.clone(), marks_tx.clone(), stop.clone());
            sensor = sensor.with_resolver(names);
        }
        writer::WriterSensor {
            sensor,
            requests: marks_rx,
        }
    });

    let writer = writer::spawn(
        rx,
        cfg.writer_settings(),
        writer::WriterParts {
            store: store.clone(),
            stats: stats.clone(),
            tail: tail.clone(),
            stop: stop.clone(),
            fatal: fatal.clone(),
            watch: watch.clone(),
        },
        sensor,
        writer::WriterRequests {
            contacts: contacts_rx,
            commands: commands_rx,
        },
    )?;
    let query_task = tokio::spawn(crate::query::run(
        query,
        cfg.socket.clone(),
        crate::query::Context {
            store: store.clone(),
            stats: stats.clone(),
            tail,
            time_zone: cfg.time_zone,
            limits: cfg.query_limits(),
            writer: commands_tx,
            sensor: cfg.sensor.as_ref().map(|c| crate::query::SensorLink {
                requests: marks_tx,
                watch,
                config: Arc::new(c.clone()),
            }),
            whois: Arc::new(crate::query::WhoisLink {
                settings: cfg.whois.clone(),
                lookups: Semaphore::new(crate::query::MAX_LOOKUPS),
                cache: contacts_tx,
            }),
        },
        stop.clone(),
    ));

    let descriptors = limits::raise_descriptor_limit();
    let budget = limits::connection_budget(cfg.max_connections, descriptors);
    if budget < cfg.max_connections {
        tracing::warn!(
            configured = cfg.max_connections,
            budget,
            descriptors,
            "fewer connections than configured: the descriptor limit (LimitNOFILE) allows no more"
        );
    }
    let slots: limits::ConnectionSlots = Arc::new(Semaphore::new(budget));
    let conn_limits = cfg.conn_limits();
    let mut tasks = Vec::new();
    for (addr, sock) in udp {
        let (intake, allow) = (intake.clone(), cfg.udp_allow.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            udp::receive(addr, sock, intake, allow);
        }));
    }
    for (addr, listener) in tcp {
        tasks.push(tokio::spawn(tcp::run(
            addr,
            listener,
            intake.clone(),
            cfg.tcp_allow.clone(),
            slots.clone(),
            conn_limits,
        )));
    }
    for (addr, listener) in relp {
        tasks.push(tokio::spawn(relp::run(
            addr,
            listener,
            intake.clone(),
            cfg.relp_allow.clone(),
            slots.clone(),
            conn_limits,
        )));
    }
    let reload = tls
        .as_ref()
        .or(relp_tls.as_ref())
        .map(|(_, _, shared)| shared.clone())
        .zip(cfg.tls.as_ref().or(cfg.relp_tls.as_ref()));
    if let Some((shared, (_, files))) = reload {
        tasks.push(tokio::spawn(tls::reload_on_sighup(
            files.clone(),
            shared,
            stop.clone(),
        )));
    }
    if let Some((addr, listener, shared)) = tls {
        tasks.push(tokio::spawn(tls::run(
            (addr, listener),
            shared,
            intake.clone(),
            cfg.tls_allow.clone(),
            slots.clone(),
            conn_limits,
            tls::Inside::Syslog,
        )));
    }
    if let Some((addr, listener, shared)) = relp_tls {
        tasks.push(tokio::spawn(tls::run(
            (addr, listener),
            shared,
            intake.clone(),
            cfg.relp_allow.clone(),
            slots.clone(),
            conn_limits,
            tls::Inside::Relp,
        )));
    }
    if cfg.retention.max_age.is_some() || cfg.retention.max_bytes.is_some() {
        tasks.push(tokio::spawn(retention(
            store.clone(),
            cfg.retention,
            stop.clone(),
        )));
    }
    let heads_task = tokio::spawn(heads(
        store.clone(),
        cfg.head_file.clone(),
        cfg.head_interval,
        stop.clone(),
    ));
    drop(intake);
    tracing::info!(data = %cfg.data.display(), "picket is running");

    tokio::select! {
        _ = shutdown => tracing::info!("shutting down: draining connections"),
        _ = fatal.cancelled() => tracing::error!("shutting down: the store cannot be written"),
    }
    stop.cancel();
    for t in tasks {
        let _ = t.await;
    }
    // Every sender is gone: the writer stores what is queued and returns.
    let stored = writer.finish().await;
    let _ = query_task.await;
    let stored = stored?;
    store
        .checkpoint()
        .and_then(|()| store.flush().map(|_| ()))
        .map_err(|source| Error::Store {
            dir: cfg.data.clone(),
            source,
        })?;
    // The last heads, with everything stored.
    let mut last = heads_task.await.unwrap_or_default();
    write_heads(&store, cfg.head_file.as_deref(), &mut last);
    tracing::info!(stored, "stopped; {}", stats.summary());
    Ok(Summary { stored })
}

/// Writes the heads of the event chain and the logbook at start and every `interval` (when
/// they moved) to the log and to `file`, until shutdown; returns the last heads written.
async fn heads(
    store: Arc<Store>,
    file: Option<std::path::PathBuf>,
    interval: Duration,
    shutdown: CancellationToken,
) -> String {
    let mut last = String::new();
    loop {
        write_heads(&store, file.as_deref(), &mut last);
        tokio::select! {
            _ = shutdown.cancelled() => return last,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

/// Writes the heads if they differ from `last`: to the log, and appended to `file` as
/// `TIME HEADS` (one line each time, so that every head ever written can be checked).
fn write_heads(store: &Store, file: Option<&std::path::Path>, last: &mut String) {
    let heads = picket_store::format_heads(&store.heads());
    if heads.is_empty() || heads == *last {
        return;
    }
    tracing::info!(heads = %heads, "chain heads (record them elsewhere; picket verify --expect-head checks them)");
    if let Some(path) = file {
        use std::io::Write;
        let line = format!("{} {heads}\n", crate::clock::rfc3339(now_ns()));
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true);
        // Called by its path: tests/architecture.rs finds store writers by the method call.
        std::fs::OpenOptions::append(&mut opts, true);
        let r = opts
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()).and_then(|()| f.sync_data()));
        if let Err(e) = r {
            tracing::warn!(file = %path.display(), "cannot write the chain heads: {e}");
            return;
        }
    }
    *last = heads;
}

/// Applies retention at start and every minute until shutdown.
async fn retention(
    store: Arc<Store>,
    policy: picket_store::Retention,
    shutdown: CancellationToken,
) {
    loop {
        let s = store.clone();
        let pass = tokio::task::spawn_blocking(move || s.apply_retention(&policy, now_ns()));
        match pass.await.ok() {
            Some(Ok(r)) if r.batches > 0 => {
                tracing::info!(
                    events = r.events,
                    batches = r.batches,
                    "retention removed old events"
                )
            }
            Some(Err(e)) => tracing::error!("retention failed: {e}"),
            _ => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }
}

/// Completes on SIGTERM or SIGINT.
pub async fn wait_for_signal() {
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
