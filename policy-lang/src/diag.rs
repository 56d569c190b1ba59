//! Diagnostics: an error or warning with a code, a message, a span and a hint; rendered for
//! people (the source line and a caret) and as JSON (for the HTTP API).
use crate::span::{line_col, Span};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub level: Level,
    /// A stable code (E001 …), listed in docs/policy-language.md.
    pub code: &'static str,
    pub message: String,
    #[serde(skip)]
    pub span: Span,
    pub hint: Option<String>,
    /// Filled by [`Diagnostic::locate`].
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: String, span: Span) -> Diagnostic {
        Diagnostic { level: Level::Error, code, message, span, hint: None, line: 0, column: 0, end_line: 0, end_column: 0 }
    }
    pub fn warning(code: &'static str, message: String, span: Span) -> Diagnostic {
        Diagnostic { level: Level::Warning, ..Diagnostic::error(code, message, span) }
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }

    /// Fills line and column from the source.
    pub fn locate(&mut self, src: &str) {
        let (l, c) = line_col(src, self.span.start);
        let (el, ec) = line_col(src, self.span.end);
        self.line = l;
        self.column = c;
        self.end_line = el;
        self.end_column = ec;
    }

    /// The diagnostic as people read it:
    ///
    /// ```text
    /// error[E001]: unknown field `llmnr.qnme`
    ///   --> policies/x.policy:4:8
    ///    |
    ///  4 |   when llmnr.qnme == "wpad"
    ///    |        ^^^^^^^^^^
    ///    = hint: did you mean `llmnr.qname`?
    /// ```
    pub fn render(&self, src: &str, file: &str) -> String {
        let (line, col) = line_col(src, self.span.start);
        let text = src.lines().nth(line - 1).unwrap_or("");
        let width = line.to_string().len();
        let pad = " ".repeat(width);
        let line_chars = text.chars().count();
        let (eline, ecol) = line_col(src, self.span.end);
        let end_col = if eline == line { ecol } else { line_chars + 1 };
        let carets = "^".repeat(end_col.saturating_sub(col).max(1));
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let mut s = format!(
            "{level}[{}]: {}\n{pad}--> {file}:{line}:{col}\n{pad} |\n{line} | {text}\n{pad} | {}{carets}\n",
            self.code,
            self.message,
            " ".repeat(col - 1)
        );
        if let Some(h) = &self.hint {
            s.push_str(&format!("{pad} = hint: {h}\n"));
        }
        s
    }
}

/// Renders a list of diagnostics for people.
pub fn render_all(diags: &[Diagnostic], src: &str, file: &str) -> String {
    diags.iter().map(|d| d.render(src, file)).collect::<Vec<_>>().join("\n")
}

/// The diagnostics as a JSON array (line/column filled).
pub fn to_json(diags: &[Diagnostic], src: &str) -> serde_json::Value {
    let v: Vec<Diagnostic> = diags
        .iter()
        .cloned()
        .map(|mut d| {
            d.locate(src);
            d
        })
        .collect();
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}
