//! `tekscript build SCRIPT [-o DIR] [--check]`

use super::{CompileArgs, ExitStatus, compile_reporting, write_stdout};
use crate::emit;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The entry script (.rhai)
    script: PathBuf,
    /// Write one file per object into DIR (plus kustomization.yaml) instead of a YAML stream on stdout
    #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// With -o: write nothing; exit 1 and list the differences when DIR is out of date
    #[arg(long, requires = "out_dir")]
    check: bool,
    #[command(flatten)]
    compile: CompileArgs,
}

pub fn run(args: BuildArgs) -> ExitStatus {
    let compiled = match compile_reporting(&args.compile, &args.script) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let Some(dir) = &args.out_dir else {
        return write_stdout(&compiled.to_yaml());
    };
    let source_name = args
        .script
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let files = match emit::layout(&compiled.emit_docs(), &source_name) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Failure;
        }
    };
    if args.check {
        let diffs = emit::check_dir(dir, &files);
        if diffs.is_empty() {
            eprintln!("{} is up to date ({} files)", dir.display(), files.len());
            return ExitStatus::Success;
        }
        eprintln!(
            "error[E601]: {} is out of date; run the same `tekscript build` without --check to update it",
            dir.display()
        );
        for d in &diffs {
            eprintln!("{d}");
        }
        return ExitStatus::Failure;
    }
    match emit::write_dir(dir, &files) {
        Ok(report) => {
            eprintln!(
                "wrote {}: {} written, {} unchanged, {} removed",
                dir.display(),
                report.written.len(),
                report.unchanged.len(),
                report.removed.len()
            );
            ExitStatus::Success
        }
        Err(e) => {
            eprintln!("error[E602]: {e}");
            ExitStatus::Error
        }
    }
}
