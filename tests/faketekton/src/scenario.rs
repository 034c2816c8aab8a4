//! The script a test gives the fake controller: what each pipeline task "does".

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::logs::{LogSink, NullLogSink};

/// Default real time a step takes when the script doesn't say (milliseconds).
pub const DEFAULT_STEP_MS: u64 = 40;
/// Default time from pod creation until its steps run (milliseconds); the pod is `Pending`
/// with its init container `prepare` running during the second half of it.
pub const DEFAULT_POD_START_MS: u64 = 20;
/// Node name put into `spec.nodeName` when no [`FakeKubelet`](crate::FakeKubelet) is attached.
pub const DEFAULT_NODE_NAME: &str = "faketekton-node";

/// Something that keeps a task's pod from running (applies to every attempt, or with
/// [`TaskScript::fail_times`] to the first `n` attempts only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodProblem {
    /// The first step's image can't be pulled: the pod stays `Pending` with that container waiting
    /// `ImagePullBackOff`; Tekton (default `default-imagepullbackoff-timeout` 0) then fails the
    /// TaskRun with reason `TaskRunImagePullFailed` and deletes the pod.
    ImagePullBackOff,
    /// The pod can't be scheduled (`PodScheduled=False`, reason `Unschedulable`, `Insufficient cpu`):
    /// the TaskRun stays `Unknown`/`ExceededNodeResources` until a timeout or a cancel.
    Unschedulable,
}

/// One step of a scripted task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepScript {
    pub(crate) name: String,
    pub(crate) lines: Vec<String>,
    pub(crate) exit_code: i32,
    pub(crate) duration_ms: Option<u64>,
    pub(crate) hang: bool,
}

impl StepScript {
    /// A step named `name` (container `step-<name>`) that prints nothing and exits 0.
    pub fn new(name: impl Into<String>) -> Self {
        StepScript {
            name: name.into(),
            lines: Vec::new(),
            exit_code: 0,
            duration_ms: None,
            hang: false,
        }
    }
    /// Adds one output line (printed evenly spread over the step's duration).
    pub fn line(mut self, line: impl Into<String>) -> Self {
        self.lines.push(line.into());
        self
    }
    /// Adds output lines.
    pub fn lines<I: IntoIterator<Item = S>, S: Into<String>>(mut self, lines: I) -> Self {
        self.lines.extend(lines.into_iter().map(Into::into));
        self
    }
    /// The container's exit code (non-zero fails the task; later steps are skipped).
    pub fn exit_code(mut self, code: i32) -> Self {
        self.exit_code = code;
        self
    }
    /// Real time the step takes, in milliseconds (default [`Scenario::step_ms`]).
    pub fn duration_ms(mut self, ms: u64) -> Self {
        self.duration_ms = Some(ms);
        self
    }
    /// The step prints its lines (10 ms apart) and then never finishes by itself: only a cancel or
    /// a timeout ends it. Use it to test cancellation deterministically.
    pub fn hang(mut self) -> Self {
        self.hang = true;
        self
    }
    /// The step's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What one pipeline task does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskScript {
    pub(crate) steps: Vec<StepScript>,
    pub(crate) fail_times: u32,
    pub(crate) pod_problem: Option<PodProblem>,
    pub(crate) results: Vec<(String, String)>,
}

impl TaskScript {
    /// A task whose steps are taken from the Task's spec (each prints nothing and exits 0) until
    /// [`step`](Self::step) is used.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends a step. Once any step is given, the script's steps replace the spec's steps.
    pub fn step(mut self, step: StepScript) -> Self {
        self.steps.push(step);
        self
    }
    /// Appends several steps.
    pub fn steps(mut self, steps: impl IntoIterator<Item = StepScript>) -> Self {
        self.steps.extend(steps);
        self
    }
    /// The first `n` attempts fail: with the [`pod_problem`](Self::pod_problem) if one is set, else
    /// by the last step exiting 1 after printing its lines. With the pipeline task's `retries`
    /// ≥ `n` the task then succeeds on attempt `n + 1`.
    pub fn fail_times(mut self, n: u32) -> Self {
        self.fail_times = n;
        self
    }
    /// Makes the pod fail to start (see [`PodProblem`]).
    pub fn pod_problem(mut self, problem: PodProblem) -> Self {
        self.pod_problem = Some(problem);
        self
    }
    /// A task result (string) the TaskRun reports when it succeeds.
    pub fn result(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.results.push((name.into(), value.into()));
        self
    }
}

/// The whole script for a controller: per pipeline task name, plus timing and where logs go.
///
/// Tasks without a script run the steps of their spec (embedded `taskSpec`, or the `Task` named by
/// `taskRef`), each printing nothing and exiting 0.
#[derive(Clone)]
pub struct Scenario {
    pub(crate) tasks: BTreeMap<String, TaskScript>,
    pub(crate) step_ms: u64,
    pub(crate) pod_start_ms: u64,
    pub(crate) node_name: String,
    pub(crate) log_sink: Arc<dyn LogSink>,
    pub(crate) ensure_service_account: bool,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            tasks: BTreeMap::new(),
            step_ms: DEFAULT_STEP_MS,
            pod_start_ms: DEFAULT_POD_START_MS,
            node_name: DEFAULT_NODE_NAME.to_string(),
            log_sink: Arc::new(NullLogSink),
            ensure_service_account: true,
        }
    }
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("tasks", &self.tasks)
            .field("step_ms", &self.step_ms)
            .field("pod_start_ms", &self.pod_start_ms)
            .field("node_name", &self.node_name)
            .field("ensure_service_account", &self.ensure_service_account)
            .finish_non_exhaustive()
    }
}

impl Scenario {
    /// An empty scenario: every task runs its spec's steps successfully.
    pub fn new() -> Self {
        Self::default()
    }
    /// Scripts the pipeline task `name` (a `tasks` or `finally` entry).
    pub fn task(mut self, name: impl Into<String>, script: TaskScript) -> Self {
        self.tasks.insert(name.into(), script);
        self
    }
    /// Default step duration in milliseconds (default [`DEFAULT_STEP_MS`]).
    pub fn step_ms(mut self, ms: u64) -> Self {
        self.step_ms = ms;
        self
    }
    /// Time from pod creation until the steps run, in milliseconds (default [`DEFAULT_POD_START_MS`]).
    pub fn pod_start_ms(mut self, ms: u64) -> Self {
        self.pod_start_ms = ms;
        self
    }
    /// Node the pods are bound to (`spec.nodeName`; no scheduler needed).
    pub fn node_name(mut self, name: impl Into<String>) -> Self {
        self.node_name = name.into();
        self
    }
    /// Where step output goes (default: nowhere).
    pub fn log_sink(mut self, sink: Arc<dyn LogSink>) -> Self {
        self.log_sink = sink;
        self
    }
    /// Binds pods to `kubelet`'s node and sends logs to it (replaces any earlier log sink).
    pub fn kubelet(self, kubelet: &crate::FakeKubelet) -> Self {
        self.node_name(kubelet.node_name())
            .log_sink(kubelet.log_sink())
    }
    /// Whether the controller creates the `default` ServiceAccount when missing (default true; a
    /// bare kube-apiserver refuses pods without it).
    pub fn ensure_service_account(mut self, yes: bool) -> Self {
        self.ensure_service_account = yes;
        self
    }
    /// The script of one task, if any.
    pub fn script(&self, task: &str) -> Option<&TaskScript> {
        self.tasks.get(task)
    }
}
