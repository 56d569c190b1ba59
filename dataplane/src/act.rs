//! One frame the triage could not decide: dissect it (up to its transport first), evaluate the
//! program, and carry out the outcome — inject an NBT-NS negative answer, copy to the mirror,
//! raise its alerts through the worker's folds, count its rule hits and its verdict.
use crate::alert::AlertFolds;
use crate::alert::{AlertEvent, FRAME_BYTES};
use crate::policy::LoadedPolicy;
use crate::shared::{Shared, Task};
use crate::stats::{bump, WorkerCounters};
use antidote_dpdk::{Burst, Mbuf, Mempool};
use antidote_policy::program::{Meta, Outcome};
use antidote_policy::state::network::segment;
use antidote_wire::frame::Transport;
use antidote_wire::proto;
use antidote_wire::{emit, Frame, Scratch};
use std::net::{IpAddr, Ipv4Addr};

/// Where judged frames go, and the slow path's working space (apart from `rx`, so a burst can
/// be drained into it).
pub(crate) struct Outputs {
    pub(crate) lcore: u16,
    /// The worker's index: its row of each policy's rule hits.
    pub(crate) worker: usize,
    pub(crate) fwd: Box<Burst>,
    pub(crate) inject: Burst,
    pub(crate) mirror: Burst,
    pub(crate) scratch: Box<Scratch>,
    pub(crate) outcome: Outcome,
    pub(crate) folds: AlertFolds,
    /// Answers held while their sender is probed.
    pub(crate) hold: crate::hold::HoldStore,
    /// How many more answers the worker judges this millisecond ([`crate::flood`]).
    pub(crate) budget: crate::flood::AnswerBudget,
    pub(crate) follow_ons: crate::flood::FrameBudget,
    pub(crate) canary_frames: crate::flood::FrameBudget,
}

/// What becomes of a frame of the slow path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    Forward,
    Drop,
    /// Held ([`crate::hold`]): the burst hands its mbuf to the hold store.
    Hold,
}

impl Outputs {
    pub(crate) fn new(lcore: u16, worker: usize, fold_ms: u64, floods: crate::flood::FloodSpec) -> Outputs {
        Outputs {
            lcore,
            worker,
            fwd: Box::new(Burst::new()),
            inject: Burst::new(),
            mirror: Burst::new(),
            scratch: Box::default(),
            outcome: Outcome::default(),
            folds: AlertFolds::new(fold_ms),
            hold: crate::hold::HoldStore::new(0x5eed ^ (lcore as u64) << 32 ^ std::process::id() as u64),
            budget: crate::flood::AnswerBudget::new(floods),
            follow_ons: crate::flood::FrameBudget::new(floods.follow_ons_per_ms),
            canary_frames: crate::flood::FrameBudget::new(floods.canary_frames_per_ms),
        }
    }
}

impl Outputs {
    /// One frame (frame `i` of the burst, which came in on task `ti`) the header look could not
    /// decide: dissect, evaluate, carry out the actions. Returns what becomes of it (a dropped
    /// one is counted here, and freed by the caller; a held one is handed to the hold store).
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn act(
        &mut self,
        m: &Mbuf,
        i: usize,
        ti: usize,
        t: &Task,
        policy: &LoadedPolicy,
        now: u64,
        c: &WorkerCounters,
        shared: &Shared,
        pool: &Mempool,
        budgeted: bool,
    ) -> Fate {
        let pc = &c.ports[t.rx_index];
        let mut meta = Meta { port: t.rx_index as u16, from_segment: t.from_segment, segment: t.pair as u64, ..Meta::default() };
        let out = &mut self.outcome;
        // What tells this frame's alerts apart from other alerts' (read while the frame is).
        let (mut frame_group, mut frame_key) = (0, 0);
        let mut held = false;
        {
            // Read up to the transport first: when no rule can apply whatever the application
            // message says (follow-on rules about learned poisoners, for traffic between other
            // hosts), the frame gets the default verdict without the message being read.
            let mut f = Frame::parse_transport(m.data());
            // The segment: the pair and the frame's (outer) VLAN.
            let vlan = f.eth.and_then(|e| e.vlan_id()).unwrap_or(0);
            meta.segment = segment(t.pair, vlan);
            // The VLANs in use on the port, where canaries go: every frame judged in full notes
            // its own (the judge notes the others' from broadcasts and a sample).
            if let Some(c) = &shared.canaries {
                c.saw_vlan(t.rx_index, vlan);
            }
            let seg = meta.segment;
            // An answer the triage did not charge to the worker's budget (a layout it does not
            // read: two tags, IPv4 options, IPv6 extension headers) is charged here, before it
            // costs a judgement.
            if !budgeted && is_answer_message(&f) {
                let known = || match (f.eth, f.net) {
                    (Some(e), Some(n)) => shared.network.is_identity(&e.dst.0) || shared.network.speaks_as(e.src.0, n.src.ip(), seg, now),
                    _ => false,
                };
                if let crate::flood::Admit::Over(o) = self.budget.admit(now, known) {
                    return over_budget(o, c, pc);
                }
            }
            // Name-service messages teach the network who owns which name: read whole even when
            // the program needs only their transport.
            let names = match f.transport {
                Transport::Udp(u) => proto::udp_app(u.src_port, u.dst_port) & (proto::NBNS | proto::MDNS) != 0,
                _ => false,
            };
            let decided = policy.program.eval_transport(&f, &meta, now, out);
            // In a replay, the identities' own canaries and probes in the capture are read back.
            let own = shared.canaries.as_ref().is_some_and(|c| c.replay) && f.eth.is_some_and(|e| shared.network.is_identity(&e.src.0));
            if !decided || names || own {
                f.dissect_app(&mut self.scratch);
            }
            if own {
                shared.network.note_own_query(&f, seg, now);
            }
            // What the frame teaches the learned network (DHCP leases and names, neighbour
            // discovery, name claims), before it is judged.
            shared.network.learn_frame(&f, seg, now);
            if !decided {
                policy.program.eval(&f, &meta, now, out);
            }
            // `verify`: held while its sender is probed, or the fallback. An answer for a name
            // whose answers are held is held with them.
            if out.verify_ms > 0 || (!self.hold.is_empty() && f.app.is_answer() && !out.dropped()) {
                held = hold_or_not(&mut self.hold, &mut self.inject, out.verify_ms, &f, meta.memo.name_key(&f), i, ti, t, seg, now, c, shared, pool);
            }
            // An answer let through teaches who answers for a name with its own address (an
            // owner once confirmed); one dropped withdraws what its sender's answers taught. (A
            // held one teaches when it is released.)
            if f.app.is_answer() && !held {
                // (Not a canary's or a probe's answer, as the policy already found: nothing to count.)
                if let Some(c) = shared.canaries.as_ref().filter(|_| meta.memo.canary_known() != Some(false)) {
                    count_canary_answer(c, &f, meta.memo.name_key(&f), t.rx_index, vlan, &shared.network, seg, now);
                }
                if out.dropped() {
                    shared.network.unlearn_answer(&f, seg, now);
                } else {
                    shared.network.learn_answer(&f, seg, now);
                }
            }
            if f.error.is_some() {
                bump(&c.actions.malformed, 1);
            }
            if !out.alerts.is_empty() {
                frame_group = crate::alert::key::frame_group(policy.version, &f);
                frame_key = self.folds.frame_key(frame_group, t.rx_index as u16, &f);
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
        let out = &self.outcome;
        let dropped = out.dropped() && !held;
        if !out.alerts.is_empty() {
            // Repeats of an alert within the fold window are counted here and handed over
            // together (`AlertFolds`); the first is handed over at once, the frame with it.
            let unix_ms = shared.clock.unix_ms(now);
            for &r in &out.alerts {
                let key = self.folds.key(frame_key, r);
                self.folds.raise(&shared.alerts, self.worker, r, key, now, unix_ms, || {
                    let data = m.data();
                    let keep = data.len().min(FRAME_BYTES);
                    let mut e = AlertEvent {
                        unix_ms,
                        count: 1,
                        first_unix_ms: unix_ms,
                        policy_version: policy.version,
                        group: crate::alert::key::group(frame_group, r),
                        rule: r,
                        port: t.rx_index as u16,
                        lcore: self.lcore,
                        dropped,
                        injected: out.inject_nbns_negative,
                        mirrored: out.mirror,
                        storm: false,
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
        if held {
            Fate::Hold
        } else if dropped {
            Fate::Drop
        } else {
            Fate::Forward
        }
    }
}

/// Whether frame `f` (read up to its transport) carries a name-resolution answer: LLMNR, NBT-NS
/// or mDNS with the response bit (the top bit of the third byte, in both formats).
#[inline]
fn is_answer_message(f: &Frame<'_>) -> bool {
    match f.transport {
        Transport::Udp(u) => {
            proto::udp_app(u.src_port, u.dst_port) & (proto::LLMNR | proto::NBNS | proto::MDNS) != 0 && f.payload.get(2).is_some_and(|b| b & 0x80 != 0)
        }
        _ => false,
    }
}

/// A frame to or from a learned poisoner over the worker's follow-on budget
/// ([`crate::flood::FrameBudget`]): counted, and dropped or passed unjudged as answers over
/// their budget are.
#[inline]
pub(crate) fn follow_on_over_budget(o: crate::flood::OverBudget, c: &WorkerCounters, pc: &crate::stats::PortCounters) -> Fate {
    unjudged(&c.actions.follow_on_over_budget, o, pc)
}

/// An answer over the worker's budget ([`crate::flood`]): counted, and dropped or passed
/// unjudged.
#[inline]
pub(crate) fn over_budget(o: crate::flood::OverBudget, c: &WorkerCounters, pc: &crate::stats::PortCounters) -> Fate {
    unjudged(&c.actions.over_budget, o, pc)
}

/// A frame over a budget: counted in `counter`, then dropped (and counted with the port's drops)
/// or forwarded, as the profile's `[floods] over_budget` says.
#[inline]
fn unjudged(counter: &std::sync::atomic::AtomicU64, o: crate::flood::OverBudget, pc: &crate::stats::PortCounters) -> Fate {
    bump(counter, 1);
    match o {
        crate::flood::OverBudget::Drop => {
            bump(&pc.dropped, 1);
            Fate::Drop
        }
        crate::flood::OverBudget::Pass => Fate::Forward,
    }
}

/// Holds answer `f` (frame `i`) if it can: for a `verify` (`verify` ms), with a probe of its
/// sender sent (to `inject`) from the pair's canary identity; for an answer whose name has
/// answers held, with them. Else (`verify` only) the rule's fallback stands, counted. Returns
/// whether it is held.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn hold_or_not(
    hold: &mut crate::hold::HoldStore,
    inject: &mut Burst,
    verify: u32,
    f: &Frame<'_>,
    name: Option<u128>,
    i: usize,
    ti: usize,
    t: &Task,
    seg: u64,
    now: u64,
    c: &WorkerCounters,
    shared: &Shared,
    pool: &Mempool,
) -> bool {
    use crate::hold::{build_probe, probe_kind, probe_name, Pending};
    use antidote_policy::state::bindings::evidence;
    // What is sent to the appliance itself (an answer to one of its canaries or probes) is
    // consumed, never held: holding it would probe its sender again, and again.
    if f.eth.is_some_and(|e| shared.network.is_identity(&e.dst.0)) {
        return false;
    }
    let mut p = Pending { task: ti as u16, segment: seg, name: name.unwrap_or(0), probe: 0, responder: 0, deadline: 0 };
    let group = name.and_then(|k| hold.deadline_of(k, seg));
    if verify == 0 {
        // Not a `verify`: held only with its name's group.
        let Some(d) = group else { return false };
        if !hold.has_room() {
            return false;
        }
        p.deadline = d;
        hold.pend(i, p);
        bump(&c.actions.held, 1);
        return true;
    }
    // One of the pair's identities, at random, as it is on the answer's VLAN.
    let vlan = f.eth.and_then(|e| e.vlan_id()).unwrap_or(0);
    let pick = hold.random();
    let id = shared.canaries.as_ref().and_then(|cs| cs.identity_on(t.rx_index, vlan, pick));
    let (Some(_), Some(id), Some(kind), Some(eth), true) = (name, id, probe_kind(f), f.eth, hold.has_room()) else {
        bump(&c.actions.hold_fallback, 1);
        return false;
    };
    // Any answer of the responder's to a canary or probe (marked where it is counted) drops the
    // held answer.
    let responder = antidote_policy::state::Network::responder_probe_key(&eth.src.0);
    p.responder = responder;
    p.deadline = group.unwrap_or(now + verify as u64);
    if shared.canaries.as_ref().is_some_and(|cs| cs.replay) {
        // A capture's answer: replay sends nothing; the capture's own probe of the responder
        // and its answer (read in order, `Network::note_own_query`) decide as they did live.
        shared.network.probes.bind(responder, seg, id.mac, evidence::PROBE, now);
        hold.pend(i, p);
        bump(&c.actions.held, 1);
        return true;
    }
    // The probe: a name nobody owns, registered before it leaves.
    let mut buf = [0u8; 16];
    let supply = shared.canaries.as_ref().map(|cs| &cs.probe_names);
    let n = probe_name(hold, supply, &mut buf);
    let Some(probe_name) = std::str::from_utf8(&buf[..n]).ok() else { return false };
    let Some(pk) = antidote_policy::keys::name_key(&antidote_wire::fields::Value::Str(probe_name.as_bytes())) else {
        bump(&c.actions.hold_fallback, 1);
        return false;
    };
    let rnd = hold.random();
    let Some(probe) = build_probe(f, kind, &id, probe_name, rnd, pool) else {
        bump(&c.actions.hold_fallback, 1);
        return false;
    };
    // A SQL-browser probe is known by whom it asks (its answer may not name the instance).
    let pk = if kind == crate::hold::ProbeKind::Ssrp { responder } else { pk };
    shared.network.probes.bind(pk, seg, id.mac, evidence::PROBE, now);
    shared.network.probes.bind(responder, seg, id.mac, evidence::PROBE, now);
    if let Err(m) = inject.push(probe) {
        drop(m);
        bump(&c.actions.hold_fallback, 1);
        return false;
    }
    bump(&c.actions.probes, 1);
    p.probe = pk;
    // (Held with the name's earlier answers when there are some: one deadline for all.)
    hold.pend(i, p);
    bump(&c.actions.held, 1);
    true
}

/// The NBT-NS negative answer to the query in `f`, in a fresh mbuf. A unicast query is
/// answered from the server it was sent to; a broadcast one from `inject_from`, else from the
/// address it was sent to.
fn build_negative(f: &Frame<'_>, t: &Task, inject_from: Option<Ipv4Addr>, pool: &Mempool) -> Option<Mbuf> {
    let eth = f.eth?;
    let net = f.net?;
    let IpAddr::V4(dst) = net.dst.ip() else { return None };
    let broadcast = eth.dst.is_multicast() || dst.octets()[3] == 255 || dst.is_broadcast();
    let (src_mac, src_ip) = if broadcast { (t.rx_mac, inject_from.unwrap_or(dst)) } else { (eth.dst, dst) };
    // Built in place in the mbuf (the emitters write every byte), then cut to its length.
    let mut mb = Mbuf::alloc(pool)?;
    let n = emit::nbns_negative_response(mb.append(emit::MAX_FRAME as u16)?, f, src_mac, src_ip, false).ok()?;
    mb.trim((emit::MAX_FRAME - n) as u16).then_some(mb)
}

/// Counts an answer to one of the canaries (its name one of theirs on this segment), per port
/// and protocol.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn count_canary_answer(
    c: &crate::canary::Canaries,
    f: &Frame<'_>,
    name: Option<u128>,
    port: usize,
    vlan: u16,
    net: &antidote_policy::state::Network,
    seg: u64,
    now: u64,
) {
    use crate::canary::Canaries;
    let answered = antidote_policy::state::bindings::evidence::ANSWERED;
    // The sender's key in the probes table: marked when one of its answers is held (for the
    // worker holding it), and what a SQL-browser probe is known by.
    let responder_key = antidote_policy::state::Network::responder_probe_key(&f.eth.map(|e| e.src.0).unwrap_or_default());
    let responder = || {
        net.probes.mark(responder_key, seg, answered, now);
    };
    // A SQL-browser answer to the identity: a probe's if its sender was probed, else a canary's.
    if net.is_ssrp_answer_to_identity(f) {
        if net.probes.mark(responder_key, seg, answered, now) {
            c.probes_answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        } else {
            Canaries::count(&c.answered, port, vlan, 4);
        }
        return;
    }
    let Some(k) = name else { return };
    if net.canaries.get(k, seg, now).is_none() {
        // An answer to a probe: marked, for the worker holding the answer it checks.
        if net.probes.mark(k, seg, answered, now) {
            c.probes_answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            responder();
        }
        return;
    }
    responder();
    let proto = match (&f.app, f.net.map(|n| n.version)) {
        (antidote_wire::frame::App::Llmnr(_), Some(6)) => 1,
        (antidote_wire::frame::App::Llmnr(_), _) => 0,
        (antidote_wire::frame::App::Nbns(_), _) => 2,
        (antidote_wire::frame::App::Ssrp(_), _) => 4,
        (_, Some(6)) => 5,
        _ => 3,
    };
    Canaries::count(&c.answered, port, vlan, proto);
}
