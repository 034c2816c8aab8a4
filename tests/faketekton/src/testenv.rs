//! Helpers for tests that run against a real kube-apiserver (the one of
//! `scripts/test-apiserver/start.sh`, or any cluster with Tekton's CRDs and no Tekton controller),
//! named by the environment variable [`KUBECONFIG_ENV`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject, PostParams};
use kube::config::{Config, KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use serde_json::{Value, json};

use crate::Error;

/// Environment variable holding the kubeconfig path of the test apiserver.
pub const KUBECONFIG_ENV: &str = "TEKSCRIPT_TEST_KUBECONFIG";

/// A reachable test apiserver.
#[derive(Clone)]
pub struct RealCluster {
    /// Client built from the kubeconfig (its context's namespace is the default namespace).
    pub client: Client,
    /// The kubeconfig file.
    pub kubeconfig: PathBuf,
}

impl std::fmt::Debug for RealCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealCluster")
            .field("kubeconfig", &self.kubeconfig)
            .finish_non_exhaustive()
    }
}

/// The cluster named by [`KUBECONFIG_ENV`]; `Ok(None)` (after printing a line saying that `test`
/// is skipped) when the variable is unset or empty.
pub async fn real_cluster(test: &str) -> Result<Option<RealCluster>, Error> {
    let path = match std::env::var(KUBECONFIG_ENV) {
        Ok(p) if !p.trim().is_empty() => PathBuf::from(p.trim()),
        _ => {
            eprintln!(
                "skipping {test}: {KUBECONFIG_ENV} is not set (point it at a test apiserver's kubeconfig)"
            );
            return Ok(None);
        }
    };
    let client = client_from_kubeconfig(&path).await?;
    Ok(Some(RealCluster {
        client,
        kubeconfig: path,
    }))
}

/// A client for the current context of a kubeconfig file.
pub async fn client_from_kubeconfig(path: &Path) -> Result<Client, Error> {
    let kc = Kubeconfig::read_from(path)
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    Client::try_from(config).map_err(Error::Kube)
}

impl RealCluster {
    /// Creates a namespace `<prefix><random>` (server-generated name) and returns its name.
    /// A bare kube-apiserver never finishes deleting namespaces, so tests leave them behind.
    pub async fn fresh_namespace(&self, prefix: &str) -> Result<String, Error> {
        create_namespace(&self.client, prefix).await
    }

    /// A `kubectl` command for this cluster (`--kubeconfig`, and `HOME` in a private directory so
    /// the discovery cache can't go stale).
    pub fn kubectl(&self) -> std::process::Command {
        let home =
            std::env::temp_dir().join(format!("faketekton-kubectl-home-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&home);
        let mut cmd = std::process::Command::new("kubectl");
        cmd.env("HOME", home)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig);
        cmd
    }
}

/// Creates a namespace with a server-generated name starting with `prefix`.
pub async fn create_namespace(client: &Client, prefix: &str) -> Result<String, Error> {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns = serde_json::from_value(json!({"metadata": {"generateName": prefix}}))
        .map_err(|e| Error::Config(e.to_string()))?;
    let created = api.create(&PostParams::default(), &ns).await?;
    created
        .metadata
        .name
        .ok_or_else(|| Error::Config("namespace without a name".into()))
}

/// `(status, reason, message)` of an object's `Succeeded` condition.
pub fn succeeded(obj: &DynamicObject) -> Option<(String, String, String)> {
    let c = crate::run::succeeded_condition(&obj.data)?;
    let s = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Some((s("status"), s("reason"), s("message")))
}

/// Waits (watching, not polling) until object `name` satisfies `cond`, at most `timeout`.
pub async fn wait_for(
    api: &Api<DynamicObject>,
    name: &str,
    timeout: Duration,
    cond: impl Fn(&DynamicObject) -> bool,
) -> Result<DynamicObject, Error> {
    let mut stream = watcher::watch_object(api.clone(), name).boxed();
    let mut last = None;
    let waited = tokio::time::timeout(timeout, async {
        while let Some(item) = stream.next().await {
            match item {
                Ok(Some(obj)) => {
                    if cond(&obj) {
                        return Ok(obj);
                    }
                    last = Some(obj);
                }
                Ok(None) => {}
                Err(e) => return Err(Error::Config(format!("watching {name}: {e}"))),
            }
        }
        Err(Error::Config(format!("watch of {name} ended")))
    })
    .await;
    match waited {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout(format!(
            "{name} did not reach the condition within {timeout:?}; last seen status: {}",
            last.as_ref()
                .and_then(|o: &DynamicObject| o.data.get("status"))
                .map(|s| s.to_string())
                .unwrap_or_default()
        ))),
    }
}

/// Waits until the PipelineRun's `Succeeded` condition is no longer `Unknown`.
pub async fn wait_for_pipelinerun(
    client: &Client,
    ns: &str,
    name: &str,
    timeout: Duration,
) -> Result<DynamicObject, Error> {
    let api = Api::namespaced_with(client.clone(), ns, &crate::pipelinerun_resource());
    wait_for(&api, name, timeout, |o| {
        succeeded(o).is_some_and(|(s, _, _)| s != "Unknown")
    })
    .await
}
