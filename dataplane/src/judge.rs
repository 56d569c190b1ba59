//! Judging a burst: the header triage of every frame at once (`antidote_wire::triage`, with the
//! program's plan as data), the slow path for the frames a rule may want ([`crate::act`]), a
//! second look at the frames after one that woke a rule or taught a table a new address, and
//! the drop mask applied — what is forwarded goes to the burst's `fwd`.
use crate::act::Outputs;
use crate::phases::Phases;
use crate::policy::LoadedPolicy;
use crate::shared::{Shared, Task};
use crate::stats::{bump, WorkerCounters};
use antidote_dpdk::{Burst, Mempool};
use antidote_policy::plan::SkipPlan;
use antidote_policy::state::network::{segment, Learned, RecentArp, RecentTraffic};
use antidote_policy::state::LearnTable;
use antidote_wire::triage::{self, MacWatch, TriagePlan};
use std::sync::Arc;

/// The [`SkipPlan`] of a policy version under the live rules `live`, kept from burst to burst:
/// it changes only when a learned table fills or empties, or the policy is swapped.
#[derive(Default)]
pub(crate) struct PlanCache {
    version: u64,
    live: u64,
    plan: SkipPlan,
    /// The policy version `dormant` was taken from.
    dormant_version: u64,
    /// The program's learned tables whose emptiness makes rules dormant, with those rules
    /// (`Program::dormant_if_empty`), when there are at most [`DORMANT_HELD`] (else None): held
    /// here, a burst reads each table's count from the worker's own line instead of walking the
    /// program to it — four loads one after another, each missing L1 after the PMD's copy
    /// (`bench/RESULTS.md`, session 29).
    dormant: Option<HeldTables>,
    /// The first table the program's gate can read (`Program::addr_gated`; under the default
    /// policy the poisoners'), held for the same reason: the header look reads its address
    /// filter every burst.
    gate_table: Option<(u32, Arc<LearnTable>)>,
}

/// A learned table and the rules its emptiness makes dormant, for each slot of [`PlanCache`].
type HeldTables = [Option<(Arc<LearnTable>, u64)>; DORMANT_HELD];

/// How many dormant-making tables a worker holds for [`PlanCache::live_rules`] (the default
/// policy has one).
const DORMANT_HELD: usize = 2;

impl PlanCache {
    /// [`antidote_policy::Program::live_rules`] of `policy`, from the tables held here.
    #[inline]
    fn live_rules(&mut self, policy: &LoadedPolicy) -> u64 {
        if self.dormant_version != policy.version {
            self.hold_dormant(policy);
        }
        match &self.dormant {
            Some(held) => {
                let mut live = u64::MAX;
                for (t, rules) in held.iter().flatten() {
                    if !t.may_hold_keys() {
                        live &= !rules;
                    }
                }
                live
            }
            None => policy.program.live_rules(),
        }
    }

    #[cold]
    fn hold_dormant(&mut self, policy: &LoadedPolicy) {
        let p = &policy.program;
        self.dormant_version = policy.version;
        self.dormant = (p.dormant_if_empty.len() <= DORMANT_HELD).then(|| {
            let mut held: HeldTables = Default::default();
            for (slot, &(t, rules)) in held.iter_mut().zip(&p.dormant_if_empty) {
                *slot = Some((p.tables[t as usize].state.clone(), rules));
            }
            held
        });
        self.gate_table = p.addr_gated.first().map(|&(t, _)| (t, p.tables[t as usize].state.clone()));
    }

    /// Learned table `t` of the current policy, when the worker holds it (the gate's table).
    #[inline]
    fn held(&self, t: u32) -> Option<&LearnTable> {
        self.gate_table.as_ref().filter(|(i, _)| *i == t).map(|(_, table)| &**table)
    }

    #[inline]
    fn of(&mut self, policy: &LoadedPolicy, live: u64) -> SkipPlan {
        if self.version != policy.version || self.live != live {
            (self.version, self.live, self.plan) = (policy.version, live, policy.program.skip_plan(live));
        }
        self.plan
    }
}

/// What a worker fills and empties every burst (apart from what it only reads, so the two can
/// be borrowed together).
pub(crate) struct BurstBufs {
    /// Boxed, like `Outputs::fwd`, so that handing a whole burst on is a pointer swap, not a copy
    /// of two 264-byte arrays.
    pub(crate) rx: Box<Burst>,
    pub(crate) out: Outputs,
    pub(crate) plan: PlanCache,
    /// Cycles per stretch of the packet path (feature `phase-cycles`; else nothing).
    pub(crate) phases: Phases,
    /// The ARP senders this worker bound in the last second.
    recent_arp: RecentArp,
    /// This worker's sample of ordinary traffic (a frame of a few bursts a millisecond).
    recent_traffic: RecentTraffic,
    /// The learning budget left for the millisecond `learn_ms` ([`LEARN_PER_MS`]).
    learn_tokens: u32,
    learn_ms: u64,
    /// Where an answer for a canary identity (ARP, neighbour advertisement) is built.
    canary_buf: Box<[u8; antidote_wire::emit::MAX_FRAME]>,
    /// Per task: the destinations that can concern the canary identities of its RX port (a
    /// copy of `Canaries::watch`, so that a burst reads one line of the worker's instead of a
    /// chain of the shared identities'); None where the port has none.
    watch: Vec<Option<MacWatch>>,
    /// The identities read back a capture's (`Canaries::replay`).
    replay: bool,
}

/// How many frames a worker may learn from in a millisecond beyond what it remembers (ARP
/// senders not seen in the last second, name registrations and probes, DHCP): 64,000 a second,
/// far above what a network shows, and a bound on what a flood of them costs the worker.
pub const LEARN_PER_MS: u32 = 64;

impl BurstBufs {
    pub(crate) fn new(out: Outputs, tasks: &[Task], canaries: Option<&crate::canary::Canaries>) -> BurstBufs {
        let watch = tasks
            .iter()
            .map(|t| canaries.filter(|c| c.by_port.get(t.rx_index).is_some_and(|ids| !ids.is_empty())).map(|c| c.watch[t.rx_index].clone()))
            .collect();
        BurstBufs {
            rx: Box::new(Burst::new()),
            out,
            plan: PlanCache::default(),
            phases: Phases::default(),
            recent_arp: RecentArp::default(),
            recent_traffic: RecentTraffic::default(),
            learn_tokens: LEARN_PER_MS,
            learn_ms: 0,
            canary_buf: Box::new([0; antidote_wire::emit::MAX_FRAME]),
            watch,
            replay: canaries.is_some_and(|c| c.replay),
        }
    }
}

impl BurstBufs {
    /// Dissects and judges the received burst: forwarded frames go to `fwd`, injected answers
    /// to `inject`, mirror copies to `mirror`.
    ///
    /// Two speeds: a frame no rule can match — plain traffic, and a name-resolution message no
    /// rule wants (a query, under a policy about answers) — gets the default verdict from a
    /// look at its headers, done for the whole burst at once (`triage_burst`: frames grouped by
    /// layout, so its branches are predictable); every other frame then goes through
    /// [`crate::act`] (dissection, evaluation, actions), out of line.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn judge(&mut self, ti: usize, t: &Task, policy: &LoadedPolicy, now: u64, c: &WorkerCounters, shared: &Shared, pool: &Mempool) {
        const _: () = assert!(antidote_dpdk::BURST_SIZE <= 32, "the drop mask is a u32");
        let start = Phases::now();
        let pc = &c.ports[t.rx_index];
        let program = &policy.program;
        let default_drop = program.default == antidote_policy::ast::Verdict::Drop;
        // Frames are judged where they lie; bit i set: frame i is dropped.
        let mut dropped = 0u32;
        // Bit i set: frame i is held (`verify`), its mbuf handed to the hold store.
        let mut held = 0u32;
        let mut fast_dropped = 0u64;
        let frames = self.rx.as_slice();
        // The header triage, over the whole burst (see `triage_burst`); then the frames no rule
        // can want get the default verdict, the others the slow path. Rules that need a key of
        // an empty learned table are dormant for the burst (`live_rules`): while no poisoner is
        // known, the follow-on rules want no TCP segment, and the plan skips TCP's classes.
        // Once a table holds keys, the frames of the classes whose every rule needs the frame's
        // address in it are let through on its address filter (the plan's gate): under the
        // default policy with a poisoner known, the TCP segments between other hosts. (The
        // triage also adds up the burst's bytes, in its pass over the frames' descriptors.)
        let n = frames.len() as u32;
        let all = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
        let triage_skip = |plan: &TriagePlan<'_>| {
            let t = triage::triage_burst(frames.len(), |i| frames[i].data(), |i| frames[i].pkt_len(), plan);
            let skip = t.skippable(|i| frames[i].data(), plan);
            let (names, answers) = (if t.named & skip != 0 { t.name_requests() } else { 0 }, if t.named & !skip != 0 { t.answers() } else { 0 });
            (skip, t.bytes, t.other, names, t.watched, answers, t.gated)
        };
        // The port's canary identities: the triage points out the frames that can concern them.
        // (The worker's own copy of the port's watch, read every burst: `BurstBufs::watch`. The
        // identities themselves are read only for the frames it points out.)
        let watch = self.watch.get(ti).and_then(Option::as_ref);
        let canaries = || shared.canaries.as_deref();
        // The frames of layouts the triage walks one by one (ARP among them): every frame when
        // there is no triage.
        let mut other = all;
        let mut names = 0;
        let mut skip = 0u32;
        let mut live = u64::MAX;
        let mut gate = None;
        // The learned table the gate reads, and the frames it let on (follow-ons).
        let mut gate_table = None;
        let mut gated = 0;
        let mut gen = 0;
        let bytes;
        let mut watched = all;
        // Name-resolution answers the triage found (charged to the worker's budget here).
        let mut answers = 0;
        if !program.uses_quarantine {
            live = self.plan.live_rules(policy);
            let skip_plan = self.plan.of(policy, live);
            // (The gate's filter from the table the worker holds, when it does: see `PlanCache`.)
            let held = &self.plan;
            let filter = |t: u32| held.held(t).unwrap_or_else(|| &program.tables[t as usize].state).addr_filter();
            let plan = TriagePlan { watch, ..program.triage_plan_with(&skip_plan, live, filter) };
            gate = plan.gate;
            gate_table = skip_plan.gate.map(|(_, t)| t as usize);
            gen = gate.map_or(0, |g| g.filter.generation());
            (skip, bytes, other, names, watched, answers, gated) = triage_skip(&plan);
        } else {
            bytes = frames.iter().map(|m| m.pkt_len()).sum();
        }
        // Name registrations and probes no rule wants are dissected all the same: the network
        // learns who owns which name from them (`act`).
        if self.learn_ms != now {
            (self.learn_ms, self.learn_tokens) = (now, LEARN_PER_MS);
            // The VLANs in use on the port, where canaries go: from the first burst of each
            // millisecond, every frame (besides, every ARP frame and every frame the triage
            // points out notes its own, and every frame judged in full, `act`).
            if let Some(c) = canaries().filter(|_| watch.is_some()) {
                note_vlans(frames, c, t.rx_index);
            }
        }
        let mut deferred = 0;
        let mut names = names & skip;
        while names != 0 {
            let i = names.trailing_zeros() as usize;
            names &= names - 1;
            if triage::teaches_names(frames[i].data()) {
                if self.learn_tokens > 0 {
                    self.learn_tokens -= 1;
                    skip &= !(1 << i);
                } else {
                    deferred += 1;
                }
            }
        }
        // The network is learned from the burst's ARP frames (untagged or with one tag: the
        // segment is the pair and the VLAN), read where they lie. With canary identities on the
        // port, each also notes its VLAN, and one that can be a request for an identity's
        // address is pointed out to the canary pass (the first pass points out only frames to
        // an identity's MAC: `MacWatch`).
        let other_layouts = other;
        let mut arp_watched = 0u32;
        let arp_watch = watch.and_then(|w| Some((w, canaries()?)));
        while other != 0 {
            let i = other.trailing_zeros() as usize;
            other &= other - 1;
            let d = frames[i].data();
            if let Some((at, vlan)) = triage::arp_at(d) {
                let learned = self.recent_arp.learn_arp_frame(&shared.network, d, at, segment(t.pair, vlan), now, &mut self.learn_tokens);
                deferred += (learned == Learned::Deferred) as u64;
                if let Some((w, c)) = arp_watch {
                    c.saw_vlan(t.rx_index, vlan);
                    arp_watched |= (w.arp_may_concern(d, at) as u32) << i;
                }
            }
        }
        // Ordinary traffic teaches which MAC shows each address (weak evidence, used only to
        // protect): a frame of a few bursts a millisecond, in turn (`RecentTraffic`).
        if let Some(i) = self.recent_traffic.pick(frames.len(), now) {
            let learned = self.recent_traffic.learn_frame(&shared.network, frames[i].data(), t.pair, now, &mut self.learn_tokens);
            deferred += (learned == Learned::Deferred) as u64;
        }
        if deferred > 0 {
            bump(&c.actions.learn_deferred, deferred);
        }
        // The pair's canary identity: ARP requests and solicitations for it are answered; what
        // is sent to it is judged (an answer to a canary is what the policy looks for), then
        // consumed — never forwarded.
        let mut consumed = 0u32;
        // (A replay's identities read back every frame: their own canaries and probes.)
        let look = if self.replay { all } else { watched | arp_watched };
        if let (Some(_), true, Some(ids)) = (watch, look != 0, canaries()) {
            let l = canary_frames(frames, look, &mut self.canary_buf, &mut self.out.inject, ids, t.rx_index, pool, &mut self.out.canary_frames, now);
            skip = (skip | l.unjudged) & !l.judged;
            consumed = l.consumed;
            if l.over > 0 {
                bump(&c.actions.canary_over_budget, l.over as u64);
            }
        }
        let mut slow = all & !skip;
        // Answers beyond what the worker judges a millisecond are dropped (or passed) unjudged,
        // counted: a flood of forged answers costs a look at its headers, not a judgement each
        // (`crate::flood`). What is sent to a canary identity is judged within a budget of its
        // own (`canary_frames`).
        // (Answers of layouts the first pass does not read — two tags, IPv4 options, an IPv6
        // fragment header — are found here too, and first fragments of name-service datagrams
        // count as answers, so that a flood of them costs no dissection either.)
        let mut beyond = other_layouts & slow & !answers & !consumed;
        while beyond != 0 {
            let i = beyond.trailing_zeros() as usize;
            beyond &= beyond - 1;
            answers |= (triage::answer_beyond_layouts(frames[i].data()) as u32) << i;
        }
        let budgeted = answers & slow;
        let mut charge = budgeted & !consumed;
        while charge != 0 {
            let i = charge.trailing_zeros() as usize;
            charge &= charge - 1;
            let d = frames[i].data();
            let known = || shared.network.sender_known(d, t.pair, now);
            if let crate::flood::Admit::Over(o) = self.out.budget.admit(now, known) {
                slow &= !(1 << i);
                if crate::act::over_budget(o, c, pc) == crate::act::Fate::Drop {
                    dropped |= 1 << i;
                }
            }
        }
        // Frames to or from a learned poisoner's address beyond what the worker judges a
        // millisecond (`crate::flood::FrameBudget`): a flood of them — forged SYNs to the
        // poisoner from made-up sources — costs an exact look in the table each, not a judgement.
        // Those of the classes the gate let on its address filter are counted against the budget
        // as they come; beyond it, one whose address the table holds is dropped (or passed, as
        // the profile says) unjudged, counted, and any other — the filter's false positive —
        // gets the default verdict (no rule of its class can match a frame with neither address
        // in the table). Frames of other layouts (a frame cut below 60 bytes, IPv4 options…) are
        // looked up first, and only those with a learned address count.
        let follow = (gated | other_layouts) & slow & !budgeted & !consumed;
        if let (Some(table), true) = (gate_table.map(|t| &program.tables[t].state), follow != 0) {
            let holds = |d: &[u8]| {
                use antidote_policy::keys::ip_key;
                triage::ip_addrs(d).is_some_and(|(src, dst)| table.contains(ip_key(src), now) || table.contains(ip_key(dst), now))
            };
            let mut each = follow;
            while each != 0 {
                let i = each.trailing_zeros() as usize;
                each &= each - 1;
                let (d, of_gate) = (frames[i].data(), gated >> i & 1 == 1);
                let held = if of_gate { None } else { Some(holds(d)) };
                if held == Some(false) || self.out.follow_ons.admit(now) {
                    continue;
                }
                slow &= !(1 << i);
                if !held.unwrap_or_else(|| holds(d)) {
                    skip |= 1 << i; // the default verdict, as for the frames no rule wants
                } else if crate::act::follow_on_over_budget(shared.floods.over_budget, c, pc) == crate::act::Fate::Drop {
                    dropped |= 1 << i;
                }
            }
        }
        let (look_end, slow_frames) = (Phases::now(), slow.count_ones());
        while slow != 0 {
            let i = slow.trailing_zeros() as usize;
            slow &= slow - 1;
            match self.out.act(&frames[i], i, ti, t, policy, now, c, shared, pool, budgeted >> i & 1 == 1) {
                crate::act::Fate::Forward => {}
                crate::act::Fate::Drop => dropped |= 1 << i,
                crate::act::Fate::Hold => held |= 1 << i,
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
                let plan = program.skip_plan(live);
                let whole = TriagePlan { skip_classes: 0, gate: None, ..program.triage_plan(&plan, live) };
                let wake = skip & later & !triage_skip(&whole).0;
                skip &= !wake;
                slow |= wake;
            }
        }
        let slow_end = Phases::now();
        if default_drop {
            dropped |= skip & !consumed;
            fast_dropped = (skip & !consumed).count_ones() as u64;
        }
        // Frames consumed (sent to a canary identity) that the policy did not drop itself are
        // counted with the port's drops: nothing received goes uncounted.
        let consumed_only = consumed & !dropped;
        if consumed_only != 0 {
            bump(&pc.dropped, consumed_only.count_ones() as u64);
        }
        dropped |= consumed;
        bump(&pc.rx_bytes, bytes as u64);
        if dropped | held == 0 {
            // Everything goes on, in order (fwd is empty between bursts).
            std::mem::swap(&mut self.rx, &mut self.out.fwd);
            self.phases.judge(start, look_end, slow_end, slow_frames);
            return;
        }
        for (i, m) in self.rx.drain().enumerate() {
            if dropped >> i & 1 == 1 {
                drop(m);
            } else if held >> i & 1 == 1 {
                self.out.hold.admit(i, m);
            } else if let Err(m) = self.out.fwd.push(m) {
                drop(m); // cannot happen: fwd holds at most what rx held
            }
        }
        self.out.hold.end_burst();
        if fast_dropped > 0 {
            bump(&pc.dropped, fast_dropped);
            bump(&c.actions.dropped, fast_dropped);
        }
        self.phases.judge(start, look_end, slow_end, slow_frames);
    }
}

/// Notes the VLANs of `frames` (their outer 802.1Q tags) as in use on port `port`.
#[inline(never)]
fn note_vlans(frames: &[antidote_dpdk::Mbuf], c: &crate::canary::Canaries, port: usize) {
    for m in frames {
        c.saw_frame(port, m.data());
    }
}

/// What [`canary_frames`] made of a burst's frames (bit i: frame i), returned by value (a
/// mask the caller passed by reference would live in memory through the whole of `judge`).
struct CanaryLook {
    /// Sent to a canary identity: consumed, never forwarded.
    consumed: u32,
    /// To be judged (an answer to a canary is what the policy looks for).
    judged: u32,
    /// Not to be judged (an ARP request or solicitation answered, or beyond the budget).
    unjudged: u32,
    /// Frames beyond the worker's budget for canary identities.
    over: u32,
}

/// Frames `look` of the burst (those the triage and the ARP loop pointed out) for port `port`'s canary
/// identities ([`crate::canary::for_identity`]): answers to ARP and solicitations go to
/// `inject`; frames sent to one are judged — within the worker's `budget`, beyond it consumed
/// unjudged (a flood of forged answers to it, or of ARP requests for it). Notes the VLANs in
/// use on the port.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn canary_frames(
    frames: &[antidote_dpdk::Mbuf],
    mut look: u32,
    buf: &mut [u8; antidote_wire::emit::MAX_FRAME],
    inject: &mut antidote_dpdk::Burst,
    c: &crate::canary::Canaries,
    port: usize,
    pool: &Mempool,
    budget: &mut crate::flood::FrameBudget,
    now: u64,
) -> CanaryLook {
    use crate::canary::ForIdentity;
    use std::sync::atomic::Ordering::Relaxed;
    let (ids, watch) = (&c.by_port[port], &c.watch[port]);
    let mut l = CanaryLook { consumed: 0, judged: 0, unjudged: 0, over: 0 };
    let mut admit = || {
        let ok = budget.admit(now);
        l.over += !ok as u32;
        ok
    };
    while look != 0 {
        let i = look.trailing_zeros() as usize;
        look &= look - 1;
        let Some(m) = frames.get(i) else { break };
        let d = m.data();
        let Some(h) = d.first_chunk::<6>() else { continue };
        let dst = antidote_wire::triage::mac_word(h);
        // The VLANs in use on the port: where canaries go.
        c.saw_frame(port, d);
        if c.replay && ids.iter().any(|id| d.get(6..12) == Some(&id.mac[..])) {
            // A replay: an identity's own frame in the capture is judged (its canaries and
            // probes read back).
            l.judged |= 1 << i;
            continue;
        }
        if !watch.may_concern(dst) {
            continue;
        }
        let bit = 1u32 << i;
        for (k, id) in ids.iter().enumerate() {
            match crate::canary::for_identity(d, id, |vlan| c.ip4_on(port, vlan, k), &mut buf[..]) {
                ForIdentity::No => continue,
                ForIdentity::Addressed if admit() => l.judged |= bit,
                ForIdentity::Addressed => l.unjudged |= bit,
                // (A replay's capture holds the live run's answer.)
                ForIdentity::Resolve(_) if c.replay => l.unjudged |= bit,
                ForIdentity::Resolve(_) if !admit() => l.unjudged |= bit,
                ForIdentity::Resolve(n) => {
                    l.unjudged |= bit;
                    let answer = antidote_dpdk::Mbuf::alloc(pool).and_then(|mut mb| {
                        mb.append(n as u16)?.copy_from_slice(&buf[..n]);
                        Some(mb)
                    });
                    match answer.map(|mb| inject.push(mb)) {
                        Some(Ok(())) => c.resolved.fetch_add(1, Relaxed),
                        _ => c.failed.fetch_add(1, Relaxed),
                    };
                }
            }
            l.consumed |= bit;
            break;
        }
    }
    if l.consumed != 0 {
        c.consumed.fetch_add(l.consumed.count_ones() as u64, Relaxed);
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySlot;

    /// The worker's held tables give the program's own live rules, as tables fill and empty,
    /// across a swap, and for a program with more dormant-making tables than it holds.
    #[test]
    fn held_tables_give_the_programs_live_rules() {
        let slot = PolicySlot::new(1);
        let compile = |src: &str| antidote_policy::compile(src).unwrap().program;
        let two = "table ta : ip ttl 60s\ntable tb : ip ttl 60s\n\
                   rule ra { when udp.dport == 53 and ip.src in ta then drop }\n\
                   rule rb { when tcp.syn and ip.dst in tb then drop }";
        let three = format!("{two}\ntable tc : ip ttl 60s\nrule rc {{ when tcp.syn and ip.src in tc then drop }}");
        let mut cache = PlanCache::default();
        for src in [two.to_string(), three] {
            let p = slot.install(compile(&src), src.clone());
            let tables: Vec<_> = p.program.dormant_if_empty.iter().map(|&(t, _)| p.program.tables[t as usize].state.clone()).collect();
            assert!(tables.len() >= 2);
            assert_eq!(cache.live_rules(&p), p.program.live_rules());
            assert_ne!(p.program.live_rules(), u64::MAX, "rules over empty tables are dormant");
            // The gate's table is held too: the same table as the program's.
            let (g, _) = p.program.addr_gated[0];
            assert!(std::ptr::eq(cache.held(g).unwrap(), &*p.program.tables[g as usize].state));
            for (i, t) in tables.iter().enumerate() {
                t.insert(0xc612_0001 + i as u128, 1_000);
                assert_eq!(cache.live_rules(&p), p.program.live_rules(), "after table {i} learned a key");
            }
            assert_eq!(cache.live_rules(&p), u64::MAX);
            for t in &tables {
                t.sweep(u64::MAX - 1);
            }
            assert_eq!(cache.live_rules(&p), p.program.live_rules());
            assert_ne!(p.program.live_rules(), u64::MAX, "swept empty again");
        }
    }
}
