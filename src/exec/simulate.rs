//! `simulate`: a PipelineRun through [`Execution`] with stated outcomes instead of containers.
//!
//! Every attempt takes [`Stated::duration`] of virtual time and succeeds, unless its task is named in
//! [`Stated::fail`] (fails, for its first N attempts or all) or [`Stated::timeout`] (runs into its
//! timeout). A succeeded task produces the results stated for it; every other result it declares or
//! that someone references becomes a visible placeholder `<task.result>` that is marked unknown, so a
//! `when` comparing it is undecidable instead of guessed.

use super::run::{
    Action, DEFAULT_TIMEOUT, Execution, Outcome, Report, RunInput, Start, TaskSource,
};
use crate::bundle::Bundle;
use crate::expr::Var;
use crate::model::{ParamType, ParamValue, PipelineRun, PipelineSpec, TaskSpec};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How a task fails in a simulation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Failure {
    /// The step that fails (for the message); the task's first step when `None`.
    pub step: Option<String>,
    /// How many attempts fail (`None`: all of them).
    pub attempts: Option<u32>,
}

/// What the user states about the run.
#[derive(Debug, Clone, Default)]
pub struct Stated {
    pub fail: BTreeMap<String, Failure>,
    pub timeout: BTreeSet<String>,
    /// task → result → value.
    pub results: BTreeMap<String, BTreeMap<String, ParamValue>>,
    /// Virtual duration of every attempt (1 s when zero).
    pub duration: Duration,
}

/// Builds the execution input for a planned PipelineRun (see [`super::plan::plan_run`]) whose Tasks and
/// Pipeline are in `bundle`.
pub fn input_for(run: &PipelineRun, bundle: &Bundle) -> Result<RunInput, String> {
    let spec: PipelineSpec;
    let pipeline_name: String;
    match (&run.spec.pipeline_spec, &run.spec.pipeline_ref) {
        (Some(s), _) => {
            spec = s.clone();
            pipeline_name = run
                .metadata
                .name
                .clone()
                .or_else(|| run.metadata.generate_name.clone())
                .unwrap_or_default();
        }
        (None, Some(r)) if r.resolver.is_some() => {
            return Err(format!(
                "the run's pipeline comes from the {} resolver, which cannot be fetched offline: \
                 define the pipeline in the script",
                r.resolver.as_deref().unwrap_or_default()
            ));
        }
        (None, Some(r)) => {
            let name = r.name.clone().unwrap_or_default();
            let Some((_, p)) = bundle
                .pipelines()
                .find(|(_, p)| p.metadata.name.as_deref() == Some(name.as_str()))
            else {
                return Err(format!(
                    "pipeline {name:?} is not defined in the script, so its run cannot be simulated"
                ));
            };
            spec = p.spec.clone();
            pipeline_name = name;
        }
        (None, None) => return Err("the run has neither pipelineRef nor pipelineSpec".into()),
    }
    let name = match (&run.metadata.name, &run.metadata.generate_name) {
        (Some(n), _) => n.clone(),
        // the cluster appends 5 random characters; a simulation shows where they go
        (None, Some(g)) => format!("{g}xxxxx"),
        (None, None) => format!("{pipeline_name}-run"),
    };
    let timeout = |s: &Option<String>| -> Result<Option<Option<Duration>>, String> {
        match s {
            None => Ok(None),
            Some(t) => {
                let d = super::plan::parse_duration(t)?;
                Ok(Some(if d.is_zero() { None } else { Some(d) }))
            }
        }
    };
    let t = run.spec.timeouts.clone().unwrap_or_default();
    let pipeline_timeout = timeout(&t.pipeline)?.unwrap_or(Some(DEFAULT_TIMEOUT));
    let mut task_timeouts = BTreeMap::new();
    for s in &run.spec.task_run_specs {
        if let Some(Some(d)) = timeout(&s.timeout)? {
            task_timeouts.insert(s.pipeline_task_name.clone(), d);
        }
    }
    let tasks: BTreeMap<String, TaskSpec> = bundle
        .tasks()
        .filter_map(|(_, t)| Some((t.metadata.name.clone()?, t.spec.clone())))
        .collect();
    Ok(RunInput {
        name,
        namespace: run
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        uid: "00000000-0000-0000-0000-000000000000".into(),
        pipeline_name,
        params: run.spec.params.clone(),
        bound_workspaces: run.spec.workspaces.iter().map(|w| w.name.clone()).collect(),
        pipeline_timeout,
        tasks_timeout: timeout(&t.tasks)?.flatten(),
        finally_timeout: timeout(&t.finally)?.flatten(),
        spec,
        tasks,
        task_timeouts,
    })
}

/// Plans the run as `run` does (`-p`/`-w` checked against the pipeline) and builds its execution input.
pub fn plan_input(bundle: &Bundle, req: &super::plan::RunRequest) -> Result<RunInput, String> {
    let plan = super::plan::plan_run(bundle.objects.iter().map(|o| &o.resource), req)?;
    let run: PipelineRun = serde_json::from_value(plan.body)
        .map_err(|e| format!("the planned PipelineRun is not valid: {e}"))?;
    input_for(&run, bundle)
}

/// Runs the execution to its end with the stated outcomes.
pub fn simulate(input: RunInput, stated: &Stated) -> Report {
    let referenced = referenced_results(&input.spec);
    let mut exec = Execution::new(input);
    let step = if stated.duration.is_zero() {
        Duration::from_secs(1)
    } else {
        stated.duration
    };
    let mut now = Duration::ZERO;
    // (end, id, outcome), completed in time order, then by attempt id
    let mut pending: Vec<(Duration, usize, Outcome)> = Vec::new();
    let mut actions = exec.advance(now);
    // a bound on iterations, whatever the input: every attempt ends or is cancelled
    for _ in 0..1_000_000 {
        for a in actions.drain(..) {
            match a {
                Action::Start(s) => {
                    let (after, outcome) = outcome_for(&s, stated, &referenced, step);
                    pending.push((now + after, s.id, outcome));
                }
                Action::Cancel { id, .. } => pending.retain(|(_, p, _)| *p != id),
            }
        }
        if exec.is_finished() {
            break;
        }
        pending.sort_by_key(|p| (p.0, p.1));
        let next_end = pending.first().map(|p| p.0);
        let next = match (next_end, exec.deadline()) {
            (Some(e), Some(d)) => e.min(d),
            (Some(e), None) => e,
            (None, Some(d)) => d,
            (None, None) => break,
        };
        now = next;
        while pending.first().is_some_and(|p| p.0 <= now) {
            let (_, id, outcome) = pending.remove(0);
            exec.complete(id, outcome, now);
        }
        actions = exec.advance(now);
    }
    exec.report()
}

/// Results each task must provide because someone references them (`$(tasks.t.results.r)`).
fn referenced_results(spec: &PipelineSpec) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut scan = |s: &str| {
        for r in crate::expr::find_refs(s) {
            if let Ok(
                Var::TaskResult { task, result, .. } | Var::FinallyResult { task, result, .. },
            ) = &r.var
            {
                out.entry(task.clone()).or_default().insert(result.clone());
            }
        }
    };
    for pt in spec.all_tasks() {
        super::graph::for_each_string(pt, "", &mut |_, s| scan(s));
    }
    for r in &spec.results {
        for s in r.value.strings() {
            scan(s);
        }
    }
    out
}

fn outcome_for(
    s: &Start,
    stated: &Stated,
    referenced: &BTreeMap<String, BTreeSet<String>>,
    step: Duration,
) -> (Duration, Outcome) {
    let name = &s.pipeline_task;
    let spec = match &s.source {
        TaskSource::Spec(spec) => Some(spec),
        _ => None,
    };
    if stated.timeout.contains(name) {
        let t = s.timeout.unwrap_or(DEFAULT_TIMEOUT);
        return (t, Outcome::timed_out(&s.taskrun, t));
    }
    if let Some(f) = stated.fail.get(name)
        && f.attempts.is_none_or(|n| s.retry < n)
    {
        let step_name = f
            .step
            .clone()
            .or_else(|| spec.and_then(|t| t.steps.first()).map(|st| st.name.clone()))
            .unwrap_or_else(|| "unnamed-0".into());
        return (
            step,
            Outcome::failed(format!("\"step-{step_name}\" exited with code 1")),
        );
    }
    let mut results = BTreeMap::new();
    let mut unknown = BTreeSet::new();
    let mut declared: BTreeMap<String, (ParamType, Vec<String>)> = BTreeMap::new();
    if let Some(t) = spec {
        for r in &t.results {
            let keys = r
                .properties
                .as_ref()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            declared.insert(r.name.clone(), (r.effective_type(), keys));
        }
    }
    for r in referenced.get(name).into_iter().flatten() {
        declared
            .entry(r.clone())
            .or_insert((ParamType::String, Vec::new()));
    }
    let given = stated.results.get(name);
    for (r, (ty, keys)) in declared {
        if let Some(v) = given.and_then(|g| g.get(&r)) {
            results.insert(r, v.clone());
            continue;
        }
        let ph = format!("<{name}.{r}>");
        let v = match ty {
            ParamType::String => ParamValue::String(ph),
            ParamType::Array => ParamValue::Array(vec![ph]),
            ParamType::Object => ParamValue::Object(
                keys.iter()
                    .map(|k| (k.clone(), format!("<{name}.{r}.{k}>")))
                    .collect(),
            ),
        };
        unknown.insert(r.clone());
        results.insert(r, v);
    }
    // results stated for a task whose spec is unknown are still produced
    if let Some(g) = given {
        for (r, v) in g {
            results.entry(r.clone()).or_insert_with(|| v.clone());
        }
    }
    let mut o = Outcome::succeeded(results);
    o.unknown_results = unknown;
    (step, o)
}
