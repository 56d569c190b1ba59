//! A plain reference interpreter of the syntax tree, for tests: it reads every field from the
//! frame's bytes by its own code ([`wire`]: not the dissector, not the field registry) and walks
//! the tree for each frame — slow and obvious, so the compiled program can be checked against
//! it. [`eval`] judges one expression; [`Reference`] a whole policy: rule order, the first
//! deciding action, the default, named sets and learned tables.
pub mod policy;
pub mod wire;

use crate::ast::*;
use crate::program::Meta;
pub use policy::Reference;
use std::collections::HashMap;
use std::net::IpAddr;
pub use wire::RefValue;

/// Named sets as plain literal lists.
pub type Sets = HashMap<String, Vec<Lit>>;

/// A field's value: a meta field from `meta`, any other read from the frame's bytes `d`.
fn value(name: &str, d: &[u8], meta: &Meta) -> Option<RefValue> {
    match name {
        "meta.port" => Some(RefValue::Int(meta.port as u64)),
        "meta.from_segment" => Some(RefValue::Bool(meta.from_segment)),
        _ => wire::field(name, d),
    }
}

fn in_cidr(a: &IpAddr, net: &IpAddr, p: u8) -> bool {
    match (a, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let m = if p == 0 { 0 } else { u32::MAX << (32 - p as u32) };
            u32::from(*a) & m == u32::from(*n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let m = if p == 0 { 0 } else { u128::MAX << (128 - p as u32) };
            u128::from(*a) & m == u128::from(*n) & m
        }
        _ => false,
    }
}

/// An IPv4-mapped IPv6 address compares equal to its IPv4 address.
fn canonical(a: &IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v) => v.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(*a),
        _ => *a,
    }
}

pub(crate) fn lit_eq(v: &RefValue, l: &Lit) -> bool {
    match (v, l) {
        (RefValue::Int(a), Lit::Int(b)) => a == b,
        (RefValue::Bool(a), Lit::Bool(b)) => a == b,
        (RefValue::Ip(a), Lit::Ip(b)) => canonical(a) == canonical(b),
        (RefValue::Ip(a), Lit::Cidr(net, p)) => in_cidr(a, net, *p),
        (RefValue::Mac(a), Lit::Mac(b)) => a == b,
        (RefValue::Text(t), Lit::Str(s)) => t.to_lowercase() == s.to_lowercase(),
        _ => false,
    }
}

/// Two field values, compared as the language compares them (names without regard to case).
pub(crate) fn values_eq(a: &RefValue, b: &RefValue) -> bool {
    match (a, b) {
        (RefValue::Text(x), RefValue::Text(y)) => x.to_lowercase() == y.to_lowercase(),
        (RefValue::Ip(x), RefValue::Ip(y)) => canonical(x) == canonical(y),
        _ => a == b,
    }
}

fn ord(a: u64, op: CmpOp, b: u64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

/// Evaluates a (type-correct, stateless) expression.
pub fn eval(e: &Expr, d: &[u8], meta: &Meta, sets: &Sets) -> bool {
    eval_with(e, d, meta, sets, &|_, _| None)
}

/// [`eval`], with `table(name, value)` saying whether a learned table holds a value (None: `name`
/// is no table, the set of that name is looked up).
pub fn eval_with(e: &Expr, d: &[u8], meta: &Meta, sets: &Sets, table: &dyn Fn(&str, &RefValue) -> Option<bool>) -> bool {
    let eval = |x: &Expr| eval_with(x, d, meta, sets, table);
    match e {
        Expr::Or(a, b) => eval(&a.node) || eval(&b.node),
        Expr::And(a, b) => eval(&a.node) && eval(&b.node),
        Expr::Not(a) => !eval(&a.node),
        Expr::Error => false,
        Expr::Bare(o) => match &o.node {
            Operand::Lit(Lit::Bool(b)) => *b,
            Operand::Field(n) => matches!(value(n, d, meta), Some(RefValue::Bool(true))),
            _ => false,
        },
        Expr::Cmp(a, op, b) => {
            let (a, op, b) = match (&a.node, &b.node) {
                (Operand::Lit(_), _) => (
                    &b.node,
                    match op.node {
                        CmpOp::Lt => CmpOp::Gt,
                        CmpOp::Le => CmpOp::Ge,
                        CmpOp::Gt => CmpOp::Lt,
                        CmpOp::Ge => CmpOp::Le,
                        o => o,
                    },
                    &a.node,
                ),
                _ => (&a.node, op.node, &b.node),
            };
            match (a, b) {
                (Operand::Field(x), Operand::Lit(l)) => match value(x, d, meta) {
                    None => false,
                    Some(v) => match (op, &v, l) {
                        (CmpOp::Eq, ..) => lit_eq(&v, l),
                        (CmpOp::Ne, ..) => !lit_eq(&v, l),
                        (op, RefValue::Int(x), Lit::Int(y)) => ord(*x, op, *y),
                        _ => false,
                    },
                },
                (Operand::Field(x), Operand::Field(y)) => match (value(x, d, meta), value(y, d, meta)) {
                    (Some(RefValue::Int(p)), Some(RefValue::Int(q))) => ord(p, op, q),
                    (Some(p), Some(q)) => {
                        let eq = values_eq(&p, &q);
                        match op {
                            CmpOp::Eq => eq,
                            CmpOp::Ne => !eq,
                            _ => false,
                        }
                    }
                    _ => false,
                },
                _ => false,
            }
        }
        Expr::Str(a, op, l) => {
            let (Operand::Field(x), Lit::Str(s)) = (&a.node, &l.node) else { return false };
            let s = s.to_lowercase();
            match value(x, d, meta) {
                Some(RefValue::Text(t)) => {
                    let t = t.to_lowercase();
                    match op.node {
                        StrOp::StartsWith => t.starts_with(&s),
                        StrOp::EndsWith => t.ends_with(&s),
                        StrOp::Contains => t.contains(&s),
                    }
                }
                _ => false,
            }
        }
        Expr::In { operand, set, negated } => {
            let Operand::Field(x) = &operand.node else { return false };
            // A field the frame lacks makes the lookup false (so `not in` is true), as compiled.
            let Some(v) = value(x, d, meta) else { return *negated };
            if let SetRef::Named(n) = &set.node {
                if let Some(held) = table(n, &v) {
                    return held != *negated;
                }
            }
            let members: Vec<Lit> = match &set.node {
                SetRef::Inline(v) => v.iter().map(|l| l.node.clone()).collect(),
                SetRef::Named(n) => sets.get(n).cloned().unwrap_or_default(),
            };
            members.iter().any(|l| lit_eq(&v, l)) != *negated
        }
    }
}
