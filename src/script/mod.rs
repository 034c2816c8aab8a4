//! Script evaluation: the only module that knows Rhai.
//!
//! [`evaluate`] runs one entry script in a sandboxed engine (limits, no `eval`, no clock, strict
//! variables, `print` to stderr, imports from the embedded stdlib or the script's own directory tree) and
//! turns what it `emit`s into a [`Bundle`] of typed objects, each with the script positions of its parts.

// HostError carries a message, hints and spans; it is built once per failing script, so boxing it
// would only add noise to every host function signature.
#![allow(clippy::result_large_err)]

pub mod api;
mod convert;
mod handles;
mod help;
pub mod meta;
pub mod stdlib;
pub mod syntax;
pub mod testing;

use crate::bundle::Bundle;
use crate::diag::codes::{self, Code};
use crate::diag::{Diagnostic, Diagnostics, Frame};
use crate::source::{FileId, SourceMap, Span};
use rhai::{Dynamic, Engine, EvalAltResult, Position, Scope};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Limits that stop runaway scripts within about a second.
pub mod limits {
    pub const MAX_OPERATIONS: u64 = 5_000_000;
    pub const MAX_CALL_LEVELS: usize = 64;
    pub const MAX_EXPR_DEPTH: usize = 64;
    pub const MAX_FN_EXPR_DEPTH: usize = 32;
    pub const MAX_STRING_SIZE: usize = 1 << 20;
    pub const MAX_ARRAY_SIZE: usize = 100_000;
    pub const MAX_MAP_SIZE: usize = 10_000;
    pub const MAX_MODULES: usize = 200;
    /// Modules importing modules importing …: each level evaluates inside the one above it.
    pub const MAX_IMPORT_DEPTH: usize = 16;
    /// What `print` and `debug` may write to stderr in one evaluation; the rest is dropped (and
    /// that is said once).
    pub const MAX_PRINT_BYTES: usize = 1 << 20;
    /// Lines in one script or module, and characters in one line: Rhai counts positions in 16
    /// bits (`rhai::Position`), and saturates there, so past this it cannot say where an error is.
    pub const MAX_LINES: usize = u16::MAX as usize;
    pub const MAX_LINE_CHARS: usize = u16::MAX as usize - 1;
    /// Arrays and maps passed to tekscript functions nest at most this deep (as YAML input does).
    pub const MAX_VALUE_DEPTH: usize = 64;
    /// A watchdog on the whole evaluation. Rhai counts operations, but not the work inside one: it
    /// copies an array or map on every read, so `a = [a]` in a loop does quadratic work in linear
    /// operations (20,000 levels: 20 s), and nothing inside the evaluator can bound the nesting of
    /// a value that never leaves it. Real scripts take milliseconds; this only ends runaway ones.
    pub const MAX_SECONDS: u64 = 10;
}

/// A script or module too large for exact positions (see [`limits::MAX_LINES`]): the message and
/// the 1-based line it concerns.
pub(crate) fn position_limit(text: &str) -> Option<(String, usize)> {
    let mut lines = 0;
    for (i, line) in text.split('\n').enumerate() {
        lines = i + 1;
        // cheap test first: a line of at most MAX_LINE_CHARS bytes has at most as many characters
        if line.len() > limits::MAX_LINE_CHARS && line.chars().count() > limits::MAX_LINE_CHARS {
            return Some((
                format!(
                    "script limit reached: line {lines} is longer than {} characters",
                    limits::MAX_LINE_CHARS
                ),
                lines,
            ));
        }
    }
    if lines > limits::MAX_LINES {
        return Some((
            format!(
                "script limit reached: the script has {lines} lines (at most {})",
                limits::MAX_LINES
            ),
            limits::MAX_LINES + 1,
        ));
    }
    None
}

/// One script to evaluate.
#[derive(Debug, Clone)]
pub struct ScriptInput {
    /// The name shown in diagnostics (usually the path as the user gave it).
    pub name: String,
    pub text: String,
    /// The directory tree that `file()` and relative imports may read from (the script's directory).
    /// `None` disables both (scripts compiled from a string).
    pub root: Option<PathBuf>,
    /// The `values` map: `--values` files merged with `--set` pairs.
    pub values: serde_json::Value,
}

/// An error raised by a host function: code, message and hints. Positions are filled in from the call.
#[derive(Debug, Clone)]
pub struct HostError {
    pub code: &'static Code,
    pub message: String,
    pub help: Vec<String>,
    pub notes: Vec<String>,
    pub secondary: Vec<(Span, String)>,
    /// Overrides the call position (e.g. a syntax error inside an imported module).
    pub span: Option<Span>,
    /// Text to point at inside the call (a map key, a string literal): the span is narrowed to its first
    /// occurrence after the call position.
    pub needle: Option<String>,
    /// More errors of the same call, reported together (every wrong field of a map at once).
    pub more: Vec<HostError>,
}

impl HostError {
    pub fn new(code: &'static Code, message: impl Into<String>) -> HostError {
        HostError {
            code,
            message: message.into(),
            help: Vec::new(),
            notes: Vec::new(),
            secondary: Vec::new(),
            span: None,
            needle: None,
            more: Vec::new(),
        }
    }

    pub fn needle(mut self, text: impl Into<String>) -> HostError {
        self.needle = Some(text.into());
        self
    }

    pub fn help(mut self, h: impl Into<String>) -> HostError {
        self.help.push(h.into());
        self
    }

    pub fn note(mut self, h: impl Into<String>) -> HostError {
        self.notes.push(h.into());
        self
    }

    pub fn secondary(mut self, span: Span, label: impl Into<String>) -> HostError {
        self.secondary.push((span, label.into()));
        self
    }
}

impl From<HostError> for Box<EvalAltResult> {
    fn from(e: HostError) -> Self {
        Box::new(EvalAltResult::ErrorRuntime(
            Dynamic::from(e),
            Position::NONE,
        ))
    }
}

/// Evaluation state shared by the host functions of one run.
pub(crate) struct State {
    pub sources: SourceMap,
    /// Source name → file on disk (for relative imports and `file()`).
    pub paths: BTreeMap<String, PathBuf>,
    pub root: Option<PathBuf>,
    pub emitted: Vec<api::Emitted>,
    /// Every Task and Pipeline the script built, to warn about the ones never emitted nor used.
    pub created: Vec<api::Emitted>,
    pub modules: BTreeMap<String, rhai::Shared<rhai::Module>>,
    /// The modules being loaded, outermost (the entry script) first: (identity, shown name). The
    /// identity is the real path of a file, or the shown name of a stdlib module. An import of
    /// one of them is a cycle.
    pub loading: Vec<(String, String)>,
}

pub(crate) type Shared = Rc<RefCell<State>>;

impl State {
    /// The span of a call position in a named source.
    pub fn span(&self, source: Option<&str>, pos: Position) -> Option<Span> {
        let file = self.file_of(source)?;
        let (line, col) = (pos.line()?, pos.position().unwrap_or(1));
        Some(self.sources.span_at(file, line, col))
    }

    /// The file of a source name; no name means the entry script (always the first file).
    fn file_of(&self, source: Option<&str>) -> Option<FileId> {
        match source {
            Some(s) if !s.is_empty() => self.sources.find(s),
            _ => Some(FileId(0)),
        }
    }
}

/// Evaluates a script into a bundle. The source map is returned in both cases, for rendering, and so
/// are the warnings about the script itself (objects built but never emitted, `${…}` in strings that do
/// not interpolate).
pub fn evaluate(input: ScriptInput) -> (SourceMap, Result<Bundle, Diagnostics>, Diagnostics) {
    evaluate_within(input, std::time::Duration::from_secs(limits::MAX_SECONDS))
}

/// [`evaluate`] with another time limit (for tests of the watchdog).
pub(crate) fn evaluate_within(
    mut input: ScriptInput,
    time_limit: std::time::Duration,
) -> (SourceMap, Result<Bundle, Diagnostics>, Diagnostics) {
    // A UTF-8 byte order mark (editors on Windows add one) is not part of the script, as in YAML.
    if let Some(text) = input.text.strip_prefix('\u{feff}') {
        input.text = text.to_string();
    }
    let mut sources = SourceMap::new();
    let entry = sources.add(input.name.clone(), input.text.clone());
    let mut paths = BTreeMap::new();
    let mut entry_identity = input.name.clone();
    if let Some(root) = &input.root {
        let file_name = Path::new(&input.name)
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_default();
        let path = root.join(file_name);
        if let Ok(real) = path.canonicalize() {
            entry_identity = real.to_string_lossy().into_owned();
        }
        paths.insert(input.name.clone(), path);
    }
    let state: Shared = Rc::new(RefCell::new(State {
        sources,
        paths,
        root: input.root.clone(),
        emitted: Vec::new(),
        created: Vec::new(),
        modules: BTreeMap::new(),
        loading: vec![(entry_identity, input.name.clone())],
    }));
    if let Some((message, line)) = position_limit(&input.text) {
        let st = state.borrow();
        let d = Diagnostic::error(codes::E005, message)
            .at(Some(st.sources.span_at(entry, line, 1)))
            .help(POSITION_LIMIT_HELP);
        drop(st);
        let sources = std::mem::take(&mut state.borrow_mut().sources);
        return (sources, Err(Diagnostics(vec![d])), Diagnostics::default());
    }
    let engine = new_engine(state.clone(), Watchdog::new(time_limit));
    let mut scope = Scope::new();
    scope.push_constant("values", values_to_dynamic(&input.values));

    let result = engine
        .compile_with_scope(&scope, &input.text)
        .map_err(|e| Box::new(EvalAltResult::ErrorParsing(*e.0, e.1)))
        .and_then(|mut ast| {
            ast.set_source(input.name.clone());
            engine.run_ast_with_scope(&mut scope, &ast)
        });
    drop(engine);
    let mut warnings = Diagnostics::default();
    let outcome = match result {
        Err(err) => {
            let st = state.borrow();
            Err(Diagnostics(to_diagnostics(&err, &st, entry)))
        }
        Ok(()) => {
            warnings.extend(api::never_emitted(&state));
            api::finish(&state)
        }
    };
    warnings.extend(help::uninterpolated(&state.borrow().sources, entry));
    let sources = std::mem::take(&mut state.borrow_mut().sources);
    (sources, outcome, warnings)
}

fn values_to_dynamic(v: &serde_json::Value) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or_else(|_| Dynamic::from_map(rhai::Map::new()))
}

fn new_engine(state: Shared, watchdog: Watchdog) -> Engine {
    let mut engine = Engine::new();
    engine.on_progress(move |ops| {
        if ops % 1024 == 0 && watchdog.expired() {
            Some(Dynamic::from(TimeLimit(watchdog.limit)))
        } else {
            None
        }
    });
    engine
        .set_max_operations(limits::MAX_OPERATIONS)
        .set_max_call_levels(limits::MAX_CALL_LEVELS)
        .set_max_expr_depths(limits::MAX_EXPR_DEPTH, limits::MAX_FN_EXPR_DEPTH)
        .set_max_string_size(limits::MAX_STRING_SIZE)
        .set_max_array_size(limits::MAX_ARRAY_SIZE)
        .set_max_map_size(limits::MAX_MAP_SIZE)
        .set_max_modules(limits::MAX_MODULES)
        .set_strict_variables(true)
        .set_fail_on_invalid_map_property(true);
    engine.disable_symbol("eval");
    // Rhai reserves words it does not use (`default`, `shared`, `package`, `new`, `match`, …); Tekton
    // names need several of them (`#{ default: "main" }`, `let shared = p.workspace(..)`). Read every
    // reserved-but-unused word as a plain identifier; the keywords Rhai uses keep their own tokens.
    // (`on_parse_token` is Rhai's "volatile" internals API; Cargo.lock pins the version and
    // `reserved_words_are_plain_identifiers` guards it.)
    #[allow(deprecated)]
    engine.on_parse_token(|token, _, _| match token {
        rhai::Token::Reserved(s) if rhai::is_valid_identifier(&s) && s.as_str() != "eval" => {
            rhai::Token::Identifier(s)
        }
        other => other,
    });
    // A debugger that never stops: registering it makes Rhai keep the call stack, which tells an
    // object made inside a module from which line of the user's script it came (diagnostics about it
    // then show that trace).
    #[allow(deprecated)]
    engine.register_debugger(
        |_, dbg| dbg,
        |_, _, _, _, _| Ok(rhai::debugger::DebuggerCommand::Continue),
    );
    // Standard functions audited for time, I/O and blocking (everything `Engine::new()` registers):
    // - `sleep(INT)`, `sleep(FLOAT)` (Rhai's core package) block the thread without counting
    //   operations: removed, by registering versions that raise E002 (functions registered on the
    //   engine are found before the packages').
    // - `timestamp()`, `elapsed`, instant arithmetic: not compiled (rhai's `no_time` feature).
    // - `eval`: disabled below; `import`: only through `stdlib::Resolver` (stdlib, or files confined
    //   to the script's directory tree).
    // - `print`, `debug`: go to stderr through the callbacks below, with control characters
    //   escaped and the total capped at `limits::MAX_PRINT_BYTES`.
    // - everything else (strings, arrays, maps, blobs, math, `parse_json`, `Fn`/`call`/`curry`,
    //   reflection, `exit`) is pure computation, bounded by the operation and size limits.
    for_each_sleep(&mut engine);
    let printed = Rc::new(std::cell::Cell::new(0usize));
    let out = printed.clone();
    engine.on_print(move |s| script_output(&out, "", s));
    let out = printed;
    engine.on_debug(move |s, src, pos| {
        let at = match (src, pos.line()) {
            (Some(src), Some(line)) => format!("{src}:{line}: "),
            (None, Some(line)) => format!("{line}: "),
            _ => String::new(),
        };
        script_output(&out, &format!("[debug] {at}"), s);
    });
    engine.set_module_resolver(stdlib::Resolver::new(state.clone()));
    api::register(&mut engine, state);
    engine
}

pub(crate) const POSITION_LIMIT_HELP: &str = "the script engine counts lines and columns in 16 bits, so past 65535 it could not say where an error is; split the script into modules (`import \"part\" as part;`) or keep long text in a file read with `file(\"…\")`";

/// The clock of the watchdog (see [`limits::MAX_SECONDS`]), shared by the engine's progress
/// callback and whoever starts an evaluation on it ([`Watchdog::restart`]: `tekscript test` gives
/// every case its own time, as it gives it its own operations).
#[derive(Clone)]
pub(crate) struct Watchdog {
    started: Rc<std::cell::Cell<std::time::Instant>>,
    limit: std::time::Duration,
}

impl Watchdog {
    pub(crate) fn new(limit: std::time::Duration) -> Watchdog {
        Watchdog {
            started: Rc::new(std::cell::Cell::new(std::time::Instant::now())),
            limit,
        }
    }

    pub(crate) fn restart(&self) {
        self.started.set(std::time::Instant::now());
    }

    fn expired(&self) -> bool {
        self.started.get().elapsed() > self.limit
    }
}

/// Why the watchdog stopped a script (see [`limits::MAX_SECONDS`]).
#[derive(Debug, Clone, Copy)]
struct TimeLimit(std::time::Duration);

/// Replaces Rhai's `sleep` (see the audit in `new_engine`): a script has no clock, and a build
/// must not hang.
fn for_each_sleep(engine: &mut Engine) {
    fn no_sleep() -> Result<(), Box<EvalAltResult>> {
        Err(HostError::new(
            codes::E002,
            "`sleep` is not available: scripts run without a clock, so that a build cannot hang and always gives the same result",
        )
        .help("remove the call; waiting belongs in a step (`sleep 5` in its script)")
        .into())
    }
    engine.register_fn("sleep", |_: rhai::INT| no_sleep());
    engine.register_fn("sleep", |_: rhai::FLOAT| no_sleep());
}

/// Writes a line of `print`/`debug` output to stderr, with control characters (other than tab)
/// escaped, until `limits::MAX_PRINT_BYTES` have been written; then says once that the rest is cut.
fn script_output(printed: &std::cell::Cell<usize>, prefix: &str, text: &str) {
    if let Some(line) = capped_output(printed, prefix, text) {
        eprintln!("{line}");
    }
}

/// The line to show for one `print`/`debug` (control characters escaped), while the total stays
/// within [`limits::MAX_PRINT_BYTES`]; then, once, a line that says the rest is cut; then nothing.
pub(crate) fn capped_output(
    printed: &std::cell::Cell<usize>,
    prefix: &str,
    text: &str,
) -> Option<String> {
    let before = printed.get();
    if before > limits::MAX_PRINT_BYTES {
        return None;
    }
    let line = format!(
        "{prefix}{}",
        crate::diag::render::escape_controls(text, true)
    );
    let after = before + line.len() + 1;
    if after > limits::MAX_PRINT_BYTES {
        printed.set(limits::MAX_PRINT_BYTES + 1);
        return Some(format!(
            "[tekscript] the script printed more than {} bytes; the rest of its print/debug output is not shown",
            limits::MAX_PRINT_BYTES
        ));
    }
    printed.set(after);
    Some(line)
}

/// Turns a Rhai error into diagnostics (one, or more when a host error carries several problems of
/// one call), each with the call trace back to the entry script.
fn to_diagnostics(err: &EvalAltResult, st: &State, entry: FileId) -> Vec<Diagnostic> {
    let (first, call) = to_diagnostic_and_call(err, st, entry);
    let mut inner = err;
    while let EvalAltResult::ErrorInFunctionCall(_, _, e, _)
    | EvalAltResult::ErrorInModule(_, e, _) = inner
    {
        inner = e;
    }
    let mut out = vec![first.clone()];
    if let EvalAltResult::ErrorRuntime(v, _) = inner
        && let Some(h) = v.read_lock::<HostError>()
    {
        let base = call;
        for m in &h.more {
            let at = base.map(|s| match &m.needle {
                Some(n) => narrow(&st.sources, s, n).unwrap_or(s),
                None => s,
            });
            let mut d = Diagnostic::error(m.code, m.message.clone()).at(at);
            for x in &m.help {
                d = d.help(x.clone());
            }
            out.push(d.with_trace(first.trace.clone()));
        }
    }
    out
}

/// Turns a Rhai error into a diagnostic with the call trace back to the entry script, and the span of
/// the failing call (before it was narrowed to a needle).
fn to_diagnostic_and_call(
    err: &EvalAltResult,
    st: &State,
    entry: FileId,
) -> (Diagnostic, Option<Span>) {
    let mut frames = Vec::new();
    let mut file = entry;
    let mut e = err;
    loop {
        match e {
            EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                if let Some(span) = span_in(st, file, *pos) {
                    frames.push(Frame {
                        span,
                        note: format!("in this call to `{name}`"),
                    });
                }
                if !src.is_empty()
                    && let Some(f) = st.sources.find(src)
                {
                    file = f;
                }
                e = inner;
            }
            EvalAltResult::ErrorInModule(path, inner, pos) => {
                if let Some(span) = span_in(st, file, *pos) {
                    frames.push(Frame {
                        span,
                        note: format!("while loading module `{path}`"),
                    });
                }
                e = inner;
            }
            _ => break,
        }
    }
    frames.reverse();
    let pos = e.position();
    let span = span_in(st, file, pos);
    let d = match e {
        EvalAltResult::ErrorRuntime(v, _) if v.is::<HostError>() => {
            let h = v.clone().cast::<HostError>();
            let at = h.span.or(span).map(|s| match &h.needle {
                Some(n) => narrow(&st.sources, s, n).unwrap_or(s),
                None => s,
            });
            let mut d = Diagnostic::error(h.code, h.message).at(at);
            for (s, l) in h.secondary {
                d = d.secondary(Some(s), l);
            }
            for x in h.help {
                d = d.help(x);
            }
            for x in h.notes {
                d = d.note(x);
            }
            d
        }
        EvalAltResult::ErrorRuntime(v, _) => {
            Diagnostic::error(codes::E006, format!("the script raised an error: {v}"))
                .at(span)
                .label("raised here")
        }
        EvalAltResult::ErrorParsing(rhai::ParseErrorType::VariableUndefined(name), _) => {
            help::unknown_variable(name, span, &st.sources)
        }
        EvalAltResult::ErrorParsing(kind, _) => {
            Diagnostic::error(codes::E001, format!("syntax error: {kind}"))
                .at(span)
                .help(help::syntax_help(&kind.to_string(), span, &st.sources))
        }
        EvalAltResult::ErrorFunctionNotFound(sig, _) => function_not_found(sig).at(span),
        EvalAltResult::ErrorVariableNotFound(name, _) => {
            help::unknown_variable(name, span, &st.sources)
        }
        EvalAltResult::ErrorPropertyNotFound(name, _) => {
            Diagnostic::error(codes::E013, format!("the map has no property `{name}`"))
                .at(span)
                .help(format!(
                    "use `m.get(\"{name}\") ?? default` for optional keys"
                ))
        }
        EvalAltResult::ErrorModuleNotFound(name, _) => {
            Diagnostic::error(codes::E008, format!("module `{name}` not found"))
                .at(span)
                .help(stdlib::not_found_help(name))
        }
        EvalAltResult::ErrorTerminated(v, _) if v.is::<TimeLimit>() => limit(
            span,
            format!(
                "the script ran longer than {} s",
                v.clone().cast::<TimeLimit>().0.as_secs_f64()
            ),
            "look for a loop that copies large or deeply nested arrays or maps (`a = [a]`); real scripts take milliseconds",
        ),
        EvalAltResult::ErrorTooManyOperations(_) => limit(
            span,
            format!(
                "the script ran more than {} operations",
                limits::MAX_OPERATIONS
            ),
            "look for a loop that never ends",
        ),
        EvalAltResult::ErrorStackOverflow(_) => limit(
            span,
            format!(
                "function calls nested deeper than {} levels",
                limits::MAX_CALL_LEVELS
            ),
            "look for a function that calls itself without a base case",
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => limit(
            span,
            format!("{what} exceeds the script limit"),
            "strings are limited to 1 MiB, arrays to 100000 items and maps to 10000 entries",
        ),
        EvalAltResult::ErrorTooManyModules(_) => limit(
            span,
            format!("more than {} modules imported", limits::MAX_MODULES),
            "look for modules that import each other",
        ),
        EvalAltResult::ErrorTooManyVariables(_) => limit(
            span,
            "too many variables".into(),
            "split the script into functions",
        ),
        EvalAltResult::ErrorMismatchDataType(expected, actual, _)
        | EvalAltResult::ErrorMismatchOutputType(expected, actual, _) => {
            Diagnostic::error(codes::E003, format!("expected {expected}, found {actual}")).at(span)
        }
        EvalAltResult::ErrorForbiddenVariable(name, _) => Diagnostic::error(
            codes::E010,
            format!("`{name}` cannot be used as a variable name"),
        )
        .at(span),
        other => {
            let msg = other.to_string();
            let msg = msg.split(" (line ").next().unwrap_or(&msg).to_string();
            Diagnostic::error(codes::E006, msg).at(span)
        }
    };
    let call = match e {
        EvalAltResult::ErrorRuntime(v, _) => {
            v.read_lock::<HostError>().and_then(|h| h.span).or(span)
        }
        _ => span,
    };
    (d.with_trace(frames), call)
}

fn limit(span: Option<Span>, msg: String, help: &str) -> Diagnostic {
    Diagnostic::error(codes::E005, format!("script limit reached: {msg}"))
        .at(span)
        .help(help.to_string())
}

/// `stepp (Task, &str | ImmutableString | String)` → `stepp(Task, string)`.
fn clean_signature(sig: &str) -> String {
    let sig = sig.replace("&str | ImmutableString | String", "string");
    match sig.split_once(" (") {
        Some((name, rest)) => format!("{name}({rest}"),
        None => sig,
    }
}

fn function_not_found(sig: &str) -> Diagnostic {
    let name = sig
        .split(' ')
        .next()
        .unwrap_or(sig)
        .split('(')
        .next()
        .unwrap_or(sig);
    let mut d = Diagnostic::error(
        codes::E002,
        format!("no function `{}`", clean_signature(sig)),
    )
    .label("unknown function or wrong argument types");
    let known = api::function_names();
    if let Some(s) = crate::diag::suggest::did_you_mean(name, known.iter().map(|s| s.as_str())) {
        if s != name {
            d = d.help(format!("did you mean `{s}`?"));
        } else {
            d = d.help(format!(
                "`{name}` exists, but not for these argument types; see docs/script-api.md"
            ));
        }
    }
    d
}

/// The span of `needle` in the source after `from` (within 4 KiB), if it is there.
fn narrow(sources: &SourceMap, from: Span, needle: &str) -> Option<Span> {
    let text = &sources.get(from.file).text;
    let start = from.start.min(text.len());
    let mut end = (start + 4096).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // `key:` (a map key) points at the key's value
    if let Some(key) = needle.strip_suffix(':') {
        let hay = &text[start..end];
        let mut from_i = 0;
        while let Some(i) = hay[from_i..].find(key) {
            let k = start + from_i + i;
            from_i += i + key.len();
            let before_ok =
                k == 0 || !text[..k].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            let after = text[k + key.len()..].trim_start_matches(['"', ' ', '\t']);
            if !before_ok || !after.starts_with(':') {
                continue;
            }
            let colon = text.len() - after.len();
            let value = colon + 1 + (after[1..].len() - after[1..].trim_start().len());
            let value_end = sources.get(from.file).token_end(value);
            return Some(Span::new(from.file, value, value_end));
        }
        return None;
    }
    let i = text[start..end].find(needle)?;
    Some(Span::new(from.file, start + i, start + i + needle.len()))
}

fn span_in(st: &State, file: FileId, pos: Position) -> Option<Span> {
    let line = pos.line()?;
    Some(st.sources.span_at(file, line, pos.position().unwrap_or(1)))
}

#[cfg(test)]
mod tests;
