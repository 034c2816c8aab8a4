//! `tekscript test`: runs `*.test.rhai` files (docs/testing.md). The report goes to stdout; a tool
//! failure (no test file under an explicit path, unreadable path, unwritable --junit file) to stderr
//! with exit code 2. Exit 1 when any test failed.

use super::{ExitStatus, OutputArgs};
use crate::diag::render::Format;
use crate::testing::report::{self, Style};
use crate::testing::{Config, Counts, discover, junit, run};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Test files or directories to search for *.test.rhai (default: the current directory)
    paths: Vec<PathBuf>,
    /// Run only the tests whose `FILE › NAME` contains TEXT
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Write new and changed snapshots (and remove obsolete ones) instead of failing
    #[arg(long)]
    update_snapshots: bool,
    /// Also write the results as JUnit XML to FILE
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Test files to run at once (default: one per CPU)
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    jobs: usize,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run_tests(args: TestArgs) -> ExitStatus {
    let files = match discover(&args.paths) {
        Ok(f) => f,
        Err(e) => return super::usage_error(&e.to_string()),
    };
    let style = Style {
        format: args.output.format(),
        color: args.output.color_stdout(),
    };
    let config = Config {
        filter: args.filter.clone(),
        update_snapshots: args.update_snapshots,
        simulation_text: super::simulate::text,
        jobs: args.jobs,
    };
    let mut stdout = std::io::stdout().lock();
    let mut broken_pipe = false;
    let mut emit = |text: &str| {
        if !broken_pipe
            && stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
                .is_err()
        {
            broken_pipe = true;
        }
    };
    if files.is_empty() {
        eprintln!("note: no test files (*.test.rhai) under the current directory");
    } else if matches!(style.format, Format::Human) {
        let n = files.len();
        emit(&format!(
            "running {n} test file{}\n",
            if n == 1 { "" } else { "s" }
        ));
    }
    let reports = run(&files, &config, |f| match style.format {
        Format::Human => emit(&report::file_lines(f, style)),
        Format::Json => emit(&report::file_json(f)),
        Format::Short => {}
    });
    emit(&report::finish(&reports, style));
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, junit::document(&reports))
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitStatus::Error;
    }
    if Counts::of(&reports).failed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}
