//! A fake kubelet for a real kube-apiserver: registers a Node that points at a small HTTPS server
//! on 127.0.0.1 answering `GET /containerLogs/{ns}/{pod}/{container}` (what the apiserver proxies
//! `pods/{pod}/log` to). Lines come from the controller through the [`LogSink`] trait.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Node;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::Error;
use crate::logs::LogSink;

type Body = BoxBody<Bytes, Infallible>;
type Key = (String, String, String);

/// A running fake kubelet: one Node object plus its HTTPS log endpoint.
///
/// Dropping it stops the server (open log streams end); [`shutdown`](Self::shutdown) also deletes
/// the Node.
pub struct FakeKubelet {
    node_name: String,
    port: u16,
    logs: Arc<KubeletLogs>,
    server: JoinHandle<()>,
    client: Client,
}

impl std::fmt::Debug for FakeKubelet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeKubelet")
            .field("node_name", &self.node_name)
            .field("port", &self.port)
            .finish()
    }
}

impl FakeKubelet {
    /// Starts the HTTPS server and registers a Node with a name unique to this process
    /// (`faketekton-<pid>-<n>`).
    pub async fn start(client: Client) -> Result<FakeKubelet, Error> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "faketekton-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Self::start_named(client, &name).await
    }

    /// Like [`start`](Self::start) with a chosen node name; an existing Node of that name is
    /// taken over (its status is rewritten to point at this server).
    pub async fn start_named(client: Client, node_name: &str) -> Result<FakeKubelet, Error> {
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(Error::Io)?;
        let port = listener.local_addr().map_err(Error::Io)?.port();
        let acceptor = tls_acceptor()?;
        let logs = Arc::new(KubeletLogs::default());
        let server = tokio::spawn(serve(listener, acceptor, logs.clone()));
        let kubelet = FakeKubelet {
            node_name: node_name.to_string(),
            port,
            logs,
            server,
            client,
        };
        kubelet.register_node().await?;
        Ok(kubelet)
    }

    /// The registered Node's name (pods must carry it in `spec.nodeName`).
    pub fn node_name(&self) -> &str {
        &self.node_name
    }

    /// The HTTPS port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The sink to give the controller ([`Scenario::kubelet`](crate::Scenario::kubelet) does it).
    pub fn log_sink(&self) -> Arc<dyn LogSink> {
        self.logs.clone()
    }

    /// Stops the server and deletes the Node.
    pub async fn shutdown(self) -> Result<(), Error> {
        self.server.abort();
        let nodes: Api<Node> = Api::all(self.client.clone());
        match nodes
            .delete(&self.node_name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.is_not_found() => Ok(()),
            Err(e) => Err(Error::Kube(e)),
        }
    }

    async fn register_node(&self) -> Result<(), Error> {
        let nodes: Api<Node> = Api::all(self.client.clone());
        let node: Node = serde_json::from_value(json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.node_name,
                "labels": {"kubernetes.io/hostname": self.node_name, "faketekton.tekscript.dev/kubelet": "true"}
            },
            "spec": {}
        }))
        .map_err(|e| Error::Config(e.to_string()))?;
        match nodes.create(&PostParams::default(), &node).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.is_already_exists() => {}
            Err(e) => return Err(Error::Kube(e)),
        }
        let now = crate::now();
        // Only an InternalIP address: the apiserver tries Hostname first and would fail to resolve it.
        let status = json!({"status": {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.port}},
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
                "lastHeartbeatTime": now, "lastTransitionTime": now
            }]
        }});
        nodes
            .patch_status(
                &self.node_name,
                &PatchParams::default(),
                &Patch::Merge(&status),
            )
            .await
            .map_err(Error::Kube)?;
        Ok(())
    }
}

impl Drop for FakeKubelet {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn tls_acceptor() -> Result<TlsAcceptor, Error> {
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .map_err(|e| Error::Tls(e.to_string()))?;
    let cert = generated.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        generated.signing_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Tls(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .map_err(|e| Error::Tls(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn serve(listener: TcpListener, acceptor: TlsAcceptor, logs: Arc<KubeletLogs>) {
    // Connections live in the JoinSet so that stopping the server (aborting this task) ends them.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let acceptor = acceptor.clone();
                let logs = logs.clone();
                connections.spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |req| handle(req, logs.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Per-container log state shared by the sink side and the HTTP side.
#[derive(Default)]
struct KubeletLogs {
    containers: Mutex<HashMap<Key, Arc<ContainerLog>>>,
}

struct ContainerLog {
    state: Mutex<LogState>,
    changed: watch::Sender<u64>,
}

struct LogState {
    phase: Phase,
    lines: Vec<(jiff::Timestamp, String)>,
}

#[derive(Clone, PartialEq, Eq)]
enum Phase {
    Waiting(String),
    Running,
    Terminated,
}

impl KubeletLogs {
    fn entry(&self, ns: &str, pod: &str, container: &str) -> Option<Arc<ContainerLog>> {
        let mut map = self.containers.lock().ok()?;
        let log = map
            .entry((ns.to_string(), pod.to_string(), container.to_string()))
            .or_insert_with(|| {
                Arc::new(ContainerLog {
                    state: Mutex::new(LogState {
                        phase: Phase::Waiting("PodInitializing".into()),
                        lines: Vec::new(),
                    }),
                    changed: watch::Sender::new(0),
                })
            })
            .clone();
        Some(log)
    }

    fn get(&self, ns: &str, pod: &str, container: &str) -> Option<Arc<ContainerLog>> {
        let map = self.containers.lock().ok()?;
        map.get(&(ns.to_string(), pod.to_string(), container.to_string()))
            .cloned()
    }

    fn update(&self, ns: &str, pod: &str, container: &str, f: impl FnOnce(&mut LogState)) {
        let Some(log) = self.entry(ns, pod, container) else {
            return;
        };
        if let Ok(mut state) = log.state.lock() {
            f(&mut state);
        }
        log.changed.send_modify(|n| *n += 1);
    }
}

impl LogSink for KubeletLogs {
    fn container_waiting(&self, ns: &str, pod: &str, container: &str, reason: &str) {
        self.update(ns, pod, container, |s| {
            if matches!(s.phase, Phase::Waiting(_)) {
                s.phase = Phase::Waiting(reason.to_string());
            }
        });
    }
    fn container_started(&self, ns: &str, pod: &str, container: &str) {
        self.update(ns, pod, container, |s| {
            if matches!(s.phase, Phase::Waiting(_)) {
                s.phase = Phase::Running;
            }
        });
    }
    fn push_line(&self, ns: &str, pod: &str, container: &str, line: &str) {
        self.update(ns, pod, container, |s| {
            if matches!(s.phase, Phase::Waiting(_)) {
                s.phase = Phase::Running;
            }
            s.lines.push((jiff::Timestamp::now(), line.to_string()));
        });
    }
    fn end(&self, ns: &str, pod: &str, container: &str) {
        self.update(ns, pod, container, |s| s.phase = Phase::Terminated);
    }
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body)).boxed());
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

struct LogQuery {
    follow: bool,
    timestamps: bool,
    previous: bool,
    tail_lines: Option<usize>,
}

fn parse_query(query: Option<&str>) -> LogQuery {
    let mut q = LogQuery {
        follow: false,
        timestamps: false,
        previous: false,
        tail_lines: None,
    };
    for pair in query.unwrap_or_default().split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let yes = v == "true" || v == "1";
        match k {
            "follow" => q.follow = yes,
            "timestamps" => q.timestamps = yes,
            "previous" => q.previous = yes,
            "tailLines" => q.tail_lines = v.parse().ok(),
            _ => {}
        }
    }
    q
}

async fn handle(
    req: Request<Incoming>,
    logs: Arc<KubeletLogs>,
) -> Result<Response<Body>, Infallible> {
    if req.method() != http::Method::GET {
        return Ok(text(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed".into(),
        ));
    }
    let path = req.uri().path().to_string();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let [kind, ns, pod, container] = parts.as_slice() else {
        return Ok(text(StatusCode::NOT_FOUND, "404 page not found\n".into()));
    };
    if *kind != "containerLogs" {
        return Ok(text(StatusCode::NOT_FOUND, "404 page not found\n".into()));
    }
    let query = parse_query(req.uri().query());
    let Some(log) = logs.get(ns, pod, container) else {
        // The kubelet answers this way for pods it doesn't run.
        return Ok(text(
            StatusCode::NOT_FOUND,
            format!("pod {pod:?} does not exist"),
        ));
    };
    if query.previous {
        return Ok(text(
            StatusCode::BAD_REQUEST,
            format!("previous terminated container {container:?} in pod {pod:?} not found"),
        ));
    }
    let (phase, start) = match log.state.lock() {
        Ok(s) => (
            s.phase.clone(),
            query
                .tail_lines
                .map(|n| s.lines.len().saturating_sub(n))
                .unwrap_or(0),
        ),
        Err(_) => return Ok(text(StatusCode::INTERNAL_SERVER_ERROR, "poisoned".into())),
    };
    if let Phase::Waiting(reason) = phase {
        // Wording of the kubelet's validateContainerLogStatus.
        let why = match reason.as_str() {
            "ErrImagePull" => "image can't be pulled".to_string(),
            "ImagePullBackOff" => "trying and failing to pull image".to_string(),
            other => other.to_string(),
        };
        return Ok(text(
            StatusCode::BAD_REQUEST,
            format!("container {container:?} in pod {pod:?} is waiting to start: {why}"),
        ));
    }
    let rx = log.changed.subscribe();
    let follow = query.follow;
    let timestamps = query.timestamps;
    let stream = futures::stream::unfold(
        (log, rx, start, false),
        move |(log, mut rx, mut next, done)| async move {
            if done {
                return None;
            }
            loop {
                let (chunk, terminated) = {
                    let Ok(state) = log.state.lock() else {
                        return None;
                    };
                    let mut chunk = String::new();
                    for (ts, line) in state.lines.iter().skip(next) {
                        if timestamps {
                            chunk.push_str(&format!("{} ", ts));
                        }
                        chunk.push_str(line);
                        chunk.push('\n');
                    }
                    next = state.lines.len();
                    (chunk, state.phase == Phase::Terminated)
                };
                let finished = terminated || !follow;
                if !chunk.is_empty() {
                    return Some((
                        Ok::<_, Infallible>(Frame::data(Bytes::from(chunk))),
                        (log, rx, next, finished),
                    ));
                }
                if finished || rx.changed().await.is_err() {
                    return None;
                }
            }
        },
    );
    let mut resp = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    Ok(resp)
}
