//! The changes the book reports: what a downstream `watch` stream needs (created, class
//! changed, score crossed a step, state changed, block added or ended) and what the receiver
//! must persist or drop (a candidate moved out of memory, an unpublished entry forgotten, a
//! name's entry merged into its address's and removed).

use crate::candidate::{Candidate, Class};
use crate::source::SourceKey;
use crate::state::State;

/// One change to a candidate. Times are Unix ns of event time (or the `now` given).
// `Merged` holds two keys of up to 256 bytes each (a name is inline in its key); changes are
// short-lived, so the size is not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// It became a candidate (its first signal was settled).
    Created {
        /// The source.
        key: SourceKey,
        /// Its class then.
        class: Class,
        /// Its score then.
        score: u32,
        /// When.
        at: i64,
    },
    /// Its class changed (classes only move towards the more severe).
    ClassChanged {
        /// The source.
        key: SourceKey,
        /// The class before.
        from: Class,
        /// The class now.
        to: Class,
        /// When.
        at: i64,
    },
    /// Its score rose across a configured step (the highest one crossed).
    ScoreCrossed {
        /// The source.
        key: SourceKey,
        /// The step crossed.
        step: u32,
        /// The score now.
        score: u32,
        /// When.
        at: i64,
    },
    /// Its state changed, by hand or automatically.
    StateChanged {
        /// The source.
        key: SourceKey,
        /// The state before.
        from: State,
        /// The state now.
        to: State,
        /// When.
        at: i64,
    },
    /// A block started.
    BlockAdded {
        /// The source.
        key: SourceKey,
        /// Start, Unix ns.
        since: i64,
        /// Expiry, Unix ns.
        until: i64,
    },
    /// A block ended: it expired, or the state was changed by hand.
    BlockEnded {
        /// The source.
        key: SourceKey,
        /// When.
        at: i64,
        /// True when it ran out, false when lifted by hand.
        expired: bool,
    },
    /// Moved out of memory to keep the book bounded: the receiver writes it to the store and
    /// hands it back with `IncidentBook::restore` when its source shows up again.
    Evicted(Box<Candidate>),
    /// A source known by host name resolved: its candidate merged into the candidate of
    /// the address it resolved to (which keeps the name among its names). Published when the
    /// name's candidate was.
    Merged {
        /// The name key that went away.
        from: SourceKey,
        /// The address (or prefix) key that holds its candidate now.
        into: SourceKey,
        /// When (the book's event time).
        at: i64,
    },
    /// A name key's entry left the book for good (merged into its address's candidate, or
    /// its address is one the book ignores): the receiver deletes its stored record. Not
    /// published (a published merge comes as [`Change::Merged`]).
    Removed {
        /// The name key.
        key: SourceKey,
    },
    /// An entry that never became a candidate (noise or benign events only) was dropped to
    /// keep the book bounded; nothing to persist.
    Forgotten {
        /// The source.
        key: SourceKey,
    },
}

impl Change {
    /// The source the change is about (for [`Change::Merged`], the name that went away).
    pub fn key(&self) -> SourceKey {
        match self {
            Change::Created { key, .. }
            | Change::ClassChanged { key, .. }
            | Change::ScoreCrossed { key, .. }
            | Change::StateChanged { key, .. }
            | Change::BlockAdded { key, .. }
            | Change::BlockEnded { key, .. }
            | Change::Forgotten { key }
            | Change::Removed { key } => *key,
            Change::Merged { from, .. } => *from,
            Change::Evicted(c) => c.key(),
        }
    }

    /// The name of the change kind (`created`, `class`, `score`, `state`, `block`, `unblock`,
    /// `merged`, `evicted`, `forgotten`, `removed`), for the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Created { .. } => "created",
            Change::ClassChanged { .. } => "class",
            Change::ScoreCrossed { .. } => "score",
            Change::StateChanged { .. } => "state",
            Change::BlockAdded { .. } => "block",
            Change::BlockEnded { .. } => "unblock",
            Change::Evicted(_) => "evicted",
            Change::Forgotten { .. } => "forgotten",
            Change::Merged { .. } => "merged",
            Change::Removed { .. } => "removed",
        }
    }

    /// Whether a `watch` subscriber should see it (evictions, forgotten and removed entries
    /// are bookkeeping between the book and the store).
    pub fn is_published(&self) -> bool {
        !matches!(
            self,
            Change::Evicted(_) | Change::Forgotten { .. } | Change::Removed { .. }
        )
    }
}
