//! Alert events: what a worker hands to the control side when a rule alerts. Fixed size and
//! copied by value into a bounded lock-free queue: the worker never allocates, formats or
//! waits. The event carries the first bytes of the frame, so the control side can dissect it
//! again and fill in addresses, names and the rule's message there.
use crossbeam_queue::ArrayQueue;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

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

/// The bounded queue between the workers and the alert sinks, with the count of events it had
/// no room for.
pub struct AlertQueue {
    q: ArrayQueue<AlertEvent>,
    pub dropped: AtomicU64,
}

impl AlertQueue {
    pub fn new(capacity: usize) -> AlertQueue {
        AlertQueue { q: ArrayQueue::new(capacity.max(1)), dropped: AtomicU64::new(0) }
    }

    /// Hands an event over; when the queue is full it is counted as dropped (never waits).
    #[inline]
    pub fn push(&self, e: AlertEvent) {
        if self.q.push(e).is_err() {
            self.dropped.fetch_add(1, Relaxed);
        }
    }

    /// Whether the queue has no room (the worker then counts its events as dropped without
    /// building them: under a flood that finds the queue full, a frame costs no 416-byte copy).
    #[inline]
    pub fn is_full(&self) -> bool {
        self.q.is_full()
    }

    /// Counts `n` events as dropped (the queue had no room for them).
    #[inline]
    pub fn count_dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Relaxed);
    }

    pub fn pop(&self) -> Option<AlertEvent> {
        self.q.pop()
    }

    pub fn len(&self) -> usize {
        self.q.len()
    }

    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
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
    fn a_full_queue_counts_what_it_has_no_room_for() {
        let q = AlertQueue::new(2);
        assert!(!q.is_full());
        q.push(event(0));
        q.push(event(1));
        assert!(q.is_full());
        q.push(event(2));
        q.count_dropped(3); // what a worker counts when it sees the queue full
        assert_eq!(q.dropped.load(Relaxed), 4);
        assert_eq!(q.pop().map(|e| e.rule), Some(0), "the first events are kept, in order");
        assert!(!q.is_full());
        assert_eq!(q.len(), 1);
    }
}
