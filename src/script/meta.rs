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
    }));
    new_engine(state)
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
        // operators and the handles' conversions are not API
        if !name.chars().next().is_some_and(|c| c.is_alphabetic())
            || matches!(name, "to_string" | "to_debug")
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
    defs.write_to_dir(dir)?;
    Ok(defs.iter_files().map(|(name, _)| name).collect())
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
        assert!(all.contains("fn pipeline("), "{all:.2000}");
        assert!(all.contains("module git") || all.contains("fn clone("));
    }
}
