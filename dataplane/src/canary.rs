//! Canary identities on the packet path: what the control side builds for the workers to send
//! (an outbox worker 0 empties on its own TX queues), and what a worker does for an identity —
//! answer ARP and neighbour solicitation for its addresses, so a poisoner can reach it, and
//! consume what is sent to it (never forwarded). Its queries' names are registered in the learned
//! network (`Network::canaries`), where the policy's `canary.answered` reads them.
use crate::profile::CanaryIdentity;
use antidote_wire::emit;
use antidote_wire::ethernet::{EthernetRepr, Mac};
use antidote_wire::ndp::{NdpRepr, NEIGHBOR_SOLICIT};
use crossbeam_queue::ArrayQueue;
use std::net::IpAddr;
use std::sync::atomic::AtomicU64;

/// The protocols canaries are sent over, in the order of the counters.
pub const PROTOS: [&str; 5] = ["llmnr4", "llmnr6", "nbns", "mdns", "ssrp"];

/// A frame the control side built, for a worker to send out of port `port`.
pub struct CanaryFrame {
    pub port: u16,
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

/// Per port: the identity of its pair, counters.
pub struct Canaries {
    /// Per port index: the identities of the port's pair (both ports of a pair have them; none:
    /// the pair has no canary identity).
    pub by_port: Vec<Vec<CanaryIdentity>>,
    /// What the control side built; worker 0 sends it.
    pub outbox: ArrayQueue<CanaryFrame>,
    /// Per port and protocol: canaries sent, and answers to them received.
    pub sent: Vec<[AtomicU64; PROTOS.len()]>,
    pub answered: Vec<[AtomicU64; PROTOS.len()]>,
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
}

impl Canaries {
    /// The identities of a profile's ports (None when no pair has one).
    pub fn new(by_port: Vec<Vec<CanaryIdentity>>) -> Option<Canaries> {
        if by_port.iter().all(Vec::is_empty) {
            return None;
        }
        let n = by_port.len();
        Some(Canaries {
            by_port,
            outbox: ArrayQueue::new(256),
            sent: (0..n).map(|_| Default::default()).collect(),
            answered: (0..n).map(|_| Default::default()).collect(),
            resolved: AtomicU64::new(0),
            consumed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            probe_names: ArrayQueue::new(PROBE_NAMES),
            probes_answered: AtomicU64::new(0),
        })
    }
}

impl Canaries {
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

/// Looks at frame `d` for identity `id`: a few byte compares for every frame, a parse for the
/// rare ARP request or solicitation to its solicited-node group.
#[inline]
pub fn for_identity(d: &[u8], id: &CanaryIdentity, out: &mut [u8]) -> ForIdentity {
    // The destination MAC as one word: three compares rule out nearly every frame.
    let Some(h) = d.first_chunk::<8>() else { return ForIdentity::No };
    let dst = u64::from_be_bytes(*h) >> 16;
    let m = id.mac;
    let word = |b: [u8; 6]| u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]);
    if dst == word(m) {
        ForIdentity::Addressed
    } else if dst == word([0xff; 6]) {
        // An ARP request for its address (read at fixed offsets first: broadcasts are common).
        match antidote_wire::triage::arp_at(d) {
            Some((at, _)) if d.get(at + 24..at + 28) == Some(&id.ip4.octets()[..]) => resolve_arp(d, at, id, out),
            _ => ForIdentity::No,
        }
    } else if dst == word([0x33, 0x33, 0xff, m[3], m[4], m[5]]) {
        resolve_ns(d, id, out)
    } else {
        ForIdentity::No
    }
}

#[inline(never)]
fn resolve_arp(d: &[u8], at: usize, id: &CanaryIdentity, out: &mut [u8]) -> ForIdentity {
    let (Ok(eth), Ok(req)) = (EthernetRepr::parse(d), antidote_wire::arp::ArpRepr::parse(&d[at..])) else { return ForIdentity::No };
    match emit::arp_reply(out, &eth, &req, Mac(id.mac), id.ip4) {
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

    #[test]
    fn what_an_identity_answers_and_consumes() {
        let mut out = [0u8; emit::MAX_FRAME];
        // An ARP request for its address, for another address; a frame to its MAC; another frame.
        let arp = |target: [u8; 4]| {
            let mut d = vec![0xff; 6];
            d.extend([2, 0xad, 0, 0, 0, 0x66, 0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1, 2, 0xad, 0, 0, 0, 0x66, 198, 18, 0, 66]);
            d.extend([0; 6]);
            d.extend(target);
            d.resize(60, 0);
            d
        };
        assert!(matches!(for_identity(&arp([198, 18, 0, 250]), &id(), &mut out), ForIdentity::Resolve(60)));
        assert_eq!(for_identity(&arp([198, 18, 0, 20]), &id(), &mut out), ForIdentity::No);
        let mut to_it = arp([198, 18, 0, 20]);
        to_it[..6].copy_from_slice(&id().mac);
        assert_eq!(for_identity(&to_it, &id(), &mut out), ForIdentity::Addressed);
        let mut other = to_it.clone();
        other[5] = 9;
        assert_eq!(for_identity(&other, &id(), &mut out), ForIdentity::No);
        assert_eq!(for_identity(&[1, 2, 3], &id(), &mut out), ForIdentity::No);
        assert_eq!(id().ll6, "fe80::cc:ff:fe00:1".parse::<std::net::Ipv6Addr>().unwrap());
    }
}
