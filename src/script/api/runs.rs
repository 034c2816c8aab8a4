//! PipelineRuns and TaskRuns.

use super::*;
use crate::diag::codes;

// ---------------------------------------------------------------------------------------------
// Runs

pub(super) const PR_KEYS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "params",
    "workspaces",
    "timeouts",
    "timeout",
    "serviceAccountName",
    "podTemplate",
    "taskRunTemplate",
    "taskRunSpecs",
    "status",
    "managedBy",
    "embed",
];

pub(super) fn run_names(
    opts: &mut rhai::Map,
    default_prefix: &str,
) -> Result<(Option<String>, Option<String>), HostError> {
    let name = opts
        .remove("name")
        .map(|v| convert::to_string_value(&v, "name"))
        .transpose()?;
    let generate = opts
        .remove("generateName")
        .map(|v| convert::to_string_value(&v, "generateName"))
        .transpose()?;
    Ok(match (name, generate) {
        (None, None) => (None, Some(format!("{default_prefix}-run-"))),
        other => other,
    })
}

pub(super) fn run_workspaces(v: &Dynamic) -> Result<Value, HostError> {
    if v.is_map() {
        let mut out = Vec::new();
        for (k, x) in v.clone().cast::<rhai::Map>().iter() {
            let mut b = Map::new();
            b.insert("name".into(), Value::String(k.to_string()));
            match to_json(x, "workspace binding")? {
                Value::Object(m) => b.extend(m),
                other => {
                    return Err(HostError::new(
                        codes::E003,
                        format!(
                            "workspace `{k}` must be bound to a volume such as `volume_claim(\"1Gi\")`, `pvc(\"name\")`, `empty_dir()`, `config_map(\"name\")` or `secret(\"name\")`; found {}",
                            convert::json_type_name(&other)
                        ),
                    ));
                }
            }
            out.push(Value::Object(b));
        }
        return Ok(Value::Array(out));
    }
    to_json(v, "workspaces")
}

pub(super) fn pipeline_run(
    ctx: &NativeCallContext,
    st: &Shared,
    pipeline: Option<PipelineB>,
    reference: Option<RefValue>,
    opts: rhai::Map,
) -> R<PipelineRunB> {
    let span = here(st, ctx);
    let mut opts = opts;
    let prefix = match (&pipeline, &reference) {
        (Some(p), _) => p.0.borrow().name.clone(),
        (None, Some(r)) => r
            .json
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                r.json.get("params").and_then(|ps| {
                    ps.as_array()?
                        .iter()
                        .find(|p| p["name"] == "name")
                        .and_then(|p| p["value"].as_str().map(str::to_string))
                })
            })
            .unwrap_or_else(|| "pipeline".into()),
        _ => "pipeline".into(),
    };
    let (name, generate_name) = run_names(&mut opts, &prefix)?;
    let mut meta = Meta::default();
    meta.take(&mut opts)?;
    let embed = opts
        .remove("embed")
        .map(|v| as_bool(&v, "embed"))
        .transpose()?
        .unwrap_or(false);
    let mut j = Map::new();
    if let Some(r) = &reference {
        j.insert(
            "pipelineRef".into(),
            Value::Object(r.finish("pipeline", false)),
        );
    }
    let mut template = Map::new();
    for (k, v) in opts.iter() {
        match k.as_str() {
            "params" => {
                let l = convert::params_list(v, "run params")?;
                j.insert("params".into(), authored(st, ctx, v, l));
            }
            "workspaces" => {
                j.insert(
                    "workspaces".into(),
                    authored(st, ctx, v, run_workspaces(v)?),
                );
            }
            "timeout" => {
                j.insert(
                    "timeouts".into(),
                    json!({ "pipeline": duration(v, "timeout")? }),
                );
            }
            "timeouts" => {
                let mut t = Map::new();
                for (tk, tv) in expect_map(v, "timeouts")?.iter() {
                    if !["pipeline", "tasks", "finally"].contains(&tk.as_str()) {
                        return Err(
                            unknown_key(tk, "timeouts", &["pipeline", "tasks", "finally"]).into(),
                        );
                    }
                    t.insert(
                        tk.to_string(),
                        Value::String(duration(tv, &format!("timeouts.{tk}"))?),
                    );
                }
                j.insert("timeouts".into(), Value::Object(t));
            }
            "serviceAccountName" => {
                template.insert(
                    k.to_string(),
                    Value::String(convert::to_string_value(v, k)?),
                );
            }
            "podTemplate" => {
                template.insert(k.to_string(), to_json(v, "podTemplate")?);
            }
            "taskRunTemplate" => {
                if let Value::Object(m) = to_json(v, "taskRunTemplate")? {
                    template.extend(m);
                }
            }
            "taskRunSpecs" => {
                j.insert(k.to_string(), to_json(v, "taskRunSpecs")?);
            }
            "status" | "managedBy" => {
                j.insert(
                    k.to_string(),
                    Value::String(convert::to_string_value(v, k)?),
                );
            }
            other => return Err(unknown_key(other, "run options", PR_KEYS).into()),
        }
    }
    if !template.is_empty() {
        j.insert("taskRunTemplate".into(), Value::Object(template));
    }
    let spec: model::PipelineRunSpec = from_json(Value::Object(j), "pipeline run")?;
    let mut origins = Origins::new();
    set_origin(&mut origins, "", span);
    Ok(PipelineRunB(Rc::new(RefCell::new(PipelineRunData {
        name,
        generate_name,
        meta,
        spec,
        origins,
        pipeline: pipeline.map(|p| (p, embed)),
    }))))
}

impl PipelineRunB {
    pub(super) fn to_resource(&self) -> (Resource, Origins) {
        let d = self.0.borrow();
        let mut spec = d.spec.clone();
        let mut origins = d.origins.clone();
        if let Some((p, embed)) = &d.pipeline {
            if *embed {
                let (res, po) = p.to_resource(true);
                if let Resource::Pipeline(pl) = res {
                    spec.pipeline_spec = Some(pl.spec);
                }
                // `spec.…` of the pipeline → `spec.pipelineSpec.…` of the run
                for (path, s) in po.iter() {
                    if let Some(rest) = path.strip_prefix("spec") {
                        origins.insert_if_absent(format!("spec.pipelineSpec{rest}"), s);
                    }
                }
            } else {
                spec.pipeline_ref = Some(model::PipelineRef {
                    name: Some(p.0.borrow().name.clone()),
                    ..Default::default()
                });
            }
        }
        let mut pr = model::PipelineRun::new(spec);
        pr.metadata = d.meta.object_meta(d.name.clone(), d.generate_name.clone());
        (Resource::PipelineRun(pr), origins)
    }
}

pub(super) const TR_KEYS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "params",
    "workspaces",
    "timeout",
    "retries",
    "serviceAccountName",
    "podTemplate",
    "status",
    "statusMessage",
    "stepSpecs",
    "sidecarSpecs",
    "computeResources",
    "debug",
    "managedBy",
    "embed",
];

pub(super) fn task_run(
    ctx: &NativeCallContext,
    st: &Shared,
    task: Option<TaskB>,
    reference: Option<RefValue>,
    opts: rhai::Map,
) -> R<TaskRunB> {
    let span = here(st, ctx);
    let mut opts = opts;
    let prefix = task
        .as_ref()
        .map(|t| t.0.borrow().name.clone())
        .or_else(|| {
            reference.as_ref().and_then(|r| {
                r.json
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
        })
        .unwrap_or_else(|| "task".into());
    let (name, generate_name) = run_names(&mut opts, &prefix)?;
    let mut meta = Meta::default();
    meta.take(&mut opts)?;
    let embed = opts
        .remove("embed")
        .map(|v| as_bool(&v, "embed"))
        .transpose()?
        .unwrap_or(false);
    let mut j = Map::new();
    if let Some(r) = &reference {
        j.insert("taskRef".into(), Value::Object(r.finish("task", true)));
    }
    for (k, v) in opts.iter() {
        let val = match k.as_str() {
            "params" => authored(st, ctx, v, convert::params_list(v, "run params")?),
            "workspaces" => authored(st, ctx, v, run_workspaces(v)?),
            "timeout" => Value::String(duration(v, "timeout")?),
            "retries" => to_json(v, "retries")?,
            "serviceAccountName" | "status" | "statusMessage" | "managedBy" => {
                Value::String(convert::to_string_value(v, k)?)
            }
            "podTemplate" | "stepSpecs" | "sidecarSpecs" | "computeResources" | "debug" => {
                to_json(v, k)?
            }
            other => return Err(unknown_key(other, "task run options", TR_KEYS).into()),
        };
        j.insert(k.to_string(), val);
    }
    let spec: model::TaskRunSpec = from_json(Value::Object(j), "task run")?;
    let mut origins = Origins::new();
    set_origin(&mut origins, "", span);
    Ok(TaskRunB(Rc::new(RefCell::new(TaskRunData {
        name,
        generate_name,
        meta,
        spec,
        origins,
        task: task.map(|t| (t, embed)),
    }))))
}

impl TaskRunB {
    pub(super) fn to_resource(&self) -> (Resource, Origins) {
        let d = self.0.borrow();
        let mut spec = d.spec.clone();
        let mut origins = d.origins.clone();
        if let Some((t, embed)) = &d.task {
            let td = t.0.borrow();
            if *embed {
                spec.task_spec = Some(td.spec.clone());
                origins.graft("spec.taskSpec", &td.origins);
            } else {
                spec.task_ref = Some(model::TaskRef {
                    name: Some(td.name.clone()),
                    kind: Some("Task".into()),
                    ..Default::default()
                });
            }
        }
        let mut tr = model::TaskRun::new(spec);
        tr.metadata = d.meta.object_meta(d.name.clone(), d.generate_name.clone());
        (Resource::TaskRun(tr), origins)
    }
}
