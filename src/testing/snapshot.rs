//! Snapshot files: `__snapshots__/<file>__<name>.yaml` beside the test file (`<file>` is the test
//! file's name without `.test.rhai`). A snapshot file is a comment header, a `---` line, and the value:
//! a string as it is (usually YAML already), any other value as YAML.
//!
//! A new or changed snapshot fails the test (T003 / T002, with the diff) unless `--update-snapshots`
//! is given, which writes it. Files of a test file that no case asserted any more are reported as
//! obsolete after a run where every case of the file passed, and removed with `--update-snapshots`.

use crate::diag::codes;
use crate::exec::Report;
use crate::script::testing::{Comparison, Host, SnapshotProblem};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub const DIR: &str = "__snapshots__";

/// The snapshots of one test file; the [`Host`] of its run.
pub struct Snapshots {
    dir: PathBuf,
    stem: String,
    test_file: String,
    update: bool,
    simulation_text: fn(&Report) -> String,
    notes: RefCell<Vec<String>>,
}

/// The file content for a value: header, `---`, the value with a final newline.
pub fn file_text(test_file: &str, name: &str, value: &str) -> String {
    let mut s = format!(
        "# tekscript snapshot `{name}` of {test_file}\n\
         # written by `tekscript test --update-snapshots`; compared by `tekscript test`\n---\n"
    );
    s.push_str(value);
    if !value.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// The value stored in a snapshot file: what follows the first `---` line (the whole file when there
/// is none).
pub fn stored_value(text: &str) -> &str {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        offset += line.len();
        if line.trim_end_matches(['\n', '\r']) == "---" {
            return &text[offset..];
        }
    }
    text
}

fn with_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

impl Snapshots {
    pub fn new(
        test_dir: &Path,
        stem: &str,
        test_file: &str,
        update: bool,
        simulation_text: fn(&Report) -> String,
    ) -> Snapshots {
        Snapshots {
            dir: test_dir.join(DIR),
            stem: stem.to_string(),
            test_file: test_file.to_string(),
            update,
            simulation_text,
            notes: RefCell::new(Vec::new()),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}__{name}.yaml", self.stem))
    }

    fn shown(p: &Path) -> String {
        let s = p.to_string_lossy().replace('\\', "/");
        s.strip_prefix("./").map(str::to_string).unwrap_or(s)
    }

    /// What was written or removed, one line each.
    pub fn notes(&self) -> Vec<String> {
        self.notes.borrow().clone()
    }

    /// Snapshot files of this test file that no case asserted: reported, or removed when updating.
    pub fn obsolete(&self, asserted: &BTreeSet<String>) -> Vec<String> {
        let prefix = format!("{}__", self.stem);
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| {
                n.strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix(".yaml"))
                    .is_some_and(|name| !asserted.contains(name))
            })
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| {
                let p = self.dir.join(&n);
                if self.update {
                    match std::fs::remove_file(&p) {
                        Ok(()) => format!("removed obsolete snapshot {}", Self::shown(&p)),
                        Err(e) => format!("cannot remove {}: {e}", Self::shown(&p)),
                    }
                } else {
                    format!(
                        "obsolete snapshot {} (no test asserts it; --update-snapshots removes it)",
                        Self::shown(&p)
                    )
                }
            })
            .collect()
    }

    fn write(
        &self,
        path: &Path,
        name: &str,
        value: &str,
        what: &str,
    ) -> Result<(), SnapshotProblem> {
        let result = std::fs::create_dir_all(&self.dir)
            .and_then(|_| std::fs::write(path, file_text(&self.test_file, name, value)));
        match result {
            Ok(()) => {
                self.notes
                    .borrow_mut()
                    .push(format!("{what} snapshot {}", Self::shown(path)));
                Ok(())
            }
            Err(e) => Err(SnapshotProblem {
                code: codes::T002,
                message: format!("cannot write snapshot {}: {e}", Self::shown(path)),
                help: "check that the directory is writable".into(),
                comparison: Comparison {
                    expected: String::new(),
                    actual: with_newline(value),
                    multiline: true,
                },
            }),
        }
    }
}

impl Host for Snapshots {
    fn snapshot(&self, name: &str, value: &str) -> Result<(), SnapshotProblem> {
        let path = self.path(name);
        let actual = with_newline(value);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let stored = stored_value(&text);
                if stored == actual {
                    return Ok(());
                }
                if self.update {
                    return self.write(&path, name, value, "updated");
                }
                Err(SnapshotProblem {
                    code: codes::T002,
                    message: format!("snapshot `{name}` does not match {}", Self::shown(&path)),
                    help: "if the change is intended, run `tekscript test --update-snapshots` and commit the file".into(),
                    comparison: Comparison {
                        expected: stored.to_string(),
                        actual,
                        multiline: true,
                    },
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if self.update {
                    return self.write(&path, name, value, "wrote");
                }
                Err(SnapshotProblem {
                    code: codes::T003,
                    message: format!("snapshot `{name}` is new ({} does not exist)", Self::shown(&path)),
                    help: "review the value, then run `tekscript test --update-snapshots` and commit the file".into(),
                    comparison: Comparison {
                        expected: String::new(),
                        actual,
                        multiline: true,
                    },
                })
            }
            Err(e) => Err(SnapshotProblem {
                code: codes::T002,
                message: format!("cannot read snapshot {}: {e}", Self::shown(&path)),
                help: "check the file's permissions".into(),
                comparison: Comparison {
                    expected: String::new(),
                    actual,
                    multiline: true,
                },
            }),
        }
    }

    fn simulation_text(&self, report: &Report) -> String {
        (self.simulation_text)(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_follows_the_header() {
        let t = file_text("ci.test.rhai", "ci", "a: 1\n---\nb: 2");
        assert!(t.starts_with("# tekscript snapshot `ci` of ci.test.rhai\n"));
        assert_eq!(stored_value(&t), "a: 1\n---\nb: 2\n");
        // a file without header is all value
        assert_eq!(stored_value("a: 1\n"), "a: 1\n");
    }
}
