//! Heads to anchor outside the store: the event chain's last batch and the logbook's last
//! entry, each as `KIND:NUMBER:HEX` (`events:41:9f…`, `logbook:7:c3…`), joined by a comma.
//! Someone who rewrites the whole store can rebuild both chains, but not the heads that
//! were recorded where they cannot reach (serve's head file, a log host, a notebook):
//! [`Store::check_head`] says whether the store still holds a recorded head.

use std::fmt;

use crate::chain::{self, ChainEntry, Hash, hex};
use crate::error::StoreError;
use crate::{Store, meta_key};

/// Which chain a head belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadKind {
    /// The evidence chain of event batches.
    Events,
    /// The logbook.
    Logbook,
}

/// One chain's head: the number of its last batch or entry, and that one's hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// The chain.
    pub kind: HeadKind,
    /// Batch number (events, from 0) or entry number (logbook, from 1).
    pub number: u64,
    /// Its hash.
    pub hash: Hash,
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = match self.kind {
            HeadKind::Events => "events",
            HeadKind::Logbook => "logbook",
        };
        write!(f, "{k}:{}:{}", self.number, hex(&self.hash))
    }
}

/// Reads 64 hex digits.
pub fn parse_hash(s: &str) -> Option<Hash> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut h = [0u8; 32];
    for (slot, pair) in h.iter_mut().zip(b.chunks_exact(2)) {
        let s = std::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(s, 16).ok()?;
    }
    Some(h)
}

/// Reads one head, or several joined by commas (as `picket verify` prints them).
pub fn parse_heads(s: &str) -> Result<Vec<Head>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let bad = || {
                format!(
                    "{p:?} is not a head (events:NUMBER:HEX or logbook:NUMBER:HEX, 64 hex digits)"
                )
            };
            let mut f = p.splitn(3, ':');
            let kind = match f.next() {
                Some("events") => HeadKind::Events,
                Some("logbook") => HeadKind::Logbook,
                _ => return Err(bad()),
            };
            let number = f.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
            let hash = f.next().and_then(parse_hash).ok_or_else(bad)?;
            Ok(Head { kind, number, hash })
        })
        .collect()
}

/// Both heads as one line.
pub fn format_heads(heads: &[Head]) -> String {
    heads
        .iter()
        .map(Head::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// The current heads: the event chain's (when a batch was ever stored) and the
    /// logbook's (when it has an entry). Never waits behind a commit.
    pub fn heads(&self) -> Vec<Head> {
        let (events, events_n, (lb_n, lb_h)) = {
            let s = self.lock_shared();
            (s.head, s.head_batch, s.logbook_head)
        };
        let mut out = Vec::new();
        if let Some(n) = events_n {
            out.push(Head {
                kind: HeadKind::Events,
                number: n,
                hash: events,
            });
        }
        if lb_n > 0 {
            out.push(Head {
                kind: HeadKind::Logbook,
                number: lb_n,
                hash: lb_h,
            });
        }
        out
    }

    /// Whether the store still holds `head` (recorded earlier): `Ok(None)` when it does, else
    /// what differs. Run it with `verify`, which proves that the chain from the head on is
    /// intact.
    pub fn check_head(&self, head: &Head) -> Result<Option<String>, StoreError> {
        let t = self.open_trees()?;
        let found = match head.kind {
            HeadKind::Logbook => match t.logbook.get(head.number.to_be_bytes())? {
                Some(v) => crate::logbook::decode(&v).ok().map(|e| e.hash),
                None => {
                    let (last, _) = crate::logbook::load_head(&t.logbook)?;
                    return Ok(Some(format!(
                        "expected head {head}: the logbook has no entry {} (it ends at entry \
                         {last}): entries were removed",
                        head.number
                    )));
                }
            },
            HeadKind::Events => match t.chain.get(chain::batch_key(head.number))? {
                Some(v) => ChainEntry::from_bytes(&v).map(|e| e.hash),
                None => {
                    let anchor = t
                        .meta
                        .get(meta_key::ANCHOR)?
                        .and_then(|v| chain::anchor_from_bytes(&v));
                    match anchor {
                        Some((n, h)) if n == head.number => Some(h),
                        Some((n, _)) if head.number < n => {
                            return Ok(Some(format!(
                                "expected head {head} cannot be checked: retention removed \
                                 batches up to {n}"
                            )));
                        }
                        _ => {
                            let last = self.next_batch().checked_sub(1);
                            return Ok(Some(format!(
                                "expected head {head}: the chain has no batch {} (it ends at \
                                 {}): batches were removed",
                                head.number,
                                last.map_or_else(|| "no batch".to_string(), |l| l.to_string())
                            )));
                        }
                    }
                }
            },
        };
        Ok(match found {
            Some(h) if h == head.hash => None,
            Some(h) => Some(format!(
                "expected head {head} does not match: the store's {} {} hashes to {}: the \
                 store was rewritten",
                match head.kind {
                    HeadKind::Events => "batch",
                    HeadKind::Logbook => "logbook entry",
                },
                head.number,
                hex(&h)
            )),
            None => Some(format!(
                "expected head {head}: that entry of the store is unreadable"
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_round_trip_and_bad_ones_are_refused() {
        let heads = vec![
            Head {
                kind: HeadKind::Events,
                number: 41,
                hash: [0xab; 32],
            },
            Head {
                kind: HeadKind::Logbook,
                number: 7,
                hash: [1; 32],
            },
        ];
        let s = format_heads(&heads);
        assert!(s.starts_with("events:41:abab"), "{s}");
        assert_eq!(parse_heads(&s).unwrap(), heads);
        for bad in ["events:x:00", "chain:1:00", "events:1:abc", "logbook:1"] {
            assert!(parse_heads(bad).is_err(), "{bad}");
        }
    }
}
