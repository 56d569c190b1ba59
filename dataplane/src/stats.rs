//! Per-lcore counters. Each worker owns one [`WorkerCounters`] and is its only writer (plain
//! relaxed load + store, no locked instruction, no shared cache line); the control thread reads
//! them all and sums.
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
}

/// One worker's counters, aligned to a cache line so workers never share one.
#[repr(align(64))]
#[derive(Default)]
pub struct WorkerCounters {
    pub ports: [PortCounters; MAX_PORTS],
    /// Poll rounds (one round polls every queue the worker owns once).
    pub polls: AtomicU64,
    /// TSC of the last poll round (for liveness).
    pub last_poll_tsc: AtomicU64,
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
}

/// A summed reading of all workers' counters.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub ports: Vec<PortTotals>,
    pub polls: u64,
}

impl Snapshot {
    pub fn take(workers: &[std::sync::Arc<WorkerCounters>], nports: usize) -> Snapshot {
        let mut s = Snapshot { ports: vec![PortTotals::default(); nports], polls: 0 };
        for w in workers {
            for (t, c) in s.ports.iter_mut().zip(&w.ports) {
                t.rx += c.rx.load(Relaxed);
                t.rx_bytes += c.rx_bytes.load(Relaxed);
                t.tx += c.tx.load(Relaxed);
                t.tx_full += c.tx_full.load(Relaxed);
            }
            s.polls += w.polls.load(Relaxed);
        }
        s
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
