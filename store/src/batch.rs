//! A write batch being filled: records encoded into one arena as events arrive, so the
//! parsed line can be dropped right after. The store turns it into one sled transaction.

use picket_parsers::Event;

use crate::key::addr16;
use crate::record;

/// One event's place in the arena.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub start: usize,
    pub end: usize,
    pub source: Option<[u8; 16]>,
    pub dataset: u8,
    pub received_ns: u64,
}

/// Events waiting to be stored together.
#[derive(Debug, Default)]
pub struct Batch {
    pub(crate) arena: Vec<u8>,
    pub(crate) entries: Vec<Entry>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Encodes `ev`, received at `received_ns` (Unix nanoseconds), into the batch.
    pub fn push(&mut self, ev: &Event<'_>, received_ns: u64) {
        let start = self.arena.len();
        record::encode(&mut self.arena, ev, received_ns);
        self.entries.push(Entry {
            start,
            end: self.arena.len(),
            source: ev.details.source.ip.map(addr16),
            dataset: ev.dataset as u8,
            received_ns,
        });
    }

    /// Number of events in the batch.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of encoded records.
    pub fn bytes(&self) -> usize {
        self.arena.len()
    }

    /// Empties the batch, keeping its memory for the next one.
    pub fn clear(&mut self) {
        self.arena.clear();
        self.entries.clear();
    }

    /// The batch's events decoded again, with their receive times, in push order: how an
    /// import folds what it is about to store without keeping every parsed line alive.
    /// (A record decodes to the event it was encoded from; the record tests check it.)
    pub fn events(&self) -> impl Iterator<Item = (Result<Event<'_>, crate::DecodeError>, u64)> {
        self.entries
            .iter()
            .map(|e| (record::decode(self.record(e)), e.received_ns))
    }

    pub(crate) fn record(&self, e: &Entry) -> &[u8] {
        self.arena.get(e.start..e.end).unwrap_or_default()
    }
}
