//! The project file, `tekscript.toml`: found by walking up from the current directory (like
//! `Cargo.toml`), it names the entry scripts of a repository with their output directories, values
//! files and `set` values, the target cluster's feature gates, the allowed and denied warnings, and the
//! default namespace and context of the cluster commands. The only user of the `toml` and `glob` crates.
//!
//! ```toml
//! feature-gates = "beta,enable-param-enum"
//! allow = [codes::W506]
//! deny = [codes::W503]
//!
//! [cluster]
//! namespace = "ci"
//! context = "prod"
//!
//! [[entry]]
//! script = "pipelines/*.rhai"        # a glob, or a list of globs
//! out-dir = "deploy/tekton/{name}"   # {name}: the script's file name without `.rhai`
//! values = ["values/prod.yaml"]
//! set = { env = "prod" }
//! ```
//!
//! Paths are relative to the directory of `tekscript.toml`. Problems in the file are diagnostics with
//! line and column (E701 invalid, E702 unknown key, E703 a glob matching nothing, E704 two entries
//! writing one directory).

use crate::diag::codes;
use crate::diag::suggest::did_you_mean;
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{FileId, SourceMap, Span};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The file name looked for.
pub const FILE_NAME: &str = "tekscript.toml";

/// A loaded project file.
#[derive(Debug, Clone, Default)]
pub struct Project {
    /// The directory holding `tekscript.toml`; entry paths are relative to it.
    pub root: PathBuf,
    /// The path of `tekscript.toml` itself.
    pub path: PathBuf,
    pub feature_gates: Option<String>,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub namespace: Option<String>,
    pub context: Option<String>,
    pub entries: Vec<Entry>,
}

/// One entry script, after glob expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The script, as `root`-joined path.
    pub script: PathBuf,
    /// Where `build` writes its objects (`{name}` replaced).
    pub out_dir: Option<PathBuf>,
    pub values: Vec<PathBuf>,
    /// `KEY=VALUE` pairs, as `--set` takes them.
    pub set: Vec<String>,
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    feature_gates: Option<Spanned<String>>,
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    #[serde(default)]
    deny: Vec<Spanned<String>>,
    cluster: Option<RawCluster>,
    #[serde(default)]
    entry: Vec<Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCluster {
    namespace: Option<String>,
    context: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawEntry {
    script: Spanned<OneOrMany>,
    out_dir: Option<Spanned<String>>,
    #[serde(default)]
    values: Vec<Spanned<String>>,
    #[serde(default)]
    set: BTreeMap<String, Spanned<toml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// A project file that could not be loaded: the diagnostics, and the file they point into.
#[derive(Debug)]
pub struct ProjectError {
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
}

/// The nearest `tekscript.toml` in `dir` or one of its parents.
pub fn find(dir: &Path) -> Option<PathBuf> {
    let mut d = Some(dir);
    while let Some(cur) = d {
        let p = cur.join(FILE_NAME);
        if p.is_file() {
            return Some(p);
        }
        d = cur.parent();
    }
    None
}

/// Finds and loads the project file above the current directory, if there is one.
pub fn discover() -> Result<Option<Project>, ProjectError> {
    let Ok(cwd) = std::env::current_dir() else {
        return Ok(None);
    };
    match find(&cwd) {
        Some(path) => {
            // `tekscript.toml`, `../../tekscript.toml`: entry paths then read well in messages
            let up = cwd
                .strip_prefix(path.parent().unwrap_or(&cwd))
                .map(|rest| rest.components().count())
                .unwrap_or(0);
            let mut rel = PathBuf::new();
            for _ in 0..up {
                rel.push("..");
            }
            load(&rel.join(FILE_NAME)).map(Some)
        }
        None => Ok(None),
    }
}

/// Loads `path`: parses it, checks the codes and gates, expands the entry globs.
pub fn load(path: &Path) -> Result<Project, ProjectError> {
    let shown = shown_path(path);
    let mut sources = SourceMap::new();
    let text = match crate::source::read_text_file(path, crate::source::MAX_INPUT_BYTES) {
        Ok(t) => t,
        Err(e) => {
            return Err(ProjectError {
                sources,
                diagnostics: Diagnostics(vec![Diagnostic::error(
                    codes::E016,
                    format!("cannot read {shown}: {e}"),
                )]),
            });
        }
    };
    let file = sources.add(shown, text.clone());
    let root = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new(""))
        .to_path_buf();
    match parse(&text, file, &root) {
        Ok(mut p) => {
            p.path = path.to_path_buf();
            Ok(p)
        }
        Err(diagnostics) => Err(ProjectError {
            sources,
            diagnostics,
        }),
    }
}

/// `./tekscript.toml` → `tekscript.toml`; a path under the current directory is shown relative to it.
fn shown_path(path: &Path) -> String {
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    rel.to_string_lossy().replace('\\', "/")
}

fn span(file: FileId, r: Range<usize>) -> Option<Span> {
    Some(Span::new(file, r.start, r.end))
}

/// Parses the text of a project file whose directory is `root`.
pub fn parse(text: &str, file: FileId, root: &Path) -> Result<Project, Diagnostics> {
    let raw: Raw = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => return Err(Diagnostics(vec![toml_error(&e, file)])),
    };
    let mut diags = Diagnostics::default();
    let mut p = Project {
        root: root.to_path_buf(),
        ..Project::default()
    };
    if let Some(g) = &raw.feature_gates {
        if let Err(e) = crate::validate::FeatureGates::parse(g.get_ref()) {
            diags.push(
                Diagnostic::error(codes::E701, e)
                    .at(span(file, g.span()))
                    .label("not a feature gate"),
            );
        }
        p.feature_gates = Some(g.get_ref().clone());
    }
    for (list, out) in [(&raw.allow, &mut p.allow), (&raw.deny, &mut p.deny)] {
        for code in list {
            match crate::diag::policy::normalize(code.get_ref()) {
                Ok(c) => out.push(c),
                Err(e) => diags.push(
                    Diagnostic::error(codes::E701, e)
                        .at(span(file, code.span()))
                        .label("not a diagnostic code"),
                ),
            }
        }
    }
    if let Some(c) = raw.cluster {
        p.namespace = c.namespace;
        p.context = c.context;
    }
    let mut dirs: BTreeMap<PathBuf, Range<usize>> = BTreeMap::new();
    for entry in &raw.entry {
        let e = entry.get_ref();
        let patterns: Vec<&str> = match e.script.get_ref() {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        };
        let mut scripts: Vec<PathBuf> = Vec::new();
        for pat in patterns {
            match expand(root, pat) {
                Ok(found) if found.is_empty() => diags.push(
                    Diagnostic::error(codes::E703, format!("`{pat}` matches no file"))
                        .at(span(file, e.script.span()))
                        .label("no script here")
                        .note(format!(
                            "paths are relative to the directory of {FILE_NAME}"
                        )),
                ),
                Ok(found) => scripts.extend(found),
                Err(msg) => diags.push(
                    Diagnostic::error(codes::E701, format!("`{pat}` is not a valid glob: {msg}"))
                        .at(span(file, e.script.span()))
                        .label("invalid glob"),
                ),
            }
        }
        scripts.sort();
        scripts.dedup();
        if let Some(out) = &e.out_dir
            && scripts.len() > 1
            && !out.get_ref().contains("{name}")
        {
            diags.push(
                Diagnostic::error(
                    codes::E704,
                    format!(
                        "{} scripts would all be written to `{}`",
                        scripts.len(),
                        out.get_ref()
                    ),
                )
                .at(span(file, out.span()))
                .label("one directory for several scripts")
                .help("put `{name}` in the directory (`deploy/{name}`): it becomes each script's file name without `.rhai`"),
            );
            continue;
        }
        let mut set = Vec::new();
        for (k, v) in &e.set {
            match scalar(v.get_ref()) {
                Some(s) => set.push(format!("{k}={s}")),
                None => diags.push(
                    Diagnostic::error(codes::E701, format!("`set.{k}` must be a string, number or boolean"))
                        .at(span(file, v.span()))
                        .label("not a scalar")
                        .help("nested values go in a values file (`values = [\"values.yaml\"]`), or use a dotted key: `\"image.tag\" = \"v1\"`"),
                ),
            }
        }
        for script in scripts {
            let stem = script
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let out_dir = e
                .out_dir
                .as_ref()
                .map(|o| root.join(o.get_ref().replace("{name}", &stem)));
            if let (Some(d), Some(o)) = (&out_dir, &e.out_dir) {
                if let Some(first) = dirs.get(d) {
                    diags.push(
                        Diagnostic::error(
                            codes::E704,
                            format!("two entries write to `{}`", d.display()),
                        )
                        .at(span(file, o.span()))
                        .label("the second one")
                        .secondary(span(file, first.clone()), "the first one")
                        .help("give each entry its own out-dir: each build owns its directory and removes the files it no longer writes"),
                    );
                    continue;
                }
                dirs.insert(d.clone(), o.span());
            }
            p.entries.push(Entry {
                script,
                out_dir,
                values: e.values.iter().map(|v| root.join(v.get_ref())).collect(),
                set: set.clone(),
            });
        }
    }
    if diags.has_errors() {
        diags.sort();
        Err(diags)
    } else {
        Ok(p)
    }
}

/// Makes sure the project file at `path` enables at least `needed`: creates the file (with only
/// `feature-gates`) when it does not exist, otherwise rewrites its `feature-gates` value (or adds the
/// key at the top), keeping every other line as it is. Returns the new value when the file changed.
pub fn require_gates(
    path: &Path,
    needed: &crate::validate::FeatureGates,
) -> Result<Option<String>, String> {
    use crate::validate::FeatureGates;
    let text = match crate::source::read_text_file(path, crate::source::MAX_INPUT_BYTES) {
        Ok(t) => Some(t),
        Err(crate::source::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let (new_text, want) = match &text {
        None => {
            if *needed == FeatureGates::default() {
                return Ok(None);
            }
            let list = needed.to_list();
            (
                format!(
                    "# The Tekton feature flags of the target cluster (written by `tekscript import`: the imported\n# objects need them).\nfeature-gates = \"{list}\"\n"
                ),
                needed.clone(),
            )
        }
        Some(text) => {
            let raw: Raw = toml::from_str(text)
                .map_err(|e| format!("{}: {}", path.display(), e.message().trim()))?;
            let current = match &raw.feature_gates {
                Some(g) => FeatureGates::parse(g.get_ref())
                    .map_err(|e| format!("{}: {e}", path.display()))?,
                None => FeatureGates::default(),
            };
            let want = current.union(needed);
            if want == current {
                return Ok(None);
            }
            let value = format!("\"{}\"", want.to_list());
            let new_text = match &raw.feature_gates {
                Some(g) => {
                    let r = g.span();
                    format!("{}{value}{}", &text[..r.start], &text[r.end..])
                }
                None => {
                    // after the leading comment lines, before any key or table
                    let at = text
                        .lines()
                        .take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
                        .map(|l| l.len() + 1)
                        .sum::<usize>()
                        .min(text.len());
                    format!("{}feature-gates = {value}\n{}", &text[..at], &text[at..])
                }
            };
            (new_text, want)
        }
    };
    std::fs::write(path, &new_text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(Some(want.to_list()))
}

/// The files matching `pattern` below `root`, sorted; test files (`*.test.rhai`, run by `tekscript
/// test`) are not scripts to build.
///
/// A `**` pattern is matched by a walk that does not follow symbolic links to directories: the
/// glob crate's own walk follows them, so a link to `.` or `..` in the repository made it endless
/// (two such links: exponential).
fn expand(root: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = root.join(pattern);
    let full = full.to_string_lossy();
    let mut out: Vec<PathBuf> = if pattern.contains("**") {
        let matcher = glob::Pattern::new(&full).map_err(|e| e.msg.to_string())?;
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        // Start at the last directory before a component with a wildcard.
        let mut start = PathBuf::new();
        for c in Path::new(full.as_ref()).components() {
            if c.as_os_str().to_string_lossy().contains(['*', '?', '[']) {
                break;
            }
            start.push(c);
        }
        let mut found = Vec::new();
        let mut dirs = vec![start];
        while let Some(dir) = dirs.pop() {
            // (an empty start is the working directory; paths under it stay relative, as the
            // pattern is)
            let read = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir.as_path()
            };
            let Ok(entries) = std::fs::read_dir(read) else {
                continue;
            };
            for e in entries.flatten() {
                let p = dir.join(e.file_name());
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    dirs.push(p);
                } else if p.is_file() && matcher.matches_path_with(&p, options) {
                    found.push(p);
                }
            }
        }
        found
    } else {
        glob::glob(&full)
            .map_err(|e| e.msg.to_string())?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect()
    };
    out.retain(|p| !p.to_string_lossy().ends_with(crate::testing::SUFFIX));
    out.sort();
    Ok(out)
}

fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A TOML or schema error as a diagnostic; an unknown key gets a "did you mean".
fn toml_error(e: &toml::de::Error, file: FileId) -> Diagnostic {
    let msg = e.message().trim().to_string();
    let at = e.span().and_then(|r| span(file, r));
    if let Some(rest) = msg.strip_prefix("unknown field `")
        && let Some((key, tail)) = rest.split_once('`')
    {
        let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
        let d = Diagnostic::error(codes::E702, format!("unknown key `{key}` in {FILE_NAME}"))
            .at(at)
            .label("unknown key");
        return match did_you_mean(key, expected.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None if expected.is_empty() => d,
            None => d.help(format!("the keys here are: {}", expected.join(", "))),
        };
    }
    Diagnostic::error(codes::E701, format!("invalid {FILE_NAME}: {msg}"))
        .at(at)
        .label("here")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::render::{Format, render};

    fn errors(text: &str) -> String {
        let mut map = SourceMap::new();
        let f = map.add("tekscript.toml", text);
        let d = parse(text, f, Path::new("/nonexistent")).unwrap_err();
        render(&d.0, &map, Format::Short, false)
    }

    #[test]
    fn unknown_keys_say_did_you_mean_with_line_and_column() {
        assert_eq!(
            errors("deny = []\n[cluster]\nnamespce = \"ci\"\n"),
            "tekscript.toml:3:1: error[E702]: unknown key `namespce` in tekscript.toml\n"
        );
        let out = errors("featuregates = \"alpha\"\n");
        assert!(out.starts_with("tekscript.toml:1:1: error[E702]"), "{out}");
        let mut map = SourceMap::new();
        let text = "[[entry]]\nscript = \"a.rhai\"\nout_dir = \"x\"\n";
        let f = map.add("tekscript.toml", text);
        let d = parse(text, f, Path::new("/nonexistent")).unwrap_err();
        assert_eq!(d.0[0].help, ["did you mean `out-dir`?"]);
    }

    #[test]
    fn syntax_type_gate_and_code_errors_point_at_the_value() {
        assert!(
            errors("allow = [\"W503\"\n").starts_with("tekscript.toml:1:"),
            "syntax"
        );
        assert_eq!(
            errors("allow = [\"W5003\"]\nfeature-gates = \"beta,fast\"\n"),
            "tekscript.toml:1:10: error[E701]: unknown diagnostic code `W5003`; did you mean `W503`?\n\
             tekscript.toml:2:17: error[E701]: unknown feature gate `fast`; expected stable, beta, alpha, enable-param-enum, enable-cel-in-whenexpression, enable-artifacts or enable-concise-resolver-syntax\n"
        );
        let out = errors("allow = \"W503\"\n");
        assert!(out.contains("tekscript.toml:1:9: error[E701]"), "{out}");
    }

    #[test]
    fn entries_expand_globs_and_name_their_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("ci")).unwrap();
        for n in ["b.rhai", "a.rhai", "notes.txt", "a.test.rhai"] {
            std::fs::write(dir.path().join("ci").join(n), "").unwrap();
        }
        let text = "[[entry]]\nscript = \"ci/*.rhai\"\nout-dir = \"out/{name}\"\nvalues = [\"v.yaml\"]\nset = { env = \"prod\", replicas = 2 }\n";
        let mut map = SourceMap::new();
        let f = map.add("tekscript.toml", text);
        let p = parse(text, f, dir.path()).unwrap();
        let names: Vec<_> = p
            .entries
            .iter()
            .map(|e| {
                (
                    e.script.strip_prefix(dir.path()).unwrap().to_path_buf(),
                    e.out_dir
                        .as_ref()
                        .unwrap()
                        .strip_prefix(dir.path())
                        .unwrap()
                        .to_path_buf(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                (PathBuf::from("ci/a.rhai"), PathBuf::from("out/a")),
                (PathBuf::from("ci/b.rhai"), PathBuf::from("out/b"))
            ]
        );
        assert_eq!(p.entries[0].set, ["env=prod", "replicas=2"]);
        // one directory for two scripts, and a glob matching nothing
        let text = "[[entry]]\nscript = \"ci/*.rhai\"\nout-dir = \"out\"\n[[entry]]\nscript = \"nope/*.rhai\"\n";
        let f = map.add("t2.toml", text);
        let d = parse(text, f, dir.path()).unwrap_err();
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(codes, [codes::E704, codes::E703]);
    }

    #[test]
    fn recursive_globs_do_not_follow_directory_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("p/deep/er")).unwrap();
        for f in [
            "p/a.rhai",
            "p/deep/b.rhai",
            "p/deep/er/c.rhai",
            "p/deep/notes.txt",
        ] {
            std::fs::write(d.join(f), "").unwrap();
        }
        #[cfg(unix)]
        {
            // two loops: the glob crate's walk never ended
            std::os::unix::fs::symlink(".", d.join("p/l1")).unwrap();
            std::os::unix::fs::symlink("..", d.join("p/deep/l2")).unwrap();
            std::os::unix::fs::symlink("a.rhai", d.join("p/link.rhai")).unwrap();
        }
        let rel = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter()
                .map(|p| p.strip_prefix(d).unwrap().to_string_lossy().into_owned())
                .collect()
        };
        let mut all = vec!["p/a.rhai", "p/deep/b.rhai", "p/deep/er/c.rhai"];
        if cfg!(unix) {
            all.push("p/link.rhai");
            all.sort();
        }
        assert_eq!(rel(expand(d, "**/*.rhai").unwrap()), all);
        assert_eq!(
            rel(expand(d, "p/deep/**/*.rhai").unwrap()),
            ["p/deep/b.rhai", "p/deep/er/c.rhai"]
        );
        assert_eq!(rel(expand(d, "p/*.rhai").unwrap())[0], "p/a.rhai");
        assert!(expand(d, "**/[.rhai").is_err());
        // relative to the working directory (an empty root), as `tekscript check` in the
        // project's directory uses it
        let found = expand(Path::new(""), "src/**/project.rs").unwrap();
        assert!(
            found.contains(&PathBuf::from("src/project.rs")),
            "{found:?}"
        );
        assert!(found.iter().all(|p| p.starts_with("src")), "{found:?}");
    }

    #[test]
    fn require_gates_creates_adds_and_widens_but_keeps_the_rest() {
        use crate::validate::FeatureGates;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let alpha = FeatureGates::parse("alpha").unwrap();
        assert_eq!(
            require_gates(&path, &FeatureGates::default()).unwrap(),
            None
        );
        assert!(!path.exists());
        assert_eq!(
            require_gates(&path, &alpha).unwrap().as_deref(),
            Some("alpha")
        );
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .ends_with("feature-gates = \"alpha\"\n")
        );
        assert_eq!(require_gates(&path, &alpha).unwrap(), None);
        let text = "# ours\nallow = [\"W506\"] # keep\n\n[[entry]]\nscript = \"x.rhai\"\n";
        std::fs::write(&path, text).unwrap();
        let enumg = FeatureGates::parse("beta,enable-param-enum").unwrap();
        assert_eq!(
            require_gates(&path, &enumg).unwrap().as_deref(),
            Some("beta,enable-param-enum")
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# ours\nfeature-gates = \"beta,enable-param-enum\"\nallow = [\"W506\"] # keep\n\n[[entry]]\nscript = \"x.rhai\"\n"
        );
        assert_eq!(
            require_gates(&path, &alpha).unwrap().as_deref(),
            Some("alpha,enable-param-enum")
        );
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("feature-gates = \"alpha,enable-param-enum\"\nallow")
        );
    }

    #[test]
    fn find_walks_up() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find(&deep), None.or(find(&deep)));
        std::fs::write(dir.path().join("a").join(FILE_NAME), "").unwrap();
        assert_eq!(find(&deep), Some(dir.path().join("a").join(FILE_NAME)));
    }
}
