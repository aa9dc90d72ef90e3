//! The logbook: a hash-chained, append-only record of every action on an incident (a
//! lookup, a draft, a send, a mark, a follow-up, a block, an expiry), with who did it and
//! when. Tree `logbook`: sequence number (big-endian u64, from 1) → entry. Each entry's hash
//! covers its fields and the previous entry's hash, so `verify` names the first entry that
//! was changed, removed or reordered; the head (last sequence number and hash) is what an
//! operator records outside the store (`picket verify --expect-head`).
//!
//! Entry layout (version 1), integers big-endian:
//!
//! ```text
//! u8 version (1) | u64 seq | u64 at (Unix ns)
//! u8 len | kind   | u16 len | who   | u16 len | incident   | u32 len | detail
//! prev (32 bytes: the previous entry's hash, zeros for entry 1)
//! hash (32 bytes: BLAKE3 of "picket-logbook-v1" followed by every byte before it)
//! ```

use sled::transaction::{TransactionalTree, UnabortableTransactionError};

use crate::chain::Hash;
use crate::error::StoreError;
use crate::{Store, lock};

/// Entry format version.
const ENTRY_VERSION: u8 = 1;
/// What every entry hash starts with.
const DOMAIN: &[u8] = b"picket-logbook-v1";
/// Longest kind, in bytes.
pub const MAX_KIND: usize = 32;
/// Longest `who`, in bytes.
pub const MAX_WHO: usize = 256;
/// Longest incident key, in bytes.
pub const MAX_INCIDENT: usize = 1024;
/// Longest detail, in bytes (longer ones are cut at a character boundary).
pub const MAX_DETAIL: usize = 16 * 1024;

/// The action kinds picket writes today; other code may add its own (lower-case ASCII
/// letters, digits, `-` and `_`, up to [`MAX_KIND`] bytes).
pub mod kind {
    /// An abuse-contact lookup (whois).
    pub const LOOKUP: &str = "lookup";
    /// A notice drafted.
    pub const DRAFT: &str = "draft";
    /// A notice sent.
    pub const SEND: &str = "send";
    /// A state set by hand (`picket mark`).
    pub const MARK: &str = "mark";
    /// A reply filed under the incident.
    pub const FOLLOWUP: &str = "followup";
    /// A block started.
    pub const BLOCK: &str = "block";
    /// A block ran out.
    pub const EXPIRY: &str = "expiry";
    /// A block lifted by hand.
    pub const UNBLOCK: &str = "unblock";
    /// An evidence bundle written.
    pub const EVIDENCE: &str = "evidence";
}

/// An action to append: what the caller knows; the store adds the number and the hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogbookAction {
    /// When, Unix nanoseconds.
    pub at_ns: u64,
    /// Who: the OS user (or `picket` for what the sensor does by itself).
    pub who: String,
    /// The incident: its candidate key (an address, or a prefix such as `198.51.100.0/24`).
    pub incident: String,
    /// What was done: one of [`kind`], or another lower-case word.
    pub kind: String,
    /// Free text: the state set and the note, the contact found, the message id sent, ...
    pub detail: String,
}

impl LogbookAction {
    /// An action happening now.
    pub fn now(who: &str, incident: &str, kind: &str, detail: &str) -> LogbookAction {
        let at_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        LogbookAction {
            at_ns,
            who: who.into(),
            incident: incident.into(),
            kind: kind.into(),
            detail: detail.into(),
        }
    }
}

/// One stored logbook entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogbookEntry {
    /// Its number, from 1, without gaps.
    pub seq: u64,
    /// The action.
    pub action: LogbookAction,
    /// The previous entry's hash (zeros for entry 1).
    pub prev: Hash,
    /// This entry's hash.
    pub hash: Hash,
}

/// Why an entry cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadEntry;

/// The OS user running this process (`$USER`/`$LOGNAME`, else the uid's name in
/// /etc/passwd, else `uid N`): the `who` of actions taken from the command line.
pub fn os_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            return v;
        }
    }
    // /proc/self is owned by the process's uid.
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|r| r.split_whitespace().next()?.parse::<u32>().ok())
        });
    let Some(uid) = uid else {
        return "unknown".into();
    };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}

/// Cuts `s` to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

fn check(a: &LogbookAction) -> Result<(), StoreError> {
    let kind_ok = !a.kind.is_empty()
        && a.kind.len() <= MAX_KIND
        && a.kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !kind_ok {
        return Err(StoreError::Logbook(format!(
            "action kind {:?} is not a lower-case word of up to {MAX_KIND} bytes",
            a.kind
        )));
    }
    if a.incident.is_empty() {
        return Err(StoreError::Logbook("an action needs its incident".into()));
    }
    Ok(())
}

/// The stored bytes of entry `seq` for `a` after `prev` (fields cut to their limits).
fn encode(seq: u64, a: &LogbookAction, prev: &Hash) -> (Vec<u8>, Hash) {
    let kind = cut(&a.kind, MAX_KIND);
    let who = cut(&a.who, MAX_WHO);
    let incident = cut(&a.incident, MAX_INCIDENT);
    let detail = cut(&a.detail, MAX_DETAIL);
    let mut v = Vec::with_capacity(96 + who.len() + incident.len() + detail.len());
    v.push(ENTRY_VERSION);
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&a.at_ns.to_be_bytes());
    v.push(kind.len() as u8);
    v.extend_from_slice(kind.as_bytes());
    v.extend_from_slice(&(who.len() as u16).to_be_bytes());
    v.extend_from_slice(who.as_bytes());
    v.extend_from_slice(&(incident.len() as u16).to_be_bytes());
    v.extend_from_slice(incident.as_bytes());
    v.extend_from_slice(&(detail.len() as u32).to_be_bytes());
    v.extend_from_slice(detail.as_bytes());
    v.extend_from_slice(prev);
    let hash = entry_hash(&v);
    v.extend_from_slice(&hash);
    (v, hash)
}

/// The hash of an entry whose bytes up to (not including) its hash are `body`.
pub fn entry_hash(body: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(DOMAIN);
    h.update(body);
    *h.finalize().as_bytes()
}

/// A cursor that fails instead of panicking.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BadEntry> {
        let (a, b) = self.0.split_at_checked(n).ok_or(BadEntry)?;
        self.0 = b;
        Ok(a)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], BadEntry> {
        self.take(N)?.try_into().map_err(|_| BadEntry)
    }
    fn text(&mut self, n: usize) -> Result<String, BadEntry> {
        let b = self.take(n)?;
        std::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|_| BadEntry)
    }
}

fn limited(len: usize, max: usize) -> Result<usize, BadEntry> {
    if len > max { Err(BadEntry) } else { Ok(len) }
}

/// Decodes an entry as stored. The hash is read, not checked: see [`LogbookEntry::intact`].
pub fn decode(b: &[u8]) -> Result<LogbookEntry, BadEntry> {
    let mut r = Reader(b);
    if r.array::<1>()? != [ENTRY_VERSION] {
        return Err(BadEntry);
    }
    let seq = u64::from_be_bytes(r.array()?);
    let at_ns = u64::from_be_bytes(r.array()?);
    // Fields over their limits were never written: refuse them.
    let [kl] = r.array::<1>()?;
    let kind = r.text(limited(usize::from(kl), MAX_KIND)?)?;
    let wl = u16::from_be_bytes(r.array()?);
    let who = r.text(limited(usize::from(wl), MAX_WHO)?)?;
    let il = u16::from_be_bytes(r.array()?);
    let incident = r.text(limited(usize::from(il), MAX_INCIDENT)?)?;
    let dl = u32::from_be_bytes(r.array()?);
    let detail = r.text(limited(
        usize::try_from(dl).map_err(|_| BadEntry)?,
        MAX_DETAIL,
    )?)?;
    let prev = r.array::<32>()?;
    let hash = r.array::<32>()?;
    if !r.0.is_empty() {
        return Err(BadEntry);
    }
    Ok(LogbookEntry {
        seq,
        action: LogbookAction {
            at_ns,
            who,
            incident,
            kind,
            detail,
        },
        prev,
        hash,
    })
}

impl LogbookEntry {
    /// The entry's stored bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (mut v, _) = encode(self.seq, &self.action, &self.prev);
        // Keep the recorded hash (which `intact` compares with the recomputed one).
        v.truncate(v.len() - 32);
        v.extend_from_slice(&self.hash);
        v
    }

    /// True when the entry's fields hash to its recorded hash.
    pub fn intact(&self) -> bool {
        let (_, h) = encode(self.seq, &self.action, &self.prev);
        h == self.hash
    }
}

/// Entries numbered and chained from `next` after `head`, ready to insert: (key, bytes),
/// the entries, and the new head.
pub(crate) struct Prepared {
    pub rows: Vec<([u8; 8], Vec<u8>)>,
    pub entries: Vec<LogbookEntry>,
    pub head: (u64, Hash),
}

pub(crate) fn prepare(
    actions: &[LogbookAction],
    head: (u64, Hash),
) -> Result<Prepared, StoreError> {
    let (mut seq, mut prev) = head;
    let mut rows = Vec::with_capacity(actions.len());
    let mut entries = Vec::with_capacity(actions.len());
    for a in actions {
        check(a)?;
        seq += 1;
        let (bytes, hash) = encode(seq, a, &prev);
        let entry =
            decode(&bytes).map_err(|_| StoreError::Logbook("an entry did not read back".into()))?;
        rows.push((seq.to_be_bytes(), bytes));
        entries.push(entry);
        prev = hash;
    }
    Ok(Prepared {
        rows,
        entries,
        head: (seq, prev),
    })
}

/// Inserts prepared rows inside a transaction.
pub(crate) fn write_tx(
    tree: &TransactionalTree,
    p: &Prepared,
) -> Result<(), UnabortableTransactionError> {
    for (k, v) in &p.rows {
        tree.insert(&k[..], v.as_slice())?;
    }
    Ok(())
}

/// The head as stored: the last entry's number and hash ((0, zeros) when empty).
pub(crate) fn load_head(tree: &sled::Tree) -> Result<(u64, Hash), StoreError> {
    match tree.last()? {
        None => Ok((0, [0; 32])),
        Some((k, v)) => {
            let seq = u64::from_be_bytes(
                k.as_ref()
                    .try_into()
                    .map_err(|_| StoreError::Meta("bad logbook key".into()))?,
            );
            // An unreadable last entry still has its hash in its last 32 bytes; verify says
            // what is wrong with it.
            let hash = v
                .len()
                .checked_sub(32)
                .and_then(|at| v.get(at..))
                .and_then(|h| Hash::try_from(h).ok())
                .unwrap_or([0; 32]);
            Ok((seq, hash))
        }
    }
}

/// What is wrong with the logbook, if anything: the first entry that fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogbookProblem {
    /// The entry's fields no longer hash to its recorded hash: it was edited.
    Altered {
        /// Its number.
        seq: u64,
        /// The entry as it reads now.
        now: Box<LogbookEntry>,
    },
    /// The entry's link does not match the previous entry's hash: the previous entry was
    /// replaced (hash and all), or entries were reordered.
    BrokenLink {
        /// Its number.
        seq: u64,
    },
    /// Numbers jump: entries were removed.
    Missing {
        /// The number expected.
        expected: u64,
        /// The number found.
        found: u64,
    },
    /// The entry cannot be decoded (or its number disagrees with its key).
    Unreadable {
        /// Its key's number.
        seq: u64,
    },
}

impl std::fmt::Display for LogbookProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogbookProblem::Altered { seq, now } => {
                let a = &now.action;
                write!(
                    f,
                    "logbook entry {seq} was altered: its contents no longer match its hash \
                     (it now reads: {} {} by {} on {}: {:?})",
                    crate::verify::fmt_ns(a.at_ns),
                    a.kind,
                    a.who,
                    a.incident,
                    a.detail
                )
            }
            LogbookProblem::BrokenLink { seq } => write!(
                f,
                "logbook entry {seq} does not follow entry {}: entry {} was replaced, or \
                 entries were reordered",
                seq.saturating_sub(1),
                seq.saturating_sub(1)
            ),
            LogbookProblem::Missing { expected, found } => write!(
                f,
                "logbook entries {expected} to {} were removed",
                found.saturating_sub(1)
            ),
            LogbookProblem::Unreadable { seq } => {
                write!(
                    f,
                    "logbook entry {seq} is unreadable (its bytes were changed)"
                )
            }
        }
    }
}

/// What a walk of the logbook found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogbookReport {
    /// Entries checked.
    pub entries: u64,
    /// The head: the last good entry's number and hash.
    pub head: (u64, Hash),
    /// The first problem.
    pub problem: Option<LogbookProblem>,
}

/// Walks `tree` and checks every entry's number, link and hash.
pub(crate) fn verify_tree(tree: &sled::Tree) -> Result<LogbookReport, StoreError> {
    let mut report = LogbookReport {
        entries: 0,
        head: (0, [0; 32]),
        problem: None,
    };
    for item in tree.iter() {
        let (k, v) = item?;
        let key_seq = k
            .as_ref()
            .try_into()
            .map(u64::from_be_bytes)
            .unwrap_or(u64::MAX);
        let expected = report.head.0 + 1;
        if key_seq != expected {
            report.problem = Some(if key_seq > expected {
                LogbookProblem::Missing {
                    expected,
                    found: key_seq,
                }
            } else {
                LogbookProblem::Unreadable { seq: key_seq }
            });
            return Ok(report);
        }
        let Ok(entry) = decode(&v)
            .map_err(|_| ())
            .and_then(|e| if e.seq == key_seq { Ok(e) } else { Err(()) })
        else {
            report.problem = Some(LogbookProblem::Unreadable { seq: key_seq });
            return Ok(report);
        };
        if !entry.intact() {
            report.problem = Some(LogbookProblem::Altered {
                seq: key_seq,
                now: Box::new(entry),
            });
            return Ok(report);
        }
        if entry.prev != report.head.1 {
            report.problem = Some(LogbookProblem::BrokenLink { seq: key_seq });
            return Ok(report);
        }
        report.entries += 1;
        report.head = (key_seq, entry.hash);
    }
    Ok(report)
}

impl Store {
    /// Appends one action to the logbook, alone, in its own transaction; returns the stored
    /// entry (its number and hash). Actions that go with a batch or with incident writes go
    /// into [`crate::IncidentWrites::logbook`] instead, and are stored in that transaction.
    ///
    /// ```no_run
    /// # fn f(store: &picket_store::Store) -> Result<(), picket_store::StoreError> {
    /// use picket_store::{LogbookAction, logbook_kind, os_user};
    /// let entry = store.logbook_append(&LogbookAction::now(
    ///     &os_user(),
    ///     "203.0.113.50",
    ///     logbook_kind::LOOKUP,
    ///     "abuse contact abuse@example.net via whois.iana.org -> whois.ripe.net",
    /// ))?;
    /// println!("logbook entry {}", entry.seq);
    /// # Ok(()) }
    /// ```
    pub fn logbook_append(&self, action: &LogbookAction) -> Result<LogbookEntry, StoreError> {
        let _w = self.lock_writer();
        let t = self.open_trees()?;
        let head = lock(&self.shared).logbook_head;
        let p = prepare(std::slice::from_ref(action), head)?;
        t.logbook
            .transaction(|tree| {
                write_tx(tree, &p)?;
                Ok::<_, sled::transaction::ConflictableTransactionError<StoreError>>(())
            })
            .map_err(crate::tx_err)
            .map_err(|e| self.noted(e))?;
        lock(&self.shared).logbook_head = p.head;
        p.entries
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Logbook("nothing appended".into()))
    }

    /// The logbook's head: the last entry's number and hash ((0, zeros) when it is empty).
    /// Never waits behind a commit.
    pub fn logbook_head(&self) -> (u64, Hash) {
        lock(&self.shared).logbook_head
    }

    /// The logbook's entries, oldest first; with `incident`, only that incident's. Entries
    /// that do not decode are skipped (`verify` names them).
    pub fn logbook(&self, incident: Option<&str>) -> Result<Vec<LogbookEntry>, StoreError> {
        let t = self.open_trees()?;
        let mut out = Vec::new();
        for item in t.logbook.iter() {
            let (_, v) = item.map_err(|e| self.noted(e.into()))?;
            if let Ok(e) = decode(&v)
                && incident.is_none_or(|i| e.action.incident == i)
            {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// One logbook entry by number, as stored (not checked).
    pub fn logbook_entry(&self, seq: u64) -> Result<Option<LogbookEntry>, StoreError> {
        let t = self.open_trees()?;
        let v = t
            .logbook
            .get(seq.to_be_bytes())
            .map_err(|e| self.noted(e.into()))?;
        Ok(v.and_then(|v| decode(&v).ok()))
    }

    /// Checks the whole logbook: numbers, links and hashes.
    pub fn verify_logbook(&self) -> Result<LogbookReport, StoreError> {
        let t = self.open_trees()?;
        let _w = self.lock_writer();
        verify_tree(&t.logbook).map_err(|e| self.noted(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(detail: &str) -> LogbookAction {
        LogbookAction {
            at_ns: 1_795_392_000_000_000_000,
            who: "alice".into(),
            incident: "198.51.100.7".into(),
            kind: kind::MARK.into(),
            detail: detail.into(),
        }
    }

    #[test]
    fn entries_round_trip_and_chain() {
        let p = prepare(&[action("reported"), action("blocked")], (0, [0; 32])).unwrap();
        assert_eq!(p.entries.len(), 2);
        for (e, (_, bytes)) in p.entries.iter().zip(&p.rows) {
            assert!(e.intact());
            assert_eq!(&e.to_bytes(), bytes);
            assert_eq!(&decode(bytes).unwrap(), e);
        }
        assert_eq!(p.entries[1].prev, p.entries[0].hash);
        assert_eq!(p.head, (2, p.entries[1].hash));
    }

    #[test]
    fn damage_is_an_error_or_a_broken_hash() {
        let p = prepare(&[action("note")], (0, [0; 32])).unwrap();
        let bytes = &p.rows[0].1;
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err());
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            if let Ok(e) = decode(&bad) {
                assert!(!e.intact() || e.seq != 1, "byte {i}");
            }
        }
    }

    #[test]
    fn bad_kinds_are_refused_and_long_fields_cut() {
        let mut a = action("x");
        a.kind = "Mark!".into();
        assert!(prepare(&[a], (0, [0; 32])).is_err());
        let mut a = action(&"é".repeat(MAX_DETAIL));
        a.who = "w".repeat(1000);
        let p = prepare(&[a], (0, [0; 32])).unwrap();
        assert!(p.entries[0].action.detail.len() <= MAX_DETAIL);
        assert_eq!(p.entries[0].action.who.len(), MAX_WHO);
    }
}
