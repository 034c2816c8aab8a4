//! Tekton YAML in: existing `.yaml` files become a [`Bundle`] so `tekscript check` can lint what teams have
//! today. v1beta1 objects are converted to v1 the way Tekton's conversion webhook does for the fields that
//! were renamed; positions of every node are kept, so diagnostics point at `file:line:column`.

pub mod defaults;
pub mod script;

use crate::bundle::{Bundle, Object, Origins, Resource};
use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics};
use crate::emit::yaml::parse_documents_with_positions;
use crate::model;
use crate::source::{FileId, SourceMap};
use serde_json::{Map, Value};

/// Kinds that tekscript checks; other kinds in a file (ConfigMap, Secret, …) are skipped.
const KINDS: &[&str] = &["Task", "Pipeline", "TaskRun", "PipelineRun", "StepAction"];

/// Parses one YAML file (already added to `sources` as `file`) into a bundle. Returns the bundle and the
/// number of documents skipped because they are not Tekton objects tekscript checks.
///
/// Warnings (for instance a field spelled in the wrong case, which Tekton's Go decoder accepts) are
/// returned with the bundle.
pub fn parse_file(
    sources: &SourceMap,
    file: FileId,
) -> Result<(Bundle, usize, Diagnostics), Diagnostics> {
    let src = sources.get(file);
    let docs = parse_documents_with_positions(&src.text).map_err(|e| {
        let span = sources.span_at(file, e.line, e.column);
        Diagnostics(vec![
            Diagnostic::error(codes::E901, format!("invalid YAML: {}", e.message))
                .at(Some(span))
                .label("here"),
        ])
    })?;
    let mut bundle = Bundle::default();
    let mut skipped = 0;
    let mut diags = Diagnostics::default();
    let mut warnings = Diagnostics::default();
    for (value, positions) in docs {
        let span_of = |path: &str| {
            let mut p = path.to_string();
            loop {
                if let Some((l, c)) = positions.get(&p) {
                    return Some(sources.span_at(file, *l, *c));
                }
                if p.is_empty() {
                    return None;
                }
                p = crate::bundle::parent_path(&p).to_string();
            }
        };
        let api_version = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let kind = value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !api_version.starts_with("tekton.dev/") || !KINDS.contains(&kind.as_str()) {
            skipped += 1;
            continue;
        }
        let value = if api_version == "tekton.dev/v1beta1" && kind != "StepAction" {
            v1beta1_to_v1(value)
        } else {
            value
        };
        // Go's encoding/json matches field names case-insensitively, so Tekton accepts `mountpath`;
        // accept it too, with a warning, by renaming the key and trying again.
        let mut value = value;
        let mut result = resource(&value);
        for _ in 0..100 {
            let Err((path, msg)) = &result else { break };
            let Some((key, expected)) = unknown_field(msg) else {
                break;
            };
            let Some(fixed) = expected.iter().find(|e| e.eq_ignore_ascii_case(&key)) else {
                break;
            };
            if !rename_key(&mut value, path, &key, fixed) {
                break;
            }
            warnings.push(
                Diagnostic::warning(
                    codes::W901,
                    format!("field `{key}` should be spelled `{fixed}`"),
                )
                .at(span_of(path))
                .help(format!(
                    "Tekton accepts it (Go matches field names ignoring case), but other tools may not; write `{fixed}`"
                )),
            );
            result = resource(&value);
        }
        match result {
            Ok(resource) => {
                let mut origins = Origins::new();
                for (path, (l, c)) in &positions {
                    origins.insert(path.clone(), sources.span_at(file, *l, *c));
                }
                bundle.objects.push(Object { resource, origins });
            }
            Err((path, msg)) => {
                let name = value
                    .pointer("/metadata/name")
                    .or_else(|| value.pointer("/metadata/generateName"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let mut d = match unknown_field(&msg) {
                    Some((key, expected)) => {
                        let d = Diagnostic::error(
                            codes::E004,
                            format!("unknown field `{key}` in {kind} `{name}`"),
                        )
                        .label("not a field here");
                        match crate::diag::suggest::did_you_mean(
                            &key,
                            expected.iter().map(String::as_str),
                        ) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help(format!("the fields here are: {}", expected.join(", "))),
                        }
                    }
                    None => Diagnostic::error(codes::E003, format!("{kind} `{name}`: {msg}")),
                };
                // point at the key (`imagee:`), which is on the line of its value
                let span = span_of(&path).map(|s| {
                    let key = path.rsplit('.').next().unwrap_or("");
                    let text = &sources.get(file).text;
                    let line_start = text[..s.start].rfind('\n').map_or(0, |i| i + 1);
                    match text[line_start..s.start].find(key) {
                        Some(i) if !key.is_empty() => crate::source::Span::new(
                            file,
                            line_start + i,
                            line_start + i + key.len(),
                        ),
                        _ => s,
                    }
                });
                d = d.at(span).path(format!("{kind}/{name}: {path}"));
                diags.push(d);
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok((bundle, skipped, warnings))
}

/// Renames `key` to `to` in the map at the parent of `path` (`spec.steps[0].mountpath`).
fn rename_key(value: &mut Value, path: &str, key: &str, to: &str) -> bool {
    let parent = crate::bundle::parent_path(path);
    let mut cur = value;
    let mut rest = parent;
    while !rest.is_empty() {
        let (seg, tail) = match rest.find(['.', '[']) {
            Some(0) => {
                // `[i]`
                let end = match rest.find(']') {
                    Some(e) => e,
                    None => return false,
                };
                let Ok(i) = rest[1..end].parse::<usize>() else {
                    return false;
                };
                let Some(next) = cur.get_mut(i) else {
                    return false;
                };
                cur = next;
                rest = rest[end + 1..].trim_start_matches('.');
                continue;
            }
            Some(i) => (&rest[..i], rest[i..].trim_start_matches('.')),
            None => (rest, ""),
        };
        let Some(next) = cur.get_mut(seg) else {
            return false;
        };
        cur = next;
        rest = tail;
    }
    match cur.as_object_mut() {
        Some(m) if m.contains_key(key) && !m.contains_key(to) => {
            let v = m.remove(key).expect("present");
            m.insert(to.to_string(), v);
            true
        }
        _ => false,
    }
}

/// serde's "unknown field `x`, expected one of `a`, `b`" → (`x`, [a, b]).
fn unknown_field(msg: &str) -> Option<(String, Vec<String>)> {
    let rest = msg.strip_prefix("unknown field `")?;
    let key = rest.split('`').next()?.to_string();
    let expected = rest
        .split("expected one of ")
        .nth(1)
        .or_else(|| rest.split("expected ").nth(1))
        .map(|l| {
            l.split([',', ' '])
                .filter(|s| *s != "or")
                .map(|s| s.trim().trim_matches('`').to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Some((key, expected))
}

/// Deserializes a document into the model; on failure the field path and serde's message.
fn resource(value: &Value) -> Result<Resource, (String, String)> {
    fn de<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, (String, String)> {
        serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            (path, e.into_inner().to_string())
        })
    }
    match value.get("kind").and_then(Value::as_str) {
        Some("Task") => de::<model::Task>(value).map(Resource::Task),
        Some("Pipeline") => de::<model::Pipeline>(value).map(Resource::Pipeline),
        Some("TaskRun") => de::<model::TaskRun>(value).map(Resource::TaskRun),
        Some("PipelineRun") => de::<model::PipelineRun>(value).map(Resource::PipelineRun),
        _ => de::<model::StepAction>(value).map(Resource::StepAction),
    }
}

/// The v1beta1 → v1 renames of Tekton's conversion webhook (docs/migrating-v1beta1-to-v1.md): step,
/// sidecar and stepTemplate `resources` → `computeResources`; PipelineRun `serviceAccountName`/`podTemplate`
/// → `taskRunTemplate`, `timeout` → `timeouts.pipeline`, `taskRunSpecs[].taskServiceAccountName`/
/// `taskPodTemplate` → `serviceAccountName`/`podTemplate`; `taskRef.bundle` → the bundles resolver;
/// `apiVersion` → `tekton.dev/v1`. (PipelineResources no longer exist in v1; a document that still uses
/// them is reported as an unknown field.)
pub fn v1beta1_to_v1(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("apiVersion".into(), Value::String("tekton.dev/v1".into()));
    }
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
        match kind.as_str() {
            "Task" => task_spec(spec),
            "Pipeline" => pipeline_spec(spec),
            "TaskRun" => {
                if let Some(ts) = spec.get_mut("taskSpec").and_then(Value::as_object_mut) {
                    task_spec(ts);
                }
                task_ref(spec.get_mut("taskRef"));
                rename(spec, "resources", "computeResources");
            }
            "PipelineRun" => {
                let mut template = Map::new();
                if let Some(sa) = spec.remove("serviceAccountName") {
                    template.insert("serviceAccountName".into(), sa);
                }
                if let Some(pt) = spec.remove("podTemplate") {
                    template.insert("podTemplate".into(), pt);
                }
                if !template.is_empty() {
                    spec.insert("taskRunTemplate".into(), Value::Object(template));
                }
                if let Some(t) = spec.remove("timeout") {
                    let timeouts = spec
                        .entry("timeouts")
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Some(m) = timeouts.as_object_mut() {
                        m.entry("pipeline").or_insert(t);
                    }
                }
                if let Some(ps) = spec.get_mut("pipelineSpec").and_then(Value::as_object_mut) {
                    pipeline_spec(ps);
                }
                // v1beta1 PipelineTaskRunSpec: taskServiceAccountName / taskPodTemplate
                if let Some(Value::Array(specs)) = spec.get_mut("taskRunSpecs") {
                    for s in specs.iter_mut().filter_map(Value::as_object_mut) {
                        rename(s, "taskServiceAccountName", "serviceAccountName");
                        rename(s, "taskPodTemplate", "podTemplate");
                    }
                }
                task_ref(spec.get_mut("pipelineRef"));
            }
            _ => {}
        }
    }
    v
}

fn rename(m: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(x) = m.remove(from) {
        m.insert(to.into(), x);
    }
}

fn task_spec(spec: &mut Map<String, Value>) {
    for list in ["steps", "sidecars"] {
        if let Some(Value::Array(items)) = spec.get_mut(list) {
            for s in items.iter_mut().filter_map(Value::as_object_mut) {
                rename(s, "resources", "computeResources");
            }
        }
    }
    if let Some(t) = spec.get_mut("stepTemplate").and_then(Value::as_object_mut) {
        rename(t, "resources", "computeResources");
    }
}

fn pipeline_spec(spec: &mut Map<String, Value>) {
    for list in ["tasks", "finally"] {
        if let Some(Value::Array(items)) = spec.get_mut(list) {
            for t in items.iter_mut().filter_map(Value::as_object_mut) {
                task_ref(t.get_mut("taskRef"));
                if let Some(ts) = t.get_mut("taskSpec").and_then(Value::as_object_mut) {
                    task_spec(ts);
                }
            }
        }
    }
}

/// `bundle: img` → `resolver: bundles` with params bundle/name/kind.
fn task_ref(r: Option<&mut Value>) {
    let Some(r) = r.and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(bundle) = r.remove("bundle") {
        let name = r.remove("name").unwrap_or(Value::String(String::new()));
        let kind = r
            .remove("kind")
            .and_then(|k| k.as_str().map(str::to_lowercase))
            .unwrap_or_else(|| "task".into());
        r.insert("resolver".into(), Value::String("bundles".into()));
        r.insert(
            "params".into(),
            serde_json::json!([
                { "name": "bundle", "value": bundle },
                { "name": "name", "value": name },
                { "name": "kind", "value": kind },
            ]),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_v1beta1_renames() {
        let v = v1beta1_to_v1(json!({
            "apiVersion": "tekton.dev/v1beta1", "kind": "PipelineRun",
            "metadata": {"name": "r"},
            "spec": {"serviceAccountName": "sa", "timeout": "1h0m0s",
                     "taskRunSpecs": [{"pipelineTaskName": "a", "taskServiceAccountName": "b"}],
                     "pipelineRef": {"name": "p", "bundle": "ghcr.io/x/y:1"}}
        }));
        assert_eq!(v["apiVersion"], "tekton.dev/v1");
        assert_eq!(v["spec"]["taskRunTemplate"]["serviceAccountName"], "sa");
        assert_eq!(v["spec"]["timeouts"]["pipeline"], "1h0m0s");
        assert_eq!(v["spec"]["pipelineRef"]["resolver"], "bundles");
        assert_eq!(v["spec"]["taskRunSpecs"][0]["serviceAccountName"], "b");
        let t = v1beta1_to_v1(json!({
            "apiVersion": "tekton.dev/v1beta1", "kind": "Task", "metadata": {"name": "t"},
            "spec": {"steps": [{"name": "s", "image": "x", "resources": {"limits": {"cpu": "1"}}}]}
        }));
        assert!(t["spec"]["steps"][0].get("computeResources").is_some());
    }

    #[test]
    fn wrong_case_fields_are_accepted_with_a_warning() {
        let mut sources = SourceMap::new();
        let f = sources.add(
            "t.yaml",
            "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  steps:\n  - name: s\n    image: alpine\n    workspaces:\n    - name: w\n      mountpath: /w\n",
        );
        let (b, _, warnings) = parse_file(&sources, f).unwrap();
        assert_eq!(b.objects.len(), 1);
        assert_eq!(warnings.0.len(), 1);
        assert_eq!(
            warnings.0[0].message,
            "field `mountpath` should be spelled `mountPath`"
        );
        let loc = sources.location(warnings.0[0].span.unwrap());
        assert_eq!(loc.line, 11);
    }

    #[test]
    fn yaml_errors_point_into_the_file() {
        let mut sources = SourceMap::new();
        let f = sources.add(
            "t.yaml",
            "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  steps:\n  - name: s\n    imagee: alpine\n",
        );
        let d = parse_file(&sources, f).unwrap_err();
        assert_eq!(d.0[0].code, codes::E004);
        let loc = sources.location(d.0[0].span.unwrap());
        assert_eq!((loc.line, loc.col), (8, 5), "{:?}", d.0[0]);
        assert_eq!(d.0[0].help, vec!["did you mean `image`?".to_string()]);
        let f2 = sources.add(
            "c.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        );
        let (b, skipped, _) = parse_file(&sources, f2).unwrap();
        assert_eq!((b.objects.len(), skipped), (0, 1));
    }
}
