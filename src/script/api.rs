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

fn set_origin(origins: &mut Origins, path: impl Into<String>, span: Option<Span>) {
    if let Some(s) = span {
        origins.insert(path, s);
    }
}

fn duration(v: &Dynamic, what: &str) -> Result<String, HostError> {
    let s = convert::to_string_value(v, what)?;
    canonical_duration(&s).map_err(|e| {
        HostError::new("E010", format!("invalid duration `{s}` for {what}: {e}"))
            .help("write a Go duration such as \"90s\", \"10m\" or \"1h30m\"")
    })
}

fn unknown_key(key: &str, what: &str, known: &[&str]) -> HostError {
    let mut e = HostError::new("E004", format!("unknown field `{key}` in {what}")).needle(key);
    match crate::diag::suggest::did_you_mean(key, known.iter().copied()) {
        Some(s) => e = e.help(format!("did you mean `{s}`?")),
        None => e = e.help(format!("the fields here are: {}", known.join(", "))),
    }
    e
}

fn name_arg(v: &str, what: &str) -> Result<String, HostError> {
    if v.is_empty() {
        return Err(HostError::new(
            "E010",
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

// ---------------------------------------------------------------------------------------------
// Steps

/// Converts a step map, applying the shorthands: `env` as a map, `params` as a map, `results` as names,
/// `ref` as a StepAction or reference value, `timeout` as any Go duration.
fn step_json(map: rhai::Map, task: &TaskB) -> Result<Value, HostError> {
    let mut j = Map::new();
    for (k, v) in map.iter() {
        let val = match k.as_str() {
            "env" => convert::env_list(v)?,
            "params" => convert::params_list(v, "step params")?,
            "results" => convert::names_to_maps(to_json(v, "step results")?),
            "timeout" => Value::String(duration(v, "step timeout")?),
            "ref" => step_ref(v, task)?,
            "workspaces" => convert::names_to_maps(to_json(v, "step workspaces")?),
            "script" => Value::String(convert::to_string_value(v, "script")?),
            _ => to_json(v, &format!("step field `{k}`"))?,
        };
        j.insert(k.to_string(), val);
    }
    Ok(Value::Object(j))
}

fn step_ref(v: &Dynamic, task: &TaskB) -> Result<Value, HostError> {
    if let Some(sa) = v.clone().try_cast::<StepActionB>() {
        let name = sa.0.borrow().name.clone();
        let mut t = task.0.borrow_mut();
        if !t.step_actions.iter().any(|s| Rc::ptr_eq(&s.0, &sa.0)) {
            t.step_actions.push(sa);
        }
        return Ok(json!({ "name": name }));
    }
    if let Some(r) = v.clone().try_cast::<RefValue>() {
        return Ok(Value::Object(r.finish("stepaction", false)));
    }
    if v.is_string() {
        return Ok(json!({ "name": convert::to_string_value(v, "step ref")? }));
    }
    to_json(v, "step ref")
}

fn add_step(ctx: &NativeCallContext, st: &Shared, t: &TaskB, map: rhai::Map) -> R<()> {
    let span = here(st, ctx);
    let j = step_json(map, t)?;
    let step: model::Step = from_json(j, "step")?;
    let mut d = t.0.borrow_mut();
    let i = d.spec.steps.len();
    d.spec.steps.push(step);
    set_origin(&mut d.origins, format!("steps[{i}]"), span);
    Ok(())
}

fn step_map(name: &str, image: &Dynamic, script: &Dynamic) -> R<rhai::Map> {
    let mut m = rhai::Map::new();
    m.insert("name".into(), dstr(name));
    m.insert("image".into(), image.clone());
    m.insert("script".into(), script.clone());
    Ok(m)
}

// ---------------------------------------------------------------------------------------------
// Task

const TASK_KEYS: &[&str] = &[
    "description",
    "displayName",
    "params",
    "steps",
    "sidecars",
    "volumes",
    "workspaces",
    "results",
    "stepTemplate",
    "labels",
    "annotations",
    "namespace",
];

fn new_task(ctx: &NativeCallContext, st: &Shared, name: &str, opts: rhai::Map) -> R<TaskB> {
    let span = here(st, ctx);
    let t = TaskB(Rc::new(RefCell::new(TaskData {
        name: name_arg(name, "task")?,
        at: span,
        meta: Meta::default(),
        spec: model::TaskSpec::default(),
        origins: Origins::new(),
        step_actions: Vec::new(),
    })));
    let mut opts = opts;
    t.0.borrow_mut().meta.take(&mut opts)?;
    for (k, v) in opts {
        match k.as_str() {
            "description" => {
                t.0.borrow_mut().spec.description =
                    Some(convert::to_string_value(&v, "description")?)
            }
            "displayName" => {
                t.0.borrow_mut().spec.display_name =
                    Some(convert::to_string_value(&v, "displayName")?)
            }
            "params" => {
                for p in list(&v, "params")? {
                    let (name, rest) = named_map(&p, "param")?;
                    let ps = param_spec(&name, rest)?;
                    t.0.borrow_mut().spec.params.push(ps);
                }
            }
            "steps" => {
                for s in list(&v, "steps")? {
                    add_step(ctx, st, &t, expect_map(&s, "step")?)?;
                }
            }
            "results" => {
                for r in list(&v, "results")? {
                    let (name, rest) = named_map(&r, "result")?;
                    let res = from_json(result_json(&name, rest, "result")?, "result")?;
                    t.0.borrow_mut().spec.results.push(res);
                }
            }
            "workspaces" => {
                for w in list(&v, "workspaces")? {
                    let j = match to_json(&w, "workspace")? {
                        Value::String(name) => json!({ "name": name }),
                        other => other,
                    };
                    let ws = from_json(j, "workspace")?;
                    t.0.borrow_mut().spec.workspaces.push(ws);
                }
            }
            "sidecars" => {
                for s in list(&v, "sidecars")? {
                    let j = step_json(expect_map(&s, "sidecar")?, &t)?;
                    let sc = from_json(j, "sidecar")?;
                    t.0.borrow_mut().spec.sidecars.push(sc);
                }
            }
            "volumes" => {
                for s in list(&v, "volumes")? {
                    let vol = from_json(to_json(&s, "volume")?, "volume")?;
                    t.0.borrow_mut().spec.volumes.push(vol);
                }
            }
            "stepTemplate" => {
                let j = step_json(expect_map(&v, "stepTemplate")?, &t)?;
                t.0.borrow_mut().spec.step_template = Some(from_json(j, "stepTemplate")?);
            }
            other => return Err(unknown_key(other, "task options", TASK_KEYS).into()),
        }
    }
    Ok(t)
}

fn list(v: &Dynamic, what: &str) -> Result<rhai::Array, HostError> {
    v.clone().into_array().map_err(|_| {
        HostError::new(
            "E003",
            format!("{what} must be an array, found {}", handles::type_label(v)),
        )
    })
}

/// `"name"` or `#{ name: "x", ... }` → (name, other keys).
fn named_map(v: &Dynamic, what: &str) -> Result<(String, rhai::Map), HostError> {
    if v.is_string() {
        return Ok((convert::to_string_value(v, what)?, rhai::Map::new()));
    }
    let mut m = expect_map(v, what)?;
    let name = m
        .remove("name")
        .ok_or_else(|| HostError::new("E010", format!("{what} needs a `name`")))?;
    Ok((convert::to_string_value(&name, "name")?, m))
}

impl TaskB {
    fn param(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        opts: rhai::Map,
    ) -> R<ParamRef> {
        let span = here(st, ctx);
        let ps = param_spec(name, opts)?;
        let mut d = self.0.borrow_mut();
        let i = d.spec.params.len();
        d.spec.params.push(ps);
        set_origin(&mut d.origins, format!("params[{i}]"), span);
        Ok(ParamRef {
            name: name.to_string(),
            sel: Sel::Whole,
        })
    }

    fn result(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        opts: rhai::Map,
    ) -> R<ResultDecl> {
        let span = here(st, ctx);
        let r: model::TaskResult = from_json(result_json(name, opts, "result")?, "result")?;
        let mut d = self.0.borrow_mut();
        let i = d.spec.results.len();
        d.spec.results.push(r);
        set_origin(&mut d.origins, format!("results[{i}]"), span);
        Ok(ResultDecl {
            name: name.to_string(),
            step: None,
        })
    }

    fn workspace(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        opts: rhai::Map,
    ) -> R<TaskWorkspace> {
        let span = here(st, ctx);
        let mut j = to_json(&Dynamic::from_map(opts), "workspace")?;
        j.as_object_mut()
            .expect("map")
            .insert("name".into(), Value::String(name_arg(name, "workspace")?));
        let mut ordered = Map::new();
        ordered.insert("name".into(), Value::String(name.into()));
        for (k, v) in j.as_object().expect("map") {
            if k != "name" {
                ordered.insert(k.clone(), v.clone());
            }
        }
        let w = from_json(Value::Object(ordered), &format!("workspace `{name}`"))?;
        let mut d = self.0.borrow_mut();
        let i = d.spec.workspaces.len();
        d.spec.workspaces.push(w);
        set_origin(&mut d.origins, format!("workspaces[{i}]"), span);
        Ok(TaskWorkspace {
            name: name.to_string(),
        })
    }

    pub(crate) fn to_resource(&self) -> (Resource, Origins) {
        let d = self.0.borrow();
        let mut task = model::Task::new(&d.name, d.spec.clone());
        task.metadata = d.meta.object_meta(Some(d.name.clone()), None);
        let mut origins = Origins::new();
        if let Some(s) = d.at {
            origins.insert("", s);
        }
        origins.graft("spec", &d.origins);
        (Resource::Task(task), origins)
    }
}

// ---------------------------------------------------------------------------------------------
// References (resolvers, custom tasks)

impl RefValue {
    fn resolver(resolver: &str, params: Vec<(String, Value)>, kind_param: bool) -> RefValue {
        let mut json = Map::new();
        json.insert("resolver".into(), Value::String(resolver.into()));
        json.insert(
            "params".into(),
            Value::Array(
                params
                    .into_iter()
                    .map(|(n, v)| json!({ "name": n, "value": v }))
                    .collect(),
            ),
        );
        RefValue {
            json,
            kind_param,
            custom_spec: None,
        }
    }

    /// The reference as used for a `kind` of object (`task`, `pipeline`, `stepaction`).
    pub fn finish(&self, kind: &str, set_task_kind: bool) -> Map<String, Value> {
        let mut j = self.json.clone();
        if self.kind_param
            && let Some(Value::Array(ps)) = j.get_mut("params")
            && !ps.iter().any(|p| p["name"] == "kind")
        {
            ps.insert(0, json!({ "name": "kind", "value": kind }));
        }
        if set_task_kind && !j.contains_key("resolver") && !j.contains_key("kind") {
            j.insert("kind".into(), Value::String("Task".into()));
        }
        j
    }
}

fn opts_params(
    opts: &rhai::Map,
    allowed: &[&str],
    what: &str,
) -> Result<Vec<(String, Value)>, HostError> {
    let mut out = Vec::new();
    for (k, v) in opts.iter() {
        if !allowed.contains(&k.as_str()) {
            return Err(unknown_key(k, what, allowed));
        }
        out.push((k.to_string(), convert::param_value(v, what)?));
    }
    Ok(out)
}

fn from_hub(name: &str, version: &str, opts: rhai::Map) -> R<RefValue> {
    let mut ps = Vec::new();
    let extra = opts_params(
        &opts,
        &["catalog", "type", "kind", "url"],
        "from_hub options",
    )?;
    for key in ["catalog", "type", "kind", "url"] {
        if let Some((k, v)) = extra.iter().find(|(k, _)| k == key) {
            ps.push((k.clone(), v.clone()));
        }
    }
    let has_kind = ps.iter().any(|(k, _)| k == "kind");
    ps.push(("name".into(), Value::String(name.into())));
    ps.push(("version".into(), Value::String(version.into())));
    Ok(RefValue::resolver("hub", ps, !has_kind))
}

fn from_git(opts: rhai::Map) -> R<RefValue> {
    const KEYS: &[&str] = &[
        "url",
        "org",
        "repo",
        "revision",
        "pathInRepo",
        "token",
        "tokenKey",
        "gitToken",
        "gitTokenKey",
        "serverURL",
        "scmType",
        "cache",
    ];
    let given = opts_params(&opts, KEYS, "from_git options")?;
    if !given.iter().any(|(k, _)| k == "url" || k == "repo") {
        return Err(HostError::new("E010", "from_git needs `url` (or `org` and `repo`)")
            .help("from_git(#{ url: \"https://github.com/org/repo\", revision: \"main\", pathInRepo: \"task/x.yaml\" })")
            .into());
    }
    if !given.iter().any(|(k, _)| k == "pathInRepo") {
        return Err(HostError::new(
            "E010",
            "from_git needs `pathInRepo`, the YAML file to fetch",
        )
        .into());
    }
    // Tekton's documented order
    let mut ps = Vec::new();
    for key in KEYS {
        if let Some(p) = given.iter().find(|(k, _)| k == key) {
            ps.push(p.clone());
        }
    }
    Ok(RefValue::resolver("git", ps, false))
}

fn from_bundle(image: &str, name: &str, opts: rhai::Map) -> R<RefValue> {
    let extra = opts_params(&opts, &["kind", "secret", "cache"], "from_bundle options")?;
    let mut ps = vec![
        ("bundle".to_string(), Value::String(image.into())),
        ("name".to_string(), Value::String(name.into())),
    ];
    let has_kind = extra.iter().any(|(k, _)| k == "kind");
    ps.extend(extra);
    Ok(RefValue::resolver("bundles", ps, !has_kind))
}

fn from_cluster(name: &str, opts: rhai::Map) -> R<RefValue> {
    let extra = opts_params(
        &opts,
        &["kind", "namespace", "cache"],
        "from_cluster options",
    )?;
    let mut ps = Vec::new();
    if let Some(k) = extra.iter().find(|(k, _)| k == "kind") {
        ps.push(k.clone());
    }
    ps.push(("name".into(), Value::String(name.into())));
    ps.extend(extra.iter().filter(|(k, _)| k != "kind").cloned());
    let has_kind = extra.iter().any(|(k, _)| k == "kind");
    Ok(RefValue::resolver("cluster", ps, !has_kind))
}

fn from_http(url: &str, opts: rhai::Map) -> R<RefValue> {
    let extra = opts_params(
        &opts,
        &[
            "http-username",
            "http-password-secret",
            "http-password-secret-key",
            "digest",
        ],
        "from_http options",
    )?;
    let mut ps = vec![("url".to_string(), Value::String(url.into()))];
    ps.extend(extra);
    Ok(RefValue::resolver("http", ps, false))
}

fn from_resolver(resolver: &str, params: rhai::Map) -> R<RefValue> {
    let mut ps = Vec::new();
    for (k, v) in params.iter() {
        ps.push((k.to_string(), convert::param_value(v, "resolver params")?));
    }
    Ok(RefValue::resolver(resolver, ps, false))
}

fn custom_task(api_version: &str, kind: &str, name: &str) -> RefValue {
    let mut json = Map::new();
    json.insert("apiVersion".into(), Value::String(api_version.into()));
    json.insert("kind".into(), Value::String(kind.into()));
    if !name.is_empty() {
        json.insert("name".into(), Value::String(name.into()));
    }
    RefValue {
        json,
        kind_param: false,
        custom_spec: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Pipeline

const PTASK_KEYS: &[&str] = &[
    "params",
    "workspaces",
    "runAfter",
    "when",
    "matrix",
    "retries",
    "timeout",
    "onError",
    "displayName",
    "description",
    "embed",
];

fn new_pipeline(ctx: &NativeCallContext, st: &Shared, name: &str, opts: rhai::Map) -> R<PipelineB> {
    let span = here(st, ctx);
    let mut opts = opts;
    let mut meta = Meta::default();
    meta.take(&mut opts)?;
    let mut spec = model::PipelineSpec::default();
    let mut embed_default = false;
    for (k, v) in opts {
        match k.as_str() {
            "description" => spec.description = Some(convert::to_string_value(&v, "description")?),
            "displayName" => spec.display_name = Some(convert::to_string_value(&v, "displayName")?),
            "embed" => embed_default = as_bool(&v, "embed")?,
            other => {
                return Err(unknown_key(
                    other,
                    "pipeline options",
                    &[
                        "description",
                        "displayName",
                        "embed",
                        "labels",
                        "annotations",
                        "namespace",
                    ],
                )
                .into());
            }
        }
    }
    Ok(PipelineB(Rc::new(RefCell::new(PipelineData {
        name: name_arg(name, "pipeline")?,
        at: span,
        meta,
        spec,
        origins: Origins::new(),
        embed_default,
        sources: Vec::new(),
        finally_sources: Vec::new(),
    }))))
}

fn as_bool(v: &Dynamic, what: &str) -> Result<bool, HostError> {
    v.as_bool()
        .map_err(|t| HostError::new("E003", format!("{what} must be true or false, found {t}")))
}

impl PipelineB {
    fn param(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        opts: rhai::Map,
    ) -> R<ParamRef> {
        let span = here(st, ctx);
        let ps = param_spec(name, opts)?;
        let mut d = self.0.borrow_mut();
        let i = d.spec.params.len();
        d.spec.params.push(ps);
        set_origin(&mut d.origins, format!("params[{i}]"), span);
        Ok(ParamRef {
            name: name.to_string(),
            sel: Sel::Whole,
        })
    }

    fn workspace(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        opts: rhai::Map,
    ) -> R<PipelineWorkspace> {
        let span = here(st, ctx);
        let mut j = Map::new();
        j.insert("name".into(), Value::String(name_arg(name, "workspace")?));
        for (k, v) in opts.iter() {
            j.insert(k.to_string(), to_json(v, "workspace")?);
        }
        let w = from_json(Value::Object(j), &format!("pipeline workspace `{name}`"))?;
        let mut d = self.0.borrow_mut();
        let i = d.spec.workspaces.len();
        d.spec.workspaces.push(w);
        set_origin(&mut d.origins, format!("workspaces[{i}]"), span);
        Ok(PipelineWorkspace {
            name: name.to_string(),
        })
    }

    fn add_task(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        taskish: Dynamic,
        opts: rhai::Map,
        finally: bool,
    ) -> R<PTask> {
        let span = here(st, ctx);
        let name = name_arg(name, "pipeline task")?;
        let mut j = Map::new();
        j.insert("name".into(), Value::String(name.clone()));
        let mut embed = self.0.borrow().embed_default;
        if let Some(v) = opts.get("embed") {
            embed = as_bool(v, "embed")?;
        }
        // the task
        let source = if let Some(t) = taskish.clone().try_cast::<TaskB>() {
            TaskSource::Local { task: t, embed }
        } else if let Some(r) = taskish.clone().try_cast::<RefValue>() {
            match &r.custom_spec {
                Some(spec) => {
                    let mut ts = Map::new();
                    ts.insert("apiVersion".into(), r.json["apiVersion"].clone());
                    ts.insert("kind".into(), r.json["kind"].clone());
                    ts.insert("spec".into(), spec.clone());
                    j.insert("taskSpec".into(), Value::Object(ts));
                }
                None => {
                    j.insert("taskRef".into(), Value::Object(r.finish("task", true)));
                }
            }
            TaskSource::Fixed
        } else if taskish.is_string() {
            let n = convert::to_string_value(&taskish, "task")?;
            j.insert("taskRef".into(), json!({ "name": n, "kind": "Task" }));
            TaskSource::Fixed
        } else if let Some(p) = taskish.clone().try_cast::<PipelineB>() {
            // Pipelines in Pipelines (alpha): embed the child pipeline's spec.
            let (res, _) = p.to_resource(true);
            if let Resource::Pipeline(child) = res {
                j.insert(
                    if embed { "pipelineSpec" } else { "pipelineRef" }.into(),
                    if embed {
                        serde_json::to_value(&child.spec).expect("serializes")
                    } else {
                        json!({ "name": p.0.borrow().name })
                    },
                );
            }
            TaskSource::Fixed
        } else {
            return Err(HostError::new(
                "E003",
                format!(
                    "the task of pipeline task `{name}` must be a Task (`task(..)`), a reference (`task_ref`, `from_hub`, `from_git`, `from_bundle`, `from_cluster`, …) or a task name, found {}",
                    handles::type_label(&taskish)
                ),
            )
            .into());
        };
        for (k, v) in opts.iter() {
            let val = match k.as_str() {
                "embed" => continue,
                "params" => convert::params_list(v, "task params")?,
                "workspaces" => ws_bindings(v)?,
                "runAfter" => {
                    if finally {
                        return Err(HostError::new(
                            "E010",
                            format!("finally task `{name}` cannot have `runAfter`"),
                        )
                        .help("finally tasks run after all other tasks; remove `runAfter`")
                        .into());
                    }
                    let items = if v.is_array() {
                        list(v, "runAfter")?
                    } else {
                        vec![v.clone()]
                    };
                    Value::Array(
                        items
                            .iter()
                            .map(|x| convert::to_string_value(x, "runAfter").map(Value::String))
                            .collect::<Result<_, _>>()?,
                    )
                }
                "when" => when_list(v)?,
                "matrix" => matrix_json(v)?,
                "retries" => match v.as_int() {
                    Ok(n) => Value::from(n),
                    Err(t) => {
                        return Err(HostError::new(
                            "E003",
                            format!("retries must be an integer, found {t}"),
                        )
                        .into());
                    }
                },
                "timeout" => Value::String(duration(v, "task timeout")?),
                "onError" | "displayName" | "description" => {
                    Value::String(convert::to_string_value(v, k)?)
                }
                other => {
                    return Err(unknown_key(
                        other,
                        &format!("options of pipeline task `{name}`"),
                        PTASK_KEYS,
                    )
                    .into());
                }
            };
            j.insert(k.to_string(), val);
        }
        let pt: model::PipelineTask =
            from_json(Value::Object(j), &format!("pipeline task `{name}`"))?;
        let mut d = self.0.borrow_mut();
        let (list_name, i) = if finally {
            d.spec.finally.push(pt);
            d.finally_sources.push(source);
            ("finally", d.spec.finally.len() - 1)
        } else {
            d.spec.tasks.push(pt);
            d.sources.push(source);
            ("tasks", d.spec.tasks.len() - 1)
        };
        set_origin(&mut d.origins, format!("{list_name}[{i}]"), span);
        Ok(PTask {
            pipeline: self.clone(),
            name,
            finally,
        })
    }

    fn result(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        value: Dynamic,
        opts: rhai::Map,
    ) -> R<()> {
        let span = here(st, ctx);
        let mut j = Map::new();
        j.insert(
            "name".into(),
            Value::String(name_arg(name, "pipeline result")?),
        );
        for (k, v) in opts.iter() {
            match k.as_str() {
                "type" | "description" => {
                    j.insert(
                        k.to_string(),
                        Value::String(convert::to_string_value(v, k)?),
                    );
                }
                other => {
                    return Err(unknown_key(
                        other,
                        "pipeline result options",
                        &["type", "description"],
                    )
                    .into());
                }
            }
        }
        j.insert(
            "value".into(),
            convert::param_value(&value, "pipeline result value")?,
        );
        let r = from_json(Value::Object(j), &format!("pipeline result `{name}`"))?;
        let mut d = self.0.borrow_mut();
        let i = d.spec.results.len();
        d.spec.results.push(r);
        set_origin(&mut d.origins, format!("results[{i}]"), span);
        Ok(())
    }

    /// The finished Pipeline and the local tasks it references by name.
    /// `embed_all`: inline every local task (for a run that embeds the pipeline, which must be
    /// self-contained).
    pub(crate) fn to_resource(&self, embed_all: bool) -> (Resource, Origins) {
        let d = self.0.borrow();
        let mut spec = d.spec.clone();
        let mut origins = Origins::new();
        if let Some(s) = d.at {
            origins.insert("", s);
        }
        origins.graft("spec", &d.origins);
        for (list_name, tasks, sources) in [
            ("tasks", &mut spec.tasks, &d.sources),
            ("finally", &mut spec.finally, &d.finally_sources),
        ] {
            for (i, (pt, src)) in tasks.iter_mut().zip(sources).enumerate() {
                if let TaskSource::Local { task, embed } = src {
                    let td = task.0.borrow();
                    if *embed || embed_all {
                        let mut et = model::EmbeddedTask::from_task_spec(td.spec.clone());
                        if !td.meta.labels.is_empty() || !td.meta.annotations.is_empty() {
                            et.metadata = Some(model::PipelineTaskMetadata {
                                labels: td.meta.labels.clone(),
                                annotations: td.meta.annotations.clone(),
                            });
                        }
                        pt.task_spec = Some(et);
                        origins.graft(&format!("spec.{list_name}[{i}].taskSpec"), &td.origins);
                    } else {
                        pt.task_ref = Some(model::TaskRef {
                            name: Some(td.name.clone()),
                            kind: Some("Task".into()),
                            ..Default::default()
                        });
                    }
                }
            }
        }
        let mut p = model::Pipeline::new(&d.name, spec);
        p.metadata = d.meta.object_meta(Some(d.name.clone()), None);
        (Resource::Pipeline(p), origins)
    }

    /// Local tasks referenced by `taskRef` (emitted alongside the pipeline), in order of first use.
    fn referenced_tasks(&self) -> Vec<TaskB> {
        let d = self.0.borrow();
        let mut out: Vec<TaskB> = Vec::new();
        for src in d.sources.iter().chain(&d.finally_sources) {
            if let TaskSource::Local { task, embed: false } = src
                && !out.iter().any(|t| Rc::ptr_eq(&t.0, &task.0))
            {
                out.push(task.clone());
            }
        }
        out
    }

    /// All local tasks, embedded or not (for their step actions).
    fn local_tasks(&self) -> Vec<TaskB> {
        let d = self.0.borrow();
        d.sources
            .iter()
            .chain(&d.finally_sources)
            .filter_map(|s| match s {
                TaskSource::Local { task, .. } => Some(task.clone()),
                TaskSource::Fixed => None,
            })
            .collect()
    }

    fn find_task(&self, name: &str) -> Option<(bool, TaskSource)> {
        let d = self.0.borrow();
        if let Some(i) = d.spec.tasks.iter().position(|t| t.name == name) {
            return Some((false, d.sources[i].clone()));
        }
        d.spec
            .finally
            .iter()
            .position(|t| t.name == name)
            .map(|i| (true, d.finally_sources[i].clone()))
    }
}

fn ws_bindings(v: &Dynamic) -> Result<Value, HostError> {
    if v.is_map() {
        let map = v.clone().cast::<rhai::Map>();
        let mut out = Vec::new();
        for (k, x) in map.iter() {
            let mut b = Map::new();
            b.insert("name".into(), Value::String(k.to_string()));
            if let Some(w) = x.clone().try_cast::<PipelineWorkspace>() {
                b.insert("workspace".into(), Value::String(w.name));
            } else if x.is_string() {
                b.insert(
                    "workspace".into(),
                    Value::String(convert::to_string_value(x, "workspace")?),
                );
            } else if x.is_map() {
                for (kk, vv) in x.clone().cast::<rhai::Map>().iter() {
                    let val = match vv.clone().try_cast::<PipelineWorkspace>() {
                        Some(w) => Value::String(w.name),
                        None => to_json(vv, "workspace binding")?,
                    };
                    b.insert(kk.to_string(), val);
                }
            } else {
                return Err(HostError::new(
                    "E003",
                    format!(
                        "workspace `{k}` must be bound to a pipeline workspace (`p.workspace(..)`), its name, or `#{{ workspace: ws, subPath: \"dir\" }}`; found {}",
                        handles::type_label(x)
                    ),
                ));
            }
            out.push(Value::Object(b));
        }
        return Ok(Value::Array(out));
    }
    let items = list(v, "workspaces")?;
    let mut out = Vec::new();
    for x in items {
        let j = match x.clone().try_cast::<rhai::Map>() {
            // `#{ name: "output", workspace: ws, subPath: "dir" }`: the handle becomes its name
            Some(m) => {
                let mut b = Map::new();
                for (k, vv) in m.iter() {
                    let val = match vv.clone().try_cast::<PipelineWorkspace>() {
                        Some(w) => Value::String(w.name),
                        None => to_json(vv, "workspace binding")?,
                    };
                    b.insert(k.to_string(), val);
                }
                Value::Object(b)
            }
            None => to_json(&x, "workspace binding")?,
        };
        out.push(j);
    }
    Ok(Value::Array(out))
}

fn when_list(v: &Dynamic) -> Result<Value, HostError> {
    let items = if v.is_array() {
        list(v, "when")?
    } else {
        vec![v.clone()]
    };
    let mut out = Vec::new();
    for x in items {
        let m = expect_map(&x, "when expression")?;
        let mut j = Map::new();
        for key in ["input", "operator", "values", "cel"] {
            if let Some(val) = m.get(key) {
                let jv = if key == "values" {
                    convert::param_value(val, "when values")?
                } else {
                    Value::String(convert::to_string_value(val, key)?)
                };
                j.insert(key.into(), jv);
            }
        }
        if let Some(k) = m
            .keys()
            .find(|k| !["input", "operator", "values", "cel"].contains(&k.as_str()))
        {
            return Err(unknown_key(
                k,
                "when expression",
                &["input", "operator", "values", "cel"],
            ));
        }
        out.push(Value::Object(j));
    }
    Ok(Value::Array(out))
}

fn matrix_json(v: &Dynamic) -> Result<Value, HostError> {
    let m = expect_map(v, "matrix")?;
    let mut j = Map::new();
    for (k, x) in m.iter() {
        match k.as_str() {
            "params" => {
                j.insert("params".into(), convert::params_list(x, "matrix params")?);
            }
            "include" => {
                let mut inc = Vec::new();
                for item in list(x, "matrix include")? {
                    let im = expect_map(&item, "matrix include entry")?;
                    let mut e = Map::new();
                    for (ik, iv) in im.iter() {
                        let val = match ik.as_str() {
                            "name" => Value::String(convert::to_string_value(iv, "name")?),
                            "params" => convert::params_list(iv, "include params")?,
                            other => {
                                return Err(unknown_key(
                                    other,
                                    "matrix include entry",
                                    &["name", "params"],
                                ));
                            }
                        };
                        e.insert(ik.to_string(), val);
                    }
                    inc.push(Value::Object(e));
                }
                j.insert("include".into(), Value::Array(inc));
            }
            other => return Err(unknown_key(other, "matrix", &["params", "include"])),
        }
    }
    Ok(Value::Object(j))
}

impl PTask {
    fn result(&self, name: &str) -> R<ResultRef> {
        if let Some((_, TaskSource::Local { task, .. })) = self.pipeline.find_task(&self.name) {
            let t = task.0.borrow();
            if !t.spec.results.iter().any(|r| r.name == name) {
                let names: Vec<&str> = t.spec.results.iter().map(|r| r.name.as_str()).collect();
                let mut e = HostError::new(
                    "E015",
                    format!(
                        "task `{}` (used as `{}`) declares no result `{name}`",
                        t.name, self.name
                    ),
                )
                .needle(format!("\"{name}\""));
                e = match crate::diag::suggest::did_you_mean(name, names.iter().copied()) {
                    Some(s) => e.help(format!("did you mean `{s}`?")),
                    None if names.is_empty() => e.help(format!(
                        "task `{}` declares no results; add one with `t.result(\"{name}\")`",
                        t.name
                    )),
                    None => e.help(format!("its results are: {}", names.join(", "))),
                };
                if let Some(at) = t.at {
                    e = e.secondary(at, format!("task `{}` is defined here", t.name));
                }
                return Err(e.into());
            }
        }
        Ok(ResultRef {
            task: self.name.clone(),
            result: name.to_string(),
            finally: self.finally,
            sel: Sel::Whole,
        })
    }

    fn after(&self, others: Dynamic) -> R<PTask> {
        let items = if others.is_array() {
            list(&others, "after")?
        } else {
            vec![others]
        };
        let names = items
            .iter()
            .map(|x| convert::to_string_value(x, "after"))
            .collect::<Result<Vec<_>, _>>()?;
        if self.finally {
            return Err(HostError::new(
                "E010",
                format!("finally task `{}` cannot run after other tasks", self.name),
            )
            .help("finally tasks always run after all other tasks")
            .into());
        }
        let mut d = self.pipeline.0.borrow_mut();
        if let Some(pt) = d.spec.tasks.iter_mut().find(|t| t.name == self.name) {
            for n in names {
                if !pt.run_after.contains(&n) {
                    pt.run_after.push(n);
                }
            }
        }
        Ok(self.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// Runs

const PR_KEYS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "params",
    "workspaces",
    "timeouts",
    "timeout",
    "serviceAccountName",
    "podTemplate",
    "taskRunTemplate",
    "taskRunSpecs",
    "status",
    "managedBy",
    "embed",
];

fn run_names(
    opts: &mut rhai::Map,
    default_prefix: &str,
) -> Result<(Option<String>, Option<String>), HostError> {
    let name = opts
        .remove("name")
        .map(|v| convert::to_string_value(&v, "name"))
        .transpose()?;
    let generate = opts
        .remove("generateName")
        .map(|v| convert::to_string_value(&v, "generateName"))
        .transpose()?;
    Ok(match (name, generate) {
        (None, None) => (None, Some(format!("{default_prefix}-run-"))),
        other => other,
    })
}

fn run_workspaces(v: &Dynamic) -> Result<Value, HostError> {
    if v.is_map() {
        let mut out = Vec::new();
        for (k, x) in v.clone().cast::<rhai::Map>().iter() {
            let mut b = Map::new();
            b.insert("name".into(), Value::String(k.to_string()));
            match to_json(x, "workspace binding")? {
                Value::Object(m) => b.extend(m),
                other => {
                    return Err(HostError::new(
                        "E003",
                        format!(
                            "workspace `{k}` must be bound to a volume such as `volume_claim(\"1Gi\")`, `pvc(\"name\")`, `empty_dir()`, `config_map(\"name\")` or `secret(\"name\")`; found {}",
                            convert::json_type_name(&other)
                        ),
                    ));
                }
            }
            out.push(Value::Object(b));
        }
        return Ok(Value::Array(out));
    }
    to_json(v, "workspaces")
}

fn pipeline_run(
    ctx: &NativeCallContext,
    st: &Shared,
    pipeline: Option<PipelineB>,
    reference: Option<RefValue>,
    opts: rhai::Map,
) -> R<PipelineRunB> {
    let span = here(st, ctx);
    let mut opts = opts;
    let prefix = match (&pipeline, &reference) {
        (Some(p), _) => p.0.borrow().name.clone(),
        (None, Some(r)) => r
            .json
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                r.json.get("params").and_then(|ps| {
                    ps.as_array()?
                        .iter()
                        .find(|p| p["name"] == "name")
                        .and_then(|p| p["value"].as_str().map(str::to_string))
                })
            })
            .unwrap_or_else(|| "pipeline".into()),
        _ => "pipeline".into(),
    };
    let (name, generate_name) = run_names(&mut opts, &prefix)?;
    let mut meta = Meta::default();
    meta.take(&mut opts)?;
    let embed = opts
        .remove("embed")
        .map(|v| as_bool(&v, "embed"))
        .transpose()?
        .unwrap_or(false);
    let mut j = Map::new();
    if let Some(r) = &reference {
        j.insert(
            "pipelineRef".into(),
            Value::Object(r.finish("pipeline", false)),
        );
    }
    let mut template = Map::new();
    for (k, v) in opts.iter() {
        match k.as_str() {
            "params" => {
                j.insert("params".into(), convert::params_list(v, "run params")?);
            }
            "workspaces" => {
                j.insert("workspaces".into(), run_workspaces(v)?);
            }
            "timeout" => {
                j.insert(
                    "timeouts".into(),
                    json!({ "pipeline": duration(v, "timeout")? }),
                );
            }
            "timeouts" => {
                let mut t = Map::new();
                for (tk, tv) in expect_map(v, "timeouts")?.iter() {
                    if !["pipeline", "tasks", "finally"].contains(&tk.as_str()) {
                        return Err(
                            unknown_key(tk, "timeouts", &["pipeline", "tasks", "finally"]).into(),
                        );
                    }
                    t.insert(
                        tk.to_string(),
                        Value::String(duration(tv, &format!("timeouts.{tk}"))?),
                    );
                }
                j.insert("timeouts".into(), Value::Object(t));
            }
            "serviceAccountName" => {
                template.insert(
                    k.to_string(),
                    Value::String(convert::to_string_value(v, k)?),
                );
            }
            "podTemplate" => {
                template.insert(k.to_string(), to_json(v, "podTemplate")?);
            }
            "taskRunTemplate" => {
                if let Value::Object(m) = to_json(v, "taskRunTemplate")? {
                    template.extend(m);
                }
            }
            "taskRunSpecs" => {
                j.insert(k.to_string(), to_json(v, "taskRunSpecs")?);
            }
            "status" | "managedBy" => {
                j.insert(
                    k.to_string(),
                    Value::String(convert::to_string_value(v, k)?),
                );
            }
            other => return Err(unknown_key(other, "run options", PR_KEYS).into()),
        }
    }
    if !template.is_empty() {
        j.insert("taskRunTemplate".into(), Value::Object(template));
    }
    let spec: model::PipelineRunSpec = from_json(Value::Object(j), "pipeline run")?;
    let mut origins = Origins::new();
    set_origin(&mut origins, "", span);
    Ok(PipelineRunB(Rc::new(RefCell::new(PipelineRunData {
        name,
        generate_name,
        meta,
        spec,
        origins,
        pipeline: pipeline.map(|p| (p, embed)),
    }))))
}

impl PipelineRunB {
    fn to_resource(&self) -> (Resource, Origins) {
        let d = self.0.borrow();
        let mut spec = d.spec.clone();
        let mut origins = d.origins.clone();
        if let Some((p, embed)) = &d.pipeline {
            if *embed {
                let (res, po) = p.to_resource(true);
                if let Resource::Pipeline(pl) = res {
                    spec.pipeline_spec = Some(pl.spec);
                }
                // `spec.…` of the pipeline → `spec.pipelineSpec.…` of the run
                for (path, s) in po.iter() {
                    if let Some(rest) = path.strip_prefix("spec") {
                        origins.insert_if_absent(format!("spec.pipelineSpec{rest}"), s);
                    }
                }
            } else {
                spec.pipeline_ref = Some(model::PipelineRef {
                    name: Some(p.0.borrow().name.clone()),
                    ..Default::default()
                });
            }
        }
        let mut pr = model::PipelineRun::new(spec);
        pr.metadata = d.meta.object_meta(d.name.clone(), d.generate_name.clone());
        (Resource::PipelineRun(pr), origins)
    }
}

const TR_KEYS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "params",
    "workspaces",
    "timeout",
    "retries",
    "serviceAccountName",
    "podTemplate",
    "status",
    "statusMessage",
    "stepSpecs",
    "sidecarSpecs",
    "computeResources",
    "debug",
    "managedBy",
    "embed",
];

fn task_run(
    ctx: &NativeCallContext,
    st: &Shared,
    task: Option<TaskB>,
    reference: Option<RefValue>,
    opts: rhai::Map,
) -> R<TaskRunB> {
    let span = here(st, ctx);
    let mut opts = opts;
    let prefix = task
        .as_ref()
        .map(|t| t.0.borrow().name.clone())
        .or_else(|| {
            reference.as_ref().and_then(|r| {
                r.json
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
        })
        .unwrap_or_else(|| "task".into());
    let (name, generate_name) = run_names(&mut opts, &prefix)?;
    let mut meta = Meta::default();
    meta.take(&mut opts)?;
    let embed = opts
        .remove("embed")
        .map(|v| as_bool(&v, "embed"))
        .transpose()?
        .unwrap_or(false);
    let mut j = Map::new();
    if let Some(r) = &reference {
        j.insert("taskRef".into(), Value::Object(r.finish("task", true)));
    }
    for (k, v) in opts.iter() {
        let val = match k.as_str() {
            "params" => convert::params_list(v, "run params")?,
            "workspaces" => run_workspaces(v)?,
            "timeout" => Value::String(duration(v, "timeout")?),
            "retries" => to_json(v, "retries")?,
            "serviceAccountName" | "status" | "statusMessage" | "managedBy" => {
                Value::String(convert::to_string_value(v, k)?)
            }
            "podTemplate" | "stepSpecs" | "sidecarSpecs" | "computeResources" | "debug" => {
                to_json(v, k)?
            }
            other => return Err(unknown_key(other, "task run options", TR_KEYS).into()),
        };
        j.insert(k.to_string(), val);
    }
    let spec: model::TaskRunSpec = from_json(Value::Object(j), "task run")?;
    let mut origins = Origins::new();
    set_origin(&mut origins, "", span);
    Ok(TaskRunB(Rc::new(RefCell::new(TaskRunData {
        name,
        generate_name,
        meta,
        spec,
        origins,
        task: task.map(|t| (t, embed)),
    }))))
}

impl TaskRunB {
    fn to_resource(&self) -> (Resource, Origins) {
        let d = self.0.borrow();
        let mut spec = d.spec.clone();
        let mut origins = d.origins.clone();
        if let Some((t, embed)) = &d.task {
            let td = t.0.borrow();
            if *embed {
                spec.task_spec = Some(td.spec.clone());
                origins.graft("spec.taskSpec", &td.origins);
            } else {
                spec.task_ref = Some(model::TaskRef {
                    name: Some(td.name.clone()),
                    kind: Some("Task".into()),
                    ..Default::default()
                });
            }
        }
        let mut tr = model::TaskRun::new(spec);
        tr.metadata = d.meta.object_meta(d.name.clone(), d.generate_name.clone());
        (Resource::TaskRun(tr), origins)
    }
}

// ---------------------------------------------------------------------------------------------
// StepAction

const SA_KEYS: &[&str] = &[
    "description",
    "image",
    "command",
    "args",
    "env",
    "script",
    "workingDir",
    "params",
    "results",
    "securityContext",
    "volumeMounts",
    "labels",
    "annotations",
    "namespace",
];

fn new_step_action(
    ctx: &NativeCallContext,
    st: &Shared,
    name: &str,
    opts: rhai::Map,
) -> R<StepActionB> {
    let span = here(st, ctx);
    let mut opts = opts;
    let mut meta = Meta::default();
    meta.take(&mut opts)?;
    let mut j = Map::new();
    let mut params = Vec::new();
    for (k, v) in opts.iter() {
        let val = match k.as_str() {
            "env" => convert::env_list(v)?,
            "results" => convert::names_to_maps(to_json(v, "results")?),
            "params" => {
                for p in list(v, "params")? {
                    let (n, rest) = named_map(&p, "param")?;
                    params.push(param_spec(&n, rest)?);
                }
                continue;
            }
            other if SA_KEYS.contains(&other) => to_json(v, other)?,
            other => return Err(unknown_key(other, "step action", SA_KEYS).into()),
        };
        j.insert(k.to_string(), val);
    }
    let mut spec: model::StepActionSpec =
        from_json(Value::Object(j), &format!("step action `{name}`"))?;
    spec.params = params;
    let mut origins = Origins::new();
    set_origin(&mut origins, "", span);
    Ok(StepActionB(Rc::new(RefCell::new(StepActionData {
        name: name_arg(name, "step action")?,
        at: span,
        meta,
        spec,
        origins,
    }))))
}

impl StepActionB {
    fn to_resource(&self) -> (Resource, Origins) {
        let d = self.0.borrow();
        let mut sa = model::StepAction::new(&d.name, d.spec.clone());
        sa.metadata = d.meta.object_meta(Some(d.name.clone()), None);
        let mut origins = Origins::new();
        if let Some(s) = d.at {
            origins.insert("", s);
        }
        origins.graft("spec", &d.origins);
        (Resource::StepAction(sa), origins)
    }
}

// ---------------------------------------------------------------------------------------------
// file()

fn read_file(ctx: &NativeCallContext, st: &Shared, path: &str) -> R<String> {
    let s = st.borrow();
    let Some(root) = s.root.clone() else {
        return Err(HostError::new(
            "E007",
            "`file()` is not available: this script was not loaded from a file",
        )
        .into());
    };
    let importer = ctx.call_source().and_then(|src| s.paths.get(src)).cloned();
    drop(s);
    let base = importer
        .as_deref()
        .and_then(std::path::Path::parent)
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| root.clone());
    match super::stdlib::confine(&root, &base, std::path::Path::new(path)) {
        Err(msg) => Err(HostError::new("E007", format!("cannot read `{path}`: {msg}")).into()),
        Ok(None) => Err(
            HostError::new("E007", format!("cannot read `{path}`: no such file"))
                .help(format!(
                    "paths are relative to the script's directory ({})",
                    base.display()
                ))
                .into(),
        ),
        Ok(Some(real)) => std::fs::read_to_string(&real)
            .map_err(|e| HostError::new("E007", format!("cannot read `{path}`: {e}")).into()),
    }
}

// ---------------------------------------------------------------------------------------------
// emit and finish

fn emit_value(st: &Shared, v: Dynamic) -> R<()> {
    if v.is_array() {
        for x in list(&v, "emit")? {
            emit_value(st, x)?;
        }
        return Ok(());
    }
    let e = if let Some(t) = v.clone().try_cast::<TaskB>() {
        Emitted::Task(t)
    } else if let Some(p) = v.clone().try_cast::<PipelineB>() {
        Emitted::Pipeline(p)
    } else if let Some(r) = v.clone().try_cast::<PipelineRunB>() {
        Emitted::PipelineRun(r)
    } else if let Some(r) = v.clone().try_cast::<TaskRunB>() {
        Emitted::TaskRun(r)
    } else if let Some(s) = v.clone().try_cast::<StepActionB>() {
        Emitted::StepAction(s)
    } else {
        return Err(HostError::new(
            "E003",
            format!(
                "`emit` takes a Task, Pipeline, PipelineRun, TaskRun or StepAction (or an array of them), found {}",
                handles::type_label(&v)
            ),
        )
        .into());
    };
    st.borrow_mut().emitted.push(e);
    Ok(())
}

type Out = Vec<(Resource, Origins)>;

fn push_step_actions(out: &mut Out, t: &TaskB) {
    for sa in t.0.borrow().step_actions.clone() {
        out.push(sa.to_resource());
    }
}

fn push_task(out: &mut Out, t: &TaskB) {
    push_step_actions(out, t);
    out.push(t.to_resource());
}

/// The pipeline's step actions and referenced local tasks; then (unless `run_embeds`) the pipeline.
fn push_pipeline_deps(out: &mut Out, p: &PipelineB, embed_all: bool) {
    let referenced = if embed_all {
        Vec::new()
    } else {
        p.referenced_tasks()
    };
    for t in p.local_tasks() {
        if !referenced.iter().any(|r| Rc::ptr_eq(&r.0, &t.0)) {
            push_step_actions(out, &t);
        }
    }
    for t in &referenced {
        push_task(out, t);
    }
}

/// Finalizes everything the script emitted into a bundle. Objects defined in the script that an emitted
/// object references by name (a pipeline's tasks, a task's step actions, a run's pipeline or task) are
/// emitted before it; an object emitted twice appears once; two different objects with the same kind and
/// name are an error. A run that embeds its pipeline embeds the pipeline's tasks too (self-contained).
pub(crate) fn finish(st: &Shared) -> Result<Bundle, Diagnostics> {
    let emitted = st.borrow().emitted.clone();
    let mut out: Out = Vec::new();
    for e in &emitted {
        match e {
            Emitted::Task(t) => push_task(&mut out, t),
            Emitted::Pipeline(p) => {
                push_pipeline_deps(&mut out, p, false);
                out.push(p.to_resource(false));
            }
            Emitted::PipelineRun(r) => {
                if let Some((p, embed)) = r.0.borrow().pipeline.clone() {
                    push_pipeline_deps(&mut out, &p, embed);
                    if !embed {
                        out.push(p.to_resource(false));
                    }
                }
                out.push(r.to_resource());
            }
            Emitted::TaskRun(r) => {
                if let Some((t, embed)) = r.0.borrow().task.clone() {
                    if embed {
                        push_step_actions(&mut out, &t);
                    } else {
                        push_task(&mut out, &t);
                    }
                }
                out.push(r.to_resource());
            }
            Emitted::StepAction(s) => out.push(s.to_resource()),
        }
    }
    let mut diags = Diagnostics::default();
    if emitted.is_empty() {
        diags.push(
            Diagnostic::error("E012", "the script emitted nothing")
                .help("call `emit(p)` for each pipeline, task or run to write"),
        );
        return Err(diags);
    }
    let mut bundle = Bundle::default();
    for (res, origins) in out {
        let named = res.metadata().name.clone();
        if let Some(name) = &named
            && let Some(prev) = bundle.objects.iter().find(|o| {
                o.resource.kind() == res.kind() && o.resource.metadata().name.as_ref() == Some(name)
            })
        {
            if prev.resource != res {
                diags.push(
                    Diagnostic::error(
                        "E011",
                        format!("two different {}s are both named `{name}`", res.kind()),
                    )
                    .at(origins.lookup(""))
                    .label("this one")
                    .secondary(prev.origins.lookup(""), "conflicts with this one")
                    .help("give one of them another name, or embed it in its pipeline with `embed: true`"),
                );
            }
            continue;
        }
        bundle.objects.push(Object {
            resource: res,
            origins,
        });
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(bundle)
}

// ---------------------------------------------------------------------------------------------
// Registration

/// Names of the host functions, for "did you mean" suggestions.
pub fn function_names() -> Vec<String> {
    FUNCTIONS.iter().map(|s| s.to_string()).collect()
}

const FUNCTIONS: &[&str] = &[
    "task",
    "pipeline",
    "step_action",
    "emit",
    "file",
    "param",
    "result",
    "workspace",
    "step",
    "sidecar",
    "volume",
    "step_template",
    "label",
    "annotation",
    "run",
    "after",
    "finally",
    "task_ref",
    "pipeline_ref",
    "from_hub",
    "from_git",
    "from_bundle",
    "from_cluster",
    "from_http",
    "from_resolver",
    "custom_task",
    "volume_claim",
    "pvc",
    "empty_dir",
    "config_map",
    "secret",
    "secret_env",
    "config_map_env",
    "field_env",
    "when_in",
    "when_notin",
    "cel",
    "step_result",
    "pipeline_run",
    "task_run",
    "to_yaml_string",
];

pub(crate) fn register(engine: &mut Engine, st: Shared) {
    engine
        .register_type_with_name::<TaskB>("Task")
        .register_type_with_name::<PipelineB>("Pipeline")
        .register_type_with_name::<PipelineRunB>("PipelineRun")
        .register_type_with_name::<TaskRunB>("TaskRun")
        .register_type_with_name::<StepActionB>("StepAction")
        .register_type_with_name::<PTask>("PipelineTask")
        .register_type_with_name::<RefValue>("Reference")
        .register_type_with_name::<ParamRef>("Param")
        .register_type_with_name::<ResultDecl>("Result")
        .register_type_with_name::<ResultRef>("ResultRef")
        .register_type_with_name::<StepResultRef>("StepResultRef")
        .register_type_with_name::<TaskWorkspace>("Workspace")
        .register_type_with_name::<PipelineWorkspace>("PipelineWorkspace");

    register_handles(engine);

    // --- task
    let s = st.clone();
    engine.register_fn("task", move |ctx: NativeCallContext, name: &str| {
        new_task(&ctx, &s, name, rhai::Map::new())
    });
    let s = st.clone();
    engine.register_fn(
        "task",
        move |ctx: NativeCallContext, name: &str, opts: rhai::Map| new_task(&ctx, &s, name, opts),
    );
    let s = st.clone();
    engine.register_fn(
        "param",
        move |ctx: NativeCallContext, t: &mut TaskB, name: &str| {
            t.param(&ctx, &s, name, rhai::Map::new())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "param",
        move |ctx: NativeCallContext, t: &mut TaskB, name: &str, o: rhai::Map| {
            t.param(&ctx, &s, name, o)
        },
    );
    let s = st.clone();
    engine.register_fn(
        "result",
        move |ctx: NativeCallContext, t: &mut TaskB, name: &str| {
            t.result(&ctx, &s, name, rhai::Map::new())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "result",
        move |ctx: NativeCallContext, t: &mut TaskB, name: &str, o: rhai::Map| {
            t.result(&ctx, &s, name, o)
        },
    );
    let s = st.clone();
    engine.register_fn(
        "workspace",
        move |ctx: NativeCallContext, t: &mut TaskB, name: &str| {
            t.workspace(&ctx, &s, name, rhai::Map::new())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "workspace",
        move |ctx: NativeCallContext, t: &mut TaskB, name: &str, o: rhai::Map| {
            t.workspace(&ctx, &s, name, o)
        },
    );
    let s = st.clone();
    engine.register_fn(
        "step",
        move |ctx: NativeCallContext, t: &mut TaskB, m: rhai::Map| -> R<TaskB> {
            add_step(&ctx, &s, t, m)?;
            Ok(t.clone())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "step",
        move |ctx: NativeCallContext,
              t: &mut TaskB,
              name: &str,
              image: Dynamic,
              script: Dynamic|
              -> R<TaskB> {
            add_step(&ctx, &s, t, step_map(name, &image, &script)?)?;
            Ok(t.clone())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "step",
        move |ctx: NativeCallContext,
              t: &mut TaskB,
              name: &str,
              image: Dynamic,
              script: Dynamic,
              extra: rhai::Map|
              -> R<TaskB> {
            let mut m = step_map(name, &image, &script)?;
            for (k, v) in extra {
                if m.contains_key(&k) {
                    return Err(HostError::new(
                        "E010",
                        format!("step `{name}`: `{k}` is given twice"),
                    )
                    .into());
                }
                m.insert(k, v);
            }
            add_step(&ctx, &s, t, m)?;
            Ok(t.clone())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "sidecar",
        move |ctx: NativeCallContext, t: &mut TaskB, m: rhai::Map| -> R<TaskB> {
            let span = here(&s, &ctx);
            let j = step_json(m, t)?;
            let sc = from_json(j, "sidecar")?;
            let mut d = t.0.borrow_mut();
            let i = d.spec.sidecars.len();
            d.spec.sidecars.push(sc);
            set_origin(&mut d.origins, format!("sidecars[{i}]"), span);
            drop(d);
            Ok(t.clone())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "volume",
        move |ctx: NativeCallContext, t: &mut TaskB, m: rhai::Map| -> R<TaskB> {
            let span = here(&s, &ctx);
            let v = from_json(to_json(&Dynamic::from_map(m), "volume")?, "volume")?;
            let mut d = t.0.borrow_mut();
            let i = d.spec.volumes.len();
            d.spec.volumes.push(v);
            set_origin(&mut d.origins, format!("volumes[{i}]"), span);
            drop(d);
            Ok(t.clone())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "step_template",
        move |ctx: NativeCallContext, t: &mut TaskB, m: rhai::Map| -> R<TaskB> {
            let span = here(&s, &ctx);
            let j = step_json(m, t)?;
            let tmpl = from_json(j, "stepTemplate")?;
            let mut d = t.0.borrow_mut();
            d.spec.step_template = Some(tmpl);
            set_origin(&mut d.origins, "stepTemplate", span);
            drop(d);
            Ok(t.clone())
        },
    );
    engine.register_fn("label", |t: &mut TaskB, k: &str, v: &str| -> TaskB {
        t.0.borrow_mut().meta.labels.insert(k.into(), v.into());
        t.clone()
    });
    engine.register_fn("annotation", |t: &mut TaskB, k: &str, v: &str| -> TaskB {
        t.0.borrow_mut().meta.annotations.insert(k.into(), v.into());
        t.clone()
    });
    engine.register_get("name", |t: &mut TaskB| t.0.borrow().name.clone());
    engine.register_get("params", |t: &mut TaskB| -> rhai::Map {
        t.0.borrow()
            .spec
            .params
            .iter()
            .map(|p| {
                (
                    p.name.as_str().into(),
                    Dynamic::from(ParamRef {
                        name: p.name.clone(),
                        sel: Sel::Whole,
                    }),
                )
            })
            .collect()
    });
    engine.register_get("results", |t: &mut TaskB| -> rhai::Map {
        t.0.borrow()
            .spec
            .results
            .iter()
            .map(|r| {
                (
                    r.name.as_str().into(),
                    Dynamic::from(ResultDecl {
                        name: r.name.clone(),
                        step: None,
                    }),
                )
            })
            .collect()
    });
    engine.register_get("workspaces", |t: &mut TaskB| -> rhai::Map {
        t.0.borrow()
            .spec
            .workspaces
            .iter()
            .map(|w| {
                (
                    w.name.as_str().into(),
                    Dynamic::from(TaskWorkspace {
                        name: w.name.clone(),
                    }),
                )
            })
            .collect()
    });
    engine.register_fn("step_result", |step: &str, result: &str| StepResultRef {
        step: step.into(),
        result: result.into(),
        sel: Sel::Whole,
    });
    let s = st.clone();
    engine.register_fn("run", move |ctx: NativeCallContext, t: &mut TaskB| {
        task_run(&ctx, &s, Some(t.clone()), None, rhai::Map::new())
    });
    let s = st.clone();
    engine.register_fn(
        "run",
        move |ctx: NativeCallContext, t: &mut TaskB, o: rhai::Map| {
            task_run(&ctx, &s, Some(t.clone()), None, o)
        },
    );
    let s = st.clone();
    engine.register_fn(
        "task_run",
        move |ctx: NativeCallContext, r: RefValue, o: rhai::Map| {
            task_run(&ctx, &s, None, Some(r), o)
        },
    );

    // --- step actions
    let s = st.clone();
    engine.register_fn(
        "step_action",
        move |ctx: NativeCallContext, name: &str, o: rhai::Map| new_step_action(&ctx, &s, name, o),
    );
    engine.register_fn("param", |sa: &mut StepActionB, name: &str| -> R<ParamRef> {
        let ps = param_spec(name, rhai::Map::new())?;
        sa.0.borrow_mut().spec.params.push(ps);
        Ok(ParamRef {
            name: name.into(),
            sel: Sel::Whole,
        })
    });
    engine.register_fn(
        "param",
        |sa: &mut StepActionB, name: &str, o: rhai::Map| -> R<ParamRef> {
            let ps = param_spec(name, o)?;
            sa.0.borrow_mut().spec.params.push(ps);
            Ok(ParamRef {
                name: name.into(),
                sel: Sel::Whole,
            })
        },
    );
    engine.register_fn(
        "result",
        |sa: &mut StepActionB, name: &str| -> R<ResultDecl> {
            let r = from_json(result_json(name, rhai::Map::new(), "result")?, "result")?;
            sa.0.borrow_mut().spec.results.push(r);
            Ok(ResultDecl {
                name: name.into(),
                step: Some(String::new()),
            })
        },
    );
    engine.register_fn(
        "result",
        |sa: &mut StepActionB, name: &str, o: rhai::Map| -> R<ResultDecl> {
            let r = from_json(result_json(name, o, "result")?, "result")?;
            sa.0.borrow_mut().spec.results.push(r);
            Ok(ResultDecl {
                name: name.into(),
                step: Some(String::new()),
            })
        },
    );
    engine.register_get("name", |sa: &mut StepActionB| sa.0.borrow().name.clone());

    // --- pipeline
    let s = st.clone();
    engine.register_fn("pipeline", move |ctx: NativeCallContext, name: &str| {
        new_pipeline(&ctx, &s, name, rhai::Map::new())
    });
    let s = st.clone();
    engine.register_fn(
        "pipeline",
        move |ctx: NativeCallContext, name: &str, o: rhai::Map| new_pipeline(&ctx, &s, name, o),
    );
    let s = st.clone();
    engine.register_fn(
        "param",
        move |ctx: NativeCallContext, p: &mut PipelineB, name: &str| {
            p.param(&ctx, &s, name, rhai::Map::new())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "param",
        move |ctx: NativeCallContext, p: &mut PipelineB, name: &str, o: rhai::Map| {
            p.param(&ctx, &s, name, o)
        },
    );
    let s = st.clone();
    engine.register_fn(
        "workspace",
        move |ctx: NativeCallContext, p: &mut PipelineB, name: &str| {
            p.workspace(&ctx, &s, name, rhai::Map::new())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "workspace",
        move |ctx: NativeCallContext, p: &mut PipelineB, name: &str, o: rhai::Map| {
            p.workspace(&ctx, &s, name, o)
        },
    );
    for finally in [false, true] {
        let fname = if finally { "finally" } else { "task" };
        let s = st.clone();
        engine.register_fn(
            fname,
            move |ctx: NativeCallContext, p: &mut PipelineB, name: &str, t: Dynamic| {
                p.add_task(&ctx, &s, name, t, rhai::Map::new(), finally)
            },
        );
        let s = st.clone();
        engine.register_fn(
            fname,
            move |ctx: NativeCallContext,
                  p: &mut PipelineB,
                  name: &str,
                  t: Dynamic,
                  o: rhai::Map| { p.add_task(&ctx, &s, name, t, o, finally) },
        );
    }
    let s = st.clone();
    engine.register_fn(
        "result",
        move |ctx: NativeCallContext, p: &mut PipelineB, name: &str, v: Dynamic| {
            p.result(&ctx, &s, name, v, rhai::Map::new())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "result",
        move |ctx: NativeCallContext, p: &mut PipelineB, name: &str, v: Dynamic, o: rhai::Map| {
            p.result(&ctx, &s, name, v, o)
        },
    );
    let s = st.clone();
    engine.register_fn("run", move |ctx: NativeCallContext, p: &mut PipelineB| {
        pipeline_run(&ctx, &s, Some(p.clone()), None, rhai::Map::new())
    });
    let s = st.clone();
    engine.register_fn(
        "run",
        move |ctx: NativeCallContext, p: &mut PipelineB, o: rhai::Map| {
            pipeline_run(&ctx, &s, Some(p.clone()), None, o)
        },
    );
    let s = st.clone();
    engine.register_fn(
        "pipeline_run",
        move |ctx: NativeCallContext, r: RefValue, o: rhai::Map| {
            pipeline_run(&ctx, &s, None, Some(r), o)
        },
    );
    engine.register_get("name", |p: &mut PipelineB| p.0.borrow().name.clone());
    engine.register_fn(
        "label",
        |p: &mut PipelineB, k: &str, v: &str| -> PipelineB {
            p.0.borrow_mut().meta.labels.insert(k.into(), v.into());
            p.clone()
        },
    );
    engine.register_fn(
        "annotation",
        |p: &mut PipelineB, k: &str, v: &str| -> PipelineB {
            p.0.borrow_mut().meta.annotations.insert(k.into(), v.into());
            p.clone()
        },
    );

    // --- pipeline tasks
    engine.register_fn("result", |t: &mut PTask, name: &str| t.result(name));
    engine.register_fn("after", |t: &mut PTask, other: Dynamic| t.after(other));
    engine.register_get("name", |t: &mut PTask| t.name.clone());
    engine.register_get("status", |t: &mut PTask| {
        format!("$(tasks.{}.status)", t.name)
    });
    engine.register_get("reason", |t: &mut PTask| {
        format!("$(tasks.{}.reason)", t.name)
    });
    engine.register_get("matrix_length", |t: &mut PTask| {
        format!("$(tasks.{}.matrix.length)", t.name)
    });

    // --- references
    engine.register_fn("task_ref", |name: &str| {
        let mut json = Map::new();
        json.insert("name".into(), Value::String(name.into()));
        RefValue {
            json,
            kind_param: false,
            custom_spec: None,
        }
    });
    engine.register_fn("pipeline_ref", |name: &str| {
        let mut json = Map::new();
        json.insert("name".into(), Value::String(name.into()));
        RefValue {
            json,
            kind_param: false,
            custom_spec: None,
        }
    });
    engine.register_fn("from_hub", |n: &str, v: &str| {
        from_hub(n, v, rhai::Map::new())
    });
    engine.register_fn("from_hub", from_hub);
    engine.register_fn("from_git", from_git);
    engine.register_fn("from_bundle", |i: &str, n: &str| {
        from_bundle(i, n, rhai::Map::new())
    });
    engine.register_fn("from_bundle", from_bundle);
    engine.register_fn("from_cluster", |n: &str| from_cluster(n, rhai::Map::new()));
    engine.register_fn("from_cluster", from_cluster);
    engine.register_fn("from_http", |u: &str| from_http(u, rhai::Map::new()));
    engine.register_fn("from_http", from_http);
    engine.register_fn("from_resolver", from_resolver);
    engine.register_fn("custom_task", |a: &str, k: &str| custom_task(a, k, ""));
    engine.register_fn("custom_task", custom_task);
    engine.register_fn(
        "custom_task",
        |a: &str, k: &str, spec: rhai::Map| -> R<RefValue> {
            let mut r = custom_task(a, k, "");
            r.custom_spec = Some(to_json(&Dynamic::from_map(spec), "custom task spec")?);
            Ok(r)
        },
    );

    // --- workspace bindings and env helpers (plain maps, so `+ #{ subPath: "x" }` works)
    engine.register_fn("volume_claim", |size: &str| -> rhai::Map {
        volume_claim(size, "ReadWriteOnce", None)
    });
    engine.register_fn("volume_claim", |o: rhai::Map| -> R<rhai::Map> {
        let mut size = None;
        let mut mode = "ReadWriteOnce".to_string();
        let mut class = None;
        for (k, v) in o.iter() {
            match k.as_str() {
                "storage" => size = Some(convert::to_string_value(v, "storage")?),
                "accessMode" => mode = convert::to_string_value(v, "accessMode")?,
                "storageClassName" => {
                    class = Some(convert::to_string_value(v, "storageClassName")?)
                }
                other => {
                    return Err(unknown_key(
                        other,
                        "volume_claim options",
                        &["storage", "accessMode", "storageClassName"],
                    )
                    .into());
                }
            }
        }
        let size = size
            .ok_or_else(|| HostError::new("E010", "volume_claim needs `storage` (e.g. \"1Gi\")"))?;
        Ok(volume_claim(&size, &mode, class))
    });
    engine.register_fn("pvc", |name: &str| {
        map1("persistentVolumeClaim", map1("claimName", dstr(name)))
    });
    engine.register_fn("empty_dir", || map1("emptyDir", rhai::Map::new()));
    engine.register_fn("config_map", |name: &str| {
        map1("configMap", map1("name", dstr(name)))
    });
    engine.register_fn("secret", |name: &str| {
        map1("secret", map1("secretName", dstr(name)))
    });
    engine.register_fn("secret_env", |name: &str, key: &str| {
        let mut r = rhai::Map::new();
        r.insert("name".into(), dstr(name));
        r.insert("key".into(), key.into());
        map1("valueFrom", map1("secretKeyRef", r))
    });
    engine.register_fn("config_map_env", |name: &str, key: &str| {
        let mut r = rhai::Map::new();
        r.insert("name".into(), dstr(name));
        r.insert("key".into(), key.into());
        map1("valueFrom", map1("configMapKeyRef", r))
    });
    engine.register_fn("field_env", |path: &str| {
        map1("valueFrom", map1("fieldRef", map1("fieldPath", dstr(path))))
    });

    // --- when expressions
    engine.register_fn("when_in", |input: Dynamic, values: Dynamic| {
        when_map(input, "in", values)
    });
    engine.register_fn("when_notin", |input: Dynamic, values: Dynamic| {
        when_map(input, "notin", values)
    });
    engine.register_fn("cel", |expr: &str| map1("cel", dstr(expr)));

    engine.register_fn("dedent", |s: &str| dedent(s));

    // --- emit, file
    let s = st.clone();
    engine.register_fn("emit", move |v: Dynamic| emit_value(&s, v));
    let s = st;
    engine.register_fn("file", move |ctx: NativeCallContext, path: &str| {
        read_file(&ctx, &s, path)
    });
}

fn dstr(s: &str) -> Dynamic {
    Dynamic::from(s.to_string())
}

/// Removes the indentation common to all non-blank lines and a leading newline, so a script written
/// indented inside the code (`dedent(`\n    #!/bin/sh\n    echo hi\n`)`) starts with its shebang.
pub fn dedent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<&str> = text
        .lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect();
    // a closing backtick on its own indented line leaves a whitespace-only last line
    if out.last().is_some_and(|l| l.trim().is_empty()) && text.ends_with([' ', '\t']) {
        out.pop();
        return out.join("\n") + "\n";
    }
    let mut s = out.join("\n");
    if text.ends_with('\n') {
        s.push('\n');
    }
    s
}

fn map1(k: &str, v: impl Into<Dynamic>) -> rhai::Map {
    let mut m = rhai::Map::new();
    m.insert(k.into(), v.into());
    m
}

fn when_map(input: Dynamic, op: &str, values: Dynamic) -> rhai::Map {
    let mut m = rhai::Map::new();
    m.insert("input".into(), input);
    m.insert("operator".into(), op.into());
    let values = if values.is_array() {
        values
    } else {
        Dynamic::from_array(vec![values])
    };
    m.insert("values".into(), values);
    m
}

fn volume_claim(size: &str, mode: &str, class: Option<String>) -> rhai::Map {
    let mut spec = rhai::Map::new();
    spec.insert("accessModes".into(), Dynamic::from_array(vec![mode.into()]));
    spec.insert(
        "resources".into(),
        map1("requests", map1("storage", dstr(size))).into(),
    );
    if let Some(c) = class {
        spec.insert("storageClassName".into(), c.into());
    }
    map1("volumeClaimTemplate", map1("spec", spec))
}

fn register_handles(engine: &mut Engine) {
    // Params: `p`, `p[0]`, `p["key"]`, `p.all`
    engine.register_fn("to_string", |p: &mut ParamRef| p.render());
    engine.register_fn("to_debug", |p: &mut ParamRef| p.render());
    engine.register_indexer_get(|p: &mut ParamRef, i: rhai::INT| ParamRef {
        name: p.name.clone(),
        sel: Sel::Index(i),
    });
    engine.register_indexer_get(|p: &mut ParamRef, k: &str| ParamRef {
        name: p.name.clone(),
        sel: Sel::Key(k.into()),
    });
    engine.register_get("all", |p: &mut ParamRef| ParamRef {
        name: p.name.clone(),
        sel: Sel::Star,
    });
    engine.register_get("name", |p: &mut ParamRef| p.name.clone());

    engine.register_fn("to_string", |r: &mut ResultRef| r.render());
    engine.register_fn("to_debug", |r: &mut ResultRef| r.render());
    engine.register_indexer_get(|r: &mut ResultRef, i: rhai::INT| ResultRef {
        sel: Sel::Index(i),
        ..r.clone()
    });
    engine.register_indexer_get(|r: &mut ResultRef, k: &str| ResultRef {
        sel: Sel::Key(k.into()),
        ..r.clone()
    });
    engine.register_get("all", |r: &mut ResultRef| ResultRef {
        sel: Sel::Star,
        ..r.clone()
    });

    engine.register_fn("to_string", |r: &mut StepResultRef| r.render());
    engine.register_fn("to_debug", |r: &mut StepResultRef| r.render());
    engine.register_indexer_get(|r: &mut StepResultRef, i: rhai::INT| StepResultRef {
        sel: Sel::Index(i),
        ..r.clone()
    });
    engine.register_indexer_get(|r: &mut StepResultRef, k: &str| StepResultRef {
        sel: Sel::Key(k.into()),
        ..r.clone()
    });

    engine.register_fn("to_string", |r: &mut ResultDecl| r.render());
    engine.register_fn("to_debug", |r: &mut ResultDecl| r.render());
    engine.register_get("path", |r: &mut ResultDecl| r.render());
    engine.register_get("name", |r: &mut ResultDecl| r.name.clone());

    engine.register_fn("to_string", |w: &mut TaskWorkspace| w.attr("path"));
    engine.register_fn("to_debug", |w: &mut TaskWorkspace| w.attr("path"));
    for attr in ["path", "bound", "claim", "volume"] {
        engine.register_get(attr, move |w: &mut TaskWorkspace| w.attr(attr));
    }
    engine.register_get("name", |w: &mut TaskWorkspace| w.name.clone());

    // Rhai swallows errors raised by `to_string` during interpolation, so this cannot fail here; it
    // renders the task-side form, which validation reports when used outside a task.
    engine.register_fn("to_string", |w: &mut PipelineWorkspace| {
        format!("$(workspaces.{}.path)", w.name)
    });
    engine.register_fn("to_debug", |w: &mut PipelineWorkspace| {
        format!("PipelineWorkspace({})", w.name)
    });
    engine.register_get("bound", |w: &mut PipelineWorkspace| {
        format!("$(workspaces.{}.bound)", w.name)
    });
    engine.register_get("name", |w: &mut PipelineWorkspace| w.name.clone());

    engine.register_fn("to_string", |t: &mut PTask| t.name.clone());
    engine.register_fn("to_debug", |t: &mut PTask| {
        format!("PipelineTask({})", t.name)
    });
    engine.register_fn("to_debug", |t: &mut TaskB| {
        format!("Task({})", t.0.borrow().name)
    });
    engine.register_fn("to_debug", |p: &mut PipelineB| {
        format!("Pipeline({})", p.0.borrow().name)
    });
}
