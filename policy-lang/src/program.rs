//! The compiled program: what [`crate::check`] and [`crate::lower`] produce and every worker
//! shares. Immutable, flat data — the evaluator is [`crate::eval`], what the header triage needs
//! is [`crate::plan`].
//!
//! A program is flat: every rule's condition is a branch program (each node one test, with a
//! successor for true and one for false; `and`/`or`/`not` are only wiring), the tests of a
//! conjunction are ordered cheapest first, and each rule carries a protocol gate, so a frame
//! that lacks the protocols a rule reads skips it with one AND. Sets are ahash tables. Nothing
//! is allocated while evaluating: the outcome's lists are inline.
use crate::ast::{CmpOp, Severity, StrOp, Verdict};
use crate::fields::{FieldRef, Source};
use crate::state::{CounterTable, LearnTable};
use ahash::AHashSet;
use smallvec::SmallVec;
use std::sync::Arc;

/// Where a frame came from.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub port: u16,
    pub from_segment: bool,
    /// The segment the frame crossed (its port pair and VLAN, `crate::state::network::segment`):
    /// what is learned of the network is kept per segment.
    pub segment: u64,
    /// What the evaluation of this frame looked up once (make a new `Meta` per frame).
    pub memo: Memo,
}

/// Per-frame memory of lookups several rules make: the key of the name the frame asks about or
/// answers (lower-cased and hashed once, not once per rule) and that name's binding in the
/// learned owners (one probe of a shared table that may be far from the cache, not one per
/// rule that reads `learned.name_owner` or `learned.name_owned`).
#[derive(Debug, Clone, Default)]
pub struct Memo {
    name: std::cell::Cell<Option<Option<u128>>>,
    owner: std::cell::Cell<Option<Option<crate::state::bindings::Binding>>>,
    canary: std::cell::Cell<Option<bool>>,
}

impl Memo {
    /// The key (`crate::keys::name_key`) of the frame's question name, if it has one.
    #[inline]
    pub fn name_key(&self, frame: &antidote_wire::Frame<'_>) -> Option<u128> {
        if let Some(k) = self.name.get() {
            return k;
        }
        let k = antidote_wire::fields::question_name(frame).and_then(|n| crate::keys::name_key(&n));
        self.name.set(Some(k));
        k
    }

    /// Whether the frame's question name is one of the appliance's canaries or probes on
    /// `segment` (`Network::is_canary`).
    #[inline]
    pub fn canary(&self, net: &crate::state::Network, frame: &antidote_wire::Frame<'_>, segment: u64, now: u64) -> Option<bool> {
        if let Some(c) = self.canary.get() {
            return Some(c);
        }
        let c = net.is_canary(self.name_key(frame)?, segment, now);
        self.canary.set(Some(c));
        Some(c)
    }

    /// What [`Memo::canary`] found, if it was asked.
    #[inline]
    pub fn canary_known(&self) -> Option<bool> {
        self.canary.get()
    }

    /// The owners' binding of the frame's question name on `segment` (live, whatever its
    /// evidence: callers check [`crate::state::bindings::Binding::owns`]).
    #[inline]
    pub fn owner(&self, net: &crate::state::Network, frame: &antidote_wire::Frame<'_>, segment: u64, now: u64) -> Option<crate::state::bindings::Binding> {
        if let Some(b) = self.owner.get() {
            return b;
        }
        let b = self.name_key(frame).and_then(|k| net.owner(k, segment, now));
        self.owner.set(Some(b));
        b
    }
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
    Learn {
        table: u32,
        key: FieldRef,
    },
    Forget {
        table: u32,
        key: FieldRef,
    },
    Quarantine {
        key: FieldRef,
        ms: u64,
    },
    RateLimit {
        counter: u32,
        key: FieldRef,
        n: u64,
    },
    /// Hold the answer up to `ms` while its sender is probed; `fallback` when it cannot be held.
    Verify {
        ms: u32,
        fallback: Verdict,
    },
    Verdict(Verdict),
}

/// One part of an alert message: text, or a field's value.
#[derive(Debug, Clone)]
pub enum Part {
    Text(String),
    Field(FieldRef),
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub description: String,
    pub severity: Severity,
    /// Protocols a frame must all have for the rule to match.
    pub gate: u32,
    /// Protocols a frame must have at least one of (0: no such constraint).
    pub gate_any: u32,
    /// Protocol bits a frame must not have (a rule about `not nbns.broadcast` cannot match a
    /// frame with [`antidote_wire::proto::BCAST`]).
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
    /// The set (an index into `sets`) of keys `learn` never adds (`except SET`).
    pub except: Option<u32>,
}

pub struct CounterDef {
    pub text: String,
    pub window_ms: u64,
    pub state: CounterTable,
}

/// A compiled policy. Immutable and `Send + Sync`: the workers share it through arc-swap.
pub struct Program {
    pub rules: Vec<Rule>,
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
    /// The same for a frame read only up to its transport ([`Program::eval_transport`]):
    /// the rules that are candidates for any application message it could carry.
    pub transport_candidates: Vec<u64>,
    /// For each layout class of the header look ([`antidote_wire::triage::layout_class`]): the rules that
    /// are candidates for any mask a frame of that class can get ([`antidote_wire::triage::class_may_give`]).
    pub class_candidates: [u64; antidote_wire::triage::LAYOUT_CLASSES],
    /// For each learned table that some rule cannot match without (a table index and those
    /// rules, as a bitset): while the table holds no key, the rules are dormant
    /// ([`Program::live_rules`]).
    pub dormant_if_empty: Vec<(u32, u64)>,
    /// What the appliance learned of the network (set when the program is installed; None in a
    /// program only compiled): learning an address that is bound to another MAC than the frame
    /// shows for it is refused ([`Program::eval`]).
    pub network: Option<Arc<crate::state::Network>>,
    /// For each learned table that some rule cannot match without the frame's `ip.src` or
    /// `ip.dst` in it (a table index and those rules): the header look may let a frame through
    /// on the table's address filter ([`Program::addr_gate`]).
    pub addr_gated: Vec<(u32, u64)>,
}

impl Rule {
    /// Whether a frame of this protocol mask passes the rule's gate (else the rule cannot match).
    #[inline]
    pub fn admits(&self, mask: u32) -> bool {
        self.gate & !mask == 0 && (self.gate_any == 0 || self.gate_any & mask != 0) && self.gate_none & mask == 0
    }
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
    /// A `verify` decided: hold the answer up to this many milliseconds while its sender is
    /// probed (0: no). `verdict` is then the fallback, for when it cannot be held.
    pub verify_ms: u32,
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
        self.verify_ms = 0;
        self.matched.clear();
        self.alerts.clear();
        self.more = 0;
    }
    pub fn dropped(&self) -> bool {
        self.verdict == Some(Verdict::Drop)
    }
}
