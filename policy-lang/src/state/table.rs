//! Learned tables: keys with a TTL, a maximum size and least-recently-used eviction, and the
//! address filter of each (see the module above for the slot protocol).
//!
//! A table holds at most `max` keys: once it holds that many, a new key takes the slot of an
//! expired one or of the least recently used one near its hash (the probe window), never a free
//! slot. A key learned from proof (a confirmed key: an answer to the appliance's own canary or
//! probe) is pushed out only by another confirmed key, so a flood of forged frames cannot make
//! the table forget a poisoner it caught; a new key that finds nothing it may push out is
//! refused, counted.
use super::{hash, tag_of, LOCKED, PROBE, TOMB};
use antidote_wire::triage::AddrFilter;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};

#[repr(align(64))]
#[derive(Default)]
struct Slot {
    state: AtomicU64,
    k_hi: AtomicU64,
    k_lo: AtomicU64,
    learned_at: AtomicU64,
    last_used: AtomicU64,
    /// 0: an ordinary key; [`CONFIRMED`]: learned from proof.
    rank: AtomicU64,
}

/// The rank of a key learned from proof (an answer to one of the appliance's canaries or probes).
pub const CONFIRMED: u64 = 1;

impl Slot {
    /// The key if the slot holds a live one (state > now), read consistently.
    #[inline]
    fn live_key(&self, now: u64) -> Option<(u128, u64)> {
        let s1 = self.state.load(Acquire);
        if s1 <= TOMB || s1 == LOCKED || s1 <= now {
            return None;
        }
        let k = ((self.k_hi.load(Relaxed) as u128) << 64) | self.k_lo.load(Relaxed) as u128;
        std::sync::atomic::fence(Acquire);
        (self.state.load(Relaxed) == s1).then_some((k, s1))
    }

    fn write(&self, key: u128, now: u64, expires: u64, rank: u64) {
        self.k_hi.store((key >> 64) as u64, Relaxed);
        self.k_lo.store(key as u64, Relaxed);
        self.learned_at.store(now, Relaxed);
        self.last_used.store(now, Relaxed);
        self.rank.store(rank, Relaxed);
        self.state.store(expires.max(TOMB + 1), Release);
    }
}

/// A learned table: keys (IP/MAC/int as themselves, strings as a 128-bit hash) with an expiry.
pub struct LearnTable {
    slots: Box<[Slot]>,
    /// A byte per slot: 0 while it was never claimed, else the tag of the key written last
    /// ([`tag_of`]). A lookup reads the tags first and touches a slot only when its tag
    /// matches: a table sized for 10 000 keys spans 2 MiB of slots, past the caches, and most
    /// lookups (is this segment's address a poisoner?) are misses, which now end in a 32 KiB
    /// array instead of a slot far away. The tag is written by the one writer that claimed the
    /// slot (a compare-and-swap of the tag from 0, or of the state), before the key is
    /// published; so a published key's slot always carries its tag.
    tags: Box<[std::sync::atomic::AtomicU8]>,
    mask: usize,
    pub ttl_ms: u64,
    pub max: usize,
    inserted: AtomicUsize,
    evicted: AtomicUsize,
    /// New keys not learned: the table was full and nothing near their hash could be pushed out
    /// (confirmed keys, or no key at all there).
    refused: AtomicUsize,
    /// Slots holding a key, live or expired (or being written): 0 means no key can be found,
    /// which the workers read once per burst (rules that need a key in an empty table are
    /// dormant, see `Program::live_rules`). Raised before a key is published, lowered when a
    /// slot is forgotten or swept.
    occupied: AtomicUsize,
    /// A superset of the addresses the table holds, for the workers' header look.
    addrs: AddrFilter,
}

/// One entry, for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub key: u128,
    pub learned_at_ms: u64,
    pub expires_at_ms: u64,
    pub last_used_ms: u64,
}

impl LearnTable {
    pub fn new(max: usize, ttl_ms: u64) -> LearnTable {
        let cap = (max.max(8) * 2).next_power_of_two();
        LearnTable {
            slots: (0..cap).map(|_| Slot::default()).collect(),
            tags: (0..cap).map(|_| std::sync::atomic::AtomicU8::new(0)).collect(),
            mask: cap - 1,
            ttl_ms,
            max,
            inserted: AtomicUsize::new(0),
            evicted: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            occupied: AtomicUsize::new(0),
            addrs: AddrFilter::default(),
        }
    }

    /// The table's address filter (see [`AddrFilter`]).
    #[inline(always)]
    pub fn addr_filter(&self) -> &AddrFilter {
        &self.addrs
    }

    /// Learns `key` (or refreshes it) until `now + ttl`.
    pub fn insert(&self, key: u128, now: u64) {
        self.insert_for(key, now, self.ttl_ms)
    }

    /// Learns `key` from proof ([`CONFIRMED`]; or raises a key it holds to that rank) until
    /// `now + ttl`.
    pub fn insert_confirmed(&self, key: u128, now: u64) {
        self.insert_ranked(key, now, self.ttl_ms, CONFIRMED)
    }

    /// Refreshes `key` until `now + ttl` if the table holds it; false when it does not.
    #[inline]
    pub fn refresh(&self, key: u128, now: u64) -> bool {
        let expires = now.saturating_add(self.ttl_ms.max(1));
        match self.find(key, hash(key), now) {
            Some((s, st)) => {
                if st < expires {
                    let _ = s.state.compare_exchange(st, expires, AcqRel, Relaxed);
                }
                s.last_used.store(now, Relaxed);
                true
            }
            None => false,
        }
    }

    /// Learns `key` until `now + ttl_ms`.
    pub fn insert_for(&self, key: u128, now: u64, ttl_ms: u64) {
        self.insert_ranked(key, now, ttl_ms, 0)
    }

    /// Learns `key` with rank `rank` until `now + ttl_ms` (see the module's text).
    fn insert_ranked(&self, key: u128, now: u64, ttl_ms: u64, rank: u64) {
        let expires = now.saturating_add(ttl_ms.max(1));
        let h = hash(key);
        let tag = tag_of(h);
        // Refresh when present.
        if let Some((s, st)) = self.find(key, h, now) {
            if st < expires {
                let _ = s.state.compare_exchange(st, expires, AcqRel, Relaxed);
            }
            s.last_used.store(now, Relaxed);
            if rank > s.rank.load(Relaxed) {
                s.rank.store(rank, Relaxed);
            }
            return;
        }
        // A new key: in the address filter before it can be found in the table.
        self.addrs.add(key);
        // Below `max` keys: claim a free or expired slot, else push out the least recently used
        // key of the window that ranks no higher. At `max`: an expired key's slot or that.
        for _attempt in 0..4 {
            let full = self.occupied.load(Relaxed) >= self.max;
            let mut victim: Option<(usize, u64, (u64, u64))> = None; // (index, state, (rank, last_used))
            for i in 0..PROBE {
                let idx = (h + i) & self.mask;
                if self.tags[idx].load(Acquire) == 0 {
                    if full {
                        // (A lookup stops at the first slot never claimed: nothing may be placed
                        // past it.)
                        break;
                    }
                    // Never claimed: claimed by setting its tag.
                    if self.tags[idx].compare_exchange(0, tag, AcqRel, Relaxed).is_ok() {
                        self.occupied.fetch_add(1, Relaxed);
                        self.slots[idx].write(key, now, expires, rank);
                        self.inserted.fetch_add(1, Relaxed);
                        return;
                    }
                    continue;
                }
                let s = &self.slots[idx];
                let st = s.state.load(Acquire);
                // Being written (a tag set on a slot whose key is not published yet is too).
                if st == LOCKED || st == 0 {
                    continue;
                }
                if st <= TOMB {
                    // Forgotten: free (below `max` only).
                    if !full {
                        victim = Some((idx, st, (0, 0)));
                        break;
                    }
                    continue;
                }
                if st <= now {
                    // Expired: its key goes, whatever its rank.
                    victim = Some((idx, st, (0, 0)));
                    break;
                }
                let r = s.rank.load(Relaxed);
                if r > rank {
                    continue;
                }
                let order = (r, s.last_used.load(Relaxed));
                if victim.is_none_or(|v| order < v.2) {
                    victim = Some((idx, st, order));
                }
            }
            let Some((idx, st, _)) = victim else {
                self.refused.fetch_add(1, Relaxed);
                return;
            };
            let s = &self.slots[idx];
            if s.state.compare_exchange(st, LOCKED, AcqRel, Relaxed).is_ok() {
                if st > TOMB && st > now {
                    self.evicted.fetch_add(1, Relaxed);
                }
                if st <= TOMB {
                    self.occupied.fetch_add(1, Relaxed);
                }
                self.tags[idx].store(tag, Relaxed);
                s.write(key, now, expires, rank);
                self.inserted.fetch_add(1, Relaxed);
                return;
            }
        }
        self.refused.fetch_add(1, Relaxed);
    }

    /// Whether `key` is live; marks it used. Stops at the first never-used slot (keys are only
    /// ever placed at or before one), so a miss in a sparse table costs one probe.
    #[inline]
    pub fn contains(&self, key: u128, now: u64) -> bool {
        let Some((s, _)) = self.find(key, hash(key), now) else { return false };
        // Only write the shared line when the mark is stale (>100 ms).
        if now.saturating_sub(s.last_used.load(Relaxed)) > 100 {
            s.last_used.store(now, Relaxed);
        }
        true
    }

    /// The slot holding `key` (hash `h`) live, and its state: only slots whose tag matches are
    /// read, and the probe ends at the first slot never claimed.
    #[inline]
    fn find(&self, key: u128, h: usize, now: u64) -> Option<(&Slot, u64)> {
        let tag = tag_of(h);
        for i in 0..PROBE {
            let idx = (h + i) & self.mask;
            let g = self.tags[idx].load(Relaxed);
            if g == 0 {
                return None;
            }
            if g != tag {
                continue;
            }
            let s = &self.slots[idx];
            if let Some((k, st)) = s.live_key(now) {
                if k == key {
                    return Some((s, st));
                }
            }
        }
        None
    }

    /// Forgets `key`; true if it was there.
    pub fn remove(&self, key: u128, now: u64) -> bool {
        let h = hash(key);
        for i in 0..PROBE {
            let s = &self.slots[(h + i) & self.mask];
            if let Some((k, st)) = s.live_key(now) {
                if k == key && s.state.compare_exchange(st, TOMB, AcqRel, Relaxed).is_ok() {
                    self.occupied.fetch_sub(1, Relaxed);
                    return true;
                }
            }
        }
        false
    }

    /// Live entries (for the API and `antidote explain`). Allocates: control side only.
    pub fn entries(&self, now: u64) -> Vec<Entry> {
        self.slots
            .iter()
            .filter_map(|s| {
                s.live_key(now).map(|(key, exp)| Entry {
                    key,
                    learned_at_ms: s.learned_at.load(Relaxed),
                    expires_at_ms: exp,
                    last_used_ms: s.last_used.load(Relaxed),
                })
            })
            .collect()
    }

    pub fn len(&self, now: u64) -> usize {
        self.slots.iter().filter(|s| s.live_key(now).is_some()).count()
    }

    pub fn is_empty(&self, now: u64) -> bool {
        self.len(now) == 0
    }

    /// False when the table holds no key at all (cheap: one load; the packet path asks it
    /// once per burst). Expired keys count until [`LearnTable::sweep`] forgets them.
    #[inline]
    pub fn may_hold_keys(&self) -> bool {
        self.occupied.load(Relaxed) != 0
    }

    /// Forgets the expired keys (the control side calls it now and then, so that a table whose
    /// keys all expired reads as empty again). Returns how many it forgot.
    pub fn sweep(&self, now: u64) -> usize {
        let mut n = 0;
        for s in self.slots.iter() {
            let st = s.state.load(Acquire);
            if st > TOMB && st != LOCKED && st <= now && s.state.compare_exchange(st, TOMB, AcqRel, Relaxed).is_ok() {
                self.occupied.fetch_sub(1, Relaxed);
                n += 1;
            }
        }
        n
    }

    pub fn evictions(&self) -> usize {
        self.evicted.load(Relaxed)
    }

    /// New keys not learned (see the module's text).
    pub fn refusals(&self) -> usize {
        self.refused.load(Relaxed)
    }

    /// Whether `key` is live and confirmed (for the API and tests).
    pub fn is_confirmed(&self, key: u128, now: u64) -> bool {
        self.find(key, hash(key), now).is_some_and(|(s, _)| s.rank.load(Relaxed) >= CONFIRMED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use antidote_wire::frame::Addr;

    #[test]
    fn learn_expire_forget() {
        let t = LearnTable::new(16, 1000);
        t.insert(7, 10);
        assert!(t.contains(7, 500));
        assert!(!t.contains(8, 500));
        assert!(!t.contains(7, 1011), "expired after the ttl");
        t.insert(7, 2000);
        assert!(t.remove(7, 2001));
        assert!(!t.contains(7, 2002));
    }

    #[test]
    fn a_table_knows_when_it_holds_no_key() {
        let t = LearnTable::new(16, 1000);
        assert!(!t.may_hold_keys());
        t.insert(7, 10);
        t.insert(7, 20); // a refresh takes no second slot
        t.insert(8, 30);
        assert!(t.may_hold_keys());
        assert!(t.remove(7, 40));
        assert!(t.may_hold_keys(), "8 is still there");
        assert_eq!(t.sweep(500), 0, "nothing expired yet");
        assert!(t.may_hold_keys());
        assert_eq!(t.sweep(2000), 1, "8 expired at 1030");
        assert!(!t.may_hold_keys());
        // An expired slot reused by an insert is counted once.
        t.insert(9, 3000);
        t.insert(9, 5000); // 9 expired at 4000: learned again, in the same slot or another
        t.sweep(5500);
        assert!(t.may_hold_keys());
        assert_eq!(t.sweep(7000), 1);
        assert!(!t.may_hold_keys());
    }

    #[test]
    fn the_address_filter_never_forgets_a_learned_address() {
        let t = LearnTable::new(10_000, 1000);
        let f = t.addr_filter();
        assert_eq!((f.flags_set(), f.generation()), (0, 0));
        let v4 = |i: u32| Addr::v4((0xc612_0000 | i).to_be_bytes()).0;
        let v6 = |i: u32| Addr::v6((0xfd00_0198_0018_0000_0000_0000_0000_0000u128 | (i as u128) << 8).to_be_bytes()).0;
        for i in 0..1000 {
            t.insert(v4(i), 1);
            t.insert(v6(i), 1);
        }
        // Every learned address is "maybe", from its last two bytes as the look reads them off
        // the wire.
        let wire4 = |i: u32| {
            let b = (0xc612_0000 | i).to_be_bytes();
            u16::from_ne_bytes([b[2], b[3]])
        };
        let wire6 = |i: u32| {
            let b = (0xfd00_0198_0018_0000_0000_0000_0000_0000u128 | (i as u128) << 8).to_be_bytes();
            u16::from_ne_bytes([b[14], b[15]])
        };
        assert!((0..1000).all(|i| f.may_hold(wire4(i)) && f.may_hold(wire6(i))));
        // Expired and swept, still "maybe" (bits are never cleared); a refresh sets nothing new.
        let g = f.generation();
        assert!(g > 0 && g == f.flags_set() as u64);
        t.sweep(5000);
        t.insert(v4(1), 6000);
        assert!(f.may_hold(wire4(1)) && f.may_hold(wire4(2)));
        assert_eq!(f.generation(), g);
        // Every host of a /24 has its own bit: one learned, the other 255 are "no".
        let t = LearnTable::new(16, 1000);
        let f = t.addr_filter();
        t.insert(v4(0x0142), 1);
        assert_eq!((0x0100..0x0200).filter(|&i| f.may_hold(wire4(i))).collect::<Vec<_>>(), [0x0142]);
    }

    #[test]
    fn bounded_with_lru_eviction() {
        // `max` as written: never more live keys than that, however many come.
        let t = LearnTable::new(100, 1_000_000);
        for k in 0..10_000u128 {
            t.insert(k * 0x9e37_79b9_7f4a_7c15, 1 + k as u64);
            assert!(t.len(1 + k as u64) <= 100, "{} keys after {k}", t.len(1 + k as u64));
        }
        assert_eq!(t.len(20_000), 100, "full, not beyond");
        assert!(t.evictions() >= 9_900 - t.refusals());
        // The least recently used go first: a key looked up between each two new keys is never
        // the one pushed out; the keys nobody looks up are.
        let t = LearnTable::new(64, 1_000_000);
        let key = |k: u64| (k as u128) * 0x9e37_79b9_7f4a_7c15 + 1;
        for k in 0..64 {
            t.insert(key(k), 1 + k);
        }
        let mut now = 1_000;
        for k in 64..5_000 {
            now += 200; // (a lookup marks a key used when its mark is over 100 ms old)
            assert!(t.contains(key(7), now), "the key in use was pushed out at new key {k}");
            t.insert(key(k), now + 1);
        }
        assert!((8..64).filter(|&k| t.contains(key(k), now)).count() == 0, "the keys nobody used are gone");
    }

    #[test]
    fn a_flood_of_new_keys_cannot_push_out_a_confirmed_one() {
        // A poisoner caught by a canary (confirmed), then a flood of forged entries, each a new
        // key: the table stays full of the flood, the poisoner stays; a later confirmed key is
        // learned all the same (it pushes out an ordinary one).
        let t = LearnTable::new(1_000, 3_600_000);
        let poisoner = 0xc612_0042u128;
        t.insert_confirmed(poisoner, 1);
        for k in 0..200_000u128 {
            t.insert((k + 1) * 0x9e37_79b9_7f4a_7c15, 2 + (k as u64 & 0xffff));
        }
        assert!(t.contains(poisoner, 70_000) && t.is_confirmed(poisoner, 70_000), "the confirmed poisoner was pushed out");
        assert!(t.len(70_000) <= 1_000);
        let second = 0xc612_0043u128;
        t.insert_confirmed(second, 70_001);
        assert!(t.is_confirmed(second, 70_002));
        // An ordinary key already there becomes confirmed when proof comes.
        let k = 5 * 0x9e37_79b9_7f4a_7c15u128;
        t.insert(k, 80_000);
        assert!(!t.is_confirmed(k, 80_001));
        t.insert_confirmed(k, 80_002);
        assert!(t.is_confirmed(k, 80_003));
        // A table full of confirmed keys refuses an ordinary newcomer, counted.
        let t = LearnTable::new(8, 1_000_000);
        for k in 0..8u128 {
            t.insert_confirmed(k * 0x9e37_79b9_7f4a_7c15, 1);
        }
        t.insert(0x1234_5678, 2);
        assert!(!t.contains(0x1234_5678, 3));
        assert_eq!((t.refusals(), t.len(3)), (1, 8));
        // A confirmed key still expires.
        assert!(!t.contains(0, 1_000_002));
    }

    #[test]
    fn slots_reused_by_other_keys_carry_their_tags() {
        // A small table, filled, emptied and filled again with other keys: every slot is
        // claimed fresh, then reused (forgotten, expired, evicted); every live key is found and
        // no forgotten one is.
        let t = LearnTable::new(8, 100);
        let keys = |round: u128| (0..12u128).map(move |k| (round << 64) | (k * 0x9e37_79b9));
        for round in 0..6u128 {
            let now = 1000 * (round as u64 + 1);
            for k in keys(round) {
                t.insert(k, now);
            }
            let live: Vec<u128> = keys(round).filter(|&k| t.contains(k, now + 1)).collect();
            // (At most `max`, 8; fewer when keys met in a probe window before the table was full.)
            assert!((4..=8).contains(&live.len()), "round {round}: {} of 12 keys found", live.len());
            assert_eq!(live.len(), t.len(now + 1), "round {round}: lookups and the slots agree");
            if round > 0 {
                assert!(keys(round - 1).all(|k| !t.contains(k, now + 1)), "round {round}: a key of the round before (expired) was found");
            }
            if round % 2 == 1 {
                assert!(t.remove(live[0], now + 2));
                assert!(!t.contains(live[0], now + 3));
            }
        }
    }
}
