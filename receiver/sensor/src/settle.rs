//! Settling a candidate: after events are folded in, decide its noise volumes, class, score
//! and automatic state changes, and say what downstream tools must hear. Kept apart from
//! `candidate.rs` so that the candidate knows nothing of the change stream.

use crate::candidate::{Candidate, Class, Limits, SEEN_ATTEMPTS, SEEN_SCAN, SEEN_SWEEP, to_u32};
use crate::watch::Change;

impl Candidate {
    /// Takes the decisions for everything folded so far: noise volumes, window findings,
    /// class, score, automatic state changes. Appends what downstream tools must hear.
    pub(crate) fn evaluate(&mut self, limits: &Limits, at: i64, changes: &mut Vec<Change>) {
        for tally in &mut self.noise {
            if tally.over_volume {
                continue;
            }
            let (window, volume) = limits
                .noise
                .get(usize::from(tally.rule))
                .copied()
                .unwrap_or((i64::MAX, u32::MAX));
            let current = self.last_seen.div_euclid(window);
            if tally.windows.sum_since(current - 1) > u64::from(volume) {
                tally.over_volume = true;
            }
        }
        self.prune_signatures();

        if let Some(t) = self.last_signal {
            let ports = self
                .recent_ports
                .count_since(t.saturating_sub(limits.scan_window));
            let sweep_ports = self
                .recent_ports
                .count_since(t.saturating_sub(limits.sweep_window));
            let hosts = self
                .recent_hosts
                .count_since(t.saturating_sub(limits.sweep_window));
            let failures = self
                .failures
                .count_since(t.saturating_sub(limits.attempts_window));
            self.peak_ports = self.peak_ports.max(to_u32(ports));
            self.peak_hosts = self.peak_hosts.max(to_u32(hosts));
            self.peak_failures = self.peak_failures.max(to_u32(failures));
            if ports >= limits.scan_ports {
                self.seen |= SEEN_SCAN;
            }
            if hosts >= limits.sweep_hosts && sweep_ports <= limits.sweep_max_ports {
                self.seen |= SEEN_SWEEP;
            }
            if failures >= limits.attempts_failures {
                self.seen |= SEEN_ATTEMPTS;
            }
        }

        let class = self.classify(limits);
        let score = self.compute_score();
        if !self.published {
            if class != Class::Noise {
                self.published = true;
                self.class = class;
                self.score = score;
                changes.push(Change::Created {
                    key: self.key,
                    class,
                    score,
                    at,
                });
            } else {
                self.score = score;
            }
            return;
        }
        if class != self.class {
            changes.push(Change::ClassChanged {
                key: self.key,
                from: self.class,
                to: class,
                at,
            });
            self.class = class;
        }
        if let Some(step) = limits
            .score_steps
            .iter()
            .rev()
            .find(|s| self.score < **s && score >= **s)
        {
            changes.push(Change::ScoreCrossed {
                key: self.key,
                step: *step,
                score,
                at,
            });
        }
        self.score = score;
        self.follow_activity(changes);
    }
}
