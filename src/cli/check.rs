//! `tekscript check [SCRIPT | FILE.yaml…]` — compile and validate, print diagnostics only. Without
//! inputs, every entry script of tekscript.toml.

use super::{CompileArgs, ExitStatus, project, usage_error};
use crate::diag::codes;
use crate::diag::render::{Format, render, render_summary};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The entry script (.rhai), or Tekton YAML files (.yaml/.yml; v1 or v1beta1) checked together;
    /// without any, every `[[entry]]` of tekscript.toml
    #[arg(value_name = "SCRIPT|FILE.yaml")]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    compile: CompileArgs,
}

pub fn run(args: CheckArgs) -> ExitStatus {
    if args.inputs.is_empty() {
        let (proj, entries) = match project::all_entries(&args.compile.output, "check") {
            Ok(x) => x,
            Err(status) => return status,
        };
        let mut worst = ExitStatus::Success;
        for entry in entries {
            let status = match args.compile.options_with(Some(proj), Some(entry)) {
                Ok(opts) => check(&args, std::slice::from_ref(&entry.script), &opts),
                Err(e) => args.compile.report(e),
            };
            worst = match (worst, status) {
                (ExitStatus::Error, _) | (_, ExitStatus::Error) => ExitStatus::Error,
                (ExitStatus::Failure, _) | (_, ExitStatus::Failure) => ExitStatus::Failure,
                _ => ExitStatus::Success,
            };
        }
        return worst;
    }
    let opts = match args.compile.options_for(Some(&args.inputs[0])) {
        Ok(o) => o,
        Err(status) => return status,
    };
    check(&args, &args.inputs, &opts)
}

fn check(args: &CheckArgs, inputs: &[PathBuf], opts: &crate::Options) -> ExitStatus {
    let out = &args.compile.output;
    let is_yaml = |p: &PathBuf| {
        matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml") | Some("yml")
        )
    };
    let yaml = inputs.iter().all(is_yaml);
    if !yaml && inputs.len() != 1 {
        return usage_error("check takes one script, or any number of .yaml/.yml files");
    }
    let result = if yaml {
        crate::check_yaml_files(inputs, opts)
    } else {
        crate::compile_file(&inputs[0], opts)
    };
    let (sources, diags, failed) = match result {
        Ok(c) => (c.sources, c.warnings, false),
        Err(f) => {
            let io = f.diagnostics.iter().any(|d| d.code == codes::E016);
            if io {
                eprint!(
                    "{}",
                    render(&f.diagnostics.0, &f.sources, out.format(), out.color())
                );
                return ExitStatus::Error;
            }
            (f.sources, f.diagnostics, true)
        }
    };
    eprint!("{}", render(&diags.0, &sources, out.format(), out.color()));
    if matches!(out.format(), Format::Human) {
        eprint!("{}", render_summary(&diags.0));
    }
    if failed {
        ExitStatus::Failure
    } else {
        if matches!(out.format(), Format::Human) {
            let names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
            eprintln!("ok: {} has no problems", names.join(", "));
        }
        ExitStatus::Success
    }
}
