//! 3.3/3.4/3.5: a TaskSpec (a Task, a pipeline task's `taskSpec`, a TaskRun's `taskSpec`): steps,
//! the step template, sidecars, volumes, workspaces, results; and StepActions (3.11).

use super::{Checker, at, names, tekton};
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::model::{
    ParamType, Ref, Sidecar, Step, StepActionSpec, StepResult, StepTemplate, TaskResult, TaskSpec,
    WhenExpression, parse_duration,
};
use k8s_openapi::api::core::v1::VolumeMount;
use std::collections::HashMap;

/// Tekton's name for the results sidecar.
const RESERVED_SIDECAR: &str = "tekton-log-results";

impl Checker<'_, '_> {
    pub(super) fn task_spec(&mut self, base: &str, spec: &TaskSpec) {
        self.param_specs(base, &spec.params);
        if spec.steps.is_empty() {
            let d = Diagnostic::error(
                codes::E107,
                tekton("this task has no steps", "missing field(s): steps"),
            )
            .label("no steps")
            .help("add a step, e.g. `t.step(\"build\", \"alpine\", \"echo hello\")`");
            self.report(&at(base, "steps"), d);
        }
        self.volumes(base, spec);
        self.task_workspaces(base, spec);
        let template = spec.step_template.as_deref();
        let mut names: HashMap<&str, usize> = HashMap::new();
        for (i, step) in spec.steps.iter().enumerate() {
            let path = at(base, &format!("steps[{i}]"));
            if !step.name.is_empty() {
                if let Some(&first) = names.get(step.name.as_str()) {
                    let d = Diagnostic::error(
                        codes::E109,
                        tekton(
                            format!("two steps are named {:?}", step.name),
                            "expected exactly one, got both",
                        ),
                    )
                    .label("second step with this name")
                    .secondary(
                        self.span_of(&at(base, &format!("steps[{first}]"))),
                        "first step with this name",
                    )
                    .help("step names must be unique within a task");
                    let (elem, first) = (path.clone(), at(base, &format!("steps[{first}]")));
                    self.report_dup(&at(&path, "name"), &elem, &first, &step.name, d);
                } else {
                    names.insert(&step.name, i);
                }
            }
            self.step(&path, step, template);
        }
        if let Some(t) = template
            && spec.steps.iter().any(|s| s.ref_.is_none())
        {
            self.volume_mounts(&at(base, "stepTemplate"), &t.volume_mounts);
        }
        if let Some(t) = template {
            let path = at(base, "stepTemplate");
            self.env_names(&path, &t.env);
            self.resource_quantities(&path, t.compute_resources.as_ref());
        }
        let mut sidecar_names: HashMap<&str, usize> = HashMap::new();
        for (i, sc) in spec.sidecars.iter().enumerate() {
            let path = at(base, &format!("sidecars[{i}]"));
            if !sc.name.is_empty() {
                if let Some(&first) = sidecar_names.get(sc.name.as_str()) {
                    let d = Diagnostic::error(
                        codes::E109,
                        format!(
                            "two sidecars are named {:?}; their containers would clash in the pod",
                            sc.name
                        ),
                    )
                    .label("second sidecar with this name")
                    .secondary(
                        self.span_of(&at(base, &format!("sidecars[{first}]"))),
                        "first sidecar with this name",
                    )
                    .help("sidecar names must be unique within a task");
                    let (elem, first) = (path.clone(), at(base, &format!("sidecars[{first}]")));
                    self.report_dup(&at(&path, "name"), &elem, &first, &sc.name, d);
                } else {
                    sidecar_names.insert(&sc.name, i);
                }
            }
            self.sidecar(&path, sc);
        }
        self.task_results(base, &spec.results);
    }

    fn volumes(&mut self, base: &str, spec: &TaskSpec) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, v) in spec.volumes.iter().enumerate() {
            if let Some(&first) = seen.get(v.name.as_str()) {
                let d = Diagnostic::error(
                    codes::E116,
                    tekton(
                        format!("two volumes are named {:?}", v.name),
                        format!("multiple volumes with same name {:?}", v.name),
                    ),
                )
                .label("second volume with this name")
                .secondary(
                    self.span_of(&at(base, &format!("volumes[{first}]"))),
                    "first volume with this name",
                )
                .help("volume names must be unique within a task");
                self.report(&at(base, &format!("volumes[{i}].name")), d);
            } else {
                seen.insert(&v.name, i);
            }
        }
    }

    /// 3.4: workspace names unique; mount paths unique, also against step and step-template volume
    /// mounts.
    fn task_workspaces(&mut self, base: &str, spec: &TaskSpec) {
        let mut mounts: HashMap<String, String> = HashMap::new();
        for s in &spec.steps {
            for vm in &s.volume_mounts {
                let who = if s.name.is_empty() {
                    "a step".to_string()
                } else {
                    format!("step {:?}", s.name)
                };
                mounts
                    .entry(names::clean_path(&vm.mount_path))
                    .or_insert(format!("{who} mounts volume {:?} there", vm.name));
            }
        }
        if let Some(t) = &spec.step_template {
            for vm in &t.volume_mounts {
                mounts
                    .entry(names::clean_path(&vm.mount_path))
                    .or_insert(format!(
                        "the step template mounts volume {:?} there",
                        vm.name
                    ));
            }
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, w) in spec.workspaces.iter().enumerate() {
            let path = at(base, &format!("workspaces[{i}]"));
            if let Some(&first) = seen.get(w.name.as_str()) {
                let d = Diagnostic::error(
                    codes::E120,
                    tekton(
                        format!("workspace {:?} is declared more than once", w.name),
                        format!("workspace name {:?} must be unique", w.name),
                    ),
                )
                .label("declared again here")
                .secondary(
                    self.span_of(&at(base, &format!("workspaces[{first}]"))),
                    "first declared here",
                );
                self.report(&at(&path, "name"), d);
            } else {
                seen.insert(&w.name, i);
            }
            let mp = names::clean_path(&w.effective_mount_path());
            if let Some(other) = mounts.get(&mp) {
                let d = Diagnostic::error(
                    codes::E121,
                    tekton(
                        format!(
                            "workspace {:?} would be mounted at {mp:?}, but {other}",
                            w.name
                        ),
                        format!("workspace mount path {mp:?} must be unique"),
                    ),
                )
                .label("mount path already in use")
                .help(
                    "give the workspace its own `mountPath` (by default it is /workspace/<name>)",
                );
                self.report(&at(&path, "mountPath"), d);
            } else {
                mounts.insert(mp, format!("workspace {:?} is mounted there", w.name));
            }
        }
    }

    fn step(&mut self, path: &str, s: &Step, template: Option<&StepTemplate>) {
        let who = if s.name.is_empty() {
            "this step".to_string()
        } else {
            format!("step {:?}", s.name)
        };
        self.env_names(path, &s.env);
        self.resource_quantities(path, s.compute_resources.as_ref());
        if !s.name.is_empty() && !names::is_dns1123_label(&s.name) {
            let mut d = Diagnostic::error(
                codes::E108,
                tekton(
                    format!("step name {:?} is not a valid DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit)", s.name),
                    format!("invalid value {:?}: Task step name must be a valid DNS Label", s.name),
                ),
            )
            .label("invalid step name");
            if let Some(sug) = names::suggest_label(&s.name) {
                d = d.help(format!("try {sug:?}"));
            }
            self.report_text(&at(path, "name"), &s.name, d);
        }
        if let Some(r) = &s.ref_ {
            self.reference(
                &at(path, "ref"),
                r.name.as_deref(),
                r.resolver.as_deref(),
                &r.params,
            );
            self.ref_conflicts(path, s, r);
        } else {
            if !s.params.is_empty() {
                let d = Diagnostic::error(
                    codes::E112,
                    tekton(
                        format!("{who} passes `params` but does not use a StepAction (`ref`)"),
                        "params cannot be used without Ref",
                    ),
                )
                .help("step params are the inputs of a StepAction: add `ref`, or pass values through `env`");
                self.report(&at(path, "params"), d);
            }
            let image = s.image.as_deref().filter(|i| !i.is_empty()).or(template
                .and_then(|t| t.image.as_deref())
                .filter(|i| !i.is_empty()));
            if image.is_none() {
                let d = Diagnostic::error(
                    codes::E110,
                    tekton(
                        format!(
                            "{who} has no image{}",
                            if template.is_some() { ", and the step template gives none" } else { "" }
                        ),
                        "missing field(s): Image",
                    ),
                )
                .label("no image")
                .help("set `image` on the step, or once for all steps with `t.step_template(#{ image: \"...\" })`");
                self.report(&at(path, "image"), d);
            }
            if let Some(i) = s.image.as_deref() {
                self.image(&at(path, "image"), i);
            }
            let script = s.script.as_deref().is_some_and(|x| !x.is_empty());
            let command_from_template =
                s.command.is_empty() && template.is_some_and(|t| !t.command.is_empty());
            if script && (!s.command.is_empty() || command_from_template) {
                let mut d = Diagnostic::error(
                    codes::E111,
                    format!("{who} sets both `script` and `command` (Tekton: script cannot be used with command)"),
                )
                .label("`script` here")
                .help("put the command into the script, or drop `script` and use `command`/`args`");
                if command_from_template {
                    d = d.note("the `command` comes from the task's step template");
                }
                self.report(&at(path, "script"), d);
            }
        }
        if let Some(t) = &s.timeout {
            self.duration_not_negative(&at(path, "timeout"), t, "step timeout", true);
        }
        self.volume_mounts(path, &s.volume_mounts);
        if let Some(on_error) = s.on_error.as_deref().filter(|v| !v.is_empty())
            && !on_error.starts_with("$(params")
            && on_error != "continue"
            && on_error != "stopAndFail"
        {
            let d = Diagnostic::error(
                    codes::E113,
                    tekton(
                        format!("{who} has onError {on_error:?}; it must be \"continue\" or \"stopAndFail\""),
                        format!(
                            "invalid value: {on_error:?}: Task step onError must be either \"continue\" or \"stopAndFail\""
                        ),
                    ),
                )
                .label("invalid onError");
            self.report_text(&at(path, "onError"), on_error, d);
        }
        if let Some(script) = &s.script
            && script.trim().starts_with("#!win")
        {
            self.need_alpha(
                &at(path, "script"),
                "windows script support",
                "a `#!win` script",
            );
        }
        if s.stdout_config.is_some() {
            self.need_alpha(
                &at(path, "stdoutConfig"),
                "step stdout stream support",
                "`stdoutConfig`",
            );
        }
        if s.stderr_config.is_some() {
            self.need_alpha(
                &at(path, "stderrConfig"),
                "step stderr stream support",
                "`stderrConfig`",
            );
        }
        self.step_artifacts(path, s);
        self.step_results(path, &who, &s.results);
        if !s.when.is_empty() {
            self.when_exprs(path, &s.when);
        }
        if !s.workspaces.is_empty() {
            self.need_beta(
                &at(path, "workspaces"),
                "step workspaces",
                "`workspaces` on a step",
            );
        }
    }

    /// 3.3: a step with `ref` takes its container from the StepAction.
    fn ref_conflicts(&mut self, path: &str, s: &Step, r: &Ref) {
        let target = match &r.name {
            Some(n) if !n.is_empty() => format!("StepAction {n:?}"),
            _ => "a StepAction".to_string(),
        };
        let fields: [(&str, &str, bool); 8] = [
            (
                "image",
                "image",
                s.image.as_deref().is_some_and(|x| !x.is_empty()),
            ),
            ("command", "command", !s.command.is_empty()),
            ("args", "args", !s.args.is_empty()),
            (
                "script",
                "script",
                s.script.as_deref().is_some_and(|x| !x.is_empty()),
            ),
            (
                "workingDir",
                "working dir",
                s.working_dir.as_deref().is_some_and(|x| !x.is_empty()),
            ),
            ("env", "env", !s.env.is_empty()),
            ("volumeMounts", "volumeMounts", !s.volume_mounts.is_empty()),
            ("results", "results", !s.results.is_empty()),
        ];
        for (field, theirs, set) in fields {
            if set {
                let d = Diagnostic::error(
                    codes::E112,
                    tekton(
                        format!("this step runs {target} (`ref`), so it cannot also set `{field}`"),
                        format!("{theirs} cannot be used with Ref"),
                    ),
                )
                .label(format!("`{field}` not allowed with `ref`"))
                .help(format!(
                    "remove `{field}`: the StepAction defines it; pass inputs with `params`"
                ));
                self.report(&at(path, field), d);
            }
        }
    }

    /// 3.3: volume mounts of a step or the step template.
    fn volume_mounts(&mut self, path: &str, mounts: &[VolumeMount]) {
        for (j, vm) in mounts.iter().enumerate() {
            let mpath = at(path, &format!("volumeMounts[{j}]"));
            let clean = names::clean_path(&vm.mount_path);
            if clean.starts_with("/tekton/") && !clean.starts_with("/tekton/home") {
                let d = Diagnostic::error(
                    codes::E115,
                    tekton(
                        format!(
                            "volume {:?} is mounted at {:?}, inside /tekton/, which Tekton reserves for itself",
                            vm.name, vm.mount_path
                        ),
                        format!(
                            "volumeMount cannot be mounted under /tekton/ (volumeMount {:?} mounted at {:?})",
                            vm.name, vm.mount_path
                        ),
                    ),
                )
                .label("reserved path")
                .help("mount it somewhere else (only /tekton/home may be used)");
                self.report_text(&at(&mpath, "mountPath"), &vm.mount_path, d);
            }
            if vm.name.starts_with("tekton-internal-") {
                let d = Diagnostic::error(
                    codes::E115,
                    tekton(
                        format!(
                            "volume mount name {:?} uses the prefix \"tekton-internal-\", which Tekton reserves for itself",
                            vm.name
                        ),
                        format!("volumeMount name {:?} cannot start with \"tekton-internal-\"", vm.name),
                    ),
                )
                .label("reserved name");
                self.report_text(&at(&mpath, "name"), &vm.name, d);
            }
        }
    }

    /// E405: artifact references in a step's script, command, args and env values.
    fn step_artifacts(&mut self, path: &str, s: &Step) {
        let mut texts: Vec<(String, &str)> = Vec::new();
        if let Some(x) = &s.script {
            texts.push((at(path, "script"), x));
        }
        for (i, x) in s.command.iter().enumerate() {
            texts.push((at(path, &format!("command[{i}]")), x));
        }
        for (i, x) in s.args.iter().enumerate() {
            texts.push((at(path, &format!("args[{i}]")), x));
        }
        for (i, e) in s.env.iter().enumerate() {
            if let Some(v) = &e.value {
                texts.push((at(path, &format!("env[{i}].value")), v));
            }
        }
        for (p, text) in texts {
            if let Some(found) = super::gates::artifact_ref(text, true, true) {
                self.need_artifacts(&p, &found);
                return;
            }
        }
    }

    /// 3.3/3.5: a step's (or StepAction's) own results.
    fn step_results(&mut self, path: &str, who: &str, results: &[StepResult]) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, r) in results.iter().enumerate() {
            let rpath = at(path, &format!("results[{i}]"));
            if let Some(&first) = seen.get(r.name.as_str()) {
                let d = Diagnostic::error(
                    codes::E118,
                    format!(
                        "{who} declares the result {:?} twice; both would write the same file",
                        r.name
                    ),
                )
                .label("declared again here")
                .secondary(
                    self.span_of(&at(path, &format!("results[{first}]"))),
                    "first declared here",
                );
                let first = at(path, &format!("results[{first}]"));
                self.report_dup(&at(&rpath, "name"), &rpath, &first, &r.name, d);
            } else {
                seen.insert(&r.name, i);
            }
            if !self.result_name(&rpath, &r.name) {
                continue;
            }
            // Step results are not defaulted: only an explicit `type: object` is checked.
            if r.type_ == Some(ParamType::Object) {
                self.properties(
                    &rpath,
                    &r.name,
                    "result",
                    ParamType::Object,
                    r.properties.as_ref(),
                    true,
                );
            }
        }
    }

    /// E117: a result name. True when valid.
    fn result_name(&mut self, rpath: &str, name: &str) -> bool {
        if names::is_result_name(name) {
            return true;
        }
        let d = Diagnostic::error(
            codes::E117,
            tekton(
                format!("result name {name:?} is not valid: use letters, digits, '-', '_' and '.', starting and ending with a letter or digit"),
                format!("invalid key name {name:?}"),
            ),
        )
        .label("invalid result name")
        .note(format!("Tekton's pattern for result names is '{}'", names::RESULT_NAME_FORMAT));
        self.report_text(&at(rpath, "name"), name, d);
        false
    }

    fn sidecar(&mut self, path: &str, sc: &Sidecar) {
        let who = if sc.name.is_empty() {
            "this sidecar".to_string()
        } else {
            format!("sidecar {:?}", sc.name)
        };
        self.env_names(path, &sc.env);
        self.resource_quantities(path, sc.compute_resources.as_ref());
        if sc.name == RESERVED_SIDECAR {
            let d = Diagnostic::error(
                codes::E108,
                tekton(
                    format!("the sidecar name {RESERVED_SIDECAR:?} is reserved by Tekton"),
                    format!("Invalid: cannot use reserved sidecar name {RESERVED_SIDECAR}"),
                ),
            )
            .label("reserved name")
            .help("choose another name");
            self.report_text(&at(path, "name"), &sc.name, d);
        } else if !sc.name.is_empty() && !names::is_dns1123_label(&sc.name) {
            let mut d = Diagnostic::error(
                codes::E108,
                format!(
                    "sidecar name {:?} is not a valid DNS-1123 label (lower-case letters, digits and '-', at most 63 characters); the pod's container could not be created",
                    sc.name
                ),
            )
            .label("invalid sidecar name");
            if let Some(sug) = names::suggest_label(&sc.name) {
                d = d.help(format!("try {sug:?}"));
            }
            self.report_text(&at(path, "name"), &sc.name, d);
        }
        if sc.image.as_deref().is_none_or(str::is_empty) {
            let d = Diagnostic::error(
                codes::E110,
                tekton(format!("{who} has no image"), "missing field(s): image"),
            )
            .label("no image")
            .help("set `image` on the sidecar");
            self.report(&at(path, "image"), d);
        }
        if let Some(i) = sc.image.as_deref() {
            self.image(&at(path, "image"), i);
        }
        if sc.script.as_deref().is_some_and(|x| !x.is_empty()) && !sc.command.is_empty() {
            let d = Diagnostic::error(
                codes::E111,
                format!("{who} sets both `script` and `command` (Tekton: script cannot be used with command)"),
            )
            .label("`script` here")
            .help("put the command into the script, or drop `script` and use `command`/`args`");
            self.report(&at(path, "script"), d);
        }
        if !sc.workspaces.is_empty() {
            self.need_beta(
                &at(path, "workspaces"),
                "sidecar workspaces",
                "`workspaces` on a sidecar",
            );
        }
    }

    /// 3.5: task results.
    fn task_results(&mut self, base: &str, results: &[TaskResult]) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, r) in results.iter().enumerate() {
            let rpath = at(base, &format!("results[{i}]"));
            if let Some(&first) = seen.get(r.name.as_str()) {
                let d = Diagnostic::error(
                    codes::E118,
                    format!(
                        "the task declares the result {:?} twice; both would write the same file",
                        r.name
                    ),
                )
                .label("declared again here")
                .secondary(
                    self.span_of(&at(base, &format!("results[{first}]"))),
                    "first declared here",
                );
                let first = at(base, &format!("results[{first}]"));
                self.report_dup(&at(&rpath, "name"), &rpath, &first, &r.name, d);
            } else {
                seen.insert(&r.name, i);
            }
            if !self.result_name(&rpath, &r.name) {
                continue;
            }
            let ty = r.effective_type();
            if ty == ParamType::Object {
                self.properties(&rpath, &r.name, "result", ty, r.properties.as_ref(), true);
            }
            if let Some(v) = &r.value {
                self.task_result_value(&rpath, &r.name, v);
            }
        }
    }

    fn task_result_value(&mut self, rpath: &str, name: &str, v: &crate::model::ParamValue) {
        let vpath = at(rpath, "value");
        let Some(s) = v.as_str() else {
            let d = Diagnostic::error(
                codes::E119,
                tekton(
                    format!(
                        "the value of result {name:?} must be a string of the form $(steps.<step>.results.<result>), not an {}",
                        v.type_name()
                    ),
                    format!("Invalid Type. Wanted string but got: \"{}\"", v.type_name()),
                ),
            );
            self.report(&vpath, d);
            return;
        };
        if s.is_empty() {
            return;
        }
        match extract_step_result(s) {
            None => {
                let d = Diagnostic::error(
                    codes::E119,
                    tekton(
                        format!("the value of result {name:?} must refer to a step result: $(steps.<step>.results.<result>)"),
                        format!("Could not extract step name and result name. Expected value to look like $(steps.<stepName>.results.<resultName>) but got {s:?}"),
                    ),
                )
                .label("not a step result reference");
                self.report_text(&vpath, s, d);
            }
            Some((step, result)) => {
                if !names::is_dns1123_label(step) {
                    let d = Diagnostic::error(
                        codes::E119,
                        tekton(
                            format!(
                                "the value of result {name:?} names the step {step:?}, which is not a valid step name"
                            ),
                            format!("invalid extracted step name {step:?}"),
                        ),
                    );
                    self.report_text(&vpath, s, d);
                }
                if !names::is_result_name(result) {
                    let d = Diagnostic::error(
                        codes::E119,
                        tekton(
                            format!(
                                "the value of result {name:?} names the step result {result:?}, which is not a valid result name"
                            ),
                            format!("invalid extracted result name {result:?}"),
                        ),
                    );
                    self.report_text(&vpath, s, d);
                }
            }
        }
    }

    /// 3.8: when expressions at `{path}.when`.
    pub(super) fn when_exprs(&mut self, path: &str, whens: &[WhenExpression]) {
        for (i, w) in whens.iter().enumerate() {
            let wpath = at(path, &format!("when[{i}]"));
            let input = w.input.as_deref().unwrap_or("");
            let op = w.operator.as_deref().unwrap_or("");
            if let Some(cel) = w.cel.as_deref().filter(|c| !c.is_empty()) {
                self.need_cel(&at(&wpath, "cel"), cel);
                if !input.is_empty() || !op.is_empty() || !w.values.is_empty() {
                    let d = Diagnostic::error(
                        codes::E131,
                        tekton(
                            "a when expression has both `cel` and `input`/`operator`/`values`",
                            "cel and input+operator+values cannot be set in one WhenExpression",
                        ),
                    )
                    .help("split it into two when expressions");
                    self.report(&wpath, d);
                }
                continue;
            }
            if input.is_empty() && op.is_empty() && w.values.is_empty() {
                let d = Diagnostic::error(codes::E131, tekton("this when expression is empty", "missing field(s)"))
                    .help("write `when_in(input, [values])`, `when_notin(input, [values])` or `cel(\"...\")`");
                self.report(&wpath, d);
                continue;
            }
            if op != "in" && op != "notin" {
                let mut d = Diagnostic::error(
                    codes::E131,
                    tekton(
                        format!("when operator {op:?} is not \"in\" or \"notin\""),
                        format!("operator {op:?} is not recognized. valid operators: in,notin"),
                    ),
                )
                .label("unknown operator");
                if let Some(s) = crate::diag::suggest::did_you_mean(op, ["in", "notin"]) {
                    d = d.help(format!("did you mean {s:?}? (operators are lower case)"));
                }
                self.report_text(&at(&wpath, "operator"), op, d);
                continue;
            }
            if w.values.is_empty() {
                let d = Diagnostic::error(
                    codes::E131,
                    tekton(
                        "this when expression has no values to compare with",
                        "expecting non-empty values field",
                    ),
                )
                .help("list at least one value");
                self.report(&at(&wpath, "values"), d);
            }
        }
    }

    /// E144: an image reference Kubernetes would reject at pod creation.
    fn image(&mut self, path: &str, image: &str) {
        if image.is_empty() {
            return;
        }
        if let Some(problem) = super::image::problem(image) {
            let mut d = Diagnostic::error(
                codes::E144,
                format!("invalid image reference `{image}`: {problem}"),
            )
            .label("invalid image reference");
            if image.contains("${") {
                d = d.help("double-quoted Rhai strings do not interpolate: write the image in a backtick string (`${registry}/tool:1.0` in backticks) or join it with `+`");
            }
            self.report_text(path, image, d);
        }
    }

    /// 3.11: a StepAction's spec.
    pub(super) fn step_action(&mut self, spec: &StepActionSpec) {
        self.env_names("spec", &spec.env);
        if spec.image.as_deref().is_none_or(str::is_empty) {
            let d = Diagnostic::error(
                codes::E110,
                tekton("this StepAction has no image", "missing field(s): Image"),
            )
            .label("no image")
            .help("set `image`");
            self.report("spec.image", d);
        }
        if let Some(i) = spec.image.as_deref() {
            self.image("spec.image", i);
        }
        if let Some(script) = spec.script.as_deref().filter(|s| !s.is_empty()) {
            if !spec.command.is_empty() {
                let d = Diagnostic::error(
                    codes::E111,
                    "this StepAction sets both `script` and `command` (Tekton: script cannot be used with command)",
                )
                .help("put the command into the script, or drop `script` and use `command`/`args`");
                self.report("spec.script", d);
            }
            if script.trim().starts_with("#!win") {
                self.need_alpha("spec.script", "windows script support", "a `#!win` script");
            }
            if let Some(found) = param_ref_in_script(script) {
                let d = Diagnostic::error(
                    codes::E141,
                    tekton(
                        format!("the StepAction script uses `{found}`; params cannot be substituted into a StepAction's script"),
                        "param substitution in scripts is not allowed.",
                    ),
                )
                .label("param in script")
                .help("pass the param through an environment variable: `env: #{ NAME: \"$(params.name)\" }`, then use `$NAME` in the script");
                self.report_text("spec.script", &found, d);
            }
        }
        self.param_specs("spec", &spec.params);
        self.step_results("spec", "this StepAction", &spec.results);
        for (i, vm) in spec.volume_mounts.iter().enumerate() {
            if !is_single_param_ref(&vm.name) {
                let d = Diagnostic::error(
                    codes::E142,
                    tekton(
                        format!("StepAction volume mount name {:?} must be exactly one param reference such as \"$(params.volume)\"", vm.name),
                        format!("invalid value: {}: expect the Name to be a single param reference", vm.name),
                    ),
                )
                .help("declare a param for the volume name and use `name: \"$(params.<param>)\"`; the task that uses the StepAction passes the volume's name");
                self.report(&format!("spec.volumeMounts[{i}].name"), d);
                break;
            }
        }
    }

    /// E114: a duration that must parse and be ≥ 0 (`step`: Tekton's step wording). Returns the
    /// parsed value when it parses.
    pub(super) fn duration_not_negative(
        &mut self,
        path: &str,
        text: &str,
        what: &str,
        step: bool,
    ) -> Option<i64> {
        match parse_duration(text) {
            Err(e) => {
                let d = Diagnostic::error(
                    codes::E114,
                    format!("{what} {text:?} is not a duration: {e}"),
                )
                .help("write a Go duration such as \"90s\", \"10m\" or \"1h30m\"");
                self.report_text(path, text, d);
                None
            }
            Ok(n) if n < 0 => {
                let go = crate::model::format_duration(n);
                let theirs = if step {
                    format!("invalid value: {go}: negative timeout")
                } else {
                    format!("invalid value: {go} should be >= 0")
                };
                let d = Diagnostic::error(
                    codes::E114,
                    tekton(format!("{what} {text:?} is negative"), theirs),
                )
                .label("negative duration")
                .help("use a positive duration, or \"0\" for no timeout");
                self.report_text(path, text, d);
                Some(n)
            }
            Ok(n) => Some(n),
        }
    }
}

/// Tekton's `ExtractStepResultName`: the first `$(steps.<a>.results.<b>)` (lazy, within one line).
pub(super) fn extract_step_result(s: &str) -> Option<(&str, &str)> {
    let mut from = 0;
    while let Some(i) = s[from..].find("$(steps.") {
        let start = from + i + "$(steps.".len();
        from = start;
        let rest = &s[start..];
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        let Some(j) = line.find(".results.") else {
            continue;
        };
        let after = &line[j + ".results.".len()..];
        let Some(k) = after.find(')') else { continue };
        return Some((&line[..j], &after[..k]));
    }
    None
}

/// The first `$(params…)` reference in a script, as Tekton's `ExtractVariablesFromString(script,
/// "params")` finds them (dot or bracket form, closed on the same line).
fn param_ref_in_script(s: &str) -> Option<String> {
    let mut from = 0;
    while let Some(i) = s[from..].find("$(params") {
        let start = from + i;
        from = start + 2;
        let rest = &s[start + "$(params".len()..];
        let ok = rest.starts_with('.') || rest.starts_with("[\"") || rest.starts_with("['");
        if !ok {
            continue;
        }
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        if let Some(end) = line.find(')') {
            return Some(s[start..start + "$(params".len() + end + 1].to_string());
        }
    }
    None
}

/// `$(params.x)` (or a bracket form) and nothing else.
fn is_single_param_ref(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("$(params") else {
        return false;
    };
    if !(rest.starts_with('.') || rest.starts_with("[\"") || rest.starts_with("['")) {
        return false;
    }
    match rest.find(')') {
        Some(end) => end == rest.len() - 1 && end > 1 && !rest[..end].contains('\n'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_result_extraction() {
        assert_eq!(
            extract_step_result("$(steps.build.results.digest)"),
            Some(("build", "digest"))
        );
        assert_eq!(
            extract_step_result("x $(steps.a.b.results.c.d) y"),
            Some(("a.b", "c.d"))
        );
        assert_eq!(extract_step_result("$(steps.a.result.b)"), None);
        assert_eq!(extract_step_result("$(steps.a\n.results.b)"), None);
        assert_eq!(extract_step_result("$(tasks.a.results.b)"), None);
    }

    #[test]
    fn params_in_scripts() {
        assert_eq!(
            param_ref_in_script("echo $(params.a)").as_deref(),
            Some("$(params.a)")
        );
        assert_eq!(
            param_ref_in_script("echo $(params[\"a.b\"])").as_deref(),
            Some("$(params[\"a.b\"])")
        );
        assert_eq!(
            param_ref_in_script("echo $PARAMS $(paramsx) $(params)"),
            None
        );
        assert_eq!(param_ref_in_script("echo $(params.a\n)"), None);
    }

    #[test]
    fn single_param_references() {
        assert!(is_single_param_ref("$(params.vol)"));
        assert!(is_single_param_ref("$(params['vol'])"));
        assert!(!is_single_param_ref("vol"));
        assert!(!is_single_param_ref("$(params.vol)-x"));
        assert!(!is_single_param_ref("x-$(params.vol)"));
        assert!(!is_single_param_ref("$(params.)"));
    }
}
