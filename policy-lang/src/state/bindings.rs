//! Bindings learned from the wire: an address, on one segment, bound to the MAC that showed it,
//! with the kinds of evidence seen, when it was first and last seen, and how often another MAC
//! claimed it. An address seen with a new MAC is a conflict: counted on the binding and in the
//! table, never silently rebound — the binding keeps its MAC until it expires unrefreshed. What
//! one forged frame can do is raise a conflict count, not move an address to the forger.
//!
//! Lock-free like the learned tables ([`super::table`]): a slot is claimed with one
//! compare-and-swap of its state, written, then published with a release store; readers check
//! the state before and after reading (a seqlock). Bounded: a full probe window evicts its least
//! recently seen binding, counted.
use super::{hash, LOCKED, PROBE, TOMB};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};

/// Kinds of evidence a binding was learned from (bits of [`Binding::evidence`]).
pub mod evidence {
    /// An ARP request or reply whose sender MAC is the frame's source.
    pub const ARP: u16 = 1 << 0;
    /// An IPv6 neighbour solicitation or advertisement.
    pub const NDP: u16 = 1 << 1;
    /// A DHCP server's acknowledgement.
    pub const DHCP: u16 = 1 << 2;
    /// A router advertisement: the host is a router (infrastructure).
    pub const ROUTER: u16 = 1 << 3;
    /// Loaded from the state directory and not seen since: weaker than what the wire shows
    /// now — it yields to another MAC's claim and does not block learning.
    pub const RESTORED: u16 = 1 << 6;
    /// An NBT-NS name registration or refresh for the sender's own address.
    pub const NBNS: u16 = 1 << 4;
    /// An mDNS announcement or probe of a name with the sender's own address.
    pub const MDNS: u16 = 1 << 5;
    /// Entered by the operator.
    pub const OPERATOR: u16 = 1 << 7;
    /// Answers to queries for the name, from the MAC's own (bound) address, that the policy let
    /// through — weaker than a claim: an owner only once confirmed ([`super::Binding::owns`]),
    /// and it yields to a registration, announcement, probe or DHCP name.
    pub const ANSWER: u16 = 1 << 8;
    /// Another MAC answered for the name before this answer-learned owner was confirmed: it never
    /// will be (two hosts answer for it; neither is taken as its owner).
    pub const CONTESTED: u16 = 1 << 9;
    /// A DHCP server: the source of DHCP offers and acknowledgements (infrastructure, once it has
    /// served for a while).
    pub const DHCP_SERVER: u16 = 1 << 10;
    /// A DNS server that an infrastructure DHCP server hands out (option 6).
    pub const DNS_SERVER: u16 = 1 << 11;
    /// A NetBIOS name server (WINS) that an infrastructure DHCP server hands out (option 44).
    pub const WINS_SERVER: u16 = 1 << 12;
    /// An answer held while its sender was probed, and released: the sender did not answer the
    /// probe (a poisoner would have). With [`ANSWER`]: the name's owner at once, yielding to a
    /// claim like any answer-learned owner. In the verified table: the responder so verified.
    pub const VERIFIED: u16 = 1 << 13;
    /// In the canaries table: the name is a probe's (one responder asked, not the segment).
    pub const PROBE: u16 = 1 << 14;
    /// In the canaries table: an answer for the name came (a poisoner's).
    pub const ANSWERED: u16 = 1 << 15;

    /// Evidence that makes a name's owner by itself (answers alone do not).
    pub const CLAIM: u16 = NBNS | MDNS | DHCP | OPERATOR;
    /// Evidence that a host is infrastructure once it has shown it for a while.
    pub const INFRASTRUCTURE: u16 = ROUTER | DHCP_SERVER;

    /// The kinds of `bits` by name, joined by `+`.
    pub fn names(bits: u16) -> String {
        [
            (ARP, "arp"),
            (NDP, "ndp"),
            (DHCP, "dhcp"),
            (ROUTER, "router"),
            (NBNS, "nbns"),
            (MDNS, "mdns"),
            (RESTORED, "restored"),
            (OPERATOR, "operator"),
            (ANSWER, "answer"),
            (CONTESTED, "contested"),
            (DHCP_SERVER, "dhcp-server"),
            (DNS_SERVER, "dns-server"),
            (WINS_SERVER, "wins-server"),
            (VERIFIED, "verified"),
            (PROBE, "probe"),
            (ANSWERED, "answered"),
        ]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join("+")
    }
}

#[repr(align(64))]
#[derive(Default)]
struct Slot {
    /// Expiry (ms); 0 never used, [`TOMB`] forgotten, [`LOCKED`] being written.
    state: AtomicU64,
    k_hi: AtomicU64,
    k_lo: AtomicU64,
    segment: AtomicU64,
    /// The MAC (low 48 bits) and the evidence bits (bits 48–63).
    value: AtomicU64,
    first_seen: AtomicU64,
    last_seen: AtomicU64,
    conflicts: AtomicU64,
}

impl Slot {
    /// The slot's key, segment and value if it holds a live binding at `now` whose state is
    /// `st` (loaded by the caller), read consistently: None when it changed meanwhile.
    #[inline]
    fn read(&self, st: u64, now: u64) -> Option<(u128, u64, u64)> {
        if st <= TOMB || st == LOCKED || st <= now {
            return None;
        }
        let k = ((self.k_hi.load(Relaxed) as u128) << 64) | self.k_lo.load(Relaxed) as u128;
        let (seg, v) = (self.segment.load(Relaxed), self.value.load(Relaxed));
        std::sync::atomic::fence(Acquire);
        (self.state.load(Relaxed) == st).then_some((k, seg, v))
    }
}

/// What [`BindTable::bind`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// A new binding.
    New,
    /// The binding was there with this MAC: refreshed.
    Same,
    /// The address is bound to another MAC (that one): kept, the conflict counted.
    Conflict([u8; 6]),
    /// No slot could be had (every slot of the window being written): nothing learned.
    Busy,
}

/// One binding, for reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub mac: [u8; 6],
    pub evidence: u16,
    pub first_seen_ms: u64,
    pub last_seen_ms: u64,
    pub expires_at_ms: u64,
    /// How often another MAC claimed the address.
    pub conflicts: u64,
}

impl Binding {
    /// Shown by the wire in this run: not only loaded from before a restart
    /// ([`evidence::RESTORED`]). Only such a binding answers a policy or blocks what it learns.
    #[inline]
    pub fn is_seen(&self) -> bool {
        self.evidence & evidence::RESTORED == 0
    }

    /// As a name's binding: whether its MAC is the name's owner — seen in this run, and either
    /// claimed (registered, announced, probed, named in DHCP, entered by the operator) or
    /// learned from answers confirmed over time ([`CONFIRM_MS`]) or by a probe the sender left
    /// unanswered ([`evidence::VERIFIED`]), with no other MAC answering before.
    #[inline]
    pub fn owns(&self) -> bool {
        self.is_seen()
            && (self.evidence & evidence::CLAIM != 0
                || (self.evidence & evidence::CONTESTED == 0
                    && (self.evidence & evidence::VERIFIED != 0 || self.last_seen_ms.saturating_sub(self.first_seen_ms) >= CONFIRM_MS)))
    }

    /// As a binding of a weak table ([`BindTable::new_weak`]): seen in this run, never contested,
    /// and seen over `confirm_ms` or more.
    #[inline]
    pub fn confirmed_weak(&self, confirm_ms: u64) -> bool {
        self.is_seen() && self.evidence & evidence::CONTESTED == 0 && self.last_seen_ms.saturating_sub(self.first_seen_ms) >= confirm_ms
    }

    /// Whether the host is infrastructure at `now`: it has shown itself a router or a DHCP
    /// server for `after_ms` or more.
    #[inline]
    pub fn is_infrastructure(&self, now: u64, after_ms: u64) -> bool {
        self.is_seen() && self.evidence & evidence::INFRASTRUCTURE != 0 && now.saturating_sub(self.first_seen_ms) >= after_ms
    }
}

fn mac_of(v: u64) -> [u8; 6] {
    let b = v.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

fn word(mac: [u8; 6], evidence: u16) -> u64 {
    let e = evidence.to_be_bytes();
    u64::from_be_bytes([e[0], e[1], mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]])
}

fn evidence_of(v: u64) -> u16 {
    (v >> 48) as u16
}

/// How long after its first answer an answer-learned owner must answer again (uncontested) to be
/// confirmed: repeated answers, not one answer and its retransmissions.
pub const CONFIRM_MS: u64 = 1000;

/// A binding that yields to another MAC's claim: loaded from before a restart and not seen since,
/// or learned from answers alone (while the claim is a registration, announcement, probe or DHCP
/// name), or a verified owner no longer verified, to a newly verified one.
fn yields(old: u16, new: u16) -> bool {
    old & evidence::RESTORED != 0
        || (old & evidence::CLAIM == 0 && old & evidence::ANSWER != 0 && new & evidence::CLAIM != 0)
        // A verified owner whose verification is gone (its caller checked): a newly verified one.
        || (old & evidence::CLAIM == 0 && old & evidence::VERIFIED != 0 && new & evidence::VERIFIED != 0)
}

/// Refreshes of a binding's last-seen time closer together than this are not written (the line
/// is shared by every worker that sees the host).
const REFRESH_MS: u64 = 1000;

/// Addresses bound to MACs, per segment. See the module.
pub struct BindTable {
    slots: Box<[Slot]>,
    /// One bit per slot: set once the slot was ever claimed. A lookup whose first slot was never
    /// used ends on this bit (16 KiB for 131,072 slots, kept in cache) without touching the slot's
    /// own line: on a sparse table — a few hundred hosts in room for 65,536 — a key nobody
    /// learned (what a flood of forged sources brings) costs no miss to memory.
    used: Box<[AtomicU64]>,
    mask: usize,
    pub ttl_ms: u64,
    pub max: usize,
    /// Every binding is weak evidence ([`BindTable::new_weak`]): another MAC showing the key
    /// before the binding is `confirm_ms` old marks it contested.
    weak: bool,
    confirm_ms: u64,
    inserted: AtomicUsize,
    evicted: AtomicUsize,
    conflicts: AtomicU64,
}

impl BindTable {
    /// A table of `max` bindings (rounded up to a power of two of slots, twice as many) that
    /// each live `ttl_ms` after they were last seen.
    pub fn new(max: usize, ttl_ms: u64) -> BindTable {
        let cap = (max.max(8) * 2).next_power_of_two();
        BindTable {
            slots: (0..cap).map(|_| Slot::default()).collect(),
            used: (0..cap.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
            mask: cap - 1,
            ttl_ms,
            max,
            weak: false,
            confirm_ms: CONFIRM_MS,
            inserted: AtomicUsize::new(0),
            evicted: AtomicUsize::new(0),
            conflicts: AtomicU64::new(0),
        }
    }

    /// A table of weak bindings (what ordinary traffic shows: any frame can carry any source): a
    /// binding is confirmed once it has been seen for `confirm_ms` with no other MAC showing its
    /// key meanwhile, and contested for good (until it expires) when another MAC does
    /// ([`Binding::confirmed_weak`]).
    pub fn new_weak(max: usize, ttl_ms: u64, confirm_ms: u64) -> BindTable {
        BindTable { weak: true, confirm_ms, ..BindTable::new(max, ttl_ms) }
    }

    fn index(key: u128, segment: u64) -> usize {
        hash(key ^ (segment as u128) << 100)
    }

    /// The slot holding `key` on `segment` live, its state and value, read consistently.
    #[inline]
    fn find(&self, key: u128, segment: u64, now: u64) -> Option<(&Slot, u64, u64)> {
        let h = Self::index(key, segment);
        for i in 0..PROBE {
            let idx = (h + i) & self.mask;
            if self.used[idx >> 6].load(Relaxed) >> (idx & 63) & 1 == 0 {
                return None;
            }
            let s = &self.slots[idx];
            let st = s.state.load(Acquire);
            if st == 0 {
                return None;
            }
            if let Some((k, seg, v)) = s.read(st, now) {
                if k == key && seg == segment {
                    return Some((s, st, v));
                }
            }
        }
        None
    }

    /// Binds `key` (an address) on `segment` to `mac`, seen now with `evidence`: a new binding,
    /// a refresh of the same one, or a conflict with the MAC it is bound to (kept).
    pub fn bind(&self, key: u128, segment: u64, mac: [u8; 6], evidence: u16, now: u64) -> Bound {
        let expires = now.saturating_add(self.ttl_ms.max(1));
        if let Some((s, st, v)) = self.find(key, segment, now) {
            if mac_of(v) != mac {
                s.conflicts.fetch_add(1, Relaxed);
                self.conflicts.fetch_add(1, Relaxed);
                // A binding loaded from before the restart and not seen since yields to what the
                // wire shows now, an answer-learned owner to a claim (the conflict still counted).
                let old = evidence_of(v);
                if yields(old, evidence) && s.value.compare_exchange(v, word(mac, evidence), AcqRel, Relaxed).is_ok() {
                    s.first_seen.store(now, Relaxed);
                    s.last_seen.store(now, Relaxed);
                    let _ = s.state.compare_exchange(st, expires.max(st), AcqRel, Relaxed);
                    return Bound::New;
                }
                // Two MACs answering for a name before either was confirmed: neither owns it
                // (in a weak table: two MACs showing the key before its binding was confirmed).
                let weak = self.weak || (old & evidence::CLAIM == 0 && old & evidence::ANSWER != 0);
                if weak && old & evidence::CONTESTED == 0 && s.last_seen.load(Relaxed).saturating_sub(s.first_seen.load(Relaxed)) < self.confirm_ms {
                    let _ = s.value.compare_exchange(v, word(mac_of(v), old | evidence::CONTESTED), AcqRel, Relaxed);
                }
                return Bound::Conflict(mac_of(v));
            }
            let seen = (evidence_of(v) | evidence) & !evidence::RESTORED;
            if evidence_of(v) != seen {
                // Only this MAC's bits change (and a restored binding is seen again): a slot
                // rewritten meanwhile is caught below.
                let _ = s.value.compare_exchange(v, word(mac, seen), AcqRel, Relaxed);
            }
            if now.saturating_sub(s.last_seen.load(Relaxed)) >= REFRESH_MS {
                s.last_seen.store(now, Relaxed);
                let _ = s.state.compare_exchange(st, expires.max(st), AcqRel, Relaxed);
            }
            return Bound::Same;
        }
        let h = Self::index(key, segment);
        for _attempt in 0..4 {
            // A never-used, forgotten or expired slot; else the least recently seen of the window.
            let mut victim: Option<(usize, u64, u64)> = None;
            for i in 0..PROBE {
                let idx = (h + i) & self.mask;
                let s = &self.slots[idx];
                let st = s.state.load(Acquire);
                if st == LOCKED {
                    continue;
                }
                if st <= TOMB || st <= now {
                    victim = Some((idx, st, 0));
                    break;
                }
                let seen = s.last_seen.load(Relaxed);
                if victim.map(|v| seen < v.2).unwrap_or(true) {
                    victim = Some((idx, st, seen));
                }
            }
            let Some((idx, st, _)) = victim else { continue };
            let s = &self.slots[idx];
            if st == 0 {
                // Marked used before it is: a lookup that reads the bit clear reads the slot empty.
                self.used[idx >> 6].fetch_or(1 << (idx & 63), Release);
            }
            if s.state.compare_exchange(st, LOCKED, AcqRel, Relaxed).is_ok() {
                if st > TOMB && st > now {
                    self.evicted.fetch_add(1, Relaxed);
                }
                s.k_hi.store((key >> 64) as u64, Relaxed);
                s.k_lo.store(key as u64, Relaxed);
                s.segment.store(segment, Relaxed);
                s.value.store(word(mac, evidence), Relaxed);
                s.first_seen.store(now, Relaxed);
                s.last_seen.store(now, Relaxed);
                s.conflicts.store(0, Relaxed);
                s.state.store(expires.max(TOMB + 1), Release);
                // Two workers that missed the address at once may each have claimed a slot: after
                // the fence each sees the other's (at least one of them does), and one that sees
                // another binding of the address forgets its own. (Both may: the next frame from
                // the host binds it again.)
                std::sync::atomic::fence(SeqCst);
                for i in 0..PROBE {
                    let oi = (h + i) & self.mask;
                    if oi == idx {
                        continue;
                    }
                    let o = &self.slots[oi];
                    let mut ost = o.state.load(Acquire);
                    // A slot being written: wait for it (a few stores) a bounded while.
                    for _ in 0..256 {
                        if ost != LOCKED {
                            break;
                        }
                        std::hint::spin_loop();
                        ost = o.state.load(Acquire);
                    }
                    let Some((k, seg, v)) = o.read(ost, now) else { continue };
                    if k == key && seg == segment {
                        s.state.store(TOMB, Release);
                        if mac_of(v) != mac {
                            o.conflicts.fetch_add(1, Relaxed);
                            self.conflicts.fetch_add(1, Relaxed);
                            return Bound::Conflict(mac_of(v));
                        }
                        return Bound::Same;
                    }
                }
                self.inserted.fetch_add(1, Relaxed);
                return Bound::New;
            }
        }
        Bound::Busy
    }

    /// Puts back a binding saved earlier (a restart), marked [`evidence::RESTORED`] until the
    /// wire shows it again: it expires at `b.expires_at_ms` (run clock), as it would have, and
    /// keeps its first-seen time and conflict count.
    pub fn restore(&self, key: u128, segment: u64, b: &Binding, now: u64) -> Bound {
        let r = self.bind(key, segment, b.mac, b.evidence | evidence::RESTORED, now);
        if r == Bound::New {
            if let Some((s, st, v)) = self.find(key, segment, now) {
                s.first_seen.store(b.first_seen_ms.min(b.last_seen_ms), Relaxed);
                s.last_seen.store(b.last_seen_ms, Relaxed);
                s.conflicts.store(b.conflicts, Relaxed);
                let _ = s.value.compare_exchange(v, word(b.mac, b.evidence | evidence::RESTORED), AcqRel, Relaxed);
                let _ = s.state.compare_exchange(st, b.expires_at_ms.max(now + 1), AcqRel, Relaxed);
            }
        }
        r
    }

    /// The binding of `key` on `segment`, if live.
    #[inline]
    pub fn get(&self, key: u128, segment: u64, now: u64) -> Option<Binding> {
        self.find(key, segment, now).map(|(s, st, v)| Binding {
            mac: mac_of(v),
            evidence: evidence_of(v),
            first_seen_ms: s.first_seen.load(Relaxed),
            last_seen_ms: s.last_seen.load(Relaxed),
            expires_at_ms: st,
            conflicts: s.conflicts.load(Relaxed),
        })
    }

    /// Adds `bits` to the evidence of the binding of `key` on `segment` (its MAC unchanged); true
    /// if it was there.
    pub fn mark(&self, key: u128, segment: u64, bits: u16, now: u64) -> bool {
        match self.find(key, segment, now) {
            Some((s, _, v)) => s.value.compare_exchange(v, word(mac_of(v), evidence_of(v) | bits), AcqRel, Relaxed).is_ok(),
            None => false,
        }
    }

    /// Forgets the binding of `key` on `segment`; true if it was there.
    pub fn remove(&self, key: u128, segment: u64, now: u64) -> bool {
        match self.find(key, segment, now) {
            Some((s, st, _)) => s.state.compare_exchange(st, TOMB, AcqRel, Relaxed).is_ok(),
            None => false,
        }
    }

    /// Every live binding as (key, segment, binding). Allocates: control side only.
    pub fn entries(&self, now: u64) -> Vec<(u128, u64, Binding)> {
        let mut out = Vec::new();
        for s in self.slots.iter() {
            let Some((k, seg, _)) = s.read(s.state.load(Acquire), now) else { continue };
            if let Some(b) = self.get(k, seg, now) {
                out.push((k, seg, b));
            }
        }
        out
    }

    /// Conflicts seen (another MAC claiming a bound address), over the table's life.
    pub fn conflicts(&self) -> u64 {
        self.conflicts.load(Relaxed)
    }

    /// Live bindings pushed out to make room.
    pub fn evictions(&self) -> usize {
        self.evicted.load(Relaxed)
    }

    /// Bindings learned (new ones, not refreshes).
    pub fn learned(&self) -> usize {
        self.inserted.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const A: [u8; 6] = [2, 0, 0, 0, 0, 0x20];
    const B: [u8; 6] = [2, 0, 0, 0, 0, 0x66];

    #[test]
    fn a_bound_address_is_never_rebound_to_another_mac() {
        let t = BindTable::new(64, 10_000);
        assert_eq!(t.bind(20, 0, A, evidence::ARP, 1), Bound::New);
        assert_eq!(t.bind(20, 0, A, evidence::DHCP, 2000), Bound::Same);
        // A forged claim: counted, the binding stays.
        assert_eq!(t.bind(20, 0, B, evidence::ARP, 3000), Bound::Conflict(A));
        let b = t.get(20, 0, 3001).unwrap();
        assert_eq!((b.mac, b.evidence, b.conflicts, b.first_seen_ms, b.last_seen_ms), (A, evidence::ARP | evidence::DHCP, 1, 1, 2000));
        assert_eq!(t.conflicts(), 1);
        // Segments are apart: the same address elsewhere is another host.
        assert_eq!(t.bind(20, 1, B, evidence::ARP, 3000), Bound::New);
        assert_eq!(t.get(20, 1, 3001).unwrap().mac, B);
        // Unrefreshed, it expires; then the address may be bound anew.
        assert!(t.get(20, 0, 12_001).is_none());
        assert_eq!(t.bind(20, 0, B, evidence::ARP, 12_001), Bound::New);
        assert_eq!(t.entries(12_002).len(), 2);
        assert_eq!(t.entries(13_001).len(), 1, "segment 1's binding, unrefreshed, expired at 13 000");
    }

    #[test]
    fn refreshes_keep_a_binding_alive_and_eviction_takes_the_least_recently_seen() {
        let t = BindTable::new(8, 10_000);
        t.bind(1, 0, A, evidence::ARP, 1);
        for now in (1000..30_000).step_by(1000) {
            assert_eq!(t.bind(1, 0, A, evidence::ARP, now), Bound::Same);
        }
        assert!(t.get(1, 0, 30_000).is_some(), "seen every second: alive long after its first ttl");
        // Many more hosts than room: bounded, evictions counted, the busy host stays.
        for k in 100..2100u128 {
            t.bind(k, 0, B, evidence::ARP, 30_000 + k as u64);
            t.bind(1, 0, A, evidence::ARP, 30_000 + k as u64);
        }
        assert!(t.entries(32_100).len() <= 16);
        assert!(t.evictions() > 1000);
        assert_eq!(t.get(1, 0, 32_100).map(|b| b.mac), Some(A));
    }

    #[test]
    fn shared_between_threads() {
        let t = std::sync::Arc::new(BindTable::new(4096, 60_000));
        let hs: Vec<_> = (0..4u8)
            .map(|w| {
                let t = t.clone();
                std::thread::spawn(move || {
                    for i in 0..2000u128 {
                        // Every thread claims every address, with its own MAC: one wins each.
                        // (Each starts a quarter of the way further, so that most claims meet an
                        // earlier binding rather than a claim in flight.)
                        let k = (i + 500 * w as u128) % 2000;
                        t.bind(k, 0, [2, 0, 0, 0, 0, w], evidence::ARP, 1 + i as u64);
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        let e = t.entries(3000);
        let mut keys: Vec<u128> = e.iter().map(|(k, _, _)| *k).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), e.len(), "one binding per address");
        // (Two claims that see each other may both step back; the next frame binds it. With
        // four threads on as few as two CPUs, a descheduled one may catch up with another and
        // race it claim for claim: a tenth stepped back that way in one run of eight.)
        assert!(e.len() >= 1500, "{} of 2000 addresses bound", e.len());
        let conflicts: u64 = e.iter().map(|(_, _, b)| b.conflicts).sum();
        assert!(conflicts <= t.conflicts(), "every conflict on a binding is in the total");
        assert!(t.conflicts() > 0, "the losers' claims are counted");
        for k in 0..2000u128 {
            t.bind(k, 0, [2, 0, 0, 0, 0, 0], evidence::ARP, 2500);
        }
        assert_eq!(t.entries(3000).len(), 2000, "the next claim binds what stepped back");
    }
}
