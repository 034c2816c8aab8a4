//! No false positives: every file of Tekton's own examples passes `tekscript check FILE.yaml` (the real
//! YAML path: positions, v1beta1 conversion, all validation passes) with the feature gates its folder
//! implies. Skipped with a printed reason when `../shared` is absent.

use std::path::{Path, PathBuf};
use tekscript::Options;
use tekscript::validate::FeatureGates;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

#[test]
fn every_corpus_file_passes_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/tekton-examples");
    if !root.exists() {
        println!("skipping: ../shared/corpus not found (only present in the tekscript workspace)");
        return;
    }
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    let mut failures = Vec::new();
    let mut objects = 0;
    let mut warnings = 0;
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let gates = if rel.contains("/alpha/") {
            "alpha,enable-param-enum,enable-cel-in-whenexpression,enable-artifacts,enable-concise-resolver-syntax"
        } else {
            "beta"
        };
        let mut opts = Options::default();
        opts.settings.gates = FeatureGates::parse(gates).unwrap();
        match tekscript::check_yaml_files(std::slice::from_ref(f), &opts) {
            Ok(c) => {
                objects += c.bundle.bundle().objects.len();
                warnings += c.warnings.warnings();
            }
            Err(failure) => failures.push(format!("{rel}:\n{}", failure.render_plain())),
        }
    }
    println!(
        "{} files, {objects} Tekton objects checked, {warnings} warnings, {} files with errors",
        files.len(),
        failures.len()
    );
    assert!(files.len() > 100, "only {} corpus files found", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
