//! Run-time state shared by every worker core without locks: learned tables (keys with a TTL,
//! a maximum size and least-recently-used eviction) and sliding-window counters (`count`,
//! `distinct`).
//!
//! Design: fixed-size open-addressing arrays of atomics, allocated when the policy is compiled.
//! A slot's `state` word is its expiry (tables) or window start (counters); 0 is empty and
//! `LOCKED` marks a slot being written. A writer claims a slot with one compare-and-swap, writes
//! the key, then publishes the state with a release store; a reader loads the state (acquire),
//! the key, and the state again, and trusts the key only if the state did not change (a
//! seqlock). No lock, no allocation, no syscall on the packet path; a fact stored by one core is
//! visible to the others as soon as the release store lands (nanoseconds, well under the 1 ms
//! the design asks for).
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering::*};

const LOCKED: u64 = u64::MAX;
/// A slot whose key was forgotten: lookups probe past it, inserts may reuse it.
const TOMB: u64 = 1;
/// Slots probed per key.
const PROBE: usize = 8;

/// A key's tag in [`LearnTable`]'s tag array: the hash's top bits, never 0 (a slot never
/// claimed).
#[inline(always)]
fn tag_of(h: usize) -> u8 {
    (h >> (usize::BITS - 7)) as u8 | 0x80
}

fn hash(key: u128) -> usize {
    // Fixed seeds: the same key lands in the same slot on every core and after a swap.
    let s = ahash::RandomState::with_seeds(0x9e37_79b9, 0x7f4a_7c15, 0xf39c_c060, 0x5ced_c834);
    s.hash_one(key) as usize
}

#[repr(align(64))]
#[derive(Default)]
struct Slot {
    state: AtomicU64,
    k_hi: AtomicU64,
    k_lo: AtomicU64,
    learned_at: AtomicU64,
    last_used: AtomicU64,
}

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

    fn write(&self, key: u128, now: u64, expires: u64) {
        self.k_hi.store((key >> 64) as u64, Relaxed);
        self.k_lo.store(key as u64, Relaxed);
        self.learned_at.store(now, Relaxed);
        self.last_used.store(now, Relaxed);
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
    /// Slots holding a key, live or expired (or being written): 0 means no key can be found,
    /// which the workers read once per burst (rules that need a key in an empty table are
    /// dormant, see `Program::live_rules`). Raised before a key is published, lowered when a
    /// slot is forgotten or swept.
    occupied: AtomicUsize,
    /// A superset of the addresses the table holds, for the workers' header look.
    addrs: AddrFilter,
}

/// A superset of the addresses a learned table holds — 4096 flags, one for each value of 12
/// bits of an address's last two bytes — that the workers' header look tests a frame's source
/// and destination addresses against without hashing them or touching the table: under the
/// default policy, once a poisoner is known, a TCP segment between two other hosts is let
/// through on two byte loads from a 4 KiB array instead of a look at its ports, flags and
/// payload (every follow-on rule needs `ip.src` or `ip.dst` in the table,
/// [`crate::program::Program::addr_gate`]).
///
/// The flags tell apart every host of a /24 (IPv4), and IPv6 hosts by the end of their
/// interface identifiers; hosts beyond that may share flags, which only costs them the full
/// look. A flag is one byte, not one bit, and its index is the last two bytes read as the
/// machine reads a `u16`, shifted down four bits: a test is a 16-bit load, a shift and a byte
/// load. Flags are set when a key is learned (before it is published) and never cleared — a key
/// that expires or is forgotten leaves its flag, so the filter can say "maybe" too often, never
/// "no" for a key the table holds (clearing would race with a concurrent insert); it starts
/// empty again with the table (a policy that redeclares it, a restart).
pub struct AddrFilter {
    flags: [AtomicU8; FILTER_FLAGS],
    /// Bumped whenever a flag is newly set: a worker that learned a key while judging a burst
    /// looks again at the frames after it that the filter let through.
    generation: AtomicU64,
}

/// Size of [`AddrFilter`]: one flag for each value of [`AddrFilter::flag_of`] (12 bits).
const FILTER_FLAGS: usize = 4096;

impl Default for AddrFilter {
    fn default() -> Self {
        AddrFilter { flags: std::array::from_fn(|_| AtomicU8::new(0)), generation: AtomicU64::new(0) }
    }
}

impl AddrFilter {
    /// A key's last two bytes (an address in the form of [`antidote_wire::frame::Addr`]: IPv4
    /// as `::ffff:a.b.c.d`), as the look reads them off the wire: a native-endian `u16`.
    #[inline]
    pub fn last2_of_key(key: u128) -> u16 {
        let b = key.to_be_bytes();
        u16::from_ne_bytes([b[14], b[15]])
    }

    /// The flag of an address's last two bytes (as [`AddrFilter::last2_of_key`] reads them): the
    /// `u16` shifted down four bits — on a little-endian machine, the last byte and the high
    /// four bits of the one before, so within a /24 every host has its own flag. 12 bits: no
    /// mask, no byte swap.
    #[inline(always)]
    fn flag_of(last2: u16) -> usize {
        (last2 >> 4) as usize
    }

    /// False when no key with the same flag ([`AddrFilter::flag_of`]) was ever added.
    #[inline(always)]
    pub fn may_hold(&self, last2: u16) -> bool {
        self.flags[Self::flag_of(last2)].load(Relaxed) != 0
    }

    /// The flag of an address's last two bytes: 0 when no key with the same flag was added.
    #[inline(always)]
    pub fn flag(&self, last2: u16) -> u8 {
        self.flags[Self::flag_of(last2)].load(Relaxed)
    }

    /// Adds a key (an address: other keys only set flags no address test reads).
    fn add(&self, key: u128) {
        let f = &self.flags[Self::flag_of(Self::last2_of_key(key))];
        if f.load(Relaxed) == 0 && f.swap(1, Release) == 0 {
            self.generation.fetch_add(1, Release);
        }
    }

    /// Bumped whenever a key sets a new flag.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Acquire)
    }

    /// How many of its flags are set.
    pub fn flags_set(&self) -> u32 {
        self.flags.iter().filter(|f| f.load(Relaxed) != 0).count() as u32
    }
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

    /// Learns `key` until `now + ttl_ms`.
    pub fn insert_for(&self, key: u128, now: u64, ttl_ms: u64) {
        let expires = now.saturating_add(ttl_ms.max(1));
        let h = hash(key);
        let tag = tag_of(h);
        // Refresh when present.
        if let Some((s, st)) = self.find(key, h, now) {
            if st < expires {
                let _ = s.state.compare_exchange(st, expires, AcqRel, Relaxed);
            }
            s.last_used.store(now, Relaxed);
            return;
        }
        // A new key: in the address filter before it can be found in the table.
        self.addrs.add(key);
        // Claim a free or expired slot; else evict the least recently used one of the window.
        for _attempt in 0..4 {
            let mut victim: Option<(usize, u64, u64)> = None; // (index, state, last_used)
            for i in 0..PROBE {
                let idx = (h + i) & self.mask;
                if self.tags[idx].load(Acquire) == 0 {
                    // Never claimed: claimed by setting its tag.
                    if self.tags[idx].compare_exchange(0, tag, AcqRel, Relaxed).is_ok() {
                        self.occupied.fetch_add(1, Relaxed);
                        self.slots[idx].write(key, now, expires);
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
                if st <= TOMB || st <= now {
                    victim = Some((idx, st, 0));
                    break;
                }
                let lu = s.last_used.load(Relaxed);
                if victim.map(|v| lu < v.2).unwrap_or(true) {
                    victim = Some((idx, st, lu));
                }
            }
            let Some((idx, st, _)) = victim else { continue };
            let s = &self.slots[idx];
            if s.state.compare_exchange(st, LOCKED, AcqRel, Relaxed).is_ok() {
                if st > TOMB && st > now {
                    self.evicted.fetch_add(1, Relaxed);
                }
                if st <= TOMB {
                    self.occupied.fetch_add(1, Relaxed);
                }
                self.tags[idx].store(tag, Relaxed);
                s.write(key, now, expires);
                self.inserted.fetch_add(1, Relaxed);
                return;
            }
        }
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
}

#[repr(align(128))]
#[derive(Default)]
struct CounterSlot {
    /// Start of the current window (ms, ≥ 1); 0 empty. Windows follow each other on a grid
    /// from a key's first event.
    state: AtomicU64,
    k_hi: AtomicU64,
    k_lo: AtomicU64,
    /// The current window: events, and the values seen (256-bit linear-counting bitmap).
    count: AtomicU64,
    bits: [AtomicU64; 4],
    /// The window before it (zero when that window saw nothing).
    prev_count: AtomicU64,
    prev_bits: [AtomicU64; 4],
}

/// Sliding-window counters keyed by a field: how many events (`count`) or how many distinct
/// values (`distinct`, estimated by linear counting over 256 bits: exact enough for the
/// thresholds of a few to a few dozen that policies use) per key over the last window.
///
/// The estimate of a sliding window that rate limiters use: the current window's figure plus
/// the previous window's weighted by how much of it still lies within the last window length
/// (for `distinct`, the values seen only in the previous window). So a burst that straddles a
/// window boundary is counted whole, and the count decays instead of dropping to zero.
pub struct CounterTable {
    slots: Box<[CounterSlot]>,
    mask: usize,
    pub window_ms: u64,
}

impl CounterTable {
    pub fn new(keys: usize, window_ms: u64) -> CounterTable {
        let cap = (keys.max(8) * 2).next_power_of_two();
        CounterTable { slots: (0..cap).map(|_| CounterSlot::default()).collect(), mask: cap - 1, window_ms: window_ms.max(1) }
    }

    /// Records one event for `key` (with `value` for distinct counters) and returns the count
    /// (or the distinct estimate) over the last window, this event included.
    ///
    /// Never waits: an event that finds the key's slot being written (a new key, a new window)
    /// on 64 probes running — its writer descheduled mid-write — is not counted, and 1 is
    /// returned.
    #[inline]
    pub fn hit(&self, key: u128, value: Option<u64>, now: u64) -> u64 {
        let now = now.max(1);
        let h = hash(key);
        for _ in 0..64 {
            let mut free: Option<(usize, u64)> = None;
            let mut oldest: Option<(usize, u64)> = None;
            // A slot being written may be this key's: claiming another one for it would split
            // its count in two, so a probe that meets one starts over.
            let mut busy = false;
            for i in 0..4 {
                let idx = (h + i) & self.mask;
                let s = &self.slots[idx];
                let st = s.state.load(Acquire);
                if st == LOCKED {
                    busy = true;
                    continue;
                }
                if st != 0 {
                    let k = ((s.k_hi.load(Relaxed) as u128) << 64) | s.k_lo.load(Relaxed) as u128;
                    if k == key && s.state.load(Acquire) == st {
                        let mut start = st;
                        let elapsed = now.saturating_sub(st);
                        if elapsed >= self.window_ms {
                            // A new window: one core moves the current one back, the others
                            // count into it.
                            if s.state.compare_exchange(st, LOCKED, AcqRel, Relaxed).is_ok() {
                                let adjacent = elapsed < 2 * self.window_ms;
                                s.prev_count.store(if adjacent { s.count.load(Relaxed) } else { 0 }, Relaxed);
                                for (p, b) in s.prev_bits.iter().zip(&s.bits) {
                                    p.store(if adjacent { b.load(Relaxed) } else { 0 }, Relaxed);
                                    b.store(0, Relaxed);
                                }
                                s.count.store(0, Relaxed);
                                start = st + elapsed / self.window_ms * self.window_ms;
                                s.state.store(start, Release);
                            } else {
                                busy = true;
                                break;
                            }
                        }
                        return self.record(s, value, now.saturating_sub(start));
                    }
                    if now.saturating_sub(st) >= 2 * self.window_ms {
                        free = free.or(Some((idx, st)));
                    }
                    if oldest.map(|o| st < o.1).unwrap_or(true) {
                        oldest = Some((idx, st));
                    }
                } else {
                    free = free.or(Some((idx, 0)));
                }
            }
            if busy {
                std::hint::spin_loop();
                continue;
            }
            let Some((idx, st)) = free.or(oldest) else { continue };
            let s = &self.slots[idx];
            if s.state.compare_exchange(st, LOCKED, AcqRel, Relaxed).is_ok() {
                s.k_hi.store((key >> 64) as u64, Relaxed);
                s.k_lo.store(key as u64, Relaxed);
                s.count.store(0, Relaxed);
                s.prev_count.store(0, Relaxed);
                s.bits.iter().chain(&s.prev_bits).for_each(|b| b.store(0, Relaxed));
                s.state.store(now, Release);
                return self.record(s, value, 0);
            }
        }
        1
    }

    /// Counts the event into the current window, `into` ms old, and returns the estimate.
    #[inline]
    fn record(&self, s: &CounterSlot, value: Option<u64>, into: u64) -> u64 {
        // The share of the previous window still inside the last window length, rounded.
        let weigh = |n: u64| (n * self.window_ms.saturating_sub(into) + self.window_ms / 2) / self.window_ms;
        let n = s.count.fetch_add(1, Relaxed) + 1;
        match value {
            None => n + weigh(s.prev_count.load(Relaxed)),
            Some(v) => {
                let bit = (v % 256) as usize;
                let word = &s.bits[bit / 64];
                let m = 1u64 << (bit % 64);
                if word.load(Relaxed) & m == 0 {
                    word.fetch_or(m, Relaxed);
                }
                let (mut cur, mut both) = (0, 0);
                for (b, p) in s.bits.iter().zip(&s.prev_bits) {
                    let b = b.load(Relaxed);
                    cur += b.count_ones();
                    both += (b | p.load(Relaxed)).count_ones();
                }
                let cur = linear_count(cur);
                cur + weigh(linear_count(both).saturating_sub(cur))
            }
        }
    }
}

/// Linear counting over 256 bits: n ≈ −m·ln(zeros/m), rounded.
fn linear_count(ones: u32) -> u64 {
    let m = 256f64;
    let zeros = (256 - ones.min(255)) as f64;
    (-m * (zeros / m).ln()).round() as u64
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
        let t = LearnTable::new(4, 1_000_000);
        for k in 0..10_000u128 {
            t.insert(k, 1 + k as u64);
        }
        assert!(t.len(20_000) <= 16, "capacity bounded: {}", t.len(20_000));
        assert!(t.contains(9_999, 20_000), "the newest key survives");
        assert!(t.evictions() > 0);
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
            assert!(live.len() >= 8, "round {round}: only {} of 12 keys found", live.len());
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
    #[test]
    fn counters_count_and_distinct() {
        let c = CounterTable::new(64, 10_000);
        for i in 1..=5 {
            assert_eq!(c.hit(1, None, 100 + i), i);
        }
        assert_eq!(c.hit(2, None, 200), 1, "keys are separate");
        assert_eq!(c.hit(1, None, 30_000), 1, "after two quiet windows it starts over");
        let d = CounterTable::new(64, 10_000);
        let mut last = 0;
        for v in [11u64, 22, 33, 11, 22, 44] {
            last = d.hit(9, Some(v), 50);
        }
        assert_eq!(last, 4, "four distinct values");
    }

    #[test]
    fn windows_slide() {
        // Three events late in one window and three early in the next: a tumbling window would
        // never see more than three; the sliding estimate sees the burst.
        let c = CounterTable::new(64, 10_000);
        c.hit(1, None, 1); // the key's windows: [1, 10001), [10001, 20001), …
        c.hit(1, None, 9_900);
        assert_eq!(c.hit(1, None, 9_950), 3);
        c.hit(1, None, 10_010);
        c.hit(1, None, 10_020);
        assert_eq!(c.hit(1, None, 10_030), 3 + 3, "3 now + 3 before, weighted by 9971/10000");
        // Late in the window the previous one has slid out.
        assert_eq!(c.hit(1, None, 19_990), 4);
        // Distinct values: those seen only in the previous window count with the same weight.
        let d = CounterTable::new(64, 10_000);
        d.hit(9, Some(1), 1);
        d.hit(9, Some(2), 9_002);
        d.hit(9, Some(3), 9_003);
        assert_eq!(d.hit(9, Some(3), 10_005), 1 + 2, "value 3 again, values 1 and 2 from before");
        assert_eq!(d.hit(9, Some(4), 10_006), 2 + 2, "3 and 4 now; 1 and 2 before");
        assert_eq!(d.hit(9, Some(5), 20_000), 3, "the previous window has slid out");
    }

    #[test]
    fn shared_between_threads() {
        let t = std::sync::Arc::new(LearnTable::new(8192, 60_000));
        let c = std::sync::Arc::new(CounterTable::new(64, 60_000));
        let hs: Vec<_> = (0..4)
            .map(|w| {
                let (t, c) = (t.clone(), c.clone());
                std::thread::spawn(move || {
                    for i in 0..1000u128 {
                        t.insert(w * 1000 + i, 5);
                        c.hit(42, None, 5);
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(t.len(10), 4000);
        // One slot for the key (a split count would show about half). A hit that met the slot
        // being claimed by a thread descheduled mid-write (4 threads on as few as 2 cores) is
        // dropped, not waited for.
        let n = c.hit(42, None, 6);
        assert!((3990..=4001).contains(&n), "{n}");
    }
}

#[cfg(test)]
mod visibility {
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// A key learned on one thread (core) is seen by another that is polling for it, with no
    /// lock and no other synchronisation. (How fast is measured, not asserted: run with
    /// `--nocapture` to see the worst case; bench/RESULTS.md has the figure.)
    #[test]
    fn learned_facts_are_visible_to_other_cores() {
        let t = Arc::new(LearnTable::new(1024, 60_000));
        let mut worst = Duration::ZERO;
        for k in 0..200u128 {
            let t2 = t.clone();
            let reader = std::thread::spawn(move || {
                let start = Instant::now();
                while !t2.contains(k, 10) {
                    if start.elapsed() > Duration::from_secs(1) {
                        return None;
                    }
                    std::hint::spin_loop();
                }
                Some(Instant::now())
            });
            std::thread::sleep(Duration::from_micros(200));
            let written = Instant::now();
            t.insert(k, 5);
            let seen = reader.join().unwrap().expect("never seen");
            worst = worst.max(seen.saturating_duration_since(written));
        }
        eprintln!("worst visibility over 200 keys: {worst:?}");
    }
}
