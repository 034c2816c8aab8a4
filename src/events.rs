//! What a run looks like while it happens and when it is over, independent of where it runs: the events
//! `tekscript run` renders (step log lines, task and run state changes, notes) and the final [`Summary`].
//! Produced by following a PipelineRun on a cluster (`cluster::follow`) and by running one on this
//! machine (`local`); rendered by `cli::run`.

use std::time::Duration;

/// The `Succeeded` condition of a Tekton run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Condition {
    pub status: String,
    pub reason: String,
    pub message: String,
}

/// What a pipeline task is doing, as shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TaskState {
    Pending,
    Running,
    Retrying,
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
    Skipped,
    /// Never started (the run ended first).
    NotRun,
}

impl TaskState {
    /// The word printed for the state.
    pub fn word(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Running => "running",
            TaskState::Retrying => "retrying",
            TaskState::Succeeded => "succeeded",
            TaskState::Failed => "failed",
            TaskState::Cancelled => "cancelled",
            TaskState::TimedOut => "timed out",
            TaskState::Skipped => "skipped",
            TaskState::NotRun => "not run",
        }
    }

    /// Finished (one way or another).
    pub fn is_done(self) -> bool {
        !matches!(
            self,
            TaskState::Pending | TaskState::Running | TaskState::Retrying
        )
    }
}

/// Something that happened while following.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowEvent {
    /// The run's condition changed (reason `Running`, `Succeeded`, `Failed`, …).
    Run { reason: String, message: String },
    /// A pipeline task changed state; `attempt` counts from 0 (retries are 1, 2, …).
    Task {
        task: String,
        state: TaskState,
        reason: String,
        message: String,
        attempt: u32,
        finally: bool,
    },
    /// A pod that cannot start (or run): `ImagePullBackOff`, `ErrImagePull`, `Unschedulable`, …
    Pod {
        task: String,
        pod: String,
        reason: String,
        message: String,
    },
    /// One whole line of a step's log.
    Log {
        task: String,
        step: String,
        attempt: u32,
        line: String,
    },
    /// Something worth telling (watch re-established, cancel requested, a log that cannot be read).
    Note(String),
    /// Once a second while following (for live displays).
    Tick,
}

/// One pipeline task in the [`Summary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSummary {
    pub name: String,
    pub finally: bool,
    pub state: TaskState,
    pub reason: String,
    pub message: String,
    pub duration: Option<Duration>,
    /// Attempts made (1 + retries).
    pub attempts: u32,
    /// The failing step and its exit code.
    pub failed_step: Option<(String, i32)>,
    /// The last pod problem seen (`ImagePullBackOff: Back-off pulling image "x"`).
    pub pod_problem: Option<String>,
}

/// Why following ended before the run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaveUp {
    /// `--timeout` ran out.
    Timeout(Duration),
    /// Ctrl-C while only following (`logs -f`).
    Interrupted,
}

/// The outcome of a run, for the final report and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub name: String,
    pub namespace: String,
    pub condition: Option<Condition>,
    pub duration: Option<Duration>,
    pub tasks: Vec<TaskSummary>,
    /// Pipeline results `(name, value)`; non-string values as JSON.
    pub results: Vec<(String, String)>,
    pub gave_up: Option<GaveUp>,
    /// A cancel was sent by us.
    pub cancel_requested: bool,
}

impl Summary {
    /// `True` condition: Succeeded or Completed.
    pub fn succeeded(&self) -> bool {
        self.gave_up.is_none() && self.condition.as_ref().is_some_and(|c| c.status == "True")
    }

    /// The run finished (either way).
    pub fn finished(&self) -> bool {
        self.condition
            .as_ref()
            .is_some_and(|c| c.status == "True" || c.status == "False")
    }

    /// The first failed task (DAG before finally).
    pub fn failure(&self) -> Option<&TaskSummary> {
        self.tasks
            .iter()
            .find(|t| matches!(t.state, TaskState::Failed | TaskState::TimedOut))
    }
}
