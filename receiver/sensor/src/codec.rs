//! The binary form of a [`Candidate`] for the store's `incidents` tree: versioned, compact
//! (varints), and read defensively: decoding bytes from disk returns an error for anything
//! malformed, never panics, and never allocates more than the input can justify.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::candidate::{Candidate, Class, HISTORY_KEPT, NAMES_KEPT, NoiseTally, REPORTERS_KEPT};
use crate::distinct::{
    BucketCounts, DistinctCounter, EXACT_BOUND, HLL_REGISTERS, LatestTimes, RecentKeys, Repr,
};
use crate::evidence::{EventRef, EvidenceSample};
use crate::source::SourceKey;
use crate::state::{Block, HistoryEntry, State};

/// The first bytes of an encoded candidate.
const MAGIC: &[u8; 3] = b"PKC";
/// The format version written. 2 added name keys (address family 0: the name's bytes) and the
/// candidate's host names (after the reporters); version 1 records still decode (no names).
/// 3 moved score, class, published and state up beside the times, so the list ops read what
/// they filter and sort on without decoding the rest ([`decode_summary`]).
const VERSION: u8 = 3;
/// The first version with the summary fields at the front.
const SUMMARY_FIRST: u8 = 3;
/// The oldest version read.
const OLDEST: u8 = 1;
/// Largest bound a decoded table may claim.
const MAX_CAP: u64 = 4096;

/// Why bytes are not a candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Not a candidate record (wrong magic).
    NotACandidate,
    /// A version this build cannot read.
    Version(u8),
    /// The bytes end early.
    Truncated,
    /// A field has a value no encoder writes (named).
    Invalid(&'static str),
    /// Bytes left after the record.
    TrailingBytes(usize),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::NotACandidate => write!(f, "not an incident record"),
            DecodeError::Version(v) => write!(f, "incident record version {v} is not supported"),
            DecodeError::Truncated => write!(f, "incident record is truncated"),
            DecodeError::Invalid(what) => write!(f, "incident record has a bad {what}"),
            DecodeError::TrailingBytes(n) => write!(f, "incident record has {n} trailing bytes"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Encodes a candidate (appends to `out`).
pub fn encode_candidate(c: &Candidate, out: &mut Vec<u8>) {
    let mut w = Writer(out);
    w.0.extend_from_slice(MAGIC);
    w.u8(VERSION);
    match (c.key.name(), c.key.addr()) {
        (Some(name), _) => {
            w.u8(0);
            w.bytes(name);
        }
        (None, IpAddr::V4(v4)) => {
            w.u8(4);
            w.0.extend_from_slice(&v4.octets());
            w.u8(c.key.prefix());
        }
        (None, IpAddr::V6(v6)) => {
            w.u8(6);
            w.0.extend_from_slice(&v6.octets());
            w.u8(c.key.prefix());
        }
    }
    w.i64(c.first_seen);
    w.i64(c.last_seen);
    w.u64(u64::from(c.score));
    w.u8(c.class as u8);
    w.u8(u8::from(c.published));
    w.u8(c.state as u8);
    w.opt_i64(c.last_signal);
    w.u64(c.events);
    w.u64(c.signal_events);
    w.counter(&c.ports);
    w.counter(&c.hosts);
    w.u64(c.recent_ports.cap() as u64);
    w.u64(c.recent_ports.entries().len() as u64);
    for (k, t) in c.recent_ports.entries() {
        w.u64(u64::from(*k));
        w.i64(*t);
    }
    w.u64(c.recent_hosts.cap() as u64);
    w.u64(c.recent_hosts.entries().len() as u64);
    for (k, t) in c.recent_hosts.entries() {
        w.0.extend_from_slice(&k.to_be_bytes());
        w.i64(*t);
    }
    w.u64(c.failures.cap() as u64);
    w.u64(c.failures.times().len() as u64);
    for t in c.failures.times() {
        w.i64(*t);
    }
    w.u64(c.failures_total);
    w.u64(c.exploit_alerts);
    for n in c.alerts_by_priority {
        w.u64(n);
    }
    w.u64(u64::from(c.datasets));
    w.u64(c.reporters.len() as u64);
    for r in &c.reporters {
        w.bytes(r);
    }
    w.u8(u8::from(c.reporters_more));
    w.u64(c.names.len() as u64);
    for n in &c.names {
        w.bytes(n);
    }
    w.u64(c.signatures.len() as u64);
    for (name, count) in &c.signatures {
        w.bytes(name);
        w.u64(*count);
    }
    w.u64(c.signatures_other);
    for n in c.actions {
        w.u64(n);
    }
    let (first, latest) = c.evidence.limits();
    w.u64(first as u64);
    w.u64(latest as u64);
    w.u64(c.evidence.lines().len() as u64);
    for e in c.evidence.lines() {
        w.i64(e.time);
        w.0.extend_from_slice(&e.reference.0);
        w.bytes(&e.line);
    }
    w.buckets(&c.activity);
    w.u64(c.noise.len() as u64);
    for t in &c.noise {
        w.u64(u64::from(t.rule));
        w.u64(t.events);
        w.u8(u8::from(t.over_volume));
        w.buckets(&t.windows);
    }
    w.u8(c.seen);
    w.u64(u64::from(c.peak_ports));
    w.u64(u64::from(c.peak_hosts));
    w.u64(u64::from(c.peak_failures));
    w.i64(c.state_since);
    w.u64(u64::from(c.notices));
    w.u64(u64::from(c.blocks));
    match c.block {
        Some(b) => {
            w.u8(1);
            w.i64(b.since);
            w.i64(b.until);
        }
        None => w.u8(0),
    }
    w.u64(c.history.len() as u64);
    for h in &c.history {
        w.i64(h.at);
        w.u8(h.from as u8);
        w.u8(h.to as u8);
        w.bytes(h.who.as_bytes());
        w.bytes(h.note.as_bytes());
    }
}

/// Decodes a candidate written by [`encode_candidate`].
pub fn decode_candidate(bytes: &[u8]) -> Result<Candidate, DecodeError> {
    let mut r = Reader { bytes, at: 0 };
    let (version, key) = read_key(&mut r)?;
    let first_seen = r.i64()?;
    let last_seen = r.i64()?;
    let front = if version >= SUMMARY_FIRST {
        Some(read_summary_fields(&mut r)?)
    } else {
        None
    };
    let last_signal = r.opt_i64()?;
    let events = r.u64()?;
    let signal_events = r.u64()?;
    let mut ports = r.counter()?;
    let mut hosts = r.counter()?;
    let cap = r.cap()?;
    let n = r.count(cap)?;
    let mut entries = Vec::new();
    for _ in 0..n {
        let k = u16::try_from(r.u64()?).map_err(|_| DecodeError::Invalid("port"))?;
        entries.push((k, r.i64()?));
    }
    let recent_ports = RecentKeys::from_parts(cap, entries);
    let cap = r.cap()?;
    let n = r.count(cap)?;
    let mut entries = Vec::new();
    for _ in 0..n {
        let k = u64::from_be_bytes(r.array()?);
        entries.push((k, r.i64()?));
    }
    let recent_hosts = RecentKeys::from_parts(cap, entries);
    // The fold counts a port or host only when its recent table lacks it (see
    // `Candidate::observe`), so each kept key must be in its counter: true of every record
    // this crate writes, made true of any other here.
    for (k, _) in recent_ports.entries() {
        ports.insert(u64::from(*k));
    }
    for (k, _) in recent_hosts.entries() {
        hosts.insert(*k);
    }
    let cap = r.cap()?;
    let n = r.count(cap)?;
    let mut times = Vec::new();
    for _ in 0..n {
        times.push(r.i64()?);
    }
    let failures = LatestTimes::from_parts(cap, times);
    let failures_total = r.u64()?;
    let exploit_alerts = r.u64()?;
    let mut alerts_by_priority = [0u64; 4];
    for a in &mut alerts_by_priority {
        *a = r.u64()?;
    }
    let datasets = u32::try_from(r.u64()?).map_err(|_| DecodeError::Invalid("datasets"))?;
    let n = r.count(REPORTERS_KEPT)?;
    let mut reporters = Vec::new();
    for _ in 0..n {
        reporters.push(r.bytes()?.to_vec());
    }
    let reporters_more = r.flag()?;
    let mut names = Vec::new();
    if version >= 2 {
        let n = r.count(NAMES_KEPT)?;
        for _ in 0..n {
            let name = r.bytes()?;
            if SourceKey::from_name(name).and_then(|k| k.name().map(|n| n == name)) != Some(true) {
                return Err(DecodeError::Invalid("name"));
            }
            names.push(name.to_vec());
        }
    }
    let n = r.count(64)?;
    let mut signatures: Vec<(Vec<u8>, u64)> = Vec::new();
    for _ in 0..n {
        let name = r.bytes()?.to_vec();
        let count = r.u64()?;
        match signatures.binary_search_by(|(s, _)| s.cmp(&name)) {
            Ok(_) => return Err(DecodeError::Invalid("signature list")),
            Err(at) => signatures.insert(at, (name, count)),
        }
    }
    let signatures_other = r.u64()?;
    let mut actions = [0u64; 14];
    for a in &mut actions {
        *a = r.u64()?;
    }
    let first = r.count(64)?;
    let latest = r.count(64)?;
    let n = r.count(first + latest)?;
    let mut evidence = EvidenceSample::new(first, latest);
    for _ in 0..n {
        let time = r.i64()?;
        let reference = EventRef(r.array()?);
        let line = r.bytes()?;
        evidence.offer(time, line, reference);
    }
    let activity = r.buckets()?;
    let n = r.count(usize::from(u16::MAX))?;
    let mut noise: Vec<NoiseTally> = Vec::new();
    for _ in 0..n {
        let rule = u16::try_from(r.u64()?).map_err(|_| DecodeError::Invalid("noise rule"))?;
        let tally = NoiseTally {
            rule,
            events: r.u64()?,
            over_volume: r.flag()?,
            windows: r.buckets()?,
        };
        match noise.binary_search_by_key(&rule, |t| t.rule) {
            Ok(_) => return Err(DecodeError::Invalid("noise list")),
            Err(at) => noise.insert(at, tally),
        }
    }
    let seen = r.u8()?;
    let peak_ports = r.u32()?;
    let peak_hosts = r.u32()?;
    let peak_failures = r.u32()?;
    let (score, class, published, state) = match front {
        Some(f) => f,
        None => read_summary_fields(&mut r)?,
    };
    let state_since = r.i64()?;
    let notices = r.u32()?;
    let blocks = r.u32()?;
    let block = match r.u8()? {
        0 => None,
        1 => Some(Block {
            since: r.i64()?,
            until: r.i64()?,
        }),
        _ => return Err(DecodeError::Invalid("block")),
    };
    let n = r.count(HISTORY_KEPT)?;
    let mut history = Vec::new();
    for _ in 0..n {
        history.push(HistoryEntry {
            at: r.i64()?,
            from: r.state()?,
            to: r.state()?,
            who: String::from_utf8_lossy(r.bytes()?).into_owned(),
            note: String::from_utf8_lossy(r.bytes()?).into_owned(),
        });
    }
    if r.at != bytes.len() {
        return Err(DecodeError::TrailingBytes(bytes.len() - r.at));
    }
    let mut c = Candidate {
        key,
        first_seen,
        last_seen,
        last_signal,
        events,
        signal_events,
        ports,
        hosts,
        recent_ports,
        recent_hosts,
        failures,
        failures_total,
        exploit_alerts,
        alerts_by_priority,
        datasets,
        reporters: Vec::new(),
        reporters_more,
        names: Vec::new(),
        signatures,
        signatures_other,
        actions,
        evidence,
        activity,
        noise,
        seen,
        peak_ports,
        peak_hosts,
        peak_failures,
        score,
        class,
        published,
        state,
        state_since,
        notices,
        blocks,
        block,
        history,
    };
    for name in &reporters {
        c.add_reporter(name);
    }
    for name in &names {
        c.add_name(name);
    }
    Ok(c)
}

/// What the list ops filter and sort a stored candidate on, read without the rest of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateSummary {
    /// The source.
    pub key: SourceKey,
    /// First activity (Unix ns).
    pub first_seen: i64,
    /// Latest activity (Unix ns).
    pub last_seen: i64,
    /// The score.
    pub score: u32,
    /// The class.
    pub class: Class,
    /// Whether it was published (crossed the threshold of a candidate).
    pub published: bool,
    /// The lifecycle state.
    pub state: State,
}

impl CandidateSummary {
    /// The summary of a decoded candidate.
    pub fn of(c: &Candidate) -> CandidateSummary {
        CandidateSummary {
            key: c.key,
            first_seen: c.first_seen,
            last_seen: c.last_seen,
            score: c.score,
            class: c.class,
            published: c.published,
            state: c.state,
        }
    }
}

/// Reads the summary of a record written by [`encode_candidate`]: only its front for the
/// current version, a whole decode for records written before the summary moved there.
pub fn decode_summary(bytes: &[u8]) -> Result<CandidateSummary, DecodeError> {
    let mut r = Reader { bytes, at: 0 };
    let (version, key) = read_key(&mut r)?;
    if version < SUMMARY_FIRST {
        return decode_candidate(bytes).map(|c| CandidateSummary::of(&c));
    }
    let first_seen = r.i64()?;
    let last_seen = r.i64()?;
    let (score, class, published, state) = read_summary_fields(&mut r)?;
    Ok(CandidateSummary {
        key,
        first_seen,
        last_seen,
        score,
        class,
        published,
        state,
    })
}

/// The magic, the version and the source key at the front of every record.
fn read_key(r: &mut Reader<'_>) -> Result<(u8, SourceKey), DecodeError> {
    if r.take(MAGIC.len())? != MAGIC {
        return Err(DecodeError::NotACandidate);
    }
    let version = r.u8()?;
    if !(OLDEST..=VERSION).contains(&version) {
        return Err(DecodeError::Version(version));
    }
    let addr = match r.u8()? {
        0 if version >= 2 => None,
        4 => {
            let o: [u8; 4] = r.array()?;
            Some(IpAddr::V4(Ipv4Addr::from(o)))
        }
        6 => {
            let o: [u8; 16] = r.array()?;
            Some(IpAddr::V6(Ipv6Addr::from(o)))
        }
        _ => return Err(DecodeError::Invalid("address family")),
    };
    let key = match addr {
        Some(addr) => {
            let prefix = r.u8()?;
            if prefix > crate::source::width(addr) {
                return Err(DecodeError::Invalid("prefix"));
            }
            SourceKey::new(addr, prefix)
        }
        None => {
            let name = r.bytes()?;
            let key = SourceKey::from_name(name).ok_or(DecodeError::Invalid("name"))?;
            if key.name() != Some(name) {
                return Err(DecodeError::Invalid("name"));
            }
            key
        }
    };
    Ok((version, key))
}

/// Score, class, published and state (at the front from version 3, near the end before).
fn read_summary_fields(r: &mut Reader<'_>) -> Result<(u32, Class, bool, State), DecodeError> {
    let score = r.u32()?;
    let class = Class::from_code(r.u8()?).ok_or(DecodeError::Invalid("class"))?;
    let published = r.flag()?;
    let state = r.state()?;
    Ok((score, class, published, state))
}

struct Writer<'a>(&'a mut Vec<u8>);

impl Writer<'_> {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u64(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn i64(&mut self, v: i64) {
        self.u64(((v << 1) ^ (v >> 63)) as u64);
    }
    fn opt_i64(&mut self, v: Option<i64>) {
        match v {
            Some(v) => {
                self.u8(1);
                self.i64(v);
            }
            None => self.u8(0),
        }
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn counter(&mut self, c: &DistinctCounter) {
        match c.repr() {
            Repr::Exact(values) => {
                self.u8(0);
                self.u64(values.len() as u64);
                for v in values.iter() {
                    self.u64(*v);
                }
            }
            Repr::Sketch(registers) => {
                self.u8(1);
                self.0.extend_from_slice(&registers[..]);
            }
        }
    }
    fn buckets(&mut self, b: &BucketCounts) {
        self.u64(b.cap() as u64);
        let all = b.buckets();
        self.u64(all.len() as u64);
        for (index, count) in all {
            self.i64(*index);
            self.u64(u64::from(*count));
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.at.checked_add(n).ok_or(DecodeError::Truncated)?;
        let out = self.bytes.get(self.at..end).ok_or(DecodeError::Truncated)?;
        self.at = end;
        Ok(out)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = self.take(1)?;
        b.first().copied().ok_or(DecodeError::Truncated)
    }
    fn flag(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::Invalid("flag")),
        }
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(DecodeError::Invalid("varint"));
            }
            v |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError::Invalid("varint"))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        u32::try_from(self.u64()?).map_err(|_| DecodeError::Invalid("number"))
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        let z = self.u64()?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }
    fn opt_i64(&mut self) -> Result<Option<i64>, DecodeError> {
        Ok(if self.flag()? {
            Some(self.i64()?)
        } else {
            None
        })
    }
    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = usize::try_from(self.u64()?).map_err(|_| DecodeError::Truncated)?;
        self.take(n)
    }
    /// A count of items, at most `max` and at most the bytes left (each item takes one).
    fn count(&mut self, max: usize) -> Result<usize, DecodeError> {
        let n = self.u64()?;
        let left = (self.bytes.len() - self.at.min(self.bytes.len())) as u64;
        if n > max as u64 {
            return Err(DecodeError::Invalid("count"));
        }
        if n > left {
            return Err(DecodeError::Truncated);
        }
        usize::try_from(n).map_err(|_| DecodeError::Invalid("count"))
    }
    fn cap(&mut self) -> Result<usize, DecodeError> {
        let cap = self.u64()?;
        if cap == 0 || cap > MAX_CAP {
            return Err(DecodeError::Invalid("bound"));
        }
        usize::try_from(cap).map_err(|_| DecodeError::Invalid("bound"))
    }
    fn state(&mut self) -> Result<State, DecodeError> {
        State::from_code(self.u8()?).ok_or(DecodeError::Invalid("state"))
    }
    fn counter(&mut self) -> Result<DistinctCounter, DecodeError> {
        match self.u8()? {
            0 => {
                let n = self.count(EXACT_BOUND)?;
                let mut c = DistinctCounter::new();
                for _ in 0..n {
                    c.insert(self.u64()?);
                }
                Ok(c)
            }
            1 => {
                let registers: [u8; HLL_REGISTERS] = self.array()?;
                if registers.iter().any(|r| *r > 64) {
                    return Err(DecodeError::Invalid("sketch"));
                }
                Ok(DistinctCounter::from_repr(Repr::Sketch(Box::new(
                    registers,
                ))))
            }
            _ => Err(DecodeError::Invalid("counter")),
        }
    }
    fn buckets(&mut self) -> Result<BucketCounts, DecodeError> {
        let cap = self.cap()?;
        let n = self.count(cap)?;
        let mut all = Vec::new();
        for _ in 0..n {
            let index = self.i64()?;
            let count = self.u32()?;
            all.push((index, count));
        }
        Ok(BucketCounts::from_parts(cap, all))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidate::Limits;
    use crate::config::SensorConfig;

    #[test]
    fn a_recent_key_missing_from_its_counter_is_counted_on_decode() {
        // The fold skips the counters for keys the recent tables hold (`Candidate::observe`);
        // a record that breaks that (no record this crate writes) is mended as it is read.
        let limits = Limits::of(&SensorConfig::default());
        let key = SourceKey::new("198.51.100.7".parse().unwrap(), 32);
        let mut c = Candidate::new(key, 1, &limits);
        c.recent_ports.observe(443, 1);
        c.recent_hosts.observe(7, 1);
        let mut bytes = Vec::new();
        encode_candidate(&c, &mut bytes);
        let back = decode_candidate(&bytes).unwrap();
        assert_eq!(back.ports(), Some(vec![443]));
        assert_eq!(back.distinct_hosts().exact_values(), Some(&[7u64][..]));
        // A consistent record decodes to itself, and encodes to the same bytes.
        let mut again = Vec::new();
        encode_candidate(&back, &mut again);
        assert_eq!(decode_candidate(&again).unwrap(), back);
    }
}
