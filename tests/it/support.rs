//! Helpers shared by the integration tests: the Tekton example corpus in `../shared`.

use std::path::{Path, PathBuf};
use tekscript::validate::{FeatureGates, Stability};

/// `../shared/corpus/tekton-examples`, or `None` (with a printed reason) outside the tekscript workspace.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/tekton-examples"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipping: ../shared/corpus/tekton-examples not found (only present in the tekscript workspace)"
        );
        None
    }
}

/// Every `.yaml`/`.yml` file under `dir`, recursively, in sorted order.
pub fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
}

/// The gates Tekton's example harness runs a file with: `alpha/` → alpha and every per-feature flag,
/// otherwise beta.
pub fn corpus_gates(path: &Path) -> FeatureGates {
    if path.components().any(|c| c.as_os_str() == "alpha") {
        FeatureGates {
            api_fields: Stability::Alpha,
            enable_param_enum: true,
            enable_cel_in_when: true,
            enable_artifacts: true,
            enable_concise_resolver_syntax: true,
        }
    } else {
        FeatureGates {
            api_fields: Stability::Beta,
            ..FeatureGates::default()
        }
    }
}

/// The codes a diagnostic fixture expects: its first line is `// expect: E123[, E456]` and its second
/// line (`// …`) names the rule.
pub fn expected_codes(path: &Path, text: &str) -> Vec<String> {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let codes: Vec<String> = first
        .strip_prefix("// expect:")
        .unwrap_or_else(|| {
            panic!(
                "{}: the first line must be `// expect: CODE`",
                path.display()
            )
        })
        .split([',', ' '])
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    assert!(!codes.is_empty(), "{}: no expected code", path.display());
    let rule = lines.next().unwrap_or_default();
    assert!(
        rule.starts_with("// "),
        "{}: the second line must name the rule",
        path.display()
    );
    codes
}
