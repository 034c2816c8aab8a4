//! The pipeline scope (tekton-api.md §4.2): pipeline-task fields, pipeline results, param defaults;
//! embedded task specs (with propagation); and what a pipeline task passes to a task that is known
//! (params, matrix, workspaces, array indices).

use super::env::{
    Layer, Param, ParamScope, Params, TaskView, Val, is_matrixed, select, suggestion,
};
use super::task::{Host, TaskEnv};
use super::walk::{Loc, PtField, Site, Walker};
use super::{Checker, Facts, IndexRef, dag, task};
use crate::bundle::Object;
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::expr::{ContextScope, Reference, Selector, Var, find_refs};
use crate::model::{ParamType, ParamValue, PipelineSpec, PipelineTask};
use serde_json::Value;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};

/// A task of a pipeline whose spec is known.
pub(super) struct Def<'a> {
    pub view: TaskView<'a>,
    /// The Task object, for a `taskRef` to a Task of the bundle.
    pub obj: Option<&'a Object>,
    /// `Task `build`` or `its embedded task`.
    pub desc: String,
    /// Path of the spec in the object that holds it (`spec` of the Task, or
    /// `spec.tasks[i].taskSpec`).
    pub base: String,
}

/// One pipeline task.
pub(super) struct Node<'a> {
    pub pt: &'a PipelineTask,
    pub finally: bool,
    /// `spec.tasks[3]`, `spec.pipelineSpec.finally[0]`, …
    pub path: String,
    pub def: Option<Def<'a>>,
    pub matrixed: bool,
}

/// Everything a pipeline spec declares.
pub(super) struct PipelineEnv<'a> {
    pub spec: &'a PipelineSpec,
    /// Declared params, then params propagated from a run.
    pub params: Params<'a>,
    ws: HashMap<&'a str, usize>,
    ws_used: Vec<Cell<bool>>,
    /// Workspaces propagated from a run.
    ws_extra: HashSet<&'a str>,
    /// Embedded in a run: workspaces may be propagated, so unknown ones are not errors.
    lenient: bool,
    /// `tasks` then `finally`.
    pub nodes: Vec<Node<'a>>,
    pub by_name: HashMap<&'a str, usize>,
    /// `nodes[..dag_count]` are `tasks`.
    pub dag_count: usize,
}

impl PipelineEnv<'_> {
    /// Marks a pipeline workspace used; false when it is not declared (nor propagated).
    pub(super) fn use_workspace(&self, name: &str) -> bool {
        if let Some(&i) = self.ws.get(name) {
            self.ws_used[i].set(true);
            true
        } else {
            self.ws_extra.contains(name) || self.lenient
        }
    }

    fn ws_optional(&self, name: &str) -> bool {
        self.ws
            .get(name)
            .is_some_and(|&i| self.spec.workspaces[i].optional == Some(true))
    }

    pub(super) fn names(&self) -> impl Iterator<Item = &str> + Clone {
        self.nodes.iter().map(|n| n.pt.name.as_str())
    }
}

/// Who uses a task result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Consumer {
    Node(usize),
    /// The pipeline's `results`.
    Results,
}

/// How a task is referred to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Use<'x> {
    /// `$(tasks.<t>.results.<r><sel>)`
    Result(&'x str, &'x Selector),
    /// `$(tasks.<t>.matrix.<r>.length)`
    ResultLength(&'x str),
    /// `$(tasks.<t>.matrix.length)`, artifacts: the task must exist.
    Task,
}

/// What checking a pipeline spec found that its runner needs.
#[derive(Default)]
pub(super) struct SpecOut {
    /// `$(params.<p>[N])` on the pipeline's params (and on propagated ones).
    pub refs: Vec<IndexRef>,
    /// Propagated params that something refers to.
    pub used_propagated: HashSet<String>,
}

/// A Pipeline object. Returns its `$(params.<p>[N])` references.
pub(super) fn check_pipeline<'a>(
    c: &mut Checker<'a, '_, '_>,
    spec: &'a PipelineSpec,
    facts: &Facts,
) -> Vec<IndexRef> {
    let json = c.obj.resource.to_json();
    check_spec(
        c,
        "spec",
        spec,
        &json["spec"],
        &[],
        HashSet::new(),
        false,
        facts,
    )
    .refs
}

/// A pipeline spec at `base` (a Pipeline's `spec`, a run's `pipelineSpec`, a pipeline task's
/// `pipelineSpec`), with the params and workspaces its runner propagates into it.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_spec<'a>(
    c: &mut Checker<'a, '_, '_>,
    base: &str,
    spec: &'a PipelineSpec,
    json: &Value,
    propagated: &'a [crate::model::Param],
    ws_extra: HashSet<&'a str>,
    lenient: bool,
    facts: &Facts,
) -> SpecOut {
    let env = build_env(c, base, spec, propagated, ws_extra, lenient);
    let mut pipeline_refs: Vec<IndexRef> = Vec::new();

    // Param defaults and results.
    let mut w = Walker::new(base);
    w.pipeline_spec_own(json);
    for site in &w.sites {
        c.pipeline_own_site(&env, site, &mut pipeline_refs);
    }

    for (i, node) in env.nodes.iter().enumerate() {
        let list = if node.finally { "finally" } else { "tasks" };
        let j = if node.finally { i - env.dag_count } else { i };
        let pt_json = &json[list][j];
        // Matrix params (and include params) are strings inside one combination: visible to
        // `displayName`.
        let matrix_names = Params::strings(
            node.pt
                .matrix
                .iter()
                .flat_map(|m| {
                    m.params
                        .iter()
                        .chain(m.include.iter().flat_map(|inc| inc.params.iter()))
                })
                .map(|p| p.name.as_str()),
        );
        let mut w = Walker::new(&node.path);
        w.pipeline_task(pt_json);
        let mut node_refs: Vec<(Layer, IndexRef)> = Vec::new();
        for site in &w.sites {
            c.pt_site(&env, i, site, &matrix_names, &mut node_refs);
        }
        pipeline_refs.extend(node_refs.drain(..).map(|(_, r)| r));

        // The embedded task, with propagation: params the pipeline task passes, pipeline params,
        // pipeline workspaces and the workspaces the task binds.
        let mut pt_params = Params::default();
        for p in &node.pt.params {
            let (ty, keys) = match c.value_type(&env, &p.value) {
                Some((t, k)) => (Some(t), k),
                None => (None, None),
            };
            pt_params.add(Param::given(&p.name, ty, keys));
        }
        if let Some(m) = &node.pt.matrix {
            for p in m
                .params
                .iter()
                .chain(m.include.iter().flat_map(|inc| inc.params.iter()))
            {
                pt_params.add(Param::given(&p.name, Some(ParamType::String), None));
            }
        }
        let mut task_refs: Vec<IndexRef> = Vec::new();
        if let (Some(def), Some(_)) = (&node.def, node.pt.task_spec.as_ref()) {
            let own = Params::declared(def.view.params, &def.base);
            let scope = ParamScope {
                own: &own,
                pt: Some(&pt_params),
                outer: Some(&env.params),
                extra: None,
            };
            let ws_extra: HashSet<&str> =
                node.pt.workspaces.iter().map(|b| b.name.as_str()).collect();
            let tenv = TaskEnv::new(
                def.base.clone(),
                def.view,
                scope,
                ws_extra,
                Host::Pipeline { env: &env, node: i },
            );
            for (layer, r) in task::scan(c, &tenv, &pt_json["taskSpec"]) {
                match layer {
                    Layer::Own | Layer::PipelineTask => task_refs.push(r),
                    Layer::Outer => pipeline_refs.push(r),
                }
            }
            task::unused(c, &tenv);
        } else if node.def.is_some()
            && let Some(name) = node.pt.task_ref.as_ref().and_then(|r| r.name.as_deref())
        {
            task_refs.extend(
                facts
                    .task_index_refs
                    .get(name)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        if let Some(child) = node.pt.pipeline_spec.as_deref() {
            let ws: HashSet<&str> = node.pt.workspaces.iter().map(|b| b.name.as_str()).collect();
            check_spec(
                c,
                &format!("{}.pipelineSpec", node.path),
                child,
                &pt_json["pipelineSpec"],
                &node.pt.params,
                ws,
                true,
                facts,
            );
        }
        c.pt_workspaces(&env, i);
        if node.def.is_some() {
            c.pt_params(&env, i, &pt_params);
            c.pt_indices(&env, i, &task_refs);
        }
    }

    dag::check(c, &env);

    for p in env.params.iter() {
        if let (Some(decl), false) = (&p.decl, p.used.get()) {
            let d = Diagnostic::warning(
                codes::W501,
                format!("pipeline param `{}` is declared but never used", p.name),
            )
            .label("no `$(params…)` refers to it")
            .help(format!(
                "remove it, or pass it to a task: `params: #{{ x: \"$(params.{})\" }}`",
                p.name
            ));
            c.report_at(decl, p.name, d);
        }
    }
    for (i, w) in spec.workspaces.iter().enumerate() {
        if !env.ws_used[i].get() {
            let d = Diagnostic::warning(
                codes::W502,
                format!("pipeline workspace `{}` is declared but never used", w.name),
            )
            .label("no task binds it")
            .help(format!(
                "remove it, or bind it to a task: `workspaces: #{{ source: \"{}\" }}`",
                w.name
            ));
            c.report_at(&format!("{base}.workspaces[{i}]"), &w.name, d);
        }
    }
    SpecOut {
        refs: pipeline_refs,
        used_propagated: env
            .params
            .iter()
            .filter(|p| p.decl.is_none() && p.used.get())
            .map(|p| p.name.to_string())
            .collect(),
    }
}

/// Variables that only a task substitutes.
fn is_task_variable(v: &Var) -> bool {
    match v {
        Var::ResultPath(_)
        | Var::StepResultPath(_)
        | Var::StepResult { .. }
        | Var::StepExitCodePath(_)
        | Var::StepArtifact { .. }
        | Var::ArtifactsPath
        | Var::StepArtifactsPath
        | Var::CredentialsPath => true,
        Var::Context { scope, .. } => scope.in_task(),
        Var::Workspace { attr, .. } => *attr != crate::expr::WorkspaceAttr::Bound,
        _ => false,
    }
}

fn build_env<'a>(
    c: &Checker<'a, '_, '_>,
    base: &str,
    spec: &'a PipelineSpec,
    propagated: &'a [crate::model::Param],
    ws_extra: HashSet<&'a str>,
    lenient: bool,
) -> PipelineEnv<'a> {
    let mut params = Params::declared(&spec.params, base);
    for p in
        Params::values(propagated.iter().map(|p| (p.name.as_str(), &p.value))).into_iter_owned()
    {
        params.add(p);
    }
    let mut ws = HashMap::new();
    for (i, w) in spec.workspaces.iter().enumerate() {
        ws.entry(w.name.as_str()).or_insert(i);
    }
    let mut nodes = Vec::new();
    for (finally, list, tasks) in [
        (false, "tasks", &spec.tasks),
        (true, "finally", &spec.finally),
    ] {
        for (j, pt) in tasks.iter().enumerate() {
            let path = format!("{base}.{list}[{j}]");
            let def = if let Some(ts) = pt.task_spec.as_ref().filter(|t| !t.is_custom()) {
                Some(Def {
                    view: ts.into(),
                    obj: None,
                    desc: "its embedded task".into(),
                    base: format!("{path}.taskSpec"),
                })
            } else if let Some((obj, ts)) = pt.task_ref.as_ref().and_then(|r| c.index.task_ref(r)) {
                Some(Def {
                    view: ts.into(),
                    obj: Some(obj),
                    desc: format!("Task `{}`", obj.resource.display_name()),
                    base: "spec".into(),
                })
            } else {
                None
            };
            nodes.push(Node {
                pt,
                finally,
                path,
                def,
                matrixed: is_matrixed(pt),
            });
        }
    }
    let mut by_name = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        by_name.entry(n.pt.name.as_str()).or_insert(i);
    }
    PipelineEnv {
        spec,
        params,
        ws_used: spec.workspaces.iter().map(|_| Cell::new(false)).collect(),
        ws,
        ws_extra,
        lenient,
        dag_count: spec.tasks.len(),
        nodes,
        by_name,
    }
}

impl<'a> Checker<'a, '_, '_> {
    /// Param defaults (which may refer to other params) and pipeline results.
    fn pipeline_own_site(&mut self, env: &PipelineEnv<'a>, site: &Site, refs: &mut Vec<IndexRef>) {
        for r in find_refs(site.text) {
            let Ok(var) = &r.var else { continue };
            match (site.loc, var) {
                (Loc::ParamDefault, Var::Params { name, sel }) => {
                    let mut layered = Vec::new();
                    self.param_var(
                        &ParamScope::own(&env.params),
                        site,
                        &r,
                        name,
                        sel,
                        &mut layered,
                    );
                    refs.extend(layered.into_iter().map(|(_, r)| r));
                }
                (
                    Loc::PipelineResult,
                    Var::TaskResult { task, result, sel }
                    | Var::FinallyResult { task, result, sel },
                ) => {
                    let finally = matches!(var, Var::FinallyResult { .. });
                    let (val, what) = self.result_ref(
                        env,
                        Consumer::Results,
                        site,
                        &r,
                        task,
                        Use::Result(result, sel),
                        finally,
                    );
                    self.shape(site, &r, val, &what);
                }
                // Anything else in a pipeline result is the structure pass's (E124).
                _ => {}
            }
        }
    }

    /// The references of one string of a pipeline task (not of its embedded spec).
    fn pt_site(
        &mut self,
        env: &PipelineEnv<'a>,
        i: usize,
        site: &Site,
        matrix_names: &Params,
        refs: &mut Vec<(Layer, IndexRef)>,
    ) {
        let Loc::Pt(field) = site.loc else { return };
        let node = &env.nodes[i];
        for r in find_refs(site.text) {
            let text = &site.text[r.start..r.end];
            let var = match &r.var {
                Ok(v) => v,
                Err(_) => {
                    self.malformed(site, &r);
                    continue;
                }
            };
            // A param value is substituted again inside the task, so task variables given as
            // values work when the task has what they name.
            let value_field = matches!(field, PtField::Param | PtField::Matrix | PtField::Include);
            if value_field && is_task_variable(var) {
                self.pt_task_var(env, i, site, &r, var);
                continue;
            }
            let (val, what) = match var {
                Var::Params { name, sel } => {
                    let scope = ParamScope {
                        extra: (field == PtField::DisplayName).then_some(matrix_names),
                        ..ParamScope::own(&env.params)
                    };
                    self.param_var(&scope, site, &r, name, sel, refs)
                }
                Var::TaskResult { task, result, sel } => self.result_ref(
                    env,
                    Consumer::Node(i),
                    site,
                    &r,
                    task,
                    Use::Result(result, sel),
                    false,
                ),
                Var::MatrixLength(task) | Var::TaskArtifact { task, .. } => {
                    self.result_ref(env, Consumer::Node(i), site, &r, task, Use::Task, false);
                    (Val::Str, String::new())
                }
                Var::MatrixResultLength { task, result } => {
                    self.result_ref(
                        env,
                        Consumer::Node(i),
                        site,
                        &r,
                        task,
                        Use::ResultLength(result),
                        false,
                    );
                    (Val::Str, String::new())
                }
                Var::FinallyResult { .. } => {
                    let d = Diagnostic::warning(codes::E212, format!("`{text}` can only be used in a pipeline's `results`"))
                        .label("not substituted here")
                        .help("finally results are available only to pipeline results; a finally task can use `$(tasks.<t>.results.<r>)` of the non-finally tasks");
                    self.report_at(&site.path, text, d);
                    (Val::Unknown, String::new())
                }
                Var::TaskStatus(t) | Var::TaskReason(t) => {
                    if !node.finally {
                        self.status_outside_finally(site, &r, node);
                    } else {
                        match env.by_name.get(t.as_str()) {
                            Some(&k) if !env.nodes[k].finally => {}
                            _ => {
                                let dag: Vec<&str> = env.nodes[..env.dag_count]
                                    .iter()
                                    .map(|n| n.pt.name.as_str())
                                    .collect();
                                let d = Diagnostic::error(
                                    codes::E214,
                                    format!("`{t}` is not a (non-finally) task of this pipeline"),
                                )
                                .label("unknown task")
                                .note(format!(
                                    "Tekton: pipeline task {t} is not defined in the pipeline"
                                ))
                                .help(suggestion(
                                    t,
                                    dag.iter().copied(),
                                    "tasks",
                                ));
                                self.report_at(&site.path, text, d);
                            }
                        }
                    }
                    (Val::Str, String::new())
                }
                Var::TasksStatus => {
                    if !node.finally {
                        self.status_outside_finally(site, &r, node);
                    }
                    (Val::Str, String::new())
                }
                Var::Workspace { name, attr } => {
                    if *attr != crate::expr::WorkspaceAttr::Bound {
                        let d = Diagnostic::warning(codes::E204, format!("`{text}` is not available in a pipeline; a pipeline only has `$(workspaces.{name}.bound)`"))
                            .label("never substituted here")
                            .help(format!("bind the workspace to the task and use `$(workspaces.{name}.{})` inside the task", attr.as_str()));
                        self.report_at(&site.path, text, d);
                    } else if !env.use_workspace(name)
                        && (!value_field
                            || node
                                .def
                                .as_ref()
                                .is_none_or(|d| d.view.workspace(name).is_none()))
                    {
                        let names: Vec<&str> = env
                            .spec
                            .workspaces
                            .iter()
                            .map(|w| w.name.as_str())
                            .collect();
                        let d = Diagnostic::warning(
                            codes::E206,
                            format!("the pipeline declares no workspace `{name}`"),
                        )
                        .label("unknown workspace")
                        .help(if names.is_empty() {
                            format!("declare it with `p.workspace(\"{name}\")`")
                        } else {
                            suggestion(name, names.iter().copied(), "workspaces")
                        });
                        self.report_at(&site.path, text, d);
                        if let Some(meant) =
                            crate::diag::suggest::did_you_mean(name, names.iter().copied())
                        {
                            env.use_workspace(meant);
                        }
                    }
                    (Val::Str, String::new())
                }
                Var::Context { scope, .. } => {
                    let ok = match scope {
                        ContextScope::PipelineRun | ContextScope::Pipeline => true,
                        ContextScope::PipelineTask => matches!(
                            field,
                            PtField::Param
                                | PtField::Matrix
                                | PtField::Include
                                | PtField::DisplayName
                        ),
                        ContextScope::TaskRun | ContextScope::Task => false,
                    };
                    if !ok {
                        let d = Diagnostic::warning(codes::E204, match scope {
                            ContextScope::PipelineTask => format!("`{text}` is only substituted in the params and `displayName` of a pipeline task"),
                            _ => format!("`{text}` is a task variable; it is not substituted in a pipeline"),
                        })
                        .label("never substituted here")
                        .help(match scope {
                            ContextScope::PipelineTask => "pass it to the task as a param",
                            _ => "use it inside the task (a step's script or args), where Tekton substitutes it",
                        });
                        self.report_at(&site.path, text, d);
                    }
                    (Val::Str, String::new())
                }
                Var::ResultPath(_)
                | Var::StepResultPath(_)
                | Var::StepResult { .. }
                | Var::StepExitCodePath(_)
                | Var::StepArtifact { .. }
                | Var::ArtifactsPath
                | Var::StepArtifactsPath
                | Var::CredentialsPath => {
                    let d = Diagnostic::warning(
                        codes::E204,
                        format!("`{text}` is a task variable; it is not substituted in a pipeline"),
                    )
                    .label("never substituted here")
                    .help("use it inside the task (a step's script, command or args)");
                    self.report_at(&site.path, text, d);
                    (Val::Unknown, String::new())
                }
                Var::Unknown(inner) => {
                    if field.strict_prefix() {
                        let d = Diagnostic::error(codes::E213, format!("`{text}` is not a Tekton variable, and Tekton rejects other `$(…)` in the params, `when` and `matrix` of a pipeline task"))
                            .label("not a Tekton variable")
                            .note(format!("Tekton: invalid variable reference \"{text}\", must start with a valid prefix: params, tasks, finally, context, workspaces, or results; if you meant a shell variable, use ${{VAR}} instead"))
                            .help(format!("if this is shell, move it into the task's script (or write `${{{inner}}}` for a variable); if it is a Tekton variable, check its prefix"));
                        self.report_at(&site.path, text, d);
                    }
                    (Val::Unknown, String::new())
                }
                Var::Shell(_) | Var::KubeletEscape(_) => (Val::Unknown, String::new()),
            };
            self.shape(site, &r, val, &what);
        }
    }

    /// A task variable given as a pipeline task's param value: the task must have what it names.
    fn pt_task_var(
        &mut self,
        env: &PipelineEnv<'a>,
        i: usize,
        site: &Site,
        r: &Reference,
        var: &Var,
    ) {
        let node = &env.nodes[i];
        let Some(def) = &node.def else { return };
        let text = &site.text[r.start..r.end];
        match var {
            Var::ResultPath(res) if def.view.result(res).is_none() => {
                let names: Vec<&str> = def.view.results.iter().map(|x| x.name.as_str()).collect();
                let d = Diagnostic::error(
                    codes::E205,
                    format!(
                        "`{text}` is substituted inside {}, which declares no result `{res}`",
                        def.desc
                    ),
                )
                .label("unknown result")
                .help(suggestion(res, names.iter().copied(), "results"))
                .secondary(self.def_span(node), "the task is defined here");
                self.report_at(&site.path, text, d);
            }
            Var::Workspace { name, .. } => {
                let embedded = def.obj.is_none();
                let known = def.view.workspace(name).is_some()
                    || (embedded
                        && (node.pt.workspaces.iter().any(|b| &b.name == name)
                            || env.use_workspace(name)));
                if !known {
                    let names: Vec<&str> = def
                        .view
                        .workspaces
                        .iter()
                        .map(|w| w.name.as_str())
                        .collect();
                    let d = Diagnostic::warning(codes::E206, format!("`{text}` is substituted inside {}, which declares no workspace `{name}`", def.desc))
                        .label("unknown workspace")
                        .help(suggestion(name, names.iter().copied(), "workspaces"))
                        .secondary(self.def_span(node), "the task is defined here");
                    self.report_at(&site.path, text, d);
                }
            }
            _ => {}
        }
    }

    fn status_outside_finally(&mut self, site: &Site, r: &Reference, node: &Node) {
        let text = &site.text[r.start..r.end];
        let d = Diagnostic::error(codes::E211, format!("`{text}` is an execution status, available only to `finally` tasks; `{}` is not one", node.pt.name))
            .label("status of a task outside `finally`")
            .note("Tekton: pipeline tasks can not refer to execution status of any other pipeline task or aggregate status of tasks")
            .help("move the task into `finally` (`p.finally(…)`), or use a result of the other task instead");
        self.report_at(&site.path, text, d);
    }

    /// A reference to another pipeline task: it must exist, be a task the consumer may wait for,
    /// and (when its spec is known) declare the result, whose type must fit the selector. Records
    /// the dependency. Returns the value's shape and a description.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn result_ref(
        &mut self,
        env: &PipelineEnv<'a>,
        consumer: Consumer,
        site: &Site,
        r: &Reference,
        task: &str,
        usage: Use,
        finally_prefix: bool,
    ) -> (Val, String) {
        let text = &site.text[r.start..r.end];
        let unknown = (Val::Unknown, String::new());
        let Some(&p) = env.by_name.get(task) else {
            if consumer == Consumer::Results {
                return unknown; // the structure pass reports these (E124)
            }
            let Consumer::Node(ci) = consumer else {
                return unknown;
            };
            let cons = &env.nodes[ci];
            let tekton = if cons.finally {
                format!(
                    "invalid task result reference, final task has task result reference from a task {task} which is not defined in the pipeline"
                )
            } else {
                format!(
                    "couldn't add link between {0} and {task}: task {0} depends on {task} but {task} wasn't present in Pipeline",
                    cons.pt.name
                )
            };
            let d = Diagnostic::error(codes::E214, format!("no pipeline task is called `{task}`"))
                .label("unknown task")
                .note(format!("Tekton: {tekton}"))
                .help(suggestion(task, env.names(), "pipeline tasks"));
            self.report_at(&site.path, text, d);
            return unknown;
        };
        let prod = &env.nodes[p];
        match consumer {
            Consumer::Node(ci) => {
                let cons = &env.nodes[ci];
                if ci == p {
                    let d = Diagnostic::error(codes::E303, format!("pipeline task `{task}` uses its own result"))
                        .label("a task cannot wait for itself")
                        .note(format!("Tekton: invalid value: cycle detected; task \"{task}\" depends on \"{task}\""))
                        .help("a task cannot read what it produces through `$(tasks…)`; inside the task use `$(results.<r>.path)`");
                    self.report_at(&site.path, text, d);
                    return unknown;
                }
                if prod.finally {
                    let d = if cons.finally {
                        Diagnostic::error(codes::E305, format!("finally task `{}` uses a result of finally task `{task}`", cons.pt.name))
                            .label("finally tasks run in parallel")
                            .note(format!("Tekton: invalid task result reference, final task has task result reference from a final task {task}"))
                            .help("finally tasks cannot depend on each other; compute the value in a non-finally task")
                    } else {
                        Diagnostic::error(codes::E304, format!("task `{}` uses a result of finally task `{task}`, which only runs after all tasks", cons.pt.name))
                            .label("depends on a finally task")
                            .note(format!("Tekton: couldn't add link between {0} and {task}: task {0} depends on {task} but {task} wasn't present in Pipeline", cons.pt.name))
                            .help(format!("make `{task}` a regular task, or move `{}` into `finally`", cons.pt.name))
                    };
                    self.report_at(
                        &site.path,
                        text,
                        d.secondary(self.span(&prod.path), format!("`{task}` is a finally task")),
                    );
                    return unknown;
                }
            }
            Consumer::Results => {
                if finally_prefix != prod.finally {
                    return unknown; // E124 (structure)
                }
            }
        }
        let (result, sel) = match usage {
            Use::Task => return (Val::Str, String::new()),
            Use::Result(res, sel) => (res, Some(sel)),
            Use::ResultLength(res) => (res, None),
        };
        let Some(def) = &prod.def else { return unknown };
        let Some(decl) = def.view.result(result) else {
            let names: Vec<&str> = def.view.results.iter().map(|x| x.name.as_str()).collect();
            let tekton = match consumer {
                Consumer::Node(ci) => format!(
                    "Tekton (when the run starts): invalid result reference in pipeline task \"{}\": \"{result}\" is not a named result returned by pipeline task \"{task}\"",
                    env.nodes[ci].pt.name
                ),
                Consumer::Results => "Tekton (when the run ends): the pipeline result cannot be computed (InvalidPipelineResultReference)".to_string(),
            };
            let d = Diagnostic::error(
                codes::E215,
                format!(
                    "pipeline task `{task}` ({}) declares no result `{result}`",
                    def.desc
                ),
            )
            .label("unknown result")
            .note(tekton)
            .help(if names.is_empty() {
                format!("the task declares no results; add one with `t.result(\"{result}\")`")
            } else {
                suggestion(result, names.iter().copied(), "results")
            });
            let d = d.secondary(self.def_span(prod), format!("`{task}` runs this task"));
            self.report_at(&site.path, text, d);
            return unknown;
        };
        let Some(sel) = sel else {
            return (Val::Str, String::new());
        };
        let what = format!("result `{result}` of `{task}`");
        if prod.matrixed {
            let ty = decl.effective_type();
            if ty != ParamType::String {
                let d = Diagnostic::error(codes::E216, format!("`{task}` runs as a matrix, so its results must be strings, but `{result}` is an {ty}"))
                    .label("non-string result of a matrixed task")
                    .note(format!("Tekton: Matrixed PipelineTasks emitting results must have an underlying type string, but result {result} has type {ty} in pipelineTask {task}"))
                    .help("declare the result as a string; the matrix collects one string per combination into an array");
                self.report_at(&site.path, text, d);
                return unknown;
            }
            if *sel != Selector::Star {
                let d = Diagnostic::error(codes::E216, format!("`{task}` runs as a matrix, so its result `{result}` is an array of one value per combination and must be used whole, with `[*]`"))
                    .label("needs `[*]`")
                    .note(format!("Tekton: A matrixed pipelineTask can only be consumed in aggregate using [*] notation, but is currently set to {text}"))
                    .help(format!("write `$(tasks.{task}.results.{result}[*])`"));
                self.report_at(&site.path, text, d);
                return unknown;
            }
            return (Val::Array, format!("{what} (collected over the matrix)"));
        }
        let keys: Option<Vec<&str>> = decl
            .properties
            .as_ref()
            .map(|m| m.keys().map(String::as_str).collect());
        let ty = decl.effective_type();
        let res = if ty == ParamType::String && *sel == Selector::Star {
            Err(super::env::SelError::StarOnString)
        } else {
            select(ty, keys.as_deref(), sel)
        };
        match res {
            Ok(v) => (v, format!("{what} ({ty})")),
            Err(e) => {
                self.sel_error(site, r, &what, e, keys.as_deref());
                unknown
            }
        }
    }

    /// Where the task a pipeline task runs is defined (the Task object, or the embedded spec).
    fn def_span(&self, node: &Node) -> Option<crate::source::Span> {
        match &node.def {
            Some(Def { obj: Some(o), .. }) => o.span(""),
            Some(d) => self.span(&d.base),
            None => None,
        }
    }

    /// The span of a declaration inside the task a node runs (`params[k]`, `workspaces[k]`).
    fn decl_span(&self, node: &Node, rel: &str) -> Option<crate::source::Span> {
        let def = node.def.as_ref()?;
        match def.obj {
            Some(o) => o.span(&format!("spec.{rel}")),
            None => self.span(&format!("{}.{rel}", def.base)),
        }
    }

    /// What type a param value passed by a pipeline task has, when it can be told: literal arrays
    /// and objects, plain strings, and strings that are exactly one reference to something typed.
    fn value_type(
        &self,
        env: &PipelineEnv<'a>,
        v: &'a ParamValue,
    ) -> Option<(ParamType, Option<Vec<&'a str>>)> {
        match v {
            ParamValue::Array(_) => Some((ParamType::Array, None)),
            ParamValue::Object(o) => Some((
                ParamType::Object,
                Some(o.keys().map(String::as_str).collect()),
            )),
            ParamValue::String(s) => {
                let refs = find_refs(s);
                let r = match refs.as_slice() {
                    [r] if r.start == 0 && r.end == s.len() => r,
                    _ => return Some((ParamType::String, None)),
                };
                let val = match &r.var {
                    Ok(Var::Params { name, sel }) => {
                        let p = env.params.get(name).filter(|p| !p.any)?;
                        select(p.ty, p.keys.as_deref(), sel).ok()?
                    }
                    Ok(Var::TaskResult { task, result, sel }) => {
                        let prod = &env.nodes[*env.by_name.get(task.as_str())?];
                        if prod.matrixed {
                            if *sel != Selector::Star {
                                return None;
                            }
                            Val::Array
                        } else {
                            let decl = prod.def.as_ref()?.view.result(result)?;
                            let keys: Option<Vec<&str>> = decl
                                .properties
                                .as_ref()
                                .map(|m| m.keys().map(String::as_str).collect());
                            select(decl.effective_type(), keys.as_deref(), sel).ok()?
                        }
                    }
                    Ok(v) if v.is_tekton() => Val::Str,
                    _ => return Some((ParamType::String, None)),
                };
                val.param_type().map(|t| (t, None))
            }
        }
    }

    /// What a pipeline task passes to a known task: declared names, types, required params, matrix.
    fn pt_params(&mut self, env: &PipelineEnv<'a>, i: usize, pt_layer: &Params) {
        let node = &env.nodes[i];
        let Some(def) = &node.def else { return };
        let embedded = def.obj.is_none();
        let declared: Vec<&str> = def.view.params.iter().map(|p| p.name.as_str()).collect();
        // An embedded task may use a param it does not declare (implicit params).
        let implicit = |name: &str| embedded && pt_layer.get(name).is_some_and(|p| p.used.get());
        let unknown_param = |c: &mut Self, path: &str, name: &str| {
            let d = Diagnostic::warning(codes::E217, format!("{} has no param `{name}`", def.desc))
                .label("not a param of the task")
                .note("Tekton accepts and ignores params a task does not declare, so this value is not used")
                .help(if declared.is_empty() {
                    "the task declares no params".to_string()
                } else {
                    suggestion(name, declared.iter().copied(), "params of the task")
                })
                .secondary(c.def_span(node), "the task is defined here");
            c.report_at(path, name, d);
        };
        for (j, p) in node.pt.params.iter().enumerate() {
            let path = format!("{}.params[{j}]", node.path);
            let Some(decl) = def.view.param(&p.name) else {
                if !implicit(&p.name) {
                    unknown_param(self, &path, &p.name);
                }
                continue;
            };
            let want = decl.effective_type();
            match self.value_type(env, &p.value) {
                Some((got, _)) if got != want => {
                    let d = Diagnostic::error(codes::E219, format!("param `{}` of {} is {} {want}, but `{}` passes {} {got}", p.name, def.desc, article(want), node.pt.name, article(got)))
                        .label(format!("{} {got}", article(got)))
                        .note(format!("Tekton (when the task runs): param types don't match the user-specified type: [{}]", p.name))
                        .help(match want {
                            ParamType::Array => "pass an array (`[\"a\", \"b\"]`) or a whole array reference (`\"$(params.list[*])\"`)",
                            ParamType::Object => "pass a map (`#{ key: \"v\" }`) or a whole object reference (`\"$(params.obj[*])\"`)",
                            ParamType::String => "pass a string; to pass one item of an array use `[N]`",
                        })
                        .secondary(self.decl_span(node, &format!("params[{}]", def.view.params.iter().position(|x| x.name == p.name).unwrap_or(0))), format!("declared as {want} here"));
                    self.report_at(&path, &p.name, d);
                }
                Some((ParamType::Object, Some(keys))) if want == ParamType::Object => {
                    let mut missing: Vec<&str> = Vec::new();
                    let default_keys: Vec<&str> = decl
                        .default
                        .as_ref()
                        .and_then(|d| d.as_object())
                        .map(|o| o.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    for k in decl.properties.iter().flat_map(|m| m.keys()) {
                        if !keys.contains(&k.as_str()) && !default_keys.contains(&k.as_str()) {
                            missing.push(k);
                        }
                    }
                    if !missing.is_empty() {
                        let d = Diagnostic::error(codes::E219, format!("object param `{}` of {} needs the keys {}, which `{}` does not pass", p.name, def.desc, missing.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "), node.pt.name))
                            .label("missing keys")
                            .note(format!("Tekton (when the task runs): missing keys for these params which are required in ParamSpec's properties map[{}:[{}]]", p.name, missing.join(" ")))
                            .help("pass every declared property");
                        self.report_at(&path, &p.name, d);
                    }
                }
                _ => {}
            }
        }
        if let Some(m) = &node.pt.matrix {
            for (j, p) in m.params.iter().enumerate() {
                let path = format!("{}.matrix.params[{j}]", node.path);
                let Some(decl) = def.view.param(&p.name) else {
                    if !implicit(&p.name) {
                        unknown_param(self, &path, &p.name);
                    }
                    continue;
                };
                if decl.effective_type() != ParamType::String {
                    let d = Diagnostic::error(codes::E220, format!("matrix param `{}` must be a string param of the task, but {} declares it as {} {}", p.name, def.desc, article(decl.effective_type()), decl.effective_type()))
                        .label("not a string param")
                        .note("Tekton (when the run starts): InvalidMatrixParameterTypes: parameters of type string only are allowed in the task for matrix params")
                        .help("each matrix combination passes one item of the array, so the task's param must be a string");
                    self.report_at(&path, &p.name, d);
                }
                let got = self.value_type(env, &p.value).map(|t| t.0);
                if matches!(got, Some(t) if t != ParamType::Array) {
                    let d = Diagnostic::error(codes::E220, format!("matrix param `{}` must be given an array (one item per combination)", p.name))
                        .label("not an array")
                        .note("Tekton (when the run starts): InvalidMatrixParameterTypes: parameters of type array only are allowed in matrix")
                        .help("pass a list, `[\"linux\", \"mac\"]`, or a whole array reference, `\"$(params.platforms[*])\"`");
                    self.report_at(&path, &p.name, d);
                }
            }
            for (k, inc) in m.include.iter().enumerate() {
                for (j, p) in inc.params.iter().enumerate() {
                    let path = format!("{}.matrix.include[{k}].params[{j}]", node.path);
                    let Some(decl) = def.view.param(&p.name) else {
                        if !implicit(&p.name) {
                            unknown_param(self, &path, &p.name);
                        }
                        continue;
                    };
                    let bad_value = !matches!(p.value, ParamValue::String(_));
                    if decl.effective_type() != ParamType::String || bad_value {
                        let d = Diagnostic::error(codes::E220, format!("matrix include param `{}` must be a string, passed to a string param of the task", p.name))
                            .label("not a string")
                            .note("Tekton (when the run starts): InvalidMatrixParameterTypes: parameters of type string only are allowed in matrix include")
                            .help("include adds single combinations: give one string per param");
                        self.report_at(&path, &p.name, d);
                    }
                }
            }
        }
        // Required params.
        let passed: HashSet<&str> = node
            .pt
            .params
            .iter()
            .chain(node.pt.matrix.iter().flat_map(|m| {
                m.params
                    .iter()
                    .chain(m.include.iter().flat_map(|i| i.params.iter()))
            }))
            .map(|p| p.name.as_str())
            .collect();
        let missing: Vec<(usize, &str)> = def
            .view
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.default.is_none() && !passed.contains(p.name.as_str()))
            // an embedded task also gets the pipeline's params
            .filter(|(_, p)| !(embedded && env.params.contains(&p.name)))
            .map(|(k, p)| (k, p.name.as_str()))
            .collect();
        if !missing.is_empty() {
            let names = missing
                .iter()
                .map(|(_, n)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut d = Diagnostic::error(codes::E218, format!("pipeline task `{}` does not pass {names}, which {} requires (no default)", node.pt.name, def.desc))
                .label("missing params")
                .note(format!(
                    "Tekton (when the task runs): missing values for these params which have no default values: [{}]",
                    missing.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(" ")
                ))
                .help(format!("pass them: `params: #{{ {}: \"…\" }}`, or give them a default in the task", missing[0].1));
            for (k, n) in &missing {
                d = d.secondary(
                    self.decl_span(node, &format!("params[{k}]")),
                    format!("`{n}` is declared here"),
                );
            }
            let needle = node.pt.name.clone();
            self.report_at(&node.path, &needle, d);
        }
    }

    /// Workspace bindings of a pipeline task: against the pipeline's workspaces, and (when the
    /// task is known) against the task's.
    fn pt_workspaces(&mut self, env: &PipelineEnv<'a>, i: usize) {
        let node = &env.nodes[i];
        let def = node.def.as_ref();
        let embedded = def.is_some_and(|d| d.obj.is_none());
        for (j, b) in node.pt.workspaces.iter().enumerate() {
            let path = format!("{}.workspaces[{j}]", node.path);
            let pw = b.effective_workspace();
            if !env.use_workspace(pw) {
                let names: Vec<&str> = env
                    .spec
                    .workspaces
                    .iter()
                    .map(|w| w.name.as_str())
                    .collect();
                let d = Diagnostic::error(codes::E223, format!("pipeline task `{}` binds pipeline workspace `{pw}`, which the pipeline does not declare", node.pt.name))
                    .label("unknown pipeline workspace")
                    .note(format!("Tekton: pipeline task \"{}\" expects workspace with name \"{pw}\" but none exists in pipeline spec", node.pt.name))
                    .help(if names.is_empty() {
                        format!("declare it: `let ws = p.workspace(\"{pw}\");`")
                    } else {
                        suggestion(pw, names.iter().copied(), "pipeline workspaces")
                    });
                self.report_at(&path, pw, d);
                if let Some(meant) = crate::diag::suggest::did_you_mean(pw, names.iter().copied()) {
                    env.use_workspace(meant);
                }
            }
            let Some(def) = def else { continue };
            match def.view.workspace(&b.name) {
                None if !embedded => {
                    let names: Vec<&str> = def
                        .view
                        .workspaces
                        .iter()
                        .map(|w| w.name.as_str())
                        .collect();
                    let d = Diagnostic::error(codes::E223, format!("{} has no workspace `{}`", def.desc, b.name))
                        .label("not a workspace of the task")
                        .note(format!("Tekton (when the task runs): workspace binding \"{}\" does not match any declared workspace", b.name))
                        .help(if names.is_empty() {
                            "the task declares no workspaces".to_string()
                        } else {
                            suggestion(&b.name, names.iter().copied(), "workspaces of the task")
                        })
                        .secondary(self.def_span(node), "the task is defined here");
                    self.report_at(&path, &b.name, d);
                }
                Some(tw) if tw.optional != Some(true) && env.ws_optional(pw) => {
                    let d = Diagnostic::error(codes::E224, format!("pipeline workspace `{pw}` is optional, but {} requires workspace `{}`", def.desc, b.name))
                        .label("optional workspace bound to a required one")
                        .note(format!("Tekton (when the run starts): pipeline workspace \"{pw}\" is marked optional but pipeline task \"{}\" requires it be provided", node.pt.name))
                        .help("make the pipeline workspace required, or declare the task's workspace with `optional: true`");
                    self.report_at(&path, pw, d);
                }
                _ => {}
            }
        }
        let Some(def) = def else { return };
        let bound: HashSet<&str> = node.pt.workspaces.iter().map(|b| b.name.as_str()).collect();
        for (k, w) in def.view.workspaces.iter().enumerate() {
            if w.optional == Some(true) || bound.contains(w.name.as_str()) {
                continue;
            }
            // An embedded task also sees the pipeline's workspaces (propagation).
            if embedded && env.use_workspace(&w.name) {
                continue;
            }
            let d = Diagnostic::error(codes::E222, format!("pipeline task `{}` does not bind workspace `{}`, which {} requires", node.pt.name, w.name, def.desc))
                .label("missing workspace")
                .note(format!("Tekton (when the task runs): declared workspace \"{}\" is required but has not been bound", w.name))
                .help(format!("bind it: `workspaces: #{{ {}: ws }}`, or declare it in the task with `optional: true`", w.name))
                .secondary(self.decl_span(node, &format!("workspaces[{k}]")), "declared here");
            let needle = node.pt.name.clone();
            self.report_at(&node.path, &needle, d);
        }
    }

    /// `$(params.<p>[N])` inside the task a pipeline task runs, against the array it passes (or
    /// the default).
    fn pt_indices(&mut self, env: &PipelineEnv<'a>, i: usize, refs: &[IndexRef]) {
        let node = &env.nodes[i];
        let Some(def) = &node.def else { return };
        for r in refs {
            let passed = node.pt.params.iter().position(|p| p.name == r.param);
            let in_matrix = node.pt.matrix.iter().any(|m| {
                m.params
                    .iter()
                    .chain(m.include.iter().flat_map(|i| i.params.iter()))
                    .any(|p| p.name == r.param)
            });
            let len = match passed {
                Some(j) => node.pt.params[j].value.as_array().map(<[String]>::len),
                None if in_matrix => None,
                None => def
                    .view
                    .param(&r.param)
                    .and_then(|p| p.default.as_ref())
                    .and_then(ParamValue::as_array)
                    .map(<[String]>::len),
            };
            let Some(len) = len else { continue };
            if r.index < len {
                continue;
            }
            let msg = format!(
                "`{}` is out of range: `{}` passes {len} item{} for param `{}`",
                r.text,
                node.pt.name,
                if len == 1 { "" } else { "s" },
                r.param
            );
            let d = Diagnostic::error(codes::E221, msg).note(format!(
                "Tekton (when the run starts): non-existent param references:[{}]",
                r.text.trim_start_matches("$(").trim_end_matches(')')
            ));
            match passed {
                Some(j) => {
                    let d = d
                        .label(format!("{len} item{}", if len == 1 { "" } else { "s" }))
                        .secondary(r.span, format!("index {} used here", r.index))
                        .help(format!(
                            "pass at least {} items, or use a smaller index",
                            r.index + 1
                        ));
                    self.report_at(&format!("{}.params[{j}]", node.path), &r.param, d);
                }
                None => {
                    let d = d
                        .label(format!(
                            "the default of `{}` has {len} item{}",
                            r.param,
                            if len == 1 { "" } else { "s" }
                        ))
                        .secondary(
                            self.span(&node.path),
                            format!("`{}` does not pass `{}`", node.pt.name, r.param),
                        )
                        .help(format!(
                            "pass `{}` with at least {} items, or use a smaller index",
                            r.param,
                            r.index + 1
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
