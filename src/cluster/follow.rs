//! Following a PipelineRun: its state, its TaskRuns' states, the step logs of every pod (all TaskRuns in
//! parallel, retries and finally tasks included), pods that cannot start, and a final [`Summary`].
//!
//! Three watch loops (the run by field selector `metadata.name`, its TaskRuns and Pods by label
//! `tekton.dev/pipelineRun`) and one log reader per pod feed a single channel; one loop owns all state and
//! hands [`FollowEvent`]s to the caller in arrival order. Log lines are whole lines (a line is sent only
//! once its newline, or the end of the stream, has been read), so parallel tasks never mix within a line.
//!
//! Robustness:
//! * Watches are our own list-then-watch loop rather than `kube::runtime::watcher`: after a clean end of a
//!   watch the kube watcher re-watches at once, which becomes a tight loop against a server that keeps
//!   closing streams (cluster.md §2.6). Here a watch that ends within [`QUICK_WATCH`] of its start is
//!   restarted after an exponential delay; 410 Gone re-lists (objects gone meanwhile are reported as
//!   deleted, so nothing is missed: state is recomputed from whole objects, never from deltas).
//! * Log reads retry the kubelet's 400 "is waiting to start" and dropped streams (lines already printed are
//!   skipped on the re-read, by count).
//! * Watches and log streams use a second client without a socket read timeout (a step may be silent for
//!   longer than `--request-timeout`); every other request goes through [`with_retry`].

use super::connect::{Connection, Target, connect};
use super::error::ClusterError;
use super::objects::{api_resource, display};
use super::retry::with_retry;
use super::run::CancelMode;
use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{
    DynamicObject, ListParams, LogParams, Patch, PatchParams, WatchEvent, WatchParams,
};
use kube::core::ApiResource;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, watch};

pub use crate::events::{Condition, FollowEvent, GaveUp, Summary, TaskState, TaskSummary};

/// A watch that ends sooner than this after it started counts as "quick"; quick ends in a row back off.
pub const QUICK_WATCH: Duration = Duration::from_secs(2);
/// Longest delay between watch restarts and log re-reads.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Failed list/watch attempts in a row before following gives up.
const MAX_FAILURES: u32 = 8;
/// After the run finished: how long log streams still in flight may take to reach their end.
const LOG_DRAIN: Duration = Duration::from_secs(15);

/// The `Succeeded` condition of an object (as JSON with `status.conditions`).
pub fn succeeded(obj: &Value) -> Option<Condition> {
    let c = obj
        .get("status")?
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Succeeded"))?;
    let s = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Some(Condition {
        status: s("status"),
        reason: s("reason"),
        message: s("message"),
    })
}

/// The state of a TaskRun, from its `Succeeded` condition: (state, reason, message).
pub fn taskrun_state(tr: &Value) -> (TaskState, String, String) {
    let Some(c) = succeeded(tr) else {
        return (TaskState::Pending, String::new(), String::new());
    };
    let state = match c.status.as_str() {
        "True" => TaskState::Succeeded,
        "False" => match c.reason.as_str() {
            "TaskRunCancelled" => TaskState::Cancelled,
            "TaskRunTimeout" => TaskState::TimedOut,
            _ => TaskState::Failed,
        },
        _ => match c.reason.as_str() {
            "ToBeRetried" => TaskState::Retrying,
            "Running" => TaskState::Running,
            _ => TaskState::Pending,
        },
    };
    (state, c.reason, c.message)
}

/// Ctrl-C as seen by the async code: `flag` is set and `notify` woken by the first Ctrl-C.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    pub flag: Arc<AtomicBool>,
    pub notify: Arc<Notify>,
}

impl Interrupt {
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

/// What Ctrl-C does while following.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnInterrupt {
    /// Cancel the run, keep following until Tekton confirms.
    Cancel(CancelMode),
    /// Stop following; the run goes on.
    Detach,
}

/// Settings of [`follow`].
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Bound on the whole wait.
    pub timeout: Option<Duration>,
    pub on_interrupt: OnInterrupt,
    /// Send [`FollowEvent::Tick`] once a second.
    pub ticks: bool,
    /// Attaching to an existing run: print the logs of TaskRuns that already finished first, one after
    /// another in pipeline order, before following the rest live.
    pub attach: bool,
}

/// A client for watches and log streams: like `conn` but without a socket read timeout worth speaking of.
pub async fn streaming_target(conn: &Connection) -> Result<Target, ClusterError> {
    let mut c = conn.clone();
    c.request_timeout = Duration::from_secs(6 * 3600);
    let mut t = connect(&c).await?;
    t.request_timeout = conn.request_timeout;
    Ok(t)
}

fn pr_resource() -> ApiResource {
    api_resource("tekton.dev/v1", "PipelineRun", "pipelineruns")
}

fn tr_resource() -> ApiResource {
    api_resource("tekton.dev/v1", "TaskRun", "taskruns")
}

fn pod_resource() -> ApiResource {
    api_resource("v1", "Pod", "pods")
}

fn to_json(o: &DynamicObject) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

fn name_of(v: &Value) -> String {
    v["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn backoff(n: u32) -> Duration {
    let d = Duration::from_millis(250).saturating_mul(1 << n.min(8).saturating_sub(1));
    d.min(MAX_BACKOFF)
}

// ---------------------------------------------------------------------------------------------------------
// Messages into the main loop

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Run,
    TaskRun,
    Pod,
}

impl Kind {
    fn plural(self) -> &'static str {
        match self {
            Kind::Run => "pipelineruns",
            Kind::TaskRun => "taskruns",
            Kind::Pod => "pods",
        }
    }
}

enum Msg {
    Apply(Kind, Value),
    Gone(Kind, String),
    Line {
        task: String,
        step: String,
        attempt: u32,
        line: String,
    },
    LogDone(String),
    Note(String),
    Fatal(ClusterError),
}

/// What one watch loop watches.
struct WatchSpec {
    kind: Kind,
    ar: ApiResource,
    ns: String,
    fields: Option<String>,
    labels: Option<String>,
}

/// List, then watch from the list's resourceVersion; restart as described in the module docs.
async fn watch_loop(
    target: Target,
    streams: Target,
    spec: WatchSpec,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let WatchSpec {
        kind,
        ar,
        ns,
        fields,
        labels,
    } = spec;
    let api: Api<DynamicObject> = Api::namespaced_with(target.client.clone(), &ns, &ar);
    let sapi: Api<DynamicObject> = Api::namespaced_with(streams.client.clone(), &ns, &ar);
    let what = format!("{} in namespace {ns}", kind.plural());
    let mut rv: Option<String> = None;
    let mut known: BTreeSet<String> = BTreeSet::new();
    let mut failures = 0u32;
    let mut quick = 0u32;
    loop {
        if tx.is_closed() {
            return;
        }
        if rv.is_none() {
            let lp = ListParams {
                field_selector: fields.clone(),
                label_selector: labels.clone(),
                ..ListParams::default()
            };
            match with_retry(&target, "list", &what, || api.list(&lp)).await {
                Ok(list) => {
                    failures = 0;
                    let now: BTreeSet<String> = list
                        .items
                        .iter()
                        .filter_map(|o| o.metadata.name.clone())
                        .collect();
                    for gone in known.difference(&now) {
                        let _ = tx.send(Msg::Gone(kind, gone.clone()));
                    }
                    for o in &list.items {
                        let _ = tx.send(Msg::Apply(kind, to_json(o)));
                    }
                    known = now;
                    rv = list.metadata.resource_version.clone();
                }
                Err(e) => {
                    failures += 1;
                    if failures >= MAX_FAILURES || !transient(&e) {
                        let _ = tx.send(Msg::Fatal(e));
                        return;
                    }
                    tokio::time::sleep(backoff(failures)).await;
                    continue;
                }
            }
        }
        let wp = WatchParams {
            field_selector: fields.clone(),
            label_selector: labels.clone(),
            timeout: Some(240),
            bookmarks: true,
            ..WatchParams::default()
        };
        let started = Instant::now();
        let from = rv.clone().unwrap_or_else(|| "0".into());
        let mut problem: Option<String> = None;
        match sapi.watch(&wp, &from).await {
            Ok(stream) => {
                let mut stream = stream.boxed();
                while let Some(ev) = stream.next().await {
                    match ev {
                        Ok(WatchEvent::Added(o)) | Ok(WatchEvent::Modified(o)) => {
                            failures = 0;
                            rv = o.metadata.resource_version.clone().or(rv);
                            if let Some(n) = &o.metadata.name {
                                known.insert(n.clone());
                            }
                            if tx.send(Msg::Apply(kind, to_json(&o))).is_err() {
                                return;
                            }
                        }
                        Ok(WatchEvent::Deleted(o)) => {
                            rv = o.metadata.resource_version.clone().or(rv);
                            let n = o.metadata.name.clone().unwrap_or_default();
                            known.remove(&n);
                            let _ = tx.send(Msg::Gone(kind, n));
                        }
                        Ok(WatchEvent::Bookmark(b)) => rv = Some(b.metadata.resource_version),
                        Ok(WatchEvent::Error(s)) => {
                            if s.code == 410 {
                                rv = None;
                                problem = Some("expired (410 Gone); listing again".into());
                            } else {
                                problem = Some(format!("ended with {} {}", s.code, s.message));
                            }
                            break;
                        }
                        Err(e) => {
                            problem = Some(format!("broke off: {e}"));
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                let err = ClusterError::from_kube(&e, "watch", &what, &target.server);
                if !transient(&err) {
                    let _ = tx.send(Msg::Fatal(err));
                    return;
                }
                failures += 1;
                if failures >= MAX_FAILURES {
                    let _ = tx.send(Msg::Fatal(err));
                    return;
                }
                problem = Some(format!("could not be started: {err}"));
            }
        }
        // Pace restarts: a watch that keeps ending at once must not turn into a request storm.
        if started.elapsed() < QUICK_WATCH {
            quick += 1;
        } else {
            quick = 0;
        }
        if let Some(p) = problem {
            let _ = tx.send(Msg::Note(format!("watch of {what} {p}")));
        }
        if quick > 0 {
            tokio::time::sleep(backoff(quick)).await;
        }
    }
}

fn transient(e: &ClusterError) -> bool {
    match e {
        ClusterError::Unreachable { .. } | ClusterError::Timeout { .. } => true,
        ClusterError::Api { code, .. } => *code == 429 || *code >= 500,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Pod logs

/// What a log reader knows about its pod.
#[derive(Debug, Clone)]
enum PodSeen {
    NotYet,
    Live(Value),
    Gone,
}

/// `step-x` containers of a pod, in order.
fn step_containers(pod: &Value) -> Vec<String> {
    pod["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str())
                .filter(|n| n.starts_with("step-"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `waiting` / `running` / `terminated` (or "" when unknown) of a container.
fn container_state(pod: &Value, container: &str) -> &'static str {
    let Some(st) = pod["status"]["containerStatuses"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == container))
    else {
        return "";
    };
    let state = &st["state"];
    if state.get("terminated").is_some() {
        "terminated"
    } else if state.get("running").is_some() {
        "running"
    } else if state.get("waiting").is_some() {
        "waiting"
    } else {
        ""
    }
}

/// A pod that cannot start or keeps failing: (reason, message).
fn pod_problem(pod: &Value) -> Option<(String, String)> {
    const BAD: &[&str] = &[
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "CrashLoopBackOff",
        "RunContainerError",
    ];
    for list in ["initContainerStatuses", "containerStatuses"] {
        for c in pod["status"][list].as_array().into_iter().flatten() {
            let w = &c["state"]["waiting"];
            if let Some(r) = w["reason"].as_str()
                && BAD.contains(&r)
            {
                let msg = w["message"].as_str().unwrap_or_default();
                let who = c["name"].as_str().unwrap_or_default();
                return Some((r.to_string(), format!("container {who}: {msg}")));
            }
        }
    }
    for c in pod["status"]["conditions"].as_array().into_iter().flatten() {
        if c["type"] == "PodScheduled" && c["status"] == "False" {
            let r = c["reason"].as_str().unwrap_or("Unschedulable");
            let msg = c["message"].as_str().unwrap_or_default();
            return Some((r.to_string(), msg.to_string()));
        }
    }
    None
}

struct PodLog {
    pods: Api<Pod>,
    pods_dyn: Api<DynamicObject>,
    pod: String,
    task: String,
    attempt: u32,
    follow: bool,
    tx: mpsc::UnboundedSender<Msg>,
}

impl PodLog {
    /// Waits until `cond` holds for the pod, or returns None when it is gone or the run ended first.
    async fn wait_pod(
        &self,
        seen: &mut watch::Receiver<PodSeen>,
        run_done: &mut watch::Receiver<bool>,
        cond: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        loop {
            let current = seen.borrow_and_update().clone();
            match current {
                PodSeen::Live(p) if cond(&p) => return Some(p),
                PodSeen::Gone => return None,
                _ => {}
            }
            if *run_done.borrow() {
                // The run is over: one direct look decides.
                match self.pods_dyn.get_opt(&self.pod).await {
                    Ok(Some(p)) => {
                        let p = to_json(&p);
                        if cond(&p) {
                            return Some(p);
                        }
                        return None;
                    }
                    _ => return None,
                }
            }
            tokio::select! {
                r = seen.changed() => if r.is_err() { return None },
                r = run_done.changed() => if r.is_err() { return None },
            }
        }
    }

    async fn run(self, mut seen: watch::Receiver<PodSeen>, mut run_done: watch::Receiver<bool>) {
        let Some(pod) = self
            .wait_pod(&mut seen, &mut run_done, |p| !step_containers(p).is_empty())
            .await
        else {
            let _ = self.tx.send(Msg::LogDone(self.pod.clone()));
            return;
        };
        for container in step_containers(&pod) {
            let c = container.clone();
            let started = self
                .wait_pod(&mut seen, &mut run_done, move |p| {
                    matches!(container_state(p, &c), "running" | "terminated")
                })
                .await;
            if started.is_none() {
                break;
            }
            self.read(&container).await;
        }
        let _ = self.tx.send(Msg::LogDone(self.pod.clone()));
    }

    /// Reads one container's log to its end, re-reading (and skipping what was printed) after errors.
    async fn read(&self, container: &str) {
        let step = container
            .strip_prefix("step-")
            .unwrap_or(container)
            .to_string();
        let params = LogParams {
            container: Some(container.to_string()),
            follow: self.follow,
            ..LogParams::default()
        };
        let mut printed = 0usize;
        let mut failures = 0u32;
        loop {
            let error = match self.pods.log_stream(&self.pod, &params).await {
                Ok(reader) => {
                    let lines = reader.lines();
                    futures::pin_mut!(lines);
                    let mut seen = 0usize;
                    let mut error = None;
                    while let Some(line) = lines.next().await {
                        match line {
                            Ok(line) => {
                                seen += 1;
                                if seen > printed {
                                    printed = seen;
                                    failures = 0;
                                    let _ = self.tx.send(Msg::Line {
                                        task: self.task.clone(),
                                        step: step.clone(),
                                        attempt: self.attempt,
                                        line,
                                    });
                                }
                            }
                            Err(e) => {
                                error = Some(e.to_string());
                                break;
                            }
                        }
                    }
                    match error {
                        None => return,
                        Some(e) => e,
                    }
                }
                Err(kube::Error::Api(s)) if s.code == 404 => return,
                Err(kube::Error::Api(s))
                    if s.code == 400 && s.message.contains("waiting to start") =>
                {
                    // the kubelet answers this until the container runs: not a failure
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(e) => e.to_string(),
            };
            failures += 1;
            if failures > 6 {
                let _ = self.tx.send(Msg::Note(format!(
                    "cannot read the log of {}/{step} (pod {}): {error}",
                    self.task, self.pod
                )));
                return;
            }
            tokio::time::sleep(backoff(failures)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The main loop

struct TaskRunInfo {
    task: String,
    obj: Value,
}

struct Follower<'a> {
    target: &'a Target,
    streams: &'a Target,
    ns: String,
    name: String,
    tx: mpsc::UnboundedSender<Msg>,
    run: Option<Value>,
    taskruns: BTreeMap<String, TaskRunInfo>,
    pods: HashMap<String, Value>,
    readers: HashMap<String, watch::Sender<PodSeen>>,
    /// Pods whose logs were printed already (attach) or are being read.
    followed: BTreeSet<String>,
    active: BTreeSet<String>,
    shown_tasks: HashMap<String, (TaskState, String, u32)>,
    shown_pods: HashMap<String, String>,
    pod_problems: HashMap<String, String>,
    shown_run: Option<(String, String)>,
    run_done: watch::Sender<bool>,
    handles: Vec<tokio::task::JoinHandle<()>>,
    /// Start log readers for the pods of TaskRuns seen (off while dumping logs in order).
    spawn_readers: bool,
}

/// The pipeline task name of a TaskRun, and whether it is a finally task.
fn pipeline_task(tr: &Value, run: Option<&Value>) -> String {
    if let Some(t) = tr["metadata"]["labels"]["tekton.dev/pipelineTask"].as_str() {
        return t.to_string();
    }
    let name = name_of(tr);
    run.and_then(|r| r["status"]["childReferences"].as_array())
        .and_then(|refs| refs.iter().find(|c| c["name"] == name.as_str()))
        .and_then(|c| c["pipelineTaskName"].as_str())
        .map(str::to_string)
        .unwrap_or(name)
}

/// Pipeline task names in pipeline order: `(name, finally)`.
fn pipeline_order(run: &Value) -> Vec<(String, bool)> {
    let spec = run["status"]
        .get("pipelineSpec")
        .or_else(|| run["spec"].get("pipelineSpec"));
    let mut out = Vec::new();
    if let Some(spec) = spec {
        for (list, fin) in [("tasks", false), ("finally", true)] {
            for t in spec[list].as_array().into_iter().flatten() {
                if let Some(n) = t["name"].as_str() {
                    out.push((n.to_string(), fin));
                }
            }
        }
    }
    for c in run["status"]["childReferences"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(n) = c["pipelineTaskName"].as_str()
            && !out.iter().any(|(o, _)| o == n)
        {
            out.push((n.to_string(), false));
        }
    }
    out
}

/// `(pod, attempt)` of a TaskRun: earlier attempts from `retriesStatus`, then the current one.
fn taskrun_pods(tr: &Value) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let retries = tr["status"]["retriesStatus"].as_array();
    for (i, r) in retries.into_iter().flatten().enumerate() {
        if let Some(p) = r["podName"].as_str().filter(|p| !p.is_empty()) {
            out.push((p.to_string(), i as u32));
        }
    }
    let n = retries.map_or(0, Vec::len) as u32;
    if let Some(p) = tr["status"]["podName"].as_str().filter(|p| !p.is_empty())
        && !out.iter().any(|(o, _)| o == p)
    {
        out.push((p.to_string(), n));
    }
    out
}

fn parse_time(v: &Value) -> Option<k8s_openapi::jiff::Timestamp> {
    v.as_str()?.parse().ok()
}

fn between(start: &Value, end: &Value) -> Option<Duration> {
    let (a, b) = (parse_time(start)?, parse_time(end)?);
    let ms = b.as_millisecond() - a.as_millisecond();
    Some(Duration::from_millis(ms.max(0) as u64))
}

impl<'a> Follower<'a> {
    /// A follower with nothing seen yet; `spawn_readers: false` only reads what exists (for `logs` without -f).
    fn new(
        target: &'a Target,
        streams: &'a Target,
        ns: &str,
        name: &str,
        tx: mpsc::UnboundedSender<Msg>,
        run_done: watch::Sender<bool>,
        spawn_readers: bool,
    ) -> Self {
        Follower {
            target,
            streams,
            ns: ns.to_string(),
            name: name.to_string(),
            tx,
            run: None,
            taskruns: BTreeMap::new(),
            pods: HashMap::new(),
            readers: HashMap::new(),
            followed: BTreeSet::new(),
            active: BTreeSet::new(),
            shown_tasks: HashMap::new(),
            shown_pods: HashMap::new(),
            pod_problems: HashMap::new(),
            shown_run: None,
            run_done,
            handles: Vec::new(),
            spawn_readers,
        }
    }

    fn is_finally(&self, task: &str) -> bool {
        self.run
            .as_ref()
            .is_some_and(|r| pipeline_order(r).iter().any(|(n, f)| n == task && *f))
    }

    fn spawn_reader(&mut self, pod: &str, task: &str, attempt: u32, follow: bool) {
        if !self.followed.insert(pod.to_string()) {
            return;
        }
        let initial = match self.pods.get(pod) {
            Some(p) => PodSeen::Live(p.clone()),
            None => PodSeen::NotYet,
        };
        let (stx, srx) = watch::channel(initial);
        self.readers.insert(pod.to_string(), stx);
        self.active.insert(pod.to_string());
        let reader = PodLog {
            pods: Api::namespaced(self.streams.client.clone(), &self.ns),
            pods_dyn: Api::namespaced_with(self.target.client.clone(), &self.ns, &pod_resource()),
            pod: pod.to_string(),
            task: task.to_string(),
            attempt,
            follow,
            tx: self.tx.clone(),
        };
        let done = self.run_done.subscribe();
        self.handles.push(tokio::spawn(reader.run(srx, done)));
    }

    fn on_taskrun(&mut self, tr: Value, emit: &mut dyn FnMut(FollowEvent)) {
        let name = name_of(&tr);
        let task = pipeline_task(&tr, self.run.as_ref());
        let (state, reason, message) = taskrun_state(&tr);
        let attempt = tr["status"]["retriesStatus"].as_array().map_or(0, Vec::len) as u32;
        let key = (state, reason.clone(), attempt);
        if self.shown_tasks.get(&task) != Some(&key) {
            self.shown_tasks.insert(task.clone(), key);
            emit(FollowEvent::Task {
                task: task.clone(),
                state,
                reason,
                message,
                attempt,
                finally: self.is_finally(&task),
            });
        }
        if self.spawn_readers {
            for (pod, attempt) in taskrun_pods(&tr) {
                self.spawn_reader(&pod, &task, attempt, true);
            }
        }
        self.taskruns.insert(name, TaskRunInfo { task, obj: tr });
    }

    fn on_pod(&mut self, pod: Value, emit: &mut dyn FnMut(FollowEvent)) {
        let name = name_of(&pod);
        if let Some(problem) = pod_problem(&pod) {
            let text = format!("{}: {}", problem.0, problem.1);
            if self.shown_pods.get(&name) != Some(&text) {
                self.shown_pods.insert(name.clone(), text.clone());
                let task = pod["metadata"]["labels"]["tekton.dev/pipelineTask"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                self.pod_problems.insert(task.clone(), text);
                emit(FollowEvent::Pod {
                    task,
                    pod: name.clone(),
                    reason: problem.0,
                    message: problem.1,
                });
            }
        }
        if let Some(r) = self.readers.get(&name) {
            r.send_replace(PodSeen::Live(pod.clone()));
        }
        self.pods.insert(name, pod);
    }

    fn on_run(&mut self, run: Value, emit: &mut dyn FnMut(FollowEvent)) {
        if let Some(c) = succeeded(&run) {
            let key = (c.reason.clone(), c.message.clone());
            if self.shown_run.as_ref() != Some(&key) {
                self.shown_run = Some(key);
                emit(FollowEvent::Run {
                    reason: c.reason,
                    message: c.message,
                });
            }
        }
        for s in run["status"]["skippedTasks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let task = s["name"].as_str().unwrap_or_default().to_string();
            let reason = s["reason"].as_str().unwrap_or_default().to_string();
            let key = (TaskState::Skipped, reason.clone(), 0);
            if self.shown_tasks.get(&task) != Some(&key) {
                self.shown_tasks.insert(task.clone(), key);
                let finally = pipeline_order(&run).iter().any(|(n, f)| n == &task && *f);
                emit(FollowEvent::Task {
                    task,
                    state: TaskState::Skipped,
                    reason,
                    message: String::new(),
                    attempt: 0,
                    finally,
                });
            }
        }
        self.run = Some(run);
    }

    fn run_finished(&self) -> bool {
        self.run
            .as_ref()
            .and_then(succeeded)
            .is_some_and(|c| c.status != "Unknown")
    }

    fn handle(&mut self, msg: Msg, emit: &mut dyn FnMut(FollowEvent)) -> Result<(), ClusterError> {
        match msg {
            Msg::Apply(Kind::Run, v) => self.on_run(v, emit),
            Msg::Apply(Kind::TaskRun, v) => self.on_taskrun(v, emit),
            Msg::Apply(Kind::Pod, v) => self.on_pod(v, emit),
            Msg::Gone(Kind::Run, _) => {
                return Err(ClusterError::Usage(format!(
                    "PipelineRun {} was deleted while it was being followed",
                    self.name
                )));
            }
            Msg::Gone(Kind::TaskRun, n) => {
                self.taskruns.remove(&n);
            }
            Msg::Gone(Kind::Pod, n) => {
                self.pods.remove(&n);
                if let Some(r) = self.readers.get(&n) {
                    r.send_replace(PodSeen::Gone);
                }
            }
            Msg::Line {
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
            Msg::LogDone(p) => {
                self.active.remove(&p);
            }
            Msg::Note(n) => emit(FollowEvent::Note(n)),
            Msg::Fatal(e) => return Err(e),
        }
        Ok(())
    }

    fn start_watches(&mut self) {
        let sel = format!("tekton.dev/pipelineRun={}", self.name);
        let specs = [
            (
                Kind::Run,
                pr_resource(),
                Some(format!("metadata.name={}", self.name)),
                None,
            ),
            (Kind::TaskRun, tr_resource(), None, Some(sel.clone())),
            (Kind::Pod, pod_resource(), None, Some(sel)),
        ];
        for (kind, ar, fields, labels) in specs {
            let spec = WatchSpec {
                kind,
                ar,
                ns: self.ns.clone(),
                fields,
                labels,
            };
            self.handles.push(tokio::spawn(watch_loop(
                self.target.clone(),
                self.streams.clone(),
                spec,
                self.tx.clone(),
            )));
        }
    }

    /// The authoritative end state: the run and its TaskRuns read again.
    async fn refresh(&mut self, emit: &mut dyn FnMut(FollowEvent)) -> Result<(), ClusterError> {
        let prs: Api<DynamicObject> =
            Api::namespaced_with(self.target.client.clone(), &self.ns, &pr_resource());
        let what = display("PipelineRun", "tekton.dev", &self.name);
        let run = with_retry(self.target, "read", &what, || prs.get(&self.name)).await?;
        self.on_run(to_json(&run), emit);
        let trs: Api<DynamicObject> =
            Api::namespaced_with(self.target.client.clone(), &self.ns, &tr_resource());
        let lp = ListParams::default().labels(&format!("tekton.dev/pipelineRun={}", self.name));
        let list = with_retry(self.target, "list", "taskruns", || trs.list(&lp)).await?;
        for tr in &list.items {
            self.on_taskrun(to_json(tr), emit);
        }
        Ok(())
    }

    fn summary(&self, gave_up: Option<GaveUp>, cancel_requested: bool) -> Summary {
        let run = self.run.clone().unwrap_or(Value::Null);
        let by_task: HashMap<&str, &Value> = self
            .taskruns
            .values()
            .map(|t| (t.task.as_str(), &t.obj))
            .collect();
        let skipped: HashMap<String, String> = run["status"]["skippedTasks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| {
                Some((
                    s["name"].as_str()?.to_string(),
                    s["reason"].as_str().unwrap_or_default().to_string(),
                ))
            })
            .collect();
        let mut order = pipeline_order(&run);
        for t in by_task.keys() {
            if !order.iter().any(|(n, _)| n == t) {
                order.push((t.to_string(), false));
            }
        }
        let tasks = order
            .into_iter()
            .map(|(name, finally)| {
                let pod_problem = self.pod_problems.get(&name).cloned();
                if let Some(tr) = by_task.get(name.as_str()) {
                    let (state, reason, message) = taskrun_state(tr);
                    let st = &tr["status"];
                    let failed_step = st["steps"].as_array().and_then(|steps| {
                        steps.iter().find_map(|s| {
                            let t = s.get("terminated")?;
                            let code = t["exitCode"].as_i64()? as i32;
                            let skipped =
                                s["terminationReason"] == "Skipped" || t["reason"] == "Skipped";
                            (code != 0 && !skipped).then(|| {
                                let n = s["name"]
                                    .as_str()
                                    .or_else(|| s["container"].as_str())
                                    .unwrap_or_default();
                                (n.strip_prefix("step-").unwrap_or(n).to_string(), code)
                            })
                        })
                    });
                    // only a step that failed on its own: not one killed by a cancel or a timeout, nor a
                    // pod that never started
                    let failed_step = failed_step.filter(|_| {
                        state == TaskState::Failed
                            && pod_problem.is_none()
                            && !reason.contains("Image")
                    });
                    TaskSummary {
                        state,
                        reason,
                        message,
                        duration: between(&st["startTime"], &st["completionTime"]),
                        attempts: 1 + st["retriesStatus"].as_array().map_or(0, Vec::len) as u32,
                        failed_step,
                        pod_problem,
                        name,
                        finally,
                    }
                } else {
                    let (state, reason) = match skipped.get(&name) {
                        Some(r) => (TaskState::Skipped, r.clone()),
                        None => (TaskState::NotRun, String::new()),
                    };
                    TaskSummary {
                        name,
                        finally,
                        state,
                        reason,
                        message: String::new(),
                        duration: None,
                        attempts: 0,
                        failed_step: None,
                        pod_problem,
                    }
                }
            })
            .collect();
        let results = run["status"]["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let v = match &r["value"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Some((r["name"].as_str()?.to_string(), v))
            })
            .collect();
        Summary {
            name: self.name.clone(),
            namespace: self.ns.clone(),
            condition: succeeded(&run),
            duration: between(
                &run["status"]["startTime"],
                &run["status"]["completionTime"],
            ),
            tasks,
            results,
            gave_up,
            cancel_requested,
        }
    }

    /// Prints the logs of the TaskRuns that already finished, one after another in pipeline order.
    async fn dump_finished(
        &mut self,
        emit: &mut dyn FnMut(FollowEvent),
    ) -> Result<(), ClusterError> {
        self.spawn_readers = false;
        self.refresh(&mut |_| {}).await?;
        self.spawn_readers = true;
        let order = self.run.as_ref().map(pipeline_order).unwrap_or_default();
        let mut trs: Vec<(usize, String, Value)> = self
            .taskruns
            .values()
            .map(|t| {
                let pos = order
                    .iter()
                    .position(|(n, _)| n == &t.task)
                    .unwrap_or(usize::MAX);
                (pos, t.task.clone(), t.obj.clone())
            })
            .collect();
        trs.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        // Forget what refresh showed: the live loop reports states from here on.
        self.shown_tasks.clear();
        self.shown_run = None;
        for (_, task, tr) in trs {
            if !taskrun_state(&tr).0.is_done() {
                continue;
            }
            for (pod, attempt) in taskrun_pods(&tr) {
                self.followed.insert(pod.clone());
                let (tx, mut rx) = mpsc::unbounded_channel();
                let reader = PodLog {
                    pods: Api::namespaced(self.streams.client.clone(), &self.ns),
                    pods_dyn: Api::namespaced_with(
                        self.target.client.clone(),
                        &self.ns,
                        &pod_resource(),
                    ),
                    pod: pod.clone(),
                    task: task.clone(),
                    attempt,
                    follow: false,
                    tx,
                };
                let (_stx, srx) = watch::channel(PodSeen::NotYet);
                let (_dtx, drx) = watch::channel(true);
                let read = tokio::spawn(reader.run(srx, drx));
                while let Some(m) = rx.recv().await {
                    self.handle(m, emit)?;
                }
                let _ = read.await;
            }
        }
        Ok(())
    }
}

/// Follows PipelineRun `name` in `ns` until it finishes (or `--timeout`, or Ctrl-C when detaching),
/// handing events to `emit` as they happen; returns the final summary.
pub async fn follow(
    target: &Target,
    streams: &Target,
    ns: &str,
    name: &str,
    opts: &FollowOptions,
    interrupt: &Interrupt,
    emit: &mut dyn FnMut(FollowEvent),
) -> Result<Summary, ClusterError> {
    let started = Instant::now();
    let deadline = opts.timeout.map(|t| started + t);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (run_done, _) = watch::channel(false);
    let mut f = Follower::new(target, streams, ns, name, tx, run_done, true);
    let result = follow_inner(&mut f, &mut rx, opts, interrupt, deadline, emit).await;
    for h in &f.handles {
        h.abort();
    }
    result
}

async fn follow_inner(
    f: &mut Follower<'_>,
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    opts: &FollowOptions,
    interrupt: &Interrupt,
    deadline: Option<Instant>,
    emit: &mut dyn FnMut(FollowEvent),
) -> Result<Summary, ClusterError> {
    if opts.attach {
        f.dump_finished(emit).await?;
    }
    f.start_watches();
    let mut cancel_requested = false;
    let mut finished_at: Option<Instant> = None;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let sleep_deadline = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d.into()).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep_deadline);
    let mut gave_up = None;
    loop {
        if finished_at.is_none() && f.run_finished() {
            // Make sure every pod of the final TaskRuns has a reader, then let the readers drain.
            f.refresh(emit).await?;
            f.run_done.send_replace(true);
            finished_at = Some(Instant::now());
        }
        if let Some(at) = finished_at {
            if f.active.is_empty() {
                break;
            }
            if at.elapsed() > LOG_DRAIN {
                emit(FollowEvent::Note(format!(
                    "stopped waiting for the logs of {} pod(s) {LOG_DRAIN:?} after the run finished",
                    f.active.len()
                )));
                break;
            }
        }
        let want_cancel = !cancel_requested
            && matches!(opts.on_interrupt, OnInterrupt::Cancel(_))
            && finished_at.is_none();
        tokio::select! {
            biased;
            _ = interrupt.notify.notified(), if want_cancel || matches!(opts.on_interrupt, OnInterrupt::Detach) => {
                match opts.on_interrupt {
                    OnInterrupt::Detach => {
                        gave_up = Some(GaveUp::Interrupted);
                        break;
                    }
                    OnInterrupt::Cancel(mode) => {
                        cancel_requested = true;
                        emit(FollowEvent::Note(format!(
                            "cancelling PipelineRun {} (spec.status: {}); waiting for Tekton to stop it — Ctrl-C again to leave now",
                            f.name, mode.spec_status()
                        )));
                        let prs: Api<DynamicObject> =
                            Api::namespaced_with(f.target.client.clone(), &f.ns, &pr_resource());
                        let what = display("PipelineRun", "tekton.dev", &f.name);
                        let patch = Patch::Merge(json!({"spec": {"status": mode.spec_status()}}));
                        let pp = PatchParams::default();
                        with_retry(f.target, "cancel", &what, || prs.patch(&f.name, &pp, &patch)).await?;
                    }
                }
            }
            msg = rx.recv() => {
                let Some(msg) = msg else { break };
                f.handle(msg, emit)?;
            }
            _ = &mut sleep_deadline => {
                gave_up = opts.timeout.map(GaveUp::Timeout);
                break;
            }
            _ = ticker.tick(), if opts.ticks => emit(FollowEvent::Tick),
            // while draining, re-check the drain deadline now and then
            _ = tokio::time::sleep(Duration::from_millis(500)), if finished_at.is_some() => {}
        }
    }
    // A message or two may still be queued (lines read just before the end).
    while let Ok(msg) = rx.try_recv() {
        if let Msg::Line { .. } | Msg::Note(_) = msg {
            f.handle(msg, emit)?;
        }
    }
    if gave_up.is_some() && f.run.is_some() {
        // report the state as of now
        let _ = f.refresh(&mut |_| {}).await;
    }
    Ok(f.summary(gave_up, cancel_requested))
}

/// Prints the logs of a run without following: TaskRuns in pipeline order, each one's pods (retries
/// first) and steps in order. Returns the summary of the run as it is now.
pub async fn dump(
    target: &Target,
    streams: &Target,
    ns: &str,
    name: &str,
    emit: &mut dyn FnMut(FollowEvent),
) -> Result<Summary, ClusterError> {
    let (tx, _rx) = mpsc::unbounded_channel();
    let (run_done, _) = watch::channel(true);
    let mut f = Follower::new(target, streams, ns, name, tx, run_done, false);
    // Every TaskRun counts as finished here: print what there is.
    f.refresh(&mut |_| {}).await?;
    let order = f.run.as_ref().map(pipeline_order).unwrap_or_default();
    let mut trs: Vec<(usize, String, Value)> = f
        .taskruns
        .values()
        .map(|t| {
            let pos = order
                .iter()
                .position(|(n, _)| n == &t.task)
                .unwrap_or(usize::MAX);
            (pos, t.task.clone(), t.obj.clone())
        })
        .collect();
    trs.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    for (_, task, tr) in trs {
        for (pod, attempt) in taskrun_pods(&tr) {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let reader = PodLog {
                pods: Api::namespaced(streams.client.clone(), ns),
                pods_dyn: Api::namespaced_with(target.client.clone(), ns, &pod_resource()),
                pod: pod.clone(),
                task: task.clone(),
                attempt,
                follow: false,
                tx,
            };
            let (_stx, srx) = watch::channel(PodSeen::NotYet);
            let (_dtx, drx) = watch::channel(true);
            let read = tokio::spawn(reader.run(srx, drx));
            while let Some(m) = rx.recv().await {
                f.handle(m, emit)?;
            }
            let _ = read.await;
        }
    }
    Ok(f.summary(None, false))
}

/// Reads a PipelineRun (to check it exists, and whether it finished) before following or dumping it.
pub async fn get_run(target: &Target, ns: &str, name: &str) -> Result<Value, ClusterError> {
    let prs: Api<DynamicObject> = Api::namespaced_with(target.client.clone(), ns, &pr_resource());
    let what = display("PipelineRun", "tekton.dev", name);
    match with_retry(target, "read", &what, || prs.get_opt(name)).await? {
        Some(o) => Ok(to_json(&o)),
        None => Err(ClusterError::Usage(format!(
            "PipelineRun {name} not found in namespace {ns} (list the runs there with \
             `kubectl get pipelineruns -n {ns}`, or pass -n NAMESPACE)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taskrun_states() {
        let tr = |status: &str, reason: &str| json!({"status": {"conditions": [{"type": "Succeeded", "status": status, "reason": reason, "message": "m"}]}});
        assert_eq!(taskrun_state(&json!({})).0, TaskState::Pending);
        assert_eq!(
            taskrun_state(&tr("Unknown", "Running")).0,
            TaskState::Running
        );
        assert_eq!(
            taskrun_state(&tr("Unknown", "ToBeRetried")).0,
            TaskState::Retrying
        );
        assert_eq!(
            taskrun_state(&tr("Unknown", "Pending")).0,
            TaskState::Pending
        );
        assert_eq!(
            taskrun_state(&tr("True", "Succeeded")).0,
            TaskState::Succeeded
        );
        assert_eq!(
            taskrun_state(&tr("False", "StepFailed")).0,
            TaskState::Failed
        );
        assert_eq!(
            taskrun_state(&tr("False", "TaskRunCancelled")).0,
            TaskState::Cancelled
        );
        assert_eq!(
            taskrun_state(&tr("False", "TaskRunTimeout")).0,
            TaskState::TimedOut
        );
    }

    #[test]
    fn pod_problems_and_pods_of_retries() {
        let pod = json!({"status": {"containerStatuses": [
            {"name": "step-a", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"x\""}}}]}});
        assert_eq!(
            pod_problem(&pod),
            Some((
                "ImagePullBackOff".into(),
                "container step-a: Back-off pulling image \"x\"".into()
            ))
        );
        let pod = json!({"status": {"conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/1 nodes are available"}]}});
        assert_eq!(pod_problem(&pod).unwrap().0, "Unschedulable");
        assert_eq!(pod_problem(&json!({"status": {}})), None);
        let tr = json!({"status": {"podName": "p-retry2", "retriesStatus": [{"podName": "p"}, {"podName": "p-retry1"}]}});
        assert_eq!(
            taskrun_pods(&tr),
            [
                ("p".to_string(), 0),
                ("p-retry1".to_string(), 1),
                ("p-retry2".to_string(), 2)
            ]
        );
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }
}
