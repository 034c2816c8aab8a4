//! The project file as the commands see it: loaded once per process (walking up from the current
//! directory), its errors rendered like any other diagnostics, and the entry a script belongs to.

use super::{ExitStatus, OutputArgs};
use crate::diag::render::{Format, render, render_summary};
use crate::project::{Entry, Project};
use std::path::Path;
use std::sync::OnceLock;

static PROJECT: OnceLock<Result<Option<Project>, ()>> = OnceLock::new();

/// The project of the current directory, if there is one. A broken project file is reported (once,
/// in `out`'s format) and is exit status 1.
pub(super) fn current(out: &OutputArgs) -> Result<Option<&'static Project>, ExitStatus> {
    let loaded = PROJECT.get_or_init(|| match crate::project::discover() {
        Ok(p) => Ok(p),
        Err(e) => {
            eprint!(
                "{}",
                render(&e.diagnostics.0, &e.sources, out.format(), out.color())
            );
            if matches!(out.format(), Format::Human) {
                eprint!("{}", render_summary(&e.diagnostics.0));
            }
            Err(())
        }
    });
    match loaded {
        Ok(p) => Ok(p.as_ref()),
        Err(()) => Err(ExitStatus::Failure),
    }
}

/// The project's cluster defaults (namespace, context), when a valid project file is there.
pub(super) fn cluster_defaults() -> (Option<String>, Option<String>) {
    match PROJECT.get_or_init(|| crate::project::discover().map_err(|_| ())) {
        Ok(Some(p)) => (p.namespace.clone(), p.context.clone()),
        _ => (None, None),
    }
}

/// The entry of `project` whose script is `script` (compared as canonical paths).
pub(super) fn entry_for<'p>(project: &'p Project, script: &Path) -> Option<&'p Entry> {
    let want = std::fs::canonicalize(script).ok()?;
    project
        .entries
        .iter()
        .find(|e| std::fs::canonicalize(&e.script).is_ok_and(|p| p == want))
}

/// The entries to work on when no script is given: all of them, or a usage error naming what is
/// missing.
pub(super) fn all_entries(
    out: &OutputArgs,
    command: &str,
) -> Result<(&'static Project, &'static [Entry]), ExitStatus> {
    match current(out)? {
        Some(p) if !p.entries.is_empty() => Ok((p, &p.entries)),
        Some(p) => Err(super::usage_error(&format!(
            "{} has no [[entry]]: give `tekscript {command}` a script, or add an entry",
            p.path.display()
        ))),
        None => Err(super::usage_error(&format!(
            "`tekscript {command}` needs a script, or a {} in this directory or above listing the entry scripts",
            crate::project::FILE_NAME
        ))),
    }
}
