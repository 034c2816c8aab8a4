//! Planning a run: choosing the PipelineRun to start (the script's own run, or one built from a pipeline),
//! checking `-p`/`-w` values against the pipeline's declared params and workspaces before anything is
//! started, `--embed` (a self-contained run: `pipelineSpec` with the script's Tasks inline as `taskSpec`).
//! Used by `run` on a cluster, `run --local` and `simulate`; plain functions, no I/O.

use crate::bundle::Resource;
use serde_json::{Map, Value, json};

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// `--pipeline NAME`: which pipeline (or that pipeline's run) to start.
    pub pipeline: Option<String>,
    /// `-p name=value`, in order (later ones win).
    pub params: Vec<String>,
    /// `-w name=BINDING`, in order (later ones win).
    pub workspaces: Vec<String>,
    /// `--embed`: a self-contained run (`pipelineSpec`, local Tasks as `taskSpec`).
    pub embed: bool,
    /// `--pipeline-timeout`: `spec.timeouts.pipeline` (a Go duration, e.g. `10m`).
    pub pipeline_timeout: Option<String>,
    /// `--service-account`: `spec.taskRunTemplate.serviceAccountName`.
    pub service_account: Option<String>,
}

/// The run to create.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPlan {
    /// The PipelineRun (apiVersion, kind, metadata with `generateName` or `name`, spec).
    pub body: Value,
    /// The pipeline's name (for messages), when known.
    pub pipeline: Option<String>,
    /// `pipelineSpec` inline: nothing but StepActions has to be applied first.
    pub self_contained: bool,
}

/// Parses a Go duration (`90s`, `5m`, `1h30m`) into a [`std::time::Duration`].
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let nanos = crate::model::duration::parse_duration(s.trim())?;
    if nanos < 0 {
        return Err(format!("{s:?}: a duration cannot be negative"));
    }
    Ok(std::time::Duration::from_nanos(nanos as u64))
}

fn names(v: &[&str]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// Chooses the run for `req` among the compiled objects and fills in params, workspaces and timeouts.
/// Every problem found is reported (one per line) before anything is sent.
pub fn plan_run<'a>(
    objects: impl IntoIterator<Item = &'a Resource>,
    req: &RunRequest,
) -> Result<RunPlan, String> {
    let objects: Vec<Value> = objects.into_iter().map(Resource::to_json).collect();
    let of_kind = |k: &str| -> Vec<&Value> { objects.iter().filter(|o| o["kind"] == k).collect() };
    let name_of = |o: &Value| {
        o["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let pipelines = of_kind("Pipeline");
    let runs = of_kind("PipelineRun");
    let pipeline_names: Vec<String> = pipelines.iter().map(|p| name_of(p)).collect();
    let run_pipeline = |r: &Value| -> Option<String> {
        r["spec"]["pipelineRef"]["name"]
            .as_str()
            .map(str::to_string)
            .or_else(|| {
                r["metadata"]["labels"]["tekton.dev/pipeline"]
                    .as_str()
                    .map(str::to_string)
            })
    };
    let run_label = |r: &Value| -> String {
        let m = &r["metadata"];
        m["name"]
            .as_str()
            .map(str::to_string)
            .or_else(|| m["generateName"].as_str().map(|g| format!("{g}*")))
            .unwrap_or_default()
    };

    // The run the script defines, if any, for the requested pipeline.
    let chosen_run: Option<&Value> = match &req.pipeline {
        Some(p) => {
            let matching: Vec<&Value> = runs
                .iter()
                .copied()
                .filter(|r| run_pipeline(r).as_deref() == Some(p.as_str()))
                .collect();
            if matching.len() > 1 {
                return Err(format!(
                    "the script emits {} PipelineRuns of pipeline {p:?} ({}); a run starts one of them, so remove the others or emit them from separate scripts",
                    matching.len(),
                    matching
                        .iter()
                        .map(|r| run_label(r))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if matching.is_empty() && !pipeline_names.iter().any(|n| n == p) {
                let known: Vec<&str> = pipeline_names.iter().map(String::as_str).collect();
                return Err(format!(
                    "the script has no pipeline {p:?} (pipelines: {})",
                    names(&known)
                ));
            }
            matching.first().copied()
        }
        None => match runs.as_slice() {
            [one] => Some(*one),
            [] => None,
            many => {
                let labels: Vec<String> = many
                    .iter()
                    .map(|r| match run_pipeline(r) {
                        Some(p) => format!("{} (pipeline {p})", run_label(r)),
                        None => run_label(r),
                    })
                    .collect();
                return Err(format!(
                    "the script emits {} PipelineRuns: {}; choose one with --pipeline NAME",
                    many.len(),
                    labels.join(", ")
                ));
            }
        },
    };
    let pipeline_name: Option<String> = match (chosen_run, &req.pipeline) {
        (Some(r), _) => run_pipeline(r),
        (None, Some(p)) => Some(p.clone()),
        (None, None) => match pipeline_names.as_slice() {
            [one] => Some(one.clone()),
            [] => {
                return Err(
                    "the script emits no PipelineRun and no Pipeline: nothing to run \
                     (runs and simulations start from a PipelineRun: emit a pipeline, or `emit(p.run())`)"
                        .into(),
                );
            }
            many => {
                return Err(format!(
                    "the script emits {} pipelines and no PipelineRun: choose one with --pipeline NAME ({})",
                    many.len(),
                    many.join(", ")
                ));
            }
        },
    };
    let pipeline: Option<&Value> = pipeline_name
        .as_ref()
        .and_then(|n| pipelines.iter().copied().find(|p| &name_of(p) == n));

    let mut body = match chosen_run {
        Some(r) => r.clone(),
        None => {
            let name = pipeline_name.clone().unwrap_or_default();
            json!({
                "apiVersion": "tekton.dev/v1",
                "kind": "PipelineRun",
                "metadata": {"generateName": format!("{name}-run-")},
                "spec": {"pipelineRef": {"name": name}},
            })
        }
    };
    if body["metadata"]["name"].is_null() && body["metadata"]["generateName"].is_null() {
        let prefix = format!("{}-run-", pipeline_name.as_deref().unwrap_or("pipeline"));
        body["metadata"]["generateName"] = prefix.into();
    }

    // The pipeline's declarations: from the script's Pipeline, or the run's own pipelineSpec.
    let spec: Option<Value> = body["spec"]
        .get("pipelineSpec")
        .cloned()
        .or_else(|| pipeline.map(|p| p["spec"].clone()));
    let mut problems = Vec::new();
    set_params(&mut body, spec.as_ref(), &req.params, &mut problems);
    set_workspaces(&mut body, spec.as_ref(), &req.workspaces, &mut problems);
    if let Some(t) = &req.pipeline_timeout {
        match crate::model::duration::canonical_duration(t) {
            Ok(c) => body["spec"]["timeouts"]["pipeline"] = c.into(),
            Err(e) => problems.push(format!("--pipeline-timeout {t:?}: {e}")),
        }
    }
    if let Some(sa) = &req.service_account {
        body["spec"]["taskRunTemplate"]["serviceAccountName"] = sa.clone().into();
    }
    if spec.is_none() && (!req.params.is_empty() || !req.workspaces.is_empty()) {
        problems.push(format!(
            "pipeline {:?} is not defined in the script, so -p/-w values cannot be checked; \
             define it in the script or leave -p/-w out",
            pipeline_name.as_deref().unwrap_or_default()
        ));
    }
    if req.embed && body["spec"].get("pipelineSpec").is_none() {
        match pipeline {
            Some(p) => {
                let tasks: Vec<&Value> = of_kind("Task");
                let mut inline = p["spec"].clone();
                embed_tasks(&mut inline, &tasks);
                let spec = body["spec"].as_object_mut().expect("runs have a spec");
                spec.remove("pipelineRef");
                let mut new_spec = Map::new();
                new_spec.insert("pipelineSpec".into(), inline);
                new_spec.append(spec);
                *spec = new_spec;
            }
            None => problems.push(format!(
                "--embed: pipeline {:?} is not defined in the script, so it cannot be put inline",
                pipeline_name.as_deref().unwrap_or_default()
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let self_contained = body["spec"].get("pipelineSpec").is_some();
    Ok(RunPlan {
        body,
        pipeline: pipeline_name,
        self_contained,
    })
}

/// Replaces `taskRef: {name}` of the script's own Tasks by their spec (`taskSpec`), in `tasks` and `finally`.
fn embed_tasks(pipeline_spec: &mut Value, tasks: &[&Value]) {
    for list in ["tasks", "finally"] {
        let Some(items) = pipeline_spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for pt in items {
            let Some(r) = pt.get("taskRef") else { continue };
            let Ok(r) = serde_json::from_value::<crate::model::TaskRef>(r.clone()) else {
                continue;
            };
            let Some(name) = r.local_name().filter(|_| r.params.is_empty()) else {
                continue;
            };
            let Some(task) = tasks
                .iter()
                .find(|t| t["metadata"]["name"].as_str() == Some(name))
            else {
                continue;
            };
            if let Some(obj) = pt.as_object_mut() {
                // keep the key order: taskSpec where taskRef was
                let mut out = Map::new();
                for (k, v) in std::mem::take(obj) {
                    if k == "taskRef" {
                        out.insert("taskSpec".into(), task["spec"].clone());
                    } else {
                        out.insert(k, v);
                    }
                }
                *obj = out;
            }
        }
    }
}

/// The declared type of a param: `type`, else inferred from its default (as Tekton does), else string.
fn param_type(decl: &Value) -> &str {
    match decl.get("type").and_then(Value::as_str) {
        Some(t) => t,
        None => match decl.get("default") {
            Some(Value::Array(_)) => "array",
            Some(Value::Object(_)) => "object",
            _ => "string",
        },
    }
}

/// Parses one `-p` value for a param of type `ty`: arrays as `a,b,c` (like tkn) or a JSON array, objects
/// as `key:value,key2:value2` (like tkn) or a JSON object.
pub fn parse_param_value(ty: &str, raw: &str) -> Result<Value, String> {
    match ty {
        "array" => {
            if raw.trim_start().starts_with('[') {
                let v: Vec<String> = serde_json::from_str(raw)
                    .map_err(|e| format!("expected a JSON array of strings: {e}"))?;
                Ok(json!(v))
            } else if raw.is_empty() {
                Ok(json!([]))
            } else {
                Ok(json!(raw.split(',').collect::<Vec<_>>()))
            }
        }
        "object" => {
            if raw.trim_start().starts_with('{') {
                let v: std::collections::BTreeMap<String, String> = serde_json::from_str(raw)
                    .map_err(|e| format!("expected a JSON object of strings: {e}"))?;
                Ok(json!(v))
            } else {
                let mut m = Map::new();
                for part in raw.split(',').filter(|p| !p.trim().is_empty()) {
                    let Some((k, v)) = part.split_once(':') else {
                        return Err(format!(
                            "expected key:value pairs separated by commas (or a JSON object), found {part:?}"
                        ));
                    };
                    m.insert(k.trim().to_string(), v.trim().into());
                }
                Ok(Value::Object(m))
            }
        }
        _ => Ok(raw.into()),
    }
}

fn set_params(
    body: &mut Value,
    spec: Option<&Value>,
    given: &[String],
    problems: &mut Vec<String>,
) {
    let decls: Vec<Value> = spec
        .and_then(|s| s.get("params"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let declared: Vec<&str> = decls.iter().filter_map(|d| d["name"].as_str()).collect();
    let mut values: Vec<(String, Value)> = body["spec"]["params"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| Some((p["name"].as_str()?.to_string(), p["value"].clone())))
                .collect()
        })
        .unwrap_or_default();
    for arg in given {
        let Some((name, raw)) = arg.split_once('=') else {
            problems.push(format!("-p {arg:?}: expected name=value"));
            continue;
        };
        if spec.is_none() {
            continue; // reported once by the caller
        }
        let Some(decl) = decls.iter().find(|d| d["name"] == name) else {
            problems.push(format!(
                "-p {name}: the pipeline has no param {name:?} (params: {})",
                names(&declared)
            ));
            continue;
        };
        let ty = param_type(decl);
        let value = match parse_param_value(ty, raw) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("-p {name}: param {name:?} is an {ty}: {e}"));
                continue;
            }
        };
        if let (Some(allowed), Some(s)) =
            (decl.get("enum").and_then(Value::as_array), value.as_str())
            && !allowed.iter().any(|a| a == s)
        {
            let allowed: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
            problems.push(format!(
                "-p {name}: {s:?} is not one of the allowed values ({})",
                allowed.join(", ")
            ));
            continue;
        }
        if ty == "object"
            && let (Some(props), Some(obj)) = (
                decl.get("properties").and_then(Value::as_object),
                value.as_object(),
            )
        {
            let unknown: Vec<&str> = obj
                .keys()
                .filter(|k| !props.contains_key(*k))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                let known: Vec<&str> = props.keys().map(String::as_str).collect();
                problems.push(format!(
                    "-p {name}: unknown key(s) {} (the object's keys: {})",
                    unknown.join(", "),
                    names(&known)
                ));
                continue;
            }
        }
        match values.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => values.push((name.to_string(), value)),
        }
    }
    if spec.is_some() {
        let missing: Vec<&str> = decls
            .iter()
            .filter(|d| d.get("default").is_none())
            .filter_map(|d| d["name"].as_str())
            .filter(|n| !values.iter().any(|(v, _)| v == n))
            .collect();
        for m in &missing {
            problems.push(format!(
                "param {m:?} has no default and no value: give one with -p {m}=VALUE"
            ));
        }
        // object params without a default need every declared key
        for d in &decls {
            let (Some(name), Some(props)) = (
                d["name"].as_str(),
                d.get("properties").and_then(Value::as_object),
            ) else {
                continue;
            };
            if param_type(d) != "object" || d.get("default").is_some() {
                continue;
            }
            if let Some((_, Value::Object(obj))) = values.iter().find(|(n, _)| n == name) {
                let absent: Vec<&str> = props
                    .keys()
                    .filter(|k| !obj.contains_key(*k))
                    .map(String::as_str)
                    .collect();
                if !absent.is_empty() {
                    problems.push(format!(
                        "-p {name}: missing key(s) {} (param {name:?} has no default)",
                        absent.join(", ")
                    ));
                }
            }
        }
    }
    if !values.is_empty() {
        body["spec"]["params"] = Value::Array(
            values
                .into_iter()
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect(),
        );
    }
}

/// Parses one `-w` value into a workspace binding: `NAME=emptyDir`, `NAME=pvc:CLAIM`, `NAME=configMap:CM`,
/// `NAME=secret:SECRET`, `NAME=volumeClaimTemplate:SIZE` (ReadWriteOnce), each optionally followed by
/// `,subPath=DIR`; or tkn's form `name=NAME,emptyDir=` / `claimName=` / `config=` / `secret=`.
pub fn parse_workspace(arg: &str) -> Result<Value, String> {
    let mut name = None;
    let mut binding: Option<(String, Value)> = None;
    let mut sub_path = None;
    let parts: Vec<&str> = arg.split(',').collect();
    let mut set = |key: &str, value: Value| -> Result<(), String> {
        if binding.is_some() {
            return Err("more than one volume given".to_string());
        }
        binding = Some((key.to_string(), value));
        Ok(())
    };
    for (i, part) in parts.iter().enumerate() {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        match k.trim() {
            "name" => name = Some(v.to_string()),
            "emptyDir" => set("emptyDir", json!({}))?,
            "claimName" => set("persistentVolumeClaim", json!({"claimName": v}))?,
            "config" | "configMap" => set("configMap", json!({"name": v}))?,
            "secret" => set("secret", json!({"secretName": v}))?,
            "subPath" => sub_path = Some(v.to_string()),
            ws if i == 0 && !ws.is_empty() => {
                name = Some(ws.to_string());
                let (kind, what) = v.split_once(':').unwrap_or((v, ""));
                match kind {
                    "emptyDir" | "emptydir" => set("emptyDir", json!({}))?,
                    "pvc" => set("persistentVolumeClaim", json!({"claimName": what}))?,
                    "configMap" | "configmap" | "config" => {
                        set("configMap", json!({"name": what}))?
                    }
                    "secret" => set("secret", json!({"secretName": what}))?,
                    "volumeClaimTemplate" | "vct" => set(
                        "volumeClaimTemplate",
                        json!({"spec": {"accessModes": ["ReadWriteOnce"],
                                        "resources": {"requests": {"storage": if what.is_empty() { "1Gi" } else { what }}}}}),
                    )?,
                    other => {
                        return Err(format!(
                            "unknown binding {other:?}: use emptyDir, pvc:CLAIM, configMap:NAME, secret:NAME or \
                             volumeClaimTemplate:SIZE"
                        ));
                    }
                }
                if kind != "emptyDir"
                    && kind != "emptydir"
                    && what.is_empty()
                    && !kind.starts_with('v')
                {
                    return Err(format!("{kind}: a name is needed ({kind}:NAME)"));
                }
            }
            other => return Err(format!("unknown key {other:?}")),
        }
    }
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or("expected NAME=BINDING (e.g. source=emptyDir, source=pvc:my-claim)")?;
    let (key, value) = binding.ok_or_else(|| format!("workspace {name:?}: no volume given"))?;
    let mut out = json!({"name": name});
    out[key] = value;
    if let Some(s) = sub_path {
        out["subPath"] = s.into();
    }
    Ok(out)
}

fn set_workspaces(
    body: &mut Value,
    spec: Option<&Value>,
    given: &[String],
    problems: &mut Vec<String>,
) {
    let decls: Vec<Value> = spec
        .and_then(|s| s.get("workspaces"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let declared: Vec<&str> = decls.iter().filter_map(|d| d["name"].as_str()).collect();
    let mut bound: Vec<Value> = body["spec"]["workspaces"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for arg in given {
        let ws = match parse_workspace(arg) {
            Ok(w) => w,
            Err(e) => {
                problems.push(format!("-w {arg:?}: {e}"));
                continue;
            }
        };
        let name = ws["name"].as_str().unwrap_or_default().to_string();
        if spec.is_some() && !declared.contains(&name.as_str()) {
            problems.push(format!(
                "-w {name}: the pipeline has no workspace {name:?} (workspaces: {})",
                names(&declared)
            ));
            continue;
        }
        match bound.iter_mut().find(|b| b["name"] == name.as_str()) {
            Some(slot) => *slot = ws,
            None => bound.push(ws),
        }
    }
    if spec.is_some() {
        for d in &decls {
            let Some(n) = d["name"].as_str() else {
                continue;
            };
            let optional = d["optional"].as_bool().unwrap_or(false);
            if !optional && !bound.iter().any(|b| b["name"] == n) {
                problems.push(format!(
                    "workspace {n:?} is not bound: give it with -w {n}=emptyDir (or pvc:CLAIM, configMap:NAME, \
                     secret:NAME, volumeClaimTemplate:SIZE)"
                ));
            }
        }
    }
    if !bound.is_empty() {
        body["spec"]["workspaces"] = Value::Array(bound);
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn compile(src: &str) -> Vec<Resource> {
        let c = crate::compile_str("t.rhai", src, &crate::Options::default())
            .unwrap_or_else(|f| panic!("{}", f.render_plain()));
        c.bundle
            .bundle()
            .objects
            .iter()
            .map(|o| o.resource.clone())
            .collect()
    }

    const SCRIPT: &str = r#"
        let t = task("say").step("s", "alpine:3.20", "echo hi");
        let p = pipeline("greet");
        p.param("who");
        p.param("mode", #{ "default": "fast" });
        p.param("list", #{ type: "array", "default": ["a"] });
        p.param("obj", #{ properties: ["url", "rev"] });
        p.workspace("src");
        p.task("say", t);
        emit(p);
    "#;

    fn req(params: &[&str], ws: &[&str]) -> RunRequest {
        RunRequest {
            params: params.iter().map(|s| s.to_string()).collect(),
            workspaces: ws.iter().map(|s| s.to_string()).collect(),
            ..RunRequest::default()
        }
    }

    #[test]
    fn builds_a_run_from_the_pipeline_with_checked_values() {
        let objs = compile(SCRIPT);
        let plan = plan_run(
            &objs,
            &req(
                &["who=me", "list=x,y", "obj=url:http://h,rev:main"],
                &["src=emptyDir"],
            ),
        )
        .unwrap();
        assert_eq!(plan.pipeline.as_deref(), Some("greet"));
        assert_eq!(plan.body["metadata"]["generateName"], "greet-run-");
        assert_eq!(plan.body["spec"]["pipelineRef"]["name"], "greet");
        assert_eq!(
            plan.body["spec"]["params"],
            json!([{"name": "who", "value": "me"}, {"name": "list", "value": ["x", "y"]},
                   {"name": "obj", "value": {"url": "http://h", "rev": "main"}}])
        );
        assert_eq!(
            plan.body["spec"]["workspaces"],
            json!([{"name": "src", "emptyDir": {}}])
        );
        assert!(!plan.self_contained);
    }

    #[test]
    fn reports_every_problem_before_sending() {
        let objs = compile(SCRIPT);
        let err = plan_run(
            &objs,
            &req(&["whom=me", "list=[1", "obj=url"], &["cache=emptyDir"]),
        )
        .unwrap_err();
        let expected = [
            "-p whom: the pipeline has no param \"whom\" (params: who, mode, list, obj)",
            "-p list: param \"list\" is an array: expected a JSON array of strings:",
            "-p obj: param \"obj\" is an object: expected key:value pairs",
            "param \"who\" has no default and no value: give one with -p who=VALUE",
            "param \"obj\" has no default and no value",
            "-w cache: the pipeline has no workspace \"cache\" (workspaces: src)",
            "workspace \"src\" is not bound: give it with -w src=emptyDir",
        ];
        for e in expected {
            assert!(err.contains(e), "missing {e:?} in:\n{err}");
        }
        let err = plan_run(&objs, &req(&["who=a", "obj=url:x"], &["src=emptyDir"])).unwrap_err();
        assert_eq!(
            err,
            "-p obj: missing key(s) rev (param \"obj\" has no default)"
        );
    }

    #[test]
    fn the_scripts_run_is_used_and_overridden() {
        let objs = compile(
            r#"let t = task("say").step("s", "alpine:3.20", "echo hi");
            let p = pipeline("greet");
            p.param("who", #{ "default": "world" });
            p.task("say", t);
            emit(p.run(#{ params: #{ who: "script" }, timeout: "5m" }));"#,
        );
        let plan = plan_run(&objs, &req(&[], &[])).unwrap();
        assert_eq!(plan.body["spec"]["params"][0]["value"], "script");
        assert_eq!(plan.body["spec"]["timeouts"]["pipeline"], "5m0s");
        let plan = plan_run(&objs, &req(&["who=cli"], &[])).unwrap();
        assert_eq!(
            plan.body["spec"]["params"],
            json!([{"name": "who", "value": "cli"}])
        );
        let err = plan_run(
            &objs,
            &RunRequest {
                pipeline: Some("nope".into()),
                ..RunRequest::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            "the script has no pipeline \"nope\" (pipelines: greet)"
        );
    }

    #[test]
    fn embed_puts_tasks_inline() {
        let objs = compile(SCRIPT);
        let plan = plan_run(
            &objs,
            &RunRequest {
                embed: true,
                pipeline_timeout: Some("90s".into()),
                ..req(
                    &["who=x", "obj={\"url\":\"u\",\"rev\":\"r\"}"],
                    &["src=pvc:claim,subPath=a"],
                )
            },
        )
        .unwrap();
        assert!(plan.self_contained);
        let spec = &plan.body["spec"];
        assert!(spec.get("pipelineRef").is_none());
        assert_eq!(
            spec["pipelineSpec"]["tasks"][0]["taskSpec"]["steps"][0]["image"],
            "alpine:3.20"
        );
        assert!(spec["pipelineSpec"]["tasks"][0].get("taskRef").is_none());
        assert_eq!(spec["timeouts"]["pipeline"], "1m30s");
        assert_eq!(
            spec["workspaces"],
            json!([{"name": "src", "persistentVolumeClaim": {"claimName": "claim"}, "subPath": "a"}])
        );
    }

    #[test]
    fn workspace_forms() {
        assert_eq!(
            parse_workspace("name=ws,claimName=c").unwrap(),
            json!({"name": "ws", "persistentVolumeClaim": {"claimName": "c"}})
        );
        assert_eq!(
            parse_workspace("ws=configMap:cm").unwrap(),
            json!({"name": "ws", "configMap": {"name": "cm"}})
        );
        assert_eq!(
            parse_workspace("ws=secret:s").unwrap(),
            json!({"name": "ws", "secret": {"secretName": "s"}})
        );
        assert_eq!(
            parse_workspace("ws=vct:2Gi").unwrap()["volumeClaimTemplate"]["spec"]["resources"]["requests"]
                ["storage"],
            "2Gi"
        );
        assert!(
            parse_workspace("ws=pvc")
                .unwrap_err()
                .contains("a name is needed")
        );
        assert!(
            parse_workspace("ws=nfs:x")
                .unwrap_err()
                .contains("unknown binding")
        );
    }

    #[test]
    fn param_values() {
        assert_eq!(parse_param_value("array", "").unwrap(), json!([]));
        assert_eq!(
            parse_param_value("array", "[\"a,b\"]").unwrap(),
            json!(["a,b"])
        );
        assert_eq!(parse_param_value("string", "a,b").unwrap(), json!("a,b"));
        assert_eq!(
            parse_param_value("object", "{\"k\":\"v\"}").unwrap(),
            json!({"k": "v"})
        );
    }
}
