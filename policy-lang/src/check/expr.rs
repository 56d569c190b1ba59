//! The checks of expressions: fields, literals and their types, comparisons, counters, and
//! alert message templates.
use super::*;

impl Checker<'_> {
    pub(super) fn template(&mut self, text: &str, r: &ast::Rule) -> Vec<Part> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find('{') {
            if i > 0 {
                parts.push(Part::Text(rest[..i].to_string()));
            }
            let after = &rest[i + 1..];
            match after.find('}') {
                Some(j) => {
                    let name = after[..j].trim();
                    match fields::resolve(name) {
                        Some(f) => parts.push(Part::Field(f)),
                        None => {
                            let mut d = Diagnostic::error("E014", format!("the message names unknown field `{name}`"), r.name.span);
                            if let Some(s) = fields::suggest(name) {
                                d = d.with_hint(format!("did you mean `{{{s}}}`?"));
                            }
                            self.err(d);
                        }
                    }
                    rest = &after[j + 1..];
                }
                None => {
                    parts.push(Part::Text(rest[i..].to_string()));
                    rest = "";
                }
            }
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        parts
    }

    /// Type-checks an expression into the boolean IR.
    pub(super) fn expr(&mut self, e: &Spanned<Expr>) -> Option<Cond> {
        match &e.node {
            Expr::Error => None,
            Expr::Or(a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Some(Cond::Or(vec![a?, b?]))
            }
            Expr::And(a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Some(Cond::And(vec![a?, b?]))
            }
            Expr::Not(a) => Some(Cond::Not(Box::new(self.expr(a)?))),
            Expr::Bare(op) => match &op.node {
                Operand::Lit(Lit::Bool(b)) => Some(Cond::Test(Test::Const(*b))),
                Operand::Field(name) => {
                    let f = self.field(name, op.span)?;
                    if f.ty != FieldType::Bool {
                        self.err(
                            Diagnostic::error("E017", format!("`{name}` is {}, not a condition", type_name(f.ty)), op.span)
                                .with_hint(format!("compare it, e.g. `{name} == …` with {}", example_of(f.ty))),
                        );
                        return None;
                    }
                    Some(Cond::Test(Test::Bool(f)))
                }
                Operand::Count { .. } | Operand::Distinct { .. } => {
                    self.err(
                        Diagnostic::error("E017", "a counter is a number, not a condition".into(), op.span)
                            .with_hint("compare it: `count(by ip.src over 10s) > 5`"),
                    );
                    None
                }
                Operand::Lit(l) => {
                    self.err(Diagnostic::error("E017", format!("a {} is not a condition", l.kind()), op.span));
                    None
                }
            },
            Expr::Cmp(a, op, b) => self.cmp(a, op, b),
            Expr::Str(a, op, lit) => {
                let Operand::Field(name) = &a.node else {
                    self.err(Diagnostic::error("E002", format!("`{}` applies to a string field", op.node.as_str()), a.span));
                    return None;
                };
                let f = self.field(name, a.span)?;
                if f.ty != FieldType::Str {
                    self.err(Diagnostic::error("E002", format!("`{}` applies to strings, but `{name}` is {}", op.node.as_str(), type_name(f.ty)), a.span));
                    return None;
                }
                let Lit::Str(s) = &lit.node else {
                    self.err(Diagnostic::error("E002", format!("expected a string after `{}`, found {}", op.node.as_str(), lit.node.kind()), lit.span));
                    return None;
                };
                Some(Cond::Test(Test::Str(f, op.node, s.to_ascii_lowercase().into_bytes().into_boxed_slice())))
            }
            Expr::In { operand, set, negated } => {
                let Operand::Field(name) = &operand.node else {
                    self.err(Diagnostic::error("E002", "only a field can be looked up in a set".into(), operand.span));
                    return None;
                };
                let f = self.field(name, operand.span)?;
                let t = match &set.node {
                    SetRef::Inline(elems) => {
                        if elems.is_empty() {
                            self.err(Diagnostic::error("E007", "an empty set matches nothing".into(), set.span));
                            return None;
                        }
                        let s = self.build_set(f.ty, elems)?;
                        self.sets.push((format!("{{inline {}}}", self.sets.len()), s));
                        Test::InSet(f, (self.sets.len() - 1) as u32)
                    }
                    SetRef::Named(n) => {
                        if let Some(info) = self.set_names.get(n) {
                            if info.ty != f.ty {
                                let ity = info.ty;
                                self.err(Diagnostic::error(
                                    "E002",
                                    format!("`{name}` is {} but set `{n}` holds {}", type_name(f.ty), type_name(ity)),
                                    set.span,
                                ));
                                return None;
                            }
                            Test::InSet(f, info.index)
                        } else if let Some(&t) = self.table_names.get(n) {
                            let tty = self.tables[t as usize].key_ty;
                            if tty != f.ty {
                                self.err(Diagnostic::error(
                                    "E002",
                                    format!("`{name}` is {} but table `{n}` holds {}", type_name(f.ty), type_name(tty)),
                                    set.span,
                                ));
                                return None;
                            }
                            Test::InTable(f, t)
                        } else {
                            let mut names: Vec<&String> = self.set_names.keys().chain(self.table_names.keys()).collect();
                            names.sort();
                            let close = names.iter().find(|k| strsim::jaro_winkler(k, n) > 0.85);
                            let hint = match close {
                                Some(c) => format!("did you mean `{c}`?"),
                                None => format!("declare it: `set {n} = {{ … }}` or `table {n} : ip ttl 1h`"),
                            };
                            self.err(Diagnostic::error("E003", format!("unknown set or table `{n}`"), set.span).with_hint(hint));
                            return None;
                        }
                    }
                };
                let b = Cond::Test(t);
                Some(if *negated { Cond::Not(Box::new(b)) } else { b })
            }
        }
    }

    pub(super) fn cmp(&mut self, a: &Spanned<Operand>, op: &Spanned<CmpOp>, b: &Spanned<Operand>) -> Option<Cond> {
        use Operand as O;
        match (&a.node, &b.node) {
            (O::Lit(_), O::Field(_)) | (O::Lit(_), O::Count { .. }) | (O::Lit(_), O::Distinct { .. }) => self.cmp(b, &Spanned::new(flip(op.node), op.span), a),
            (O::Lit(_), O::Lit(_)) => {
                self.err(Diagnostic::error("E017", "this compares two constants".into(), a.span.join(b.span)).with_hint("compare a field with a value"));
                None
            }
            (O::Field(x), O::Field(y)) => {
                let (fx, fy) = (self.field(x, a.span), self.field(y, b.span));
                let (fx, fy) = (fx?, fy?);
                if fx.ty != fy.ty {
                    self.err(Diagnostic::error("E002", format!("`{x}` is {} but `{y}` is {}", type_name(fx.ty), type_name(fy.ty)), a.span.join(b.span)));
                    return None;
                }
                if !matches!(op.node, CmpOp::Eq | CmpOp::Ne) && fx.ty != FieldType::Int {
                    self.err(
                        Diagnostic::error("E009", format!("`{}` does not order {} values", op.node.as_str(), type_name(fx.ty)), op.span)
                            .with_hint("use == or !="),
                    );
                    return None;
                }
                Some(Cond::Test(Test::FieldCmp(fx, op.node, fy)))
            }
            (O::Field(x), O::Lit(l)) => {
                let f = self.field(x, a.span)?;
                if !matches!(op.node, CmpOp::Eq | CmpOp::Ne) && f.ty != FieldType::Int {
                    self.err(Diagnostic::error("E009", format!("`{}` does not order {} values", op.node.as_str(), type_name(f.ty)), op.span).with_hint(
                        match f.ty {
                            FieldType::Ip => "use == / != with an address, or `in` with a CIDR or a set",
                            FieldType::Str => "use ==, !=, starts_with, ends_with or contains",
                            _ => "use == or !=",
                        },
                    ));
                    return None;
                }
                let c = match (f.ty, l) {
                    (FieldType::Int, Lit::Int(i)) => Const::Int(*i),
                    (FieldType::Bool, Lit::Bool(v)) => Const::Bool(*v),
                    (FieldType::Ip, Lit::Ip(ip)) => Const::Ip(Addr::from_ip(*ip).0),
                    (FieldType::Ip, Lit::Cidr(ip, p)) => {
                        let (net, mask) = cidr(*ip, *p);
                        Const::Cidr { net, mask }
                    }
                    (FieldType::Mac, Lit::Mac(m)) => Const::Mac(*m),
                    (FieldType::Str, Lit::Str(s)) => Const::Str(s.to_ascii_lowercase().into_bytes().into_boxed_slice()),
                    (FieldType::Bytes, Lit::Bytes(v)) => Const::Bytes(v.clone().into_boxed_slice()),
                    (ty, l) => {
                        self.err(
                            Diagnostic::error("E002", format!("`{x}` is {} but this is {}", type_name(ty), l.kind()), b.span)
                                .with_hint(format!("compare `{x}` with {}", example_of(ty))),
                        );
                        return None;
                    }
                };
                Some(Cond::Test(Test::Cmp(f, op.node, c)))
            }
            (O::Count { key, window }, O::Lit(l)) | (O::Distinct { key, window, .. }, O::Lit(l)) => {
                let Lit::Int(n) = l else {
                    self.err(Diagnostic::error("E002", format!("a counter is compared with an integer, not {}", l.kind()), b.span));
                    return None;
                };
                let kf = self.field(&key.node, key.span);
                let vf = match &a.node {
                    O::Distinct { value, .. } => Some(self.field(&value.node, value.span)),
                    _ => None,
                };
                let kf = kf?;
                if !self.window(window) {
                    return None;
                }
                match vf {
                    None => {
                        let c = self.counter(format!("count(by {} over {}ms)", kf.name, window.node), window.node);
                        Some(Cond::Test(Test::Count { key: kf, counter: c, op: op.node, n: *n }))
                    }
                    Some(vf) => {
                        let vf = vf?;
                        let c = self.counter(format!("distinct({} by {} over {}ms)", vf.name, kf.name, window.node), window.node);
                        Some(Cond::Test(Test::Distinct { value: vf, key: kf, counter: c, op: op.node, n: *n }))
                    }
                }
            }
            _ => {
                self.err(
                    Diagnostic::error("E002", "these two cannot be compared".into(), a.span.join(b.span))
                        .with_hint("compare a field with a value, or a counter with an integer"),
                );
                None
            }
        }
    }
}
