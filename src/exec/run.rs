//! One PipelineRun, executed the way Tekton's PipelineRun reconciler decides it
//! (`pkg/reconciler/pipelinerun/pipelinerun.go`, `resources/pipelinerunstate.go`,
//! `resources/pipelinerunresolution.go`, `resources/apply.go`, `resources/resultrefresolution.go`).
//!
//! [`Execution`] is a pure state machine on a caller-supplied clock: [`Execution::advance`] returns what
//! to start (and what to cancel because a timeout passed); the caller runs the attempts however it
//! likes (stated outcomes for `simulate`, containers for the local runner) and reports each with
//! [`Execution::complete`]. [`Execution::report`] gives the run's state in Tekton's words at any time.
//!
//! Rules encoded (each cites the Go function it follows):
//! - readiness: a DAG task is a candidate when every parent is done (succeeded, failed for good, or
//!   skipped) — `dag.GetCandidateTasks` over `completedOrSkippedDAGTasks`;
//! - skip reasons in `skip()`'s order: stopping, when false, parent skipped (a parent skipped by its own
//!   `when` does not count: scoped when expressions), results missing, pipeline/tasks timeout reached,
//!   empty matrix array; finally tasks in `IsFinallySkipped()`'s order;
//! - stopping: once a DAG task failed (not `onError: continue`) no new DAG task starts, running ones
//!   finish, finally tasks still run — `IsStopping`;
//! - a task whose result reference cannot be resolved although its producer ran fails validation
//!   (`CheckMissingResultReferences`) and stops the run;
//! - retries re-run a failed or timed-out attempt (`retries`), never a cancelled one;
//! - timeouts: `timeouts.pipeline` cancels everything and skips what did not start
//!   (`PipelineRun timeout has been reached`), `timeouts.tasks` cancels DAG tasks and lets finally run,
//!   `timeouts.finally` the finally tasks; cancelled-by-timeout attempts count as failed
//!   (`isCancelledForTimeOut`);
//! - the condition (`GetPipelineConditionStatus`): `Succeeded`, `Completed` (with skips), `Failed`,
//!   `Cancelled`, `PipelineRunTimeout`, `PipelineValidationFailed`, with Tekton's message.

use super::graph::TaskGraph;
use super::matrix::{self, Combination};
use super::subst::{Resolved, Subst, select, substitute_str, substitute_value};
use super::when::{self, When};
use crate::expr::{ContextScope, Selector, Var, WorkspaceAttr};
use crate::model::{Param, ParamValue, PipelineSpec, PipelineTask, TaskSpec};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Tekton's skip reasons (`pkg/apis/pipeline/v1/pipelinerun_types.go`, `SkippingReason`).
pub mod skip {
    pub const WHEN: &str = "When Expressions evaluated to false";
    pub const PARENT: &str = "Parent Tasks were skipped";
    pub const STOPPING: &str = "PipelineRun was stopping";
    pub const GRACEFULLY_CANCELLED: &str = "PipelineRun was gracefully cancelled";
    pub const GRACEFULLY_STOPPED: &str = "PipelineRun was gracefully stopped";
    pub const MISSING_RESULTS: &str = "Results were missing";
    pub const PIPELINE_TIMEOUT: &str = "PipelineRun timeout has been reached";
    pub const TASKS_TIMEOUT: &str = "PipelineRun Tasks timeout has been reached";
    pub const FINALLY_TIMEOUT: &str = "PipelineRun Finally timeout has been reached";
    pub const EMPTY_MATRIX: &str = "Matrix Parameters have an empty array";
}

/// `TaskRunCancelledByPipelineTimeoutMsg` (`pkg/apis/pipeline/v1/taskrun_types.go`).
pub const CANCELLED_BY_TIMEOUT: &str =
    "TaskRun cancelled as the PipelineRun it belongs to has timed out.";
/// `TaskRunCancelledByPipelineMsg`.
pub const CANCELLED_BY_PIPELINE: &str =
    "TaskRun cancelled as the PipelineRun it belongs to has been cancelled.";
/// Tekton's default for `timeouts.pipeline` (`config-defaults` `default-timeout-minutes`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);
/// `default-max-matrix-combinations-count`.
pub const MAX_MATRIX_COMBINATIONS: usize = 256;

/// Where a pipeline task's Task comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskSource {
    /// `taskSpec`, or a `taskRef` to a Task the caller supplied.
    Spec(TaskSpec),
    /// A `taskRef` by name to a Task the caller does not have.
    Missing(String),
    /// A resolver reference (`git`, `hub`, `bundles`, `cluster`, …): cannot be fetched offline.
    Remote(String),
    /// A custom task, or pipelines in pipelines: not executed here.
    Other(String),
}

/// The run-level inputs of an execution.
#[derive(Debug, Clone, Default)]
pub struct RunInput {
    /// The PipelineRun's name (`context.pipelineRun.name`; TaskRuns are named `<run>-<task>`).
    pub name: String,
    pub namespace: String,
    pub uid: String,
    /// `context.pipeline.name`.
    pub pipeline_name: String,
    pub spec: PipelineSpec,
    /// The run's `params`.
    pub params: Vec<Param>,
    /// Names of the workspaces the run binds (for `$(workspaces.w.bound)`).
    pub bound_workspaces: BTreeSet<String>,
    /// `timeouts.pipeline` (`None`: no limit; Tekton's default is [`DEFAULT_TIMEOUT`]).
    pub pipeline_timeout: Option<Duration>,
    pub tasks_timeout: Option<Duration>,
    pub finally_timeout: Option<Duration>,
    /// Task specs by the name a `taskRef` uses.
    pub tasks: BTreeMap<String, TaskSpec>,
    /// `taskRunSpecs[].timeout` by pipeline task (overrides the pipeline task's `timeout`).
    pub task_timeouts: BTreeMap<String, Duration>,
}

/// Identifies one attempt (a TaskRun, or one matrix combination's TaskRun, and its retries share it).
pub type AttemptId = usize;

/// Something the caller must do.
// Actions are few and handed over at once; boxing `Start` would only add an allocation per task.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Start a TaskRun (or retry it).
    Start(Start),
    /// Stop a running attempt; the execution already counts it as cancelled.
    Cancel { id: AttemptId, message: String },
}

/// A TaskRun to start.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    pub id: AttemptId,
    /// Index of the pipeline task (`tasks` then `finally`).
    pub task: usize,
    pub pipeline_task: String,
    /// `<run>-<task>` (`<run>-<task>-<i>` for a matrix combination), as Tekton names the TaskRun.
    pub taskrun: String,
    pub finally: bool,
    /// 0 for the first attempt; `context.task.retry-count`.
    pub retry: u32,
    pub matrix: Option<usize>,
    /// The pipeline task's params after substitution (plus the matrix combination's).
    pub params: Vec<Param>,
    /// True when a placeholder value went into the params.
    pub unknown: bool,
    /// The pipeline task's `timeout` (or `taskRunSpecs[].timeout`).
    pub timeout: Option<Duration>,
    pub source: TaskSource,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
}

/// What an attempt did.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub ended: Ended,
    /// The TaskRun's condition reason (`Succeeded`, `Failed`, `TaskRunTimeout`,
    /// `TaskRunImagePullFailed`, …).
    pub reason: String,
    pub message: String,
    pub results: BTreeMap<String, ParamValue>,
    /// Results that are placeholders (nobody supplied them).
    pub unknown_results: BTreeSet<String>,
}

impl Outcome {
    pub fn succeeded(results: BTreeMap<String, ParamValue>) -> Outcome {
        Outcome {
            ended: Ended::Succeeded,
            reason: "Succeeded".into(),
            message: "All Steps have completed executing".into(),
            results,
            unknown_results: BTreeSet::new(),
        }
    }

    /// A step failed (`StepFailed`, `pkg/pod/status.go` getFailureReason for a non-OOM step failure).
    pub fn failed(message: impl Into<String>) -> Outcome {
        Outcome {
            ended: Ended::Failed,
            reason: "StepFailed".into(),
            message: message.into(),
            results: BTreeMap::new(),
            unknown_results: BTreeSet::new(),
        }
    }

    pub fn timed_out(taskrun: &str, timeout: Duration) -> Outcome {
        Outcome {
            ended: Ended::TimedOut,
            reason: "TaskRunTimeout".into(),
            message: format!(
                "TaskRun \"{taskrun}\" failed to finish within \"{}\"",
                go_duration(timeout)
            ),
            results: BTreeMap::new(),
            unknown_results: BTreeSet::new(),
        }
    }
}

/// A task's outcome as the report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TaskOutcome {
    /// Not started yet (the run is not over, or it ended before reaching the task).
    Pending,
    Running,
    Succeeded,
    Failed,
    Skipped,
    Cancelled,
    TimedOut,
    /// A `when` compares a placeholder, or depends on such a task: the simulation cannot decide.
    Undecided,
}

impl TaskOutcome {
    /// `succeeded`, `failed`, `skipped`, `cancelled`, `timed-out`, `undecided`, `pending`, `running`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskOutcome::Pending => "pending",
            TaskOutcome::Running => "running",
            TaskOutcome::Succeeded => "succeeded",
            TaskOutcome::Failed => "failed",
            TaskOutcome::Skipped => "skipped",
            TaskOutcome::Cancelled => "cancelled",
            TaskOutcome::TimedOut => "timed-out",
            TaskOutcome::Undecided => "undecided",
        }
    }
}

/// One TaskRun (one matrix combination) of a pipeline task.
#[derive(Debug, Clone)]
struct Child {
    name: String,
    combo: Option<Combination>,
    /// Attempts made (1 after the first start).
    attempts: u32,
    running: bool,
    last: Option<Outcome>,
    /// Cancelled because of a pipeline timeout (counts as failed).
    by_timeout: bool,
    started_at: Option<Duration>,
    ended_at: Option<Duration>,
    /// The attempt id once started.
    id: Option<AttemptId>,
}

#[derive(Debug, Clone, PartialEq)]
enum Decision {
    /// Not decided yet.
    Open,
    Skipped(&'static str),
    /// Could not be decided (simulation with placeholders).
    Undecided(String),
    /// Failed validation before it started (missing result reference).
    Invalid(String),
    Scheduled,
}

#[derive(Debug, Clone)]
struct TaskState {
    decision: Decision,
    children: Vec<Child>,
    /// Params after substitution (the task's own, before the matrix combination).
    params: Vec<Param>,
    unknown: bool,
    order: Option<usize>,
    /// When the task was started or decided (virtual time of the caller's clock).
    decided_at: Option<Duration>,
}

/// The state of one PipelineRun.
#[derive(Debug, Clone)]
pub struct Execution {
    input: RunInput,
    pub graph: TaskGraph,
    params: BTreeMap<String, ParamValue>,
    tasks: Vec<TaskState>,
    /// Attempt id → (task, child).
    attempts: Vec<(usize, usize)>,
    start: Duration,
    now: Duration,
    finally_start: Option<Duration>,
    /// Validation failure before anything ran (`ParameterMissing`, …): reason and message.
    failure: Option<(String, String)>,
    cancelled: Option<bool>,
    pipeline_timed_out: bool,
    tasks_timed_out: bool,
    finally_timed_out: bool,
    next_order: usize,
    /// The DAG tasks in topological order (waves flattened); empty when the graph has a cycle.
    order: Vec<usize>,
}

/// The state of a run in Tekton's words.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub name: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// `Succeeded`, `Completed`, `Failed`, `Cancelled`, `PipelineRunTimeout`, `Running`, …
    pub reason: String,
    pub message: String,
    /// Tasks in execution order (started or decided), then those never reached in declaration order.
    pub tasks: Vec<TaskReport>,
    pub results: Vec<(String, ParamValue)>,
    /// True when some task's outcome could not be decided (simulation with placeholders).
    pub undecided: bool,
}

/// One pipeline task in a [`Report`].
#[derive(Debug, Clone, PartialEq)]
pub struct TaskReport {
    pub name: String,
    pub finally: bool,
    pub outcome: TaskOutcome,
    /// The skip reason (Tekton's text), the TaskRun's condition reason otherwise.
    pub reason: String,
    pub message: String,
    pub params: Vec<Param>,
    pub results: BTreeMap<String, ParamValue>,
    /// TaskRun names (one per matrix combination).
    pub taskruns: Vec<String>,
    /// Attempts of the first TaskRun (retries + 1).
    pub attempts: u32,
    pub started_at: Option<Duration>,
    pub ended_at: Option<Duration>,
    /// Matrix combinations.
    pub combinations: Vec<Combination>,
    /// When the task was started or its skip decided.
    pub decided_at: Option<Duration>,
}

/// Go's duration text (`1h0m0s`).
pub fn go_duration(d: Duration) -> String {
    crate::model::duration::format_duration(d.as_nanos().min(i64::MAX as u128) as i64)
}

/// Tekton's child name: `<parent>-<suffix>`, shortened with a hash when longer than 63 characters
/// (`kmeta.ChildName`).
pub fn child_name(parent: &str, suffix: &str) -> String {
    const MAX: usize = 63;
    let n = format!("{parent}{suffix}");
    if n.len() <= MAX {
        return n;
    }
    // kmeta.ChildName (knative.dev/pkg/kmeta/names.go): when too long, a prefix of the parent and an
    // md5 hex digest of the whole name; a stable FNV-1a hash of the same length keeps names unique,
    // valid and deterministic (the cluster assigns the real ones).
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in n.bytes() {
        h ^= b as u128;
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    let head: String = parent.chars().take(MAX - 32).collect();
    format!("{}{h:032x}", head.trim_end_matches('-'))
}

impl Execution {
    /// Prepares a run: pipeline params (run values over declared defaults), the task graph, matrix
    /// fan-out. A run Tekton would refuse before any task starts is still an `Execution`, already
    /// finished with the reason (`ParameterMissing`, `PipelineValidationFailed`, …).
    pub fn new(input: RunInput) -> Execution {
        let graph = TaskGraph::new(&input.spec);
        let n = graph.nodes.len();
        let mut e = Execution {
            tasks: (0..n)
                .map(|_| TaskState {
                    decision: Decision::Open,
                    children: Vec::new(),
                    params: Vec::new(),
                    unknown: false,
                    order: None,
                    decided_at: None,
                })
                .collect(),
            params: BTreeMap::new(),
            graph,
            attempts: Vec::new(),
            start: Duration::ZERO,
            now: Duration::ZERO,
            finally_start: None,
            failure: None,
            cancelled: None,
            pipeline_timed_out: false,
            tasks_timed_out: false,
            finally_timed_out: false,
            next_order: 0,
            order: Vec::new(),
            input,
        };
        e.order = e
            .graph
            .waves()
            .map(|w| w.into_iter().flatten().collect())
            .unwrap_or_default();
        e.resolve_params();
        if e.failure.is_none() && !e.graph.cycles().is_empty() {
            e.failure = Some((
                "PipelineValidationFailed".into(),
                "the pipeline's tasks wait for each other in a cycle".into(),
            ));
        }
        e
    }

    fn resolve_params(&mut self) {
        let given: BTreeMap<&str, &ParamValue> = self
            .input
            .params
            .iter()
            .map(|p| (p.name.as_str(), &p.value))
            .collect();
        let mut missing = Vec::new();
        for spec in &self.input.spec.params {
            let v = match (given.get(spec.name.as_str()), &spec.default) {
                (Some(v), _) => (*v).clone(),
                (None, Some(d)) => d.clone(),
                (None, None) => {
                    missing.push(spec.name.clone());
                    continue;
                }
            };
            // a string given for an array/object param is a type mismatch Tekton reports before running
            let want = spec.effective_type();
            if v.param_type() != want {
                self.failure = Some((
                    "ParameterTypeMismatch".into(),
                    format!(
                        "PipelineRun {}/{} parameters have mismatching types with Pipeline {}/{}'s parameters: [{}]",
                        self.input.namespace,
                        self.input.name,
                        self.input.namespace,
                        self.input.pipeline_name,
                        spec.name
                    ),
                ));
            }
            self.params.insert(spec.name.clone(), v);
        }
        // params of the run that the pipeline does not declare are still visible (propagation)
        for (k, v) in given {
            self.params
                .entry(k.to_string())
                .or_insert_with(|| v.clone());
        }
        // defaults may refer to other params
        let snapshot = self.params.clone();
        for v in self.params.values_mut() {
            let mut r = |var: &Var| param_lookup(&snapshot, var);
            *v = substitute_value(v, &mut r).value;
        }
        if !missing.is_empty() && self.failure.is_none() {
            self.failure = Some((
                "ParameterMissing".into(),
                format!(
                    "PipelineRun {} parameters is missing some parameters required by Pipeline {}'s parameters: PipelineRun missing parameters: [{}]",
                    self.input.name,
                    self.input.pipeline_name,
                    missing.join(" ")
                ),
            ));
        }
    }

    /// The pipeline's params after defaulting.
    pub fn params(&self) -> &BTreeMap<String, ParamValue> {
        &self.params
    }

    pub fn input(&self) -> &RunInput {
        &self.input
    }

    fn pt(&self, i: usize) -> &PipelineTask {
        let dag = self.graph.dag_count;
        if i < dag {
            &self.input.spec.tasks[i]
        } else {
            &self.input.spec.finally[i - dag]
        }
    }

    fn source(&self, i: usize) -> TaskSource {
        let pt = self.pt(i);
        if let Some(spec) = &pt.task_spec {
            if spec.is_custom() {
                return TaskSource::Other(format!(
                    "custom task {}",
                    spec.kind.clone().unwrap_or_default()
                ));
            }
            return TaskSource::Spec(spec.to_task_spec());
        }
        if pt.pipeline_ref.is_some() || pt.pipeline_spec.is_some() {
            return TaskSource::Other("a pipeline in a pipeline".into());
        }
        match &pt.task_ref {
            Some(r) => match r.local_name() {
                Some(name) => match self.input.tasks.get(name) {
                    Some(s) => TaskSource::Spec(s.clone()),
                    None => TaskSource::Missing(name.to_string()),
                },
                None if r.is_custom() => TaskSource::Other(format!(
                    "custom task {}",
                    r.kind.clone().unwrap_or_default()
                )),
                None => TaskSource::Remote(r.resolver.clone().unwrap_or_default()),
            },
            None => TaskSource::Other("no task".into()),
        }
    }

    fn child_outcome(&self, i: usize, c: &Child) -> TaskOutcome {
        match (&c.last, c.running) {
            (_, true) => TaskOutcome::Running,
            (None, false) => TaskOutcome::Pending,
            (Some(_), false) if self.retry_due(i, c) => TaskOutcome::Running,
            (Some(o), false) => match o.ended {
                Ended::Succeeded => TaskOutcome::Succeeded,
                Ended::Failed => TaskOutcome::Failed,
                Ended::TimedOut => TaskOutcome::TimedOut,
                Ended::Cancelled => TaskOutcome::Cancelled,
            },
        }
    }

    /// A failed or timed-out attempt with retries left (Tekton: `ToBeRetried`).
    fn retry_due(&self, i: usize, ch: &Child) -> bool {
        let retries = self.pt(i).retries.unwrap_or(0).max(0) as u32;
        !ch.running
            && !ch.by_timeout
            && ch.attempts <= retries
            && matches!(
                ch.last.as_ref().map(|o| &o.ended),
                Some(Ended::Failed | Ended::TimedOut)
            )
            && self.cancelled.is_none()
            && !self.pipeline_timed_out
            && !(self.tasks_timed_out && i < self.graph.dag_count)
            && !(self.finally_timed_out && i >= self.graph.dag_count)
    }

    /// The outcome of pipeline task `i` so far.
    pub fn outcome(&self, i: usize) -> TaskOutcome {
        let t = &self.tasks[i];
        match &t.decision {
            Decision::Open => TaskOutcome::Pending,
            Decision::Skipped(_) => TaskOutcome::Skipped,
            Decision::Undecided(_) => TaskOutcome::Undecided,
            Decision::Invalid(_) => TaskOutcome::Failed,
            Decision::Scheduled => {
                // running while any TaskRun runs; then the first that is not ok (no allocation:
                // this is asked for every task on every pass)
                let mut first_bad = None;
                for c in &t.children {
                    match self.child_outcome(i, c) {
                        TaskOutcome::Running | TaskOutcome::Pending => return TaskOutcome::Running,
                        TaskOutcome::Succeeded => {}
                        other => {
                            first_bad.get_or_insert(other);
                        }
                    }
                }
                first_bad.unwrap_or(TaskOutcome::Succeeded)
            }
        }
    }

    fn is_done(&self, i: usize) -> bool {
        !matches!(self.outcome(i), TaskOutcome::Pending | TaskOutcome::Running)
    }

    fn is_success(&self, i: usize) -> bool {
        self.outcome(i) == TaskOutcome::Succeeded
    }

    /// Failed for good (including timeouts and cancellations), as `isFailure()` counts.
    fn is_failure(&self, i: usize) -> bool {
        matches!(
            self.outcome(i),
            TaskOutcome::Failed | TaskOutcome::TimedOut | TaskOutcome::Cancelled
        )
    }

    fn on_error_continue(&self, i: usize) -> bool {
        self.pt(i).on_error.as_deref() == Some("continue")
    }

    /// `IsStopping`: a DAG task failed (not `onError: continue`) or failed validation.
    pub fn is_stopping(&self) -> bool {
        (0..self.graph.dag_count).any(|i| {
            matches!(self.tasks[i].decision, Decision::Invalid(_))
                || (self.is_failure(i) && !self.on_error_continue(i))
        })
    }

    fn dag_done(&self) -> bool {
        (0..self.graph.dag_count).all(|i| self.is_done(i))
    }

    fn skip_reason(&self, i: usize) -> Option<&'static str> {
        match self.tasks[i].decision {
            Decision::Skipped(r) => Some(r),
            _ => None,
        }
    }

    /// The value of a pipeline-level variable for task `i` (`None`: leave it as written).
    fn lookup(&self, i: usize, var: &Var) -> Option<Resolved> {
        match var {
            Var::Params { .. } => param_lookup(&self.params, var),
            Var::TaskResult { task, result, sel } | Var::FinallyResult { task, result, sel } => {
                let (v, unknown) = self.task_result(task, result)?;
                select(&v, sel).map(|value| Resolved { value, unknown })
            }
            Var::MatrixLength(task) => {
                let k = self.graph.index(task)?;
                Some(Resolved::known(self.tasks[k].children.len().to_string()))
            }
            Var::MatrixResultLength { task, result } => {
                let (v, unknown) = self.task_result(task, result)?;
                let n = v.as_array().map_or(1, <[String]>::len);
                Some(Resolved {
                    value: n.to_string().into(),
                    unknown,
                })
            }
            Var::TaskStatus(task) => {
                let k = self.graph.index(task)?;
                Some(Resolved::known(self.status_word(k)))
            }
            Var::TaskReason(task) => {
                let k = self.graph.index(task)?;
                Some(Resolved::known(self.reason_word(k)))
            }
            Var::TasksStatus => Some(Resolved::known(self.aggregate_status())),
            Var::Context { scope, field } => {
                let v = match (scope, field.as_str()) {
                    (ContextScope::PipelineRun, "name") => self.input.name.clone(),
                    (ContextScope::PipelineRun, "namespace") => self.input.namespace.clone(),
                    (ContextScope::PipelineRun, "uid") => self.input.uid.clone(),
                    (ContextScope::Pipeline, "name") => self.input.pipeline_name.clone(),
                    (ContextScope::PipelineTask, "retries") => {
                        self.pt(i).retries.unwrap_or(0).to_string()
                    }
                    _ => return None,
                };
                Some(Resolved::known(v))
            }
            Var::Workspace {
                name,
                attr: WorkspaceAttr::Bound,
            } => Some(Resolved::known(
                self.input.bound_workspaces.contains(name).to_string(),
            )),
            _ => None,
        }
    }

    /// A task's result: the string/array/object of a plain task, an array of string results (in
    /// combination order) of a matrixed one. `None` when missing.
    fn task_result(&self, task: &str, result: &str) -> Option<(ParamValue, bool)> {
        let k = self.graph.index(task)?;
        let t = &self.tasks[k];
        if t.decision != Decision::Scheduled {
            return None;
        }
        let matrixed = self.pt(k).matrix.is_some();
        if !matrixed {
            let o = t.children.first()?.last.as_ref()?;
            let v = o.results.get(result)?.clone();
            return Some((v, o.unknown_results.contains(result)));
        }
        let mut out = Vec::new();
        let mut unknown = false;
        for c in &t.children {
            let Some(o) = &c.last else { continue };
            if let Some(ParamValue::String(s)) = o.results.get(result) {
                out.push(s.clone());
                unknown |= o.unknown_results.contains(result);
            }
        }
        if out.is_empty() {
            return None;
        }
        Some((ParamValue::Array(out), unknown))
    }

    /// `$(tasks.t.status)`: `Succeeded`, `Failed` or `None` (`GetPipelineTaskStatus`).
    fn status_word(&self, k: usize) -> String {
        match self.outcome(k) {
            TaskOutcome::Succeeded => "Succeeded",
            TaskOutcome::Failed | TaskOutcome::TimedOut | TaskOutcome::Cancelled => "Failed",
            _ => "None",
        }
        .into()
    }

    /// `$(tasks.t.reason)`: the reason of the first unsuccessful TaskRun, else the first's
    /// (`getReason`); empty when nothing ran.
    fn reason_word(&self, k: usize) -> String {
        let t = &self.tasks[k];
        t.children
            .iter()
            .filter_map(|c| c.last.as_ref())
            .find(|o| o.ended != Ended::Succeeded)
            .or_else(|| t.children.first().and_then(|c| c.last.as_ref()))
            .map(|o| o.reason.clone())
            .unwrap_or_default()
    }

    /// `$(tasks.status)`: `Succeeded`, `Failed`, `Completed` (some skipped) or `None`.
    fn aggregate_status(&self) -> String {
        if !self.dag_done() {
            return "None".into();
        }
        let mut s = "Succeeded";
        for i in 0..self.graph.dag_count {
            if self.is_failure(i) || matches!(self.tasks[i].decision, Decision::Invalid(_)) {
                return "Failed".into();
            }
            if self.outcome(i) == TaskOutcome::Skipped {
                s = "Completed";
            }
        }
        s.into()
    }

    /// Substitutes the task's params, `when` and matrix with what is known now.
    fn substitute_task(
        &self,
        i: usize,
    ) -> (
        Vec<Param>,
        bool,
        Vec<when::Substituted>,
        Option<crate::model::Matrix>,
    ) {
        let pt = self.pt(i);
        let mut unknown = false;
        let mut r = |v: &Var| self.lookup(i, v);
        let params = pt
            .params
            .iter()
            .map(|p| {
                let s = substitute_value(&p.value, &mut r);
                unknown |= s.unknown;
                Param::new(p.name.clone(), s.value)
            })
            .collect();
        let whens = pt
            .when
            .iter()
            .map(|w| {
                let mut u = false;
                let mut e = w.clone();
                if let Some(s) = &w.input {
                    let Subst { value, unknown } = substitute_str(s, &mut r);
                    u |= unknown;
                    e.input = Some(value);
                }
                let mut vals = Vec::new();
                for v in &w.values {
                    // an isolated array reference expands into the values
                    let s = substitute_value(&ParamValue::String(v.clone()), &mut r);
                    u |= s.unknown;
                    match s.value {
                        ParamValue::Array(a) => vals.extend(a),
                        ParamValue::String(s) => vals.push(s),
                        ParamValue::Object(_) => vals.push(v.clone()),
                    }
                }
                e.values = vals;
                if let Some(s) = &w.cel {
                    let Subst { value, unknown } = substitute_str(s, &mut r);
                    u |= unknown;
                    e.cel = Some(value);
                }
                when::Substituted {
                    expr: e,
                    unknown: u,
                }
            })
            .collect();
        let matrix = pt.matrix.as_ref().map(|m| {
            let mut m = m.clone();
            for p in m.params.iter_mut() {
                let s = substitute_value(&p.value, &mut r);
                unknown |= s.unknown;
                p.value = s.value;
            }
            for inc in m.include.iter_mut() {
                for p in inc.params.iter_mut() {
                    let s = substitute_value(&p.value, &mut r);
                    unknown |= s.unknown;
                    p.value = s.value;
                }
            }
            m
        });
        (params, unknown, whens, matrix)
    }

    /// Result references of task `i` that cannot be resolved: (producer, result).
    fn missing_results(&self, i: usize) -> Vec<(usize, String)> {
        let mut out = BTreeSet::new();
        super::graph::for_each_string(self.pt(i), "", &mut |_, s| {
            if !s.contains("$(tasks.") {
                return;
            }
            for r in crate::expr::find_refs(s) {
                if let Ok(Var::TaskResult { task, result, .. }) = &r.var
                    && let Some(k) = self.graph.index(task)
                    && k < self.graph.dag_count
                    && self.task_result(task, result).is_none()
                {
                    out.insert((k, result.clone()));
                }
            }
        });
        out.into_iter().collect()
    }

    fn decide(&mut self, i: usize, d: Decision) {
        if self.tasks[i].order.is_none() {
            self.tasks[i].order = Some(self.next_order);
            self.tasks[i].decided_at = Some(self.now);
            self.next_order += 1;
        }
        self.tasks[i].decision = d;
    }

    /// Decides what happens now: skips, starts, timeouts. Call after every change (and at each
    /// deadline the caller waits for, see [`Execution::deadline`]).
    pub fn advance(&mut self, now: Duration) -> Vec<Action> {
        self.now = self.now.max(now);
        let mut actions = Vec::new();
        if self.failure.is_some() {
            return actions;
        }
        self.check_timeouts(&mut actions);
        if self.cancelled == Some(false) || self.pipeline_timed_out {
            // hard cancel / pipeline timeout: nothing new starts; what did not start is skipped
            let reason = if self.pipeline_timed_out {
                Some(skip::PIPELINE_TIMEOUT)
            } else {
                None
            };
            for i in 0..self.tasks.len() {
                if self.tasks[i].decision == Decision::Open
                    && let Some(r) = reason
                {
                    self.decide(i, Decision::Skipped(r));
                }
            }
            return actions;
        }
        let order = std::mem::take(&mut self.order);
        // DAG tasks, parents before children; `IsStopping` only changes here when a task fails
        // validation, so it is computed once (keeps a pass linear in the number of tasks)
        let mut stopping = self.is_stopping();
        for &i in &order {
            if self.tasks[i].decision != Decision::Open {
                continue;
            }
            if let Some(d) = self.dag_decision(i, stopping) {
                stopping |= matches!(d, Decision::Invalid(_));
                self.schedule_or_skip(i, d, &mut actions);
            }
        }
        self.order = order;
        // finally tasks once every DAG task is done
        if self.dag_done() && self.graph.nodes.len() > self.graph.dag_count {
            if self.finally_start.is_none() {
                self.finally_start = Some(self.now);
            }
            for i in self.graph.dag_count..self.graph.nodes.len() {
                if self.tasks[i].decision != Decision::Open {
                    continue;
                }
                let d = self.finally_decision(i);
                self.schedule_or_skip(i, d, &mut actions);
            }
        }
        // retries of failed attempts
        for i in 0..self.tasks.len() {
            if self.tasks[i].decision != Decision::Scheduled {
                continue;
            }
            for c in 0..self.tasks[i].children.len() {
                if self.retry_due(i, &self.tasks[i].children[c]) {
                    actions.push(Action::Start(self.start_child(i, c)));
                }
            }
        }
        actions
    }

    fn schedule_or_skip(&mut self, i: usize, d: Decision, actions: &mut Vec<Action>) {
        match d {
            Decision::Scheduled => {
                let (params, unknown, _, matrix) = self.substitute_task(i);
                let combos: Vec<Option<Combination>> = match &matrix {
                    Some(m) => matrix::fan_out(m).into_iter().map(Some).collect(),
                    None => vec![None],
                };
                let run = self.input.name.clone();
                let name = self.pt(i).name.clone();
                let many = matrix.is_some();
                self.tasks[i].params = params;
                self.tasks[i].unknown = unknown;
                self.tasks[i].children = combos
                    .into_iter()
                    .enumerate()
                    .map(|(k, combo)| Child {
                        name: if many {
                            child_name(&run, &format!("-{name}-{k}"))
                        } else {
                            child_name(&run, &format!("-{name}"))
                        },
                        combo,
                        attempts: 0,
                        running: false,
                        last: None,
                        by_timeout: false,
                        started_at: None,
                        ended_at: None,
                        id: None,
                    })
                    .collect();
                self.decide(i, Decision::Scheduled);
                for c in 0..self.tasks[i].children.len() {
                    actions.push(Action::Start(self.start_child(i, c)));
                }
            }
            Decision::Open => {}
            other => self.decide(i, other),
        }
    }

    fn start_child(&mut self, i: usize, c: usize) -> Start {
        let id = match self.tasks[i].children[c].id {
            Some(id) => id,
            None => {
                self.attempts.push((i, c));
                let id = self.attempts.len() - 1;
                self.tasks[i].children[c].id = Some(id);
                id
            }
        };
        let now = self.now;
        let ch = &mut self.tasks[i].children[c];
        ch.running = true;
        ch.attempts += 1;
        ch.started_at.get_or_insert(now);
        let retry = ch.attempts - 1;
        let taskrun = ch.name.clone();
        let combo = ch.combo.clone();
        let mut params = self.tasks[i].params.clone();
        if let Some(combo) = &combo {
            for (k, v) in combo {
                params.push(Param::new(k.clone(), v.clone()));
            }
        }
        let pt = self.pt(i);
        let timeout = self.input.task_timeouts.get(&pt.name).copied().or_else(|| {
            pt.timeout.as_deref().and_then(|t| {
                crate::model::duration::parse_duration(t)
                    .ok()
                    .filter(|n| *n > 0)
                    .map(|n| Duration::from_nanos(n as u64))
            })
        });
        Start {
            id,
            task: i,
            pipeline_task: pt.name.clone(),
            taskrun,
            finally: self.graph.is_finally(i),
            retry,
            matrix: combo.as_ref().map(|_| c),
            params,
            unknown: self.tasks[i].unknown,
            timeout,
            source: self.source(i),
        }
    }

    /// `skip()` for a DAG task that is not scheduled yet; `Some(Scheduled)` to start it, `None` to wait.
    fn dag_decision(&self, i: usize, stopping: bool) -> Option<Decision> {
        if stopping {
            return Some(Decision::Skipped(skip::STOPPING));
        }
        match self.cancelled {
            Some(true) => return Some(Decision::Skipped(skip::GRACEFULLY_CANCELLED)),
            Some(false) => return None,
            None => {}
        }
        let parents = self.graph.parents(i);
        if !parents.iter().all(|&p| self.is_done(p)) {
            return None;
        }
        if let Some(&p) = parents
            .iter()
            .find(|&&p| matches!(self.tasks[p].decision, Decision::Undecided(_)))
        {
            return Some(Decision::Undecided(format!(
                "depends on `{}`, whose outcome is undecided",
                self.graph.nodes[p].name
            )));
        }
        let (_, _, whens, matrix) = self.substitute_task(i);
        match when::evaluate(&whens) {
            When::False => return Some(Decision::Skipped(skip::WHEN)),
            When::Undecidable(why) => return Some(Decision::Undecided(why)),
            When::True => {}
        }
        if parents
            .iter()
            .any(|&p| matches!(self.skip_reason(p), Some(r) if r != skip::WHEN))
        {
            return Some(Decision::Skipped(skip::PARENT));
        }
        if let Some((p, result)) = self.missing_results(i).into_iter().next() {
            if self.on_error_continue(i) || self.skip_reason(p) == Some(skip::WHEN) {
                return Some(Decision::Skipped(skip::MISSING_RESULTS));
            }
            let producer = &self.graph.nodes[p].name;
            let msg = if self.is_success(p) {
                format!(
                    "task \"{producer}\" completed successfully but did not emit the result \"{result}\", which is referenced by task \"{}\"",
                    self.graph.nodes[i].name
                )
            } else {
                format!(
                    "Invalid task result reference: Could not find result with name {result} for task {producer}"
                )
            };
            return Some(Decision::Invalid(msg));
        }
        if self.tasks_timed_out {
            return Some(Decision::Skipped(skip::TASKS_TIMEOUT));
        }
        if matrix.as_ref().is_some_and(matrix::has_empty_array) {
            return Some(Decision::Skipped(skip::EMPTY_MATRIX));
        }
        Some(Decision::Scheduled)
    }

    /// `IsFinallySkipped()`.
    fn finally_decision(&self, i: usize) -> Decision {
        if self.cancelled == Some(false) {
            return Decision::Open;
        }
        if !self.missing_results(i).is_empty() {
            return Decision::Skipped(skip::MISSING_RESULTS);
        }
        let (_, _, whens, matrix) = self.substitute_task(i);
        match when::evaluate(&whens) {
            When::False => return Decision::Skipped(skip::WHEN),
            When::Undecidable(why) => return Decision::Undecided(why),
            When::True => {}
        }
        if self.finally_timed_out {
            return Decision::Skipped(skip::FINALLY_TIMEOUT);
        }
        if matrix.as_ref().is_some_and(matrix::has_empty_array) {
            return Decision::Skipped(skip::EMPTY_MATRIX);
        }
        Decision::Scheduled
    }

    fn check_timeouts(&mut self, actions: &mut Vec<Action>) {
        let elapsed = self.now.saturating_sub(self.start);
        if !self.pipeline_timed_out && self.input.pipeline_timeout.is_some_and(|t| elapsed >= t) {
            self.pipeline_timed_out = true;
            self.cancel_running(|_| true, CANCELLED_BY_TIMEOUT, true, actions);
        }
        if !self.tasks_timed_out && self.input.tasks_timeout.is_some_and(|t| elapsed >= t) {
            self.tasks_timed_out = true;
            let dag = self.graph.dag_count;
            self.cancel_running(|i| i < dag, CANCELLED_BY_TIMEOUT, true, actions);
        }
        if let Some(fs) = self.finally_start
            && !self.finally_timed_out
            && self
                .input
                .finally_timeout
                .is_some_and(|t| self.now.saturating_sub(fs) >= t)
        {
            self.finally_timed_out = true;
            let dag = self.graph.dag_count;
            self.cancel_running(|i| i >= dag, CANCELLED_BY_TIMEOUT, true, actions);
        }
    }

    fn cancel_running(
        &mut self,
        which: impl Fn(usize) -> bool,
        message: &str,
        by_timeout: bool,
        actions: &mut Vec<Action>,
    ) {
        for (id, &(i, c)) in self.attempts.iter().enumerate() {
            if !which(i) {
                continue;
            }
            let ch = &mut self.tasks[i].children[c];
            if ch.running {
                ch.running = false;
                ch.by_timeout = by_timeout;
                ch.ended_at = Some(self.now);
                ch.last = Some(Outcome {
                    ended: Ended::Cancelled,
                    reason: "TaskRunCancelled".into(),
                    message: message.into(),
                    results: BTreeMap::new(),
                    unknown_results: BTreeSet::new(),
                });
                actions.push(Action::Cancel {
                    id,
                    message: message.into(),
                });
            }
        }
    }

    /// Records how an attempt ended. Ignored for attempts that are not running (already cancelled).
    pub fn complete(&mut self, id: AttemptId, outcome: Outcome, now: Duration) {
        self.now = self.now.max(now);
        let Some(&(i, c)) = self.attempts.get(id) else {
            return;
        };
        let on_error_continue = self.on_error_continue(i);
        let ch = &mut self.tasks[i].children[c];
        if !ch.running {
            return;
        }
        ch.running = false;
        ch.ended_at = Some(self.now);
        let mut outcome = outcome;
        if outcome.ended == Ended::Failed && on_error_continue {
            // pkg/pod/status.go: the failure is ignored for the owning PipelineRun
            outcome.reason = "FailureIgnored".into();
        }
        ch.last = Some(outcome);
    }

    /// Cancels the run like `spec.status: Cancelled` (`graceful`: `CancelledRunFinally`, finally
    /// tasks still run). Returns the attempts to stop.
    pub fn cancel(&mut self, graceful: bool) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.cancelled.is_some() {
            return actions;
        }
        self.cancelled = Some(graceful);
        let dag = self.graph.dag_count;
        if graceful {
            self.cancel_running(|i| i < dag, CANCELLED_BY_PIPELINE, false, &mut actions);
        } else {
            self.cancel_running(|_| true, CANCELLED_BY_PIPELINE, false, &mut actions);
        }
        actions
    }

    /// The next time at which a run-level timeout fires, if any is pending.
    pub fn deadline(&self) -> Option<Duration> {
        let mut d: Option<Duration> = None;
        let mut consider = |t: Duration| d = Some(d.map_or(t, |x| x.min(t)));
        if !self.pipeline_timed_out
            && let Some(t) = self.input.pipeline_timeout
        {
            consider(self.start + t);
        }
        if !self.tasks_timed_out
            && let Some(t) = self.input.tasks_timeout
        {
            consider(self.start + t);
        }
        if !self.finally_timed_out
            && let (Some(fs), Some(t)) = (self.finally_start, self.input.finally_timeout)
        {
            consider(fs + t);
        }
        d
    }

    /// True when nothing runs and nothing more will start.
    pub fn is_finished(&self) -> bool {
        if self.failure.is_some() {
            return true;
        }
        let running = self
            .tasks
            .iter()
            .any(|t| t.children.iter().any(|c| c.running));
        if running {
            return false;
        }
        self.cancelled == Some(false)
            || self.pipeline_timed_out
            || (0..self.tasks.len()).all(|i| self.is_done(i))
    }

    /// The run's condition and per-task state, in Tekton's words.
    pub fn report(&self) -> Report {
        let mut idx: Vec<usize> = (0..self.tasks.len()).collect();
        idx.sort_by_key(|&i| (self.tasks[i].order.unwrap_or(usize::MAX), i));
        let tasks: Vec<TaskReport> = idx.iter().map(|&i| self.task_report(i)).collect();
        let undecided = tasks.iter().any(|t| t.outcome == TaskOutcome::Undecided);
        let (status, reason, message) = self.condition();
        let results = if status != "Unknown" {
            self.pipeline_results()
        } else {
            Vec::new()
        };
        Report {
            name: self.input.name.clone(),
            status,
            reason,
            message,
            tasks,
            results,
            undecided,
        }
    }

    fn task_report(&self, i: usize) -> TaskReport {
        let t = &self.tasks[i];
        let outcome = self.outcome(i);
        let (reason, message) = match &t.decision {
            Decision::Skipped(r) => (r.to_string(), String::new()),
            Decision::Undecided(why) => ("Undecided".to_string(), why.clone()),
            Decision::Invalid(m) => ("InvalidTaskResultReference".to_string(), m.clone()),
            Decision::Open => (String::new(), String::new()),
            Decision::Scheduled => {
                let o = t
                    .children
                    .iter()
                    .filter_map(|c| c.last.as_ref())
                    .find(|o| o.ended != Ended::Succeeded)
                    .or_else(|| t.children.first().and_then(|c| c.last.as_ref()));
                match o {
                    Some(o) => (o.reason.clone(), o.message.clone()),
                    None => ("Running".into(), String::new()),
                }
            }
        };
        let mut results = BTreeMap::new();
        if t.decision == Decision::Scheduled {
            let names: BTreeSet<&String> = t
                .children
                .iter()
                .filter_map(|c| c.last.as_ref())
                .flat_map(|o| o.results.keys())
                .collect();
            for r in names {
                if let Some((v, _)) = self.task_result(&self.graph.nodes[i].name, r) {
                    results.insert(r.clone(), v);
                }
            }
        }
        let params = if t.decision == Decision::Scheduled {
            t.params.clone()
        } else {
            self.substitute_task(i).0
        };
        TaskReport {
            name: self.graph.nodes[i].name.clone(),
            finally: self.graph.is_finally(i),
            outcome,
            reason,
            message,
            params,
            results,
            taskruns: t.children.iter().map(|c| c.name.clone()).collect(),
            attempts: t.children.first().map_or(0, |c| c.attempts),
            started_at: t.children.iter().filter_map(|c| c.started_at).min(),
            ended_at: if self.is_done(i) {
                t.children.iter().filter_map(|c| c.ended_at).max()
            } else {
                None
            },
            combinations: t.children.iter().filter_map(|c| c.combo.clone()).collect(),
            decided_at: t.decided_at,
        }
    }

    /// `GetPipelineConditionStatus`: (status, reason, message).
    fn condition(&self) -> (String, String, String) {
        let name = &self.input.name;
        if let Some((reason, message)) = &self.failure {
            return ("False".into(), reason.clone(), message.clone());
        }
        let finished = self.is_finished();
        if self.pipeline_timed_out && finished {
            let t = self.input.pipeline_timeout.unwrap_or(DEFAULT_TIMEOUT);
            return (
                "False".into(),
                "PipelineRunTimeout".into(),
                format!(
                    "PipelineRun \"{name}\" failed to finish within \"{}\"",
                    go_duration(t)
                ),
            );
        }
        if self.tasks_timed_out && finished {
            let t = self.input.tasks_timeout.unwrap_or_default();
            return (
                "False".into(),
                "PipelineRunTimeout".into(),
                format!(
                    "PipelineRun \"{name}\" failed due to tasks failed to finish within \"{}\"",
                    go_duration(t)
                ),
            );
        }
        let (mut succeeded, mut failed, mut cancelled, mut ignored, mut skipped) = (0, 0, 0, 0, 0);
        let (mut skipped_timeout, mut invalid, mut incomplete) = (0, 0, 0);
        let mut invalid_msgs = Vec::new();
        for i in 0..self.tasks.len() {
            let by_timeout = self.tasks[i].children.iter().any(|c| c.by_timeout);
            match (&self.tasks[i].decision, self.outcome(i)) {
                (_, TaskOutcome::Succeeded) => succeeded += 1,
                (_, TaskOutcome::Cancelled) if by_timeout => failed += 1,
                (_, TaskOutcome::Cancelled) => cancelled += 1,
                (_, TaskOutcome::Failed | TaskOutcome::TimedOut)
                    if !matches!(self.tasks[i].decision, Decision::Invalid(_)) =>
                {
                    if self.on_error_continue(i) {
                        ignored += 1
                    } else {
                        failed += 1
                    }
                }
                (Decision::Invalid(m), _) => {
                    invalid += 1;
                    invalid_msgs.push((self.graph.nodes[i].name.clone(), m.clone()));
                }
                (Decision::Skipped(r), _) => {
                    skipped += 1;
                    if [
                        skip::PIPELINE_TIMEOUT,
                        skip::TASKS_TIMEOUT,
                        skip::FINALLY_TIMEOUT,
                    ]
                    .contains(r)
                    {
                        skipped_timeout += 1;
                    }
                }
                _ => incomplete += 1,
            }
        }
        let completed = succeeded + failed + cancelled + ignored;
        let total_failed = failed + ignored;
        if incomplete == 0 || (finished && self.cancelled == Some(false)) {
            if self.cancelled == Some(false) {
                return (
                    "False".into(),
                    "Cancelled".into(),
                    format!("PipelineRun \"{name}\" was cancelled"),
                );
            }
            let mut message = if ignored > 0 {
                format!(
                    "Tasks Completed: {completed} (Failed: {total_failed} (Ignored: {ignored}), Cancelled {cancelled}), Skipped: {skipped}"
                )
            } else {
                format!(
                    "Tasks Completed: {completed} (Failed: {total_failed}, Cancelled {cancelled}), Skipped: {skipped}"
                )
            };
            if invalid > 0 {
                message.push_str(&format!(", Failed Validation: {invalid}"));
                invalid_msgs.sort();
                let mut errs = invalid_msgs
                    .into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join("; ");
                if errs.len() > 1024 {
                    let mut cut = 1024;
                    while !errs.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    errs.truncate(cut);
                    errs.push_str("...");
                }
                message.push_str(&format!(" ({errs})"));
            }
            let (status, reason) = if invalid > 0 {
                ("False", "PipelineValidationFailed")
            } else if failed > 0 || skipped_timeout > 0 {
                ("False", "Failed")
            } else if self.cancelled == Some(true) {
                message = format!("PipelineRun \"{name}\" was cancelled");
                ("False", "Cancelled")
            } else if cancelled > 0 {
                ("False", "Cancelled")
            } else if skipped > 0 {
                ("True", "Completed")
            } else {
                ("True", "Succeeded")
            };
            return (status.into(), reason.into(), message);
        }
        let reason = if self.tasks_timed_out {
            "PipelineRunTimeoutRunningFinally"
        } else if self.cancelled == Some(true) {
            "CancelledRunningFinally"
        } else if cancelled > 0 || (failed > 0 && self.finally_done()) {
            "PipelineRunStopping"
        } else {
            "Running"
        };
        (
            "Unknown".into(),
            reason.into(),
            format!(
                "Tasks Completed: {completed} (Failed: {failed}, Cancelled {cancelled}), Incomplete: {incomplete}, Skipped: {skipped}"
            ),
        )
    }

    fn finally_done(&self) -> bool {
        (self.graph.dag_count..self.tasks.len()).all(|i| self.is_done(i))
    }

    /// `ApplyTaskResultsToPipelineResults`: results whose references cannot be resolved are left out
    /// (an error only when the producing task succeeded; not modelled as a run failure here).
    fn pipeline_results(&self) -> Vec<(String, ParamValue)> {
        let mut out = Vec::new();
        for r in &self.input.spec.results {
            let mut missing = false;
            let mut look = |v: &Var| {
                let got = match v {
                    Var::TaskResult { task, result, sel }
                    | Var::FinallyResult { task, result, sel } => {
                        self.task_result(task, result).and_then(|(v, u)| {
                            select(&v, sel).map(|value| Resolved { value, unknown: u })
                        })
                    }
                    _ => None,
                };
                if got.is_none() {
                    missing = true;
                }
                got
            };
            let v = substitute_value(&r.value, &mut look).value;
            if !missing {
                out.push((r.name.clone(), v));
            }
        }
        out
    }
}

fn param_lookup(params: &BTreeMap<String, ParamValue>, var: &Var) -> Option<Resolved> {
    let Var::Params { name, sel } = var else {
        return None;
    };
    let v = params.get(name)?;
    // `$(params.a)` on an array stays as written except where the whole value is taken
    let v = match (sel, v) {
        (Selector::None, ParamValue::Array(_) | ParamValue::Object(_)) => v.clone(),
        _ => select(v, sel)?,
    };
    Some(Resolved::known(v))
}
