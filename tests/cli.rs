//! CLI tests: exit codes, the stdout/stderr split, `-o DIR` and `--check`.
//!
//! Every run is checked whole, as `just`'s test builder does: the exit status, all of stdout and all of
//! stderr, each either given exactly or as an insta snapshot (`tests/snapshots/cli__*.snap`) — never a
//! substring. Temporary directories are written as `[TMP]` so the snapshots do not depend on them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one stream must be.
enum Expect {
    Exact(String),
    Snapshot(&'static str),
}

/// One run of the binary and what it must give.
struct Test {
    args: Vec<String>,
    tmp: Option<PathBuf>,
    status: i32,
    stdout: Expect,
    stderr: Expect,
}

/// What a run gave, after [`Test::run`] checked it.
struct Ran {
    stdout: String,
    stderr: String,
}

impl Test {
    /// A run of `tekscript ARGS` in the crate's directory that must exit 0 with empty stdout and stderr
    /// unless told otherwise.
    fn new(args: &[&str]) -> Test {
        Test {
            args: args.iter().map(|s| s.to_string()).collect(),
            tmp: None,
            status: 0,
            stdout: Expect::Exact(String::new()),
            stderr: Expect::Exact(String::new()),
        }
    }

    /// Writes this directory as `[TMP]` in the output before comparing.
    fn tmp(mut self, dir: &Path) -> Test {
        self.tmp = Some(dir.to_path_buf());
        self
    }

    fn status(mut self, status: i32) -> Test {
        self.status = status;
        self
    }

    fn stdout(mut self, s: &str) -> Test {
        self.stdout = Expect::Exact(s.to_string());
        self
    }

    fn stderr(mut self, s: &str) -> Test {
        self.stderr = Expect::Exact(s.to_string());
        self
    }

    fn stdout_snapshot(mut self, name: &'static str) -> Test {
        self.stdout = Expect::Snapshot(name);
        self
    }

    fn stderr_snapshot(mut self, name: &'static str) -> Test {
        self.stderr = Expect::Snapshot(name);
        self
    }

    #[track_caller]
    fn run(self) -> Ran {
        let out = Command::new(env!("CARGO_BIN_EXE_tekscript"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("NO_COLOR")
            .args(&self.args)
            .output()
            .expect("runs");
        let clean = |s: String| match &self.tmp {
            Some(t) => s.replace(&t.display().to_string(), "[TMP]"),
            None => s,
        };
        let stdout = clean(String::from_utf8_lossy(&out.stdout).into_owned());
        let stderr = clean(String::from_utf8_lossy(&out.stderr).into_owned());
        let what = clean(format!("tekscript {}", self.args.join(" ")));
        assert_eq!(
            out.status.code(),
            Some(self.status),
            "{what}: exit status\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
        for (name, expect, got) in [
            ("stdout", &self.stdout, &stdout),
            ("stderr", &self.stderr, &stderr),
        ] {
            match expect {
                Expect::Exact(want) => assert_eq!(got, want, "{what}: {name}"),
                Expect::Snapshot(snap) => {
                    insta::with_settings!({ description => what.as_str(), omit_expression => true }, {
                        insta::assert_snapshot!(*snap, got);
                    })
                }
            }
        }
        Ran { stdout, stderr }
    }
}

fn fixture(name: &str) -> String {
    format!("tests/cli/{name}")
}

/// Every file under `dir` with its content, sorted by path.
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
fn build_prints_yaml_on_stdout_and_nothing_on_stderr() {
    let r = Test::new(&["build", &fixture("ok.rhai")])
        .stdout_snapshot("build_ok")
        .run();
    assert!(r.stdout.ends_with('\n') && !r.stdout.ends_with("\n\n"));
}

#[test]
fn build_is_deterministic() {
    let a = Test::new(&["build", &fixture("ok.rhai")])
        .stdout_snapshot("build_ok")
        .run();
    let b = Test::new(&["build", &fixture("ok.rhai")])
        .stdout_snapshot("build_ok")
        .run();
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn set_reaches_the_script() {
    Test::new(&["build", &fixture("ok.rhai"), "--set", "name=custom"])
        .stdout_snapshot("build_set_name")
        .run();
}

#[test]
fn values_file_reaches_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("v.yaml");
    std::fs::write(&f, "name: from-file\n").unwrap();
    let f = f.to_str().unwrap();
    Test::new(&["build", &fixture("ok.rhai"), "--values", f])
        .tmp(dir.path())
        .stdout_snapshot("build_values_file")
        .run();
    // --set wins over --values
    let r = Test::new(&[
        "build",
        &fixture("ok.rhai"),
        "--values",
        f,
        "--set",
        "name=from-set",
    ])
    .tmp(dir.path())
    .stdout_snapshot("build_values_and_set")
    .run();
    assert!(r.stdout.contains("name: from-set"));
}

#[test]
fn invalid_input_exits_1_with_diagnostics_on_stderr_only() {
    Test::new(&["build", &fixture("bad.rhai"), "--color", "never"])
        .status(1)
        .stderr_snapshot("bad_human")
        .run();
}

#[test]
fn short_and_json_message_formats() {
    Test::new(&["check", &fixture("bad.rhai"), "--message-format", "short"])
        .status(1)
        .stderr("tests/cli/bad.rhai:2:24: error[E004]: unknown field `imagee` in step\n")
        .run();
    let r = Test::new(&["check", &fixture("bad.rhai"), "--message-format", "json"])
        .status(1)
        .stderr_snapshot("bad_json")
        .run();
    let v: serde_json::Value = serde_json::from_str(r.stderr.trim()).expect("one JSON object");
    assert_eq!(
        (v["code"].as_str(), v["line"].as_u64()),
        (Some("E004"), Some(2))
    );
}

#[test]
fn check_ok_exits_0() {
    Test::new(&["check", &fixture("ok.rhai")])
        .stderr("ok: tests/cli/ok.rhai has no problems\n")
        .run();
}

#[test]
fn missing_script_exits_2() {
    Test::new(&["build", "tests/cli/does-not-exist.rhai"])
        .status(2)
        .stderr_snapshot("missing_script")
        .run();
}

#[test]
fn usage_error_exits_2() {
    Test::new(&["build"])
        .status(2)
        .stderr_snapshot("usage_no_script")
        .run();
    Test::new(&["frobnicate"])
        .status(2)
        .stderr_snapshot("usage_unknown_command")
        .run();
    Test::new(&["build", &fixture("ok.rhai"), "--set", "novalue"])
        .status(2)
        .stderr_snapshot("usage_set_without_value")
        .run();
    Test::new(&["build", &fixture("ok.rhai"), "--feature-gates", "gamma"])
        .status(2)
        .stderr_snapshot("usage_unknown_gate")
        .run();
}

#[test]
fn explain_prints_the_long_explanation() {
    Test::new(&["explain", "E004"])
        .stdout_snapshot("explain_e004")
        .run();
    // an unknown code is a usage error
    Test::new(&["explain", "E999"])
        .status(2)
        .stderr_snapshot("explain_unknown")
        .run();
    Test::new(&["explain", "--list"])
        .stdout_snapshot("explain_list")
        .run();
}

#[test]
fn stdlib_lists_modules() {
    Test::new(&["stdlib"]).stdout_snapshot("stdlib").run();
    Test::new(&["stdlib", "gti"])
        .status(1)
        .stderr_snapshot("stdlib_unknown")
        .run();
}

#[test]
fn out_dir_writes_files_and_check_detects_drift() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("deploy");
    let o = out_dir.to_str().unwrap();
    Test::new(&["build", &fixture("ok.rhai"), "-o", o])
        .tmp(dir.path())
        .stderr("wrote [TMP]/deploy: 3 written, 0 unchanged, 0 removed\n")
        .run();
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
    Test::new(&["build", &fixture("ok.rhai"), "-o", o, "--check"])
        .tmp(dir.path())
        .stderr_snapshot("out_dir_check_ok")
        .run();
    // drift: a different name produces a different pipeline file
    let before = tree(&out_dir);
    Test::new(&[
        "build",
        &fixture("ok.rhai"),
        "-o",
        o,
        "--check",
        "--set",
        "name=other",
    ])
    .tmp(dir.path())
    .status(1)
    .stderr_snapshot("out_dir_check_drift")
    .run();
    assert_eq!(tree(&out_dir), before, "--check must not write");
    // a failed build leaves the directory exactly as it was
    Test::new(&["build", &fixture("bad.rhai"), "-o", o, "--color", "never"])
        .status(1)
        .stderr_snapshot("bad_human")
        .run();
    assert_eq!(tree(&out_dir), before);
    // rebuilding with another name removes the stale pipeline file
    Test::new(&["build", &fixture("ok.rhai"), "-o", o, "--set", "name=other"])
        .tmp(dir.path())
        .stderr_snapshot("out_dir_rebuild")
        .run();
    let files: Vec<_> = tree(&out_dir).into_iter().map(|(p, _)| p).collect();
    assert!(files.contains(&PathBuf::from("pipelines/other.yaml")));
    assert!(!files.contains(&PathBuf::from("pipelines/greet.yaml")));
}

#[test]
fn errors_in_modules_name_the_module_relative_to_the_working_directory() {
    let r = Test::new(&["check", "tests/cli/modules/ci.rhai", "--color", "never"])
        .status(1)
        .stderr_snapshot("module_error")
        .run();
    assert!(r.stderr.contains("--> tests/cli/modules/lib.rhai:3:"));
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
    Test::new(&["build", "examples/go-service.rhai", "-o", o])
        .tmp(dir.path())
        .stderr("wrote [TMP]/deploy: 6 written, 0 unchanged, 0 removed\n")
        .run();
    let k = Command::new("kubectl")
        .args(["kustomize", o])
        .output()
        .unwrap();
    let rendered = String::from_utf8_lossy(&k.stdout);
    assert!(k.status.success(), "{}", String::from_utf8_lossy(&k.stderr));
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
    Test::new(&["check", &fixture("warn.rhai"), "--message-format", "short"])
        .stderr_snapshot("warn_short")
        .run();
    Test::new(&[
        "check",
        &fixture("warn.rhai"),
        "--deny",
        "warnings",
        "--color",
        "never",
    ])
    .status(1)
    .stderr_snapshot("warn_denied")
    .run();
    // build still writes the YAML and shows the warnings on stderr
    Test::new(&["build", &fixture("warn.rhai"), "--color", "never"])
        .stdout_snapshot("warn_build_yaml")
        .stderr_snapshot("warn_build_stderr")
        .run();
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
    // the pipeline in one file is checked against the task in the other (E217, E218 at pipeline.yaml:11)
    Test::new(&[
        "check",
        task.to_str().unwrap(),
        pipeline.to_str().unwrap(),
        "--message-format",
        "short",
    ])
    .tmp(dir.path())
    .status(1)
    .stderr_snapshot("check_yaml_together")
    .run();
}

#[test]
fn definitions_writes_rhai_definition_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("defs");
    Test::new(&["definitions", out.to_str().unwrap()])
        .tmp(dir.path())
        .stderr_snapshot("definitions")
        .run();
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

#[test]
fn version_is_the_crate_version() {
    Test::new(&["--version"])
        .stdout(&format!("tekscript {}\n", env!("CARGO_PKG_VERSION")))
        .run();
}
