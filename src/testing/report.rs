//! The report of a test run, in three forms:
//!
//! - human: one cargo-test-like line per case as its file completes (`test ci.test.rhai › name ... ok`),
//!   then every failure in full (the diagnostic at the assertion with expected and actual or a diff,
//!   the diagnostics of a script that did not compile, what the case printed), then the closing line
//!   `N passed, N failed` (`, N skipped`, `, N filtered out` when there are any);
//! - short: one line per failure diagnostic (`file:line:col: error[T001]: …`), then the closing line;
//! - json: JSON Lines, one `{"type":"test",…}` object per case that ran, then `{"type":"summary",…}`.

use super::{Counts, FileReport, diff};
use crate::diag::Diagnostic;
use crate::diag::render::{Format, JsonDiagnostic, render};
use crate::script::testing::{CaseResult, Outcome, TestFailure};
use serde_json::{Value, json};

/// How to print.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub format: Format,
    pub color: bool,
}

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// `file › name`, the way cases are named everywhere.
pub fn case_name(file: &str, case: &str) -> String {
    format!("{file} › {case}")
}

/// The diagnostic with what was compared as notes: `expected:`/`actual:`, or a line diff.
pub fn with_comparison(failure: &TestFailure) -> Diagnostic {
    let mut d = failure.diagnostic.clone();
    if let Some(c) = &failure.comparison {
        if c.multiline {
            let body = diff::lines(&c.expected, &c.actual);
            d.notes.push(format!(
                "diff (- expected, + actual):\n{}",
                body.trim_end_matches('\n')
            ));
        } else {
            d.notes.push(format!("expected: {}", c.expected));
            d.notes.push(format!("  actual: {}", c.actual));
        }
    }
    d
}

/// One failure in full (human or short), followed by the diagnostics of failed builds and (human) the
/// printed output.
pub fn failure_text(
    f: &FileReport,
    failure: &TestFailure,
    output: &[String],
    style: Style,
) -> String {
    let format = match style.format {
        Format::Json => Format::Human,
        other => other,
    };
    let mut d = with_comparison(failure);
    if format == Format::Short
        && let Some(c) = failure.comparison.as_ref().filter(|c| !c.multiline)
    {
        d.message = format!(
            "{} (expected {}, actual {})",
            d.message, c.expected, c.actual
        );
    }
    let mut out = render(&[d], &f.result.sources, format, style.color);
    for a in &failure.attached {
        out.push_str(&render(&a.diagnostics.0, &a.sources, format, style.color));
    }
    if format == Format::Human && !output.is_empty() {
        out.push_str("printed:\n");
        for line in output {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// The progress lines of one file (human format).
pub fn file_lines(f: &FileReport, style: Style) -> String {
    let mut out = String::new();
    if f.result.load_error.is_some() {
        out.push_str(&format!(
            "test {} ... {}\n",
            f.name,
            paint("FAILED", "31", style.color)
        ));
    }
    for c in &f.result.cases {
        let status = match &c.outcome {
            Outcome::Passed => paint("ok", "32", style.color),
            Outcome::Failed(_) => paint("FAILED", "31", style.color),
            Outcome::Skipped(r) if r.is_empty() => paint("skipped", "33", style.color),
            Outcome::Skipped(r) => format!("{} ({r})", paint("skipped", "33", style.color)),
            Outcome::Filtered => continue,
        };
        out.push_str(&format!(
            "test {} ... {status}\n",
            case_name(&f.name, &c.name)
        ));
    }
    out
}

fn failed_cases(f: &FileReport) -> impl Iterator<Item = (&CaseResult, &TestFailure)> {
    f.result.cases.iter().filter_map(|c| match &c.outcome {
        Outcome::Failed(x) => Some((c, x.as_ref())),
        _ => None,
    })
}

/// Everything after the progress lines: failures in full, snapshot notes, the closing line.
pub fn finish(files: &[FileReport], style: Style) -> String {
    let counts = Counts::of(files);
    let mut out = String::new();
    match style.format {
        Format::Json => {
            out.push_str(&summary_json(&counts));
            out.push('\n');
            return out;
        }
        Format::Short => {
            for f in files {
                if let Some(e) = &f.result.load_error {
                    out.push_str(&failure_text(f, e, &[], style));
                }
                for (_, x) in failed_cases(f) {
                    out.push_str(&failure_text(f, x, &[], style));
                }
            }
        }
        Format::Human => {
            let mut names = Vec::new();
            let mut body = String::new();
            for f in files {
                if let Some(e) = &f.result.load_error {
                    body.push_str(&format!("---- {} ----\n", f.name));
                    body.push_str(&failure_text(f, e, &f.result.output, style));
                    names.push(f.name.clone());
                }
                for (c, x) in failed_cases(f) {
                    let n = case_name(&f.name, &c.name);
                    body.push_str(&format!("---- {n} ----\n"));
                    body.push_str(&failure_text(f, x, &c.output, style));
                    names.push(n);
                }
            }
            if !names.is_empty() {
                out.push_str("\nfailures:\n\n");
                out.push_str(&body);
                out.push_str("failures:\n");
                for n in names {
                    out.push_str(&format!("    {n}\n"));
                }
            }
        }
    }
    let notes: Vec<&String> = files.iter().flat_map(|f| &f.snapshot_notes).collect();
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            out.push_str(n);
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(&closing_line(&counts));
    out.push('\n');
    out
}

/// `3 passed, 1 failed` (`, 1 skipped`, `, 2 filtered out` when there are any).
pub fn closing_line(c: &Counts) -> String {
    let mut s = format!("{} passed, {} failed", c.passed, c.failed);
    if c.skipped > 0 {
        s.push_str(&format!(", {} skipped", c.skipped));
    }
    if c.filtered > 0 {
        s.push_str(&format!(", {} filtered out", c.filtered));
    }
    s
}

fn diagnostics_json(f: &FileReport, failure: &TestFailure) -> Vec<Value> {
    let mut v = vec![
        serde_json::to_value(JsonDiagnostic::new(
            &with_comparison(failure),
            &f.result.sources,
        ))
        .expect("diagnostics serialize"),
    ];
    for a in &failure.attached {
        for d in a.diagnostics.iter() {
            v.push(
                serde_json::to_value(JsonDiagnostic::new(d, &a.sources))
                    .expect("diagnostics serialize"),
            );
        }
    }
    v
}

/// The JSON Lines of one file: one object per case that ran (and one for a file that failed to load).
pub fn file_json(f: &FileReport) -> String {
    let mut out = String::new();
    let mut line = |v: Value| {
        out.push_str(&serde_json::to_string(&v).expect("json serializes"));
        out.push('\n');
    };
    if let Some(e) = &f.result.load_error {
        line(json!({
            "type": "test",
            "file": f.name,
            "name": Value::Null,
            "outcome": "failed",
            "diagnostics": diagnostics_json(f, e),
            "output": f.result.output,
        }));
    }
    for c in &f.result.cases {
        let mut o = json!({
            "type": "test",
            "file": f.name,
            "name": c.name,
        });
        match &c.outcome {
            Outcome::Passed => o["outcome"] = "passed".into(),
            Outcome::Skipped(r) => {
                o["outcome"] = "skipped".into();
                o["reason"] = r.clone().into();
            }
            Outcome::Failed(x) => {
                o["outcome"] = "failed".into();
                if let Some(cmp) = &x.comparison {
                    o["expected"] = cmp.expected.clone().into();
                    o["actual"] = cmp.actual.clone().into();
                }
                o["diagnostics"] = diagnostics_json(f, x).into();
                o["output"] = c.output.clone().into();
            }
            Outcome::Filtered => continue,
        }
        line(o);
    }
    out
}

fn summary_json(c: &Counts) -> String {
    serde_json::to_string(&json!({
        "type": "summary",
        "passed": c.passed,
        "failed": c.failed,
        "skipped": c.skipped,
        "filtered": c.filtered,
    }))
    .expect("json serializes")
}
