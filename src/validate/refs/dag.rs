//! The task graph of a pipeline (E3xx): nodes are the `tasks` in declaration order, an edge
//! `a → b` means `a` waits for `b` (through `runAfter`, or a `$(tasks.b…)` reference anywhere in
//! `a`: params, `when`, `matrix`, its embedded task). Cycles are found with Tarjan's algorithm and
//! reported once per strongly connected component, with one concrete cycle spelled out.

use super::Checker;
use super::env::suggestion;
use super::pipeline::{Dep, PipelineEnv};
use crate::diag::Diagnostic;
use crate::model::PipelineSpec;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{HashMap, HashSet, VecDeque};

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
            "E307",
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
    let mut deps: Vec<Dep> = Vec::new();
    for (i, node) in env.nodes.iter().enumerate() {
        for (j, target) in node.pt.run_after.iter().enumerate() {
            let path = format!("{}.runAfter[{j}]", node.path);
            if node.finally {
                if j == 0 {
                    let d = Diagnostic::error("E306", format!("finally task `{}` has `runAfter`", node.pt.name))
                        .label("not allowed in `finally`")
                        .note(format!("Tekton: no runAfter allowed under spec.finally, final task {} has runAfter specified", node.pt.name))
                        .help("finally tasks always run after all other tasks; remove `runAfter`");
                    c.report_run_after(&path, target, d);
                }
                continue;
            }
            if target == &node.pt.name {
                let d = Diagnostic::error("E303", format!("task `{target}` runs after itself"))
                    .label("`runAfter` names the task itself")
                    .note(format!("Tekton: invalid value: cycle detected; task \"{target}\" depends on \"{target}\""))
                    .help("remove it from `runAfter`");
                c.report_run_after(&path, target, d);
                continue;
            }
            match env.by_name.get(target.as_str()) {
                None => {
                    let dag = env.nodes[..n].iter().map(|x| x.pt.name.as_str());
                    let d = Diagnostic::error("E302", format!("task `{}` runs after `{target}`, but there is no such task", node.pt.name))
                        .label("unknown task")
                        .note(format!("Tekton: couldn't add link between {0} and {target}: task {0} depends on {target} but {target} wasn't present in Pipeline", node.pt.name))
                        .help(suggestion(target, dag, "tasks"));
                    c.report_run_after(&path, target, d);
                }
                Some(&k) if env.nodes[k].finally => {
                    let d = Diagnostic::error("E304", format!("task `{}` runs after finally task `{target}`, which only runs after all tasks", node.pt.name))
                        .label("depends on a finally task")
                        .note(format!("Tekton: couldn't add link between {0} and {target}: task {0} depends on {target} but {target} wasn't present in Pipeline", node.pt.name))
                        .help(format!("remove `{target}` from `runAfter`, or make it a regular task"))
                        .secondary(c.span(&env.nodes[k].path), format!("`{target}` is a finally task"));
                    c.report_run_after(&path, target, d);
                }
                Some(&k) => deps.push(Dep {
                    from: i,
                    to: k,
                    path,
                    needle: target.clone(),
                }),
            }
        }
    }
    deps.extend(env.deps.borrow().iter().cloned());

    // Graph: node i = tasks[i]; edge from → to (from waits for to), first dependency per pair.
    let mut g: DiGraph<usize, usize> = DiGraph::with_capacity(n, deps.len());
    let ids: Vec<NodeIndex> = (0..n).map(|i| g.add_node(i)).collect();
    let mut first: HashMap<(usize, usize), usize> = HashMap::new();
    for (k, d) in deps.iter().enumerate() {
        if d.from == d.to || d.from >= n || d.to >= n {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(e) = first.entry((d.from, d.to)) {
            e.insert(k);
            g.add_edge(ids[d.from], ids[d.to], k);
        }
    }
    let mut sccs: Vec<Vec<usize>> = tarjan_scc(&g)
        .into_iter()
        .filter(|s| s.len() > 1)
        .map(|s| {
            let mut v: Vec<usize> = s.into_iter().map(|x| g[x]).collect();
            v.sort_unstable();
            v
        })
        .collect();
    sccs.sort();
    for scc in sccs {
        report_cycle(c, env, &g, &ids, &deps, &scc);
    }
}

/// One cycle through the first task (in declaration order) of a strongly connected component.
fn cycle_in(g: &DiGraph<usize, usize>, ids: &[NodeIndex], scc: &[usize]) -> Vec<usize> {
    let members: HashSet<usize> = scc.iter().copied().collect();
    let start = scc[0];
    // BFS over "waits for" edges, staying inside the component, back to `start`; neighbours in
    // declaration order, so the cycle shown is deterministic.
    let mut prev: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(x) = queue.pop_front() {
        let mut next: Vec<usize> = g
            .neighbors(ids[x])
            .map(|y| g[y])
            .filter(|y| members.contains(y))
            .collect();
        next.sort_unstable();
        for y in next {
            if y == start {
                let mut path = vec![x];
                let mut cur = x;
                while cur != start {
                    cur = prev[&cur];
                    path.push(cur);
                }
                path.reverse();
                return path;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(y) {
                e.insert(x);
                queue.push_back(y);
            }
        }
    }
    scc.to_vec()
}

fn report_cycle(
    c: &mut Checker,
    env: &PipelineEnv,
    g: &DiGraph<usize, usize>,
    ids: &[NodeIndex],
    deps: &[Dep],
    scc: &[usize],
) {
    let cycle = cycle_in(g, ids, scc);
    let name = |i: usize| env.nodes[i].pt.name.as_str();
    let mut chain: Vec<&str> = cycle.iter().map(|&i| name(i)).collect();
    chain.push(name(cycle[0]));
    let edge = |a: usize, b: usize| -> &Dep {
        let e = g.find_edge(ids[a], ids[b]).expect("cycle edges exist");
        &deps[g[e]]
    };
    let how = |d: &Dep| {
        if d.path.contains(".runAfter[") {
            "runAfter".to_string()
        } else {
            format!("uses `{}`", d.needle)
        }
    };
    let first = edge(cycle[0], cycle[1 % cycle.len()]);
    let mut d = Diagnostic::error(
        "E301",
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
    let (path, needle) = (first.path.clone(), first.needle.clone());
    if path.contains(".runAfter[") {
        c.report_run_after(&path, &needle, d);
    } else {
        c.report_at(&path, &needle, d);
    }
}
