//! What a script (or a YAML file) produces: typed Tekton objects, each with the places in the source that
//! produced its parts. Validation and emission work on a [`Bundle`]; they never see Rhai.

use crate::model::{Pipeline, PipelineRun, StepAction, Task, TaskRun};
use crate::source::Span;
use serde::Serialize;
use std::collections::BTreeMap;

/// A Tekton object of one of the kinds tekscript understands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Resource {
    Task(Task),
    Pipeline(Pipeline),
    TaskRun(TaskRun),
    PipelineRun(PipelineRun),
    StepAction(StepAction),
}

impl Resource {
    pub fn kind(&self) -> &'static str {
        match self {
            Resource::Task(_) => "Task",
            Resource::Pipeline(_) => "Pipeline",
            Resource::TaskRun(_) => "TaskRun",
            Resource::PipelineRun(_) => "PipelineRun",
            Resource::StepAction(_) => "StepAction",
        }
    }

    pub fn metadata(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        match self {
            Resource::Task(o) => &o.metadata,
            Resource::Pipeline(o) => &o.metadata,
            Resource::TaskRun(o) => &o.metadata,
            Resource::PipelineRun(o) => &o.metadata,
            Resource::StepAction(o) => &o.metadata,
        }
    }

    /// `metadata.name`, or `generateName` followed by `*` for objects the server names.
    pub fn display_name(&self) -> String {
        let m = self.metadata();
        match (&m.name, &m.generate_name) {
            (Some(n), _) if !n.is_empty() => n.clone(),
            (_, Some(g)) => format!("{g}*"),
            _ => String::new(),
        }
    }

    /// `Kind/name`, as used in messages.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind(), self.display_name())
    }

    /// Objects that must exist before others can use them come first (StepAction, Task, Pipeline, runs).
    pub fn apply_rank(&self) -> u8 {
        match self {
            Resource::StepAction(_) => 0,
            Resource::Task(_) => 1,
            Resource::Pipeline(_) => 2,
            Resource::TaskRun(_) => 3,
            Resource::PipelineRun(_) => 4,
        }
    }

    /// The object as JSON, with `metadata` keys in the order people read them (`name`, `generateName`,
    /// `namespace`, `labels`, `annotations`, then the rest; k8s-openapi sorts them alphabetically).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("model types always serialize");
        if let Some(serde_json::Value::Object(meta)) = v.get_mut("metadata") {
            let mut ordered = serde_json::Map::new();
            for key in ["name", "generateName", "namespace", "labels", "annotations"] {
                if let Some(x) = meta.remove(key) {
                    ordered.insert(key.to_string(), x);
                }
            }
            ordered.append(meta);
            *meta = ordered;
        }
        v
    }

    /// Reads a Tekton document, choosing the type from its `kind` (any `apiVersion` is accepted).
    /// Errors name the offending field: `spec.steps[0].imagee: unknown field `imagee`, expected
    /// one of ...`, `kind: unsupported kind "ConfigMap" (expected Task, Pipeline, TaskRun,
    /// PipelineRun or StepAction)`.
    pub fn from_json(value: serde_json::Value) -> Result<Resource, String> {
        use crate::model::from_value;
        let kind = match value.get("kind") {
            Some(serde_json::Value::String(k)) => k.as_str(),
            Some(other) => return Err(format!("kind: expected a string, found {other}")),
            None => return Err("kind: missing field `kind`".to_string()),
        };
        let r = match kind {
            "Task" => from_value(&value).map(Resource::Task),
            "Pipeline" => from_value(&value).map(Resource::Pipeline),
            "TaskRun" => from_value(&value).map(Resource::TaskRun),
            "PipelineRun" => from_value(&value).map(Resource::PipelineRun),
            "StepAction" => from_value(&value).map(Resource::StepAction),
            other => {
                return Err(format!(
                    "kind: unsupported kind {other:?} (expected Task, Pipeline, TaskRun, PipelineRun or StepAction)"
                ));
            }
        };
        r.map_err(|e| e.to_string())
    }
}

/// Source positions of the parts of one object, keyed by field path (`spec.steps[0].script`).
/// The empty path is the object itself (where it was created).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins(
    BTreeMap<String, Span>,
    /// When the object was made inside a module: the calls that led there from the user's script,
    /// innermost first (a label for each call site).
    pub Vec<(Span, String)>,
);

impl Origins {
    pub fn new() -> Origins {
        Origins::default()
    }

    /// The call trace from the user's script to where the object was made (empty when it was made in
    /// the user's script itself), innermost call first.
    pub fn trace(&self) -> &[(Span, String)] {
        &self.1
    }

    pub fn set_trace(&mut self, trace: Vec<(Span, String)>) {
        self.1 = trace;
    }

    pub fn insert(&mut self, path: impl Into<String>, span: Span) {
        self.0.insert(path.into(), span);
    }

    /// Keeps an existing entry (the first place that set a field wins).
    pub fn insert_if_absent(&mut self, path: impl Into<String>, span: Span) {
        self.0.entry(path.into()).or_insert(span);
    }

    /// The span recorded for `path`, or for its closest recorded ancestor.
    pub fn lookup(&self, path: &str) -> Option<Span> {
        let mut p = path;
        loop {
            if let Some(s) = self.0.get(p) {
                return Some(*s);
            }
            if p.is_empty() {
                return None;
            }
            p = parent_path(p);
        }
    }

    /// The span recorded for exactly this path.
    pub fn exact(&self, path: &str) -> Option<Span> {
        self.0.get(path).copied()
    }

    /// Copies `other` under `prefix` (for a task embedded into a pipeline).
    pub fn graft(&mut self, prefix: &str, other: &Origins) {
        for (k, v) in &other.0 {
            let key = join_path(prefix, k);
            self.0.entry(key).or_insert(*v);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, Span)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// `a.b[0]` + `c` → `a.b[0].c`; `a` + `[1]` → `a[1]`; either side may be empty.
pub fn join_path(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_string()
    } else if rest.is_empty() {
        prefix.to_string()
    } else if rest.starts_with('[') {
        format!("{prefix}{rest}")
    } else {
        format!("{prefix}.{rest}")
    }
}

/// The path one level up: `spec.steps[0].script` → `spec.steps[0]` → `spec.steps` → `spec` → ``.
pub fn parent_path(p: &str) -> &str {
    if p.ends_with(']')
        && let Some(i) = p.rfind('[')
    {
        return &p[..i];
    }
    match p.rfind('.') {
        Some(i) => &p[..i],
        None => "",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub resource: Resource,
    pub origins: Origins,
}

impl Object {
    /// The best span for a field path in this object.
    pub fn span(&self, path: &str) -> Option<Span> {
        self.origins.lookup(path)
    }
}

/// All objects one compilation produced, in the order the script emitted them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bundle {
    pub objects: Vec<Object>,
}

impl Bundle {
    pub fn tasks(&self) -> impl Iterator<Item = (&Object, &Task)> {
        self.objects.iter().filter_map(|o| match &o.resource {
            Resource::Task(t) => Some((o, t)),
            _ => None,
        })
    }

    pub fn pipelines(&self) -> impl Iterator<Item = (&Object, &Pipeline)> {
        self.objects.iter().filter_map(|o| match &o.resource {
            Resource::Pipeline(p) => Some((o, p)),
            _ => None,
        })
    }

    pub fn find(&self, kind: &str, name: &str) -> Option<&Object> {
        self.objects.iter().find(|o| {
            o.resource.kind() == kind && o.resource.metadata().name.as_deref() == Some(name)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn paths() {
        assert_eq!(parent_path("spec.steps[0].script"), "spec.steps[0]");
        assert_eq!(parent_path("spec.steps[0]"), "spec.steps");
        assert_eq!(parent_path("spec"), "");
        assert_eq!(
            join_path("spec.tasks[1].taskSpec", "steps[0]"),
            "spec.tasks[1].taskSpec.steps[0]"
        );
        assert_eq!(join_path("a", "[1]"), "a[1]");
    }

    #[test]
    fn lookup_falls_back_to_ancestors() {
        let s = |n| Span::new(FileId(0), n, n + 1);
        let mut o = Origins::new();
        o.insert("", s(0));
        o.insert("spec.steps[0]", s(5));
        assert_eq!(o.lookup("spec.steps[0].script"), Some(s(5)));
        assert_eq!(o.lookup("spec.params[0]"), Some(s(0)));
        // a task's spec-relative origins, embedded into a pipeline
        let mut spec = Origins::new();
        spec.insert("steps[0]", s(5));
        let mut p = Origins::new();
        p.graft("spec.tasks[0].taskSpec", &spec);
        assert_eq!(
            p.lookup("spec.tasks[0].taskSpec.steps[0].image"),
            Some(s(5))
        );
    }
}
