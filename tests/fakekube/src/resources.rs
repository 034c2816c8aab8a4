//! The served resource types and the discovery documents derived from them
//! (copied from a real apiserver with Tekton's CRDs installed).

use serde_json::{Value, json};

/// One served resource type.
#[derive(Clone, Debug)]
pub struct ResourceDef {
    /// API group, "" for core.
    pub group: &'static str,
    /// Versions the type is served at (first = storage/preferred).
    pub versions: &'static [&'static str],
    /// Plural resource name.
    pub plural: &'static str,
    /// Singular name as shown by discovery ("" for core types, like the real server).
    pub singular: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// kubectl short names.
    pub short_names: &'static [&'static str],
    /// Discovery categories.
    pub categories: &'static [&'static str],
    /// Has a `/status` subresource (status is separate from the main resource).
    pub status: bool,
    /// Custom resource: `metadata.generation` is maintained, updates need a
    /// resourceVersion, strategic merge patch is refused.
    pub custom: bool,
    /// Discovery's storageVersionHash.
    pub hash: &'static str,
}

impl ResourceDef {
    /// `pipelines.tekton.dev`, or `pods` for the core group.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `PipelineRun.tekton.dev` (used by 422 Invalid messages).
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// `tekton.dev/v1` or `v1`.
    pub fn group_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }
}

const TEKTON_CATEGORIES: &[&str] = &["tekton", "tekton-pipelines"];

const fn core(
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    status: bool,
    hash: &'static str,
) -> ResourceDef {
    ResourceDef {
        group: "",
        versions: &["v1"],
        plural,
        singular: "",
        kind,
        namespaced,
        short_names,
        categories: &[],
        status,
        custom: false,
        hash,
    }
}

const fn tekton(
    versions: &'static [&'static str],
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
    hash: &'static str,
) -> ResourceDef {
    ResourceDef {
        group: "tekton.dev",
        versions,
        plural,
        singular,
        kind,
        namespaced: true,
        short_names,
        categories: TEKTON_CATEGORIES,
        status: true,
        custom: true,
        hash,
    }
}

const BOTH: &[&str] = &["v1", "v1beta1"];
const BETA: &[&str] = &["v1beta1"];

/// Core types served under `/api/v1`.
pub static CORE: &[ResourceDef] = &[
    core(
        "configmaps",
        "ConfigMap",
        true,
        &["cm"],
        false,
        "qFsyl6wFWjQ=",
    ),
    core("events", "Event", true, &["ev"], false, "r2yiGXH7wu8="),
    core(
        "namespaces",
        "Namespace",
        false,
        &["ns"],
        true,
        "Q3oi5N2YM8M=",
    ),
    core("nodes", "Node", false, &["no"], true, "XwShjMxG9Fs="),
    core("pods", "Pod", true, &["po"], true, "xPOwRZ+Yhw8="),
    core("secrets", "Secret", true, &[], false, "S6u1pOWzb84="),
    core(
        "serviceaccounts",
        "ServiceAccount",
        true,
        &["sa"],
        false,
        "pbx9ZvyFpBE=",
    ),
];

/// Tekton's types (group tekton.dev), in the real server's discovery order.
pub static TEKTON: &[ResourceDef] = &[
    tekton(BOTH, "tasks", "task", "Task", &[], "7UTjiDn1COQ="),
    tekton(
        BOTH,
        "pipelines",
        "pipeline",
        "Pipeline",
        &[],
        "RHRm8IJMIjw=",
    ),
    tekton(
        BOTH,
        "taskruns",
        "taskrun",
        "TaskRun",
        &["tr", "trs"],
        "ZMEN39jXvVM=",
    ),
    tekton(
        BOTH,
        "pipelineruns",
        "pipelinerun",
        "PipelineRun",
        &["pr", "prs"],
        "lWZRMGzJrT4=",
    ),
    tekton(
        BETA,
        "stepactions",
        "stepaction",
        "StepAction",
        &[],
        "OCKfi5+hQXI=",
    ),
    tekton(
        BETA,
        "customruns",
        "customrun",
        "CustomRun",
        &[],
        "s4ZySpAIpOA=",
    ),
];

/// All served types given whether Tekton is installed.
pub fn all(tekton_served: bool) -> impl Iterator<Item = &'static ResourceDef> {
    CORE.iter()
        .chain(TEKTON.iter().filter(move |_| tekton_served))
}

/// Look a type up by group, version and plural.
pub fn find(
    tekton_served: bool,
    group: &str,
    version: &str,
    plural: &str,
) -> Option<&'static ResourceDef> {
    all(tekton_served)
        .find(|r| r.group == group && r.plural == plural && r.versions.contains(&version))
}

/// Look a type up by apiVersion and kind.
pub fn find_kind(
    tekton_served: bool,
    api_version: &str,
    kind: &str,
) -> Option<&'static ResourceDef> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    all(tekton_served).find(|r| r.group == group && r.kind == kind && r.versions.contains(&version))
}

/// `GET /version`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `GET /api`.
pub fn api_versions(server_address: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
           "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]})
}

fn group_doc(tekton_served: bool) -> Option<Value> {
    if !tekton_served {
        return None;
    }
    Some(json!({
        "name": "tekton.dev",
        "versions": [
            {"groupVersion": "tekton.dev/v1", "version": "v1"},
            {"groupVersion": "tekton.dev/v1beta1", "version": "v1beta1"}
        ],
        "preferredVersion": {"groupVersion": "tekton.dev/v1", "version": "v1"}
    }))
}

/// `GET /apis`.
pub fn api_group_list(tekton_served: bool) -> Value {
    let groups: Vec<Value> = group_doc(tekton_served).into_iter().collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/{group}`.
pub fn api_group(tekton_served: bool, group: &str) -> Option<Value> {
    if group != "tekton.dev" {
        return None;
    }
    let mut g = group_doc(tekton_served)?;
    if let Value::Object(m) = &mut g {
        let mut out = serde_json::Map::new();
        out.insert("kind".into(), json!("APIGroup"));
        out.insert("apiVersion".into(), json!("v1"));
        out.extend(std::mem::take(m));
        return Some(Value::Object(out));
    }
    None
}

fn verbs(r: &ResourceDef) -> Vec<&'static str> {
    if r.custom {
        vec![
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "create",
            "update",
            "watch",
        ]
    } else if r.plural == "namespaces" {
        vec![
            "create", "delete", "get", "list", "patch", "update", "watch",
        ]
    } else {
        vec![
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ]
    }
}

/// `GET /api/v1` or `GET /apis/{group}/{version}` (APIResourceList).
pub fn resource_list(tekton_served: bool, group: &str, version: &str) -> Option<Value> {
    let defs: Vec<&ResourceDef> = all(tekton_served)
        .filter(|r| r.group == group && r.versions.contains(&version))
        .collect();
    if defs.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    let sub = |name: String, r: &ResourceDef, verbs: &[&str]| json!({"name": name, "singularName": "", "namespaced": r.namespaced, "kind": r.kind, "verbs": verbs});
    for r in defs {
        let mut e = serde_json::Map::new();
        e.insert("name".into(), json!(r.plural));
        e.insert("singularName".into(), json!(r.singular));
        e.insert("namespaced".into(), json!(r.namespaced));
        e.insert("kind".into(), json!(r.kind));
        e.insert("verbs".into(), json!(verbs(r)));
        if !r.short_names.is_empty() {
            e.insert("shortNames".into(), json!(r.short_names));
        }
        if !r.categories.is_empty() {
            e.insert("categories".into(), json!(r.categories));
        } else if r.plural == "pods" {
            e.insert("categories".into(), json!(["all"]));
        }
        e.insert("storageVersionHash".into(), json!(r.hash));
        resources.push(Value::Object(e));
        if r.plural == "namespaces" {
            resources.push(sub("namespaces/finalize".into(), r, &["update"]));
        }
        if r.plural == "pods" {
            resources.push(sub("pods/log".into(), r, &["get"]));
        }
        if r.status {
            resources.push(sub(
                format!("{}/status", r.plural),
                r,
                &["get", "patch", "update"],
            ));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}
