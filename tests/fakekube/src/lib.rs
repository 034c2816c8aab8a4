//! A fake Kubernetes API server for tekscript's tests (cluster.md §3.4).
//!
//! One [`FakeApi`] holds the state; it is served either in-process through
//! [`FakeApi::service`] (hand it to `kube::Client::new(api.service(), "default")`)
//! or on a loopback port through [`FakeApi::serve`] (for the CLI binary and
//! kubectl, with a kubeconfig written for you).
//!
//! Modelled behaviour: discovery (`/version` reports v1.33.0; core v1 and
//! `tekton.dev` v1/v1beta1 exactly as a real server with Tekton's CRDs shows
//! them), CRUD with one global resourceVersion counter, `generateName`,
//! generation bumps, the status subresource, `dryRun=All`, server-side apply
//! with field ownership (lists atomic, maps granular), merge and JSON patches,
//! label/field selectors, watches (replay, 410 Expired, bookmarks), pod logs fed
//! by the test, bearer tokens and RBAC-style denials, fault injection and a
//! request log. Error bodies are the apiserver's `Status` objects with its
//! messages. Everything is deterministic: UIDs and generated names come from a
//! seeded generator and the clock is fixed (see [`FakeApi::set_time`]).

mod patch;
mod resources;
mod selector;
mod server;
mod serving;
pub mod ssa;
mod state;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use serde_json::{Value, json};

pub use selector::{FieldSelector, LabelSelector};
pub use server::BoxError;
pub use serving::{Serving, write_kubeconfig};
pub use state::{DEFAULT_TOKEN, Fault, Matcher, RecordedRequest, User};

pub(crate) struct Shared {
    pub(crate) state: Mutex<state::State>,
    pub(crate) tick: tokio::sync::watch::Sender<u64>,
}

/// The fake API server's shared state. Cheap to clone (all clones share it).
#[derive(Clone)]
pub struct FakeApi {
    pub(crate) shared: Arc<Shared>,
}

impl Default for FakeApi {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for FakeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApi").finish_non_exhaustive()
    }
}

fn group_of(group_version: &str) -> &str {
    group_version.rsplit_once('/').map_or("", |(g, _)| g)
}

impl FakeApi {
    /// A server with namespaces `default`, `kube-system`, `kube-public`,
    /// `kube-node-lease` and Tekton's resources served.
    pub fn new() -> Self {
        Self::build(true)
    }

    /// A server without the `tekton.dev` group ("Tekton not installed").
    pub fn without_tekton() -> Self {
        Self::build(false)
    }

    fn build(tekton: bool) -> Self {
        let (tick, _) = tokio::sync::watch::channel(0);
        FakeApi {
            shared: Arc::new(Shared {
                state: Mutex::new(state::State::new(tekton)),
                tick,
            }),
        }
    }

    /// The in-process tower service: `kube::Client::new(api.service(), "default")`.
    /// A [`Fault::DropConnection`] makes it return an error.
    pub fn service(&self) -> FakeService {
        FakeService { api: self.clone() }
    }

    /// The same handler as an axum `Router` (errors from
    /// [`Fault::DropConnection`] become 502 responses here, since a router
    /// cannot fail; use [`FakeApi::service`] for the in-process drop).
    pub fn router(&self) -> axum::Router {
        let api = self.clone();
        axum::Router::new().fallback(move |req: axum::extract::Request| {
            let api = api.clone();
            async move {
                let handled = match FakeApi::collect(req).await {
                    Ok((parts, body)) => api.handle(parts, body, "127.0.0.1:0".to_string()).await,
                    Err(e) => Err(e),
                };
                match handled {
                    Ok(r) => r,
                    Err(e) => server::json_resp(
                        502,
                        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": e.to_string(), "reason": "ServiceUnavailable", "code": 502}),
                    ),
                }
            }
        })
    }

    /// Serve on `127.0.0.1:0` (plain HTTP) from a background thread with its
    /// own tokio runtime; stops when the returned [`Serving`] is dropped.
    pub fn serve(&self) -> Serving {
        serving::serve(self.clone())
    }

    // ---- state helpers -------------------------------------------------

    /// Create a namespace (no-op if it exists); returns the stored object.
    pub fn create_namespace(&self, name: &str) -> Value {
        let v = self.lock().create_namespace(name);
        self.notify();
        v
    }

    /// A stored object, e.g. `object("tekton.dev/v1", "pipelines", "default", "hello")`
    /// or `object("v1", "configmaps", "default", "c")` (namespace ignored for
    /// cluster-scoped types).
    pub fn object(&self, group_version: &str, plural: &str, ns: &str, name: &str) -> Option<Value> {
        let group = group_of(group_version);
        let st = self.lock();
        let def = resources::all(st.tekton).find(|r| r.group == group && r.plural == plural)?;
        st.objects
            .get(&state::key(def, ns, name))
            .map(|v| ssa::sort_keys(v.clone()))
    }

    /// All stored objects of a plural (any group serving it) in `ns`
    /// (`None` = all namespaces), sorted by namespace and name.
    pub fn list(&self, plural: &str, ns: Option<&str>) -> Vec<Value> {
        let st = self.lock();
        st.objects
            .iter()
            .filter(|(k, _)| k.1 == plural && ns.is_none_or(|n| k.2 == n))
            .map(|(_, v)| ssa::sort_keys(v.clone()))
            .collect()
    }

    /// Store an object directly (as a create would: uid, creationTimestamp,
    /// generation and a new resourceVersion are filled in when missing; an
    /// existing object with the same name is replaced and a MODIFIED event
    /// emitted). `metadata.managedFields` are kept as given. The namespace is
    /// created if missing. Errors if apiVersion/kind are not served.
    pub fn seed(&self, obj: Value) -> Result<Value, String> {
        let api_version = obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
        let mut st = self.lock();
        let def = resources::find_kind(st.tekton, api_version, kind)
            .ok_or_else(|| format!("{api_version} {kind} is not served"))?;
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .ok_or("metadata.name is required")?
            .to_string();
        let mut obj = obj;
        if def.namespaced {
            state::set_meta(&mut obj, "namespace", json!(ns));
            if !st.namespace_exists(&ns) {
                st.create_namespace(&ns);
            }
        }
        let out = match st.objects.get(&state::key(def, &ns, &name)).cloned() {
            Some(old) => {
                for f in ["uid", "creationTimestamp"] {
                    if obj.pointer(&format!("/metadata/{f}")).is_none()
                        && let Some(v) = old.pointer(&format!("/metadata/{f}"))
                    {
                        state::set_meta(&mut obj, f, v.clone());
                    }
                }
                st.rv += 1;
                let rv = st.rv;
                state::set_meta(&mut obj, "resourceVersion", json!(rv.to_string()));
                st.replace(def, &old, obj)
            }
            None => {
                state::remove_meta(&mut obj, "resourceVersion");
                st.commit_create(def, obj, false)
            }
        };
        drop(st);
        self.notify();
        Ok(out)
    }

    /// Delete a stored object directly (emits DELETED). Returns whether it existed.
    pub fn remove(&self, group_version: &str, plural: &str, ns: &str, name: &str) -> bool {
        let group = group_of(group_version);
        let mut st = self.lock();
        let Some(def) = resources::all(st.tekton).find(|r| r.group == group && r.plural == plural)
        else {
            return false;
        };
        let Some(old) = st.objects.get(&state::key(def, ns, name)).cloned() else {
            return false;
        };
        st.commit_delete(def, &old, false);
        drop(st);
        self.notify();
        true
    }

    /// The current resourceVersion counter.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// Set the fixed clock used for creationTimestamp, managedFields times and
    /// deletionTimestamp (RFC 3339, default `2026-01-01T00:00:00Z`).
    pub fn set_time(&self, rfc3339: &str) {
        self.lock().now = rfc3339.to_string();
    }

    // ---- pod logs ------------------------------------------------------

    /// Append one log line (without newline) to a container's log.
    pub fn push_log(&self, ns: &str, pod: &str, container: &str, line: &str) {
        self.lock()
            .logs
            .entry((ns.to_string(), pod.to_string(), container.to_string()))
            .or_default()
            .lines
            .push(line.to_string());
        self.notify();
    }

    /// Mark a container's log complete: `follow=true` readers reach EOF.
    pub fn end_log(&self, ns: &str, pod: &str, container: &str) {
        self.lock()
            .logs
            .entry((ns.to_string(), pod.to_string(), container.to_string()))
            .or_default()
            .ended = true;
        self.notify();
    }

    // ---- auth ----------------------------------------------------------

    /// Accept `token` as user `user` with `groups`.
    pub fn add_token(&self, token: &str, user: &str, groups: &[&str]) {
        self.lock().tokens.insert(
            token.to_string(),
            User {
                name: user.to_string(),
                groups: groups.iter().map(|g| g.to_string()).collect(),
            },
        );
    }

    /// Forget a token (requests with it get 401 Unauthorized, like an expired one).
    pub fn revoke_token(&self, token: &str) {
        self.lock().tokens.remove(token);
    }

    /// When true, requests without an `Authorization` header get 401
    /// (default false: they act as the default token's user, which is what
    /// in-process kube clients without credentials need).
    pub fn require_token(&self, on: bool) {
        self.lock().require_token = on;
    }

    /// Forbid `verb` (`get`, `list`, `watch`, `create`, `update`, `patch`,
    /// `delete`, `deletecollection`, or `*`) on `resource` (plural, e.g.
    /// `pipelines`, `pipelineruns/status`, `pods/log`, or `*`) for `user`
    /// (or `*`): 403 Forbidden with the apiserver's RBAC message.
    pub fn deny(&self, user: &str, verb: &str, resource: &str) {
        self.lock().denies.push(state::Deny {
            user: user.to_string(),
            verb: verb.to_string(),
            resource: resource.to_string(),
        });
    }

    // ---- faults & watches ----------------------------------------------

    /// Make the next `times` requests matching `matcher` fail with `fault`
    /// (rules are consulted in the order they were added).
    pub fn fail_next(&self, matcher: Matcher, fault: Fault, times: usize) {
        self.lock().faults.push(state::FaultRule {
            matcher,
            fault,
            remaining: times,
        });
    }

    /// End every open watch stream now (clean EOF).
    pub fn close_watches(&self) {
        self.lock().close_epoch += 1;
        self.notify();
    }

    /// Send every open watch stream a 410 Expired ERROR event and end it.
    pub fn expire_watches(&self) {
        self.lock().expire_epoch += 1;
        self.notify();
    }

    /// Drop the watch event log: any resourceVersion up to now is "too old"
    /// (watches from it get the 410 ERROR event).
    pub fn compact(&self) {
        self.lock().compact();
        self.notify();
    }

    /// Keep at most `n` events in the watch log (default 1000).
    pub fn set_event_log_capacity(&self, n: usize) {
        let mut st = self.lock();
        st.event_capacity = n;
        while st.events.len() > n {
            if let Some(e) = st.events.pop_front() {
                st.compacted = e.rv;
            }
        }
    }

    // ---- request log ---------------------------------------------------

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Forget the recorded requests.
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }
}

/// In-process tower service over a [`FakeApi`] (see [`FakeApi::service`]).
#[derive(Clone, Debug)]
pub struct FakeService {
    api: FakeApi,
}

impl<B> tower::Service<http::Request<B>> for FakeService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<axum::body::Body>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let api = self.api.clone();
        Box::pin(async move {
            let (parts, body) = FakeApi::collect(req).await?;
            api.handle(parts, body, "127.0.0.1:0".to_string()).await
        })
    }
}
