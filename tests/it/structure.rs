//! The structure pass (E1xx, E4xx): no false negatives, no false positives.
//!
//! * Every `tests/fixtures/structure/*.rhai` is a broken script for one rule. Its first line names
//!   the code it must produce (`// expect: E103`), the second the rule; an optional
//!   `// gates: alpha,enable-param-enum` line sets the feature gates (default: beta). The rendered
//!   E1xx/E4xx diagnostics are snapshots (`it__structure__fixtures@<file>.snap`).
//! * A valid script using many features compiles without structure diagnostics.
//! * Every Task, Pipeline, TaskRun, PipelineRun and StepAction of Tekton's examples (the shared
//!   corpus, when present) passes: Tekton accepts them, so must we.

use super::support::{corpus_dir, corpus_gates, expected_codes, yaml_files};
use serde_json::Value;
use std::path::Path;
use tekscript::Options;
use tekscript::bundle::{Bundle, Object, Origins, Resource};
use tekscript::source::SourceMap;
use tekscript::validate::{FeatureGates, Settings};

/// The `// expect:` codes and the `// gates:` of a fixture.
fn header(path: &Path, text: &str) -> (Vec<String>, FeatureGates) {
    let codes = expected_codes(path, text);
    let mut gates = FeatureGates::default();
    for line in text.lines().take_while(|l| l.starts_with("//")) {
        if let Some(g) = line.strip_prefix("// gates:") {
            gates =
                FeatureGates::parse(g.trim()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    (codes, gates)
}

/// Codes of the structure pass: E1xx and E4xx.
fn is_structure_code(code: &str) -> bool {
    code.starts_with("E1") || code.starts_with("E4")
}

fn options(gates: FeatureGates) -> Options {
    Options {
        settings: Settings { gates },
        ..Options::default()
    }
}

#[test]
fn fixtures() {
    insta::glob!("../fixtures/structure", "*.rhai", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let (codes, gates) = header(path, &text);
        // A relative path keeps the snapshots independent of the checkout's location.
        let rel = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf());
        let failure = match tekscript::compile_file(&rel, &options(gates)) {
            Ok(_) => panic!(
                "{}: compiled without errors, expected {codes:?}",
                rel.display()
            ),
            Err(f) => f,
        };
        let got: Vec<&str> = failure.diagnostics.iter().map(|d| d.code).collect();
        for code in &codes {
            assert!(
                got.contains(&code.as_str()),
                "{}: expected {code}, got {got:?}\n{}",
                rel.display(),
                failure.render_plain()
            );
        }
        // Only this pass's diagnostics: the lints and reference checks of `refs.rs` have their own
        // tests, and would make these snapshots change with every new lint.
        let ours = tekscript::Failure {
            sources: failure.sources,
            diagnostics: tekscript::diag::Diagnostics(
                failure
                    .diagnostics
                    .0
                    .into_iter()
                    .filter(|d| is_structure_code(d.code))
                    .collect(),
            ),
        };
        insta::assert_snapshot!(ours.render_plain());
    });
}

/// Enough fixtures, and every code of the pass is exercised by at least one reachable fixture
/// (except the ones the script API cannot express, listed here).
#[test]
fn fixtures_cover_the_codes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/structure");
    let mut seen = std::collections::BTreeSet::new();
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "rhai") {
            n += 1;
            let text = std::fs::read_to_string(&p).unwrap();
            seen.extend(header(&p, &text).0);
        }
    }
    assert!(n > 60, "only {n} fixtures");
    // Unreachable from scripts: the script API always gives a pipeline task and a run exactly one
    // task or pipeline.
    let unreachable = ["E127", "E135"];
    for c in tekscript::diag::codes::all() {
        if is_structure_code(c.code) && !unreachable.contains(&c.code) {
            assert!(seen.contains(c.code), "no fixture for {}", c.code);
        }
    }
}

const VALID: &str = r#"
let sa = step_action("print", #{
    image: "alpine:3.20",
    params: [#{ name: "message", "default": "hi" }],
    env: #{ MESSAGE: "$(params.message)" },
    script: "echo \"$MESSAGE\"",
    results: ["out"],
});

let build = task("build", #{ description: "Builds the app" });
let url = build.param("url");
let flags = build.param("flags", #{ type: "array", "default": ["-v"] });
let repo = build.param("repo", #{ type: "object", properties: ["url", "revision"], "default": #{ url: "u", revision: "main" } });
let src = build.workspace("source");
build.workspace("cache", #{ mountPath: "/cache", optional: true });
build.result("digest", #{ description: "image digest" });
build.result("meta", #{ properties: ["ref", "sha"] });
build.result("lifted", #{ value: "$(steps.compile.results.out)" });
build.step_template(#{ image: "golang:1.23", env: #{ GOFLAGS: "-mod=mod" } });
build.step(#{ name: "compile", script: "go build ./... && echo ok > $(step.results.out.path)", results: ["out"], timeout: "10m", onError: "continue" });
build.step(#{ name: "test", image: "golang:1.23", command: ["go"], args: ["test", "$(params.flags[*])"], volumeMounts: [#{ name: "tmp", mountPath: "/tekton/home/tmp" }] });
build.step(#{ name: "print", ref: sa, params: #{ message: "$(params.url)" } });
build.step(#{ name: "write", image: "alpine", script: "printf x > $(results.digest.path)" });
build.sidecar(#{ name: "docker", image: "docker:dind" });
build.volume(#{ name: "tmp", emptyDir: #{} });

let report = task("report");
report.param("status", #{ "default": "" });
report.param("version", #{ "default": "" });
report.step("send", "alpine", "echo done");

let p = pipeline("ci", #{ description: "CI" });
let purl = p.param("repo-url", #{ "default": "https://example.com/repo.git" });
let versions = p.param("versions", #{ type: "array", "default": ["1.22", "1.23"] });
let ws = p.workspace("data");
let b = p.task("build", build, #{
    params: #{ url: purl, flags: ["-race"], repo: #{ url: "x", revision: "y" } },
    workspaces: #{ source: ws, cache: ws },
    retries: 2,
    timeout: "30m",
    when: [when_in("$(params.repo-url)", ["https://example.com/repo.git"])],
});
p.task("matrix", report, #{
    matrix: #{ params: #{ version: ["1", "2", "3"] }, include: [#{ name: "extra", params: #{ version: "4" } }] },
    onError: "continue",
    embed: true,
}).after("build");
p.task("hub", from_hub("golang-test", "0.2"));
p.task("git", from_git(#{ url: "https://github.com/org/tasks", revision: "main", pathInRepo: "task.yaml" }));
p.task("wait", custom_task("wait.example.dev/v1alpha1", "Wait", "five"));
p.finally("notify", report, #{ params: #{ status: "$(tasks.status)" } });
p.result("digest", b.result("digest"));
p.result("ref", b.result("meta"));

let run = p.run(#{
    params: #{ "repo-url": "https://example.com/other.git" },
    workspaces: #{ data: volume_claim("1Gi") },
    timeouts: #{ pipeline: "2h", tasks: "1h30m", finally: "20m" },
    taskRunSpecs: [#{ pipelineTaskName: "build", timeout: "1h" }],
    status: "PipelineRunPending",
});
let tr = build.run(#{
    params: #{ url: "https://example.com/repo.git" },
    workspaces: #{ source: empty_dir(), cache: pvc("cache") },
    timeout: "0",
    retries: 1,
    embed: true,
});
emit([p, run, tr, build]);
"#;

#[test]
fn valid_script_has_no_structure_diagnostics() {
    let out = match tekscript::compile_str("valid.rhai", VALID, &Options::default()) {
        Ok(out) => out,
        Err(f) => panic!("{}", f.render_plain()),
    };
    let ours: Vec<_> = out
        .warnings
        .iter()
        .filter(|d| is_structure_code(d.code))
        .collect();
    assert!(ours.is_empty(), "{ours:?}");
}

#[test]
fn no_false_positives_on_corpus() {
    let Some(dir) = corpus_dir() else { return };
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    let sources = SourceMap::new();
    let mut failures = Vec::new();
    let mut undecodable = Vec::new();
    let mut checked = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let docs: Vec<Value> =
            serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let rel = f.strip_prefix(&dir).unwrap_or(f).display().to_string();
        for (i, doc) in docs.into_iter().enumerate() {
            let kind = doc["kind"].as_str().unwrap_or("");
            if !["Task", "Pipeline", "TaskRun", "PipelineRun", "StepAction"].contains(&kind) {
                continue;
            }
            let resource = match Resource::from_json(doc) {
                Ok(r) => r,
                Err(e) => {
                    // The model's business (see conformance.rs), not a structure rule.
                    undecodable.push(format!("{rel} #{i}: {e}"));
                    continue;
                }
            };
            checked += 1;
            let id = resource.id();
            let bundle = Bundle {
                objects: vec![Object {
                    resource,
                    origins: Origins::new(),
                }],
            };
            let settings = Settings {
                gates: corpus_gates(f),
            };
            let diags = match tekscript::validate::check(bundle, &sources, &settings) {
                Ok((_, warnings)) => warnings,
                Err(errors) => errors,
            };
            for d in diags.iter().filter(|d| is_structure_code(d.code)) {
                failures.push(format!(
                    "{rel} #{i} {id}: {} {} ({})",
                    d.code,
                    d.message,
                    d.path.as_deref().unwrap_or("")
                ));
            }
        }
    }
    println!("checked {checked} documents");
    if !undecodable.is_empty() {
        println!(
            "not checked (the model cannot read them):\n{}",
            undecodable.join("\n")
        );
    }
    assert!(checked > 150, "only {checked} documents checked");
    assert!(
        failures.is_empty(),
        "{} false positives:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
