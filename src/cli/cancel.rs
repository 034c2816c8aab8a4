//! `tekscript cancel RUN [--graceful]` — sets `spec.status` of a running PipelineRun (merge patch), like
//! `tkn pipelinerun cancel`; a run that already finished is refused (exit 1).

use super::ExitStatus;
use super::cluster::{ClusterArgs, report_error};
use crate::cluster::CancelMode;
use crate::cluster::run::CancelResult;
use clap::Args;

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The PipelineRun's name
    run: String,
    /// Stop the running tasks but run the finally tasks (spec.status: CancelledRunFinally)
    #[arg(long)]
    graceful: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
}

pub fn run(args: CancelArgs) -> ExitStatus {
    let mode = if args.graceful {
        CancelMode::Graceful
    } else {
        CancelMode::Cancel
    };
    match crate::cluster::run::cancel_blocking(&args.cluster.connection(), &args.run, mode) {
        Ok((ns, CancelResult::Requested)) => {
            println!(
                "PipelineRun {} cancelled ({}) in namespace {ns}",
                args.run,
                mode.spec_status()
            );
            ExitStatus::Success
        }
        Ok((_, CancelResult::AlreadyFinished(reason, message))) => {
            eprintln!(
                "error: PipelineRun {} has already finished ({reason}: {message})",
                args.run
            );
            ExitStatus::Failure
        }
        Err(e) => report_error(&e),
    }
}
