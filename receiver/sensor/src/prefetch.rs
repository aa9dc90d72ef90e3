//! Prefetch hints for encoding candidates the book evicts. An evicted candidate is the least
//! recently active one, so none of its pieces is in the cache, and the encoder walks them
//! (the box, a dozen tables, up to ten evidence lines) one pointer after another: a cache
//! miss each. The receiver encodes evictions in a run (the book evicts a sixteenth of
//! `max_active` at a time) and asks for the pieces of the candidate a few places ahead
//! ([`Candidate::prefetch_pieces`](crate::Candidate::prefetch_pieces)), so that its misses
//! overlap the encoding in between. A hint never faults and changes no result.

/// Asks the CPU to bring the cache line holding `p` into its caches.
#[inline(always)]
pub(crate) fn line<T: ?Sized>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of x86_64's baseline, and a prefetch is a hint that never
        // faults, whatever the address: `p` is not dereferenced.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// [`line`] for every cache line of `items` (at most `MAX_LINES` of them).
#[inline]
pub(crate) fn all<T>(items: &[T]) {
    const MAX_LINES: usize = 64;
    let start = items.as_ptr().cast::<u8>();
    let len = std::mem::size_of_val(items).min(MAX_LINES * 64);
    let mut offset = 0;
    while offset < len {
        line(start.wrapping_add(offset));
        offset += 64;
    }
}

/// [`line`] for every cache line of `value`.
#[inline]
pub(crate) fn value<T>(value: &T) {
    all(std::slice::from_ref(value));
}
