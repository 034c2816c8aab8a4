//! Stdlib and local modules: their files, `//!` docs and functions.

use crate::script::stdlib;
use crate::script::syntax::{DeclKind, Kind, declarations, lex};
use std::path::{Path, PathBuf};

/// A module's functions with their docs.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    pub file: PathBuf,
    pub text: String,
    pub doc: String,
    pub fns: Vec<ModuleFn>,
}

#[derive(Debug, Clone)]
pub struct ModuleFn {
    pub name: String,
    pub signature: String,
    pub doc: String,
    pub returns: String,
    pub start: usize,
    pub end: usize,
}

/// The `//!` header of a module.
pub fn module_doc(src: &str) -> String {
    src.lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| {
            let l = &l[3..];
            l.strip_prefix(' ').unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where the stdlib sources are written for editors to open: a per-version cache directory.
pub fn stdlib_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("tekscript")
        .join(format!("stdlib-{}", env!("CARGO_PKG_VERSION")))
}

/// The file a stdlib module is shown from (written on first use).
pub fn stdlib_file(name: &str) -> Option<PathBuf> {
    let src = stdlib::get(name)?;
    let dir = stdlib_dir();
    let file = dir.join(format!("{name}.rhai"));
    if std::fs::read_to_string(&file).ok().as_deref() != Some(src) {
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::write(&file, src).ok()?;
    }
    Some(file)
}

/// The functions of the module `import "path"` names: a stdlib module or a file next to the script.
pub fn module_info(path: &str, dir: Option<&Path>) -> Option<ModuleInfo> {
    let (file, text) = match stdlib::get(path) {
        Some(src) => (
            stdlib_file(path).unwrap_or_else(|| PathBuf::from(stdlib::source_name(path))),
            src.to_string(),
        ),
        None => {
            let mut f = dir?.join(path);
            if f.extension().is_none() {
                f.set_extension("rhai");
            }
            let t = std::fs::read_to_string(&f).ok()?;
            (f, t)
        }
    };
    let lx = lex(&text);
    let decls = declarations(&lx);
    let mut fns = Vec::new();
    for d in decls.iter().filter(|d| d.kind == DeclKind::Fn) {
        let i = lx.code.iter().position(|t| t.start == d.start)?;
        if i >= 2 && lx.s(&lx.code[i - 2]) == "private" {
            continue;
        }
        let close = lx.close_of(i + 1).unwrap_or(i + 1);
        let args: Vec<&str> = (i + 2..close)
            .filter(|j| lx.code[*j].kind == Kind::Ident)
            .map(|j| lx.s(&lx.code[j]))
            .collect();
        let doc = d.detail.clone().unwrap_or_default();
        // stdlib functions return Tasks; `…_on_finish(p, …)` adds a finally task
        let returns = if d.name.ends_with("on_finish") {
            "PipelineTask"
        } else {
            "Task"
        };
        fns.push(ModuleFn {
            name: d.name.clone(),
            signature: format!("{}({})", d.name, args.join(", ")),
            doc,
            returns: returns.into(),
            start: d.start,
            end: d.end,
        });
    }
    Some(ModuleInfo {
        file,
        doc: module_doc(&text),
        text,
        fns,
    })
}
