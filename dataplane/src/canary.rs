//! Canary identities on the packet path: what the control side builds for the workers to send
//! (an outbox worker 0 empties on its own TX queues), and what a worker does for an identity —
//! answer ARP and neighbour solicitation for its addresses, so a poisoner can reach it, and
//! consume what is sent to it (never forwarded). Its queries' names are registered in the learned
//! network (`Network::canaries`), where the policy's `canary.answered` reads them.
use crate::profile::CanaryIdentity;
use antidote_wire::emit;
use antidote_wire::ethernet::{EthernetRepr, Mac};
use antidote_wire::ndp::{NdpRepr, NEIGHBOR_SOLICIT};
use antidote_wire::triage::{mac_word, MacWatch};
use crossbeam_queue::ArrayQueue;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The protocols canaries are sent over, in the order of the counters (`mdns`: mDNS over
/// IPv4, to 224.0.0.251; `mdns6`: over IPv6, to ff02::fb).
pub const PROTOS: [&str; 6] = ["llmnr4", "llmnr6", "nbns", "mdns", "ssrp", "mdns6"];

/// Whether protocol `proto` ([`PROTOS`]) is carried over IPv4 (a VLAN with no canary IPv4
/// address gets the others alone).
pub fn over_ipv4(proto: usize) -> bool {
    matches!(proto, 0 | 2 | 3 | 4)
}

/// VLAN IDs a worker can count by: 0 (untagged) to 4095.
pub const VLANS: usize = 4096;

/// Per protocol counters of one VLAN of a port.
pub type ProtoCounters = [AtomicU64; PROTOS.len()];

/// A set of VLAN IDs, marked by the workers, read by the control side (lock-free).
pub struct VlanSet([AtomicU64; VLANS / 64]);

impl Default for VlanSet {
    fn default() -> Self {
        VlanSet(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

impl VlanSet {
    /// Marks `vlan` (a load, and a write only the first time).
    #[inline]
    pub fn mark(&self, vlan: u16) {
        let (w, bit) = (&self.0[(vlan as usize & (VLANS - 1)) >> 6], 1u64 << (vlan & 63));
        if w.load(Relaxed) & bit == 0 {
            w.fetch_or(bit, Relaxed);
        }
    }

    /// The VLANs marked, in order.
    pub fn list(&self) -> Vec<u16> {
        let mut out = Vec::new();
        for (i, w) in self.0.iter().enumerate() {
            let mut b = w.load(Relaxed);
            while b != 0 {
                out.push((i * 64) as u16 + b.trailing_zeros() as u16);
                b &= b - 1;
            }
        }
        out
    }
}

/// A frame the control side built, for a worker to send out of port `port`.
#[derive(Clone, Copy)]
pub struct CanaryFrame {
    pub port: u16,
    /// Its VLAN (0: untagged), for the counters.
    pub vlan: u16,
    /// Index into [`PROTOS`].
    pub proto: u8,
    pub len: u16,
    pub data: [u8; emit::MAX_FRAME],
}

/// A name for a probe ([`crate::hold`]), made by the control side: shaped like the segment's
/// own names, never reused.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProbeName {
    pub len: u8,
    pub bytes: [u8; 15],
}

impl ProbeName {
    /// The name, if it fits (NetBIOS names are 15 bytes at most).
    pub fn new(name: &str) -> Option<ProbeName> {
        let b = name.as_bytes();
        if b.is_empty() || b.len() > 15 {
            return None;
        }
        let mut p = ProbeName { len: b.len() as u8, bytes: [0; 15] };
        p.bytes[..b.len()].copy_from_slice(b);
        Some(p)
    }
}

/// Probe names the control side keeps ready.
pub const PROBE_NAMES: usize = 64;

/// Per port: the identities of its pair (untagged and per VLAN), the VLANs seen, counters.
pub struct Canaries {
    /// Per port index: the destination MACs that can concern its identities, for the triage's
    /// first pass to point out ([`MacWatch`]).
    pub watch: Vec<MacWatch>,
    /// Per port index: the identities of the port's pair (both ports of a pair have them; none:
    /// the pair has no canary identity), as they are untagged.
    pub by_port: Vec<Vec<CanaryIdentity>>,
    /// Per port index: the same identities on the VLANs the profile gives addresses for
    /// (`[[pair.canary_vlan]]`), by VLAN ID.
    pub vlans: Vec<Vec<(u16, Vec<CanaryIdentity>)>>,
    /// Per port index: the VLANs seen there (a frame with that outer 802.1Q tag the workers
    /// noted: every ARP frame, frame for an identity and frame judged in full, and every frame
    /// of the first burst of each millisecond — `judge`): where the control side sends canaries
    /// too.
    pub seen: Vec<VlanSet>,
    /// What the control side built; worker 0 sends it.
    pub outbox: ArrayQueue<CanaryFrame>,
    /// Per port, VLAN ([`VLANS`] rows, 0 untagged) and protocol: canaries sent, and answers to
    /// them received.
    pub sent: Vec<Box<[ProtoCounters]>>,
    pub answered: Vec<Box<[ProtoCounters]>>,
    /// ARP requests and neighbour solicitations answered for an identity.
    pub resolved: AtomicU64,
    /// Frames sent to an identity, consumed (not forwarded).
    pub consumed: AtomicU64,
    /// Canaries that could not be sent (no mbuf, TX full, outbox full).
    pub failed: AtomicU64,
    /// Names for the workers' probes, made by the control side ([`PROBE_NAMES`] kept ready).
    pub probe_names: ArrayQueue<ProbeName>,
    /// Answers to probes (each names a poisoner).
    pub probes_answered: AtomicU64,
    /// The frames are a capture's (`antidote replay`): the identities' own canaries and probes in
    /// it are read back (`Network::note_own_query`: their names registered as when they were
    /// sent), nothing is sent or answered, and a held answer is dropped when its sender answers
    /// one of the capture's canaries or probes before its deadline — the live verdicts. Never on
    /// the live wire, where a frame from an identity's MAC is a forgery.
    pub replay: bool,
}

impl Canaries {
    /// The identities of a profile's ports, untagged and per VLAN (None when no pair has one).
    pub fn new(by_port: Vec<Vec<CanaryIdentity>>, vlans: Vec<Vec<(u16, Vec<CanaryIdentity>)>>) -> Option<Canaries> {
        if by_port.iter().all(Vec::is_empty) {
            return None;
        }
        let n = by_port.len();
        let rows = || (0..n).map(|_| (0..VLANS).map(|_| ProtoCounters::default()).collect()).collect();
        let mut vlans = vlans;
        vlans.resize_with(n, Vec::new);
        // Per port: its identities' MACs, and their IPv4 addresses untagged and on every VLAN.
        let watch = by_port
            .iter()
            .zip(&vlans)
            .map(|(ids, on)| {
                let ip4 = ids.iter().chain(on.iter().flat_map(|(_, ids)| ids)).map(|id| id.ip4).filter(|ip| !ip.is_unspecified());
                MacWatch::new(&ids.iter().map(|id| id.mac).collect::<Vec<_>>(), ip4.map(|ip| ip.octets()))
            })
            .collect();
        Some(Canaries {
            watch,
            by_port,
            vlans,
            seen: (0..n).map(|_| VlanSet::default()).collect(),
            outbox: ArrayQueue::new(256),
            sent: rows(),
            answered: rows(),
            resolved: AtomicU64::new(0),
            consumed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            probe_names: ArrayQueue::new(PROBE_NAMES),
            probes_answered: AtomicU64::new(0),
            replay: false,
        })
    }
}

impl Canaries {
    /// Identity `pick` (modulo their number) of port `port`'s pair as it is on `vlan` (0:
    /// untagged): on a VLAN the profile gives no address for, with no IPv4 address
    /// ([`CanaryIdentity::has_ip4`] false). None when the pair has no identity.
    #[inline]
    pub fn identity_on(&self, port: usize, vlan: u16, pick: u64) -> Option<CanaryIdentity> {
        let ids = self.by_port.get(port).filter(|ids| !ids.is_empty())?;
        let k = (pick % ids.len() as u64) as usize;
        if vlan == 0 {
            return Some(ids[k]);
        }
        Some(match self.vlans.get(port).and_then(|v| v.iter().find(|(id, _)| *id == vlan)) {
            Some((_, on)) => on[k],
            None => CanaryIdentity { ip4: Ipv4Addr::UNSPECIFIED, broadcast: Ipv4Addr::UNSPECIFIED, ..ids[k] },
        })
    }

    /// The IPv4 address of identity `k` of port `port`'s pair on `vlan`, if it has one there.
    #[inline]
    pub fn ip4_on(&self, port: usize, vlan: u16, k: usize) -> Option<Ipv4Addr> {
        if vlan == 0 {
            return self.by_port.get(port)?.get(k).map(|id| id.ip4);
        }
        self.vlans.get(port)?.iter().find(|(id, _)| *id == vlan)?.1.get(k).map(|id| id.ip4)
    }

    /// Notes that `vlan` is in use on port `port` (nothing for untagged frames).
    #[inline]
    pub fn saw_vlan(&self, port: usize, vlan: u16) {
        if vlan != 0 {
            if let Some(s) = self.seen.get(port) {
                s.mark(vlan);
            }
        }
    }

    /// Notes the VLAN of frame `d` (its outer 802.1Q tag, if any) as in use on port `port`.
    #[inline]
    pub fn saw_frame(&self, port: usize, d: &[u8]) {
        if let Some(&[0x81, 0x00, hi, lo]) = d.get(12..16) {
            self.saw_vlan(port, u16::from_be_bytes([hi, lo]) & 0x0fff);
        }
    }

    /// Counts one more in `rows` (sent or answered) for port `port`, VLAN `vlan`, protocol
    /// `proto`.
    #[inline]
    pub fn count(rows: &[Box<[ProtoCounters]>], port: usize, vlan: u16, proto: usize) {
        if let Some(n) = rows.get(port).and_then(|r| r.get(vlan as usize & (VLANS - 1))).and_then(|r| r.get(proto)) {
            n.fetch_add(1, Relaxed);
        }
    }

    /// Tells the learned network the identities' MACs (what is sent to one is an answer to the
    /// appliance itself).
    pub fn register(&self, net: &antidote_policy::state::Network) {
        for id in self.by_port.iter().flatten() {
            net.add_identity(id.mac);
        }
    }
}

/// What a frame arriving on a port with identity `id` is to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForIdentity {
    /// Not its business.
    No,
    /// Sent to its MAC: judged (an answer to a canary is what the policy looks for), then
    /// consumed.
    Addressed,
    /// An ARP request or neighbour solicitation for its address: answered (`out` holds the
    /// answer, of this length), consumed.
    Resolve(usize),
}

/// Looks at frame `d` for identity `id` (whose IPv4 address on a VLAN is `ip4_on(vlan)`): a few
/// byte compares for every frame, a parse for the rare ARP request or solicitation to its
/// solicited-node group.
#[inline]
pub fn for_identity(d: &[u8], id: &CanaryIdentity, ip4_on: impl Fn(u16) -> Option<Ipv4Addr>, out: &mut [u8]) -> ForIdentity {
    // The destination MAC as one word: three compares rule out nearly every frame.
    let Some(h) = d.first_chunk::<8>() else { return ForIdentity::No };
    let dst = u64::from_be_bytes(*h) >> 16;
    let m = id.mac;
    let word = |b: [u8; 6]| mac_word(&b);
    if dst == word(m) {
        ForIdentity::Addressed
    } else if dst == word([0xff; 6]) {
        // An ARP request for its address (read at fixed offsets first: broadcasts are common).
        let Some((at, vlan)) = antidote_wire::triage::arp_at(d) else { return ForIdentity::No };
        let Some(target) = d.get(at + 24..at + 28) else { return ForIdentity::No };
        match if vlan == 0 { Some(id.ip4) } else { ip4_on(vlan) } {
            Some(ip) if target == ip.octets() && !ip.is_unspecified() => resolve_arp(d, at, id.mac, ip, out),
            _ => ForIdentity::No,
        }
    } else if dst == word([0x33, 0x33, 0xff, m[3], m[4], m[5]]) {
        resolve_ns(d, id, out)
    } else {
        ForIdentity::No
    }
}

#[inline(never)]
fn resolve_arp(d: &[u8], at: usize, mac: [u8; 6], ip: Ipv4Addr, out: &mut [u8]) -> ForIdentity {
    let (Ok(eth), Ok(req)) = (EthernetRepr::parse(d), antidote_wire::arp::ArpRepr::parse(&d[at..])) else { return ForIdentity::No };
    match emit::arp_reply(out, &eth, &req, Mac(mac), ip) {
        Ok(n) => ForIdentity::Resolve(n),
        Err(_) => ForIdentity::No,
    }
}

#[inline(never)]
fn resolve_ns(d: &[u8], id: &CanaryIdentity, out: &mut [u8]) -> ForIdentity {
    let me = Mac(id.mac);
    let Ok(eth) = EthernetRepr::parse(d) else { return ForIdentity::No };
    let f = antidote_wire::Frame::parse_transport(d);
    let (Some(net), Some(e)) = (f.net, f.eth) else { return ForIdentity::No };
    if net.version != 6 || net.proto != 58 || net.ttl != 255 {
        return ForIdentity::No;
    }
    let (Ok(ns), IpAddr::V6(src)) = (NdpRepr::parse(f.payload), net.src.ip()) else { return ForIdentity::No };
    if ns.kind != NEIGHBOR_SOLICIT || ns.target != Some(id.ll6) {
        return ForIdentity::No;
    }
    match emit::neighbor_advert(out, &eth, ns.lladdr.unwrap_or(e.src), src, me, id.ll6) {
        Ok(n) => ForIdentity::Resolve(n),
        Err(_) => ForIdentity::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn id() -> CanaryIdentity {
        let mac = [2, 0xcc, 0, 0, 0, 1];
        CanaryIdentity { mac, ip4: Ipv4Addr::new(198, 18, 0, 250), broadcast: Ipv4Addr::new(198, 18, 0, 255), ll6: CanaryIdentity::link_local(mac) }
    }

    /// An ARP request from 198.18.0.66 for `target`.
    fn arp_request(target: [u8; 4]) -> Vec<u8> {
        let mut d = vec![0xff; 6];
        d.extend([2, 0xad, 0, 0, 0, 0x66, 0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1, 2, 0xad, 0, 0, 0, 0x66, 198, 18, 0, 66]);
        d.extend([0; 6]);
        d.extend(target);
        d.resize(60, 0);
        d
    }

    #[test]
    fn what_an_identity_answers_and_consumes() {
        let mut out = [0u8; emit::MAX_FRAME];
        let none = |_: u16| None;
        // An ARP request for its address, for another address; a frame to its MAC; another frame.
        let arp = arp_request;
        assert!(matches!(for_identity(&arp([198, 18, 0, 250]), &id(), none, &mut out), ForIdentity::Resolve(60)));
        assert_eq!(for_identity(&arp([198, 18, 0, 20]), &id(), none, &mut out), ForIdentity::No);
        let mut to_it = arp([198, 18, 0, 20]);
        to_it[..6].copy_from_slice(&id().mac);
        assert_eq!(for_identity(&to_it, &id(), none, &mut out), ForIdentity::Addressed);
        let mut other = to_it.clone();
        other[5] = 9;
        assert_eq!(for_identity(&other, &id(), none, &mut out), ForIdentity::No);
        assert_eq!(for_identity(&[1, 2, 3], &id(), none, &mut out), ForIdentity::No);
        assert_eq!(id().ll6, "fe80::cc:ff:fe00:1".parse::<std::net::Ipv6Addr>().unwrap());
        // On VLAN 42, with the tag: answered for the VLAN's address (tagged), not the pair's.
        let tagged = |target: [u8; 4]| {
            let mut d = arp(target);
            d.splice(12..12, [0x81, 0x00, 0x00, 42]);
            d
        };
        let on42 = |v: u16| (v == 42).then_some(Ipv4Addr::new(198, 18, 42, 250));
        let ForIdentity::Resolve(n) = for_identity(&tagged([198, 18, 42, 250]), &id(), on42, &mut out) else { panic!("not answered") };
        assert_eq!((&out[12..16], &out[18 + 14..18 + 18]), (&[0x81, 0x00, 0x00, 42][..], &[198, 18, 42, 250][..]));
        assert!(n >= 60);
        assert_eq!(for_identity(&tagged([198, 18, 0, 250]), &id(), on42, &mut out), ForIdentity::No);
        assert_eq!(for_identity(&tagged([198, 18, 42, 250]), &id(), none, &mut out), ForIdentity::No);
    }

    #[test]
    fn the_watch_rules_out_what_cannot_concern_an_identity() {
        let w = MacWatch::new(&[id().mac], [id().ip4.octets()]);
        // ARP requests are pointed out by their target: one that ends as an identity's address.
        let d = arp_request([198, 18, 0, 250]);
        assert!(w.arp_may_concern(&d, 14));
        assert!(!w.arp_may_concern(&arp_request([198, 18, 0, 9]), 14));
        assert!(!w.arp_may_concern(&d[..14 + 27], 14), "cut short");
        assert!(w.may_concern(mac_word(&id().mac)));
        assert!(w.may_concern(0xffff_ffff_ffff));
        assert!(w.may_concern(mac_word(&[0x33, 0x33, 0xff, 0, 0, 1])), "its solicited-node group");
        assert!(!w.may_concern(mac_word(&[0x33, 0x33, 0xff, 0, 0, 2])));
        assert!(!w.may_concern(mac_word(&[2, 0xcc, 0, 0, 0, 2])));
        assert!(!w.may_concern(mac_word(&[1, 0, 0x5e, 0, 0, 0xfc])), "a multicast group");
        assert!(!MacWatch::NONE.may_concern(mac_word(&id().mac)));
    }

    #[test]
    fn vlan_sets_list_what_was_marked() {
        let s = VlanSet::default();
        for v in [42, 1, 4094, 42, 64] {
            s.mark(v);
        }
        assert_eq!(s.list(), [1, 42, 64, 4094]);
    }
}
