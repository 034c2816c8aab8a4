//! The fake controller and kubelet against a real kube-apiserver (skipped unless
//! `TEKSCRIPT_TEST_KUBECONFIG` names its kubeconfig). Each test uses a fresh namespace.

use std::time::Duration;

use faketekton::testenv::{self, RealCluster};
use faketekton::{
    Controller, ControllerHandle, FakeKubelet, PodProblem, Scenario, StepScript, TaskScript,
};
use futures::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DynamicObject, ListParams, LogParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

struct Env {
    cluster: RealCluster,
    ns: String,
    kubelet: FakeKubelet,
}

impl Env {
    async fn new(test: &str) -> Option<Env> {
        let cluster = testenv::real_cluster(test).await.unwrap()?;
        let ns = cluster.fresh_namespace("faketekton-").await.unwrap();
        let kubelet = FakeKubelet::start(cluster.client.clone()).await.unwrap();
        Some(Env {
            cluster,
            ns,
            kubelet,
        })
    }

    async fn controller(&self, scenario: Scenario) -> ControllerHandle {
        let handle = Controller::start(
            self.cluster.client.clone(),
            &self.ns,
            scenario.kubelet(&self.kubelet),
        );
        tokio::time::timeout(WAIT, handle.ready()).await.unwrap();
        handle
    }

    fn api(&self, ar: kube::core::ApiResource) -> Api<DynamicObject> {
        Api::namespaced_with(self.cluster.client.clone(), &self.ns, &ar)
    }

    fn prs(&self) -> Api<DynamicObject> {
        self.api(faketekton::pipelinerun_resource())
    }

    fn trs(&self) -> Api<DynamicObject> {
        self.api(faketekton::taskrun_resource())
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.cluster.client.clone(), &self.ns)
    }

    /// Creates a PipelineRun with `generateName: run-` and the given spec; returns its name.
    async fn create_run(&self, spec: Value) -> String {
        let body: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "tekton.dev/v1",
            "kind": "PipelineRun",
            "metadata": {"generateName": "run-", "labels": {"app": "demo"}},
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
        testenv::wait_for_pipelinerun(&self.cluster.client, &self.ns, name, WAIT)
            .await
            .unwrap()
    }

    async fn taskrun(&self, name: &str) -> DynamicObject {
        self.trs().get(name).await.unwrap()
    }

    async fn wait_taskrun(
        &self,
        name: &str,
        cond: impl Fn(&DynamicObject) -> bool,
    ) -> DynamicObject {
        testenv::wait_for(&self.trs(), name, WAIT, cond)
            .await
            .unwrap()
    }

    async fn kubectl_logs(
        &self,
        pod: &str,
        container: &str,
        follow: bool,
    ) -> (bool, String, String) {
        let mut cmd = self.cluster.kubectl();
        cmd.args(["-n", &self.ns, "logs", pod, "-c", container]);
        if follow {
            cmd.arg("-f");
        }
        let cmd = tokio::process::Command::from(cmd).output();
        let out = tokio::time::timeout(WAIT, cmd).await.unwrap().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    async fn done(self, handle: ControllerHandle) {
        assert_eq!(handle.errors(), Vec::<String>::new());
        drop(handle);
        self.kubelet.shutdown().await.unwrap();
    }
}

fn condition(obj: &DynamicObject) -> (String, String, String) {
    testenv::succeeded(obj).expect("a Succeeded condition")
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn label<'a>(obj: &'a DynamicObject, key: &str) -> &'a str {
    obj.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(key))
        .map(String::as_str)
        .unwrap_or_default()
}

fn three_task_spec() -> Value {
    json!({
        "pipelineSpec": {
            "params": [{"name": "greeting", "type": "string", "default": "hello"}],
            "tasks": [
                {"name": "a", "taskSpec": {"steps": [{"name": "build", "image": "golang:1.22"}, {"name": "test", "image": "golang:1.22"}]}},
                {"name": "b", "runAfter": ["a"], "params": [{"name": "msg", "value": "$(params.greeting) from $(context.pipelineRun.name)"}],
                 "taskSpec": {"params": [{"name": "msg"}], "steps": [{"name": "deploy", "image": "alpine"}]}}
            ],
            "finally": [{"name": "f", "taskSpec": {"steps": [{"name": "notify", "image": "curl"}]}}]
        }
    })
}

#[tokio::test]
async fn success_pipeline_with_finally() {
    let Some(env) = Env::new("success_pipeline_with_finally").await else {
        return;
    };
    let scenario = Scenario::new()
        .task(
            "a",
            TaskScript::new()
                .step(
                    StepScript::new("build")
                        .lines(["compiling", "linking"])
                        .duration_ms(60),
                )
                .step(StepScript::new("test").line("ok 3 tests")),
        )
        .task(
            "b",
            TaskScript::new().step(StepScript::new("deploy").line("deployed")),
        );
    let ctl = env.controller(scenario).await;
    let name = env.create_run(three_task_spec()).await;
    let pr = env.finished(&name).await;

    assert_eq!(
        condition(&pr),
        (
            "True".into(),
            "Succeeded".into(),
            "Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 0".into()
        )
    );
    assert_eq!(label(&pr, "tekton.dev/pipeline"), "run");
    let status = &pr.data["status"];
    assert!(status["startTime"].is_string() && status["completionTime"].is_string());
    assert!(status["finallyStartTime"].is_string());
    let children: Vec<(&str, &str, &str)> = status["childReferences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (s(&c["kind"]), s(&c["name"]), s(&c["pipelineTaskName"])))
        .collect();
    let tr = |t: &str| format!("{name}-{t}");
    assert_eq!(
        children,
        vec![
            ("TaskRun", tr("a").as_str(), "a"),
            ("TaskRun", tr("b").as_str(), "b"),
            ("TaskRun", tr("f").as_str(), "f")
        ]
    );

    // TaskRuns: labels, owner, params substituted, status.
    let b = env.taskrun(&tr("b")).await;
    assert_eq!(label(&b, "tekton.dev/pipelineRun"), name);
    assert_eq!(label(&b, "tekton.dev/pipelineTask"), "b");
    assert_eq!(label(&b, "tekton.dev/pipeline"), "run");
    assert_eq!(label(&b, "tekton.dev/memberOf"), "tasks");
    assert_eq!(
        label(&b, "app.kubernetes.io/managed-by"),
        "tekton-pipelines"
    );
    assert_eq!(label(&b, "app"), "demo");
    assert_eq!(
        b.metadata.owner_references.as_ref().unwrap()[0].uid,
        pr.metadata.uid.clone().unwrap()
    );
    assert_eq!(
        b.data["spec"]["params"][0]["value"],
        json!(format!("hello from {name}"))
    );
    assert_eq!(
        condition(&b),
        (
            "True".into(),
            "Succeeded".into(),
            "All Steps have completed executing".into()
        )
    );
    let f = env.taskrun(&tr("f")).await;
    assert_eq!(label(&f, "tekton.dev/memberOf"), "finally");

    // Pod of a: typed read works, containers and states are Tekton-shaped.
    let a = env.taskrun(&tr("a")).await;
    let pod_name = s(&a.data["status"]["podName"]).to_string();
    assert_eq!(pod_name, format!("{}-pod", tr("a")));
    let pod = env.pods().get(&pod_name).await.unwrap();
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.node_name.as_deref(), Some(env.kubelet.node_name()));
    assert_eq!(spec.init_containers.as_ref().unwrap()[0].name, "prepare");
    let containers: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(containers, ["step-build", "step-test"]);
    assert_eq!(
        pod.metadata.labels.as_ref().unwrap()["tekton.dev/taskRun"],
        tr("a")
    );
    let pstatus = pod.status.as_ref().unwrap();
    assert_eq!(pstatus.phase.as_deref(), Some("Succeeded"));
    let exits: Vec<i32> = pstatus
        .container_statuses
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| {
            c.state
                .as_ref()
                .unwrap()
                .terminated
                .as_ref()
                .unwrap()
                .exit_code
        })
        .collect();
    assert_eq!(exits, [0, 0]);
    let steps: Vec<(&str, &str, i64)> = a.data["status"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            (
                s(&st["name"]),
                s(&st["container"]),
                st["terminated"]["exitCode"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [("build", "step-build", 0), ("test", "step-test", 0)]
    );

    // Logs through the apiserver → fake kubelet.
    let (ok, out, err) = env.kubectl_logs(&pod_name, "step-build", false).await;
    assert!(ok, "kubectl logs failed: {err}");
    assert_eq!(out, "compiling\nlinking\n");
    let mut lines = env
        .pods()
        .log_stream(
            &pod_name,
            &LogParams {
                container: Some("step-test".into()),
                follow: true,
                ..LogParams::default()
            },
        )
        .await
        .unwrap()
        .lines();
    let mut got = Vec::new();
    while let Some(line) = lines.try_next().await.unwrap() {
        got.push(line);
    }
    assert_eq!(got, ["ok 3 tests"]);
    // A task without a script ran its spec's step.
    let fpod = format!("{}-pod", tr("f"));
    let (ok, out, _) = env.kubectl_logs(&fpod, "step-notify", false).await;
    assert!(ok);
    assert_eq!(out, "");
    env.done(ctl).await;
}

#[tokio::test]
async fn logs_follow_while_running_and_waiting_error_before() {
    let Some(env) = Env::new("logs_follow_while_running_and_waiting_error_before").await else {
        return;
    };
    // The pod stays Pending (prepare running) for a while, then step "slow" prints lines 150 ms apart.
    let scenario = Scenario::new().pod_start_ms(1200).task(
        "a",
        TaskScript::new().step(
            StepScript::new("slow")
                .lines(["one", "two", "three"])
                .duration_ms(600),
        ),
    );
    let ctl = env.controller(scenario).await;
    let name = env
        .create_run(json!({"pipelineSpec": {"tasks": [{"name": "a", "taskSpec": {"steps": [{"name": "slow", "image": "alpine"}]}}]}}))
        .await;
    let tr = format!("{name}-a");
    // Pending: the kubelet refuses with the real wording.
    let a = env
        .wait_taskrun(&tr, |o| {
            o.data["status"]["podName"].is_string() && !s(&o.data["status"]["podName"]).is_empty()
        })
        .await;
    let pod = s(&a.data["status"]["podName"]).to_string();
    let params = LogParams {
        container: Some("step-slow".into()),
        ..LogParams::default()
    };
    let err = match env.pods().logs(&pod, &params).await {
        Err(kube::Error::Api(status)) => status,
        other => panic!("expected the kubelet's 400, got {other:?}"),
    };
    assert_eq!((err.code, err.reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        err.message,
        format!("container \"step-slow\" in pod \"{pod}\" is waiting to start: PodInitializing")
    );
    // Follow from the moment the step runs until it terminates.
    env.wait_taskrun(&tr, |o| {
        testenv::succeeded(o).is_some_and(|(_, r, _)| r == "Running")
    })
    .await;
    let (ok, out, err) = env.kubectl_logs(&pod, "step-slow", true).await;
    assert!(ok, "{err}");
    assert_eq!(out, "one\ntwo\nthree\n");
    let pr = env.finished(&name).await;
    assert_eq!(condition(&pr).1, "Succeeded");
    env.done(ctl).await;
}

#[tokio::test]
async fn failure_in_a_middle_step() {
    let Some(env) = Env::new("failure_in_a_middle_step").await else {
        return;
    };
    let scenario = Scenario::new().task(
        "a",
        TaskScript::new()
            .step(StepScript::new("s1").line("fine"))
            .step(
                StepScript::new("s2")
                    .lines(["boom", "error: it broke"])
                    .exit_code(2),
            )
            .step(StepScript::new("s3").line("never printed")),
    );
    let ctl = env.controller(scenario).await;
    let name = env
        .create_run(json!({"pipelineSpec": {
            "tasks": [
                {"name": "a", "taskSpec": {"steps": [{"name": "s1", "image": "x"}, {"name": "s2", "image": "x"}, {"name": "s3", "image": "x"}]}},
                {"name": "b", "runAfter": ["a"], "when": [{"input": "x", "operator": "in", "values": ["x"]}], "taskSpec": {"steps": [{"name": "s", "image": "x"}]}}
            ],
            "finally": [{"name": "f", "params": [{"name": "st", "value": "$(tasks.a.status)/$(tasks.status)"}], "taskSpec": {"steps": [{"name": "report", "image": "x"}]}}]
        }}))
        .await;
    let pr = env.finished(&name).await;
    assert_eq!(
        condition(&pr),
        (
            "False".into(),
            "Failed".into(),
            "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1".into()
        )
    );
    assert_eq!(
        pr.data["status"]["skippedTasks"],
        json!([{"name": "b", "reason": "PipelineRun was stopping", "whenExpressions": [{"input": "x", "operator": "in", "values": ["x"]}]}])
    );
    let a = env.taskrun(&format!("{name}-a")).await;
    assert_eq!(
        condition(&a),
        (
            "False".into(),
            "StepFailed".into(),
            "\"step-s2\" exited with code 2: Error".into()
        )
    );
    let steps: Vec<(i64, &str)> = a.data["status"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            (
                st["terminated"]["exitCode"].as_i64().unwrap(),
                s(&st["terminationReason"]),
            )
        })
        .collect();
    assert_eq!(steps, [(0, "Completed"), (2, "Error"), (1, "Skipped")]);
    let pod = env.pods().get(&format!("{name}-a-pod")).await.unwrap();
    assert_eq!(pod.status.unwrap().phase.as_deref(), Some("Failed"));
    assert!(
        env.trs()
            .get_opt(&format!("{name}-b"))
            .await
            .unwrap()
            .is_none()
    );
    let f = env.taskrun(&format!("{name}-f")).await;
    assert_eq!(f.data["spec"]["params"][0]["value"], json!("Failed/Failed"));
    let (ok, out, _) = env
        .kubectl_logs(&format!("{name}-a-pod"), "step-s2", false)
        .await;
    assert!(ok);
    assert_eq!(out, "boom\nerror: it broke\n");
    let (_, out, _) = env
        .kubectl_logs(&format!("{name}-a-pod"), "step-s3", false)
        .await;
    assert_eq!(out, "");
    env.done(ctl).await;
}

#[tokio::test]
async fn cancel_stops_running_taskruns() {
    let Some(env) = Env::new("cancel_stops_running_taskruns").await else {
        return;
    };
    let scenario = Scenario::new().task(
        "a",
        TaskScript::new().step(StepScript::new("wait").line("waiting for ever").hang()),
    );
    let ctl = env.controller(scenario).await;
    let name = env
        .create_run(json!({"pipelineSpec": {
            "tasks": [
                {"name": "a", "taskSpec": {"steps": [{"name": "wait", "image": "x"}]}},
                {"name": "b", "runAfter": ["a"], "taskSpec": {"steps": [{"name": "s", "image": "x"}]}}
            ]
        }}))
        .await;
    let tr = format!("{name}-a");
    env.wait_taskrun(&tr, |o| {
        testenv::succeeded(o).is_some_and(|(_, r, _)| r == "Running")
    })
    .await;
    let pod = format!("{tr}-pod");
    // A follower attached to the running step (it has read the first line) ends when the run is
    // cancelled.
    let params = LogParams {
        container: Some("step-wait".into()),
        follow: true,
        ..LogParams::default()
    };
    let mut follower = env.pods().log_stream(&pod, &params).await.unwrap().lines();
    let first = tokio::time::timeout(WAIT, follower.try_next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.as_deref(), Some("waiting for ever"));
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
    let a = env.taskrun(&tr).await;
    assert_eq!(
        condition(&a),
        (
            "False".into(),
            "TaskRunCancelled".into(),
            format!(
                "TaskRun \"{tr}\" was cancelled. TaskRun cancelled as the PipelineRun it belongs to has been cancelled."
            )
        )
    );
    assert_eq!(a.data["spec"]["status"], json!("TaskRunCancelled"));
    assert_eq!(
        a.data["status"]["steps"][0]["terminated"]["reason"],
        json!("TaskRunCancelled")
    );
    assert!(
        env.pods().get_opt(&pod).await.unwrap().is_none(),
        "the pod is deleted"
    );
    let rest: Vec<String> = tokio::time::timeout(WAIT, follower.try_collect())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        rest,
        Vec::<String>::new(),
        "the stream ends without more lines"
    );
    assert!(
        env.trs()
            .get_opt(&format!("{name}-b"))
            .await
            .unwrap()
            .is_none()
    );
    env.done(ctl).await;
}

#[tokio::test]
async fn retries_then_success() {
    let Some(env) = Env::new("retries_then_success").await else {
        return;
    };
    let scenario = Scenario::new().task(
        "flaky",
        TaskScript::new()
            .step(StepScript::new("try").line("trying"))
            .fail_times(2),
    );
    let ctl = env.controller(scenario).await;
    let name = env
        .create_run(json!({"pipelineSpec": {"tasks": [
            {"name": "flaky", "retries": 2, "taskSpec": {"steps": [{"name": "try", "image": "x"}]}}
        ]}}))
        .await;
    let pr = env.finished(&name).await;
    assert_eq!(condition(&pr).1, "Succeeded");
    let tr = format!("{name}-flaky");
    let t = env.taskrun(&tr).await;
    assert_eq!(t.data["spec"]["retries"], json!(2));
    assert_eq!(
        t.data["status"]["podName"],
        json!(format!("{tr}-pod-retry2"))
    );
    let retries = t.data["status"]["retriesStatus"].as_array().unwrap();
    let summary: Vec<(&str, &str, &str)> = retries
        .iter()
        .map(|r| {
            (
                s(&r["podName"]),
                s(&r["conditions"][0]["status"]),
                s(&r["conditions"][0]["reason"]),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (format!("{tr}-pod").as_str(), "False", "StepFailed"),
            (format!("{tr}-pod-retry1").as_str(), "False", "StepFailed")
        ]
    );
    let pods = env
        .pods()
        .list(&ListParams::default().labels(&format!("tekton.dev/taskRun={tr}")))
        .await
        .unwrap();
    let mut phases: Vec<(String, String)> = pods
        .items
        .iter()
        .map(|p| {
            (
                p.metadata.name.clone().unwrap(),
                p.status.as_ref().unwrap().phase.clone().unwrap(),
            )
        })
        .collect();
    phases.sort();
    assert_eq!(
        phases,
        [
            (format!("{tr}-pod"), "Failed".to_string()),
            (format!("{tr}-pod-retry1"), "Failed".to_string()),
            (format!("{tr}-pod-retry2"), "Succeeded".to_string())
        ]
    );
    let (_, out, _) = env
        .kubectl_logs(&format!("{tr}-pod-retry1"), "step-try", false)
        .await;
    assert_eq!(out, "trying\n");
    env.done(ctl).await;
}

#[tokio::test]
async fn pipeline_ref_results_when_and_completed() {
    let Some(env) = Env::new("pipeline_ref_results_when_and_completed").await else {
        return;
    };
    let pipeline: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": {"name": "release"},
        "spec": {
            "params": [{"name": "env", "type": "string"}],
            "tasks": [
                {"name": "version", "taskSpec": {"results": [{"name": "v"}], "steps": [{"name": "calc", "image": "x"}]}},
                {"name": "publish", "params": [{"name": "v", "value": "$(tasks.version.results.v)"}],
                 "when": [{"input": "$(params.env)", "operator": "in", "values": ["prod"]}],
                 "taskSpec": {"steps": [{"name": "push", "image": "x"}]}},
                {"name": "notes", "params": [{"name": "v", "value": "v$(tasks.version.results.v)"}], "taskSpec": {"steps": [{"name": "write", "image": "x"}]}}
            ],
            "results": [{"name": "version", "value": "$(tasks.version.results.v)"}]
        }
    }))
    .unwrap();
    env.api(faketekton::pipeline_resource())
        .create(&PostParams::default(), &pipeline)
        .await
        .unwrap();
    let scenario = Scenario::new().task(
        "version",
        TaskScript::new()
            .step(StepScript::new("calc"))
            .result("v", "1.2.3"),
    );
    let ctl = env.controller(scenario).await;
    let name = env.create_run(json!({"pipelineRef": {"name": "release"}, "params": [{"name": "env", "value": "dev"}]})).await;
    let pr = env.finished(&name).await;
    assert_eq!(
        condition(&pr),
        (
            "True".into(),
            "Completed".into(),
            "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 1".into()
        )
    );
    assert_eq!(label(&pr, "tekton.dev/pipeline"), "release");
    assert_eq!(
        pr.data["status"]["skippedTasks"][0]["name"],
        json!("publish")
    );
    assert_eq!(
        pr.data["status"]["skippedTasks"][0]["reason"],
        json!("When Expressions evaluated to false")
    );
    assert_eq!(
        pr.data["status"]["results"],
        json!([{"name": "version", "value": "1.2.3"}])
    );
    let notes = env.taskrun(&format!("{name}-notes")).await;
    assert_eq!(notes.data["spec"]["params"][0]["value"], json!("v1.2.3"));
    let version = env.taskrun(&format!("{name}-version")).await;
    assert_eq!(
        version.data["status"]["results"],
        json!([{"name": "v", "type": "string", "value": "1.2.3"}])
    );
    env.done(ctl).await;
}

#[tokio::test]
async fn pipeline_timeout_and_missing_pipeline() {
    let Some(env) = Env::new("pipeline_timeout_and_missing_pipeline").await else {
        return;
    };
    let scenario =
        Scenario::new().task("a", TaskScript::new().step(StepScript::new("sleep").hang()));
    let ctl = env.controller(scenario).await;
    let name = env
        .create_run(json!({
            "timeouts": {"pipeline": "300ms"},
            "pipelineSpec": {"tasks": [{"name": "a", "taskSpec": {"steps": [{"name": "sleep", "image": "x"}]}}]}
        }))
        .await;
    let missing = env
        .create_run(json!({"pipelineRef": {"name": "nope"}}))
        .await;
    let pr = env.finished(&name).await;
    assert_eq!(
        condition(&pr),
        (
            "False".into(),
            "PipelineRunTimeout".into(),
            format!("PipelineRun \"{name}\" failed to finish within \"300ms\"")
        )
    );
    let a = env.taskrun(&format!("{name}-a")).await;
    assert_eq!(
        a.data["spec"]["statusMessage"],
        json!("TaskRun cancelled as the PipelineRun it belongs to has timed out.")
    );
    assert_eq!(condition(&a).1, "TaskRunCancelled");
    let pr = env.finished(&missing).await;
    assert_eq!(
        condition(&pr),
        (
            "False".into(),
            "CouldntGetPipeline".into(),
            format!(
                "Error retrieving pipeline for pipelinerun {}/{missing}: pipelines.tekton.dev \"nope\" not found",
                env.ns
            )
        )
    );
    env.done(ctl).await;
}

#[tokio::test]
async fn image_pull_backoff_and_graceful_cancel() {
    let Some(env) = Env::new("image_pull_backoff_and_graceful_cancel").await else {
        return;
    };
    let scenario = Scenario::new()
        .task(
            "pull",
            TaskScript::new()
                .step(StepScript::new("run"))
                .pod_problem(PodProblem::ImagePullBackOff),
        )
        .task(
            "long",
            TaskScript::new().step(StepScript::new("wait").hang()),
        );
    let ctl = env.controller(scenario).await;
    let pulled = env
        .create_run(json!({"pipelineSpec": {"tasks": [{"name": "pull", "taskSpec": {"steps": [{"name": "run", "image": "registry.invalid/nope:1"}]}}]}}))
        .await;
    let graceful = env
        .create_run(json!({"pipelineSpec": {
            "tasks": [{"name": "long", "taskSpec": {"steps": [{"name": "wait", "image": "x"}]}},
                      {"name": "after", "runAfter": ["long"], "taskSpec": {"steps": [{"name": "s", "image": "x"}]}}],
            "finally": [{"name": "cleanup", "taskSpec": {"steps": [{"name": "rm", "image": "x"}]}}]
        }}))
        .await;
    let pr = env.finished(&pulled).await;
    assert_eq!(
        condition(&pr),
        (
            "False".into(),
            "Failed".into(),
            "Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0".into()
        )
    );
    let t = env.taskrun(&format!("{pulled}-pull")).await;
    assert_eq!(
        condition(&t),
        (
            "False".into(),
            "TaskRunImagePullFailed".into(),
            format!(
                "the step \"run\" in TaskRun \"{pulled}-pull\" failed to pull the image \"\". The pod errored with the message: \"Back-off pulling image \"registry.invalid/nope:1\".\""
            )
        )
    );

    let long = format!("{graceful}-long");
    env.wait_taskrun(&long, |o| {
        testenv::succeeded(o).is_some_and(|(_, r, _)| r == "Running")
    })
    .await;
    env.prs()
        .patch(
            &graceful,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"status": "CancelledRunFinally"}})),
        )
        .await
        .unwrap();
    let pr = env.finished(&graceful).await;
    assert_eq!(
        condition(&pr),
        (
            "False".into(),
            "Cancelled".into(),
            format!("PipelineRun \"{graceful}\" was cancelled")
        )
    );
    // Tekton checks "stopping" (a DAG task failed or was cancelled) before the graceful-cancel reason.
    assert_eq!(
        pr.data["status"]["skippedTasks"],
        json!([{"name": "after", "reason": "PipelineRun was stopping"}])
    );
    assert_eq!(condition(&env.taskrun(&long).await).1, "TaskRunCancelled");
    assert_eq!(
        condition(&env.taskrun(&format!("{graceful}-cleanup")).await).1,
        "Succeeded"
    );
    env.done(ctl).await;
}
