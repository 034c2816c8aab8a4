//! Unit tests of the structure pass on hand-written documents (no script, no spans): mostly the
//! rules a script cannot reach, and the edges where Tekton accepts something.

use crate::bundle::{Bundle, Object, Origins, Resource};
use crate::diag::codes::{self, Code};
use crate::source::SourceMap;
use crate::validate::{Ctx, FeatureGates, Settings, Stability};
use serde_json::{Value, json};

/// `(code, message, path)` of every diagnostic for one document.
fn run(doc: Value, gates: FeatureGates) -> Vec<(&'static Code, String, String)> {
    let resource = Resource::from_json(doc).expect("test document deserializes");
    let bundle = Bundle {
        objects: vec![Object {
            resource,
            origins: Origins::new(),
        }],
    };
    let settings = Settings { gates };
    let sources = SourceMap::new();
    let mut ctx = Ctx {
        settings: &settings,
        sources: &sources,
        diags: Default::default(),
    };
    super::check(&bundle, &mut ctx);
    ctx.diags
        .0
        .into_iter()
        .map(|d| (d.code, d.message, d.path.unwrap_or_default()))
        .collect()
}

fn beta() -> FeatureGates {
    FeatureGates::default()
}

fn gates(s: &str) -> FeatureGates {
    FeatureGates::parse(s).unwrap()
}

fn codes(diags: &[(&'static Code, String, String)]) -> Vec<&'static Code> {
    diags.iter().map(|d| d.0).collect()
}

fn task(spec: Value) -> Value {
    json!({"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t"}, "spec": spec})
}

fn pipeline(spec: Value) -> Value {
    json!({"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": "p"}, "spec": spec})
}

fn step() -> Value {
    json!({"name": "s", "image": "alpine", "script": "echo hi"})
}

#[test]
fn a_valid_task_has_no_diagnostics() {
    let d = run(
        task(json!({
            "params": [{"name": "a"}, {"name": "o", "type": "object", "properties": {"k": {}}}],
            "steps": [step(), {"image": "alpine"}, {"image": "alpine"}],
            "results": [{"name": "r"}, {"name": "m", "properties": {"x": {"type": "string"}}}],
            "workspaces": [{"name": "w"}, {"name": "v", "mountPath": "/v"}],
        })),
        beta(),
    );
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn pipeline_task_needs_exactly_one_task() {
    let neither = pipeline(json!({"tasks": [{"name": "a"}]}));
    let d = run(neither.clone(), beta());
    assert_eq!(codes(&d), [codes::E127]);
    assert!(
        d[0].1
            .contains("expected exactly one, got neither: taskRef, taskSpec)"),
        "{}",
        d[0].1
    );
    let d = run(neither, gates("alpha"));
    assert!(
        d[0].1
            .contains("got neither: taskRef, taskSpec, pipelineRef, pipelineSpec"),
        "{}",
        d[0].1
    );
    let both = pipeline(
        json!({"tasks": [{"name": "a", "taskRef": {"name": "x"}, "taskSpec": {"steps": [step()]}}]}),
    );
    let d = run(both, beta());
    assert_eq!(codes(&d), [codes::E127]);
    assert!(
        d[0].1
            .contains("expected exactly one, got multiple: taskRef, taskSpec"),
        "{}",
        d[0].1
    );
    assert_eq!(d[0].2, "Pipeline/p: spec.tasks[0]");
}

#[test]
fn runs_need_exactly_one_task_or_pipeline() {
    let tr = json!({"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "metadata": {"generateName": "r-"}, "spec": {}});
    let d = run(tr, beta());
    assert_eq!(codes(&d), [codes::E135]);
    assert!(d[0].1.contains("got neither: taskRef, taskSpec"));
    let tr = json!({"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "metadata": {"name": "r"},
        "spec": {"taskRef": {"name": "t"}, "taskSpec": {"steps": [step()]}}});
    assert_eq!(codes(&run(tr, beta())), [codes::E135]);
    let pr = json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"name": "r"}, "spec": {}});
    let d = run(pr, beta());
    assert_eq!(codes(&d), [codes::E135]);
    assert!(d[0].1.contains("got neither: pipelineRef, pipelineSpec"));
}

#[test]
fn embedded_task_with_steps_sets_no_kind() {
    let p = pipeline(
        json!({"tasks": [{"name": "a", "taskSpec": {"kind": "Task", "apiVersion": "tekton.dev/v1", "steps": [step()]}}]}),
    );
    let d = run(p, beta());
    // apiVersion makes it a custom task too, as in Tekton
    assert!(
        codes(&d).iter().filter(|c| **c == codes::E128).count() >= 2,
        "{d:?}"
    );
    assert!(d.iter().any(|x| {
        x.1.contains("taskSpec.apiVersion cannot be specified when using taskSpec.steps")
    }));
    assert!(d.iter().any(|x| {
        x.1.contains("taskSpec.kind cannot be specified when using taskSpec.steps")
    }));
}

#[test]
fn custom_task_specs() {
    let p = pipeline(
        json!({"tasks": [{"name": "a", "taskSpec": {"kind": "Wait", "spec": {"d": "1s"}}}]}),
    );
    let d = run(p, beta());
    assert_eq!(codes(&d), [codes::E128]);
    assert!(d[0].1.contains("custom task spec must specify apiVersion"));
    let ok = pipeline(
        json!({"tasks": [{"name": "a", "taskSpec": {"apiVersion": "example.dev/v1", "kind": "Wait", "spec": {}}},
        {"name": "b", "taskRef": {"apiVersion": "example.dev/v1", "kind": "Wait", "name": "five"}}]}),
    );
    assert!(run(ok, beta()).is_empty());
}

#[test]
fn gates_follow_the_api_level() {
    let p = pipeline(json!({"tasks": [{"name": "a", "taskRef": {"name": "t"},
        "matrix": {"params": [{"name": "x", "value": ["1", "2"]}]}, "onError": "continue"}]}));
    assert!(run(p.clone(), beta()).is_empty());
    assert_eq!(codes(&run(p, gates("stable"))), [codes::E401, codes::E401]);
    let tr = json!({"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "metadata": {"name": "r"},
        "spec": {"taskRef": {"name": "t"}, "debug": {"breakpoints": {"onFailure": "enabled"}}}});
    assert_eq!(codes(&run(tr.clone(), beta())), [codes::E402]);
    let d = run(tr.clone(), gates("stable"));
    assert!(d[0].1.ends_with("but it is \"stable\""), "{}", d[0].1);
    assert!(run(tr, gates("alpha")).is_empty());
}

#[test]
fn per_feature_flags_are_independent_of_alpha() {
    let t = task(json!({"params": [{"name": "e", "enum": ["a", "b"]}], "steps": [step()]}));
    assert_eq!(codes(&run(t.clone(), gates("alpha"))), [codes::E403]);
    assert!(run(t, gates("beta,enable-param-enum")).is_empty());
    let p = pipeline(
        json!({"tasks": [{"name": "a", "taskRef": {"name": "t"}, "when": [{"cel": "1 == 1"}]}]}),
    );
    assert_eq!(codes(&run(p.clone(), gates("alpha"))), [codes::E404]);
    assert!(run(p, gates("enable-cel-in-whenexpression")).is_empty());
}

#[test]
fn concise_resolver_syntax() {
    let p = |r: Value| pipeline(json!({"tasks": [{"name": "a", "taskRef": r}]}));
    let url = "git://github.com/org/repo/task.yaml";
    // with the flag and a resolver, Tekton accepts it
    assert!(
        run(
            p(json!({"name": url, "resolver": "git"})),
            gates("beta,enable-concise-resolver-syntax")
        )
        .is_empty()
    );
    assert_eq!(
        codes(&run(p(json!({"name": url, "resolver": "git"})), beta())),
        [codes::E406]
    );
    assert_eq!(
        codes(&run(
            p(json!({"name": url})),
            gates("enable-concise-resolver-syntax")
        )),
        [codes::E130]
    );
    // a qualified name with a prefix is fine
    assert!(run(p(json!({"name": "example.com/build"})), beta()).is_empty());
}

#[test]
fn metadata_names() {
    let mut t = task(json!({"steps": [step()]}));
    t["metadata"] = json!({"generateName": "build-"});
    assert!(
        run(t.clone(), beta()).is_empty(),
        "a trailing '-' is fine in generateName"
    );
    t["metadata"] = json!({"generateName": "build."});
    assert_eq!(codes(&run(t.clone(), beta())), [codes::E101]);
    t["metadata"] = json!({});
    let d = run(t.clone(), beta());
    assert_eq!(codes(&d), [codes::E101]);
    assert!(d[0].1.contains("invalid resource name \"\""));
    t["metadata"] = json!({"name": "a.b-c"});
    assert!(run(t, beta()).is_empty(), "dots are fine in object names");
}

#[test]
fn pipeline_run_timeouts_like_tekton() {
    let pr = |t: Value| {
        json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"name": "r"},
            "spec": {"pipelineRef": {"name": "p"}, "timeouts": t}})
    };
    assert!(run(pr(json!({"pipeline": "0"})), beta()).is_empty());
    assert!(
        run(
            pr(json!({"pipeline": "0", "tasks": "0", "finally": "0"})),
            beta()
        )
        .is_empty()
    );
    assert!(
        run(pr(json!({"pipeline": "0", "tasks": "3h"})), beta()).is_empty(),
        "no limit under 0"
    );
    assert!(
        run(
            pr(json!({"pipeline": "2h", "tasks": "1h", "finally": "1h"})),
            beta()
        )
        .is_empty()
    );
    assert!(
        run(pr(json!({"tasks": "50m"})), beta()).is_empty(),
        "pipeline defaults to 1h"
    );
    // Tekton's quirk: the sum is compared even with a pipeline timeout of 0
    let d = run(
        pr(json!({"pipeline": "0", "tasks": "1h", "finally": "0"})),
        beta(),
    );
    assert_eq!(codes(&d), [codes::E114]);
    assert!(
        d[0].1
            .contains("1h0m0s + 0s should be <= pipeline duration"),
        "{}",
        d[0].1
    );
    let d = run(pr(json!({"pipeline": "1h", "finally": "0"})), beta());
    assert!(
        d[0].1
            .contains("0s (no timeout) should be <= pipeline duration"),
        "{}",
        d[0].1
    );
}

#[test]
fn task_run_specs_timeouts() {
    let pr = |t: Value, trs: Value| {
        json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"name": "r"},
            "spec": {"pipelineRef": {"name": "p"}, "timeouts": t, "taskRunSpecs": [trs]}})
    };
    assert!(
        run(
            pr(
                json!({"pipeline": "2h"}),
                json!({"pipelineTaskName": "a", "timeout": "90m"})
            ),
            beta()
        )
        .is_empty()
    );
    let d = run(
        pr(
            json!({"pipeline": "2h", "tasks": "1h"}),
            json!({"pipelineTaskName": "a", "timeout": "90m"}),
        ),
        beta(),
    );
    assert!(
        d[0].1
            .contains("1h30m0s should be <= pipeline tasks duration 1h0m0s"),
        "{d:?}"
    );
    assert!(
        run(
            pr(
                json!({"tasks": "0", "pipeline": "0"}),
                json!({"pipelineTaskName": "a", "timeout": "9h"})
            ),
            beta()
        )
        .is_empty()
    );
}

#[test]
fn pipeline_result_values() {
    let p = |v: Value| {
        pipeline(
            json!({"tasks": [{"name": "a", "taskRef": {"name": "t"}}], "finally": [{"name": "f", "taskRef": {"name": "t"}}],
            "results": [{"name": "r", "value": v}]}),
        )
    };
    for ok in [
        json!("$(tasks.a.results.x)"),
        json!("$(tasks.a.results.x) and $(finally.f.results.y)"),
        json!("$(tasks.a.results.x)-suffix"),
        json!("$(tasks.a.results.obj.key)"),
        json!("$(tasks.a.results.arr[*])"),
        json!(["$(tasks.a.results.x)", "$(tasks.a.results.y)"]),
        json!({"k": "$(tasks.a.results.x)"}),
    ] {
        assert!(run(p(ok.clone()), beta()).is_empty(), "{ok}");
    }
    for bad in [
        json!("x"),
        json!("$(params.x)"),
        json!("v$(tasks.a.results.x)"),
        json!("$(tasks.a.results.x.y.z)"),
    ] {
        assert_eq!(codes(&run(p(bad.clone()), beta())), [codes::E124], "{bad}");
    }
}

#[test]
fn step_rules_after_the_template() {
    // the image may come from the step template; a step with `ref` takes nothing from it
    let t = task(
        json!({"stepTemplate": {"image": "alpine", "command": ["sh"]},
        "steps": [{"name": "a", "args": ["-c", "true"]}, {"name": "b", "ref": {"name": "sa"}}]}),
    );
    assert!(run(t, beta()).is_empty());
    let t = task(
        json!({"steps": [{"name": "a", "image": "alpine", "onError": "$(params.on-error)", "timeout": "0s"}]}),
    );
    assert!(
        run(t, beta()).is_empty(),
        "param references are accepted for onError"
    );
}

#[test]
fn when_expressions() {
    let p = |w: Value| {
        pipeline(json!({"tasks": [{"name": "a", "taskRef": {"name": "t"}, "when": [w]}]}))
    };
    assert!(
        run(
            p(json!({"input": "", "operator": "notin", "values": [""]})),
            beta()
        )
        .is_empty()
    );
    assert_eq!(
        codes(&run(p(json!({"input": "a", "operator": "in"})), beta())),
        [codes::E131]
    );
    assert_eq!(
        codes(&run(p(json!({"input": "a", "values": ["a"]})), beta())),
        [codes::E131]
    );
}

#[test]
fn matrix_include_only_counts_its_entries() {
    let include: Vec<Value> = (0..257)
        .map(|i| json!({"name": format!("i{i}"), "params": [{"name": "x", "value": "v"}]}))
        .collect();
    let p = pipeline(
        json!({"tasks": [{"name": "a", "taskRef": {"name": "t"}, "matrix": {"include": include}}]}),
    );
    assert_eq!(codes(&run(p, beta())), [codes::E132]);
}

#[test]
fn stability_order() {
    assert!(Stability::Alpha > Stability::Beta && Stability::Beta > Stability::Stable);
}
