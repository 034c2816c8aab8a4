//! Command-line interface: argument definitions (clap), resolved once into settings, one function per
//! subcommand. stdout carries the artifact (YAML); diagnostics and progress go to stderr.
//!
//! Exit codes: 0 success, 1 the input has problems (or `--check` found differences), 2 the tool failed
//! (I/O, usage).

mod apply;
mod build;
mod cancel;
mod check;
mod cluster;
mod diff;
mod explain;
mod graph;
mod import;
mod logs;
mod lsp;
mod project;
mod run;
mod shell;
mod simulate;
mod test;

use crate::Options;
use crate::diag::codes;
use crate::diag::policy::Level;
use crate::diag::render::Format;
use crate::validate::FeatureGates;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Outcome of a command, mapped to the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: everything is fine.
    Success,
    /// 1: the input has problems, or the output is out of date.
    Failure,
    /// 2: the tool itself failed (I/O, usage).
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        match s {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "tekscript",
    version,
    about = "Write Tekton pipelines as Rhai scripts: typed, checked, deterministic YAML",
    long_about = None,
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile a script and write its Tekton YAML (stdout, or one file per object with -o DIR)
    Build(build::BuildArgs),
    /// Compile and validate a script (or check Tekton YAML files); print diagnostics only
    Check(check::CheckArgs),
    /// Explain a diagnostic code, with a wrong and a fixed example
    Explain(explain::ExplainArgs),
    /// List the stdlib modules, or print one module's source and documentation
    Stdlib(explain::StdlibArgs),
    /// Turn existing Tekton YAML into tekscript scripts (stdout, or one script per file with -o DIR)
    Import(import::ImportArgs),
    /// Show what `apply` would change in the cluster, as a unified diff (exit 0 none, 1 differences)
    Diff(diff::DiffArgs),
    /// Server-side apply the script's Tasks, StepActions and Pipelines to the cluster (with --prune)
    Apply(apply::ApplyArgs),
    /// Apply what a run needs, start a PipelineRun, stream its step logs and exit with its result
    Run(run::RunArgs),
    /// Print the step logs of a PipelineRun (-f: follow a running one)
    Logs(logs::LogsArgs),
    /// Cancel a running PipelineRun
    Cancel(cancel::CancelArgs),
    /// Run the language server (LSP over stdin/stdout) for editors
    Lsp(lsp::LspArgs),
    /// Write Rhai definition files (.d.rhai) of the script API and the stdlib into DIR
    Definitions(lsp::DefinitionsArgs),
    /// Show what a run would do (order, skips, params, results, status) with no cluster or container
    Simulate(simulate::SimulateArgs),
    /// Draw a pipeline's task graph (Mermaid, Graphviz DOT or text)
    Graph(graph::GraphArgs),
    /// Run the *.test.rhai unit tests of pipelines (exit 0 all passed, 1 any failed)
    Test(test::TestArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell)
    Completions(shell::CompletionsArgs),
    /// Print the man page (roff) on stdout
    Man(shell::ManArgs),
}

/// Inputs and output options shared by the commands that compile a script.
#[derive(Debug, Args)]
struct CompileArgs {
    /// Set an input value visible to the script as `values.KEY` (repeatable; dotted keys nest)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Read input values from a YAML file (repeatable; later files and --set win)
    #[arg(long = "values", value_name = "FILE")]
    values: Vec<PathBuf>,
    /// Tekton feature flags of the target cluster: stable|beta|alpha plus enable-param-enum,
    /// enable-cel-in-whenexpression, enable-artifacts, enable-concise-resolver-syntax (comma-separated;
    /// default: tekscript.toml's `feature-gates`, else beta)
    #[arg(long = "feature-gates", value_name = "LIST")]
    feature_gates: Option<String>,
    /// Hide the warnings with this code (repeatable; `warnings` for all)
    #[arg(long = "allow", value_name = "CODE")]
    allow: Vec<String>,
    /// Turn the warnings with this code into errors (repeatable; `--deny warnings` for all); a code both
    /// allowed and denied is denied, a code beats `warnings`
    #[arg(long = "deny", value_name = "CODE")]
    deny: Vec<String>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct OutputArgs {
    /// How to print diagnostics
    #[arg(long = "message-format", value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,
    /// When to colour diagnostics
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MessageFormat {
    Human,
    Short,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

impl OutputArgs {
    fn format(&self) -> Format {
        match self.message_format {
            MessageFormat::Human => Format::Human,
            MessageFormat::Short => Format::Short,
            MessageFormat::Json => Format::Json,
        }
    }

    /// Colour for a report on stdout (`auto`: when stdout is a terminal and `NO_COLOR` is unset).
    fn color_stdout(&self) -> bool {
        match self.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
            }
        }
    }

    fn color(&self) -> bool {
        match self.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
            }
        }
    }
}

/// Why the inputs of a compilation cannot be resolved.
enum InputError {
    /// A usage error: a plain `error:` line.
    Usage(String),
    /// A `--set`/`--values` input that cannot be used (E014), or a values file that cannot be read
    /// (E016).
    Input(Box<crate::diag::Diagnostic>),
}

impl From<String> for InputError {
    fn from(e: String) -> InputError {
        InputError::Usage(e)
    }
}

impl CompileArgs {
    /// Resolves inputs into compile options. The project file's settings come first, then the
    /// entry's values and `set`, then the command line's. A `--set`/`--values` input that cannot be
    /// used is E014, a values file that cannot be read E016; other errors are usage errors. All exit 2
    /// ([`CompileArgs::report`]).
    fn options_with(
        &self,
        project: Option<&crate::project::Project>,
        entry: Option<&crate::project::Entry>,
    ) -> Result<Options, InputError> {
        use crate::diag::Diagnostic;
        let set_error = |e: String| {
            InputError::Input(Box::new(
                Diagnostic::error(codes::E014, e)
                    .help("write `--set key=value`; dotted keys nest (`--set image.tag=v1`)"),
            ))
        };
        let mut opts = Options::default();
        let entry_values = entry.map(|e| e.values.as_slice()).unwrap_or_default();
        for f in entry_values.iter().chain(&self.values) {
            let text =
                crate::source::read_text_file(f, crate::source::MAX_INPUT_BYTES).map_err(|e| {
                    InputError::Input(Box::new(Diagnostic::error(
                        codes::E016,
                        format!("cannot read values file {}: {e}", f.display()),
                    )))
                })?;
            opts.merge_values_yaml(&text).map_err(|e| {
                InputError::Input(Box::new(
                    Diagnostic::error(codes::E014, format!("values file {}: {e}", f.display()))
                        .help("a values file is one YAML mapping (`key: value` lines)"),
                ))
            })?;
        }
        for s in entry.map(|e| e.set.as_slice()).unwrap_or_default() {
            opts.set(s).map_err(set_error)?;
        }
        for s in &self.set {
            opts.set(s).map_err(set_error)?;
        }
        let gates = self
            .feature_gates
            .as_deref()
            .or(project.and_then(|p| p.feature_gates.as_deref()))
            .unwrap_or("beta");
        opts.settings.gates = FeatureGates::parse(gates)?;
        let file = crate::project::FILE_NAME;
        let mut layers: Vec<(&[String], Level, String)> = Vec::new();
        if let Some(p) = project {
            layers.push((&p.allow, Level::Allow, format!("`allow` in {file}")));
            layers.push((&p.deny, Level::Deny, format!("`deny` in {file}")));
        }
        layers.push((&self.allow, Level::Allow, "`--allow CODE`".into()));
        layers.push((&self.deny, Level::Deny, "`--deny CODE`".into()));
        for (codes, level, origin) in layers {
            for code in codes {
                let origin = origin.replace("CODE", code);
                opts.policy
                    .set(code, level, origin.clone())
                    .map_err(|e| format!("{}: {e}", origin.trim_matches('`')))?;
            }
        }
        Ok(opts)
    }

    /// Prints why the inputs cannot be resolved (a diagnostic in the chosen message format, or a
    /// usage error); exit 2.
    fn report(&self, e: InputError) -> ExitStatus {
        match e {
            InputError::Usage(message) => usage_error(&message),
            InputError::Input(d) => {
                let out = &self.output;
                let d = [*d];
                let sources = crate::source::SourceMap::new();
                eprint!(
                    "{}",
                    crate::diag::render::render(&d, &sources, out.format(), out.color())
                );
                if matches!(out.format(), Format::Human) {
                    eprint!("{}", crate::diag::render::render_summary(&d));
                }
                ExitStatus::Error
            }
        }
    }

    /// The options for `script`: the project file's settings (and the entry's, when the script is one
    /// of its entries) under the command line's. A broken project file is reported here.
    fn options_for(&self, script: Option<&std::path::Path>) -> Result<Options, ExitStatus> {
        let project = project::current(&self.output)?;
        let entry = project
            .zip(script)
            .and_then(|(p, s)| project::entry_for(p, s));
        self.options_with(project, entry)
            .map_err(|e| self.report(e))
    }
}

/// Runs the CLI with the process arguments.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Error.into()
            } else {
                ExitStatus::Success.into()
            };
        }
    };
    run(cli).into()
}

pub fn run(cli: Cli) -> ExitStatus {
    match cli.command {
        Command::Build(a) => build::run(a),
        Command::Check(a) => check::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Stdlib(a) => explain::stdlib(a),
        Command::Import(a) => import::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Apply(a) => apply::run(a),
        Command::Run(a) => run::run(a),
        Command::Logs(a) => logs::run(a),
        Command::Cancel(a) => cancel::run(a),
        Command::Lsp(a) => lsp::run(a),
        Command::Definitions(a) => lsp::definitions(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Graph(a) => graph::run(a),
        Command::Test(a) => test::run_tests(a),
        Command::Completions(a) => shell::completions(a),
        Command::Man(a) => shell::man(a),
    }
}

/// Writes to stdout; a closed pipe (`tekscript build | head`) is not an error.
fn write_stdout(text: &str) -> ExitStatus {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitStatus::Success,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitStatus::Success,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            ExitStatus::Error
        }
    }
}

/// Compiles a script, printing diagnostics (and warnings) to stderr. On failure returns the exit status:
/// 1 for problems in the script, 2 when it cannot be read.
fn compile_reporting(
    args: &CompileArgs,
    script: &std::path::Path,
) -> Result<crate::Compilation, ExitStatus> {
    let opts = args.options_for(Some(script))?;
    compile_with(args, script, &opts)
}

/// [`compile_reporting`] with resolved options.
fn compile_with(
    args: &CompileArgs,
    script: &std::path::Path,
    opts: &Options,
) -> Result<crate::Compilation, ExitStatus> {
    use crate::diag::render::{render, render_summary};
    let out = &args.output;
    match crate::compile_file(script, opts) {
        Ok(c) => {
            if !c.warnings.is_empty() {
                eprint!(
                    "{}",
                    render(&c.warnings.0, &c.sources, out.format(), out.color())
                );
            }
            Ok(c)
        }
        Err(f) => {
            eprint!(
                "{}",
                render(&f.diagnostics.0, &f.sources, out.format(), out.color())
            );
            if matches!(out.format(), Format::Human) {
                eprint!("{}", render_summary(&f.diagnostics.0));
            }
            // an unreadable script is the tool failing to read its input
            let io = f.diagnostics.iter().any(|d| d.code == codes::E016);
            Err(if io {
                ExitStatus::Error
            } else {
                ExitStatus::Failure
            })
        }
    }
}

fn usage_error(msg: &str) -> ExitStatus {
    eprintln!("error: {msg}");
    ExitStatus::Error
}
