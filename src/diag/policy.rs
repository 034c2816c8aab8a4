//! Which warnings are shown, hidden or turned into errors: `--allow CODE` / `--deny CODE` (and the
//! `warnings` group), the `allow`/`deny` lists of `tekscript.toml`, and `tekscript: allow(…)` comments in
//! the scripts and YAML files themselves.
//!
//! Precedence, most specific first:
//!
//! 1. an in-file comment `// tekscript: allow(W503)` (or `# tekscript: allow(W503)` in YAML) hides the
//!    warnings it covers, whatever the command line says (as `#[allow]` beats `-D` in rustc);
//! 2. a level for the code itself (`--allow W503`, `--deny W503`); the last one given wins, and the
//!    command line is applied after the project file, so it wins over it;
//! 3. a level for the `warnings` group (`--deny warnings`, `--allow warnings`).
//!
//! Errors are never hidden or softened: they are what Tekton rejects.
//!
//! In-file comments: `tekscript: allow(CODE, …)` inside a comment (`//` in Rhai, `#` in YAML).
//! After code on the same line it covers that line. On a line of its own it covers the next line of code
//! and, in a script, every line up to where the brackets opened on that line are closed (so the whole
//! `task(…)`/`p.task(…)` call); in YAML, the next line and every line indented deeper (the whole node).
//! `tekscript: allow-file(CODE, …)` anywhere in a file covers the whole file.

use super::{Diagnostic, Diagnostics, Severity, codes};
use crate::source::{FileId, SourceMap};
use std::collections::{BTreeMap, HashMap};

/// What happens to the warnings of a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Not shown.
    Allow,
    /// Shown as an error: the command fails.
    Deny,
}

/// The allow/deny settings of one command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Code (upper case) → level and where it was set (for the note on a denied warning).
    codes: BTreeMap<String, (Level, String)>,
    /// The level for every warning without a level of its own.
    warnings: Option<(Level, String)>,
}

/// The key a user writes: a code, or `warnings` for all of them.
const GROUP: &str = "warnings";

impl Policy {
    /// Sets the level of `code` (or of the `warnings` group). `origin` says where, e.g. `--deny W503`.
    /// Unknown codes are refused with a suggestion.
    pub fn set(
        &mut self,
        code: &str,
        level: Level,
        origin: impl Into<String>,
    ) -> Result<(), String> {
        let key = normalize(code)?;
        let origin = origin.into();
        if key == GROUP {
            self.warnings = Some((level, origin));
        } else {
            self.codes.insert(key, (level, origin));
        }
        Ok(())
    }

    /// True when no level is set (the default: every warning shown).
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty() && self.warnings.is_none()
    }

    fn level(&self, code: &str) -> Option<&(Level, String)> {
        self.codes.get(code).or(self.warnings.as_ref())
    }

    /// Applies the policy: hides allowed warnings (by level or by an in-file comment) and turns denied
    /// ones into errors, with a note naming the setting. Errors pass unchanged.
    pub fn apply(&self, diags: &mut Diagnostics, sources: &SourceMap) {
        let mut comments: HashMap<FileId, Allows> = HashMap::new();
        let mut allowed_in_file = |d: &Diagnostic| -> bool {
            let spans = d.span.into_iter().chain(d.trace.iter().map(|f| f.span));
            for span in spans {
                let allows = comments.entry(span.file).or_insert_with(|| {
                    Allows::scan(&sources.get(span.file).name, &sources.get(span.file).text)
                });
                let (line, _) = sources.get(span.file).line_col(span.start);
                if allows.covers(line, d.code.id) {
                    return true;
                }
            }
            false
        };
        diags.0.retain_mut(|d| {
            if d.severity != Severity::Warning {
                return true;
            }
            if allowed_in_file(d) {
                return false;
            }
            match self.level(d.code.id) {
                None => true,
                Some((Level::Allow, _)) => false,
                Some((Level::Deny, origin)) => {
                    d.severity = Severity::Error;
                    d.notes
                        .push(format!("this warning is an error because of {origin}"));
                    true
                }
            }
        });
    }
}

/// Checks a code given by the user: a registered code (any case) or `warnings`.
pub fn normalize(code: &str) -> Result<String, String> {
    let code = code.trim();
    if code.eq_ignore_ascii_case(GROUP) {
        return Ok(GROUP.to_string());
    }
    if let Some(info) = codes::lookup(code) {
        return Ok(info.id.to_string());
    }
    let known: Vec<&str> = codes::all()
        .map(|c| c.id)
        .chain(std::iter::once(GROUP))
        .collect();
    let upper = code.to_ascii_uppercase();
    let hint = match super::suggest::did_you_mean(&upper, known.iter().copied()) {
        Some(s) => format!("; did you mean `{s}`?"),
        None => "; `tekscript explain --list` lists the codes".to_string(),
    };
    Err(format!("unknown diagnostic code `{code}`{hint}"))
}

/// The `tekscript: allow(…)` comments of one file.
#[derive(Debug, Default)]
struct Allows {
    /// Codes allowed in the whole file.
    file: Vec<String>,
    /// (first line, last line, codes), 1-based and inclusive.
    lines: Vec<(usize, usize, Vec<String>)>,
}

impl Allows {
    fn covers(&self, line: usize, code: &str) -> bool {
        let hit = |codes: &Vec<String>| codes.iter().any(|c| c == code || c == GROUP);
        hit(&self.file)
            || self
                .lines
                .iter()
                .any(|(a, b, codes)| (*a..=*b).contains(&line) && hit(codes))
    }

    fn scan(name: &str, text: &str) -> Allows {
        let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        let marker = if yaml { "#" } else { "//" };
        let lines: Vec<&str> = text.lines().collect();
        let mut out = Allows::default();
        for (i, line) in lines.iter().enumerate() {
            let Some(at) = line.find("tekscript: allow") else {
                continue;
            };
            let Some(comment) = line[..at].rfind(marker) else {
                continue;
            };
            let rest = &line[at + "tekscript: allow".len()..];
            let (whole_file, rest) = match rest.strip_prefix("-file") {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let Some(list) = rest
                .trim_start()
                .strip_prefix('(')
                .and_then(|r| r.split_once(')'))
                .map(|(l, _)| l)
            else {
                continue;
            };
            let codes: Vec<String> = list.split(',').filter_map(|c| normalize(c).ok()).collect();
            if whole_file {
                out.file.extend(codes);
                continue;
            }
            let own_line = line[..comment].trim().is_empty();
            if !own_line {
                out.lines.push((i + 1, i + 1, codes));
                continue;
            }
            // The next line of code, and what belongs to it.
            let Some(first) = (i + 1..lines.len()).find(|&j| {
                let t = lines[j].trim();
                !t.is_empty() && !t.starts_with(marker)
            }) else {
                continue;
            };
            let last = if yaml {
                yaml_node_end(&lines, first)
            } else {
                statement_end(&lines, first)
            };
            out.lines.push((first + 1, last + 1, codes));
        }
        out
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The last line of the YAML node starting at `first`: the following lines indented deeper (blank lines
/// and comments included). A list item (`- name: x`) also owns its keys at the indentation after `- `.
fn yaml_node_end(lines: &[&str], first: usize) -> usize {
    let base = indent(lines[first]);
    let mut last = first;
    for (j, line) in lines.iter().enumerate().skip(first + 1) {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if indent(line) <= base {
            break;
        }
        last = j;
    }
    last
}

/// The last line of the Rhai statement starting at `first`: where the brackets opened from `first` on
/// are all closed again (strings, backtick strings and comments skipped).
fn statement_end(lines: &[&str], first: usize) -> usize {
    let mut depth: i64 = 0;
    let mut quote: Option<char> = None;
    for (j, line) in lines.iter().enumerate().skip(first) {
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match quote {
                Some(q) => {
                    if c == '\\' && q == '"' {
                        chars.next();
                    } else if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '"' | '`' | '\'' => quote = Some(c),
                    '/' if chars.peek() == Some(&'/') => break,
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' => depth -= 1,
                    _ => {}
                },
            }
        }
        // a plain string ends at the end of its line; a backtick string may go on
        if quote != Some('`') {
            quote = None;
        }
        if depth <= 0 && quote.is_none() {
            return j;
        }
    }
    lines.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::codes::Code;
    use crate::source::Span;

    fn warn_at(map: &SourceMap, file: FileId, needle: &str, code: &'static Code) -> Diagnostic {
        let text = &map.get(file).text;
        let start = text.find(needle).unwrap_or_else(|| panic!("{needle}"));
        Diagnostic::warning(code, format!("{code} at {needle}")).at(Some(Span::new(
            file,
            start,
            start + needle.len(),
        )))
    }

    fn codes_left(p: &Policy, map: &SourceMap, ds: Vec<Diagnostic>) -> Vec<String> {
        let mut d = Diagnostics(ds);
        p.apply(&mut d, map);
        d.0.iter()
            .map(|d| format!("{}:{:?}", d.message, d.severity))
            .collect()
    }

    const SCRIPT: &str = r##"let t = task("a");
t.step("one", "alpine", "#!/bin/sh"); // tekscript: allow(W503)
t.step("two", "alpine", "#!/bin/sh");
// tekscript: allow(W503, W504)
let u = task("b").step("x",
    "busybox",
    "echo hi");
t.step("three", "ubuntu", "#!/bin/sh");
"##;

    #[test]
    fn comments_cover_their_line_or_the_next_statement() {
        let mut map = SourceMap::new();
        let f = map.add("ci.rhai", SCRIPT);
        let ds = vec![
            warn_at(&map, f, "\"one\", \"alpine\"", codes::W503),
            warn_at(&map, f, "\"two\", \"alpine\"", codes::W503),
            warn_at(&map, f, "\"busybox\"", codes::W503),
            warn_at(&map, f, "\"echo hi\"", codes::W504),
            warn_at(&map, f, "\"ubuntu\"", codes::W503),
            warn_at(&map, f, "\"one\", \"alpine\"", codes::W506),
        ];
        assert_eq!(
            codes_left(&Policy::default(), &map, ds),
            [
                "W503 at \"two\", \"alpine\":Warning",
                "W503 at \"ubuntu\":Warning",
                "W506 at \"one\", \"alpine\":Warning",
            ]
        );
    }

    #[test]
    fn yaml_comment_covers_the_node_and_file_comment_everything() {
        let yaml = "spec:\n  steps:\n    # tekscript: allow(W503)\n    - name: a\n      image: alpine\n    - name: b\n      image: busybox\n";
        let mut map = SourceMap::new();
        let f = map.add("t.yaml", yaml);
        let ds = vec![
            warn_at(&map, f, "alpine", codes::W503),
            warn_at(&map, f, "busybox", codes::W503),
        ];
        assert_eq!(
            codes_left(&Policy::default(), &map, ds),
            ["W503 at busybox:Warning"]
        );
        let g = map.add("u.rhai", "// tekscript: allow-file(warnings)\nlet x = 1;\n");
        let d = warn_at(&map, g, "let x", codes::W501);
        assert!(codes_left(&Policy::default(), &map, vec![d]).is_empty());
    }

    #[test]
    fn code_beats_group_and_last_setting_wins() {
        let mut map = SourceMap::new();
        let f = map.add("x.rhai", "a\nb\nc\n");
        let ds = || {
            vec![
                warn_at(&map, f, "a", codes::W503),
                warn_at(&map, f, "b", codes::W504),
                Diagnostic::error(codes::E104, "an error"),
            ]
        };
        let mut p = Policy::default();
        p.set("warnings", Level::Deny, "`--deny warnings`").unwrap();
        p.set("w503", Level::Allow, "`--allow W503`").unwrap();
        assert_eq!(
            codes_left(&p, &map, ds()),
            ["W504 at b:Error", "an error:Error"]
        );
        p.set("W503", Level::Deny, "`--deny W503`").unwrap();
        p.set("warnings", Level::Allow, "`--allow warnings`")
            .unwrap();
        assert_eq!(
            codes_left(&p, &map, ds()),
            ["W503 at a:Error", "an error:Error"]
        );
    }

    #[test]
    fn in_file_allow_beats_deny_and_denied_warnings_say_why() {
        let mut map = SourceMap::new();
        let f = map.add("x.rhai", "a // tekscript: allow(W503)\nb\n");
        let mut p = Policy::default();
        p.set("warnings", Level::Deny, "`--deny warnings`").unwrap();
        let mut d = Diagnostics(vec![
            warn_at(&map, f, "a", codes::W503),
            warn_at(&map, f, "b", codes::W503),
        ]);
        p.apply(&mut d, &map);
        assert_eq!(d.0.len(), 1);
        assert_eq!(
            d.0[0].notes,
            ["this warning is an error because of `--deny warnings`"]
        );
    }

    #[test]
    fn unknown_codes_are_refused_with_a_suggestion() {
        let mut p = Policy::default();
        let e = p.set("W5033", Level::Allow, "x").unwrap_err();
        assert!(e.contains("did you mean `W503`?"), "{e}");
        let e = p.set("warning", Level::Deny, "x").unwrap_err();
        assert!(e.contains("did you mean `warnings`?"), "{e}");
    }
}
