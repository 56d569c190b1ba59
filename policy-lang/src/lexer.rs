//! The lexer: words, literals (addresses, CIDRs, MACs, durations, numbers, strings, hex bytes)
//! and punctuation, each with its byte span. Comments run from `#` to the end of the line.
use crate::ast::Lit;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    // keywords
    Set,
    Table,
    Rule,
    When,
    Then,
    Default,
    And,
    Or,
    Not,
    In,
    Severity,
    Ttl,
    Max,
    Over,
    By,
    Count,
    Distinct,
    Alert,
    Learn,
    Forget,
    Drop,
    Pass,
    Mirror,
    Inject,
    Quarantine,
    For,
    RateLimit,
    Per,
    Except,
    Verify,
    Else,
    Level(crate::ast::Severity),
    StrOp(crate::ast::StrOp),
    // words and literals
    Ident(String),
    /// A dotted name: a field (`llmnr.qname`).
    Path(String),
    Lit(Lit),
    // punctuation
    LBrace,
    RBrace,
    LParen,
    RParen,
    Comma,
    Semi,
    Colon,
    Assign,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `&&`, `||` or `!`: C habits, given a hint by the grammar.
    CAnd,
    COr,
    Bang,
}

impl std::fmt::Display for Tok {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Tok::Ident(s) | Tok::Path(s) => return write!(f, "`{s}`"),
            Tok::Lit(l) => return write!(f, "{}", l.kind()),
            Tok::Level(l) => return write!(f, "`{}`", l.as_str()),
            Tok::StrOp(o) => return write!(f, "`{}`", o.as_str()),
            other => keyword_text(other).unwrap_or("?"),
        };
        write!(f, "`{s}`")
    }
}

fn keyword_text(t: &Tok) -> Option<&'static str> {
    Some(match t {
        Tok::Set => "set",
        Tok::Table => "table",
        Tok::Rule => "rule",
        Tok::When => "when",
        Tok::Then => "then",
        Tok::Default => "default",
        Tok::And => "and",
        Tok::Or => "or",
        Tok::Not => "not",
        Tok::In => "in",
        Tok::Severity => "severity",
        Tok::Ttl => "ttl",
        Tok::Max => "max",
        Tok::Over => "over",
        Tok::By => "by",
        Tok::Count => "count",
        Tok::Distinct => "distinct",
        Tok::Alert => "alert",
        Tok::Learn => "learn",
        Tok::Forget => "forget",
        Tok::Drop => "drop",
        Tok::Pass => "pass",
        Tok::Mirror => "mirror",
        Tok::Inject => "inject",
        Tok::Quarantine => "quarantine",
        Tok::For => "for",
        Tok::RateLimit => "rate-limit",
        Tok::Per => "per",
        Tok::Except => "except",
        Tok::Verify => "verify",
        Tok::Else => "else",
        Tok::LBrace => "{",
        Tok::RBrace => "}",
        Tok::LParen => "(",
        Tok::RParen => ")",
        Tok::Comma => ",",
        Tok::Semi => ";",
        Tok::Colon => ":",
        Tok::Assign => "=",
        Tok::Eq => "==",
        Tok::Ne => "!=",
        Tok::Lt => "<",
        Tok::Le => "<=",
        Tok::Gt => ">",
        Tok::Ge => ">=",
        Tok::CAnd => "&&",
        Tok::COr => "||",
        Tok::Bang => "!",
        _ => return None,
    })
}

fn keyword(w: &str) -> Option<Tok> {
    use crate::ast::{Severity as S, StrOp as O};
    Some(match w {
        "set" => Tok::Set,
        "table" => Tok::Table,
        "rule" => Tok::Rule,
        "when" => Tok::When,
        "then" => Tok::Then,
        "default" => Tok::Default,
        "and" => Tok::And,
        "or" => Tok::Or,
        "not" => Tok::Not,
        "in" => Tok::In,
        "severity" => Tok::Severity,
        "ttl" => Tok::Ttl,
        "max" => Tok::Max,
        "over" => Tok::Over,
        "by" => Tok::By,
        "count" => Tok::Count,
        "distinct" => Tok::Distinct,
        "alert" => Tok::Alert,
        "learn" => Tok::Learn,
        "forget" => Tok::Forget,
        "drop" => Tok::Drop,
        "pass" => Tok::Pass,
        "mirror" => Tok::Mirror,
        "inject" => Tok::Inject,
        "quarantine" => Tok::Quarantine,
        "for" => Tok::For,
        "rate-limit" => Tok::RateLimit,
        "per" => Tok::Per,
        "except" => Tok::Except,
        "verify" => Tok::Verify,
        "else" => Tok::Else,
        "low" => Tok::Level(S::Low),
        "medium" => Tok::Level(S::Medium),
        "high" => Tok::Level(S::High),
        "critical" => Tok::Level(S::Critical),
        "starts_with" => Tok::StrOp(O::StartsWith),
        "ends_with" => Tok::StrOp(O::EndsWith),
        "contains" => Tok::StrOp(O::Contains),
        "true" => Tok::Lit(Lit::Bool(true)),
        "false" => Tok::Lit(Lit::Bool(false)),
        _ => return None,
    })
}

/// A lexical error: where, what, and a hint.
#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub hint: Option<String>,
}

pub type Spanned = Result<(usize, Tok, usize), LexError>;

pub struct Lexer<'s> {
    src: &'s str,
    pos: usize,
}

impl<'s> Lexer<'s> {
    pub fn new(src: &'s str) -> Self {
        Lexer { src, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn err(&self, start: usize, end: usize, message: String, hint: Option<&str>) -> LexError {
        LexError { start, end, message, hint: hint.map(str::to_string) }
    }

    fn string(&mut self, start: usize) -> Spanned {
        let b = self.src.as_bytes();
        let mut out = String::new();
        let mut i = self.pos + 1;
        loop {
            match b.get(i) {
                None | Some(b'\n') => {
                    self.pos = i;
                    return Err(self.err(start, i, "unterminated string".into(), Some("close it with `\"` on the same line")));
                }
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok((start, Tok::Lit(Lit::Str(out)), i + 1));
                }
                Some(b'\\') => {
                    let c = match b.get(i + 1) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'n') => '\n',
                        Some(b't') => '\t',
                        _ => {
                            self.pos = i + 2;
                            return Err(self.err(i, (i + 2).min(b.len()), "unknown escape in string".into(), Some("use \\\" \\\\ \\n or \\t")));
                        }
                    };
                    out.push(c);
                    i += 2;
                }
                Some(_) => {
                    let ch = self.src[i..].chars().next().unwrap();
                    out.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
    }

    /// A run of characters that can make up a word, a number or an address.
    fn word_end(&self, from: usize) -> usize {
        let b = self.src.as_bytes();
        let mut i = from;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b':' | b'/' | b'-')) {
            i += 1;
        }
        // A word never ends in '.', ':' (but "::" ends IPv6 like "fd00::") or '-'.
        while i > from && matches!(b[i - 1], b'.' | b'-') {
            i -= 1;
        }
        i
    }

    fn word(&mut self, start: usize) -> Spanned {
        let end = self.word_end(start);
        let w = &self.src[start..end];
        self.pos = end;
        if let Some(lit) = classify_literal(w) {
            return Ok((start, Tok::Lit(lit), end));
        }
        if w.contains(':') || w.contains('/') || w.as_bytes()[0].is_ascii_digit() {
            return Err(self.err(
                start,
                end,
                format!("`{w}` is not a valid number, address, CIDR, MAC or duration"),
                Some("IPv4 198.18.0.2, IPv6 fd00::2, CIDR 198.18.0.0/15, MAC 02:00:00:00:00:01, duration 10s / 250ms / 1h"),
            ));
        }
        if let Some(k) = keyword(w) {
            return Ok((start, k, end));
        }
        if w.contains('.') {
            return Ok((start, Tok::Path(w.to_string()), end));
        }
        Ok((start, Tok::Ident(w.to_string()), end))
    }
}

/// Numbers, durations, addresses, CIDRs and MACs.
pub fn classify_literal(w: &str) -> Option<Lit> {
    if let Some(h) = w.strip_prefix("0x") {
        return u64::from_str_radix(&h.replace('_', ""), 16).ok().map(Lit::Int);
    }
    if w.bytes().all(|c| c.is_ascii_digit() || c == b'_') && w.as_bytes()[0].is_ascii_digit() {
        return w.replace('_', "").parse().ok().map(Lit::Int);
    }
    for (suffix, ms) in [("ms", 1u64), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)] {
        if let Some(n) = w.strip_suffix(suffix) {
            if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) {
                return n.parse::<u64>().ok().and_then(|v| v.checked_mul(ms)).map(Lit::Duration);
            }
        }
    }
    if let Some((a, p)) = w.split_once('/') {
        let ip: IpAddr = a.parse().ok()?;
        let p: u8 = p.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        return (p <= max).then_some(Lit::Cidr(ip, p));
    }
    if let Ok(ip) = w.parse::<IpAddr>() {
        return Some(Lit::Ip(ip));
    }
    let parts: Vec<&str> = w.split([':', '-']).collect();
    if parts.len() == 6 && parts.iter().all(|p| p.len() == 2 && p.bytes().all(|c| c.is_ascii_hexdigit())) && !w.contains("::") {
        let mut m = [0u8; 6];
        for (i, p) in parts.iter().enumerate() {
            m[i] = u8::from_str_radix(p, 16).ok()?;
        }
        return Some(Lit::Mac(m));
    }
    None
}

impl Iterator for Lexer<'_> {
    type Item = Spanned;

    fn next(&mut self) -> Option<Spanned> {
        let b = self.src.as_bytes();
        loop {
            match self.peek()? {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'#' => {
                    while self.peek().map(|c| c != b'\n').unwrap_or(false) {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        let start = self.pos;
        let c = b[start];
        let two = b.get(start + 1).copied();
        let punct = |t: Tok, n: usize| Some(Ok((start, t, start + n)));
        let r = match (c, two) {
            (b'"', _) => return Some(self.string(start)),
            (b'h', Some(b'"')) if self.src[start..].starts_with("hex\"") => None,
            (b'=', Some(b'=')) => punct(Tok::Eq, 2),
            (b'!', Some(b'=')) => punct(Tok::Ne, 2),
            (b'<', Some(b'=')) => punct(Tok::Le, 2),
            (b'>', Some(b'=')) => punct(Tok::Ge, 2),
            (b'&', Some(b'&')) => punct(Tok::CAnd, 2),
            (b'|', Some(b'|')) => punct(Tok::COr, 2),
            (b'=', _) => punct(Tok::Assign, 1),
            (b'<', _) => punct(Tok::Lt, 1),
            (b'>', _) => punct(Tok::Gt, 1),
            (b'!', _) => punct(Tok::Bang, 1),
            (b'{', _) => punct(Tok::LBrace, 1),
            (b'}', _) => punct(Tok::RBrace, 1),
            (b'(', _) => punct(Tok::LParen, 1),
            (b')', _) => punct(Tok::RParen, 1),
            (b',', _) => punct(Tok::Comma, 1),
            (b';', _) => punct(Tok::Semi, 1),
            (b':', Some(b':')) => None,
            (b':', _) => punct(Tok::Colon, 1),
            _ => None,
        };
        if let Some(r) = r {
            self.pos = r.as_ref().map(|t| t.2).unwrap_or(start + 1);
            return Some(r);
        }
        if self.src[start..].starts_with("hex\"") {
            self.pos = start + 3;
            return Some(match self.string(start) {
                Ok((s, Tok::Lit(Lit::Str(h)), e)) => {
                    let h: String = h.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
                    if h.len().is_multiple_of(2) && h.bytes().all(|c| c.is_ascii_hexdigit()) {
                        let bytes = (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect();
                        Ok((s, Tok::Lit(Lit::Bytes(bytes)), e))
                    } else {
                        Err(self.err(s, e, "hex bytes need pairs of hex digits".into(), Some("e.g. hex\"11223344\"")))
                    }
                }
                other => other,
            });
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c == b':' {
            return Some(self.word(start));
        }
        let ch = self.src[start..].chars().next().unwrap();
        self.pos = start + ch.len_utf8();
        Some(Err(self.err(start, self.pos, format!("unexpected character `{ch}`"), None)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        Lexer::new(s).map(|t| t.unwrap().1).collect()
    }

    #[test]
    fn literals() {
        use std::net::IpAddr;
        let t = toks("198.18.0.2 fd00:198:18::10 198.18.0.0/15 02:ad:00:00:00:10 10s 250ms 1h 0x8500 42 \"WPAD\" hex\"1122\"");
        assert_eq!(t[0], Tok::Lit(Lit::Ip("198.18.0.2".parse::<IpAddr>().unwrap())));
        assert_eq!(t[1], Tok::Lit(Lit::Ip("fd00:198:18::10".parse::<IpAddr>().unwrap())));
        assert_eq!(t[2], Tok::Lit(Lit::Cidr("198.18.0.0".parse().unwrap(), 15)));
        assert_eq!(t[3], Tok::Lit(Lit::Mac([2, 0xad, 0, 0, 0, 0x10])));
        assert_eq!(t[4], Tok::Lit(Lit::Duration(10_000)));
        assert_eq!(t[5], Tok::Lit(Lit::Duration(250)));
        assert_eq!(t[6], Tok::Lit(Lit::Duration(3_600_000)));
        assert_eq!(t[7], Tok::Lit(Lit::Int(0x8500)));
        assert_eq!(t[8], Tok::Lit(Lit::Int(42)));
        assert_eq!(t[9], Tok::Lit(Lit::Str("WPAD".into())));
        assert_eq!(t[10], Tok::Lit(Lit::Bytes(vec![0x11, 0x22])));
    }

    #[test]
    fn words() {
        let t = toks("rule llmnr-poison { when llmnr.response and ip.src not in trusted then rate-limit 5 per 1s; }  # c");
        assert_eq!(t[1], Tok::Ident("llmnr-poison".into()));
        assert_eq!(t[4], Tok::Path("llmnr.response".into()));
        assert!(t.contains(&Tok::RateLimit));
        assert!(t.contains(&Tok::Not) && t.contains(&Tok::In));
        assert_eq!(
            toks("a == b != c <= >= && || !"),
            vec![Tok::Ident("a".into()), Tok::Eq, Tok::Ident("b".into()), Tok::Ne, Tok::Ident("c".into()), Tok::Le, Tok::Ge, Tok::CAnd, Tok::COr, Tok::Bang]
        );
    }

    #[test]
    fn errors() {
        let e: Vec<_> = Lexer::new("\"open").collect();
        assert!(e[0].is_err());
        let e: Vec<_> = Lexer::new("198.18.0.300").collect();
        assert!(e[0].as_ref().unwrap_err().message.contains("not a valid"));
        let e: Vec<_> = Lexer::new("@").collect();
        assert!(e[0].is_err());
    }
}
