//! The `[sensor]` section of the configuration file and its `[[sensor.noise]]` rules, read
//! into the sensor's plain [`SensorConfig`]. Every key is optional; what is left out keeps the
//! default documented (with its source) in picket-sensor and ARCHITECTURE.md.

use std::time::Duration;

use picket_parsers::Transport;
use picket_sensor::{NoiseRule, SensorConfig};
use serde::Deserialize;

use crate::error::Error;
use crate::values::parse_duration;

/// `[sensor]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorSection {
    /// Turns the sensor off (events are still stored).
    pub enabled: Option<bool>,
    /// Networks whose hosts never become candidates (CIDR list).
    pub own_networks: Option<Vec<String>>,
    /// Prefix length that groups IPv4 sources into one candidate (32: per address).
    pub group_v4: Option<u8>,
    /// Prefix length that groups IPv6 sources (128: per address; 64 for hopping hosts).
    pub group_v6: Option<u8>,
    /// Window for a port scan (`5m`).
    pub scan_window: Option<String>,
    /// Distinct ports within the scan window that make a port scan.
    pub scan_ports: Option<u32>,
    /// Window for a sweep.
    pub sweep_window: Option<String>,
    /// Distinct hosts within the sweep window that make a sweep.
    pub sweep_hosts: Option<u32>,
    /// At most this many ports for a sweep (more is a scan).
    pub sweep_max_ports: Option<u32>,
    /// Window for repeated attempts.
    pub attempts_window: Option<String>,
    /// Failed logins or refusals within the attempts window that make repeated attempts.
    pub attempts_failures: Option<u32>,
    /// IDS priority (1 highest) at or above which one alert is an exploit.
    pub exploit_priority: Option<u8>,
    /// Activity older than this is stale (not worth a notice) unless exploit or huge.
    pub report_horizon: Option<String>,
    /// Events above which a candidate is never stale.
    pub huge_volume: Option<u64>,
    /// First block length.
    pub block_duration: Option<String>,
    /// Factor a block grows by each time the source comes back after one.
    pub block_growth: Option<u32>,
    /// Longest block.
    pub block_max: Option<String>,
    /// Candidates kept in memory; the rest live in the store.
    pub max_active: Option<usize>,
    /// MiB of evicted candidates kept in memory in their stored form before they go to the
    /// store.
    pub evicted_cache_mb: Option<usize>,
    /// Noise rules; given, they replace the default rules.
    pub noise: Option<Vec<NoiseSection>>,
    /// Look up the address of sources known only by name (off by default: it sends the
    /// names attackers log under to a DNS server).
    pub resolve: Option<bool>,
    /// The DNS server to ask (`192.0.2.53:53`); default: the first of /etc/resolv.conf.
    pub resolver: Option<String>,
    /// Most DNS queries a second.
    pub resolve_rate: Option<u32>,
}

/// `[[sensor.noise]]`: traffic that does not raise a candidate unless it exceeds a volume.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseSection {
    /// The name candidates report.
    pub name: String,
    /// Destination ports: `"80"` or `"137-139"`.
    #[serde(default)]
    pub ports: Vec<String>,
    /// Transports (`tcp`, `udp`, `icmp`); empty: any.
    #[serde(default)]
    pub transports: Vec<String>,
    /// Events of this rule a source may send within `window` before they count as signal.
    pub volume: u32,
    /// The window (`10m`).
    pub window: String,
}

fn bad(key: &str, e: impl std::fmt::Display) -> Error {
    Error::config_key(format!("sensor.{key}"), e)
}

fn duration(v: Option<&String>, key: &str, into: &mut Duration) -> Result<(), Error> {
    if let Some(v) = v {
        *into = parse_duration(v).map_err(|e| bad(key, e))?;
    }
    Ok(())
}

fn port_range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => {
            let p = s.trim().parse().ok()?;
            Some((p, p))
        }
    }
}

impl SensorSection {
    /// The sensor's settings: the defaults, then this section.
    pub fn to_config(&self) -> Result<SensorConfig, Error> {
        let mut c = SensorConfig::default();
        if let Some(l) = &self.own_networks {
            c.own_networks = l
                .iter()
                .map(|s| s.parse().map_err(|e| bad("own_networks", e)))
                .collect::<Result<_, _>>()?;
        }
        let set = |v: Option<u32>, into: &mut u32| {
            if let Some(v) = v {
                *into = v;
            }
        };
        if let Some(v) = self.group_v4 {
            c.group_v4 = v;
        }
        if let Some(v) = self.group_v6 {
            c.group_v6 = v;
        }
        duration(self.scan_window.as_ref(), "scan_window", &mut c.scan_window)?;
        set(self.scan_ports, &mut c.scan_ports);
        duration(
            self.sweep_window.as_ref(),
            "sweep_window",
            &mut c.sweep_window,
        )?;
        set(self.sweep_hosts, &mut c.sweep_hosts);
        set(self.sweep_max_ports, &mut c.sweep_max_ports);
        duration(
            self.attempts_window.as_ref(),
            "attempts_window",
            &mut c.attempts_window,
        )?;
        set(self.attempts_failures, &mut c.attempts_failures);
        if let Some(v) = self.exploit_priority {
            c.exploit_priority = v;
        }
        duration(
            self.report_horizon.as_ref(),
            "report_horizon",
            &mut c.report_horizon,
        )?;
        if let Some(v) = self.huge_volume {
            c.huge_volume = v;
        }
        duration(
            self.block_duration.as_ref(),
            "block_duration",
            &mut c.block_duration,
        )?;
        set(self.block_growth, &mut c.block_growth);
        duration(self.block_max.as_ref(), "block_max", &mut c.block_max)?;
        if let Some(v) = self.max_active {
            c.max_active = v;
        }
        if let Some(v) = self.evicted_cache_mb {
            c.evicted_cache_bytes = v.saturating_mul(1 << 20);
        }
        if let Some(rules) = &self.noise {
            c.noise = rules
                .iter()
                .map(|r| {
                    let ports = r
                        .ports
                        .iter()
                        .map(|p| {
                            port_range(p).ok_or_else(|| {
                                bad("noise.ports", format!("{p:?} is not a port or a range"))
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let transports = r
                        .transports
                        .iter()
                        .map(|t| match t.to_ascii_lowercase().as_str() {
                            "tcp" => Ok(Transport::Tcp),
                            "udp" => Ok(Transport::Udp),
                            "icmp" => Ok(Transport::Icmp),
                            other => Err(bad(
                                "noise.transports",
                                format!("{other:?} is not tcp, udp or icmp"),
                            )),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let window = parse_duration(&r.window).map_err(|e| bad("noise.window", e))?;
                    Ok(NoiseRule {
                        name: r.name.clone(),
                        ports,
                        transports,
                        alerts: false,
                        volume: r.volume,
                        window,
                    })
                })
                .collect::<Result<_, Error>>()?;
        }
        c.validate()
            .map_err(|e| Error::Usage(format!("config section [sensor]: {e}")))?;
        Ok(c)
    }
}

/// The sensor's settings from the file's `[sensor]` section: the defaults without one, None
/// when it says `enabled = false`.
pub fn from_section(section: Option<&SensorSection>) -> Result<Option<SensorConfig>, Error> {
    match section {
        Some(s) if s.enabled == Some(false) => Ok(None),
        Some(s) => s.to_config().map(Some),
        None => Ok(Some(SensorConfig::default())),
    }
}

/// The resolver's settings from `[sensor]`: None unless `resolve = true`.
pub fn resolver_from_section(
    section: Option<&SensorSection>,
) -> Result<Option<super::resolve::ResolverConfig>, Error> {
    let Some(s) = section.filter(|s| s.resolve == Some(true)) else {
        return Ok(None);
    };
    let server = match &s.resolver {
        Some(a) => a
            .parse()
            .or_else(|_| {
                a.parse::<std::net::IpAddr>()
                    .map(|ip| std::net::SocketAddr::new(ip, 53))
            })
            .map_err(|_| {
                bad(
                    "resolver",
                    format!("{a:?} is not an address (192.0.2.53 or 192.0.2.53:53)"),
                )
            })?,
        None => super::resolve::system_server()
            .ok_or_else(|| bad("resolver", "no nameserver in /etc/resolv.conf: name one"))?,
    };
    Ok(Some(super::resolve::ResolverConfig {
        server,
        rate: s.resolve_rate.unwrap_or(10).max(1),
        timeout: Duration::from_secs(2),
    }))
}
