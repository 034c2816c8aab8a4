//! ApplySet bookkeeping (KEP-3659), so `--prune` deletes exactly what tekscript applied from this script
//! and kubectl and other tools recognise the set.
//!
//! - The parent is a ConfigMap (default) or Secret in the target namespace, labelled
//!   `applyset.kubernetes.io/id=<id>` and annotated with the tooling, the member group-kinds and any
//!   additional namespaces.
//! - Every member carries the label `applyset.kubernetes.io/part-of=<id>`.
//! - id = `applyset-` + unpadded base64url(sha256(`<name>.<namespace>.<Kind>.<group>`)) + `-v1`.

use base64::Engine as _;
use std::collections::BTreeSet;

pub const LABEL_ID: &str = "applyset.kubernetes.io/id";
pub const LABEL_PART_OF: &str = "applyset.kubernetes.io/part-of";
pub const ANNOTATION_TOOLING: &str = "applyset.kubernetes.io/tooling";
pub const ANNOTATION_GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";
pub const ANNOTATION_NAMESPACES: &str = "applyset.kubernetes.io/additional-namespaces";
/// Our value of the tooling annotation; the version part may change, the name may not.
pub const TOOLING: &str = concat!("tekscript/v", env!("CARGO_PKG_VERSION"));

/// The kind of object that records an ApplySet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentKind {
    ConfigMap,
    Secret,
}

impl ParentKind {
    pub fn kind(self) -> &'static str {
        match self {
            ParentKind::ConfigMap => "ConfigMap",
            ParentKind::Secret => "Secret",
        }
    }
    pub fn plural(self) -> &'static str {
        match self {
            ParentKind::ConfigMap => "configmaps",
            ParentKind::Secret => "secrets",
        }
    }
}

/// Where an ApplySet is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    pub kind: ParentKind,
    pub name: String,
    pub namespace: String,
}

impl Parent {
    /// Parses `--applyset [configmaps/|secrets/]NAME` (kubectl's syntax; a bare name means a ConfigMap
    /// here, since a ConfigMap can be read by people without access to Secrets).
    pub fn parse(spec: &str, namespace: &str) -> Result<Parent, String> {
        let (kind, name) = match spec.split_once('/') {
            None => (ParentKind::ConfigMap, spec),
            Some(("configmaps" | "configmap" | "cm", n)) => (ParentKind::ConfigMap, n),
            Some(("secrets" | "secret", n)) => (ParentKind::Secret, n),
            Some((other, _)) => {
                return Err(format!(
                    "--applyset {spec}: the parent must be `configmaps/NAME` or `secrets/NAME`, not {other:?}"
                ));
            }
        };
        if !is_dns_subdomain(name) {
            return Err(format!(
                "--applyset {spec}: {name:?} is not a valid object name (lower-case letters, digits, '-' and '.')"
            ));
        }
        Ok(Parent {
            kind,
            name: name.to_string(),
            namespace: namespace.to_string(),
        })
    }

    /// The default parent for a script: ConfigMap `tekscript-<file stem>`.
    pub fn for_script(script_stem: &str, namespace: &str) -> Parent {
        let mut name: String = script_stem
            .chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9' | '-' | '.') => c,
                _ => '-',
            })
            .collect();
        name = name.trim_matches(|c| c == '-' || c == '.').to_string();
        if name.is_empty() {
            name = "script".into();
        }
        name.truncate(200);
        Parent {
            kind: ParentKind::ConfigMap,
            name: format!("tekscript-{name}"),
            namespace: namespace.to_string(),
        }
    }

    /// The ApplySet id, as kubectl computes it.
    pub fn id(&self) -> String {
        let key = format!("{}.{}.{}.", self.name, self.namespace, self.kind.kind());
        let hash = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        format!(
            "applyset-{}-v1",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash.as_ref())
        )
    }

    /// `configmaps/name` for messages.
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind.plural(), self.name)
    }

    /// The server-side apply body recording `group_kinds` and `namespaces` (other than the parent's).
    pub fn body(
        &self,
        group_kinds: &BTreeSet<String>,
        namespaces: &BTreeSet<String>,
    ) -> serde_json::Value {
        let extra: Vec<&str> = namespaces
            .iter()
            .map(String::as_str)
            .filter(|n| *n != self.namespace)
            .collect();
        let mut annotations = serde_json::Map::new();
        annotations.insert(ANNOTATION_TOOLING.into(), TOOLING.into());
        annotations.insert(
            ANNOTATION_GROUP_KINDS.into(),
            group_kinds
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(",")
                .into(),
        );
        if !extra.is_empty() {
            annotations.insert(ANNOTATION_NAMESPACES.into(), extra.join(",").into());
        }
        serde_json::json!({
            "apiVersion": "v1",
            "kind": self.kind.kind(),
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": { LABEL_ID: self.id() },
                "annotations": annotations,
            }
        })
    }
}

/// What a live parent records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    pub group_kinds: BTreeSet<String>,
    /// All namespaces of members, the parent's included.
    pub namespaces: BTreeSet<String>,
}

/// Reads a live parent object. Refuses parents of other tools and objects that are not ApplySet parents,
/// so tekscript never prunes what it did not apply.
pub fn read_parent(parent: &Parent, live: &serde_json::Value) -> Result<Recorded, String> {
    let meta = &live["metadata"];
    let id = meta["labels"][LABEL_ID].as_str();
    let tooling = meta["annotations"][ANNOTATION_TOOLING].as_str();
    match (id, tooling) {
        (None, _) => {
            return Err(format!(
                "{} exists in namespace {} but is not an ApplySet parent (no {LABEL_ID} label); \
                 tekscript will not take it over — choose another name with --applyset",
                parent.display(),
                parent.namespace
            ));
        }
        (Some(id), _) if id != parent.id() => {
            return Err(format!(
                "{} has ApplySet id {id}, expected {}; refusing to use it — choose another name with --applyset",
                parent.display(),
                parent.id()
            ));
        }
        (Some(_), Some(t)) if t.split('/').next() != Some("tekscript") => {
            return Err(format!(
                "the ApplySet {} is managed by {t}, not tekscript; refusing to apply or prune with it \
                 (use that tool, or choose another --applyset)",
                parent.display()
            ));
        }
        _ => {}
    }
    let list = |key: &str| -> BTreeSet<String> {
        meta["annotations"][key]
            .as_str()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut namespaces = list(ANNOTATION_NAMESPACES);
    namespaces.insert(parent.namespace.clone());
    Ok(Recorded {
        group_kinds: list(ANNOTATION_GROUP_KINDS),
        namespaces,
    })
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_matches_kubectl() {
        // The id kubectl 1.33 wrote on the parent of `KUBECTL_APPLYSET=true kubectl -n demo apply
        // --server-side --prune --applyset=configmaps/set -f cm.yaml` (tests/it/cluster_apply.rs checks
        // the same against kubectl on both test servers for a fresh namespace).
        let p = Parent::parse("configmaps/set", "demo").unwrap();
        assert_eq!(
            p.id(),
            "applyset-XO4TKsGnyt763q44d8Q4w-Q1Gb5CkeTGyS3TjnaEze4-v1"
        );
        assert!(p.id().len() < 64, "label values are at most 63 characters");
    }

    #[test]
    fn parse_and_default() {
        assert_eq!(Parent::parse("x", "n").unwrap().kind, ParentKind::ConfigMap);
        assert_eq!(
            Parent::parse("secrets/x", "n").unwrap().kind,
            ParentKind::Secret
        );
        assert!(Parent::parse("deployments/x", "n").is_err());
        assert!(Parent::parse("configmaps/Bad_Name", "n").is_err());
        assert_eq!(
            Parent::for_script("Go_Service", "n").name,
            "tekscript-go-service"
        );
        assert_eq!(Parent::for_script("__", "n").name, "tekscript-script");
    }

    #[test]
    fn body_and_read_round_trip() {
        let p = Parent::for_script("ci", "demo");
        let gks: BTreeSet<String> =
            ["Task.tekton.dev".to_string(), "Pipeline.tekton.dev".into()].into();
        let nss: BTreeSet<String> = ["demo".to_string(), "other".into()].into();
        let body = p.body(&gks, &nss);
        assert_eq!(
            body["metadata"]["annotations"][ANNOTATION_GROUP_KINDS],
            "Pipeline.tekton.dev,Task.tekton.dev"
        );
        assert_eq!(
            body["metadata"]["annotations"][ANNOTATION_NAMESPACES],
            "other"
        );
        let rec = read_parent(&p, &body).unwrap();
        assert_eq!(rec.group_kinds, gks);
        assert_eq!(rec.namespaces, nss);
    }

    #[test]
    fn foreign_parents_are_refused() {
        let p = Parent::for_script("ci", "demo");
        let mut body = p.body(&BTreeSet::new(), &BTreeSet::new());
        body["metadata"]["annotations"][ANNOTATION_TOOLING] = "kubectl/v1.33.0".into();
        let e = read_parent(&p, &body).unwrap_err();
        assert!(e.contains("managed by kubectl/v1.33.0"), "{e}");
        let plain = serde_json::json!({"metadata": {"name": "tekscript-ci"}});
        assert!(
            read_parent(&p, &plain)
                .unwrap_err()
                .contains("not an ApplySet parent")
        );
    }
}
