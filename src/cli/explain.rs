//! `tekscript explain CODE` and `tekscript stdlib [NAME]`.

use super::{ExitStatus, write_stdout};
use crate::diag::codes;
use crate::script::stdlib;
use clap::Args;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A diagnostic code such as E004 (`--list` to see all)
    code: Option<String>,
    /// List every code with its title
    #[arg(long)]
    list: bool,
}

pub fn run(args: ExplainArgs) -> ExitStatus {
    if args.list || args.code.is_none() {
        let mut s = String::new();
        for c in codes::all() {
            s.push_str(&format!("{}  {}\n", c.id, c.title));
        }
        return write_stdout(&s);
    }
    let code = args.code.unwrap_or_default();
    match codes::lookup(&code) {
        Some(c) => write_stdout(&format!("{}: {}\n\n{}", c.id, c.title, c.explanation)),
        None => {
            eprintln!(
                "error: unknown diagnostic code `{code}`; `tekscript explain --list` shows them all"
            );
            // a wrong argument is a usage error
            ExitStatus::Error
        }
    }
}

#[derive(Debug, Args)]
pub struct StdlibArgs {
    /// A module name; without it, list the modules
    name: Option<String>,
}

pub fn stdlib(args: StdlibArgs) -> ExitStatus {
    match args.name {
        None => {
            let mut s = String::new();
            for (name, src) in stdlib::MODULES {
                let summary = src
                    .lines()
                    .find_map(|l| l.strip_prefix("//! "))
                    .unwrap_or("");
                s.push_str(&format!("{name:<10} {summary}\n"));
            }
            write_stdout(&s)
        }
        Some(n) => match stdlib::get(&n) {
            Some(src) => write_stdout(src),
            None => {
                eprintln!(
                    "error: no stdlib module `{n}`; {}",
                    stdlib::not_found_help(&n)
                );
                ExitStatus::Failure
            }
        },
    }
}
