//! Diagnostics as data. Every problem the compiler finds becomes a [`Diagnostic`]: a stable code, a
//! message, the span in the user's script, a primary label, hints, and (for errors inside imported
//! modules) the call trace back to the user's script. One renderer ([`render`]) prints them.

pub mod codes;
pub mod policy;
pub mod render;
pub mod suggest;

use crate::source::Span;
use codes::Code;
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
    /// Stable code: a constant of [`codes`] (e.g. [`codes::E104`]).
    pub code: &'static Code,
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
    /// Further diagnostics folded into this one by [`group`] (same code, severity, message and place).
    pub more: Option<More>,
}

/// What [`group`] folded into a diagnostic: how many more, and their field paths with the indices that
/// differ replaced by `*` (`Pipeline/big: spec.tasks[*].taskSpec.steps[0].image`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct More {
    pub count: usize,
    pub path: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Error, code, message)
    }

    pub fn warning(code: &'static Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Warning, code, message)
    }

    fn new(severity: Severity, code: &'static Code, message: impl Into<String>) -> Diagnostic {
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
            more: None,
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

/// Folds diagnostics with the same severity, code, message, place (primary span) and call trace into the first
/// of them, which then says how many more there were ([`Diagnostic::more`]). A loop that adds 1000
/// tasks with the same unpinned image reports it once. Diagnostics without a span are never folded.
/// The order of the first occurrences is kept.
pub fn group(diags: &[Diagnostic]) -> Vec<Diagnostic> {
    use std::collections::HashMap;
    type Key<'a> = (
        Severity,
        &'static Code,
        &'a str,
        crate::source::Span,
        Vec<crate::source::Span>,
    );
    let mut out: Vec<Diagnostic> = Vec::new();
    let mut paths: Vec<Vec<String>> = Vec::new();
    let mut index: HashMap<Key<'_>, usize> = HashMap::new();
    for d in diags {
        let Some(span) = d.span else {
            out.push(d.clone());
            paths.push(Vec::new());
            continue;
        };
        let key = (
            d.severity,
            d.code,
            d.message.as_str(),
            span,
            d.trace.iter().map(|f| f.span).collect(),
        );
        match index.get(&key) {
            Some(&i) => {
                let more = out[i].more.get_or_insert(More {
                    count: 0,
                    path: None,
                });
                more.count += 1;
                if let Some(p) = &d.path {
                    paths[i].push(p.clone());
                }
            }
            None => {
                index.insert(key, out.len());
                paths.push(d.path.iter().cloned().collect());
                out.push(d.clone());
            }
        }
    }
    for (d, ps) in out.iter_mut().zip(paths) {
        if let Some(more) = &mut d.more {
            more.path = path_pattern(&ps);
        }
    }
    out
}

/// The common shape of field paths: bracketed indices that differ become `*`. `None` when the paths
/// differ in anything but indices (or there are none).
fn path_pattern(paths: &[String]) -> Option<String> {
    fn split(p: &str) -> Vec<&str> {
        // alternating text and bracket contents: "a[1].b[2]" -> ["a[", "1", "].b[", "2", "]"]
        let mut parts = Vec::new();
        let mut rest = p;
        while let Some(open) = rest.find('[') {
            let Some(close) = rest[open..].find(']') else {
                break;
            };
            parts.push(&rest[..=open]);
            parts.push(&rest[open + 1..open + close]);
            rest = &rest[open + close..];
        }
        parts.push(rest);
        parts
    }
    let first = split(paths.first()?);
    let mut pattern: Vec<String> = first.iter().map(|s| s.to_string()).collect();
    for p in &paths[1..] {
        let parts = split(p);
        if parts.len() != first.len() {
            return None;
        }
        for (i, part) in parts.iter().enumerate() {
            if pattern[i] == *part {
                continue;
            }
            // odd positions are bracket contents
            if i % 2 == 1 {
                pattern[i] = "*".to_string();
            } else {
                return None;
            }
        }
    }
    Some(pattern.concat())
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    fn w(start: usize, path: &str) -> Diagnostic {
        Diagnostic::warning(codes::W503, "image `alpine` has no tag")
            .at(Some(Span::new(FileId(0), start, start + 6)))
            .path(path)
    }

    #[test]
    fn group_folds_the_same_place_and_generalises_the_indices() {
        let mut ds: Vec<Diagnostic> = (0..1000)
            .map(|i| {
                w(
                    10,
                    &format!("Pipeline/big: spec.tasks[{i}].taskSpec.steps[0].image"),
                )
            })
            .collect();
        ds.insert(1, w(20, "Task/x: spec.steps[0].image"));
        ds.push(Diagnostic::warning(codes::W503, "no span"));
        ds.push(Diagnostic::warning(codes::W503, "no span"));
        let g = group(&ds);
        assert_eq!(g.len(), 4);
        assert_eq!(
            g[0].more,
            Some(More {
                count: 999,
                path: Some("Pipeline/big: spec.tasks[*].taskSpec.steps[0].image".into())
            })
        );
        assert_eq!(g[1].more, None);
        assert_eq!(g[2].more, None);
        assert_eq!(g[3].more, None);
    }

    #[test]
    fn paths_that_differ_in_names_have_no_pattern() {
        let g = group(&[
            w(1, "Task/a: spec.steps[0].image"),
            w(1, "Task/b: spec.steps[1].image"),
        ]);
        assert_eq!(g.len(), 1);
        assert_eq!(
            g[0].more,
            Some(More {
                count: 1,
                path: None
            })
        );
    }
}
