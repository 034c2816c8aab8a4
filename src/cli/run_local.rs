//! `tekscript run SCRIPT --local`: the same run, planned the same way, executed on this machine by
//! [`crate::local`] instead of a cluster; rendered by the same [`Renderer`].

use super::{Renderer, RunArgs};
use crate::bundle::{Bundle, Resource};
use crate::cli::{ExitStatus, compile_reporting};
use crate::exec::plan::{self as runs, RunRequest};
use crate::local::{self, Choice, LocalError, LocalRun, Options};
use crate::model::{PipelineRun, StepActionSpec, TaskSpec};
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct LocalArgs {
    /// Run the pipeline on this machine (podman, docker or the host's shell) instead of a cluster
    #[arg(long)]
    pub(super) local: bool,
    /// With --local: where steps run (auto = podman if it works, else docker)
    #[arg(long, value_enum, value_name = "RUNTIME", default_value_t = RuntimeArg::Auto)]
    runtime: RuntimeArg,
    /// With --local: use IMAGE for images matching PATTERN (`*` matches any text and is repeated in
    /// IMAGE: 'docker.io/library/*=mirror.local/*') (repeatable; the first match wins)
    #[arg(long = "image-map", value_name = "PATTERN=IMAGE")]
    image_map: Vec<String>,
    /// With --local: TaskRuns running at once (default: the number of CPUs)
    #[arg(long, value_name = "N")]
    parallel: Option<usize>,
    /// With --local: keep the run's directories (workspaces, results, scripts) and print where
    #[arg(long)]
    keep: bool,
    /// With --local: Secrets and ConfigMaps as files DIR/NAME/KEY
    #[arg(long = "secret-dir", value_name = "DIR")]
    secret_dir: Option<PathBuf>,
    /// With --local: Tasks and StepActions as YAML (a file or a directory of them), for references the
    /// script does not define (repeatable)
    #[arg(long = "task-file", value_name = "FILE")]
    task_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum RuntimeArg {
    Auto,
    Podman,
    Docker,
    Host,
}

impl LocalArgs {
    /// A flag given that only means something with `--local`.
    pub(super) fn only_local(&self) -> Option<&'static str> {
        if self.runtime != RuntimeArg::Auto {
            Some("--runtime")
        } else if !self.image_map.is_empty() {
            Some("--image-map")
        } else if self.parallel.is_some() {
            Some("--parallel")
        } else if self.keep {
            Some("--keep")
        } else if self.secret_dir.is_some() {
            Some("--secret-dir")
        } else if !self.task_files.is_empty() {
            Some("--task-file")
        } else {
            None
        }
    }
}

fn yaml_files(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| format!("--task-file {}: {e}", p.display()))?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            if e.is_dir() {
                yaml_files(&e, out)?;
            } else if matches!(e.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
                out.push(e);
            }
        }
        Ok(())
    } else if p.is_file() {
        out.push(p.to_path_buf());
        Ok(())
    } else {
        Err(format!(
            "--task-file {}: no such file or directory",
            p.display()
        ))
    }
}

pub(super) fn run(args: RunArgs) -> ExitStatus {
    let la = &args.local;
    if args.detach {
        return super::super::usage_error(
            "--detach cannot be used with --local (the run lives in this process)",
        );
    }
    if args.embed {
        return super::super::usage_error(
            "--embed has no meaning with --local (nothing is sent to a cluster)",
        );
    }
    let timeout = match args
        .timeout
        .as_deref()
        .map(runs::parse_duration)
        .transpose()
    {
        Ok(t) => t,
        Err(e) => return super::super::usage_error(&format!("--timeout: {e}")),
    };
    let mut image_map = Vec::new();
    for m in &la.image_map {
        match m.split_once('=') {
            Some((p, i)) if !p.is_empty() && !i.is_empty() => {
                image_map.push((p.to_string(), i.to_string()))
            }
            _ => {
                return super::super::usage_error(&format!(
                    "--image-map {m:?}: expected PATTERN=IMAGE"
                ));
            }
        }
    }
    if la.parallel == Some(0) {
        return super::super::usage_error("--parallel must be at least 1");
    }
    if let Some(d) = &la.secret_dir
        && !d.is_dir()
    {
        return super::super::usage_error(&format!(
            "--secret-dir {}: not a directory",
            d.display()
        ));
    }
    let compiled = match compile_reporting(&args.compile, &args.script) {
        Ok(c) => c,
        Err(status) => return status,
    };
    // -w NAME=DIR: plan it as an emptyDir (so the name is checked), back it with the directory
    let mut problems = Vec::new();
    let mut dirs: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut workspaces = Vec::new();
    for w in &args.workspaces {
        match w.split_once('=') {
            Some((name, value)) if name != "name" && local::is_dir_binding(value) => {
                let expanded = match value.strip_prefix("~/") {
                    Some(rest) => std::env::var_os("HOME")
                        .map(|h| PathBuf::from(h).join(rest))
                        .unwrap_or_else(|| PathBuf::from(value)),
                    None => PathBuf::from(value),
                };
                match std::fs::canonicalize(&expanded) {
                    Ok(p) if p.is_dir() => {
                        dirs.insert(name.to_string(), p);
                        workspaces.push(format!("{name}=emptyDir"));
                    }
                    _ => problems.push(format!("-w {w}: {value} is not a directory")),
                }
            }
            _ => workspaces.push(w.clone()),
        }
    }
    // --task-file: Tasks and StepActions as YAML, checked like `tekscript check`
    let mut task_files: BTreeMap<String, TaskSpec> = BTreeMap::new();
    let mut step_actions: BTreeMap<String, StepActionSpec> = BTreeMap::new();
    let mut extra: Vec<crate::bundle::Object> = Vec::new();
    if !la.task_files.is_empty() {
        let mut files = Vec::new();
        for f in &la.task_files {
            if let Err(e) = yaml_files(f, &mut files) {
                return super::super::usage_error(&e);
            }
        }
        let opts = match args.compile.options_for(Some(&args.script)) {
            Ok(o) => o,
            Err(status) => return status,
        };
        match crate::check_yaml_files(&files, &opts) {
            Ok(c) => {
                for o in &c.bundle.bundle().objects {
                    match &o.resource {
                        Resource::Task(t) => {
                            if let Some(n) = &t.metadata.name {
                                task_files.insert(n.clone(), t.spec.clone());
                            }
                        }
                        Resource::StepAction(s) => {
                            if let Some(n) = &s.metadata.name {
                                step_actions.insert(n.clone(), s.spec.clone());
                            }
                        }
                        _ => {}
                    }
                    extra.push(o.clone());
                }
            }
            Err(f) => {
                eprint!("{}", f.render_plain());
                return ExitStatus::Failure;
            }
        }
    }
    let bundle = compiled.bundle.bundle();
    for o in &bundle.objects {
        if let Resource::StepAction(s) = &o.resource
            && let Some(n) = &s.metadata.name
        {
            step_actions.insert(n.clone(), s.spec.clone());
        }
    }
    let req = RunRequest {
        pipeline: args.pipeline.clone(),
        params: args.params.clone(),
        workspaces,
        embed: false,
        pipeline_timeout: args.pipeline_timeout.clone(),
        service_account: args.service_account.clone(),
    };
    let plan = runs::plan_run(bundle.objects.iter().map(|o| &o.resource), &req);
    let mut plan = match plan {
        Ok(p) if problems.is_empty() => p,
        Ok(_) => {
            for p in &problems {
                eprintln!("error: {p}");
            }
            return ExitStatus::Failure;
        }
        Err(e) => {
            for line in e.lines().chain(problems.iter().map(String::as_str)) {
                eprintln!("error: {line}");
            }
            return ExitStatus::Failure;
        }
    };
    if args.dry_run {
        return match crate::emit::to_yaml(&plan.body) {
            Ok(y) => super::super::write_stdout(&y),
            Err(e) => super::super::usage_error(&e.to_string()),
        };
    }
    // a generateName run gets its name here, as the API server would give it
    let meta = &mut plan.body["metadata"];
    if meta.get("name").is_none_or(|n| n.is_null())
        && let Some(g) = meta.get("generateName").and_then(|g| g.as_str())
    {
        meta["name"] = format!("{g}{}", local::random_suffix()).into();
    }
    let run: PipelineRun = match serde_json::from_value(plan.body.clone()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: the planned PipelineRun is not valid: {e}");
            return ExitStatus::Failure;
        }
    };
    let mut all = Bundle {
        objects: bundle.objects.clone(),
    };
    all.objects.extend(extra);
    let input = match crate::exec::simulate::input_for(&run, &all) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Failure;
        }
    };
    let mut renderer = Renderer::new(&args.display);
    let opts = Options {
        runtime: match la.runtime {
            RuntimeArg::Auto => Choice::Auto,
            RuntimeArg::Podman => Choice::Podman,
            RuntimeArg::Docker => Choice::Docker,
            RuntimeArg::Host => Choice::Host,
        },
        image_map,
        parallel: la.parallel.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }),
        keep: la.keep,
        timeout,
        secret_dir: la.secret_dir.clone(),
        graceful: args.graceful,
        ticks: renderer.ticks(),
    };
    let job = LocalRun {
        input,
        bindings: run.spec.workspaces.clone(),
        dirs,
        step_actions,
        task_files,
    };
    let result = {
        let renderer = &mut renderer;
        let mut on_started = |s: &local::Started| {
            eprintln!(
                "PipelineRun {} running on this machine (runtime {})",
                s.name, s.runtime
            );
        };
        let mut on_event = |ev| renderer.event(ev);
        local::run(job, &opts, &mut on_started, &mut on_event)
    };
    match result {
        Ok(summary) => renderer.summary(&summary),
        Err(LocalError::Input(problems)) => {
            renderer.finish_live();
            for p in problems {
                eprintln!("error: {p}");
            }
            ExitStatus::Failure
        }
        Err(LocalError::Tool(e)) => {
            renderer.finish_live();
            eprintln!("error: {e}");
            ExitStatus::Error
        }
    }
}
