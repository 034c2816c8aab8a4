//! The structure pass (E1xx, E4xx): no false negatives, no false positives.
//!
//! * Every `tests/fixtures/structure/*.rhai` is a broken script for one rule. Its first line names
//!   the code it must produce (`// expect: E103`), the second the rule; an optional
//!   `// gates: alpha,enable-param-enum` line sets the feature gates (default: beta). The rendered
//!   E1xx/E4xx diagnostics are snapshots (`it__structure__fixtures@<file>.snap`).
//! * A valid script using many features compiles without structure diagnostics.
//! * Every Task, Pipeline, TaskRun, PipelineRun and StepAction of Tekton's examples (the shared
//!   corpus, when present) passes: Tekton accepts them, so must we.

use super::support::{FixturePass, corpus_dir, corpus_gates, yaml_files};
use serde_json::Value;
use tekscript::Options;
use tekscript::bundle::{Bundle, Object, Origins, Resource};
use tekscript::source::SourceMap;
use tekscript::validate::Settings;

/// Codes of the structure pass: E1xx and E4xx.
fn is_structure_code(code: &str) -> bool {
    code.starts_with("E1") || code.starts_with("E4")
}

/// The fixtures of this pass (E1xx, E4xx).
const PASS: FixturePass = FixturePass {
    dir: "structure",
    ours: is_structure_code,
    only_ours: true,
    // Unreachable from scripts: the script API always gives a pipeline task and a run exactly one
    // task or pipeline.
    unreachable: &["E127", "E135"],
    min_fixtures: 61,
};

#[test]
fn fixtures() {
    insta::glob!("../fixtures/structure", "*.rhai", |path| {
        insta::assert_snapshot!(PASS.check(path));
    });
}

/// Enough fixtures, and every code of the pass is exercised by at least one reachable fixture
/// (except the ones the script API cannot express).
#[test]
fn fixtures_cover_the_codes() {
    PASS.check_coverage();
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
        .filter(|d| is_structure_code(d.code.id))
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
            for d in diags.iter().filter(|d| is_structure_code(d.code.id)) {
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
