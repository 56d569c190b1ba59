//! Time, for the workers and the control side: the run's monotonic clock in milliseconds
//! (workers read it once per poll round at most) and wall-clock time for alerts and records.
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now (0 if the system clock is before it).
pub fn unix_now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Milliseconds since the run started (≥ 1), and wall-clock time for alerts.
pub struct Clock {
    start: Instant,
    start_unix_ms: u64,
    /// In a replay, once its first frame came: that frame's time (Unix ms) minus the run clock
    /// then — alerts carry the capture's time, not the replay's (`i64::MIN`: not a replay).
    capture_offset: std::sync::atomic::AtomicI64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    pub fn new() -> Clock {
        Clock { start: Instant::now(), start_unix_ms: unix_now_ms(), capture_offset: std::sync::atomic::AtomicI64::new(i64::MIN) }
    }
    /// Monotonic milliseconds since start, from 1 (vDSO clock: no syscall).
    #[inline]
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 + 1
    }
    /// The wall-clock time (Unix ms) of run-clock `now_ms`: in a replay, the capture's.
    pub fn unix_ms(&self, now_ms: u64) -> u64 {
        match self.capture_offset.load(std::sync::atomic::Ordering::Relaxed) {
            i64::MIN => self.start_unix_ms + now_ms - 1,
            off => (now_ms as i64).saturating_add(off).max(0) as u64,
        }
    }

    /// A replay's first frame carries capture time `unix_ms` and came at run clock `now_ms`.
    pub fn set_capture_origin(&self, unix_ms: u64, now_ms: u64) {
        let _ = self.capture_offset.compare_exchange(
            i64::MIN,
            unix_ms as i64 - now_ms as i64,
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

/// A worker's clock in a replay (`antidote replay`): the capture's time, as run-clock
/// milliseconds — the first frame's timestamp is the run clock when it came, and each later
/// frame is as far after it as in the capture, however fast the capture is read; once no frame
/// has come for [`CAPTURE_IDLE_MS`] of the run clock (the capture's end), time goes on as the run
/// clock does, so what is held is released when it would have been. (While frames keep coming,
/// the time it takes to read them is not the capture's: a thousand answers of one millisecond
/// stay in one millisecond.) Never goes back.
#[derive(Default, Debug)]
pub struct CaptureClock {
    /// The first frame's timestamp (µs) and the run clock then.
    origin: Option<(u64, u64)>,
    /// The last frame's time (run-clock ms) and the run clock when it came.
    last: (u64, u64),
    now: u64,
}

/// How long (run clock) a replay's clock waits for the next frame before it moves on by itself.
pub const CAPTURE_IDLE_MS: u64 = 50;

impl CaptureClock {
    /// A burst whose first frame carries timestamp `ts_us` (microseconds), read at run clock
    /// `real`: the capture's time now.
    pub fn frame(&mut self, ts_us: u64, real: u64) -> u64 {
        let (t0, r0) = *self.origin.get_or_insert((ts_us, real));
        let at = r0 + ts_us.saturating_sub(t0) / 1000;
        self.last = (at, real);
        self.now = self.now.max(at);
        self.now
    }

    /// The first frame's timestamp (µs) and the run clock when it came.
    pub fn origin(&self) -> Option<(u64, u64)> {
        self.origin
    }

    /// The capture's time at run clock `real`, between frames.
    pub fn idle(&mut self, real: u64) -> u64 {
        let at = match self.origin {
            Some(_) => self.last.0 + real.saturating_sub(self.last.1 + CAPTURE_IDLE_MS),
            None => real,
        };
        self.now = self.now.max(at);
        self.now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_capture_clock_follows_the_capture_then_the_clock() {
        let mut c = CaptureClock::default();
        assert_eq!(c.idle(5), 5, "before the first frame: the run clock");
        assert_eq!(c.frame(1_000_000, 10), 10, "the first frame: the run clock then");
        assert_eq!(c.frame(1_040_000, 11), 50, "40 ms later in the capture, 1 ms later in the run");
        assert_eq!(c.frame(1_030_000, 12), 50, "never back");
        assert_eq!(c.frame(61_040_000, 13), 60_050, "a minute later in the capture");
        assert_eq!(c.idle(13), 60_050);
        assert_eq!(c.idle(13 + CAPTURE_IDLE_MS - 1), 60_050, "reading the capture takes none of its time");
        assert_eq!(c.idle(113 + CAPTURE_IDLE_MS), 60_150, "with no frame coming, time goes on as the run clock does");
    }
}
