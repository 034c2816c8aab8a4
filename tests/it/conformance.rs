//! Conformance of the model with Tekton itself, using the shared corpus (`../shared/corpus`, present
//! only in the tekscript workspace; the tests print a reason and pass when it is absent):
//!
//! 1. every Task, Pipeline, TaskRun, PipelineRun and StepAction document of Tekton's `examples/v1`
//!    deserializes into the model and serializes back to the same JSON value;
//! 2. every such document, as re-serialized from the model, validates against its CRD's
//!    openAPIV3Schema (see [`crate::openapi`]);
//! 3. a "maximal" document generated from each CRD schema (every property the schema lists, outside
//!    schemaless parts) round-trips too, so a field the model lacks cannot go unnoticed.
//!
//! Failures are collected and reported together: file, document index (0-based, among the file's
//! non-empty documents), kind/name and the first differing JSON path.

use crate::openapi;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use tekscript::bundle::Resource;

const KINDS: [&str; 5] = ["Task", "Pipeline", "TaskRun", "PipelineRun", "StepAction"];

fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipping: ../shared/corpus not found (only present in the tekscript workspace)");
        None
    }
}

/// One Tekton document of the corpus.
struct Doc {
    /// Path relative to the corpus directory.
    file: String,
    /// 0-based, among the file's non-empty documents.
    index: usize,
    value: Value,
}

impl Doc {
    fn label(&self) -> String {
        let m = &self.value["metadata"];
        let name = match (m["name"].as_str(), m["generateName"].as_str()) {
            (Some(n), _) => n.to_string(),
            (None, Some(g)) => format!("{g}*"),
            _ => String::new(),
        };
        format!(
            "{} #{} {}/{}",
            self.file,
            self.index,
            self.value["kind"].as_str().unwrap_or("?"),
            name
        )
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
}

/// Every document of a kind in [`KINDS`] under `corpus/tekton-examples`, in path order.
fn tekton_documents(corpus: &Path) -> Vec<Doc> {
    let mut files = Vec::new();
    yaml_files(&corpus.join("tekton-examples"), &mut files);
    let mut docs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let values: Vec<Value> =
            serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let file = f.strip_prefix(corpus).unwrap_or(&f).display().to_string();
        for (index, value) in values.into_iter().enumerate() {
            if KINDS.iter().any(|k| value["kind"] == *k) {
                docs.push(Doc {
                    file: file.clone(),
                    index,
                    value,
                });
            }
        }
    }
    docs
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The first place where `got` differs from `want`, as `path: what`.
fn first_diff(want: &Value, got: &Value, path: &str) -> Option<String> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    None => return Some(format!("{}: dropped (was {})", join(path, k), short(wv))),
                    Some(gv) => {
                        if let Some(d) = first_diff(wv, gv, &join(path, k)) {
                            return Some(d);
                        }
                    }
                }
            }
            g.iter()
                .find(|(k, _)| !w.contains_key(*k))
                .map(|(k, gv)| format!("{}: added ({})", join(path, k), short(gv)))
        }
        (Value::Array(w), Value::Array(g)) => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                if let Some(d) = first_diff(wv, gv, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (w.len() != g.len()).then(|| format!("{path}: {} items became {}", w.len(), g.len()))
        }
        _ if want == got => None,
        _ => Some(format!(
            "{}: {} became {}",
            if path.is_empty() { "<root>" } else { path },
            short(want),
            short(got)
        )),
    }
}

/// Every place where `got` differs from `want` (see [`first_diff`]).
fn all_diffs(want: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    None => out.push(format!("{}: dropped (was {})", join(path, k), short(wv))),
                    Some(gv) => all_diffs(wv, gv, &join(path, k), out),
                }
            }
            for (k, gv) in g.iter().filter(|(k, _)| !w.contains_key(*k)) {
                out.push(format!("{}: added ({})", join(path, k), short(gv)));
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                all_diffs(wv, gv, &format!("{path}[{i}]"), out);
            }
        }
        _ => out.extend(first_diff(want, got, path)),
    }
}

/// The documented, minimal normalisation of a corpus document before comparing it with its round
/// trip: YAML numbers and booleans in param values (`params[].value`, `params[].default`,
/// `results[].value`, and items/entries below them) become strings, because Tekton's `ParamValue`
/// decoder turns them into strings and the model mirrors that. In the corpus this affects one
/// value: `default: true` in `taskruns/alpha/produce-consume-artifacts.yaml`.
fn normalize(v: &Value, path: &[&str]) -> Value {
    let in_param_value = (2..path.len()).any(|i| {
        matches!(path[i], "value" | "default")
            && path[i - 1] == "[]"
            && matches!(path[i - 2], "params" | "results")
    });
    match v {
        Value::Number(n) if in_param_value => Value::String(n.to_string()),
        Value::Bool(b) if in_param_value => Value::String(b.to_string()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let mut p = path.to_vec();
                    p.push(k);
                    (k.clone(), normalize(x, &p))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| {
                    let mut p = path.to_vec();
                    p.push("[]");
                    normalize(x, &p)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Keys the corpus spells in a case Tekton accepts but the model does not, and the spelling the
/// model wants. Go's `encoding/json` matches field names case-insensitively, so in the schemaless
/// parts the Tekton webhook decodes (embedded `taskSpec`/`pipelineSpec`) `mountpath` works as
/// `mountPath`; the model is deliberately case-sensitive and reports such keys as unknown fields.
/// Only `pipelineruns/beta/isolated-workspaces.yaml` needs this.
const CASE_FIXES: &[(&str, &str)] = &[("mountpath", "mountPath")];

/// The corpus document as the model should read it: [`CASE_FIXES`] applied.
fn fix_case(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let k = CASE_FIXES
                        .iter()
                        .find(|(from, _)| from == k)
                        .map_or(k.as_str(), |(_, to)| to);
                    (k.to_string(), fix_case(x))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(fix_case).collect()),
        other => other.clone(),
    }
}

/// What Tekton's mutating webhook adds before the API server checks the CRD schema, as far as the
/// schema cares (reference §5/§6): `name: ""` on unnamed steps and sidecars of a Task's spec (the
/// schema requires the key; embedded specs are schemaless) and `mountPath: ""` on their workspaces.
fn webhook_defaults(mut doc: Value) -> Value {
    if doc["kind"] != "Task" {
        return doc;
    }
    // (`get_mut`, not `[]`: indexing a `Value` mutably inserts `null` for a missing key.)
    for list in ["steps", "sidecars"] {
        let containers = doc
            .get_mut("spec")
            .and_then(|s| s.get_mut(list))
            .and_then(Value::as_array_mut);
        for c in containers.into_iter().flatten() {
            if c.get("name").is_none() {
                c["name"] = json!("");
            }
            for w in c
                .get_mut("workspaces")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if w.get("mountPath").is_none() {
                    w["mountPath"] = json!("");
                }
            }
        }
    }
    doc
}

#[test]
fn corpus_round_trips_through_the_model() {
    let Some(corpus) = corpus_dir() else { return };
    let docs = tekton_documents(&corpus);
    let mut failures = Vec::new();
    for d in &docs {
        let input = fix_case(&d.value);
        match Resource::from_json(input.clone()) {
            Err(e) => failures.push(format!("{}: does not deserialize: {e}", d.label())),
            Ok(r) => {
                let want = normalize(&input, &[]);
                if let Some(diff) = first_diff(&want, &r.to_json(), "") {
                    failures.push(format!("{}: {diff}", d.label()));
                }
            }
        }
    }
    println!(
        "round trip: {} corpus documents checked, {} failed",
        docs.len(),
        failures.len()
    );
    assert!(
        docs.len() >= 250,
        "expected the whole corpus, found {} documents",
        docs.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} corpus documents do not round-trip:\n{}",
        failures.len(),
        docs.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_validates_against_crd_schemas_after_round_trip() {
    let Some(corpus) = corpus_dir() else { return };
    let docs = tekton_documents(&corpus);
    let mut failures = Vec::new();
    for d in &docs {
        let Ok(r) = Resource::from_json(fix_case(&d.value)) else {
            failures.push(format!(
                "{}: does not deserialize (see the round-trip test)",
                d.label()
            ));
            continue;
        };
        if let Err(problems) = openapi::validate_document(&webhook_defaults(r.to_json())) {
            failures.push(format!("{}: {}", d.label(), problems.join("; ")));
        }
    }
    println!(
        "schema validation: {} corpus documents checked, {} failed",
        docs.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} corpus documents fail their CRD schema:\n{}",
        failures.len(),
        docs.len(),
        failures.join("\n")
    );
}

/// A value for every property `schema` lists (outside schemaless parts, which get a string when
/// required and are left out otherwise); `None` to leave the field out.
fn maximal(schema: &Value, name: &str) -> Option<Value> {
    let ty = schema.get("type").and_then(Value::as_str);
    if schema.get("pattern").is_some() {
        // Resource quantities (the only pattern in Tekton's CRDs); k8s-openapi keeps them as strings.
        return Some(json!("1"));
    }
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        return Some(json!(1));
    }
    Some(match ty {
        None => return None,
        Some("object") => {
            let mut m = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                for (k, s) in props {
                    match maximal(s, k) {
                        Some(v) => {
                            m.insert(k.clone(), v);
                        }
                        None if required.contains(&k.as_str()) => {
                            m.insert(k.clone(), json!("x"));
                        }
                        None => {}
                    }
                }
            } else if let Some(s) = schema.get("additionalProperties").filter(|s| s.is_object())
                && let Some(v) = maximal(s, "")
            {
                m.insert("key".into(), v);
            }
            Value::Object(m)
        }
        Some("array") => Value::Array(maximal(&schema["items"], name).into_iter().collect()),
        Some("integer") => json!(1),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        Some(_) if schema.get("format").and_then(Value::as_str) == Some("date-time") => {
            json!("2024-01-01T00:00:00Z")
        }
        // Tekton param/result types are an enum.
        Some(_) if name == "type" => json!("string"),
        Some(_) => json!("x"),
    })
}

/// Kubernetes fields the CRDs have that k8s-openapi 0.29's newest (`v1_34`) types lack, so they are
/// dropped on deserialization: `podCertificate.userAnnotations` arrived in Kubernetes 1.35.
const KNOWN_K8S_GAPS: &[&str] = &["podCertificate.userAnnotations"];

#[test]
fn every_crd_field_exists_in_the_model() {
    if corpus_dir().is_none() {
        return;
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for (kind, api_version) in [
        ("Task", "tekton.dev/v1"),
        ("Pipeline", "tekton.dev/v1"),
        ("TaskRun", "tekton.dev/v1"),
        ("PipelineRun", "tekton.dev/v1"),
        ("StepAction", "tekton.dev/v1beta1"),
        ("StepAction", "tekton.dev/v1alpha1"),
    ] {
        let schema = openapi::crd_schema(kind, api_version)
            .unwrap_or_else(|| panic!("no CRD schema for {kind} {api_version}"));
        let mut doc =
            json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "maximal"}});
        doc["spec"] = maximal(&schema["properties"]["spec"], "spec").expect("spec schema");
        checked += 1;
        if let Err(p) = openapi::validate_document(&doc) {
            failures.push(format!(
                "{kind} {api_version}: generated document is invalid: {}",
                p.join("; ")
            ));
            continue;
        }
        match Resource::from_json(doc.clone()) {
            Err(e) => failures.push(format!("{kind} {api_version}: {e}")),
            Ok(r) => {
                let mut diffs = Vec::new();
                all_diffs(&doc, &r.to_json(), "", &mut diffs);
                for d in diffs {
                    let path = d.split(": ").next().unwrap_or_default();
                    match KNOWN_K8S_GAPS.iter().find(|g| path.ends_with(*g)) {
                        Some(g) => {
                            println!("known k8s-openapi gap ({g}): {kind} {api_version}: {d}")
                        }
                        None => failures.push(format!("{kind} {api_version}: {d}")),
                    }
                }
            }
        }
    }
    println!(
        "maximal documents: {checked} checked, {} failed",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "the model misses CRD fields:\n{}",
        failures.join("\n")
    );
}

#[test]
fn from_json_dispatches_on_kind_and_names_the_field() {
    let task = json!({"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t"},
        "spec": {"steps": [{"name": "s", "image": "alpine"}]}});
    let r = Resource::from_json(task.clone()).unwrap();
    assert_eq!(r.kind(), "Task");
    assert_eq!(r.to_json(), task);

    let e = Resource::from_json(json!({"apiVersion": "v1", "kind": "ConfigMap"})).unwrap_err();
    assert!(e.contains("\"ConfigMap\""), "{e}");
    let e = Resource::from_json(json!({"apiVersion": "v1"})).unwrap_err();
    assert!(e.starts_with("kind: "), "{e}");
    let e = Resource::from_json(json!({"apiVersion": "tekton.dev/v1", "kind": "Pipeline",
        "spec": {"tasks": [{"name": "a", "taskRef": {"name": "t"}, "runafter": ["b"]}]}}))
    .unwrap_err();
    assert!(
        e.starts_with("spec.tasks[0].runafter: unknown field `runafter`"),
        "{e}"
    );
}
