//! `tekscript run SCRIPT` — compile, validate, apply what the run needs, start a PipelineRun, follow it
//! (step logs on stdout, status on stderr) and exit with its result: 0 succeeded, 1 failed / cancelled /
//! timed out / gave up waiting, 2 the tool failed.
//!
//! Also the renderer shared with `tekscript logs`: plain timestamped status lines when stderr is not a
//! terminal (CI logs), a compact live view redrawn in place when it is.

use super::cluster::{ClusterArgs, report_error};
use super::{CompileArgs, ExitStatus, compile_reporting};
use crate::cluster::follow::{FollowOptions, OnInterrupt};
use crate::cluster::run::{RunJob, RunOutcome};
use crate::cluster::{self, ApplyOptions, CancelMode, ObjectResult, Outcome, objects};
use crate::events::{FollowEvent, GaveUp, Summary, TaskState};
use crate::exec::plan::{self as runs, RunRequest};
use clap::{Args, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The entry script (.rhai)
    script: PathBuf,
    /// Start this pipeline (or the script's run of it) when the script has several
    #[arg(long, value_name = "NAME")]
    pipeline: Option<String>,
    /// A pipeline param: name=value; arrays as a,b,c or a JSON array, objects as k:v,k2:v2 or JSON (repeatable)
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Bind a pipeline workspace: NAME=emptyDir | NAME=pvc:CLAIM | NAME=configMap:NAME | NAME=secret:NAME |
    /// NAME=volumeClaimTemplate:SIZE, each optionally with ,subPath=DIR; with --local also NAME=DIR (repeatable)
    #[arg(short = 'w', long = "workspace", value_name = "NAME=BINDING")]
    workspaces: Vec<String>,
    /// Send one self-contained PipelineRun (pipelineSpec with the script's Tasks inline); apply nothing
    #[arg(long)]
    embed: bool,
    /// Print the PipelineRun that would be created (YAML) and send nothing
    #[arg(long = "dry-run")]
    dry_run: bool,
    /// Print the new run's name and return without following it
    #[arg(long)]
    detach: bool,
    /// Stop waiting after this long (Go duration: 90s, 10m, 1h) and exit 1; the run is NOT cancelled
    /// (with --local: the run is stopped)
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Tekton's own time limit for the run (spec.timeouts.pipeline); Tekton fails the run when it is over
    #[arg(long = "pipeline-timeout", value_name = "DURATION")]
    pipeline_timeout: Option<String>,
    /// Service account of the run's pods (spec.taskRunTemplate.serviceAccountName)
    #[arg(long = "service-account", value_name = "NAME")]
    service_account: Option<String>,
    /// On Ctrl-C, cancel gracefully: stop the running tasks but run the finally tasks (CancelledRunFinally)
    #[arg(long)]
    graceful: bool,
    #[command(flatten)]
    display: DisplayArgs,
    /// The ApplySet parent recording what this script applied: [configmaps/|secrets/]NAME
    /// (default: configmaps/tekscript-<script file name>, as `tekscript apply`)
    #[arg(long, value_name = "PARENT")]
    applyset: Option<String>,
    /// Take ownership of fields other field managers own, instead of failing with a conflict
    #[arg(long = "force-conflicts")]
    force_conflicts: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
    #[command(flatten)]
    local: local::LocalArgs,
    #[command(flatten)]
    compile: CompileArgs,
}

#[path = "run_local.rs"]
mod local;

/// How status is shown (shared with `logs`).
#[derive(Debug, Args)]
pub struct DisplayArgs {
    /// Prefix status lines with the time (UTC): auto = when stderr is not a terminal
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = When::Auto)]
    timestamps: When,
    /// The status display: auto = a live view on a terminal, plain lines otherwise
    #[arg(long, value_enum, value_name = "MODE", default_value_t = View::Auto)]
    view: View,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum When {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum View {
    Auto,
    Live,
    Plain,
}

pub fn run(args: RunArgs) -> ExitStatus {
    if args.local.local {
        return local::run(args);
    }
    if let Some(flag) = args.local.only_local() {
        return super::usage_error(&format!("{flag} needs --local"));
    }
    let timeout = match args
        .timeout
        .as_deref()
        .map(runs::parse_duration)
        .transpose()
    {
        Ok(t) => t,
        Err(e) => return super::usage_error(&format!("--timeout: {e}")),
    };
    let compiled = match compile_reporting(&args.compile, &args.script) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let resources: Vec<&crate::bundle::Resource> = compiled
        .bundle
        .bundle()
        .objects
        .iter()
        .map(|o| &o.resource)
        .collect();
    let req = RunRequest {
        pipeline: args.pipeline.clone(),
        params: args.params.clone(),
        workspaces: args.workspaces.clone(),
        embed: args.embed,
        pipeline_timeout: args.pipeline_timeout.clone(),
        service_account: args.service_account.clone(),
    };
    let plan = match runs::plan_run(resources.iter().copied(), &req) {
        Ok(p) => p,
        Err(e) => {
            for line in e.lines() {
                eprintln!("error: {line}");
            }
            return ExitStatus::Failure;
        }
    };
    if args.dry_run {
        return match crate::emit::to_yaml(&plan.body) {
            Ok(y) => super::write_stdout(&y),
            Err(e) => super::usage_error(&e.to_string()),
        };
    }

    let mut renderer = Renderer::new(&args.display);
    let mode = if args.graceful {
        CancelMode::Graceful
    } else {
        CancelMode::Cancel
    };
    let follow = FollowOptions {
        timeout,
        on_interrupt: OnInterrupt::Cancel(mode),
        ticks: renderer.live,
        attach: false,
    };
    let mut on_apply = |r: &ObjectResult| {
        eprintln!("{} {}", r.display, r.outcome.word());
        match &r.outcome {
            Outcome::Failed(e) => eprintln!("error: {e}"),
            Outcome::NotAttempted(why) => eprintln!("  {} was not applied: {why}", r.display),
            _ => {}
        }
    };
    let detach = args.detach;
    let mut created: Option<(String, String)> = None;
    let mut on_created = |name: &str, ns: &str| {
        created = Some((name.to_string(), ns.to_string()));
        if detach {
            let _ = super::write_stdout(&format!("{name}\n"));
            eprintln!("PipelineRun {name} created in namespace {ns} (not following it: --detach)");
        } else {
            eprintln!("PipelineRun {name} created in namespace {ns}");
        }
    };
    let apply_set = super::cluster::ApplySetArgs {
        prune: false,
        applyset: args.applyset.clone(),
        force_conflicts: args.force_conflicts,
        concurrency: 8,
    };
    let script = args.script.clone();
    let self_contained = plan.self_contained;
    let body = plan.body.clone();
    let result = {
        let renderer = &mut renderer;
        let mut on_event = |ev: FollowEvent| renderer.event(ev);
        let on_event = &mut on_event;
        let on_apply = &mut on_apply;
        let on_created = &mut on_created;
        cluster::run::run_blocking(&args.cluster.connection(), move |target| {
            let (mut planned, _) = objects::plan(
                resources.iter().copied(),
                &target.namespace,
                target.namespace_explicit,
            )?;
            if self_contained {
                // a self-contained run needs nothing from the script but the StepActions its steps use
                planned.retain(|p| p.kind == "StepAction");
            }
            let apply = if planned.is_empty() {
                None
            } else {
                let parent = apply_set.parent(&script, &target.namespace)?;
                Some((
                    planned,
                    ApplyOptions {
                        dry_run: false,
                        force_conflicts: apply_set.force_conflicts,
                        prune: false,
                        parent,
                        concurrency: apply_set.concurrency,
                        interrupted: Default::default(),
                    },
                ))
            };
            Ok(RunJob {
                body,
                apply,
                detach,
                follow,
                on_apply,
                on_created,
                on_event,
            })
        })
    };
    match result {
        Err(e) => {
            renderer.finish_live();
            report_error(&e)
        }
        Ok(RunOutcome::ApplyFailed(report)) => {
            if report.interrupted {
                eprintln!("error: interrupted while applying; the PipelineRun was not created");
            } else {
                eprintln!(
                    "error: applying what the run needs failed; the PipelineRun was not created"
                );
            }
            ExitStatus::Failure
        }
        Ok(RunOutcome::Interrupted) => {
            eprintln!("error: interrupted; the PipelineRun was not created");
            ExitStatus::Failure
        }
        Ok(RunOutcome::Detached(name)) => {
            let ns = created.map(|c| c.1).unwrap_or_default();
            eprintln!("follow it with: tekscript logs {name} -f -n {ns}");
            ExitStatus::Success
        }
        Ok(RunOutcome::Followed(summary)) => renderer.summary(&summary),
    }
}

// ------------------------------------------------------------------------------------------------------
// Rendering

/// One task in the live view.
struct Row {
    task: String,
    finally: bool,
    state: TaskState,
    detail: String,
    since: Instant,
    took: Option<Duration>,
}

/// Shows follow events: logs on stdout, status on stderr.
pub(super) struct Renderer {
    live: bool,
    timestamps: bool,
    rows: Vec<Row>,
    /// Lines of the live block currently on screen.
    drawn: usize,
    run_reason: String,
    started: Instant,
    /// The last status line printed per task (the same line is not printed twice in a row).
    last_line: std::collections::HashMap<String, String>,
}

impl Renderer {
    pub(super) fn new(d: &DisplayArgs) -> Renderer {
        let tty =
            std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb");
        let live = match d.view {
            View::Auto => tty,
            View::Live => true,
            View::Plain => false,
        };
        let timestamps = match d.timestamps {
            When::Auto => !live,
            When::Always => true,
            When::Never => false,
        };
        Renderer {
            live,
            timestamps,
            rows: Vec::new(),
            drawn: 0,
            run_reason: String::new(),
            started: Instant::now(),
            last_line: Default::default(),
        }
    }

    pub(super) fn ticks(&self) -> bool {
        self.live
    }

    fn stamp(&self) -> String {
        if self.timestamps {
            let now = k8s_openapi::jiff::Timestamp::now();
            format!("{} ", now.strftime("%H:%M:%S"))
        } else {
            String::new()
        }
    }

    /// A status line (plain mode) — in live mode only notes and problems are printed above the block.
    fn status(&mut self, line: &str) {
        self.clear();
        eprintln!("{}{line}", self.stamp());
        self.draw();
    }

    fn clear(&mut self) {
        if self.live && self.drawn > 0 {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\x1b[{}A\x1b[J", self.drawn);
            let _ = err.flush();
            self.drawn = 0;
        }
    }

    fn draw(&mut self) {
        if !self.live {
            return;
        }
        let block = live_block(&self.rows, &self.run_reason, self.started.elapsed());
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(block.as_bytes());
        let _ = err.flush();
        self.drawn = block.lines().count();
    }

    /// Removes the live block (before the summary or an error).
    pub(super) fn finish_live(&mut self) {
        self.clear();
    }

    fn row(&mut self, task: &str, finally: bool) -> &mut Row {
        if let Some(i) = self.rows.iter().position(|r| r.task == task) {
            return &mut self.rows[i];
        }
        self.rows.push(Row {
            task: task.to_string(),
            finally,
            state: TaskState::Pending,
            detail: String::new(),
            since: Instant::now(),
            took: None,
        });
        self.rows.last_mut().expect("just pushed")
    }

    pub(super) fn event(&mut self, ev: FollowEvent) {
        match ev {
            FollowEvent::Log {
                task,
                step,
                attempt,
                line,
            } => {
                self.clear();
                let prefix = if attempt == 0 {
                    format!("[{task}/{step}]")
                } else {
                    format!("[{task}/{step} retry {attempt}]")
                };
                let mut out = std::io::stdout().lock();
                // one write per line: lines of parallel tasks never mix
                let _ = out.write_all(format!("{prefix} {line}\n").as_bytes());
                let _ = out.flush();
                drop(out);
                self.draw();
            }
            FollowEvent::Task {
                task,
                state,
                reason,
                message,
                attempt,
                finally,
            } => {
                let text = task_line(&task, finally, state, &reason, &message, attempt);
                {
                    let row = self.row(&task, finally);
                    if row.state != state {
                        if state.is_done() && row.took.is_none() {
                            row.took = Some(row.since.elapsed());
                        }
                        if state == TaskState::Running {
                            row.since = Instant::now();
                        }
                    }
                    row.state = state;
                    row.detail = match state {
                        TaskState::Skipped | TaskState::Failed | TaskState::Retrying => {
                            if message.is_empty() { reason } else { message }
                        }
                        _ => String::new(),
                    };
                }
                if self.live {
                    self.clear();
                    self.draw();
                } else if self.last_line.get(&task) != Some(&text) {
                    self.status(&text);
                    self.last_line.insert(task, text);
                }
            }
            FollowEvent::Pod {
                task,
                pod,
                reason,
                message,
            } => {
                if !task.is_empty() {
                    self.row(&task, false).detail = format!("{reason}: {message}");
                }
                self.status(&format!(
                    "task {task}: pod {pod} cannot start: {reason}: {message}"
                ));
            }
            FollowEvent::Run { reason, message } => {
                if reason != self.run_reason {
                    self.run_reason = reason.clone();
                    if self.live {
                        self.clear();
                        self.draw();
                    } else if message.is_empty() {
                        self.status(&format!("PipelineRun: {reason}"));
                    } else {
                        self.status(&format!("PipelineRun: {reason}: {message}"));
                    }
                }
            }
            FollowEvent::Note(n) => self.status(&format!("note: {n}")),
            FollowEvent::Tick => {
                self.clear();
                self.draw();
            }
        }
    }

    /// Prints the final summary; returns the exit status of the run.
    pub(super) fn summary(&mut self, s: &Summary) -> ExitStatus {
        self.clear();
        self.live = false;
        eprint!("{}", summary_text(s));
        match s.gave_up {
            Some(GaveUp::Timeout(_)) | Some(GaveUp::Interrupted) => ExitStatus::Failure,
            None if s.succeeded() => ExitStatus::Success,
            None if !s.finished() => ExitStatus::Success, // `logs` of a run still going
            None => ExitStatus::Failure,
        }
    }
}

fn task_label(task: &str, finally: bool) -> String {
    if finally {
        format!("task {task} (finally)")
    } else {
        format!("task {task}")
    }
}

/// The plain status line for a task state.
fn task_line(
    task: &str,
    finally: bool,
    state: TaskState,
    reason: &str,
    message: &str,
    attempt: u32,
) -> String {
    let label = task_label(task, finally);
    let word = state.word();
    let detail = if message.is_empty() { reason } else { message };
    match state {
        TaskState::Running if attempt > 0 => format!("{label}: running (retry {attempt})"),
        TaskState::Pending if !reason.is_empty() && reason != "Pending" => {
            format!("{label}: pending: {reason}: {message}")
        }
        TaskState::Retrying => {
            format!("{label}: retrying (attempt {} failed: {detail})", attempt)
        }
        TaskState::Skipped => format!("{label}: skipped: {reason}"),
        TaskState::Failed | TaskState::TimedOut | TaskState::Cancelled if !detail.is_empty() => {
            format!("{label}: {word}: {detail}")
        }
        _ => format!("{label}: {word}"),
    }
}

/// `850ms`, `4s`, `1m05s`, `1h02m`.
pub(super) fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn symbol(state: TaskState) -> &'static str {
    match state {
        TaskState::Pending => "○",
        TaskState::Running => "●",
        TaskState::Retrying => "↻",
        TaskState::Succeeded => "✓",
        TaskState::Failed | TaskState::TimedOut => "✗",
        TaskState::Cancelled | TaskState::NotRun => "■",
        TaskState::Skipped => "–",
    }
}

/// The live view: a header and one line per task.
fn live_block(rows: &[Row], run_reason: &str, elapsed: Duration) -> String {
    let width = rows.iter().map(|r| r.task.len()).max().unwrap_or(0);
    let mut out = format!(
        "PipelineRun {}  {}\n",
        if run_reason.is_empty() {
            "Started"
        } else {
            run_reason
        },
        fmt_duration(elapsed)
    );
    for r in rows {
        let time = match (r.state, r.took) {
            (TaskState::Skipped, _) => String::new(),
            (_, Some(t)) => fmt_duration(t),
            (TaskState::Running, None) => fmt_duration(r.since.elapsed()),
            _ => String::new(),
        };
        let fin = if r.finally { " (finally)" } else { "" };
        let mut line = format!(
            "  {} {:width$}  {:<9} {:>6}  {}{fin}",
            symbol(r.state),
            r.task,
            r.state.word(),
            time,
            r.detail.lines().next().unwrap_or_default(),
        );
        // keep the block one terminal line per row
        if line.chars().count() > 118 {
            line = line.chars().take(117).collect::<String>() + "…";
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The final report (stderr).
pub(super) fn summary_text(s: &Summary) -> String {
    let mut out = String::new();
    let took = s
        .duration
        .map(|d| format!(" in {}", fmt_duration(d)))
        .unwrap_or_default();
    match (&s.gave_up, &s.condition) {
        (Some(GaveUp::Timeout(t)), _) => out.push_str(&format!(
            "PipelineRun {} is still running: gave up waiting after {} (--timeout); it was not cancelled \
             (tekscript cancel {} -n {})\n",
            s.name,
            fmt_duration(*t),
            s.name,
            s.namespace
        )),
        (Some(GaveUp::Interrupted), _) => out.push_str(&format!(
            "stopped following PipelineRun {}; it keeps running\n",
            s.name
        )),
        (None, Some(c)) if c.status == "True" => {
            let how = if c.reason == "Completed" {
                "completed (some tasks were skipped)"
            } else {
                "succeeded"
            };
            out.push_str(&format!("PipelineRun {} {how}{took}\n", s.name));
        }
        (None, Some(c)) if c.status == "False" => {
            let word = match c.reason.as_str() {
                "Cancelled" | "CancelledRunFinally" | "StoppedRunFinally" => "was cancelled",
                "PipelineRunTimeout" => "timed out",
                _ => "failed",
            };
            out.push_str(&format!(
                "PipelineRun {} {word}{took}: {}: {}\n",
                s.name, c.reason, c.message
            ));
        }
        (None, c) => out.push_str(&format!(
            "PipelineRun {} is still running ({})\n",
            s.name,
            c.as_ref().map_or("not started", |c| c.reason.as_str())
        )),
    }
    let width = s.tasks.iter().map(|t| t.name.len()).max().unwrap_or(0);
    for t in &s.tasks {
        let time = t.duration.map(fmt_duration).unwrap_or_default();
        let mut detail = match t.state {
            TaskState::Skipped => t.reason.clone(),
            TaskState::Failed | TaskState::TimedOut | TaskState::Cancelled => {
                match &t.failed_step {
                    Some((step, code)) => format!("step {step} exited with code {code}"),
                    None => t.message.clone(),
                }
            }
            TaskState::Pending | TaskState::Running => {
                t.pod_problem.clone().unwrap_or_else(|| t.message.clone())
            }
            _ => String::new(),
        };
        if t.attempts > 1 {
            detail = format!(
                "{} attempts{}{detail}",
                t.attempts,
                if detail.is_empty() { "" } else { "; " }
            );
        }
        if t.finally {
            detail = if detail.is_empty() {
                "(finally)".into()
            } else {
                format!("{detail} (finally)")
            };
        }
        let line = format!(
            "  {:width$}  {:<9}  {:>6}  {detail}",
            t.name,
            t.state.word(),
            time
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if !s.results.is_empty() {
        out.push_str("results:\n");
        for (k, v) in &s.results {
            out.push_str(&format!("  {k}: {v}\n"));
        }
    }
    if s.gave_up.is_none()
        && let Some(f) = s.failure()
    {
        let mut line = format!("error: task {} {}", f.name, f.state.word());
        if let Some((step, code)) = &f.failed_step {
            line.push_str(&format!(", step {step}, exit code {code}"));
        }
        if !f.message.is_empty() {
            line.push_str(&format!(": {}", f.message));
        }
        if let Some(p) = &f.pod_problem {
            line.push_str(&format!(" (pod: {p})"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Condition, TaskSummary};

    fn task(name: &str, state: TaskState) -> TaskSummary {
        TaskSummary {
            name: name.into(),
            finally: false,
            state,
            reason: String::new(),
            message: String::new(),
            duration: Some(Duration::from_secs(2)),
            attempts: 1,
            failed_step: None,
            pod_problem: None,
        }
    }

    #[test]
    fn failure_summary_names_task_step_and_code() {
        let mut failed = task("test", TaskState::Failed);
        failed.failed_step = Some(("unit".into(), 3));
        failed.message = "\"step-unit\" exited with code 3: Error".into();
        let mut skipped = task("deploy", TaskState::Skipped);
        skipped.reason = "PipelineRun was stopping".into();
        skipped.duration = None;
        let mut fin = task("cleanup", TaskState::Succeeded);
        fin.finally = true;
        let s = Summary {
            name: "r-1".into(),
            namespace: "ns".into(),
            condition: Some(Condition {
                status: "False".into(),
                reason: "Failed".into(),
                message: "Tasks Completed: 3 (Failed: 1, Cancelled 0), Skipped: 1".into(),
            }),
            duration: Some(Duration::from_secs(65)),
            tasks: vec![task("build", TaskState::Succeeded), failed, skipped, fin],
            results: vec![("digest".into(), "sha256:x".into())],
            gave_up: None,
            cancel_requested: false,
        };
        assert_eq!(
            summary_text(&s),
            "PipelineRun r-1 failed in 1m05s: Failed: Tasks Completed: 3 (Failed: 1, Cancelled 0), Skipped: 1\n\
             \x20 build    succeeded      2s\n\
             \x20 test     failed         2s  step unit exited with code 3\n\
             \x20 deploy   skipped            PipelineRun was stopping\n\
             \x20 cleanup  succeeded      2s  (finally)\n\
             results:\n\
             \x20 digest: sha256:x\n\
             error: task test failed, step unit, exit code 3: \"step-unit\" exited with code 3: Error\n"
        );
    }

    #[test]
    fn durations_and_live_block() {
        assert_eq!(fmt_duration(Duration::from_millis(900)), "0s");
        assert_eq!(fmt_duration(Duration::from_secs(65)), "1m05s");
        assert_eq!(fmt_duration(Duration::from_secs(3720)), "1h02m");
        let rows = vec![Row {
            task: "lint".into(),
            finally: false,
            state: TaskState::Skipped,
            detail: "When Expressions evaluated to false".into(),
            since: Instant::now(),
            took: None,
        }];
        assert_eq!(
            live_block(&rows, "Running", Duration::from_secs(3)),
            "PipelineRun Running  3s\n  – lint  skipped           When Expressions evaluated to false\n"
        );
    }
}
