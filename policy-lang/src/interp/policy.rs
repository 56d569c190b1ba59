//! A whole policy run the plain way, for tests: the rules in their order, each rule's `when`
//! judged by [`super::eval_with`] (fields read by [`super::wire`]), the matched rule's actions
//! carried out in order until one decides (`pass` / `drop`), else the policy's default; named
//! sets as lists of literals; learned tables as lists of (value, expiry) with their TTL and
//! `except` set. Features it does not model — counters (`count`, `distinct`, `rate-limit`),
//! `quarantine`, `verify`, fields learned from the network (`learned.*`, `canary.*`) — make
//! [`Reference::new`] refuse the policy, so a test cannot mistake them for checked.
use super::{eval_with, lit_eq, value, values_eq, RefValue, Sets};
use crate::ast::*;
use crate::program::Meta;
use std::collections::HashMap;

/// What the reference decided for one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefOutcome {
    pub verdict: Verdict,
    /// The rule whose action decided (None: the default).
    pub decided_by: Option<usize>,
    /// Rules that matched, in order.
    pub matched: Vec<usize>,
    /// Rules that raised an alert, in order.
    pub alerts: Vec<usize>,
    pub mirror: bool,
    pub inject_nbns_negative: bool,
}

struct Table {
    ttl_ms: u64,
    except: Option<String>,
    /// Learned values and when each expires (live while `now < expiry`).
    entries: Vec<(RefValue, u64)>,
}

/// A policy, ready to judge frames one after another (its tables change as it goes).
pub struct Reference {
    rules: Vec<Rule>,
    default: Verdict,
    sets: Sets,
    tables: HashMap<String, Table>,
}

fn uses_unmodelled(e: &Expr) -> Option<String> {
    match e {
        Expr::Or(a, b) | Expr::And(a, b) => uses_unmodelled(&a.node).or_else(|| uses_unmodelled(&b.node)),
        Expr::Not(a) => uses_unmodelled(&a.node),
        Expr::Cmp(a, _, b) => [&a.node, &b.node].into_iter().find_map(operand_unmodelled),
        Expr::In { operand, .. } | Expr::Str(operand, ..) | Expr::Bare(operand) => operand_unmodelled(&operand.node),
        Expr::Error => Some("a parse error".into()),
    }
}

fn operand_unmodelled(o: &Operand) -> Option<String> {
    match o {
        Operand::Count { .. } | Operand::Distinct { .. } => Some("counters".into()),
        Operand::Field(f) if f.starts_with("learned.") || f.starts_with("canary.") => Some(format!("field {f}")),
        Operand::Field(f) if !f.starts_with("meta.") && !super::wire::FIELDS.contains(&f.as_str()) => Some(format!("field {f} (not read by interp::wire)")),
        _ => None,
    }
}

impl Reference {
    /// The reference for `policy` (a policy the compiler accepts), or what it does not model.
    pub fn new(policy: &Policy) -> Result<Reference, String> {
        let mut r = Reference { rules: Vec::new(), default: Verdict::Pass, sets: Sets::new(), tables: HashMap::new() };
        for item in &policy.items {
            match item {
                Item::Set(s) => {
                    r.sets.insert(s.name.node.clone(), s.elems.iter().map(|e| e.node.clone()).collect());
                }
                Item::Table(t) => {
                    let ttl_ms = t.ttl.as_ref().map(|d| d.node).unwrap_or(3_600_000);
                    r.tables.insert(t.name.node.clone(), Table { ttl_ms, except: t.except.as_ref().map(|e| e.node.clone()), entries: Vec::new() });
                }
                Item::Rule(rule) => {
                    if let Some(why) = rule.when.as_ref().and_then(|w| uses_unmodelled(&w.node)) {
                        return Err(format!("rule {}: {why}", rule.name.node));
                    }
                    for a in &rule.actions {
                        match &a.node {
                            Action::Quarantine { .. } | Action::RateLimit { .. } | Action::Verify { .. } => {
                                return Err(format!("rule {}: {:?}", rule.name.node, a.node));
                            }
                            Action::Learn { key, .. } | Action::Forget { key, .. } if operand_unmodelled(&Operand::Field(key.node.clone())).is_some() => {
                                return Err(format!("rule {}: key {}", rule.name.node, key.node));
                            }
                            _ => {}
                        }
                    }
                    r.rules.push(rule.clone());
                }
                Item::Default(v) => r.default = v.node,
            }
        }
        Ok(r)
    }

    /// Whether table `name` holds `v` at `now`.
    fn holds(&self, name: &str, v: &RefValue, now: u64) -> Option<bool> {
        let t = self.tables.get(name)?;
        Some(t.entries.iter().any(|(k, exp)| values_eq(k, v) && now < *exp))
    }

    /// Judges frame `d` (its bytes) at `now` (ms), learning and forgetting as its rules say.
    pub fn eval(&mut self, d: &[u8], meta: &Meta, now: u64) -> RefOutcome {
        let mut out =
            RefOutcome { verdict: self.default, decided_by: None, matched: Vec::new(), alerts: Vec::new(), mirror: false, inject_nbns_negative: false };
        for i in 0..self.rules.len() {
            let matched = match &self.rules[i].when {
                None => true,
                Some(w) => eval_with(&w.node, d, meta, &self.sets, &|name, v| self.holds(name, v, now)),
            };
            if !matched {
                continue;
            }
            out.matched.push(i);
            let actions: Vec<Action> = self.rules[i].actions.iter().map(|a| a.node.clone()).collect();
            for a in actions {
                match a {
                    Action::Alert { .. } => out.alerts.push(i),
                    Action::Mirror => out.mirror = true,
                    Action::Inject(_) => out.inject_nbns_negative = true,
                    Action::Learn { table, key } => {
                        let Some(v) = value(&key.node, d, meta) else { continue };
                        let excepted =
                            self.tables[&table.node].except.as_ref().is_some_and(|s| self.sets.get(s).is_some_and(|m| m.iter().any(|l| lit_eq(&v, l))));
                        let t = self.tables.get_mut(&table.node).expect("a declared table");
                        let expiry = now.saturating_add(t.ttl_ms.max(1));
                        match t.entries.iter_mut().find(|(k, exp)| values_eq(k, &v) && now < *exp) {
                            // Refreshed: a key held is kept until now + ttl, whatever its set.
                            Some(e) => e.1 = e.1.max(expiry),
                            None if !excepted => {
                                t.entries.retain(|(_, exp)| now < *exp);
                                t.entries.push((v, expiry));
                            }
                            None => {}
                        }
                    }
                    Action::Forget { table, key } => {
                        if let Some(v) = value(&key.node, d, meta) {
                            self.tables.get_mut(&table.node).expect("a declared table").entries.retain(|(k, _)| !values_eq(k, &v));
                        }
                    }
                    Action::Pass | Action::Drop => {
                        out.verdict = if matches!(a, Action::Pass) { Verdict::Pass } else { Verdict::Drop };
                        out.decided_by = Some(i);
                        return out;
                    }
                    Action::Quarantine { .. } | Action::RateLimit { .. } | Action::Verify { .. } => unreachable!("refused by Reference::new"),
                }
            }
        }
        out
    }
}
