//! Every ```rhai block in README.md and docs/*.md compiles (evaluation and validation), so the docs cannot
//! rot. A block that is a complete script compiles as it is; a fragment (it uses the document's
//! conventional `t`, `p`, `src`, … without declaring them) compiles after a prelude that declares them,
//! and gets the prelude's objects emitted after it.

use std::path::{Path, PathBuf};

/// The names the reference uses without declaring them (see "Conventions in this document").
const PRELUDE: &str = r##"import "git" as git;
import "kaniko" as kaniko;
import "node" as node;
let p = pipeline("doc-pipeline");
let t = task("doc-task");
let src = p.workspace("source");
let creds = p.workspace("dockerconfig", #{ optional: true });
p.workspace("cache", #{ optional: true });
let repo = p.param("repo-url", #{ default: "https://github.com/tektoncd/pipeline" });
let image = p.param("image", #{ default: "registry.example.com/app" });
let branch = p.param("branch", #{ default: "main" });
let dry_run = p.param("dry-run", #{ default: "false" });
let level = "info";
let fetch = p.task("doc-fetch", git::clone(), #{ params: #{ url: repo }, workspaces: #{ output: src } });
let test = p.task("doc-test", task("unit").step("unit", "docker.io/library/alpine:3.20", "#!/bin/sh\ntrue"));
let report = task("report").step("report", "docker.io/library/alpine:3.20", "#!/bin/sh\ntrue");
report.param("outcome");
report.param("all");
let deploy = task("deploy").step("deploy", "docker.io/library/alpine:3.20", "#!/bin/sh\ntrue");
"##;

const EPILOGUE: &str = "\nt.step(\"doc-step\", \"docker.io/library/alpine:3.20\", \"#!/bin/sh\\ntrue\");\nemit([t, p]);\n";

fn blocks(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut cur {
            None if line.trim_start() == "```rhai" => cur = Some((i + 1, String::new())),
            Some((start, body)) if line.trim_start() == "```" => {
                out.push((*start, std::mem::take(body)));
                cur = None;
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    out
}

fn is_test_script(body: &str) -> bool {
    let called = |name: &str| {
        body.match_indices(&format!("{name}(\"")).any(|(i, _)| {
            !body[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':' || c == '.')
        })
    };
    called("build") || called("test")
}

fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

#[test]
fn every_rhai_block_in_the_docs_compiles() {
    let opts = {
        let mut o = tekscript::Options::default();
        o.settings.gates = tekscript::validate::FeatureGates::parse(
            "alpha,enable-param-enum,enable-cel-in-whenexpression",
        )
        .unwrap();
        o
    };
    let dir = tempfile::tempdir().unwrap();
    // `file("scripts/release.sh")` in the docs reads next to the script
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("scripts/release.sh"),
        "#!/bin/sh\necho release\n",
    )
    .unwrap();
    let script = dir.path().join("doc.rhai");
    let mut failures = Vec::new();
    let mut count = 0;
    for file in doc_files() {
        for (line, body) in blocks(&file) {
            count += 1;
            // a `*.test.rhai` example (`build("ci.rhai")`, `test("..", || ..)`) runs under
            // `tekscript test`, not as a pipeline: it must parse
            if is_test_script(&body) {
                if let Err(e) = tekscript::script::meta::check_syntax(&body) {
                    failures.push(format!(
                        "{}:{line}\n--- as a test script:\n{e}",
                        file.display()
                    ));
                }
                continue;
            }
            let whole = tekscript::compile_text(&script, &body, &opts);
            if whole.is_ok() {
                continue;
            }
            let fragment = format!("{PRELUDE}{body}{EPILOGUE}");
            if let Err(f) = tekscript::compile_text(&script, &fragment, &opts) {
                let as_is = whole.unwrap_err().render_plain();
                failures.push(format!(
                    "{}:{line}\n--- as a script:\n{as_is}\n--- as a fragment:\n{}",
                    file.display(),
                    f.render_plain()
                ));
            }
        }
    }
    assert!(count >= 15, "found only {count} rhai blocks");
    assert!(
        failures.is_empty(),
        "{} of {count} rhai blocks do not compile:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
