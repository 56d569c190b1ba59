//! Repeats of an alert folded by the worker that raises them.
use super::{AlertEvent, AlertQueue};

/// Repeats of an alert folded where they are raised. Under a poisoner answering every query, one
/// rule fires on the same poisoner, victim and name thousands of times a second; handing each
/// repeat to the alert thread costs the worker a copy of the event into a queue slot the other
/// core last touched (~0.3 µs a repeat, measured) and fills the queue. So a worker hands over
/// the first occurrence at once, counts the repeats that follow within `window_ms` in a small
/// table of its own, and hands over one event for them when the window ends (`count`,
/// `first_unix_ms` .. `unix_ms`, the frame of their first). The alert thread counts them as
/// that many events and aggregates them as it did one by one.
///
/// Repeats are the same rule of the same policy version on the same port, with the same
/// Ethernet header (MACs, tags), IP addresses and question name: the alert thread's group
/// ([`super::key`]) refined by port and Ethernet header, so no two of its groups are folded
/// together. The table is
/// [`FOLD_WAYS`]-way set-associative by a keyed hash of that (direct-mapped, two of a few dozen
/// poisoned answers that took one slot turned a fifth of all repeats into events of their
/// own on the bench mix); a key that finds its set full takes the slot whose window ends
/// first, handing over that slot's repeats.
///
/// New alerts — first sightings, which no fold can take — are handed over at most
/// [`NEW_PER_RULE_PER_S`] a second per rule; the rest of that second's are counted and handed
/// over as one storm summary when the second ends (its count, the first and last times, the
/// first one's frame). A flood of forged answers, each from a new source with a new name, then
/// costs the worker a count per alert, not an event, and the sinks a line a second.
pub struct AlertFolds {
    window_ms: u64,
    /// Per rule (by index modulo [`STORM_RULES`]): this second's new alerts and what went over.
    storms: Box<[Storm]>,
    /// Storm slots with suppressed alerts not handed over yet.
    storming: usize,
    /// Each slot's key (0: empty) and the end of its window, a set to a cache line: what a
    /// raise reads to find its slot.
    tags: Box<[[FoldTag; FOLD_WAYS]]>,
    slots: Box<[FoldSlot]>,
    keys: ahash::RandomState,
}

#[derive(Clone, Copy, Default)]
struct FoldTag {
    key: u64,
    /// Monotonic time the slot's window ends (ms).
    until_ms: u64,
}

/// How long workers fold repeats under an alert window of `window`: the window, at most a
/// second (the alert thread holds a group open that much longer, so the last repeats of a
/// window still reach it).
pub fn fold_for(window: std::time::Duration) -> std::time::Duration {
    window.min(std::time::Duration::from_secs(1))
}

/// New alerts a worker hands over per rule and second; beyond, a storm summary.
pub const NEW_PER_RULE_PER_S: u32 = 200;
/// Rules with a storm slot of their own (rules beyond share them, each slot noting its rule).
pub const STORM_RULES: usize = 128;

#[derive(Clone, Copy)]
struct Storm {
    rule: u16,
    /// The second (monotonic ms / 1000) the counts are of.
    second: u64,
    handed: u32,
    /// New alerts over the budget this second; the first of them in `event`.
    suppressed: u32,
    first_unix_ms: u64,
    last_unix_ms: u64,
    event: AlertEvent,
}

/// Sets of [`AlertFolds`] (a power of two) and slots in each.
pub const FOLD_SETS: usize = 64;
pub const FOLD_WAYS: usize = 4;

#[derive(Clone, Copy)]
struct FoldSlot {
    /// Repeats folded since the event was handed over, the first and last of them.
    repeats: u32,
    first_unix_ms: u64,
    last_unix_ms: u64,
    event: AlertEvent,
}

impl AlertFolds {
    /// Folds for `window_ms` (0: every alert is handed over on its own).
    pub fn new(window_ms: u64) -> AlertFolds {
        let empty = FoldSlot { repeats: 0, first_unix_ms: 0, last_unix_ms: 0, event: AlertEvent::EMPTY };
        let calm = Storm { rule: 0, second: 0, handed: 0, suppressed: 0, first_unix_ms: 0, last_unix_ms: 0, event: AlertEvent::EMPTY };
        AlertFolds {
            window_ms,
            storms: vec![calm; STORM_RULES].into_boxed_slice(),
            storming: 0,
            tags: vec![[FoldTag::default(); FOLD_WAYS]; FOLD_SETS].into_boxed_slice(),
            slots: vec![empty; FOLD_SETS * FOLD_WAYS].into_boxed_slice(),
            keys: ahash::RandomState::new(),
        }
    }

    /// What tells the alerts of frame `f` apart from others, before the rule
    /// ([`AlertFolds::key`] adds it): its [`super::key::frame_group`] (the policy version, the
    /// IP addresses and the question name), the ingress port and the Ethernet header.
    pub fn frame_key(&self, frame_group: u64, port: u16, f: &antidote_wire::Frame<'_>) -> u64 {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut h = self.keys.build_hasher();
        (frame_group, port).hash(&mut h);
        f.data.get(..f.eth.map_or(0, |e| e.payload_offset)).hash(&mut h);
        h.finish()
    }

    /// The key of an alert of `rule` raised by a frame of [`AlertFolds::frame_key`] `fk`.
    pub fn key(&self, fk: u64, rule: u16) -> u64 {
        self.keys.hash_one((fk, rule)) | 1
    }

    /// An alert of rule `rule` and key `key` at `now_ms` (monotonic) / `unix_ms`: folded into its
    /// slot when a window of it is open; else, within the rule's budget of new alerts this
    /// second, `event()` is handed over to `queue` (its slot's previous repeats first) and opens
    /// a window; over it, counted into the rule's storm summary. Returns whether a new event was
    /// built.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn raise(&mut self, queue: &AlertQueue, worker: usize, rule: u16, key: u64, now_ms: u64, unix_ms: u64, event: impl FnOnce() -> AlertEvent) -> bool {
        let set = key as usize & (FOLD_SETS - 1);
        let tags = &mut self.tags[set];
        // Its own slot, with its window open: a repeat. Else the slot whose window ends first
        // (an empty or ended one before any open one).
        let (mut way, mut open) = (0, false);
        for (w, t) in tags.iter().enumerate() {
            if t.key == key && now_ms < t.until_ms {
                (way, open) = (w, true);
                break;
            }
            if t.until_ms < tags[way].until_ms {
                way = w;
            }
        }
        let s = &mut self.slots[set * FOLD_WAYS + way];
        if open {
            if s.repeats == 0 {
                s.first_unix_ms = unix_ms;
            }
            s.repeats += 1;
            s.last_unix_ms = unix_ms;
            return false;
        }
        // A new alert: within the rule's budget this second, or into its storm summary.
        let st = &mut self.storms[rule as usize % STORM_RULES];
        let second = now_ms / 1000;
        if st.second != second || st.rule != rule {
            self.storming -= Self::calm(st, queue, worker) as usize;
            (st.rule, st.second, st.handed) = (rule, second, 0);
        }
        if st.handed >= NEW_PER_RULE_PER_S {
            if st.suppressed == 0 {
                st.event = event();
                st.first_unix_ms = unix_ms;
                self.storming += 1;
            }
            st.suppressed += 1;
            st.last_unix_ms = unix_ms;
            return st.suppressed == 1;
        }
        st.handed += 1;
        Self::hand_over(s, queue, worker);
        tags[way] = FoldTag::default();
        if self.window_ms == 0 {
            if !queue.has_room(worker) {
                // Under a flood: counted, not built (no 416-byte copy).
                queue.count_dropped(worker, 1);
                return false;
            }
            queue.push(worker, event());
            return true;
        }
        // A lane with no room does not stop the window: the event waits in the slot and is
        // handed over with the repeats when the window ends (dropped then if there is still
        // no room).
        let e = event();
        let held = !queue.try_push(worker, e);
        *s = FoldSlot { repeats: held as u32, first_unix_ms: unix_ms, last_unix_ms: unix_ms, event: e };
        tags[way] = FoldTag { key, until_ms: now_ms + self.window_ms };
        true
    }

    /// Hands over a storm slot's summary, if it has one; returns whether it had.
    fn calm(st: &mut Storm, queue: &AlertQueue, worker: usize) -> bool {
        if st.suppressed == 0 {
            return false;
        }
        let mut e = st.event;
        (e.count, e.first_unix_ms, e.unix_ms, e.storm) = (st.suppressed, st.first_unix_ms, st.last_unix_ms, true);
        st.suppressed = 0;
        if queue.has_room(worker) {
            queue.push(worker, e);
        } else {
            queue.count_dropped(worker, e.count as u64);
        }
        true
    }

    /// Hands over the repeats of the windows that ended by `now_ms` (all of them when `now_ms`
    /// is `u64::MAX`), and the storm summaries of the seconds that ended. Returns how many
    /// events it handed over.
    pub fn expire(&mut self, queue: &AlertQueue, worker: usize, now_ms: u64) -> usize {
        let mut n = 0;
        if self.storming > 0 {
            let second = now_ms / 1000;
            for st in self.storms.iter_mut().filter(|st| st.suppressed > 0 && st.second != second) {
                self.storming -= 1;
                n += Self::calm(st, queue, worker) as usize;
            }
        }
        for (t, s) in self.tags.iter_mut().flatten().zip(self.slots.iter_mut()) {
            if t.key != 0 && now_ms >= t.until_ms {
                n += Self::hand_over(s, queue, worker) as usize;
                *t = FoldTag::default();
            }
        }
        n
    }

    /// At the end of a run: hands over every slot's repeats, waiting up to `patience` for room
    /// in the lane while the alert thread drains it. Returns the repeats it could not hand over
    /// (counted as dropped).
    pub fn flush(&mut self, queue: &AlertQueue, worker: usize, patience: std::time::Duration) -> u64 {
        let deadline = std::time::Instant::now() + patience;
        let mut lost = 0;
        for st in self.storms.iter_mut().filter(|st| st.suppressed > 0) {
            while !queue.has_room(worker) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            if !queue.has_room(worker) {
                lost += st.suppressed as u64;
                st.suppressed = 0;
                continue;
            }
            Self::calm(st, queue, worker);
        }
        self.storming = 0;
        for (t, s) in self.tags.iter_mut().flatten().zip(self.slots.iter_mut()) {
            *t = FoldTag::default();
            if s.repeats == 0 {
                continue;
            }
            while !queue.has_room(worker) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            let n = s.repeats as u64;
            if !(queue.has_room(worker) && Self::hand_over(s, queue, worker)) {
                lost += n;
                s.repeats = 0;
            }
        }
        lost
    }

    /// Repeats and storm alerts not handed over yet.
    pub fn pending(&self) -> u64 {
        self.slots.iter().map(|s| s.repeats as u64).sum::<u64>() + self.storms.iter().map(|s| s.suppressed as u64).sum::<u64>()
    }

    fn hand_over(s: &mut FoldSlot, queue: &AlertQueue, worker: usize) -> bool {
        if s.repeats == 0 {
            return false;
        }
        let mut e = s.event;
        e.count = s.repeats;
        e.first_unix_ms = s.first_unix_ms;
        e.unix_ms = s.last_unix_ms;
        s.repeats = 0;
        queue.push(worker, e);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::FRAME_BYTES;

    fn event(rule: u16) -> AlertEvent {
        AlertEvent {
            unix_ms: 1,
            count: 1,
            first_unix_ms: 1,
            policy_version: 1,
            group: 0,
            rule,
            port: 0,
            lcore: 1,
            dropped: true,
            injected: false,
            mirrored: false,
            storm: false,
            len: 0,
            frame_len: 60,
            frame: [0; FRAME_BYTES],
        }
    }

    /// Every event popped, as (rule, count, first_unix_ms, unix_ms).
    fn drain(q: &AlertQueue) -> Vec<(u16, u32, u64, u64)> {
        std::iter::from_fn(|| q.pop().map(|e| (e.rule, e.count, e.first_unix_ms, e.unix_ms))).collect()
    }

    fn at(rule: u16, unix_ms: u64) -> AlertEvent {
        AlertEvent { unix_ms, first_unix_ms: unix_ms, ..event(rule) }
    }

    #[test]
    fn repeats_within_the_window_are_handed_over_once_with_their_count() {
        let q = AlertQueue::new(64, 1);
        let mut f = AlertFolds::new(1000);
        let (a, b) = (f.key(7, 1), f.key(7, 2));
        assert_ne!(a, b, "the rule is part of the key");
        // The first of each is handed over at once, built; the repeats only counted.
        let mut built = 0;
        for t in 0..100u64 {
            for (k, r) in [(a, 1), (b, 2)] {
                if f.raise(&q, 0, r, k, 10 + t, 5000 + t, || at(r, 5000 + t)) {
                    built += 1;
                }
            }
        }
        assert_eq!(built, 2);
        assert_eq!(drain(&q), [(1, 1, 5000, 5000), (2, 1, 5000, 5000)]);
        assert_eq!(f.pending(), 198);
        // Nothing before the window ends; then one event per key for its 99 repeats.
        assert_eq!(f.expire(&q, 0, 1009), 0);
        assert_eq!(f.expire(&q, 0, 1010), 2);
        let mut got = drain(&q);
        got.sort();
        assert_eq!(got, [(1, 99, 5001, 5099), (2, 99, 5001, 5099)]);
        assert_eq!(f.pending(), 0);
        // After the window: handed over at once again, a new window.
        assert!(f.raise(&q, 0, 1, a, 2000, 7000, || at(1, 7000)));
        assert!(!f.raise(&q, 0, 1, a, 2001, 7001, || at(1, 7001)));
        assert_eq!(drain(&q), [(1, 1, 7000, 7000)]);
        // A run's end hands over what is still folded.
        assert_eq!(f.flush(&q, 0, std::time::Duration::ZERO), 0);
        assert_eq!(drain(&q), [(1, 1, 7001, 7001)]);
        assert_eq!(q.dropped(), 0);
    }

    #[test]
    fn keys_of_one_set_fold_apart_until_it_is_full() {
        let q = AlertQueue::new(64, 1);
        let mut f = AlertFolds::new(1000);
        // FOLD_WAYS + 1 keys of the same set, raised in turn (as a poisoner's answers for
        // several names arrive): the first FOLD_WAYS each keep a slot and fold their repeats.
        let set = |k: u64| k & (FOLD_SETS as u64 - 1);
        let a = f.key(1, 1);
        let keys: Vec<u64> = std::iter::once(a).chain((1..).map(|fk| f.key(fk + 100, 1)).filter(|&k| set(k) == set(a)).take(FOLD_WAYS)).collect();
        let ways = &keys[..FOLD_WAYS];
        for t in 0..10u64 {
            for (r, &k) in ways.iter().enumerate() {
                f.raise(&q, 0, r as u16, k, 1 + t, 100 + t, || at(r as u16, 100 + t));
            }
        }
        assert_eq!(drain(&q).len(), FOLD_WAYS, "one event per key, the repeats folded");
        assert_eq!(f.pending(), 9 * FOLD_WAYS as u64);
        // One more key: it takes the slot whose window ends first (the first key's) and hands
        // over that slot's repeats.
        f.raise(&q, 0, 9, keys[FOLD_WAYS], 20, 120, || at(9, 120));
        assert_eq!(drain(&q), [(0, 9, 101, 109), (9, 1, 120, 120)]);
        assert_eq!(f.pending(), 9 * (FOLD_WAYS as u64 - 1));
    }

    #[test]
    fn an_ended_window_is_taken_before_an_open_one() {
        let q = AlertQueue::new(64, 1);
        let mut f = AlertFolds::new(100);
        let set = |k: u64| k & (FOLD_SETS as u64 - 1);
        let a = f.key(1, 1);
        let keys: Vec<u64> = std::iter::once(a).chain((1..).map(|fk| f.key(fk + 100, 1)).filter(|&k| set(k) == set(a)).take(FOLD_WAYS)).collect();
        // The first key's window ends at 101; the others' are opened later and still open.
        f.raise(&q, 0, 0, keys[0], 1, 1, || at(0, 1));
        for (r, &k) in keys[1..FOLD_WAYS].iter().enumerate() {
            f.raise(&q, 0, r as u16 + 1, k, 150, 150, || at(r as u16 + 1, 150));
            f.raise(&q, 0, r as u16 + 1, k, 151, 151, || at(r as u16 + 1, 151));
        }
        drain(&q);
        f.raise(&q, 0, 9, keys[FOLD_WAYS], 160, 160, || at(9, 160));
        assert_eq!(drain(&q), [(9, 1, 160, 160)], "no open window was cut short");
        assert_eq!(f.pending(), FOLD_WAYS as u64 - 1);
    }

    #[test]
    fn a_first_sighting_that_finds_the_lane_full_waits_in_its_slot() {
        let q = AlertQueue::new(3, 1); // 2 usable
        q.push(0, at(9, 0));
        q.push(0, at(9, 0));
        let mut f = AlertFolds::new(1000);
        let k = f.key(1, 1);
        for t in 0..10 {
            f.raise(&q, 0, 1, k, t, 100 + t, || at(1, 100 + t));
        }
        assert_eq!((q.dropped(), f.pending()), (0, 10), "held and counted, not lost");
        assert_eq!(drain(&q).len(), 2);
        assert_eq!(f.expire(&q, 0, 1000), 1);
        assert_eq!(drain(&q), [(1, 10, 100, 109)], "handed over with its repeats once there is room");
    }

    #[test]
    fn with_no_window_every_alert_is_handed_over() {
        let q = AlertQueue::new(64, 1);
        let mut f = AlertFolds::new(0);
        let k = f.key(1, 1);
        for t in 0..5 {
            assert!(f.raise(&q, 0, 1, k, t, t, || at(1, t)));
        }
        assert_eq!(drain(&q).len(), 5);
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn folded_repeats_that_find_the_lane_full_are_counted_dropped() {
        let q = AlertQueue::new(3, 1); // 2 usable
        let mut f = AlertFolds::new(1000);
        let k = f.key(1, 1);
        for t in 0..10 {
            f.raise(&q, 0, 1, k, t, t, || at(1, t));
        }
        q.push(0, at(9, 0));
        q.push(0, at(9, 0)); // the lane is full: the first sighting and one other fit
        assert_eq!(f.flush(&q, 0, std::time::Duration::from_millis(5)), 9, "nine repeats had no room");
        assert_eq!(q.dropped(), 1, "the push that did not fit, counted by the queue");
    }

    #[test]
    fn a_full_lane_counts_what_it_has_no_room_for() {
        // One slot is kept free (see `AlertQueue`): a lane of 3 takes 2 events.
        let q = AlertQueue::new(3, 1);
        assert!(q.has_room(0));
        q.push(0, event(0));
        q.push(0, event(1));
        assert!(!q.has_room(0));
        q.push(0, event(2));
        q.count_dropped(0, 3); // what a worker counts when it sees its lane full
        assert_eq!(q.dropped(), 4);
        assert_eq!(q.pop().map(|e| e.rule), Some(0), "the first events are kept, in order");
        assert!(q.has_room(0));
        assert_eq!(q.len(), 1);
        q.push(0, event(3));
        assert_eq!([q.pop(), q.pop(), q.pop()].map(|e| e.map(|e| e.rule)), [Some(1), Some(3), None]);
        assert!(q.is_empty());
    }

    #[test]
    fn a_flooded_worker_fills_only_its_own_lane() {
        let q = AlertQueue::new(8, 2); // two lanes of 4, 3 usable each
        for r in 0..100 {
            q.push(0, event(r));
        }
        assert_eq!(q.dropped(), 97, "worker 0 lost what did not fit its lane");
        assert!(q.has_room(1));
        q.push(1, event(1000));
        q.push(1, event(1001));
        assert_eq!(q.dropped(), 97, "worker 1's alerts still get through");
        // The consumer takes the lanes in turn, each lane in order.
        let got: Vec<u16> = std::iter::from_fn(|| q.pop().map(|e| e.rule)).collect();
        assert_eq!(got, [0, 1000, 1, 1001, 2]);
    }

    #[test]
    fn a_producer_and_a_consumer_lose_and_duplicate_nothing() {
        // Each event pushed is either popped once or counted dropped, under real concurrency.
        let q = std::sync::Arc::new(AlertQueue::new(64, 2));
        let producers: Vec<_> = (0..2)
            .map(|w| {
                let q = q.clone();
                std::thread::spawn(move || {
                    for r in 0..20_000u32 {
                        let mut e = event((r % 60_000) as u16);
                        e.unix_ms = r as u64;
                        e.port = w as u16;
                        q.push(w, e);
                    }
                })
            })
            .collect();
        let mut seen = [Vec::new(), Vec::new()];
        let mut popped = 0u64;
        let done = || producers.iter().all(|p| p.is_finished());
        loop {
            let finished = done();
            while let Some(e) = q.pop() {
                seen[e.port as usize].push(e.unix_ms);
                popped += 1;
            }
            if finished {
                break;
            }
        }
        for p in producers {
            p.join().unwrap();
        }
        while let Some(e) = q.pop() {
            seen[e.port as usize].push(e.unix_ms);
            popped += 1;
        }
        assert_eq!(popped + q.dropped(), 40_000);
        for s in &seen {
            assert!(s.windows(2).all(|w| w[0] < w[1]), "a lane keeps its worker's order, no duplicates");
        }
    }

    #[test]
    fn a_storm_of_new_alerts_is_handed_over_as_one_summary_a_second() {
        // A flood of forged answers, each from a new source: every alert a first sighting. The
        // first NEW_PER_RULE_PER_S of a rule each second are handed over; the rest are counted
        // (one event built, the first) and handed over as one storm summary when the second ends.
        let q = AlertQueue::new(4096, 1);
        let mut f = AlertFolds::new(1000);
        let n = NEW_PER_RULE_PER_S as u64 + 500;
        let mut built = 0;
        for i in 0..n {
            built += f.raise(&q, 0, 3, f.key(1000 + i, 3), 10, 5000 + i, || at(3, 5000 + i)) as u64;
        }
        // Another rule has its own budget.
        assert!(f.raise(&q, 0, 4, f.key(1, 4), 10, 5000, || at(4, 5000)));
        assert_eq!(built, NEW_PER_RULE_PER_S as u64 + 1, "one event built for the 500 over the budget");
        assert_eq!(drain(&q).len(), NEW_PER_RULE_PER_S as usize + 1);
        assert_eq!(f.pending(), 500);
        // Not before the second ends.
        assert_eq!(f.expire(&q, 0, 999), 0);
        assert_eq!(f.expire(&q, 0, 1000), 1);
        let e = q.pop().unwrap();
        assert!(e.storm && e.rule == 3 && e.count == 500, "{} {}", e.storm, e.count);
        assert_eq!((e.first_unix_ms, e.unix_ms), (5000 + NEW_PER_RULE_PER_S as u64, 5000 + n - 1), "the first and last over the budget");
        assert_eq!(f.pending(), 0);
        // The next second has a budget again; a run's end hands over a storm still counting.
        for i in 0..n {
            f.raise(&q, 0, 3, f.key(9000 + i, 3), 1500, 9000 + i, || at(3, 9000 + i));
        }
        drain(&q);
        assert_eq!(f.flush(&q, 0, std::time::Duration::ZERO), 0);
        let e = q.pop().unwrap();
        assert!(e.storm && e.count == 500);
        assert_eq!(q.dropped(), 0);
    }
}
