//! No false positives: every file of Tekton's own examples passes `tekscript check FILE.yaml` (the real
//! YAML path: positions, v1beta1 conversion, all validation passes) with the feature gates its folder
//! implies. Skipped with a printed reason when `../shared` is absent.

use super::support::{corpus_dir, corpus_gates, yaml_files};
use tekscript::Options;

#[test]
fn every_corpus_file_passes_check() {
    let Some(root) = corpus_dir() else { return };
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
        let mut opts = Options::default();
        opts.settings.gates = corpus_gates(f);
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
