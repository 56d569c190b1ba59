//! Alert events: what a worker hands to the control side when a rule alerts. Fixed size and
//! copied by value into a bounded lock-free queue: the worker never allocates, formats or
//! waits. The event carries the first bytes of the frame, so the control side can dissect it
//! again and fill in addresses, names and the rule's message there.
use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// Bytes of the frame an event keeps (enough for every header and name the alert shows).
pub const FRAME_BYTES: usize = 384;

#[derive(Clone, Copy)]
pub struct AlertEvent {
    /// Wall-clock time, milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// The policy version whose rule fired.
    pub policy_version: u64,
    pub rule: u16,
    /// Ingress port index (profile order).
    pub port: u16,
    pub lcore: u16,
    /// What was done to the frame.
    pub dropped: bool,
    pub injected: bool,
    pub mirrored: bool,
    /// Frame bytes kept and the frame's full length.
    pub len: u16,
    pub frame_len: u16,
    pub frame: [u8; FRAME_BYTES],
}

impl AlertEvent {
    pub fn frame(&self) -> &[u8] {
        &self.frame[..self.len as usize]
    }
}

/// The bounded queues between the workers and the alert sinks: one lane per worker, so each
/// lane has one producer (its worker) and one consumer (the alert thread), with the count of
/// events each had no room for.
///
/// A worker never waits on it. crossbeam's `ArrayQueue::push` spins while the slot it wants is
/// still being read by a consumer that has already moved the head past it — on a full queue,
/// if the alert thread is descheduled in the middle of a pop, for as long as it stays
/// descheduled. A lane therefore counts itself full one slot early: with a single consumer, a
/// head two slots past the previous occupant of the slot the worker writes next means that
/// occupant's pop has finished, so the push succeeds at once. Lanes also keep workers off each
/// other's cache lines, and a worker flooded with alerts fills only its own lane: the alerts
/// of the other segments still get through.
pub struct AlertQueue {
    lanes: Box<[Lane]>,
    /// The lane the consumer tries first (round robin, so no lane starves the others).
    next: AtomicUsize,
}

struct Lane {
    q: ArrayQueue<AlertEvent>,
    /// Events this lane had no room for (written by its worker only).
    dropped: CachePadded<AtomicU64>,
}

impl Lane {
    /// A plain add, not an atomic one: only the lane's worker writes the count.
    #[inline]
    fn count_dropped(&self, n: u64) {
        self.dropped.store(self.dropped.load(Relaxed).wrapping_add(n), Relaxed);
    }
}

impl AlertQueue {
    /// Lanes for `workers` workers sharing `capacity` events (each lane holds at least two).
    pub fn new(capacity: usize, workers: usize) -> AlertQueue {
        let workers = workers.max(1);
        let per_lane = capacity.div_ceil(workers).max(2);
        let lanes = (0..workers).map(|_| Lane { q: ArrayQueue::new(per_lane), dropped: CachePadded::new(AtomicU64::new(0)) }).collect();
        AlertQueue { lanes, next: AtomicUsize::new(0) }
    }

    fn lane(&self, worker: usize) -> &Lane {
        &self.lanes[worker % self.lanes.len()]
    }

    /// Hands an event of `worker` over; when its lane has no room the event is counted as
    /// dropped. Never waits (see [`AlertQueue`]).
    #[inline]
    pub fn push(&self, worker: usize, e: AlertEvent) {
        let lane = self.lane(worker);
        if !Self::room(lane) || lane.q.push(e).is_err() {
            lane.count_dropped(1);
        }
    }

    #[inline]
    fn room(lane: &Lane) -> bool {
        lane.q.len() + 1 < lane.q.capacity()
    }

    /// Whether `worker`'s lane has room for an event (when it has none, the worker counts its
    /// events as dropped without building them: under a flood a frame costs no 416-byte copy).
    #[inline]
    pub fn has_room(&self, worker: usize) -> bool {
        Self::room(self.lane(worker))
    }

    /// Counts `n` events of `worker` as dropped (its lane had no room for them).
    #[inline]
    pub fn count_dropped(&self, worker: usize, n: u64) {
        self.lane(worker).count_dropped(n);
    }

    /// Events lost because a lane was full, over all lanes.
    pub fn dropped(&self) -> u64 {
        self.lanes.iter().map(|l| l.dropped.load(Relaxed)).sum()
    }

    /// The next event of any lane, the lanes taken in turn. Only one thread may pop (the
    /// alert thread): a worker's push relies on it (see [`AlertQueue`]).
    pub fn pop(&self) -> Option<AlertEvent> {
        let n = self.lanes.len();
        let first = self.next.load(Relaxed);
        for k in 0..n {
            let i = (first + k) % n;
            if let Some(e) = self.lanes[i].q.pop() {
                self.next.store((i + 1) % n, Relaxed);
                return Some(e);
            }
        }
        None
    }

    pub fn len(&self) -> usize {
        self.lanes.iter().map(|l| l.q.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.lanes.iter().all(|l| l.q.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(rule: u16) -> AlertEvent {
        AlertEvent {
            unix_ms: 1,
            policy_version: 1,
            rule,
            port: 0,
            lcore: 1,
            dropped: true,
            injected: false,
            mirrored: false,
            len: 0,
            frame_len: 60,
            frame: [0; FRAME_BYTES],
        }
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
}
