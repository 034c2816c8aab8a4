//! Test clusters for the cluster commands (`diff`/`apply`/`run`): the same scenario runs against the in-repo
//! fake API server (crate `fakekube`) and against a real kube-apiserver 1.20 + etcd started from
//! `scripts/test-apiserver/start.sh` (binaries from `scripts/test-apiserver/build.sh`).
//!
//! * [`real()`] starts **one** real apiserver per test process, lazily, in a fresh state directory; a watchdog
//!   started by `start.sh` (`TEKSCRIPT_STOP_WHEN_PID_EXITS`) stops it when the test process exits, because
//!   statics are never dropped. Without the binaries or the Tekton CRDs it prints one skip reason and returns
//!   `None` — unless `TEKSCRIPT_REQUIRE_APISERVER=1`, then it panics (CI sets it).
//! * [`TestCluster`] is one isolated environment: a new fake server, or a fresh namespace `t-…` in the shared
//!   real server, with a kubeconfig whose context namespace is that namespace.
//! * [`each_backend`] runs a scenario on the fake and, when available, on the real server.
//!
//! See docs/cluster-testing.md for the variables and measured times.

use std::ffi::OsString;
use std::hash::{BuildHasher, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Repository root (the tekscript package).
const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// Which server a [`TestCluster`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The in-repo fake API server (`fakekube`), one per test cluster.
    Fake,
    /// The real kube-apiserver 1.20 shared by the whole test process (one namespace per test cluster).
    Real,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Fake => "fake",
            Backend::Real => "real kube-apiserver",
        })
    }
}

// ------------------------------------------------------------------------------------------------------------
// The shared real apiserver

/// The real kube-apiserver + etcd of this test process (see [`real()`]).
#[derive(Debug)]
pub struct RealCluster {
    state_dir: PathBuf,
    /// Admin kubeconfig written by start.sh (namespace `default`), parsed.
    kubeconfig: serde_json::Value,
    kubeconfig_path: PathBuf,
}

impl RealCluster {
    /// The state directory (etcd data, certs, logs `apiserver.log`/`etcd.log`, `pids`); removed by the
    /// watchdog when the test process exits (kept with `TEKSCRIPT_KEEP_STATE=1`).
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The admin kubeconfig (cluster-wide rights, context namespace `default`). Tests should use a
    /// [`TestCluster`] and its own namespace instead.
    pub fn admin_kubeconfig(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// The server URL (`https://127.0.0.1:<port>`).
    pub fn server(&self) -> &str {
        current_cluster(&self.kubeconfig)
            .and_then(|c| c.get("server"))
            .and_then(|s| s.as_str())
            .unwrap_or_default()
    }
}

/// The real apiserver of this test process, started on first use; `None` (after printing one skip reason)
/// when its binaries, the Tekton CRDs or kubectl are missing.
///
/// # Panics
/// When those are missing and `TEKSCRIPT_REQUIRE_APISERVER=1`, or when `start.sh` fails (every caller panics
/// with the same message; the start is not retried).
pub fn real() -> Option<&'static RealCluster> {
    static REAL: OnceLock<Result<Option<RealCluster>, String>> = OnceLock::new();
    match REAL.get_or_init(start_real) {
        Ok(cluster) => cluster.as_ref(),
        Err(e) => panic!("{e}"),
    }
}

/// Prints to the process's stderr, bypassing libtest's output capture (a skip must be visible once even
/// when every test passes).
fn announce(msg: &str) {
    let _ = writeln!(std::io::stderr(), "[cluster_env] {msg}");
}

fn require_apiserver() -> bool {
    std::env::var("TEKSCRIPT_REQUIRE_APISERVER")
        .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
}

/// `$TEKSCRIPT_TEST_ASSETS`, default `${XDG_CACHE_HOME:-$HOME/.cache}/tekscript/test-assets` (as start.sh).
fn assets_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TEKSCRIPT_TEST_ASSETS").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home_dir().join(".cache"));
    cache.join("tekscript/test-assets")
}

fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// `$TEKSCRIPT_TEKTON_CRDS`, default `<repo>/../shared/corpus/tekton-crds` (as start.sh).
fn crds_dir() -> PathBuf {
    match std::env::var_os("TEKSCRIPT_TEKTON_CRDS").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(REPO).join("../shared/corpus/tekton-crds"),
    }
}

/// `~/…` for messages.
fn tilde(path: &Path) -> String {
    let home = home_dir();
    match path.strip_prefix(&home) {
        Ok(rest) if !home.as_os_str().is_empty() => format!("~/{}", rest.display()),
        _ => path.display().to_string(),
    }
}

/// Why the real apiserver cannot be started here, or `None` when everything start.sh needs is present.
fn missing_prerequisite(assets: &Path, crds: &Path, kubectl: Option<&Path>) -> Option<String> {
    for bin in ["kube-apiserver", "etcd"] {
        let path = assets.join(bin);
        if !is_executable(&path) {
            return Some(format!(
                "{} not found — run scripts/test-apiserver/build.sh (or set TEKSCRIPT_TEST_ASSETS to a directory \
                 holding kube-apiserver and etcd)",
                tilde(&path)
            ));
        }
    }
    for crd in ["task", "pipeline", "taskrun", "pipelinerun"] {
        let path = crds.join(format!("300-{crd}.yaml"));
        if !path.is_file() {
            return Some(format!(
                "Tekton CRD {} not found — set TEKSCRIPT_TEKTON_CRDS to a directory holding Tekton's \
                 config/300-crds/300-*.yaml",
                tilde(&path)
            ));
        }
    }
    if kubectl.is_none() {
        return Some("kubectl not found on PATH".to_owned());
    }
    None
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn start_real() -> Result<Option<RealCluster>, String> {
    let assets = assets_dir();
    let crds = crds_dir();
    if let Some(reason) = missing_prerequisite(&assets, &crds, kubectl_binary()) {
        if require_apiserver() {
            return Err(format!(
                "TEKSCRIPT_REQUIRE_APISERVER=1 but the real apiserver cannot start: {reason}"
            ));
        }
        announce(&format!("skipping real-apiserver tests: {reason}"));
        return Ok(None);
    }
    let state_dir = tempfile::Builder::new()
        .prefix("tekscript-it-apiserver.")
        .tempdir()
        .map_err(|e| format!("cannot create a state directory for the test apiserver: {e}"))?
        .keep();
    let script = Path::new(REPO).join("scripts/test-apiserver/start.sh");
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(&script)
        .arg(&state_dir)
        .env(
            "TEKSCRIPT_STOP_WHEN_PID_EXITS",
            std::process::id().to_string(),
        )
        .env("TEKSCRIPT_TEST_ASSETS", &assets)
        .env("TEKSCRIPT_TEKTON_CRDS", &crds)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let startup = started.elapsed();
    if !out.status.success() {
        return Err(format!(
            "{} {} failed ({}) after {:.1} s:\n{}",
            script.display(),
            state_dir.display(),
            out.status,
            startup.as_secs_f64(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let kubeconfig_path = state_dir.join("kubeconfig");
    let kubeconfig = read_kubeconfig(&kubeconfig_path)?;
    announce(&format!(
        "real kube-apiserver ready in {:.1} s (state {}; stopped when this test process exits)",
        startup.as_secs_f64(),
        state_dir.display()
    ));
    Ok(Some(RealCluster {
        state_dir,
        kubeconfig,
        kubeconfig_path,
    }))
}

fn read_kubeconfig(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The `context` map of the kubeconfig's current context.
fn current_context_mut(config: &mut serde_json::Value) -> Option<&mut serde_json::Value> {
    let current = config.get("current-context")?.as_str()?.to_owned();
    config
        .get_mut("contexts")?
        .as_array_mut()?
        .iter_mut()
        .find(|c| c.get("name").and_then(|n| n.as_str()) == Some(current.as_str()))?
        .get_mut("context")
}

/// The `cluster` map of the kubeconfig's current context.
fn current_cluster(config: &serde_json::Value) -> Option<&serde_json::Value> {
    let current = config.get("current-context")?.as_str()?;
    let context = config
        .get("contexts")?
        .as_array()?
        .iter()
        .find(|c| c.get("name").and_then(|n| n.as_str()) == Some(current))?
        .get("context")?;
    let cluster = context.get("cluster")?.as_str()?;
    config
        .get("clusters")?
        .as_array()?
        .iter()
        .find(|c| c.get("name").and_then(|n| n.as_str()) == Some(cluster))?
        .get("cluster")
}

/// A copy of `config` whose current context uses `namespace`, written to `path` (JSON is valid YAML).
fn write_kubeconfig_with_namespace(
    config: &serde_json::Value,
    namespace: &str,
    path: &Path,
) -> Result<(), String> {
    let mut config = config.clone();
    let context = current_context_mut(&mut config).ok_or("kubeconfig has no current context")?;
    let context = context
        .as_object_mut()
        .ok_or("kubeconfig context is not a map")?;
    context.insert("namespace".into(), namespace.into());
    let text = serde_json::to_string_pretty(&config).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

// ------------------------------------------------------------------------------------------------------------
// kubectl

/// The kubectl to run: `kubectl.1.33` next to the `kubectl` on PATH (the dispatcher would pick a binary by
/// the server's version), else `kubectl.1.33` on PATH, else `kubectl`; `None` when there is none.
pub fn kubectl_binary() -> Option<&'static Path> {
    static KUBECTL: OnceLock<Option<PathBuf>> = OnceLock::new();
    KUBECTL
        .get_or_init(|| {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
            let find = |name: &str| dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p));
            if let Some(kubectl) = find("kubectl") {
                let real = std::fs::canonicalize(&kubectl).unwrap_or(kubectl.clone());
                if let Some(versioned) = real.parent().map(|d| d.join("kubectl.1.33"))
                    && is_executable(&versioned)
                {
                    return Some(versioned);
                }
                return Some(find("kubectl.1.33").unwrap_or(kubectl));
            }
            find("kubectl.1.33")
        })
        .as_deref()
}

/// Runs `program args…` and logs the command line, exit status and stderr (captured by libtest: shown
/// for failing tests).
fn run_logged(mut cmd: Command, label: &str, args: &[OsString]) -> Output {
    let shown: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {label}: {e}"));
    eprintln!("$ {label} {} → {}", shown.join(" "), out.status);
    if !out.stderr.is_empty() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr).trim_end());
    }
    out
}

/// `kubectl --kubeconfig <kubeconfig> args…` with `HOME` set to `home` (discovery cache) and no `KUBECONFIG`.
fn kubectl_at(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    let bin = kubectl_binary().expect("kubectl not found on PATH");
    let mut cmd = Command::new(bin);
    cmd.env("HOME", home).env_remove("KUBECONFIG");
    let mut all: Vec<OsString> = vec!["--kubeconfig".into(), kubeconfig.into()];
    all.extend(args.iter().map(OsString::from));
    run_logged(cmd, "kubectl", &all)
}

/// The arguments for tekscript: `--kubeconfig <file>` placed right after the subcommand.
fn tekscript_args(kubeconfig: &Path, args: &[&str]) -> Vec<OsString> {
    let mut all: Vec<OsString> = Vec::with_capacity(args.len() + 2);
    let mut rest = args.iter();
    if let Some(sub) = rest.next() {
        all.push(sub.into());
    }
    all.push("--kubeconfig".into());
    all.push(kubeconfig.into());
    all.extend(rest.map(OsString::from));
    all
}

// ------------------------------------------------------------------------------------------------------------
// One test environment

/// One isolated test environment on either backend: its own kubeconfig (context namespace =
/// [`TestCluster::namespace`]) and a temp directory used as `HOME` for kubectl and tekscript.
pub struct TestCluster {
    backend: Backend,
    namespace: String,
    kubeconfig: PathBuf,
    home: PathBuf,
    /// Holds the kubeconfig, `home/` and test files; removed on drop.
    dir: tempfile::TempDir,
    /// The fake's state and its loopback server (dropping `Serving` stops it).
    fake: Option<(fakekube::FakeApi, fakekube::Serving)>,
}

impl TestCluster {
    /// A new fake API server (Tekton served) on a loopback port, with namespace `t-<unique>` (and its
    /// `default` ServiceAccount, as on the real server) as the kubeconfig's context namespace.
    pub fn fake() -> TestCluster {
        TestCluster::fake_from(fakekube::FakeApi::new())
    }

    /// Like [`TestCluster::fake`] with a prepared server, e.g. `FakeApi::without_tekton()`.
    pub fn fake_from(api: fakekube::FakeApi) -> TestCluster {
        let namespace = unique_namespace();
        api.create_namespace(&namespace);
        api.seed(serde_json::json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": namespace}
        }))
        .unwrap_or_else(|e| panic!("seeding serviceaccount {namespace}/default: {e}"));
        let serving = api.serve();
        let dir = tempdir();
        let home = dir.path().join("home");
        std::fs::create_dir(&home).expect("create HOME for kubectl");
        let kubeconfig = dir.path().join("kubeconfig");
        fakekube::write_kubeconfig(
            &kubeconfig,
            &serving.url,
            fakekube::DEFAULT_TOKEN,
            &namespace,
        )
        .expect("write the fake's kubeconfig");
        TestCluster {
            backend: Backend::Fake,
            namespace,
            kubeconfig,
            home,
            dir,
            fake: Some((api, serving)),
        }
    }

    /// A fresh namespace `t-<unique>` (with its `default` ServiceAccount, as there is no controller-manager)
    /// in the process's real apiserver; `None` when [`real()`] is `None`.
    pub fn real() -> Option<TestCluster> {
        let server = real()?;
        let namespace = unique_namespace();
        let dir = tempdir();
        let home = dir.path().join("home");
        std::fs::create_dir(&home).expect("create HOME for kubectl");
        // One kubectl call creates both (the ServiceAccount after the namespace).
        let manifest = format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {namespace}}}\n---\n\
             apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: default, namespace: {namespace}}}\n"
        );
        let manifest_path = dir.path().join("namespace.yaml");
        std::fs::write(&manifest_path, manifest).expect("write namespace.yaml");
        let out = kubectl_at(
            server.admin_kubeconfig(),
            &home,
            &[
                "create",
                "-f",
                manifest_path.to_str().expect("utf-8 temp path"),
            ],
        );
        assert!(
            out.status.success(),
            "creating namespace {namespace} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let kubeconfig = dir.path().join("kubeconfig");
        write_kubeconfig_with_namespace(&server.kubeconfig, &namespace, &kubeconfig)
            .unwrap_or_else(|e| panic!("writing the test kubeconfig: {e}"));
        Some(TestCluster {
            backend: Backend::Real,
            namespace,
            kubeconfig,
            home,
            dir,
            fake: None,
        })
    }

    /// The kubeconfig of this environment (its current context's namespace is [`Self::namespace`]).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The namespace the tests work in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Which server this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The fake server's state, for fault injection and inspection; `None` on the real server.
    /// (Named `fake_api` because `TestCluster::fake()` is the constructor.)
    pub fn fake_api(&self) -> Option<&fakekube::FakeApi> {
        self.fake.as_ref().map(|(api, _)| api)
    }

    /// The server URL (`http://127.0.0.1:<port>` for the fake, `https://…` for the real server).
    pub fn url(&self) -> &str {
        match &self.fake {
            Some((_, serving)) => &serving.url,
            None => real().map_or("", RealCluster::server),
        }
    }

    /// A directory for the test's files (removed with the cluster).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs kubectl (`kubectl.1.33` when present) with `--kubeconfig` and a temp `HOME`; the command line,
    /// status and stderr are logged (shown for failing tests).
    pub fn kubectl(&self, args: &[&str]) -> Output {
        kubectl_at(&self.kubeconfig, &self.home, args)
    }

    /// Runs the tekscript binary built by cargo with `--kubeconfig <file>` placed after the subcommand
    /// (`args[0]`), `NO_COLOR=1`, a temp `HOME` and no `KUBECONFIG`.
    pub fn tekscript(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tekscript"));
        cmd.env("NO_COLOR", "1")
            .env("HOME", &self.home)
            .env_remove("KUBECONFIG");
        run_logged(cmd, "tekscript", &tekscript_args(&self.kubeconfig, args))
    }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("tekscript-it-cluster.")
        .tempdir()
        .expect("create a temp dir")
}

/// `t-` + 4 random lowercase letters/digits + a per-process counter: unique within the process and, with
/// high probability, across processes sharing a server.
fn unique_namespace() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let mut name = String::from("t-");
    for _ in 0..4 {
        name.push(ALPHABET[(random % ALPHABET.len() as u64) as usize] as char);
        random /= ALPHABET.len() as u64;
    }
    name.push_str(&COUNTER.fetch_add(1, Ordering::Relaxed).to_string());
    name
}

/// Runs `f` on a fresh fake cluster, then — when the real apiserver is available — on a fresh namespace of the
/// real one, printing which backend it is on (shown for failing tests; a panic names the backend).
pub fn each_backend(f: impl Fn(&TestCluster)) {
    // The scenarios use kubectl as the second client; a user's machine may not have it.
    if kubectl_binary().is_none() {
        assert!(
            std::env::var_os("TEKSCRIPT_REQUIRE_APISERVER").is_none(),
            "kubectl is not on PATH, and TEKSCRIPT_REQUIRE_APISERVER is set"
        );
        eprintln!(
            "skipping: kubectl is not on PATH (the cluster scenarios use it as a second client)"
        );
        return;
    }
    let run = |cluster: TestCluster| {
        eprintln!(
            "=== backend: {} ({}, namespace {})",
            cluster.backend(),
            cluster.url(),
            cluster.namespace()
        );
        let backend = cluster.backend();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&cluster)));
        if let Err(panic) = result {
            eprintln!("=== failed on backend: {backend}");
            std::panic::resume_unwind(panic);
        }
    };
    run(TestCluster::fake());
    if let Some(cluster) = TestCluster::real() {
        run(cluster);
    }
}

// ------------------------------------------------------------------------------------------------------------
// Self-tests of the harness

/// `kubectl apply --server-side` of ConfigMap `name` (data `k: v`) without a namespace: it lands in the
/// context namespace. (`kubectl create configmap` would send protobuf, which the fake does not speak.)
fn apply_configmap(c: &TestCluster, name: &str) -> Output {
    let file = c.dir().join(format!("{name}.yaml"));
    std::fs::write(
        &file,
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{k: v}}\n"),
    )
    .unwrap();
    c.kubectl(&[
        "apply",
        "--server-side",
        "--validate=false",
        "--field-manager=tekscript-test",
        "-f",
        file.to_str().unwrap(),
    ])
}

#[test]
fn tekscript_gets_kubeconfig_after_the_subcommand() {
    let args = tekscript_args(Path::new("/k/config"), &["diff", "-f", "x.rhai"]);
    assert_eq!(args, ["diff", "--kubeconfig", "/k/config", "-f", "x.rhai"]);
    let args = tekscript_args(Path::new("/k/config"), &[]);
    assert_eq!(args, ["--kubeconfig", "/k/config"]);
}

#[test]
fn missing_assets_give_one_clear_reason() {
    let empty = tempdir();
    let crds = Path::new(REPO).join("../shared/corpus/tekton-crds");
    let kubectl = Some(Path::new("/bin/true"));
    let reason = missing_prerequisite(empty.path(), &crds, kubectl).expect("binaries are missing");
    assert!(
        reason.starts_with(&format!(
            "{} not found",
            empty.path().join("kube-apiserver").display()
        )),
        "{reason}"
    );
    assert!(
        reason.contains("scripts/test-apiserver/build.sh"),
        "{reason}"
    );

    for bin in ["kube-apiserver", "etcd"] {
        let path = empty.path().join(bin);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    let reason =
        missing_prerequisite(empty.path(), empty.path(), kubectl).expect("CRDs are missing");
    assert!(reason.starts_with("Tekton CRD "), "{reason}");
    assert!(reason.contains("300-task.yaml not found"), "{reason}");
    assert!(reason.contains("TEKSCRIPT_TEKTON_CRDS"), "{reason}");
    if crds.join("300-task.yaml").is_file() {
        assert_eq!(missing_prerequisite(empty.path(), &crds, kubectl), None);
        assert_eq!(
            missing_prerequisite(empty.path(), &crds, None).as_deref(),
            Some("kubectl not found on PATH")
        );
    }
}

#[test]
fn namespaces_are_unique() {
    let names: std::collections::BTreeSet<String> = (0..200).map(|_| unique_namespace()).collect();
    assert_eq!(names.len(), 200);
    for n in &names {
        assert!(n.len() <= 10 && n.starts_with("t-"), "{n}");
        assert!(
            n[2..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{n}"
        );
    }
}

#[test]
fn real_server_namespaces_are_isolated() {
    let (Some(a), Some(b)) = (TestCluster::real(), TestCluster::real()) else {
        return; // skipped: reason printed once by real()
    };
    assert_eq!(a.backend(), Backend::Real);
    assert_ne!(a.namespace(), b.namespace());

    // The kubeconfig's context namespace is the test's namespace.
    let out = a.kubectl(&[
        "config",
        "view",
        "--minify",
        "-o",
        "jsonpath={.contexts[0].context.namespace}",
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), a.namespace());

    // An object created in a's namespace (without -n) is visible there and not in b's.
    let out = apply_configmap(&a, "only-in-a");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "configmap/only-in-a serverside-applied"
    );
    let out = a.kubectl(&[
        "get",
        "configmap",
        "only-in-a",
        "-o",
        "jsonpath={.metadata.namespace}",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), a.namespace());
    let out = b.kubectl(&["get", "configmap", "only-in-a"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(r#"configmaps "only-in-a" not found"#),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Each namespace has its default ServiceAccount (no controller-manager creates it).
    let out = b.kubectl(&["get", "serviceaccount", "default", "-o", "name"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "serviceaccount/default"
    );
}

#[test]
fn real_server_serves_tekton_v1() {
    let Some(c) = TestCluster::real() else {
        return;
    };
    let out = c.kubectl(&["api-resources", "--api-group=tekton.dev", "-o", "name"]);
    assert!(out.status.success());
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    names.sort();
    for required in [
        "pipelineruns.tekton.dev",
        "pipelines.tekton.dev",
        "taskruns.tekton.dev",
        "tasks.tekton.dev",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "{required} missing from {names:?}"
        );
    }
    // A v1 Pipeline goes through server-side apply and comes back with the server's generation.
    let pipeline = "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: hello}\n\
                    spec:\n  tasks:\n  - name: t\n    taskRef: {name: echo}\n";
    let file = c.dir().join("pipeline.yaml");
    std::fs::write(&file, pipeline).unwrap();
    let out = c.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=tekscript-test",
        "-f",
        file.to_str().unwrap(),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "pipeline.tekton.dev/hello serverside-applied"
    );
    let out = c.kubectl(&[
        "get",
        "pipeline",
        "hello",
        "-o",
        "jsonpath={.metadata.generation}",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1");

    // The watchdog that stops the server with this process is alive.
    let server = real().expect("started above");
    let pids = std::fs::read_to_string(server.state_dir().join("pids")).unwrap();
    let watchdog = pids
        .lines()
        .find_map(|l| l.strip_prefix("watchdog="))
        .unwrap_or_else(|| panic!("no watchdog in pids:\n{pids}"));
    let cmdline = std::fs::read(format!("/proc/{watchdog}/cmdline")).unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&cmdline).contains("tekscript-apiserver-watchdog"),
        "watchdog {watchdog} is not running"
    );
    assert!(
        pids.contains(&format!("owner={}\n", std::process::id())),
        "{pids}"
    );
    assert!(
        server.server().starts_with("https://127.0.0.1:"),
        "{}",
        server.server()
    );
}

#[test]
fn fake_cluster_has_its_namespace_and_kubectl_works() {
    let c = TestCluster::fake();
    assert_eq!(c.backend(), Backend::Fake);
    assert!(c.namespace().starts_with("t-"), "{}", c.namespace());
    assert!(c.url().starts_with("http://127.0.0.1:"), "{}", c.url());
    let out = apply_configmap(&c, "c");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "configmap/c serverside-applied"
    );
    // Created in the context namespace, seen by the fake's state.
    let api = c.fake_api().expect("fake backend");
    let stored = api
        .object("v1", "configmaps", c.namespace(), "c")
        .expect("configmap stored in the test namespace");
    assert_eq!(stored["data"]["k"], "v");
    assert!(api.object("v1", "configmaps", "default", "c").is_none());
    assert!(
        api.object("v1", "serviceaccounts", c.namespace(), "default")
            .is_some()
    );
}

#[test]
fn each_backend_runs_on_fake_then_real() {
    let seen = std::sync::Mutex::new(Vec::new());
    each_backend(|c| {
        seen.lock().unwrap().push(c.backend());
        assert_eq!(c.fake_api().is_some(), c.backend() == Backend::Fake);
        // The same kubectl scenario gives the same result on both servers.
        let out = apply_configmap(c, "same");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "configmap/same serverside-applied"
        );
        let out = c.kubectl(&[
            "get",
            "configmap",
            "same",
            "-o",
            "jsonpath={.metadata.namespace} {.data.k}",
        ]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{} v", c.namespace())
        );
        let out = c.kubectl(&["get", "pipelines", "-o", "name"]);
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    });
    let mut expected = vec![Backend::Fake];
    if real().is_some() {
        expected.push(Backend::Real);
    }
    assert_eq!(*seen.lock().unwrap(), expected);
}

#[test]
fn tekscript_runs_with_the_test_kubeconfig() {
    let c = TestCluster::fake();
    let out = c.tekscript(&["diff", "--help"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("--kubeconfig"));
    assert!(c.kubeconfig().is_file());
}
