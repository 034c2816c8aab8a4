//! `tekscript import FILE.yaml|DIR|-… [-o DIR]` — existing Tekton YAML → tekscript scripts.
//!
//! Exit codes: 0 success; 1 an input cannot be imported (invalid YAML, unknown fields: reported like
//! `tekscript check` does; with `-o DIR` the other files are still imported) or a generated script
//! does not evaluate; 2 I/O or usage errors.
//!
//! Each script is checked before it is written: it is evaluated and must build the same objects
//! as its input (after Tekton's defaulting and tekscript's normalisation, see
//! [`crate::import::defaults`]); a difference is reported as a warning.

use super::{ExitStatus, OutputArgs, usage_error, write_stdout};
use crate::bundle::Resource;
use crate::diag::Diagnostics;
use crate::diag::render::{Format, render};
use crate::import::script::{self, Skipped, Verdict};
use crate::source::SourceMap;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Tekton YAML files (v1 or v1beta1, multi-document), directories (every *.yaml/*.yml in them,
    /// sorted), or `-` for stdin
    #[arg(
        required_unless_present = "from_cluster",
        value_name = "FILE.yaml|DIR|-"
    )]
    inputs: Vec<PathBuf>,
    /// Import live objects from the cluster instead: KIND/NAME, or KIND for every object of that kind in
    /// the namespace (task, pipeline, pipelinerun/pr, taskrun/tr, stepaction; repeatable). Fields the
    /// server and Tekton's controllers add are removed first.
    #[arg(long = "from-cluster", value_name = "KIND[/NAME]")]
    from_cluster: Vec<String>,
    /// With --from-cluster KIND: only objects matching this label selector (kubectl's -l syntax)
    #[arg(
        short = 'l',
        long = "selector",
        value_name = "SELECTOR",
        requires = "from_cluster"
    )]
    selector: Option<String>,
    #[command(flatten)]
    cluster: super::cluster::ClusterArgs,
    /// Write one script per input file into DIR (`ci.yaml` → `DIR/ci.rhai`) instead of one script
    /// on stdout
    #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// With -o: overwrite scripts that exist already
    #[arg(long, requires = "out_dir")]
    force: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// One input file.
struct Input {
    /// As shown in messages and in the script's header.
    display: String,
    /// The output path relative to DIR (`ci.yaml` → `ci.rhai`).
    out_name: PathBuf,
    docs: Vec<Resource>,
    skipped: Vec<Skipped>,
}

/// A file to read: `-` is stdin; `text` is set for objects read from the cluster.
struct Source {
    path: PathBuf,
    out_name: PathBuf,
    text: Option<(String, String)>,
}

/// `ci.yaml` → `ci.rhai`, `v1.2.yml` → `v1.2.rhai`.
fn rhai_name(p: &Path) -> String {
    format!(
        "{}.rhai",
        p.file_stem().unwrap_or_default().to_string_lossy()
    )
}

fn is_yaml(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Collects the YAML files under `dir`, sorted. Symbolic links to directories are not followed
/// (a link to `.` or to a parent would otherwise make the walk endless); links to files are read.
fn walk(dir: &Path, rel: &Path, out: &mut Vec<Source>) -> std::io::Result<()> {
    let mut entries: Vec<(PathBuf, std::fs::FileType)> = std::fs::read_dir(dir)?
        .map(|e| e.and_then(|e| Ok((e.path(), e.file_type()?))))
        .collect::<Result<_, _>>()?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (p, kind) in entries {
        let name = PathBuf::from(p.file_name().unwrap_or_default());
        if kind.is_dir() {
            walk(&p, &rel.join(&name), out)?;
        } else if kind.is_symlink() && p.is_dir() {
            continue;
        } else if is_yaml(&p) {
            out.push(Source {
                out_name: rel.join(rhai_name(&p)),
                path: p,
                text: None,
            });
        }
    }
    Ok(())
}

pub fn run(args: ImportArgs) -> ExitStatus {
    let out = &args.output;
    // 1. the files
    let mut files = Vec::new();
    for p in &args.inputs {
        if p.as_os_str() == "-" {
            files.push(Source {
                path: p.clone(),
                out_name: PathBuf::from("stdin.rhai"),
                text: None,
            });
        } else if p.is_dir() {
            if let Err(e) = walk(p, Path::new(""), &mut files) {
                eprintln!("error: cannot read directory {}: {e}", p.display());
                return ExitStatus::Error;
            }
        } else {
            files.push(Source {
                out_name: PathBuf::from(rhai_name(p)),
                path: p.clone(),
                text: None,
            });
        }
    }
    if !args.from_cluster.is_empty() {
        match from_cluster(&args) {
            Ok(source) => files.push(source),
            Err(status) => return status,
        }
    }
    if files.is_empty() {
        return usage_error("no .yaml/.yml files found in the given directories");
    }
    // 2. read and parse them
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::default();
    let mut warnings = Diagnostics::default();
    let mut inputs = Vec::new();
    let mut gates = crate::validate::FeatureGates::default();
    for f in &files {
        let (display, text) = if let Some((display, text)) = &f.text {
            (display.clone(), text.clone())
        } else if f.path.as_os_str() == "-" {
            match crate::source::read_text(std::io::stdin(), crate::source::MAX_INPUT_BYTES) {
                Ok(t) => ("<stdin>".to_string(), t),
                Err(e) => {
                    eprintln!("error: cannot read stdin: {e}");
                    return ExitStatus::Error;
                }
            }
        } else {
            match crate::source::read_text_file(&f.path, crate::source::MAX_INPUT_BYTES) {
                Ok(t) => (f.path.to_string_lossy().replace('\\', "/"), t),
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", f.path.display());
                    return ExitStatus::Error;
                }
            }
        };
        let skipped = script::skipped_documents(&display, &text);
        let id = sources.add(display.clone(), text);
        match crate::import::parse_file(&sources, id) {
            Ok((bundle, _, w)) => {
                warnings.extend(w);
                gates = gates.union(&crate::validate::needed_gates(&bundle, &sources));
                inputs.push(Input {
                    display,
                    out_name: f.out_name.clone(),
                    docs: bundle.objects.into_iter().map(|o| o.resource).collect(),
                    skipped,
                })
            }
            Err(d) => diagnostics.extend(d),
        }
    }
    if !warnings.is_empty() {
        eprint!(
            "{}",
            render(&warnings.0, &sources, out.format(), out.color())
        );
    }
    // Files with problems are reported; with -o DIR the others are still imported.
    let rejected = files.len() - inputs.len();
    if diagnostics.has_errors() {
        eprint!(
            "{}",
            render(&diagnostics.0, &sources, out.format(), out.color())
        );
        if matches!(out.format(), Format::Human) {
            eprintln!(
                "error: {rejected} of {} input files cannot be imported{}",
                files.len(),
                if args.out_dir.is_some() && !inputs.is_empty() {
                    "; importing the others"
                } else {
                    ""
                }
            );
        }
        if args.out_dir.is_none() || inputs.is_empty() {
            return ExitStatus::Failure;
        }
    }
    for i in &inputs {
        for s in &i.skipped {
            eprintln!(
                "note: skipped {}: not a Task, Pipeline, TaskRun, PipelineRun or StepAction",
                s.describe()
            );
        }
    }
    // 3. the scripts: one per file with -o, else one for everything
    let mut jobs: Vec<(Option<PathBuf>, String, Vec<Resource>, script::Options)> = Vec::new();
    match &args.out_dir {
        Some(dir) => {
            for i in &inputs {
                if i.docs.is_empty() {
                    eprintln!(
                        "warning: {} holds no Tekton objects; no script written for it",
                        i.display
                    );
                    continue;
                }
                let target = dir.join(&i.out_name);
                if jobs.iter().any(|(t, ..)| t.as_ref() == Some(&target)) {
                    return usage_error(&format!(
                        "two inputs would both be written to {}",
                        target.display()
                    ));
                }
                let opts = script::Options {
                    sources: vec![i.display.clone()],
                    skipped: i.skipped.clone(),
                };
                jobs.push((Some(target), i.display.clone(), i.docs.clone(), opts));
            }
        }
        None => {
            // One script builds one set of objects: an object defined again identically in another
            // file is imported once; two different objects with the same kind and name cannot be.
            let mut docs: Vec<Resource> = Vec::new();
            for i in &inputs {
                for d in &i.docs {
                    let same_id = |o: &&Resource| {
                        o.kind() == d.kind()
                            && d.metadata().name.is_some()
                            && o.metadata().name == d.metadata().name
                    };
                    match docs.iter().find(same_id) {
                        Some(o) if o == d => {
                            eprintln!(
                                "note: {} is defined again in {}; imported once",
                                d.id(),
                                i.display
                            );
                        }
                        Some(_) => {
                            eprintln!(
                                "error: two different {}s are both named `{}` (the second in {}); one script cannot build both: import the files one by one, or with -o DIR (one script per file)",
                                d.kind(),
                                d.display_name(),
                                i.display
                            );
                            return ExitStatus::Failure;
                        }
                        None => docs.push(d.clone()),
                    }
                }
            }
            if docs.is_empty() {
                eprintln!("warning: the input holds no Tekton objects; nothing to import");
                return ExitStatus::Success;
            }
            let opts = script::Options {
                sources: inputs.iter().map(|i| i.display.clone()).collect(),
                skipped: inputs.iter().flat_map(|i| i.skipped.clone()).collect(),
            };
            let name = if inputs.len() == 1 {
                inputs[0].display.clone()
            } else {
                "import".to_string()
            };
            jobs.push((None, name, docs, opts));
        }
    }
    if !args.force {
        for (target, ..) in &jobs {
            if let Some(t) = target
                && t.exists()
            {
                eprintln!(
                    "error: {} exists already; pass --force to overwrite it",
                    t.display()
                );
                return ExitStatus::Error;
            }
        }
    }
    // 4. generate and check each script
    let mut written = Vec::new();
    let mut failed = false;
    for (target, name, docs, opts) in jobs {
        let generated = script::to_script(&docs, &opts);
        for n in &generated.notes {
            eprintln!("note: {name}: {n}");
        }
        let script_name = match &target {
            Some(t) => t.to_string_lossy().replace('\\', "/"),
            None => format!(
                "{}.rhai",
                name.trim_end_matches(".yaml").trim_end_matches(".yml")
            ),
        };
        match script::verify(&script_name, &generated.text, &docs) {
            Verdict::Same => {}
            Verdict::Differs(d) => eprintln!(
                "warning: {name}: the script does not build exactly the input objects: {d}"
            ),
            Verdict::Fails(s, d) => {
                let d = Diagnostics(
                    d.0.into_iter()
                        .map(|x| {
                            x.note("this is a limitation of `tekscript import`: the generated script is written anyway; please report it")
                        })
                        .collect(),
                );
                eprint!("{}", render(&d.0, &s, out.format(), out.color()));
                failed = true;
            }
        }
        written.push((target, generated.text));
    }
    // 5. write
    for (target, text) in written {
        match target {
            None => {
                let st = write_stdout(&text);
                if st != ExitStatus::Success {
                    return st;
                }
            }
            Some(t) => {
                if let Some(parent) = t.parent()
                    && let Err(e) = std::fs::create_dir_all(parent)
                {
                    eprintln!("error: cannot create {}: {e}", parent.display());
                    return ExitStatus::Error;
                }
                if let Err(e) = std::fs::write(&t, text) {
                    eprintln!("error: cannot write {}: {e}", t.display());
                    return ExitStatus::Error;
                }
                eprintln!("wrote {}", t.display());
            }
        }
    }
    // 6. the gates the objects need, where `build` and `check` find them
    if gates != crate::validate::FeatureGates::default() {
        let list = gates.to_list();
        if args.out_dir.is_some() {
            let path = match std::env::current_dir()
                .ok()
                .and_then(|d| crate::project::find(&d))
            {
                Some(p) => p,
                None => PathBuf::from(crate::project::FILE_NAME),
            };
            match crate::project::require_gates(&path, &gates) {
                Ok(Some(now)) => eprintln!(
                    "wrote {}: feature-gates = \"{now}\" (the input needs `{list}`)",
                    path.display()
                ),
                Ok(None) => {}
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitStatus::Error;
                }
            }
        } else {
            eprintln!(
                "note: the input needs the feature gates `{list}`: build with `--feature-gates {list}`, or put `feature-gates = \"{list}\"` in {} (`import -o DIR` writes it there)",
                crate::project::FILE_NAME
            );
        }
    }
    if failed || rejected > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// Reads the `--from-cluster` objects into one in-memory YAML input (`from-cluster.rhai` with -o DIR).
fn from_cluster(args: &ImportArgs) -> Result<Source, ExitStatus> {
    use crate::cluster::fetch::FetchRef;
    let refs = args
        .from_cluster
        .iter()
        .map(|s| FetchRef::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| usage_error(&e))?;
    if args.selector.is_some() && refs.iter().all(|r| r.name.is_some()) {
        return Err(usage_error(
            "-l/--selector applies to --from-cluster KIND (all objects of a kind), not to KIND/NAME",
        ));
    }
    let (objects, display) =
        crate::cluster::fetch_blocking(&args.cluster.connection(), &refs, args.selector.as_deref())
            .map_err(|e| super::cluster::report_error(&e))?;
    if objects.is_empty() {
        eprintln!("warning: {display}: no objects matched --from-cluster");
    }
    let text = crate::emit::to_yaml_stream(&objects).map_err(|e| {
        eprintln!("error: {e}");
        ExitStatus::Error
    })?;
    Ok(Source {
        path: PathBuf::from("-cluster-"),
        out_name: PathBuf::from("from-cluster.rhai"),
        text: Some((display, text)),
    })
}
