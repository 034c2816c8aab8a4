//! `tekscript diff` / `apply` / `--prune` end to end through the binary, on the fake API server and (when its
//! binaries are present) on a real kube-apiserver 1.20 — the same assertions on both (`each_backend`).
//! kubectl is the second client: what tekscript leaves in the cluster must read back the same through it.

use crate::cluster_env::{TestCluster, each_backend};
use fakekube::{Fault, Matcher};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;

fn script() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cluster/ci.rhai")
        .to_string_lossy()
        .into_owned()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn expect(out: &Output, code: i32) -> (String, String) {
    let (so, se) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}\n--- stdout\n{so}\n--- stderr\n{se}"
    );
    (so, se)
}

/// `kubectl get KIND NAME -o json`, or None when absent.
fn get(c: &TestCluster, what: &str, name: &str) -> Option<Value> {
    let out = c.kubectl(&["get", what, name, "-o", "json"]);
    if !out.status.success() {
        let err = text(&out.stderr);
        assert!(
            err.contains("NotFound") || err.contains("not found"),
            "{err}"
        );
        return None;
    }
    Some(serde_json::from_slice(&out.stdout).expect("kubectl -o json"))
}

fn rv(v: &Value) -> String {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Matches the server-side apply PATCH of the object whose path ends like `path` (`/tasks/say`).
fn patch_of(path: &str) -> Matcher {
    Matcher {
        method: Some("PATCH".into()),
        path_contains: Some(path.into()),
        query_contains: None,
    }
}

fn part_of_id(c: &TestCluster) -> String {
    tekscript::cluster::applyset::Parent::for_script("ci", c.namespace()).id()
}

#[test]
fn first_apply_then_noop_then_change_then_prune() {
    each_backend(|c| {
        let s = script();
        // diff before anything exists: everything to create, exit 1
        let (diff, err) = expect(&c.tekscript(&["diff", &s]), 1);
        assert!(
            err.contains("3 to create, 0 to change, 0 to prune, 0 unchanged"),
            "{err}"
        );
        assert!(
            diff.contains(&format!(
                "diff -u -N live/tekton.dev.v1.Task.{ns}.say merged/tekton.dev.v1.Task.{ns}.say",
                ns = c.namespace()
            )),
            "{diff}"
        );
        assert!(
            diff.contains("+  description: Says the greeting."),
            "{diff}"
        );

        // first apply: Tasks before the Pipeline, every object created
        let (out, err) = expect(&c.tekscript(&["apply", &s]), 0);
        assert_eq!(
            out,
            "task.tekton.dev/say created\ntask.tekton.dev/lint created\npipeline.tekton.dev/greet created\n"
        );
        assert!(
            err.contains("3 created, 0 configured, 0 unchanged"),
            "{err}"
        );
        assert!(err.contains("PipelineRun/greet-run-* not applied"), "{err}");

        // kubectl reads back what the script says, with the ApplySet label, owned by `tekscript`
        let id = part_of_id(c);
        let say = get(c, "tasks.tekton.dev", "say").expect("say applied");
        assert_eq!(say["spec"]["description"], "Says the greeting.");
        assert_eq!(
            say["spec"]["steps"][0]["script"],
            "#!/bin/sh\necho \"hello, $(params.who)\"\n"
        );
        assert_eq!(
            say["metadata"]["labels"]["applyset.kubernetes.io/part-of"],
            id.as_str()
        );
        let managers: Vec<&str> = say["metadata"]["managedFields"]
            .as_array()
            .map(|m| m.iter().filter_map(|e| e["manager"].as_str()).collect())
            .unwrap_or_default();
        // (kubectl hides managedFields by default; both servers return them with --show-managed-fields)
        let shown = c.kubectl(&[
            "get",
            "tasks.tekton.dev",
            "say",
            "-o",
            "json",
            "--show-managed-fields",
        ]);
        let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
        let mgr = shown["metadata"]["managedFields"][0]["manager"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(mgr, "tekscript", "managers {managers:?}");
        let parent = get(c, "configmaps", "tekscript-ci").expect("ApplySet parent");
        assert_eq!(
            parent["metadata"]["labels"]["applyset.kubernetes.io/id"],
            id.as_str()
        );
        assert_eq!(
            parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"],
            "Pipeline.tekton.dev,Task.tekton.dev"
        );
        assert!(
            parent["metadata"]["annotations"]["applyset.kubernetes.io/tooling"]
                .as_str()
                .unwrap()
                .starts_with("tekscript/v")
        );

        // no-op re-apply: every object unchanged, not even resourceVersion moves
        let before = rv(&say);
        let (out, _) = expect(&c.tekscript(&["apply", &s]), 0);
        assert_eq!(
            out,
            "task.tekton.dev/say unchanged\ntask.tekton.dev/lint unchanged\npipeline.tekton.dev/greet unchanged\n"
        );
        assert_eq!(rv(&get(c, "tasks.tekton.dev", "say").unwrap()), before);
        let (diff, err) = expect(&c.tekscript(&["diff", &s]), 0);
        assert_eq!(diff, "");
        assert!(
            err.contains("0 to create, 0 to change, 0 to prune, 3 unchanged"),
            "{err}"
        );

        // kubectl agrees there is nothing to change in `tekscript build` output
        let built = c.dir().join("built.yaml");
        let b = expect(
            &std::process::Command::new(env!("CARGO_BIN_EXE_tekscript"))
                .args(["build", &s])
                .output()
                .unwrap(),
            0,
        )
        .0;
        // kubectl cannot apply generateName objects; keep the named ones
        let named: Vec<&str> = b
            .split("---\n")
            .filter(|d| !d.contains("generateName"))
            .collect();
        std::fs::write(&built, named.join("---\n")).unwrap();
        // every object reads back through kubectl exactly as built: same spec, same labels plus the ApplySet's
        for doc in tekscript::emit::parse_documents(&named.join("---\n")).unwrap() {
            let kind = doc["kind"].as_str().unwrap().to_lowercase();
            let name = doc["metadata"]["name"].as_str().unwrap();
            let live = get(c, &format!("{kind}s.tekton.dev"), name).expect("applied");
            assert_eq!(
                live["spec"], doc["spec"],
                "{kind}/{name} spec as kubectl reads it"
            );
            let mut labels = doc["metadata"]["labels"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            labels.insert("applyset.kubernetes.io/part-of".into(), id.clone().into());
            assert_eq!(
                live["metadata"]["labels"],
                Value::Object(labels),
                "{kind}/{name} labels"
            );
        }
        let kd = c.kubectl(&[
            // kubectl's own field manager: it would co-own the same values, so nothing changes
            "diff",
            "--server-side",
            "-f",
            built.to_str().unwrap(),
        ]);
        assert_eq!(
            kd.status.code(),
            Some(0),
            "kubectl diff: {}{}",
            text(&kd.stdout),
            text(&kd.stderr)
        );

        // a changed field: diff shows it (exit 1), apply configures exactly the changed objects
        let (diff, err) = expect(&c.tekscript(&["diff", &s, "--set", "greeting=hi"]), 1);
        assert!(
            err.contains("0 to create, 2 to change, 0 to prune, 1 unchanged"),
            "{err}"
        );
        assert!(
            diff.contains(
                "-      echo \"hello, $(params.who)\"\n+      echo \"hi, $(params.who)\""
            ),
            "{diff}"
        );
        assert!(
            diff.contains("-  description: Greets (hello).\n+  description: Greets (hi)."),
            "{diff}"
        );
        let (out, _) = expect(&c.tekscript(&["apply", &s, "--set", "greeting=hi"]), 0);
        assert_eq!(
            out,
            "task.tekton.dev/say configured\ntask.tekton.dev/lint unchanged\npipeline.tekton.dev/greet configured\n"
        );
        assert_ne!(rv(&get(c, "tasks.tekton.dev", "say").unwrap()), before);

        // a removed task: diff --prune previews the removal; apply without --prune keeps it,
        // apply --prune deletes it and only it
        let args = ["--set", "greeting=hi", "--set", "lint=no"];
        let (diff, err) = expect(
            &c.tekscript(&[&["diff", &s, "--prune"][..], &args].concat()),
            1,
        );
        assert!(
            err.contains("0 to create, 1 to change, 1 to prune, 1 unchanged"),
            "{err}"
        );
        assert!(
            diff.contains(&format!("live/tekton.dev.v1.Task.{}.lint", c.namespace())),
            "{diff}"
        );
        assert!(
            diff.contains("-  description: Lints nothing in particular."),
            "{diff}"
        );
        let (out, _) = expect(&c.tekscript(&[&["apply", &s][..], &args].concat()), 0);
        assert_eq!(
            out,
            "task.tekton.dev/say unchanged\npipeline.tekton.dev/greet configured\n"
        );
        assert!(
            get(c, "tasks.tekton.dev", "lint").is_some(),
            "kept without --prune"
        );
        let (out, err) = expect(
            &c.tekscript(&[&["apply", &s, "--prune"][..], &args].concat()),
            0,
        );
        assert_eq!(
            out,
            "task.tekton.dev/say unchanged\npipeline.tekton.dev/greet unchanged\ntask.tekton.dev/lint pruned\n"
        );
        assert!(err.contains("1 pruned"), "{err}");
        assert!(get(c, "tasks.tekton.dev", "lint").is_none(), "lint pruned");
        assert!(get(c, "tasks.tekton.dev", "say").is_some());

        // kubectl sees exactly the remaining members through the ApplySet label
        let listed = c.kubectl(&[
            "get",
            "tasks.tekton.dev,pipelines.tekton.dev",
            "-l",
            &format!("applyset.kubernetes.io/part-of={id}"),
            "-o",
            "name",
        ]);
        assert_eq!(
            text(&listed.stdout),
            "task.tekton.dev/say\npipeline.tekton.dev/greet\n"
        );
        // and a second prune has nothing left to do
        let (out, _) = expect(
            &c.tekscript(&[&["apply", &s, "--prune"][..], &args].concat()),
            0,
        );
        assert!(!out.contains("pruned"), "{out}");
    });
}

#[test]
fn prune_never_touches_objects_tekscript_did_not_apply() {
    each_backend(|c| {
        let s = script();
        // someone else's Task in the same namespace, and one with a foreign ApplySet label
        let other = c.dir().join("other.yaml");
        std::fs::write(
            &other,
            "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: theirs}\nspec:\n  steps:\n  - {name: s, image: alpine}\n\
             ---\napiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: other-set\n  labels: {applyset.kubernetes.io/part-of: applyset-somebody-else-v1}\n\
             spec:\n  steps:\n  - {name: s, image: alpine}\n",
        )
        .unwrap();
        let o = c.kubectl(&[
            "apply",
            "--server-side",
            "--validate=false",
            "-f",
            other.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        expect(
            &c.tekscript(&["apply", &s, "--prune", "--set", "lint=no"]),
            0,
        );
        assert!(get(c, "tasks.tekton.dev", "theirs").is_some());
        assert!(get(c, "tasks.tekton.dev", "other-set").is_some());
    });
}

#[test]
fn conflict_with_another_manager_and_force_conflicts() {
    each_backend(|c| {
        let s = script();
        expect(&c.tekscript(&["apply", &s]), 0);
        // another tool changes a field tekscript owns
        let theirs = c.dir().join("theirs.yaml");
        std::fs::write(
            &theirs,
            "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: say}\nspec:\n  description: Changed by hand.\n  steps:\n  - name: say\n    image: alpine:3.20\n    script: |\n      #!/bin/sh\n      echo \"hello, $(params.who)\"\n",
        )
        .unwrap();
        let o = c.kubectl(&[
            "apply",
            "--server-side",
            "--validate=false",
            "--force-conflicts",
            "--field-manager=hand-edit",
            "-f",
            theirs.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));

        // diff warns that apply would conflict, still shows the change
        let (diff, err) = expect(&c.tekscript(&["diff", &s]), 1);
        assert!(
            err.contains(
                "apply would fail with a conflict on .spec.description (owned by \"hand-edit\")"
            ),
            "{err}"
        );
        assert!(
            diff.contains("-  description: Changed by hand.\n+  description: Says the greeting."),
            "{diff}"
        );

        // apply fails for that object only, explains, exit 1
        let (out, err) = expect(&c.tekscript(&["apply", &s]), 1);
        assert_eq!(
            out,
            "task.tekton.dev/say failed\ntask.tekton.dev/lint unchanged\npipeline.tekton.dev/greet unchanged\n"
        );
        assert!(
            err.contains("conflict applying task.tekton.dev/say"),
            "{err}"
        );
        assert!(
            err.contains(".spec.description (owned by \"hand-edit\")"),
            "{err}"
        );
        assert!(err.contains("--force-conflicts"), "{err}");
        assert!(
            err.contains("0 created, 0 configured, 2 unchanged, 1 failed"),
            "{err}"
        );
        assert_eq!(
            get(c, "tasks.tekton.dev", "say").unwrap()["spec"]["description"],
            "Changed by hand."
        );

        // --force-conflicts takes the field back
        let (out, _) = expect(&c.tekscript(&["apply", &s, "--force-conflicts"]), 0);
        assert!(out.starts_with("task.tekton.dev/say configured\n"), "{out}");
        assert_eq!(
            get(c, "tasks.tekton.dev", "say").unwrap()["spec"]["description"],
            "Says the greeting."
        );
    });
}

#[test]
fn dry_run_server_changes_nothing() {
    each_backend(|c| {
        let s = script();
        let (out, err) = expect(&c.tekscript(&["apply", &s, "--dry-run=server"]), 0);
        assert_eq!(
            out,
            "task.tekton.dev/say created (server dry run)\ntask.tekton.dev/lint created (server dry run)\npipeline.tekton.dev/greet created (server dry run)\n"
        );
        assert!(
            err.contains("3 created, 0 configured, 0 unchanged (server dry run)"),
            "{err}"
        );
        assert!(get(c, "tasks.tekton.dev", "say").is_none());
        assert!(get(c, "configmaps", "tekscript-ci").is_none());
        expect(&c.tekscript(&["apply", &s]), 0);
        let (out, _) = expect(
            &c.tekscript(&["apply", &s, "--dry-run=server", "--set", "greeting=yo"]),
            0,
        );
        assert!(
            out.starts_with(
                "task.tekton.dev/say configured (server dry run)\ntask.tekton.dev/lint unchanged"
            ),
            "{out}"
        );
        assert_eq!(
            get(c, "tasks.tekton.dev", "say").unwrap()["spec"]["steps"][0]["script"],
            "#!/bin/sh\necho \"hello, $(params.who)\"\n"
        );
    });
}

#[test]
fn missing_namespace_is_named() {
    each_backend(|c| {
        let (out, err) = expect(
            &c.tekscript(&["apply", &script(), "-n", "does-not-exist"]),
            2,
        );
        assert_eq!(out, "");
        assert!(
            err.contains("namespace \"does-not-exist\" does not exist"),
            "{err}"
        );
        assert!(
            err.contains("kubectl create namespace does-not-exist"),
            "{err}"
        );
    });
}

#[test]
fn namespace_flag_conflicting_with_the_object_is_refused() {
    let c = TestCluster::fake();
    let f = c.dir().join("ns.rhai");
    std::fs::write(&f, "let t = task(\"x\", #{ namespace: \"elsewhere\" });\nt.step(\"s\", \"alpine\", \"true\");\nemit(t);\n").unwrap();
    let (_, err) = expect(
        &c.tekscript(&["apply", f.to_str().unwrap(), "-n", c.namespace()]),
        1,
    );
    assert!(
        err.contains("sets namespace \"elsewhere\", but -n/--namespace is"),
        "{err}"
    );
}

#[test]
fn tekton_not_installed() {
    let c = TestCluster::fake_from(fakekube::FakeApi::without_tekton());
    for cmd in ["apply", "diff"] {
        let (out, err) = expect(&c.tekscript(&[cmd, &script()]), 2);
        assert_eq!(out, "");
        assert!(
            err.contains("tekton.dev/v1 is not served by this cluster"),
            "{err}"
        );
        assert!(err.contains("is Tekton installed?"), "{err}");
    }
}

#[test]
fn forbidden_names_object_and_verb() {
    let c = TestCluster::fake();
    let api = c.fake_api().unwrap();
    api.add_token("bob-token", "bob", &[]);
    api.deny("bob", "patch", "pipelines");
    let kc = c.dir().join("bob.kubeconfig");
    fakekube::write_kubeconfig(&kc, c.url(), "bob-token", c.namespace()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tekscript"))
        .args(["apply", &script(), "--kubeconfig", kc.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let (so, se) = expect(&out, 1);
    assert_eq!(
        so,
        "task.tekton.dev/say created\ntask.tekton.dev/lint created\npipeline.tekton.dev/greet failed\n"
    );
    assert!(
        se.contains("not allowed to apply pipeline.tekton.dev/greet"),
        "{se}"
    );
    assert!(
        se.contains("User \"bob\" cannot patch resource \"pipelines\""),
        "{se}"
    );
    assert!(se.contains("kubectl auth can-i patch"), "{se}");
}

#[test]
fn expired_credentials() {
    let c = TestCluster::fake();
    let kc = c.dir().join("stale.kubeconfig");
    fakekube::write_kubeconfig(&kc, c.url(), "expired-token", c.namespace()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tekscript"))
        .args(["diff", &script(), "--kubeconfig", kc.to_str().unwrap()])
        .output()
        .unwrap();
    let (_, se) = expect(&out, 2);
    assert!(
        se.contains("refused the credentials (401 Unauthorized)"),
        "{se}"
    );
}

#[test]
fn server_errors_are_retried_with_backoff() {
    let c = TestCluster::fake();
    let api = c.fake_api().unwrap();
    // two throttled answers (Retry-After: 1) then success
    api.fail_next(
        patch_of("/tasks/say"),
        Fault::Status {
            code: 429,
            reason: "TooManyRequests".into(),
            message: "slow down".into(),
            retry_after_seconds: Some(1),
        },
        2,
    );
    // one 500 on the pipeline
    api.fail_next(
        patch_of("/pipelines/greet"),
        Fault::Status {
            code: 500,
            reason: "InternalError".into(),
            message: "etcd hiccup".into(),
            retry_after_seconds: None,
        },
        1,
    );
    let t0 = std::time::Instant::now();
    let (out, err) = expect(&c.tekscript(&["apply", &script()]), 0);
    assert!(
        t0.elapsed() >= std::time::Duration::from_secs(2),
        "Retry-After honoured"
    );
    assert!(out.contains("task.tekton.dev/say created"), "{out}");
    assert_eq!(
        err.matches("429 TooManyRequests — retrying in 1.0s")
            .count(),
        2,
        "{err}"
    );
    assert!(
        err.contains("500 InternalError — retrying in 0.2s"),
        "{err}"
    );
    let patches = api
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/tasks/say"))
        .count();
    assert_eq!(patches, 3);

    // a 4xx is never retried; a persistent 503 gives up after 5 attempts
    api.clear_requests();
    api.fail_next(
        patch_of("/tasks/lint"),
        Fault::Status {
            code: 503,
            reason: "ServiceUnavailable".into(),
            message: "down".into(),
            retry_after_seconds: None,
        },
        100,
    );
    let (out, err) = expect(
        &c.tekscript(&["apply", &script(), "--set", "greeting=x"]),
        1,
    );
    assert!(out.contains("task.tekton.dev/lint failed"), "{out}");
    assert!(
        err.contains("apply task.tekton.dev/lint failed (503 ServiceUnavailable): down"),
        "{err}"
    );
    let lint_patches = api
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/tasks/lint"))
        .count();
    assert_eq!(lint_patches, 5);
}

#[test]
fn dropped_connections_are_retried() {
    let c = TestCluster::fake();
    let api = c.fake_api().unwrap();
    api.fail_next(patch_of("/tasks/say"), Fault::DropConnection, 1);
    let (out, err) = expect(&c.tekscript(&["apply", &script()]), 0);
    assert!(out.contains("task.tekton.dev/say created"), "{out}");
    assert!(err.contains("retrying in"), "{err}");
}

#[test]
fn unreachable_server() {
    let c = TestCluster::fake();
    // a port nothing listens on
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kc = c.dir().join("down.kubeconfig");
    fakekube::write_kubeconfig(&kc, &format!("http://127.0.0.1:{port}"), "t", "default").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tekscript"))
        .args(["apply", &script(), "--kubeconfig", kc.to_str().unwrap()])
        .output()
        .unwrap();
    let (so, se) = expect(&out, 2);
    assert_eq!(so, "");
    assert!(
        se.contains(&format!(
            "cannot reach the Kubernetes API server at http://127.0.0.1:{port}"
        )),
        "{se}"
    );
}

#[test]
fn no_kubeconfig_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tekscript"))
        .args(["diff", &script()])
        .env("HOME", dir.path())
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .unwrap();
    let (_, se) = expect(&out, 2);
    assert!(se.contains("no Kubernetes configuration found"), "{se}");
}

#[test]
fn external_diff_program_gets_live_and_merged_trees() {
    let c = TestCluster::fake();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tekscript"));
    cmd.args([
        "diff",
        &script(),
        "--kubeconfig",
        c.kubeconfig().to_str().unwrap(),
    ])
    .env("KUBECTL_EXTERNAL_DIFF", "diff -u -N");
    let (so, _) = expect(&cmd.output().unwrap(), 1);
    // diff(1) names the files of both trees, kubectl-style
    assert!(
        so.contains(&format!(
            "MERGED/tekton.dev.v1.Pipeline.{}.greet",
            c.namespace()
        )),
        "{so}"
    );
}

#[test]
fn script_errors_stop_before_the_cluster() {
    let c = TestCluster::fake();
    let f = c.dir().join("bad.rhai");
    std::fs::write(
        &f,
        "let t = task(\"x\");\nt.step(\"s\", \"alpine\", \"echo $(params.nope)\");\nemit(t);\n",
    )
    .unwrap();
    let (out, err) = expect(&c.tekscript(&["apply", f.to_str().unwrap()]), 1);
    assert_eq!(out, "");
    assert!(err.contains("params.nope"), "{err}");
    assert!(c.fake_api().unwrap().requests().is_empty(), "nothing sent");
}

#[test]
fn applyset_id_matches_kubectl() {
    // kubectl computes the parent's id itself when it creates an ApplySet; ours must be the same string.
    each_backend(|c| {
        let f = c.dir().join("cm.yaml");
        std::fs::write(
            &f,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: member}\ndata: {a: b}\n",
        )
        .unwrap();
        let mut cmd = std::process::Command::new(crate::cluster_env::kubectl_binary().unwrap());
        cmd.env("KUBECTL_APPLYSET", "true")
            .env("HOME", c.dir())
            .args([
                "--kubeconfig",
                c.kubeconfig().to_str().unwrap(),
                "-n",
                c.namespace(),
                "apply",
                "--server-side",
                "--validate=false",
                "--prune",
                "--applyset=configmaps/kset",
                "-f",
                f.to_str().unwrap(),
            ]);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let parent = get(c, "configmaps", "kset").unwrap();
        let ours = tekscript::cluster::applyset::Parent::parse("configmaps/kset", c.namespace())
            .unwrap()
            .id();
        assert_eq!(
            parent["metadata"]["labels"]["applyset.kubernetes.io/id"],
            ours.as_str()
        );
        // and tekscript refuses to take over kubectl's set
        let (_, err) = expect(
            &c.tekscript(&["apply", &script(), "--applyset", "configmaps/kset"]),
            1,
        );
        assert!(err.contains("managed by kubectl/"), "{err}");
    });
}

#[test]
fn ctrl_c_finishes_in_flight_objects_and_starts_no_new_ones() {
    let c = TestCluster::fake();
    let api = c.fake_api().unwrap();
    // the Task `say` takes 3 s to apply; Ctrl-C arrives while it is in flight
    api.fail_next(
        patch_of("/tasks/say"),
        Fault::Delay(std::time::Duration::from_secs(3)),
        1,
    );
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_tekscript"))
        .args([
            "apply",
            &script(),
            "--kubeconfig",
            c.kubeconfig().to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !api
        .requests()
        .iter()
        .any(|r| r.method == "PATCH" && r.path.ends_with("/tasks/say"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "apply never reached the Task"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let (so, se) = expect(&out, 1);
    // the in-flight apply finished and is reported; the Pipeline was never sent
    assert!(so.contains("task.tekton.dev/say created\n"), "{so}");
    assert!(
        so.contains("pipeline.tekton.dev/greet not applied\n"),
        "{so}"
    );
    assert!(
        se.contains("interrupted: finishing the requests in flight"),
        "{se}"
    );
    assert!(
        se.contains("pipeline.tekton.dev/greet was not applied: interrupted (Ctrl-C)"),
        "{se}"
    );
    assert!(
        api.object("tekton.dev/v1", "tasks", c.namespace(), "say")
            .is_some()
    );
    assert!(
        api.object("tekton.dev/v1", "pipelines", c.namespace(), "greet")
            .is_none()
    );
    assert!(
        !api.requests()
            .iter()
            .any(|r| r.path.ends_with("/pipelines/greet")),
        "nothing was sent for the Pipeline"
    );
}

#[test]
fn request_timeout_bounds_a_hanging_server() {
    let c = TestCluster::fake();
    c.fake_api().unwrap().fail_next(
        patch_of("/tasks/say"),
        Fault::Delay(std::time::Duration::from_secs(30)),
        1,
    );
    let t0 = std::time::Instant::now();
    let (out, err) = expect(
        &c.tekscript(&["apply", &script(), "--request-timeout", "1"]),
        1,
    );
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(15),
        "bounded by the timeout"
    );
    assert!(out.contains("task.tekton.dev/say failed"), "{out}");
    assert!(
        err.contains("apply task.tekton.dev/say did not finish within 1s (--request-timeout)"),
        "{err}"
    );
}

#[test]
fn pruning_everything_needs_a_non_empty_script() {
    let c = TestCluster::fake();
    expect(&c.tekscript(&["apply", &script()]), 0);
    let empty = c.dir().join("empty.rhai");
    // only a self-contained run: nothing for `apply` to send
    std::fs::write(
        &empty,
        "let t = task(\"x\");\nt.step(\"s\", \"alpine\", \"#!/bin/sh\\ntrue\\n\");\nemit(t.run(#{ embed: true }));\n",
    )
    .unwrap();
    let (_, err) = expect(
        &c.tekscript(&[
            "apply",
            empty.to_str().unwrap(),
            "--prune",
            "--applyset",
            "tekscript-ci",
        ]),
        1,
    );
    assert!(
        err.contains("refusing to prune all 3 objects of the ApplySet configmaps/tekscript-ci"),
        "{err}"
    );
    let api = c.fake_api().unwrap();
    assert!(
        api.object("tekton.dev/v1", "tasks", c.namespace(), "say")
            .is_some()
    );
}

#[test]
fn applyset_none_applies_without_recording() {
    let c = TestCluster::fake();
    let (out, _) = expect(&c.tekscript(&["apply", &script(), "--applyset", "none"]), 0);
    assert!(out.contains("task.tekton.dev/say created"), "{out}");
    let api = c.fake_api().unwrap();
    let say = api
        .object("tekton.dev/v1", "tasks", c.namespace(), "say")
        .unwrap();
    assert!(
        say["metadata"]["labels"]
            .get("applyset.kubernetes.io/part-of")
            .is_none(),
        "{say}"
    );
    assert!(
        api.object("v1", "configmaps", c.namespace(), "tekscript-ci")
            .is_none()
    );
    assert!(
        !api.requests()
            .iter()
            .any(|r| r.path.contains("/configmaps")),
        "no ApplySet parent read or written"
    );
    let (diff, _) = expect(&c.tekscript(&["diff", &script(), "--applyset", "none"]), 0);
    assert_eq!(diff, "");
    let (_, err) = expect(
        &c.tekscript(&["apply", &script(), "--applyset", "none", "--prune"]),
        1,
    );
    assert!(err.contains("--prune needs an ApplySet"), "{err}");
}

#[test]
fn unknown_context_lists_the_ones_there_are() {
    let c = TestCluster::fake();
    let (_, err) = expect(&c.tekscript(&["diff", &script(), "--context", "nope"]), 2);
    assert!(
        err.contains("--context \"nope\" is not defined there (contexts: "),
        "{err}"
    );
    assert!(err.contains("pick one with --context NAME"), "{err}");
}

#[test]
fn unknown_run_is_named_for_logs_and_cancel() {
    let c = TestCluster::fake();
    for cmd in ["logs", "cancel"] {
        let out = c.tekscript(&[cmd, "no-such-run"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert!(
            err.contains(&format!(
                "PipelineRun no-such-run not found in namespace {}",
                c.namespace()
            )),
            "{cmd}: {err}"
        );
        assert!(err.contains("kubectl get pipelineruns"), "{cmd}: {err}");
    }
}
