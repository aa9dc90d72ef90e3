//! A candidate's lifecycle: `new` -> `reported` -> `repeated` -> `blocked` -> `closed`, the
//! history of who set which state when, blocks with an expiry that grows for a source that
//! comes back, and staleness. Time is always given (event time or an explicit `now`).

use crate::candidate::{Candidate, Class, HISTORY_KEPT};
use crate::state::{AUTOMATIC, Block, HistoryEntry, State};
use crate::watch::Change;

/// Block lengths, from the config.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BlockPolicy {
    pub first: i64,
    pub growth: i64,
    pub max: i64,
}

impl BlockPolicy {
    /// Length of block number `n` (1 = the first): first × growth^(n-1), capped.
    pub fn length(&self, n: u32) -> i64 {
        let mut len = self.first.max(1);
        for _ in 1..n.min(64) {
            len = len.saturating_mul(self.growth.max(1));
            if len >= self.max {
                break;
            }
        }
        len.min(self.max.max(1))
    }
}

impl Candidate {
    fn set_state(&mut self, to: State, at: i64, who: &str, note: &str, changes: &mut Vec<Change>) {
        let from = self.state;
        self.history.push(HistoryEntry {
            at,
            from,
            to,
            who: who.to_owned(),
            note: note.to_owned(),
        });
        let excess = self.history.len().saturating_sub(HISTORY_KEPT);
        self.history.drain(..excess);
        self.state = to;
        self.state_since = at;
        if from != to {
            changes.push(Change::StateChanged {
                key: self.key,
                from,
                to,
                at,
            });
        }
    }

    /// Sets a state by hand (`picket mark`): records who and why; `reported` counts a notice,
    /// `blocked` starts a block whose length grows with each block of this source; leaving
    /// `blocked` by hand ends the block.
    pub(crate) fn mark(
        &mut self,
        to: State,
        note: &str,
        who: &str,
        at: i64,
        blocks: &BlockPolicy,
        changes: &mut Vec<Change>,
    ) {
        if self.state == State::Blocked && to != State::Blocked && self.block.take().is_some() {
            changes.push(Change::BlockEnded {
                key: self.key,
                at,
                expired: false,
            });
        }
        match to {
            State::Reported => self.notices = self.notices.saturating_add(1),
            State::Blocked => {
                self.blocks = self.blocks.saturating_add(1);
                let until = at.saturating_add(blocks.length(self.blocks));
                self.block = Some(Block { since: at, until });
                changes.push(Change::BlockAdded {
                    key: self.key,
                    since: at,
                    until,
                });
            }
            _ => {}
        }
        self.set_state(to, at, who, note, changes);
    }

    /// Ends the block if it expired by `now`: back to `repeated` when the source was active
    /// during the block, else `closed`. True when it ended.
    pub(crate) fn expire_block(&mut self, now: i64, changes: &mut Vec<Change>) -> bool {
        let Some(block) = self.block else {
            return false;
        };
        if self.state != State::Blocked || block.until > now {
            return false;
        }
        self.block = None;
        changes.push(Change::BlockEnded {
            key: self.key,
            at: block.until,
            expired: true,
        });
        let active = self.last_signal.is_some_and(|t| t > block.since);
        let to = if active {
            State::Repeated
        } else {
            State::Closed
        };
        self.set_state(to, block.until, AUTOMATIC, "block expired", changes);
        true
    }

    /// Automatic moves on new activity: `reported` -> `repeated`; `closed` -> `repeated` (or
    /// `new` if it was never reported nor blocked).
    pub(crate) fn follow_activity(&mut self, changes: &mut Vec<Change>) {
        let Some(t) = self.last_signal else { return };
        if t <= self.state_since {
            return;
        }
        match self.state {
            State::Reported => {
                self.set_state(
                    State::Repeated,
                    t,
                    AUTOMATIC,
                    "active after a notice",
                    changes,
                );
            }
            State::Closed => {
                let to = if self.notices > 0 || self.blocks > 0 {
                    State::Repeated
                } else {
                    State::New
                };
                self.set_state(to, t, AUTOMATIC, "active after closing", changes);
            }
            _ => {}
        }
    }

    /// True when too old to be worth a notice: latest activity before `now - horizon`, and not
    /// an exploit, not huge (`huge_volume` events or more), not repeated.
    pub fn is_stale(&self, now: i64, horizon_ns: i64, huge_volume: u64) -> bool {
        let latest = self.last_signal.unwrap_or(self.last_seen);
        latest < now.saturating_sub(horizon_ns)
            && self.class != Class::IdsExploit
            && self.events < huge_volume
            && self.state != State::Repeated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_length_grows_and_caps() {
        let p = BlockPolicy {
            first: 10,
            growth: 2,
            max: 70,
        };
        assert_eq!(p.length(1), 10);
        assert_eq!(p.length(2), 20);
        assert_eq!(p.length(3), 40);
        assert_eq!(p.length(4), 70);
        assert_eq!(p.length(200), 70);
    }

    #[test]
    fn names_round_trip() {
        for s in State::ALL {
            assert_eq!(State::from_name(s.as_str()), Some(s));
            assert_eq!(State::from_code(s as u8), Some(s));
        }
    }
}
