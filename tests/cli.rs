//! CLI tests: exit codes, the stdout/stderr split, `-o DIR` and `--check`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tekscript"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env_remove("NO_COLOR");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn fixture(name: &str) -> String {
    format!("tests/cli/{name}")
}

#[test]
fn build_prints_yaml_on_stdout_and_nothing_on_stderr() {
    let out = run(&["build", &fixture("ok.rhai")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("apiVersion: tekton.dev/v1\nkind: Task\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("---\napiVersion: tekton.dev/v1\nkind: Pipeline\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with('\n') && !stdout.ends_with("\n\n"));
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn build_is_deterministic() {
    let a = run(&["build", &fixture("ok.rhai")]).stdout;
    let b = run(&["build", &fixture("ok.rhai")]).stdout;
    assert_eq!(a, b);
}

#[test]
fn set_reaches_the_script() {
    let out = run(&["build", &fixture("ok.rhai"), "--set", "name=custom"]);
    assert!(text(&out.stdout).contains("name: custom"));
}

#[test]
fn values_file_reaches_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("v.yaml");
    std::fs::write(&f, "name: from-file\n").unwrap();
    let out = run(&[
        "build",
        &fixture("ok.rhai"),
        "--values",
        f.to_str().unwrap(),
    ]);
    assert!(
        text(&out.stdout).contains("name: from-file"),
        "{}",
        text(&out.stderr)
    );
    // --set wins over --values
    let out = run(&[
        "build",
        &fixture("ok.rhai"),
        "--values",
        f.to_str().unwrap(),
        "--set",
        "name=from-set",
    ]);
    assert!(text(&out.stdout).contains("name: from-set"));
}

#[test]
fn invalid_input_exits_1_with_diagnostics_on_stderr_only() {
    let out = run(&["build", &fixture("bad.rhai"), "--color", "never"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    insta::assert_snapshot!("bad_human", text(&out.stderr));
}

#[test]
fn short_and_json_message_formats() {
    let out = run(&["check", &fixture("bad.rhai"), "--message-format", "short"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "tests/cli/bad.rhai:2:24: error[E004]: unknown field `imagee` in step\n"
    );
    let out = run(&["check", &fixture("bad.rhai"), "--message-format", "json"]);
    let line = text(&out.stderr);
    let v: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON object");
    assert_eq!(v["code"], "E004");
    assert_eq!(v["line"], 2);
}

#[test]
fn check_ok_exits_0() {
    let out = run(&["check", &fixture("ok.rhai")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn missing_script_exits_2() {
    let out = run(&["build", "tests/cli/does-not-exist.rhai"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read tests/cli/does-not-exist.rhai"));
}

#[test]
fn usage_error_exits_2() {
    assert_eq!(run(&["build"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        run(&["build", &fixture("ok.rhai"), "--set", "novalue"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["build", &fixture("ok.rhai"), "--feature-gates", "gamma"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn explain_prints_the_long_explanation() {
    let out = run(&["explain", "E004"]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(s.starts_with("E004: unknown field"), "{s}");
    assert!(s.contains("Wrong:") && s.contains("Fixed:"), "{s}");
    assert_eq!(
        run(&["explain", "E999"]).status.code(),
        Some(2),
        "an unknown code is a usage error"
    );
    let list = text(&run(&["explain", "--list"]).stdout);
    assert!(list.lines().count() > 10);
}

#[test]
fn stdlib_lists_modules() {
    let out = run(&["stdlib"]);
    let s = text(&out.stdout);
    for m in [
        "git", "kaniko", "buildah", "golang", "node", "shell", "notify",
    ] {
        assert!(s.contains(m), "{s}");
    }
    assert_eq!(run(&["stdlib", "gti"]).status.code(), Some(1));
}

fn tree(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn out_dir_writes_files_and_check_detects_drift() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("deploy");
    let o = out_dir.to_str().unwrap();
    let out = run(&["build", &fixture("ok.rhai"), "-o", o]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    let files: Vec<_> = tree(&out_dir).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        files,
        vec![
            PathBuf::from("kustomization.yaml"),
            PathBuf::from("pipelines/greet.yaml"),
            PathBuf::from("tasks/hello.yaml"),
        ]
    );
    // up to date
    assert_eq!(
        run(&["build", &fixture("ok.rhai"), "-o", o, "--check"])
            .status
            .code(),
        Some(0)
    );
    // drift: a different name produces a different pipeline file
    let before = tree(&out_dir);
    let out = run(&[
        "build",
        &fixture("ok.rhai"),
        "-o",
        o,
        "--check",
        "--set",
        "name=other",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("out of date"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(tree(&out_dir), before, "--check must not write");
    // a failed build leaves the directory exactly as it was
    let out = run(&["build", &fixture("bad.rhai"), "-o", o]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(tree(&out_dir), before);
    // rebuilding with another name removes the stale pipeline file
    let out = run(&["build", &fixture("ok.rhai"), "-o", o, "--set", "name=other"]);
    assert_eq!(out.status.code(), Some(0));
    let files: Vec<_> = tree(&out_dir).into_iter().map(|(p, _)| p).collect();
    assert!(files.contains(&PathBuf::from("pipelines/other.yaml")));
    assert!(!files.contains(&PathBuf::from("pipelines/greet.yaml")));
}

#[test]
fn errors_in_modules_name_the_module_relative_to_the_working_directory() {
    let out = run(&["check", "tests/cli/modules/ci.rhai", "--color", "never"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("--> tests/cli/modules/lib.rhai:3:"), "{err}");
    assert!(err.contains("tests/cli/modules/ci.rhai:2:"), "{err}");
    assert!(err.contains("in this call to `make`"), "{err}");
}

/// `kubectl kustomize` (no cluster needed) accepts the kustomization `-o DIR` writes and renders every
/// object it lists; runs named by the server (`generateName`) are left out of it, since `kubectl apply`
/// cannot create them. Skipped with a printed reason when kubectl is not installed.
#[test]
fn kubectl_kustomize_renders_the_output_dir() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        println!("skipping: kubectl not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("deploy");
    let o = out_dir.to_str().unwrap();
    let out = run(&["build", "examples/go-service.rhai", "-o", o]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let k = Command::new("kubectl")
        .args(["kustomize", o])
        .output()
        .unwrap();
    assert!(k.status.success(), "{}", text(&k.stderr));
    let rendered = text(&k.stdout);
    for kind in ["kind: Pipeline", "kind: Task"] {
        assert!(rendered.contains(kind), "{rendered}");
    }
    assert!(!rendered.contains("kind: PipelineRun"), "{rendered}");
    assert!(
        out_dir
            .join("pipelineruns/go-service-ci-run-.yaml")
            .exists()
    );
}

#[test]
fn warnings_do_not_fail_unless_denied() {
    let out = run(&["check", &fixture("warn.rhai"), "--message-format", "short"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("warning[W503]") && err.contains("warning[W504]"),
        "{err}"
    );
    let out = run(&["check", &fixture("warn.rhai"), "--deny", "warnings"]);
    assert_eq!(out.status.code(), Some(1));
    // build still writes the YAML and shows the warnings on stderr
    let out = run(&["build", &fixture("warn.rhai")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("kind: Task"));
    assert!(text(&out.stderr).contains("W503"));
}

#[test]
fn check_yaml_files_together() {
    let dir = tempfile::tempdir().unwrap();
    let task = dir.path().join("task.yaml");
    let pipeline = dir.path().join("pipeline.yaml");
    std::fs::write(
        &task,
        "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: greet\nspec:\n  params:\n  - name: who\n  steps:\n  - name: say\n    image: alpine:3.20\n    script: |\n      #!/bin/sh\n      echo \"$(params.who)\"\n",
    )
    .unwrap();
    std::fs::write(
        &pipeline,
        "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata:\n  name: p\nspec:\n  tasks:\n  - name: a\n    taskRef:\n      name: greet\n    params:\n    - name: whoo\n      value: x\n",
    )
    .unwrap();
    let out = run(&[
        "check",
        task.to_str().unwrap(),
        pipeline.to_str().unwrap(),
        "--message-format",
        "short",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    // the pipeline in one file is checked against the task in the other
    assert!(err.contains("pipeline.yaml:11:"), "{err}");
    assert!(err.contains("E217") && err.contains("E218"), "{err}");
}

#[test]
fn definitions_writes_rhai_definition_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("defs");
    let o = run(&["definitions", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let mut all = String::new();
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        assert!(p.to_string_lossy().ends_with(".d.rhai"), "{}", p.display());
        all.push_str(&std::fs::read_to_string(p).unwrap());
    }
    // host functions with their parameter types, and the stdlib modules
    assert!(
        all.contains("fn pipeline(_: string) -> Pipeline;"),
        "{all:.3000}"
    );
    assert!(all.contains("-> PipelineTask;"), "{all:.3000}");
    assert!(
        all.contains("module git;") && all.contains("fn clone("),
        "{all:.3000}"
    );
}
