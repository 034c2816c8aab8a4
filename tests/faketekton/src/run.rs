//! The driver of one PipelineRun: Tekton's PipelineRun and TaskRun reconcilers plus the kubelet's
//! pod status updates, on a virtual millisecond timeline.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Map, Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::controller::Ctx;
use crate::duration::{format_go_duration, parse_go_duration};
use crate::pipeline::{self, PipelineSpec, PipelineTask};
use crate::scenario::{PodProblem, TaskScript};

const TEKTON_API_VERSION: &str = "tekton.dev/v1";
const WHEN_SKIP: &str = "When Expressions evaluated to false";
const PARENT_SKIP: &str = "Parent Tasks were skipped";
const STOPPING_SKIP: &str = "PipelineRun was stopping";
const GRACEFULLY_CANCELLED_SKIP: &str = "PipelineRun was gracefully cancelled";
const GRACEFULLY_STOPPED_SKIP: &str = "PipelineRun was gracefully stopped";
const MISSING_RESULTS_SKIP: &str = "Results were missing";
const TASKS_TIMEOUT_SKIP: &str = "PipelineRun Tasks timeout has been reached";
const CANCELLED_BY_PIPELINE: &str =
    "TaskRun cancelled as the PipelineRun it belongs to has been cancelled.";
const CANCELLED_BY_PIPELINE_TIMEOUT: &str =
    "TaskRun cancelled as the PipelineRun it belongs to has timed out.";
const DEFAULT_PIPELINE_TIMEOUT: Duration = Duration::from_secs(3600);
/// Interval between the lines of a step that hangs.
const HANG_LINE_MS: u64 = 10;

/// The `Succeeded` condition of an object's `status`, if any.
pub(crate) fn succeeded_condition(data: &Value) -> Option<&Value> {
    data.get("status")?
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Succeeded"))
}

fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(crate::FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    }
}

fn post_params() -> PostParams {
    PostParams {
        field_manager: Some(crate::FIELD_MANAGER.to_string()),
        ..PostParams::default()
    }
}

/// A knative condition of type `Succeeded`.
#[derive(Clone, Debug, PartialEq)]
struct Condition {
    status: &'static str,
    reason: String,
    message: String,
    time: String,
}

impl Condition {
    fn new(status: &'static str, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Condition {
            status,
            reason: reason.into(),
            message: message.into(),
            time: crate::now(),
        }
    }
    fn same(&self, other: &Condition) -> bool {
        self.status == other.status && self.reason == other.reason && self.message == other.message
    }
    fn json(&self) -> Value {
        json!({
            "type": "Succeeded",
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "lastTransitionTime": self.time,
        })
    }
}

/// knative `SetCondition`: the transition time only moves when something else changes.
fn set_condition(slot: &mut Option<Condition>, new: Condition) {
    if slot.as_ref().is_some_and(|old| old.same(&new)) {
        return;
    }
    *slot = Some(new);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Succeeded,
    Failed,
    Cancelled,
    /// Cancelled because the pipeline (or its tasks) timed out: counts as a failure.
    CancelledByTimeout,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum TState {
    Pending,
    Skipped(&'static str),
    Running,
    Done(Outcome),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Normal,
    GracefulCancel,
    GracefulStop,
}

#[derive(Clone, Debug)]
struct StepPlan {
    name: String,
    image: String,
    lines: Vec<String>,
    exit_code: i32,
    duration_ms: u64,
    hang: bool,
}

#[derive(Clone, Debug)]
enum CState {
    Waiting {
        reason: String,
        message: Option<String>,
    },
    Running {
        started: String,
    },
    Terminated {
        exit: i32,
        reason: String,
        message: Option<String>,
        started: String,
        finished: String,
        termination_reason: String,
    },
}

impl CState {
    fn waiting(reason: &str) -> Self {
        CState::Waiting {
            reason: reason.to_string(),
            message: None,
        }
    }
    fn started_at(&self) -> Option<&str> {
        match self {
            CState::Running { started } | CState::Terminated { started, .. } => Some(started),
            CState::Waiting { .. } => None,
        }
    }
    fn state_json(&self) -> Value {
        match self {
            CState::Waiting { reason, message } => {
                let mut w = json!({"reason": reason});
                if let Some(m) = message {
                    w["message"] = json!(m);
                }
                json!({"waiting": w})
            }
            CState::Running { started } => json!({"running": {"startedAt": started}}),
            CState::Terminated {
                exit,
                reason,
                message,
                started,
                finished,
                ..
            } => {
                let mut t = json!({"exitCode": exit, "reason": reason, "startedAt": started, "finishedAt": finished});
                if let Some(m) = message {
                    t["message"] = json!(m);
                }
                json!({"terminated": t})
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Attempt {
    index: u32,
    pod: String,
    problem: Option<PodProblem>,
    forced_fail: bool,
    active: bool,
    phase: &'static str,
    scheduled: bool,
    initialized: bool,
    ready: bool,
    pod_start: Option<String>,
    init: CState,
    containers: Vec<CState>,
}

struct TaskRt {
    pt: PipelineTask,
    state: TState,
    tr_name: String,
    tr_uid: String,
    labels: Map<String, Value>,
    script: TaskScript,
    plans: Vec<StepPlan>,
    attempt: Option<Attempt>,
    attempts_started: u32,
    condition: Option<Condition>,
    pod_name: String,
    start_time: Option<String>,
    completion_time: Option<String>,
    retries_status: Vec<Value>,
    results: Vec<(String, String)>,
    last_status: Option<Value>,
    last_pod_status: Option<Value>,
}

impl TaskRt {
    fn is_done(&self) -> bool {
        matches!(self.state, TState::Skipped(_) | TState::Done(_))
    }
    fn failed(&self) -> bool {
        matches!(self.state, TState::Done(o) if o != Outcome::Succeeded)
    }
    fn result(&self, name: &str) -> Option<&str> {
        if self.state != TState::Done(Outcome::Succeeded) {
            return None;
        }
        self.results
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    /// `$(tasks.<t>.status)` in finally tasks.
    fn status_word(&self) -> &'static str {
        match self.state {
            TState::Done(Outcome::Succeeded) => "Succeeded",
            TState::Done(_) => "Failed",
            _ => "None",
        }
    }
    fn active_attempt(&self, index: u32) -> bool {
        self.attempt
            .as_ref()
            .is_some_and(|a| a.active && a.index == index)
    }
}

#[derive(Debug)]
enum Ev {
    CreatePod(usize, u32),
    PodInit(usize, u32),
    PodStart(usize, u32),
    PullFailed(usize, u32),
    Line(usize, u32, usize, usize),
    StepDone(usize, u32, usize),
    TaskRunTimeout(usize, u32),
    PipelineTimeout,
    TasksTimeout,
}

struct Run {
    ctx: Arc<Ctx>,
    name: String,
    uid: String,
    generation: Option<i64>,
    pr_labels: Map<String, Value>,
    params: BTreeMap<String, String>,
    service_account: String,
    pipeline_name: String,
    spec_raw: Value,
    tasks: Vec<TaskRt>,
    child_refs: Vec<Value>,
    start_time: String,
    finally_start_time: Option<String>,
    completion_time: Option<String>,
    pipeline_timeout: Option<Duration>,
    tasks_timeout: Option<Duration>,
    tasks_timed_out: bool,
    mode: Mode,
    condition: Option<Condition>,
    results: Vec<Value>,
    done: bool,
    last_status: Option<Value>,
    origin: Instant,
    now_ms: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Ev>,
}

/// Drives one PipelineRun until it is finished (or deleted, or the controller stops).
pub(crate) async fn drive(ctx: Arc<Ctx>, mut rx: watch::Receiver<DynamicObject>) {
    let obj = rx.borrow_and_update().clone();
    let name = obj.metadata.name.clone().unwrap_or_default();
    // PipelineRunPending: wait until the field changes.
    if spec_status(&obj) == Some("PipelineRunPending") {
        let status = json!({"conditions": [Condition::new("Unknown", "PipelineRunPending", format!("PipelineRun {name:?} is pending")).json()]});
        if let Err(e) = ctx
            .prs
            .patch_status(
                &name,
                &patch_params(),
                &Patch::Merge(json!({"status": status})),
            )
            .await
        {
            ctx.error(format!("PipelineRun {name}: writing pending status: {e}"));
        }
        loop {
            if rx.changed().await.is_err() {
                return;
            }
            if spec_status(&rx.borrow_and_update()) != Some("PipelineRunPending") {
                break;
            }
        }
    }
    let obj = rx.borrow_and_update().clone();
    let Some(mut run) = Run::init(ctx.clone(), &obj).await else {
        return;
    };
    run.on_spec_change(&obj).await;
    run.reconcile().await;
    while !run.done {
        let next = run.queue.first_key_value().map(|(k, _)| k.0);
        let deadline = next.map(|ms| run.origin + Duration::from_millis(ms));
        tokio::select! {
            biased;
            changed = rx.changed() => {
                if changed.is_err() {
                    return;
                }
                let obj = rx.borrow_and_update().clone();
                run.on_spec_change(&obj).await;
            }
            _ = sleep_until(deadline), if deadline.is_some() => {
                if let Some(((at, _), ev)) = run.queue.pop_first() {
                    run.now_ms = run.now_ms.max(at);
                    run.handle(ev).await;
                }
            }
        }
        run.reconcile().await;
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => futures::future::pending().await,
    }
}

fn spec_status(obj: &DynamicObject) -> Option<&str> {
    obj.data.get("spec")?.get("status")?.as_str()
}

fn str_map(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

impl Run {
    /// First reconcile: resolve the pipeline, label the run. `None` when the run ended already
    /// (e.g. the Pipeline is missing) or can't be handled.
    async fn init(ctx: Arc<Ctx>, obj: &DynamicObject) -> Option<Run> {
        let name = obj.metadata.name.clone()?;
        let uid = obj.metadata.uid.clone()?;
        let spec = obj.data.get("spec").cloned().unwrap_or(Value::Null);
        let start_time = crate::now();
        let fail = |reason: &str, message: String| {
            let ctx = ctx.clone();
            let name = name.clone();
            let start_time = start_time.clone();
            let reason = reason.to_string();
            async move {
                let status = json!({
                    "startTime": start_time,
                    "completionTime": crate::now(),
                    "conditions": [Condition::new("False", reason, message).json()],
                });
                if let Err(e) = ctx
                    .prs
                    .patch_status(
                        &name,
                        &patch_params(),
                        &Patch::Merge(json!({"status": status})),
                    )
                    .await
                {
                    ctx.error(format!("PipelineRun {name}: writing status: {e}"));
                }
            }
        };
        // Resolve the pipeline.
        let (spec_raw, pipeline_name) = if let Some(ps) = spec.get("pipelineSpec") {
            let label = obj
                .metadata
                .generate_name
                .as_deref()
                .map(|g| {
                    g.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                        .to_string()
                })
                .filter(|g| !g.is_empty())
                .unwrap_or_else(|| name.clone());
            (ps.clone(), label)
        } else if let Some(pname) = spec
            .get("pipelineRef")
            .and_then(|r| r.get("name"))
            .and_then(Value::as_str)
        {
            match ctx.pipelines.get(pname).await {
                Ok(p) => (
                    p.data.get("spec").cloned().unwrap_or(json!({})),
                    pname.to_string(),
                ),
                Err(e) => {
                    let msg = match &e {
                        kube::Error::Api(s) => s.message.clone(),
                        other => other.to_string(),
                    };
                    fail(
                        "CouldntGetPipeline",
                        format!(
                            "Error retrieving pipeline for pipelinerun {}/{}: {msg}",
                            ctx.ns, name
                        ),
                    )
                    .await;
                    return None;
                }
            }
        } else {
            fail(
                "PipelineValidationFailed",
                format!("pipelineRun {name} not providing PipelineRef or PipelineSpec"),
            )
            .await;
            return None;
        };
        let parsed = match PipelineSpec::parse(&spec_raw) {
            Ok(p) => p,
            Err(e) => {
                fail(
                    "PipelineInvalidGraph",
                    format!(
                        "PipelineRun {}/{}'s Pipeline DAG is invalid: {e}",
                        ctx.ns, name
                    ),
                )
                .await;
                return None;
            }
        };
        // Params: the run's values over the pipeline's defaults (strings only).
        let mut params = BTreeMap::new();
        for (pname, default) in &parsed.params {
            if let Some(Value::String(d)) = default {
                params.insert(pname.clone(), d.clone());
            }
        }
        if let Some(ps) = spec.get("params").and_then(Value::as_array) {
            for p in ps {
                if let (Some(n), Some(Value::String(v))) =
                    (p.get("name").and_then(Value::as_str), p.get("value"))
                {
                    params.insert(n.to_string(), v.clone());
                }
            }
        }
        let service_account = spec
            .get("taskRunTemplate")
            .and_then(|t| t.get("serviceAccountName"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
            .to_string();
        let timeouts = spec.get("timeouts");
        let parse_timeout = |key: &str| -> Option<Option<Duration>> {
            let raw = timeouts?.get(key)?.as_str()?;
            Some(parse_go_duration(raw).filter(|d| !d.is_zero()))
        };
        let pipeline_timeout = parse_timeout("pipeline").unwrap_or(Some(DEFAULT_PIPELINE_TIMEOUT));
        let tasks_timeout = parse_timeout("tasks").flatten();
        // The controller labels the run with its pipeline.
        let mut pr_labels = obj.metadata.labels.clone().unwrap_or_default();
        if !pr_labels.contains_key("tekton.dev/pipeline") {
            pr_labels.insert("tekton.dev/pipeline".into(), pipeline_name.clone());
            let patch = json!({"metadata": {"labels": {"tekton.dev/pipeline": pipeline_name}}});
            if let Err(e) = ctx
                .prs
                .patch(&name, &patch_params(), &Patch::Merge(&patch))
                .await
            {
                ctx.error(format!("PipelineRun {name}: labelling: {e}"));
            }
        }
        let pr_labels: Map<String, Value> = pr_labels
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let tasks = parsed
            .tasks
            .iter()
            .map(|pt| TaskRt {
                tr_name: pipeline::child_name(&name, &format!("-{}", pt.name)),
                pt: pt.clone(),
                state: TState::Pending,
                tr_uid: String::new(),
                labels: Map::new(),
                script: TaskScript::default(),
                plans: Vec::new(),
                attempt: None,
                attempts_started: 0,
                condition: None,
                pod_name: String::new(),
                start_time: None,
                completion_time: None,
                retries_status: Vec::new(),
                results: Vec::new(),
                last_status: None,
                last_pod_status: None,
            })
            .collect();
        let mut run = Run {
            ctx,
            name,
            uid,
            generation: obj.metadata.generation,
            pr_labels,
            params,
            service_account,
            pipeline_name,
            spec_raw,
            tasks,
            child_refs: Vec::new(),
            start_time,
            finally_start_time: None,
            completion_time: None,
            pipeline_timeout,
            tasks_timeout,
            tasks_timed_out: false,
            mode: Mode::Normal,
            condition: None,
            results: Vec::new(),
            done: false,
            last_status: None,
            origin: Instant::now(),
            now_ms: 0,
            seq: 0,
            queue: BTreeMap::new(),
        };
        if let Some(t) = run.pipeline_timeout {
            run.schedule(duration_ms(t), Ev::PipelineTimeout);
        }
        if let Some(t) = run.tasks_timeout {
            run.schedule(duration_ms(t), Ev::TasksTimeout);
        }
        Some(run)
    }

    fn schedule(&mut self, after_ms: u64, ev: Ev) {
        self.seq += 1;
        self.queue.insert((self.now_ms + after_ms, self.seq), ev);
    }

    /// Moves the virtual clock up to real time (for inputs from outside: a cancel).
    fn catch_up(&mut self) {
        let real = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.now_ms = self.now_ms.max(real);
    }

    async fn on_spec_change(&mut self, obj: &DynamicObject) {
        if self.done {
            return;
        }
        match spec_status(obj) {
            Some("Cancelled") => {
                self.catch_up();
                self.cancel_all(Outcome::Cancelled, CANCELLED_BY_PIPELINE)
                    .await;
                self.finish(Condition::new(
                    "False",
                    "Cancelled",
                    format!("PipelineRun {:?} was cancelled", self.name),
                ));
                self.write_status().await;
            }
            Some("CancelledRunFinally") if self.mode == Mode::Normal => {
                self.catch_up();
                self.mode = Mode::GracefulCancel;
                for i in 0..self.tasks.len() {
                    if !self.tasks[i].pt.finally && self.tasks[i].state == TState::Running {
                        self.cancel_task(i, Outcome::Cancelled, CANCELLED_BY_PIPELINE)
                            .await;
                    }
                }
            }
            Some("StoppedRunFinally") if self.mode == Mode::Normal => {
                self.catch_up();
                self.mode = Mode::GracefulStop;
            }
            _ => {}
        }
    }

    fn finish(&mut self, condition: Condition) {
        set_condition(&mut self.condition, condition);
        self.completion_time = Some(crate::now());
        self.done = true;
    }

    // ----------------------------------------------------------------------------------------
    // Substitution

    fn lookup(&self, expr: &str) -> Option<String> {
        if let Some(p) = pipeline::param_name(expr) {
            return self.params.get(p).cloned();
        }
        match expr {
            "context.pipelineRun.name" => return Some(self.name.clone()),
            "context.pipelineRun.namespace" => return Some(self.ctx.ns.clone()),
            "context.pipelineRun.uid" => return Some(self.uid.clone()),
            "context.pipeline.name" => return Some(self.pipeline_name.clone()),
            "tasks.status" => return Some(self.aggregate_status().to_string()),
            _ => {}
        }
        if let Some((task, result)) = pipeline::result_ref(expr, "tasks") {
            let t = self
                .tasks
                .iter()
                .find(|t| t.pt.name == task && !t.pt.finally)?;
            return t.result(result).map(String::from);
        }
        if let Some((task, result)) = pipeline::result_ref(expr, "finally") {
            let t = self
                .tasks
                .iter()
                .find(|t| t.pt.name == task && t.pt.finally)?;
            return t.result(result).map(String::from);
        }
        let rest = expr.strip_prefix("tasks.")?;
        let (task, field) = rest.split_once('.')?;
        let t = self
            .tasks
            .iter()
            .find(|t| t.pt.name == task && !t.pt.finally)?;
        match field {
            "status" => Some(t.status_word().to_string()),
            "reason" => Some(
                t.condition
                    .as_ref()
                    .map(|c| c.reason.clone())
                    .unwrap_or_default(),
            ),
            _ => None,
        }
    }

    /// `$(tasks.status)`.
    fn aggregate_status(&self) -> &'static str {
        let dag: Vec<&TaskRt> = self.tasks.iter().filter(|t| !t.pt.finally).collect();
        if !dag.iter().all(|t| t.is_done()) {
            return "None";
        }
        if dag.iter().any(|t| t.failed()) {
            return "Failed";
        }
        if dag.iter().any(|t| matches!(t.state, TState::Skipped(_))) {
            return "Completed";
        }
        "Succeeded"
    }

    fn when_allows(&self, i: usize) -> bool {
        pipeline::when_allows(&self.tasks[i].pt.when, &|e| self.lookup(e))
    }

    // ----------------------------------------------------------------------------------------
    // PipelineRun reconciler

    fn task_by_name(&self, name: &str) -> Option<&TaskRt> {
        self.tasks.iter().find(|t| t.pt.name == name)
    }

    fn stopping(&self) -> bool {
        self.tasks
            .iter()
            .any(|t| !t.pt.finally && t.failed() && !t.pt.on_error_continue)
    }

    fn skip_reason(&self, i: usize) -> Option<&'static str> {
        let t = &self.tasks[i];
        if self.stopping() {
            return Some(STOPPING_SKIP);
        }
        match self.mode {
            Mode::GracefulCancel => return Some(GRACEFULLY_CANCELLED_SKIP),
            Mode::GracefulStop => return Some(GRACEFULLY_STOPPED_SKIP),
            Mode::Normal => {}
        }
        let deps: Vec<&TaskRt> =
            t.pt.deps
                .iter()
                .filter_map(|d| self.task_by_name(d))
                .collect();
        let parents_done = deps.iter().all(|d| d.is_done());
        if parents_done && !self.when_allows(i) {
            return Some(WHEN_SKIP);
        }
        if deps
            .iter()
            .any(|d| matches!(d.state, TState::Skipped(r) if r != WHEN_SKIP))
        {
            return Some(PARENT_SKIP);
        }
        if parents_done
            && t.pt
                .result_producers
                .iter()
                .filter_map(|p| self.task_by_name(p))
                .any(|p| p.state == TState::Skipped(WHEN_SKIP))
        {
            return Some(MISSING_RESULTS_SKIP);
        }
        if parents_done && self.tasks_timed_out {
            return Some(TASKS_TIMEOUT_SKIP);
        }
        None
    }

    fn finally_skip_reason(&self, i: usize) -> Option<&'static str> {
        let t = &self.tasks[i];
        let missing =
            t.pt.result_producers
                .iter()
                .filter_map(|p| self.task_by_name(p))
                .any(|p| p.state != TState::Done(Outcome::Succeeded));
        if missing {
            return Some(MISSING_RESULTS_SKIP);
        }
        if !self.when_allows(i) {
            return Some(WHEN_SKIP);
        }
        None
    }

    /// A result reference that can't be resolved although its producer succeeded.
    fn invalid_result_ref(&self, i: usize) -> Option<String> {
        let mut refs = BTreeSet::new();
        collect_refs(&self.tasks[i].pt.raw, &mut refs);
        for (task, result) in refs {
            if let Some(p) = self.task_by_name(&task)
                && p.state == TState::Done(Outcome::Succeeded)
                && p.result(&result).is_none()
            {
                return Some(format!(
                    "Invalid task result reference: Could not find result with name {result} for pipeline task {task}"
                ));
            }
        }
        None
    }

    async fn reconcile(&mut self) {
        if !self.done {
            self.schedule_tasks().await;
        }
        if !self.done {
            self.update_condition();
        }
        self.write_status().await;
    }

    async fn schedule_tasks(&mut self) {
        loop {
            let mut changed = false;
            for i in 0..self.tasks.len() {
                if self.tasks[i].pt.finally || self.tasks[i].state != TState::Pending {
                    continue;
                }
                if let Some(reason) = self.skip_reason(i) {
                    self.tasks[i].state = TState::Skipped(reason);
                    changed = true;
                    continue;
                }
                let parents_done = self.tasks[i]
                    .pt
                    .deps
                    .iter()
                    .all(|d| self.task_by_name(d).is_some_and(|t| t.is_done()));
                if parents_done {
                    if let Some(msg) = self.invalid_result_ref(i) {
                        self.finish(Condition::new("False", "InvalidTaskResultReference", msg));
                        return;
                    }
                    self.start_task(i).await;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let dag_done = self
            .tasks
            .iter()
            .filter(|t| !t.pt.finally)
            .all(|t| t.is_done());
        if dag_done && self.finally_start_time.is_none() && self.tasks.iter().any(|t| t.pt.finally)
        {
            self.finally_start_time = Some(crate::now());
            for i in 0..self.tasks.len() {
                if !self.tasks[i].pt.finally || self.tasks[i].state != TState::Pending {
                    continue;
                }
                if let Some(reason) = self.finally_skip_reason(i) {
                    self.tasks[i].state = TState::Skipped(reason);
                } else {
                    self.start_task(i).await;
                }
            }
        }
    }

    fn update_condition(&mut self) {
        #[derive(Default)]
        struct Counts {
            succeeded: usize,
            failed: usize,
            ignored: usize,
            cancelled: usize,
            skipped: usize,
            skipped_timeout: usize,
            incomplete: usize,
        }
        let mut s = Counts::default();
        for t in &self.tasks {
            match t.state {
                TState::Done(Outcome::Succeeded) => s.succeeded += 1,
                TState::Done(Outcome::CancelledByTimeout) => s.failed += 1,
                TState::Done(Outcome::Cancelled) => s.cancelled += 1,
                TState::Done(Outcome::Failed) if t.pt.on_error_continue => s.ignored += 1,
                TState::Done(Outcome::Failed) => s.failed += 1,
                TState::Skipped(r) => {
                    s.skipped += 1;
                    if r == TASKS_TIMEOUT_SKIP {
                        s.skipped_timeout += 1;
                    }
                }
                TState::Pending | TState::Running => s.incomplete += 1,
            }
        }
        let completed = s.succeeded + s.failed + s.cancelled + s.ignored;
        let has_finally = self.tasks.iter().any(|t| t.pt.finally);
        let finally_done = self
            .tasks
            .iter()
            .filter(|t| t.pt.finally)
            .all(|t| t.is_done());
        if self.tasks_timed_out && (!has_finally || finally_done) {
            let limit = self
                .tasks_timeout
                .map(format_go_duration)
                .unwrap_or_default();
            self.finish(Condition::new(
                "False",
                "PipelineRunTimeout",
                format!(
                    "PipelineRun {:?} failed due to tasks failed to finish within {limit:?}",
                    self.name
                ),
            ));
            return;
        }
        if s.incomplete == 0 {
            let mut message = if s.ignored > 0 {
                format!(
                    "Tasks Completed: {completed} (Failed: {} (Ignored: {}), Cancelled {}), Skipped: {}",
                    s.failed + s.ignored,
                    s.ignored,
                    s.cancelled,
                    s.skipped
                )
            } else {
                format!(
                    "Tasks Completed: {completed} (Failed: {}, Cancelled {}), Skipped: {}",
                    s.failed, s.cancelled, s.skipped
                )
            };
            let (status, reason) = if s.failed > 0 || s.skipped_timeout > 0 {
                ("False", "Failed")
            } else if self.mode != Mode::Normal {
                message = format!("PipelineRun {:?} was cancelled", self.name);
                ("False", "Cancelled")
            } else if s.cancelled > 0 {
                ("False", "Cancelled")
            } else if s.skipped > 0 {
                ("True", "Completed")
            } else {
                ("True", "Succeeded")
            };
            self.results = self.pipeline_results();
            self.finish(Condition::new(status, reason, message));
            return;
        }
        let reason = if self.tasks_timed_out && has_finally && !finally_done {
            "PipelineRunTimeoutRunningFinally"
        } else if self.mode == Mode::GracefulCancel {
            "CancelledRunningFinally"
        } else if self.mode == Mode::GracefulStop {
            "StoppedRunningFinally"
        } else if s.cancelled > 0 || (s.failed > 0 && finally_done) {
            "PipelineRunStopping"
        } else {
            "Running"
        };
        let message = format!(
            "Tasks Completed: {completed} (Failed: {}, Cancelled {}), Incomplete: {}, Skipped: {}",
            s.failed, s.cancelled, s.incomplete, s.skipped
        );
        set_condition(
            &mut self.condition,
            Condition::new("Unknown", reason, message),
        );
    }

    fn pipeline_results(&self) -> Vec<Value> {
        let spec = match PipelineSpec::parse(&self.spec_raw) {
            Ok(s) => s,
            Err(_) => return Vec::new(),
        };
        let mut out = Vec::new();
        for (name, value) in spec.results {
            // A result whose task/finally references can't be resolved is left out, as in Tekton.
            let unresolved = std::cell::Cell::new(false);
            let resolved = pipeline::substitute_value(&value, &|e| {
                let v = self.lookup(e);
                if v.is_none() && (e.starts_with("tasks.") || e.starts_with("finally.")) {
                    unresolved.set(true);
                }
                v
            });
            if !unresolved.get() {
                out.push(json!({"name": name, "value": resolved}));
            }
        }
        out
    }

    fn status_json(&self) -> Value {
        let mut status = json!({
            "startTime": self.start_time,
            "pipelineSpec": self.spec_raw,
        });
        if let Some(c) = &self.condition {
            status["conditions"] = json!([c.json()]);
        }
        if let Some(g) = self.generation {
            status["observedGeneration"] = json!(g);
        }
        if !self.child_refs.is_empty() {
            status["childReferences"] = Value::Array(self.child_refs.clone());
        }
        let skipped: Vec<Value> = self
            .tasks
            .iter()
            .filter_map(|t| match t.state {
                TState::Skipped(reason) => {
                    let mut entry = json!({"name": t.pt.name, "reason": reason});
                    let with_when = !t.pt.finally || reason == WHEN_SKIP;
                    if with_when && let Some(w) = &t.pt.when_raw {
                        entry["whenExpressions"] = w.clone();
                    }
                    Some(entry)
                }
                _ => None,
            })
            .collect();
        if !skipped.is_empty() {
            status["skippedTasks"] = Value::Array(skipped);
        }
        if let Some(f) = &self.finally_start_time {
            status["finallyStartTime"] = json!(f);
        }
        if let Some(c) = &self.completion_time {
            status["completionTime"] = json!(c);
        }
        if !self.results.is_empty() {
            status["results"] = Value::Array(self.results.clone());
        }
        status
    }

    async fn write_status(&mut self) {
        let status = self.status_json();
        if self.last_status.as_ref() == Some(&status) {
            return;
        }
        match self
            .ctx
            .prs
            .patch_status(
                &self.name,
                &patch_params(),
                &Patch::Merge(json!({"status": status})),
            )
            .await
        {
            Ok(_) => self.last_status = Some(status),
            Err(e) => self
                .ctx
                .error(format!("PipelineRun {}: writing status: {e}", self.name)),
        }
    }

    // ----------------------------------------------------------------------------------------
    // Starting a task: the TaskRun

    async fn start_task(&mut self, i: usize) {
        self.tasks[i].state = TState::Running;
        let script = self
            .ctx
            .scenario
            .tasks
            .get(&self.tasks[i].pt.name)
            .cloned()
            .unwrap_or_default();
        let spec_steps = self.spec_steps(i).await;
        let default_ms = self.ctx.scenario.step_ms;
        let image_of = |name: &str| {
            spec_steps
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, img)| img.clone())
                .unwrap_or_else(|| "busybox".into())
        };
        let plans: Vec<StepPlan> = if script.steps.is_empty() {
            let names: Vec<String> = if spec_steps.is_empty() {
                vec!["unnamed-0".to_string()]
            } else {
                spec_steps.iter().map(|(n, _)| n.clone()).collect()
            };
            names
                .into_iter()
                .map(|n| StepPlan {
                    image: image_of(&n),
                    name: n,
                    lines: Vec::new(),
                    exit_code: 0,
                    duration_ms: default_ms,
                    hang: false,
                })
                .collect()
        } else {
            script
                .steps
                .iter()
                .map(|s| StepPlan {
                    name: s.name.clone(),
                    image: image_of(&s.name),
                    lines: s.lines.clone(),
                    exit_code: s.exit_code,
                    duration_ms: s.duration_ms.unwrap_or(default_ms),
                    hang: s.hang,
                })
                .collect()
        };
        {
            let t = &mut self.tasks[i];
            t.script = script;
            t.plans = plans;
        }
        let body = self.taskrun_body(i);
        let tr_name = self.tasks[i].tr_name.clone();
        match self.ctx.trs.create(&post_params(), &body).await {
            Ok(created) => self.tasks[i].tr_uid = created.metadata.uid.unwrap_or_default(),
            Err(kube::Error::Api(s)) if s.is_already_exists() => {
                if let Ok(existing) = self.ctx.trs.get(&tr_name).await {
                    self.tasks[i].tr_uid = existing.metadata.uid.unwrap_or_default();
                }
            }
            Err(e) => self.ctx.error(format!("creating TaskRun {tr_name}: {e}")),
        }
        let mut child = json!({
            "apiVersion": TEKTON_API_VERSION,
            "kind": "TaskRun",
            "name": tr_name,
            "pipelineTaskName": self.tasks[i].pt.name,
        });
        if let Some(d) = &self.tasks[i].pt.display_name {
            child["displayName"] = json!(pipeline::substitute(d, &|e| self.lookup(e)));
        }
        if let Some(w) = &self.tasks[i].pt.when_raw {
            child["whenExpressions"] = w.clone();
        }
        self.child_refs.push(child);
        self.start_attempt(i);
    }

    async fn spec_steps(&self, i: usize) -> Vec<(String, Option<String>)> {
        let pt = &self.tasks[i].pt;
        if let Some(ts) = pt.task_spec() {
            return pipeline::spec_steps(ts);
        }
        if let Some(name) = pt.task_ref_name() {
            match self.ctx.tasks.get_opt(name).await {
                Ok(Some(task)) => {
                    if let Some(spec) = task.data.get("spec") {
                        return pipeline::spec_steps(spec);
                    }
                }
                Ok(None) => {}
                Err(e) => self.ctx.error(format!("reading Task {name}: {e}")),
            }
        }
        Vec::new()
    }

    fn taskrun_body(&mut self, i: usize) -> DynamicObject {
        let t = &self.tasks[i];
        let pt = &t.pt;
        let mut labels = self.pr_labels.clone();
        let mut put = |k: &str, v: &str| {
            labels.insert(k.to_string(), json!(v));
        };
        put("tekton.dev/pipelineRun", &self.name);
        put("tekton.dev/pipelineRunUID", &self.uid);
        put("tekton.dev/pipelineTask", &pt.name);
        put(
            "tekton.dev/memberOf",
            if pt.finally { "finally" } else { "tasks" },
        );
        put("tekton.dev/pipeline", &self.pipeline_name);
        if let Some(task) = pt.task_ref_name() {
            put("tekton.dev/task", task);
        }
        if let Some(meta_labels) = pt
            .task_spec()
            .and_then(|s| s.get("metadata"))
            .and_then(|m| m.get("labels"))
        {
            for (k, v) in str_map(Some(meta_labels)) {
                labels.insert(k, v);
            }
        }
        labels
            .entry("app.kubernetes.io/managed-by")
            .or_insert_with(|| json!("tekton-pipelines"));
        let mut spec = Map::new();
        if let Some(ts) = pt.task_spec() {
            let mut ts = ts.clone();
            if let Some(m) = ts.as_object_mut() {
                for k in ["metadata", "apiVersion", "kind", "spec"] {
                    m.remove(k);
                }
            }
            spec.insert("taskSpec".into(), ts);
        } else if let Some(tr) = pt.raw.get("taskRef") {
            spec.insert("taskRef".into(), tr.clone());
        }
        if let Some(params) = pt.raw.get("params") {
            spec.insert(
                "params".into(),
                pipeline::substitute_value(params, &|e| self.lookup(e)),
            );
        }
        spec.insert("serviceAccountName".into(), json!(self.service_account));
        let timeout = pt
            .timeout
            .or(self.tasks_timeout)
            .or(self.pipeline_timeout)
            .map(format_go_duration)
            .unwrap_or_else(|| "0s".to_string());
        spec.insert("timeout".into(), json!(timeout));
        if pt.retries > 0 {
            spec.insert("retries".into(), json!(pt.retries));
        }
        let body = json!({
            "apiVersion": TEKTON_API_VERSION,
            "kind": "TaskRun",
            "metadata": {
                "name": t.tr_name,
                "namespace": self.ctx.ns,
                "labels": labels,
                "ownerReferences": [{
                    "apiVersion": TEKTON_API_VERSION,
                    "kind": "PipelineRun",
                    "name": self.name,
                    "uid": self.uid,
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "spec": spec,
        });
        self.tasks[i].labels = labels;
        serde_json::from_value(body).unwrap_or_else(|_| DynamicObject {
            types: None,
            metadata: Default::default(),
            data: Value::Null,
        })
    }

    // ----------------------------------------------------------------------------------------
    // TaskRun reconciler + kubelet

    fn start_attempt(&mut self, i: usize) {
        let t = &mut self.tasks[i];
        let index = t.attempts_started;
        t.attempts_started += 1;
        let suffix = if index == 0 {
            "-pod".to_string()
        } else {
            format!("-pod-retry{index}")
        };
        let failing = index < t.script.fail_times;
        let problem = match t.script.pod_problem {
            Some(p) if t.script.fail_times == 0 || failing => Some(p),
            _ => None,
        };
        t.attempt = Some(Attempt {
            index,
            pod: pipeline::child_name(&t.tr_name, &suffix),
            problem,
            forced_fail: failing && problem.is_none(),
            active: true,
            phase: "Pending",
            scheduled: problem != Some(PodProblem::Unschedulable),
            initialized: false,
            ready: false,
            pod_start: None,
            init: CState::waiting("PodInitializing"),
            containers: t
                .plans
                .iter()
                .map(|_| CState::waiting("PodInitializing"))
                .collect(),
        });
        self.schedule(0, Ev::CreatePod(i, index));
    }

    async fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::PipelineTimeout if !self.done => {
                self.cancel_all(Outcome::CancelledByTimeout, CANCELLED_BY_PIPELINE_TIMEOUT)
                    .await;
                let limit = self
                    .pipeline_timeout
                    .map(format_go_duration)
                    .unwrap_or_default();
                self.finish(Condition::new(
                    "False",
                    "PipelineRunTimeout",
                    format!(
                        "PipelineRun {:?} failed to finish within {limit:?}",
                        self.name
                    ),
                ));
            }
            Ev::TasksTimeout => {
                self.tasks_timed_out = true;
                for i in 0..self.tasks.len() {
                    if !self.tasks[i].pt.finally && self.tasks[i].state == TState::Running {
                        self.cancel_task(
                            i,
                            Outcome::CancelledByTimeout,
                            CANCELLED_BY_PIPELINE_TIMEOUT,
                        )
                        .await;
                    }
                }
            }
            Ev::CreatePod(i, a) if self.tasks[i].active_attempt(a) => self.create_pod(i).await,
            Ev::PodInit(i, a) if self.tasks[i].active_attempt(a) => self.pod_init(i).await,
            Ev::PodStart(i, a) if self.tasks[i].active_attempt(a) => self.pod_start(i).await,
            Ev::PullFailed(i, a) if self.tasks[i].active_attempt(a) => self.pull_failed(i).await,
            Ev::Line(i, a, step, line) if self.tasks[i].active_attempt(a) => {
                let t = &self.tasks[i];
                if let (Some(att), Some(plan)) = (&t.attempt, t.plans.get(step))
                    && let Some(text) = plan.lines.get(line)
                {
                    self.ctx.scenario.log_sink.push_line(
                        &self.ctx.ns,
                        &att.pod,
                        &container_name(&plan.name),
                        text,
                    );
                }
            }
            Ev::StepDone(i, a, step) if self.tasks[i].active_attempt(a) => {
                self.step_done(i, step).await
            }
            Ev::TaskRunTimeout(i, a) if self.tasks[i].active_attempt(a) => {
                let t = &self.tasks[i];
                let limit = t.pt.timeout.map(format_go_duration).unwrap_or_default();
                let msg = format!("TaskRun {:?} failed to finish within {limit:?}", t.tr_name);
                self.kill_attempt(i, "TaskRunTimeout").await;
                self.attempt_failed(i, "TaskRunTimeout", msg).await;
            }
            _ => {}
        }
    }

    fn pod_body(&self, i: usize) -> Option<DynamicObject> {
        let t = &self.tasks[i];
        let att = t.attempt.as_ref()?;
        let mut labels = t.labels.clone();
        labels.insert("tekton.dev/taskRun".into(), json!(t.tr_name));
        labels.insert("tekton.dev/taskRunUID".into(), json!(t.tr_uid));
        labels.insert(
            "app.kubernetes.io/managed-by".into(),
            json!("tekton-pipelines"),
        );
        let step_names: Vec<String> = t.plans.iter().map(|p| container_name(&p.name)).collect();
        let mut init_cmd = vec![
            json!("/ko-app/entrypoint"),
            json!("init"),
            json!("/ko-app/entrypoint"),
            json!("/tekton/bin/entrypoint"),
        ];
        init_cmd.extend(step_names.iter().map(|n| json!(n)));
        let containers: Vec<Value> = t
            .plans
            .iter()
            .enumerate()
            .map(|(k, p)| {
                json!({
                    "name": container_name(&p.name),
                    "image": p.image,
                    "command": ["/tekton/bin/entrypoint"],
                    "args": ["-post_file", format!("/tekton/run/{k}/out"), "-termination_path", "/tekton/termination",
                             "-step_metadata_dir", format!("/tekton/run/{k}/status"), "-entrypoint", format!("/tekton/scripts/script-{k}"), "--"],
                    "terminationMessagePath": "/tekton/termination",
                    "terminationMessagePolicy": "File",
                })
            })
            .collect();
        let mut spec = json!({
            "restartPolicy": "Never",
            "serviceAccountName": self.service_account,
            "automountServiceAccountToken": false,
            "initContainers": [{"name": "prepare", "image": "ghcr.io/tektoncd/pipeline/entrypoint:faketekton", "command": init_cmd}],
            "containers": containers,
        });
        if att.scheduled {
            spec["nodeName"] = json!(self.ctx.scenario.node_name);
        }
        let body = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": att.pod,
                "namespace": self.ctx.ns,
                "labels": labels,
                "annotations": {"pipeline.tekton.dev/release": "faketekton"},
                "ownerReferences": [{
                    "apiVersion": TEKTON_API_VERSION,
                    "kind": "TaskRun",
                    "name": t.tr_name,
                    "uid": t.tr_uid,
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "spec": spec,
        });
        serde_json::from_value(body).ok()
    }

    async fn create_pod(&mut self, i: usize) {
        let Some(body) = self.pod_body(i) else { return };
        let Some(att) = self.tasks[i].attempt.clone() else {
            return;
        };
        match self.ctx.pods.create(&post_params(), &body).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.is_already_exists() => {}
            Err(e) => self.ctx.error(format!("creating Pod {}: {e}", att.pod)),
        }
        if att.scheduled {
            let sink = &self.ctx.scenario.log_sink;
            sink.container_waiting(&self.ctx.ns, &att.pod, "prepare", "PodInitializing");
            for p in &self.tasks[i].plans {
                sink.container_waiting(
                    &self.ctx.ns,
                    &att.pod,
                    &container_name(&p.name),
                    "PodInitializing",
                );
            }
        }
        let now = crate::now();
        {
            let t = &mut self.tasks[i];
            t.pod_name = att.pod.clone();
            t.start_time = Some(now);
            t.completion_time = None;
            set_condition(
                &mut t.condition,
                Condition::new("Unknown", "Pending", "Pending"),
            );
        }
        self.write_tr_status(i, false).await;
        let half = self.ctx.scenario.pod_start_ms / 2;
        self.schedule(half, Ev::PodInit(i, att.index));
        if let Some(timeout) = self.tasks[i].pt.timeout.filter(|d| !d.is_zero()) {
            self.schedule(duration_ms(timeout), Ev::TaskRunTimeout(i, att.index));
        }
    }

    async fn pod_init(&mut self, i: usize) {
        let now = crate::now();
        let Some(att) = self.tasks[i].attempt.as_mut() else {
            return;
        };
        let pod = att.pod.clone();
        let index = att.index;
        if att.problem == Some(PodProblem::Unschedulable) {
            self.write_pod_status(i).await;
            let t = &mut self.tasks[i];
            set_condition(
                &mut t.condition,
                Condition::new(
                    "Unknown",
                    "ExceededNodeResources",
                    "TaskRun Pod exceeded available resources",
                ),
            );
            self.write_tr_status(i, false).await;
            return;
        }
        att.pod_start = Some(now.clone());
        att.init = CState::Running { started: now };
        self.ctx
            .scenario
            .log_sink
            .container_started(&self.ctx.ns, &pod, "prepare");
        self.write_pod_status(i).await;
        let t = &mut self.tasks[i];
        set_condition(
            &mut t.condition,
            Condition::new(
                "Unknown",
                "Pending",
                "pod status \"Initialized\":\"False\"; message: \"containers with incomplete status: [prepare]\"",
            ),
        );
        self.write_tr_status(i, true).await;
        let rest = self.ctx.scenario.pod_start_ms - self.ctx.scenario.pod_start_ms / 2;
        self.schedule(rest, Ev::PodStart(i, index));
    }

    async fn pod_start(&mut self, i: usize) {
        let now = crate::now();
        let ns = self.ctx.ns.clone();
        let sink = self.ctx.scenario.log_sink.clone();
        let t = &mut self.tasks[i];
        let Some(att) = t.attempt.as_mut() else {
            return;
        };
        let started = att.init.started_at().unwrap_or(&now).to_string();
        att.init = CState::Terminated {
            exit: 0,
            reason: "Completed".into(),
            message: None,
            started,
            finished: now.clone(),
            termination_reason: "Completed".into(),
        };
        att.initialized = true;
        sink.end(&ns, &att.pod, "prepare");
        let index = att.index;
        if att.problem == Some(PodProblem::ImagePullBackOff) {
            let image = t.plans.first().map(|p| p.image.clone()).unwrap_or_default();
            if let Some(first) = att.containers.first_mut() {
                *first = CState::Waiting {
                    reason: "ImagePullBackOff".into(),
                    message: Some(format!("Back-off pulling image {image:?}")),
                };
            }
            if let Some(p) = t.plans.first() {
                sink.container_waiting(&ns, &att.pod, &container_name(&p.name), "ImagePullBackOff");
            }
            let first = t
                .plans
                .first()
                .map(|p| container_name(&p.name))
                .unwrap_or_default();
            set_condition(
                &mut t.condition,
                Condition::new(
                    "Unknown",
                    "PullImageFailed",
                    format!(
                        "build step {first:?} is pending with reason {:?}",
                        format!("Back-off pulling image {image:?}")
                    ),
                ),
            );
            self.write_pod_status(i).await;
            self.write_tr_status(i, true).await;
            self.schedule(0, Ev::PullFailed(i, index));
            return;
        }
        att.phase = "Running";
        att.ready = true;
        for c in att.containers.iter_mut() {
            *c = CState::Running {
                started: now.clone(),
            };
        }
        for p in &t.plans {
            sink.container_started(&ns, &att.pod, &container_name(&p.name));
        }
        set_condition(
            &mut t.condition,
            Condition::new(
                "Unknown",
                "Running",
                "Not all Steps in the Task have finished executing",
            ),
        );
        self.write_pod_status(i).await;
        self.write_tr_status(i, true).await;
        self.schedule_step(i, index, 0);
    }

    fn schedule_step(&mut self, i: usize, attempt: u32, step: usize) {
        let Some(plan) = self.tasks[i].plans.get(step).cloned() else {
            return;
        };
        let n = plan.lines.len() as u64;
        if plan.hang {
            for j in 0..plan.lines.len() {
                self.schedule((j as u64 + 1) * HANG_LINE_MS, Ev::Line(i, attempt, step, j));
            }
            return;
        }
        for j in 0..plan.lines.len() {
            self.schedule(
                (j as u64 + 1) * plan.duration_ms / (n + 1),
                Ev::Line(i, attempt, step, j),
            );
        }
        self.schedule(plan.duration_ms, Ev::StepDone(i, attempt, step));
    }

    async fn step_done(&mut self, i: usize, step: usize) {
        let now = crate::now();
        let ns = self.ctx.ns.clone();
        let sink = self.ctx.scenario.log_sink.clone();
        let t = &mut self.tasks[i];
        let Some(att) = t.attempt.as_mut() else {
            return;
        };
        let last = t.plans.len().saturating_sub(1);
        let mut exit = t.plans[step].exit_code;
        if att.forced_fail && step == last && t.plans.iter().all(|p| p.exit_code == 0) {
            exit = 1;
        }
        let reason = if exit == 0 { "Completed" } else { "Error" };
        let started = att.containers[step]
            .started_at()
            .unwrap_or(&now)
            .to_string();
        att.containers[step] = CState::Terminated {
            exit,
            reason: reason.into(),
            message: None,
            started,
            finished: now.clone(),
            termination_reason: reason.into(),
        };
        let mut ended = vec![container_name(&t.plans[step].name)];
        let finished = exit != 0 || step == last;
        if exit != 0 {
            for k in step + 1..t.plans.len() {
                let started = att.containers[k].started_at().unwrap_or(&now).to_string();
                att.containers[k] = CState::Terminated {
                    exit: 1,
                    reason: "Error".into(),
                    message: None,
                    started,
                    finished: now.clone(),
                    termination_reason: "Skipped".into(),
                };
                ended.push(container_name(&t.plans[k].name));
            }
        }
        if finished {
            att.phase = if exit == 0 { "Succeeded" } else { "Failed" };
            att.ready = false;
            att.active = false;
        }
        let pod = att.pod.clone();
        let index = att.index;
        // Status first, then the end of the log: a client that reads the container state after
        // EOF sees it terminated.
        self.write_pod_status(i).await;
        for c in &ended {
            sink.end(&ns, &pod, c);
        }
        if !finished {
            self.write_tr_status(i, true).await;
            self.schedule_step(i, index, step + 1);
            return;
        }
        if exit == 0 {
            let t = &mut self.tasks[i];
            t.results = t.script.results.clone();
            t.completion_time = Some(now);
            set_condition(
                &mut t.condition,
                Condition::new("True", "Succeeded", "All Steps have completed executing"),
            );
            t.state = TState::Done(Outcome::Succeeded);
            self.write_tr_status(i, true).await;
        } else {
            let container = container_name(&self.tasks[i].plans[step].name);
            let msg = format!("{container:?} exited with code {exit}: Error");
            self.attempt_failed(i, "StepFailed", msg).await;
        }
    }

    async fn pull_failed(&mut self, i: usize) {
        let t = &self.tasks[i];
        let step = t.plans.first().map(|p| p.name.clone()).unwrap_or_default();
        let image = t.plans.first().map(|p| p.image.clone()).unwrap_or_default();
        let msg = format!(
            "the step {step:?} in TaskRun {:?} failed to pull the image \"\". The pod errored with the message: \"Back-off pulling image {image:?}.\"",
            t.tr_name
        );
        self.kill_attempt(i, "TaskRunImagePullFailed").await;
        self.attempt_failed(i, "TaskRunImagePullFailed", msg).await;
    }

    /// Tekton's `failTaskRun` for a live pod: steps still running or waiting are marked
    /// terminated with `reason`, the pod is deleted and its log streams end.
    async fn kill_attempt(&mut self, i: usize, reason: &str) {
        let now = crate::now();
        let ns = self.ctx.ns.clone();
        let sink = self.ctx.scenario.log_sink.clone();
        let creation = self.tasks[i]
            .start_time
            .clone()
            .unwrap_or_else(|| now.clone());
        let t = &mut self.tasks[i];
        let Some(att) = t.attempt.as_mut() else {
            return;
        };
        if !att.active {
            return;
        }
        att.active = false;
        let pod = att.pod.clone();
        for (k, c) in att.containers.iter_mut().enumerate() {
            let started = match c {
                CState::Terminated { .. } => continue,
                CState::Running { started } => {
                    sink.end(&ns, &pod, &container_name(&t.plans[k].name));
                    started.clone()
                }
                CState::Waiting { .. } => creation.clone(),
            };
            *c = CState::Terminated {
                exit: 1,
                reason: reason.to_string(),
                message: Some(format!(
                    "Step {} terminated as pod {pod} is terminated",
                    t.plans[k].name
                )),
                started,
                finished: now.clone(),
                termination_reason: reason.to_string(),
            };
        }
        if matches!(att.init, CState::Running { .. }) {
            sink.end(&ns, &pod, "prepare");
        }
        // Tekton deletes the pod; the kubelet confirms with a zero-grace delete.
        for grace in [None, Some(0)] {
            let dp = DeleteParams {
                grace_period_seconds: grace,
                ..DeleteParams::default()
            };
            match self.ctx.pods.delete(&pod, &dp).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.is_not_found() => break,
                Err(e) => {
                    self.ctx.error(format!("deleting Pod {pod}: {e}"));
                    break;
                }
            }
        }
    }

    /// The current attempt failed: retry (Tekton's `retryTaskRun`) or fail the TaskRun.
    async fn attempt_failed(&mut self, i: usize, reason: &str, message: String) {
        let now = crate::now();
        let retry = {
            let t = &mut self.tasks[i];
            if let Some(att) = t.attempt.as_mut() {
                att.active = false;
            }
            let reason = if t.pt.on_error_continue {
                "FailureIgnored"
            } else {
                reason
            };
            t.completion_time = Some(now);
            set_condition(
                &mut t.condition,
                Condition::new("False", reason, message.clone()),
            );
            t.retries_status.len() < t.pt.retries as usize && self.mode != Mode::GracefulCancel
        };
        if !retry {
            self.tasks[i].state = TState::Done(Outcome::Failed);
            self.write_tr_status(i, true).await;
            return;
        }
        let archived = self.tr_status_json(i, true);
        let t = &mut self.tasks[i];
        let mut archived = archived;
        if let Some(m) = archived.as_object_mut() {
            m.remove("retriesStatus");
            m.retain(|_, v| !v.is_null());
        }
        t.retries_status.push(archived);
        t.start_time = None;
        t.completion_time = None;
        t.pod_name = String::new();
        t.results.clear();
        set_condition(
            &mut t.condition,
            Condition::new("Unknown", "ToBeRetried", message),
        );
        self.write_tr_status(i, true).await;
        self.start_attempt(i);
    }

    /// Cancels a running task (PipelineRun cancel or timeout): the TaskRun's spec gets
    /// `status: TaskRunCancelled`, its pod is deleted, its condition becomes `TaskRunCancelled`.
    async fn cancel_task(&mut self, i: usize, outcome: Outcome, status_message: &str) {
        if self.tasks[i].state != TState::Running {
            return;
        }
        let tr_name = self.tasks[i].tr_name.clone();
        let patch =
            json!({"spec": {"status": "TaskRunCancelled", "statusMessage": status_message}});
        match self
            .ctx
            .trs
            .patch(&tr_name, &patch_params(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.is_not_found() => {}
            Err(e) => self.ctx.error(format!("cancelling TaskRun {tr_name}: {e}")),
        }
        self.kill_attempt(i, "TaskRunCancelled").await;
        let t = &mut self.tasks[i];
        t.completion_time = Some(crate::now());
        set_condition(
            &mut t.condition,
            Condition::new(
                "False",
                "TaskRunCancelled",
                format!("TaskRun {tr_name:?} was cancelled. {status_message}"),
            ),
        );
        t.state = TState::Done(outcome);
        self.write_tr_status(i, true).await;
    }

    async fn cancel_all(&mut self, outcome: Outcome, status_message: &str) {
        for i in 0..self.tasks.len() {
            if self.tasks[i].state == TState::Running {
                self.cancel_task(i, outcome, status_message).await;
            }
        }
    }

    fn tr_status_json(&self, i: usize, with_steps: bool) -> Value {
        let t = &self.tasks[i];
        let mut status = json!({
            "startTime": t.start_time,
            "completionTime": t.completion_time,
        });
        // Tekton writes `podName: ""` while a retry is pending; merge patches keep the previous
        // value instead (the test apiserver turns empty strings of typed CRD fields into null).
        if !t.pod_name.is_empty() {
            status["podName"] = json!(t.pod_name);
        }
        if let Some(c) = &t.condition {
            status["conditions"] = json!([c.json()]);
        }
        if with_steps && let Some(att) = &t.attempt {
            let steps: Vec<Value> = t
                .plans
                .iter()
                .zip(&att.containers)
                .map(|(p, c)| {
                    let container = container_name(&p.name);
                    let mut step = json!({"name": p.name, "container": container});
                    let id = image_id(&p.image, c);
                    if !id.is_empty() {
                        step["imageID"] = json!(id);
                    }
                    if let (Some(state), Some(m)) =
                        (c.state_json().as_object(), step.as_object_mut())
                    {
                        for (k, v) in state {
                            let mut v = v.clone();
                            if k == "terminated" {
                                v["containerID"] = json!(container_id(&att.pod, &container));
                            }
                            m.insert(k.clone(), v);
                        }
                    }
                    if let CState::Terminated {
                        termination_reason, ..
                    } = c
                    {
                        step["terminationReason"] = json!(termination_reason);
                    }
                    step
                })
                .collect();
            status["steps"] = Value::Array(steps);
        } else {
            status["steps"] = json!([]);
        }
        status["results"] = if t.results.is_empty() {
            Value::Null
        } else {
            Value::Array(
                t.results
                    .iter()
                    .map(|(n, v)| json!({"name": n, "type": "string", "value": v}))
                    .collect(),
            )
        };
        if !t.retries_status.is_empty() {
            status["retriesStatus"] = Value::Array(t.retries_status.clone());
        }
        if let Some(ts) = t.pt.task_spec() {
            let mut ts = ts.clone();
            if let Some(m) = ts.as_object_mut() {
                for k in ["metadata", "apiVersion", "kind", "spec"] {
                    m.remove(k);
                }
            }
            status["taskSpec"] = ts;
        }
        status
    }

    async fn write_tr_status(&mut self, i: usize, with_steps: bool) {
        let status = self.tr_status_json(i, with_steps);
        if self.tasks[i].last_status.as_ref() == Some(&status) {
            return;
        }
        let name = self.tasks[i].tr_name.clone();
        match self
            .ctx
            .trs
            .patch_status(
                &name,
                &patch_params(),
                &Patch::Merge(json!({"status": status})),
            )
            .await
        {
            Ok(_) => self.tasks[i].last_status = Some(status),
            Err(e) => self
                .ctx
                .error(format!("TaskRun {name}: writing status: {e}")),
        }
    }

    fn pod_status_json(&self, i: usize) -> Option<Value> {
        let t = &self.tasks[i];
        let att = t.attempt.as_ref()?;
        let now = crate::now();
        let cond = |ty: &str, ok: bool, reason: Option<&str>, message: Option<String>| {
            let mut c = json!({"type": ty, "status": if ok { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": now});
            if let Some(r) = reason {
                c["reason"] = json!(r);
            }
            if let Some(m) = message {
                c["message"] = json!(m);
            }
            c
        };
        if !att.scheduled {
            return Some(json!({
                "phase": "Pending",
                "conditions": [cond("PodScheduled", false, Some("Unschedulable"), Some("0/1 nodes are available: 1 Insufficient cpu.".into()))],
                "qosClass": "BestEffort",
            }));
        }
        let names: Vec<String> = t.plans.iter().map(|p| container_name(&p.name)).collect();
        let unready: Vec<&str> = names
            .iter()
            .zip(&att.containers)
            .filter(|(_, c)| !matches!(c, CState::Running { .. }))
            .map(|(n, _)| n.as_str())
            .collect();
        let ready_msg = format!("containers with unready status: [{}]", unready.join(" "));
        let completed = matches!(att.phase, "Succeeded" | "Failed");
        let ready_reason = if completed {
            "PodCompleted"
        } else {
            "ContainersNotReady"
        };
        let mut conditions = vec![if att.initialized {
            cond(
                "Initialized",
                true,
                completed.then_some("PodCompleted"),
                None,
            )
        } else {
            cond(
                "Initialized",
                false,
                Some("ContainersNotInitialized"),
                Some("containers with incomplete status: [prepare]".into()),
            )
        }];
        if att.ready {
            conditions.push(cond("Ready", true, None, None));
            conditions.push(cond("ContainersReady", true, None, None));
        } else {
            conditions.push(cond(
                "Ready",
                false,
                Some(ready_reason),
                (!completed).then(|| ready_msg.clone()),
            ));
            conditions.push(cond(
                "ContainersReady",
                false,
                Some(ready_reason),
                (!completed).then(|| ready_msg.clone()),
            ));
        }
        conditions.push(cond("PodScheduled", true, None, None));
        let status_of = |name: &str, image: &str, c: &CState| {
            let started = !matches!(c, CState::Waiting { .. });
            let mut s = json!({
                "name": name,
                "image": image,
                "imageID": image_id(image, c),
                "ready": matches!(c, CState::Running { .. }),
                "restartCount": 0,
                "started": matches!(c, CState::Running { .. }),
                "state": c.state_json(),
            });
            if started {
                let id = container_id(&att.pod, name);
                s["containerID"] = json!(id);
                if let Some(term) = s["state"].get_mut("terminated") {
                    term["containerID"] = json!(id);
                }
            }
            s
        };
        let init_image = "ghcr.io/tektoncd/pipeline/entrypoint:faketekton";
        Some(json!({
            "phase": att.phase,
            "conditions": conditions,
            "hostIP": "127.0.0.1",
            "startTime": att.pod_start,
            "initContainerStatuses": [status_of("prepare", init_image, &att.init)],
            "containerStatuses": t.plans.iter().zip(&att.containers).map(|(p, c)| status_of(&container_name(&p.name), &p.image, c)).collect::<Vec<_>>(),
            "qosClass": "BestEffort",
        }))
    }

    async fn write_pod_status(&mut self, i: usize) {
        let Some(status) = self.pod_status_json(i) else {
            return;
        };
        if self.tasks[i].last_pod_status.as_ref() == Some(&status) {
            return;
        }
        let Some(pod) = self.tasks[i].attempt.as_ref().map(|a| a.pod.clone()) else {
            return;
        };
        match self
            .ctx
            .pods
            .patch_status(
                &pod,
                &patch_params(),
                &Patch::Merge(json!({"status": status})),
            )
            .await
        {
            Ok(_) => self.tasks[i].last_pod_status = Some(status),
            Err(e) => self.ctx.error(format!("Pod {pod}: writing status: {e}")),
        }
    }
}

fn collect_refs(v: &Value, out: &mut BTreeSet<(String, String)>) {
    match v {
        Value::String(s) => {
            for e in pipeline::expressions(s) {
                if let Some((t, r)) = pipeline::result_ref(e, "tasks") {
                    out.insert((t.to_string(), r.to_string()));
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        Value::Object(m) => m.values().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 2)
}

fn container_name(step: &str) -> String {
    format!("step-{step}")
}

fn fnv64(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn container_id(pod: &str, container: &str) -> String {
    let a = fnv64(&format!("{pod}/{container}"));
    let b = fnv64(&format!("{container}/{pod}"));
    format!("containerd://{a:016x}{b:016x}{a:016x}{b:016x}")
}

fn image_id(image: &str, c: &CState) -> String {
    if matches!(c, CState::Waiting { .. }) {
        return String::new();
    }
    let h = fnv64(image);
    let repo = image.split(':').next().unwrap_or(image);
    format!("{repo}@sha256:{h:016x}{h:016x}{h:016x}{h:016x}")
}
