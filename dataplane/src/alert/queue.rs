//! The bounded lock-free queue from the workers to the alert thread, one lane per worker.
use super::AlertEvent;
use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

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

    /// Hands an event of `worker` over; when its lane has no room the event (the occurrences
    /// it stands for) is counted as dropped. Never waits (see [`AlertQueue`]).
    #[inline]
    pub fn push(&self, worker: usize, e: AlertEvent) {
        let n = e.count.max(1) as u64;
        if !self.try_push(worker, e) {
            self.lane(worker).count_dropped(n);
        }
    }

    /// [`AlertQueue::push`], except that an event it has no room for is given back (`false`),
    /// not counted.
    #[inline]
    pub fn try_push(&self, worker: usize, e: AlertEvent) -> bool {
        let lane = self.lane(worker);
        Self::room(lane) && lane.q.push(e).is_ok()
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
