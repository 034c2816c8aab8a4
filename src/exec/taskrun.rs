//! One TaskRun attempt, resolved the way Tekton's TaskRun reconciler prepares its pod — pure, no I/O.
//!
//! Follows, in Tekton's order:
//! - StepAction `ref:`s (`pkg/reconciler/taskrun/resources/taskspec.go`, `resolveStepRef`; parameters as
//!   `applyStepActionParameters` in `resources/apply.go`): only StepActions the caller has (remote ones
//!   are an error naming the task);
//! - parameter validation (`pkg/reconciler/taskrun/validate_taskrun.go`, `validateParams`);
//! - `ApplyParameters` (defaults, then the TaskRun's values; array `[*]` expansion in `command`/`args`,
//!   `[N]` and object keys), `ApplyContexts` (`context.taskRun.*`, `context.task.name|retry-count`),
//!   `ApplyResults` (`results.R.path`, `step.results.R.path`), `ApplyArtifacts`,
//!   `ApplyStepExitCodePath` (`steps.step-S.exitCode.path`), `ApplyWorkspaces`
//!   (`workspaces.W.path|bound|claim|volume`), `ApplyCredentialsPath` — all in `resources/apply.go`;
//! - `MergeStepsWithStepTemplate` (`pkg/apis/pipeline/v1/merge.go`);
//! - scripts (`pkg/pod/script.go`): written to a file under `/tekton/scripts`, with
//!   `#!/bin/sh\nset -e\n` in front when the script has no shebang, run as the container's command.
//!
//! Also the result rules the entrypoint and the reconciler apply after a step ran: the 4096-byte
//! termination message (`pkg/termination/write.go`, `MaxContainerTerminationMessageLength`, the default
//! result size of `pkg/apis/config/feature_flags.go`), result types (`pkg/pod/status.go`,
//! `filterResults`; `validate_taskrun.go`, `validateTaskRunResults`) and the run-time substitution of
//! `$(steps.S.results.R)` (`pkg/entrypoint/entrypointer.go`, `applyStepResultSubstitutions`).
//!
//! Where the steps see things is a [`Paths`]: Tekton's container paths, or host directories for a runner
//! that runs steps without containers.

use super::subst::{Resolved, select, substitute_list, substitute_str, substitute_value};
use crate::expr::{ContextScope, Selector, Var, WorkspaceAttr};
use crate::model::{
    Param, ParamSpec, ParamType, ParamValue, Sidecar, Step, StepActionSpec, StepResult,
    StepTemplate, TaskResult, TaskSpec, WhenExpression, WorkspaceDeclaration, WorkspaceUsage,
};
use k8s_openapi::api::core::v1::{
    EnvFromSource, EnvVar, ResourceRequirements, SecurityContext, Volume, VolumeMount,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// `defaultScriptPreamble` (`pkg/pod/script.go`).
pub const SCRIPT_PREAMBLE: &str = "#!/bin/sh\nset -e\n";
/// `MaxContainerTerminationMessageLength` (`pkg/termination/write.go`): the bytes a step's results (as
/// the entrypoint's JSON termination message) may take; Tekton's default `max-result-size`
/// (`pkg/apis/config/feature_flags.go`, `DefaultMaxResultSize`) is the same 4096.
pub const MAX_RESULT_SIZE: usize = 4096;
/// `errTooLong` (`pkg/termination/write.go`): what the entrypoint prints before it fails the step.
pub const RESULT_TOO_LARGE: &str =
    "Termination message is above max allowed size 4096, caused by large task result.";
/// `pipeline.WorkspaceDir`.
pub const WORKSPACE_DIR: &str = "/workspace";

/// Where the steps find Tekton's directories (`pkg/apis/pipeline/paths.go`).
#[derive(Debug, Clone, PartialEq)]
pub struct Paths {
    /// `/workspace`: the implicit working area; workspaces mount under it by default.
    pub workspace: String,
    /// `/tekton/results`.
    pub results: String,
    /// `/tekton/steps`.
    pub steps: String,
    /// `/tekton/scripts`.
    pub scripts: String,
    /// `/tekton/creds` (`$(credentials.path)`).
    pub credentials: String,
    /// `/tekton/artifacts`.
    pub artifacts: String,
    /// `/tekton/home`.
    pub home: String,
    /// Where each workspace is, when not at its declared mount path (a host runner's directories).
    pub workspace_paths: BTreeMap<String, String>,
}

impl Paths {
    /// Tekton's paths inside a step container.
    pub fn tekton() -> Paths {
        Paths {
            workspace: WORKSPACE_DIR.into(),
            results: "/tekton/results".into(),
            steps: "/tekton/steps".into(),
            scripts: "/tekton/scripts".into(),
            credentials: "/tekton/creds".into(),
            artifacts: "/tekton/artifacts".into(),
            home: "/tekton/home".into(),
            workspace_paths: BTreeMap::new(),
        }
    }
}

/// A task workspace the TaskRun binds.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundWorkspace {
    pub name: String,
    /// The PersistentVolumeClaim's name (`$(workspaces.W.claim)`), for claim-backed bindings.
    pub claim: Option<String>,
}

/// What one TaskRun attempt is made of.
#[derive(Debug, Clone)]
pub struct TaskRunInput<'a> {
    /// The TaskRun's name (`context.taskRun.name`).
    pub taskrun: &'a str,
    pub namespace: &'a str,
    pub uid: &'a str,
    /// `context.task.name`: the Task's name, or the TaskRun's for an embedded `taskSpec`.
    pub task_name: &'a str,
    /// `context.task.retry-count`.
    pub retry: u32,
    pub spec: &'a TaskSpec,
    /// The TaskRun's params (the pipeline task's, substituted, plus a matrix combination's).
    pub params: &'a [Param],
    pub workspaces: &'a [BoundWorkspace],
    /// StepActions by name, for `ref:` steps.
    pub step_actions: &'a BTreeMap<String, StepActionSpec>,
    pub paths: &'a Paths,
}

/// Why a TaskRun fails before any step runs: its condition reason and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRunError {
    /// `TaskRunValidationFailed`, `TaskRunResolutionFailed`, …
    pub reason: String,
    pub message: String,
}

impl TaskRunError {
    fn validation(message: impl Into<String>) -> TaskRunError {
        TaskRunError {
            reason: "TaskRunValidationFailed".into(),
            message: message.into(),
        }
    }
}

/// A script placed in a file, as `placeScriptInContainer` does.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The file name under [`Paths::scripts`] (`script-0-ab12c`).
    pub file: String,
    /// The file's contents (with the preamble when the script has no shebang).
    pub text: String,
}

/// A container after resolution: a step's or a sidecar's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Container {
    /// The container name: `step-NAME`, `step-unnamed-I`, `sidecar-NAME`.
    pub name: String,
    pub image: Option<String>,
    /// With a script, the script's file (under [`Paths::scripts`]).
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub script: Option<Script>,
    pub working_dir: Option<String>,
    pub env: Vec<EnvVar>,
    pub env_from: Vec<EnvFromSource>,
    pub resources: Option<ResourceRequirements>,
    pub security_context: Option<SecurityContext>,
    pub volume_mounts: Vec<VolumeMount>,
    /// Isolated workspace usage (`steps[].workspaces`).
    pub workspaces: Vec<WorkspaceUsage>,
    pub image_pull_policy: Option<String>,
}

/// A step, ready to run (except `$(steps.S.results.R)`, see [`apply_step_results`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedStep {
    pub container: Container,
    /// The step's own name (`unnamed-I` when it has none): what `$(steps.NAME.results.R)` uses.
    pub name: String,
    pub timeout: Option<Duration>,
    /// `onError: continue`.
    pub on_error_continue: bool,
    pub results: Vec<StepResult>,
    pub when: Vec<WhenExpression>,
}

/// A TaskRun attempt, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedTask {
    pub steps: Vec<ResolvedStep>,
    pub sidecars: Vec<Container>,
    pub results: Vec<TaskResult>,
    /// Declarations (mount paths substituted), including bound workspaces the Task does not declare.
    pub workspaces: Vec<WorkspaceDeclaration>,
    pub volumes: Vec<Volume>,
}

/// `pod.StepName`: `step-NAME`, or `step-unnamed-I`.
pub fn step_container_name(name: &str, i: usize) -> String {
    if name.is_empty() {
        format!("step-unnamed-{i}")
    } else {
        format!("step-{name}")
    }
}

/// The name `$(steps.NAME.results.R)` uses for step `i`.
pub fn step_name(name: &str, i: usize) -> String {
    if name.is_empty() {
        format!("unnamed-{i}")
    } else {
        name.to_string()
    }
}

/// Resolves one TaskRun attempt.
pub fn resolve(input: &TaskRunInput<'_>) -> Result<ResolvedTask, TaskRunError> {
    let mut spec = input.spec.clone();
    // pkg/reconciler/taskrun/resources/taskspec.go, GetStepActionsData: refs first
    for i in 0..spec.steps.len() {
        if spec.steps[i].ref_.is_some() {
            spec.steps[i] = resolve_step_ref(input, &spec, i)?;
        }
    }
    validate_params(input, &spec.params)?;

    // ApplyParameters: defaults, overwritten by the TaskRun's values
    let params = param_values(&spec.params, input.params);
    apply_spec(&mut spec, &mut |v| param_lookup(&params, v));
    // ApplyContexts
    apply_spec(&mut spec, &mut |v| context_lookup(input, v));
    // ApplyResults: step.results.R.path per step, then results.R.path
    for i in 0..spec.steps.len() {
        let dir = format!(
            "{}/{}",
            input.paths.steps,
            step_container_name(&spec.steps[i].name, i)
        );
        let names: BTreeSet<String> = spec.steps[i]
            .results
            .iter()
            .map(|r| r.name.clone())
            .collect();
        apply_step(&mut spec.steps[i], &mut |v| match v {
            Var::StepResultPath(r) if names.contains(r) => {
                Some(Resolved::known(format!("{dir}/results/{r}")))
            }
            Var::StepArtifactsPath => {
                Some(Resolved::known(format!("{dir}/artifacts/provenance.json")))
            }
            _ => None,
        });
    }
    let declared: BTreeSet<String> = spec.results.iter().map(|r| r.name.clone()).collect();
    let paths = input.paths;
    let exit_codes: BTreeMap<String, String> = spec
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let n = step_container_name(&s.name, i);
            (n.clone(), format!("{}/{n}/exitCode", paths.steps))
        })
        .collect();
    apply_spec(&mut spec, &mut |v| match v {
        Var::ResultPath(r) if declared.contains(r) => {
            Some(Resolved::known(format!("{}/{r}", paths.results)))
        }
        Var::ArtifactsPath => Some(Resolved::known(format!(
            "{}/provenance.json",
            paths.artifacts
        ))),
        Var::StepExitCodePath(s) => exit_codes.get(s).cloned().map(Resolved::known),
        _ => None,
    });
    // ApplyWorkspaces (workspaces the TaskRun binds but the Task does not declare are declared first)
    for w in input.workspaces {
        if !spec.workspaces.iter().any(|d| d.name == w.name) {
            spec.workspaces
                .push(WorkspaceDeclaration::new(w.name.clone()));
        }
    }
    apply_workspaces(&mut spec, input);
    apply_spec(&mut spec, &mut |v| match v {
        Var::CredentialsPath => Some(Resolved::known(paths.credentials.clone())),
        _ => None,
    });
    finish(spec, input)
}

fn finish(spec: TaskSpec, input: &TaskRunInput<'_>) -> Result<ResolvedTask, TaskRunError> {
    let suffix = name_suffix(input.taskrun);
    let mut steps = Vec::new();
    for (i, s) in spec.steps.iter().enumerate() {
        let merged = merge_step_template(spec.step_template.as_deref(), s);
        let mut c = container_of_step(&merged, i);
        if let Some(script) = merged.script.as_deref().filter(|s| !s.is_empty()) {
            place_script(&mut c, script, format!("script-{i}-{suffix}"), input.paths);
        }
        let timeout = match merged.timeout.as_deref() {
            None | Some("") => None,
            Some(t) => {
                let n = crate::model::duration::parse_duration(t).map_err(|e| {
                    TaskRunError::validation(format!(
                        "step {:?}: invalid timeout {t:?}: {e}",
                        c.name
                    ))
                })?;
                (n > 0).then(|| Duration::from_nanos(n as u64))
            }
        };
        let on_error_continue = match merged.on_error.as_deref() {
            None | Some("") | Some("stopAndFail") => false,
            Some("continue") => true,
            Some(other) => {
                return Err(TaskRunError::validation(format!(
                    "invalid value: \"{other}\": steps[{i}].onError\n\"{other}\" is not a valid onError value, it must be one of [\"continue\", \"stopAndFail\"]"
                )));
            }
        };
        steps.push(ResolvedStep {
            container: c,
            name: step_name(&merged.name, i),
            timeout,
            on_error_continue,
            results: merged.results.clone(),
            when: merged.when.clone(),
        });
    }
    let sidecars = spec
        .sidecars
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut c = container_of_sidecar(s, i);
            if let Some(script) = s.script.as_deref().filter(|s| !s.is_empty()) {
                place_script(
                    &mut c,
                    script,
                    format!("sidecar-script-{i}-{suffix}"),
                    input.paths,
                );
            }
            c
        })
        .collect();
    Ok(ResolvedTask {
        steps,
        sidecars,
        results: spec.results,
        workspaces: spec.workspaces,
        volumes: spec.volumes,
    })
}

/// Five characters derived from the TaskRun's name, where Tekton puts random ones
/// (`RestrictLengthWithRandomSuffix`); stable, so runs are reproducible.
fn name_suffix(taskrun: &str) -> String {
    let mut h: u32 = 0x811c9dc5;
    for b in taskrun.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x01000193);
    }
    let alphabet = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|k| alphabet[((h >> (k * 5)) as usize) % alphabet.len()] as char)
        .collect()
}

/// `placeScriptInContainer`: the preamble when there is no shebang; the file becomes the command.
fn place_script(c: &mut Container, script: &str, file: String, paths: &Paths) {
    let has_shebang = script.trim().starts_with("#!");
    let text = if has_shebang {
        script.to_string()
    } else {
        format!("{SCRIPT_PREAMBLE}{script}")
    };
    c.command = vec![format!("{}/{file}", paths.scripts)];
    c.script = Some(Script { file, text });
}

// ------------------------------------------------------------------------------------------------------
// StepActions

fn resolve_step_ref(
    input: &TaskRunInput<'_>,
    spec: &TaskSpec,
    i: usize,
) -> Result<Step, TaskRunError> {
    let step = &spec.steps[i];
    let r = step.ref_.as_ref().expect("only called for ref steps");
    let name = match (&r.name, &r.resolver) {
        (Some(n), None) if !n.is_empty() => n.clone(),
        _ => {
            return Err(TaskRunError {
                reason: "TaskRunResolutionFailed".into(),
                message: format!(
                    "step {:?} (index {i}) refers to a StepAction through the {} resolver, which cannot be fetched here",
                    step.name,
                    r.resolver.as_deref().unwrap_or("(unnamed)")
                ),
            });
        }
    };
    let Some(action) = input.step_actions.get(&name) else {
        return Err(TaskRunError {
            reason: "TaskRunResolutionFailed".into(),
            message: format!(
                "failed to resolve step ref for step {:?} (index {i}): stepactions.tekton.dev {name:?} not found",
                step.name
            ),
        });
    };
    let fail = |e: String| TaskRunError {
        reason: "TaskRunResolutionFailed".into(),
        message: format!(
            "failed to resolve step ref for step {:?} (index {i}): {e}",
            step.name
        ),
    };
    // validateStepHasStepActionParameters
    let declared: BTreeSet<&str> = action.params.iter().map(|p| p.name.as_str()).collect();
    let extra: Vec<&str> = step
        .params
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| !declared.contains(n))
        .collect();
    if !extra.is_empty() {
        return Err(fail(format!(
            "extra params passed by Step to StepAction: [{}]",
            extra.join(" ")
        )));
    }
    let missing: Vec<&str> = action
        .params
        .iter()
        .filter(|p| p.default.is_none() && !step.params.iter().any(|s| s.name == p.name))
        .map(|p| p.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(fail(format!(
            "non-existent params in Step: [{}]",
            missing.join(" ")
        )));
    }
    // 1. the TaskRun's params in the step's param values
    let task_params = param_values(&spec.params, input.params);
    let given: BTreeMap<String, ParamValue> = step
        .params
        .iter()
        .map(|p| {
            let v = substitute_value(&p.value, &mut |v| param_lookup(&task_params, v)).value;
            (p.name.clone(), v)
        })
        .collect();
    // 2-4. step-provided values, then defaults (which may refer to other params of the action)
    let mut values: BTreeMap<String, ParamValue> = BTreeMap::new();
    for p in &action.params {
        if let Some(v) = given.get(&p.name) {
            values.insert(p.name.clone(), v.clone());
        }
    }
    let mut pending: Vec<&ParamSpec> = action
        .params
        .iter()
        .filter(|p| !values.contains_key(&p.name) && p.default.is_some())
        .collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|p| {
            let d = p.default.as_ref().expect("filtered");
            let refs: Vec<String> = d
                .strings()
                .iter()
                .flat_map(|s| crate::expr::find_refs(s))
                .filter_map(|r| match r.var {
                    Ok(Var::Params { name, .. }) => Some(name),
                    _ => None,
                })
                .collect();
            if refs.iter().all(|n| values.contains_key(n) || n == &p.name) {
                let v = substitute_value(d, &mut |v| param_lookup(&values, v)).value;
                values.insert(p.name.clone(), v);
                false
            } else {
                true
            }
        });
        if pending.len() == before {
            let p = pending[0];
            let d = p.default.as_ref().expect("filtered");
            let unknown = d
                .strings()
                .iter()
                .flat_map(|s| crate::expr::find_refs(s))
                .find_map(|r| match r.var {
                    Ok(Var::Params { name, .. }) if !declared.contains(name.as_str()) => Some(name),
                    _ => None,
                });
            return Err(fail(match unknown {
                Some(u) => format!(
                    "parameter {:?} references non-existent parameter {u:?}",
                    p.name
                ),
                None => "circular dependency detected in parameter references".into(),
            }));
        }
    }
    // 5. a value that is a step result reference stands for that result
    let mut action_step = Step {
        image: action.image.clone(),
        command: action.command.clone(),
        args: action.args.clone(),
        working_dir: action.working_dir.clone(),
        script: action.script.clone(),
        env: action.env.clone(),
        volume_mounts: action.volume_mounts.clone(),
        security_context: action.security_context.clone(),
        results: action.results.clone(),
        ..Step::default()
    };
    apply_step(&mut action_step, &mut |v| {
        let Var::Params { name, sel } = v else {
            return None;
        };
        match values.get(name)? {
            ParamValue::String(s) if s.starts_with("$(steps.") && s.ends_with(')') => {
                let inner = &s[2..s.len() - 1];
                Some(Resolved::known(format!("$({inner}{sel})")))
            }
            _ => param_lookup(&values, v),
        }
    });
    let mut out = step.clone();
    out.image = action_step.image;
    out.security_context = action_step.security_context;
    if !action_step.command.is_empty() {
        out.command = action_step.command;
    }
    if !action_step.args.is_empty() {
        out.args = action_step.args;
    }
    if action_step.script.as_deref().is_some_and(|s| !s.is_empty()) {
        out.script = action_step.script;
    }
    out.working_dir = action_step.working_dir;
    if !action_step.env.is_empty() {
        out.env = action_step.env;
    }
    if !action_step.volume_mounts.is_empty() {
        out.volume_mounts = action_step.volume_mounts;
    }
    if !action_step.results.is_empty() {
        out.results = action_step.results;
    }
    out.ref_ = None;
    out.params = Vec::new();
    Ok(out)
}

// ------------------------------------------------------------------------------------------------------
// Params

/// `validateParams`: every param without default has a value, types match, objects have their keys.
fn validate_params(input: &TaskRunInput<'_>, specs: &[ParamSpec]) -> Result<(), TaskRunError> {
    let given: BTreeMap<&str, &ParamValue> = input
        .params
        .iter()
        .map(|p| (p.name.as_str(), &p.value))
        .collect();
    let wrap = |e: String| {
        TaskRunError::validation(format!(
            "invalid input params for task {}: {e}",
            input.task_name
        ))
    };
    let missing: Vec<&str> = specs
        .iter()
        .filter(|s| s.default.is_none() && !given.contains_key(s.name.as_str()))
        .map(|s| s.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(wrap(format!(
            "missing values for these params which have no default values: [{}]",
            missing.join(" ")
        )));
    }
    let wrong: Vec<&str> = specs
        .iter()
        .filter(|s| {
            given.get(s.name.as_str()).is_some_and(|v| {
                let want = s.effective_type();
                let unresolved = matches!(v, ParamValue::String(x) if want != ParamType::String && x.contains("$("));
                v.param_type() != want && !unresolved
            })
        })
        .map(|s| s.name.as_str())
        .collect();
    if !wrong.is_empty() {
        return Err(wrap(format!(
            "param types don't match the user-specified type: [{}]",
            wrong.join(" ")
        )));
    }
    let mut missing_keys = Vec::new();
    for s in specs {
        let (Some(props), Some(ParamValue::Object(o))) =
            (&s.properties, given.get(s.name.as_str()).copied())
        else {
            continue;
        };
        let default_keys: BTreeSet<&String> = match &s.default {
            Some(ParamValue::Object(d)) => d.keys().collect(),
            _ => BTreeSet::new(),
        };
        let absent: Vec<&str> = props
            .keys()
            .filter(|k| !o.contains_key(*k) && !default_keys.contains(k))
            .map(String::as_str)
            .collect();
        if !absent.is_empty() {
            missing_keys.push(format!("{}:[{}]", s.name, absent.join(" ")));
        }
    }
    if !missing_keys.is_empty() {
        return Err(wrap(format!(
            "missing keys for these params which are required in ParamSpec's properties map[{}]",
            missing_keys.join(" ")
        )));
    }
    Ok(())
}

/// Defaults, overwritten by given values (object values merge key by key, as `getTaskParameters`).
fn param_values(specs: &[ParamSpec], given: &[Param]) -> BTreeMap<String, ParamValue> {
    let mut out: BTreeMap<String, ParamValue> = BTreeMap::new();
    for s in specs {
        if let Some(d) = &s.default {
            out.insert(s.name.clone(), d.clone());
        }
    }
    // defaults may refer to other params' defaults (replacementsFromDefaultParams, second pass)
    let snapshot = out.clone();
    for v in out.values_mut() {
        if let ParamValue::String(s) = v
            && s.contains("$(params.")
        {
            *v = ParamValue::String(substitute_str(s, &mut |v| param_lookup(&snapshot, v)).value);
        }
    }
    for p in given {
        match (out.get_mut(&p.name), &p.value) {
            (Some(ParamValue::Object(d)), ParamValue::Object(o)) => {
                for (k, v) in o {
                    d.insert(k.clone(), v.clone());
                }
            }
            _ => {
                out.insert(p.name.clone(), p.value.clone());
            }
        }
    }
    out
}

/// `$(params.p)` (strings), `$(params.p[N])`, `$(params.p.key)`, and `$(params.p[*])` for the list
/// expansion; a whole array or object in running text stays as written.
pub fn param_lookup(params: &BTreeMap<String, ParamValue>, var: &Var) -> Option<Resolved> {
    let Var::Params { name, sel } = var else {
        return None;
    };
    let v = params.get(name)?;
    match (sel, v) {
        (Selector::None, ParamValue::String(_)) => Some(Resolved::known(v.clone())),
        (Selector::None, _) => None,
        (Selector::Star, ParamValue::Array(_)) => Some(Resolved::known(v.clone())),
        (Selector::Star, _) => None,
        _ => select(v, sel).map(Resolved::known),
    }
}

fn context_lookup(input: &TaskRunInput<'_>, var: &Var) -> Option<Resolved> {
    let Var::Context { scope, field } = var else {
        return None;
    };
    let v = match (scope, field.as_str()) {
        (ContextScope::TaskRun, "name") => input.taskrun.to_string(),
        (ContextScope::TaskRun, "namespace") => input.namespace.to_string(),
        (ContextScope::TaskRun, "uid") => input.uid.to_string(),
        (ContextScope::Task, "name") => input.task_name.to_string(),
        (ContextScope::Task, "retry-count") => input.retry.to_string(),
        _ => return None,
    };
    Some(Resolved::known(v))
}

// ------------------------------------------------------------------------------------------------------
// Workspaces

/// `ApplyWorkspaces` with `applyWorkspaceMountPath`: a step's or sidecar's own `mountPath` for a
/// workspace wins inside that container.
fn apply_workspaces(spec: &mut TaskSpec, input: &TaskRunInput<'_>) {
    let bound: BTreeMap<&str, &BoundWorkspace> = input
        .workspaces
        .iter()
        .map(|w| (w.name.as_str(), w))
        .collect();
    let decls = spec.workspaces.clone();
    for d in &decls {
        let is_bound = bound.contains_key(d.name.as_str());
        let unbound_optional = d.optional == Some(true) && !is_bound;
        let default_path = if unbound_optional {
            String::new()
        } else {
            input
                .paths
                .workspace_paths
                .get(&d.name)
                .cloned()
                .unwrap_or_else(|| d.effective_mount_path())
        };
        let name = d.name.clone();
        let lookup = |path: &str| {
            let path = path.to_string();
            let name = name.clone();
            move |v: &Var| match v {
                Var::Workspace {
                    name: n,
                    attr: WorkspaceAttr::Path,
                } if *n == name => Some(Resolved::known(path.clone())),
                _ => None,
            }
        };
        if !unbound_optional && input.paths.workspace_paths.is_empty() {
            for s in spec.steps.iter_mut() {
                if let Some(u) = s.workspaces.iter().find(|u| u.name == d.name)
                    && let Some(p) = u.mount_path.clone().filter(|p| !p.is_empty())
                {
                    apply_step(s, &mut lookup(&p));
                }
            }
            for s in spec.sidecars.iter_mut() {
                if let Some(u) = s.workspaces.iter().find(|u| u.name == d.name)
                    && let Some(p) = u.mount_path.clone().filter(|p| !p.is_empty())
                {
                    apply_sidecar(s, &mut lookup(&p));
                }
            }
        }
        apply_spec(spec, &mut lookup(&default_path));
    }
    let names: BTreeSet<String> = decls.iter().map(|d| d.name.clone()).collect();
    apply_spec(spec, &mut |v| {
        let Var::Workspace { name, attr } = v else {
            return None;
        };
        let b = bound.get(name.as_str());
        let value = match attr {
            WorkspaceAttr::Bound if names.contains(name) => b.is_some().to_string(),
            WorkspaceAttr::Claim => b?.claim.clone().unwrap_or_default(),
            WorkspaceAttr::Volume => {
                b?;
                format!("ws-{name}")
            }
            _ => return None,
        };
        Some(Resolved::known(value))
    });
}

// ------------------------------------------------------------------------------------------------------
// Substitution over a TaskSpec (`ApplyReplacements`, `container.ApplyStepReplacements`, …)

type Lookup<'a> = dyn FnMut(&Var) -> Option<Resolved> + 'a;

fn s(x: &mut String, r: &mut Lookup<'_>) {
    if x.contains("$(") {
        *x = substitute_str(x, r).value;
    }
}

fn so(x: &mut Option<String>, r: &mut Lookup<'_>) {
    if let Some(v) = x {
        s(v, r);
    }
}

fn list(x: &mut Vec<String>, r: &mut Lookup<'_>) {
    if x.iter().any(|v| v.contains("$(")) {
        *x = substitute_list(x, r).value;
    }
}

fn env(env: &mut [EnvVar], env_from: &mut [EnvFromSource], r: &mut Lookup<'_>) {
    for e in env.iter_mut() {
        so(&mut e.value, r);
        if let Some(vf) = &mut e.value_from {
            if let Some(k) = &mut vf.secret_key_ref {
                s(&mut k.name, r);
                s(&mut k.key, r);
            }
            if let Some(k) = &mut vf.config_map_key_ref {
                s(&mut k.name, r);
                s(&mut k.key, r);
            }
        }
    }
    for e in env_from.iter_mut() {
        so(&mut e.prefix, r);
        if let Some(c) = &mut e.config_map_ref {
            s(&mut c.name, r);
        }
        if let Some(c) = &mut e.secret_ref {
            s(&mut c.name, r);
        }
    }
}

fn mounts(m: &mut [VolumeMount], r: &mut Lookup<'_>) {
    for v in m {
        s(&mut v.name, r);
        s(&mut v.mount_path, r);
        so(&mut v.sub_path, r);
    }
}

fn whens(w: &mut [WhenExpression], r: &mut Lookup<'_>) {
    for e in w {
        so(&mut e.input, r);
        list(&mut e.values, r);
        so(&mut e.cel, r);
    }
}

/// `ApplyStepReplacements`.
fn apply_step(st: &mut Step, r: &mut Lookup<'_>) {
    so(&mut st.script, r);
    so(&mut st.on_error, r);
    so(&mut st.timeout, r);
    if let Some(c) = &mut st.stdout_config {
        so(&mut c.path, r);
    }
    if let Some(c) = &mut st.stderr_config {
        so(&mut c.path, r);
    }
    whens(&mut st.when, r);
    s(&mut st.name, r);
    so(&mut st.image, r);
    so(&mut st.image_pull_policy, r);
    list(&mut st.args, r);
    list(&mut st.command, r);
    env(&mut st.env, &mut st.env_from, r);
    so(&mut st.working_dir, r);
    mounts(&mut st.volume_mounts, r);
    for p in st.params.iter_mut() {
        p.value = substitute_value(&p.value, r).value;
    }
}

fn apply_template(t: &mut StepTemplate, r: &mut Lookup<'_>) {
    so(&mut t.image, r);
    so(&mut t.image_pull_policy, r);
    list(&mut t.args, r);
    list(&mut t.command, r);
    env(&mut t.env, &mut t.env_from, r);
    so(&mut t.working_dir, r);
    mounts(&mut t.volume_mounts, r);
}

fn apply_sidecar(sc: &mut Sidecar, r: &mut Lookup<'_>) {
    so(&mut sc.script, r);
    s(&mut sc.name, r);
    so(&mut sc.image, r);
    so(&mut sc.image_pull_policy, r);
    list(&mut sc.args, r);
    list(&mut sc.command, r);
    env(&mut sc.env, &mut sc.env_from, r);
    so(&mut sc.working_dir, r);
    mounts(&mut sc.volume_mounts, r);
}

/// `ApplyReplacements` (`pkg/reconciler/taskrun/resources/apply.go`): steps, stepTemplate, volumes,
/// workspace mount paths, sidecars.
pub fn apply_spec(spec: &mut TaskSpec, r: &mut Lookup<'_>) {
    for st in spec.steps.iter_mut() {
        apply_step(st, r);
    }
    if let Some(t) = &mut spec.step_template {
        apply_template(t, r);
    }
    for v in spec.volumes.iter_mut() {
        s(&mut v.name, r);
        if let Some(c) = &mut v.config_map {
            s(&mut c.name, r);
            for it in c.items.iter_mut().flatten() {
                s(&mut it.key, r);
                s(&mut it.path, r);
            }
        }
        if let Some(c) = &mut v.secret {
            so(&mut c.secret_name, r);
            for it in c.items.iter_mut().flatten() {
                s(&mut it.key, r);
                s(&mut it.path, r);
            }
        }
        if let Some(c) = &mut v.persistent_volume_claim {
            s(&mut c.claim_name, r);
        }
    }
    for w in spec.workspaces.iter_mut() {
        so(&mut w.mount_path, r);
    }
    for sc in spec.sidecars.iter_mut() {
        apply_sidecar(sc, r);
    }
    for res in spec.results.iter_mut() {
        if let Some(v) = &res.value {
            res.value = Some(substitute_value(v, r).value);
        }
    }
}

/// What a pipeline puts into an embedded `taskSpec` before its TaskRun exists (`propagateParams` and the
/// context/workspace replacements of `pkg/reconciler/pipelinerun/resources/apply.go`): the pipeline's
/// params — a pipeline task's own param of the same name wins — `context.pipelineRun.*`,
/// `context.pipeline.name` and `workspaces.W.bound` of the pipeline's workspaces.
pub struct PipelineValues<'a> {
    pub params: &'a BTreeMap<String, ParamValue>,
    /// The pipeline task's params (after substitution).
    pub task_params: &'a [Param],
    pub run_name: &'a str,
    pub namespace: &'a str,
    pub uid: &'a str,
    pub pipeline_name: &'a str,
    /// The pipeline's declared workspaces, and which of them the run binds.
    pub workspaces: &'a [(String, bool)],
}

/// Applies [`PipelineValues`] to an embedded task spec.
pub fn propagate(spec: &mut TaskSpec, pv: &PipelineValues<'_>) {
    let mut params = pv.params.clone();
    for p in pv.task_params {
        if params.contains_key(&p.name) {
            params.insert(p.name.clone(), p.value.clone());
        }
    }
    apply_spec(spec, &mut |v| match v {
        Var::Params { .. } => param_lookup(&params, v),
        Var::Context { scope, field } => {
            let s = match (scope, field.as_str()) {
                (ContextScope::PipelineRun, "name") => pv.run_name,
                (ContextScope::PipelineRun, "namespace") => pv.namespace,
                (ContextScope::PipelineRun, "uid") => pv.uid,
                (ContextScope::Pipeline, "name") => pv.pipeline_name,
                _ => return None,
            };
            Some(Resolved::known(s.to_string()))
        }
        Var::Workspace {
            name,
            attr: WorkspaceAttr::Bound,
        } => pv
            .workspaces
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| Resolved::known(b.to_string())),
        _ => None,
    });
}

// ------------------------------------------------------------------------------------------------------
// stepTemplate (MergeStepsWithStepTemplate: a strategic merge of the containers)

fn merge_step_template(t: Option<&StepTemplate>, st: &Step) -> Step {
    let Some(t) = t else {
        return st.clone();
    };
    let mut out = st.clone();
    if out.image.is_none() {
        out.image = t.image.clone();
    }
    if out.command.is_empty() {
        out.command = t.command.clone();
    }
    if out.args.is_empty() {
        out.args = t.args.clone();
    }
    if out.working_dir.is_none() {
        out.working_dir = t.working_dir.clone();
    }
    if out.image_pull_policy.is_none() {
        out.image_pull_policy = t.image_pull_policy.clone();
    }
    // env merges by name: the template's order, the step's values win, the step's new ones appended
    let mut envs: Vec<EnvVar> = t.env.clone();
    for e in &st.env {
        match envs.iter_mut().find(|x| x.name == e.name) {
            Some(x) => *x = e.clone(),
            None => envs.push(e.clone()),
        }
    }
    out.env = envs;
    let mut from = t.env_from.clone();
    from.extend(st.env_from.iter().cloned());
    out.env_from = from;
    let mut vms: Vec<VolumeMount> = t.volume_mounts.clone();
    for m in &st.volume_mounts {
        match vms.iter_mut().find(|x| x.mount_path == m.mount_path) {
            Some(x) => *x = m.clone(),
            None => vms.push(m.clone()),
        }
    }
    out.volume_mounts = vms;
    out.compute_resources = match (&t.compute_resources, &st.compute_resources) {
        (Some(a), Some(b)) => {
            let mut m = a.clone();
            for (k, v) in b.limits.iter().flatten() {
                m.limits
                    .get_or_insert_default()
                    .insert(k.clone(), v.clone());
            }
            for (k, v) in b.requests.iter().flatten() {
                m.requests
                    .get_or_insert_default()
                    .insert(k.clone(), v.clone());
            }
            Some(m)
        }
        (a, b) => b.clone().or_else(|| a.clone()),
    };
    out.security_context = match (&t.security_context, &st.security_context) {
        (Some(a), Some(b)) => {
            let mut ja = serde_json::to_value(a).unwrap_or_default();
            let jb = serde_json::to_value(b).unwrap_or_default();
            if let (Some(ma), Some(mb)) = (ja.as_object_mut(), jb.as_object()) {
                for (k, v) in mb {
                    ma.insert(k.clone(), v.clone());
                }
            }
            serde_json::from_value(ja).ok().or_else(|| Some(b.clone()))
        }
        (a, b) => b.clone().or_else(|| a.clone()),
    };
    out
}

fn container_of_step(st: &Step, i: usize) -> Container {
    Container {
        name: step_container_name(&st.name, i),
        image: st.image.clone(),
        command: st.command.clone(),
        args: st.args.clone(),
        script: None,
        working_dir: st.working_dir.clone().filter(|w| !w.is_empty()),
        env: st.env.clone(),
        env_from: st.env_from.clone(),
        resources: st.compute_resources.clone(),
        security_context: st.security_context.clone(),
        volume_mounts: st.volume_mounts.clone(),
        workspaces: st.workspaces.clone(),
        image_pull_policy: st.image_pull_policy.clone(),
    }
}

fn container_of_sidecar(sc: &Sidecar, i: usize) -> Container {
    Container {
        name: if sc.name.is_empty() {
            format!("sidecar-unnamed-{i}")
        } else {
            format!("sidecar-{}", sc.name)
        },
        image: sc.image.clone(),
        command: sc.command.clone(),
        args: sc.args.clone(),
        script: None,
        working_dir: sc.working_dir.clone().filter(|w| !w.is_empty()),
        env: sc.env.clone(),
        env_from: sc.env_from.clone(),
        resources: sc.compute_resources.clone(),
        security_context: sc.security_context.clone(),
        volume_mounts: sc.volume_mounts.clone(),
        workspaces: sc.workspaces.clone(),
        image_pull_policy: sc.image_pull_policy.clone(),
    }
}

/// Where a step works: its `workingDir` — relative ones under `/workspace`, as the working-dir
/// initializer creates them (`pkg/pod/workingdir_init.go`) — or `None` for the image's default.
pub fn working_dir(c: &Container, paths: &Paths) -> Option<String> {
    let wd = c.working_dir.as_deref()?;
    if wd.starts_with('/') {
        Some(wd.to_string())
    } else {
        Some(format!("{}/{wd}", paths.workspace))
    }
}

// ------------------------------------------------------------------------------------------------------
// Step results at run time, result files, the size limit

/// Values of earlier steps' results: step name → result → value.
pub type StepResults = BTreeMap<String, BTreeMap<String, ParamValue>>;

/// `applyStepResultSubstitutions`: `$(steps.S.results.R)` in env values, `when` values, command and
/// args, from the results earlier steps wrote. A reference to a result that is not there is an error
/// (the entrypoint fails the step).
pub fn apply_step_results(step: &mut ResolvedStep, results: &StepResults) -> Result<(), String> {
    let mut missing: Option<String> = None;
    let mut look = |v: &Var| -> Option<Resolved> {
        let Var::StepResult { step, result, sel } = v else {
            return None;
        };
        let got = results
            .get(step)
            .and_then(|r| r.get(result))
            .and_then(|val| match (sel, val) {
                (Selector::None, ParamValue::String(_)) => Some(val.clone()),
                (Selector::Star, ParamValue::Array(_)) => Some(val.clone()),
                (Selector::Index(_) | Selector::Key(_), _) => select(val, sel),
                _ => None,
            });
        if got.is_none() && missing.is_none() {
            missing = Some(format!("$(steps.{step}.results.{result}{sel})"));
        }
        got.map(Resolved::known)
    };
    let c = &mut step.container;
    for e in c.env.iter_mut() {
        so(&mut e.value, &mut look);
    }
    list(&mut c.command, &mut look);
    list(&mut c.args, &mut look);
    whens(&mut step.when, &mut look);
    match missing {
        Some(m) => Err(format!("failed to find replacement for {m}")),
        None => Ok(()),
    }
}

/// A result file as Tekton reads it (`ResultValue.UnmarshalJSON`): a JSON array of strings or object of
/// strings when the text is one, else the text itself (a JSON string literal is unquoted).
pub fn parse_result_value(text: &str) -> ParamValue {
    let t = text.as_bytes().first();
    if t == Some(&b'[')
        && let Ok(a) = serde_json::from_str::<Vec<String>>(text)
    {
        return ParamValue::Array(a);
    }
    if t == Some(&b'{')
        && let Ok(o) = serde_json::from_str::<BTreeMap<String, String>>(text)
    {
        return ParamValue::Object(o);
    }
    if let Ok(s) = serde_json::from_str::<String>(text) {
        return ParamValue::String(s);
    }
    ParamValue::String(text.to_string())
}

/// A value as a result of a declared type: strings are taken as written, other types parsed.
fn typed_result(ty: ParamType, text: &str) -> ParamValue {
    match ty {
        ParamType::String => ParamValue::String(text.to_string()),
        _ => parse_result_value(text),
    }
}

/// Go's `encoding/json` string length (with its HTML escaping of `<`, `>`, `&`).
fn go_json_string_len(s: &str) -> usize {
    let mut n = 2;
    for c in s.chars() {
        n += match c {
            '"' | '\\' | '\n' | '\r' | '\t' => 2,
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => 6,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        };
    }
    n
}

/// The length of the termination message the entrypoint writes for these results
/// (`[{"key":…,"value":…,"type":N},…]`), plus its `StartedAt` entry.
pub fn termination_message_len(results: &[(&str, &str, u8)]) -> usize {
    // {"key":K,"value":V,"type":T}
    let entry = |k: &str, v: &str, t: u8| {
        25 + go_json_string_len(k) + go_json_string_len(v) + t.to_string().len()
    };
    let mut n = 2 + entry("StartedAt", "2006-01-02T15:04:05.000Z", 3);
    for (k, v, t) in results {
        n += 1 + entry(k, v, *t);
    }
    n
}

/// The entrypoint's check after a step: the task results present (`type` 1) and the step's own results
/// (`type` 4) must fit in [`MAX_RESULT_SIZE`] bytes of termination message.
pub fn check_result_size(
    task_results: &BTreeMap<String, String>,
    step_results: &BTreeMap<String, String>,
) -> Result<(), &'static str> {
    let mut all: Vec<(&str, &str, u8)> = task_results
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str(), 1))
        .collect();
    all.extend(
        step_results
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str(), 4)),
    );
    if termination_message_len(&all) > MAX_RESULT_SIZE {
        Err(RESULT_TOO_LARGE)
    } else {
        Ok(())
    }
}

/// Step results of one step, typed as the step declares them.
pub fn step_result_values(
    declared: &[StepResult],
    files: &BTreeMap<String, String>,
) -> BTreeMap<String, ParamValue> {
    declared
        .iter()
        .filter_map(|r| {
            let text = files.get(&r.name)?;
            Some((r.name.clone(), typed_result(r.effective_type(), text)))
        })
        .collect()
}

/// The TaskRun's results from the result files (declared results only), and task results that lift a
/// step result (`value: $(steps.S.results.R)`); then `validateTaskRunResults`.
pub fn task_results(
    declared: &[TaskResult],
    files: &BTreeMap<String, String>,
    steps: &StepResults,
) -> Result<BTreeMap<String, ParamValue>, TaskRunError> {
    let mut out = BTreeMap::new();
    for r in declared {
        if let Some(text) = files.get(&r.name) {
            out.insert(r.name.clone(), typed_result(r.effective_type(), text));
        } else if let Some(ParamValue::String(v)) = &r.value
            && let Some(var) = super::subst::isolated(v)
            && let Var::StepResult { step, result, .. } = var
            && let Some(val) = steps.get(&step).and_then(|s| s.get(&result))
        {
            out.insert(r.name.clone(), val.clone());
        }
    }
    let mut mismatched = Vec::new();
    for r in declared {
        if let Some(v) = out.get(&r.name)
            && v.param_type() != r.effective_type()
        {
            mismatched.push(format!(
                " \"{}\": task result is expected to be \"{}\" type but was initialized to a different type \"{}\"",
                r.name,
                r.effective_type(),
                v.type_name()
            ));
        }
    }
    if !mismatched.is_empty() {
        mismatched.sort();
        return Err(TaskRunError::validation(format!(
            "Provided results don't match declared results; may be invalid JSON or missing result declaration: {}",
            mismatched.join(",")
        )));
    }
    let mut missing_keys = Vec::new();
    for r in declared {
        if let (Some(props), Some(ParamValue::Object(o))) = (&r.properties, out.get(&r.name)) {
            let absent: Vec<&str> = props
                .keys()
                .filter(|k| !o.contains_key(*k))
                .map(String::as_str)
                .collect();
            if !absent.is_empty() {
                missing_keys.push(format!("{}:[{}]", r.name, absent.join(" ")));
            }
        }
    }
    if !missing_keys.is_empty() {
        return Err(TaskRunError::validation(format!(
            "missing keys for these results which are required in TaskResult's properties map[{}]",
            missing_keys.join(" ")
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ref;

    fn spec(yaml: &str) -> TaskSpec {
        serde_json::from_value(crate::emit::parse_value(yaml).unwrap()).unwrap()
    }

    fn input<'a>(
        spec: &'a TaskSpec,
        params: &'a [Param],
        ws: &'a [BoundWorkspace],
        actions: &'a BTreeMap<String, StepActionSpec>,
        paths: &'a Paths,
    ) -> TaskRunInput<'a> {
        TaskRunInput {
            taskrun: "run-1-build",
            namespace: "default",
            uid: "uid-1",
            task_name: "build",
            retry: 2,
            spec,
            params,
            workspaces: ws,
            step_actions: actions,
            paths,
        }
    }

    #[test]
    fn params_contexts_results_and_workspaces_apply_go() {
        // pkg/reconciler/taskrun/resources/apply.go: ApplyParameters, ApplyContexts, ApplyResults,
        // ApplyStepExitCodePath, ApplyWorkspaces, ApplyCredentialsPath
        let t = spec(
            r#"
params:
  - {name: flags, type: array, default: [-v]}
  - {name: mode, default: fast}
  - {name: cfg, properties: {url: {}, rev: {}}, default: {url: u, rev: r}}
workspaces:
  - {name: src}
  - {name: cache, optional: true}
  - {name: out, mountPath: /out}
results: [{name: digest}]
steps:
  - name: build
    image: alpine
    command: [go, build, "$(params.flags[*])", "$(params.flags[0])", "x-$(params.flags[*])"]
    args: ["$(params.cfg.url)@$(params.cfg.rev)", "$(params.flags)"]
    workingDir: $(workspaces.src.path)/sub
    env:
      - {name: RUN, value: "$(context.taskRun.name)/$(context.task.name)/$(context.task.retry-count)"}
      - {name: WS, value: "$(workspaces.cache.bound):$(workspaces.cache.path):$(workspaces.src.claim):$(workspaces.src.volume)"}
    script: |
      echo $(params.mode) > $(results.digest.path)
      cat $(steps.step-build.exitCode.path) $(credentials.path) $(results.nope.path)
"#,
        );
        let params = vec![
            Param::new("mode", "slow"),
            Param::new("flags", vec!["-a", "-b"]),
        ];
        let ws = vec![
            BoundWorkspace {
                name: "src".into(),
                claim: Some("pvc-1".into()),
            },
            BoundWorkspace {
                name: "out".into(),
                claim: None,
            },
        ];
        let actions = BTreeMap::new();
        let paths = Paths::tekton();
        let r = resolve(&input(&t, &params, &ws, &actions, &paths)).unwrap();
        let c = &r.steps[0].container;
        assert_eq!(
            c.command,
            [format!(
                "/tekton/scripts/script-0-{}",
                name_suffix("run-1-build")
            )]
        );
        assert_eq!(c.args, ["u@r", "$(params.flags)"]);
        assert_eq!(c.working_dir.as_deref(), Some("/workspace/src/sub"));
        assert_eq!(c.env[0].value.as_deref(), Some("run-1-build/build/2"));
        assert_eq!(c.env[1].value.as_deref(), Some("false::pvc-1:ws-src"));
        let script = c.script.as_ref().unwrap();
        assert_eq!(
            script.text,
            "#!/bin/sh\nset -e\necho slow > /tekton/results/digest\ncat /tekton/steps/step-build/exitCode /tekton/creds $(results.nope.path)\n"
        );
        // a script replaces command; the Task's command is not used with a script
        let t2 = spec(
            r#"
params: [{name: flags, type: array, default: [-v]}]
steps:
  - {name: a, image: alpine, command: [go, "$(params.flags[*])", "x$(params.flags[*])"]}
"#,
        );
        let r = resolve(&input(&t2, &params, &ws, &actions, &paths)).unwrap();
        // ApplyArrayReplacements: only an element that is exactly `$(params.a[*])` expands
        assert_eq!(
            r.steps[0].container.command,
            ["go", "-a", "-b", "x$(params.flags[*])"]
        );
    }

    #[test]
    fn script_shebangs_script_go() {
        // pkg/pod/script.go, placeScriptInContainer
        let t = spec(
            "steps:\n  - {image: a, script: \"#!/usr/bin/env python3\\nprint(1)\"}\n  - {image: a, script: \"  \\n#!/bin/bash\\necho\"}\n  - {image: a, script: \"echo hi\", args: [x]}\n",
        );
        let paths = Paths::tekton();
        let r = resolve(&input(&t, &[], &[], &BTreeMap::new(), &paths)).unwrap();
        assert_eq!(
            r.steps[0].container.script.as_ref().unwrap().text,
            "#!/usr/bin/env python3\nprint(1)"
        );
        // the shebang is found after leading white space (strings.TrimSpace), and the script kept as is
        assert_eq!(
            r.steps[1].container.script.as_ref().unwrap().text,
            "  \n#!/bin/bash\necho"
        );
        assert_eq!(
            r.steps[2].container.script.as_ref().unwrap().text,
            "#!/bin/sh\nset -e\necho hi"
        );
        assert_eq!(r.steps[2].container.args, ["x"]);
        assert_eq!(r.steps[2].name, "unnamed-2");
        assert_eq!(r.steps[2].container.name, "step-unnamed-2");
    }

    #[test]
    fn missing_and_mistyped_params_validate_taskrun_go() {
        let t = spec("params: [{name: a}, {name: b, type: array}]\nsteps: [{image: x}]\n");
        let paths = Paths::tekton();
        let e = resolve(&input(&t, &[], &[], &BTreeMap::new(), &paths)).unwrap_err();
        assert_eq!(e.reason, "TaskRunValidationFailed");
        assert_eq!(
            e.message,
            "invalid input params for task build: missing values for these params which have no default values: [a b]"
        );
        let p = vec![Param::new("a", "x"), Param::new("b", "y")];
        let e = resolve(&input(&t, &p, &[], &BTreeMap::new(), &paths)).unwrap_err();
        assert_eq!(
            e.message,
            "invalid input params for task build: param types don't match the user-specified type: [b]"
        );
    }

    #[test]
    fn step_template_merges_merge_go() {
        let t = spec(
            r#"
stepTemplate:
  image: base
  env: [{name: A, value: t}, {name: B, value: t}]
  workingDir: /w
steps:
  - {name: s, env: [{name: B, value: s}, {name: C, value: s}]}
  - {name: u, image: own, workingDir: rel}
"#,
        );
        let paths = Paths::tekton();
        let r = resolve(&input(&t, &[], &[], &BTreeMap::new(), &paths)).unwrap();
        let c = &r.steps[0].container;
        assert_eq!(c.image.as_deref(), Some("base"));
        let env: Vec<(String, String)> = c
            .env
            .iter()
            .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            env,
            [
                ("A".into(), "t".into()),
                ("B".into(), "s".into()),
                ("C".into(), "s".into())
            ]
        );
        assert_eq!(c.working_dir.as_deref(), Some("/w"));
        assert_eq!(r.steps[1].container.image.as_deref(), Some("own"));
        // pkg/pod/workingdir_init.go: a relative workingDir is under /workspace
        assert_eq!(
            working_dir(&r.steps[1].container, &paths).as_deref(),
            Some("/workspace/rel")
        );
    }

    #[test]
    fn step_actions_resolve_step_ref() {
        // taskspec.go resolveStepRef + apply.go applyStepActionParameters
        let action: StepActionSpec = serde_json::from_value(
            crate::emit::parse_value(
                r#"
image: alpine
params:
  - {name: url}
  - {name: dir, default: "/src/$(params.url)"}
  - {name: prev}
results: [{name: sha}]
script: "echo $(params.url) $(params.dir) $(params.prev) > $(step.results.sha.path)"
"#,
            )
            .unwrap(),
        )
        .unwrap();
        let actions = BTreeMap::from([("clone".to_string(), action)]);
        let mut t = spec("params: [{name: repo}]\nsteps: []\n");
        t.steps.push(Step {
            name: "fetch".into(),
            ref_: Some(Ref {
                name: Some("clone".into()),
                ..Ref::default()
            }),
            params: vec![
                Param::new("url", "$(params.repo)"),
                Param::new("prev", "$(steps.first.results.out)"),
            ],
            ..Step::default()
        });
        let p = vec![Param::new("repo", "r1")];
        let paths = Paths::tekton();
        let r = resolve(&input(&t, &p, &[], &actions, &paths)).unwrap();
        assert_eq!(
            r.steps[0].container.script.as_ref().unwrap().text,
            "#!/bin/sh\nset -e\necho r1 /src/r1 $(steps.first.results.out) > /tekton/steps/step-fetch/results/sha"
        );
        assert_eq!(r.steps[0].results[0].name, "sha");
        // unknown and remote step actions
        t.steps[0].ref_ = Some(Ref {
            name: Some("nope".into()),
            ..Ref::default()
        });
        let e = resolve(&input(&t, &p, &[], &actions, &paths)).unwrap_err();
        assert_eq!(e.reason, "TaskRunResolutionFailed");
        assert!(e.message.contains("\"nope\" not found"), "{}", e.message);
        t.steps[0].ref_ = Some(Ref {
            resolver: Some("git".into()),
            ..Ref::default()
        });
        let e = resolve(&input(&t, &p, &[], &actions, &paths)).unwrap_err();
        assert!(e.message.contains("git resolver"), "{}", e.message);
        t.steps[0].ref_ = Some(Ref {
            name: Some("clone".into()),
            ..Ref::default()
        });
        t.steps[0].params.push(Param::new("extra", "x"));
        let e = resolve(&input(&t, &p, &[], &actions, &paths)).unwrap_err();
        assert!(
            e.message
                .ends_with("extra params passed by Step to StepAction: [extra]"),
            "{}",
            e.message
        );
    }

    #[test]
    fn host_paths_replace_tekton_paths() {
        let t = spec(
            "workspaces: [{name: src}]\nresults: [{name: r}]\nsteps: [{image: x, script: \"cd $(workspaces.src.path) && echo > $(results.r.path)\"}]\n",
        );
        let mut paths = Paths::tekton();
        paths.results = "/tmp/tr/results".into();
        paths.scripts = "/tmp/tr/scripts".into();
        paths
            .workspace_paths
            .insert("src".into(), "/home/me/src".into());
        let ws = vec![BoundWorkspace {
            name: "src".into(),
            claim: None,
        }];
        let r = resolve(&input(&t, &[], &ws, &BTreeMap::new(), &paths)).unwrap();
        let c = &r.steps[0].container;
        assert!(c.command[0].starts_with("/tmp/tr/scripts/script-0-"));
        assert!(
            c.script
                .as_ref()
                .unwrap()
                .text
                .ends_with("cd /home/me/src && echo > /tmp/tr/results/r")
        );
    }

    #[test]
    fn result_size_termination_message_write_go() {
        // pkg/termination/write.go: the JSON message may not exceed 4096 bytes
        let small = BTreeMap::from([("r".to_string(), "x".repeat(100))]);
        assert!(check_result_size(&small, &BTreeMap::new()).is_ok());
        let big = BTreeMap::from([("r".to_string(), "x".repeat(4096))]);
        assert_eq!(
            check_result_size(&big, &BTreeMap::new()),
            Err(RESULT_TOO_LARGE)
        );
        // the exact length of Go's encoding
        let one = termination_message_len(&[("a", "<b>\n", 1)]);
        let expected = r#"[{"key":"StartedAt","value":"2006-01-02T15:04:05.000Z","type":3},{"key":"a","value":"\u003cb\u003e\n","type":1}]"#;
        assert_eq!(one, expected.len());
    }

    #[test]
    fn result_types_status_go_and_validate_taskrun_go() {
        let declared: Vec<TaskResult> = serde_json::from_value(serde_json::json!([
            {"name": "s"}, {"name": "a", "type": "array"}, {"name": "o", "properties": {"k": {}}},
            {"name": "lifted", "value": "$(steps.build.results.out)"}
        ]))
        .unwrap();
        let files = BTreeMap::from([
            ("s".to_string(), "[\"not\", \"parsed\"]".to_string()),
            ("a".to_string(), "[\"x\",\"y\"]".to_string()),
            ("o".to_string(), "{\"k\":\"v\"}".to_string()),
        ]);
        let steps = BTreeMap::from([(
            "build".to_string(),
            BTreeMap::from([("out".to_string(), ParamValue::from("v1"))]),
        )]);
        let r = task_results(&declared, &files, &steps).unwrap();
        assert_eq!(r["s"], ParamValue::from("[\"not\", \"parsed\"]"));
        assert_eq!(r["a"], ParamValue::from(vec!["x", "y"]));
        assert_eq!(r["lifted"], ParamValue::from("v1"));
        let files = BTreeMap::from([("a".to_string(), "x,y".to_string())]);
        let e = task_results(&declared, &files, &BTreeMap::new()).unwrap_err();
        assert_eq!(
            e.message,
            "Provided results don't match declared results; may be invalid JSON or missing result declaration:  \"a\": task result is expected to be \"array\" type but was initialized to a different type \"string\""
        );
        let files = BTreeMap::from([("o".to_string(), "{}".to_string())]);
        let e = task_results(&declared, &files, &BTreeMap::new()).unwrap_err();
        assert!(e.message.contains("map[o:[k]]"), "{}", e.message);
    }

    #[test]
    fn step_results_at_run_time_entrypointer_go() {
        let t = spec(
            "steps:\n  - {name: a, image: x}\n  - {name: b, image: x, command: [echo, \"$(steps.a.results.r)\", \"$(steps.a.results.l[*])\"], env: [{name: E, value: \"v=$(steps.a.results.l[1])\"}]}\n",
        );
        let paths = Paths::tekton();
        let mut r = resolve(&input(&t, &[], &[], &BTreeMap::new(), &paths)).unwrap();
        let res = BTreeMap::from([(
            "a".to_string(),
            BTreeMap::from([
                ("r".to_string(), ParamValue::from("one")),
                ("l".to_string(), ParamValue::from(vec!["x", "y"])),
            ]),
        )]);
        apply_step_results(&mut r.steps[1], &res).unwrap();
        assert_eq!(r.steps[1].container.command, ["echo", "one", "x", "y"]);
        assert_eq!(r.steps[1].container.env[0].value.as_deref(), Some("v=y"));
        let mut s = r.steps[1].clone();
        s.container.command = vec!["$(steps.zz.results.r)".into()];
        assert!(apply_step_results(&mut s, &res).is_err());
    }

    #[test]
    fn propagation_of_pipeline_values() {
        let mut t = spec(
            "steps: [{image: x, script: \"echo $(params.p) $(params.q) $(context.pipelineRun.name) $(workspaces.w.bound)\"}]\n",
        );
        let params = BTreeMap::from([
            ("p".to_string(), ParamValue::from("pipe")),
            ("q".to_string(), ParamValue::from("pq")),
        ]);
        let tp = vec![Param::new("q", "task")];
        propagate(
            &mut t,
            &PipelineValues {
                params: &params,
                task_params: &tp,
                run_name: "r",
                namespace: "ns",
                uid: "u",
                pipeline_name: "p",
                workspaces: &[("w".to_string(), true)],
            },
        );
        assert_eq!(t.steps[0].script.as_deref(), Some("echo pipe task r true"));
    }
}
