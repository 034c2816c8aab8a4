//! `tekscript simulate` and `tekscript graph` through the binary: golden output on the bundled examples
//! (text and JSON; Mermaid, DOT and text), exit codes, stated failures/results, and errors.

use std::path::Path;
use std::process::{Command, Output};

fn tekscript(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tekscript"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("tekscript runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Examples that `simulate` can run as they are (the others need -p/-w, a remote pipeline, or have none).
const RUNNABLE: &[&str] = &["go-service", "node-matrix", "pac-pull-request", "release"];

#[test]
fn simulate_examples_golden() {
    for name in RUNNABLE {
        let path = format!("examples/{name}.rhai");
        let text = tekscript(&["simulate", &path]);
        assert_eq!(text.status.code(), Some(0), "{name}: {}", stderr(&text));
        insta::assert_snapshot!(format!("simulate_text_{name}"), stdout(&text));
        let json = tekscript(&["simulate", &path, "--format", "json"]);
        assert_eq!(json.status.code(), Some(0), "{name}");
        let v: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
        assert!(v["tasks"].is_array() && v["status"].is_string());
        insta::assert_snapshot!(format!("simulate_json_{name}"), stdout(&json));
        // byte-stable
        assert_eq!(stdout(&text), stdout(&tekscript(&["simulate", &path])));
    }
}

#[test]
fn graph_examples_golden() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "rhai" && !super::examples::is_test_file(&p))
                .then(|| p.file_stem().unwrap().to_string_lossy().to_string())
        })
        .collect();
    names.sort();
    let mut drawn = 0;
    for name in &names {
        let path = format!("examples/{name}.rhai");
        for format in ["mermaid", "dot", "text"] {
            let mut o = tekscript(&["graph", &path, "--format", format]);
            if o.status.code() == Some(1) && stderr(&o).contains("emits no pipeline") {
                continue;
            }
            // several pipelines (examples/pac-tekton-dir.rhai): draw the first one
            let err = stderr(&o);
            if let Some(list) = err
                .split_once("choose one with --pipeline NAME (")
                .and_then(|(_, rest)| rest.split_once(')'))
            {
                let first = list.0.split(", ").next().unwrap_or_default().to_string();
                o = tekscript(&["graph", &path, "--format", format, "--pipeline", &first]);
            }
            assert_eq!(o.status.code(), Some(0), "{name} {format}: {}", stderr(&o));
            insta::assert_snapshot!(format!("graph_{format}_{name}"), stdout(&o));
            drawn += 1;
        }
    }
    assert!(drawn >= 15, "graphs drawn: {drawn}");
}

#[test]
fn stated_failure_runs_finally_and_exits_1() {
    let o = tekscript(&[
        "simulate",
        "examples/release.rhai",
        "--fail",
        "test/unit",
        "--result",
        "image.IMAGE_DIGEST=sha256:abc",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["status"], "Failed");
    let task = |n: &str| {
        v["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(task("test")["outcome"], "failed");
    assert_eq!(task("test")["message"], "\"step-unit\" exited with code 1");
    assert_eq!(task("image")["reason"], "PipelineRun was stopping");
    assert_eq!(task("notify-slack")["outcome"], "succeeded");
    assert_eq!(task("notify-slack")["finally"], true);
}

#[test]
fn params_change_when_outcome() {
    let o = tekscript(&[
        "simulate",
        "examples/release.rhai",
        "-p",
        "dry-run=false",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let publish = v["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "publish")
        .unwrap();
    assert_ne!(publish["outcome"], "skipped", "{publish}");
}

#[test]
fn usage_errors() {
    let o = tekscript(&["simulate", "examples/release.rhai", "--fail", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the pipeline has no task \"nope\""),
        "{}",
        stderr(&o)
    );
    let o = tekscript(&["simulate", "examples/monorepo.rhai"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("-p repo-url=VALUE"), "{}", stderr(&o));
    let o = tekscript(&["graph", "examples/step-actions.rhai"]);
    assert_eq!(o.status.code(), Some(1));
}
