//! `file()`, `emit()` and turning what was emitted into a bundle.

use super::*;
use crate::diag::codes;

// ---------------------------------------------------------------------------------------------
// file()

pub(super) fn read_file(ctx: &NativeCallContext, st: &Shared, path: &str) -> R<String> {
    let s = st.borrow();
    let Some(root) = s.root.clone() else {
        return Err(HostError::new(
            codes::E007,
            "`file()` is not available: this script was not loaded from a file",
        )
        .into());
    };
    let importer = ctx.call_source().and_then(|src| s.paths.get(src)).cloned();
    drop(s);
    let base = importer
        .as_deref()
        .and_then(std::path::Path::parent)
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| root.clone());
    match crate::script::stdlib::confine(&root, &base, std::path::Path::new(path)) {
        Err(msg) => Err(HostError::new(codes::E007, format!("cannot read `{path}`: {msg}")).into()),
        Ok(None) => Err(
            HostError::new(codes::E007, format!("cannot read `{path}`: no such file"))
                .help(format!(
                    "paths are relative to the script's directory ({})",
                    base.display()
                ))
                .into(),
        ),
        // At most the largest string a script may hold: a bigger file could not be used anyway,
        // and it is refused before it is read.
        Ok(Some(real)) => crate::source::read_text_file(
            &real,
            crate::script::limits::MAX_STRING_SIZE as u64,
        )
        .map_err(|e| {
            let too_large = matches!(e, crate::source::ReadError::TooLarge(_));
            let e = HostError::new(codes::E007, format!("cannot read `{path}`: {e}"));
            if too_large {
                e.help("that is the largest string a script can hold; keep large files out of the pipeline definition (fetch them in a step)")
            } else {
                e
            }
            .into()
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// emit and finish

pub(super) fn emit_value(st: &Shared, v: Dynamic) -> R<()> {
    if v.is_array() {
        for x in list(&v, "emit")? {
            emit_value(st, x)?;
        }
        return Ok(());
    }
    let e = if let Some(t) = v.clone().try_cast::<TaskB>() {
        Emitted::Task(t)
    } else if let Some(p) = v.clone().try_cast::<PipelineB>() {
        Emitted::Pipeline(p)
    } else if let Some(r) = v.clone().try_cast::<PipelineRunB>() {
        Emitted::PipelineRun(r)
    } else if let Some(r) = v.clone().try_cast::<TaskRunB>() {
        Emitted::TaskRun(r)
    } else if let Some(s) = v.clone().try_cast::<StepActionB>() {
        Emitted::StepAction(s)
    } else {
        return Err(HostError::new(
            codes::E003,
            format!(
                "`emit` takes a Task, Pipeline, PipelineRun, TaskRun or StepAction (or an array of them), found {}",
                handles::type_label(&v)
            ),
        )
        .into());
    };
    st.borrow_mut().emitted.push(e);
    Ok(())
}

pub(super) type Out = Vec<(Resource, Origins)>;

pub(super) fn push_step_actions(out: &mut Out, t: &TaskB) {
    for sa in t.0.borrow().step_actions.clone() {
        out.push(sa.to_resource());
    }
}

pub(super) fn push_task(out: &mut Out, t: &TaskB) {
    push_step_actions(out, t);
    out.push(t.to_resource());
}

/// The pipeline's step actions and referenced local tasks; then (unless `run_embeds`) the pipeline.
pub(super) fn push_pipeline_deps(out: &mut Out, p: &PipelineB, embed_all: bool) {
    let referenced = if embed_all {
        Vec::new()
    } else {
        p.referenced_tasks()
    };
    for t in p.local_tasks() {
        if !referenced.iter().any(|r| Rc::ptr_eq(&r.0, &t.0)) {
            push_step_actions(out, &t);
        }
    }
    for t in &referenced {
        push_task(out, t);
    }
}

/// Finalizes everything the script emitted into a bundle. Objects defined in the script that an emitted
/// object references by name (a pipeline's tasks, a task's step actions, a run's pipeline or task) are
/// emitted before it; an object emitted twice appears once; two different objects with the same kind and
/// name are an error. A run that embeds its pipeline embeds the pipeline's tasks too (self-contained).
pub(crate) fn finish(st: &Shared) -> Result<Bundle, Diagnostics> {
    let emitted = st.borrow().emitted.clone();
    let mut out: Out = Vec::new();
    for e in &emitted {
        match e {
            Emitted::Task(t) => push_task(&mut out, t),
            Emitted::Pipeline(p) => {
                push_pipeline_deps(&mut out, p, false);
                out.push(p.to_resource(false));
            }
            Emitted::PipelineRun(r) => {
                if let Some((p, embed)) = r.0.borrow().pipeline.clone() {
                    push_pipeline_deps(&mut out, &p, embed);
                    if !embed {
                        out.push(p.to_resource(false));
                    }
                }
                out.push(r.to_resource());
            }
            Emitted::TaskRun(r) => {
                if let Some((t, embed)) = r.0.borrow().task.clone() {
                    if embed {
                        push_step_actions(&mut out, &t);
                    } else {
                        push_task(&mut out, &t);
                    }
                }
                out.push(r.to_resource());
            }
            Emitted::StepAction(s) => out.push(s.to_resource()),
        }
    }
    let mut diags = Diagnostics::default();
    if emitted.is_empty() {
        diags.push(
            Diagnostic::error(codes::E012, "the script emitted nothing")
                .help("call `emit(p)` for each pipeline, task or run to write"),
        );
        return Err(diags);
    }
    let mut bundle = Bundle::default();
    for (res, origins) in out {
        let named = res.metadata().name.clone();
        if let Some(name) = &named
            && let Some(prev) = bundle.objects.iter().find(|o| {
                o.resource.kind() == res.kind() && o.resource.metadata().name.as_ref() == Some(name)
            })
        {
            if prev.resource != res {
                diags.push(
                    Diagnostic::error(
                        codes::E011,
                        format!("two different {}s are both named `{name}`", res.kind()),
                    )
                    .at(origins.lookup(""))
                    .label("this one")
                    .secondary(prev.origins.lookup(""), "conflicts with this one")
                    // made inside a module: where the user's script asked for each of them
                    .secondary(
                        prev.origins.trace().last().map(|(s, _)| *s),
                        "the other one is made by this call",
                    )
                    .help("give one of them another name, or embed it in its pipeline with `embed: true`")
                    .with_trace(
                        origins
                            .trace()
                            .iter()
                            .map(|(span, note)| crate::diag::Frame {
                                span: *span,
                                note: note.clone(),
                            })
                            .collect(),
                    ),
                );
            }
            continue;
        }
        bundle.objects.push(Object {
            resource: res,
            origins,
        });
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(bundle)
}

/// W511: Tasks and Pipelines the script built but neither emitted nor used in anything emitted (they are
/// silently missing from the output otherwise).
pub(crate) fn never_emitted(st: &Shared) -> Vec<Diagnostic> {
    let (emitted, created) = {
        let s = st.borrow();
        (s.emitted.clone(), s.created.clone())
    };
    if emitted.is_empty() {
        return Vec::new(); // E012 says it all
    }
    let mut tasks: Vec<TaskB> = Vec::new();
    let mut pipelines: Vec<PipelineB> = Vec::new();
    fn add_pipeline(p: &PipelineB, tasks: &mut Vec<TaskB>, pipelines: &mut Vec<PipelineB>) {
        if pipelines.iter().any(|q| Rc::ptr_eq(&q.0, &p.0)) {
            return;
        }
        pipelines.push(p.clone());
        tasks.extend(p.local_tasks());
        let children = p.0.borrow().children.clone();
        for c in &children {
            add_pipeline(c, tasks, pipelines);
        }
    }
    for e in &emitted {
        match e {
            Emitted::Task(t) => tasks.push(t.clone()),
            Emitted::Pipeline(p) => add_pipeline(p, &mut tasks, &mut pipelines),
            Emitted::PipelineRun(r) => {
                if let Some((p, _)) = r.0.borrow().pipeline.clone() {
                    add_pipeline(&p, &mut tasks, &mut pipelines);
                }
            }
            Emitted::TaskRun(r) => {
                if let Some((t, _)) = r.0.borrow().task.clone() {
                    tasks.push(t);
                }
            }
            Emitted::StepAction(_) => {}
        }
    }
    let mut out = Vec::new();
    for c in &created {
        let (kind, name, at) = match c {
            Emitted::Task(t) if !tasks.iter().any(|u| Rc::ptr_eq(&u.0, &t.0)) => {
                let d = t.0.borrow();
                ("Task", d.name.clone(), d.at)
            }
            Emitted::Pipeline(p) if !pipelines.iter().any(|u| Rc::ptr_eq(&u.0, &p.0)) => {
                let d = p.0.borrow();
                ("Pipeline", d.name.clone(), d.at)
            }
            _ => continue,
        };
        out.push(
            Diagnostic::warning(
                codes::W511,
                format!("the {kind} `{name}` is built but never emitted, so it is not in the output"),
            )
            .at(at)
            .label("built here")
            .help(if kind == "Task" {
                "emit it (`emit(t)`), use it in an emitted pipeline (`p.task(\"name\", t)`), or remove it"
            } else {
                "emit it (`emit(p)` or `emit(p.run(..))`), or remove it"
            }),
        );
    }
    out
}
