//! Params a step passes to a StepAction of the same bundle (`ref: { name }` + `params`): each must be
//! declared by the StepAction (E217), every param without a default must be passed (E218), and literal
//! values must have the declared type (E219). Tekton finds these only when the TaskRun starts.

use super::Checker;
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::diag::suggest::did_you_mean;
use crate::model::{ParamValue, TaskSpec};

/// Checks the steps of `spec`, which lives at `prefix` (`spec`, `spec.tasks[0].taskSpec`, …).
pub(super) fn check(c: &mut Checker, prefix: &str, spec: &TaskSpec) {
    for (i, step) in spec.steps.iter().enumerate() {
        let Some(action) = c.index.step_action(step) else {
            continue;
        };
        let name = step
            .ref_
            .as_ref()
            .and_then(|r| r.name.as_deref())
            .unwrap_or_default();
        let step_path = format!("{prefix}.steps[{i}]");
        let declared: Vec<&str> = action.params.iter().map(|p| p.name.as_str()).collect();
        for (j, passed) in step.params.iter().enumerate() {
            let path = format!("{step_path}.params[{j}]");
            match action.params.iter().find(|p| p.name == passed.name) {
                None => {
                    let mut d = Diagnostic::error(
                        codes::E217,
                        format!("StepAction `{name}` has no param `{}`", passed.name),
                    )
                    .label("not declared by the StepAction");
                    d = match did_you_mean(&passed.name, declared.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None if declared.is_empty() => {
                            d.help(format!("StepAction `{name}` declares no params"))
                        }
                        None => d.help(format!("its params are: {}", declared.join(", "))),
                    };
                    c.report_at(&path, &passed.name, d);
                }
                Some(decl) => {
                    let want = decl.effective_type();
                    let got = passed.value.param_type();
                    // a whole `$(params.x[*])`-style reference is typed at run time
                    let is_ref = matches!(&passed.value, ParamValue::String(s) if crate::expr::is_isolated(s));
                    if want != got && !is_ref {
                        let d = Diagnostic::error(
                            codes::E219,
                            format!(
                                "param `{}` of StepAction `{name}` is {} {}, but the step passes {} {}",
                                passed.name,
                                article(want.as_str()),
                                want.as_str(),
                                article(got.as_str()),
                                got.as_str()
                            ),
                        )
                        .note("Tekton (when the TaskRun starts): param types don't match the user-specified type")
                        .help(format!("pass {} {}", article(want.as_str()), want.as_str()));
                        c.report_at(&path, &passed.name, d);
                    }
                }
            }
        }
        let missing: Vec<&str> = action
            .params
            .iter()
            .filter(|p| p.default.is_none() && !step.params.iter().any(|s| s.name == p.name))
            .map(|p| p.name.as_str())
            .collect();
        if !missing.is_empty() {
            let names = missing
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let d = Diagnostic::error(
                codes::E218,
                format!("the step does not pass {names}, which StepAction `{name}` requires (no default)"),
            )
            .note("Tekton (when the TaskRun starts): missing values for these params which have no default values")
            .help(format!("add `params: #{{ {}: … }}` to the step", missing[0]));
            c.report(&step_path, d);
        }
    }
}

fn article(t: &str) -> &'static str {
    if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// `stepSpecs` / `sidecarSpecs` of a TaskRun (at `path`) must name steps and sidecars of the task that
/// runs (Tekton: `invalid StepOverride: No Step named <s>`, found only when the TaskRun starts).
pub(super) fn check_overrides(
    c: &mut Checker,
    path: &str,
    spec: &TaskSpec,
    step_specs: &[crate::model::TaskRunStepSpec],
    sidecar_specs: &[crate::model::TaskRunSidecarSpec],
) {
    let steps: Vec<&str> = spec.steps.iter().map(|s| s.name.as_str()).collect();
    let sidecars: Vec<&str> = spec.sidecars.iter().map(|s| s.name.as_str()).collect();
    let lists: [(&str, &str, Vec<&str>, &[&str]); 2] = [
        (
            "stepSpecs",
            "step",
            step_specs.iter().map(|s| s.name.as_str()).collect(),
            &steps,
        ),
        (
            "sidecarSpecs",
            "sidecar",
            sidecar_specs.iter().map(|s| s.name.as_str()).collect(),
            &sidecars,
        ),
    ];
    for (field, what, names, known) in lists {
        for (i, n) in names.iter().enumerate() {
            if known.contains(n) {
                continue;
            }
            let mut d =
                Diagnostic::error(codes::E227, format!("the task has no {what} named `{n}`"))
                    .label(format!("no such {what}"))
                    .note(format!(
                        "Tekton (when the TaskRun starts): invalid {}Override: No {} named {n}",
                        if what == "step" { "Step" } else { "Sidecar" },
                        if what == "step" { "Step" } else { "Sidecar" }
                    ));
            d = match did_you_mean(n, known.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!("its {what}s are: {}", known.join(", "))),
            };
            c.report_at(&format!("{path}.{field}[{i}]"), n, d);
        }
    }
}
