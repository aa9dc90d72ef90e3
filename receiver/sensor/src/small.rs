//! `Small`: a sorted-table vector that keeps its first `N` items inline. A candidate that saw
//! one event (most of them, in a scan from many sources) then needs no allocation for its
//! port and host counters, its window tables and its activity buckets: in the scan-heavy
//! bench those were five of the ten allocations (and frees) per candidate.

use std::ops::{Deref, DerefMut};

/// Up to `N` items inline, then on the heap. Compares by contents.
#[derive(Clone, Debug)]
pub(crate) enum Small<T, const N: usize> {
    Inline(u8, [T; N]),
    Heap(Vec<T>),
}

impl<T: Copy + Default, const N: usize> Small<T, N> {
    pub fn new() -> Small<T, N> {
        Small::Inline(0, [T::default(); N])
    }

    /// Inserts `item` at `at` (at most the length), shifting the rest up.
    pub fn insert(&mut self, at: usize, item: T) {
        match self {
            Small::Inline(len, items) if usize::from(*len) < N => {
                if let Some(tail) = items.get_mut(at..=usize::from(*len)) {
                    tail.rotate_right(1);
                    if let Some(first) = tail.first_mut() {
                        *first = item;
                    }
                    *len += 1;
                }
            }
            Small::Inline(len, items) => {
                let mut heap = Vec::with_capacity((2 * N).max(4));
                heap.extend_from_slice(items.get(..usize::from(*len)).unwrap_or_default());
                if at <= heap.len() {
                    heap.insert(at, item);
                }
                *self = Small::Heap(heap);
            }
            Small::Heap(heap) => {
                if at <= heap.len() {
                    heap.insert(at, item);
                }
            }
        }
    }

    /// Removes the item at `at` (below the length), shifting the rest down.
    pub fn remove(&mut self, at: usize) {
        match self {
            Small::Inline(len, items) => {
                if let Some(tail) = items.get_mut(at..usize::from(*len)) {
                    tail.rotate_left(1);
                    *len -= 1;
                }
            }
            Small::Heap(heap) => {
                if at < heap.len() {
                    heap.remove(at);
                }
            }
        }
    }
}

impl<T, const N: usize> Deref for Small<T, N> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Small::Inline(len, items) => items.get(..usize::from(*len)).unwrap_or_default(),
            Small::Heap(heap) => heap,
        }
    }
}

impl<T, const N: usize> DerefMut for Small<T, N> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Small::Inline(len, items) => items.get_mut(..usize::from(*len)).unwrap_or_default(),
            Small::Heap(heap) => heap,
        }
    }
}

impl<T: PartialEq, const N: usize> PartialEq for Small<T, N> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq, const N: usize> Eq for Small<T, N> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_then_heap_like_a_vec() {
        let mut s: Small<u32, 2> = Small::new();
        let mut v: Vec<u32> = Vec::new();
        for (at, x) in [(0, 5), (0, 3), (1, 4), (3, 9), (2, 7)] {
            s.insert(at, x);
            v.insert(at, x);
            assert_eq!(&*s, &v[..]);
        }
        for at in [1, 0, 2, 0] {
            s.remove(at);
            v.remove(at);
            assert_eq!(&*s, &v[..]);
        }
        let mut t: Small<u32, 2> = Small::new();
        t.insert(0, v[0]);
        assert_eq!(s, t);
    }
}
