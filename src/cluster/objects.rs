//! From compiled objects to what is sent: the apply intent of each object, its resource path, its
//! namespace, and the order (StepActions and Tasks before the Pipelines that use them). Runs are not
//! applied by `apply`/`diff` (`tekscript run` starts them).

use super::applyset::LABEL_PART_OF;
use super::error::ClusterError;
use crate::bundle::Resource;
use kube::core::ApiResource;

/// One object tekscript will apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub kind: String,
    pub api_version: String,
    pub plural: String,
    pub namespace: String,
    pub name: String,
    /// 0 = applied first.
    pub rank: u8,
    /// The server-side apply body (apiVersion, kind, metadata, spec).
    pub body: serde_json::Value,
}

/// An object of the script that `apply` leaves alone, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub id: String,
    pub reason: String,
}

impl Planned {
    pub fn group(&self) -> &str {
        self.api_version.split_once('/').map_or("", |(g, _)| g)
    }

    pub fn api_resource(&self) -> ApiResource {
        api_resource(&self.api_version, &self.kind, &self.plural)
    }

    /// `task.tekton.dev/git-clone`, as kubectl prints objects.
    pub fn display(&self) -> String {
        display(&self.kind, self.group(), &self.name)
    }

    /// `tekton.dev.v1.Task.demo.git-clone`, kubectl diff's file name for the object.
    pub fn file_name(&self) -> String {
        file_name(&self.api_version, &self.kind, &self.namespace, &self.name)
    }

    /// `Kind.group`, as ApplySet annotations list kinds.
    pub fn group_kind(&self) -> String {
        format!("{}.{}", self.kind, self.group())
    }

    /// Adds the ApplySet membership label to the body.
    pub fn label_part_of(&mut self, id: &str) {
        let meta = self.body["metadata"]
            .as_object_mut()
            .expect("planned bodies have metadata");
        let labels = meta
            .entry("labels")
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
        if let Some(l) = labels.as_object_mut() {
            l.insert(LABEL_PART_OF.into(), id.into());
        }
    }
}

/// `metadata` fields the API server sets on every object (never part of what a script says).
pub const SERVER_METADATA: [&str; 6] = [
    "managedFields",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "selfLink",
];

/// Removes `status` and the given `metadata` keys, keeping the order of the rest (serde_json's plain
/// `remove` swaps the last key into the hole under `preserve_order`).
pub fn drop_fields(v: &mut serde_json::Value, metadata_keys: &[&str]) {
    if let Some(o) = v.as_object_mut() {
        o.shift_remove("status");
        if let Some(serde_json::Value::Object(m)) = o.get_mut("metadata") {
            for k in metadata_keys {
                m.shift_remove(*k);
            }
        }
    }
}

pub fn api_resource(api_version: &str, kind: &str, plural: &str) -> ApiResource {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    ApiResource {
        group: group.to_string(),
        version: version.to_string(),
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        plural: plural.to_string(),
    }
}

pub fn display(kind: &str, group: &str, name: &str) -> String {
    if group.is_empty() {
        format!("{}/{name}", kind.to_lowercase())
    } else {
        format!("{}.{group}/{name}", kind.to_lowercase())
    }
}

pub fn file_name(api_version: &str, kind: &str, namespace: &str, name: &str) -> String {
    format!(
        "{}.{kind}.{namespace}.{name}",
        api_version.replace('/', ".")
    )
}

/// The plural resource name of a Tekton kind (Tekton's plurals are regular).
pub fn plural_of(kind: &str) -> String {
    format!("{}s", kind.to_lowercase())
}

/// The apiVersion tekscript uses for a Tekton group-kind (`Task.tekton.dev`), for listing ApplySet members.
pub fn tekton_api_version(group_kind: &str) -> Option<(&'static str, &'static str)> {
    match group_kind {
        "Task.tekton.dev" => Some(("tekton.dev/v1", "Task")),
        "Pipeline.tekton.dev" => Some(("tekton.dev/v1", "Pipeline")),
        "StepAction.tekton.dev" => Some(("tekton.dev/v1beta1", "StepAction")),
        _ => None,
    }
}

/// Plans the objects of a compilation for `namespace`. With `namespace_explicit` (`-n`), an object that
/// names another namespace is an error, as with kubectl.
pub fn plan<'a>(
    objects: impl IntoIterator<Item = &'a Resource>,
    namespace: &str,
    namespace_explicit: bool,
) -> Result<(Vec<Planned>, Vec<Skipped>), ClusterError> {
    let mut planned = Vec::new();
    let mut skipped = Vec::new();
    for r in objects {
        if matches!(r, Resource::PipelineRun(_) | Resource::TaskRun(_)) {
            skipped.push(Skipped {
                id: r.id(),
                reason: "runs are started by `tekscript run`, not applied".into(),
            });
            continue;
        }
        let mut body = r.to_json();
        let own_ns = r.metadata().namespace.clone();
        let ns = match own_ns {
            Some(n) if namespace_explicit && n != namespace => {
                return Err(ClusterError::Usage(format!(
                    "{} sets namespace {n:?}, but -n/--namespace is {namespace:?}; remove one of them",
                    r.id()
                )));
            }
            Some(n) if !n.is_empty() => n,
            _ => namespace.to_string(),
        };
        body["metadata"]["namespace"] = ns.clone().into();
        let kind = r.kind().to_string();
        let api_version = body["apiVersion"].as_str().unwrap_or_default().to_string();
        planned.push(Planned {
            plural: plural_of(&kind),
            kind,
            api_version,
            namespace: ns,
            name: r.metadata().name.clone().unwrap_or_default(),
            rank: r.apply_rank(),
            body,
        });
    }
    // Stable: same rank keeps script order.
    planned.sort_by_key(|p| p.rank);
    Ok((planned, skipped))
}

/// (apiVersion, Kind, plural) of every kind in `planned`, for the discovery check.
pub fn needed_kinds(planned: &[Planned]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = planned
        .iter()
        .map(|p| (p.api_version.clone(), p.kind.clone(), p.plural.clone()))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(display("Task", "tekton.dev", "a"), "task.tekton.dev/a");
        assert_eq!(display("ConfigMap", "", "a"), "configmap/a");
        assert_eq!(
            file_name("tekton.dev/v1", "Pipeline", "demo", "hello"),
            "tekton.dev.v1.Pipeline.demo.hello"
        );
        assert_eq!(file_name("v1", "Secret", "ns", "x"), "v1.Secret.ns.x");
        assert_eq!(plural_of("StepAction"), "stepactions");
    }
}
