//! Diagnostics as data. Every problem the compiler finds becomes a [`Diagnostic`]: a stable code, a
//! message, the span in the user's script, a primary label, hints, and (for errors inside imported
//! modules) the call trace back to the user's script. One renderer ([`render`]) prints them.

pub mod codes;
pub mod render;
pub mod suggest;

use crate::source::Span;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One frame of a call trace: where a function was called, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub span: Span,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code, listed in [`codes::CODES`] (e.g. `E104`).
    pub code: &'static str,
    pub message: String,
    /// Where the problem is. `None` only for problems with no place (e.g. a missing input file).
    pub span: Option<Span>,
    /// Text under the primary span.
    pub label: Option<String>,
    /// Other places worth showing (the first declaration of a duplicate, …).
    pub secondary: Vec<(Span, String)>,
    /// `help:` lines: how to fix it.
    pub help: Vec<String>,
    /// `note:` lines: context.
    pub notes: Vec<String>,
    /// Innermost call first: where the erroring function was called from, up to the user's script.
    pub trace: Vec<Frame>,
    /// The field path inside the object (`Pipeline/ci: spec.tasks[1].params[0]`), when known.
    pub path: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Error, code, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Warning, code, message)
    }

    fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Diagnostic {
        debug_assert!(
            codes::lookup(code).is_some(),
            "diagnostic code {code} is not registered in diag::codes"
        );
        Diagnostic {
            severity,
            code,
            message: message.into(),
            span: None,
            label: None,
            secondary: Vec::new(),
            help: Vec::new(),
            notes: Vec::new(),
            trace: Vec::new(),
            path: None,
        }
    }

    pub fn at(mut self, span: Option<Span>) -> Diagnostic {
        if self.span.is_none() {
            self.span = span;
        }
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn secondary(mut self, span: Option<Span>, label: impl Into<String>) -> Diagnostic {
        if let Some(span) = span {
            self.secondary.push((span, label.into()));
        }
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help.push(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Diagnostic {
        self.path = Some(path.into());
        self
    }

    pub fn with_trace(mut self, trace: Vec<Frame>) -> Diagnostic {
        self.trace = trace;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Diagnostics collected by a compilation, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(ds);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.0.len() - self.errors()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// Sorts by position (file, offset), then code, and drops exact duplicates, so output never depends
    /// on the order in which passes ran.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            let ka = (a.span.map(|s| (s.file, s.start)), a.code, &a.message);
            let kb = (b.span.map(|s| (s.file, s.start)), b.code, &b.message);
            ka.cmp(&kb)
        });
        self.0.dedup();
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
