//! The configuration file (TOML). Every key is optional; flags override the file and the file
//! overrides the embedded default. `deploy/picket.toml.example` documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Data directory.
    pub data: Option<PathBuf>,
    /// Zone of stamps that name none (`Z`, `+01:00`).
    pub time_zone: Option<String>,
    /// Longest message kept from a stream (TCP, TLS), in bytes.
    pub max_message: Option<usize>,
    /// Query socket path (default: DATA/picket.sock).
    pub socket: Option<PathBuf>,
    /// Group that may use the query socket (mode 0660 instead of 0600).
    pub socket_group: Option<String>,
    /// User serve becomes once its ports are bound, when started as root.
    pub user: Option<String>,
    /// Group serve becomes with `user` (default: the user's primary group).
    pub group: Option<String>,
    /// Senders allowed on every listener unless the listener has its own list.
    pub allow: Option<Vec<String>>,
    /// `[udp]`.
    pub udp: Option<UdpSection>,
    /// `[tcp]`.
    pub tcp: Option<TcpSection>,
    /// `[tls]`.
    pub tls: Option<TlsSection>,
    /// `[relp]`.
    pub relp: Option<RelpSection>,
    /// `[writer]`.
    pub writer: Option<WriterSection>,
    /// `[store]`.
    pub store: Option<StoreSection>,
    /// `[query]`.
    pub query: Option<QuerySection>,
    /// `[sensor]` and `[[sensor.noise]]`.
    pub sensor: Option<crate::sense::config::SensorSection>,
    /// `[report]`: abuse notices (read by the clients, not by serve).
    pub report: Option<crate::reports::config::ReportSection>,
    /// `[whois]`: the abuse-contact lookup.
    pub whois: Option<crate::contact::WhoisSection>,
    /// `[logbook]`.
    pub logbook: Option<LogbookSection>,
    /// The file this was read from and its text, to say where a bad value is.
    #[serde(skip)]
    pub origin: Option<(PathBuf, String)>,
}

/// `[logbook]`: where serve anchors the heads of the event chain and the logbook.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogbookSection {
    /// A file outside the data directory that serve appends the heads to (default: none,
    /// the heads go to serve's log only).
    pub head_file: Option<PathBuf>,
    /// How often the heads are written (`1h`, `10m`), when they moved.
    pub head_interval: Option<String>,
}

/// `[udp]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdpSection {
    /// Addresses; `[]` turns UDP off.
    pub listen: Option<Vec<SocketAddr>>,
    /// Senders allowed on UDP.
    pub allow: Option<Vec<String>>,
    /// Sockets per address (SO_REUSEPORT).
    pub workers: Option<usize>,
    /// Requested receive buffer, bytes.
    pub receive_buffer: Option<usize>,
}

/// `[tcp]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpSection {
    /// Addresses; `[]` turns TCP off.
    pub listen: Option<Vec<SocketAddr>>,
    /// Senders allowed on TCP.
    pub allow: Option<Vec<String>>,
    /// Most stream connections open at once (TCP and TLS together).
    pub max_connections: Option<usize>,
    /// Connections that send no whole message for this many seconds are closed.
    pub idle_timeout_secs: Option<u64>,
}

/// `[tls]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// Address.
    pub listen: Option<SocketAddr>,
    /// Certificate chain, PEM.
    pub cert: Option<PathBuf>,
    /// Private key, PEM.
    pub key: Option<PathBuf>,
    /// CA for client certificates (mutual TLS).
    pub client_ca: Option<PathBuf>,
    /// Senders allowed on TLS.
    pub allow: Option<Vec<String>>,
}

/// `[relp]`: RELP listeners (rsyslog's omrelp), acknowledged once stored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelpSection {
    /// Addresses; absent or `[]`: no RELP.
    pub listen: Option<Vec<SocketAddr>>,
    /// Address for RELP over TLS, with the `[tls]` certificate, key and client CA.
    pub tls_listen: Option<SocketAddr>,
    /// Senders allowed on RELP (plain and TLS).
    pub allow: Option<Vec<String>>,
}

/// `[writer]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriterSection {
    /// Store a batch at least this often, milliseconds.
    pub flush_interval_ms: Option<u64>,
    /// Most messages in one batch.
    pub batch_events: Option<usize>,
    /// Bytes queued between listeners and the writer, MiB.
    pub queue_mb: Option<u64>,
}

/// `[store]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// sled page cache, MiB.
    pub cache_mb: Option<u64>,
    /// Remove events older than this (`180d`, `12h`).
    pub retention_max_age: Option<String>,
    /// Remove the oldest events while more than this is stored (`20G`).
    pub retention_max_size: Option<String>,
}

/// `[query]`: limits of the query socket, so that its clients cannot exhaust the server.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySection {
    /// Most query connections open at once; more get a `busy` error and are closed.
    pub max_connections: Option<usize>,
    /// Most `events` scans and `tail`s running at once; more wait briefly, then get `busy`.
    pub max_streams: Option<usize>,
    /// A connection that sends no request for this long is closed, seconds.
    pub idle_timeout_secs: Option<u64>,
    /// A client that reads nothing of a reply for this long is disconnected, seconds.
    pub write_timeout_secs: Option<u64>,
}

impl FileConfig {
    /// The incident sensor's settings (None: `[sensor] enabled = false`).
    pub fn sensor_config(&self) -> Result<Option<picket_sensor::SensorConfig>, Error> {
        crate::sense::config::from_section(self.sensor.as_ref())
    }

    /// The resolver's settings (None unless `[sensor] resolve = true`).
    pub fn resolver_config(&self) -> Result<Option<crate::sense::resolve::ResolverConfig>, Error> {
        crate::sense::config::resolver_from_section(self.sensor.as_ref())
    }

    /// The notices' settings.
    pub fn report_config(&self) -> Result<crate::reports::config::ReportConfig, Error> {
        crate::reports::config::ReportConfig::from_section(self.report.as_ref())
    }

    /// The abuse-contact lookup's settings (`[whois]`, or the defaults).
    pub fn whois_settings(&self) -> Result<crate::contact::WhoisSettings, Error> {
        crate::contact::settings(self.whois.as_ref())
    }

    /// The data directory: the flag, else the file's `data`, else `picket-data`.
    pub fn data_dir(&self, flag: Option<&Path>) -> PathBuf {
        flag.map(Path::to_path_buf)
            .or_else(|| self.data.clone())
            .unwrap_or_else(|| PathBuf::from("picket-data"))
    }

    /// Reads and checks a file.
    pub fn load(path: &Path) -> Result<FileConfig, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::File {
            op: "read",
            path: path.to_path_buf(),
            source,
        })?;
        FileConfig::from_text(path, text)
    }

    /// Checks the text of the file at `path` (read already), keeping both for
    /// [`FileConfig::locate_error`].
    pub fn from_text(path: &Path, text: String) -> Result<FileConfig, Error> {
        let mut cfg: FileConfig =
            toml::from_str(&text).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
        cfg.origin = Some((path.to_path_buf(), text));
        Ok(cfg)
    }

    /// Says where in the file a bad value is: an [`Error::ConfigKey`] about a key of this file
    /// becomes `FILE:LINE: config key K: …`. Other errors pass unchanged.
    pub fn locate_error(&self, e: Error) -> Error {
        let (Some((path, text)), Error::ConfigKey { key, .. }) = (&self.origin, &e) else {
            return e;
        };
        match key_line(text, key) {
            Some(line) => Error::Usage(format!("{}:{line}: {e}", path.display())),
            None => Error::Usage(format!("{}: {e}", path.display())),
        }
    }
}

/// The line (from 1) where `key` (`time_zone`, `udp.allow`, `sensor.noise.ports`) is set in a
/// TOML text written the way the example is: `[section]` or `[[section]]` headers and
/// `name = value` lines.
pub fn key_line(text: &str, key: &str) -> Option<usize> {
    let (section, name) = key.rsplit_once('.').unwrap_or(("", key));
    let mut current = String::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            current = t.trim_matches(['[', ']']).trim().to_string();
            continue;
        }
        let Some((k, _)) = t.split_once('=') else {
            continue;
        };
        if current == section && k.trim().trim_matches('"') == name {
            return Some(n + 1);
        }
    }
    None
}

/// Parses a list of CIDR strings from the file.
pub fn cidrs(list: &[String], key: &str) -> Result<Vec<picket_store::Cidr>, Error> {
    list.iter()
        .map(|s| s.parse().map_err(|e: String| Error::config_key(key, e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_typos_are_errors() {
        let example = include_str!("../../deploy/picket.toml.example");
        let cfg: FileConfig = toml::from_str(example).unwrap();
        assert_eq!(cfg.tcp.unwrap().max_connections, Some(10_000));
        let err = toml::from_str::<FileConfig>("[tcp]\nmax_conections = 5\n").unwrap_err();
        assert!(err.to_string().contains("max_conections"), "{err}");
    }
}
