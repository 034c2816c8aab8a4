//! The watch loop: one driver task per PipelineRun.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Client;
use kube::api::{Api, DynamicObject, PostParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::scenario::Scenario;

/// The fake Tekton controller.
///
/// Behaviour (messages and reasons as in tektoncd/pipeline ≈ v1.15):
///
/// * A new PipelineRun without a `Succeeded` condition is adopted (already finished ones, and
///   unfinished ones with a `startTime` that another controller started, are left alone).
///   `spec.status: PipelineRunPending` → `Unknown`/`PipelineRunPending` until the field changes.
/// * The pipeline comes from `spec.pipelineSpec` or `spec.pipelineRef.name` (GET of the Pipeline;
///   missing → `False`/`CouldntGetPipeline`). The run gets label `tekton.dev/pipeline`,
///   `status.startTime`, `status.pipelineSpec` and `Succeeded=Unknown`/`Running` with
///   `Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: N, Skipped: 0`.
/// * DAG tasks start when everything in `runAfter` and every task whose results they reference
///   (`$(tasks.X.results.R)`) is done; `when` expressions (literal or with `$(params…)`,
///   `$(tasks.X.results…)`, `$(context.…)`) skip with `When Expressions evaluated to false`;
///   after a failure pending tasks are skipped with `PipelineRun was stopping`; dependents of a
///   task skipped for another reason than `when` get `Parent Tasks were skipped`; consumers of
///   results of a when-skipped task get `Results were missing`. `finally` tasks start when all DAG
///   tasks are done (`status.finallyStartTime`); they see `$(tasks.X.status)`, `$(tasks.status)`.
/// * Each task gets a TaskRun `<run>-<task>` (labels `tekton.dev/pipelineRun`, `…/pipelineRunUID`,
///   `…/pipelineTask`, `…/memberOf`, `…/pipeline`, `…/task` for taskRefs,
///   `app.kubernetes.io/managed-by: tekton-pipelines`, the run's labels; ownerReference to the run),
///   an entry in `status.childReferences`, then a Pod `<taskrun>-pod` (`-pod-retryN` for retries)
///   with init container `prepare` and containers `step-<name>`, bound to the scenario's node.
/// * Pod: `Pending` (prepare running, steps waiting `PodInitializing`) → `Running` (all steps
///   running, as with Tekton's entrypoint) → each step terminates in turn (`Completed`/`Error`)
///   → `Succeeded`/`Failed`. A failing step makes the later steps terminate with exit code 1
///   (TaskRun step `terminationReason: Skipped`). TaskRun `status.steps` mirror the containers.
/// * TaskRun conditions: `Pending`, `Running` ("Not all Steps in the Task have finished
///   executing"), `True`/`Succeeded` ("All Steps have completed executing"),
///   `False`/`StepFailed` (`"step-x" exited with code 1: Error`), `FailureIgnored` for
///   `onError: continue`, `TaskRunTimeout`, `TaskRunImagePullFailed`, `TaskRunCancelled`;
///   `Unknown`/`ToBeRetried` plus `status.retriesStatus` for retries.
/// * Run end: `True`/`Succeeded` or `Completed` (something skipped), `False`/`Failed`,
///   message `Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1`; `spec.status: Cancelled`
///   cancels running TaskRuns and ends `False`/`Cancelled` `PipelineRun "x" was cancelled`;
///   `CancelledRunFinally`/`StoppedRunFinally` run the finally tasks first
///   (`CancelledRunningFinally`/`StoppedRunningFinally` meanwhile); `spec.timeouts.pipeline`
///   (default 1h) → `False`/`PipelineRunTimeout` `PipelineRun "x" failed to finish within "1s"`;
///   `spec.timeouts.tasks` is honoured too. `status.results` come from the pipeline's results.
///
/// Timing: everything for one run happens in one task on a virtual millisecond timeline (events at
/// the same instant keep their scheduling order), so a scenario always produces the same sequence
/// of API writes and log lines, however slow the API server is; the timeline is paced by real time.
#[derive(Debug)]
pub struct Controller;

impl Controller {
    /// Starts the controller on the current tokio runtime, watching PipelineRuns in `namespace`.
    /// Stop it by dropping the handle.
    pub fn start(client: Client, namespace: &str, scenario: Scenario) -> ControllerHandle {
        let (ready_tx, ready_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            errors: Mutex::new(Vec::new()),
            ready: ready_tx,
        });
        let ctx = Arc::new(Ctx::new(client, namespace, scenario, shared.clone()));
        let task = tokio::spawn(run_controller(ctx));
        ControllerHandle {
            task,
            shared,
            ready: ready_rx,
            namespace: namespace.to_string(),
        }
    }
}

/// A running controller. Dropping it stops the controller and every run it drives.
pub struct ControllerHandle {
    task: JoinHandle<()>,
    shared: Arc<Shared>,
    ready: watch::Receiver<bool>,
    namespace: String,
}

impl std::fmt::Debug for ControllerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControllerHandle")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl ControllerHandle {
    /// Resolves once the controller has listed the existing PipelineRuns (and made sure the
    /// `default` ServiceAccount exists). Runs created before that are picked up too; waiting is
    /// only needed to make a test's timing independent of controller start-up.
    pub async fn ready(&self) {
        let mut rx = self.ready.clone();
        let _ = rx.wait_for(|r| *r).await;
    }

    /// Problems the controller met (failed API calls, invalid specs), in order. A healthy test
    /// expects this to be empty.
    pub fn errors(&self) -> Vec<String> {
        self.shared
            .errors
            .lock()
            .map(|e| e.clone())
            .unwrap_or_default()
    }

    /// The watched namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Stops the controller (same as dropping the handle).
    pub fn stop(self) {}
}

impl Drop for ControllerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) struct Shared {
    errors: Mutex<Vec<String>>,
    ready: watch::Sender<bool>,
}

/// Everything a run driver needs.
pub(crate) struct Ctx {
    pub client: Client,
    pub ns: String,
    pub scenario: Scenario,
    pub prs: Api<DynamicObject>,
    pub trs: Api<DynamicObject>,
    pub pipelines: Api<DynamicObject>,
    pub tasks: Api<DynamicObject>,
    pub pods: Api<DynamicObject>,
    shared: Arc<Shared>,
}

impl Ctx {
    fn new(client: Client, ns: &str, scenario: Scenario, shared: Arc<Shared>) -> Ctx {
        let api = |ar: kube::core::ApiResource| {
            Api::<DynamicObject>::namespaced_with(client.clone(), ns, &ar)
        };
        Ctx {
            prs: api(crate::pipelinerun_resource()),
            trs: api(crate::taskrun_resource()),
            pipelines: api(crate::pipeline_resource()),
            tasks: api(crate::task_resource()),
            pods: api(crate::pod_resource()),
            client,
            ns: ns.to_string(),
            scenario,
            shared,
        }
    }

    /// Records a problem (also printed to stderr, which the test harness captures).
    pub fn error(&self, msg: String) {
        eprintln!("faketekton: {msg}");
        if let Ok(mut e) = self.shared.errors.lock() {
            e.push(msg);
        }
    }
}

struct RunEntry {
    uid: String,
    tx: watch::Sender<DynamicObject>,
}

async fn ensure_service_account(ctx: &Ctx) {
    let sas: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), &ctx.ns);
    match sas.get_opt("default").await {
        Ok(Some(_)) => {}
        Ok(None) => {
            let sa: Result<ServiceAccount, _> = serde_json::from_value(
                json!({"metadata": {"name": "default", "namespace": ctx.ns}}),
            );
            if let Ok(sa) = sa {
                match sas.create(&PostParams::default(), &sa).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.is_already_exists() => {}
                    Err(e) => eprintln!("faketekton: creating ServiceAccount default: {e}"),
                }
            }
        }
        // A fake API server without ServiceAccounts doesn't need one.
        Err(e) => eprintln!("faketekton: reading ServiceAccount default: {e}"),
    }
}

fn is_finished(obj: &DynamicObject) -> bool {
    crate::run::succeeded_condition(&obj.data)
        .is_some_and(|c| c.get("status").and_then(Value::as_str) != Some("Unknown"))
}

async fn run_controller(ctx: Arc<Ctx>) {
    if ctx.scenario.ensure_service_account {
        ensure_service_account(&ctx).await;
    }
    let mut runs: HashMap<String, RunEntry> = HashMap::new();
    let mut drivers = JoinSet::new();
    let mut stream = watcher::watcher(ctx.prs.clone(), watcher::Config::default())
        .default_backoff()
        .boxed();
    loop {
        tokio::select! {
            event = stream.next() => {
                let Some(event) = event else { break };
                match event {
                    Ok(Event::Init) => {}
                    Ok(Event::InitApply(obj)) => dispatch(&ctx, &mut runs, &mut drivers, obj, true),
                    Ok(Event::InitDone) => {
                        ctx.shared.ready.send_replace(true);
                    }
                    Ok(Event::Apply(obj)) => dispatch(&ctx, &mut runs, &mut drivers, obj, false),
                    Ok(Event::Delete(obj)) => {
                        let name = obj.metadata.name.clone().unwrap_or_default();
                        if runs.get(&name).is_some_and(|r| Some(&r.uid) == obj.metadata.uid.as_ref()) {
                            // Dropping the sender ends the driver.
                            runs.remove(&name);
                        }
                    }
                    Err(e) => ctx.error(format!("watching PipelineRuns: {e}")),
                }
            }
            Some(_) = drivers.join_next(), if !drivers.is_empty() => {}
        }
    }
}

fn dispatch(
    ctx: &Arc<Ctx>,
    runs: &mut HashMap<String, RunEntry>,
    drivers: &mut JoinSet<()>,
    obj: DynamicObject,
    initial: bool,
) {
    let (Some(name), Some(uid)) = (obj.metadata.name.clone(), obj.metadata.uid.clone()) else {
        return;
    };
    if let Some(entry) = runs.get(&name)
        && entry.uid == uid
    {
        entry.tx.send_replace(obj);
        return;
    }
    if is_finished(&obj) {
        return;
    }
    let started_elsewhere = obj
        .data
        .get("status")
        .and_then(|s| s.get("startTime"))
        .is_some();
    if initial && started_elsewhere {
        return;
    }
    let (tx, rx) = watch::channel(obj);
    runs.insert(name, RunEntry { uid, tx });
    drivers.spawn(crate::run::drive(ctx.clone(), rx));
}
