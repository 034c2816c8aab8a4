//! StepActions.

use super::*;

// ---------------------------------------------------------------------------------------------
// StepAction

pub(super) const SA_KEYS: &[&str] = &[
    "description",
    "image",
    "command",
    "args",
    "env",
    "script",
    "workingDir",
    "params",
    "results",
    "securityContext",
    "volumeMounts",
    "labels",
    "annotations",
    "namespace",
];

pub(super) fn new_step_action(
    ctx: &NativeCallContext,
    st: &Shared,
    name: &str,
    opts: rhai::Map,
) -> R<StepActionB> {
    let span = here(st, ctx);
    let mut opts = opts;
    let mut meta = Meta::default();
    meta.take(&mut opts)?;
    let mut j = Map::new();
    let mut params = Vec::new();
    for (k, v) in opts.iter() {
        let val = match k.as_str() {
            "env" => convert::env_list(v)?,
            "results" => convert::names_to_maps(to_json(v, "results")?),
            "params" => {
                for p in list(v, "params")? {
                    let (n, rest) = named_map(&p, "param")?;
                    params.push(param_spec(&n, rest)?);
                }
                continue;
            }
            other if SA_KEYS.contains(&other) => to_json(v, other)?,
            other => return Err(unknown_key(other, "step action", SA_KEYS).into()),
        };
        j.insert(k.to_string(), val);
    }
    let mut spec: model::StepActionSpec =
        from_json(Value::Object(j), &format!("step action `{name}`"))?;
    spec.params = params;
    let mut origins = Origins::new();
    set_origin(&mut origins, "", span);
    Ok(StepActionB(Rc::new(RefCell::new(StepActionData {
        name: name_arg(name, "step action")?,
        at: span,
        meta,
        spec,
        origins,
    }))))
}

impl StepActionB {
    pub(super) fn to_resource(&self) -> (Resource, Origins) {
        let d = self.0.borrow();
        let mut sa = model::StepAction::new(&d.name, d.spec.clone());
        sa.metadata = d.meta.object_meta(Some(d.name.clone()), None);
        let mut origins = Origins::new();
        if let Some(s) = d.at {
            origins.insert("", s);
        }
        origins.graft("spec", &d.origins);
        (Resource::StepAction(sa), origins)
    }
}
