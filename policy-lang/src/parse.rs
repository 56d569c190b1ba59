//! Source text → syntax tree, with syntax errors as diagnostics.
use crate::ast::Policy;
use crate::diag::Diagnostic;
use crate::lexer::{LexError, Lexer, Tok};
use crate::span::Span;
use lalrpop_util::ParseError;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, unused)]
    grammar
);

/// Parses `src`; returns the tree (when the syntax allowed one) and every diagnostic.
pub fn parse(src: &str) -> (Option<Policy>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let r = grammar::PolicyParser::new().parse(&mut diags, Lexer::new(src));
    match r {
        Ok(p) => (Some(p), diags),
        Err(e) => {
            diags.push(syntax_error(e, src));
            (None, diags)
        }
    }
}

fn expected_list(expected: &[String]) -> String {
    // Tokens that only error productions accept are not worth suggesting.
    let mut e: Vec<&str> = expected.iter().map(|s| s.as_str()).filter(|s| !matches!(*s, "\"&&\"" | "\"||\"" | "\"=\"" | "\"!\"")).collect();
    e.sort();
    e.dedup();
    let e: Vec<String> = e
        .iter()
        .map(|s| match *s {
            "Ident" => "a name".to_string(),
            "Path" => "a field".to_string(),
            "Lit" => "a literal".to_string(),
            "Level" => "a severity (low, medium, high, critical)".to_string(),
            "StrOpTok" => "starts_with/ends_with/contains".to_string(),
            other => format!("`{}`", other.trim_matches('"')),
        })
        .collect();
    if e.len() > 8 {
        format!("{} …", e[..8].join(", "))
    } else {
        e.join(", ")
    }
}

fn hint_for(tok: &Tok, expected: &[String]) -> Option<String> {
    let exp = |s: &str| expected.iter().any(|e| e == s);
    if exp("Ident") && !matches!(tok, Tok::Ident(_) | Tok::Path(_) | Tok::Lit(_)) && tok.to_string().starts_with('`') {
        let t = tok.to_string();
        if t.chars().nth(1).map(|c| c.is_ascii_alphabetic()).unwrap_or(false) {
            return Some(format!("{t} is a keyword: choose another name"));
        }
    }
    match tok {
        Tok::Ident(w) if exp("Path") => {
            Some(match crate::fields::all_names().find(|(n, _, _)| n.strip_prefix(w.as_str()).is_some_and(|r| r.starts_with('.'))) {
                // `when tcp then …`: a protocol's name alone.
                Some((example, _, _)) => format!("`{w}` is not a condition: test one of its fields, e.g. `{example}` (`antidote fields` lists them)"),
                None => format!("`{w}` is not a field; fields have a dot (`ip.src`, `llmnr.qname`)"),
            })
        }
        Tok::RBrace if exp("\"then\"") => Some("a rule needs `then` and at least one action, e.g. `then alert; drop`".into()),
        Tok::Ident(w) if exp("\"then\"") || exp("\"and\"") => {
            Some(format!("`{w}` is not a field; fields have a dot (`ip.src`, `llmnr.qname`), and conditions are joined with `and` / `or`"))
        }
        Tok::Pass | Tok::Drop | Tok::Mirror | Tok::Alert | Tok::Learn | Tok::Forget | Tok::Inject | Tok::Quarantine | Tok::RateLimit if exp("\";\"") => {
            Some("separate actions with `;`".into())
        }
        Tok::Lit(_) | Tok::Ident(_) | Tok::Path(_) if exp("\";\"") => Some("separate actions with `;`".into()),
        Tok::Rule | Tok::Set | Tok::Table | Tok::Default if exp("\"}\"") => Some("the rule above is missing its closing `}`".into()),
        _ if exp("\"then\"") && !exp("\"and\"") => Some("a rule body reads `{ when CONDITION then ACTIONS }`".into()),
        _ => None,
    }
}

fn syntax_error(e: ParseError<usize, Tok, LexError>, src: &str) -> Diagnostic {
    match e {
        ParseError::InvalidToken { location } => Diagnostic::error("E012", "invalid token".into(), Span::new(location, location + 1)),
        ParseError::UnrecognizedEof { location, expected } => {
            let mut d = Diagnostic::error(
                "E012",
                format!("the policy ends too early; expected {}", expected_list(&expected)),
                Span::new(location.min(src.len()), location.min(src.len())),
            );
            if expected.iter().any(|e| e == "\"}\"") {
                d = d.with_hint("a `{` is not closed");
            }
            d
        }
        ParseError::UnrecognizedToken { token: (l, tok, r), expected } => {
            let mut d = Diagnostic::error("E012", format!("unexpected {tok}; expected {}", expected_list(&expected)), Span::new(l, r));
            if let Some(h) = hint_for(&tok, &expected) {
                d = d.with_hint(h);
            }
            d
        }
        ParseError::ExtraToken { token: (l, tok, r) } => Diagnostic::error("E012", format!("unexpected {tok}"), Span::new(l, r)),
        ParseError::User { error } => {
            let d = Diagnostic::error("E015", error.message, Span::new(error.start, error.end));
            match error.hint {
                Some(h) => d.with_hint(h),
                None => d,
            }
        }
    }
}
