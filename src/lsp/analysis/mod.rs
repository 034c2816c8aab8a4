//! Completion, hover, go to definition and document symbols over one script's text (byte offsets in,
//! plain data out; `lsp/mod.rs` turns it into LSP messages). This file infers what an expression is
//! ([`Doc::infer`]) and which option map a `#{` belongs to; `complete.rs` completes, `navigate.rs`
//! hovers, finds definitions and lists symbols, `modules.rs` reads stdlib and local modules.

use super::api::{self, api};
use crate::script::syntax::{Decl, DeclKind, Kind, Lexed, Tok, declarations, lex, resolve};
use std::path::{Path, PathBuf};

/// What an expression evaluates to, as far as the editor can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Val {
    /// A type of the script API (`Task`, `Param`, …), `string`, or `Map`.
    pub ty: String,
    /// The name given at creation (`p.param("repo-url")` → `repo-url`).
    pub name: Option<String>,
    /// For a task result reference: the pipeline task's name.
    pub owner: Option<String>,
}

impl Val {
    /// What a handle renders as in a string.
    pub fn render(&self) -> Option<String> {
        let n = self.name.as_deref()?;
        Some(match self.ty.as_str() {
            "Param" if n.contains('.') => format!("$(params[\"{n}\"])"),
            "Param" => format!("$(params.{n})"),
            "Result" => format!("$(results.{n}.path)"),
            "Workspace" | "PipelineWorkspace" => format!("$(workspaces.{n}.path)"),
            "ResultRef" => format!("$(tasks.{}.results.{n})", self.owner.as_deref()?),
            "StepResultRef" => format!("$(steps.{}.results.{n})", self.owner.as_deref()?),
            "PipelineTask" => n.to_string(),
            _ => return None,
        })
    }
}

/// A completion proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub label: String,
    pub kind: ItemKind,
    pub detail: Option<String>,
    pub doc: Option<String>,
    /// Text to insert when it differs from the label.
    pub insert: Option<String>,
    /// Byte range to replace (default: the word before the cursor).
    pub replace: Option<(usize, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Function,
    Method,
    Property,
    Variable,
    Module,
    Field,
    Value,
}

fn item(label: impl Into<String>, kind: ItemKind) -> Item {
    Item {
        label: label.into(),
        kind,
        detail: None,
        doc: None,
        insert: None,
        replace: None,
    }
}

/// A place: a file (None: the document itself) and a byte range in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: Option<PathBuf>,
    pub start: usize,
    pub end: usize,
    /// The file's text when it is not the document (to convert offsets).
    pub text: Option<String>,
}

/// A document symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    /// `Pipeline`, `Task`, `StepAction`, `PipelineTask`, `Step`, `fn`.
    pub what: &'static str,
    pub start: usize,
    pub end: usize,
    pub name_start: usize,
    pub name_end: usize,
    pub children: Vec<Symbol>,
}

/// One analysed document.
pub struct Doc<'a> {
    pub lx: Lexed<'a>,
    pub decls: Vec<Decl>,
    /// The document's directory (for relative imports).
    pub dir: Option<PathBuf>,
}

impl<'a> Doc<'a> {
    pub fn new(text: &'a str, path: Option<&Path>) -> Doc<'a> {
        let lx = lex(text);
        let decls = declarations(&lx);
        Doc {
            lx,
            decls,
            dir: path.and_then(Path::parent).map(Path::to_path_buf),
        }
    }

    fn text(&self) -> &'a str {
        self.lx.text
    }

    fn tok(&self, i: usize) -> &Tok {
        &self.lx.code[i]
    }

    fn s(&self, i: usize) -> &'a str {
        self.lx.s(&self.lx.code[i])
    }

    // -----------------------------------------------------------------------------------------
    // Inference

    /// The value of the expression whose last code token is `end`.
    pub fn infer(&self, end: usize) -> Option<Val> {
        self.infer_depth(end, 0)
    }

    fn infer_depth(&self, end: usize, depth: usize) -> Option<Val> {
        if depth > 16 {
            return None;
        }
        let t = *self.tok(end);
        let word = self.s(end);
        match t.kind {
            Kind::Str(_) => {
                return Some(Val {
                    ty: "string".into(),
                    name: None,
                    owner: None,
                });
            }
            Kind::Punct if word == ")" => {
                let open = self.lx.open_of(end)?;
                let callee = open.checked_sub(1)?;
                if self.tok(callee).kind != Kind::Ident {
                    return None;
                }
                let name = self.s(callee);
                let first = self.first_string_arg(open);
                if callee >= 2 && self.s(callee - 1) == "." {
                    let recv = self.infer_depth(callee - 2, depth + 1)?;
                    return self.method_result(&recv, name, first, open);
                }
                if callee >= 2 && self.s(callee - 1) == "::" {
                    let module = self.s(callee - 2);
                    let path = self.module_path(module, self.tok(callee).start)?;
                    let m = module_info(&path, self.dir.as_deref())?;
                    let f = m.fns.iter().find(|f| f.name == name)?;
                    return Some(Val {
                        ty: f.returns.clone(),
                        name: None,
                        owner: None,
                    });
                }
                return self.global_result(name, first, open);
            }
            Kind::Punct if word == "}" => {
                let open = self.lx.open_of(end)?;
                if self.s(open) == "#{" {
                    return Some(Val {
                        ty: "Map".into(),
                        name: None,
                        owner: None,
                    });
                }
                return None;
            }
            Kind::Ident => {
                if end >= 2 && self.s(end - 1) == "." {
                    let recv = self.infer_depth(end - 2, depth + 1)?;
                    let e = api().find(Some(&recv.ty), word)?;
                    return Some(Val {
                        ty: e.returns.clone().unwrap_or_else(|| "string".into()),
                        name: None,
                        owner: None,
                    });
                }
                let d = resolve(&self.decls, word, t.start, &self.lx)?;
                let (a, b) = d.value?;
                if d.start > t.start || b >= end && a <= end {
                    return None;
                }
                return self.infer_depth(b, depth + 1);
            }
            _ => {}
        }
        None
    }

    /// The string literal that is the first argument of the call opened at `open`.
    fn first_string_arg(&self, open: usize) -> Option<String> {
        let t = self.lx.code.get(open + 1)?;
        let s = self.lx.str_value(t)?;
        Some(s.to_string())
    }

    fn second_string_arg(&self, open: usize) -> Option<String> {
        if !self.lx.is(open + 2, ",") {
            return None;
        }
        let t = self.lx.code.get(open + 3)?;
        Some(self.lx.str_value(t)?.to_string())
    }

    fn method_result(
        &self,
        recv: &Val,
        name: &str,
        first: Option<String>,
        open: usize,
    ) -> Option<Val> {
        let e = api().find(Some(&recv.ty), name)?;
        let ty = e.returns.clone()?;
        if ty == recv.ty {
            return Some(recv.clone());
        }
        let owner = match (recv.ty.as_str(), ty.as_str()) {
            ("PipelineTask", "ResultRef") => recv.name.clone(),
            _ => None,
        };
        let _ = open;
        Some(Val {
            ty,
            name: first,
            owner,
        })
    }

    fn global_result(&self, name: &str, first: Option<String>, open: usize) -> Option<Val> {
        if name == "step_result" {
            return Some(Val {
                ty: "StepResultRef".into(),
                owner: first,
                name: self.second_string_arg(open),
            });
        }
        let e = api().find(None, name)?;
        Some(Val {
            ty: e.returns.clone()?,
            name: first,
            owner: None,
        })
    }

    /// The import path bound to a module alias visible at `offset`.
    fn module_path(&self, alias: &str, offset: usize) -> Option<String> {
        let d = resolve(&self.decls, alias, offset, &self.lx)?;
        (d.kind == DeclKind::Import)
            .then(|| d.detail.clone())
            .flatten()
    }

    // -----------------------------------------------------------------------------------------
    // Contexts

    /// The option set of the map opened by the `#{` at code index `m`.
    pub fn map_set(&self, m: usize) -> Option<String> {
        self.map_set_depth(m, 0)
    }

    fn map_set_depth(&self, m: usize, depth: usize) -> Option<String> {
        if depth > 8 || m == 0 {
            return None;
        }
        let prev = m - 1;
        match self.s(prev) {
            "(" | "," => {
                let open = if self.s(prev) == "(" {
                    prev
                } else {
                    self.lx.enclosing(m)?
                };
                match self.s(open) {
                    "(" => self.call_set(open),
                    "[" => self.array_set(open, depth),
                    _ => None,
                }
            }
            ":" => {
                let key = self.key_at(prev.checked_sub(1)?)?;
                let outer = self.lx.enclosing(m)?;
                if self.s(outer) != "#{" {
                    return None;
                }
                let set = self.map_set_depth(outer, depth + 1)?;
                api::nested_set(&set, &key).map(str::to_string)
            }
            "[" => self.array_set(prev, depth),
            _ => None,
        }
    }

    fn key_at(&self, i: usize) -> Option<String> {
        let t = self.tok(i);
        match t.kind {
            Kind::Ident => Some(self.s(i).to_string()),
            Kind::Str(_) => self.lx.str_value(t).map(str::to_string),
            _ => None,
        }
    }

    fn array_set(&self, a: usize, depth: usize) -> Option<String> {
        if a < 2 || self.s(a - 1) != ":" {
            return None;
        }
        let key = self.key_at(a - 2)?;
        let outer = self.lx.enclosing(a)?;
        if self.s(outer) != "#{" {
            return None;
        }
        let set = self.map_set_depth(outer, depth + 1)?;
        api::nested_set(&set, &key).map(str::to_string)
    }

    /// The option set of the call whose `(` is at `open`.
    fn call_set(&self, open: usize) -> Option<String> {
        let callee = open.checked_sub(1)?;
        if self.tok(callee).kind != Kind::Ident {
            return None;
        }
        let name = self.s(callee);
        let recv = if callee >= 2 && self.s(callee - 1) == "." {
            Some(self.infer(callee - 2)?.ty)
        } else if callee >= 1 && self.s(callee - 1) == "::" {
            return None;
        } else {
            None
        };
        api().find(recv.as_deref(), name)?.options.clone()
    }

    fn option_keys(&self, set: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = api()
            .option_keys(set)
            .iter()
            .map(|k| (k.key.clone(), k.doc.clone()))
            .collect();
        for (k, d) in api::builtin_set(set) {
            out.push((k.to_string(), d.to_string()));
        }
        out
    }
}

mod complete;
mod modules;
mod navigate;

pub use modules::{ModuleFn, ModuleInfo, module_doc, module_info, stdlib_dir, stdlib_file};
pub use navigate::Call;

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"import "git" as git;

let p = pipeline("ci");
let repo = p.param("repo-url");
let src = p.workspace("source");
let fetch = p.task("fetch", git::clone(), #{
    params: #{ url: repo },
    workspaces: #{ output: src },
});
let commit = fetch.result("commit");
let t = task("show");
t.step("show", "alpine:3.20", "echo $(params.x)");
p.task("show", t, #{ runAfter: ["fetch"] });
emit(p);
"#;

    fn labels(items: &[Item]) -> Vec<&str> {
        items.iter().map(|i| i.label.as_str()).collect()
    }

    #[test]
    fn infers_handles() {
        let d = Doc::new(SRC, None);
        let at = |s: &str| {
            let off = SRC.find(s).unwrap();
            d.lx.code.iter().position(|t| t.start == off).unwrap()
        };
        let repo = d.decls.iter().find(|x| x.name == "repo").unwrap();
        assert_eq!(
            d.infer(repo.value.unwrap().1).unwrap().render().unwrap(),
            "$(params.repo-url)"
        );
        let _ = at("commit");
        let c = d.decls.iter().find(|x| x.name == "commit").unwrap();
        let v = d.infer(c.value.unwrap().1).unwrap();
        assert_eq!(v.render().unwrap(), "$(tasks.fetch.results.commit)");
    }

    #[test]
    fn completes_methods_options_modules_and_variables() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "let p = pipeline(\"x\");\np.",
                "p.",
                &["task", "param", "workspace", "finally"],
            ),
            (
                "let t = task(\"x\");\nt.",
                "t.",
                &["step", "param", "result"],
            ),
            (
                "let p = pipeline(\"x\");\np.task(\"a\", t, #{ ",
                "#{ ",
                &["runAfter", "params", "matrix"],
            ),
            (
                "let t = task(\"x\", #{ steps: [#{ im",
                "im",
                &["image", "workingDir"],
            ),
            ("import \"", "\"", &["git", "kaniko"]),
            ("import \"git\" as git;\ngit::", "::", &["clone"]),
        ];
        for (src, _, want) in cases {
            let d = Doc::new(src, None);
            let got = d.complete(src.len());
            for w in *want {
                assert!(
                    labels(&got).contains(w),
                    "{src:?}: {w} not in {:?}",
                    labels(&got)
                );
            }
        }
    }

    #[test]
    fn completes_tekton_variables_in_strings() {
        let src = format!("{SRC}\nlet s = \"$(");
        let d = Doc::new(&src, None);
        let got = d.complete(src.len());
        let l = labels(&got);
        assert!(l.contains(&"params.repo-url"), "{l:?}");
        assert!(l.contains(&"workspaces.source.path"), "{l:?}");
        assert!(l.contains(&"tasks.fetch.status"), "{l:?}");
    }

    #[test]
    fn hover_and_definition() {
        let d = Doc::new(SRC, None);
        let (md, _, _) = d.hover(SRC.find("repo =").unwrap()).unwrap();
        assert!(md.contains("$(params.repo-url)"), "{md}");
        let (md, _, _) = d.hover(SRC.find("task(\"fetch\"").unwrap() + 1).unwrap();
        assert!(md.contains("p.task(name, task"), "{md}");
        let (md, _, _) = d.hover(SRC.find("clone()").unwrap() + 1).unwrap();
        assert!(md.contains("git-clone"), "{md}");
        // variable → its let
        let use_at = SRC.find("url: repo").unwrap() + 6;
        let place = d.definition(use_at).unwrap();
        assert_eq!(&SRC[place.start..place.end], "repo");
        assert_eq!(place.start, SRC.find("repo =").unwrap());
        // runAfter string → the pipeline task
        let place = d.definition(SRC.find("[\"fetch\"]").unwrap() + 3).unwrap();
        assert_eq!(place.start, SRC.find("fetch\", git").unwrap());
        // module member → stdlib source
        let place = d.definition(SRC.find("clone()").unwrap() + 1).unwrap();
        assert!(place.file.unwrap().ends_with("git.rhai"));
    }

    #[test]
    fn symbols_nest_tasks_under_pipelines() {
        let d = Doc::new(SRC, None);
        let s = d.symbols();
        let p = s.iter().find(|s| s.what == "Pipeline").unwrap();
        let kids: Vec<&str> = p.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(kids, ["fetch", "show"]);
        let t = s.iter().find(|s| s.what == "Task").unwrap();
        assert_eq!(t.children[0].name, "show");
    }
}
