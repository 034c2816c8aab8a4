//! Registration of the host API with the engine.

use super::*;
use crate::diag::codes;

// ---------------------------------------------------------------------------------------------
// Registration

/// Names of the host functions, for "did you mean" suggestions.
pub fn function_names() -> Vec<String> {
    FUNCTIONS.iter().map(|s| s.to_string()).collect()
}

pub(super) const FUNCTIONS: &[&str] = &[
    "task",
    "pipeline",
    "step_action",
    "emit",
    "file",
    "param",
    "result",
    "workspace",
    "step",
    "sidecar",
    "volume",
    "step_template",
    "label",
    "annotation",
    "run",
    "after",
    "finally",
    "task_ref",
    "pipeline_ref",
    "from_hub",
    "from_git",
    "from_bundle",
    "from_cluster",
    "from_http",
    "from_resolver",
    "custom_task",
    "volume_claim",
    "pvc",
    "empty_dir",
    "config_map",
    "secret",
    "secret_env",
    "config_map_env",
    "field_env",
    "when_in",
    "when_notin",
    "cel",
    "step_result",
    "pipeline_run",
    "task_run",
    "to_yaml_string",
];

pub(crate) fn register(engine: &mut Engine, st: Shared) {
    engine
        .register_type_with_name::<TaskB>("Task")
        .register_type_with_name::<PipelineB>("Pipeline")
        .register_type_with_name::<PipelineRunB>("PipelineRun")
        .register_type_with_name::<TaskRunB>("TaskRun")
        .register_type_with_name::<StepActionB>("StepAction")
        .register_type_with_name::<PTask>("PipelineTask")
        .register_type_with_name::<RefValue>("Reference")
        .register_type_with_name::<ParamRef>("Param")
        .register_type_with_name::<ResultDecl>("Result")
        .register_type_with_name::<ResultRef>("ResultRef")
        .register_type_with_name::<StepResultRef>("StepResultRef")
        .register_type_with_name::<TaskWorkspace>("Workspace")
        .register_type_with_name::<PipelineWorkspace>("PipelineWorkspace");

    register_handles(engine);

    // --- task
    let s = st.clone();
    engine.register_fn("task", move |ctx: NativeCallContext, name: &str| {
        new_task(&ctx, &s, name, rhai::Map::new())
    });
    let s = st.clone();
    engine.register_fn(
        "task",
        move |ctx: NativeCallContext, name: &str, opts: rhai::Map| new_task(&ctx, &s, name, opts),
    );
    let s = st.clone();
    engine.register_fn(
        "param",
        move |ctx: NativeCallContext, t: &mut TaskB, name: &str| {
            t.param(&ctx, &s, name, rhai::Map::new())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "param",
        move |ctx: NativeCallContext, t: &mut TaskB, name: &str, o: rhai::Map| {
            t.param(&ctx, &s, name, o)
        },
    );
    let s = st.clone();
    engine.register_fn(
        "result",
        move |ctx: NativeCallContext, t: &mut TaskB, name: &str| {
            t.result(&ctx, &s, name, rhai::Map::new())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "result",
        move |ctx: NativeCallContext, t: &mut TaskB, name: &str, o: rhai::Map| {
            t.result(&ctx, &s, name, o)
        },
    );
    let s = st.clone();
    engine.register_fn(
        "workspace",
        move |ctx: NativeCallContext, t: &mut TaskB, name: &str| {
            t.workspace(&ctx, &s, name, rhai::Map::new())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "workspace",
        move |ctx: NativeCallContext, t: &mut TaskB, name: &str, o: rhai::Map| {
            t.workspace(&ctx, &s, name, o)
        },
    );
    let s = st.clone();
    engine.register_fn(
        "step",
        move |ctx: NativeCallContext, t: &mut TaskB, m: rhai::Map| -> R<TaskB> {
            add_step(&ctx, &s, t, m)?;
            Ok(t.clone())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "step",
        move |ctx: NativeCallContext,
              t: &mut TaskB,
              name: &str,
              image: Dynamic,
              script: Dynamic|
              -> R<TaskB> {
            add_step(&ctx, &s, t, step_map(name, &image, &script)?)?;
            Ok(t.clone())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "step",
        move |ctx: NativeCallContext,
              t: &mut TaskB,
              name: &str,
              image: Dynamic,
              script: Dynamic,
              extra: rhai::Map|
              -> R<TaskB> {
            let mut m = step_map(name, &image, &script)?;
            for (k, v) in extra {
                if m.contains_key(&k) {
                    return Err(HostError::new(
                        codes::E010,
                        format!("step `{name}`: `{k}` is given twice"),
                    )
                    .into());
                }
                m.insert(k, v);
            }
            add_step(&ctx, &s, t, m)?;
            Ok(t.clone())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "sidecar",
        move |ctx: NativeCallContext, t: &mut TaskB, m: rhai::Map| -> R<TaskB> {
            let span = here(&s, &ctx);
            let j = step_json(m, t)?;
            let sc = from_json(j, "sidecar")?;
            let mut d = t.0.borrow_mut();
            let i = d.spec.sidecars.len();
            d.spec.sidecars.push(sc);
            set_origin(&mut d.origins, format!("sidecars[{i}]"), span);
            drop(d);
            Ok(t.clone())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "volume",
        move |ctx: NativeCallContext, t: &mut TaskB, m: rhai::Map| -> R<TaskB> {
            let span = here(&s, &ctx);
            let v = from_json(to_json(&Dynamic::from_map(m), "volume")?, "volume")?;
            let mut d = t.0.borrow_mut();
            let i = d.spec.volumes.len();
            d.spec.volumes.push(v);
            set_origin(&mut d.origins, format!("volumes[{i}]"), span);
            drop(d);
            Ok(t.clone())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "step_template",
        move |ctx: NativeCallContext, t: &mut TaskB, m: rhai::Map| -> R<TaskB> {
            let span = here(&s, &ctx);
            let j = step_json(m, t)?;
            let tmpl = from_json(j, "stepTemplate")?;
            let mut d = t.0.borrow_mut();
            d.spec.step_template = Some(tmpl);
            set_origin(&mut d.origins, "stepTemplate", span);
            drop(d);
            Ok(t.clone())
        },
    );
    engine.register_fn("label", |t: &mut TaskB, k: &str, v: &str| -> TaskB {
        t.0.borrow_mut().meta.labels.insert(k.into(), v.into());
        t.clone()
    });
    engine.register_fn("annotation", |t: &mut TaskB, k: &str, v: &str| -> TaskB {
        t.0.borrow_mut().meta.annotations.insert(k.into(), v.into());
        t.clone()
    });
    engine.register_get("name", |t: &mut TaskB| t.0.borrow().name.clone());
    engine.register_get("params", |t: &mut TaskB| -> rhai::Map {
        t.0.borrow()
            .spec
            .params
            .iter()
            .map(|p| {
                (
                    p.name.as_str().into(),
                    Dynamic::from(ParamRef {
                        name: p.name.clone(),
                        sel: Sel::Whole,
                    }),
                )
            })
            .collect()
    });
    engine.register_get("results", |t: &mut TaskB| -> rhai::Map {
        t.0.borrow()
            .spec
            .results
            .iter()
            .map(|r| {
                (
                    r.name.as_str().into(),
                    Dynamic::from(ResultDecl {
                        name: r.name.clone(),
                        step: None,
                    }),
                )
            })
            .collect()
    });
    engine.register_get("workspaces", |t: &mut TaskB| -> rhai::Map {
        t.0.borrow()
            .spec
            .workspaces
            .iter()
            .map(|w| {
                (
                    w.name.as_str().into(),
                    Dynamic::from(TaskWorkspace {
                        name: w.name.clone(),
                    }),
                )
            })
            .collect()
    });
    engine.register_fn("step_result", |step: &str, result: &str| StepResultRef {
        step: step.into(),
        result: result.into(),
        sel: Sel::Whole,
    });
    let s = st.clone();
    engine.register_fn("run", move |ctx: NativeCallContext, t: &mut TaskB| {
        task_run(&ctx, &s, Some(t.clone()), None, rhai::Map::new())
    });
    let s = st.clone();
    engine.register_fn(
        "run",
        move |ctx: NativeCallContext, t: &mut TaskB, o: rhai::Map| {
            task_run(&ctx, &s, Some(t.clone()), None, o)
        },
    );
    let s = st.clone();
    engine.register_fn(
        "task_run",
        move |ctx: NativeCallContext, r: RefValue, o: rhai::Map| {
            task_run(&ctx, &s, None, Some(r), o)
        },
    );

    // --- step actions
    let s = st.clone();
    engine.register_fn(
        "step_action",
        move |ctx: NativeCallContext, name: &str, o: rhai::Map| new_step_action(&ctx, &s, name, o),
    );
    let s = st.clone();
    engine.register_fn(
        "param",
        move |ctx: NativeCallContext, sa: &mut StepActionB, name: &str| {
            let d = &mut *sa.0.borrow_mut();
            declare_param(
                &mut d.spec.params,
                &mut d.origins,
                here(&s, &ctx),
                name,
                rhai::Map::new(),
            )
        },
    );
    let s = st.clone();
    engine.register_fn(
        "param",
        move |ctx: NativeCallContext, sa: &mut StepActionB, name: &str, o: rhai::Map| {
            let d = &mut *sa.0.borrow_mut();
            declare_param(&mut d.spec.params, &mut d.origins, here(&s, &ctx), name, o)
        },
    );
    engine.register_fn(
        "result",
        |sa: &mut StepActionB, name: &str| -> R<ResultDecl> {
            let r = from_json(result_json(name, rhai::Map::new(), "result")?, "result")?;
            sa.0.borrow_mut().spec.results.push(r);
            Ok(ResultDecl {
                name: name.into(),
                step: Some(String::new()),
            })
        },
    );
    engine.register_fn(
        "result",
        |sa: &mut StepActionB, name: &str, o: rhai::Map| -> R<ResultDecl> {
            let r = from_json(result_json(name, o, "result")?, "result")?;
            sa.0.borrow_mut().spec.results.push(r);
            Ok(ResultDecl {
                name: name.into(),
                step: Some(String::new()),
            })
        },
    );
    engine.register_get("name", |sa: &mut StepActionB| sa.0.borrow().name.clone());

    // --- pipeline
    let s = st.clone();
    engine.register_fn("pipeline", move |ctx: NativeCallContext, name: &str| {
        new_pipeline(&ctx, &s, name, rhai::Map::new())
    });
    let s = st.clone();
    engine.register_fn(
        "pipeline",
        move |ctx: NativeCallContext, name: &str, o: rhai::Map| new_pipeline(&ctx, &s, name, o),
    );
    let s = st.clone();
    engine.register_fn(
        "param",
        move |ctx: NativeCallContext, p: &mut PipelineB, name: &str| {
            p.param(&ctx, &s, name, rhai::Map::new())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "param",
        move |ctx: NativeCallContext, p: &mut PipelineB, name: &str, o: rhai::Map| {
            p.param(&ctx, &s, name, o)
        },
    );
    let s = st.clone();
    engine.register_fn(
        "workspace",
        move |ctx: NativeCallContext, p: &mut PipelineB, name: &str| {
            p.workspace(&ctx, &s, name, rhai::Map::new())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "workspace",
        move |ctx: NativeCallContext, p: &mut PipelineB, name: &str, o: rhai::Map| {
            p.workspace(&ctx, &s, name, o)
        },
    );
    for finally in [false, true] {
        let fname = if finally { "finally" } else { "task" };
        let s = st.clone();
        engine.register_fn(
            fname,
            move |ctx: NativeCallContext, p: &mut PipelineB, name: &str, t: Dynamic| {
                p.add_task(&ctx, &s, name, t, rhai::Map::new(), finally)
            },
        );
        let s = st.clone();
        engine.register_fn(
            fname,
            move |ctx: NativeCallContext,
                  p: &mut PipelineB,
                  name: &str,
                  t: Dynamic,
                  o: rhai::Map| { p.add_task(&ctx, &s, name, t, o, finally) },
        );
    }
    let s = st.clone();
    engine.register_fn(
        "result",
        move |ctx: NativeCallContext, p: &mut PipelineB, name: &str, v: Dynamic| {
            p.result(&ctx, &s, name, v, rhai::Map::new())
        },
    );
    let s = st.clone();
    engine.register_fn(
        "result",
        move |ctx: NativeCallContext, p: &mut PipelineB, name: &str, v: Dynamic, o: rhai::Map| {
            p.result(&ctx, &s, name, v, o)
        },
    );
    let s = st.clone();
    engine.register_fn("run", move |ctx: NativeCallContext, p: &mut PipelineB| {
        pipeline_run(&ctx, &s, Some(p.clone()), None, rhai::Map::new())
    });
    let s = st.clone();
    engine.register_fn(
        "run",
        move |ctx: NativeCallContext, p: &mut PipelineB, o: rhai::Map| {
            pipeline_run(&ctx, &s, Some(p.clone()), None, o)
        },
    );
    let s = st.clone();
    engine.register_fn(
        "pipeline_run",
        move |ctx: NativeCallContext, r: RefValue, o: rhai::Map| {
            pipeline_run(&ctx, &s, None, Some(r), o)
        },
    );
    engine.register_get("name", |p: &mut PipelineB| p.0.borrow().name.clone());
    engine.register_fn(
        "label",
        |p: &mut PipelineB, k: &str, v: &str| -> PipelineB {
            p.0.borrow_mut().meta.labels.insert(k.into(), v.into());
            p.clone()
        },
    );
    engine.register_fn(
        "annotation",
        |p: &mut PipelineB, k: &str, v: &str| -> PipelineB {
            p.0.borrow_mut().meta.annotations.insert(k.into(), v.into());
            p.clone()
        },
    );

    // --- pipeline tasks
    engine.register_fn("result", |t: &mut PTask, name: &str| t.result(name));
    engine.register_fn("after", |t: &mut PTask, other: Dynamic| t.after(other));
    engine.register_get("name", |t: &mut PTask| t.name.clone());
    engine.register_get("status", |t: &mut PTask| {
        format!("$(tasks.{}.status)", t.name)
    });
    engine.register_get("reason", |t: &mut PTask| {
        format!("$(tasks.{}.reason)", t.name)
    });
    engine.register_get("matrix_length", |t: &mut PTask| {
        format!("$(tasks.{}.matrix.length)", t.name)
    });

    // --- references
    engine.register_fn("task_ref", |name: &str| {
        let mut json = Map::new();
        json.insert("name".into(), Value::String(name.into()));
        RefValue {
            json,
            kind_param: false,
            custom_spec: None,
        }
    });
    engine.register_fn("task_ref", |name: &str, opts: rhai::Map| -> R<RefValue> {
        // `kind` other than `Task` (e.g. a cluster's own spelling); custom tasks use `custom_task`
        let mut json = Map::new();
        json.insert("name".into(), Value::String(name.into()));
        for (k, v) in opts.iter() {
            match k.as_str() {
                "kind" => {
                    json.insert(
                        "kind".into(),
                        Value::String(convert::to_string_value(v, "kind")?),
                    );
                }
                other => return Err(unknown_key(other, "task_ref options", &["kind"]).into()),
            }
        }
        Ok(RefValue {
            json,
            kind_param: false,
            custom_spec: None,
        })
    });
    engine.register_fn("pipeline_ref", |name: &str| {
        let mut json = Map::new();
        json.insert("name".into(), Value::String(name.into()));
        RefValue {
            json,
            kind_param: false,
            custom_spec: None,
        }
    });
    engine.register_fn("from_hub", |n: &str, v: &str| {
        from_hub(n, v, rhai::Map::new())
    });
    engine.register_fn("from_hub", from_hub);
    engine.register_fn("from_git", from_git);
    engine.register_fn("from_bundle", |i: &str, n: &str| {
        from_bundle(i, n, rhai::Map::new())
    });
    engine.register_fn("from_bundle", from_bundle);
    engine.register_fn("from_cluster", |n: &str| from_cluster(n, rhai::Map::new()));
    engine.register_fn("from_cluster", from_cluster);
    engine.register_fn("from_http", |u: &str| from_http(u, rhai::Map::new()));
    engine.register_fn("from_http", from_http);
    engine.register_fn("from_resolver", from_resolver);
    engine.register_fn("custom_task", |a: &str, k: &str| custom_task(a, k, ""));
    engine.register_fn("custom_task", custom_task);
    engine.register_fn(
        "custom_task",
        |a: &str, k: &str, spec: rhai::Map| -> R<RefValue> {
            let mut r = custom_task(a, k, "");
            r.custom_spec = Some(to_json(&Dynamic::from_map(spec), "custom task spec")?);
            Ok(r)
        },
    );

    // --- workspace bindings and env helpers (plain maps, so `+ #{ subPath: "x" }` works)
    engine.register_fn("volume_claim", |size: &str| -> rhai::Map {
        volume_claim(size, "ReadWriteOnce", None)
    });
    engine.register_fn("volume_claim", |o: rhai::Map| -> R<rhai::Map> {
        let mut size = None;
        let mut mode = "ReadWriteOnce".to_string();
        let mut class = None;
        for (k, v) in o.iter() {
            match k.as_str() {
                "storage" => size = Some(convert::to_string_value(v, "storage")?),
                "accessMode" => mode = convert::to_string_value(v, "accessMode")?,
                "storageClassName" => {
                    class = Some(convert::to_string_value(v, "storageClassName")?)
                }
                other => {
                    return Err(unknown_key(
                        other,
                        "volume_claim options",
                        &["storage", "accessMode", "storageClassName"],
                    )
                    .into());
                }
            }
        }
        let size = size.ok_or_else(|| {
            HostError::new(codes::E010, "volume_claim needs `storage` (e.g. \"1Gi\")")
        })?;
        Ok(volume_claim(&size, &mode, class))
    });
    engine.register_fn("pvc", |name: &str| {
        map1("persistentVolumeClaim", map1("claimName", dstr(name)))
    });
    engine.register_fn("empty_dir", || map1("emptyDir", rhai::Map::new()));
    engine.register_fn("config_map", |name: &str| {
        map1("configMap", map1("name", dstr(name)))
    });
    engine.register_fn("secret", |name: &str| {
        map1("secret", map1("secretName", dstr(name)))
    });
    engine.register_fn("secret_env", |name: &str, key: &str| {
        let mut r = rhai::Map::new();
        r.insert("name".into(), dstr(name));
        r.insert("key".into(), key.into());
        map1("valueFrom", map1("secretKeyRef", r))
    });
    engine.register_fn("config_map_env", |name: &str, key: &str| {
        let mut r = rhai::Map::new();
        r.insert("name".into(), dstr(name));
        r.insert("key".into(), key.into());
        map1("valueFrom", map1("configMapKeyRef", r))
    });
    engine.register_fn("field_env", |path: &str| {
        map1("valueFrom", map1("fieldRef", map1("fieldPath", dstr(path))))
    });

    // --- when expressions
    engine.register_fn("when_in", |input: Dynamic, values: Dynamic| {
        when_map(input, "in", values)
    });
    engine.register_fn("when_notin", |input: Dynamic, values: Dynamic| {
        when_map(input, "notin", values)
    });
    engine.register_fn("cel", |expr: &str| map1("cel", dstr(expr)));

    engine.register_fn("dedent", |s: &str| dedent(s));

    // --- emit, file
    let s = st.clone();
    engine.register_fn("emit", move |v: Dynamic| emit_value(&s, v));
    let s = st;
    engine.register_fn("file", move |ctx: NativeCallContext, path: &str| {
        read_file(&ctx, &s, path)
    });
}

pub(super) fn dstr(s: &str) -> Dynamic {
    Dynamic::from(s.to_string())
}

/// Removes the indentation common to all non-blank lines and a leading newline, so a script written
/// indented inside the code (`dedent(`\n    #!/bin/sh\n    echo hi\n`)`) starts with its shebang.
pub fn dedent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<&str> = text
        .lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect();
    // a closing backtick on its own indented line leaves a whitespace-only last line
    if out.last().is_some_and(|l| l.trim().is_empty()) && text.ends_with([' ', '\t']) {
        out.pop();
        return out.join("\n") + "\n";
    }
    let mut s = out.join("\n");
    if text.ends_with('\n') {
        s.push('\n');
    }
    s
}

pub(super) fn map1(k: &str, v: impl Into<Dynamic>) -> rhai::Map {
    let mut m = rhai::Map::new();
    m.insert(k.into(), v.into());
    m
}

pub(super) fn when_map(input: Dynamic, op: &str, values: Dynamic) -> rhai::Map {
    let mut m = rhai::Map::new();
    m.insert("input".into(), input);
    m.insert("operator".into(), op.into());
    let values = if values.is_array() {
        values
    } else {
        Dynamic::from_array(vec![values])
    };
    m.insert("values".into(), values);
    m
}

pub(super) fn volume_claim(size: &str, mode: &str, class: Option<String>) -> rhai::Map {
    let mut spec = rhai::Map::new();
    spec.insert("accessModes".into(), Dynamic::from_array(vec![mode.into()]));
    spec.insert(
        "resources".into(),
        map1("requests", map1("storage", dstr(size))).into(),
    );
    if let Some(c) = class {
        spec.insert("storageClassName".into(), c.into());
    }
    map1("volumeClaimTemplate", map1("spec", spec))
}

pub(super) fn register_handles(engine: &mut Engine) {
    // Params: `p`, `p[0]`, `p["key"]`, `p.all`
    engine.register_fn("to_string", |p: &mut ParamRef| p.render());
    engine.register_fn("to_debug", |p: &mut ParamRef| p.render());
    engine.register_indexer_get(|p: &mut ParamRef, i: rhai::INT| ParamRef {
        name: p.name.clone(),
        sel: Sel::Index(i),
    });
    engine.register_indexer_get(|p: &mut ParamRef, k: &str| ParamRef {
        name: p.name.clone(),
        sel: Sel::Key(k.into()),
    });
    engine.register_get("all", |p: &mut ParamRef| ParamRef {
        name: p.name.clone(),
        sel: Sel::Star,
    });
    engine.register_get("name", |p: &mut ParamRef| p.name.clone());

    engine.register_fn("to_string", |r: &mut ResultRef| r.render());
    engine.register_fn("to_debug", |r: &mut ResultRef| r.render());
    engine.register_indexer_get(|r: &mut ResultRef, i: rhai::INT| ResultRef {
        sel: Sel::Index(i),
        ..r.clone()
    });
    engine.register_indexer_get(|r: &mut ResultRef, k: &str| ResultRef {
        sel: Sel::Key(k.into()),
        ..r.clone()
    });
    engine.register_get("all", |r: &mut ResultRef| ResultRef {
        sel: Sel::Star,
        ..r.clone()
    });

    engine.register_fn("to_string", |r: &mut StepResultRef| r.render());
    engine.register_fn("to_debug", |r: &mut StepResultRef| r.render());
    engine.register_indexer_get(|r: &mut StepResultRef, i: rhai::INT| StepResultRef {
        sel: Sel::Index(i),
        ..r.clone()
    });
    engine.register_indexer_get(|r: &mut StepResultRef, k: &str| StepResultRef {
        sel: Sel::Key(k.into()),
        ..r.clone()
    });

    engine.register_fn("to_string", |r: &mut ResultDecl| r.render());
    engine.register_fn("to_debug", |r: &mut ResultDecl| r.render());
    engine.register_get("path", |r: &mut ResultDecl| r.render());
    engine.register_get("name", |r: &mut ResultDecl| r.name.clone());

    engine.register_fn("to_string", |w: &mut TaskWorkspace| w.attr("path"));
    engine.register_fn("to_debug", |w: &mut TaskWorkspace| w.attr("path"));
    for attr in ["path", "bound", "claim", "volume"] {
        engine.register_get(attr, move |w: &mut TaskWorkspace| w.attr(attr));
    }
    engine.register_get("name", |w: &mut TaskWorkspace| w.name.clone());

    // Rhai swallows errors raised by `to_string` during interpolation, so this cannot fail here; it
    // renders the task-side form, which validation reports when used outside a task.
    engine.register_fn("to_string", |w: &mut PipelineWorkspace| {
        format!("$(workspaces.{}.path)", w.name)
    });
    engine.register_fn("to_debug", |w: &mut PipelineWorkspace| {
        format!("PipelineWorkspace({})", w.name)
    });
    engine.register_get("bound", |w: &mut PipelineWorkspace| {
        format!("$(workspaces.{}.bound)", w.name)
    });
    engine.register_get("name", |w: &mut PipelineWorkspace| w.name.clone());

    engine.register_fn("to_string", |t: &mut PTask| t.name.clone());
    engine.register_fn("to_debug", |t: &mut PTask| {
        format!("PipelineTask({})", t.name)
    });
    engine.register_fn("to_debug", |t: &mut TaskB| {
        format!("Task({})", t.0.borrow().name)
    });
    engine.register_fn("to_debug", |p: &mut PipelineB| {
        format!("Pipeline({})", p.0.borrow().name)
    });
}
