//! What the header triage needs from a program, as data: which layout classes, plain frames
//! and protocol masks no rule can want, which rules are dormant while a learned table is empty,
//! and which frames a table's address filter may let through. Built once when a program is
//! compiled (the tables below) and per burst from them ([`SkipPlan`], [`Program::triage_plan`]).
use crate::program::{Node, Program, Rule, Test, MATCH, NO_MATCH};
use antidote_wire::proto::{self, MASK_BITS, TRANSPORT_BITS};
use antidote_wire::triage::{self, AddrFilter, AddrGate, TriagePlan, LAYOUT_CLASSES};

/// What the triage skips and gates under one program and set of live rules: kept by a worker
/// from burst to burst, since it changes only when a learned table fills or empties, or the
/// policy is swapped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SkipPlan {
    /// Layout classes no live rule can want ([`Program::skipped_classes`]).
    pub classes: u32,
    /// The classes gated on a table's address filter, and that table ([`Program::addr_gate`]).
    pub gate: Option<(u32, u32)>,
    /// Plain frames no live rule can want ([`triage::plain_skips`]).
    pub plain: u32,
}

impl Program {
    /// The [`SkipPlan`] for the rules of `live`.
    pub fn skip_plan(&self, live: u64) -> SkipPlan {
        let classes = self.skipped_classes(live);
        let gate = self.addr_gate(live, classes);
        let plain = triage::plain_skips(|m| self.skips_with(m, live));
        SkipPlan { classes, gate, plain }
    }

    /// The triage's plan for a burst from a [`SkipPlan`] of the rules of `live`: the data it
    /// reads, with the gate's address filter. Nothing is skipped while anything is quarantined
    /// (every frame must be checked against the quarantine).
    #[inline]
    pub fn triage_plan(&self, plan: &SkipPlan, live: u64) -> TriagePlan<'_> {
        self.triage_plan_with(plan, live, |t| self.tables[t as usize].state.addr_filter())
    }

    /// [`Program::triage_plan`] with the gate's filter read by `filter` from learned table `t`
    /// (a worker that holds the table reads it from its own line: `antidote_dataplane::judge`).
    #[inline]
    pub fn triage_plan_with<'a>(&'a self, plan: &SkipPlan, live: u64, filter: impl FnOnce(u32) -> &'a AddrFilter) -> TriagePlan<'a> {
        if self.uses_quarantine {
            return TriagePlan::NOTHING;
        }
        let gate = plan.gate.map(|(classes, t)| AddrGate { classes, filter: filter(t) });
        TriagePlan { skip_classes: plan.classes, skip_plain: plan.plain, gate, candidates: &self.candidates, live, watch: None }
    }

    /// True when a frame with this protocol mask can skip dissection and evaluation: no rule is a
    /// candidate for it and nothing is quarantined.
    #[inline]
    pub fn skips(&self, mask: u32) -> bool {
        self.skips_with(mask, u64::MAX)
    }

    /// The rules that can match now, as a bitset: all but the dormant ones — rules whose
    /// condition needs a key of a learned table that holds none (`ip.dst in poisoners` while no
    /// poisoner is known). One load per such table; the workers ask once per burst.
    #[inline]
    pub fn live_rules(&self) -> u64 {
        let mut live = u64::MAX;
        for &(t, rules) in &self.dormant_if_empty {
            if !self.tables[t as usize].state.may_hold_keys() {
                live &= !rules;
            }
        }
        live
    }

    /// [`Program::live_rules`] when every learned table is empty (for `explain`).
    pub fn live_rules_if_empty(&self) -> u64 {
        self.dormant_if_empty.iter().fold(u64::MAX, |live, &(_, rules)| live & !rules)
    }

    /// The address gate of the header look for a burst, when only the rules of `live` can match
    /// and the classes of `skipped` are skipped whole: the layout classes whose every candidate
    /// rule needs the frame's source or destination address in one learned table, and that
    /// table's address filter. A frame of those classes whose two addresses the filter has
    /// never seen cannot match a rule (nor count in one) and gets the default verdict without
    /// further look — under the default policy, once a poisoner is known, the TCP segments
    /// between other hosts. One table at most (the first that gates a class).
    #[inline]
    pub fn addr_gate(&self, live: u64, skipped: u32) -> Option<(u32, u32)> {
        if self.uses_quarantine || self.candidates.is_empty() {
            return None;
        }
        for &(t, gated) in &self.addr_gated {
            let mut classes = 0;
            for (c, &rules) in self.class_candidates.iter().enumerate() {
                let rules = rules & live;
                if skipped >> c & 1 == 0 && rules != 0 && rules & !gated == 0 {
                    classes |= 1 << c;
                }
            }
            if classes != 0 {
                return Some((classes, t));
            }
        }
        None
    }

    /// [`Program::skips`] when only the rules of `live` can match.
    #[inline]
    pub fn skips_with(&self, mask: u32, live: u64) -> bool {
        !self.uses_quarantine && self.candidates.get(mask as usize).is_some_and(|&c| c & live == 0)
    }

    /// The layout classes of the header look whose every frame can skip dissection and
    /// evaluation when only the rules of `live` can match (bit c: class c).
    #[inline]
    pub fn skipped_classes(&self, live: u64) -> u32 {
        if self.uses_quarantine || self.candidates.is_empty() {
            return 0;
        }
        self.class_candidates.iter().enumerate().fold(0, |a, (c, &rules)| if rules & live == 0 { a | 1 << c } else { a })
    }
}

/// [`Program::class_candidates`] from the candidate table (all rules when that is empty).
pub fn class_candidate_table(candidates: &[u64]) -> [u64; LAYOUT_CLASSES] {
    let mut t = [0u64; LAYOUT_CLASSES];
    for (c, rules) in t.iter_mut().enumerate() {
        *rules = if candidates.is_empty() {
            u64::MAX
        } else {
            candidates.iter().enumerate().filter(|&(m, _)| triage::class_may_give(c, m as u32)).fold(0, |a, (_, &r)| a | r)
        };
    }
    t
}

/// [`Program::dormant_if_empty`]: for each table, the rules (of the first 64) whose condition
/// cannot reach a match — nor a counter, which would count the frame — when every membership
/// test of that table is false. Found on the branch program itself, so `and`, `or` and `not`
/// need no rules of their own: `ip.dst in t and …` is dormant, `ip.dst in t or …` and
/// `ip.dst not in t` are not.
pub fn dormant_table(rules: &[Rule], nodes: &[Node], tests: &[Test], tables: usize) -> Vec<(u32, u64)> {
    ruled_out_per_table(rules, nodes, tests, tables, |t, test| matches!(test, Test::InTable(_, tt) if *tt == t))
}

/// [`Program::addr_gated`]: for each table, the rules (of the first 64) whose condition cannot
/// reach a match nor a counter when the frame's `ip.src` and `ip.dst` are not in the table —
/// every test `ip.src in t` and `ip.dst in t` false.
pub fn addr_gated_table(rules: &[Rule], nodes: &[Node], tests: &[Test], tables: usize) -> Vec<(u32, u64)> {
    ruled_out_per_table(rules, nodes, tests, tables, |t, test| matches!(test, Test::InTable(f, tt) if *tt == t && f.endpoint().is_some()))
}

/// For each table t, the rules (of the first 64) that cannot reach a match nor a counter when
/// every test `is_false(t, test)` picks is false; tables with none are left out.
fn ruled_out_per_table(rules: &[Rule], nodes: &[Node], tests: &[Test], tables: usize, is_false: impl Fn(u32, &Test) -> bool) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    for t in 0..tables as u32 {
        let false_for_t = |test: &Test| is_false(t, test);
        let ruled_out = rules.iter().take(64).enumerate().filter(|(_, r)| !reaches(r.entry, nodes, tests, &false_for_t)).fold(0u64, |a, (i, _)| a | 1 << i);
        if ruled_out != 0 {
            out.push((t, ruled_out));
        }
    }
    out
}

/// Whether the branch program from `entry` can reach [`MATCH`] or a counter when every test
/// `is_false` picks is false.
fn reaches(entry: u32, nodes: &[Node], tests: &[Test], is_false: &dyn Fn(&Test) -> bool) -> bool {
    let mut seen = vec![false; nodes.len()];
    let mut stack = vec![entry];
    while let Some(at) = stack.pop() {
        if at == MATCH {
            return true;
        }
        if at == NO_MATCH {
            continue;
        }
        let Some(node) = nodes.get(at as usize) else { return true };
        if std::mem::replace(&mut seen[at as usize], true) {
            continue;
        }
        match tests.get(node.test as usize) {
            Some(Test::Count { .. } | Test::Distinct { .. }) | None => return true,
            Some(t) if is_false(t) => stack.push(node.on_false),
            Some(_) => stack.extend([node.on_false, node.on_true]),
        }
    }
    false
}
/// The candidate bitsets of a program's rules (empty when it has more than 64 rules).
pub fn candidate_table(rules: &[Rule]) -> Vec<u64> {
    if rules.len() > 64 {
        return Vec::new();
    }
    (0..1u32 << MASK_BITS).map(|mask| rules.iter().enumerate().fold(0u64, |acc, (i, r)| if r.admits(mask) { acc | 1 << i } else { acc })).collect()
}

/// A transport-level mask as an index into [`Program::transport_candidates`].
#[inline]
pub(crate) fn transport_key(mask: u32) -> usize {
    TRANSPORT_BITS.iter().enumerate().fold(0, |k, (i, &b)| k | ((mask & b != 0) as usize) << i)
}

/// [`Program::transport_candidates`] from the candidate table (empty when that is): for each
/// transport-level mask, the union of the candidates of every mask with an application its
/// transport can carry (TCP: HTTP, SMB2, NTLM; UDP: the name-resolution and SQL-browser
/// messages), or none.
pub fn transport_candidate_table(candidates: &[u64]) -> Vec<u64> {
    if candidates.is_empty() {
        return Vec::new();
    }
    let transport = TRANSPORT_BITS.iter().fold(0, |a, b| a | b);
    let mut t = vec![0u64; 1 << TRANSPORT_BITS.len()];
    for (m, &c) in candidates.iter().enumerate() {
        let m = m as u32;
        let app = m & !transport;
        if app & !proto::carried_by(m) == 0 {
            t[transport_key(m)] |= c;
        }
    }
    t
}
