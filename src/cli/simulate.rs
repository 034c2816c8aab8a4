//! `tekscript simulate`: what a run would do, from Tekton's rules and stated outcomes, with no cluster and
//! no containers.

use super::{CompileArgs, ExitStatus, compile_reporting};
use crate::exec::plan::RunRequest;
use crate::exec::run::{Report, TaskOutcome, TaskReport, go_duration};
use crate::exec::simulate::{Failure, Stated, plan_input, simulate};
use crate::model::{ParamType, ParamValue};
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The entry script (.rhai)
    script: PathBuf,
    /// Simulate this pipeline (or the script's run of it) when the script has several
    #[arg(long, value_name = "NAME")]
    pipeline: Option<String>,
    /// A pipeline param: name=value (arrays as a,b,c or JSON, objects as k:v,k2:v2 or JSON; repeatable)
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Bind a pipeline workspace, as for `run` (repeatable)
    #[arg(short = 'w', long = "workspace", value_name = "NAME=BINDING")]
    workspaces: Vec<String>,
    /// Make a task fail: TASK, TASK/STEP (the step named in the message), TASK:N (only its first N
    /// attempts fail, for retries) (repeatable)
    #[arg(long = "fail", value_name = "TASK[/STEP][:N]")]
    fail: Vec<String>,
    /// A result a task produces: TASK.RESULT=VALUE (arrays/objects as for -p; repeatable). Results nobody
    /// supplies are placeholders <task.result>
    #[arg(long = "result", value_name = "TASK.RESULT=VALUE")]
    results: Vec<String>,
    /// Make a task run into its timeout (repeatable)
    #[arg(long = "timeout-task", value_name = "TASK")]
    timeout_tasks: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = SimFormat::Text)]
    format: SimFormat,
    #[command(flatten)]
    compile: CompileArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum SimFormat {
    Text,
    Json,
}

pub fn run(args: SimulateArgs) -> ExitStatus {
    let compiled = match compile_reporting(&args.compile, &args.script) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let bundle = compiled.bundle.bundle();
    let req = RunRequest {
        pipeline: args.pipeline.clone(),
        params: args.params.clone(),
        workspaces: args.workspaces.clone(),
        ..RunRequest::default()
    };
    let input = match plan_input(bundle, &req) {
        Ok(i) => i,
        Err(e) => {
            for line in e.lines() {
                eprintln!("error: {line}");
            }
            return ExitStatus::Failure;
        }
    };
    let stated = match stated(&args, &input) {
        Ok(s) => s,
        Err(e) => return super::usage_error(&e),
    };
    let report = simulate(input, &stated);
    let text = match args.format {
        SimFormat::Text => text(&report),
        SimFormat::Json => {
            let mut s =
                serde_json::to_string_pretty(&json(&report)).expect("json values serialize");
            s.push('\n');
            s
        }
    };
    let status = super::write_stdout(&text);
    if status != ExitStatus::Success {
        return status;
    }
    if report.undecided {
        eprintln!(
            "note: some outcomes depend on results nobody supplied; state them with --result TASK.RESULT=VALUE"
        );
    }
    if report.status == "True" {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}

fn stated(args: &SimulateArgs, input: &crate::exec::RunInput) -> Result<Stated, String> {
    let names: Vec<&str> = input.spec.all_tasks().map(|t| t.name.as_str()).collect();
    let known = |t: &str, flag: &str| -> Result<(), String> {
        if names.contains(&t) {
            Ok(())
        } else {
            Err(format!(
                "{flag} {t}: the pipeline has no task {t:?} (tasks: {})",
                names.join(", ")
            ))
        }
    };
    let mut st = Stated::default();
    for f in &args.fail {
        let (rest, attempts) = match f.rsplit_once(':') {
            Some((r, n)) => (
                r,
                Some(
                    n.parse::<u32>()
                        .map_err(|_| format!("--fail {f}: `{n}` is not a number of attempts"))?,
                ),
            ),
            None => (f.as_str(), None),
        };
        let (task, step) = match rest.split_once('/') {
            Some((t, s)) => (t, Some(s.to_string())),
            None => (rest, None),
        };
        known(task, "--fail")?;
        st.fail.insert(task.to_string(), Failure { step, attempts });
    }
    for t in &args.timeout_tasks {
        known(t, "--timeout-task")?;
        st.timeout.insert(t.clone());
    }
    for r in &args.results {
        let (key, raw) = r
            .split_once('=')
            .ok_or_else(|| format!("--result {r}: use TASK.RESULT=VALUE"))?;
        let (task, result) = key
            .split_once('.')
            .ok_or_else(|| format!("--result {r}: use TASK.RESULT=VALUE"))?;
        known(task, "--result")?;
        let ty = declared_type(input, task, result);
        let v = crate::exec::plan::parse_param_value(ty.as_str(), raw)
            .map_err(|e| format!("--result {r}: {e}"))?;
        let v: ParamValue = serde_json::from_value(v).map_err(|e| format!("--result {r}: {e}"))?;
        st.results
            .entry(task.to_string())
            .or_default()
            .insert(result.to_string(), v);
    }
    Ok(st)
}

fn declared_type(input: &crate::exec::RunInput, task: &str, result: &str) -> ParamType {
    let pt = input.spec.all_tasks().find(|t| t.name == task);
    let spec = pt.and_then(|pt| {
        pt.task_spec.as_ref().map(|s| s.to_task_spec()).or_else(|| {
            let n = pt.task_ref.as_ref()?.local_name()?;
            input.tasks.get(n).cloned()
        })
    });
    spec.and_then(|s| {
        s.results
            .iter()
            .find(|r| r.name == result)
            .map(|r| r.effective_type())
    })
    .unwrap_or(ParamType::String)
}

fn show(v: &ParamValue) -> String {
    match v {
        ParamValue::String(s) if s.is_empty() => "\"\"".into(),
        ParamValue::String(s) => s.clone(),
        other => serde_json::to_string(other).expect("values serialize"),
    }
}

fn symbol(o: TaskOutcome) -> &'static str {
    match o {
        TaskOutcome::Succeeded => "✓",
        TaskOutcome::Failed | TaskOutcome::TimedOut => "✗",
        TaskOutcome::Cancelled => "■",
        TaskOutcome::Skipped => "–",
        TaskOutcome::Undecided => "?",
        TaskOutcome::Pending | TaskOutcome::Running => "○",
    }
}

fn task_text(out: &mut String, t: &TaskReport, width: usize) {
    let mut line = format!(
        "  {} {:width$}  {}",
        symbol(t.outcome),
        t.name,
        t.outcome.as_str()
    );
    match t.outcome {
        TaskOutcome::Skipped => line.push_str(&format!(": {}", t.reason)),
        TaskOutcome::Succeeded => {}
        TaskOutcome::Pending => line.push_str(" (never started)"),
        _ if !t.message.is_empty() => line.push_str(&format!(": {} ({})", t.reason, t.message)),
        _ => line.push_str(&format!(": {}", t.reason)),
    }
    if t.attempts > 1 {
        line.push_str(&format!(" after {} attempts", t.attempts));
    }
    out.push_str(line.trim_end());
    out.push('\n');
    for (k, c) in t.combinations.iter().enumerate() {
        let pairs: Vec<String> = c.iter().map(|(a, b)| format!("{a}={b}")).collect();
        out.push_str(&format!("      [{k}] {}\n", pairs.join(" ")));
    }
    if matches!(t.outcome, TaskOutcome::Skipped | TaskOutcome::Pending) {
        return;
    }
    for p in &t.params {
        out.push_str(&format!("      {} = {}\n", p.name, show(&p.value)));
    }
    for (k, v) in &t.results {
        out.push_str(&format!("      → {k} = {}\n", show(v)));
    }
}

/// The run as waves (tasks started or decided at the same simulated moment), then finally, results and
/// the condition.
pub fn text(r: &Report) -> String {
    let width = r.tasks.iter().map(|t| t.name.len()).max().unwrap_or(0);
    let mut out = format!("PipelineRun {} (simulated)\n", r.name);
    let mut waves: BTreeMap<std::time::Duration, Vec<&TaskReport>> = BTreeMap::new();
    let mut never = Vec::new();
    for t in r.tasks.iter().filter(|t| !t.finally) {
        match t.decided_at {
            Some(at) => waves.entry(at).or_default().push(t),
            None => never.push(t),
        }
    }
    for (k, (at, tasks)) in waves.iter().enumerate() {
        out.push_str(&format!("\nwave {} (t={})\n", k + 1, go_duration(*at)));
        for t in tasks {
            task_text(&mut out, t, width);
        }
    }
    if !never.is_empty() {
        out.push_str("\nnot reached\n");
        for t in never {
            task_text(&mut out, t, width);
        }
    }
    let fin: Vec<&TaskReport> = r.tasks.iter().filter(|t| t.finally).collect();
    if !fin.is_empty() {
        out.push_str("\nfinally\n");
        for t in fin {
            task_text(&mut out, t, width);
        }
    }
    if !r.results.is_empty() {
        out.push_str("\nresults\n");
        for (k, v) in &r.results {
            out.push_str(&format!("  {k} = {}\n", show(v)));
        }
    }
    out.push_str(&format!("\n{}: {}\n", r.reason, r.message));
    out
}

fn value_json(v: &ParamValue) -> serde_json::Value {
    serde_json::to_value(v).expect("values serialize")
}

/// `status`, `message`, `tasks` (execution order), `results`.
pub fn json(r: &Report) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let tasks: Vec<Value> = r
        .tasks
        .iter()
        .map(|t| {
            let params: Map<String, Value> = t
                .params
                .iter()
                .map(|p| (p.name.clone(), value_json(&p.value)))
                .collect();
            let results: Map<String, Value> = t
                .results
                .iter()
                .map(|(k, v)| (k.clone(), value_json(v)))
                .collect();
            let mut o = json!({
                "name": t.name,
                "outcome": t.outcome.as_str(),
                "reason": t.reason,
                "finally": t.finally,
                "params": params,
                "results": results,
            });
            if !t.message.is_empty() {
                o["message"] = t.message.clone().into();
            }
            if t.attempts > 1 {
                o["attempts"] = t.attempts.into();
            }
            if !t.taskruns.is_empty() {
                o["taskRuns"] = t.taskruns.clone().into();
            }
            o
        })
        .collect();
    let results: Map<String, Value> = r
        .results
        .iter()
        .map(|(k, v)| (k.clone(), value_json(v)))
        .collect();
    json!({
        "name": r.name,
        "status": r.reason,
        "succeeded": r.status,
        "message": r.message,
        "undecided": r.undecided,
        "tasks": tasks,
        "results": results,
    })
}
