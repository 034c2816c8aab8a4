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

/// One validation pass's fixture directory (`tests/fixtures/<dir>/*.rhai`): each file is a broken script
/// for one rule. Its first line names the codes it must produce (`// expect: E202`), the second the
/// rule; an optional `// gates: alpha,enable-param-enum` line sets the feature gates (default: beta).
pub struct FixturePass {
    /// The folder under `tests/fixtures/`.
    pub dir: &'static str,
    /// Whether a code belongs to this pass.
    pub ours: fn(&str) -> bool,
    /// `true`: the fixture must fail to compile and the snapshot shows only this pass's diagnostics
    /// (so it does not change with every new lint). `false`: a fixture may compile (warnings) and the
    /// snapshot shows everything.
    pub only_ours: bool,
    /// Codes the script API cannot express, so no fixture can produce them.
    pub unreachable: &'static [&'static str],
    /// At least this many fixtures.
    pub min_fixtures: usize,
}

impl FixturePass {
    /// The `// expect:` codes and the `// gates:` of a fixture.
    pub fn header(path: &Path, text: &str) -> (Vec<String>, tekscript::validate::FeatureGates) {
        let codes = expected_codes(path, text);
        let mut gates = tekscript::validate::FeatureGates::default();
        for line in text.lines().take_while(|l| l.starts_with("//")) {
            if let Some(g) = line.strip_prefix("// gates:") {
                gates = tekscript::validate::FeatureGates::parse(g.trim())
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
        (codes, gates)
    }

    /// Compiles one fixture, checks that it produces its expected codes and no other error of this
    /// pass, and returns the rendered diagnostics to snapshot.
    pub fn check(&self, path: &Path) -> String {
        use tekscript::diag::render::{Format, render, render_summary};
        let text = std::fs::read_to_string(path).unwrap();
        let (codes, gates) = Self::header(path, &text);
        // A relative path keeps the snapshots independent of the checkout's location.
        let rel = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf());
        let options = tekscript::Options {
            settings: tekscript::validate::Settings { gates },
            ..tekscript::Options::default()
        };
        let (diags, rendered) = match tekscript::compile_file(&rel, &options) {
            Ok(_) if self.only_ours => panic!(
                "{}: compiled without errors, expected {codes:?}",
                rel.display()
            ),
            Ok(out) => {
                let mut s = render(&out.warnings.0, &out.sources, Format::Human, false);
                s.push_str(&render_summary(&out.warnings.0));
                (out.warnings.0, s)
            }
            Err(f) if self.only_ours => {
                let ours = tekscript::Failure {
                    sources: f.sources,
                    diagnostics: tekscript::diag::Diagnostics(
                        f.diagnostics
                            .0
                            .iter()
                            .filter(|d| (self.ours)(d.code.id))
                            .cloned()
                            .collect(),
                    ),
                };
                (f.diagnostics.0, ours.render_plain())
            }
            Err(f) => {
                let s = f.render_plain();
                (f.diagnostics.0, s)
            }
        };
        let got: Vec<&str> = diags.iter().map(|d| d.code.id).collect();
        for code in &codes {
            assert!(
                got.contains(&code.as_str()),
                "{}: expected {code}, got {got:?}\n{rendered}",
                rel.display()
            );
        }
        // No other error of this pass: a fixture tests one rule.
        let stray: Vec<&str> = diags
            .iter()
            .filter(|d| {
                d.is_error() && (self.ours)(d.code.id) && !codes.iter().any(|c| c == d.code.id)
            })
            .map(|d| d.code.id)
            .collect();
        assert!(
            stray.is_empty(),
            "{}: unexpected {stray:?}\n{rendered}",
            rel.display()
        );
        rendered
    }

    /// Enough fixtures, and every code of the pass is produced by at least one (except `unreachable`).
    pub fn check_coverage(&self) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(self.dir);
        let mut seen = std::collections::BTreeSet::new();
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rhai") {
                n += 1;
                let text = std::fs::read_to_string(&p).unwrap();
                seen.extend(expected_codes(&p, &text));
            }
        }
        assert!(
            n >= self.min_fixtures,
            "only {n} fixtures in {}",
            dir.display()
        );
        for c in tekscript::diag::codes::all() {
            if (self.ours)(c.id) && !self.unreachable.contains(&c.id) {
                assert!(seen.contains(c.id), "no fixture for {}", c.id);
            }
        }
    }
}
