//! Server settings: the embedded default of DESIGN.md, overridden by flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::config::{FileConfig, cidrs};
use crate::error::Error;

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
    #[arg(long, value_name = "ADDR")]
    pub tls: Option<SocketAddr>,
    /// RELP address to listen on (rsyslog omrelp; repeatable; default: none). A message is
    /// acknowledged only once it is stored and flushed.
    #[arg(long, value_name = "ADDR")]
    pub relp: Vec<SocketAddr>,
    /// RELP over TLS address; needs --cert and --key (and takes --client-ca as TLS does).
    #[arg(long, value_name = "ADDR")]
    pub relp_tls: Option<SocketAddr>,
    /// TLS certificate chain (PEM); reloaded on SIGHUP.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// TLS private key (PEM); reloaded on SIGHUP.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Require TLS clients to present a certificate signed by this CA (PEM): mutual TLS.
    #[arg(long, value_name = "FILE")]
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
    /// Longest message kept, in bytes; longer ones are cut, flagged and counted [default: 65536].
    #[arg(long, value_name = "BYTES")]
    pub max_message: Option<usize>,
    /// Most TCP and TLS connections open at once (one budget for all listeners, kept below
    /// the descriptor limit); more are refused and counted [default: 10000].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Close a TCP connection that sends no whole message for this many seconds [default: 600].
    #[arg(long, value_name = "SECS")]
    pub idle_timeout: Option<u64>,
    /// Store a batch at least this often (milliseconds); a crash loses at most this much
    /// [default: 1000].
    #[arg(long, value_name = "MS")]
    pub flush_interval: Option<u64>,
    /// Started as root: become this user (name or uid) once the ports are bound, before the
    /// store is opened or a byte is read [default: stay as started].
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// With --user: the group to become [default: the user's primary group].
    #[arg(long, value_name = "GROUP", requires = "user")]
    pub group: Option<String>,
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
    /// RELP listen addresses.
    pub relp: Vec<SocketAddr>,
    /// RELP over TLS address and its files (the same as TLS's).
    pub relp_tls: Option<(SocketAddr, super::tls::TlsFiles)>,
    /// Senders allowed on UDP (empty: all).
    pub udp_allow: Vec<picket_store::Cidr>,
    /// Senders allowed on TCP (empty: all).
    pub tcp_allow: Vec<picket_store::Cidr>,
    /// Senders allowed on TLS (empty: all).
    pub tls_allow: Vec<picket_store::Cidr>,
    /// Senders allowed on RELP and RELP over TLS (empty: all).
    pub relp_allow: Vec<picket_store::Cidr>,
    /// Zone of stamps that name none, seconds east of UTC.
    pub time_zone: i32,
    /// Query socket path.
    pub socket: PathBuf,
    /// Group given access to the query socket.
    pub socket_group: Option<String>,
    /// The account serve drops root to once bound (`user` / `group`).
    pub run_as: Option<super::privilege::RunAs>,
    /// sled page cache, bytes.
    pub cache_bytes: u64,
    /// Retention applied at start and every minute.
    pub retention: picket_store::Retention,
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
    /// Bytes queued between the listeners and the writer (messages and their overhead).
    pub queue_bytes: usize,
    /// UDP sockets per address (SO_REUSEPORT).
    pub udp_workers: usize,
    /// Requested UDP receive buffer in bytes.
    pub recv_buffer: usize,
    /// Query socket limits.
    pub query: crate::query::QueryLimits,
    /// The incident sensor's settings; None when `[sensor] enabled = false`.
    pub sensor: Option<picket_sensor::SensorConfig>,
    /// The resolver for sources known by name; None unless `[sensor] resolve = true`.
    pub resolver: Option<crate::sense::resolve::ResolverConfig>,
    /// `[whois]`: the abuse-contact lookup the query op `contact` runs, and its cache TTL.
    pub whois: crate::contact::WhoisSettings,
    /// The file the heads are appended to (outside the data directory), if any.
    pub head_file: Option<PathBuf>,
    /// How often the heads are written to the log and the head file.
    pub head_interval: Duration,
}

const DEFAULT_ADDR: &str = "0.0.0.0:5514";

impl ServeConfig {
    /// The embedded default, then the file, then the flags.
    pub fn build(data: PathBuf, file: &FileConfig, a: &ServeArgs) -> Result<ServeConfig, Error> {
        let default: Vec<SocketAddr> = DEFAULT_ADDR.parse().into_iter().collect();
        let udp_s = file.udp.as_ref();
        let tcp_s = file.tcp.as_ref();
        let tls_s = file.tls.as_ref();
        let listen = |flag: &Vec<SocketAddr>, off: bool, from_file: Option<&Vec<SocketAddr>>| {
            if off {
                Vec::new()
            } else if !flag.is_empty() {
                flag.clone()
            } else {
                from_file.cloned().unwrap_or_else(|| default.clone())
            }
        };
        let common = match &file.allow {
            Some(l) => cidrs(l, "allow")?,
            None => Vec::new(),
        };
        let allow =
            |own: Option<&Vec<String>>, key: &str| -> Result<Vec<picket_store::Cidr>, Error> {
                if !a.allow.is_empty() {
                    return Ok(a.allow.clone());
                }
                match own {
                    Some(l) => cidrs(l, key),
                    None => Ok(common.clone()),
                }
            };
        let relp_s = file.relp.as_ref();
        let cert = a.cert.clone().or(tls_s.and_then(|t| t.cert.clone()));
        let key = a.key.clone().or(tls_s.and_then(|t| t.key.clone()));
        let client_ca = a
            .client_ca
            .clone()
            .or(tls_s.and_then(|t| t.client_ca.clone()));
        let with_files = |addr: Option<SocketAddr>, what: &str| match (addr, &cert, &key) {
            (Some(addr), Some(cert), Some(key)) => Ok(Some((
                addr,
                super::tls::TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: client_ca.clone(),
                },
            ))),
            (Some(addr), _, _) => Err(Error::Usage(format!(
                "{what} on {addr} needs a certificate and a key (--cert and --key, or [tls] cert and key)"
            ))),
            _ => Ok(None),
        };
        let tls = with_files(a.tls.or(tls_s.and_then(|t| t.listen)), "TLS")?;
        let relp_tls = with_files(
            a.relp_tls.or(relp_s.and_then(|r| r.tls_listen)),
            "RELP over TLS",
        )?;
        let relp = if a.relp.is_empty() {
            relp_s.and_then(|r| r.listen.clone()).unwrap_or_default()
        } else {
            a.relp.clone()
        };
        let tz = file.time_zone.as_deref().unwrap_or("Z");
        let time_zone =
            crate::values::parse_offset(tz).map_err(|e| Error::config_key("time_zone", e))?;
        let store_s = file.store.as_ref();
        let writer_s = file.writer.as_ref();
        let retention = picket_store::Retention {
            max_age: match store_s.and_then(|s| s.retention_max_age.as_deref()) {
                Some(v) => Some(
                    crate::values::parse_duration(v)
                        .map_err(|e| Error::config_key("store.retention_max_age", e))?,
                ),
                None => None,
            },
            max_bytes: match store_s.and_then(|s| s.retention_max_size.as_deref()) {
                Some(v) => Some(
                    crate::values::parse_size(v)
                        .map_err(|e| Error::config_key("store.retention_max_size", e))?,
                ),
                None => None,
            },
        };
        let socket = file
            .socket
            .clone()
            .unwrap_or_else(|| data.join("picket.sock"));
        let logbook_s = file.logbook.as_ref();
        let head_interval = match logbook_s.and_then(|l| l.head_interval.as_deref()) {
            Some(v) => crate::values::parse_duration(v)
                .map_err(|e| Error::config_key("logbook.head_interval", e))?
                .max(Duration::from_secs(1)),
            None => Duration::from_secs(3600),
        };
        let head_file = logbook_s.and_then(|l| l.head_file.clone());
        if let Some(f) = &head_file {
            // Inside the data directory the head is as easy to rewrite as the store.
            let abs =
                |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
            if abs(f).starts_with(abs(&data)) {
                return Err(Error::config_key(
                    "logbook.head_file",
                    format!(
                        "{} is inside the data directory {}; put it where someone who can \
                         rewrite the store cannot reach",
                        f.display(),
                        data.display()
                    ),
                ));
            }
        }
        let user = a.user.clone().or(file.user.clone());
        let group = if a.user.is_some() {
            a.group.clone()
        } else {
            file.group.clone()
        };
        if user.is_none() && group.is_some() {
            return Err(Error::config_key(
                "group",
                "set together with user (the account serve drops root to)",
            ));
        }
        Ok(ServeConfig {
            socket,
            socket_group: file.socket_group.clone(),
            run_as: user.map(|user| super::privilege::RunAs { user, group }),
            data,
            udp: listen(&a.udp, a.no_udp, udp_s.and_then(|u| u.listen.as_ref())),
            tcp: listen(&a.tcp, a.no_tcp, tcp_s.and_then(|t| t.listen.as_ref())),
            tls,
            relp,
            relp_tls,
            relp_allow: allow(relp_s.and_then(|r| r.allow.as_ref()), "relp.allow")?,
            udp_allow: allow(udp_s.and_then(|u| u.allow.as_ref()), "udp.allow")?,
            tcp_allow: allow(tcp_s.and_then(|t| t.allow.as_ref()), "tcp.allow")?,
            tls_allow: allow(tls_s.and_then(|t| t.allow.as_ref()), "tls.allow")?,
            max_message: a
                .max_message
                .or(file.max_message)
                .unwrap_or(64 * 1024)
                .max(64),
            max_connections: a
                .max_connections
                .or(tcp_s.and_then(|t| t.max_connections))
                .unwrap_or(10_000)
                .max(1),
            idle_timeout: Duration::from_secs(
                a.idle_timeout
                    .or(tcp_s.and_then(|t| t.idle_timeout_secs))
                    .unwrap_or(600)
                    .max(1),
            ),
            flush_interval: Duration::from_millis(
                a.flush_interval
                    .or(writer_s.and_then(|w| w.flush_interval_ms))
                    .unwrap_or(1000)
                    .max(10),
            ),
            batch_events: writer_s
                .and_then(|w| w.batch_events)
                .unwrap_or(20_000)
                .max(1),
            queue_bytes: usize::try_from(
                writer_s
                    .and_then(|w| w.queue_mb)
                    .unwrap_or(64)
                    .clamp(1, 4095)
                    << 20,
            )
            .unwrap_or(64 << 20),
            udp_workers: udp_s
                .and_then(|u| u.workers)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
                .max(1),
            recv_buffer: udp_s.and_then(|u| u.receive_buffer).unwrap_or(32 << 20),
            time_zone,
            cache_bytes: store_s.and_then(|s| s.cache_mb).unwrap_or(64) << 20,
            retention,
            sensor: file.sensor_config()?,
            resolver: file.resolver_config()?,
            whois: file.whois_settings()?,
            head_file,
            head_interval,
            query: {
                let q = file.query.as_ref();
                let d = crate::query::QueryLimits::default();
                crate::query::QueryLimits {
                    max_connections: q
                        .and_then(|q| q.max_connections)
                        .unwrap_or(d.max_connections)
                        .max(1),
                    max_streams: q
                        .and_then(|q| q.max_streams)
                        .unwrap_or(d.max_streams)
                        .max(1),
                    idle_timeout: q
                        .and_then(|q| q.idle_timeout_secs)
                        .map_or(d.idle_timeout, |s| Duration::from_secs(s.max(1))),
                    write_timeout: q
                        .and_then(|q| q.write_timeout_secs)
                        .map_or(d.write_timeout, |s| Duration::from_secs(s.max(1))),
                }
            },
        })
    }

    /// What each stream connection runs with.
    pub fn conn_limits(&self) -> super::limits::ConnLimits {
        super::limits::ConnLimits {
            max_message: self.max_message,
            idle_timeout: self.idle_timeout,
        }
    }

    /// How the store is opened: the server flushes after every batch itself.
    pub fn store_config(&self) -> picket_store::StoreConfig {
        picket_store::StoreConfig {
            cache_bytes: self.cache_bytes,
            flush_every_ms: None,
            ..picket_store::StoreConfig::default()
        }
    }

    /// How the writer batches.
    pub fn writer_settings(&self) -> super::writer::WriterSettings {
        super::writer::WriterSettings {
            batch_events: self.batch_events,
            flush_interval: self.flush_interval,
            time_zone: self.time_zone,
            data: self.data.clone(),
        }
    }

    /// Query socket limits.
    pub fn query_limits(&self) -> crate::query::QueryLimits {
        self.query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key the example file documents, as `section.key`.
    fn documented_keys() -> std::collections::BTreeSet<String> {
        let example = include_str!("../../../deploy/picket.toml.example");
        let mut section = String::new();
        let mut keys = std::collections::BTreeSet::new();
        for line in example.lines() {
            let l = line.trim_start_matches('#').trim();
            let table = l.trim_start_matches('[').trim_end_matches(']');
            if l.starts_with('[') && !table.contains(['[', ']']) {
                section = format!("{table}.");
            } else if let Some((k, _)) = l.split_once(" = ")
                && !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                keys.insert(format!("{section}{k}"));
            }
        }
        keys
    }

    /// What the server actually runs with: everything `serve::run` hands on.
    fn effective(toml_text: &str) -> String {
        let file: FileConfig = toml::from_str(toml_text).unwrap();
        let args = ServeArgs {
            udp: vec![],
            tcp: vec![],
            tls: None,
            relp: vec![],
            relp_tls: None,
            cert: None,
            key: None,
            client_ca: None,
            allow: vec![],
            no_udp: false,
            no_tcp: false,
            max_message: None,
            max_connections: None,
            idle_timeout: None,
            flush_interval: None,
            user: None,
            group: None,
        };
        let data = file.data_dir(None);
        let cfg = ServeConfig::build(data, &file, &args).unwrap();
        let used = format!(
            "{:?} {:?} {:?} {:?}",
            cfg.store_config(),
            cfg.writer_settings(),
            cfg.conn_limits(),
            cfg.query_limits()
        );
        // The fields read only through the methods above are left out of the rest, so that
        // a key those methods ignore is caught.
        let rest = ServeConfig {
            cache_bytes: 0,
            batch_events: 0,
            flush_interval: Duration::ZERO,
            idle_timeout: Duration::ZERO,
            max_message: 0,
            query: crate::query::QueryLimits {
                max_connections: 0,
                max_streams: 0,
                idle_timeout: Duration::ZERO,
                write_timeout: Duration::ZERO,
            },
            ..cfg
        };
        format!("{used} {rest:?}")
    }

    /// Every key the example file sets (not commented out), as the TOML to set it alone in
    /// its section: the example's value for it.
    fn example_settings() -> Vec<(String, String)> {
        let example = include_str!("../../../deploy/picket.toml.example");
        let mut section = String::new();
        let mut out = Vec::new();
        for line in example.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if line.starts_with('[') {
                section = line.to_string();
                continue;
            }
            let key = line.split_once(" = ").map_or(line, |(k, _)| k);
            let name = section.trim_matches(['[', ']']);
            let full = if name.is_empty() {
                key.to_string()
            } else {
                format!("{name}.{key}")
            };
            out.push((full, format!("{section}\n{line}\n")));
        }
        out
    }

    #[test]
    fn the_example_shows_the_real_defaults() {
        let settings = example_settings();
        assert!(settings.len() > 30, "{settings:?}");
        let default = effective("");
        for (key, toml_text) in &settings {
            assert_eq!(
                effective(toml_text),
                default,
                "deploy/picket.toml.example shows a default for {key} that is not the real one:\n{toml_text}"
            );
        }
        // And the whole file as shipped runs exactly as no file does.
        assert_eq!(
            effective(include_str!("../../../deploy/picket.toml.example")),
            default
        );
    }

    #[test]
    fn every_documented_key_changes_what_serve_runs_with() {
        const TLS: &str = "[tls]\nlisten = \"127.0.0.1:6514\"\ncert = \"c.pem\"\nkey = \"k.pem\"\n";
        // key, the file without it, the file with a value other than the default.
        let cases: Vec<(&str, String, String)> = vec![
            ("data", "".into(), "data = \"/elsewhere\"".into()),
            ("time_zone", "".into(), "time_zone = \"+01:00\"".into()),
            ("max_message", "".into(), "max_message = 1000".into()),
            ("allow", "".into(), "allow = [\"10.0.0.0/8\"]".into()),
            ("socket", "".into(), "socket = \"/run/p.sock\"".into()),
            ("socket_group", "".into(), "socket_group = \"adm\"".into()),
            ("user", "".into(), "user = \"nobody\"".into()),
            (
                "group",
                "user = \"nobody\"".into(),
                "user = \"nobody\"\ngroup = \"nogroup\"".into(),
            ),
            (
                "udp.listen",
                "".into(),
                "[udp]\nlisten = [\"127.0.0.1:1\"]".into(),
            ),
            (
                "udp.allow",
                "".into(),
                "[udp]\nallow = [\"10.0.0.0/8\"]".into(),
            ),
            ("udp.workers", "".into(), "[udp]\nworkers = 7".into()),
            (
                "udp.receive_buffer",
                "".into(),
                "[udp]\nreceive_buffer = 1000".into(),
            ),
            (
                "tcp.listen",
                "".into(),
                "[tcp]\nlisten = [\"127.0.0.1:1\"]".into(),
            ),
            (
                "tcp.allow",
                "".into(),
                "[tcp]\nallow = [\"10.0.0.0/8\"]".into(),
            ),
            (
                "tcp.max_connections",
                "".into(),
                "[tcp]\nmax_connections = 5".into(),
            ),
            (
                "tcp.idle_timeout_secs",
                "".into(),
                "[tcp]\nidle_timeout_secs = 7".into(),
            ),
            ("tls.listen", TLS.into(), TLS.replace("6514", "6515")),
            ("tls.cert", TLS.into(), TLS.replace("c.pem", "c2.pem")),
            ("tls.key", TLS.into(), TLS.replace("k.pem", "k2.pem")),
            (
                "tls.client_ca",
                TLS.into(),
                format!("{TLS}client_ca = \"ca.pem\""),
            ),
            (
                "tls.allow",
                TLS.into(),
                format!("{TLS}allow = [\"10.0.0.0/8\"]"),
            ),
            (
                "relp.listen",
                "".into(),
                "[relp]\nlisten = [\"127.0.0.1:2514\"]".into(),
            ),
            (
                "relp.tls_listen",
                TLS.replace("listen = \"127.0.0.1:6514\"\n", ""),
                format!(
                    "{}[relp]\ntls_listen = \"127.0.0.1:2515\"",
                    TLS.replace("listen = \"127.0.0.1:6514\"\n", "")
                ),
            ),
            (
                "relp.allow",
                "".into(),
                "[relp]\nallow = [\"10.0.0.0/8\"]".into(),
            ),
            (
                "writer.flush_interval_ms",
                "".into(),
                "[writer]\nflush_interval_ms = 77".into(),
            ),
            (
                "writer.batch_events",
                "".into(),
                "[writer]\nbatch_events = 77".into(),
            ),
            ("writer.queue_mb", "".into(), "[writer]\nqueue_mb = 7".into()),
            (
                "query.max_connections",
                "".into(),
                "[query]\nmax_connections = 7".into(),
            ),
            (
                "sensor.enabled",
                "".into(),
                "[sensor]\nenabled = false".into(),
            ),
            (
                "sensor.own_networks",
                "".into(),
                "[sensor]\nown_networks = [\"192.0.2.0/24\"]".into(),
            ),
            (
                "sensor.group_v4",
                "".into(),
                "[sensor]\ngroup_v4 = 24".into(),
            ),
            (
                "sensor.group_v6",
                "".into(),
                "[sensor]\ngroup_v6 = 64".into(),
            ),
            (
                "sensor.scan_window",
                "".into(),
                "[sensor]\nscan_window = \"7m\"".into(),
            ),
            (
                "sensor.scan_ports",
                "".into(),
                "[sensor]\nscan_ports = 7".into(),
            ),
            (
                "sensor.sweep_window",
                "".into(),
                "[sensor]\nsweep_window = \"7m\"".into(),
            ),
            (
                "sensor.sweep_hosts",
                "".into(),
                "[sensor]\nsweep_hosts = 7".into(),
            ),
            (
                "sensor.sweep_max_ports",
                "".into(),
                "[sensor]\nsweep_max_ports = 2".into(),
            ),
            (
                "sensor.attempts_window",
                "".into(),
                "[sensor]\nattempts_window = \"7m\"".into(),
            ),
            (
                "sensor.attempts_failures",
                "".into(),
                "[sensor]\nattempts_failures = 7".into(),
            ),
            (
                "sensor.exploit_priority",
                "".into(),
                "[sensor]\nexploit_priority = 2".into(),
            ),
            (
                "sensor.report_horizon",
                "".into(),
                "[sensor]\nreport_horizon = \"3d\"".into(),
            ),
            (
                "sensor.huge_volume",
                "".into(),
                "[sensor]\nhuge_volume = 7".into(),
            ),
            (
                "sensor.block_duration",
                "".into(),
                "[sensor]\nblock_duration = \"2h\"".into(),
            ),
            (
                "sensor.block_growth",
                "".into(),
                "[sensor]\nblock_growth = 3".into(),
            ),
            (
                "sensor.block_max",
                "".into(),
                "[sensor]\nblock_max = \"3d\"".into(),
            ),
            (
                "sensor.max_active",
                "".into(),
                "[sensor]\nmax_active = 77".into(),
            ),
            (
                "sensor.evicted_cache_mb",
                "".into(),
                "[sensor]\nevicted_cache_mb = 3".into(),
            ),
            (
                "sensor.noise.name",
                "[[sensor.noise]]\nname = \"web\"\nports = [\"80\"]\ntransports = [\"tcp\"]\nvolume = 20\nwindow = \"10m\"".into(),
                "[[sensor.noise]]\nname = \"www\"\nports = [\"80\"]\ntransports = [\"tcp\"]\nvolume = 20\nwindow = \"10m\"".into(),
            ),
            (
                "sensor.noise.ports",
                "[[sensor.noise]]\nname = \"web\"\nports = [\"80\"]\ntransports = [\"tcp\"]\nvolume = 20\nwindow = \"10m\"".into(),
                "[[sensor.noise]]\nname = \"web\"\nports = [\"81\"]\ntransports = [\"tcp\"]\nvolume = 20\nwindow = \"10m\"".into(),
            ),
            (
                "sensor.noise.transports",
                "[[sensor.noise]]\nname = \"web\"\nports = [\"80\"]\ntransports = [\"tcp\"]\nvolume = 20\nwindow = \"10m\"".into(),
                "[[sensor.noise]]\nname = \"web\"\nports = [\"80\"]\ntransports = [\"udp\"]\nvolume = 20\nwindow = \"10m\"".into(),
            ),
            (
                "sensor.noise.volume",
                "[[sensor.noise]]\nname = \"web\"\nports = [\"80\"]\ntransports = [\"tcp\"]\nvolume = 20\nwindow = \"10m\"".into(),
                "[[sensor.noise]]\nname = \"web\"\nports = [\"80\"]\ntransports = [\"tcp\"]\nvolume = 21\nwindow = \"10m\"".into(),
            ),
            (
                "sensor.noise.window",
                "[[sensor.noise]]\nname = \"web\"\nports = [\"80\"]\ntransports = [\"tcp\"]\nvolume = 20\nwindow = \"10m\"".into(),
                "[[sensor.noise]]\nname = \"web\"\nports = [\"80\"]\ntransports = [\"tcp\"]\nvolume = 20\nwindow = \"11m\"".into(),
            ),
            (
                "sensor.resolve",
                "".into(),
                "[sensor]\nresolve = true\nresolver = \"127.0.0.1:53\"".into(),
            ),
            (
                "sensor.resolver",
                "[sensor]\nresolve = true\nresolver = \"127.0.0.1:53\"".into(),
                "[sensor]\nresolve = true\nresolver = \"127.0.0.2:53\"".into(),
            ),
            (
                "sensor.resolve_rate",
                "[sensor]\nresolve = true\nresolver = \"127.0.0.1:53\"".into(),
                "[sensor]\nresolve = true\nresolver = \"127.0.0.1:53\"\nresolve_rate = 7".into(),
            ),
            (
                "query.max_streams",
                "".into(),
                "[query]\nmax_streams = 7".into(),
            ),
            (
                "query.idle_timeout_secs",
                "".into(),
                "[query]\nidle_timeout_secs = 7".into(),
            ),
            (
                "query.write_timeout_secs",
                "".into(),
                "[query]\nwrite_timeout_secs = 7".into(),
            ),
            ("store.cache_mb", "".into(), "[store]\ncache_mb = 7".into()),
            (
                "logbook.head_file",
                "".into(),
                "[logbook]\nhead_file = \"/var/log/picket-heads\"".into(),
            ),
            (
                "logbook.head_interval",
                "".into(),
                "[logbook]\nhead_interval = \"10m\"".into(),
            ),
            (
                "store.retention_max_age",
                "".into(),
                "[store]\nretention_max_age = \"7d\"".into(),
            ),
            (
                "whois.root",
                "".into(),
                "[whois]\nroot = \"127.0.0.1:4343\"".into(),
            ),
            ("whois.timeout", "".into(), "[whois]\ntimeout = \"3s\"".into()),
            (
                "whois.cache_ttl",
                "".into(),
                "[whois]\ncache_ttl = \"1d\"".into(),
            ),
            (
                "store.retention_max_size",
                "".into(),
                "[store]\nretention_max_size = \"7G\"".into(),
            ),
        ];
        let tested: std::collections::BTreeSet<String> =
            cases.iter().map(|(k, _, _)| k.to_string()).collect();
        // `[report]` is the clients' (reports::config tests its keys).
        let served: std::collections::BTreeSet<String> = documented_keys()
            .into_iter()
            .filter(|k| !k.starts_with("report."))
            .collect();
        assert_eq!(
            tested, served,
            "every key in deploy/picket.toml.example needs a case here, and nothing else"
        );
        for (key, without, with) in &cases {
            assert_ne!(
                effective(without),
                effective(with),
                "config key {key} is documented but changes nothing"
            );
        }
    }
}
