//! Validation pass: `$(…)` references (E2xx), the task graph (E3xx) and lints (W5xx).
//!
//! Every string of every object is looked at once ([`walk`]): the serialized JSON of the object is
//! walked with its field path, and each string that contains `$(` is parsed with
//! [`crate::expr::find_refs`] and checked against the scope it is in:
//!
//! * a **task scope** (a Task's `spec`, a TaskRun's `taskSpec`, a pipeline task's embedded
//!   `taskSpec`, a StepAction's `spec`) sees the variables of `tekton-api.md` §4.1: its params (plus,
//!   for embedded specs, the params propagated from the pipeline task, the pipeline or the run), its
//!   results, workspaces, steps and the task context; an embedded spec also sees
//!   `$(tasks.<t>.results.<r>)` (which adds a graph edge) and the pipeline-run context;
//! * a **pipeline-task scope** (`params`, `matrix`, `when`, `displayName`, workspace `subPath`,
//!   `taskRef`, `onError` of a pipeline task) sees §4.2: pipeline params, results of other tasks,
//!   `workspaces.<w>.bound`, the pipeline context, and, in `finally` only, execution status;
//! * pipeline **results** see only `$(tasks|finally.<t>.results.<r>)`.
//!
//! Then cross-object checks that Tekton only makes when a run fails ([`pipeline`], [`runs`]): what a
//! pipeline task passes to a task that is known (embedded, or a Task of the bundle by name), what a
//! run passes to a known Task or Pipeline; the task graph ([`dag`]); and lints ([`lints`]).
//!
//! The codes are listed in [`codes`] (and `tekscript explain CODE`).

mod dag;
mod env;
mod lints;
mod pipeline;
mod runs;
mod step_actions;
mod task;
mod walk;

use super::Ctx;
use crate::bundle::{Bundle, Object, Resource};
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::expr::{ExprErrorKind, Reference};
use crate::source::Span;
use env::{Index, IndexRef, SelError, Val};
use std::collections::HashMap;
use walk::{CField, Loc, Shape, Site};

pub fn check(bundle: &Bundle, ctx: &mut Ctx) {
    let index = Index::new(bundle);
    let mut facts = Facts::default();
    // Tasks and StepActions first: pipelines and runs use what their scans found.
    for phase in 0..3 {
        for obj in &bundle.objects {
            let rank = match &obj.resource {
                Resource::Task(_) | Resource::StepAction(_) => 0,
                Resource::Pipeline(_) => 1,
                Resource::TaskRun(_) | Resource::PipelineRun(_) => 2,
            };
            if rank != phase {
                continue;
            }
            let mut c = Checker {
                obj,
                ctx,
                index: &index,
            };
            overrides(&mut c, &index);
            if !index.actions.is_empty() {
                for (prefix, spec) in task_specs(&obj.resource) {
                    step_actions::check(&mut c, &prefix, &spec);
                }
            }
            match &obj.resource {
                Resource::Task(t) => {
                    let refs = task::check_task(&mut c, &t.spec);
                    if let Some(name) = t.metadata.name.as_deref() {
                        facts.task_index_refs.entry(name).or_insert(refs);
                    }
                }
                Resource::StepAction(s) => task::check_step_action(&mut c, &s.spec),
                Resource::Pipeline(p) => {
                    if let Some(name) = p.metadata.name.as_deref() {
                        dag::pipeline_runs_itself(&mut c, name, &p.spec);
                    }
                    let refs = pipeline::check_pipeline(&mut c, &p.spec, &facts);
                    if let Some(name) = p.metadata.name.as_deref() {
                        facts.pipeline_index_refs.entry(name).or_insert(refs);
                    }
                }
                Resource::TaskRun(r) => runs::check_task_run(&mut c, &r.spec, &facts),
                Resource::PipelineRun(r) => runs::check_pipeline_run(&mut c, &r.spec, &facts),
            }
            lints::check(&mut c);
        }
    }
}

/// `stepSpecs`/`sidecarSpecs` of TaskRuns and of PipelineRun `taskRunSpecs`, against the task that runs,
/// when its spec is known (embedded, or a Task/Pipeline of the bundle).
fn overrides(c: &mut Checker, index: &Index) {
    match &c.obj.resource {
        Resource::TaskRun(r) => {
            let spec = match (&r.spec.task_spec, &r.spec.task_ref) {
                (Some(ts), _) => Some(ts.clone()),
                (None, Some(tr)) => index.task_ref(tr).map(|(_, s)| s.clone()),
                _ => None,
            };
            if let Some(spec) = spec {
                step_actions::check_overrides(
                    c,
                    "spec",
                    &spec,
                    &r.spec.step_specs,
                    &r.spec.sidecar_specs,
                );
            }
        }
        Resource::PipelineRun(r) => {
            let pipeline = match (&r.spec.pipeline_spec, &r.spec.pipeline_ref) {
                (Some(ps), _) => Some(ps.clone()),
                (None, Some(pr)) if pr.resolver.is_none() => pr
                    .name
                    .as_deref()
                    .and_then(|n| index.pipelines.get(n))
                    .map(|(_, s)| (*s).clone()),
                _ => None,
            };
            let Some(pipeline) = pipeline else { return };
            for (i, trs) in r.spec.task_run_specs.iter().enumerate() {
                if trs.step_specs.is_empty() && trs.sidecar_specs.is_empty() {
                    continue;
                }
                let Some(pt) = pipeline
                    .all_tasks()
                    .find(|t| t.name == trs.pipeline_task_name)
                else {
                    continue; // an unknown pipelineTaskName is E225
                };
                let spec = match (&pt.task_spec, &pt.task_ref) {
                    (Some(et), _) => Some(et.to_task_spec()),
                    (None, Some(tr)) => index.task_ref(tr).map(|(_, s)| s.clone()),
                    _ => None,
                };
                if let Some(spec) = spec {
                    step_actions::check_overrides(
                        c,
                        &format!("spec.taskRunSpecs[{i}]"),
                        &spec,
                        &trs.step_specs,
                        &trs.sidecar_specs,
                    );
                }
            }
        }
        _ => {}
    }
}

/// Every TaskSpec inside an object, with its path: a Task's spec, a TaskRun's `taskSpec`, and the embedded
/// `taskSpec`s of a Pipeline (or a PipelineRun's `pipelineSpec`).
fn task_specs(r: &Resource) -> Vec<(String, crate::model::TaskSpec)> {
    fn pipeline(
        prefix: &str,
        p: &crate::model::PipelineSpec,
        out: &mut Vec<(String, crate::model::TaskSpec)>,
    ) {
        for (list, tasks) in [("tasks", &p.tasks), ("finally", &p.finally)] {
            for (i, t) in tasks.iter().enumerate() {
                if let Some(ts) = &t.task_spec {
                    out.push((format!("{prefix}.{list}[{i}].taskSpec"), ts.to_task_spec()));
                }
            }
        }
    }
    let mut out = Vec::new();
    match r {
        Resource::Task(t) => out.push(("spec".to_string(), t.spec.clone())),
        Resource::TaskRun(t) => {
            if let Some(ts) = &t.spec.task_spec {
                out.push(("spec.taskSpec".to_string(), ts.clone()));
            }
        }
        Resource::Pipeline(p) => pipeline("spec", &p.spec, &mut out),
        Resource::PipelineRun(p) => {
            if let Some(ps) = &p.spec.pipeline_spec {
                pipeline("spec.pipelineSpec", ps, &mut out);
            }
        }
        Resource::StepAction(_) => {}
    }
    out
}

/// What the scans of Tasks and Pipelines found that their callers need.
#[derive(Default)]
struct Facts<'a> {
    /// `$(params.<p>[N])` in each Task (by name), on the Task's own params.
    task_index_refs: HashMap<&'a str, Vec<IndexRef>>,
    /// `$(params.<p>[N])` in each Pipeline (by name), on the Pipeline's params.
    pipeline_index_refs: HashMap<&'a str, Vec<IndexRef>>,
}

/// Checks one object: reports at its field paths.
struct Checker<'a, 'c, 'd> {
    obj: &'a Object,
    ctx: &'d mut Ctx<'c>,
    index: &'d Index<'a>,
}

impl Checker<'_, '_, '_> {
    /// Reports at a field path.
    fn report(&mut self, path: &str, d: Diagnostic) {
        self.ctx.report(self.obj, path, d);
    }

    /// Reports at a field path, narrowed to `needle` (a `$(…)` text, a name) in the script.
    fn report_at(&mut self, path: &str, needle: &str, d: Diagnostic) {
        if needle.chars().count() >= 2 {
            self.ctx.report_text(self.obj, path, needle, d);
        } else {
            self.ctx.report(self.obj, path, d);
        }
    }

    /// Reports at a `runAfter` entry: the name as written after `runAfter` (or `.after(`), not the
    /// task's own name earlier in the same call.
    fn report_run_after(&mut self, path: &str, target: &str, d: Diagnostic) {
        let quoted = format!("\"{target}\"");
        let span = self.obj.span(path).and_then(|s| {
            ["runAfter", "after("].iter().find_map(|a| {
                let a = self.ctx.narrow(s, a)?;
                let n = self.ctx.narrow(Span::new(a.file, a.end, a.end), &quoted)?;
                Some(Span::new(n.file, n.start + 1, n.end - 1))
            })
        });
        match span {
            Some(sp) => self.ctx.report(self.obj, path, d.at(Some(sp))),
            None => self.report_at(path, target, d),
        }
    }

    /// The span of `needle` at `path` (for secondary labels and remembered references).
    fn span_at(&self, path: &str, needle: &str) -> Option<Span> {
        let s = self.obj.span(path)?;
        Some(self.ctx.narrow(s, needle).unwrap_or(s))
    }

    /// The span recorded for exactly this path, else for its closest ancestor.
    fn span(&self, path: &str) -> Option<Span> {
        self.obj.span(path)
    }

    /// `Kind/name at path`, for notes.
    fn place(&self, path: &str) -> String {
        format!("{} at {path}", self.obj.resource.id())
    }

    /// Remembers a `$(params.<p>[N])` reference.
    fn index_ref(&self, site: &Site, r: &Reference, param: &str, index: usize) -> IndexRef {
        let text = site.text[r.start..r.end].to_string();
        IndexRef {
            param: param.to_string(),
            index,
            span: self.span_at(&site.path, &text),
            place: self.place(&site.path),
            text,
        }
    }

    /// Reports a reference Tekton cannot parse (E201), or a warning (W509) for one in a script,
    /// where Tekton leaves it to the shell. Returns true when something was reported.
    fn malformed(&mut self, site: &Site, r: &Reference) -> bool {
        let Err(e) = &r.var else { return false };
        let Some(prefix) = e.prefix else { return false };
        let text = &site.text[r.start..r.end];
        let in_script = matches!(site.loc, Loc::Container(_, CField::Script));
        // Tekton rejects `$(params.a.b.c)` everywhere, scripts included; other malformed text in a
        // script is left alone by Tekton and run by the shell as a command.
        let hard = !in_script || (prefix == "params" && e.kind == ExprErrorKind::Malformed);
        let shown = short(text);
        if hard {
            let mut d = Diagnostic::error(
                codes::E201,
                format!("`{shown}` is not a valid Tekton variable: {}", e.message),
            )
            .label("cannot be parsed");
            if prefix == "params" && e.message.contains("dot-separated") {
                d = d.note(format!(
                    "Tekton: Invalid referencing of parameters in \"{}\"! Only two dot-separated components after the prefix \"params\" are allowed.",
                    line_at(site.text, r.start)
                ));
            }
            d = d.help(match prefix {
                "params" => "write `$(params.<name>)`, `$(params.<name>[N])`, `$(params.<name>[*])`, `$(params.<object>.<key>)` or `$(params['<name.with.dots>'])`",
                "tasks" => "write `$(tasks.<task>.results.<result>)` (with `[N]`, `[*]` or `.<key>`), `$(tasks.<task>.status)` or `$(tasks.status)`",
                "workspaces" => "write `$(workspaces.<name>.path)`, `.bound`, `.claim` or `.volume`",
                "context" => "see `tekscript explain E201` for the context variables",
                _ => "see `tekscript explain E201` for the forms Tekton accepts",
            });
            self.report_at(&site.path, text, d);
        } else {
            let d = Diagnostic::warning(
                codes::W509,
                format!(
                    "`{shown}` looks like a Tekton variable but is not one: {}",
                    e.message
                ),
            )
            .label("Tekton leaves this text alone; the shell will run it as a command")
            .help("fix the variable, or write `$$(…)`/`${…}` if you meant shell syntax");
            self.report_at(&site.path, text, d);
        }
        true
    }

    /// Checks that a value of shape `val` may appear at `r` in `site` (Tekton's "variable type
    /// invalid" and "not properly isolated" rules). `what` names the variable in messages.
    fn shape(&mut self, site: &Site, r: &Reference, val: Val, what: &str) {
        if !val.is_whole() {
            return;
        }
        let text = &site.text[r.start..r.end];
        let whole = site.is_whole(r.start, r.end);
        let kind = match val {
            Val::Array => "a whole array",
            Val::Object => "a whole object",
            _ => "a whole array or object",
        };
        let type_invalid = |msg: String, help: &str| {
            Diagnostic::error(codes::E208, msg)
                .label(format!("{kind} here"))
                .note(format!(
                    "Tekton: variable type invalid in \"{}\"",
                    line_at(site.text, r.start)
                ))
                .help(help.to_string())
        };
        match (site.shape, val) {
            (Shape::Elem, Val::Object) => {
                let d = type_invalid(
                    format!("{what} is {kind}, which cannot be an element of a list"),
                    "use one property, `.<key>`, or pass the object as the whole value of an object param",
                );
                self.report_at(&site.path, text, d);
            }
            (Shape::Elem, _) if whole => {}
            (Shape::Elem, _) => {
                let d = Diagnostic::error(
                    codes::E209,
                    format!("{what} is {kind}, so it must be a list element on its own"),
                )
                .label("mixed with other text")
                .note(format!(
                    "Tekton: variable is not properly isolated in \"{}\"",
                    line_at(site.text, r.start)
                ))
                .help(format!(
                    "make `{text}` an element of its own (Tekton expands it into one element per item), or use one item with `[N]`"
                ));
                self.report_at(&site.path, text, d);
            }
            (Shape::Whole, _) if whole => {}
            (Shape::Whole, _) => {
                let d = type_invalid(
                    format!("{what} is {kind}, which cannot be part of a longer string"),
                    "pass it as the entire value (`\"$(params.x[*])\"` alone), or use one item with `[N]` / one property with `.<key>`",
                );
                self.report_at(&site.path, text, d);
            }
            (Shape::Str, _) => {
                let d = type_invalid(
                    format!("{what} is {kind}, but this field takes a single string"),
                    match val {
                        Val::Object => "use one property with `.<key>`",
                        _ => {
                            "use one item with `[N]`, or pass the array through `args`/`command` where each item becomes an argument"
                        }
                    },
                );
                self.report_at(&site.path, text, d);
            }
        }
    }

    /// Reports a selector that does not fit the type of what it selects from (E208, E203).
    fn sel_error(
        &mut self,
        site: &Site,
        r: &Reference,
        what: &str,
        e: SelError,
        keys: Option<&[&str]>,
    ) {
        let text = &site.text[r.start..r.end];
        let d = match e {
            SelError::UnknownKey(k) => {
                let keys = keys.unwrap_or(&[]);
                Diagnostic::error(codes::E203, format!("{what} has no property `{k}`"))
                    .label("unknown property")
                    .note(format!(
                        "Tekton: non-existent variable in \"{}\"",
                        line_at(site.text, r.start)
                    ))
                    .help(env::suggestion(&k, keys.iter().copied(), "properties"))
            }
            SelError::StarOnString => Diagnostic::error(
                codes::E208,
                format!("{what} is a string; `[*]` only applies to arrays and objects"),
            )
            .label("`[*]` on a string")
            .note(format!(
                "Tekton: non-existent variable in \"{}\"",
                line_at(site.text, r.start)
            ))
            .help("drop the `[*]`"),
            SelError::IndexOnNonArray(t) => Diagnostic::error(
                codes::E208,
                format!(
                    "{what} is {} {t}; only arrays can be indexed",
                    article(t.as_str())
                ),
            )
            .label("index on a non-array")
            .note(format!(
                "Tekton: non-existent variable in \"{}\"",
                line_at(site.text, r.start)
            ))
            .help(if t.as_str() == "object" {
                "use a property: `.<key>`"
            } else {
                "drop the `[N]`, or declare it with `type: \"array\"`"
            }),
            SelError::KeyOnNonObject(t) => Diagnostic::error(
                codes::E208,
                format!(
                    "{what} is {} {t}; only objects have properties",
                    article(t.as_str())
                ),
            )
            .label("property of a non-object")
            .note(format!(
                "Tekton: non-existent variable in \"{}\"",
                line_at(site.text, r.start)
            ))
            .help(if t.as_str() == "array" {
                "use an item: `[N]`"
            } else {
                "declare it as an object with `properties`, or drop the `.<key>`"
            }),
        };
        self.report_at(&site.path, text, d);
    }
}

fn article(w: &str) -> &'static str {
    if w.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The line of `text` around byte `at`, trimmed, at most 80 characters: what Tekton's messages
/// quote, without a whole script.
fn line_at(text: &str, at: usize) -> String {
    let at = at.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = text[start..end].trim();
    let mut out: String = line.chars().take(80).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

/// At most 80 characters of `s`, on one line, for messages.
fn short(s: &str) -> String {
    let one: String = s
        .split('\n')
        .next()
        .unwrap_or("")
        .chars()
        .take(80)
        .collect();
    if one.len() < s.len() {
        format!("{one}…")
    } else {
        one
    }
}

#[cfg(test)]
mod tests {
    use crate::bundle::{Bundle, Object, Origins, Resource};
    use crate::diag::codes::{self, Code};
    use crate::source::SourceMap;
    use crate::validate::Settings;
    use serde_json::{Value, json};

    /// Codes and messages of this pass's errors for a bundle of JSON documents.
    fn diags(docs: Vec<Value>) -> Vec<(&'static Code, String)> {
        let objects = docs
            .into_iter()
            .map(|d| Object {
                resource: Resource::from_json(d).expect("valid document"),
                origins: Origins::new(),
            })
            .collect();
        let r = crate::validate::check(Bundle { objects }, &SourceMap::new(), &Settings::default());
        let ds = match r {
            Ok((_, w)) => w.0,
            Err(e) => e.0,
        };
        ds.into_iter()
            .filter(|d| d.code.id.starts_with("E2") || d.code.id.starts_with("E3"))
            .map(|d| (d.code, d.message))
            .collect()
    }

    fn codes(docs: Vec<Value>) -> Vec<&'static Code> {
        diags(docs).into_iter().map(|d| d.0).collect()
    }

    fn step(script: &str) -> Value {
        json!({"name": "s", "image": "alpine:3.20", "script": format!("#!/bin/sh\n{script}")})
    }

    fn pipeline(spec: Value) -> Value {
        json!({"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": "p"}, "spec": spec})
    }

    fn embedded(params: Value, script: &str) -> Value {
        json!({"params": params, "results": [{"name": "out"}], "steps": [step(script)]})
    }

    #[test]
    fn cycle_is_reported_once_with_its_path() {
        let t = |name: &str, input: &str| {
            json!({"name": name, "params": [{"name": "in", "value": input}],
                   "taskSpec": embedded(json!([{"name": "in"}]), "echo $(params.in) > $(results.out.path)")})
        };
        let d = diags(vec![pipeline(json!({"tasks": [
            t("a", "$(tasks.c.results.out)"),
            t("b", "$(tasks.a.results.out)"),
            t("c", "$(tasks.b.results.out)"),
            t("d", "$(tasks.c.results.out)"),
        ]}))]);
        let cycles: Vec<_> = d.iter().filter(|d| d.0 == codes::E301).collect();
        assert_eq!(cycles.len(), 1, "{d:?}");
        assert!(cycles[0].1.ends_with("a → c → b → a"), "{}", cycles[0].1);
    }

    #[test]
    fn result_refs_inside_embedded_tasks_are_edges() {
        let d = codes(vec![pipeline(json!({"tasks": [
            {"name": "a", "runAfter": ["b"], "taskSpec": embedded(json!([]), "echo > $(results.out.path)")},
            {"name": "b", "taskSpec": embedded(json!([]), "echo $(tasks.a.results.out) > $(results.out.path)")},
        ]}))]);
        assert_eq!(d, [codes::E301]);
    }

    #[test]
    fn params_propagate_into_embedded_tasks() {
        let d = codes(vec![pipeline(json!({
            "params": [{"name": "who"}],
            "tasks": [{"name": "a", "params": [{"name": "extra", "value": "x"}],
                       "taskSpec": embedded(json!([]), "echo $(params.who) $(params.extra) > $(results.out.path)")}]
        }))]);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn unknown_param_suggests_a_name() {
        let d = diags(vec![pipeline(json!({
            "params": [{"name": "revision"}],
            "tasks": [{"name": "a", "taskSpec": embedded(json!([]), "echo $(params.revison) > $(results.out.path)")}]
        }))]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].0, codes::E202);
    }

    #[test]
    fn dotted_string_param_names() {
        let t = json!({"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t"},
            "spec": {"params": [{"name": "a.b"}], "steps": [step("echo $(params.a.b) $(params['a.b'])")]}});
        assert!(codes(vec![t]).is_empty());
    }

    #[test]
    fn status_only_in_finally() {
        let d = codes(vec![pipeline(json!({
            "tasks": [
                {"name": "a", "taskSpec": embedded(json!([]), "echo > $(results.out.path)")},
                {"name": "b", "params": [{"name": "s", "value": "$(tasks.a.status)"}],
                 "taskSpec": embedded(json!([{"name": "s"}]), "echo $(params.s) > $(results.out.path)")},
            ],
            "finally": [{"name": "f", "params": [{"name": "s", "value": "$(tasks.a.status) $(tasks.status)"}],
                         "taskSpec": embedded(json!([{"name": "s"}]), "echo $(params.s) > $(results.out.path)")}]
        }))]);
        assert_eq!(d, [codes::E211]);
    }

    #[test]
    fn matrixed_results_need_star() {
        let spec = |sel: &str| {
            json!({"tasks": [
                {"name": "m", "matrix": {"params": [{"name": "x", "value": ["1", "2"]}]},
                 "taskSpec": embedded(json!([{"name": "x"}]), "echo $(params.x) > $(results.out.path)")},
                {"name": "u", "params": [{"name": "all", "value": format!("$(tasks.m.results.out{sel})")}],
                 "taskSpec": embedded(json!([{"name": "all", "type": "array"}]), "echo > $(results.out.path)")},
            ]})
        };
        assert_eq!(codes(vec![pipeline(spec(""))]), [codes::E216]);
        assert_eq!(
            codes(vec![pipeline(spec("[*]"))]),
            Vec::<&codes::Code>::new()
        );
    }

    #[test]
    fn param_defaults_may_refer_to_params() {
        let d = codes(vec![pipeline(json!({
            "params": [{"name": "registry", "default": "r"}, {"name": "image", "default": "$(params.registry)/x $(params.nope)"}],
            "tasks": [{"name": "a", "params": [{"name": "i", "value": "$(params.image)"}],
                       "taskSpec": embedded(json!([{"name": "i"}]), "echo $(params.i) > $(results.out.path)")}]
        }))]);
        assert_eq!(d, [codes::E202]);
    }

    #[test]
    fn task_variables_passed_as_param_values() {
        // Tekton substitutes the value again inside the task.
        let t = json!({"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "k"},
            "spec": {"params": [{"name": "f"}], "workspaces": [{"name": "source"}],
                     "steps": [step("cat $(params.f)")]}});
        let p = |ws: &str| {
            pipeline(
                json!({"workspaces": [{"name": "w"}], "tasks": [{"name": "a", "taskRef": {"name": "k"},
                "params": [{"name": "f", "value": format!("$(workspaces.{ws}.path)/Dockerfile")}],
                "workspaces": [{"name": "source", "workspace": "w"}]}]}),
            )
        };
        assert!(codes(vec![t.clone(), p("source")]).is_empty());
        assert_eq!(codes(vec![t, p("src")]), [codes::E206]);
    }
}
