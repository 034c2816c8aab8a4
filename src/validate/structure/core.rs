//! Kubernetes core fields inside Tekton objects (E143): what the API server itself rejects when it
//! validates the pod Tekton creates, or the object when it is applied, although Tekton's webhook
//! lets it through.
//!
//! - **resource quantities** (`computeResources.limits.cpu: "abc"`): `resource.ParseQuantity`
//!   (k8s.io/apimachinery/pkg/api/resource/quantity.go): `<signedNumber><suffix>`, the suffix one
//!   of `Ki Mi Gi Ti Pi Ei`, `n u m k M G T P E`, or `e`/`E` and a signed integer; container
//!   requests and limits must not be negative (`must be greater than or equal to 0`);
//! - **environment variable names** (`env[].name`): required, and since Kubernetes 1.34 (the
//!   `RelaxedEnvironmentVariableValidation` gate, GA) any printable ASCII character except `=`
//!   (`validation.IsRelaxedEnvVarName`);
//! - **label and annotation keys**: qualified names (`validation.IsQualifiedName`: an optional DNS
//!   subdomain prefix and `/`, then 1–63 of `[A-Za-z0-9_.-]`, starting and ending alphanumeric);
//!   **label values**: at most 63 of the same characters, empty allowed
//!   (`validation.IsValidLabelValue`).

use super::{Checker, at, names};
use crate::diag::Diagnostic;
use crate::diag::codes;
use crate::emit::path_key;
use k8s_openapi::api::core::v1::{EnvVar, ResourceRequirements};
use std::collections::BTreeMap;

impl Checker<'_, '_> {
    /// Label and annotation keys, label values.
    pub(super) fn labels_and_annotations(
        &mut self,
        labels: Option<&BTreeMap<String, String>>,
        annotations: Option<&BTreeMap<String, String>>,
    ) {
        for (what, map) in [("label", labels), ("annotation", annotations)] {
            let field = format!("metadata.{what}s");
            for (key, value) in map.into_iter().flatten() {
                if let Some(why) = names::qualified_name_errors(key).into_iter().next() {
                    let d = Diagnostic::error(
                        codes::E143,
                        format!("the {what} key {key:?} is not a valid Kubernetes key: {why}"),
                    )
                    .label(format!("invalid {what} key"))
                    .note("Kubernetes: metadata.labels/annotations keys must be qualified names (validation.IsQualifiedName)")
                    .help("use a key such as \"app.kubernetes.io/name\" or \"team\"");
                    self.report_text(&field, key, d);
                    continue;
                }
                if what == "label" && !is_label_value(value) {
                    let d = Diagnostic::error(
                        codes::E143,
                        format!(
                            "the value {value:?} of label {key:?} is not a valid label value: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
                        ),
                    )
                    .label("invalid label value")
                    .note("Kubernetes: validation.IsValidLabelValue")
                    .help("put free text into an annotation instead");
                    self.report_text(&path_key(&field, key), value, d);
                }
            }
        }
    }

    /// `env[].name` of a container-like (step, sidecar, step template, StepAction).
    pub(super) fn env_names(&mut self, path: &str, env: &[EnvVar]) {
        for (i, e) in env.iter().enumerate() {
            let why = if e.name.is_empty() {
                "it is empty".to_string()
            } else if let Some(c) = e
                .name
                .chars()
                .find(|c| !(' '..='~').contains(c) || *c == '=')
            {
                format!(
                    "it contains {c:?}; only printable ASCII characters other than '=' are allowed"
                )
            } else {
                continue;
            };
            let d = Diagnostic::error(
                codes::E143,
                format!("invalid environment variable name {:?}: {why}", e.name),
            )
            .label("invalid name")
            .note("Kubernetes: env[].name is required and must be printable ASCII without '=' (validation.IsRelaxedEnvVarName)");
            let epath = at(path, &format!("env[{i}].name"));
            self.report_text(&epath, &e.name, d);
        }
    }

    /// `computeResources` of a container-like or a run: every quantity parses and is not negative.
    pub(super) fn resource_quantities(&mut self, path: &str, r: Option<&ResourceRequirements>) {
        let Some(r) = r else { return };
        for (what, one, map) in [
            ("limits", "limit", &r.limits),
            ("requests", "request", &r.requests),
        ] {
            for (name, q) in map.iter().flatten() {
                let Some(why) = quantity_error(&q.0) else {
                    continue;
                };
                let d = Diagnostic::error(
                    codes::E143,
                    format!("the {name} {one} {:?} {why}", q.0),
                )
                .label("invalid quantity")
                .note("Kubernetes: quantities are `<number><suffix>`, e.g. \"500m\", \"2\", \"1Gi\", \"128974848\", \"1e3\" (resource.ParseQuantity)")
                .help(match name.as_str() {
                    "cpu" => "CPU is in cores: \"1\", \"0.5\" or \"500m\"",
                    "memory" | "ephemeral-storage" => "memory is in bytes: \"512Mi\", \"2Gi\"",
                    _ => "write a number with an optional suffix",
                });
                let qpath = path_key(&at(path, &format!("computeResources.{what}")), name);
                self.report_text(&qpath, &q.0, d);
            }
        }
    }
}

/// Why `s` is not a resource quantity Kubernetes accepts for a container, or `None`.
pub(super) fn quantity_error(s: &str) -> Option<&'static str> {
    const NOT_A_QUANTITY: &str = "is not a quantity";
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let int = rest.bytes().take_while(u8::is_ascii_digit).count();
    let mut rest = &rest[int..];
    let mut frac = 0;
    if let Some(after) = rest.strip_prefix('.') {
        frac = after.bytes().take_while(u8::is_ascii_digit).count();
        rest = &after[frac..];
    }
    if int + frac == 0 {
        return Some(NOT_A_QUANTITY);
    }
    let suffix_ok = matches!(
        rest,
        "" | "Ki"
            | "Mi"
            | "Gi"
            | "Ti"
            | "Pi"
            | "Ei"
            | "n"
            | "u"
            | "m"
            | "k"
            | "M"
            | "G"
            | "T"
            | "P"
            | "E"
    ) || rest
        .strip_prefix(['e', 'E'])
        .map(|exp| exp.strip_prefix(['+', '-']).unwrap_or(exp))
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
    if !suffix_ok {
        return Some(NOT_A_QUANTITY);
    }
    // only the number's digits decide whether it is zero (not an exponent's)
    let number = &s[..s.len() - rest.len()];
    let nonzero = number.bytes().any(|b| (b'1'..=b'9').contains(&b));
    if negative && nonzero {
        return Some("is negative (must be greater than or equal to 0)");
    }
    None
}

/// `validation.IsValidLabelValue`: empty, or at most 63 characters of
/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn is_label_value(v: &str) -> bool {
    v.is_empty() || (v.len() <= 63 && names::is_result_name(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        for ok in [
            "1",
            "0.5",
            "500m",
            "2Gi",
            "128974848",
            "1e3",
            "1E-2",
            "+1",
            "1.",
            ".5",
            "100Ki",
            "0",
            "-0",
            "1n",
            "5u",
            "3k",
            "2M",
            "1Ei",
        ] {
            assert_eq!(quantity_error(ok), None, "{ok}");
        }
        for bad in [
            "abc", "", ".", "1.2.3", "1Gb", "1 Gi", "1e", "Mi", "1ki", "--1", "1e1.5",
        ] {
            assert_eq!(quantity_error(bad), Some("is not a quantity"), "{bad}");
        }
        assert_eq!(
            quantity_error("-1"),
            Some("is negative (must be greater than or equal to 0)")
        );
        assert_eq!(
            quantity_error("-500m"),
            Some("is negative (must be greater than or equal to 0)")
        );
    }

    #[test]
    fn label_values() {
        assert!(is_label_value(""));
        assert!(is_label_value("v1.2_x-y"));
        assert!(!is_label_value("-x"));
        assert!(!is_label_value("a b"));
        assert!(!is_label_value(&"a".repeat(64)));
    }
}
