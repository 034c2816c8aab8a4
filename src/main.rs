//! The `tekscript` command. All logic lives in the library (`tekscript::cli`).

use std::process::ExitCode;

fn main() -> ExitCode {
    tekscript::cli::main()
}
