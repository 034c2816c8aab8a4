//! Walks the serialized JSON of an object once and collects every string that contains `$(`, with
//! its field path and what kind of field it is. Linear in the size of the object: each string is
//! looked at once, and a path is only materialized for strings that hold a `$(`.

use serde_json::Value;

/// How a `$(…)` that stands for a whole array or object may appear in this field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// A string-only field (`image`, `script`, `when.input`, …): no whole arrays or objects.
    Str,
    /// An element of a list (`args[i]`, an array param value's item, `when.values[i]`): a whole
    /// array is allowed when it is the entire element ("properly isolated").
    Elem,
    /// The entire value of a param (`params[i].value` given as a string): a whole array or object is
    /// allowed when it is the entire string.
    Whole,
}

/// Which container of a task a string belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cont {
    /// `steps[i]`
    Step(usize),
    Sidecar,
    /// `stepTemplate`
    Template,
    /// The spec of a StepAction (one step).
    Action,
}

/// Which field of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CField {
    Script,
    /// `env[i].value`
    Env,
    /// `command[i]`, `args[i]`
    Cmd,
    /// `params[i].value` of a step with `ref` (StepAction inputs), `ref.params`
    Params,
    /// `when[i]`
    When,
    /// Everything else: name, image, workingDir, volumeMounts, envFrom, …
    Other,
}

/// Which field of a pipeline task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PtField {
    Param,
    Matrix,
    Include,
    WhenInput,
    WhenValue,
    Cel,
    DisplayName,
    SubPath,
    TaskRef,
    OnError,
}

impl PtField {
    /// Fields whose `$(…)` must start with a Tekton prefix (Tekton: "must start with a valid
    /// prefix").
    pub(super) fn strict_prefix(self) -> bool {
        matches!(
            self,
            PtField::Param
                | PtField::Matrix
                | PtField::Include
                | PtField::WhenInput
                | PtField::WhenValue
        )
    }
}

/// Where a string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Loc {
    Container(Cont, CField),
    /// `results[i].value` of a task: only `$(steps.<s>.results.<r>)`.
    ResultValue,
    /// Any other string of a task spec (volumes, workspace mount paths, …).
    TaskOther,
    /// A field of a pipeline task.
    Pt(PtField),
    /// `results[i].value` of a pipeline.
    PipelineResult,
    /// `params[i].default` of a pipeline (defaults may reference other params).
    ParamDefault,
}

/// One string that contains `$(`.
#[derive(Debug, Clone)]
pub(super) struct Site<'v> {
    pub path: String,
    pub text: &'v str,
    pub shape: Shape,
    pub loc: Loc,
}

impl Site<'_> {
    /// Whether the string is exactly the text `start..end`.
    pub(super) fn is_whole(&self, start: usize, end: usize) -> bool {
        start == 0 && end == self.text.len()
    }
}

/// Collects [`Site`]s; keeps the current path in one growing buffer.
pub(super) struct Walker<'v> {
    path: String,
    pub sites: Vec<Site<'v>>,
}

impl<'v> Walker<'v> {
    pub(super) fn new(base: &str) -> Walker<'v> {
        Walker {
            path: base.to_string(),
            sites: Vec::new(),
        }
    }

    fn key<R>(&mut self, k: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        let len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(k);
        let r = f(self);
        self.path.truncate(len);
        r
    }

    fn index<R>(&mut self, i: usize, f: impl FnOnce(&mut Self) -> R) -> R {
        use std::fmt::Write;
        let len = self.path.len();
        let _ = write!(self.path, "[{i}]");
        let r = f(self);
        self.path.truncate(len);
        r
    }

    /// Each element of an array value.
    fn each(&mut self, v: &'v Value, mut f: impl FnMut(&mut Self, usize, &'v Value)) {
        if let Value::Array(items) = v {
            for (i, x) in items.iter().enumerate() {
                self.index(i, |w| f(w, i, x));
            }
        }
    }

    /// Each key of an object value.
    fn fields(&mut self, v: &'v Value, mut f: impl FnMut(&mut Self, &str, &'v Value)) {
        if let Value::Object(m) = v {
            for (k, x) in m {
                self.key(k, |w| f(w, k, x));
            }
        }
    }

    fn push(&mut self, text: &'v str, shape: Shape, loc: Loc) {
        if text.contains("$(") {
            self.sites.push(Site {
                path: self.path.clone(),
                text,
                shape,
                loc,
            });
        }
    }

    /// Every string below `v`, all with the same shape and location.
    pub(super) fn strings(&mut self, v: &'v Value, shape: Shape, loc: Loc) {
        match v {
            Value::String(s) => self.push(s, shape, loc),
            Value::Array(_) => self.each(v, |w, _, x| w.strings(x, shape, loc)),
            Value::Object(_) => self.fields(v, |w, _, x| w.strings(x, shape, loc)),
            _ => {}
        }
    }

    /// Every string below the field `k` (with value `v`) of the current path.
    pub(super) fn strings_at(&mut self, k: &str, v: &'v Value) {
        self.key(k, |w| w.strings(v, Shape::Str, Loc::TaskOther));
    }

    /// A param value: a string is the whole value, array items are elements, object values are
    /// strings.
    pub(super) fn param_value(&mut self, v: &'v Value, loc: Loc) {
        match v {
            Value::String(s) => self.push(s, Shape::Whole, loc),
            Value::Array(_) => self.each(v, |w, _, x| w.strings(x, Shape::Elem, loc)),
            Value::Object(_) => self.fields(v, |w, _, x| w.strings(x, Shape::Str, loc)),
            _ => {}
        }
    }

    /// `[{name, value}]`: the values.
    pub(super) fn param_list(&mut self, v: &'v Value, loc: Loc) {
        self.each(v, |w, _, p| {
            w.fields(p, |w, k, x| {
                if k == "value" {
                    w.param_value(x, loc);
                }
            })
        });
    }

    /// A task spec (Task `spec`, a run's or pipeline task's `taskSpec`).
    pub(super) fn task_spec(&mut self, v: &'v Value) {
        self.fields(v, |w, k, x| match k {
            // declarations and documentation: no substitution
            "params" | "description" | "displayName" | "metadata" | "apiVersion" | "kind"
            | "spec" => {}
            "steps" => w.each(x, |w, i, s| w.container(s, Cont::Step(i))),
            "sidecars" => w.each(x, |w, _, s| w.container(s, Cont::Sidecar)),
            "stepTemplate" => w.container(x, Cont::Template),
            "results" => w.each(x, |w, _, r| {
                w.fields(r, |w, k, v| {
                    if k == "value" {
                        w.param_value(v, Loc::ResultValue);
                    }
                })
            }),
            "workspaces" => w.each(x, |w, _, ws| {
                w.fields(ws, |w, k, v| {
                    if k == "mountPath" {
                        w.strings(v, Shape::Str, Loc::TaskOther);
                    }
                })
            }),
            _ => w.strings(x, Shape::Str, Loc::TaskOther),
        });
    }

    /// A step, sidecar, step template, or StepAction spec.
    pub(super) fn container(&mut self, v: &'v Value, c: Cont) {
        let at = |f| Loc::Container(c, f);
        self.fields(v, |w, k, x| match k {
            "script" => w.strings(x, Shape::Str, at(CField::Script)),
            "command" | "args" => w.each(x, |w, _, a| w.strings(a, Shape::Elem, at(CField::Cmd))),
            "env" => w.each(x, |w, _, e| {
                w.fields(e, |w, k, v| {
                    let f = if k == "value" {
                        CField::Env
                    } else {
                        CField::Other
                    };
                    w.strings(v, Shape::Str, at(f));
                })
            }),
            "params" => w.param_list(x, at(CField::Params)),
            "ref" => w.fields(x, |w, k, v| {
                if k == "params" {
                    w.param_list(v, at(CField::Params));
                } else {
                    w.strings(v, Shape::Str, at(CField::Other));
                }
            }),
            "when" => w.each(x, |w, _, e| {
                w.fields(e, |w, k, v| match k {
                    "values" => w.each(v, |w, _, s| w.strings(s, Shape::Elem, at(CField::When))),
                    _ => w.strings(v, Shape::Str, at(CField::When)),
                })
            }),
            // declarations and documentation
            "results" | "description" => {}
            _ => w.strings(x, Shape::Str, at(CField::Other)),
        });
    }

    /// A StepAction's spec: one container, without its declarations.
    pub(super) fn step_action_spec(&mut self, v: &'v Value) {
        let at = |f| Loc::Container(Cont::Action, f);
        self.fields(v, |w, k, x| match k {
            "params" | "results" | "description" => {}
            "script" => w.strings(x, Shape::Str, at(CField::Script)),
            "command" | "args" => w.each(x, |w, _, a| w.strings(a, Shape::Elem, at(CField::Cmd))),
            "env" => w.each(x, |w, _, e| {
                w.fields(e, |w, k, v| {
                    let f = if k == "value" {
                        CField::Env
                    } else {
                        CField::Other
                    };
                    w.strings(v, Shape::Str, at(f));
                })
            }),
            _ => w.strings(x, Shape::Str, at(CField::Other)),
        });
    }

    /// The substituted fields of a pipeline task (not its `taskSpec`/`pipelineSpec`, which have
    /// their own scopes).
    pub(super) fn pipeline_task(&mut self, v: &'v Value) {
        let pt = Loc::Pt;
        self.fields(v, |w, k, x| match k {
            "params" => w.param_list(x, pt(PtField::Param)),
            "matrix" => w.fields(x, |w, k, m| match k {
                "params" => w.param_list(m, pt(PtField::Matrix)),
                "include" => w.each(m, |w, _, inc| {
                    w.fields(inc, |w, k, ps| {
                        if k == "params" {
                            w.each(ps, |w, _, p| {
                                w.fields(p, |w, k, v| {
                                    if k == "value" {
                                        w.strings(v, Shape::Str, pt(PtField::Include));
                                    }
                                })
                            });
                        }
                    })
                }),
                _ => {}
            }),
            "when" => w.each(x, |w, _, e| {
                w.fields(e, |w, k, v| match k {
                    "input" => w.strings(v, Shape::Str, pt(PtField::WhenInput)),
                    "values" => w.each(v, |w, _, s| {
                        w.strings(s, Shape::Elem, pt(PtField::WhenValue))
                    }),
                    "cel" => w.strings(v, Shape::Str, pt(PtField::Cel)),
                    _ => {}
                })
            }),
            "displayName" => w.strings(x, Shape::Str, pt(PtField::DisplayName)),
            "workspaces" => w.each(x, |w, _, b| {
                w.fields(b, |w, k, v| {
                    if k == "subPath" {
                        w.strings(v, Shape::Str, pt(PtField::SubPath));
                    }
                })
            }),
            "taskRef" => w.fields(x, |w, k, v| match k {
                "name" => w.strings(v, Shape::Str, pt(PtField::TaskRef)),
                "params" => w.param_list(v, pt(PtField::TaskRef)),
                _ => {}
            }),
            "onError" => w.strings(x, Shape::Str, pt(PtField::OnError)),
            _ => {}
        });
    }

    /// Pipeline-level strings: param defaults and result values (not the tasks).
    pub(super) fn pipeline_spec_own(&mut self, v: &'v Value) {
        self.fields(v, |w, k, x| match k {
            "params" => w.each(x, |w, _, p| {
                w.fields(p, |w, k, d| {
                    if k == "default" {
                        w.param_value(d, Loc::ParamDefault);
                    }
                })
            }),
            "results" => w.each(x, |w, _, r| {
                w.fields(r, |w, k, v| {
                    if k == "value" {
                        w.param_value(v, Loc::PipelineResult);
                    }
                })
            }),
            _ => {}
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sites<'v>(f: impl FnOnce(&mut Walker<'v>)) -> Vec<(String, Shape, Loc)> {
        let mut w = Walker::new("spec");
        f(&mut w);
        w.sites
            .into_iter()
            .map(|s| (s.path, s.shape, s.loc))
            .collect()
    }

    #[test]
    fn task_spec_fields_are_classified() {
        let v = json!({
            "description": "uses $(params.a)",
            "params": [{"name": "a", "default": "$(params.b)"}],
            "steps": [
                {"name": "s", "image": "$(params.img)", "script": "echo $(params.a)",
                 "args": ["$(params.arr[*])", "plain"], "env": [{"name": "X", "value": "$(params.a)"}],
                 "results": [{"name": "r", "description": "$(params.x)"}]},
                {"name": "t", "ref": {"name": "act"}, "params": [{"name": "p", "value": ["$(params.arr[*])"]}]}
            ],
            "sidecars": [{"name": "sc", "image": "x", "command": ["$(params.c)"]}],
            "volumes": [{"name": "$(params.v)"}],
            "workspaces": [{"name": "w", "mountPath": "/ws/$(params.m)", "description": "$(params.no)"}],
            "results": [{"name": "r", "value": "$(steps.s.results.r)"}]
        });
        let got = sites(|w| w.task_spec(&v));
        let c = |i, f| Loc::Container(Cont::Step(i), f);
        assert_eq!(
            got,
            vec![
                (
                    "spec.steps[0].image".to_string(),
                    Shape::Str,
                    c(0, CField::Other)
                ),
                (
                    "spec.steps[0].script".to_string(),
                    Shape::Str,
                    c(0, CField::Script)
                ),
                (
                    "spec.steps[0].args[0]".to_string(),
                    Shape::Elem,
                    c(0, CField::Cmd)
                ),
                (
                    "spec.steps[0].env[0].value".to_string(),
                    Shape::Str,
                    c(0, CField::Env)
                ),
                (
                    "spec.steps[1].params[0].value[0]".to_string(),
                    Shape::Elem,
                    c(1, CField::Params)
                ),
                (
                    "spec.sidecars[0].command[0]".to_string(),
                    Shape::Elem,
                    Loc::Container(Cont::Sidecar, CField::Cmd)
                ),
                (
                    "spec.volumes[0].name".to_string(),
                    Shape::Str,
                    Loc::TaskOther
                ),
                (
                    "spec.workspaces[0].mountPath".to_string(),
                    Shape::Str,
                    Loc::TaskOther
                ),
                (
                    "spec.results[0].value".to_string(),
                    Shape::Whole,
                    Loc::ResultValue
                ),
            ]
        );
    }

    #[test]
    fn pipeline_task_fields_are_classified() {
        let v = json!({
            "name": "t",
            "runAfter": ["$(x)"],
            "params": [{"name": "a", "value": "$(params.a)"}, {"name": "b", "value": ["x", "$(params.arr[*])"]},
                       {"name": "o", "value": {"k": "$(params.o.k)"}}],
            "matrix": {"params": [{"name": "m", "value": ["$(params.m)"]}],
                       "include": [{"name": "i", "params": [{"name": "n", "value": "$(params.n)"}]}]},
            "when": [{"input": "$(params.w)", "operator": "in", "values": ["$(params.v)"]}, {"cel": "'$(params.c)' == 'x'"}],
            "displayName": "$(params.d)",
            "workspaces": [{"name": "w", "subPath": "$(params.s)"}],
            "taskSpec": {"steps": [{"script": "$(params.inner)"}]}
        });
        let got = sites(|w| w.pipeline_task(&v));
        let p = Loc::Pt;
        assert_eq!(
            got,
            vec![
                (
                    "spec.params[0].value".to_string(),
                    Shape::Whole,
                    p(PtField::Param)
                ),
                (
                    "spec.params[1].value[1]".to_string(),
                    Shape::Elem,
                    p(PtField::Param)
                ),
                (
                    "spec.params[2].value.k".to_string(),
                    Shape::Str,
                    p(PtField::Param)
                ),
                (
                    "spec.matrix.params[0].value[0]".to_string(),
                    Shape::Elem,
                    p(PtField::Matrix)
                ),
                (
                    "spec.matrix.include[0].params[0].value".to_string(),
                    Shape::Str,
                    p(PtField::Include)
                ),
                (
                    "spec.when[0].input".to_string(),
                    Shape::Str,
                    p(PtField::WhenInput)
                ),
                (
                    "spec.when[0].values[0]".to_string(),
                    Shape::Elem,
                    p(PtField::WhenValue)
                ),
                ("spec.when[1].cel".to_string(), Shape::Str, p(PtField::Cel)),
                (
                    "spec.displayName".to_string(),
                    Shape::Str,
                    p(PtField::DisplayName)
                ),
                (
                    "spec.workspaces[0].subPath".to_string(),
                    Shape::Str,
                    p(PtField::SubPath)
                ),
            ]
        );
    }

    #[test]
    fn strings_without_a_reference_are_skipped() {
        let v =
            json!({"steps": [{"name": "a", "image": "alpine", "script": "echo ${HOME} $HOME"}]});
        assert!(sites(|w| w.task_spec(&v)).is_empty());
    }
}
