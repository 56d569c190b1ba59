//! Per-lcore counters. Each worker owns one [`WorkerCounters`] and is its only writer (plain
//! relaxed load + store, no locked instruction, no shared cache line); the control thread reads
//! them all and sums. Rule hits are kept the same way, per policy version ([`RuleHits`]).
use crate::profile::MAX_PORTS;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of one ingress port, kept by one worker.
#[derive(Default)]
pub struct PortCounters {
    /// Frames received on this port.
    pub rx: AtomicU64,
    pub rx_bytes: AtomicU64,
    /// Frames forwarded out of the peer port.
    pub tx: AtomicU64,
    /// Frames freed because the peer's TX queue was full.
    pub tx_full: AtomicU64,
    /// Frames the policy dropped.
    pub dropped: AtomicU64,
}

/// What the policy did, per worker.
#[derive(Default)]
pub struct ActionCounters {
    pub dropped: AtomicU64,
    pub quarantined: AtomicU64,
    pub rate_limited: AtomicU64,
    pub mirrored: AtomicU64,
    pub mirror_failed: AtomicU64,
    pub injected: AtomicU64,
    pub inject_failed: AtomicU64,
    pub alerts: AtomicU64,
    pub malformed: AtomicU64,
    /// Frames the network was not learned from because the worker's learning budget for the
    /// millisecond was spent (a flood of new ARP senders, registrations, probes or DHCP).
    pub learn_deferred: AtomicU64,
    /// Answers held by `verify` while their sender was probed ([`crate::hold`]), and what
    /// became of them: released at the deadline, dropped (the probe was answered), or the
    /// rule's fallback applied (store full, no canary identity, probe not built).
    pub held: AtomicU64,
    pub hold_released: AtomicU64,
    pub hold_dropped: AtomicU64,
    pub hold_fallback: AtomicU64,
    /// Probes sent.
    pub probes: AtomicU64,
    /// Name-resolution answers over the worker's budget ([`crate::flood`]): not judged, dropped
    /// (counted with the port's drops too) or passed as the profile says.
    pub over_budget: AtomicU64,
    /// Frames to or from a learned poisoner over the worker's follow-on budget
    /// ([`crate::flood::FrameBudget`]): dropped (or passed) unjudged.
    pub follow_on_over_budget: AtomicU64,
    /// Frames for a canary identity over the worker's budget: consumed unanswered, unjudged.
    pub canary_over_budget: AtomicU64,
    /// Frames the control thread forwarded uninspected for a stalled worker
    /// ([`crate::stall`], `on_stall = "open"`).
    pub bypassed: AtomicU64,
}

/// One worker's counters, aligned to a cache line so workers never share one.
#[repr(align(64))]
pub struct WorkerCounters {
    pub ports: [PortCounters; MAX_PORTS],
    pub actions: ActionCounters,
    /// Poll rounds (one round polls every queue the worker owns once).
    pub polls: AtomicU64,
    /// Milliseconds (run clock) of the last poll round, for liveness.
    pub last_poll_ms: AtomicU64,
    /// The policy version the worker used in its last round.
    pub policy_version: AtomicU64,
    /// Who owns the worker's queues now ([`crate::stall`]: between rounds, in a round, taken
    /// by the control thread).
    pub lease: std::sync::atomic::AtomicU32,
    /// When the worker last found its lease taken (run-clock ms): it is back.
    pub alive_ms: AtomicU64,
}

impl Default for WorkerCounters {
    fn default() -> Self {
        WorkerCounters {
            ports: Default::default(),
            actions: Default::default(),
            polls: AtomicU64::new(0),
            last_poll_ms: AtomicU64::new(0),
            policy_version: AtomicU64::new(0),
            lease: std::sync::atomic::AtomicU32::new(crate::stall::IDLE),
            alive_ms: AtomicU64::new(0),
        }
    }
}

/// Adds to a counter that only the calling worker writes.
#[inline(always)]
pub fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
}

/// Totals for one port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortTotals {
    pub rx: u64,
    pub rx_bytes: u64,
    pub tx: u64,
    pub tx_full: u64,
    pub dropped: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActionTotals {
    pub dropped: u64,
    pub quarantined: u64,
    pub rate_limited: u64,
    pub mirrored: u64,
    pub mirror_failed: u64,
    pub injected: u64,
    pub inject_failed: u64,
    pub alerts: u64,
    pub malformed: u64,
    pub learn_deferred: u64,
    pub held: u64,
    pub hold_released: u64,
    pub hold_dropped: u64,
    pub hold_fallback: u64,
    pub probes: u64,
    pub over_budget: u64,
    pub follow_on_over_budget: u64,
    pub canary_over_budget: u64,
    pub bypassed: u64,
}

/// A summed reading of all workers' counters.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub ports: Vec<PortTotals>,
    pub actions: ActionTotals,
    /// The current policy's rules and their hits (`PolicySlot::rule_hits`; empty unless given
    /// with [`Snapshot::with_rules`]).
    pub rule_hits: Vec<(String, u64)>,
    pub polls: u64,
}

impl Snapshot {
    pub fn take(workers: &[std::sync::Arc<WorkerCounters>], nports: usize) -> Snapshot {
        let mut s = Snapshot { ports: vec![PortTotals::default(); nports], ..Default::default() };
        for w in workers {
            for (t, c) in s.ports.iter_mut().zip(&w.ports) {
                t.rx += c.rx.load(Relaxed);
                t.rx_bytes += c.rx_bytes.load(Relaxed);
                t.tx += c.tx.load(Relaxed);
                t.tx_full += c.tx_full.load(Relaxed);
                t.dropped += c.dropped.load(Relaxed);
            }
            let a = &w.actions;
            s.actions.dropped += a.dropped.load(Relaxed);
            s.actions.quarantined += a.quarantined.load(Relaxed);
            s.actions.rate_limited += a.rate_limited.load(Relaxed);
            s.actions.mirrored += a.mirrored.load(Relaxed);
            s.actions.mirror_failed += a.mirror_failed.load(Relaxed);
            s.actions.injected += a.injected.load(Relaxed);
            s.actions.inject_failed += a.inject_failed.load(Relaxed);
            s.actions.alerts += a.alerts.load(Relaxed);
            s.actions.malformed += a.malformed.load(Relaxed);
            s.actions.learn_deferred += a.learn_deferred.load(Relaxed);
            s.actions.held += a.held.load(Relaxed);
            s.actions.hold_released += a.hold_released.load(Relaxed);
            s.actions.hold_dropped += a.hold_dropped.load(Relaxed);
            s.actions.hold_fallback += a.hold_fallback.load(Relaxed);
            s.actions.probes += a.probes.load(Relaxed);
            s.actions.over_budget += a.over_budget.load(Relaxed);
            s.actions.follow_on_over_budget += a.follow_on_over_budget.load(Relaxed);
            s.actions.canary_over_budget += a.canary_over_budget.load(Relaxed);
            s.actions.bypassed += a.bypassed.load(Relaxed);
            s.polls += w.polls.load(Relaxed);
        }
        s
    }

    /// The same, with the current policy's rule hits (`PolicySlot::rule_hits`).
    pub fn with_rules(mut self, rule_hits: Vec<(String, u64)>) -> Snapshot {
        self.rule_hits = rule_hits;
        self
    }

    pub fn rx(&self) -> u64 {
        self.ports.iter().map(|p| p.rx).sum()
    }
    pub fn tx(&self) -> u64 {
        self.ports.iter().map(|p| p.tx).sum()
    }
    pub fn tx_full(&self) -> u64 {
        self.ports.iter().map(|p| p.tx_full).sum()
    }
}

/// The hits of each rule of one policy version, counted per worker: each worker writes only its
/// own row (a relaxed load and store, as for its other counters), and rows are whole cache lines
/// apart. Belonging to the version, they cannot be mistaken for the hits of another policy's
/// rule at the same position after a swap.
pub struct RuleHits {
    rules: usize,
    lines_per_row: usize,
    lines: Box<[HitLine]>,
}

#[repr(align(64))]
#[derive(Default)]
struct HitLine([AtomicU64; 8]);

impl RuleHits {
    pub fn new(rules: usize, workers: usize) -> RuleHits {
        let lines_per_row = rules.div_ceil(8);
        RuleHits { rules, lines_per_row, lines: (0..lines_per_row * workers).map(|_| HitLine::default()).collect() }
    }

    /// One hit of `rule` on `worker` (the worker's own row: no other thread writes it).
    #[inline]
    pub fn bump(&self, worker: usize, rule: usize) {
        if rule < self.rules {
            if let Some(l) = self.lines.get(worker * self.lines_per_row + rule / 8) {
                bump(&l.0[rule % 8], 1);
            }
        }
    }

    /// Hits per rule, summed over the workers.
    pub fn totals(&self) -> Vec<u64> {
        let mut t = vec![0u64; self.rules];
        for row in self.lines.chunks(self.lines_per_row.max(1)) {
            for (i, n) in t.iter_mut().enumerate() {
                *n += row[i / 8].0[i % 8].load(Relaxed);
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_hit_rows_do_not_share_cache_lines() {
        let h = RuleHits::new(9, 3);
        assert_eq!(h.lines.len(), 6);
        for w in 0..3 {
            h.bump(w, 8);
        }
        assert_eq!(h.totals()[8], 3);
    }
}
