//! The fake through kube-rs 5, in-process and on loopback.

use std::time::Duration;

use fakekube::{FakeApi, Fault, Matcher};
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, LogParams, Patch,
    PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::discovery::Discovery;
use kube::{Client, Error};
use serde_json::{Value, json};

fn client(api: &FakeApi) -> Client {
    Client::new(api.service(), "default")
}

fn pipelines(c: &Client, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("tekton.dev", "v1", "Pipeline"),
        "pipelines",
    );
    Api::namespaced_with(c.clone(), ns, &ar)
}

fn pipeline(desc: &str) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "tekton.dev/v1", "kind": "Pipeline",
        "metadata": {"name": "hello", "labels": {"app": "demo"}},
        "spec": {"description": desc, "tasks": [{"name": "t1", "taskRef": {"name": "echo"}}]}
    }))
    .unwrap()
}

fn api_err(e: Error) -> kube::core::Status {
    match e {
        Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn rv(o: &DynamicObject) -> String {
    o.metadata.resource_version.clone().unwrap_or_default()
}

#[tokio::test]
async fn discovery_resolves_tekton_and_reports_absence() {
    let api = FakeApi::new();
    let d = Discovery::new(client(&api))
        .filter(&["tekton.dev"])
        .run()
        .await
        .unwrap();
    let (ar, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk("tekton.dev", "v1", "PipelineRun"))
        .unwrap();
    assert_eq!(ar.plural, "pipelineruns");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    assert!(caps.subresources.iter().any(|(s, _)| s.plural == "status"));
    let v = client(&api).apiserver_version().await.unwrap();
    assert_eq!((v.major.as_str(), v.minor.as_str()), ("1", "33"));

    let none = FakeApi::without_tekton();
    let d = Discovery::new(client(&none))
        .filter(&["tekton.dev"])
        .run()
        .await
        .unwrap();
    assert!(
        d.resolve_gvk(&GroupVersionKind::gvk("tekton.dev", "v1", "Pipeline"))
            .is_none()
    );
}

#[tokio::test]
async fn apply_noop_dry_run_conflict_force() {
    let api = FakeApi::new();
    let c = client(&api);
    let p = pipelines(&c, "default");
    let ours = PatchParams::apply("tekscript");

    // Dry-run create: 201-shaped answer without resourceVersion, nothing stored.
    let dry = p
        .patch(
            "hello",
            &ours.clone().dry_run(),
            &Patch::Apply(&pipeline("one")),
        )
        .await
        .unwrap();
    assert!(dry.metadata.resource_version.is_none());
    assert_eq!(dry.metadata.generation, Some(1));
    assert!(dry.metadata.uid.is_some());
    assert!(dry.metadata.managed_fields.is_some());
    assert!(
        api.object("tekton.dev/v1", "pipelines", "default", "hello")
            .is_none()
    );
    let rv0 = api.resource_version();

    let created = p
        .patch("hello", &ours, &Patch::Apply(&pipeline("one")))
        .await
        .unwrap();
    assert_eq!(rv(&created), (rv0 + 1).to_string());
    let mf = serde_json::to_value(created.metadata.managed_fields.as_ref().unwrap()).unwrap();
    assert_eq!(mf[0]["manager"], "tekscript");
    assert_eq!(mf[0]["operation"], "Apply");
    assert_eq!(
        mf[0]["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:description": {}, "f:tasks": {}}})
    );

    // Identical re-apply: no resourceVersion bump.
    let again = p
        .patch("hello", &ours, &Patch::Apply(&pipeline("one")))
        .await
        .unwrap();
    assert_eq!(rv(&again), rv(&created));
    assert_eq!(api.resource_version(), rv0 + 1);

    // Dry-run update keeps the live resourceVersion and shows the generation bump.
    let dry = p
        .patch(
            "hello",
            &ours.clone().dry_run(),
            &Patch::Apply(&pipeline("two")),
        )
        .await
        .unwrap();
    assert_eq!(rv(&dry), rv(&created));
    assert_eq!(dry.metadata.generation, Some(2));
    assert_eq!(dry.data["spec"]["description"], "two");
    let live = api
        .object("tekton.dev/v1", "pipelines", "default", "hello")
        .unwrap();
    assert_eq!(live["spec"]["description"], "one");
    assert_eq!(live["metadata"]["generation"], 1);

    // Another manager with a different value conflicts; force takes over.
    let other = PatchParams::apply("other");
    let e = api_err(
        p.patch("hello", &other, &Patch::Apply(&pipeline("three")))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 409);
    assert_eq!(e.reason, "Conflict");
    assert_eq!(
        e.message,
        "Apply failed with 1 conflict: conflict with \"tekscript\": .spec.description"
    );
    let forced = p
        .patch("hello", &other.force(), &Patch::Apply(&pipeline("three")))
        .await
        .unwrap();
    assert_eq!(forced.data["spec"]["description"], "three");
    assert_eq!(forced.metadata.generation, Some(2));
    let mf = serde_json::to_value(forced.metadata.managed_fields.unwrap()).unwrap();
    let managers: Vec<&str> = mf
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["other", "tekscript"]);
}

#[tokio::test]
async fn status_bodies_and_crud() {
    let api = FakeApi::new();
    let c = client(&api);
    let p = pipelines(&c, "default");
    let e = api_err(p.get("missing").await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (404, "NotFound"));
    assert_eq!(e.message, "pipelines.tekton.dev \"missing\" not found");
    let d = e.details.unwrap();
    assert_eq!(
        (d.name.as_str(), d.group.as_str(), d.kind.as_str()),
        ("missing", "tekton.dev", "pipelines")
    );
    assert!(p.get_opt("missing").await.unwrap().is_none());

    let created = p
        .create(&PostParams::default(), &pipeline("one"))
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    let e = api_err(
        p.create(&PostParams::default(), &pipeline("one"))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(e.message, "pipelines.tekton.dev \"hello\" already exists");

    // Missing namespace.
    let e = api_err(
        pipelines(&c, "nope")
            .create(&PostParams::default(), &pipeline("x"))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.message, "namespaces \"nope\" not found");

    // Stale replace.
    let mut stale = created.clone();
    stale.metadata.resource_version = Some("1".into());
    let e = api_err(
        p.replace("hello", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 409);
    assert!(
        e.message.contains("the object has been modified"),
        "{}",
        e.message
    );

    // Merge patch bumps generation; a label change does not.
    let patched = p
        .patch(
            "hello",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"description": "m"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.metadata.generation, Some(2));
    let labelled = p
        .patch(
            "hello",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(labelled.metadata.generation, Some(2));
    let mf = serde_json::to_value(labelled.metadata.managed_fields.unwrap()).unwrap();
    assert!(
        mf.as_array()
            .unwrap()
            .iter()
            .any(|e| e["manager"] == "unknown" && e["operation"] == "Update")
    );

    // Status subresource: status only, no generation bump.
    let st = p
        .patch_status(
            "hello",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"description": "ignored"}, "status": {"ok": true}})),
        )
        .await
        .unwrap();
    assert_eq!(st.data["status"]["ok"], true);
    assert_eq!(st.data["spec"]["description"], "m");
    assert_eq!(st.metadata.generation, Some(2));
    // ... and main-resource writes ignore status.
    let main = p
        .patch(
            "hello",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"ok": false}})),
        )
        .await
        .unwrap();
    assert_eq!(main.data["status"]["ok"], true);

    // Strategic merge on a CR: 415.
    let e = api_err(
        p.patch(
            "hello",
            &PatchParams::default(),
            &Patch::Strategic(json!({})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (415, "UnsupportedMediaType"));

    // generateName + deterministic suffix alphabet.
    let runs = {
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("tekton.dev", "v1", "PipelineRun"),
            "pipelineruns",
        );
        Api::<DynamicObject>::namespaced_with(c.clone(), "default", &ar)
    };
    let pr: DynamicObject =
        serde_json::from_value(json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"generateName": "hello-run-"}, "spec": {"pipelineRef": {"name": "hello"}}}))
        .unwrap();
    let made = runs.create(&PostParams::default(), &pr).await.unwrap();
    let name = made.metadata.name.unwrap();
    let suffix = name.strip_prefix("hello-run-").unwrap();
    assert_eq!(suffix.len(), 5);
    assert!(
        suffix
            .chars()
            .all(|ch| "bcdfghjklmnpqrstvwxz2456789".contains(ch)),
        "{name}"
    );
    let again = FakeApi::new();
    let made2 = Api::<DynamicObject>::namespaced_with(
        client(&again),
        "default",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("tekton.dev", "v1", "PipelineRun"),
            "pipelineruns",
        ),
    )
    .create(&PostParams::default(), &pr)
    .await
    .unwrap();
    assert_eq!(made2.metadata.name.unwrap(), name, "deterministic names");

    // Delete: Status Success, dry run keeps the object.
    let dry = p
        .delete("hello", &DeleteParams::default().dry_run())
        .await
        .unwrap();
    assert!(dry.is_right());
    assert!(
        api.object("tekton.dev/v1", "pipelines", "default", "hello")
            .is_some()
    );
    let gone = p.delete("hello", &DeleteParams::default()).await.unwrap();
    let status = gone.right().unwrap();
    assert_eq!(
        status.status,
        Some(kube::core::response::StatusSummary::Success)
    );
    assert!(
        api.object("tekton.dev/v1", "pipelines", "default", "hello")
            .is_none()
    );
}

#[tokio::test]
async fn list_selectors_and_configmap_labels() {
    let api = FakeApi::new();
    let c = client(&api);
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(c.clone(), "default");
    for (name, set) in [("a", "s1"), ("b", "s1"), ("c", "s2")] {
        let cm: k8s_openapi::api::core::v1::ConfigMap = serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {"applyset.kubernetes.io/part-of": set}}, "data": {"k": name}}))
        .unwrap();
        cms.patch(name, &PatchParams::apply("t"), &Patch::Apply(&cm))
            .await
            .unwrap();
    }
    let l = cms
        .list(&ListParams::default().labels("applyset.kubernetes.io/part-of=s1"))
        .await
        .unwrap();
    let names: Vec<String> = l
        .items
        .iter()
        .map(|o| o.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(
        l.metadata.resource_version.unwrap(),
        api.resource_version().to_string()
    );
    let l = cms
        .list(&ListParams::default().fields("metadata.name=c"))
        .await
        .unwrap();
    assert_eq!(l.items.len(), 1);
    let l = cms
        .list(&ListParams::default().labels("applyset.kubernetes.io/part-of notin (s1)"))
        .await
        .unwrap();
    assert_eq!(l.items.len(), 1);
    // Cluster-wide list.
    let all: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::all(c.clone());
    api.create_namespace("other");
    let cm = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "z"}}),
    )
    .unwrap();
    Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(c.clone(), "other")
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    assert_eq!(
        all.list(&ListParams::default()).await.unwrap().items.len(),
        4
    );
    // Secrets: stringData becomes data.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(c.clone(), "default");
    let s = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "stringData": {"token": "abc"}}),
    )
    .unwrap();
    let s = secrets.create(&PostParams::default(), &s).await.unwrap();
    assert_eq!(s.data.unwrap()["token"].0, b"abc");
}

#[tokio::test]
async fn watch_replays_filters_and_expires() {
    let api = FakeApi::new();
    let c = client(&api);
    let p = pipelines(&c, "default");
    let start = api.resource_version().to_string();
    p.patch(
        "hello",
        &PatchParams::apply("t"),
        &Patch::Apply(&pipeline("one")),
    )
    .await
    .unwrap();
    p.patch(
        "hello",
        &PatchParams::apply("t"),
        &Patch::Apply(&pipeline("two")),
    )
    .await
    .unwrap();
    let mut s = p
        .watch(&WatchParams::default().timeout(5), &start)
        .await
        .unwrap()
        .boxed();
    let kinds: Vec<&str> = [
        s.try_next().await.unwrap().unwrap(),
        s.try_next().await.unwrap().unwrap(),
    ]
    .iter()
    .map(|e| match e {
        WatchEvent::Added(_) => "ADDED",
        WatchEvent::Modified(_) => "MODIFIED",
        _ => "OTHER",
    })
    .collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED"]);
    // Live event while the stream is open.
    p.delete("hello", &DeleteParams::default()).await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(5), s.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(matches!(ev, WatchEvent::Deleted(_)));

    // Too old resourceVersion → in-stream 410.
    api.compact();
    let mut s = p
        .watch(&WatchParams::default().timeout(5), &start)
        .await
        .unwrap()
        .boxed();
    match s.try_next().await.unwrap().unwrap() {
        WatchEvent::Error(e) => {
            assert_eq!(e.code, 410);
            assert!(
                e.message
                    .starts_with(&format!("too old resource version: {start} (")),
                "{}",
                e.message
            );
        }
        other => panic!("expected ERROR, got {other:?}"),
    }

    // Bookmark at timeout, and the stream stays open until then.
    let rv = api.resource_version().to_string();
    let t0 = std::time::Instant::now();
    let mut s = p
        .watch(&WatchParams::default().timeout(1), &rv)
        .await
        .unwrap()
        .boxed();
    let ev = s.try_next().await.unwrap().unwrap();
    assert!(matches!(ev, WatchEvent::Bookmark(_)), "{ev:?}");
    assert!(t0.elapsed() >= Duration::from_millis(900));
    assert!(s.try_next().await.unwrap().is_none());

    // Injected 410 for the next watch.
    api.fail_next(
        Matcher::path("/pipelines").with_query("watch=true"),
        Fault::WatchExpired,
        1,
    );
    let mut s = p
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .unwrap()
        .boxed();
    assert!(matches!(
        s.try_next().await.unwrap().unwrap(),
        WatchEvent::Error(_)
    ));
}

#[tokio::test]
async fn runtime_watcher_sees_changes() {
    let api = FakeApi::new();
    let c = client(&api);
    let p = pipelines(&c, "default");
    let w = kube::runtime::watcher(
        p.clone(),
        kube::runtime::watcher::Config::default().fields("metadata.name=hello"),
    );
    let mut applied = Box::pin(kube::runtime::WatchStreamExt::applied_objects(w));
    let writer = {
        let p = p.clone();
        tokio::spawn(async move {
            for d in ["one", "two"] {
                p.patch(
                    "hello",
                    &PatchParams::apply("t"),
                    &Patch::Apply(&pipeline(d)),
                )
                .await
                .unwrap();
            }
        })
    };
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("two") {
        let o = tokio::time::timeout(Duration::from_secs(5), applied.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push(o.data["spec"]["description"].as_str().unwrap().to_string());
    }
    writer.await.unwrap();
    let watches = api
        .requests()
        .iter()
        .filter(|r| r.query.contains("watch=true"))
        .count();
    assert!(
        watches <= 2,
        "watch must be held open, saw {watches} watch requests"
    );
}

fn pod(containers: &[&str], waiting: Option<&str>) -> Value {
    let cs: Vec<Value> = containers
        .iter()
        .map(|n| json!({"name": n, "image": "busybox"}))
        .collect();
    let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": cs, "initContainers": [{"name": "prepare", "image": "x"}]}});
    if let Some(w) = waiting {
        p["status"] = json!({"containerStatuses": [{"name": w, "state": {"waiting": {"reason": "PodInitializing"}}}]});
    }
    p
}

#[tokio::test]
async fn pod_logs_follow_and_errors() {
    let api = FakeApi::new();
    let c = client(&api);
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(c.clone(), "default");
    api.seed(pod(&["step-a", "step-b"], Some("step-b")))
        .unwrap();
    let e = api_err(pods.logs("p", &LogParams::default()).await.unwrap_err());
    assert_eq!(
        e.message,
        "a container name must be specified for pod p, choose one of: [step-a step-b] or one of the init containers: [prepare]"
    );
    let e = api_err(
        pods.logs(
            "p",
            &LogParams {
                container: Some("step-b".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        e.message,
        "container \"step-b\" in pod \"p\" is waiting to start: PodInitializing"
    );

    api.push_log("default", "p", "step-a", "one");
    let lp = LogParams {
        container: Some("step-a".into()),
        follow: true,
        ..Default::default()
    };
    let mut lines = pods.log_stream("p", &lp).await.unwrap().lines();
    assert_eq!(lines.try_next().await.unwrap().unwrap(), "one");
    api.push_log("default", "p", "step-a", "two");
    assert_eq!(lines.try_next().await.unwrap().unwrap(), "two");
    api.end_log("default", "p", "step-a");
    assert!(
        tokio::time::timeout(Duration::from_secs(5), lines.try_next())
            .await
            .unwrap()
            .unwrap()
            .is_none()
    );
    let all = pods
        .logs(
            "p",
            &LogParams {
                container: Some("step-a".into()),
                tail_lines: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all, "two\n");
}

#[tokio::test]
async fn faults_auth_and_request_log() {
    let api = FakeApi::new();
    let c = client(&api);
    let p = pipelines(&c, "default");
    api.fail_next(
        Matcher::method_path("GET", "/pipelines/hello"),
        Fault::throttled(7),
        1,
    );
    let e = api_err(p.get("hello").await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (429, "TooManyRequests"));
    api.fail_next(Matcher::method("GET"), Fault::DropConnection, 1);
    assert!(matches!(
        p.get("hello").await.unwrap_err(),
        Error::Service(_)
    ));
    api.fail_next(Matcher::any(), Fault::Delay(Duration::from_millis(50)), 1);
    let t0 = std::time::Instant::now();
    assert!(p.get_opt("hello").await.unwrap().is_none());
    assert!(t0.elapsed() >= Duration::from_millis(50));

    api.deny("admin", "patch", "pipelines");
    let e = api_err(
        p.patch(
            "hello",
            &PatchParams::apply("t"),
            &Patch::Apply(&pipeline("x")),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 403);
    assert_eq!(
        e.message,
        "pipelines.tekton.dev \"hello\" is forbidden: User \"admin\" cannot patch resource \"pipelines\" in API group \"tekton.dev\" in the namespace \"default\""
    );
    let reqs = api.requests();
    let last = reqs.last().unwrap();
    assert_eq!(last.method, "PATCH");
    assert_eq!(
        last.path,
        "/apis/tekton.dev/v1/namespaces/default/pipelines/hello"
    );
    assert_eq!(last.query, "&fieldManager=t");
    assert_eq!(
        last.content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    assert_eq!(last.user.as_deref(), Some("admin"));
    api.clear_requests();
    assert!(api.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_with_kubeconfig_tokens() {
    let api = FakeApi::new();
    let serving = api.serve();
    let kc = kube::config::Kubeconfig::read_from(serving.kubeconfig()).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    assert_eq!(cfg.default_namespace, "default");
    let c = Client::try_from(cfg).unwrap();
    let p = pipelines(&c, "default");
    p.patch(
        "hello",
        &PatchParams::apply("t"),
        &Patch::Apply(&pipeline("one")),
    )
    .await
    .unwrap();
    assert!(
        api.object("tekton.dev/v1", "pipelines", "default", "hello")
            .is_some()
    );

    api.add_token("bob-token", "bob", &["devs"]);
    api.deny("bob", "list", "pipelines");
    let bob_kc = serving.kubeconfig_for("bob-token", "default");
    let kc = kube::config::Kubeconfig::read_from(&bob_kc).unwrap();
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    cfg.default_retry = false;
    let bob = pipelines(&Client::try_from(cfg).unwrap(), "default");
    assert!(bob.get("hello").await.is_ok());
    let e = api_err(bob.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(
        e.message,
        "pipelines.tekton.dev is forbidden: User \"bob\" cannot list resource \"pipelines\" in API group \"tekton.dev\" in the namespace \"default\""
    );
    api.revoke_token("bob-token");
    let e = api_err(bob.get("hello").await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (401, "Unauthorized"));

    // Dropped TCP connection.
    api.fail_next(Matcher::path("/pipelines/hello"), Fault::DropConnection, 1);
    assert!(p.get("hello").await.is_err());
    assert!(p.get("hello").await.is_ok());
}
