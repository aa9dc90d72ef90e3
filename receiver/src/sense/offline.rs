//! The sensor on a store that `picket serve` does not have open: `picket import` folds each
//! batch just before storing it (candidates go into the batch's transaction, as in serve),
//! and a rebuild folds every stored event again, oldest first, into an emptied incidents
//! tree. Both fold in the same order as serve did when it received the events, so both give
//! the candidates serve gives.

use picket_parsers::Event;
use picket_sensor::SensorConfig;
use picket_store::{Appended, Batch, EventKey, IncidentWrites, Query, Store, StoreError};

use super::Sensor;

/// A sensor and the writes it has not stored yet.
pub struct OfflineSensor {
    sensor: Sensor,
    writes: IncidentWrites,
    batches: u32,
}

/// An import flushes the candidates every this many batches (and at the end), as serve
/// does every few seconds.
const FLUSH_EVERY: u32 = 16;

impl OfflineSensor {
    /// A sensor with an empty book.
    pub fn new(cfg: SensorConfig) -> OfflineSensor {
        OfflineSensor {
            sensor: Sensor::new(cfg),
            writes: IncidentWrites::default(),
            batches: 0,
        }
    }

    /// Folds `batch` and stores it with the candidates it changed, in one transaction.
    pub fn append(&mut self, store: &Store, batch: &Batch) -> Result<Option<Appended>, StoreError> {
        let keys = store.keys_for(batch);
        let mut events: Vec<(Event<'_>, u64)> = Vec::with_capacity(batch.len());
        let mut kept: Vec<EventKey> = Vec::with_capacity(batch.len());
        for ((ev, received), key) in batch.events().zip(keys) {
            if let Ok(ev) = ev {
                events.push((ev, received));
                kept.push(key);
            }
        }
        self.sensor
            .fold_batch(store, &events, &kept, &mut self.writes);
        drop(events);
        self.batches += 1;
        if self.batches.is_multiple_of(FLUSH_EVERY) {
            self.sensor.flush(&mut self.writes);
        }
        let r = store.append_with(batch, &self.writes)?;
        self.writes.clear();
        self.sensor.writes_stored();
        Ok(r)
    }

    /// Decides what is left and stores it (at the end of an import or a rebuild).
    pub fn finish(&mut self, store: &Store) -> Result<(), StoreError> {
        self.sensor.settle(&mut self.writes);
        self.sensor.flush(&mut self.writes);
        store.write_incidents(&self.writes)?;
        self.writes.clear();
        Ok(())
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildReport {
    /// Stored events folded.
    pub events: u64,
    /// Candidates stored afterwards.
    pub candidates: u64,
}

/// Recomputes every candidate from the stored events: the incidents tree and the change log
/// are emptied (change numbers go on from where they were), then every event is folded,
/// oldest first.
pub fn rebuild(store: &Store, cfg: SensorConfig) -> Result<RebuildReport, StoreError> {
    store.clear_incidents()?;
    let mut sensor = Sensor::new(cfg).without_logbook();
    let mut writes = IncidentWrites::default();
    let events = sensor.fold_stored(store, &Query::default(), None, &mut writes, |w| {
        store.write_incidents(w)?;
        w.clear();
        Ok(())
    })?;
    sensor.settle(&mut writes);
    sensor.flush(&mut writes);
    store.write_incidents(&writes)?;
    Ok(RebuildReport {
        events,
        candidates: store.incident_count(),
    })
}
