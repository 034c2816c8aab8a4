//! Validation: pure passes over a [`Bundle`]. Nothing downstream of validation accepts an unvalidated
//! bundle: [`Validated`] can only be made by [`check`].

mod refs;
mod structure;

use crate::bundle::{Bundle, Object};
use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{SourceMap, Span};

/// What every pass gets: the settings, the sources (to pin a `$(…)` inside a script string) and the sink.
pub struct Ctx<'a> {
    pub settings: &'a Settings,
    pub sources: &'a SourceMap,
    pub diags: Diagnostics,
}

/// A diagnostic about an object made inside a module carries the calls from the user's script to it.
fn with_trace(obj: &Object, d: Diagnostic) -> Diagnostic {
    let trace = obj.origins.trace();
    let in_module = d
        .span
        .zip(trace.last())
        .is_some_and(|(s, (user, _))| s.file != user.file);
    if !in_module || !d.trace.is_empty() {
        return d;
    }
    let frames = trace
        .iter()
        .map(|(span, note)| crate::diag::Frame {
            span: *span,
            note: note.clone(),
        })
        .collect();
    d.with_trace(frames)
}

impl Ctx<'_> {
    /// Reports `d` at a field path of `obj`: the span recorded for the path (or its closest ancestor), and
    /// the path itself as a note.
    pub fn report(&mut self, obj: &Object, path: &str, d: Diagnostic) {
        let d = d
            .at(obj.span(path))
            .path(format!("{}: {}", obj.resource.id(), display_path(path)));
        self.diags.push(with_trace(obj, d));
    }

    /// Like [`Ctx::report`], but narrows the span to the first occurrence of `needle` (e.g. the `$(…)`
    /// text) in the source after the recorded position, when it can be found within the same call.
    pub fn report_text(&mut self, obj: &Object, path: &str, needle: &str, d: Diagnostic) {
        let span = obj.span(path).map(|s| self.narrow(s, needle).unwrap_or(s));
        let d = d
            .at(span)
            .path(format!("{}: {}", obj.resource.id(), display_path(path)));
        self.diags.push(with_trace(obj, d));
    }

    /// The span of `needle` in the source text after `from`, within 4 KiB.
    pub fn narrow(&self, from: Span, needle: &str) -> Option<Span> {
        if needle.is_empty() {
            return None;
        }
        let text = &self.sources.get(from.file).text;
        let start = from.start.min(text.len());
        let mut end = (start + 4096).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let i = text[start..end].find(needle)?;
        Some(Span::new(from.file, start + i, start + i + needle.len()))
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "(the object)"
    } else {
        path
    }
}

/// Tekton's `enable-api-fields`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Stability {
    Stable,
    #[default]
    Beta,
    Alpha,
}

impl Stability {
    pub fn as_str(self) -> &'static str {
        match self {
            Stability::Stable => "stable",
            Stability::Beta => "beta",
            Stability::Alpha => "alpha",
        }
    }
}

/// The feature flags of the target cluster (Tekton's `feature-flags` config map).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureGates {
    pub api_fields: Stability,
    pub enable_param_enum: bool,
    pub enable_cel_in_when: bool,
    pub enable_artifacts: bool,
    pub enable_concise_resolver_syntax: bool,
}

impl FeatureGates {
    /// Parses `--feature-gates alpha,enable-param-enum`: at most one of `stable`, `beta`, `alpha`, plus
    /// any of `enable-param-enum`, `enable-cel-in-whenexpression`, `enable-artifacts`,
    /// `enable-concise-resolver-syntax`.
    pub fn parse(s: &str) -> Result<FeatureGates, String> {
        let mut g = FeatureGates::default();
        for item in s.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "stable" => g.api_fields = Stability::Stable,
                "beta" => g.api_fields = Stability::Beta,
                "alpha" => g.api_fields = Stability::Alpha,
                "enable-param-enum" => g.enable_param_enum = true,
                "enable-cel-in-whenexpression" => g.enable_cel_in_when = true,
                "enable-artifacts" => g.enable_artifacts = true,
                "enable-concise-resolver-syntax" => g.enable_concise_resolver_syntax = true,
                other => {
                    return Err(format!(
                        "unknown feature gate `{other}`; expected stable, beta, alpha, enable-param-enum, enable-cel-in-whenexpression, enable-artifacts or enable-concise-resolver-syntax"
                    ));
                }
            }
        }
        Ok(g)
    }
}

#[cfg(test)]
mod gate_tests {
    use super::*;

    #[test]
    fn gates_print_as_they_parse_and_unite() {
        for s in [
            "beta",
            "alpha,enable-param-enum",
            "stable,enable-artifacts,enable-concise-resolver-syntax",
        ] {
            assert_eq!(FeatureGates::parse(s).unwrap().to_list(), s);
        }
        let a = FeatureGates::parse("alpha").unwrap();
        let b = FeatureGates::parse("stable,enable-cel-in-whenexpression").unwrap();
        assert_eq!(a.union(&b).to_list(), "alpha,enable-cel-in-whenexpression");
    }
}

impl FeatureGates {
    /// The `--feature-gates` text for these gates (`alpha,enable-param-enum`); parses back to them.
    pub fn to_list(&self) -> String {
        let mut items = vec![self.api_fields.as_str()];
        for (on, name) in [
            (self.enable_param_enum, "enable-param-enum"),
            (self.enable_cel_in_when, "enable-cel-in-whenexpression"),
            (self.enable_artifacts, "enable-artifacts"),
            (
                self.enable_concise_resolver_syntax,
                "enable-concise-resolver-syntax",
            ),
        ] {
            if on {
                items.push(name);
            }
        }
        items.join(",")
    }

    /// Both sets of gates at once: the higher API level, every flag either has.
    pub fn union(&self, other: &FeatureGates) -> FeatureGates {
        FeatureGates {
            api_fields: self.api_fields.max(other.api_fields),
            enable_param_enum: self.enable_param_enum || other.enable_param_enum,
            enable_cel_in_when: self.enable_cel_in_when || other.enable_cel_in_when,
            enable_artifacts: self.enable_artifacts || other.enable_artifacts,
            enable_concise_resolver_syntax: self.enable_concise_resolver_syntax
                || other.enable_concise_resolver_syntax,
        }
    }
}

/// The feature gates `bundle` needs beyond Tekton's defaults (`beta`, no per-feature flag), read off
/// the gate checks (E402–E406) of a validation with the defaults.
pub fn needed_gates(bundle: &Bundle, sources: &SourceMap) -> FeatureGates {
    let diags = match check(bundle.clone(), sources, &Settings::default()) {
        Ok((_, d)) | Err(d) => d,
    };
    let mut g = FeatureGates::default();
    for d in diags.iter() {
        match d.code {
            codes::E402 => g.api_fields = Stability::Alpha,
            codes::E403 => g.enable_param_enum = true,
            codes::E404 => g.enable_cel_in_when = true,
            codes::E405 => g.enable_artifacts = true,
            codes::E406 => g.enable_concise_resolver_syntax = true,
            _ => {}
        }
    }
    g
}

#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub gates: FeatureGates,
}

/// A bundle that passed validation (possibly with warnings).
#[derive(Debug, Clone)]
pub struct Validated(Bundle);

impl Validated {
    pub fn bundle(&self) -> &Bundle {
        &self.0
    }

    pub fn into_inner(self) -> Bundle {
        self.0
    }
}

/// Runs every pass. Errors → `Err` with all diagnostics; otherwise the validated bundle and its warnings.
pub fn check(
    bundle: Bundle,
    sources: &SourceMap,
    settings: &Settings,
) -> Result<(Validated, Diagnostics), Diagnostics> {
    let mut ctx = Ctx {
        settings,
        sources,
        diags: Diagnostics::default(),
    };
    structure::check(&bundle, &mut ctx);
    refs::check(&bundle, &mut ctx);
    let mut diags = ctx.diags;
    diags.sort();
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok((Validated(bundle), diags))
    }
}
