//! The by-destination view: for each destination host, and each (host, port), how many
//! distinct sources hit it within a sliding window, so a target of a distributed scan or a
//! flood from many addresses stands out even when no single source does. Bounded: at most
//! `max_targets` entries, the least recently hit ones dropped first.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::distinct::{DistinctCounter, hash_u128};
use crate::entries::Seeded;
use crate::source::addr_bits;

/// Slots per target: the window in five slots plus the one being filled.
const SLOTS: usize = 6;

/// A destination host: its address, or (for lines that name none, like PortSentry's and
/// sshd's) the reporting host's name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetHost {
    /// The destination address.
    Addr(IpAddr),
    /// The reporting host (the line is about itself as the target).
    Reporter(Vec<u8>),
}

/// One target and its distinct sources in the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetHit {
    /// The host.
    pub host: TargetHost,
    /// The port, or `None` for the host as a whole.
    pub port: Option<u16>,
    /// Distinct sources within the window (exact up to 64, then estimated).
    pub sources: u64,
    /// Latest hit, Unix ns.
    pub last_seen: i64,
}

#[derive(Clone, Debug)]
struct Slot {
    index: i64,
    sources: DistinctCounter,
}

#[derive(Clone, Debug)]
struct Target {
    host: TargetHost,
    port: Option<u16>,
    last_seen: i64,
    /// In the map's entry itself, not behind a pointer: every signal event reads two
    /// targets' slots, and with hundreds of targets a heap table was one more cache miss each.
    slots: [Slot; SLOTS],
}

impl Slot {
    /// A slot that has held no window yet.
    fn unused() -> Slot {
        Slot {
            index: i64::MIN,
            sources: DistinctCounter::new(),
        }
    }
}

/// A target's place in the map: the book's host hash and the port (0: the host as a whole,
/// else port + 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct TargetKey {
    host: u64,
    port: u32,
}

impl TargetKey {
    fn new(host: u64, port: Option<u16>) -> TargetKey {
        TargetKey {
            host,
            port: port.map_or(0, |p| u32::from(p) + 1),
        }
    }
}

impl std::hash::Hash for TargetKey {
    // One word for the seeded hasher, not three (two look-ups an event): the host is a hash
    // already and the port fits beside it.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.host ^ u64::from(self.port).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    }
}

/// The view. Fed by the book with every event that counted as signal.
#[derive(Clone, Debug)]
pub struct TargetView {
    slot_ns: i64,
    max_targets: usize,
    targets: HashMap<TargetKey, Target, Seeded>,
}

impl TargetView {
    /// A view over `window_ns`, keeping at most `max_targets` targets.
    pub fn new(window_ns: i64, max_targets: usize) -> TargetView {
        TargetView {
            slot_ns: (window_ns / (SLOTS as i64 - 1)).max(1),
            max_targets: max_targets.max(1),
            targets: HashMap::with_hasher(Seeded::new()),
        }
    }

    /// Number of targets kept (hosts and host/port pairs).
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Notes `source` hitting a host (by address, else reporter name; `host_hash` the book's
    /// hash of it) and port at `time`.
    pub(crate) fn observe(
        &mut self,
        host_hash: u64,
        dst: Option<IpAddr>,
        reporter: Option<&[u8]>,
        port: Option<u16>,
        source: IpAddr,
        time: i64,
    ) {
        let source = hash_u128(addr_bits(source));
        let index = time.div_euclid(self.slot_ns);
        for (n, port) in [None, port].into_iter().enumerate() {
            if n == 1 && port.is_none() {
                break;
            }
            let entry = self
                .targets
                .entry(TargetKey::new(host_hash, port))
                .or_insert_with(|| Target {
                    host: match dst {
                        Some(ip) => TargetHost::Addr(ip),
                        None => TargetHost::Reporter(reporter.unwrap_or_default().to_vec()),
                    },
                    port,
                    last_seen: time,
                    slots: std::array::from_fn(|_| Slot::unused()),
                });
            entry.last_seen = entry.last_seen.max(time);
            let at = index.rem_euclid(SLOTS as i64) as usize;
            if let Some(slot) = entry.slots.get_mut(at) {
                if slot.index < index {
                    slot.index = index;
                    slot.sources = DistinctCounter::new();
                }
                if slot.index == index {
                    slot.sources.insert(source);
                }
            }
        }
    }

    /// Drops the least recently hit targets beyond the bound (ties by key), down to 15/16 of
    /// it so the work is amortised.
    pub(crate) fn trim(&mut self) {
        if self.targets.len() <= self.max_targets {
            return;
        }
        let keep = self.max_targets - self.max_targets / 16;
        let mut order: Vec<(i64, TargetKey)> = self
            .targets
            .iter()
            .map(|(k, t)| (t.last_seen, *k))
            .collect();
        order.sort_unstable();
        let drop = order.len().saturating_sub(keep);
        for (_, key) in order.into_iter().take(drop) {
            self.targets.remove(&key);
        }
    }

    /// True when over twice the bound (the book trims at once, whatever the order).
    pub(crate) fn overfull(&self) -> bool {
        self.targets.len() > self.max_targets.saturating_mul(2)
    }

    /// Targets hit by at least `min_sources` distinct sources within the window ending at
    /// `now`, most sources first (ties: latest hit first, then host and port).
    pub fn busiest(&self, now: i64, min_sources: u64) -> Vec<TargetHit> {
        let newest = now.div_euclid(self.slot_ns);
        let oldest = newest - (SLOTS as i64 - 1);
        let mut hits: Vec<TargetHit> = self
            .targets
            .values()
            .filter_map(|t| {
                let mut sources = DistinctCounter::new();
                for slot in &t.slots {
                    if slot.index >= oldest && slot.index <= newest {
                        sources.union(&slot.sources);
                    }
                }
                let n = sources.count();
                (n >= min_sources.max(1)).then(|| TargetHit {
                    host: t.host.clone(),
                    port: t.port,
                    sources: n,
                    last_seen: t.last_seen,
                })
            })
            .collect();
        hits.sort_by(|a, b| {
            b.sources
                .cmp(&a.sources)
                .then_with(|| b.last_seen.cmp(&a.last_seen))
                .then_with(|| a.host.cmp(&b.host))
                .then_with(|| a.port.cmp(&b.port))
        });
        hits
    }
}
