//! `tekscript diff SCRIPT` — what `apply` would change, as a unified diff per object.

use super::cluster::{ApplySetArgs, ClusterArgs, report_error};
use super::{Color, CompileArgs, ExitStatus, compile_reporting, write_stdout};
use crate::cluster::diff::{Change, external_diff_command, render, write_trees};
use crate::cluster::{self, DiffOptions};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The entry script (.rhai)
    script: PathBuf,
    #[command(flatten)]
    set: ApplySetArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
    #[command(flatten)]
    compile: CompileArgs,
}

pub fn run(args: DiffArgs) -> ExitStatus {
    let compiled = match compile_reporting(&args.compile, &args.script) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let mut skipped = Vec::new();
    let result = cluster::diff_blocking(&args.cluster.connection(), |target| {
        let plan = args.set.plan(&compiled, &args.script, target)?;
        skipped = plan.skipped;
        Ok((
            plan.planned,
            DiffOptions {
                force_conflicts: args.set.force_conflicts,
                prune: args.set.prune,
                parent: plan.parent,
                concurrency: args.set.concurrency,
            },
        ))
    });
    let report = match result {
        Ok(r) => r,
        Err(e) => return report_error(&e),
    };
    for s in &skipped {
        eprintln!("note: {} not compared: {}", s.id, s.reason);
    }
    for o in &report.objects {
        if let Some(n) = &o.note {
            eprintln!("warning: {}: {n}", o.display);
        }
    }
    let count = |c: Change| report.objects.iter().filter(|o| o.change == c).count();
    let summary = format!(
        "{} to create, {} to change, {} to prune, {} unchanged",
        count(Change::Create),
        count(Change::Update),
        count(Change::Prune),
        count(Change::Unchanged)
    );
    let status = match std::env::var("KUBECTL_EXTERNAL_DIFF")
        .ok()
        .and_then(|s| external_diff_command(&s))
    {
        Some((program, extra)) => run_external(&report, &program, &extra),
        None => {
            let color = match args.compile.output.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
                }
            };
            match write_stdout(&render(&report, color)) {
                ExitStatus::Success if report.has_changes() => ExitStatus::Failure,
                other => other,
            }
        }
    };
    eprintln!("{summary}");
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    if !report.errors.is_empty() {
        return ExitStatus::Error;
    }
    status
}

/// Runs `KUBECTL_EXTERNAL_DIFF` on LIVE and MERGED trees; its exit status is passed on (0 same, 1 differ,
/// more = it failed), as with kubectl.
fn run_external(report: &cluster::DiffReport, program: &str, extra: &[String]) -> ExitStatus {
    let root = std::env::temp_dir().join(format!("tekscript-diff-{}", std::process::id()));
    let result = (|| -> Result<ExitStatus, String> {
        let (live, merged) = write_trees(report, &root)
            .map_err(|e| format!("cannot write {}: {e}", root.display()))?;
        let status = std::process::Command::new(program)
            .args(extra)
            .arg(&live)
            .arg(&merged)
            .status()
            .map_err(|e| format!("cannot run KUBECTL_EXTERNAL_DIFF program {program:?}: {e}"))?;
        Ok(match status.code() {
            Some(0) => ExitStatus::Success,
            Some(1) => ExitStatus::Failure,
            _ => ExitStatus::Error,
        })
    })();
    let _ = std::fs::remove_dir_all(&root);
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        ExitStatus::Error
    })
}
