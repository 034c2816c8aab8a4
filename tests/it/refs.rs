//! The reference, graph and lint checks (E2xx, E3xx, W5xx).
//!
//! * Every `tests/fixtures/refs/*.rhai` is a broken script for one rule. Its first line names the
//!   code it must produce (`// expect: E202`), the second the rule. The rendered diagnostics
//!   (errors, or warnings when the script compiles) are snapshots (`it__refs__fixtures@<file>.snap`).
//! * A valid script using many features compiles without reference diagnostics.
//! * Every Task, Pipeline, TaskRun and PipelineRun document of Tekton's examples (the shared corpus,
//!   when present), one bundle per file, produces no E2xx/E3xx errors: Tekton runs them all.
//! * `bench_1000_tasks` (ignored) times the pass on a generated 1000-task pipeline.

use super::support::{FixturePass, corpus_dir, corpus_gates, yaml_files};
use serde_json::Value;
use tekscript::Options;
use tekscript::bundle::{Bundle, Object, Origins, Resource};
use tekscript::diag::render::{Format, render};
use tekscript::source::SourceMap;
use tekscript::validate::Settings;

fn is_ours(code: &str) -> bool {
    code.starts_with("E2") || code.starts_with("E3") || code.starts_with("W5")
}

/// The fixtures of this pass: E2xx, E3xx and the W5xx lints.
const PASS: FixturePass = FixturePass {
    dir: "refs",
    ours: is_ours,
    only_ours: false,
    // The script API refuses `runAfter` on finally tasks before validation runs.
    unreachable: &["E306"],
    min_fixtures: 50,
};

#[test]
fn fixtures() {
    insta::glob!("../fixtures/refs", "*.rhai", |path| {
        insta::assert_snapshot!(PASS.check(path));
    });
}

/// Enough fixtures, and every code of the pass is exercised.
#[test]
fn fixtures_cover_the_codes() {
    PASS.check_coverage();
}

const VALID: &str = r##"
let sa = step_action("print", #{
    image: "alpine:3.20",
    params: [#{ name: "message", "default": "hi" }],
    env: #{ MESSAGE: "$(params.message)" },
    script: "#!/bin/sh\necho \"$MESSAGE\" > $(step.results.out.path)",
    results: ["out"],
});

let build = task("build");
build.param("url");
build.param("flags", #{ type: "array", "default": ["-v"] });
build.param("repo", #{ type: "object", properties: ["url", "revision"], "default": #{ url: "u", revision: "main" } });
build.param("a.b", #{ "default": "dotted" });
build.workspace("source");
build.workspace("cache", #{ mountPath: "/cache", optional: true });
build.result("digest");
build.result("meta", #{ properties: ["ref", "sha"] });
build.result("list", #{ type: "array" });
build.result("lifted", #{ value: "$(steps.compile.results.out)" });
build.step(#{ name: "compile", image: "golang:1.23", script: "#!/bin/sh\ncd $(workspaces.source.path) && git clone $(params.repo.url) && echo ok > $(step.results.out.path)", results: ["out"] });
build.step(#{ name: "test", image: "golang:1.23", command: ["go"], args: ["test", "$(params.flags[*])", "$(params.flags[0])", "$(params['a.b'])"], env: #{ OUT: "$(steps.compile.results.out)" } });
build.step(#{ name: "print", ref: sa, params: #{ message: "$(params.url)" } });
build.step(#{ name: "write", image: "alpine:3.20", script: "#!/bin/sh\nls /cache; printf x > $(results.digest.path); echo $(context.taskRun.name) $(context.task.retry-count) $(steps.step-compile.exitCode.path)" });

let report = task("report");
report.param("status");
report.param("version");
report.param("digests", #{ type: "array" });
report.result("digest");
report.step(#{ name: "send", image: "alpine:3.20", command: ["echo", "$(params.status)", "$(params.version)"], args: ["$(params.digests[*])", "$(results.digest.path)"] });

let p = pipeline("ci");
let purl = p.param("repo-url", #{ "default": "https://example.com/repo.git" });
let versions = p.param("versions", #{ type: "array", "default": ["1.22", "1.23"] });
let ws = p.workspace("data");
let b = p.task("build", build, #{
    params: #{ url: purl, flags: ["-race", "$(params.versions[*])"], repo: #{ url: "x", revision: "y" } },
    workspaces: #{ source: ws, cache: ws },
    when: [when_in("$(params.repo-url)", ["https://example.com/repo.git"])],
});
let m = p.task("matrix", report, #{
    params: #{ status: "ok", digests: ["$(tasks.build.results.list[*])"] },
    matrix: #{ params: #{ version: "$(params.versions[*])" } },
    displayName: "report $(params.version) $(context.pipelineRun.name)",
    embed: true,
});
p.task("use-matrix", report, #{
    params: #{ status: "$(tasks.matrix.matrix.length)", version: "$(tasks.build.results.meta.sha)", digests: "$(tasks.matrix.results.digest[*])" },
});
p.task("inline", task("inline").step("s", "alpine:3.20", "#!/bin/sh\necho $(params.repo-url) $(tasks.build.results.digest) $(workspaces.data.path)"), #{ embed: true, workspaces: #{ data: ws } });
p.finally("notify", report, #{ params: #{ status: "$(tasks.status) $(tasks.build.reason)", version: b.result("digest"), digests: [] } });
p.result("digest", b.result("digest"));
p.result("ref", b.result("meta"));

let run = p.run(#{
    params: #{ "repo-url": "https://example.com/other.git", versions: ["1", "2"] },
    workspaces: #{ data: volume_claim("1Gi") },
    taskRunSpecs: [#{ pipelineTaskName: "build", timeout: "1h" }],
});
let tr = build.run(#{
    params: #{ url: "https://example.com/repo.git" },
    workspaces: #{ source: empty_dir() },
});
emit([p, run, tr, build, report]);
"##;

#[test]
fn valid_script_has_no_reference_diagnostics() {
    let out = match tekscript::compile_str("valid.rhai", VALID, &Options::default()) {
        Ok(out) => out,
        Err(f) => panic!("{}", f.render_plain()),
    };
    let ours: Vec<_> = out.warnings.iter().filter(|d| is_ours(d.code.id)).collect();
    let rendered = render(&out.warnings.0, &out.sources, Format::Human, false);
    assert!(ours.is_empty(), "{rendered}");
}

#[test]
fn no_false_positives_on_corpus() {
    let Some(dir) = corpus_dir() else { return };
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    let sources = SourceMap::new();
    let mut failures = Vec::new();
    let mut warnings = std::collections::BTreeMap::<&str, usize>::new();
    let mut documents = 0;
    // `REFS_SHOW_WARNINGS=1 cargo test … -- --nocapture` lists the warnings.
    let show = std::env::var_os("REFS_SHOW_WARNINGS").is_some();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let docs: Vec<Value> =
            serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let rel = f.strip_prefix(&dir).unwrap_or(f).display().to_string();
        let mut bundle = Bundle::default();
        for doc in docs {
            let kind = doc["kind"].as_str().unwrap_or("");
            if !["Task", "Pipeline", "TaskRun", "PipelineRun"].contains(&kind) {
                continue;
            }
            // Documents the model cannot read are conformance.rs's business.
            if let Ok(resource) = Resource::from_json(doc) {
                documents += 1;
                bundle.objects.push(Object {
                    resource,
                    origins: Origins::new(),
                });
            }
        }
        if bundle.objects.is_empty() {
            continue;
        }
        let settings = Settings {
            gates: corpus_gates(f),
        };
        let diags = match tekscript::validate::check(bundle, &sources, &settings) {
            Ok((_, w)) => w.0,
            Err(d) => d.0,
        };
        for d in &diags {
            if !is_ours(d.code.id) {
                continue;
            }
            if d.is_error() {
                failures.push(format!(
                    "{rel}: {} {} ({})",
                    d.code,
                    d.message,
                    d.path.as_deref().unwrap_or("")
                ));
            } else {
                *warnings.entry(d.code.id).or_default() += 1;
                if show && !["W503", "W504"].contains(&d.code.id) {
                    println!(
                        "{rel}: {} {} ({})",
                        d.code,
                        d.message,
                        d.path.as_deref().unwrap_or("")
                    );
                }
            }
        }
    }
    println!(
        "{documents} documents in {} files; warnings: {warnings:?}",
        files.len()
    );
    assert!(documents > 200, "only {documents} documents");
    assert!(
        failures.is_empty(),
        "{} false positives:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A pipeline of `n` tasks: a chain through results, plus a fan-out from the first task, with
/// params and result references everywhere.
fn big_pipeline(n: usize) -> Bundle {
    use serde_json::json;
    let mut tasks = Vec::new();
    for i in 0..n {
        let mut params = vec![json!({"name": "in", "value": "$(params.seed)-$(params.list[0])"})];
        let mut run_after = Vec::new();
        if i > 0 {
            let prev = if i % 10 == 0 { 0 } else { i - 1 };
            params.push(json!({"name": "prev", "value": format!("$(tasks.t{prev}.results.out)")}));
            if i % 7 == 0 {
                run_after.push(format!("t{}", i / 2));
            }
        }
        tasks.push(json!({
            "name": format!("t{i}"),
            "params": params,
            "runAfter": run_after,
            "taskSpec": {
                "params": [{"name": "in"}, {"name": "prev", "default": ""}],
                "results": [{"name": "out"}],
                "steps": [{
                    "name": "s",
                    "image": "alpine:3.20",
                    "script": "#!/bin/sh\necho $(params.in) $(params.prev) $(params.seed) > $(results.out.path)"
                }]
            }
        }));
    }
    let p = json!({
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": {"name": "big"},
        "spec": {
            "params": [{"name": "seed"}, {"name": "list", "type": "array", "default": ["a", "b"]}],
            "tasks": tasks,
            "results": [{"name": "last", "value": format!("$(tasks.t{}.results.out)", n - 1)}]
        }
    });
    Bundle {
        objects: vec![Object {
            resource: Resource::from_json(p).unwrap(),
            origins: Origins::new(),
        }],
    }
}

/// `cargo test --release --test it refs::bench_1000_tasks -- --ignored --nocapture`
#[test]
#[ignore]
fn bench_1000_tasks() {
    let sources = SourceMap::new();
    let settings = Settings::default();
    for n in [250, 500, 1000, 2000] {
        let bundle = big_pipeline(n);
        let mut times = Vec::new();
        for _ in 0..10 {
            let b = bundle.clone();
            let t = std::time::Instant::now();
            let r = tekscript::validate::check(b, &sources, &settings);
            times.push(t.elapsed());
            if let Err(d) = &r {
                panic!(
                    "{:?}",
                    d.0.iter().map(|d| (d.code, &d.message)).collect::<Vec<_>>()
                );
            }
        }
        times.sort();
        println!(
            "validate::check, {n} tasks: median {:?} (min {:?}, max {:?})",
            times[5], times[0], times[9]
        );
    }
}
