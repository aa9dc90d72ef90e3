//! Change records: the sensor's published changes as the store keeps them in its numbered
//! change log (a small binary record, decoded without panicking) and as `watch` sends them
//! (one JSON line each, numbered, so a client resumes from the last number it saw).

use picket_sensor::{Change, Class, State};

/// A published change, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRecord {
    /// `created`, `class`, `score`, `state`, `block`, `unblock`.
    pub kind: Kind,
    /// The source (an address, or a prefix like `198.51.100.0/24`).
    pub source: String,
    /// When, Unix ns (event time, or the time of a mark).
    pub at: i64,
    /// Class before (`class`) or at creation (`created`).
    pub class_from: Option<Class>,
    /// Class after (`class`).
    pub class_to: Option<Class>,
    /// State before and after (`state`).
    pub state: Option<(State, State)>,
    /// Score now (`created`, `score`).
    pub score: Option<u32>,
    /// The score step crossed (`score`).
    pub step: Option<u32>,
    /// Block expiry, Unix ns (`block`).
    pub until: Option<i64>,
    /// Whether a block ran out (`unblock`: true) or was lifted by hand (false).
    pub expired: Option<bool>,
    /// The candidate a name's merged into (`merged`).
    pub into: Option<String>,
}

/// The kinds of change `watch` sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// It became a candidate.
    Created = 1,
    /// Its class changed.
    Class = 2,
    /// Its score crossed a step.
    Score = 3,
    /// Its state changed.
    State = 4,
    /// A block started.
    Block = 5,
    /// A block ended.
    Unblock = 6,
    /// A source known by name resolved: its candidate merged into `into`.
    Merged = 7,
}

impl Kind {
    fn from_code(c: u8) -> Option<Kind> {
        Some(match c {
            1 => Kind::Created,
            2 => Kind::Class,
            3 => Kind::Score,
            4 => Kind::State,
            5 => Kind::Block,
            6 => Kind::Unblock,
            7 => Kind::Merged,
            _ => return None,
        })
    }

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Created => "created",
            Kind::Class => "class",
            Kind::Score => "score",
            Kind::State => "state",
            Kind::Block => "block",
            Kind::Unblock => "unblock",
            Kind::Merged => "merged",
        }
    }
}

const VERSION: u8 = 1;

impl ChangeRecord {
    /// The record of a published change; None for bookkeeping (evicted, forgotten).
    pub fn of(change: &Change) -> Option<ChangeRecord> {
        let mut r = ChangeRecord {
            kind: Kind::Created,
            source: change.key().to_string(),
            at: 0,
            class_from: None,
            class_to: None,
            state: None,
            score: None,
            step: None,
            until: None,
            expired: None,
            into: None,
        };
        match change {
            Change::Created {
                class, score, at, ..
            } => {
                r.at = *at;
                r.class_to = Some(*class);
                r.score = Some(*score);
            }
            Change::ClassChanged { from, to, at, .. } => {
                r.kind = Kind::Class;
                r.at = *at;
                r.class_from = Some(*from);
                r.class_to = Some(*to);
            }
            Change::ScoreCrossed {
                step, score, at, ..
            } => {
                r.kind = Kind::Score;
                r.at = *at;
                r.step = Some(*step);
                r.score = Some(*score);
            }
            Change::StateChanged { from, to, at, .. } => {
                r.kind = Kind::State;
                r.at = *at;
                r.state = Some((*from, *to));
            }
            Change::BlockAdded { since, until, .. } => {
                r.kind = Kind::Block;
                r.at = *since;
                r.until = Some(*until);
            }
            Change::BlockEnded { at, expired, .. } => {
                r.kind = Kind::Unblock;
                r.at = *at;
                r.expired = Some(*expired);
            }
            Change::Merged { into, at, .. } => {
                r.kind = Kind::Merged;
                r.at = *at;
                r.into = Some(into.to_string());
            }
            Change::Evicted(_) | Change::Forgotten { .. } | Change::Removed { .. } => return None,
        }
        Some(r)
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        out.push(VERSION);
        out.push(self.kind as u8);
        out.extend_from_slice(&self.at.to_be_bytes());
        let src = self.source.as_bytes();
        out.push(u8::try_from(src.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(src.get(..usize::from(u8::MAX)).unwrap_or(src));
        // Class and state codes start at 1: 0 says none.
        let class = |c: Option<Class>| c.map_or(0, |c| c as u8);
        out.push(class(self.class_from));
        out.push(class(self.class_to));
        match self.state {
            Some((a, b)) => out.extend_from_slice(&[a as u8, b as u8]),
            None => out.extend_from_slice(&[0, 0]),
        }
        out.extend_from_slice(&self.score.map_or(u32::MAX, |s| s).to_be_bytes());
        out.extend_from_slice(&self.step.map_or(u32::MAX, |s| s).to_be_bytes());
        out.extend_from_slice(&self.until.unwrap_or(i64::MIN).to_be_bytes());
        out.push(self.expired.map_or(0, |e| 1 + u8::from(e)));
        // Added with `merged`; records without it end here and still decode.
        if let Some(into) = &self.into {
            let b = into.as_bytes();
            out.push(u8::try_from(b.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(b.get(..usize::from(u8::MAX)).unwrap_or(b));
        }
        out
    }

    /// Reads a stored record; None when the bytes are not one (never panics).
    pub fn decode(b: &[u8]) -> Option<ChangeRecord> {
        let mut r = Reader(b);
        if r.u8()? != VERSION {
            return None;
        }
        let kind = Kind::from_code(r.u8()?)?;
        let at = i64::from_be_bytes(r.array()?);
        let n = usize::from(r.u8()?);
        let source = String::from_utf8(r.take(n)?.to_vec()).ok()?;
        let class = |c: u8| match c {
            0 => Some(None),
            c => Class::from_code(c).map(Some),
        };
        let class_from = class(r.u8()?)?;
        let class_to = class(r.u8()?)?;
        let (a, b) = (r.u8()?, r.u8()?);
        let state = match (a, b) {
            (0, 0) => None,
            (a, b) => Some((State::from_code(a)?, State::from_code(b)?)),
        };
        let score = Some(u32::from_be_bytes(r.array()?)).filter(|s| *s != u32::MAX);
        let step = Some(u32::from_be_bytes(r.array()?)).filter(|s| *s != u32::MAX);
        let until = Some(i64::from_be_bytes(r.array()?)).filter(|u| *u != i64::MIN);
        let expired = match r.u8()? {
            0 => None,
            e => Some(e == 2),
        };
        let into = if r.0.is_empty() {
            None
        } else {
            let n = usize::from(r.u8()?);
            Some(String::from_utf8(r.take(n)?.to_vec()).ok()?)
        };
        if !r.0.is_empty() {
            return None;
        }
        Some(ChangeRecord {
            kind,
            source,
            at,
            class_from,
            class_to,
            state,
            score,
            step,
            until,
            expired,
            into,
        })
    }

    /// The `watch` line (without its newline): `{"change":N,"kind":…,"source":…,…}`.
    pub fn to_json(&self, number: u64) -> Vec<u8> {
        let mut v = serde_json::json!({
            "change": number,
            "kind": self.kind.as_str(),
            "source": self.source,
            "at": crate::clock::rfc3339(u64::try_from(self.at).unwrap_or(0)),
        });
        if let Some(m) = v.as_object_mut() {
            if let Some(c) = self.class_from {
                m.insert("from_class".into(), c.as_str().into());
            }
            if let Some(c) = self.class_to {
                m.insert("class".into(), c.as_str().into());
            }
            if let Some((a, b)) = self.state {
                m.insert("from_state".into(), a.as_str().into());
                m.insert("state".into(), b.as_str().into());
            }
            if let Some(s) = self.score {
                m.insert("score".into(), s.into());
            }
            if let Some(s) = self.step {
                m.insert("step".into(), s.into());
            }
            if let Some(u) = self.until {
                m.insert(
                    "until".into(),
                    crate::clock::rfc3339(u64::try_from(u).unwrap_or(0)).into(),
                );
            }
            if let Some(e) = self.expired {
                m.insert("expired".into(), e.into());
            }
            if let Some(i) = &self.into {
                m.insert("into".into(), i.clone().into());
            }
        }
        serde_json::to_vec(&v).unwrap_or_default()
    }
}

/// A cursor over bytes that fails instead of panicking.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_garbage_is_refused() {
        let key = picket_sensor::SourceKey::new("198.51.100.7".parse().unwrap(), 32);
        let changes = [
            Change::Created {
                key,
                class: Class::PortScan,
                score: 40,
                at: 1_000,
            },
            Change::StateChanged {
                key,
                from: State::New,
                to: State::Blocked,
                at: 2_000,
            },
            Change::BlockAdded {
                key,
                since: 2_000,
                until: 3_600_000_002_000,
            },
            Change::BlockEnded {
                key,
                at: 5,
                expired: true,
            },
        ];
        for c in &changes {
            let r = ChangeRecord::of(c).unwrap();
            let bytes = r.encode();
            assert_eq!(ChangeRecord::decode(&bytes), Some(r.clone()));
            for cut in 0..bytes.len() {
                assert_eq!(ChangeRecord::decode(&bytes[..cut]), None);
            }
            let json: serde_json::Value = serde_json::from_slice(&r.to_json(7)).unwrap();
            assert_eq!(json["change"], 7);
            assert_eq!(json["source"], "198.51.100.7");
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x % 64) as usize;
            let bytes: Vec<u8> = (0..n).map(|i| (x >> (i % 8 * 8)) as u8).collect();
            let _ = ChangeRecord::decode(&bytes);
        }
    }
}
