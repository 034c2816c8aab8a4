//! The task scope: a Task's `spec`, a TaskRun's `taskSpec`, a pipeline task's embedded `taskSpec`
//! and a StepAction's `spec` (tekton-api.md §4.1).

use super::env::{Layer, ParamScope, Params, SelError, TaskView, Val, q, select, suggestion};
use super::pipeline::{Consumer, PipelineEnv, Use};
use super::walk::{CField, Cont, Loc, Site, Walker};
use super::{Checker, IndexRef, line_at};
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::expr::{ContextScope, Reference, Selector, Var, WorkspaceAttr, find_refs};
use crate::model::{StepActionSpec, StepResult, TaskSpec};
use serde_json::Value;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};

/// What runs a task spec.
#[derive(Clone, Copy)]
pub(super) enum Host<'s, 'a> {
    /// A Task object.
    Task,
    /// A TaskRun's `taskSpec`.
    TaskRun,
    /// A pipeline task's `taskSpec` (node index into the pipeline's tasks then finally).
    Pipeline {
        env: &'s PipelineEnv<'a>,
        node: usize,
    },
    /// A StepAction's spec.
    Action(&'a StepActionSpec),
}

/// Everything a task scope declares.
pub(super) struct TaskEnv<'s, 'a> {
    pub base: String,
    pub view: TaskView<'a>,
    pub params: ParamScope<'s, 'a>,
    /// Own workspaces → index in `view.workspaces`.
    ws: HashMap<&'a str, usize>,
    pub ws_used: Vec<Cell<bool>>,
    /// Workspaces propagated into an embedded spec (run bindings, pipeline task bindings).
    pub ws_extra: HashSet<&'a str>,
    /// Named steps → index.
    steps: HashMap<&'a str, usize>,
    pub host: Host<'s, 'a>,
}

impl<'s, 'a> TaskEnv<'s, 'a> {
    pub(super) fn new(
        base: String,
        view: TaskView<'a>,
        params: ParamScope<'s, 'a>,
        ws_extra: HashSet<&'a str>,
        host: Host<'s, 'a>,
    ) -> TaskEnv<'s, 'a> {
        let mut ws = HashMap::new();
        for (i, w) in view.workspaces.iter().enumerate() {
            ws.entry(w.name.as_str()).or_insert(i);
        }
        let mut steps = HashMap::new();
        for (i, s) in view.steps.iter().enumerate() {
            if !s.name.is_empty() {
                steps.entry(s.name.as_str()).or_insert(i);
            }
        }
        TaskEnv {
            base,
            view,
            params,
            ws_used: view.workspaces.iter().map(|_| Cell::new(false)).collect(),
            ws,
            ws_extra,
            steps,
            host,
        }
    }

    fn what(&self) -> &'static str {
        match self.host {
            Host::Action(_) => "step action",
            _ => "task",
        }
    }
}

/// A Task object. Returns its `$(params.<p>[N])` references.
pub(super) fn check_task<'a>(c: &mut Checker<'a, '_, '_>, spec: &'a TaskSpec) -> Vec<IndexRef> {
    let json = c.obj.resource.to_json();
    let own = Params::declared(&spec.params, "spec");
    let env = TaskEnv::new(
        "spec".into(),
        spec.into(),
        ParamScope::own(&own),
        HashSet::new(),
        Host::Task,
    );
    let refs = scan(c, &env, &json["spec"]);
    unused(c, &env);
    own_refs(refs)
}

/// A StepAction object.
pub(super) fn check_step_action<'a>(c: &mut Checker<'a, '_, '_>, spec: &'a StepActionSpec) {
    let json = c.obj.resource.to_json();
    let own = Params::declared(&spec.params, "spec");
    let empty = TaskView {
        params: &[],
        results: &[],
        workspaces: &[],
        steps: &[],
        sidecars: &[],
        step_template: None,
    };
    let env = TaskEnv::new(
        "spec".into(),
        empty,
        ParamScope::own(&own),
        HashSet::new(),
        Host::Action(spec),
    );
    let mut w = Walker::new("spec");
    w.step_action_spec(&json["spec"]);
    let mut refs = Vec::new();
    for site in &w.sites {
        c.task_site(&env, site, &mut refs);
    }
    unused(c, &env);
}

/// Keeps the references to the spec's own params.
pub(super) fn own_refs(refs: Vec<(Layer, IndexRef)>) -> Vec<IndexRef> {
    refs.into_iter()
        .filter(|(l, _)| *l == Layer::Own)
        .map(|(_, r)| r)
        .collect()
}

/// Checks every string of the task spec `json` in `env`. Returns the array-index references with
/// the layer their param was found in.
pub(super) fn scan<'a>(
    c: &mut Checker<'a, '_, '_>,
    env: &TaskEnv<'_, 'a>,
    json: &Value,
) -> Vec<(Layer, IndexRef)> {
    let mut w = Walker::new(&env.base);
    w.task_spec(json);
    let mut refs = Vec::new();
    for site in &w.sites {
        c.task_site(env, site, &mut refs);
    }
    refs
}

/// W501 and W502 for a task scope's own declarations.
pub(super) fn unused(c: &mut Checker, env: &TaskEnv) {
    let what = env.what();
    for p in env.params.own.iter() {
        if !p.used.get()
            && let Some(decl) = &p.decl
        {
            let d = Diagnostic::warning(
                codes::W501,
                format!("param `{}` is declared but never used", p.name),
            )
            .label("no `$(params…)` refers to it")
            .help(format!(
                "remove it, or use it as `$(params.{})` in the {what}",
                p.name
            ));
            c.report_at(decl, p.name, d);
        }
    }
    if matches!(env.host, Host::Action(_)) {
        return;
    }
    // A workspace is used by a `$(workspaces.<w>…)` reference, by a step or sidecar that mounts it,
    // or by a string that mentions its mount path (`/workspace/<w>`).
    let mut mounted: HashSet<&str> = HashSet::new();
    let mut texts: Vec<&str> = Vec::new();
    for s in env.view.steps {
        mounted.extend(s.workspaces.iter().map(|w| w.name.as_str()));
        texts.extend(s.script.as_deref());
        texts.extend(s.command.iter().map(String::as_str));
        texts.extend(s.args.iter().map(String::as_str));
        texts.extend(s.working_dir.as_deref());
        texts.extend(s.env.iter().filter_map(|e| e.value.as_deref()));
    }
    for s in env.view.sidecars {
        mounted.extend(s.workspaces.iter().map(|w| w.name.as_str()));
        texts.extend(s.script.as_deref());
        texts.extend(s.command.iter().map(String::as_str));
        texts.extend(s.args.iter().map(String::as_str));
        texts.extend(s.working_dir.as_deref());
    }
    if let Some(t) = env.view.step_template {
        texts.extend(t.command.iter().map(String::as_str));
        texts.extend(t.args.iter().map(String::as_str));
        texts.extend(t.working_dir.as_deref());
        texts.extend(t.env.iter().filter_map(|e| e.value.as_deref()));
    }
    for (i, w) in env.view.workspaces.iter().enumerate() {
        if env.ws_used[i].get() || mounted.contains(w.name.as_str()) {
            continue;
        }
        // An explicit `mountPath` puts the files where a tool looks for them by itself (kaniko reads
        // `/kaniko/.docker`): mounting it there is the use.
        if w.mount_path.as_deref().is_some_and(|p| !p.is_empty()) {
            continue;
        }
        let mount = w.effective_mount_path();
        if texts.iter().any(|t| t.contains(&mount)) {
            continue;
        }
        let d = Diagnostic::warning(
            codes::W502,
            format!("workspace `{}` is declared but never used", w.name),
        )
        .label("nothing refers to it")
        .help(format!(
            "remove it, or use `$(workspaces.{}.path)` in a step (it is mounted at `{mount}`)",
            w.name
        ));
        c.report_at(&format!("{}.workspaces[{i}]", env.base), &w.name, d);
    }
}

impl<'a> Checker<'a, '_, '_> {
    /// Checks the references of one string of a task scope.
    pub(super) fn task_site(
        &mut self,
        env: &TaskEnv<'_, 'a>,
        site: &Site,
        refs: &mut Vec<(Layer, IndexRef)>,
    ) {
        for r in find_refs(site.text) {
            let var = match &r.var {
                Ok(v) => v,
                Err(_) => {
                    if site.loc != Loc::ResultValue {
                        self.malformed(site, &r);
                    }
                    continue;
                }
            };
            // A task result's `value` is checked for its form by the structure pass; here only the
            // step and result it names.
            if site.loc == Loc::ResultValue && !matches!(var, Var::StepResult { .. }) {
                continue;
            }
            if let Var::Unknown(inner) = var
                && let Some(rest) = ["inputs.params.", "outputs.params."]
                    .iter()
                    .find_map(|p| inner.strip_prefix(p))
            {
                self.old_syntax(site, &r, rest);
                // the param it means is not "unused" on top of that
                env.params.mark_used(rest);
                continue;
            }
            let (val, what) = self.task_var(env, site, &r, var, refs);
            self.shape(site, &r, val, &what);
        }
    }

    /// `$(inputs.params.x)`: the v1alpha1 form, which Tekton v1 no longer substitutes.
    fn old_syntax(&mut self, site: &Site, r: &Reference, name: &str) {
        let text = &site.text[r.start..r.end];
        let d = Diagnostic::warning(
            codes::W509,
            format!("`{text}` is the old (v1alpha1) form of a param; Tekton v1 leaves it alone"),
        )
        .label("not substituted")
        .help(format!("write `$(params.{name})`"));
        self.report_at(&site.path, text, d);
    }

    fn task_var(
        &mut self,
        env: &TaskEnv<'_, 'a>,
        site: &Site,
        r: &Reference,
        var: &Var,
        refs: &mut Vec<(Layer, IndexRef)>,
    ) -> (Val, String) {
        let text = &site.text[r.start..r.end];
        let unknown = (Val::Unknown, String::new());
        match var {
            Var::Params { name, sel } => {
                let (val, what) = self.param_var(&env.params, site, r, name, sel, refs);
                (val, what)
            }
            Var::ResultPath(name) => {
                let declared = match env.host {
                    Host::Action(a) => a.results.iter().any(|x| &x.name == name),
                    _ => env.view.result(name).is_some(),
                };
                if !declared {
                    let names: Vec<&str> = match env.host {
                        Host::Action(a) => a.results.iter().map(|x| x.name.as_str()).collect(),
                        _ => env.view.results.iter().map(|x| x.name.as_str()).collect(),
                    };
                    let d = Diagnostic::error(
                        codes::E205,
                        format!("the {} declares no result `{name}`", env.what()),
                    )
                    .label("unknown result")
                    .note(format!(
                        "Tekton: non-existent variable in \"{}\"",
                        line_at(site.text, r.start)
                    ))
                    .help(if names.is_empty() {
                        format!("declare it with `t.result(\"{name}\")`")
                    } else {
                        suggestion(name, names.iter().copied(), "results")
                    });
                    self.report_at(&site.path, text, d);
                }
                (Val::Str, String::new())
            }
            Var::StepResultPath(name) => {
                let results: Option<Vec<&str>> = match (env.host, site.loc) {
                    (Host::Action(a), _) => {
                        Some(a.results.iter().map(|x| x.name.as_str()).collect())
                    }
                    (_, Loc::Container(Cont::Step(i), _)) => self
                        .step_results(env, i)
                        .map(|rs| rs.iter().map(|x| x.name.as_str()).collect()),
                    _ => {
                        let d = Diagnostic::warning(
                            codes::E204,
                            format!("`{text}` is only available in a step"),
                        )
                        .label("not substituted here")
                        .help("write step results from a step's `script`, `command` or `args`");
                        self.report_at(&site.path, text, d);
                        None
                    }
                };
                if let Some(names) = results
                    && !names.contains(&name.as_str())
                {
                    let d = Diagnostic::error(
                        codes::E205,
                        format!("this step declares no result `{name}`"),
                    )
                    .label("unknown step result")
                    .note(format!(
                        "Tekton: non-existent variable in \"{}\"",
                        line_at(site.text, r.start)
                    ))
                    .help(if names.is_empty() {
                        format!("declare it on the step: `results: [\"{name}\"]`")
                    } else {
                        suggestion(name, names.iter().copied(), "step results")
                    });
                    self.report_at(&site.path, text, d);
                }
                unknown
            }
            Var::StepResult { step, result, sel } => {
                if matches!(env.host, Host::Action(_)) {
                    return unknown;
                }
                let allowed = matches!(
                    site.loc,
                    Loc::Container(
                        Cont::Step(_),
                        CField::Env | CField::Cmd | CField::Params | CField::When
                    ) | Loc::ResultValue
                );
                if !allowed {
                    let d = Diagnostic::error(
                        codes::E210,
                        format!("`{text}` is a step result, which can only be used in `env`, `command` or `args` of a later step"),
                    )
                    .label("not substituted here")
                    .note(format!(
                        "Tekton: stepResult substitutions are only allowed in env, command and args. Found usage in {}",
                        line_at(site.text, r.start)
                    ))
                    .help(format!("pass it in an env var: `env: #{{ VALUE: \"{text}\" }}`, then use `$VALUE` in the script"));
                    self.report_at(&site.path, text, d);
                    return unknown;
                }
                let Some(&idx) = env.steps.get(step.as_str()) else {
                    let names: Vec<&str> = env.steps.keys().copied().collect();
                    let mut names = names;
                    names.sort_unstable();
                    let d =
                        Diagnostic::error(codes::E207, format!("the task has no step `{step}`"))
                            .label("unknown step")
                            .note(format!(
                                "Tekton: non-existent variable in \"{}\"",
                                line_at(site.text, r.start)
                            ))
                            .help(suggestion(step, names.iter().copied(), "steps"));
                    self.report_at(&site.path, text, d);
                    return unknown;
                };
                if let Loc::Container(Cont::Step(cur), _) = site.loc
                    && idx >= cur
                {
                    let d = Diagnostic::error(
                        codes::E207,
                        if idx == cur {
                            format!("step `{step}` uses its own result `{result}`")
                        } else {
                            format!("step `{step}` runs after this one, so its result `{result}` does not exist yet")
                        },
                    )
                    .label("not produced yet")
                    .help("a step can only use the results of the steps before it");
                    self.report_at(&site.path, text, d);
                    return unknown;
                }
                let Some(results) = self.step_results(env, idx) else {
                    return unknown;
                };
                let Some(decl) = results.iter().find(|x| &x.name == result) else {
                    let names: Vec<&str> = results.iter().map(|x| x.name.as_str()).collect();
                    let d = Diagnostic::error(
                        codes::E207,
                        format!("step `{step}` declares no result `{result}`"),
                    )
                    .label("unknown step result")
                    .note(format!(
                        "Tekton: non-existent variable in \"{}\"",
                        line_at(site.text, r.start)
                    ))
                    .help(if names.is_empty() {
                        format!("declare it on step `{step}`: `results: [\"{result}\"]`")
                    } else {
                        suggestion(result, names.iter().copied(), "results")
                    });
                    self.report_at(&site.path, text, d);
                    return unknown;
                };
                let keys: Option<Vec<&str>> = decl
                    .properties
                    .as_ref()
                    .map(|m| m.keys().map(String::as_str).collect());
                let what = format!("result `{result}` of step `{step}`");
                match select(decl.effective_type(), keys.as_deref(), sel) {
                    Ok(v) => (v, what),
                    Err(e) => {
                        self.sel_error(site, r, &what, e, keys.as_deref());
                        unknown
                    }
                }
            }
            Var::StepExitCodePath(s) => {
                if matches!(env.host, Host::Action(_)) {
                    return unknown;
                }
                let ok = if let Some(i) = s.strip_prefix("step-unnamed-") {
                    i.parse::<usize>().is_ok_and(|i| i < env.view.steps.len())
                } else if let Some(n) = s.strip_prefix("step-") {
                    env.steps.contains_key(n)
                } else {
                    false
                };
                if !ok {
                    let mut names: Vec<String> =
                        env.steps.keys().map(|n| format!("step-{n}")).collect();
                    names.sort_unstable();
                    let msg = if !s.starts_with("step-") && env.steps.contains_key(s.as_str()) {
                        format!(
                            "`{text}` names step `{s}` without the `step-` prefix that exit codes use"
                        )
                    } else {
                        format!("no step is called `{s}` here")
                    };
                    let d = Diagnostic::error(codes::E207, msg)
                        .label("unknown step")
                        .help(if s.starts_with("step-") {
                            suggestion(s, names.iter().map(String::as_str), "steps")
                        } else {
                            format!("the step is written with a `step-` prefix: `$(steps.step-{s}.exitCode.path)`")
                        });
                    self.report_at(&site.path, text, d);
                }
                (Val::Str, String::new())
            }
            Var::StepArtifact { step, .. } => {
                if !matches!(env.host, Host::Action(_)) && !env.steps.contains_key(step.as_str()) {
                    let names: Vec<&str> = env.steps.keys().copied().collect();
                    let d =
                        Diagnostic::error(codes::E207, format!("the task has no step `{step}`"))
                            .label("unknown step")
                            .help(suggestion(step, names.iter().copied(), "steps"));
                    self.report_at(&site.path, text, d);
                }
                (Val::Str, String::new())
            }
            Var::ArtifactsPath | Var::StepArtifactsPath | Var::CredentialsPath => {
                (Val::Str, String::new())
            }
            Var::Workspace { name, attr } => {
                // `$(workspaces.<w>.bound)` of an undeclared workspace is never substituted, so it
                // is not "true": Tekton's examples use that on purpose to skip a step.
                if matches!(env.host, Host::Action(_))
                    || *attr == WorkspaceAttr::Bound && !env.ws.contains_key(name.as_str())
                {
                    return (Val::Str, String::new());
                }
                if let Some(&i) = env.ws.get(name.as_str()) {
                    env.ws_used[i].set(true);
                } else if env.ws_extra.contains(name.as_str()) {
                } else if let Host::Pipeline { env: p, .. } = env.host {
                    if !p.use_workspace(name) {
                        self.unknown_workspace(site, r, name, env);
                    }
                } else {
                    self.unknown_workspace(site, r, name, env);
                }
                (Val::Str, String::new())
            }
            Var::Context { scope, .. } => {
                let ok = scope.in_task()
                    || (matches!(env.host, Host::Pipeline { .. })
                        && matches!(scope, ContextScope::PipelineRun | ContextScope::Pipeline));
                if !ok {
                    let (msg, help) = match (scope, env.host) {
                        (ContextScope::PipelineTask, Host::Pipeline { .. }) => (
                            format!("`{text}` is only substituted in the params of a pipeline task, not inside its task"),
                            "pass it in as a param: `params: #{ retries: \"$(context.pipelineTask.retries)\" }`".to_string(),
                        ),
                        _ => (
                            format!("`{text}` is a pipeline variable; a {} only sees `context.taskRun.*` and `context.task.*`", env.what()),
                            "pass the value in as a param from the pipeline task".to_string(),
                        ),
                    };
                    let d = Diagnostic::warning(codes::E204, msg)
                        .label("never substituted here")
                        .note("Tekton leaves unknown variables as they are, so the text would reach the container unchanged")
                        .help(help);
                    self.report_at(&site.path, text, d);
                }
                (Val::Str, String::new())
            }
            Var::TaskResult { task, result, sel } => match env.host {
                Host::Pipeline { env: p, node } => self.result_ref(
                    p,
                    Consumer::Node(node),
                    site,
                    r,
                    task,
                    Use::Result(result, sel),
                    false,
                ),
                _ => {
                    self.pipeline_only(site, r, env);
                    unknown
                }
            },
            Var::TaskArtifact { task, .. } => match env.host {
                Host::Pipeline { env: p, node } => {
                    self.result_ref(p, Consumer::Node(node), site, r, task, Use::Task, false);
                    (Val::Str, String::new())
                }
                _ => {
                    self.pipeline_only(site, r, env);
                    unknown
                }
            },
            Var::MatrixLength(_) | Var::MatrixResultLength { .. } => {
                let d = Diagnostic::warning(codes::E204, format!("`{text}` is only substituted in the params of a pipeline task, not inside a task"))
                    .label("never substituted here")
                    .help("pass it in as a param of the pipeline task");
                self.report_at(&site.path, text, d);
                unknown
            }
            Var::TaskStatus(_) | Var::TaskReason(_) | Var::TasksStatus => {
                let d = match env.host {
                    Host::Pipeline { .. } => Diagnostic::error(
                        codes::E211,
                        format!("`{text}` is only substituted in the `params` and `when` of a finally task, not inside its task"),
                    )
                    .label("never substituted here")
                    .help("pass it in as a param of the finally task: `params: #{ status: \"…\" }`, then use `$(params.status)`"),
                    _ => Diagnostic::warning(codes::E204, format!("`{text}` is a pipeline variable; a {} cannot see it", env.what()))
                        .label("never substituted here")
                        .help("pass the value in as a param from a finally pipeline task"),
                };
                self.report_at(&site.path, text, d);
                unknown
            }
            Var::FinallyResult { .. } => {
                let d = Diagnostic::warning(
                    codes::E212,
                    format!("`{text}` can only be used in a pipeline's `results`"),
                )
                .label("not substituted here")
                .help("finally results are available only to pipeline results");
                self.report_at(&site.path, text, d);
                unknown
            }
            Var::Unknown(_) | Var::Shell(_) | Var::KubeletEscape(_) => unknown,
        }
    }

    /// The results a step declares (its StepAction's results when it has a `ref` to one of the
    /// bundle); `None` when they are not known.
    fn step_results(&self, env: &TaskEnv<'_, 'a>, i: usize) -> Option<&'a [StepResult]> {
        let step = env.view.steps.get(i)?;
        if step.ref_.is_some() {
            return self.index.step_action(step).map(|a| a.results.as_slice());
        }
        Some(&step.results)
    }

    fn unknown_workspace(&mut self, site: &Site, r: &Reference, name: &str, env: &TaskEnv) {
        let text = &site.text[r.start..r.end];
        let mut names: Vec<&str> = env.ws.keys().copied().collect();
        names.extend(env.ws_extra.iter().copied());
        names.sort_unstable();
        let d = Diagnostic::warning(
            codes::E206,
            format!("the {} declares no workspace `{name}`", env.what()),
        )
        .label("unknown workspace")
        .note("Tekton would leave the text as it is")
        .help(if names.is_empty() {
            format!("declare it with `t.workspace(\"{name}\")`")
        } else {
            suggestion(name, names.iter().copied(), "workspaces")
        });
        self.report_at(&site.path, text, d);
        if let Some(meant) = crate::diag::suggest::did_you_mean(name, names.iter().copied())
            && let Some(&i) = env.ws.get(meant)
        {
            env.ws_used[i].set(true);
        }
    }

    fn pipeline_only(&mut self, site: &Site, r: &Reference, env: &TaskEnv) {
        let text = &site.text[r.start..r.end];
        let d = Diagnostic::warning(codes::E204, format!("`{text}` refers to another pipeline task, which a {} cannot see", match env.host {
            Host::TaskRun => "TaskRun",
            Host::Action(_) => "step action",
            _ => "Task",
        }))
        .label("never substituted here")
        .help("declare a param on the task and pass the result to it from the pipeline: `p.task(\"t\", t, #{ params: #{ x: other.result(\"r\") } })`");
        self.report_at(&site.path, text, d);
    }

    /// `$(params.<name>…)` in any scope: the param must be declared, the selector must fit its type.
    /// Returns the value's shape and a description for messages.
    pub(super) fn param_var(
        &mut self,
        scope: &ParamScope,
        site: &Site,
        r: &Reference,
        name: &str,
        sel: &Selector,
        refs: &mut Vec<(Layer, IndexRef)>,
    ) -> (Val, String) {
        let text = &site.text[r.start..r.end];
        let found = match scope.lookup(name) {
            Some((p, l)) => Some((p, l, sel.clone())),
            // `$(params.a.b)` also names a string param called `a.b`.
            None => match sel {
                Selector::Key(k) => scope
                    .lookup(&format!("{name}.{k}"))
                    .filter(|(p, _)| p.ty != crate::model::ParamType::Object)
                    .map(|(p, l)| (p, l, Selector::None)),
                _ => None,
            },
        };
        let Some((p, layer, sel)) = found else {
            let names = scope.names();
            let d = Diagnostic::error(codes::E202, format!("param `{name}` is not declared"))
                .label("unknown param")
                .note(format!(
                    "Tekton: non-existent variable in \"{}\"",
                    line_at(site.text, r.start)
                ))
                .help(if names.is_empty() {
                    format!("declare it: `t.param(\"{name}\")`")
                } else {
                    suggestion(name, names.iter().copied(), "params")
                });
            self.report_at(&site.path, text, d);
            // The param it was meant to be is not "unused" on top of that.
            if let Some(meant) = crate::diag::suggest::did_you_mean(name, names.iter().copied()) {
                scope.mark_used(meant);
            }
            return (Val::Unknown, String::new());
        };
        scope.mark_used(p.name);
        let what = format!("param {}", q(p.name));
        if p.any {
            return (Val::Unknown, what);
        }
        match select(p.ty, p.keys.as_deref(), &sel) {
            Ok(v) => {
                if let Selector::Index(i) = sel {
                    refs.push((layer, self.index_ref(site, r, p.name, i)));
                }
                (v, format!("{what} ({})", p.ty))
            }
            // Propagated objects are merged: a key may come from another layer.
            Err(SelError::UnknownKey(k)) if scope.any_layer_has_key(p.name, &k) => (Val::Str, what),
            Err(e) => {
                self.sel_error(site, r, &what, e, p.keys.as_deref());
                (Val::Unknown, what)
            }
        }
    }
}
