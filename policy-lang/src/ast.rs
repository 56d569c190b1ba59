//! The syntax tree. Every node carries its span (byte offsets into the source).
use crate::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

/// A whole policy file.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub items: Vec<Item>,
}

// A policy's items are parsed once and walked once by the compiler: boxing the large variant
// would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Item {
    Set(SetDecl),
    Table(TableDecl),
    Rule(Rule),
    Default(Spanned<Verdict>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Drop,
}

/// `set NAME [: TYPE] = { literal, … }`
#[derive(Debug, Clone)]
pub struct SetDecl {
    pub name: Spanned<String>,
    pub ty: Option<Spanned<String>>,
    pub elems: Vec<Spanned<Lit>>,
    pub span: Span,
}

/// `table NAME : TYPE [ttl DURATION] [max N]`
#[derive(Debug, Clone)]
pub struct TableDecl {
    pub name: Spanned<String>,
    pub ty: Spanned<String>,
    pub ttl: Option<Spanned<u64>>,
    pub max: Option<Spanned<u64>>,
    /// A set of keys the table never learns (`except SET`): hosts a policy must never block.
    pub except: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// `rule NAME ["description"] [severity LEVEL] { [when EXPR] then ACTION; … }`
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: Spanned<String>,
    pub description: Option<Spanned<String>>,
    pub severity: Option<Spanned<Severity>>,
    pub when: Option<Spanned<Expr>>,
    pub actions: Vec<Spanned<Action>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Box<Spanned<Expr>>, Box<Spanned<Expr>>),
    And(Box<Spanned<Expr>>, Box<Spanned<Expr>>),
    Not(Box<Spanned<Expr>>),
    Cmp(Spanned<Operand>, Spanned<CmpOp>, Spanned<Operand>),
    In {
        operand: Spanned<Operand>,
        set: Spanned<SetRef>,
        negated: bool,
    },
    Str(Spanned<Operand>, Spanned<StrOp>, Spanned<Lit>),
    /// A bare operand: a bool field (`llmnr.response`) or `true`/`false`.
    Bare(Spanned<Operand>),
    /// A parse error already reported (error productions); checks skip it.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(&self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrOp {
    StartsWith,
    EndsWith,
    Contains,
}

impl StrOp {
    pub fn as_str(&self) -> &'static str {
        match self {
            StrOp::StartsWith => "starts_with",
            StrOp::EndsWith => "ends_with",
            StrOp::Contains => "contains",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Field(String),
    Lit(Lit),
    /// `count(by KEY over WINDOW)`
    Count {
        key: Spanned<String>,
        window: Spanned<u64>,
    },
    /// `distinct(VALUE by KEY over WINDOW)`
    Distinct {
        value: Spanned<String>,
        key: Spanned<String>,
        window: Spanned<u64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetRef {
    Named(String),
    Inline(Vec<Spanned<Lit>>),
}

/// A literal, typed by the field it meets.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Int(u64),
    Str(String),
    Bool(bool),
    Ip(std::net::IpAddr),
    Cidr(std::net::IpAddr, u8),
    Mac([u8; 6]),
    /// Milliseconds.
    Duration(u64),
    Bytes(Vec<u8>),
}

impl Lit {
    pub fn kind(&self) -> &'static str {
        match self {
            Lit::Int(_) => "integer",
            Lit::Str(_) => "string",
            Lit::Bool(_) => "bool",
            Lit::Ip(_) => "IP address",
            Lit::Cidr(..) => "CIDR",
            Lit::Mac(_) => "MAC address",
            Lit::Duration(_) => "duration",
            Lit::Bytes(_) => "bytes",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Pass,
    Drop,
    Mirror,
    /// `inject nbns.negative`
    Inject(Spanned<String>),
    Alert {
        severity: Option<Severity>,
        message: Option<String>,
    },
    Learn {
        table: Spanned<String>,
        key: Spanned<String>,
    },
    Forget {
        table: Spanned<String>,
        key: Spanned<String>,
    },
    Quarantine {
        key: Spanned<String>,
        duration: Spanned<u64>,
    },
    RateLimit {
        count: Spanned<u64>,
        per: Spanned<u64>,
        key: Option<Spanned<String>>,
    },
    /// `verify for 40ms else pass`: hold the answer while its sender is probed; `fallback` when
    /// it cannot be held.
    Verify {
        within: Spanned<u64>,
        fallback: Spanned<Verdict>,
    },
}
