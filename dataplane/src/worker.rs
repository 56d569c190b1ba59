//! The poll-mode worker: one per lcore. Per round it loads the policy once, then for each RX
//! queue it owns: receives a burst of up to 32 frames, looks at their headers, dissects the
//! frames a rule may want and evaluates the compiled program on them, and carries out the
//! verdict — forward out of the peer port, drop, copy to
//! the mirror port, answer an NBT-NS query with a negative response out of the ingress port —
//! then sends each burst on its own TX queues. What TX does not take is freed and counted.
//! No allocation, lock or syscall per frame; counters are the worker's own.
use crate::alert::{AlertEvent, AlertFolds, AlertQueue, FRAME_BYTES};
use crate::phases::Phases;
use crate::policy::{Clock, LoadedPolicy, PolicySlot};
use crate::stats::{bump, WorkerCounters};
use antidote_dpdk::{Burst, MacAddr, Mbuf, Mempool, Port};
use antidote_policy::program::{Meta, Outcome};
use antidote_policy::schema::AddrGate;
use antidote_wire::ethernet::Mac;
use antidote_wire::{emit, Frame, Scratch};
use arc_swap::cache::Cache;
use arc_swap::ArcSwapOption;
use std::net::{IpAddr, Ipv4Addr};
use std::ops::Deref;
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
    /// The RX port is a pair's `a` side (the victims' segment).
    pub from_segment: bool,
    /// The RX port's MAC (source of injected answers to broadcast queries).
    pub rx_mac: MacAddr,
}

/// What every worker shares: the policy, the alert queue, the mempool, the clock.
pub struct Shared {
    pub policy: PolicySlot,
    pub alerts: AlertQueue,
    pub clock: Clock,
    /// Source address of injected NBT-NS answers to broadcast queries (unicast queries are
    /// answered from the server they asked).
    pub inject_from: Option<Ipv4Addr>,
    /// How long workers fold repeats of an alert ([`AlertFolds`]; 0: never).
    pub alert_fold_ms: u64,
    /// Mirror port and the TX queue base (worker w uses queue w).
    pub mirror: Option<Port>,
}

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
    b: Bufs,
    /// Poll rounds so far, and the clock as last read (ms).
    round: u64,
    now: u64,
    /// Frames received since the clock was read.
    since_clock: usize,
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

/// What a worker fills and empties every burst (apart from what it only reads, so the two can
/// be borrowed together).
struct Bufs {
    /// Boxed, like `Out::fwd`, so that handing a whole burst on is a pointer swap, not a copy
    /// of two 264-byte arrays.
    rx: Box<Burst>,
    out: Out,
    plan: Plan,
    /// Cycles per stretch of the packet path (feature `phase-cycles`; else nothing).
    phases: Phases,
}

/// What the header look skips and gates under a policy version with the live rules `live`
/// (`Program::skipped_classes`, `Program::addr_gate`, `schema::plain_skips`), kept from burst
/// to burst: they change only when a learned table fills or empties, or the policy is swapped.
#[derive(Default)]
struct Plan {
    version: u64,
    live: u64,
    classes: u32,
    /// The gated classes and the table whose filter gates them.
    gate: Option<(u32, u32)>,
    plain: u32,
}

impl Plan {
    #[inline]
    fn of(&mut self, policy: &LoadedPolicy, live: u64) -> (u32, Option<(u32, u32)>, u32) {
        if self.version != policy.version || self.live != live {
            let p = &policy.program;
            let classes = p.skipped_classes(live);
            let gate = p.addr_gate(live, classes).map(|g| (g.classes, g.table));
            let plain = antidote_policy::schema::plain_skips(|m| p.skips_with(m, live));
            *self = Plan { version: policy.version, live, classes, gate, plain };
        }
        (self.classes, self.gate, self.plain)
    }
}

/// Where judged frames go, and the slow path's working space (apart from `rx`, so a burst can
/// be drained into it).
struct Out {
    lcore: u16,
    /// The worker's index: its row of each policy's rule hits.
    worker: usize,
    fwd: Box<Burst>,
    inject: Burst,
    mirror: Burst,
    scratch: Box<Scratch>,
    outcome: Outcome,
    folds: AlertFolds,
}

impl Worker {
    pub fn new(tasks: Vec<Task>, counters: Arc<WorkerCounters>, shared: Arc<Shared>, pool: Arc<Mempool>, lcore: u16, tx_queue: u16) -> Worker {
        let fold_ms = shared.alert_fold_ms;
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
            next_fold_check: 0,
            b: Bufs {
                plan: Plan::default(),
                phases: Phases::default(),
                rx: Box::new(Burst::new()),
                out: Out {
                    lcore,
                    worker: tx_queue as usize,
                    fwd: Box::new(Burst::new()),
                    inject: Burst::new(),
                    mirror: Burst::new(),
                    scratch: Box::default(),
                    outcome: Outcome::default(),
                    folds: AlertFolds::new(fold_ms),
                },
            },
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
        if self.round & 63 == 0 || self.since_clock >= 2048 {
            self.since_clock = 0;
            self.now = self.shared.clock.now_ms();
            if self.now >= self.next_fold_check {
                self.next_fold_check = self.now + 10;
                self.b.out.folds.expire(&self.shared.alerts, self.b.out.worker, self.now);
            }
        }
        self.round = self.round.wrapping_add(1);
        let now = self.now;
        let mut total = 0;
        for ti in 0..self.tasks.len() {
            let t = self.tasks[ti];
            let n = t.rx_port.rx_burst(t.rx_queue, &mut self.b.rx);
            if n == 0 {
                continue;
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
                Some(policy) => self.b.judge(&t, policy, now, c, &self.shared, &self.pool),
            }
            let sent = t.tx_port.tx_burst(t.tx_queue, &mut self.b.out.fwd);
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
        let c = &*self.counters;
        bump(&c.polls, 1);
        c.last_poll_ms.store(now, Relaxed);
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
        while !stop.load(Relaxed) {
            self.poll_once();
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
        let lost = self.b.out.folds.flush(&self.shared.alerts, self.b.out.worker, std::time::Duration::from_millis(500));
        if lost > 0 {
            self.shared.alerts.count_dropped(self.b.out.worker, lost);
        }
    }
}

impl Bufs {
    /// Dissects and judges the received burst: forwarded frames go to `fwd`, injected answers
    /// to `inject`, mirror copies to `mirror`.
    ///
    /// Two speeds: a frame no rule can match — plain traffic, and a name-resolution message no
    /// rule wants (a query, under a policy about answers) — gets the default verdict from a
    /// look at its headers, done for the whole burst at once (`look_burst`: frames grouped by
    /// layout, so its branches are predictable); every other frame then goes through
    /// [`Out::judge_slow`] (dissection, evaluation, actions), out of line.
    #[inline(always)]
    fn judge(&mut self, t: &Task, policy: &LoadedPolicy, now: u64, c: &WorkerCounters, shared: &Shared, pool: &Mempool) {
        const _: () = assert!(antidote_dpdk::BURST_SIZE <= 32, "the drop mask is a u32");
        let start = Phases::now();
        let pc = &c.ports[t.rx_index];
        let program = &policy.program;
        let default_drop = program.default == antidote_policy::ast::Verdict::Drop;
        // Frames are judged where they lie; bit i set: frame i is dropped.
        let mut dropped = 0u32;
        let mut fast_dropped = 0u64;
        let frames = self.rx.as_slice();
        // The header look, over the whole burst (see `look_burst`); then the frames no rule can
        // want get the default verdict, the others the slow path. Rules that need a key of an
        // empty learned table are dormant for the burst (`live_rules`): while no poisoner is
        // known, the follow-on rules want no TCP segment, and the look skips TCP's classes.
        let n = frames.len() as u32;
        let all = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
        // (The look also adds up the burst's bytes, in its pass over the frames' descriptors.)
        let look_skip = |live: u64, classes: u32, gate: Option<AddrGate<'_>>, plain: u32| {
            let look = antidote_policy::schema::look_burst_with(frames.len(), |i| frames[i].data(), |i| frames[i].pkt_len(), classes, gate);
            (look.skippable_with(|i| frames[i].data(), plain, |m| program.skips_with(m, live)), look.bytes)
        };
        let mut skip = 0u32;
        let mut live = u64::MAX;
        // Once a table holds keys, the frames of the classes whose every rule needs the
        // frame's address in it are let through on its address filter (`addr_gate`): under
        // the default policy with a poisoner known, the TCP segments between other hosts.
        let mut gate = None;
        let mut gen = 0;
        let bytes;
        if !program.uses_quarantine {
            live = program.live_rules();
            let (classes, gated, plain) = self.plan.of(policy, live);
            gate = gated.map(|(classes, t)| AddrGate { classes, filter: program.tables[t as usize].state.addr_filter(), table: t });
            gen = gate.map_or(0, |g| g.filter.generation());
            (skip, bytes) = look_skip(live, classes, gate, plain);
        } else {
            bytes = frames.iter().map(|m| m.pkt_len()).sum();
        }
        let mut slow = all & !skip;
        let (look_end, slow_frames) = (Phases::now(), slow.count_ones());
        while slow != 0 {
            let i = slow.trailing_zeros() as usize;
            slow &= slow - 1;
            if self.out.judge_slow(&frames[i], t, policy, now, c, shared, pool) {
                dropped |= 1 << i;
            }
            // A frame that taught a table its first key wakes the rules that need one, and a
            // new key may be the address of a frame the filter let through: the frames after
            // it are looked at again, whole (a poisoned answer and the victim's connection to
            // the poisoner in one burst).
            let woke = live != u64::MAX && program.live_rules() != live;
            if woke || gate.is_some_and(|g| g.filter.generation() != gen) {
                live = program.live_rules();
                gate = None;
                let later = all & u32::MAX.checked_shl(i as u32 + 1).unwrap_or(0);
                let plain = antidote_policy::schema::plain_skips(|m| program.skips_with(m, live));
                let wake = skip & later & !look_skip(live, 0, None, plain).0;
                skip &= !wake;
                slow |= wake;
            }
        }
        let slow_end = Phases::now();
        if default_drop {
            dropped |= skip;
            fast_dropped = skip.count_ones() as u64;
        }
        bump(&pc.rx_bytes, bytes as u64);
        if dropped == 0 {
            // Everything goes on, in order (fwd is empty between bursts).
            std::mem::swap(&mut self.rx, &mut self.out.fwd);
            self.phases.judge(start, look_end, slow_end, slow_frames);
            return;
        }
        for (i, m) in self.rx.drain().enumerate() {
            if dropped >> i & 1 == 1 {
                drop(m);
            } else if let Err(m) = self.out.fwd.push(m) {
                drop(m); // cannot happen: fwd holds at most what rx held
            }
        }
        if fast_dropped > 0 {
            bump(&pc.dropped, fast_dropped);
            bump(&c.actions.dropped, fast_dropped);
        }
        self.phases.judge(start, look_end, slow_end, slow_frames);
    }
}

impl Out {
    /// One frame the header look could not decide: dissect, evaluate, carry out the actions.
    /// Returns whether the frame is dropped (the caller frees it; it is counted here).
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn judge_slow(&mut self, m: &Mbuf, t: &Task, policy: &LoadedPolicy, now: u64, c: &WorkerCounters, shared: &Shared, pool: &Mempool) -> bool {
        let pc = &c.ports[t.rx_index];
        let meta = Meta { port: t.rx_index as u16, from_segment: t.from_segment };
        let out = &mut self.outcome;
        // What tells this frame's alerts apart from other alerts' (read while the frame is).
        let mut frame_key = 0;
        {
            // Read up to the transport first: when no rule can apply whatever the application
            // message says (follow-on rules about learned poisoners, for traffic between other
            // hosts), the frame gets the default verdict without the message being read.
            let mut f = Frame::parse_transport(m.data());
            if !policy.program.eval_transport(&f, &meta, now, out) {
                f.dissect_app(&mut self.scratch);
                policy.program.eval(&f, &meta, now, out);
            }
            if f.error.is_some() {
                bump(&c.actions.malformed, 1);
            }
            if !out.alerts.is_empty() {
                frame_key = self.folds.frame_key(policy.version, t.rx_index as u16, &f);
            }
            if out.inject_nbns_negative {
                match build_negative(&f, t, shared.inject_from, pool) {
                    Some(mb) => {
                        if self.inject.push(mb).is_ok() {
                            bump(&c.actions.injected, 1);
                        } else {
                            bump(&c.actions.inject_failed, 1);
                        }
                    }
                    None => bump(&c.actions.inject_failed, 1),
                }
            }
        }
        for &r in &out.matched {
            policy.hits.bump(self.worker, r as usize);
        }
        let dropped = out.dropped();
        if !out.alerts.is_empty() {
            // Repeats of an alert within the fold window are counted here and handed over
            // together (`AlertFolds`); the first is handed over at once, the frame with it.
            let unix_ms = shared.clock.unix_ms(now);
            for &r in &out.alerts {
                let key = self.folds.key(frame_key, r);
                self.folds.raise(&shared.alerts, self.worker, key, now, unix_ms, || {
                    let data = m.data();
                    let keep = data.len().min(FRAME_BYTES);
                    let mut e = AlertEvent {
                        unix_ms,
                        count: 1,
                        first_unix_ms: unix_ms,
                        policy_version: policy.version,
                        rule: r,
                        port: t.rx_index as u16,
                        lcore: self.lcore,
                        dropped,
                        injected: out.inject_nbns_negative,
                        mirrored: out.mirror,
                        len: keep as u16,
                        frame_len: m.pkt_len().min(u16::MAX as usize) as u16,
                        frame: [0; FRAME_BYTES],
                    };
                    e.frame[..keep].copy_from_slice(&data[..keep]);
                    e
                });
                bump(&c.actions.alerts, 1);
            }
        }
        if out.mirror && shared.mirror.is_some() {
            match m.copy(pool).map(|cp| self.mirror.push(cp)) {
                Some(Ok(())) => bump(&c.actions.mirrored, 1),
                _ => bump(&c.actions.mirror_failed, 1),
            }
        }
        if dropped {
            bump(&pc.dropped, 1);
            bump(&c.actions.dropped, 1);
            if out.quarantined {
                bump(&c.actions.quarantined, 1);
            }
            if out.rate_limited {
                bump(&c.actions.rate_limited, 1);
            }
        }
        dropped
    }
}

/// The NBT-NS negative answer to the query in `f`, in a fresh mbuf. A unicast query is
/// answered from the server it was sent to; a broadcast one from `inject_from`, else from the
/// address it was sent to.
fn build_negative(f: &Frame<'_>, t: &Task, inject_from: Option<Ipv4Addr>, pool: &Mempool) -> Option<Mbuf> {
    let eth = f.eth?;
    let net = f.net?;
    let IpAddr::V4(dst) = net.dst.ip() else { return None };
    let broadcast = eth.dst.is_multicast() || dst.octets()[3] == 255 || dst.is_broadcast();
    let (src_mac, src_ip) = if broadcast { (Mac(t.rx_mac.0), inject_from.unwrap_or(dst)) } else { (eth.dst, dst) };
    // Built in place in the mbuf (the emitters write every byte), then cut to its length.
    let mut mb = Mbuf::alloc(pool)?;
    let n = emit::nbns_negative_response(mb.append(emit::MAX_FRAME as u16)?, f, src_mac, src_ip, false).ok()?;
    mb.trim((emit::MAX_FRAME - n) as u16).then_some(mb)
}
