//! Validation pass: structure. The per-object rules of Tekton's admission webhook
//! (`tekton-api.md` §3), plus the compiler-side rules of §8 that concern one object at a time, and
//! the feature gates (§3.0). References (`$(…)`), cross-object usage and the task graph are
//! `refs.rs`'s job.
//!
//! Every object is checked at its own paths; embedded specs (a pipeline task's `taskSpec` or
//! `pipelineSpec`, a run's `taskSpec`/`pipelineSpec`) get the same rules at their nested paths.
//! Messages say what is wrong in plain words and quote Tekton's own message, so that a user who has
//! seen the webhook's error recognises it.
//!
//! | code | rule | Tekton's message (substring) |
//! |---|---|---|
//! | E101 | `metadata.name` is a DNS-1123 subdomain of ≤ 63 characters; `generateName` can produce one | `invalid resource name "<n>": must be a valid DNS label`, `length must be no more than 63 characters` |
//! | E102 | a param's `default` has the param's type | `"<t>" type does not match default value's type: "<d>"` |
//! | E103 | object params/results declare `properties`, all of type string | `missing field(s): <n>.properties`, `The value type specified for these keys [..] is invalid` |
//! | E104 | param names are unique within a declaration list | `parameter appears more than once` |
//! | E105 | param (and object key) name format, for every kind (§8.1) | `The format of following array and string variable names is invalid`, `Object param name and key name format is invalid` |
//! | E106 | enum: string params only, unique values, default in the list | `enum can only be set with string type param`, `parameter enum value <v> appears more than once`, `param default value <v> not in the enum list` |
//! | E107 | a task has at least one step | `missing field(s): steps` |
//! | E108 | step and sidecar names are DNS-1123 labels; reserved sidecar name | `invalid value "<n>"` (`Task step name must be a valid DNS Label`), `cannot use reserved sidecar name tekton-log-results` |
//! | E109 | step names unique; sidecar names unique (§8.2) | `expected exactly one, got both` |
//! | E110 | steps (after the step template), sidecars and StepActions have an image | `missing field(s): Image` / `image` |
//! | E111 | `script` and `command` are exclusive | `script cannot be used with command` |
//! | E112 | a step with `ref` sets no container fields; `params` only with `ref` | `image cannot be used with Ref`, …, `params cannot be used without Ref` |
//! | E113 | `onError` values; `continue` with retries | `Task step onError must be either "continue" or "stopAndFail"`, `PipelineTask OnError must be …`, `… cannot be set to "continue" when Retries is greater than 0` |
//! | E114 | durations parse; timeouts ≥ 0 and consistent (PipelineRun timeouts, taskRunSpecs) | `negative timeout`, `<d> should be >= 0`, `<d> should be <= pipeline duration`, … |
//! | E115 | volume mounts not under `/tekton/`, names not `tekton-internal-*` | `volumeMount cannot be mounted under /tekton/`, `cannot start with "tekton-internal-"` |
//! | E116 | volume names unique | `multiple volumes with same name "<v>"` |
//! | E117 | result names (task, step, StepAction) | `invalid key name "<n>"` |
//! | E118 | result names unique (task, step, StepAction, pipeline; §8.2) | – |
//! | E119 | a task result `value` is `$(steps.<step>.results.<r>)` | `Invalid Type. Wanted string`, `Could not extract step name and result name`, `invalid extracted step name`, `invalid extracted result name` |
//! | E120 | workspace declarations: names non-empty and unique | `workspace name "<w>" must be unique`, `workspace <i> has empty name`, `workspace with name "<w>" appears more than once` |
//! | E121 | task workspace mount paths unique, also against step volume mounts | `workspace mount path "<p>" must be unique` |
//! | E122 | workspace binding names unique (pipeline tasks, runs) | `workspace name "<w>" must be unique`, `expected exactly one, got both`, `provided by pipelinerun more than once` |
//! | E123 | run workspace bindings: exactly one volume source, with its required field | `expected exactly one, got both`/`neither`, `missing field(s): persistentvolumeclaim.claimname`, … |
//! | E124 | pipeline result values are task/finally result references | `expected pipeline results to be task result expressions but …`, `referencing a nonexistent task` |
//! | E125 | pipeline task names are DNS-1123 labels | `invalid value "<n>"` (`Pipeline Task name must be a valid DNS Label.`) |
//! | E126 | pipeline task names unique over tasks and finally | `expected exactly one, got both` |
//! | E127 | a pipeline task has exactly one of taskRef/taskSpec(/pipelineRef/pipelineSpec) | `expected exactly one, got multiple` / `got neither` |
//! | E128 | custom tasks: kind and `group/version`; embedded tasks with steps: no apiVersion/kind | `custom task ref must specify kind`, `invalid apiVersion format`, `taskSpec.kind cannot be specified when using taskSpec.steps`, … |
//! | E129 | a pipeline is not empty; `finally` needs `tasks` | `expected at least one, got none`, `spec.tasks is empty but spec.finally has <n> tasks` |
//! | E130 | references (taskRef, pipelineRef, step `ref`): name or resolver, … | `missing field(s): name`, `expected exactly one, got both`, `missing field(s): resolver`, `invalid URI for request`, `invalid value: <k8s>` |
//! | E131 | when expressions | `missing field(s)`, `operator "<op>" is not recognized`, `expecting non-empty values field`, `cel and input+operator+values cannot be set` |
//! | E132 | at most 256 matrix combinations | `expected 0 <= <n> <= 256` |
//! | E133 | param names unique in supplied lists (pipeline task, matrix, include, runs, refs) | `parameter names must be unique`, `expected exactly one, got both` |
//! | E134 | a param is not both in `params` and in the matrix | `expected exactly one, got both: matrix[<n>], params[<n>]` |
//! | E135 | runs: exactly one of taskRef/taskSpec, pipelineRef/pipelineSpec | `expected exactly one, got neither` / `got both` |
//! | E136 | run `status` values; `statusMessage` only with `status` | `should be TaskRunCancelled or TaskRunPending`, `statusMessage should not be set if status is not set` |
//! | E137 | TaskRun retries ≥ 0 | `<n> should be >= 0` |
//! | E138 | stepSpecs/sidecarSpecs: names present and unique | `missing field(s): name`, `expected exactly one, got both` |
//! | E139 | task-level computeResources excludes stepSpecs resources | `expected exactly one, got both: stepSpecs.resources, computeResources` |
//! | E140 | TaskRun debug breakpoints | `onFailure breakpoint is empty`, `is not a valid onFailure breakpoint value`, `before step must be unique` |
//! | E141 | no `$(params…)` in a StepAction script | `param substitution in scripts is not allowed.` |
//! | E142 | StepAction volume mount names are one `$(params.x)` reference | `expect the Name to be a single param reference` |
//! | E143 | Kubernetes core fields: resource quantities, env var names, label/annotation keys, label values ([`core`]) | – (the API server: `quantities must match the regular expression`, `env[0].name: Required value`, `name part must be non-empty`) |
//! | E144 | image references are well-formed (compiler-side; the pod fails with `InvalidImageName`) | — |
//! | E401 | beta field while `enable-api-fields` is `stable` | `<feature> requires "enable-api-fields" feature gate to be "alpha" or "beta" but it is "stable"` |
//! | E402 | alpha field while `enable-api-fields` is not `alpha` | `<feature> requires "enable-api-fields" feature gate to be "alpha" but it is "<v>"` |
//! | E403 | `enum` without `enable-param-enum` | ``feature flag `enable-param-enum` should be set to true to use Enum`` |
//! | E404 | `cel` without `enable-cel-in-whenexpression` | `feature flag enable-cel-in-whenexpression should be set to true to use CEL` |
//! | E405 | artifacts without `enable-artifacts` | `feature flag enable-artifacts should be set to true to use artifacts feature.` |
//! | E406 | URL-like ref names without `enable-concise-resolver-syntax` | `feature flag enable-concise-resolver-syntax should be set to true to use concise resolver syntax` |

mod core;
mod gates;
mod image;
mod names;
mod params;
mod pipeline;
mod runs;
mod task;

use super::{Ctx, FeatureGates};
use crate::bundle::{Bundle, Object, Resource, join_path};
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::model::ObjectMeta;

pub fn check(bundle: &Bundle, ctx: &mut Ctx) {
    for obj in &bundle.objects {
        let mut c = Checker { obj, ctx };
        match &obj.resource {
            Resource::Task(t) => {
                c.metadata(&t.metadata);
                c.task_spec("spec", &t.spec);
            }
            Resource::Pipeline(p) => {
                c.metadata(&p.metadata);
                c.pipeline_spec("spec", &p.spec);
            }
            Resource::TaskRun(r) => {
                c.metadata(&r.metadata);
                c.task_run(&r.spec);
            }
            Resource::PipelineRun(r) => {
                c.metadata(&r.metadata);
                c.pipeline_run(&r.spec);
            }
            Resource::StepAction(s) => {
                c.metadata(&s.metadata);
                c.step_action(&s.spec);
            }
        }
    }
}

/// Checks one object, reporting at its field paths.
pub(super) struct Checker<'a, 'c> {
    obj: &'a Object,
    ctx: &'a mut Ctx<'c>,
}

/// `a` + `b` as a field path (`spec` + `steps[0]` → `spec.steps[0]`).
fn at(a: &str, b: &str) -> String {
    join_path(a, b)
}

/// `plain words (Tekton: its message)`.
fn tekton(plain: impl std::fmt::Display, tekton: impl std::fmt::Display) -> String {
    format!("{plain} (Tekton: {tekton})")
}

/// Go's `%v` of a `[]string`: `[a b]`.
fn go_list<S: AsRef<str>>(items: &[S]) -> String {
    let v: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("[{}]", v.join(" "))
}

impl Checker<'_, '_> {
    fn gates(&self) -> &FeatureGates {
        &self.ctx.settings.gates
    }

    fn report(&mut self, path: &str, d: Diagnostic) {
        self.ctx.report(self.obj, path, d);
    }

    /// Reports at `path`, narrowing the span to `needle` (a name or value as written in the script)
    /// when it is long enough to be found reliably.
    fn report_text(&mut self, path: &str, needle: &str, d: Diagnostic) {
        if needle.chars().count() >= 2 {
            self.ctx.report_text(self.obj, path, needle, d);
        } else {
            self.ctx.report(self.obj, path, d);
        }
    }

    /// For a duplicate `elem` (whose first occurrence is `first`): narrows to `needle` only when the
    /// duplicate was recorded at a place of its own, since narrowing searches forward from the
    /// recorded position and would otherwise find the first occurrence.
    fn report_dup(&mut self, path: &str, elem: &str, first: &str, needle: &str, d: Diagnostic) {
        match (self.span_of(elem), self.span_of(first)) {
            (Some(a), Some(b)) if a != b => self.report_text(path, needle, d),
            _ => self.report(path, d),
        }
    }

    /// The span recorded for exactly `path` (for secondary labels).
    fn span_of(&self, path: &str) -> Option<crate::source::Span> {
        self.obj.origins.exact(path)
    }

    /// 3.1: `metadata.name` (or `generateName`).
    fn metadata(&mut self, m: &ObjectMeta) {
        let kind = self.obj.resource.kind();
        match (m.name.as_deref(), m.generate_name.as_deref()) {
            (Some(n), _) if !n.is_empty() => {
                if !names::is_dns1123_subdomain(n) {
                    let mut d = Diagnostic::error(
                        codes::E101,
                        tekton(
                            format!("{kind} name {n:?} is not a valid object name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"),
                            format!("invalid resource name {n:?}: must be a valid DNS label"),
                        ),
                    )
                    .label("invalid name");
                    if let Some(s) = names::suggest_subdomain(n) {
                        d = d.help(format!("try {s:?}"));
                    }
                    self.report_text("metadata.name", n, d);
                } else if n.len() > 63 {
                    let d = Diagnostic::error(
                        codes::E101,
                        tekton(
                            format!(
                                "{kind} name {n:?} is {} characters long; at most 63 are allowed",
                                n.len()
                            ),
                            "Invalid resource name: length must be no more than 63 characters",
                        ),
                    )
                    .label("name too long");
                    self.report_text("metadata.name", n, d);
                }
            }
            (_, Some(g)) if !g.is_empty() => {
                // The API server appends 5 random characters (after cutting the prefix to 58); a
                // trailing '-' is fine because something follows it.
                let masked = match g.strip_suffix('-') {
                    Some(rest) if !rest.is_empty() => format!("{rest}a"),
                    _ => g.to_string(),
                };
                if !names::is_dns1123_subdomain(&masked) {
                    let mut d = Diagnostic::error(
                        codes::E101,
                        tekton(
                            format!("generateName {g:?} cannot start a valid object name: use lower-case letters, digits, '-' and '.', starting with a letter or digit"),
                            format!("metadata.generateName: Invalid value: {g:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
                        ),
                    )
                    .label("invalid name prefix");
                    if let Some(s) = names::suggest_subdomain(g.trim_end_matches('-')) {
                        d = d.help(format!("try {:?}", format!("{s}-")));
                    }
                    self.report_text("metadata.generateName", g, d);
                }
            }
            _ => {
                let d = Diagnostic::error(
                    codes::E101,
                    tekton(
                        format!("this {kind} has neither a name nor a generateName"),
                        "invalid resource name \"\": must be a valid DNS label",
                    ),
                )
                .help("give it a name, or a `generateName` prefix such as \"ci-run-\"");
                self.report("metadata.name", d);
            }
        }
        self.labels_and_annotations(m.labels.as_ref(), m.annotations.as_ref());
    }
}

#[cfg(test)]
mod tests;
