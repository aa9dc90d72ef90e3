//! Server settings: the embedded default of DESIGN.md, overridden by flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// Flags of `picket serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// UDP address to listen on (repeatable; default 0.0.0.0:5514).
    #[arg(long, value_name = "ADDR")]
    pub udp: Vec<SocketAddr>,
    /// TCP address to listen on (repeatable; default 0.0.0.0:5514).
    #[arg(long, value_name = "ADDR")]
    pub tcp: Vec<SocketAddr>,
    /// TLS address to listen on (RFC 5425); needs --cert and --key.
    #[arg(long, value_name = "ADDR", requires_all = ["cert", "key"])]
    pub tls: Option<SocketAddr>,
    /// TLS certificate chain (PEM); reloaded on SIGHUP.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub cert: Option<PathBuf>,
    /// TLS private key (PEM); reloaded on SIGHUP.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub key: Option<PathBuf>,
    /// Require TLS clients to present a certificate signed by this CA (PEM): mutual TLS.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub client_ca: Option<PathBuf>,
    /// Accept messages only from these senders (address or CIDR, repeatable; default: all).
    /// Others are counted and nothing of theirs is stored.
    #[arg(long, value_name = "CIDR")]
    pub allow: Vec<picket_store::Cidr>,
    /// Do not listen on UDP.
    #[arg(long)]
    pub no_udp: bool,
    /// Do not listen on TCP.
    #[arg(long)]
    pub no_tcp: bool,
    /// Longest message kept, in bytes; longer ones are cut, flagged and counted.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024)]
    pub max_message: usize,
    /// Most TCP connections open at once; more are refused and counted.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Close a TCP connection idle for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub idle_timeout: u64,
    /// Store a batch at least this often (milliseconds); a crash loses at most this much.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub flush_interval: u64,
}

/// Everything the server runs with.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Data directory.
    pub data: PathBuf,
    /// UDP listen addresses.
    pub udp: Vec<SocketAddr>,
    /// TCP listen addresses.
    pub tcp: Vec<SocketAddr>,
    /// TLS listen address and its files.
    pub tls: Option<(SocketAddr, super::tls::TlsFiles)>,
    /// Senders allowed (empty: all).
    pub allow: Vec<picket_store::Cidr>,
    /// Maximum message size in bytes.
    pub max_message: usize,
    /// Maximum open TCP connections.
    pub max_connections: usize,
    /// TCP idle timeout.
    pub idle_timeout: Duration,
    /// Longest time a message waits before it is stored.
    pub flush_interval: Duration,
    /// Most messages in one write batch.
    pub batch_events: usize,
    /// Messages queued between the listeners and the writer.
    pub queue: usize,
    /// UDP sockets per address (SO_REUSEPORT).
    pub udp_workers: usize,
    /// Requested UDP receive buffer in bytes.
    pub recv_buffer: usize,
}

const DEFAULT_ADDR: &str = "0.0.0.0:5514";

impl ServeConfig {
    /// The embedded default with the flags applied.
    pub fn from_args(data: PathBuf, a: &ServeArgs) -> ServeConfig {
        let default: Vec<SocketAddr> = DEFAULT_ADDR.parse().into_iter().collect();
        let pick = |given: &Vec<SocketAddr>, off: bool| match (off, given.is_empty()) {
            (true, _) => Vec::new(),
            (false, true) => default.clone(),
            (false, false) => given.clone(),
        };
        ServeConfig {
            data,
            udp: pick(&a.udp, a.no_udp),
            tcp: pick(&a.tcp, a.no_tcp),
            tls: match (a.tls, &a.cert, &a.key) {
                (Some(addr), Some(cert), Some(key)) => Some((
                    addr,
                    super::tls::TlsFiles {
                        cert: cert.clone(),
                        key: key.clone(),
                        client_ca: a.client_ca.clone(),
                    },
                )),
                _ => None,
            },
            allow: a.allow.clone(),
            max_message: a.max_message.max(64),
            max_connections: a.max_connections.max(1),
            idle_timeout: Duration::from_secs(a.idle_timeout.max(1)),
            flush_interval: Duration::from_millis(a.flush_interval.max(10)),
            batch_events: 20_000,
            queue: 100_000,
            udp_workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            recv_buffer: 32 << 20,
        }
    }
}
