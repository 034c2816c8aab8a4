//! tekscript: Tekton pipelines written as Rhai scripts.
//!
//! The flow is one-directional: a script is evaluated ([`script`]) into a [`bundle::Bundle`] of typed
//! Tekton objects ([`model`]) that remember where in the script each part came from; [`validate`]
//! checks the bundle; [`emit`] writes deterministic YAML. Diagnostics ([`diag`]) point back into the
//! script through the [`source::SourceMap`].
//!
//! ```no_run
//! let opts = tekscript::Options::default();
//! match tekscript::compile_file(std::path::Path::new("ci.rhai"), &opts) {
//!     Ok(out) => print!("{}", out.to_yaml()),
//!     Err(failure) => eprint!("{}", failure.render_plain()),
//! }
//! ```

pub mod bundle;
pub mod cli;
pub mod cluster;
pub mod diag;
pub mod emit;
pub mod events;
pub mod exec;
pub mod expr;
pub mod import;
pub mod local;
pub mod lsp;
pub mod model;
pub mod project;
pub mod script;
pub mod source;
pub mod testing;
pub mod validate;

use crate::diag::codes;
use crate::diag::render::{Format, render, render_summary};
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::SourceMap;
use crate::validate::{Settings, Validated};
use std::path::Path;

/// Inputs and settings of one compilation.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The `values` map the script sees: `--values` files merged in order, then `--set` pairs.
    pub values: serde_json::Map<String, serde_json::Value>,
    pub settings: Settings,
    /// `--allow`/`--deny` and the project file's lists; in-file `tekscript: allow(…)` comments apply always.
    pub policy: diag::policy::Policy,
}

/// How deeply `--set` keys may nest (`a.b.c=v` is 3): the depth limit `--values` files have.
pub const MAX_SET_DEPTH: usize = 64;

impl Options {
    /// Applies `--set key=value`. Dotted keys create nested maps (`image.tag=v1`); values stay strings.
    pub fn set(&mut self, pair: &str) -> Result<(), String> {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("`--set {pair}` needs the form key=value"))?;
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(format!("`--set {pair}`: the key must not be empty"));
        }
        let parts: Vec<&str> = key.split('.').collect();
        if parts.len() > MAX_SET_DEPTH {
            return Err(format!(
                "`--set`: the key `{}…` nests {} levels deep (at most {MAX_SET_DEPTH})",
                parts[..3].join("."),
                parts.len()
            ));
        }
        let mut map = &mut self.values;
        for part in &parts[..parts.len() - 1] {
            let entry = map
                .entry(part.to_string())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if !entry.is_object() {
                *entry = serde_json::Value::Object(Default::default());
            }
            map = entry.as_object_mut().expect("just made an object");
        }
        map.insert(
            parts[parts.len() - 1].to_string(),
            serde_json::Value::String(value.to_string()),
        );
        Ok(())
    }

    /// Merges a `--values` YAML document (a mapping) into the values, deeply. Scalars whose parsed value
    /// would not print back as written keep their text (`tag: 1.10` is the string `"1.10"`).
    pub fn merge_values_yaml(&mut self, text: &str) -> Result<(), String> {
        let v = emit::parse_values(text).map_err(|e| e.to_string())?;
        match v {
            serde_json::Value::Object(m) => {
                merge(&mut self.values, m);
                Ok(())
            }
            serde_json::Value::Null => Ok(()),
            _ => Err("a values file must be a YAML mapping (key: value)".into()),
        }
    }
}

fn merge(
    into: &mut serde_json::Map<String, serde_json::Value>,
    from: serde_json::Map<String, serde_json::Value>,
) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(serde_json::Value::Object(a)), serde_json::Value::Object(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// A successful compilation: validated objects, the evaluated sources and any warnings.
#[derive(Debug)]
pub struct Compilation {
    pub sources: SourceMap,
    pub bundle: Validated,
    pub warnings: Diagnostics,
}

impl Compilation {
    /// The objects as one YAML stream, in the order the script emitted them.
    pub fn to_yaml(&self) -> String {
        emit::to_yaml_stream(&self.documents()).expect("model types always serialize to YAML")
    }

    /// The objects as JSON values (what `kubectl apply` would send).
    pub fn documents(&self) -> Vec<serde_json::Value> {
        self.bundle
            .bundle()
            .objects
            .iter()
            .map(|o| o.resource.to_json())
            .collect()
    }

    /// One YAML document per object, sorted in apply order, for `build -o DIR`.
    pub fn emit_docs(&self) -> Vec<emit::EmitDoc> {
        let mut objs: Vec<_> = self.bundle.bundle().objects.iter().collect();
        objs.sort_by_key(|o| o.resource.apply_rank());
        objs.iter()
            .map(|o| {
                let m = o.resource.metadata();
                emit::EmitDoc {
                    kind: o.resource.kind().to_string(),
                    name: m
                        .name
                        .clone()
                        .or_else(|| m.generate_name.clone())
                        .unwrap_or_default(),
                    yaml: emit::to_yaml(&o.resource.to_json())
                        .expect("model types always serialize"),
                }
            })
            .collect()
    }
}

/// A failed compilation: the diagnostics, and the sources they point into.
#[derive(Debug)]
pub struct Failure {
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
}

impl Failure {
    /// Human-readable diagnostics without colour, followed by the summary line.
    pub fn render_plain(&self) -> String {
        let mut s = render(&self.diagnostics.0, &self.sources, Format::Human, false);
        s.push_str(&render_summary(&self.diagnostics.0));
        s
    }
}

/// Compiles a script file: evaluate, then validate. `file()` and relative imports may read the
/// script's directory tree.
pub fn compile_file(path: &Path, opts: &Options) -> Result<Compilation, Failure> {
    match source::read_text_file(path, source::MAX_INPUT_BYTES) {
        Ok(text) => compile_text(path, &text, opts),
        Err(e) => Err(Failure {
            sources: SourceMap::new(),
            diagnostics: Diagnostics(vec![Diagnostic::error(
                codes::E016,
                format!("cannot read {}: {e}", path.display()),
            )]),
        }),
    }
}

/// Compiles `text` as the script at `path` (an editor's unsaved buffer): `file()` and relative imports
/// read next to `path`, as for [`compile_file`].
pub fn compile_text(path: &Path, text: &str, opts: &Options) -> Result<Compilation, Failure> {
    let root = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .map(Path::to_path_buf);
    compile_input(
        script::ScriptInput {
            name: path.to_string_lossy().replace('\\', "/"),
            text: text.to_string(),
            root,
            values: serde_json::Value::Object(opts.values.clone()),
        },
        opts,
    )
}

/// Compiles a script given as text (for `build.rs` and tests). `file()` and relative imports are
/// unavailable; stdlib imports work.
pub fn compile_str(name: &str, text: &str, opts: &Options) -> Result<Compilation, Failure> {
    compile_input(
        script::ScriptInput {
            name: name.to_string(),
            text: text.to_string(),
            root: None,
            values: serde_json::Value::Object(opts.values.clone()),
        },
        opts,
    )
}

fn compile_input(input: script::ScriptInput, opts: &Options) -> Result<Compilation, Failure> {
    diag::suggest::reset_budget();
    let (sources, evaluated, script_warnings) = script::evaluate(input);
    let bundle = match evaluated {
        Ok(b) => b,
        Err(mut diagnostics) => {
            diagnostics.extend(script_warnings);
            opts.policy.apply(&mut diagnostics, &sources);
            return Err(Failure {
                sources,
                diagnostics,
            });
        }
    };
    let checked = match validate::check(bundle, &sources, &opts.settings) {
        Ok((bundle, mut warnings)) => {
            warnings.extend(script_warnings);
            warnings.sort();
            Ok((bundle, warnings))
        }
        Err(mut diagnostics) => {
            diagnostics.extend(script_warnings);
            diagnostics.sort();
            Err(diagnostics)
        }
    };
    finish(checked, sources, &opts.policy)
}

/// Applies the allow/deny policy to the outcome of validation: a denied warning fails the compilation.
fn finish(
    checked: Result<(Validated, Diagnostics), Diagnostics>,
    sources: SourceMap,
    policy: &diag::policy::Policy,
) -> Result<Compilation, Failure> {
    match checked {
        Ok((bundle, mut warnings)) => {
            policy.apply(&mut warnings, &sources);
            if warnings.has_errors() {
                return Err(Failure {
                    sources,
                    diagnostics: warnings,
                });
            }
            Ok(Compilation {
                sources,
                bundle,
                warnings,
            })
        }
        Err(mut diagnostics) => {
            policy.apply(&mut diagnostics, &sources);
            Err(Failure {
                sources,
                diagnostics,
            })
        }
    }
}

/// Checks existing Tekton YAML files (v1, or v1beta1 converted to v1) as one bundle, so references across
/// files resolve. Documents of other kinds are skipped.
pub fn check_yaml_files(
    paths: &[std::path::PathBuf],
    opts: &Options,
) -> Result<Compilation, Failure> {
    diag::suggest::reset_budget();
    let mut sources = SourceMap::new();
    let mut bundle = bundle::Bundle::default();
    let mut diagnostics = Diagnostics::default();
    let mut input_warnings = Diagnostics::default();
    for path in paths {
        let text = match source::read_text_file(path, source::MAX_INPUT_BYTES) {
            Ok(t) => t,
            Err(e) => {
                diagnostics.push(Diagnostic::error(
                    codes::E016,
                    format!("cannot read {}: {e}", path.display()),
                ));
                continue;
            }
        };
        let file = sources.add(path.to_string_lossy().replace('\\', "/"), text);
        match import::parse_file(&sources, file) {
            Ok((b, _skipped, w)) => {
                bundle.objects.extend(b.objects);
                input_warnings.extend(w);
            }
            Err(d) => diagnostics.extend(d),
        }
    }
    if diagnostics.has_errors() {
        diagnostics.extend(input_warnings);
        opts.policy.apply(&mut diagnostics, &sources);
        return Err(Failure {
            sources,
            diagnostics,
        });
    }
    let checked = match validate::check(bundle, &sources, &opts.settings) {
        Ok((bundle, mut warnings)) => {
            warnings.extend(input_warnings);
            warnings.sort();
            Ok((bundle, warnings))
        }
        Err(mut diagnostics) => {
            diagnostics.extend(input_warnings);
            diagnostics.sort();
            Err(diagnostics)
        }
    };
    finish(checked, sources, &opts.policy)
}
