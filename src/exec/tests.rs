//! Execution rules, each pinned by a small pipeline run through `simulate` (stated outcomes), citing the
//! Tekton behaviour it encodes.

use super::run::{RunInput, TaskOutcome, skip};
use super::simulate::{Failure, Stated, simulate};
use crate::model::{Param, ParamValue, PipelineSpec, TaskSpec};
use std::collections::BTreeMap;
use std::time::Duration;

fn input(yaml: &str) -> RunInput {
    let spec: PipelineSpec =
        serde_json::from_value(crate::emit::parse_value(yaml).expect("yaml")).expect("spec");
    let mut tasks = BTreeMap::new();
    let t: TaskSpec = serde_json::from_value(serde_json::json!({
        "results": [{"name": "r"}],
        "steps": [{"name": "s", "image": "busybox", "script": "true"}]
    }))
    .unwrap();
    tasks.insert("t".to_string(), t);
    RunInput {
        name: "run".into(),
        namespace: "default".into(),
        uid: "u".into(),
        pipeline_name: "p".into(),
        spec,
        pipeline_timeout: Some(Duration::from_secs(3600)),
        tasks,
        ..RunInput::default()
    }
}

fn fail(tasks: &[&str]) -> Stated {
    Stated {
        fail: tasks
            .iter()
            .map(|t| (t.to_string(), Failure::default()))
            .collect(),
        ..Stated::default()
    }
}

fn outcomes(r: &super::Report) -> Vec<(String, &'static str, String)> {
    r.tasks
        .iter()
        .map(|t| (t.name.clone(), t.outcome.as_str(), t.reason.clone()))
        .collect()
}

fn task<'a>(r: &'a super::Report, name: &str) -> &'a super::TaskReport {
    r.tasks.iter().find(|t| t.name == name).expect("task")
}

#[test]
fn diamond_succeeds_in_order() {
    let r = simulate(
        input(
            r#"
tasks:
  - {name: a, taskRef: {name: t}}
  - {name: b, taskRef: {name: t}, runAfter: [a]}
  - {name: c, taskRef: {name: t}, params: [{name: x, value: "$(tasks.a.results.r)"}]}
  - {name: d, taskRef: {name: t}, runAfter: [b, c]}
"#,
        ),
        &Stated::default(),
    );
    assert_eq!(
        (r.status.as_str(), r.reason.as_str()),
        ("True", "Succeeded")
    );
    assert_eq!(
        r.message,
        "Tasks Completed: 4 (Failed: 0, Cancelled 0), Skipped: 0"
    );
    let names: Vec<&str> = r.tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    // placeholder results flow into params
    assert_eq!(task(&r, "c").params[0].value, ParamValue::from("<a.r>"));
}

#[test]
fn scoped_when_does_not_skip_dependents_unless_they_use_results() {
    // tekton: pipelinerunresolution.go skipBecauseParentTaskWasSkipped ignores WhenExpressionsSkip;
    // skipBecauseResultReferencesAreMissing skips consumers of a when-skipped task's results
    let mut i = input(
        r#"
params: [{name: go, default: "no"}]
tasks:
  - {name: a, taskRef: {name: t}, when: [{input: "$(params.go)", operator: in, values: ["yes"]}]}
  - {name: b, taskRef: {name: t}, runAfter: [a]}
  - {name: c, taskRef: {name: t}, params: [{name: x, value: "$(tasks.a.results.r)"}]}
  - {name: d, taskRef: {name: t}, runAfter: [c]}
"#,
    );
    i.params = vec![];
    let r = simulate(i, &Stated::default());
    assert_eq!(
        outcomes(&r),
        vec![
            ("a".into(), "skipped", skip::WHEN.into()),
            ("b".into(), "succeeded", "Succeeded".into()),
            ("c".into(), "skipped", skip::MISSING_RESULTS.into()),
            ("d".into(), "skipped", skip::PARENT.into()),
        ]
    );
    assert_eq!(
        (r.status.as_str(), r.reason.as_str()),
        ("True", "Completed")
    );
    assert_eq!(
        r.message,
        "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 3"
    );
}

#[test]
fn failure_stops_the_run_and_finally_still_runs() {
    // tekton: pipelinerunstate.go IsStopping / GetFinalTasks; `$(tasks.status)` is Failed
    let r = simulate(
        input(
            r#"
tasks:
  - {name: a, taskRef: {name: t}}
  - {name: b, taskRef: {name: t}}
  - {name: c, taskRef: {name: t}, runAfter: [a]}
finally:
  - name: notify
    taskRef: {name: t}
    params:
      - {name: s, value: "$(tasks.status)"}
      - {name: a, value: "$(tasks.a.status)"}
      - {name: why, value: "$(tasks.a.reason)"}
"#,
        ),
        &fail(&["a"]),
    );
    assert_eq!(
        outcomes(&r),
        vec![
            ("a".into(), "failed", "StepFailed".into()),
            ("b".into(), "succeeded", "Succeeded".into()),
            ("c".into(), "skipped", skip::STOPPING.into()),
            ("notify".into(), "succeeded", "Succeeded".into()),
        ]
    );
    let n = task(&r, "notify");
    assert_eq!(n.params[0].value, ParamValue::from("Failed"));
    assert_eq!(n.params[1].value, ParamValue::from("Failed"));
    assert_eq!(n.params[2].value, ParamValue::from("StepFailed"));
    assert_eq!((r.status.as_str(), r.reason.as_str()), ("False", "Failed"));
    assert_eq!(
        r.message,
        "Tasks Completed: 3 (Failed: 1, Cancelled 0), Skipped: 1"
    );
}

#[test]
fn on_error_continue_lets_the_run_go_on() {
    // tekton: pipelinerunstate.go getPipelineTasksCount counts IgnoredFailed; reason FailureIgnored
    let r = simulate(
        input(
            r#"
tasks:
  - {name: a, taskRef: {name: t}, onError: continue}
  - {name: b, taskRef: {name: t}, runAfter: [a]}
  - {name: c, taskRef: {name: t}, params: [{name: x, value: "$(tasks.a.results.r)"}]}
"#,
        ),
        &fail(&["a"]),
    );
    assert_eq!(
        outcomes(&r),
        vec![
            ("a".into(), "failed", "FailureIgnored".into()),
            ("b".into(), "succeeded", "Succeeded".into()),
            ("c".into(), "failed", "InvalidTaskResultReference".into()),
        ]
    );
    assert_eq!(r.reason, "PipelineValidationFailed");
    assert!(r.message.starts_with(
        "Tasks Completed: 2 (Failed: 1 (Ignored: 1), Cancelled 0), Skipped: 0, Failed Validation: 1"
    ));
}

#[test]
fn retries_rerun_failed_attempts() {
    let mut st = fail(&["a"]);
    st.fail.get_mut("a").unwrap().attempts = Some(2);
    let i = input("tasks: [{name: a, taskRef: {name: t}, retries: 2}]");
    let r = simulate(i.clone(), &st);
    assert_eq!(task(&r, "a").outcome, TaskOutcome::Succeeded);
    assert_eq!(task(&r, "a").attempts, 3);
    st.fail.get_mut("a").unwrap().attempts = Some(3);
    let r = simulate(i, &st);
    assert_eq!(task(&r, "a").outcome, TaskOutcome::Failed);
    assert_eq!(task(&r, "a").attempts, 3);
}

#[test]
fn matrix_fans_out_and_aggregates_results() {
    let mut st = Stated::default();
    st.results.insert(
        "m".into(),
        BTreeMap::from([("r".to_string(), ParamValue::from("v"))]),
    );
    let r = simulate(
        input(
            r#"
tasks:
  - name: m
    taskRef: {name: t}
    matrix:
      params: [{name: os, value: ["linux", "mac"]}]
      include: [{name: extra, params: [{name: os, value: "win"}]}]
  - name: after
    taskRef: {name: t}
    params:
      - {name: all, value: "$(tasks.m.results.r[*])"}
      - {name: count, value: "$(tasks.m.matrix.length)"}
"#,
        ),
        &st,
    );
    let m = task(&r, "m");
    assert_eq!(m.taskruns, ["run-m-0", "run-m-1", "run-m-2"]);
    let a = task(&r, "after");
    assert_eq!(a.params[0].value, ParamValue::from(vec!["v", "v", "v"]));
    assert_eq!(a.params[1].value, ParamValue::from("3"));
}

#[test]
fn empty_matrix_array_skips() {
    let r = simulate(
        input(
            r#"
params: [{name: l, type: array, default: []}]
tasks:
  - {name: m, taskRef: {name: t}, matrix: {params: [{name: os, value: "$(params.l[*])"}]}}
"#,
        ),
        &Stated::default(),
    );
    assert_eq!(task(&r, "m").reason, skip::EMPTY_MATRIX);
}

#[test]
fn undecidable_when_on_a_placeholder() {
    let r = simulate(
        input(
            r#"
tasks:
  - {name: a, taskRef: {name: t}}
  - {name: b, taskRef: {name: t}, when: [{input: "$(tasks.a.results.r)", operator: in, values: ["x"]}]}
  - {name: c, taskRef: {name: t}, runAfter: [b]}
"#,
        ),
        &Stated::default(),
    );
    assert_eq!(task(&r, "b").outcome, TaskOutcome::Undecided);
    assert_eq!(task(&r, "c").outcome, TaskOutcome::Undecided);
    assert!(r.undecided);
}

#[test]
fn task_timeout_and_pipeline_tasks_timeout() {
    // a timed-out task fails the run like a failure (TaskRunTimeout)
    let mut st = Stated::default();
    st.timeout.insert("a".into());
    let r = simulate(
        input(
            "tasks: [{name: a, taskRef: {name: t}, timeout: 5m}, {name: b, taskRef: {name: t}, runAfter: [a]}]",
        ),
        &st,
    );
    assert_eq!(task(&r, "a").outcome, TaskOutcome::TimedOut);
    assert_eq!(task(&r, "a").reason, "TaskRunTimeout");
    assert_eq!(
        task(&r, "a").message,
        "TaskRun \"run-a\" failed to finish within \"5m0s\""
    );
    assert_eq!(task(&r, "b").reason, skip::STOPPING);
    assert_eq!(r.reason, "Failed");

    // timeouts.tasks: running DAG tasks are cancelled, finally runs, the run times out
    let mut i = input(
        "tasks: [{name: a, taskRef: {name: t}}, {name: b, taskRef: {name: t}, runAfter: [a]}]\nfinally: [{name: f, taskRef: {name: t}}]",
    );
    i.tasks_timeout = Some(Duration::from_millis(1500));
    let r = simulate(i, &Stated::default());
    assert_eq!(task(&r, "b").outcome, TaskOutcome::Cancelled);
    assert_eq!(task(&r, "f").outcome, TaskOutcome::Succeeded);
    assert_eq!(r.reason, "PipelineRunTimeout");
    assert_eq!(
        r.message,
        "PipelineRun \"run\" failed due to tasks failed to finish within \"1.5s\""
    );

    // timeouts.pipeline: everything stops, finally is skipped
    let mut i = input(
        "tasks: [{name: a, taskRef: {name: t}}, {name: b, taskRef: {name: t}, runAfter: [a]}]\nfinally: [{name: f, taskRef: {name: t}}]",
    );
    i.pipeline_timeout = Some(Duration::from_millis(1500));
    let r = simulate(i, &Stated::default());
    assert_eq!(task(&r, "f").reason, skip::PIPELINE_TIMEOUT);
    assert_eq!(r.reason, "PipelineRunTimeout");
}

#[test]
fn missing_param_fails_before_anything_runs() {
    let r = simulate(
        input("params: [{name: need}]\ntasks: [{name: a, taskRef: {name: t}}]"),
        &Stated::default(),
    );
    assert_eq!(
        (r.status.as_str(), r.reason.as_str()),
        ("False", "ParameterMissing")
    );
    assert_eq!(task(&r, "a").outcome, TaskOutcome::Pending);
}

#[test]
fn params_defaults_and_context() {
    let mut i = input(
        r#"
params: [{name: a, default: x}, {name: arr, type: array, default: [p, q]}]
tasks:
  - name: t1
    taskRef: {name: t}
    retries: 2
    params:
      - {name: s, value: "$(params.a)-$(context.pipelineRun.name)-$(context.pipelineTask.retries)"}
      - {name: l, value: ["$(params.arr[*])", z]}
      - {name: i, value: "$(params.arr[1])"}
"#,
    );
    i.params = vec![Param::new("a", "given")];
    let r = simulate(i, &Stated::default());
    let p = &task(&r, "t1").params;
    assert_eq!(p[0].value, ParamValue::from("given-run-2"));
    assert_eq!(p[1].value, ParamValue::from(vec!["p", "q", "z"]));
    assert_eq!(p[2].value, ParamValue::from("q"));
}

#[test]
fn finally_skipped_when_its_results_are_missing() {
    // tekton: IsFinallySkipped -> skipBecauseResultReferencesAreMissing
    let r = simulate(
        input(
            r#"
tasks: [{name: a, taskRef: {name: t}}]
finally: [{name: f, taskRef: {name: t}, params: [{name: x, value: "$(tasks.a.results.r)"}]}]
"#,
        ),
        &fail(&["a"]),
    );
    assert_eq!(task(&r, "f").reason, skip::MISSING_RESULTS);
}

#[test]
fn pipeline_results() {
    let mut st = Stated::default();
    st.results.insert(
        "a".into(),
        BTreeMap::from([("r".to_string(), ParamValue::from("abc"))]),
    );
    let r = simulate(
        input(
            r#"
tasks: [{name: a, taskRef: {name: t}}]
results: [{name: out, value: "sha-$(tasks.a.results.r)"}, {name: gone, value: "$(tasks.nope.results.r)"}]
"#,
        ),
        &st,
    );
    assert_eq!(
        r.results,
        vec![("out".to_string(), ParamValue::from("sha-abc"))]
    );
}
