//! `tekscript logs RUN [-f]` — the step logs of a PipelineRun started earlier (by tekscript or anyone):
//! TaskRuns in pipeline order; with `-f` a running run is followed live (TaskRuns that already finished are
//! printed first, in order), then the summary. Exit status as `run`: 0 succeeded, 1 failed (or cancelled,
//! timed out), and 0 for a run still going when not following.

use super::ExitStatus;
use super::cluster::{ClusterArgs, report_error};
use super::run::{DisplayArgs, Renderer};
use crate::cluster::follow::{FollowEvent, FollowOptions, OnInterrupt};
use clap::Args;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The PipelineRun's name
    run: String,
    /// Follow a running run until it finishes (Ctrl-C stops following; the run goes on)
    #[arg(short = 'f', long)]
    follow: bool,
    /// With -f: stop waiting after this long (Go duration) and exit 1
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    #[command(flatten)]
    display: DisplayArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
}

pub fn run(args: LogsArgs) -> ExitStatus {
    let timeout = match args
        .timeout
        .as_deref()
        .map(crate::exec::plan::parse_duration)
        .transpose()
    {
        Ok(t) => t,
        Err(e) => return super::usage_error(&format!("--timeout: {e}")),
    };
    let mut renderer = Renderer::new(&args.display);
    let follow = args.follow.then(|| FollowOptions {
        timeout,
        on_interrupt: OnInterrupt::Detach,
        ticks: renderer.ticks(),
        attach: true,
    });
    let result = {
        let mut on_event = |ev: FollowEvent| renderer.event(ev);
        crate::cluster::run::logs_blocking(
            &args.cluster.connection(),
            &args.run,
            follow,
            &mut on_event,
        )
    };
    match result {
        Ok(summary) => {
            let status = renderer.summary(&summary);
            if !summary.finished() && !args.follow {
                eprintln!(
                    "note: the run is still going; follow it with: tekscript logs {} -f",
                    args.run
                );
            }
            status
        }
        Err(e) => {
            renderer.finish_live();
            report_error(&e)
        }
    }
}
