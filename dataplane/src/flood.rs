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
    /// no rule of its class can change ([`FollowOnBudget`]).
    pub follow_ons_per_ms: u32,
}

impl Default for FloodSpec {
    fn default() -> Self {
        // 32,000 answers a second from anyone and 128,000 more from known senders, per worker:
        // a network of thousands of hosts shows a few hundred a second; judging the budget's worth
        // costs a worker ~8 % of a core. 256,000 frames a second with a learned poisoner (its
        // victims' connections, its own traffic; ~0.2 µs each): ~5 % of a core.
        FloodSpec { answers_per_ms: 32, known_answers_per_ms: 128, over_budget: OverBudget::Drop, follow_ons_per_ms: 256 }
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

/// One worker's budget of follow-on frames (to or from a learned poisoner's address) for the
/// current millisecond: a flood of forged SYNs to a poisoner from made-up sources, each one a
/// dissection, a judgement and an alert (~0.2 µs), would otherwise hold a worker to a few Mpps.
pub(crate) struct FollowOnBudget {
    per_ms: u32,
    ms: u64,
    left: u32,
}

impl FollowOnBudget {
    pub(crate) fn new(spec: FloodSpec) -> FollowOnBudget {
        FollowOnBudget { per_ms: spec.follow_ons_per_ms, ms: u64::MAX, left: 0 }
    }

    /// Whether a follow-on frame arriving at `now` (ms) is judged.
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
        let spec = FloodSpec { answers_per_ms: 3, known_answers_per_ms: 2, over_budget: OverBudget::Drop, follow_ons_per_ms: 0 };
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
        let mut pass = AnswerBudget::new(FloodSpec { answers_per_ms: 1, known_answers_per_ms: 0, over_budget: OverBudget::Pass, follow_ons_per_ms: 0 });
        assert_eq!(pass.admit(1, || false), Admit::Judge);
        assert_eq!(pass.admit(1, || true), Admit::Over(OverBudget::Pass));
        let mut none = AnswerBudget::new(FloodSpec { answers_per_ms: 0, ..spec });
        assert!((0..10_000).all(|_| none.admit(1, || false) == Admit::Judge), "0: no budget");
    }

    #[test]
    fn follow_ons_are_judged_up_to_the_budget_each_millisecond() {
        let mut b = FollowOnBudget::new(FloodSpec { follow_ons_per_ms: 2, ..FloodSpec::default() });
        assert_eq!([b.admit(5), b.admit(5), b.admit(5), b.admit(6), b.admit(6), b.admit(6)], [true, true, false, true, true, false]);
        let mut none = FollowOnBudget::new(FloodSpec { follow_ons_per_ms: 0, ..FloodSpec::default() });
        assert!((0..10_000).all(|_| none.admit(1)), "0: no budget");
    }
}
