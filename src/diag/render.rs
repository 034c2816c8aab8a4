//! The one place that turns [`Diagnostic`]s into text.
//!
//! Three formats:
//!
//! - [`Format::Human`]: rustc-style reports rendered by annotate-snippets: the header
//!   `error[E004]: message`, the primary span underlined with its label, secondary spans (possibly in
//!   other files) with theirs, each call-trace frame as a snippet labelled with its note, then
//!   `= help:` / `= note:` lines and the field path. Plain ASCII unless `color` is set.
//! - [`Format::Short`]: one line per diagnostic, `file:line:col: error[E004]: message`.
//! - [`Format::Json`]: JSON Lines, one object per diagnostic with a fixed field order ([`JsonDiagnostic`]).
//!
//! Positions are 1-based; columns count characters (not bytes), like rustc and the Rhai positions
//! they come from.

use super::{Diagnostic, Severity};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use annotate_snippets::{Annotation, AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// rustc-like multi-line reports with source snippets.
    #[default]
    Human,
    /// One line per diagnostic.
    Short,
    /// JSON Lines: one object per diagnostic.
    Json,
}

/// Renders `diags` in order. Every diagnostic ends with a newline; in the human format each report is
/// followed by an empty line (as rustc does). `color` only affects [`Format::Human`].
///
/// Diagnostics with the same code, severity, message and place are shown once ([`super::group`]): the human form
/// ends with `note: and 999 more like this (in Pipeline/big at spec.tasks[*].…)`, the short form with
/// `(and 999 more like this)`, the JSON form has `more` and `more_path`.
pub fn render(diags: &[Diagnostic], sources: &SourceMap, format: Format, color: bool) -> String {
    let mut out = String::new();
    for d in &super::group(diags) {
        match format {
            Format::Human => {
                out.push_str(&render_human(d, sources, color));
                out.push_str("\n\n");
            }
            Format::Short => {
                out.push_str(&render_short(d, sources));
                out.push('\n');
            }
            Format::Json => {
                let json = serde_json::to_string(&JsonDiagnostic::new(d, sources))
                    .expect("a diagnostic always serializes");
                out.push_str(&json);
                out.push('\n');
            }
        }
    }
    out
}

/// The closing line, rustc/cargo style:
///
/// - `error: 2 errors, 1 warning emitted`
/// - `error: 1 error emitted`
/// - `warning: 3 warnings emitted`
/// - nothing (an empty string) when there are no diagnostics.
///
/// Ends with a newline when not empty.
pub fn render_summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, what: &str| {
        if n == 1 {
            format!("1 {what}")
        } else {
            format!("{n} {what}s")
        }
    };
    match (errors, warnings) {
        (0, 0) => String::new(),
        (0, w) => format!("warning: {} emitted\n", plural(w, "warning")),
        (e, 0) => format!("error: {} emitted\n", plural(e, "error")),
        (e, w) => format!(
            "error: {}, {} emitted\n",
            plural(e, "error"),
            plural(w, "warning")
        ),
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// `file:line:col: error[E004]: message` (no span: `error[E004]: message`). Newlines in the message are
/// folded into spaces so the line stays one line.
fn render_short(d: &Diagnostic, sources: &SourceMap) -> String {
    let message = escape_controls(&one_line(&d.message), false).into_owned();
    let more = match &d.more {
        Some(m) => format!(" (and {} more like this)", m.count),
        None => String::new(),
    };
    let head = format!("{}[{}]: {message}{more}", severity_name(d.severity), d.code);
    match d.span {
        Some(span) => format!("{}: {head}", sources.location(span)),
        None => head,
    }
}

/// `text` with control characters written as escapes (`\u{1b}`, `\r`), so that a script cannot
/// send terminal escape sequences through its messages. Newlines are kept when `keep_newlines`.
pub fn escape_controls(text: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let keep = |c: char| c == '\t' || (keep_newlines && c == '\n');
    if !text.chars().any(|c| c.is_control() && !keep(c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && !keep(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn one_line(s: &str) -> String {
    if s.contains('\n') {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        s.to_string()
    }
}

/// Clamps a span to the text and to character boundaries (start rounded down, end rounded up).
fn clamp(text: &str, span: Span) -> Range<usize> {
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = span.end.clamp(start, text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// Byte range of the whole lines containing `range` (without the final line break).
fn line_range(text: &str, range: &Range<usize>) -> Range<usize> {
    let start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[range.end..]
        .find('\n')
        .map_or(text.len(), |i| range.end + i);
    start..end
}

/// One source snippet: the lines of one file covered by some annotations, cut out of the file so the
/// renderer never scans more than it shows.
struct Cut<'a> {
    id: FileId,
    file: &'a SourceFile,
    /// (kind, byte range in the file, label)
    marks: Vec<(AnnotationKind, Range<usize>, Option<&'a str>)>,
}

impl<'a> Cut<'a> {
    fn new(sources: &'a SourceMap, id: FileId) -> Cut<'a> {
        Cut {
            id,
            file: sources.get(id),
            marks: Vec::new(),
        }
    }

    fn mark(&mut self, kind: AnnotationKind, span: Span, label: Option<&'a str>) {
        let range = clamp(&self.file.text, span);
        self.marks.push((kind, range, label));
    }

    fn snippet(&self) -> Snippet<'a, Annotation<'a>> {
        let text = self.file.text.as_str();
        let mut lines: Option<Range<usize>> = None;
        for (_, r, _) in &self.marks {
            let l = line_range(text, r);
            lines = Some(match lines {
                None => l,
                Some(acc) => acc.start.min(l.start)..acc.end.max(l.end),
            });
        }
        let lines = lines.unwrap_or(0..0);
        let (line_start, _) = self.file.line_col(lines.start);
        let mut snippet = Snippet::source(&text[lines.clone()])
            .line_start(line_start)
            .path(self.file.name.as_str());
        for (kind, r, label) in &self.marks {
            let a = kind.span(r.start - lines.start..r.end - lines.start);
            snippet = snippet.annotation(match label {
                Some(l) => a.label(*l),
                None => a,
            });
        }
        snippet
    }
}

/// Index of the snippet for `file` in `cuts`, added at the end when missing.
fn cut_for<'a>(cuts: &mut Vec<Cut<'a>>, sources: &'a SourceMap, file: FileId) -> usize {
    match cuts.iter().position(|c| c.id == file) {
        Some(i) => i,
        None => {
            cuts.push(Cut::new(sources, file));
            cuts.len() - 1
        }
    }
}

/// The text of the field-path note: `Pipeline/ci: spec.tasks[1]` becomes
/// `in Pipeline/ci at spec.tasks[1]`; a path without an object part becomes `at spec.tasks[1]`.
fn path_note(path: &str) -> String {
    match path.split_once(": ") {
        Some((object, field)) => format!("in {object} at {field}"),
        None => format!("at {path}"),
    }
}

/// `and 999 more like this (in Pipeline/big at spec.tasks[*].image)`.
fn more_note(m: &super::More) -> String {
    match &m.path {
        Some(p) => format!("and {} more like this ({})", m.count, path_note(p)),
        None => format!("and {} more like this", m.count),
    }
}

fn render_human(d: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level.primary_title(d.message.as_str()).id(d.code.id);

    // The primary span and the secondary spans in the same file share one snippet (primary file
    // first); secondary spans in other files get one snippet per file, in order of appearance.
    let mut cuts: Vec<Cut<'_>> = Vec::new();
    if let Some(span) = d.span {
        let i = cut_for(&mut cuts, sources, span.file);
        cuts[i].mark(AnnotationKind::Primary, span, d.label.as_deref());
    }
    for (span, label) in &d.secondary {
        let i = cut_for(&mut cuts, sources, span.file);
        cuts[i].mark(AnnotationKind::Context, *span, Some(label.as_str()));
    }
    // Each trace frame is its own snippet, innermost call first.
    for frame in &d.trace {
        let mut cut = Cut::new(sources, frame.span.file);
        cut.mark(
            AnnotationKind::Context,
            frame.span,
            Some(frame.note.as_str()),
        );
        cuts.push(cut);
    }

    let mut group = Group::with_title(title);
    for cut in &cuts {
        group = group.element(cut.snippet());
    }
    // A label with no span to hang on still says something: show it as a note.
    if d.span.is_none()
        && let Some(label) = &d.label
    {
        group = group.element(Level::NOTE.message(label.as_str()));
    }
    let path = d.path.as_deref().map(path_note);
    let more = d.more.as_ref().map(more_note);
    for note in d
        .notes
        .iter()
        .map(String::as_str)
        .chain(path.as_deref())
        .chain(more.as_deref())
    {
        group = group.element(Level::NOTE.message(note));
    }
    for help in &d.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }

    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.render(&[group])
}

/// The JSON form of one diagnostic (one line of `--format json`). Positions are 1-based; columns count
/// characters; `end_line`/`end_column` is the position just after the span. Fields that are unknown
/// are `null`; list fields are always present (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsonDiagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub label: Option<String>,
    pub help: Vec<String>,
    pub notes: Vec<String>,
    pub path: Option<String>,
    pub trace: Vec<JsonFrame>,
    /// Secondary spans with their labels.
    pub secondary: Vec<JsonLabel>,
    /// How many more diagnostics with the same code, severity, message and place were folded into this one.
    pub more: usize,
    /// Their field paths, indices that differ replaced by `*` (null when they differ otherwise, or none).
    pub more_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsonFrame {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsonLabel {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub label: String,
}

impl JsonDiagnostic {
    pub fn new(d: &Diagnostic, sources: &SourceMap) -> JsonDiagnostic {
        let pos = |span: Span| {
            let f = sources.get(span.file);
            let (line, column) = f.line_col(span.start);
            let (end_line, end_column) = f.line_col(span.end);
            (f.name.clone(), line, column, end_line, end_column)
        };
        let (file, line, column, end_line, end_column) = match d.span.map(pos) {
            Some((f, l, c, el, ec)) => (Some(f), Some(l), Some(c), Some(el), Some(ec)),
            None => (None, None, None, None, None),
        };
        JsonDiagnostic {
            severity: d.severity,
            code: d.code.id,
            message: d.message.clone(),
            file,
            line,
            column,
            end_line,
            end_column,
            label: d.label.clone(),
            help: d.help.clone(),
            notes: d.notes.clone(),
            path: d.path.clone(),
            trace: d
                .trace
                .iter()
                .map(|fr| {
                    let (file, line, column, _, _) = pos(fr.span);
                    JsonFrame {
                        file,
                        line,
                        column,
                        note: fr.note.clone(),
                    }
                })
                .collect(),
            secondary: d
                .secondary
                .iter()
                .map(|(span, label)| {
                    let (file, line, column, end_line, end_column) = pos(*span);
                    JsonLabel {
                        file,
                        line,
                        column,
                        end_line,
                        end_column,
                        label: label.clone(),
                    }
                })
                .collect(),
            more: d.more.as_ref().map_or(0, |m| m.count),
            more_path: d.more.as_ref().and_then(|m| m.path.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Frame;
    use crate::diag::codes;

    /// Span of the `nth` (0-based) occurrence of `needle` in file `id`.
    fn find(map: &SourceMap, id: FileId, needle: &str, nth: usize) -> Span {
        let text = &map.get(id).text;
        let start = text
            .match_indices(needle)
            .nth(nth)
            .unwrap_or_else(|| panic!("{needle:?} not found"))
            .0;
        Span::new(id, start, start + needle.len())
    }

    const CI: &str = r#"import "git" as git;

let p = pipeline("ci");
let t = task("build").step("go", "golang:1.23", "go build ./...");
p.task("build", t, #{ runafter: ["checkout"] });
let src = git::clone(p, "https://example.com/repo.git");
emit(p);
"#;

    const GIT: &str = r#"// <stdlib>/git.rhai
fn clone(p, url) {
    check_url(url);
    p.task("checkout", task("git-clone"), #{ params: #{ url: url } })
}

fn check_url(url) {
    if !url.starts_with("https://") { throw "only https URLs are supported"; }
    throw `cannot clone ${url}: the git module needs a revision`;
}
"#;

    fn sources() -> (SourceMap, FileId, FileId) {
        let mut map = SourceMap::new();
        let ci = map.add("ci.rhai", CI);
        let git = map.add("<stdlib>/git.rhai", GIT);
        (map, ci, git)
    }

    fn unknown_field(map: &SourceMap, ci: FileId) -> Diagnostic {
        Diagnostic::error(
            codes::E004,
            "unknown field `runafter` in pipeline task options",
        )
        .at(Some(find(map, ci, "runafter", 0)))
        .label("unknown field")
        .help("did you mean `runAfter`?")
        .path("Pipeline/ci: spec.tasks[0]")
    }

    fn human(d: &Diagnostic, map: &SourceMap) -> String {
        render(std::slice::from_ref(d), map, Format::Human, false)
    }

    #[test]
    fn simple_error_with_label_and_help() {
        let (map, ci, _) = sources();
        insta::assert_snapshot!(human(&unknown_field(&map, ci), &map));
    }

    #[test]
    fn warning() {
        let (map, ci, _) = sources();
        let d = Diagnostic::warning(
            codes::E010,
            "step image `golang:1.23` is not pinned to a digest",
        )
        .at(Some(find(&map, ci, "\"golang:1.23\"", 0)))
        .label("mutable tag")
        .note("a tag can point at a different image tomorrow");
        insta::assert_snapshot!(human(&d, &map));
    }

    #[test]
    fn multi_byte_text_before_the_span() {
        let mut map = SourceMap::new();
        let id = map.add(
            "ünïcode.rhai",
            "let größe = \"漢字☃\"; let x = größe.lenn();\n",
        );
        let d = Diagnostic::error(codes::E002, "unknown function `lenn`")
            .at(Some(find(&map, id, "lenn", 0)))
            .label("no function `lenn` for a string")
            .help("did you mean `len`?");
        let out = human(&d, &map);
        // `lenn` starts at character 34 although it is at byte 43.
        assert!(out.contains("--> ünïcode.rhai:1:34"), "{out}");
        assert_eq!(
            render(std::slice::from_ref(&d), &map, Format::Short, false),
            "ünïcode.rhai:1:34: error[E002]: unknown function `lenn`\n"
        );
        insta::assert_snapshot!(out);
    }

    #[test]
    fn span_over_two_lines() {
        let mut map = SourceMap::new();
        let id = map.add(
            "multi.rhai",
            "let p = pipeline(\"ci\");\nlet s = `echo one\necho two`;\np.finally(s, 3);\n",
        );
        let start = map.get(id).text.find('`').unwrap();
        let end = map.get(id).text.rfind('`').unwrap() + 1;
        let d = Diagnostic::error(codes::E003, "expected a task, found a string")
            .at(Some(Span::new(id, start, end)))
            .label("this string")
            .secondary(
                Some(find(&map, id, "p.finally(s, 3)", 0)),
                "used as a task here",
            );
        insta::assert_snapshot!(human(&d, &map));
    }

    #[test]
    fn secondary_label_in_a_second_file() {
        let (map, ci, git) = sources();
        let d = Diagnostic::error(codes::E011, "two different tasks are called `checkout`")
            .at(Some(find(
                &map,
                ci,
                "git::clone(p, \"https://example.com/repo.git\")",
                0,
            )))
            .label("the second `checkout` is added here")
            .secondary(
                Some(find(
                    &map,
                    git,
                    "p.task(\"checkout\", task(\"git-clone\"), #{ params: #{ url: url } })",
                    0,
                )),
                "the first `checkout` was added here",
            )
            .help("give one of them another name");
        insta::assert_snapshot!(human(&d, &map));
    }

    fn thrown_in_stdlib(map: &SourceMap, ci: FileId, git: FileId) -> Diagnostic {
        Diagnostic::error(
            codes::E006,
            "cannot clone https://example.com/repo.git: the git module needs a revision",
        )
        .at(Some(find(map, git, "throw", 1)))
        .label("thrown here")
        .with_trace(vec![
            Frame {
                span: find(map, git, "check_url(url)", 0),
                note: "in call to `check_url`".into(),
            },
            Frame {
                span: find(
                    map,
                    ci,
                    "git::clone(p, \"https://example.com/repo.git\")",
                    0,
                ),
                note: "in call to `git::clone`".into(),
            },
        ])
        .help("pass a revision: `git::clone(p, url, \"main\")`")
    }

    #[test]
    fn two_frame_trace_into_stdlib() {
        let (map, ci, git) = sources();
        insta::assert_snapshot!(human(&thrown_in_stdlib(&map, ci, git), &map));
    }

    #[test]
    fn no_span() {
        let (map, _, _) = sources();
        let d = Diagnostic::error(codes::E012, "nothing was emitted")
            .help("call `emit(p)` for each pipeline or task that should be written");
        let out = human(&d, &map);
        assert_eq!(
            render(&[d], &map, Format::Short, false),
            "error[E012]: nothing was emitted\n"
        );
        insta::assert_snapshot!(out);
    }

    #[test]
    fn short_form() {
        let (map, ci, git) = sources();
        let ds = [
            unknown_field(&map, ci),
            thrown_in_stdlib(&map, ci, git),
            Diagnostic::warning(codes::E010, "two lines\nof message")
                .at(Some(find(&map, ci, "emit", 0))),
            Diagnostic::error(codes::E014, "`--set` needs `key=value`, got `env`"),
        ];
        insta::assert_snapshot!(render(&ds, &map, Format::Short, false), @r"
        ci.rhai:5:23: error[E004]: unknown field `runafter` in pipeline task options
        <stdlib>/git.rhai:9:5: error[E006]: cannot clone https://example.com/repo.git: the git module needs a revision
        ci.rhai:7:1: warning[E010]: two lines of message
        error[E014]: `--set` needs `key=value`, got `env`
        ");
    }

    #[test]
    fn json_form() {
        let (map, ci, git) = sources();
        let ds = [
            unknown_field(&map, ci),
            thrown_in_stdlib(&map, ci, git),
            Diagnostic::error(codes::E012, "nothing was emitted"),
        ];
        let out = render(&ds, &map, Format::Json, false);
        for line in out.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
            let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                [
                    "severity",
                    "code",
                    "message",
                    "file",
                    "line",
                    "column",
                    "end_line",
                    "end_column",
                    "label",
                    "help",
                    "notes",
                    "path",
                    "trace",
                    "secondary",
                    "more",
                    "more_path"
                ]
            );
        }
        insta::assert_snapshot!(out);
    }

    #[test]
    fn color_uses_ansi_styles() {
        let (map, ci, _) = sources();
        let d = unknown_field(&map, ci);
        let plain = render(std::slice::from_ref(&d), &map, Format::Human, false);
        let styled = render(std::slice::from_ref(&d), &map, Format::Human, true);
        assert!(!plain.contains('\x1b'));
        assert!(styled.contains("\x1b["));
        assert!(plain.is_ascii() || plain.contains("ünï"));
    }

    #[test]
    fn spans_out_of_range_or_inside_a_character_do_not_panic() {
        let mut map = SourceMap::new();
        let id = map.add("x.rhai", "a = \"é\";");
        for (s, e) in [(5, 6), (6, 6), (100, 200), (0, 100), (8, 8)] {
            let d = Diagnostic::error(codes::E001, "x").at(Some(Span::new(id, s, e)));
            let _ = render(&[d], &map, Format::Human, false);
        }
        let empty = map.add("empty.rhai", "");
        let d = Diagnostic::error(codes::E001, "unexpected end of file")
            .at(Some(Span::new(empty, 0, 0)));
        let out = render(&[d], &map, Format::Human, false);
        assert!(out.contains("empty.rhai:1:1"), "{out}");
    }

    #[test]
    fn summary() {
        let e = || Diagnostic::error(codes::E001, "x");
        let w = || Diagnostic::warning(codes::E010, "y");
        assert_eq!(render_summary(&[]), "");
        assert_eq!(render_summary(&[w()]), "warning: 1 warning emitted\n");
        assert_eq!(render_summary(&[w(), w()]), "warning: 2 warnings emitted\n");
        assert_eq!(render_summary(&[e()]), "error: 1 error emitted\n");
        assert_eq!(
            render_summary(&[e(), w(), e()]),
            "error: 2 errors, 1 warning emitted\n"
        );
        assert_eq!(
            render_summary(&[e(), e(), w(), w()]),
            "error: 2 errors, 2 warnings emitted\n"
        );
    }
}
