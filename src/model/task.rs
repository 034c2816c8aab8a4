//! `Task` (tekton.dev/v1) and the parts of a `TaskSpec`: steps, the step template, sidecars, results,
//! workspaces. [`EmbeddedTask`] (a pipeline task's inline `taskSpec`) shares every `TaskSpec` field.

use super::params::{Param, ParamSpec, ParamType, PropertySpec};
use super::{API_VERSION_V1, ParamValue};
use k8s_openapi::api::core::v1::{
    ContainerPort, EnvFromSource, EnvVar, Lifecycle, Probe, ResourceRequirements, SecurityContext,
    Volume, VolumeDevice, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A `kind: Task` object.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Task {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: TaskSpec,
}

impl Task {
    /// A `tekton.dev/v1` Task named `name`.
    pub fn new(name: &str, spec: TaskSpec) -> Task {
        Task {
            api_version: API_VERSION_V1.to_string(),
            kind: "Task".to_string(),
            metadata: super::named(name),
            spec,
        }
    }
}

/// Defines [`TaskSpec`] and [`EmbeddedTask`] with the same task fields, written out once (serde's
/// `flatten` cannot be combined with `deny_unknown_fields`).
macro_rules! task_spec_family {
    ($( $(#[$fm:meta])* pub $f:ident : $t:ty, )*) => {
        /// What a Task does (`spec` of a Task; `taskSpec` of a TaskRun).
        ///
        /// Fields appear in YAML in this order: `displayName, description, params, steps,
        /// stepTemplate, sidecars, volumes, workspaces, results`.
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct TaskSpec {
            $( $(#[$fm])* pub $f: $t, )*
        }

        /// A pipeline task's inline `taskSpec`: every [`TaskSpec`] field plus `metadata`
        /// (labels/annotations for the TaskRun) and, for custom tasks, `apiVersion`, `kind` and a
        /// raw `spec`.
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct EmbeddedTask {
            /// Custom tasks only.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub api_version: Option<String>,
            /// Custom tasks only.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub kind: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub metadata: Option<PipelineTaskMetadata>,
            /// Custom tasks only: the custom task's spec, passed through untouched.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub spec: Option<serde_json::Value>,
            $( $(#[$fm])* pub $f: $t, )*
        }

        impl EmbeddedTask {
            /// An embedded task with these task fields and no metadata.
            pub fn from_task_spec(spec: TaskSpec) -> EmbeddedTask {
                EmbeddedTask {
                    $( $f: spec.$f, )*
                    ..EmbeddedTask::default()
                }
            }

            /// The task fields (drops `metadata`, `apiVersion`, `kind`, `spec`).
            pub fn to_task_spec(&self) -> TaskSpec {
                TaskSpec {
                    $( $f: self.$f.clone(), )*
                }
            }

            /// Like [`EmbeddedTask::to_task_spec`], without cloning.
            pub fn into_task_spec(self) -> TaskSpec {
                TaskSpec {
                    $( $f: self.$f, )*
                }
            }
        }
    };
}

task_spec_family! {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ParamSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_template: Option<Box<StepTemplate>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sidecars: Vec<Sidecar>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspaceDeclaration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<TaskResult>,
}

impl EmbeddedTask {
    /// True when this is a custom task (`apiVersion` + `kind` set) rather than a Tekton task.
    pub fn is_custom(&self) -> bool {
        self.api_version.is_some() || self.kind.is_some() || self.spec.is_some()
    }
}

impl From<TaskSpec> for EmbeddedTask {
    fn from(spec: TaskSpec) -> EmbeddedTask {
        EmbeddedTask::from_task_spec(spec)
    }
}

/// One step of a Task: a container, or (with `ref`) a StepAction.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Step {
    /// DNS-1123 label, unique in the task. Tekton allows it empty; empty is not serialized.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_resources: Option<ResourceRequirements>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_devices: Vec<VolumeDevice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,
    /// Go duration string, kept as written (see [`crate::model::duration`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// `continue`, `stopAndFail`, or a `$(params…)` reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_error: Option<String>,
    /// Alpha.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdout_config: Option<StepOutputConfig>,
    /// Alpha.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr_config: Option<StepOutputConfig>,
    /// Isolated workspaces (beta).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspaceUsage>,
    /// A StepAction reference (serialized as `ref`).
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub ref_: Option<Ref>,
    /// Inputs of the referenced StepAction (only with `ref`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<StepResult>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<WhenExpression>,
}

/// Container defaults merged into every step that has no `ref`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepTemplate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_resources: Option<ResourceRequirements>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_devices: Vec<VolumeDevice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,
}

/// A container that runs beside the steps.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sidecar {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromSource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_resources: Option<ResourceRequirements>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_devices: Vec<VolumeDevice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_message_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_message_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdin: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdin_once: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tty: Option<bool>,
    /// Isolated workspaces (beta).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspaceUsage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<String>,
}

/// A Task result (`spec.results[]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskResult {
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ParamType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, PropertySpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Only `$(steps.<step>.results.<name>)`: lifts a step result to a task result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<ParamValue>,
}

impl TaskResult {
    pub fn new(name: impl Into<String>) -> TaskResult {
        TaskResult {
            name: name.into(),
            ..TaskResult::default()
        }
    }

    /// Tekton's defaulting: the explicit type, else `object` when `properties` is present, else
    /// `string`.
    pub fn effective_type(&self) -> ParamType {
        result_type(self.type_, &self.properties)
    }
}

/// A step's own result (`steps[].results[]`, and StepAction results).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepResult {
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ParamType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, PropertySpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl StepResult {
    pub fn new(name: impl Into<String>) -> StepResult {
        StepResult {
            name: name.into(),
            ..StepResult::default()
        }
    }

    /// Same rule as [`TaskResult::effective_type`] (Tekton does not default step results inside a
    /// TaskSpec, but treats an absent type as `string` when it reads them).
    pub fn effective_type(&self) -> ParamType {
        result_type(self.type_, &self.properties)
    }
}

fn result_type(t: Option<ParamType>, props: &Option<BTreeMap<String, PropertySpec>>) -> ParamType {
    match (t, props) {
        (Some(t), _) => t,
        (None, Some(_)) => ParamType::Object,
        (None, None) => ParamType::String,
    }
}

/// A workspace a Task declares (`spec.workspaces[]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspaceDeclaration {
    #[serde(default)]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Defaults to `/workspace/<name>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

impl WorkspaceDeclaration {
    pub fn new(name: impl Into<String>) -> WorkspaceDeclaration {
        WorkspaceDeclaration {
            name: name.into(),
            ..WorkspaceDeclaration::default()
        }
    }

    /// Where the workspace is mounted: `mountPath`, else `/workspace/<name>`.
    pub fn effective_mount_path(&self) -> String {
        match &self.mount_path {
            Some(p) if !p.is_empty() => p.clone(),
            _ => format!("/workspace/{}", self.name),
        }
    }
}

/// A step's or sidecar's use of a task workspace (isolated workspaces, beta).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspaceUsage {
    #[serde(default)]
    pub name: String,
    /// Where to mount it in this container; absent means the workspace's own mount path. The CRD
    /// schema of a standalone Task requires the key (Tekton's Go type always writes it, `""` when
    /// empty), embedded task specs are not schema-checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
}

/// A reference to a StepAction (`steps[].ref`): a `name`, or a `resolver` with `params`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ref {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolver: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
}

/// Where a step's stdout/stderr is also written (alpha).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepOutputConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A guard on a pipeline task or step: `input` + `operator` (`in`/`notin`) + `values`, or `cel`
/// (alpha flag).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WhenExpression {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cel: Option<String>,
}

/// Labels and annotations for the runs made from a pipeline task (`taskSpec.metadata`,
/// `taskRunSpecs[].metadata`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelineTaskMetadata {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}
