//! A worker that stops polling: what the appliance does while it is gone.
//!
//! Each worker holds a lease on its queues for the length of a poll round
//! ([`WorkerCounters::lease`]: `IDLE` → `IN_ROUND` → `IDLE`). When a worker has not polled for
//! the profile's `stall_ms` (`[faults]`), the control thread does what the profile says:
//! - `on_stall = "open"`: it takes the lease (`IDLE` → `TAKEN`, possible only between rounds —
//!   a worker descheduled or blocked outside its judging) and forwards the worker's queues itself,
//!   frame for frame, without inspection (counted `bypassed`), until the worker comes back (it
//!   finds the lease taken, says it is alive and waits); a worker stuck inside a round cannot be
//!   relieved in software — that takes a bypass NIC (docs/operations.md);
//! - `on_stall = "closed"`: it sets the links of every paired port down, so that the switches on
//!   both sides see the cable pulled and fail over, and up again when the worker polls again.
//!
//! Either way health and metrics name the worker and its lcore within `stall_ms` plus a tick.
use crate::shared::Task;
use crate::stats::{bump, WorkerCounters};
use antidote_dpdk::{Burst, Port};
use serde::Deserialize;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::Arc;

/// The worker is between rounds: its queues are free to take.
pub const IDLE: u32 = 0;
/// The worker is in a round: it owns its queues.
pub const IN_ROUND: u32 = 1;
/// The control thread forwards the worker's queues (fail-open).
pub const TAKEN: u32 = 2;

/// A profile's `[faults]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultSpec {
    /// A worker that has not polled for this long is stalled.
    pub stall_ms: u64,
    pub on_stall: OnStall,
}

impl Default for FaultSpec {
    fn default() -> Self {
        FaultSpec { stall_ms: 500, on_stall: OnStall::Open }
    }
}

/// What the appliance does while a worker is stalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnStall {
    /// Keep forwarding the worker's traffic, uninspected.
    Open,
    /// Stop forwarding: the pairs' links go down.
    Closed,
}

/// The worker's side: takes the lease for a round; false when the control thread holds it (the
/// worker says it is alive, and polls nothing).
#[inline(always)]
pub fn begin_round(c: &WorkerCounters, now_ms: u64) -> bool {
    if c.lease.compare_exchange(IDLE, IN_ROUND, Acquire, Relaxed).is_ok() {
        return true;
    }
    c.alive_ms.store(now_ms, Relaxed);
    false
}

/// The worker's side: the round is over.
#[inline(always)]
pub fn end_round(c: &WorkerCounters) {
    c.lease.store(IDLE, Release);
}

use crate::links::set_link;

/// A worker as the control thread watches it.
struct Watched {
    counters: Arc<WorkerCounters>,
    tasks: Vec<Task>,
    lcore: u32,
    /// Stalled since (run-clock ms), and whether its queues are taken or the links down.
    stalled: Option<u64>,
    taken: bool,
    /// Said once: stalled inside a round, cannot be taken.
    stuck_said: bool,
    /// Handed back: not judged stalled again before this (run-clock ms), so that its first
    /// rounds can show.
    grace_until: u64,
}

/// The control thread's watch over the workers.
pub struct StallWatch {
    spec: FaultSpec,
    workers: Vec<Watched>,
    /// The paired ports (their links go down when closed), with the kernel interface of those
    /// over `net_af_packet` (its driver cannot set a link down: the interface is set down).
    ports: Vec<(Port, Option<String>)>,
    links_down: bool,
    burst: Box<Burst>,
}

impl StallWatch {
    pub fn new(spec: FaultSpec, workers: Vec<(Arc<WorkerCounters>, Vec<Task>, u32)>, ports: Vec<(Port, Option<String>)>) -> StallWatch {
        StallWatch {
            spec,
            workers: workers
                .into_iter()
                .map(|(counters, tasks, lcore)| Watched { counters, tasks, lcore, stalled: None, taken: false, stuck_said: false, grace_until: 0 })
                .collect(),
            ports,
            links_down: false,
            burst: Box::new(Burst::new()),
        }
    }

    /// Whether the control thread is forwarding a worker's queues (then it polls instead of
    /// sleeping).
    pub fn forwarding(&self) -> bool {
        self.workers.iter().any(|w| w.taken)
    }

    /// Looks at every worker at run-clock `now` (ms): a stall begins or ends; `say` reports it.
    pub fn look(&mut self, now: u64, say: &mut dyn FnMut(String)) {
        let mut any_stalled = false;
        for (i, w) in self.workers.iter_mut().enumerate() {
            let last = w.counters.last_poll_ms.load(Relaxed);
            if w.taken {
                // Back: the worker found its lease taken within the last tick.
                if now.saturating_sub(w.counters.alive_ms.load(Relaxed)) < 50 {
                    w.counters.lease.store(IDLE, Release);
                    w.taken = false;
                    w.stalled = None;
                    w.grace_until = now + self.spec.stall_ms;
                    say(format!("worker {i} (lcore {}) is back: it judges its queues again", w.lcore));
                } else {
                    any_stalled = true;
                }
                continue;
            }
            if last == 0 || now < w.grace_until || now.saturating_sub(last) < self.spec.stall_ms {
                if w.stalled.take().is_some() {
                    say(format!("worker {i} (lcore {}) polls again", w.lcore));
                }
                w.stuck_said = false;
                continue;
            }
            any_stalled = true;
            if w.stalled.is_none() {
                w.stalled = Some(last);
                say(format!(
                    "worker {i} (lcore {}) has not polled for {} ms: {}",
                    w.lcore,
                    now - last,
                    match self.spec.on_stall {
                        OnStall::Open => "its queues are forwarded without inspection (on_stall = \"open\")",
                        OnStall::Closed => "the pairs' links go down (on_stall = \"closed\")",
                    }
                ));
            }
            if self.spec.on_stall == OnStall::Open {
                match w.counters.lease.compare_exchange(IDLE, TAKEN, Acquire, Relaxed) {
                    Ok(_) => {
                        w.counters.alive_ms.store(0, Relaxed);
                        w.taken = true;
                    }
                    Err(_) if !w.stuck_said => {
                        w.stuck_said = true;
                        say(format!(
                            "worker {i} (lcore {}) is stuck inside a round: its queues cannot be taken over safely; only a bypass NIC keeps this link up",
                            w.lcore
                        ));
                    }
                    Err(_) => {}
                }
            }
        }
        if self.spec.on_stall == OnStall::Closed && any_stalled != self.links_down {
            self.links_down = any_stalled;
            for (p, iface) in &self.ports {
                if let Err(e) = set_link(*p, iface.as_deref(), !any_stalled) {
                    say(format!("port {}: {e}", p.name()));
                }
            }
        }
    }

    /// Forwards one burst of every taken worker's queues, uninspected, as the worker would have
    /// (its counters: rx, tx, tx-full; `bypassed`). Returns the frames moved.
    pub fn forward(&mut self) -> usize {
        let mut moved = 0;
        for w in self.workers.iter().filter(|w| w.taken) {
            let c = &*w.counters;
            for t in &w.tasks {
                let n = t.rx_port.rx_burst(t.rx_queue, &mut self.burst);
                if n == 0 {
                    continue;
                }
                moved += n;
                let pc = &c.ports[t.rx_index];
                bump(&pc.rx, n as u64);
                bump(&pc.rx_bytes, self.burst.as_slice().iter().map(|m| m.pkt_len() as u64).sum());
                bump(&c.actions.bypassed, n as u64);
                let sent = t.tx_port.tx_burst(t.tx_queue, &mut self.burst);
                bump(&pc.tx, sent as u64);
                let left = self.burst.clear();
                if left > 0 {
                    bump(&pc.tx_full, left as u64);
                }
            }
        }
        moved
    }

    /// At the end of the run: the queues go back to their workers, the links up.
    pub fn release(&mut self) {
        for w in self.workers.iter_mut().filter(|w| w.taken) {
            w.counters.lease.store(IDLE, Release);
            w.taken = false;
        }
        if self.links_down {
            self.links_down = false;
            for (p, iface) in &self.ports {
                let _ = set_link(*p, iface.as_deref(), true);
            }
        }
    }
}
