//! Prefetch hints. A candidate is a box and a dozen heap pieces (tables, evidence lines), and
//! with thousands of sources in the book none of them is in a core's cache: code that walks
//! them one pointer after another waits for one miss after another. Two places ask for the
//! pieces first, so that the misses overlap:
//! - folding an event: `Candidate::observe` begins by asking for the parts of each table it
//!   will search (first, middle and last line) and for the evidence lines it compares with
//!   first (bench/README.md, session 12: about a fifth off the fold with 5,000 sources);
//! - encoding evictions: the receiver encodes an eviction run (a sixteenth of `max_active`
//!   at a time) and asks for the box of the candidate four places ahead and for its pieces
//!   two places ahead ([`Candidate::prefetch_pieces`](crate::Candidate::prefetch_pieces)).
//!
//! A hint never faults and changes no result: it is only a request to the cache. Each table
//! of a candidate has one `prefetch(Reach)`, so the two callers name the same pieces and
//! differ only in how far into each they ask.

/// How much of a piece to ask for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// What folding one event reads first: where a search of a sorted table begins, turns
    /// and ends, the newest bucket, the evidence lines an offer compares with.
    Fold,
    /// Every cache line (up to [`all`]'s bound): encoding reads all of it.
    Whole,
}

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

/// [`line`] for the first, middle and last cache lines of `items`: where a binary search or
/// a scan of a small sorted table begins, turns and ends.
#[inline]
pub(crate) fn probe<T>(items: &[T]) {
    let start = items.as_ptr().cast::<u8>();
    let len = std::mem::size_of_val(items);
    line(start);
    if len > 128 {
        line(start.wrapping_add(len / 2));
    }
    if len > 64 {
        line(start.wrapping_add(len - 1));
    }
}

/// [`all`] or [`probe`] of a sorted table, by `reach`.
#[inline]
pub(crate) fn table<T>(items: &[T], reach: Reach) {
    match reach {
        Reach::Fold => probe(items),
        Reach::Whole => all(items),
    }
}
