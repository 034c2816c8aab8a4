//! `tekscript test`: unit tests for pipelines.
//!
//! [`discover`] finds `*.test.rhai` files, [`run`] evaluates them in parallel (one engine per file, on
//! worker threads) and hands each file's results back in path order, so output is the same on every
//! run. The test API itself is bound in `script::testing`; here are the files around it: snapshots
//! ([`snapshot`]), the report ([`report`]) and JUnit XML ([`junit`]). No Rhai here.

pub mod diff;
pub mod junit;
pub mod report;
pub mod snapshot;

use crate::diag::codes;
use crate::exec::Report;
use crate::script::testing::{FileResult, Outcome, TestFile, run_file};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How to run the tests.
#[derive(Debug, Clone)]
pub struct Config {
    /// Only cases whose `file › name` contains this text run.
    pub filter: Option<String>,
    /// Write new and changed snapshots (and remove obsolete ones) instead of failing.
    pub update_snapshots: bool,
    /// The text `tekscript simulate` prints, for `r.text()` and snapshots of simulations.
    pub simulation_text: fn(&Report) -> String,
    /// Worker threads (0: one per CPU).
    pub jobs: usize,
}

/// One test file's results.
#[derive(Debug)]
pub struct FileReport {
    /// As shown: the path found under the given directory, without a leading `./`.
    pub name: String,
    pub result: FileResult,
    /// Snapshot files written, updated or removed (with `--update-snapshots`) or obsolete (without).
    pub snapshot_notes: Vec<String>,
    pub elapsed: Duration,
}

/// Totals over all files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub filtered: usize,
    /// Files that could not be evaluated (counted in `failed` too).
    pub broken_files: usize,
}

impl Counts {
    pub fn of(files: &[FileReport]) -> Counts {
        let mut c = Counts::default();
        for f in files {
            if f.result.load_error.is_some() {
                c.failed += 1;
                c.broken_files += 1;
            }
            for case in &f.result.cases {
                match case.outcome {
                    Outcome::Passed => c.passed += 1,
                    Outcome::Failed(_) => c.failed += 1,
                    Outcome::Skipped(_) => c.skipped += 1,
                    Outcome::Filtered => c.filtered += 1,
                }
            }
        }
        c
    }
}

/// Why discovery failed (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoverError {
    /// The path does not exist or cannot be read.
    Unreadable(String),
    /// An explicit file that is not named `*.test.rhai`.
    NotATestFile(String),
    /// An explicit directory with no test file under it.
    NoTests(String),
}

impl std::fmt::Display for DiscoverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiscoverError::Unreadable(m) => write!(f, "{m}"),
            DiscoverError::NotATestFile(p) => write!(
                f,
                "{p} is not a test file: test files are named *.test.rhai"
            ),
            DiscoverError::NoTests(p) => write!(f, "no test files (*.test.rhai) under {p}"),
        }
    }
}

pub const SUFFIX: &str = ".test.rhai";

fn display(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    match s.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => s,
    }
}

/// The test files under `paths` (the current directory when empty), sorted, without duplicates.
/// Directories are searched recursively, skipping `.git`, `target` and symbolic links to directories.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DiscoverError> {
    let explicit = !paths.is_empty();
    let roots: Vec<PathBuf> = if explicit {
        paths.to_vec()
    } else {
        vec![PathBuf::from(".")]
    };
    let mut out = Vec::new();
    for root in &roots {
        let meta = std::fs::metadata(root).map_err(|e| {
            DiscoverError::Unreadable(format!("cannot read {}: {e}", root.display()))
        })?;
        if meta.is_file() {
            if !root.to_string_lossy().ends_with(SUFFIX) {
                return Err(DiscoverError::NotATestFile(display(root)));
            }
            out.push(root.clone());
            continue;
        }
        let before = out.len();
        walk(root, &mut out).map_err(|e| {
            DiscoverError::Unreadable(format!("cannot read {}: {e}", root.display()))
        })?;
        if explicit && out.len() == before {
            return Err(DiscoverError::NoTests(display(root)));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| seen.insert(display(p)));
    out.sort_by_key(|p| display(p));
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let ty = e.file_type()?;
        let path = dir.join(&*name);
        if ty.is_dir() {
            if name == ".git" || name == "target" {
                continue;
            }
            walk(&path, out)?;
        } else if name.ends_with(SUFFIX) && (ty.is_file() || path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

/// Runs one file (in the calling thread).
pub fn run_one(path: &Path, config: &Config) -> FileReport {
    let started = Instant::now();
    let name = display(path);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return FileReport {
                name: name.clone(),
                result: unreadable(&name, &e),
                snapshot_notes: Vec::new(),
                elapsed: started.elapsed(),
            };
        }
    };
    let stem = Path::new(&name)
        .file_name()
        .map(|f| f.to_string_lossy().trim_end_matches(SUFFIX).to_string())
        .unwrap_or_default();
    let host = Rc::new(snapshot::Snapshots::new(
        &dir,
        &stem,
        &name,
        config.update_snapshots,
        config.simulation_text,
    ));
    let filter = config.filter.clone();
    let file_name = name.clone();
    let selected = move |case: &str| match &filter {
        Some(f) => format!("{file_name} › {case}").contains(f.as_str()),
        None => true,
    };
    let result = run_file(
        TestFile {
            name: name.clone(),
            text,
            dir: dir.clone(),
        },
        host.clone(),
        &selected,
    );
    let mut notes = host.notes();
    let complete = result.load_error.is_none()
        && result
            .cases
            .iter()
            .all(|c| matches!(c.outcome, Outcome::Passed));
    if complete {
        notes.extend(host.obsolete(&result.snapshots));
    }
    FileReport {
        name,
        result,
        snapshot_notes: notes,
        elapsed: started.elapsed(),
    }
}

fn unreadable(name: &str, e: &std::io::Error) -> FileResult {
    use crate::diag::Diagnostic;
    use crate::script::testing::TestFailure;
    FileResult {
        sources: crate::source::SourceMap::new(),
        load_error: Some(TestFailure {
            diagnostic: Diagnostic::error(codes::E016, format!("cannot read {name}: {e}")),
            comparison: None,
            attached: Vec::new(),
        }),
        output: Vec::new(),
        cases: Vec::new(),
        snapshots: Default::default(),
    }
}

/// Runs `files` on worker threads; `each` gets every file's report in the order of `files`, as soon as
/// it and all files before it are done.
pub fn run(
    files: &[PathBuf],
    config: &Config,
    mut each: impl FnMut(&FileReport),
) -> Vec<FileReport> {
    let jobs = match config.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, FileReport)>();
    let mut done: Vec<Option<FileReport>> = (0..files.len()).map(|_| None).collect();
    let mut printed = 0;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(path) = files.get(i) else { break };
                    if tx.send((i, run_one(path, config))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (i, report) in rx {
            done[i] = Some(report);
            while let Some(Some(r)) = done.get(printed) {
                each(r);
                printed += 1;
            }
        }
    });
    done.into_iter().flatten().collect()
}
