//! The incident book: folds events into one candidate per source, settles each second's
//! events once event time moves on, keeps at most `max_active` candidates in memory, and
//! reports every change a downstream tool or the store needs. No clock of its own: time comes
//! from the events (`@timestamp`, else the receive time) or from an explicit `now`.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::mem;
use std::net::IpAddr;

use picket_parsers::{Action, Dataset, Event};

use crate::candidate::{Candidate, Limits, Observation, Weight};
use crate::config::{SensorConfig, nanos};
use crate::distinct::{hash_bytes, hash_u128};
use crate::entries::{Entries, Entry, KeyList, key_of_rank};
use crate::evidence::EventRef;
use crate::lifecycle::BlockPolicy;
use crate::noise::NoisePolicy;
use crate::source::{Ignored, SourceKey, addr_bits, key_of, key_of_addr, name_of};
use crate::state::State;
use crate::targets::TargetView;
use crate::watch::Change;

/// Counters of what the book did with the events it was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookStats {
    /// Events folded into a candidate.
    pub folded: u64,
    /// Events with no source address.
    pub no_source: u64,
    /// Events from loopback or unspecified sources.
    pub loopback: u64,
    /// Events from own networks.
    pub own_network: u64,
    /// Events of a host about itself.
    pub self_report: u64,
    /// Events older than the book's clock when they came (folded all the same).
    pub late: u64,
    /// Candidates moved out to the caller.
    pub evicted: u64,
    /// Unpublished entries dropped.
    pub forgotten: u64,
    /// Candidates of host names merged into their address's.
    pub merged: u64,
}

/// Resolved names the book remembers (name key -> address, or "does not resolve"), and
/// names it has asked for and not heard back about; each forgotten wholesale beyond this
/// many (a forgotten name is asked for again when it next shows up; the receiver caches).
pub const NAMES_REMEMBERED: usize = 8192;

/// Event time after which a name asked for and never answered is asked for again: 15 min.
pub const RESOLVE_RETRY_NS: i64 = 15 * 60 * 1_000_000_000;

/// The book settles (evaluates what was folded, reports changes, bounds itself) each time
/// event time enters a new period of this length: 1 s. Per period, not per event time, so that
/// sub-second stamps (RFC 5424, or receive times in ns) do not settle after every event;
/// a whole period is folded before it is judged, whatever order its events came in.
pub const SETTLE_PERIOD_NS: i64 = 1_000_000_000;

/// `mark` on a source the book does not hold (restore it from the store first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotInBook(pub SourceKey);

impl fmt::Display for NotInBook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no candidate for {} in memory", self.0)
    }
}

impl std::error::Error for NotInBook {}

/// The incident book. See the crate documentation for how the receiver drives it.
pub struct IncidentBook {
    config: SensorConfig,
    limits: Limits,
    blocks: BlockPolicy,
    noise: NoisePolicy,
    exploit_categories: Vec<Vec<u8>>,
    exploit_words: Vec<Vec<u8>>,
    entries: Entries,
    dirty: KeyList,
    touched: KeyList,
    clock: Option<i64>,
    blocked: BTreeSet<(i64, SourceKey)>,
    targets: TargetView,
    ceiling: usize,
    /// Eviction's buffer of rank numbers (kept: it is as long as the book).
    rank_scratch: Vec<u128>,
    stats: BookStats,
    /// Name key -> its address, or `None` when it does not resolve.
    resolved: HashMap<SourceKey, Option<IpAddr>>,
    /// Name keys handed out by `names_to_resolve`, with the event time they were.
    asked: HashMap<SourceKey, i64>,
    /// Name keys with signal waiting to be handed out.
    to_resolve: BTreeSet<SourceKey>,
}

impl IncidentBook {
    /// An empty book. Bad values in `config` are clamped (check it with
    /// [`SensorConfig::validate`] first to tell the user).
    pub fn new(config: SensorConfig) -> IncidentBook {
        let limits = Limits::of(&config);
        let max_active = config.max_active.max(1);
        let lower = |v: &Vec<String>| -> Vec<Vec<u8>> {
            v.iter()
                .filter(|s| !s.is_empty())
                .map(|s| s.to_ascii_lowercase().into_bytes())
                .collect()
        };
        IncidentBook {
            blocks: BlockPolicy {
                first: nanos(config.block_duration),
                growth: i64::from(config.block_growth.max(1)),
                max: nanos(config.block_max).max(nanos(config.block_duration)),
            },
            noise: NoisePolicy::new(config.noise.clone()),
            exploit_categories: lower(&config.exploit_categories),
            exploit_words: lower(&config.exploit_words),
            entries: Entries::new(),
            dirty: KeyList::default(),
            touched: KeyList::default(),
            clock: None,
            blocked: BTreeSet::new(),
            targets: TargetView::new(nanos(config.target_window), config.max_targets),
            ceiling: max_active.saturating_add((max_active / 8).max(1)),
            rank_scratch: Vec::new(),
            stats: BookStats::default(),
            resolved: HashMap::new(),
            asked: HashMap::new(),
            to_resolve: BTreeSet::new(),
            limits,
            config,
        }
    }

    /// The settings.
    pub fn config(&self) -> &SensorConfig {
        &self.config
    }

    /// The noise policy in use.
    pub fn noise_policy(&self) -> &NoisePolicy {
        &self.noise
    }

    /// What the book did so far.
    pub fn stats(&self) -> BookStats {
        self.stats
    }

    /// The latest event time seen (Unix ns).
    pub fn clock(&self) -> Option<i64> {
        self.clock
    }

    /// Candidates (and unpublished entries) in memory.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the book holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The candidate of `key`, if in memory.
    pub fn get(&self, key: &SourceKey) -> Option<&Candidate> {
        self.entries.get(key).map(|e| &*e.candidate)
    }

    /// Every candidate in memory, in no particular order.
    pub fn candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.entries.values().map(|e| &*e.candidate)
    }

    /// Every candidate in memory, sorted by key (for comparisons and listings).
    pub fn snapshot(&self) -> Vec<&Candidate> {
        let mut all: Vec<&Candidate> = self.candidates().collect();
        all.sort_unstable_by_key(|c| c.key());
        all
    }

    /// The by-destination view.
    pub fn targets(&self) -> &TargetView {
        &self.targets
    }

    /// The key an event would be folded under, or why it makes no candidate: the receiver
    /// asks before `fold` so it can `restore` a stored candidate of that source first.
    ///
    /// An event with no source address but a plausible host name in `source.domain` gets
    /// the name's key ([`SourceKey::from_name`]), or, once [`IncidentBook::resolved`] gave
    /// the name an address, that address's key (the book remembers [`NAMES_REMEMBERED`]).
    pub fn key_for(&self, event: &Event<'_>) -> Result<SourceKey, Ignored> {
        key_of(
            event,
            &self.config.own_networks,
            self.config.group_v4.min(32),
            self.config.group_v6.min(128),
            |name| self.resolved.get(name).copied().flatten(),
        )
    }

    /// The key of a source address as the book groups it (`group_v4` / `group_v6`), or why
    /// it makes no candidate (loopback, own network).
    pub fn key_for_addr(&self, ip: IpAddr) -> Result<SourceKey, Ignored> {
        key_of_addr(
            ip,
            &self.config.own_networks,
            self.config.group_v4.min(32),
            self.config.group_v6.min(128),
            None,
        )
    }

    /// Name keys the receiver should resolve, each with its name: candidates keyed by a host
    /// name that had signal (or are published), not resolved yet and not asked for within
    /// [`RESOLVE_RETRY_NS`] of event time. Each is given once; the next time only when the
    /// name shows up again after the retry time and still has no answer. Sorted by key.
    pub fn names_to_resolve(&mut self) -> Vec<(SourceKey, Vec<u8>)> {
        let mut out = Vec::new();
        let at = self.clock.unwrap_or(0);
        for key in std::mem::take(&mut self.to_resolve) {
            let Some(name) = key.name() else { continue };
            if !self.entries.contains_key(&key) || self.resolved.contains_key(&key) {
                continue;
            }
            if self.asked.len() >= NAMES_REMEMBERED {
                self.asked.clear();
            }
            self.asked.insert(key, at);
            out.push((key, name.to_vec()));
        }
        out
    }

    /// The resolver's answer for a name key. With an address, the name's candidate (if in
    /// memory: the receiver restores a stored one first, and the address's stored candidate
    /// too) merges into the candidate of that address's key (grouped by the configured
    /// prefix; made if there is none), which keeps the name among its
    /// [`Candidate::names`]; the name's entry goes, with [`Change::Merged`] (when the name's
    /// candidate was published) and [`Change::Removed`] for the name (delete its stored
    /// record). Later events under the name are keyed by the address directly. An address
    /// that makes no candidate (loopback, own network) drops the name's entry
    /// ([`Change::Removed`]) and later events under the name are ignored likewise.
    ///
    /// With `None` (the name does not resolve) the name's candidate stays as it is and the
    /// name is not asked for again (while remembered). Not a name key: nothing happens.
    pub fn resolved(
        &mut self,
        name_key: SourceKey,
        addr: Option<IpAddr>,
        changes: &mut Vec<Change>,
    ) {
        if !name_key.is_name() {
            return;
        }
        self.asked.remove(&name_key);
        self.to_resolve.remove(&name_key);
        let addr = addr.map(|ip| match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        });
        if self.resolved.len() >= NAMES_REMEMBERED && !self.resolved.contains_key(&name_key) {
            self.resolved.clear();
        }
        self.resolved.insert(name_key, addr);
        let Some(ip) = addr else { return };
        let Some(entry) = self.entries.remove(&name_key) else {
            return;
        };
        let candidate = entry.candidate;
        if let Some(block) = candidate.block() {
            self.blocked.remove(&(block.until, name_key));
        }
        self.move_name(name_key, *candidate, ip, changes);
    }

    /// Names the book holds beside its candidates: answers remembered, names asked for and
    /// not answered, names waiting to be asked for. Bounded (at most twice
    /// [`NAMES_REMEMBERED`] plus the candidates in memory).
    pub fn names_remembered(&self) -> usize {
        self.resolved.len() + self.asked.len() + self.to_resolve.len()
    }

    /// Name keys the book remembers an answer for: `Some(addr)` resolved, `None` does not
    /// resolve.
    pub fn resolution(&self, name_key: &SourceKey) -> Option<Option<IpAddr>> {
        self.resolved.get(name_key).copied()
    }

    /// Folds one event. `received_ns` is the receive time (used when the line has no stamp),
    /// `reference` the store's key of the event (kept with evidence lines). Changes are
    /// appended to `changes`; they come when event time moves past a second's events (or on
    /// [`IncidentBook::settle`]), never half-way through one.
    pub fn fold(
        &mut self,
        event: &Event<'_>,
        received_ns: i64,
        reference: EventRef,
        changes: &mut Vec<Change>,
    ) {
        let key = self.key_for(event);
        self.fold_keyed(key, event, received_ns, reference, changes);
    }

    /// [`IncidentBook::fold`] with the event's key already taken by
    /// [`IncidentBook::key_for`] (the receiver needs it first, to restore the candidate).
    pub fn fold_keyed(
        &mut self,
        key: Result<SourceKey, Ignored>,
        event: &Event<'_>,
        received_ns: i64,
        reference: EventRef,
        changes: &mut Vec<Change>,
    ) {
        // By reference: a key is 256 bytes (see `SourceKey`), and each move of it was a copy.
        let key = match &key {
            Ok(key) => key,
            Err(why) => {
                let counter = match why {
                    Ignored::NoSource => &mut self.stats.no_source,
                    Ignored::Loopback => &mut self.stats.loopback,
                    Ignored::OwnNetwork => &mut self.stats.own_network,
                    Ignored::SelfReport => &mut self.stats.self_report,
                };
                *counter += 1;
                return;
            }
        };
        let name = name_of(event);
        let time = event_time(event, received_ns);
        self.advance_to(time, changes);
        if self.clock.is_some_and(|c| time < c) {
            self.stats.late += 1;
        }
        self.stats.folded += 1;

        let d = &event.details;
        let exploit = self.is_exploit(event);
        let weight = self.weigh(event, exploit);
        let reporter = event.header.hostname;
        let host = match (d.destination.ip, reporter) {
            (Some(ip), _) => Some(hash_u128(addr_bits(ip))),
            (None, Some(name)) => Some(hash_bytes(name) ^ 1),
            (None, None) => None,
        };
        let obs = Observation {
            time,
            reference,
            line: event.original,
            dataset: event.dataset,
            action: d.action,
            reporter,
            signature: d.rule.name.or(d.rule.id),
            host,
            port: d.destination.port,
            priority: d.priority,
            exploit,
            failure: matches!(
                d.action,
                Some(Action::LoginFailed | Action::ConnectionRefused | Action::ServiceFail)
            ),
            weight,
            name: name.as_ref().and_then(SourceKey::name),
        };

        if self.entries.len() >= self.ceiling && !self.entries.contains_key(key) {
            // A flood of new sources within one second: bound first, order second.
            self.settle_dirty(changes);
            self.evict(changes);
        }
        let limits = &self.limits;
        let entry = self.entries.get_or_insert_with(key, || {
            Entry::new(Box::new(Candidate::new(*key, time, limits)))
        });
        let signal = entry.candidate.observe(&obs, limits);
        entry.rerank();
        if !entry.dirty {
            entry.dirty = true;
            self.dirty.push(*key);
        }
        if !entry.touched {
            entry.touched = true;
            self.touched.push(*key);
        }
        if signal && key.is_name() {
            self.want_resolved(*key, time);
        }
        if signal {
            if let Some(host) = host {
                self.targets.observe(
                    host,
                    d.destination.ip,
                    reporter,
                    d.destination.port,
                    key.addr(),
                    time,
                );
            }
            if self.targets.overfull() {
                self.targets.trim();
            }
        }
    }

    /// Settles everything folded so far: class, score, lifecycle, changes; then bounds the
    /// book. Call it at the end of an import or rebuild, or when the receiver publishes; a
    /// settle in the middle of one second's events makes the result depend on where the cut
    /// fell, so the live path leaves it to `fold`.
    pub fn settle(&mut self, changes: &mut Vec<Change>) {
        self.settle_dirty(changes);
        self.evict(changes);
        self.targets.trim();
    }

    /// Ends the blocks that expired by `now` (Unix ns), without moving the book's clock.
    pub fn expire(&mut self, now: i64, changes: &mut Vec<Change>) {
        while let Some(&(until, key)) = self.blocked.first() {
            if until > now {
                break;
            }
            self.blocked.pop_first();
            if let Some(entry) = self.entries.get_mut(&key)
                && entry.candidate.expire_block(now, changes)
            {
                entry.rerank();
                if !entry.touched {
                    entry.touched = true;
                    self.touched.push(key);
                }
            }
        }
    }

    /// Sets the state of `key` by hand (`picket mark`), appending to its history who did it,
    /// when, and why. `blocked` starts a block (longer for each block of the same source).
    // The error is the key (up to 256 bytes with a name inline), rare and `Copy`: not boxed.
    #[allow(clippy::result_large_err)]
    pub fn mark(
        &mut self,
        key: &SourceKey,
        state: State,
        note: &str,
        who: &str,
        at: i64,
        changes: &mut Vec<Change>,
    ) -> Result<(), NotInBook> {
        let entry = self.entries.get_mut(key).ok_or(NotInBook(*key))?;
        if let Some(block) = entry.candidate.block() {
            self.blocked.remove(&(block.until, *key));
        }
        entry
            .candidate
            .mark(state, note, who, at, &self.blocks, changes);
        if let Some(block) = entry.candidate.block() {
            self.blocked.insert((block.until, *key));
        }
        entry.rerank();
        if !entry.touched {
            entry.touched = true;
            self.touched.push(*key);
        }
        Ok(())
    }

    /// Puts a stored candidate back (its source showed up again, or the receiver starts and
    /// loads the active ones). Merged into the one in memory if there is one.
    ///
    /// A name key's candidate whose name already resolved goes into its address's candidate
    /// ([`Change::Removed`] for the name, [`Change::Merged`] if it was published); one still
    /// to resolve is offered by [`IncidentBook::names_to_resolve`] if it had signal.
    pub fn restore(&mut self, candidate: Candidate, changes: &mut Vec<Change>) {
        let key = candidate.key();
        if key.is_name() {
            match self.resolved.get(&key).copied() {
                Some(Some(ip)) => {
                    self.move_name(key, candidate, ip, changes);
                    return;
                }
                Some(None) => {}
                None => {
                    if candidate.is_published() || candidate.signal_events() > 0 {
                        self.want_resolved(key, candidate.last_seen());
                    }
                }
            }
        }
        self.absorb(key, candidate, changes);
    }

    /// Moves the candidate of the name key `from` (out of the book already) into the
    /// candidate of the address `ip`, with the changes that says.
    fn move_name(
        &mut self,
        from: SourceKey,
        candidate: Candidate,
        ip: IpAddr,
        changes: &mut Vec<Change>,
    ) {
        let Ok(into) = self.key_for_addr(ip) else {
            // Its address is one the book ignores (loopback, own network): so is the name.
            changes.push(Change::Removed { key: from });
            return;
        };
        if candidate.is_published() {
            let at = self.clock.unwrap_or(candidate.last_seen());
            changes.push(Change::Merged { from, into, at });
        }
        changes.push(Change::Removed { key: from });
        self.stats.merged += 1;
        self.absorb(into, candidate, changes);
    }

    /// Puts `candidate` in under `key` (its own, or the address a name resolved to), merged
    /// into the one in memory if there is one.
    fn absorb(&mut self, key: SourceKey, mut candidate: Candidate, changes: &mut Vec<Change>) {
        candidate.key = key;
        if self.entries.len() >= self.ceiling && !self.entries.contains_key(&key) {
            self.settle_dirty(changes);
            self.evict(changes);
        }
        let entry = if self.entries.contains_key(&key) {
            let Some(e) = self.entries.get_mut(&key) else {
                return;
            };
            if let Some(block) = e.candidate.block() {
                self.blocked.remove(&(block.until, key));
            }
            e.candidate.merge(&candidate);
            e
        } else {
            self.entries.insert(key, Entry::new(Box::new(candidate)))
        };
        entry.rerank();
        if let Some(block) = entry.candidate.block() {
            self.blocked.insert((block.until, key));
        }
        if !entry.dirty {
            entry.dirty = true;
            self.dirty.push(key);
        }
        if !entry.touched {
            entry.touched = true;
            self.touched.push(key);
        }
    }

    /// The sources whose candidates changed since the last call, sorted: what the receiver
    /// encodes into the store's `incidents` tree with the batch that changed them.
    pub fn take_touched(&mut self) -> Vec<SourceKey> {
        let mut list = mem::take(&mut self.touched);
        let mut keys = Vec::with_capacity(list.v4.len() + list.v6.len() + list.names.len());
        // A key evicted and brought back since the last call is in the list twice (its new
        // entry was not yet touched when it came back): the flag says whether it is due.
        list.drain_sorted(|key| {
            if let Some(e) = self.entries.get_mut(&key)
                && e.touched
            {
                e.touched = false;
                keys.push(key);
            }
        });
        self.touched = list;
        keys
    }

    // ---- internals ----

    fn advance_to(&mut self, time: i64, changes: &mut Vec<Change>) {
        if self.clock.is_some_and(|c| time <= c) {
            return;
        }
        if self
            .clock
            .is_some_and(|c| time.div_euclid(SETTLE_PERIOD_NS) > c.div_euclid(SETTLE_PERIOD_NS))
        {
            self.settle(changes);
        }
        self.clock = Some(time);
        self.expire(time, changes);
    }

    /// Evaluates the candidates folded since the last settle, in key order.
    fn settle_dirty(&mut self, changes: &mut Vec<Change>) {
        let at = self.clock.unwrap_or(0);
        let mut list = mem::take(&mut self.dirty);
        let touched = &mut self.touched;
        list.drain_sorted(|key| {
            if let Some(entry) = self.entries.get_mut(&key)
                && entry.dirty
            {
                entry.dirty = false;
                entry.candidate.evaluate(&self.limits, at, changes);
                entry.rerank();
                // A flush between the fold and this settle took the key already (and skipped
                // it while unpublished, or stored what the settle has now changed: published,
                // class, score; late events of an import behind live traffic): store it again.
                if !entry.touched {
                    entry.touched = true;
                    touched.push(key);
                }
            }
        });
        self.dirty = list;
    }

    /// Moves the lowest-ranked candidates out once over `max_active`, down to 15/16 of it.
    /// Rank: unpublished first, then not being handled (new, closed), then lowest score,
    /// least recently seen, and key.
    fn evict(&mut self, changes: &mut Vec<Change>) {
        let max_active = self.config.max_active.max(1);
        if self.entries.len() <= max_active {
            return;
        }
        let keep = (max_active - max_active / 16).max(1);
        let drop = self.entries.len().saturating_sub(keep);
        let (ranks, names) = self.entries.lowest(drop, &mut self.rank_scratch);
        for key in ranks.iter().filter_map(|r| key_of_rank(r, &names)) {
            let Some(entry) = self.entries.remove(&key) else {
                continue;
            };
            let candidate = entry.candidate;
            if let Some(block) = candidate.block() {
                self.blocked.remove(&(block.until, key));
            }
            if key.is_name() {
                self.to_resolve.remove(&key);
                self.asked.remove(&key);
            }
            if candidate.is_published() {
                self.stats.evicted += 1;
                changes.push(Change::Evicted(candidate));
            } else {
                self.stats.forgotten += 1;
                changes.push(Change::Forgotten { key });
            }
        }
    }

    /// Queues a name key for `names_to_resolve` unless it has an answer or was asked for
    /// less than [`RESOLVE_RETRY_NS`] before `time`.
    fn want_resolved(&mut self, key: SourceKey, time: i64) {
        if self.resolved.contains_key(&key) {
            return;
        }
        if self
            .asked
            .get(&key)
            .is_some_and(|t| time.saturating_sub(*t) < RESOLVE_RETRY_NS)
        {
            return;
        }
        self.to_resolve.insert(key);
    }

    fn is_exploit(&self, event: &Event<'_>) -> bool {
        let d = &event.details;
        if d.action != Some(Action::IdsAlert) && d.priority.is_none() {
            return false;
        }
        if d.priority
            .is_some_and(|p| p <= self.config.exploit_priority)
        {
            return true;
        }
        if let Some(category) = d.rule.category {
            let category = trim(category);
            if self
                .exploit_categories
                .iter()
                .any(|c| c.eq_ignore_ascii_case(category))
            {
                return true;
            }
            if self.exploit_words.iter().any(|w| contains_ci(category, w)) {
                return true;
            }
        }
        d.rule
            .name
            .is_some_and(|name| self.exploit_words.iter().any(|w| contains_ci(name, w)))
    }

    fn weigh(&self, event: &Event<'_>, exploit: bool) -> Weight {
        match event.details.action {
            Some(
                Action::ConnectionAccepted
                | Action::AclPermitted
                | Action::ServiceStart
                | Action::ServiceExit
                | Action::LoginSucceeded,
            ) => return Weight::Benign,
            // A line with a source but no action is a logged packet for the packet families,
            // and session chatter (`Connection closed by`) for the others.
            None if !matches!(
                event.dataset,
                Dataset::Iptables
                    | Dataset::CiscoAcl
                    | Dataset::LogInVain
                    | Dataset::Portsentry
                    | Dataset::Snort
                    | Dataset::Pf
                    | Dataset::Ipfw
                    | Dataset::CiscoFw
                    | Dataset::CiscoIps
            ) =>
            {
                return Weight::Benign;
            }
            _ => {}
        }
        match self.noise.classify(event, exploit) {
            Some(rule) => Weight::Noise(rule),
            None => Weight::Signal,
        }
    }
}

/// `@timestamp` in Unix ns: the line's own stamp, else the receive time.
pub fn event_time(event: &Event<'_>, received_ns: i64) -> i64 {
    event.header.timestamp.map_or(received_ns, |t| {
        let ns = t.as_nanos();
        i64::try_from(ns).unwrap_or(if ns < 0 { i64::MIN } else { i64::MAX })
    })
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// Case-insensitive substring test (`needle` already lower-case).
fn contains_ci(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}
