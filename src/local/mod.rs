//! `tekscript run --local`: a PipelineRun on this machine, in real containers (podman, docker) or as
//! host processes, with Tekton's semantics. The only module that starts processes for runs.
//!
//! What runs when is decided by [`crate::exec::run::Execution`] (the same model `simulate` drives) on
//! the real clock; each TaskRun attempt is resolved by [`crate::exec::taskrun`] and run by
//! [`attempt`] on its own thread; the driver here starts attempts (at most `--parallel` at once), stops
//! them when a timeout or a cancel says so, and turns the execution's state into the same
//! [`FollowEvent`]s and [`Summary`] a cluster run produces.
//!
//! Hygiene: every container carries the label `tekscript.run=<run>` and a name starting with the
//! TaskRun's; whatever happens, the run's containers are removed and its temporary directory deleted
//! (`--keep` keeps the directory). Ctrl-C cancels the run (its running containers get SIGTERM, then
//! SIGKILL after a grace period); a second Ctrl-C kills them at once.

pub mod attempt;
pub mod runtime;
pub mod workspaces;

use crate::events::{Condition, FollowEvent, Summary, TaskState, TaskSummary};
use crate::exec::run::{Action, Ended, Execution, Outcome, Report, RunInput, Start, TaskOutcome};
use crate::exec::taskrun::{self, PipelineValues};
use crate::model::{PipelineTask, StepActionSpec, TaskSpec, WorkspaceBinding};
use attempt::{Ctl, Job, Msg, Shared, TaskWorkspace};
pub use runtime::Choice;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub runtime: Choice,
    /// `--image-map PATTERN=IMAGE`, first match wins.
    pub image_map: Vec<(String, String)>,
    /// Attempts running at once (at least 1).
    pub parallel: usize,
    /// Keep the run's directories (and say where).
    pub keep: bool,
    /// Stop the run after this long (`--timeout`).
    pub timeout: Option<Duration>,
    /// `DIR/NAME/KEY` files standing for Secrets and ConfigMaps.
    pub secret_dir: Option<PathBuf>,
    /// Ctrl-C cancels gracefully (finally tasks still run), as `spec.status: CancelledRunFinally`.
    pub graceful: bool,
    /// Send [`FollowEvent::Tick`] once a second.
    pub ticks: bool,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LocalRun {
    pub input: RunInput,
    /// The run's workspace bindings (`spec.workspaces`).
    pub bindings: Vec<WorkspaceBinding>,
    /// `-w NAME=DIR`: workspaces bound to the user's own directories.
    pub dirs: BTreeMap<String, PathBuf>,
    pub step_actions: BTreeMap<String, StepActionSpec>,
    /// Tasks from `--task-file`, by name: they also stand in for resolver references.
    pub task_files: BTreeMap<String, TaskSpec>,
}

/// Why a local run could not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalError {
    /// Problems with what was asked (exit 1): remote tasks, missing Secrets, …
    Input(Vec<String>),
    /// The tool could not do its job (exit 2): no container runtime, no temporary directory.
    Tool(String),
}

/// Told once the run starts.
#[derive(Debug, Clone)]
pub struct Started {
    pub name: String,
    pub runtime: &'static str,
    pub dir: PathBuf,
}

/// Where a pipeline task's Task comes from, resolved before anything runs.
#[derive(Debug, Clone)]
struct Source {
    spec: TaskSpec,
    /// `context.task.name`: the Task's name; `None` for an embedded spec (the TaskRun's name).
    task_name: Option<String>,
    embedded: bool,
}

fn resolver_label(pt: &PipelineTask) -> String {
    let r = pt.task_ref.as_ref().expect("a resolver reference");
    let params: Vec<String> = r
        .params
        .iter()
        .map(|p| format!("{}={}", p.name, attempt::result_text(&p.value)))
        .collect();
    if params.is_empty() {
        r.resolver.clone().unwrap_or_default()
    } else {
        format!(
            "{} resolver, {}",
            r.resolver.clone().unwrap_or_default(),
            params.join(", ")
        )
    }
}

/// The Task a resolver reference stands for among the `--task-file` Tasks: by its `name` param, the file
/// name of its `pathInRepo`/`url`, or the pipeline task's name.
fn from_task_files<'a>(
    pt: &PipelineTask,
    files: &'a BTreeMap<String, TaskSpec>,
) -> Option<(&'a String, &'a TaskSpec)> {
    let r = pt.task_ref.as_ref()?;
    let mut candidates = Vec::new();
    for p in &r.params {
        let v = attempt::result_text(&p.value);
        match p.name.as_str() {
            "name" | "task" => candidates.push(v),
            "pathInRepo" | "url" | "path" => {
                let stem = v
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches(".yaml")
                    .trim_end_matches(".yml")
                    .to_string();
                candidates.push(stem);
            }
            _ => {}
        }
    }
    candidates.push(pt.name.clone());
    candidates.into_iter().find_map(|c| files.get_key_value(&c))
}

/// Resolves every pipeline task's Task (and checks its StepActions) before anything starts.
fn sources(run: &LocalRun) -> Result<Vec<Source>, Vec<String>> {
    let spec = &run.input.spec;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let how = "define it in the script, or give its YAML with --task-file FILE";
    for pt in spec.tasks.iter().chain(spec.finally.iter()) {
        let name = &pt.name;
        let src = if let Some(ts) = &pt.task_spec {
            if ts.is_custom() {
                problems.push(format!(
                    "task {name:?} is a custom task ({}): run --local runs Tekton Tasks only",
                    ts.kind.clone().unwrap_or_default()
                ));
                continue;
            }
            Source {
                spec: ts.to_task_spec(),
                task_name: None,
                embedded: true,
            }
        } else if pt.pipeline_ref.is_some() || pt.pipeline_spec.is_some() {
            problems.push(format!(
                "task {name:?} runs a pipeline in a pipeline, which run --local does not support"
            ));
            continue;
        } else if let Some(r) = &pt.task_ref {
            if r.is_custom() {
                problems.push(format!(
                    "task {name:?} is a custom task ({}): run --local runs Tekton Tasks only",
                    r.kind.clone().unwrap_or_default()
                ));
                continue;
            }
            if r.resolver.is_some() {
                match from_task_files(pt, &run.task_files) {
                    Some((n, s)) => Source {
                        spec: s.clone(),
                        task_name: Some(n.clone()),
                        embedded: false,
                    },
                    None => {
                        problems.push(format!(
                            "task {name:?}: its Task comes from the {}, which cannot be fetched offline; {how} \
                             (named as the reference's `name` param or the file name of its path)",
                            resolver_label(pt)
                        ));
                        continue;
                    }
                }
            } else {
                let tname = r.name.clone().unwrap_or_default();
                match run
                    .input
                    .tasks
                    .get(&tname)
                    .or_else(|| run.task_files.get(&tname))
                {
                    Some(s) => Source {
                        spec: s.clone(),
                        task_name: Some(tname),
                        embedded: false,
                    },
                    None => {
                        problems.push(format!(
                            "task {name:?} refers to Task {tname:?}, which is not defined in the script; {how}"
                        ));
                        continue;
                    }
                }
            }
        } else {
            problems.push(format!("task {name:?} has neither taskRef nor taskSpec"));
            continue;
        };
        for (i, st) in src.spec.steps.iter().enumerate() {
            let Some(r) = &st.ref_ else { continue };
            let step = taskrun::step_name(&st.name, i);
            match (&r.resolver, &r.name) {
                (Some(res), _) => problems.push(format!(
                    "task {name:?}, step {step:?}: its StepAction comes from the {res} resolver, which cannot be \
                     fetched offline; define the StepAction in the script, or give its YAML with --task-file FILE"
                )),
                (None, Some(n)) if !run.step_actions.contains_key(n) => problems.push(format!(
                    "task {name:?}, step {step:?} refers to StepAction {n:?}, which is not defined in the script; \
                     define it in the script, or give its YAML with --task-file FILE"
                )),
                _ => {}
            }
        }
        out.push(src);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// `securityContext` fields the runtime cannot honour, with where they are (one note for the run).
fn security_note(srcs: &[Source], spec_names: &[String], host: bool) -> Option<String> {
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (src, task) in srcs.iter().zip(spec_names) {
        let steps = src
            .spec
            .steps
            .iter()
            .map(|s| (&s.name, &s.security_context));
        let sidecars = src
            .spec
            .sidecars
            .iter()
            .map(|s| (&s.name, &s.security_context));
        let template = src
            .spec
            .step_template
            .as_ref()
            .map(|t| (&t.security_context, "stepTemplate"));
        let mut check = |sc: &k8s_openapi::api::core::v1::SecurityContext, wher: String| {
            let mut fields = Vec::new();
            if host {
                let v = serde_json::to_value(sc).unwrap_or_default();
                if let Some(o) = v.as_object() {
                    fields.extend(o.keys().cloned());
                }
            } else {
                if sc.se_linux_options.is_some() {
                    fields.push("seLinuxOptions".to_string());
                }
                if sc.seccomp_profile.is_some() {
                    fields.push("seccompProfile".into());
                }
                if sc.app_armor_profile.is_some() {
                    fields.push("appArmorProfile".into());
                }
                if sc.windows_options.is_some() {
                    fields.push("windowsOptions".into());
                }
                if sc.proc_mount.is_some() {
                    fields.push("procMount".into());
                }
                if sc.run_as_non_root == Some(true) && sc.run_as_user.is_none() {
                    fields.push("runAsNonRoot".into());
                }
            }
            for f in fields {
                seen.entry(f).or_default().insert(wher.clone());
            }
        };
        for (n, sc) in steps {
            if let Some(sc) = sc {
                check(sc, format!("task {task} step {n}"));
            }
        }
        for (n, sc) in sidecars {
            if let Some(sc) = sc {
                check(sc, format!("task {task} sidecar {n}"));
            }
        }
        if let Some((Some(sc), w)) = template {
            check(sc, format!("task {task} {w}"));
        }
    }
    if seen.is_empty() {
        return None;
    }
    let parts: Vec<String> = seen
        .iter()
        .map(|(f, w)| format!("{f} ({})", w.iter().cloned().collect::<Vec<_>>().join(", ")))
        .collect();
    Some(format!(
        "securityContext fields the {} runtime does not honour: {}",
        if host { "host" } else { "container" },
        parts.join("; ")
    ))
}

fn rundir_for(name: &str) -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    for n in 0..100u32 {
        let p = base.join(format!("tekscript-{safe}-{}-{n}", std::process::id()));
        match std::fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create {}: {e}", p.display())),
        }
    }
    Err(format!(
        "cannot create a directory for the run in {}",
        base.display()
    ))
}

/// Removes the run's containers and (unless kept) its directory, however the run ends.
struct Cleanup {
    shared: Arc<Shared>,
    keep: bool,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.shared.runtime.remove_labelled(&self.shared.label);
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.shared.rundir);
        }
    }
}

/// A fresh 5-character suffix for `generateName` runs.
pub fn random_suffix() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut h = t ^ ((std::process::id() as u128) << 64);
    let alphabet = b"bcdfghjklmnpqrstvwxz2456789";
    let mut s = String::new();
    for _ in 0..5 {
        s.push(alphabet[(h % alphabet.len() as u128) as usize] as char);
        h /= alphabet.len() as u128;
        h = h
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
    }
    s
}

fn state_of(o: TaskOutcome) -> TaskState {
    match o {
        TaskOutcome::Pending => TaskState::Pending,
        TaskOutcome::Running => TaskState::Running,
        TaskOutcome::Succeeded => TaskState::Succeeded,
        TaskOutcome::Failed => TaskState::Failed,
        TaskOutcome::Skipped => TaskState::Skipped,
        TaskOutcome::Cancelled => TaskState::Cancelled,
        TaskOutcome::TimedOut => TaskState::TimedOut,
        TaskOutcome::Undecided => TaskState::NotRun,
    }
}

/// What the driver remembers of a pipeline task's attempts (for the summary).
#[derive(Debug, Default, Clone)]
struct Seen {
    failed_step: Option<(String, i32)>,
    pod_problem: Option<String>,
    last_message: String,
}

/// Runs the PipelineRun; events go to `emit` as they happen. Returns the final summary.
pub fn run(
    run: LocalRun,
    opts: &Options,
    started: &mut dyn FnMut(&Started),
    emit: &mut dyn FnMut(FollowEvent),
) -> Result<Summary, LocalError> {
    let srcs = sources(&run).map_err(LocalError::Input)?;
    let names: Vec<String> = run
        .input
        .spec
        .tasks
        .iter()
        .chain(run.input.spec.finally.iter())
        .map(|t| t.name.clone())
        .collect();
    let runtime = runtime::detect(opts.runtime).map_err(LocalError::Tool)?;
    let host = matches!(runtime, runtime::Runtime::Host);
    let rundir = rundir_for(&run.input.name).map_err(LocalError::Tool)?;
    let shared = Arc::new(Shared {
        runtime,
        rundir: rundir.clone(),
        namespace: run.input.namespace.clone(),
        uid: run.input.uid.clone(),
        label: format!("tekscript.run={}", run.input.name),
        image_map: opts.image_map.clone(),
        secret_dir: opts.secret_dir.clone(),
        step_actions: run.step_actions.clone(),
    });
    let _cleanup = Cleanup {
        shared: shared.clone(),
        keep: opts.keep,
    };
    let hostws = workspaces::prepare(
        &run.bindings,
        &run.dirs,
        &rundir,
        opts.secret_dir.as_deref(),
    )
    .map_err(LocalError::Input)?;
    started(&Started {
        name: run.input.name.clone(),
        runtime: shared.runtime.name(),
        dir: rundir.clone(),
    });
    if host {
        emit(FollowEvent::Note(
            "runtime host: steps run as processes on this machine with its own tools; their images are ignored"
                .into(),
        ));
    }
    if let Some(n) = security_note(&srcs, &names, host) {
        emit(FollowEvent::Note(n));
    }
    // an emptyDir shared by several tasks: here they share it, on a cluster each TaskRun gets its own
    for (ws, h) in &hostws {
        if h.kind != "emptyDir" {
            continue;
        }
        let users: Vec<&str> = run
            .input
            .spec
            .tasks
            .iter()
            .chain(run.input.spec.finally.iter())
            .filter(|pt| pt.workspaces.iter().any(|w| w.effective_workspace() == ws))
            .map(|pt| pt.name.as_str())
            .collect();
        if users.len() > 1 {
            emit(FollowEvent::Note(format!(
                "workspace {ws:?} is an emptyDir used by {} tasks: here they share one directory, on a cluster \
                 each TaskRun gets its own empty one (bind a volumeClaimTemplate to share files between tasks)",
                users.len()
            )));
        }
    }

    let pipeline_ws: Vec<(String, bool)> = run
        .input
        .spec
        .workspaces
        .iter()
        .map(|w| (w.name.clone(), run.input.bound_workspaces.contains(&w.name)))
        .collect();
    let spec = run.input.spec.clone();
    let all_tasks: Vec<PipelineTask> = spec
        .tasks
        .iter()
        .chain(spec.finally.iter())
        .cloned()
        .collect();
    let mut exec = Execution::new(run.input);
    let (tx, rx) = mpsc::channel::<Msg>();
    {
        let tx = tx.clone();
        // only the first handler can be set in a process; a later run reuses it
        let _ = ctrlc::set_handler(move || {
            let _ = tx.send(Msg::Interrupt);
        });
    }
    let clock = Instant::now();
    let parallel = opts.parallel.max(1);
    let mut queue: VecDeque<Start> = VecDeque::new();
    let mut running: HashMap<usize, Arc<Ctl>> = HashMap::new();
    // attempt id → pipeline task
    let mut attempt_task: HashMap<usize, String> = HashMap::new();
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut shown: HashMap<String, (TaskState, String, u32)> = HashMap::new();
    let mut shown_run: Option<String> = None;
    let mut interrupts = 0u32;
    let mut hard_stop = false;
    let mut last_tick = Instant::now();
    let mut actions = exec.advance(Duration::ZERO);
    loop {
        let now = clock.elapsed();
        let mut instant: Vec<(usize, Outcome)> = Vec::new();
        for a in actions.drain(..) {
            match a {
                Action::Start(s) if hard_stop => instant.push((s.id, cancelled_outcome())),
                Action::Start(s) => {
                    if s.retry > 0 {
                        let msg = seen
                            .get(&s.pipeline_task)
                            .map(|x| x.last_message.clone())
                            .unwrap_or_default();
                        emit(FollowEvent::Task {
                            task: s.pipeline_task.clone(),
                            state: TaskState::Retrying,
                            reason: "ToBeRetried".into(),
                            message: msg,
                            attempt: s.retry,
                            finally: s.finally,
                        });
                    }
                    queue.push_back(s);
                }
                Action::Cancel { id, .. } => {
                    queue.retain(|q| q.id != id);
                    if let Some(ctl) = running.get(&id) {
                        ctl.stop(&shared, hard_stop);
                    }
                }
            }
        }
        for (id, o) in instant {
            exec.complete(id, o, now);
        }
        while running.len() < parallel
            && let Some(s) = queue.pop_front()
        {
            let job = job_for(&s, &srcs, &all_tasks, &exec, &hostws, &pipeline_ws);
            let ctl = Arc::new(Ctl::default());
            running.insert(s.id, ctl.clone());
            attempt_task.insert(s.id, s.pipeline_task.clone());
            attempt::spawn(shared.clone(), job, ctl, tx.clone());
        }
        let report = exec.report();
        announce(&report, &mut shown, &mut shown_run, emit);
        if exec.is_finished() && running.is_empty() && queue.is_empty() {
            break;
        }
        // wait for something to happen, or the next deadline
        let now = clock.elapsed();
        let mut wait = Duration::from_secs(1);
        if let Some(d) = exec.deadline() {
            wait = wait.min(d.saturating_sub(now));
        }
        if let Some(t) = opts.timeout
            && interrupts == 0
        {
            wait = wait.min(t.saturating_sub(now));
        }
        let msg = match rx.recv_timeout(wait) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut interrupt = false;
        let mut handle =
            |m: Msg, exec: &mut Execution, running: &mut HashMap<usize, Arc<Ctl>>| match m {
                Msg::Log {
                    task,
                    step,
                    attempt,
                    line,
                } => emit(FollowEvent::Log {
                    task,
                    step,
                    attempt,
                    line,
                }),
                Msg::Note(n) => emit(FollowEvent::Note(n)),
                Msg::Pod {
                    task,
                    pod,
                    reason,
                    message,
                } => emit(FollowEvent::Pod {
                    task,
                    pod,
                    reason,
                    message,
                }),
                Msg::Done {
                    id,
                    outcome,
                    failed_step,
                    pod_problem,
                } => {
                    running.remove(&id);
                    if let Some(task) = attempt_task.get(&id) {
                        let s = seen.entry(task.clone()).or_default();
                        s.last_message = outcome.message.clone();
                        if outcome.ended == Ended::Failed {
                            s.failed_step = failed_step;
                            if pod_problem.is_some() {
                                s.pod_problem = pod_problem;
                            }
                        }
                    }
                    exec.complete(id, outcome, clock.elapsed());
                }
                Msg::Interrupt => interrupt = true,
            };
        if let Some(m) = msg {
            handle(m, &mut exec, &mut running);
            // drain what else is queued (log lines come in bursts)
            while let Ok(m) = rx.try_recv() {
                handle(m, &mut exec, &mut running);
            }
        }
        let timed_out = opts
            .timeout
            .is_some_and(|t| clock.elapsed() >= t && interrupts == 0 && !hard_stop);
        if interrupt || timed_out {
            interrupts += 1;
            if timed_out {
                emit(FollowEvent::Note(format!(
                    "--timeout {} reached: stopping the run",
                    crate::exec::run::go_duration(opts.timeout.unwrap_or_default())
                )));
            }
            if interrupts == 1 && !timed_out {
                let graceful = opts.graceful;
                emit(FollowEvent::Note(if graceful {
                    "cancelling the run (finally tasks still run; its containers get SIGTERM) — Ctrl-C again to kill everything now".to_string()
                } else {
                    "cancelling the run (its containers get SIGTERM, SIGKILL after 10s) — Ctrl-C again to kill everything now".to_string()
                }));
                // the execution says which attempts to stop (graceful: not the finally tasks)
                actions.extend(exec.cancel(graceful));
            } else {
                if !timed_out {
                    emit(FollowEvent::Note("killing the run's containers".into()));
                }
                hard_stop = true;
                actions.extend(exec.cancel(false));
                for ctl in running.values() {
                    ctl.stop(&shared, true);
                }
                let now = clock.elapsed();
                for q in queue.drain(..) {
                    exec.complete(q.id, cancelled_outcome(), now);
                }
            }
        }
        if opts.ticks && last_tick.elapsed() >= Duration::from_secs(1) {
            last_tick = Instant::now();
            emit(FollowEvent::Tick);
        }
        actions.extend(exec.advance(clock.elapsed()));
    }
    let report = exec.report();
    announce(&report, &mut shown, &mut shown_run, emit);
    let summary = summary_of(
        &report,
        exec.input(),
        &seen,
        clock.elapsed(),
        interrupts > 0,
    );
    if opts.keep {
        emit(FollowEvent::Note(format!(
            "kept the run's directories: {} (taskruns/<TaskRun>/ holds each pod's /tekton and /workspace; workspaces/ the workspaces)",
            rundir.display()
        )));
    }
    Ok(summary)
}

fn cancelled_outcome() -> Outcome {
    Outcome {
        ended: Ended::Cancelled,
        reason: "TaskRunCancelled".into(),
        message: crate::exec::run::CANCELLED_BY_PIPELINE.into(),
        results: BTreeMap::new(),
        unknown_results: BTreeSet::new(),
    }
}

fn job_for(
    s: &Start,
    srcs: &[Source],
    all: &[PipelineTask],
    exec: &Execution,
    hostws: &BTreeMap<String, workspaces::HostWorkspace>,
    pipeline_ws: &[(String, bool)],
) -> Job {
    let src = &srcs[s.task];
    let pt = &all[s.task];
    let mut spec = src.spec.clone();
    if src.embedded {
        let input = exec.input();
        taskrun::propagate(
            &mut spec,
            &PipelineValues {
                params: exec.params(),
                task_params: &s.params,
                run_name: &input.name,
                namespace: &input.namespace,
                uid: &input.uid,
                pipeline_name: &input.pipeline_name,
                workspaces: pipeline_ws,
            },
        );
    }
    let mut workspaces = Vec::new();
    for b in &pt.workspaces {
        let Some(h) = hostws.get(b.effective_workspace()) else {
            continue;
        };
        let mut dir = h.dir.clone();
        if let Some(sp) = b.sub_path.as_deref().filter(|x| !x.is_empty()) {
            dir = dir.join(sp);
            let _ = workspaces::mkdir(&dir);
        }
        workspaces.push(TaskWorkspace {
            name: b.name.clone(),
            dir,
            claim: h.claim.clone(),
            read_only: h.read_only,
        });
    }
    Job {
        id: s.id,
        task: s.pipeline_task.clone(),
        taskrun: s.taskrun.clone(),
        retry: s.retry,
        spec,
        task_name: src.task_name.clone().unwrap_or_else(|| s.taskrun.clone()),
        params: s.params.clone(),
        workspaces,
        timeout: s.timeout.unwrap_or(crate::exec::run::DEFAULT_TIMEOUT),
    }
}

/// Emits the task and run state changes since the last call.
fn announce(
    report: &Report,
    shown: &mut HashMap<String, (TaskState, String, u32)>,
    shown_run: &mut Option<String>,
    emit: &mut dyn FnMut(FollowEvent),
) {
    let running = report.status == "Unknown";
    let mut run_event = |emit: &mut dyn FnMut(FollowEvent)| {
        if shown_run.as_deref() != Some(report.reason.as_str()) {
            *shown_run = Some(report.reason.clone());
            emit(FollowEvent::Run {
                reason: report.reason.clone(),
                message: if running {
                    String::new()
                } else {
                    report.message.clone()
                },
            });
        }
    };
    // the run's state first while it runs, last once it is over
    if running {
        run_event(emit);
    }
    for t in &report.tasks {
        let state = state_of(t.outcome);
        if state == TaskState::Pending {
            continue;
        }
        let attempt = t.attempts.saturating_sub(1);
        let key = (state, t.reason.clone(), attempt);
        if shown.get(&t.name) == Some(&key) {
            continue;
        }
        shown.insert(t.name.clone(), key);
        emit(FollowEvent::Task {
            task: t.name.clone(),
            state,
            reason: if state == TaskState::Running {
                "Running".into()
            } else {
                t.reason.clone()
            },
            message: if state == TaskState::Running {
                String::new()
            } else {
                t.message.clone()
            },
            attempt,
            finally: t.finally,
        });
    }
    if !running {
        run_event(emit);
    }
}

fn summary_of(
    report: &Report,
    input: &RunInput,
    seen: &HashMap<String, Seen>,
    took: Duration,
    cancel_requested: bool,
) -> Summary {
    let tasks = report
        .tasks
        .iter()
        .map(|t| {
            let mut state = state_of(t.outcome);
            if matches!(state, TaskState::Pending | TaskState::Running) {
                state = TaskState::NotRun;
            }
            let s = seen.get(&t.name).cloned().unwrap_or_default();
            let failed_step = s
                .failed_step
                .filter(|_| state == TaskState::Failed && t.reason != "TaskRunImagePullFailed");
            TaskSummary {
                name: t.name.clone(),
                finally: t.finally,
                state,
                reason: t.reason.clone(),
                message: t.message.clone(),
                duration: match (t.started_at, t.ended_at) {
                    (Some(a), Some(b)) => Some(b.saturating_sub(a)),
                    _ => None,
                },
                attempts: t.attempts,
                failed_step,
                pod_problem: s.pod_problem.filter(|_| state == TaskState::Failed),
            }
        })
        .collect();
    Summary {
        name: report.name.clone(),
        namespace: input.namespace.clone(),
        condition: Some(Condition {
            status: report.status.clone(),
            reason: report.reason.clone(),
            message: report.message.clone(),
        }),
        duration: Some(took),
        tasks,
        results: report
            .results
            .iter()
            .map(|(k, v)| (k.clone(), attempt::result_text(v)))
            .collect(),
        gave_up: None,
        cancel_requested,
    }
}

/// `-w NAME=DIR`: the value is a directory (not one of the binding forms `run` knows).
pub fn is_dir_binding(value: &str) -> bool {
    let kind = value.split([':', ',']).next().unwrap_or_default();
    let known = [
        "emptyDir",
        "emptydir",
        "pvc",
        "configMap",
        "configmap",
        "config",
        "secret",
        "volumeClaimTemplate",
        "vct",
    ];
    if known.contains(&kind) {
        return false;
    }
    value.starts_with('/')
        || value.starts_with('.')
        || value.starts_with('~')
        || value.contains('/')
        || Path::new(value).is_dir()
}
