//! The host API: the functions and types a script uses to build Tekton objects.
//!
//! Builders (`Task`, `Pipeline`, runs, `StepAction`) are shared references: a script may keep adding to a
//! task after handing it to a pipeline, and everything is finalized when the script ends. Every call
//! records its script position, so later diagnostics point at the line that produced the field.

use super::convert::{self, expect_map, from_json, to_json};
use super::handles::{
    self, ParamRef, PipelineWorkspace, ResultDecl, ResultRef, Sel, StepResultRef, TaskWorkspace,
};
use super::{HostError, Shared};
use crate::bundle::{Bundle, Object, Origins, Resource};
use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{self, duration::canonical_duration};
use crate::source::Span;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use rhai::{Dynamic, Engine, EvalAltResult, NativeCallContext};
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

type R<T> = Result<T, Box<EvalAltResult>>;

// ---------------------------------------------------------------------------------------------
// Builders

/// Labels, annotations and namespace of an object.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub namespace: Option<String>,
}

impl Meta {
    /// Takes `labels`, `annotations` and `namespace` out of an options map.
    fn take(&mut self, opts: &mut rhai::Map) -> Result<(), HostError> {
        if let Some(v) = opts.remove("labels") {
            self.labels.extend(string_map(&v, "labels")?);
        }
        if let Some(v) = opts.remove("annotations") {
            self.annotations.extend(string_map(&v, "annotations")?);
        }
        if let Some(v) = opts.remove("namespace") {
            self.namespace = Some(convert::to_string_value(&v, "namespace")?);
        }
        Ok(())
    }

    fn object_meta(&self, name: Option<String>, generate_name: Option<String>) -> ObjectMeta {
        ObjectMeta {
            name,
            generate_name,
            namespace: self.namespace.clone(),
            labels: (!self.labels.is_empty()).then(|| self.labels.clone()),
            annotations: (!self.annotations.is_empty()).then(|| self.annotations.clone()),
            ..Default::default()
        }
    }
}

fn string_map(v: &Dynamic, what: &str) -> Result<BTreeMap<String, String>, HostError> {
    let m = expect_map(v, what)?;
    m.iter()
        .map(|(k, v)| Ok((k.to_string(), convert::to_string_value(v, what)?)))
        .collect()
}

pub(crate) struct TaskData {
    pub name: String,
    pub at: Option<Span>,
    pub meta: Meta,
    pub spec: model::TaskSpec,
    /// Positions relative to the spec (`steps[0]`).
    pub origins: Origins,
    pub step_actions: Vec<StepActionB>,
}

/// A Task under construction (`task("name")`).
#[derive(Clone)]
pub struct TaskB(pub(crate) Rc<RefCell<TaskData>>);

pub(crate) struct StepActionData {
    pub name: String,
    pub at: Option<Span>,
    pub meta: Meta,
    pub spec: model::StepActionSpec,
    pub origins: Origins,
}

/// A StepAction under construction (`step_action("name", #{ image, script })`).
#[derive(Clone)]
pub struct StepActionB(pub(crate) Rc<RefCell<StepActionData>>);

/// How a pipeline task gets its task.
#[derive(Clone)]
enum TaskSource {
    Local { task: TaskB, embed: bool },
    Fixed,
}

pub(crate) struct PipelineData {
    pub name: String,
    pub at: Option<Span>,
    pub meta: Meta,
    pub spec: model::PipelineSpec,
    pub origins: Origins,
    embed_default: bool,
    /// Parallel to `spec.tasks` / `spec.finally`.
    sources: Vec<TaskSource>,
    finally_sources: Vec<TaskSource>,
    /// Pipelines used as pipeline tasks (Pipelines in Pipelines).
    children: Vec<PipelineB>,
}

/// A Pipeline under construction (`pipeline("name")`).
#[derive(Clone)]
pub struct PipelineB(pub(crate) Rc<RefCell<PipelineData>>);

/// A task inside a pipeline, returned by `p.task(..)` / `p.finally(..)`.
#[derive(Clone)]
pub struct PTask {
    pub(crate) pipeline: PipelineB,
    pub name: String,
    pub finally: bool,
}

pub(crate) struct PipelineRunData {
    pub name: Option<String>,
    pub generate_name: Option<String>,
    pub meta: Meta,
    pub spec: model::PipelineRunSpec,
    pub origins: Origins,
    pub pipeline: Option<(PipelineB, bool)>,
}

/// A PipelineRun (`p.run(#{ .. })`).
#[derive(Clone)]
pub struct PipelineRunB(pub(crate) Rc<RefCell<PipelineRunData>>);

pub(crate) struct TaskRunData {
    pub name: Option<String>,
    pub generate_name: Option<String>,
    pub meta: Meta,
    pub spec: model::TaskRunSpec,
    pub origins: Origins,
    pub task: Option<(TaskB, bool)>,
}

/// A TaskRun (`t.run(#{ .. })`).
#[derive(Clone)]
pub struct TaskRunB(pub(crate) Rc<RefCell<TaskRunData>>);

/// A reference to a task, pipeline or step action that lives elsewhere (cluster, hub, git, bundle, …).
#[derive(Clone, Debug)]
pub struct RefValue {
    /// `name`, `kind`, `apiVersion`, `resolver`, `params` as in Tekton's TaskRef.
    pub json: Map<String, Value>,
    /// For the hub/cluster/bundles resolvers: the `kind` param is filled in from where the ref is used.
    pub kind_param: bool,
    /// A custom task embedded as `taskSpec` (`custom_task(apiVersion, kind, #{ spec })`).
    pub custom_spec: Option<Value>,
}

/// Something emitted by the script, finalized when the script ends.
#[derive(Clone)]
pub(crate) enum Emitted {
    Task(TaskB),
    Pipeline(PipelineB),
    PipelineRun(PipelineRunB),
    TaskRun(TaskRunB),
    StepAction(StepActionB),
}

// ---------------------------------------------------------------------------------------------
// Small helpers

fn here(st: &Shared, ctx: &NativeCallContext) -> Option<Span> {
    st.borrow().span(ctx.call_source(), ctx.call_position())
}

/// Rhai maps are sorted by key; a list of `{name, …}` entries made from a map literal (`params: #{ b: ..,
/// a: .. }`) is put back in the order the keys are written, found in the source after the call (when a
/// key is not found there, the map was built elsewhere and keeps its sorted order). `env` stays sorted.
fn authored(st: &Shared, ctx: &NativeCallContext, from: &Dynamic, list: Value) -> Value {
    // only a map literal has an order to restore; a list is already in the written order
    if !from.is_map() {
        return list;
    }
    let Value::Array(mut items) = list else {
        return list;
    };
    let Some(span) = here(st, ctx) else {
        return Value::Array(items);
    };
    let s = st.borrow();
    let text = &s.sources.get(span.file).text;
    let start = span.start.min(text.len());
    let mut end = (start + 8192).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let hay = &text[start..end];
    let position = |key: &str| -> usize {
        let mut from = 0;
        while let Some(i) = hay[from..].find(key) {
            let at = from + i;
            from = at + key.len().max(1);
            let before = hay[..at].chars().last();
            let quoted = before == Some('"') && hay[at + key.len()..].starts_with('"');
            let after = hay[at + key.len() + usize::from(quoted)..].trim_start();
            let ident_before = before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
            if after.starts_with(':') && (quoted || !ident_before) {
                return at;
            }
        }
        usize::MAX
    };
    let mut keyed: Vec<(usize, Value)> = items
        .drain(..)
        .map(|v| {
            let at = v
                .get("name")
                .and_then(Value::as_str)
                .map(&position)
                .unwrap_or(usize::MAX);
            (at, v)
        })
        .collect();
    // every key must be found (else the map was not written here): keep the sorted order otherwise
    if keyed.iter().all(|(at, _)| *at != usize::MAX) {
        keyed.sort_by_key(|(at, _)| *at);
    }
    Value::Array(keyed.into_iter().map(|(_, v)| v).collect())
}

/// When a host function is called from inside a module: the calls that led there from the user's
/// script, innermost first.
fn call_trace(st: &Shared, ctx: &NativeCallContext) -> Vec<(Span, String)> {
    if ctx.call_source().is_none_or(str::is_empty) {
        return Vec::new();
    }
    let Some(dbg) = ctx.debugger() else {
        return Vec::new();
    };
    let s = st.borrow();
    let mut out = Vec::new();
    // the last frame is this native call itself. A frame's position is in its caller, whose source is
    // the previous frame's (a script function's frame carries its own module as source); the first
    // caller is the entry script.
    let stack = dbg.call_stack();
    let mut caller: Option<&str> = None;
    for f in stack.iter().take(stack.len().saturating_sub(1)) {
        if let Some(span) = s.span(caller, f.pos) {
            out.push((span, format!("in this call to `{}`", f.fn_name)));
        }
        caller = f.source.as_deref();
    }
    out.reverse();
    out
}

fn set_origin(origins: &mut Origins, path: impl Into<String>, span: Option<Span>) {
    if let Some(s) = span {
        origins.insert(path, s);
    }
}

fn duration(v: &Dynamic, what: &str) -> Result<String, HostError> {
    let s = convert::to_string_value(v, what)?;
    canonical_duration(&s).map_err(|e| {
        HostError::new(
            codes::E010,
            format!("invalid duration `{s}` for {what}: {e}"),
        )
        .help("write a Go duration such as \"90s\", \"10m\" or \"1h30m\"")
    })
}

fn unknown_key(key: &str, what: &str, known: &[&str]) -> HostError {
    let mut e = HostError::new(codes::E004, format!("unknown field `{key}` in {what}")).needle(key);
    match crate::diag::suggest::did_you_mean(key, known.iter().copied()) {
        Some(s) => e = e.help(format!("did you mean `{s}`?")),
        None => e = e.help(format!("the fields here are: {}", known.join(", "))),
    }
    e
}

fn name_arg(v: &str, what: &str) -> Result<String, HostError> {
    if v.is_empty() {
        return Err(HostError::new(
            codes::E010,
            format!("{what} name must not be empty"),
        ));
    }
    Ok(v.to_string())
}

/// A param declaration from `name` and an options map.
fn param_spec(name: &str, opts: rhai::Map) -> Result<model::ParamSpec, HostError> {
    const KEYS: &[&str] = &["type", "description", "default", "enum", "properties"];
    let mut j = Map::new();
    j.insert("name".into(), Value::String(name_arg(name, "param")?));
    let mut ty: Option<String> = None;
    for (k, v) in opts.iter() {
        match k.as_str() {
            "type" => ty = Some(convert::to_string_value(v, "param type")?),
            "description" => {
                j.insert(
                    k.to_string(),
                    Value::String(convert::to_string_value(v, "description")?),
                );
            }
            "default" => {
                j.insert("default".into(), convert::param_value(v, "param default")?);
            }
            "enum" => {
                j.insert("enum".into(), to_json(v, "enum")?);
            }
            "properties" => {
                let p = to_json(v, "properties")?;
                let p = match p {
                    Value::Array(keys) => Value::Object(
                        keys.into_iter()
                            .filter_map(|k| {
                                k.as_str()
                                    .map(|k| (k.to_string(), json!({"type": "string"})))
                            })
                            .collect(),
                    ),
                    other => other,
                };
                j.insert("properties".into(), p);
            }
            other => return Err(unknown_key(other, &format!("param `{name}`"), KEYS)),
        }
    }
    let ty = ty.unwrap_or_else(|| match j.get("default") {
        Some(Value::Array(_)) => "array".into(),
        Some(Value::Object(_)) => "object".into(),
        _ if j.contains_key("properties") => "object".into(),
        _ => "string".into(),
    });
    // Tekton's field order: name, type, description, properties, enum, default
    let mut ordered = Map::new();
    ordered.insert("name".into(), j.remove("name").unwrap_or_default());
    ordered.insert("type".into(), Value::String(ty));
    for k in ["description", "properties", "enum", "default"] {
        if let Some(v) = j.remove(k) {
            ordered.insert(k.into(), v);
        }
    }
    from_json(Value::Object(ordered), &format!("param `{name}`"))
}

fn result_json(name: &str, opts: rhai::Map, what: &str) -> Result<Value, HostError> {
    const KEYS: &[&str] = &["type", "description", "properties", "value"];
    let mut j = Map::new();
    j.insert("name".into(), Value::String(name_arg(name, "result")?));
    for (k, v) in opts.iter() {
        match k.as_str() {
            "type" | "description" => {
                j.insert(
                    k.to_string(),
                    Value::String(convert::to_string_value(v, k)?),
                );
            }
            "properties" => {
                let p = match to_json(v, "properties")? {
                    Value::Array(keys) => Value::Object(
                        keys.into_iter()
                            .filter_map(|k| {
                                k.as_str()
                                    .map(|k| (k.to_string(), json!({"type": "string"})))
                            })
                            .collect(),
                    ),
                    other => other,
                };
                if !j.contains_key("type") {
                    j.insert("type".into(), Value::String("object".into()));
                }
                j.insert("properties".into(), p);
            }
            "value" => {
                j.insert("value".into(), convert::param_value(v, "result value")?);
            }
            other => return Err(unknown_key(other, what, KEYS)),
        }
    }
    Ok(Value::Object(j))
}

mod finish;
mod pipeline;
mod refs;
mod register;
mod runs;
mod step_action;
mod steps;
mod task;

use finish::*;
use pipeline::*;
use refs::*;
use runs::*;
use step_action::*;
use steps::*;
use task::*;

pub(crate) use finish::{finish, never_emitted};
use register::dstr;
pub(crate) use register::register;
pub use register::{dedent, function_names};

/// Appends a param declaration (of a task, pipeline or step action) to `params`, records where it was
/// declared, and returns its handle.
fn declare_param(
    params: &mut Vec<model::ParamSpec>,
    origins: &mut Origins,
    span: Option<Span>,
    name: &str,
    opts: rhai::Map,
) -> R<ParamRef> {
    params.push(param_spec(name, opts)?);
    set_origin(origins, format!("params[{}]", params.len() - 1), span);
    Ok(ParamRef {
        name: name.to_string(),
        sel: Sel::Whole,
    })
}
