//! Steps: the step map shorthands (`env`, `params`, `results`, `ref`, `timeout`).

use super::*;

// ---------------------------------------------------------------------------------------------
// Steps

/// Converts a step map, applying the shorthands: `env` as a map, `params` as a map, `results` as names,
/// `ref` as a StepAction or reference value, `timeout` as any Go duration.
pub(super) fn step_json(map: rhai::Map, task: &TaskB) -> Result<Value, HostError> {
    let mut j = Map::new();
    for (k, v) in map.iter() {
        let val = match k.as_str() {
            "env" => convert::env_list(v)?,
            "params" => convert::params_list(v, "step params")?,
            "results" => convert::names_to_maps(to_json(v, "step results")?),
            "timeout" => Value::String(duration(v, "step timeout")?),
            "ref" => step_ref(v, task)?,
            "workspaces" => convert::names_to_maps(to_json(v, "step workspaces")?),
            "script" => Value::String(convert::to_string_value(v, "script")?),
            _ => to_json(v, &format!("step field `{k}`"))?,
        };
        j.insert(k.to_string(), val);
    }
    Ok(Value::Object(j))
}

pub(super) fn step_ref(v: &Dynamic, task: &TaskB) -> Result<Value, HostError> {
    if let Some(sa) = v.clone().try_cast::<StepActionB>() {
        let name = sa.0.borrow().name.clone();
        let mut t = task.0.borrow_mut();
        if !t.step_actions.iter().any(|s| Rc::ptr_eq(&s.0, &sa.0)) {
            t.step_actions.push(sa);
        }
        return Ok(json!({ "name": name }));
    }
    if let Some(r) = v.clone().try_cast::<RefValue>() {
        return Ok(Value::Object(r.finish("stepaction", false)));
    }
    if v.is_string() {
        return Ok(json!({ "name": convert::to_string_value(v, "step ref")? }));
    }
    to_json(v, "step ref")
}

pub(super) fn add_step(ctx: &NativeCallContext, st: &Shared, t: &TaskB, map: rhai::Map) -> R<()> {
    let span = here(st, ctx);
    let j = step_json(map, t)?;
    let step: model::Step = from_json(j, "step")?;
    let mut d = t.0.borrow_mut();
    let i = d.spec.steps.len();
    d.spec.steps.push(step);
    set_origin(&mut d.origins, format!("steps[{i}]"), span);
    Ok(())
}

pub(super) fn step_map(name: &str, image: &Dynamic, script: &Dynamic) -> R<rhai::Map> {
    let mut m = rhai::Map::new();
    m.insert("name".into(), dstr(name));
    m.insert("image".into(), image.clone());
    m.insert("script".into(), script.clone());
    Ok(m)
}
