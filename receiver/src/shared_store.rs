//! The store as the server shares it: the writer appends to it, query connections read it,
//! and after a write failure that only a reopen cures (sled keeps refusing every write once
//! it has seen an I/O error, even after space returns) the writer closes and reopens it.
//!
//! Readers take a handle for the length of one request; a reopen cancels the running scans
//! (they stop at their next event), waits for their handles to go, drops the old store so
//! that sled releases its lock on the directory, and opens it again. Meanwhile readers are
//! told the store is unavailable rather than made to wait.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use picket_store::{Store, StoreConfig, StoreError};
use tokio_util::sync::CancellationToken;

/// A store that can be reopened under its readers.
pub struct SharedStore {
    dir: PathBuf,
    cfg: StoreConfig,
    slot: RwLock<Option<(Arc<Store>, CancellationToken)>>,
}

/// A reader's hold on the store: the store and a token cancelled when it is to be reopened.
pub struct StoreHold {
    /// The store.
    pub store: Arc<Store>,
    /// Cancelled when the store is about to be reopened: stop reading.
    pub reopening: CancellationToken,
}

impl SharedStore {
    /// Opens the store in `dir`.
    pub fn open(dir: &Path, cfg: StoreConfig) -> Result<SharedStore, StoreError> {
        let store = Store::open(dir, &cfg)?;
        Ok(SharedStore {
            dir: dir.to_path_buf(),
            cfg,
            slot: RwLock::new(Some((Arc::new(store), CancellationToken::new()))),
        })
    }

    /// The store now, or None while it is being reopened.
    pub fn hold(&self) -> Option<StoreHold> {
        let slot = self.slot.read().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().map(|(s, t)| StoreHold {
            store: s.clone(),
            reopening: t.clone(),
        })
    }

    /// The store now (for the writer), or None while it is being reopened.
    pub fn get(&self) -> Option<Arc<Store>> {
        self.hold().map(|h| h.store)
    }

    /// Closes the store and opens it again. Readers still holding it after `wait` are left
    /// with the old one (it stays open until they let go, and the reopen fails with sled's
    /// lock error, to be retried).
    pub fn reopen(&self, wait: Duration) -> Result<(), StoreError> {
        let old = {
            let mut slot = self.slot.write().unwrap_or_else(|p| p.into_inner());
            slot.take()
        };
        if let Some((store, token)) = old {
            token.cancel();
            let deadline = Instant::now() + wait;
            while Arc::strong_count(&store) > 1 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(store);
        }
        let opened = Store::open(&self.dir, &self.cfg);
        let mut slot = self.slot.write().unwrap_or_else(|p| p.into_inner());
        match opened {
            Ok(s) => {
                *slot = Some((Arc::new(s), CancellationToken::new()));
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}
