//! Loopback HTTP serving and kubeconfig files.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::state::DEFAULT_TOKEN;
use crate::{BoxError, FakeApi};

/// A running loopback server (see [`FakeApi::serve`]). Dropping it stops the
/// server (open watches and log streams are cut) and removes its temp dir.
#[derive(Debug)]
pub struct Serving {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    counter: AtomicUsize,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Write a kubeconfig with one cluster/context/user named `fake`: server
/// `url`, bearer `token`, context namespace `namespace`.
pub fn write_kubeconfig(
    path: &Path,
    url: &str,
    token: &str,
    namespace: &str,
) -> std::io::Result<()> {
    let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    namespace: {}\n    user: fake\ncurrent-context: fake\nusers:\n- name: fake\n  user:\n    token: {}\n",
        q(url),
        q(namespace),
        q(token)
    );
    std::fs::write(path, text)
}

impl Serving {
    /// Kubeconfig for the default token and namespace `default`.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// A new kubeconfig file for another token and/or namespace (inside the
    /// server's temp dir).
    pub fn kubeconfig_for(&self, token: &str, namespace: &str) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let path = self.dir.path().join(format!("kubeconfig-{n}"));
        // The temp dir exists for the lifetime of `self`; a failed write shows
        // up as a missing file in the caller's command.
        let _ = write_kubeconfig(&path, &self.url, token, namespace);
        path
    }

    /// The server's temp dir (handy as HOME for kubectl).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn handle_incoming(
    api: FakeApi,
    req: http::Request<hyper::body::Incoming>,
    host: String,
) -> Result<http::Response<axum::body::Body>, BoxError> {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(axum::body::Body::new(body), 256 << 20).await {
        Ok(b) => b,
        Err(e) => return Err(BoxError::from(e.to_string())),
    };
    api.handle(parts, bytes, host).await
}

pub(crate) fn try_serve(api: FakeApi) -> std::io::Result<Serving> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    let dir = tempfile::Builder::new().prefix("fakekube-").tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");
    write_kubeconfig(&kubeconfig, &url, DEFAULT_TOKEN, "default")?;
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    let host = addr.to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new()
        .name("fakekube".to_string())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let api = api.clone();
                            let host = host.clone();
                            tokio::spawn(async move {
                                let io = hyper_util::rt::TokioIo::new(stream);
                                let svc = hyper::service::service_fn(move |req| {
                                    let api = api.clone();
                                    let host = host.clone();
                                    handle_incoming(api, req, host)
                                });
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(io, svc)
                                    .await;
                            });
                        }
                    }
                }
            });
            runtime.shutdown_timeout(Duration::from_millis(200));
        })?;
    Ok(Serving {
        url,
        addr,
        dir,
        kubeconfig,
        counter: AtomicUsize::new(0),
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

pub(crate) fn serve(api: FakeApi) -> Serving {
    match try_serve(api) {
        Ok(s) => s,
        // Test infrastructure: without a loopback socket nothing can run.
        Err(e) => panic!("fakekube: cannot serve on 127.0.0.1: {e}"),
    }
}
