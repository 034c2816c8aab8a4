//! TaskRuns and PipelineRuns: their embedded specs (with the params and workspaces they propagate),
//! and what they pass to a Task or Pipeline that is known (embedded, or in the bundle by name).
//! Tekton finds these problems only when the run starts.

use super::env::{Layer, ParamScope, Params, suggestion};
use super::pipeline::check_spec;
use super::task::{Host, TaskEnv, scan, unused};
use super::walk::Walker;
use super::{Checker, Facts, IndexRef, short};
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::expr::{Var, find_refs};
use crate::model::{
    Param, ParamSpec, ParamType, ParamValue, PipelineRunSpec, TaskRunSpec, WorkspaceBinding,
};
use crate::source::Span;
use std::collections::HashSet;

/// The run's own strings (params, workspace bindings, pod templates, …), not its embedded spec:
/// what they may refer to depends on where Tekton substitutes each (matrix params in
/// `taskRunSpecs`, the task's context in workspace `subPath`, …), so only malformed Tekton
/// references are reported here.
fn run_strings(c: &mut Checker, embedded: &str) {
    let json = c.obj.resource.to_json();
    let mut w = Walker::new("spec");
    if let Some(m) = json["spec"].as_object() {
        for (k, v) in m {
            if k != embedded {
                w.strings_at(k, v);
            }
        }
    }
    for site in &w.sites {
        for r in find_refs(site.text) {
            c.malformed(site, &r);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    TaskRun,
    PipelineRun,
}

/// What a run runs, as far as its params and workspaces go.
struct Target<'a> {
    params: &'a [ParamSpec],
    /// (name, optional)
    workspaces: Vec<(&'a str, bool)>,
    /// `Task `build`` / `the embedded task`.
    desc: String,
    /// Where it is defined.
    span: Option<Span>,
    /// The referenced object (declarations are at its `spec.…`).
    obj: Option<&'a crate::bundle::Object>,
    /// Path of its declarations: `spec` of a referenced object (in that object), or the embedded
    /// spec's path here.
    decl_base: Option<String>,
    embedded: bool,
    /// Propagated run params that the embedded spec refers to.
    used: HashSet<String>,
    refs: Vec<IndexRef>,
}

pub(super) fn check_task_run<'a>(
    c: &mut Checker<'a, '_, '_>,
    spec: &'a TaskRunSpec,
    facts: &Facts,
) {
    run_strings(c, "taskSpec");
    let target = if let Some(ts) = &spec.task_spec {
        let json = c.obj.resource.to_json();
        let own = Params::declared(&ts.params, "spec.taskSpec");
        let given = Params::values(spec.params.iter().map(|p| (p.name.as_str(), &p.value)));
        let ws: HashSet<&str> = spec.workspaces.iter().map(|w| w.name.as_str()).collect();
        let scope = ParamScope {
            outer: Some(&given),
            ..ParamScope::own(&own)
        };
        let env = TaskEnv::new("spec.taskSpec".into(), ts.into(), scope, ws, Host::TaskRun);
        let refs = scan(c, &env, &json["spec"]["taskSpec"]);
        unused(c, &env);
        Target {
            params: &ts.params,
            workspaces: ts
                .workspaces
                .iter()
                .map(|w| (w.name.as_str(), w.optional == Some(true)))
                .collect(),
            desc: "the embedded task".into(),
            span: c.span("spec.taskSpec"),
            obj: None,
            decl_base: Some("spec.taskSpec".into()),
            embedded: true,
            used: given
                .iter()
                .filter(|p| p.used.get())
                .map(|p| p.name.to_string())
                .collect(),
            refs: refs
                .into_iter()
                .filter(|(l, _)| matches!(l, Layer::Own | Layer::Outer))
                .map(|(_, r)| r)
                .collect(),
        }
    } else if let Some((obj, ts)) = spec.task_ref.as_ref().and_then(|r| c.index.task_ref(r)) {
        let name = obj.resource.display_name();
        Target {
            params: &ts.params,
            workspaces: ts
                .workspaces
                .iter()
                .map(|w| (w.name.as_str(), w.optional == Some(true)))
                .collect(),
            desc: format!("Task `{name}`"),
            span: obj.span(""),
            obj: Some(obj),
            decl_base: None,
            embedded: false,
            used: HashSet::new(),
            refs: facts
                .task_index_refs
                .get(name.as_str())
                .cloned()
                .unwrap_or_default(),
        }
    } else {
        return;
    };
    c.run_params(Kind::TaskRun, &target, &spec.params);
    c.run_workspaces(Kind::TaskRun, &target, &spec.workspaces);
    c.run_indices(&target, &spec.params);
}

pub(super) fn check_pipeline_run<'a>(
    c: &mut Checker<'a, '_, '_>,
    spec: &'a PipelineRunSpec,
    facts: &Facts,
) {
    run_strings(c, "pipelineSpec");
    // Result expressions cannot be run params.
    for (j, p) in spec.params.iter().enumerate() {
        for s in p.value.strings() {
            for r in find_refs(s) {
                if matches!(
                    r.var,
                    Ok(Var::TaskResult { .. } | Var::FinallyResult { .. })
                ) {
                    let text = &s[r.start..r.end];
                    let d = Diagnostic::error(codes::E226, format!("param `{}` of the run uses a task result, `{text}`, but a run has no task results yet", p.name))
                        .label("task result in a run param")
                        .note(format!("Tekton: cannot use result expressions in [{}] as PipelineRun parameter values", short(s)))
                        .help("pass the result between pipeline tasks instead: `p.task(\"b\", t, #{ params: #{ x: a.result(\"r\") } })`");
                    c.report_at(&format!("spec.params[{j}]"), text, d);
                }
            }
        }
    }
    let (target, tasks): (Target, Vec<&str>) = if let Some(ps) = &spec.pipeline_spec {
        let json = c.obj.resource.to_json();
        let ws: HashSet<&str> = spec.workspaces.iter().map(|w| w.name.as_str()).collect();
        let out = check_spec(
            c,
            "spec.pipelineSpec",
            ps,
            &json["spec"]["pipelineSpec"],
            &spec.params,
            ws,
            true,
            facts,
        );
        (
            Target {
                params: &ps.params,
                workspaces: ps
                    .workspaces
                    .iter()
                    .map(|w| (w.name.as_str(), w.optional == Some(true)))
                    .collect(),
                desc: "the embedded pipeline".into(),
                span: c.span("spec.pipelineSpec"),
                obj: None,
                decl_base: Some("spec.pipelineSpec".into()),
                embedded: true,
                used: out.used_propagated,
                refs: out.refs,
            },
            ps.all_tasks().map(|t| t.name.as_str()).collect(),
        )
    } else if let Some((obj, ps)) = spec
        .pipeline_ref
        .as_ref()
        .filter(|r| r.resolver.is_none())
        .and_then(|r| c.index.pipelines.get(r.name.as_deref()?).copied())
    {
        let name = obj.resource.display_name();
        (
            Target {
                params: &ps.params,
                workspaces: ps
                    .workspaces
                    .iter()
                    .map(|w| (w.name.as_str(), w.optional == Some(true)))
                    .collect(),
                desc: format!("Pipeline `{name}`"),
                span: obj.span(""),
                obj: Some(obj),
                decl_base: None,
                embedded: false,
                used: HashSet::new(),
                refs: facts
                    .pipeline_index_refs
                    .get(name.as_str())
                    .cloned()
                    .unwrap_or_default(),
            },
            ps.all_tasks().map(|t| t.name.as_str()).collect(),
        )
    } else {
        return;
    };
    c.run_params(Kind::PipelineRun, &target, &spec.params);
    c.run_workspaces(Kind::PipelineRun, &target, &spec.workspaces);
    c.run_indices(&target, &spec.params);
    for (j, trs) in spec.task_run_specs.iter().enumerate() {
        let t = trs.pipeline_task_name.as_str();
        if !tasks.contains(&t) {
            let d = Diagnostic::error(codes::E225, format!("`taskRunSpecs` names pipeline task `{t}`, which {} does not have", target.desc))
                .label("unknown pipeline task")
                .note(format!("Tekton (when the run starts): pipelineRun's taskrunSpecs defined wrong taskName: \"{t}\", does not exist in Pipeline"))
                .help(suggestion(t, tasks.iter().copied(), "pipeline tasks"))
                .secondary(target.span, "the pipeline is defined here");
            c.report_at(&format!("spec.taskRunSpecs[{j}]"), t, d);
        }
    }
}

impl Checker<'_, '_, '_> {
    fn target_decl_span(&self, t: &Target, rel: &str) -> Option<Span> {
        match (&t.decl_base, t.obj) {
            (Some(b), _) => self.span(&format!("{b}.{rel}")),
            (None, Some(o)) => o.span(&format!("spec.{rel}")),
            (None, None) => t.span,
        }
    }

    /// The params a run passes: declared (else a warning: Tekton ignores them), the right type,
    /// every required one.
    fn run_params(&mut self, kind: Kind, t: &Target, given: &[Param]) {
        let declared: Vec<&str> = t.params.iter().map(|p| p.name.as_str()).collect();
        for (j, p) in given.iter().enumerate() {
            let path = format!("spec.params[{j}]");
            let Some((k, decl)) = t.params.iter().enumerate().find(|(_, d)| d.name == p.name)
            else {
                if !(t.embedded && t.used.contains(&p.name)) {
                    let d = Diagnostic::warning(
                        codes::W508,
                        format!(
                            "{} declares no param `{}`; Tekton ignores it",
                            t.desc, p.name
                        ),
                    )
                    .label("not a declared param")
                    .help(if declared.is_empty() {
                        "remove it".to_string()
                    } else {
                        format!(
                            "{} (or remove it)",
                            suggestion(&p.name, declared.iter().copied(), "params")
                        )
                    });
                    self.report_at(&path, &p.name, d);
                }
                continue;
            };
            let want = decl.effective_type();
            let got = p.value.param_type();
            let pure_ref = matches!(&p.value, ParamValue::String(s) if crate::expr::is_isolated(s));
            if got != want && !pure_ref {
                let tekton = match kind {
                    Kind::TaskRun => format!(
                        "param types don't match the user-specified type: [{}]",
                        p.name
                    ),
                    Kind::PipelineRun => {
                        format!("parameters have inconsistent types : [{}]", p.name)
                    }
                };
                let d = Diagnostic::error(
                    codes::E219,
                    format!(
                        "param `{}` of {} is {} {want}, but the run passes {} {got}",
                        p.name,
                        t.desc,
                        article(want),
                        article(got)
                    ),
                )
                .label(format!("{} {got}", article(got)))
                .note(format!("Tekton (when the run starts): {tekton}"))
                .help("pass a value of the declared type")
                .secondary(
                    self.target_decl_span(t, &format!("params[{k}]")),
                    format!("declared as {want} here"),
                );
                self.report_at(&path, &p.name, d);
                continue;
            }
            if let (ParamType::Object, Some(o)) = (want, p.value.as_object()) {
                let default_keys: Vec<&str> = decl
                    .default
                    .as_ref()
                    .and_then(ParamValue::as_object)
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let missing: Vec<&str> = decl
                    .properties
                    .iter()
                    .flat_map(|m| m.keys())
                    .map(String::as_str)
                    .filter(|k| !o.contains_key(*k) && !default_keys.contains(k))
                    .collect();
                if !missing.is_empty() {
                    let tekton = match kind {
                        Kind::TaskRun => format!(
                            "missing keys for these params which are required in ParamSpec's properties map[{}:[{}]]",
                            p.name,
                            missing.join(" ")
                        ),
                        Kind::PipelineRun => format!(
                            "pipelineRun missing object keys for parameters: map[{}:[{}]]",
                            p.name,
                            missing.join(" ")
                        ),
                    };
                    let d = Diagnostic::error(
                        codes::E219,
                        format!(
                            "object param `{}` needs the keys {}",
                            p.name,
                            missing
                                .iter()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .label("missing keys")
                    .note(format!("Tekton (when the run starts): {tekton}"))
                    .help("pass every declared property");
                    self.report_at(&path, &p.name, d);
                }
            }
            if let (false, ParamValue::String(v)) = (decl.enum_.is_empty(), &p.value)
                && !v.contains("$(")
                && !decl.enum_.contains(v)
            {
                let d = Diagnostic::error(
                    codes::E219,
                    format!(
                        "`{v}` is not an allowed value of param `{}` ({})",
                        p.name,
                        decl.enum_.join(", ")
                    ),
                )
                .label("not in the enum")
                .note(format!(
                    "Tekton (when the run starts): param `{}` value: {v} is not in the enum list",
                    p.name
                ))
                .help(suggestion(
                    v,
                    decl.enum_.iter().map(String::as_str),
                    "allowed values",
                ));
                self.report_at(&path, &p.name, d);
            }
        }
        let names: HashSet<&str> = given.iter().map(|p| p.name.as_str()).collect();
        let missing: Vec<(usize, &str)> = t
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.default.is_none() && !names.contains(p.name.as_str()))
            .map(|(k, p)| (k, p.name.as_str()))
            .collect();
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join(" ");
            let tekton = match kind {
                Kind::TaskRun => format!(
                    "missing values for these params which have no default values: [{list}]"
                ),
                Kind::PipelineRun => format!("pipelineRun missing parameters: [{list}]"),
            };
            let names = missing
                .iter()
                .map(|(_, n)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut d = Diagnostic::error(
                codes::E218,
                format!(
                    "the run does not pass {names}, which {} requires (no default)",
                    t.desc
                ),
            )
            .label("missing params")
            .note(format!("Tekton (when the run starts): {tekton}"))
            .help(format!(
                "pass them: `params: #{{ {}: \"…\" }}`",
                missing[0].1
            ));
            for (k, n) in &missing {
                d = d.secondary(
                    self.target_decl_span(t, &format!("params[{k}]")),
                    format!("`{n}` is declared here"),
                );
            }
            self.report("spec.params", d);
        }
    }

    fn run_workspaces(&mut self, kind: Kind, t: &Target, given: &[WorkspaceBinding]) {
        let bound: HashSet<&str> = given.iter().map(|w| w.name.as_str()).collect();
        if kind == Kind::TaskRun && !t.embedded {
            let declared: Vec<&str> = t.workspaces.iter().map(|w| w.0).collect();
            for (j, b) in given.iter().enumerate() {
                if !declared.contains(&b.name.as_str()) {
                    let d = Diagnostic::error(codes::E223, format!("{} has no workspace `{}`", t.desc, b.name))
                        .label("not a workspace of the task")
                        .note(format!("Tekton (when the run starts): workspace binding \"{}\" does not match any declared workspace", b.name))
                        .help(suggestion(&b.name, declared.iter().copied(), "workspaces"));
                    self.report_at(&format!("spec.workspaces[{j}]"), &b.name, d);
                }
            }
        }
        for (k, (name, optional)) in t.workspaces.iter().enumerate() {
            if *optional || bound.contains(name) {
                continue;
            }
            // A cluster may bind missing TaskRun workspaces (`default-task-run-workspace-binding`
            // in `config-defaults`; Tekton's own examples rely on it), so a TaskRun only gets a
            // warning.
            let d = match kind {
                Kind::TaskRun => Diagnostic::warning(codes::W510, format!("the run does not bind workspace `{name}`, which {} requires", t.desc))
                    .label("missing workspace")
                    .note(format!("Tekton (when the run starts): declared workspace \"{name}\" is required but has not been bound (unless the cluster sets `default-task-run-workspace-binding`)"))
                    .help(format!("bind it: `workspaces: #{{ {name}: empty_dir() }}` (or `volume_claim(\"1Gi\")`, `pvc(\"name\")`, …)")),
                Kind::PipelineRun => Diagnostic::error(codes::E222, format!("the run does not bind workspace `{name}`, which {} requires", t.desc))
                    .label("missing workspace")
                    .note(format!("Tekton (when the run starts): pipeline requires workspace with name \"{name}\" be provided by pipelinerun"))
                    .help(format!("bind it: `workspaces: #{{ {name}: volume_claim(\"1Gi\") }}` (or `empty_dir()`, `pvc(\"name\")`, …)")),
            };
            let d = d.secondary(
                self.target_decl_span(t, &format!("workspaces[{k}]")),
                "declared here",
            );
            self.report("spec.workspaces", d);
        }
    }

    /// `$(params.<p>[N])` in what the run runs, against the arrays it passes (or the defaults).
    fn run_indices(&mut self, t: &Target, given: &[Param]) {
        for r in &t.refs {
            let passed = given.iter().position(|p| p.name == r.param);
            let len = match passed {
                Some(j) => given[j].value.as_array().map(<[String]>::len),
                None => t
                    .params
                    .iter()
                    .find(|p| p.name == r.param)
                    .and_then(|p| p.default.as_ref())
                    .and_then(ParamValue::as_array)
                    .map(<[String]>::len),
            };
            let Some(len) = len else { continue };
            if r.index < len {
                continue;
            }
            let items = |n: usize| format!("{n} item{}", if n == 1 { "" } else { "s" });
            let d = Diagnostic::error(
                codes::E221,
                format!(
                    "`{}` is out of range: param `{}` has {}",
                    r.text,
                    r.param,
                    items(len)
                ),
            )
            .note(format!(
                "Tekton (when the run starts): non-existent param references:[{}]",
                r.text.trim_start_matches("$(").trim_end_matches(')')
            ));
            match passed {
                Some(j) => {
                    let d = d
                        .label(items(len))
                        .secondary(r.span, format!("index {} used here", r.index))
                        .help(format!(
                            "pass at least {}, or use a smaller index",
                            items(r.index + 1)
                        ));
                    self.report_at(&format!("spec.params[{j}]"), &r.param, d);
                }
                None => {
                    let d = d
                        .label(format!("the default of `{}` has {}", r.param, items(len)))
                        .secondary(
                            self.span(""),
                            format!("the run does not pass `{}`", r.param),
                        )
                        .help(format!(
                            "pass `{}` with at least {}, or use a smaller index",
                            r.param,
                            items(r.index + 1)
                        ));
                    self.ctx.diags.push(d.at(r.span).path(r.place.clone()));
                }
            }
        }
    }
}

fn article(t: ParamType) -> &'static str {
    match t {
        ParamType::Array | ParamType::Object => "an",
        ParamType::String => "a",
    }
}
