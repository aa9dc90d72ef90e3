//! The `contacts` tree: a cache of abuse-contact lookups, opaque to the store (the receiver
//! keeps picket-whois's JSON there). Key: what the caller looked up (an address or a range,
//! as bytes); value: the time it was stored (ns since the epoch, big-endian u64), then the
//! caller's bytes. The caller decides what is fresh; retention and `verify` leave the tree
//! alone, and nothing in it is evidence.
//!
//! The tree is opened on first use (sled keeps it open from then on), so stores written
//! before it existed open unchanged.

use crate::Store;
use crate::error::StoreError;

/// The tree's name.
const TREE: &str = "contacts";

impl Store {
    /// Stores `bytes` under `key` with the time they were found, replacing what was there.
    pub fn put_contact(
        &self,
        key: &[u8],
        bytes: &[u8],
        stored_at_ns: u64,
    ) -> Result<(), StoreError> {
        let t = self.open_trees()?;
        let mut v = Vec::with_capacity(8 + bytes.len());
        v.extend_from_slice(&stored_at_ns.to_be_bytes());
        v.extend_from_slice(bytes);
        t.db.open_tree(TREE)
            .and_then(|tree| tree.insert(key, v))
            .map(|_| ())
            .map_err(|e| self.noted(e.into()))
    }

    /// What [`Store::put_contact`] stored under `key`, and when; None when nothing was.
    pub fn contact(&self, key: &[u8]) -> Result<Option<(Vec<u8>, u64)>, StoreError> {
        let t = self.open_trees()?;
        let v =
            t.db.open_tree(TREE)
                .and_then(|tree| tree.get(key))
                .map_err(|e| self.noted(e.into()))?;
        Ok(v.and_then(|v| {
            let (at, bytes) = v.split_first_chunk::<8>()?;
            Some((bytes.to_vec(), u64::from_be_bytes(*at)))
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, StoreConfig};

    #[test]
    fn put_get_replace_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), &StoreConfig::default()).unwrap();
        assert_eq!(s.contact(b"192.0.2.1").unwrap(), None);
        s.put_contact(b"192.0.2.1", b"{\"a\":1}", 7).unwrap();
        s.put_contact(b"192.0.2.1", b"{\"a\":2}", 9).unwrap();
        s.put_contact(b"192.0.2.2", b"", 3).unwrap();
        assert_eq!(
            s.contact(b"192.0.2.1").unwrap(),
            Some((b"{\"a\":2}".to_vec(), 9))
        );
        s.flush().unwrap();
        drop(s);
        let s = Store::open(dir.path(), &StoreConfig::default()).unwrap();
        assert_eq!(s.contact(b"192.0.2.2").unwrap(), Some((Vec::new(), 3)));
        assert!(s.verify().unwrap().problem.is_none());
    }
}
