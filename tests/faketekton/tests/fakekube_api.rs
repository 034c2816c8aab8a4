//! The fake controller against the in-repo fake API server (`fakekube`), in process: always runs.

use std::sync::Arc;
use std::time::Duration;

use fakekube::FakeApi;
use faketekton::testenv;
use faketekton::{
    Controller, ControllerHandle, FanOutLogSink, FnLogSink, LogEvent, LogSink, RecordingLogSink,
    Scenario, StepScript, TaskScript,
};
use futures::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, DynamicObject, LogParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const NS: &str = "ft";
const WAIT: Duration = Duration::from_secs(20);

struct Env {
    fake: FakeApi,
    client: Client,
    recorder: Arc<RecordingLogSink>,
}

impl Env {
    fn new() -> Env {
        let fake = FakeApi::new();
        fake.create_namespace(NS);
        let client = Client::new(fake.service(), NS);
        Env {
            fake,
            client,
            recorder: Arc::new(RecordingLogSink::new()),
        }
    }

    /// The log adapter a `tekscript run` test would use, plus a recorder.
    fn sink(&self) -> Arc<dyn LogSink> {
        let (push, end) = (self.fake.clone(), self.fake.clone());
        let adapter = FnLogSink::new(
            move |ns, pod, c, line| push.push_log(ns, pod, c, line),
            move |ns, pod, c| end.end_log(ns, pod, c),
        );
        Arc::new(FanOutLogSink(vec![
            Arc::new(adapter),
            self.recorder.clone(),
        ]))
    }

    async fn controller(&self, scenario: Scenario) -> ControllerHandle {
        let handle = Controller::start(self.client.clone(), NS, scenario.log_sink(self.sink()));
        tokio::time::timeout(WAIT, handle.ready()).await.unwrap();
        handle
    }

    fn prs(&self) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), NS, &faketekton::pipelinerun_resource())
    }

    fn trs(&self) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), NS, &faketekton::taskrun_resource())
    }

    async fn create_run(&self, spec: Value) -> String {
        let body: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "tekton.dev/v1",
            "kind": "PipelineRun",
            "metadata": {"generateName": "run-"},
            "spec": spec,
        }))
        .unwrap();
        self.prs()
            .create(&PostParams::default(), &body)
            .await
            .unwrap()
            .metadata
            .name
            .unwrap()
    }

    async fn finished(&self, name: &str) -> DynamicObject {
        testenv::wait_for_pipelinerun(&self.client, NS, name, WAIT)
            .await
            .unwrap()
    }
}

fn condition(obj: &DynamicObject) -> (String, String, String) {
    testenv::succeeded(obj).expect("a Succeeded condition")
}

fn diamond() -> Value {
    json!({"pipelineSpec": {
        "tasks": [
            {"name": "a", "taskSpec": {"steps": [{"name": "s", "image": "x"}]}},
            {"name": "b", "taskSpec": {"steps": [{"name": "s", "image": "x"}]}},
            {"name": "c", "runAfter": ["a", "b"], "taskSpec": {"steps": [{"name": "s", "image": "x"}]}}
        ],
        "finally": [{"name": "f", "taskSpec": {"steps": [{"name": "s", "image": "x"}]}}]
    }})
}

fn diamond_scenario() -> Scenario {
    Scenario::new()
        .task(
            "a",
            TaskScript::new().step(
                StepScript::new("s")
                    .lines(["a1", "a2", "a3"])
                    .duration_ms(90),
            ),
        )
        .task(
            "b",
            TaskScript::new().step(StepScript::new("s").lines(["b1", "b2"]).duration_ms(40)),
        )
        .task(
            "c",
            TaskScript::new().step(StepScript::new("s").line("c1").exit_code(3)),
        )
}

#[tokio::test]
async fn diamond_with_failure_and_logs() {
    let env = Env::new();
    let ctl = env.controller(diamond_scenario()).await;
    let name = env.create_run(diamond()).await;
    let pr = env.finished(&name).await;
    assert_eq!(
        condition(&pr),
        (
            "False".into(),
            "Failed".into(),
            "Tasks Completed: 4 (Failed: 1, Cancelled 0), Skipped: 0".into()
        )
    );
    let order: Vec<&str> = pr.data["status"]["childReferences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pipelineTaskName"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["a", "b", "c", "f"]);
    let c = env.trs().get(&format!("{name}-c")).await.unwrap();
    assert_eq!(
        condition(&c),
        (
            "False".into(),
            "StepFailed".into(),
            "\"step-s\" exited with code 3: Error".into()
        )
    );
    // fakekube serves the lines the controller pushed.
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), NS);
    let params = LogParams {
        container: Some("step-s".into()),
        follow: true,
        ..LogParams::default()
    };
    let lines: Vec<String> = pods
        .log_stream(&format!("{name}-a-pod"), &params)
        .await
        .unwrap()
        .lines()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(lines, ["a1", "a2", "a3"]);
    // Typed pods deserialize and carry the Tekton shape.
    let pod = pods.get(&format!("{name}-c-pod")).await.unwrap();
    let st = pod.status.unwrap();
    assert_eq!(st.phase.as_deref(), Some("Failed"));
    let term = st.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!((term.exit_code, term.reason.as_deref()), (3, Some("Error")));
    assert_eq!(ctl.errors(), Vec::<String>::new());
}

/// Only the lines of the recorded log events, in order.
fn line_events(events: &[LogEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            LogEvent::Line(pod, c, l) => Some(format!("{pod}/{c}: {l}")),
            LogEvent::End(pod, c) => Some(format!("{pod}/{c}: <end>")),
            _ => None,
        })
        .collect()
}

/// Replaces RFC 3339 timestamps (wall clock) so runs can be compared.
fn normalise(v: &mut Value) {
    match v {
        Value::String(s)
            if s.len() == 20 && s.ends_with('Z') && s.as_bytes().get(10) == Some(&b'T') =>
        {
            *s = "<time>".into();
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        Value::Object(m) => m.values_mut().for_each(normalise),
        _ => {}
    }
}

async fn write_trace() -> (Vec<String>, Vec<String>) {
    let env = Env::new();
    let ctl = env.controller(diamond_scenario()).await;
    let name = env.create_run(diamond()).await;
    env.finished(&name).await;
    drop(ctl);
    let writes = env
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| {
            let mut body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
            normalise(&mut body);
            format!("{} {}?{} {}", r.method, r.path, r.query, body)
        })
        .collect();
    (writes, line_events(&env.recorder.events()))
}

#[tokio::test]
async fn same_scenario_same_writes_and_log_order() {
    let (writes1, logs1) = write_trace().await;
    let (writes2, logs2) = write_trace().await;
    assert!(writes1.len() > 20, "{writes1:#?}");
    assert_eq!(writes1, writes2);
    assert_eq!(logs1, logs2);
    // Parallel tasks interleave by their scripted timing: b (40 ms) ends before a (90 ms).
    let pos = |needle: &str| logs1.iter().position(|l| l.ends_with(needle)).unwrap();
    assert!(pos("step-s: b2") < pos("step-s: a3"), "{logs1:#?}");
    assert!(pos("step-s: a3") < pos("step-s: c1"), "{logs1:#?}");
}

#[tokio::test]
async fn cancel_in_fake_api() {
    let env = Env::new();
    let scenario = Scenario::new().task("a", TaskScript::new().step(StepScript::new("s").hang()));
    let ctl = env.controller(scenario).await;
    let name = env.create_run(diamond()).await;
    testenv::wait_for(&env.trs(), &format!("{name}-a"), WAIT, |o| {
        testenv::succeeded(o).is_some_and(|(_, r, _)| r == "Running")
    })
    .await
    .unwrap();
    env.prs()
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"status": "Cancelled"}})),
        )
        .await
        .unwrap();
    let pr = env.finished(&name).await;
    assert_eq!(
        condition(&pr),
        (
            "False".into(),
            "Cancelled".into(),
            format!("PipelineRun \"{name}\" was cancelled")
        )
    );
    let a = env.trs().get(&format!("{name}-a")).await.unwrap();
    assert_eq!(condition(&a).1, "TaskRunCancelled");
    assert!(
        env.recorder
            .events()
            .contains(&LogEvent::End(format!("{name}-a-pod"), "step-s".into()))
    );
    assert_eq!(ctl.errors(), Vec::<String>::new());
}

#[tokio::test]
async fn pending_unschedulable_timeout_and_on_error_continue() {
    let env = Env::new();
    let scenario = Scenario::new()
        .task(
            "stuck",
            TaskScript::new().pod_problem(faketekton::PodProblem::Unschedulable),
        )
        .task(
            "flaky",
            TaskScript::new().step(StepScript::new("s").exit_code(1)),
        );
    let ctl = env.controller(scenario).await;
    // onError: continue → FailureIgnored, the run still succeeds.
    let ignored = env
        .create_run(json!({"pipelineSpec": {"tasks": [
            {"name": "flaky", "onError": "continue", "taskSpec": {"steps": [{"name": "s", "image": "x"}]}},
            {"name": "next", "runAfter": ["flaky"], "taskSpec": {"steps": [{"name": "s", "image": "x"}]}}
        ]}}))
        .await;
    let pr = env.finished(&ignored).await;
    assert_eq!(
        condition(&pr),
        (
            "True".into(),
            "Succeeded".into(),
            "Tasks Completed: 2 (Failed: 1 (Ignored: 1), Cancelled 0), Skipped: 0".into()
        )
    );
    let flaky = env.trs().get(&format!("{ignored}-flaky")).await.unwrap();
    assert_eq!(condition(&flaky).1, "FailureIgnored");

    // Pending until spec.status is cleared, then an unschedulable pod until the pipeline timeout.
    let body: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"name": "held"},
        "spec": {"status": "PipelineRunPending", "timeouts": {"pipeline": "400ms"},
                 "pipelineSpec": {"tasks": [{"name": "stuck", "taskSpec": {"steps": [{"name": "s", "image": "x"}]}}]}}
    }))
    .unwrap();
    env.prs()
        .create(&PostParams::default(), &body)
        .await
        .unwrap();
    let held = testenv::wait_for(&env.prs(), "held", WAIT, |o| {
        testenv::succeeded(o).is_some()
    })
    .await
    .unwrap();
    assert_eq!(
        condition(&held),
        (
            "Unknown".into(),
            "PipelineRunPending".into(),
            "PipelineRun \"held\" is pending".into()
        )
    );
    assert!(held.data["status"]["startTime"].is_null());
    env.prs()
        .patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"status": null}})),
        )
        .await
        .unwrap();
    testenv::wait_for(&env.trs(), "held-stuck", WAIT, |o| {
        testenv::succeeded(o).is_some_and(|(_, r, _)| r == "ExceededNodeResources")
    })
    .await
    .unwrap();
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), NS);
    let pod = pods.get("held-stuck-pod").await.unwrap();
    assert_eq!(pod.spec.unwrap().node_name, None);
    assert_eq!(
        pod.status.unwrap().conditions.unwrap()[0].reason.as_deref(),
        Some("Unschedulable")
    );
    let pr = env.finished("held").await;
    assert_eq!(
        condition(&pr),
        (
            "False".into(),
            "PipelineRunTimeout".into(),
            "PipelineRun \"held\" failed to finish within \"400ms\"".into()
        )
    );
    assert_eq!(ctl.errors(), Vec::<String>::new());
}
