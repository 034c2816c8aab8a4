//! Every `examples/*.rhai` compiles, and its YAML is exactly the snapshot (`it__examples__*`), the
//! same bytes on every build.

use std::path::Path;
use tekscript::Options;

/// Compiles a script file to YAML; a failure panics with the rendered diagnostics.
fn build(path: &Path, opts: &Options) -> String {
    match tekscript::compile_file(path, opts) {
        Ok(out) => out.to_yaml(),
        Err(failure) => panic!(
            "{} does not compile:\n{}",
            path.display(),
            failure.render_plain()
        ),
    }
}

/// `*.test.rhai`: a test file, not a pipeline script.
pub fn is_test_file(path: &Path) -> bool {
    path.to_string_lossy().ends_with(".test.rhai")
}

#[test]
fn examples() {
    insta::glob!("../../examples", "*.rhai", |path| {
        if is_test_file(path) {
            return; // `*.test.rhai` are tests of the examples (tests/it/testing.rs runs them)
        }
        let opts = Options::default();
        let yaml = build(path, &opts);
        assert_eq!(
            yaml,
            build(path, &opts),
            "{}: two builds differ",
            path.display()
        );
        insta::assert_snapshot!(yaml);
    });
}

/// The examples compile without warnings.
#[test]
fn examples_have_no_warnings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai") && !is_test_file(p))
        .collect();
    entries.sort();
    assert!(entries.len() >= 7, "expected at least 7 examples");
    for path in entries {
        let out = tekscript::compile_file(&path, &Options::default())
            .unwrap_or_else(|f| panic!("{}:\n{}", path.display(), f.render_plain()));
        assert!(
            out.warnings.0.is_empty(),
            "{} has warnings: {:?}",
            path.display(),
            out.warnings
                .0
                .iter()
                .map(|w| &w.message)
                .collect::<Vec<_>>()
        );
    }
}

/// `values` change what the monorepo example generates.
#[test]
fn monorepo_with_values() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/monorepo.rhai");
    let mut opts = Options::default();
    opts.set("only=web").unwrap();
    opts.set("registry=ghcr.io/acme").unwrap();
    insta::assert_snapshot!(build(&path, &opts));
}

/// A `values` entry that matches no service is reported by the script's own `throw`.
#[test]
fn monorepo_rejects_an_unknown_service() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/monorepo.rhai");
    let mut opts = Options::default();
    opts.set("only=nope").unwrap();
    let failure = tekscript::compile_file(&path, &opts).expect_err("should fail");
    let d = &failure.diagnostics.0[0];
    assert_eq!(d.code.id, "E006");
    assert!(
        d.message.contains("no service matched only=\"nope\""),
        "{}",
        d.message
    );
}

/// Every document an example emits validates against the matching Tekton CRD's openAPIV3Schema
/// (skipped with a printed reason when `../shared` is absent).
#[test]
fn examples_validate_against_the_crds() {
    if super::openapi::crd_schema("Task", "tekton.dev/v1").is_none() {
        println!(
            "skipping: ../shared/corpus/tekton-crds not found (only present in the tekscript workspace)"
        );
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai") && !is_test_file(p))
        .collect();
    entries.sort();
    let mut checked = 0;
    let mut problems = Vec::new();
    for path in entries {
        let out = tekscript::compile_file(&path, &Options::default())
            .unwrap_or_else(|f| panic!("{}:\n{}", path.display(), f.render_plain()));
        for doc in out.documents() {
            checked += 1;
            if let Err(errs) = super::openapi::validate_document(&doc) {
                problems.push(format!(
                    "{} {}/{}: {}",
                    path.display(),
                    doc["kind"],
                    doc["metadata"]["name"],
                    errs.join("; ")
                ));
            }
        }
    }
    println!("{checked} emitted documents validated against the CRDs");
    assert!(checked > 20, "only {checked} documents");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The script at the top of the README compiles without errors or warnings.
#[test]
fn readme_example_compiles() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("```rhai\n").expect("a rhai block") + "```rhai\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let out = tekscript::compile_str("README.md", &readme[start..end], &Options::default())
        .unwrap_or_else(|f| panic!("{}", f.render_plain()));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert!(out.to_yaml().contains("kind: PipelineRun"));
}
