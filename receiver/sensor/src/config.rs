//! `[sensor]` settings as plain data: the receiver parses its TOML into a [`SensorConfig`];
//! every default below says where it comes from (psad, PortSentry, CrowdSec's hub scenarios,
//! fail2ban's jail.conf, Snort's classification.config), or that it is our own choice.

use std::time::Duration;

use crate::noise::{NoiseRule, default_noise_rules};
use crate::source::Cidr;

/// The sensor's settings. `SensorConfig::default()` is the documented default set.
///
/// Defaults and their reasons:
/// - `group_v4 = 32`, `group_v6 = 128`: one candidate per address, like every tool compared
///   (psad, fail2ban and CrowdSec all key on the source IP); /24 and /64 by config for sources
///   that hop inside a prefix (an IPv6 host picks a new address per connection).
/// - `scan_ports = 15` distinct destination ports in `scan_window = 5 min`: CrowdSec's
///   `crowdsecurity/iptables-scan-multi_ports` overflows at `capacity: 15` distinct
///   `dst_port`s (leaking one per 5 s, about 75 s for 15); psad by contrast alerts from 2 ports
///   (`PORT_RANGE_SCAN_THRESHOLD 1`) and PortSentry on the first touch of a trap port
///   (`SCAN_TRIGGER="0"`), both too eager for firewall logs of every dropped packet. Five
///   minutes lets a slower scan through CrowdSec's 75 s still count; psad's own
///   `SCAN_TIMEOUT` is an hour.
/// - `sweep_hosts = 10` hosts on at most `sweep_max_ports = 3` ports in `sweep_window = 5 min`:
///   the sweep twin of the scan rule (many targets, one service); 10 is below the 15 above
///   because a host sweep reaches fewer targets than a port scan reaches ports in the same time.
/// - `attempts_failures = 5` failures in `attempts_window = 10 min`: fail2ban's jail.conf
///   `maxretry = 5`, `findtime = 10m` (CrowdSec's `crowdsecurity/ssh-bf` also overflows at
///   `capacity: 5`, leaking one per 10 s).
/// - `exploit_priority = 1`, `exploit_alerts = 1`: one IDS alert of Snort priority 1 makes an
///   `ids-exploit`; in Snort's classification.config priority 1 is exactly the exploit classes
///   (`attempted-admin`, `attempted-user`, `shellcode-detect`, `trojan-activity`,
///   `web-application-attack`, the `successful-*`/`unsuccessful-user` ones), listed also in
///   `exploit_categories` for IDS that log the class but not the priority; signature names or
///   classes containing `exploit` or `shellcode` count too.
/// - `block_duration = 1 h`, doubling per repeat (`block_growth = 2`) up to `block_max = 7 d`:
///   psad's `AUTO_BLOCK_TIMEOUT 3600`; fail2ban's `bantime.increment` grows a returning
///   address's ban by 1, 2, 4, 8… times; fail2ban has no default `bantime.maxtime`, one week is
///   the common choice.
/// - `huge_volume = 1500` events: psad's `DANGER_LEVEL4` (1,500 packets); a source above it is
///   never stale.
/// - `report_horizon = 7 d`: our choice (no tool above has the notion): a notice about
///   activity older than a week is rarely acted on by an abuse desk.
/// - `max_active = 20_000` candidates in memory (a few KiB at most each, typically well under
///   one): our choice; the rest live in the store and come back with `restore`.
/// - `evicted_cache_mb = 128`: evicted candidates kept encoded in memory (about 2 KiB each
///   with their keys: some 60,000) before they go to the store; our choice, so that a
///   distributed scan from a few tens of thousands of sources does not make every event a
///   store read and write (bench/README.md).
/// - evidence: the first 5 and the latest 5 lines, each cut at 1 KiB: our choice.
/// - noise rules (see [`default_noise_rules`]): `web` (80, 443) and `mail` (25, 465, 587) are
///   the services fail2ban's jails watch for abuse, not for single connects; `netbios`
///   (137-139), `dhcp-rip` (UDP 67-68, 520) follow PortSentry, whose examples leave 137-138, 67
///   and 520 out of the watched UDP ports ("commonly used and might generate false
///   positives") and whose advanced mode excludes TCP 113 (`ident`) and 139; `icmp-echo` is any
///   ICMP (the events carry no ICMP type); `lan-discovery` (SSDP, mDNS, LLMNR) is our addition.
///   Volumes (20 in 10 min for connects, 20 in 5 min for pings, 50 in 10 min for LAN chatter)
///   are our choice: well above what one client does, so a flood still raises a candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SensorConfig {
    /// Networks whose addresses never become candidates.
    pub own_networks: Vec<Cidr>,
    /// IPv4 sources are grouped by this prefix length (32 = per address).
    pub group_v4: u8,
    /// IPv6 sources are grouped by this prefix length (128 = per address).
    pub group_v6: u8,
    /// Window for `scan_ports`.
    pub scan_window: Duration,
    /// Distinct destination ports within `scan_window` that make a port scan.
    pub scan_ports: u32,
    /// Window for `sweep_hosts`.
    pub sweep_window: Duration,
    /// Distinct destination hosts within `sweep_window` that make a sweep.
    pub sweep_hosts: u32,
    /// A sweep touches at most this many distinct ports within `sweep_window`.
    pub sweep_max_ports: u32,
    /// Window for `attempts_failures`.
    pub attempts_window: Duration,
    /// Failed logins or refusals within `attempts_window` that make repeated attempts.
    pub attempts_failures: u32,
    /// An IDS alert of this priority or more severe (smaller) is an exploit alert.
    pub exploit_priority: u8,
    /// Exploit alerts that make an `ids-exploit`.
    pub exploit_alerts: u32,
    /// IDS classes (short names or descriptions, compared without case) that are exploits.
    pub exploit_categories: Vec<String>,
    /// Words that make a signature name or class an exploit (substring, without case).
    pub exploit_words: Vec<String>,
    /// Score steps; crossing one upward is a change downstream tools hear about.
    pub score_steps: Vec<u32>,
    /// Activity older than this is stale (unless exploit, huge, or repeated).
    pub report_horizon: Duration,
    /// Events above which a source is never stale.
    pub huge_volume: u64,
    /// The first block's length.
    pub block_duration: Duration,
    /// Each further block of the same source lasts this many times the previous one.
    pub block_growth: u32,
    /// No block lasts longer.
    pub block_max: Duration,
    /// Candidates kept in memory; beyond, the least recently active low-score ones go out.
    pub max_active: usize,
    /// Bytes of evicted candidates the receiver keeps in memory in their stored form before
    /// they go to the store (the book itself does not use it).
    pub evicted_cache_bytes: usize,
    /// Earliest lines kept as evidence.
    pub evidence_first: usize,
    /// Latest lines kept as evidence.
    pub evidence_latest: usize,
    /// Evidence lines are cut at this many bytes.
    pub evidence_line_max: usize,
    /// Width of one activity bucket.
    pub activity_bucket: Duration,
    /// Activity buckets kept per candidate (the latest ones).
    pub activity_buckets: usize,
    /// Window of the by-destination view.
    pub target_window: Duration,
    /// Destinations the by-destination view keeps.
    pub max_targets: usize,
    /// `[[sensor.noise]]` rules.
    pub noise: Vec<NoiseRule>,
}

/// Snort's priority-1 classes, by short name and by description.
const EXPLOIT_CATEGORIES: [&str; 16] = [
    "attempted-admin",
    "attempted-user",
    "successful-admin",
    "successful-user",
    "unsuccessful-user",
    "shellcode-detect",
    "trojan-activity",
    "web-application-attack",
    "Attempted Administrator Privilege Gain",
    "Attempted User Privilege Gain",
    "Successful Administrator Privilege Gain",
    "Successful User Privilege Gain",
    "Unsuccessful User Privilege Gain",
    "Executable code was detected",
    "A Network Trojan was detected",
    "Web Application Attack",
];

const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

impl Default for SensorConfig {
    fn default() -> Self {
        SensorConfig {
            own_networks: Vec::new(),
            group_v4: 32,
            group_v6: 128,
            scan_window: Duration::from_secs(5 * MINUTE),
            scan_ports: 15,
            sweep_window: Duration::from_secs(5 * MINUTE),
            sweep_hosts: 10,
            sweep_max_ports: 3,
            attempts_window: Duration::from_secs(10 * MINUTE),
            attempts_failures: 5,
            exploit_priority: 1,
            exploit_alerts: 1,
            exploit_categories: EXPLOIT_CATEGORIES.iter().map(|s| (*s).to_owned()).collect(),
            exploit_words: vec!["exploit".to_owned(), "shellcode".to_owned()],
            score_steps: vec![10, 25, 50, 100, 200, 400],
            report_horizon: Duration::from_secs(7 * DAY),
            huge_volume: 1500,
            block_duration: Duration::from_secs(HOUR),
            block_growth: 2,
            block_max: Duration::from_secs(7 * DAY),
            max_active: 20_000,
            evicted_cache_bytes: 128 << 20,
            evidence_first: 5,
            evidence_latest: 5,
            evidence_line_max: 1024,
            activity_bucket: Duration::from_secs(HOUR),
            activity_buckets: 24,
            target_window: Duration::from_secs(5 * MINUTE),
            max_targets: 4096,
            noise: default_noise_rules(),
        }
    }
}

/// A setting that cannot work, by key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The `[sensor]` key.
    pub key: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sensor.{}: {}", self.key, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// Most keys a sliding window can count exactly (bounds the memory of one candidate).
pub const MAX_WINDOW_THRESHOLD: u32 = 256;

impl SensorConfig {
    /// Checks the settings; the book also clamps bad values so it never panics, but the
    /// receiver should refuse a config this rejects.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |key, problem: &str| {
            Err(ConfigError {
                key,
                problem: problem.to_owned(),
            })
        };
        if self.group_v4 > 32 {
            return err("group_v4", "an IPv4 prefix is at most 32 bits");
        }
        if self.group_v6 > 128 {
            return err("group_v6", "an IPv6 prefix is at most 128 bits");
        }
        for (key, d) in [
            ("scan_window", self.scan_window),
            ("sweep_window", self.sweep_window),
            ("attempts_window", self.attempts_window),
            ("activity_bucket", self.activity_bucket),
            ("target_window", self.target_window),
            ("block_duration", self.block_duration),
        ] {
            if d.is_zero() {
                return err(key, "must be longer than zero");
            }
        }
        for (key, n) in [
            ("scan_ports", self.scan_ports),
            ("sweep_hosts", self.sweep_hosts),
            ("attempts_failures", self.attempts_failures),
        ] {
            if n == 0 || n > MAX_WINDOW_THRESHOLD {
                return err(key, "must be between 1 and 256");
            }
        }
        if self.exploit_alerts == 0 {
            return err("exploit_alerts", "must be at least 1");
        }
        if self.block_growth == 0 {
            return err("block_growth", "must be at least 1");
        }
        if self.max_active == 0 {
            return err("max_active", "must be at least 1");
        }
        if self.max_targets == 0 {
            return err("max_targets", "must be at least 1");
        }
        if self.noise.len() > usize::from(u16::MAX) {
            return err("noise", "at most 65535 rules");
        }
        for rule in &self.noise {
            if rule.name.is_empty() {
                return err("noise", "every rule needs a name");
            }
            if rule.window.is_zero() {
                return err("noise", "a rule's window must be longer than zero");
            }
        }
        Ok(())
    }
}

/// Nanoseconds of a duration, saturating, at least 1.
pub(crate) fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        assert_eq!(SensorConfig::default().validate(), Ok(()));
        let bad = SensorConfig {
            scan_ports: 0,
            ..SensorConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().key, "scan_ports");
    }
}
