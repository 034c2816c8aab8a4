//! The task graph checks (E30x), reported over [`crate::exec::graph::TaskGraph`] — the graph `simulate`,
//! `graph` and the runners schedule over: unknown `runAfter` targets, tasks waiting for themselves or for
//! a finally task, `runAfter` in `finally`, and cycles (Tarjan's algorithm, reported once per strongly
//! connected component, with one concrete cycle spelled out).

use super::Checker;
use super::env::suggestion;
use super::pipeline::PipelineEnv;
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::exec::graph::{Edge, EdgeKind, TaskGraph};
use crate::model::PipelineSpec;
use std::collections::{HashMap, VecDeque};

/// E307: a pipeline that runs itself. A pipeline task's `pipelineRef` (in the pipeline, or in a
/// pipeline it embeds with `pipelineSpec`) names the pipeline, directly or through other
/// pipelines of the bundle: every run would start a child run of the same pipeline, without end.
pub(super) fn pipeline_runs_itself(c: &mut Checker, name: &str, spec: &PipelineSpec) {
    // (path of the pipelineRef, the chain of pipeline names from `name`)
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    let mut refs: Vec<(String, String)> = Vec::new();
    pipeline_refs(spec, "spec", &mut refs);
    for (path, target) in refs {
        if let Some(chain) = chain_back(c, &target, name) {
            found.push((path, chain));
        }
    }
    for (path, chain) in found {
        let mut names = vec![name.to_string()];
        names.extend(chain);
        let d = Diagnostic::error(
            codes::E307,
            if names.len() == 2 {
                format!("pipeline `{name}` runs itself as one of its tasks (`pipelineRef`)")
            } else {
                format!(
                    "pipeline `{name}` runs itself through other pipelines: {}",
                    names.join(" → ")
                )
            },
        )
        .label("runs the pipeline again")
        .note("every run would start a child run of the same pipeline, without end")
        .help("a pipeline task must run another pipeline (or a task); move the shared tasks into a pipeline of their own");
        let target = names[1].clone();
        c.report_at(&format!("{path}.name"), &target, d);
    }
}

/// Every `pipelineRef` (by name, not through a resolver) of `spec`'s tasks, and of the pipelines
/// they embed, with its path.
fn pipeline_refs(spec: &PipelineSpec, path: &str, out: &mut Vec<(String, String)>) {
    let tasks = spec
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("{path}.tasks[{i}]"), t));
    let finally = spec
        .finally
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("{path}.finally[{i}]"), t));
    for (at, t) in tasks.chain(finally) {
        if let Some(r) = &t.pipeline_ref
            && r.resolver.is_none()
            && let Some(n) = &r.name
        {
            out.push((format!("{at}.pipelineRef"), n.clone()));
        }
        if let Some(child) = &t.pipeline_spec {
            pipeline_refs(child, &format!("{at}.pipelineSpec"), out);
        }
    }
}

/// The chain of pipeline names from `from` to `to` through the `pipelineRef`s of the bundle's
/// pipelines (`[from, …, to]`), if there is one. Breadth first, so the chain is a shortest one.
fn chain_back(c: &Checker, from: &str, to: &str) -> Option<Vec<String>> {
    let mut parent: HashMap<String, Option<String>> = HashMap::new();
    parent.insert(from.to_string(), None);
    let mut queue = VecDeque::from([from.to_string()]);
    while let Some(cur) = queue.pop_front() {
        if cur == to {
            let mut chain = vec![cur.clone()];
            let mut at = cur;
            while let Some(Some(p)) = parent.get(&at) {
                chain.push(p.clone());
                at = p.clone();
            }
            chain.reverse();
            return Some(chain);
        }
        let Some((_, spec)) = c.index.pipelines.get(cur.as_str()) else {
            continue;
        };
        let mut refs = Vec::new();
        pipeline_refs(spec, "", &mut refs);
        for (_, next) in refs {
            if !parent.contains_key(&next) {
                parent.insert(next.clone(), Some(cur.clone()));
                queue.push_back(next);
            }
        }
    }
    None
}

pub(super) fn check(c: &mut Checker, env: &PipelineEnv) {
    let n = env.dag_count;
    let g = TaskGraph::new(env.spec);
    // graph paths are relative to the pipeline spec; `env.nodes[i].path` is `<spec>.tasks[i]`
    let prefix = env
        .nodes
        .first()
        .and_then(|x| x.path.strip_suffix("tasks[0]"))
        .unwrap_or("spec.")
        .to_string();
    let path_of = |p: &str| format!("{prefix}{p}");
    for e in g.edges.iter().filter(|e| e.from == e.to) {
        if e.kind == EdgeKind::RunAfter {
            let target = &e.needle;
            let d = Diagnostic::error(codes::E303, format!("task `{target}` runs after itself"))
                .label("`runAfter` names the task itself")
                .note(format!("Tekton: invalid value: cycle detected; task \"{target}\" depends on \"{target}\""))
                .help("remove it from `runAfter`");
            c.report_run_after(&path_of(&e.path), target, d);
        }
    }
    let mut finally_reported = std::collections::BTreeSet::new();
    for dg in g.dangling.iter().filter(|d| d.kind == EdgeKind::RunAfter) {
        let node = &env.nodes[dg.from];
        let target = &dg.target;
        let path = path_of(&dg.path);
        if node.finally {
            if finally_reported.insert(dg.from) {
                let d = Diagnostic::error(codes::E306, format!("finally task `{}` has `runAfter`", node.pt.name))
                    .label("not allowed in `finally`")
                    .note(format!("Tekton: no runAfter allowed under spec.finally, final task {} has runAfter specified", node.pt.name))
                    .help("finally tasks always run after all other tasks; remove `runAfter`");
                c.report_run_after(&path, target, d);
            }
            continue;
        }
        match env.by_name.get(target.as_str()) {
            Some(&k) if env.nodes[k].finally => {
                let d = Diagnostic::error(codes::E304, format!("task `{}` runs after finally task `{target}`, which only runs after all tasks", node.pt.name))
                    .label("depends on a finally task")
                    .note(format!("Tekton: couldn't add link between {0} and {target}: task {0} depends on {target} but {target} wasn't present in Pipeline", node.pt.name))
                    .help(format!("remove `{target}` from `runAfter`, or make it a regular task"))
                    .secondary(c.span(&env.nodes[k].path), format!("`{target}` is a finally task"));
                c.report_run_after(&path, target, d);
            }
            _ => {
                let dag = env.nodes[..n].iter().map(|x| x.pt.name.as_str());
                let d = Diagnostic::error(codes::E302, format!("task `{}` runs after `{target}`, but there is no such task", node.pt.name))
                    .label("unknown task")
                    .note(format!("Tekton: couldn't add link between {0} and {target}: task {0} depends on {target} but {target} wasn't present in Pipeline", node.pt.name))
                    .help(suggestion(target, dag, "tasks"));
                c.report_run_after(&path, target, d);
            }
        }
    }
    for scc in g.cycles() {
        report_cycle(c, env, &g, &prefix, &scc);
    }
}

fn report_cycle(c: &mut Checker, env: &PipelineEnv, g: &TaskGraph, prefix: &str, scc: &[usize]) {
    let cycle = g.cycle_in(scc);
    let name = |i: usize| env.nodes[i].pt.name.as_str();
    let mut chain: Vec<&str> = cycle.iter().map(|&i| name(i)).collect();
    chain.push(name(cycle[0]));
    let edge = |a: usize, b: usize| -> &Edge { g.edge(a, b).expect("cycle edges exist") };
    let how = |d: &Edge| match &d.kind {
        EdgeKind::RunAfter => "runAfter".to_string(),
        EdgeKind::Uses(_) => format!("uses `{}`", d.needle),
    };
    let first = edge(cycle[0], cycle[1 % cycle.len()]);
    let mut d = Diagnostic::error(
        codes::E301,
        format!(
            "the tasks wait for each other in a cycle: {}",
            chain.join(" → ")
        ),
    )
    .label(format!(
        "`{}` waits for `{}` here",
        name(cycle[0]),
        name(cycle[1 % cycle.len()])
    ))
    .note(format!(
        "Tekton: invalid value: cycle detected; task \"{}\" depends on \"{}\"",
        name(cycle[0]),
        name(cycle[1 % cycle.len()])
    ))
    .note("`a → b` means `a` runs after `b` (through `runAfter` or by using a result of `b`)");
    for (k, &i) in cycle.iter().enumerate() {
        let next = cycle[(k + 1) % cycle.len()];
        let dep = edge(i, next);
        d = d.secondary(
            c.span(&env.nodes[i].path),
            format!("`{}` runs after `{}` ({})", name(i), name(next), how(dep)),
        );
    }
    let others: Vec<&str> = scc
        .iter()
        .filter(|i| !cycle.contains(i))
        .map(|&i| name(i))
        .collect();
    if !others.is_empty() {
        d = d.note(format!(
            "also caught in the cycle: {}",
            others
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    d = d.help("remove one of these dependencies (a `runAfter` entry or a result reference) to break the cycle");
    let (path, needle) = (format!("{prefix}{}", first.path), first.needle.clone());
    if first.kind == EdgeKind::RunAfter {
        c.report_run_after(&path, &needle, d);
    } else {
        c.report_at(&path, &needle, d);
    }
}
