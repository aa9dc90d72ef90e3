//! Bounded counting that does not depend on arrival order: distinct values (exact up to a
//! bound, then a HyperLogLog estimate), "latest K by time" tables for the sliding windows, the
//! N latest times of a kind of event, and counts for the latest time buckets.
//!
//! Every structure here keeps a function of the *set* (or multiset) of what it was fed, never
//! of the order: unions, maxima, and "the K largest under a total order". That is what lets the
//! book promise the same state whichever order equal-time events arrive in.

use crate::prefetch::Reach;
use crate::small::Small;

/// How many distinct values a [`DistinctCounter`] keeps exactly before it switches to a sketch.
pub const EXACT_BOUND: usize = 64;

/// HyperLogLog precision: 2^8 = 256 one-byte registers, about 6.5% standard error.
const HLL_BITS: u32 = 8;
/// Number of HyperLogLog registers.
pub(crate) const HLL_REGISTERS: usize = 1 << HLL_BITS;

/// A fixed 64-bit mixer (the splitmix64 finaliser). Fixed, not seeded: sketches and hashed keys
/// are written to the store and must mean the same after a restart.
pub(crate) fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Hash of a 128-bit value (an address).
pub(crate) fn hash_u128(v: u128) -> u64 {
    mix64((v as u64) ^ mix64((v >> 64) as u64 ^ 0x9e37_79b9_7f4a_7c15))
}

/// Hash of a byte string (FNV-1a, then mixed).
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix64(h)
}

/// Distinct values: an exact sorted set up to [`EXACT_BOUND`], then a HyperLogLog sketch of
/// all values seen. Both are functions of the set of values, so arrival order never matters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistinctCounter {
    repr: Repr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Repr {
    /// Sorted, deduplicated values.
    Exact(Small<u64, 2>),
    /// HyperLogLog registers.
    Sketch(Box<[u8; HLL_REGISTERS]>),
}

impl Default for DistinctCounter {
    fn default() -> Self {
        DistinctCounter::new()
    }
}

impl DistinctCounter {
    /// An empty counter.
    pub fn new() -> DistinctCounter {
        DistinctCounter {
            repr: Repr::Exact(Small::new()),
        }
    }

    pub(crate) fn from_repr(repr: Repr) -> DistinctCounter {
        DistinctCounter { repr }
    }

    pub(crate) fn repr(&self) -> &Repr {
        &self.repr
    }

    /// Prefetches the values, or for [`Reach::Whole`] the registers too (what
    /// [`DistinctCounter::insert`] reads of a sketch depends on the value).
    #[inline]
    pub(crate) fn prefetch(&self, reach: Reach) {
        match &self.repr {
            Repr::Exact(values) => crate::prefetch::table(values, reach),
            Repr::Sketch(registers) if reach == Reach::Whole => {
                crate::prefetch::all(&registers[..])
            }
            Repr::Sketch(_) => {}
        }
    }

    /// Adds one value.
    pub fn insert(&mut self, value: u64) {
        match &mut self.repr {
            Repr::Exact(values) => {
                if let Err(at) = values.binary_search(&value) {
                    self.add_new(at, value);
                }
            }
            Repr::Sketch(registers) => sketch_add(registers, value),
        }
    }

    /// [`DistinctCounter::insert`] of a value the exact set lacks (it goes in at `at`).
    /// Out of line: most inserts find the value or update a sketch, and with this inlined
    /// every insert paid for its stack frame.
    #[inline(never)]
    fn add_new(&mut self, at: usize, value: u64) {
        let Repr::Exact(values) = &mut self.repr else {
            return;
        };
        if values.len() < EXACT_BOUND {
            values.insert(at, value);
            return;
        }
        let mut registers = Box::new([0u8; HLL_REGISTERS]);
        for v in values.iter().copied().chain(std::iter::once(value)) {
            sketch_add(&mut registers, v);
        }
        self.repr = Repr::Sketch(registers);
    }

    /// Adds every value of `other`.
    pub fn union(&mut self, other: &DistinctCounter) {
        match &other.repr {
            Repr::Exact(values) => {
                for v in values.iter() {
                    self.insert(*v);
                }
            }
            Repr::Sketch(theirs) => {
                if let Repr::Exact(values) = &self.repr {
                    let mut registers = Box::new([0u8; HLL_REGISTERS]);
                    for v in values.iter() {
                        sketch_add(&mut registers, *v);
                    }
                    self.repr = Repr::Sketch(registers);
                }
                if let Repr::Sketch(mine) = &mut self.repr {
                    for (m, t) in mine.iter_mut().zip(theirs.iter()) {
                        *m = (*m).max(*t);
                    }
                }
            }
        }
    }

    /// The number of distinct values: exact while at most [`EXACT_BOUND`], an estimate after.
    pub fn count(&self) -> u64 {
        match &self.repr {
            Repr::Exact(values) => values.len() as u64,
            Repr::Sketch(registers) => sketch_estimate(registers).max(EXACT_BOUND as u64 + 1),
        }
    }

    /// True while the count is exact.
    pub fn is_exact(&self) -> bool {
        matches!(self.repr, Repr::Exact(_))
    }

    /// The values themselves, while exact.
    pub fn exact_values(&self) -> Option<&[u64]> {
        match &self.repr {
            Repr::Exact(values) => Some(values),
            Repr::Sketch(_) => None,
        }
    }
}

fn sketch_add(registers: &mut [u8; HLL_REGISTERS], value: u64) {
    let h = mix64(value ^ 0x5bd1_e995_5bd1_e995);
    let index = (h >> (64 - HLL_BITS)) as usize;
    // The remaining bits, with a stop bit so the rank is at most 64 - HLL_BITS + 1.
    let rest = (h << HLL_BITS) | (1 << (HLL_BITS - 1));
    let rank = rest.leading_zeros() as u8 + 1;
    if let Some(r) = registers.get_mut(index) {
        *r = (*r).max(rank);
    }
}

fn sketch_estimate(registers: &[u8; HLL_REGISTERS]) -> u64 {
    let m = HLL_REGISTERS as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let mut sum = 0.0;
    let mut zeros = 0u32;
    for r in registers.iter() {
        sum += (-f64::from(*r)).exp2();
        if *r == 0 {
            zeros += 1;
        }
    }
    let raw = alpha * m * m / sum;
    let estimate = if raw <= 2.5 * m && zeros > 0 {
        m * (m / f64::from(zeros)).ln()
    } else {
        raw
    };
    estimate.round() as u64
}

/// The `cap` keys seen most recently, each with the latest time it was seen: the K largest
/// (time, key) pairs. Counting the entries newer than a bound gives the distinct keys in a
/// sliding window, exactly while fewer than `cap` fall inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecentKeys<K> {
    cap: usize,
    entries: Small<(K, i64), 1>,
}

impl<K: Ord + Copy + Default> RecentKeys<K> {
    /// An empty table keeping at most `cap` keys.
    pub fn new(cap: usize) -> RecentKeys<K> {
        RecentKeys {
            cap: cap.max(1),
            entries: Small::new(),
        }
    }

    pub(crate) fn from_parts(cap: usize, entries: Vec<(K, i64)>) -> RecentKeys<K> {
        let mut table = RecentKeys::new(cap);
        for (k, t) in entries {
            table.observe(k, t);
        }
        table
    }

    /// The bound.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// The kept (key, latest time) pairs, by key.
    pub fn entries(&self) -> &[(K, i64)] {
        &self.entries
    }

    /// Prefetches the table, or what [`RecentKeys::observe`] searches (see `prefetch.rs`).
    #[inline]
    pub(crate) fn prefetch(&self, reach: Reach) {
        crate::prefetch::table(&self.entries, reach);
    }

    /// Notes `key` seen at `time`; true when the table held it already.
    pub fn observe(&mut self, key: K, time: i64) -> bool {
        let at = match self.entries.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(at) => {
                if let Some(entry) = self.entries.get_mut(at) {
                    entry.1 = entry.1.max(time);
                }
                return true;
            }
            Err(at) => at,
        };
        if self.entries.len() < self.cap {
            self.entries.insert(at, (key, time));
            return false;
        }
        // The oldest is the least (time, key); sorted by key, that is the first entry of
        // the least time: one pass over the times, no tuple compares.
        let mut oldest = 0;
        let mut oldest_time = i64::MAX;
        for (i, (_, t)) in self.entries.iter().enumerate() {
            if *t < oldest_time {
                oldest = i;
                oldest_time = *t;
            }
        }
        let Some(&(k, t)) = self.entries.get(oldest) else {
            return false;
        };
        if (time, key) <= (t, k) {
            return false;
        }
        // The oldest leaves and the new key goes in at `at`: the entries between move by
        // one, in one shift rather than a remove and an insert.
        if oldest < at {
            if let Some(span) = self.entries.get_mut(oldest..at) {
                span.rotate_left(1);
                if let Some(last) = span.last_mut() {
                    *last = (key, time);
                }
            }
        } else if let Some(span) = self.entries.get_mut(at..=oldest) {
            span.rotate_right(1);
            if let Some(first) = span.first_mut() {
                *first = (key, time);
            }
        }
        false
    }

    /// How many kept keys were seen at or after `since`.
    pub fn count_since(&self, since: i64) -> usize {
        self.entries.iter().filter(|(_, t)| *t >= since).count()
    }
}

/// The `cap` latest times of one kind of event (a multiset: equal times count twice).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatestTimes {
    cap: usize,
    /// Sorted ascending.
    times: Small<i64, 1>,
}

impl LatestTimes {
    /// An empty list keeping at most `cap` times.
    pub fn new(cap: usize) -> LatestTimes {
        LatestTimes {
            cap: cap.max(1),
            times: Small::new(),
        }
    }

    pub(crate) fn from_parts(cap: usize, times: Vec<i64>) -> LatestTimes {
        let mut list = LatestTimes::new(cap);
        for t in times {
            list.observe(t);
        }
        list
    }

    /// The bound.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// The kept times, oldest first.
    pub fn times(&self) -> &[i64] {
        &self.times
    }

    /// Prefetches the times, or where [`LatestTimes::observe`] searches them (see
    /// `prefetch.rs`).
    #[inline]
    pub(crate) fn prefetch(&self, reach: Reach) {
        crate::prefetch::table(&self.times, reach);
    }

    /// Notes one event at `time`.
    pub fn observe(&mut self, time: i64) {
        let at = self.times.partition_point(|t| *t <= time);
        if self.times.len() < self.cap {
            self.times.insert(at, time);
        } else if at > 0 {
            self.times.insert(at, time);
            self.times.remove(0);
        }
    }

    /// How many kept times are at or after `since`.
    pub fn count_since(&self, since: i64) -> usize {
        self.times.len() - self.times.partition_point(|t| *t < since)
    }
}

/// Event counts for the `cap` latest time buckets (bucket = time / width).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketCounts {
    cap: usize,
    /// (bucket index, count), oldest bucket first.
    buckets: Small<(i64, u32), 2>,
}

impl BucketCounts {
    /// An empty table keeping at most `cap` buckets.
    pub fn new(cap: usize) -> BucketCounts {
        BucketCounts {
            cap: cap.max(1),
            buckets: Small::new(),
        }
    }

    pub(crate) fn from_parts(cap: usize, buckets: Vec<(i64, u32)>) -> BucketCounts {
        let mut table = BucketCounts::new(cap);
        for (index, count) in buckets {
            table.add(index, count);
        }
        table
    }

    /// The bound.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// (bucket index, count) pairs, oldest bucket first.
    pub fn buckets(&self) -> &[(i64, u32)] {
        &self.buckets
    }

    /// Prefetches the buckets, or only the newest, the one [`BucketCounts::add`] nearly
    /// always finds (see `prefetch.rs`).
    #[inline]
    pub(crate) fn prefetch(&self, reach: Reach) {
        match reach {
            Reach::Fold => {
                if let Some(b) = self.buckets.last() {
                    crate::prefetch::line(b);
                }
            }
            Reach::Whole => crate::prefetch::all(&self.buckets),
        }
    }

    /// Adds `count` events to bucket `index`; a bucket older than all kept ones is dropped
    /// when the table is full.
    pub fn add(&mut self, index: i64, count: u32) {
        let at = match self.buckets.binary_search_by_key(&index, |(i, _)| *i) {
            Ok(at) => {
                if let Some(b) = self.buckets.get_mut(at) {
                    b.1 = b.1.saturating_add(count);
                }
                return;
            }
            Err(at) => at,
        };
        if self.buckets.len() < self.cap {
            self.buckets.insert(at, (index, count));
        } else if at > 0 {
            self.buckets.insert(at, (index, count));
            self.buckets.remove(0);
        }
    }

    /// The sum of the counts of buckets at or after `since_index`.
    pub fn sum_since(&self, since_index: i64) -> u64 {
        self.buckets
            .iter()
            .filter(|(i, _)| *i >= since_index)
            .map(|(_, c)| u64::from(*c))
            .sum()
    }

    /// Adds every bucket of `other`.
    pub fn merge(&mut self, other: &BucketCounts) {
        for (index, count) in other.buckets.iter() {
            self.add(*index, *count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_then_estimate() {
        let mut c = DistinctCounter::new();
        for v in 0..64 {
            c.insert(v);
            c.insert(v);
        }
        assert!(c.is_exact());
        assert_eq!(c.count(), 64);
        for v in 64..10_000 {
            c.insert(v);
        }
        assert!(!c.is_exact());
        let n = c.count() as f64;
        assert!((n - 10_000.0).abs() / 10_000.0 < 0.2, "estimate {n}");
    }

    #[test]
    fn union_is_order_free() {
        let mut a = DistinctCounter::new();
        let mut b = DistinctCounter::new();
        for v in 0..100 {
            a.insert(v);
        }
        for v in (0..100).rev() {
            b.insert(v);
        }
        assert_eq!(a, b);
        let mut u = DistinctCounter::new();
        u.union(&a);
        u.union(&b);
        assert_eq!(u, a);
    }

    #[test]
    fn recent_keys_keep_latest() {
        let mut r = RecentKeys::new(3);
        for (k, t) in [(1u16, 10), (2, 20), (3, 30), (4, 40), (1, 50)] {
            r.observe(k, t);
        }
        assert_eq!(r.entries(), &[(1, 50), (3, 30), (4, 40)]);
        assert_eq!(r.count_since(35), 2);
    }

    #[test]
    fn latest_times_multiset() {
        let mut l = LatestTimes::new(3);
        for t in [5, 1, 5, 9, 2] {
            l.observe(t);
        }
        assert_eq!(l.times(), &[5, 5, 9]);
        assert_eq!(l.count_since(6), 1);
    }

    #[test]
    fn bucket_counts_keep_latest_buckets() {
        let mut b = BucketCounts::new(2);
        for i in [1, 2, 2, 3, 1] {
            b.add(i, 1);
        }
        assert_eq!(b.buckets(), &[(2, 2), (3, 1)]);
        assert_eq!(b.sum_since(3), 1);
    }
}
