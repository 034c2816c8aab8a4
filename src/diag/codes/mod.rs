//! The registry of diagnostic codes. A code, once released, keeps its meaning forever; `tekscript explain
//! CODE` prints its explanation. Codes are grouped by the pass that reports them:
//!
//! | range | pass |
//! |---|---|
//! | `E0xx` | script evaluation (syntax, types, unknown keys, limits, imports, `file()`) |
//! | `E1xx` | structure of the model (names, required fields, exactly-one-of, duplicates) — `validate/` |
//! | `E2xx` | `$(…)` references, params, results, workspaces — `validate/` |
//! | `E3xx` | the task graph — `validate/dag` |
//! | `E4xx` | feature gates — `validate/` |
//! | `W5xx` | warnings (lints) — `validate/` |
//! | `E6xx` | build output (`-o DIR`, `--check`) |
//! | `E7xx` | the project file, `tekscript.toml` — `project` |
//! | `E9xx` | YAML input |
//! | `T0xx` | `tekscript test` — `testing/` |

mod general;
mod refs;
mod structure;
mod testing;

pub use general::*;
pub use refs::*;
pub use structure::*;
pub use testing::*;

/// A diagnostic code. Each is a constant of this module (`codes::E104`), so the compiler guarantees that
/// every diagnostic's code exists and is explained; `tekscript explain` lists [`all`].
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code {
    /// The stable identifier (`E104`).
    pub id: &'static str,
    /// One line, lower case, no full stop.
    pub title: &'static str,
    /// Markdown: what it means, a wrong example, the fixed example.
    pub explanation: &'static str,
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

/// Every code, in `tekscript explain --list` order.
pub fn all() -> impl Iterator<Item = &'static Code> {
    general::ALL
        .iter()
        .chain(structure::ALL)
        .chain(refs::ALL)
        .chain(testing::ALL)
        .copied()
}

/// The code a user typed (`e104` and `E104` alike), for `explain`, `--allow`/`--deny` and the LSP.
pub fn lookup(id: &str) -> Option<&'static Code> {
    all().find(|c| c.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_unique_and_documented() {
        let mut seen = BTreeSet::new();
        for c in all() {
            assert!(seen.insert(c.id), "duplicate code {}", c.id);
            assert!(!c.title.is_empty() && !c.explanation.is_empty(), "{}", c.id);
            assert!(!c.title.ends_with('.'), "{}", c.id);
        }
    }
}
