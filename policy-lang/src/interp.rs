//! A plain reference interpreter of the syntax tree, for tests: it resolves every field by
//! name and walks the tree for each frame — slow and obvious, so the compiled program can be
//! checked against it. Stateless expressions only (no counters, no tables).
use crate::ast::*;
use crate::fields;
use crate::keys::key_of;
use crate::program::Meta;
use antidote_wire::fields::Value;
use antidote_wire::frame::Addr;
use antidote_wire::Frame;
use std::collections::HashMap;

/// Named sets as plain literal lists.
pub type Sets = HashMap<String, Vec<Lit>>;

fn value<'f>(name: &str, f: &'f Frame<'_>, meta: &Meta) -> Option<Value<'f>> {
    let r = fields::resolve(name)?;
    crate::eval::read(&r, f, meta)
}

fn lit_eq(v: &Value<'_>, l: &Lit) -> bool {
    match (v, l) {
        (Value::Int(a), Lit::Int(b)) => a == b,
        (Value::Bool(a), Lit::Bool(b)) => a == b,
        (Value::Ip(a), Lit::Ip(b)) => Addr::from_ip(*a) == Addr::from_ip(*b),
        (Value::Ip(a), Lit::Cidr(net, p)) => match (a, net) {
            (std::net::IpAddr::V4(a), std::net::IpAddr::V4(n)) => {
                let m = if *p == 0 { 0 } else { u32::MAX << (32 - *p as u32) };
                u32::from(*a) & m == u32::from(*n) & m
            }
            (std::net::IpAddr::V6(a), std::net::IpAddr::V6(n)) => {
                let m = if *p == 0 { 0 } else { u128::MAX << (128 - *p as u32) };
                u128::from(*a) & m == u128::from(*n) & m
            }
            _ => false,
        },
        (Value::Mac(a), Lit::Mac(b)) => a.0 == *b,
        (Value::Bytes(a), Lit::Bytes(b)) => a == b,
        (v, Lit::Str(s)) => v.with_text(|t| String::from_utf8_lossy(t).to_lowercase() == s.to_lowercase()).unwrap_or(false),
        _ => false,
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
pub fn eval(e: &Expr, f: &Frame<'_>, meta: &Meta, sets: &Sets) -> bool {
    match e {
        Expr::Or(a, b) => eval(&a.node, f, meta, sets) || eval(&b.node, f, meta, sets),
        Expr::And(a, b) => eval(&a.node, f, meta, sets) && eval(&b.node, f, meta, sets),
        Expr::Not(a) => !eval(&a.node, f, meta, sets),
        Expr::Error => false,
        Expr::Bare(o) => match &o.node {
            Operand::Lit(Lit::Bool(b)) => *b,
            Operand::Field(n) => matches!(value(n, f, meta), Some(Value::Bool(true))),
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
                (Operand::Field(x), Operand::Lit(l)) => match value(x, f, meta) {
                    None => false,
                    Some(v) => match (op, &v, l) {
                        (CmpOp::Eq, ..) => lit_eq(&v, l),
                        (CmpOp::Ne, ..) => !lit_eq(&v, l),
                        (op, Value::Int(x), Lit::Int(y)) => ord(*x, op, *y),
                        _ => false,
                    },
                },
                (Operand::Field(x), Operand::Field(y)) => match (value(x, f, meta), value(y, f, meta)) {
                    (Some(Value::Int(p)), Some(Value::Int(q))) => ord(p, op, q),
                    (Some(p), Some(q)) => {
                        let eq = key_of(&p) == key_of(&q);
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
            value(x, f, meta)
                .and_then(|v| {
                    v.with_text(|t| {
                        let t = String::from_utf8_lossy(t).to_lowercase();
                        match op.node {
                            StrOp::StartsWith => t.starts_with(&s),
                            StrOp::EndsWith => t.ends_with(&s),
                            StrOp::Contains => t.contains(&s),
                        }
                    })
                })
                .unwrap_or(false)
        }
        Expr::In { operand, set, negated } => {
            let Operand::Field(x) = &operand.node else { return false };
            // A field the frame lacks makes the lookup false (so `not in` is true), as compiled.
            let Some(v) = value(x, f, meta) else { return *negated };
            let members: Vec<Lit> = match &set.node {
                SetRef::Inline(v) => v.iter().map(|l| l.node.clone()).collect(),
                SetRef::Named(n) => sets.get(n).cloned().unwrap_or_default(),
            };
            members.iter().any(|l| lit_eq(&v, l)) != *negated
        }
    }
}
