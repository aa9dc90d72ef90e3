//! Evidence bundles: one incident's raw lines, each with the proof that its batch's chain
//! entry commits to it, the chain entries themselves, the incident's logbook entries and the
//! heads at the time, in one file that [`Bundle::verify`] checks without the store. The
//! format is written down in docs/evidence-bundle.md; this is its reader (a decoder of
//! outside bytes: it never panics and bounds what it allocates), its writer, and the store's
//! side that gathers the proofs ([`Store::evidence`]).
//!
//! File: the magic `picket-evidence-1\n`, then sections `u8 tag | u32 BE length | payload`.

use std::collections::BTreeMap;

use crate::block::{self, BlockView};
use crate::chain::{self, BatchHasher, ChainEntry, Hash, hex};
use crate::error::StoreError;
use crate::key::{EVENT_KEY_LEN, EventKey};
use crate::logbook::{self, LogbookEntry};
use crate::{Store, merkle, record};

/// What every bundle starts with.
pub const MAGIC: &[u8] = b"picket-evidence-1\n";
/// Longest bundle read, in bytes.
pub const MAX_BUNDLE: usize = 1 << 30;
/// Most hashes in one inclusion proof (a batch has fewer than 2^32 events).
const MAX_PROOF: usize = 32;

mod tag {
    pub const CANDIDATE: u8 = 1;
    pub const HEADS: u8 = 2;
    pub const CHAIN: u8 = 3;
    pub const LINE: u8 = 4;
    pub const WHOLE: u8 = 5;
    pub const LOGBOOK: u8 = 6;
}

/// One event in a bundle, with its place in its batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleLine {
    /// The batch that holds it.
    pub batch: u64,
    /// Its index among the batch's events (the Merkle leaf index).
    pub index: u32,
    /// The Merkle inclusion proof, nearest the leaf first (empty for a version 1 batch, which
    /// the bundle ships whole).
    pub proof: Vec<Hash>,
    /// Its event key.
    pub key: EventKey,
    /// Its record as stored (the raw line at its end).
    pub record: Vec<u8>,
}

/// A parsed bundle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle {
    /// The candidate as picket saw it when the bundle was written (JSON; not proven).
    pub candidate: String,
    /// The heads at that time (`events:N:HEX,logbook:N:HEX`).
    pub heads: String,
    /// The chain entries of the batches that hold the lines, by batch number.
    pub chain: Vec<(u64, ChainEntry)>,
    /// The lines.
    pub lines: Vec<BundleLine>,
    /// Version 1 batches (no Merkle root) shipped whole: batch number and block layouts.
    pub whole: Vec<(u64, Vec<Vec<u8>>)>,
    /// The incident's logbook entries.
    pub logbook: Vec<LogbookEntry>,
}

/// Why a bundle cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleError(pub String);

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a readable evidence bundle: {}", self.0)
    }
}

impl std::error::Error for BundleError {}

/// A line of a bundle that verified, with what a reader wants to see of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedLine {
    /// The batch.
    pub batch: u64,
    /// Receive time, Unix ns.
    pub received_ns: u64,
    /// The sender's host name from the line's header, if it has one.
    pub host: Option<Vec<u8>>,
    /// The raw line exactly as received.
    pub raw: Vec<u8>,
}

/// What [`Bundle::verify`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleReport {
    /// The lines checked, in bundle order.
    pub lines: Vec<CheckedLine>,
    /// Chain entries checked.
    pub batches: usize,
    /// Logbook entries checked.
    pub logbook: usize,
    /// The first problem, if any.
    pub problem: Option<String>,
}

/// A cursor over bundle bytes that fails instead of panicking.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BundleError> {
        let (a, b) = self
            .0
            .split_at_checked(n)
            .ok_or_else(|| BundleError("it ends inside a section".into()))?;
        self.0 = b;
        Ok(a)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], BundleError> {
        self.take(N)?
            .try_into()
            .map_err(|_| BundleError("short field".into()))
    }
    fn u32(&mut self) -> Result<u32, BundleError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, BundleError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn bytes(&mut self) -> Result<&'a [u8], BundleError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

fn section(out: &mut Vec<u8>, t: u8, payload: &[u8]) {
    out.push(t);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

impl Bundle {
    /// The bundle's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        section(&mut out, tag::CANDIDATE, self.candidate.as_bytes());
        section(&mut out, tag::HEADS, self.heads.as_bytes());
        for (n, e) in &self.chain {
            let mut p = n.to_be_bytes().to_vec();
            p.extend_from_slice(&e.to_bytes());
            section(&mut out, tag::CHAIN, &p);
        }
        for (n, layouts) in &self.whole {
            let mut p = n.to_be_bytes().to_vec();
            p.extend_from_slice(&(layouts.len() as u32).to_be_bytes());
            for l in layouts {
                put_bytes(&mut p, l);
            }
            section(&mut out, tag::WHOLE, &p);
        }
        for l in &self.lines {
            let mut p = l.batch.to_be_bytes().to_vec();
            p.extend_from_slice(&l.index.to_be_bytes());
            p.push(l.proof.len() as u8);
            for h in &l.proof {
                p.extend_from_slice(h);
            }
            p.extend_from_slice(&l.key.to_bytes());
            p.extend_from_slice(&l.record);
            section(&mut out, tag::LINE, &p);
        }
        for e in &self.logbook {
            section(&mut out, tag::LOGBOOK, &e.to_bytes());
        }
        out
    }

    /// Reads a bundle. Unknown section tags are an error (a newer format).
    pub fn from_bytes(b: &[u8]) -> Result<Bundle, BundleError> {
        if b.len() > MAX_BUNDLE {
            return Err(BundleError(format!("it is over {MAX_BUNDLE} bytes")));
        }
        let rest = b
            .strip_prefix(MAGIC)
            .ok_or_else(|| BundleError("it does not start with picket-evidence-1".into()))?;
        let mut r = Reader(rest);
        let mut out = Bundle::default();
        let text = |p: &[u8], what: &str| {
            std::str::from_utf8(p)
                .map(str::to_string)
                .map_err(|_| BundleError(format!("its {what} is not UTF-8")))
        };
        while !r.0.is_empty() {
            let [t] = r.array::<1>()?;
            let payload = r.bytes()?;
            let mut p = Reader(payload);
            match t {
                tag::CANDIDATE => out.candidate = text(payload, "candidate")?,
                tag::HEADS => out.heads = text(payload, "heads")?,
                tag::CHAIN => {
                    let n = p.u64()?;
                    let e = ChainEntry::from_bytes(p.0)
                        .ok_or_else(|| BundleError(format!("chain entry {n} is unreadable")))?;
                    out.chain.push((n, e));
                }
                tag::WHOLE => {
                    let n = p.u64()?;
                    let count = p.u32()? as usize;
                    // Each layout takes at least its 4-byte length.
                    if count > payload.len() / 4 {
                        return Err(BundleError(format!("batch {n} claims too many blocks")));
                    }
                    let mut layouts = Vec::with_capacity(count);
                    for _ in 0..count {
                        layouts.push(p.bytes()?.to_vec());
                    }
                    out.whole.push((n, layouts));
                }
                tag::LINE => {
                    let batch = p.u64()?;
                    let index = p.u32()?;
                    let [np] = p.array::<1>()?;
                    if usize::from(np) > MAX_PROOF {
                        return Err(BundleError(format!(
                            "a proof of batch {batch} has {np} hashes"
                        )));
                    }
                    let mut proof = Vec::with_capacity(usize::from(np));
                    for _ in 0..np {
                        proof.push(p.array::<32>()?);
                    }
                    let key = EventKey::from_bytes(p.take(EVENT_KEY_LEN)?)
                        .ok_or_else(|| BundleError("bad event key".into()))?;
                    out.lines.push(BundleLine {
                        batch,
                        index,
                        proof,
                        key,
                        record: p.0.to_vec(),
                    });
                }
                tag::LOGBOOK => {
                    let e = logbook::decode(payload)
                        .map_err(|_| BundleError("a logbook entry is unreadable".into()))?;
                    out.logbook.push(e);
                }
                other => return Err(BundleError(format!("unknown section {other}"))),
            }
        }
        Ok(out)
    }

    /// Checks everything a bundle claims, without the store: each chain entry hashes as
    /// recorded (version 2: from its fields and Merkle root; version 1: from the whole batch
    /// shipped with it), each line's key and record lead through its proof to its batch's
    /// root (or are in the whole batch), each record decodes, and each logbook entry hashes
    /// as recorded. Stops at the first problem.
    pub fn verify(&self) -> BundleReport {
        let mut report = BundleReport {
            lines: Vec::new(),
            batches: 0,
            logbook: 0,
            problem: None,
        };
        let mut entries: BTreeMap<u64, ChainEntry> = BTreeMap::new();
        let whole: BTreeMap<u64, &Vec<Vec<u8>>> = self.whole.iter().map(|(n, l)| (*n, l)).collect();
        for (n, e) in &self.chain {
            let ok = match e.expected_v2_hash(*n) {
                Some(h) => h == e.hash,
                None => match whole.get(n) {
                    Some(layouts) => whole_batch_hashes(*n, e, layouts),
                    None => {
                        report.problem = Some(format!(
                            "chain entry of batch {n} has no Merkle root and its batch is not in \
                             the bundle: its lines cannot be proven"
                        ));
                        return report;
                    }
                },
            };
            if !ok {
                report.problem = Some(format!(
                    "chain entry of batch {n} does not hash to its recorded hash {} (the entry \
                     or its batch was altered)",
                    hex(&e.hash)
                ));
                return report;
            }
            entries.insert(*n, *e);
            report.batches += 1;
        }
        for (i, l) in self.lines.iter().enumerate() {
            let no = i + 1;
            let Some(e) = entries.get(&l.batch) else {
                report.problem = Some(format!(
                    "line {no} names batch {}, whose chain entry is not in the bundle",
                    l.batch
                ));
                return report;
            };
            let placed = match e.root {
                Some(root) => {
                    let leaf = merkle::leaf(&l.key.to_bytes(), &l.record);
                    merkle::root_from_proof(&leaf, u64::from(l.index), u64::from(e.count), &l.proof)
                        == Some(root)
                }
                None => whole
                    .get(&l.batch)
                    .is_some_and(|layouts| in_whole_batch(layouts, l)),
            };
            if !placed || l.key < e.first || l.key > e.last {
                report.problem = Some(format!(
                    "line {no} (batch {}, event {}) is not what its batch committed to: the \
                     line or its proof was altered",
                    l.batch, l.index
                ));
                return report;
            }
            match record::decode(&l.record) {
                Ok(ev) => report.lines.push(CheckedLine {
                    batch: l.batch,
                    received_ns: record::summary(&l.record).map_or(0, |s| s.received_ns),
                    host: ev.header.hostname.map(<[u8]>::to_vec),
                    raw: ev.original.to_vec(),
                }),
                Err(err) => {
                    report.problem = Some(format!(
                        "line {no} is committed but its record does not decode: {err}"
                    ));
                    return report;
                }
            }
        }
        for e in &self.logbook {
            if !e.intact() {
                report.problem = Some(format!(
                    "logbook entry {} was altered: its contents no longer match its hash",
                    e.seq
                ));
                return report;
            }
            report.logbook += 1;
        }
        report
    }
}

/// The BLAKE3 hash of a whole bundle file (what the logbook records when one is written, and
/// what `b3sum FILE` prints).
pub fn file_hash(bytes: &[u8]) -> Hash {
    *blake3::hash(bytes).as_bytes()
}

/// True when the layouts hash to a version 1 entry's hash and hold its count of events.
fn whole_batch_hashes(number: u64, e: &ChainEntry, layouts: &[Vec<u8>]) -> bool {
    let mut hasher = BatchHasher::new(number, &e.prev);
    let mut n = 0u64;
    for l in layouts {
        hasher.add(l);
        match BlockView::new(l) {
            Ok(v) => n += v.len() as u64,
            Err(_) => return false,
        }
    }
    hasher.finish() == e.hash && n == u64::from(e.count)
}

/// True when the line's key and record are event `index` of the whole batch.
fn in_whole_batch(layouts: &[Vec<u8>], l: &BundleLine) -> bool {
    let mut i = 0u64;
    for layout in layouts {
        let Ok(v) = BlockView::new(layout) else {
            return false;
        };
        for j in 0..v.len() {
            if i == u64::from(l.index) {
                return v
                    .get(j)
                    .is_ok_and(|(k, rec)| k == l.key && rec == l.record.as_slice());
            }
            i += 1;
        }
    }
    false
}

/// What [`Store::evidence`] gathered for a set of events.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// Chain entries of the batches that hold them.
    pub chain: Vec<(u64, ChainEntry)>,
    /// The events with their proofs.
    pub lines: Vec<BundleLine>,
    /// Version 1 batches, whole.
    pub whole: Vec<(u64, Vec<Vec<u8>>)>,
}

impl Store {
    /// The proofs for the events `keys`: each event's batch, index and Merkle inclusion
    /// proof, and the batches' chain entries (whole batches for version 1 entries). Keys no
    /// longer stored are left out.
    pub fn evidence(&self, keys: &[EventKey]) -> Result<Evidence, StoreError> {
        let t = self.open_trees()?;
        let mut want: Vec<EventKey> = keys.to_vec();
        want.sort();
        want.dedup();
        let mut out = Evidence::default();
        let mut at = 0usize;
        for item in t.chain.iter() {
            if at >= want.len() {
                break;
            }
            let (k, v) = item.map_err(|e| self.noted(e.into()))?;
            let (Some(number), Some(entry)) = (chain::batch_number(&k), ChainEntry::from_bytes(&v))
            else {
                continue;
            };
            while want.get(at).is_some_and(|w| *w < entry.first) {
                at += 1;
            }
            if want.get(at).is_none_or(|w| *w > entry.last) {
                continue;
            }
            // The batch's events, in order, and its layouts.
            let mut events: Vec<(EventKey, Vec<u8>)> = Vec::new();
            let mut layouts = Vec::new();
            for item in t
                .events
                .range(entry.first.to_bytes()..=entry.last.to_bytes())
            {
                let (_, stored) = item.map_err(|e| self.noted(e.into()))?;
                let layout = block::unpack(&stored).map_err(|source| StoreError::Decode {
                    key: format!("batch {number}"),
                    source,
                })?;
                if let Ok(view) = BlockView::new(&layout) {
                    for i in 0..view.len() {
                        if let Ok((key, rec)) = view.get(i) {
                            events.push((key, rec.to_vec()));
                        }
                    }
                }
                if entry.root.is_none() {
                    layouts.push(layout);
                }
            }
            let leaves: Vec<Hash> = if entry.root.is_some() {
                events
                    .iter()
                    .map(|(k, r)| merkle::leaf(&k.to_bytes(), r))
                    .collect()
            } else {
                Vec::new()
            };
            while let Some(w) = want.get(at).filter(|w| **w <= entry.last) {
                if let Ok(m) = events.binary_search_by(|(k, _)| k.cmp(w)) {
                    let (key, record) = events.get(m).cloned().unwrap_or((*w, Vec::new()));
                    out.lines.push(BundleLine {
                        batch: number,
                        index: u32::try_from(m).unwrap_or(u32::MAX),
                        proof: if entry.root.is_some() {
                            merkle::proof(m, &leaves)
                        } else {
                            Vec::new()
                        },
                        key,
                        record,
                    });
                }
                at += 1;
            }
            out.chain.push((number, entry));
            if entry.root.is_none() {
                out.whole.push((number, layouts));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_round_trips_and_damage_is_an_error_not_a_panic() {
        let b = Bundle {
            candidate: "{\"source\":\"198.51.100.7\"}".into(),
            heads: "events:1:00".into(),
            chain: vec![(
                1,
                ChainEntry {
                    first: EventKey::at(1),
                    last: EventKey::at(2),
                    count: 2,
                    bytes: 9,
                    prev: [1; 32],
                    root: Some([2; 32]),
                    hash: [3; 32],
                },
            )],
            lines: vec![BundleLine {
                batch: 1,
                index: 1,
                proof: vec![[4; 32]],
                key: EventKey::at(2),
                record: b"rec".to_vec(),
            }],
            whole: vec![(0, vec![vec![1, 0]])],
            logbook: Vec::new(),
        };
        let bytes = b.to_bytes();
        assert_eq!(Bundle::from_bytes(&bytes).unwrap(), b);
        for cut in 0..bytes.len() {
            let _ = Bundle::from_bytes(&bytes[..cut]);
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0xff;
            if let Ok(x) = Bundle::from_bytes(&bad) {
                let _ = x.verify();
            }
        }
    }
}
