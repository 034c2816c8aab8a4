//! 3.0: feature gates. Each check reports once per use, at the field that needs the gate, with
//! Tekton's wording and the `--feature-gates` value that enables it.

use super::Checker;
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::validate::Stability;

impl Checker<'_, '_> {
    /// The `--feature-gates` value that keeps the current API level and adds `flag`.
    fn with_flag(&self, flag: &str) -> String {
        format!("{},{flag}", self.gates().api_fields.as_str())
    }

    /// A beta field (`feature` is Tekton's name for it, `what` the field as the user sees it).
    pub(super) fn need_beta(&mut self, path: &str, feature: &str, what: &str) {
        if self.gates().api_fields >= Stability::Beta {
            return;
        }
        let d = Diagnostic::error(
            codes::E401,
            format!(
                "{feature} requires \"enable-api-fields\" feature gate to be \"alpha\" or \"beta\" but it is \"stable\""
            ),
        )
        .label(format!("{what} is a beta feature"))
        .help(format!(
            "the target cluster only accepts stable fields (`--feature-gates stable`): remove {what}, or compile with `--feature-gates beta` if the cluster's `feature-flags` config map sets `enable-api-fields: beta` (Tekton's default)"
        ));
        self.report(path, d);
    }

    /// An alpha field.
    pub(super) fn need_alpha(&mut self, path: &str, feature: &str, what: &str) {
        let cur = self.gates().api_fields;
        if cur == Stability::Alpha {
            return;
        }
        let d = Diagnostic::error(
            codes::E402,
            format!(
                "{feature} requires \"enable-api-fields\" feature gate to be \"alpha\" but it is \"{}\"",
                cur.as_str()
            ),
        )
        .label(format!("{what} is an alpha feature"))
        .help(format!(
            "remove {what}, or compile with `--feature-gates alpha` if the cluster's `feature-flags` config map sets `enable-api-fields: alpha`"
        ));
        self.report(path, d);
    }

    /// `enum` on a param declaration.
    pub(super) fn need_param_enum(&mut self, path: &str, param: &str) {
        if self.gates().enable_param_enum {
            return;
        }
        let d = Diagnostic::error(
            codes::E403,
            format!(
                "param {param:?} declares an `enum`, which needs the per-feature flag enable-param-enum (Tekton: feature flag `enable-param-enum` should be set to true to use Enum)"
            ),
        )
        .label("needs `enable-param-enum`")
        .help(format!(
            "remove `enum`, or compile with `--feature-gates {}` if the cluster's `feature-flags` config map sets `enable-param-enum: \"true\"`",
            self.with_flag("enable-param-enum")
        ));
        self.report(path, d);
    }

    /// `cel` in a when expression.
    pub(super) fn need_cel(&mut self, path: &str, expr: &str) {
        if self.gates().enable_cel_in_when {
            return;
        }
        let d = Diagnostic::error(
            codes::E404,
            format!(
                "feature flag enable-cel-in-whenexpression should be set to true to use CEL: {expr} in WhenExpression"
            ),
        )
        .label("CEL needs `enable-cel-in-whenexpression`")
        .help(format!(
            "use `input`/`operator`/`values` (`when_in(..)`, `when_notin(..)`), or compile with `--feature-gates {}` if the cluster's `feature-flags` config map sets `enable-cel-in-whenexpression: \"true\"`",
            self.with_flag("enable-cel-in-whenexpression")
        ));
        self.report_text(path, expr, d);
    }

    /// `$(…artifacts…)` references.
    pub(super) fn need_artifacts(&mut self, path: &str, found: &str) {
        if self.gates().enable_artifacts {
            return;
        }
        let d = Diagnostic::error(
            codes::E405,
            format!(
                "`{found}` uses artifacts, which need the per-feature flag enable-artifacts (Tekton: feature flag enable-artifacts should be set to true to use artifacts feature.)"
            ),
        )
        .label("artifacts need `enable-artifacts`")
        .help(format!(
            "compile with `--feature-gates {}` if the cluster's `feature-flags` config map sets `enable-artifacts: \"true\"`",
            self.with_flag("enable-artifacts")
        ));
        self.report_text(path, found, d);
    }

    /// A URL-like `name` in a reference (`git://…`).
    pub(super) fn need_concise_syntax(&mut self, path: &str, name: &str) {
        if self.gates().enable_concise_resolver_syntax {
            return;
        }
        let d = Diagnostic::error(
            codes::E406,
            format!(
                "reference name {name:?} uses the concise resolver syntax (Tekton: feature flag enable-concise-resolver-syntax should be set to true to use concise resolver syntax)"
            ),
        )
        .label("needs `enable-concise-resolver-syntax`")
        .help(format!(
            "use a resolver reference (`from_git(..)`, `from_hub(..)`, `from_bundle(..)`, …), or compile with `--feature-gates {}` if the cluster's `feature-flags` config map sets `enable-concise-resolver-syntax: \"true\"`",
            self.with_flag("enable-concise-resolver-syntax")
        ));
        self.report_text(path, name, d);
    }
}

/// Every artifact reference in `s`, as Tekton's `stepArtifactReferenceExists` /
/// `taskArtifactReferenceExists` see them: `$(steps|tasks.<x>.inputs|outputs.<y>)`,
/// `$(step.artifacts.path)`, `$(artifacts.path)`. Returns the first one found.
pub(super) fn artifact_ref(s: &str, steps: bool, tasks: bool) -> Option<String> {
    let mut prefixes = Vec::new();
    if steps {
        if s.contains("$(step.artifacts.path)") {
            return Some("$(step.artifacts.path)".into());
        }
        prefixes.push("$(steps.");
    }
    if tasks {
        if s.contains("$(artifacts.path)") {
            return Some("$(artifacts.path)".into());
        }
        prefixes.push("$(tasks.");
    }
    for prefix in prefixes {
        let mut from = 0;
        while let Some(i) = s[from..].find(prefix) {
            let start = from + i;
            let rest = &s[start + prefix.len()..];
            from = start + prefix.len();
            // `[^.]+` then `.inputs.` / `.outputs.` then `[^.)]+` then `)`
            let Some(dot) = rest.find('.') else { continue };
            if dot == 0 {
                continue;
            }
            let after = &rest[dot + 1..];
            let Some(after) = after
                .strip_prefix("inputs.")
                .or_else(|| after.strip_prefix("outputs."))
            else {
                continue;
            };
            let end = after.find(['.', ')']).unwrap_or(after.len());
            if end > 0 && after[end..].starts_with(')') {
                let total = prefix.len() + (rest.len() - after.len()) + end + 1;
                return Some(s[start..start + total].to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::artifact_ref;

    #[test]
    fn finds_artifact_references() {
        assert_eq!(
            artifact_ref("echo $(steps.build.outputs.image) x", true, false).as_deref(),
            Some("$(steps.build.outputs.image)")
        );
        assert_eq!(artifact_ref("$(tasks.t.inputs.src)", true, false), None);
        assert_eq!(
            artifact_ref("$(tasks.t.inputs.src)", false, true).as_deref(),
            Some("$(tasks.t.inputs.src)")
        );
        assert_eq!(
            artifact_ref("cat $(step.artifacts.path)", true, false).as_deref(),
            Some("$(step.artifacts.path)")
        );
        assert_eq!(
            artifact_ref("cat $(artifacts.path)", false, true).as_deref(),
            Some("$(artifacts.path)")
        );
        assert_eq!(artifact_ref("$(steps.a.results.b)", true, true), None);
        assert_eq!(artifact_ref("$(steps.a.outputs.b.c)", true, true), None);
        assert_eq!(artifact_ref("$(steps.a.outputs.)", true, true), None);
        assert_eq!(artifact_ref("$(steps..outputs.x)", true, true), None);
    }
}
