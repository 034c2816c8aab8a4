//! `tekscript build [SCRIPT] [-o DIR] [--check]` — without a script, every entry of tekscript.toml.

use super::{CompileArgs, ExitStatus, compile_with, project, write_stdout};
use crate::emit;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The entry script (.rhai); without one, every `[[entry]]` of tekscript.toml is built into its
    /// `out-dir`
    script: Option<PathBuf>,
    /// Write one file per object into DIR (plus kustomization.yaml) instead of a YAML stream on stdout
    #[arg(short = 'o', long = "out-dir", value_name = "DIR", requires = "script")]
    out_dir: Option<PathBuf>,
    /// With -o (or for the project's entries): write nothing; exit 1 and list the differences when a
    /// directory is out of date
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    compile: CompileArgs,
}

pub fn run(args: BuildArgs) -> ExitStatus {
    let Some(script) = &args.script else {
        return build_all(&args);
    };
    if args.check && args.out_dir.is_none() {
        return super::usage_error(
            "--check needs -o DIR (or no script, to check the entries of tekscript.toml)",
        );
    }
    let opts = match args.compile.options_for(Some(script)) {
        Ok(o) => o,
        Err(status) => return status,
    };
    build_one(&args, script, args.out_dir.as_deref(), &opts)
}

/// Builds (or with --check verifies) every entry of the project, each into its own directory. All
/// entries are built even when one fails; the exit status is the worst.
fn build_all(args: &BuildArgs) -> ExitStatus {
    let (proj, entries) = match project::all_entries(&args.compile.output, "build") {
        Ok(x) => x,
        Err(status) => return status,
    };
    let mut worst = ExitStatus::Success;
    for entry in entries {
        let Some(dir) = &entry.out_dir else {
            // a check-only entry (a script for `run`, a library): `tekscript check` covers it
            eprintln!(
                "note: {} has no `out-dir` in {}: not built (`tekscript check` checks it)",
                entry.script.display(),
                proj.path.display()
            );
            continue;
        };
        let status = match args.compile.options_with(Some(proj), Some(entry)) {
            Ok(opts) => build_one(args, &entry.script, Some(dir), &opts),
            Err(e) => args.compile.report(e),
        };
        worst = worse(worst, status);
    }
    worst
}

fn worse(a: ExitStatus, b: ExitStatus) -> ExitStatus {
    let rank = |s: ExitStatus| match s {
        ExitStatus::Success => 0,
        ExitStatus::Failure => 1,
        ExitStatus::Error => 2,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn build_one(
    args: &BuildArgs,
    script: &Path,
    out_dir: Option<&Path>,
    opts: &crate::Options,
) -> ExitStatus {
    let compiled = match compile_with(&args.compile, script, opts) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let Some(dir) = out_dir else {
        return write_stdout(&compiled.to_yaml());
    };
    let source_name = script
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
