//! Fidelity of the fake API server, checked with kubectl 1.33 (cluster.md §3.5
//! items 1–9). Each check runs against the fake on loopback; when
//! `TEKSCRIPT_TEST_KUBECONFIG` names a kubeconfig for a real apiserver (with
//! Tekton's CRDs), the same check also runs there in a fresh namespace and the
//! two outcomes ("facts") must be equal.
//!
//! Skips with a printed reason when the versioned `kubectl.1.33` binary is not
//! installed next to `kubectl`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fakekube::FakeApi;
use serde_json::{Value, json};

fn kubectl_bin() -> Option<PathBuf> {
    let out = Command::new("sh")
        .args(["-c", "command -v kubectl"])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let real = std::fs::canonicalize(path).ok()?;
    let bin = real.parent()?.join("kubectl.1.33");
    bin.exists().then_some(bin)
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// kubectl bound to one server, kubeconfig and namespace, with its own HOME.
struct Kubectl {
    bin: PathBuf,
    home: tempfile::TempDir,
    kubeconfig: PathBuf,
    ns: String,
}

impl Kubectl {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.env_clear()
            .env("HOME", self.home.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["-n", &self.ns])
            .args(args)
            .current_dir(self.home.path());
        c
    }

    fn run(&self, args: &[&str]) -> Out {
        let o = self.command(args).output().expect("run kubectl");
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Write a manifest into HOME and return its path.
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.home.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }

    /// `kubectl create namespace` would send protobuf, which the fake does
    /// not decode; a manifest goes as JSON.
    fn create_namespace(&self) {
        let f = self.file(
            "ns.yaml",
            &format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n",
                self.ns
            ),
        );
        let r = self.run(&["create", "--validate=false", "-f", &f]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }

    fn rv(&self, what: &str) -> String {
        self.run(&["get", what, "-o", "jsonpath={.metadata.resourceVersion}"])
            .stdout
    }
}

/// Where a check runs.
enum Backend<'a> {
    Fake(&'a FakeApi),
    Real,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Run `check` on the fake (asserting inside) and, if configured, on the real
/// server; the facts must match.
fn fidelity(name: &str, check: fn(&Kubectl, &Backend) -> Vec<String>) {
    let Some(bin) = kubectl_bin() else {
        println!("SKIP {name}: kubectl.1.33 not found next to kubectl");
        return;
    };
    let api = FakeApi::new();
    let serving = api.serve();
    let k = Kubectl {
        bin: bin.clone(),
        home: tempfile::tempdir().unwrap(),
        kubeconfig: serving.kubeconfig().to_path_buf(),
        ns: format!("fk-{name}"),
    };
    k.create_namespace();
    let fake = check(&k, &Backend::Fake(&api));
    drop(serving);

    let Ok(real_kc) = std::env::var("TEKSCRIPT_TEST_KUBECONFIG") else {
        println!("{name}: real-apiserver comparison skipped (TEKSCRIPT_TEST_KUBECONFIG unset)");
        return;
    };
    let ns = format!(
        "fk-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let k = Kubectl {
        bin,
        home: tempfile::tempdir().unwrap(),
        kubeconfig: PathBuf::from(real_kc),
        ns,
    };
    k.create_namespace();
    let real = check(&k, &Backend::Real);
    let _ = k.run(&["delete", "namespace", &k.ns, "--wait=false"]);
    assert_eq!(fake, real, "{name}: fake and real apiserver disagree");
    println!(
        "{name}: fake and real apiserver agree on {} facts",
        fake.len()
    );
}

const PIPELINE: &str = "apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: hello
spec:
  description: one
  tasks:
  - name: t1
    taskRef:
      name: echo
";

const RUN: &str = "apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: x
spec:
  pipelineRef:
    name: hello
";

fn fact(label: &str, o: &Out) -> String {
    format!("{label}: rc={}", o.code)
}

// 1. Discovery documents are well-formed.
fn discovery(k: &Kubectl, b: &Backend) -> Vec<String> {
    let v = k.run(&["version", "-o", "json"]);
    assert_eq!(v.code, 0, "{}", v.stderr);
    let parsed: Value = serde_json::from_str(&v.stdout).unwrap();
    if let Backend::Fake(_) = b {
        assert_eq!(parsed["serverVersion"]["gitVersion"], "v1.33.0");
        assert_eq!(parsed["serverVersion"]["minor"], "33");
    }
    let av = k.run(&["api-versions"]);
    assert_eq!(av.code, 0);
    for gv in ["tekton.dev/v1", "tekton.dev/v1beta1", "v1"] {
        assert!(
            av.stdout.lines().any(|l| l == gv),
            "{gv} missing in {}",
            av.stdout
        );
    }
    let ar = k.run(&["api-resources", "--api-group=tekton.dev", "--no-headers"]);
    assert_eq!(ar.code, 0, "{}", ar.stderr);
    let mut rows: Vec<String> = ar
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    rows.sort();
    for want in [
        "pipelineruns pr,prs tekton.dev/v1 true PipelineRun",
        "pipelines tekton.dev/v1 true Pipeline",
        "taskruns tr,trs tekton.dev/v1 true TaskRun",
        "tasks tekton.dev/v1 true Task",
        "stepactions tekton.dev/v1beta1 true StepAction",
        "customruns tekton.dev/v1beta1 true CustomRun",
    ] {
        assert!(
            rows.iter().any(|r| r == want),
            "missing {want:?} in {rows:?}"
        );
    }
    let pr = k.run(&["get", "pr"]);
    assert_eq!(pr.code, 0, "{}", pr.stderr);
    assert_eq!(
        pr.stderr.trim(),
        format!("No resources found in {} namespace.", k.ns)
    );
    let trs = k.run(&["get", "trs", "-o", "name"]);
    assert_eq!(trs.code, 0);
    vec![
        fact("version", &v),
        fact("api-versions", &av),
        format!("api-resources: {}", rows.len()),
        fact("get pr", &pr),
    ]
}

#[test]
fn kubectl_1_discovery() {
    fidelity("discovery", discovery);
}

// 2. apply --server-side twice: same line, resourceVersion unchanged.
fn apply_twice(k: &Kubectl, b: &Backend) -> Vec<String> {
    let f = k.file("p.yaml", PIPELINE);
    let a1 = k.run(&["apply", "--server-side", "--validate=false", "-f", &f]);
    assert_eq!(a1.code, 0, "{}", a1.stderr);
    assert_eq!(a1.stdout, "pipeline.tekton.dev/hello serverside-applied\n");
    let rv1 = k.rv("pipeline/hello");
    let a2 = k.run(&["apply", "--server-side", "--validate=false", "-f", &f]);
    assert_eq!(a2.stdout, a1.stdout);
    let rv2 = k.rv("pipeline/hello");
    assert!(!rv1.is_empty());
    assert_eq!(rv1, rv2, "identical re-apply must not bump resourceVersion");
    if let Backend::Fake(api) = b {
        let patch = api
            .requests()
            .into_iter()
            .find(|r| r.method == "PATCH")
            .unwrap();
        assert_eq!(
            patch.path,
            format!("/apis/tekton.dev/v1/namespaces/{}/pipelines/hello", k.ns)
        );
        assert_eq!(
            patch.query,
            "fieldManager=kubectl&fieldValidation=Ignore&force=false"
        );
        assert_eq!(
            patch.content_type.as_deref(),
            Some("application/apply-patch+yaml")
        );
    }
    vec![
        format!("apply1: rc={} {}", a1.code, a1.stdout.trim()),
        format!("apply2: rc={} {}", a2.code, a2.stdout.trim()),
        format!("rv unchanged: {}", rv1 == rv2),
    ]
}

#[test]
fn kubectl_2_apply_twice() {
    fidelity("apply", apply_twice);
}

fn diff_lines(o: &Out) -> Vec<String> {
    o.stdout
        .lines()
        .filter(|l| {
            (l.starts_with('-') || l.starts_with('+'))
                && !l.starts_with("---")
                && !l.starts_with("+++")
        })
        .map(str::to_string)
        .collect()
}

// 3. diff --server-side: 0 when equal, 1 with generation + field when edited,
//    whole-object hunk when absent, and no spurious resourceVersion line.
fn diff(k: &Kubectl, _b: &Backend) -> Vec<String> {
    let f = k.file("p.yaml", PIPELINE);
    let absent = k.run(&["diff", "--server-side", "-f", &f]);
    assert_eq!(absent.code, 1, "{}", absent.stderr);
    let added = diff_lines(&absent);
    assert!(added.iter().all(|l| l.starts_with('+')), "{added:?}");
    assert!(
        added.contains(&"+  description: one".to_string()),
        "{added:?}"
    );
    assert!(added.contains(&"+  generation: 1".to_string()), "{added:?}");
    assert!(
        !added.iter().any(|l| l.contains("resourceVersion")),
        "{added:?}"
    );

    let a = k.run(&["apply", "--server-side", "--validate=false", "-f", &f]);
    assert_eq!(a.code, 0);
    let same = k.run(&["diff", "--server-side", "-f", &f]);
    assert_eq!(same.code, 0, "{}{}", same.stdout, same.stderr);
    assert_eq!(same.stdout, "");

    let f2 = k.file("p2.yaml", &PIPELINE.replace("one", "two"));
    let edited = k.run(&["diff", "--server-side", "-f", &f2]);
    assert_eq!(edited.code, 1, "{}", edited.stderr);
    let lines = diff_lines(&edited);
    assert_eq!(
        lines,
        [
            "-  generation: 1",
            "+  generation: 2",
            "-  description: one",
            "+  description: two"
        ]
    );
    vec![
        format!("absent: rc={} lines={}", absent.code, added.len()),
        fact("same", &same),
        format!("edited: rc={} {:?}", edited.code, lines),
    ]
}

#[test]
fn kubectl_3_diff() {
    fidelity("diff", diff);
}

// 4. Conflicts, --force-conflicts, ownership moves, diff on a conflict exits 2.
fn conflicts(k: &Kubectl, _b: &Backend) -> Vec<String> {
    let f = k.file("p.yaml", PIPELINE);
    assert_eq!(
        k.run(&["apply", "--server-side", "--validate=false", "-f", &f])
            .code,
        0
    );
    let f2 = k.file("p2.yaml", &PIPELINE.replace("one", "two"));
    let c = k.run(&[
        "apply",
        "--server-side",
        "--validate=false",
        "--field-manager=other",
        "-f",
        &f2,
    ]);
    assert_eq!(c.code, 1);
    assert!(
        c.stderr.contains(
            "error: Apply failed with 1 conflict: conflict with \"kubectl\": .spec.description"
        ),
        "{}",
        c.stderr
    );
    assert!(c.stderr.contains("--force-conflicts"), "{}", c.stderr);
    let forced = k.run(&[
        "apply",
        "--server-side",
        "--validate=false",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        &f2,
    ]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let got = k.run(&[
        "get",
        "pipeline",
        "hello",
        "-o",
        "json",
        "--show-managed-fields",
    ]);
    let obj: Value = serde_json::from_str(&got.stdout).unwrap();
    let owners: Vec<(String, Value)> = obj["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap().to_string(),
                e["fieldsV1"].clone(),
            )
        })
        .collect();
    assert_eq!(
        owners,
        [
            ("kubectl".to_string(), json!({"f:spec": {"f:tasks": {}}})),
            (
                "other".to_string(),
                json!({"f:spec": {"f:description": {}, "f:tasks": {}}})
            ),
        ]
    );
    let d = k.run(&["diff", "--server-side", "-f", &f]);
    assert_eq!(d.code, 2, "{}{}", d.stdout, d.stderr);
    assert!(
        d.stderr.contains(
            "Error from server (Conflict): Apply failed with 1 conflict: conflict with \"other\": .spec.description"
        ),
        "{}",
        d.stderr
    );
    vec![
        fact("conflict", &c),
        fact("forced", &forced),
        format!("owners: {owners:?}"),
        fact("diff on conflict", &d),
    ]
}

#[test]
fn kubectl_4_conflicts() {
    fidelity("conflicts", conflicts);
}

// 5. --dry-run=server persists nothing.
fn dry_run(k: &Kubectl, b: &Backend) -> Vec<String> {
    let f = k.file("p.yaml", PIPELINE);
    let rv_before = match b {
        Backend::Fake(api) => Some(api.resource_version()),
        Backend::Real => None,
    };
    let d = k.run(&[
        "apply",
        "--server-side",
        "--validate=false",
        "--dry-run=server",
        "-f",
        &f,
    ]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert_eq!(
        d.stdout,
        "pipeline.tekton.dev/hello serverside-applied (server dry run)\n"
    );
    let g = k.run(&["get", "pipeline", "hello"]);
    assert_eq!(g.code, 1);
    if let Backend::Fake(api) = b {
        assert_eq!(Some(api.resource_version()), rv_before);
    }
    vec![
        format!("dry: rc={} {}", d.code, d.stdout.trim()),
        fact("get", &g),
    ]
}

#[test]
fn kubectl_5_dry_run() {
    fidelity("dryrun", dry_run);
}

// 6. NotFound and AlreadyExists texts.
fn status_texts(k: &Kubectl, _b: &Backend) -> Vec<String> {
    let g = k.run(&["get", "pipeline", "missing"]);
    assert_eq!(g.code, 1);
    assert_eq!(
        g.stderr.trim(),
        "Error from server (NotFound): pipelines.tekton.dev \"missing\" not found"
    );
    let f = k.file("p.yaml", PIPELINE);
    let c1 = k.run(&["create", "--validate=false", "-f", &f]);
    assert_eq!(c1.code, 0, "{}", c1.stderr);
    assert_eq!(c1.stdout, "pipeline.tekton.dev/hello created\n");
    let c2 = k.run(&["create", "--validate=false", "-f", &f]);
    assert_eq!(c2.code, 1);
    assert_eq!(
        c2.stderr.trim(),
        format!(
            "Error from server (AlreadyExists): error when creating \"{f}\": pipelines.tekton.dev \"hello\" already exists"
        )
    );
    vec![
        format!("get: rc={} {}", g.code, g.stderr.trim()),
        fact("create1", &c1),
        format!(
            "create2: rc={} {}",
            c2.code,
            c2.stderr.trim().replace(&f, "FILE")
        ),
    ]
}

#[test]
fn kubectl_6_status_texts() {
    fidelity("status", status_texts);
}

// 7. merge and JSON patches work; strategic merge is refused with the 415 text.
fn patches(k: &Kubectl, _b: &Backend) -> Vec<String> {
    let f = k.file("r.yaml", RUN);
    assert_eq!(k.run(&["create", "--validate=false", "-f", &f]).code, 0);
    let m = k.run(&[
        "patch",
        "pr",
        "x",
        "--type=merge",
        "-p",
        r#"{"spec":{"status":"Cancelled"}}"#,
    ]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    assert_eq!(m.stdout, "pipelinerun.tekton.dev/x patched\n");
    let j = k.run(&[
        "patch",
        "pr",
        "x",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/status","value":"CancelledRunFinally"}]"#,
    ]);
    assert_eq!(j.code, 0, "{}", j.stderr);
    let s = k.run(&[
        "patch",
        "pr",
        "x",
        "--type=strategic",
        "-p",
        r#"{"spec":{"status":"x"}}"#,
    ]);
    assert_eq!(s.code, 1);
    assert!(
        s.stderr.contains("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"),
        "{}",
        s.stderr
    );
    let v = k.run(&[
        "get",
        "pr",
        "x",
        "-o",
        "jsonpath={.spec.status} {.metadata.generation}",
    ]);
    assert_eq!(v.stdout, "CancelledRunFinally 3");
    let noop = k.run(&[
        "patch",
        "pr",
        "x",
        "--type=merge",
        "-p",
        r#"{"spec":{"status":"CancelledRunFinally"}}"#,
    ]);
    assert_eq!(
        noop.stdout,
        "pipelinerun.tekton.dev/x patched (no change)\n"
    );
    vec![
        fact("merge", &m),
        fact("json", &j),
        format!("strategic: rc={} {}", s.code, s.stderr.trim()),
        format!("result: {}", v.stdout),
        format!("noop: {}", noop.stdout.trim()),
    ]
}

#[test]
fn kubectl_7_patches() {
    fidelity("patch", patches);
}

// 8. get -w -o name: one line per event; list (limit=500) then watch from its RV.
fn watch(k: &Kubectl, b: &Backend) -> Vec<String> {
    let f = k.file("r.yaml", RUN);
    assert_eq!(k.run(&["create", "--validate=false", "-f", &f]).code, 0);
    let mut child = k
        .command(&["get", "pr", "-w", "-o", "name"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = |what: &str| {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no watch output for {what}"))
    };
    let mut lines = vec![next("initial list")];
    // The watch request follows the list immediately; events in between are
    // replayed from the list's resourceVersion, so no wait is needed.
    for status in ["Cancelled", "CancelledRunFinally"] {
        let p = format!(r#"{{"spec":{{"status":"{status}"}}}}"#);
        assert_eq!(
            k.run(&["patch", "pr", "x", "--type=merge", "-p", &p]).code,
            0
        );
        lines.push(next(status));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(lines, ["pipelinerun.tekton.dev/x"; 3]);
    if let Backend::Fake(api) = b {
        let reqs: Vec<_> = api
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET" && r.path.ends_with("/pipelineruns"))
            .collect();
        assert_eq!(reqs.len(), 2, "{reqs:?}");
        assert_eq!(reqs[0].query, "limit=500");
        let list_rv = {
            let q = &reqs[1].query;
            assert!(q.starts_with("resourceVersion="), "{q}");
            assert!(q.contains("watch=true"), "{q}");
            q.split('&')
                .next()
                .unwrap()
                .trim_start_matches("resourceVersion=")
                .to_string()
        };
        assert!(list_rv.parse::<u64>().unwrap() < api.resource_version());
    }
    vec![format!("watch lines: {lines:?}")]
}

#[test]
fn kubectl_8_watch() {
    fidelity("watch", watch);
}

// 9. logs -f streams to EOF; logs without -c defaults to the first container.
//    Fake only: the real apiserver needs a kubelet to serve logs.
#[test]
fn kubectl_9_logs() {
    let Some(bin) = kubectl_bin() else {
        println!("SKIP logs: kubectl.1.33 not found next to kubectl");
        return;
    };
    let api = FakeApi::new();
    let serving = api.serve();
    let k = Kubectl {
        bin,
        home: tempfile::tempdir().unwrap(),
        kubeconfig: serving.kubeconfig().to_path_buf(),
        ns: "default".to_string(),
    };
    api.seed(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "step-s1", "image": "x"}, {"name": "step-s2", "image": "x"}]},
        "status": {"phase": "Running", "containerStatuses": [
            {"name": "step-s1", "state": {"running": {}}}, {"name": "step-s2", "state": {"running": {}}}]}}))
    .unwrap();
    api.push_log("default", "p", "step-s1", "hello from s1");
    let mut child = k
        .command(&["logs", "-f", "p", "-c", "step-s1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        "hello from s1"
    );
    api.push_log("default", "p", "step-s1", "second");
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), "second");
    api.end_log("default", "p", "step-s1");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "kubectl logs -f did not exit at EOF"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    let trace: Vec<String> = api
        .requests()
        .iter()
        .filter(|r| r.path.contains("/pods/"))
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect();
    assert_eq!(
        trace,
        [
            "GET /api/v1/namespaces/default/pods/p?",
            "GET /api/v1/namespaces/default/pods/p/log?container=step-s1&follow=true"
        ]
    );

    let d = k.run(&["logs", "p"]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert_eq!(
        d.stderr.trim(),
        "Defaulted container \"step-s1\" out of: step-s1, step-s2"
    );
    assert_eq!(d.stdout, "hello from s1\nsecond\n");
    let missing = k.run(&["logs", "nope"]);
    assert_eq!(missing.code, 1);
    assert_eq!(
        missing.stderr.trim(),
        "error: error from server (NotFound): pods \"nope\" not found in namespace \"default\""
    );
}

// 10. RBAC denials (real server: user "bob" has no bindings; fake: deny all).
fn forbidden(k: &Kubectl, b: &Backend) -> Vec<String> {
    if let Backend::Fake(api) = b {
        api.deny("bob", "*", "*");
    }
    let ns = &k.ns;
    let list = k.run(&["--as=bob", "get", "pipelines"]);
    assert_eq!(list.code, 1);
    assert_eq!(
        list.stderr.trim(),
        format!(
            "Error from server (Forbidden): pipelines.tekton.dev is forbidden: User \"bob\" cannot list resource \"pipelines\" in API group \"tekton.dev\" in the namespace \"{ns}\""
        )
    );
    let get = k.run(&["--as=bob", "get", "pipeline", "hello"]);
    assert_eq!(
        get.stderr.trim(),
        format!(
            "Error from server (Forbidden): pipelines.tekton.dev \"hello\" is forbidden: User \"bob\" cannot get resource \"pipelines\" in API group \"tekton.dev\" in the namespace \"{ns}\""
        )
    );
    let status = k.run(&[
        "--as=bob",
        "get",
        "--raw",
        &format!("/apis/tekton.dev/v1/namespaces/{ns}/pipelines/hello/status"),
    ]);
    assert!(
        status
            .stderr
            .contains("cannot get resource \"pipelines/status\" in API group \"tekton.dev\""),
        "{}",
        status.stderr
    );
    let nss = k.run(&["--as=bob", "get", "namespaces"]);
    assert_eq!(
        nss.stderr.trim(),
        "Error from server (Forbidden): namespaces is forbidden: User \"bob\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"
    );
    vec![
        format!("list: {}", list.stderr.trim().replace(ns.as_str(), "NS")),
        format!("get: {}", get.stderr.trim().replace(ns.as_str(), "NS")),
        format!("namespaces: {}", nss.stderr.trim()),
    ]
}

#[test]
fn kubectl_10_forbidden() {
    fidelity("forbidden", forbidden);
}
