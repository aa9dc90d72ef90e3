//! The `notices` tree: what picket's abuse notices and their replies left behind, opaque to
//! the store (the receiver's records, keyed `n/<report id>` for a notice and
//! `f/<report id>/<time>` for a reply filed under it). Every write is flushed to disk before
//! it returns: a notice is recorded as intended *before* its message goes out, and that
//! record must survive a crash or a `kill -9` right after, or the notice could be sent twice.
//! Retention never touches the tree.

use crate::Store;
use crate::error::StoreError;

/// Records as (key, value) pairs.
pub type NoticeRecords = Vec<(Vec<u8>, Vec<u8>)>;

/// The tree's name in sled.
const TREE: &str = "notices";

impl Store {
    fn notices_tree(&self) -> Result<sled::Tree, StoreError> {
        let t = self.trees()?;
        t.db.open_tree(TREE).map_err(|e| self.note(e.into()))
    }

    /// Stores `value` under `key` and makes it durable before returning.
    pub fn put_notice(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let tree = self.notices_tree()?;
        tree.insert(key, value).map_err(|e| self.note(e.into()))?;
        tree.flush().map_err(|e| self.note(e.into()))?;
        Ok(())
    }

    /// Stores `value` under `key` only if the key is free, durably; false when it was taken
    /// (another run recorded that notice first).
    pub fn put_notice_new(&self, key: &[u8], value: &[u8]) -> Result<bool, StoreError> {
        let tree = self.notices_tree()?;
        let swapped = tree
            .compare_and_swap(key, None as Option<&[u8]>, Some(value))
            .map_err(|e| self.note(e.into()))?;
        if swapped.is_err() {
            return Ok(false);
        }
        tree.flush().map_err(|e| self.note(e.into()))?;
        Ok(true)
    }

    /// The record under `key`.
    pub fn notice(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let tree = self.notices_tree()?;
        tree.get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| self.note(e.into()))
    }

    /// Every record whose key starts with `prefix`, in key order.
    pub fn notices_with_prefix(&self, prefix: &[u8]) -> Result<NoticeRecords, StoreError> {
        let tree = self.notices_tree()?;
        let mut out = Vec::new();
        for item in tree.scan_prefix(prefix) {
            let (k, v) = item.map_err(|e| self.note(e.into()))?;
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }
}
