//! Checks: syntax tree → a checked, typed policy (conditions as [`Cond`], declarations
//! resolved), or diagnostics; then [`crate::lower`] and the tables of [`crate::plan`] make the
//! [`Program`].
//!
//! Checks: unknown field (with "did you mean"), type mismatch between a field and a literal or
//! another field, operators a type does not have, unknown set or table, duplicate names, empty
//! or oversized sets, unreachable rules, actions that cannot apply, bad windows and messages.
use crate::ast::{self, Action, CmpOp, Expr, Lit, Operand, SetRef, Severity, Spanned, Verdict};
use crate::diag::Diagnostic;
use crate::fields::{self, FieldRef};
use crate::lower::{emit, fields_of, gate, normalize, requires_nbns_query, transport_part, Cond, Gate};
use crate::program::*;
use crate::span::Span;
use crate::state::{CounterTable, LearnTable};
use ahash::AHashSet;
use antidote_wire::fields::FieldType;
use antidote_wire::frame::Addr;
use std::collections::HashMap;
use std::sync::Arc;

mod decls;
mod expr;

/// Largest set a policy may declare.
pub const MAX_SET: usize = 1_000_000;
/// Largest learned table.
pub const MAX_TABLE: u64 = 1_000_000;
/// Keys a counter tracks at once.
pub const COUNTER_KEYS: usize = 4096;
/// Longest hold of a `verify` (the clients' first retry timer is 100–750 ms).
pub const MAX_VERIFY_MS: u64 = 250;

/// Longest counter window and quarantine.
pub const MAX_WINDOW_MS: u64 = 24 * 3_600_000;

/// A compiled policy and its warnings.
pub struct Compiled {
    pub program: Program,
    pub warnings: Vec<Diagnostic>,
}

/// Compiles `src`. On failure, every diagnostic (errors and warnings), located.
pub fn compile(src: &str) -> Result<Compiled, Vec<Diagnostic>> {
    compile_with(src, None)
}

/// Compiles `src`, keeping the learned state of `previous` where a table's declaration is
/// unchanged (and the quarantine lists always).
pub fn compile_with(src: &str, previous: Option<&Program>) -> Result<Compiled, Vec<Diagnostic>> {
    let (tree, mut diags) = crate::parse::parse(src);
    let result = match tree {
        Some(tree) => {
            let mut ck = Checker::new(previous);
            ck.policy(&tree);
            diags.append(&mut ck.diags);
            if diags.iter().any(Diagnostic::is_error) {
                None
            } else {
                Some(ck.finish())
            }
        }
        None => None,
    };
    for d in diags.iter_mut() {
        d.locate(src);
    }
    diags.sort_by_key(|d| (d.span.start, d.code));
    match result {
        Some(program) => Ok(Compiled { program, warnings: diags }),
        None => Err(diags),
    }
}

struct SetInfo {
    index: u32,
    ty: FieldType,
}

struct Checker<'p> {
    diags: Vec<Diagnostic>,
    previous: Option<&'p Program>,
    sets: Vec<(String, Set)>,
    set_names: HashMap<String, SetInfo>,
    tables: Vec<TableDef>,
    table_names: HashMap<String, u32>,
    counters: Vec<CounterDef>,
    tests: Vec<Test>,
    nodes: Vec<Node>,
    rules: Vec<Rule>,
    default: Option<Verdict>,
    uses_quarantine: bool,
}

fn type_name(ty: FieldType) -> &'static str {
    ty.as_str()
}

fn parse_type(s: &Spanned<String>) -> Result<FieldType, Diagnostic> {
    match s.node.as_str() {
        "ip" => Ok(FieldType::Ip),
        "int" => Ok(FieldType::Int),
        "string" => Ok(FieldType::Str),
        "mac" => Ok(FieldType::Mac),
        other => Err(Diagnostic::error("E002", format!("unknown type `{other}`"), s.span).with_hint("use ip, mac, int or string")),
    }
}

fn lit_type(l: &Lit) -> Option<FieldType> {
    Some(match l {
        Lit::Int(_) => FieldType::Int,
        Lit::Str(_) => FieldType::Str,
        Lit::Bool(_) => FieldType::Bool,
        Lit::Ip(_) | Lit::Cidr(..) => FieldType::Ip,
        Lit::Mac(_) => FieldType::Mac,
        Lit::Bytes(_) => FieldType::Bytes,
        Lit::Duration(_) => return None,
    })
}

fn cidr(ip: std::net::IpAddr, p: u8) -> (u128, u128) {
    let a = Addr::from_ip(ip).0;
    let mask = if ip.is_ipv4() {
        u128::MAX << (32 - p as u32)
    } else if p == 0 {
        0
    } else {
        u128::MAX << (128 - p as u32)
    };
    (a & mask, mask)
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        o => o,
    }
}

fn example_of(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Int => "an integer such as 5355 or 0x8500",
        FieldType::Ip => "an address such as 198.18.0.2 or a CIDR such as 198.18.0.0/15",
        FieldType::Mac => "a MAC such as 02:00:00:00:00:01",
        FieldType::Str => "a string in double quotes",
        FieldType::Bool => "true or false (or use the field alone as a condition)",
        FieldType::Bytes => "hex bytes such as hex\"1122334455667788\"",
    }
}

impl<'p> Checker<'p> {
    fn new(previous: Option<&'p Program>) -> Self {
        Checker {
            diags: Vec::new(),
            previous,
            sets: Vec::new(),
            set_names: HashMap::new(),
            tables: Vec::new(),
            table_names: HashMap::new(),
            counters: Vec::new(),
            tests: Vec::new(),
            nodes: Vec::new(),
            rules: Vec::new(),
            default: None,
            uses_quarantine: false,
        }
    }

    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn field(&mut self, name: &str, span: Span) -> Option<FieldRef> {
        match fields::resolve(name) {
            Some(f) => Some(f),
            None => {
                let mut d = Diagnostic::error("E001", format!("unknown field `{name}`"), span);
                d = match fields::suggest(name) {
                    Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                    None => d.with_hint("`antidote dissect FILE.pcap` lists the fields of real frames; docs/policy-language.md lists them all"),
                };
                self.err(d);
                None
            }
        }
    }

    fn policy(&mut self, p: &ast::Policy) {
        // Declarations first, so rules may use sets and tables declared below them.
        // (Sets before tables: a table's `except` names a set.)
        for item in &p.items {
            if let ast::Item::Set(s) = item {
                self.set_decl(s);
            }
        }
        for item in &p.items {
            match item {
                ast::Item::Set(_) => {}
                ast::Item::Table(t) => self.table_decl(t),
                ast::Item::Default(v) => {
                    if self.default.is_some() {
                        self.err(Diagnostic::error("E016", "a second `default`".into(), v.span).with_hint("keep one `default pass` or `default drop`"));
                    }
                    self.default = Some(v.node);
                }
                ast::Item::Rule(_) => {}
            }
        }
        let mut names: HashMap<String, Span> = HashMap::new();
        let mut decided: Option<String> = None;
        let mut conditions: HashMap<String, String> = HashMap::new();
        for item in &p.items {
            if let ast::Item::Rule(r) = item {
                if names.contains_key(&r.name.node) {
                    self.err(
                        Diagnostic::error("E004", format!("a second rule named `{}`", r.name.node), r.name.span)
                            .with_hint("rule names identify alerts and counters: give each rule its own"),
                    );
                } else {
                    names.insert(r.name.node.clone(), r.name.span);
                }
                if let Some(by) = &decided {
                    self.err(
                        Diagnostic::error("E005", format!("rule `{}` can never match", r.name.node), r.name.span)
                            .with_hint(format!("rule `{by}` above matches every frame and decides it; move this rule above it")),
                    );
                }
                self.rule(r, &mut decided, &mut conditions);
            }
        }
    }

    fn rule(&mut self, r: &ast::Rule, decided: &mut Option<String>, conditions: &mut HashMap<String, String>) {
        let cond = match &r.when {
            Some(w) => match self.expr(w) {
                Some(b) => Some(b),
                None => return,
            },
            None => None,
        };
        let cond = cond.map(normalize);
        let mut severity = r.severity.as_ref().map(|s| s.node).unwrap_or(Severity::Medium);
        let mut message = r.description.as_ref().map(|d| d.node.clone()).unwrap_or_else(|| r.name.node.clone());
        let mut acts = Vec::new();
        let mut terminal = false;
        for a in &r.actions {
            if terminal {
                self.err(
                    Diagnostic::warning("W001", "this action never runs: a `pass` or `drop` before it ends the rule".into(), a.span)
                        .with_hint("put `pass` / `drop` last"),
                );
            }
            match &a.node {
                Action::Pass => {
                    acts.push(Act::Verdict(Verdict::Pass));
                    terminal = true;
                }
                Action::Drop => {
                    acts.push(Act::Verdict(Verdict::Drop));
                    terminal = true;
                }
                Action::Mirror => acts.push(Act::Mirror),
                Action::Inject(what) => {
                    if what.node != "nbns.negative" {
                        self.err(
                            Diagnostic::error("E006", format!("cannot inject `{}`", what.node), what.span)
                                .with_hint("the one injection is `inject nbns.negative`"),
                        );
                        continue;
                    }
                    if !cond.as_ref().map(requires_nbns_query).unwrap_or(false) {
                        self.err(
                            Diagnostic::error("E006", "`inject nbns.negative` in a rule that can match frames that are not NBT-NS name queries".into(), a.span)
                                .with_hint("a negative answer answers a name query: start the condition with `nbns.query and …`"),
                        );
                        continue;
                    }
                    acts.push(Act::InjectNbnsNegative);
                }
                Action::Alert { severity: s, message: m } => {
                    if let Some(s) = s {
                        severity = *s;
                    }
                    if let Some(m) = m {
                        message = m.clone();
                    }
                    acts.push(Act::Alert);
                }
                Action::Learn { table, key } | Action::Forget { table, key } => {
                    let forget = matches!(a.node, Action::Forget { .. });
                    let Some(&t) = self.table_names.get(&table.node) else {
                        let hint = if self.set_names.contains_key(&table.node) {
                            format!("`{}` is a set, fixed in the policy; learn into a `table`", table.node)
                        } else {
                            format!("declare it: `table {} : ip ttl 1h`", table.node)
                        };
                        self.err(Diagnostic::error("E003", format!("unknown table `{}`", table.node), table.span).with_hint(hint));
                        continue;
                    };
                    let Some(f) = self.field(&key.node, key.span) else { continue };
                    let tty = self.tables[t as usize].key_ty;
                    if f.ty != tty {
                        self.err(Diagnostic::error(
                            "E002",
                            format!("table `{}` holds {} keys but `{}` is {}", table.node, type_name(tty), f.name, type_name(f.ty)),
                            key.span,
                        ));
                        continue;
                    }
                    acts.push(if forget { Act::Forget { table: t, key: f } } else { Act::Learn { table: t, key: f } });
                }
                Action::Quarantine { key, duration } => {
                    let Some(f) = self.field(&key.node, key.span) else { continue };
                    if !matches!(f.ty, FieldType::Ip | FieldType::Mac) {
                        self.err(
                            Diagnostic::error("E002", format!("quarantine needs an address, but `{}` is {}", f.name, type_name(f.ty)), key.span)
                                .with_hint("quarantine ip.src or eth.src"),
                        );
                        continue;
                    }
                    if !self.window(duration) {
                        continue;
                    }
                    self.uses_quarantine = true;
                    acts.push(Act::Quarantine { key: f, ms: duration.node });
                }
                Action::Verify { within, fallback } => {
                    if !cond.as_ref().map(crate::lower::requires_answer).unwrap_or(false) {
                        self.err(
                            Diagnostic::error("E018", "`verify` in a rule that can match frames that are not name answers".into(), a.span).with_hint(
                                "verify holds an answer while its sender is probed: start the condition with `(llmnr.response or nbns.positive or mdns.response) and …`",
                            ),
                        );
                        continue;
                    }
                    if within.node == 0 || within.node > MAX_VERIFY_MS {
                        self.err(
                            Diagnostic::error("E018", format!("a hold of {}ms: it must be between 1ms and {MAX_VERIFY_MS}ms", within.node), within.span)
                                .with_hint("clients resend after 100 ms (Windows 7) to 410 ms (Windows 8+): hold for a few tens of milliseconds, e.g. `verify for 40ms else pass`"),
                        );
                        continue;
                    }
                    acts.push(Act::Verify { ms: within.node as u32, fallback: fallback.node });
                    terminal = true;
                }
                Action::RateLimit { count, per, key } => {
                    let (kname, kspan) = key.as_ref().map(|k| (k.node.as_str(), k.span)).unwrap_or(("ip.src", a.span));
                    let Some(f) = self.field(kname, kspan) else { continue };
                    if count.node == 0 {
                        self.err(Diagnostic::error("E013", "rate-limit needs a count above 0".into(), count.span).with_hint("to drop everything, use `drop`"));
                        continue;
                    }
                    if !self.window(per) {
                        continue;
                    }
                    let c = self.counter(format!("rate-limit {} per {}ms by {}", count.node, per.node, f.name), per.node);
                    acts.push(Act::RateLimit { counter: c, key: f, n: count.node });
                }
            }
        }
        let message = self.template(&message, r);
        // Unreachable rules: after a rule that matches everything and decides, nothing runs;
        // a rule with the same condition as an earlier deciding rule never decides.
        let always = cond.as_ref().map(|c| matches!(c, Cond::Test(Test::Const(true)))).unwrap_or(true);
        let key = cond.as_ref().map(|c| format!("{c:?}")).unwrap_or_default();
        if let Some(earlier) = conditions.get(&key) {
            if decided.is_none() {
                self.err(
                    Diagnostic::error("E005", format!("rule `{}` can never decide", r.name.node), r.name.span)
                        .with_hint(format!("rule `{earlier}` above has the same condition and decides first; merge the two")),
                );
            }
        }
        if terminal {
            conditions.entry(key).or_insert_with(|| r.name.node.clone());
            if always && decided.is_none() {
                *decided = Some(r.name.node.clone());
            }
        }
        let (entry, gate, facts) = match &cond {
            None => (MATCH, Gate::default(), Vec::new()),
            Some(c) => {
                let facts = fields_of(c);
                (emit(c, MATCH, NO_MATCH, &mut self.tests, &mut self.nodes), gate(c), facts)
            }
        };
        let transport = match cond.as_ref().and_then(transport_part) {
            Some(p) => emit(&p, MATCH, NO_MATCH, &mut self.tests, &mut self.nodes),
            None => MATCH,
        };
        self.rules.push(Rule {
            name: r.name.node.clone(),
            description: r.description.as_ref().map(|d| d.node.clone()).unwrap_or_default(),
            severity,
            gate: gate.all,
            gate_any: gate.any,
            gate_none: gate.none,
            entry,
            transport,
            acts,
            message,
            facts,
        });
    }

    fn finish(self) -> Program {
        let (qi, qm) = match self.previous {
            Some(p) => (p.quarantine_ip.clone(), p.quarantine_mac.clone()),
            None => (Arc::new(LearnTable::new(65_536, 3_600_000)), Arc::new(LearnTable::new(65_536, 3_600_000))),
        };
        let candidates = crate::plan::candidate_table(&self.rules);
        let transport_candidates = crate::plan::transport_candidate_table(&candidates);
        let class_candidates = crate::plan::class_candidate_table(&candidates);
        let dormant_if_empty = crate::plan::dormant_table(&self.rules, &self.nodes, &self.tests, self.tables.len());
        let addr_gated = crate::plan::addr_gated_table(&self.rules, &self.nodes, &self.tests, self.tables.len());
        Program {
            network: None,
            addr_gated,
            candidates,
            transport_candidates,
            class_candidates,
            dormant_if_empty,
            rules: self.rules,
            nodes: self.nodes,
            tests: self.tests,
            sets: self.sets,
            tables: self.tables,
            counters: self.counters,
            default: self.default.unwrap_or(Verdict::Pass),
            quarantine_ip: qi,
            quarantine_mac: qm,
            uses_quarantine: self.uses_quarantine,
        }
    }
}
