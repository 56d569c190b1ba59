//! The compiled program and its evaluator.
//!
//! A program is flat: every rule's condition is a branch program (each node one test, with a
//! successor for true and one for false; `and`/`or`/`not` are only wiring), the tests of a
//! conjunction are ordered cheapest first, and each rule carries a protocol gate, so a frame
//! that lacks the protocols a rule reads skips it with one AND. Sets are ahash tables. Nothing
//! is allocated while evaluating: the outcome's lists are inline.
use crate::ast::{CmpOp, Severity, StrOp, Verdict};
use crate::schema::{frame_mask, proto, FieldRef, MetaField, Source};
use crate::state::{CounterTable, LearnTable};
use ahash::AHashSet;
use antidote_wire::fields::Value;
use antidote_wire::frame::Addr;
use antidote_wire::Frame;
use smallvec::SmallVec;
use std::sync::Arc;

/// Where a frame came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Meta {
    pub port: u16,
    pub from_segment: bool,
}

/// The branch-program targets that end a condition.
pub const MATCH: u32 = u32::MAX;
pub const NO_MATCH: u32 = u32::MAX - 1;

#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub test: u32,
    pub on_true: u32,
    pub on_false: u32,
}

/// A literal compiled for its field's type.
#[derive(Debug, Clone)]
pub enum Const {
    Int(u64),
    Bool(bool),
    Ip(u128),
    Cidr {
        net: u128,
        mask: u128,
    },
    Mac([u8; 6]),
    /// Lower-cased text.
    Str(Box<[u8]>),
    Bytes(Box<[u8]>),
}

#[derive(Debug, Clone)]
pub enum Test {
    Const(bool),
    /// A bool field is true.
    Bool(FieldRef),
    /// field OP constant (== and != for every type, ordering for integers).
    Cmp(FieldRef, CmpOp, Const),
    /// Two fields of one type are equal (==) or not (!=).
    FieldCmp(FieldRef, CmpOp, FieldRef),
    Str(FieldRef, StrOp, Box<[u8]>),
    InSet(FieldRef, u32),
    InTable(FieldRef, u32),
    /// count(by key over w) OP n
    Count {
        key: FieldRef,
        counter: u32,
        op: CmpOp,
        n: u64,
    },
    /// distinct(value by key over w) OP n
    Distinct {
        value: FieldRef,
        key: FieldRef,
        counter: u32,
        op: CmpOp,
        n: u64,
    },
}

impl Test {
    /// Relative cost, for ordering the tests of a conjunction.
    pub fn cost(&self) -> u32 {
        match self {
            Test::Const(_) => 0,
            Test::Bool(f) | Test::Cmp(f, _, Const::Int(_) | Const::Bool(_)) if matches!(f.src, Source::Meta(_)) => 1,
            Test::Bool(_) => 2,
            Test::Cmp(_, _, Const::Int(_) | Const::Bool(_) | Const::Ip(_) | Const::Cidr { .. } | Const::Mac(_)) => 3,
            Test::FieldCmp(..) => 4,
            Test::Cmp(..) => 6,
            Test::Str(..) => 7,
            Test::InSet(..) => 8,
            Test::InTable(..) => 10,
            // Counters count the frames that reach them: always last.
            Test::Count { .. } | Test::Distinct { .. } => 100,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Set {
    Ip {
        exact: AHashSet<u128>,
        cidrs: Vec<(u128, u128)>,
    },
    Int(AHashSet<u64>),
    Str(AHashSet<Box<[u8]>>),
    /// A string set of at most [`FEW_STRINGS`] members, compared in turn (cheaper than
    /// hashing the text).
    FewStr(Vec<Box<[u8]>>),
    Mac(AHashSet<[u8; 6]>),
}

/// String sets up to this size are searched in turn rather than hashed.
pub const FEW_STRINGS: usize = 8;

impl Set {
    pub fn len(&self) -> usize {
        match self {
            Set::Ip { exact, cidrs } => exact.len() + cidrs.len(),
            Set::Int(s) => s.len(),
            Set::Str(s) => s.len(),
            Set::FewStr(s) => s.len(),
            Set::Mac(s) => s.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A compiled action.
#[derive(Debug, Clone)]
pub enum Act {
    Alert,
    Mirror,
    InjectNbnsNegative,
    Learn { table: u32, key: FieldRef },
    Forget { table: u32, key: FieldRef },
    Quarantine { key: FieldRef, ms: u64 },
    RateLimit { counter: u32, key: FieldRef, n: u64 },
    Verdict(Verdict),
}

/// One part of an alert message: text, or a field's value.
#[derive(Debug, Clone)]
pub enum Part {
    Text(String),
    Field(FieldRef),
}

#[derive(Debug, Clone)]
pub struct CRule {
    pub name: String,
    pub description: String,
    pub severity: Severity,
    /// Protocols a frame must all have for the rule to match.
    pub gate: u32,
    /// Protocols a frame must have at least one of (0: no such constraint).
    pub gate_any: u32,
    /// Protocol bits a frame must not have (a rule about `not nbns.broadcast` cannot match a
    /// frame with [`crate::schema::proto::BCAST`]).
    pub gate_none: u32,
    pub entry: u32,
    /// Entry of the condition on transport-level tests that the rule's condition implies
    /// ([`MATCH`]: none known): a frame failing it cannot match, whatever its application says.
    pub transport: u32,
    pub acts: Vec<Act>,
    pub message: Vec<Part>,
    /// Fields named in the condition (for alerts: the facts that made it fire).
    pub facts: Vec<FieldRef>,
}

/// A learned table as declared, with its state.
pub struct TableDef {
    pub name: String,
    pub key_ty: antidote_wire::fields::FieldType,
    pub ttl_ms: u64,
    pub max: usize,
    pub state: Arc<LearnTable>,
}

pub struct CounterDef {
    pub text: String,
    pub window_ms: u64,
    pub state: CounterTable,
}

/// A compiled policy. Immutable and `Send + Sync`: the workers share it through arc-swap.
pub struct Program {
    pub rules: Vec<CRule>,
    pub nodes: Vec<Node>,
    pub tests: Vec<Test>,
    pub sets: Vec<(String, Set)>,
    pub tables: Vec<TableDef>,
    pub counters: Vec<CounterDef>,
    pub default: Verdict,
    /// Keys quarantined by `quarantine`: IP addresses and MACs (as u128).
    pub quarantine_ip: Arc<LearnTable>,
    pub quarantine_mac: Arc<LearnTable>,
    pub uses_quarantine: bool,
    /// For programs of up to 64 rules: for every protocol mask, the rules whose gates let it
    /// through, as a bitset (so a frame visits only its candidate rules).
    pub candidates: Vec<u64>,
    /// The same for a frame read only up to its transport ([`Program::may_match_from_transport`]):
    /// the rules that are candidates for any application message it could carry.
    pub transport_candidates: Vec<u64>,
    /// For each layout class of the header look ([`crate::schema::layout_class`]): the rules that
    /// are candidates for any mask a frame of that class can get ([`crate::schema::class_may_give`]).
    pub class_candidates: [u64; crate::schema::LAYOUT_CLASSES],
    /// For each learned table that some rule cannot match without (a table index and those
    /// rules, as a bitset): while the table holds no key, the rules are dormant
    /// ([`Program::live_rules`]).
    pub dormant_if_empty: Vec<(u32, u64)>,
    /// For each learned table that some rule cannot match without the frame's `ip.src` or
    /// `ip.dst` in it (a table index and those rules): the header look may let a frame through
    /// on the table's address filter ([`Program::addr_gate`]).
    pub addr_gated: Vec<(u32, u64)>,
}

impl Program {
    /// Whether a frame read only up to its transport (`Frame::parse_transport`, no error) may
    /// match a rule once its application message is read. False when every rule that could
    /// apply to any message it may carry fails its transport-level tests (follow-on rules about
    /// a learned poisoner, for traffic between other hosts): then the frame gets the default
    /// verdict without its application being read — the same as a full evaluation.
    /// [`Program::eval`] for a frame read only up to its transport, when that is enough: no
    /// rule may match it (the default verdict goes in `out`, as a full evaluation would give).
    /// False when its application message must be read and the frame evaluated.
    #[inline]
    pub fn eval_transport(&self, frame: &Frame<'_>, meta: &Meta, now: u64, out: &mut Outcome) -> bool {
        if frame.error.is_some() || self.may_match_from_transport(frame, meta, now) {
            return false;
        }
        out.clear();
        out.verdict = Some(self.default);
        true
    }

    #[inline]
    pub fn may_match_from_transport(&self, frame: &Frame<'_>, meta: &Meta, now: u64) -> bool {
        if self.uses_quarantine {
            return true;
        }
        let Some(&bits) = self.transport_candidates.get(transport_key(frame_mask(frame))) else { return true };
        let mut bits = bits;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.matches(self.rules[i].transport, frame, meta, now) {
                return true;
            }
        }
        false
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
    pub fn addr_gate(&self, live: u64, skipped: u32) -> Option<crate::schema::AddrGate<'_>> {
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
                return Some(crate::schema::AddrGate { classes, filter: self.tables[t as usize].state.addr_filter(), table: t });
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
pub fn class_candidate_table(candidates: &[u64]) -> [u64; crate::schema::LAYOUT_CLASSES] {
    let mut t = [0u64; crate::schema::LAYOUT_CLASSES];
    for (c, rules) in t.iter_mut().enumerate() {
        *rules = if candidates.is_empty() {
            u64::MAX
        } else {
            candidates.iter().enumerate().filter(|&(m, _)| crate::schema::class_may_give(c, m as u32)).fold(0, |a, (_, &r)| a | r)
        };
    }
    t
}

/// [`Program::dormant_if_empty`]: for each table, the rules (of the first 64) whose condition
/// cannot reach a match — nor a counter, which would count the frame — when every membership
/// test of that table is false. Found on the branch program itself, so `and`, `or` and `not`
/// need no rules of their own: `ip.dst in t and …` is dormant, `ip.dst in t or …` and
/// `ip.dst not in t` are not.
pub fn dormant_table(rules: &[CRule], nodes: &[Node], tests: &[Test], tables: usize) -> Vec<(u32, u64)> {
    ruled_out_per_table(rules, nodes, tests, tables, |t, test| matches!(test, Test::InTable(_, tt) if *tt == t))
}

/// [`Program::addr_gated`]: for each table, the rules (of the first 64) whose condition cannot
/// reach a match nor a counter when the frame's `ip.src` and `ip.dst` are not in the table —
/// every test `ip.src in t` and `ip.dst in t` false.
pub fn addr_gated_table(rules: &[CRule], nodes: &[Node], tests: &[Test], tables: usize) -> Vec<(u32, u64)> {
    ruled_out_per_table(rules, nodes, tests, tables, |t, test| matches!(test, Test::InTable(f, tt) if *tt == t && matches!(f.name, "ip.src" | "ip.dst")))
}

/// For each table t, the rules (of the first 64) that cannot reach a match nor a counter when
/// every test `is_false(t, test)` picks is false; tables with none are left out.
fn ruled_out_per_table(rules: &[CRule], nodes: &[Node], tests: &[Test], tables: usize, is_false: impl Fn(u32, &Test) -> bool) -> Vec<(u32, u64)> {
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

impl CRule {
    /// Whether a frame of this protocol mask passes the rule's gate (else the rule cannot match).
    #[inline]
    pub fn admits(&self, mask: u32) -> bool {
        self.gate & !mask == 0 && (self.gate_any == 0 || self.gate_any & mask != 0) && self.gate_none & mask == 0
    }
}

/// Number of protocol bits in a frame mask.
pub const MASK_BITS: u32 = 16;

/// The candidate bitsets of a program's rules (empty when it has more than 64 rules).
pub fn candidate_table(rules: &[CRule]) -> Vec<u64> {
    if rules.len() > 64 {
        return Vec::new();
    }
    (0..1u32 << MASK_BITS).map(|mask| rules.iter().enumerate().fold(0u64, |acc, (i, r)| if r.admits(mask) { acc | 1 << i } else { acc })).collect()
}

/// The bits of a frame mask that a frame read up to its transport can have.
const TRANSPORT_BITS: [u32; 7] = [proto::ETH, proto::ARP, proto::IP, proto::UDP, proto::TCP, proto::VLAN, proto::SYN];

/// A transport-level mask as an index into [`Program::transport_candidates`].
#[inline]
fn transport_key(mask: u32) -> usize {
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
        let carried = if m & proto::TCP != 0 {
            proto::HTTP | proto::SMB2 | proto::NTLM
        } else if m & proto::UDP != 0 {
            proto::NBNS | proto::LLMNR | proto::MDNS | proto::SSRP | proto::RESP | proto::BCAST
        } else {
            0
        };
        if app & !carried == 0 {
            t[transport_key(m)] |= c;
        }
    }
    t
}

/// Most rules reported per frame (more matches are counted in `more`).
pub const MAX_HITS: usize = 8;

/// What the program decided for one frame. Inline storage: no allocation.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub verdict: Option<Verdict>,
    /// The rule whose terminal action decided (None: the default, or quarantine).
    pub decided_by: Option<u16>,
    pub quarantined: bool,
    pub mirror: bool,
    pub inject_nbns_negative: bool,
    pub rate_limited: bool,
    /// Rules that matched, in order.
    pub matched: SmallVec<[u16; MAX_HITS]>,
    /// Rules that raised an alert.
    pub alerts: SmallVec<[u16; MAX_HITS]>,
    /// Matches beyond MAX_HITS.
    pub more: u16,
}

impl Outcome {
    pub fn clear(&mut self) {
        self.verdict = None;
        self.decided_by = None;
        self.quarantined = false;
        self.mirror = false;
        self.inject_nbns_negative = false;
        self.rate_limited = false;
        self.matched.clear();
        self.alerts.clear();
        self.more = 0;
    }
    pub fn dropped(&self) -> bool {
        self.verdict == Some(Verdict::Drop)
    }
}

/// The key of a value in a table or counter: addresses and integers as themselves, text as a
/// 128-bit hash of its lower-cased form.
#[inline]
pub fn key_of(v: &Value<'_>) -> Option<u128> {
    Some(match v {
        Value::Ip(ip) => Addr::from_ip(*ip).0,
        Value::Mac(m) => u64::from_be_bytes([0, 0, m.0[0], m.0[1], m.0[2], m.0[3], m.0[4], m.0[5]]) as u128,
        Value::Int(i) => *i as u128,
        Value::Bool(b) => *b as u128,
        Value::Bytes(b) => hash128(b),
        other => other.with_lower_text(hash128)?,
    })
}

fn hash128(b: &[u8]) -> u128 {
    let a = ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(b) as u128;
    let c = ahash::RandomState::with_seeds(5, 6, 7, 8).hash_one(b) as u128;
    (a << 64) | c
}

/// Reads a field.
#[inline(always)]
pub fn read<'f>(f: &FieldRef, frame: &'f Frame<'_>, meta: &Meta) -> Option<Value<'f>> {
    match f.src {
        Source::Wire(d) => (d.get)(frame),
        Source::Meta(MetaField::Port) => Some(Value::Int(meta.port as u64)),
        Source::Meta(MetaField::FromSegment) => Some(Value::Bool(meta.from_segment)),
    }
}

#[inline]
fn cmp_int(a: u64, op: CmpOp, b: u64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

/// Whether a value equals a constant (types were checked at compile time).
#[inline]
fn value_eq(v: &Value<'_>, c: &Const) -> bool {
    match (v, c) {
        (Value::Int(a), Const::Int(b)) => a == b,
        (Value::Bool(a), Const::Bool(b)) => a == b,
        (Value::Ip(a), Const::Ip(b)) => Addr::from_ip(*a).0 == *b,
        (Value::Ip(a), Const::Cidr { net, mask }) => Addr::from_ip(*a).0 & mask == *net,
        (Value::Mac(a), Const::Mac(b)) => a.0 == *b,
        (Value::Bytes(a), Const::Bytes(b)) => *a == &b[..],
        (v, Const::Str(s)) => v.with_text(|t| t.eq_ignore_ascii_case(s)).unwrap_or(false),
        _ => false,
    }
}

#[inline]
fn values_eq(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Ip(x), Value::Ip(y)) => x == y,
        (Value::Mac(x), Value::Mac(y)) => x == y,
        _ => match (key_of(a), key_of(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

impl Set {
    #[inline]
    pub fn contains(&self, v: &Value<'_>) -> bool {
        match (self, v) {
            (Set::Ip { exact, cidrs }, Value::Ip(ip)) => {
                let a = Addr::from_ip(*ip).0;
                exact.contains(&a) || cidrs.iter().any(|(net, mask)| a & mask == *net)
            }
            (Set::Int(s), Value::Int(i)) => s.contains(i),
            (Set::Mac(s), Value::Mac(m)) => s.contains(&m.0),
            (Set::Str(s), v) => v.with_lower_text(|t| s.contains(t)).unwrap_or(false),
            (Set::FewStr(s), v) => v.with_lower_text(|t| s.iter().any(|x| **x == *t)).unwrap_or(false),
            _ => false,
        }
    }
}

impl Program {
    /// Evaluates one test. A field with no value in this frame makes the test false.
    #[inline]
    fn test(&self, t: &Test, frame: &Frame<'_>, meta: &Meta, now: u64) -> bool {
        match t {
            Test::Const(b) => *b,
            Test::Bool(f) => matches!(read(f, frame, meta), Some(Value::Bool(true))),
            Test::Cmp(f, op, c) => match read(f, frame, meta) {
                None => false,
                Some(v) => match (op, &v, c) {
                    (CmpOp::Eq, ..) => value_eq(&v, c),
                    (CmpOp::Ne, ..) => !value_eq(&v, c),
                    (op, Value::Int(a), Const::Int(b)) => cmp_int(*a, *op, *b),
                    _ => false,
                },
            },
            Test::FieldCmp(a, op, b) => match (read(a, frame, meta), read(b, frame, meta)) {
                (Some(x), Some(y)) => {
                    let eq = values_eq(&x, &y);
                    match op {
                        CmpOp::Eq => eq,
                        CmpOp::Ne => !eq,
                        op => match (x, y) {
                            (Value::Int(x), Value::Int(y)) => cmp_int(x, *op, y),
                            _ => false,
                        },
                    }
                }
                _ => false,
            },
            // The field's value is used where the getter wrote it (`match &…`): moving it out
            // of the Option first copied it with wider loads than its stores, a
            // store-forwarding stall per test.
            Test::Str(f, op, lit) => match &read(f, frame, meta) {
                Some(v) => v
                    .with_lower_text(|t| match op {
                        StrOp::StartsWith => t.starts_with(lit),
                        StrOp::EndsWith => t.ends_with(lit),
                        StrOp::Contains => lit.is_empty() || t.windows(lit.len()).any(|w| w == &lit[..]),
                    })
                    .unwrap_or(false),
                None => false,
            },
            Test::InSet(f, s) => match &read(f, frame, meta) {
                Some(v) => self.sets[*s as usize].1.contains(v),
                None => false,
            },
            Test::InTable(f, t) => match &read(f, frame, meta) {
                Some(v) => key_of(v).is_some_and(|k| self.tables[*t as usize].state.contains(k, now)),
                None => false,
            },
            Test::Count { key, counter, op, n } => match read(key, frame, meta).and_then(|v| key_of(&v)) {
                Some(k) => cmp_int(self.counters[*counter as usize].state.hit(k, None, now), *op, *n),
                None => false,
            },
            Test::Distinct { value, key, counter, op, n } => {
                match (read(key, frame, meta).and_then(|v| key_of(&v)), read(value, frame, meta).and_then(|v| key_of(&v))) {
                    (Some(k), Some(v)) => cmp_int(self.counters[*counter as usize].state.hit(k, Some(v as u64 ^ (v >> 64) as u64), now), *op, *n),
                    _ => false,
                }
            }
        }
    }

    /// Runs a rule's branch program.
    #[inline]
    fn matches(&self, entry: u32, frame: &Frame<'_>, meta: &Meta, now: u64) -> bool {
        let mut pc = entry;
        loop {
            if pc == MATCH {
                return true;
            }
            if pc == NO_MATCH {
                return false;
            }
            let n = &self.nodes[pc as usize];
            pc = if self.test(&self.tests[n.test as usize], frame, meta, now) { n.on_true } else { n.on_false };
        }
    }

    /// Evaluates the program on one frame: quarantine first, then the rules in order; the
    /// first terminal verdict wins, other actions accumulate; with no verdict, the default.
    /// `now` is milliseconds on the caller's clock (load it once per burst).
    pub fn eval(&self, frame: &Frame<'_>, meta: &Meta, now: u64, out: &mut Outcome) {
        out.clear();
        if self.uses_quarantine && self.quarantined(frame, now) {
            out.quarantined = true;
            out.verdict = Some(Verdict::Drop);
            return;
        }
        let mask = frame_mask(frame);
        if let Some(&bits) = self.candidates.get(mask as usize) {
            let mut bits = bits;
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if self.matches(self.rules[i].entry, frame, meta, now) && self.apply(i, frame, meta, now, out) {
                    return;
                }
            }
        } else {
            for (i, r) in self.rules.iter().enumerate() {
                if !r.admits(mask) {
                    continue;
                }
                if self.matches(r.entry, frame, meta, now) && self.apply(i, frame, meta, now, out) {
                    return;
                }
            }
        }
        out.verdict = Some(self.default);
    }

    /// Carries out a matched rule's actions; true when one of them decided the frame.
    #[inline]
    fn apply(&self, i: usize, frame: &Frame<'_>, meta: &Meta, now: u64, out: &mut Outcome) -> bool {
        let r = &self.rules[i];
        {
            if out.matched.len() < MAX_HITS {
                out.matched.push(i as u16);
            } else {
                out.more = out.more.saturating_add(1);
            }
            for a in &r.acts {
                match a {
                    Act::Alert => {
                        if out.alerts.len() < MAX_HITS {
                            out.alerts.push(i as u16);
                        }
                    }
                    Act::Mirror => out.mirror = true,
                    Act::InjectNbnsNegative => out.inject_nbns_negative = true,
                    Act::Learn { table, key } => {
                        if let Some(k) = read(key, frame, meta).and_then(|v| key_of(&v)) {
                            self.tables[*table as usize].state.insert(k, now);
                        }
                    }
                    Act::Forget { table, key } => {
                        if let Some(k) = read(key, frame, meta).and_then(|v| key_of(&v)) {
                            self.tables[*table as usize].state.remove(k, now);
                        }
                    }
                    Act::Quarantine { key, ms } => {
                        if let Some(v) = read(key, frame, meta) {
                            let q = if matches!(v, Value::Mac(_)) { &self.quarantine_mac } else { &self.quarantine_ip };
                            if let Some(k) = key_of(&v) {
                                q.insert_for(k, now, *ms);
                            }
                        }
                    }
                    Act::RateLimit { counter, key, n } => {
                        if let Some(k) = read(key, frame, meta).and_then(|v| key_of(&v)) {
                            if self.counters[*counter as usize].state.hit(k, None, now) > *n {
                                out.rate_limited = true;
                                out.verdict = Some(Verdict::Drop);
                                out.decided_by = Some(i as u16);
                                return true;
                            }
                        }
                    }
                    Act::Verdict(v) => {
                        out.verdict = Some(*v);
                        out.decided_by = Some(i as u16);
                        return true;
                    }
                }
            }
        }
        false
    }

    fn quarantined(&self, frame: &Frame<'_>, now: u64) -> bool {
        if let Some(n) = &frame.net {
            if self.quarantine_ip.contains(n.src.0, now) {
                return true;
            }
        }
        if let Some(e) = &frame.eth {
            let m = e.src.0;
            let k = u64::from_be_bytes([0, 0, m[0], m[1], m[2], m[3], m[4], m[5]]) as u128;
            if self.quarantine_mac.contains(k, now) {
                return true;
            }
        }
        false
    }

    /// A rule's alert message with the frame's values filled in (control side: allocates).
    pub fn render_message(&self, rule: usize, frame: &Frame<'_>, meta: &Meta) -> String {
        let r = &self.rules[rule];
        let mut s = String::new();
        for p in &r.message {
            match p {
                Part::Text(t) => s.push_str(t),
                Part::Field(f) => {
                    if let Some(v) = read(f, frame, meta) {
                        s.push_str(&v.display());
                    }
                }
            }
        }
        s
    }
}
