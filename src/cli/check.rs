//! `tekscript check SCRIPT` — compile and validate, print diagnostics only.

use super::{CompileArgs, ExitStatus, usage_error};
use crate::diag::render::{Format, render, render_summary};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The entry script (.rhai), or Tekton YAML files (.yaml/.yml; v1 or v1beta1) checked together
    #[arg(required = true, value_name = "SCRIPT|FILE.yaml")]
    inputs: Vec<PathBuf>,
    /// Treat warnings as errors (`--deny warnings`)
    #[arg(long, value_name = "warnings")]
    deny: Option<Deny>,
    #[command(flatten)]
    compile: CompileArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Deny {
    Warnings,
}

pub fn run(args: CheckArgs) -> ExitStatus {
    let opts = match args.compile.options() {
        Ok(o) => o,
        Err(status) => return status,
    };
    let out = &args.compile.output;
    let is_yaml = |p: &PathBuf| {
        matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml") | Some("yml")
        )
    };
    let yaml = args.inputs.iter().all(is_yaml);
    if !yaml && args.inputs.len() != 1 {
        return usage_error("check takes one script, or any number of .yaml/.yml files");
    }
    let result = if yaml {
        crate::check_yaml_files(&args.inputs, &opts)
    } else {
        crate::compile_file(&args.inputs[0], &opts)
    };
    let (sources, diags, failed) = match result {
        Ok(c) => (c.sources, c.warnings, false),
        Err(f) => {
            let io = f.diagnostics.iter().any(|d| d.code == "E016");
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
    let denied = args.deny.is_some() && !diags.is_empty();
    if failed || denied {
        ExitStatus::Failure
    } else {
        if matches!(out.format(), Format::Human) {
            let names: Vec<String> = args
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            eprintln!("ok: {} has no problems", names.join(", "));
        }
        ExitStatus::Success
    }
}
