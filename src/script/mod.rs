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
pub mod stdlib;
pub mod testing;

use crate::bundle::Bundle;
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
    pub code: &'static str,
    pub message: String,
    pub help: Vec<String>,
    pub notes: Vec<String>,
    pub secondary: Vec<(Span, String)>,
    /// Overrides the call position (e.g. a syntax error inside an imported module).
    pub span: Option<Span>,
    /// Text to point at inside the call (a map key, a string literal): the span is narrowed to its first
    /// occurrence after the call position.
    pub needle: Option<String>,
}

impl HostError {
    pub fn new(code: &'static str, message: impl Into<String>) -> HostError {
        HostError {
            code,
            message: message.into(),
            help: Vec::new(),
            notes: Vec::new(),
            secondary: Vec::new(),
            span: None,
            needle: None,
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
    pub modules: BTreeMap<String, rhai::Shared<rhai::Module>>,
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

/// Evaluates a script into a bundle. The source map is returned in both cases, for rendering.
pub fn evaluate(input: ScriptInput) -> (SourceMap, Result<Bundle, Diagnostics>) {
    let mut sources = SourceMap::new();
    let entry = sources.add(input.name.clone(), input.text.clone());
    let mut paths = BTreeMap::new();
    if let Some(root) = &input.root {
        let file_name = Path::new(&input.name)
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_default();
        paths.insert(input.name.clone(), root.join(file_name));
    }
    let state: Shared = Rc::new(RefCell::new(State {
        sources,
        paths,
        root: input.root.clone(),
        emitted: Vec::new(),
        modules: BTreeMap::new(),
    }));
    let engine = new_engine(state.clone());
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
    let outcome = match result {
        Err(err) => {
            let st = state.borrow();
            Err(Diagnostics(vec![to_diagnostic(&err, &st, entry)]))
        }
        Ok(()) => api::finish(&state),
    };
    let sources = std::mem::take(&mut state.borrow_mut().sources);
    (sources, outcome)
}

fn values_to_dynamic(v: &serde_json::Value) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or_else(|_| Dynamic::from_map(rhai::Map::new()))
}

fn new_engine(state: Shared) -> Engine {
    let mut engine = Engine::new();
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
    // `default` is Tekton's key for param defaults but a reserved word in Rhai; let scripts write
    // `#{ default: "main" }` by reading it as a plain identifier. (`on_parse_token` is Rhai's "volatile"
    // internals API; Cargo.lock pins the version and `reserved_word_default_is_a_plain_key` guards it.)
    #[allow(deprecated)]
    engine.on_parse_token(|token, _, _| match token {
        rhai::Token::Reserved(s) if s.as_str() == "default" => rhai::Token::Identifier(s),
        other => other,
    });
    engine.on_print(|s| eprintln!("{s}"));
    engine.on_debug(|s, src, pos| {
        let at = match (src, pos.line()) {
            (Some(src), Some(line)) => format!("{src}:{line}: "),
            (None, Some(line)) => format!("{line}: "),
            _ => String::new(),
        };
        eprintln!("[debug] {at}{s}");
    });
    engine.set_module_resolver(stdlib::Resolver::new(state.clone()));
    api::register(&mut engine, state);
    engine
}

/// Turns a Rhai error into a diagnostic with the call trace back to the entry script.
fn to_diagnostic(err: &EvalAltResult, st: &State, entry: FileId) -> Diagnostic {
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
            Diagnostic::error("E006", format!("the script raised an error: {v}"))
                .at(span)
                .label("raised here")
        }
        EvalAltResult::ErrorParsing(rhai::ParseErrorType::VariableUndefined(name), _) => {
            Diagnostic::error("E009", format!("unknown variable `{name}`"))
                .at(span)
                .label("not declared")
                .help("declare it with `let`; inputs from --set/--values are in the `values` map")
        }
        EvalAltResult::ErrorParsing(kind, _) => {
            Diagnostic::error("E001", format!("syntax error: {kind}"))
                .at(span)
                .help(syntax_help(kind))
        }
        EvalAltResult::ErrorFunctionNotFound(sig, _) => function_not_found(sig).at(span),
        EvalAltResult::ErrorVariableNotFound(name, _) => {
            let mut d = Diagnostic::error("E009", format!("unknown variable `{name}`"))
                .at(span)
                .label("not declared");
            d = d.help("declare it with `let`; inputs from --set/--values are in the `values` map");
            d
        }
        EvalAltResult::ErrorPropertyNotFound(name, _) => {
            Diagnostic::error("E013", format!("the map has no property `{name}`"))
                .at(span)
                .help(format!(
                    "use `m.get(\"{name}\") ?? default` for optional keys"
                ))
        }
        EvalAltResult::ErrorModuleNotFound(name, _) => {
            Diagnostic::error("E008", format!("module `{name}` not found"))
                .at(span)
                .help(stdlib::not_found_help(name))
        }
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
            Diagnostic::error("E003", format!("expected {expected}, found {actual}")).at(span)
        }
        EvalAltResult::ErrorForbiddenVariable(name, _) => Diagnostic::error(
            "E010",
            format!("`{name}` cannot be used as a variable name"),
        )
        .at(span),
        other => {
            let msg = other.to_string();
            let msg = msg.split(" (line ").next().unwrap_or(&msg).to_string();
            Diagnostic::error("E006", msg).at(span)
        }
    };
    d.with_trace(frames)
}

fn limit(span: Option<Span>, msg: String, help: &str) -> Diagnostic {
    Diagnostic::error("E005", format!("script limit reached: {msg}"))
        .at(span)
        .help(help.to_string())
}

fn syntax_help(kind: &rhai::ParseErrorType) -> String {
    let text = kind.to_string();
    if text.contains("reserved keyword") {
        return "Rhai reserves this word; quote it as a map key (`#{ \"shared\": x }`) or choose another name".into();
    }
    "see the Rhai language reference: https://rhai.rs/book/".into()
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
    let mut d = Diagnostic::error("E002", format!("no function `{}`", clean_signature(sig)))
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
    let i = text[start..end].find(needle)?;
    Some(Span::new(from.file, start + i, start + i + needle.len()))
}

fn span_in(st: &State, file: FileId, pos: Position) -> Option<Span> {
    let line = pos.line()?;
    Some(st.sources.span_at(file, line, pos.position().unwrap_or(1)))
}

#[cfg(test)]
mod tests;
