//! Time, for the workers and the control side: the run's monotonic clock in milliseconds
//! (workers read it once per poll round at most) and wall-clock time for alerts and records.
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now (0 if the system clock is before it).
pub fn unix_now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Milliseconds since the run started (≥ 1), and wall-clock time for alerts.
#[derive(Clone, Copy)]
pub struct Clock {
    start: Instant,
    start_unix_ms: u64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    pub fn new() -> Clock {
        Clock { start: Instant::now(), start_unix_ms: unix_now_ms() }
    }
    /// Monotonic milliseconds since start, from 1 (vDSO clock: no syscall).
    #[inline]
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 + 1
    }
    pub fn unix_ms(&self, now_ms: u64) -> u64 {
        self.start_unix_ms + now_ms - 1
    }
}
