//! `tekscript apply SCRIPT` — compile, validate, then server-side apply to the cluster.

use super::cluster::{ApplySetArgs, ClusterArgs, report_error};
use super::{CompileArgs, ExitStatus, compile_reporting};
use crate::cluster::{self, ApplyOptions, ObjectResult, Outcome};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The entry script (.rhai)
    script: PathBuf,
    /// `server`: send everything with dryRun=All — the server validates, nothing is stored
    #[arg(long = "dry-run", value_name = "server", value_parser = ["server"])]
    dry_run: Option<String>,
    #[command(flatten)]
    set: ApplySetArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
    #[command(flatten)]
    compile: CompileArgs,
}

pub fn run(args: ApplyArgs) -> ExitStatus {
    let compiled = match compile_reporting(&args.compile, &args.script) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let dry_run = args.dry_run.is_some();
    let suffix = if dry_run { " (server dry run)" } else { "" };
    let mut skipped = Vec::new();
    let mut print = |r: &ObjectResult| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{} {}{suffix}", r.display, r.outcome.word());
        match &r.outcome {
            Outcome::Failed(e) => eprintln!("error: {e}"),
            Outcome::NotAttempted(why) => eprintln!("  {} was not applied: {why}", r.display),
            _ => {}
        }
    };
    let result = cluster::apply_blocking(
        &args.cluster.connection(),
        |target| {
            let plan = args.set.plan(&compiled, &args.script, target)?;
            skipped = plan.skipped;
            Ok((
                plan.planned,
                ApplyOptions {
                    dry_run,
                    force_conflicts: args.set.force_conflicts,
                    prune: args.set.prune,
                    parent: plan.parent,
                    concurrency: args.set.concurrency,
                    interrupted: Default::default(),
                },
            ))
        },
        &mut print,
    );
    let report = match result {
        Ok(r) => r,
        Err(e) => return report_error(&e),
    };
    for s in &skipped {
        eprintln!("note: {} not applied: {}", s.id, s.reason);
    }
    let count = |w: &str| {
        report
            .applied
            .iter()
            .chain(&report.pruned)
            .filter(|r| r.outcome.word() == w)
            .count()
    };
    let mut parts = vec![];
    for w in [
        "created",
        "configured",
        "unchanged",
        "pruned",
        "failed",
        "not applied",
    ] {
        let n = count(w);
        if n > 0 || matches!(w, "created" | "configured" | "unchanged") {
            parts.push(format!("{n} {w}"));
        }
    }
    eprintln!("{}{suffix}", parts.join(", "));
    if let Some(why) = &report.prune_skipped {
        eprintln!("error: prune skipped: {why}");
    }
    if report.interrupted {
        eprintln!("error: interrupted; the objects listed as `not applied` were not sent");
    }
    if report.failed() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}
