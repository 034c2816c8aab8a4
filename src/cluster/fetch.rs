//! Reading live Tekton objects for `import --from-cluster`: by `KIND/NAME`, or every object of a kind
//! (optionally with a label selector), with the fields the server and Tekton's controllers add removed.

use super::connect::{Target, check_served};
use super::error::ClusterError;
use super::objects::{SERVER_METADATA, api_resource, display, drop_fields, plural_of};
use super::retry::with_retry;
use kube::Api;
use kube::api::{DynamicObject, ListParams};
use serde_json::Value;

/// What to fetch: a kind and one name, or all of the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRef {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub name: Option<String>,
}

impl FetchRef {
    /// Parses `task/build`, `pipelines`, `pr/ci-run-x`, `pipeline.tekton.dev/ci` (kubectl's spellings).
    pub fn parse(spec: &str) -> Result<FetchRef, String> {
        let (kind, name) = match spec.split_once('/') {
            Some((k, n)) if !n.is_empty() => (k, Some(n.to_string())),
            Some(_) => {
                return Err(format!(
                    "--from-cluster {spec}: the name after `/` is empty"
                ));
            }
            None => (spec, None),
        };
        let kind = kind
            .strip_suffix(".tekton.dev")
            .unwrap_or(kind)
            .to_lowercase();
        let (api_version, kind) = match kind.as_str() {
            "task" | "tasks" => ("tekton.dev/v1", "Task"),
            "pipeline" | "pipelines" => ("tekton.dev/v1", "Pipeline"),
            "pipelinerun" | "pipelineruns" | "pr" | "prs" => ("tekton.dev/v1", "PipelineRun"),
            "taskrun" | "taskruns" | "tr" | "trs" => ("tekton.dev/v1", "TaskRun"),
            "stepaction" | "stepactions" => ("tekton.dev/v1beta1", "StepAction"),
            other => {
                return Err(format!(
                    "--from-cluster {spec}: unknown kind {other:?} (expected task, pipeline, pipelinerun, taskrun \
                     or stepaction, optionally followed by /NAME)"
                ));
            }
        };
        Ok(FetchRef {
            api_version,
            kind,
            name,
        })
    }
}

/// Fetches the objects in `target.namespace`, in the order asked (all of a kind: sorted by name), cleaned
/// with [`strip_server_fields`].
pub async fn fetch(
    target: &Target,
    refs: &[FetchRef],
    selector: Option<&str>,
) -> Result<Vec<Value>, ClusterError> {
    let needs: Vec<(String, String, String)> = refs
        .iter()
        .map(|r| {
            (
                r.api_version.to_string(),
                r.kind.to_string(),
                plural_of(r.kind),
            )
        })
        .collect();
    check_served(target, &needs).await?;
    let mut out = Vec::new();
    for r in refs {
        let ar = api_resource(r.api_version, r.kind, &plural_of(r.kind));
        let api: Api<DynamicObject> =
            Api::namespaced_with(target.client.clone(), &target.namespace, &ar);
        match &r.name {
            Some(name) => {
                let what = display(r.kind, "tekton.dev", name);
                let obj = with_retry(target, "read", &what, || api.get_opt(name)).await?;
                match obj {
                    Some(o) => out.push(strip_server_fields(
                        serde_json::to_value(&o).unwrap_or_default(),
                    )),
                    None => {
                        return Err(ClusterError::Usage(format!(
                            "{what} not found in namespace {} (context {})",
                            target.namespace, target.context
                        )));
                    }
                }
            }
            None => {
                let mut lp = ListParams::default();
                if let Some(s) = selector {
                    lp = lp.labels(s);
                }
                let what = format!("{} in namespace {}", ar.plural, target.namespace);
                let list = with_retry(target, "list", &what, || api.list(&lp)).await?;
                let mut items: Vec<Value> = list
                    .items
                    .iter()
                    .map(|o| strip_server_fields(serde_json::to_value(o).unwrap_or_default()))
                    .collect();
                items.sort_by(|a, b| {
                    a["metadata"]["name"]
                        .as_str()
                        .cmp(&b["metadata"]["name"].as_str())
                });
                out.extend(items);
            }
        }
    }
    Ok(out)
}

/// Removes what the API server and Tekton add to an object, so that importing a live object gives the
/// script someone would have written: `status`; `metadata` fields set by the server (`uid`,
/// `resourceVersion`, `generation`, `creationTimestamp`, `managedFields`, `selfLink`, `ownerReferences`,
/// `finalizers`, `namespace`); kubectl's last-applied annotation; labels Tekton's controller puts on runs
/// (`tekton.dev/*`, `app.kubernetes.io/managed-by: tekton-pipelines`) and ApplySet membership labels.
pub fn strip_server_fields(mut v: Value) -> Value {
    let extra = ["ownerReferences", "finalizers", "namespace"];
    let keys: Vec<&str> = SERVER_METADATA.iter().copied().chain(extra).collect();
    drop_fields(&mut v, &keys);
    if let Some(Value::Object(m)) = v.get_mut("metadata") {
        let mut drop_empty = Vec::new();
        if let Some(Value::Object(a)) = m.get_mut("annotations") {
            a.shift_remove("kubectl.kubernetes.io/last-applied-configuration");
            if a.is_empty() {
                drop_empty.push("annotations");
            }
        }
        if let Some(Value::Object(l)) = m.get_mut("labels") {
            l.retain(|k, v| {
                !(k.starts_with("tekton.dev/")
                    || k.starts_with("applyset.kubernetes.io/")
                    || (k == "app.kubernetes.io/managed-by" && v == "tekton-pipelines"))
            });
            if l.is_empty() {
                drop_empty.push("labels");
            }
        }
        for k in drop_empty {
            m.shift_remove(k);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_refs() {
        assert_eq!(
            FetchRef::parse("pr/ci-run-abc").unwrap(),
            FetchRef {
                api_version: "tekton.dev/v1",
                kind: "PipelineRun",
                name: Some("ci-run-abc".into())
            }
        );
        assert_eq!(FetchRef::parse("Pipelines").unwrap().name, None);
        assert_eq!(FetchRef::parse("task.tekton.dev/x").unwrap().kind, "Task");
        assert_eq!(
            FetchRef::parse("stepaction/s").unwrap().api_version,
            "tekton.dev/v1beta1"
        );
        assert!(
            FetchRef::parse("deployment/x")
                .unwrap_err()
                .contains("unknown kind")
        );
        assert!(FetchRef::parse("task/").is_err());
    }

    #[test]
    fn strips_server_and_controller_fields() {
        let live = json!({
            "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
            "metadata": {
                "name": "r", "namespace": "demo", "uid": "u", "resourceVersion": "9", "generation": 1,
                "creationTimestamp": "t", "managedFields": [], "finalizers": ["chains.tekton.dev"],
                "labels": {"tekton.dev/pipeline": "ci", "app.kubernetes.io/managed-by": "tekton-pipelines",
                           "applyset.kubernetes.io/part-of": "x", "team": "a"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
            },
            "spec": {"pipelineRef": {"name": "ci"}},
            "status": {"conditions": []}
        });
        assert_eq!(
            strip_server_fields(live),
            json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
                   "metadata": {"name": "r", "labels": {"team": "a"}},
                   "spec": {"pipelineRef": {"name": "ci"}}})
        );
    }
}
