//! What the engine knows about its own API, for tools (the language server, `tekscript definitions`):
//! the registered host functions from Rhai's `metadata` feature, and `.d.rhai` definition files.

use super::{State, new_engine, stdlib};
use crate::source::SourceMap;
use rhai::{Engine, Module, Scope};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

/// One registered host function (a method when `receiver` is set).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostFn {
    pub name: String,
    /// The script-visible type of the first argument of a method (`Task`, `Pipeline`, …).
    pub receiver: Option<String>,
    /// Number of arguments, without the receiver.
    pub arity: usize,
    /// `get` for a property getter (`t.name`), `fn` otherwise.
    pub kind: &'static str,
}

/// Engine built only for introspection: its state is never used by a script.
fn introspection_engine() -> Engine {
    let state = Rc::new(RefCell::new(State {
        sources: SourceMap::new(),
        paths: BTreeMap::new(),
        root: None,
        emitted: Vec::new(),
        created: Vec::new(),
        modules: BTreeMap::new(),
        loading: Vec::new(),
    }));
    new_engine(
        state,
        super::Watchdog::new(std::time::Duration::from_secs(super::limits::MAX_SECONDS)),
    )
}

const TYPES: &[&str] = &[
    "Task",
    "Pipeline",
    "PipelineRun",
    "TaskRun",
    "StepAction",
    "PipelineTask",
    "Reference",
    "Param",
    "Result",
    "ResultRef",
    "StepResultRef",
    "Workspace",
    "PipelineWorkspace",
];

/// The host functions tekscript registers (not Rhai's standard library), sorted.
pub fn host_functions() -> Vec<HostFn> {
    let engine = introspection_engine();
    let json = engine
        .gen_fn_metadata_to_json(false)
        .expect("metadata always serializes");
    let v: serde_json::Value = serde_json::from_str(&json).expect("rhai writes JSON");
    let mut out = Vec::new();
    for f in v["functions"].as_array().into_iter().flatten() {
        let Some(name) = f["name"].as_str() else {
            continue;
        };
        let params: Vec<String> = f["params"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p["type"].as_str().unwrap_or("").to_string())
            .collect();
        let (kind, name) = if let Some(n) = name.strip_prefix("get$") {
            ("get", n)
        } else if name.starts_with("set$") || name.starts_with("index$") {
            continue;
        } else {
            ("fn", name)
        };
        // operators and the handles' conversions are not API; `sleep` is registered only to refuse it
        if !name.chars().next().is_some_and(|c| c.is_alphabetic())
            || matches!(name, "to_string" | "to_debug" | "sleep")
        {
            continue;
        }
        let first = params
            .first()
            .map(|t| t.trim_start_matches("&mut ").to_string());
        let receiver = first.filter(|t| TYPES.contains(&t.as_str()) && f["namespace"] != "");
        let receiver = match receiver {
            Some(r) if kind == "get" || params[0].starts_with("&mut") => Some(r),
            _ => None,
        };
        let arity = params.len() - usize::from(receiver.is_some());
        out.push(HostFn {
            name: name.to_string(),
            receiver,
            arity,
            kind,
        });
    }
    out.sort();
    out.dedup();
    out
}

/// Writes Rhai definition files (`.d.rhai`) for the host API and the stdlib modules into `dir`, for
/// editors that use Rhai's own tooling. Returns the names of the files written.
pub fn write_definitions(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut engine = introspection_engine();
    for (name, text) in stdlib::MODULES {
        if let Some(m) = stdlib_module(&engine, name, text) {
            engine.register_static_module(*name, m.into());
        }
    }
    let mut scope = Scope::new();
    scope.push_constant("values", rhai::Map::new());
    let defs = engine
        .definitions_with_scope(&scope)
        .include_standard_packages(true);
    let returns = return_types(&engine);
    std::fs::create_dir_all(dir)?;
    let mut names = Vec::new();
    for (name, content) in defs.iter_files() {
        std::fs::write(dir.join(&name), fix_return_types(&content, &returns))?;
        names.push(name);
    }
    Ok(names)
}

/// The script-visible return type of each host function (name, arity), where all its overloads agree.
/// Rhai prints a `Result<T, Box<EvalAltResult>>` return type as `EvalAltResult>>`; this recovers `T`.
fn return_types(engine: &Engine) -> BTreeMap<(String, usize), String> {
    let json = engine
        .gen_fn_metadata_to_json(false)
        .expect("metadata always serializes");
    let v: serde_json::Value = serde_json::from_str(&json).expect("rhai writes JSON");
    let mut out: BTreeMap<(String, usize), Option<String>> = BTreeMap::new();
    for f in v["functions"].as_array().into_iter().flatten() {
        let (Some(name), Some(n), Some(ret)) = (
            f["name"].as_str(),
            f["numParams"].as_u64(),
            f["returnType"].as_str(),
        ) else {
            continue;
        };
        let inner = ret
            .strip_prefix("core::result::Result<")
            .and_then(|r| r.split(',').next())
            .unwrap_or(ret);
        let last = inner.rsplit("::").next().unwrap_or(inner);
        let ty = match last {
            "PipelineB" => "Pipeline",
            "TaskB" => "Task",
            "PTask" => "PipelineTask",
            "StepActionB" => "StepAction",
            "PipelineRunB" => "PipelineRun",
            "TaskRunB" => "TaskRun",
            "RefValue" => "Reference",
            "ParamRef" => "Param",
            "ResultDecl" => "Result",
            "TaskWorkspace" => "Workspace",
            "ImmutableString" | "String" => "string",
            "()" => "()",
            "bool" => "bool",
            "i64" => "int",
            other if other.contains("BTreeMap") => "map",
            other => other,
        }
        .to_string();
        let key = (name.to_string(), n as usize);
        match out.get(&key) {
            Some(Some(t)) if *t != ty => {
                out.insert(key, None);
            }
            Some(_) => {}
            None => {
                out.insert(key, Some(ty));
            }
        }
    }
    out.into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

fn fix_return_types(content: &str, returns: &BTreeMap<(String, usize), String>) -> String {
    let mut out = String::new();
    for line in content.lines() {
        let Some(head) = line.strip_suffix(" -> EvalAltResult>>;") else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let name = head
            .trim_start()
            .strip_prefix("fn ")
            .and_then(|h| h.split('(').next())
            .unwrap_or("");
        let args = head
            .split_once('(')
            .map(|(_, a)| a.trim_end_matches(')'))
            .unwrap_or("");
        let n = if args.trim().is_empty() {
            0
        } else {
            args.split(',').count()
        };
        match returns.get(&(name.to_string(), n)).map(String::as_str) {
            Some("()") => out.push_str(&format!("{head};\n")),
            Some(t) => out.push_str(&format!("{head} -> {t};\n")),
            None => out.push_str(&format!("{head} -> ?;\n")),
        }
    }
    out
}

fn stdlib_module(engine: &Engine, name: &str, text: &str) -> Option<Module> {
    let mut ast = engine.compile(text).ok()?;
    ast.set_source(stdlib::source_name(name));
    Module::eval_ast_as_new(Scope::new(), &ast, engine).ok()
}

/// Parses a script with tekscript's engine settings without running it (for documentation examples
/// written against another entry point, such as `*.test.rhai` files).
pub fn check_syntax(text: &str) -> Result<(), String> {
    introspection_engine()
        .compile(text)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_functions_include_methods_and_getters() {
        let fns = host_functions();
        let has = |name: &str, recv: Option<&str>, arity: usize| {
            fns.iter()
                .any(|f| f.name == name && f.receiver.as_deref() == recv && f.arity == arity)
        };
        assert!(has("task", None, 1));
        assert!(has("task", Some("Pipeline"), 3));
        assert!(has("step", Some("Task"), 3));
        assert!(has("name", Some("Task"), 0));
        assert!(!fns.iter().any(|f| f.name == "+"));
    }

    #[test]
    fn definitions_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_definitions(dir.path()).unwrap();
        assert!(!files.is_empty());
        let all: String = files
            .iter()
            .map(|f| std::fs::read_to_string(dir.path().join(f)).unwrap())
            .collect();
        assert!(
            all.contains("fn pipeline(_: string) -> Pipeline;"),
            "{all:.2000}"
        );
        assert!(!all.contains("EvalAltResult"), "{all:.2000}");
        assert!(all.contains("module git") || all.contains("fn clone("));
    }
}
