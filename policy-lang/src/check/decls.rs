//! The checks of declarations: sets (typed members, sizes), learned tables (key types, TTLs,
//! sizes, state kept across a swap), counter windows.
use super::*;

impl Checker<'_> {
    pub(super) fn set_decl(&mut self, s: &ast::SetDecl) {
        if self.set_names.contains_key(&s.name.node) || self.table_names.contains_key(&s.name.node) {
            self.err(Diagnostic::error("E004", format!("`{}` is declared twice", s.name.node), s.name.span).with_hint("sets and tables share one namespace"));
            return;
        }
        let ty = match &s.ty {
            Some(t) => match parse_type(t) {
                Ok(ty) => ty,
                Err(d) => return self.err(d),
            },
            None => match s.elems.first().and_then(|e| lit_type(&e.node)) {
                Some(t) => t,
                None if s.elems.is_empty() => {
                    return self.err(
                        Diagnostic::error("E007", format!("set `{}` is empty and has no type", s.name.node), s.span)
                            .with_hint(format!("add entries, or give it a type to keep it empty for now: `set {} : ip = {{ }}`", s.name.node)),
                    )
                }
                None => return self.err(Diagnostic::error("E002", "durations cannot be set members".into(), s.elems[0].span)),
            },
        };
        // (A typed set may be empty: a list for the operator to fill in, matching nothing.)
        if s.elems.len() > MAX_SET {
            return self.err(
                Diagnostic::error("E008", format!("set `{}` has {} entries; at most {MAX_SET} are allowed", s.name.node, s.elems.len()), s.name.span)
                    .with_hint("keep very large lists out of the policy (e.g. summarise addresses as CIDRs)"),
            );
        }
        if let Some(set) = self.build_set(ty, &s.elems) {
            self.set_names.insert(s.name.node.clone(), SetInfo { index: self.sets.len() as u32, ty });
            self.sets.push((s.name.node.clone(), set));
        }
    }

    pub(super) fn build_set(&mut self, ty: FieldType, elems: &[Spanned<Lit>]) -> Option<Set> {
        let mut set = match ty {
            FieldType::Ip => Set::Ip { exact: AHashSet::with_capacity(elems.len()), cidrs: Vec::new() },
            FieldType::Int => Set::Int(AHashSet::with_capacity(elems.len())),
            FieldType::Str => Set::Str(AHashSet::with_capacity(elems.len())),
            FieldType::Mac => Set::Mac(AHashSet::with_capacity(elems.len())),
            other => {
                self.err(
                    Diagnostic::error("E002", format!("sets of {} are not supported", type_name(other)), elems[0].span)
                        .with_hint("sets hold ip, mac, int or string values"),
                );
                return None;
            }
        };
        let mut ok = true;
        for e in elems {
            match (&mut set, &e.node) {
                (Set::Ip { exact, .. }, Lit::Ip(ip)) => {
                    exact.insert(Addr::from_ip(*ip).0);
                }
                (Set::Ip { cidrs, .. }, Lit::Cidr(ip, p)) => cidrs.push(cidr(*ip, *p)),
                (Set::Int(s), Lit::Int(i)) => {
                    s.insert(*i);
                }
                (Set::Str(s), Lit::Str(t)) => {
                    s.insert(t.to_ascii_lowercase().into_bytes().into_boxed_slice());
                }
                (Set::Mac(s), Lit::Mac(m)) => {
                    s.insert(*m);
                }
                (_, other) => {
                    ok = false;
                    self.err(
                        Diagnostic::error("E002", format!("a {} in a set of {}", other.kind(), type_name(ty)), e.span)
                            .with_hint(format!("every member must be {}", example_of(ty))),
                    );
                }
            }
        }
        if let Set::Str(s) = &set {
            if s.len() <= crate::program::FEW_STRINGS {
                set = Set::FewStr(s.iter().cloned().collect());
            }
        }
        ok.then_some(set)
    }

    pub(super) fn table_decl(&mut self, t: &ast::TableDecl) {
        if self.set_names.contains_key(&t.name.node) || self.table_names.contains_key(&t.name.node) {
            return self
                .err(Diagnostic::error("E004", format!("`{}` is declared twice", t.name.node), t.name.span).with_hint("sets and tables share one namespace"));
        }
        let ty = match parse_type(&t.ty) {
            Ok(ty) => ty,
            Err(d) => return self.err(d),
        };
        let ttl = t.ttl.as_ref().map(|d| d.node).unwrap_or(3_600_000);
        if let Some(d) = &t.ttl {
            if d.node == 0 || d.node > 30 * 86_400_000 {
                self.err(Diagnostic::error("E013", "a table's ttl must be between 1ms and 30d".into(), d.span));
            }
        }
        let max = t.max.as_ref().map(|m| m.node).unwrap_or(10_000);
        if let Some(m) = &t.max {
            if m.node == 0 || m.node > MAX_TABLE {
                self.err(Diagnostic::error("E008", format!("a table holds 1 to {MAX_TABLE} entries"), m.span));
            }
        }
        let max = max.clamp(1, MAX_TABLE) as usize;
        // Keep what was learned when the declaration did not change.
        let state = self
            .previous
            .and_then(|p| p.tables.iter().find(|d| d.name == t.name.node && d.key_ty == ty && d.ttl_ms == ttl && d.max == max))
            .map(|d| d.state.clone())
            .unwrap_or_else(|| Arc::new(LearnTable::new(max, ttl)));
        // The keys it never learns: a declared set of its key type.
        let except = t.except.as_ref().and_then(|e| match self.set_names.get(&e.node) {
            Some(s) if s.ty == ty => Some(s.index),
            Some(s) => {
                self.err(
                    Diagnostic::error("E002", format!("`{}` is a set of {}; table `{}` holds {}", e.node, type_name(s.ty), t.name.node, type_name(ty)), e.span)
                        .with_hint("`except` names a set of the table's key type"),
                );
                None
            }
            None => {
                self.err(
                    Diagnostic::error("E003", format!("unknown set `{}`", e.node), e.span).with_hint("declare it before the table: `set NAME : TYPE = { … }`"),
                );
                None
            }
        });
        self.table_names.insert(t.name.node.clone(), self.tables.len() as u32);
        self.tables.push(TableDef { name: t.name.node.clone(), key_ty: ty, ttl_ms: ttl, max, state, except });
    }

    pub(super) fn window(&mut self, w: &Spanned<u64>) -> bool {
        if w.node == 0 || w.node > MAX_WINDOW_MS {
            self.err(Diagnostic::error("E013", "a window must be between 1ms and 24h".into(), w.span));
            return false;
        }
        true
    }

    pub(super) fn counter(&mut self, text: String, window_ms: u64) -> u32 {
        self.counters.push(CounterDef { text, window_ms, state: CounterTable::new(COUNTER_KEYS, window_ms) });
        (self.counters.len() - 1) as u32
    }
}
