//! One incident candidate: everything the book knows about one attacking source, folded from
//! its events, and how its class and score are worked out.
//!
//! Folding (`observe`) only adds to sums, unions, maxima and order-chosen samples, so events of
//! one time may come in any order. Decisions (class, score, which noise rules are over their
//! volume, pruning the signature table) are taken in `evaluate`, which the book calls when
//! event time moves past a second's events ("settling" them).

use std::fmt;

use picket_parsers::{Action, Dataset};

use crate::config::{SensorConfig, nanos};
use crate::distinct::{BucketCounts, DistinctCounter, LatestTimes, RecentKeys};
use crate::evidence::{EventRef, EvidenceSample};
use crate::prefetch::Reach;
use crate::source::SourceKey;
use crate::state::{Block, HistoryEntry, State};

/// What kind of incident a candidate looks like, from the most to the least severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Class {
    /// An IDS alert of the highest priority, or a signature class naming an exploit.
    IdsExploit = 1,
    /// Many ports on few hosts within the scan window.
    PortScan = 2,
    /// One or few ports on many hosts within the sweep window.
    Sweep = 3,
    /// Many failed logins or refusals within the attempts window.
    RepeatedAttempts = 4,
    /// Anything else that is not noise.
    SingleProbe = 5,
    /// Only noise (or benign events) so far: not published as a candidate.
    Noise = 6,
}

impl Class {
    /// Every class, in code order.
    pub const ALL: [Class; 6] = [
        Class::IdsExploit,
        Class::PortScan,
        Class::Sweep,
        Class::RepeatedAttempts,
        Class::SingleProbe,
        Class::Noise,
    ];

    /// The name tools and the query socket use (`port-scan`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Class::IdsExploit => "ids-exploit",
            Class::PortScan => "port-scan",
            Class::Sweep => "sweep",
            Class::RepeatedAttempts => "repeated-attempts",
            Class::SingleProbe => "single-probe",
            Class::Noise => "noise",
        }
    }

    /// Looks a class up by name.
    pub fn from_name(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Looks a class up by its code.
    pub fn from_code(code: u8) -> Option<Class> {
        Class::ALL.into_iter().find(|c| *c as u8 == code)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an event counts for its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Weight {
    /// Raises the candidate.
    Signal,
    /// Matched the noise rule with this index.
    Noise(u16),
    /// A success or a lifecycle line (accepted, permitted, service start/exit): counted, never
    /// raises.
    Benign,
}

/// What the book read from one event, in the candidate's terms.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Observation<'a> {
    pub time: i64,
    pub reference: EventRef,
    pub line: &'a [u8],
    pub dataset: Dataset,
    pub action: Option<Action>,
    pub reporter: Option<&'a [u8]>,
    pub signature: Option<&'a [u8]>,
    /// Destination host, hashed (its address, else the reporter's name).
    pub host: Option<u64>,
    pub port: Option<u16>,
    pub priority: Option<u8>,
    pub exploit: bool,
    pub failure: bool,
    pub weight: Weight,
    /// The host name the line gives for the source (normalised), with or without an address.
    pub name: Option<&'a [u8]>,
}

/// The config in the form folding needs it (nanoseconds, bounds).
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub scan_window: i64,
    pub sweep_window: i64,
    pub attempts_window: i64,
    pub scan_ports: usize,
    pub sweep_hosts: usize,
    pub sweep_max_ports: usize,
    pub attempts_failures: usize,
    pub exploit_alerts: u64,
    pub score_steps: Vec<u32>,
    pub recent_cap: usize,
    pub evidence_first: usize,
    pub evidence_latest: usize,
    pub line_max: usize,
    pub activity_bucket: i64,
    pub activity_buckets: usize,
    /// (window ns, volume) per noise rule.
    pub noise: Vec<(i64, u32)>,
}

impl Limits {
    pub fn of(cfg: &SensorConfig) -> Limits {
        let cap = |n: u32| (n as usize).clamp(1, crate::config::MAX_WINDOW_THRESHOLD as usize);
        let scan_ports = cap(cfg.scan_ports);
        let sweep_hosts = cap(cfg.sweep_hosts);
        let sweep_max_ports = (cfg.sweep_max_ports as usize).min(scan_ports);
        Limits {
            scan_window: nanos(cfg.scan_window),
            sweep_window: nanos(cfg.sweep_window),
            attempts_window: nanos(cfg.attempts_window),
            scan_ports,
            sweep_hosts,
            sweep_max_ports,
            attempts_failures: cap(cfg.attempts_failures),
            exploit_alerts: u64::from(cfg.exploit_alerts.max(1)),
            score_steps: {
                let mut s = cfg.score_steps.clone();
                s.sort_unstable();
                s.dedup();
                s
            },
            // One more than the larger threshold: enough to see it reached in a window.
            recent_cap: scan_ports.max(sweep_hosts).max(sweep_max_ports + 1) + 1,
            evidence_first: cfg.evidence_first.min(64),
            evidence_latest: cfg.evidence_latest.min(64),
            line_max: cfg.evidence_line_max.clamp(16, 64 * 1024),
            activity_bucket: nanos(cfg.activity_bucket),
            activity_buckets: cfg.activity_buckets.clamp(1, 1024),
            noise: cfg
                .noise
                .iter()
                .map(|r| (nanos(r.window), r.volume))
                .collect(),
        }
    }
}

/// Signatures kept per candidate after settling (the top ones by count).
pub const TOP_SIGNATURES: usize = 8;
/// Distinct signatures a candidate may collect between two settles.
const SIGNATURES_OPEN: usize = 64;
/// Reporting hosts kept by name (the smallest names; the rest only counted as "more").
pub const REPORTERS_KEPT: usize = 8;
/// Host names kept per candidate (the smallest ones): the names its source was known by.
pub const NAMES_KEPT: usize = 8;
/// Longest signature or reporter name kept.
const NAME_MAX: usize = 128;
/// Lifecycle history entries kept (the latest ones).
pub const HISTORY_KEPT: usize = 64;

/// Sticky window findings.
pub(crate) const SEEN_SCAN: u8 = 1;
pub(crate) const SEEN_SWEEP: u8 = 2;
pub(crate) const SEEN_ATTEMPTS: u8 = 4;

/// Noise a candidate's events matched, per rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoiseTally {
    /// Index of the rule in the noise policy.
    pub rule: u16,
    /// Events that matched it.
    pub events: u64,
    /// Set once the source sent more than the rule's volume within its window: from then on
    /// its events of this rule count as signal.
    pub over_volume: bool,
    /// Counts of the two latest rule windows.
    pub(crate) windows: BucketCounts,
}

/// One candidate: an attacking source and what it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub(crate) key: SourceKey,
    pub(crate) first_seen: i64,
    pub(crate) last_seen: i64,
    pub(crate) last_signal: Option<i64>,
    pub(crate) events: u64,
    pub(crate) signal_events: u64,
    pub(crate) ports: DistinctCounter,
    pub(crate) hosts: DistinctCounter,
    pub(crate) recent_ports: RecentKeys<u16>,
    pub(crate) recent_hosts: RecentKeys<u64>,
    pub(crate) failures: LatestTimes,
    pub(crate) failures_total: u64,
    pub(crate) exploit_alerts: u64,
    /// IDS alerts of priority 1, 2, 3 and 4 or more.
    pub(crate) alerts_by_priority: [u64; 4],
    pub(crate) datasets: u32,
    pub(crate) reporters: Vec<Vec<u8>>,
    pub(crate) reporters_more: bool,
    /// Host names of the source, sorted, at most [`NAMES_KEPT`].
    pub(crate) names: Vec<Vec<u8>>,
    /// Sorted by name.
    pub(crate) signatures: Vec<(Vec<u8>, u64)>,
    pub(crate) signatures_other: u64,
    /// Counts by action code; index 0 = no action.
    pub(crate) actions: [u64; 14],
    pub(crate) evidence: EvidenceSample,
    pub(crate) activity: BucketCounts,
    pub(crate) noise: Vec<NoiseTally>,
    // Settled findings.
    pub(crate) seen: u8,
    pub(crate) peak_ports: u32,
    pub(crate) peak_hosts: u32,
    pub(crate) peak_failures: u32,
    pub(crate) score: u32,
    pub(crate) class: Class,
    pub(crate) published: bool,
    // Lifecycle.
    pub(crate) state: State,
    pub(crate) state_since: i64,
    pub(crate) notices: u32,
    pub(crate) blocks: u32,
    pub(crate) block: Option<Block>,
    pub(crate) history: Vec<HistoryEntry>,
}

impl Candidate {
    pub(crate) fn new(key: SourceKey, time: i64, limits: &Limits) -> Candidate {
        Candidate {
            key,
            first_seen: time,
            last_seen: time,
            last_signal: None,
            events: 0,
            signal_events: 0,
            ports: DistinctCounter::new(),
            hosts: DistinctCounter::new(),
            recent_ports: RecentKeys::new(limits.recent_cap),
            recent_hosts: RecentKeys::new(limits.recent_cap),
            failures: LatestTimes::new(limits.attempts_failures),
            failures_total: 0,
            exploit_alerts: 0,
            alerts_by_priority: [0; 4],
            datasets: 0,
            reporters: Vec::new(),
            reporters_more: false,
            names: key.name().map(<[u8]>::to_vec).into_iter().collect(),
            signatures: Vec::new(),
            signatures_other: 0,
            actions: [0; 14],
            evidence: EvidenceSample::new(limits.evidence_first, limits.evidence_latest),
            activity: BucketCounts::new(limits.activity_buckets),
            noise: Vec::new(),
            seen: 0,
            peak_ports: 0,
            peak_hosts: 0,
            peak_failures: 0,
            score: 0,
            class: Class::Noise,
            published: false,
            state: State::New,
            state_since: time,
            notices: 0,
            blocks: 0,
            block: None,
            history: Vec::new(),
        }
    }

    // ---- read side ----

    /// The source (address or prefix).
    pub fn key(&self) -> SourceKey {
        self.key
    }
    /// Earliest event time, Unix ns.
    pub fn first_seen(&self) -> i64 {
        self.first_seen
    }
    /// Latest event time, Unix ns.
    pub fn last_seen(&self) -> i64 {
        self.last_seen
    }
    /// Latest time of an event that counted as signal (not noise, not benign).
    pub fn last_signal(&self) -> Option<i64> {
        self.last_signal
    }
    /// All events folded, noise included.
    pub fn events(&self) -> u64 {
        self.events
    }
    /// Events that counted as signal.
    pub fn signal_events(&self) -> u64 {
        self.signal_events
    }
    /// Distinct destination ports (exact up to 64, then estimated).
    pub fn distinct_ports(&self) -> &DistinctCounter {
        &self.ports
    }
    /// Distinct destination hosts (exact up to 64, then estimated).
    pub fn distinct_hosts(&self) -> &DistinctCounter {
        &self.hosts
    }
    /// The destination ports, while there are at most 64.
    pub fn ports(&self) -> Option<Vec<u16>> {
        self.ports
            .exact_values()
            .map(|v| v.iter().filter_map(|p| u16::try_from(*p).ok()).collect())
    }
    /// Most distinct ports seen within one scan window.
    pub fn peak_ports(&self) -> u32 {
        self.peak_ports
    }
    /// Most distinct hosts seen within one sweep window.
    pub fn peak_hosts(&self) -> u32 {
        self.peak_hosts
    }
    /// Most failures seen within one attempts window.
    pub fn peak_failures(&self) -> u32 {
        self.peak_failures
    }
    /// Failed logins and refusals in all.
    pub fn failures(&self) -> u64 {
        self.failures_total
    }
    /// IDS alerts that were exploit alerts.
    pub fn exploit_alerts(&self) -> u64 {
        self.exploit_alerts
    }
    /// IDS alerts of priority 1, 2, 3, and 4 or more.
    pub fn alerts_by_priority(&self) -> [u64; 4] {
        self.alerts_by_priority
    }
    /// The datasets its events came from.
    pub fn datasets(&self) -> Vec<Dataset> {
        Dataset::ALL
            .into_iter()
            .filter(|d| self.datasets & (1 << (*d as u32)) != 0)
            .collect()
    }
    /// Reporting hosts by name (at most 8, the smallest names), and whether there were more.
    pub fn reporters(&self) -> (&[Vec<u8>], bool) {
        (&self.reporters, self.reporters_more)
    }
    /// The host names its source was known by (lower-case, sorted; at most [`NAMES_KEPT`],
    /// the smallest): a name key's own name, the names merged into it, and names lines gave
    /// beside the address (PortSentry's `host: NAME/ADDR`).
    pub fn names(&self) -> &[Vec<u8>] {
        &self.names
    }
    /// The top signatures (rule name or id) with their counts, most frequent first (ties by
    /// name), and the count of the others.
    pub fn signatures(&self) -> (Vec<(&[u8], u64)>, u64) {
        let mut top: Vec<(&[u8], u64)> = self
            .signatures
            .iter()
            .map(|(n, c)| (n.as_slice(), *c))
            .collect();
        top.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        (top, self.signatures_other)
    }
    /// Counts by action, most frequent first (ties in action order); `None` = no action.
    pub fn actions(&self) -> Vec<(Option<Action>, u64)> {
        let mut out: Vec<(Option<Action>, u64)> = self
            .actions
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| {
                let a = u8::try_from(i).ok().and_then(Action::from_code);
                (a, *c)
            })
            .collect();
        out.sort_by_key(|a| std::cmp::Reverse(a.1));
        out
    }
    /// The evidence lines.
    pub fn evidence(&self) -> &EvidenceSample {
        &self.evidence
    }
    /// Events per activity bucket (bucket index = time / activity_bucket), oldest first.
    pub fn activity(&self) -> &[(i64, u32)] {
        self.activity.buckets()
    }
    /// The noise rules its events matched.
    pub fn noise(&self) -> &[NoiseTally] {
        &self.noise
    }
    /// The score (0..=1000).
    pub fn score(&self) -> u32 {
        self.score
    }
    /// The class.
    pub fn class(&self) -> Class {
        self.class
    }
    /// True once it is a candidate downstream tools see (it had signal at a settle).
    pub fn is_published(&self) -> bool {
        self.published
    }
    /// Lifecycle state.
    pub fn state(&self) -> State {
        self.state
    }
    /// When the state was last set.
    pub fn state_since(&self) -> i64 {
        self.state_since
    }
    /// Notices sent (times marked `reported`).
    pub fn notices(&self) -> u32 {
        self.notices
    }
    /// Blocks so far (the next one lasts longer).
    pub fn blocks(&self) -> u32 {
        self.blocks
    }
    /// The current block, when blocked.
    pub fn block(&self) -> Option<Block> {
        self.block
    }
    /// Who set which state when, oldest first (the latest 64).
    pub fn history(&self) -> &[HistoryEntry] {
        &self.history
    }

    /// Asks the cache for the candidate itself, a couple of places before
    /// [`Candidate::prefetch_pieces`] reads its pointers (see `prefetch.rs`).
    pub fn prefetch_box(&self) {
        crate::prefetch::all(std::slice::from_ref(self));
    }

    /// Asks the cache for every piece [`encode_candidate`](crate::encode_candidate) reads,
    /// to encode this candidate a little later (a hint: nothing changes). The receiver calls
    /// it for the evictions a few places ahead of the one it encodes (see `prefetch.rs`).
    pub fn prefetch_pieces(&self) {
        use crate::prefetch;
        prefetch::all(&self.reporters);
        for r in &self.reporters {
            prefetch::all(r);
        }
        prefetch::all(&self.names);
        prefetch::all(&self.signatures);
        for (s, _) in &self.signatures {
            prefetch::all(s);
        }
        prefetch::all(&self.noise);
        prefetch::all(&self.history);
        self.prefetch_tables(Reach::Whole);
        self.failures.prefetch(Reach::Whole);
    }

    /// The tables both an event's fold and an encoding read, asked for as far as `reach`.
    #[inline]
    fn prefetch_tables(&self, reach: Reach) {
        self.evidence.prefetch(reach);
        self.activity.prefetch(reach);
        self.ports.prefetch(reach);
        self.hosts.prefetch(reach);
        self.recent_ports.prefetch(reach);
        self.recent_hosts.prefetch(reach);
    }

    // ---- folding ----

    /// Asks the cache for the pieces [`Candidate::observe`] reads, all at once, before it
    /// reads the first: their misses then overlap instead of following one another
    /// (`prefetch.rs`).
    fn prefetch_for_fold(&self) {
        crate::prefetch::line(self.reporters.as_ptr());
        if let Some(r) = self.reporters.first() {
            crate::prefetch::line(r.as_ptr());
        }
        self.prefetch_tables(Reach::Fold);
    }

    /// Folds one event. Returns whether it counted as signal.
    pub(crate) fn observe(&mut self, obs: &Observation<'_>, limits: &Limits) -> bool {
        self.prefetch_for_fold();
        self.first_seen = self.first_seen.min(obs.time);
        if self.history.is_empty() {
            // `new` since its first event, not since whichever of them came first.
            self.state_since = self.first_seen;
        }
        self.last_seen = self.last_seen.max(obs.time);
        self.events = self.events.saturating_add(1);
        self.datasets |= 1 << (obs.dataset as u32);
        let action_index = obs.action.map_or(0, |a| a as usize);
        if let Some(c) = self.actions.get_mut(action_index) {
            *c = c.saturating_add(1);
        }
        if obs.action == Some(Action::IdsAlert) || obs.priority.is_some() {
            let slot = usize::from(obs.priority.unwrap_or(4).clamp(1, 4)) - 1;
            if let Some(c) = self.alerts_by_priority.get_mut(slot) {
                *c = c.saturating_add(1);
            }
        }
        if let Some(r) = obs.reporter {
            self.add_reporter(r);
        }
        if let Some(s) = obs.signature {
            self.add_signature(s);
        }
        if let Some(n) = obs.name {
            self.add_name(n);
        }
        let line = obs.line.get(..limits.line_max).unwrap_or(obs.line);
        self.evidence.offer(obs.time, line, obs.reference);
        self.activity
            .add(obs.time.div_euclid(limits.activity_bucket), 1);

        let signal = match obs.weight {
            Weight::Signal => true,
            Weight::Benign => false,
            Weight::Noise(rule) => self.add_noise(rule, obs.time, limits),
        };
        if !signal {
            return false;
        }
        self.signal_events = self.signal_events.saturating_add(1);
        self.last_signal = Some(self.last_signal.map_or(obs.time, |t| t.max(obs.time)));
        // A key its recent table already holds is in its counter already (each key goes
        // into both, and merges and decoding keep it so): no second search of the counter.
        if let Some(port) = obs.port
            && !self.recent_ports.observe(port, obs.time)
        {
            self.ports.insert(u64::from(port));
        }
        if let Some(host) = obs.host
            && !self.recent_hosts.observe(host, obs.time)
        {
            self.hosts.insert(host);
        }
        if obs.failure {
            self.failures.observe(obs.time);
            self.failures_total = self.failures_total.saturating_add(1);
        }
        if obs.exploit {
            self.exploit_alerts = self.exploit_alerts.saturating_add(1);
        }
        true
    }

    pub(crate) fn add_reporter(&mut self, name: &[u8]) {
        let name = name.get(..NAME_MAX).unwrap_or(name);
        match self.reporters.binary_search_by(|r| r.as_slice().cmp(name)) {
            Ok(_) => {}
            Err(at) if self.reporters.len() < REPORTERS_KEPT => {
                self.reporters.insert(at, name.to_vec());
            }
            Err(at) => {
                self.reporters_more = true;
                if at < self.reporters.len() {
                    self.reporters.insert(at, name.to_vec());
                    self.reporters.truncate(REPORTERS_KEPT);
                }
            }
        }
    }

    /// Adds a host name (already normalised); keeps the smallest [`NAMES_KEPT`].
    pub(crate) fn add_name(&mut self, name: &[u8]) {
        if let Err(at) = self.names.binary_search_by(|n| n.as_slice().cmp(name))
            && at < NAMES_KEPT
        {
            self.names.insert(at, name.to_vec());
            self.names.truncate(NAMES_KEPT);
        }
    }

    fn add_signature(&mut self, name: &[u8]) {
        let name = name.get(..NAME_MAX).unwrap_or(name);
        match self
            .signatures
            .binary_search_by(|(n, _)| n.as_slice().cmp(name))
        {
            Ok(at) => {
                if let Some(entry) = self.signatures.get_mut(at) {
                    entry.1 = entry.1.saturating_add(1);
                }
            }
            Err(at) if self.signatures.len() < SIGNATURES_OPEN => {
                self.signatures.insert(at, (name.to_vec(), 1));
            }
            Err(_) => self.signatures_other = self.signatures_other.saturating_add(1),
        }
    }

    /// Counts a noise event; true when the rule was already over its volume (signal).
    fn add_noise(&mut self, rule: u16, time: i64, limits: &Limits) -> bool {
        let window = limits
            .noise
            .get(usize::from(rule))
            .map_or(i64::MAX, |(w, _)| *w);
        let at = match self.noise.binary_search_by_key(&rule, |t| t.rule) {
            Ok(at) => at,
            Err(at) => {
                self.noise.insert(
                    at,
                    NoiseTally {
                        rule,
                        events: 0,
                        over_volume: false,
                        windows: BucketCounts::new(2),
                    },
                );
                at
            }
        };
        let Some(tally) = self.noise.get_mut(at) else {
            return false;
        };
        tally.events = tally.events.saturating_add(1);
        tally.windows.add(time.div_euclid(window), 1);
        tally.over_volume
    }

    // ---- settling ----

    pub(crate) fn classify(&self, limits: &Limits) -> Class {
        if self.signal_events == 0 {
            Class::Noise
        } else if self.exploit_alerts >= limits.exploit_alerts {
            Class::IdsExploit
        } else if self.seen & SEEN_SCAN != 0 {
            Class::PortScan
        } else if self.seen & SEEN_SWEEP != 0 {
            Class::Sweep
        } else if self.seen & SEEN_ATTEMPTS != 0 {
            Class::RepeatedAttempts
        } else {
            Class::SingleProbe
        }
    }

    /// 0..=1000: exploit alerts weigh most, then breadth (ports, hosts), then persistence.
    pub(crate) fn compute_score(&self) -> u32 {
        if self.signal_events == 0 {
            return 0;
        }
        let mut s: u64 = 0;
        if self.exploit_alerts > 0 {
            s += 100 + 10 * (self.exploit_alerts - 1).min(10);
        }
        let [_, p2, p3, p4] = self.alerts_by_priority;
        s += 5 * p2.min(10) + p3.min(10) + p4.min(5);
        s += 3 * u64::from(self.peak_ports);
        s += 4 * u64::from(self.peak_hosts);
        s += 2 * self.failures_total.min(50);
        for flag in [SEEN_SCAN, SEEN_SWEEP, SEEN_ATTEMPTS] {
            if self.seen & flag != 0 {
                s += 20;
            }
        }
        s += 2 * u64::from(self.signal_events.saturating_add(1).ilog2());
        u32::try_from(s.min(1000)).unwrap_or(1000)
    }

    /// Keeps the top signatures by (count, name); the rest go to "other".
    pub(crate) fn prune_signatures(&mut self) {
        if self.signatures.len() <= TOP_SIGNATURES {
            return;
        }
        self.signatures
            .sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let dropped: u64 = self
            .signatures
            .get(TOP_SIGNATURES..)
            .map_or(0, |rest| rest.iter().map(|(_, c)| *c).sum());
        self.signatures_other = self.signatures_other.saturating_add(dropped);
        self.signatures.truncate(TOP_SIGNATURES);
        self.signatures.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    }

    /// Adds everything `other` knows about the same source (a stored copy coming back, or the
    /// candidate of a name that resolved to this source). The key stays this one's.
    pub(crate) fn merge(&mut self, other: &Candidate) {
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        self.last_signal = match (self.last_signal, other.last_signal) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.events = self.events.saturating_add(other.events);
        self.signal_events = self.signal_events.saturating_add(other.signal_events);
        self.ports.union(&other.ports);
        self.hosts.union(&other.hosts);
        for (k, t) in other.recent_ports.entries() {
            self.recent_ports.observe(*k, *t);
        }
        for (k, t) in other.recent_hosts.entries() {
            self.recent_hosts.observe(*k, *t);
        }
        for t in other.failures.times() {
            self.failures.observe(*t);
        }
        self.failures_total = self.failures_total.saturating_add(other.failures_total);
        self.exploit_alerts = self.exploit_alerts.saturating_add(other.exploit_alerts);
        for (a, b) in self
            .alerts_by_priority
            .iter_mut()
            .zip(other.alerts_by_priority)
        {
            *a = a.saturating_add(b);
        }
        self.datasets |= other.datasets;
        for r in &other.reporters {
            self.add_reporter(r);
        }
        self.reporters_more |= other.reporters_more;
        for n in &other.names {
            self.add_name(n);
        }
        for (name, count) in &other.signatures {
            match self.signatures.binary_search_by(|(n, _)| n.cmp(name)) {
                Ok(at) => {
                    if let Some(entry) = self.signatures.get_mut(at) {
                        entry.1 = entry.1.saturating_add(*count);
                    }
                }
                Err(at) => self.signatures.insert(at, (name.clone(), *count)),
            }
        }
        self.signatures_other = self.signatures_other.saturating_add(other.signatures_other);
        self.prune_signatures();
        for (a, b) in self.actions.iter_mut().zip(other.actions) {
            *a = a.saturating_add(b);
        }
        self.evidence.merge(&other.evidence);
        self.activity.merge(&other.activity);
        for tally in &other.noise {
            match self.noise.binary_search_by_key(&tally.rule, |t| t.rule) {
                Ok(at) => {
                    if let Some(mine) = self.noise.get_mut(at) {
                        mine.events = mine.events.saturating_add(tally.events);
                        mine.over_volume |= tally.over_volume;
                        mine.windows.merge(&tally.windows);
                    }
                }
                Err(at) => self.noise.insert(at, tally.clone()),
            }
        }
        self.seen |= other.seen;
        self.peak_ports = self.peak_ports.max(other.peak_ports);
        self.peak_hosts = self.peak_hosts.max(other.peak_hosts);
        self.peak_failures = self.peak_failures.max(other.peak_failures);
        self.published |= other.published;
        if self.score < other.score {
            self.score = other.score;
        }
        if self.class > other.class {
            self.class = other.class;
        }
        // Lifecycle: the one with a history is the one an administrator worked on.
        if self.history.is_empty() && !other.history.is_empty() {
            self.state = other.state;
            self.state_since = other.state_since;
            self.block = other.block;
        }
        self.notices = self.notices.max(other.notices);
        self.blocks = self.blocks.max(other.blocks);
        let mut history = other.history.clone();
        history.append(&mut self.history);
        history.sort_by_key(|h| h.at);
        history.dedup();
        let excess = history.len().saturating_sub(HISTORY_KEPT);
        history.drain(..excess);
        self.history = history;
    }
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
