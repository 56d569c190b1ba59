//! Canary queries: the appliance asks, from each pair's canary identity, for names that exist
//! nowhere — LLMNR over IPv4 and IPv6, NBT-NS by broadcast, mDNS (QM, both groups), SQL browser —
//! out of both ports of the pair, untagged and on every VLAN the profile names or the workers
//! have seen there (a VLAN with no canary address gets the IPv6 ones), at random times (on
//! average one per protocol and segment every `interval`), with random
//! transaction IDs and the flags and ports real clients use (NBT-NS 0x0110 from port 137, LLMNR
//! flags 0 from a random high port, mDNS from 5353). Names are shaped like the segment's own
//! learned names (a learned name's letters and two new digits), never a learned name, never
//! reused. Each name is registered in the learned network before its query leaves
//! (`Network::canaries`): any answer for it is a poisoner's (the policy's `canary.answered`).
//! The frames are built here and sent by worker 0 on its own TX queues (the outbox).
use antidote_dataplane::canary::{over_ipv4, CanaryFrame, ProbeName, PROBE_NAMES, PROTOS};
use antidote_dataplane::profile::CanaryIdentity;
use antidote_dataplane::run::RunContext;
use antidote_policy::state::bindings::evidence;
use antidote_policy::state::network::segment;
use antidote_wire::emit::{self, QueryKind};
use antidote_wire::ethernet::{Mac, VlanTag};
use antidote_wire::fields::Value;
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Prefixes for names on a segment whose own names are not known yet.
const PREFIXES: [&str; 10] = ["fs", "srv", "print", "nas", "sql", "files", "backup", "app", "web", "share"];

/// VLANs per pair canaries are sent on at most (beyond them, new VLANs are counted, not asked on).
pub const MAX_VLANS: usize = 1024;

/// One segment's next canary of one protocol.
#[derive(Debug, Clone, Copy)]
struct Due {
    /// The pair's ports.
    a: usize,
    b: usize,
    vlan: u16,
    proto: usize,
    at: Instant,
}

/// When an unanswered query is asked again, as the clients the canaries look like do: Windows
/// resends an LLMNR query after 410 ms and again after 410 more, NBT-NS broadcasts three queries
/// 750 ms apart, an mDNS querier asks again after a second (RFC 6762 5.2); a SQL-browser client
/// asks once. (A poisoner that answers only from a name's second or third query by one host, as
/// Inveigh can, answers a canary's resend.)
pub fn resends(proto: usize) -> &'static [u64] {
    match proto {
        0 | 1 => &[410, 820],
        2 => &[750, 1500],
        3 | 5 => &[1000],
        _ => &[],
    }
}

/// When each segment's next canary of each protocol leaves.
pub struct Scheduler {
    interval: Duration,
    due: Vec<Due>,
    /// Canaries to send again ([`resends`]): when, and the frame as it was sent.
    again: Vec<(Instant, CanaryFrame)>,
    /// Per pair (its lower port): the VLANs scheduled.
    vlans: Vec<(usize, HashSet<u16>)>,
    /// VLANs seen beyond [`MAX_VLANS`] a pair.
    pub vlans_refused: u64,
    /// When the workers' VLANs were last looked at.
    looked: Instant,
    used: HashSet<String>,
    rng: u64,
}

impl Scheduler {
    /// The schedule for the pairs of `ctx` that have a canary identity; None when none has one
    /// or `interval` is zero.
    pub fn new(ctx: &RunContext, interval: Duration) -> Option<Scheduler> {
        let c = ctx.shared.canaries.as_ref()?;
        if interval.is_zero() {
            return None;
        }
        let now = Instant::now();
        let mut s = Scheduler {
            interval,
            due: Vec::new(),
            again: Vec::new(),
            vlans: Vec::new(),
            vlans_refused: 0,
            looked: now,
            used: HashSet::new(),
            rng: std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64) | 1,
        };
        for (a, peer) in ctx.peers.iter().enumerate() {
            let Some(b) = *peer else { continue };
            if a < b && c.by_port.get(a).is_some_and(|ids| !ids.is_empty()) {
                s.vlans.push((a, HashSet::new()));
                // Untagged, and the VLANs the profile gives addresses for.
                s.add_segment(a, b, 0, true, now);
                for &(vlan, _) in c.vlans.get(a).map_or(&[][..], Vec::as_slice) {
                    s.add_segment(a, b, vlan, true, now);
                }
            }
        }
        (!s.due.is_empty()).then_some(s)
    }

    /// Schedules the canaries of segment (pair `a`–`b`, `vlan`): every protocol when the
    /// identities have an IPv4 address there (`ip4`), else the IPv6 ones. The first ones spread
    /// over the first interval.
    fn add_segment(&mut self, a: usize, b: usize, vlan: u16, ip4: bool, now: Instant) {
        if let Some((_, set)) = self.vlans.iter_mut().find(|(p, _)| *p == a) {
            set.insert(vlan);
        }
        for proto in (0..PROTOS.len()).filter(|&p| ip4 || !over_ipv4(p)) {
            let first = self.interval.mul_f64(self.unit());
            self.due.push(Due { a, b, vlan, proto, at: now + first });
        }
    }

    /// Schedules the VLANs the workers have seen on a pair since the last look (once a second).
    fn add_seen_vlans(&mut self, ctx: &RunContext, now: Instant) {
        if now.duration_since(self.looked) < Duration::from_secs(1) {
            return;
        }
        self.looked = now;
        let Some(c) = ctx.shared.canaries.as_ref() else { return };
        let pairs: Vec<usize> = self.vlans.iter().map(|(a, _)| *a).collect();
        for a in pairs {
            let Some(b) = ctx.peers.get(a).copied().flatten() else { continue };
            let mut seen: Vec<u16> = [a, b].iter().filter_map(|&p| c.seen.get(p)).flat_map(|s| s.list()).collect();
            seen.sort_unstable();
            seen.dedup();
            for vlan in seen {
                let set = &self.vlans.iter().find(|(p, _)| *p == a).expect("a scheduled pair").1;
                if set.contains(&vlan) {
                    continue;
                }
                if set.len() >= MAX_VLANS {
                    if self.vlans_refused == 0 {
                        eprintln!("antidote: more than {MAX_VLANS} VLANs on pair {a}: canaries are sent on the first {MAX_VLANS} only");
                    }
                    self.vlans_refused += 1;
                    continue;
                }
                // (A VLAN the profile names is scheduled from the start.)
                self.add_segment(a, b, vlan, false, now);
            }
        }
    }

    /// A random number (xorshift64*).
    fn next(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A random number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Sends what is due (called every few tens of milliseconds by the control thread).
    pub fn tick(&mut self, ctx: &RunContext) {
        self.refill_probe_names(ctx);
        let now = Instant::now();
        self.add_seen_vlans(ctx, now);
        self.send_again(ctx, now);
        // (Each segment's own names read once a tick, when something is due there: reading them
        // walks the owners table.)
        let mut owned: Vec<(u64, Vec<String>)> = Vec::new();
        for i in 0..self.due.len() {
            let d = self.due[i];
            if d.at > now {
                continue;
            }
            let seg = segment(d.a.min(d.b) as u16, d.vlan);
            if !owned.iter().any(|(s, _)| *s == seg) {
                owned.push((seg, Self::owned(ctx, seg, ctx.shared.clock.now_ms())));
            }
            let names = &owned.iter().find(|(s, _)| *s == seg).expect("just read").1;
            self.send(ctx, d, names);
            let next = self.interval.mul_f64(0.5 + self.unit());
            self.due[i].at = now + next;
        }
    }

    /// Sends the canaries whose resend is due (their names are registered for ten minutes).
    fn send_again(&mut self, ctx: &RunContext, now: Instant) {
        let Some(c) = ctx.shared.canaries.as_ref() else { return };
        self.again.retain(|(at, f)| {
            if *at > now {
                return true;
            }
            if c.outbox.push(*f).is_err() {
                c.failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            false
        });
    }

    /// The segment's own names (those with letters), to shape new names like them.
    fn owned(ctx: &RunContext, segment: u64, now_ms: u64) -> Vec<String> {
        ctx.shared
            .network
            .owners
            .entries(now_ms)
            .into_iter()
            .filter(|(_, seg, _)| *seg == segment)
            .filter_map(|(k, _, _)| antidote_policy::keys::name_of_key(k))
            .filter(|n| n.bytes().any(|c| c.is_ascii_alphabetic()))
            .collect()
    }

    /// A name shaped like the segment's own (`owned`), never one of them, never used before.
    fn name(&mut self, ctx: &RunContext, owned: &[String], segment: u64, now_ms: u64) -> String {
        let net = &ctx.shared.network;
        for attempt in 0..64 {
            let stem: String = if !owned.is_empty() && attempt < 48 {
                let base = &owned[self.next() as usize % owned.len()];
                base.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-').chars().take(12).collect()
            } else {
                PREFIXES[self.next() as usize % PREFIXES.len()].to_string()
            };
            if stem.is_empty() {
                continue;
            }
            let candidate = format!("{stem}{:02}", self.next() % 100);
            let taken = owned.iter().any(|o| o.eq_ignore_ascii_case(&candidate))
                || self.used.contains(&candidate)
                || antidote_policy::keys::name_key(&Value::Str(candidate.as_bytes())).is_some_and(|k| net.owners.get(k, segment, now_ms).is_some());
            if !taken {
                self.used.insert(candidate.clone());
                return candidate;
            }
        }
        // (A name space that crowded: a longer random one.)
        format!("{}{:06}", PREFIXES[self.next() as usize % PREFIXES.len()], self.next() % 1_000_000)
    }

    /// Keeps the workers' supply of probe names full ([`antidote_dataplane::canary::PROBE_NAMES`]):
    /// names like the first segment's own, never reused.
    fn refill_probe_names(&mut self, ctx: &RunContext) {
        let Some(c) = ctx.shared.canaries.as_ref() else { return };
        if c.probe_names.len() > PROBE_NAMES / 2 {
            return;
        }
        let segment = self.due.first().map_or(0, |d| d.a.min(d.b) as u64);
        let now_ms = ctx.shared.clock.now_ms();
        let owned = Self::owned(ctx, segment, now_ms);
        for _ in 0..PROBE_NAMES * 2 {
            if c.probe_names.len() >= PROBE_NAMES {
                break;
            }
            let name = self.name(ctx, &owned, segment, now_ms);
            // Two digits more than a canary's: probes are many.
            let name = format!("{name}{}", self.next() % 10);
            match ProbeName::new(&name) {
                Some(p) => {
                    if c.probe_names.push(p).is_err() {
                        break;
                    }
                }
                None => continue,
            }
        }
    }

    fn send(&mut self, ctx: &RunContext, d: Due, owned: &[String]) {
        let Some(c) = ctx.shared.canaries.as_ref() else { return };
        // One of the pair's identities, at random, as it is on the VLAN.
        let pick = self.next();
        let Some(id) = c.identity_on(d.a, d.vlan, pick) else { return };
        if over_ipv4(d.proto) && !id.has_ip4() {
            return;
        }
        let segment = segment(d.a.min(d.b) as u16, d.vlan);
        let now_ms = ctx.shared.clock.now_ms();
        let name = self.name(ctx, owned, segment, now_ms);
        if let Some(k) = antidote_policy::keys::name_key(&Value::Str(name.as_bytes())) {
            ctx.shared.network.canaries.bind(k, segment, id.mac, evidence::OPERATOR, now_ms);
        }
        let id16 = self.next() as u16;
        let port = 49152 + (self.next() % 16384) as u16;
        let tags = [VlanTag { tpid: 0x8100, tci: d.vlan }];
        let tags = if d.vlan == 0 { &tags[..0] } else { &tags[..] };
        for p in [d.a, d.b] {
            let mut f = CanaryFrame { port: p as u16, vlan: d.vlan, proto: d.proto as u8, len: 0, data: [0; emit::MAX_FRAME] };
            match build(&mut f.data, &id, d.proto, &name, id16, port, tags) {
                Ok(n) => {
                    f.len = n as u16;
                    let now = Instant::now();
                    // (Bounded: past it, canaries go out once.)
                    for &ms in resends(d.proto) {
                        if self.again.len() < 65_536 {
                            self.again.push((now + Duration::from_millis(ms), f));
                        }
                    }
                    if c.outbox.push(f).is_err() {
                        c.failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
                Err(_) => {
                    c.failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    }
}

/// A canary query of protocol `proto` ([`PROTOS`]) for `name` from identity `id`, with VLAN
/// tags `tags`.
#[allow(clippy::too_many_arguments)]
pub fn build(out: &mut [u8], id: &CanaryIdentity, proto: usize, name: &str, txid: u16, src_port: u16, tags: &[VlanTag]) -> antidote_wire::error::Result<usize> {
    let mac = Mac(id.mac);
    match proto {
        0 => emit::name_query(out, QueryKind::Llmnr, mac, IpAddr::V4(id.ip4), tags, name, txid, src_port),
        1 => emit::name_query(out, QueryKind::Llmnr, mac, IpAddr::V6(id.ll6), tags, name, txid, src_port),
        2 => emit::name_query(out, QueryKind::Nbns { broadcast: id.broadcast }, mac, IpAddr::V4(id.ip4), tags, name, txid, 137),
        // A SQL-browser request for an instance of that name, broadcast (Responder's rogue
        // browser answers every instance request, even with its poisoners off: `-A`).
        4 => emit::ssrp_query(out, mac, id.ip4, Mac::BROADCAST, id.broadcast, tags, &name.to_ascii_uppercase(), src_port),
        5 => emit::name_query(out, QueryKind::Mdns, mac, IpAddr::V6(id.ll6), tags, &format!("{name}.local"), 0, 5353),
        _ => emit::name_query(out, QueryKind::Mdns, mac, IpAddr::V4(id.ip4), tags, &format!("{name}.local"), 0, 5353),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canaries_look_like_what_real_clients_send() {
        let mac = [2, 0xcc, 0, 0, 0, 1];
        let id = CanaryIdentity { mac, ip4: "198.18.0.250".parse().unwrap(), broadcast: "198.18.0.255".parse().unwrap(), ll6: CanaryIdentity::link_local(mac) };
        let mut out = [0u8; emit::MAX_FRAME];
        let mut sc = antidote_wire::Scratch::default();
        for proto in 0..PROTOS.len() {
            let n = build(&mut out, &id, proto, "corpfs17", 0x4d2a, 51234, &[]).unwrap();
            let f = antidote_wire::Frame::parse(&out[..n], &mut sc);
            assert!(f.error.is_none(), "{proto}: {:?}", f.error);
            assert_eq!(f.eth.unwrap().src.0, mac);
            match proto {
                0 | 1 => {
                    let m = f.llmnr().unwrap();
                    assert_eq!((m.flags, m.id), (0, 0x4d2a), "LLMNR: flags 0, the random id");
                    assert_eq!(f.net.unwrap().version, if proto == 0 { 4 } else { 6 });
                }
                2 => {
                    let m = f.nbns().unwrap();
                    assert!(m.is_name_query() && m.broadcast());
                    assert_eq!(f.net.unwrap().dst.ip(), IpAddr::V4(id.broadcast));
                }
                3 | 5 => {
                    assert!(f.mdns().is_some());
                    assert_eq!(f.net.unwrap().version, if proto == 3 { 4 } else { 6 });
                }
                _ => {
                    let m = f.ssrp().unwrap();
                    assert_eq!((m.kind, m.instance), (4, &b"CORPFS17"[..]), "CLNT_UCAST_INST for the name");
                    assert_eq!(f.net.unwrap().dst.ip(), IpAddr::V4(id.broadcast));
                }
            }
            assert_eq!(
                antidote_wire::fields::question_name(&f).map(|v| antidote_policy::keys::name_key(&v)),
                Some(antidote_policy::keys::name_key(&Value::StaticStr("corpfs17")))
            );
            // On a VLAN: the same query, tagged.
            let tag = [VlanTag { tpid: 0x8100, tci: 42 }];
            let n = build(&mut out, &id, proto, "corpfs17", 0x4d2a, 51234, &tag).unwrap();
            let f = antidote_wire::Frame::parse(&out[..n], &mut sc);
            assert!(f.error.is_none(), "{proto} tagged: {:?}", f.error);
            assert_eq!(f.eth.unwrap().vlan_id(), Some(42));
        }
    }
}
