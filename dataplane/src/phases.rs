//! Where a worker's time goes, in TSC cycles per frame (feature `phase-cycles`, built by
//! `bench/phases.sh`): the poll round, the judging of the bursts, and in it the header look
//! and the slow path. Time on a shared machine swings from minute to minute with everything
//! else on it, and instructions counted by callgrind do not say what a change costs in time
//! (fewer instructions in a longer chain of dependent loads can be slower); cycles spent in
//! the worker's own stretches, against frames, are steady to a few percent.
//!
//! Without the feature every method is empty and the counter is never read.

/// Cycles and frames, added up by one worker.
#[derive(Default)]
pub struct Phases {
    poll: u64,
    judge: u64,
    look: u64,
    slow: u64,
    frames: u64,
    slow_frames: u64,
}

/// Whether the worker times its stretches.
pub const ON: bool = cfg!(feature = "phase-cycles");

impl Phases {
    /// The counter now (0 without the feature).
    #[inline(always)]
    pub fn now() -> u64 {
        if ON {
            antidote_dpdk::tsc()
        } else {
            0
        }
    }

    /// A poll round that received `frames`, begun at `start`.
    #[inline(always)]
    pub fn poll(&mut self, start: u64, frames: usize) {
        if ON && frames > 0 {
            self.poll += Self::now().saturating_sub(start);
            self.frames += frames as u64;
        }
    }

    /// A burst judged from `start`, its look ending at `look_end` and its slow path (over
    /// `slow_frames` frames) at `slow_end`.
    #[inline(always)]
    pub fn judge(&mut self, start: u64, look_end: u64, slow_end: u64, slow_frames: u32) {
        if ON {
            self.look += look_end.saturating_sub(start);
            self.slow += slow_end.saturating_sub(look_end);
            self.judge += Self::now().saturating_sub(start);
            self.slow_frames += slow_frames as u64;
        }
    }

    /// One line for the end of the run (None without the feature or frames).
    pub fn report(&self, lcore: u16) -> Option<String> {
        if !ON || self.frames == 0 {
            return None;
        }
        let per = |c: u64| c as f64 / self.frames as f64;
        Some(format!(
            "antidote phases (lcore {lcore}, TSC cycles per frame): poll {:.2} judge {:.2} look {:.2} slow {:.2} | frames {} slow frames {} ({:.0} cycles each)",
            per(self.poll),
            per(self.judge),
            per(self.look),
            per(self.slow),
            self.frames,
            self.slow_frames,
            self.slow as f64 / self.slow_frames.max(1) as f64
        ))
    }
}
