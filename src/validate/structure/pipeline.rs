//! 3.4–3.9: a PipelineSpec (a Pipeline, a PipelineRun's `pipelineSpec`, a pipeline task's
//! `pipelineSpec`): workspaces, pipeline tasks, references, matrix, results.

use super::{Checker, at, names, tekton};
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::model::{Matrix, Param, ParamValue, PipelineResult, PipelineSpec, PipelineTask};
use std::collections::HashMap;

/// Tekton's `default-max-matrix-combinations-count`.
const MAX_MATRIX_COMBINATIONS: usize = 256;

impl Checker<'_, '_> {
    pub(super) fn pipeline_spec(&mut self, base: &str, spec: &PipelineSpec) {
        if *spec == PipelineSpec::default() {
            let d = Diagnostic::error(
                codes::E129,
                tekton("this pipeline is empty", "expected at least one, got none"),
            )
            .label("empty pipeline")
            .help("add a task with `p.task(\"name\", t)`");
            self.report(base, d);
            return;
        }
        self.param_specs(base, &spec.params);
        self.pipeline_workspaces(base, spec);
        let mut seen: HashMap<&str, String> = HashMap::new();
        for (list, tasks) in [("tasks", &spec.tasks), ("finally", &spec.finally)] {
            for (i, pt) in tasks.iter().enumerate() {
                let path = at(base, &format!("{list}[{i}]"));
                if !names::is_dns1123_label(&pt.name) {
                    let mut d = Diagnostic::error(
                        codes::E125,
                        tekton(
                            format!("pipeline task name {:?} is not a valid DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit)", pt.name),
                            format!("invalid value {:?}: Pipeline Task name must be a valid DNS Label.", pt.name),
                        ),
                    )
                    .label("invalid task name");
                    if let Some(s) = names::suggest_label(&pt.name) {
                        d = d.help(format!("try {s:?}"));
                    }
                    self.report_text(&at(&path, "name"), &pt.name, d);
                }
                if let Some(first) = seen.get(pt.name.as_str()) {
                    let d = Diagnostic::error(
                        codes::E126,
                        tekton(
                            format!("two pipeline tasks are named {:?}", pt.name),
                            "expected exactly one, got both",
                        ),
                    )
                    .label("second task with this name")
                    .secondary(self.span_of(first), "first task with this name")
                    .help("names must be unique over `tasks` and `finally`");
                    let first = first.clone();
                    self.report_dup(&at(&path, "name"), &path, &first, &pt.name, d);
                } else {
                    seen.insert(&pt.name, path.clone());
                }
                self.pipeline_task(&path, pt);
            }
        }
        if !spec.finally.is_empty() && spec.tasks.is_empty() {
            let d = Diagnostic::error(
                codes::E129,
                tekton(
                    "this pipeline has `finally` tasks but no other tasks",
                    format!(
                        "spec.tasks is empty but spec.finally has {} tasks",
                        spec.finally.len()
                    ),
                ),
            )
            .help("add the work as normal tasks (`p.task(..)`); `finally` tasks run after them");
            self.report(&at(base, "finally[0]"), d);
        }
        self.pipeline_results(base, &spec.results);
    }

    fn pipeline_workspaces(&mut self, base: &str, spec: &PipelineSpec) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, w) in spec.workspaces.iter().enumerate() {
            let path = at(base, &format!("workspaces[{i}]"));
            if w.name.is_empty() {
                let d = Diagnostic::error(
                    codes::E120,
                    tekton(
                        format!("pipeline workspace {i} has no name"),
                        format!("workspace {i} has empty name"),
                    ),
                );
                self.report(&path, d);
            }
            if let Some(&first) = seen.get(w.name.as_str()) {
                let d = Diagnostic::error(
                    codes::E120,
                    tekton(
                        format!("pipeline workspace {:?} is declared more than once", w.name),
                        format!("workspace with name {:?} appears more than once", w.name),
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
        }
    }

    fn pipeline_task(&mut self, path: &str, pt: &PipelineTask) {
        // exactly one of taskRef / taskSpec / pipelineRef / pipelineSpec
        let mut set = Vec::new();
        if pt.task_ref.is_some() {
            set.push("taskRef");
        }
        if pt.task_spec.is_some() {
            set.push("taskSpec");
        }
        if pt.pipeline_ref.is_some() {
            self.need_alpha(
                &at(path, "pipelineRef"),
                "pipelineRef",
                "a pipeline inside a pipeline (`pipelineRef`)",
            );
            set.push("pipelineRef");
        }
        if pt.pipeline_spec.is_some() {
            self.need_alpha(
                &at(path, "pipelineSpec"),
                "pipelineSpec",
                "a pipeline inside a pipeline (`pipelineSpec`)",
            );
            set.push("pipelineSpec");
        }
        if set.len() > 1 {
            let d = Diagnostic::error(
                codes::E127,
                tekton(
                    format!(
                        "pipeline task {:?} sets {}; it must run exactly one task or pipeline",
                        pt.name,
                        set.join(" and ")
                    ),
                    format!("expected exactly one, got multiple: {}", set.join(", ")),
                ),
            );
            self.report(path, d);
        } else if set.is_empty() {
            let fields = if self.gates().api_fields == crate::validate::Stability::Alpha {
                "taskRef, taskSpec, pipelineRef, pipelineSpec"
            } else {
                "taskRef, taskSpec"
            };
            let d = Diagnostic::error(
                codes::E127,
                tekton(
                    format!(
                        "pipeline task {:?} has no task: set `taskRef` or `taskSpec`",
                        pt.name
                    ),
                    format!("expected exactly one, got neither: {fields}"),
                ),
            );
            self.report(path, d);
        }
        // an embedded task with steps is a Tekton task: no apiVersion/kind
        if let Some(ts) = &pt.task_spec
            && !ts.steps.is_empty()
        {
            for (field, v) in [("apiVersion", &ts.api_version), ("kind", &ts.kind)] {
                if v.as_deref().is_some_and(|x| !x.is_empty()) {
                    let d = Diagnostic::error(
                        codes::E128,
                        tekton(
                            format!(
                                "the embedded task of {:?} has steps, so it cannot set `{field}` (only custom tasks do)",
                                pt.name
                            ),
                            format!(
                                "taskSpec.{field} cannot be specified when using taskSpec.steps"
                            ),
                        ),
                    );
                    self.report(&at(path, &format!("taskSpec.{field}")), d);
                }
            }
        }
        // onError (beta)
        if let Some(on_error) = pt
            .on_error
            .as_deref()
            .filter(|v| !v.is_empty() && !v.starts_with("$(params"))
        {
            let epath = at(path, "onError");
            self.need_beta(&epath, "OnError", "`onError` on a pipeline task");
            if on_error != "continue" && on_error != "stopAndFail" {
                let d = Diagnostic::error(
                    codes::E113,
                    tekton(
                        format!("pipeline task {:?} has onError {on_error:?}; it must be \"continue\" or \"stopAndFail\"", pt.name),
                        format!("invalid value: {on_error}: PipelineTask OnError must be either \"continue\" or \"stopAndFail\""),
                    ),
                )
                .label("invalid onError");
                self.report_text(&epath, on_error, d);
            }
            if on_error == "continue" && pt.retries.unwrap_or(0) > 0 {
                let d = Diagnostic::error(
                    codes::E113,
                    tekton(
                        format!("pipeline task {:?} both retries and continues on error", pt.name),
                        "PipelineTask OnError cannot be set to \"continue\" when Retries is greater than 0",
                    ),
                )
                .help("drop `retries`, or use `onError: \"stopAndFail\"`");
                self.report(&epath, d);
            }
        }
        // custom task, or Tekton task / pipeline
        let task_kind = |k: Option<&str>| matches!(k, None | Some("") | Some("Task"));
        let nonempty = |v: Option<&str>| v.is_some_and(|x| !x.is_empty());
        let custom =
            pt.task_ref.as_ref().is_some_and(|r| {
                !task_kind(r.kind.as_deref()) || nonempty(r.api_version.as_deref())
            }) || pt.task_spec.as_ref().is_some_and(|s| {
                !task_kind(s.kind.as_deref()) || nonempty(s.api_version.as_deref())
            });
        if custom {
            self.custom_task(path, pt);
            if let Some(r) = &pt.task_ref {
                if nonempty(r.resolver.as_deref()) {
                    self.need_beta(
                        &at(path, "taskRef.resolver"),
                        "taskref.resolver",
                        "`resolver`",
                    );
                }
                if !r.params.is_empty() {
                    self.need_beta(
                        &at(path, "taskRef.params"),
                        "taskref.params",
                        "resolver `params`",
                    );
                }
            }
        } else {
            if let Some(ts) = &pt.task_spec {
                self.task_spec(&at(path, "taskSpec"), &ts.to_task_spec());
            }
            if let Some(r) = &pt.task_ref {
                self.reference(
                    &at(path, "taskRef"),
                    r.name.as_deref(),
                    r.resolver.as_deref(),
                    &r.params,
                );
            }
            if let Some(r) = &pt.pipeline_ref {
                self.reference(
                    &at(path, "pipelineRef"),
                    r.name.as_deref(),
                    r.resolver.as_deref(),
                    &r.params,
                );
            }
            if let Some(ps) = &pt.pipeline_spec {
                self.pipeline_spec(&at(path, "pipelineSpec"), ps);
            }
        }
        self.param_values_unique(&at(path, "params"), &pt.params, false);
        self.matrix(path, pt);
        if !pt.when.is_empty() {
            self.when_exprs(path, &pt.when);
        }
        // workspace bindings: names unique
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, w) in pt.workspaces.iter().enumerate() {
            if seen.contains_key(w.name.as_str()) {
                let d = Diagnostic::error(
                    codes::E122,
                    tekton(
                        format!(
                            "pipeline task {:?} binds its workspace {:?} twice",
                            pt.name, w.name
                        ),
                        format!("workspace name {:?} must be unique", w.name),
                    ),
                )
                .help("bind each of the task's workspaces once");
                self.report(&at(path, &format!("workspaces[{i}].name")), d);
            } else {
                seen.insert(&w.name, i);
            }
        }
        if let Some(t) = &pt.timeout
            && let Err(e) = crate::model::parse_duration(t)
        {
            let d = Diagnostic::error(
                codes::E114,
                format!("pipeline task timeout {t:?} is not a duration: {e}"),
            )
            .help("write a Go duration such as \"90s\", \"10m\" or \"1h30m\"");
            self.report_text(&at(path, "timeout"), t, d);
        }
        // artifacts in params
        for (i, p) in pt.params.iter().enumerate() {
            if let Some(found) = p
                .value
                .strings()
                .into_iter()
                .find_map(|s| super::gates::artifact_ref(s, false, true))
            {
                self.need_artifacts(&at(path, &format!("params[{i}].value")), &found);
                break;
            }
        }
    }

    fn custom_task(&mut self, path: &str, pt: &PipelineTask) {
        if let Some(r) = &pt.task_ref {
            self.custom_part(
                path,
                &pt.name,
                "taskRef",
                "ref",
                r.api_version.as_deref(),
                r.kind.as_deref(),
            );
        }
        if let Some(s) = &pt.task_spec {
            self.custom_part(
                path,
                &pt.name,
                "taskSpec",
                "spec",
                s.api_version.as_deref(),
                s.kind.as_deref(),
            );
        }
    }

    fn custom_part(
        &mut self,
        path: &str,
        task: &str,
        field: &str,
        what: &str,
        api: Option<&str>,
        kind: Option<&str>,
    ) {
        let help = "a custom task needs `apiVersion` (\"group/version\") and `kind`: `custom_task(\"example.dev/v1\", \"Example\")`";
        if kind.is_none_or(str::is_empty) {
            let d = Diagnostic::error(
                codes::E128,
                tekton(
                    format!("custom task {task:?} has no `kind`"),
                    format!("invalid value: custom task {what} must specify kind"),
                ),
            )
            .help(help);
            self.report(&at(path, &format!("{field}.kind")), d);
        }
        match api.filter(|a| !a.is_empty()) {
            None => {
                let d = Diagnostic::error(
                    codes::E128,
                    tekton(
                        format!("custom task {task:?} has no `apiVersion`"),
                        format!("invalid value: custom task {what} must specify apiVersion"),
                    ),
                )
                .help(help);
                self.report(&at(path, &format!("{field}.apiVersion")), d);
            }
            Some(a) => {
                let parts: Vec<&str> = a.split('/').collect();
                if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                    let d = Diagnostic::error(
                        codes::E128,
                        tekton(
                            format!("custom task {task:?} has apiVersion {a:?}; it must be \"group/version\""),
                            format!("invalid value: invalid apiVersion format {a:?}, must be in the format \"group/version\""),
                        ),
                    )
                    .help(help);
                    self.report_text(&at(path, &format!("{field}.apiVersion")), a, d);
                }
            }
        }
    }

    /// 3.7: a taskRef, pipelineRef or step `ref` at `path`.
    pub(super) fn reference(
        &mut self,
        path: &str,
        name: Option<&str>,
        resolver: Option<&str>,
        params: &[Param],
    ) {
        let name = name.unwrap_or("");
        let resolver = resolver.unwrap_or("");
        let bad =
            |plain: String, theirs: &str| Diagnostic::error(codes::E130, tekton(plain, theirs));
        if !resolver.is_empty() || !params.is_empty() {
            if !params.is_empty() {
                if resolver.is_empty() {
                    // with a resolver, its gate below covers the params
                    self.need_beta(&at(path, "params"), "resolver params", "resolver `params`");
                }
                if !name.is_empty() {
                    let d = bad(
                        format!("this reference has both a `name` ({name:?}) and resolver `params`"),
                        "expected exactly one, got both: name, params",
                    )
                    .help("refer by `name` (an object in the cluster), or by `resolver` + `params`, not both");
                    self.report_text(&at(path, "name"), name, d);
                }
                if resolver.is_empty() {
                    let d = bad("this reference has resolver `params` but no `resolver`".into(), "missing field(s): resolver")
                        .help("set `resolver` (git, hub, bundles, cluster, http), e.g. with `from_git(..)` or `from_hub(..)`");
                    self.report(path, d);
                }
                self.param_values_unique(&at(path, "params"), params, true);
            }
            if !resolver.is_empty() {
                self.need_beta(&at(path, "resolver"), "resolver", "`resolver`");
                if !name.is_empty() {
                    if names::looks_like_url(name) {
                        self.need_concise_syntax(&at(path, "name"), name);
                    } else if params.is_empty() {
                        let d = bad(
                            format!("this reference has both a `resolver` ({resolver:?}) and a plain `name` ({name:?})"),
                            "invalid value: invalid URI for request",
                        )
                        .help("with a resolver, say what to fetch in its `params` (e.g. `name`, `url`, `pathInRepo`) and drop `name`");
                        self.report_text(&at(path, "name"), name, d);
                    }
                }
            }
        } else if !name.is_empty() {
            if names::looks_like_url(name) {
                self.need_concise_syntax(&at(path, "name"), name);
                let d = bad(
                    format!("reference name {name:?} is URL-like, which needs a `resolver`"),
                    "missing field(s): resolver",
                )
                .help("set `resolver`, or use a resolver function such as `from_git(..)`");
                self.report_text(&at(path, "name"), name, d);
            } else {
                let errs = names::qualified_name_errors(name);
                if !errs.is_empty() {
                    let d = bad(
                        format!("reference name {name:?} is not a valid Kubernetes name"),
                        &format!("invalid value: {}", errs.join(",")),
                    )
                    .label("invalid name");
                    self.report_text(&at(path, "name"), name, d);
                }
            }
        } else {
            let d = bad("this reference has neither a `name` nor a `resolver`".into(), "missing field(s): name")
                .help("name the task, pipeline or StepAction, or fetch it with a resolver (`from_git`, `from_hub`, `from_bundle`, …)");
            self.report(path, d);
        }
    }

    /// 3.9: matrix.
    fn matrix(&mut self, path: &str, pt: &PipelineTask) {
        let Some(m) = &pt.matrix else { return };
        let mpath = at(path, "matrix");
        if !m.params.is_empty() || !m.include.is_empty() {
            self.need_beta(&mpath, "matrix", "`matrix`");
            let n = count_combinations(m);
            if n > MAX_MATRIX_COMBINATIONS {
                let d = Diagnostic::error(
                    codes::E132,
                    tekton(
                        format!("the matrix of {:?} makes {n} combinations; Tekton allows at most {MAX_MATRIX_COMBINATIONS}", pt.name),
                        format!("expected 0 <= {n} <= {MAX_MATRIX_COMBINATIONS}"),
                    ),
                )
                .label("too many combinations")
                .note("the limit is the cluster's `default-max-matrix-combinations-count` (config map `config-defaults`, 256 by default)")
                .help("split the matrix over several pipeline tasks, or shorten the lists");
                self.report(&mpath, d);
            }
            for (i, inc) in m.include.iter().enumerate() {
                self.param_values_unique(
                    &at(&mpath, &format!("include[{i}].params")),
                    &inc.params,
                    false,
                );
            }
            self.param_values_unique(&at(&mpath, "params"), &m.params, false);
        }
        let matrix_names: Vec<&str> = m
            .params
            .iter()
            .chain(m.include.iter().flat_map(|i| i.params.iter()))
            .map(|p| p.name.as_str())
            .collect();
        for (i, p) in pt.params.iter().enumerate() {
            if matrix_names.contains(&p.name.as_str()) {
                let d = Diagnostic::error(
                    codes::E134,
                    tekton(
                        format!("param {:?} of {:?} is given both in `params` and in the matrix", p.name, pt.name),
                        format!("expected exactly one, got both: matrix[{}], params[{}]", p.name, p.name),
                    ),
                )
                .help("give it in one place: in `matrix` to fan out over its values, in `params` otherwise");
                self.report(&at(path, &format!("params[{i}].name")), d);
            }
        }
    }

    /// 3.5: pipeline results.
    fn pipeline_results(&mut self, base: &str, results: &[PipelineResult]) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, r) in results.iter().enumerate() {
            let rpath = at(base, &format!("results[{i}]"));
            if let Some(&first) = seen.get(r.name.as_str()) {
                let d = Diagnostic::error(
                    codes::E118,
                    format!("the pipeline declares the result {:?} twice", r.name),
                )
                .label("declared again here")
                .secondary(
                    self.span_of(&at(base, &format!("results[{first}]"))),
                    "first declared here",
                );
                self.report(&at(&rpath, "name"), d);
            } else {
                seen.insert(&r.name, i);
            }
            self.pipeline_result_value(&rpath, r);
        }
    }

    fn pipeline_result_value(&mut self, rpath: &str, r: &PipelineResult) {
        let vpath = at(rpath, "value");
        let texts: Vec<&str> = r.value.strings();
        let exprs: Vec<&str> = texts.iter().flat_map(|s| var_exprs(s)).collect();
        let help = "use task results: `p.result(\"digest\", build.result(\"digest\"))` gives \"$(tasks.build.results.digest)\"";
        if exprs.is_empty() {
            let d = Diagnostic::error(
                codes::E124,
                tekton(
                    format!("pipeline result {:?} must be made of task result references such as \"$(tasks.build.results.digest)\", but its value has none", r.name),
                    "expected pipeline results to be task result expressions but no expressions were found",
                ),
            )
            .help(help);
            self.report(&vpath, d);
            return;
        }
        if !exprs.iter().any(|e| looks_like_result_ref(e)) {
            let d = Diagnostic::error(
                codes::E124,
                tekton(
                    format!("pipeline result {:?} must refer to task results ($(tasks.<task>.results.<result>) or $(finally.<task>.results.<result>)), but {} does not", r.name, exprs.iter().map(|e| format!("$({e})")).collect::<Vec<_>>().join(", ")),
                    "expected pipeline results to be task result expressions but an invalid expressions was found",
                ),
            )
            .help(help);
            self.report_text(&vpath, &format!("$({})", exprs[0]), d);
            return;
        }
        let refs: Vec<&str> = exprs
            .iter()
            .copied()
            .filter(|e| looks_like_result_ref(e))
            .collect();
        let unparsable: Vec<&str> = refs
            .iter()
            .copied()
            .filter(|e| !parses_as_result_ref(e))
            .collect();
        if !unparsable.is_empty() {
            let d = Diagnostic::error(
                codes::E124,
                tekton(
                    format!(
                        "{} is not a task result reference: it must be $(tasks.<task>.results.<result>), with at most one `.<key>` or `[i]` after it",
                        unparsable
                            .iter()
                            .map(|e| format!("$({e})"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    format!(
                        "expected all of the expressions {} to be result expressions",
                        super::go_list(&refs)
                    ),
                ),
            );
            self.report_text(&vpath, &format!("$({})", unparsable[0]), d);
            return;
        }
        if let ParamValue::String(s) = &r.value
            && let Some(seg) = s
                .split('$')
                .find(|seg| !seg.is_empty() && !parses_as_result_ref(strip_var(&format!("${seg}"))))
        {
            let shown = if s.starts_with(seg) {
                seg.to_string()
            } else {
                format!("${seg}")
            };
            let d = Diagnostic::error(
                    codes::E124,
                    tekton(
                        format!("pipeline result {:?} has text Tekton cannot read as a task result reference ({shown:?}); Tekton only accepts a value that starts with a reference and has no other `$`", r.name),
                        "invalid value: referencing a nonexistent task",
                    ),
                )
                .help("make the value only the reference(s), and add any text in the task that produces the result");
            self.report_text(&vpath, &shown, d);
        }
    }
}

/// Tekton's `CountCombinations`.
fn count_combinations(m: &Matrix) -> usize {
    let mut count: usize = 0;
    if !m.params.is_empty() {
        count = 1;
        for p in &m.params {
            if let Some(a) = p.value.as_array()
                && !a.is_empty()
            {
                count = count.saturating_mul(a.len());
            }
        }
    }
    let include = if m.include.is_empty() {
        0
    } else if m.params.is_empty() {
        m.include.len()
    } else {
        let values: HashMap<&str, &[String]> = m
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_array().unwrap_or(&[])))
            .collect();
        let mut n: usize = 0;
        for inc in &m.include {
            for p in &inc.params {
                if let Some(vals) = values.get(p.name.as_str()) {
                    let v = p.value.as_str().unwrap_or("");
                    if !vals.iter().any(|x| x == v) {
                        n = n.saturating_add(1);
                    } else {
                        break;
                    }
                }
            }
        }
        n
    };
    count.saturating_add(include)
}

/// The insides of every `$(…)` matched by Tekton's `VariableSubstitutionRegex`
/// (`\$\([_a-zA-Z0-9.-]+(\.[_a-zA-Z0-9.-]+)*(\[([0-9]+|\*)\])?\)`).
pub(super) fn var_exprs(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'$' || b[i + 1] != b'(' {
            i += 1;
            continue;
        }
        let start = i + 2;
        let mut j = start;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'.' | b'-')) {
            j += 1;
        }
        if j == start {
            i += 1;
            continue;
        }
        let mut k = j;
        if k < b.len() && b[k] == b'[' {
            let mut m = k + 1;
            if m < b.len() && b[m] == b'*' {
                m += 1;
            } else {
                while m < b.len() && b[m].is_ascii_digit() {
                    m += 1;
                }
            }
            if m > k + 1 && m < b.len() && b[m] == b']' {
                k = m + 1;
            }
        }
        if k < b.len() && b[k] == b')' {
            out.push(&s[start..k]);
            i = k + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Tekton's `LooksLikeResultRef`.
fn looks_like_result_ref(e: &str) -> bool {
    let parts: Vec<&str> = e.split('.').collect();
    parts.len() >= 4 && (parts[0] == "tasks" || parts[0] == "finally") && parts[2] == "results"
}

/// Tekton's `ParseTaskExpression` succeeds.
fn parses_as_result_ref(e: &str) -> bool {
    looks_like_result_ref(e) && matches!(e.split('.').count(), 4 | 5)
}

/// Tekton's `stripVarSubExpression`.
fn strip_var(s: &str) -> &str {
    let s = s.strip_prefix("$(").unwrap_or(s);
    s.strip_suffix(')').unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IncludeParams;

    #[test]
    fn substitution_expressions() {
        assert_eq!(var_exprs("$(tasks.a.results.b)"), vec!["tasks.a.results.b"]);
        assert_eq!(
            var_exprs("x $(a) $(b[1]) $(c[*]) $(d[x])"),
            vec!["a", "b[1]", "c[*]"]
        );
        assert_eq!(var_exprs("$(echo hi) $() $("), Vec::<&str>::new());
        assert_eq!(var_exprs("$($(a))"), vec!["a"]);
    }

    #[test]
    fn result_refs() {
        assert!(looks_like_result_ref("tasks.a.results.b"));
        assert!(looks_like_result_ref("finally.a.results.b.c.d"));
        assert!(!looks_like_result_ref("params.a.results.b"));
        assert!(parses_as_result_ref("tasks.a.results.b.c"));
        assert!(!parses_as_result_ref("tasks.a.results.b.c.d"));
        assert_eq!(strip_var("$(tasks.a.results.b)"), "tasks.a.results.b");
        assert_eq!(strip_var("$(tasks.a.results.b)-x"), "tasks.a.results.b)-x");
    }

    fn p(name: &str, v: ParamValue) -> Param {
        Param::new(name, v)
    }

    #[test]
    fn matrix_combinations_like_tekton() {
        let m = Matrix {
            params: vec![
                p("a", vec!["1", "2", "3"].into()),
                p("b", vec!["x", "y"].into()),
            ],
            include: vec![],
        };
        assert_eq!(count_combinations(&m), 6);
        let m = Matrix {
            params: vec![
                p("a", vec!["1", "2"].into()),
                p("b", "$(tasks.t.results.r[*])".into()),
            ],
            include: vec![
                IncludeParams {
                    name: None,
                    params: vec![p("a", "3".into())],
                },
                IncludeParams {
                    name: None,
                    params: vec![p("a", "1".into()), p("c", "z".into())],
                },
            ],
        };
        assert_eq!(count_combinations(&m), 3);
        let m = Matrix {
            params: vec![],
            include: vec![IncludeParams::default(), IncludeParams::default()],
        };
        assert_eq!(count_combinations(&m), 2);
    }
}
