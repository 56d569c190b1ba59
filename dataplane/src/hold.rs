//! Answers held while their sender is probed (the policy's `verify for T else V`).
//!
//! An answer for a name nobody owns, from a responder not yet verified, is kept by the worker
//! (its mbuf, in a bounded store) while the appliance asks that responder, from the segment's
//! canary identity, for a name that exists nowhere — the way a poisoner answers: a unicast LLMNR
//! query, an NBT-NS 0x0110 query, an mDNS QM question, addressed to the responder's MAC alone.
//! The probe's name is registered in the learned network (`Network::probes`), so its answer is
//! a canary answer (`canary.answered`): the policy drops it and learns the poisoner, and the
//! worker that notes it ([`crate::act`]) marks the probe answered. The worker then drops the held
//! answer; a probe still unanswered at the deadline releases it unchanged, and the responder is
//! remembered as verified and as the name's owner (`Network::learn_verified`).
//!
//! While a name's answers are held, the answers that follow for it on the segment are held with
//! them until the same deadline (a verified or trusted responder's answer does not win the race
//! the hold would otherwise hand it); they are released in the order they came.
//!
//! When the store is full, the port has no canary identity or the probe cannot be built, the
//! rule's fallback verdict applies, counted.
use crate::profile::CanaryIdentity;
use antidote_dpdk::{Mbuf, Mempool};
use antidote_policy::state::bindings::evidence;
use antidote_policy::state::Network;
use antidote_wire::emit::{self, QueryKind};
use antidote_wire::ethernet::Mac;
use antidote_wire::frame::{App, Frame};
use std::net::IpAddr;

/// Answers a worker holds at most.
pub const HOLD_SLOTS: usize = 256;

/// What the slow path decided to hold (the frame's mbuf is handed over after the burst is
/// judged, [`HoldStore::admit`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Pending {
    /// Index of the worker's task the frame came in on (its TX port is where it goes).
    pub task: u16,
    pub segment: u64,
    /// The answered name's key (`antidote_policy::keys::name_key`).
    pub name: u128,
    /// The key of the probe's name (0: no probe sent — held with its name's group, or in a
    /// replay).
    pub probe: u128,
    /// The responder's key in `Network::probes` ([`Network::responder_probe_key`]; 0: held
    /// with its name's group, not probed): marked when it answers any canary or probe.
    pub responder: u128,
    pub deadline: u64,
}

struct Held {
    p: Pending,
    mbuf: Mbuf,
}

/// What became of held answers in one look at the store.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    pub released: u64,
    pub dropped: u64,
}

/// A worker's held answers. No allocation after it is made: the store and the burst's pending
/// holds are fixed arrays.
pub struct HoldStore {
    held: Vec<Held>,
    /// The current burst's holds, by frame index (`pending_mask` bit set: decided).
    pending: [Pending; 32],
    pub(crate) pending_mask: u32,
    /// When the store was last looked at (ms).
    looked: u64,
    rng: u64,
}

impl Default for HoldStore {
    fn default() -> Self {
        HoldStore::new(0x9e37_79b9_7f4a_7c15)
    }
}

impl HoldStore {
    pub fn new(seed: u64) -> HoldStore {
        HoldStore { held: Vec::with_capacity(HOLD_SLOTS), pending: [Pending::default(); 32], pending_mask: 0, looked: 0, rng: seed | 1 }
    }

    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty() && self.pending_mask == 0
    }

    /// Room for one more hold (counting this burst's pending ones).
    #[inline]
    pub fn has_room(&self) -> bool {
        self.held.len() + (self.pending_mask.count_ones() as usize) < HOLD_SLOTS
    }

    /// The deadline of the answers held for name `name` on `segment`, if any are held (or about
    /// to be, in this burst).
    #[inline]
    pub fn deadline_of(&self, name: u128, segment: u64) -> Option<u64> {
        let mut m = self.pending_mask;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            if self.pending[i].name == name && self.pending[i].segment == segment {
                return Some(self.pending[i].deadline);
            }
        }
        self.held.iter().find(|h| h.p.name == name && h.p.segment == segment).map(|h| h.p.deadline)
    }

    /// Notes that frame `i` of the burst is to be held.
    #[inline]
    pub fn pend(&mut self, i: usize, p: Pending) {
        self.pending[i] = p;
        self.pending_mask |= 1 << i;
    }

    /// Takes frame `i`'s mbuf into the store (its hold decided in this burst).
    #[inline]
    pub fn admit(&mut self, i: usize, mbuf: Mbuf) {
        debug_assert!(self.pending_mask >> i & 1 == 1 && self.held.len() < HOLD_SLOTS);
        self.held.push(Held { p: self.pending[i], mbuf });
    }

    /// Ends the burst's pending holds.
    #[inline]
    pub fn end_burst(&mut self) {
        self.pending_mask = 0;
    }

    /// A random number (xorshift64*).
    pub fn random(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Settles what is due at `now`, once per millisecond: an answer whose probe was answered (or whose sender answered any canary or probe meanwhile) is
    /// dropped (its task index handed to `dropped`); an answer whose deadline passed is handed to
    /// `release` (the task index and the mbuf) and its sender learned as verified. Returns what
    /// it did.
    pub fn settle(
        &mut self,
        net: &Network,
        now: u64,
        scratch: &mut antidote_wire::Scratch,
        mut release: impl FnMut(u16, Mbuf),
        mut dropped: impl FnMut(u16),
    ) -> Settled {
        let mut s = Settled::default();
        if self.held.is_empty() || self.looked == now {
            return s;
        }
        self.looked = now;
        let mut i = 0;
        // In arrival order: released frames leave in the order they came.
        while i < self.held.len() {
            let p = self.held[i].p;
            let marked = |k: u128| k != 0 && net.probes.get(k, p.segment, now).is_some_and(|b| b.evidence & evidence::ANSWERED != 0);
            let answered = marked(p.probe) || marked(p.responder);
            if answered {
                drop(self.held.remove(i));
                dropped(p.task);
                s.dropped += 1;
                continue;
            }
            if now >= p.deadline {
                let h = self.held.remove(i);
                if p.responder != 0 {
                    let f = Frame::parse(h.mbuf.data(), scratch);
                    net.learn_verified(&f, p.segment, now);
                }
                release(p.task, h.mbuf);
                s.released += 1;
                continue;
            }
            i += 1;
        }
        s
    }

    /// Makes every held answer due at the next [`HoldStore::settle`] (at shutdown: each is
    /// released, or dropped if its probe was answered — as its deadline would have had it).
    pub fn expire_all(&mut self) {
        for h in &mut self.held {
            h.p.deadline = 0;
        }
        self.looked = u64::MAX;
    }

    /// Frees everything held (at shutdown); returns how many.
    pub fn clear(&mut self) -> usize {
        let n = self.held.len();
        self.held.clear();
        n
    }
}

/// The protocol of a probe (and of the answer it checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Llmnr4,
    Llmnr6,
    Nbns,
    Mdns4,
    Mdns6,
    /// A SQL-browser answer: an instance request for a random instance name.
    Ssrp,
}

/// The probe that checks the sender of answer `f`, if it is one a probe can check.
pub fn probe_kind(f: &Frame<'_>) -> Option<ProbeKind> {
    let v6 = f.net?.version == 6;
    Some(match (&f.app, v6) {
        (App::Llmnr(_), false) => ProbeKind::Llmnr4,
        (App::Llmnr(_), true) => ProbeKind::Llmnr6,
        (App::Nbns(_), false) => ProbeKind::Nbns,
        (App::Mdns(_), false) => ProbeKind::Mdns4,
        (App::Mdns(_), true) => ProbeKind::Mdns6,
        (App::Ssrp(_), false) => ProbeKind::Ssrp,
        _ => return None,
    })
}

/// Prefixes of probe names when the control side has none ready.
const PREFIXES: [&[u8]; 8] = [b"fs", b"srv", b"print", b"nas", b"files", b"backup", b"app", b"share"];

/// A probe name: from the control side's supply when it has one (names shaped like the
/// segment's own, never reused), else a prefix and four random digits. Written to `out`;
/// returns its length.
pub fn probe_name(store: &mut HoldStore, supply: Option<&crossbeam_queue::ArrayQueue<crate::canary::ProbeName>>, out: &mut [u8; 16]) -> usize {
    if let Some(n) = supply.and_then(|q| q.pop()) {
        let len = (n.len as usize).min(15);
        out[..len].copy_from_slice(&n.bytes[..len]);
        return len;
    }
    let r = store.random();
    let p = PREFIXES[(r % PREFIXES.len() as u64) as usize];
    out[..p.len()].copy_from_slice(p);
    let mut d = (r >> 16) % 10_000;
    for j in (0..4).rev() {
        out[p.len() + j] = b'0' + (d % 10) as u8;
        d /= 10;
    }
    p.len() + 4
}

/// Builds the probe of the sender of answer `f` (kind `kind`) for `name` from identity `id`, in
/// a fresh mbuf, with the answer's VLAN tags, a random transaction ID and source port.
pub fn build_probe(f: &Frame<'_>, kind: ProbeKind, id: &CanaryIdentity, name: &str, rnd: u64, pool: &Mempool) -> Option<Mbuf> {
    let eth = f.eth?;
    let net = f.net?;
    // (An identity with no IPv4 address on the answer's VLAN cannot ask over IPv4.)
    if matches!(kind, ProbeKind::Llmnr4 | ProbeKind::Nbns | ProbeKind::Mdns4 | ProbeKind::Ssrp) && !id.has_ip4() {
        return None;
    }
    let tags = &eth.vlans[..eth.vlan_count as usize];
    let me = Mac(id.mac);
    let (txid, port) = (rnd as u16, 49152 + ((rnd >> 16) % 16384) as u16);
    let mut mb = Mbuf::alloc(pool)?;
    let buf = mb.append(emit::MAX_FRAME as u16)?;
    let mut local = [0u8; 255];
    let n = match kind {
        ProbeKind::Llmnr4 => emit::query(buf, QueryKind::Llmnr, me, IpAddr::V4(id.ip4), tags, name, txid, port, Some((eth.src, net.src.ip()))),
        ProbeKind::Llmnr6 => emit::query(buf, QueryKind::Llmnr, me, IpAddr::V6(id.ll6), tags, name, txid, port, Some((eth.src, net.src.ip()))),
        ProbeKind::Nbns => {
            emit::query(buf, QueryKind::Nbns { broadcast: id.broadcast }, me, IpAddr::V4(id.ip4), tags, name, txid, 137, Some((eth.src, net.src.ip())))
        }
        ProbeKind::Ssrp => {
            let std::net::IpAddr::V4(to) = net.src.ip() else { return None };
            let mut upper = [0u8; 32];
            let l = name.len().min(32);
            upper[..l].copy_from_slice(&name.as_bytes()[..l]);
            upper[..l].make_ascii_uppercase();
            emit::ssrp_query(buf, me, id.ip4, eth.src, to, tags, std::str::from_utf8(&upper[..l]).ok()?, port)
        }
        ProbeKind::Mdns4 | ProbeKind::Mdns6 => {
            // `name.local`, without allocating.
            let l = name.len().min(240);
            local[..l].copy_from_slice(&name.as_bytes()[..l]);
            local[l..l + 6].copy_from_slice(b".local");
            let full = std::str::from_utf8(&local[..l + 6]).ok()?;
            let src = if kind == ProbeKind::Mdns4 { IpAddr::V4(id.ip4) } else { IpAddr::V6(id.ll6) };
            emit::query(buf, QueryKind::Mdns, me, src, tags, full, 0, 5353, Some((eth.src, net.src.ip())))
        }
    }
    .ok()?;
    mb.trim((emit::MAX_FRAME - n) as u16).then_some(mb)
}
