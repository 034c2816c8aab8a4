//! 3.10: TaskRun and PipelineRun specs: ref/spec, params, workspace bindings, status, retries,
//! timeouts, step/sidecar overrides, debug.

use super::{Checker, at, tekton};
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::model::{
    PipelineRunSpec, PipelineTaskRunSpec, TaskRunSidecarSpec, TaskRunSpec, TaskRunStepSpec,
    WorkspaceBinding, format_duration,
};
use k8s_openapi::api::core::v1::ResourceRequirements;
use std::collections::HashMap;

/// Tekton's `default-timeout-minutes`, as the PipelineRun defaulting fills `timeouts.pipeline`.
const DEFAULT_TIMEOUT: i64 = 60 * 60 * 1_000_000_000;

impl Checker<'_, '_> {
    pub(super) fn task_run(&mut self, spec: &TaskRunSpec) {
        match (&spec.task_ref, &spec.task_spec) {
            (None, None) => {
                let d = Diagnostic::error(
                    codes::E135,
                    tekton(
                        "this TaskRun has no task: set `taskRef` or `taskSpec`",
                        "expected exactly one, got neither: taskRef, taskSpec",
                    ),
                );
                self.report("spec", d);
            }
            (Some(_), Some(_)) => {
                let d = Diagnostic::error(
                    codes::E135,
                    tekton(
                        "this TaskRun sets both `taskRef` and `taskSpec`",
                        "expected exactly one, got both: taskRef, taskSpec",
                    ),
                );
                self.report("spec.taskSpec", d);
            }
            _ => {}
        }
        if let Some(r) = &spec.task_ref {
            self.reference(
                "spec.taskRef",
                r.name.as_deref(),
                r.resolver.as_deref(),
                &r.params,
            );
        }
        if let Some(ts) = &spec.task_spec {
            self.task_spec("spec.taskSpec", ts);
        }
        self.param_values_unique("spec.params", &spec.params, true);
        self.bindings("spec", &spec.workspaces, true);
        if let Some(debug) = &spec.debug {
            self.need_alpha("spec.debug", "debug", "`debug`");
            if let Some(bp) = &debug.breakpoints {
                match bp.on_failure.as_deref().unwrap_or("") {
                    "" => {
                        let d = Diagnostic::error(
                            codes::E140,
                            tekton(
                                "the onFailure breakpoint is empty; it can only be \"enabled\"",
                                "onFailure breakpoint is empty, it is only allowed to be set as enabled",
                            ),
                        );
                        self.report("spec.debug.breakpoints.onFailure", d);
                    }
                    "enabled" => {}
                    other => {
                        let d = Diagnostic::error(
                            codes::E140,
                            tekton(
                                format!(
                                    "the onFailure breakpoint is {other:?}; it can only be \"enabled\""
                                ),
                                format!(
                                    "{other} is not a valid onFailure breakpoint value, onFailure breakpoint is only allowed to be set as enabled"
                                ),
                            ),
                        );
                        self.report("spec.debug.breakpoints.onFailure", d);
                    }
                }
                let mut seen = Vec::new();
                for (i, s) in bp.before_steps.iter().enumerate() {
                    if seen.contains(&s) {
                        let d = Diagnostic::error(
                            codes::E140,
                            tekton(
                                format!("the breakpoint before step {s:?} is listed twice"),
                                format!(
                                    "before step must be unique, the same step: {s} is defined multiple times at"
                                ),
                            ),
                        );
                        self.report(&format!("spec.debug.breakpoints.beforeSteps[{i}]"), d);
                    } else {
                        seen.push(s);
                    }
                }
            }
        }
        self.overrides(
            "spec",
            &spec.step_specs,
            &spec.sidecar_specs,
            spec.compute_resources.as_ref(),
        );
        if let Some(status) = spec.status.as_deref().filter(|s| !s.is_empty()) {
            if status != "TaskRunCancelled" && status != "TaskRunPending" {
                let mut d = Diagnostic::error(
                    codes::E136,
                    tekton(
                        format!("TaskRun status {status:?} is not one a run may be created with"),
                        format!("{status} should be TaskRunCancelled or TaskRunPending"),
                    ),
                );
                if let Some(s) = crate::diag::suggest::did_you_mean(
                    status,
                    ["TaskRunCancelled", "TaskRunPending"],
                ) {
                    d = d.help(format!("did you mean {s:?}?"));
                }
                self.report_text("spec.status", status, d);
            }
        } else if let Some(msg) = spec.status_message.as_deref().filter(|s| !s.is_empty()) {
            let d = Diagnostic::error(
                codes::E136,
                tekton(
                    "this TaskRun has a `statusMessage` but no `status`",
                    format!("statusMessage should not be set if status is not set, but it is currently set to {msg}"),
                ),
            )
            .help("set `status` (\"TaskRunCancelled\" or \"TaskRunPending\") or drop `statusMessage`");
            self.report("spec.statusMessage", d);
        }
        if let Some(n) = spec.retries.filter(|n| *n < 0) {
            let d = Diagnostic::error(
                codes::E137,
                tekton(
                    format!("retries is {n}; it cannot be negative"),
                    format!("{n} should be >= 0"),
                ),
            );
            self.report("spec.retries", d);
        }
        if let Some(t) = &spec.timeout {
            self.duration_not_negative("spec.timeout", t, "TaskRun timeout", false);
        }
    }

    pub(super) fn pipeline_run(&mut self, spec: &PipelineRunSpec) {
        match (&spec.pipeline_ref, &spec.pipeline_spec) {
            (None, None) => {
                let d = Diagnostic::error(
                    codes::E135,
                    tekton(
                        "this PipelineRun has no pipeline: set `pipelineRef` or `pipelineSpec`",
                        "expected exactly one, got neither: pipelineRef, pipelineSpec",
                    ),
                );
                self.report("spec", d);
            }
            (Some(_), Some(_)) => {
                let d = Diagnostic::error(
                    codes::E135,
                    tekton(
                        "this PipelineRun sets both `pipelineRef` and `pipelineSpec`",
                        "expected exactly one, got both: pipelineRef, pipelineSpec",
                    ),
                );
                self.report("spec.pipelineSpec", d);
            }
            _ => {}
        }
        if let Some(r) = &spec.pipeline_ref {
            self.reference(
                "spec.pipelineRef",
                r.name.as_deref(),
                r.resolver.as_deref(),
                &r.params,
            );
        }
        if let Some(ps) = &spec.pipeline_spec {
            self.pipeline_spec("spec.pipelineSpec", ps);
        }
        self.param_values_unique("spec.params", &spec.params, true);
        let (tasks_timeout, pipeline_timeout) = self.timeouts(spec);
        for (i, trs) in spec.task_run_specs.iter().enumerate() {
            self.task_run_spec(
                &format!("spec.taskRunSpecs[{i}]"),
                trs,
                tasks_timeout,
                pipeline_timeout,
            );
        }
        if let Some(status) = spec.status.as_deref().filter(|s| !s.is_empty()) {
            const OK: [&str; 4] = [
                "Cancelled",
                "CancelledRunFinally",
                "StoppedRunFinally",
                "PipelineRunPending",
            ];
            if !OK.contains(&status) {
                let mut d = Diagnostic::error(
                    codes::E136,
                    tekton(
                        format!(
                            "PipelineRun status {status:?} is not one a run may be created with"
                        ),
                        format!(
                            "{status} should be Cancelled, CancelledRunFinally, StoppedRunFinally or PipelineRunPending"
                        ),
                    ),
                );
                if let Some(s) = crate::diag::suggest::did_you_mean(status, OK) {
                    d = d.help(format!("did you mean {s:?}?"));
                }
                self.report_text("spec.status", status, d);
            }
        }
        self.bindings("spec", &spec.workspaces, false);
    }

    /// PipelineRun `timeouts`: each ≥ 0; `tasks` and `finally` within `pipeline` (defaulted to 1h).
    /// Returns the parsed `tasks` timeout and the effective `pipeline` timeout, for `taskRunSpecs`.
    fn timeouts(&mut self, spec: &PipelineRunSpec) -> (Option<i64>, Option<i64>) {
        let t = spec.timeouts.clone().unwrap_or_default();
        let parse = |c: &mut Self, field: &str, v: &Option<String>| -> Option<Option<i64>> {
            match v {
                None => Some(None),
                Some(text) => {
                    let path = format!("spec.timeouts.{field}");
                    c.duration_not_negative(&path, text, &format!("timeouts.{field}"), false)
                        .map(Some)
                }
            }
        };
        let (Some(tasks), Some(finally), Some(pipeline)) = (
            parse(self, "tasks", &t.tasks),
            parse(self, "finally", &t.finally),
            parse(self, "pipeline", &t.pipeline),
        ) else {
            return (None, None);
        };
        let pipeline = pipeline.unwrap_or(DEFAULT_TIMEOUT);
        let pipe_text = format_duration(pipeline);
        let defaulted = t.pipeline.is_none();
        for (field, v) in [("tasks", tasks), ("finally", finally)] {
            let Some(v) = v else { continue };
            let shown = if v == 0 && pipeline != 0 {
                Some(format!("{} (no timeout)", format_duration(v)))
            } else if v > pipeline && pipeline != 0 {
                Some(format_duration(v))
            } else {
                None
            };
            if let Some(shown) = shown {
                let plain = if v == 0 {
                    format!(
                        "timeouts.{field} is 0 (no timeout), but the whole pipeline times out after {pipe_text}"
                    )
                } else {
                    format!(
                        "timeouts.{field} ({}) is longer than the pipeline's timeout ({pipe_text})",
                        format_duration(v)
                    )
                };
                let mut d = Diagnostic::error(
                    codes::E114,
                    tekton(plain, format!("{shown} should be <= pipeline duration")),
                )
                .help(format!(
                    "make timeouts.{field} at most timeouts.pipeline, or raise timeouts.pipeline"
                ));
                if defaulted {
                    d = d
                        .note("timeouts.pipeline is not set, so Tekton uses its default of 1h0m0s");
                }
                self.report(&format!("spec.timeouts.{field}"), d);
            }
        }
        if let (Some(a), Some(b)) = (tasks, finally)
            && a.saturating_add(b) > pipeline
        {
            let (ta, tb) = (format_duration(a), format_duration(b));
            let mut d = Diagnostic::error(
                    codes::E114,
                    tekton(
                        format!("timeouts.tasks + timeouts.finally ({ta} + {tb}) is longer than the pipeline's timeout ({pipe_text})"),
                        format!("{ta} + {tb} should be <= pipeline duration"),
                    ),
                )
                .help("make tasks + finally at most timeouts.pipeline");
            if pipeline == 0 {
                d = d.note(
                    "Tekton applies this check even when timeouts.pipeline is 0 (no timeout)",
                );
            }
            self.report("spec.timeouts", d);
        }
        (tasks, Some(pipeline))
    }

    fn task_run_spec(
        &mut self,
        path: &str,
        trs: &PipelineTaskRunSpec,
        tasks: Option<i64>,
        pipeline: Option<i64>,
    ) {
        self.overrides(
            path,
            &trs.step_specs,
            &trs.sidecar_specs,
            trs.compute_resources.as_ref(),
        );
        let Some(text) = &trs.timeout else { return };
        let tpath = at(path, "timeout");
        let Some(v) = self.duration_not_negative(&tpath, text, "taskRunSpecs timeout", false)
        else {
            return;
        };
        if v < 0 {
            return;
        }
        let (max, source) = match (tasks, pipeline) {
            (Some(t), _) => (t, "pipeline tasks duration"),
            (None, Some(p)) => (p, "pipeline duration"),
            (None, None) => return,
        };
        if max > 0 && v > max {
            let d = Diagnostic::error(
                codes::E114,
                tekton(
                    format!(
                        "the timeout of pipeline task {:?} ({}) is longer than the {source} ({})",
                        trs.pipeline_task_name,
                        format_duration(v),
                        format_duration(max)
                    ),
                    format!(
                        "{} should be <= {source} {}",
                        format_duration(v),
                        format_duration(max)
                    ),
                ),
            );
            self.report_text(&tpath, text, d);
        }
    }

    /// stepSpecs / sidecarSpecs / computeResources (beta) of a TaskRun or a taskRunSpecs entry.
    fn overrides(
        &mut self,
        path: &str,
        steps: &[TaskRunStepSpec],
        sidecars: &[TaskRunSidecarSpec],
        resources: Option<&ResourceRequirements>,
    ) {
        self.resource_quantities(path, resources);
        for (i, s) in steps.iter().enumerate() {
            self.resource_quantities(
                &at(path, &format!("stepSpecs[{i}]")),
                Some(&s.compute_resources),
            );
        }
        if !steps.is_empty() {
            self.need_beta(&at(path, "stepSpecs"), "stepSpecs", "`stepSpecs`");
            let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
            self.override_names(&at(path, "stepSpecs"), "step", &names);
        }
        if !sidecars.is_empty() {
            self.need_beta(&at(path, "sidecarSpecs"), "sidecarSpecs", "`sidecarSpecs`");
            let names: Vec<&str> = sidecars.iter().map(|s| s.name.as_str()).collect();
            self.override_names(&at(path, "sidecarSpecs"), "sidecar", &names);
        }
        if resources.is_some() {
            self.need_beta(
                &at(path, "computeResources"),
                "computeResources",
                "task-level `computeResources`",
            );
            if steps.iter().any(|s| has_resources(&s.compute_resources)) {
                let d = Diagnostic::error(
                    codes::E139,
                    tekton(
                        "task-level `computeResources` cannot be combined with per-step resources in `stepSpecs`",
                        "expected exactly one, got both: stepSpecs.resources, computeResources",
                    ),
                )
                .help("set resources either for the whole task or per step");
                self.report(&at(path, "computeResources"), d);
            }
        }
    }

    fn override_names(&mut self, path: &str, what: &str, names: &[&str]) {
        let mut seen: Vec<String> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                let d = Diagnostic::error(
                    codes::E138,
                    tekton(
                        format!("this {what} override names no {what}"),
                        "missing field(s): name",
                    ),
                )
                .help(format!(
                    "set `name` to the {what} whose resources it changes"
                ));
                self.report(&format!("{path}[{i}].name"), d);
                continue;
            }
            let key = n.to_lowercase();
            if seen.contains(&key) {
                let d = Diagnostic::error(
                    codes::E138,
                    tekton(
                        format!(
                            "the {what} {n:?} is overridden twice (names are compared ignoring case)"
                        ),
                        "expected exactly one, got both",
                    ),
                );
                self.report(&format!("{path}[{i}].name"), d);
            } else {
                seen.push(key);
            }
        }
    }

    /// 3.4: run workspace bindings: each valid, names unique (case-insensitively for TaskRuns).
    fn bindings(&mut self, base: &str, bindings: &[WorkspaceBinding], task_run: bool) {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, b) in bindings.iter().enumerate() {
            let path = at(base, &format!("workspaces[{i}]"));
            self.binding(&path, b);
            let key = if task_run {
                b.name.to_lowercase()
            } else {
                b.name.clone()
            };
            if let Some(&first) = seen.get(&key) {
                let theirs = if task_run {
                    "expected exactly one, got both".to_string()
                } else {
                    format!(
                        "workspace {:?} provided by pipelinerun more than once, at index {first} and {i}",
                        b.name
                    )
                };
                let d = Diagnostic::error(
                    codes::E122,
                    tekton(
                        format!("workspace {:?} is bound more than once", b.name),
                        theirs,
                    ),
                )
                .help("bind each workspace once");
                self.report(&at(&path, "name"), d);
            } else {
                seen.insert(key, i);
            }
        }
    }

    fn binding(&mut self, path: &str, b: &WorkspaceBinding) {
        if *b == WorkspaceBinding::default() {
            let d = Diagnostic::error(
                codes::E123,
                tekton("this workspace binding is empty", "missing field(s)"),
            );
            self.report(path, d);
            return;
        }
        let sources = b.sources();
        let help = "bind it to one volume: `volume_claim(\"1Gi\")`, `pvc(\"name\")`, `empty_dir()`, `config_map(\"name\")` or `secret(\"name\")`";
        if sources.len() > 1 {
            let d = Diagnostic::error(
                codes::E123,
                tekton(
                    format!(
                        "workspace {:?} is bound to several volumes ({})",
                        b.name,
                        sources.join(", ")
                    ),
                    "expected exactly one, got both",
                ),
            )
            .help(help);
            self.report(path, d);
            return;
        }
        if sources.is_empty() {
            let d = Diagnostic::error(
                codes::E123,
                tekton(
                    format!("workspace {:?} is not bound to any volume", b.name),
                    "expected exactly one, got neither",
                ),
            )
            .help(help);
            self.report(path, d);
            return;
        }
        let missing = if b
            .persistent_volume_claim
            .as_ref()
            .is_some_and(|p| p.claim_name.is_empty())
        {
            Some((
                "persistentVolumeClaim.claimName",
                "persistentvolumeclaim.claimname",
            ))
        } else if b.config_map.as_ref().is_some_and(|c| c.name.is_empty()) {
            Some(("configMap.name", "configmap.name"))
        } else if b
            .secret
            .as_ref()
            .is_some_and(|s| s.secret_name.as_deref().is_none_or(str::is_empty))
        {
            Some(("secret.secretName", "secret.secretName"))
        } else if b
            .projected
            .as_ref()
            .is_some_and(|p| p.sources.as_ref().is_none_or(Vec::is_empty))
        {
            Some(("projected.sources", "projected.sources"))
        } else if b.csi.as_ref().is_some_and(|c| c.driver.is_empty()) {
            Some(("csi.driver", "csi.driver"))
        } else {
            None
        };
        if let Some((field, theirs)) = missing {
            let d = Diagnostic::error(
                codes::E123,
                tekton(
                    format!("workspace {:?} is bound without `{field}`", b.name),
                    format!("missing field(s): {theirs}"),
                ),
            );
            self.report(&at(path, field), d);
        }
    }
}

/// `ResourceRequirements.Size() != 0`: anything set.
fn has_resources(r: &ResourceRequirements) -> bool {
    r.limits.as_ref().is_some_and(|m| !m.is_empty())
        || r.requests.as_ref().is_some_and(|m| !m.is_empty())
        || r.claims.as_ref().is_some_and(|c| !c.is_empty())
}
