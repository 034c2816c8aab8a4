//! Module resolution: `import "NAME" as x;` finds the stdlib (embedded in the binary) first, then a file
//! relative to the importing script, confined to the entry script's directory tree.

use super::{HostError, Shared};
use crate::diag::codes;
use rhai::{Engine, EvalAltResult, Module, Position, Scope};
use std::path::{Component, Path, PathBuf};

/// The stdlib modules, embedded at build time: (name, source).
pub static MODULES: &[(&str, &str)] = &[
    ("buildah", include_str!("../../stdlib/buildah.rhai")),
    ("git", include_str!("../../stdlib/git.rhai")),
    ("golang", include_str!("../../stdlib/golang.rhai")),
    ("kaniko", include_str!("../../stdlib/kaniko.rhai")),
    ("node", include_str!("../../stdlib/node.rhai")),
    ("notify", include_str!("../../stdlib/notify.rhai")),
    ("pac", include_str!("../../stdlib/pac.rhai")),
    ("shell", include_str!("../../stdlib/shell.rhai")),
];

pub fn get(name: &str) -> Option<&'static str> {
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The source name a stdlib module has in diagnostics.
pub fn source_name(name: &str) -> String {
    format!("<stdlib>/{name}.rhai")
}

pub fn not_found_help(name: &str) -> String {
    let names: Vec<&str> = MODULES.iter().map(|(n, _)| *n).collect();
    match crate::diag::suggest::did_you_mean(name, names.iter().copied()) {
        Some(s) => format!("did you mean the stdlib module `{s}`?"),
        None => format!(
            "stdlib modules: {}; other names are files relative to the importing script",
            names.join(", ")
        ),
    }
}

pub struct Resolver {
    state: Shared,
}

impl Resolver {
    pub(crate) fn new(state: Shared) -> Resolver {
        Resolver { state }
    }

    fn load(
        &self,
        importer: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<(String, String, String), Box<EvalAltResult>> {
        if let Some(text) = get(path) {
            return Ok((source_name(path), text.to_string(), source_name(path)));
        }
        let st = self.state.borrow();
        let not_found = || Box::new(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos));
        let Some(root) = st.root.clone() else {
            return Err(not_found());
        };
        let importer_path = importer.and_then(|s| st.paths.get(s)).cloned();
        drop(st);
        let base = importer_path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| root.clone());
        let mut rel = PathBuf::from(path);
        if rel.extension().is_none() {
            rel.set_extension("rhai");
        }
        let file = confine(&root, &base, &rel).map_err(|msg| -> Box<EvalAltResult> {
            HostError::new(codes::E008, format!("cannot import `{path}`: {msg}")).into()
        })?;
        let Some(file) = file else {
            return Err(not_found());
        };
        let text = crate::source::read_text_file(&file, crate::source::MAX_INPUT_BYTES).map_err(
            |e| -> Box<EvalAltResult> {
                HostError::new(codes::E008, format!("cannot read module `{path}`: {e}")).into()
            },
        )?;
        let display = display_name(&root, &file);
        let identity = file.to_string_lossy().into_owned();
        self.state.borrow_mut().paths.insert(display.clone(), file);
        Ok((display, text, identity))
    }
}

/// How a module file is named in diagnostics: relative to the directory the user named the entry script
/// from (`examples/lib.rhai` when the entry is `examples/ci.rhai`), never an absolute path.
fn display_name(root: &Path, file: &Path) -> String {
    let rel = root
        .canonicalize()
        .ok()
        .and_then(|r| file.strip_prefix(r).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| file.to_path_buf());
    let shown = if root == Path::new(".") || root.as_os_str().is_empty() {
        rel
    } else {
        root.join(rel)
    };
    shown.to_string_lossy().replace('\\', "/")
}

/// Resolves `rel` against `base` and checks that the result (after following symlinks) stays inside
/// `root`. `Ok(None)` when the file does not exist.
pub fn confine(root: &Path, base: &Path, rel: &Path) -> Result<Option<PathBuf>, String> {
    if rel.is_absolute() || rel.components().any(|c| matches!(c, Component::Prefix(_))) {
        return Err("absolute paths are not allowed; use a path relative to the script".into());
    }
    let joined = base.join(rel);
    if !joined.exists() {
        return Ok(None);
    }
    let real = joined
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", joined.display()))?;
    let root = root
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", root.display()))?;
    if !real.starts_with(&root) {
        return Err(format!(
            "it is outside the script's directory ({}); scripts may only read files in their own directory tree",
            root.display()
        ));
    }
    if !real.is_file() {
        return Err("it is not a file".into());
    }
    Ok(Some(real))
}

impl rhai::ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<rhai::Shared<Module>, Box<EvalAltResult>> {
        let (name, text, identity) = self.load(source, path, pos)?;
        if let Some(m) = self.state.borrow().modules.get(&name) {
            return Ok(m.clone());
        }
        {
            let st = self.state.borrow();
            if let Some(i) = st.loading.iter().position(|(id, _)| *id == identity) {
                let mut chain: Vec<&str> =
                    st.loading[i..].iter().map(|(_, n)| n.as_str()).collect();
                chain.push(&name);
                let mut e = HostError::new(
                    codes::E008,
                    format!("import cycle: {}", chain.join(" → ")),
                )
                .help("a module cannot import itself, directly or through other modules; move what they share into a module that imports neither");
                e.span = st.span(source, pos);
                return Err(e.into());
            }
            if st.loading.len() > crate::script::limits::MAX_IMPORT_DEPTH {
                let mut e = HostError::new(
                    codes::E005,
                    format!(
                        "script limit reached: modules import modules more than {} levels deep",
                        crate::script::limits::MAX_IMPORT_DEPTH
                    ),
                )
                .help("import the modules you need from the entry script instead of through a long chain");
                e.span = st.span(source, pos);
                return Err(e.into());
            }
        }
        let file = self
            .state
            .borrow_mut()
            .sources
            .add(name.clone(), text.clone());
        if let Some((message, line)) = crate::script::position_limit(&text) {
            let mut h = HostError::new(codes::E005, format!("module `{path}`: {message}"))
                .help(crate::script::POSITION_LIMIT_HELP);
            h.span = Some(self.state.borrow().sources.span_at(file, line, 1));
            return Err(h.into());
        }
        let mut ast = engine.compile(&text).map_err(|e| -> Box<EvalAltResult> {
            let span = e.1.line().map(|l| {
                self.state
                    .borrow()
                    .sources
                    .span_at(file, l, e.1.position().unwrap_or(1))
            });
            let mut h = HostError::new(
                codes::E001,
                format!("syntax error in module `{path}`: {}", e.0),
            );
            h.span = span;
            h.into()
        })?;
        ast.set_source(name.clone());
        self.state
            .borrow_mut()
            .loading
            .push((identity, name.clone()));
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine);
        self.state.borrow_mut().loading.pop();
        let mut module = module?;
        module.set_id(name.clone());
        let module: rhai::Shared<Module> = module.into();
        self.state.borrow_mut().modules.insert(name, module.clone());
        Ok(module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confine_rejects_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        std::fs::create_dir_all(root.join("scripts")).unwrap();
        std::fs::write(root.join("scripts/a.sh"), "echo").unwrap();
        std::fs::write(dir.path().join("secret"), "x").unwrap();
        assert!(
            confine(&root, &root, Path::new("scripts/a.sh"))
                .unwrap()
                .is_some()
        );
        assert!(
            confine(&root, &root, Path::new("missing.sh"))
                .unwrap()
                .is_none()
        );
        assert!(confine(&root, &root, Path::new("../secret")).is_err());
        assert!(confine(&root, &root, Path::new("/etc/passwd")).is_err());
        assert!(confine(&root, &root, Path::new("scripts")).is_err());
    }
}
