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
}

impl Outputs {
    pub(crate) fn new(lcore: u16, worker: usize, fold_ms: u64) -> Outputs {
        Outputs {
            lcore,
            worker,
            fwd: Box::new(Burst::new()),
            inject: Burst::new(),
            mirror: Burst::new(),
            scratch: Box::default(),
            outcome: Outcome::default(),
            folds: AlertFolds::new(fold_ms),
        }
    }
}

impl Outputs {
    /// One frame the header look could not decide: dissect, evaluate, carry out the actions.
    /// Returns whether the frame is dropped (the caller frees it; it is counted here).
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn act(&mut self, m: &Mbuf, t: &Task, policy: &LoadedPolicy, now: u64, c: &WorkerCounters, shared: &Shared, pool: &Mempool) -> bool {
        let pc = &c.ports[t.rx_index];
        let mut meta = Meta { port: t.rx_index as u16, from_segment: t.from_segment, segment: t.pair as u64 };
        let out = &mut self.outcome;
        // What tells this frame's alerts apart from other alerts' (read while the frame is).
        let (mut frame_group, mut frame_key) = (0, 0);
        {
            // Read up to the transport first: when no rule can apply whatever the application
            // message says (follow-on rules about learned poisoners, for traffic between other
            // hosts), the frame gets the default verdict without the message being read.
            let mut f = Frame::parse_transport(m.data());
            // The segment: the pair and the frame's (outer) VLAN.
            meta.segment = segment(t.pair, f.eth.and_then(|e| e.vlan_id()).unwrap_or(0));
            let seg = meta.segment;
            // Name-service messages teach the network who owns which name: read whole even when
            // the program needs only their transport.
            let names = match f.transport {
                Transport::Udp(u) => proto::udp_app(u.src_port, u.dst_port) & (proto::NBNS | proto::MDNS) != 0,
                _ => false,
            };
            let decided = policy.program.eval_transport(&f, &meta, now, out);
            if !decided || names {
                f.dissect_app(&mut self.scratch);
            }
            // What the frame teaches the learned network (DHCP leases and names, neighbour
            // discovery, name claims), before it is judged.
            shared.network.learn_frame(&f, seg, now);
            if !decided {
                policy.program.eval(&f, &meta, now, out);
            }
            // An answer let through teaches who answers for a name with its own address (an
            // owner once confirmed); one dropped withdraws what its sender's answers taught.
            if f.app.is_answer() {
                if let Some(c) = &shared.canaries {
                    count_canary_answer(c, &f, t.rx_index, &shared.network, seg, now);
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
                        group: crate::alert::key::group(frame_group, r),
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
    let (src_mac, src_ip) = if broadcast { (t.rx_mac, inject_from.unwrap_or(dst)) } else { (eth.dst, dst) };
    // Built in place in the mbuf (the emitters write every byte), then cut to its length.
    let mut mb = Mbuf::alloc(pool)?;
    let n = emit::nbns_negative_response(mb.append(emit::MAX_FRAME as u16)?, f, src_mac, src_ip, false).ok()?;
    mb.trim((emit::MAX_FRAME - n) as u16).then_some(mb)
}

/// Counts an answer to one of the canaries (its name one of theirs on this segment), per port
/// and protocol.
#[inline(never)]
fn count_canary_answer(c: &crate::canary::Canaries, f: &Frame<'_>, port: usize, net: &antidote_policy::state::Network, seg: u64, now: u64) {
    let Some(k) = antidote_wire::fields::question_name(f).and_then(|n| antidote_policy::keys::name_key(&n)) else { return };
    if net.canaries.get(k, seg, now).is_none() {
        return;
    }
    let proto = match (&f.app, f.net.map(|n| n.version)) {
        (antidote_wire::frame::App::Llmnr(_), Some(6)) => 1,
        (antidote_wire::frame::App::Llmnr(_), _) => 0,
        (antidote_wire::frame::App::Nbns(_), _) => 2,
        _ => 3,
    };
    if let Some(row) = c.answered.get(port) {
        row[proto].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
