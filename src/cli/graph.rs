//! `tekscript graph`: a pipeline's task graph as Mermaid, Graphviz DOT or text.

use super::{CompileArgs, ExitStatus, compile_reporting};
use crate::bundle::{Bundle, Resource};
use crate::exec::graph::{EdgeKind, TaskGraph};
use crate::expr::Var;
use crate::model::{PipelineSpec, PipelineTask};
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The entry script (.rhai)
    script: PathBuf,
    /// Draw this pipeline when the script has several
    #[arg(long, value_name = "NAME")]
    pipeline: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    format: GraphFormat,
    #[command(flatten)]
    compile: CompileArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GraphFormat {
    Mermaid,
    Dot,
    Text,
}

pub fn run(args: GraphArgs) -> ExitStatus {
    let compiled = match compile_reporting(&args.compile, &args.script) {
        Ok(c) => c,
        Err(status) => return status,
    };
    match choose(compiled.bundle.bundle(), args.pipeline.as_deref()) {
        Ok((name, spec)) => super::write_stdout(&render(&name, &spec, args.format)),
        Err(e) => {
            eprintln!("error: {e}");
            ExitStatus::Failure
        }
    }
}

/// The pipeline to draw: `--pipeline`, else the script's only pipeline, else its only run's inline spec.
fn choose(bundle: &Bundle, wanted: Option<&str>) -> Result<(String, PipelineSpec), String> {
    let mut all: Vec<(String, PipelineSpec)> = Vec::new();
    for o in &bundle.objects {
        match &o.resource {
            Resource::Pipeline(p) => {
                all.push((p.metadata.name.clone().unwrap_or_default(), p.spec.clone()))
            }
            Resource::PipelineRun(r) => {
                if let Some(s) = &r.spec.pipeline_spec {
                    let m = &r.metadata;
                    let name = m
                        .name
                        .clone()
                        .or_else(|| m.generate_name.clone())
                        .unwrap_or_default();
                    all.push((name, s.clone()));
                }
            }
            _ => {}
        }
    }
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    match wanted {
        Some(w) => all.iter().find(|(n, _)| n == w).cloned().ok_or_else(|| {
            format!(
                "the script has no pipeline {w:?} (pipelines: {})",
                list(&names)
            )
        }),
        None => match all.len() {
            1 => Ok(all.remove(0)),
            0 => Err("the script emits no pipeline".into()),
            _ => Err(format!(
                "the script emits {} pipelines: choose one with --pipeline NAME ({})",
                all.len(),
                list(&names)
            )),
        },
    }
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// One edge to draw: parent → child, with its labels (`runAfter`, result names).
struct Drawn {
    from: usize,
    to: usize,
    labels: Vec<String>,
}

fn edges(g: &TaskGraph) -> Vec<Drawn> {
    let mut by_pair: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
    for e in &g.edges {
        if e.from == e.to {
            continue;
        }
        let label = match &e.kind {
            EdgeKind::RunAfter => "runAfter".to_string(),
            EdgeKind::Uses(inner) => match crate::expr::parse(inner) {
                Ok(Var::TaskResult { result, .. } | Var::MatrixResultLength { result, .. }) => {
                    result
                }
                Ok(Var::MatrixLength(_)) => "matrix.length".into(),
                _ => inner.clone(),
            },
        };
        let l = by_pair.entry((e.to, e.from)).or_default();
        if !l.contains(&label) {
            l.push(label);
        }
    }
    by_pair
        .into_iter()
        .map(|((from, to), labels)| Drawn { from, to, labels })
        .collect()
}

fn when_text(pt: &PipelineTask) -> Vec<String> {
    pt.when
        .iter()
        .map(|w| match &w.cel {
            Some(c) => format!("when {c}"),
            None => format!(
                "when {} {} [{}]",
                w.input.as_deref().unwrap_or(""),
                w.operator.as_deref().unwrap_or("in"),
                w.values.join(", ")
            ),
        })
        .collect()
}

fn matrix_text(pt: &PipelineTask) -> Option<String> {
    let m = pt.matrix.as_ref()?;
    let mut parts: Vec<String> = m.params.iter().map(|p| p.name.clone()).collect();
    if !m.include.is_empty() {
        parts.push(format!("{} include", m.include.len()));
    }
    Some(format!("matrix: {}", parts.join(" × ")))
}

fn tasks(spec: &PipelineSpec) -> Vec<&PipelineTask> {
    spec.all_tasks().collect()
}

/// Renders the graph of `spec`.
pub fn render(name: &str, spec: &PipelineSpec, format: GraphFormat) -> String {
    let g = TaskGraph::new(spec);
    match format {
        GraphFormat::Mermaid => mermaid(name, spec, &g),
        GraphFormat::Dot => dot(name, spec, &g),
        GraphFormat::Text => text(name, spec, &g),
    }
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

fn mermaid(name: &str, spec: &PipelineSpec, g: &TaskGraph) -> String {
    let pts = tasks(spec);
    let mut out = format!("---\ntitle: {}\n---\nflowchart TD\n", mermaid_escape(name));
    let node = |i: usize| -> String {
        let pt = pts[i];
        let mut lines = vec![mermaid_escape(&pt.name)];
        lines.extend(when_text(pt).iter().map(|w| mermaid_escape(w)));
        lines.extend(matrix_text(pt).map(|m| mermaid_escape(&m)));
        let label = lines.join("<br/>");
        if pt.matrix.is_some() {
            format!("    t{i}[[\"{label}\"]]\n")
        } else if !pt.when.is_empty() {
            format!("    t{i}{{{{\"{label}\"}}}}\n")
        } else {
            format!("    t{i}[\"{label}\"]\n")
        }
    };
    for i in 0..g.dag_count {
        out.push_str(&node(i));
    }
    if g.nodes.len() > g.dag_count {
        out.push_str("    subgraph finally [\"finally (after all tasks)\"]\n");
        for i in g.dag_count..g.nodes.len() {
            out.push_str("    ");
            out.push_str(&node(i));
        }
        out.push_str("    end\n");
    }
    for e in edges(g) {
        out.push_str(&format!(
            "    t{} -->|\"{}\"| t{}\n",
            e.from,
            mermaid_escape(&e.labels.join(", ")),
            e.to
        ));
    }
    out
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn dot(name: &str, spec: &PipelineSpec, g: &TaskGraph) -> String {
    let pts = tasks(spec);
    let mut out = format!(
        "digraph \"{}\" {{\n    rankdir=TB;\n    node [shape=box, fontname=\"sans-serif\"];\n    edge [fontname=\"sans-serif\", fontsize=10];\n",
        dot_escape(name)
    );
    let node = |i: usize| -> String {
        let pt = pts[i];
        let mut lines = vec![dot_escape(&pt.name)];
        lines.extend(when_text(pt).iter().map(|w| dot_escape(w)));
        lines.extend(matrix_text(pt).map(|m| dot_escape(&m)));
        let shape = if pt.matrix.is_some() {
            ", shape=box3d"
        } else if !pt.when.is_empty() {
            ", shape=hexagon"
        } else {
            ""
        };
        format!("t{i} [label=\"{}\"{shape}];\n", lines.join("\\n"))
    };
    for i in 0..g.dag_count {
        out.push_str("    ");
        out.push_str(&node(i));
    }
    if g.nodes.len() > g.dag_count {
        out.push_str("    subgraph cluster_finally {\n        label=\"finally (after all tasks)\";\n        style=dashed;\n");
        for i in g.dag_count..g.nodes.len() {
            out.push_str("        ");
            out.push_str(&node(i));
        }
        out.push_str("    }\n");
    }
    for e in edges(g) {
        let style = if e.labels.iter().all(|l| l == "runAfter") {
            ", style=dashed"
        } else {
            ""
        };
        out.push_str(&format!(
            "    t{} -> t{} [label=\"{}\"{style}];\n",
            e.from,
            e.to,
            dot_escape(&e.labels.join(", "))
        ));
    }
    out.push_str("}\n");
    out
}

fn text(name: &str, spec: &PipelineSpec, g: &TaskGraph) -> String {
    let pts = tasks(spec);
    let fin = g.nodes.len() - g.dag_count;
    let mut out = format!(
        "pipeline {name}: {} task{}, {fin} finally\n",
        g.dag_count,
        if g.dag_count == 1 { "" } else { "s" }
    );
    let drawn = edges(g);
    let width = g.nodes.iter().map(|n| n.name.len()).max().unwrap_or(0);
    let describe = |out: &mut String, i: usize| {
        let deps: Vec<String> = drawn
            .iter()
            .filter(|e| e.to == i)
            .map(|e| format!("{} ({})", g.nodes[e.from].name, e.labels.join(", ")))
            .collect();
        let mut line = format!("  {:width$}", g.nodes[i].name);
        if !deps.is_empty() {
            line.push_str(&format!("  after {}", deps.join(", ")));
        }
        out.push_str(line.trim_end());
        out.push('\n');
        for w in when_text(pts[i]) {
            out.push_str(&format!("  {:width$}    {w}\n", ""));
        }
        if let Some(m) = matrix_text(pts[i]) {
            out.push_str(&format!("  {:width$}    {m}\n", ""));
        }
    };
    match g.waves() {
        Some(waves) => {
            for (k, wave) in waves.iter().enumerate() {
                out.push_str(&format!("\nwave {}\n", k + 1));
                for &i in wave {
                    describe(&mut out, i);
                }
            }
        }
        None => {
            out.push_str(
                "\n(the tasks wait for each other in a cycle; `tekscript check` shows it)\n",
            );
            for i in 0..g.dag_count {
                describe(&mut out, i);
            }
        }
    }
    if fin > 0 {
        out.push_str("\nfinally (after all tasks)\n");
        for i in g.dag_count..g.nodes.len() {
            describe(&mut out, i);
        }
    }
    out
}
