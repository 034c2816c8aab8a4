//! `tekscript completions SHELL` and `tekscript man`: generated from the clap definitions, so they never
//! drift from the real flags. Completions offer files for script and YAML arguments (the shells' own file
//! completion) and the diagnostic codes for `explain` and `--allow`/`--deny`.

use super::{Cli, ExitStatus, write_stdout};
use clap::builder::PossibleValuesParser;
use clap::{Args, CommandFactory, ValueEnum};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate the completion script for
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct ManArgs {}

/// The command tree with the diagnostic codes as the values of `explain CODE`, `--allow` and `--deny`
/// (only for generating completions: the commands themselves report unknown codes with a suggestion).
fn command_for_completion() -> clap::Command {
    let mut codes: Vec<&'static str> = crate::diag::codes::all().map(|c| c.id).collect();
    let parser = PossibleValuesParser::new(codes.clone());
    codes.push("warnings");
    let levels = PossibleValuesParser::new(codes);
    let mut cmd = Cli::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let levels = levels.clone();
        let parser = parser.clone();
        cmd = cmd.mut_subcommand(&name, move |mut sub| {
            if sub.get_arguments().any(|a| a.get_id() == "allow") {
                sub = sub
                    .mut_arg("allow", |a| a.value_parser(levels.clone()))
                    .mut_arg("deny", |a| a.value_parser(levels));
            }
            if sub.get_name() == "explain" {
                sub = sub.mut_arg("code", |a| a.value_parser(parser));
            }
            sub
        });
    }
    cmd
}

pub fn completions(args: CompletionsArgs) -> ExitStatus {
    use clap_complete::Shell as S;
    let shell = match args.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
    };
    let mut cmd = command_for_completion();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "tekscript", &mut buf);
    write_stdout(&String::from_utf8_lossy(&buf))
}

pub fn man(_args: ManArgs) -> ExitStatus {
    let mut buf = Vec::new();
    if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut buf) {
        eprintln!("error: cannot render the man page: {e}");
        return ExitStatus::Error;
    }
    write_stdout(&String::from_utf8_lossy(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_tree_offers_codes() {
        let cmd = command_for_completion();
        let explain = cmd.find_subcommand("explain").unwrap();
        let code = explain
            .get_arguments()
            .find(|a| a.get_id() == "code")
            .unwrap();
        let values: Vec<String> = code
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_string())
            .collect();
        assert!(values.iter().any(|v| v == "W503"), "{values:?}");
        let check = cmd.find_subcommand("check").unwrap();
        let deny = check
            .get_arguments()
            .find(|a| a.get_id() == "deny")
            .unwrap();
        assert!(
            deny.get_possible_values()
                .iter()
                .any(|v| v.get_name() == "warnings")
        );
    }
}
