//! Tekton's defaulting (reference §5), applied to a [`Resource`], and the normalisation `tekscript
//! import` uses to decide whether a generated script reproduces its input.
//!
//! Two steps, applied to both sides of a comparison:
//!
//! 1. [`apply`]: what Tekton's mutating webhook fills in on create (the §5 table): param and result
//!    `type` (and the `type` of their properties), `kind: Task` on a `taskRef` without kind and
//!    resolver, a TaskRun's `timeout` (`1h0m0s`), `serviceAccountName` (`default`) and
//!    `app.kubernetes.io/managed-by` label, a PipelineRun's `timeouts.pipeline` (`1h0m0s`) and
//!    `taskRunTemplate.serviceAccountName` (`default`); recursively into embedded specs. A
//!    script and a YAML file that differ only here create the same object in the cluster.
//! 2. [`normalize`]: what tekscript writes differently *on purpose*, and what a script cannot
//!    express at all:
//!    * durations in Go's canonical form (`1h` → `1h0m0s`), as the webhook stores them too;
//!    * StepAction `apiVersion`: tekscript writes `tekton.dev/v1beta1` (v1alpha1 has the same
//!      shape);
//!    * resolver params of a `taskRef`/`pipelineRef`/step `ref`, ordered by name: the helpers
//!      (`from_git`, `from_resolver`, …) write them in a fixed order, resolvers read them by name;
//!    * empty `labels`/`annotations` maps and an empty embedded-task `metadata: {}` are the same as
//!      none;
//!    * a run's top-level `status`, and the metadata the API server writes ([`SERVER_METADATA`]:
//!      `uid`, `resourceVersion`, `creationTimestamp`, …, as in `kubectl get -o yaml` output) are
//!      dropped: a script cannot set them.
//!
//! [`comparable`] applies both and sorts the objects by kind and name (stable): a script emits a
//! Task or StepAction before the first object that uses it, and a pipeline before its runs, which
//! may differ from the order of the YAML file.

use crate::bundle::Resource;
use crate::model::{
    self, EmbeddedTask, ParamSpec, PipelineSpec, PipelineTask, Step, TaskRef, TaskResult, TaskSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

/// Tekton's default timeout of TaskRuns and PipelineRuns (`default-timeout-minutes: 60`).
pub const DEFAULT_TIMEOUT: &str = "1h0m0s";
/// Tekton's default service account (`default-service-account`).
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";
const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
const MANAGED_BY_VALUE: &str = "tekton-pipelines";

/// Applies Tekton's defaulting webhook to `r`, with the default `config-defaults`.
pub fn apply(r: &mut Resource) {
    match r {
        Resource::Task(t) => task_spec(&mut t.spec),
        Resource::Pipeline(p) => pipeline_spec(&mut p.spec),
        Resource::StepAction(sa) => sa.spec.params.iter_mut().for_each(param_spec),
        Resource::TaskRun(tr) => {
            let s = &mut tr.spec;
            if let Some(ts) = &mut s.task_spec {
                task_spec(ts);
            }
            if let Some(r) = &mut s.task_ref {
                task_ref(r);
            }
            if s.timeout.is_none() {
                s.timeout = Some(DEFAULT_TIMEOUT.into());
            }
            if s.service_account_name.as_deref().unwrap_or("").is_empty() {
                s.service_account_name = Some(DEFAULT_SERVICE_ACCOUNT.into());
            }
            tr.metadata
                .labels
                .get_or_insert_with(Default::default)
                .entry(MANAGED_BY.into())
                .or_insert_with(|| MANAGED_BY_VALUE.into());
        }
        Resource::PipelineRun(pr) => {
            let s = &mut pr.spec;
            if let Some(ps) = &mut s.pipeline_spec {
                pipeline_spec(ps);
            }
            let t = s.timeouts.get_or_insert_with(Default::default);
            if t.pipeline.is_none() {
                t.pipeline = Some(DEFAULT_TIMEOUT.into());
            }
            let tmpl = s.task_run_template.get_or_insert_with(Default::default);
            if tmpl
                .service_account_name
                .as_deref()
                .unwrap_or("")
                .is_empty()
            {
                tmpl.service_account_name = Some(DEFAULT_SERVICE_ACCOUNT.into());
            }
        }
    }
}

fn param_spec(p: &mut ParamSpec) {
    p.type_ = Some(p.effective_type());
    if let Some(props) = &mut p.properties {
        for prop in props.values_mut() {
            prop.type_ = Some(prop.effective_type());
        }
    }
}

fn task_result(r: &mut TaskResult) {
    r.type_ = Some(r.effective_type());
    if let Some(props) = &mut r.properties {
        for prop in props.values_mut() {
            prop.type_ = Some(prop.effective_type());
        }
    }
}

fn task_ref(r: &mut TaskRef) {
    if r.kind.as_deref().unwrap_or("").is_empty() && r.resolver.as_deref().unwrap_or("").is_empty()
    {
        r.kind = Some("Task".into());
    }
}

fn task_spec(s: &mut TaskSpec) {
    s.params.iter_mut().for_each(param_spec);
    s.results.iter_mut().for_each(task_result);
}

fn embedded_task(e: &mut EmbeddedTask) {
    if e.is_custom() {
        return;
    }
    e.params.iter_mut().for_each(param_spec);
    e.results.iter_mut().for_each(task_result);
}

fn pipeline_spec(s: &mut PipelineSpec) {
    s.params.iter_mut().for_each(param_spec);
    for t in s.tasks.iter_mut().chain(s.finally.iter_mut()) {
        pipeline_task(t);
    }
}

fn pipeline_task(t: &mut PipelineTask) {
    if let Some(r) = &mut t.task_ref {
        task_ref(r);
    }
    if let Some(e) = &mut t.task_spec {
        embedded_task(e);
    }
    if let Some(p) = &mut t.pipeline_spec {
        pipeline_spec(p);
    }
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/// Rewrites what tekscript writes differently on purpose (see the module documentation).
pub fn normalize(r: &mut Resource) {
    match r {
        Resource::Task(t) => {
            meta(&mut t.metadata);
            norm_task_spec(&mut t.spec);
        }
        Resource::Pipeline(p) => {
            meta(&mut p.metadata);
            norm_pipeline_spec(&mut p.spec);
        }
        Resource::StepAction(sa) => {
            meta(&mut sa.metadata);
            sa.api_version = model::API_VERSION_V1BETA1.into();
        }
        Resource::TaskRun(tr) => {
            meta(&mut tr.metadata);
            tr.status = None;
            let s = &mut tr.spec;
            duration(&mut s.timeout);
            if let Some(ts) = &mut s.task_spec {
                norm_task_spec(ts);
            }
            if let Some(r) = &mut s.task_ref {
                sort_params(&mut r.params);
            }
        }
        Resource::PipelineRun(pr) => {
            meta(&mut pr.metadata);
            pr.status = None;
            let s = &mut pr.spec;
            if let Some(t) = &mut s.timeouts {
                duration(&mut t.pipeline);
                duration(&mut t.tasks);
                duration(&mut t.finally);
            }
            for ts in &mut s.task_run_specs {
                duration(&mut ts.timeout);
            }
            if let Some(ps) = &mut s.pipeline_spec {
                norm_pipeline_spec(ps);
            }
            if let Some(r) = &mut s.pipeline_ref {
                sort_params(&mut r.params);
            }
        }
    }
}

/// Metadata the API server writes (`kubectl get -o yaml` output has it); a script cannot set it.
pub const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

fn meta(m: &mut ObjectMeta) {
    m.uid = None;
    m.resource_version = None;
    m.generation = None;
    m.creation_timestamp = None;
    m.deletion_timestamp = None;
    m.deletion_grace_period_seconds = None;
    m.managed_fields = None;
    m.self_link = None;
    if m.labels.as_ref().is_some_and(|l| l.is_empty()) {
        m.labels = None;
    }
    if m.annotations.as_ref().is_some_and(|a| a.is_empty()) {
        m.annotations = None;
    }
}

fn duration(d: &mut Option<String>) {
    if let Some(s) = d
        && let Ok(c) = model::canonical_duration(s)
    {
        *s = c;
    }
}

fn sort_params(ps: &mut [model::Param]) {
    ps.sort_by(|a, b| a.name.cmp(&b.name));
}

fn norm_step(s: &mut Step) {
    duration(&mut s.timeout);
    if let Some(r) = &mut s.ref_ {
        sort_params(&mut r.params);
    }
}

fn norm_task_spec(s: &mut TaskSpec) {
    s.steps.iter_mut().for_each(norm_step);
}

fn norm_pipeline_spec(s: &mut PipelineSpec) {
    for t in s.tasks.iter_mut().chain(s.finally.iter_mut()) {
        duration(&mut t.timeout);
        if let Some(r) = &mut t.task_ref {
            sort_params(&mut r.params);
        }
        if let Some(e) = &mut t.task_spec {
            if e.metadata
                .as_ref()
                .is_some_and(|m| m.labels.is_empty() && m.annotations.is_empty())
            {
                e.metadata = None;
            }
            e.steps.iter_mut().for_each(norm_step);
        }
        if let Some(p) = &mut t.pipeline_spec {
            norm_pipeline_spec(p);
        }
    }
}

/// The objects as the cluster would store them, normalised, as JSON, sorted by kind and name.
pub fn comparable(docs: &[Resource]) -> Vec<Value> {
    let mut out: Vec<(String, String, Value)> = docs
        .iter()
        .map(|r| {
            let mut r = r.clone();
            apply(&mut r);
            normalize(&mut r);
            (r.kind().to_string(), r.display_name(), r.to_json())
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out.into_iter().map(|(_, _, v)| v).collect()
}

/// Compares two object lists with [`comparable`]; `None` when they are the same, else a
/// description of the first difference (`Task/x: spec.steps[0].script differs`).
pub fn difference(expected: &[Resource], actual: &[Resource]) -> Option<String> {
    let a = comparable(expected);
    let b = comparable(actual);
    let id = |v: &Value| {
        let m = &v["metadata"];
        let name = m["name"]
            .as_str()
            .map(str::to_string)
            .or_else(|| m["generateName"].as_str().map(|g| format!("{g}*")))
            .unwrap_or_default();
        format!("{}/{}", v["kind"].as_str().unwrap_or("?"), name)
    };
    let ids_a: Vec<String> = a.iter().map(id).collect();
    let ids_b: Vec<String> = b.iter().map(id).collect();
    if ids_a != ids_b {
        let missing: Vec<&String> = ids_a.iter().filter(|i| !ids_b.contains(i)).collect();
        let extra: Vec<&String> = ids_b.iter().filter(|i| !ids_a.contains(i)).collect();
        return Some(format!(
            "the objects differ: expected [{}], got [{}] (missing: [{}], extra: [{}])",
            ids_a.join(", "),
            ids_b.join(", "),
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            extra
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        if let Some(d) = first_difference(x, y, "") {
            return Some(format!("{}: {d}", ids_a[i]));
        }
    }
    None
}

/// The first place where two JSON values differ, as `path: expected X, got Y`.
pub fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    let show = |v: Option<&Value>| match v {
        None => "nothing".to_string(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 80 {
                format!("{}…", s.chars().take(80).collect::<String>())
            } else {
                s
            }
        }
    };
    let at = |p: &str| {
        if p.is_empty() {
            "(root)".to_string()
        } else {
            p.to_string()
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let p = crate::emit::yaml::path_key(path, k);
                match y.get(k) {
                    Some(w) => {
                        if let Some(d) = first_difference(v, w, &p) {
                            return Some(d);
                        }
                    }
                    None => {
                        return Some(format!(
                            "{}: expected {}, got nothing",
                            at(&p),
                            show(Some(v))
                        ));
                    }
                }
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    let p = crate::emit::yaml::path_key(path, k);
                    return Some(format!(
                        "{}: expected nothing, got {}",
                        at(&p),
                        show(Some(w))
                    ));
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                if let Some(d) = first_difference(v, w, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            if x.len() != y.len() {
                let i = x.len().min(y.len());
                return Some(format!(
                    "{}[{i}]: expected {}, got {}",
                    at(path),
                    show(x.get(i)),
                    show(y.get(i))
                ));
            }
            None
        }
        _ if a == b => None,
        _ => Some(format!(
            "{}: expected {}, got {}",
            at(path),
            show(Some(a)),
            show(Some(b))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(v: Value) -> Resource {
        Resource::from_json(v).unwrap()
    }

    #[test]
    fn defaults_fill_types_kinds_and_run_fields() {
        let mut p = res(json!({
            "apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": "p"},
            "spec": {"params": [{"name": "a"}, {"name": "b", "default": ["x"]},
                                {"name": "c", "properties": {"k": {}}}],
                     "tasks": [{"name": "t", "taskRef": {"name": "x"}},
                               {"name": "u", "taskRef": {"resolver": "git"}}]}
        }));
        apply(&mut p);
        let v = p.to_json();
        assert_eq!(v["spec"]["params"][0]["type"], "string");
        assert_eq!(v["spec"]["params"][1]["type"], "array");
        assert_eq!(v["spec"]["params"][2]["type"], "object");
        assert_eq!(v["spec"]["params"][2]["properties"]["k"]["type"], "string");
        assert_eq!(v["spec"]["tasks"][0]["taskRef"]["kind"], "Task");
        assert!(v["spec"]["tasks"][1]["taskRef"].get("kind").is_none());

        let mut pr = res(json!({
            "apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"generateName": "r-"},
            "spec": {"pipelineRef": {"name": "p"}, "timeouts": {"tasks": "10m"}}
        }));
        apply(&mut pr);
        normalize(&mut pr);
        let v = pr.to_json();
        assert_eq!(
            v["spec"]["timeouts"],
            json!({"pipeline": "1h0m0s", "tasks": "10m0s"})
        );
        assert_eq!(
            v["spec"]["taskRunTemplate"]["serviceAccountName"],
            "default"
        );

        let mut tr = res(json!({
            "apiVersion": "tekton.dev/v1", "kind": "TaskRun", "metadata": {"name": "r"},
            "spec": {"taskRef": {"name": "t"}}
        }));
        apply(&mut tr);
        let v = tr.to_json();
        assert_eq!(v["spec"]["timeout"], "1h0m0s");
        assert_eq!(v["spec"]["serviceAccountName"], "default");
        assert_eq!(v["spec"]["taskRef"]["kind"], "Task");
        assert_eq!(v["metadata"]["labels"][MANAGED_BY], MANAGED_BY_VALUE);
    }

    #[test]
    fn differences_are_described_by_path() {
        let a = json!({"spec": {"steps": [{"name": "a", "script": "x"}]}});
        let b = json!({"spec": {"steps": [{"name": "a", "script": "y"}]}});
        assert_eq!(
            first_difference(&a, &b, "").unwrap(),
            "spec.steps[0].script: expected \"x\", got \"y\""
        );
        assert_eq!(first_difference(&a, &a, ""), None);
    }
}
