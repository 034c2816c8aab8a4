//! Typed Tekton objects: Task, Pipeline, TaskRun, PipelineRun (tekton.dev/v1) and StepAction
//! (tekton.dev/v1beta1), as plain serde data.
//!
//! Conventions, for every Tekton struct here:
//!
//! * unknown fields are errors (`deny_unknown_fields`), so a typo'd key is reported by name;
//!   Kubernetes parts reuse k8s-openapi types, which silently *ignore* unknown fields;
//! * field order is the order fields are written in YAML (`apiVersion, kind, metadata, spec,
//!   status`; inside specs, name first, then as in Tekton's field tables);
//! * optional scalars and structs are `Option`s and lists are `Vec`s, both left out of the output
//!   when absent/empty; booleans are `Option<bool>` so an explicit `false` round-trips; maps are
//!   `BTreeMap`s;
//! * a few large optional parts are boxed to keep objects small (`stepTemplate`, `podTemplate`,
//!   a pipeline task's `pipelineSpec`); serde reads and writes them as if they were not;
//! * names that are Rust keywords get a trailing underscore, as in k8s-openapi (`type_`, `enum_`,
//!   `ref_`);
//! * durations stay the strings the user wrote; [`duration`] parses and canonicalizes them;
//! * a missing `name` reads as `""` (validation reports it, as Tekton's webhook would); `name` is
//!   always written except on steps and sidecars, where Tekton allows it empty and it is left out
//!   when empty; a missing param `value` or pipeline result `value` is a deserialization error;
//! * [`Step`], [`StepTemplate`] and [`Sidecar`] do not get Tekton's `computeResources: {}` and
//!   other defaulting: the model keeps what was written (see reference §5 for the normalisation a
//!   diff against the cluster needs).
//!
//! [`from_value`] deserializes any of these types from JSON with the failing field's path in the
//! error.

mod de;
pub mod duration;
mod params;
mod pipeline;
mod pipelinerun;
mod step_action;
mod task;
mod taskrun;

pub use de::{FieldError, from_value};
pub use duration::{canonical_duration, format_duration, parse_duration};
pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
pub use params::{Param, ParamSpec, ParamType, ParamValue, PropertySpec, ResultsType};
pub use pipeline::{
    IncludeParams, Matrix, Pipeline, PipelineRef, PipelineResult, PipelineSpec, PipelineTask,
    PipelineWorkspaceDeclaration, TaskRef, WorkspacePipelineTaskBinding,
};
pub use pipelinerun::{
    PipelineRun, PipelineRunSpec, PipelineTaskRunSpec, PipelineTaskRunTemplate, TimeoutFields,
};
pub use step_action::{StepAction, StepActionSpec};
pub use task::{
    EmbeddedTask, PipelineTaskMetadata, Ref, Sidecar, Step, StepOutputConfig, StepResult,
    StepTemplate, Task, TaskResult, TaskSpec, WhenExpression, WorkspaceDeclaration, WorkspaceUsage,
};
pub use taskrun::{
    PodTemplate, TaskBreakpoints, TaskRun, TaskRunDebug, TaskRunSidecarSpec, TaskRunSpec,
    TaskRunStepSpec, VolumeClaimTemplate, WorkspaceBinding,
};

/// `apiVersion` of Task, Pipeline, TaskRun and PipelineRun.
pub const API_VERSION_V1: &str = "tekton.dev/v1";
/// `apiVersion` of StepAction.
pub const API_VERSION_V1BETA1: &str = "tekton.dev/v1beta1";

/// Metadata with just a name.
fn named(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        ..ObjectMeta::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::EnvVar;
    use serde_json::json;

    #[test]
    fn constructors_fill_api_version_and_kind() {
        let t = Task::new("build", TaskSpec::default());
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            json!({"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "build"}, "spec": {}})
        );
        assert_eq!(Pipeline::new("p", PipelineSpec::default()).kind, "Pipeline");
        let tr = TaskRun::new(TaskRunSpec::default());
        assert_eq!(
            (tr.kind.as_str(), tr.metadata.name.as_deref()),
            ("TaskRun", None)
        );
        assert_eq!(
            PipelineRun::new(PipelineRunSpec::default()).kind,
            "PipelineRun"
        );
        let sa = StepAction::new("s", StepActionSpec::default());
        assert_eq!(
            (sa.api_version.as_str(), sa.kind.as_str()),
            ("tekton.dev/v1beta1", "StepAction")
        );
    }

    #[test]
    fn fields_serialize_in_declared_order() {
        let step = Step {
            name: "build".into(),
            image: Some("alpine".into()),
            script: Some("echo hi".into()),
            ..Step::default()
        };
        let spec = TaskSpec {
            description: Some("d".into()),
            params: vec![ParamSpec::new("p")],
            steps: vec![step],
            ..TaskSpec::default()
        };
        let text = serde_json::to_string(&Task::new("t", spec)).unwrap();
        assert_eq!(
            text,
            r#"{"apiVersion":"tekton.dev/v1","kind":"Task","metadata":{"name":"t"},"spec":{"description":"d","params":[{"name":"p"}],"steps":[{"name":"build","image":"alpine","script":"echo hi"}]}}"#
        );
    }

    #[test]
    fn unknown_tekton_field_is_an_error() {
        let e = serde_json::from_value::<Step>(json!({"name": "s", "imagee": "x"})).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("unknown field `imagee`, expected one of `name`"),
            "{e}"
        );
        let e = serde_json::from_value::<PipelineTask>(json!({"name": "t", "runafter": ["a"]}))
            .unwrap_err();
        assert!(e.to_string().contains("unknown field `runafter`"), "{e}");
    }

    /// k8s-openapi types ignore unknown fields instead of rejecting them: the typo below is dropped
    /// silently. The script layer has its own check for dropped keys; keep this in mind when
    /// deserializing user YAML.
    #[test]
    fn k8s_openapi_types_silently_drop_unknown_fields() {
        let step: Step = serde_json::from_value(json!({
            "name": "s", "env": [{"name": "A", "valeu": "1"}]
        }))
        .unwrap();
        assert_eq!(
            step.env,
            vec![EnvVar {
                name: "A".into(),
                ..EnvVar::default()
            }]
        );
        assert_eq!(
            serde_json::to_value(&step).unwrap(),
            json!({"name": "s", "env": [{"name": "A"}]})
        );
    }

    #[test]
    fn embedded_task_converts_both_ways() {
        let spec = TaskSpec {
            steps: vec![Step {
                name: "a".into(),
                ..Step::default()
            }],
            ..TaskSpec::default()
        };
        let mut e = EmbeddedTask::from_task_spec(spec.clone());
        assert!(!e.is_custom());
        e.metadata = Some(PipelineTaskMetadata::default());
        assert_eq!(e.to_task_spec(), spec);
        assert_eq!(e.into_task_spec(), spec);
        let custom: EmbeddedTask = serde_json::from_value(json!({
            "apiVersion": "example.dev/v0", "kind": "Example", "spec": {"field1": "x"}
        }))
        .unwrap();
        assert!(custom.is_custom());
    }

    #[test]
    fn volume_claim_template_keeps_what_was_written() {
        let v = json!({"name": "ws", "volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}}});
        let b: WorkspaceBinding = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(b.sources(), vec!["volumeClaimTemplate"]);
        assert_eq!(serde_json::to_value(&b).unwrap(), v);
    }
}
