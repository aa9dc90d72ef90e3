//! The noise policy: named rules for traffic that is not worth a notice on its own (single
//! connects to mail and web ports, ICMP echo, NetBIOS and other LAN chatter). A matching event
//! still counts for its source, under the rule's name, but does not raise a candidate unless
//! the source sends more of it than the rule's volume within the rule's window.

use std::time::Duration;

use picket_parsers::{Action, Event, Transport};

/// One named noise rule. An event matches when every condition given matches (an empty list
/// matches anything).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoiseRule {
    /// The name candidates report (`web`, `icmp-echo`).
    pub name: String,
    /// Destination port ranges (inclusive); empty: any port, or none.
    pub ports: Vec<(u16, u16)>,
    /// Transports; empty: any.
    pub transports: Vec<Transport<'static>>,
    /// Whether IDS alerts below the exploit bar may match (Snort's `ICMP PING` alerts are
    /// noise; an IDS alert on port 80 is not a "single connect").
    pub alerts: bool,
    /// Events of this rule a source may send within `window` before they count as signal.
    pub volume: u32,
    /// The window `volume` is counted over.
    pub window: Duration,
}

impl NoiseRule {
    /// A rule on destination ports, any transport, alerts excluded.
    pub fn ports(name: &str, ports: &[(u16, u16)], volume: u32, window: Duration) -> NoiseRule {
        NoiseRule {
            name: name.to_owned(),
            ports: ports.to_vec(),
            transports: Vec::new(),
            alerts: false,
            volume,
            window,
        }
    }

    /// Whether the rule's transports and ports cover `event`. Its action is the caller's
    /// to check ([`NoisePolicy::classify`] does, once for all rules), as are exploit alerts.
    fn matches(&self, event: &Event<'_>) -> bool {
        let d = &event.details;
        if !self.transports.is_empty() {
            let Some(t) = d.transport else { return false };
            if !self.transports.iter().any(|r| same_transport(r, &t)) {
                return false;
            }
        }
        if !self.ports.is_empty() {
            let Some(port) = d.destination.port else {
                return false;
            };
            if !self
                .ports
                .iter()
                .any(|(lo, hi)| (*lo..=*hi).contains(&port))
            {
                return false;
            }
        }
        true
    }
}

fn same_transport(a: &Transport<'_>, b: &Transport<'_>) -> bool {
    match (a, b) {
        (Transport::Other(x), Transport::Other(y)) => x.eq_ignore_ascii_case(y),
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// The defaults, each a named rule (see `SensorConfig::default` for the reasons).
pub fn default_noise_rules() -> Vec<NoiseRule> {
    let ten_min = Duration::from_secs(600);
    let five_min = Duration::from_secs(300);
    vec![
        NoiseRule::ports("web", &[(80, 80), (443, 443)], 20, ten_min),
        NoiseRule::ports("mail", &[(25, 25), (465, 465), (587, 587)], 20, ten_min),
        NoiseRule {
            name: "icmp-echo".to_owned(),
            ports: Vec::new(),
            transports: vec![Transport::Icmp, Transport::Ipv6Icmp],
            alerts: true,
            volume: 20,
            window: five_min,
        },
        NoiseRule::ports("netbios", &[(137, 139)], 50, ten_min),
        NoiseRule {
            transports: vec![Transport::Udp],
            ..NoiseRule::ports("dhcp-rip", &[(67, 68), (520, 520)], 50, ten_min)
        },
        NoiseRule {
            transports: vec![Transport::Udp],
            ..NoiseRule::ports(
                "lan-discovery",
                &[(1900, 1900), (5353, 5353), (5355, 5355)],
                50,
                ten_min,
            )
        },
        NoiseRule {
            transports: vec![Transport::Tcp],
            ..NoiseRule::ports("ident", &[(113, 113)], 20, ten_min)
        },
    ]
}

/// The compiled rule list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoisePolicy {
    rules: Vec<NoiseRule>,
    /// The destination ports some rule names: a rule with ports is not tried on others.
    ports: PortSet,
    /// The rules that name no port, in order: all an event on an unnamed port can match.
    portless: Vec<u16>,
}

/// A set of ports, one bit each (empty until a port is added).
#[derive(Clone, Default, PartialEq, Eq)]
struct PortSet(Vec<u64>);

impl PortSet {
    fn add(&mut self, lo: u16, hi: u16) {
        if self.0.is_empty() {
            self.0 = vec![0; 1024];
        }
        for port in lo..=hi {
            if let Some(word) = self.0.get_mut(usize::from(port >> 6)) {
                *word |= 1 << (port & 63);
            }
        }
    }

    fn contains(&self, port: u16) -> bool {
        self.0
            .get(usize::from(port >> 6))
            .is_some_and(|w| w & (1 << (port & 63)) != 0)
    }
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortSet")
    }
}

impl NoisePolicy {
    /// A policy of `rules` (at most 65,535 are used).
    pub fn new(rules: Vec<NoiseRule>) -> NoisePolicy {
        let mut rules = rules;
        rules.truncate(usize::from(u16::MAX));
        let mut ports = PortSet::default();
        for (lo, hi) in rules.iter().flat_map(|r| &r.ports) {
            ports.add(*lo, *hi);
        }
        let portless = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.ports.is_empty())
            .filter_map(|(i, _)| u16::try_from(i).ok())
            .collect();
        NoisePolicy {
            rules,
            ports,
            portless,
        }
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[NoiseRule] {
        &self.rules
    }

    /// The rule with this index.
    pub fn rule(&self, index: u16) -> Option<&NoiseRule> {
        self.rules.get(usize::from(index))
    }

    /// The index of the first rule `event` matches; `None` for signal. Exploit alerts are
    /// never noise.
    #[inline]
    pub fn classify(&self, event: &Event<'_>, exploit: bool) -> Option<u16> {
        if exploit {
            return None;
        }
        let d = &event.details;
        let alert = match d.action {
            None
            | Some(Action::AclDenied)
            | Some(Action::ConnectionAttempt)
            | Some(Action::ConnectionRefused) => false,
            Some(Action::IdsAlert) => true,
            _ => return None,
        };
        let named_port = d.destination.port.is_some_and(|p| self.ports.contains(p));
        if !named_port {
            // Most events (a scan's ports) hit no named port: only the port-less rules apply.
            return self.portless.iter().copied().find(|&i| {
                self.rules
                    .get(usize::from(i))
                    .is_some_and(|r| (r.alerts || !alert) && r.matches(event))
            });
        }
        self.rules
            .iter()
            .position(|r| (r.alerts || !alert) && r.matches(event))
            .and_then(|i| u16::try_from(i).ok())
    }
}
