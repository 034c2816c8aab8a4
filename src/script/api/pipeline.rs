//! `pipeline(..)`, pipeline tasks and their options.

use super::*;
use crate::diag::codes;

// ---------------------------------------------------------------------------------------------
// Pipeline

pub(super) const PTASK_KEYS: &[&str] = &[
    "params",
    "workspaces",
    "runAfter",
    "when",
    "matrix",
    "retries",
    "timeout",
    "onError",
    "displayName",
    "description",
    "embed",
];

pub(super) fn new_pipeline(
    ctx: &NativeCallContext,
    st: &Shared,
    name: &str,
    opts: rhai::Map,
) -> R<PipelineB> {
    let span = here(st, ctx);
    let mut opts = opts;
    let mut meta = Meta::default();
    meta.take(&mut opts)?;
    let mut spec = model::PipelineSpec::default();
    let mut embed_default = false;
    for (k, v) in opts {
        match k.as_str() {
            "description" => spec.description = Some(convert::to_string_value(&v, "description")?),
            "displayName" => spec.display_name = Some(convert::to_string_value(&v, "displayName")?),
            "embed" => embed_default = as_bool(&v, "embed")?,
            other => {
                return Err(unknown_key(
                    other,
                    "pipeline options",
                    &[
                        "description",
                        "displayName",
                        "embed",
                        "labels",
                        "annotations",
                        "namespace",
                    ],
                )
                .into());
            }
        }
    }
    let p = PipelineB(Rc::new(RefCell::new(PipelineData {
        name: name_arg(name, "pipeline")?,
        at: span,
        meta,
        spec,
        origins: Origins::new(),
        embed_default,
        sources: Vec::new(),
        finally_sources: Vec::new(),
        children: Vec::new(),
    })));
    p.0.borrow_mut().origins.set_trace(call_trace(st, ctx));
    st.borrow_mut().created.push(Emitted::Pipeline(p.clone()));
    Ok(p)
}

pub(super) fn as_bool(v: &Dynamic, what: &str) -> Result<bool, HostError> {
    v.as_bool().map_err(|t| {
        HostError::new(
            codes::E003,
            format!("{what} must be true or false, found {t}"),
        )
    })
}

impl PipelineB {
    pub(super) fn param(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        opts: rhai::Map,
    ) -> R<ParamRef> {
        let d = &mut *self.0.borrow_mut();
        declare_param(
            &mut d.spec.params,
            &mut d.origins,
            here(st, ctx),
            name,
            opts,
        )
    }

    pub(super) fn workspace(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        opts: rhai::Map,
    ) -> R<PipelineWorkspace> {
        let span = here(st, ctx);
        let mut j = Map::new();
        j.insert("name".into(), Value::String(name_arg(name, "workspace")?));
        for (k, v) in opts.iter() {
            j.insert(k.to_string(), to_json(v, "workspace")?);
        }
        let w = from_json(Value::Object(j), &format!("pipeline workspace `{name}`"))?;
        let mut d = self.0.borrow_mut();
        let i = d.spec.workspaces.len();
        d.spec.workspaces.push(w);
        set_origin(&mut d.origins, format!("workspaces[{i}]"), span);
        Ok(PipelineWorkspace {
            name: name.to_string(),
        })
    }

    pub(super) fn add_task(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        taskish: Dynamic,
        opts: rhai::Map,
        finally: bool,
    ) -> R<PTask> {
        let span = here(st, ctx);
        let name = name_arg(name, "pipeline task")?;
        let mut j = Map::new();
        j.insert("name".into(), Value::String(name.clone()));
        let mut embed = self.0.borrow().embed_default;
        if let Some(v) = opts.get("embed") {
            embed = as_bool(v, "embed")?;
        }
        // the task
        let source = if let Some(t) = taskish.clone().try_cast::<TaskB>() {
            TaskSource::Local { task: t, embed }
        } else if let Some(r) = taskish.clone().try_cast::<RefValue>() {
            match &r.custom_spec {
                Some(spec) => {
                    let mut ts = Map::new();
                    ts.insert("apiVersion".into(), r.json["apiVersion"].clone());
                    ts.insert("kind".into(), r.json["kind"].clone());
                    ts.insert("spec".into(), spec.clone());
                    j.insert("taskSpec".into(), Value::Object(ts));
                }
                None => {
                    j.insert("taskRef".into(), Value::Object(r.finish("task", true)));
                }
            }
            TaskSource::Fixed
        } else if taskish.is_string() {
            let n = convert::to_string_value(&taskish, "task")?;
            j.insert("taskRef".into(), json!({ "name": n, "kind": "Task" }));
            TaskSource::Fixed
        } else if let Some(p) = taskish.clone().try_cast::<PipelineB>() {
            if Rc::ptr_eq(&p.0, &self.0) {
                let own = p.0.borrow().name.clone();
                return Err(HostError::new(
                    codes::E307,
                    format!("pipeline `{own}` cannot be one of its own tasks (`{name}`)"),
                )
                .help("a pipeline task runs another pipeline or a task; move the shared tasks into a pipeline of their own")
                .into());
            }
            self.0.borrow_mut().children.push(p.clone());
            // Pipelines in Pipelines (alpha): embed the child pipeline's spec.
            let (res, _) = p.to_resource(true);
            if let Resource::Pipeline(child) = res {
                j.insert(
                    if embed { "pipelineSpec" } else { "pipelineRef" }.into(),
                    if embed {
                        serde_json::to_value(&child.spec).expect("serializes")
                    } else {
                        json!({ "name": p.0.borrow().name })
                    },
                );
            }
            TaskSource::Fixed
        } else {
            return Err(HostError::new(
                codes::E003,
                format!(
                    "the task of pipeline task `{name}` must be a Task (`task(..)`), a reference (`task_ref`, `from_hub`, `from_git`, `from_bundle`, `from_cluster`, …) or a task name, found {}",
                    handles::type_label(&taskish)
                ),
            )
            .into());
        };
        for (k, v) in opts.iter() {
            let val = match k.as_str() {
                "embed" => continue,
                "params" => authored(st, ctx, v, convert::params_list(v, "task params")?),
                "workspaces" => authored(st, ctx, v, ws_bindings(v)?),
                "runAfter" => {
                    if finally {
                        return Err(HostError::new(
                            codes::E010,
                            format!("finally task `{name}` cannot have `runAfter`"),
                        )
                        .help("finally tasks run after all other tasks; remove `runAfter`")
                        .into());
                    }
                    let items = if v.is_array() {
                        list(v, "runAfter")?
                    } else {
                        vec![v.clone()]
                    };
                    Value::Array(
                        items
                            .iter()
                            .map(|x| convert::to_string_value(x, "runAfter").map(Value::String))
                            .collect::<Result<_, _>>()?,
                    )
                }
                "when" => when_list(v)?,
                "matrix" => matrix_json(v)?,
                "retries" => match v.as_int() {
                    Ok(n) => Value::from(n),
                    Err(t) => {
                        return Err(HostError::new(
                            codes::E003,
                            format!("retries must be an integer, found {t}"),
                        )
                        .into());
                    }
                },
                "timeout" => Value::String(duration(v, "task timeout")?),
                "onError" | "displayName" | "description" => {
                    Value::String(convert::to_string_value(v, k)?)
                }
                other => {
                    return Err(unknown_key(
                        other,
                        &format!("options of pipeline task `{name}`"),
                        PTASK_KEYS,
                    )
                    .into());
                }
            };
            j.insert(k.to_string(), val);
        }
        let pt: model::PipelineTask =
            from_json(Value::Object(j), &format!("pipeline task `{name}`"))?;
        let mut d = self.0.borrow_mut();
        let (list_name, i) = if finally {
            d.spec.finally.push(pt);
            d.finally_sources.push(source);
            ("finally", d.spec.finally.len() - 1)
        } else {
            d.spec.tasks.push(pt);
            d.sources.push(source);
            ("tasks", d.spec.tasks.len() - 1)
        };
        set_origin(&mut d.origins, format!("{list_name}[{i}]"), span);
        Ok(PTask {
            pipeline: self.clone(),
            name,
            finally,
        })
    }

    pub(super) fn result(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        value: Dynamic,
        opts: rhai::Map,
    ) -> R<()> {
        let span = here(st, ctx);
        let mut j = Map::new();
        j.insert(
            "name".into(),
            Value::String(name_arg(name, "pipeline result")?),
        );
        for (k, v) in opts.iter() {
            match k.as_str() {
                "type" | "description" => {
                    j.insert(
                        k.to_string(),
                        Value::String(convert::to_string_value(v, k)?),
                    );
                }
                other => {
                    return Err(unknown_key(
                        other,
                        "pipeline result options",
                        &["type", "description"],
                    )
                    .into());
                }
            }
        }
        j.insert(
            "value".into(),
            convert::param_value(&value, "pipeline result value")?,
        );
        let r = from_json(Value::Object(j), &format!("pipeline result `{name}`"))?;
        let mut d = self.0.borrow_mut();
        let i = d.spec.results.len();
        d.spec.results.push(r);
        set_origin(&mut d.origins, format!("results[{i}]"), span);
        Ok(())
    }

    /// The finished Pipeline and the local tasks it references by name.
    /// `embed_all`: inline every local task (for a run that embeds the pipeline, which must be
    /// self-contained).
    pub(crate) fn to_resource(&self, embed_all: bool) -> (Resource, Origins) {
        let d = self.0.borrow();
        let mut spec = d.spec.clone();
        let mut origins = Origins::new();
        if let Some(s) = d.at {
            origins.insert("", s);
        }
        origins.graft("spec", &d.origins);
        origins.set_trace(d.origins.trace().to_vec());
        for (list_name, tasks, sources) in [
            ("tasks", &mut spec.tasks, &d.sources),
            ("finally", &mut spec.finally, &d.finally_sources),
        ] {
            for (i, (pt, src)) in tasks.iter_mut().zip(sources).enumerate() {
                if let TaskSource::Local { task, embed } = src {
                    let td = task.0.borrow();
                    if *embed || embed_all {
                        let mut et = model::EmbeddedTask::from_task_spec(td.spec.clone());
                        if !td.meta.labels.is_empty() || !td.meta.annotations.is_empty() {
                            et.metadata = Some(model::PipelineTaskMetadata {
                                labels: td.meta.labels.clone(),
                                annotations: td.meta.annotations.clone(),
                            });
                        }
                        pt.task_spec = Some(et);
                        origins.graft(&format!("spec.{list_name}[{i}].taskSpec"), &td.origins);
                    } else {
                        pt.task_ref = Some(model::TaskRef {
                            name: Some(td.name.clone()),
                            kind: Some("Task".into()),
                            ..Default::default()
                        });
                    }
                }
            }
        }
        let mut p = model::Pipeline::new(&d.name, spec);
        p.metadata = d.meta.object_meta(Some(d.name.clone()), None);
        (Resource::Pipeline(p), origins)
    }

    /// Local tasks referenced by `taskRef` (emitted alongside the pipeline), in order of first use.
    pub(super) fn referenced_tasks(&self) -> Vec<TaskB> {
        let d = self.0.borrow();
        let mut out: Vec<TaskB> = Vec::new();
        for src in d.sources.iter().chain(&d.finally_sources) {
            if let TaskSource::Local { task, embed: false } = src
                && !out.iter().any(|t| Rc::ptr_eq(&t.0, &task.0))
            {
                out.push(task.clone());
            }
        }
        out
    }

    /// All local tasks, embedded or not (for their step actions).
    pub(super) fn local_tasks(&self) -> Vec<TaskB> {
        let d = self.0.borrow();
        d.sources
            .iter()
            .chain(&d.finally_sources)
            .filter_map(|s| match s {
                TaskSource::Local { task, .. } => Some(task.clone()),
                TaskSource::Fixed => None,
            })
            .collect()
    }

    pub(super) fn find_task(&self, name: &str) -> Option<(bool, TaskSource)> {
        let d = self.0.borrow();
        if let Some(i) = d.spec.tasks.iter().position(|t| t.name == name) {
            return Some((false, d.sources[i].clone()));
        }
        d.spec
            .finally
            .iter()
            .position(|t| t.name == name)
            .map(|i| (true, d.finally_sources[i].clone()))
    }
}

pub(super) fn ws_bindings(v: &Dynamic) -> Result<Value, HostError> {
    if v.is_map() {
        let map = v.clone().cast::<rhai::Map>();
        let mut out = Vec::new();
        for (k, x) in map.iter() {
            let mut b = Map::new();
            b.insert("name".into(), Value::String(k.to_string()));
            if let Some(w) = x.clone().try_cast::<PipelineWorkspace>() {
                b.insert("workspace".into(), Value::String(w.name));
            } else if x.is_string() {
                b.insert(
                    "workspace".into(),
                    Value::String(convert::to_string_value(x, "workspace")?),
                );
            } else if x.is_map() {
                for (kk, vv) in x.clone().cast::<rhai::Map>().iter() {
                    let val = match vv.clone().try_cast::<PipelineWorkspace>() {
                        Some(w) => Value::String(w.name),
                        None => to_json(vv, "workspace binding")?,
                    };
                    b.insert(kk.to_string(), val);
                }
            } else {
                return Err(HostError::new(
                    codes::E003,
                    format!(
                        "workspace `{k}` must be bound to a pipeline workspace (`p.workspace(..)`), its name, or `#{{ workspace: ws, subPath: \"dir\" }}`; found {}",
                        handles::type_label(x)
                    ),
                ));
            }
            out.push(Value::Object(b));
        }
        return Ok(Value::Array(out));
    }
    let items = list(v, "workspaces")?;
    let mut out = Vec::new();
    for x in items {
        let j = match x.clone().try_cast::<rhai::Map>() {
            // `#{ name: "output", workspace: ws, subPath: "dir" }`: the handle becomes its name
            Some(m) => {
                let mut b = Map::new();
                for (k, vv) in m.iter() {
                    let val = match vv.clone().try_cast::<PipelineWorkspace>() {
                        Some(w) => Value::String(w.name),
                        None => to_json(vv, "workspace binding")?,
                    };
                    b.insert(k.to_string(), val);
                }
                Value::Object(b)
            }
            None => to_json(&x, "workspace binding")?,
        };
        out.push(j);
    }
    Ok(Value::Array(out))
}

pub(super) fn when_list(v: &Dynamic) -> Result<Value, HostError> {
    let items = if v.is_array() {
        list(v, "when")?
    } else {
        vec![v.clone()]
    };
    let mut out = Vec::new();
    for x in items {
        let m = expect_map(&x, "when expression")?;
        let mut j = Map::new();
        for key in ["input", "operator", "values", "cel"] {
            if let Some(val) = m.get(key) {
                let jv = if key == "values" {
                    convert::param_value(val, "when values")?
                } else {
                    Value::String(convert::to_string_value(val, key)?)
                };
                j.insert(key.into(), jv);
            }
        }
        if let Some(k) = m
            .keys()
            .find(|k| !["input", "operator", "values", "cel"].contains(&k.as_str()))
        {
            return Err(unknown_key(
                k,
                "when expression",
                &["input", "operator", "values", "cel"],
            ));
        }
        out.push(Value::Object(j));
    }
    Ok(Value::Array(out))
}

pub(super) fn matrix_json(v: &Dynamic) -> Result<Value, HostError> {
    let m = expect_map(v, "matrix")?;
    let mut j = Map::new();
    for (k, x) in m.iter() {
        match k.as_str() {
            "params" => {
                j.insert("params".into(), convert::params_list(x, "matrix params")?);
            }
            "include" => {
                let mut inc = Vec::new();
                for item in list(x, "matrix include")? {
                    let im = expect_map(&item, "matrix include entry")?;
                    let mut e = Map::new();
                    for (ik, iv) in im.iter() {
                        let val = match ik.as_str() {
                            "name" => Value::String(convert::to_string_value(iv, "name")?),
                            "params" => convert::params_list(iv, "include params")?,
                            other => {
                                return Err(unknown_key(
                                    other,
                                    "matrix include entry",
                                    &["name", "params"],
                                ));
                            }
                        };
                        e.insert(ik.to_string(), val);
                    }
                    inc.push(Value::Object(e));
                }
                j.insert("include".into(), Value::Array(inc));
            }
            other => return Err(unknown_key(other, "matrix", &["params", "include"])),
        }
    }
    Ok(Value::Object(j))
}

impl PTask {
    pub(super) fn result(&self, name: &str) -> R<ResultRef> {
        if let Some((_, TaskSource::Local { task, .. })) = self.pipeline.find_task(&self.name) {
            let t = task.0.borrow();
            if !t.spec.results.iter().any(|r| r.name == name) {
                let names: Vec<&str> = t.spec.results.iter().map(|r| r.name.as_str()).collect();
                let mut e = HostError::new(
                    codes::E015,
                    format!(
                        "task `{}` (used as `{}`) declares no result `{name}`",
                        t.name, self.name
                    ),
                )
                .needle(format!("\"{name}\""));
                e = match crate::diag::suggest::did_you_mean(name, names.iter().copied()) {
                    Some(s) => e.help(format!("did you mean `{s}`?")),
                    None if names.is_empty() => e.help(format!(
                        "task `{}` declares no results; add one with `t.result(\"{name}\")`",
                        t.name
                    )),
                    None => e.help(format!("its results are: {}", names.join(", "))),
                };
                if let Some(at) = t.at {
                    e = e.secondary(at, format!("task `{}` is defined here", t.name));
                }
                return Err(e.into());
            }
        }
        Ok(ResultRef {
            task: self.name.clone(),
            result: name.to_string(),
            finally: self.finally,
            sel: Sel::Whole,
        })
    }

    pub(super) fn after(&self, others: Dynamic) -> R<PTask> {
        let items = if others.is_array() {
            list(&others, "after")?
        } else {
            vec![others]
        };
        let names = items
            .iter()
            .map(|x| convert::to_string_value(x, "after"))
            .collect::<Result<Vec<_>, _>>()?;
        if self.finally {
            return Err(HostError::new(
                codes::E010,
                format!("finally task `{}` cannot run after other tasks", self.name),
            )
            .help("finally tasks always run after all other tasks")
            .into());
        }
        let mut d = self.pipeline.0.borrow_mut();
        if let Some(pt) = d.spec.tasks.iter_mut().find(|t| t.name == self.name) {
            for n in names {
                if !pt.run_after.contains(&n) {
                    pt.run_after.push(n);
                }
            }
        }
        Ok(self.clone())
    }
}
