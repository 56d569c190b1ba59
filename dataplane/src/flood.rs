//! Answers that come faster than a worker can judge them.
//!
//! Judging a name-resolution answer reads it whole and runs it through every rule (~0.5 µs);
//! one host on the segment can send millions a second, each for a new name from a made-up
//! source (issue 24's flood: a worker cut to 2 % of its rate). So each worker judges at most
//! [`FloodSpec::answers_per_ms`] answers a millisecond from anyone, and beyond that up to
//! [`FloodSpec::known_answers_per_ms`] more from senders the network knows as themselves
//! (a MAC that ARP, NDP or DHCP bound an address to, from whichever address it answers, or a
//! responder verified by a probe: what made-up sources lack) — so the owners' answers keep being judged through a flood. What is over both is
//! dropped unjudged (or, if the profile says so, passed unjudged), counted
//! (`actions.over_budget`) and reported once a second by the alert thread (`answer-flood`).
use serde::Deserialize;

/// A profile's `[floods]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FloodSpec {
    /// Answers a worker judges per millisecond from any sender (0: no budget, every answer is
    /// judged whatever it costs).
    pub answers_per_ms: u32,
    /// Answers a worker judges per millisecond beyond that from senders known as themselves.
    pub known_answers_per_ms: u32,
    /// What becomes of an answer over both.
    pub over_budget: OverBudget,
    /// Frames to or from a learned poisoner's address (the classes the learned table's address
    /// gate lets through: follow-on traffic) a worker judges per millisecond (0: every one).
    /// Beyond, a frame whose address is in the table is dropped (or passed: `over_budget`)
    /// unjudged, and any other — the address filter's false positive — gets the default verdict
    /// no rule of its class can change ([`FrameBudget`]).
    pub follow_ons_per_ms: u32,
    /// Frames for a canary identity a worker takes per millisecond (0: every one): ARP requests
    /// and neighbour solicitations answered, frames sent to it judged. Beyond, they are consumed
    /// (never forwarded) without an answer or a judgement, counted.
    pub canary_frames_per_ms: u32,
}

impl Default for FloodSpec {
    fn default() -> Self {
        // 32,000 answers a second from anyone and 128,000 more from known senders, per worker:
        // a network of thousands of hosts shows a few hundred a second; judging the budget's worth
        // costs a worker ~8 % of a core. 256,000 frames a second with a learned poisoner (its
        // victims' connections, its own traffic; ~0.2 µs each): ~5 % of a core.
        // 64,000 frames a second for a canary identity: a poisoner answers a canary a few times
        // a minute.
        FloodSpec { answers_per_ms: 32, known_answers_per_ms: 128, over_budget: OverBudget::Drop, follow_ons_per_ms: 256, canary_frames_per_ms: 64 }
    }
}

/// What becomes of an answer over the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverBudget {
    /// Dropped unjudged: a flood cannot carry a forged answer through (a legitimate answer from
    /// an unknown sender is lost while the flood lasts; its asker retries).
    Drop,
    /// Forwarded unjudged: nothing legitimate is lost, but a forged answer in the flood passes.
    Pass,
}

/// One worker's budget for the current millisecond.
pub(crate) struct AnswerBudget {
    spec: FloodSpec,
    ms: u64,
    any: u32,
    known: u32,
}

/// Whether an answer is judged, and if not, what becomes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    Judge,
    Over(OverBudget),
}

impl AnswerBudget {
    pub(crate) fn new(spec: FloodSpec) -> AnswerBudget {
        AnswerBudget { spec, ms: u64::MAX, any: 0, known: 0 }
    }

    /// Whether an answer arriving at `now` (ms) is judged: within the budget for any sender, or
    /// else within the reserve for known ones (`known` is asked only then: the lookup costs a
    /// visit to the shared tables).
    #[inline(always)]
    pub(crate) fn admit(&mut self, now: u64, known: impl FnOnce() -> bool) -> Admit {
        if self.spec.answers_per_ms == 0 {
            return Admit::Judge;
        }
        if self.ms != now {
            (self.ms, self.any, self.known) = (now, self.spec.answers_per_ms, self.spec.known_answers_per_ms);
        }
        if self.any > 0 {
            self.any -= 1;
            return Admit::Judge;
        }
        if self.known > 0 && known() {
            self.known -= 1;
            return Admit::Judge;
        }
        Admit::Over(self.spec.over_budget)
    }
}

/// One worker's budget of frames of one kind for the current millisecond (0 a millisecond: no
/// budget): follow-on frames (to or from a learned poisoner's address: a flood of forged SYNs to
/// a poisoner from made-up sources, each one a dissection, a judgement and an alert, ~0.2 µs,
/// would otherwise hold a worker to a few Mpps), or frames for a canary identity (a flood of
/// forged answers to it, each a poisoner caught: ~0.7 µs; ARP requests for its address, each
/// answered).
pub(crate) struct FrameBudget {
    per_ms: u32,
    ms: u64,
    left: u32,
}

impl FrameBudget {
    pub(crate) fn new(per_ms: u32) -> FrameBudget {
        FrameBudget { per_ms, ms: u64::MAX, left: 0 }
    }

    /// Whether a frame arriving at `now` (ms) is within the budget.
    #[inline(always)]
    pub(crate) fn admit(&mut self, now: u64) -> bool {
        if self.per_ms == 0 {
            return true;
        }
        if self.ms != now {
            (self.ms, self.left) = (now, self.per_ms);
        }
        let judged = self.left > 0;
        self.left -= judged as u32;
        judged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_millisecond_judges_the_budget_then_only_known_senders_then_nothing() {
        let spec = FloodSpec { answers_per_ms: 3, known_answers_per_ms: 2, over_budget: OverBudget::Drop, follow_ons_per_ms: 0, canary_frames_per_ms: 0 };
        let mut b = AnswerBudget::new(spec);
        let asked = std::cell::Cell::new(0);
        let ask = |known: bool| {
            let asked = &asked;
            move || {
                asked.set(asked.get() + 1);
                known
            }
        };
        for _ in 0..3 {
            assert_eq!(b.admit(7, ask(false)), Admit::Judge);
        }
        assert_eq!(asked.get(), 0, "within the budget no sender is looked up");
        assert_eq!(b.admit(7, ask(false)), Admit::Over(OverBudget::Drop), "an unknown sender over the budget");
        assert_eq!(b.admit(7, ask(true)), Admit::Judge);
        assert_eq!(b.admit(7, ask(true)), Admit::Judge);
        assert_eq!(b.admit(7, ask(true)), Admit::Over(OverBudget::Drop), "the known senders' reserve is spent too");
        assert_eq!(asked.get(), 3, "the reserve spent, no more lookups");
        // The next millisecond starts afresh.
        assert_eq!(b.admit(8, ask(false)), Admit::Judge);
        let mut pass = AnswerBudget::new(FloodSpec { answers_per_ms: 1, known_answers_per_ms: 0, over_budget: OverBudget::Pass, ..spec });
        assert_eq!(pass.admit(1, || false), Admit::Judge);
        assert_eq!(pass.admit(1, || true), Admit::Over(OverBudget::Pass));
        let mut none = AnswerBudget::new(FloodSpec { answers_per_ms: 0, ..spec });
        assert!((0..10_000).all(|_| none.admit(1, || false) == Admit::Judge), "0: no budget");
    }

    #[test]
    fn frames_are_taken_up_to_the_budget_each_millisecond() {
        let mut b = FrameBudget::new(2);
        assert_eq!([b.admit(5), b.admit(5), b.admit(5), b.admit(6), b.admit(6), b.admit(6)], [true, true, false, true, true, false]);
        let mut none = FrameBudget::new(0);
        assert!((0..10_000).all(|_| none.admit(1)), "0: no budget");
    }
}
