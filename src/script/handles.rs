//! Typed handles: values a script gets back when it declares a param, result or workspace, or adds a task
//! to a pipeline. Each renders as the right `$(…)` text, also inside string interpolation.

use super::HostError;
use crate::diag::codes;
use rhai::Dynamic;

/// Which part of a param or result is referenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sel {
    Whole,
    Star,
    Index(i64),
    Key(String),
}

impl Sel {
    fn suffix(&self) -> String {
        match self {
            Sel::Whole => String::new(),
            Sel::Star => "[*]".into(),
            Sel::Index(i) => format!("[{i}]"),
            Sel::Key(k) => format!(".{k}"),
        }
    }
}

/// `$(params.NAME)`: a param of a task, pipeline or step action.
#[derive(Debug, Clone)]
pub struct ParamRef {
    pub name: String,
    pub sel: Sel,
}

impl ParamRef {
    pub fn render(&self) -> String {
        if self.name.contains('.') {
            format!("$(params[\"{}\"]{})", self.name, self.sel.suffix())
        } else {
            format!("$(params.{}{})", self.name, self.sel.suffix())
        }
    }
}

/// A task's own result: `$(results.NAME.path)` (where a step writes it).
#[derive(Debug, Clone)]
pub struct ResultDecl {
    pub name: String,
    /// `Some(step)` for a step result (`$(step.results.NAME.path)` inside the step).
    pub step: Option<String>,
}

impl ResultDecl {
    pub fn render(&self) -> String {
        match self.step {
            Some(_) => format!("$(step.results.{}.path)", self.name),
            None => format!("$(results.{}.path)", self.name),
        }
    }
}

/// A task workspace: `$(workspaces.NAME.path)`.
#[derive(Debug, Clone)]
pub struct TaskWorkspace {
    pub name: String,
}

impl TaskWorkspace {
    pub fn attr(&self, attr: &str) -> String {
        format!("$(workspaces.{}.{attr})", self.name)
    }
}

/// A pipeline workspace: bound to tasks by name; `.bound` gives `$(workspaces.NAME.bound)`.
#[derive(Debug, Clone)]
pub struct PipelineWorkspace {
    pub name: String,
}

/// `$(tasks.T.results.R)` — or `$(finally.T.results.R)` for a finally task (pipeline results only).
#[derive(Debug, Clone)]
pub struct ResultRef {
    pub task: String,
    pub result: String,
    pub finally: bool,
    pub sel: Sel,
}

impl ResultRef {
    pub fn render(&self) -> String {
        let scope = if self.finally { "finally" } else { "tasks" };
        format!(
            "$({scope}.{}.results.{}{})",
            self.task,
            self.result,
            self.sel.suffix()
        )
    }
}

/// `$(steps.S.results.R)`: a previous step's result, for env, command and args.
#[derive(Debug, Clone)]
pub struct StepResultRef {
    pub step: String,
    pub result: String,
    pub sel: Sel,
}

impl StepResultRef {
    pub fn render(&self) -> String {
        format!(
            "$(steps.{}.results.{}{})",
            self.step,
            self.result,
            self.sel.suffix()
        )
    }
}

/// Renders any handle as its `$(…)` text; `Ok(None)` when `v` is not a handle.
pub fn render(v: &Dynamic) -> Result<Option<String>, HostError> {
    if let Some(p) = v.read_lock::<ParamRef>() {
        return Ok(Some(p.render()));
    }
    if let Some(r) = v.read_lock::<ResultRef>() {
        return Ok(Some(r.render()));
    }
    if let Some(r) = v.read_lock::<ResultDecl>() {
        return Ok(Some(r.render()));
    }
    if let Some(w) = v.read_lock::<TaskWorkspace>() {
        return Ok(Some(w.attr("path")));
    }
    if let Some(r) = v.read_lock::<StepResultRef>() {
        return Ok(Some(r.render()));
    }
    if let Some(t) = v.read_lock::<super::api::PTask>() {
        return Ok(Some(t.name.clone()));
    }
    if let Some(w) = v.read_lock::<PipelineWorkspace>() {
        return Err(HostError::new(
            codes::E010,
            format!(
                "pipeline workspace `{}` has no path of its own; bind it to a task (`workspaces: #{{ NAME: ws }}`) and use the task's workspace, or use `ws.bound`",
                w.name
            ),
        ));
    }
    Ok(None)
}

/// A user-facing name for the type of a script value.
pub fn type_label(v: &Dynamic) -> String {
    let name = v.type_name();
    let short = name.rsplit("::").next().unwrap_or(name);
    match short {
        "ImmutableString" | "string" => "string".into(),
        "i64" => "integer".into(),
        "f64" => "float".into(),
        "()" => "nothing (`()`)".into(),
        "Map" | "map" => "map".into(),
        "Array" | "array" => "array".into(),
        "TaskB" => "Task".into(),
        "PipelineB" => "Pipeline".into(),
        "PipelineRunB" => "PipelineRun".into(),
        "TaskRunB" => "TaskRun".into(),
        "StepActionB" => "StepAction".into(),
        "PTask" => "pipeline task".into(),
        "RefValue" => "reference".into(),
        "PipelineWorkspace" => "pipeline workspace".into(),
        "TaskWorkspace" => "task workspace".into(),
        other => other.to_string(),
    }
}
