//! `task(..)` and the Task builder.

use super::*;
use crate::diag::codes;

// ---------------------------------------------------------------------------------------------
// Task

pub(super) const TASK_KEYS: &[&str] = &[
    "description",
    "displayName",
    "params",
    "steps",
    "sidecars",
    "volumes",
    "workspaces",
    "results",
    "stepTemplate",
    "labels",
    "annotations",
    "namespace",
];

pub(super) fn new_task(
    ctx: &NativeCallContext,
    st: &Shared,
    name: &str,
    opts: rhai::Map,
) -> R<TaskB> {
    let span = here(st, ctx);
    let t = TaskB(Rc::new(RefCell::new(TaskData {
        name: name_arg(name, "task")?,
        at: span,
        meta: Meta::default(),
        spec: model::TaskSpec::default(),
        origins: Origins::new(),
        step_actions: Vec::new(),
    })));
    let mut opts = opts;
    t.0.borrow_mut().meta.take(&mut opts)?;
    for (k, v) in opts {
        match k.as_str() {
            "description" => {
                t.0.borrow_mut().spec.description =
                    Some(convert::to_string_value(&v, "description")?)
            }
            "displayName" => {
                t.0.borrow_mut().spec.display_name =
                    Some(convert::to_string_value(&v, "displayName")?)
            }
            "params" => {
                for p in list(&v, "params")? {
                    let (name, rest) = named_map(&p, "param")?;
                    let ps = param_spec(&name, rest)?;
                    t.0.borrow_mut().spec.params.push(ps);
                }
            }
            "steps" => {
                for s in list(&v, "steps")? {
                    add_step(ctx, st, &t, expect_map(&s, "step")?)?;
                }
            }
            "results" => {
                for r in list(&v, "results")? {
                    let (name, rest) = named_map(&r, "result")?;
                    let res = from_json(result_json(&name, rest, "result")?, "result")?;
                    t.0.borrow_mut().spec.results.push(res);
                }
            }
            "workspaces" => {
                for w in list(&v, "workspaces")? {
                    let j = match to_json(&w, "workspace")? {
                        Value::String(name) => json!({ "name": name }),
                        other => other,
                    };
                    let ws = from_json(j, "workspace")?;
                    t.0.borrow_mut().spec.workspaces.push(ws);
                }
            }
            "sidecars" => {
                for s in list(&v, "sidecars")? {
                    let j = step_json(expect_map(&s, "sidecar")?, &t)?;
                    let sc = from_json(j, "sidecar")?;
                    t.0.borrow_mut().spec.sidecars.push(sc);
                }
            }
            "volumes" => {
                for s in list(&v, "volumes")? {
                    let vol = from_json(to_json(&s, "volume")?, "volume")?;
                    t.0.borrow_mut().spec.volumes.push(vol);
                }
            }
            "stepTemplate" => {
                let j = step_json(expect_map(&v, "stepTemplate")?, &t)?;
                t.0.borrow_mut().spec.step_template = Some(from_json(j, "stepTemplate")?);
            }
            other => return Err(unknown_key(other, "task options", TASK_KEYS).into()),
        }
    }
    t.0.borrow_mut().origins.set_trace(call_trace(st, ctx));
    st.borrow_mut().created.push(Emitted::Task(t.clone()));
    Ok(t)
}

pub(super) fn list(v: &Dynamic, what: &str) -> Result<rhai::Array, HostError> {
    v.clone().into_array().map_err(|_| {
        HostError::new(
            codes::E003,
            format!("{what} must be an array, found {}", handles::type_label(v)),
        )
    })
}

/// `"name"` or `#{ name: "x", ... }` → (name, other keys).
pub(super) fn named_map(v: &Dynamic, what: &str) -> Result<(String, rhai::Map), HostError> {
    if v.is_string() {
        return Ok((convert::to_string_value(v, what)?, rhai::Map::new()));
    }
    let mut m = expect_map(v, what)?;
    let name = m
        .remove("name")
        .ok_or_else(|| HostError::new(codes::E010, format!("{what} needs a `name`")))?;
    Ok((convert::to_string_value(&name, "name")?, m))
}

impl TaskB {
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

    pub(super) fn result(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        opts: rhai::Map,
    ) -> R<ResultDecl> {
        let span = here(st, ctx);
        let r: model::TaskResult = from_json(result_json(name, opts, "result")?, "result")?;
        let mut d = self.0.borrow_mut();
        let i = d.spec.results.len();
        d.spec.results.push(r);
        set_origin(&mut d.origins, format!("results[{i}]"), span);
        Ok(ResultDecl {
            name: name.to_string(),
            step: None,
        })
    }

    pub(super) fn workspace(
        &self,
        ctx: &NativeCallContext,
        st: &Shared,
        name: &str,
        opts: rhai::Map,
    ) -> R<TaskWorkspace> {
        let span = here(st, ctx);
        let mut j = to_json(&Dynamic::from_map(opts), "workspace")?;
        j.as_object_mut()
            .expect("map")
            .insert("name".into(), Value::String(name_arg(name, "workspace")?));
        let mut ordered = Map::new();
        ordered.insert("name".into(), Value::String(name.into()));
        for (k, v) in j.as_object().expect("map") {
            if k != "name" {
                ordered.insert(k.clone(), v.clone());
            }
        }
        let w = from_json(Value::Object(ordered), &format!("workspace `{name}`"))?;
        let mut d = self.0.borrow_mut();
        let i = d.spec.workspaces.len();
        d.spec.workspaces.push(w);
        set_origin(&mut d.origins, format!("workspaces[{i}]"), span);
        Ok(TaskWorkspace {
            name: name.to_string(),
        })
    }

    pub(crate) fn to_resource(&self) -> (Resource, Origins) {
        let d = self.0.borrow();
        let mut task = model::Task::new(&d.name, d.spec.clone());
        task.metadata = d.meta.object_meta(Some(d.name.clone()), None);
        let mut origins = Origins::new();
        if let Some(s) = d.at {
            origins.insert("", s);
        }
        origins.graft("spec", &d.origins);
        origins.set_trace(d.origins.trace().to_vec());
        (Resource::Task(task), origins)
    }
}
