//! Lowering: a checked condition ([`Cond`], built by [`crate::check`]) made ready to run — its
//! connectives flattened and ordered cheapest first, the protocols a frame must have for it to
//! hold (its gate), the part of it a frame read up to its transport must satisfy, and its branch
//! program ([`emit`]: each node one test with a successor for true and one for false).
use crate::ast::CmpOp;
use crate::fields::FieldRef;
use crate::program::{Const, Node, Test};

/// A condition as the checker builds it: tests joined by `and`, `or` and `not`.
#[derive(Debug, Clone)]
pub enum Cond {
    Test(Test),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    pub fn cost(&self) -> u32 {
        match self {
            Cond::Test(t) => t.cost(),
            Cond::And(v) | Cond::Or(v) => v.iter().map(Cond::cost).max().unwrap_or(0),
            Cond::Not(b) => b.cost(),
        }
    }
}

fn test_gate(t: &Test) -> u32 {
    match t {
        Test::Const(_) => 0,
        // A bool field may need more than its protocol to be true (`tcp.syn`, `*.response`).
        Test::Bool(f) => f.gate | f.true_needs,
        Test::Cmp(f, ..) | Test::Str(f, ..) | Test::InSet(f, _) | Test::InTable(f, _) => f.gate,
        Test::FieldCmp(a, _, b) => a.gate | b.gate,
        Test::Count { key, .. } => key.gate,
        Test::Distinct { value, key, .. } => value.gate | key.gate,
    }
}

/// The mask bits whose presence alone makes a bool test true (a flag field,
/// `antidote_wire::fields::FieldDef::is_flag`), so that its negation is false on every frame
/// with them.
fn test_flag(t: &Test) -> u32 {
    match t {
        Test::Bool(f) if f.is_flag => f.true_needs,
        _ => 0,
    }
}

/// Protocols a frame must have for the condition to be true (a test on a field the frame lacks
/// is false): all of `all`, at least one of `any` (when not 0), none of `none`.
#[derive(Clone, Copy, Default)]
pub struct Gate {
    pub all: u32,
    pub any: u32,
    pub none: u32,
}

pub fn gate(b: &Cond) -> Gate {
    match b {
        Cond::Test(t) => Gate { all: test_gate(t), ..Gate::default() },
        Cond::And(v) => {
            let gs: Vec<Gate> = v.iter().map(gate).collect();
            let all = gs.iter().fold(0, |a, g| a | g.all);
            // Of the children's any-of masks keep the narrowest; one already implied by `all`
            // adds nothing.
            let any = gs.iter().map(|g| g.any).filter(|&a| a != 0 && a & all == 0).min_by_key(|a| a.count_ones()).unwrap_or(0);
            // Every child must hold: a bit any child forbids is forbidden.
            let none = gs.iter().fold(0, |a, g| a | g.none);
            Gate { all, any, none }
        }
        Cond::Or(v) => {
            let gs: Vec<Gate> = v.iter().map(gate).collect();
            let all = gs.iter().map(|g| g.all).reduce(|a, g| a & g).unwrap_or(0);
            // A frame that matches a child has every protocol of that child's `all` (or one of
            // its any-of): so it has at least one protocol of their union.
            let any = if gs.iter().all(|g| g.all & !all != 0 || g.any != 0) {
                gs.iter().map(|g| if g.all & !all != 0 { g.all & !all } else { g.any }).fold(0, |a, g| a | g)
            } else {
                0
            };
            // One child holding is enough: only a bit every child forbids is forbidden.
            let none = gs.iter().map(|g| g.none).reduce(|a, g| a & g).unwrap_or(0);
            Gate { all, any, none }
        }
        // `not tcp.syn`, `not nbns.broadcast`: false on every frame with the flag's bit.
        Cond::Not(inner) => match &**inner {
            Cond::Test(t) => Gate { none: test_flag(t), ..Gate::default() },
            _ => Gate::default(),
        },
    }
}

/// Whether a test reads only what a frame read up to its transport holds
/// ([`antidote_wire::Frame::parse_transport`]), and counts nothing.
fn transport_level(t: &Test) -> bool {
    let ok = |f: &FieldRef| f.transport;
    match t {
        Test::Const(_) => true,
        Test::Bool(f) | Test::Cmp(f, ..) | Test::Str(f, ..) | Test::InSet(f, _) | Test::InTable(f, _) => ok(f),
        Test::FieldCmp(a, _, b) => ok(a) && ok(b),
        Test::Count { .. } | Test::Distinct { .. } => false,
    }
}

/// A condition on transport-level tests that `b` implies (None when none is known): what a
/// frame must satisfy before its application message can matter to the rule. Counters are not
/// in it, and they are ordered after every test beside them, so a frame that fails it would
/// have reached no counter either.
pub fn transport_part(b: &Cond) -> Option<Cond> {
    fn all(b: &Cond) -> bool {
        match b {
            Cond::Test(t) => transport_level(t),
            Cond::And(v) | Cond::Or(v) => v.iter().all(all),
            Cond::Not(c) => all(c),
        }
    }
    match b {
        Cond::Test(t) => transport_level(t).then(|| b.clone()),
        Cond::And(v) => {
            let mut p: Vec<Cond> = v.iter().filter_map(transport_part).collect();
            match p.len() {
                0 => None,
                1 => p.pop(),
                _ => Some(Cond::And(p)),
            }
        }
        Cond::Or(v) => v.iter().map(transport_part).collect::<Option<Vec<Cond>>>().map(Cond::Or),
        Cond::Not(c) => all(c).then(|| b.clone()),
    }
}

/// Emits the branch program of `b` with successors `t` / `f` into `tests` and `nodes`; returns
/// its entry.
pub fn emit(b: &Cond, t: u32, f: u32, tests: &mut Vec<Test>, nodes: &mut Vec<Node>) -> u32 {
    match b {
        Cond::Test(test) => {
            tests.push(test.clone());
            nodes.push(Node { test: (tests.len() - 1) as u32, on_true: t, on_false: f });
            (nodes.len() - 1) as u32
        }
        Cond::And(v) => v.iter().rev().fold(t, |next, c| emit(c, next, f, tests, nodes)),
        Cond::Or(v) => v.iter().rev().fold(f, |next, c| emit(c, t, next, tests, nodes)),
        Cond::Not(c) => emit(c, f, t, tests, nodes),
    }
}

/// Flattens nested and/or chains and orders the operands of each cheapest first (a stable
/// sort: counters, which count what reaches them, stay after the tests written before them).
pub fn normalize(b: Cond) -> Cond {
    // Flattens a chain of one connective, then orders it cheapest first.
    fn chain(v: Vec<Cond>, same: fn(&Cond) -> bool, rebuild: fn(Vec<Cond>) -> Cond) -> Cond {
        let mut out = Vec::new();
        for c in v {
            let c = normalize(c);
            if same(&c) {
                if let Cond::And(inner) | Cond::Or(inner) = c {
                    out.extend(inner);
                }
            } else {
                out.push(c);
            }
        }
        out.sort_by_key(Cond::cost);
        if out.len() == 1 {
            out.pop().unwrap()
        } else {
            rebuild(out)
        }
    }
    match b {
        Cond::And(v) => chain(v, |c| matches!(c, Cond::And(_)), Cond::And),
        Cond::Or(v) => chain(v, |c| matches!(c, Cond::Or(_)), Cond::Or),
        Cond::Not(c) => match normalize(*c) {
            Cond::Not(inner) => *inner,
            other => Cond::Not(Box::new(other)),
        },
        t => t,
    }
}

/// True when the condition can only hold for an NBT-NS name query.
pub fn requires_nbns_query(b: &Cond) -> bool {
    let is_q = |t: &Test| match t {
        Test::Bool(f) => f.name == "nbns.query",
        Test::Cmp(f, CmpOp::Eq, Const::Bool(true)) => f.name == "nbns.query",
        _ => false,
    };
    match b {
        Cond::Test(t) => is_q(t),
        Cond::And(v) => v.iter().any(requires_nbns_query),
        Cond::Or(v) => v.iter().all(requires_nbns_query),
        Cond::Not(_) => false,
    }
}

/// Whether a condition can hold only for name answers: it needs `llmnr.response`,
/// `nbns.positive` or `mdns.response` (what `verify` holds).
pub fn requires_answer(b: &Cond) -> bool {
    let is_a = |t: &Test| match t {
        Test::Bool(f) | Test::Cmp(f, CmpOp::Eq, Const::Bool(true)) => matches!(f.name, "llmnr.response" | "nbns.positive" | "mdns.response" | "ssrp.response"),
        _ => false,
    };
    match b {
        Cond::Test(t) => is_a(t),
        Cond::And(v) => v.iter().any(requires_answer),
        Cond::Or(v) => v.iter().all(requires_answer),
        Cond::Not(_) => false,
    }
}

pub fn fields_of(b: &Cond) -> Vec<FieldRef> {
    fn walk(b: &Cond, out: &mut Vec<FieldRef>) {
        match b {
            Cond::Test(t) => match t {
                Test::Const(_) => {}
                Test::Bool(f) | Test::Cmp(f, ..) | Test::Str(f, ..) | Test::InSet(f, _) | Test::InTable(f, _) => out.push(*f),
                Test::FieldCmp(a, _, c) => {
                    out.push(*a);
                    out.push(*c)
                }
                Test::Count { key, .. } => out.push(*key),
                Test::Distinct { value, key, .. } => {
                    out.push(*value);
                    out.push(*key)
                }
            },
            Cond::And(v) | Cond::Or(v) => v.iter().for_each(|c| walk(c, out)),
            Cond::Not(c) => walk(c, out),
        }
    }
    let mut v = Vec::new();
    walk(b, &mut v);
    let mut seen = std::collections::HashSet::new();
    v.retain(|f| seen.insert(f.name));
    v
}
