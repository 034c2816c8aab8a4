//! The task graph of a pipeline: one node per pipeline task (`tasks` then `finally`), an edge
//! `a → b` when `a` waits for `b` — through `runAfter` or a `$(tasks.b.…)` reference anywhere in `a`
//! (params, matrix, `when`, workspace `subPath`, `taskRef` params, its embedded task).
//!
//! Tekton builds the same graph in `pkg/reconciler/pipeline/dag/dag.go` (`Build`, with
//! `PipelineTask.Deps()` from `pkg/apis/pipeline/v1/pipeline_types.go`). Finally tasks have no edges
//! of their own: they run after every DAG task. Validation reports cycles and unknown targets over this
//! graph (E30x); `simulate`, `graph` and the runners schedule over it.

use crate::expr::{Var, find_refs};
use crate::model::{ParamValue, PipelineSpec, PipelineTask};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Why one task waits for another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeKind {
    /// `runAfter: [b]`.
    RunAfter,
    /// A `$(tasks.b.…)` reference; holds the canonical variable, e.g. `tasks.b.results.commit`.
    Uses(String),
}

/// One dependency: `from` waits for `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    /// Field path relative to the pipeline spec: `tasks[2].runAfter[0]`, `tasks[1].params[0].value`.
    pub path: String,
    /// The text that makes the dependency (the task name in `runAfter`, the `$(…)` reference).
    pub needle: String,
}

/// A reference to a task that is not a DAG task of this pipeline (unknown, or a finally task).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dangling {
    pub from: usize,
    pub target: String,
    pub kind: EdgeKind,
    pub path: String,
    pub needle: String,
}

/// A pipeline task as a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub finally: bool,
}

/// The dependency graph of one pipeline spec.
#[derive(Debug, Clone)]
pub struct TaskGraph {
    pub nodes: Vec<Node>,
    /// `nodes[..dag_count]` are `tasks`, the rest `finally`.
    pub dag_count: usize,
    /// Every dependency between DAG tasks, in field order (duplicates kept: each is a place in the
    /// source). Self-edges (`runAfter` naming the task itself) are kept too.
    pub edges: Vec<Edge>,
    /// References to tasks that are not DAG tasks (finally tasks' own `runAfter` is in here too).
    pub dangling: Vec<Dangling>,
    by_name: HashMap<String, usize>,
    /// Parents of each node (deduplicated, sorted by declaration order).
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
}

impl TaskGraph {
    /// Builds the graph of `spec`. Never fails: unknown targets go to [`TaskGraph::dangling`], cycles are
    /// found by [`TaskGraph::cycles`].
    pub fn new(spec: &PipelineSpec) -> TaskGraph {
        let nodes: Vec<Node> = spec
            .tasks
            .iter()
            .map(|t| Node {
                name: t.name.clone(),
                finally: false,
            })
            .chain(spec.finally.iter().map(|t| Node {
                name: t.name.clone(),
                finally: true,
            }))
            .collect();
        let dag_count = spec.tasks.len();
        let mut by_name = HashMap::with_capacity(nodes.len());
        for (i, n) in nodes.iter().enumerate() {
            by_name.entry(n.name.clone()).or_insert(i);
        }
        let mut g = TaskGraph {
            parents: vec![Vec::new(); nodes.len()],
            children: vec![Vec::new(); nodes.len()],
            nodes,
            dag_count,
            edges: Vec::new(),
            dangling: Vec::new(),
            by_name,
        };
        for (i, pt) in spec.all_tasks().enumerate() {
            let base = if i < dag_count {
                format!("tasks[{i}]")
            } else {
                format!("finally[{}]", i - dag_count)
            };
            for (j, target) in pt.run_after.iter().enumerate() {
                g.link(
                    i,
                    target,
                    EdgeKind::RunAfter,
                    format!("{base}.runAfter[{j}]"),
                    target.clone(),
                );
            }
            for_each_string(pt, &base, &mut |path, s| {
                if !s.contains("$(tasks.") {
                    return;
                }
                for r in find_refs(s) {
                    let Ok(var) = &r.var else { continue };
                    if !matches!(
                        var,
                        Var::TaskResult { .. }
                            | Var::MatrixLength(_)
                            | Var::MatrixResultLength { .. }
                            | Var::TaskArtifact { .. }
                    ) {
                        continue;
                    }
                    let Some(target) = var.task() else { continue };
                    g.link(
                        i,
                        target,
                        EdgeKind::Uses(var.to_inner()),
                        path.to_string(),
                        s[r.range()].to_string(),
                    );
                }
            });
        }
        for e in &g.edges {
            if e.from != e.to {
                g.parents[e.from].push(e.to);
                g.children[e.to].push(e.from);
            }
        }
        for v in g.parents.iter_mut().chain(g.children.iter_mut()) {
            v.sort_unstable();
            v.dedup();
        }
        g
    }

    fn link(&mut self, from: usize, target: &str, kind: EdgeKind, path: String, needle: String) {
        match self.by_name.get(target) {
            Some(&to) if from < self.dag_count && to < self.dag_count => self.edges.push(Edge {
                from,
                to,
                kind,
                path,
                needle,
            }),
            _ => self.dangling.push(Dangling {
                from,
                target: target.to_string(),
                kind,
                path,
                needle,
            }),
        }
    }

    /// The node named `name` (the first, if names repeat).
    pub fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The tasks `i` waits for directly.
    pub fn parents(&self, i: usize) -> &[usize] {
        &self.parents[i]
    }

    /// The tasks that wait for `i` directly.
    pub fn children(&self, i: usize) -> &[usize] {
        &self.children[i]
    }

    /// True when `i` is a finally task.
    pub fn is_finally(&self, i: usize) -> bool {
        i >= self.dag_count
    }

    /// The strongly connected components with more than one task (each sorted, in order of their first
    /// task), plus tasks that wait for themselves.
    pub fn cycles(&self) -> Vec<Vec<usize>> {
        let n = self.dag_count;
        let mut g: DiGraph<usize, ()> = DiGraph::with_capacity(n, self.edges.len());
        let ids: Vec<NodeIndex> = (0..n).map(|i| g.add_node(i)).collect();
        let mut seen = BTreeSet::new();
        for e in &self.edges {
            if e.from != e.to && seen.insert((e.from, e.to)) {
                g.add_edge(ids[e.from], ids[e.to], ());
            }
        }
        let mut out: Vec<Vec<usize>> = tarjan_scc(&g)
            .into_iter()
            .filter(|s| s.len() > 1)
            .map(|s| {
                let mut v: Vec<usize> = s.into_iter().map(|x| g[x]).collect();
                v.sort_unstable();
                v
            })
            .collect();
        out.sort();
        out
    }

    /// The first edge from `from` to `to`, if any.
    pub fn edge(&self, from: usize, to: usize) -> Option<&Edge> {
        self.edges.iter().find(|e| e.from == from && e.to == to)
    }

    /// One concrete cycle through the first task of a component (breadth first over the "waits for"
    /// edges inside it, neighbours in declaration order, so the cycle shown is deterministic).
    pub fn cycle_in(&self, scc: &[usize]) -> Vec<usize> {
        let members: BTreeSet<usize> = scc.iter().copied().collect();
        let start = scc[0];
        let mut prev: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(x) = queue.pop_front() {
            for &y in &self.parents[x] {
                if !members.contains(&y) {
                    continue;
                }
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
                if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(y) {
                    e.insert(x);
                    queue.push_back(y);
                }
            }
        }
        scc.to_vec()
    }

    /// The DAG tasks in topological waves: wave 0 has no parents, wave k waits only for earlier waves.
    /// Each wave is in declaration order. `None` when the graph has a cycle.
    pub fn waves(&self) -> Option<Vec<Vec<usize>>> {
        let n = self.dag_count;
        let mut level = vec![usize::MAX; n];
        let mut indegree: Vec<usize> = (0..n).map(|i| self.parents[i].len()).collect();
        let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        for &i in &ready {
            level[i] = 0;
        }
        let mut done = 0;
        while let Some(i) = ready.pop() {
            done += 1;
            for &c in &self.children[i] {
                level[c] = if level[c] == usize::MAX {
                    level[i] + 1
                } else {
                    level[c].max(level[i] + 1)
                };
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    ready.push(c);
                }
            }
        }
        if done < n {
            return None;
        }
        let depth = level.iter().copied().max().map_or(0, |m| m + 1);
        let mut waves = vec![Vec::new(); depth];
        for (i, &l) in level.iter().enumerate() {
            waves[l].push(i);
        }
        Some(waves)
    }
}

/// Calls `f(path, text)` for every string of a pipeline task that Tekton substitutes or scans for
/// dependencies: params, matrix, `when`, workspace `subPath`, `taskRef`/`pipelineRef` params, display
/// name, `onError`, `timeout`, and every string of an embedded task or pipeline spec.
pub fn for_each_string(pt: &PipelineTask, base: &str, f: &mut dyn FnMut(&str, &str)) {
    fn value(v: &ParamValue, path: &str, f: &mut dyn FnMut(&str, &str)) {
        match v {
            ParamValue::String(s) => f(path, s),
            ParamValue::Array(a) => {
                for (k, s) in a.iter().enumerate() {
                    f(&format!("{path}[{k}]"), s);
                }
            }
            ParamValue::Object(o) => {
                for (k, s) in o {
                    f(&format!("{path}.{k}"), s);
                }
            }
        }
    }
    if let Some(d) = &pt.display_name {
        f(&format!("{base}.displayName"), d);
    }
    for (j, p) in pt.params.iter().enumerate() {
        value(&p.value, &format!("{base}.params[{j}].value"), f);
    }
    if let Some(m) = &pt.matrix {
        for (j, p) in m.params.iter().enumerate() {
            value(&p.value, &format!("{base}.matrix.params[{j}].value"), f);
        }
        for (j, inc) in m.include.iter().enumerate() {
            for (k, p) in inc.params.iter().enumerate() {
                value(
                    &p.value,
                    &format!("{base}.matrix.include[{j}].params[{k}].value"),
                    f,
                );
            }
        }
    }
    for (j, w) in pt.when.iter().enumerate() {
        if let Some(s) = &w.input {
            f(&format!("{base}.when[{j}].input"), s);
        }
        for (k, s) in w.values.iter().enumerate() {
            f(&format!("{base}.when[{j}].values[{k}]"), s);
        }
        if let Some(s) = &w.cel {
            f(&format!("{base}.when[{j}].cel"), s);
        }
    }
    for (j, w) in pt.workspaces.iter().enumerate() {
        if let Some(s) = &w.sub_path {
            f(&format!("{base}.workspaces[{j}].subPath"), s);
        }
    }
    if let Some(r) = &pt.task_ref {
        if let Some(n) = &r.name {
            f(&format!("{base}.taskRef.name"), n);
        }
        for (j, p) in r.params.iter().enumerate() {
            value(&p.value, &format!("{base}.taskRef.params[{j}].value"), f);
        }
    }
    if let Some(r) = &pt.pipeline_ref {
        for (j, p) in r.params.iter().enumerate() {
            value(
                &p.value,
                &format!("{base}.pipelineRef.params[{j}].value"),
                f,
            );
        }
    }
    if let Some(s) = &pt.on_error {
        f(&format!("{base}.onError"), s);
    }
    if let Some(s) = &pt.timeout {
        f(&format!("{base}.timeout"), s);
    }
    if let Some(spec) = &pt.task_spec
        && let Ok(v) = serde_json::to_value(spec)
    {
        json_strings(&v, &format!("{base}.taskSpec"), f);
    }
    if let Some(spec) = &pt.pipeline_spec
        && let Ok(v) = serde_json::to_value(spec)
    {
        json_strings(&v, &format!("{base}.pipelineSpec"), f);
    }
}

fn json_strings(v: &serde_json::Value, path: &str, f: &mut dyn FnMut(&str, &str)) {
    match v {
        serde_json::Value::String(s) => f(path, s),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                json_strings(x, &format!("{path}[{i}]"), f);
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                json_strings(x, &format!("{path}.{k}"), f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> PipelineSpec {
        serde_json::from_value(crate::emit::parse_value(yaml).unwrap()).unwrap()
    }

    const DIAMOND: &str = r#"
tasks:
  - {name: a, taskRef: {name: t}}
  - {name: b, taskRef: {name: t}, runAfter: [a]}
  - name: c
    taskRef: {name: t}
    params: [{name: x, value: "$(tasks.a.results.r)"}]
  - name: d
    taskRef: {name: t}
    runAfter: [b]
    when: [{input: "$(tasks.c.results.r)", operator: in, values: ["x"]}]
finally:
  - {name: f, taskRef: {name: t}, params: [{name: s, value: "$(tasks.status)"}]}
"#;

    #[test]
    fn diamond_edges_and_waves() {
        // tekton: pkg/reconciler/pipeline/dag/dag.go Build — runAfter and result references are edges
        let g = TaskGraph::new(&spec(DIAMOND));
        assert_eq!(g.parents(3), &[1, 2]);
        assert_eq!(g.children(0), &[1, 2]);
        assert_eq!(g.waves().unwrap(), vec![vec![0], vec![1, 2], vec![3]]);
        assert!(g.is_finally(4));
        assert_eq!(g.edges[1].kind, EdgeKind::Uses("tasks.a.results.r".into()));
        assert_eq!(g.edges[1].path, "tasks[2].params[0].value");
        assert!(g.dangling.is_empty());
    }

    #[test]
    fn cycles_and_dangling() {
        let g = TaskGraph::new(&spec(
            r#"
tasks:
  - {name: a, taskRef: {name: t}, runAfter: [c]}
  - {name: b, taskRef: {name: t}, runAfter: [a, nope]}
  - {name: c, taskRef: {name: t}, runAfter: [b]}
finally:
  - {name: f, taskRef: {name: t}}
"#,
        ));
        assert_eq!(g.cycles(), vec![vec![0, 1, 2]]);
        assert_eq!(g.cycle_in(&[0, 1, 2]), vec![0, 2, 1]);
        assert!(g.waves().is_none());
        assert_eq!(g.dangling.len(), 1);
        assert_eq!(g.dangling[0].target, "nope");
    }

    #[test]
    fn embedded_task_results_are_edges() {
        let g = TaskGraph::new(&spec(
            r#"
tasks:
  - {name: a, taskRef: {name: t}}
  - name: b
    taskSpec:
      steps: [{image: x, script: "echo $(tasks.a.results.r)"}]
"#,
        ));
        assert_eq!(g.parents(1), &[0]);
        assert_eq!(g.edges[0].path, "tasks[1].taskSpec.steps[0].script");
    }
}
