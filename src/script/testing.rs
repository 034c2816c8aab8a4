//! The test API of `*.test.rhai` files: `test`, `build`, `simulate`, `skip` and the assertions, with the
//! handles they return (docs/testing.md). This module only binds the API to Rhai; discovering files,
//! running them in parallel, snapshot files and reports are `crate::testing`'s.
//!
//! A test file is evaluated once in the scripts' sandboxed engine (same limits, same stdlib); `test(name,
//! closure)` registers a case, and every case is then called on its own with fresh operation limits. The
//! first failed assertion ends a case: it becomes a [`TestFailure`] whose diagnostic points at the
//! assertion's call. A case never stops the others.

use super::api;
use super::{HostError, Shared, State};
use crate::diag::codes::{self, Code};
use crate::diag::render::JsonDiagnostic;
use crate::diag::{Diagnostic, Severity};
use crate::exec::plan::{RunRequest, plan_run};
use crate::exec::run::{Report, TaskReport};
use crate::exec::simulate::{Failure as StatedFailure, Stated, input_for, simulate};
use crate::model::{ParamValue, PipelineRun};
use crate::source::{FileId, SourceMap};
use crate::{Compilation, Failure, Options};
use rhai::{Dynamic, Engine, EvalAltResult, FnPtr, NativeCallContext, Scope};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

type R<T> = Result<T, Box<EvalAltResult>>;

/// Names of the functions the test API adds (for "did you mean" and editors).
pub const FUNCTIONS: &[&str] = &[
    "test",
    "build",
    "simulate",
    "skip",
    "assert",
    "assert_eq",
    "assert_ne",
    "assert_contains",
    "assert_snapshot",
];

/// One test file to run.
#[derive(Debug, Clone)]
pub struct TestFile {
    /// The name shown in reports and diagnostics (`examples/release.test.rhai`).
    pub name: String,
    pub text: String,
    /// The file's directory: `build` paths, relative imports and `file()` are relative to it.
    pub dir: PathBuf,
}

/// What a test file needs from its runner: snapshot files and the simulation text.
pub trait Host {
    /// Compares `text` with the stored snapshot `name` (writing it when asked to).
    fn snapshot(&self, name: &str, text: &str) -> Result<(), SnapshotProblem>;
    /// The text `tekscript simulate` prints for a report.
    fn simulation_text(&self, report: &Report) -> String;
}

/// A snapshot that is new or differs.
#[derive(Debug, Clone)]
pub struct SnapshotProblem {
    pub code: &'static Code,
    pub message: String,
    pub help: String,
    pub comparison: Comparison,
}

/// Expected and actual values of a failed comparison, as text. When `multiline`, the report shows a
/// line diff instead of the two values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub expected: String,
    pub actual: String,
    pub multiline: bool,
}

/// Why a case failed: the diagnostic in the test file's sources, what was compared, and the
/// diagnostics of built scripts that failed to compile (each with its own sources).
#[derive(Debug)]
pub struct TestFailure {
    pub diagnostic: Diagnostic,
    pub comparison: Option<Comparison>,
    pub attached: Vec<Failure>,
}

#[derive(Debug)]
pub enum Outcome {
    Passed,
    Failed(Box<TestFailure>),
    Skipped(String),
    /// Not run: `--filter` did not select it.
    Filtered,
}

/// One case of a file.
#[derive(Debug)]
pub struct CaseResult {
    pub name: String,
    pub outcome: Outcome,
    /// What the case printed (`print`, `debug`), shown with a failure.
    pub output: Vec<String>,
    pub elapsed: Duration,
}

/// Everything one test file did.
#[derive(Debug)]
pub struct FileResult {
    /// The test file (always `FileId(0)`) and the modules it imported.
    pub sources: SourceMap,
    /// The file itself failed (syntax error, an error outside any `test`): no case ran.
    pub load_error: Option<TestFailure>,
    /// Output printed outside the cases.
    pub output: Vec<String>,
    pub cases: Vec<CaseResult>,
    /// Snapshot names asserted (for obsolete-snapshot detection).
    pub snapshots: BTreeSet<String>,
}

struct Registered {
    name: String,
    f: FnPtr,
    /// The `test(..)` call: where a failure with no position of its own is shown.
    at: Option<crate::source::Span>,
    /// A registration problem (duplicate name): the case fails with it when run.
    problem: Option<Diagnostic>,
}

#[derive(Default)]
struct Ctx {
    cases: Vec<Registered>,
    running: bool,
    output: Vec<String>,
    builds: HashMap<String, Rc<BuildData>>,
    snapshots: BTreeSet<String>,
    /// The file's imports at its end (`import "git" as git;`), so cases can use them.
    imports: Vec<(rhai::ImmutableString, rhai::Shared<rhai::Module>)>,
}

/// Called after the file's last statement: records its imports.
const END_OF_FILE: &str = "__tekscript_test_file_end";

type Tctx = Rc<RefCell<Ctx>>;

/// An error that carries more than a [`HostError`]: an assertion's comparison, failed builds.
#[derive(Clone)]
struct Raised {
    code: &'static Code,
    message: String,
    label: Option<String>,
    help: Vec<String>,
    notes: Vec<String>,
    comparison: Option<Comparison>,
    attached: Vec<Rc<Failure>>,
}

impl Raised {
    fn new(code: &'static Code, message: impl Into<String>) -> Raised {
        Raised {
            code,
            message: message.into(),
            label: None,
            help: Vec::new(),
            notes: Vec::new(),
            comparison: None,
            attached: Vec::new(),
        }
    }

    fn label(mut self, l: impl Into<String>) -> Raised {
        self.label = Some(l.into());
        self
    }

    fn help(mut self, h: impl Into<String>) -> Raised {
        self.help.push(h.into());
        self
    }

    fn note(mut self, h: impl Into<String>) -> Raised {
        self.notes.push(h.into());
        self
    }
}

impl From<Raised> for Box<EvalAltResult> {
    fn from(r: Raised) -> Self {
        Box::new(EvalAltResult::ErrorRuntime(
            Dynamic::from(r),
            rhai::Position::NONE,
        ))
    }
}

/// `skip(reason)`: ends the case as skipped.
#[derive(Clone)]
struct SkipSignal(String);

fn misuse(message: impl Into<String>) -> Box<EvalAltResult> {
    HostError::new(codes::T006, message).into()
}

// ---------------------------------------------------------------------------------------------
// Running a file

/// Evaluates a test file and runs the cases `selected` accepts (by name), in registration order.
pub fn run_file(file: TestFile, host: Rc<dyn Host>, selected: &dyn Fn(&str) -> bool) -> FileResult {
    let mut sources = SourceMap::new();
    let entry = sources.add(file.name.clone(), file.text.clone());
    let mut paths = BTreeMap::new();
    let file_name = Path::new(&file.name)
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_default();
    let path = file.dir.join(file_name);
    let identity = path
        .canonicalize()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| file.name.clone());
    paths.insert(file.name.clone(), path);
    let state: Shared = Rc::new(RefCell::new(State {
        sources,
        paths,
        root: Some(file.dir.clone()),
        emitted: Vec::new(),
        created: Vec::new(),
        modules: BTreeMap::new(),
        loading: vec![(identity, file.name.clone())],
    }));
    let tctx: Tctx = Rc::new(RefCell::new(Ctx::default()));
    let watchdog = super::Watchdog::new(Duration::from_secs(super::limits::MAX_SECONDS));
    let mut engine = super::new_engine(state.clone(), watchdog.clone());
    // What a test file prints is kept for its report: capped like a build's stderr.
    let printed = Rc::new(std::cell::Cell::new(0usize));
    let (out, count) = (tctx.clone(), printed.clone());
    engine.on_print(move |s| {
        if let Some(line) = super::capped_output(&count, "", s) {
            out.borrow_mut().output.push(line);
        }
    });
    let (out, count) = (tctx.clone(), printed);
    engine.on_debug(move |s, _, pos| {
        let prefix = match pos.line() {
            Some(l) => format!("[debug] {l}: "),
            None => "[debug] ".to_string(),
        };
        if let Some(line) = super::capped_output(&count, &prefix, s) {
            out.borrow_mut().output.push(line);
        }
    });
    register(&mut engine, state.clone(), tctx.clone(), &file, host);

    let t = tctx.clone();
    engine.register_fn(END_OF_FILE, move |ctx: NativeCallContext| {
        t.borrow_mut().imports = ctx
            .global_runtime_state()
            .scan_imports_raw()
            .map(|(n, m)| (n.clone(), m.clone()))
            .collect();
    });
    let mut scope = Scope::new();
    let ast = engine
        .compile_with_scope(&scope, &file.text)
        .map_err(|e| Box::new(EvalAltResult::ErrorParsing(*e.0, e.1)));
    let loaded = ast.and_then(|mut ast| {
        ast.set_source(file.name.clone());
        let tail = engine.compile(format!("{END_OF_FILE}();"))?;
        let whole = ast.merge(&tail);
        engine.run_ast_with_scope(&mut scope, &whole).map(|_| ast)
    });
    let mut result = FileResult {
        sources: SourceMap::new(),
        load_error: None,
        output: std::mem::take(&mut tctx.borrow_mut().output),
        cases: Vec::new(),
        snapshots: BTreeSet::new(),
    };
    match loaded {
        Err(err) => {
            let st = state.borrow();
            result.load_error = Some(failure_of(&err, &st, entry));
        }
        Ok(ast) => {
            let cases = std::mem::take(&mut tctx.borrow_mut().cases);
            let imports = std::mem::take(&mut tctx.borrow_mut().imports);
            for case in cases {
                if !selected(&case.name) {
                    result.cases.push(CaseResult {
                        name: case.name,
                        outcome: Outcome::Filtered,
                        output: Vec::new(),
                        elapsed: Duration::ZERO,
                    });
                    continue;
                }
                let started = Instant::now();
                watchdog.restart();
                tctx.borrow_mut().running = true;
                let called = match &case.problem {
                    Some(_) => Ok(Dynamic::UNIT),
                    None => call_case(&engine, &ast, &case.f, &file.name, &imports),
                };
                tctx.borrow_mut().running = false;
                let outcome = match (case.problem, called) {
                    (Some(d), _) => Outcome::Failed(Box::new(TestFailure {
                        diagnostic: d,
                        comparison: None,
                        attached: Vec::new(),
                    })),
                    (None, Ok(_)) => Outcome::Passed,
                    (None, Err(err)) => match skip_reason(&err) {
                        Some(reason) => Outcome::Skipped(reason),
                        None => {
                            let st = state.borrow();
                            let mut f = failure_of(&err, &st, entry);
                            if f.diagnostic.span.is_none() {
                                f.diagnostic.span = case.at;
                                f.diagnostic.label = Some("in this test".into());
                            }
                            Outcome::Failed(Box::new(f))
                        }
                    },
                };
                result.cases.push(CaseResult {
                    name: case.name,
                    outcome,
                    output: std::mem::take(&mut tctx.borrow_mut().output),
                    elapsed: started.elapsed(),
                });
            }
        }
    }
    drop(engine);
    result.snapshots = std::mem::take(&mut tctx.borrow_mut().snapshots);
    result.sources = std::mem::take(&mut state.borrow_mut().sources);
    result
}

/// Calls a case's closure with a fresh operation budget and the file's imports.
fn call_case(
    engine: &Engine,
    ast: &rhai::AST,
    f: &FnPtr,
    source: &str,
    imports: &[(rhai::ImmutableString, rhai::Shared<rhai::Module>)],
) -> R<Dynamic> {
    let mut global = engine.new_global_runtime_state();
    global.lib.push(ast.shared_lib().clone());
    global.source = Some(source.into());
    for (name, module) in imports {
        global.push_import(name.clone(), module.clone());
    }
    let ctx: NativeCallContext = (
        engine,
        f.fn_name(),
        Some(source),
        &global,
        rhai::Position::NONE,
    )
        .into();
    f.call_raw(&ctx, None, [])
}

/// The innermost error of a call chain.
fn innermost(err: &EvalAltResult) -> &EvalAltResult {
    let mut e = err;
    loop {
        match e {
            EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
            | EvalAltResult::ErrorInModule(_, inner, _) => e = inner,
            _ => return e,
        }
    }
}

fn skip_reason(err: &EvalAltResult) -> Option<String> {
    match innermost(err) {
        EvalAltResult::ErrorRuntime(v, _) if v.is::<SkipSignal>() => {
            Some(v.clone().cast::<SkipSignal>().0)
        }
        _ => None,
    }
}

fn failure_of(err: &EvalAltResult, st: &State, entry: FileId) -> TestFailure {
    let mut d = super::to_diagnostic_and_call(err, st, entry).0;
    for frame in &mut d.trace {
        // closures are functions named by a hash: say what they are
        if frame.note.starts_with("in this call to `anon$") {
            frame.note = "in this call to a closure".into();
        }
    }
    let mut comparison = None;
    let mut attached = Vec::new();
    if let EvalAltResult::ErrorRuntime(v, _) = innermost(err)
        && v.is::<Raised>()
    {
        let r = v.clone().cast::<Raised>();
        d.code = r.code;
        d.message = r.message;
        d.label = r.label;
        d.help = r.help;
        d.notes = r.notes;
        comparison = r.comparison;
        attached = r
            .attached
            .iter()
            .map(|f| Failure {
                sources: f.sources.clone(),
                diagnostics: f.diagnostics.clone(),
            })
            .collect();
    }
    TestFailure {
        diagnostic: d,
        comparison,
        attached,
    }
}

// ---------------------------------------------------------------------------------------------
// Handles

struct BuildData {
    /// The script's path as shown (`examples/release.rhai`).
    name: String,
    result: Result<Compilation, Rc<Failure>>,
    docs: Vec<Value>,
}

/// `build(path)`: a compiled script.
#[derive(Clone)]
pub struct Build(Rc<BuildData>);

/// `b.pipeline(name)`.
#[derive(Clone)]
pub struct BuiltPipeline {
    build: Rc<BuildData>,
    doc: usize,
}

/// `p.task(name)`: a task of a pipeline (or a finally task).
#[derive(Clone)]
pub struct BuiltPipelineTask {
    build: Rc<BuildData>,
    doc: usize,
    finally: bool,
    index: usize,
}

/// `b.task(name)`: a Task object.
#[derive(Clone)]
pub struct BuiltTask {
    build: Rc<BuildData>,
    doc: usize,
}

/// `b.run(name)`: a PipelineRun object.
#[derive(Clone)]
pub struct BuiltRun {
    build: Rc<BuildData>,
    doc: usize,
}

/// `simulate(..)`: what the run did.
#[derive(Clone)]
pub struct Simulation(Rc<Report>);

/// `r.task(name)`.
#[derive(Clone)]
pub struct SimulatedTask {
    report: Rc<Report>,
    index: usize,
}

impl BuildData {
    fn compiled(&self) -> Result<&Compilation, Box<EvalAltResult>> {
        match &self.result {
            Ok(c) => Ok(c),
            Err(f) => {
                let errors = f.diagnostics.errors();
                let mut r = Raised::new(
                    codes::T005,
                    format!(
                        "{} does not compile ({} error{})",
                        self.name,
                        errors,
                        if errors == 1 { "" } else { "s" }
                    ),
                )
                .label("this build failed")
                .help("the script's diagnostics follow; `b.ok` and `b.errors` test for a failure without failing");
                r.attached.push(f.clone());
                Err(r.into())
            }
        }
    }

    fn names_of(&self, kind: &str) -> Vec<String> {
        self.docs
            .iter()
            .filter(|d| d["kind"] == kind)
            .map(doc_name)
            .collect()
    }

    /// The document of `kind` called `name` (for runs also by generateName or pipeline), or an error
    /// listing what there is.
    fn find(&self, kind: &str, what: &str, name: Option<&str>) -> R<usize> {
        self.compiled()?;
        let candidates: Vec<usize> = (0..self.docs.len())
            .filter(|&i| self.docs[i]["kind"] == kind)
            .collect();
        let names: Vec<String> = candidates
            .iter()
            .map(|&i| doc_name(&self.docs[i]))
            .collect();
        match name {
            None => match candidates.as_slice() {
                [one] => Ok(*one),
                [] => {
                    Err(HostError::new(codes::T004, format!("{} has no {what}", self.name)).into())
                }
                _ => Err(HostError::new(
                    codes::T004,
                    format!(
                        "{} has {} {what}s ({}); name the one you mean",
                        self.name,
                        candidates.len(),
                        names.join(", ")
                    ),
                )
                .into()),
            },
            Some(n) => {
                let hit = candidates.iter().copied().find(|&i| {
                    let d = &self.docs[i];
                    doc_name(d) == n
                        || d["metadata"]["generateName"] == n
                        || (kind == "PipelineRun" && run_pipeline(d).as_deref() == Some(n))
                });
                hit.ok_or_else(|| not_found(&self.name, what, n, &names))
            }
        }
    }
}

fn not_found(owner: &str, what: &str, name: &str, known: &[String]) -> Box<EvalAltResult> {
    let mut e = HostError::new(codes::T004, format!("{owner} has no {what} `{name}`")).needle(name);
    match crate::diag::suggest::did_you_mean(name, known.iter().map(String::as_str)) {
        Some(s) => e = e.help(format!("did you mean `{s}`?")),
        None if known.is_empty() => e = e.help(format!("{owner} has no {what}s")),
        None => e = e.help(format!("the {what}s are: {}", known.join(", "))),
    }
    e.into()
}

fn doc_name(d: &Value) -> String {
    let m = &d["metadata"];
    m["name"]
        .as_str()
        .or_else(|| m["generateName"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn run_pipeline(d: &Value) -> Option<String> {
    d["spec"]["pipelineRef"]["name"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            d["metadata"]["labels"]["tekton.dev/pipeline"]
                .as_str()
                .map(str::to_string)
        })
}

fn dynamic(v: &Value) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT)
}

fn strings(v: impl IntoIterator<Item = String>) -> rhai::Array {
    v.into_iter().map(Dynamic::from).collect()
}

fn yaml_of(v: &Value) -> String {
    crate::emit::to_yaml(v).unwrap_or_default()
}

/// `[{name: a, ...}, ...]` → `#{ a: {...} }`.
fn by_name(list: &Value) -> rhai::Map {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| Some((x["name"].as_str()?.into(), dynamic(x))))
        .collect()
}

/// `[{name: a, value: v}, ...]` → `#{ a: v }`.
fn values_by_name(list: &Value) -> rhai::Map {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| Some((x["name"].as_str()?.into(), dynamic(&x["value"]))))
        .collect()
}

fn list_names(list: &Value) -> rhai::Array {
    strings(
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x["name"].as_str().map(str::to_string)),
    )
}

/// Images of a task spec's steps in order (a step that uses a StepAction gets the StepAction's image
/// when it is in the build).
fn spec_images(build: &BuildData, spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for step in spec["steps"].as_array().into_iter().flatten() {
        if let Some(i) = step["image"].as_str() {
            out.push(i.to_string());
        } else if let Some(r) = step["ref"]["name"].as_str()
            && let Some(sa) = build
                .docs
                .iter()
                .find(|d| d["kind"] == "StepAction" && d["metadata"]["name"] == r)
            && let Some(i) = sa["spec"]["image"].as_str()
        {
            out.push(i.to_string());
        }
    }
    for s in spec["sidecars"].as_array().into_iter().flatten() {
        if let Some(i) = s["image"].as_str() {
            out.push(i.to_string());
        }
    }
    out
}

impl BuiltPipelineTask {
    fn value(&self) -> &Value {
        let list = if self.finally { "finally" } else { "tasks" };
        &self.build.docs[self.doc]["spec"][list][self.index]
    }

    fn name(&self) -> String {
        self.value()["name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The task's spec: embedded, or the build's Task it refers to.
    fn spec(&self) -> Option<&Value> {
        let pt = self.value();
        if let Some(s) = pt.get("taskSpec") {
            return Some(s);
        }
        let name = pt["taskRef"]["name"].as_str()?;
        if pt["taskRef"].get("resolver").is_some() {
            return None;
        }
        self.build
            .docs
            .iter()
            .find(|d| d["kind"] == "Task" && d["metadata"]["name"] == name)
            .map(|d| &d["spec"])
    }

    /// Every task this one waits for: `runAfter` and the tasks whose results it uses.
    fn after(&self) -> Vec<String> {
        let Ok(spec) = serde_json::from_value::<crate::model::PipelineSpec>(
            self.build.docs[self.doc]["spec"].clone(),
        ) else {
            return Vec::new();
        };
        let g = crate::exec::TaskGraph::new(&spec);
        let Some(i) = g.index(&self.name()) else {
            return Vec::new();
        };
        let mut parents: Vec<usize> = g.parents(i).to_vec();
        parents.sort();
        parents.dedup();
        parents
            .into_iter()
            .map(|p| g.nodes[p].name.clone())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Values: comparison and display

/// A script value as JSON, for comparison and snapshots; handles become their objects.
fn plain(v: &Dynamic) -> Value {
    if v.is_unit() {
        return Value::Null;
    }
    if let Some(b) = v.clone().try_cast::<bool>() {
        return Value::Bool(b);
    }
    if let Some(i) = v.clone().try_cast::<rhai::INT>() {
        return Value::from(i);
    }
    if let Some(f) = v.clone().try_cast::<rhai::FLOAT>() {
        return serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null);
    }
    if v.is_string() {
        return Value::String(v.clone().into_string().unwrap_or_default());
    }
    if let Some(c) = v.clone().try_cast::<char>() {
        return Value::String(c.to_string());
    }
    if v.is_array() {
        return Value::Array(
            v.clone()
                .into_array()
                .unwrap_or_default()
                .iter()
                .map(plain)
                .collect(),
        );
    }
    if v.is_map() {
        let m = v.clone().cast::<rhai::Map>();
        return Value::Object(m.iter().map(|(k, x)| (k.to_string(), plain(x))).collect());
    }
    if let Some(b) = v.clone().try_cast::<Build>() {
        return Value::Array(b.0.docs.clone());
    }
    if let Some(p) = v.clone().try_cast::<BuiltPipeline>() {
        return p.build.docs[p.doc].clone();
    }
    if let Some(t) = v.clone().try_cast::<BuiltTask>() {
        return t.build.docs[t.doc].clone();
    }
    if let Some(r) = v.clone().try_cast::<BuiltRun>() {
        return r.build.docs[r.doc].clone();
    }
    if let Some(t) = v.clone().try_cast::<BuiltPipelineTask>() {
        return t.value().clone();
    }
    if let Some(s) = v.clone().try_cast::<Simulation>() {
        return simulation_json(&s.0);
    }
    if let Some(t) = v.clone().try_cast::<SimulatedTask>() {
        return task_json(&t.report, t.index);
    }
    match super::convert::to_json(v, "value") {
        Ok(j) => j,
        Err(_) => Value::String(format!("<{}>", super::handles::type_label(v))),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| same(a, b)))
        }
        _ => a == b,
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_ident(k: &str) -> bool {
    let mut cs = k.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn key(k: &str) -> String {
    if is_ident(k) { k.to_string() } else { quote(k) }
}

/// A value in Rhai's literal syntax, on one line.
pub fn show(v: &Value) -> String {
    match v {
        Value::Null => "()".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Array(a) => format!("[{}]", a.iter().map(show).collect::<Vec<_>>().join(", ")),
        Value::Object(m) if m.is_empty() => "#{}".into(),
        Value::Object(m) => format!(
            "#{{ {} }}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", key(k), show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A value in Rhai's literal syntax, one element per line (for diffs). A string with line breaks is
/// shown as its lines.
fn pretty(v: &Value, indent: usize, out: &mut String) {
    let pad = "    ".repeat(indent + 1);
    let end = "    ".repeat(indent);
    match v {
        Value::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for x in a {
                out.push_str(&pad);
                pretty(x, indent + 1, out);
                out.push_str(",\n");
            }
            out.push_str(&end);
            out.push(']');
        }
        Value::Object(m) if !m.is_empty() => {
            out.push_str("#{\n");
            for (k, x) in m {
                out.push_str(&pad);
                out.push_str(&key(k));
                out.push_str(": ");
                pretty(x, indent + 1, out);
                out.push_str(",\n");
            }
            out.push_str(&end);
            out.push('}');
        }
        other => out.push_str(&show(other)),
    }
}

const SHORT: usize = 72;

fn comparison(expected: &Value, actual: &Value) -> Comparison {
    let (e, a) = (show(expected), show(actual));
    let lines = |v: &Value| v.as_str().is_some_and(|s| s.contains('\n'));
    if e.len() <= SHORT && a.len() <= SHORT && !lines(expected) && !lines(actual) {
        return Comparison {
            expected: e,
            actual: a,
            multiline: false,
        };
    }
    let long = |v: &Value| match v {
        Value::String(s) if s.contains('\n') => s.clone(),
        other => {
            let mut s = String::new();
            pretty(other, 0, &mut s);
            s.push('\n');
            s
        }
    };
    Comparison {
        expected: long(expected),
        actual: long(actual),
        multiline: true,
    }
}

fn type_name(v: &Dynamic) -> String {
    super::handles::type_label(v)
}

// ---------------------------------------------------------------------------------------------
// Simulation values

fn param_value(v: &ParamValue) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn waves(r: &Report) -> BTreeMap<Duration, usize> {
    let times: BTreeSet<Duration> = r.tasks.iter().filter_map(|t| t.decided_at).collect();
    times
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, i + 1))
        .collect()
}

fn task_json(r: &Report, i: usize) -> Value {
    let t: &TaskReport = &r.tasks[i];
    let params: serde_json::Map<String, Value> = t
        .params
        .iter()
        .map(|p| (p.name.clone(), param_value(&p.value)))
        .collect();
    let results: serde_json::Map<String, Value> = t
        .results
        .iter()
        .map(|(k, v)| (k.clone(), param_value(v)))
        .collect();
    let order = r.tasks[..i]
        .iter()
        .filter(|t| t.decided_at.is_some())
        .count();
    json!({
        "name": t.name,
        "finally": t.finally,
        "outcome": t.outcome.as_str(),
        "reason": t.reason,
        "message": t.message,
        "params": params,
        "results": results,
        "order": if t.decided_at.is_some() { json!(order) } else { Value::Null },
        "wave": t.decided_at.and_then(|d| waves(r).get(&d).copied()),
        "attempts": t.attempts,
        "taskruns": t.taskruns,
    })
}

fn simulation_json(r: &Report) -> Value {
    let results: serde_json::Map<String, Value> = r
        .results
        .iter()
        .map(|(k, v)| (k.clone(), param_value(v)))
        .collect();
    json!({
        "status": r.reason,
        "succeeded": r.status,
        "message": r.message,
        "undecided": r.undecided,
        "tasks": (0..r.tasks.len()).map(|i| task_json(r, i)).collect::<Vec<_>>(),
        "results": results,
    })
}

// ---------------------------------------------------------------------------------------------
// build() and simulate()

/// `a/./b/../c` → `a/c` (lexically; leading `..` stay).
fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

fn take_opts(opts: rhai::Map, what: &str, known: &[&str]) -> R<BTreeMap<String, Dynamic>> {
    let mut out = BTreeMap::new();
    for (k, v) in opts {
        if !known.contains(&k.as_str()) {
            let mut e = HostError::new(codes::E004, format!("unknown option `{k}` of {what}"))
                .needle(k.as_str());
            e = match crate::diag::suggest::did_you_mean(&k, known.iter().copied()) {
                Some(s) => e.help(format!("did you mean `{s}`?")),
                None => e.help(format!("the options are: {}", known.join(", "))),
            };
            return Err(e.into());
        }
        out.insert(k.to_string(), v);
    }
    Ok(out)
}

fn do_build(tctx: &Tctx, dir: &Path, path: &str, opts: rhai::Map) -> R<Build> {
    let opts = take_opts(opts, "build()", &["set", "values", "feature_gates"])?;
    if path.is_empty() || Path::new(path).is_absolute() {
        return Err(misuse(format!(
            "build() takes a path relative to the test file, not `{path}`"
        )));
    }
    let full = normalize(&dir.join(path));
    let name = full.to_string_lossy().replace('\\', "/");
    let mut options = Options::default();
    let mut key = name.clone();
    let to_json = |v: &Dynamic, what: &str| -> R<Value> {
        super::convert::to_json(v, what).map_err(Into::into)
    };
    if let Some(files) = opts.get("values") {
        let list = match to_json(files, "values")? {
            Value::String(s) => vec![s],
            Value::Array(a) => a
                .into_iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| misuse("`values` takes a file name or a list of file names"))?,
            _ => return Err(misuse("`values` takes a file name or a list of file names")),
        };
        for f in list {
            let p = normalize(&dir.join(&f));
            let text = std::fs::read_to_string(&p)
                .map_err(|e| misuse(format!("cannot read values file {}: {e}", p.display())))?;
            options
                .merge_values_yaml(&text)
                .map_err(|e| misuse(format!("values file {}: {e}", p.display())))?;
            key.push_str(&format!("\0values={f}"));
        }
    }
    if let Some(set) = opts.get("set") {
        match to_json(set, "set")? {
            Value::Object(m) => {
                for (k, v) in m {
                    options.values.insert(k, v);
                }
            }
            _ => return Err(misuse("`set` takes a map of values (`#{ env: \"prod\" }`)")),
        }
        key.push_str(&format!("\0set={}", Value::Object(options.values.clone())));
    }
    if let Some(g) = opts.get("feature_gates") {
        let g = super::convert::to_string_value(g, "feature_gates")
            .map_err(Box::<EvalAltResult>::from)?;
        options.settings.gates = crate::validate::FeatureGates::parse(&g).map_err(misuse)?;
        key.push_str(&format!("\0gates={g}"));
    }
    if let Some(b) = tctx.borrow().builds.get(&key) {
        return Ok(Build(b.clone()));
    }
    let result = crate::compile_file(&full, &options).map_err(Rc::new);
    let docs = match &result {
        Ok(c) => c.documents(),
        Err(_) => Vec::new(),
    };
    let b = Rc::new(BuildData { name, result, docs });
    tctx.borrow_mut().builds.insert(key, b.clone());
    Ok(Build(b))
}

/// The names of the tasks a run may state things about.
fn check_task(names: &[String], task: &str, option: &str) -> R<()> {
    if names.iter().any(|n| n == task) {
        return Ok(());
    }
    let mut e = HostError::new(
        codes::T004,
        format!("`{option}` names task `{task}`, which the pipeline does not have"),
    )
    .needle(task);
    e = match crate::diag::suggest::did_you_mean(task, names.iter().map(String::as_str)) {
        Some(s) => e.help(format!("did you mean `{s}`?")),
        None => e.help(format!("the tasks are: {}", names.join(", "))),
    };
    Err(e.into())
}

fn as_u32(v: &Dynamic, what: &str) -> R<u32> {
    v.as_int()
        .ok()
        .and_then(|i| u32::try_from(i).ok())
        .ok_or_else(|| misuse(format!("{what} must be a non-negative integer")))
}

fn stated(opts: &BTreeMap<String, Dynamic>, names: &[String]) -> R<Stated> {
    let mut st = Stated::default();
    if let Some(fail) = opts.get("fail") {
        if let Some(list) = fail.clone().try_cast::<rhai::Array>() {
            for item in list {
                let Some(s) = item.clone().into_string().ok() else {
                    return Err(misuse(format!(
                        "`fail` lists task names (\"test\", \"test/step\", \"test:1\"), found {}",
                        type_name(&item)
                    )));
                };
                let (rest, attempts) = match s.rsplit_once(':') {
                    Some((r, n)) => (
                        r.to_string(),
                        Some(n.parse::<u32>().map_err(|_| {
                            misuse(format!(
                                "`fail`: `{n}` in \"{s}\" is not a number of attempts"
                            ))
                        })?),
                    ),
                    None => (s.clone(), None),
                };
                let (task, step) = match rest.split_once('/') {
                    Some((t, st)) => (t.to_string(), Some(st.to_string())),
                    None => (rest, None),
                };
                check_task(names, &task, "fail")?;
                st.fail.insert(task, StatedFailure { step, attempts });
            }
        } else if let Some(map) = fail.clone().try_cast::<rhai::Map>() {
            for (task, how) in map {
                check_task(names, &task, "fail")?;
                let mut f = StatedFailure::default();
                if let Some(how) = how.clone().try_cast::<rhai::Map>() {
                    let how = take_opts(how, "a `fail` entry", &["step", "attempts"])?;
                    if let Some(s) = how.get("step") {
                        f.step = Some(s.to_string());
                    }
                    if let Some(n) = how.get("attempts") {
                        f.attempts = Some(as_u32(n, "`attempts`")?);
                    }
                } else if !how.is_unit() && how.as_bool() != Ok(true) {
                    return Err(misuse(
                        "a `fail` map gives each task `true` or `#{ step, attempts }`",
                    ));
                }
                st.fail.insert(task.to_string(), f);
            }
        } else {
            return Err(misuse(
                "`fail` takes a list of task names or a map `#{ task: #{ step, attempts } }`",
            ));
        }
    }
    if let Some(t) = opts.get("timeout") {
        let list = t
            .clone()
            .try_cast::<rhai::Array>()
            .ok_or_else(|| misuse("`timeout` takes a list of task names"))?;
        for item in list {
            let task = item
                .into_string()
                .map_err(|_| misuse("`timeout` takes a list of task names"))?;
            check_task(names, &task, "timeout")?;
            st.timeout.insert(task);
        }
    }
    if let Some(r) = opts.get("results") {
        let map = r
            .clone()
            .try_cast::<rhai::Map>()
            .ok_or_else(|| misuse("`results` takes a map `#{ task: #{ result: value } }`"))?;
        for (task, rs) in map {
            check_task(names, &task, "results")?;
            let rs = rs
                .try_cast::<rhai::Map>()
                .ok_or_else(|| misuse("`results` takes a map `#{ task: #{ result: value } }`"))?;
            for (name, v) in rs {
                let j = super::convert::to_json(&v, "result value")
                    .map_err(Box::<EvalAltResult>::from)?;
                let j = match j {
                    Value::Number(n) => Value::String(n.to_string()),
                    Value::Bool(b) => Value::String(b.to_string()),
                    other => other,
                };
                let pv: ParamValue = serde_json::from_value(j).map_err(|_| {
                    misuse(format!(
                        "result `{task}.{name}`: a result is a string, a list of strings or a map of strings"
                    ))
                })?;
                st.results
                    .entry(task.to_string())
                    .or_default()
                    .insert(name.to_string(), pv);
            }
        }
    }
    Ok(st)
}

enum Target {
    /// The build's own run (or a new run of `pipeline`).
    Build(Rc<BuildData>),
    Pipeline(Rc<BuildData>, String),
    Run(Rc<BuildData>, usize),
}

fn do_simulate(target: Dynamic, opts: rhai::Map) -> R<Simulation> {
    let opts = take_opts(
        opts,
        "simulate()",
        &[
            "params",
            "workspaces",
            "fail",
            "timeout",
            "results",
            "pipeline",
        ],
    )?;
    let target = if let Some(b) = target.clone().try_cast::<Build>() {
        Target::Build(b.0)
    } else if let Some(p) = target.clone().try_cast::<BuiltPipeline>() {
        let name = doc_name(&p.build.docs[p.doc]);
        Target::Pipeline(p.build, name)
    } else if let Some(r) = target.clone().try_cast::<BuiltRun>() {
        Target::Run(r.build, r.doc)
    } else {
        return Err(misuse(format!(
            "simulate() takes a build, a pipeline or a run (`b.run()`), found {}",
            type_name(&target)
        )));
    };
    let build = match &target {
        Target::Build(b) | Target::Pipeline(b, _) | Target::Run(b, _) => b.clone(),
    };
    let compiled = build.compiled()?;
    let bundle = compiled.bundle.bundle();
    let mut req = RunRequest::default();
    if let Some(p) = opts.get("params") {
        let m = p
            .clone()
            .try_cast::<rhai::Map>()
            .ok_or_else(|| misuse("`params` takes a map of param values"))?;
        for (k, v) in m {
            let raw = match super::convert::to_json(&v, "param value")
                .map_err(Box::<EvalAltResult>::from)?
            {
                Value::String(s) => s,
                other @ (Value::Array(_) | Value::Object(_)) => other.to_string(),
                other => other.to_string(),
            };
            req.params.push(format!("{k}={raw}"));
        }
    }
    if let Some(w) = opts.get("workspaces") {
        let m = w.clone().try_cast::<rhai::Map>().ok_or_else(|| {
            misuse("`workspaces` takes a map of bindings (`#{ source: \"emptyDir\" }`)")
        })?;
        for (k, v) in m {
            req.workspaces.push(format!("{k}={v}"));
        }
    }
    let resources = bundle.objects.iter().map(|o| &o.resource);
    let plan = match &target {
        Target::Build(_) => {
            if let Some(p) = opts.get("pipeline") {
                req.pipeline = Some(p.to_string());
            }
            plan_run(resources, &req)
        }
        Target::Pipeline(_, name) => {
            req.pipeline = Some(name.clone());
            plan_run(resources.filter(|r| r.kind() != "PipelineRun"), &req)
        }
        Target::Run(b, doc) => {
            // the chosen run is the only one the planner sees
            let wanted = &b.docs[*doc];
            let mut seen = 0;
            let docs_index: Vec<usize> = (0..b.docs.len())
                .filter(|&i| b.docs[i]["kind"] == "PipelineRun")
                .collect();
            let rank = docs_index.iter().position(|&i| i == *doc).unwrap_or(0);
            req.pipeline = run_pipeline(wanted);
            plan_run(
                resources.filter(|r| {
                    if r.kind() != "PipelineRun" {
                        return true;
                    }
                    seen += 1;
                    seen - 1 == rank
                }),
                &req,
            )
        }
    };
    let plan = plan.map_err(|e| {
        let mut r = Raised::new(codes::T006, "the run cannot be simulated").label("here");
        for line in e.lines() {
            r = r.note(line);
        }
        let r = r.help(
            "in simulate(), `-p NAME=VALUE` is `params: #{ NAME: VALUE }`, `-w` is `workspaces: #{ .. }` \
             and `--pipeline NAME` is `pipeline: NAME`",
        );
        Box::<EvalAltResult>::from(r)
    })?;
    let run: PipelineRun = serde_json::from_value(plan.body)
        .map_err(|e| misuse(format!("the planned PipelineRun is not valid: {e}")))?;
    let input = input_for(&run, bundle).map_err(|e| misuse(format!("cannot simulate: {e}")))?;
    let names: Vec<String> = input.spec.all_tasks().map(|t| t.name.clone()).collect();
    let st = stated(&opts, &names)?;
    Ok(Simulation(Rc::new(simulate(input, &st))))
}

// ---------------------------------------------------------------------------------------------
// Assertions

fn fail_compare(
    message: &str,
    label: &str,
    expected: &Value,
    actual: &Value,
) -> Box<EvalAltResult> {
    let mut r = Raised::new(codes::T001, message).label(label);
    r.comparison = Some(comparison(expected, actual));
    r.into()
}

fn with_message(base: &str, msg: Option<&str>) -> String {
    match msg {
        Some(m) => format!("{base}: {m}"),
        None => base.to_string(),
    }
}

fn do_assert_eq(actual: &Dynamic, expected: &Dynamic, msg: Option<&str>) -> R<()> {
    let (a, e) = (plain(actual), plain(expected));
    if same(&a, &e) {
        return Ok(());
    }
    Err(fail_compare(
        &with_message("assertion failed: the values are not equal", msg),
        "actual ≠ expected",
        &e,
        &a,
    ))
}

fn do_assert_ne(actual: &Dynamic, other: &Dynamic, msg: Option<&str>) -> R<()> {
    let (a, e) = (plain(actual), plain(other));
    if !same(&a, &e) {
        return Ok(());
    }
    Err(Raised::new(
        codes::T001,
        with_message("assertion failed: the values are equal", msg),
    )
    .label("both are equal")
    .note(format!("both: {}", show(&a)))
    .into())
}

fn do_assert(cond: &Dynamic, msg: Option<&str>) -> R<()> {
    match cond.as_bool() {
        Ok(true) => Ok(()),
        Ok(false) => Err(
            Raised::new(codes::T001, with_message("assertion failed", msg))
                .label("this is false")
                .into(),
        ),
        Err(_) => Err(misuse(format!(
            "assert() takes a bool, found {}; use assert_eq(actual, expected) to compare values",
            type_name(cond)
        ))),
    }
}

fn do_assert_contains(haystack: &Dynamic, needle: &Dynamic, msg: Option<&str>) -> R<()> {
    let h = plain(haystack);
    let n = plain(needle);
    let found = match (&h, &n) {
        (Value::String(s), Value::String(x)) => s.contains(x.as_str()),
        (Value::Array(a), x) => a.iter().any(|v| same(v, x)),
        (Value::Object(m), Value::String(k)) => m.contains_key(k),
        (Value::String(_) | Value::Object(_), _) => {
            return Err(misuse(format!(
                "assert_contains() looks for a string in a {}, found {}",
                if h.is_string() {
                    "string"
                } else {
                    "map's keys"
                },
                type_name(needle)
            )));
        }
        _ => {
            return Err(misuse(format!(
                "assert_contains() looks into a string, an array or a map, found {}",
                type_name(haystack)
            )));
        }
    };
    if found {
        return Ok(());
    }
    let what = match &h {
        Value::String(_) => "the string does not contain it",
        Value::Array(_) => "the array has no such element",
        _ => "the map has no such key",
    };
    let shown = show(&h);
    let mut r = Raised::new(
        codes::T001,
        with_message(&format!("assertion failed: {} not found", show(&n)), msg),
    )
    .label(what);
    if shown.len() <= SHORT {
        r = r.note(format!("in: {shown}"));
    } else {
        let mut s = String::new();
        match &h {
            Value::String(text) => s.push_str(text),
            other => pretty(other, 0, &mut s),
        }
        r = r.note(format!("in:\n{}", s.trim_end()));
    }
    Err(r.into())
}

fn snapshot_name_ok(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn snapshot_text(v: &Dynamic, host: &dyn Host) -> String {
    if let Some(s) = v.clone().try_cast::<Simulation>() {
        return host.simulation_text(&s.0);
    }
    if let Some(b) = v.clone().try_cast::<Build>()
        && let Ok(c) = &b.0.result
    {
        return c.to_yaml();
    }
    match plain(v) {
        Value::String(s) => s,
        other => yaml_of(&other),
    }
}

// ---------------------------------------------------------------------------------------------
// Registration

fn register(engine: &mut Engine, st: Shared, tctx: Tctx, file: &TestFile, host: Rc<dyn Host>) {
    engine
        .register_type_with_name::<Build>("Build")
        .register_type_with_name::<BuiltPipeline>("BuiltPipeline")
        .register_type_with_name::<BuiltPipelineTask>("BuiltPipelineTask")
        .register_type_with_name::<BuiltTask>("BuiltTask")
        .register_type_with_name::<BuiltRun>("BuiltRun")
        .register_type_with_name::<Simulation>("Simulation")
        .register_type_with_name::<SimulatedTask>("SimulatedTask");

    // --- test, skip
    let t = tctx.clone();
    let s = st.clone();
    engine.register_fn(
        "test",
        move |ctx: NativeCallContext, name: &str, f: FnPtr| -> R<()> {
            let mut c = t.borrow_mut();
            if c.running {
                return Err(misuse(
                    "test() inside a test: register cases at the top level of the file",
                ));
            }
            if name.trim().is_empty() {
                return Err(misuse("a test needs a name"));
            }
            let problem = c.cases.iter().any(|r| r.name == name).then(|| {
                let at = s.borrow().span(ctx.call_source(), ctx.call_position());
                Diagnostic::error(codes::T006, format!("two tests are named `{name}`"))
                    .at(at)
                    .label("second test of this name")
                    .help("give every test of a file its own name")
            });
            let at = s.borrow().span(ctx.call_source(), ctx.call_position());
            c.cases.push(Registered {
                name: name.to_string(),
                f,
                at,
                problem,
            });
            Ok(())
        },
    );
    engine.register_fn("skip", |reason: &str| -> R<()> {
        Err(Box::new(EvalAltResult::ErrorRuntime(
            Dynamic::from(SkipSignal(reason.to_string())),
            rhai::Position::NONE,
        )))
    });

    // --- build
    let t = tctx.clone();
    let dir = file.dir.clone();
    engine.register_fn("build", move |path: &str| {
        do_build(&t, &dir, path, rhai::Map::new())
    });
    let t = tctx.clone();
    let dir = file.dir.clone();
    engine.register_fn("build", move |path: &str, opts: rhai::Map| {
        do_build(&t, &dir, path, opts)
    });

    engine
        .register_get("ok", |b: &mut Build| b.0.result.is_ok())
        .register_get("path", |b: &mut Build| b.0.name.clone())
        .register_get("errors", |b: &mut Build| -> rhai::Array {
            match &b.0.result {
                Ok(_) => rhai::Array::new(),
                Err(f) => diag_maps(f.diagnostics.iter().filter(|d| d.is_error()), &f.sources),
            }
        })
        .register_get("warnings", |b: &mut Build| -> rhai::Array {
            match &b.0.result {
                Ok(c) => diag_maps(c.warnings.iter(), &c.sources),
                Err(f) => diag_maps(
                    f.diagnostics
                        .iter()
                        .filter(|d| d.severity == Severity::Warning),
                    &f.sources,
                ),
            }
        })
        .register_get("objects", |b: &mut Build| -> R<rhai::Array> {
            b.0.compiled()?;
            Ok(b.0.docs.iter().map(dynamic).collect())
        })
        .register_get("pipelines", |b: &mut Build| -> R<rhai::Array> {
            b.0.compiled()?;
            Ok(strings(b.0.names_of("Pipeline")))
        })
        .register_get("tasks", |b: &mut Build| -> R<rhai::Array> {
            b.0.compiled()?;
            Ok(strings(b.0.names_of("Task")))
        })
        .register_get("runs", |b: &mut Build| -> R<rhai::Array> {
            b.0.compiled()?;
            Ok(strings(b.0.names_of("PipelineRun")))
        })
        .register_fn("yaml", |b: &mut Build| -> R<String> {
            Ok(b.0.compiled()?.to_yaml())
        })
        .register_fn("pipeline", |b: &mut Build| -> R<BuiltPipeline> {
            let doc = b.0.find("Pipeline", "pipeline", None)?;
            Ok(BuiltPipeline {
                build: b.0.clone(),
                doc,
            })
        })
        .register_fn(
            "pipeline",
            |b: &mut Build, name: &str| -> R<BuiltPipeline> {
                let doc = b.0.find("Pipeline", "pipeline", Some(name))?;
                Ok(BuiltPipeline {
                    build: b.0.clone(),
                    doc,
                })
            },
        )
        .register_fn("task", |b: &mut Build, name: &str| -> R<BuiltTask> {
            let doc = b.0.find("Task", "Task", Some(name))?;
            Ok(BuiltTask {
                build: b.0.clone(),
                doc,
            })
        })
        .register_fn("run", |b: &mut Build| -> R<BuiltRun> {
            let doc = b.0.find("PipelineRun", "PipelineRun", None)?;
            Ok(BuiltRun {
                build: b.0.clone(),
                doc,
            })
        })
        .register_fn("run", |b: &mut Build, name: &str| -> R<BuiltRun> {
            let doc = b.0.find("PipelineRun", "PipelineRun", Some(name))?;
            Ok(BuiltRun {
                build: b.0.clone(),
                doc,
            })
        });

    // --- pipelines
    engine
        .register_get("name", |p: &mut BuiltPipeline| {
            doc_name(&p.build.docs[p.doc])
        })
        .register_get("object", |p: &mut BuiltPipeline| {
            dynamic(&p.build.docs[p.doc])
        })
        .register_fn("yaml", |p: &mut BuiltPipeline| {
            yaml_of(&p.build.docs[p.doc])
        })
        .register_get("params", |p: &mut BuiltPipeline| {
            by_name(&p.build.docs[p.doc]["spec"]["params"])
        })
        .register_get("workspaces", |p: &mut BuiltPipeline| {
            list_names(&p.build.docs[p.doc]["spec"]["workspaces"])
        })
        .register_get("tasks", |p: &mut BuiltPipeline| {
            list_names(&p.build.docs[p.doc]["spec"]["tasks"])
        })
        .register_get("finally", |p: &mut BuiltPipeline| {
            list_names(&p.build.docs[p.doc]["spec"]["finally"])
        })
        .register_get("results", |p: &mut BuiltPipeline| {
            values_by_name(&p.build.docs[p.doc]["spec"]["results"])
        })
        .register_get("images", |p: &mut BuiltPipeline| {
            let mut all = BTreeSet::new();
            for t in pipeline_tasks(p) {
                all.extend(
                    t.spec()
                        .map(|s| spec_images(&t.build, s))
                        .unwrap_or_default(),
                );
            }
            strings(all)
        })
        .register_fn(
            "task",
            |p: &mut BuiltPipeline, name: &str| -> R<BuiltPipelineTask> {
                let all = pipeline_tasks(p);
                let names: Vec<String> = all.iter().map(BuiltPipelineTask::name).collect();
                all.into_iter().find(|t| t.name() == name).ok_or_else(|| {
                    not_found(
                        &format!("pipeline `{}`", doc_name(&p.build.docs[p.doc])),
                        "task",
                        name,
                        &names,
                    )
                })
            },
        );

    // --- pipeline tasks
    engine
        .register_get("name", |t: &mut BuiltPipelineTask| t.name())
        .register_get("finally", |t: &mut BuiltPipelineTask| t.finally)
        .register_get("object", |t: &mut BuiltPipelineTask| dynamic(t.value()))
        .register_fn("yaml", |t: &mut BuiltPipelineTask| yaml_of(t.value()))
        .register_get("task", |t: &mut BuiltPipelineTask| -> Dynamic {
            match t.value()["taskRef"]["name"].as_str() {
                Some(n) => n.to_string().into(),
                None => Dynamic::UNIT,
            }
        })
        .register_get("runAfter", |t: &mut BuiltPipelineTask| {
            strings(
                t.value()["runAfter"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x.as_str().map(str::to_string)),
            )
        })
        .register_get("after", |t: &mut BuiltPipelineTask| strings(t.after()))
        .register_get("params", |t: &mut BuiltPipelineTask| {
            values_by_name(&t.value()["params"])
        })
        .register_get("when", |t: &mut BuiltPipelineTask| -> rhai::Array {
            t.value()["when"]
                .as_array()
                .into_iter()
                .flatten()
                .map(dynamic)
                .collect()
        })
        .register_get("workspaces", |t: &mut BuiltPipelineTask| -> rhai::Map {
            t.value()["workspaces"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| {
                    Some((
                        w["name"].as_str()?.into(),
                        dynamic(w.get("workspace").unwrap_or(&w["name"])),
                    ))
                })
                .collect()
        })
        .register_get("images", |t: &mut BuiltPipelineTask| {
            strings(
                t.spec()
                    .map(|s| spec_images(&t.build, s))
                    .unwrap_or_default(),
            )
        })
        .register_get("retries", |t: &mut BuiltPipelineTask| {
            t.value()["retries"].as_i64().unwrap_or(0) as rhai::INT
        })
        .register_get("timeout", |t: &mut BuiltPipelineTask| {
            dynamic(&t.value()["timeout"])
        })
        .register_get("matrix", |t: &mut BuiltPipelineTask| {
            dynamic(&t.value()["matrix"])
        });

    // --- tasks
    engine
        .register_get("name", |t: &mut BuiltTask| doc_name(&t.build.docs[t.doc]))
        .register_get("object", |t: &mut BuiltTask| dynamic(&t.build.docs[t.doc]))
        .register_fn("yaml", |t: &mut BuiltTask| yaml_of(&t.build.docs[t.doc]))
        .register_get("params", |t: &mut BuiltTask| {
            by_name(&t.build.docs[t.doc]["spec"]["params"])
        })
        .register_get("results", |t: &mut BuiltTask| {
            list_names(&t.build.docs[t.doc]["spec"]["results"])
        })
        .register_get("steps", |t: &mut BuiltTask| {
            list_names(&t.build.docs[t.doc]["spec"]["steps"])
        })
        .register_get("workspaces", |t: &mut BuiltTask| {
            list_names(&t.build.docs[t.doc]["spec"]["workspaces"])
        })
        .register_get("images", |t: &mut BuiltTask| {
            strings(spec_images(&t.build, &t.build.docs[t.doc]["spec"]))
        });

    // --- runs
    engine
        .register_get("name", |r: &mut BuiltRun| doc_name(&r.build.docs[r.doc]))
        .register_get("object", |r: &mut BuiltRun| dynamic(&r.build.docs[r.doc]))
        .register_fn("yaml", |r: &mut BuiltRun| yaml_of(&r.build.docs[r.doc]))
        .register_get("pipeline", |r: &mut BuiltRun| -> Dynamic {
            match run_pipeline(&r.build.docs[r.doc]) {
                Some(p) => p.into(),
                None => Dynamic::UNIT,
            }
        })
        .register_get("params", |r: &mut BuiltRun| {
            values_by_name(&r.build.docs[r.doc]["spec"]["params"])
        })
        .register_get("workspaces", |r: &mut BuiltRun| {
            list_names(&r.build.docs[r.doc]["spec"]["workspaces"])
        });

    // --- simulate
    engine.register_fn("simulate", |target: Dynamic| {
        do_simulate(target, rhai::Map::new())
    });
    engine.register_fn("simulate", |target: Dynamic, opts: rhai::Map| {
        do_simulate(target, opts)
    });
    engine
        .register_get("status", |s: &mut Simulation| s.0.reason.clone())
        .register_get("reason", |s: &mut Simulation| s.0.reason.clone())
        .register_get("succeeded", |s: &mut Simulation| s.0.status.clone())
        .register_get("message", |s: &mut Simulation| s.0.message.clone())
        .register_get("undecided", |s: &mut Simulation| s.0.undecided)
        .register_get("name", |s: &mut Simulation| s.0.name.clone())
        .register_get("tasks", |s: &mut Simulation| {
            strings(s.0.tasks.iter().map(|t| t.name.clone()))
        })
        .register_get("results", |s: &mut Simulation| -> rhai::Map {
            s.0.results
                .iter()
                .map(|(k, v)| (k.into(), dynamic(&param_value(v))))
                .collect()
        })
        .register_fn(
            "task",
            |s: &mut Simulation, name: &str| -> R<SimulatedTask> {
                match s.0.tasks.iter().position(|t| t.name == name) {
                    Some(index) => Ok(SimulatedTask {
                        report: s.0.clone(),
                        index,
                    }),
                    None => {
                        let names: Vec<String> = s.0.tasks.iter().map(|t| t.name.clone()).collect();
                        Err(not_found("the simulated run", "task", name, &names))
                    }
                }
            },
        );
    let h = host.clone();
    engine.register_fn("text", move |s: &mut Simulation| h.simulation_text(&s.0));
    for field in [
        "name", "finally", "outcome", "reason", "message", "params", "results", "order", "wave",
        "attempts", "taskruns",
    ] {
        engine.register_get(field, move |t: &mut SimulatedTask| {
            dynamic(&task_json(&t.report, t.index)[field])
        });
    }

    // --- assertions
    engine
        .register_fn("assert", |c: Dynamic| do_assert(&c, None))
        .register_fn("assert", |c: Dynamic, m: &str| do_assert(&c, Some(m)))
        .register_fn("assert_eq", |a: Dynamic, e: Dynamic| {
            do_assert_eq(&a, &e, None)
        })
        .register_fn("assert_eq", |a: Dynamic, e: Dynamic, m: &str| {
            do_assert_eq(&a, &e, Some(m))
        })
        .register_fn("assert_ne", |a: Dynamic, e: Dynamic| {
            do_assert_ne(&a, &e, None)
        })
        .register_fn("assert_ne", |a: Dynamic, e: Dynamic, m: &str| {
            do_assert_ne(&a, &e, Some(m))
        })
        .register_fn("assert_contains", |h: Dynamic, n: Dynamic| {
            do_assert_contains(&h, &n, None)
        })
        .register_fn("assert_contains", |h: Dynamic, n: Dynamic, m: &str| {
            do_assert_contains(&h, &n, Some(m))
        });
    let t = tctx.clone();
    engine.register_fn("assert_snapshot", move |name: &str, value: Dynamic| -> R<()> {
        if !snapshot_name_ok(name) {
            return Err(misuse(format!(
                "snapshot name `{name}`: use letters, digits, `-`, `_` and `.` (it names a file)"
            )));
        }
        if !t.borrow_mut().snapshots.insert(name.to_string()) {
            return Err(misuse(format!(
                "snapshot `{name}` is asserted twice in this file; give each snapshot its own name"
            )));
        }
        let text = snapshot_text(&value, host.as_ref());
        host.snapshot(name, &text).map_err(|p| {
            let mut r = Raised::new(p.code, p.message).label("here").help(p.help);
            r.comparison = Some(p.comparison);
            r.into()
        })
    });
}

fn pipeline_tasks(p: &BuiltPipeline) -> Vec<BuiltPipelineTask> {
    let spec = &p.build.docs[p.doc]["spec"];
    let mut out = Vec::new();
    for (list, finally) in [("tasks", false), ("finally", true)] {
        for index in 0..spec[list].as_array().map_or(0, Vec::len) {
            out.push(BuiltPipelineTask {
                build: p.build.clone(),
                doc: p.doc,
                finally,
                index,
            });
        }
    }
    out
}

fn diag_maps<'a>(ds: impl Iterator<Item = &'a Diagnostic>, sources: &SourceMap) -> rhai::Array {
    ds.map(|d| {
        let j = serde_json::to_value(JsonDiagnostic::new(d, sources)).unwrap_or(Value::Null);
        dynamic(&j)
    })
    .collect()
}

/// Every function name a test file can call: the script API and the test API.
pub fn function_names() -> Vec<String> {
    let mut v = api::function_names();
    v.extend(FUNCTIONS.iter().map(|s| s.to_string()));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoHost;
    impl Host for NoHost {
        fn snapshot(&self, _: &str, _: &str) -> Result<(), SnapshotProblem> {
            Ok(())
        }
        fn simulation_text(&self, _: &Report) -> String {
            String::new()
        }
    }

    fn run(text: &str) -> FileResult {
        run_file(
            TestFile {
                name: "t.test.rhai".into(),
                text: text.into(),
                dir: PathBuf::from("."),
            },
            Rc::new(NoHost),
            &|_| true,
        )
    }

    fn outcomes(r: &FileResult) -> Vec<(String, String)> {
        r.cases
            .iter()
            .map(|c| {
                let o = match &c.outcome {
                    Outcome::Passed => "passed".to_string(),
                    Outcome::Failed(f) => format!("{} {}", f.diagnostic.code, f.diagnostic.message),
                    Outcome::Skipped(r) => format!("skipped {r}"),
                    Outcome::Filtered => "filtered".into(),
                };
                (c.name.clone(), o)
            })
            .collect()
    }

    #[test]
    fn cases_run_in_order_and_failures_do_not_stop_others() {
        let r = run(r#"
            test("a", || assert_eq(1 + 1, 2));
            test("b", || assert_eq([1, #{ x: "y" }], [1, #{ x: "z" }]));
            test("c", || skip("later"));
            test("d", || { assert(true); assert_ne("a", "b"); assert_contains("abc", "b"); });
        "#);
        assert!(r.load_error.is_none());
        assert_eq!(
            outcomes(&r),
            vec![
                ("a".into(), "passed".into()),
                (
                    "b".into(),
                    "T001 assertion failed: the values are not equal".into()
                ),
                ("c".into(), "skipped later".into()),
                ("d".into(), "passed".into()),
            ]
        );
        let Outcome::Failed(f) = &r.cases[1].outcome else {
            unreachable!()
        };
        assert_eq!(
            f.comparison,
            Some(Comparison {
                expected: "[1, #{ x: \"z\" }]".into(),
                actual: "[1, #{ x: \"y\" }]".into(),
                multiline: false
            })
        );
        let span = f.diagnostic.span.expect("at the assertion");
        assert_eq!(r.sources.location(span).to_string(), "t.test.rhai:3:26");
    }

    #[test]
    fn cases_see_imports_and_top_level_variables_with_their_own_limits() {
        let r = run(r#"
            import "git" as git;
            let top = git::clone();
            test("endless", || { loop {} });
            test("imports", || { let t = git::clone(); assert_eq(type_of(top), type_of(t)); });
        "#);
        let o = outcomes(&r);
        assert!(o[0].1.starts_with("E005 "), "{o:?}");
        assert_eq!(o[1].1, "passed");
        // a failure with no position of its own is shown at its test
        let Outcome::Failed(f) = &r.cases[0].outcome else {
            unreachable!()
        };
        assert_eq!(
            r.sources.location(f.diagnostic.span.unwrap()).to_string(),
            "t.test.rhai:4:13"
        );
    }

    #[test]
    fn prints_are_kept_per_case() {
        let r = run(r#"test("p", || { print("one"); debug("two"); });"#);
        assert_eq!(r.cases[0].output, vec!["one", "[debug] 1: \"two\""]);
    }

    #[test]
    fn a_file_that_does_not_parse_runs_nothing() {
        let r = run("test(\"x\", || assert(true));\nlet = ;");
        assert!(r.cases.is_empty());
        assert_eq!(r.load_error.unwrap().diagnostic.code, codes::E001);
    }

    #[test]
    fn values_compare_by_value() {
        let j = |s: &str| -> Value { serde_json::from_str(s).unwrap() };
        assert!(same(&j("1"), &j("1.0")));
        assert!(same(&j(r#"{"a":1,"b":[1,2]}"#), &j(r#"{"b":[1,2],"a":1}"#)));
        assert!(!same(&j("[1,2]"), &j("[2,1]")));
        assert!(!same(&j(r#""1""#), &j("1")));
    }

    #[test]
    fn values_show_in_rhai_syntax() {
        let v = json!({"a": [1, "x\n"], "dry-run": null, "b": {}});
        assert_eq!(show(&v), r#"#{ a: [1, "x\n"], "dry-run": (), b: #{} }"#);
        let c = comparison(
            &json!("short"),
            &json!("line one\nline two\nline three, long enough to be shown as a diff"),
        );
        assert!(c.multiline);
        assert_eq!(
            c.actual,
            "line one\nline two\nline three, long enough to be shown as a diff"
        );
        assert_eq!(c.expected, "\"short\"\n");
    }

    #[test]
    fn paths_normalize_lexically() {
        assert_eq!(
            normalize(Path::new("examples/./ci/../release.rhai")),
            PathBuf::from("examples/release.rhai")
        );
        assert_eq!(
            normalize(Path::new("./../x.rhai")),
            PathBuf::from("../x.rhai")
        );
    }
}
