//! Evidence: the first and the latest raw lines of a candidate, owned, with the store's
//! reference to each event. Chosen under a total order (event time, then the line's bytes,
//! then the reference), so the sample is the same whichever order equal-time lines arrive in.

use std::cmp::Ordering;

use crate::prefetch::Reach;

/// The store's key of an event (`EventKey::to_bytes`: receive ns and sequence, big-endian);
/// opaque to the sensor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventRef(pub [u8; 12]);

/// One kept line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The event's own time (`@timestamp`), Unix nanoseconds.
    pub time: i64,
    /// Where the event is stored.
    pub reference: EventRef,
    /// The raw line, cut at `evidence_line_max` bytes.
    pub line: Vec<u8>,
}

impl Evidence {
    fn order(&self, time: i64, line: &[u8], reference: &EventRef) -> Ordering {
        (self.time, self.line.as_slice(), &self.reference).cmp(&(time, line, reference))
    }
}

/// The `first` smallest and `latest` largest lines under the evidence order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceSample {
    first: usize,
    latest: usize,
    /// Sorted by the evidence order: `lines[..first]` the earliest, the rest the latest.
    lines: Vec<Evidence>,
}

impl EvidenceSample {
    /// An empty sample.
    pub fn new(first: usize, latest: usize) -> EvidenceSample {
        EvidenceSample {
            first,
            latest,
            lines: Vec::new(),
        }
    }

    pub(crate) fn limits(&self) -> (usize, usize) {
        (self.first, self.latest)
    }

    /// The kept lines, earliest first (no line twice).
    pub fn lines(&self) -> &[Evidence] {
        &self.lines
    }

    /// Prefetches the table and every line, or for [`Reach::Fold`] what
    /// [`EvidenceSample::offer`] compares a line with first: the latest line and the
    /// earliest of the latest group, each with the start of its bytes (lines of one source
    /// share long prefixes, so a compare reads well into them).
    #[inline]
    pub(crate) fn prefetch(&self, reach: Reach) {
        match reach {
            Reach::Fold => {
                crate::prefetch::line(self.lines.as_ptr());
                for e in [self.lines.last(), self.lines.get(self.first)]
                    .into_iter()
                    .flatten()
                {
                    crate::prefetch::line(e);
                    crate::prefetch::line(e.line.as_ptr());
                    crate::prefetch::line(e.line.as_ptr().wrapping_add(64));
                }
            }
            Reach::Whole => {
                crate::prefetch::all(&self.lines);
                for e in &self.lines {
                    crate::prefetch::all(&e.line);
                }
            }
        }
    }

    /// Offers one line; it is copied only when kept.
    pub fn offer(&mut self, time: i64, line: &[u8], reference: EventRef) {
        let total = self.first + self.latest;
        if total == 0 {
            return;
        }
        // Live traffic offers mostly lines later than every kept one: such a line goes last,
        // and (once full) the earliest of the latest group leaves, its buffer reused.
        let newest = self
            .lines
            .last()
            .is_none_or(|e| e.order(time, line, &reference) == Ordering::Less);
        if newest && self.latest > 0 {
            if self.lines.len() < total {
                self.lines.push(Evidence {
                    time,
                    reference,
                    line: line.to_vec(),
                });
            } else if let Some(group) = self.lines.get_mut(self.first..) {
                group.rotate_left(1);
                if let Some(reused) = group.last_mut() {
                    reused.time = time;
                    reused.reference = reference;
                    reused.line.clear();
                    reused.line.extend_from_slice(line);
                }
            }
            return;
        }
        let position = |lines: &[Evidence]| {
            lines.partition_point(|e| e.order(time, line, &reference) != Ordering::Greater)
        };
        if self.lines.len() < total {
            let at = position(&self.lines);
            self.lines.insert(
                at,
                Evidence {
                    time,
                    reference,
                    line: line.to_vec(),
                },
            );
            return;
        }
        let below_first = self.first > 0
            && self
                .lines
                .get(self.first - 1)
                .is_some_and(|e| e.order(time, line, &reference) == Ordering::Greater);
        let above_latest = self.latest > 0
            && self
                .lines
                .get(self.first)
                .is_some_and(|e| e.order(time, line, &reference) == Ordering::Less);
        if !below_first && !above_latest {
            return;
        }
        // One line leaves (the one now between the two groups); its buffer takes the new line.
        let leaving = if below_first {
            self.first - 1
        } else {
            self.first
        };
        if leaving >= self.lines.len() {
            return;
        }
        let mut reused = self.lines.remove(leaving);
        reused.time = time;
        reused.reference = reference;
        reused.line.clear();
        reused.line.extend_from_slice(line);
        let at = position(&self.lines);
        self.lines.insert(at, reused);
    }

    /// Adds every line of `other`.
    pub fn merge(&mut self, other: &EvidenceSample) {
        for e in &other.lines {
            self.offer(e.time, &e.line, e.reference);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: u8) -> EventRef {
        EventRef([n; 12])
    }

    #[test]
    fn keeps_first_and_latest() {
        let mut s = EvidenceSample::new(2, 2);
        for t in [5i64, 1, 9, 3, 7, 2, 8] {
            s.offer(t, b"x", r(t as u8));
        }
        let times: Vec<i64> = s.lines().iter().map(|e| e.time).collect();
        assert_eq!(times, vec![1, 2, 8, 9]);
    }

    #[test]
    fn any_order_keeps_the_smallest_and_largest() {
        // The fast path for a line later than all kept ones must agree with a full sort.
        let offers: Vec<(i64, Vec<u8>)> = (0..40u8)
            .map(|i| (i64::from(i % 7), vec![b'a' + i % 5, i]))
            .collect();
        for (first, latest) in [(0, 3), (2, 0), (1, 1), (3, 5), (10, 40)] {
            let mut sorted = offers.clone();
            sorted.sort();
            let mut want: Vec<(i64, Vec<u8>)> = sorted.iter().take(first).cloned().collect();
            let rest = sorted.len().saturating_sub(first).min(latest);
            want.extend(sorted.iter().skip(sorted.len() - rest).cloned());
            for rotation in [0, 13, 29] {
                let mut s = EvidenceSample::new(first, latest);
                let mut order = offers.clone();
                order.rotate_left(rotation);
                if rotation == 13 {
                    order.sort();
                }
                for (t, l) in &order {
                    s.offer(*t, l, r(0));
                }
                let got: Vec<(i64, Vec<u8>)> =
                    s.lines().iter().map(|e| (e.time, e.line.clone())).collect();
                assert_eq!(
                    got, want,
                    "first {first} latest {latest} rotation {rotation}"
                );
            }
        }
    }

    #[test]
    fn equal_times_break_ties_by_line() {
        let mut a = EvidenceSample::new(1, 1);
        let mut b = EvidenceSample::new(1, 1);
        let lines: [&[u8]; 4] = [b"c", b"a", b"d", b"b"];
        for l in lines {
            a.offer(1, l, r(0));
        }
        for l in lines.iter().rev() {
            b.offer(1, l, r(0));
        }
        assert_eq!(a, b);
        assert_eq!(a.lines()[0].line, b"a");
        assert_eq!(a.lines()[1].line, b"d");
    }
}
