//! `Pipeline` (tekton.dev/v1): pipeline tasks, references, matrix, workspaces, results.

use super::API_VERSION_V1;
use super::params::{Param, ParamSpec, ParamType, ParamValue};
use super::task::{EmbeddedTask, WhenExpression};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// A `kind: Pipeline` object.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pipeline {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PipelineSpec,
}

impl Pipeline {
    /// A `tekton.dev/v1` Pipeline named `name`.
    pub fn new(name: &str, spec: PipelineSpec) -> Pipeline {
        Pipeline {
            api_version: API_VERSION_V1.to_string(),
            kind: "Pipeline".to_string(),
            metadata: super::named(name),
            spec,
        }
    }
}

/// A Pipeline's `spec` (also a PipelineRun's or pipeline task's `pipelineSpec`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelineSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ParamSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<PipelineWorkspaceDeclaration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<PipelineTask>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finally: Vec<PipelineTask>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<PipelineResult>,
}

impl PipelineSpec {
    /// `tasks` then `finally`.
    pub fn all_tasks(&self) -> impl Iterator<Item = &PipelineTask> {
        self.tasks.iter().chain(self.finally.iter())
    }
}

/// One entry of `tasks[]` or `finally[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelineTask {
    #[serde(default)]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_ref: Option<TaskRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_spec: Option<EmbeddedTask>,
    /// Pipelines in pipelines (alpha).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_ref: Option<PipelineRef>,
    /// Pipelines in pipelines (alpha).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_spec: Option<Box<PipelineSpec>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix: Option<Matrix>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<WhenExpression>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub run_after: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
    /// Go duration string, kept as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspacePipelineTaskBinding>,
    /// `continue` or `stopAndFail` (beta).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_error: Option<String>,
}

impl PipelineTask {
    pub fn new(name: impl Into<String>) -> PipelineTask {
        PipelineTask {
            name: name.into(),
            ..PipelineTask::default()
        }
    }
}

/// A reference to a Task (by name, or through a resolver), or to a custom task (`apiVersion` +
/// `kind`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Defaulted to `Task` when empty and there is no resolver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolver: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
}

impl TaskRef {
    /// A reference to the Task `name` in the same namespace.
    pub fn named(name: impl Into<String>) -> TaskRef {
        TaskRef {
            name: Some(name.into()),
            ..TaskRef::default()
        }
    }

    /// A reference through `resolver` (`git`, `bundles`, `hub`, `http`, `cluster`, …).
    pub fn resolver(resolver: impl Into<String>, params: Vec<Param>) -> TaskRef {
        TaskRef {
            resolver: Some(resolver.into()),
            params,
            ..TaskRef::default()
        }
    }

    /// True for a custom task reference (`apiVersion` set, or a kind other than `Task`).
    pub fn is_custom(&self) -> bool {
        self.api_version.is_some() || matches!(self.kind.as_deref(), Some(k) if k != "Task")
    }

    /// The name of the Task this refers to in the run's own namespace — a plain `taskRef: {name}` (kind
    /// `Task`, no resolver, no `apiVersion`) — else `None` (resolver and custom task references). The one
    /// definition of "local" for validation, run planning, execution and import.
    pub fn local_name(&self) -> Option<&str> {
        if self.resolver.is_some() || self.is_custom() {
            return None;
        }
        self.name.as_deref()
    }
}

/// A reference to a Pipeline (by name, or through a resolver).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelineRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolver: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
}

impl PipelineRef {
    pub fn named(name: impl Into<String>) -> PipelineRef {
        PipelineRef {
            name: Some(name.into()),
            ..PipelineRef::default()
        }
    }

    pub fn resolver(resolver: impl Into<String>, params: Vec<Param>) -> PipelineRef {
        PipelineRef {
            resolver: Some(resolver.into()),
            params,
            ..PipelineRef::default()
        }
    }
}

/// Fan-out of a pipeline task (beta).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Matrix {
    /// Array-valued params; one TaskRun per combination.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    /// Extra combinations (string-valued params).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<IncludeParams>,
}

/// One `matrix.include[]` entry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IncludeParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
}

/// Binds a task's workspace (`name`) to a pipeline workspace (`workspace`, defaulting to the same
/// name), optionally at `subPath`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspacePipelineTaskBinding {
    #[serde(default)]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
}

impl WorkspacePipelineTaskBinding {
    /// The pipeline workspace bound: `workspace`, else `name`.
    pub fn effective_workspace(&self) -> &str {
        match &self.workspace {
            Some(w) if !w.is_empty() => w,
            _ => &self.name,
        }
    }
}

/// A workspace a Pipeline declares.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelineWorkspaceDeclaration {
    #[serde(default)]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

impl PipelineWorkspaceDeclaration {
    pub fn new(name: impl Into<String>) -> PipelineWorkspaceDeclaration {
        PipelineWorkspaceDeclaration {
            name: name.into(),
            ..PipelineWorkspaceDeclaration::default()
        }
    }
}

/// A Pipeline result: `value` made of `$(tasks|finally.<t>.results.<r>…)` references.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelineResult {
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ParamType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub value: ParamValue,
}

impl PipelineResult {
    pub fn new(name: impl Into<String>, value: impl Into<ParamValue>) -> PipelineResult {
        PipelineResult {
            name: name.into(),
            value: value.into(),
            ..PipelineResult::default()
        }
    }

    /// The explicit type, else `string` (Tekton does not default pipeline result types).
    pub fn effective_type(&self) -> ParamType {
        self.type_.unwrap_or_default()
    }
}
