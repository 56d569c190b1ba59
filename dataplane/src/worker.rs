//! The poll-mode worker: one per lcore. It polls the RX queues it owns in bursts of 32 and
//! sends each burst out of the peer port on its own TX queue; what TX does not take is freed
//! and counted.
use crate::stats::{bump, WorkerCounters};
use antidote_dpdk::{Burst, Port};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

/// One direction of one port pair, on one queue.
#[derive(Clone, Copy, Debug)]
pub struct Task {
    pub rx_port: Port,
    /// Index of the RX port in the profile (selects its counters).
    pub rx_index: usize,
    pub rx_queue: u16,
    pub tx_port: Port,
    pub tx_queue: u16,
}

pub struct Worker {
    tasks: Vec<Task>,
    counters: Arc<WorkerCounters>,
    burst: Burst,
}

impl Worker {
    pub fn new(tasks: Vec<Task>, counters: Arc<WorkerCounters>) -> Worker {
        Worker { tasks, counters, burst: Burst::new() }
    }

    pub fn counters(&self) -> &Arc<WorkerCounters> {
        &self.counters
    }

    /// Polls every owned queue once; returns the frames received.
    #[inline]
    pub fn poll_once(&mut self) -> usize {
        let mut total = 0;
        let c = &*self.counters;
        for t in &self.tasks {
            let n = t.rx_port.rx_burst(t.rx_queue, &mut self.burst);
            if n == 0 {
                continue;
            }
            total += n;
            let pc = &c.ports[t.rx_index];
            let bytes: usize = self.burst.as_slice().iter().map(|m| m.pkt_len()).sum();
            bump(&pc.rx, n as u64);
            bump(&pc.rx_bytes, bytes as u64);
            let sent = t.tx_port.tx_burst(t.tx_queue, &mut self.burst);
            bump(&pc.tx, sent as u64);
            let left = self.burst.clear();
            if left > 0 {
                bump(&pc.tx_full, left as u64);
            }
        }
        bump(&c.polls, 1);
        total
    }

    /// Polls until `stop` is set.
    pub fn run(mut self, stop: Arc<AtomicBool>) -> i32 {
        while !stop.load(Relaxed) {
            self.poll_once();
            self.counters.last_poll_tsc.store(antidote_dpdk::rdtsc(), Relaxed);
        }
        0
    }
}
