//! `diff`: what `apply` would change. For each object the live object is compared with what the server
//! says it would store (a server-side apply dry run with tekscript's field manager), after the same
//! normalisation on both sides. With `--prune`, ApplySet members the script no longer produces are shown
//! as removals.

use super::apply::{member_set, read_parent, stale_members};
use super::applyset::Recorded;
use super::connect::{FIELD_MANAGER, Target, check_served};
use super::error::ClusterError;
use super::objects::{Planned, SERVER_METADATA, drop_fields, file_name, needed_kinds};
use super::retry::with_retry;
use crate::emit;
use futures::StreamExt;
use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Settings of one `diff`.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    pub force_conflicts: bool,
    pub prune: bool,
    /// The ApplySet (for its membership label and `--prune`); `None` with `--applyset none`.
    pub parent: Option<super::applyset::Parent>,
    pub concurrency: usize,
}

/// What `apply` would do to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Create,
    Update,
    Unchanged,
    Prune,
}

/// One object's two sides, normalised for display.
#[derive(Debug, Clone)]
pub struct ObjectDiff {
    /// `task.tekton.dev/git-clone`
    pub display: String,
    pub namespace: String,
    /// `tekton.dev.v1.Task.demo.git-clone`
    pub file_name: String,
    pub change: Change,
    pub live: Option<Value>,
    pub merged: Option<Value>,
    /// E.g. that `apply` needs `--force-conflicts` for this object.
    pub note: Option<String>,
}

/// All objects' diffs, and the objects whose dry run failed.
#[derive(Debug, Default)]
pub struct DiffReport {
    pub objects: Vec<ObjectDiff>,
    pub errors: Vec<ClusterError>,
}

impl DiffReport {
    pub fn has_changes(&self) -> bool {
        self.objects.iter().any(|o| o.change != Change::Unchanged)
    }
}

/// Computes the diff of `planned` against the cluster.
pub async fn diff(
    target: &Target,
    mut planned: Vec<Planned>,
    opts: &DiffOptions,
) -> Result<DiffReport, ClusterError> {
    check_served(target, &needed_kinds(&planned)).await?;
    if opts.prune && opts.parent.is_none() {
        return Err(ClusterError::Usage(
            "--prune needs an ApplySet to know what was applied before; drop `--applyset none`"
                .into(),
        ));
    }
    let (recorded, id) = match &opts.parent {
        Some(parent) => (read_parent(target, parent).await?, Some(parent.id())),
        None => (None, None),
    };
    if let Some(id) = &id {
        for p in &mut planned {
            p.label_part_of(id);
        }
    }
    let mut report = DiffReport::default();
    let mut results = futures::stream::iter(planned.iter().map(|p| diff_one(target, p, opts)))
        .buffered(opts.concurrency.max(1));
    while let Some(r) = results.next().await {
        match r {
            Ok(d) => report.objects.push(d),
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => report.errors.push(e),
        }
    }
    drop(results);
    if let (true, Some(parent), Some(id)) = (opts.prune, &opts.parent, &id) {
        let mut set = recorded.unwrap_or_else(Recorded::default);
        let new = member_set(&planned, parent);
        set.namespaces.extend(new.namespaces);
        for m in stale_members(target, &planned, &set, id).await? {
            report.objects.push(ObjectDiff {
                display: m.display(),
                namespace: m.namespace.clone(),
                file_name: file_name(&m.api_version, &m.kind, &m.namespace, &m.name),
                change: Change::Prune,
                live: Some(comparable(&m.live)),
                merged: None,
                note: None,
            });
        }
    }
    Ok(report)
}

async fn diff_one(
    target: &Target,
    p: &Planned,
    opts: &DiffOptions,
) -> Result<ObjectDiff, ClusterError> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(target.client.clone(), &p.namespace, &p.api_resource());
    let what = p.display();
    let live = with_retry(target, "read", &what, || api.get_opt(&p.name)).await?;
    let patch = Patch::Apply(&p.body);
    let dry = |force: bool| {
        let mut pp = PatchParams::apply(FIELD_MANAGER).dry_run();
        pp.force = force;
        pp
    };
    let pp = dry(opts.force_conflicts);
    let mut note = None;
    let merged = match with_retry(target, "dry-run apply", &what, || {
        api.patch(&p.name, &pp, &patch)
    })
    .await
    {
        Ok(m) => m,
        Err(ClusterError::Conflict { fields, .. }) if !opts.force_conflicts => {
            let owners: Vec<String> = fields
                .iter()
                .map(|(m, f)| format!("{f} (owned by \"{m}\")"))
                .collect();
            note = Some(format!(
                "apply would fail with a conflict on {}; shown as with --force-conflicts",
                owners.join(", ")
            ));
            let forced = dry(true);
            with_retry(target, "dry-run apply", &what, || {
                api.patch(&p.name, &forced, &patch)
            })
            .await?
        }
        Err(e) => return Err(e),
    };
    let live = live.map(|l| comparable(&serde_json::to_value(&l).unwrap_or_default()));
    let merged = comparable(&serde_json::to_value(&merged).unwrap_or_default());
    let change = match &live {
        None => Change::Create,
        Some(l) if *l == merged => Change::Unchanged,
        Some(_) => Change::Update,
    };
    Ok(ObjectDiff {
        display: what,
        namespace: p.namespace.clone(),
        file_name: p.file_name(),
        change,
        live,
        merged: Some(merged),
        note,
    })
}

/// The object as compared and shown: keys sorted, without `status` and the metadata the server sets
/// ([`SERVER_METADATA`]). Secret values are masked separately, for display ([`mask_secrets`]).
pub fn comparable(obj: &Value) -> Value {
    let mut v = sort_keys(obj);
    drop_fields(&mut v, &SERVER_METADATA);
    v
}

fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sort_keys(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// kubectl's Secret masking: every `data`/`stringData` value becomes `***`; a key present on both sides
/// with different values becomes `*** (before)` / `*** (after)` so the change stays visible.
pub fn mask_secrets(live: &mut Option<Value>, merged: &mut Option<Value>) {
    let is_secret = |v: &Option<Value>| {
        v.as_ref()
            .is_some_and(|v| v["apiVersion"] == "v1" && v["kind"] == "Secret")
    };
    if !is_secret(live) && !is_secret(merged) {
        return;
    }
    for field in ["data", "stringData"] {
        let before = live.as_ref().and_then(|v| v[field].as_object().cloned());
        let after = merged.as_ref().and_then(|v| v[field].as_object().cloned());
        if let (Some(v), Some(map)) = (live.as_mut(), &before) {
            v[field] = Value::Object(masked(map, after.as_ref(), "before"));
        }
        if let (Some(v), Some(map)) = (merged.as_mut(), &after) {
            v[field] = Value::Object(masked(map, before.as_ref(), "after"));
        }
    }
}

fn masked(
    side: &serde_json::Map<String, Value>,
    other: Option<&serde_json::Map<String, Value>>,
    suffix: &str,
) -> serde_json::Map<String, Value> {
    side.iter()
        .map(|(k, v)| {
            let changed = other.and_then(|o| o.get(k)).is_some_and(|ov| ov != v);
            let text = if changed {
                format!("*** ({suffix})")
            } else {
                "***".to_string()
            };
            (k.clone(), Value::String(text))
        })
        .collect()
}

/// YAML of one side ("" when absent).
pub fn side_yaml(v: &Option<Value>) -> String {
    match v {
        Some(v) => emit::to_yaml(v).unwrap_or_default(),
        None => String::new(),
    }
}

/// The unified diff of all changed objects, one `diff -u -N live/… merged/…` section per object.
pub fn render(report: &DiffReport, color: bool) -> String {
    let mut out = String::new();
    for o in &report.objects {
        if o.change == Change::Unchanged {
            continue;
        }
        let (mut live, mut merged) = (o.live.clone(), o.merged.clone());
        mask_secrets(&mut live, &mut merged);
        let a = format!("live/{}", o.file_name);
        let b = format!("merged/{}", o.file_name);
        let text = emit::unified_diff(&side_yaml(&live), &side_yaml(&merged), &a, &b);
        out.push_str(&paint(&format!("diff -u -N {a} {b}\n"), "1", color));
        for line in text.lines() {
            let code = if line.starts_with("---") || line.starts_with("+++") {
                "1"
            } else if line.starts_with("@@") {
                "36"
            } else if line.starts_with('-') {
                "31"
            } else if line.starts_with('+') {
                "32"
            } else {
                ""
            };
            out.push_str(&paint(line, code, color && !code.is_empty()));
            out.push('\n');
        }
    }
    out
}

fn paint(s: &str, code: &str, color: bool) -> String {
    if color {
        let (body, nl) = match s.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (s, ""),
        };
        format!("\x1b[{code}m{body}\x1b[0m{nl}")
    } else {
        s.to_string()
    }
}

/// `KUBECTL_EXTERNAL_DIFF` as kubectl reads it: the first word is the program, further words are kept
/// only when they match `[A-Za-z0-9=-]+`.
pub fn external_diff_command(spec: &str) -> Option<(String, Vec<String>)> {
    let mut words = spec.split_whitespace();
    let program = words.next()?.to_string();
    let args = words
        .filter(|w| {
            w.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '=' || c == '-')
        })
        .map(str::to_string)
        .collect();
    Some((program, args))
}

/// Writes the LIVE and MERGED trees (one file per changed object, kubectl's names) under `root`.
pub fn write_trees(report: &DiffReport, root: &Path) -> std::io::Result<(PathBuf, PathBuf)> {
    let live_dir = root.join("LIVE");
    let merged_dir = root.join("MERGED");
    std::fs::create_dir_all(&live_dir)?;
    std::fs::create_dir_all(&merged_dir)?;
    for o in &report.objects {
        if o.change == Change::Unchanged {
            continue;
        }
        let (mut live, mut merged) = (o.live.clone(), o.merged.clone());
        mask_secrets(&mut live, &mut merged);
        if live.is_some() {
            std::fs::write(live_dir.join(&o.file_name), side_yaml(&live))?;
        }
        if merged.is_some() {
            std::fs::write(merged_dir.join(&o.file_name), side_yaml(&merged))?;
        }
    }
    Ok((live_dir, merged_dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comparable_strips_server_fields_and_sorts() {
        // `namespace` before `name` and server fields first: removing keys must not reorder the rest
        // (serde_json's `remove` swaps with the last key under preserve_order).
        let v = json!({"kind": "Task", "apiVersion": "tekton.dev/v1", "status": {"x": 1},
            "metadata": {"uid": "u", "namespace": "n", "name": "a", "resourceVersion": "5", "generation": 2,
                "creationTimestamp": "t", "managedFields": [], "labels": {"b": "1", "a": "2"}},
            "spec": {"steps": [{"name": "s", "image": "i"}]}});
        let c = comparable(&v);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"apiVersion":"tekton.dev/v1","kind":"Task","metadata":{"labels":{"a":"2","b":"1"},"name":"a","namespace":"n"},"spec":{"steps":[{"image":"i","name":"s"}]}}"#
        );
    }

    #[test]
    fn secrets_are_masked_like_kubectl() {
        let secret = |data: Value| json!({"apiVersion": "v1", "kind": "Secret", "data": data});
        let mut live = Some(secret(
            json!({"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}),
        ));
        let mut merged = Some(secret(
            json!({"same": "YQ==", "changed": "ZA==", "new": "ZQ=="}),
        ));
        mask_secrets(&mut live, &mut merged);
        assert_eq!(
            live.unwrap()["data"],
            json!({"same": "***", "changed": "*** (before)", "gone": "***"})
        );
        assert_eq!(
            merged.unwrap()["data"],
            json!({"same": "***", "changed": "*** (after)", "new": "***"})
        );
        // other kinds are untouched
        let mut cm = Some(json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}}));
        mask_secrets(&mut cm, &mut None);
        assert_eq!(cm.unwrap()["data"]["a"], "b");
    }

    #[test]
    fn external_diff_arguments_follow_kubectl() {
        assert_eq!(
            external_diff_command("colordiff -N -u --label=x y$ $(rm)"),
            Some((
                "colordiff".into(),
                vec!["-N".into(), "-u".into(), "--label=x".into()]
            ))
        );
        assert_eq!(external_diff_command("  "), None);
    }

    fn od(change: Change, live: Option<Value>, merged: Option<Value>) -> ObjectDiff {
        ObjectDiff {
            display: "task.tekton.dev/a".into(),
            namespace: "demo".into(),
            file_name: "tekton.dev.v1.Task.demo.a".into(),
            change,
            live,
            merged,
            note: None,
        }
    }

    #[test]
    fn render_new_changed_pruned_and_skips_unchanged() {
        let a = json!({"kind": "Task", "spec": {"x": "1"}});
        let b = json!({"kind": "Task", "spec": {"x": "2"}});
        let report = DiffReport {
            objects: vec![
                od(Change::Unchanged, Some(a.clone()), Some(a.clone())),
                od(Change::Update, Some(a.clone()), Some(b.clone())),
                od(Change::Create, None, Some(b.clone())),
                od(Change::Prune, Some(a.clone()), None),
            ],
            errors: vec![],
        };
        let out = render(&report, false);
        assert_eq!(
            out.matches(
                "diff -u -N live/tekton.dev.v1.Task.demo.a merged/tekton.dev.v1.Task.demo.a\n"
            )
            .count(),
            3,
            "{out}"
        );
        assert!(out.contains("-  x: \"1\"\n+  x: \"2\"\n"), "{out}");
        assert!(out.contains("@@ -0,0 +1,3 @@\n+kind: Task\n"), "{out}");
        assert!(out.contains("@@ -1,3 +0,0 @@\n-kind: Task\n"), "{out}");
        let colored = render(&report, true);
        assert!(colored.contains("\x1b[31m-  x: \"1\"\x1b[0m"), "{colored}");
    }
}
