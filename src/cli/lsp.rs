//! `tekscript lsp` (the language server) and `tekscript definitions DIR` (Rhai definition files).

use super::ExitStatus;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct LspArgs {
    /// Accepted for editors that pass it (the server always talks over stdin/stdout)
    #[arg(long, hide = true)]
    stdio: bool,
}

pub fn run(_args: LspArgs) -> ExitStatus {
    match crate::lsp::run_stdio() {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            eprintln!("error: language server: {e}");
            ExitStatus::Error
        }
    }
}

#[derive(Debug, Args)]
pub struct DefinitionsArgs {
    /// The directory to write the `.d.rhai` files into (created if missing)
    dir: PathBuf,
}

pub fn definitions(args: DefinitionsArgs) -> ExitStatus {
    match crate::script::meta::write_definitions(&args.dir) {
        Ok(files) => {
            for f in files {
                eprintln!("wrote {}", args.dir.join(f).display());
            }
            ExitStatus::Success
        }
        Err(e) => {
            eprintln!(
                "error: cannot write definitions to {}: {e}",
                args.dir.display()
            );
            ExitStatus::Error
        }
    }
}
