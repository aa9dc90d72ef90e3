//! The states a candidate goes through and the records of its handling (history lines,
//! blocks): plain data that the candidate, its lifecycle and the change stream all name.

use std::fmt;

/// Where a candidate is in its handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum State {
    /// Nobody acted on it yet.
    New = 1,
    /// A notice went out (count in `notices`).
    Reported = 2,
    /// Active again after a notice, or after a block ended: another notice is due.
    Repeated = 3,
    /// Blocked until the block's expiry.
    Blocked = 4,
    /// Done with.
    Closed = 5,
}

impl State {
    /// Every state, in code order.
    pub const ALL: [State; 5] = [
        State::New,
        State::Reported,
        State::Repeated,
        State::Blocked,
        State::Closed,
    ];

    /// The name tools use.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Reported => "reported",
            State::Repeated => "repeated",
            State::Blocked => "blocked",
            State::Closed => "closed",
        }
    }

    /// Looks a state up by name.
    pub fn from_name(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Looks a state up by its code.
    pub fn from_code(code: u8) -> Option<State> {
        State::ALL.into_iter().find(|s| *s as u8 == code)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a candidate's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// When, Unix ns.
    pub at: i64,
    /// The state before.
    pub from: State,
    /// The state set.
    pub to: State,
    /// Who (an OS user; `picket` for automatic changes).
    pub who: String,
    /// Free text.
    pub note: String,
}

/// A block and its expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// When it started, Unix ns.
    pub since: i64,
    /// When it ends, Unix ns.
    pub until: i64,
}

/// Who automatic changes are written as.
pub const AUTOMATIC: &str = "picket";
