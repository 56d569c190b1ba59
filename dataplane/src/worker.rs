//! The poll-mode worker: one per lcore. Per round it loads the policy once, then for each RX
//! queue it owns: receives a burst of up to 32 frames, has it judged ([`crate::judge`]: the
//! header triage, then [`crate::act`] for the frames a rule may want) — forward out of the peer
//! port, drop, copy to the mirror port, answer an NBT-NS query with a negative response out of
//! the ingress port — then sends each burst on its own TX queues. What TX does not take is
//! freed and counted. No allocation, lock or syscall per frame; counters are the worker's own.
use crate::act::Outputs;
use crate::judge::BurstBufs;
use crate::phases::Phases;
use crate::policy::LoadedPolicy;
use crate::shared::{Shared, Task};
use crate::stats::{bump, WorkerCounters};
use antidote_dpdk::Mempool;
use arc_swap::cache::Cache;
use arc_swap::ArcSwapOption;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

pub struct Worker {
    tasks: Vec<Task>,
    counters: Arc<WorkerCounters>,
    shared: Arc<Shared>,
    /// The running policy as this worker last saw it: checking that it is still current is one
    /// relaxed load of the slot's pointer (a full arc-swap load and its release cost ~0.5 ns
    /// per frame at full rate); a swap is picked up in the next poll round.
    policy: Cache<SlotOf, Option<Arc<LoadedPolicy>>>,
    pool: Arc<Mempool>,
    tx_queue: u16,
    b: BurstBufs,
    /// Poll rounds so far, and the clock as last read (ms).
    round: u64,
    now: u64,
    /// Frames received since the clock was read.
    since_clock: usize,
    /// In a replay: the capture's time ([`Shared::capture_time`]).
    capture: crate::clock::CaptureClock,
    /// When the alert folds' ended windows are next handed over (ms).
    next_fold_check: u64,
}

/// The policy slot of [`Shared`], as [`Cache`] wants it.
struct SlotOf(Arc<Shared>);

impl Deref for SlotOf {
    type Target = ArcSwapOption<LoadedPolicy>;
    fn deref(&self) -> &Self::Target {
        &self.0.policy.current
    }
}

impl Worker {
    pub fn new(tasks: Vec<Task>, counters: Arc<WorkerCounters>, shared: Arc<Shared>, pool: Arc<Mempool>, lcore: u16, tx_queue: u16) -> Worker {
        let (fold_ms, floods) = (shared.alert_fold_ms, shared.floods);
        let b = BurstBufs::new(Outputs::new(lcore, tx_queue as usize, fold_ms, floods), &tasks, shared.canaries.as_deref());
        Worker {
            tasks,
            counters,
            policy: Cache::new(SlotOf(shared.clone())),
            shared,
            pool,
            tx_queue,
            round: 0,
            now: 0,
            since_clock: 0,
            capture: crate::clock::CaptureClock::default(),
            next_fold_check: 0,
            b,
        }
    }

    pub fn counters(&self) -> &Arc<WorkerCounters> {
        &self.counters
    }

    /// Polls every owned queue once; returns the frames received.
    pub fn poll_once(&mut self) -> usize {
        let start = Phases::now();
        // The policy and the clock are read once per round, not per frame.
        let guard = self.policy.load();
        // The clock only every 64th round or 2048th frame (times are kept in milliseconds, and
        // 2048 frames take ~50 µs at full rate): reading it every round cost ~1 ns per frame,
        // every 16th round still ~0.1.
        let capture_time = self.shared.capture_time;
        let read = self.round & 63 == 0 || self.since_clock >= 2048 || capture_time.is_some();
        if read {
            self.since_clock = 0;
            self.now = self.shared.clock.now_ms();
        }
        // The worker's queues are its own for the round, unless the control thread took them
        // while the worker was stalled (`crate::stall`): then it polls nothing until they are
        // handed back.
        if !crate::stall::begin_round(&self.counters, self.now) {
            self.round = self.round.wrapping_add(1);
            return 0;
        }
        // (A replay judges by the capture's time, and folds its alerts by it.)
        let mut now = if capture_time.is_some() { self.capture.idle(self.now) } else { self.now };
        if read && now >= self.next_fold_check {
            self.next_fold_check = now + 10;
            self.b.out.folds.expire(&self.shared.alerts, self.b.out.worker, now);
        }
        self.round = self.round.wrapping_add(1);
        let mut total = 0;
        for ti in 0..self.tasks.len() {
            let t = &self.tasks[ti];
            // (A replay reads its capture a frame at a time: each is judged at its own time.)
            let n = match capture_time {
                None => t.rx.rx_burst(&mut self.b.rx),
                Some(_) => t.rx_port.rx_burst_up_to(t.rx_queue, &mut self.b.rx, 1),
            };
            if n == 0 {
                continue;
            }
            if let Some(ts) = capture_time.and_then(|c| self.b.rx.as_slice().first().and_then(|m| c.of(m))) {
                now = self.capture.frame(ts, self.now);
                if let Some((t0, r0)) = self.capture.origin() {
                    // Alerts carry the capture's time.
                    self.shared.clock.set_capture_origin(t0 / 1000, r0);
                }
                // What was due before this frame's time is settled before it is judged, as it
                // was live.
                if !self.b.out.hold.is_empty() {
                    settle_held(&mut self.b.out, &self.tasks, &self.counters, &self.shared, now);
                }
            }
            total += n;
            let c = &*self.counters;
            let pc = &c.ports[t.rx_index];
            bump(&pc.rx, n as u64);
            match guard.as_deref() {
                // No policy: a plain bridge.
                None => {
                    let bytes: usize = self.b.rx.as_slice().iter().map(|m| m.pkt_len()).sum();
                    bump(&pc.rx_bytes, bytes as u64);
                    std::mem::swap(&mut self.b.rx, &mut self.b.out.fwd);
                }
                Some(policy) => self.b.judge(ti, t, policy, now, c, &self.shared, &self.pool),
            }
            let sent = t.tx.tx_burst(&mut self.b.out.fwd);
            bump(&pc.tx, sent as u64);
            let left = self.b.out.fwd.clear();
            if left > 0 {
                bump(&pc.tx_full, left as u64);
            }
            if !self.b.out.inject.is_empty() {
                t.rx_port.tx_burst(t.tx_queue, &mut self.b.out.inject);
                let lost = self.b.out.inject.clear();
                if lost > 0 {
                    bump(&c.actions.inject_failed, lost as u64);
                }
            }
            if !self.b.out.mirror.is_empty() {
                if let Some(m) = self.shared.mirror {
                    m.tx_burst(self.tx_queue, &mut self.b.out.mirror);
                }
                let lost = self.b.out.mirror.clear();
                if lost > 0 {
                    bump(&c.actions.mirror_failed, lost as u64);
                }
            }
        }
        // Held answers: dropped once their probe is answered, released at their deadline.
        if !self.b.out.hold.is_empty() {
            settle_held(&mut self.b.out, &self.tasks, &self.counters, &self.shared, now);
        }
        // The canaries the control side built: worker 0 sends them, on its own TX queues — looked
        // for when the clock is read (every 64th round at most, ~50 µs at full rate), not every
        // round: the queue's lines, which the control thread writes, miss L1 every burst.
        if read && self.b.out.worker == 0 {
            if let Some(c) = &self.shared.canaries {
                if !c.outbox.is_empty() {
                    send_canaries(&self.tasks, c, &self.pool, self.tx_queue);
                }
            }
        }
        let c = &*self.counters;
        bump(&c.polls, 1);
        c.last_poll_ms.store(self.now, Relaxed);
        crate::stall::end_round(c);
        if let Some(p) = guard.as_deref() {
            if c.policy_version.load(Relaxed) != p.version {
                c.policy_version.store(p.version, Relaxed);
            }
        }
        self.since_clock += total;
        self.b.phases.poll(start, total);
        total
    }

    /// Polls until `stop` is set, then hands over the alert repeats it still holds.
    pub fn run(mut self, stop: Arc<AtomicBool>) -> i32 {
        // Fault injection for the tests (debug builds only): `ANTIDOTE_TEST_STALL=AFTER_MS:FOR_MS`
        // makes worker 0 stop polling once, between two rounds, as a descheduled lcore would.
        let mut stall = if cfg!(debug_assertions) && self.b.out.worker == 0 {
            std::env::var("ANTIDOTE_TEST_STALL").ok().and_then(|v| {
                let (a, f) = v.split_once(':')?;
                Some((a.parse::<u64>().ok()?, f.parse::<u64>().ok()?))
            })
        } else {
            None
        };
        while !stop.load(Relaxed) {
            self.poll_once();
            if let Some((after, ms)) = stall {
                if self.shared.clock.now_ms() >= after {
                    stall = None;
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
            }
        }
        // The queues are its own again before it settles what it holds (the control thread
        // hands back what it took once it stops).
        while !crate::stall::begin_round(&self.counters, self.shared.clock.now_ms()) {
            std::hint::spin_loop();
        }
        self.finish();
        0
    }

    /// Hands over the alert repeats still folded (the alert thread is still draining: up to
    /// half a second for room in the lane; what finds none is counted as dropped).
    pub fn finish(&mut self) {
        if let Some(line) = self.b.phases.report(self.b.out.lcore) {
            eprintln!("{line}");
        }
        // Answers still held are settled as their deadlines would have (released, or dropped if
        // their probe was answered): every frame received is accounted for.
        if !self.b.out.hold.is_empty() {
            let real = self.shared.clock.now_ms();
            let now = if self.shared.capture_time.is_some() { self.capture.idle(real) } else { real };
            self.b.out.hold.expire_all();
            settle_held(&mut self.b.out, &self.tasks, &self.counters, &self.shared, now);
        }
        self.b.out.hold.clear();
        let lost = self.b.out.folds.flush(&self.shared.alerts, self.b.out.worker, std::time::Duration::from_millis(500));
        if lost > 0 {
            self.shared.alerts.count_dropped(self.b.out.worker, lost);
        }
    }
}

/// Settles the held answers due (at most once per millisecond): released ones leave by their
/// task's TX port, on the task's queue.
#[inline(never)]
fn settle_held(out: &mut Outputs, tasks: &[Task], c: &WorkerCounters, shared: &Shared, now: u64) {
    let s = out.hold.settle(
        &shared.network,
        now,
        &mut out.scratch,
        |ti, m| {
            let Some(t) = tasks.get(ti as usize) else { return };
            let mut b = antidote_dpdk::Burst::new();
            let _ = b.push(m);
            let sent = t.tx_port.tx_burst(t.tx_queue, &mut b);
            bump(&c.ports[t.rx_index].tx, sent as u64);
            let lost = b.clear() as u64;
            if lost > 0 {
                bump(&c.ports[t.rx_index].tx_full, lost);
            }
        },
        |ti| {
            // A held answer dropped: not forwarded, counted with the port's drops.
            if let Some(t) = tasks.get(ti as usize) {
                bump(&c.ports[t.rx_index].dropped, 1);
            }
        },
    );
    if s.released + s.dropped > 0 {
        bump(&c.actions.hold_released, s.released);
        bump(&c.actions.hold_dropped, s.dropped);
        bump(&c.actions.dropped, s.dropped);
    }
}

/// Sends what the control side put in the canary outbox, each frame out of its port (a task's
/// RX port) on TX queue `tx_queue`; what cannot be sent is counted.
#[inline(never)]
fn send_canaries(tasks: &[Task], c: &crate::canary::Canaries, pool: &Mempool, tx_queue: u16) {
    for _ in 0..16 {
        let Some(f) = c.outbox.pop() else { break };
        let port = tasks.iter().find(|t| t.rx_index == f.port as usize).map(|t| t.rx_port);
        let mbuf = antidote_dpdk::Mbuf::alloc(pool).and_then(|mut mb| {
            mb.append(f.len)?.copy_from_slice(&f.data[..f.len as usize]);
            Some(mb)
        });
        let sent = match (port, mbuf) {
            (Some(p), Some(mb)) => {
                let mut b = antidote_dpdk::Burst::new();
                let _ = b.push(mb);
                let n = p.tx_burst(tx_queue, &mut b);
                b.clear();
                n == 1
            }
            _ => false,
        };
        if sent {
            crate::canary::Canaries::count(&c.sent, f.port as usize, f.vlan, f.proto as usize);
        } else {
            c.failed.fetch_add(1, Relaxed);
        }
    }
}
