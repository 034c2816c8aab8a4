//! Connecting like kubectl: `--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`, else the in-cluster
//! service account; `--context`; `-n` over the context's namespace. Then a check that Tekton is served.

use super::error::ClusterError;
use super::retry::with_retry;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::PathBuf;
use std::time::Duration;

/// How to reach the cluster (the kubectl flags).
#[derive(Debug, Clone)]
pub struct Connection {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// Bound on each request (not on watches or log streams).
    pub request_timeout: Duration,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            kubeconfig: None,
            context: None,
            namespace: None,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// A connected client plus what messages need to say about it.
#[derive(Clone)]
pub struct Target {
    pub client: Client,
    /// The namespace objects without one go to.
    pub namespace: String,
    /// `-n` was given: objects that name another namespace are an error (as with kubectl).
    pub namespace_explicit: bool,
    /// The API server URL, for messages.
    pub server: String,
    /// The kubeconfig context name (`in-cluster` inside a pod).
    pub context: String,
    pub request_timeout: Duration,
}

/// The user agent sent with every request; the API server records it as the manager of non-apply writes.
pub const USER_AGENT: &str = concat!("tekscript/", env!("CARGO_PKG_VERSION"));

/// The field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "tekscript";

/// Loads the configuration and builds a client. Does not talk to the server.
pub async fn connect(conn: &Connection) -> Result<Target, ClusterError> {
    let options = KubeConfigOptions {
        context: conn.context.clone(),
        ..Default::default()
    };
    let (mut config, context) = if let Some(path) = &conn.kubeconfig {
        let kc = Kubeconfig::read_from(path)
            .map_err(|e| ClusterError::BadConfig(format!("{}: {e}", path.display())))?;
        let context = context_name(&kc, conn.context.as_deref(), &path.display().to_string())?;
        let config = Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(|e| ClusterError::BadConfig(format!("{}: {e}", path.display())))?;
        (config, context)
    } else if kubeconfig_exists() {
        let kc = Kubeconfig::read().map_err(|e| ClusterError::BadConfig(e.to_string()))?;
        let context = context_name(&kc, conn.context.as_deref(), "the kubeconfig")?;
        let config = Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(|e| ClusterError::BadConfig(e.to_string()))?;
        (config, context)
    } else if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        if conn.context.is_some() {
            return Err(ClusterError::BadConfig(
                "--context needs a kubeconfig, but none was found (running in-cluster)".into(),
            ));
        }
        let config = Config::incluster().map_err(|e| {
            ClusterError::BadConfig(format!("in-cluster configuration failed: {e}"))
        })?;
        (config, "in-cluster".to_string())
    } else {
        return Err(ClusterError::NoConfig);
    };
    let namespace_explicit = conn.namespace.is_some();
    if let Some(ns) = &conn.namespace {
        config.default_namespace = ns.clone();
    }
    // Our own retry loop (retry.rs) decides what to retry and bounds Retry-After.
    config.default_retry = false;
    config.connect_timeout = Some(conn.request_timeout.min(Duration::from_secs(10)));
    config.read_timeout = Some(conn.request_timeout);
    config.write_timeout = Some(conn.request_timeout);
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(USER_AGENT),
    ));
    let server = config.cluster_url.to_string();
    let server = server.trim_end_matches('/').to_string();
    let namespace = config.default_namespace.clone();
    let client = Client::try_from(config).map_err(|e| ClusterError::BadConfig(e.to_string()))?;
    Ok(Target {
        client,
        namespace,
        namespace_explicit,
        server,
        context,
        request_timeout: conn.request_timeout,
    })
}

fn kubeconfig_exists() -> bool {
    match std::env::var_os("KUBECONFIG") {
        Some(v) => std::env::split_paths(&v).any(|p| p.is_file()),
        None => std::env::home_dir().is_some_and(|h| h.join(".kube").join("config").is_file()),
    }
}

/// The context to use: `--context`, else the kubeconfig's current context. Names a missing one with the
/// contexts there are (kube's own message is only "failed to load current context: NAME").
fn context_name(
    kc: &Kubeconfig,
    chosen: Option<&str>,
    source: &str,
) -> Result<String, ClusterError> {
    let name = chosen
        .map(str::to_string)
        .or_else(|| kc.current_context.clone())
        .unwrap_or_default();
    if kc.contexts.iter().any(|c| c.name == name) {
        return Ok(name);
    }
    let known: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    let what = if chosen.is_some() {
        format!("--context {name:?}")
    } else if name.is_empty() {
        "no current-context is set and no --context was given, so no context".to_string()
    } else {
        format!("the current-context {name:?}")
    };
    Err(ClusterError::BadConfig(format!(
        "{source}: {what} is not defined there (contexts: {}); pick one with --context NAME",
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )))
}

/// Checks that the API versions the objects need are served, with one discovery request per version.
/// `needs`: (apiVersion, Kind, plural) triples.
pub async fn check_served(
    target: &Target,
    needs: &[(String, String, String)],
) -> Result<(), ClusterError> {
    let mut versions: Vec<&str> = needs.iter().map(|(v, _, _)| v.as_str()).collect();
    versions.sort();
    versions.dedup();
    for version in versions {
        let kinds: Vec<String> = needs
            .iter()
            .filter(|(v, _, _)| v == version)
            .map(|(_, k, _)| k.clone())
            .collect();
        let missing = |kinds: Vec<String>| ClusterError::TektonMissing {
            server: target.server.clone(),
            api_version: version.to_string(),
            kinds,
        };
        let res = with_retry(target, "discover", version, || async {
            if version.contains('/') {
                target.client.list_api_group_resources(version).await
            } else {
                target.client.list_core_api_resources(version).await
            }
        })
        .await;
        let list = match res {
            Ok(l) => l,
            Err(ClusterError::Api { code: 404, .. }) => return Err(missing(kinds)),
            Err(e) => return Err(e),
        };
        let absent: Vec<String> = needs
            .iter()
            .filter(|(v, _, plural)| {
                v == version && !list.resources.iter().any(|r| &r.name == plural)
            })
            .map(|(_, k, _)| k.clone())
            .collect();
        if !absent.is_empty() {
            return Err(missing(absent));
        }
    }
    Ok(())
}
