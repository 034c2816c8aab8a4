//! Tekton `$(…)` expressions: finding them in a string and parsing what they name.
//!
//! Used by `validate` (every string of every object), by import, and by the script layer. Pure: no
//! rhai, no model.
//!
//! # What counts as a reference
//!
//! [`find_refs`] reports **every** `$(` in a string, classified by what follows it:
//!
//! - **Tekton variables**: the text right after `$(` is one of Tekton's prefixes ([`PREFIXES`]:
//!   `params`, `tasks`, `finally`, `results`, `step`, `steps`, `workspaces`, `context`,
//!   `credentials`, `artifacts`) followed by `.`, `[` or `)`. Like Tekton's own regular expressions,
//!   such a reference ends at the first `)` (a `)` inside `['…']`/`["…"]` does not count) on the same
//!   line. It parses to a [`Var`] or to an [`ExprError`] whose message can go straight into a
//!   diagnostic (`$(params.a.b.c)`, `$(tasks.t)`, `$(workspaces.w.pth)`, …).
//! - **[`Var::Unknown`]**: anything else shaped like a variable (`[_a-zA-Z0-9.-]+`, optionally
//!   followed by `[N]` or `[*]`): `$(date)`, `$(HOME)`, `$(inputs.params.x)`. Tekton leaves them alone
//!   in a Task — in `command`/`args` the kubelet later expands `$(VAR)` from the container's
//!   environment — but rejects them in pipeline-task `params`/`when`/`matrix` values ("invalid variable
//!   reference … must start with a valid prefix"). The caller decides.
//! - **[`Var::Shell`]**: anything else, e.g. shell command substitution `$(git rev-parse HEAD)`. It
//!   extends to the *balanced* closing parenthesis (quotes are not interpreted). Tekton never looks at
//!   these; they are reported so that a caller can, for instance, warn about a shell `$(…)` in a
//!   pipeline-task param.
//! - **[`Var::KubeletEscape`]**: `$$(X)` where `X` is not a Tekton variable. The kubelet turns `$$` into
//!   `$`, so the container sees a literal `$(X)`. The reference starts at the first `$`.
//!
//! Tekton itself has no escaping: `$$(params.a)` is still substituted (the result is `$` followed by the
//! value), so it is reported as the Tekton reference `$(params.a)` starting at the second `$`.
//!
//! Every `$(` is examined on its own, so references nested in a shell form are found too:
//! `$(echo $(params.a))` yields the shell form over the whole text *and* `$(params.a)` inside it.
//! References are returned in order of their start offset; only shell forms (and malformed Tekton
//! references) can overlap others. Use [`Reference::is_tekton`] to keep only Tekton references.
//!
//! A `$(` with no closing `)` is reported with [`ExprErrorKind::Unclosed`] (its range runs to the end
//! of the line for a Tekton prefix, to the end of the string otherwise). Tekton ignores such text; a
//! validator will usually report it only when [`ExprError::prefix`] is set.

use crate::diag::suggest::did_you_mean;
use std::fmt;
use std::ops::Range;

/// The first components that make a `$(…)` a Tekton variable.
pub const PREFIXES: &[&str] = &[
    "params",
    "tasks",
    "finally",
    "results",
    "step",
    "steps",
    "workspaces",
    "context",
    "credentials",
    "artifacts",
];

/// One `$(…)` occurrence in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Byte offset of the `$` (of the first `$` for a [`Var::KubeletEscape`]).
    pub start: usize,
    /// Byte offset just after the closing `)` (the end of the line or string when unclosed).
    pub end: usize,
    /// The text between `$(` and `)`.
    pub inner: String,
    pub var: Result<Var, ExprError>,
}

impl Reference {
    /// The byte range of the whole reference, `$(` to `)`.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// True for references that start with a Tekton prefix, parsed or not.
    pub fn is_tekton(&self) -> bool {
        match &self.var {
            Ok(v) => v.is_tekton(),
            Err(e) => e.prefix.is_some(),
        }
    }
}

/// What follows a name: nothing, `[*]`, `[N]` or `.key`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Selector {
    /// `params.p`: the value itself.
    None,
    /// `params.p[*]`: the whole array or object.
    Star,
    /// `params.p[3]`: an array element.
    Index(usize),
    /// `params.p.key`: an object property.
    Key(String),
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::None => Ok(()),
            Selector::Star => f.write_str("[*]"),
            Selector::Index(i) => write!(f, "[{i}]"),
            Selector::Key(k) => write!(f, ".{k}"),
        }
    }
}

/// `workspaces.<w>.<attr>`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkspaceAttr {
    /// Mount path (`""` when optional and unbound).
    Path,
    /// `"true"` / `"false"`.
    Bound,
    /// PVC name (`""` for other sources).
    Claim,
    /// Volume name.
    Volume,
}

impl WorkspaceAttr {
    pub const ALL: [WorkspaceAttr; 4] = [
        WorkspaceAttr::Path,
        WorkspaceAttr::Bound,
        WorkspaceAttr::Claim,
        WorkspaceAttr::Volume,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceAttr::Path => "path",
            WorkspaceAttr::Bound => "bound",
            WorkspaceAttr::Claim => "claim",
            WorkspaceAttr::Volume => "volume",
        }
    }
}

/// `inputs` or `outputs` of artifacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArtifactDir {
    Inputs,
    Outputs,
}

impl ArtifactDir {
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactDir::Inputs => "inputs",
            ArtifactDir::Outputs => "outputs",
        }
    }
}

/// The object a `context.…` variable describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContextScope {
    /// `context.taskRun.{name,namespace,uid}` (in a Task)
    TaskRun,
    /// `context.task.{name,retry-count}` (in a Task)
    Task,
    /// `context.pipelineRun.{name,namespace,uid}` (in a Pipeline)
    PipelineRun,
    /// `context.pipeline.name` (in a Pipeline)
    Pipeline,
    /// `context.pipelineTask.retries` (in a Pipeline)
    PipelineTask,
}

impl ContextScope {
    pub const ALL: [ContextScope; 5] = [
        ContextScope::TaskRun,
        ContextScope::Task,
        ContextScope::PipelineRun,
        ContextScope::Pipeline,
        ContextScope::PipelineTask,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContextScope::TaskRun => "taskRun",
            ContextScope::Task => "task",
            ContextScope::PipelineRun => "pipelineRun",
            ContextScope::Pipeline => "pipeline",
            ContextScope::PipelineTask => "pipelineTask",
        }
    }

    /// The fields Tekton substitutes for this scope.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            ContextScope::TaskRun | ContextScope::PipelineRun => &["name", "namespace", "uid"],
            ContextScope::Task => &["name", "retry-count"],
            ContextScope::Pipeline => &["name"],
            ContextScope::PipelineTask => &["retries"],
        }
    }

    /// True for the scopes available inside a Task (`taskRun`, `task`).
    pub fn in_task(self) -> bool {
        matches!(self, ContextScope::TaskRun | ContextScope::Task)
    }
}

/// What a `$(…)` names. See tekton-api.md §4.1 (Task) and §4.2 (Pipeline).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Var {
    /// `params.p`, `params.p[*]`, `params.p[0]`, `params.obj.key`, `params['a.b']`, `params["a.b"][*]`
    Params { name: String, sel: Selector },
    /// `tasks.t.results.r`, `…r[0]`, `…r[*]`, `…r.key`
    TaskResult {
        task: String,
        result: String,
        sel: Selector,
    },
    /// `finally.t.results.r` (+ selectors): pipeline results only
    FinallyResult {
        task: String,
        result: String,
        sel: Selector,
    },
    /// `tasks.t.status` (finally only)
    TaskStatus(String),
    /// `tasks.t.reason` (finally only)
    TaskReason(String),
    /// `tasks.status`: aggregate status of the DAG tasks (finally only)
    TasksStatus,
    /// `tasks.t.matrix.length`
    MatrixLength(String),
    /// `tasks.t.matrix.r.length`
    MatrixResultLength { task: String, result: String },
    /// `tasks.t.inputs.a` / `tasks.t.outputs.a` (alpha `enable-artifacts`)
    TaskArtifact {
        task: String,
        dir: ArtifactDir,
        name: String,
    },
    /// `results.r.path`, `results['r'].path`: the file to write a task result to
    ResultPath(String),
    /// `step.results.r.path`, `step.results['r'].path`: the step-local result file
    StepResultPath(String),
    /// `steps.s.results.r` (+ selectors): a previous step's result
    StepResult {
        step: String,
        result: String,
        sel: Selector,
    },
    /// `steps.<step>.exitCode.path` (the step is written `step-<name>` / `step-unnamed-<i>`)
    StepExitCodePath(String),
    /// `steps.s.inputs.a` / `steps.s.outputs.a` (alpha `enable-artifacts`)
    StepArtifact {
        step: String,
        dir: ArtifactDir,
        name: String,
    },
    /// `artifacts.path` (alpha)
    ArtifactsPath,
    /// `step.artifacts.path` (alpha)
    StepArtifactsPath,
    /// `workspaces.w.path|bound|claim|volume`
    Workspace { name: String, attr: WorkspaceAttr },
    /// `context.taskRun.name`, `context.task.retry-count`, `context.pipelineRun.uid`, …
    Context { scope: ContextScope, field: String },
    /// `credentials.path`
    CredentialsPath,
    /// Shaped like a variable but without a Tekton prefix: `$(date)`, `$(HOME)`. The kubelet expands
    /// `$(VAR)` in `command`/`args` from the container environment; Tekton rejects these in
    /// pipeline-task params/when/matrix. Holds the inner text.
    Unknown(String),
    /// Not a variable at all, e.g. shell command substitution `$(git rev-parse HEAD)`. Holds the inner
    /// text.
    Shell(String),
    /// `$$(X)`: a kubelet escape, the container sees a literal `$(X)`. Holds `X`.
    KubeletEscape(String),
}

impl Var {
    /// The Tekton prefix (`params`, `tasks`, `finally`, `results`, `step`, `steps`, `workspaces`,
    /// `context`, `credentials`, `artifacts`); `None` for [`Var::Unknown`], [`Var::Shell`] and
    /// [`Var::KubeletEscape`].
    pub fn prefix(&self) -> Option<&'static str> {
        Some(match self {
            Var::Params { .. } => "params",
            Var::TaskResult { .. }
            | Var::TaskStatus(_)
            | Var::TaskReason(_)
            | Var::TasksStatus
            | Var::MatrixLength(_)
            | Var::MatrixResultLength { .. }
            | Var::TaskArtifact { .. } => "tasks",
            Var::FinallyResult { .. } => "finally",
            Var::ResultPath(_) => "results",
            Var::StepResultPath(_) | Var::StepArtifactsPath => "step",
            Var::StepResult { .. } | Var::StepExitCodePath(_) | Var::StepArtifact { .. } => "steps",
            Var::ArtifactsPath => "artifacts",
            Var::Workspace { .. } => "workspaces",
            Var::Context { .. } => "context",
            Var::CredentialsPath => "credentials",
            Var::Unknown(_) | Var::Shell(_) | Var::KubeletEscape(_) => return None,
        })
    }

    /// True for Tekton variables (everything but [`Var::Unknown`], [`Var::Shell`],
    /// [`Var::KubeletEscape`]).
    pub fn is_tekton(&self) -> bool {
        self.prefix().is_some()
    }

    /// The pipeline task this variable refers to (`tasks.<t>.…`, `finally.<t>.…`), if any.
    pub fn task(&self) -> Option<&str> {
        match self {
            Var::TaskResult { task, .. }
            | Var::FinallyResult { task, .. }
            | Var::MatrixResultLength { task, .. }
            | Var::TaskArtifact { task, .. }
            | Var::TaskStatus(task)
            | Var::TaskReason(task)
            | Var::MatrixLength(task) => Some(task),
            _ => None,
        }
    }

    /// The canonical text between `$(` and `)`: dot form, brackets only for names that need them
    /// (`params['a.b']`). For [`Var::Unknown`], [`Var::Shell`] and [`Var::KubeletEscape`], the text as
    /// written.
    pub fn to_inner(&self) -> String {
        match self {
            Var::Params { name, sel } => format!("params{}{sel}", seg(name)),
            Var::TaskResult { task, result, sel } => {
                format!("tasks.{task}.results.{result}{sel}")
            }
            Var::FinallyResult { task, result, sel } => {
                format!("finally.{task}.results.{result}{sel}")
            }
            Var::TaskStatus(t) => format!("tasks.{t}.status"),
            Var::TaskReason(t) => format!("tasks.{t}.reason"),
            Var::TasksStatus => "tasks.status".into(),
            Var::MatrixLength(t) => format!("tasks.{t}.matrix.length"),
            Var::MatrixResultLength { task, result } => {
                format!("tasks.{task}.matrix.{result}.length")
            }
            Var::TaskArtifact { task, dir, name } => {
                format!("tasks.{task}.{}.{name}", dir.as_str())
            }
            Var::ResultPath(r) => format!("results{}.path", seg(r)),
            Var::StepResultPath(r) => format!("step.results{}.path", seg(r)),
            Var::StepResult { step, result, sel } => {
                format!("steps.{step}.results.{result}{sel}")
            }
            Var::StepExitCodePath(s) => format!("steps.{s}.exitCode.path"),
            Var::StepArtifact { step, dir, name } => {
                format!("steps.{step}.{}.{name}", dir.as_str())
            }
            Var::ArtifactsPath => "artifacts.path".into(),
            Var::StepArtifactsPath => "step.artifacts.path".into(),
            Var::Workspace { name, attr } => format!("workspaces.{name}.{}", attr.as_str()),
            Var::Context { scope, field } => format!("context.{}.{field}", scope.as_str()),
            Var::CredentialsPath => "credentials.path".into(),
            Var::Unknown(s) | Var::Shell(s) | Var::KubeletEscape(s) => s.clone(),
        }
    }
}

/// `$(…)` in canonical form (`$$(…)` for a kubelet escape).
impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Var::KubeletEscape(_) = self {
            f.write_str("$")?;
        }
        write!(f, "$({})", self.to_inner())
    }
}

/// `.name`, or `['name']` when the name cannot be written in dot form.
fn seg(name: &str) -> String {
    if !name.is_empty() && name.bytes().all(is_name_byte) {
        format!(".{name}")
    } else if name.contains('\'') {
        format!("[\"{name}\"]")
    } else {
        format!("['{name}']")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExprErrorKind {
    /// `$(` without a closing `)`.
    Unclosed,
    /// A Tekton prefix followed by something that is not one of its forms.
    Malformed,
}

/// Why a `$(…)` is not a valid Tekton variable. `message` is a complete sentence fragment for a
/// diagnostic (lower case, no full stop), e.g. `only two dot-separated components after the prefix
/// "params" are allowed; …`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    pub kind: ExprErrorKind,
    /// The Tekton prefix the expression starts with; `None` for an unclosed `$(` that does not start
    /// with one (most likely shell text, which Tekton ignores).
    pub prefix: Option<&'static str>,
    pub message: String,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Every `$(…)` in `s`, in order of start offset. See the module documentation for the
/// classification and for nesting.
pub fn find_refs(s: &str) -> Vec<Reference> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(off) = s[from..].find("$(") {
        let dollar = from + off;
        let body = dollar + 2;
        from = body;

        let ident_len = bytes[body..]
            .iter()
            .take_while(|b| is_name_byte(**b))
            .count();
        let ident = &s[body..body + ident_len];
        let prefix = PREFIXES.iter().copied().find(|p| *p == ident).filter(|_| {
            matches!(
                bytes.get(body + ident_len),
                None | Some(b'.' | b'[' | b')' | b'\n')
            )
        });
        // An odd number of `$` before `$(` escapes it for the kubelet (`$$(X)` → literal `$(X)`).
        let dollars_before = bytes[..dollar]
            .iter()
            .rev()
            .take_while(|b| **b == b'$')
            .count();
        let escaped = prefix.is_none() && dollars_before % 2 == 1;
        let start = if escaped { dollar - 1 } else { dollar };

        let close = if prefix.is_some() {
            close_tekton(s, body)
        } else {
            close_balanced(s, body)
        };
        let reference = match close {
            Ok(close) => {
                let inner = &s[body..close];
                let var = match prefix {
                    Some(p) => parse_prefixed(p, inner),
                    None if escaped => Ok(Var::KubeletEscape(inner.to_string())),
                    None => Ok(classify_other(inner)),
                };
                Reference {
                    start,
                    end: close + 1,
                    inner: inner.to_string(),
                    var,
                }
            }
            Err(end) => {
                let inner = &s[body..end];
                Reference {
                    start,
                    end,
                    inner: inner.to_string(),
                    var: Err(ExprError {
                        kind: ExprErrorKind::Unclosed,
                        prefix,
                        message: format!(
                            "`$({}` has no closing `)`",
                            inner.chars().take(40).collect::<String>()
                        ),
                    }),
                }
            }
        };
        out.push(reference);
    }
    out
}

/// The offset of the `)` closing a Tekton reference whose inner text starts at `body`: the first `)`
/// outside `['…']`/`["…"]` on the same line. `Err(end of line or string)` when there is none.
fn close_tekton(s: &str, body: usize) -> Result<usize, usize> {
    let bytes = s.as_bytes();
    let mut i = body;
    while i < bytes.len() {
        match bytes[i] {
            b')' => return Ok(i),
            b'\n' => return Err(i),
            b'[' if matches!(bytes.get(i + 1), Some(b'\'' | b'"')) => {
                let q = bytes[i + 1];
                match bytes[i + 2..].iter().position(|b| *b == q || *b == b'\n') {
                    Some(p) if bytes[i + 2 + p] == q => i += 2 + p + 1,
                    // An unterminated quote: fall back to the first `)`.
                    _ => i += 2,
                }
            }
            _ => i += 1,
        }
    }
    Err(bytes.len())
}

/// The offset of the `)` balancing the `(` just before `body`. `Err(end of string)` when unbalanced.
fn close_balanced(s: &str, body: usize) -> Result<usize, usize> {
    let mut depth = 1usize;
    for (i, b) in s.bytes().enumerate().skip(body) {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {}
        }
    }
    Err(s.len())
}

/// `Unknown` when shaped like Tekton's generic variable regex
/// (`[_a-zA-Z0-9.-]+(\[([0-9]+|\*)\])?`), `Shell` otherwise.
fn classify_other(inner: &str) -> Var {
    let (name, index) = match inner.find('[') {
        Some(i) => (&inner[..i], Some(&inner[i..])),
        None => (inner, None),
    };
    let name_ok = !name.is_empty() && name.bytes().all(|b| is_name_byte(b) || b == b'.');
    let index_ok = match index {
        None => true,
        Some(ix) => {
            ix.len() >= 3 && ix.ends_with(']') && {
                let d = &ix[1..ix.len() - 1];
                d == "*" || d.bytes().all(|b| b.is_ascii_digit())
            }
        }
    };
    if name_ok && index_ok {
        Var::Unknown(inner.to_string())
    } else {
        Var::Shell(inner.to_string())
    }
}

/// Parses the text between `$(` and `)`.
///
/// Text that starts with a Tekton prefix must be one of that prefix's forms; other text is
/// [`Var::Unknown`] or [`Var::Shell`]. (A kubelet escape is only recognisable in context: see
/// [`find_refs`].)
pub fn parse(inner: &str) -> Result<Var, ExprError> {
    let ident_len = inner.bytes().take_while(|b| is_name_byte(*b)).count();
    let ident = &inner[..ident_len];
    match PREFIXES.iter().copied().find(|p| *p == ident) {
        Some(p) if matches!(inner.as_bytes().get(ident_len), None | Some(b'.' | b'[')) => {
            parse_prefixed(p, inner)
        }
        _ => Ok(classify_other(inner)),
    }
}

/// Whether the whole of `s` is exactly one Tekton variable (Tekton's "properly isolated" rule for
/// array/object references): `"$(params.arr[*])"` is, `"x $(params.a)"`, `"$(params.a)$(params.b)"`,
/// `"$(date)"` and a malformed `"$(params.a.b.c)"` are not.
pub fn is_isolated(s: &str) -> bool {
    find_refs(s).first().is_some_and(|r| {
        r.start == 0 && r.end == s.len() && matches!(&r.var, Ok(v) if v.is_tekton())
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    /// `.name`
    Dot(&'a str),
    /// `['name']` or `["name"]`
    Quoted(&'a str),
    /// `[N]`
    Index(usize),
    /// `[*]`
    Star,
}

impl fmt::Display for Tok<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Dot(n) => write!(f, ".{n}"),
            Tok::Quoted(n) => write!(f, "['{n}']"),
            Tok::Index(i) => write!(f, "[{i}]"),
            Tok::Star => f.write_str("[*]"),
        }
    }
}

fn tokenize(rest: &str) -> Result<Vec<Tok<'_>>, String> {
    let bytes = rest.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                let len = bytes[i + 1..]
                    .iter()
                    .take_while(|b| is_name_byte(**b))
                    .count();
                if len == 0 {
                    return Err(match rest[i + 1..].chars().next() {
                        None => "expected a name after the last `.`".to_string(),
                        Some(c) => format!("unexpected {} after `.`", describe(c)),
                    });
                }
                toks.push(Tok::Dot(&rest[i + 1..i + 1 + len]));
                i += 1 + len;
            }
            b'[' => {
                let after = &rest[i + 1..];
                if let Some(q @ ('\'' | '"')) = after.chars().next() {
                    let Some(close) = after[1..].find(q) else {
                        return Err(format!("unclosed quote {q} in `[{q}…{q}]`"));
                    };
                    let name = &after[1..1 + close];
                    if name.is_empty() {
                        return Err("empty name in brackets".to_string());
                    }
                    if !after[1 + close + 1..].starts_with(']') {
                        return Err(format!("expected `]` after `[{q}{name}{q}`"));
                    }
                    toks.push(Tok::Quoted(name));
                    i += 1 + 1 + close + 1 + 1;
                } else if after.starts_with("*]") {
                    toks.push(Tok::Star);
                    i += 3;
                } else {
                    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                    if digits == 0 || !after[digits..].starts_with(']') {
                        return Err(
                            "expected `[*]`, an index like `[0]`, or a quoted name like `['a.b']`"
                                .to_string(),
                        );
                    }
                    let n = after[..digits]
                        .parse()
                        .map_err(|_| format!("index `{}` is too large", &after[..digits]))?;
                    toks.push(Tok::Index(n));
                    i += 1 + digits + 1;
                }
            }
            _ => {
                let c = rest[i..].chars().next().unwrap_or_default();
                return Err(format!("unexpected {}", describe(c)));
            }
        }
    }
    Ok(toks)
}

fn describe(c: char) -> String {
    match c {
        ' ' => "space".to_string(),
        '\t' => "tab".to_string(),
        '\n' => "line break".to_string(),
        c => format!("`{c}`"),
    }
}

fn malformed(prefix: &'static str, message: impl Into<String>) -> ExprError {
    ExprError {
        kind: ExprErrorKind::Malformed,
        prefix: Some(prefix),
        message: message.into(),
    }
}

/// ` (did you mean `x`?)` or nothing.
fn hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// The selector after a result or param name (`[]`, `[*]`, `[N]`, `.key`).
fn selector(toks: &[Tok<'_>], key_allowed: bool) -> Result<Selector, String> {
    match toks {
        [] => Ok(Selector::None),
        [Tok::Star] => Ok(Selector::Star),
        [Tok::Index(i)] => Ok(Selector::Index(*i)),
        [Tok::Dot(k)] if key_allowed => Ok(Selector::Key(k.to_string())),
        [Tok::Dot(_), Tok::Star | Tok::Index(_), ..] => {
            Err("an object property cannot be indexed".to_string())
        }
        [Tok::Star | Tok::Index(_), next, ..] => Err(format!("unexpected `{next}` after an index")),
        [first, ..] => Err(format!("unexpected `{first}`")),
    }
}

fn parse_prefixed(prefix: &'static str, inner: &str) -> Result<Var, ExprError> {
    let rest = &inner[prefix.len()..];
    let toks = tokenize(rest).map_err(|m| malformed(prefix, m))?;
    let err = |m: String| malformed(prefix, m);
    use Tok::{Dot, Quoted};
    match prefix {
        "params" => parse_params(&toks).map_err(err),
        "tasks" => parse_tasks(&toks).map_err(err),
        "finally" => match toks.as_slice() {
            [Dot(task), Dot("results"), Dot(result), sel @ ..] => Ok(Var::FinallyResult {
                task: task.to_string(),
                result: result.to_string(),
                sel: selector(sel, true).map_err(err)?,
            }),
            [Dot(_), Dot("results"), Quoted(_), ..] => Err(err(
                "write the result name in dot form, `finally.<task>.results.<result>`".into(),
            )),
            _ => Err(err(
                "expected `finally.<task>.results.<result>` (only pipeline results can read the results of finally tasks)"
                    .into(),
            )),
        },
        "results" => match toks.as_slice() {
            [Dot(r) | Quoted(r), Dot("path")] => Ok(Var::ResultPath(r.to_string())),
            [Dot(_) | Quoted(_)] => Err(err(
                "a task result is written to the file `$(results.<name>.path)`; `results.<name>` is not a variable"
                    .into(),
            )),
            _ => Err(err("expected `results.<name>.path`".into())),
        },
        "step" => match toks.as_slice() {
            [Dot("results"), Dot(r) | Quoted(r), Dot("path")] => {
                Ok(Var::StepResultPath(r.to_string()))
            }
            [Dot("artifacts"), Dot("path")] => Ok(Var::StepArtifactsPath),
            _ => Err(err(
                "expected `step.results.<name>.path` or `step.artifacts.path`".into(),
            )),
        },
        "steps" => match toks.as_slice() {
            [Dot(step), Dot("results"), Dot(result), sel @ ..] => Ok(Var::StepResult {
                step: step.to_string(),
                result: result.to_string(),
                sel: selector(sel, true).map_err(err)?,
            }),
            [Dot(_), Dot("results"), Quoted(_), ..] => Err(err(
                "write the result name in dot form, `steps.<step>.results.<result>`".into(),
            )),
            [Dot(step), Dot("exitCode"), Dot("path")] => {
                Ok(Var::StepExitCodePath(step.to_string()))
            }
            [Dot(step), Dot(dir @ ("inputs" | "outputs")), Dot(name)] => Ok(Var::StepArtifact {
                step: step.to_string(),
                dir: artifact_dir(dir),
                name: name.to_string(),
            }),
            _ => Err(err(
                "expected `steps.<step>.results.<result>`, `steps.<step>.exitCode.path` or `steps.<step>.inputs|outputs.<artifact>`"
                    .into(),
            )),
        },
        "workspaces" => match toks.as_slice() {
            [Dot(name), Dot(attr)] => match WorkspaceAttr::ALL.into_iter().find(|a| a.as_str() == *attr) {
                Some(attr) => Ok(Var::Workspace {
                    name: name.to_string(),
                    attr,
                }),
                None => Err(err(format!(
                    "a workspace has no attribute `{attr}`: expected path, bound, claim or volume{}",
                    hint(attr, WorkspaceAttr::ALL.map(WorkspaceAttr::as_str))
                ))),
            },
            _ => Err(err(
                "expected `workspaces.<name>.path`, `.bound`, `.claim` or `.volume`".into(),
            )),
        },
        "context" => match toks.as_slice() {
            [Dot(scope), Dot(field)] => {
                let Some(sc) = ContextScope::ALL.into_iter().find(|s| s.as_str() == *scope) else {
                    return Err(err(format!(
                        "unknown context `context.{scope}`: expected taskRun, task, pipelineRun, pipeline or pipelineTask{}",
                        hint(scope, ContextScope::ALL.map(ContextScope::as_str))
                    )));
                };
                if !sc.fields().contains(field) {
                    return Err(err(format!(
                        "unknown context variable `context.{scope}.{field}`: `context.{scope}` has {}{}",
                        sc.fields().join(", "),
                        hint(field, sc.fields().iter().copied())
                    )));
                }
                Ok(Var::Context {
                    scope: sc,
                    field: field.to_string(),
                })
            }
            _ => Err(err(
                "expected `context.<scope>.<field>`, e.g. `context.taskRun.name` or `context.pipelineRun.uid`"
                    .into(),
            )),
        },
        "credentials" => match toks.as_slice() {
            [Dot("path")] => Ok(Var::CredentialsPath),
            _ => Err(err("expected `credentials.path`".into())),
        },
        "artifacts" => match toks.as_slice() {
            [Dot("path")] => Ok(Var::ArtifactsPath),
            _ => Err(err("expected `artifacts.path`".into())),
        },
        _ => unreachable!("prefix {prefix} is in PREFIXES"),
    }
}

fn artifact_dir(dir: &str) -> ArtifactDir {
    if dir == "inputs" {
        ArtifactDir::Inputs
    } else {
        ArtifactDir::Outputs
    }
}

fn parse_params(toks: &[Tok<'_>]) -> Result<Var, String> {
    let (name, quoted, rest) = match toks {
        [] => {
            return Err(
                "expected a parameter name: `params.<name>` or `params['<name>']`".to_string(),
            );
        }
        [Tok::Dot(n), rest @ ..] => (*n, false, rest),
        [Tok::Quoted(n), rest @ ..] => (*n, true, rest),
        [first, ..] => return Err(format!("expected a parameter name before `{first}`")),
    };
    let sel = match rest {
        [Tok::Dot(_), Tok::Dot(_), ..] => {
            return Err(format!(
                "only two dot-separated components after the prefix \"params\" are allowed; a parameter name that contains dots is written `params['{}']`",
                dotted(toks)
            ));
        }
        [Tok::Dot(_), ..] if quoted => {
            return Err(format!(
                "an object property is written `params.{name}.<key>`, not after brackets"
            ));
        }
        sel => selector(sel, true)?,
    };
    Ok(Var::Params {
        name: name.to_string(),
        sel,
    })
}

/// `a.b.c` for a run of dot tokens (for the "only two components" hint).
fn dotted(toks: &[Tok<'_>]) -> String {
    toks.iter()
        .map_while(|t| match t {
            Tok::Dot(n) => Some(*n),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn parse_tasks(toks: &[Tok<'_>]) -> Result<Var, String> {
    use Tok::{Dot, Quoted};
    const FORMS: &str = "expected `tasks.<task>.results.<result>`, `tasks.<task>.status`, `tasks.<task>.reason`, `tasks.<task>.matrix.length`, `tasks.<task>.matrix.<result>.length` or `tasks.status`";
    let task = |t: &str| t.to_string();
    match toks {
        [Dot("status")] => Ok(Var::TasksStatus),
        [Dot(t), Dot("status")] => Ok(Var::TaskStatus(task(t))),
        [Dot(t), Dot("reason")] => Ok(Var::TaskReason(task(t))),
        [Dot(t), Dot("matrix"), Dot("length")] => Ok(Var::MatrixLength(task(t))),
        [Dot(t), Dot("matrix"), Dot(r), Dot("length")] => Ok(Var::MatrixResultLength {
            task: task(t),
            result: r.to_string(),
        }),
        [Dot(_), Dot("matrix"), ..] => Err(
            "expected `tasks.<task>.matrix.length` or `tasks.<task>.matrix.<result>.length`"
                .to_string(),
        ),
        [Dot(t), Dot("results"), Dot(r), sel @ ..] => {
            let sel = match sel {
                [Dot(_), Dot(_), ..] => {
                    return Err(format!(
                        "too many components after `tasks.{t}.results.{r}`: expected `.<key>`, `[N]` or `[*]` at most"
                    ));
                }
                sel => selector(sel, true)?,
            };
            Ok(Var::TaskResult {
                task: task(t),
                result: r.to_string(),
                sel,
            })
        }
        [Dot(t), Dot("results"), Quoted(r), ..] => Err(format!(
            "write `tasks.{t}.results.{r}`: Tekton does not see a dependency on task `{t}` through the bracket form"
        )),
        [Dot(_), Dot("results")] => Err("expected a result name after `results`".to_string()),
        [Dot(t), Dot(dir @ ("inputs" | "outputs")), Dot(name)] => Ok(Var::TaskArtifact {
            task: task(t),
            dir: artifact_dir(dir),
            name: name.to_string(),
        }),
        [Dot(_), Dot(other), ..] => Err(format!(
            "a pipeline task has no `{other}` variable; {FORMS}{}",
            hint(
                other,
                ["results", "status", "reason", "matrix", "inputs", "outputs"]
            )
        )),
        [Dot(t)] => Err(format!("`tasks.{t}` alone is not a variable; {FORMS}")),
        _ => Err(FORMS.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> String {
        x.to_string()
    }

    fn params(name: &str, sel: Selector) -> Var {
        Var::Params { name: s(name), sel }
    }

    fn key(k: &str) -> Selector {
        Selector::Key(s(k))
    }

    /// (inner text, expected variable) — every form of tekton-api.md §4.1 and §4.2.
    fn valid() -> Vec<(&'static str, Var)> {
        use Selector::{Index, None, Star};
        vec![
            ("params.p", params("p", None)),
            ("params.my_param-2", params("my_param-2", None)),
            ("params.arr[*]", params("arr", Star)),
            ("params.arr[0]", params("arr", Index(0))),
            ("params.arr[12]", params("arr", Index(12))),
            ("params.obj.key", params("obj", key("key"))),
            ("params.obj[*]", params("obj", Star)),
            ("params['a.b']", params("a.b", None)),
            ("params[\"a.b\"]", params("a.b", None)),
            ("params['a.b'][*]", params("a.b", Star)),
            ("params[\"arr\"][3]", params("arr", Index(3))),
            ("params['we)ird']", params("we)ird", None)),
            (
                "tasks.build.results.digest",
                Var::TaskResult {
                    task: s("build"),
                    result: s("digest"),
                    sel: None,
                },
            ),
            (
                "tasks.build.results.list[*]",
                Var::TaskResult {
                    task: s("build"),
                    result: s("list"),
                    sel: Star,
                },
            ),
            (
                "tasks.build.results.list[2]",
                Var::TaskResult {
                    task: s("build"),
                    result: s("list"),
                    sel: Index(2),
                },
            ),
            (
                "tasks.build.results.obj.url",
                Var::TaskResult {
                    task: s("build"),
                    result: s("obj"),
                    sel: key("url"),
                },
            ),
            (
                "finally.notify.results.sent",
                Var::FinallyResult {
                    task: s("notify"),
                    result: s("sent"),
                    sel: None,
                },
            ),
            ("tasks.build.status", Var::TaskStatus(s("build"))),
            ("tasks.build.reason", Var::TaskReason(s("build"))),
            ("tasks.status", Var::TasksStatus),
            ("tasks.status.status", Var::TaskStatus(s("status"))),
            ("tasks.test.matrix.length", Var::MatrixLength(s("test"))),
            (
                "tasks.test.matrix.report.length",
                Var::MatrixResultLength {
                    task: s("test"),
                    result: s("report"),
                },
            ),
            (
                "tasks.build.outputs.image",
                Var::TaskArtifact {
                    task: s("build"),
                    dir: ArtifactDir::Outputs,
                    name: s("image"),
                },
            ),
            (
                "tasks.build.inputs.source",
                Var::TaskArtifact {
                    task: s("build"),
                    dir: ArtifactDir::Inputs,
                    name: s("source"),
                },
            ),
            ("results.digest.path", Var::ResultPath(s("digest"))),
            (
                "results['dotted.name'].path",
                Var::ResultPath(s("dotted.name")),
            ),
            ("results[\"r\"].path", Var::ResultPath(s("r"))),
            ("step.results.out.path", Var::StepResultPath(s("out"))),
            ("step.results['out'].path", Var::StepResultPath(s("out"))),
            (
                "steps.compile.results.out",
                Var::StepResult {
                    step: s("compile"),
                    result: s("out"),
                    sel: None,
                },
            ),
            (
                "steps.compile.results.arr[1]",
                Var::StepResult {
                    step: s("compile"),
                    result: s("arr"),
                    sel: Index(1),
                },
            ),
            (
                "steps.compile.results.obj.k",
                Var::StepResult {
                    step: s("compile"),
                    result: s("obj"),
                    sel: key("k"),
                },
            ),
            (
                "steps.step-compile.exitCode.path",
                Var::StepExitCodePath(s("step-compile")),
            ),
            (
                "steps.step-unnamed-0.exitCode.path",
                Var::StepExitCodePath(s("step-unnamed-0")),
            ),
            (
                "steps.fetch.outputs.source",
                Var::StepArtifact {
                    step: s("fetch"),
                    dir: ArtifactDir::Outputs,
                    name: s("source"),
                },
            ),
            ("artifacts.path", Var::ArtifactsPath),
            ("step.artifacts.path", Var::StepArtifactsPath),
            (
                "workspaces.src.path",
                Var::Workspace {
                    name: s("src"),
                    attr: WorkspaceAttr::Path,
                },
            ),
            (
                "workspaces.cache.bound",
                Var::Workspace {
                    name: s("cache"),
                    attr: WorkspaceAttr::Bound,
                },
            ),
            (
                "workspaces.cache.claim",
                Var::Workspace {
                    name: s("cache"),
                    attr: WorkspaceAttr::Claim,
                },
            ),
            (
                "workspaces.cache.volume",
                Var::Workspace {
                    name: s("cache"),
                    attr: WorkspaceAttr::Volume,
                },
            ),
            ("credentials.path", Var::CredentialsPath),
            (
                "context.taskRun.name",
                Var::Context {
                    scope: ContextScope::TaskRun,
                    field: s("name"),
                },
            ),
            (
                "context.taskRun.namespace",
                Var::Context {
                    scope: ContextScope::TaskRun,
                    field: s("namespace"),
                },
            ),
            (
                "context.task.retry-count",
                Var::Context {
                    scope: ContextScope::Task,
                    field: s("retry-count"),
                },
            ),
            (
                "context.pipelineRun.uid",
                Var::Context {
                    scope: ContextScope::PipelineRun,
                    field: s("uid"),
                },
            ),
            (
                "context.pipeline.name",
                Var::Context {
                    scope: ContextScope::Pipeline,
                    field: s("name"),
                },
            ),
            (
                "context.pipelineTask.retries",
                Var::Context {
                    scope: ContextScope::PipelineTask,
                    field: s("retries"),
                },
            ),
            // not Tekton variables
            ("date", Var::Unknown(s("date"))),
            ("HOME", Var::Unknown(s("HOME"))),
            ("inputs.params.x", Var::Unknown(s("inputs.params.x"))),
            ("Params.x", Var::Unknown(s("Params.x"))),
            ("list[0]", Var::Unknown(s("list[0]"))),
            ("date +%s", Var::Shell(s("date +%s"))),
            ("git rev-parse HEAD", Var::Shell(s("git rev-parse HEAD"))),
            (" params.a", Var::Shell(s(" params.a"))),
            ("params x", Var::Shell(s("params x"))),
            ("list[x]", Var::Shell(s("list[x]"))),
            ("", Var::Shell(s(""))),
        ]
    }

    /// (inner text, substring of the error message)
    const INVALID: &[(&str, &str)] = &[
        (
            "params.a.b.c",
            "only two dot-separated components after the prefix \"params\" are allowed; a parameter name that contains dots is written `params['a.b.c']`",
        ),
        ("params", "expected a parameter name"),
        ("params.", "expected a name after the last `.`"),
        ("params..a", "unexpected `.` after `.`"),
        ("params.a b", "unexpected space"),
        ("params.ä", "unexpected `ä` after `.`"),
        ("params[0]", "expected a parameter name before `[0]`"),
        (
            "params['a'].key",
            "an object property is written `params.a.<key>`",
        ),
        ("params['a]", "unclosed quote '"),
        ("params['']", "empty name in brackets"),
        ("params['a'x]", "expected `]` after `['a'`"),
        ("params.a[x]", "expected `[*]`, an index like `[0]`"),
        ("params.a[]", "expected `[*]`"),
        ("params.a[99999999999999999999999]", "is too large"),
        ("params.a[*][0]", "unexpected `[0]` after an index"),
        ("params.o.k[0]", "an object property cannot be indexed"),
        ("tasks", "`tasks.<task>.results.<result>`"),
        ("tasks.build", "`tasks.build` alone is not a variable"),
        ("tasks.build.result.x", "no `result` variable; expected"),
        ("tasks.build.reslts.x", "did you mean `results`?"),
        (
            "tasks.build.results",
            "expected a result name after `results`",
        ),
        (
            "tasks.build.results.a.b.c",
            "too many components after `tasks.build.results.a`",
        ),
        (
            "tasks.build.results['r']",
            "does not see a dependency on task `build`",
        ),
        ("tasks.build.matrix", "`tasks.<task>.matrix.length`"),
        (
            "finally.t.status",
            "expected `finally.<task>.results.<result>`",
        ),
        ("results.digest", "`results.<name>` is not a variable"),
        ("results.digest.value", "expected `results.<name>.path`"),
        ("step.results.out", "expected `step.results.<name>.path`"),
        (
            "steps.s.exitCode",
            "expected `steps.<step>.results.<result>`",
        ),
        ("steps.s.results['r']", "dot form"),
        ("workspaces.src", "expected `workspaces.<name>.path`"),
        (
            "workspaces.src.pth",
            "no attribute `pth`: expected path, bound, claim or volume; did you mean `path`?",
        ),
        ("context.taskrun.name", "unknown context `context.taskrun`"),
        (
            "context.taskRun.nme",
            "`context.taskRun` has name, namespace, uid; did you mean `name`?",
        ),
        (
            "context.pipeline.uid",
            "unknown context variable `context.pipeline.uid`",
        ),
        ("context.taskRun", "expected `context.<scope>.<field>`"),
        ("credentials", "expected `credentials.path`"),
        ("artifacts.dir", "expected `artifacts.path`"),
        ("params.a(b", "unexpected `(`"),
    ];

    #[test]
    fn every_form_parses() {
        let cases = valid();
        assert!(cases.len() >= 40);
        for (inner, want) in cases {
            assert_eq!(parse(inner), Ok(want.clone()), "parse({inner:?})");
            // Through find_refs, with text around it and the byte range right.
            let text = format!("x $({inner}) y");
            let refs = find_refs(&text);
            assert_eq!(refs.len(), 1, "{text}");
            assert_eq!(refs[0].var, Ok(want.clone()), "{text}");
            assert_eq!(refs[0].range(), 2..text.len() - 2, "{text}");
            assert_eq!(refs[0].inner, inner);
            assert_eq!(refs[0].is_tekton(), want.is_tekton());
        }
    }

    #[test]
    fn malformed_forms_explain_themselves() {
        for (inner, msg) in INVALID {
            match parse(inner) {
                Err(e) => {
                    assert!(
                        e.message.contains(msg),
                        "parse({inner:?}): {:?} does not contain {msg:?}",
                        e.message
                    );
                    assert_eq!(e.kind, ExprErrorKind::Malformed);
                    assert_eq!(Some(e.prefix.unwrap()), inner.split(['.', '[']).next());
                }
                Ok(v) => panic!("parse({inner:?}) = {v:?}, expected an error"),
            }
        }
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        for (inner, var) in valid() {
            let text = var.to_string();
            assert_eq!(text, format!("$({})", var.to_inner()));
            assert_eq!(parse(&var.to_inner()), Ok(var.clone()), "{text}");
            if !inner.contains(['\'', '"']) {
                assert_eq!(var.to_inner(), inner, "dot forms print as written");
            }
        }
        assert_eq!(
            params("a.b", Selector::Star).to_string(),
            "$(params['a.b'][*])"
        );
        assert_eq!(
            params("it's", Selector::None).to_string(),
            "$(params[\"it's\"])"
        );
        assert_eq!(Var::ResultPath(s("r")).to_string(), "$(results.r.path)");
        assert_eq!(Var::KubeletEscape(s("HOME")).to_string(), "$$(HOME)");
        assert_eq!(Var::Shell(s("date +%s")).to_string(), "$(date +%s)");
    }

    #[test]
    fn prefixes_and_tasks() {
        assert_eq!(parse("params.a").unwrap().prefix(), Some("params"));
        assert_eq!(parse("tasks.status").unwrap().prefix(), Some("tasks"));
        assert_eq!(parse("step.artifacts.path").unwrap().prefix(), Some("step"));
        assert_eq!(parse("steps.s.results.r").unwrap().prefix(), Some("steps"));
        assert_eq!(parse("date").unwrap().prefix(), None);
        assert_eq!(parse("tasks.b.results.r[0]").unwrap().task(), Some("b"));
        assert_eq!(parse("finally.f.results.r").unwrap().task(), Some("f"));
        assert_eq!(parse("tasks.b.reason").unwrap().task(), Some("b"));
        assert_eq!(parse("tasks.status").unwrap().task(), None);
        assert_eq!(parse("params.a").unwrap().task(), None);
    }

    #[test]
    fn two_refs_in_one_string() {
        let text = "--flag=$(params.a) --other=$(tasks.b.results.c[*])";
        let refs = find_refs(text);
        assert_eq!(refs.len(), 2);
        assert_eq!(&text[refs[0].range()], "$(params.a)");
        assert_eq!(&text[refs[1].range()], "$(tasks.b.results.c[*])");
        assert_eq!(refs[1].var.as_ref().unwrap().task(), Some("b"));
        // adjacent, no separator
        let refs = find_refs("$(params.a)$(params.b)");
        assert_eq!(
            refs.iter().map(Reference::range).collect::<Vec<_>>(),
            [0..11, 11..22]
        );
    }

    #[test]
    fn multi_byte_text_before_a_ref() {
        let text = "größe ☃ 漢字: $(params.größe) $(params.size)";
        let refs = find_refs(text);
        assert_eq!(refs.len(), 2);
        assert_eq!(&text[refs[0].range()], "$(params.größe)");
        assert!(refs[0].var.is_err(), "non-ASCII names are not Tekton names");
        assert_eq!(&text[refs[1].range()], "$(params.size)");
        assert_eq!(refs[1].start, text.find("$(params.size)").unwrap());
        assert_eq!(refs[1].var, Ok(params("size", Selector::None)));
    }

    #[test]
    fn shell_command_substitution() {
        let text = "echo \"built at $(date) by $(whoami | tr a-z A-Z)\"";
        let refs = find_refs(text);
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].var, Ok(Var::Unknown(s("date"))));
        assert_eq!(&text[refs[1].range()], "$(whoami | tr a-z A-Z)");
        assert_eq!(refs[1].var, Ok(Var::Shell(s("whoami | tr a-z A-Z"))));
        assert!(refs.iter().all(|r| !r.is_tekton()));
    }

    #[test]
    fn tekton_ref_nested_in_shell() {
        let text = "x=$(echo $(params.a) | wc -c)";
        let refs = find_refs(text);
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].range(), 2..text.len());
        assert_eq!(refs[0].var, Ok(Var::Shell(s("echo $(params.a) | wc -c"))));
        assert_eq!(&text[refs[1].range()], "$(params.a)");
        assert_eq!(refs[1].var, Ok(params("a", Selector::None)));
        // nested parentheses in shell: balanced
        let text = "$(echo $(( 1 + (2) )) $(params.n))";
        let refs = find_refs(text);
        assert_eq!(refs[0].range(), 0..text.len());
        let tekton: Vec<_> = refs.iter().filter(|r| r.is_tekton()).collect();
        assert_eq!(tekton.len(), 1);
        assert_eq!(&text[tekton[0].range()], "$(params.n)");
    }

    #[test]
    fn kubelet_escape() {
        let text = "echo $$(HOME) $(HOME) $$$(X) $$$$(Y)";
        let refs = find_refs(text);
        let got: Vec<_> = refs
            .iter()
            .map(|r| (&text[r.range()], r.var.clone().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                ("$$(HOME)", Var::KubeletEscape(s("HOME"))),
                ("$(HOME)", Var::Unknown(s("HOME"))),
                // `$$` is one literal `$`, then `$(X)` is expanded
                ("$(X)", Var::Unknown(s("X"))),
                ("$$(Y)", Var::KubeletEscape(s("Y"))),
            ]
        );
        // Tekton has no escaping: `$$(params.a)` is still substituted.
        let refs = find_refs("$$(params.a)");
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].range(), 1..12);
        assert_eq!(refs[0].var, Ok(params("a", Selector::None)));
    }

    #[test]
    fn unclosed() {
        let refs = find_refs("echo $(params.a and more");
        assert_eq!(refs.len(), 1);
        let e = refs[0].var.clone().unwrap_err();
        assert_eq!(e.kind, ExprErrorKind::Unclosed);
        assert_eq!(e.prefix, Some("params"));
        assert_eq!(e.message, "`$(params.a and more` has no closing `)`");
        assert_eq!(refs[0].range(), 5..24);
        assert!(refs[0].is_tekton());

        // A Tekton reference does not run across lines; the next line still parses.
        let text = "a $(params.x\nb $(params.y)\n";
        let refs = find_refs(text);
        assert_eq!(refs.len(), 2);
        assert_eq!(&text[refs[0].range()], "$(params.x");
        assert_eq!(
            refs[0].var.as_ref().unwrap_err().kind,
            ExprErrorKind::Unclosed
        );
        assert_eq!(refs[1].var, Ok(params("y", Selector::None)));

        // Shell text: unclosed, no prefix.
        let refs = find_refs("echo \"$(\" $");
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].var.as_ref().unwrap_err().prefix, None);
        assert!(!refs[0].is_tekton());
        assert_eq!(refs[0].end, 11);

        // `)` of a later ref closes an earlier unclosed Tekton one on the same line, like Tekton.
        let refs = find_refs("$(params.a $(params.b)");
        assert_eq!(refs.len(), 2);
        assert!(refs[0].var.is_err());
        assert_eq!(refs[1].var, Ok(params("b", Selector::None)));

        assert_eq!(find_refs("trailing $").len(), 0);
        assert_eq!(find_refs("$").len(), 0);
        assert_eq!(find_refs("${HOME} $HOME (x) $ (y)").len(), 0);
        let refs = find_refs("$(");
        assert_eq!(refs[0].range(), 0..2);
        assert!(refs[0].var.is_err());
    }

    #[test]
    fn brackets_with_parentheses_and_quotes() {
        let refs = find_refs("$(params['a)b'])!");
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].range(), 0..16);
        assert_eq!(refs[0].var, Ok(params("a)b", Selector::None)));
        let refs = find_refs("$(params[\"x\"][*])");
        assert_eq!(refs[0].var, Ok(params("x", Selector::Star)));
    }

    #[test]
    fn isolation() {
        assert!(is_isolated("$(params.arr[*])"));
        assert!(is_isolated("$(params['a.b'])"));
        assert!(is_isolated("$(tasks.t.results.r)"));
        assert!(!is_isolated(""));
        assert!(!is_isolated("x$(params.a)"));
        assert!(!is_isolated("$(params.a) "));
        assert!(!is_isolated("$(params.a)$(params.b)"));
        assert!(!is_isolated("$(date)"));
        assert!(!is_isolated("$(params.a.b.c)"));
        assert!(!is_isolated("$(echo $(params.a))"));
        assert!(!is_isolated("$(params.a"));
    }

    #[test]
    fn no_refs() {
        assert!(find_refs("").is_empty());
        assert!(find_refs("plain text, no variables").is_empty());
        assert!(find_refs("${params.a} $params").is_empty());
    }
}
