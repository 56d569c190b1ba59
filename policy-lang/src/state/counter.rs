//! Sliding-window counters keyed by a field (`count`, `distinct`).
use super::{hash, LOCKED};
use std::sync::atomic::{AtomicU64, Ordering::*};

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
                // (Mixed: every bit of the value picks the bit — a short name's key has its
                // text in the high bytes.)
                let bit = (v.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize;
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
}
