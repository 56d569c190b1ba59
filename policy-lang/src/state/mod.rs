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
//!
//! - [`table`]: learned tables ([`LearnTable`]), each with the address filter the header triage
//!   reads (`antidote_wire::triage::AddrFilter`).
//! - [`counter`]: sliding-window counters ([`CounterTable`]).
//! - [`bindings`]: addresses bound to MACs per segment, learned from the wire ([`BindTable`]):
//!   conflicts counted, never silently rebound.
//! - [`network`]: what the appliance learns of its network ([`Network`]), from which frames.

pub mod bindings;
pub mod counter;
pub mod network;
pub mod table;

pub use bindings::{BindTable, Binding, Bound};
pub use counter::CounterTable;
pub use network::Network;
pub use table::{Entry, LearnTable};

pub(crate) const LOCKED: u64 = u64::MAX;
/// A slot whose key was forgotten: lookups probe past it, inserts may reuse it.
pub(crate) const TOMB: u64 = 1;
/// Slots probed per key.
pub(crate) const PROBE: usize = 8;

/// A key's tag in [`LearnTable`]'s tag array: the hash's top bits, never 0 (a slot never
/// claimed).
#[inline(always)]
pub(crate) fn tag_of(h: usize) -> u8 {
    (h >> (usize::BITS - 7)) as u8 | 0x80
}

pub(crate) fn hash(key: u128) -> usize {
    // Fixed seeds: the same key lands in the same slot on every core and after a swap.
    let s = ahash::RandomState::with_seeds(0x9e37_79b9, 0x7f4a_7c15, 0xf39c_c060, 0x5ced_c834);
    s.hash_one(key) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

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
