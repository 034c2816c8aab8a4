//! A fake Tekton controller and a fake kubelet for testing `tekscript run`.
//!
//! The [`Controller`] is an ordinary Kubernetes client (list/watch/create/patch/patch-status through
//! `kube::Api`), so it drives any API server: the in-repo fake (`fakekube`) or a real
//! kube-apiserver. It watches PipelineRuns in one namespace and plays both Tekton's reconcilers and
//! the kubelet's status updates, following a [`Scenario`] that says what each pipeline task does
//! (steps, log lines, exit codes, durations, retries, pod problems). Conditions, reasons and
//! messages follow tektoncd/pipeline (≈ v1.15): see the crate's `README.md`-level notes in
//! [`Controller`].
//!
//! Step output goes to a [`LogSink`]: an adapter for an in-process fake API server
//! ([`FnLogSink`]), or a [`FakeKubelet`] that registers a Node and serves
//! `/containerLogs/…` over HTTPS so a real apiserver's `pods/log` works (`kubectl logs -f`).
//!
//! [`testenv`] has helpers for tests against a real apiserver named by `TEKSCRIPT_TEST_KUBECONFIG`.

mod controller;
pub mod duration;
mod kubelet;
mod logs;
mod pipeline;
mod run;
mod scenario;
pub mod testenv;

pub use controller::{Controller, ControllerHandle};
pub use kubelet::FakeKubelet;
pub use logs::{FanOutLogSink, FnLogSink, LogEvent, LogSink, NullLogSink, RecordingLogSink};
pub use scenario::{
    DEFAULT_NODE_NAME, DEFAULT_POD_START_MS, DEFAULT_STEP_MS, PodProblem, Scenario, StepScript,
    TaskScript,
};

use kube::core::ApiResource;

/// Errors of the fake kubelet and the test helpers.
#[derive(Debug)]
pub enum Error {
    /// A request to the API server failed.
    Kube(kube::Error),
    /// A socket could not be opened.
    Io(std::io::Error),
    /// The TLS certificate or configuration could not be built.
    Tls(String),
    /// Bad configuration (kubeconfig, object construction).
    Config(String),
    /// A wait ran out of time.
    Timeout(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Kube(e) => write!(f, "kube: {e}"),
            Error::Io(e) => write!(f, "io: {e}"),
            Error::Tls(e) => write!(f, "tls: {e}"),
            Error::Config(e) => write!(f, "config: {e}"),
            Error::Timeout(e) => write!(f, "timeout: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Kube(e) => Some(e),
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<kube::Error> for Error {
    fn from(e: kube::Error) -> Self {
        Error::Kube(e)
    }
}

/// The field manager the controller writes with.
pub const FIELD_MANAGER: &str = "faketekton";

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.to_string(),
        version: version.to_string(),
        api_version: if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        },
        kind: kind.to_string(),
        plural: plural.to_string(),
    }
}

/// `tekton.dev/v1` PipelineRun (for `Api::namespaced_with`).
pub fn pipelinerun_resource() -> ApiResource {
    resource("tekton.dev", "v1", "PipelineRun", "pipelineruns")
}

/// `tekton.dev/v1` TaskRun.
pub fn taskrun_resource() -> ApiResource {
    resource("tekton.dev", "v1", "TaskRun", "taskruns")
}

/// `tekton.dev/v1` Pipeline.
pub fn pipeline_resource() -> ApiResource {
    resource("tekton.dev", "v1", "Pipeline", "pipelines")
}

/// `tekton.dev/v1` Task.
pub fn task_resource() -> ApiResource {
    resource("tekton.dev", "v1", "Task", "tasks")
}

/// Core `v1` Pod as a dynamic resource.
pub(crate) fn pod_resource() -> ApiResource {
    resource("", "v1", "Pod", "pods")
}

/// Wall-clock time in the API's format (RFC 3339, whole seconds, UTC).
pub(crate) fn now() -> String {
    let ts = jiff::Timestamp::now();
    jiff::Timestamp::from_second(ts.as_second())
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ts.to_string())
}
