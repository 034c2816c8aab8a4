//! Agreement: the same PipelineRuns through `tekscript::exec` (the product's execution model, driven by
//! `simulate` with stated outcomes) and through `tests/faketekton` (the fake Tekton controller, an
//! independent implementation on a fake API server) give the same task outcomes, skip reasons, run
//! condition and pipeline results. Where they disagreed, Tekton's sources decided (see the notes).

use std::collections::BTreeMap;
use std::time::Duration;

use fakekube::FakeApi;
use faketekton::{Controller, Scenario, StepScript, TaskScript, testenv};
use kube::Client;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{Value, json};
use tekscript::exec::run::RunInput;
use tekscript::exec::simulate::{Failure, Stated, simulate};
use tekscript::model::{ParamValue, PipelineSpec};

const NS: &str = "agree";
const WAIT: Duration = Duration::from_secs(30);

/// One case: a pipeline spec, the tasks that fail (and how many attempts), the tasks that hang into
/// their timeout, and the results each task reports.
struct Case {
    name: String,
    spec: Value,
    params: Value,
    fail: Vec<(&'static str, u32)>,
    hang: Vec<&'static str>,
    /// (task, result, value)
    results: Vec<(String, String, String)>,
}

fn res(v: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    v.iter()
        .map(|(t, r, x)| (t.to_string(), r.to_string(), x.to_string()))
        .collect()
}

fn step() -> Value {
    json!({"name": "s", "image": "x", "script": "true"})
}

fn task(name: &str) -> Value {
    json!({"name": name, "taskSpec": {"results": [{"name": "r"}], "steps": [step()]}})
}

fn with(mut t: Value, key: &str, v: Value) -> Value {
    t[key] = v;
    t
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "diamond".into(),
            spec: json!({"tasks": [
                task("a"), task("b"),
                with(task("c"), "runAfter", json!(["a", "b"])),
                with(task("d"), "params", json!([{"name": "x", "value": "$(tasks.c.results.r)"}])),
            ], "finally": [task("f")],
              "results": [{"name": "out", "value": "$(tasks.d.results.r)-$(tasks.c.results.r)"}]}),
            params: json!([]),
            fail: vec![],
            hang: vec![],
            results: res(&[
                ("a", "r", "1"),
                ("b", "r", "2"),
                ("c", "r", "3"),
                ("d", "r", "4"),
                ("f", "r", "5"),
            ]),
        },
        Case {
            name: "when-skip-without-result-consumers".into(),
            spec: json!({"params": [{"name": "go", "default": "no"}], "tasks": [
                with(task("a"), "when", json!([{"input": "$(params.go)", "operator": "in", "values": ["yes"]}])),
                with(task("b"), "runAfter", json!(["a"])),
            ]}),
            params: json!([]),
            fail: vec![],
            hang: vec![],
            results: res(&[("b", "r", "x")]),
        },
        Case {
            name: "when-skip-with-result-consumers".into(),
            spec: json!({"tasks": [
                with(task("a"), "when", json!([{"input": "x", "operator": "notin", "values": ["x"]}])),
                with(task("b"), "params", json!([{"name": "v", "value": "$(tasks.a.results.r)"}])),
                with(task("c"), "runAfter", json!(["b"])),
                task("d"),
            ]}),
            params: json!([]),
            fail: vec![],
            hang: vec![],
            results: res(&[("a", "r", "1"), ("d", "r", "4")]),
        },
        Case {
            name: "failure-and-finally".into(),
            spec: json!({"tasks": [
                task("a"), task("b"),
                with(task("c"), "runAfter", json!(["a"])),
            ], "finally": [
                with(task("report"), "params", json!([
                    {"name": "all", "value": "$(tasks.status)"},
                    {"name": "a", "value": "$(tasks.a.status)"}])),
                with(task("uses-a"), "params", json!([{"name": "v", "value": "$(tasks.a.results.r)"}])),
            ]}),
            params: json!([]),
            fail: vec![("a", 9)],
            hang: vec![],
            results: res(&[("b", "r", "2"), ("report", "r", "x")]),
        },
        Case {
            name: "on-error-continue".into(),
            spec: json!({"tasks": [
                with(task("a"), "onError", json!("continue")),
                with(task("b"), "runAfter", json!(["a"])),
            ]}),
            params: json!([]),
            fail: vec![("a", 9)],
            hang: vec![],
            results: res(&[("b", "r", "2")]),
        },
        Case {
            name: "retries-recover".into(),
            spec: json!({"tasks": [with(task("a"), "retries", json!(2)), with(task("b"), "runAfter", json!(["a"]))]}),
            params: json!([]),
            fail: vec![("a", 2)],
            hang: vec![],
            results: res(&[("a", "r", "1"), ("b", "r", "2")]),
        },
        Case {
            name: "retries-exhausted".into(),
            spec: json!({"tasks": [with(task("a"), "retries", json!(1)), with(task("b"), "runAfter", json!(["a"]))]}),
            params: json!([]),
            fail: vec![("a", 5)],
            hang: vec![],
            results: res(&[]),
        },
        Case {
            name: "matrix-with-include".into(),
            spec: json!({"tasks": [
                with(with(task("m"), "matrix", json!({
                    "params": [{"name": "os", "value": ["linux", "mac"]}],
                    "include": [{"name": "win", "params": [{"name": "os", "value": "windows"}]}]})),
                    "taskSpec", json!({"params": [{"name": "os"}], "results": [{"name": "r"}], "steps": [step()]})),
                with(task("after"), "params", json!([{"name": "all", "value": "$(tasks.m.results.r[*])"}])),
            ]}),
            params: json!([]),
            fail: vec![],
            hang: vec![],
            results: res(&[("m", "r", "v"), ("after", "r", "x")]),
        },
        Case {
            name: "task-timeout".into(),
            spec: json!({"tasks": [
                with(task("slow"), "timeout", json!("1s")),
                with(task("next"), "runAfter", json!(["slow"])),
            ], "finally": [task("f")]}),
            params: json!([]),
            fail: vec![],
            hang: vec!["slow"],
            results: res(&[("f", "r", "x")]),
        },
        Case {
            name: "missing-param-default-and-array-param".into(),
            spec: json!({"params": [{"name": "list", "type": "array", "default": ["a", "b"]}], "tasks": [
                with(task("a"), "params", json!([{"name": "l", "value": ["$(params.list[*])"]}])),
            ]}),
            params: json!([]),
            fail: vec![],
            hang: vec![],
            results: res(&[("a", "r", "1")]),
        },
        Case {
            name: "parent-failed-with-on-error-continue-and-when".into(),
            spec: json!({"tasks": [
                with(task("a"), "onError", json!("continue")),
                with(task("b"), "when", json!([{"input": "$(tasks.a.status)", "operator": "in", "values": ["x"]}])),
                with(task("c"), "runAfter", json!(["a"])),
            ]}),
            params: json!([]),
            fail: vec![("a", 9)],
            hang: vec![],
            results: res(&[("c", "r", "3")]),
        },
    ]
}

/// (task, outcome reason): the skip reason for skipped tasks, the TaskRun's reason otherwise.
type Outcomes = BTreeMap<String, String>;

async fn fake_run(
    case: &Case,
) -> (
    String,
    (String, String, String),
    Outcomes,
    BTreeMap<String, Value>,
) {
    let fake = FakeApi::new();
    fake.create_namespace(NS);
    let client = Client::new(fake.service(), NS);
    let mut scenario = Scenario::new();
    let mut scripts: BTreeMap<&str, TaskScript> = BTreeMap::new();
    for (t, n) in &case.fail {
        scripts.insert(t, TaskScript::new().fail_times(*n));
    }
    for t in &case.hang {
        scripts.insert(t, TaskScript::new().step(StepScript::new("s").hang()));
    }
    for (t, r, v) in &case.results {
        let s = scripts.remove(t.as_str()).unwrap_or_default().result(r, v);
        scripts.insert(t, s);
    }
    for (t, s) in scripts {
        scenario = scenario.task(t, s);
    }
    let handle = Controller::start(client.clone(), NS, scenario);
    tokio::time::timeout(WAIT, handle.ready()).await.unwrap();
    let prs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), NS, &faketekton::pipelinerun_resource());
    let body: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"generateName": "run-"},
        "spec": {"pipelineSpec": case.spec, "params": case.params},
    }))
    .unwrap();
    let name = prs
        .create(&PostParams::default(), &body)
        .await
        .unwrap()
        .metadata
        .name
        .unwrap();
    let done = testenv::wait_for_pipelinerun(&client, NS, &name, WAIT)
        .await
        .unwrap();
    let cond = testenv::succeeded(&done).unwrap();
    let status = &done.data["status"];
    let mut outcomes = Outcomes::new();
    for s in status["skippedTasks"].as_array().into_iter().flatten() {
        outcomes.insert(
            s["name"].as_str().unwrap().into(),
            s["reason"].as_str().unwrap().into(),
        );
    }
    let trs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), NS, &faketekton::taskrun_resource());
    for c in status["childReferences"].as_array().into_iter().flatten() {
        let tr = trs.get(c["name"].as_str().unwrap()).await.unwrap();
        let (_, reason, _) = testenv::succeeded(&tr).unwrap();
        let pt = c["pipelineTaskName"].as_str().unwrap().to_string();
        // a matrixed task: the first unsuccessful TaskRun's reason, else the first's (getReason)
        let e = outcomes.entry(pt).or_insert_with(|| reason.clone());
        if e == "Succeeded" && reason != "Succeeded" {
            *e = reason;
        }
    }
    let mut results = BTreeMap::new();
    for r in status["results"].as_array().into_iter().flatten() {
        results.insert(r["name"].as_str().unwrap().to_string(), r["value"].clone());
    }
    handle.stop();
    (name, cond, outcomes, results)
}

fn sim(case: &Case, run_name: &str) -> tekscript::exec::Report {
    let spec: PipelineSpec = serde_json::from_value(case.spec.clone()).unwrap();
    let input = RunInput {
        name: run_name.into(),
        namespace: NS.into(),
        uid: "u".into(),
        pipeline_name: run_name.into(),
        spec,
        params: serde_json::from_value(case.params.clone()).unwrap(),
        pipeline_timeout: Some(Duration::from_secs(3600)),
        ..RunInput::default()
    };
    let mut stated = Stated::default();
    for (t, n) in &case.fail {
        stated.fail.insert(
            t.to_string(),
            Failure {
                step: None,
                attempts: Some(*n),
            },
        );
    }
    for t in &case.hang {
        stated.timeout.insert(t.to_string());
    }
    for (t, r, v) in &case.results {
        stated
            .results
            .entry(t.to_string())
            .or_default()
            .insert(r.clone(), ParamValue::from(v.as_str()));
    }
    simulate(input, &stated)
}

/// Runs `case` on both sides; what differs, one line per aspect (empty when they agree).
async fn disagreements(case: &Case) -> Vec<String> {
    let (name, cond, fake_outcomes, fake_results) = fake_run(case).await;
    let report = sim(case, &name);
    let ours: Outcomes = report
        .tasks
        .iter()
        .map(|t| (t.name.clone(), t.reason.clone()))
        .collect();
    let our_cond = (report.status, report.reason, report.message);
    let our_results: BTreeMap<String, Value> = report
        .results
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap()))
        .collect();
    let mut out = Vec::new();
    if ours != fake_outcomes {
        out.push(format!(
            "{}: tasks\n  exec: {ours:?}\n  fake: {fake_outcomes:?}",
            case.name
        ));
    }
    if our_cond != cond {
        out.push(format!(
            "{}: condition\n  exec: {our_cond:?}\n  fake: {cond:?}",
            case.name
        ));
    }
    if our_results != fake_results {
        out.push(format!(
            "{}: results\n  exec: {our_results:?}\n  fake: {fake_results:?}",
            case.name
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_agrees_with_the_fake_controller() {
    let mut all = Vec::new();
    for case in cases() {
        all.extend(disagreements(&case).await);
    }
    assert!(all.is_empty(), "{}", all.join("\n"));
}

/// The bundled examples, run self-contained (`--embed`), with every declared result stated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn examples_agree_with_the_fake_controller() {
    use tekscript::exec::plan::{RunRequest, plan_run};
    let mut checked = Vec::new();
    let mut disagreements_all = Vec::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai") && !super::examples::is_test_file(p))
        .collect();
    paths.sort();
    for path in paths {
        let c = tekscript::compile_file(&path, &tekscript::Options::default()).unwrap();
        let objects: Vec<_> = c
            .bundle
            .bundle()
            .objects
            .iter()
            .map(|o| &o.resource)
            .collect();
        let req = RunRequest {
            embed: true,
            ..RunRequest::default()
        };
        // examples that need -p/-w, a remote pipeline or have no pipeline are not runnable as they are
        let Ok(plan) = plan_run(objects, &req) else {
            continue;
        };
        let spec = plan.body["spec"]["pipelineSpec"].clone();
        let params = plan.body["spec"]["params"].clone();
        let mut results = Vec::new();
        for list in ["tasks", "finally"] {
            for t in spec[list].as_array().into_iter().flatten() {
                for r in t["taskSpec"]["results"].as_array().into_iter().flatten() {
                    let (task, result) = (t["name"].as_str().unwrap(), r["name"].as_str().unwrap());
                    let value = format!("v-{task}-{result}");
                    results.push((task.to_string(), result.to_string(), value));
                }
            }
        }
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let case = Case {
            name: file.clone(),
            spec,
            params: if params.is_null() { json!([]) } else { params },
            fail: vec![],
            hang: vec![],
            results,
        };
        disagreements_all.extend(disagreements(&case).await);
        checked.push(file);
    }
    assert!(checked.len() >= 4, "examples checked: {checked:?}");
    assert!(
        disagreements_all.is_empty(),
        "{}",
        disagreements_all.join("\n")
    );
}
