//! The book's table of candidates, laid out for the fold's hot path. A [`SourceKey`] is 256
//! bytes (a name key holds its name inline), while nearly every key is an address or prefix
//! (a [`Cidr`], 20 bytes): so address keys and name keys live in two maps, and the lists of
//! keys to settle or to write ([`KeyList`]) keep the two apart the same way. Each entry's
//! candidate is boxed (it is about 900 bytes: the table stays small and dense, growing it moves
//! no candidate, and an evicted one leaves as the box it lives in), and the entry carries its
//! eviction rank beside the box, so ranking the book for eviction reads the table alone.
//!
//! The maps hash with [`Seeded`]: a per-book random seed and folded multiplies (the shape of
//! foldhash), far cheaper than SipHash on these small keys, and still not predictable by
//! whoever picks the source addresses.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use crate::candidate::Candidate;
use crate::source::{Cidr, SourceKey};
use crate::state::State;

/// One candidate in the book.
pub(crate) struct Entry {
    pub candidate: Box<Candidate>,
    /// [`rank_of`] the candidate, kept up to date by every change to it.
    pub rank: u128,
    /// Folded since the last settle.
    pub dirty: bool,
    /// Changed since the last `take_touched`.
    pub touched: bool,
}

impl Entry {
    pub fn new(candidate: Box<Candidate>) -> Entry {
        Entry {
            rank: rank_of(&candidate),
            candidate,
            dirty: false,
            touched: false,
        }
    }

    /// Recomputes the rank after the candidate changed.
    pub fn rerank(&mut self) {
        self.rank = rank_of(&self.candidate);
    }
}

/// The eviction rank, lowest evicted first: unpublished first, then not being handled (new,
/// closed), then lowest score, least recently seen (the key breaks ties), packed so that the
/// order of the numbers is the order of the tuple.
pub(crate) fn rank_of(c: &Candidate) -> u128 {
    let handled = matches!(
        c.state(),
        State::Reported | State::Repeated | State::Blocked
    );
    (u128::from(c.is_published()) << 97)
        | (u128::from(handled) << 96)
        | (u128::from(c.score()) << 64)
        | u128::from(c.last_seen().cast_unsigned() ^ (1 << 63))
}

/// An entry's place in the eviction order: its rank, then its key as (0 IPv4 / 1 IPv6 /
/// 2 name, address bits, prefix, the name's place among the names), so that comparing two
/// needs no look at the table (most ranks tie: same score, same second) and no `Cidr` order.
pub(crate) type Rank = (u128, u8, u128, u8, u32);

/// The key of a [`Rank`] (`names` as [`Entries::ranks`] gave them).
pub(crate) fn key_of_rank(rank: &Rank, names: &[SourceKey]) -> Option<SourceKey> {
    let &(_, kind, bits, prefix, name) = rank;
    match kind {
        0 | 1 => Some(SourceKey::of_net(Cidr::from_sort_key((
            kind == 1,
            bits,
            prefix,
        )))),
        _ => names.get(name as usize).copied(),
    }
}

/// The candidates, by key.
pub(crate) struct Entries {
    nets: HashMap<Cidr, Entry, Seeded>,
    names: HashMap<SourceKey, Entry, Seeded>,
}

impl Entries {
    pub fn new() -> Entries {
        let seeded = Seeded::new();
        Entries {
            nets: HashMap::with_hasher(seeded.clone()),
            names: HashMap::with_hasher(seeded),
        }
    }

    pub fn len(&self) -> usize {
        self.nets.len() + self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty() && self.names.is_empty()
    }

    pub fn get(&self, key: &SourceKey) -> Option<&Entry> {
        match key.net() {
            Some(c) => self.nets.get(&c),
            None => self.names.get(key),
        }
    }

    pub fn get_mut(&mut self, key: &SourceKey) -> Option<&mut Entry> {
        match key.net() {
            Some(c) => self.nets.get_mut(&c),
            None => self.names.get_mut(key),
        }
    }

    pub fn contains_key(&self, key: &SourceKey) -> bool {
        self.get(key).is_some()
    }

    pub fn remove(&mut self, key: &SourceKey) -> Option<Entry> {
        match key.net() {
            Some(c) => self.nets.remove(&c),
            None => self.names.remove(key),
        }
    }

    /// The entry of `key`, made by `make` if there is none.
    #[inline]
    pub fn get_or_insert_with(
        &mut self,
        key: &SourceKey,
        make: impl FnOnce() -> Entry,
    ) -> &mut Entry {
        match key.net() {
            Some(c) => self.nets.entry(c).or_insert_with(make),
            None => self.names.entry(*key).or_insert_with(make),
        }
    }

    /// Puts `entry` in under `key` (there is none yet).
    pub fn insert(&mut self, key: SourceKey, entry: Entry) -> &mut Entry {
        match key.net() {
            Some(c) => self.nets.entry(c).insert_entry(entry).into_mut(),
            None => self.names.entry(key).insert_entry(entry).into_mut(),
        }
    }

    pub fn values(&self) -> impl Iterator<Item = &Entry> {
        self.nets.values().chain(self.names.values())
    }

    /// The `n` lowest [`Rank`]s, sorted, and the name keys (sorted) their names refer to.
    /// Two passes: the rank numbers alone (16 bytes, one compare) find the `n`th lowest, and
    /// only the entries at or below it are ranked in full.
    pub fn lowest(&self, n: usize, scratch: &mut Vec<u128>) -> (Vec<Rank>, Vec<SourceKey>) {
        scratch.clear();
        scratch.extend(self.values().map(|e| e.rank));
        if n == 0 {
            return (Vec::new(), Vec::new());
        }
        let bound = match n.checked_sub(1) {
            Some(i) if n < scratch.len() => *scratch.select_nth_unstable(i).1,
            _ => u128::MAX,
        };
        let mut out: Vec<Rank> = self
            .nets
            .iter()
            .filter(|(_, e)| e.rank <= bound)
            .map(|(c, e)| {
                let (v6, bits, prefix) = c.sort_key();
                (e.rank, u8::from(v6), bits, prefix, 0)
            })
            .collect();
        let mut names: Vec<SourceKey> = self
            .names
            .iter()
            .filter(|(_, e)| e.rank <= bound)
            .map(|(k, _)| *k)
            .collect();
        names.sort_unstable();
        for (i, key) in names.iter().enumerate() {
            if let Some(e) = self.names.get(key) {
                out.push((e.rank, 2, 0, 0, u32::try_from(i).unwrap_or(u32::MAX)));
            }
        }
        if n < out.len() {
            out.select_nth_unstable(n);
        }
        out.truncate(n);
        out.sort_unstable();
        (out, names)
    }
}

/// Keys in the order they were pushed: IPv4 keys as one `u64` (address, prefix), IPv6 keys as
/// (address, prefix), name keys whole. Sorted each, and taken in that order, they come in the
/// order of [`SourceKey`]; the `u64`s sort several times faster than `Cidr`s.
#[derive(Default)]
pub(crate) struct KeyList {
    pub v4: Vec<u64>,
    pub v6: Vec<(u128, u8)>,
    pub names: Vec<SourceKey>,
    /// The radix sort's second buffer, kept between sorts.
    scratch: Vec<u64>,
}

impl KeyList {
    pub fn push(&mut self, key: SourceKey) {
        match key.net().map(|c| c.sort_key()) {
            Some((false, bits, prefix)) => self.v4.push(((bits as u64) << 8) | u64::from(prefix)),
            Some((true, bits, prefix)) => self.v6.push((bits, prefix)),
            None => self.names.push(key),
        }
    }

    /// Sorts the three lists, and empties them into `each` in key order.
    pub fn drain_sorted(&mut self, mut each: impl FnMut(SourceKey)) {
        sort_u64(&mut self.v4, &mut self.scratch);
        for v4 in self.v4.drain(..) {
            each(SourceKey::of_net(Cidr::from_sort_key((
                false,
                u128::from(v4 >> 8),
                v4 as u8,
            ))));
        }
        self.v6.sort_unstable();
        for (bits, prefix) in self.v6.drain(..) {
            each(SourceKey::of_net(Cidr::from_sort_key((true, bits, prefix))));
        }
        self.names.sort_unstable();
        for key in self.names.drain(..) {
            each(key);
        }
    }
}

/// Sorts `v` ascending: an LSD radix sort by bytes, skipping the bytes every value shares
/// (an IPv4 key varies in four or five of its eight). A settle sorts every key folded in
/// the second before, thousands a second, and `sort_unstable` took ~300 instructions a key.
pub(crate) fn sort_u64(v: &mut Vec<u64>, scratch: &mut Vec<u64>) {
    if v.len() < 128 {
        v.sort_unstable();
        return;
    }
    let (mut any, mut all) = (0u64, u64::MAX);
    for &x in v.iter() {
        any |= x;
        all &= x;
    }
    let varying = any ^ all;
    scratch.clear();
    scratch.resize(v.len(), 0);
    for shift in (0..64).step_by(8) {
        if (varying >> shift) & 0xff == 0 {
            continue;
        }
        let mut starts = [0usize; 256];
        for &x in v.iter() {
            if let Some(c) = starts.get_mut(((x >> shift) & 0xff) as usize) {
                *c += 1;
            }
        }
        let mut sum = 0;
        for c in starts.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &x in v.iter() {
            if let Some(c) = starts.get_mut(((x >> shift) & 0xff) as usize) {
                if let Some(slot) = scratch.get_mut(*c) {
                    *slot = x;
                }
                *c += 1;
            }
        }
        std::mem::swap(v, scratch);
    }
}

/// A per-book random seed for the maps' hasher.
#[derive(Clone)]
pub(crate) struct Seeded {
    seed: u64,
    multiplier: u64,
}

impl Seeded {
    pub fn new() -> Seeded {
        let random = RandomState::new();
        Seeded {
            seed: random.hash_one(0x7069_636b_6574_u64),
            // Odd, so that the multiply loses no bit.
            multiplier: random.hash_one(0x7365_6e73_6f72_u64) | 1,
        }
    }
}

impl std::fmt::Debug for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seeded")
    }
}

impl BuildHasher for Seeded {
    type Hasher = Fold;

    fn build_hasher(&self) -> Fold {
        Fold {
            state: self.seed,
            multiplier: self.multiplier,
        }
    }
}

/// The hasher of [`Seeded`]: each word is folded in with one 64x64->128 multiply.
pub(crate) struct Fold {
    state: u64,
    multiplier: u64,
}

fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

impl Fold {
    fn add(&mut self, word: u64) {
        self.state = folded_multiply(self.state ^ word, self.multiplier);
    }
}

impl Hasher for Fold {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (to, from) in word.iter_mut().zip(chunk) {
                *to = *from;
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        folded_multiply(self.state, 0x9e37_79b9_7f4a_7c15 ^ self.multiplier).rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_agrees_with_sort_unstable() {
        let mut scratch = Vec::new();
        for (n, spread) in [
            (0usize, 1u64),
            (5, 7),
            (127, 1 << 40),
            (128, 3),
            (5000, 1 << 40),
            (3000, u64::MAX),
        ] {
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            let mut v: Vec<u64> = (0..n)
                .map(|_| {
                    x = crate::distinct::mix64(x);
                    (x % spread.max(1)) << 8 | 32
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_u64(&mut v, &mut scratch);
            assert_eq!(v, want, "n {n} spread {spread}");
        }
    }
}
